//! Documented field rules for every operation, as data over wire parameters ([`Params`]).
//!
//! One table serves two callers: UI forms (inline errors while typing, hints from [`rules`]) and
//! the local sandbox (refusing malformed incoming requests with the code the real API returns).
//! Sources: spec apis.md §1.2–1.11, §1.15, §2, §3.1; errors.md §5; seeds 000–004.
//!
//! Shape: [`rules`] gives per-parameter rules (patterns like `Tag.N.Key`, `N` = any list index);
//! [`cross_rules`] gives rules that look at several parameters, whole lists, JSON contents or the
//! caller's [`Context`]. Empty values count as absent ("empty ⇒ keep current", apis.md §1.4),
//! except tag keys, which may never be empty once sent.
//!
//! Each [`FieldError`] names a concrete field and a stable rule id `<family>.<what>`
//! (`image_name.first_char`, `tag.duplicate_key`, `int.range`, `required.missing`, …); a field
//! gets at most one error per rule, and a value check reports only its first failure.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use super::Product;
use super::params::Params;

/// The operations whose requests are validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    EcsDescribeImages,
    EcsImportImage,
    EcsCreateImage,
    EcsModifyImageAttribute,
    EcsDeleteImage,
    EcsCopyImage,
    EcsCancelCopyImage,
    EcsDescribeTasks,
    EcsDescribeTaskAttribute,
    EcsCancelTask,
    EcsDescribeRegions,
    EhpcAddImage,
    EhpcListImages,
    EhpcGetImage,
    EhpcRemoveImage,
    EnsImportImage,
    EnsDescribeImages,
    EnsDescribeSelfImages,
    EnsDeleteImage,
}

impl Operation {
    pub const ALL: [Operation; 19] = [
        Operation::EcsDescribeImages,
        Operation::EcsImportImage,
        Operation::EcsCreateImage,
        Operation::EcsModifyImageAttribute,
        Operation::EcsDeleteImage,
        Operation::EcsCopyImage,
        Operation::EcsCancelCopyImage,
        Operation::EcsDescribeTasks,
        Operation::EcsDescribeTaskAttribute,
        Operation::EcsCancelTask,
        Operation::EcsDescribeRegions,
        Operation::EhpcAddImage,
        Operation::EhpcListImages,
        Operation::EhpcGetImage,
        Operation::EhpcRemoveImage,
        Operation::EnsImportImage,
        Operation::EnsDescribeImages,
        Operation::EnsDescribeSelfImages,
        Operation::EnsDeleteImage,
    ];

    pub fn product(self) -> Product {
        use Operation::*;
        match self {
            EcsDescribeImages
            | EcsImportImage
            | EcsCreateImage
            | EcsModifyImageAttribute
            | EcsDeleteImage
            | EcsCopyImage
            | EcsCancelCopyImage
            | EcsDescribeTasks
            | EcsDescribeTaskAttribute
            | EcsCancelTask
            | EcsDescribeRegions => Product::Ecs,
            EhpcAddImage | EhpcListImages | EhpcGetImage | EhpcRemoveImage => Product::EhpcInstant,
            EnsImportImage | EnsDescribeImages | EnsDescribeSelfImages | EnsDeleteImage => Product::Ens,
        }
    }

    /// The `Action` parameter.
    pub fn action(self) -> &'static str {
        use Operation::*;
        match self {
            EcsDescribeImages | EnsDescribeImages => "DescribeImages",
            EcsImportImage | EnsImportImage => "ImportImage",
            EcsCreateImage => "CreateImage",
            EcsModifyImageAttribute => "ModifyImageAttribute",
            EcsDeleteImage | EnsDeleteImage => "DeleteImage",
            EcsCopyImage => "CopyImage",
            EcsCancelCopyImage => "CancelCopyImage",
            EcsDescribeTasks => "DescribeTasks",
            EcsDescribeTaskAttribute => "DescribeTaskAttribute",
            EcsCancelTask => "CancelTask",
            EcsDescribeRegions => "DescribeRegions",
            EhpcAddImage => "AddImage",
            EhpcListImages => "ListImages",
            EhpcGetImage => "GetImage",
            EhpcRemoveImage => "RemoveImage",
            EnsDescribeSelfImages => "DescribeSelfImages",
        }
    }

    /// Identify an operation from the `Version` and `Action` parameters (what a server routes by).
    pub fn from_action(product_version: &str, action: &str) -> Option<Self> {
        let product = Product::from_version(product_version)?;
        Self::ALL.into_iter().find(|op| op.product() == product && op.action() == action)
    }
}

/// One violated rule, located at a concrete wire parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Concrete wire name: `Tag.3.Key`, `DiskDeviceMapping.1.DiskImageSize`, `VMImageSpec.ImageId`.
    pub field: String,
    /// Stable rule id, e.g. `image_name.first_char`.
    pub rule: &'static str,
    /// The error code the real API returns for this violation.
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

/// Facts about existing state for state-dependent rules; unknown facts disable those rules.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// `"v2"` ⇒ `Features.ImdsSupport=v1` is refused.
    pub current_imds_support: Option<String>,
    /// `Some(true)` ⇒ `Status=Deprecated` is refused until the image is unshared.
    pub image_is_shared: Option<bool>,
    /// Architecture of the image being modified (arm64 images only boot UEFI).
    pub current_architecture: Option<String>,
}

/// Which documented image-name grammar applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// Current ECS rule (apis.md §1.15): `.` allowed, no `aliyun`/`acs:` prefix, no http(s)://
    /// anywhere.
    Ecs,
    /// CreateImage: its doc (and seed 004) omits `.` and the prefix clause, so a name passing
    /// either grammar is accepted (apis.md §1.15 "accept the union").
    EcsCreate,
    /// ENS ImportImage (apis.md §2.1): no `.`, only a http(s):// *prefix* is refused.
    Ens,
}

/// A reusable check on one parameter value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Documented, but with no value constraint (listed so forms know the field exists).
    Any,
    ImageName(NameRule),
    ImageFamily {
        dot_allowed: bool,
    },
    /// 2–256 chars, not starting with http:// or https://.
    Description,
    /// Character count within `min..=max`.
    Length {
        min: usize,
        max: usize,
    },
    /// At most `max` characters, all ASCII (ClientToken).
    Ascii {
        max: usize,
    },
    /// Exactly one of the values (case-sensitive).
    OneOf(&'static [&'static str]),
    /// One of the values, any letter case.
    OneOfIgnoreCase(&'static [&'static str]),
    /// Comma-separated values, each from the list.
    CommaSubset(&'static [&'static str]),
    /// Comma-separated non-empty items, at most `max` of them.
    CommaList {
        max: usize,
    },
    /// A decimal integer within `min..=max`.
    IntRange {
        min: i64,
        max: i64,
    },
    /// `true`/`false` (also `True`/`False`, which SDKs and doc samples send).
    Bool,
    TagKey,
    TagValue,
    /// An ID with this prefix and something after it.
    Prefix(&'static str),
    /// `/dev/xvda`…`/dev/xvdz` or `/dev/vda`…`/dev/vdz`.
    DevicePath,
    /// UTC time `yyyy-MM-ddTHH:mmZ`, or `yyyy-MM-ddTHH:mm:ssZ` with `seconds`.
    UtcTime {
        seconds: bool,
    },
    /// `arn:acs:cloudbox:{RegionId}:{AliUid}:cloudbox/{CloudBoxId}`.
    CloudBoxArn,
    /// A JSON object (sent as one JSON-string parameter) whose keys follow the sub-rules.
    JsonObject(&'static [FieldRule]),
    /// A JSON array of objects, each following the sub-rules.
    JsonArrayOf(&'static [FieldRule]),
    /// A JSON array of non-empty strings.
    JsonStringArray,
}

/// A rule for one parameter (or one JSON key, inside [`Check::JsonObject`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldRule {
    /// Wire name pattern; a segment `N` stands for a list index (`Tag.N.Key`).
    pub field: &'static str,
    /// Only meaningful for patterns without `N`.
    pub required: bool,
    pub check: Check,
    /// Code returned when the value breaks `check`.
    pub code: &'static str,
}

/// Rules that need several parameters, a whole list, JSON contents or the [`Context`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrossCheck {
    /// `Tag.N.Key/Value`: at most `max` entries, N in 1..=max, unique keys, no Value without Key.
    Tags { max: u64 },
    /// `list.N…`: N must be in 1..=max.
    ListIndex { list: &'static str, max: u64, code: &'static str },
    /// Every present `list.N` entry must carry each of `fields`.
    ItemRequires { list: &'static str, fields: &'static [&'static str] },
    /// `list.N.value` needs `list.N.key` (Filter).
    ValueNeedsKey { list: &'static str, key: &'static str, value: &'static str, code: &'static str },
    /// At least one of `sources` must be present (a trailing `.` matches a list prefix).
    AnyOf { sources: &'static [&'static str], field: &'static str, rule: &'static str },
    /// arm64 images boot UEFI only. `absent_ok`: an omitted BootMode is acceptable (its default or
    /// the current value works); otherwise the omitted default (BIOS) is refused. `from_context`:
    /// without an Architecture parameter, use [`Context::current_architecture`] (existing images).
    Arm64Uefi { absent_ok: bool, from_context: bool },
    /// CreateImage disk roles: ≤1 system, ≤16 data, device names fit the role and are unique.
    DiskRoles,
    /// IMDS cannot go back from v2 to v1 (needs [`Context::current_imds_support`]).
    ImdsNoDowngrade,
    /// Shared images cannot be deprecated (needs [`Context::image_is_shared`]).
    DeprecateNotShared,
    /// `IsPublic=true` only lists community images of `ImageOwnerAlias=others`.
    IsPublicNeedsOthers,
    /// CopyImage to the source region is refused unless it is an encrypting copy.
    CopyDestinationRegion,
    /// `start` must not be later than `end`.
    TimeOrder { start: &'static str, end: &'static str },
    /// E-HPC AddImage: the spec object matching ImageType must be present.
    EhpcImageSpec,
    /// E-HPC AddImage: an ACR Enterprise registry needs its instance ID.
    EhpcEnterpriseCriId,
    /// ENS ImportImage: OSSBucket+OSSObject or DiskDeviceMapping must say where the file is.
    EnsImportSource,
}

// ---------------------------------------------------------------------------------------------
// Value lists
// ---------------------------------------------------------------------------------------------

const ECS_ARCH: &[&str] = &["i386", "x86_64", "arm64"];
const OS_TYPES: &[&str] = &["windows", "linux"];
// apis.md §1.2 list; "Windows 7" comes from the 2016-era 12-value list (seed 004, Apsara).
const PLATFORMS: &[&str] = &[
    "Aliyun",
    "Anolis",
    "CentOS",
    "Ubuntu",
    "CoreOS",
    "SUSE",
    "Debian",
    "OpenSUSE",
    "FreeBSD",
    "RedHat",
    "Kylin",
    "UOS",
    "Fedora",
    "Fedora CoreOS",
    "CentOS Stream",
    "AlmaLinux",
    "Rocky Linux",
    "Gentoo",
    "Customized Linux",
    "Others Linux",
    "Windows Server 2022",
    "Windows Server 2019",
    "Windows Server 2016",
    "Windows Server 2012",
    "Windows Server 2008",
    "Windows Server 2003",
    "Windows 7",
];
const BOOT_IMPORT: &[&str] = &["BIOS", "UEFI"];
const BOOT_ALL: &[&str] = &["BIOS", "UEFI", "UEFI-Preferred"];
const LICENSE_IMPORT: &[&str] = &["Auto", "Aliyun", "BYOL"];
const LICENSE_MODIFY: &[&str] = &["BYOL"];
const DETECTION: &[&str] = &["Standard"];
const DISK_FORMATS: &[&str] = &["RAW", "VHD", "QCOW2", "VMDK"];
const NVME: &[&str] = &["supported", "unsupported"];
const IMDS: &[&str] = &["v1", "v2"];
const IMAGE_STATUS_FILTER: &[&str] =
    &["Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated"];
const MODIFY_STATUS: &[&str] = &["Deprecated", "Available"];
const OWNER_ALIAS: &[&str] = &["system", "self", "others", "marketplace"];
const USAGE: &[&str] = &["instance", "none"];
const ACTION_TYPE: &[&str] = &["CreateEcs", "ChangeOS"];
const FILTER_KEYS: &[&str] = &["CreationStartTime", "CreationEndTime"];
const DISK_TYPES: &[&str] = &["system", "data"];
const TASK_ACTIONS: &[&str] =
    &["ImportImage", "ExportImage", "RedeployInstance", "ModifyDiskSpec", "ArchiveSnapshot"];
const ACCEPT_LANGUAGE: &[&str] = &["zh-CN", "zh_TW", "en-US", "ja", "fr", "de", "ko"];
const CHARGE_TYPES: &[&str] = &["PrePaid", "PostPaid", "SpotWithPriceLimit", "SpotAsPriceGo"];
const RESOURCE_TYPES: &[&str] = &["instance", "disk", "reservedinstance", "scu"];
const EHPC_IMAGE_TYPES: &[&str] = &["VM", "Container"];
const EHPC_CATEGORIES: &[&str] = &["Public", "Custom"];
const EHPC_MODES: &[&str] = &["List", "Merge"];
const ENS_ARCH: &[&str] = &["x86_64"];
const ENS_OS_TYPES: &[&str] = &["linux", "windows"];
const ENS_FORMATS: &[&str] = &["qcow2"];
const ENS_COMPUTE: &[&str] = &["ens_vm"];
const ENS_PLATFORMS: &[&str] = &["centos", "ubuntu"];
const ENS_OSS_REGIONS: &[&str] = &["cn-beijing"];
const ENS_TARGET_REGIONS: &[&str] = &["cn-beijing", "ap-southeast-1"];

const INT32_MAX: i64 = i32::MAX as i64;

// Codes. ECS names its own; the gateway answers `MissingParameter`/`InvalidParameter`; ENS uses
// `InvalidParameter.<Name>` (seed 001); E-HPC Instant uses `InvalidParams` (seed 000).
const MISSING: &str = "MissingParameter";
const INVALID: &str = "InvalidParameter";
const EHPC_INVALID: &str = "InvalidParams";
const NAME_MALFORMED: &str = "InvalidImageName.Malformed";
const DESC_MALFORMED: &str = "InvalidDescription.Malformed";
const FAMILY_MALFORMED: &str = "InvalidImageFamily.Malformed";
const TAG_KEY_MALFORMED: &str = "InvalidTagKey.Malformed";
const TAG_VALUE_MALFORMED: &str = "InvalidTagValue.Malformed";

const fn opt(field: &'static str, check: Check, code: &'static str) -> FieldRule {
    FieldRule { field, required: false, check, code }
}

const fn req(field: &'static str, check: Check, code: &'static str) -> FieldRule {
    FieldRule { field, required: true, check, code }
}

// Lowercase `Tag.N.key/value` are deprecated aliases still in the metadata (apis.md §1.1,
// seed 004).
macro_rules! tag_rules {
    () => {
        [
            opt("Tag.N.Key", Check::TagKey, TAG_KEY_MALFORMED),
            opt("Tag.N.Value", Check::TagValue, TAG_VALUE_MALFORMED),
            opt("Tag.N.key", Check::TagKey, TAG_KEY_MALFORMED),
            opt("Tag.N.value", Check::TagValue, TAG_VALUE_MALFORMED),
        ]
    };
}

/// A rule table followed by the four tag rules.
macro_rules! with_tags {
    ($($rule:expr),* $(,)?) => {{
        const TAGS: [FieldRule; 4] = tag_rules!();
        &[$($rule,)* TAGS[0], TAGS[1], TAGS[2], TAGS[3]]
    }};
}

// ---------------------------------------------------------------------------------------------
// Per-parameter tables
// ---------------------------------------------------------------------------------------------

static ECS_DESCRIBE_IMAGES: &[FieldRule] = with_tags![
    req("RegionId", Check::Any, MISSING),
    opt("ImageId", Check::Any, INVALID),
    opt("ImageName", Check::Any, INVALID), // fuzzy filter, not a name being set
    opt("ImageFamily", Check::Any, INVALID),
    opt("Status", Check::CommaSubset(IMAGE_STATUS_FILTER), INVALID),
    opt("ImageOwnerAlias", Check::OneOf(OWNER_ALIAS), "InvalidImageOwnerAlias.ValueNotSupported"),
    opt("ImageOwnerId", Check::IntRange { min: 1, max: i64::MAX }, INVALID),
    opt("IsPublic", Check::Bool, INVALID),
    opt("OSType", Check::OneOf(OS_TYPES), "InvalidOSType"),
    opt("Architecture", Check::OneOf(ECS_ARCH), "InvalidArchitecture"),
    opt("Usage", Check::OneOf(USAGE), "InvalidUsage"),
    opt("SnapshotId", Check::Any, INVALID),
    opt("InstanceType", Check::Any, "InvalidInstanceType.ValueNotSupported"),
    opt("ActionType", Check::OneOf(ACTION_TYPE), INVALID),
    opt("IsSupportIoOptimized", Check::Bool, INVALID),
    opt("IsSupportCloudinit", Check::Bool, INVALID),
    opt("ShowExpired", Check::Bool, INVALID),
    opt("ResourceGroupId", Check::Any, INVALID),
    opt("Filter.N.Key", Check::OneOf(FILTER_KEYS), "InvalidFilterKey.NotFound"),
    opt("Filter.N.Value", Check::UtcTime { seconds: false }, INVALID),
    opt("PageNumber", Check::IntRange { min: 1, max: INT32_MAX }, INVALID),
    opt("PageSize", Check::IntRange { min: 1, max: 100 }, INVALID),
    opt("DryRun", Check::Bool, INVALID),
];

static ECS_IMPORT_IMAGE: &[FieldRule] = with_tags![
    req("RegionId", Check::Any, MISSING),
    req("DiskDeviceMapping.1.OSSBucket", Check::Any, "InvalidOSSBucket.NotFound"),
    req("DiskDeviceMapping.1.OSSObject", Check::Any, "InvalidOSSObject.Malformed"),
    opt("DiskDeviceMapping.N.OSSBucket", Check::Any, "InvalidOSSBucket.NotFound"),
    opt("DiskDeviceMapping.N.OSSObject", Check::Any, "InvalidOSSObject.Malformed"),
    // Case-insensitive in practice per errors.md §5 (unverified); refusing `qcow2` would be harsher
    // than the API.
    opt("DiskDeviceMapping.N.Format", Check::OneOfIgnoreCase(DISK_FORMATS), "InvalidImageFormat.Malformed"),
    // N=1 is the system disk (`InvalidImageSize`), N≥2 data disks (`InvalidDataDiskSize`).
    opt("DiskDeviceMapping.1.DiskImageSize", Check::IntRange { min: 1, max: 2048 }, "InvalidImageSize"),
    opt("DiskDeviceMapping.N.DiskImageSize", Check::IntRange { min: 1, max: 2048 }, "InvalidDataDiskSize"),
    opt("DiskDeviceMapping.1.DiskImSize", Check::IntRange { min: 1, max: 2048 }, "InvalidImageSize"),
    opt("DiskDeviceMapping.N.DiskImSize", Check::IntRange { min: 1, max: 2048 }, "InvalidDataDiskSize"),
    opt("DiskDeviceMapping.N.Device", Check::DevicePath, "InvalidParameter.Malformed"),
    opt("ImageName", Check::ImageName(NameRule::Ecs), NAME_MALFORMED),
    opt("Description", Check::Description, DESC_MALFORMED),
    opt("Architecture", Check::OneOf(ECS_ARCH), "InvalidArchitecture.Malformed"),
    // The 2016 doc spelled `Windows`/`Linux` (apis.md §1.2 seed-era table).
    opt("OSType", Check::OneOfIgnoreCase(OS_TYPES), "InvalidOSType.Malformed"),
    opt("Platform", Check::OneOf(PLATFORMS), "InvalidPlatform.Malformed"),
    opt("BootMode", Check::OneOf(BOOT_IMPORT), "InvalidBootMode.NotSupport"),
    opt("LicenseType", Check::OneOf(LICENSE_IMPORT), "InvalidLicenseType.NotSupported"),
    opt("DetectionStrategy", Check::OneOf(DETECTION), INVALID),
    opt("Features.NvmeSupport", Check::OneOf(NVME), INVALID),
    opt("Features.ImdsSupport", Check::OneOf(IMDS), "InvalidParameter.FeaturesImdsSupport"),
    opt("RoleName", Check::Any, INVALID),
    opt("ClientToken", Check::Ascii { max: 64 }, INVALID),
    opt("ResourceGroupId", Check::Any, INVALID),
    opt("StorageLocationArn", Check::CloudBoxArn, INVALID),
    opt("DryRun", Check::Bool, INVALID),
];

static ECS_CREATE_IMAGE: &[FieldRule] = with_tags![
    req("RegionId", Check::Any, MISSING),
    opt("InstanceId", Check::Any, "InvalidInstanceId.NotFound"),
    opt("SnapshotId", Check::Any, "InvalidSnapshotId.NotFound"),
    opt("DiskDeviceMapping.N.SnapshotId", Check::Any, "InvalidSnapshotId.NotFound"),
    // Without a snapshot: basic disks 5–2000, others 20–32768; with one: ≥ its size (unknown here).
    // The union of the documented ranges is what can be checked locally.
    opt("DiskDeviceMapping.N.Size", Check::IntRange { min: 5, max: 32768 }, INVALID),
    opt("DiskDeviceMapping.N.DiskType", Check::OneOf(DISK_TYPES), INVALID),
    opt("DiskDeviceMapping.N.Device", Check::DevicePath, "InvalidParameter.Malformed"),
    opt("ImageName", Check::ImageName(NameRule::EcsCreate), NAME_MALFORMED),
    opt("Description", Check::Description, DESC_MALFORMED),
    opt("ImageFamily", Check::ImageFamily { dot_allowed: false }, FAMILY_MALFORMED),
    opt("ImageVersion", Check::Any, INVALID),
    opt("Architecture", Check::OneOf(ECS_ARCH), "InvalidArchitecture.Malformed"),
    opt("Platform", Check::OneOf(PLATFORMS), "InvalidPlatform.Malformed"),
    opt("BootMode", Check::OneOf(BOOT_ALL), "InvalidBootMode.NotSupport"),
    opt("DetectionStrategy", Check::OneOf(DETECTION), INVALID),
    opt("Features.ImdsSupport", Check::OneOf(IMDS), "InvalidParameter.FeaturesImdsSupport"),
    opt("ClientToken", Check::Ascii { max: 64 }, INVALID),
    opt("ResourceGroupId", Check::Any, "InvalidResourceGroup.NotFound"),
    opt("DryRun", Check::Bool, INVALID),
];

static ECS_MODIFY_IMAGE_ATTRIBUTE: &[FieldRule] = &[
    req("RegionId", Check::Any, MISSING),
    req("ImageId", Check::Any, "InvalidImageId.NotFound"),
    opt("ImageName", Check::ImageName(NameRule::Ecs), NAME_MALFORMED),
    opt("Description", Check::Description, DESC_MALFORMED),
    opt("ImageFamily", Check::ImageFamily { dot_allowed: true }, FAMILY_MALFORMED),
    opt("BootMode", Check::OneOf(BOOT_ALL), "InvalidBootMode.NotSupport"),
    opt("LicenseType", Check::OneOf(LICENSE_MODIFY), "InvalidLicenseType.NotSupported"),
    opt("Status", Check::OneOf(MODIFY_STATUS), INVALID),
    opt("Features.NvmeSupport", Check::OneOf(NVME), INVALID),
    opt("Features.ImdsSupport", Check::OneOf(IMDS), "InvalidParameter.FeaturesImdsSupport"),
    opt("DryRun", Check::Bool, INVALID),
];

static ECS_DELETE_IMAGE: &[FieldRule] = &[
    req("RegionId", Check::Any, MISSING),
    req("ImageId", Check::Any, "InvalidImageId.NotFound"),
    opt("Force", Check::Bool, INVALID),
    opt("DryRun", Check::Bool, INVALID),
];

static ECS_COPY_IMAGE: &[FieldRule] = with_tags![
    req("RegionId", Check::Any, MISSING),
    req("ImageId", Check::Any, "InvalidImageId.NotFound"),
    opt("DestinationRegionId", Check::Any, "DestinationRegion.NotFound"),
    opt("DestinationImageName", Check::ImageName(NameRule::Ecs), NAME_MALFORMED),
    opt("DestinationDescription", Check::Description, DESC_MALFORMED),
    opt("Encrypted", Check::Bool, INVALID),
    opt("KMSKeyId", Check::Any, INVALID),
    opt("EncryptAlgorithm", Check::Any, INVALID),
    opt("ResourceGroupId", Check::Any, INVALID),
    opt("ClientToken", Check::Ascii { max: 64 }, INVALID),
    opt("DryRun", Check::Bool, INVALID),
];

static ECS_CANCEL_COPY_IMAGE: &[FieldRule] =
    &[req("RegionId", Check::Any, MISSING), req("ImageId", Check::Any, "InvalidImageId.NotFound")];

static ECS_DESCRIBE_TASKS: &[FieldRule] = &[
    req("RegionId", Check::Any, MISSING),
    opt("TaskIds", Check::CommaList { max: 100 }, INVALID),
    opt("TaskAction", Check::OneOf(TASK_ACTIONS), INVALID),
    opt("TaskStatus", Check::Any, INVALID), // other values are ignored by the API, not refused
    opt("StartTime", Check::UtcTime { seconds: true }, INVALID),
    opt("EndTime", Check::UtcTime { seconds: true }, INVALID),
    opt("ResourceIds.N", Check::Any, INVALID),
    opt("TaskGroupId", Check::Any, INVALID),
    opt("PageNumber", Check::IntRange { min: 1, max: INT32_MAX }, INVALID),
    opt("PageSize", Check::IntRange { min: 1, max: 100 }, INVALID),
];

static ECS_TASK_BY_ID: &[FieldRule] =
    &[req("RegionId", Check::Any, MISSING), req("TaskId", Check::Any, "InvalidTaskId.NotFound")];

static ECS_DESCRIBE_REGIONS: &[FieldRule] = &[
    opt("AcceptLanguage", Check::OneOf(ACCEPT_LANGUAGE), INVALID),
    opt("InstanceChargeType", Check::OneOf(CHARGE_TYPES), INVALID),
    opt("ResourceType", Check::OneOf(RESOURCE_TYPES), INVALID),
];

static EHPC_VM_SPEC: &[FieldRule] = &[req("ImageId", Check::Prefix("m-"), EHPC_INVALID)];

static EHPC_CREDENTIAL: &[FieldRule] = &[
    req("Server", Check::Any, EHPC_INVALID),
    req("UserName", Check::Any, EHPC_INVALID),
    req("Password", Check::Any, EHPC_INVALID),
];

static EHPC_CONTAINER_SPEC: &[FieldRule] = &[
    req("RegistryUrl", Check::Any, EHPC_INVALID),
    opt("IsACRRegistry", Check::Bool, EHPC_INVALID),
    opt("IsACREnterprise", Check::Bool, EHPC_INVALID),
    opt("RegistryCriId", Check::Prefix("cri-"), EHPC_INVALID),
    opt("RegistryCredential", Check::JsonObject(EHPC_CREDENTIAL), EHPC_INVALID),
];

static EHPC_ADD_IMAGE: &[FieldRule] = &[
    req("Name", Check::Any, MISSING),
    opt("ImageType", Check::OneOf(EHPC_IMAGE_TYPES), EHPC_INVALID),
    opt("ImageVersion", Check::Any, EHPC_INVALID),
    opt("Description", Check::Any, EHPC_INVALID),
    opt("VMImageSpec", Check::JsonObject(EHPC_VM_SPEC), EHPC_INVALID),
    opt("ContainerImageSpec", Check::JsonObject(EHPC_CONTAINER_SPEC), EHPC_INVALID),
];

static EHPC_LIST_IMAGES: &[FieldRule] = &[
    opt("ImageCategory", Check::OneOf(EHPC_CATEGORIES), EHPC_INVALID),
    opt("ImageType", Check::OneOf(EHPC_IMAGE_TYPES), EHPC_INVALID),
    opt("ImageIds", Check::JsonStringArray, EHPC_INVALID),
    opt("ImageNames", Check::JsonStringArray, EHPC_INVALID),
    opt("Mode", Check::OneOf(EHPC_MODES), EHPC_INVALID),
    opt("PageNumber", Check::IntRange { min: 1, max: i64::MAX }, EHPC_INVALID),
    // The spec gives no maximum; 100 is the cap the paging layer assumes (ops::PagedOperation).
    opt("PageSize", Check::IntRange { min: 1, max: 100 }, EHPC_INVALID),
];

// apis.md §3.1 does not mark GetImage.ImageId required, but the call is meaningless without it.
static EHPC_GET_IMAGE: &[FieldRule] = &[
    req("ImageId", Check::Any, MISSING),
    opt("ImageType", Check::OneOf(EHPC_IMAGE_TYPES), EHPC_INVALID),
    opt("ImageCategory", Check::OneOf(EHPC_CATEGORIES), EHPC_INVALID),
    opt("AdditionalRegionIds", Check::JsonStringArray, EHPC_INVALID),
];

static EHPC_REMOVE_IMAGE: &[FieldRule] =
    &[req("ImageId", Check::Any, MISSING), opt("ImageType", Check::OneOf(EHPC_IMAGE_TYPES), EHPC_INVALID)];

// The per-disk OSSRegion is held to the same single supported region as the top-level one.
static ENS_DISK: &[FieldRule] = &[
    req("OSSBucket", Check::Any, "InvalidParameter.DiskDeviceMapping"),
    req("OSSObject", Check::Any, "InvalidParameter.DiskDeviceMapping"),
    opt("OSSRegion", Check::OneOf(ENS_OSS_REGIONS), "InvalidParameter.DiskDeviceMapping"),
];

static ENS_IMPORT_IMAGE: &[FieldRule] = &[
    req("ImageName", Check::ImageName(NameRule::Ens), "InvalidParameter.ImageName"),
    req("Architecture", Check::OneOf(ENS_ARCH), "InvalidParameter.Architecture"),
    req("OSType", Check::OneOf(ENS_OS_TYPES), "InvalidParameter.OSType"),
    req("ImageFormat", Check::OneOf(ENS_FORMATS), "InvalidParameter.ImageFormat"),
    req("ComputeType", Check::OneOf(ENS_COMPUTE), "InvalidParameter.ComputeType"),
    opt("Platform", Check::OneOf(ENS_PLATFORMS), "InvalidParameter.Platform"),
    opt("OSVersion", Check::Any, "InvalidParameter.OSVersion"),
    opt("OSSBucket", Check::Any, "InvalidParameter.OSSBucket"),
    opt("OSSObject", Check::Any, "InvalidParameter.OSSObject"),
    opt("OSSRegion", Check::OneOf(ENS_OSS_REGIONS), "InvalidParameter.OSSRegion"),
    opt("DiskDeviceMapping", Check::JsonArrayOf(ENS_DISK), "InvalidParameter.DiskDeviceMapping"),
    opt("TargetOSSRegionId", Check::OneOf(ENS_TARGET_REGIONS), "InvalidParameter.TargetOSSRegionId"),
    opt("LicenseType", Check::Any, "InvalidParameter.LicenseType"),
];

static ENS_DESCRIBE_IMAGES: &[FieldRule] = &[
    opt("EnsRegionId", Check::Any, "InvalidParameter.EnsRegionId"),
    opt("ImageId", Check::Any, "InvalidParameter.ImageId"),
    opt("ImageName", Check::Any, "InvalidParameter.ImageName"),
    opt("SnapshotId", Check::Any, "InvalidParameter.SnapshotId"),
    opt("Status", Check::Any, "InvalidParameter.Status"),
    opt("PageNumber", Check::IntRange { min: 1, max: INT32_MAX }, "InvalidParameter.PageNumber"),
    // Typed String in the metadata, but an integer ≤ 50 in content (apis.md §2.2).
    opt("PageSize", Check::IntRange { min: 1, max: 50 }, "InvalidParameter.PageSize"),
];

static ENS_DESCRIBE_SELF_IMAGES: &[FieldRule] = &[
    opt("ImageId", Check::Any, "InvalidParameter.ImageId"),
    opt("ImageName", Check::Any, "InvalidParameter.ImageName"),
    opt("SnapshotId", Check::Any, "InvalidParameter.SnapshotId"),
    opt("PageNumber", Check::IntRange { min: 1, max: INT32_MAX }, "InvalidParameter.PageNumber"),
    opt("PageSize", Check::IntRange { min: 1, max: 50 }, "InvalidParameter.PageSize"),
];

static ENS_DELETE_IMAGE: &[FieldRule] = &[req("ImageId", Check::Any, MISSING)];

/// The per-parameter rule table of an operation.
pub fn rules(op: Operation) -> &'static [FieldRule] {
    use Operation::*;
    match op {
        EcsDescribeImages => ECS_DESCRIBE_IMAGES,
        EcsImportImage => ECS_IMPORT_IMAGE,
        EcsCreateImage => ECS_CREATE_IMAGE,
        EcsModifyImageAttribute => ECS_MODIFY_IMAGE_ATTRIBUTE,
        EcsDeleteImage => ECS_DELETE_IMAGE,
        EcsCopyImage => ECS_COPY_IMAGE,
        EcsCancelCopyImage => ECS_CANCEL_COPY_IMAGE,
        EcsDescribeTasks => ECS_DESCRIBE_TASKS,
        EcsDescribeTaskAttribute | EcsCancelTask => ECS_TASK_BY_ID,
        EcsDescribeRegions => ECS_DESCRIBE_REGIONS,
        EhpcAddImage => EHPC_ADD_IMAGE,
        EhpcListImages => EHPC_LIST_IMAGES,
        EhpcGetImage => EHPC_GET_IMAGE,
        EhpcRemoveImage => EHPC_REMOVE_IMAGE,
        EnsImportImage => ENS_IMPORT_IMAGE,
        EnsDescribeImages => ENS_DESCRIBE_IMAGES,
        EnsDescribeSelfImages => ENS_DESCRIBE_SELF_IMAGES,
        EnsDeleteImage => ENS_DELETE_IMAGE,
    }
}

/// The cross-field rule table of an operation.
pub fn cross_rules(op: Operation) -> &'static [CrossCheck] {
    use CrossCheck as C;
    use Operation::*;
    match op {
        EcsDescribeImages => &[
            C::Tags { max: 20 },
            C::ValueNeedsKey {
                list: "Filter",
                key: "Key",
                value: "Value",
                code: "InvalidFilterKey.NotFound",
            },
            C::IsPublicNeedsOthers,
        ],
        EcsImportImage => &[
            C::Tags { max: 20 },
            C::ListIndex { list: "DiskDeviceMapping", max: 17, code: INVALID },
            C::ItemRequires { list: "DiskDeviceMapping", fields: &["OSSBucket", "OSSObject"] },
            C::Arm64Uefi { absent_ok: false, from_context: false },
        ],
        EcsCreateImage => &[
            C::Tags { max: 20 },
            C::ListIndex { list: "DiskDeviceMapping", max: 17, code: INVALID },
            C::AnyOf {
                sources: &["InstanceId", "SnapshotId", "DiskDeviceMapping."],
                field: "InstanceId",
                rule: "create_image.source",
            },
            C::DiskRoles,
            // Default UEFI-Preferred boots UEFI on arm64, so only an explicit other mode is wrong.
            C::Arm64Uefi { absent_ok: true, from_context: false },
        ],
        EcsModifyImageAttribute => {
            &[C::Arm64Uefi { absent_ok: true, from_context: true }, C::ImdsNoDowngrade, C::DeprecateNotShared]
        }
        EcsCopyImage => &[C::Tags { max: 20 }, C::CopyDestinationRegion],
        EcsDescribeTasks => &[
            C::ListIndex { list: "ResourceIds", max: 100, code: INVALID },
            C::TimeOrder { start: "StartTime", end: "EndTime" },
        ],
        EhpcAddImage => &[C::EhpcImageSpec, C::EhpcEnterpriseCriId],
        EnsImportImage => &[C::EnsImportSource],
        EcsDeleteImage
        | EcsCancelCopyImage
        | EcsDescribeTaskAttribute
        | EcsCancelTask
        | EcsDescribeRegions
        | EhpcListImages
        | EhpcGetImage
        | EhpcRemoveImage
        | EnsDescribeImages
        | EnsDescribeSelfImages
        | EnsDeleteImage => &[],
    }
}

impl FieldRule {
    /// Whether a concrete wire name fits this rule's pattern.
    pub fn matches(&self, name: &str) -> bool {
        wildcards(self.field, name).is_some()
    }
}

/// The rule that governs a concrete wire name (a literal index beats `N`).
pub fn rule_for(op: Operation, name: &str) -> Option<&'static FieldRule> {
    rules(op)
        .iter()
        .filter_map(|r| wildcards(r.field, name).map(|w| (w, r)))
        .min_by_key(|(w, _)| *w)
        .map(|(_, r)| r)
}

/// Number of `N` segments used to match `name`, or `None` when it does not match.
fn wildcards(pattern: &str, name: &str) -> Option<usize> {
    let mut pat = pattern.split('.');
    let mut got = name.split('.');
    let mut count = 0;
    loop {
        match (pat.next(), got.next()) {
            (None, None) => return Some(count),
            (Some("N"), Some(seg)) if is_index(seg) => count += 1,
            (Some(p), Some(seg)) if p == seg => {}
            _ => return None,
        }
    }
}

fn is_index(seg: &str) -> bool {
    !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit())
}

/// Saturating parse so that absurd indices still count as "out of range" instead of vanishing.
fn index_value(seg: &str) -> u64 {
    seg.parse().unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------

/// Check a request's wire parameters against every documented rule of `op`.
/// Empty result = valid. Parameters the table does not know (common parameters such as `Action`,
/// `Signature`) are left alone.
pub fn validate(op: Operation, params: &Params, ctx: &Context) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (name, value) in params.iter() {
        let Some(rule) = rule_for(op, name) else {
            continue;
        };
        // A sent tag key may not be empty (seed 004); any other empty value means "not sent".
        if value.is_empty() && rule.check != Check::TagKey {
            continue;
        }
        apply(rule, name, Input::Wire(value), &mut out);
    }
    for rule in rules(op).iter().filter(|r| r.required && !r.field.split('.').any(|s| s == "N")) {
        if params.get(rule.field).is_none_or(str::is_empty) {
            out.push(missing(rule.field, MISSING, &rule.check));
        }
    }
    for cross in cross_rules(op) {
        run_cross(*cross, params, ctx, &mut out);
    }
    let mut seen = HashSet::new();
    out.retain(|e| seen.insert((e.field.clone(), e.rule)));
    out
}

fn error(field: &str, rule: &'static str, code: &'static str, en: String, zh: String) -> FieldError {
    FieldError { field: field.to_owned(), rule, code, en, zh }
}

fn missing(field: &str, code: &'static str, check: &Check) -> FieldError {
    error(
        field,
        "required.missing",
        code,
        format!("{field} is required but was not supplied; expected {}.", check.hint_en()),
        format!("缺少必填参数 {field};应为{}。", check.hint_zh()),
    )
}

/// A value as it arrives: a wire string, or a value inside a JSON-string parameter.
#[derive(Clone, Copy)]
enum Input<'a> {
    Wire(&'a str),
    Json(&'a Value),
}

/// A failed scalar check, before it is placed at a field with a code.
struct Fail {
    rule: &'static str,
    en: String,
    zh: String,
}

fn fail(rule: &'static str, en: String, zh: String) -> Option<Fail> {
    Some(Fail { rule, en, zh })
}

fn apply(rule: &FieldRule, field: &str, input: Input<'_>, out: &mut Vec<FieldError>) {
    match rule.check {
        Check::JsonObject(subs) => {
            if let Some(value) = json_of(field, rule, input, out) {
                check_object(field, rule, &value, subs, out);
            }
        }
        Check::JsonArrayOf(subs) => {
            let Some(value) = json_of(field, rule, input, out) else {
                return;
            };
            let Value::Array(items) = &value else {
                out.push(type_error(field, rule, "a JSON array of objects", "由对象组成的 JSON 数组"));
                return;
            };
            if items.is_empty() {
                out.push(empty_array(field, rule));
            }
            for (i, item) in items.iter().enumerate() {
                check_object(&format!("{field}.{}", i + 1), rule, item, subs, out);
            }
        }
        Check::JsonStringArray => {
            let Some(value) = json_of(field, rule, input, out) else {
                return;
            };
            let Value::Array(items) = &value else {
                out.push(type_error(field, rule, "a JSON array of strings", "由字符串组成的 JSON 数组"));
                return;
            };
            if items.is_empty() {
                out.push(empty_array(field, rule));
            }
            for (i, item) in items.iter().enumerate() {
                if !matches!(item, Value::String(s) if !s.is_empty()) {
                    out.push(type_error(
                        &format!("{field}.{}", i + 1),
                        rule,
                        "a non-empty string",
                        "非空字符串",
                    ));
                }
            }
        }
        check => {
            let text: Cow<'_, str> = match input {
                Input::Wire(s) => Cow::Borrowed(s),
                Input::Json(Value::Null) => return,
                Input::Json(Value::String(s)) => Cow::Borrowed(s.as_str()),
                Input::Json(Value::Number(n)) if matches!(check, Check::IntRange { .. }) => {
                    Cow::Owned(n.to_string())
                }
                Input::Json(Value::Bool(b)) if check == Check::Bool => Cow::Owned(b.to_string()),
                Input::Json(_) => {
                    let (en, zh) = match check {
                        Check::IntRange { .. } => ("an integer", "整数"),
                        Check::Bool => ("a boolean", "布尔值"),
                        _ => ("a string", "字符串"),
                    };
                    out.push(type_error(field, rule, en, zh));
                    return;
                }
            };
            if let Some(f) = check_scalar(check, field, &text) {
                out.push(error(field, f.rule, rule.code, f.en, f.zh));
            }
        }
    }
}

fn type_error(field: &str, rule: &FieldRule, en: &str, zh: &str) -> FieldError {
    error(
        field,
        "json.type",
        rule.code,
        format!("{field} must be {en}; expected {}.", rule.check.hint_en()),
        format!("{field} 必须是{zh};应为{}。", rule.check.hint_zh()),
    )
}

fn empty_array(field: &str, rule: &FieldRule) -> FieldError {
    error(
        field,
        "json.empty",
        rule.code,
        format!("{field} is an empty JSON array; give at least one entry or leave the parameter out."),
        format!("{field} 是空的 JSON 数组;请至少提供一项,或不传该参数。"),
    )
}

/// The JSON value of a JSON-typed field (a wire string or a string nested in JSON is parsed).
fn json_of(field: &str, rule: &FieldRule, input: Input<'_>, out: &mut Vec<FieldError>) -> Option<Value> {
    let text = match input {
        Input::Wire(s) => s,
        Input::Json(Value::String(s)) => s.as_str(),
        Input::Json(Value::Null) => return None,
        Input::Json(v) => return Some(v.clone()),
    };
    match serde_json::from_str::<Value>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            out.push(error(
                field,
                "json.parse",
                rule.code,
                format!("{field} is not valid JSON ({e}); expected {}.", rule.check.hint_en()),
                format!("{field} 不是有效的 JSON({e});应为{}。", rule.check.hint_zh()),
            ));
            None
        }
    }
}

fn check_object(field: &str, rule: &FieldRule, value: &Value, subs: &[FieldRule], out: &mut Vec<FieldError>) {
    let Value::Object(map) = value else {
        out.push(type_error(field, rule, "a JSON object", "JSON 对象"));
        return;
    };
    // Keys are case-sensitive on the server; a near miss is almost always a typo worth naming.
    for key in map.keys() {
        if let Some(sub) = subs.iter().find(|s| s.field != key && s.field.eq_ignore_ascii_case(key)) {
            let expected = sub.field;
            out.push(error(
                &format!("{field}.{expected}"),
                "json.key_case",
                sub.code,
                format!("{field} has key \"{key}\"; keys are case-sensitive, write \"{expected}\"."),
                format!("{field} 中的键 \"{key}\" 大小写有误;键区分大小写,应写作 \"{expected}\"。"),
            ));
        }
    }
    for sub in subs {
        let path = format!("{field}.{}", sub.field);
        match map.get(sub.field) {
            None | Some(Value::Null) => {
                if sub.required {
                    // Inside a JSON parameter the product itself answers, with its own code.
                    out.push(missing(&path, sub.code, &sub.check));
                }
            }
            Some(Value::String(s)) if s.is_empty() && sub.check != Check::TagKey => {
                if sub.required {
                    out.push(missing(&path, sub.code, &sub.check));
                }
            }
            Some(v) => apply(sub, &path, Input::Json(v), out),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scalar checks
// ---------------------------------------------------------------------------------------------

/// Chinese = CJK Unified Ideographs with extensions A–H and the compatibility blocks.
fn is_chinese(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{323AF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{2F800}'..='\u{2FA1F}')
}

fn is_letter_or_chinese(c: char) -> bool {
    c.is_ascii_alphabetic() || is_chinese(c)
}

/// A value shown inside a message, cut short so one huge input cannot flood the UI.
fn shown(v: &str) -> String {
    const MAX: usize = 40;
    if v.chars().count() > MAX {
        format!("{}…", v.chars().take(MAX).collect::<String>())
    } else {
        v.to_owned()
    }
}

fn char_shown(c: char) -> String {
    if c.is_control() || c.is_whitespace() { format!("U+{:04X}", u32::from(c)) } else { format!("'{c}'") }
}

fn contains_url(v: &str) -> bool {
    v.contains("http://") || v.contains("https://")
}

fn starts_with_url(v: &str) -> bool {
    v.starts_with("http://") || v.starts_with("https://")
}

/// Rule ids of one name-like grammar.
struct NameIds {
    length: &'static str,
    first_char: &'static str,
    reserved_prefix: &'static str,
    url: &'static str,
    chars: &'static str,
}

const IMAGE_NAME_IDS: NameIds = NameIds {
    length: "image_name.length",
    first_char: "image_name.first_char",
    reserved_prefix: "image_name.reserved_prefix",
    url: "image_name.url",
    chars: "image_name.chars",
};

const IMAGE_FAMILY_IDS: NameIds = NameIds {
    length: "image_family.length",
    first_char: "image_family.first_char",
    reserved_prefix: "image_family.reserved_prefix",
    url: "image_family.url",
    chars: "image_family.chars",
};

/// The shared 2–128 name grammar. `reserved`: refuse `aliyun`/`acs:` prefixes and http(s)://
/// anywhere; otherwise only a http(s):// prefix is refused.
fn check_name(ids: &NameIds, field: &str, v: &str, dot_allowed: bool, reserved: bool) -> Option<Fail> {
    let n = v.chars().count();
    if !(2..=128).contains(&n) {
        return fail(
            ids.length,
            format!("{field} must be 2–128 characters long; it has {n}."),
            format!("{field} 的长度必须为 2~128 个字符,当前为 {n} 个。"),
        );
    }
    let first = v.chars().next()?;
    if !is_letter_or_chinese(first) {
        return fail(
            ids.first_char,
            format!(
                "{field} must start with a letter (A–Z, a–z) or a Chinese character, not {}.",
                char_shown(first)
            ),
            format!("{field} 必须以英文字母或中文字符开头,不能以 {} 开头。", char_shown(first)),
        );
    }
    if reserved {
        if let Some(p) = ["aliyun", "acs:"].into_iter().find(|p| v.starts_with(p)) {
            return fail(
                ids.reserved_prefix,
                format!(
                    "{field} must not start with '{p}' (reserved by Alibaba Cloud); choose \
                        another prefix."
                ),
                format!("{field} 不能以 '{p}' 开头(阿里云保留前缀),请更换前缀。"),
            );
        }
        if contains_url(v) {
            return fail(
                ids.url,
                format!("{field} must not contain 'http://' or 'https://'."),
                format!("{field} 不能包含 'http://' 或 'https://'。"),
            );
        }
    } else if starts_with_url(v) {
        return fail(
            ids.url,
            format!("{field} must not start with 'http://' or 'https://'."),
            format!("{field} 不能以 'http://' 或 'https://' 开头。"),
        );
    }
    let allowed = |c: char| {
        is_letter_or_chinese(c)
            || c.is_ascii_digit()
            || matches!(c, ':' | '_' | '-')
            || (dot_allowed && c == '.')
    };
    if let Some(bad) = v.chars().find(|c| !allowed(*c)) {
        let (list_en, list_zh) = if dot_allowed {
            (
                "letters, Chinese characters, digits, '.', ':', '_' and '-'",
                "英文字母、中文字符、数字、半角句号(.)、半角冒号(:)、下划线(_)和短划线(-)",
            )
        } else {
            (
                "letters, Chinese characters, digits, ':', '_' and '-'",
                "英文字母、中文字符、数字、半角冒号(:)、下划线(_)和短划线(-)",
            )
        };
        return fail(
            ids.chars,
            format!("{field} contains {} which is not allowed; use only {list_en}.", char_shown(bad)),
            format!("{field} 含有不允许的字符 {};只能包含{list_zh}。", char_shown(bad)),
        );
    }
    None
}

fn check_image_name(field: &str, v: &str, rule: NameRule) -> Option<Fail> {
    match rule {
        NameRule::Ecs => check_name(&IMAGE_NAME_IDS, field, v, true, true),
        NameRule::Ens => check_name(&IMAGE_NAME_IDS, field, v, false, false),
        NameRule::EcsCreate => {
            let current = check_name(&IMAGE_NAME_IDS, field, v, true, true)?;
            // Passing the CreateImage doc's own grammar is enough; otherwise report the current
            // rule, whose message is the more precise one.
            check_name(&IMAGE_NAME_IDS, field, v, false, false).map(|_| current)
        }
    }
}

fn check_length(rule: &'static str, field: &str, v: &str, min: usize, max: usize) -> Option<Fail> {
    let n = v.chars().count();
    if (min..=max).contains(&n) {
        return None;
    }
    let (en, zh) = if min == 0 {
        (format!("at most {max} characters"), format!("不超过 {max} 个字符"))
    } else {
        (format!("{min}–{max} characters long"), format!("{min}~{max} 个字符"))
    };
    fail(
        rule,
        format!("{field} must be {en}; it has {n}."),
        format!("{field} 的长度必须为{zh},当前为 {n} 个。"),
    )
}

fn one_of(field: &str, v: &str, allowed: &[&str], ignore_case: bool) -> Option<Fail> {
    let exact = allowed.contains(&v);
    let folded = allowed.iter().find(|a| a.eq_ignore_ascii_case(v));
    if exact || (ignore_case && folded.is_some()) {
        return None;
    }
    let list = allowed.join(", ");
    let list_zh = allowed.join("、");
    if let Some(right) = folded {
        return fail(
            "enum.value",
            format!("{field} value '{}' has the wrong letter case; write '{right}'.", shown(v)),
            format!("{field} 的取值 '{}' 大小写有误,应写作 '{right}'。", shown(v)),
        );
    }
    fail(
        "enum.value",
        format!("{field} does not accept '{}'; allowed values: {list}.", shown(v)),
        format!("{field} 不支持取值 '{}';可选值:{list_zh}。", shown(v)),
    )
}

fn range_text(min: i64, max: i64) -> (String, String) {
    if max == i64::MAX || max == INT32_MAX {
        (format!("a whole number of at least {min}"), format!("不小于 {min} 的整数"))
    } else {
        (format!("a whole number from {min} to {max}"), format!("{min}~{max} 之间的整数"))
    }
}

/// `yyyy-MM-ddTHH:mm[:ss]Z` → comparable fields, with calendar checks.
fn parse_utc(v: &str, seconds: bool) -> Option<[u32; 6]> {
    let b = v.as_bytes();
    let layout: &[u8] = if seconds { b"dddd-dd-ddTdd:dd:ddZ" } else { b"dddd-dd-ddTdd:ddZ" };
    if b.len() != layout.len()
        || !b.iter().zip(layout).all(|(c, l)| if *l == b'd' { c.is_ascii_digit() } else { c == l })
    {
        return None;
    }
    let num = |from: usize, len: usize| {
        b[from..from + len].iter().fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    let (year, month, day, hour, minute) = (num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2));
    let second = if seconds { num(17, 2) } else { 0 };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    ((1..=days).contains(&day) && hour < 24 && minute < 60 && second < 60)
        .then_some([year, month, day, hour, minute, second])
}

fn is_device_path(v: &str) -> bool {
    let tail = v.strip_prefix("/dev/xvd").or_else(|| v.strip_prefix("/dev/vd"));
    matches!(tail.map(str::as_bytes), Some([c]) if c.is_ascii_lowercase())
}

fn is_cloudbox_arn(v: &str) -> bool {
    let parts: Vec<&str> = v.split(':').collect();
    match parts.as_slice() {
        ["arn", "acs", "cloudbox", region, uid, resource] => {
            !region.is_empty()
                && is_index(uid)
                && resource.strip_prefix("cloudbox/").is_some_and(|id| !id.is_empty() && !id.contains('/'))
        }
        _ => false,
    }
}

fn check_scalar(check: Check, field: &str, v: &str) -> Option<Fail> {
    match check {
        Check::Any | Check::JsonObject(_) | Check::JsonArrayOf(_) | Check::JsonStringArray => None,
        Check::ImageName(rule) => check_image_name(field, v, rule),
        Check::ImageFamily { dot_allowed } => check_name(&IMAGE_FAMILY_IDS, field, v, dot_allowed, true),
        Check::Description => {
            if let Some(f) = check_length("description.length", field, v, 2, 256) {
                return Some(f);
            }
            starts_with_url(v).then(|| Fail {
                rule: "description.url_prefix",
                en: format!("{field} must not start with 'http://' or 'https://'."),
                zh: format!("{field} 不能以 'http://' 或 'https://' 开头。"),
            })
        }
        Check::Length { min, max } => check_length("length.range", field, v, min, max),
        Check::Ascii { max } => {
            if let Some(bad) = v.chars().find(|c| !c.is_ascii()) {
                return fail(
                    "ascii.non_ascii",
                    format!(
                        "{field} may contain only ASCII characters; {} is not \
                        ASCII.",
                        char_shown(bad)
                    ),
                    format!("{field} 只能包含 ASCII 字符,{} 不是 ASCII 字符。", char_shown(bad)),
                );
            }
            check_length("ascii.length", field, v, 0, max)
        }
        Check::OneOf(allowed) => one_of(field, v, allowed, false),
        Check::OneOfIgnoreCase(allowed) => one_of(field, v, allowed, true),
        Check::CommaSubset(allowed) => {
            for item in v.split(',').map(str::trim) {
                if item.is_empty() {
                    return comma_empty(field);
                }
                if !allowed.contains(&item) {
                    return fail(
                        "enum.list_value",
                        format!(
                            "{field} contains '{}'; each comma-separated value must be one \
                            of: {}.",
                            shown(item),
                            allowed.join(", ")
                        ),
                        format!(
                            "{field} 含有 '{}';逗号分隔的每个值都必须是\
                            :{}。",
                            shown(item),
                            allowed.join("、")
                        ),
                    );
                }
            }
            None
        }
        Check::CommaList { max } => {
            let items: Vec<&str> = v.split(',').map(str::trim).collect();
            if items.iter().any(|i| i.is_empty()) {
                return comma_empty(field);
            }
            (items.len() > max).then(|| Fail {
                rule: "comma_list.count",
                en: format!(
                    "{field} lists {} items; at most {max} are allowed per \
                    request.",
                    items.len()
                ),
                zh: format!("{field} 含有 {} 项;每次请求最多 {max} 项。", items.len()),
            })
        }
        Check::IntRange { min, max } => {
            let (en, zh) = range_text(min, max);
            match v.parse::<i64>() {
                Err(_) => fail(
                    "int.parse",
                    format!("{field} must be {en}; '{}' is not a whole number.", shown(v)),
                    format!("{field} 必须是{zh};'{}' 不是整数。", shown(v)),
                ),
                Ok(n) if n < min || n > max => fail(
                    "int.range",
                    format!("{field} must be {en}; got {n}."),
                    format!("{field} 必须是{zh},当前为 {n}。"),
                ),
                Ok(_) => None,
            }
        }
        Check::Bool => (!matches!(v, "true" | "false" | "True" | "False")).then(|| Fail {
            rule: "bool.parse",
            en: format!("{field} must be true or false; got '{}'.", shown(v)),
            zh: format!("{field} 必须是 true 或 false,当前为 '{}'。", shown(v)),
        }),
        Check::TagKey => {
            if let Some(f) = check_length("tag_key.length", field, v, 1, 128) {
                return Some(f);
            }
            if let Some(p) = ["aliyun", "acs:"].into_iter().find(|p| v.starts_with(p)) {
                return fail(
                    "tag_key.reserved_prefix",
                    format!("{field} must not start with '{p}' (reserved by Alibaba Cloud)."),
                    format!("{field} 不能以 '{p}' 开头(阿里云保留前缀)。"),
                );
            }
            contains_url(v).then(|| Fail {
                rule: "tag_key.url",
                en: format!("{field} must not contain 'http://' or 'https://'."),
                zh: format!("{field} 不能包含 'http://' 或 'https://'。"),
            })
        }
        Check::TagValue => {
            if let Some(f) = check_length("tag_value.length", field, v, 0, 128) {
                return Some(f);
            }
            if v.starts_with("acs:") {
                return fail(
                    "tag_value.reserved_prefix",
                    format!("{field} must not start with 'acs:' (reserved by Alibaba Cloud)."),
                    format!("{field} 不能以 'acs:' 开头(阿里云保留前缀)。"),
                );
            }
            contains_url(v).then(|| Fail {
                rule: "tag_value.url",
                en: format!("{field} must not contain 'http://' or 'https://'."),
                zh: format!("{field} 不能包含 'http://' 或 'https://'。"),
            })
        }
        Check::Prefix(prefix) => v.strip_prefix(prefix).is_none_or(str::is_empty).then(|| Fail {
            rule: "id.prefix",
            en: format!(
                "{field} must be an ID starting with '{prefix}' (e.g. '{prefix}bp1abc…'); \
                     got '{}'.",
                shown(v)
            ),
            zh: format!(
                "{field} 必须是以 '{prefix}' 开头的 ID(例如 '{prefix}bp1abc…'),\
                     当前为 '{}'。",
                shown(v)
            ),
        }),
        Check::DevicePath => (!is_device_path(v)).then(|| Fail {
            rule: "device.name",
            en: format!(
                "{field} must be a device name /dev/xvda–/dev/xvdz or /dev/vda–/dev/vdz; \
                 got '{}'.",
                shown(v)
            ),
            zh: format!(
                "{field} 必须是设备名 /dev/xvda~/dev/xvdz 或 /dev/vda~/dev/vdz,\
                 当前为 '{}'。",
                shown(v)
            ),
        }),
        Check::UtcTime { seconds } => {
            let (layout, example) = if seconds {
                ("yyyy-MM-ddTHH:mm:ssZ", "2024-01-31T08:00:00Z")
            } else {
                ("yyyy-MM-ddTHH:mmZ", "2024-01-31T08:00Z")
            };
            parse_utc(v, seconds).is_none().then(|| Fail {
                rule: "time.format",
                en: format!(
                    "{field} must be a UTC time in the form {layout} (e.g. {example}); \
                    got '{}'.",
                    shown(v)
                ),
                zh: format!(
                    "{field} 必须是 {layout} 格式的 UTC 时间(例如 {example}),\
                     当前为 '{}'。",
                    shown(v)
                ),
            })
        }
        Check::CloudBoxArn => (!is_cloudbox_arn(v)).then(|| Fail {
            rule: "arn.format",
            en: format!(
                "{field} must look like \
                 arn:acs:cloudbox:{{RegionId}}:{{AliUid}}:cloudbox/{{CloudBoxId}}; \
                 got '{}'.",
                shown(v)
            ),
            zh: format!(
                "{field} 的格式必须为 \
                 arn:acs:cloudbox:{{RegionId}}:{{AliUid}}:cloudbox/{{CloudBoxId}},\
                 当前为 '{}'。",
                shown(v)
            ),
        }),
    }
}

fn comma_empty(field: &str) -> Option<Fail> {
    fail(
        "comma_list.empty_item",
        format!("{field} has an empty item; separate values with single commas and no trailing comma."),
        format!("{field} 含有空项;请用单个逗号分隔各值,末尾不要加逗号。"),
    )
}

impl Check {
    /// What the field accepts, in English (form hints, "expected …" in messages).
    pub fn hint_en(&self) -> String {
        match *self {
            Check::Any => "a non-empty value".into(),
            Check::ImageName(rule) => name_hint(rule != NameRule::Ens, rule != NameRule::Ens).0,
            Check::ImageFamily { dot_allowed } => name_hint(dot_allowed, true).0,
            Check::Description => "2–256 characters, not starting with 'http://' or \
                'https://'"
                .into(),
            Check::Length { min, max } => format!("{min}–{max} characters"),
            Check::Ascii { max } => format!("at most {max} ASCII characters"),
            Check::OneOf(v) => format!("one of: {}", v.join(", ")),
            Check::OneOfIgnoreCase(v) => format!("one of (any letter case): {}", v.join(", ")),
            Check::CommaSubset(v) => format!("comma-separated values from: {}", v.join(", ")),
            Check::CommaList { max } => format!("a comma-separated list of at most {max} items"),
            Check::IntRange { min, max } => range_text(min, max).0,
            Check::Bool => "true or false".into(),
            Check::TagKey => "1–128 characters, not starting with 'aliyun' or 'acs:' and not \
                containing 'http://' or 'https://'"
                .into(),
            Check::TagValue => "at most 128 characters, not starting with 'acs:' and not \
                containing 'http://' or 'https://'"
                .into(),
            Check::Prefix(p) => format!("an ID starting with '{p}'"),
            Check::DevicePath => "a device name /dev/xvda–/dev/xvdz or /dev/vda–/dev/vdz".into(),
            Check::UtcTime { seconds: true } => "a UTC time yyyy-MM-ddTHH:mm:ssZ".into(),
            Check::UtcTime { seconds: false } => "a UTC time yyyy-MM-ddTHH:mmZ".into(),
            Check::CloudBoxArn => "arn:acs:cloudbox:{RegionId}:{AliUid}:cloudbox/{CloudBoxId}".into(),
            Check::JsonObject(subs) => format!("a JSON object with keys {}", keys_en(subs)),
            Check::JsonArrayOf(subs) => {
                format!("a JSON array of objects with keys {}", keys_en(subs))
            }
            Check::JsonStringArray => "a JSON array of strings, e.g. [\"a\",\"b\"]".into(),
        }
    }

    /// What the field accepts, in Simplified Chinese.
    pub fn hint_zh(&self) -> String {
        match *self {
            Check::Any => "非空值".into(),
            Check::ImageName(rule) => name_hint(rule != NameRule::Ens, rule != NameRule::Ens).1,
            Check::ImageFamily { dot_allowed } => name_hint(dot_allowed, true).1,
            Check::Description => "2~256 个字符,不能以 http:// 或 https:// 开头".into(),
            Check::Length { min, max } => format!("{min}~{max} 个字符"),
            Check::Ascii { max } => format!("不超过 {max} 个 ASCII 字符"),
            Check::OneOf(v) => format!("以下取值之一:{}", v.join("、")),
            Check::OneOfIgnoreCase(v) => format!("以下取值之一(不区分大小写):{}", v.join("、")),
            Check::CommaSubset(v) => format!("逗号分隔的取值,可选:{}", v.join("、")),
            Check::CommaList { max } => format!("逗号分隔的列表,最多 {max} 项"),
            Check::IntRange { min, max } => range_text(min, max).1,
            Check::Bool => "true 或 false".into(),
            Check::TagKey => "1~128 个字符,不能以 aliyun 或 acs: 开头,不能包含 http:// 或 \
                https://"
                .into(),
            Check::TagValue => "不超过 128 个字符,不能以 acs: 开头,不能包含 http:// 或 \
                https://"
                .into(),
            Check::Prefix(p) => format!("以 '{p}' 开头的 ID"),
            Check::DevicePath => "设备名 /dev/xvda~/dev/xvdz 或 /dev/vda~/dev/vdz".into(),
            Check::UtcTime { seconds: true } => "UTC 时间,格式 yyyy-MM-ddTHH:mm:ssZ".into(),
            Check::UtcTime { seconds: false } => "UTC 时间,格式 yyyy-MM-ddTHH:mmZ".into(),
            Check::CloudBoxArn => {
                "格式为 arn:acs:cloudbox:{RegionId}:{AliUid}:cloudbox/{CloudBoxId} 的 ARN".into()
            }
            Check::JsonObject(subs) => format!("JSON 对象,键为 {}", keys_zh(subs)),
            Check::JsonArrayOf(subs) => format!("由 JSON 对象组成的数组,键为 {}", keys_zh(subs)),
            Check::JsonStringArray => "字符串组成的 JSON 数组,例如 [\"a\",\"b\"]".into(),
        }
    }
}

/// (en, zh) hint for the 2–128 name grammar. `dot`: '.' allowed; `reserved`: `aliyun`/`acs:`
/// prefixes and http(s):// anywhere are refused (otherwise only a http(s):// prefix).
fn name_hint(dot: bool, reserved: bool) -> (String, String) {
    let (en_dot, zh_dot) = if dot { ("'.', ", "半角句号(.)、") } else { ("", "") };
    let (en_tail, zh_tail) = if reserved {
        (
            "must not start with 'aliyun' or 'acs:' or contain 'http://' or 'https://'",
            "不能以 aliyun 或 acs: 开头,不能包含 http:// 或 https://",
        )
    } else {
        ("must not start with 'http://' or 'https://'", "不能以 http:// 或 https:// 开头")
    };
    (
        format!(
            "2–128 characters; start with a letter or Chinese character; use letters, \
             Chinese characters, digits, {en_dot}':', '_' and '-'; {en_tail}"
        ),
        format!(
            "2~128 个字符,以英文字母或中文开头,可包含英文字母、中文、数字、{zh_dot}\
             半角冒号(:)、下划线(_)和短划线(-),{zh_tail}"
        ),
    )
}

fn keys_en(subs: &[FieldRule]) -> String {
    subs.iter()
        .map(|s| if s.required { format!("{} (required)", s.field) } else { s.field.to_owned() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn keys_zh(subs: &[FieldRule]) -> String {
    subs.iter()
        .map(|s| if s.required { format!("{}(必填)", s.field) } else { s.field.to_owned() })
        .collect::<Vec<_>>()
        .join("、")
}

// ---------------------------------------------------------------------------------------------
// Cross-field checks
// ---------------------------------------------------------------------------------------------

/// Entries of a flattened list: index segment → (sub-field → value), in index order.
fn list_entries<'a>(params: &'a Params, list: &str) -> BTreeMap<(u64, &'a str), Vec<(&'a str, &'a str)>> {
    let mut entries: BTreeMap<(u64, &str), Vec<(&str, &str)>> = BTreeMap::new();
    for (name, value) in params.iter() {
        let Some(rest) = name.strip_prefix(list).and_then(|r| r.strip_prefix('.')) else {
            continue;
        };
        let (seg, sub) = rest.split_once('.').unwrap_or((rest, ""));
        if is_index(seg) {
            entries.entry((index_value(seg), seg)).or_default().push((sub, value));
        }
    }
    entries
}

fn sub_value<'a>(fields: &[(&str, &'a str)], names: &[&str]) -> Option<&'a str> {
    fields.iter().find(|(k, v)| names.contains(k) && !v.is_empty()).map(|(_, v)| *v)
}

fn is_true(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "True"))
}

fn nonempty<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.get(name).filter(|v| !v.is_empty())
}

fn run_cross(check: CrossCheck, params: &Params, ctx: &Context, out: &mut Vec<FieldError>) {
    match check {
        CrossCheck::Tags { max } => cross_tags(params, max, out),
        CrossCheck::ListIndex { list, max, code } => {
            for (index, seg) in list_entries(params, list).into_keys() {
                if index == 0 || index > max {
                    out.push(error(
                        &format!("{list}.{seg}"),
                        "list.index",
                        code,
                        format!("{list}.{seg} is out of range; {list}.N takes N from 1 to {max}."),
                        format!("{list}.{seg} 超出范围;{list}.N 中 N 的取值为 1~{max}。"),
                    ));
                }
            }
        }
        CrossCheck::ItemRequires { list, fields } => {
            for ((_, seg), entry) in list_entries(params, list) {
                for field in fields {
                    if sub_value(&entry, &[field]).is_none() {
                        out.push(missing(&format!("{list}.{seg}.{field}"), MISSING, &Check::Any));
                    }
                }
            }
        }
        CrossCheck::ValueNeedsKey { list, key, value, code } => {
            for ((_, seg), entry) in list_entries(params, list) {
                if sub_value(&entry, &[value]).is_some() && sub_value(&entry, &[key]).is_none() {
                    out.push(error(
                        &format!("{list}.{seg}.{key}"),
                        "list.value_without_key",
                        code,
                        format!(
                            "{list}.{seg}.{value} is set but {list}.{seg}.{key} is missing; \
                            give the key or drop the value."
                        ),
                        format!(
                            "已设置 {list}.{seg}.{value},但缺少 {list}.{seg}.{key};请补充键\
                            或删除该值。"
                        ),
                    ));
                }
            }
        }
        CrossCheck::AnyOf { sources, field, rule } => {
            let present = sources.iter().any(|s| match s.strip_suffix('.') {
                Some(list) => !list_entries(params, list).is_empty(),
                None => nonempty(params, s).is_some(),
            });
            if !present {
                let names = sources.iter().map(|s| s.trim_end_matches('.')).collect::<Vec<_>>();
                out.push(error(
                    field,
                    rule,
                    MISSING,
                    format!("Say what to build the image from: give one of {}.", names.join(", ")),
                    format!("请指定镜像来源:{} 至少提供一个。", names.join("、")),
                ));
            }
        }
        CrossCheck::Arm64Uefi { absent_ok, from_context } => {
            let known = from_context.then_some(ctx.current_architecture.as_deref()).flatten();
            let arch = nonempty(params, "Architecture").or(known);
            if arch != Some("arm64") {
                return;
            }
            let (shown_mode, bad) = match nonempty(params, "BootMode") {
                Some(mode) => (shown(mode), mode != "UEFI"),
                None => ("BIOS (the default)".to_owned(), !absent_ok),
            };
            if bad {
                out.push(error(
                    "BootMode",
                    "boot_mode.arm64_uefi",
                    "InvalidBootMode.NotSupport",
                    format!(
                        "arm64 images boot only in UEFI mode; set BootMode to UEFI instead \
                        of {shown_mode}."
                    ),
                    format!(
                        "arm64 架构的镜像只支持 UEFI 启动模式;请将 BootMode 设置为 UEFI(当前\
                        为 {shown_mode})。"
                    ),
                ));
            }
        }
        CrossCheck::DiskRoles => cross_disk_roles(params, out),
        CrossCheck::ImdsNoDowngrade => {
            if ctx.current_imds_support.as_deref() == Some("v2")
                && nonempty(params, "Features.ImdsSupport") == Some("v1")
            {
                out.push(error(
                    "Features.ImdsSupport",
                    "imds.no_downgrade",
                    "InvalidOperation.FeaturesImdsSupportNotMatch",
                    "This image already enforces IMDS v2 (security-hardened mode); it cannot go \
                        back to v1. Keep v2 or leave the field empty."
                        .into(),
                    "该镜像已设置为仅支持 IMDS v2(加固模式),不能改回 v1;\
                        请保持 v2 或不填写该项。"
                        .into(),
                ));
            }
        }
        CrossCheck::DeprecateNotShared => {
            if ctx.image_is_shared == Some(true) && nonempty(params, "Status") == Some("Deprecated") {
                out.push(error(
                    "Status",
                    "status.deprecate_shared",
                    "ImageUseShared",
                    "This image is shared with other accounts; remove all shared accounts \
                        before setting Status to Deprecated."
                        .into(),
                    "该镜像已共享给其他账号;请先取消全部共享,\
                        再将 Status 设置为 Deprecated。"
                        .into(),
                ));
            }
        }
        CrossCheck::IsPublicNeedsOthers => {
            let alias = nonempty(params, "ImageOwnerAlias");
            if is_true(nonempty(params, "IsPublic")) && alias != Some("others") {
                out.push(error(
                    "IsPublic",
                    "is_public.owner_alias",
                    INVALID,
                    format!(
                        "IsPublic=true lists community images and needs \
                        ImageOwnerAlias=others (got {}).",
                        alias.map_or_else(|| "none".to_owned(), shown)
                    ),
                    format!(
                        "IsPublic=true 用于查询社区镜像,需要同时设置 ImageOwnerAlias=others(\
                        当前为 {})。",
                        alias.map_or_else(|| "未设置".to_owned(), shown)
                    ),
                ));
            }
        }
        CrossCheck::CopyDestinationRegion => {
            // Same-region copies exist only to encrypt an image (current CopyImage doc).
            let region = nonempty(params, "RegionId");
            if region.is_some()
                && nonempty(params, "DestinationRegionId") == region
                && !is_true(nonempty(params, "Encrypted"))
            {
                out.push(error(
                    "DestinationRegionId",
                    "copy_image.same_region",
                    "IncorrectDestinationRegion",
                    "DestinationRegionId is the source region; choose another region, or set \
                        Encrypted=true for an encrypted copy in the same region."
                        .into(),
                    "DestinationRegionId 与源地域相同;请选择其他地域,或设置 Encrypted=true 在同\
                        地域复制为加密镜像。"
                        .into(),
                ));
            }
        }
        CrossCheck::TimeOrder { start, end } => {
            let parse = |name| nonempty(params, name).and_then(|v| parse_utc(v, true));
            if let (Some(s), Some(e)) = (parse(start), parse(end))
                && s > e
            {
                out.push(error(
                    end,
                    "time.order",
                    INVALID,
                    format!(
                        "{end} is earlier than {start}; the end of the window must not \
                        precede its start."
                    ),
                    format!("{end} 早于 {start};时间窗口的结束时间不能早于开始时间。"),
                ));
            }
        }
        CrossCheck::EhpcImageSpec => cross_ehpc_spec(params, out),
        CrossCheck::EhpcEnterpriseCriId => {
            let spec =
                nonempty(params, "ContainerImageSpec").and_then(|s| serde_json::from_str::<Value>(s).ok());
            let Some(Value::Object(spec)) = spec else {
                return;
            };
            let enterprise = match spec.get("IsACREnterprise") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => is_true(Some(s.as_str())),
                _ => false,
            };
            let has_id = matches!(spec.get("RegistryCriId"), Some(Value::String(s)) if !s.is_empty());
            if enterprise && !has_id {
                out.push(error(
                    "ContainerImageSpec.RegistryCriId",
                    "ehpc.cri_id_required",
                    EHPC_INVALID,
                    "IsACREnterprise is true, so RegistryCriId (the ACR Enterprise instance ID, \
                        cri-…) is required."
                        .into(),
                    "IsACREnterprise 为 true 时必须提供 RegistryCriId(企业版镜像仓库实例 ID,\
                        cri-…)。"
                        .into(),
                ));
            }
        }
        CrossCheck::EnsImportSource => {
            let bucket = nonempty(params, "OSSBucket");
            let object = nonempty(params, "OSSObject");
            let mapping = nonempty(params, "DiskDeviceMapping");
            match (bucket, object) {
                (None, None) if mapping.is_none() => out.push(error(
                    "OSSBucket",
                    "ens_import.source",
                    MISSING,
                    "Say where the image file is: give OSSBucket and OSSObject, or \
                        DiskDeviceMapping."
                        .into(),
                    "请指定镜像文件位置:提供 OSSBucket 和 OSSObject,\
                        或提供 DiskDeviceMapping。"
                        .into(),
                )),
                (Some(_), None) => out.push(missing("OSSObject", MISSING, &Check::Any)),
                (None, Some(_)) => out.push(missing("OSSBucket", MISSING, &Check::Any)),
                _ => {}
            }
        }
    }
}

fn cross_tags(params: &Params, max: u64, out: &mut Vec<FieldError>) {
    let entries = list_entries(params, "Tag");
    let count = entries.len() as u64;
    if count > max {
        out.push(error(
            "Tag",
            "tag.count",
            "InvalidTagCount",
            format!("{count} tags were given; at most {max} tags are allowed per request."),
            format!("共提供了 {count} 个标签;每次请求最多 {max} 个标签。"),
        ));
    }
    let mut keys = HashSet::new();
    for ((index, seg), entry) in &entries {
        let field = format!("Tag.{seg}.Key");
        if count <= max && (*index == 0 || *index > max) {
            out.push(error(
                &field,
                "tag.index",
                "InvalidTagCount",
                format!("Tag.{seg} is out of range; Tag.N takes N from 1 to {max}."),
                format!("Tag.{seg} 超出范围;Tag.N 中 N 的取值为 1~{max}。"),
            ));
        }
        let key = entry.iter().find(|(k, _)| matches!(*k, "Key" | "key")).map(|(_, v)| *v);
        match key {
            None => {
                if sub_value(entry, &["Value", "value"]).is_some() {
                    out.push(error(
                        &field,
                        "tag.mismatch",
                        "InvalidTag.Mismatch",
                        format!(
                            "Tag.{seg}.Value is set without Tag.{seg}.Key; every tag value \
                            needs a key."
                        ),
                        format!(
                            "设置了 Tag.{seg}.Value 但缺少 Tag.{seg}.Key;每个标签值都需要对\
                            应的标签键。"
                        ),
                    ));
                }
            }
            Some(k) if !k.is_empty() && !keys.insert(k) => out.push(error(
                &field,
                "tag.duplicate_key",
                "Duplicate.TagKey",
                format!("Tag key '{}' is used more than once; tag keys must be unique.", shown(k)),
                format!("标签键 '{}' 重复;标签键必须唯一。", shown(k)),
            )),
            Some(_) => {}
        }
    }
}

fn cross_disk_roles(params: &Params, out: &mut Vec<FieldError>) {
    let (mut system, mut data) = (0usize, 0usize);
    let mut devices = HashSet::new();
    for ((_, seg), entry) in list_entries(params, "DiskDeviceMapping") {
        let disk_type = sub_value(&entry, &["DiskType"]);
        match disk_type {
            Some("system") => system += 1,
            Some("data") => data += 1,
            _ => {}
        }
        if disk_type == Some("system") && system > 1 {
            out.push(error(
                &format!("DiskDeviceMapping.{seg}.DiskType"),
                "disk.system_count",
                INVALID,
                "Only one mapping may be the system disk; mark the others as data.".into(),
                "只能有一个系统盘映射;其余请设置为 data(数据盘)。".into(),
            ));
        }
        if disk_type == Some("data") && data > 16 {
            out.push(error(
                &format!("DiskDeviceMapping.{seg}.DiskType"),
                "disk.data_count",
                INVALID,
                "At most 16 data disks are allowed in one image.".into(),
                "一个镜像最多包含 16 块数据盘。".into(),
            ));
        }
        let Some(device) = sub_value(&entry, &["Device"]).filter(|d| is_device_path(d)) else {
            continue;
        };
        let field = format!("DiskDeviceMapping.{seg}.Device");
        let first_slot = device.ends_with('a');
        if (disk_type == Some("system")) != first_slot && disk_type.is_some() {
            out.push(error(
                &field,
                "disk.device_role",
                INVALID,
                format!(
                    "{device} does not fit a {} disk; the system disk is /dev/xvda (or \
                    /dev/vda), data disks use b–z.",
                    shown(disk_type.unwrap_or(""))
                ),
                format!(
                    "{device} 与磁盘类型 {} 不符;系统盘为 /dev/xvda(或 /dev/vda),数据盘使用 \
                    b~z。",
                    shown(disk_type.unwrap_or(""))
                ),
            ));
        }
        // /dev/xvdb and /dev/vdb name the same slot.
        let slot = device.trim_start_matches("/dev/x").trim_start_matches("/dev/").to_owned();
        if !devices.insert(slot) {
            out.push(error(
                &field,
                "disk.duplicate_device",
                INVALID,
                format!("{device} is used by more than one mapping; give each disk its own device name."),
                format!("{device} 被多个映射重复使用;每块磁盘的设备名必须不同。"),
            ));
        }
    }
}

fn cross_ehpc_spec(params: &Params, out: &mut Vec<FieldError>) {
    let vm = nonempty(params, "VMImageSpec").is_some();
    let container = nonempty(params, "ContainerImageSpec").is_some();
    let declared = nonempty(params, "ImageType");
    // Undeclared type: a lone ContainerImageSpec says Container; otherwise the API default VM.
    let kind = match declared {
        Some(t) => t,
        None if container && !vm => "Container",
        None => "VM",
    };
    let (needed, other) = match kind {
        "VM" => ("VMImageSpec", container.then_some("ContainerImageSpec")),
        "Container" => ("ContainerImageSpec", vm.then_some("VMImageSpec")),
        _ => return, // bad ImageType already reported by its own rule
    };
    let has_needed = if kind == "VM" { vm } else { container };
    if !has_needed {
        let example =
            if kind == "VM" { r#"{"ImageId":"m-…"}"# } else { r#"{"RegistryUrl":"registry…/repo:tag"}"# };
        out.push(error(
            needed,
            "ehpc.image_spec",
            EHPC_INVALID,
            format!("ImageType {kind} needs {needed}, e.g. {example}."),
            format!("镜像类型为 {kind} 时必须提供 {needed},例如 {example}。"),
        ));
    }
    if let Some(other) = other {
        out.push(error(
            other,
            "ehpc.spec_mismatch",
            EHPC_INVALID,
            format!("{other} does not apply to ImageType {kind}; remove it or change ImageType."),
            format!("{other} 不适用于镜像类型 {kind};请删除该项或修改 ImageType。"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied())
    }

    fn check(op: Operation, pairs: &[(&str, &str)]) -> Vec<FieldError> {
        validate(op, &params(pairs), &Context::default())
    }

    fn with_ctx(op: Operation, pairs: &[(&str, &str)], ctx: &Context) -> Vec<FieldError> {
        validate(op, &params(pairs), ctx)
    }

    fn base(op: Operation) -> Vec<(&'static str, &'static str)> {
        use Operation::*;
        match op {
            EcsImportImage => vec![
                ("RegionId", "cn-hangzhou"),
                ("DiskDeviceMapping.1.OSSBucket", "bucket"),
                ("DiskDeviceMapping.1.OSSObject", "disk.qcow2"),
            ],
            EcsCreateImage => vec![("RegionId", "cn-hangzhou"), ("InstanceId", "i-1")],
            EcsModifyImageAttribute | EcsDeleteImage | EcsCopyImage | EcsCancelCopyImage => {
                vec![("RegionId", "cn-hangzhou"), ("ImageId", "m-1")]
            }
            EcsDescribeImages | EcsDescribeTasks => vec![("RegionId", "cn-hangzhou")],
            EcsDescribeTaskAttribute | EcsCancelTask => {
                vec![("RegionId", "cn-hangzhou"), ("TaskId", "t-1")]
            }
            EcsDescribeRegions | EhpcListImages | EnsDescribeImages | EnsDescribeSelfImages => {
                vec![]
            }
            EhpcAddImage => {
                vec![("Name", "app"), ("ImageType", "VM"), ("VMImageSpec", r#"{"ImageId":"m-1"}"#)]
            }
            EhpcGetImage | EhpcRemoveImage | EnsDeleteImage => vec![("ImageId", "m-1")],
            EnsImportImage => vec![
                ("ImageName", "镜像名称"),
                ("Architecture", "x86_64"),
                ("OSType", "linux"),
                ("ImageFormat", "qcow2"),
                ("ComputeType", "ens_vm"),
                ("OSSBucket", "b"),
                ("OSSObject", "o"),
            ],
        }
    }

    /// Errors for the op's minimal valid request plus `extra` (later pairs replace earlier ones).
    fn with(op: Operation, extra: &[(&str, &str)]) -> Vec<FieldError> {
        let mut p = params(&base(op));
        for (k, v) in extra {
            p.insert(*k, *v);
        }
        validate(op, &p, &Context::default())
    }

    fn has(errs: &[FieldError], field: &str, rule: &str) -> bool {
        errs.iter().any(|e| e.field == field && e.rule == rule)
    }

    fn code_of<'a>(errs: &'a [FieldError], field: &str) -> Option<&'a str> {
        errs.iter().find(|e| e.field == field).map(|e| e.code)
    }

    fn has_cjk(s: &str) -> bool {
        s.chars().any(is_chinese)
    }

    #[test]
    fn minimal_requests_are_valid_for_every_operation() {
        for op in Operation::ALL {
            assert_eq!(with(op, &[]), vec![], "{op:?}");
        }
    }

    #[test]
    fn from_action_routes_by_version_and_action() {
        assert_eq!(Operation::from_action("2014-05-26", "ImportImage"), Some(Operation::EcsImportImage));
        assert_eq!(Operation::from_action("2017-11-10", "ImportImage"), Some(Operation::EnsImportImage));
        assert_eq!(Operation::from_action("2023-07-01", "AddImage"), Some(Operation::EhpcAddImage));
        assert_eq!(
            Operation::from_action("2017-11-10", "DescribeSelfImages"),
            Some(Operation::EnsDescribeSelfImages)
        );
        assert_eq!(Operation::from_action("2014-05-26", "AddImage"), None);
        assert_eq!(Operation::from_action("2024-07-30", "AddImage"), None);
        for op in Operation::ALL {
            assert_eq!(Operation::from_action(op.product().version(), op.action()), Some(op));
        }
    }

    #[test]
    fn image_name_length_boundaries_count_chars_not_bytes() {
        let op = Operation::EcsImportImage;
        assert!(has(&with(op, &[("ImageName", "a")]), "ImageName", "image_name.length"));
        assert!(with(op, &[("ImageName", "ab")]).is_empty());
        assert!(with(op, &[("ImageName", &"a".repeat(128))]).is_empty());
        assert!(has(&with(op, &[("ImageName", &"a".repeat(129))]), "ImageName", "image_name.length"));
        // 128 Chinese characters are 384 bytes and still valid.
        assert!(with(op, &[("ImageName", &"镜".repeat(128))]).is_empty());
        assert!(has(&with(op, &[("ImageName", &"镜".repeat(129))]), "ImageName", "image_name.length"));
        let e = with(op, &[("ImageName", "a")]);
        assert_eq!(code_of(&e, "ImageName"), Some("InvalidImageName.Malformed"));
    }

    #[test]
    fn image_name_first_char_prefixes_urls_and_charset() {
        let op = Operation::EcsImportImage;
        assert!(has(&with(op, &[("ImageName", "1abc")]), "ImageName", "image_name.first_char"));
        assert!(has(&with(op, &[("ImageName", "_abc")]), "ImageName", "image_name.first_char"));
        assert!(has(&with(op, &[("ImageName", "éabc")]), "ImageName", "image_name.first_char"));
        assert!(with(op, &[("ImageName", "中文名")]).is_empty());
        assert!(with(op, &[("ImageName", "\u{3400}ext-a")]).is_empty()); // CJK extension A
        assert!(has(&with(op, &[("ImageName", "aliyun-copy")]), "ImageName", "image_name.reserved_prefix"));
        assert!(has(&with(op, &[("ImageName", "acs:img")]), "ImageName", "image_name.reserved_prefix"));
        assert!(has(&with(op, &[("ImageName", "img-http://x")]), "ImageName", "image_name.url"));
        assert!(has(&with(op, &[("ImageName", "img-https://x")]), "ImageName", "image_name.url"));
        assert!(has(&with(op, &[("ImageName", "my image")]), "ImageName", "image_name.chars"));
        assert!(has(&with(op, &[("ImageName", "img/1")]), "ImageName", "image_name.chars"));
        assert!(with(op, &[("ImageName", "centos7.9:base_v-1")]).is_empty());
        // One error per field, the most specific one.
        assert_eq!(with(op, &[("ImageName", "1 ")]).len(), 1);
    }

    #[test]
    fn image_name_applies_to_modify_and_copy_destination() {
        let e = with(Operation::EcsModifyImageAttribute, &[("ImageName", "9x")]);
        assert!(has(&e, "ImageName", "image_name.first_char"));
        let e = with(Operation::EcsCopyImage, &[("DestinationImageName", "aliyun_copy")]);
        assert!(has(&e, "DestinationImageName", "image_name.reserved_prefix"));
        assert_eq!(code_of(&e, "DestinationImageName"), Some("InvalidImageName.Malformed"));
        assert!(with(Operation::EcsCopyImage, &[("DestinationImageName", "copy.v2")]).is_empty());
    }

    #[test]
    fn create_image_accepts_the_union_of_both_name_grammars() {
        let op = Operation::EcsCreateImage;
        // The CreateImage doc has no prefix clause.
        assert!(with(op, &[("ImageName", "aliyunBox")]).is_empty());
        assert!(with(op, &[("ImageName", "img.v1")]).is_empty()); // current rule allows '.'
        assert!(has(&with(op, &[("ImageName", "aliyun.v1")]), "ImageName", "image_name.reserved_prefix"));
        assert!(has(&with(op, &[("ImageName", "x")]), "ImageName", "image_name.length"));
        assert!(has(&with(op, &[("ImageName", "a b")]), "ImageName", "image_name.chars"));
        assert!(has(
            &with(Operation::EcsImportImage, &[("ImageName", "aliyunBox")]),
            "ImageName",
            "image_name.reserved_prefix"
        ));
    }

    #[test]
    fn ens_image_name_variant() {
        let op = Operation::EnsImportImage;
        assert!(has(&with(op, &[("ImageName", "img.v1")]), "ImageName", "image_name.chars"));
        assert!(with(op, &[("ImageName", "aliyun-ok")]).is_empty()); // no prefix clause for ENS
        assert!(has(&with(op, &[("ImageName", "x")]), "ImageName", "image_name.length"));
        assert!(with(op, &[("ImageName", "https_x")]).is_empty());
        let e = with(op, &[("ImageName", "http://x")]);
        assert!(has(&e, "ImageName", "image_name.url"));
        assert_eq!(code_of(&e, "ImageName"), Some("InvalidParameter.ImageName"));
    }

    #[test]
    fn image_family_dot_depends_on_operation() {
        assert!(with(Operation::EcsModifyImageAttribute, &[("ImageFamily", "daily.v1")]).is_empty());
        let e = with(Operation::EcsCreateImage, &[("ImageFamily", "daily.v1")]);
        assert!(has(&e, "ImageFamily", "image_family.chars"));
        assert_eq!(code_of(&e, "ImageFamily"), Some("InvalidImageFamily.Malformed"));
        assert!(with(Operation::EcsCreateImage, &[("ImageFamily", "hangzhou-daily-update")]).is_empty());
        let op = Operation::EcsModifyImageAttribute;
        assert!(has(&with(op, &[("ImageFamily", "f")]), "ImageFamily", "image_family.length"));
        assert!(has(&with(op, &[("ImageFamily", &"f".repeat(129))]), "ImageFamily", "image_family.length"));
        assert!(with(op, &[("ImageFamily", &"f".repeat(128))]).is_empty());
        assert!(has(&with(op, &[("ImageFamily", "acs:fam")]), "ImageFamily", "image_family.reserved_prefix"));
        assert!(has(&with(op, &[("ImageFamily", "-fam")]), "ImageFamily", "image_family.first_char"));
    }

    #[test]
    fn description_boundaries_and_url_prefix() {
        let op = Operation::EcsImportImage;
        assert!(has(&with(op, &[("Description", "d")]), "Description", "description.length"));
        assert!(with(op, &[("Description", "dd")]).is_empty());
        assert!(with(op, &[("Description", &"描".repeat(256))]).is_empty());
        let e = with(op, &[("Description", &"d".repeat(257))]);
        assert!(has(&e, "Description", "description.length"));
        assert_eq!(code_of(&e, "Description"), Some("InvalidDescription.Malformed"));
        assert!(has(&with(op, &[("Description", "http://x")]), "Description", "description.url_prefix"));
        assert!(has(&with(op, &[("Description", "https://x")]), "Description", "description.url_prefix"));
        // Only the prefix is refused.
        assert!(with(op, &[("Description", "see http://x")]).is_empty());
        let e = with(Operation::EcsCopyImage, &[("DestinationDescription", "https://x")]);
        assert!(has(&e, "DestinationDescription", "description.url_prefix"));
    }

    fn tags(n: usize) -> Vec<(String, String)> {
        (1..=n)
            .flat_map(|i| {
                [(format!("Tag.{i}.Key"), format!("k{i}")), (format!("Tag.{i}.Value"), format!("v{i}"))]
            })
            .collect()
    }

    fn with_owned(op: Operation, extra: &[(String, String)]) -> Vec<FieldError> {
        let pairs: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        with(op, &pairs)
    }

    #[test]
    fn tag_count_boundaries() {
        for op in [
            Operation::EcsImportImage,
            Operation::EcsCreateImage,
            Operation::EcsCopyImage,
            Operation::EcsDescribeImages,
        ] {
            assert!(with_owned(op, &tags(20)).is_empty(), "{op:?}");
            let e = with_owned(op, &tags(21));
            assert!(has(&e, "Tag", "tag.count"), "{op:?}");
            assert_eq!(code_of(&e, "Tag"), Some("InvalidTagCount"));
        }
        let e = with(Operation::EcsImportImage, &[("Tag.21.Key", "k")]);
        assert!(has(&e, "Tag.21.Key", "tag.index"));
        let e = with(Operation::EcsImportImage, &[("Tag.0.Key", "k")]);
        assert!(has(&e, "Tag.0.Key", "tag.index"));
        let e = with(Operation::EcsImportImage, &[("Tag.99999999999999999999999.Key", "k")]);
        assert!(has(&e, "Tag.99999999999999999999999.Key", "tag.index"));
    }

    #[test]
    fn tag_key_and_value_rules() {
        let op = Operation::EcsImportImage;
        assert!(with(op, &[("Tag.1.Key", &"k".repeat(128))]).is_empty());
        assert!(has(&with(op, &[("Tag.1.Key", &"k".repeat(129))]), "Tag.1.Key", "tag_key.length"));
        assert!(has(&with(op, &[("Tag.1.Key", "")]), "Tag.1.Key", "tag_key.length"));
        let e = with(op, &[("Tag.1.Key", "aliyun-x")]);
        assert!(has(&e, "Tag.1.Key", "tag_key.reserved_prefix"));
        assert_eq!(code_of(&e, "Tag.1.Key"), Some("InvalidTagKey.Malformed"));
        assert!(has(&with(op, &[("Tag.1.Key", "acs:x")]), "Tag.1.Key", "tag_key.reserved_prefix"));
        assert!(has(&with(op, &[("Tag.1.Key", "see https://x")]), "Tag.1.Key", "tag_key.url"));
        assert!(with(op, &[("Tag.1.Key", "k"), ("Tag.1.Value", &"v".repeat(128))]).is_empty());
        let e = with(op, &[("Tag.1.Key", "k"), ("Tag.1.Value", &"v".repeat(129))]);
        assert!(has(&e, "Tag.1.Value", "tag_value.length"));
        assert_eq!(code_of(&e, "Tag.1.Value"), Some("InvalidTagValue.Malformed"));
        assert!(has(
            &with(op, &[("Tag.1.Key", "k"), ("Tag.1.Value", "acs:v")]),
            "Tag.1.Value",
            "tag_value.reserved_prefix"
        ));
        assert!(with(op, &[("Tag.1.Key", "k"), ("Tag.1.Value", "aliyun-ok")]).is_empty());
        assert!(has(
            &with(op, &[("Tag.1.Key", "k"), ("Tag.1.Value", "http://v")]),
            "Tag.1.Value",
            "tag_value.url"
        ));
        // Deprecated lowercase form follows the same rules.
        assert!(has(&with(op, &[("Tag.1.key", "acs:x")]), "Tag.1.key", "tag_key.reserved_prefix"));
    }

    #[test]
    fn tag_duplicates_and_mismatch() {
        let op = Operation::EcsCreateImage;
        let e = with(op, &[("Tag.1.Key", "env"), ("Tag.2.Key", "env")]);
        assert!(has(&e, "Tag.2.Key", "tag.duplicate_key"));
        assert_eq!(code_of(&e, "Tag.2.Key"), Some("Duplicate.TagKey"));
        assert!(!has(&e, "Tag.1.Key", "tag.duplicate_key"));
        let e = with(op, &[("Tag.1.Key", "env"), ("Tag.3.Value", "x")]);
        assert!(has(&e, "Tag.3.Key", "tag.mismatch"));
        assert_eq!(code_of(&e, "Tag.3.Key"), Some("InvalidTag.Mismatch"));
        assert!(with(op, &[("Tag.1.Key", "env")]).is_empty()); // value may be absent
        assert!(with(op, &[("Tag.1.key", "a"), ("Tag.1.value", "b")]).is_empty());
    }

    #[test]
    fn client_token_ascii_and_length() {
        let op = Operation::EcsImportImage;
        assert!(with(op, &[("ClientToken", &"t".repeat(64))]).is_empty());
        let e = with(op, &[("ClientToken", &"t".repeat(65))]);
        assert!(has(&e, "ClientToken", "ascii.length"));
        assert_eq!(code_of(&e, "ClientToken"), Some("InvalidParameter"));
        assert!(has(&with(op, &[("ClientToken", "tokén")]), "ClientToken", "ascii.non_ascii"));
        assert!(has(
            &with(Operation::EcsCopyImage, &[("ClientToken", "令牌")]),
            "ClientToken",
            "ascii.non_ascii"
        ));
    }

    #[test]
    fn ecs_enumerations() {
        let op = Operation::EcsImportImage;
        for arch in ["i386", "x86_64"] {
            assert!(with(op, &[("Architecture", arch)]).is_empty());
        }
        let e = with(op, &[("Architecture", "amd64")]);
        assert!(has(&e, "Architecture", "enum.value"));
        assert_eq!(code_of(&e, "Architecture"), Some("InvalidArchitecture.Malformed"));
        assert_eq!(
            code_of(&with(Operation::EcsDescribeImages, &[("Architecture", "x")]), "Architecture"),
            Some("InvalidArchitecture")
        );
        assert!(with(op, &[("OSType", "Linux")]).is_empty()); // 2016 capitalisation
        assert!(has(&with(op, &[("OSType", "macos")]), "OSType", "enum.value"));
        assert!(has(&with(Operation::EcsDescribeImages, &[("OSType", "Linux")]), "OSType", "enum.value"));
        assert!(with(op, &[("Platform", "Others Linux")]).is_empty());
        assert!(with(op, &[("Platform", "Windows Server 2019")]).is_empty());
        assert!(has(&with(op, &[("Platform", "Arch")]), "Platform", "enum.value"));
        assert!(has(&with(op, &[("Platform", "centos")]), "Platform", "enum.value"));
        assert!(has(&with(op, &[("BootMode", "UEFI-Preferred")]), "BootMode", "enum.value"));
        assert!(with(Operation::EcsCreateImage, &[("BootMode", "UEFI-Preferred")]).is_empty());
        assert!(with(Operation::EcsModifyImageAttribute, &[("BootMode", "UEFI-Preferred")]).is_empty());
        assert!(with(op, &[("LicenseType", "Aliyun")]).is_empty());
        let e = with(Operation::EcsModifyImageAttribute, &[("LicenseType", "Aliyun")]);
        assert!(has(&e, "LicenseType", "enum.value"));
        assert_eq!(code_of(&e, "LicenseType"), Some("InvalidLicenseType.NotSupported"));
        assert!(with(Operation::EcsModifyImageAttribute, &[("LicenseType", "BYOL")]).is_empty());
        assert!(with(op, &[("DetectionStrategy", "Standard")]).is_empty());
        assert!(has(&with(op, &[("DetectionStrategy", "Full")]), "DetectionStrategy", "enum.value"));
        assert!(with(op, &[("DiskDeviceMapping.1.Format", "QCOW2")]).is_empty());
        assert!(with(op, &[("DiskDeviceMapping.1.Format", "qcow2")]).is_empty());
        let e = with(op, &[("DiskDeviceMapping.1.Format", "VDI")]);
        assert_eq!(code_of(&e, "DiskDeviceMapping.1.Format"), Some("InvalidImageFormat.Malformed"));
        assert!(with(op, &[("Features.NvmeSupport", "supported")]).is_empty());
        assert!(has(&with(op, &[("Features.NvmeSupport", "yes")]), "Features.NvmeSupport", "enum.value"));
        let e = with(op, &[("Features.ImdsSupport", "v3")]);
        assert_eq!(code_of(&e, "Features.ImdsSupport"), Some("InvalidParameter.FeaturesImdsSupport"));
        let m = Operation::EcsModifyImageAttribute;
        assert!(with(m, &[("Status", "Deprecated")]).is_empty());
        assert!(with(m, &[("Status", "Available")]).is_empty());
        assert!(has(&with(m, &[("Status", "Creating")]), "Status", "enum.value"));
        // Wrong case gets a targeted message.
        let e = with(m, &[("Status", "deprecated")]);
        assert!(e.iter().any(|x| x.rule == "enum.value" && x.en.contains("'Deprecated'")));
    }

    #[test]
    fn describe_images_filters() {
        let op = Operation::EcsDescribeImages;
        assert!(
            with(op, &[("Status", "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated")])
                .is_empty()
        );
        assert!(has(&with(op, &[("Status", "Available,Gone")]), "Status", "enum.list_value"));
        assert!(has(&with(op, &[("Status", "Available,")]), "Status", "comma_list.empty_item"));
        let e = with(op, &[("ImageOwnerAlias", "mine")]);
        assert_eq!(code_of(&e, "ImageOwnerAlias"), Some("InvalidImageOwnerAlias.ValueNotSupported"));
        assert_eq!(code_of(&with(op, &[("Usage", "busy")]), "Usage"), Some("InvalidUsage"));
        assert!(with(op, &[("ActionType", "ChangeOS")]).is_empty());
        assert!(has(&with(op, &[("ActionType", "Reboot")]), "ActionType", "enum.value"));
        let e = with(op, &[("Filter.1.Key", "Owner"), ("Filter.1.Value", "2024-01-01T00:00Z")]);
        assert_eq!(code_of(&e, "Filter.1.Key"), Some("InvalidFilterKey.NotFound"));
        assert!(
            with(op, &[("Filter.1.Key", "CreationStartTime"), ("Filter.1.Value", "2024-02-29T23:59Z")])
                .is_empty()
        );
        for bad in [
            "2024-01-01",
            "2024-01-01T00:00:00Z",
            "2023-02-29T00:00Z",
            "2024-13-01T00:00Z",
            "2024-01-01T24:00Z",
        ] {
            let e = with(op, &[("Filter.1.Key", "CreationEndTime"), ("Filter.1.Value", bad)]);
            assert!(has(&e, "Filter.1.Value", "time.format"), "{bad}");
        }
        let e = with(op, &[("Filter.2.Value", "2024-01-01T00:00Z")]);
        assert!(has(&e, "Filter.2.Key", "list.value_without_key"));
        assert!(has(&with(op, &[("IsPublic", "true")]), "IsPublic", "is_public.owner_alias"));
        assert!(with(op, &[("IsPublic", "true"), ("ImageOwnerAlias", "others")]).is_empty());
        assert!(has(&with(op, &[("ShowExpired", "1")]), "ShowExpired", "bool.parse"));
        assert!(has(&with(op, &[("ImageOwnerId", "abc")]), "ImageOwnerId", "int.parse"));
    }

    #[test]
    fn page_size_and_number_ranges() {
        let cases = [
            (Operation::EcsDescribeImages, 100),
            (Operation::EcsDescribeTasks, 100),
            (Operation::EnsDescribeImages, 50),
            (Operation::EnsDescribeSelfImages, 50),
            (Operation::EhpcListImages, 100),
        ];
        for (op, max) in cases {
            assert!(with(op, &[("PageSize", "1")]).is_empty(), "{op:?}");
            assert!(with(op, &[("PageSize", &max.to_string())]).is_empty(), "{op:?}");
            assert!(
                has(&with(op, &[("PageSize", &(max + 1).to_string())]), "PageSize", "int.range"),
                "{op:?}"
            );
            assert!(has(&with(op, &[("PageSize", "0")]), "PageSize", "int.range"), "{op:?}");
            assert!(has(&with(op, &[("PageSize", "ten")]), "PageSize", "int.parse"), "{op:?}");
            assert!(has(&with(op, &[("PageNumber", "0")]), "PageNumber", "int.range"), "{op:?}");
            assert!(with(op, &[("PageNumber", "1")]).is_empty(), "{op:?}");
        }
        let e = with(Operation::EnsDescribeImages, &[("PageSize", "51")]);
        assert_eq!(code_of(&e, "PageSize"), Some("InvalidParameter.PageSize"));
        assert!(has(
            &with(Operation::EcsDescribeImages, &[("PageNumber", "99999999999")]),
            "PageNumber",
            "int.range"
        ));
    }

    #[test]
    fn import_image_disk_mappings() {
        let op = Operation::EcsImportImage;
        for (size, ok) in [("0", false), ("1", true), ("2048", true), ("2049", false)] {
            let e = with(op, &[("DiskDeviceMapping.1.DiskImageSize", size)]);
            assert_eq!(e.is_empty(), ok, "{size}");
            if !ok {
                assert!(has(&e, "DiskDeviceMapping.1.DiskImageSize", "int.range"));
                assert_eq!(code_of(&e, "DiskDeviceMapping.1.DiskImageSize"), Some("InvalidImageSize"));
            }
        }
        let data = [("DiskDeviceMapping.2.OSSBucket", "b"), ("DiskDeviceMapping.2.OSSObject", "d")];
        let mut extra = data.to_vec();
        extra.push(("DiskDeviceMapping.2.DiskImageSize", "2049"));
        let e = with(op, &extra);
        assert_eq!(code_of(&e, "DiskDeviceMapping.2.DiskImageSize"), Some("InvalidDataDiskSize"));
        assert!(has(
            &with(op, &[("DiskDeviceMapping.1.DiskImageSize", "40.5")]),
            "DiskDeviceMapping.1.DiskImageSize",
            "int.parse"
        ));
        assert!(has(
            &with(op, &[("DiskDeviceMapping.1.DiskImSize", "0")]),
            "DiskDeviceMapping.1.DiskImSize",
            "int.range"
        ));
        // N: 1 system + data 2..=17.
        let ok17 = [("DiskDeviceMapping.17.OSSBucket", "b"), ("DiskDeviceMapping.17.OSSObject", "o")];
        assert!(with(op, &ok17).is_empty());
        let e = with(op, &[("DiskDeviceMapping.18.OSSBucket", "b"), ("DiskDeviceMapping.18.OSSObject", "o")]);
        assert!(has(&e, "DiskDeviceMapping.18", "list.index"));
        // Each mapping needs bucket and object.
        let e = with(op, &[("DiskDeviceMapping.2.OSSBucket", "b")]);
        assert!(has(&e, "DiskDeviceMapping.2.OSSObject", "required.missing"));
        let e = check(op, &[("RegionId", "cn-hangzhou")]);
        assert!(has(&e, "DiskDeviceMapping.1.OSSBucket", "required.missing"));
        assert!(has(&e, "DiskDeviceMapping.1.OSSObject", "required.missing"));
        assert_eq!(code_of(&e, "DiskDeviceMapping.1.OSSBucket"), Some("MissingParameter"));
        assert_eq!(e.iter().filter(|x| x.field == "DiskDeviceMapping.1.OSSBucket").count(), 1);
        assert!(has(
            &with(op, &[("DiskDeviceMapping.1.Device", "/dev/sda")]),
            "DiskDeviceMapping.1.Device",
            "device.name"
        ));
        assert!(
            with(op, &[("StorageLocationArn", "arn:acs:cloudbox:cn-hangzhou:1234:cloudbox/cb-1")]).is_empty()
        );
        assert!(has(
            &with(op, &[("StorageLocationArn", "arn:acs:oss:x")]),
            "StorageLocationArn",
            "arn.format"
        ));
    }

    #[test]
    fn arm64_requires_uefi() {
        let import = Operation::EcsImportImage;
        assert!(has(&with(import, &[("Architecture", "arm64")]), "BootMode", "boot_mode.arm64_uefi"));
        assert!(has(
            &with(import, &[("Architecture", "arm64"), ("BootMode", "BIOS")]),
            "BootMode",
            "boot_mode.arm64_uefi"
        ));
        assert!(with(import, &[("Architecture", "arm64"), ("BootMode", "UEFI")]).is_empty());
        assert!(with(import, &[("Architecture", "x86_64"), ("BootMode", "BIOS")]).is_empty());
        let arm = Context { current_architecture: Some("arm64".into()), ..Context::default() };
        // A new import's architecture comes from its parameters (default x86_64), not the context.
        assert!(with_ctx(import, &base(import), &arm).is_empty());
        let create = Operation::EcsCreateImage;
        assert!(with(create, &[("Architecture", "arm64")]).is_empty());
        assert!(has(
            &with(create, &[("Architecture", "arm64"), ("BootMode", "BIOS")]),
            "BootMode",
            "boot_mode.arm64_uefi"
        ));
        let modify = Operation::EcsModifyImageAttribute;
        let arm = Context { current_architecture: Some("arm64".into()), ..Context::default() };
        let p = [("RegionId", "r"), ("ImageId", "m-1"), ("BootMode", "BIOS")];
        assert!(has(&with_ctx(modify, &p, &arm), "BootMode", "boot_mode.arm64_uefi"));
        assert!(with_ctx(modify, &p, &Context::default()).is_empty());
        assert!(with_ctx(modify, &[("RegionId", "r"), ("ImageId", "m-1")], &arm).is_empty());
    }

    #[test]
    fn create_image_sources_and_disk_roles() {
        let op = Operation::EcsCreateImage;
        let e = check(op, &[("RegionId", "r")]);
        assert!(has(&e, "InstanceId", "create_image.source"));
        assert_eq!(code_of(&e, "InstanceId"), Some("MissingParameter"));
        assert!(check(op, &[("RegionId", "r"), ("SnapshotId", "s-1")]).is_empty());
        assert!(check(op, &[("RegionId", "r"), ("DiskDeviceMapping.1.SnapshotId", "s-1")]).is_empty());
        let e = check(
            op,
            &[
                ("RegionId", "r"),
                ("DiskDeviceMapping.1.SnapshotId", "s-1"),
                ("DiskDeviceMapping.1.DiskType", "system"),
                ("DiskDeviceMapping.2.SnapshotId", "s-2"),
                ("DiskDeviceMapping.2.DiskType", "system"),
            ],
        );
        assert!(has(&e, "DiskDeviceMapping.2.DiskType", "disk.system_count"));
        let mut p = params(&[("RegionId", "r"), ("DiskDeviceMapping.1.DiskType", "system")]);
        for i in 2..=18 {
            p.insert(format!("DiskDeviceMapping.{i}.DiskType"), "data");
        }
        let e = validate(op, &p, &Context::default());
        assert!(has(&e, "DiskDeviceMapping.18.DiskType", "disk.data_count"));
        assert!(has(&e, "DiskDeviceMapping.18", "list.index"));
        assert!(!has(&e, "DiskDeviceMapping.17.DiskType", "disk.data_count"));
        let e = check(
            op,
            &[
                ("RegionId", "r"),
                ("DiskDeviceMapping.1.DiskType", "system"),
                ("DiskDeviceMapping.1.Device", "/dev/xvdb"),
            ],
        );
        assert!(has(&e, "DiskDeviceMapping.1.Device", "disk.device_role"));
        let e = check(
            op,
            &[
                ("RegionId", "r"),
                ("DiskDeviceMapping.1.Device", "/dev/vdb"),
                ("DiskDeviceMapping.2.Device", "/dev/xvdb"),
            ],
        );
        assert!(has(&e, "DiskDeviceMapping.2.Device", "disk.duplicate_device"));
        assert!(
            check(
                op,
                &[
                    ("RegionId", "r"),
                    ("DiskDeviceMapping.1.DiskType", "system"),
                    ("DiskDeviceMapping.1.Device", "/dev/xvda")
                ]
            )
            .is_empty()
        );
        assert!(has(
            &with(op, &[("DiskDeviceMapping.1.Size", "4")]),
            "DiskDeviceMapping.1.Size",
            "int.range"
        ));
        assert!(with(op, &[("DiskDeviceMapping.1.Size", "32768")]).is_empty());
        assert!(has(
            &with(op, &[("DiskDeviceMapping.1.DiskType", "root")]),
            "DiskDeviceMapping.1.DiskType",
            "enum.value"
        ));
    }

    #[test]
    fn required_region_and_ids() {
        use Operation::*;
        for (op, field) in [
            (EcsModifyImageAttribute, "ImageId"),
            (EcsDeleteImage, "ImageId"),
            (EcsCopyImage, "ImageId"),
            (EcsCancelCopyImage, "ImageId"),
            (EcsDescribeTaskAttribute, "TaskId"),
            (EcsCancelTask, "TaskId"),
            (EnsDeleteImage, "ImageId"),
            (EhpcRemoveImage, "ImageId"),
            (EhpcGetImage, "ImageId"),
        ] {
            let e = check(op, &[]);
            assert!(has(&e, field, "required.missing"), "{op:?}");
            assert_eq!(code_of(&e, field), Some("MissingParameter"));
        }
        for op in [
            EcsDescribeImages,
            EcsImportImage,
            EcsCreateImage,
            EcsModifyImageAttribute,
            EcsDescribeTasks,
            EcsCancelTask,
        ] {
            assert!(has(&check(op, &[]), "RegionId", "required.missing"), "{op:?}");
        }
        // An empty value is as good as absent.
        assert!(has(
            &check(EcsDeleteImage, &[("RegionId", "r"), ("ImageId", "")]),
            "ImageId",
            "required.missing"
        ));
        assert!(check(EcsDescribeRegions, &[]).is_empty());
    }

    #[test]
    fn modify_state_dependent_rules() {
        let op = Operation::EcsModifyImageAttribute;
        let v2 = Context { current_imds_support: Some("v2".into()), ..Context::default() };
        let p = [("RegionId", "r"), ("ImageId", "m-1"), ("Features.ImdsSupport", "v1")];
        let e = with_ctx(op, &p, &v2);
        assert!(has(&e, "Features.ImdsSupport", "imds.no_downgrade"));
        assert_eq!(code_of(&e, "Features.ImdsSupport"), Some("InvalidOperation.FeaturesImdsSupportNotMatch"));
        assert!(with_ctx(op, &p, &Context::default()).is_empty());
        let shared = Context { image_is_shared: Some(true), ..Context::default() };
        let p = [("RegionId", "r"), ("ImageId", "m-1"), ("Status", "Deprecated")];
        let e = with_ctx(op, &p, &shared);
        assert_eq!(code_of(&e, "Status"), Some("ImageUseShared"));
        assert!(with_ctx(op, &p, &Context { image_is_shared: Some(false), ..Context::default() }).is_empty());
    }

    #[test]
    fn booleans_accept_both_spellings() {
        let op = Operation::EcsDeleteImage;
        for ok in ["true", "false", "True", "False"] {
            assert!(with(op, &[("Force", ok)]).is_empty(), "{ok}");
        }
        for bad in ["yes", "1", "TRUE"] {
            assert!(has(&with(op, &[("Force", bad)]), "Force", "bool.parse"), "{bad}");
        }
    }

    #[test]
    fn copy_image_same_region() {
        let op = Operation::EcsCopyImage;
        let e = with(op, &[("DestinationRegionId", "cn-hangzhou")]);
        assert_eq!(code_of(&e, "DestinationRegionId"), Some("IncorrectDestinationRegion"));
        assert!(with(op, &[("DestinationRegionId", "cn-hangzhou"), ("Encrypted", "true")]).is_empty());
        assert!(with(op, &[("DestinationRegionId", "cn-beijing")]).is_empty());
    }

    #[test]
    fn describe_tasks_rules() {
        let op = Operation::EcsDescribeTasks;
        let hundred = (1..=100).map(|i| format!("t-{i}")).collect::<Vec<_>>().join(",");
        assert!(with(op, &[("TaskIds", &hundred)]).is_empty());
        assert!(has(&with(op, &[("TaskIds", &format!("{hundred},t-101"))]), "TaskIds", "comma_list.count"));
        assert!(has(&with(op, &[("TaskIds", "t-1,,t-2")]), "TaskIds", "comma_list.empty_item"));
        assert!(has(&with(op, &[("TaskAction", "IMPORT_IMAGE")]), "TaskAction", "enum.value"));
        assert!(with(op, &[("TaskStatus", "Whatever")]).is_empty());
        assert!(
            with(op, &[("StartTime", "2024-01-01T00:00:00Z"), ("EndTime", "2024-01-02T00:00:00Z")])
                .is_empty()
        );
        let e = with(op, &[("StartTime", "2024-01-02T00:00:00Z"), ("EndTime", "2024-01-01T00:00:00Z")]);
        assert!(has(&e, "EndTime", "time.order"));
        assert!(has(&with(op, &[("StartTime", "2024-01-01T00:00Z")]), "StartTime", "time.format"));
        assert!(with(op, &[("ResourceIds.100", "m-1")]).is_empty());
        assert!(has(&with(op, &[("ResourceIds.101", "m-1")]), "ResourceIds.101", "list.index"));
    }

    #[test]
    fn describe_regions_enums() {
        let op = Operation::EcsDescribeRegions;
        assert!(
            check(
                op,
                &[("AcceptLanguage", "en-US"), ("ResourceType", "disk"), ("InstanceChargeType", "PrePaid")]
            )
            .is_empty()
        );
        assert!(has(&check(op, &[("AcceptLanguage", "en")]), "AcceptLanguage", "enum.value"));
    }

    #[test]
    fn ehpc_add_image_specs() {
        let op = Operation::EhpcAddImage;
        assert!(has(
            &check(op, &[("ImageType", "VM"), ("VMImageSpec", r#"{"ImageId":"m-1"}"#)]),
            "Name",
            "required.missing"
        ));
        let e = with(op, &[("ImageType", "Docker")]);
        assert_eq!(code_of(&e, "ImageType"), Some("InvalidParams"));
        let e = check(op, &[("Name", "a"), ("ImageType", "VM")]);
        assert!(has(&e, "VMImageSpec", "ehpc.image_spec"));
        let e = with(op, &[("VMImageSpec", r#"{"ImageId":"m-1""#)]);
        assert!(has(&e, "VMImageSpec", "json.parse"));
        assert!(e.iter().all(|x| !x.en.is_empty()));
        let e = with(op, &[("VMImageSpec", r#"["m-1"]"#)]);
        assert!(has(&e, "VMImageSpec", "json.type"));
        let e = with(op, &[("VMImageSpec", r#"{"ImageId":"img-1"}"#)]);
        assert!(has(&e, "VMImageSpec.ImageId", "id.prefix"));
        let e = with(op, &[("VMImageSpec", r#"{"ImageId":7}"#)]);
        assert!(has(&e, "VMImageSpec.ImageId", "json.type"));
        let e = with(op, &[("VMImageSpec", r#"{"imageId":"m-1"}"#)]);
        assert!(has(&e, "VMImageSpec.ImageId", "json.key_case"));
        assert!(has(&e, "VMImageSpec.ImageId", "required.missing"));
        let e = with(op, &[("ContainerImageSpec", r#"{"RegistryUrl":"r/x:1"}"#)]);
        assert!(has(&e, "ContainerImageSpec", "ehpc.spec_mismatch"));

        let container = |spec: &str| {
            check(op, &[("Name", "a"), ("ImageType", "Container"), ("ContainerImageSpec", spec)])
        };
        let good = serde_json::json!({
            "RegistryUrl": "registry-vpc.cn-hangzhou.aliyuncs.com/ehpc_open/nginx:latest",
            "IsACRRegistry": "True",
            "IsACREnterprise": true,
            "RegistryCriId": "cri-xyz",
            "RegistryCredential": {"Server": "s", "UserName": "u", "Password": "p"},
        })
        .to_string();
        let good = good.as_str();
        assert_eq!(container(good), vec![]);
        assert!(has(
            &container(r#"{"IsACRRegistry":true}"#),
            "ContainerImageSpec.RegistryUrl",
            "required.missing"
        ));
        assert!(has(
            &container(r#"{"RegistryUrl":"r","IsACRRegistry":"yes"}"#),
            "ContainerImageSpec.IsACRRegistry",
            "bool.parse"
        ));
        let e = container(r#"{"RegistryUrl":"r","RegistryCredential":{"Server":"s","UserName":"u"}}"#);
        assert!(has(&e, "ContainerImageSpec.RegistryCredential.Password", "required.missing"));
        assert_eq!(code_of(&e, "ContainerImageSpec.RegistryCredential.Password"), Some("InvalidParams"));
        let e = container(r#"{"RegistryUrl":"r","RegistryCredential":"{\"Server\":\"s\"}"}"#);
        assert!(has(&e, "ContainerImageSpec.RegistryCredential.UserName", "required.missing"));
        let e = container(r#"{"RegistryUrl":"r","IsACREnterprise":"true"}"#);
        assert!(has(&e, "ContainerImageSpec.RegistryCriId", "ehpc.cri_id_required"));
        assert!(has(
            &container(r#"{"RegistryUrl":"r","RegistryCriId":"x-1"}"#),
            "ContainerImageSpec.RegistryCriId",
            "id.prefix"
        ));
        let e = check(op, &[("Name", "a"), ("ImageType", "Container")]);
        assert!(has(&e, "ContainerImageSpec", "ehpc.image_spec"));
        // Without ImageType a lone container spec is enough.
        assert!(check(op, &[("Name", "a"), ("ContainerImageSpec", r#"{"RegistryUrl":"r"}"#)]).is_empty());
    }

    #[test]
    fn ehpc_list_and_get_json_arrays() {
        let op = Operation::EhpcListImages;
        assert!(
            check(op, &[("ImageIds", r#"["m-1","m-2"]"#), ("Mode", "Merge"), ("ImageCategory", "Custom")])
                .is_empty()
        );
        assert!(has(&check(op, &[("ImageIds", "m-1,m-2")]), "ImageIds", "json.parse"));
        assert!(has(&check(op, &[("ImageNames", r#"["a",1]"#)]), "ImageNames.2", "json.type"));
        assert!(has(&check(op, &[("ImageNames", "[]")]), "ImageNames", "json.empty"));
        assert!(has(&check(op, &[("Mode", "All")]), "Mode", "enum.value"));
        let e = check(Operation::EhpcGetImage, &[("ImageId", "m-1"), ("AdditionalRegionIds", r#"{"a":1}"#)]);
        assert!(has(&e, "AdditionalRegionIds", "json.type"));
    }

    #[test]
    fn ens_import_image_rules() {
        let op = Operation::EnsImportImage;
        let e = check(op, &[]);
        for field in ["ImageName", "Architecture", "OSType", "ImageFormat", "ComputeType"] {
            assert!(has(&e, field, "required.missing"), "{field}");
        }
        assert!(has(&e, "OSSBucket", "ens_import.source"));
        let e = with(op, &[("Architecture", "arm64")]);
        assert_eq!(code_of(&e, "Architecture"), Some("InvalidParameter.Architecture"));
        assert!(with(op, &[("OSType", "windows")]).is_empty());
        assert!(has(&with(op, &[("ImageFormat", "raw")]), "ImageFormat", "enum.value"));
        assert!(has(&with(op, &[("ComputeType", "bare_metal")]), "ComputeType", "enum.value"));
        assert!(with(op, &[("OSSRegion", "cn-beijing"), ("TargetOSSRegionId", "ap-southeast-1")]).is_empty());
        assert!(has(&with(op, &[("OSSRegion", "cn-hangzhou")]), "OSSRegion", "enum.value"));
        assert!(has(&with(op, &[("TargetOSSRegionId", "cn-hangzhou")]), "TargetOSSRegionId", "enum.value"));
        assert!(with(op, &[("Platform", "ubuntu")]).is_empty());
        assert!(has(&with(op, &[("Platform", "Ubuntu")]), "Platform", "enum.value"));

        let mut p = params(&base(op));
        p.remove("OSSBucket");
        p.remove("OSSObject");
        p.insert("DiskDeviceMapping", r#"[{"OSSBucket":"b","OSSObject":"o","OSSRegion":"cn-beijing"}]"#);
        assert_eq!(validate(op, &p, &Context::default()), vec![]);
        p.insert("DiskDeviceMapping", r#"[{"OSSBucket":"b","OSSObject":"o"},{"OSSBucket":"b2"}]"#);
        let e = validate(op, &p, &Context::default());
        assert!(has(&e, "DiskDeviceMapping.2.OSSObject", "required.missing"));
        p.insert("DiskDeviceMapping", r#"{"OSSBucket":"b","OSSObject":"o"}"#);
        assert!(has(&validate(op, &p, &Context::default()), "DiskDeviceMapping", "json.type"));
        p.insert("DiskDeviceMapping", r#"["b"]"#);
        assert!(has(&validate(op, &p, &Context::default()), "DiskDeviceMapping.1", "json.type"));
        p.insert("DiskDeviceMapping", "[{");
        assert!(has(&validate(op, &p, &Context::default()), "DiskDeviceMapping", "json.parse"));
        let e = check(op, &base(op).into_iter().filter(|(k, _)| *k != "OSSObject").collect::<Vec<_>>());
        assert!(has(&e, "OSSObject", "required.missing"));
    }

    #[test]
    fn unknown_and_common_parameters_are_ignored() {
        let e = with(
            Operation::EcsImportImage,
            &[("Action", "ImportImage"), ("SignatureNonce", "x"), ("Foo.1.Bar", "")],
        );
        assert!(e.is_empty());
    }

    #[test]
    fn every_error_has_bilingual_actionable_messages() {
        let mut all = Vec::new();
        let bad: &[(Operation, &[(&str, &str)])] = &[
            (
                Operation::EcsImportImage,
                &[
                    ("ImageName", "1a"),
                    ("Description", "h"),
                    ("Architecture", "arm64"),
                    ("OSType", "mac"),
                    ("ClientToken", "é"),
                    ("Tag.1.Value", "v"),
                    ("Tag.2.Key", "acs:"),
                    ("Tag.3.Key", "acs:"),
                    ("DiskDeviceMapping.19.Format", "x"),
                    ("StorageLocationArn", "a"),
                ],
            ),
            (
                Operation::EcsCreateImage,
                &[
                    ("ImageFamily", "a.b"),
                    ("DiskDeviceMapping.1.DiskType", "system"),
                    ("DiskDeviceMapping.1.Device", "/dev/xvdc"),
                    ("DiskDeviceMapping.2.DiskType", "system"),
                    ("DiskDeviceMapping.2.Device", "/dev/xvdc"),
                ],
            ),
            (
                Operation::EcsModifyImageAttribute,
                &[("Status", "x"), ("LicenseType", "Auto"), ("ImageFamily", "aliyunx")],
            ),
            (
                Operation::EcsDescribeImages,
                &[("Status", "A,,"), ("PageSize", "x"), ("IsPublic", "true"), ("Filter.1.Value", "2024")],
            ),
            (Operation::EcsDescribeTasks, &[("TaskIds", ",")]),
            (Operation::EcsCopyImage, &[("RegionId", "r"), ("DestinationRegionId", "r")]),
            (
                Operation::EhpcAddImage,
                &[("ImageType", "VM"), ("ContainerImageSpec", r#"{"registryUrl":1,"IsACREnterprise":true}"#)],
            ),
            (
                Operation::EnsImportImage,
                &[("ImageName", "a"), ("DiskDeviceMapping", "[]"), ("OSSBucket", "b")],
            ),
        ];
        for (op, pairs) in bad {
            all.extend(check(*op, pairs));
        }
        let ctx = Context {
            current_imds_support: Some("v2".into()),
            image_is_shared: Some(true),
            current_architecture: Some("arm64".into()),
        };
        all.extend(with_ctx(
            Operation::EcsModifyImageAttribute,
            &[
                ("RegionId", "r"),
                ("ImageId", "m"),
                ("Features.ImdsSupport", "v1"),
                ("Status", "Deprecated"),
                ("BootMode", "BIOS"),
            ],
            &ctx,
        ));
        assert!(all.len() > 40, "expected a broad sample, got {}", all.len());
        for e in &all {
            assert!(!e.field.is_empty() && !e.rule.is_empty() && !e.code.is_empty(), "{e:?}");
            assert!(e.en.chars().count() > 20, "en message too thin: {e:?}");
            assert!(has_cjk(&e.zh), "zh lacks Chinese: {e:?}");
        }
        let rules: HashSet<&str> = all.iter().map(|e| e.rule).collect();
        for id in [
            "image_name.first_char",
            "description.length",
            "boot_mode.arm64_uefi",
            "enum.value",
            "ascii.non_ascii",
            "tag.mismatch",
            "tag.duplicate_key",
            "tag_key.reserved_prefix",
            "list.index",
            "arn.format",
            "image_family.chars",
            "disk.system_count",
            "disk.device_role",
            "disk.duplicate_device",
            "enum.list_value",
            "comma_list.empty_item",
            "int.parse",
            "is_public.owner_alias",
            "time.format",
            "list.value_without_key",
            "copy_image.same_region",
            "ehpc.spec_mismatch",
            "json.key_case",
            "ehpc.cri_id_required",
            "json.empty",
            "required.missing",
            "imds.no_downgrade",
            "status.deprecate_shared",
        ] {
            assert!(rules.contains(id), "sample misses {id}");
        }
    }

    #[test]
    fn rule_tables_are_well_formed() {
        for op in Operation::ALL {
            let table = rules(op);
            assert!(!table.is_empty(), "{op:?}");
            let mut seen = HashSet::new();
            for r in table {
                assert!(seen.insert(r.field), "{op:?} lists {} twice", r.field);
                assert!(
                    !r.code.is_empty() && !r.check.hint_en().is_empty() && has_cjk(&r.check.hint_zh()),
                    "{op:?} {}",
                    r.field
                );
                let concrete = r
                    .field
                    .split('.')
                    .map(|seg| if seg == "N" { "3" } else { seg })
                    .collect::<Vec<_>>()
                    .join(".");
                assert!(r.matches(&concrete), "{}", r.field);
                assert!(!r.matches(&format!("{concrete}.x")) && !r.matches(&format!("x.{concrete}")));
            }
        }
        assert_eq!(
            rule_for(Operation::EcsImportImage, "DiskDeviceMapping.1.DiskImageSize").map(|r| r.code),
            Some("InvalidImageSize")
        );
        assert_eq!(
            rule_for(Operation::EcsImportImage, "DiskDeviceMapping.7.DiskImageSize").map(|r| r.code),
            Some("InvalidDataDiskSize")
        );
        assert!(rule_for(Operation::EcsImportImage, "Tag.x.Key").is_none());
        assert!(rule_for(Operation::EcsImportImage, "Tag.1.Key.Extra").is_none());
    }

    #[test]
    fn generic_checks_not_used_by_tables_still_work() {
        assert!(check_scalar(Check::Length { min: 1, max: 3 }, "F", "abc").is_none());
        assert_eq!(
            check_scalar(Check::Length { min: 1, max: 3 }, "F", "abcd").map(|f| f.rule),
            Some("length.range")
        );
        assert_eq!(
            check_scalar(Check::Length { min: 1, max: 3 }, "F", "").map(|f| f.rule),
            Some("length.range")
        );
    }

    // ---- property tests ----

    fn known_names() -> Vec<&'static str> {
        let mut names: Vec<&'static str> =
            Operation::ALL.iter().flat_map(|op| rules(*op).iter().map(|r| r.field)).collect();
        names.extend(["Tag.N.Key", "Action", "DiskDeviceMapping.N", "Filter"]);
        names
    }

    fn index_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("0".to_owned()),
            (1u64..=25).prop_map(|i| i.to_string()),
            Just("18446744073709551616".to_owned()),
        ]
    }

    fn fill_index(pattern: &str, index: &str) -> String {
        let segments: Vec<&str> = pattern.split('.').map(|s| if s == "N" { index } else { s }).collect();
        segments.join(".")
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (prop::sample::select(known_names()), index_strategy())
                .prop_map(|(p, i)| fill_index(p, &i)),
            1 => ".{0,20}",
        ]
    }

    const SPECIAL_VALUES: &[&str] = &[
        "arm64",
        "UEFI",
        "BIOS",
        "v1",
        "v2",
        "Deprecated",
        "VM",
        "Container",
        "true",
        "True",
        "x86_64",
        "99999999999999999999",
        "-5",
        "2024-02-30T00:00Z",
        "/dev/xvda",
        "http://",
        "aliyun",
        "acs:",
        "[]",
        "{}",
        "[{}]",
        "[{\"OSSBucket\":1}]",
    ];

    /// `{"k":v,…}` from already-encoded JSON values (duplicates and odd types included on purpose).
    fn json_object_text(kv: &[(&str, String)]) -> String {
        let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", body.join(","))
    }

    fn value_strategy() -> impl Strategy<Value = String> {
        let scalar = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("-1".to_owned()),
            Just("\"m-1\"".to_owned()),
            Just("[1,{}]".to_owned()),
            Just("{\"Server\":\"s\"}".to_owned()),
            "[a-z]{0,3}".prop_map(|s| format!("\"{s}\"")),
        ];
        let keys = prop::sample::select(vec![
            "ImageId",
            "imageid",
            "RegistryUrl",
            "IsACREnterprise",
            "RegistryCredential",
            "OSSBucket",
            "RegistryCriId",
            "x",
        ]);
        prop_oneof![
            3 => any::<String>(),
            1 => prop::sample::select(SPECIAL_VALUES).prop_map(str::to_owned),
            2 => prop::collection::vec((keys, scalar), 0..4).prop_map(|kv| json_object_text(&kv)),
            1 => "[\\[\\]{}\",:a-z0-9 ]{0,30}",
        ]
    }

    fn context_strategy() -> impl Strategy<Value = Context> {
        (
            prop::option::of(prop::sample::select(vec!["v1", "v2", ""])),
            prop::option::of(any::<bool>()),
            prop::option::of(prop::sample::select(vec!["arm64", "x86_64"])),
        )
            .prop_map(|(imds, shared, arch)| Context {
                current_imds_support: imds.map(str::to_owned),
                image_is_shared: shared,
                current_architecture: arch.map(str::to_owned),
            })
    }

    fn name_char() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::char::range('a', 'z'),
            prop::char::range('A', 'Z'),
            prop::char::range('0', '9'),
            prop::char::range('\u{4E00}', '\u{9FFF}'),
            prop::char::range('\u{3400}', '\u{4DBF}'),
            prop::sample::select(vec!['.', ':', '_', '-']),
        ]
    }

    fn valid_name(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
        let first = prop_oneof![
            prop::char::range('b', 'z'),
            prop::char::range('A', 'Z'),
            prop::char::range('\u{4E00}', '\u{9FFF}')
        ];
        (first, prop::collection::vec(name_char(), len)).prop_map(|(f, rest)| {
            let mut s = String::from(f);
            s.extend(rest);
            s
        })
    }

    #[test]
    fn cross_rule_messages_cut_long_values_short() {
        // Found by tests/fuzz.rs: BootMode and ImageOwnerAlias were quoted whole.
        let long = "x".repeat(10_000);
        let errs = with(Operation::EcsImportImage, &[("Architecture", "arm64"), ("BootMode", &long)]);
        let e = errs.iter().find(|e| e.rule == "boot_mode.arm64_uefi").unwrap();
        assert!(e.en.len() < 300 && e.zh.len() < 300 && e.en.contains("xxx…"), "{e:?}");
        let errs = with(Operation::EcsDescribeImages, &[("IsPublic", "true"), ("ImageOwnerAlias", &long)]);
        let e = errs.iter().find(|e| e.rule == "is_public.owner_alias").unwrap();
        assert!(e.en.len() < 300 && e.zh.len() < 300, "{e:?}");
        let device_role = [
            ("RegionId", "cn-hangzhou"),
            ("DiskDeviceMapping.1.SnapshotId", "s-1"),
            ("DiskDeviceMapping.1.Device", "/dev/xvda"),
            ("DiskDeviceMapping.1.DiskType", long.as_str()),
        ];
        let errs = check(Operation::EcsCreateImage, &device_role);
        let e = errs.iter().find(|e| e.rule == "disk.device_role").unwrap();
        assert!(e.en.len() < 300 && e.zh.len() < 300, "{e:?}");
    }

    /// Any Unicode scalar values, `min..=max` of them.
    fn chars_between(min: usize, max: usize) -> impl Strategy<Value = Vec<char>> {
        prop::collection::vec(any::<char>(), min..=max)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn validate_never_panics(
            op in prop::sample::select(Operation::ALL.to_vec()),
            pairs in prop::collection::vec((name_strategy(), value_strategy()), 0..24),
            ctx in context_strategy(),
        ) {
            let errs = validate(op, &Params::from_pairs(pairs), &ctx);
            for e in errs {
                prop_assert!(!e.field.is_empty() && !e.en.is_empty() && has_cjk(&e.zh));
            }
        }

        #[test]
        fn valid_names_of_2_to_128_chars_pass(name in valid_name(1..=127)) {
            for (op, field) in [
                (Operation::EcsImportImage, "ImageName"),
                (Operation::EcsCreateImage, "ImageName"),
                (Operation::EcsModifyImageAttribute, "ImageName"),
                (Operation::EcsCopyImage, "DestinationImageName"),
            ] {
                prop_assert_eq!(with(op, &[(field, &name)]), vec![], "{:?} {}", op, name);
            }
            let ens_name = name.replace('.', "_");
            prop_assert_eq!(with(Operation::EnsImportImage, &[("ImageName", &ens_name)]), vec![]);
        }

        #[test]
        fn names_longer_than_128_chars_fail(name in valid_name(128..=299)) {
            for (op, field) in [
                (Operation::EcsImportImage, "ImageName"),
                (Operation::EcsCreateImage, "ImageName"),
                (Operation::EcsModifyImageAttribute, "ImageName"),
                (Operation::EcsCopyImage, "DestinationImageName"),
                (Operation::EnsImportImage, "ImageName"),
            ] {
                let errs = with(op, &[(field, &name)]);
                prop_assert!(has(&errs, field, "image_name.length"), "{:?} {:?}", op, errs);
            }
        }

        #[test]
        fn descriptions_of_2_to_256_chars_pass(chars in chars_between(2, 256)) {
            let text: String = chars.into_iter().collect();
            prop_assume!(!starts_with_url(&text));
            prop_assert_eq!(with(Operation::EcsImportImage, &[("Description", &text)]), vec![]);
            let copy = with(Operation::EcsCopyImage, &[("DestinationDescription", &text)]);
            prop_assert_eq!(copy, vec![]);
        }

        #[test]
        fn descriptions_longer_than_256_chars_fail(chars in chars_between(257, 400)) {
            let text: String = chars.into_iter().collect();
            let errs = with(Operation::EcsModifyImageAttribute, &[("Description", &text)]);
            prop_assert!(has(&errs, "Description", "description.length"));
        }

        #[test]
        fn up_to_20_tags_pass(n in 1usize..=20) {
            prop_assert_eq!(with_owned(Operation::EcsImportImage, &tags(n)), vec![]);
        }

        #[test]
        fn more_than_20_tags_fail(n in 21usize..=40) {
            let errs = with_owned(Operation::EcsCreateImage, &tags(n));
            prop_assert!(has(&errs, "Tag", "tag.count"));
        }
    }
}
