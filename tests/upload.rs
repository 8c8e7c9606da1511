//! The resumable OSS upload engine against the in-process sandbox: sizes, part boundaries,
//! CRC checks, pause/resume, cancel, a process killed mid-upload, changed files and orphans.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common_sandbox;
use common_sandbox::data;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common_sandbox::{TempDir, client_for, demo_key, profile, start};
use imagedesk::Credential;
use imagedesk::client::oss::OssRequest;
use imagedesk::client::{Client, CredentialError, CredentialProvider, StaticCredentials};
use imagedesk::jobs::upload::{
    Checkpoint, CheckpointPart, Control, UploadError, UploadEvent, UploadOutcome, UploadSpec, abort_orphan,
    list_orphans, upload,
};
use imagedesk::protocol::crc64;
use imagedesk::sandbox::{Faults, RunningSandbox, SandboxConfig};
use tokio::sync::{mpsc, watch};

const BUCKET: &str = "imagedesk-demo-hz";
const PART: u64 = 128 * 1024;

async fn sandbox(dir: &TempDir) -> RunningSandbox {
    let mut config = SandboxConfig::new(dir.path().join("sandbox"));
    config.seed_demo = true;
    start(config).await
}

fn write_file(dir: &Path, name: &str, len: usize, seed: u64) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data(len, seed)).unwrap();
    path
}

fn spec(file: &Path, key: &str) -> UploadSpec {
    let mut spec = UploadSpec::new(file, BUCKET, key);
    spec.part_size = Some(PART);
    spec.concurrency = 3;
    spec
}

/// Run an upload to the end, collecting its events.
async fn run(client: &Client, spec: UploadSpec) -> (Result<UploadOutcome, UploadError>, Vec<UploadEvent>) {
    let (tx, mut rx) = mpsc::channel(1024);
    let (_ctl, ctl_rx) = watch::channel(Control::Run);
    let result = upload(client, spec, tx, ctl_rx).await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (result, events)
}

async fn head_crc(client: &Client, key: &str) -> (u64, u64) {
    let request = OssRequest {
        method: "HEAD".into(),
        bucket: Some(BUCKET.into()),
        key: key.into(),
        ..Default::default()
    };
    let response = client.oss(None, &request).await.unwrap();
    let crc = response.header("x-oss-hash-crc64ecma").unwrap().parse().unwrap();
    let len = response.header("content-length").unwrap().parse().unwrap();
    (crc, len)
}

async fn assert_uploaded(client: &Client, file: &Path, key: &str, outcome: &UploadOutcome) {
    let bytes = std::fs::read(file).unwrap();
    let expected = crc64::checksum(&bytes);
    assert_eq!(outcome.crc64, expected);
    assert_eq!(head_crc(client, key).await, (expected, bytes.len() as u64), "{key}");
}

#[tokio::test]
async fn uploads_every_size_class() {
    let dir = TempDir::new("upload-sizes");
    let sb = sandbox(&dir).await;
    let client = common_sandbox::demo_client(&sb);
    let part = PART as usize;
    let cases: [(&str, usize, u32); 6] = [
        ("empty", 0, 1),
        ("one-byte", 1, 1),
        ("one-part", part, 1),
        ("part-plus-one", part + 1, 2),
        ("exact-boundary", 3 * part, 3),
        ("many-parts", 10 * part + 777, 11),
    ];
    for (i, (name, len, parts)) in cases.into_iter().enumerate() {
        let file = write_file(dir.path(), name, len, i as u64 + 1);
        let key = format!("uploads/{name}");
        let s = spec(&file, &key);
        let checkpoint = s.checkpoint_path.clone();
        let (result, events) = run(&client, s).await;
        let outcome = result.unwrap();
        assert_eq!(outcome.parts_total, parts, "{name}");
        assert_eq!(outcome.parts_sent, parts, "{name}");
        assert_eq!(outcome.upload_id.is_some(), parts > 1, "{name}");
        assert_uploaded(&client, &file, &key, &outcome).await;
        assert!(!checkpoint.exists(), "checkpoint removed after success");
        assert!(matches!(events.first(), Some(UploadEvent::Started { .. })), "{events:?}");
        assert!(
            matches!(events.last(), Some(UploadEvent::Completed { crc64, .. }) if *crc64 == outcome.crc64)
        );
        let last_progress = events.iter().rev().find_map(|e| match e {
            UploadEvent::Progress { bytes_done, total, .. } => Some((*bytes_done, *total)),
            _ => None,
        });
        assert_eq!(last_progress, Some((len as u64, len as u64)), "{name}");
    }
    assert!(list_orphans(&client, None, BUCKET, Some("uploads/")).await.unwrap().is_empty());
}

/// Start an upload in a task with control; returns the task, the control and the event stream.
fn spawn_upload(
    client: &Client,
    spec: UploadSpec,
) -> (
    tokio::task::JoinHandle<Result<UploadOutcome, UploadError>>,
    watch::Sender<Control>,
    mpsc::Receiver<UploadEvent>,
) {
    let (tx, rx) = mpsc::channel(1024);
    let (ctl, ctl_rx) = watch::channel(Control::Run);
    let client = client.clone();
    let task = tokio::spawn(async move { upload(&client, spec, tx, ctl_rx).await });
    (task, ctl, rx)
}

async fn next_part_done(rx: &mut mpsc::Receiver<UploadEvent>) -> u32 {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.unwrap() {
            Some(UploadEvent::PartDone { parts_done, .. }) => return parts_done,
            Some(_) => {}
            None => panic!("upload ended before a part finished"),
        }
    }
}

async fn started_upload_id(rx: &mut mpsc::Receiver<UploadEvent>) -> String {
    loop {
        if let Some(UploadEvent::Started { upload_id: Some(id), .. }) = rx.recv().await {
            return id;
        }
    }
}

#[tokio::test]
async fn cancel_aborts_the_upload_on_oss() {
    let dir = TempDir::new("upload-cancel");
    let sb = sandbox(&dir).await;
    let client = common_sandbox::demo_client(&sb);
    let file = write_file(dir.path(), "big", 20 * PART as usize, 7);
    sb.set_faults(Faults { latency_ms: 40, ..Default::default() });
    let s = spec(&file, "cancel/me");
    let checkpoint = s.checkpoint_path.clone();
    let (task, ctl, mut rx) = spawn_upload(&client, s);
    let id = started_upload_id(&mut rx).await;
    next_part_done(&mut rx).await;
    assert!(
        list_orphans(&client, None, BUCKET, Some("cancel/")).await.unwrap().iter().any(|o| o.upload_id == id)
    );
    ctl.send(Control::Cancel).unwrap();
    let result = task.await.unwrap();
    assert!(matches!(result, Err(UploadError::Cancelled)), "{result:?}");
    sb.set_faults(Faults::default());
    let orphans = list_orphans(&client, None, BUCKET, None).await.unwrap();
    assert!(orphans.iter().all(|o| o.upload_id != id), "{orphans:?}");
    assert!(!checkpoint.exists());
    let mut saw_cancelled = false;
    while let Ok(e) = rx.try_recv() {
        saw_cancelled |= e == UploadEvent::Cancelled;
    }
    assert!(saw_cancelled);
}

#[tokio::test]
async fn pause_stops_new_parts_and_resume_finishes() {
    let dir = TempDir::new("upload-pause");
    let sb = sandbox(&dir).await;
    let client = common_sandbox::demo_client(&sb);
    let file = write_file(dir.path(), "big", 12 * PART as usize + 5, 9);
    sb.set_faults(Faults { latency_ms: 30, ..Default::default() });
    let (task, ctl, mut rx) = spawn_upload(&client, spec(&file, "pause/it"));
    next_part_done(&mut rx).await;
    ctl.send(Control::Pause).unwrap();
    loop {
        if rx.recv().await.unwrap() == UploadEvent::Paused {
            break;
        }
    }
    // Parts in flight may still land; after that nothing moves.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let served = sb.requests_served();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sb.requests_served(), served, "no requests while paused");
    assert!(!task.is_finished());
    ctl.send(Control::Run).unwrap();
    let outcome = task.await.unwrap().unwrap();
    let mut saw_resumed = false;
    while let Ok(e) = rx.try_recv() {
        saw_resumed |= e == UploadEvent::Resumed;
    }
    assert!(saw_resumed);
    assert_eq!((outcome.parts_total, outcome.parts_sent), (13, 13));
    sb.set_faults(Faults::default());
    assert_uploaded(&client, &file, "pause/it", &outcome).await;
}

/// Run an upload until `parts` parts are checkpointed, then drop it (as if the process died).
async fn partial_run(client: &Client, spec: UploadSpec, parts: u32) {
    let (task, _ctl, mut rx) = spawn_upload(client, spec);
    while next_part_done(&mut rx).await < parts {}
    task.abort();
    let _ = task.await;
    // A checkpoint write already on a blocking thread still lands; let it.
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// An upload of a `len`-byte file cut off (as if the process died) once `parts` parts were
/// checkpointed: the state every resume test starts from. Faults are cleared afterwards.
struct Interrupted {
    _dir: TempDir,
    sb: RunningSandbox,
    client: Client,
    file: PathBuf,
    spec: UploadSpec,
}

async fn interrupted(name: &str, len: usize, seed: u64, key: &str, parts: u32) -> Interrupted {
    let dir = TempDir::new(name);
    let sb = sandbox(&dir).await;
    let client = common_sandbox::demo_client(&sb);
    let file = write_file(dir.path(), "big", len, seed);
    // Slow parts, so the run is cut off while some are still in flight.
    sb.set_faults(Faults { latency_ms: 30, ..Default::default() });
    let spec = spec(&file, key);
    partial_run(&client, spec.clone(), parts).await;
    sb.set_faults(Faults::default());
    Interrupted { _dir: dir, sb, client, file, spec }
}

#[tokio::test]
async fn changed_file_is_refused() {
    let fx = interrupted("upload-changed", 16 * PART as usize, 11, "changed/f", 2).await;
    let Interrupted { client, file, spec: s, .. } = &fx;
    assert!(s.checkpoint_path.exists());
    // Same size, one byte different, later mtime.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mut bytes = std::fs::read(file).unwrap();
    bytes[5 * PART as usize] ^= 0xff;
    std::fs::write(file, &bytes).unwrap();
    let (result, events) = run(client, s.clone()).await;
    assert!(matches!(result, Err(UploadError::FileChanged { .. })), "{result:?}");
    assert!(matches!(events.last(), Some(UploadEvent::Failed { .. })));
    assert!(s.checkpoint_path.exists(), "the checkpoint is kept for the user to decide");
}

#[tokio::test]
async fn tampered_part_crc_is_a_mismatch() {
    let fx = interrupted("upload-crc", 16 * PART as usize, 13, "crc/f", 2).await;
    let Interrupted { client, spec: s, .. } = &fx;
    let mut checkpoint = Checkpoint::load(&s.checkpoint_path).unwrap().unwrap();
    let (&number, part) = checkpoint.parts.iter_mut().next().unwrap();
    let real = part.crc64;
    part.crc64 ^= 1;
    checkpoint.save(&s.checkpoint_path).unwrap();
    let (result, _) = run(client, s.clone()).await;
    match result {
        Err(UploadError::CrcMismatch { part, expected, got }) => {
            assert_eq!((part, expected, got), (Some(number), real ^ 1, real));
        }
        other => panic!("expected a CRC mismatch, got {other:?}"),
    }
}

/// Killed after Complete succeeded but before the checkpoint was deleted: the upload id is gone
/// and OSS holds the whole object. The next run takes the object, sending nothing, when it is
/// exactly the checkpoint's bytes (size and combined CRC-64), and starts again when it is not.
#[tokio::test]
async fn an_upload_completed_before_its_checkpoint_was_cleared_is_not_sent_again() {
    let fx = interrupted("upload-completed", 6 * PART as usize + 5, 21, "completed/f", 2).await;
    let Interrupted { sb, client, file, spec: s, .. } = &fx;
    let stale = Checkpoint::load(&s.checkpoint_path).unwrap().unwrap();
    run(client, s.clone()).await.0.unwrap();
    assert!(!s.checkpoint_path.exists(), "a completed upload clears its checkpoint");

    // The checkpoint as it stood when Complete was answered: every part recorded.
    let bytes = std::fs::read(file).unwrap();
    let mut full = stale;
    full.parts = bytes
        .chunks(PART as usize)
        .enumerate()
        .map(|(i, chunk)| {
            let part = CheckpointPart {
                etag: format!("\"etag-{i}\""),
                crc64: crc64::checksum(chunk),
                size: chunk.len() as u64,
            };
            (i as u32 + 1, part)
        })
        .collect();
    full.save(&s.checkpoint_path).unwrap();
    let before = sb.part_receipts().len();
    let outcome = run(client, s.clone()).await.0.unwrap();
    assert_eq!((outcome.parts_sent, outcome.parts_reused, outcome.parts_total), (0, 7, 7), "{outcome:?}");
    assert_eq!(sb.part_receipts().len(), before, "no part reached the server again");
    assert!(!s.checkpoint_path.exists());
    assert_uploaded(client, file, "completed/f", &outcome).await;

    // OSS holds other bytes than the checkpoint says: not ours, so everything is sent again.
    let mut other = full;
    if let Some(part) = other.parts.get_mut(&3) {
        part.crc64 ^= 1;
    }
    other.save(&s.checkpoint_path).unwrap();
    let outcome = run(client, s.clone()).await.0.unwrap();
    assert_eq!(outcome.parts_sent, 7, "{outcome:?}");
    assert_uploaded(client, file, "completed/f", &outcome).await;
}

#[tokio::test]
async fn resume_in_process_reuses_finished_parts() {
    let fx = interrupted("upload-resume", 16 * PART as usize + 99, 15, "resume/f", 3).await;
    let Interrupted { client, file, spec: s, .. } = &fx;
    let done = Checkpoint::load(&s.checkpoint_path).unwrap().unwrap().parts.len() as u32;
    assert!(done >= 3);
    let (result, _) = run(client, s.clone()).await;
    let outcome = result.unwrap();
    assert!(outcome.resumed);
    assert_eq!(outcome.parts_total, 17);
    assert!(outcome.parts_reused >= done, "{outcome:?}");
    assert_eq!(outcome.parts_sent + outcome.parts_reused, 17, "{outcome:?}");
    assert_uploaded(client, file, "resume/f", &outcome).await;
}

const CHILD_ENV: &str = "IMAGEDESK_UPLOAD_CHILD";

/// Spawned by `resume_after_the_process_is_killed`: uploads slowly until killed.
#[tokio::test]
#[ignore = "runs only as the child of resume_after_the_process_is_killed"]
async fn child_upload_process() {
    let Ok(config) = std::env::var(CHILD_ENV) else { return };
    let mut fields = config.split('\n');
    let (url, file, key) = (fields.next().unwrap(), fields.next().unwrap(), fields.next().unwrap());
    let mut p = imagedesk::client::Profile::new("sandbox", "cn-hangzhou");
    p.endpoint = Some(url.to_owned());
    p.oss_endpoint = Some(url.to_owned());
    let client = client_for(p, demo_key());
    let mut s = spec(Path::new(file), key);
    s.concurrency = 2;
    let (result, _) = run(&client, s).await;
    eprintln!("child finished unexpectedly: {result:?}");
}

#[tokio::test]
async fn resume_after_the_process_is_killed() {
    let dir = TempDir::new("upload-kill");
    let sb = sandbox(&dir).await;
    let client = common_sandbox::demo_client(&sb);
    let parts_total = 30u32;
    let file = write_file(dir.path(), "big", parts_total as usize * PART as usize - 1000, 17);
    let key = "killed/f";
    let s = spec(&file, key);
    sb.set_faults(Faults { latency_ms: 80, ..Default::default() });
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["child_upload_process", "--exact", "--ignored", "--nocapture"])
        .env(CHILD_ENV, format!("{}\n{}\n{key}", sb.url(), file.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(cp)) = Checkpoint::load(&s.checkpoint_path)
            && cp.parts.len() >= 4
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "child made no progress");
        assert!(child.try_wait().unwrap().is_none(), "child exited early");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    sb.set_faults(Faults::default());
    // Requests the child had in flight are still answered (latency); let them drain.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let done = Checkpoint::load(&s.checkpoint_path).unwrap().unwrap().parts.len() as u32;
    let served_before = sb.requests_served();
    let (result, events) = run(&client, s).await;
    let outcome = result.unwrap();
    assert!(outcome.resumed);
    assert!(outcome.parts_reused >= done, "{outcome:?} after {done} checkpointed parts");
    assert_eq!(outcome.parts_sent, parts_total - outcome.parts_reused, "{outcome:?}");
    assert!(outcome.parts_sent <= parts_total - done);
    // ListParts + the sent parts + Complete.
    assert_eq!(sb.requests_served() - served_before, u64::from(outcome.parts_sent) + 2);
    assert!(
        matches!(events.first(), Some(UploadEvent::Started { parts_reused, .. }) if *parts_reused >= done)
    );
    assert_uploaded(&client, &file, key, &outcome).await;
}

#[tokio::test]
async fn orphans_are_listed_and_aborted() {
    let fx = interrupted("upload-orphans", 8 * PART as usize, 19, "orphans/a", 1).await;
    let Interrupted { client, .. } = &fx;
    let orphans = list_orphans(client, None, BUCKET, Some("orphans/")).await.unwrap();
    assert_eq!(orphans.len(), 1, "{orphans:?}");
    assert_eq!(orphans[0].key, "orphans/a");
    assert!(orphans[0].initiated.is_some());
    assert!(abort_orphan(client, None, BUCKET, "orphans/a", &orphans[0].upload_id).await.unwrap());
    assert!(!abort_orphan(client, None, BUCKET, "orphans/a", &orphans[0].upload_id).await.unwrap());
    assert!(list_orphans(client, None, BUCKET, Some("orphans/")).await.unwrap().is_empty());
}

/// A credential source whose key "expires" in a minute: the engine refreshes it ahead of time.
#[derive(Debug)]
struct Expiring {
    inner: StaticCredentials,
    refreshes: AtomicU32,
}

impl CredentialProvider for Expiring {
    fn current(&self) -> Result<Credential, CredentialError> {
        self.inner.current()
    }
    fn refresh(&self) -> imagedesk::client::credentials::RefreshFuture<'_> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { self.inner.current() })
    }
    fn expires_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        Some(chrono::Utc::now() + chrono::Duration::minutes(1))
    }
}

#[tokio::test]
async fn expiring_credentials_are_refreshed_ahead() {
    let dir = TempDir::new("upload-refresh");
    let sb = sandbox(&dir).await;
    let provider =
        Arc::new(Expiring { inner: StaticCredentials::new(demo_key()), refreshes: AtomicU32::new(0) });
    let client = Client::new(profile(&sb, "cn-hangzhou"), provider.clone()).unwrap();
    let file = write_file(dir.path(), "big", 4 * PART as usize, 21);
    let mut s = spec(&file, "refresh/f");
    s.credentials = Some(provider.clone());
    let (result, _) = run(&client, s).await;
    assert_uploaded(&client, &file, "refresh/f", &result.unwrap()).await;
    // Once, then not again within the minimum interval.
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_lost_complete_answer_is_recovered_without_re_uploading() {
    let dir = TempDir::new("upload-lost-complete");
    let sb = sandbox(&dir).await;
    let client = common_sandbox::demo_client(&sb);
    let file = write_file(dir.path(), "lost.raw", PART as usize * 3 + 17, 41);
    // The sandbox completes the upload but cuts the connection instead of answering; the
    // client's retry then meets NoSuchUpload and the engine must check the object instead.
    sb.set_faults(Faults { lose_complete_answers: 1, ..Faults::default() });
    let (result, _) = run(&client, spec(&file, "lost/complete.raw")).await;
    let outcome = result.expect("recovered from the lost answer");
    assert_eq!(outcome.parts_sent, 4, "no part was sent twice");
    assert!(outcome.etag.ends_with("-4\""), "{}", outcome.etag);
    assert_uploaded(&client, &file, "lost/complete.raw", &outcome).await;
    assert!(!spec(&file, "x").checkpoint_path.exists(), "checkpoint removed");
    let faults: serde_json::Value = serde_json::from_slice(
        &reqwest::get(format!("{}/__sandbox/faults", sb.url())).await.unwrap().bytes().await.unwrap(),
    )
    .unwrap();
    assert_eq!(faults["lose_complete_answers"], 0, "the answer really was lost once");
}
