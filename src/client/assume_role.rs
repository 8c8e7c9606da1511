//! RamRoleArn profiles: temporary credentials from STS AssumeRole, signed with the profile's
//! AccessKey, fetched on first use and renewed before they expire (and again if a server says
//! they did).

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::Client;
use super::credentials::{CredentialError, CredentialProvider, RefreshFuture};
use crate::protocol::ops::sts::AssumeRole;
use crate::secret::Credential;

/// Renew this long before the expiry STS announced.
pub const RENEW_AHEAD_SECS: i64 = 5 * 60;

/// Credentials of an assumed RAM role.
#[derive(Debug)]
pub struct AssumeRoleProvider {
    /// A client signing with the long-term AccessKey, used only for AssumeRole.
    sts: Client,
    request: AssumeRole,
    current: Mutex<Option<(Credential, DateTime<Utc>)>>,
}

impl AssumeRoleProvider {
    pub fn new(sts: Client, request: AssumeRole) -> Self {
        Self { sts, request, current: Mutex::new(None) }
    }

    fn cached(&self) -> Option<(Credential, DateTime<Utc>)> {
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    async fn assume(&self) -> Result<Credential, CredentialError> {
        let answer = self.sts.call(self.request.clone()).await.map_err(|e| {
            CredentialError::RefreshFailed(format!("AssumeRole {}: {e}", self.request.role_arn))
        })?;
        let fresh = answer.credentials;
        let expires =
            DateTime::parse_from_rfc3339(&fresh.expiration).map(|t| t.with_timezone(&Utc)).map_err(|e| {
                CredentialError::RefreshFailed(format!("AssumeRole returned an unreadable expiry: {e}"))
            })?;
        let credential = Credential::new(fresh.access_key_id, fresh.access_key_secret)
            .with_security_token(fresh.security_token);
        tracing::info!(role = %self.request.role_arn, %expires, "assumed the RAM role");
        *self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((credential.clone(), expires));
        Ok(credential)
    }
}

/// Whether a credential expiring at `expires` should be renewed at `now`.
pub fn due_for_renewal(expires: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    (expires - now).num_seconds() <= RENEW_AHEAD_SECS
}

impl CredentialProvider for AssumeRoleProvider {
    fn current(&self) -> Result<Credential, CredentialError> {
        self.cached().map(|(credential, _)| credential).ok_or(CredentialError::NeedsRefresh)
    }

    fn refresh(&self) -> RefreshFuture<'_> {
        Box::pin(self.assume())
    }

    fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.cached().map(|(_, expires)| expires)
    }

    fn renew_ahead(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_starts_five_minutes_ahead() {
        let expires = DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z").unwrap().with_timezone(&Utc);
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
        assert!(!due_for_renewal(expires, at("2026-11-23T11:50:00Z")));
        assert!(due_for_renewal(expires, at("2026-11-23T11:55:00Z")));
        assert!(due_for_renewal(expires, at("2026-11-23T12:30:00Z")));
    }
}
