//! The background worker: a named thread running a tokio runtime that owns the [`Client`] (and the
//! in-process sandbox when no account is configured). The UI talks to it only through bounded
//! channels, so no network or disk I/O ever happens on the UI thread. The worker also owns the
//! adaptive polling of in-flight images, so an idle UI never has to wake up to ask.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use eframe::egui;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::model::{ImageRow, Product, RowKey, Source};
use super::monitor::{PollCadence, PollPolicy};
use super::profile_form::ProfileDraft;
use crate::Credential;
use crate::client::audit::AuditEntry;
use crate::client::diagnose::Verdict;
use crate::client::{Client, ClientError, Profile, StaticCredentials};
use crate::jobs::audit::{AuditLog, export_csv, export_jsonl};
use crate::jobs::import::{ImportJob, JobEvent, JobRunner, JobStore, resumable};
use crate::jobs::upload::Control;
use crate::profiles::{
    CredentialMode, CredentialSpec, ImportedProfile, ProfileKind, ProfileRecord, ProfilesFile, SecretKind,
    SecretStore,
};
use crate::protocol::ops::ecs::{
    self, Architecture, DescribeImages, DescribeRegions, DescribeTasks, ImageFormat, ImageStatus,
    ImportDiskMapping, ImportImage, OsType,
};
use crate::protocol::ops::{ehpc, ens};
use crate::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, RunningSandbox, Sandbox, SandboxConfig};

/// The region a new profile starts in.
pub const DEFAULT_REGION: &str = "cn-hangzhou";

/// How many commands / events may queue before senders wait (UI side: refuse).
const COMMAND_CAPACITY: usize = 32;
const EVENT_CAPACITY: usize = 64;

/// Most images polled in one DescribeImages call (its `ImageId` takes up to 100).
const POLL_BATCH: usize = 100;

/// UI → worker.
#[derive(Clone, Debug)]
pub enum Command {
    /// List every image of every product in these regions (all statuses, all pages), plus ENS.
    Refresh { regions: Vec<String> },
    /// ECS DescribeRegions, for the region picker.
    LoadRegions,
    /// Poll these in-flight images until they settle.
    Watch(Vec<RowKey>),
    /// Sandbox only: import the demo bucket's sample disk image in `region`.
    DemoImport { region: String },
    /// The ECS tasks of one image, for the detail pane.
    LoadTasks(RowKey),
    /// "Test connection" with a profile that is being edited.
    TestProfile(Box<ProfileDraft>),
    /// Save a profile: its secrets to the keychain, the rest to the profiles file.
    SaveProfile(Box<ProfileDraft>),
    /// Look for credentials the operator already has (aliyun CLI, environment, SDK file).
    ScanImports,
    /// Save these found credentials as profiles (each answers with `ProfileSaved`).
    ImportProfiles(Vec<ImportedProfile>),
    /// Forget a saved profile: its secrets leave the keychain, its record the file.
    DeleteProfile(String),
    /// ModifyImageAttribute (a dry run when `DryRun` is set).
    Modify(Box<crate::protocol::ops::ecs::ModifyImageAttribute>),
    /// DeleteImage (a dry run when `DryRun` is set).
    Delete(Box<crate::protocol::ops::ecs::DeleteImage>),
    /// CancelTask: stop an image's import.
    CancelImport(Box<crate::protocol::ops::ecs::CancelTask>),
    /// Read the audit log.
    LoadAudit,
    /// Write these audit entries to `path`.
    ExportAudit { entries: Vec<AuditEntry>, path: std::path::PathBuf, format: ExportFormat },
    /// Save and start a durable import job (local files → OSS → ImportImage → usable image).
    StartJob(Box<ImportJob>),
    /// Stop a running job (an import task already started on ECS is cancelled too).
    CancelJob(String),
    /// Run a failed or cancelled job again from the stage it stopped in.
    RetryJob(Box<ImportJob>),
    /// Forget a finished job (its file and upload checkpoints).
    DismissJob(Box<ImportJob>),
    /// Any ECS call with a `DryRun` parameter or not, for the forms (Add, Create, Import).
    Submit(Box<Submission>),
    /// Pre-flight a local disk image for import disk row `disk`.
    Sniff { disk: usize, path: std::path::PathBuf },
    /// Open the system file dialog for import disk row `disk`.
    PickFile { disk: usize },
    /// List the buckets (`bucket: None`) or a bucket's objects under `prefix`.
    BrowseOss { region: String, bucket: Option<String>, prefix: String },
}

/// A form's request, typed, so the client's own mechanisms apply: the `ClientToken` of creating
/// calls, and secrets (a registry password) that print `***` in `Debug`.
#[derive(Clone, Debug)]
pub enum Submission {
    AddImage(ehpc::AddImage),
    CreateImage(ecs::CreateImage),
    EcsImport(ecs::ImportImage),
    EnsImport(ens::ImportImage),
}

impl Submission {
    /// The form that asked (its window shows the answer).
    pub fn form(&self) -> FormKind {
        match self {
            Self::AddImage(_) => FormKind::AddImage,
            Self::CreateImage(_) => FormKind::CreateImage,
            Self::EcsImport(_) => FormKind::EcsImport,
            Self::EnsImport(_) => FormKind::EnsImport,
        }
    }
}

/// The forms that submit through [`Command::Submit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormKind {
    AddImage,
    CreateImage,
    EcsImport,
    EnsImport,
}

/// What a submission achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// A dry run that passed (nothing changed).
    pub dry_run: bool,
    /// The image the call created, when it did.
    pub image_id: Option<String>,
    pub request_id: Option<String>,
}

/// Audit export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

/// A failed request, ready to show: the message and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub code: Option<String>,
    pub advice_en: String,
    pub advice_zh: String,
    /// The request parameter the error concerns (forms show it under that field).
    pub field: Option<String>,
}

impl Failure {
    pub fn plain(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: None,
            advice_en: String::new(),
            advice_zh: String::new(),
            field: None,
        }
    }

    pub fn from_client(error: &ClientError) -> Self {
        match error.api() {
            Some(api) => {
                let advice = api.advice();
                Self {
                    message: error.to_string(),
                    code: Some(api.code.clone()),
                    advice_en: advice.en,
                    advice_zh: advice.zh,
                    field: advice.field,
                }
            }
            None => Self::plain(error.to_string()),
        }
    }

    pub fn advice(&self, lang: super::i18n::Lang) -> &str {
        match lang {
            super::i18n::Lang::En => &self.advice_en,
            super::i18n::Lang::Zh => &self.advice_zh,
        }
    }
}

/// A region for the picker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionChoice {
    pub id: String,
    pub local_name: String,
}

/// An ECS task, for the detail pane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: String,
    pub action: String,
    pub status: String,
    pub created: String,
    pub finished: String,
}

/// Worker → UI.
#[derive(Clone, Debug)]
pub enum Event {
    Listing {
        source: Source,
        result: Result<Vec<ImageRow>, Failure>,
    },
    Regions(Result<Vec<RegionChoice>, Failure>),
    /// Fresh rows of polled images; `gone` were not found any more.
    Polled {
        rows: Vec<ImageRow>,
        gone: Vec<RowKey>,
    },
    /// ImageDesk started an import.
    Started {
        key: RowKey,
        name: String,
        task_id: String,
    },
    /// A user action failed (`action` names it).
    ActionFailed {
        action: String,
        failure: Failure,
    },
    Tasks {
        key: RowKey,
        result: Result<Vec<TaskInfo>, Failure>,
    },
    /// The outcome of "Test connection".
    ProfileTested(ProfileTest),
    /// A profile was saved, or why not.
    ProfileSaved(Result<Box<ProfileRecord>, Failure>),
    /// What a credential scan found.
    ImportsFound(ImportsFound),
    /// A profile was deleted (its name), or why not.
    ProfileDeleted(Result<String, Failure>),
    /// A modification went through (`true`: it was a dry run and changed nothing), or why not.
    Modified(Result<bool, Failure>),
    /// A deletion (or import cancellation) went through (`true`: a dry run), or why not.
    Deleted(Result<bool, Failure>),
    /// The audit log: entries (oldest first) and how many lines could not be read.
    AuditLoaded(Result<(Vec<AuditEntry>, usize), Failure>),
    /// Where an export was written, or why not.
    AuditExported(Result<std::path::PathBuf, Failure>),
    /// This profile's jobs as found on disk at start, and files that could not be read.
    JobsLoaded {
        jobs: Vec<ImportJob>,
        problems: Vec<String>,
    },
    /// A job moved on, or an upload progressed.
    Job(JobEvent),
    /// The server refused a request for its time: the server's clock is this many seconds ahead
    /// of this machine's (negative: behind). Requests are adjusted from then on.
    ClockSkew {
        offset_secs: i64,
    },
    /// A form's submission went through, or why not.
    Submitted {
        form: FormKind,
        result: Result<Submitted, Failure>,
    },
    /// The pre-flight of a local disk image.
    Sniffed {
        disk: usize,
        path: std::path::PathBuf,
        result: Result<Box<crate::jobs::sniff::Sniffed>, String>,
    },
    /// The file dialog's answer (`None`: cancelled, or no dialog on this desktop).
    FilePicked {
        disk: usize,
        path: Option<std::path::PathBuf>,
    },
    /// Buckets (names) or objects (key, size) of an OSS listing.
    OssListed {
        bucket: Option<String>,
        result: Result<Vec<(String, u64)>, Failure>,
    },
}

/// The result of a credential scan, for the import list.
#[derive(Clone, Debug, Default)]
pub struct ImportsFound {
    pub profiles: Vec<ImportedProfile>,
    /// Files that exist but could not be read or parsed.
    pub errors: Vec<String>,
    /// Where ImageDesk looked.
    pub searched: Vec<String>,
}

/// What "Test connection" found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileTest {
    pub profile: String,
    pub verdict: Verdict,
    pub regions: usize,
    pub clock_skew_secs: Option<i64>,
    pub error: Option<String>,
}

/// Where profiles are saved: the records file and the secret store.
#[derive(Clone, Debug)]
pub struct ProfileStorage {
    pub path: std::path::PathBuf,
    pub secrets: Arc<dyn SecretStore>,
    /// Where to look for existing credentials: the home directory and the environment
    /// (`None` = this process's `HOME` and environment; tests pass their own).
    pub import_home: Option<std::path::PathBuf>,
    pub import_env: Option<BTreeMap<String, String>>,
}

impl ProfileStorage {
    pub fn new(path: std::path::PathBuf, secrets: Arc<dyn SecretStore>) -> Self {
        Self { path, secrets, import_home: None, import_env: None }
    }

    fn scan(&self) -> ImportsFound {
        let env = |name: &str| match &self.import_env {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        let home = self.import_home.clone().or_else(|| env("HOME").map(Into::into)).unwrap_or_default();
        let scan = crate::profiles::read_all(&home, env);
        ImportsFound {
            profiles: scan.profiles,
            errors: scan.errors.iter().map(ToString::to_string).collect(),
            searched: scan.searched.iter().map(ToString::to_string).collect(),
        }
    }
}

/// What the worker talks to.
#[derive(Clone)]
pub enum Backend {
    /// Start the in-process sandbox on this data dir and use the demo key.
    Sandbox(SandboxConfig),
    /// A sandbox already running at this URL (the standalone `imagedesk-sandbox`, or a test's).
    SandboxAt(String),
    /// A real account (optionally against another endpoint, e.g. a private cloud).
    Account { credential: Credential, endpoint: Option<String> },
    /// A saved profile; its secrets are read from `secrets` when the worker starts.
    Stored { record: Box<ProfileRecord>, secrets: Arc<dyn SecretStore> },
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sandbox(config) => f.debug_tuple("Sandbox").field(&config.data_dir).finish(),
            Self::SandboxAt(url) => f.debug_tuple("SandboxAt").field(url).finish(),
            Self::Account { endpoint, .. } => {
                f.debug_struct("Account").field("endpoint", endpoint).finish_non_exhaustive()
            }
            Self::Stored { record, secrets } => f
                .debug_struct("Stored")
                .field("profile", &record.name())
                .field("secrets", &secrets.backend())
                .finish(),
        }
    }
}

impl Backend {
    /// The sandbox backend on its default data dir (`$XDG_DATA_HOME/imagedesk/sandbox`).
    pub fn default_sandbox() -> Self {
        Self::Sandbox(SandboxConfig::new(crate::sandbox::default_data_dir()))
    }

    pub fn is_sandbox(&self) -> bool {
        matches!(self, Self::Sandbox(_) | Self::SandboxAt(_))
    }

    /// The name jobs are filed under: a job resumes only under the profile that started it.
    pub fn job_owner(&self) -> String {
        match self {
            Self::Sandbox(_) => "sandbox".into(),
            Self::SandboxAt(url) => format!("sandbox {url}"),
            Self::Account { .. } => "environment".into(),
            Self::Stored { record, .. } => format!("profile {}", record.name()),
        }
    }
}

/// Tuning of the worker (tests poll faster than people need).
#[derive(Clone, Debug, Default)]
pub struct WorkerOptions {
    pub poll: PollPolicy,
    /// Where "Save profile" writes; `None` = saving is not offered.
    pub storage: Option<ProfileStorage>,
    /// Where every mutating call is recorded (and read back for the audit view).
    pub audit: Option<Arc<AuditLog>>,
    /// Where import jobs are kept (`None` = in memory: they do not survive the session).
    pub jobs: Option<JobStore>,
    /// How often a job polls its importing image (`None` = 3 s).
    pub job_poll: Option<Duration>,
    /// Upload part size for jobs (`None` = chosen from the file size).
    pub job_part_size: Option<u64>,
}

/// Every listing a refresh of `regions` makes: ECS and E-HPC Instant per region, ENS once.
pub fn sources_for(regions: &[String]) -> Vec<Source> {
    let mut sources = Vec::new();
    for region in regions {
        sources.push(Source { product: Product::Ecs, region: region.clone() });
        sources.push(Source { product: Product::EhpcInstant, region: region.clone() });
    }
    sources.push(Source { product: Product::Ens, region: String::new() });
    sources
}

/// The UI's handle on the worker thread. Dropping it closes the command channel; the worker then
/// shuts the sandbox down and exits, and the drop waits for that (briefly) so the sandbox's state
/// is saved before the process ends.
#[derive(Debug)]
pub struct Worker {
    commands: Option<mpsc::Sender<Command>>,
    events: mpsc::Receiver<Event>,
    repaint: Arc<OnceLock<egui::Context>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    pub fn spawn(backend: Backend, options: WorkerOptions) -> std::io::Result<Self> {
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
        let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
        let repaint = Arc::new(OnceLock::new());
        let notify = Outbox { events: event_tx, repaint: Arc::clone(&repaint) };
        let thread = std::thread::Builder::new()
            .name("imagedesk-worker".into())
            .spawn(move || run(backend, options, command_rx, notify))?;
        Ok(Self { commands: Some(command_tx), events: event_rx, repaint, thread: Some(thread) })
    }

    /// The context to wake after each event (set once, from the first frame).
    pub fn set_context(&self, ctx: &egui::Context) {
        let _ = self.repaint.get_or_init(|| ctx.clone());
    }

    /// Queue a command; `false` if the queue is full or the worker is gone.
    pub fn send(&self, command: Command) -> bool {
        self.commands.as_ref().is_some_and(|c| c.try_send(command).is_ok())
    }

    /// The next pending event, without blocking.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.commands = None;
        // Unblock a worker waiting for room in the event queue.
        self.events.close();
        if let Some(thread) = self.thread.take() {
            let deadline = std::time::Instant::now() + Duration::from_secs(3);
            while !thread.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if thread.is_finished() {
                let _ = thread.join();
            } else {
                tracing::warn!("the worker did not stop within 3 s; leaving it behind");
            }
        }
    }
}

/// The worker's side of the event queue: every event wakes the UI.
#[derive(Clone)]
struct Outbox {
    events: mpsc::Sender<Event>,
    repaint: Arc<OnceLock<egui::Context>>,
}

impl Outbox {
    /// `false` once the UI is gone.
    async fn send(&self, event: Event) -> bool {
        let sent = self.events.send(event).await.is_ok();
        if let Some(ctx) = self.repaint.get() {
            ctx.request_repaint();
        }
        sent
    }
}

fn run(backend: Backend, options: WorkerOptions, mut commands: mpsc::Receiver<Command>, outbox: Outbox) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("imagedesk-net")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let failure = Failure::plain(format!("cannot start the network runtime: {e}"));
            let _ = outbox.events.try_send(Event::ActionFailed { action: "start".into(), failure });
            return;
        }
    };
    runtime.block_on(async move {
        let sandbox_mode = backend.is_sandbox();
        let job_owner = backend.job_owner();
        let (client, sandbox) = match connect(backend).await.map(|(client, sandbox)| match &options.audit {
            Some(log) => {
                (client.with_audit(Arc::clone(log) as Arc<dyn crate::client::audit::AuditSink>), sandbox)
            }
            None => (client, sandbox),
        }) {
            Ok(pair) => pair,
            Err(failure) => {
                // Answer every request with the same failure until the UI goes away.
                while let Some(command) = commands.recv().await {
                    let events = failure_events(&command, &failure);
                    for event in events {
                        if !outbox.send(event).await {
                            return;
                        }
                    }
                }
                return;
            }
        };
        let mut runner =
            JobRunner::new(client.clone(), options.jobs.clone().unwrap_or_else(JobStore::in_memory));
        runner.poll_interval = options.job_poll.unwrap_or(Duration::from_secs(3));
        runner.part_size = options.job_part_size;
        let mut state = WorkerState {
            runner,
            job_owner,
            running_jobs: BTreeMap::new(),
            client,
            outbox: outbox.clone(),
            sandbox_mode,
            watch: BTreeMap::new(),
            cadence: PollCadence::new(options.poll),
            storage: options.storage.clone(),
            audit: options.audit.clone(),
            clock_reported: Arc::default(),
        };
        state.resume_jobs().await;
        let mut next_poll = Instant::now();
        loop {
            let poll_due = !state.watch.is_empty();
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else { break };
                    if state.handle(command) {
                        next_poll = Instant::now() + state.cadence.current();
                    }
                }
                () = tokio::time::sleep_until(next_poll), if poll_due => {
                    let moved = state.poll().await;
                    next_poll = Instant::now() + state.cadence.next(moved);
                }
            }
        }
        if let Some(running) = sandbox {
            running.shutdown().await;
        }
    });
}

/// What to answer `command` with when the backend could not start.
fn failure_events(command: &Command, failure: &Failure) -> Vec<Event> {
    match command {
        Command::Refresh { regions } => sources_for(regions)
            .into_iter()
            .map(|source| Event::Listing { source, result: Err(failure.clone()) })
            .collect(),
        Command::LoadRegions => vec![Event::Regions(Err(failure.clone()))],
        Command::Watch(_) => Vec::new(),
        Command::DemoImport { .. } => {
            vec![Event::ActionFailed { action: "ImportImage".into(), failure: failure.clone() }]
        }
        Command::LoadTasks(key) => vec![Event::Tasks { key: key.clone(), result: Err(failure.clone()) }],
        Command::TestProfile(draft) => vec![Event::ProfileTested(ProfileTest {
            profile: draft.record.name().to_owned(),
            verdict: Verdict::Other,
            regions: 0,
            clock_skew_secs: None,
            error: Some(failure.message.clone()),
        })],
        Command::SaveProfile(_) => vec![Event::ProfileSaved(Err(failure.clone()))],
        Command::ScanImports => vec![Event::ImportsFound(ImportsFound {
            errors: vec![failure.message.clone()],
            ..ImportsFound::default()
        })],
        Command::ImportProfiles(found) => {
            found.iter().map(|_| Event::ProfileSaved(Err(failure.clone()))).collect()
        }
        Command::DeleteProfile(_) => vec![Event::ProfileDeleted(Err(failure.clone()))],
        Command::LoadAudit => vec![Event::AuditLoaded(Err(failure.clone()))],
        Command::Modify(_) => vec![Event::Modified(Err(failure.clone()))],
        Command::Delete(_) | Command::CancelImport(_) => vec![Event::Deleted(Err(failure.clone()))],
        Command::ExportAudit { .. } => vec![Event::AuditExported(Err(failure.clone()))],
        Command::StartJob(_) | Command::RetryJob(_) => {
            vec![Event::ActionFailed { action: "ImportImage".into(), failure: failure.clone() }]
        }
        Command::CancelJob(_) | Command::DismissJob(_) | Command::Sniff { .. } => Vec::new(),
        Command::PickFile { disk } => vec![Event::FilePicked { disk: *disk, path: None }],
        Command::BrowseOss { bucket, .. } => {
            vec![Event::OssListed { bucket: bucket.clone(), result: Err(failure.clone()) }]
        }
        Command::Submit(submission) => {
            vec![Event::Submitted { form: submission.form(), result: Err(failure.clone()) }]
        }
    }
}

struct WorkerState {
    runner: JobRunner,
    job_owner: String,
    /// Running jobs' controls, by job ID.
    running_jobs: BTreeMap<String, tokio::sync::watch::Sender<Control>>,
    client: Client,
    outbox: Outbox,
    sandbox_mode: bool,
    /// Watched images and the progress last seen.
    watch: BTreeMap<RowKey, Option<u8>>,
    cadence: PollCadence,
    storage: Option<ProfileStorage>,
    audit: Option<Arc<AuditLog>>,
    /// The clock offset last reported to the UI.
    clock_reported: Arc<std::sync::atomic::AtomicI64>,
}

impl WorkerState {
    /// Start `command`'s work (long calls run as tasks). `true` if new images are to be watched,
    /// so the next poll should come soon.
    fn handle(&mut self, command: Command) -> bool {
        let client = self.client.clone();
        match command {
            Command::Refresh { regions } => {
                for source in sources_for(&regions) {
                    let client = client.clone();
                    self.reply(async move {
                        let result = list_source(&client, &source).await;
                        Event::Listing { source, result }
                    });
                }
            }
            Command::LoadRegions => self.reply(async move {
                let request = DescribeRegions { accept_language: Some("zh-CN".into()), ..Default::default() };
                let result = client.call(request).await.map_err(|e| Failure::from_client(&e)).map(|answer| {
                    let regions = answer.regions.into_iter();
                    regions.map(|r| RegionChoice { id: r.region_id, local_name: r.local_name }).collect()
                });
                Event::Regions(result)
            }),
            Command::Watch(keys) => {
                let mut added = false;
                for key in keys {
                    if key.product != Product::EhpcInstant && !self.watch.contains_key(&key) {
                        self.watch.insert(key, None);
                        added = true;
                    }
                }
                if added {
                    self.cadence.reset();
                }
                return added;
            }
            Command::DemoImport { region } => {
                let sandbox_mode = self.sandbox_mode;
                // The started image is watched when the UI hands it back (`Watch`).
                self.reply(async move {
                    match demo_import(&client, &region, sandbox_mode).await {
                        Ok(event) => event,
                        Err(failure) => Event::ActionFailed { action: "ImportImage".into(), failure },
                    }
                });
            }
            Command::LoadTasks(key) => self.reply(async move {
                let result = load_tasks(&client, &key).await;
                Event::Tasks { key, result }
            }),
            Command::TestProfile(draft) => {
                self.reply(async move { Event::ProfileTested(test_profile(*draft).await) })
            }
            Command::SaveProfile(draft) => {
                let storage = self.storage();
                self.reply(async move {
                    Event::ProfileSaved(blocking("saving", move || save_profile(&storage?, *draft)).await)
                });
            }
            Command::ScanImports => {
                let storage = self.storage();
                self.reply(async move {
                    let found = blocking("scanning", move || Ok(storage?.scan())).await;
                    Event::ImportsFound(found.unwrap_or_else(|failure| ImportsFound {
                        errors: vec![failure.message],
                        ..ImportsFound::default()
                    }))
                });
            }
            Command::ImportProfiles(found) => {
                let (outbox, storage) = (self.outbox.clone(), self.storage());
                tokio::spawn(async move {
                    for imported in found {
                        let storage = storage.clone();
                        let result = blocking("importing", move || {
                            save_profile(&storage?, draft_from_import(imported)?)
                        });
                        if !outbox.send(Event::ProfileSaved(result.await)).await {
                            break;
                        }
                    }
                });
            }
            Command::DeleteProfile(name) => {
                let storage = self.storage();
                self.reply(async move {
                    Event::ProfileDeleted(
                        blocking("deleting", move || delete_profile(&storage?, &name)).await,
                    )
                });
            }
            Command::Modify(request) => {
                self.reply(async move { Event::Modified(call_with_dry_run(&client, *request).await) })
            }
            Command::Delete(request) => {
                self.reply(async move { Event::Deleted(call_with_dry_run(&client, *request).await) })
            }
            Command::CancelImport(request) => {
                self.reply(async move { Event::Deleted(call_with_dry_run(&client, *request).await) })
            }
            Command::LoadAudit => {
                let audit = self.audit.clone();
                self.reply(async move {
                    let Some(log) = audit else { return Event::AuditLoaded(Ok((Vec::new(), 0))) };
                    let read = blocking("reading", move || {
                        let read = log.read();
                        read.map_err(|e| Failure::plain(format!("cannot read {}: {e}", log.path().display())))
                    });
                    Event::AuditLoaded(read.await.map(|read| (read.entries, read.unreadable_lines)))
                });
            }
            Command::ExportAudit { entries, path, format } => self.reply(async move {
                Event::AuditExported(
                    blocking("export", move || export_to(&entries, &path, format).map(|()| path)).await,
                )
            }),
            Command::StartJob(job) => {
                let mut job = *job;
                job.profile = self.job_owner.clone();
                self.start_job(job);
            }
            Command::CancelJob(id) => {
                if let Some(control) = self.running_jobs.get(&id) {
                    let _ = control.send(Control::Cancel);
                }
            }
            Command::RetryJob(job) => {
                let mut job = *job;
                if !self.running_jobs.contains_key(&job.id) && job.retry() {
                    self.start_job(job);
                }
            }
            Command::DismissJob(job) => {
                let store = self.runner.store.clone();
                if !self.running_jobs.contains_key(&job.id) {
                    tokio::task::spawn_blocking(move || {
                        if let Err(e) = store.remove(&job) {
                            tracing::warn!("cannot remove job {}: {e}", job.id);
                        }
                    });
                }
            }
            Command::Sniff { disk, path } => self.reply(async move {
                let file = path.clone();
                let result = tokio::task::spawn_blocking(move || crate::jobs::sniff::sniff_path(&file))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map(Box::new).map_err(|e| e.to_string()));
                Event::Sniffed { disk, path, result }
            }),
            Command::PickFile { disk } => self.reply(async move {
                // rfd blocks until the user answers (or returns at once when no dialog exists).
                let path = tokio::task::spawn_blocking(|| {
                    rfd::FileDialog::new()
                        .add_filter("Disk images", &["qcow2", "raw", "img", "vhd", "vmdk", "iso"])
                        .add_filter("All files", &["*"])
                        .pick_file()
                })
                .await
                .ok()
                .flatten();
                Event::FilePicked { disk, path }
            }),
            Command::BrowseOss { region, bucket, prefix } => self.reply(async move {
                let result = browse_oss(&client, &region, bucket.as_deref(), &prefix).await;
                Event::OssListed { bucket, result }
            }),
            Command::Submit(submission) => self.reply(async move {
                let form = submission.form();
                Event::Submitted { form, result: submit(&client, *submission).await }
            }),
        }
        false
    }

    /// Load this profile's jobs, show them, and resume the unfinished ones.
    async fn resume_jobs(&mut self) {
        let store = self.runner.store.clone();
        let loaded = tokio::task::spawn_blocking(move || store.load_all()).await.unwrap_or_default();
        let mine: Vec<ImportJob> = loaded.jobs.into_iter().filter(|j| j.profile == self.job_owner).collect();
        let pending = resumable(&mine, &self.job_owner);
        self.outbox.send(Event::JobsLoaded { jobs: mine, problems: loaded.problems }).await;
        for job in pending.into_values() {
            tracing::info!(job = %job.id, stage = ?job.stage, "resuming job");
            self.start_job(job);
        }
    }

    /// Run `job` as its own task, forwarding its events to the UI.
    fn start_job(&mut self, job: ImportJob) {
        let (control_tx, control_rx) = tokio::sync::watch::channel(Control::Run);
        self.running_jobs.retain(|_, c| !c.is_closed());
        self.running_jobs.insert(job.id.clone(), control_tx);
        let (events_tx, mut events_rx) = mpsc::channel(EVENT_CAPACITY);
        let outbox = self.outbox.clone();
        tokio::spawn(async move {
            while let Some(event) = events_rx.recv().await {
                if !outbox.send(Event::Job(event)).await {
                    break;
                }
            }
        });
        let runner = self.runner.clone();
        let outbox = self.outbox.clone();
        tokio::spawn(async move {
            // Saved first, so a job the UI just created survives a crash before its first step.
            let store = runner.store.clone();
            let first = job.clone();
            if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.save(&first)).await {
                outbox
                    .send(Event::ActionFailed {
                        action: "ImportImage".into(),
                        failure: Failure::plain(e.to_string()),
                    })
                    .await;
                return;
            }
            let _ = events_tx.send(JobEvent::Updated(Box::new(job.clone()))).await;
            runner.run(job, events_tx, control_rx).await;
        });
    }

    /// Run `work` as its own task and send the event it ends with.
    fn reply(&self, work: impl std::future::Future<Output = Event> + Send + 'static) {
        let outbox = self.outbox.clone();
        let (client, reported) = (self.client.clone(), Arc::clone(&self.clock_reported));
        tokio::spawn(async move {
            outbox.send(work.await).await;
            // A call may have learnt that this machine's clock is off: say so once.
            let offset = client.clock_offset_secs();
            if offset != 0 && reported.swap(offset, std::sync::atomic::Ordering::Relaxed) != offset {
                outbox.send(Event::ClockSkew { offset_secs: offset }).await;
            }
        });
    }

    /// Where profiles are saved, or why they cannot be.
    fn storage(&self) -> Result<ProfileStorage, Failure> {
        self.storage.clone().ok_or_else(|| Failure::plain("profiles cannot be saved in this session"))
    }

    /// Poll every watched image once; `true` if any progress or status moved. Settled and vanished
    /// images leave the watch list.
    async fn poll(&mut self) -> bool {
        let mut by_region: BTreeMap<(Product, String), Vec<String>> = BTreeMap::new();
        for key in self.watch.keys() {
            by_region.entry((key.product, key.region.clone())).or_default().push(key.id.clone());
        }
        let mut fresh = Vec::new();
        let mut gone = Vec::new();
        for ((product, region), ids) in by_region {
            for batch in ids.chunks(POLL_BATCH) {
                match poll_batch(&self.client, product, &region, batch).await {
                    Ok(rows) => {
                        for id in batch {
                            if !rows.iter().any(|r| &r.id == id) {
                                gone.push(RowKey { product, region: region.clone(), id: id.clone() });
                            }
                        }
                        fresh.extend(rows);
                    }
                    // A failed poll is retried at the next tick; the listing shows errors.
                    Err(failure) => tracing::debug!(?product, %region, "poll failed: {}", failure.message),
                }
            }
        }
        let mut moved = !gone.is_empty();
        for row in &fresh {
            let key = row.key();
            let seen = self.watch.get(&key).copied().flatten();
            if row.progress != seen || !row.status.in_flight() {
                moved = true;
            }
            if row.status.in_flight() {
                self.watch.insert(key, row.progress);
            } else {
                self.watch.remove(&key);
            }
        }
        for key in &gone {
            self.watch.remove(key);
        }
        if !fresh.is_empty() || !gone.is_empty() {
            self.outbox.send(Event::Polled { rows: fresh, gone }).await;
        }
        moved
    }
}

async fn list_source(client: &Client, source: &Source) -> Result<Vec<ImageRow>, Failure> {
    let region = source.region.as_str();
    let fail = |e: ClientError| Failure::from_client(&e);
    match source.product {
        Product::Ecs => {
            // No owner alias = public + own + shared + community; every status, not only Available.
            let request = DescribeImages {
                region_id: region.to_owned(),
                status: ImageStatus::all(),
                ..Default::default()
            };
            let images = client.list_all(request).await.map_err(fail)?;
            Ok(images.into_iter().map(|image| ImageRow::from_ecs(region, image)).collect())
        }
        Product::Ens => {
            let own = client.list_all(ens::DescribeSelfImages::default()).await.map_err(fail)?;
            let all = client.list_all(ens::DescribeImages::default()).await.map_err(fail)?;
            let mut rows: Vec<ImageRow> =
                own.into_iter().map(|image| ImageRow::from_ens(image, true)).collect();
            for image in all {
                if !rows.iter().any(|r| r.id == image.image_id) {
                    rows.push(ImageRow::from_ens(image, false));
                }
            }
            Ok(rows)
        }
        Product::EhpcInstant => {
            let request = ehpc::ListImages { region_id: region.to_owned(), ..Default::default() };
            let images = client.list_all(request).await.map_err(fail)?;
            Ok(images.into_iter().map(|image| ImageRow::from_ehpc(region, image)).collect())
        }
    }
}

async fn poll_batch(
    client: &Client,
    product: Product,
    region: &str,
    ids: &[String],
) -> Result<Vec<ImageRow>, Failure> {
    let fail = |e: ClientError| Failure::from_client(&e);
    match product {
        Product::Ecs => {
            let request = DescribeImages {
                region_id: region.to_owned(),
                image_id: Some(ids.join(",")),
                status: ImageStatus::all(),
                ..Default::default()
            };
            let images = client.list_all(request).await.map_err(fail)?;
            Ok(images.into_iter().map(|image| ImageRow::from_ecs(region, image)).collect())
        }
        Product::Ens => {
            let mut rows = Vec::new();
            for id in ids {
                let request = ens::DescribeSelfImages { image_id: Some(id.clone()), ..Default::default() };
                let images = client.list_all(request).await.map_err(fail)?;
                rows.extend(images.into_iter().map(|image| ImageRow::from_ens(image, true)));
            }
            Ok(rows)
        }
        Product::EhpcInstant => Ok(Vec::new()),
    }
}

async fn load_tasks(client: &Client, key: &RowKey) -> Result<Vec<TaskInfo>, Failure> {
    if key.product != Product::Ecs {
        return Ok(Vec::new());
    }
    let request = DescribeTasks {
        region_id: key.region.clone(),
        resource_ids: vec![key.id.clone()],
        ..Default::default()
    };
    let tasks: Vec<ecs::Task> = client.list_all(request).await.map_err(|e| Failure::from_client(&e))?;
    Ok(tasks
        .into_iter()
        .map(|t| TaskInfo {
            id: t.task_id,
            action: t.task_action,
            status: t.task_status,
            created: t.creation_time,
            finished: t.finished_time,
        })
        .collect())
}

/// The sandbox's demo buckets: (region, bucket, object, virtual size in GiB).
const DEMO_OBJECTS: [(&str, &str, &str, u32); 2] = [
    ("cn-hangzhou", "imagedesk-demo-hz", "images/centos-7.9.qcow2", 40),
    ("cn-beijing", "imagedesk-demo-bj", "images/edge-node.qcow2", 20),
];

async fn demo_import(client: &Client, region: &str, sandbox_mode: bool) -> Result<Event, Failure> {
    if !sandbox_mode {
        return Err(Failure::plain("the sample import exists only in the sandbox"));
    }
    let (region, bucket, object, size) =
        DEMO_OBJECTS.iter().find(|(r, ..)| *r == region).copied().unwrap_or(DEMO_OBJECTS[0]);
    let name = format!("sample-import-{}", chrono::Utc::now().format("%H%M%S"));
    let request = ImportImage {
        region_id: region.to_owned(),
        disk_device_mapping: vec![ImportDiskMapping {
            oss_bucket: bucket.to_owned(),
            oss_object: object.to_owned(),
            format: Some(ImageFormat::Qcow2),
            disk_image_size: Some(size),
            device: None,
        }],
        image_name: Some(name.clone()),
        description: Some("Imported by ImageDesk's sample action".into()),
        architecture: Some(Architecture::X86_64),
        os_type: Some(OsType::Linux),
        platform: Some("CentOS".into()),
        ..Default::default()
    };
    let answer = client.call(request).await.map_err(|e| Failure::from_client(&e))?;
    Ok(Event::Started {
        key: RowKey { product: Product::Ecs, region: region.to_owned(), id: answer.image_id },
        name,
        task_id: answer.task_id,
    })
}

async fn connect(backend: Backend) -> Result<(Client, Option<RunningSandbox>), Failure> {
    let mut profile = Profile::new("desktop", DEFAULT_REGION);
    let demo = || Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET);
    let (credential, sandbox) = match backend {
        Backend::Account { credential, endpoint } => {
            profile.endpoint = endpoint;
            (credential, None)
        }
        Backend::Stored { record, secrets } => {
            let name = record.name().to_owned();
            let spec = record.credential.clone();
            let (secret, token) =
                tokio::task::spawn_blocking(move || secrets_from_store(&name, &spec, secrets.as_ref()))
                    .await
                    .map_err(|e| Failure::plain(format!("reading the keychain stopped: {e}")))??;
            let client = client_for(&record, secret, token, record.connection.clone()).await?;
            return Ok((client, None));
        }
        Backend::SandboxAt(url) => {
            profile.endpoint = Some(url.clone());
            profile.oss_endpoint = Some(url);
            (demo(), None)
        }
        Backend::Sandbox(mut config) => {
            config.port = 0;
            let running = Sandbox::start(config)
                .await
                .map_err(|e| Failure::plain(format!("cannot start the built-in sandbox: {e}")))?;
            profile.endpoint = Some(running.url());
            profile.oss_endpoint = Some(running.url());
            (demo(), Some(running))
        }
    };
    let client = Client::new(profile, Arc::new(StaticCredentials::new(credential)))
        .map_err(|e| Failure::from_client(&e))?;
    Ok((client, sandbox))
}

/// The profile's extra CA certificate file, read (in a blocking task: it is disk I/O).
async fn read_ca(record: &ProfileRecord) -> Result<Option<Vec<u8>>, Failure> {
    let Some(path) = record.ca_certificate.clone() else { return Ok(None) };
    tokio::task::spawn_blocking(move || {
        std::fs::read(&path)
            .map(Some)
            .map_err(|e| Failure::plain(format!("cannot read the CA certificate {}: {e}", path.display())))
    })
    .await
    .map_err(|e| Failure::plain(format!("reading the CA certificate stopped: {e}")))?
}

/// A saved profile's secrets, read from the store: (AccessKey secret, security token).
fn secrets_from_store(
    name: &str,
    spec: &CredentialSpec,
    secrets: &dyn SecretStore,
) -> Result<(Option<crate::Secret>, Option<crate::Secret>), Failure> {
    let read = |kind| {
        secrets
            .get(name, kind)
            .map_err(|e| Failure::plain(format!("cannot read profile {name:?} from the keychain: {e}")))?
            .ok_or_else(|| {
                Failure::plain(format!(
                    "the keychain ({}) has no secret for profile {name:?}; edit the profile and enter it again",
                    secrets.backend()
                ))
            })
    };
    let secret = if spec.needs_secret() { Some(read(SecretKind::AccessKeySecret)?) } else { None };
    let token = if spec.needs_token() { Some(read(SecretKind::SecurityToken)?) } else { None };
    Ok((secret, token))
}

/// The client of a profile: static keys, or AssumeRole credentials renewed before they expire.
async fn client_for(
    record: &ProfileRecord,
    secret: Option<crate::Secret>,
    token: Option<crate::Secret>,
    connection: Profile,
) -> Result<Client, Failure> {
    let ca = read_ca(record).await?;
    let missing = || Failure::plain(format!("profile {:?} has no AccessKey secret", record.name()));
    let setup = |e: ClientError| Failure::from_client(&e);
    let provider: Arc<dyn crate::client::CredentialProvider> = match &record.credential {
        CredentialSpec::AccessKey { access_key_id } => {
            Arc::new(StaticCredentials::new(Credential::new(access_key_id, secret.ok_or_else(missing)?)))
        }
        CredentialSpec::StsToken { access_key_id } => {
            let credential = Credential::new(access_key_id, secret.ok_or_else(missing)?)
                .with_security_token(token.unwrap_or_else(|| crate::Secret::new("")));
            Arc::new(StaticCredentials::new(credential))
        }
        CredentialSpec::RamRoleArn {
            access_key_id,
            role_arn,
            session_name,
            duration_secs,
            external_id,
            policy,
        } => {
            let signer = Credential::new(access_key_id, secret.ok_or_else(missing)?);
            let sts = Client::with_extra_roots(
                connection.clone(),
                Arc::new(StaticCredentials::new(signer)),
                ca.as_deref(),
            )
            .map_err(setup)?;
            let request = crate::protocol::ops::sts::AssumeRole {
                role_arn: role_arn.clone(),
                role_session_name: session_name.clone(),
                duration_seconds: Some(*duration_secs),
                policy: policy.clone(),
                external_id: external_id.clone(),
            };
            Arc::new(crate::client::assume_role::AssumeRoleProvider::new(sts, request))
        }
        CredentialSpec::EcsRamRole { role_name } => {
            // `IMAGEDESK_ECS_METADATA_URL` reaches a metadata service elsewhere (tests, proxies).
            let url = std::env::var("IMAGEDESK_ECS_METADATA_URL")
                .ok()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| crate::client::ecs_metadata::METADATA_URL.to_owned());
            let provider = crate::client::ecs_metadata::EcsRoleProvider::new(url, role_name.clone())
                .map_err(|e| Failure::plain(e.to_string()))?;
            Arc::new(provider)
        }
    };
    Client::with_extra_roots(connection, provider, ca.as_deref()).map_err(setup)
}

/// Build a client from an unsaved draft and run "Test connection" with it.
async fn test_profile(draft: ProfileDraft) -> ProfileTest {
    let profile = draft.record.name().to_owned();
    let failed = |error: String| ProfileTest {
        profile: profile.clone(),
        verdict: Verdict::Other,
        regions: 0,
        clock_skew_secs: None,
        error: Some(error),
    };
    let mut connection = draft.record.connection.clone();
    // One attempt: the user is waiting, and a wrong key does not become right on retry.
    connection.retry.max_attempts = 1;
    match client_for(&draft.record, draft.secret.clone(), draft.token.clone(), connection).await {
        Ok(client) => {
            let report = client.test_connection().await;
            ProfileTest {
                profile,
                verdict: report.verdict,
                regions: report.regions,
                clock_skew_secs: report.clock_skew_secs,
                error: report.error,
            }
        }
        Err(failure) => failed(failure.message),
    }
}

/// File and keychain work, off the async threads; a panic becomes a failure saying `what` stopped.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(Failure::plain(format!("{what} stopped: {e}"))))
}

/// A mutating call that may be a dry run: `Ok(true)` when a dry run passed (ECS answers a passing
/// dry run with the "error" `DryRunOperation`), `Ok(false)` when the change was made.
async fn call_with_dry_run<O: crate::protocol::ops::RpcOperation>(
    client: &Client,
    operation: O,
) -> Result<bool, Failure> {
    let dry_run = operation.to_params().is_ok_and(|p| p.get("DryRun") == Some("true"));
    match client.call(operation).await {
        Ok(_) => Ok(false),
        Err(e) if dry_run && e.is_dry_run_pass() => Ok(true),
        Err(e) => Err(Failure::from_client(&e)),
    }
}

/// One page (up to 1000) of buckets, or of a bucket's objects under `prefix`.
async fn browse_oss(
    client: &Client,
    region: &str,
    bucket: Option<&str>,
    prefix: &str,
) -> Result<Vec<(String, u64)>, Failure> {
    let mut query = vec![("max-keys".to_owned(), "1000".to_owned())];
    if !prefix.is_empty() {
        query.push(("prefix".to_owned(), prefix.to_owned()));
    }
    let request = crate::client::oss::OssRequest {
        method: "GET".into(),
        bucket: bucket.map(str::to_owned),
        query,
        ..Default::default()
    };
    let answer = client.oss(Some(region), &request).await.map_err(|e| Failure::from_client(&e))?;
    parse_oss_listing(bucket.is_some(), &answer.body)
}

/// An OSS listing as `(name, size)`: objects (`ListBucketResult`) when `objects`, else buckets
/// (`ListAllMyBucketsResult`, size 0).
pub fn parse_oss_listing(objects: bool, body: &[u8]) -> Result<Vec<(String, u64)>, Failure> {
    let body = std::str::from_utf8(body).map_err(|e| Failure::plain(format!("OSS listing: {e}")))?;
    let unreadable = |e: quick_xml::DeError| Failure::plain(format!("cannot read OSS's listing: {e}"));
    Ok(if objects {
        let listing: ObjectListing = quick_xml::de::from_str(body).map_err(unreadable)?;
        listing.contents.into_iter().map(|o| (o.key, o.size)).collect()
    } else {
        let listing: BucketListing = quick_xml::de::from_str(body).map_err(unreadable)?;
        listing.buckets.bucket.into_iter().map(|b| (b.name, 0)).collect()
    })
}

/// `ListAllMyBucketsResult` (only what the browser shows).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct BucketListing {
    buckets: Buckets,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Buckets {
    bucket: Vec<NamedBucket>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NamedBucket {
    name: String,
}

/// `ListBucketResult`.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ObjectListing {
    contents: Vec<ListedObject>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedObject {
    key: String,
    #[serde(default)]
    size: u64,
}

/// Send a form's request through the typed call (ClientToken and decoding included).
async fn submit(client: &Client, submission: Submission) -> Result<Submitted, Failure> {
    let created = |request_id: String, image_id: String| Submitted {
        dry_run: false,
        image_id: Some(image_id).filter(|id| !id.is_empty()),
        request_id: Some(request_id).filter(|id| !id.is_empty()),
    };
    let dry_run = |dry_run: &Option<bool>| *dry_run == Some(true);
    let outcome = |asked_dry_run: bool, error: ClientError| {
        if asked_dry_run && error.is_dry_run_pass() {
            Ok(Submitted { dry_run: true, image_id: None, request_id: None })
        } else {
            Err(Failure::from_client(&error))
        }
    };
    match submission {
        Submission::AddImage(request) => match client.call(request).await {
            Ok(answer) => Ok(created(answer.request_id, answer.image_id)),
            Err(e) => outcome(false, e),
        },
        Submission::CreateImage(request) => {
            let asked = dry_run(&request.dry_run);
            match client.call(request).await {
                Ok(answer) => Ok(created(answer.request_id, answer.image_id)),
                Err(e) => outcome(asked, e),
            }
        }
        Submission::EcsImport(request) => {
            let asked = dry_run(&request.dry_run);
            match client.call(request).await {
                Ok(answer) => Ok(created(answer.request_id, answer.image_id)),
                Err(e) => outcome(asked, e),
            }
        }
        Submission::EnsImport(request) => match client.call(request).await {
            Ok(answer) => Ok(created(answer.request_id, answer.image_id)),
            Err(e) => outcome(false, e),
        },
    }
}

/// Write an export next to its final name, then rename (never half a file under that name).
fn export_to(entries: &[AuditEntry], path: &std::path::Path, format: ExportFormat) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::plain(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let temp = path.with_extension("part");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&temp).map_err(fail)?);
    match format {
        ExportFormat::Csv => export_csv(entries, &mut out),
        ExportFormat::JsonLines => export_jsonl(entries, &mut out),
    }
    .map_err(fail)?;
    std::io::Write::flush(&mut out).map_err(fail)?;
    drop(out);
    std::fs::rename(&temp, path).map_err(fail)
}

/// Secrets out of the keychain first (a secret must not outlive its profile), then the record.
fn delete_profile(storage: &ProfileStorage, name: &str) -> Result<String, Failure> {
    for kind in [SecretKind::AccessKeySecret, SecretKind::SecurityToken] {
        storage.secrets.delete(name, kind).map_err(|e| Failure::plain(e.to_string()))?;
    }
    if storage.secrets.persistent() {
        let mut file = ProfilesFile::load(&storage.path).map_err(|e| Failure::plain(e.to_string()))?;
        if file.remove(name).is_some() {
            file.save(&storage.path).map_err(|e| Failure::plain(e.to_string()))?;
        }
    }
    Ok(name.to_owned())
}

/// A found credential as a profile draft; refused with the reason when it cannot work yet.
pub fn draft_from_import(found: ImportedProfile) -> Result<ProfileDraft, Failure> {
    let refuse = |why: String| Err(Failure::plain(format!("{:?} from {}: {why}", found.name, found.source)));
    if !found.problems.is_empty() {
        return refuse(found.problems.join("; "));
    }
    let id = found.access_key_id.clone().unwrap_or_default();
    let credential = match &found.mode {
        CredentialMode::AccessKey => CredentialSpec::AccessKey { access_key_id: id },
        CredentialMode::StsToken => CredentialSpec::StsToken { access_key_id: id },
        CredentialMode::RamRoleArn => CredentialSpec::RamRoleArn {
            access_key_id: id,
            role_arn: found.role_arn.clone().unwrap_or_default(),
            session_name: found.role_session_name.clone().unwrap_or_else(|| "imagedesk".into()),
            duration_secs: found.duration_secs.unwrap_or(3600),
            external_id: found.external_id.clone(),
            policy: found.policy.clone(),
        },
        CredentialMode::EcsRamRole => {
            CredentialSpec::EcsRamRole { role_name: found.role_name.clone().unwrap_or_default() }
        }
        CredentialMode::Unsupported(mode) => return refuse(format!("mode {mode} is not supported yet")),
    };
    if credential.needs_secret() && found.access_key_secret.is_none() {
        return refuse("no AccessKey secret".into());
    }
    let region = found.region_id.clone().unwrap_or_else(|| DEFAULT_REGION.to_owned());
    Ok(ProfileDraft {
        record: ProfileRecord {
            kind: ProfileKind::AlibabaCloud,
            credential,
            connection: Profile::new(found.name.clone(), region),
            ca_certificate: None,
        },
        secret: found.access_key_secret.clone(),
        token: found.security_token.clone().filter(|_| found.mode == CredentialMode::StsToken),
    })
}

/// Secrets first (if the keychain refuses, nothing is written), then the record.
fn save_profile(storage: &ProfileStorage, draft: ProfileDraft) -> Result<Box<ProfileRecord>, Failure> {
    let name = draft.record.name().to_owned();
    let keychain = |e: crate::profiles::KeychainError| Failure::plain(format!("{e}"));
    if let Some(secret) = &draft.secret {
        storage.secrets.put(&name, SecretKind::AccessKeySecret, secret).map_err(keychain)?;
    }
    match &draft.token {
        Some(token) => storage.secrets.put(&name, SecretKind::SecurityToken, token).map_err(keychain)?,
        None => storage.secrets.delete(&name, SecretKind::SecurityToken).map_err(keychain)?,
    }
    // Without a keychain the profile is for this session only: a record on disk whose secret is
    // gone at exit would only fail later.
    if storage.secrets.persistent() {
        let mut file = ProfilesFile::load(&storage.path).map_err(|e| Failure::plain(e.to_string()))?;
        file.upsert(draft.record.clone());
        file.save(&storage.path).map_err(|e| Failure::plain(e.to_string()))?;
    }
    Ok(Box::new(draft.record))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_lists_ecs_and_ehpc_per_region_and_ens_once() {
        let sources = sources_for(&["cn-hangzhou".into(), "cn-beijing".into()]);
        assert_eq!(sources.len(), 5);
        assert_eq!(sources.iter().filter(|s| s.product == Product::Ens).count(), 1);
    }

    #[test]
    fn without_a_keychain_a_saved_profile_stays_in_memory_only() {
        let dir = std::env::temp_dir().join(format!("imagedesk-session-only-{}", std::process::id()));
        let path = dir.join("profiles.json");
        let secrets: Arc<dyn SecretStore> = Arc::new(crate::profiles::SessionStore::default());
        let storage = ProfileStorage::new(path.clone(), secrets.clone());
        let form = super::super::profile_form::ProfileForm {
            name: "temp".into(),
            access_key_id: "LTAI5tExampleExample0123".into(),
            access_key_secret: "abcdefghijABCDEFGHIJ0123456789".into(),
            ..Default::default()
        };
        let record = save_profile(&storage, form.draft(&[]).unwrap()).unwrap();
        assert_eq!(record.name(), "temp");
        assert!(!path.exists(), "nothing written to disk");
        let kept = secrets.get("temp", SecretKind::AccessKeySecret).unwrap().unwrap();
        assert_eq!(kept.expose(), "abcdefghijABCDEFGHIJ0123456789");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn with_a_keychain_the_record_is_written_and_the_secret_is_not() {
        let dir = std::env::temp_dir().join(format!("imagedesk-keychain-save-{}", std::process::id()));
        let path = dir.join("profiles.json");
        let keychain: Arc<dyn SecretStore> = Arc::new(crate::profiles::Keychain::mock().unwrap());
        let storage = ProfileStorage::new(path.clone(), keychain);
        let form = super::super::profile_form::ProfileForm {
            name: "kept".into(),
            access_key_id: "LTAI5tExampleExample0123".into(),
            access_key_secret: "abcdefghijABCDEFGHIJ0123456789".into(),
            ..Default::default()
        };
        save_profile(&storage, form.draft(&[]).unwrap()).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("LTAI5tExampleExample0123") && !text.contains("abcdefghijABCDEFGHIJ0123456789")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_dead_backend_answers_every_command_with_its_failure() {
        let failure = Failure::plain("no sandbox");
        let events = failure_events(&Command::Refresh { regions: vec!["cn-hangzhou".into()] }, &failure);
        assert_eq!(events.len(), 3);
        assert!(events.iter().all(|e| matches!(e, Event::Listing { result: Err(f), .. } if f == &failure)));
        assert!(failure_events(&Command::Watch(Vec::new()), &failure).is_empty());
    }
}
