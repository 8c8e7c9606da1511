//! STS AssumeRole: temporary credentials of a RAM role, for RamRoleArn profiles.

use serde::{Deserialize, Serialize};

use super::RpcOperation;
use crate::protocol::Product;
use crate::protocol::de;

/// AssumeRole (STS 2015-04-01).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssumeRole {
    /// `acs:ram::<account id>:role/<role name>`.
    pub role_arn: String,
    /// 2–64 of letters, digits, `.`, `@`, `-`, `_`; shows in the audit trail.
    pub role_session_name: String,
    /// 900 s up to the role's maximum session duration (3600 s by default).
    pub duration_seconds: Option<u32>,
    /// A policy narrowing what the session may do.
    pub policy: Option<String>,
    pub external_id: Option<String>,
}

/// The temporary credentials.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct StsCredentials {
    #[serde(deserialize_with = "de::string")]
    pub access_key_id: String,
    /// A secret: kept only long enough to become a [`crate::Credential`].
    #[serde(skip_serializing, deserialize_with = "de::string")]
    pub access_key_secret: String,
    #[serde(deserialize_with = "de::string")]
    pub security_token: String,
    /// RFC 3339 UTC, e.g. `2026-11-23T12:00:00Z`.
    #[serde(deserialize_with = "de::string")]
    pub expiration: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AssumedRoleUser {
    #[serde(deserialize_with = "de::string")]
    pub arn: String,
    #[serde(deserialize_with = "de::string")]
    pub assumed_role_id: String,
}

#[derive(Clone, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AssumeRoleResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    pub credentials: StsCredentials,
    pub assumed_role_user: AssumedRoleUser,
}

/// The secret and token never reach logs through `Debug`.
impl std::fmt::Debug for AssumeRoleResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssumeRoleResponse")
            .field("request_id", &self.request_id)
            .field("access_key_id", &self.credentials.access_key_id)
            .field("expiration", &self.credentials.expiration)
            .field("assumed_role_user", &self.assumed_role_user)
            .finish_non_exhaustive()
    }
}

impl RpcOperation for AssumeRole {
    const PRODUCT: Product = Product::Sts;
    const ACTION: &'static str = "AssumeRole";
    type Response = AssumeRoleResponse;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::params::to_params;

    #[test]
    fn assume_role_wire_names_and_response() {
        let request = AssumeRole {
            role_arn: "acs:ram::123:role/admin".into(),
            role_session_name: "imagedesk".into(),
            duration_seconds: Some(900),
            ..Default::default()
        };
        let params = to_params(&request).unwrap();
        assert_eq!(params.get("RoleArn"), Some("acs:ram::123:role/admin"));
        assert_eq!(params.get("RoleSessionName"), Some("imagedesk"));
        assert_eq!(params.get("DurationSeconds"), Some("900"));
        assert_eq!(params.get("Policy"), None);
        let body = r#"{"RequestId":"r","AssumedRoleUser":{"Arn":"acs:ram::123:role/admin/imagedesk","AssumedRoleId":"3:imagedesk"},
            "Credentials":{"AccessKeyId":"STS.abc","AccessKeySecret":"s3cr3t-value","SecurityToken":"tok","Expiration":"2026-11-23T12:00:00Z"}}"#;
        let answer: AssumeRoleResponse = serde_json::from_str(body).unwrap();
        assert_eq!(answer.credentials.access_key_id, "STS.abc");
        assert_eq!(answer.credentials.expiration, "2026-11-23T12:00:00Z");
        assert!(!format!("{answer:?}").contains("s3cr3t-value"));
    }
}
