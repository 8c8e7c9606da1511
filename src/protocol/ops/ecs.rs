//! ECS (`Ecs`, 2014-05-26) image and task operations (apis.md §1). Apsara Stack reuses these
//! types; its responses spell `RequestID`, accepted as an alias.

use serde::{Deserialize, Serialize, Serializer};

use super::RpcOperation;
use crate::protocol::Product;
use crate::protocol::de::{self, wire_enum};
use crate::protocol::params::CommaList;

wire_enum! {
    /// CPU architecture of an image.
    pub enum Architecture {
        I386 => "i386",
        X86_64 => "x86_64",
        Arm64 => "arm64",
    }
    default X86_64;
}

wire_enum! {
    /// Operating-system family (2016 docs capitalise it; parsing ignores case).
    pub enum OsType {
        Windows => "windows",
        Linux => "linux",
    }
    default Linux;
}

wire_enum! {
    /// Firmware boot mode.
    pub enum BootMode {
        Bios => "BIOS",
        Uefi => "UEFI",
        UefiPreferred => "UEFI-Preferred",
    }
}

wire_enum! {
    /// Disk file format accepted by ImportImage.
    pub enum ImageFormat {
        Raw => "RAW",
        Vhd => "VHD",
        Qcow2 => "QCOW2",
        /// Invitational preview.
        Vmdk => "VMDK",
    }
}

wire_enum! {
    /// File format written by ExportImage (lowercase on the wire, unlike [`ImageFormat`]).
    pub enum ExportImageFormat {
        Raw => "raw",
        Vhd => "vhd",
        Qcow2 => "qcow2",
        Vmdk => "vmdk",
        Vdi => "vdi",
    }
}

wire_enum! {
    /// Image state (`Waiting`/`Deprecated` appear as filter values and after ModifyImageAttribute).
    pub enum ImageStatus {
        Creating => "Creating",
        Waiting => "Waiting",
        Available => "Available",
        UnAvailable => "UnAvailable",
        CreateFailed => "CreateFailed",
        Deprecated => "Deprecated",
    }
}

impl ImageStatus {
    /// Every status, for DescribeImages to show in-progress and failed images too
    /// (the API returns only `Available` when `Status` is omitted).
    pub fn all() -> Vec<ImageStatus> {
        vec![
            Self::Creating,
            Self::Waiting,
            Self::Available,
            Self::UnAvailable,
            Self::CreateFailed,
            Self::Deprecated,
        ]
    }
}

wire_enum! {
    /// Who owns an image.
    pub enum ImageOwnerAlias {
        /// Alibaba Cloud public images.
        System => "system",
        /// The caller's own custom images.
        SelfOwned => "self",
        /// Images shared with the caller, and community images.
        Others => "others",
        Marketplace => "marketplace",
    }
}

wire_enum! {
    /// Whether instances use an image.
    pub enum ImageUsage {
        Instance => "instance",
        None => "none",
    }
}

wire_enum! {
    /// The scenario an image is listed for (DescribeImages `ActionType`).
    pub enum ActionType {
        CreateEcs => "CreateEcs",
        ChangeOs => "ChangeOS",
    }
}

wire_enum! {
    /// NVMe support of an image.
    pub enum NvmeSupport {
        Supported => "supported",
        Unsupported => "unsupported",
    }
}

wire_enum! {
    /// Instance metadata access mode (v2 = security-hardened only).
    pub enum ImdsSupport {
        V1 => "v1",
        V2 => "v2",
    }
}

wire_enum! {
    /// OS licence used after import.
    pub enum LicenseType {
        Auto => "Auto",
        Aliyun => "Aliyun",
        Byol => "BYOL",
    }
}

wire_enum! {
    /// Image check to run on import/create (omit for none).
    pub enum DetectionStrategy {
        Standard => "Standard",
    }
}

wire_enum! {
    /// Role of a disk in CreateImage's `DiskDeviceMapping`.
    pub enum DiskType {
        System => "system",
        Data => "data",
    }
}

wire_enum! {
    /// DescribeImages `Filter.N.Key`.
    pub enum ImageFilterKey {
        CreationStartTime => "CreationStartTime",
        CreationEndTime => "CreationEndTime",
    }
}

wire_enum! {
    /// Kind of asynchronous task. Old responses spell `IMPORT_IMAGE`; parsing tolerates it.
    pub enum TaskAction {
        ImportImage => "ImportImage",
        ExportImage => "ExportImage",
        RedeployInstance => "RedeployInstance",
        ModifyDiskSpec => "ModifyDiskSpec",
        ArchiveSnapshot => "ArchiveSnapshot",
    }
}

wire_enum! {
    /// Task state (other values such as `Waiting`/`Cancelled` are unconfirmed: kept as `Other`).
    pub enum TaskStatus {
        Finished => "Finished",
        Processing => "Processing",
        Failed => "Failed",
    }
}

wire_enum! {
    /// DescribeRegions `InstanceChargeType`.
    pub enum InstanceChargeType {
        PrePaid => "PrePaid",
        PostPaid => "PostPaid",
        SpotWithPriceLimit => "SpotWithPriceLimit",
        SpotAsPriceGo => "SpotAsPriceGo",
    }
}

wire_enum! {
    /// DescribeRegions `ResourceType`.
    pub enum RegionResourceType {
        Instance => "instance",
        Disk => "disk",
        ReservedInstance => "reservedinstance",
        Scu => "scu",
    }
}

// ---------------------------------------------------------------------------------------------
// Request building blocks

/// A resource tag in a request (`Tag.N.Key` / `Tag.N.Value`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: Option<String>,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self { key: key.into(), value: Some(value.into()) }
    }
}

/// A DescribeImages filter (`Filter.N.Key` / `Filter.N.Value`, value `yyyy-MM-ddTHH:mmZ`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    pub key: ImageFilterKey,
    pub value: String,
}

/// `Features.*` of ImportImage, CreateImage (ImdsSupport only) and ModifyImageAttribute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FeatureParams {
    pub nvme_support: Option<NvmeSupport>,
    pub imds_support: Option<ImdsSupport>,
}

/// One disk file of ImportImage (`DiskDeviceMapping.N.*`; N=1 system disk, 2..17 data disks).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportDiskMapping {
    #[serde(rename = "OSSBucket")]
    pub oss_bucket: String,
    #[serde(rename = "OSSObject")]
    pub oss_object: String,
    /// Empty = detected by ECS.
    pub format: Option<ImageFormat>,
    /// GiB, 1..2048; empty = from the file.
    pub disk_image_size: Option<u32>,
    /// Deprecated by the API, still accepted.
    pub device: Option<String>,
}

/// One disk of CreateImage (`DiskDeviceMapping.N.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateDiskMapping {
    pub snapshot_id: Option<String>,
    /// GiB.
    pub size: Option<u32>,
    pub disk_type: Option<DiskType>,
    /// `/dev/xvda` for the system disk, `/dev/xvdb`… for data disks.
    pub device: Option<String>,
}

/// `Status` is one comma-separated parameter.
fn comma_statuses<S: Serializer>(statuses: &[ImageStatus], serializer: S) -> Result<S::Ok, S::Error> {
    let joined: Vec<&str> = statuses.iter().map(ImageStatus::as_str).collect();
    serializer.serialize_str(&joined.join(","))
}

// ---------------------------------------------------------------------------------------------
// Requests

/// DescribeImages: list images visible in a region, with filters.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImages {
    pub region_id: String,
    pub image_id: Option<String>,
    pub image_name: Option<String>,
    pub image_family: Option<String>,
    /// Empty = the API default (`Available` only); see [`ImageStatus::all`].
    #[serde(serialize_with = "comma_statuses")]
    pub status: Vec<ImageStatus>,
    pub image_owner_alias: Option<ImageOwnerAlias>,
    pub image_owner_id: Option<u64>,
    pub is_public: Option<bool>,
    #[serde(rename = "OSType")]
    pub os_type: Option<OsType>,
    pub architecture: Option<Architecture>,
    pub usage: Option<ImageUsage>,
    pub snapshot_id: Option<String>,
    pub instance_type: Option<String>,
    pub action_type: Option<ActionType>,
    pub is_support_io_optimized: Option<bool>,
    pub is_support_cloudinit: Option<bool>,
    pub show_expired: Option<bool>,
    pub resource_group_id: Option<String>,
    pub tag: Vec<Tag>,
    pub filter: Vec<Filter>,
    pub page_number: Option<u32>,
    pub page_size: Option<u32>,
    pub dry_run: Option<bool>,
}

/// ImportImage: create a custom image from disk files already in OSS (asynchronous).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportImage {
    pub region_id: String,
    pub disk_device_mapping: Vec<ImportDiskMapping>,
    pub image_name: Option<String>,
    pub description: Option<String>,
    pub architecture: Option<Architecture>,
    #[serde(rename = "OSType")]
    pub os_type: Option<OsType>,
    /// Distribution name (`CentOS`, `Ubuntu`, `Windows Server 2019`, …), free text on the API.
    pub platform: Option<String>,
    pub boot_mode: Option<BootMode>,
    pub license_type: Option<LicenseType>,
    pub detection_strategy: Option<DetectionStrategy>,
    pub features: Option<FeatureParams>,
    pub role_name: Option<String>,
    pub client_token: Option<String>,
    pub resource_group_id: Option<String>,
    pub tag: Vec<Tag>,
    pub storage_location_arn: Option<String>,
    pub dry_run: Option<bool>,
}

/// CreateImage: create a custom image from an instance, a snapshot or several snapshots.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateImage {
    pub region_id: String,
    pub instance_id: Option<String>,
    pub snapshot_id: Option<String>,
    pub disk_device_mapping: Vec<CreateDiskMapping>,
    pub image_name: Option<String>,
    pub description: Option<String>,
    pub image_family: Option<String>,
    pub image_version: Option<String>,
    pub architecture: Option<Architecture>,
    pub platform: Option<String>,
    pub boot_mode: Option<BootMode>,
    pub detection_strategy: Option<DetectionStrategy>,
    /// Only `ImdsSupport` is accepted here.
    pub features: Option<FeatureParams>,
    pub client_token: Option<String>,
    pub resource_group_id: Option<String>,
    pub tag: Vec<Tag>,
    pub dry_run: Option<bool>,
}

/// ModifyImageAttribute: rename, describe, deprecate or re-feature a custom image.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyImageAttribute {
    pub region_id: String,
    pub image_id: String,
    pub image_name: Option<String>,
    pub description: Option<String>,
    pub image_family: Option<String>,
    pub boot_mode: Option<BootMode>,
    /// Only `BYOL` is accepted.
    pub license_type: Option<LicenseType>,
    /// `Deprecated` or `Available`.
    pub status: Option<ImageStatus>,
    pub features: Option<FeatureParams>,
    pub dry_run: Option<bool>,
}

/// DeleteImage: delete a custom image (`Force` even when instances use it).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImage {
    pub region_id: String,
    pub image_id: String,
    pub force: Option<bool>,
    pub dry_run: Option<bool>,
}

/// CopyImage: copy a custom image to another region (asynchronous, tracked on the copy).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CopyImage {
    /// Source region.
    pub region_id: String,
    pub image_id: String,
    pub destination_region_id: Option<String>,
    pub destination_image_name: Option<String>,
    pub destination_description: Option<String>,
    pub encrypted: Option<bool>,
    #[serde(rename = "KMSKeyId")]
    pub kms_key_id: Option<String>,
    /// Accepted but unused by the API.
    pub encrypt_algorithm: Option<String>,
    pub resource_group_id: Option<String>,
    pub tag: Vec<Tag>,
    pub client_token: Option<String>,
    pub dry_run: Option<bool>,
}

/// CancelCopyImage: stop a running copy (addressed by the copy's region and ID).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelCopyImage {
    pub region_id: String,
    pub image_id: String,
}

/// ExportImage: write a custom image to OSS (asynchronous).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExportImage {
    pub region_id: String,
    pub image_id: String,
    #[serde(rename = "OSSBucket")]
    pub oss_bucket: String,
    #[serde(rename = "OSSPrefix")]
    pub oss_prefix: Option<String>,
    pub image_format: Option<ExportImageFormat>,
    pub role_name: Option<String>,
    pub dry_run: Option<bool>,
}

/// DescribeTasks: list asynchronous tasks (imports, exports…) in a region.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTasks {
    pub region_id: String,
    /// At most 100 IDs, sent as one comma-separated parameter.
    pub task_ids: Option<CommaList>,
    pub task_action: Option<TaskAction>,
    pub task_status: Option<TaskStatus>,
    /// Creation window, `yyyy-MM-ddTHH:mm:ssZ` UTC.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub resource_ids: Vec<String>,
    pub task_group_id: Option<String>,
    pub page_number: Option<u32>,
    pub page_size: Option<u32>,
}

/// DescribeTaskAttribute: details and progress of one task.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTaskAttribute {
    pub region_id: String,
    pub task_id: String,
}

/// CancelTask: cancel a running ImportImage/ExportImage task.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelTask {
    pub region_id: String,
    pub task_id: String,
}

/// DescribeRegions: regions and their endpoints (callable on any regional endpoint).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRegions {
    /// `zh-CN` (default), `en-US`, `ja`, …
    pub accept_language: Option<String>,
    pub instance_charge_type: Option<InstanceChargeType>,
    pub resource_type: Option<RegionResourceType>,
}

/// ModifyImageSharePermission: share/unshare an image with accounts, or publish it.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyImageSharePermission {
    pub region_id: String,
    pub image_id: String,
    /// Account IDs, at most 10.
    pub add_account: Vec<String>,
    pub remove_account: Vec<String>,
    pub is_public: Option<bool>,
    pub launch_permission: Option<String>,
    pub dry_run: Option<bool>,
}

/// DescribeImageSharePermission: accounts an image is shared with.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImageSharePermission {
    pub region_id: String,
    pub image_id: String,
    pub page_number: Option<u32>,
    pub page_size: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// Responses

/// Response carrying only `RequestId` (ModifyImageAttribute, DeleteImage, CancelTask, …).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmptyResponse {
    #[serde(rename = "RequestId", alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
}

/// DescribeImages result page.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DescribeImagesResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub region_id: String,
    #[serde(deserialize_with = "de::integer")]
    pub total_count: u64,
    #[serde(deserialize_with = "de::integer")]
    pub page_number: u32,
    #[serde(deserialize_with = "de::integer")]
    pub page_size: u32,
    #[serde(deserialize_with = "de::list")]
    pub images: Vec<Image>,
}

/// An ECS image as DescribeImages returns it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Image {
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
    #[serde(deserialize_with = "de::string")]
    pub image_name: String,
    #[serde(deserialize_with = "de::string")]
    pub description: String,
    #[serde(deserialize_with = "de::string")]
    pub image_family: String,
    #[serde(deserialize_with = "de::string")]
    pub image_version: String,
    /// See [`Image::status`].
    #[serde(deserialize_with = "de::string")]
    pub status: String,
    /// Percent string such as `"100%"`; see [`Image::progress_percent`].
    #[serde(deserialize_with = "de::string")]
    pub progress: String,
    /// GiB (system-disk snapshot only when data disks are present).
    #[serde(deserialize_with = "de::integer")]
    pub size: u64,
    #[serde(deserialize_with = "de::string")]
    pub creation_time: String,
    #[serde(deserialize_with = "de::string")]
    pub image_owner_alias: String,
    #[serde(deserialize_with = "de::integer")]
    pub image_owner_id: u64,
    #[serde(rename = "OSType", deserialize_with = "de::string")]
    pub os_type: String,
    #[serde(rename = "OSName", deserialize_with = "de::string")]
    pub os_name: String,
    #[serde(rename = "OSNameEn", deserialize_with = "de::string")]
    pub os_name_en: String,
    #[serde(deserialize_with = "de::string")]
    pub platform: String,
    #[serde(deserialize_with = "de::string")]
    pub architecture: String,
    #[serde(deserialize_with = "de::string")]
    pub boot_mode: String,
    #[serde(deserialize_with = "de::boolean")]
    pub is_support_io_optimized: bool,
    #[serde(deserialize_with = "de::boolean")]
    pub is_support_cloudinit: bool,
    #[serde(deserialize_with = "de::boolean")]
    pub is_copied: bool,
    #[serde(deserialize_with = "de::boolean")]
    pub is_public: bool,
    #[serde(deserialize_with = "de::boolean")]
    pub is_subscribed: bool,
    /// Sent as the string `"True"`/`"False"`.
    #[serde(deserialize_with = "de::boolean")]
    pub is_self_shared: bool,
    #[serde(deserialize_with = "de::boolean")]
    pub login_as_non_root_supported: bool,
    #[serde(deserialize_with = "de::string")]
    pub usage: String,
    #[serde(deserialize_with = "de::string")]
    pub product_code: String,
    #[serde(deserialize_with = "de::string")]
    pub supplier_name: String,
    #[serde(deserialize_with = "de::string")]
    pub resource_group_id: String,
    #[serde(deserialize_with = "de::string")]
    pub license_type: String,
    #[serde(deserialize_with = "de::list")]
    pub disk_device_mappings: Vec<DiskDeviceMapping>,
    #[serde(deserialize_with = "de::object")]
    pub features: ImageFeatures,
    #[serde(deserialize_with = "de::object")]
    pub detection_options: DetectionOptions,
    #[serde(deserialize_with = "de::list")]
    pub tags: Vec<ResourceTag>,
}

impl Image {
    pub fn status(&self) -> ImageStatus {
        ImageStatus::parse(&self.status)
    }

    /// Creation/copy progress (0–100), if the API reported one.
    pub fn progress_percent(&self) -> Option<u8> {
        de::progress_percent(&self.progress)
    }

    pub fn architecture(&self) -> Architecture {
        Architecture::parse(&self.architecture)
    }

    pub fn os_type(&self) -> OsType {
        OsType::parse(&self.os_type)
    }

    pub fn boot_mode(&self) -> BootMode {
        BootMode::parse(&self.boot_mode)
    }

    pub fn image_owner_alias(&self) -> ImageOwnerAlias {
        ImageOwnerAlias::parse(&self.image_owner_alias)
    }
}

/// One disk of an image.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DiskDeviceMapping {
    #[serde(deserialize_with = "de::string")]
    pub snapshot_id: String,
    /// GiB (a string on the wire).
    #[serde(deserialize_with = "de::integer")]
    pub size: u64,
    #[serde(deserialize_with = "de::string")]
    pub device: String,
    /// `system` / `data`.
    #[serde(rename = "Type", deserialize_with = "de::string")]
    pub disk_type: String,
    #[serde(deserialize_with = "de::string")]
    pub format: String,
    #[serde(rename = "ImportOSSBucket", deserialize_with = "de::string")]
    pub import_oss_bucket: String,
    #[serde(rename = "ImportOSSObject", deserialize_with = "de::string")]
    pub import_oss_object: String,
    /// Copy progress, `"45%"`.
    #[serde(deserialize_with = "de::string")]
    pub progress: String,
    /// Seconds left for a copy.
    #[serde(deserialize_with = "de::integer")]
    pub remain_time: u64,
    #[serde(deserialize_with = "de::boolean")]
    pub encrypted: bool,
}

impl DiskDeviceMapping {
    pub fn progress_percent(&self) -> Option<u8> {
        de::progress_percent(&self.progress)
    }
}

/// Image feature flags.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ImageFeatures {
    #[serde(deserialize_with = "de::string")]
    pub nvme_support: String,
    #[serde(deserialize_with = "de::string")]
    pub imds_support: String,
    #[serde(deserialize_with = "de::string")]
    pub cpu_online_upgrade: String,
    #[serde(deserialize_with = "de::string")]
    pub cpu_online_downgrade: String,
    #[serde(deserialize_with = "de::string")]
    pub memory_online_upgrade: String,
    #[serde(deserialize_with = "de::string")]
    pub memory_online_downgrade: String,
}

impl ImageFeatures {
    pub fn nvme_support(&self) -> NvmeSupport {
        NvmeSupport::parse(&self.nvme_support)
    }

    pub fn imds_support(&self) -> ImdsSupport {
        ImdsSupport::parse(&self.imds_support)
    }
}

/// Result of the image check (`DetectionStrategy=Standard`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DetectionOptions {
    /// `Processing` / `Finished`.
    #[serde(deserialize_with = "de::string")]
    pub status: String,
    #[serde(deserialize_with = "de::list")]
    pub items: Vec<DetectionItem>,
}

/// One finding of the image check.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DetectionItem {
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub value: String,
    /// `High` / `Medium`.
    #[serde(deserialize_with = "de::string")]
    pub risk_level: String,
    #[serde(deserialize_with = "de::string")]
    pub risk_code: String,
}

/// A tag in a response (`TagKey`/`TagValue`, unlike requests' `Key`/`Value`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ResourceTag {
    #[serde(deserialize_with = "de::string")]
    pub tag_key: String,
    #[serde(deserialize_with = "de::string")]
    pub tag_value: String,
}

/// Wire form of responses that start a task; the task ID has had three names over time.
#[derive(Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct RawTaskStarted {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    request_id: String,
    #[serde(deserialize_with = "de::string")]
    region_id: String,
    #[serde(deserialize_with = "de::string")]
    image_id: String,
    #[serde(deserialize_with = "de::string")]
    task_id: String,
    #[serde(deserialize_with = "de::string")]
    import_task_id: String,
    #[serde(deserialize_with = "de::string")]
    export_task_id: String,
}

impl RawTaskStarted {
    /// `TaskId`, else whichever older name was sent.
    fn take_task_id(&mut self) -> String {
        [&mut self.task_id, &mut self.import_task_id, &mut self.export_task_id]
            .into_iter()
            .map(std::mem::take)
            .find(|id| !id.is_empty())
            .unwrap_or_default()
    }
}

/// ImportImage result: the new image and its import task (`TaskId`, formerly `ImportTaskId`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(from = "RawTaskStarted")]
pub struct ImportImageResponse {
    pub request_id: String,
    pub region_id: String,
    pub image_id: String,
    pub task_id: String,
}

impl From<RawTaskStarted> for ImportImageResponse {
    fn from(mut raw: RawTaskStarted) -> Self {
        Self {
            task_id: raw.take_task_id(),
            request_id: raw.request_id,
            region_id: raw.region_id,
            image_id: raw.image_id,
        }
    }
}

/// ExportImage result: the export task (`TaskId`, in doc samples `ExportTaskId`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(from = "RawTaskStarted")]
pub struct ExportImageResponse {
    pub request_id: String,
    pub region_id: String,
    pub task_id: String,
}

impl From<RawTaskStarted> for ExportImageResponse {
    fn from(mut raw: RawTaskStarted) -> Self {
        Self { task_id: raw.take_task_id(), request_id: raw.request_id, region_id: raw.region_id }
    }
}

/// CreateImage / CopyImage result: the new image's ID (Apsara answers only `RequestID`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ImageIdResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
}

/// DescribeTasks result page.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DescribeTasksResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub region_id: String,
    #[serde(deserialize_with = "de::integer")]
    pub total_count: u64,
    #[serde(deserialize_with = "de::integer")]
    pub page_number: u32,
    #[serde(deserialize_with = "de::integer")]
    pub page_size: u32,
    #[serde(deserialize_with = "de::list")]
    pub task_set: Vec<Task>,
}

/// One task in DescribeTasks.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Task {
    #[serde(deserialize_with = "de::string")]
    pub task_id: String,
    #[serde(deserialize_with = "de::string")]
    pub task_action: String,
    #[serde(deserialize_with = "de::string")]
    pub task_status: String,
    /// Sent as the string `"true"`/`"false"`.
    #[serde(deserialize_with = "de::boolean")]
    pub support_cancel: bool,
    /// Minute precision, `2015-11-24T12:50Z`.
    #[serde(deserialize_with = "de::string")]
    pub creation_time: String,
    #[serde(deserialize_with = "de::string")]
    pub finished_time: String,
    #[serde(deserialize_with = "de::string")]
    pub resource_id: String,
}

impl Task {
    pub fn task_action(&self) -> TaskAction {
        TaskAction::parse(&self.task_action)
    }

    pub fn task_status(&self) -> TaskStatus {
        TaskStatus::parse(&self.task_status)
    }

    /// True for `ImportImage` and the old `IMPORT_IMAGE`.
    pub fn is_import(&self) -> bool {
        self.task_action() == TaskAction::ImportImage
    }
}

/// DescribeTaskAttribute result.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DescribeTaskAttributeResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub region_id: String,
    #[serde(deserialize_with = "de::string")]
    pub task_id: String,
    #[serde(deserialize_with = "de::string")]
    pub task_action: String,
    #[serde(deserialize_with = "de::string")]
    pub task_status: String,
    /// Progress string, `"100%"`; see [`DescribeTaskAttributeResponse::progress_percent`].
    #[serde(deserialize_with = "de::string")]
    pub task_process: String,
    #[serde(deserialize_with = "de::boolean")]
    pub support_cancel: bool,
    #[serde(deserialize_with = "de::string")]
    pub creation_time: String,
    #[serde(deserialize_with = "de::string")]
    pub finished_time: String,
    #[serde(deserialize_with = "de::integer")]
    pub total_count: u64,
    #[serde(deserialize_with = "de::integer")]
    pub success_count: u64,
    #[serde(deserialize_with = "de::integer")]
    pub failed_count: u64,
    #[serde(deserialize_with = "de::list")]
    pub operation_progress_set: Vec<OperationProgress>,
}

impl DescribeTaskAttributeResponse {
    pub fn task_action(&self) -> TaskAction {
        TaskAction::parse(&self.task_action)
    }

    pub fn task_status(&self) -> TaskStatus {
        TaskStatus::parse(&self.task_status)
    }

    pub fn is_import(&self) -> bool {
        self.task_action() == TaskAction::ImportImage
    }

    pub fn progress_percent(&self) -> Option<u8> {
        de::progress_percent(&self.task_process)
    }
}

/// Per-resource outcome of a task.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct OperationProgress {
    /// e.g. `Success`.
    #[serde(deserialize_with = "de::string")]
    pub operation_status: String,
    #[serde(deserialize_with = "de::string")]
    pub error_code: String,
    #[serde(deserialize_with = "de::string")]
    pub error_msg: String,
    #[serde(deserialize_with = "de::list")]
    pub related_item_set: Vec<RelatedItem>,
}

/// A name/value detail of an operation (ExportImage: `OSSBucket`, `OSSObject`, `ImageFormat`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RelatedItem {
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub value: String,
}

/// DescribeRegions result.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DescribeRegionsResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::list")]
    pub regions: Vec<Region>,
}

/// One ECS region.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Region {
    #[serde(deserialize_with = "de::string")]
    pub region_id: String,
    #[serde(deserialize_with = "de::string")]
    pub local_name: String,
    #[serde(deserialize_with = "de::string")]
    pub region_endpoint: String,
    /// `available` / `soldOut`.
    #[serde(deserialize_with = "de::string")]
    pub status: String,
}

/// DescribeImageSharePermission result page.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DescribeImageSharePermissionResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub region_id: String,
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
    #[serde(deserialize_with = "de::integer")]
    pub total_count: u64,
    #[serde(deserialize_with = "de::integer")]
    pub page_number: u32,
    #[serde(deserialize_with = "de::integer")]
    pub page_size: u32,
    #[serde(deserialize_with = "de::list")]
    pub accounts: Vec<ShareAccount>,
    #[serde(deserialize_with = "de::list")]
    pub share_groups: Vec<ShareGroup>,
}

/// An account an image is shared with.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ShareAccount {
    #[serde(deserialize_with = "de::string")]
    pub aliyun_id: String,
}

/// A share group (`all` when the image is published).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ShareGroup {
    #[serde(deserialize_with = "de::string")]
    pub group: String,
}

// ---------------------------------------------------------------------------------------------
// Operation wiring

fn non_empty(region: &str) -> Option<&str> {
    (!region.is_empty()).then_some(region)
}

macro_rules! ecs_operation {
    ($request:ty, $action:literal, $response:ty $(, $token:ident)? $(; repeat_done = $code:literal)?) => {
        impl RpcOperation for $request {
            const PRODUCT: Product = Product::Ecs;
            const ACTION: &'static str = $action;
            type Response = $response;

            fn region_id(&self) -> Option<&str> {
                non_empty(&self.region_id)
            }

            $(fn client_token_mut(&mut self) -> Option<&mut Option<String>> {
                Some(&mut self.$token)
            })?

            $(fn done_if_repeat_answers(&self) -> Option<&'static str> {
                Some($code)
            })?
        }
    };
}

ecs_operation!(DescribeImages, "DescribeImages", DescribeImagesResponse);
ecs_operation!(ImportImage, "ImportImage", ImportImageResponse, client_token);
ecs_operation!(CreateImage, "CreateImage", ImageIdResponse, client_token);
ecs_operation!(ModifyImageAttribute, "ModifyImageAttribute", EmptyResponse);
ecs_operation!(DeleteImage, "DeleteImage", EmptyResponse; repeat_done = "InvalidImageId.NotFound");
ecs_operation!(CopyImage, "CopyImage", ImageIdResponse, client_token);
ecs_operation!(CancelCopyImage, "CancelCopyImage", EmptyResponse);
ecs_operation!(ExportImage, "ExportImage", ExportImageResponse);
ecs_operation!(DescribeTasks, "DescribeTasks", DescribeTasksResponse);
ecs_operation!(DescribeTaskAttribute, "DescribeTaskAttribute", DescribeTaskAttributeResponse);
ecs_operation!(CancelTask, "CancelTask", EmptyResponse);
ecs_operation!(ModifyImageSharePermission, "ModifyImageSharePermission", EmptyResponse);
ecs_operation!(
    DescribeImageSharePermission,
    "DescribeImageSharePermission",
    DescribeImageSharePermissionResponse
);

impl RpcOperation for DescribeRegions {
    const PRODUCT: Product = Product::Ecs;
    const ACTION: &'static str = "DescribeRegions";
    type Response = DescribeRegionsResponse;
}

paged_operation!(DescribeImages => Image, images, 100);

paged_operation!(DescribeTasks => Task, task_set, 100);

paged_operation!(DescribeImageSharePermission => ShareAccount, accounts, 100);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ops::PagedOperation;
    use crate::protocol::ops::test_support::{expected, sorted as wire};

    #[test]
    fn import_image_full_wire_params() {
        let request = ImportImage {
            region_id: "cn-hangzhou".into(),
            disk_device_mapping: vec![
                ImportDiskMapping {
                    oss_bucket: "ecsimageos".into(),
                    oss_object: "CentOS_7.qcow2".into(),
                    format: Some(ImageFormat::Qcow2),
                    disk_image_size: Some(40),
                    device: Some("/dev/xvda".into()),
                },
                ImportDiskMapping {
                    oss_bucket: "ecsimageos".into(),
                    oss_object: "data.raw".into(),
                    format: Some(ImageFormat::Raw),
                    disk_image_size: None,
                    device: None,
                },
            ],
            image_name: Some("centos-7".into()),
            description: Some("imported".into()),
            architecture: Some(Architecture::X86_64),
            os_type: Some(OsType::Linux),
            platform: Some("CentOS".into()),
            boot_mode: Some(BootMode::Uefi),
            license_type: Some(LicenseType::Byol),
            detection_strategy: Some(DetectionStrategy::Standard),
            features: Some(FeatureParams {
                nvme_support: Some(NvmeSupport::Supported),
                imds_support: Some(ImdsSupport::V2),
            }),
            role_name: Some("AliyunECSImageImportDefaultRole".into()),
            client_token: Some("tok-1".into()),
            resource_group_id: Some("rg-1".into()),
            tag: vec![Tag::new("env", "dev"), Tag { key: "team".into(), value: None }],
            storage_location_arn: Some("arn:acs:cloudbox:cn-hangzhou:1:cloudbox/cb-1".into()),
            dry_run: Some(true),
        };
        assert_eq!(
            wire(&request),
            expected(&[
                ("RegionId", "cn-hangzhou"),
                ("DiskDeviceMapping.1.OSSBucket", "ecsimageos"),
                ("DiskDeviceMapping.1.OSSObject", "CentOS_7.qcow2"),
                ("DiskDeviceMapping.1.Format", "QCOW2"),
                ("DiskDeviceMapping.1.DiskImageSize", "40"),
                ("DiskDeviceMapping.1.Device", "/dev/xvda"),
                ("DiskDeviceMapping.2.OSSBucket", "ecsimageos"),
                ("DiskDeviceMapping.2.OSSObject", "data.raw"),
                ("DiskDeviceMapping.2.Format", "RAW"),
                ("ImageName", "centos-7"),
                ("Description", "imported"),
                ("Architecture", "x86_64"),
                ("OSType", "linux"),
                ("Platform", "CentOS"),
                ("BootMode", "UEFI"),
                ("LicenseType", "BYOL"),
                ("DetectionStrategy", "Standard"),
                ("Features.NvmeSupport", "supported"),
                ("Features.ImdsSupport", "v2"),
                ("RoleName", "AliyunECSImageImportDefaultRole"),
                ("ClientToken", "tok-1"),
                ("ResourceGroupId", "rg-1"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "dev"),
                ("Tag.2.Key", "team"),
                ("StorageLocationArn", "arn:acs:cloudbox:cn-hangzhou:1:cloudbox/cb-1"),
                ("DryRun", "true"),
            ])
        );
        assert_eq!(ImportImage::ACTION, "ImportImage");
        assert_eq!(ImportImage::PRODUCT, Product::Ecs);
        assert_eq!(request.region_id(), Some("cn-hangzhou"));
    }

    #[test]
    fn minimal_import_sends_only_what_is_set() {
        let request = ImportImage {
            region_id: "cn-hangzhou".into(),
            disk_device_mapping: vec![ImportDiskMapping {
                oss_bucket: "b".into(),
                oss_object: "o.raw".into(),
                ..Default::default()
            }],
            features: Some(FeatureParams::default()),
            ..Default::default()
        };
        assert_eq!(
            wire(&request),
            expected(&[
                ("RegionId", "cn-hangzhou"),
                ("DiskDeviceMapping.1.OSSBucket", "b"),
                ("DiskDeviceMapping.1.OSSObject", "o.raw"),
            ])
        );
    }

    #[test]
    fn create_image_with_disk_mappings() {
        let request = CreateImage {
            region_id: "cn-qingdao-env17-d01".into(),
            disk_device_mapping: vec![
                CreateDiskMapping {
                    snapshot_id: Some("s-sys".into()),
                    size: Some(40),
                    disk_type: Some(DiskType::System),
                    device: Some("/dev/xvda".into()),
                },
                CreateDiskMapping {
                    snapshot_id: Some("s-data".into()),
                    size: None,
                    disk_type: Some(DiskType::Data),
                    device: Some("/dev/xvdb".into()),
                },
            ],
            image_name: Some("TestCentOS".into()),
            architecture: Some(Architecture::Arm64),
            boot_mode: Some(BootMode::UefiPreferred),
            features: Some(FeatureParams { nvme_support: None, imds_support: Some(ImdsSupport::V1) }),
            client_token: Some("123e4567".into()),
            ..Default::default()
        };
        assert_eq!(
            wire(&request),
            expected(&[
                ("RegionId", "cn-qingdao-env17-d01"),
                ("DiskDeviceMapping.1.SnapshotId", "s-sys"),
                ("DiskDeviceMapping.1.Size", "40"),
                ("DiskDeviceMapping.1.DiskType", "system"),
                ("DiskDeviceMapping.1.Device", "/dev/xvda"),
                ("DiskDeviceMapping.2.SnapshotId", "s-data"),
                ("DiskDeviceMapping.2.DiskType", "data"),
                ("DiskDeviceMapping.2.Device", "/dev/xvdb"),
                ("ImageName", "TestCentOS"),
                ("Architecture", "arm64"),
                ("BootMode", "UEFI-Preferred"),
                ("Features.ImdsSupport", "v1"),
                ("ClientToken", "123e4567"),
            ])
        );
    }

    #[test]
    fn modify_image_attribute_with_features() {
        let request = ModifyImageAttribute {
            region_id: "cn-hangzhou".into(),
            image_id: "m-bp18ygjuqnwhechc****".into(),
            image_family: Some("hangzhou-daily-update".into()),
            boot_mode: Some(BootMode::Bios),
            license_type: Some(LicenseType::Byol),
            status: Some(ImageStatus::Deprecated),
            features: Some(FeatureParams {
                nvme_support: Some(NvmeSupport::Supported),
                imds_support: Some(ImdsSupport::V2),
            }),
            dry_run: Some(false),
            ..Default::default()
        };
        assert_eq!(
            wire(&request),
            expected(&[
                ("RegionId", "cn-hangzhou"),
                ("ImageId", "m-bp18ygjuqnwhechc****"),
                ("ImageFamily", "hangzhou-daily-update"),
                ("BootMode", "BIOS"),
                ("LicenseType", "BYOL"),
                ("Status", "Deprecated"),
                ("Features.NvmeSupport", "supported"),
                ("Features.ImdsSupport", "v2"),
                ("DryRun", "false"),
            ])
        );
    }

    #[test]
    fn describe_images_with_status_list_tags_and_filters() {
        let mut request = DescribeImages {
            region_id: "cn-hangzhou".into(),
            status: vec![ImageStatus::Creating, ImageStatus::Waiting, ImageStatus::Available],
            image_owner_alias: Some(ImageOwnerAlias::SelfOwned),
            os_type: Some(OsType::Windows),
            usage: Some(ImageUsage::None),
            action_type: Some(ActionType::ChangeOs),
            tag: vec![Tag::new("env", "prod")],
            filter: vec![
                Filter { key: ImageFilterKey::CreationStartTime, value: "2024-01-01T00:00Z".into() },
                Filter { key: ImageFilterKey::CreationEndTime, value: "2024-02-01T00:00Z".into() },
            ],
            ..Default::default()
        };
        request.set_page(3, DescribeImages::MAX_PAGE_SIZE);
        assert_eq!(
            wire(&request),
            expected(&[
                ("RegionId", "cn-hangzhou"),
                ("Status", "Creating,Waiting,Available"),
                ("ImageOwnerAlias", "self"),
                ("OSType", "windows"),
                ("Usage", "none"),
                ("ActionType", "ChangeOS"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "prod"),
                ("Filter.1.Key", "CreationStartTime"),
                ("Filter.1.Value", "2024-01-01T00:00Z"),
                ("Filter.2.Key", "CreationEndTime"),
                ("Filter.2.Value", "2024-02-01T00:00Z"),
                ("PageNumber", "3"),
                ("PageSize", "100"),
            ])
        );
        let all = DescribeImages { status: ImageStatus::all(), ..Default::default() };
        assert_eq!(
            all.to_params().unwrap().get("Status"),
            Some("Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated")
        );
        // Empty region and no status: nothing is sent for them, and no endpoint region is claimed.
        let bare = DescribeImages::default();
        assert!(bare.to_params().unwrap().is_empty());
        assert_eq!(bare.region_id(), None);
    }

    #[test]
    fn describe_tasks_sends_comma_list_and_resource_ids() {
        let request = DescribeTasks {
            region_id: "cn-hangzhou".into(),
            task_ids: Some(["t-1", "t-2", "t-3"].into_iter().collect()),
            task_action: Some(TaskAction::ImportImage),
            task_status: Some(TaskStatus::Processing),
            resource_ids: vec!["m-1".into(), "m-2".into()],
            ..Default::default()
        };
        assert_eq!(
            wire(&request),
            expected(&[
                ("RegionId", "cn-hangzhou"),
                ("TaskIds", "t-1,t-2,t-3"),
                ("TaskAction", "ImportImage"),
                ("TaskStatus", "Processing"),
                ("ResourceIds.1", "m-1"),
                ("ResourceIds.2", "m-2"),
            ])
        );
    }

    #[test]
    fn other_requests_use_exact_names() {
        let copy = CopyImage {
            region_id: "cn-hangzhou".into(),
            image_id: "m-1".into(),
            destination_region_id: Some("cn-beijing".into()),
            encrypted: Some(true),
            kms_key_id: Some("key-1".into()),
            ..Default::default()
        };
        assert_eq!(
            wire(&copy),
            expected(&[
                ("RegionId", "cn-hangzhou"),
                ("ImageId", "m-1"),
                ("DestinationRegionId", "cn-beijing"),
                ("Encrypted", "true"),
                ("KMSKeyId", "key-1"),
            ])
        );
        let export = ExportImage {
            region_id: "r".into(),
            image_id: "m-1".into(),
            oss_bucket: "b".into(),
            oss_prefix: Some("p".into()),
            image_format: Some(ExportImageFormat::Vdi),
            ..Default::default()
        };
        assert_eq!(
            wire(&export),
            expected(&[
                ("RegionId", "r"),
                ("ImageId", "m-1"),
                ("OSSBucket", "b"),
                ("OSSPrefix", "p"),
                ("ImageFormat", "vdi"),
            ])
        );
        let delete =
            DeleteImage { region_id: "r".into(), image_id: "m-1".into(), force: Some(true), dry_run: None };
        assert_eq!(wire(&delete), expected(&[("RegionId", "r"), ("ImageId", "m-1"), ("Force", "true")]));
        let share = ModifyImageSharePermission {
            region_id: "r".into(),
            image_id: "m-1".into(),
            add_account: vec!["123".into(), "456".into()],
            ..Default::default()
        };
        assert_eq!(
            wire(&share),
            expected(&[
                ("RegionId", "r"),
                ("ImageId", "m-1"),
                ("AddAccount.1", "123"),
                ("AddAccount.2", "456")
            ])
        );
        let regions = DescribeRegions {
            accept_language: Some("en-US".into()),
            resource_type: Some(RegionResourceType::Instance),
            instance_charge_type: Some(InstanceChargeType::PostPaid),
        };
        assert_eq!(
            wire(&regions),
            expected(&[
                ("AcceptLanguage", "en-US"),
                ("InstanceChargeType", "PostPaid"),
                ("ResourceType", "instance")
            ])
        );
        assert_eq!(regions.region_id(), None);
    }

    #[test]
    fn creating_operations_expose_their_client_token() {
        let mut import = ImportImage::default();
        *import.client_token_mut().unwrap() = Some("a".into());
        assert_eq!(import.client_token.as_deref(), Some("a"));
        let mut create = CreateImage::default();
        assert!(create.client_token_mut().is_some());
        let mut copy = CopyImage::default();
        assert!(copy.client_token_mut().is_some());
        let mut delete = DeleteImage::default();
        assert!(delete.client_token_mut().is_none());
    }

    #[test]
    fn import_response_falls_back_to_import_task_id() {
        // Seed 003 sample (2016 docs).
        let old: ImportImageResponse = serde_json::from_str(
            r#"{"RequestId":"C8B26B44-0189-443E-9816-D951F59623A9","ImageId":"Img-231234567","ImportTaskId":"123-345-2332-22323"}"#,
        )
        .unwrap();
        assert_eq!(old.request_id, "C8B26B44-0189-443E-9816-D951F59623A9");
        assert_eq!(old.image_id, "Img-231234567");
        assert_eq!(old.task_id, "123-345-2332-22323");
        let current: ImportImageResponse = serde_json::from_str(
            r#"{"RequestId":"r","RegionId":"cn-hangzhou","ImageId":"m-1","TaskId":"t-1","ImportTaskId":"old"}"#,
        )
        .unwrap();
        assert_eq!((current.region_id.as_str(), current.task_id.as_str()), ("cn-hangzhou", "t-1"));
        let export: ExportImageResponse =
            serde_json::from_str(r#"{"RequestId":"r","RegionId":"cn-hangzhou","ExportTaskId":"t-9"}"#)
                .unwrap();
        assert_eq!(export.task_id, "t-9");
    }

    const DESCRIBE_IMAGES: &str = r#"{
        "RequestId": "B8A1E9B4-6EA2-4F1C-9F6D-0C1C2D9C0A11",
        "RegionId": "cn-hangzhou",
        "TotalCount": 2,
        "PageNumber": 1,
        "PageSize": 10,
        "Images": {"Image": [
            {
                "ImageId": "m-bp1g7004ksh0oeuc****",
                "ImageName": "testImageName",
                "ImageFamily": "hangzhou-daily-update",
                "Status": "Creating",
                "Progress": "45%",
                "Size": 40,
                "CreationTime": "2019-11-15T06:07:05Z",
                "ImageOwnerAlias": "self",
                "ImageOwnerId": 1234567890,
                "OSType": "linux",
                "OSName": "CentOS 7.9 64位",
                "OSNameEn": "CentOS 7.9 64 bit",
                "Platform": "CentOS",
                "Architecture": "x86_64",
                "BootMode": "BIOS",
                "IsSupportIoOptimized": true,
                "IsSupportCloudinit": true,
                "IsCopied": false,
                "IsPublic": false,
                "IsSubscribed": false,
                "IsSelfShared": "True",
                "LoginAsNonRootSupported": false,
                "Usage": "instance",
                "LicenseType": "Auto",
                "ResourceGroupId": "rg-1",
                "DiskDeviceMappings": {"DiskDeviceMapping": [
                    {"SnapshotId": "s-1", "Size": "40", "Device": "/dev/xvda", "Type": "system",
                     "Format": "qcow2", "ImportOSSBucket": "ecsimageos", "ImportOSSObject": "a.qcow2",
                     "Progress": "45%", "RemainTime": 30, "Encrypted": "false"},
                    {"SnapshotId": "s-2", "Size": 100, "Device": "/dev/xvdb", "Type": "data"}
                ]},
                "Features": {"NvmeSupport": "supported", "ImdsSupport": "v2"},
                "DetectionOptions": {"Status": "Finished", "Items": {"Item": [
                    {"Name": "cloud-init", "Value": "installed", "RiskLevel": "Medium", "RiskCode": "C1"}
                ]}},
                "Tags": {"Tag": [{"TagKey": "env", "TagValue": "dev"}]}
            },
            {
                "ImageId": "centos_7_9_x64_20G_alibase_20240101.vhd",
                "Status": "Available",
                "Progress": "100%",
                "ImageOwnerAlias": "system",
                "IsSelfShared": "False",
                "Tags": {"Tag": []},
                "DiskDeviceMappings": {"DiskDeviceMapping": []}
            }
        ]}
    }"#;

    #[test]
    fn describe_images_decodes_sdk_shape() {
        let response: DescribeImagesResponse = serde_json::from_str(DESCRIBE_IMAGES).unwrap();
        assert_eq!(response.region_id, "cn-hangzhou");
        assert_eq!((response.total_count, response.page_number, response.page_size), (2, 1, 10));
        let page = DescribeImages::into_page(response);
        assert_eq!(page.total_count, 2);
        let [custom, public] = &page.items[..] else { panic!("expected two images") };

        assert_eq!(custom.image_id, "m-bp1g7004ksh0oeuc****");
        assert_eq!(custom.status(), ImageStatus::Creating);
        assert_eq!(custom.progress_percent(), Some(45));
        assert_eq!(custom.size, 40);
        assert_eq!(custom.image_owner_id, 1_234_567_890);
        assert_eq!(custom.image_owner_alias(), ImageOwnerAlias::SelfOwned);
        assert_eq!(custom.os_type(), OsType::Linux);
        assert_eq!(custom.os_name_en, "CentOS 7.9 64 bit");
        assert_eq!(custom.architecture(), Architecture::X86_64);
        assert_eq!(custom.boot_mode(), BootMode::Bios);
        assert!(custom.is_self_shared && custom.is_support_io_optimized && !custom.is_copied);
        assert_eq!(custom.disk_device_mappings.len(), 2);
        let system = &custom.disk_device_mappings[0];
        assert_eq!((system.size, system.disk_type.as_str(), system.remain_time), (40, "system", 30));
        assert_eq!(system.import_oss_bucket, "ecsimageos");
        assert_eq!(system.progress_percent(), Some(45));
        assert!(!system.encrypted);
        assert_eq!(custom.disk_device_mappings[1].size, 100);
        assert_eq!(custom.features.nvme_support(), NvmeSupport::Supported);
        assert_eq!(custom.features.imds_support(), ImdsSupport::V2);
        assert_eq!(custom.detection_options.status, "Finished");
        assert_eq!(custom.detection_options.items[0].risk_level, "Medium");
        assert_eq!(custom.tags, vec![ResourceTag { tag_key: "env".into(), tag_value: "dev".into() }]);

        assert_eq!(public.status(), ImageStatus::Available);
        assert_eq!(public.progress_percent(), Some(100));
        assert!(!public.is_self_shared);
        assert!(public.tags.is_empty() && public.disk_device_mappings.is_empty());
        assert_eq!(public.features.nvme_support(), NvmeSupport::Other(String::new()));
    }

    #[test]
    fn describe_images_tolerates_singular_and_plain_lists() {
        let singular: DescribeImagesResponse = serde_json::from_str(
            r#"{"RequestId":"r","TotalCount":"1","Images":{"Image":{"ImageId":"m-1","Status":"UnAvailable",
                "Tags":{"Tag":{"TagKey":"k","TagValue":"v"}},"Features":null,"DetectionOptions":""}}}"#,
        )
        .unwrap();
        assert_eq!(singular.total_count, 1);
        assert_eq!(singular.images.len(), 1);
        assert_eq!(singular.images[0].status(), ImageStatus::UnAvailable);
        assert_eq!(singular.images[0].tags[0].tag_key, "k");

        let plain: DescribeImagesResponse = serde_json::from_str(
            r#"{"RequestId":"r","Images":[{"ImageId":"m-1","Tags":[{"TagKey":"a","TagValue":""}]},{"ImageId":"m-2"}]}"#,
        )
        .unwrap();
        assert_eq!(plain.images.len(), 2);
        assert_eq!(plain.images[0].tags[0].tag_key, "a");

        let empty: DescribeImagesResponse =
            serde_json::from_str(r#"{"RequestId":"r","TotalCount":0,"Images":{"Image":[]}}"#).unwrap();
        assert!(empty.images.is_empty());
        let missing: DescribeImagesResponse = serde_json::from_str(r#"{"RequestId":"r"}"#).unwrap();
        assert!(missing.images.is_empty());
        let unknown: DescribeImagesResponse =
            serde_json::from_str(r#"{"Images":{"Image":[{"Status":"Frozen","Architecture":"riscv64"}]}}"#)
                .unwrap();
        assert_eq!(unknown.images[0].status(), ImageStatus::Other("Frozen".into()));
        assert_eq!(unknown.images[0].architecture(), Architecture::Other("riscv64".into()));
    }

    #[test]
    fn apsara_request_id_spelling_is_accepted() {
        // Seed 004 (Apsara Stack CreateImage).
        let created: ImageIdResponse =
            serde_json::from_str(r#"{"RequestID":"1E3D5A1E0-67CA-43DA-24BC-EAF2D5A1E4DC"}"#).unwrap();
        assert_eq!(created.request_id, "1E3D5A1E0-67CA-43DA-24BC-EAF2D5A1E4DC");
        assert!(created.image_id.is_empty());
        let lower: EmptyResponse = serde_json::from_str(r#"{"requestId":"x"}"#).unwrap();
        assert_eq!(lower.request_id, "x");
        let import: ImportImageResponse = serde_json::from_str(r#"{"RequestID":"y","TaskId":"t"}"#).unwrap();
        assert_eq!(import.request_id, "y");
    }

    #[test]
    fn describe_tasks_decodes_task_set() {
        let response: DescribeTasksResponse = serde_json::from_str(
            r#"{"RequestId":"r","RegionId":"cn-hangzhou","TotalCount":2,"PageNumber":1,"PageSize":10,
               "TaskSet":{"Task":[
                 {"TaskId":"t-1","TaskAction":"ImportImage","TaskStatus":"Processing","SupportCancel":"true",
                  "CreationTime":"2015-11-24T12:50Z","FinishedTime":"","ResourceId":"m-1"},
                 {"TaskId":"t-2","TaskAction":"IMPORT_IMAGE","TaskStatus":"Finished","SupportCancel":"false"}
               ]}}"#,
        )
        .unwrap();
        let page = DescribeTasks::into_page(response);
        assert_eq!(page.total_count, 2);
        let [first, second] = &page.items[..] else { panic!("expected two tasks") };
        assert!(first.support_cancel && !second.support_cancel);
        assert!(first.is_import() && second.is_import());
        assert_eq!(second.task_action(), TaskAction::ImportImage);
        assert_eq!(first.task_status(), TaskStatus::Processing);
        assert_eq!(second.task_status(), TaskStatus::Finished);
        assert_eq!(first.resource_id, "m-1");

        // The published doc sample nests wrappers inside an array.
        let doc_sample: DescribeTasksResponse =
            serde_json::from_str(r#"{"TaskSet":[{"Task":[{"TaskId":"t-1"},{"TaskId":"t-2"}]}]}"#).unwrap();
        assert_eq!(doc_sample.task_set.len(), 2);
        let export = Task { task_action: "ExportImage".into(), ..Default::default() };
        assert!(!export.is_import());
    }

    #[test]
    fn describe_task_attribute_decodes_operation_progress() {
        let response: DescribeTaskAttributeResponse = serde_json::from_str(
            r#"{"RequestId":"r","RegionId":"cn-hangzhou","TaskId":"t-1","TaskAction":"ExportImage",
               "TaskStatus":"Finished","TaskProcess":"100%","SupportCancel":"false",
               "CreationTime":"2015-11-24T12:50Z","FinishedTime":"2015-11-24T13:10Z",
               "TotalCount":1,"SuccessCount":"1","FailedCount":0,
               "OperationProgressSet":{"OperationProgress":[{"OperationStatus":"Success","ErrorCode":"",
                 "ErrorMsg":"","RelatedItemSet":{"RelatedItem":[
                   {"Name":"OSSBucket","Value":"b"},{"Name":"OSSObject","Value":"o.raw"},
                   {"Name":"ImageFormat","Value":"raw"}]}}]}}"#,
        )
        .unwrap();
        assert_eq!(response.progress_percent(), Some(100));
        assert_eq!(response.task_action(), TaskAction::ExportImage);
        assert!(!response.is_import());
        assert_eq!(response.task_status(), TaskStatus::Finished);
        assert_eq!((response.total_count, response.success_count, response.failed_count), (1, 1, 0));
        let progress = &response.operation_progress_set[0];
        assert_eq!(progress.operation_status, "Success");
        assert_eq!(progress.related_item_set.len(), 3);
        assert_eq!(
            progress.related_item_set[1],
            RelatedItem { name: "OSSObject".into(), value: "o.raw".into() }
        );
    }

    #[test]
    fn describe_regions_and_share_permissions_decode() {
        let regions: DescribeRegionsResponse = serde_json::from_str(
            r#"{"RequestId":"r","Regions":{"Region":[{"RegionId":"cn-hangzhou","LocalName":"华东1（杭州）",
               "RegionEndpoint":"ecs.cn-hangzhou.aliyuncs.com","Status":"available"}]}}"#,
        )
        .unwrap();
        assert_eq!(regions.regions[0].region_endpoint, "ecs.cn-hangzhou.aliyuncs.com");
        let shares: DescribeImageSharePermissionResponse = serde_json::from_str(
            r#"{"RequestId":"r","ImageId":"m-1","TotalCount":1,"Accounts":{"Account":[{"AliyunId":"123"}]},
               "ShareGroups":{"ShareGroup":[{"Group":"all"}]}}"#,
        )
        .unwrap();
        assert_eq!(shares.share_groups[0].group, "all");
        let page = DescribeImageSharePermission::into_page(shares);
        assert_eq!(page.items[0].aliyun_id, "123");
    }

    #[test]
    fn enums_read_old_spellings() {
        assert_eq!(OsType::parse("Windows"), OsType::Windows);
        assert_eq!(ImageStatus::parse("Unavailable"), ImageStatus::UnAvailable);
        assert_eq!(BootMode::parse("UEFI-Preferred"), BootMode::UefiPreferred);
        assert_eq!(Architecture::default(), Architecture::X86_64);
        assert_eq!(ImageOwnerAlias::parse("others"), ImageOwnerAlias::Others);
    }
}
