//! Layer 2 (beside [`crate::client`]) — profile records and credential import.
//!
//! [`import`] finds the credentials operators already have (aliyun CLI config, environment
//! variables, the SDKs' credentials file) and reports them for the user to pick from. Storing the
//! chosen secrets (OS keychain) is not done here.

pub mod import;

pub use import::{
    CredentialMode, ImportError, ImportScan, ImportSource, ImportedProfile, default_locations,
    from_environment, parse_aliyun_cli_config, parse_credentials_file, read_all,
};
