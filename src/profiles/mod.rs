//! Layer 2 (beside [`crate::client`]) — profiles: their records, their secrets, and credential
//! import.
//!
//! - [`config`]: what a profile is, minus its secrets, saved in the OS config dir;
//! - [`keychain`]: where the secrets live — only the OS keychain (Secret Service, else kernel
//!   keyutils), or memory for a session-only profile when no keychain is available;
//! - [`import`]: the credentials operators already have (aliyun CLI config, environment
//!   variables, the SDKs' credentials file), reported for the user to pick from;
//! - [`validate`]: the profile form's inline checks.

pub mod config;
pub mod import;
pub mod keychain;
pub mod validate;

pub use config::{CredentialSpec, ProfileKind, ProfileRecord, ProfilesFile};
pub use import::{
    CredentialMode, ImportError, ImportScan, ImportSource, ImportedProfile, default_locations,
    from_environment, parse_aliyun_cli_config, parse_credentials_file, read_all,
};
pub use keychain::{Keychain, KeychainError, SecretKind, SecretStore, SessionStore, SystemKeychain};
