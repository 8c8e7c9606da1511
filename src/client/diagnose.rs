//! "Test connection": one DescribeRegions call, and what its outcome means for the profile —
//! wrong key, wrong secret, disabled key, missing permission, clock skew, TLS or network trouble —
//! plus the clock difference with the server, measured from its `Date` header.

use chrono::{DateTime, Utc};

use super::{Client, ClientError, describe_reqwest};
use crate::protocol::Product;
use crate::protocol::ops::ecs::DescribeRegions;

/// What a failed (or successful) test means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Connected,
    /// No such AccessKey ID.
    UnknownAccessKey,
    /// The ID exists but the secret does not match (signature mismatch).
    WrongSecret,
    /// The key exists but is disabled.
    DisabledKey,
    /// The STS token is wrong or expired.
    BadSecurityToken,
    /// Authenticated, but not allowed to call the API.
    MissingPermission,
    /// The local clock is too far from the server's.
    ClockSkew,
    /// TLS failed: an unknown CA (private clouds need their CA certificate), a wrong host name.
    Tls,
    /// No answer: DNS, proxy, firewall, wrong endpoint.
    Network,
    Other,
}

/// The outcome of a connection test.
#[derive(Debug)]
pub struct ConnectionReport {
    pub verdict: Verdict,
    /// Regions the account can see (on success).
    pub regions: usize,
    /// Server clock minus local clock, seconds, when the server sent a `Date`.
    pub clock_skew_secs: Option<i64>,
    /// The underlying error, for the detail line.
    pub error: Option<String>,
}

/// The gateways refuse requests more than 15 minutes off.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// Classify a failed call.
pub fn classify(error: &ClientError) -> Verdict {
    match error {
        ClientError::Api(api) => {
            let code = api.code.as_str();
            match code {
                _ if code.starts_with("InvalidAccessKeyId.Inactive") => Verdict::DisabledKey,
                _ if code.starts_with("InvalidAccessKeyId") => Verdict::UnknownAccessKey,
                "SignatureDoesNotMatch" | "IncompleteSignature" | "InvalidSignature" => Verdict::WrongSecret,
                _ if code.starts_with("InvalidSecurityToken") => Verdict::BadSecurityToken,
                _ if code.starts_with("InvalidTimeStamp") || code == "RequestTimeTooSkewed" => {
                    Verdict::ClockSkew
                }
                _ if code.starts_with("Forbidden")
                    || code.starts_with("NoPermission")
                    || code == "UnauthorizedOperation" =>
                {
                    Verdict::MissingPermission
                }
                _ => Verdict::Other,
            }
        }
        ClientError::Transport { message, .. } => {
            let lower = message.to_lowercase();
            if ["certificate", "tls", "handshake", "unknownissuer", "x509"].iter().any(|m| lower.contains(m))
            {
                Verdict::Tls
            } else {
                Verdict::Network
            }
        }
        // RamRoleArn: AssumeRole failed; its message carries the STS error code.
        ClientError::Credentials(super::CredentialError::RefreshFailed(message)) => classify_code_in(message),
        _ => Verdict::Other,
    }
}

fn classify_code_in(message: &str) -> Verdict {
    let codes = [
        ("InvalidAccessKeyId.Inactive", Verdict::DisabledKey),
        ("InvalidAccessKeyId", Verdict::UnknownAccessKey),
        ("SignatureDoesNotMatch", Verdict::WrongSecret),
        ("InvalidSecurityToken", Verdict::BadSecurityToken),
        ("InvalidTimeStamp", Verdict::ClockSkew),
        ("EntityNotExist.Role", Verdict::MissingPermission),
        ("NoPermission", Verdict::MissingPermission),
        ("Forbidden", Verdict::MissingPermission),
    ];
    codes.iter().find(|(code, _)| message.contains(code)).map_or(Verdict::Other, |(_, verdict)| *verdict)
}

/// Server clock minus local clock, from an RFC 2822 `Date` header value.
pub fn skew_from_date(date: &str, local: DateTime<Utc>) -> Option<i64> {
    let server = DateTime::parse_from_rfc2822(date.trim()).ok()?.with_timezone(&Utc);
    Some((server - local).num_seconds())
}

impl Client {
    /// Ask the ECS endpoint for the time (an unsigned GET; any answer carries `Date`).
    pub async fn server_clock_skew(&self) -> Result<i64, String> {
        let endpoint = self
            .profile()
            .endpoint_for(Product::Ecs, Some(&self.profile().region_id))
            .map_err(|e| e.to_string())?;
        let response =
            self.inner.http.get(endpoint.url_for("/")).send().await.map_err(|e| describe_reqwest(&e))?;
        let date = super::header(response.headers(), "date").ok_or("the server sent no Date header")?;
        skew_from_date(&date, Utc::now()).ok_or_else(|| format!("unreadable Date header {date:?}"))
    }

    /// DescribeRegions with this profile's credentials, and the clock difference.
    pub async fn test_connection(&self) -> ConnectionReport {
        let skew = self.server_clock_skew().await.ok();
        match self.call(DescribeRegions::default()).await {
            Ok(answer) => ConnectionReport {
                verdict: Verdict::Connected,
                regions: answer.regions.len(),
                clock_skew_secs: skew,
                error: None,
            },
            Err(error) => ConnectionReport {
                verdict: classify(&error),
                regions: 0,
                clock_skew_secs: skew,
                error: Some(error.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::error::{ApiError, Service};

    fn api(code: &str) -> ClientError {
        ClientError::Api(Box::new(ApiError::new(Service::Pop, 400, code, "message")))
    }

    #[test]
    fn service_codes_become_verdicts() {
        assert_eq!(classify(&api("InvalidAccessKeyId.NotFound")), Verdict::UnknownAccessKey);
        assert_eq!(classify(&api("InvalidAccessKeyId.Inactive")), Verdict::DisabledKey);
        assert_eq!(classify(&api("SignatureDoesNotMatch")), Verdict::WrongSecret);
        assert_eq!(classify(&api("InvalidSecurityToken.Expired")), Verdict::BadSecurityToken);
        assert_eq!(classify(&api("InvalidTimeStamp.Expired")), Verdict::ClockSkew);
        assert_eq!(classify(&api("Forbidden.RAM")), Verdict::MissingPermission);
        assert_eq!(classify(&api("NoPermission")), Verdict::MissingPermission);
        assert_eq!(classify(&api("Throttling")), Verdict::Other);
    }

    #[test]
    fn transport_failures_split_tls_from_network() {
        let transport = |message: &str| ClientError::Transport {
            action: "DescribeRegions".into(),
            host: "ecs.example".into(),
            message: message.into(),
        };
        assert_eq!(
            classify(&transport("error sending request: invalid peer certificate: UnknownIssuer")),
            Verdict::Tls
        );
        assert_eq!(classify(&transport("dns error: failed to lookup address")), Verdict::Network);
    }

    #[test]
    fn clock_skew_is_read_from_the_date_header() {
        let local = DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(skew_from_date("Mon, 23 Nov 2026 10:20:00 GMT", local), Some(1200));
        assert_eq!(skew_from_date("Mon, 23 Nov 2026 09:59:30 GMT", local), Some(-30));
        assert_eq!(skew_from_date("yesterday", local), None);
    }
}
