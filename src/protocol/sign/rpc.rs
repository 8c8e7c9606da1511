//! RPC HMAC-SHA1 signing (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`), spec signing.md §1.

use chrono::{DateTime, Utc};

use super::{base64, hmac_sha1, iso8601};
use crate::protocol::encode::pe;
use crate::protocol::params::Params;
use crate::secret::{Credential, Secret};

pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
pub const SIGNATURE_VERSION: &str = "1.0";

/// The common parameters of one attempt (a retry gets a new time and nonce, hence a new signature).
/// `SecurityToken` is an ordinary signed parameter.
pub fn common_params(
    credential: &Credential,
    action: &str,
    version: &str,
    time: DateTime<Utc>,
    nonce: &str,
) -> Params {
    let mut params = Params::new();
    params.insert("Action", action);
    params.insert("Version", version);
    params.insert("Format", "JSON");
    params.insert("AccessKeyId", credential.access_key_id.as_str());
    params.insert("SignatureMethod", SIGNATURE_METHOD);
    params.insert("SignatureVersion", SIGNATURE_VERSION);
    params.insert("SignatureNonce", nonce);
    params.insert("Timestamp", iso8601(time));
    if let Some(token) = &credential.security_token {
        params.insert("SecurityToken", token.expose());
    }
    params
}

/// Stage 1: `pe(name)=pe(value)` sorted byte-wise by name, joined by `&`; `Signature` excluded.
/// For a POST form the caller passes the union of query and body parameters.
pub fn canonicalized_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = params.into_iter().filter(|(k, _)| *k != "Signature").collect();
    // Stable sort on the name bytes; equal names keep their order (values do not reorder).
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    pairs.iter().map(|(k, v)| format!("{}={}", pe(k), pe(v))).collect::<Vec<_>>().join("&")
}

/// Stage 2: `METHOD&%2F&pe(canonicalized query)`.
pub fn string_to_sign(method: &str, canonicalized_query: &str) -> String {
    format!("{}&{}&{}", method.to_ascii_uppercase(), pe("/"), pe(canonicalized_query))
}

/// Stage 3: `Base64(HMAC-SHA1(secret + "&", string_to_sign))`.
pub fn signature(secret: &Secret, string_to_sign: &str) -> String {
    let key = format!("{}&", secret.expose());
    base64(&hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()))
}

/// All stages of one signature, for logging (no secrets inside) and verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcSigned {
    pub canonicalized_query: String,
    pub string_to_sign: String,
    pub signature: String,
}

pub fn sign<'a>(
    method: &str,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: &Secret,
) -> RpcSigned {
    let canonicalized_query = canonicalized_query(params);
    let string_to_sign = string_to_sign(method, &canonicalized_query);
    let signature = signature(secret, &string_to_sign);
    RpcSigned { canonicalized_query, string_to_sign, signature }
}

/// Sign `api_params` for one attempt: adds the common parameters and `Signature`.
/// Returns the complete parameter set to send (in a query string or a form body).
pub fn sign_params(
    method: &str,
    action: &str,
    version: &str,
    api_params: &Params,
    credential: &Credential,
    time: DateTime<Utc>,
    nonce: &str,
) -> (Params, RpcSigned) {
    let mut all = common_params(credential, action, version, time, nonce);
    // API parameters may not override the signing parameters.
    for (k, v) in api_params.iter() {
        if !all.contains(k) {
            all.insert(k, v);
        }
    }
    let signed = sign(method, all.iter(), &credential.access_key_secret);
    all.insert("Signature", signed.signature.as_str());
    (all, signed)
}

/// Encode parameters as a query string / form body (`pe` on both sides, `&`-joined).
pub fn encode_pairs<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    params.into_iter().map(|(k, v)| format!("{}={}", pe(k), pe(v))).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new("testsecret")
    }

    fn r1() -> Vec<(&'static str, &'static str)> {
        super::super::vectors::R1.to_vec()
    }

    fn r2() -> Vec<(&'static str, &'static str)> {
        super::super::vectors::R2.to_vec()
    }

    fn r4() -> Vec<(&'static str, &'static str)> {
        let mut p = r2();
        p.retain(|(k, _)| *k != "Action" && *k != "RegionId");
        p.extend([
            ("Action", "ImportImage"),
            ("RegionId", "cn-hangzhou"),
            ("DiskDeviceMapping.1.DiskImageSize", "40"),
            ("DiskDeviceMapping.1.Format", "QCOW2"),
            ("DiskDeviceMapping.1.OSSBucket", "my-bucket"),
            ("DiskDeviceMapping.1.OSSObject", "images/centos 7*~.qcow2"),
            ("Features.NvmeSupport", "supported"),
            ("ImageName", "demo-镜像"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "dev"),
        ]);
        p
    }

    #[test]
    fn r1_every_stage() {
        let s = sign("GET", r1(), &secret());
        assert_eq!(
            s.canonicalized_query,
            "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
        );
        assert_eq!(
            s.string_to_sign,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(s.signature, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    #[test]
    fn r1_trap_timestamp_spelling_is_not_the_real_parameter() {
        // `TimeStamp` is a typo in old docs; it sorts elsewhere and yields the artefact value.
        let trap: Vec<_> =
            r1().into_iter().map(|(k, v)| if k == "Timestamp" { ("TimeStamp", v) } else { (k, v) }).collect();
        let s = sign("GET", trap, &secret());
        assert_eq!(s.signature, "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
        assert_ne!(s.signature, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    #[test]
    fn r2_every_stage() {
        let s = sign("GET", r2(), &secret());
        assert_eq!(
            s.string_to_sign,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeDedicatedHosts%26Format%3DJSON%26RegionId%3Dcn-beijing%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dedb2b34af0af9a6d14deaf7c1a5315eb%26SignatureVersion%3D1.0%26Timestamp%3D2023-03-13T08%253A34%253A30Z%26Version%3D2014-05-26"
        );
        assert_eq!(s.signature, "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
    }

    #[test]
    fn r3_derived_post_differs_from_get() {
        assert_eq!(sign("POST", r2(), &secret()).signature, "ZvQ9xGiFnquSJRvj+WE6kdSpTwU=");
    }

    #[test]
    fn r4_derived_flattening_and_awkward_characters() {
        let get = sign("GET", r4(), &secret());
        assert_eq!(
            get.canonicalized_query,
            "AccessKeyId=testid&Action=ImportImage&DiskDeviceMapping.1.DiskImageSize=40&DiskDeviceMapping.1.Format=QCOW2&DiskDeviceMapping.1.OSSBucket=my-bucket&DiskDeviceMapping.1.OSSObject=images%2Fcentos%207%2A~.qcow2&Features.NvmeSupport=supported&Format=JSON&ImageName=demo-%E9%95%9C%E5%83%8F&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=edb2b34af0af9a6d14deaf7c1a5315eb&SignatureVersion=1.0&Tag.1.Key=env&Tag.1.Value=dev&Timestamp=2023-03-13T08%3A34%3A30Z&Version=2014-05-26"
        );
        assert_eq!(get.signature, "NKTHZS7oG9BukLOUYm6T5gHmgxs=");
        assert_eq!(sign("POST", r4(), &secret()).signature, "3wyDYpjfhqqKa5gPboYzQ+FCZHg=");
    }

    #[test]
    fn wrong_secret_fails_the_vector() {
        let s = sign("GET", r2(), &Secret::new("testsecreT"));
        assert_ne!(s.signature, "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
        // The classic mistake: forgetting the trailing `&` on the key.
        let no_amp =
            base64(&hmac_sha1(b"testsecret", sign("GET", r2(), &secret()).string_to_sign.as_bytes()));
        assert_ne!(no_amp, "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
    }

    #[test]
    fn wrong_sort_order_fails_the_vector() {
        // Unsorted (insertion order) canonical string signs differently.
        let mut shuffled = r2();
        shuffled.reverse();
        let unsorted =
            shuffled.iter().map(|(k, v)| format!("{}={}", pe(k), pe(v))).collect::<Vec<_>>().join("&");
        assert_ne!(signature(&secret(), &string_to_sign("GET", &unsorted)), "9NaGiOspFP5UPcwX8Iwt2YJXXuk=");
        // Index order is byte order: `10` sorts before `2`.
        let c = canonicalized_query([
            ("DiskDeviceMapping.2.X", "b"),
            ("DiskDeviceMapping.10.X", "a"),
            ("Tag.1.Key", "k"),
            ("Timestamp", "t"),
        ]);
        assert_eq!(c, "DiskDeviceMapping.10.X=a&DiskDeviceMapping.2.X=b&Tag.1.Key=k&Timestamp=t");
    }

    #[test]
    fn wrong_encoding_fails_the_vector() {
        // Form encoding (`+` for space, `*` left bare) is not the signing encoding.
        let good = sign("GET", r4(), &secret());
        let bad_query = good.canonicalized_query.replace("%20", "+").replace("%2A", "*");
        assert_ne!(signature(&secret(), &string_to_sign("GET", &bad_query)), "NKTHZS7oG9BukLOUYm6T5gHmgxs=");
        // Encoding only once (no second pe over the canonical string) fails too.
        let single = format!("GET&%2F&{}", good.canonicalized_query);
        assert_ne!(signature(&secret(), &single), "NKTHZS7oG9BukLOUYm6T5gHmgxs=");
    }

    #[test]
    fn sign_params_adds_common_parameters_and_sts_token() {
        use chrono::TimeZone;
        let cred = Credential::new("STS.id", "s").with_security_token("tok");
        let time = Utc.with_ymd_and_hms(2023, 3, 13, 8, 34, 30).unwrap();
        let api =
            Params::from_pairs([("RegionId", "cn-beijing"), ("Signature", "ignored"), ("Action", "Evil")]);
        let (all, signed) = sign_params("POST", "DescribeImages", "2014-05-26", &api, &cred, time, "n1");
        assert_eq!(all.get("Action"), Some("DescribeImages"));
        assert_eq!(all.get("SecurityToken"), Some("tok"));
        assert_eq!(all.get("Timestamp"), Some("2023-03-13T08:34:30Z"));
        assert_eq!(all.get("Signature"), Some(signed.signature.as_str()));
        assert!(signed.canonicalized_query.contains("SecurityToken=tok"));
        assert!(!signed.canonicalized_query.contains("Signature="));
        // Re-signing the same parameters (minus Signature) reproduces it: what a verifier does.
        let again = sign("POST", all.iter(), &cred.access_key_secret);
        assert_eq!(again.signature, signed.signature);
    }
}
