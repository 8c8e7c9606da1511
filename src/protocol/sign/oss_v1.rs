//! OSS V1 signing: `Authorization: OSS <AccessKeyId>:<Signature>` and presigned URLs
//! (spec signing.md §4).

use super::{base64, hmac_sha1, normalize_headers};
use crate::secret::{Credential, Secret};

/// Query keys that are part of the CanonicalizedResource (oss2's set); plus any `x-oss-*` key.
const SIGNED_SUBRESOURCES: &[&str] = &[
    "acl",
    "append",
    "asyncFetch",
    "bucketInfo",
    "callback",
    "callback-var",
    "cname",
    "comp",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "endTime",
    "group",
    "img",
    "inventory",
    "inventoryId",
    "lifecycle",
    "link",
    "live",
    "location",
    "logging",
    "metaQuery",
    "objectInfo",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "qos",
    "qosInfo",
    "referer",
    "regionList",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "requestPayment",
    "resourceGroup",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "security-token",
    "sequential",
    "startTime",
    "stat",
    "status",
    "style",
    "styleName",
    "symlink",
    "tagging",
    "transferAcceleration",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "vod",
    "website",
    "worm",
    "wormExtend",
    "wormId",
];

pub fn is_signed_subresource(name: &str) -> bool {
    SIGNED_SUBRESOURCES.contains(&name) || name.starts_with("x-oss-")
}

/// `/bucket/key?sub&sub2=v` with the raw (unencoded) key; `/bucket/` for bucket-level
/// requests and `/` for service-level ones.
pub fn canonicalized_resource<'a>(
    bucket: Option<&str>,
    key: &str,
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut resource = match bucket {
        Some(b) => format!("/{b}/{key}"),
        None => "/".to_owned(),
    };
    let mut subs: Vec<(&str, &str)> = query.into_iter().filter(|(k, _)| is_signed_subresource(k)).collect();
    subs.sort_by(|a, b| a.0.cmp(b.0));
    if !subs.is_empty() {
        resource.push('?');
        let joined = subs
            .iter()
            .map(|(k, v)| if v.is_empty() { (*k).to_owned() } else { format!("{k}={v}") })
            .collect::<Vec<_>>()
            .join("&");
        resource.push_str(&joined);
    }
    resource
}

/// Every `x-oss-*` header as `name:value\n`, lowercase, trimmed, sorted.
pub fn canonicalized_oss_headers<'a>(headers: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    normalize_headers(headers)
        .into_iter()
        .filter(|(k, _)| k.starts_with("x-oss-"))
        .map(|(k, v)| format!("{k}:{v}\n"))
        .collect()
}

/// `VERB\nContent-MD5\nContent-Type\nDate\n` + OSS headers + resource. For presigned URLs the
/// `Expires` integer takes the place of `Date`.
pub fn string_to_sign(
    verb: &str,
    content_md5: &str,
    content_type: &str,
    date_or_expires: &str,
    canonicalized_oss_headers: &str,
    canonicalized_resource: &str,
) -> String {
    format!(
        "{}\n{content_md5}\n{content_type}\n{date_or_expires}\n{canonicalized_oss_headers}{canonicalized_resource}",
        verb.to_ascii_uppercase()
    )
}

/// `Base64(HMAC-SHA1(secret, string_to_sign))` — no `&` on the key, unlike RPC.
pub fn signature(secret: &Secret, string_to_sign: &str) -> String {
    base64(&hmac_sha1(secret.expose().as_bytes(), string_to_sign.as_bytes()))
}

pub fn authorization(access_key_id: &str, signature: &str) -> String {
    format!("OSS {access_key_id}:{signature}")
}

/// Parse `OSS id:sig`.
pub fn parse_authorization(value: &str) -> Option<(String, String)> {
    let rest = value.trim().strip_prefix("OSS ")?;
    let (id, sig) = rest.rsplit_once(':')?;
    (!id.is_empty() && !sig.is_empty()).then(|| (id.to_owned(), sig.to_owned()))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OssV1Signed {
    pub string_to_sign: String,
    pub signature: String,
    pub authorization: String,
}

/// Sign a header-authenticated request. `headers` must include `Date` (and the STS token as
/// `x-oss-security-token` when the credential has one — see [`sts_header`]).
pub fn sign<'a>(
    verb: &str,
    bucket: Option<&str>,
    key: &str,
    query: impl IntoIterator<Item = (&'a str, &'a str)>,
    headers: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    credential: &Credential,
) -> OssV1Signed {
    let header = |name: &str| {
        headers
            .clone()
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let string_to_sign = string_to_sign(
        verb,
        &header("content-md5"),
        &header("content-type"),
        &header("date"),
        &canonicalized_oss_headers(headers.clone()),
        &canonicalized_resource(bucket, key, query),
    );
    let signature = signature(&credential.access_key_secret, &string_to_sign);
    let authorization = authorization(&credential.access_key_id, &signature);
    OssV1Signed { string_to_sign, signature, authorization }
}

/// The `x-oss-security-token` header for STS credentials.
pub fn sts_header(credential: &Credential) -> Option<(String, String)> {
    credential.security_token.as_ref().map(|t| ("x-oss-security-token".to_owned(), t.expose().to_owned()))
}

/// Query parameters of a V1 presigned URL (`OSSAccessKeyId`, `Expires`, `Signature`,
/// `security-token`), to append to `extra_query`. The token is a signed sub-resource.
pub fn presign_query(
    verb: &str,
    bucket: &str,
    key: &str,
    extra_query: &[(String, String)],
    expires_unix: i64,
    credential: &Credential,
) -> (Vec<(String, String)>, String) {
    let mut query: Vec<(String, String)> = extra_query.to_vec();
    if let Some(token) = &credential.security_token {
        query.push(("security-token".to_owned(), token.expose().to_owned()));
    }
    let resource =
        canonicalized_resource(Some(bucket), key, query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let sts = string_to_sign(verb, "", "", &expires_unix.to_string(), "", &resource);
    let sig = signature(&credential.access_key_secret, &sts);
    query.push(("OSSAccessKeyId".to_owned(), credential.access_key_id.clone()));
    query.push(("Expires".to_owned(), expires_unix.to_string()));
    query.push(("Signature".to_owned(), sig));
    (query, sts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const O1_SECRET: &str = "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV";

    fn o1_headers(md5: &'static str, author: &'static str) -> Vec<(&'static str, &'static str)> {
        vec![
            ("Content-Md5", md5),
            ("Content-Type", "text/html"),
            ("Date", "Thu, 17 Nov 2005 18:49:58 GMT"),
            ("X-OSS-Meta-Author", author),
            ("X-OSS-Magic", "abracadabra"),
            ("Host", "oss-example.oss-cn-hangzhou.aliyuncs.com"),
        ]
    }

    #[test]
    fn o1_every_stage() {
        let cred = Credential::new("44CF9590006BF252F707", O1_SECRET);
        let h = o1_headers("ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=", "foo@bar.com");
        assert_eq!(
            canonicalized_oss_headers(h.iter().copied()),
            "x-oss-magic:abracadabra\nx-oss-meta-author:foo@bar.com\n"
        );
        let s = sign("PUT", Some("oss-example"), "nelson", std::iter::empty(), h.iter().copied(), &cred);
        assert_eq!(
            s.string_to_sign,
            "PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\nThu, 17 Nov 2005 18:49:58 GMT\nx-oss-magic:abracadabra\nx-oss-meta-author:foo@bar.com\n/oss-example/nelson"
        );
        assert_eq!(s.signature, "26NBxoKdsyly4EDv6inkoDft/yA=");
        assert_eq!(s.authorization, "OSS 44CF9590006BF252F707:26NBxoKdsyly4EDv6inkoDft/yA=");
        assert_eq!(
            parse_authorization(&s.authorization),
            Some(("44CF9590006BF252F707".into(), s.signature.clone()))
        );
    }

    #[test]
    fn o1_doc_trap_values_do_not_reproduce() {
        let cred = Credential::new("44CF9590006BF252F707", O1_SECRET);
        for h in [
            o1_headers("eB5eJF1ptWaXm4bijSPyxw==", "foo@bar.com"),
            o1_headers("ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=", "foo@example.com"),
        ] {
            let s = sign("PUT", Some("oss-example"), "nelson", std::iter::empty(), h.iter().copied(), &cred);
            assert_ne!(s.signature, "26NBxoKdsyly4EDv6inkoDft/yA=");
        }
    }

    #[test]
    fn o2_presigned_url() {
        let sts = string_to_sign("GET", "", "", "1141889120", "", "/oss-example/oss-api.pdf");
        assert_eq!(sts, "GET\n\n\n1141889120\n/oss-example/oss-api.pdf");
        assert_eq!(signature(&Secret::new(O1_SECRET), &sts), "EwaNTn1erJGkimiJ9WmXgwnANLc=");
        let cred = Credential::new("44CF9590006BF252F707", O1_SECRET);
        let (query, sts2) = presign_query("GET", "oss-example", "oss-api.pdf", &[], 1_141_889_120, &cred);
        assert_eq!(sts2, sts);
        assert!(query.contains(&("Signature".into(), "EwaNTn1erJGkimiJ9WmXgwnANLc=".into())));
        assert!(query.contains(&("OSSAccessKeyId".into(), "44CF9590006BF252F707".into())));
    }

    fn o3_headers() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw=="),
            ("Content-Type", "text/html"),
            ("Date", "Wed, 28 Dec 2022 10:27:41 GMT"),
            ("x-oss-date", "Wed, 28 Dec 2022 10:27:41 GMT"),
            ("x-oss-meta-author", "alice"),
            ("x-oss-meta-magic", "abracadabra"),
        ]
    }

    #[test]
    fn o3_and_o4_go_sdk_vectors() {
        let cred = Credential::new("ak", "sk");
        let s = sign(
            "PUT",
            Some("examplebucket"),
            "nelson",
            std::iter::empty(),
            o3_headers().iter().copied(),
            &cred,
        );
        assert_eq!(
            s.string_to_sign,
            "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson"
        );
        assert_eq!(s.signature, "kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
        // `acl` is a signed sub-resource; an ordinary listing parameter is not.
        let s4 = sign(
            "PUT",
            Some("examplebucket"),
            "nelson",
            [("acl", ""), ("prefix", "x")],
            o3_headers().iter().copied(),
            &cred,
        );
        assert!(s4.string_to_sign.ends_with("/examplebucket/nelson?acl"));
        assert_eq!(s4.signature, "/afkugFbmWDQ967j1vr6zygBLQk=");
    }

    #[test]
    fn o5_presign_with_version_id() {
        let resource = canonicalized_resource(Some("bucket"), "key", [("versionId", "versionId")]);
        let sts = string_to_sign("GET", "", "", "1699807420", "", &resource);
        assert_eq!(sts, "GET\n\n\n1699807420\n/bucket/key?versionId=versionId");
        assert_eq!(signature(&Secret::new("sk"), &sts), "dcLTea+Yh9ApirQ8o8dOPqtvJXQ=");
    }

    #[test]
    fn wrong_secret_or_rpc_style_key_fails() {
        let sts = string_to_sign("GET", "", "", "1699807420", "", "/bucket/key?versionId=versionId");
        assert_ne!(signature(&Secret::new("sk&"), &sts), "dcLTea+Yh9ApirQ8o8dOPqtvJXQ=");
        assert_ne!(signature(&Secret::new("sK"), &sts), "dcLTea+Yh9ApirQ8o8dOPqtvJXQ=");
    }

    #[test]
    fn multipart_resources_and_sts_token() {
        assert_eq!(canonicalized_resource(Some("b"), "k", [("uploads", "")]), "/b/k?uploads");
        assert_eq!(
            canonicalized_resource(Some("b"), "dir/k", [("uploadId", "XYZ"), ("partNumber", "1")]),
            "/b/dir/k?partNumber=1&uploadId=XYZ"
        );
        assert_eq!(
            canonicalized_resource(Some("b"), "", [("list-type", "2"), ("continuation-token", "t")]),
            "/b/?continuation-token=t"
        );
        assert_eq!(canonicalized_resource(None, "", std::iter::empty()), "/");
        let cred = Credential::new("STS.a", "s").with_security_token("tok");
        let (q, sts) = presign_query("GET", "b", "k", &[], 10, &cred);
        assert!(sts.ends_with("/b/k?security-token=tok"));
        assert!(q.iter().any(|(k, v)| k == "security-token" && v == "tok"));
        assert_eq!(sts_header(&cred), Some(("x-oss-security-token".into(), "tok".into())));
    }
}
