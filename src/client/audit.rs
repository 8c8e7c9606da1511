//! The hook every mutating call reports to (the audit log lives in the jobs layer): what was
//! asked — parameters with secrets masked — and what came back.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protocol::params::Params;

/// How a mutating call ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result")]
pub enum AuditOutcome {
    Success,
    /// The service's error code, or `Network` / `Client` for failures before an answer.
    Error {
        code: String,
        message: String,
    },
}

/// One mutating call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub time: DateTime<Utc>,
    pub profile: String,
    pub product: String,
    pub region: String,
    pub action: String,
    /// Wire parameters, secrets masked as `***`.
    pub params: BTreeMap<String, String>,
    pub request_id: Option<String>,
    #[serde(flatten)]
    pub outcome: AuditOutcome,
}

/// Where audit entries go. Recording must not fail the call it records, so errors are the
/// sink's to report (it logs them).
pub trait AuditSink: Send + Sync + fmt::Debug {
    fn record(&self, entry: AuditEntry);
}

/// Reads (`Describe…`, `List…`, `Get…`, `Query…`, `Check…`) change nothing; every other action does.
pub fn is_mutating(action: &str) -> bool {
    !["Describe", "List", "Get", "Query", "Check"].iter().any(|prefix| action.starts_with(prefix))
}

/// Parameter names whose values are never recorded.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["password", "secret", "securitytoken", "token", "credential", "privatekey"]
        .iter()
        .any(|word| lower.contains(word))
        // ClientToken is an idempotency key, not a credential, and worth keeping.
        && lower != "clienttoken"
}

/// The parameters as they may be written down. JSON-valued parameters (E-HPC `ContainerImageSpec`
/// carries a registry password) have their secret members masked too.
pub fn redact(params: &Params) -> BTreeMap<String, String> {
    params
        .iter()
        .map(|(name, value)| {
            let shown = if is_secret_name(name) {
                "***".to_owned()
            } else if value.trim_start().starts_with('{') || value.trim_start().starts_with('[') {
                redact_json(value)
            } else {
                value.to_owned()
            };
            (name.to_owned(), shown)
        })
        .collect()
}

fn redact_json(text: &str) -> String {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, member) in map.iter_mut() {
                    if is_secret_name(key) {
                        *member = serde_json::Value::String("***".into());
                    } else {
                        walk(member);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            walk(&mut value);
            value.to_string()
        }
        // Not JSON after all: keep it only if nothing in it looks secret.
        Err(_) if text.to_ascii_lowercase().contains("password") => "***".into(),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_audited_writes_are() {
        for read in ["DescribeImages", "ListImages", "GetImage", "DescribeRegions"] {
            assert!(!is_mutating(read), "{read}");
        }
        for write in
            ["ImportImage", "AddImage", "RemoveImage", "ModifyImageAttribute", "AssumeRole", "DeleteImage"]
        {
            assert!(is_mutating(write), "{write}");
        }
    }

    #[test]
    fn secrets_are_masked_even_inside_json_parameters() {
        let params = Params::from_pairs([
            ("ImageName", "web"),
            ("ClientToken", "abc123"),
            ("SecurityToken", "tok-value"),
            (
                "ContainerImageSpec",
                r#"{"RegistryUrl":"r.example/x:1","RegistryCredential":{"Server":"r","UserName":"u","Password":"hunter2-registry"}}"#,
            ),
        ]);
        let shown = redact(&params);
        assert_eq!(shown["ImageName"], "web");
        assert_eq!(shown["ClientToken"], "abc123", "the idempotency key stays");
        assert_eq!(shown["SecurityToken"], "***");
        assert!(!shown["ContainerImageSpec"].contains("hunter2-registry"));
        assert!(shown["ContainerImageSpec"].contains("r.example/x:1"));
    }
}
