//! Request signing. Every scheme is a set of pure functions of (request parts, credential,
//! time, nonce), one per stage, so tests can check each stage against published vectors and
//! the sandbox can rebuild the same stages to verify a request.
//!
//! - [`rpc`]: RPC HMAC-SHA1 (`SignatureVersion=1.0`), query or form body;
//! - [`acs3`]: `ACS3-HMAC-SHA256` (V3), headers;
//! - [`oss_v1`]: OSS `OSS ak:sig` header and presigned URLs;
//! - [`oss_v4`]: OSS `OSS4-HMAC-SHA256` header and presigned URLs.

pub mod acs3;
pub mod oss_v1;
pub mod oss_v4;
pub mod rpc;
pub mod vectors;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Which signature a profile uses for RPC APIs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RpcSignature {
    /// `ACS3-HMAC-SHA256`, the current SDK default.
    #[default]
    Acs3,
    /// HMAC-SHA1 query signature (`SignatureVersion=1.0`), required by Apsara Stack gateways.
    RpcSha1,
}

/// Which signature a profile uses for OSS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OssSignature {
    V1,
    #[default]
    V4,
}

/// RPC `Timestamp` / V3 `x-acs-date`: `2023-03-13T08:34:30Z`.
pub fn iso8601(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// HTTP `Date` (RFC 1123, GMT): `Thu, 17 Nov 2005 18:49:58 GMT`.
pub fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// OSS V4 `x-oss-date`: `20231216T162057Z`.
pub fn compact_date(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A fresh signature nonce: 32 lowercase hex characters, as the official SDK sends.
pub fn new_nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

pub(crate) fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Lowercase hex SHA-256 (V3 payload hash, canonical request hash).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `Content-MD5`: Base64 of the raw 16-byte MD5.
pub fn content_md5(data: &[u8]) -> String {
    BASE64.encode(md5::Md5::digest(data))
}

pub(crate) fn base64(data: &[u8]) -> String {
    BASE64.encode(data)
}

/// Constant-time comparison of two signatures, for verifiers.
pub fn signatures_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Lowercase, trimmed headers sorted by name; duplicates joined with `,` (values sorted).
pub(crate) fn normalize_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    let mut grouped: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for (name, value) in headers {
        grouped.entry(name.trim().to_ascii_lowercase()).or_default().push(value.trim().to_owned());
    }
    grouped
        .into_iter()
        .map(|(name, mut values)| {
            values.sort();
            (name, values.join(","))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn date_formats() {
        let t = Utc.with_ymd_and_hms(2005, 11, 17, 18, 49, 58).unwrap();
        assert_eq!(http_date(t), "Thu, 17 Nov 2005 18:49:58 GMT");
        assert_eq!(iso8601(t), "2005-11-17T18:49:58Z");
        assert_eq!(compact_date(t), "20051117T184958Z");
    }

    #[test]
    fn content_md5_values() {
        assert_eq!(content_md5(b"123456789"), "JfnnlDI7RTiF9RgfG2JNCw==");
        assert_eq!(content_md5(b""), "1B2M2Y8AsgTpgAmY7PhCfg==");
    }

    #[test]
    fn nonces_are_fresh_hex() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn signature_comparison() {
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "abcd"));
    }
}
