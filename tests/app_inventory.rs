#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The inventory view, headless (egui_kittest, no display) against an in-process sandbox.

use std::time::{Duration, Instant};

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use imagedesk::app::worker::Backend;
use imagedesk::app::{ImageDeskApp, install_fonts};
use imagedesk::sandbox::SandboxConfig;

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("imagedesk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Run frames until `done` holds, or fail after 20 s.
fn run_until(harness: &mut Harness<'_, ImageDeskApp>, what: &str, done: impl Fn(&ImageDeskApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(harness.state()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            harness.state().inventory.error
        );
        std::thread::sleep(Duration::from_millis(20));
        // `step`, not `run`: the loading spinner keeps asking for repaints.
        harness.step();
    }
}

#[test]
fn inventory_lists_sandbox_images_and_search_narrows_them() {
    let dir = scratch_dir("app-inventory");
    let app = ImageDeskApp::new(Backend::Sandbox(SandboxConfig::new(&dir)));
    assert!(app.is_sandbox());
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .with_context_setup(install_fonts)
        .build_ui_state(|ui, app: &mut ImageDeskApp| app.show(ui), app);

    run_until(&mut harness, "the first listing", |app| app.inventory.loaded);
    let all = harness.state().inventory.visible_rows();
    assert!(!all.is_empty(), "the sandbox has demo images in cn-hangzhou");
    assert!(harness.state().inventory.error.is_none());
    harness.get_by_label("Sandbox (no account configured)");

    harness.get_by_role_and_label(Role::TextInput, "Search").focus();
    harness.run();
    harness.get_by_role_and_label(Role::TextInput, "Search").type_text("中文");
    harness.run();

    let state = harness.state();
    assert_eq!(state.inventory.search, "中文");
    let visible = state.inventory.visible_rows();
    assert!(!visible.is_empty() && visible.len() < all.len(), "{} of {}", visible.len(), all.len());
    assert!(visible.iter().all(|&i| state.inventory.rows[i].image_name.contains("中文")));
    assert!(visible.iter().any(|&i| state.inventory.rows[i].image_name == "中文镜像-centos"));
    // The row is on screen, drawn with the bundled font (kittest panics on a missing glyph).
    harness.get_by_label("中文镜像-centos");

    drop(harness);
    let _ = std::fs::remove_dir_all(&dir);
}
