//! Shared helpers for the headless UI tests (egui_kittest driving the real app).

#![allow(dead_code)]

use std::time::{Duration, Instant};

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::{Harness, Node};
use imagedesk::app::i18n::Lang;
use imagedesk::app::prefs::Prefs;
use imagedesk::app::worker::{Backend, WorkerOptions};
use imagedesk::app::{ImageDeskApp, ProfileEntry, install_fonts};

/// The real app (`App::logic` + `App::ui`) on `backend`, showing cn-hangzhou, after its first
/// listing has arrived and the layout has settled.
pub fn app(backend: Backend, options: WorkerOptions, lang: Lang) -> Harness<'static, ImageDeskApp> {
    let prefs = Prefs { lang: Some(lang), regions: vec!["cn-hangzhou".into()], ..Prefs::default() };
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .with_context_setup(install_fonts)
        .build_eframe(move |_cc| {
            ImageDeskApp::with_profiles(vec![ProfileEntry { name: String::new(), backend }], prefs, options)
        });
    run_until(&mut harness, "the first listing", |app| {
        app.inventory.loaded() && !app.inventory.any_loading()
    });
    // The Activity panel grows with the jobs the listing revealed.
    settle(&mut harness);
    harness
}

/// Run frames until `done` holds, or fail after 30 s saying what was awaited.
pub fn run_until(harness: &mut Harness<'_, ImageDeskApp>, what: &str, done: impl Fn(&ImageDeskApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(harness.state()) {
        let errors: Vec<String> =
            harness.state().inventory.errors().map(|(_, f)| f.message.clone()).collect();
        let toasts: Vec<String> =
            harness.state().toasts.iter().map(|t| format!("{}: {}", t.title, t.body)).collect();
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; errors: {errors:?}; toasts: {toasts:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
        // `step`, not `run`: a spinner keeps asking for repaints while something loads.
        harness.step();
    }
}

/// Let clicks and typing take effect.
pub fn settle(harness: &mut Harness<'_, ImageDeskApp>) {
    for _ in 0..3 {
        harness.step();
    }
}

/// The text field (plain or password) labelled `label` (its label widget has the same name).
pub fn text_field<'h>(harness: &'h Harness<'_, ImageDeskApp>, label: &'h str) -> Node<'h> {
    let mut inputs = harness
        .get_all_by_label(label)
        .filter(|node| matches!(node.accesskit_node().role(), Role::TextInput | Role::PasswordInput));
    let input = inputs.next().unwrap_or_else(|| panic!("no text field labelled {label:?}"));
    assert!(inputs.next().is_none(), "one text field labelled {label:?}");
    input
}

/// Replace the text of the field labelled `label`, as a user would (focus, select all, type).
pub fn replace_text(harness: &mut Harness<'_, ImageDeskApp>, label: &str, text: &str) {
    text_field(harness, label).focus();
    settle(harness);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    settle(harness);
    text_field(harness, label).type_text(text);
    settle(harness);
}
