//! The windows of the image-creating forms: Import (ECS, with local files and the OSS browser),
//! Import (ENS), Create (ECS / Apsara Stack) and Add (E-HPC Instant). Each draws its pure form
//! state ([`super::forms`]); errors from the shared rule table show under their field once it was
//! touched, server errors land on the field they concern, the submit button is disabled with the
//! reason said beside it, and the exact aliyun CLI command is shown and copyable.

use std::collections::{HashMap, HashSet};

use eframe::egui::{self, RichText};

use super::forms::add_image::{self as add, AddImageForm, AddImageKind, RegistryKind};
use super::forms::create_image::{self as create, CreateImageForm, CreateSource};
use super::forms::ecs_import::{self as import, DiskSource, EcsImportForm, role_setup_help};
use super::forms::ens_import::{self as ens_form, EnsImportForm, EnsSource};
use super::forms::{MAX_TAGS, TagRow, Touch, choices, push_row, remove_row};
use super::i18n::Lang;
use super::model::{Owner, Product, Status};
use super::worker::{Command, Failure, FormKind, Submission, Submitted};
use super::{ImageDeskApp, ToastKind};
use crate::jobs::import::{AfterSteps, ImportJob, JobDisk};
use crate::jobs::sniff::Sniffed;
use crate::protocol::validate::FieldError;

/// What the OSS browser shows.
#[derive(Clone, Debug, Default)]
pub struct OssBrowser {
    pub open: bool,
    pub region: String,
    /// The import disk row the picked object goes to.
    pub disk: usize,
    pub buckets: Vec<String>,
    pub bucket: String,
    pub prefix: String,
    pub objects: Vec<(String, u64)>,
    pub busy: bool,
    pub error: Option<String>,
}

/// The forms' windows and what their submissions came back with.
#[derive(Debug, Default)]
pub struct FormWindows {
    pub add: Option<AddImageForm>,
    pub create: Option<CreateImageForm>,
    pub ecs_import: Option<EcsImportForm>,
    pub ens_import: Option<EnsImportForm>,
    pub busy: HashSet<FormKind>,
    /// Whether the last submission of a form was a dry run.
    pub last_dry_run: HashMap<FormKind, bool>,
    pub results: HashMap<FormKind, Result<Submitted, Failure>>,
    /// ECS import: the import role is missing (show what to create).
    pub role_missing: bool,
    /// ECS import: the pre-flight of each disk row (its sniffed facts, or why it could not run).
    pub sniffed: HashMap<usize, Result<Sniffed, String>>,
    /// ECS import: after-steps of the job.
    pub family_after: String,
    pub delete_after: bool,
    pub oss: OssBrowser,
}

/// Renders fields with their errors.
struct Kit<'a> {
    lang: Lang,
    errors: &'a [FieldError],
    server: Option<&'a Failure>,
}

impl Kit<'_> {
    /// The client-side error (once it may show) or the server's, for `wire`, as a grid row.
    fn error(&self, ui: &mut egui::Ui, touch: &Touch, wire: &str) {
        let client = touch.error_for(self.errors, wire).map(|e| self.lang.pick(&e.en, &e.zh));
        // The catalog may name a JSON parameter (`VMImageSpec`) whose widget edits one key of it.
        let concerns =
            |field: &str| field == wire || wire.strip_prefix(field).is_some_and(|rest| rest.starts_with('.'));
        let server = self.server.filter(|f| f.field.as_deref().is_some_and(concerns)).map(|f| {
            let advice = f.advice(self.lang);
            format!(
                "{} — {}",
                f.code.clone().unwrap_or_default(),
                if advice.is_empty() { &f.message } else { advice }
            )
        });
        if let Some(text) = client.map(str::to_owned).or(server) {
            ui.label("");
            ui.colored_label(ui.visuals().error_fg_color, text);
            ui.end_row();
        }
    }

    fn text(&self, ui: &mut egui::Ui, touch: &mut Touch, label: &str, wire: &str, value: &mut String) {
        let label = ui.label(label);
        if ui.add(egui::TextEdit::singleline(value).desired_width(320.0)).labelled_by(label.id).changed() {
            touch.touch(wire);
        }
        ui.end_row();
        self.error(ui, touch, wire);
    }

    /// A choice among `options` (wire values); the empty choice means "the API's default".
    fn combo(
        &self,
        ui: &mut egui::Ui,
        touch: &mut Touch,
        label: &str,
        wire: &str,
        value: &mut String,
        options: &[&str],
    ) {
        let label = ui.label(label);
        let before = value.clone();
        let default = self.lang.pick("(default)", "（默认）");
        let shown = if value.is_empty() { default.to_owned() } else { value.clone() };
        egui::ComboBox::from_id_salt(wire)
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(value, String::new(), default);
                for option in options {
                    ui.selectable_value(value, (*option).to_owned(), *option);
                }
            })
            .response
            .labelled_by(label.id);
        if *value != before {
            touch.touch(wire);
        }
        ui.end_row();
        self.error(ui, touch, wire);
    }

    /// The region picker: the regions the main window shows.
    fn region(
        &self,
        ui: &mut egui::Ui,
        touch: &mut Touch,
        wire: &str,
        region: &mut String,
        regions: &[String],
    ) {
        let options: Vec<&str> = regions.iter().map(String::as_str).collect();
        self.combo(ui, touch, self.lang.pick("Region", "地域"), wire, region, &options);
    }

    fn tags(&self, ui: &mut egui::Ui, touch: &mut Touch, tags: &mut Vec<TagRow>) {
        let mut remove = None;
        for (i, tag) in tags.iter_mut().enumerate() {
            let key_wire = format!("Tag.{}.Key", i + 1);
            let value_wire = format!("Tag.{}.Value", i + 1);
            let label = ui.label(format!("{} {}", self.lang.pick("Tag", "标签"), i + 1));
            ui.horizontal(|ui| {
                let key =
                    ui.add(egui::TextEdit::singleline(&mut tag.key).desired_width(140.0).hint_text("key"));
                if key.labelled_by(label.id).changed() {
                    touch.touch(&key_wire);
                }
                let value = ui
                    .add(egui::TextEdit::singleline(&mut tag.value).desired_width(140.0).hint_text("value"));
                if value.labelled_by(label.id).changed() {
                    touch.touch(&value_wire);
                }
                if ui.small_button("×").on_hover_text(self.lang.pick("Remove tag", "删除标签")).clicked()
                {
                    remove = Some(i);
                }
            });
            ui.end_row();
            self.error(ui, touch, &key_wire);
            self.error(ui, touch, &value_wire);
        }
        if let Some(i) = remove {
            remove_row(tags, touch, "Tag", i);
        }
        ui.label("");
        if ui
            .add_enabled(tags.len() < MAX_TAGS, egui::Button::new(self.lang.pick("Add tag", "添加标签")))
            .clicked()
        {
            push_row(tags, MAX_TAGS);
        }
        ui.end_row();
    }
}

/// Dry run / submit buttons (disabled with the reason), the CLI line and the outcome.
/// Returns `Some(dry_run)` when a button was pressed.
#[allow(clippy::too_many_arguments)]
fn footer(
    ui: &mut egui::Ui,
    lang: Lang,
    errors: &[FieldError],
    touch: &mut Touch,
    busy: bool,
    with_dry_run: bool,
    submit_label: &str,
    cli: &str,
    result: Option<&Result<Submitted, Failure>>,
) -> Option<bool> {
    let mut pressed = None;
    ui.add_space(6.0);
    let why = if busy {
        Some(lang.pick("A request is on its way.", "请求进行中。").to_owned())
    } else if !errors.is_empty() {
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.dedup();
        Some(match lang {
            Lang::En => format!("Disabled until {} field(s) are fixed: {}", errors.len(), fields.join(", ")),
            Lang::Zh => format!("需先修正 {} 个字段：{}", errors.len(), fields.join("、")),
        })
    } else {
        None
    };
    ui.horizontal(|ui| {
        let enabled = why.is_none();
        if with_dry_run {
            let dry = ui.add_enabled(enabled, egui::Button::new(lang.pick("Dry run", "预检")));
            if dry.on_disabled_hover_text(why.clone().unwrap_or_default()).clicked() {
                pressed = Some(true);
            }
        }
        let submit = ui.add_enabled(enabled, egui::Button::new(submit_label));
        if submit.on_disabled_hover_text(why.clone().unwrap_or_default()).clicked() {
            pressed = Some(false);
        }
        if ui.button(lang.pick("Copy as aliyun CLI command", "复制为 aliyun CLI 命令")).clicked() {
            ui.ctx().copy_text(cli.to_owned());
        }
        if busy {
            ui.spinner();
        }
    });
    if let Some(why) = why.filter(|_| !busy) {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, why);
            if !touch.submitted && ui.link(lang.pick("Show all problems", "显示全部问题")).clicked() {
                touch.submit();
            }
        });
    }
    ui.label(RichText::new(cli).monospace().small());
    match result {
        Some(Ok(done)) if done.dry_run => {
            ui.colored_label(
                Status::Available.style().0,
                lang.pick(
                    "Dry run passed: the request is valid and nothing was changed.",
                    "预检通过：请求有效，未做任何更改。",
                ),
            );
        }
        Some(Ok(done)) => {
            let id = done.image_id.clone().unwrap_or_default();
            ui.colored_label(
                Status::Available.style().0,
                match lang {
                    Lang::En => {
                        format!("Done: image {id} (request {})", done.request_id.clone().unwrap_or_default())
                    }
                    Lang::Zh => {
                        format!("已提交：镜像 {id}（请求 {}）", done.request_id.clone().unwrap_or_default())
                    }
                },
            );
        }
        Some(Err(failure)) => {
            ui.colored_label(ui.visuals().error_fg_color, &failure.message);
            let advice = failure.advice(lang);
            if !advice.is_empty() {
                ui.label(RichText::new(advice).small());
            }
        }
        None => {}
    }
    pressed
}

impl ImageDeskApp {
    /// A new ECS import form in the first chosen region.
    pub fn open_ecs_import(&mut self) {
        let mut form = EcsImportForm::new(self.first_region());
        if self.is_sandbox()
            && let Some(disk) = form.disks.first_mut()
        {
            disk.upload_bucket =
                if form.region == "cn-beijing" { "imagedesk-demo-bj" } else { "imagedesk-demo-hz" }.into();
        }
        self.forms.ecs_import = Some(form);
        self.forms.results.remove(&FormKind::EcsImport);
        self.forms.sniffed.clear();
        self.forms.role_missing = false;
    }

    pub fn open_ens_import(&mut self) {
        self.forms.ens_import = Some(EnsImportForm::new());
        self.forms.results.remove(&FormKind::EnsImport);
    }

    pub fn open_create(&mut self, instance: Option<String>) {
        let region = self.first_region();
        self.forms.create = Some(match instance {
            Some(id) => CreateImageForm::from_instance(region, id),
            None => CreateImageForm::new(region),
        });
        self.forms.results.remove(&FormKind::CreateImage);
    }

    pub fn open_add(&mut self, vm_image: Option<String>) {
        let mut form = AddImageForm::new(self.first_region());
        if let Some(id) = vm_image {
            form.set_vm_image(id);
        }
        self.forms.add = Some(form);
        self.forms.results.remove(&FormKind::AddImage);
    }

    fn first_region(&self) -> String {
        self.regions.first().cloned().unwrap_or_else(|| super::worker::DEFAULT_REGION.to_owned())
    }

    pub(super) fn apply_submitted(&mut self, form: FormKind, result: Result<Submitted, Failure>) {
        self.forms.busy.remove(&form);
        let lang = self.lang;
        let dry_run = self.forms.last_dry_run.get(&form).copied().unwrap_or(false);
        let result = match result {
            // A local file is uploaded only when the job runs: a dry run cannot find it in OSS yet,
            // but getting that far means the role and every other parameter passed.
            Err(f)
                if form == FormKind::EcsImport
                    && dry_run
                    && f.code.as_deref() == Some("InvalidOSSObject.NotFound")
                    && self.forms.ecs_import.as_ref().is_some_and(|f| !f.uploads().is_empty()) =>
            {
                Ok(Submitted { dry_run: true, image_id: None, request_id: None })
            }
            other => other,
        };
        if form == FormKind::EcsImport {
            self.forms.role_missing =
                matches!(&result, Err(f) if f.code.as_deref().is_some_and(is_role_error));
        }
        if let Ok(done) = &result
            && !done.dry_run
        {
            let id = done.image_id.clone().unwrap_or_default();
            let title = match lang {
                Lang::En => format!("Request accepted: {id}"),
                Lang::Zh => format!("请求已受理：{id}"),
            };
            self.toast(ToastKind::Success, title, String::new());
            self.refresh();
        }
        self.forms.results.insert(form, result);
    }

    fn submit(&mut self, submission: Submission, dry_run: bool) {
        let form = submission.form();
        self.forms.results.remove(&form);
        self.forms.last_dry_run.insert(form, dry_run);
        if self.send(Command::Submit(Box::new(submission))) {
            self.forms.busy.insert(form);
        }
    }

    /// A form's last outcome, its server error (shown at the fields) and whether a request is on
    /// its way.
    fn form_status(&self, form: FormKind) -> (Option<Result<Submitted, Failure>>, Option<Failure>, bool) {
        let result = self.forms.results.get(&form).cloned();
        let server = result.as_ref().and_then(|r| r.as_ref().err()).cloned();
        (result, server, self.forms.busy.contains(&form))
    }

    pub(super) fn form_windows(&mut self, ctx: &egui::Context) {
        self.ecs_import_window(ctx);
        self.oss_browser_window(ctx);
        self.ens_import_window(ctx);
        self.create_window(ctx);
        self.add_window(ctx);
    }

    // -- ECS import --------------------------------------------------------------------------

    fn ecs_import_window(&mut self, ctx: &egui::Context) {
        let Some(mut form) = self.forms.ecs_import.take() else { return };
        let lang = self.lang;
        let errors = form.validate();
        let (result, server, busy) = self.form_status(FormKind::EcsImport);
        let kit = Kit { lang, errors: &errors, server: server.as_ref() };
        let regions = self.regions.clone();
        let mut open = true;
        let mut pressed = None;
        let mut commands = Vec::new();
        egui::Window::new(lang.pick("Import image (ECS)", "导入镜像（ECS）"))
            .id(egui::Id::unique("ecs_import_window"))
            .open(&mut open)
            .default_width(620.0)
            .default_height(640.0)
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().max_height(560.0).show(ui, |ui| {
                    egui::Grid::new("ecs_import_grid").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                        kit.region(ui, &mut form.touch, "RegionId", &mut form.region, &regions);
                        let mut remove = None;
                        for index in 0..form.disks.len() {
                            ui.strong(if index == 0 {
                                lang.pick("System disk", "系统盘").to_owned()
                            } else {
                                format!("{} {}", lang.pick("Data disk", "数据盘"), index)
                            });
                            ui.horizontal(|ui| {
                                let local = form.disks[index].is_local();
                                if ui.radio(local, lang.pick("Local file", "本地文件")).clicked() && !local
                                {
                                    form.disks[index].source = DiskSource::LocalFile { path: String::new() };
                                }
                                if ui.radio(!local, lang.pick("Object in OSS", "OSS 中的对象")).clicked()
                                    && local
                                {
                                    form.disks[index].source = DiskSource::OssObject {
                                        bucket: String::new(),
                                        object: String::new(),
                                    };
                                }
                                if index > 0
                                    && ui.small_button(lang.pick("Remove disk", "移除磁盘")).clicked()
                                {
                                    remove = Some(index);
                                }
                            });
                            ui.end_row();
                            self.disk_rows(ui, &kit, &mut form, index, &mut commands);
                        }
                        if let Some(index) = remove {
                            form.remove_disk(index);
                            self.forms.sniffed.remove(&index);
                        }
                        ui.label("");
                        if ui
                            .add_enabled(
                                form.disks.len() < import::MAX_DISKS,
                                egui::Button::new(lang.pick("Add data disk", "添加数据盘")),
                            )
                            .clicked()
                        {
                            form.add_disk();
                        }
                        ui.end_row();
                        ui.strong(lang.pick("Image", "镜像"));
                        ui.end_row();
                        let op = import::OPERATION;
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("Image name", "镜像名称"),
                            "ImageName",
                            &mut form.name,
                        );
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("Description", "描述"),
                            "Description",
                            &mut form.description,
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            lang.pick("Architecture", "架构"),
                            "Architecture",
                            &mut form.architecture,
                            choices(op, "Architecture"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            lang.pick("OS type", "操作系统类型"),
                            "OSType",
                            &mut form.os_type,
                            choices(op, "OSType"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            lang.pick("Platform", "发行版"),
                            "Platform",
                            &mut form.platform,
                            choices(op, "Platform"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            lang.pick("Boot mode", "启动模式"),
                            "BootMode",
                            &mut form.boot_mode,
                            choices(op, "BootMode"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            lang.pick("Licence", "许可证类型"),
                            "LicenseType",
                            &mut form.license_type,
                            choices(op, "LicenseType"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            "NVMe",
                            "Features.NvmeSupport",
                            &mut form.nvme,
                            choices(op, "Features.NvmeSupport"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            "IMDS",
                            "Features.ImdsSupport",
                            &mut form.imds,
                            choices(op, "Features.ImdsSupport"),
                        );
                        ui.label("");
                        if ui
                            .checkbox(
                                &mut form.detection,
                                lang.pick(
                                    "Check the image after import (DetectionStrategy)",
                                    "导入后检测镜像（DetectionStrategy）",
                                ),
                            )
                            .changed()
                        {
                            form.touch.touch("DetectionStrategy");
                        }
                        ui.end_row();
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("Resource group", "资源组"),
                            "ResourceGroupId",
                            &mut form.resource_group,
                        );
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("RAM role name", "RAM 角色名称"),
                            "RoleName",
                            &mut form.role_name,
                        );
                        kit.tags(ui, &mut form.touch, &mut form.tags);
                        ui.strong(lang.pick("When it is ready", "就绪后"));
                        ui.end_row();
                        let label = ui.label(lang.pick("Put in family", "加入镜像族系"));
                        ui.text_edit_singleline(&mut self.forms.family_after).labelled_by(label.id);
                        ui.end_row();
                        ui.label("");
                        ui.checkbox(
                            &mut self.forms.delete_after,
                            lang.pick("Delete the uploaded OSS objects", "删除已上传的 OSS 对象"),
                        );
                        ui.end_row();
                    });
                    if self.forms.role_missing {
                        role_help(ui, lang);
                    }
                });
                ui.horizontal(|ui| {
                    if ui.button(lang.pick("Check import role", "检查导入角色")).clicked() {
                        pressed = Some(true);
                    }
                    ui.label(
                        RichText::new(
                            lang.pick("(a dry run: ECS checks the role first)", "（预检：ECS 会先检查角色）"),
                        )
                        .small()
                        .weak(),
                    );
                });
                let cli = form.cli_command(false);
                let uploads = form.uploads();
                let submit = if uploads.is_empty() {
                    lang.pick("Import", "导入")
                } else {
                    lang.pick("Upload and import", "上传并导入")
                };
                if let Some(dry) =
                    footer(ui, lang, &errors, &mut form.touch, busy, true, submit, &cli, result.as_ref())
                {
                    pressed = Some(dry);
                }
                for upload in form.upload_cli_commands() {
                    ui.label(RichText::new(upload).monospace().small().weak());
                }
            });
        for command in commands {
            match command {
                DiskAction::Pick(disk) => {
                    self.send(Command::PickFile { disk });
                }
                DiskAction::Sniff(disk, path) => {
                    self.forms.sniffed.remove(&disk);
                    self.send(Command::Sniff { disk, path: path.into() });
                }
                DiskAction::Browse(disk) => {
                    self.forms.oss = OssBrowser {
                        open: true,
                        region: form.region.clone(),
                        disk,
                        busy: true,
                        ..OssBrowser::default()
                    };
                    self.send(Command::BrowseOss {
                        region: form.region.clone(),
                        bucket: None,
                        prefix: String::new(),
                    });
                }
            }
        }
        match pressed {
            Some(true) => {
                form.touch.submit();
                self.submit(Submission::EcsImport(form.request(true)), true);
            }
            Some(false) => {
                form.touch.submit();
                if errors.is_empty() {
                    self.start_import_job(&form);
                    self.forms.results.remove(&FormKind::EcsImport);
                    open = false;
                }
            }
            None => {}
        }
        if open {
            self.forms.ecs_import = Some(form);
        }
    }

    /// One disk's rows: its source, pre-flight, format and size.
    fn disk_rows(
        &self,
        ui: &mut egui::Ui,
        kit: &Kit<'_>,
        form: &mut EcsImportForm,
        index: usize,
        actions: &mut Vec<DiskAction>,
    ) {
        let lang = kit.lang;
        let wire = |sub: &str| EcsImportForm::disk_field(index, sub);
        match form.disks[index].source.clone() {
            DiskSource::LocalFile { path } => {
                let label = ui.label(lang.pick("Local file", "本地文件"));
                let mut typed = path.clone();
                ui.horizontal(|ui| {
                    let edit = ui.add(
                        egui::TextEdit::singleline(&mut typed)
                            .desired_width(250.0)
                            .hint_text("/path/to/disk.qcow2"),
                    );
                    let edit = edit.labelled_by(label.id);
                    if edit.lost_focus() && !typed.trim().is_empty() {
                        actions.push(DiskAction::Sniff(index, typed.trim().to_owned()));
                    }
                    if ui.button(lang.pick("Browse…", "浏览…")).clicked() {
                        actions.push(DiskAction::Pick(index));
                    }
                    if ui.button(lang.pick("Check file", "检查文件")).clicked() && !typed.trim().is_empty()
                    {
                        actions.push(DiskAction::Sniff(index, typed.trim().to_owned()));
                    }
                });
                if typed != path {
                    form.set_local_file(index, typed);
                }
                ui.end_row();
                kit.error(ui, &form.touch, &wire("LocalFile"));
                if let Some(sniffed) = self.forms.sniffed.get(&index) {
                    ui.label("");
                    ui.vertical(|ui| sniff_summary(ui, lang, sniffed));
                    ui.end_row();
                }
                let disk = &mut form.disks[index];
                let label = ui.label(lang.pick("Upload to bucket", "上传到存储空间"));
                if ui
                    .add(egui::TextEdit::singleline(&mut disk.upload_bucket).desired_width(320.0))
                    .labelled_by(label.id)
                    .changed()
                {
                    form.touch.touch(wire("OSSBucket"));
                }
                ui.end_row();
                kit.error(ui, &form.touch, &wire("OSSBucket"));
                let disk = &mut form.disks[index];
                let label = ui.label(lang.pick("Object key", "对象名称"));
                if ui
                    .add(egui::TextEdit::singleline(&mut disk.upload_key).desired_width(320.0))
                    .labelled_by(label.id)
                    .changed()
                {
                    form.touch.touch(wire("OSSObject"));
                }
                ui.end_row();
                kit.error(ui, &form.touch, &wire("OSSObject"));
            }
            DiskSource::OssObject { mut bucket, mut object } => {
                let label = ui.label(lang.pick("OSS bucket", "OSS 存储空间"));
                ui.horizontal(|ui| {
                    if ui
                        .add(egui::TextEdit::singleline(&mut bucket).desired_width(250.0))
                        .labelled_by(label.id)
                        .changed()
                    {
                        form.touch.touch(wire("OSSBucket"));
                    }
                    if ui.button(lang.pick("Browse OSS…", "浏览 OSS…")).clicked() {
                        actions.push(DiskAction::Browse(index));
                    }
                });
                ui.end_row();
                kit.error(ui, &form.touch, &wire("OSSBucket"));
                let label = ui.label(lang.pick("OSS object", "OSS 对象"));
                if ui
                    .add(egui::TextEdit::singleline(&mut object).desired_width(320.0))
                    .labelled_by(label.id)
                    .changed()
                {
                    form.touch.touch(wire("OSSObject"));
                }
                ui.end_row();
                kit.error(ui, &form.touch, &wire("OSSObject"));
                form.disks[index].source = DiskSource::OssObject { bucket, object };
            }
        }
        let mut format = form.disks[index].format.clone();
        kit.combo(
            ui,
            &mut form.touch,
            lang.pick("Format", "格式"),
            &wire("Format"),
            &mut format,
            choices(import::OPERATION, "DiskDeviceMapping.1.Format"),
        );
        form.disks[index].format = format;
        let mut size = form.disks[index].size_gib.clone();
        kit.text(
            ui,
            &mut form.touch,
            lang.pick("Size (GiB)", "大小（GiB）"),
            &wire("DiskImageSize"),
            &mut size,
        );
        form.disks[index].size_gib = size;
    }

    /// Turn the form into a durable job: local files are uploaded first, then ImportImage.
    fn start_import_job(&mut self, form: &EcsImportForm) {
        let disks = form
            .disks
            .iter()
            .map(|disk| {
                let (bucket, object) = disk.oss_location();
                match &disk.source {
                    DiskSource::LocalFile { path } => {
                        JobDisk::local(path.trim(), bucket.trim(), object.trim())
                    }
                    DiskSource::OssObject { .. } => JobDisk::in_oss(bucket.trim(), object.trim()),
                }
            })
            .collect();
        let after = AfterSteps {
            family: Some(self.forms.family_after.trim().to_owned()).filter(|f| !f.is_empty()),
            delete_uploaded_objects: self.forms.delete_after,
            ..AfterSteps::default()
        };
        let name = if form.name.trim().is_empty() {
            self.lang.pick("(unnamed)", "（未命名）").to_owned()
        } else {
            form.name.trim().to_owned()
        };
        let job = ImportJob::new("", form.region.clone(), name, disks, form.params(false), after);
        if self.send(Command::StartJob(Box::new(job))) {
            self.show_jobs = true;
        }
    }

    fn oss_browser_window(&mut self, ctx: &egui::Context) {
        if !self.forms.oss.open {
            return;
        }
        let lang = self.lang;
        let mut open = true;
        let mut list = None;
        let mut picked = None;
        let browser = &mut self.forms.oss;
        egui::Window::new(lang.pick("OSS browser", "OSS 浏览"))
            .id(egui::Id::unique("oss_browser"))
            .open(&mut open)
            .default_width(420.0)
            .show(ctx, |ui| {
                ui.label(RichText::new(&browser.region).weak());
                ui.horizontal(|ui| {
                    if ui.button(lang.pick("Buckets", "存储空间列表")).clicked() {
                        list = Some((None, String::new()));
                    }
                    if !browser.bucket.is_empty() {
                        ui.label(format!("/ {}", browser.bucket));
                        let label = ui.label(lang.pick("Prefix", "前缀"));
                        ui.text_edit_singleline(&mut browser.prefix).labelled_by(label.id);
                        if ui.button(lang.pick("List", "列出")).clicked() {
                            list = Some((Some(browser.bucket.clone()), browser.prefix.clone()));
                        }
                    }
                    if browser.busy {
                        ui.spinner();
                    }
                });
                if let Some(error) = &browser.error {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
                egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
                    if browser.bucket.is_empty() {
                        for bucket in &browser.buckets {
                            if ui.link(bucket).clicked() {
                                list = Some((Some(bucket.clone()), String::new()));
                            }
                        }
                    } else {
                        for (key, size) in &browser.objects {
                            ui.horizontal(|ui| {
                                if ui.link(key).clicked() {
                                    picked = Some((browser.bucket.clone(), key.clone()));
                                }
                                ui.label(RichText::new(super::jobs_view::human_bytes(*size)).weak());
                            });
                        }
                    }
                });
            });
        if let Some((bucket, prefix)) = list {
            browser.bucket = bucket.clone().unwrap_or_default();
            browser.busy = true;
            browser.error = None;
            let region = browser.region.clone();
            self.send(Command::BrowseOss { region, bucket, prefix });
        }
        if let Some((bucket, object)) = picked {
            let disk = self.forms.oss.disk;
            if let Some(form) = &mut self.forms.ecs_import
                && let Some(row) = form.disks.get_mut(disk)
            {
                row.source = DiskSource::OssObject { bucket, object };
                form.touch.touch(EcsImportForm::disk_field(disk, "OSSObject"));
            }
            open = false;
        }
        self.forms.oss.open = open;
    }

    // -- ENS import --------------------------------------------------------------------------

    fn ens_import_window(&mut self, ctx: &egui::Context) {
        let Some(mut form) = self.forms.ens_import.take() else { return };
        let lang = self.lang;
        let errors = form.validate();
        let (result, server, busy) = self.form_status(FormKind::EnsImport);
        let kit = Kit { lang, errors: &errors, server: server.as_ref() };
        let mut open = true;
        let mut pressed = None;
        egui::Window::new(lang.pick("Import image (ENS)", "导入镜像（ENS）"))
            .id(egui::Id::unique("ens_import_window"))
            .open(&mut open)
            .default_width(560.0)
            .show(ctx, |ui| {
                ui.label(
                    RichText::new(lang.pick(
                        "ENS imports qcow2 files only, for x86_64 ens_vm instances, from OSS in the OSS region.",
                        "ENS 仅支持导入 qcow2 文件，用于 x86_64 的 ens_vm 实例，文件需位于 OSS 地域的存储空间中。",
                    ))
                    .small(),
                );
                egui::Grid::new("ens_import_grid").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                    let op = ens_form::OPERATION;
                    kit.text(ui, &mut form.touch, lang.pick("Image name", "镜像名称"), "ImageName", &mut form.name);
                    kit.combo(ui, &mut form.touch, lang.pick("OS type", "操作系统类型"), "OSType", &mut form.os_type, choices(op, "OSType"));
                    kit.text(ui, &mut form.touch, lang.pick("Platform", "发行版"), "Platform", &mut form.platform);
                    kit.text(ui, &mut form.touch, lang.pick("OS version", "系统版本"), "OSVersion", &mut form.os_version);
                    kit.text(ui, &mut form.touch, lang.pick("OSS region", "OSS 地域"), "OSSRegion", &mut form.oss_region);
                    kit.text(ui, &mut form.touch, lang.pick("Target region", "目标地域"), "TargetOSSRegionId", &mut form.target_region);
                    ui.label(lang.pick("Source", "来源"));
                    ui.horizontal(|ui| {
                        if ui.radio(form.source == EnsSource::SingleFile, lang.pick("One file", "单个文件")).clicked() {
                            form.set_source(EnsSource::SingleFile);
                        }
                        if ui.radio(form.source == EnsSource::Disks, lang.pick("Disk mapping", "磁盘映射")).clicked() {
                            form.set_source(EnsSource::Disks);
                        }
                    });
                    ui.end_row();
                    match form.source {
                        EnsSource::SingleFile => {
                            kit.text(ui, &mut form.touch, lang.pick("OSS bucket", "OSS 存储空间"), "OSSBucket", &mut form.bucket);
                            kit.text(ui, &mut form.touch, lang.pick("OSS object", "OSS 对象"), "OSSObject", &mut form.object);
                        }
                        EnsSource::Disks => {
                            let mut remove = None;
                            for i in 0..form.disks.len() {
                                let bucket_wire = EnsImportForm::disk_field(i, "OSSBucket");
                                let object_wire = EnsImportForm::disk_field(i, "OSSObject");
                                let mut bucket = form.disks[i].bucket.clone();
                                let mut object = form.disks[i].object.clone();
                                let disk = if i == 0 { lang.pick("system disk", "系统盘") } else { lang.pick("data disk", "数据盘") };
                                kit.text(ui, &mut form.touch, &format!("{} {} · bucket", i + 1, disk), &bucket_wire, &mut bucket);
                                kit.text(ui, &mut form.touch, &format!("{} {} · object", i + 1, disk), &object_wire, &mut object);
                                form.disks[i].bucket = bucket;
                                form.disks[i].object = object;
                                if i > 0 {
                                    ui.label("");
                                    if ui.small_button(lang.pick("Remove disk", "移除磁盘")).clicked() {
                                        remove = Some(i);
                                    }
                                    ui.end_row();
                                }
                            }
                            if let Some(i) = remove {
                                form.remove_disk(i);
                            }
                            ui.label("");
                            if ui.button(lang.pick("Add data disk", "添加数据盘")).clicked() {
                                form.add_disk();
                            }
                            ui.end_row();
                            kit.error(ui, &form.touch, "DiskDeviceMapping");
                        }
                    }
                    for fixed in ["Architecture", "ImageFormat", "ComputeType"] {
                        kit.error(ui, &form.touch, fixed);
                    }
                });
                let cli = form.cli_command();
                pressed = footer(ui, lang, &errors, &mut form.touch, busy, false, lang.pick("Import", "导入"), &cli, result.as_ref());
            });
        if pressed.is_some() {
            form.touch.submit();
            if errors.is_empty() {
                self.submit(Submission::EnsImport(form.request()), false);
            }
        }
        if open {
            self.forms.ens_import = Some(form);
        }
    }

    // -- Create ------------------------------------------------------------------------------

    fn create_window(&mut self, ctx: &egui::Context) {
        let Some(mut form) = self.forms.create.take() else { return };
        let lang = self.lang;
        let errors = form.validate();
        let (result, server, busy) = self.form_status(FormKind::CreateImage);
        let kit = Kit { lang, errors: &errors, server: server.as_ref() };
        let regions = self.regions.clone();
        let mut open = true;
        let mut pressed = None;
        egui::Window::new(lang.pick("Create image (ECS / Apsara Stack)", "创建镜像（ECS / 专有云）"))
            .id(egui::Id::unique("create_window"))
            .open(&mut open)
            .default_width(580.0)
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().max_height(560.0).show(ui, |ui| {
                    egui::Grid::new("create_grid").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                        let op = create::OPERATION;
                        kit.region(ui, &mut form.touch, "RegionId", &mut form.region, &regions);
                        ui.label(lang.pick("From", "来源"));
                        ui.horizontal(|ui| {
                            ui.radio_value(
                                &mut form.source,
                                CreateSource::Instance,
                                lang.pick("Instance", "实例"),
                            );
                            ui.radio_value(
                                &mut form.source,
                                CreateSource::Snapshot,
                                lang.pick("Snapshot", "快照"),
                            );
                            ui.radio_value(
                                &mut form.source,
                                CreateSource::Disks,
                                lang.pick("Disk mappings", "磁盘映射"),
                            );
                        });
                        ui.end_row();
                        match form.source {
                            CreateSource::Instance => kit.text(
                                ui,
                                &mut form.touch,
                                lang.pick("Instance ID", "实例 ID"),
                                "InstanceId",
                                &mut form.instance_id,
                            ),
                            CreateSource::Snapshot => kit.text(
                                ui,
                                &mut form.touch,
                                lang.pick("Snapshot ID", "快照 ID"),
                                "SnapshotId",
                                &mut form.snapshot_id,
                            ),
                            CreateSource::Disks => {
                                let mut remove = None;
                                for i in 0..form.disks.len() {
                                    let w = |sub: &str| format!("DiskDeviceMapping.{}.{sub}", i + 1);
                                    ui.strong(format!("{} {}", lang.pick("Disk", "磁盘"), i + 1));
                                    ui.label("");
                                    ui.end_row();
                                    let mut row = form.disks[i].clone();
                                    kit.text(
                                        ui,
                                        &mut form.touch,
                                        lang.pick("Snapshot ID", "快照 ID"),
                                        &w("SnapshotId"),
                                        &mut row.snapshot_id,
                                    );
                                    kit.text(
                                        ui,
                                        &mut form.touch,
                                        lang.pick("Size (GiB)", "大小（GiB）"),
                                        &w("Size"),
                                        &mut row.size_gib,
                                    );
                                    kit.text(
                                        ui,
                                        &mut form.touch,
                                        lang.pick("Device", "设备名"),
                                        &w("Device"),
                                        &mut row.device,
                                    );
                                    kit.combo(
                                        ui,
                                        &mut form.touch,
                                        lang.pick("Disk type", "磁盘类型"),
                                        &w("DiskType"),
                                        &mut row.disk_type,
                                        choices(op, "DiskDeviceMapping.1.DiskType"),
                                    );
                                    form.disks[i] = row;
                                    if form.disks.len() > 1 {
                                        ui.label("");
                                        if ui.small_button(lang.pick("Remove disk", "移除磁盘")).clicked()
                                        {
                                            remove = Some(i);
                                        }
                                        ui.end_row();
                                    }
                                }
                                if let Some(i) = remove {
                                    form.remove_disk(i);
                                }
                                ui.label("");
                                if ui
                                    .add_enabled(
                                        form.disks.len() < create::MAX_DISKS,
                                        egui::Button::new(lang.pick("Add disk", "添加磁盘")),
                                    )
                                    .clicked()
                                {
                                    form.add_disk();
                                }
                                ui.end_row();
                            }
                        }
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("Image name", "镜像名称"),
                            "ImageName",
                            &mut form.name,
                        );
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("Description", "描述"),
                            "Description",
                            &mut form.description,
                        );
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("Family", "镜像族系"),
                            "ImageFamily",
                            &mut form.family,
                        );
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("Version", "版本"),
                            "ImageVersion",
                            &mut form.version,
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            lang.pick("Architecture", "架构"),
                            "Architecture",
                            &mut form.architecture,
                            choices(op, "Architecture"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            lang.pick("Platform", "发行版"),
                            "Platform",
                            &mut form.platform,
                            choices(op, "Platform"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            lang.pick("Boot mode", "启动模式"),
                            "BootMode",
                            &mut form.boot_mode,
                            choices(op, "BootMode"),
                        );
                        kit.combo(
                            ui,
                            &mut form.touch,
                            "IMDS",
                            "Features.ImdsSupport",
                            &mut form.imds,
                            choices(op, "Features.ImdsSupport"),
                        );
                        ui.label("");
                        if ui
                            .checkbox(
                                &mut form.detection,
                                lang.pick(
                                    "Check the image (DetectionStrategy)",
                                    "检测镜像（DetectionStrategy）",
                                ),
                            )
                            .changed()
                        {
                            form.touch.touch("DetectionStrategy");
                        }
                        ui.end_row();
                        kit.text(
                            ui,
                            &mut form.touch,
                            lang.pick("Resource group", "资源组"),
                            "ResourceGroupId",
                            &mut form.resource_group,
                        );
                        kit.tags(ui, &mut form.touch, &mut form.tags);
                    });
                });
                let cli = form.cli_command(false);
                pressed = footer(
                    ui,
                    lang,
                    &errors,
                    &mut form.touch,
                    busy,
                    true,
                    lang.pick("Create", "创建"),
                    &cli,
                    result.as_ref(),
                );
            });
        if let Some(dry_run) = pressed {
            form.touch.submit();
            if errors.is_empty() {
                self.submit(Submission::CreateImage(form.request(dry_run)), dry_run);
            }
        }
        if open {
            self.forms.create = Some(form);
        }
    }

    // -- Add (E-HPC Instant) -----------------------------------------------------------------

    fn add_window(&mut self, ctx: &egui::Context) {
        let Some(mut form) = self.forms.add.take() else { return };
        let lang = self.lang;
        let errors = form.validate();
        let (result, server, busy) = self.form_status(FormKind::AddImage);
        let kit = Kit { lang, errors: &errors, server: server.as_ref() };
        let regions = self.regions.clone();
        let mut open = true;
        let mut pressed = None;
        egui::Window::new(lang.pick("Add image (E-HPC Instant)", "添加镜像（E-HPC Instant）"))
            .id(egui::Id::unique("add_window"))
            .open(&mut open)
            .default_width(560.0)
            .show(ctx, |ui| {
                egui::Grid::new("add_grid").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                    kit.region(ui, &mut form.touch, add::REGION, &mut form.region, &regions);
                    ui.label(lang.pick("Kind", "类型"));
                    ui.horizontal(|ui| {
                        ui.radio_value(
                            &mut form.kind,
                            AddImageKind::Vm,
                            lang.pick("VM (ECS image)", "虚拟机（ECS 镜像）"),
                        );
                        ui.radio_value(
                            &mut form.kind,
                            AddImageKind::Container,
                            lang.pick("Container", "容器"),
                        );
                    });
                    ui.end_row();
                    match form.kind {
                        AddImageKind::Vm => {
                            kit.text(
                                ui,
                                &mut form.touch,
                                lang.pick("ECS image ID", "ECS 镜像 ID"),
                                add::VM_IMAGE_ID,
                                &mut form.vm_image_id,
                            );
                            let label = ui.label(lang.pick("Pick from the inventory", "从镜像列表选择"));
                            let mut chosen = None;
                            egui::ComboBox::from_id_salt("add_pick")
                                .selected_text(lang.pick("Choose an image…", "选择镜像…"))
                                .show_ui(ui, |ui| {
                                    // Read from the inventory only while the list is open: it may
                                    // hold 100 000 rows and this runs every frame.
                                    let pickable = self.inventory.rows().iter().filter(|r| {
                                        r.product == Product::Ecs
                                            && r.owner == Owner::Own
                                            && r.region == form.region
                                            && r.status == Status::Available
                                    });
                                    for row in pickable {
                                        let label = format!("{} ({})", row.name, row.id);
                                        if ui.selectable_label(false, label).clicked() {
                                            chosen = Some(row.id.clone());
                                        }
                                    }
                                })
                                .response
                                .labelled_by(label.id);
                            ui.end_row();
                            if let Some(id) = chosen {
                                form.set_vm_image(id);
                            }
                        }
                        AddImageKind::Container => {
                            kit.text(
                                ui,
                                &mut form.touch,
                                lang.pick("Registry URL", "镜像仓库地址"),
                                add::REGISTRY_URL,
                                &mut form.registry_url,
                            );
                            ui.label(lang.pick("Registry", "仓库类型"));
                            ui.horizontal(|ui| {
                                ui.radio_value(
                                    &mut form.registry,
                                    RegistryKind::AcrPersonal,
                                    lang.pick("ACR Personal", "ACR 个人版"),
                                );
                                ui.radio_value(
                                    &mut form.registry,
                                    RegistryKind::AcrEnterprise,
                                    lang.pick("ACR Enterprise", "ACR 企业版"),
                                );
                                ui.radio_value(
                                    &mut form.registry,
                                    RegistryKind::Private,
                                    lang.pick("Other registry", "其他仓库"),
                                );
                            });
                            ui.end_row();
                            match form.registry {
                                RegistryKind::AcrPersonal => {}
                                RegistryKind::AcrEnterprise => kit.text(
                                    ui,
                                    &mut form.touch,
                                    lang.pick("ACR instance ID", "ACR 实例 ID"),
                                    add::REGISTRY_CRI_ID,
                                    &mut form.cri_id,
                                ),
                                RegistryKind::Private => {
                                    kit.text(
                                        ui,
                                        &mut form.touch,
                                        lang.pick("Registry server", "仓库服务器"),
                                        add::REGISTRY_SERVER,
                                        &mut form.server,
                                    );
                                    kit.text(
                                        ui,
                                        &mut form.touch,
                                        lang.pick("User name", "用户名"),
                                        add::REGISTRY_USER,
                                        &mut form.user_name,
                                    );
                                    // The password is sent with the request and never stored or shown.
                                    let label = ui.label(lang.pick("Password", "密码"));
                                    let mut typed = form.password.expose().to_owned();
                                    if ui
                                        .add(
                                            egui::TextEdit::singleline(&mut typed)
                                                .password(true)
                                                .desired_width(320.0),
                                        )
                                        .labelled_by(label.id)
                                        .changed()
                                    {
                                        form.password = crate::Secret::new(typed);
                                        form.touch.touch(add::REGISTRY_PASSWORD);
                                    }
                                    ui.end_row();
                                    kit.error(ui, &form.touch, add::REGISTRY_PASSWORD);
                                }
                            }
                        }
                    }
                    kit.text(ui, &mut form.touch, lang.pick("Name", "名称"), "Name", &mut form.name);
                    kit.text(
                        ui,
                        &mut form.touch,
                        lang.pick("Version", "版本"),
                        "ImageVersion",
                        &mut form.version,
                    );
                    kit.text(
                        ui,
                        &mut form.touch,
                        lang.pick("Description", "描述"),
                        "Description",
                        &mut form.description,
                    );
                });
                let cli = form.cli_command();
                pressed = footer(
                    ui,
                    lang,
                    &errors,
                    &mut form.touch,
                    busy,
                    false,
                    lang.pick("Add image", "添加镜像"),
                    &cli,
                    result.as_ref(),
                );
            });
        if pressed.is_some() {
            form.touch.submit();
            if errors.is_empty() {
                self.submit(Submission::AddImage(form.request()), false);
            }
        }
        if open {
            self.forms.add = Some(form);
        }
    }
}

enum DiskAction {
    Pick(usize),
    Sniff(usize, String),
    Browse(usize),
}

/// Whether an ImportImage error means the import RAM role is missing or not authorised.
pub fn is_role_error(code: &str) -> bool {
    matches!(
        code,
        "NoSetRoletoECSServiceAcount" | "InvalidRoleName.NotFound" | "Forbidden.RAM" | "NoPermission.Role"
    ) || code.starts_with("NoSetRole")
}

/// What the pre-flight found about a disk file.
fn sniff_summary(ui: &mut egui::Ui, lang: Lang, sniffed: &Result<Sniffed, String>) {
    match sniffed {
        Ok(s) => {
            let format = s.ecs_format.as_ref().map_or("?", |f| f.as_str());
            let size = super::jobs_view::human_bytes(s.virtual_size);
            let file = super::jobs_view::human_bytes(s.file_size);
            let boot = s.boot_mode_hint.as_ref().map_or("—", |b| b.as_str());
            ui.label(
                RichText::new(match lang {
                    Lang::En => format!(
                        "Pre-flight: {format}, virtual size {size} (file {file}), boot mode hint {boot}"
                    ),
                    Lang::Zh => {
                        format!("预检：{format}，虚拟大小 {size}（文件 {file}），启动模式建议 {boot}")
                    }
                })
                .small(),
            );
            if let Err(refusal) = &s.fits_ecs {
                ui.colored_label(ui.visuals().error_fg_color, lang.pick(&refusal.en, &refusal.zh));
            }
            for warning in &s.warnings {
                ui.colored_label(ui.visuals().warn_fg_color, warning.to_string());
            }
        }
        Err(message) => {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
    }
}

/// Exactly what to create when the import role is missing.
fn role_help(ui: &mut egui::Ui, lang: Lang) {
    let help = role_setup_help();
    ui.separator();
    ui.colored_label(ui.visuals().warn_fg_color, lang.pick(help.en, help.zh));
    egui::Grid::new("role_help").num_columns(2).show(ui, |ui| {
        ui.label(lang.pick("Role", "角色"));
        ui.label(RichText::new(help.role_name).monospace());
        ui.end_row();
        ui.label(lang.pick("Policy to attach", "需授权的策略"));
        ui.label(RichText::new(help.policy_name).monospace());
        ui.end_row();
    });
    ui.label(lang.pick("Trust policy", "信任策略"));
    ui.label(RichText::new(help.trust_policy).monospace().small());
    if ui.button(lang.pick("Copy the commands", "复制命令")).clicked() {
        ui.ctx().copy_text(help.cli_commands.join("\n"));
    }
    for line in &help.cli_commands {
        ui.label(RichText::new(line).monospace().small());
    }
    ui.separator();
}

/// The sniffing and browsing answers.
impl ImageDeskApp {
    pub(super) fn apply_sniffed(
        &mut self,
        disk: usize,
        path: std::path::PathBuf,
        result: Result<Sniffed, String>,
    ) {
        if let Some(form) = &mut self.forms.ecs_import {
            if let Some(row) = form.disks.get(disk)
                && !matches!(&row.source, DiskSource::LocalFile { path: p } if std::path::Path::new(p.trim()) == path)
            {
                return; // the row changed since; a newer check is coming
            }
            if let Ok(sniffed) = &result {
                form.apply_sniff(disk, sniffed);
            }
            self.forms.sniffed.insert(disk, result);
        }
    }

    pub(super) fn apply_picked(&mut self, disk: usize, path: Option<std::path::PathBuf>) {
        // No dialog (or cancelled): nothing changes, the typed path field stays the way in.
        let Some(path) = path else { return };
        let text = path.display().to_string();
        if let Some(form) = &mut self.forms.ecs_import {
            form.set_local_file(disk, text.clone());
            self.forms.sniffed.remove(&disk);
            self.send(Command::Sniff { disk, path });
        }
    }

    pub(super) fn apply_oss_listing(
        &mut self,
        bucket: Option<String>,
        result: Result<Vec<(String, u64)>, Failure>,
    ) {
        let browser = &mut self.forms.oss;
        browser.busy = false;
        match result {
            Ok(items) => {
                browser.error = None;
                match bucket {
                    None => browser.buckets = items.into_iter().map(|(name, _)| name).collect(),
                    Some(_) => browser.objects = items,
                }
            }
            Err(failure) => browser.error = Some(failure.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_errors_are_recognised() {
        assert!(is_role_error("NoSetRoletoECSServiceAcount"));
        assert!(!is_role_error("InvalidImageName.Duplicated"));
    }
}
