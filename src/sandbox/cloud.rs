//! The RPC products' emulation: ECS images and tasks (also reached through the Apsara route and
//! ASAPI styles), ENS images and the E-HPC Instant image registry, per account and region.
//!
//! Sources: spec apis.md §1–§3, errors.md §2–§5, seeds 000–004. Every request is checked with the
//! shared validation table first ([`validate::validate`]), so the sandbox refuses exactly what the
//! app's forms refuse, with the API's codes.
//!
//! Time is lazy: an import, copy or create job stores its start and end instants (real time scaled
//! by `time_scale` when the job starts); status and progress are derived whenever state is read,
//! and a finished job is folded into the stored state (so it stays finished after a reload).
//!
//! Demo seed (account [`DEMO_ACCESS_KEY_ID`]), stable IDs worth knowing:
//! - instances `i-demo0001`…`i-demo0006` (0001 runs `m-demo0001`; 0005/0006 are in cn-beijing);
//! - snapshots `s-demo0001`…`s-demo0006` (0004/0005 in cn-beijing; 0006 not ready yet);
//! - custom images `m-demo0001`…`m-demo0040` (0001–0030 cn-hangzhou, 0031–0040 cn-beijing):
//!   0001 in use by an instance, 0005 shared, 0006 IMDS v2 only, 0007 `中文镜像-centos`,
//!   0011 CreateFailed, 0013/0014/0034 importing (tasks `t-demo0001`…`t-demo0003`),
//!   0015 being created, 0032 being copied from 0005;
//! - shared `m-shared0001`…`0003`, community `m-community01`, marketplace `m-market0001`/`0002`,
//!   system images such as `centos_7_9_x64_20G_alibase_20240628.vhd` in both regions;
//! - ENS `m-ensdemo0001`…`0003`; E-HPC Instant `m-demo0003` (VM) and `m-ehpcdemo01` (Container).

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::protocol::catalog::{self, IMPORT_ROLE_NAME};
use crate::protocol::de::wire_eq;
use crate::protocol::error::{ApiError, Service};
use crate::protocol::params::Params;
use crate::protocol::validate::{self, Context, Operation};

use super::{DEMO_ACCESS_KEY_ID, OssView, RpcCall, SandboxError, write_atomically};

/// Behaviour switches of the emulation.
#[derive(Clone, Debug)]
pub struct CloudSettings {
    pub import_role_authorized: bool,
    pub time_scale: f64,
    pub seed_demo: bool,
    /// Generated Available custom images added to a new demo data set (big-listing benchmarks).
    pub extra_images: usize,
}

/// Images, tasks, instances and snapshots of every account and region, persisted in the data dir.
#[derive(Debug)]
pub struct Cloud {
    settings: CloudSettings,
    path: PathBuf,
    state: State,
    /// Set by a handler that changed `state`; the state file is rewritten before answering.
    dirty: bool,
}

const STATE_FILE: &str = "cloud.json";
const STATE_FORMAT: u32 = 1;

// Nominal durations at time_scale 1 (the brief: import ~120 s, copy ~90 s).
const IMPORT_SECS: f64 = 120.0;
const COPY_SECS: f64 = 90.0;
const CREATE_SECS: f64 = 60.0;
const ENS_IMPORT_SECS: f64 = 150.0;
/// A file that is not a disk image is noticed this far into the import (fraction of the nominal time).
const FAIL_AT: f64 = 0.3;
/// How much of an object is read to recognise its format (ISO 9660 needs 0x8001 + 5 bytes).
const SNIFF_BYTES: usize = 64 * 1024;
const GIB: u64 = 1 << 30;
/// Image-family limits (ModifyImageAttribute: `ImageQuotaFull.ImageFamily`, `ImageFamilyQuotaFull`).
const FAMILY_MAX_IMAGES: usize = 100;
const REGION_MAX_FAMILIES: usize = 100;

/// The other account that owns the shared and community demo images.
const PARTNER_ACCOUNT: &str = "LTAI5tPartnerAccount";
const PARTNER_UID: u64 = 1_300_000_000_000_001;

// ---------------------------------------------------------------------------------------------
// Persistent state
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct State {
    format: u32,
    /// Source of new IDs; only ever grows, so IDs are never reused.
    counter: u64,
    images: Vec<EcsImage>,
    tasks: Vec<EcsTask>,
    instances: Vec<Instance>,
    snapshots: Vec<Snapshot>,
    ens_images: Vec<EnsImage>,
    ehpc_images: Vec<EhpcImage>,
    tokens: Vec<TokenRecord>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum ImageKind {
    System,
    Marketplace,
    Custom,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct EcsImage {
    id: String,
    region: String,
    kind: ImageKind,
    /// AccessKey ID of the owning account (empty for system and marketplace images).
    owner: String,
    owner_uid: u64,
    name: String,
    description: String,
    family: String,
    version: String,
    /// Stored status; `Creating` while `job` runs.
    status: String,
    progress: u8,
    size: u64,
    created_ms: i64,
    os_type: String,
    platform: String,
    os_name: String,
    os_name_en: String,
    architecture: String,
    boot_mode: String,
    nvme: String,
    imds: String,
    license_type: String,
    product_code: String,
    resource_group_id: String,
    tags: Vec<(String, String)>,
    disks: Vec<Disk>,
    /// Accounts (AccessKey IDs) the image is shared with.
    shared_with: Vec<String>,
    /// Published as a community image.
    community: bool,
    copied_from: Option<String>,
    detection: bool,
    job: Option<Job>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Disk {
    snapshot_id: String,
    size: u64,
    device: String,
    role: String,
    format: String,
    oss_bucket: String,
    oss_object: String,
    encrypted: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum JobKind {
    Import,
    Copy,
    Create,
}

/// A running import/copy/create: progress is `elapsed / nominal`, the outcome lands at `end_ms`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Job {
    kind: JobKind,
    start_ms: i64,
    nominal_ms: i64,
    end_ms: i64,
    failure: Option<Failure>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Failure {
    code: String,
    message: String,
}

impl Job {
    fn new(kind: JobKind, start_ms: i64, nominal_ms: i64, failure: Option<Failure>) -> Self {
        let nominal_ms = nominal_ms.max(1);
        let end_ms = match failure {
            Some(_) => start_ms + ((nominal_ms as f64) * FAIL_AT) as i64,
            None => start_ms + nominal_ms,
        };
        Self { kind, start_ms, nominal_ms, end_ms, failure }
    }

    /// Whole percent done at `now`, below 100 until the job is folded into the state.
    fn percent(&self, now: i64) -> u8 {
        let elapsed = (now.min(self.end_ms) - self.start_ms).max(0) as f64;
        (elapsed * 100.0 / self.nominal_ms as f64).floor().clamp(0.0, 99.0) as u8
    }

    fn remaining_secs(&self, now: i64) -> u64 {
        ((self.end_ms - now).max(0) / 1000) as u64
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct EcsTask {
    id: String,
    owner: String,
    region: String,
    action: String,
    resource_id: String,
    created_ms: i64,
    /// `Processing` / `Finished` / `Failed`.
    status: String,
    finished_ms: Option<i64>,
    failure: Option<Failure>,
    /// `RelatedItem` name/value pairs (OSS source of an import).
    related: Vec<(String, String)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Instance {
    id: String,
    owner: String,
    region: String,
    name: String,
    image_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Snapshot {
    id: String,
    owner: String,
    region: String,
    size: u64,
    /// `system` / `data`.
    role: String,
    /// Image of the disk the snapshot was taken from (OS details for CreateImage).
    source_image: String,
    ready: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct EnsImage {
    id: String,
    /// Empty for public images.
    owner: String,
    name: String,
    architecture: String,
    os_type: String,
    platform: String,
    os_version: String,
    compute_type: String,
    size: u64,
    storage_size: u64,
    region: String,
    created_ms: i64,
    status: String,
    snapshot_id: String,
    job: Option<Job>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct EhpcImage {
    id: String,
    /// Empty for public images.
    owner: String,
    image_type: String,
    name: String,
    version: String,
    description: String,
    created_ms: i64,
    vm_image_id: String,
    container_spec: Value,
    os_tag: String,
    architecture: String,
    platform: String,
}

/// A creating call that carried a `ClientToken`, and what it answered.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct TokenRecord {
    owner: String,
    action: String,
    token: String,
    fingerprint: String,
    response: Value,
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// An API error on its way out; boxed because `ApiError` is large and most paths do not fail.
type Refusal = Box<ApiError>;
type Reply = Result<Value, Refusal>;

fn status_for(code: &str) -> u16 {
    catalog::lookup(code).and_then(|info| info.http_status.first().copied()).unwrap_or(400)
}

/// An API error with the catalogue's HTTP status for `code`.
fn err(code: &str, message: impl Into<String>) -> Refusal {
    Box::new(ApiError::new(Service::Pop, status_for(code), code, message))
}

fn err_with(status: u16, code: &str, message: impl Into<String>) -> Refusal {
    Box::new(ApiError::new(Service::Pop, status, code, message))
}

fn image_not_found() -> Refusal {
    err("InvalidImageId.NotFound", "The specified ImageId does not exist.")
}

/// A parameter, with empty values treated as absent (apis.md §1.4).
fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).filter(|v| !v.is_empty())
}

fn flag(params: &Params, name: &str) -> bool {
    param(params, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn number(params: &Params, name: &str) -> Option<u64> {
    param(params, name).and_then(|v| v.trim().parse().ok())
}

/// `(PageNumber, PageSize)`; the validation table has already bounded them.
fn paging(params: &Params, default_size: u64, max_size: u64) -> (u64, u64) {
    let number = number(params, "PageNumber").unwrap_or(1).max(1);
    let size = number_or(params, "PageSize", default_size).clamp(1, max_size);
    (number, size)
}

fn number_or(params: &Params, name: &str, default: u64) -> u64 {
    number(params, name).unwrap_or(default)
}

fn page_of<T: Clone>(items: &[T], number: u64, size: u64) -> Vec<T> {
    let start = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    items.iter().skip(start).take(usize::try_from(size).unwrap_or(usize::MAX)).cloned().collect()
}

fn fmt_time(ms: i64, with_seconds: bool) -> String {
    let time: DateTime<Utc> = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    time.format(if with_seconds { "%Y-%m-%dT%H:%M:%SZ" } else { "%Y-%m-%dT%H:%MZ" }).to_string()
}

/// `yyyy-MM-ddTHH:mmZ` or `yyyy-MM-ddTHH:mm:ssZ` as epoch milliseconds.
fn parse_time(text: &str) -> Option<i64> {
    ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ"]
        .iter()
        .find_map(|layout| NaiveDateTime::parse_from_str(text, layout).ok())
        .map(|t| t.and_utc().timestamp_millis())
}

/// `time_scale`, with nonsense (zero, negative, NaN) read as real time.
fn effective_scale(time_scale: f64) -> f64 {
    // Clamped so that durations stay far from i64 overflow whatever the flag said.
    if time_scale.is_finite() && time_scale > 0.0 { time_scale.clamp(1e-3, 1e6) } else { 1.0 }
}

fn percent_text(p: u8) -> String {
    format!("{p}%")
}

/// A stable 16-digit account UID for an AccessKey ID (`ImageOwnerId`).
fn account_uid(access_key_id: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in access_key_id.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    1_000_000_000_000_000 + hash % 9_000_000_000_000_000
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The region segment real IDs carry (`m-bp1…` in cn-hangzhou, `m-2ze…` in cn-beijing).
fn region_code(region: &str) -> &'static str {
    match region {
        "cn-hangzhou" => "bp1",
        "cn-beijing" => "2ze",
        "cn-shanghai" => "uf6",
        "cn-shenzhen" => "wz9",
        "cn-qingdao" => "m5e",
        "ap-southeast-1" => "t4n",
        _ => "0xi",
    }
}

const REGIONS: &[(&str, &str, &str)] = &[
    ("cn-qingdao", "华北1（青岛）", "China (Qingdao)"),
    ("cn-beijing", "华北2（北京）", "China (Beijing)"),
    ("cn-zhangjiakou", "华北3（张家口）", "China (Zhangjiakou)"),
    ("cn-huhehaote", "华北5（呼和浩特）", "China (Hohhot)"),
    ("cn-wulanchabu", "华北6（乌兰察布）", "China (Ulanqab)"),
    ("cn-hangzhou", "华东1（杭州）", "China (Hangzhou)"),
    ("cn-shanghai", "华东2（上海）", "China (Shanghai)"),
    ("cn-shenzhen", "华南1（深圳）", "China (Shenzhen)"),
    ("cn-heyuan", "华南2（河源）", "China (Heyuan)"),
    ("cn-guangzhou", "华南3（广州）", "China (Guangzhou)"),
    ("cn-chengdu", "西南1（成都）", "China (Chengdu)"),
    ("cn-hongkong", "中国香港", "China (Hong Kong)"),
    ("ap-northeast-1", "日本（东京）", "Japan (Tokyo)"),
    ("ap-northeast-2", "韩国（首尔）", "South Korea (Seoul)"),
    ("ap-southeast-1", "新加坡", "Singapore"),
    ("ap-southeast-3", "马来西亚（吉隆坡）", "Malaysia (Kuala Lumpur)"),
    ("ap-southeast-5", "印度尼西亚（雅加达）", "Indonesia (Jakarta)"),
    ("ap-southeast-7", "泰国（曼谷）", "Thailand (Bangkok)"),
    ("us-east-1", "美国（弗吉尼亚）", "US (Virginia)"),
    ("us-west-1", "美国（硅谷）", "US (Silicon Valley)"),
    ("eu-central-1", "德国（法兰克福）", "Germany (Frankfurt)"),
    ("eu-west-1", "英国（伦敦）", "UK (London)"),
    ("me-east-1", "阿联酋（迪拜）", "UAE (Dubai)"),
];

fn known_region(region: &str) -> bool {
    REGIONS.iter().any(|(id, _, _)| *id == region)
}

/// What an image file is, from its first bytes: `Ok(format)` for a disk image, else why not.
fn sniff(head: &[u8]) -> Result<&'static str, String> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"QFI\xfb") {
        return Ok("QCOW2");
    }
    if at(0, b"conectix") {
        return Ok("VHD");
    }
    if at(0, b"KDMV") || at(0, b"# Disk DescriptorFile") {
        return Ok("VMDK");
    }
    // Checked before the MBR test: hybrid ISOs carry an MBR signature too.
    if at(0x8001, b"CD001") {
        return Err("The file is an ISO 9660 optical-disc image (installation media), not a disk \
            image. Install the operating system on a virtual disk and upload that disk as RAW, \
            VHD, QCOW2 or VMDK."
            .into());
    }
    if at(510, &[0x55, 0xAA]) || at(512, b"EFI PART") {
        return Ok("RAW");
    }
    Err("The file is not a recognised disk image: no QCOW2, VHD or VMDK header and no MBR or GPT \
        partition table. Upload a RAW, VHD, QCOW2 or VMDK disk image."
        .into())
}

fn failure(code: &str, message: impl Into<String>) -> Failure {
    Failure { code: code.into(), message: message.into() }
}

/// Chinese and English OS names in the style of DescribeImages (`CentOS  7.9 64位`).
fn os_names(platform: &str, architecture: &str) -> (String, String) {
    let bits = if architecture == "i386" { "32" } else { "64" };
    (format!("{platform} {bits}位"), format!("{platform} {bits} bit"))
}

fn os_type_of(platform: &str) -> &'static str {
    if platform.starts_with("Windows") { "windows" } else { "linux" }
}

/// `Tag.N.Key/Value` (and the deprecated lowercase spelling) as pairs.
fn request_tags(params: &Params) -> Vec<(String, String)> {
    params
        .list_indices("Tag")
        .into_iter()
        .filter_map(|n| {
            let key = param(params, &format!("Tag.{n}.Key")).or(param(params, &format!("Tag.{n}.key")))?;
            let value = params
                .get(&format!("Tag.{n}.Value"))
                .or(params.get(&format!("Tag.{n}.value")))
                .unwrap_or_default();
            Some((key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Request parameters that identify a creating call, minus signing/transport ones, in a stable order.
fn fingerprint(params: &Params) -> String {
    const COMMON: &[&str] = &[
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "Format",
        "SecurityToken",
        "Version",
        "Action",
    ];
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| !COMMON.contains(k) && !k.to_ascii_lowercase().starts_with("x-acs-"))
        .collect();
    pairs.sort_unstable();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n")
}

// ---------------------------------------------------------------------------------------------
// Cloud
// ---------------------------------------------------------------------------------------------

/// `count` Available custom images of the demo account in cn-hangzhou, copies of its first one with
/// their own IDs, names and creation times.
fn add_generated_images(state: &mut State, count: usize) {
    let template = state.images.iter().find(|i| {
        i.owner == super::DEMO_ACCESS_KEY_ID
            && i.kind == ImageKind::Custom
            && i.region == "cn-hangzhou"
            && i.job.is_none()
            && i.status == "Available"
    });
    let Some(template) = template.cloned() else { return };
    for n in 0..count {
        let mut image = template.clone();
        image.id = format!("m-gen{n:07}");
        image.name = format!("generated-{n:07}");
        image.family = String::new();
        image.shared_with = Vec::new();
        image.community = false;
        image.created_ms = template.created_ms - 60_000 * (n as i64 + 1);
        state.images.push(image);
    }
}

impl Cloud {
    /// Load `cloud.json` from the data dir, or create it (seeded with demo data if asked).
    pub fn open(data_dir: &Path, settings: CloudSettings) -> Result<Self, SandboxError> {
        let path = data_dir.join(STATE_FILE);
        let io = |source| SandboxError::Io { path: path.clone(), source };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let state: State = serde_json::from_slice(&bytes)
                    .map_err(|e| SandboxError::CorruptState { path: path.clone(), reason: e.to_string() })?;
                if state.format != STATE_FORMAT {
                    return Err(SandboxError::CorruptState {
                        path,
                        reason: format!("unknown state format {} (expected {STATE_FORMAT})", state.format),
                    });
                }
                Ok(Self { settings, path, state, dirty: false })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(io)?;
                let state = if settings.seed_demo {
                    let mut state =
                        demo_seed(Utc::now().timestamp_millis(), effective_scale(settings.time_scale));
                    add_generated_images(&mut state, settings.extra_images);
                    state
                } else {
                    State { format: STATE_FORMAT, ..State::default() }
                };
                let cloud = Self { settings, path, state, dirty: false };
                cloud.save()?;
                Ok(cloud)
            }
            Err(e) => Err(io(e)),
        }
    }

    pub fn settings_mut(&mut self) -> &mut CloudSettings {
        &mut self.settings
    }

    fn save(&self) -> Result<(), SandboxError> {
        let bytes = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| SandboxError::CorruptState { path: self.path.clone(), reason: e.to_string() })?;
        write_atomically(&self.path, &bytes)
    }

    /// Answer one authenticated call: the response body (without `RequestId`, which the server
    /// adds) or the API error to send.
    // The signature is the interface the HTTP server calls; internally errors travel boxed.
    #[allow(clippy::result_large_err)]
    pub fn handle(&mut self, call: &RpcCall, oss: &dyn OssView) -> Result<serde_json::Value, ApiError> {
        self.answer(call, oss).map_err(|e| *e)
    }

    fn answer(&mut self, call: &RpcCall, oss: &dyn OssView) -> Reply {
        let Some(op) = Operation::from_action(call.product.version(), &call.action) else {
            return Err(err_with(
                404,
                "InvalidAction.NotFound",
                format!("Specified api {} is not found, please check your url and method.", call.action),
            ));
        };
        let now = call.now.timestamp_millis();
        // Jobs that ended are folded in (and saved) even when the call itself is refused.
        self.dirty = self.state.settle(now);
        let ctx = self.context(op, call);
        let result = match validate::validate(op, &call.params, &ctx).into_iter().next() {
            Some(first) => Err(err(first.code, first.en)),
            None => self.dispatch(op, call, oss, now),
        };
        if self.dirty {
            self.dirty = false;
            if let Err(e) = self.save() {
                tracing::error!("sandbox state not saved: {e}");
                return Err(err_with(
                    500,
                    "InternalError",
                    "The request processing has failed due to some unknown error, exception or failure.",
                ));
            }
        }
        result
    }

    /// State facts the validation table needs (the image being modified).
    fn context(&self, op: Operation, call: &RpcCall) -> Context {
        if op != Operation::EcsModifyImageAttribute {
            return Context::default();
        }
        match self.own_image(call, param(&call.params, "ImageId").unwrap_or_default()) {
            Some(i) => {
                let image = &self.state.images[i];
                Context {
                    current_imds_support: Some(image.imds.clone()),
                    image_is_shared: Some(!image.shared_with.is_empty() || image.community),
                    current_architecture: Some(image.architecture.clone()),
                }
            }
            None => Context::default(),
        }
    }

    fn dispatch(&mut self, op: Operation, call: &RpcCall, oss: &dyn OssView, now: i64) -> Reply {
        use Operation::*;
        match op {
            EcsDescribeImages => self.describe_images(call, now),
            EcsImportImage => self.import_image(call, oss, now),
            EcsCreateImage => self.create_image(call, now),
            EcsModifyImageAttribute => self.modify_image(call),
            EcsDeleteImage => self.delete_image(call),
            EcsCopyImage => self.copy_image(call, now),
            EcsCancelCopyImage => self.cancel_copy(call),
            EcsDescribeTasks => self.describe_tasks(call),
            EcsDescribeTaskAttribute => self.describe_task(call, now),
            EcsCancelTask => self.cancel_task(call, now),
            EcsDescribeRegions => Ok(describe_regions(&call.params)),
            EhpcAddImage => self.ehpc_add(call, now),
            EhpcListImages => self.ehpc_list(call),
            EhpcGetImage => self.ehpc_get(call),
            EhpcRemoveImage => self.ehpc_remove(call),
            EnsImportImage => self.ens_import(call, oss, now),
            EnsDescribeImages => self.ens_describe(call, now, false),
            EnsDescribeSelfImages => self.ens_describe(call, now, true),
            EnsDeleteImage => self.ens_delete(call),
        }
    }

    // -- shared pieces -------------------------------------------------------------------------

    fn region(call: &RpcCall) -> &str {
        param(&call.params, "RegionId").unwrap_or_default()
    }

    /// Index of a custom image the caller owns in the call's region.
    fn own_image(&self, call: &RpcCall, id: &str) -> Option<usize> {
        let region = Self::region(call);
        self.state.images.iter().position(|i| {
            i.id == id && i.region == region && i.kind == ImageKind::Custom && i.owner == call.access_key_id
        })
    }

    fn new_id(&mut self, prefix: &str, region: &str) -> String {
        self.state.counter += 1;
        let mut value = mix(self.state.counter ^ 0x1d_a9e5_d35c);
        let mut tail = String::new();
        for _ in 0..13 {
            let digit = (value % 36) as u32;
            tail.push(char::from_digit(digit, 36).unwrap_or('0'));
            value /= 36;
        }
        format!("{prefix}-{}{tail}", region_code(region))
    }

    /// Real milliseconds a job of `base_secs` nominal seconds takes at the current time scale.
    fn scaled(&self, base_secs: f64) -> i64 {
        ((base_secs * 1000.0 / effective_scale(self.settings.time_scale)) as i64).max(1)
    }

    /// `Ok(Some(answer))` when this `ClientToken` already answered these same parameters.
    fn replay(&self, call: &RpcCall) -> Result<Option<Value>, Refusal> {
        let Some(token) = param(&call.params, "ClientToken") else {
            return Ok(None);
        };
        let Some(record) = self
            .state
            .tokens
            .iter()
            .find(|t| t.owner == call.access_key_id && t.action == call.action && t.token == token)
        else {
            return Ok(None);
        };
        if record.fingerprint == fingerprint(&call.params) {
            Ok(Some(record.response.clone()))
        } else {
            Err(err(
                "IdempotentParameterMismatch",
                "Request uses a client token in a previous request but is not identical to that request.",
            ))
        }
    }

    fn remember(&mut self, call: &RpcCall, response: &Value) {
        if let Some(token) = param(&call.params, "ClientToken") {
            self.state.tokens.push(TokenRecord {
                owner: call.access_key_id.clone(),
                action: call.action.clone(),
                token: token.to_owned(),
                fingerprint: fingerprint(&call.params),
                response: response.clone(),
            });
        }
    }

    fn dry_run(call: &RpcCall) -> Result<(), Refusal> {
        if flag(&call.params, "DryRun") {
            Err(err("DryRunOperation", "Request validation has been passed with DryRun flag set."))
        } else {
            Ok(())
        }
    }

    fn name_taken(&self, owner: &str, region: &str, name: &str, except: Option<&str>) -> bool {
        self.state.images.iter().any(|i| {
            i.kind == ImageKind::Custom
                && i.owner == owner
                && i.region == region
                && i.name == name
                && Some(i.id.as_str()) != except
        })
    }

    fn in_use(&self, image: &EcsImage) -> bool {
        self.state.instances.iter().any(|vm| vm.image_id == image.id && vm.region == image.region)
    }

    // -- ECS: DescribeImages ---------------------------------------------------------------------

    fn describe_images(&self, call: &RpcCall, now: i64) -> Reply {
        Self::dry_run(call)?;
        let p = &call.params;
        let caller = call.access_key_id.as_str();
        let region = Self::region(call);
        let statuses: Vec<&str> = match param(p, "Status") {
            Some(list) => list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect(),
            None => vec!["Available"],
        };
        let ids: Option<Vec<&str>> = param(p, "ImageId").map(|v| v.split(',').map(str::trim).collect());
        let alias = param(p, "ImageOwnerAlias");
        let is_public = flag(p, "IsPublic");
        let tags = request_tags(p);
        let mut window = (i64::MIN, i64::MAX);
        for n in p.list_indices("Filter") {
            let key = param(p, &format!("Filter.{n}.Key"));
            let value = param(p, &format!("Filter.{n}.Value")).and_then(parse_time);
            match (key, value) {
                (Some("CreationStartTime"), Some(t)) => window.0 = t,
                (Some("CreationEndTime"), Some(t)) => window.1 = t,
                _ => {}
            }
        }
        // Parameters read once, not once per image (listings of thousands page through this).
        let name = param(p, "ImageName").map(str::to_lowercase);
        let family = param(p, "ImageFamily");
        let owner_uid = number(p, "ImageOwnerId");
        let os_type = param(p, "OSType");
        let architecture = param(p, "Architecture");
        let usage = param(p, "Usage");
        let snapshot = param(p, "SnapshotId");
        let group = param(p, "ResourceGroupId");
        let mut found: Vec<&EcsImage> = self
            .state
            .images
            .iter()
            .filter(|i| i.region == region)
            .filter(|i| match i.kind {
                ImageKind::System | ImageKind::Marketplace => true,
                ImageKind::Custom => {
                    i.owner == caller || i.shared_with.iter().any(|a| a == caller) || i.community
                }
            })
            .filter(|i| match alias {
                Some("system") => i.kind == ImageKind::System,
                Some("marketplace") => i.kind == ImageKind::Marketplace,
                Some("self") => i.kind == ImageKind::Custom && i.owner == caller,
                Some("others") if is_public => i.kind == ImageKind::Custom && i.community,
                Some("others") => {
                    i.kind == ImageKind::Custom
                        && i.owner != caller
                        && i.shared_with.iter().any(|a| a == caller)
                }
                _ => true,
            })
            .filter(|i| {
                let status = if i.job.is_some() { "Creating" } else { i.status.as_str() };
                statuses.iter().any(|s| wire_eq(s, status))
            })
            .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id.as_str())))
            .filter(|i| name.as_ref().is_none_or(|n| i.name.to_lowercase().contains(n)))
            .filter(|i| family.is_none_or(|f| i.family == f))
            .filter(|i| owner_uid.is_none_or(|uid| i.owner_uid == uid))
            .filter(|i| os_type.is_none_or(|t| i.os_type.eq_ignore_ascii_case(t)))
            .filter(|i| architecture.is_none_or(|a| i.architecture == a))
            .filter(|i| match usage {
                Some("instance") => self.in_use(i),
                Some("none") => !self.in_use(i),
                _ => true,
            })
            .filter(|i| snapshot.is_none_or(|s| i.disks.iter().any(|d| d.snapshot_id == s)))
            .filter(|i| group.is_none_or(|g| i.resource_group_id == g))
            .filter(|i| {
                tags.iter().all(|(k, v)| i.tags.iter().any(|(ik, iv)| ik == k && (v.is_empty() || iv == v)))
            })
            .filter(|i| i.created_ms >= window.0 && i.created_ms <= window.1)
            .collect();
        found.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then_with(|| a.id.cmp(&b.id)));
        let (number, size) = paging(p, 10, 100);
        let images: Vec<Value> =
            page_of(&found, number, size).into_iter().map(|i| self.image_json(i, caller, now)).collect();
        Ok(json!({
            "RegionId": region,
            "TotalCount": found.len(),
            "PageNumber": number,
            "PageSize": size,
            "Images": { "Image": images },
        }))
    }

    /// Status as callers see it (`Creating` while a job runs).
    fn image_status(&self, image: &EcsImage) -> String {
        if image.job.is_some() { "Creating".to_owned() } else { image.status.clone() }
    }

    fn image_json(&self, i: &EcsImage, caller: &str, now: i64) -> Value {
        let progress = i.job.as_ref().map_or(i.progress, |j| j.percent(now));
        let alias = match i.kind {
            ImageKind::System => "system",
            ImageKind::Marketplace => "marketplace",
            ImageKind::Custom if i.owner == caller => "self",
            ImageKind::Custom => "others",
        };
        let disks: Vec<Value> = i
            .disks
            .iter()
            .map(|d| {
                let copying = i.job.as_ref().filter(|j| j.kind == JobKind::Copy);
                json!({
                    "SnapshotId": d.snapshot_id,
                    "Size": d.size.to_string(),
                    "Device": d.device,
                    "Type": d.role,
                    "Format": d.format,
                    "ImportOSSBucket": d.oss_bucket,
                    "ImportOSSObject": d.oss_object,
                    "Progress": copying.map_or_else(|| "100%".to_owned(), |j| percent_text(j.percent(now))),
                    "RemainTime": copying.map_or(0, |j| j.remaining_secs(now)),
                    "Encrypted": d.encrypted,
                })
            })
            .collect();
        let tags: Vec<Value> = i.tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect();
        let detection = if i.detection {
            json!({"Status": if i.job.is_some() { "Processing" } else { "Finished" }, "Items": {"Item": []}})
        } else {
            json!({})
        };
        json!({
            "ImageId": i.id,
            "ImageName": i.name,
            "Description": i.description,
            "ImageFamily": i.family,
            "ImageVersion": i.version,
            "Status": self.image_status(i),
            "Progress": percent_text(progress),
            "Size": i.size,
            "CreationTime": fmt_time(i.created_ms, true),
            "ImageOwnerAlias": alias,
            "ImageOwnerId": i.owner_uid,
            "OSType": i.os_type,
            "OSName": i.os_name,
            "OSNameEn": i.os_name_en,
            "Platform": i.platform,
            "Architecture": i.architecture,
            "BootMode": i.boot_mode,
            "IsSupportIoOptimized": true,
            "IsSupportCloudinit": i.os_type == "linux",
            "IsCopied": i.copied_from.is_some(),
            "IsPublic": i.kind != ImageKind::Custom || i.community,
            "IsSubscribed": false,
            "IsSelfShared": if i.owner == caller && !i.shared_with.is_empty() { "True" } else { "False" },
            "LoginAsNonRootSupported": i.os_type == "linux" && i.kind == ImageKind::System,
            "Usage": if self.in_use(i) { "instance" } else { "none" },
            "ProductCode": i.product_code,
            "SupplierName": if i.kind == ImageKind::Marketplace { "ImageDesk Demo Supplier" } else { "" },
            "ResourceGroupId": i.resource_group_id,
            "LicenseType": i.license_type,
            "DiskDeviceMappings": { "DiskDeviceMapping": disks },
            "Features": {
                "NvmeSupport": i.nvme,
                "ImdsSupport": i.imds,
                "CpuOnlineUpgrade": "unsupported",
                "CpuOnlineDowngrade": "unsupported",
                "MemoryOnlineUpgrade": "unsupported",
                "MemoryOnlineDowngrade": "unsupported",
            },
            "DetectionOptions": detection,
            "Tags": { "Tag": tags },
        })
    }

    // -- ECS: ImportImage ------------------------------------------------------------------------

    fn import_image(&mut self, call: &RpcCall, oss: &dyn OssView, now: i64) -> Reply {
        if let Some(answer) = self.replay(call)? {
            return Ok(answer);
        }
        let p = &call.params;
        let region = Self::region(call).to_owned();
        if !self.settings.import_role_authorized {
            return Err(err(
                "NoSetRoletoECSServiceAcount",
                "ECS service account Have no right to access your OSS.please attach a role of access your \
                oss to ECS service account.",
            ));
        }
        let role = param(p, "RoleName").unwrap_or(IMPORT_ROLE_NAME);
        let mut disks = Vec::new();
        let mut outcome: Option<Failure> = None;
        let mut related = vec![("RoleName".to_owned(), role.to_owned())];
        for n in p.list_indices("DiskDeviceMapping") {
            let bucket = param(p, &format!("DiskDeviceMapping.{n}.OSSBucket")).unwrap_or_default();
            let object = param(p, &format!("DiskDeviceMapping.{n}.OSSObject")).unwrap_or_default();
            let Some(bucket_region) = oss.bucket_region(bucket) else {
                return Err(err(
                    "InvalidOSSBucket.NotFound",
                    format!("The specified OSS bucket {bucket} does not exist."),
                ));
            };
            if bucket_region != region {
                return Err(err(
                    "InvalidOSSBucket.NotMatched",
                    format!(
                        "The specified OSS bucket {bucket} is in {bucket_region}, not in the image's region \
                        {region}; the image file must be in an OSS bucket of the same region."
                    ),
                ));
            }
            let Some(object_size) = oss.object_size(bucket, object) else {
                return Err(err(
                    "InvalidOSSObject.NotFound",
                    format!("The specified OSS object {object} does not exist in bucket {bucket}."),
                ));
            };
            let file_gib = object_size.div_ceil(GIB);
            let asked = number(p, &format!("DiskDeviceMapping.{n}.DiskImageSize"))
                .or(number(p, &format!("DiskDeviceMapping.{n}.DiskImSize")));
            if let Some(asked) = asked
                && asked < file_gib
            {
                let code = if n == 1 { "InvalidImageSize" } else { "InvalidDataDiskSize" };
                return Err(err(
                    code,
                    format!(
                        "The specified \"DiskDeviceMapping.{n}.DiskImageSize\" ({asked} GiB) should be not less \
                        than the image file size ({file_gib} GiB)."
                    ),
                ));
            }
            let declared = param(p, &format!("DiskDeviceMapping.{n}.Format")).map(str::to_ascii_uppercase);
            let head = oss.read_object_head(bucket, object, SNIFF_BYTES).unwrap_or_default();
            let format = match sniff(&head) {
                Ok(found) => {
                    if let Some(declared) = declared.as_deref().filter(|d| *d != found)
                        && outcome.is_none()
                    {
                        outcome = Some(failure(
                            "ImportImageFailed",
                            format!(
                                "DiskDeviceMapping.{n}.Format is {declared} but oss://{bucket}/{object} is a \
                                {found} image. Leave Format empty to detect it, or give the right format."
                            ),
                        ));
                    }
                    found.to_owned()
                }
                Err(reason) => {
                    if outcome.is_none() {
                        outcome =
                            Some(failure("ImportImageFailed", format!("oss://{bucket}/{object}: {reason}")));
                    }
                    declared.unwrap_or_else(|| "RAW".to_owned())
                }
            };
            let floor = if n == 1 { 20 } else { 5 };
            related.push((format!("DiskDeviceMapping.{n}.OSSBucket"), bucket.to_owned()));
            related.push((format!("DiskDeviceMapping.{n}.OSSObject"), object.to_owned()));
            disks.push(Disk {
                snapshot_id: String::new(),
                size: asked.unwrap_or(file_gib.max(floor)),
                device: format!("/dev/xvd{}", char::from(b'a' + u8::try_from(n - 1).unwrap_or(0).min(25))),
                role: if n == 1 { "system" } else { "data" }.to_owned(),
                format,
                oss_bucket: bucket.to_owned(),
                oss_object: object.to_owned(),
                encrypted: false,
            });
        }
        let name = param(p, "ImageName").map(str::to_owned);
        if let Some(name) = &name
            && self.name_taken(&call.access_key_id, &region, name, None)
        {
            return Err(err(
                "InvalidImageName.Duplicated",
                "The specified Image name has already bean used.",
            ));
        }
        Self::dry_run(call)?;

        let image_id = self.new_id("m", &region);
        let task_id = self.new_id("t", &region);
        let platform = param(p, "Platform").unwrap_or("Others Linux").to_owned();
        let architecture = param(p, "Architecture").unwrap_or("x86_64").to_owned();
        let (os_name, os_name_en) = os_names(&platform, &architecture);
        let job = Job::new(JobKind::Import, now, self.scaled(IMPORT_SECS), outcome);
        self.state.images.push(EcsImage {
            id: image_id.clone(),
            region: region.clone(),
            kind: ImageKind::Custom,
            owner: call.access_key_id.clone(),
            owner_uid: account_uid(&call.access_key_id),
            name: name.unwrap_or_else(|| format!("import-{image_id}")),
            description: param(p, "Description").unwrap_or_default().to_owned(),
            family: String::new(),
            version: String::new(),
            status: "Creating".into(),
            progress: 0,
            size: disks.first().map_or(20, |d| d.size),
            created_ms: now,
            os_type: param(p, "OSType").unwrap_or("linux").to_ascii_lowercase(),
            platform,
            os_name,
            os_name_en,
            architecture,
            boot_mode: param(p, "BootMode").unwrap_or("BIOS").to_owned(),
            nvme: param(p, "Features.NvmeSupport").unwrap_or("unsupported").to_owned(),
            imds: param(p, "Features.ImdsSupport").unwrap_or("v1").to_owned(),
            license_type: param(p, "LicenseType").unwrap_or("Auto").to_owned(),
            product_code: String::new(),
            resource_group_id: param(p, "ResourceGroupId").unwrap_or_default().to_owned(),
            tags: request_tags(p),
            disks,
            shared_with: Vec::new(),
            community: false,
            copied_from: None,
            detection: param(p, "DetectionStrategy").is_some(),
            job: Some(job),
        });
        self.state.tasks.push(EcsTask {
            id: task_id.clone(),
            owner: call.access_key_id.clone(),
            region: region.clone(),
            action: "ImportImage".into(),
            resource_id: image_id.clone(),
            created_ms: now,
            status: "Processing".into(),
            finished_ms: None,
            failure: None,
            related,
        });
        let answer = json!({"RegionId": region, "ImageId": image_id, "TaskId": task_id});
        self.remember(call, &answer);
        self.dirty = true;
        Ok(answer)
    }

    // -- ECS: CreateImage ------------------------------------------------------------------------

    fn create_image(&mut self, call: &RpcCall, now: i64) -> Reply {
        if let Some(answer) = self.replay(call)? {
            return Ok(answer);
        }
        let p = &call.params;
        let region = Self::region(call).to_owned();
        let caller = call.access_key_id.as_str();
        let mut disks: Vec<Disk> = Vec::new();
        let mut source_image: Option<String> = None;
        if let Some(instance_id) = param(p, "InstanceId") {
            let Some(vm) = self
                .state
                .instances
                .iter()
                .find(|v| v.id == instance_id && v.region == region && v.owner == caller)
            else {
                return Err(err("InvalidInstanceId.NotFound", "The specified InstanceId does not exist."));
            };
            source_image = Some(vm.image_id.clone());
            let size = self.state.images.iter().find(|i| i.id == vm.image_id).map_or(40, |i| i.size);
            disks.push(Disk {
                snapshot_id: String::new(),
                size,
                device: "/dev/xvda".into(),
                role: "system".into(),
                format: String::new(),
                oss_bucket: String::new(),
                oss_object: String::new(),
                encrypted: false,
            });
        }
        let mut snapshot_ids: Vec<(String, Option<String>)> = Vec::new();
        if let Some(id) = param(p, "SnapshotId") {
            snapshot_ids.push((id.to_owned(), Some("system".to_owned())));
        }
        for n in p.list_indices("DiskDeviceMapping") {
            if let Some(id) = param(p, &format!("DiskDeviceMapping.{n}.SnapshotId")) {
                let role = param(p, &format!("DiskDeviceMapping.{n}.DiskType")).map(str::to_owned);
                snapshot_ids.push((id.to_owned(), role));
            }
        }
        for (id, role) in snapshot_ids {
            let Some(snap) =
                self.state.snapshots.iter().find(|s| s.id == id && s.region == region && s.owner == caller)
            else {
                return Err(err(
                    "InvalidSnapshotId.NotFound",
                    format!("The specified snapshot {id} does not exist."),
                ));
            };
            if !snap.ready {
                return Err(err(
                    "InvalidSnapshotId.NotReady",
                    format!("The specified snapshot {id} is not ready."),
                ));
            }
            let role = role.unwrap_or_else(|| snap.role.clone());
            if role == "system" && source_image.is_none() {
                source_image = Some(snap.source_image.clone());
            }
            let index = disks.len();
            disks.push(Disk {
                snapshot_id: snap.id.clone(),
                size: snap.size,
                device: format!("/dev/xvd{}", char::from(b'a' + u8::try_from(index).unwrap_or(0).min(25))),
                role,
                format: String::new(),
                oss_bucket: String::new(),
                oss_object: String::new(),
                encrypted: false,
            });
        }
        if disks.is_empty() {
            // DiskDeviceMapping entries without snapshots describe blank disks only.
            return Err(err(
                "MissingParameter",
                "The input parameter \"InstanceId\" or \"SnapshotId\" that is mandatory for processing this \
                request is not supplied.",
            ));
        }
        let name = param(p, "ImageName").map(str::to_owned);
        if let Some(name) = &name
            && self.name_taken(caller, &region, name, None)
        {
            return Err(err(
                "InvalidImageName.Duplicated",
                "The specified Image name has already bean used.",
            ));
        }
        Self::dry_run(call)?;

        let source = source_image.and_then(|id| self.state.images.iter().find(|i| i.id == id).cloned());
        let image_id = self.new_id("m", &region);
        let platform = param(p, "Platform")
            .map(str::to_owned)
            .or(source.as_ref().map(|s| s.platform.clone()))
            .unwrap_or_else(|| "Others Linux".to_owned());
        let architecture = param(p, "Architecture")
            .map(str::to_owned)
            .or(source.as_ref().map(|s| s.architecture.clone()))
            .unwrap_or_else(|| "x86_64".to_owned());
        let (os_name, os_name_en) = os_names(&platform, &architecture);
        let job = Job::new(JobKind::Create, now, self.scaled(CREATE_SECS), None);
        self.state.images.push(EcsImage {
            id: image_id.clone(),
            region,
            kind: ImageKind::Custom,
            owner: caller.to_owned(),
            owner_uid: account_uid(caller),
            name: name.unwrap_or_else(|| format!("image-{image_id}")),
            description: param(p, "Description").unwrap_or_default().to_owned(),
            family: param(p, "ImageFamily").unwrap_or_default().to_owned(),
            version: param(p, "ImageVersion").unwrap_or_default().to_owned(),
            status: "Creating".into(),
            progress: 0,
            size: disks.iter().find(|d| d.role == "system").map_or(disks[0].size, |d| d.size),
            created_ms: now,
            os_type: os_type_of(&platform).to_owned(),
            platform,
            os_name,
            os_name_en,
            architecture,
            boot_mode: param(p, "BootMode").unwrap_or("UEFI-Preferred").to_owned(),
            nvme: source.as_ref().map_or_else(|| "unsupported".to_owned(), |s| s.nvme.clone()),
            imds: param(p, "Features.ImdsSupport")
                .map(str::to_owned)
                .or(source.as_ref().map(|s| s.imds.clone()))
                .unwrap_or_else(|| "v1".to_owned()),
            license_type: "Auto".into(),
            product_code: String::new(),
            resource_group_id: param(p, "ResourceGroupId").unwrap_or_default().to_owned(),
            tags: request_tags(p),
            disks,
            shared_with: Vec::new(),
            community: false,
            copied_from: None,
            detection: param(p, "DetectionStrategy").is_some(),
            job: Some(job),
        });
        let answer = json!({"ImageId": image_id});
        self.remember(call, &answer);
        self.dirty = true;
        Ok(answer)
    }

    // -- ECS: ModifyImageAttribute ---------------------------------------------------------------

    fn modify_image(&mut self, call: &RpcCall) -> Reply {
        let p = &call.params;
        let region = Self::region(call).to_owned();
        let id = param(p, "ImageId").unwrap_or_default();
        let Some(index) = self.own_image(call, id) else {
            let foreign_community = self.state.images.iter().any(|i| i.id == id && i.community);
            return Err(if foreign_community {
                err(
                    "InvalidOperation.PublicImageUnsupported",
                    "The community image's publisher is not the current account. Modification is not permitted.",
                )
            } else {
                image_not_found()
            });
        };
        let image = &self.state.images[index];
        if image.job.is_some() {
            return Err(err(
                "InvalidStatus.ImageIsCreating",
                "The operation cannot be performed because the image is creating. Please wait until the \
                creation is complete and try again.",
            ));
        }
        if let Some(name) = param(p, "ImageName")
            && self.name_taken(&call.access_key_id, &region, name, Some(id))
        {
            return Err(err(
                "InvalidImageName.Duplicated",
                "The specified Image name has already bean used.",
            ));
        }
        match param(p, "Status") {
            Some("Deprecated") if !matches!(image.status.as_str(), "Available" | "Deprecated") => {
                return Err(err("ImageStatus.NotAvailable", "The specified image status is not available."));
            }
            Some("Available") if !matches!(image.status.as_str(), "Available" | "Deprecated") => {
                return Err(err(
                    "ImageStatus.NotDeprecated",
                    "The specified image status is not deprecated.",
                ));
            }
            _ => {}
        }
        if let Some(family) = param(p, "ImageFamily")
            && family != image.family
        {
            let own_in_region = || {
                self.state.images.iter().filter(|i| {
                    i.kind == ImageKind::Custom && i.owner == call.access_key_id && i.region == region
                })
            };
            if own_in_region().filter(|i| i.family == family).count() >= FAMILY_MAX_IMAGES {
                return Err(err(
                    "ImageQuotaFull.ImageFamily",
                    "The specified image family has exceeded max number of images for one image family.",
                ));
            }
            let mut families: Vec<&str> =
                own_in_region().map(|i| i.family.as_str()).filter(|f| !f.is_empty()).collect();
            families.sort_unstable();
            families.dedup();
            if !families.contains(&family) && families.len() >= REGION_MAX_FAMILIES {
                return Err(err(
                    "ImageFamilyQuotaFull",
                    "The specified region has exceeded max number of image family.",
                ));
            }
        }
        if param(p, "BootMode").is_some_and(|m| m != image.boot_mode) && self.in_use(image) {
            return Err(err(
                "OperationDeined.ImageUsingByInstance",
                "The boot mode of the image cannot be modified because it has associated instances.",
            ));
        }
        Self::dry_run(call)?;
        let image = &mut self.state.images[index];
        let set = |field: &mut String, name: &str| {
            if let Some(value) = param(p, name) {
                value.clone_into(field);
            }
        };
        set(&mut image.name, "ImageName");
        set(&mut image.description, "Description");
        set(&mut image.family, "ImageFamily");
        set(&mut image.boot_mode, "BootMode");
        set(&mut image.license_type, "LicenseType");
        set(&mut image.status, "Status");
        set(&mut image.nvme, "Features.NvmeSupport");
        set(&mut image.imds, "Features.ImdsSupport");
        self.dirty = true;
        Ok(json!({}))
    }

    // -- ECS: DeleteImage ------------------------------------------------------------------------

    fn delete_image(&mut self, call: &RpcCall) -> Reply {
        let id = param(&call.params, "ImageId").unwrap_or_default();
        // Current doc: deleting an image that does not exist is ignored.
        let Some(index) = self.own_image(call, id) else {
            Self::dry_run(call)?;
            return Ok(json!({}));
        };
        let image = &self.state.images[index];
        match image.job.as_ref().map(|j| j.kind) {
            Some(JobKind::Import) => {
                return Err(err(
                    "ImageIsImporting",
                    "The specified Image is importing; cancel the import task (CancelTask) instead.",
                ));
            }
            Some(JobKind::Copy) => {
                return Err(err(
                    "OperationDenied.ImageCopying",
                    "The image is being copied; cancel the copy (CancelCopyImage) first.",
                ));
            }
            _ => {}
        }
        let source_of_copy = self.state.images.iter().any(|i| {
            i.copied_from.as_deref() == Some(id) && i.job.as_ref().is_some_and(|j| j.kind == JobKind::Copy)
        });
        if source_of_copy {
            return Err(err("OperationDenied.ImageCopying", "The image is being copied to another region."));
        }
        if !image.shared_with.is_empty() || image.community {
            return Err(err(
                "ImageUseShared",
                "The specified image has been shared to others, please remove shared accounts first.",
            ));
        }
        if self.in_use(image) && !flag(&call.params, "Force") {
            return Err(err(
                "ImageUsingByInstance",
                "The specified image is being used by instances; set Force=true to delete it anyway.",
            ));
        }
        Self::dry_run(call)?;
        self.state.images.remove(index);
        self.dirty = true;
        Ok(json!({}))
    }

    // -- ECS: CopyImage / CancelCopyImage ----------------------------------------------------------

    fn copy_image(&mut self, call: &RpcCall, now: i64) -> Reply {
        if let Some(answer) = self.replay(call)? {
            return Ok(answer);
        }
        let p = &call.params;
        let region = Self::region(call).to_owned();
        let caller = call.access_key_id.as_str();
        let id = param(p, "ImageId").unwrap_or_default();
        let destination = param(p, "DestinationRegionId").unwrap_or(&region).to_owned();
        let encrypted = flag(p, "Encrypted");
        let Some(index) = self.own_image(call, id) else {
            let shared = self
                .state
                .images
                .iter()
                .any(|i| i.id == id && i.region == region && i.shared_with.iter().any(|a| a == caller));
            return Err(if shared {
                err(
                    "OperationDenied.SameRegionOnly",
                    "Images shared with you can only be copied within their own region.",
                )
            } else {
                image_not_found()
            });
        };
        if !known_region(&destination) {
            return Err(err(
                "DestinationRegion.NotFound",
                format!("The specified destination region {destination} does not exist."),
            ));
        }
        if destination == region && !encrypted {
            return Err(err(
                "IncorrectDestinationRegion",
                "The destination region is the source region; choose another region.",
            ));
        }
        let source = self.state.images[index].clone();
        if source.job.is_some() || source.status != "Available" {
            return Err(err("IncorrectImageStatus", "The specified image is not available."));
        }
        let name = param(p, "DestinationImageName").map(str::to_owned);
        if let Some(name) = &name
            && self.name_taken(caller, &destination, name, None)
        {
            return Err(err(
                "InvalidImageName.Duplicated",
                "The specified Image name has already bean used.",
            ));
        }
        Self::dry_run(call)?;
        let copy_id = self.new_id("m", &destination);
        let job = Job::new(JobKind::Copy, now, self.scaled(COPY_SECS), None);
        let mut copy = source.clone();
        copy.id = copy_id.clone();
        copy.region = destination;
        copy.name = name.unwrap_or(source.name);
        if let Some(description) = param(p, "DestinationDescription") {
            description.clone_into(&mut copy.description);
        }
        copy.status = "Creating".into();
        copy.progress = 0;
        copy.created_ms = now;
        copy.shared_with.clear();
        copy.community = false;
        copy.copied_from = Some(source.id);
        copy.resource_group_id = param(p, "ResourceGroupId").unwrap_or_default().to_owned();
        copy.tags = request_tags(p);
        for disk in &mut copy.disks {
            disk.encrypted |= encrypted;
            disk.snapshot_id.clear();
        }
        copy.job = Some(job);
        self.state.images.push(copy);
        let answer = json!({"ImageId": copy_id});
        self.remember(call, &answer);
        self.dirty = true;
        Ok(answer)
    }

    fn cancel_copy(&mut self, call: &RpcCall) -> Reply {
        let id = param(&call.params, "ImageId").unwrap_or_default();
        let Some(index) = self.own_image(call, id) else {
            return Err(image_not_found());
        };
        let image = &self.state.images[index];
        if image.copied_from.is_none() {
            return Err(err("ImageCreatedNotFromCopy", "The specified image is not created by copying."));
        }
        if image.job.as_ref().is_none_or(|j| j.kind != JobKind::Copy) {
            return Err(err(
                "IncorrectImageStatus",
                "The specified image is not being copied (the copy has finished or failed).",
            ));
        }
        self.state.images.remove(index);
        self.dirty = true;
        Ok(json!({}))
    }

    // -- ECS: tasks ------------------------------------------------------------------------------

    fn own_task(&self, call: &RpcCall) -> Result<usize, Refusal> {
        let id = param(&call.params, "TaskId").unwrap_or_default();
        let region = Self::region(call);
        self.state
            .tasks
            .iter()
            .position(|t| t.id == id && t.region == region && t.owner == call.access_key_id)
            .ok_or_else(|| err("InvalidTaskId.NotFound", "The specified task does not exist."))
    }

    /// Progress of a task (the job of the image it imports).
    fn task_percent(&self, task: &EcsTask, now: i64) -> u8 {
        match task.status.as_str() {
            "Finished" => 100,
            "Processing" => self
                .state
                .images
                .iter()
                .find(|i| i.id == task.resource_id)
                .and_then(|i| i.job.as_ref())
                .map_or(0, |j| j.percent(now)),
            _ => task.failure.as_ref().map_or(0, |_| {
                self.state.images.iter().find(|i| i.id == task.resource_id).map_or(0, |i| i.progress)
            }),
        }
    }

    fn describe_tasks(&self, call: &RpcCall) -> Reply {
        let p = &call.params;
        let region = Self::region(call);
        let ids: Option<Vec<&str>> = param(p, "TaskIds").map(|v| v.split(',').map(str::trim).collect());
        let resources: Vec<&str> = p
            .list_indices("ResourceIds")
            .iter()
            .filter_map(|n| param(p, &format!("ResourceIds.{n}")))
            .collect();
        // Other TaskStatus values are ignored, as the API does.
        let status = param(p, "TaskStatus").filter(|s| matches!(*s, "Finished" | "Processing" | "Failed"));
        let start = param(p, "StartTime").and_then(parse_time).unwrap_or(i64::MIN);
        let end = param(p, "EndTime").and_then(parse_time).unwrap_or(i64::MAX);
        let mut found: Vec<&EcsTask> = self
            .state
            .tasks
            .iter()
            .filter(|t| t.owner == call.access_key_id && t.region == region)
            .filter(|t| ids.as_ref().is_none_or(|ids| ids.contains(&t.id.as_str())))
            .filter(|t| param(p, "TaskAction").is_none_or(|a| wire_eq(a, &t.action)))
            .filter(|t| status.is_none_or(|s| s == t.status))
            .filter(|t| resources.is_empty() || resources.contains(&t.resource_id.as_str()))
            .filter(|t| t.created_ms >= start && t.created_ms <= end)
            .collect();
        found.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then_with(|| a.id.cmp(&b.id)));
        let (number, size) = paging(p, 10, 100);
        let tasks: Vec<Value> = page_of(&found, number, size)
            .into_iter()
            .map(|t| {
                json!({
                    "TaskId": t.id,
                    "TaskAction": t.action,
                    "TaskStatus": t.status,
                    "SupportCancel": if t.status == "Processing" { "true" } else { "false" },
                    "CreationTime": fmt_time(t.created_ms, false),
                    "FinishedTime": t.finished_ms.map(|ms| fmt_time(ms, false)).unwrap_or_default(),
                    "ResourceId": t.resource_id,
                })
            })
            .collect();
        Ok(json!({
            "RegionId": region,
            "TotalCount": found.len(),
            "PageNumber": number,
            "PageSize": size,
            "TaskSet": { "Task": tasks },
        }))
    }

    fn describe_task(&self, call: &RpcCall, now: i64) -> Reply {
        let task = &self.state.tasks[self.own_task(call)?];
        let (operation, success, failed) = match (task.status.as_str(), &task.failure) {
            ("Finished", _) => ("Success", 1, 0),
            ("Processing", _) => ("Processing", 0, 0),
            _ => ("Failed", 0, 1),
        };
        let mut items = vec![json!({"Name": "ImageId", "Value": task.resource_id})];
        items.extend(task.related.iter().map(|(k, v)| json!({"Name": k, "Value": v})));
        Ok(json!({
            "RegionId": task.region,
            "TaskId": task.id,
            "TaskAction": task.action,
            "TaskStatus": task.status,
            "TaskProcess": percent_text(self.task_percent(task, now)),
            "SupportCancel": if task.status == "Processing" { "true" } else { "false" },
            "CreationTime": fmt_time(task.created_ms, false),
            "FinishedTime": task.finished_ms.map(|ms| fmt_time(ms, false)).unwrap_or_default(),
            "TotalCount": 1,
            "SuccessCount": success,
            "FailedCount": failed,
            "OperationProgressSet": { "OperationProgress": [{
                "OperationStatus": operation,
                "ErrorCode": task.failure.as_ref().map(|f| f.code.as_str()).unwrap_or_default(),
                "ErrorMsg": task.failure.as_ref().map(|f| f.message.as_str()).unwrap_or_default(),
                "RelatedItemSet": { "RelatedItem": items },
            }]},
        }))
    }

    fn cancel_task(&mut self, call: &RpcCall, now: i64) -> Reply {
        let index = self.own_task(call)?;
        let task = &self.state.tasks[index];
        if !matches!(task.action.as_str(), "ImportImage" | "ExportImage") {
            return Err(err(
                "InvalidTaskId.TaskActionNotSupport",
                "Only ImportImage and ExportImage tasks can be cancelled.",
            ));
        }
        if task.status != "Processing" {
            return Err(err("InvalidTaskId.IncorrectTaskStatus", "The specified task is not running."));
        }
        // A cancelled import leaves no image behind; the task ends Failed (documented values only).
        let image_id = task.resource_id.clone();
        self.state.images.retain(|i| i.id != image_id);
        let task = &mut self.state.tasks[index];
        task.status = "Failed".into();
        task.finished_ms = Some(now);
        task.failure = Some(failure("TaskCancelled", "The task was cancelled by CancelTask."));
        self.dirty = true;
        Ok(json!({}))
    }

    // -- E-HPC Instant -------------------------------------------------------------------------

    fn ehpc_visible<'a>(&'a self, call: &'a RpcCall) -> impl Iterator<Item = &'a EhpcImage> + 'a {
        self.state.ehpc_images.iter().filter(|i| i.owner.is_empty() || i.owner == call.access_key_id)
    }

    fn ehpc_add(&mut self, call: &RpcCall, now: i64) -> Reply {
        let p = &call.params;
        let image_type = param(p, "ImageType").unwrap_or("VM").to_owned();
        let spec = |name: &str| param(p, name).and_then(|s| serde_json::from_str::<Value>(s).ok());
        let vm_spec = spec("VMImageSpec").unwrap_or(Value::Null);
        let container_spec = spec("ContainerImageSpec").unwrap_or(Value::Null);
        let name = param(p, "Name").unwrap_or_default().to_owned();
        let version = param(p, "ImageVersion").unwrap_or_default().to_owned();
        let vm_image_id = vm_spec.get("ImageId").and_then(Value::as_str).unwrap_or_default().to_owned();
        let id = if image_type == "VM" && !vm_image_id.is_empty() {
            vm_image_id.clone()
        } else {
            self.new_id("m", "ehpc")
        };
        let duplicate = self.ehpc_visible(call).any(|i| {
            i.owner == call.access_key_id
                && (i.id == id || (i.image_type == image_type && i.name == name && i.version == version))
        });
        if duplicate {
            return Err(err("ImageAlreadyExists", "The image id already exists."));
        }
        // OS details of a VM image come from the ECS image when the caller owns or sees one.
        let ecs = self.state.images.iter().find(|i| i.id == vm_image_id);
        self.state.ehpc_images.push(EhpcImage {
            id: id.clone(),
            owner: call.access_key_id.clone(),
            image_type,
            name,
            version,
            description: param(p, "Description").unwrap_or_default().to_owned(),
            created_ms: now,
            vm_image_id,
            os_tag: ecs.map(|i| i.os_name_en.clone()).unwrap_or_default(),
            architecture: ecs.map_or_else(|| "x86_64".to_owned(), |i| i.architecture.clone()),
            platform: ecs.map(|i| i.platform.clone()).unwrap_or_default(),
            container_spec,
        });
        self.dirty = true;
        Ok(json!({"ImageId": id, "Success": true}))
    }

    fn ehpc_list(&self, call: &RpcCall) -> Reply {
        let p = &call.params;
        let list = |name: &str| param(p, name).and_then(|s| serde_json::from_str::<Vec<String>>(s).ok());
        let (ids, names) = (list("ImageIds"), list("ImageNames"));
        let image_type = param(p, "ImageType").unwrap_or("VM");
        let mut found: Vec<&EhpcImage> = self
            .ehpc_visible(call)
            .filter(|i| i.image_type == image_type)
            .filter(|i| match param(p, "ImageCategory") {
                Some("Public") => i.owner.is_empty(),
                Some("Custom") => !i.owner.is_empty(),
                _ => true,
            })
            .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id)))
            .filter(|i| names.as_ref().is_none_or(|names| names.contains(&i.name)))
            .collect();
        found.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then_with(|| a.id.cmp(&b.id)));
        if param(p, "Mode") == Some("Merge") {
            // Newest first, so the first of each name is its latest version.
            let mut seen = Vec::new();
            found.retain(|i| {
                let fresh = !seen.contains(&i.name.as_str());
                seen.push(i.name.as_str());
                fresh
            });
        }
        let (number, size) = paging(p, 20, 100);
        let images: Vec<Value> = page_of(&found, number, size)
            .into_iter()
            .map(|i| {
                json!({
                    "ImageId": i.id,
                    "Name": i.name,
                    "ImageType": i.image_type,
                    "Version": i.version,
                    "Description": i.description,
                    "CreateTime": fmt_time(i.created_ms, true),
                    "UpdateTime": fmt_time(i.created_ms, true),
                    "AppId": i.id,
                    "OsTag": i.os_tag,
                    "DocumentId": 0,
                    "Weight": 0,
                })
            })
            .collect();
        Ok(json!({
            "Success": true,
            "TotalCount": found.len(),
            "PageNumber": number,
            "PageSize": size,
            "Images": images,
        }))
    }

    fn ehpc_find(&self, call: &RpcCall) -> Result<usize, Refusal> {
        let p = &call.params;
        let id = param(p, "ImageId").unwrap_or_default();
        self.state
            .ehpc_images
            .iter()
            .position(|i| {
                i.id == id
                    && (i.owner.is_empty() || i.owner == call.access_key_id)
                    && param(p, "ImageType").is_none_or(|t| t == i.image_type)
            })
            .ok_or_else(|| err_with(404, "ImageNotFound", "The specified image does not exist."))
    }

    fn ehpc_get(&self, call: &RpcCall) -> Reply {
        let i = &self.state.ehpc_images[self.ehpc_find(call)?];
        let size = self
            .state
            .images
            .iter()
            .find(|e| e.id == i.vm_image_id)
            .map(|e| format!("{} GiB", e.size))
            .unwrap_or_default();
        let mut container = match &i.container_spec {
            Value::Object(map) => Value::Object(map.clone()),
            _ => json!({}),
        };
        if i.image_type == "Container"
            && let Value::Object(map) = &mut container
        {
            map.insert("Architecture".into(), json!(i.architecture));
            map.insert("OsTag".into(), json!(i.os_tag));
            map.insert("Platform".into(), json!(i.platform));
        }
        let vm = if i.image_type == "VM" {
            json!({"ImageId": i.vm_image_id, "Architecture": i.architecture, "OsTag": i.os_tag, "Platform": i.platform})
        } else {
            json!({})
        };
        Ok(json!({
            "Success": true,
            "TotalCount": 1,
            "Image": {
                "ImageType": i.image_type,
                "Name": i.name,
                "Version": i.version,
                "Description": i.description,
                "Size": size,
                "CreateTime": fmt_time(i.created_ms, true),
                "Status": "Available",
                "AppId": i.id,
                "VMImageSpec": vm,
                "ContainerImageSpec": container,
                "DocumentInfo": {},
                "AdditionalRegionsInfo": [],
            },
        }))
    }

    fn ehpc_remove(&mut self, call: &RpcCall) -> Reply {
        let index = self.ehpc_find(call)?;
        if self.state.ehpc_images[index].owner.is_empty() {
            return Err(err_with(403, "NotAuthorized", "Public images cannot be removed."));
        }
        self.state.ehpc_images.remove(index);
        self.dirty = true;
        Ok(json!({"Success": true}))
    }

    // -- ENS -------------------------------------------------------------------------------------

    fn ens_import(&mut self, call: &RpcCall, oss: &dyn OssView, now: i64) -> Reply {
        let p = &call.params;
        let invalid = |field: &str| {
            err(
                &format!("InvalidParameter.{field}"),
                format!("The specified field {field} invalid. Please check it again."),
            )
        };
        let (bucket, object, oss_region) = match (param(p, "OSSBucket"), param(p, "OSSObject")) {
            (Some(b), Some(o)) => (b.to_owned(), o.to_owned(), param(p, "OSSRegion").map(str::to_owned)),
            _ => {
                let disks: Vec<Value> = param(p, "DiskDeviceMapping")
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or_default();
                let first = disks.first().ok_or_else(|| invalid("DiskDeviceMapping"))?;
                let text = |k: &str| first.get(k).and_then(Value::as_str).map(str::to_owned);
                (
                    text("OSSBucket").unwrap_or_default(),
                    text("OSSObject").unwrap_or_default(),
                    text("OSSRegion").or(param(p, "OSSRegion").map(str::to_owned)),
                )
            }
        };
        let oss_region = oss_region.unwrap_or_else(|| "cn-beijing".to_owned());
        match oss.bucket_region(&bucket) {
            None => return Err(invalid("OSSBucket")),
            Some(r) if r != oss_region => return Err(invalid("OSSRegion")),
            Some(_) => {}
        }
        let Some(object_size) = oss.object_size(&bucket, &object) else {
            return Err(invalid("OSSObject"));
        };
        let head = oss.read_object_head(&bucket, &object, SNIFF_BYTES).unwrap_or_default();
        // ENS packs qcow2 only; anything else fails while packing.
        let outcome = match sniff(&head) {
            Ok("QCOW2") => None,
            Ok(other) => {
                Some(failure("Pack_failed", format!("The file is {other}, but ENS imports qcow2 only.")))
            }
            Err(reason) => Some(failure("Pack_failed", reason)),
        };
        let id = self.new_id("m", "ens");
        let size = object_size.div_ceil(GIB).max(20);
        self.state.ens_images.push(EnsImage {
            id: id.clone(),
            owner: call.access_key_id.clone(),
            name: param(p, "ImageName").unwrap_or_default().to_owned(),
            architecture: param(p, "Architecture").unwrap_or("x86_64").to_owned(),
            os_type: param(p, "OSType").unwrap_or("linux").to_owned(),
            platform: param(p, "Platform").unwrap_or("centos").to_owned(),
            os_version: param(p, "OSVersion").unwrap_or_default().to_owned(),
            compute_type: param(p, "ComputeType").unwrap_or("ens_vm").to_owned(),
            size,
            storage_size: object_size.div_ceil(GIB).max(1),
            region: param(p, "TargetOSSRegionId").unwrap_or("cn-beijing").to_owned(),
            created_ms: now,
            status: "Creating".into(),
            snapshot_id: String::new(),
            job: Some(Job::new(JobKind::Import, now, self.scaled(ENS_IMPORT_SECS), outcome)),
        });
        self.dirty = true;
        Ok(json!({"Code": 0, "ImageId": id}))
    }

    fn ens_describe(&self, call: &RpcCall, now: i64, own_only: bool) -> Reply {
        let p = &call.params;
        let caller = call.access_key_id.as_str();
        let mut found: Vec<&EnsImage> = self
            .state
            .ens_images
            .iter()
            .filter(|i| if own_only { i.owner == caller } else { i.owner.is_empty() || i.owner == caller })
            .filter(|i| param(p, "ImageId").is_none_or(|id| i.id == id))
            .filter(|i| {
                param(p, "ImageName").is_none_or(|n| i.name.to_lowercase().contains(&n.to_lowercase()))
            })
            .filter(|i| param(p, "SnapshotId").is_none_or(|s| i.snapshot_id == s))
            .collect();
        found.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then_with(|| a.id.cmp(&b.id)));
        let (number, size) = paging(p, 10, 50);
        let images: Vec<Value> = page_of(&found, number, size)
            .into_iter()
            .map(|i| {
                let mut image = json!({
                    "ImageId": i.id,
                    "ImageName": i.name,
                    "ImageOwnerAlias": if i.owner.is_empty() { "system" } else { "self" },
                    "ImageSize": i.size.to_string(),
                    "Architecture": i.architecture,
                    "Platform": if i.os_type == "windows" { "Windows" } else { "Linux" },
                    "CreationTime": fmt_time(i.created_ms, true),
                    "RegionId": i.region,
                    "SnapshotId": i.snapshot_id,
                    "DiskDeviceMappings": { "DiskDeviceMapping": [
                        {"Format": "qcow2", "Size": i.size.to_string(), "Type": "system", "imageId": i.id}
                    ]},
                });
                if own_only && let Value::Object(map) = &mut image {
                    map.insert("Platform".into(), json!(i.platform));
                    map.insert("ComputeType".into(), json!(i.compute_type));
                    map.insert("ImageStorageSize".into(), json!(i.storage_size.to_string()));
                    map.insert("InstanceId".into(), json!(""));
                    map.insert("OsVersion".into(), json!(i.os_version));
                    map.insert("Status".into(), json!(ens_status(i, now)));
                }
                image
            })
            .collect();
        Ok(json!({
            "Code": 0,
            "TotalCount": found.len(),
            "PageNumber": number,
            "PageSize": size,
            "Images": { "Image": images },
        }))
    }

    fn ens_delete(&mut self, call: &RpcCall) -> Reply {
        let id = param(&call.params, "ImageId").unwrap_or_default();
        let Some(index) =
            self.state.ens_images.iter().position(|i| i.id == id && i.owner == call.access_key_id)
        else {
            return Err(err(
                "InvalidParameter.ImageId",
                "The specified field ImageId invalid. Please check it again.",
            ));
        };
        self.state.ens_images.remove(index);
        self.dirty = true;
        Ok(json!({"Code": 0}))
    }
}

/// ENS status of an image: a running import passes Creating → Packing → Uploading.
fn ens_status(image: &EnsImage, now: i64) -> String {
    match &image.job {
        None => image.status.clone(),
        Some(job) => match job.percent(now) {
            0..20 => "Creating".into(),
            20..60 => "Packing".into(),
            _ => "Uploading".into(),
        },
    }
}

fn describe_regions(params: &Params) -> Value {
    let english = param(params, "AcceptLanguage").is_some_and(|l| l != "zh-CN" && l != "zh_TW");
    let regions: Vec<Value> = REGIONS
        .iter()
        .map(|(id, zh, en)| {
            json!({
                "RegionId": id,
                "LocalName": if english { en } else { zh },
                "RegionEndpoint": format!("ecs.{id}.aliyuncs.com"),
                "Status": "available",
            })
        })
        .collect();
    json!({ "Regions": { "Region": regions } })
}

impl State {
    /// Fold jobs that have ended by `now` into the stored state; true if anything changed.
    fn settle(&mut self, now: i64) -> bool {
        let mut ended: Vec<(String, i64, Option<Failure>)> = Vec::new();
        for image in &mut self.images {
            let Some(job) = image.job.as_ref().filter(|j| j.end_ms <= now).cloned() else {
                continue;
            };
            image.job = None;
            image.progress = if job.failure.is_some() { job.percent(job.end_ms) } else { 100 };
            image.status = if job.failure.is_some() { "CreateFailed" } else { "Available" }.into();
            ended.push((image.id.clone(), job.end_ms, job.failure));
        }
        for (image_id, end_ms, failure) in &ended {
            for task in
                self.tasks.iter_mut().filter(|t| &t.resource_id == image_id && t.status == "Processing")
            {
                task.status = if failure.is_some() { "Failed" } else { "Finished" }.into();
                task.finished_ms = Some(*end_ms);
                task.failure.clone_from(failure);
            }
        }
        let mut changed = !ended.is_empty();
        for image in &mut self.ens_images {
            let Some(job) = image.job.as_ref().filter(|j| j.end_ms <= now).cloned() else {
                continue;
            };
            image.job = None;
            image.status = if job.failure.is_some() { "Pack_failed" } else { "Available" }.into();
            changed = true;
        }
        changed
    }
}

// ---------------------------------------------------------------------------------------------
// Demo seed
// ---------------------------------------------------------------------------------------------

const DAY_MS: i64 = 86_400_000;
/// 2024-06-01T00:00:00Z: seeded images were "created" on fixed days from here.
const SEED_EPOCH_MS: i64 = 1_717_200_000_000;

struct SeedImage<'a> {
    id: &'a str,
    region: &'a str,
    name: &'a str,
    family: &'a str,
    status: &'a str,
    platform: &'a str,
    architecture: &'a str,
    day: i64,
}

fn seed_image(kind: ImageKind, owner: &str, s: &SeedImage<'_>) -> EcsImage {
    let (os_name, os_name_en) = os_names(s.platform, s.architecture);
    let windows = s.platform.starts_with("Windows");
    EcsImage {
        id: s.id.to_owned(),
        region: s.region.to_owned(),
        kind,
        owner: owner.to_owned(),
        owner_uid: if owner.is_empty() { 0 } else { account_uid(owner) },
        name: s.name.to_owned(),
        description: String::new(),
        family: s.family.to_owned(),
        version: String::new(),
        status: s.status.to_owned(),
        progress: if s.status == "CreateFailed" { 30 } else { 100 },
        size: if windows { 40 } else { 20 },
        created_ms: SEED_EPOCH_MS + s.day * DAY_MS,
        os_type: os_type_of(s.platform).to_owned(),
        platform: s.platform.to_owned(),
        os_name,
        os_name_en,
        architecture: s.architecture.to_owned(),
        boot_mode: if s.architecture == "arm64" { "UEFI" } else { "BIOS" }.to_owned(),
        nvme: "supported".into(),
        imds: "v1".into(),
        license_type: "Auto".into(),
        product_code: String::new(),
        resource_group_id: String::new(),
        tags: Vec::new(),
        disks: vec![Disk {
            snapshot_id: String::new(),
            size: if windows { 40 } else { 20 },
            device: "/dev/xvda".into(),
            role: "system".into(),
            format: String::new(),
            oss_bucket: String::new(),
            oss_object: String::new(),
            encrypted: false,
        }],
        shared_with: Vec::new(),
        community: false,
        copied_from: None,
        detection: false,
        job: None,
    }
}

fn demo_seed(now: i64, scale: f64) -> State {
    let demo = DEMO_ACCESS_KEY_ID;
    let mut s = State { format: STATE_FORMAT, counter: 1000, ..State::default() };
    let system: &[(&str, &str, &str)] = &[
        ("centos_7_9_x64_20G_alibase_20240628.vhd", "CentOS", "x86_64"),
        ("ubuntu_22_04_x64_20G_alibase_20240611.vhd", "Ubuntu", "x86_64"),
        ("aliyun_3_x64_20G_alibase_20240528.vhd", "Aliyun", "x86_64"),
        ("aliyun_3_arm64_20G_alibase_20240528.vhd", "Aliyun", "arm64"),
        ("debian_12_5_x64_20G_alibase_20240611.vhd", "Debian", "x86_64"),
        ("anolisos_8_9_x64_20G_rhck_alibase_20240528.vhd", "Anolis", "x86_64"),
        ("win2022_21H2_x64_dtc_en-us_40G_alibase_20240617.vhd", "Windows Server 2022", "x86_64"),
    ];
    for region in ["cn-hangzhou", "cn-beijing"] {
        for (day, (id, platform, arch)) in (0..).zip(system) {
            let mut image = seed_image(
                ImageKind::System,
                "",
                &SeedImage {
                    id,
                    region,
                    name: id,
                    family: "",
                    status: "Available",
                    platform,
                    architecture: arch,
                    day,
                },
            );
            image.name = id.trim_end_matches(".vhd").to_owned();
            image.family = format!("acs:{}", id.split('_').take(2).collect::<Vec<_>>().join("_"));
            s.images.push(image);
        }
    }
    for (id, region, name) in [
        ("m-market0001", "cn-hangzhou", "LAMP-stack-CentOS7"),
        ("m-market0002", "cn-beijing", "WordPress-Ubuntu22"),
    ] {
        let mut image = seed_image(
            ImageKind::Marketplace,
            "",
            &SeedImage {
                id,
                region,
                name,
                family: "",
                status: "Available",
                platform: "CentOS",
                architecture: "x86_64",
                day: 3,
            },
        );
        image.product_code = format!("cmjj0{}", &id[8..]);
        s.images.push(image);
    }
    for (id, region, name, platform) in [
        ("m-shared0001", "cn-hangzhou", "partner-hardened-centos", "CentOS"),
        ("m-shared0002", "cn-hangzhou", "partner-gpu-ubuntu", "Ubuntu"),
        ("m-shared0003", "cn-beijing", "partner-base", "Anolis"),
        ("m-community01", "cn-hangzhou", "community-alma-9", "AlmaLinux"),
    ] {
        let mut image = seed_image(
            ImageKind::Custom,
            PARTNER_ACCOUNT,
            &SeedImage {
                id,
                region,
                name,
                family: "",
                status: "Available",
                platform,
                architecture: "x86_64",
                day: 10,
            },
        );
        image.owner_uid = PARTNER_UID;
        if id.starts_with("m-community") {
            image.community = true;
        } else {
            image.shared_with.push(demo.to_owned());
        }
        s.images.push(image);
    }

    let hz = "cn-hangzhou";
    let bj = "cn-beijing";
    let custom: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
        // id, region, name, family, status, platform, architecture
        ("m-demo0001", hz, "web-base-v1", "web-base", "Available", "CentOS", "x86_64"),
        ("m-demo0002", hz, "web-base-v2", "web-base", "Available", "CentOS", "x86_64"),
        ("m-demo0003", hz, "web-base-v3", "web-base", "Available", "CentOS", "x86_64"),
        ("m-demo0004", hz, "web-base-v0", "web-base", "Deprecated", "CentOS", "x86_64"),
        ("m-demo0005", hz, "db-mysql-8", "db-base", "Available", "Ubuntu", "x86_64"),
        ("m-demo0006", hz, "secure-imds-v2", "", "Available", "Aliyun", "x86_64"),
        ("m-demo0007", hz, "中文镜像-centos", "中文族系", "Available", "CentOS", "x86_64"),
        ("m-demo0008", hz, "测试镜像_ubuntu", "", "Available", "Ubuntu", "x86_64"),
        ("m-demo0009", hz, "win2019-iis", "", "Available", "Windows Server 2019", "x86_64"),
        ("m-demo0010", hz, "arm-anolis-8", "arm-base", "Available", "Anolis", "arm64"),
        ("m-demo0011", hz, "failed-import-iso", "", "CreateFailed", "Others Linux", "x86_64"),
        ("m-demo0012", hz, "legacy-unavailable", "", "UnAvailable", "CentOS", "i386"),
        ("m-demo0013", hz, "importing-rocky-9", "", "Creating", "Rocky Linux", "x86_64"),
        ("m-demo0014", hz, "importing-debian-12", "", "Creating", "Debian", "x86_64"),
        ("m-demo0015", hz, "creating-from-instance", "", "Creating", "CentOS", "x86_64"),
        ("m-demo0031", bj, "web-base-v3", "web-base", "Available", "CentOS", "x86_64"),
        ("m-demo0032", bj, "copying-db-mysql-8", "db-base", "Creating", "Ubuntu", "x86_64"),
        ("m-demo0033", bj, "中文镜像-北京", "", "Available", "Anolis", "x86_64"),
        ("m-demo0034", bj, "importing-ubuntu-22", "", "Creating", "Ubuntu", "x86_64"),
    ];
    for (day, (id, region, name, family, status, platform, architecture)) in (20..).zip(custom) {
        let seed = SeedImage { id, region, name, family, status, platform, architecture, day };
        s.images.push(seed_image(ImageKind::Custom, demo, &seed));
    }
    let batch = (16..=30).map(|n| (n, hz)).chain((35..=40).map(|n| (n, bj)));
    for (n, region) in batch {
        let id = format!("m-demo{n:04}");
        let name = if region == hz { format!("app-build-{n:02}") } else { format!("bj-batch-{n:02}") };
        let status = if n % 7 == 0 { "Deprecated" } else { "Available" };
        let seed = SeedImage {
            id: &id,
            region,
            name: &name,
            family: if region == hz { "app-build" } else { "bj-batch" },
            status,
            platform: "Ubuntu",
            architecture: "x86_64",
            day: 40 + n,
        };
        let mut image = seed_image(ImageKind::Custom, demo, &seed);
        image.tags = vec![
            ("env".into(), if n % 2 == 0 { "prod" } else { "test" }.into()),
            ("team".into(), "platform".into()),
        ];
        s.images.push(image);
    }

    // Per-image details and the in-flight jobs.
    // Long jobs, so the demo shows them moving; scaled like every other job.
    let minutes = |m: i64| ((m * 60_000) as f64 / scale) as i64;
    for image in &mut s.images {
        match image.id.as_str() {
            "m-demo0005" => image.shared_with.push(PARTNER_ACCOUNT.to_owned()),
            "m-demo0006" => image.imds = "v2".into(),
            "m-demo0007" => image.description = "中文描述:演示用镜像".into(),
            "m-demo0013" => image.job = Some(Job::new(JobKind::Import, now - minutes(14), minutes(40), None)),
            "m-demo0014" => image.job = Some(Job::new(JobKind::Import, now - minutes(21), minutes(30), None)),
            "m-demo0034" => image.job = Some(Job::new(JobKind::Import, now - minutes(5), minutes(45), None)),
            "m-demo0015" => image.job = Some(Job::new(JobKind::Create, now - minutes(2), minutes(20), None)),
            "m-demo0031" => image.copied_from = Some("m-demo0003".into()),
            "m-demo0032" => {
                image.copied_from = Some("m-demo0005".into());
                image.job = Some(Job::new(JobKind::Copy, now - minutes(6), minutes(25), None));
            }
            _ => {}
        }
        if image.job.is_some() {
            image.progress = 0;
            image.created_ms = image.job.as_ref().map_or(now, |j| j.start_ms);
        }
        if matches!(
            image.id.as_str(),
            "m-demo0011" | "m-demo0013" | "m-demo0014" | "m-demo0034" | "m-demo0001"
        ) {
            let disk = &mut image.disks[0];
            // The OSS demo seed's buckets, by region.
            disk.oss_bucket =
                if image.region == "cn-beijing" { "imagedesk-demo-bj" } else { "imagedesk-demo-hz" }.into();
            disk.oss_object = format!("images/{}.qcow2", image.name);
            disk.format = "QCOW2".into();
        }
    }
    let import_task = |id: &str, image: &EcsImage, status: &str, failure: Option<Failure>| EcsTask {
        id: id.to_owned(),
        owner: demo.to_owned(),
        region: image.region.clone(),
        action: "ImportImage".into(),
        resource_id: image.id.clone(),
        created_ms: image.created_ms,
        status: status.to_owned(),
        finished_ms: (status != "Processing").then_some(image.created_ms + minutes(12)),
        failure,
        related: vec![
            ("DiskDeviceMapping.1.OSSBucket".into(), image.disks[0].oss_bucket.clone()),
            ("DiskDeviceMapping.1.OSSObject".into(), image.disks[0].oss_object.clone()),
        ],
    };
    let find = |id: &str| s.images.iter().find(|i| i.id == id).cloned();
    let mut tasks = Vec::new();
    for (task_id, image_id, status) in [
        ("t-demo0001", "m-demo0013", "Processing"),
        ("t-demo0002", "m-demo0014", "Processing"),
        ("t-demo0003", "m-demo0034", "Processing"),
        ("t-demo0004", "m-demo0001", "Finished"),
        ("t-demo0005", "m-demo0011", "Failed"),
    ] {
        if let Some(image) = find(image_id) {
            let failure = (status == "Failed").then(|| {
                failure(
                    "ImportImageFailed",
                    "oss://imagedesk-demo/images/failed-import-iso.qcow2: The file is an ISO 9660 \
                    optical-disc image (installation media), not a disk image.",
                )
            });
            tasks.push(import_task(task_id, &image, status, failure));
        }
    }
    s.tasks = tasks;

    for (id, region, name, image_id) in [
        ("i-demo0001", hz, "web-01", "m-demo0001"),
        ("i-demo0002", hz, "ops-jump", "centos_7_9_x64_20G_alibase_20240628.vhd"),
        ("i-demo0003", hz, "web-02", "m-demo0003"),
        ("i-demo0004", hz, "gpu-worker", "m-shared0001"),
        ("i-demo0005", bj, "web-bj-01", "m-demo0031"),
        ("i-demo0006", bj, "build-bj", "ubuntu_22_04_x64_20G_alibase_20240611.vhd"),
    ] {
        s.instances.push(Instance {
            id: id.into(),
            owner: demo.into(),
            region: region.into(),
            name: name.into(),
            image_id: image_id.into(),
        });
    }
    for (id, region, size, role, source, ready) in [
        ("s-demo0001", hz, 40, "system", "m-demo0001", true),
        ("s-demo0002", hz, 100, "data", "m-demo0001", true),
        ("s-demo0003", hz, 40, "system", "m-demo0003", true),
        ("s-demo0004", bj, 40, "system", "m-demo0031", true),
        ("s-demo0005", bj, 200, "data", "m-demo0031", true),
        ("s-demo0006", hz, 40, "system", "centos_7_9_x64_20G_alibase_20240628.vhd", false),
    ] {
        s.snapshots.push(Snapshot {
            id: id.into(),
            owner: demo.into(),
            region: region.into(),
            size,
            role: role.into(),
            source_image: source.into(),
            ready,
        });
    }

    for (id, owner, name, platform, status, job) in [
        (
            "centos_7_9_x64_20G_alibase_20240628",
            "",
            "centos_7_9_x64_20G_alibase_20240628",
            "centos",
            "Available",
            None,
        ),
        (
            "ubuntu_22_04_x64_20G_alibase_20240611",
            "",
            "ubuntu_22_04_x64_20G_alibase_20240611",
            "ubuntu",
            "Available",
            None,
        ),
        ("m-ensdemo0001", demo, "edge-web-base", "centos", "Available", None),
        (
            "m-ensdemo0002",
            demo,
            "edge-packing-demo",
            "ubuntu",
            "Creating",
            Some(Job::new(JobKind::Import, now - minutes(10), minutes(30), None)),
        ),
        ("m-ensdemo0003", demo, "edge-failed-iso", "centos", "Pack_failed", None),
    ] {
        s.ens_images.push(EnsImage {
            id: id.into(),
            owner: owner.into(),
            name: name.into(),
            architecture: "x86_64".into(),
            os_type: "linux".into(),
            platform: platform.into(),
            os_version: if platform == "centos" { "7.9" } else { "22.04" }.into(),
            compute_type: "ens_vm".into(),
            size: 20,
            storage_size: 3,
            region: "cn-beijing".into(),
            created_ms: job.as_ref().map_or(SEED_EPOCH_MS + 5 * DAY_MS, |j: &Job| j.start_ms),
            status: status.into(),
            snapshot_id: String::new(),
            job,
        });
    }

    for (id, owner, image_type, name, version, vm) in [
        ("m-ehpcpub01", "", "VM", "ehpc-centos-7.9", "1.0", "centos_7_9_x64_20G_alibase_20240628.vhd"),
        ("m-ehpcpub02", "", "Container", "ehpc-openfoam", "v2312", ""),
        ("m-demo0003", demo, "VM", "web-base", "V3", "m-demo0003"),
        ("m-ehpcdemo01", demo, "Container", "nginx", "latest", ""),
    ] {
        let container = if image_type == "Container" {
            json!({
                "RegistryUrl": format!("registry-vpc.cn-hangzhou.aliyuncs.com/ehpc_open/{name}:{version}"),
                "IsACRRegistry": true,
                "IsACREnterprise": false,
            })
        } else {
            Value::Null
        };
        s.ehpc_images.push(EhpcImage {
            id: id.into(),
            owner: owner.into(),
            image_type: image_type.into(),
            name: name.into(),
            version: version.into(),
            description: format!("Demo {image_type} image"),
            created_ms: SEED_EPOCH_MS + 30 * DAY_MS,
            vm_image_id: vm.into(),
            container_spec: container,
            os_tag: "CentOS 7.9 64 bit".into(),
            architecture: "x86_64".into(),
            platform: "CentOS".into(),
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU32, Ordering};

    use chrono::Duration;

    use super::*;
    use crate::protocol::Product;
    use crate::protocol::ops::{ecs, ehpc, ens};
    use crate::sandbox::CallStyle;

    #[derive(Default)]
    struct FakeOss {
        buckets: HashMap<String, String>,
        objects: HashMap<(String, String), Vec<u8>>,
    }

    impl FakeOss {
        fn with(mut self, bucket: &str, region: &str) -> Self {
            self.buckets.insert(bucket.into(), region.into());
            self
        }
        fn object(mut self, bucket: &str, key: &str, bytes: Vec<u8>) -> Self {
            self.objects.insert((bucket.into(), key.into()), bytes);
            self
        }
    }

    impl OssView for FakeOss {
        fn bucket_region(&self, bucket: &str) -> Option<String> {
            self.buckets.get(bucket).cloned()
        }
        fn object_size(&self, bucket: &str, key: &str) -> Option<u64> {
            self.objects.get(&(bucket.into(), key.into())).map(|b| b.len() as u64)
        }
        fn read_object_head(&self, bucket: &str, key: &str, max: usize) -> Option<Vec<u8>> {
            self.objects.get(&(bucket.into(), key.into())).map(|b| b[..b.len().min(max)].to_vec())
        }
    }

    fn qcow2() -> Vec<u8> {
        let mut b = b"QFI\xfb".to_vec();
        b.resize(4096, 0);
        b
    }
    fn raw_mbr() -> Vec<u8> {
        let mut b = vec![0u8; 4096];
        b[510] = 0x55;
        b[511] = 0xAA;
        b
    }
    fn iso() -> Vec<u8> {
        let mut b = vec![0u8; 0x9000];
        b[510] = 0x55;
        b[511] = 0xAA;
        b[0x8001..0x8006].copy_from_slice(b"CD001");
        b
    }

    fn oss() -> FakeOss {
        FakeOss::default()
            .with("hz-bucket", "cn-hangzhou")
            .with("bj-bucket", "cn-beijing")
            .object("hz-bucket", "disk.qcow2", qcow2())
            .object("hz-bucket", "disk.raw", raw_mbr())
            .object("hz-bucket", "setup.iso", iso())
            .object("hz-bucket", "notes.txt", b"hello".to_vec())
            .object("bj-bucket", "edge.qcow2", qcow2())
            .object("bj-bucket", "edge.iso", iso())
    }

    fn temp_dir(name: &str) -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "imagedesk-cloud-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// Parameters, then the expected HTTP status and code.
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);

    fn settings() -> CloudSettings {
        CloudSettings { import_role_authorized: true, time_scale: 1.0, seed_demo: true, extra_images: 0 }
    }

    fn cloud(name: &str) -> Cloud {
        Cloud::open(&temp_dir(name), settings()).unwrap()
    }

    fn rpc(product: Product, action: &str, pairs: &[(&str, &str)], now: DateTime<Utc>) -> RpcCall {
        let mut params = Params::from_pairs(pairs.iter().copied());
        params.insert("Action", action);
        params.insert("Version", product.version());
        RpcCall {
            product,
            action: action.into(),
            params,
            access_key_id: DEMO_ACCESS_KEY_ID.into(),
            request_id: "TEST".into(),
            now,
            style: CallStyle::Rpc,
        }
    }

    /// An ECS call in cn-hangzhou unless the pairs name another region.
    fn ecs_call(action: &str, pairs: &[(&str, &str)], now: DateTime<Utc>) -> RpcCall {
        let mut call = rpc(Product::Ecs, action, pairs, now);
        if !call.params.contains("RegionId") {
            call.params.insert("RegionId", "cn-hangzhou");
        }
        call
    }

    fn ok(cloud: &mut Cloud, call: &RpcCall) -> Value {
        match cloud.handle(call, &oss()) {
            Ok(v) => v,
            Err(e) => panic!("{} failed: {e}", call.action),
        }
    }

    fn fails(cloud: &mut Cloud, call: &RpcCall) -> ApiError {
        match cloud.handle(call, &oss()) {
            Ok(v) => panic!("{} unexpectedly succeeded: {v}", call.action),
            Err(e) => e,
        }
    }

    fn images(cloud: &mut Cloud, pairs: &[(&str, &str)], now: DateTime<Utc>) -> ecs::DescribeImagesResponse {
        serde_json::from_value(ok(cloud, &ecs_call("DescribeImages", pairs, now))).unwrap()
    }

    fn image(cloud: &mut Cloud, id: &str, region: &str, now: DateTime<Utc>) -> Option<ecs::Image> {
        let all = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";
        images(cloud, &[("ImageId", id), ("RegionId", region), ("Status", all)], now)
            .images
            .into_iter()
            .next()
    }

    fn import(
        cloud: &mut Cloud,
        object: &str,
        extra: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> ecs::ImportImageResponse {
        let mut pairs =
            vec![("DiskDeviceMapping.1.OSSBucket", "hz-bucket"), ("DiskDeviceMapping.1.OSSObject", object)];
        pairs.extend_from_slice(extra);
        serde_json::from_value(ok(cloud, &ecs_call("ImportImage", &pairs, now))).unwrap()
    }

    fn task(cloud: &mut Cloud, id: &str, now: DateTime<Utc>) -> ecs::DescribeTaskAttributeResponse {
        serde_json::from_value(ok(cloud, &ecs_call("DescribeTaskAttribute", &[("TaskId", id)], now))).unwrap()
    }

    #[test]
    fn describe_images_defaults_to_available_and_pages() {
        let mut c = cloud("describe");
        let now = Utc::now();
        let page = images(&mut c, &[("ImageOwnerAlias", "self")], now);
        assert_eq!(page.page_number, 1);
        assert_eq!(page.page_size, 10);
        assert_eq!(page.images.len(), 10);
        assert!(page.images.iter().all(|i| i.status == "Available" && i.image_owner_alias == "self"));
        let total = page.total_count;
        let last =
            images(&mut c, &[("ImageOwnerAlias", "self"), ("PageSize", "7"), ("PageNumber", "3")], now);
        assert_eq!(last.total_count, total);
        assert_eq!(last.images.len() as u64, (total - 14).min(7));
        let beyond =
            images(&mut c, &[("ImageOwnerAlias", "self"), ("PageSize", "100"), ("PageNumber", "2")], now);
        assert!(beyond.images.is_empty());
        assert_eq!(beyond.total_count, total);
        let all = images(
            &mut c,
            &[
                ("ImageOwnerAlias", "self"),
                ("Status", "Creating,Available,CreateFailed,UnAvailable,Deprecated"),
                ("PageSize", "100"),
            ],
            now,
        );
        assert!(all.total_count > total);
        assert!(
            all.images
                .iter()
                .any(|i| i.status == "Creating" && i.progress_percent().is_some_and(|p| p < 100))
        );
        let dry = fails(&mut c, &ecs_call("DescribeImages", &[("DryRun", "true")], now));
        assert_eq!((dry.http_status, dry.code.as_str()), (400, "DryRunOperation"));
        let err = fails(&mut c, &ecs_call("DescribeImages", &[("PageSize", "101")], now));
        assert_eq!((err.http_status, err.code.as_str()), (400, "InvalidParameter"));
    }

    #[test]
    fn describe_images_filters() {
        let mut c = cloud("filters");
        let now = Utc::now();
        let chinese = images(&mut c, &[("ImageName", "中文")], now);
        assert_eq!(chinese.images.len(), 1);
        assert_eq!(chinese.images[0].image_name, "中文镜像-centos");
        let system = images(&mut c, &[("ImageOwnerAlias", "system"), ("PageSize", "50")], now);
        assert_eq!(system.total_count, 7);
        assert!(system.images.iter().all(|i| i.image_owner_alias == "system" && i.is_public));
        let shared = images(&mut c, &[("ImageOwnerAlias", "others")], now);
        assert_eq!(shared.total_count, 2);
        assert!(shared.images.iter().all(|i| i.image_owner_id == PARTNER_UID));
        let community = images(&mut c, &[("ImageOwnerAlias", "others"), ("IsPublic", "true")], now);
        assert_eq!(community.images[0].image_id, "m-community01");
        let family = images(&mut c, &[("ImageFamily", "web-base")], now);
        assert_eq!(family.total_count, 3);
        let tagged =
            images(&mut c, &[("Tag.1.Key", "env"), ("Tag.1.Value", "prod"), ("PageSize", "100")], now);
        assert!(tagged.total_count > 0);
        assert!(
            tagged.images.iter().all(|i| i.tags.iter().any(|t| t.tag_key == "env" && t.tag_value == "prod"))
        );
        let arm = images(&mut c, &[("Architecture", "arm64"), ("ImageOwnerAlias", "self")], now);
        assert_eq!(arm.images[0].image_id, "m-demo0010");
        let windows = images(&mut c, &[("OSType", "windows"), ("ImageOwnerAlias", "self")], now);
        assert_eq!(windows.images[0].image_id, "m-demo0009");
        let used = images(&mut c, &[("Usage", "instance"), ("PageSize", "50")], now);
        assert!(used.images.iter().any(|i| i.image_id == "m-demo0001" && i.usage == "instance"));
        let window = images(
            &mut c,
            &[
                ("ImageOwnerAlias", "self"),
                ("Filter.1.Key", "CreationStartTime"),
                ("Filter.1.Value", "2024-06-21T00:00Z"),
                ("Filter.2.Key", "CreationEndTime"),
                ("Filter.2.Value", "2024-06-22T23:59Z"),
            ],
            now,
        );
        let ids: Vec<_> = window.images.iter().map(|i| i.image_id.as_str()).collect();
        assert_eq!(ids, ["m-demo0002", "m-demo0001"], "newest first");
        let bad = fails(
            &mut c,
            &ecs_call("DescribeImages", &[("Filter.1.Key", "Nope"), ("Filter.1.Value", "x")], now),
        );
        assert_eq!((bad.http_status, bad.code.as_str()), (404, "InvalidFilterKey.NotFound"));
        let by_id = images(&mut c, &[("ImageId", "m-demo0005")], now);
        assert!(by_id.images[0].is_self_shared);
        let bj = images(
            &mut c,
            &[("RegionId", "cn-beijing"), ("ImageOwnerAlias", "self"), ("PageSize", "100")],
            now,
        );
        assert!(bj.images.iter().all(|i| i.image_id.as_str() >= "m-demo0031"));
    }

    #[test]
    fn other_accounts_see_system_images_only() {
        let mut c = cloud("accounts");
        let now = Utc::now();
        let mut call = ecs_call("DescribeImages", &[("PageSize", "100")], now);
        call.access_key_id = "LTAI5tSomeoneElse".into();
        let page: ecs::DescribeImagesResponse = serde_json::from_value(ok(&mut c, &call)).unwrap();
        assert!(
            page.images
                .iter()
                .all(|i| matches!(i.image_owner_alias.as_str(), "system" | "marketplace" | "others"))
        );
        assert!(page.images.iter().any(|i| i.image_id == "m-community01"));
        assert!(
            !page
                .images
                .iter()
                .any(|i| i.image_id.starts_with("m-demo") || i.image_id.starts_with("m-shared"))
        );
    }

    #[test]
    fn import_progresses_with_time_and_finishes() {
        let mut c = cloud("import");
        let t0 = Utc::now();
        let started = import(&mut c, "disk.qcow2", &[("ImageName", "my-import"), ("Platform", "Ubuntu")], t0);
        assert!(started.image_id.starts_with("m-bp1") && started.task_id.starts_with("t-bp1"));
        assert_eq!(started.region_id, "cn-hangzhou");
        let img = image(&mut c, &started.image_id, "cn-hangzhou", t0).unwrap();
        assert_eq!((img.status.as_str(), img.progress.as_str()), ("Creating", "0%"));
        assert_eq!(img.disk_device_mappings[0].format, "QCOW2");
        assert_eq!(img.disk_device_mappings[0].import_oss_object, "disk.qcow2");
        // Not listed by default (Status=Available only).
        assert!(images(&mut c, &[("ImageId", &started.image_id)], t0).images.is_empty());

        let mid = t0 + Duration::seconds(54);
        assert_eq!(image(&mut c, &started.image_id, "cn-hangzhou", mid).unwrap().progress, "45%");
        let t = task(&mut c, &started.task_id, mid);
        assert_eq!(
            (t.task_status.as_str(), t.task_process.as_str(), t.support_cancel),
            ("Processing", "45%", true)
        );
        assert!(t.is_import());

        let done = t0 + Duration::seconds(121);
        let img = image(&mut c, &started.image_id, "cn-hangzhou", done).unwrap();
        assert_eq!((img.status.as_str(), img.progress.as_str()), ("Available", "100%"));
        assert_eq!(img.platform, "Ubuntu");
        let t = task(&mut c, &started.task_id, done);
        assert_eq!((t.task_status.as_str(), t.task_process.as_str()), ("Finished", "100%"));
        assert_eq!(t.operation_progress_set[0].operation_status, "Success");
        assert!(!t.finished_time.is_empty());
        // Finished state is stored: an earlier clock does not un-finish it.
        assert_eq!(image(&mut c, &started.image_id, "cn-hangzhou", mid).unwrap().status, "Available");

        // time_scale makes jobs faster.
        c.settings_mut().time_scale = 60.0;
        let fast = import(&mut c, "disk.raw", &[], done);
        let img = image(&mut c, &fast.image_id, "cn-hangzhou", done + Duration::seconds(3)).unwrap();
        assert_eq!((img.status.as_str(), img.disk_device_mappings[0].format.as_str()), ("Available", "RAW"));
    }

    #[test]
    fn import_of_a_non_disk_file_ends_create_failed() {
        let mut c = cloud("iso");
        let t0 = Utc::now();
        let later = t0 + Duration::seconds(121);
        for (object, hint) in [("setup.iso", "ISO 9660"), ("notes.txt", "not a recognised disk image")] {
            let started = import(&mut c, object, &[], t0);
            let img = image(&mut c, &started.image_id, "cn-hangzhou", later).unwrap();
            assert_eq!(img.status, "CreateFailed");
            let t = task(&mut c, &started.task_id, later);
            assert_eq!(t.task_status, "Failed");
            let op = &t.operation_progress_set[0];
            assert_eq!(
                (op.operation_status.as_str(), op.error_code.as_str()),
                ("Failed", "ImportImageFailed")
            );
            assert!(op.error_msg.contains(hint), "{}", op.error_msg);
        }
        // A declared format that does not match the file also fails.
        let started = import(&mut c, "disk.qcow2", &[("DiskDeviceMapping.1.Format", "VHD")], t0);
        assert_eq!(image(&mut c, &started.image_id, "cn-hangzhou", later).unwrap().status, "CreateFailed");
    }

    #[test]
    fn import_errors() {
        let mut c = cloud("import-errors");
        let now = Utc::now();
        let call = |bucket: &str, object: &str| {
            ecs_call(
                "ImportImage",
                &[("DiskDeviceMapping.1.OSSBucket", bucket), ("DiskDeviceMapping.1.OSSObject", object)],
                now,
            )
        };
        let e = fails(&mut c, &call("nope", "disk.qcow2"));
        assert_eq!((e.http_status, e.code.as_str()), (400, "InvalidOSSBucket.NotFound"));
        let e = fails(&mut c, &call("hz-bucket", "missing.qcow2"));
        assert_eq!((e.http_status, e.code.as_str()), (400, "InvalidOSSObject.NotFound"));
        let e = fails(&mut c, &call("bj-bucket", "edge.qcow2"));
        assert_eq!((e.http_status, e.code.as_str()), (400, "InvalidOSSBucket.NotMatched"));
        let e =
            fails(&mut c, &ecs_call("ImportImage", &[("DiskDeviceMapping.1.OSSBucket", "hz-bucket")], now));
        assert_eq!((e.http_status, e.code.as_str()), (400, "MissingParameter"));
        let mut bad_name = call("hz-bucket", "disk.qcow2");
        bad_name.params.insert("ImageName", "aliyun-image");
        assert_eq!(fails(&mut c, &bad_name).code, "InvalidImageName.Malformed");
        let mut dup = call("hz-bucket", "disk.qcow2");
        dup.params.insert("ImageName", "web-base-v1");
        assert_eq!(fails(&mut c, &dup).code, "InvalidImageName.Duplicated");
        let mut small = call("hz-bucket", "disk.qcow2");
        small.params.insert("DiskDeviceMapping.1.DiskImageSize", "1");
        assert!(c.handle(&small, &oss()).is_ok(), "a 4 KiB file fits in 1 GiB");

        c.settings_mut().import_role_authorized = false;
        let e = fails(&mut c, &call("hz-bucket", "disk.qcow2"));
        assert_eq!((e.http_status, e.code.as_str()), (403, "NoSetRoletoECSServiceAcount"));
        assert!(e.message.starts_with("ECS service account Have no right to access your OSS."));
    }

    #[test]
    fn dry_run_and_client_token() {
        let mut c = cloud("idempotency");
        let now = Utc::now();
        let before = images(&mut c, &[("ImageOwnerAlias", "self"), ("Status", "Creating")], now).total_count;
        let mut dry = ecs_call(
            "ImportImage",
            &[
                ("DiskDeviceMapping.1.OSSBucket", "hz-bucket"),
                ("DiskDeviceMapping.1.OSSObject", "disk.qcow2"),
                ("DryRun", "true"),
            ],
            now,
        );
        let e = fails(&mut c, &dry);
        assert_eq!((e.http_status, e.code.as_str()), (400, "DryRunOperation"));
        dry.params.insert("ImageName", "1-bad");
        assert_eq!(fails(&mut c, &dry).code, "InvalidImageName.Malformed", "validation comes before DryRun");
        assert_eq!(
            images(&mut c, &[("ImageOwnerAlias", "self"), ("Status", "Creating")], now).total_count,
            before
        );

        let first = import(&mut c, "disk.qcow2", &[("ClientToken", "tok-1")], now);
        let again = import(&mut c, "disk.qcow2", &[("ClientToken", "tok-1")], now + Duration::seconds(5));
        assert_eq!(
            (first.image_id.as_str(), first.task_id.as_str()),
            (again.image_id.as_str(), again.task_id.as_str())
        );
        assert_eq!(
            images(&mut c, &[("ImageOwnerAlias", "self"), ("Status", "Creating")], now).total_count,
            before + 1
        );
        let e = fails(
            &mut c,
            &ecs_call(
                "ImportImage",
                &[
                    ("DiskDeviceMapping.1.OSSBucket", "hz-bucket"),
                    ("DiskDeviceMapping.1.OSSObject", "disk.raw"),
                    ("ClientToken", "tok-1"),
                ],
                now,
            ),
        );
        assert_eq!((e.http_status, e.code.as_str()), (400, "IdempotentParameterMismatch"));

        let create = |token: &str| {
            ecs_call("CreateImage", &[("InstanceId", "i-demo0002"), ("ClientToken", token)], now)
        };
        let a: ecs::ImageIdResponse = serde_json::from_value(ok(&mut c, &create("tok-2"))).unwrap();
        let b: ecs::ImageIdResponse = serde_json::from_value(ok(&mut c, &create("tok-2"))).unwrap();
        assert_eq!(a.image_id, b.image_id);
    }

    #[test]
    fn cancel_task() {
        let mut c = cloud("cancel");
        let now = Utc::now();
        let started = import(&mut c, "disk.qcow2", &[], now);
        ok(&mut c, &ecs_call("CancelTask", &[("TaskId", &started.task_id)], now + Duration::seconds(10)));
        assert!(image(&mut c, &started.image_id, "cn-hangzhou", now).is_none());
        let t = task(&mut c, &started.task_id, now + Duration::seconds(20));
        assert_eq!(t.task_status, "Failed");
        assert_eq!(t.operation_progress_set[0].error_code, "TaskCancelled");
        let e = fails(&mut c, &ecs_call("CancelTask", &[("TaskId", &started.task_id)], now));
        assert_eq!((e.http_status, e.code.as_str()), (403, "InvalidTaskId.IncorrectTaskStatus"));
        let e = fails(&mut c, &ecs_call("CancelTask", &[("TaskId", "t-nope")], now));
        assert_eq!((e.http_status, e.code.as_str()), (400, "InvalidTaskId.NotFound"));
        // Seeded import in progress can be cancelled too.
        ok(&mut c, &ecs_call("CancelTask", &[("TaskId", "t-demo0001")], now));
        assert!(image(&mut c, "m-demo0013", "cn-hangzhou", now).is_none());
    }

    #[test]
    fn create_image_from_instances_and_snapshots() {
        let mut c = cloud("create");
        let now = Utc::now();
        let from_vm: ecs::ImageIdResponse = serde_json::from_value(ok(
            &mut c,
            &ecs_call(
                "CreateImage",
                &[("InstanceId", "i-demo0001"), ("ImageName", "from-vm"), ("ImageFamily", "web-base")],
                now,
            ),
        ))
        .unwrap();
        let img = image(&mut c, &from_vm.image_id, "cn-hangzhou", now).unwrap();
        assert_eq!(
            (img.status.as_str(), img.platform.as_str(), img.image_family.as_str()),
            ("Creating", "CentOS", "web-base")
        );
        assert_eq!(
            image(&mut c, &from_vm.image_id, "cn-hangzhou", now + Duration::seconds(61)).unwrap().status,
            "Available"
        );

        let from_snaps: ecs::ImageIdResponse = serde_json::from_value(ok(
            &mut c,
            &ecs_call(
                "CreateImage",
                &[
                    ("SnapshotId", "s-demo0001"),
                    ("DiskDeviceMapping.1.SnapshotId", "s-demo0002"),
                    ("DiskDeviceMapping.1.DiskType", "data"),
                ],
                now,
            ),
        ))
        .unwrap();
        let img = image(&mut c, &from_snaps.image_id, "cn-hangzhou", now).unwrap();
        assert_eq!(img.disk_device_mappings.len(), 2);
        assert_eq!(img.disk_device_mappings[1].size, 100);

        let mut apsara = ecs_call("CreateImage", &[("SnapshotId", "s-demo0003")], now);
        apsara.style = CallStyle::ApsaraRoute;
        assert!(ok(&mut c, &apsara)["ImageId"].as_str().is_some_and(|id| id.starts_with("m-")));

        let e = fails(&mut c, &ecs_call("CreateImage", &[("InstanceId", "i-nope")], now));
        assert_eq!((e.http_status, e.code.as_str()), (404, "InvalidInstanceId.NotFound"));
        let e = fails(&mut c, &ecs_call("CreateImage", &[("SnapshotId", "s-demo0004")], now));
        assert_eq!(
            (e.http_status, e.code.as_str()),
            (404, "InvalidSnapshotId.NotFound"),
            "snapshot of another region"
        );
        let e = fails(&mut c, &ecs_call("CreateImage", &[("SnapshotId", "s-demo0006")], now));
        assert_eq!((e.http_status, e.code.as_str()), (403, "InvalidSnapshotId.NotReady"));
        let e = fails(&mut c, &ecs_call("CreateImage", &[("ImageName", "nothing")], now));
        assert_eq!((e.http_status, e.code.as_str()), (400, "MissingParameter"));
        let e =
            fails(&mut c, &ecs_call("CreateImage", &[("InstanceId", "i-demo0001"), ("DryRun", "true")], now));
        assert_eq!(e.code, "DryRunOperation");
    }

    #[test]
    fn modify_image_attribute_rules() {
        let mut c = cloud("modify");
        let now = Utc::now();
        let modify = |pairs: &[(&str, &str)]| ecs_call("ModifyImageAttribute", pairs, now);
        let body = ok(
            &mut c,
            &modify(&[("ImageId", "m-demo0002"), ("ImageName", "renamed"), ("Features.ImdsSupport", "v2")]),
        );
        let _: ecs::EmptyResponse = serde_json::from_value(body).unwrap();
        let img = image(&mut c, "m-demo0002", "cn-hangzhou", now).unwrap();
        assert_eq!((img.image_name.as_str(), img.features.imds_support.as_str()), ("renamed", "v2"));

        let cases: &[Case] = &[
            (
                &[("ImageId", "m-demo0006"), ("Features.ImdsSupport", "v1")],
                403,
                "InvalidOperation.FeaturesImdsSupportNotMatch",
            ),
            (&[("ImageId", "m-demo0005"), ("Status", "Deprecated")], 403, "ImageUseShared"),
            (&[("ImageId", "m-demo0003"), ("ImageName", "web-base-v1")], 400, "InvalidImageName.Duplicated"),
            (&[("ImageId", "m-demo0003"), ("ImageFamily", "aliyun-x")], 400, "InvalidImageFamily.Malformed"),
            (&[("ImageId", "m-nope")], 404, "InvalidImageId.NotFound"),
            (&[("ImageId", "m-shared0001"), ("ImageName", "mine")], 404, "InvalidImageId.NotFound"),
            (
                &[("ImageId", "m-demo0013"), ("ImageName", "still-importing")],
                403,
                "InvalidStatus.ImageIsCreating",
            ),
            (&[("ImageId", "m-demo0011"), ("Status", "Deprecated")], 403, "ImageStatus.NotAvailable"),
            (&[("ImageId", "m-demo0001"), ("BootMode", "UEFI")], 403, "OperationDeined.ImageUsingByInstance"),
            (&[("ImageId", "m-demo0010"), ("BootMode", "BIOS")], 400, "InvalidBootMode.NotSupport"),
            (&[("ImageId", "m-demo0003"), ("DryRun", "true")], 400, "DryRunOperation"),
        ];
        for (pairs, status, code) in cases {
            let e = fails(&mut c, &modify(pairs));
            assert_eq!((e.http_status, e.code.as_str()), (*status, *code), "{pairs:?}");
        }
        ok(
            &mut c,
            &modify(&[("ImageId", "m-demo0003"), ("Status", "Deprecated"), ("ImageFamily", "web.base-2")]),
        );
        let img = image(&mut c, "m-demo0003", "cn-hangzhou", now).unwrap();
        assert_eq!((img.status.as_str(), img.image_family.as_str()), ("Deprecated", "web.base-2"));
        ok(&mut c, &modify(&[("ImageId", "m-demo0003"), ("Status", "Available")]));
        assert_eq!(image(&mut c, "m-demo0003", "cn-hangzhou", now).unwrap().status, "Available");
    }

    #[test]
    fn delete_image_rules() {
        let mut c = cloud("delete");
        let now = Utc::now();
        let delete = |pairs: &[(&str, &str)]| ecs_call("DeleteImage", pairs, now);
        let cases: &[Case] = &[
            (&[("ImageId", "m-demo0001")], 403, "ImageUsingByInstance"),
            (&[("ImageId", "m-demo0013")], 403, "ImageIsImporting"),
            (&[("ImageId", "m-demo0005")], 403, "OperationDenied.ImageCopying"),
            (&[("ImageId", "m-demo0002"), ("DryRun", "true")], 400, "DryRunOperation"),
        ];
        for (pairs, status, code) in cases {
            let e = fails(&mut c, &delete(pairs));
            assert_eq!((e.http_status, e.code.as_str()), (*status, *code), "{pairs:?}");
        }
        // Once its copy to cn-beijing is cancelled, the shared image is refused for being shared.
        ok(
            &mut c,
            &ecs_call("CancelCopyImage", &[("ImageId", "m-demo0032"), ("RegionId", "cn-beijing")], now),
        );
        let e = fails(&mut c, &delete(&[("ImageId", "m-demo0005"), ("Force", "true")]));
        assert_eq!((e.http_status, e.code.as_str()), (403, "ImageUseShared"));
        ok(&mut c, &delete(&[("ImageId", "m-demo0001"), ("Force", "true")]));
        assert!(image(&mut c, "m-demo0001", "cn-hangzhou", now).is_none());
        ok(&mut c, &delete(&[("ImageId", "m-demo0002")]));
        assert!(image(&mut c, "m-demo0002", "cn-hangzhou", now).is_none());
        ok(&mut c, &delete(&[("ImageId", "m-does-not-exist")]));
        let e = fails(&mut c, &ecs_call("DeleteImage", &[], now));
        assert_eq!(e.code, "MissingParameter");
    }

    #[test]
    fn copy_image_and_cancel() {
        let mut c = cloud("copy");
        let now = Utc::now();
        let copy = |pairs: &[(&str, &str)]| ecs_call("CopyImage", pairs, now);
        let started: ecs::ImageIdResponse = serde_json::from_value(ok(
            &mut c,
            &copy(&[
                ("ImageId", "m-demo0002"),
                ("DestinationRegionId", "cn-beijing"),
                ("DestinationImageName", "web-v2-bj"),
            ]),
        ))
        .unwrap();
        assert!(started.image_id.starts_with("m-2ze"));
        let img = image(&mut c, &started.image_id, "cn-beijing", now + Duration::seconds(45)).unwrap();
        assert_eq!((img.status.as_str(), img.progress.as_str(), img.is_copied), ("Creating", "50%", true));
        assert_eq!(img.disk_device_mappings[0].progress, "50%");
        assert_eq!(img.disk_device_mappings[0].remain_time, 45);
        assert_eq!(
            image(&mut c, &started.image_id, "cn-beijing", now + Duration::seconds(91)).unwrap().status,
            "Available"
        );

        let cases: &[Case] = &[
            (
                &[("ImageId", "m-demo0002"), ("DestinationRegionId", "cn-hangzhou")],
                403,
                "IncorrectDestinationRegion",
            ),
            (
                &[("ImageId", "m-demo0002"), ("DestinationRegionId", "xx-nowhere-1")],
                400,
                "DestinationRegion.NotFound",
            ),
            (&[("ImageId", "m-nope"), ("DestinationRegionId", "cn-beijing")], 404, "InvalidImageId.NotFound"),
            (
                &[("ImageId", "m-demo0004"), ("DestinationRegionId", "cn-beijing")],
                400,
                "IncorrectImageStatus",
            ),
            (
                &[("ImageId", "m-demo0002"), ("DestinationRegionId", "cn-beijing"), ("DryRun", "true")],
                400,
                "DryRunOperation",
            ),
        ];
        for (pairs, status, code) in cases {
            let e = fails(&mut c, &copy(pairs));
            assert_eq!((e.http_status, e.code.as_str()), (*status, *code), "{pairs:?}");
        }

        let cancel =
            |id: &str| ecs_call("CancelCopyImage", &[("ImageId", id), ("RegionId", "cn-beijing")], now);
        let e = fails(&mut c, &cancel(&started.image_id));
        assert_eq!((e.http_status, e.code.as_str()), (400, "IncorrectImageStatus"), "copy already finished");
        let e = fails(&mut c, &cancel("m-demo0033"));
        assert_eq!((e.http_status, e.code.as_str()), (400, "ImageCreatedNotFromCopy"));
        let e = fails(
            &mut c,
            &ecs_call("DeleteImage", &[("ImageId", "m-demo0032"), ("RegionId", "cn-beijing")], now),
        );
        assert_eq!(e.code, "OperationDenied.ImageCopying");
        ok(&mut c, &cancel("m-demo0032"));
        assert!(image(&mut c, "m-demo0032", "cn-beijing", now).is_none());
    }

    #[test]
    fn describe_tasks_filters_and_pages() {
        let mut c = cloud("tasks");
        let now = Utc::now();
        for _ in 0..3 {
            import(&mut c, "disk.qcow2", &[], now);
        }
        let tasks = |c: &mut Cloud, pairs: &[(&str, &str)]| -> ecs::DescribeTasksResponse {
            serde_json::from_value(ok(c, &ecs_call("DescribeTasks", pairs, now))).unwrap()
        };
        let all = tasks(&mut c, &[]);
        assert_eq!(all.total_count, 7, "3 new + t-demo0001/0002/0004/0005 (t-demo0003 is in cn-beijing)");
        let page = tasks(&mut c, &[("PageSize", "2"), ("PageNumber", "2")]);
        assert_eq!((page.task_set.len(), page.page_number, page.page_size), (2, 2, 2));
        let processing = tasks(&mut c, &[("TaskStatus", "Processing"), ("TaskAction", "ImportImage")]);
        assert_eq!(processing.total_count, 5);
        assert!(processing.task_set.iter().all(|t| t.support_cancel && t.is_import()));
        let by_ids = tasks(&mut c, &[("TaskIds", "t-demo0004,t-demo0005")]);
        assert_eq!(by_ids.total_count, 2);
        let failed = tasks(&mut c, &[("TaskStatus", "Failed")]);
        assert_eq!(failed.task_set[0].task_id, "t-demo0005");
        let ignored = tasks(&mut c, &[("TaskStatus", "Whatever")]);
        assert_eq!(ignored.total_count, 7);
        let old = tasks(&mut c, &[("EndTime", "2024-12-31T00:00:00Z")]);
        assert_eq!(old.total_count, 2);
        let by_resource = tasks(&mut c, &[("ResourceIds.1", "m-demo0001")]);
        assert_eq!(by_resource.task_set[0].task_id, "t-demo0004");
        let e = fails(
            &mut c,
            &ecs_call(
                "DescribeTasks",
                &[("StartTime", "2024-12-31T00:00:00Z"), ("EndTime", "2024-01-01T00:00:00Z")],
                now,
            ),
        );
        assert_eq!(e.code, "InvalidParameter");
    }

    #[test]
    fn describe_regions_and_unknown_actions() {
        let mut c = cloud("regions");
        let now = Utc::now();
        let body = ok(&mut c, &rpc(Product::Ecs, "DescribeRegions", &[("AcceptLanguage", "en-US")], now));
        let regions: ecs::DescribeRegionsResponse = serde_json::from_value(body).unwrap();
        let hz = regions.regions.iter().find(|r| r.region_id == "cn-hangzhou").unwrap();
        assert_eq!(
            (hz.local_name.as_str(), hz.region_endpoint.as_str()),
            ("China (Hangzhou)", "ecs.cn-hangzhou.aliyuncs.com")
        );
        for id in ["cn-beijing", "cn-shanghai", "ap-southeast-1"] {
            assert!(regions.regions.iter().any(|r| r.region_id == id));
        }
        let zh: ecs::DescribeRegionsResponse =
            serde_json::from_value(ok(&mut c, &rpc(Product::Ecs, "DescribeRegions", &[], now))).unwrap();
        assert_eq!(
            zh.regions.iter().find(|r| r.region_id == "cn-hangzhou").unwrap().local_name,
            "华东1（杭州）"
        );
        let e = fails(&mut c, &ecs_call("RunInstances", &[], now));
        assert_eq!((e.http_status, e.code.as_str()), (404, "InvalidAction.NotFound"));
        let e = fails(&mut c, &rpc(Product::Ens, "CopyImage", &[], now));
        assert_eq!(e.code, "InvalidAction.NotFound");
    }

    #[test]
    fn ehpc_instant_registry() {
        let mut c = cloud("ehpc");
        let now = Utc::now();
        let call = |action: &str, pairs: &[(&str, &str)]| rpc(Product::EhpcInstant, action, pairs, now);
        let added: ehpc::AddImageResponse = serde_json::from_value(ok(
            &mut c,
            &call(
                "AddImage",
                &[
                    ("Name", "web"),
                    ("ImageType", "VM"),
                    ("ImageVersion", "V1"),
                    ("VMImageSpec", r#"{"ImageId":"m-demo0002"}"#),
                ],
            ),
        ))
        .unwrap();
        assert_eq!((added.image_id.as_str(), added.success), ("m-demo0002", Some(true)));
        let e = fails(
            &mut c,
            &call("AddImage", &[("Name", "web2"), ("VMImageSpec", r#"{"ImageId":"m-demo0002"}"#)]),
        );
        assert_eq!((e.http_status, e.code.as_str()), (400, "ImageAlreadyExists"));
        let e = fails(
            &mut c,
            &call("AddImage", &[("Name", "c"), ("ImageType", "Container"), ("ContainerImageSpec", "{}")]),
        );
        assert_eq!((e.http_status, e.code.as_str()), (400, "InvalidParams"));
        let container: ehpc::AddImageResponse = serde_json::from_value(ok(
            &mut c,
            &call(
                "AddImage",
                &[
                    ("Name", "redis"),
                    ("ImageType", "Container"),
                    ("ContainerImageSpec", r#"{"RegistryUrl":"registry.example.com/redis:7"}"#),
                ],
            ),
        ))
        .unwrap();

        let list: ehpc::ListImagesResponse =
            serde_json::from_value(ok(&mut c, &call("ListImages", &[("ImageCategory", "Custom")]))).unwrap();
        assert_eq!(list.success, Some(true));
        assert_eq!(list.total_count, 2, "VM by default: m-demo0003 and the new one");
        let named: ehpc::ListImagesResponse = serde_json::from_value(ok(
            &mut c,
            &call("ListImages", &[("ImageType", "Container"), ("ImageNames", r#"["redis"]"#)]),
        ))
        .unwrap();
        assert_eq!(named.images[0].image_id, container.image_id);
        let by_ids: ehpc::ListImagesResponse = serde_json::from_value(ok(
            &mut c,
            &call("ListImages", &[("ImageIds", r#"["m-demo0002","m-ehpcpub01"]"#), ("PageSize", "1")]),
        ))
        .unwrap();
        assert_eq!((by_ids.total_count, by_ids.images.len()), (2, 1));

        let got: ehpc::GetImageResponse =
            serde_json::from_value(ok(&mut c, &call("GetImage", &[("ImageId", "m-demo0002")]))).unwrap();
        assert_eq!(
            (got.image.name.as_str(), got.image.vm_image_spec.image_id.as_str()),
            ("web", "m-demo0002")
        );
        assert_eq!(got.image.size, "20 GiB");
        let got: ehpc::GetImageResponse =
            serde_json::from_value(ok(&mut c, &call("GetImage", &[("ImageId", &container.image_id)])))
                .unwrap();
        assert_eq!(got.image.container_image_spec.registry_url, "registry.example.com/redis:7");
        let e = fails(&mut c, &call("GetImage", &[("ImageId", "m-nope")]));
        assert_eq!((e.http_status, e.code.as_str()), (404, "ImageNotFound"));

        let removed: ehpc::SuccessResponse =
            serde_json::from_value(ok(&mut c, &call("RemoveImage", &[("ImageId", "m-demo0002")]))).unwrap();
        assert_eq!(removed.success, Some(true));
        assert_eq!(fails(&mut c, &call("RemoveImage", &[("ImageId", "m-demo0002")])).code, "ImageNotFound");
    }

    #[test]
    fn ens_import_statuses() {
        let mut c = cloud("ens");
        let t0 = Utc::now();
        let call = |action: &str, pairs: &[(&str, &str)], now| rpc(Product::Ens, action, pairs, now);
        let base = [
            ("Architecture", "x86_64"),
            ("OSType", "linux"),
            ("ImageFormat", "qcow2"),
            ("ComputeType", "ens_vm"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
            base.iter().copied().chain(extra.iter().copied()).collect()
        };
        let started: ens::ImportImageResponse = serde_json::from_value(ok(
            &mut c,
            &call(
                "ImportImage",
                &with(&[("ImageName", "边缘镜像"), ("OSSBucket", "bj-bucket"), ("OSSObject", "edge.qcow2")]),
                t0,
            ),
        ))
        .unwrap();
        assert_eq!(started.code, "0");
        let status_at = |c: &mut Cloud, id: &str, secs: i64| -> String {
            let body = ok(c, &call("DescribeSelfImages", &[("ImageId", id)], t0 + Duration::seconds(secs)));
            let page: ens::DescribeImagesResponse = serde_json::from_value(body).unwrap();
            page.images[0].status.clone()
        };
        let seen: Vec<String> =
            [0, 60, 120, 151].iter().map(|s| status_at(&mut c, &started.image_id, *s)).collect();
        assert_eq!(seen, ["Creating", "Packing", "Uploading", "Available"]);

        let disks = r#"[{"OSSBucket":"bj-bucket","OSSObject":"edge.iso","OSSRegion":"cn-beijing"}]"#;
        let failed: ens::ImportImageResponse = serde_json::from_value(ok(
            &mut c,
            &call("ImportImage", &with(&[("ImageName", "iso-edge"), ("DiskDeviceMapping", disks)]), t0),
        ))
        .unwrap();
        assert_eq!(status_at(&mut c, &failed.image_id, 150), "Pack_failed");

        let e = fails(
            &mut c,
            &call(
                "ImportImage",
                &with(&[("ImageName", "x1"), ("OSSBucket", "bj-bucket"), ("OSSObject", "missing")]),
                t0,
            ),
        );
        assert_eq!((e.http_status, e.code.as_str()), (400, "InvalidParameter.OSSObject"));
        let e = fails(
            &mut c,
            &call(
                "ImportImage",
                &[
                    ("ImageName", "x1"),
                    ("Architecture", "arm64"),
                    ("OSType", "linux"),
                    ("ImageFormat", "qcow2"),
                    ("ComputeType", "ens_vm"),
                ],
                t0,
            ),
        );
        assert_eq!(e.code, "InvalidParameter.Architecture");

        let public: ens::DescribeImagesResponse =
            serde_json::from_value(ok(&mut c, &call("DescribeImages", &[("PageSize", "50")], t0))).unwrap();
        assert_eq!(public.code, "0");
        assert!(public.images.iter().any(|i| i.image_owner_alias == "system"));
        assert!(public.images.iter().any(
            |i| i.image_id == started.image_id && i.disk_device_mappings[0].image_id == started.image_id
        ));
        let deleted: ens::EnsEmptyResponse =
            serde_json::from_value(ok(&mut c, &call("DeleteImage", &[("ImageId", &started.image_id)], t0)))
                .unwrap();
        assert_eq!(deleted.code, "0");
        assert_eq!(
            fails(&mut c, &call("DeleteImage", &[("ImageId", &started.image_id)], t0)).code,
            "InvalidParameter.ImageId"
        );
    }

    #[test]
    fn state_persists_and_corruption_is_reported() {
        let dir = temp_dir("persist");
        let now = Utc::now();
        let id = {
            let mut c = Cloud::open(&dir, settings()).unwrap();
            ok(
                &mut c,
                &ecs_call("ModifyImageAttribute", &[("ImageId", "m-demo0008"), ("ImageName", "持久化")], now),
            );
            import(&mut c, "disk.qcow2", &[("ClientToken", "persisted")], now).image_id
        };
        assert!(dir.join(STATE_FILE).exists());
        let mut c = Cloud::open(&dir, CloudSettings { seed_demo: false, ..settings() }).unwrap();
        assert_eq!(image(&mut c, "m-demo0008", "cn-hangzhou", now).unwrap().image_name, "持久化");
        assert_eq!(
            image(&mut c, &id, "cn-hangzhou", now + Duration::seconds(200)).unwrap().status,
            "Available"
        );
        let replay = import(&mut c, "disk.qcow2", &[("ClientToken", "persisted")], now);
        assert_eq!(replay.image_id, id);

        let empty_dir = temp_dir("empty");
        let mut empty = Cloud::open(&empty_dir, CloudSettings { seed_demo: false, ..settings() }).unwrap();
        assert_eq!(images(&mut empty, &[("PageSize", "100")], now).total_count, 0);

        std::fs::write(dir.join(STATE_FILE), b"{not json").unwrap();
        match Cloud::open(&dir, settings()) {
            Err(SandboxError::CorruptState { path, .. }) => assert_eq!(path, dir.join(STATE_FILE)),
            other => panic!("expected CorruptState, got {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&empty_dir);
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(&qcow2()), Ok("QCOW2"));
        assert_eq!(sniff(&raw_mbr()), Ok("RAW"));
        let mut gpt = vec![0u8; 1024];
        gpt[512..520].copy_from_slice(b"EFI PART");
        assert_eq!(sniff(&gpt), Ok("RAW"));
        assert_eq!(sniff(b"conectix\0\0"), Ok("VHD"));
        assert_eq!(sniff(b"KDMV\x01"), Ok("VMDK"));
        assert_eq!(sniff(b"# Disk DescriptorFile\nversion=1"), Ok("VMDK"));
        assert!(sniff(&iso()).is_err());
        assert!(sniff(b"").is_err());
    }
}
