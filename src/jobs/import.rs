//! The durable "local disk file → usable ECS image" job.
//!
//! Stages: **upload** every local disk file to OSS (resumable, [`super::upload`]) → **verify** that
//! OSS holds exactly those bytes (its CRC-64 against the local one) → **import** (ImportImage with a
//! `ClientToken` that is saved *before* the call) → **watch** the image until it is Available at
//! 100 % → **after-steps** (image family, deleting the uploaded OSS objects) → done.
//!
//! The whole job is one small JSON file, rewritten atomically (temp + fsync + rename) at every
//! step, so a process killed at any instant resumes at the stage it was in:
//! - mid-upload: the upload checkpoint (beside the job) plus `ListParts` send only missing parts;
//! - upload finished but not yet recorded: the object is found on OSS and checked by CRC instead of
//!   being sent again;
//! - ImportImage sent, answer not recorded: the call is repeated with the *same* ClientToken, which
//!   ECS answers with the image the first call created — never a second image;
//! - watching: polling simply starts again.
//!
//! A failure keeps everything: the job records the stage it failed in and "Retry" resumes there.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::upload::{self, Control, UploadEvent, UploadSpec};
use crate::client::oss::OssRequest;
use crate::client::{Client, ClientError, decode_json};
use crate::protocol::Product;
use crate::protocol::crc64::Crc64;
use crate::protocol::ops::ecs::{
    CancelTask, DescribeImages, DescribeTaskAttribute, ImageStatus, ImportImageResponse, ModifyImageAttribute,
};
use crate::protocol::params::Params;

const JOB_VERSION: u32 = 1;
/// How many times a CRC mismatch sends a file again before the job gives up.
const MAX_REUPLOADS: u32 = 2;
/// Consecutive failed polls after which the job's timeline says so (polling goes on).
const PERSISTENT_POLL_FAILURES: u32 = 5;

/// Where a job is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Stage {
    Upload,
    Verify,
    Import,
    Watch,
    AfterSteps,
    Done,
    Failed,
    Cancelled,
}

impl Stage {
    /// The stages a job passes through, in order (for the stage strip in the UI).
    pub const PIPELINE: [Stage; 6] =
        [Stage::Upload, Stage::Verify, Stage::Import, Stage::Watch, Stage::AfterSteps, Stage::Done];

    pub fn is_terminal(self) -> bool {
        matches!(self, Stage::Done | Stage::Failed | Stage::Cancelled)
    }
}

/// One disk of the image: a local file to upload, or an object already in OSS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobDisk {
    /// `None`: the object is already in OSS.
    pub file: Option<PathBuf>,
    pub bucket: String,
    pub object: String,
    /// Bytes (known once uploaded or checked).
    pub size: Option<u64>,
    /// CRC-64/ECMA of the local file (from the upload, or read back when that was not recorded).
    pub crc64: Option<u64>,
    /// OSS's CRC-64 equals the local one (or, for an OSS source, the object exists).
    pub verified: bool,
    /// An upload of this disk was started (so a missing checkpoint means "finished", not "new").
    pub upload_started: bool,
    /// Bytes this job sent for the disk, as recorded (a run killed before saving adds nothing).
    pub bytes_sent: u64,
    pub reuploads: u32,
}

impl JobDisk {
    pub fn local(file: impl Into<PathBuf>, bucket: impl Into<String>, object: impl Into<String>) -> Self {
        Self { file: Some(file.into()), ..Self::in_oss(bucket, object) }
    }

    pub fn in_oss(bucket: impl Into<String>, object: impl Into<String>) -> Self {
        Self {
            file: None,
            bucket: bucket.into(),
            object: object.into(),
            size: None,
            crc64: None,
            verified: false,
            upload_started: false,
            bytes_sent: 0,
            reuploads: 0,
        }
    }
}

/// What to do once the image is usable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AfterSteps {
    /// Put the image in this family (ModifyImageAttribute).
    pub family: Option<String>,
    /// Delete the objects this job uploaded (objects that were already in OSS are left alone).
    pub delete_uploaded_objects: bool,
    pub family_done: bool,
    pub objects_deleted: bool,
}

/// A line of the job's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub stage: Stage,
    pub text: String,
}

/// Why a job stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailure {
    /// The stage that failed ("Retry" resumes there).
    pub stage: Stage,
    pub message: String,
    /// The API error code, when the service answered with one.
    pub code: Option<String>,
}

/// The persisted state of one import job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub version: u32,
    pub id: String,
    /// The profile the job runs under (only that profile's worker resumes it).
    pub profile: String,
    pub created_at: DateTime<Utc>,
    pub region: String,
    pub image_name: String,
    pub disks: Vec<JobDisk>,
    /// The ImportImage parameters (disk locations included, `ClientToken` added by the job).
    pub params: Vec<(String, String)>,
    pub after: AfterSteps,
    pub stage: Stage,
    /// Generated and saved before ImportImage is first sent; every repeat carries the same one.
    pub client_token: Option<String>,
    /// How many times ImportImage was sent (a repeat after a crash is expected; the token dedupes).
    pub import_attempts: u32,
    pub image_id: Option<String>,
    pub task_id: Option<String>,
    /// Import progress as ECS reports it.
    pub progress: Option<u8>,
    pub failure: Option<JobFailure>,
    pub timeline: Vec<TimelineEntry>,
}

impl ImportJob {
    /// A new job; `params` are ImportImage's (RegionId and each `DiskDeviceMapping.N.OSSBucket` /
    /// `OSSObject` must match `disks`).
    pub fn new(
        profile: impl Into<String>,
        region: impl Into<String>,
        image_name: impl Into<String>,
        disks: Vec<JobDisk>,
        params: Params,
        after: AfterSteps,
    ) -> Self {
        let now = Utc::now();
        let first = if disks.iter().any(|d| d.file.is_some()) { Stage::Upload } else { Stage::Verify };
        let mut job = Self {
            version: JOB_VERSION,
            id: format!("job-{}-{}", now.format("%Y%m%d%H%M%S"), &crate::protocol::sign::new_nonce()[..8]),
            profile: profile.into(),
            created_at: now,
            region: region.into(),
            image_name: image_name.into(),
            disks,
            params: params.into_vec(),
            after,
            stage: first,
            client_token: None,
            import_attempts: 0,
            image_id: None,
            task_id: None,
            progress: None,
            failure: None,
            timeline: Vec::new(),
        };
        job.note(first, "job created");
        job
    }

    fn note(&mut self, stage: Stage, text: impl Into<String>) {
        self.timeline.push(TimelineEntry { at: Utc::now(), stage, text: text.into() });
    }

    fn enter(&mut self, stage: Stage, text: impl Into<String>) {
        self.stage = stage;
        self.note(stage, text);
    }

    /// Make a failed or cancelled job runnable again at the stage it stopped in.
    pub fn retry(&mut self) -> bool {
        let Some(failure) = self.failure.take() else { return false };
        self.enter(failure.stage, "retrying");
        true
    }

    /// Bytes sent over all runs, for every disk.
    pub fn bytes_sent(&self) -> u64 {
        self.disks.iter().map(|d| d.bytes_sent).sum()
    }
}

// ---------------------------------------------------------------------------------------------
// Store

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a readable job file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// Jobs as one JSON file each in a directory (`None` = kept in memory only, for throwaway
/// sessions and tests).
#[derive(Clone, Debug)]
pub struct JobStore {
    dir: Option<PathBuf>,
}

/// What loading found.
#[derive(Debug, Default)]
pub struct LoadedJobs {
    pub jobs: Vec<ImportJob>,
    /// Files that could not be read (left in place, never overwritten).
    pub problems: Vec<String>,
}

impl JobStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: Some(dir.into()) }
    }

    pub fn in_memory() -> Self {
        Self { dir: None }
    }

    /// `$XDG_DATA_HOME/imagedesk/jobs`.
    pub fn default_dir(get: impl Fn(&str) -> Option<String>) -> PathBuf {
        crate::paths::data_dir(get).join("jobs")
    }

    fn job_path(dir: &Path, id: &str) -> PathBuf {
        dir.join(format!("{id}.json"))
    }

    /// Where a disk's upload checkpoint lives (beside the job, not beside the user's file, whose
    /// directory may be read-only).
    pub fn checkpoint_path(&self, job: &ImportJob, disk: usize) -> PathBuf {
        let dir = self.dir.clone().unwrap_or_else(std::env::temp_dir);
        dir.join(format!("{}.disk{}.upload.json", job.id, disk + 1))
    }

    /// Write the job atomically: a reader (or the next start) sees the old or the new state,
    /// never half of one.
    pub fn save(&self, job: &ImportJob) -> Result<(), StoreError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StoreError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = Self::job_path(dir, &job.id);
        let temp = path.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(job)
            .map_err(|e| StoreError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        let mut file = std::fs::File::create(&temp).map_err(io(&temp))?;
        file.write_all(&body).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        drop(file);
        std::fs::rename(&temp, &path).map_err(io(&path))?;
        // The rename itself must survive a power cut too.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Every job in the directory, oldest first.
    pub fn load_all(&self) -> LoadedJobs {
        let mut loaded = LoadedJobs::default();
        let Some(dir) = &self.dir else { return loaded };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return loaded,
            Err(e) => {
                loaded.problems.push(format!("{}: {e}", dir.display()));
                return loaded;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if !name.starts_with("job-") || !name.ends_with(".json") || name.contains(".upload.") {
                continue;
            }
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| serde_json::from_slice::<ImportJob>(&bytes).map_err(|e| e.to_string()))
            {
                Ok(job) if job.version == JOB_VERSION => loaded.jobs.push(job),
                Ok(job) => loaded.problems.push(format!(
                    "{}: job format version {} is not supported",
                    path.display(),
                    job.version
                )),
                Err(reason) => loaded.problems.push(format!("{}: {reason}", path.display())),
            }
        }
        loaded.jobs.sort_by_key(|j| j.created_at);
        loaded
    }

    /// Forget a finished job (and any upload checkpoints it left).
    pub fn remove(&self, job: &ImportJob) -> Result<(), StoreError> {
        let Some(dir) = &self.dir else { return Ok(()) };
        for disk in 0..job.disks.len() {
            let _ = std::fs::remove_file(self.checkpoint_path(job, disk));
        }
        let path = Self::job_path(dir, &job.id);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Runner

/// What a running job reports.
#[derive(Clone, Debug)]
pub enum JobEvent {
    /// The job's state changed (it was saved just before).
    Updated(Box<ImportJob>),
    /// Upload progress of one disk.
    Uploading { id: String, disk: usize, bytes_done: u64, total: u64, rate_bytes_per_sec: f64 },
}

/// Moments a job passes, reported synchronously to an observer (the crash tests stop the process
/// at these; the app does not need them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Milestone {
    StageEntered(Stage),
    PartUploaded {
        disk: usize,
        parts_done: u32,
        parts_total: u32,
    },
    /// ImportImage answered; the answer is not saved yet.
    ImportAnswered {
        image_id: String,
    },
    Polled {
        progress: Option<u8>,
    },
}

pub type Observer = Arc<dyn Fn(&ImportJob, &Milestone) + Send + Sync>;

/// Runs jobs with one client.
#[derive(Clone)]
pub struct JobRunner {
    pub client: Client,
    pub store: JobStore,
    pub poll_interval: Duration,
    pub part_size: Option<u64>,
    pub concurrency: usize,
    pub observer: Option<Observer>,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner").field("store", &self.store).finish_non_exhaustive()
    }
}

/// A stage's outcome.
enum Step {
    Next,
    Fail { message: String, code: Option<String> },
    Cancelled,
}

fn client_failure(error: &ClientError) -> Step {
    Step::Fail { message: error.to_string(), code: error.api().map(|a| a.code.clone()) }
}

impl JobRunner {
    pub fn new(client: Client, store: JobStore) -> Self {
        Self {
            client,
            store,
            poll_interval: Duration::from_secs(3),
            part_size: None,
            concurrency: 4,
            observer: None,
        }
    }

    fn observe(&self, job: &ImportJob, milestone: Milestone) {
        if let Some(observer) = &self.observer {
            observer(job, &milestone);
        }
    }

    async fn save(&self, job: &ImportJob, events: &mpsc::Sender<JobEvent>) -> Result<(), String> {
        let store = self.store.clone();
        let snapshot = job.clone();
        let saved = tokio::task::spawn_blocking(move || store.save(&snapshot))
            .await
            .map_err(|e| format!("saving the job: {e}"))?;
        saved.map_err(|e| e.to_string())?;
        // Every state change reaches a listening UI (a UI that went away does not stop the job).
        let _ = events.send(JobEvent::Updated(Box::new(job.clone()))).await;
        Ok(())
    }

    /// Run `job` from its current stage until it is done, fails or is cancelled; returns its
    /// final state (also saved). A job whose state cannot be saved stops (it could not resume).
    pub async fn run(
        &self,
        mut job: ImportJob,
        events: mpsc::Sender<JobEvent>,
        mut control: watch::Receiver<Control>,
    ) -> ImportJob {
        while !job.stage.is_terminal() {
            self.observe(&job, Milestone::StageEntered(job.stage));
            if *control.borrow() == Control::Cancel {
                self.cancel(&mut job).await;
                job.enter(Stage::Cancelled, "cancelled");
                let _ = self.save(&job, &events).await;
                break;
            }
            let step = match job.stage {
                Stage::Upload => self.upload(&mut job, &events, &mut control).await,
                Stage::Verify => self.verify(&mut job, &events).await,
                Stage::Import => self.import(&mut job, &events).await,
                Stage::Watch => self.watch_image(&mut job, &events, &mut control).await,
                Stage::AfterSteps => self.after_steps(&mut job).await,
                Stage::Done | Stage::Failed | Stage::Cancelled => Step::Next,
            };
            match step {
                Step::Next => {
                    // The stage functions move `job.stage` forward themselves.
                }
                Step::Fail { message, code } => {
                    tracing::warn!(job = %job.id, stage = ?job.stage, "job failed: {message}");
                    job.failure = Some(JobFailure { stage: job.stage, message: message.clone(), code });
                    job.enter(Stage::Failed, message);
                }
                Step::Cancelled => {
                    self.cancel(&mut job).await;
                    job.failure = Some(JobFailure {
                        stage: job.stage,
                        message: "cancelled by the user".into(),
                        code: None,
                    });
                    job.enter(Stage::Cancelled, "cancelled");
                }
            }
            if let Err(message) = self.save(&job, &events).await {
                tracing::error!(job = %job.id, "cannot save the job, stopping it: {message}");
                job.failure = Some(JobFailure { stage: job.stage, message, code: None });
                job.stage = Stage::Failed;
                let _ = events.send(JobEvent::Updated(Box::new(job.clone()))).await;
                break;
            }
        }
        job
    }

    /// Cancelling during the watch stops the import task on ECS as well.
    async fn cancel(&self, job: &mut ImportJob) {
        if job.stage == Stage::Watch
            && let Some(task_id) = job.task_id.clone()
        {
            let request = CancelTask { region_id: job.region.clone(), task_id: task_id.clone() };
            match self.client.call(request).await {
                Ok(_) => job.note(Stage::Watch, format!("import task {task_id} cancelled")),
                Err(e) => job.note(Stage::Watch, format!("could not cancel task {task_id}: {e}")),
            }
        }
    }

    async fn upload(
        &self,
        job: &mut ImportJob,
        events: &mpsc::Sender<JobEvent>,
        control: &mut watch::Receiver<Control>,
    ) -> Step {
        for index in 0..job.disks.len() {
            let disk = job.disks[index].clone();
            let Some(file) = disk.file.clone() else { continue };
            if disk.crc64.is_some() {
                continue;
            }
            let checkpoint = self.store.checkpoint_path(job, index);
            // Started before, no checkpoint left: the upload finished (the checkpoint goes when it
            // completes) before the job recorded it. Verify will compare the CRCs instead.
            if disk.upload_started && !checkpoint.exists() {
                match self.head(job, index).await {
                    Ok(Some((size, _))) => {
                        job.disks[index].size = Some(size);
                        job.note(Stage::Upload, format!("disk {} already in OSS; checking it", index + 1));
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => return client_failure(&e),
                }
            }
            job.disks[index].upload_started = true;
            if let Err(message) = self.save(job, events).await {
                return Step::Fail { message, code: None };
            }
            let mut spec = UploadSpec::new(&file, &disk.bucket, &disk.object);
            spec.region = Some(job.region.clone());
            spec.checkpoint_path = checkpoint;
            spec.part_size = self.part_size;
            spec.concurrency = self.concurrency.max(1);
            let (tx, mut rx) = mpsc::channel(64);
            let upload_control = control.clone();
            let client = self.client.clone();
            let task = tokio::spawn(async move { upload::upload(&client, spec, tx, upload_control).await });
            let mut sent_before = None;
            while let Some(event) = rx.recv().await {
                match event {
                    UploadEvent::Progress { bytes_done, total, rate_bytes_per_sec, .. } => {
                        let base = *sent_before.get_or_insert(bytes_done);
                        job.disks[index].size = Some(total);
                        let _ = events.try_send(JobEvent::Uploading {
                            id: job.id.clone(),
                            disk: index,
                            bytes_done,
                            total,
                            rate_bytes_per_sec,
                        });
                        job.disks[index].bytes_sent = disk.bytes_sent + bytes_done.saturating_sub(base);
                    }
                    UploadEvent::PartDone { parts_done, parts_total, .. } => {
                        self.observe(job, Milestone::PartUploaded { disk: index, parts_done, parts_total });
                    }
                    UploadEvent::Started { parts_reused, parts_total, .. } if parts_reused > 0 => {
                        job.note(
                            Stage::Upload,
                            format!(
                                "disk {}: resuming, {parts_reused} of {parts_total} parts already in OSS",
                                index + 1
                            ),
                        );
                    }
                    _ => {}
                }
            }
            match task.await {
                Ok(Ok(outcome)) => {
                    let d = &mut job.disks[index];
                    d.size = Some(outcome.size);
                    d.crc64 = Some(outcome.crc64);
                    d.bytes_sent = disk.bytes_sent
                        + if outcome.parts_total <= 1 {
                            outcome.size
                        } else {
                            u64::from(outcome.parts_sent) * outcome.part_size
                        }
                        .min(outcome.size);
                    job.note(
                        Stage::Upload,
                        format!(
                            "disk {} uploaded to oss://{}/{} ({} bytes, {} parts sent, {} reused)",
                            index + 1,
                            disk.bucket,
                            disk.object,
                            outcome.size,
                            outcome.parts_sent,
                            outcome.parts_reused
                        ),
                    );
                    if let Err(message) = self.save(job, events).await {
                        return Step::Fail { message, code: None };
                    }
                }
                Ok(Err(upload::UploadError::Cancelled)) => return Step::Cancelled,
                Ok(Err(upload::UploadError::Client(e))) => return client_failure(&e),
                Ok(Err(e)) => return Step::Fail { message: e.to_string(), code: None },
                Err(e) => return Step::Fail { message: format!("the upload task stopped: {e}"), code: None },
            }
        }
        job.enter(Stage::Verify, "uploaded; checking CRC-64");
        Step::Next
    }

    /// HEAD the disk's object: its size and OSS's CRC-64, or `None` if it does not exist.
    async fn head(&self, job: &ImportJob, index: usize) -> Result<Option<(u64, Option<u64>)>, ClientError> {
        let disk = &job.disks[index];
        let request = OssRequest {
            method: "HEAD".into(),
            bucket: Some(disk.bucket.clone()),
            key: disk.object.clone(),
            ..OssRequest::default()
        };
        match self.client.oss(Some(&job.region), &request).await {
            Ok(answer) => {
                let size = answer.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                let crc = answer.header("x-oss-hash-crc64ecma").and_then(|v| v.parse().ok());
                Ok(Some((size, crc)))
            }
            Err(e) if e.api().is_some_and(|a| a.http_status == 404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn verify(&self, job: &mut ImportJob, events: &mpsc::Sender<JobEvent>) -> Step {
        let this = self;
        for index in 0..job.disks.len() {
            if job.disks[index].verified {
                continue;
            }
            let (size, remote_crc) = match this.head(job, index).await {
                Ok(Some(found)) => found,
                Ok(None) => {
                    let d = &job.disks[index];
                    if d.file.is_some() && d.reuploads < MAX_REUPLOADS {
                        return this.reupload(job, index, "the uploaded object is missing from OSS");
                    }
                    return Step::Fail {
                        message: format!("oss://{}/{} does not exist", d.bucket, d.object),
                        code: Some("NoSuchKey".into()),
                    };
                }
                Err(e) => return client_failure(&e),
            };
            let disk = job.disks[index].clone();
            if let Some(file) = &disk.file {
                let local = match disk.crc64 {
                    Some(crc) => crc,
                    None => {
                        job.note(
                            Stage::Verify,
                            format!("disk {}: reading the local file for its CRC-64", index + 1),
                        );
                        let file = file.clone();
                        match tokio::task::spawn_blocking(move || file_crc64(&file)).await {
                            Ok(Ok(crc)) => crc,
                            Ok(Err(e)) => return Step::Fail { message: e, code: None },
                            Err(e) => return Step::Fail { message: e.to_string(), code: None },
                        }
                    }
                };
                if remote_crc != Some(local) || disk.size.is_some_and(|s| s != size) {
                    let reason = format!(
                        "CRC-64 mismatch on disk {}: local {local}, OSS {}",
                        index + 1,
                        remote_crc.map_or_else(|| "none".to_owned(), |c| c.to_string())
                    );
                    if disk.reuploads < MAX_REUPLOADS {
                        return this.reupload(job, index, &reason);
                    }
                    return Step::Fail { message: reason, code: Some("CrcMismatch".into()) };
                }
                job.disks[index].crc64 = Some(local);
                job.note(Stage::Verify, format!("disk {}: CRC-64 {local} matches OSS", index + 1));
            } else {
                job.disks[index].crc64 = remote_crc;
                job.note(
                    Stage::Verify,
                    format!("disk {}: oss://{}/{} found ({size} bytes)", index + 1, disk.bucket, disk.object),
                );
            }
            job.disks[index].size = Some(size);
            job.disks[index].verified = true;
            if let Err(message) = this.save(job, events).await {
                return Step::Fail { message, code: None };
            }
        }
        job.enter(Stage::Import, "sending ImportImage");
        Step::Next
    }

    /// Send a disk's file again from scratch (its object did not match).
    fn reupload(&self, job: &mut ImportJob, index: usize, reason: &str) -> Step {
        let _ = std::fs::remove_file(self.store.checkpoint_path(job, index));
        let d = &mut job.disks[index];
        d.reuploads += 1;
        d.crc64 = None;
        d.upload_started = false;
        d.verified = false;
        job.enter(Stage::Upload, format!("{reason}; uploading disk {} again", index + 1));
        Step::Next
    }

    async fn import(&self, job: &mut ImportJob, events: &mpsc::Sender<JobEvent>) -> Step {
        if job.image_id.is_none() {
            // The token must be on disk before the request leaves: a crash after sending and
            // before recording the answer repeats the call with it, and ECS answers with the
            // image it already created.
            if job.client_token.is_none() {
                job.client_token = Some(Client::new_client_token());
            }
            job.import_attempts += 1;
            if let Err(message) = self.save(job, events).await {
                return Step::Fail { message, code: None };
            }
            let mut params = Params::from_pairs(job.params.iter().cloned());
            params.insert("ClientToken", job.client_token.clone().unwrap_or_default());
            let answer = self.client.call_raw(Product::Ecs, "ImportImage", Some(&job.region), &params).await;
            let answer = match answer.and_then(|raw| decode_json::<ImportImageResponse>("ImportImage", &raw))
            {
                Ok(answer) => answer,
                Err(e) => return client_failure(&e),
            };
            self.observe(job, Milestone::ImportAnswered { image_id: answer.image_id.clone() });
            job.note(
                Stage::Import,
                format!(
                    "ImportImage accepted: image {}, task {} (request {})",
                    answer.image_id, answer.task_id, answer.request_id
                ),
            );
            job.image_id = Some(answer.image_id);
            job.task_id = Some(answer.task_id).filter(|t| !t.is_empty());
        }
        job.enter(Stage::Watch, "waiting for the image to become Available");
        Step::Next
    }

    async fn watch_image(
        &self,
        job: &mut ImportJob,
        events: &mpsc::Sender<JobEvent>,
        control: &mut watch::Receiver<Control>,
    ) -> Step {
        let Some(image_id) = job.image_id.clone() else {
            job.enter(Stage::Import, "no image recorded; importing");
            return Step::Next;
        };
        let mut failed_polls = 0u32;
        loop {
            if *control.borrow() == Control::Cancel {
                return Step::Cancelled;
            }
            let request = DescribeImages {
                region_id: job.region.clone(),
                image_id: Some(image_id.clone()),
                status: ImageStatus::all(),
                ..Default::default()
            };
            match self.client.call(request).await {
                Ok(answer) => {
                    failed_polls = 0;
                    let Some(image) = answer.images.into_iter().next() else {
                        return Step::Fail {
                            message: format!("image {image_id} no longer exists (deleted while importing?)"),
                            code: Some("InvalidImageId.NotFound".into()),
                        };
                    };
                    let progress = image.progress_percent();
                    self.observe(job, Milestone::Polled { progress });
                    let status = image.status();
                    if status == ImageStatus::Available && progress.is_none_or(|p| p >= 100) {
                        job.progress = Some(100);
                        job.enter(Stage::AfterSteps, format!("image {image_id} is Available"));
                        return Step::Next;
                    }
                    if matches!(status, ImageStatus::CreateFailed | ImageStatus::UnAvailable) {
                        let reason = self.task_error(job).await;
                        return Step::Fail {
                            message: format!("the import failed (image status {}){reason}", status.as_str()),
                            code: Some("ImportImageFailed".into()),
                        };
                    }
                    if progress != job.progress {
                        let step = |p: Option<u8>| p.unwrap_or(0) / 10;
                        if step(progress) != step(job.progress) {
                            job.note(Stage::Watch, format!("{}%", progress.unwrap_or(0)));
                        }
                        job.progress = progress;
                        if let Err(message) = self.save(job, events).await {
                            return Step::Fail { message, code: None };
                        }
                    }
                }
                // Polling is retried; a passing network fault must not fail an hour-long import,
                // but one that persists is said on the job's timeline.
                Err(e) => {
                    tracing::debug!(job = %job.id, "poll failed: {e}");
                    failed_polls += 1;
                    if failed_polls == PERSISTENT_POLL_FAILURES {
                        job.note(
                            Stage::Watch,
                            format!("checking the image keeps failing (still retrying): {e}"),
                        );
                        if let Err(message) = self.save(job, events).await {
                            return Step::Fail { message, code: None };
                        }
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll_interval) => {}
                _ = control.changed() => {}
            }
        }
    }

    /// The import task's own error text, if ECS gives one.
    async fn task_error(&self, job: &ImportJob) -> String {
        let Some(task_id) = job.task_id.clone() else { return String::new() };
        match self.client.call(DescribeTaskAttribute { region_id: job.region.clone(), task_id }).await {
            Ok(task) => task
                .operation_progress_set
                .iter()
                .find(|p| !p.error_msg.is_empty() || !p.error_code.is_empty())
                .map(|p| format!(": {} {}", p.error_code, p.error_msg))
                .unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn after_steps(&self, job: &mut ImportJob) -> Step {
        let image_id = job.image_id.clone().unwrap_or_default();
        if let Some(family) = job.after.family.clone().filter(|f| !f.is_empty())
            && !job.after.family_done
        {
            let request = ModifyImageAttribute {
                region_id: job.region.clone(),
                image_id: image_id.clone(),
                image_family: Some(family.clone()),
                ..Default::default()
            };
            if let Err(e) = self.client.call(request).await {
                return client_failure(&e);
            }
            job.after.family_done = true;
            job.note(Stage::AfterSteps, format!("family set to {family}"));
        }
        if job.after.delete_uploaded_objects && !job.after.objects_deleted {
            for disk in job.disks.iter().filter(|d| d.file.is_some()) {
                let request = OssRequest {
                    method: "DELETE".into(),
                    bucket: Some(disk.bucket.clone()),
                    key: disk.object.clone(),
                    ..OssRequest::default()
                };
                match self.client.oss(Some(&job.region), &request).await {
                    Ok(_) => {}
                    Err(e) if e.api().is_some_and(|a| a.http_status == 404) => {}
                    Err(e) => return client_failure(&e),
                }
            }
            job.after.objects_deleted = true;
            job.note(Stage::AfterSteps, "uploaded objects deleted from OSS");
        }
        job.enter(Stage::Done, format!("image {image_id} is ready"));
        Step::Next
    }
}

/// CRC-64/ECMA of a whole file (1 MiB reads).
pub fn file_crc64(path: &Path) -> Result<u64, String> {
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut crc = Crc64::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Ok(crc.value());
        }
        crc.update(&buffer[..n]);
    }
}

/// The jobs of one profile still to run, by ID.
pub fn resumable(jobs: &[ImportJob], profile: &str) -> BTreeMap<String, ImportJob> {
    jobs.iter()
        .filter(|j| j.profile == profile && !j.stage.is_terminal())
        .map(|j| (j.id.clone(), j.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> ImportJob {
        let mut params = Params::new();
        params.insert("RegionId", "cn-hangzhou");
        ImportJob::new(
            "sandbox",
            "cn-hangzhou",
            "web",
            vec![JobDisk::local("/tmp/disk.raw", "b", "disk.raw")],
            params,
            AfterSteps::default(),
        )
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("imagedesk-jobs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn jobs_survive_a_save_and_load_and_broken_files_are_reported_not_lost() {
        let dir = temp_dir("store");
        let store = JobStore::new(&dir);
        let mut a = job();
        a.client_token = Some("tok".into());
        store.save(&a).unwrap();
        std::fs::write(dir.join("job-broken.json"), b"{ not json").unwrap();
        let loaded = store.load_all();
        assert_eq!(loaded.jobs, vec![a.clone()]);
        assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
        assert!(dir.join("job-broken.json").exists(), "an unreadable job file is left for the user");
        a.stage = Stage::Done;
        store.save(&a).unwrap();
        assert_eq!(store.load_all().jobs[0].stage, Stage::Done, "a save replaces the file");
        store.remove(&a).unwrap();
        assert!(store.load_all().jobs.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_new_job_starts_at_upload_only_with_local_files() {
        assert_eq!(job().stage, Stage::Upload);
        let oss_only = ImportJob::new(
            "p",
            "r",
            "n",
            vec![JobDisk::in_oss("b", "o")],
            Params::new(),
            AfterSteps::default(),
        );
        assert_eq!(oss_only.stage, Stage::Verify);
    }

    #[test]
    fn retry_resumes_at_the_failed_stage_and_only_unfinished_jobs_of_the_profile_resume() {
        let mut j = job();
        assert!(!j.retry(), "nothing to retry");
        j.failure = Some(JobFailure { stage: Stage::Import, message: "x".into(), code: None });
        j.stage = Stage::Failed;
        let other = ImportJob { profile: "other".into(), ..job() };
        assert!(resumable(&[j.clone(), other.clone()], "sandbox").is_empty());
        assert!(j.retry());
        assert_eq!(j.stage, Stage::Import);
        assert!(j.failure.is_none());
        let ids: Vec<_> = resumable(&[j.clone(), other], "sandbox").into_keys().collect();
        assert_eq!(ids, vec![j.id]);
    }

    #[test]
    fn file_crc_matches_the_one_shot_checksum() {
        let dir = temp_dir("crc");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(file_crc64(&path).unwrap(), crate::protocol::crc64::checksum(&bytes));
        assert!(file_crc64(&dir.join("missing")).unwrap_err().contains("missing"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
