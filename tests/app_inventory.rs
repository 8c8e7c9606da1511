#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The real app (eframe `App::logic` + `App::ui`), headless under egui_kittest, against a sandbox
//! on loopback. Everything is found by accessible label, as a user (or a screen reader) would.

mod common_app;
use common_app::{run_until, settle};
use std::time::{Duration, Instant};

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use imagedesk::app::ImageDeskApp;
use imagedesk::app::i18n::Lang;
use imagedesk::app::inventory::SortColumn;
use imagedesk::app::model::{Owner, Product, Status};
use imagedesk::app::monitor::{JobState, PollPolicy};
use imagedesk::app::worker::{Backend, WorkerOptions};
use imagedesk::sandbox::{Faults, Malformed, RunningSandbox, Sandbox, SandboxConfig};

/// A sandbox on loopback, in its own runtime, with its own data dir.
struct TestSandbox {
    runtime: tokio::runtime::Runtime,
    running: Option<RunningSandbox>,
    dir: std::path::PathBuf,
}

impl TestSandbox {
    fn start(name: &str, time_scale: f64) -> Self {
        let dir = std::env::temp_dir().join(format!("imagedesk-app-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let mut config = SandboxConfig::new(&dir);
        config.time_scale = time_scale;
        let running = runtime.block_on(Sandbox::start(config)).unwrap();
        Self { runtime, running: Some(running), dir }
    }

    fn sandbox(&self) -> &RunningSandbox {
        self.running.as_ref().unwrap()
    }

    fn app(&self, lang: Lang) -> Harness<'static, ImageDeskApp> {
        let backend = Backend::SandboxAt(self.sandbox().url());
        let options = WorkerOptions {
            poll: PollPolicy {
                fast: Duration::from_millis(100),
                slow: Duration::from_millis(400),
                growth: 1.5,
            },
            ..WorkerOptions::default()
        };
        common_app::app(backend, options, lang)
    }
}

impl Drop for TestSandbox {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.shutdown());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Pick `option` in the combo box labelled `combo`.
fn choose(harness: &mut Harness<'_, ImageDeskApp>, combo: &str, option: &str) {
    harness.get_by_role_and_label(Role::ComboBox, combo).click();
    settle(harness);
    // The option inside the open popup, not a table cell showing the same word.
    let options = harness
        .get_all_by_label(option)
        .filter(|node| node.accesskit_node().role() != Role::Label)
        .collect::<Vec<_>>();
    assert_eq!(options.len(), 1, "one {option:?} option in the {combo:?} popup");
    options[0].click();
    settle(harness);
}

fn visible_len(harness: &mut Harness<'_, ImageDeskApp>) -> usize {
    harness.state_mut().inventory.visible().len()
}

#[test]
fn the_list_fills_from_every_product_and_search_and_each_filter_narrow_it() {
    let sandbox = TestSandbox::start("filters", 1.0);
    let mut harness = sandbox.app(Lang::En);
    harness.get_by_label("Sandbox · no account configured");

    let all = visible_len(&mut harness);
    let products: std::collections::BTreeSet<Product> =
        harness.state().inventory.rows().iter().map(|r| r.product).collect();
    assert_eq!(products.len(), 3, "ECS, ENS and E-HPC Instant rows: {products:?}");
    harness.get_by_label(&format!("{all} of {all} images"));

    // Search, typed into the labelled box.
    harness.get_by_role_and_label(Role::TextInput, "Search").focus();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::TextInput, "Search").type_text("中文");
    settle(&mut harness);
    let found =
        harness.state_mut().inventory.visible().into_iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert!(!found.is_empty() && found.len() < all, "{found:?}");
    assert!(found.iter().all(|name| name.contains("中文")));
    // The Chinese name is on screen, drawn with the bundled font (kittest panics on a missing glyph).
    harness.get_by_label("中文镜像-centos");
    harness.state_mut().inventory.filters.search.clear();
    settle(&mut harness);

    // Each filter, through its combo box.
    choose(&mut harness, "Status", "Failed");
    let failed = harness.state_mut().inventory.visible().into_iter().map(|r| r.status).collect::<Vec<_>>();
    assert!(
        !failed.is_empty() && failed.len() < all && failed.iter().all(|s| *s == Status::Failed),
        "{failed:?}"
    );
    choose(&mut harness, "Status", "All");
    assert_eq!(visible_len(&mut harness), all);

    choose(&mut harness, "Product", "ENS");
    let ens = harness.state_mut().inventory.visible().into_iter().map(|r| r.product).collect::<Vec<_>>();
    assert!(!ens.is_empty() && ens.len() < all && ens.iter().all(|p| *p == Product::Ens));
    choose(&mut harness, "Product", "All");

    choose(&mut harness, "Owner", "Shared");
    let shared = harness.state_mut().inventory.visible().into_iter().map(|r| r.owner).collect::<Vec<_>>();
    assert!(!shared.is_empty() && shared.len() < all && shared.iter().all(|o| *o == Owner::Shared));
    choose(&mut harness, "Owner", "All");

    let family = harness.state().inventory.families().first().cloned().expect("the demo has image families");
    choose(&mut harness, "Family", &family);
    let families =
        harness.state_mut().inventory.visible().into_iter().map(|r| r.family.clone()).collect::<Vec<_>>();
    assert!(!families.is_empty() && families.len() < all && families.iter().all(|f| *f == family));
    choose(&mut harness, "Family", "All");

    let tag = harness
        .state()
        .inventory
        .tags()
        .iter()
        .find(|t| t.contains('='))
        .cloned()
        .expect("the demo has tags");
    choose(&mut harness, "Tag", &tag);
    let tagged = visible_len(&mut harness);
    assert!(tagged > 0 && tagged < all, "{tagged} of {all} tagged {tag}");
    assert!(harness.state_mut().inventory.visible().iter().all(|r| r.has_tag(&tag)));
    harness.get_by_label("Clear filters").click();
    settle(&mut harness);
    assert_eq!(visible_len(&mut harness), all);
}

#[test]
fn column_headers_sort_and_the_keyboard_drives_the_table() {
    let sandbox = TestSandbox::start("sorting", 1.0);
    let mut harness = sandbox.app(Lang::En);

    harness.get_by_role_and_label(Role::Button, "Size").click();
    settle(&mut harness);
    let sizes = |h: &mut Harness<'_, ImageDeskApp>| {
        h.state_mut().inventory.visible().into_iter().map(|r| r.size_gib).collect::<Vec<_>>()
    };
    let ascending = sizes(&mut harness);
    assert!(ascending.windows(2).all(|w| w[0] <= w[1]), "{ascending:?}");
    assert!(ascending.first() < ascending.last(), "the demo has different sizes");
    harness.get_by_role_and_label(Role::Button, "Size ▲").click();
    settle(&mut harness);
    let descending = sizes(&mut harness);
    assert!(descending.windows(2).all(|w| w[0] >= w[1]), "{descending:?}");
    harness.get_by_role_and_label(Role::Button, "Size ▼");

    // Ctrl+K, type, Enter: the palette reaches every action by name.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
    settle(&mut harness);
    assert!(harness.state().palette.open);
    harness.get_by_role_and_label(Role::TextInput, "Command palette").type_text("sort name");
    settle(&mut harness);
    harness.key_press(egui::Key::Enter);
    settle(&mut harness);
    assert!(!harness.state().palette.open);
    assert_eq!(harness.state().inventory.sort, SortColumn::Name);

    // Arrows move the selection, Enter opens the details, Esc closes them.
    harness.key_press(egui::Key::ArrowDown);
    settle(&mut harness);
    harness.key_press(egui::Key::ArrowDown);
    settle(&mut harness);
    let second = harness.state_mut().inventory.visible()[1].key();
    assert_eq!(harness.state().inventory.selected.as_ref(), Some(&second));
    harness.key_press(egui::Key::Enter);
    settle(&mut harness);
    assert!(harness.state().detail_open);
    harness.get_by_label("Details");
    harness.key_press(egui::Key::Escape);
    settle(&mut harness);
    assert!(!harness.state().detail_open);
    assert!(harness.query_by_label("Details").is_none());

    // Ctrl+F focuses the search box; F5 refreshes.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    settle(&mut harness);
    assert!(harness.get_by_role_and_label(Role::TextInput, "Search").is_focused());
    harness.key_press(egui::Key::Escape);
    settle(&mut harness);
    let served = sandbox.sandbox().requests_served();
    harness.key_press(egui::Key::F5);
    settle(&mut harness);
    run_until(&mut harness, "the F5 refresh", |app| !app.inventory.any_loading());
    assert!(sandbox.sandbox().requests_served() > served, "F5 listed again");
}

#[test]
fn selecting_a_row_shows_its_details_disks_tags_and_task() {
    let sandbox = TestSandbox::start("detail", 1.0);
    let mut harness = sandbox.app(Lang::En);
    harness.get_by_role_and_label(Role::TextInput, "Search").focus();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::TextInput, "Search").type_text("centos");
    settle(&mut harness);
    harness.get_by_label("中文镜像-centos").click();
    settle(&mut harness);
    let selected = harness.state().inventory.selected_row().map(|r| r.id.clone());
    assert_eq!(selected.as_deref(), Some("m-demo0007"));
    harness.get_by_label("Details");
    // The ID shows in the table and in the detail grid.
    assert!(harness.get_all_by_label("m-demo0007").count() >= 2);
    harness.get_by_label("Disks");
    harness.get_by_label("All fields").click();
    settle(&mut harness);
    harness.get_by_label("ImageOwnerAlias");

    harness.get_by_role_and_label(Role::Button, "Close").click();
    settle(&mut harness);
    assert!(!harness.state().detail_open);

    // An importing image shows its task once looked up.
    harness.state_mut().inventory.filters.search.clear();
    harness.get_by_role_and_label(Role::TextInput, "Search").focus();
    settle(&mut harness);
    harness.get_by_role_and_label(Role::TextInput, "Search").type_text("m-demo0013");
    settle(&mut harness);
    // The one row left; its product cell is unique on screen (the Activity panel shows the ID too).
    harness.get_by_role_and_label(Role::Label, "ECS").click();
    settle(&mut harness);
    run_until(&mut harness, "the task lookup", |app| {
        app.inventory.selected_row().is_some_and(|r| r.id == "m-demo0013")
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while harness.query_by_label_contains("t-demo000").is_none() {
        assert!(Instant::now() < deadline, "the detail pane never showed the import task");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    harness.get_by_role_and_label(Role::Button, "Close").click();
    settle(&mut harness);
    assert!(!harness.state().detail_open);
}

#[test]
fn a_sample_import_shows_progress_rising_to_available() {
    // 120 s of simulated import in 3 s.
    let sandbox = TestSandbox::start("import", 40.0);
    let mut harness = sandbox.app(Lang::En);
    harness.get_by_label("Import sample image").click();
    settle(&mut harness);
    run_until(&mut harness, "the import to start", |app| {
        app.jobs.jobs.iter().any(|j| j.name.starts_with("sample-import-"))
    });
    let name =
        harness.state().jobs.jobs.iter().find(|j| j.name.starts_with("sample-import-")).unwrap().name.clone();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = harness.state().inventory.rows().iter().find(|r| r.name == name).cloned();
        if let Some(row) = row {
            if seen.last() != Some(&(row.status, row.progress)) {
                seen.push((row.status, row.progress));
            }
            if row.status == Status::Available {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the import never finished: {seen:?}");
        std::thread::sleep(Duration::from_millis(20));
        harness.step();
    }
    let creating: Vec<u8> =
        seen.iter().filter(|(s, _)| *s == Status::Creating).map(|(_, p)| p.unwrap_or(0)).collect();
    assert!(creating.len() >= 3, "progress observed while importing: {seen:?}");
    assert!(creating.windows(2).all(|w| w[0] < w[1]), "progress only rises: {seen:?}");
    assert!(creating.iter().any(|p| (1..100).contains(p)), "intermediate progress was shown: {seen:?}");
    settle(&mut harness);
    // The Activity panel and a toast say it is done.
    harness.get_by_label_contains(&format!("{name} is ready"));
    let job = harness.state().jobs.jobs.iter().find(|j| j.name == name).unwrap();
    assert_eq!((job.state, job.progress), (JobState::Succeeded, 100));
    assert!(job.timeline.len() >= 3, "started, progress, available: {:?}", job.timeline);
    harness.get_by_label("Finished");
}

#[test]
fn an_injected_error_shows_its_message_and_retry_recovers() {
    let sandbox = TestSandbox::start("faults", 1.0);
    let mut harness = sandbox.app(Lang::En);
    let rows = harness.state().inventory.rows().len();
    sandbox.sandbox().set_faults(Faults { unavailable_rate: 1.0, ..Faults::default() });
    harness.get_by_role_and_label(Role::Button, "Refresh").click();
    settle(&mut harness);
    run_until(&mut harness, "the listing to fail", |app| {
        !app.inventory.any_loading() && app.inventory.errors().count() > 0
    });
    let message = harness.state().inventory.errors().next().map(|(_, f)| f.message.clone()).unwrap();
    assert!(message.contains("ServiceUnavailable"), "{message}");
    harness.get_by_label(&message);
    harness.get_by_label_contains("What to do:");
    harness.get_by_label("Showing the last successful listing (stale).");
    assert_eq!(harness.state().inventory.rows().len(), rows, "old rows stay visible");

    sandbox.sandbox().set_faults(Faults::default());
    harness.get_by_role_and_label(Role::Button, "Retry").click();
    settle(&mut harness);
    run_until(&mut harness, "the retry", |app| !app.inventory.any_loading());
    assert_eq!(harness.state().inventory.errors().count(), 0);
    assert!(harness.query_by_label("Retry").is_none());
    assert!(!harness.state().inventory.any_stale());
    assert_eq!(harness.state().inventory.rows().len(), rows);
}

#[test]
fn broken_answers_are_shown_as_clear_errors_not_a_crash() {
    let sandbox = TestSandbox::start("broken", 1.0);
    let mut harness = sandbox.app(Lang::En);
    let rows = harness.state().inventory.rows().len();
    for (kind, expected) in [
        (Malformed::TruncatedJson, "could not be read: EOF while parsing"),
        (Malformed::WrongTypes, "could not be read: field Images"),
        (Malformed::ErrorIn200, "InternalError"),
        (Malformed::HugeBody, "larger than 16 MiB"),
    ] {
        sandbox.sandbox().set_faults(Faults { malformed: Some(kind), ..Faults::default() });
        harness.get_by_role_and_label(Role::Button, "Refresh").click();
        settle(&mut harness);
        run_until(&mut harness, "the listing to fail", |app| {
            !app.inventory.any_loading() && app.inventory.errors().count() > 0
        });
        let message = harness.state().inventory.errors().next().map(|(_, f)| f.message.clone()).unwrap();
        assert!(message.contains(expected), "{kind:?}: {message}");
        assert!(harness.query_all_by_label(&message).count() >= 1, "{kind:?}: shown");
        assert_eq!(harness.state().inventory.rows().len(), rows, "{kind:?}: the last good rows stay");
    }
}

#[test]
fn switching_language_changes_the_labels() {
    let sandbox = TestSandbox::start("language", 1.0);
    let mut harness = sandbox.app(Lang::En);
    harness.get_by_role_and_label(Role::Button, "Refresh");
    choose(&mut harness, "Language · 语言", "简体中文");
    assert_eq!(harness.state().lang, Lang::Zh);
    harness.get_by_role_and_label(Role::Button, "刷新");
    harness.get_by_role_and_label(Role::TextInput, "搜索");
    harness.get_by_label_contains("沙箱");
    assert!(harness.query_by_label("Refresh").is_none());
    let prefs = harness.state().prefs();
    assert_eq!(prefs.lang, Some(Lang::Zh), "the choice is remembered");
    choose(&mut harness, "Language · 语言", "English");
    harness.get_by_role_and_label(Role::Button, "Refresh");
}
