//! Layer 5: the egui desktop UI. UI state only lives here; every request runs on the
//! [`worker::Worker`] thread, and its answers arrive as [`worker::Event`]s drained once per frame
//! in [`ImageDeskApp::logic_pass`]. Drawing ([`ImageDeskApp::show`]) never does I/O.

pub mod delete_form;
pub mod fonts;
mod form_windows;
pub mod forms;
pub mod i18n;
pub mod inventory;
mod jobs_view;
pub mod model;
pub mod modify_form;
pub mod monitor;
pub mod palette;
pub mod prefs;
pub mod profile_form;
pub mod worker;

use std::collections::{BTreeSet, HashMap, HashSet};

use eframe::egui::{self, Color32, Key, KeyboardShortcut, Modifiers, RichText};
use egui_extras::{Column, TableBuilder};

use crate::client::diagnose::Verdict;
use crate::profiles::ProfileKind;
use crate::profiles::validate as profiles_validate;
pub use fonts::install_fonts;
use i18n::{Lang, fill};
use inventory::{InventoryState, SortColumn};
use model::{ImageRow, Owner, Product, RowKey, Source, Status};
use monitor::{JobBoard, JobState, Notice, human_duration};
use palette::{Action, ActionContext, PaletteState};
use prefs::{PREFS_KEY, Prefs};
use profile_form::{ApsaraStyle, Field, FormMode, ProfileForm};
use worker::{Backend, Command, Event, Failure, ProfileTest, RegionChoice, TaskInfo, Worker, WorkerOptions};

/// A profile the switcher offers (real, keychain-backed profiles come with the profile manager).
#[derive(Clone, Debug)]
pub struct ProfileEntry {
    pub name: String,
    pub backend: Backend,
}

/// Tasks of the selected image, as far as known.
#[derive(Clone, Debug)]
enum TaskView {
    Loading,
    Loaded(Vec<TaskInfo>),
    Failed(Failure),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ToastKind {
    Info,
    Success,
    Error,
}

/// A transient notification in the window's corner.
#[derive(Clone, Debug)]
pub struct Toast {
    kind: ToastKind,
    pub title: String,
    pub body: String,
    /// `ctx` time when first shown.
    shown_at: Option<f64>,
}

impl Toast {
    fn lifetime(&self) -> f64 {
        match self.kind {
            ToastKind::Error => 20.0,
            _ => 8.0,
        }
    }
}

/// The desktop app: UI state plus the handle on the worker.
#[derive(Debug)]
pub struct ImageDeskApp {
    pub lang: Lang,
    /// The language was chosen explicitly (else it follows the OS locale).
    lang_chosen: bool,
    pub inventory: InventoryState,
    pub jobs: JobBoard,
    pub toasts: Vec<Toast>,
    pub palette: PaletteState,
    pub show_jobs: bool,
    pub detail_open: bool,
    profiles: Vec<ProfileEntry>,
    profile: usize,
    /// Regions from DescribeRegions (empty until they arrive).
    region_choices: Vec<RegionChoice>,
    regions_error: Option<Failure>,
    /// How far the server's clock is ahead of ours, once a server refused a request for its time.
    pub clock_offset_secs: Option<i64>,
    /// The regions the inventory shows.
    pub regions: Vec<String>,
    tasks: HashMap<RowKey, TaskView>,
    worker: Option<Worker>,
    worker_error: Option<String>,
    options: WorkerOptions,
    /// Origin of the job board's clock.
    started: std::time::Instant,
    started_wall: chrono::DateTime<chrono::Local>,
    focus_search: bool,
    scroll_to_selection: bool,
    /// The Profiles window.
    pub profiles_open: bool,
    pub profile_form: ProfileForm,
    pub profile_test: Option<ProfileTest>,
    profile_busy: bool,
    pub profile_error: Option<Failure>,
    /// The last credential scan, and which of its profiles are ticked for import.
    pub imports: Option<worker::ImportsFound>,
    pub import_selected: BTreeSet<usize>,
    /// The audit log window.
    pub audit_open: bool,
    pub audit_entries: Option<Vec<crate::client::audit::AuditEntry>>,
    audit_unreadable: usize,
    pub audit_filter: String,
    pub audit_errors_only: bool,
    pub audit_export_path: String,
    pub audit_message: Option<Result<String, String>>,
    /// The Modify image form, while open.
    pub modify: Option<modify_form::ModifyForm>,
    modify_busy: bool,
    /// The last Dry run / Apply outcome (`Ok(true)`: a dry run passed).
    pub modify_result: Option<Result<bool, Failure>>,
    /// The Delete image form, while open.
    pub delete: Option<delete_form::DeleteForm>,
    delete_busy: bool,
    pub delete_result: Option<Result<bool, Failure>>,
    /// Durable import jobs of this profile (newest last) and their live upload progress.
    pub import_jobs: Vec<crate::jobs::import::ImportJob>,
    pub upload_progress: HashMap<String, jobs_view::UploadProgress>,
    /// Job files that could not be read at start.
    pub job_problems: Vec<String>,
    /// The Add / Create / Import forms' windows.
    pub forms: form_windows::FormWindows,
}

impl ImageDeskApp {
    /// One profile on `backend`, default preferences.
    pub fn new(backend: Backend) -> Self {
        Self::with_profiles(
            vec![ProfileEntry { name: String::new(), backend }],
            Prefs::default(),
            WorkerOptions::default(),
        )
    }

    /// The app on `profiles[prefs.profile]`, starting its worker and the first listing.
    pub fn with_profiles(profiles: Vec<ProfileEntry>, prefs: Prefs, options: WorkerOptions) -> Self {
        let mut app = Self::detached(prefs);
        app.profile = app.profile.min(profiles.len().saturating_sub(1));
        app.profiles = profiles;
        app.options = options;
        app.connect();
        app
    }

    /// The app without a worker (benchmarks and layout tests feed it rows directly).
    pub fn detached(prefs: Prefs) -> Self {
        let mut inventory = InventoryState::default();
        inventory.filters = prefs.filters.clone();
        inventory.sort = prefs.sort;
        inventory.ascending = prefs.ascending;
        Self {
            lang: prefs.lang.unwrap_or_else(Lang::from_os),
            lang_chosen: prefs.lang.is_some(),
            inventory,
            jobs: JobBoard::default(),
            toasts: Vec::new(),
            palette: PaletteState::default(),
            show_jobs: prefs.show_jobs,
            detail_open: false,
            profiles: Vec::new(),
            profile: prefs.profile,
            region_choices: Vec::new(),
            regions_error: None,
            clock_offset_secs: None,
            regions: if prefs.regions.is_empty() { Prefs::default().regions } else { prefs.regions },
            tasks: HashMap::new(),
            worker: None,
            worker_error: None,
            options: WorkerOptions::default(),
            started: std::time::Instant::now(),
            started_wall: chrono::Local::now(),
            focus_search: false,
            scroll_to_selection: false,
            profiles_open: false,
            profile_form: ProfileForm::default(),
            profile_test: None,
            profile_busy: false,
            profile_error: None,
            imports: None,
            import_selected: BTreeSet::new(),
            audit_open: false,
            audit_entries: None,
            audit_unreadable: 0,
            audit_filter: String::new(),
            audit_errors_only: false,
            audit_export_path: std::env::var("HOME")
                .map(|home| format!("{home}/imagedesk-audit.csv"))
                .unwrap_or_else(|_| "imagedesk-audit.csv".into()),
            audit_message: None,
            modify: None,
            modify_busy: false,
            modify_result: None,
            delete: None,
            delete_busy: false,
            delete_result: None,
            import_jobs: Vec::new(),
            upload_progress: HashMap::new(),
            job_problems: Vec::new(),
            forms: form_windows::FormWindows::default(),
        }
    }

    /// The preferences to persist.
    pub fn prefs(&self) -> Prefs {
        Prefs {
            lang: self.lang_chosen.then_some(self.lang),
            regions: self.regions.clone(),
            filters: self.inventory.filters.clone(),
            sort: self.inventory.sort,
            ascending: self.inventory.ascending,
            show_jobs: self.show_jobs,
            profile: self.profile,
        }
    }

    /// Whether the current profile is a sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.profiles.get(self.profile).is_some_and(|p| p.backend.is_sandbox())
    }

    fn strings(&self) -> &'static i18n::Strings {
        self.lang.strings()
    }

    pub fn set_language(&mut self, lang: Lang) {
        self.lang = lang;
        self.lang_chosen = true;
    }

    /// (Re)start the worker on the current profile and load everything.
    fn connect(&mut self) {
        self.worker = None; // joins the previous worker first
        let mut fresh = InventoryState::default();
        fresh.filters = self.inventory.filters.clone();
        fresh.sort = self.inventory.sort;
        fresh.ascending = self.inventory.ascending;
        self.inventory = fresh;
        self.jobs = JobBoard::default();
        self.import_jobs.clear();
        self.upload_progress.clear();
        self.tasks.clear();
        self.region_choices.clear();
        self.regions_error = None;
        self.worker_error = None;
        let Some(entry) = self.profiles.get(self.profile) else { return };
        match Worker::spawn(entry.backend.clone(), self.options.clone()) {
            Ok(worker) => {
                self.worker = Some(worker);
                self.send(Command::LoadRegions);
                self.refresh();
            }
            Err(e) => self.worker_error = Some(e.to_string()),
        }
    }

    fn switch_profile(&mut self, index: usize) {
        if index != self.profile && index < self.profiles.len() {
            self.profile = index;
            self.connect();
        }
    }

    fn send(&mut self, command: Command) -> bool {
        self.worker.as_ref().is_some_and(|w| w.send(command))
    }

    /// List every product in the chosen regions again; old rows stay, marked stale.
    pub fn refresh(&mut self) {
        let sources = worker::sources_for(&self.regions);
        if self.send(Command::Refresh { regions: self.regions.clone() }) {
            self.inventory.begin_refresh(&sources);
        }
    }

    fn toggle_region(&mut self, region: &str) {
        if let Some(position) = self.regions.iter().position(|r| r == region) {
            if self.regions.len() > 1 {
                self.regions.remove(position);
            }
        } else {
            self.regions.push(region.to_owned());
        }
        self.refresh();
    }

    /// Sandbox: import the demo bucket's sample disk into the first chosen demo region.
    pub fn demo_import(&mut self) {
        let region = self
            .regions
            .iter()
            .find(|r| matches!(r.as_str(), "cn-hangzhou" | "cn-beijing"))
            .cloned()
            .unwrap_or_else(|| worker::DEFAULT_REGION.to_owned());
        self.send(Command::DemoImport { region });
    }

    fn now_secs(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn toast(&mut self, kind: ToastKind, title: String, body: String) {
        self.toasts.push(Toast { kind, title, body, shown_at: None });
        // Keep the corner readable.
        if self.toasts.len() > 5 {
            self.toasts.remove(0);
        }
    }

    fn notice(&mut self, notice: Notice) {
        let s = self.strings();
        match notice {
            Notice::Finished { name, id } => {
                self.toast(ToastKind::Success, fill(s.toast_ready, &[&name, &id]), String::new())
            }
            Notice::Failed { name, id } => {
                self.toast(
                    ToastKind::Error,
                    fill(s.toast_failed, &[&name, &id]),
                    s.toast_failed_advice.to_owned(),
                );
            }
        }
    }

    /// Fold rows just received into the Activity board; returns keys still in flight.
    fn observe_rows<'a>(&mut self, rows: impl Iterator<Item = &'a ImageRow>) -> Vec<RowKey> {
        let now = self.now_secs();
        let running: HashSet<RowKey> =
            self.jobs.jobs.iter().filter(|j| j.state == JobState::Running).map(|j| j.key.clone()).collect();
        let mut notices = Vec::new();
        let mut in_flight = Vec::new();
        for row in rows {
            if row.status.in_flight() || running.contains(&row.key()) {
                if row.status.in_flight() {
                    in_flight.push(row.key());
                }
                notices.extend(self.jobs.observe(row, now));
            }
        }
        for notice in notices {
            self.notice(notice);
        }
        in_flight
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Listing { source, result } => {
                let watch = match &result {
                    Ok(rows) => self.observe_rows(rows.iter()),
                    Err(_) => Vec::new(),
                };
                self.inventory.apply_listing(source, result);
                if !watch.is_empty() {
                    self.send(Command::Watch(watch));
                }
            }
            Event::Polled { rows, gone } => {
                let now = self.now_secs();
                self.observe_rows(rows.iter());
                for key in &gone {
                    self.jobs.gone(key, now);
                }
                for row in &rows {
                    // A task that settled may have changed state: look it up again when shown.
                    if !row.status.in_flight() {
                        self.tasks.remove(&row.key());
                    }
                }
                self.inventory.apply_updates(rows, &gone);
            }
            Event::Started { key, name, task_id } => {
                let s = self.strings();
                self.toast(ToastKind::Info, fill(s.demo_started, &[&name, &task_id]), String::new());
                self.jobs.started(key.clone(), name, task_id, self.now_secs());
                self.send(Command::Watch(vec![key]));
            }
            Event::ActionFailed { action, failure } => {
                let s = self.strings();
                let body = format!("{}\n{}", failure.message, failure.advice(self.lang));
                self.toast(ToastKind::Error, fill(s.toast_action_failed, &[&action]), body.trim().to_owned());
            }
            Event::Regions(Ok(mut regions)) => {
                regions.sort_by(|a, b| a.id.cmp(&b.id));
                self.region_choices = regions;
                self.regions_error = None;
            }
            Event::Regions(Err(failure)) => self.regions_error = Some(failure),
            Event::ProfileTested(test) => {
                self.profile_busy = false;
                self.profile_test = Some(test);
            }
            Event::ProfileSaved(Ok(record)) => {
                self.profile_busy = false;
                self.profile_error = None;
                let Some(storage) = self.options.storage.clone() else { return };
                let name = record.name().to_owned();
                let s = self.strings();
                let title = fill(s.profile_saved, &[&name, storage.secrets.backend()]);
                let title = if storage.secrets.persistent() {
                    title
                } else {
                    format!("{title} — {}", s.session_only)
                };
                let entry = ProfileEntry {
                    name: name.clone(),
                    backend: Backend::Stored { record, secrets: storage.secrets },
                };
                match self.profiles.iter_mut().find(|p| p.name == name) {
                    Some(existing) => *existing = entry,
                    None => self.profiles.push(entry),
                }
                self.profile_form = ProfileForm::default();
                self.profile_test = None;
                self.toast(ToastKind::Success, title, String::new());
            }
            Event::ImportsFound(found) => {
                // Tick what can be imported and is not there yet.
                let taken = self.saved_names();
                self.import_selected = found
                    .profiles
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| {
                        p.mode.is_supported() && p.problems.is_empty() && !taken.contains(&p.name)
                    })
                    .map(|(i, _)| i)
                    .collect();
                self.imports = Some(found);
            }
            Event::ProfileDeleted(Ok(name)) => {
                let current = self.profiles.get(self.profile).map(|p| p.name.clone());
                self.profiles.retain(|p| !(p.name == name && matches!(p.backend, Backend::Stored { .. })));
                if current.as_deref() == Some(name.as_str()) {
                    // The profile in use is gone: fall back to the last one (the sandbox).
                    self.profile = self.profiles.len().saturating_sub(1);
                    self.connect();
                } else if let Some(current) = current {
                    self.profile = self.profiles.iter().position(|p| p.name == current).unwrap_or(0);
                }
                let s = self.strings();
                self.toast(ToastKind::Info, fill(s.profile_deleted, &[&name]), String::new());
            }
            Event::ProfileDeleted(Err(failure)) => self.profile_error = Some(failure),
            Event::Modified(result) => {
                self.modify_busy = false;
                if let Ok(false) = result {
                    let name = self.modify.take().map(|f| f.values.name).unwrap_or_default();
                    let s = self.strings();
                    self.toast(ToastKind::Success, fill(s.modified, &[&name]), String::new());
                    self.modify_result = None;
                    self.refresh();
                } else {
                    self.modify_result = Some(result);
                }
            }
            Event::Deleted(result) => {
                self.delete_busy = false;
                if let Ok(false) = result {
                    if let Some(form) = self.delete.take() {
                        let s = self.strings();
                        let text = if form.import_task.is_some() { s.import_cancelled } else { s.deleted };
                        self.toast(ToastKind::Success, fill(text, &[&form.name]), String::new());
                        self.detail_open = false;
                    }
                    self.delete_result = None;
                    self.refresh();
                } else {
                    self.delete_result = Some(result);
                }
            }
            Event::AuditLoaded(Ok((entries, unreadable))) => {
                self.audit_entries = Some(entries);
                self.audit_unreadable = unreadable;
            }
            Event::AuditLoaded(Err(failure)) => self.audit_message = Some(Err(failure.message)),
            Event::AuditExported(result) => {
                let s = self.strings();
                let shown = self.filtered_audit().len().to_string();
                self.audit_message = Some(
                    result
                        .map(|path| fill(s.audit_exported, &[&shown, &path.display().to_string()]))
                        .map_err(|f| f.message),
                );
            }
            Event::ProfileSaved(Err(failure)) => {
                self.profile_busy = false;
                self.profile_error = Some(failure);
            }
            Event::JobsLoaded { jobs, problems } => {
                self.import_jobs = jobs;
                self.job_problems = problems;
            }
            Event::Job(event) => self.apply_job_event(event),
            Event::Submitted { form, result } => self.apply_submitted(form, result),
            Event::Sniffed { disk, path, result } => self.apply_sniffed(disk, path, result.map(|b| *b)),
            Event::FilePicked { disk, path } => self.apply_picked(disk, path),
            Event::OssListed { bucket, result } => self.apply_oss_listing(bucket, result),
            Event::ClockSkew { offset_secs } => {
                self.clock_offset_secs = Some(offset_secs);
                let notice = clock_skew_notice(self.lang, offset_secs);
                self.toast(ToastKind::Error, notice, String::new());
            }
            Event::Tasks { key, result } => {
                let view = match result {
                    Ok(tasks) => TaskView::Loaded(tasks),
                    Err(failure) => TaskView::Failed(failure),
                };
                self.tasks.insert(key, view);
            }
        }
    }

    /// Once per frame, before drawing: drain the worker's events and handle global shortcuts.
    pub fn logic_pass(&mut self, ctx: &egui::Context) {
        let mut events = Vec::new();
        if let Some(worker) = &mut self.worker {
            worker.set_context(ctx);
            while let Some(event) = worker.try_recv() {
                events.push(event);
            }
        }
        for event in events {
            self.apply(event);
        }
        self.keyboard(ctx);
        // The detail pane asks for the selected image's tasks once.
        if self.detail_open
            && let Some(row) = self.inventory.selected_row()
            && row.product == Product::Ecs
            && !self.tasks.contains_key(&row.key())
        {
            let key = row.key();
            if self.send(Command::LoadTasks(key.clone())) {
                self.tasks.insert(key, TaskView::Loading);
            }
        }
    }

    fn keyboard(&mut self, ctx: &egui::Context) {
        let command_k = KeyboardShortcut::new(Modifiers::COMMAND, Key::K);
        let command_f = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
        let (palette, search, refresh, escape) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&command_k),
                i.consume_shortcut(&command_f),
                i.consume_key(Modifiers::NONE, Key::F5),
                i.key_pressed(Key::Escape),
            )
        });
        if palette {
            if self.palette.open {
                self.palette.open = false;
            } else {
                self.palette.open();
            }
        }
        if search {
            self.focus_search = true;
        }
        if refresh {
            self.refresh();
        }
        if escape {
            if self.palette.open {
                self.palette.open = false;
            } else if self.modify.is_some() {
                self.modify = None;
            } else if self.delete.is_some() {
                self.delete = None;
            } else if self.profiles_open {
                self.profiles_open = false;
            } else if self.audit_open {
                self.audit_open = false;
            } else if self.detail_open {
                self.detail_open = false;
            }
        }
        // Table navigation only when no text field has the keyboard.
        let typing = ctx.memory(|m| m.focused().is_some());
        if self.palette.open || typing {
            return;
        }
        let (down, up, enter) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::ArrowDown),
                i.consume_key(Modifiers::NONE, Key::ArrowUp),
                i.consume_key(Modifiers::NONE, Key::Enter),
            )
        });
        if down || up {
            self.inventory.move_selection(if down { 1 } else { -1 });
            self.scroll_to_selection = true;
        }
        if enter && self.inventory.selected.is_some() {
            self.detail_open = true;
        }
    }

    fn run_action(&mut self, action: Action) {
        match action {
            Action::Refresh => self.refresh(),
            Action::Search => self.focus_search = true,
            Action::ClearFilters => self.inventory.filters = inventory::Filters::default(),
            Action::ToggleJobs => self.show_jobs = !self.show_jobs,
            Action::CloseDetails => self.detail_open = false,
            Action::SetLanguage(lang) => self.set_language(lang),
            Action::DemoImport => self.demo_import(),
            Action::Sort(column) => self.inventory.toggle_sort(column),
            Action::ToggleRegion(region) => self.toggle_region(&region),
            Action::FilterStatus(status) => self.inventory.filters.status = status,
            Action::FilterProduct(product) => self.inventory.filters.product = product,
            Action::FilterOwner(owner) => self.inventory.filters.owner = owner,
        }
    }

    /// The whole window's contents.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.inventory.update_view();
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar(ui));
        if self.show_jobs {
            egui::Panel::bottom("activity")
                .resizable(true)
                .default_size(170.0)
                .show(ui, |ui| self.activity(ui));
        }
        if self.detail_open && self.inventory.selected_row().is_some() {
            egui::Panel::right("detail").resizable(true).default_size(380.0).show(ui, |ui| self.detail(ui));
        }
        egui::CentralPanel::default().show(ui, |ui| self.inventory_view(ui));
        self.palette_window(ui.ctx());
        self.profiles_window(ui.ctx());
        self.audit_window(ui.ctx());
        self.modify_window(ui.ctx());
        self.delete_window(ui.ctx());
        self.form_windows(ui.ctx());
        self.toasts_area(ui.ctx());
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        ui.horizontal_wrapped(|ui| {
            ui.heading("ImageDesk");
            ui.separator();
            let label = ui.label(s.profile);
            let mut chosen = self.profile;
            let names: Vec<String> = (0..self.profiles.len()).map(|i| self.profile_name(i)).collect();
            egui::ComboBox::from_id_salt("profile")
                .selected_text(names.get(chosen).cloned().unwrap_or_default())
                .show_ui(ui, |ui| {
                    for (index, name) in names.iter().enumerate() {
                        ui.selectable_value(&mut chosen, index, name.as_str());
                    }
                })
                .response
                .labelled_by(label.id);
            self.switch_profile(chosen);
            if self.is_sandbox() {
                ui.label(RichText::new(s.sandbox_banner).color(Color32::from_rgb(200, 120, 0)))
                    .on_hover_text(s.sandbox_hover);
            }
            if let Some(offset) = self.clock_offset_secs {
                ui.label(
                    RichText::new(clock_skew_notice(self.lang, offset)).color(Color32::from_rgb(200, 60, 40)),
                );
            }
            ui.separator();
            self.region_picker(ui);
            let refresh = ui.add_enabled(!self.inventory.any_loading(), egui::Button::new(s.refresh));
            if refresh.on_hover_text("F5").clicked() {
                self.refresh();
            }
            if self.inventory.any_loading() {
                ui.spinner();
                ui.label(s.loading);
            }
            ui.separator();
            let running =
                self.jobs.running() + self.import_jobs.iter().filter(|j| !j.stage.is_terminal()).count();
            let jobs = fill(s.jobs_button, &[&running.to_string()]);
            ui.toggle_value(&mut self.show_jobs, jobs);
            ui.menu_button(s.new_image, |ui| {
                if ui.button(s.new_ecs_import).clicked() {
                    self.open_ecs_import();
                }
                if ui.button(s.new_ens_import).clicked() {
                    self.open_ens_import();
                }
                if ui.button(s.new_create).clicked() {
                    self.open_create(None);
                }
                if ui.button(s.new_add).clicked() {
                    self.open_add(None);
                }
            });
            if ui.button(s.palette_button).on_hover_text("Ctrl+K").clicked() {
                self.palette.open();
            }
            ui.toggle_value(&mut self.profiles_open, s.profiles_button);
            if ui.toggle_value(&mut self.audit_open, s.audit_button).clicked() && self.audit_open {
                self.send(Command::LoadAudit);
            }
            ui.separator();
            let label = ui.label("Language · 语言");
            let mut lang = self.lang;
            egui::ComboBox::from_id_salt("language")
                .selected_text(lang.native_name())
                .show_ui(ui, |ui| {
                    for option in Lang::ALL {
                        ui.selectable_value(&mut lang, option, option.native_name());
                    }
                })
                .response
                .labelled_by(label.id);
            if lang != self.lang {
                self.set_language(lang);
            }
        });
    }

    fn profile_name(&self, index: usize) -> String {
        let s = self.strings();
        match self.profiles.get(index) {
            Some(p) if !p.name.is_empty() => p.name.clone(),
            Some(p) if p.backend.is_sandbox() => s.profile_sandbox.to_owned(),
            _ => s.account_env.to_owned(),
        }
    }

    fn region_picker(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        let summary = match self.regions.as_slice() {
            [one] => one.clone(),
            many => fill(s.regions_selected, &[&many.len().to_string()]),
        };
        let mut toggled = None;
        ui.menu_button(format!("{}: {summary}", s.regions), |ui| {
            let mut choices: Vec<(String, String)> =
                self.region_choices.iter().map(|r| (r.id.clone(), r.local_name.clone())).collect();
            // Chosen regions are always listed, even before DescribeRegions answers.
            for region in &self.regions {
                if !choices.iter().any(|(id, _)| id == region) {
                    choices.push((region.clone(), String::new()));
                }
            }
            if self.region_choices.is_empty() && self.regions_error.is_none() {
                ui.label(s.regions_loading);
            }
            if let Some(error) = &self.regions_error {
                ui.colored_label(ui.visuals().error_fg_color, &error.message);
            }
            egui::ScrollArea::vertical().max_height(360.0).show(ui, |ui| {
                for (id, local) in choices {
                    let mut on = self.regions.contains(&id);
                    if ui.checkbox(&mut on, format!("{id}  {local}")).changed() {
                        toggled = Some(id);
                    }
                }
            });
        });
        if let Some(region) = toggled {
            self.toggle_region(&region);
        }
    }

    fn filter_bar(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        ui.horizontal_wrapped(|ui| {
            let label = ui.label(s.search);
            let search = ui
                .add(
                    egui::TextEdit::singleline(&mut self.inventory.filters.search)
                        .hint_text(s.search_hint)
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.focus_search) {
                search.request_focus();
            }
            let filters = &mut self.inventory.filters;
            combo(ui, "status_filter", s.status, s.all, &mut filters.status, &Status::ALL, |v| {
                s.status_name(*v).to_owned()
            });
            combo(ui, "product_filter", s.product, s.all, &mut filters.product, &Product::ALL, |v| {
                v.label().to_owned()
            });
            combo(ui, "owner_filter", s.owner, s.all, &mut filters.owner, &Owner::ALL, |v| {
                s.owner_name(*v).to_owned()
            });
            let families = self.inventory.families().to_vec();
            let filters = &mut self.inventory.filters;
            combo(ui, "family_filter", s.family, s.all, &mut filters.family, &families, Clone::clone);
            let tags = self.inventory.tags().to_vec();
            let filters = &mut self.inventory.filters;
            combo(ui, "tag_filter", s.tag, s.all, &mut filters.tag, &tags, Clone::clone);
            if ui
                .add_enabled(!self.inventory.filters.is_empty(), egui::Button::new(s.clear_filters))
                .clicked()
            {
                self.inventory.filters = inventory::Filters::default();
            }
        });
    }

    fn inventory_view(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        if let Some(error) = &self.worker_error {
            ui.colored_label(ui.visuals().error_fg_color, fill(s.worker_failed, &[error]));
        }
        self.filter_bar(ui);
        self.inventory.update_view();
        self.errors(ui);
        let total = self.inventory.rows().len();
        let shown = self.inventory.view().len();
        ui.horizontal(|ui| {
            ui.label(fill(s.count, &[&shown.to_string(), &total.to_string()]));
            if self.inventory.any_stale() {
                ui.label(RichText::new(s.stale).italics().weak());
            }
        });
        if total == 0 {
            if self.inventory.loaded() {
                ui.label(s.no_images);
            }
            return;
        }
        if shown == 0 {
            ui.label(s.no_match);
            return;
        }
        self.table(ui);
    }

    fn errors(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        let errors: Vec<(Source, Failure)> =
            self.inventory.errors().map(|(source, failure)| (source.clone(), failure.clone())).collect();
        if errors.is_empty() {
            return;
        }
        let mut retry = false;
        egui::Frame::group(ui.style()).fill(ui.visuals().extreme_bg_color).show(ui, |ui| {
            for (source, failure) in &errors {
                let region = if source.region.is_empty() { "—" } else { source.region.as_str() };
                ui.label(RichText::new(fill(s.source_error, &[source.product.label(), region])).strong());
                ui.colored_label(ui.visuals().error_fg_color, &failure.message);
            }
            // Advice once per distinct failure kind.
            let mut seen = BTreeSet::new();
            for (_, failure) in &errors {
                let advice = failure.advice(self.lang);
                if !advice.is_empty() && seen.insert(advice.to_owned()) {
                    ui.label(format!("{} {advice}", s.advice));
                }
            }
            retry = ui.button(s.retry).clicked();
        });
        if retry {
            self.refresh();
        }
    }

    fn table(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        let lang = self.lang;
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
        // Cell text must not take the click (text selection) from the row.
        ui.style_mut().interaction.selectable_labels = false;
        let scroll_to = std::mem::take(&mut self.scroll_to_selection)
            .then(|| self.inventory.selected_position())
            .flatten();
        let mut builder = TableBuilder::new(ui)
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .min_scrolled_height(0.0);
        if let Some(position) = scroll_to {
            builder = builder.scroll_to_row(position, None);
        }
        for column in SortColumn::ALL {
            builder = builder.column(match column {
                SortColumn::Name => Column::initial(220.0).at_least(80.0).clip(true),
                SortColumn::Id => Column::initial(150.0).at_least(60.0).clip(true),
                SortColumn::Progress => Column::initial(100.0).at_least(60.0),
                SortColumn::Os => Column::initial(140.0).at_least(50.0).clip(true),
                SortColumn::Created => Column::remainder().at_least(110.0),
                _ => Column::initial(90.0).at_least(40.0).clip(true),
            });
        }
        let stale: Vec<Source> =
            self.inventory.sources.iter().filter(|(_, st)| st.stale).map(|(src, _)| src.clone()).collect();
        let mut clicked_header = None;
        let mut clicked_row = None;
        let inventory = &self.inventory;
        let view = inventory.view();
        let rows = inventory.rows();
        builder
            .header(row_height, |mut header| {
                for column in SortColumn::ALL {
                    header.col(|ui| {
                        let arrow = match (inventory.sort == column, inventory.ascending) {
                            (true, true) => " ▲",
                            (true, false) => " ▼",
                            (false, _) => "",
                        };
                        let title = format!("{}{arrow}", column_title(column, lang));
                        if ui.add(egui::Button::new(RichText::new(title).strong()).frame(false)).clicked() {
                            clicked_header = Some(column);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, view.len(), |mut row| {
                    let image = &rows[view[row.index()]];
                    let is_stale = stale
                        .iter()
                        .any(|src| src.product == image.product && src.region == image.source_region);
                    row.set_selected(inventory.selected.as_ref().is_some_and(|key| image.is_key(key)));
                    let text = |text: &str| {
                        let rich = RichText::new(text);
                        if is_stale { rich.weak() } else { rich }
                    };
                    row.col(|ui| {
                        ui.label(text(&image.name));
                    });
                    row.col(|ui| {
                        ui.label(text(&image.id).monospace());
                    });
                    row.col(|ui| {
                        ui.label(text(image.product.label()));
                    });
                    row.col(|ui| {
                        ui.label(text(&image.region));
                    });
                    row.col(|ui| {
                        status_badge(ui, image.status, s);
                    });
                    row.col(|ui| progress_cell(ui, image));
                    row.col(|ui| {
                        ui.label(text(&image.size_gib.map(|g| format!("{g} GiB")).unwrap_or_default()));
                    });
                    row.col(|ui| {
                        ui.label(text(&image.os));
                    });
                    row.col(|ui| {
                        ui.label(text(&image.architecture));
                    });
                    row.col(|ui| {
                        ui.label(text(&image.family));
                    });
                    row.col(|ui| {
                        ui.label(text(&image.boot_mode));
                    });
                    row.col(|ui| {
                        ui.label(text(&image.created));
                    });
                    if row.response().clicked() {
                        clicked_row = Some(image.key());
                    }
                });
            });
        if let Some(column) = clicked_header {
            self.inventory.toggle_sort(column);
        }
        if let Some(key) = clicked_row {
            self.inventory.selected = Some(key);
            self.detail_open = true;
        }
    }

    fn detail(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        let lang = self.lang;
        let Some(row) = self.inventory.selected_row().cloned() else { return };
        let mut close = false;
        ui.horizontal(|ui| {
            ui.heading(s.details);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                close = ui.button(s.close).on_hover_text("Esc").clicked();
            });
        });
        ui.separator();
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            ui.label(RichText::new(&row.name).heading());
            status_badge(ui, row.status, s);
            progress_cell(ui, &row);
            if row.product == Product::Ecs && row.owner == Owner::Own && ui.button(s.modify_button).clicked()
            {
                let last_of_family = !row.family.is_empty()
                    && !self.inventory.rows().iter().any(|other| {
                        other.product == Product::Ecs
                            && other.region == row.region
                            && other.family == row.family
                            && other.status == Status::Available
                            && other.id != row.id
                    });
                self.modify = modify_form::ModifyForm::from_row(&row, last_of_family);
                self.modify_result = None;
            }
            if row.product == Product::Ecs
                && row.owner == Owner::Own
                && row.status == Status::Available
                && ui.button(s.use_in_ehpc).clicked()
            {
                self.open_add(Some(row.id.clone()));
                if let Some(form) = &mut self.forms.add {
                    form.region = row.region.clone();
                }
            }
            if row.product == Product::Ecs && row.owner == Owner::Own && ui.button(s.delete_button).clicked()
            {
                // An image being imported has a running ImportImage task: cancel that instead.
                let import_task = match self.tasks.get(&row.key()) {
                    Some(TaskView::Loaded(tasks)) if row.status.in_flight() => tasks
                        .iter()
                        .find(|t| t.action.eq_ignore_ascii_case("ImportImage") && t.status == "Processing")
                        .map(|t| t.id.clone()),
                    _ => None,
                };
                self.delete = Some(delete_form::DeleteForm::new(&row, import_task));
                self.delete_result = None;
            }
            egui::Grid::new("detail_grid").num_columns(2).striped(true).show(ui, |ui| {
                let lines: [(&str, String); 10] = [
                    (s.col_id, row.id.clone()),
                    (s.product, row.product.label().to_owned()),
                    (s.col_region, row.region.clone()),
                    (s.status, {
                        let name = s.status_name(row.status);
                        if name == row.status_text {
                            name.to_owned()
                        } else {
                            format!("{name} ({})", row.status_text)
                        }
                    }),
                    (s.owner, s.owner_name(row.owner).to_owned()),
                    (s.col_size, row.size_gib.map(|g| format!("{g} GiB")).unwrap_or_default()),
                    (s.col_os, row.os.clone()),
                    (s.col_arch, row.architecture.clone()),
                    (s.family, row.family.clone()),
                    (s.col_created, row.created.clone()),
                ];
                for (label, value) in lines {
                    if !value.is_empty() {
                        ui.label(label);
                        ui.label(value);
                        ui.end_row();
                    }
                }
            });
            let disks = row.disks();
            if !disks.is_empty() {
                ui.add_space(6.0);
                ui.strong(s.disks);
                egui::Grid::new("detail_disks").num_columns(4).striped(true).show(ui, |ui| {
                    for disk in disks {
                        for cell in disk {
                            ui.label(cell);
                        }
                        ui.end_row();
                    }
                });
            }
            if !row.tags.is_empty() {
                ui.add_space(6.0);
                ui.strong(s.tags);
                ui.horizontal_wrapped(|ui| {
                    for (key, value) in &row.tags {
                        ui.label(RichText::new(format!("{key}={value}")).monospace());
                    }
                });
            }
            if row.product == Product::Ecs {
                ui.add_space(6.0);
                ui.strong(s.task);
                match self.tasks.get(&row.key()) {
                    None | Some(TaskView::Loading) => {
                        ui.label(s.tasks_loading);
                    }
                    Some(TaskView::Loaded(tasks)) if tasks.is_empty() => {
                        ui.label(s.no_task);
                    }
                    Some(TaskView::Loaded(tasks)) => {
                        for task in tasks {
                            let mut line =
                                format!("{} · {} · {} · {}", task.id, task.action, task.status, task.created);
                            if !task.finished.is_empty() {
                                line.push_str(&format!(" → {}", task.finished));
                            }
                            ui.label(line);
                        }
                    }
                    Some(TaskView::Failed(failure)) => {
                        ui.colored_label(ui.visuals().error_fg_color, &failure.message);
                    }
                }
            }
            if let Some(job) = self.jobs.jobs.iter().find(|j| j.key == row.key()) {
                ui.add_space(6.0);
                timeline(ui, job, lang, self.started_wall);
            }
            ui.add_space(6.0);
            egui::CollapsingHeader::new(s.all_fields).id_salt("all_fields").show(ui, |ui| {
                egui::Grid::new("detail_fields").num_columns(2).striped(true).show(ui, |ui| {
                    for (name, value) in row.fields() {
                        ui.label(RichText::new(name).monospace());
                        ui.label(value);
                        ui.end_row();
                    }
                });
            });
        });
        if close {
            self.detail_open = false;
        }
    }

    fn activity(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        let lang = self.lang;
        let now = self.now_secs();
        let mut clear = false;
        let mut demo = false;
        let mut open = None;
        ui.horizontal(|ui| {
            ui.strong(s.jobs_title);
            if self.is_sandbox() && ui.button(s.demo_import).clicked() {
                demo = true;
            }
            if self.jobs.jobs.iter().any(|j| j.state != JobState::Running) && ui.button(s.job_clear).clicked()
            {
                clear = true;
            }
        });
        if self.jobs.jobs.is_empty() && self.import_jobs.is_empty() {
            ui.label(RichText::new(s.jobs_empty).weak());
        }
        egui::ScrollArea::vertical().auto_shrink([false, true]).show(ui, |ui| {
            self.import_jobs_view(ui);
            for job in self.jobs.jobs.iter().rev() {
                if self.owned_by_import_job(&job.key) {
                    continue;
                }
                ui.horizontal(|ui| {
                    if ui.link(&job.name).clicked() {
                        open = Some(job.key.clone());
                    }
                    ui.label(RichText::new(&job.key.id).monospace().weak());
                    status_badge(ui, job.status, s);
                    match job.state {
                        JobState::Running if !job.reports_progress => {
                            ui.label(RichText::new(s.job_no_progress).weak());
                        }
                        JobState::Running => {
                            ui.add(
                                egui::ProgressBar::new(f32::from(job.progress) / 100.0)
                                    .desired_width(160.0)
                                    .show_percentage(),
                            );
                            if let Some(rate) = job.rate_per_min(now) {
                                ui.label(fill(s.job_rate, &[&format!("{rate:.1}")]));
                            }
                            if let Some(eta) = job.eta(now) {
                                ui.label(fill(s.job_eta, &[&human_duration(eta)]));
                            }
                        }
                        JobState::Succeeded => {
                            ui.label(s.job_done);
                        }
                        JobState::Failed => {
                            ui.colored_label(Status::Failed.style().0, s.job_failed);
                        }
                    }
                });
                timeline(ui, job, lang, self.started_wall);
                ui.separator();
            }
        });
        if clear {
            self.jobs.clear_finished();
        }
        if demo {
            self.demo_import();
        }
        if let Some(key) = open {
            self.inventory.selected = Some(key);
            self.detail_open = true;
            self.scroll_to_selection = true;
        }
    }

    fn modify_window(&mut self, ctx: &egui::Context) {
        let Some(form) = &mut self.modify else { return };
        let s = self.lang.strings();
        let lang = self.lang;
        let errors = form.validate();
        let server = match &self.modify_result {
            Some(Err(failure)) => Some(failure.clone()),
            _ => None,
        };
        let mut open = true;
        let mut action = None;
        egui::Window::new(s.modify_title)
            .id(egui::Id::unique("modify_window"))
            .open(&mut open)
            .default_width(560.0)
            .show(ctx, |ui| {
                ui.label(RichText::new(format!("{} · {}", form.image_id, form.region)).monospace().weak());
                let show_error = |ui: &mut egui::Ui, form: &modify_form::ModifyForm, wire: &str| {
                    let client = form
                        .error_for(&errors, wire)
                        .map(|e| if lang == Lang::En { e.en.clone() } else { e.zh.clone() });
                    let from_server = server.as_ref().filter(|f| f.field.as_deref() == Some(wire)).map(|f| {
                        let advice = f.advice(lang);
                        if advice.is_empty() {
                            f.message.clone()
                        } else {
                            format!("{} — {advice}", f.code.clone().unwrap_or_default())
                        }
                    });
                    if let Some(text) = client.or(from_server) {
                        ui.label("");
                        ui.colored_label(ui.visuals().error_fg_color, text);
                        ui.end_row();
                    }
                };
                egui::Grid::new("modify_grid").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                    for (wire, label) in [
                        ("ImageName", s.m_name),
                        ("Description", s.m_description),
                        ("ImageFamily", s.m_family),
                    ] {
                        let label = ui.label(label);
                        let value = match wire {
                            "ImageName" => &mut form.values.name,
                            "Description" => &mut form.values.description,
                            _ => &mut form.values.family,
                        };
                        if ui
                            .add(egui::TextEdit::singleline(value).desired_width(340.0))
                            .labelled_by(label.id)
                            .changed()
                        {
                            form.touch.touch(wire);
                        }
                        ui.end_row();
                        show_error(ui, form, wire);
                    }
                    let label = ui.label(s.m_boot);
                    egui::ComboBox::from_id_salt("modify_boot")
                        .selected_text(form.values.boot_mode.clone())
                        .show_ui(ui, |ui| {
                            for mode in ["BIOS", "UEFI", "UEFI-Preferred"] {
                                ui.selectable_value(&mut form.values.boot_mode, mode.to_owned(), mode);
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    ui.end_row();
                    show_error(ui, form, "BootMode");
                    let label = ui.label(s.m_imds);
                    let before = form.values.imds.clone();
                    egui::ComboBox::from_id_salt("modify_imds")
                        .selected_text(form.values.imds.clone())
                        .show_ui(ui, |ui| {
                            for mode in ["v1", "v2"] {
                                ui.selectable_value(&mut form.values.imds, mode.to_owned(), mode);
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    if form.values.imds != before {
                        form.touch.touch("Features.ImdsSupport");
                    }
                    ui.end_row();
                    show_error(ui, form, "Features.ImdsSupport");
                    ui.label("");
                    if ui.checkbox(&mut form.values.deprecated, s.m_deprecated).changed() {
                        form.touch.touch("Status");
                    }
                    ui.end_row();
                    if form.values.deprecated {
                        ui.label("");
                        ui.label(RichText::new(s.m_deprecate_note).small());
                        ui.end_row();
                    }
                    if form.needs_confirmation() {
                        let label = ui.label(s.m_confirm);
                        ui.text_edit_singleline(&mut form.confirmation).labelled_by(label.id);
                        ui.end_row();
                    }
                    show_error(ui, form, "Status");
                });
                ui.add_space(6.0);
                let blocked = form.changed() && !errors.is_empty();
                ui.horizontal(|ui| {
                    let idle = !self.modify_busy && form.changed();
                    if ui.add_enabled(idle, egui::Button::new(s.dry_run)).clicked() {
                        action = Some(true);
                    }
                    if ui.add_enabled(idle, egui::Button::new(s.apply)).clicked() {
                        action = Some(false);
                    }
                    if ui.button(s.copy_cli).clicked() {
                        ui.ctx().copy_text(form.cli_command(false));
                    }
                    if self.modify_busy {
                        ui.spinner();
                    }
                });
                if !form.changed() {
                    ui.label(RichText::new(s.no_changes).weak());
                } else if blocked && form.touch.submitted {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        fill(s.fix_fields, &[&errors.len().to_string()]),
                    );
                }
                ui.label(RichText::new(form.cli_command(false)).monospace().small());
                match &self.modify_result {
                    Some(Ok(true)) => {
                        ui.colored_label(Status::Available.style().0, s.dry_ok);
                    }
                    Some(Err(failure)) if failure.field.is_none() => {
                        ui.colored_label(ui.visuals().error_fg_color, &failure.message);
                    }
                    _ => {}
                }
            });
        if let Some(dry_run) = action {
            form.touch.submit();
            if errors.is_empty() {
                let request = form.request(dry_run);
                self.modify_result = None;
                self.modify_busy = self.send(Command::Modify(Box::new(request)));
            }
        }
        if !open {
            self.modify = None;
        }
    }

    fn delete_window(&mut self, ctx: &egui::Context) {
        let Some(form) = &mut self.delete else { return };
        let s = self.lang.strings();
        let lang = self.lang;
        let mut open = true;
        let mut action = None;
        egui::Window::new(s.delete_title)
            .id(egui::Id::unique("delete_window"))
            .open(&mut open)
            .default_width(520.0)
            .show(ctx, |ui| {
                ui.label(
                    RichText::new(format!("{} · {} · {}", form.name, form.image_id, form.region)).strong(),
                );
                if form.import_task.is_some() {
                    ui.label(s.delete_importing);
                    if ui.add_enabled(!self.delete_busy, egui::Button::new(s.cancel_import)).clicked() {
                        action = Some(None);
                    }
                } else {
                    ui.colored_label(Status::Failed.style().0, s.delete_warning);
                    ui.checkbox(&mut form.force, s.delete_force);
                    if form.force {
                        ui.label(RichText::new(s.delete_force_note).small());
                    }
                    ui.horizontal(|ui| {
                        let label = ui.label(s.delete_confirm);
                        ui.text_edit_singleline(&mut form.confirmation).labelled_by(label.id);
                    });
                    let ready = form.confirmed() && !self.delete_busy;
                    ui.horizontal(|ui| {
                        if ui.add_enabled(ready, egui::Button::new(s.dry_run)).clicked() {
                            action = Some(Some(true));
                        }
                        if ui.add_enabled(ready, egui::Button::new(s.delete_apply)).clicked() {
                            action = Some(Some(false));
                        }
                        if ui.button(s.copy_cli).clicked() {
                            ui.ctx().copy_text(form.cli_command(false));
                        }
                    });
                    if !form.confirmed() {
                        ui.label(RichText::new(s.delete_needs_name).weak());
                    }
                    ui.label(RichText::new(form.cli_command(false)).monospace().small());
                }
                match &self.delete_result {
                    Some(Ok(true)) => {
                        ui.colored_label(Status::Available.style().0, s.dry_ok);
                    }
                    Some(Err(failure)) => {
                        let advice = failure.advice(lang);
                        ui.colored_label(ui.visuals().error_fg_color, &failure.message);
                        if !advice.is_empty() {
                            ui.label(format!("{} {advice}", s.advice));
                        }
                    }
                    _ => {}
                }
            });
        match action {
            Some(Some(dry_run)) => {
                let request = form.request(dry_run);
                self.delete_result = None;
                self.delete_busy = self.send(Command::Delete(Box::new(request)));
            }
            Some(None) => {
                if let Some(request) = form.cancel_request() {
                    self.delete_result = None;
                    self.delete_busy = self.send(Command::CancelImport(Box::new(request)));
                }
            }
            None => {}
        }
        if !open {
            self.delete = None;
        }
    }

    /// Audit entries passing the filter, newest first.
    pub fn filtered_audit(&self) -> Vec<&crate::client::audit::AuditEntry> {
        let needle = self.audit_filter.trim().to_lowercase();
        let Some(entries) = &self.audit_entries else { return Vec::new() };
        entries
            .iter()
            .rev()
            .filter(|e| {
                !self.audit_errors_only
                    || matches!(e.outcome, crate::client::audit::AuditOutcome::Error { .. })
            })
            .filter(|e| {
                let code = match &e.outcome {
                    crate::client::audit::AuditOutcome::Error { code, .. } => code.as_str(),
                    crate::client::audit::AuditOutcome::Success => "",
                };
                needle.is_empty()
                    || [e.action.as_str(), e.profile.as_str(), e.region.as_str(), e.product.as_str(), code]
                        .iter()
                        .any(|f| f.to_lowercase().contains(&needle))
                    || e.params.values().any(|v| v.to_lowercase().contains(&needle))
            })
            .collect()
    }

    fn audit_window(&mut self, ctx: &egui::Context) {
        if !self.audit_open {
            return;
        }
        let s = self.strings();
        let mut open = true;
        let mut reload = false;
        let mut export = None;
        egui::Window::new(s.audit_button)
            .id(egui::Id::unique("audit_window"))
            .open(&mut open)
            .default_width(760.0)
            .default_height(420.0)
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    let label = ui.label(s.audit_filter);
                    ui.text_edit_singleline(&mut self.audit_filter).labelled_by(label.id);
                    ui.checkbox(&mut self.audit_errors_only, s.audit_errors_only);
                    reload = ui.button(s.audit_reload).clicked();
                });
                let total = self.audit_entries.as_ref().map_or(0, Vec::len);
                let shown = self.filtered_audit();
                ui.horizontal(|ui| {
                    ui.label(fill(s.audit_count, &[&shown.len().to_string(), &total.to_string()]));
                    if self.audit_unreadable > 0 {
                        ui.label(
                            RichText::new(fill(s.audit_unreadable, &[&self.audit_unreadable.to_string()]))
                                .weak(),
                        );
                    }
                });
                if total == 0 && self.audit_entries.is_some() {
                    ui.label(RichText::new(s.audit_empty).weak());
                }
                egui::ScrollArea::vertical().max_height(260.0).show(ui, |ui| {
                    egui::Grid::new("audit_grid").striped(true).num_columns(6).show(ui, |ui| {
                        for title in [
                            s.audit_time,
                            s.profile,
                            s.col_region,
                            s.audit_action,
                            s.audit_result,
                            s.audit_request,
                        ] {
                            ui.strong(title);
                        }
                        ui.end_row();
                        for entry in &shown {
                            ui.label(
                                entry
                                    .time
                                    .with_timezone(&chrono::Local)
                                    .format("%Y-%m-%d %H:%M:%S")
                                    .to_string(),
                            );
                            ui.label(&entry.profile);
                            ui.label(&entry.region);
                            let params = serde_json::to_string_pretty(&entry.params).unwrap_or_default();
                            ui.label(&entry.action).on_hover_text(params);
                            match &entry.outcome {
                                crate::client::audit::AuditOutcome::Success => {
                                    ui.colored_label(Status::Available.style().0, "OK");
                                }
                                crate::client::audit::AuditOutcome::Error { code, message } => {
                                    ui.colored_label(Status::Failed.style().0, code).on_hover_text(message);
                                }
                            }
                            ui.label(
                                RichText::new(entry.request_id.as_deref().unwrap_or("")).monospace().small(),
                            );
                            ui.end_row();
                        }
                    });
                });
                ui.separator();
                ui.horizontal(|ui| {
                    let label = ui.label(s.audit_export_path);
                    ui.add(egui::TextEdit::singleline(&mut self.audit_export_path).desired_width(320.0))
                        .labelled_by(label.id);
                    if ui.button(s.audit_export_csv).clicked() {
                        export = Some(worker::ExportFormat::Csv);
                    }
                    if ui.button(s.audit_export_jsonl).clicked() {
                        export = Some(worker::ExportFormat::JsonLines);
                    }
                });
                match &self.audit_message {
                    Some(Ok(text)) => {
                        ui.colored_label(Status::Available.style().0, text);
                    }
                    Some(Err(text)) => {
                        ui.colored_label(ui.visuals().error_fg_color, text);
                    }
                    None => {}
                }
            });
        if !open {
            self.audit_open = false;
        }
        if reload {
            self.send(Command::LoadAudit);
        }
        if let Some(format) = export {
            let entries: Vec<_> = self.filtered_audit().into_iter().cloned().collect();
            let path = std::path::PathBuf::from(self.audit_export_path.trim());
            self.audit_message = None;
            self.send(Command::ExportAudit { entries, path, format });
        }
    }

    /// Names of the profiles the user saved (the form refuses duplicates).
    fn saved_names(&self) -> Vec<String> {
        self.profiles
            .iter()
            .filter(|p| matches!(p.backend, Backend::Stored { .. }))
            .map(|p| p.name.clone())
            .collect()
    }

    fn profiles_window(&mut self, ctx: &egui::Context) {
        if !self.profiles_open {
            return;
        }
        let s = self.strings();
        let mut open = true;
        egui::Window::new(s.profiles_title)
            .id(egui::Id::unique("profiles_window"))
            .open(&mut open)
            .default_width(560.0)
            .default_height(760.0)
            .vscroll(true)
            .show(ctx, |ui| self.profiles_contents(ui));
        if !open {
            self.profiles_open = false;
        }
    }

    fn profiles_contents(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        let lang = self.lang;
        match &self.options.storage {
            Some(storage) => {
                if let Some(problem) = storage.secrets.problem() {
                    ui.colored_label(Color32::from_rgb(200, 120, 0), fill(s.keychain_missing, &[&problem]));
                }
                ui.label(fill(s.secrets_in, &[storage.secrets.backend()]));
            }
            None => {
                ui.label(RichText::new(s.keychain_missing.replace("({0})", "")).weak());
            }
        }
        ui.add_space(4.0);
        ui.strong(s.saved_profiles);
        let saved: Vec<&ProfileEntry> =
            self.profiles.iter().filter(|p| matches!(p.backend, Backend::Stored { .. })).collect();
        if saved.is_empty() {
            ui.label(RichText::new(s.no_saved_profiles).weak());
        }
        let mut delete = None;
        egui::Grid::new("saved_profiles").striped(true).show(ui, |ui| {
            for entry in saved {
                if let Backend::Stored { record, .. } = &entry.backend {
                    ui.label(&entry.name);
                    ui.label(match record.kind {
                        ProfileKind::ApsaraStack => s.kind_apsara,
                        _ => s.kind_cloud,
                    });
                    ui.label(record.connection.region_id.as_str());
                    let button = egui::Button::new(fill(s.delete_profile, &[&entry.name]));
                    if ui.add(button).on_hover_text(s.delete_profile_hint).clicked() {
                        delete = Some(entry.name.clone());
                    }
                    ui.end_row();
                }
            }
        });
        if let Some(name) = delete {
            self.send(Command::DeleteProfile(name));
        }
        ui.separator();
        self.import_section(ui);
        ui.separator();
        ui.heading(s.new_profile);
        let taken = self.saved_names();
        let problems = self.profile_form.validate(&taken);
        let form = &mut self.profile_form;
        egui::Grid::new("profile_form").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
            text_field(ui, form, &problems, lang, Field::Name, s.f_name, FieldKind::Plain);
            let label = ui.label(s.f_kind);
            ui.horizontal(|ui| {
                ui.radio_value(&mut form.kind, ProfileKind::AlibabaCloud, s.kind_cloud);
                ui.radio_value(&mut form.kind, ProfileKind::ApsaraStack, s.kind_apsara);
            })
            .response
            .labelled_by(label.id);
            ui.end_row();
            let label = ui.label(s.f_mode);
            egui::ComboBox::from_id_salt("profile_mode")
                .selected_text(form.mode.label())
                .show_ui(ui, |ui| {
                    for mode in FormMode::ALL {
                        ui.selectable_value(&mut form.mode, mode, mode.label());
                    }
                })
                .response
                .labelled_by(label.id);
            ui.end_row();
            if form.mode != FormMode::EcsRamRole {
                text_field(ui, form, &problems, lang, Field::AccessKeyId, s.f_key_id, FieldKind::Plain);
                text_field(ui, form, &problems, lang, Field::Secret, s.f_secret, FieldKind::Secret);
                ui.label("");
                ui.checkbox(&mut form.reveal_secret, s.f_reveal);
                ui.end_row();
            }
            match form.mode {
                FormMode::StsToken => {
                    text_field(ui, form, &problems, lang, Field::Token, s.f_token, FieldKind::Secret)
                }
                FormMode::RamRoleArn => {
                    text_field(ui, form, &problems, lang, Field::RoleArn, s.f_role_arn, FieldKind::Plain);
                    text_field(ui, form, &problems, lang, Field::SessionName, s.f_session, FieldKind::Plain);
                    text_field(ui, form, &problems, lang, Field::Duration, s.f_duration, FieldKind::Plain);
                }
                FormMode::EcsRamRole => {
                    text_field(ui, form, &problems, lang, Field::RoleName, s.f_role_name, FieldKind::Plain)
                }
                FormMode::AccessKey => {}
            }
            text_field(ui, form, &problems, lang, Field::Region, s.f_region, FieldKind::Plain);
            text_field(ui, form, &problems, lang, Field::Endpoint, s.f_endpoint, FieldKind::Plain);
            let label = ui.label("");
            ui.checkbox(&mut form.allow_http, s.f_http).labelled_by(label.id);
            ui.end_row();
            if form.kind == ProfileKind::ApsaraStack {
                let label = ui.label(s.f_style);
                egui::ComboBox::from_id_salt("apsara_style")
                    .selected_text(form.apsara_style.label())
                    .show_ui(ui, |ui| {
                        for style in ApsaraStyle::ALL {
                            ui.selectable_value(&mut form.apsara_style, style, style.label());
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
                let label = ui.label(s.f_org);
                ui.text_edit_singleline(&mut form.organization_id).labelled_by(label.id);
                ui.end_row();
                let label = ui.label(s.f_rg);
                ui.text_edit_singleline(&mut form.resource_group_id).labelled_by(label.id);
                ui.end_row();
                text_field(ui, form, &problems, lang, Field::CaCertificate, s.f_ca, FieldKind::Plain);
            }
        });
        ui.add_space(6.0);
        let mut action = None;
        ui.horizontal(|ui| {
            let idle = !self.profile_busy;
            if ui.add_enabled(idle, egui::Button::new(s.test_connection)).clicked() {
                action = Some(false);
            }
            if ui
                .add_enabled(idle && self.options.storage.is_some(), egui::Button::new(s.save_profile))
                .clicked()
            {
                action = Some(true);
            }
            if self.profile_busy {
                ui.spinner();
                ui.label(s.testing);
            }
        });
        if self.profile_form.submitted && !problems.is_empty() {
            ui.colored_label(ui.visuals().error_fg_color, fill(s.fix_fields, &[&problems.len().to_string()]));
        }
        if let Some(save) = action {
            self.profile_form.submitted = true;
            if let Ok(draft) = self.profile_form.draft(&taken) {
                let command = if save {
                    Command::SaveProfile(Box::new(draft))
                } else {
                    Command::TestProfile(Box::new(draft))
                };
                self.profile_test = None;
                self.profile_error = None;
                self.profile_busy = self.send(command);
            }
        }
        if let Some(test) = &self.profile_test {
            let (text, good) = verdict_text(test, lang);
            let color = if good { Status::Available.style().0 } else { ui.visuals().error_fg_color };
            ui.colored_label(color, text);
            if let Some(skew) = test.clock_skew_secs {
                ui.label(fill(s.clock_diff, &[&skew.to_string()]));
            }
            if let Some(error) = &test.error {
                ui.label(RichText::new(error).weak().small());
            }
        }
        if let Some(failure) = &self.profile_error {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("{}: {}", s.profile_save_failed, failure.message),
            );
        }
    }

    fn import_section(&mut self, ui: &mut egui::Ui) {
        let s = self.strings();
        ui.heading(s.import_title);
        ui.label(RichText::new(s.import_hint).weak());
        if ui.add_enabled(self.options.storage.is_some(), egui::Button::new(s.import_scan)).clicked() {
            self.send(Command::ScanImports);
        }
        let Some(found) = &self.imports else { return };
        ui.label(RichText::new(fill(s.import_searched, &[&found.searched.join(", ")])).small().weak());
        for error in &found.errors {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        if found.profiles.is_empty() {
            ui.label(s.import_none);
            return;
        }
        let mut selected = self.import_selected.clone();
        for (index, profile) in found.profiles.iter().enumerate() {
            let usable = profile.mode.is_supported() && profile.problems.is_empty();
            let mut on = selected.contains(&index);
            let label = format!("{} · {} · {}", profile.name, profile.mode, profile.source);
            if ui.add_enabled(usable, egui::Checkbox::new(&mut on, label)).changed() {
                if on {
                    selected.insert(index);
                } else {
                    selected.remove(&index);
                }
            }
            if !usable {
                let why = if profile.mode.is_supported() {
                    profile.problems.join("; ")
                } else {
                    profile.mode.to_string()
                };
                ui.label(
                    RichText::new(fill(s.import_cannot, &[&why])).small().color(Status::Deprecated.style().0),
                );
            }
        }
        let count = selected.len();
        let import =
            ui.add_enabled(count > 0, egui::Button::new(fill(s.import_selected, &[&count.to_string()])));
        // Copy the chosen profiles (they hold secrets) only when asked, not every frame.
        let chosen: Vec<_> = if import.clicked() {
            selected.iter().filter_map(|&i| found.profiles.get(i).cloned()).collect()
        } else {
            Vec::new()
        };
        self.import_selected = selected;
        if !chosen.is_empty() {
            self.import_selected.clear();
            self.send(Command::ImportProfiles(chosen));
        }
    }

    fn palette_window(&mut self, ctx: &egui::Context) {
        if !self.palette.open {
            return;
        }
        let s = self.strings();
        let regions: Vec<(String, String)> =
            self.region_choices.iter().map(|r| (r.id.clone(), r.local_name.clone())).collect();
        let context = ActionContext { sandbox: self.is_sandbox(), lang: self.lang, regions: &regions };
        let matches = self.palette.matching(&context);
        let mut chosen = None;
        let (down, up, enter) = ctx.input_mut(|i| {
            (
                i.consume_key(Modifiers::NONE, Key::ArrowDown),
                i.consume_key(Modifiers::NONE, Key::ArrowUp),
                i.consume_key(Modifiers::NONE, Key::Enter),
            )
        });
        if down {
            self.palette.highlighted = (self.palette.highlighted + 1).min(matches.len().saturating_sub(1));
        }
        if up {
            self.palette.highlighted = self.palette.highlighted.saturating_sub(1);
        }
        self.palette.highlighted = self.palette.highlighted.min(matches.len().saturating_sub(1));
        if enter && let Some((action, _)) = matches.get(self.palette.highlighted) {
            chosen = Some(action.clone());
        }
        let mut open = true;
        egui::Window::new(s.palette_title)
            .id(egui::Id::unique("command_palette"))
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_TOP, egui::vec2(0.0, 60.0))
            .default_width(440.0)
            .show(ctx, |ui| {
                let before = self.palette.query.clone();
                let input = ui.add(
                    egui::TextEdit::singleline(&mut self.palette.query)
                        .hint_text(s.palette_hint)
                        .desired_width(f32::INFINITY),
                );
                let input = input.labelled_by(ui.label(s.palette_title).id);
                input.request_focus();
                if self.palette.query != before {
                    self.palette.highlighted = 0;
                }
                ui.separator();
                if matches.is_empty() {
                    ui.label(s.palette_none);
                }
                egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
                    for (index, (action, label)) in matches.iter().enumerate() {
                        let highlighted = index == self.palette.highlighted;
                        let response = ui.selectable_label(highlighted, label);
                        if highlighted && (down || up) {
                            response.scroll_to_me(None);
                        }
                        if response.clicked() {
                            chosen = Some(action.clone());
                        }
                    }
                });
            });
        if !open {
            self.palette.open = false;
        }
        if let Some(action) = chosen {
            self.palette.open = false;
            self.run_action(action);
        }
    }

    fn toasts_area(&mut self, ctx: &egui::Context) {
        if self.toasts.is_empty() {
            return;
        }
        let now = ctx.input(|i| i.time);
        let mut next_expiry = f64::INFINITY;
        self.toasts.retain_mut(|toast| {
            let shown = *toast.shown_at.get_or_insert(now);
            let left = shown + toast.lifetime() - now;
            next_expiry = next_expiry.min(left);
            left > 0.0
        });
        if next_expiry.is_finite() {
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(next_expiry.max(0.05)));
        }
        let mut dismissed = None;
        egui::Area::new(egui::Id::unique("toasts"))
            .anchor(egui::Align2::RIGHT_BOTTOM, egui::vec2(-12.0, -12.0))
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                ui.set_max_width(380.0);
                for (index, toast) in self.toasts.iter().enumerate() {
                    let color = match toast.kind {
                        ToastKind::Info => Status::Creating.style().0,
                        ToastKind::Success => Status::Available.style().0,
                        ToastKind::Error => Status::Failed.style().0,
                    };
                    egui::Frame::popup(ui.style()).stroke(egui::Stroke::new(1.5, color)).show(ui, |ui| {
                        ui.horizontal(|ui| {
                            ui.label(RichText::new(&toast.title).strong().color(color));
                            if ui.small_button("×").on_hover_text(self.lang.strings().close).clicked() {
                                dismissed = Some(index);
                            }
                        });
                        if !toast.body.is_empty() {
                            ui.label(&toast.body);
                        }
                    });
                    ui.add_space(4.0);
                }
            });
        if let Some(index) = dismissed {
            self.toasts.remove(index);
        }
    }
}

/// A filter combo box: `None` shows `all`.
fn combo<T: Clone + PartialEq>(
    ui: &mut egui::Ui,
    id: &str,
    label: &str,
    all: &str,
    value: &mut Option<T>,
    options: &[T],
    name: impl Fn(&T) -> String,
) {
    let label = ui.label(label);
    let current = value.as_ref().map_or_else(|| all.to_owned(), &name);
    egui::ComboBox::from_id_salt(id)
        .selected_text(current)
        .width(110.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(value, None, all);
            for option in options {
                ui.selectable_value(value, Some(option.clone()), name(option));
            }
        })
        .response
        .labelled_by(label.id);
}

/// A column's title in `lang`.
pub fn column_title(column: SortColumn, lang: Lang) -> &'static str {
    let s = lang.strings();
    match column {
        SortColumn::Name => s.col_name,
        SortColumn::Id => s.col_id,
        SortColumn::Product => s.product,
        SortColumn::Region => s.col_region,
        SortColumn::Status => s.status,
        SortColumn::Progress => s.col_progress,
        SortColumn::Size => s.col_size,
        SortColumn::Os => s.col_os,
        SortColumn::Architecture => s.col_arch,
        SortColumn::Family => s.family,
        SortColumn::BootMode => s.col_boot,
        SortColumn::Created => s.col_created,
    }
}

/// The status as icon + word in its palette colour.
fn status_badge(ui: &mut egui::Ui, status: Status, s: &i18n::Strings) {
    let (color, icon) = status.style();
    ui.label(RichText::new(format!("{icon} {}", s.status_name(status))).color(color).strong());
}

fn progress_cell(ui: &mut egui::Ui, image: &ImageRow) {
    match (image.status.in_flight(), image.progress) {
        (true, Some(progress)) => {
            let fraction = f32::from(progress) / 100.0;
            ui.add(egui::ProgressBar::new(fraction).show_percentage().desired_width(90.0));
        }
        (true, None) => {
            ui.label(RichText::new("…").weak());
        }
        (false, Some(percent)) if image.status == Status::Failed => {
            ui.label(format!("{percent}%"));
        }
        _ => {}
    }
}

fn timeline(ui: &mut egui::Ui, job: &monitor::Job, lang: Lang, origin: chrono::DateTime<chrono::Local>) {
    ui.horizontal_wrapped(|ui| {
        for (index, entry) in job.timeline.iter().enumerate() {
            if index > 0 {
                ui.label(RichText::new("→").weak());
            }
            let at = origin + chrono::Duration::milliseconds((entry.at_secs * 1000.0) as i64);
            ui.label(RichText::new(format!("{} {}", at.format("%H:%M:%S"), entry.what.text(lang))).small());
        }
    });
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    Plain,
    /// Masked unless "Show secret" is on.
    Secret,
}

/// One labelled text field of the profile form, with its error underneath once it may show.
fn text_field(
    ui: &mut egui::Ui,
    form: &mut ProfileForm,
    problems: &std::collections::BTreeMap<Field, profiles_validate::Problem>,
    lang: Lang,
    field: Field,
    label: &str,
    kind: FieldKind,
) {
    let label = ui.label(label);
    let reveal = form.reveal_secret;
    let value = match field {
        Field::Name => &mut form.name,
        Field::AccessKeyId => &mut form.access_key_id,
        Field::Secret => &mut form.access_key_secret,
        Field::Token => &mut form.security_token,
        Field::RoleArn => &mut form.role_arn,
        Field::SessionName => &mut form.session_name,
        Field::Duration => &mut form.duration,
        Field::RoleName => &mut form.role_name,
        Field::Region => &mut form.region,
        Field::Endpoint => &mut form.endpoint,
        Field::CaCertificate => &mut form.ca_certificate,
    };
    let edit =
        egui::TextEdit::singleline(value).desired_width(320.0).password(kind == FieldKind::Secret && !reveal);
    let changed = ui.add(edit).labelled_by(label.id).changed();
    ui.end_row();
    if changed {
        form.touch(field);
    }
    if form.shows(field)
        && let Some(problem) = problems.get(&field)
    {
        ui.label("");
        let text = match lang {
            Lang::En => &problem.en,
            Lang::Zh => &problem.zh,
        };
        ui.colored_label(ui.visuals().error_fg_color, text);
        ui.end_row();
    }
}

/// What a connection test means, in the UI language; `true` when it worked.
fn verdict_text(test: &ProfileTest, lang: Lang) -> (String, bool) {
    let skew = test.clock_skew_secs.unwrap_or(0).to_string();
    let (en, zh) = match test.verdict {
        Verdict::Connected => {
            let n = test.regions.to_string();
            return (
                match lang {
                    Lang::En => format!("Connected: {n} regions visible."),
                    Lang::Zh => format!("连接成功：可见 {n} 个地域。"),
                },
                true,
            );
        }
        Verdict::UnknownAccessKey => (
            "This AccessKey ID does not exist (or belongs to another site): check the ID.",
            "此 AccessKey ID 不存在（或属于其他站点）：请检查 ID。",
        ),
        Verdict::WrongSecret => (
            "Signature mismatch: the AccessKey secret is wrong for this ID.",
            "签名不匹配：此 ID 对应的 AccessKey Secret 不正确。",
        ),
        Verdict::DisabledKey => (
            "This AccessKey is disabled: enable it in the RAM console, or use another.",
            "此 AccessKey 已被禁用：请在 RAM 控制台启用，或换用其他密钥。",
        ),
        Verdict::BadSecurityToken => (
            "The STS security token is wrong or has expired: get a new temporary key.",
            "STS 安全令牌错误或已过期：请重新获取临时密钥。",
        ),
        Verdict::MissingPermission => (
            "The key works but may not call ECS DescribeRegions: grant it ecs:Describe* (for example AliyunECSReadOnlyAccess).",
            "密钥有效，但无权调用 ECS DescribeRegions：请授予 ecs:Describe*（例如 AliyunECSReadOnlyAccess）。",
        ),
        Verdict::ClockSkew => {
            return (
                match lang {
                    Lang::En => format!("Your clock is {skew} s off the server's: correct the system time."),
                    Lang::Zh => format!("本机时钟与服务器相差 {skew} 秒：请校正系统时间。"),
                },
                false,
            );
        }
        Verdict::Tls => (
            "TLS failed: for a private cloud give its CA certificate, and check the endpoint's host name.",
            "TLS 握手失败：专有云请提供其 CA 证书，并检查 Endpoint 的主机名。",
        ),
        Verdict::Network => (
            "No answer from the endpoint: check the address, proxy and firewall.",
            "Endpoint 无响应：请检查地址、代理和防火墙。",
        ),
        Verdict::Other => ("The test failed.", "测试失败。"),
    };
    (if lang == Lang::En { en } else { zh }.to_owned(), false)
}

impl eframe::App for ImageDeskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_pass(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        storage.set_string(PREFS_KEY, self.prefs().to_json());
    }
}

/// Preferences stored by an earlier run, if any.
pub fn load_prefs(storage: Option<&dyn eframe::Storage>) -> Prefs {
    storage.and_then(|s| s.get_string(PREFS_KEY)).map(|text| Prefs::from_json(&text)).unwrap_or_default()
}

/// What to tell the user when the server's clock is `offset` seconds ahead of this machine's.
pub fn clock_skew_notice(lang: Lang, offset: i64) -> String {
    // The offset is known to a second or two (the server's `Date`): whole minutes say enough.
    let amount = offset.unsigned_abs();
    let minutes = (amount + 30) / 60;
    let span = match lang {
        Lang::En if amount < 120 => format!("{amount} s"),
        Lang::En => format!("about {minutes} min"),
        Lang::Zh if amount < 120 => format!("{amount} 秒"),
        Lang::Zh => format!("约 {minutes} 分钟"),
    };
    match (lang, offset > 0) {
        (Lang::En, true) => format!(
            "This computer's clock is {span} behind the server's. ImageDesk adjusts its requests; correct the system time."
        ),
        (Lang::En, false) => format!(
            "This computer's clock is {span} ahead of the server's. ImageDesk adjusts its requests; correct the system time."
        ),
        (Lang::Zh, true) => {
            format!("本机时钟比服务器慢 {span}。ImageDesk 已为请求校正时间；请校准系统时间。")
        }
        (Lang::Zh, false) => {
            format!("本机时钟比服务器快 {span}。ImageDesk 已为请求校正时间；请校准系统时间。")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_notice_says_which_way_and_roughly_how_far() {
        assert_eq!(
            clock_skew_notice(Lang::En, 1_195),
            "This computer's clock is about 20 min behind the server's. ImageDesk adjusts its requests; correct the system time."
        );
        assert!(clock_skew_notice(Lang::En, -45).starts_with("This computer's clock is 45 s ahead"));
        assert!(clock_skew_notice(Lang::Zh, -3_600).starts_with("本机时钟比服务器快 约 60 分钟"));
    }

    #[test]
    fn every_column_has_a_title_in_both_languages() {
        for lang in Lang::ALL {
            for column in SortColumn::ALL {
                assert!(!column_title(column, lang).is_empty());
            }
        }
        assert_eq!(column_title(SortColumn::Created, Lang::Zh), "创建时间");
    }

    #[test]
    fn prefs_survive_a_round_trip_through_the_app() {
        let mut prefs = Prefs { lang: Some(Lang::Zh), show_jobs: false, ..Prefs::default() };
        prefs.filters.product = Some(Product::Ens);
        let app = ImageDeskApp::detached(prefs.clone());
        assert_eq!(app.prefs(), prefs);
        assert_eq!(app.lang, Lang::Zh);
    }

    #[test]
    fn a_finished_watch_becomes_a_toast() {
        let mut app = ImageDeskApp::detached(Prefs::default());
        let row = |status: &str, progress: &str| model::test_ecs_row("m-1", "imp", status, progress);
        let source = Source { product: Product::Ecs, region: "cn-hangzhou".into() };
        app.apply(Event::Listing { source, result: Ok(vec![row("Creating", "10%")]) });
        assert_eq!(app.jobs.running(), 1);
        app.apply(Event::Polled { rows: vec![row("Available", "100%")], gone: vec![] });
        assert_eq!(app.jobs.running(), 0);
        assert_eq!(app.toasts.len(), 1);
        assert!(app.toasts[0].title.contains("imp"), "{:?}", app.toasts);
        assert_eq!(app.inventory.rows()[0].status, Status::Available);
    }
}
