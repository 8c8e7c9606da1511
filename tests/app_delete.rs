#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Delete image form (kittest, real app, loopback sandbox): Delete stays disabled until the
//! exact name is typed, dry run deletes nothing, the CLI command is exact, Delete removes the
//! image from the inventory; an importing image offers cancelling its import task instead.

mod common_app;

use std::sync::Arc;

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use imagedesk::Credential;
use imagedesk::app::ImageDeskApp;
use imagedesk::app::i18n::Lang;
use imagedesk::app::model::{Product, Status};
use imagedesk::app::worker::{Backend, WorkerOptions};
use imagedesk::client::{Client, Profile, StaticCredentials};
use imagedesk::protocol::ops::ecs::{DescribeImages, ImageStatus};
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Sandbox, SandboxConfig};

use common_app::{app, replace_text, run_until, settle};
use eframe::egui;

fn open_details(harness: &mut egui_kittest::Harness<'_, ImageDeskApp>, id: &str) -> String {
    let name = harness
        .state()
        .inventory
        .rows()
        .iter()
        .find(|r| r.id == id && r.product == Product::Ecs)
        .map(|r| r.name.clone())
        .unwrap();
    replace_text(harness, "Search", id);
    // Toasts and panels may still be moving the table: click until the row is selected.
    for _ in 0..5 {
        settle(harness);
        // The table cell, not the Activity panel's link (a toast may lie over that).
        harness.get_all_by_label(&name).find(|n| n.accesskit_node().role() == Role::Label).unwrap().click();
        settle(harness);
        if harness.state().inventory.selected_row().is_some_and(|r| r.id == id) {
            break;
        }
    }
    assert_eq!(harness.state().inventory.selected_row().map(|r| r.id.as_str()), Some(id));
    name
}

#[test]
fn deleting_needs_the_name_dry_runs_and_removes_and_an_import_is_cancelled_instead() {
    let root = std::env::temp_dir().join(format!("imagedesk-app-delete-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sandbox = runtime.block_on(Sandbox::start(SandboxConfig::new(root.join("sandbox")))).unwrap();
    let url = sandbox.url();
    let mut harness = app(Backend::SandboxAt(url.clone()), WorkerOptions::default(), Lang::En);
    let mut profile = Profile::new("check", "cn-hangzhou");
    profile.endpoint = Some(url);
    let client = Client::new(
        profile,
        Arc::new(StaticCredentials::new(Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET))),
    )
    .unwrap();
    let exists = |id: &str| {
        let request = DescribeImages {
            region_id: "cn-hangzhou".into(),
            image_id: Some(id.into()),
            status: ImageStatus::all(),
            ..Default::default()
        };
        !runtime.block_on(client.list_all(request)).unwrap().is_empty()
    };

    let name = open_details(&mut harness, "m-demo0004");
    harness.get_by_role_and_label(Role::Button, "Delete…").click();
    settle(&mut harness);
    let delete_button = |h: &egui_kittest::Harness<'_, ImageDeskApp>| {
        h.get_by_role_and_label(Role::Button, "Delete image").accesskit_node().is_disabled()
    };
    assert!(delete_button(&harness), "disabled until the name is typed");
    replace_text(&mut harness, "Type the image name to confirm", &format!("{name}x"));
    assert!(delete_button(&harness), "a near miss is not the name");
    replace_text(&mut harness, "Type the image name to confirm", &name);
    assert!(!delete_button(&harness));
    harness.get_by_label("aliyun ecs DeleteImage --RegionId cn-hangzhou --ImageId m-demo0004");

    harness.get_by_role_and_label(Role::Button, "Dry run").click();
    settle(&mut harness);
    run_until(&mut harness, "the dry run", |app| app.delete_result.is_some());
    harness.get_by_label("Dry run passed: the request is valid and nothing was changed.");
    assert!(exists("m-demo0004"), "a dry run deletes nothing");

    harness.get_by_role_and_label(Role::Button, "Delete image").click();
    settle(&mut harness);
    run_until(&mut harness, "the deletion", |app| app.delete.is_none());
    assert!(!exists("m-demo0004"));
    run_until(&mut harness, "the refresh", |app| {
        !app.inventory.any_loading() && !app.inventory.rows().iter().any(|r| r.id == "m-demo0004")
    });
    harness.get_by_label_contains(&format!("{name} deleted"));

    // An image being imported: its task is looked up, and the form offers to cancel it.
    let importing = open_details(&mut harness, "m-demo0013");
    run_until(&mut harness, "the task lookup", |app| {
        app.inventory.selected_row().is_some_and(|r| r.status == Status::Creating)
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while harness.query_by_label_contains("t-demo000").is_none() {
        assert!(std::time::Instant::now() < deadline, "the import task never showed");
        std::thread::sleep(std::time::Duration::from_millis(20));
        harness.step();
    }
    harness.get_by_role_and_label(Role::Button, "Delete…").click();
    settle(&mut harness);
    harness.get_by_label_contains("still being imported");
    assert!(harness.query_by_role_and_label(Role::Button, "Delete image").is_none());
    harness.get_by_role_and_label(Role::Button, "Cancel import task").click();
    settle(&mut harness);
    run_until(&mut harness, "the cancellation", |app| app.delete.is_none());
    harness.get_by_label_contains(&format!("Import of {importing} cancelled"));
    run_until(&mut harness, "the refresh", |app| {
        !app.inventory.any_loading()
            && app
                .inventory
                .rows()
                .iter()
                .find(|r| r.id == "m-demo0013")
                .is_none_or(|r| !r.status.in_flight())
    });

    drop(harness);
    runtime.block_on(sandbox.shutdown());
    let _ = std::fs::remove_dir_all(&root);
}
