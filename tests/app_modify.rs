#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Modify image form (kittest, real app, loopback sandbox): the rule table's message under
//! the field as you type, dry run changing nothing, the exact CLI command, Apply changing the
//! image (the inventory shows it), and a server-side error landing on its field.

mod common_app;
use common_app::{app, replace_text, run_until, settle};
use std::sync::Arc;

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use imagedesk::Credential;
use imagedesk::app::ImageDeskApp;
use imagedesk::app::i18n::Lang;
use imagedesk::app::model::Product;
use imagedesk::app::worker::{Backend, WorkerOptions};
use imagedesk::client::{Client, Profile, StaticCredentials};
use imagedesk::protocol::ops::ecs::{DescribeImages, ImageStatus};
use imagedesk::protocol::params::Params;
use imagedesk::protocol::validate::{Context, Operation, validate};
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Sandbox, SandboxConfig};

#[test]
fn the_modify_form_validates_dry_runs_applies_and_shows_server_errors_on_their_field() {
    let root = std::env::temp_dir().join(format!("imagedesk-app-modify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sandbox = runtime.block_on(Sandbox::start(SandboxConfig::new(root.join("sandbox")))).unwrap();
    let url = sandbox.url();
    let backend = Backend::SandboxAt(url.clone());
    let mut harness = app(backend, WorkerOptions::default(), Lang::En);

    // Open the image's details, then the form.
    let name = |app: &ImageDeskApp| {
        app.inventory
            .rows()
            .iter()
            .find(|r| r.id == "m-demo0003" && r.product == Product::Ecs)
            .map(|r| r.name.clone())
    };
    let original = name(harness.state()).unwrap();
    harness.get_by_role_and_label(Role::TextInput, "Search").focus();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::TextInput, "Search").type_text(&original);
    settle(&mut harness);
    harness.get_all_by_label(&original).next().unwrap().click();
    settle(&mut harness);
    assert_eq!(harness.state().inventory.selected_row().map(|r| r.id.clone()).as_deref(), Some("m-demo0003"));
    harness.get_by_role_and_label(Role::Button, "Modify…").click();
    settle(&mut harness);
    assert!(harness.state().modify.is_some());

    // The rule table's own message, under the field, as soon as it is wrong.
    replace_text(&mut harness, "Image name", "1-bad-name");
    let expected = validate(
        Operation::EcsModifyImageAttribute,
        &Params::from_pairs([
            ("RegionId", "cn-hangzhou"),
            ("ImageId", "m-demo0003"),
            ("ImageName", "1-bad-name"),
        ]),
        &Context::default(),
    );
    assert_eq!(expected.len(), 1);
    harness.get_by_label(&expected[0].en);

    // Dry run: valid, and nothing changes.
    replace_text(&mut harness, "Image name", "renamed-by-form");
    assert!(harness.query_by_label(&expected[0].en).is_none());
    harness.get_by_label("aliyun ecs ModifyImageAttribute --RegionId cn-hangzhou --ImageId m-demo0003 --ImageName renamed-by-form");
    harness.get_by_role_and_label(Role::Button, "Dry run").click();
    settle(&mut harness);
    run_until(&mut harness, "the dry run", |app| app.modify_result.is_some());
    harness.get_by_label("Dry run passed: the request is valid and nothing was changed.");
    let client = Client::new(
        {
            let mut p = Profile::new("check", "cn-hangzhou");
            p.endpoint = Some(url.clone());
            p
        },
        Arc::new(StaticCredentials::new(Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET))),
    )
    .unwrap();
    let server_name = || {
        let request = DescribeImages {
            region_id: "cn-hangzhou".into(),
            image_id: Some("m-demo0003".into()),
            status: ImageStatus::all(),
            ..Default::default()
        };
        runtime.block_on(client.list_all(request)).unwrap()[0].image_name.clone()
    };
    assert_eq!(server_name(), original, "a dry run changes nothing");

    // Apply: the image changes and the inventory shows it.
    harness.get_by_role_and_label(Role::Button, "Apply").click();
    settle(&mut harness);
    run_until(&mut harness, "the change", |app| app.modify.is_none());
    assert_eq!(server_name(), "renamed-by-form");
    run_until(&mut harness, "the inventory refresh", |app| {
        !app.inventory.any_loading() && name(app).as_deref() == Some("renamed-by-form")
    });
    harness.get_by_label_contains("renamed-by-form updated");

    // A server-side error (a name another image has) lands on the name field.
    harness.get_by_role_and_label(Role::Button, "Modify…").click();
    settle(&mut harness);
    replace_text(&mut harness, "Image name", "web-base-v1");
    harness.get_by_role_and_label(Role::Button, "Apply").click();
    settle(&mut harness);
    run_until(&mut harness, "the refusal", |app| matches!(app.modify_result, Some(Err(_))));
    let failure = match &harness.state().modify_result {
        Some(Err(failure)) => failure.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(failure.code.as_deref(), Some("InvalidImageName.Duplicated"));
    assert_eq!(failure.field.as_deref(), Some("ImageName"));
    harness.get_by_label_contains("InvalidImageName.Duplicated");
    assert_eq!(server_name(), "renamed-by-form", "refused: unchanged");

    drop(harness);
    runtime.block_on(sandbox.shutdown());
    let _ = std::fs::remove_dir_all(&root);
}
