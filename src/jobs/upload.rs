//! Resumable upload of a local file to OSS (spec oss-upload.md §2–3).
//!
//! - Small files (≤ one part) go up with one `PutObject`; bigger ones as a multipart upload whose
//!   part size is chosen from the file size within the OSS limits ([`choose_part_size`]).
//! - At most `concurrency` parts are in flight, each read with positioned reads on a blocking
//!   thread into one buffer (its CRC-64 computed while reading); a retried part re-sends the
//!   same bytes. Memory is bounded by `concurrency × part_size`.
//! - A checkpoint (JSON, written atomically: temp file + rename) records the UploadId, the part
//!   size, the file's identity (size + mtime + sampled SHA-256) and every finished part (ETag,
//!   CRC). A restarted job reconciles it with `ListParts` and sends only what is missing; a file
//!   that changed since is refused ([`UploadError::FileChanged`]).
//! - Integrity: every part's CRC is checked against the `x-oss-hash-crc64ecma` OSS answers, and
//!   the whole object's (combined from the part CRCs) against the one `Complete` answers.
//! - Control (pause / resume / cancel) through a `watch` channel; events on a bounded `mpsc`
//!   channel (progress with `try_send`, so a slow consumer never stalls the upload).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::client::oss::{OssRequest, OssResponse};
use crate::client::{Client, ClientError, CredentialProvider};
use crate::protocol::crc64::{self, Crc64};

/// Smallest part OSS accepts (every part but the last).
pub const MIN_PART_SIZE: u64 = 100 * 1024;
/// Largest part (and largest single `PutObject`).
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Most parts in one multipart upload.
pub const MAX_PARTS: u64 = 10_000;
/// Part size for files that fit in 10 000 of them.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;

const MIB: u64 = 1024 * 1024;
/// Bytes read (and CRC'd) per positioned read.
const READ_CHUNK: usize = 1024 * 1024;
/// File identity: SHA-256 over this many bytes at each of `SAMPLES` evenly spaced offsets.
const SAMPLE_LEN: u64 = 64 * 1024;
const SAMPLES: u64 = 16;
const CHECKPOINT_VERSION: u32 = 1;
/// Refresh credentials that expire within this many seconds.
const REFRESH_MARGIN_SECS: i64 = 5 * 60;
/// Do not ask the credential source again sooner than this after a refresh.
const REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(30);

/// The part size for a file: 8 MiB, grown (in whole MiB) so the file fits in 10 000 parts,
/// capped at 5 GiB. A file no bigger than one part goes up with a single `PutObject`.
pub fn choose_part_size(file_size: u64) -> u64 {
    let needed = file_size.div_ceil(MAX_PARTS).div_ceil(MIB).saturating_mul(MIB);
    needed.clamp(DEFAULT_PART_SIZE, MAX_PART_SIZE)
}

/// Where a file's checkpoint goes by default: next to it, `<file>.imagedesk-upload.json`.
pub fn default_checkpoint_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".imagedesk-upload.json");
    PathBuf::from(name)
}

/// What to upload where.
#[derive(Clone, Debug)]
pub struct UploadSpec {
    pub file: PathBuf,
    /// The bucket's region (`None` = the profile's).
    pub region: Option<String>,
    pub bucket: String,
    pub key: String,
    /// `None` = [`choose_part_size`]. Ignored when resuming (the checkpoint's size is kept).
    pub part_size: Option<u64>,
    /// Parts in flight at once (≥ 1).
    pub concurrency: usize,
    pub checkpoint_path: PathBuf,
    pub content_type: Option<String>,
    /// The credential source to renew ahead of expiry (`CredentialProvider::expires_at`);
    /// `None` = the client's own source.
    pub credentials: Option<Arc<dyn CredentialProvider>>,
}

impl UploadSpec {
    /// Defaults: profile region, chosen part size, 4 parts in flight, checkpoint next to the file.
    pub fn new(file: impl Into<PathBuf>, bucket: impl Into<String>, key: impl Into<String>) -> Self {
        let file = file.into();
        Self {
            checkpoint_path: default_checkpoint_path(&file),
            file,
            region: None,
            bucket: bucket.into(),
            key: key.into(),
            part_size: None,
            concurrency: 4,
            content_type: None,
            credentials: None,
        }
    }
}

/// Commands for a running upload (send through a `watch` channel).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Control {
    #[default]
    Run,
    /// Start no new parts (those in flight finish).
    Pause,
    /// Stop, abort the multipart upload on OSS and delete the checkpoint.
    Cancel,
}

/// What the upload reports while it runs.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadEvent {
    /// `upload_id` is `None` for a single `PutObject`.
    Started {
        upload_id: Option<String>,
        total: u64,
        part_size: u64,
        parts_total: u32,
        parts_reused: u32,
    },
    Progress {
        bytes_done: u64,
        total: u64,
        rate_bytes_per_sec: f64,
        eta: Option<Duration>,
    },
    PartDone {
        number: u32,
        parts_done: u32,
        parts_total: u32,
    },
    Paused,
    Resumed,
    Completed {
        crc64: u64,
        etag: String,
    },
    Cancelled,
    Failed {
        message: String,
    },
}

/// A finished upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadOutcome {
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// CRC-64/ECMA of the whole object, as computed locally and confirmed by OSS.
    pub crc64: u64,
    pub etag: String,
    /// `None` for a single `PutObject`.
    pub upload_id: Option<String>,
    pub part_size: u64,
    pub parts_total: u32,
    /// Parts sent by this run (`UploadPart` or the single `PutObject`).
    pub parts_sent: u32,
    /// Parts already on OSS that this run did not send again.
    pub parts_reused: u32,
    /// Of `parts_reused`: parts OSS had that the checkpoint did not record yet (the process died
    /// before writing it), re-read locally and matched by CRC instead of re-sent.
    pub parts_verified: u32,
    /// Whether this run continued an upload from a checkpoint.
    pub resumed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path} changed since the interrupted upload started ({what}); refusing to resume — delete the checkpoint to upload it afresh"
    )]
    FileChanged { path: PathBuf, what: String },
    #[error("CRC-64 mismatch for {}: expected {expected}, OSS has {got}", describe_part(*.part))]
    CrcMismatch { part: Option<u32>, expected: u64, got: u64 },
    #[error("the upload was cancelled")]
    Cancelled,
    #[error("the upload checkpoint {path} cannot be used: {reason}")]
    CheckpointCorrupt { path: PathBuf, reason: String },
    #[error("the upload checkpoint {path} belongs to another upload ({reason})")]
    CheckpointConflict { path: PathBuf, reason: String },
    #[error("invalid upload: {0}")]
    InvalidSpec(String),
    #[error("{action}: could not read OSS's answer: {reason}")]
    Decode { action: String, reason: String },
    #[error(transparent)]
    Client(#[from] ClientError),
}

fn describe_part(part: Option<u32>) -> String {
    part.map_or_else(|| "the whole object".to_owned(), |n| format!("part {n}"))
}

// ---------------------------------------------------------------------------------------------
// Checkpoint and file identity

/// What identifies the file's content cheaply: size, modification time and a sampled hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    pub size: u64,
    /// Modification time, seconds since the Unix epoch (negative before it) and nanoseconds.
    pub mtime_secs: i64,
    pub mtime_nanos: u32,
    /// Hex SHA-256 of the size and 64 KiB at 16 evenly spaced offsets.
    pub sample_sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPart {
    /// As OSS returned it (quoted).
    pub etag: String,
    pub crc64: u64,
    pub size: u64,
}

/// The persisted state of a multipart upload in progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    pub upload_id: String,
    pub region: Option<String>,
    pub bucket: String,
    pub key: String,
    pub part_size: u64,
    pub file: FileIdentity,
    /// Finished parts by number.
    pub parts: BTreeMap<u32, CheckpointPart>,
}

impl Checkpoint {
    /// Read a checkpoint; `None` when there is none.
    pub fn load(path: &Path) -> Result<Option<Self>, UploadError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(UploadError::Io { path: path.to_owned(), source }),
        };
        let checkpoint: Self = serde_json::from_slice(&bytes)
            .map_err(|e| UploadError::CheckpointCorrupt { path: path.to_owned(), reason: e.to_string() })?;
        if checkpoint.version != CHECKPOINT_VERSION {
            return Err(UploadError::CheckpointCorrupt {
                path: path.to_owned(),
                reason: format!("unknown version {}", checkpoint.version),
            });
        }
        Ok(Some(checkpoint))
    }

    /// Write it atomically (temp file + fsync + rename).
    pub fn save(&self, path: &Path) -> Result<(), UploadError> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| UploadError::Io {
            path: path.to_owned(),
            source: io::Error::other(e.to_string()),
        })?;
        write_atomically(path, &bytes).map_err(|source| UploadError::Io { path: path.to_owned(), source })
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Unique per writer, so a write left running by a dropped job never collides with another.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}-{unique}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_data()?;
    }
    std::fs::rename(&tmp, path)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut std::mem::take(&mut buf)[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The file's identity (blocking).
pub fn identify(file: &File) -> io::Result<FileIdentity> {
    let meta = file.metadata()?;
    let size = meta.len();
    let (mtime_secs, mtime_nanos) = match meta.modified()?.duration_since(UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos()),
        Err(before) => {
            let d = before.duration();
            (-i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos())
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(size.to_le_bytes());
    let chunk = SAMPLE_LEN.min(size);
    if chunk > 0 {
        let mut buf = vec![0u8; usize::try_from(chunk).map_err(io::Error::other)?];
        let span = u128::from(size - chunk);
        for i in 0..SAMPLES {
            let offset = u64::try_from(span * u128::from(i) / u128::from(SAMPLES - 1)).unwrap_or(0);
            read_exact_at(file, &mut buf, offset)?;
            hasher.update(&buf);
        }
    }
    Ok(FileIdentity { size, mtime_secs, mtime_nanos, sample_sha256: hex::encode(hasher.finalize()) })
}

/// Part buffers recycled between parts: memory stays at about `concurrency` buffers instead
/// of growing with allocator fragmentation across the blocking-pool threads.
#[derive(Debug, Default)]
struct PartBuffers(std::sync::Mutex<Vec<BytesMut>>);

impl PartBuffers {
    fn take(&self, len: usize) -> BytesMut {
        let recycled = self.0.lock().ok().and_then(|mut pool| pool.pop());
        let mut buf = recycled.unwrap_or_default();
        buf.clear();
        buf.resize(len, 0);
        buf
    }

    /// Keep the buffer if nothing else holds it any more (hyper has dropped its clone).
    fn give(&self, bytes: Bytes) {
        if let Ok(buf) = bytes.try_into_mut()
            && let Ok(mut pool) = self.0.lock()
            && pool.len() < 16
        {
            pool.push(buf);
        }
    }
}

/// Read `len` bytes at `offset` into `buf`, computing their CRC-64 on the way (blocking).
fn read_part(file: &File, offset: u64, mut buf: BytesMut) -> io::Result<(Bytes, u64)> {
    let len = buf.len();
    let mut crc = Crc64::new();
    let mut done = 0;
    while done < len {
        let end = (done + READ_CHUNK).min(len);
        read_exact_at(file, &mut buf[done..end], offset + done as u64)?;
        crc.update(&buf[done..end]);
        done = end;
    }
    Ok((buf.freeze(), crc.value()))
}

async fn blocking<T, F>(path: &Path, f: F) -> Result<T, UploadError>
where
    T: Send + 'static,
    F: FnOnce() -> io::Result<T> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(UploadError::Io { path: path.to_owned(), source }),
        Err(join) => {
            Err(UploadError::Io { path: path.to_owned(), source: io::Error::other(join.to_string()) })
        }
    }
}

fn check_identity(path: &Path, recorded: &FileIdentity, now: &FileIdentity) -> Result<(), UploadError> {
    let what = if recorded.size != now.size {
        format!("size was {} bytes, now {}", recorded.size, now.size)
    } else if (recorded.mtime_secs, recorded.mtime_nanos) != (now.mtime_secs, now.mtime_nanos) {
        "modification time differs".to_owned()
    } else if recorded.sample_sha256 != now.sample_sha256 {
        "content differs".to_owned()
    } else {
        return Ok(());
    };
    Err(UploadError::FileChanged { path: path.to_owned(), what })
}

// ---------------------------------------------------------------------------------------------
// OSS answers (public so the fuzz suite can feed them hostile XML)

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InitiateResult {
    pub upload_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPartsResult {
    #[serde(default)]
    pub is_truncated: bool,
    #[serde(default)]
    pub next_part_number_marker: Option<u32>,
    #[serde(default, rename = "Part")]
    pub parts: Vec<ListedPart>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedPart {
    pub part_number: u32,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub size: u64,
    #[serde(default)]
    pub hash_crc64ecma: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompleteResult {
    #[serde(default, rename = "ETag")]
    pub etag: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUploadsResult {
    #[serde(default)]
    pub is_truncated: bool,
    #[serde(default)]
    pub next_key_marker: Option<String>,
    #[serde(default)]
    pub next_upload_id_marker: Option<String>,
    #[serde(default, rename = "Upload")]
    pub uploads: Vec<ListedUpload>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListedUpload {
    pub key: String,
    pub upload_id: String,
    #[serde(default)]
    pub initiated: Option<String>,
}

/// An OSS XML answer as `T`; errors name `action`.
pub fn parse_xml<T: DeserializeOwned>(action: &str, body: &[u8]) -> Result<T, UploadError> {
    let decode = |reason: String| UploadError::Decode { action: action.to_owned(), reason };
    let text = std::str::from_utf8(body).map_err(|e| decode(e.to_string()))?;
    quick_xml::de::from_str(text).map_err(|e| decode(e.to_string()))
}

fn is_no_such_upload(error: &ClientError) -> bool {
    error.api().is_some_and(|e| e.code == "NoSuchUpload")
}

fn same_etag(a: &str, b: &str) -> bool {
    a.trim_matches('"').eq_ignore_ascii_case(b.trim_matches('"'))
}

/// Compare the CRC OSS computed with ours; a missing header is only a warning.
fn check_crc(part: Option<u32>, expected: u64, response: &OssResponse) -> Result<(), UploadError> {
    match response.header("x-oss-hash-crc64ecma").map(|v| v.trim().parse::<u64>()) {
        Some(Ok(got)) if got == expected => Ok(()),
        Some(Ok(got)) => Err(UploadError::CrcMismatch { part, expected, got }),
        Some(Err(_)) | None => {
            tracing::warn!(part = ?part, "OSS sent no usable x-oss-hash-crc64ecma; integrity not confirmed");
            Ok(())
        }
    }
}

fn object_request(target: &Target, method: &str, query: Vec<(String, String)>) -> OssRequest {
    OssRequest {
        method: method.to_owned(),
        bucket: Some(target.bucket.clone()),
        key: target.key.clone(),
        query,
        ..Default::default()
    }
}

fn q(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_owned(), v.into())
}

// ---------------------------------------------------------------------------------------------
// Control and events

/// Handles pause/cancel: `Ok` when the job may start work, `Err(Cancelled)` when cancelled.
async fn wait_runnable(
    control: &mut watch::Receiver<Control>,
    events: &mpsc::Sender<UploadEvent>,
) -> Result<(), UploadError> {
    let mut paused = false;
    loop {
        let state = *control.borrow_and_update();
        match state {
            Control::Cancel => return Err(UploadError::Cancelled),
            Control::Run => {
                if paused {
                    let _ = events.send(UploadEvent::Resumed).await;
                }
                return Ok(());
            }
            Control::Pause => {
                if !paused {
                    paused = true;
                    let _ = events.send(UploadEvent::Paused).await;
                }
                if control.changed().await.is_err() {
                    // Nobody can resume us any more: carry on.
                    return Ok(());
                }
            }
        }
    }
}

async fn until_cancelled(control: &mut watch::Receiver<Control>) {
    loop {
        if *control.borrow_and_update() == Control::Cancel {
            return;
        }
        if control.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

struct Progress {
    total: u64,
    done: u64,
    sent_this_run: u64,
    started: Instant,
}

impl Progress {
    fn event(&self) -> UploadEvent {
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { self.sent_this_run as f64 / secs } else { 0.0 };
        let remaining = self.total.saturating_sub(self.done);
        let eta = if remaining == 0 {
            Some(Duration::ZERO)
        } else if rate > 0.0 {
            Duration::try_from_secs_f64(remaining as f64 / rate).ok()
        } else {
            None
        };
        UploadEvent::Progress { bytes_done: self.done, total: self.total, rate_bytes_per_sec: rate, eta }
    }
}

/// Refreshes credentials that expire soon (at most once per `REFRESH_MIN_INTERVAL`).
#[derive(Debug, Default)]
struct Refresher {
    last: Option<Instant>,
}

impl Refresher {
    async fn maybe_refresh(&mut self, provider: Option<&Arc<dyn CredentialProvider>>) {
        let Some(provider) = provider else { return };
        let Some(expires_at) = provider.expires_at() else { return };
        if (expires_at - Utc::now()).num_seconds() > REFRESH_MARGIN_SECS {
            return;
        }
        if self.last.is_some_and(|t| t.elapsed() < REFRESH_MIN_INTERVAL) {
            return;
        }
        self.last = Some(Instant::now());
        match provider.refresh().await {
            Ok(_) => tracing::info!(%expires_at, "refreshed credentials that were about to expire"),
            // The client still refreshes once on an expired-token answer.
            Err(e) => tracing::warn!(%expires_at, "could not refresh expiring credentials: {e}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The job

/// Upload `spec.file` to `oss://bucket/key`, resuming from `spec.checkpoint_path` if it exists.
/// Events go to `events` (progress is dropped when the channel is full; the final `Completed`,
/// `Cancelled` or `Failed` is always delivered while the receiver lives).
pub async fn upload(
    client: &Client,
    spec: UploadSpec,
    events: mpsc::Sender<UploadEvent>,
    mut control: watch::Receiver<Control>,
) -> Result<UploadOutcome, UploadError> {
    let result = run(client, &spec, &events, &mut control).await;
    let last = match &result {
        Ok(outcome) => {
            tracing::info!(bucket = %spec.bucket, key = %spec.key, crc64 = outcome.crc64, "upload complete");
            UploadEvent::Completed { crc64: outcome.crc64, etag: outcome.etag.clone() }
        }
        Err(UploadError::Cancelled) => {
            tracing::info!(bucket = %spec.bucket, key = %spec.key, "upload cancelled");
            UploadEvent::Cancelled
        }
        Err(e) => {
            tracing::warn!(bucket = %spec.bucket, key = %spec.key, "upload failed: {e}");
            UploadEvent::Failed { message: e.to_string() }
        }
    };
    let _ = events.send(last).await;
    result
}

/// Where the parts go.
#[derive(Debug)]
struct Target {
    region: Option<String>,
    bucket: String,
    key: String,
    upload_id: String,
}

async fn run(
    client: &Client,
    spec: &UploadSpec,
    events: &mpsc::Sender<UploadEvent>,
    control: &mut watch::Receiver<Control>,
) -> Result<UploadOutcome, UploadError> {
    if spec.bucket.is_empty() || spec.key.is_empty() {
        return Err(UploadError::InvalidSpec("bucket and key must not be empty".to_owned()));
    }
    if let Some(size) = spec.part_size
        && !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&size)
    {
        return Err(UploadError::InvalidSpec(format!(
            "part size {size} is outside {MIN_PART_SIZE}..={MAX_PART_SIZE} bytes"
        )));
    }
    let path = spec.file.clone();
    let (file, identity) = blocking(&spec.file, move || {
        let file = File::open(&path)?;
        let identity = identify(&file)?;
        Ok((file, identity))
    })
    .await?;
    let checkpoint_path = spec.checkpoint_path.clone();
    let checkpoint = match tokio::task::spawn_blocking(move || Checkpoint::load(&checkpoint_path)).await {
        Ok(loaded) => loaded?,
        Err(join) => {
            return Err(UploadError::Io {
                path: spec.checkpoint_path.clone(),
                source: io::Error::other(join.to_string()),
            });
        }
    };
    let file = Arc::new(file);
    match checkpoint {
        Some(checkpoint) => {
            if (checkpoint.bucket.as_str(), checkpoint.key.as_str())
                != (spec.bucket.as_str(), spec.key.as_str())
                || checkpoint.region != spec.region
            {
                return Err(UploadError::CheckpointConflict {
                    path: spec.checkpoint_path.clone(),
                    reason: format!("it is for oss://{}/{}", checkpoint.bucket, checkpoint.key),
                });
            }
            check_identity(&spec.file, &checkpoint.file, &identity)?;
            let part_size = checkpoint.part_size;
            multipart(client, spec, events, control, file, identity, part_size, Some(checkpoint)).await
        }
        None => {
            let part_size = spec.part_size.unwrap_or_else(|| choose_part_size(identity.size));
            if identity.size <= part_size {
                single_put(client, spec, events, control, file, identity.size).await
            } else {
                multipart(client, spec, events, control, file, identity, part_size, None).await
            }
        }
    }
}

async fn single_put(
    client: &Client,
    spec: &UploadSpec,
    events: &mpsc::Sender<UploadEvent>,
    control: &mut watch::Receiver<Control>,
    file: Arc<File>,
    size: u64,
) -> Result<UploadOutcome, UploadError> {
    wait_runnable(control, events).await?;
    let _ = events
        .send(UploadEvent::Started {
            upload_id: None,
            total: size,
            part_size: size,
            parts_total: 1,
            parts_reused: 0,
        })
        .await;
    let started = Instant::now();
    let len = usize::try_from(size)
        .map_err(|e| UploadError::Io { path: spec.file.clone(), source: io::Error::other(e) })?;
    let (body, crc) = blocking(&spec.file, move || read_part(&file, 0, BytesMut::zeroed(len))).await?;
    let mut request = OssRequest {
        method: "PUT".to_owned(),
        bucket: Some(spec.bucket.clone()),
        key: spec.key.clone(),
        body,
        ..Default::default()
    };
    if let Some(content_type) = &spec.content_type {
        request.headers.push(("content-type".to_owned(), content_type.clone()));
    }
    let response = tokio::select! {
        response = client.oss(spec.region.as_deref(), &request) => response?,
        () = until_cancelled(control) => return Err(UploadError::Cancelled),
    };
    check_crc(None, crc, &response)?;
    let etag = response.header("etag").unwrap_or_default().to_owned();
    let progress = Progress { total: size, done: size, sent_this_run: size, started };
    let _ = events.try_send(progress.event());
    Ok(UploadOutcome {
        bucket: spec.bucket.clone(),
        key: spec.key.clone(),
        size,
        crc64: crc,
        etag,
        upload_id: None,
        part_size: size,
        parts_total: 1,
        parts_sent: 1,
        parts_reused: 0,
        parts_verified: 0,
        resumed: false,
    })
}

async fn initiate(client: &Client, spec: &UploadSpec) -> Result<String, UploadError> {
    let mut request = OssRequest {
        method: "POST".to_owned(),
        bucket: Some(spec.bucket.clone()),
        key: spec.key.clone(),
        query: vec![q("uploads", "")],
        ..Default::default()
    };
    if let Some(content_type) = &spec.content_type {
        request.headers.push(("content-type".to_owned(), content_type.clone()));
    }
    let response = client.oss(spec.region.as_deref(), &request).await?;
    let result: InitiateResult = parse_xml("InitiateMultipartUpload", &response.body)?;
    tracing::info!(bucket = %spec.bucket, key = %spec.key, upload_id = %result.upload_id, "multipart upload started");
    Ok(result.upload_id)
}

/// Every part OSS holds for the upload (`None` if the upload no longer exists).
async fn list_parts(
    client: &Client,
    target: &Target,
) -> Result<Option<BTreeMap<u32, ListedPart>>, UploadError> {
    let mut parts = BTreeMap::new();
    let mut marker = 0u32;
    loop {
        let mut query = vec![q("uploadId", target.upload_id.clone()), q("max-parts", "1000")];
        if marker > 0 {
            query.push(q("part-number-marker", marker.to_string()));
        }
        let response = match client.oss(target.region.as_deref(), &object_request(target, "GET", query)).await
        {
            Ok(r) => r,
            Err(e) if is_no_such_upload(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let page: ListPartsResult = parse_xml("ListParts", &response.body)?;
        let last = page.parts.last().map(|p| p.part_number);
        parts.extend(page.parts.into_iter().map(|p| (p.part_number, p)));
        match page.next_part_number_marker.or(last) {
            Some(next) if page.is_truncated && next > marker => marker = next,
            _ => return Ok(Some(parts)),
        }
    }
}

async fn abort(client: &Client, target: &Target) -> Result<(), UploadError> {
    let request = object_request(target, "DELETE", vec![q("uploadId", target.upload_id.clone())]);
    match client.oss(target.region.as_deref(), &request).await {
        Ok(_) => Ok(()),
        Err(e) if is_no_such_upload(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn save_checkpoint(path: &Path, checkpoint: &Checkpoint) {
    let (path, checkpoint) = (path.to_owned(), checkpoint.clone());
    let shown = path.clone();
    if let Err(e) =
        blocking(&shown, move || checkpoint.save(&path).map_err(|e| io::Error::other(e.to_string()))).await
    {
        // The upload itself can go on; only resuming after a crash would redo more parts.
        tracing::warn!("could not write the upload checkpoint: {e}");
    }
}

async fn delete_checkpoint(path: &Path) {
    let owned = path.to_owned();
    if let Err(e) = blocking(path, move || remove_if_exists(&owned)).await {
        tracing::warn!("could not delete the upload checkpoint: {e}");
    }
}

/// A part to read; `listed` when OSS already has a part with that number and size the
/// checkpoint does not know (re-used when its CRC matches the local bytes).
struct PartJob {
    number: u32,
    offset: u64,
    len: u64,
    listed: Option<ListedPart>,
}

struct PartResult {
    number: u32,
    etag: String,
    crc64: u64,
    size: u64,
    sent: bool,
}

async fn part_task(
    client: Client,
    target: Arc<Target>,
    file: Arc<File>,
    path: PathBuf,
    job: PartJob,
    buffers: Arc<PartBuffers>,
) -> Result<PartResult, UploadError> {
    let PartJob { number, offset, len, listed } = job;
    let buf_len = usize::try_from(len)
        .map_err(|e| UploadError::Io { path: path.clone(), source: io::Error::other(e) })?;
    let buf = buffers.take(buf_len);
    let (body, crc) = blocking(&path, move || read_part(&file, offset, buf)).await?;
    if let Some(listed) = listed
        && listed.hash_crc64ecma == Some(crc)
    {
        tracing::debug!(number, "part already on OSS with the same CRC; not sending it again");
        buffers.give(body);
        return Ok(PartResult { number, etag: listed.etag, crc64: crc, size: len, sent: false });
    }
    let mut request = object_request(
        &target,
        "PUT",
        vec![q("partNumber", number.to_string()), q("uploadId", target.upload_id.clone())],
    );
    request.body = body;
    let response = client.oss(target.region.as_deref(), &request).await;
    buffers.give(std::mem::take(&mut request.body));
    let response = response?;
    check_crc(Some(number), crc, &response)?;
    let etag = response.header("etag").map(str::to_owned).ok_or_else(|| UploadError::Decode {
        action: format!("UploadPart {number}"),
        reason: "no ETag header".to_owned(),
    })?;
    Ok(PartResult { number, etag, crc64: crc, size: len, sent: true })
}

async fn multipart(
    client: &Client,
    spec: &UploadSpec,
    events: &mpsc::Sender<UploadEvent>,
    control: &mut watch::Receiver<Control>,
    file: Arc<File>,
    identity: FileIdentity,
    part_size: u64,
    checkpoint: Option<Checkpoint>,
) -> Result<UploadOutcome, UploadError> {
    let size = identity.size;
    if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&part_size) {
        return Err(UploadError::InvalidSpec(format!("part size {part_size} is outside the OSS limits")));
    }
    let parts_total = size.div_ceil(part_size);
    let parts_total = match u32::try_from(parts_total) {
        Ok(n) if u64::from(n) <= MAX_PARTS => n,
        _ => {
            return Err(UploadError::InvalidSpec(format!(
                "{size} bytes in parts of {part_size} makes {parts_total} parts, more than {MAX_PARTS}"
            )));
        }
    };
    let part_len = |n: u32| -> (u64, u64) {
        let offset = u64::from(n - 1) * part_size;
        (offset, part_size.min(size - offset))
    };
    wait_runnable(control, events).await?;

    // Reconcile the checkpoint with what OSS holds, or start a new upload.
    let mut resumed = false;
    let mut listed = BTreeMap::new();
    let mut checkpoint = match checkpoint {
        Some(cp) => {
            let target = Target {
                region: cp.region.clone(),
                bucket: cp.bucket.clone(),
                key: cp.key.clone(),
                upload_id: cp.upload_id.clone(),
            };
            match list_parts(client, &target).await? {
                Some(parts) => {
                    resumed = true;
                    listed = parts;
                    cp
                }
                None => {
                    // Killed between Complete and clearing the checkpoint: the upload id is gone
                    // because OSS holds the whole object. Rather than send the file again, take
                    // the object when the checkpoint covers the file and OSS holds exactly it.
                    let crc = whole_object_crc(&cp.parts);
                    let covers_file = recorded_bytes(&cp.parts) == size;
                    if covers_file && let Some(etag) = adopt_completed(client, spec, &target, size, crc).await
                    {
                        let progress =
                            Progress { total: size, done: size, sent_this_run: 0, started: Instant::now() };
                        let _ = events.try_send(progress.event());
                        return Ok(UploadOutcome {
                            bucket: target.bucket,
                            key: target.key,
                            size,
                            crc64: crc,
                            etag,
                            upload_id: Some(target.upload_id),
                            part_size,
                            parts_total,
                            parts_sent: 0,
                            parts_reused: parts_total,
                            parts_verified: 0,
                            resumed: true,
                        });
                    }
                    tracing::warn!(upload_id = %cp.upload_id, "the checkpoint's upload is gone from OSS; starting again");
                    Checkpoint { upload_id: initiate(client, spec).await?, parts: BTreeMap::new(), ..cp }
                }
            }
        }
        None => Checkpoint {
            version: CHECKPOINT_VERSION,
            upload_id: initiate(client, spec).await?,
            region: spec.region.clone(),
            bucket: spec.bucket.clone(),
            key: spec.key.clone(),
            part_size,
            file: identity,
            parts: BTreeMap::new(),
        },
    };
    let mut queue = VecDeque::new();
    let mut reused = BTreeMap::new();
    for number in 1..=parts_total {
        let (offset, len) = part_len(number);
        let on_oss = listed.remove(&number).filter(|p| p.size == len);
        match (checkpoint.parts.remove(&number), on_oss) {
            (Some(done), Some(on_oss)) if done.size == len && same_etag(&done.etag, &on_oss.etag) => {
                if let Some(got) = on_oss.hash_crc64ecma
                    && got != done.crc64
                {
                    return Err(UploadError::CrcMismatch { part: Some(number), expected: done.crc64, got });
                }
                reused.insert(number, done);
            }
            (Some(_), on_oss) => {
                tracing::warn!(number, "a checkpointed part is not on OSS as recorded; sending it again");
                queue.push_back(PartJob { number, offset, len, listed: on_oss });
            }
            (None, on_oss) => queue.push_back(PartJob { number, offset, len, listed: on_oss }),
        }
    }
    checkpoint.parts = reused;
    save_checkpoint(&spec.checkpoint_path, &checkpoint).await;
    let parts_reused_at_start = u32::try_from(checkpoint.parts.len()).unwrap_or(u32::MAX);
    let target = Arc::new(Target {
        region: checkpoint.region.clone(),
        bucket: checkpoint.bucket.clone(),
        key: checkpoint.key.clone(),
        upload_id: checkpoint.upload_id.clone(),
    });
    tracing::info!(
        upload_id = %target.upload_id, parts_total, reused = parts_reused_at_start, to_send = queue.len(),
        "uploading parts"
    );
    let _ = events
        .send(UploadEvent::Started {
            upload_id: Some(target.upload_id.clone()),
            total: size,
            part_size,
            parts_total,
            parts_reused: parts_reused_at_start,
        })
        .await;

    let mut progress = Progress {
        total: size,
        done: recorded_bytes(&checkpoint.parts),
        sent_this_run: 0,
        started: Instant::now(),
    };
    let (mut parts_sent, mut parts_verified) = (0u32, 0u32);
    let concurrency = spec.concurrency.max(1);
    let mut refresher = Refresher::default();
    let mut set: JoinSet<Result<PartResult, UploadError>> = JoinSet::new();
    let buffers = Arc::new(PartBuffers::default());
    let (mut paused, mut control_open) = (false, true);
    loop {
        let state = if control_open { *control.borrow_and_update() } else { Control::Run };
        match state {
            Control::Cancel => {
                set.abort_all();
                while set.join_next().await.is_some() {}
                abort(client, &target).await?;
                delete_checkpoint(&spec.checkpoint_path).await;
                return Err(UploadError::Cancelled);
            }
            Control::Pause if !paused => {
                paused = true;
                tracing::info!(upload_id = %target.upload_id, "upload paused");
                let _ = events.send(UploadEvent::Paused).await;
            }
            Control::Run if paused => {
                paused = false;
                tracing::info!(upload_id = %target.upload_id, "upload resumed");
                let _ = events.send(UploadEvent::Resumed).await;
            }
            _ => {}
        }
        if !paused {
            while set.len() < concurrency {
                let Some(job) = queue.pop_front() else { break };
                refresher
                    .maybe_refresh(Some(spec.credentials.as_ref().unwrap_or(client.credentials())))
                    .await;
                set.spawn(part_task(
                    client.clone(),
                    Arc::clone(&target),
                    Arc::clone(&file),
                    spec.file.clone(),
                    job,
                    Arc::clone(&buffers),
                ));
            }
        }
        if set.is_empty() && queue.is_empty() {
            break;
        }
        tokio::select! {
            joined = set.join_next(), if !set.is_empty() => {
                let part = match joined {
                    Some(Ok(Ok(part))) => part,
                    Some(Ok(Err(e))) => {
                        set.abort_all();
                        while set.join_next().await.is_some() {}
                        return Err(e);
                    }
                    Some(Err(join)) => {
                        set.abort_all();
                        while set.join_next().await.is_some() {}
                        return Err(UploadError::Io { path: spec.file.clone(), source: io::Error::other(join.to_string()) });
                    }
                    None => continue,
                };
                if part.sent {
                    parts_sent += 1;
                    progress.sent_this_run += part.size;
                } else {
                    parts_verified += 1;
                }
                progress.done += part.size;
                checkpoint.parts.insert(part.number, CheckpointPart { etag: part.etag, crc64: part.crc64, size: part.size });
                save_checkpoint(&spec.checkpoint_path, &checkpoint).await;
                let parts_done = u32::try_from(checkpoint.parts.len()).unwrap_or(u32::MAX);
                tracing::debug!(number = part.number, parts_done, parts_total, "part done");
                let _ = events.try_send(UploadEvent::PartDone { number: part.number, parts_done, parts_total });
                let _ = events.try_send(progress.event());
            }
            changed = control.changed(), if control_open => {
                if changed.is_err() {
                    control_open = false;
                }
            }
            else => {}
        }
    }

    // Complete with the explicit, sorted part list and check the whole object's CRC.
    if checkpoint.parts.len() != parts_total as usize {
        return Err(UploadError::InvalidSpec(format!(
            "internal: {} of {parts_total} parts finished",
            checkpoint.parts.len()
        )));
    }
    let mut body = String::from("<CompleteMultipartUpload>");
    for (number, part) in &checkpoint.parts {
        let _ = write!(
            body,
            "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag></Part>",
            xml_escape(&part.etag)
        );
    }
    let expected = whole_object_crc(&checkpoint.parts);
    body.push_str("</CompleteMultipartUpload>");
    let mut request = object_request(&target, "POST", vec![q("uploadId", target.upload_id.clone())]);
    request.headers.push(("content-type".to_owned(), "application/xml".to_owned()));
    request.body = Bytes::from(body);
    let etag = match client.oss(target.region.as_deref(), &request).await {
        Ok(response) => {
            // The upload id is dead now, whatever the checks below say.
            delete_checkpoint(&spec.checkpoint_path).await;
            check_crc(None, expected, &response)?;
            let result: CompleteResult = parse_xml("CompleteMultipartUpload", &response.body)?;
            result.etag.or_else(|| response.header("etag").map(str::to_owned)).unwrap_or_default()
        }
        // A Complete whose answer was lost and retried finds its upload id gone: OSS may already
        // hold the whole object.
        Err(error) if is_no_such_upload(&error) => {
            adopt_completed(client, spec, &target, size, expected).await.ok_or(error)?
        }
        Err(error) => return Err(error.into()),
    };
    Ok(UploadOutcome {
        bucket: target.bucket.clone(),
        key: target.key.clone(),
        size,
        crc64: expected,
        etag,
        upload_id: Some(target.upload_id.clone()),
        part_size,
        parts_total,
        parts_sent,
        parts_reused: parts_reused_at_start + parts_verified,
        parts_verified,
        resumed,
    })
}

/// Bytes the recorded parts hold.
fn recorded_bytes(parts: &BTreeMap<u32, CheckpointPart>) -> u64 {
    parts.values().map(|part| part.size).sum()
}

/// CRC-64 of the object the parts make, in part order.
fn whole_object_crc(parts: &BTreeMap<u32, CheckpointPart>) -> u64 {
    parts.values().fold(0, |crc, part| crc64::combine(crc, part.crc64, part.size))
}

/// Our upload id is gone (NoSuchUpload) because the upload was completed already: Complete's
/// answer was lost, or the job was killed before it cleared the checkpoint. The object is ours
/// only if HEAD shows exactly our bytes (size and whole-object CRC-64); then the checkpoint is
/// spent and goes, and this is the object's ETag.
async fn adopt_completed(
    client: &Client,
    spec: &UploadSpec,
    target: &Target,
    size: u64,
    crc: u64,
) -> Option<String> {
    let head =
        client.oss(target.region.as_deref(), &object_request(target, "HEAD", Vec::new())).await.ok()?;
    let same_size = head.header("content-length").and_then(|v| v.parse::<u64>().ok()) == Some(size);
    let same_crc = head.header("x-oss-hash-crc64ecma").and_then(|v| v.parse::<u64>().ok()) == Some(crc);
    if !(same_size && same_crc) {
        return None;
    }
    tracing::info!(key = %target.key, "the upload was completed already; the object on OSS is exactly ours");
    delete_checkpoint(&spec.checkpoint_path).await;
    Some(head.header("etag").unwrap_or_default().to_owned())
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

// ---------------------------------------------------------------------------------------------
// Orphans

/// An unfinished multipart upload in a bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrphanUpload {
    pub key: String,
    pub upload_id: String,
    /// As OSS sent it (ISO 8601).
    pub initiated: Option<String>,
}

/// Every unfinished multipart upload in `bucket` (under `prefix`), via ListMultipartUploads.
pub async fn list_orphans(
    client: &Client,
    region: Option<&str>,
    bucket: &str,
    prefix: Option<&str>,
) -> Result<Vec<OrphanUpload>, UploadError> {
    let mut found = Vec::new();
    let (mut key_marker, mut id_marker) = (String::new(), String::new());
    loop {
        let mut query = vec![q("uploads", ""), q("max-uploads", "1000")];
        if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
            query.push(q("prefix", prefix));
        }
        if !key_marker.is_empty() {
            query.push(q("key-marker", key_marker.clone()));
            query.push(q("upload-id-marker", id_marker.clone()));
        }
        let request = OssRequest {
            method: "GET".to_owned(),
            bucket: Some(bucket.to_owned()),
            key: String::new(),
            query,
            ..Default::default()
        };
        let response = client.oss(region, &request).await?;
        let page: ListUploadsResult = parse_xml("ListMultipartUploads", &response.body)?;
        found.extend(page.uploads.into_iter().map(|u| OrphanUpload {
            key: u.key,
            upload_id: u.upload_id,
            initiated: u.initiated,
        }));
        let next_key = page.next_key_marker.unwrap_or_default();
        let next_id = page.next_upload_id_marker.unwrap_or_default();
        if !page.is_truncated || next_key.is_empty() || (next_key == key_marker && next_id == id_marker) {
            return Ok(found);
        }
        (key_marker, id_marker) = (next_key, next_id);
    }
}

/// Abort one unfinished multipart upload (deleting its parts). `Ok(false)` if it was already gone.
pub async fn abort_orphan(
    client: &Client,
    region: Option<&str>,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<bool, UploadError> {
    let target = Target {
        region: region.map(str::to_owned),
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        upload_id: upload_id.to_owned(),
    };
    let request = object_request(&target, "DELETE", vec![q("uploadId", upload_id)]);
    match client.oss(region, &request).await {
        Ok(_) => Ok(true),
        Err(e) if is_no_such_upload(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_size_stays_within_oss_limits() {
        assert_eq!(choose_part_size(0), DEFAULT_PART_SIZE);
        assert_eq!(choose_part_size(10 * MIB), DEFAULT_PART_SIZE);
        assert_eq!(choose_part_size(DEFAULT_PART_SIZE * MAX_PARTS), DEFAULT_PART_SIZE);
        let big = DEFAULT_PART_SIZE * MAX_PARTS + 1;
        let size = choose_part_size(big);
        assert_eq!(size, 9 * MIB);
        assert!(big.div_ceil(size) <= MAX_PARTS);
        for file in [1u64 << 40, 40 << 40, 48 << 40] {
            let size = choose_part_size(file);
            assert!((MIN_PART_SIZE..=MAX_PART_SIZE).contains(&size));
            assert!(file.div_ceil(size) <= MAX_PARTS, "{file}");
        }
        assert_eq!(choose_part_size(u64::MAX), MAX_PART_SIZE);
    }

    #[test]
    fn identity_notices_content_changes_of_the_same_size() {
        let dir = std::env::temp_dir().join(format!("imagedesk-ident-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, vec![7u8; 300_000]).unwrap();
        let a = identify(&File::open(&path).unwrap()).unwrap();
        let mut bytes = vec![7u8; 300_000];
        bytes[0] = 8;
        std::fs::write(&path, &bytes).unwrap();
        let b = identify(&File::open(&path).unwrap()).unwrap();
        assert_eq!(a.size, b.size);
        assert_ne!(a.sample_sha256, b.sample_sha256);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn complete_and_list_answers_parse() {
        let parts: ListPartsResult = parse_xml(
            "t",
            br#"<?xml version="1.0"?><ListPartsResult xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com"><IsTruncated>false</IsTruncated>
            <NextPartNumberMarker>2</NextPartNumberMarker>
            <Part><PartNumber>1</PartNumber><ETag>"AB"</ETag><HashCrc64ecma>5</HashCrc64ecma><Size>3</Size></Part>
            <Part><PartNumber>2</PartNumber><ETag>"CD"</ETag><Size>4</Size></Part></ListPartsResult>"#,
        )
        .unwrap();
        assert_eq!(parts.parts.len(), 2);
        assert_eq!(parts.parts[0].hash_crc64ecma, Some(5));
        assert_eq!(parts.parts[1].hash_crc64ecma, None);
        let empty: ListPartsResult =
            parse_xml("t", b"<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>").unwrap();
        assert!(empty.parts.is_empty());
    }
}
