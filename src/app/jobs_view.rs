//! The import jobs in the Activity panel: a stage strip per job (upload → verify → import → wait →
//! after-steps → done), upload and import progress, the job's own timeline, and Cancel / Retry /
//! Dismiss. The jobs run in the worker; this only draws what it reports.

use eframe::egui::{self, RichText};

use super::i18n::Lang;
use super::model::{Product, RowKey, Status};
use super::monitor::human_duration;
use super::worker::Command;
use super::{ImageDeskApp, ToastKind};
use crate::jobs::import::{ImportJob, JobEvent, Stage};

/// The latest upload figures of a job.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UploadProgress {
    pub disk: usize,
    pub bytes_done: u64,
    pub total: u64,
    pub rate_bytes_per_sec: f64,
}

/// A stage's name in the UI language.
pub fn stage_name(stage: Stage, lang: Lang) -> &'static str {
    let (en, zh) = match stage {
        Stage::Upload => ("Upload", "上传"),
        Stage::Verify => ("Verify CRC-64", "校验 CRC-64"),
        Stage::Import => ("ImportImage", "导入镜像"),
        Stage::Watch => ("Wait until Available", "等待可用"),
        Stage::AfterSteps => ("After-steps", "后续步骤"),
        Stage::Done => ("Done", "完成"),
        Stage::Failed => ("Failed", "失败"),
        Stage::Cancelled => ("Cancelled", "已取消"),
    };
    lang.pick(en, zh)
}

/// The catalogue's advice for a service error code it knows (empty for others).
fn known_advice(code: &str, lang: Lang) -> String {
    if crate::protocol::catalog::lookup(code).is_none() {
        return String::new();
    }
    let advice = crate::protocol::catalog::advice(code, 400, "");
    if lang == Lang::En { advice.en } else { advice.zh }
}

/// Bytes in binary units.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

impl ImageDeskApp {
    pub(super) fn apply_job_event(&mut self, event: JobEvent) {
        match event {
            JobEvent::Uploading { id, disk, bytes_done, total, rate_bytes_per_sec } => {
                self.upload_progress
                    .insert(id, UploadProgress { disk, bytes_done, total, rate_bytes_per_sec });
            }
            JobEvent::Updated(job) => {
                let job = *job;
                let before = self.import_jobs.iter().find(|j| j.id == job.id).map(|j| j.stage);
                if before != Some(job.stage) {
                    self.job_stage_changed(&job);
                }
                if job.stage != Stage::Upload {
                    self.upload_progress.remove(&job.id);
                }
                match self.import_jobs.iter_mut().find(|j| j.id == job.id) {
                    Some(slot) => *slot = job,
                    None => self.import_jobs.push(job),
                }
            }
        }
    }

    /// Toasts at the ends, and the inventory learns about the new image.
    fn job_stage_changed(&mut self, job: &ImportJob) {
        let lang = self.lang;
        let id = job.image_id.clone().unwrap_or_default();
        match job.stage {
            Stage::Watch => {
                // The new image appears in the list while it imports.
                self.refresh();
            }
            Stage::Done => {
                let title = match lang {
                    Lang::En => format!("{} ({id}) is ready", job.image_name),
                    Lang::Zh => format!("{}（{id}）已可用", job.image_name),
                };
                self.toast(ToastKind::Success, title, String::new());
                self.refresh();
            }
            Stage::Failed => {
                let failure = job.failure.clone();
                let message = failure.as_ref().map(|f| f.message.clone()).unwrap_or_default();
                let advice =
                    failure.and_then(|f| f.code).map(|code| known_advice(&code, lang)).unwrap_or_default();
                let title = match lang {
                    Lang::En => format!("Import of {} failed", job.image_name),
                    Lang::Zh => format!("{} 导入失败", job.image_name),
                };
                self.toast(ToastKind::Error, title, format!("{message}\n{advice}").trim().to_owned());
            }
            _ => {}
        }
    }

    /// Whether a watched image belongs to an import job (the job shows it; the board need not).
    pub(super) fn owned_by_import_job(&self, key: &RowKey) -> bool {
        key.product == Product::Ecs
            && self
                .import_jobs
                .iter()
                .any(|j| j.region == key.region && j.image_id.as_deref() == Some(&key.id))
    }

    /// The import jobs section of the Activity panel.
    pub(super) fn import_jobs_view(&mut self, ui: &mut egui::Ui) {
        let lang = self.lang;
        for problem in &self.job_problems {
            ui.colored_label(ui.visuals().error_fg_color, problem);
        }
        let mut commands = Vec::new();
        let mut dismissed = Vec::new();
        for job in self.import_jobs.iter().rev() {
            ui.push_id(&job.id, |ui| {
                ui.horizontal(|ui| {
                    ui.strong(&job.image_name);
                    ui.label(RichText::new(&job.id).monospace().weak());
                    if let Some(image) = &job.image_id {
                        ui.label(RichText::new(image).monospace());
                    }
                });
                stage_strip(ui, job, lang);
                match job.stage {
                    Stage::Upload => {
                        if let Some(p) = self.upload_progress.get(&job.id) {
                            let fraction =
                                if p.total == 0 { 0.0 } else { p.bytes_done as f32 / p.total as f32 };
                            ui.horizontal(|ui| {
                                if job.disks.len() > 1 {
                                    ui.label(format!(
                                        "{} {}/{}",
                                        lang.pick("Disk", "磁盘"),
                                        p.disk + 1,
                                        job.disks.len()
                                    ));
                                }
                                ui.add(egui::ProgressBar::new(fraction).desired_width(200.0).text(format!(
                                    "{} / {}",
                                    human_bytes(p.bytes_done),
                                    human_bytes(p.total)
                                )));
                                if p.rate_bytes_per_sec > 0.0 {
                                    ui.label(format!("{}/s", human_bytes(p.rate_bytes_per_sec as u64)));
                                    let left =
                                        p.total.saturating_sub(p.bytes_done) as f64 / p.rate_bytes_per_sec;
                                    let left = std::time::Duration::from_secs_f64(left.min(1e9));
                                    ui.label(format!(
                                        "{} {}",
                                        lang.pick("ETA", "预计剩余"),
                                        human_duration(left)
                                    ));
                                }
                            });
                        }
                    }
                    Stage::Watch => {
                        let progress = f32::from(job.progress.unwrap_or(0)) / 100.0;
                        ui.add(egui::ProgressBar::new(progress).desired_width(200.0).show_percentage());
                    }
                    _ => {}
                }
                if let Some(failure) = &job.failure {
                    let color = if job.stage == Stage::Cancelled {
                        ui.visuals().weak_text_color()
                    } else {
                        ui.visuals().error_fg_color
                    };
                    ui.colored_label(color, &failure.message);
                    if let Some(advice) =
                        failure.code.as_deref().map(|c| known_advice(c, lang)).filter(|a| !a.is_empty())
                    {
                        ui.label(RichText::new(advice).small());
                    }
                }
                ui.horizontal(|ui| {
                    if !job.stage.is_terminal() && ui.button(lang.pick("Cancel job", "取消任务")).clicked()
                    {
                        commands.push(Command::CancelJob(job.id.clone()));
                    }
                    if matches!(job.stage, Stage::Failed | Stage::Cancelled)
                        && ui.button(lang.pick("Retry", "重试")).clicked()
                    {
                        commands.push(Command::RetryJob(Box::new(job.clone())));
                    }
                    if job.stage.is_terminal() && ui.button(lang.pick("Dismiss", "移除")).clicked() {
                        dismissed.push(job.id.clone());
                        commands.push(Command::DismissJob(Box::new(job.clone())));
                    }
                });
                egui::CollapsingHeader::new(lang.pick("Job timeline", "任务时间线"))
                    .id_salt("timeline")
                    .show(ui, |ui| {
                        for entry in &job.timeline {
                            let at = entry.at.with_timezone(&chrono::Local).format("%H:%M:%S");
                            ui.label(
                                RichText::new(format!(
                                    "{at}  {} — {}",
                                    stage_name(entry.stage, lang),
                                    entry.text
                                ))
                                .small(),
                            );
                        }
                    });
                ui.separator();
            });
        }
        self.import_jobs.retain(|j| !dismissed.contains(&j.id));
        for command in commands {
            self.send(command);
        }
    }
}

/// ① Upload ✓ → ② Verify … with the current stage highlighted.
fn stage_strip(ui: &mut egui::Ui, job: &ImportJob, lang: Lang) {
    let failed_at = job.failure.as_ref().map(|f| f.stage);
    let current = match job.stage {
        Stage::Failed | Stage::Cancelled => failed_at.unwrap_or(job.stage),
        stage => stage,
    };
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        let first = if job.disks.iter().any(|d| d.file.is_some()) { Stage::Upload } else { Stage::Verify };
        for (i, stage) in Stage::PIPELINE.into_iter().filter(|s| *s >= first).enumerate() {
            if i > 0 {
                ui.label(RichText::new("→").weak());
            }
            let name = stage_name(stage, lang);
            let text = if stage < current || job.stage == Stage::Done {
                RichText::new(format!("● {name}")).color(Status::Available.style().0)
            } else if stage == current && matches!(job.stage, Stage::Failed) {
                RichText::new(format!("■ {name}")).color(Status::Failed.style().0).strong()
            } else if stage == current && !job.stage.is_terminal() {
                RichText::new(format!("◐ {name}")).color(Status::Creating.style().0).strong()
            } else {
                RichText::new(name).weak()
            };
            ui.label(text);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_in_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(40 * 1024 * 1024 * 1024), "40.0 GiB");
    }

    #[test]
    fn every_stage_has_a_name_in_both_languages() {
        for stage in Stage::PIPELINE.into_iter().chain([Stage::Failed, Stage::Cancelled]) {
            assert!(!stage_name(stage, Lang::En).is_empty());
            assert_ne!(stage_name(stage, Lang::En), stage_name(stage, Lang::Zh));
        }
    }
}
