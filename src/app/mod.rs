//! Layer 5: the egui desktop UI. UI state only lives here; every request runs on the
//! [`worker::Worker`] thread, and its answers arrive as [`worker::Event`]s drained once per frame.

pub mod fonts;
pub mod worker;

use std::cmp::Ordering;

use eframe::egui::{self, Color32, RichText};
use egui_extras::{Column, TableBuilder};

use crate::protocol::ops::ecs::{self, ImageStatus};
use worker::{Backend, Command, Event, INVENTORY_REGION, Worker};

pub use fonts::install_fonts;

/// Table columns, in display order; also the sort keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortColumn {
    #[default]
    Name,
    Id,
    Status,
    Progress,
    Size,
    Platform,
    Created,
}

impl SortColumn {
    pub const ALL: [SortColumn; 7] =
        [Self::Name, Self::Id, Self::Status, Self::Progress, Self::Size, Self::Platform, Self::Created];

    pub fn title(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Id => "ID",
            Self::Status => "Status",
            Self::Progress => "Progress",
            Self::Size => "Size",
            Self::Platform => "Platform",
            Self::Created => "Created",
        }
    }

    fn compare(self, a: &ecs::Image, b: &ecs::Image) -> Ordering {
        match self {
            Self::Name => a.image_name.to_lowercase().cmp(&b.image_name.to_lowercase()),
            Self::Id => a.image_id.cmp(&b.image_id),
            Self::Status => a.status.cmp(&b.status),
            Self::Progress => a.progress_percent().cmp(&b.progress_percent()),
            Self::Size => a.size.cmp(&b.size),
            Self::Platform => a.platform.cmp(&b.platform),
            Self::Created => a.creation_time.cmp(&b.creation_time),
        }
    }
}

/// Everything the inventory view shows; no handles, no I/O, so it is testable on its own.
#[derive(Clone, Debug)]
pub struct InventoryState {
    pub rows: Vec<ecs::Image>,
    /// Case-insensitive substring of the name or the ID.
    pub search: String,
    /// `None` = every status.
    pub status_filter: Option<ImageStatus>,
    pub sort: SortColumn,
    pub ascending: bool,
    /// The selected image's ID (survives refreshes and re-sorting).
    pub selected: Option<String>,
    /// A refresh is in flight.
    pub loading: bool,
    /// The last refresh failed.
    pub error: Option<String>,
    /// `rows` are from an earlier refresh (the latest one failed or is still running).
    pub stale: bool,
    /// At least one refresh has completed.
    pub loaded: bool,
}

impl Default for InventoryState {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            search: String::new(),
            status_filter: None,
            sort: SortColumn::Name,
            ascending: true,
            selected: None,
            loading: false,
            error: None,
            stale: false,
            loaded: false,
        }
    }
}

impl InventoryState {
    /// Indices into `rows` that pass the search and status filter, in display order.
    pub fn visible_rows(&self) -> Vec<usize> {
        let needle = self.search.trim().to_lowercase();
        let mut visible: Vec<usize> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, image)| {
                needle.is_empty()
                    || image.image_name.to_lowercase().contains(&needle)
                    || image.image_id.to_lowercase().contains(&needle)
            })
            .filter(|(_, image)| self.status_filter.as_ref().is_none_or(|status| image.status() == *status))
            .map(|(index, _)| index)
            .collect();
        visible.sort_by(|&a, &b| {
            let (a, b) = (&self.rows[a], &self.rows[b]);
            let order = self.sort.compare(a, b).then_with(|| a.image_id.cmp(&b.image_id));
            if self.ascending { order } else { order.reverse() }
        });
        visible
    }

    /// Click on a column header: sort by it, or flip the direction if it already is the key.
    pub fn toggle_sort(&mut self, column: SortColumn) {
        if self.sort == column {
            self.ascending = !self.ascending;
        } else {
            self.sort = column;
            self.ascending = true;
        }
    }

    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Images(images) => {
                self.rows = images;
                self.loading = false;
                self.error = None;
                self.stale = false;
                self.loaded = true;
                if let Some(id) = &self.selected
                    && !self.rows.iter().any(|image| &image.image_id == id)
                {
                    self.selected = None;
                }
            }
            Event::Error(message) => {
                self.loading = false;
                self.error = Some(message);
                self.stale = !self.rows.is_empty();
            }
        }
    }
}

/// The desktop app: UI state plus the handle on the worker.
#[derive(Debug)]
pub struct ImageDeskApp {
    pub inventory: InventoryState,
    sandbox: bool,
    worker: Option<Worker>,
}

impl ImageDeskApp {
    /// Start the worker on `backend` and ask for the first listing.
    pub fn new(backend: Backend) -> Self {
        let sandbox = backend.is_sandbox();
        let mut inventory = InventoryState::default();
        let worker = match Worker::spawn(backend) {
            Ok(worker) => Some(worker),
            Err(e) => {
                inventory.error = Some(format!("cannot start the background worker: {e}"));
                None
            }
        };
        let mut app = Self { inventory, sandbox, worker };
        app.refresh();
        app
    }

    /// Whether the app works against the built-in sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.sandbox
    }

    pub fn refresh(&mut self) {
        if self.inventory.loading {
            return;
        }
        if let Some(worker) = &self.worker
            && worker.send(Command::Refresh)
        {
            self.inventory.loading = true;
            self.inventory.stale = !self.inventory.rows.is_empty();
        }
    }

    /// Apply every event the worker has sent since the last frame.
    pub fn drain_events(&mut self, ctx: &egui::Context) {
        let Some(worker) = &mut self.worker else { return };
        worker.set_context(ctx);
        while let Some(event) = worker.try_recv() {
            self.inventory.apply(event);
        }
    }

    /// The whole window's contents (also what the headless tests drive).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.drain_events(&ui.ctx().clone());
        egui::Panel::top("top_bar").show(ui, |ui| self.top_bar(ui));
        egui::CentralPanel::default().show(ui, |ui| self.inventory_view(ui));
    }

    fn top_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("ImageDesk");
            ui.separator();
            if self.sandbox {
                ui.label(
                    RichText::new("Sandbox (no account configured)").color(Color32::from_rgb(200, 120, 0)),
                );
            } else {
                ui.label("Account from environment");
            }
            ui.separator();
            ui.label(format!("ECS · {INVENTORY_REGION}"));
            ui.separator();
            let refresh = ui.add_enabled(!self.inventory.loading, egui::Button::new("Refresh"));
            if refresh.clicked() {
                self.refresh();
            }
            if self.inventory.loading {
                ui.spinner();
                ui.label("Loading…");
            }
        });
    }

    fn inventory_view(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let label = ui.label("Search");
            ui.add(egui::TextEdit::singleline(&mut self.inventory.search).hint_text("name or ID"))
                .labelled_by(label.id);
            let status_label = ui.label("Status");
            let current = self.inventory.status_filter.as_ref().map_or("All", ImageStatus::as_str).to_owned();
            egui::ComboBox::from_id_salt("status_filter")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.inventory.status_filter, None, "All");
                    for status in ImageStatus::all() {
                        let text = status.as_str().to_owned();
                        ui.selectable_value(&mut self.inventory.status_filter, Some(status), text);
                    }
                })
                .response
                .labelled_by(status_label.id);
        });

        if let Some(error) = self.inventory.error.clone() {
            ui.horizontal(|ui| {
                ui.colored_label(ui.visuals().error_fg_color, error);
                if ui.button("Retry").clicked() {
                    self.refresh();
                }
            });
            if self.inventory.stale {
                ui.label("Showing the last successful listing.");
            }
        }

        let visible = self.inventory.visible_rows();
        ui.label(format!("{} of {} images", visible.len(), self.inventory.rows.len()));
        if self.inventory.rows.is_empty() {
            if self.inventory.loaded {
                ui.label("No custom images in this region.");
            }
            return;
        }
        self.table(ui, &visible);
    }

    fn table(&mut self, ui: &mut egui::Ui, visible: &[usize]) {
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let mut builder = TableBuilder::new(ui)
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
        for column in SortColumn::ALL {
            builder = builder.column(match column {
                SortColumn::Name => Column::initial(220.0).at_least(80.0).clip(true),
                SortColumn::Id => Column::initial(170.0).at_least(60.0).clip(true),
                SortColumn::Progress => Column::initial(110.0).at_least(60.0),
                SortColumn::Created => Column::remainder().at_least(80.0),
                _ => Column::auto().at_least(50.0),
            });
        }
        let mut clicked_header = None;
        let mut clicked_row = None;
        let inventory = &self.inventory;
        builder
            .header(row_height, |mut header| {
                for column in SortColumn::ALL {
                    header.col(|ui| {
                        let arrow = match (inventory.sort == column, inventory.ascending) {
                            (true, true) => " ▲",
                            (true, false) => " ▼",
                            (false, _) => "",
                        };
                        if ui.button(format!("{}{arrow}", column.title())).clicked() {
                            clicked_header = Some(column);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(row_height, visible.len(), |mut row| {
                    let image = &inventory.rows[visible[row.index()]];
                    row.set_selected(inventory.selected.as_deref() == Some(image.image_id.as_str()));
                    row.col(|ui| {
                        ui.label(&image.image_name);
                    });
                    row.col(|ui| {
                        ui.monospace(&image.image_id);
                    });
                    row.col(|ui| {
                        status_badge(ui, &image.status());
                    });
                    row.col(|ui| match (image.status(), image.progress_percent()) {
                        (ImageStatus::Creating, Some(percent)) => {
                            ui.add(egui::ProgressBar::new(f32::from(percent) / 100.0).show_percentage());
                        }
                        (_, Some(percent)) => {
                            ui.label(format!("{percent}%"));
                        }
                        (_, None) => {}
                    });
                    row.col(|ui| {
                        ui.label(format!("{} GiB", image.size));
                    });
                    row.col(|ui| {
                        ui.label(&image.platform);
                    });
                    row.col(|ui| {
                        ui.label(&image.creation_time);
                    });
                    if row.response().clicked() {
                        clicked_row = Some(image.image_id.clone());
                    }
                });
            });
        if let Some(column) = clicked_header {
            self.inventory.toggle_sort(column);
        }
        if let Some(id) = clicked_row {
            self.inventory.selected = Some(id);
        }
    }
}

/// The status as coloured text (colour is never the only cue: the word is always there).
fn status_badge(ui: &mut egui::Ui, status: &ImageStatus) {
    let color = match status {
        ImageStatus::Available => Color32::from_rgb(0, 150, 70),
        ImageStatus::Creating | ImageStatus::Waiting => Color32::from_rgb(30, 110, 220),
        ImageStatus::CreateFailed | ImageStatus::UnAvailable => Color32::from_rgb(210, 50, 50),
        ImageStatus::Deprecated | ImageStatus::Other(_) => Color32::GRAY,
    };
    ui.label(RichText::new(status.as_str()).color(color).strong());
}

impl eframe::App for ImageDeskApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, name: &str, status: &str, size: u64) -> ecs::Image {
        ecs::Image {
            image_id: id.into(),
            image_name: name.into(),
            status: status.into(),
            size,
            ..Default::default()
        }
    }

    fn state() -> InventoryState {
        InventoryState {
            rows: vec![
                image("m-3", "web-base", "Available", 40),
                image("m-1", "中文镜像-centos", "Creating", 20),
                image("m-2", "Db-MySQL", "CreateFailed", 80),
                image("m-4", "web-nginx", "Available", 20),
            ],
            ..Default::default()
        }
    }

    fn ids(state: &InventoryState) -> Vec<&str> {
        state.visible_rows().into_iter().map(|i| state.rows[i].image_id.as_str()).collect()
    }

    #[test]
    fn default_sort_is_by_name_case_insensitive() {
        assert_eq!(ids(&state()), ["m-2", "m-3", "m-4", "m-1"]);
    }

    #[test]
    fn search_matches_name_or_id_case_insensitively() {
        let mut s = state();
        s.search = " WEB ".into();
        assert_eq!(ids(&s), ["m-3", "m-4"]);
        s.search = "中文".into();
        assert_eq!(ids(&s), ["m-1"]);
        s.search = "M-2".into();
        assert_eq!(ids(&s), ["m-2"]);
        s.search = "nothing".into();
        assert!(ids(&s).is_empty());
    }

    #[test]
    fn status_filter_and_sort_compose() {
        let mut s = state();
        s.status_filter = Some(ImageStatus::Available);
        s.toggle_sort(SortColumn::Size);
        assert_eq!(ids(&s), ["m-4", "m-3"]);
        s.toggle_sort(SortColumn::Size);
        assert!(!s.ascending);
        assert_eq!(ids(&s), ["m-3", "m-4"]);
        s.status_filter = None;
        assert_eq!(ids(&s), ["m-2", "m-3", "m-4", "m-1"], "ties broken by ID, reversed with the rest");
    }

    #[test]
    fn an_error_keeps_the_old_rows_as_stale() {
        let mut s = state();
        s.selected = Some("m-2".into());
        s.apply(Event::Error("boom".into()));
        assert!(s.stale && s.error.is_some() && s.rows.len() == 4);
        s.apply(Event::Images(vec![image("m-9", "new", "Available", 1)]));
        assert!(!s.stale && s.error.is_none() && s.loaded);
        assert_eq!(s.selected, None, "a vanished selection is dropped");
    }
}
