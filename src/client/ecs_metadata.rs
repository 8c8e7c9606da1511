//! EcsRamRole profiles: the temporary credentials of the RAM role attached to the ECS instance
//! ImageDesk runs on, from the instance metadata service (hardened mode: a session token first,
//! falling back to the plain mode when the service does not offer tokens).

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::credentials::{CredentialError, CredentialProvider, RefreshFuture};
use crate::secret::Credential;

/// The metadata service every ECS instance reaches.
pub const METADATA_URL: &str = "http://100.100.100.200";

const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TOKEN_PATH: &str = "/latest/api/token";
const TOKEN_TTL_HEADER: &str = "X-aliyun-ecs-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "X-aliyun-ecs-metadata-token";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataCredentials {
    #[serde(default)]
    code: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    security_token: String,
    #[serde(default)]
    expiration: String,
}

/// Credentials of the instance's RAM role.
#[derive(Debug)]
pub struct EcsRoleProvider {
    base_url: String,
    /// Empty: ask the service which role is attached.
    role_name: String,
    http: reqwest::Client,
    current: Mutex<Option<(Credential, DateTime<Utc>)>>,
}

impl EcsRoleProvider {
    pub fn new(base_url: impl Into<String>, role_name: impl Into<String>) -> Result<Self, CredentialError> {
        let http = reqwest::Client::builder()
            // The service is link-local: an instance answers at once, anything else never will.
            .connect_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| CredentialError::RefreshFailed(e.to_string()))?;
        Ok(Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            role_name: role_name.into(),
            http,
            current: Mutex::new(None),
        })
    }

    fn cached(&self) -> Option<(Credential, DateTime<Utc>)> {
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Result<String, CredentialError> {
        let mut request = self.http.get(format!("{}{path}", self.base_url));
        if let Some(token) = token {
            request = request.header(TOKEN_HEADER, token);
        }
        let fail = |e: String| {
            CredentialError::RefreshFailed(format!(
                "the ECS metadata service ({}) {e}; is ImageDesk running on an ECS instance with a RAM role?",
                self.base_url
            ))
        };
        let response = request.send().await.map_err(|e| fail(format!("did not answer: {e}")))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| fail(format!("broke off: {e}")))?;
        if !status.is_success() {
            return Err(fail(format!("answered HTTP {status} for {path}")));
        }
        Ok(body)
    }

    /// Hardened mode's session token, or `None` where the service has no token endpoint.
    async fn session_token(&self) -> Option<String> {
        let response = self
            .http
            .put(format!("{}{TOKEN_PATH}", self.base_url))
            .header(TOKEN_TTL_HEADER, "21600")
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.text().await.ok().filter(|t| !t.trim().is_empty())
    }

    async fn fetch(&self) -> Result<Credential, CredentialError> {
        let token = self.session_token().await;
        let token = token.as_deref();
        let role = if self.role_name.is_empty() {
            let listed = self.get(CREDENTIALS_PATH, token).await?;
            listed.lines().next().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).ok_or_else(
                || CredentialError::RefreshFailed("no RAM role is attached to this ECS instance".into()),
            )?
        } else {
            self.role_name.clone()
        };
        let body = self.get(&format!("{CREDENTIALS_PATH}{role}"), token).await?;
        let answer: MetadataCredentials = serde_json::from_str(&body).map_err(|e| {
            CredentialError::RefreshFailed(format!(
                "the metadata service sent unreadable credentials for role {role}: {e}"
            ))
        })?;
        if !answer.code.is_empty() && answer.code != "Success" {
            return Err(CredentialError::RefreshFailed(format!(
                "the metadata service said {} for role {role}",
                answer.code
            )));
        }
        let expires =
            DateTime::parse_from_rfc3339(&answer.expiration).map(|t| t.with_timezone(&Utc)).map_err(|e| {
                CredentialError::RefreshFailed(format!("unreadable expiry from the metadata service: {e}"))
            })?;
        let credential = Credential::new(answer.access_key_id, answer.access_key_secret)
            .with_security_token(answer.security_token);
        *self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((credential.clone(), expires));
        Ok(credential)
    }
}

impl CredentialProvider for EcsRoleProvider {
    fn current(&self) -> Result<Credential, CredentialError> {
        self.cached().map(|(credential, _)| credential).ok_or(CredentialError::NeedsRefresh)
    }

    fn refresh(&self) -> RefreshFuture<'_> {
        Box::pin(self.fetch())
    }

    fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.cached().map(|(_, expires)| expires)
    }

    fn renew_ahead(&self) -> bool {
        true
    }
}
