//! Profile records: everything about a profile except its secrets, kept in
//! `$XDG_CONFIG_HOME/imagedesk/profiles.json` (written atomically). The secrets are in the
//! keychain under the profile's name ([`super::keychain`]); nothing here can hold one — there is
//! no secret field to fill.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::client::Profile;

/// Which cloud a profile talks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileKind {
    #[default]
    AlibabaCloud,
    ApsaraStack,
    Sandbox,
}

/// How a profile authenticates, minus the secrets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode")]
pub enum CredentialSpec {
    /// AccessKey ID here; the secret in the keychain.
    AccessKey { access_key_id: String },
    /// STS AccessKey ID (`STS.…`) here; secret and security token in the keychain.
    StsToken { access_key_id: String },
    /// AssumeRole with the AccessKey (secret in the keychain), refreshed before expiry.
    RamRoleArn {
        access_key_id: String,
        role_arn: String,
        session_name: String,
        /// 900–43200 s.
        duration_secs: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        policy: Option<String>,
    },
    /// The RAM role attached to the ECS instance ImageDesk runs on (metadata service).
    EcsRamRole { role_name: String },
}

impl CredentialSpec {
    /// Whether the profile keeps an AccessKey secret in the keychain.
    pub fn needs_secret(&self) -> bool {
        !matches!(self, Self::EcsRamRole { .. })
    }

    /// Whether the profile keeps an STS security token in the keychain.
    pub fn needs_token(&self) -> bool {
        matches!(self, Self::StsToken { .. })
    }
}

/// One profile as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRecord {
    pub kind: ProfileKind,
    pub credential: CredentialSpec,
    /// Name, default region, endpoints, request style (Apsara tenancy), signatures, timeouts.
    pub connection: Profile,
    /// A PEM file of extra CA certificates (private clouds with their own CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<PathBuf>,
}

impl ProfileRecord {
    pub fn name(&self) -> &str {
        &self.connection.name
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfilesFile {
    pub profiles: Vec<ProfileRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} is not a valid profiles file (line {line}, column {column}): {reason}; it was left untouched"
    )]
    Parse { path: PathBuf, line: usize, column: usize, reason: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// `$XDG_CONFIG_HOME/imagedesk/profiles.json` (else `~/.config/imagedesk/profiles.json`).
pub fn default_path(get: impl Fn(&str) -> Option<String>) -> PathBuf {
    crate::paths::config_dir(get).join("profiles.json")
}

impl ProfilesFile {
    /// A missing file is an empty list; an unreadable one is an error (never silently replaced).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(ConfigError::Read { path: path.to_owned(), source }),
        };
        serde_json::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })
    }

    /// Write to a temporary file beside `path`, then rename over it (a crash never leaves half a
    /// file); the directory is created if needed.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let write_err = |source| ConfigError::Write { path: path.to_owned(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(write_err)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| write_err(std::io::Error::other(e)))?;
        let temp = path.with_extension("json.tmp");
        std::fs::write(&temp, text).map_err(write_err)?;
        std::fs::rename(&temp, path).map_err(write_err)
    }

    pub fn get(&self, name: &str) -> Option<&ProfileRecord> {
        self.profiles.iter().find(|p| p.name() == name)
    }

    /// Add or replace by name.
    pub fn upsert(&mut self, record: ProfileRecord) {
        match self.profiles.iter_mut().find(|p| p.name() == record.name()) {
            Some(existing) => *existing = record,
            None => self.profiles.push(record),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<ProfileRecord> {
        let index = self.profiles.iter().position(|p| p.name() == name)?;
        Some(self.profiles.remove(index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str) -> ProfileRecord {
        ProfileRecord {
            kind: ProfileKind::AlibabaCloud,
            credential: CredentialSpec::RamRoleArn {
                access_key_id: "LTAI5tExampleExample01".into(),
                role_arn: "acs:ram::1234567890123456:role/image-admin".into(),
                session_name: "imagedesk".into(),
                duration_secs: 3600,
                external_id: None,
                policy: None,
            },
            connection: Profile::new(name, "cn-hangzhou"),
            ca_certificate: None,
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("imagedesk-config-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn profiles_round_trip_through_the_file_atomically() {
        let dir = scratch("roundtrip");
        let path = dir.join("imagedesk").join("profiles.json");
        assert_eq!(ProfilesFile::load(&path).unwrap(), ProfilesFile::default(), "missing = empty");
        let mut file = ProfilesFile::default();
        file.upsert(record("prod"));
        file.upsert(record("test"));
        let mut changed = record("prod");
        changed.connection.region_id = "cn-beijing".into();
        file.upsert(changed);
        file.save(&path).unwrap();
        let loaded = ProfilesFile::load(&path).unwrap();
        assert_eq!(loaded, file);
        assert_eq!(loaded.get("prod").unwrap().connection.region_id, "cn-beijing");
        assert_eq!(loaded.profiles.len(), 2);
        assert!(!path.with_extension("json.tmp").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_broken_file_is_reported_with_its_position_and_left_alone() {
        let dir = scratch("broken");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("profiles.json");
        std::fs::write(&path, "{\n  \"profiles\": [ oops ]\n}").unwrap();
        let error = ProfilesFile::load(&path).unwrap_err();
        assert!(matches!(error, ConfigError::Parse { line: 2, .. }), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\n  \"profiles\": [ oops ]\n}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_default_path_follows_xdg() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        assert_eq!(default_path(env(&[("XDG_CONFIG_HOME", "/x")])), Path::new("/x/imagedesk/profiles.json"));
        assert_eq!(default_path(env(&[("HOME", "/h")])), Path::new("/h/.config/imagedesk/profiles.json"));
    }

    #[test]
    fn which_secrets_a_mode_keeps() {
        assert!(record("a").credential.needs_secret() && !record("a").credential.needs_token());
        let sts = CredentialSpec::StsToken { access_key_id: "STS.x".into() };
        assert!(sts.needs_secret() && sts.needs_token());
        assert!(!CredentialSpec::EcsRamRole { role_name: "r".into() }.needs_secret());
    }
}
