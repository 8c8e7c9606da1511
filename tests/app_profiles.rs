#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The profile form, headless (egui_kittest driving the real app) against a loopback sandbox:
//! inline validation as you type, "Test connection" telling a wrong secret (signature) from a
//! good one, saving (secret to the keychain — keyring-core's mock store here — and the rest to
//! the profiles file), then using the saved profile. Afterwards no file ImageDesk wrote holds
//! the secret.

mod common_app;
use common_app::{app, replace_text, run_until, settle};
use std::sync::Arc;

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use imagedesk::app::i18n::Lang;
use imagedesk::app::worker::{Backend, ProfileStorage, WorkerOptions};
use imagedesk::client::diagnose::Verdict;
use imagedesk::profiles::{Keychain, ProfilesFile, SecretKind, SecretStore};
use imagedesk::sandbox::{
    DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, RunningSandbox, Sandbox, SandboxConfig,
};

/// Every byte of every file under `dir`, searched for `needle`.
fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn the_profile_form_validates_tests_the_connection_saves_and_the_profile_works() {
    let root = std::env::temp_dir().join(format!("imagedesk-profiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sandbox: RunningSandbox =
        runtime.block_on(Sandbox::start(SandboxConfig::new(root.join("sandbox")))).unwrap();
    let url = sandbox.url();

    let keychain: Arc<Keychain> = Arc::new(Keychain::mock().unwrap());
    let secrets: Arc<dyn SecretStore> = keychain.clone();
    let profiles_path = root.join("config").join("imagedesk").join("profiles.json");
    let mut storage = ProfileStorage::new(profiles_path.clone(), secrets);
    // An aliyun CLI config in a home of its own: one usable AK profile, one mode not supported yet.
    let home = root.join("home");
    std::fs::create_dir_all(home.join(".aliyun")).unwrap();
    let cli_secret = "cli-imported-secret-0123456789";
    std::fs::write(
        home.join(".aliyun").join("config.json"),
        format!(
            r#"{{"current": "cli-prod", "profiles": [
                {{"name": "cli-prod", "mode": "AK", "access_key_id": "LTAI5tCliImported000000", "access_key_secret": "{cli_secret}", "region_id": "cn-beijing"}},
                {{"name": "cli-sso", "mode": "CloudSSO", "region_id": "cn-hangzhou"}}
            ]}}"#
        ),
    )
    .unwrap();
    storage.import_home = Some(home);
    storage.import_env = Some(Default::default());
    let backend = Backend::SandboxAt(url.clone());
    let options = WorkerOptions { storage: Some(storage), ..WorkerOptions::default() };
    let mut harness = app(backend, options, Lang::En);

    harness.get_by_role_and_label(Role::Button, "Profiles").click();
    settle(&mut harness);
    assert!(harness.state().profiles_open);
    harness.get_by_label("Secrets are kept in: mock");

    // Inline validation: only the touched field complains, as soon as it is wrong.
    replace_text(&mut harness, "AccessKey ID", "abc");
    harness.get_by_label_contains("not the length of an AccessKey ID");
    assert!(harness.query_by_label("Give the profile a name.").is_none(), "untouched fields stay quiet");
    replace_text(&mut harness, "AccessKey ID", "STS.NUgYrLnoC37mZZCNnAbez2Bvx");
    harness.get_by_label_contains("choose the STS token mode");
    replace_text(&mut harness, "AccessKey ID", DEMO_ACCESS_KEY_ID);
    assert!(harness.query_by_label_contains("AccessKey ID has").is_none());
    // Submitting shows the rest.
    harness.get_by_role_and_label(Role::Button, "Test connection").click();
    settle(&mut harness);
    harness.get_by_label("Give the profile a name.");
    harness.get_by_label_contains("fields marked in red");

    replace_text(&mut harness, "Profile name", "sandbox-key");
    replace_text(&mut harness, "Endpoint (optional)", &url);
    let wrong = "wrong-secret-wrong-secret-0000";
    replace_text(&mut harness, "AccessKey secret", wrong);
    harness.get_by_role_and_label(Role::Button, "Test connection").click();
    settle(&mut harness);
    run_until(&mut harness, "the test with a wrong secret", |app| app.profile_test.is_some());
    assert_eq!(harness.state().profile_test.as_ref().unwrap().verdict, Verdict::WrongSecret);
    harness.get_by_label("Signature mismatch: the AccessKey secret is wrong for this ID.");

    replace_text(&mut harness, "AccessKey secret", DEMO_ACCESS_KEY_SECRET);
    harness.get_by_role_and_label(Role::Button, "Test connection").click();
    settle(&mut harness);
    run_until(&mut harness, "the test with the right secret", |app| app.profile_test.is_some());
    let test = harness.state().profile_test.clone().unwrap();
    assert_eq!(test.verdict, Verdict::Connected, "{:?}", test.error);
    harness.get_by_label_contains("Connected:");
    harness.get_by_label_contains("Clock difference with the server:");

    harness.get_by_role_and_label(Role::Button, "Save profile").click();
    settle(&mut harness);
    run_until(&mut harness, "the save", |app| {
        app.toasts.iter().any(|t| t.title.contains("sandbox-key saved"))
    });
    // The secret is in the keychain, the rest in the file, and the file has no secret.
    let stored = keychain.get("sandbox-key", SecretKind::AccessKeySecret).unwrap().unwrap();
    assert_eq!(stored.expose(), DEMO_ACCESS_KEY_SECRET);
    let file = ProfilesFile::load(&profiles_path).unwrap();
    assert_eq!(file.profiles.len(), 1);
    assert_eq!(file.profiles[0].connection.endpoint.as_deref(), Some(url.as_str()));
    harness.get_by_label("sandbox-key");

    // Use it: the inventory lists with the saved profile (its secret read back from the keychain).
    harness.key_press(egui::Key::Escape);
    settle(&mut harness);
    harness.get_by_role_and_label(Role::ComboBox, "Profile").click();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::Button, "sandbox-key").click();
    settle(&mut harness);
    run_until(&mut harness, "the listing with the saved profile", |app| {
        app.inventory.loaded() && !app.inventory.any_loading()
    });
    assert_eq!(harness.state().inventory.errors().count(), 0);
    assert!(!harness.state().inventory.rows().is_empty());

    // Import from the aliyun CLI: the usable profile is ticked, the unsupported one says why.
    harness.get_by_role_and_label(Role::Button, "Profiles").click();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::Button, "Look for credentials").click();
    settle(&mut harness);
    run_until(&mut harness, "the credential scan", |app| app.imports.is_some());
    settle(&mut harness);
    harness.get_by_label_contains("cli-prod · AK");
    harness.get_by_label_contains("cannot be imported: CloudSSO");
    harness.get_by_role_and_label(Role::Button, "Import selected (1)").click();
    settle(&mut harness);
    run_until(&mut harness, "the import", |app| {
        app.toasts.iter().any(|t| t.title.contains("cli-prod saved"))
    });
    let imported = keychain.get("cli-prod", SecretKind::AccessKeySecret).unwrap().unwrap();
    assert_eq!(imported.expose(), cli_secret);
    let file = ProfilesFile::load(&profiles_path).unwrap();
    assert_eq!(file.get("cli-prod").unwrap().connection.region_id, "cn-beijing");
    assert_eq!(file.profiles.len(), 2);

    // Delete it again: the secret leaves the keychain and the record the file.
    harness.get_by_role_and_label(Role::Button, "Delete cli-prod").click();
    settle(&mut harness);
    run_until(&mut harness, "the deletion", |app| {
        app.toasts.iter().any(|t| t.title.contains("cli-prod deleted"))
    });
    assert!(keychain.get("cli-prod", SecretKind::AccessKeySecret).unwrap().is_none());
    assert!(ProfilesFile::load(&profiles_path).unwrap().get("cli-prod").is_none());
    assert_eq!(
        harness.state().inventory.errors().count(),
        0,
        "the profile in use (sandbox-key) is untouched"
    );

    drop(harness);
    runtime.block_on(sandbox.shutdown());
    for secret in [DEMO_ACCESS_KEY_SECRET, wrong, cli_secret] {
        let leaks = files_containing(&root.join("config"), secret);
        assert!(leaks.is_empty(), "the secret leaked into {leaks:?}");
    }
    let _ = std::fs::remove_dir_all(&root);
}
