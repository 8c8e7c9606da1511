//! `ACS3-HMAC-SHA256` (V3) signing for RPC APIs, spec signing.md §2.

use chrono::{DateTime, Utc};

use super::{hmac_sha256, iso8601, normalize_headers, sha256_hex};
use crate::protocol::encode::pe;
use crate::secret::{Credential, Secret};

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";
/// SHA-256 of the empty body.
pub const EMPTY_PAYLOAD_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Headers every V3 request must carry and sign.
pub const REQUIRED_HEADERS: [&str; 6] =
    ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"];

/// The `x-acs-*` headers for one attempt (plus `host`, and `content-type` when there is a body).
pub fn request_headers(
    host: &str,
    action: &str,
    version: &str,
    body: &[u8],
    content_type: Option<&str>,
    credential: &Credential,
    time: DateTime<Utc>,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("host".to_owned(), host.to_owned()),
        ("x-acs-action".to_owned(), action.to_owned()),
        ("x-acs-version".to_owned(), version.to_owned()),
        ("x-acs-date".to_owned(), iso8601(time)),
        ("x-acs-signature-nonce".to_owned(), nonce.to_owned()),
        ("x-acs-content-sha256".to_owned(), sha256_hex(body)),
    ];
    if let Some(ct) = content_type {
        headers.push(("content-type".to_owned(), ct.to_owned()));
    }
    if let Some(token) = &credential.security_token {
        headers.push(("x-acs-security-token".to_owned(), token.expose().to_owned()));
        headers.push(("x-acs-accesskey-id".to_owned(), credential.access_key_id.clone()));
    }
    headers
}

/// Names to sign by the doc rule: `host`, `content-type` and every `x-acs-*` header.
pub fn default_signed_header_names<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut names: Vec<String> = headers
        .into_iter()
        .map(|(k, _)| k.trim().to_ascii_lowercase())
        .filter(|k| k == "host" || k == "content-type" || k.starts_with("x-acs-"))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Canonical query: `pe(name)=pe(value)` sorted by name (empty value → `name=`).
pub fn canonical_query<'a>(query: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(String, String)> = query.into_iter().map(|(k, v)| (pe(k), pe(v))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// `(CanonicalHeaders, SignedHeaders)` for the named headers; a name with no header is signed empty.
pub fn canonical_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    signed_names: &[String],
) -> (String, String) {
    let wanted: Vec<String> = {
        let mut w: Vec<String> = signed_names.iter().map(|n| n.trim().to_ascii_lowercase()).collect();
        w.sort();
        w.dedup();
        w
    };
    let normalized = normalize_headers(headers);
    let mut canonical = String::new();
    for name in &wanted {
        let value = normalized.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(value);
        canonical.push('\n');
    }
    (canonical, wanted.join(";"))
}

/// Stage 1: the canonical request.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    hashed_payload: &str,
) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        canonical_uri,
        canonical_query,
        canonical_headers,
        signed_headers,
        hashed_payload
    )
}

/// Stage 2: `ACS3-HMAC-SHA256\n` + hex(SHA-256(canonical request)).
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Stage 3: hex HMAC-SHA256 keyed with the bare secret (no `&`).
pub fn signature(secret: &Secret, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(secret.expose().as_bytes(), string_to_sign.as_bytes()))
}

/// Stage 4: the `Authorization` header value.
pub fn authorization(access_key_id: &str, signed_headers: &str, signature: &str) -> String {
    format!("{ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}")
}

/// All stages of one V3 signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acs3Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
    pub signed_headers: String,
    pub authorization: String,
}

/// Sign a request whose headers already include the `x-acs-*` set (see [`request_headers`]).
/// `signed_names` lists the headers to sign (normally [`default_signed_header_names`]).
pub fn sign<'a>(
    method: &str,
    canonical_uri: &str,
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
    headers: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    signed_names: &[String],
    hashed_payload: &str,
    credential: &Credential,
) -> Acs3Signed {
    let query = canonical_query(query);
    let (canonical_hdrs, signed_headers) = canonical_headers(headers, signed_names);
    let canonical_request =
        canonical_request(method, canonical_uri, &query, &canonical_hdrs, &signed_headers, hashed_payload);
    let string_to_sign = string_to_sign(&canonical_request);
    let signature = signature(&credential.access_key_secret, &string_to_sign);
    let authorization = authorization(&credential.access_key_id, &signed_headers, &signature);
    Acs3Signed { canonical_request, string_to_sign, signature, signed_headers, authorization }
}

/// A parsed `Authorization: ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acs3Authorization {
    pub access_key_id: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parse an `Authorization` header (tolerates spaces after commas); `None` if malformed.
pub fn parse_authorization(value: &str) -> Option<Acs3Authorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let (mut id, mut signed, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => id = Some(v.to_owned()),
            "SignedHeaders" => signed = Some(v.split(';').map(|h| h.to_ascii_lowercase()).collect()),
            "Signature" => sig = Some(v.to_owned()),
            _ => return None,
        }
    }
    Some(Acs3Authorization { access_key_id: id?, signed_headers: signed?, signature: sig? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn official_headers(date: &str, nonce: &str) -> Vec<(&'static str, String)> {
        vec![
            ("host", "ecs.cn-shanghai.aliyuncs.com".into()),
            ("x-acs-action", "RunInstances".into()),
            ("x-acs-version", "2014-05-26".into()),
            ("x-acs-date", date.into()),
            ("x-acs-signature-nonce", nonce.into()),
            ("x-acs-content-sha256", EMPTY_PAYLOAD_HASH.into()),
        ]
    }

    fn sign_official(headers: &[(&'static str, String)], secret: &str) -> Acs3Signed {
        let cred = Credential::new("YourAccessKeyId", secret);
        let hdrs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let names = default_signed_header_names(hdrs.iter().copied());
        sign(
            "POST",
            "/",
            [("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), ("RegionId", "cn-shanghai")],
            hdrs.iter().copied(),
            &names,
            EMPTY_PAYLOAD_HASH,
            &cred,
        )
    }

    #[test]
    fn official_v3_vector_every_stage() {
        let s = sign_official(
            &official_headers("2023-10-26T10:22:32Z", "3156853299f313e23d1673dc12e1703d"),
            "YourAccessKeySecret",
        );
        assert_eq!(
            s.canonical_request,
            "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\nhost:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            s.string_to_sign,
            "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(s.signature, "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
        assert_eq!(
            s.authorization,
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        assert_eq!(parse_authorization(&s.authorization).unwrap().signature, s.signature);
    }

    #[test]
    fn doc_trap_header_values_do_not_reproduce_the_signature() {
        let s = sign_official(
            &official_headers("2023-10-26T09:01:01Z", "d410180a5abf7fe235dd9b74aca91fc0"),
            "YourAccessKeySecret",
        );
        assert_ne!(s.signature, "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
    }

    #[test]
    fn wrong_secret_fails_the_vector() {
        let s = sign_official(
            &official_headers("2023-10-26T10:22:32Z", "3156853299f313e23d1673dc12e1703d"),
            "YourAccessKeySecret&",
        );
        assert_ne!(s.signature, "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0");
    }

    #[test]
    fn v3_d1_derived_sts_and_form_body() {
        let body = b"RegionId=cn-shanghai";
        let hash = sha256_hex(body);
        assert_eq!(hash, "0c2a7678715b8d77a3cb7b78e631f5e1ea6701325b63f4a916888351966dcc3d");
        let mut headers = official_headers("2023-10-26T10:22:32Z", "3156853299f313e23d1673dc12e1703d");
        headers.retain(|(k, _)| *k != "x-acs-content-sha256");
        headers.push(("x-acs-content-sha256", hash.clone()));
        headers.push(("x-acs-security-token", "CAIStoken".into()));
        headers.push(("content-type", "application/x-www-form-urlencoded".into()));
        let hdrs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let names = default_signed_header_names(hdrs.iter().copied());
        let cred = Credential::new("YourAccessKeyId", "YourAccessKeySecret");
        let s = sign("POST", "/", std::iter::empty(), hdrs.iter().copied(), &names, &hash, &cred);
        assert_eq!(
            s.signed_headers,
            "content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version"
        );
        assert_eq!(s.signature, "54a94ed09edc706a9c40098311273fd8de283c845597f33b5ee09a6024b57373");
    }

    #[test]
    fn request_headers_carry_token_and_payload_hash() {
        use chrono::TimeZone;
        let cred = Credential::new("STS.x", "s").with_security_token("tok");
        let t = Utc.with_ymd_and_hms(2023, 10, 26, 10, 22, 32).unwrap();
        let h = request_headers(
            "ecs.cn-hangzhou.aliyuncs.com",
            "DescribeImages",
            "2014-05-26",
            b"",
            None,
            &cred,
            t,
            "n",
        );
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("x-acs-date"), Some("2023-10-26T10:22:32Z"));
        assert_eq!(get("x-acs-content-sha256"), Some(EMPTY_PAYLOAD_HASH));
        assert_eq!(get("x-acs-security-token"), Some("tok"));
        let names = default_signed_header_names(h.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert!(names.contains(&"x-acs-security-token".to_owned()));
        for required in REQUIRED_HEADERS {
            assert!(names.iter().any(|n| n == required), "{required}");
        }
    }

    #[test]
    fn authorization_parsing_accepts_spaces_and_rejects_garbage() {
        let a = parse_authorization(
            "ACS3-HMAC-SHA256 Credential=id, SignedHeaders=host;X-Acs-Date, Signature=ab",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "id");
        assert_eq!(a.signed_headers, vec!["host", "x-acs-date"]);
        assert!(parse_authorization("OSS id:sig").is_none());
        assert!(parse_authorization("ACS3-HMAC-SHA256 Credential=id,Signature=ab").is_none());
    }
}
