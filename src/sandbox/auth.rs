//! Request authentication as the real gateways do it (spec signing.md §1.6, §2.4, §4–5):
//! every scheme's signature is rebuilt from what arrived with the protocol layer's own stage
//! functions, plus timestamp skew, nonce replay, AccessKey and STS token checks.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, NaiveDateTime, Utc};

use super::StsGrant;
use crate::protocol::sign::{acs3, oss_v1, oss_v4, rpc, sha256_hex, signatures_equal};
use crate::secret::Credential;

/// Why a request was refused, in the service's own terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFailure {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// The server's string-to-sign, echoed on `SignatureDoesNotMatch`.
    pub string_to_sign: Option<String>,
    pub signature_provided: Option<String>,
    pub access_key_id: Option<String>,
}

impl AuthFailure {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            string_to_sign: None,
            signature_provided: None,
            access_key_id: None,
        }
    }

    fn missing(name: &str) -> Self {
        Self::new(
            400,
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )
    }
}

/// The AccessKeys and STS grants the sandbox accepts. Grants also come from AssumeRole while it
/// runs, hence the shared list.
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    keys: Vec<Credential>,
    grants: Arc<RwLock<Vec<StsGrant>>>,
    /// AssumeRole credentials act for the account of the key that assumed the role.
    accounts: Arc<RwLock<HashMap<String, String>>>,
}

impl Keyring {
    pub fn new(keys: Vec<Credential>, grants: Vec<StsGrant>) -> Self {
        Self { keys, grants: Arc::new(RwLock::new(grants)), accounts: Arc::default() }
    }

    /// Accept a credential AssumeRole just issued on behalf of `account` (the caller's key).
    pub fn issue(&self, grant: StsGrant, account: &str) {
        self.accounts
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(grant.credential.access_key_id.clone(), account.to_owned());
        self.grants.write().unwrap_or_else(PoisonError::into_inner).push(grant);
    }

    /// The account a key acts for: itself, or for an assumed role the key that assumed it.
    pub fn account_of(&self, access_key_id: &str) -> String {
        let accounts = self.accounts.read().unwrap_or_else(PoisonError::into_inner);
        accounts.get(access_key_id).cloned().unwrap_or_else(|| access_key_id.to_owned())
    }

    /// Make every STS credential issued so far expire now (tests of credential refresh).
    pub fn expire_all(&self, now: DateTime<Utc>) {
        for grant in self.grants.write().unwrap_or_else(PoisonError::into_inner).iter_mut() {
            grant.expires_at = Some(now);
        }
    }

    /// Whether `access_key_id` is a long-term AccessKey (not an STS one).
    pub fn is_long_term(&self, access_key_id: &str) -> bool {
        self.keys.iter().any(|k| k.access_key_id == access_key_id)
    }

    /// Find the credential, and check the security token the request carried against it.
    /// `oss` picks the OSS error vocabulary.
    fn authorize(
        &self,
        access_key_id: &str,
        token: Option<&str>,
        now: DateTime<Utc>,
        oss: bool,
    ) -> Result<Credential, AuthFailure> {
        let grants = self.grants.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(grant) = grants.iter().find(|g| g.credential.access_key_id == access_key_id) {
            let expected = grant.credential.security_token.as_ref().map(|t| t.expose()).unwrap_or_default();
            return match token {
                None | Some("") if oss => Err(AuthFailure::new(
                    403,
                    "InvalidAccessKeyId",
                    "The security token you provided is missing for this STS AccessKey.",
                )),
                None | Some("") => Err(AuthFailure::new(
                    400,
                    "MissingSecurityToken",
                    "SecurityToken is mandatory for this action.",
                )),
                Some(t) if t != expected => Err(if oss {
                    AuthFailure::new(
                        403,
                        "InvalidSecurityToken",
                        "The security token you provided is invalid.",
                    )
                } else {
                    AuthFailure::new(
                        400,
                        "InvalidSecurityToken.MismatchWithAccessKey",
                        "Specified SecurityToken mismatch with the AccessKey.",
                    )
                }),
                Some(_) if grant.expires_at.is_some_and(|e| e <= now) => Err(if oss {
                    AuthFailure::new(
                        403,
                        "SecurityTokenExpired",
                        "The security token you provided has expired.",
                    )
                } else {
                    AuthFailure::new(
                        400,
                        "InvalidSecurityToken.Expired",
                        "Specified SecurityToken is expired.",
                    )
                }),
                Some(_) => Ok(grant.credential.clone()),
            };
        }
        self.keys.iter().find(|k| k.access_key_id == access_key_id).cloned().ok_or_else(|| {
            let mut failure = if oss {
                AuthFailure::new(
                    403,
                    "InvalidAccessKeyId",
                    "The OSS Access Key Id you provided does not exist in our records.",
                )
            } else {
                AuthFailure::new(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
            };
            failure.access_key_id = Some(access_key_id.to_owned());
            failure
        })
    }
}

/// Nonces seen in the skew window, per AccessKey (`SignatureNonceUsed` on replay).
#[derive(Debug, Default)]
pub struct NonceCache {
    seen: HashMap<(String, String), DateTime<Utc>>,
}

impl NonceCache {
    /// Record a nonce; false if it was already used within `window`.
    pub fn insert(
        &mut self,
        access_key_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
        window: chrono::Duration,
    ) -> bool {
        if self.seen.len() > 10_000 {
            self.seen.retain(|_, at| now - *at <= window);
        }
        let key = (access_key_id.to_owned(), nonce.to_owned());
        match self.seen.get(&key) {
            Some(at) if now - *at <= window => false,
            _ => {
                self.seen.insert(key, now);
                true
            }
        }
    }
}

fn check_skew(time: DateTime<Utc>, now: DateTime<Utc>, max_skew_secs: i64) -> bool {
    (now - time).num_seconds().saturating_abs() <= max_skew_secs
}

fn parse_iso8601(value: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%SZ").ok().map(|t| t.and_utc())
}

/// The parts of an RPC request that authentication looks at.
#[derive(Clone, Copy, Debug)]
pub struct RpcParts<'a> {
    pub method: &'a str,
    pub query: &'a [(String, String)],
    pub form: &'a [(String, String)],
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Who signed an RPC request, and the action/version its V3 headers named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcIdentity {
    pub access_key_id: String,
    pub header_action: Option<String>,
    pub header_version: Option<String>,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Verify an RPC request signed with ACS3-HMAC-SHA256 (Authorization header) or RPC-SHA1
/// (`Signature` parameter). `allow_v3` is false for Apsara styles, which take RPC-SHA1 only.
pub fn verify_rpc(
    parts: RpcParts<'_>,
    keyring: &Keyring,
    nonces: &mut NonceCache,
    now: DateTime<Utc>,
    max_skew_secs: i64,
    allow_v3: bool,
) -> Result<RpcIdentity, AuthFailure> {
    let window = chrono::Duration::try_seconds(max_skew_secs).unwrap_or(chrono::TimeDelta::MAX);
    if let Some(authorization) =
        header(parts.headers, "authorization").filter(|a| a.starts_with(acs3::ALGORITHM))
    {
        if !allow_v3 {
            return Err(AuthFailure::new(
                400,
                "IncompleteSignature",
                "This endpoint accepts only HMAC-SHA1 (SignatureVersion 1.0) signatures.",
            ));
        }
        let auth = acs3::parse_authorization(authorization).ok_or_else(|| {
            AuthFailure::new(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards.",
            )
        })?;
        for required in acs3::REQUIRED_HEADERS {
            if header(parts.headers, required).is_none() {
                return Err(AuthFailure::missing(required));
            }
            if !auth.signed_headers.iter().any(|h| h == required) {
                return Err(AuthFailure::new(
                    400,
                    "IncompleteSignature",
                    format!("The header {required} must be signed (listed in SignedHeaders)."),
                ));
            }
        }
        let date = header(parts.headers, "x-acs-date").unwrap_or_default();
        let time = parse_iso8601(date).ok_or_else(|| {
            AuthFailure::new(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        })?;
        if !check_skew(time, now, max_skew_secs) {
            return Err(AuthFailure::new(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        let payload_hash = header(parts.headers, "x-acs-content-sha256").unwrap_or_default();
        if payload_hash != sha256_hex(parts.body) {
            return Err(AuthFailure::new(
                400,
                "SignatureDoesNotMatch",
                "The x-acs-content-sha256 header does not match the SHA-256 of the request body.",
            ));
        }
        let credential = keyring.authorize(
            &auth.access_key_id,
            header(parts.headers, "x-acs-security-token"),
            now,
            false,
        )?;
        let signed = acs3::sign(
            parts.method,
            "/",
            parts.query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            parts.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &auth.signed_headers,
            payload_hash,
            &credential,
        );
        if !signatures_equal(&signed.signature, &auth.signature) {
            return Err(mismatch(signed.string_to_sign, auth.signature, &auth.access_key_id));
        }
        let nonce = header(parts.headers, "x-acs-signature-nonce").unwrap_or_default();
        if !nonces.insert(&auth.access_key_id, nonce, now, window) {
            return Err(AuthFailure::new(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        return Ok(RpcIdentity {
            access_key_id: auth.access_key_id,
            header_action: header(parts.headers, "x-acs-action").map(str::to_owned),
            header_version: header(parts.headers, "x-acs-version").map(str::to_owned),
        });
    }

    let all: Vec<(&str, &str)> =
        parts.query.iter().chain(parts.form.iter()).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let get = |name: &str| all.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let Some(provided) = get("Signature") else {
        return Err(AuthFailure::new(
            400,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards: no Authorization header and no Signature parameter.",
        ));
    };
    for required in ["AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"] {
        if get(required).is_none_or(str::is_empty) {
            return Err(AuthFailure::missing(required));
        }
    }
    if get("SignatureMethod") != Some(rpc::SIGNATURE_METHOD) {
        return Err(AuthFailure::new(400, "IncompleteSignature", "SignatureMethod must be HMAC-SHA1."));
    }
    if get("SignatureVersion") != Some(rpc::SIGNATURE_VERSION) {
        return Err(AuthFailure::new(400, "IncompleteSignature", "SignatureVersion must be 1.0."));
    }
    let time = get("Timestamp").and_then(parse_iso8601).ok_or_else(|| {
        AuthFailure::new(
            400,
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    })?;
    if !check_skew(time, now, max_skew_secs) {
        return Err(AuthFailure::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    let access_key_id = get("AccessKeyId").unwrap_or_default().to_owned();
    let credential = keyring.authorize(&access_key_id, get("SecurityToken"), now, false)?;
    let signed = rpc::sign(parts.method, all.iter().copied(), &credential.access_key_secret);
    if !signatures_equal(&signed.signature, provided) {
        return Err(mismatch(signed.string_to_sign, provided.to_owned(), &access_key_id));
    }
    if !nonces.insert(&access_key_id, get("SignatureNonce").unwrap_or_default(), now, window) {
        return Err(AuthFailure::new(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(RpcIdentity { access_key_id, header_action: None, header_version: None })
}

fn mismatch(string_to_sign: String, provided: String, access_key_id: &str) -> AuthFailure {
    let mut failure = AuthFailure::new(
        400,
        "SignatureDoesNotMatch",
        format!(
            "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
        ),
    );
    failure.string_to_sign = Some(string_to_sign);
    failure.signature_provided = Some(provided);
    failure.access_key_id = Some(access_key_id.to_owned());
    failure
}

/// The parts of an OSS request that authentication looks at (bucket and key decoded).
#[derive(Clone, Copy, Debug)]
pub struct OssParts<'a> {
    pub method: &'a str,
    pub bucket: Option<&'a str>,
    pub key: &'a str,
    pub query: &'a [(String, String)],
    pub headers: &'a [(String, String)],
}

fn oss_mismatch(string_to_sign: String, provided: String, access_key_id: &str) -> AuthFailure {
    let mut failure = AuthFailure::new(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
    failure.string_to_sign = Some(string_to_sign);
    failure.signature_provided = Some(provided);
    failure.access_key_id = Some(access_key_id.to_owned());
    failure
}

fn skewed() -> AuthFailure {
    AuthFailure::new(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
    )
}

/// Verify an OSS request: V1 or V4, header or presigned URL. Returns the AccessKey id.
pub fn verify_oss(
    parts: OssParts<'_>,
    keyring: &Keyring,
    now: DateTime<Utc>,
    max_skew_secs: i64,
) -> Result<String, AuthFailure> {
    let query = |name: &str| parts.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let headers = || parts.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let authorization = header(parts.headers, "authorization").unwrap_or_default();

    if let Some((id, provided)) = oss_v1::parse_authorization(authorization) {
        let date = header(parts.headers, "date").unwrap_or_default();
        let time = DateTime::parse_from_rfc2822(date).map_err(|_| {
            AuthFailure::new(403, "AccessDenied", "The Date header is missing or not in RFC 1123 format.")
        })?;
        if !check_skew(time.with_timezone(&Utc), now, max_skew_secs) {
            return Err(skewed());
        }
        let credential = keyring.authorize(&id, header(parts.headers, "x-oss-security-token"), now, true)?;
        let q = parts.query.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let signed = oss_v1::sign(parts.method, parts.bucket, parts.key, q, headers(), &credential);
        if !signatures_equal(&signed.signature, &provided) {
            return Err(oss_mismatch(signed.string_to_sign, provided, &id));
        }
        return Ok(id);
    }

    if let Some(auth) = oss_v4::parse_authorization(authorization) {
        let date = header(parts.headers, "x-oss-date").unwrap_or_default();
        let time = NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
            .map_err(|_| {
                AuthFailure::new(403, "AccessDenied", "The x-oss-date header is missing or malformed.")
            })?
            .and_utc();
        if !check_skew(time, now, max_skew_secs) {
            return Err(skewed());
        }
        if !date.starts_with(&auth.day) {
            return Err(AuthFailure::new(
                403,
                "AccessDenied",
                "The credential scope date does not match x-oss-date.",
            ));
        }
        let credential = keyring.authorize(
            &auth.access_key_id,
            header(parts.headers, "x-oss-security-token"),
            now,
            true,
        )?;
        let request = oss_v4::OssV4Request {
            verb: parts.method,
            bucket: parts.bucket,
            key: parts.key,
            query: parts.query,
            headers: parts.headers,
            additional_headers: &auth.additional_headers,
            region: &auth.region,
        };
        let signed = oss_v4::sign(&request, &credential);
        if !signatures_equal(&signed.signature, &auth.signature) {
            return Err(oss_mismatch(signed.string_to_sign, auth.signature, &auth.access_key_id));
        }
        return Ok(auth.access_key_id);
    }

    if let (Some(id), Some(expires), Some(provided)) =
        (query("OSSAccessKeyId"), query("Expires"), query("Signature"))
    {
        let expires_at: i64 = expires
            .parse()
            .map_err(|_| AuthFailure::new(403, "AccessDenied", "The Expires parameter is not a number."))?;
        if expires_at < now.timestamp() {
            return Err(AuthFailure::new(403, "AccessDenied", "Request has expired."));
        }
        let credential = keyring.authorize(id, query("security-token"), now, true)?;
        let signed_query: Vec<(&str, &str)> = parts
            .query
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "OSSAccessKeyId" | "Expires" | "Signature"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let sts = oss_v1::string_to_sign(
            parts.method,
            header(parts.headers, "content-md5").unwrap_or_default(),
            header(parts.headers, "content-type").unwrap_or_default(),
            expires,
            &oss_v1::canonicalized_oss_headers(headers()),
            &oss_v1::canonicalized_resource(parts.bucket, parts.key, signed_query),
        );
        let expected = oss_v1::signature(&credential.access_key_secret, &sts);
        if !signatures_equal(&expected, provided) {
            return Err(oss_mismatch(sts, provided.to_owned(), id));
        }
        return Ok(id.to_owned());
    }

    if query("x-oss-signature-version") == Some(oss_v4::ALGORITHM) {
        let credential_scope = query("x-oss-credential").unwrap_or_default();
        let mut scope = credential_scope.split('/');
        let (Some(id), Some(day), Some(region)) = (scope.next(), scope.next(), scope.next()) else {
            return Err(AuthFailure::new(403, "AccessDenied", "x-oss-credential is malformed."));
        };
        let date = query("x-oss-date").unwrap_or_default();
        let time = NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
            .map_err(|_| AuthFailure::new(403, "AccessDenied", "x-oss-date is malformed."))?
            .and_utc();
        // OSS caps presigned V4 URLs at 7 days; anything else is refused, never overflowed.
        let lifetime: i64 = match query("x-oss-expires").and_then(|e| e.parse().ok()) {
            Some(secs @ 1..=604_800) => secs,
            _ => {
                return Err(AuthFailure::new(
                    403,
                    "AccessDenied",
                    "x-oss-expires must be 1 to 604800 seconds.",
                ));
            }
        };
        if time + chrono::Duration::seconds(lifetime) < now {
            return Err(AuthFailure::new(403, "AccessDenied", "Request has expired."));
        }
        let credential = keyring.authorize(id, query("x-oss-security-token"), now, true)?;
        let provided = query("x-oss-signature").unwrap_or_default();
        let signed_query: Vec<(String, String)> =
            parts.query.iter().filter(|(k, _)| k != "x-oss-signature").cloned().collect();
        let additional: Vec<String> = query("x-oss-additional-headers")
            .map(|h| h.split(';').map(str::to_owned).collect())
            .unwrap_or_default();
        let (canonical_headers, additional_names) = oss_v4::canonical_headers(headers(), &additional);
        let canonical_request = oss_v4::canonical_request(
            parts.method,
            &oss_v4::canonical_uri(parts.bucket, parts.key),
            &oss_v4::canonical_query(signed_query.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
            &canonical_headers,
            &additional_names,
            oss_v4::UNSIGNED_PAYLOAD,
        );
        let sts = oss_v4::string_to_sign(date, &oss_v4::scope(day, region), &canonical_request);
        let expected =
            oss_v4::signature(&oss_v4::signing_key(&credential.access_key_secret, day, region), &sts);
        if !signatures_equal(&expected, provided) {
            return Err(oss_mismatch(sts, provided.to_owned(), id));
        }
        return Ok(id.to_owned());
    }

    Err(AuthFailure::new(403, "AccessDenied", "Anonymous access is forbidden for this operation."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::new(vec![Credential::new("ak", "sk")], Vec::new())
    }

    #[test]
    fn absurd_numbers_from_requests_or_flags_do_not_panic() {
        let now = Utc::now();
        let query: Vec<(String, String)> = [
            ("x-oss-signature-version", oss_v4::ALGORITHM),
            ("x-oss-credential", "ak/20231216/cn-hangzhou/oss/aliyun_v4_request"),
            ("x-oss-date", "20231216T162057Z"),
            ("x-oss-expires", "9223372036854775807"),
            ("x-oss-signature", "00"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let parts = OssParts { method: "GET", bucket: Some("b"), key: "k", query: &query, headers: &[] };
        let failure = verify_oss(parts, &keyring(), now, 900).unwrap_err();
        assert_eq!((failure.code, failure.message.contains("604800")), ("AccessDenied", true));
        let rpc_parts = RpcParts { method: "GET", query: &[], form: &[], headers: &[], body: b"" };
        let failure =
            verify_rpc(rpc_parts, &keyring(), &mut NonceCache::default(), now, i64::MAX, true).unwrap_err();
        assert_eq!(failure.code, "IncompleteSignature");
    }

    #[test]
    fn nonces_are_remembered_within_the_window_only() {
        let mut cache = NonceCache::default();
        let now = Utc::now();
        let window = chrono::Duration::minutes(15);
        assert!(cache.insert("ak", "n1", now, window));
        assert!(!cache.insert("ak", "n1", now + chrono::Duration::minutes(1), window));
        assert!(cache.insert("other", "n1", now, window), "per AccessKey");
        assert!(cache.insert("ak", "n1", now + chrono::Duration::minutes(16), window));
    }
}
