//! Where the client gets its AccessKey (and STS token) for each attempt.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::secret::Credential;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("no credentials are configured for this profile")]
    Missing,
    #[error("these credentials cannot be refreshed; sign in again with a new AccessKey or STS token")]
    NotRefreshable,
    #[error("refreshing credentials failed: {0}")]
    RefreshFailed(String),
    /// Temporary credentials not fetched yet: `refresh` first.
    #[error("temporary credentials have not been fetched yet")]
    NeedsRefresh,
}

pub type RefreshFuture<'a> = Pin<Box<dyn Future<Output = Result<Credential, CredentialError>> + Send + 'a>>;

/// A source of credentials. `current` is called for every attempt (cheap); `refresh` when the
/// server says an STS token expired, or before it expires during long jobs.
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    fn current(&self) -> Result<Credential, CredentialError>;
    fn refresh(&self) -> RefreshFuture<'_> {
        Box::pin(async { Err(CredentialError::NotRefreshable) })
    }
    /// When the current credential stops working (STS tokens), if known: long jobs call
    /// `refresh` a few minutes before. `None` = never expires, or unknown.
    fn expires_at(&self) -> Option<DateTime<Utc>> {
        None
    }
    /// Whether every call should renew these credentials once they are close to `expires_at`
    /// (AssumeRole); other sources leave that to long jobs, which pace their own renewals.
    fn renew_ahead(&self) -> bool {
        false
    }
}

/// Fixed credentials (an AccessKey pair, or an STS token that is not renewed).
#[derive(Clone, Debug)]
pub struct StaticCredentials(Arc<Mutex<Credential>>);

impl StaticCredentials {
    pub fn new(credential: Credential) -> Self {
        Self(Arc::new(Mutex::new(credential)))
    }

    /// Replace the stored credential (e.g. the user entered a new key).
    pub fn set(&self, credential: Credential) {
        match self.0.lock() {
            Ok(mut guard) => *guard = credential,
            Err(poisoned) => *poisoned.into_inner() = credential,
        }
    }
}

impl CredentialProvider for StaticCredentials {
    fn current(&self) -> Result<Credential, CredentialError> {
        match self.0.lock() {
            Ok(guard) => Ok(guard.clone()),
            Err(poisoned) => Ok(poisoned.into_inner().clone()),
        }
    }
}
