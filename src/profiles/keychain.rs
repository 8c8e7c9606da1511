//! Where profile secrets live: only in the OS keychain (Secret Service on Linux, with the kernel
//! keyutils store as the fallback), or — when no keychain is available and the user agrees — in
//! memory for this session. Never in a file.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry, Error as StoreError};

use crate::secret::Secret;

/// The keychain "service" every ImageDesk entry is filed under.
pub const SERVICE: &str = "ImageDesk";

#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// No keychain could be reached (no Secret Service, no keyutils): offer a session-only profile.
    #[error("no keychain is available: {0}")]
    Unavailable(String),
    /// The keychain exists but refused (locked, or access denied).
    #[error("the keychain refused access: {0}")]
    Refused(String),
    #[error("keychain error: {0}")]
    Other(String),
}

impl KeychainError {
    /// The cause alone, without the kind's preamble.
    pub fn detail(&self) -> &str {
        match self {
            Self::Unavailable(detail) | Self::Refused(detail) | Self::Other(detail) => detail,
        }
    }

    fn from_store(error: StoreError) -> Self {
        match error {
            StoreError::NoStorageAccess(e) => Self::Refused(e.to_string()),
            StoreError::PlatformFailure(e) => Self::Unavailable(e.to_string()),
            other => Self::Other(other.to_string()),
        }
    }
}

/// Which secret of a profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretKind {
    AccessKeySecret,
    SecurityToken,
}

impl SecretKind {
    /// The keychain account name: `<profile>/<kind>`.
    fn account(self, profile: &str) -> String {
        let kind = match self {
            Self::AccessKeySecret => "access-key-secret",
            Self::SecurityToken => "security-token",
        };
        format!("{profile}/{kind}")
    }
}

/// A place for profile secrets.
pub trait SecretStore: Send + Sync + fmt::Debug {
    /// What it is, for the UI ("Secret Service", "kernel keyutils", "this session only").
    fn backend(&self) -> &str;
    /// Whether secrets survive the end of the session.
    fn persistent(&self) -> bool;
    /// Store or replace.
    fn put(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), KeychainError>;
    /// `None` when there is no such secret.
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, KeychainError>;
    /// Remove; a missing secret is not an error.
    fn delete(&self, profile: &str, kind: SecretKind) -> Result<(), KeychainError>;
    /// Why the OS keychain is not in use, if it is not (the UI says so).
    fn problem(&self) -> Option<String> {
        None
    }
}

/// The OS keychain, opened on a background thread at start-up (probing D-Bus takes tens of
/// milliseconds, too long for the first frame); falls back to [`SessionStore`] when no keychain
/// answers, and says why. Calls before it is open wait for it (they run on worker threads).
pub struct SystemKeychain {
    state: std::sync::OnceLock<(Box<dyn SecretStore>, Option<String>)>,
}

impl fmt::Debug for SystemKeychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemKeychain").field("backend", &self.backend()).finish()
    }
}

impl SystemKeychain {
    pub fn open_in_background() -> Arc<Self> {
        let keychain = Arc::new(Self { state: std::sync::OnceLock::new() });
        let opening = Arc::clone(&keychain);
        let spawned = std::thread::Builder::new().name("imagedesk-keychain".into()).spawn(move || {
            opening.settle(Keychain::open_system());
        });
        if let Err(e) = spawned {
            keychain
                .settle(Err(KeychainError::Unavailable(format!("cannot start the keychain thread: {e}"))));
        }
        keychain
    }

    fn settle(&self, opened: Result<Keychain, KeychainError>) {
        let state: (Box<dyn SecretStore>, Option<String>) = match opened {
            Ok(keychain) => (Box::new(keychain), None),
            Err(e) => {
                tracing::warn!("{e}; profile secrets are kept for this session only");
                (Box::new(SessionStore::default()), Some(e.detail().to_owned()))
            }
        };
        let _ = self.state.set(state);
    }

    fn store(&self) -> &dyn SecretStore {
        self.state.wait().0.as_ref()
    }
}

impl SecretStore for SystemKeychain {
    fn backend(&self) -> &str {
        self.state.get().map_or("OS keychain (opening…)", |(store, _)| store.backend())
    }

    fn persistent(&self) -> bool {
        self.state.get().is_some_and(|(store, _)| store.persistent())
    }

    fn put(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), KeychainError> {
        self.store().put(profile, kind, secret)
    }

    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, KeychainError> {
        self.store().get(profile, kind)
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<(), KeychainError> {
        self.store().delete(profile, kind)
    }

    fn problem(&self) -> Option<String> {
        self.state.get().and_then(|(_, problem)| problem.clone())
    }
}

/// A keyring-core credential store (the OS keychain, or the mock store in tests). Entries are
/// built from this store object, not the process-global default, so tests never collide.
pub struct Keychain {
    store: Arc<CredentialStore>,
    backend: &'static str,
    persistent: bool,
}

impl fmt::Debug for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keychain").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Keychain {
    pub fn with_store(store: Arc<CredentialStore>, backend: &'static str, persistent: bool) -> Self {
        Self { store, backend, persistent }
    }

    /// keyring-core's in-memory mock store, standing in for the OS keychain in tests (so it
    /// counts as persistent: profiles saved with it are written like real ones).
    pub fn mock() -> Result<Self, KeychainError> {
        let store = keyring_core::mock::Store::new().map_err(KeychainError::from_store)?;
        Ok(Self::with_store(store, "mock", true))
    }

    /// The desktop's Secret Service (GNOME Keyring, KWallet, KeePassXC …) over D-Bus.
    #[cfg(target_os = "linux")]
    pub fn secret_service() -> Result<Self, KeychainError> {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(KeychainError::from_store)?;
        Ok(Self::with_store(store, "Secret Service", true))
    }

    /// The Linux kernel's keyutils (in memory until reboot; no desktop daemon needed).
    #[cfg(target_os = "linux")]
    pub fn keyutils() -> Result<Self, KeychainError> {
        let store = linux_keyutils_keyring_store::Store::new().map_err(KeychainError::from_store)?;
        Ok(Self::with_store(store, "kernel keyutils", true))
    }

    /// The macOS login keychain.
    #[cfg(target_os = "macos")]
    pub fn macos_keychain() -> Result<Self, KeychainError> {
        let store = apple_native_keyring_store::keychain::Store::new().map_err(KeychainError::from_store)?;
        Ok(Self::with_store(store, "macOS Keychain", true))
    }

    /// The Windows Credential Manager.
    #[cfg(target_os = "windows")]
    pub fn windows_credential_manager() -> Result<Self, KeychainError> {
        let store = windows_native_keyring_store::Store::new().map_err(KeychainError::from_store)?;
        Ok(Self::with_store(store, "Windows Credential Manager", true))
    }

    /// The system keychain — Linux: Secret Service if it answers, else keyutils; macOS: the
    /// Keychain; Windows: the Credential Manager. Each is probed with a
    /// harmless lookup so a locked or absent service is found now, not at the first save.
    pub fn open_system() -> Result<Self, KeychainError> {
        let mut reasons = Vec::new();
        #[cfg(target_os = "linux")]
        {
            // Secret Service: a lookup only (a write could pop up an unlock prompt at start-up).
            match Self::secret_service().and_then(|keychain| keychain.probe().map(|()| keychain)) {
                Ok(keychain) => return Ok(keychain),
                Err(e) => reasons.push(format!("Secret Service: {}", e.detail())),
            }
            // keyutils answers lookups even where it cannot store (no usable session keyring),
            // so it must prove it can write.
            match Self::keyutils().and_then(|keychain| keychain.probe_write().map(|()| keychain)) {
                Ok(keychain) => return Ok(keychain),
                Err(e) => reasons.push(format!("keyutils: {}", e.detail())),
            }
        }
        #[cfg(target_os = "macos")]
        match Self::macos_keychain().and_then(|keychain| keychain.probe().map(|()| keychain)) {
            Ok(keychain) => return Ok(keychain),
            Err(e) => reasons.push(format!("Keychain: {}", e.detail())),
        }
        #[cfg(target_os = "windows")]
        match Self::windows_credential_manager().and_then(|keychain| keychain.probe().map(|()| keychain)) {
            Ok(keychain) => return Ok(keychain),
            Err(e) => reasons.push(format!("Credential Manager: {}", e.detail())),
        }
        if reasons.is_empty() {
            reasons.push("this platform's keychain is not supported yet".into());
        }
        Err(KeychainError::Unavailable(reasons.join("; ")))
    }

    fn probe(&self) -> Result<(), KeychainError> {
        match self.entry("probe", SecretKind::AccessKeySecret)?.get_password() {
            Ok(_) | Err(StoreError::NoEntry) => Ok(()),
            Err(e) => Err(KeychainError::from_store(e)),
        }
    }

    fn probe_write(&self) -> Result<(), KeychainError> {
        let probe = Secret::new("imagedesk-probe");
        self.put("probe", SecretKind::AccessKeySecret, &probe)?;
        let read = self.get("probe", SecretKind::AccessKeySecret)?;
        self.delete("probe", SecretKind::AccessKeySecret)?;
        match read {
            Some(value) if value.expose() == probe.expose() => Ok(()),
            _ => Err(KeychainError::Other("a stored probe secret did not read back".into())),
        }
    }

    fn entry(&self, profile: &str, kind: SecretKind) -> Result<Entry, KeychainError> {
        self.store.build(SERVICE, &kind.account(profile), None).map_err(KeychainError::from_store)
    }
}

impl SecretStore for Keychain {
    fn backend(&self) -> &str {
        self.backend
    }

    fn persistent(&self) -> bool {
        self.persistent
    }

    fn put(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), KeychainError> {
        self.entry(profile, kind)?.set_password(secret.expose()).map_err(KeychainError::from_store)
    }

    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, KeychainError> {
        match self.entry(profile, kind)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(StoreError::NoEntry) => Ok(None),
            Err(e) => Err(KeychainError::from_store(e)),
        }
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<(), KeychainError> {
        match self.entry(profile, kind)?.delete_credential() {
            Ok(()) | Err(StoreError::NoEntry) => Ok(()),
            Err(e) => Err(KeychainError::from_store(e)),
        }
    }
}

/// Secrets held in memory for this session only (when no keychain is available); gone at exit.
#[derive(Default)]
pub struct SessionStore {
    secrets: Mutex<HashMap<(String, SecretKind), Secret>>,
}

impl fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.secrets.lock().map_or(0, |s| s.len());
        f.debug_struct("SessionStore").field("secrets", &count).finish()
    }
}

impl SessionStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, SecretKind), Secret>> {
        // A panic elsewhere while holding the lock cannot leave the map half-written.
        self.secrets.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl SecretStore for SessionStore {
    fn backend(&self) -> &str {
        "this session only"
    }

    fn persistent(&self) -> bool {
        false
    }

    fn put(&self, profile: &str, kind: SecretKind, secret: &Secret) -> Result<(), KeychainError> {
        self.lock().insert((profile.to_owned(), kind), secret.clone());
        Ok(())
    }

    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<Secret>, KeychainError> {
        Ok(self.lock().get(&(profile.to_owned(), kind)).cloned())
    }

    fn delete(&self, profile: &str, kind: SecretKind) -> Result<(), KeychainError> {
        self.lock().remove(&(profile.to_owned(), kind));
        Ok(())
    }
}

/// Store, read back, update and delete one secret: what every store must do.
#[cfg(test)]
pub(crate) fn exercise(store: &dyn SecretStore, profile: &str) {
    let kind = SecretKind::AccessKeySecret;
    assert_eq!(store.get(profile, kind).map_err(|e| e.to_string()).ok(), Some(None), "starts empty");
    store.put(profile, kind, &Secret::new("first-secret-value")).map_err(|e| e.to_string()).ok();
    let read = store.get(profile, kind).ok().flatten().map(|s| s.expose().to_owned());
    assert_eq!(read.as_deref(), Some("first-secret-value"));
    store.put(profile, kind, &Secret::new("second-secret-value")).map_err(|e| e.to_string()).ok();
    let read = store.get(profile, kind).ok().flatten().map(|s| s.expose().to_owned());
    assert_eq!(read.as_deref(), Some("second-secret-value"), "an update replaces");
    assert!(store.get(profile, SecretKind::SecurityToken).ok() == Some(None), "kinds are separate entries");
    assert!(store.delete(profile, kind).is_ok());
    assert_eq!(store.get(profile, kind).ok(), Some(None), "deleted");
    assert!(store.delete(profile, kind).is_ok(), "deleting twice is fine");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unique(name: &str) -> String {
        format!("test-{name}-{}-{}", std::process::id(), rand::random::<u32>())
    }

    #[test]
    fn the_mock_keychain_stores_reads_updates_and_deletes() {
        let keychain = Keychain::mock().unwrap();
        exercise(&keychain, &unique("mock"));
    }

    #[test]
    fn the_session_store_does_the_same_in_memory() {
        let store = SessionStore::default();
        exercise(&store, "session");
        assert!(!store.persistent());
        store.put("p", SecretKind::SecurityToken, &Secret::new("tok-123456")).unwrap();
        assert!(!format!("{store:?}").contains("tok-123456"));
    }

    #[test]
    fn the_write_probe_leaves_nothing_behind() {
        let keychain = Keychain::mock().unwrap();
        keychain.probe_write().unwrap();
        assert_eq!(keychain.get("probe", SecretKind::AccessKeySecret).unwrap(), None);
    }

    #[test]
    fn store_errors_map_to_what_the_ui_says() {
        let locked = KeychainError::from_store(StoreError::NoStorageAccess("locked".into()));
        assert!(matches!(locked, KeychainError::Refused(_)), "{locked}");
        let other = KeychainError::from_store(StoreError::TooLong("user".into(), 255));
        assert!(matches!(other, KeychainError::Other(_)), "{other}");
    }

    #[test]
    fn a_failing_keychain_reports_instead_of_pretending() {
        let keychain = Keychain::mock().unwrap();
        let entry = keychain.entry("p", SecretKind::AccessKeySecret).unwrap();
        let mock: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        mock.set_error(StoreError::NoStorageAccess("user said no".into()));
        let error = entry.get_password().map_err(KeychainError::from_store).unwrap_err();
        assert!(matches!(error, KeychainError::Refused(_)));
    }

    /// Run by `.ci/run` inside `dbus-run-session` with an unlocked gnome-keyring.
    #[test]
    #[ignore = "needs a Secret Service on the session bus (see .ci/run)"]
    fn secret_service_stores_reads_updates_and_deletes() {
        let keychain = Keychain::secret_service().unwrap();
        keychain.probe().unwrap();
        exercise(&keychain, &unique("secret-service"));
    }

    /// Run by `.ci/run` inside `keyctl session -` (a fresh session keyring).
    #[test]
    #[ignore = "needs a usable kernel session keyring (see .ci/run)"]
    fn keyutils_stores_reads_updates_and_deletes() {
        let keychain = Keychain::keyutils().unwrap();
        exercise(&keychain, &unique("keyutils"));
    }
}
