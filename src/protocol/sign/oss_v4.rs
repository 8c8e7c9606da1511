//! OSS V4 signing: `OSS4-HMAC-SHA256` header and presigned URLs (spec signing.md §5).

use chrono::{DateTime, Utc};

use super::{compact_date, hmac_sha256, normalize_headers, sha256_hex};
use crate::protocol::encode::{pe, pe_path};
use crate::secret::{Credential, Secret};

pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// `/bucket/key` encoded per byte with `/` literal; `/bucket/` for bucket-level, `/` for service.
pub fn canonical_uri(bucket: Option<&str>, key: &str) -> String {
    match bucket {
        Some(b) => format!("/{}/{}", pe_path(b), pe_path(key)),
        None => "/".to_owned(),
    }
}

/// Every query parameter, `pe(name)[=pe(value)]`, sorted by encoded name; empty value ⇒ name only.
pub fn canonical_query<'a>(query: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(String, String)> = query.into_iter().map(|(k, v)| (pe(k), pe(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") })
        .collect::<Vec<_>>()
        .join("&")
}

/// Headers in the canonical set: `x-oss-*`, `content-type`, `content-md5`, plus additional ones.
fn is_default_signed(name: &str) -> bool {
    name.starts_with("x-oss-") || name == "content-type" || name == "content-md5"
}

/// `(CanonicalHeaders, AdditionalHeaders)`; additional names are lowercased and sorted.
pub fn canonical_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    additional: &[String],
) -> (String, String) {
    let mut extra: Vec<String> = additional.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    extra.sort();
    extra.dedup();
    let canonical = normalize_headers(headers)
        .into_iter()
        .filter(|(k, _)| is_default_signed(k) || extra.contains(k))
        .map(|(k, v)| format!("{k}:{v}\n"))
        .collect();
    (canonical, extra.join(";"))
}

pub fn canonical_request(
    verb: &str,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &str,
    additional_headers: &str,
    hashed_payload: &str,
) -> String {
    format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{additional_headers}\n{hashed_payload}",
        verb.to_ascii_uppercase()
    )
}

/// `yyyymmdd/region/oss/aliyun_v4_request`.
pub fn scope(day: &str, region: &str) -> String {
    format!("{day}/{region}/oss/aliyun_v4_request")
}

pub fn string_to_sign(oss_date: &str, scope: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{oss_date}\n{scope}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// The derived key: HMAC chain over day, region, `oss`, `aliyun_v4_request`.
pub fn signing_key(secret: &Secret, day: &str, region: &str) -> Vec<u8> {
    let k1 = hmac_sha256(format!("aliyun_v4{}", secret.expose()).as_bytes(), day.as_bytes());
    let k2 = hmac_sha256(&k1, region.as_bytes());
    let k3 = hmac_sha256(&k2, b"oss");
    hmac_sha256(&k3, b"aliyun_v4_request")
}

pub fn signature(signing_key: &[u8], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

pub fn authorization(access_key_id: &str, scope: &str, additional_headers: &str, signature: &str) -> String {
    if additional_headers.is_empty() {
        format!("{ALGORITHM} Credential={access_key_id}/{scope},Signature={signature}")
    } else {
        format!(
            "{ALGORITHM} Credential={access_key_id}/{scope},AdditionalHeaders={additional_headers},Signature={signature}"
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OssV4Signed {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
    pub authorization: String,
}

/// The request parts V4 signs.
#[derive(Clone, Copy, Debug)]
pub struct OssV4Request<'a> {
    pub verb: &'a str,
    pub bucket: Option<&'a str>,
    pub key: &'a str,
    pub query: &'a [(String, String)],
    /// Must already contain `x-oss-date` and `x-oss-content-sha256` (see [`required_headers`]).
    pub headers: &'a [(String, String)],
    pub additional_headers: &'a [String],
    pub region: &'a str,
}

/// `x-oss-date`, `x-oss-content-sha256: UNSIGNED-PAYLOAD`, and the STS token when present.
pub fn required_headers(credential: &Credential, time: DateTime<Utc>) -> Vec<(String, String)> {
    let mut headers = vec![
        ("x-oss-date".to_owned(), compact_date(time)),
        ("x-oss-content-sha256".to_owned(), UNSIGNED_PAYLOAD.to_owned()),
    ];
    if let Some(token) = &credential.security_token {
        headers.push(("x-oss-security-token".to_owned(), token.expose().to_owned()));
    }
    headers
}

pub fn sign(request: &OssV4Request<'_>, credential: &Credential) -> OssV4Signed {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    };
    let oss_date = header("x-oss-date").to_owned();
    let day = oss_date.get(..8).unwrap_or_default().to_owned();
    let payload = match header("x-oss-content-sha256") {
        "" => UNSIGNED_PAYLOAD.to_owned(),
        value => value.to_owned(),
    };
    let (canonical_hdrs, additional) = canonical_headers(
        request.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        request.additional_headers,
    );
    let canonical_request = canonical_request(
        request.verb,
        &canonical_uri(request.bucket, request.key),
        &canonical_query(request.query.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        &canonical_hdrs,
        &additional,
        &payload,
    );
    let scope = scope(&day, request.region);
    let string_to_sign = string_to_sign(&oss_date, &scope, &canonical_request);
    let signature =
        signature(&signing_key(&credential.access_key_secret, &day, request.region), &string_to_sign);
    let authorization = authorization(&credential.access_key_id, &scope, &additional, &signature);
    OssV4Signed { canonical_request, string_to_sign, signature, authorization }
}

/// A parsed V4 `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OssV4Authorization {
    pub access_key_id: String,
    pub day: String,
    pub region: String,
    pub additional_headers: Vec<String>,
    pub signature: String,
}

/// Parse the header; accepts `, ` or `,` separators. `AdditionalHeaders=` empty is an error.
pub fn parse_authorization(value: &str) -> Option<OssV4Authorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let (mut credential, mut additional, mut sig) = (None, Vec::new(), None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v.to_owned()),
            "AdditionalHeaders" if !v.is_empty() => {
                additional = v.split(';').map(|h| h.to_ascii_lowercase()).collect()
            }
            "Signature" => sig = Some(v.to_owned()),
            _ => return None,
        }
    }
    let credential = credential?;
    let mut parts = credential.split('/');
    let (id, day, region, product, terminator) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if product != "oss" || terminator != "aliyun_v4_request" || parts.next().is_some() {
        return None;
    }
    Some(OssV4Authorization {
        access_key_id: id.to_owned(),
        day: day.to_owned(),
        region: region.to_owned(),
        additional_headers: additional,
        signature: sig?,
    })
}

/// A V4 presigned URL's query: the signing parameters (all inside the canonical query) followed
/// by `x-oss-signature`. `extra_query` carries e.g. `uploadId`/`partNumber`.
pub fn presign_query(
    verb: &str,
    bucket: &str,
    key: &str,
    region: &str,
    extra_query: &[(String, String)],
    time: DateTime<Utc>,
    expires_seconds: u32,
    credential: &Credential,
) -> Vec<(String, String)> {
    let oss_date = compact_date(time);
    let day = oss_date[..8].to_owned();
    let scope = scope(&day, region);
    let mut query = extra_query.to_vec();
    query.push(("x-oss-signature-version".to_owned(), ALGORITHM.to_owned()));
    query.push(("x-oss-credential".to_owned(), format!("{}/{scope}", credential.access_key_id)));
    query.push(("x-oss-date".to_owned(), oss_date.clone()));
    query.push(("x-oss-expires".to_owned(), expires_seconds.to_string()));
    if let Some(token) = &credential.security_token {
        query.push(("x-oss-security-token".to_owned(), token.expose().to_owned()));
    }
    let canonical_request = canonical_request(
        verb,
        &canonical_uri(Some(bucket), key),
        &canonical_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        "",
        "",
        UNSIGNED_PAYLOAD,
    );
    let sts = string_to_sign(&oss_date, &scope, &canonical_request);
    let sig = signature(&signing_key(&credential.access_key_secret, &day, region), &sts);
    query.push(("x-oss-signature".to_owned(), sig));
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    type Pairs = Vec<(String, String)>;

    fn o6() -> (Pairs, Pairs) {
        let headers = vec![
            ("x-oss-head1".to_owned(), "value".to_owned()),
            ("abc".to_owned(), "value".to_owned()),
            ("ZAbc".to_owned(), "value".to_owned()),
            ("XYZ".to_owned(), "value".to_owned()),
            ("content-type".to_owned(), "text/plain".to_owned()),
            ("x-oss-content-sha256".to_owned(), UNSIGNED_PAYLOAD.to_owned()),
            ("x-oss-date".to_owned(), "20231216T162057Z".to_owned()),
        ];
        let query = [
            ("param1", "value1"),
            ("+param1", "value3"),
            ("|param1", "value4"),
            ("+param2", ""),
            ("|param2", ""),
            ("param2", ""),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        (headers, query)
    }

    #[test]
    fn o6_every_stage() {
        let (headers, query) = o6();
        let request = OssV4Request {
            verb: "PUT",
            bucket: Some("bucket"),
            key: "1234+-/123/1.txt",
            query: &query,
            headers: &headers,
            additional_headers: &[],
            region: "cn-hangzhou",
        };
        let s = sign(&request, &Credential::new("ak", "sk"));
        assert_eq!(
            s.canonical_request,
            "PUT\n/bucket/1234%2B-/123/1.txt\n%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\ncontent-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD"
        );
        assert!(
            s.string_to_sign.starts_with(
                "OSS4-HMAC-SHA256\n20231216T162057Z\n20231216/cn-hangzhou/oss/aliyun_v4_request\n"
            )
        );
        assert_eq!(s.signature, "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe");
        assert_eq!(
            s.authorization,
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"
        );
        let parsed = parse_authorization(&s.authorization).unwrap();
        assert_eq!((parsed.day.as_str(), parsed.region.as_str()), ("20231216", "cn-hangzhou"));
    }

    #[test]
    fn o6_wrong_secret_region_or_encoding_fails() {
        let (headers, query) = o6();
        let mut request = OssV4Request {
            verb: "PUT",
            bucket: Some("bucket"),
            key: "1234+-/123/1.txt",
            query: &query,
            headers: &headers,
            additional_headers: &[],
            region: "cn-hangzhou",
        };
        let expected = "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe";
        assert_ne!(sign(&request, &Credential::new("ak", "sk2")).signature, expected);
        request.region = "cn-beijing";
        assert_ne!(sign(&request, &Credential::new("ak", "sk")).signature, expected);
        request.region = "cn-hangzhou";
        request.key = "1234 -/123/1.txt"; // `+` decoded to space by a careless client
        assert_ne!(sign(&request, &Credential::new("ak", "sk")).signature, expected);
    }

    #[test]
    fn additional_headers_are_signed_and_announced() {
        let (headers, query) = o6();
        let extra = vec!["ZAbc".to_owned(), "abc".to_owned()];
        let request = OssV4Request {
            verb: "PUT",
            bucket: Some("bucket"),
            key: "k",
            query: &query,
            headers: &headers,
            additional_headers: &extra,
            region: "cn-hangzhou",
        };
        let s = sign(&request, &Credential::new("ak", "sk"));
        assert!(s.canonical_request.contains("abc:value\ncontent-type:text/plain\n"));
        assert!(s.canonical_request.contains("\n\nabc;zabc\nUNSIGNED-PAYLOAD"));
        assert!(s.authorization.contains(",AdditionalHeaders=abc;zabc,"));
        assert_eq!(parse_authorization(&s.authorization).unwrap().additional_headers, vec!["abc", "zabc"]);
        assert!(parse_authorization("OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=,Signature=x").is_none());
        assert!(
            parse_authorization(
                "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request, Signature=x"
            )
            .is_some()
        );
    }

    #[test]
    fn presigned_query_is_self_consistent() {
        // Derived fixture: rebuilding the canonical request from the URL query reproduces the signature.
        let cred = Credential::new("ak", "sk").with_security_token("tok");
        let t = Utc.with_ymd_and_hms(2023, 12, 16, 16, 20, 57).unwrap();
        let q = presign_query("GET", "bucket", "a b.qcow2", "cn-hangzhou", &[], t, 3600, &cred);
        let sig = q.iter().find(|(k, _)| k == "x-oss-signature").map(|(_, v)| v.clone()).unwrap();
        let signed: Vec<_> = q.iter().filter(|(k, _)| k != "x-oss-signature").cloned().collect();
        let cr = canonical_request(
            "GET",
            "/bucket/a%20b.qcow2",
            &canonical_query(signed.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            "",
            "",
            UNSIGNED_PAYLOAD,
        );
        let sts = string_to_sign("20231216T162057Z", "20231216/cn-hangzhou/oss/aliyun_v4_request", &cr);
        assert_eq!(signature(&signing_key(&Secret::new("sk"), "20231216", "cn-hangzhou"), &sts), sig);
        assert!(signed.iter().any(|(k, v)| k == "x-oss-security-token" && v == "tok"));
    }
}
