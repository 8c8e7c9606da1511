//! Layer 3 — the sandbox: a local emulator of the image APIs (ECS, ENS, E-HPC Instant, Apsara
//! Stack styles) and of OSS, on loopback, that verifies every signature. The app starts it
//! in-process when no account is configured; `imagedesk-sandbox` runs it standalone.
//!
//! - [`server`]: HTTP, routing (RPC by `Version`+`Action` or Apsara path; OSS by `Host`),
//!   authentication, faults, error rendering;
//! - [`cloud`]: the RPC products' state machine (images, tasks, instances, snapshots);
//! - [`oss`]: buckets and objects on disk, multipart uploads, CRC-64 and ETags.

pub mod auth;
pub mod cloud;
mod connection;
pub mod oss;
pub mod server;

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::protocol::Product;
use crate::protocol::params::Params;
use crate::secret::Credential;

pub use server::{FaultCounts, PartReceipt, RunningSandbox, Sandbox};

/// The documented demo AccessKey the sandbox accepts when none is configured.
pub const DEMO_ACCESS_KEY_ID: &str = "LTAI5tImageDeskDemo";
pub const DEMO_ACCESS_KEY_SECRET: &str = "imagedesk-sandbox-demo-secret";

/// Fault injection, settable by flags and at run time through the admin endpoint.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Fraction (0..=1) of requests answered `Throttling` (HTTP 400).
    pub throttle_rate: f64,
    /// Fraction answered `ServiceUnavailable` (HTTP 503).
    pub unavailable_rate: f64,
    /// Fraction whose connection is dropped before the request is handled.
    pub drop_rate: f64,
    /// Fraction handled (the change is made) whose answer is then lost: the connection is cut
    /// instead. Repeating such a call must not make a second image (ClientToken) or fail.
    pub lose_answer_rate: f64,
    /// Added latency per request, milliseconds.
    pub latency_ms: u64,
    /// Complete the next N CompleteMultipartUpload requests but cut the connection instead of
    /// answering: the "lost answer" a client must recover from without re-uploading.
    pub lose_complete_answers: u32,
    /// Answer every successful RPC call with this kind of broken body (clients must say so clearly).
    pub malformed: Option<Malformed>,
}

/// Broken answers a client must survive, for tests of its error reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Malformed {
    /// The JSON stops halfway.
    TruncatedJson,
    /// Every number becomes a word and every string a list.
    WrongTypes,
    /// HTTP 200 whose body is an error document.
    ErrorIn200,
    /// A body far larger than any real answer (64 MiB of JSON whitespace then `{}`).
    HugeBody,
}

#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// 0 = any free port.
    pub port: u16,
    pub data_dir: PathBuf,
    /// AccessKey pairs (no token).
    pub access_keys: Vec<Credential>,
    /// STS credentials: id, secret, the token that must accompany them, and when it expires.
    pub sts_tokens: Vec<StsGrant>,
    /// Whether `AliyunECSImageImportDefaultRole` is authorised (else `NoSetRoletoECSServiceAcount`).
    pub import_role_authorized: bool,
    /// Simulated time runs this many times faster for imports, copies and tasks.
    pub time_scale: f64,
    pub faults: Faults,
    /// Seed the demo data set on an empty data dir.
    pub seed_demo: bool,
    /// With the demo data set, this many generated Available images in cn-hangzhou (for trying
    /// and measuring big listings).
    pub extra_images: usize,
    /// Allowed clock skew for request timestamps, seconds (15 minutes like the real gateway).
    pub max_skew_secs: i64,
    /// The server's clock runs this many seconds ahead of the machine's (a client with a wrong
    /// clock, seen from the other side): request times are checked against it and `Date` says it.
    pub clock_offset_secs: i64,
}

impl SandboxConfig {
    /// Demo key, demo data, real-time progress.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            port: 0,
            data_dir: data_dir.into(),
            access_keys: vec![Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)],
            sts_tokens: Vec::new(),
            import_role_authorized: true,
            time_scale: 1.0,
            faults: Faults::default(),
            seed_demo: true,
            extra_images: 0,
            max_skew_secs: 15 * 60,
            clock_offset_secs: 0,
        }
    }
}

/// Temporary credentials the sandbox accepts.
#[derive(Clone, Debug)]
pub struct StsGrant {
    /// Carries the token in `security_token`.
    pub credential: Credential,
    /// After this the token is refused as expired; `None` = never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// How an RPC call arrived (responses differ slightly: the route style answers `RequestID`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallStyle {
    Rpc,
    Asapi,
    ApsaraRoute,
}

/// One authenticated RPC call, as the cloud emulation sees it.
#[derive(Clone, Debug)]
pub struct RpcCall {
    pub product: Product,
    pub action: String,
    /// Every parameter (query and form merged), common ones included.
    pub params: Params,
    pub access_key_id: String,
    pub request_id: String,
    /// Real UTC time of the call; durations scale with `time_scale` inside the emulation.
    pub now: DateTime<Utc>,
    pub style: CallStyle,
}

/// What the cloud emulation may ask of OSS (ImportImage reads the object it imports).
pub trait OssView: Send + Sync {
    /// Region of a bucket (`cn-hangzhou`), if the bucket exists.
    fn bucket_region(&self, bucket: &str) -> Option<String>;
    /// Size in bytes of an object, if it exists.
    fn object_size(&self, bucket: &str, key: &str) -> Option<u64>;
    /// Up to `max` bytes from the start of an object (to tell a disk image from anything else).
    fn read_object_head(&self, bucket: &str, key: &str, max: usize) -> Option<Vec<u8>>;
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox data dir {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("sandbox state file {path} is corrupt: {reason}")]
    CorruptState { path: PathBuf, reason: String },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}

/// Where the sandbox keeps its state unless told otherwise (shared by the app, the CLI and
/// `imagedesk-sandbox`): `$XDG_DATA_HOME/imagedesk/sandbox`, else `~/.local/share/imagedesk/sandbox`.
pub fn default_data_dir() -> PathBuf {
    crate::paths::data_dir(crate::paths::env).join("sandbox")
}

/// Write a file atomically (temp file + rename), so a crash never leaves half a state file.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), SandboxError> {
    let io = |source| SandboxError::Io { path: path.to_owned(), source };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
