//! The "Import image to ECS" form (ECS ImportImage, seed 003, apis.md §1.2): 1–17 disk files
//! (row 1 the system disk), each either a local file that a job uploads to OSS first or an
//! object already in OSS, plus the image's attributes.
//!
//! Wire names of its fields: `RegionId`, `DiskDeviceMapping.N.{OSSBucket,OSSObject,Format,
//! DiskImageSize}` (for a local file, OSSBucket/OSSObject are its upload bucket and key),
//! `ImageName`, `Description`, `Architecture`, `OSType`, `Platform`, `BootMode`, `LicenseType`,
//! `Features.NvmeSupport`, `Features.ImdsSupport`, `DetectionStrategy`, `ResourceGroupId`,
//! `RoleName`, `Tag.N.{Key,Value}`. Form-only fields: `DiskDeviceMapping.N.LocalFile` (the
//! path) and `DiskDeviceMapping` (the number of disks).

use std::path::PathBuf;

use super::{
    MAX_TAGS, TagRow, Touch, blank_rows, choices, cli_line, keep_unparsed, list_field, params_of, push_row,
    remove_row, tags_request, text,
};
use crate::jobs::sniff::{Refusal, Sniffed};
use crate::protocol::catalog::{IMPORT_ROLE_PERMISSION_POLICY, IMPORT_ROLE_TRUST_POLICY};
use crate::protocol::ops::ecs::{
    Architecture, BootMode, DetectionStrategy, FeatureParams, ImageFormat, ImdsSupport, ImportDiskMapping,
    ImportImage, LicenseType, NvmeSupport, OsType,
};
use crate::protocol::params::Params;
use crate::protocol::validate::{self, Context, FieldError, Operation};

/// The operation whose rules and value lists ([`super::choices`]) this form uses.
pub const OPERATION: Operation = Operation::EcsImportImage;
/// One system disk and up to 16 data disks (`DiskDeviceMapping.N`, N 1..17).
pub const MAX_DISKS: usize = 17;
/// The role ECS assumes to read OSS when `RoleName` is not given (exact name required).
pub const DEFAULT_ROLE: &str = crate::protocol::catalog::IMPORT_ROLE_NAME;
/// The system policy to attach to that role.
pub const ROLE_POLICY: &str = crate::protocol::catalog::IMPORT_ROLE_SYSTEM_POLICY;
/// OSS object keys are 1–1023 bytes of UTF-8 (oss-upload.md).
const MAX_OBJECT_KEY_BYTES: usize = 1023;
const DISKS: &str = "DiskDeviceMapping";

/// Where a disk's file comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskSource {
    /// A file on this computer, uploaded by a job to [`ImportDisk::upload_bucket`] /
    /// [`ImportDisk::upload_key`] before the import.
    LocalFile { path: String },
    /// An object already in OSS (same region as the import).
    OssObject { bucket: String, object: String },
}

impl Default for DiskSource {
    fn default() -> Self {
        Self::LocalFile { path: String::new() }
    }
}

/// One disk row (index 0 = the system disk, `DiskDeviceMapping.1`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportDisk {
    pub source: DiskSource,
    /// Upload bucket of a local file (in the import region).
    pub upload_bucket: String,
    /// Upload object key of a local file; the file name until the user edits it.
    pub upload_key: String,
    /// `RAW`, `VHD`, `QCOW2`, `VMDK` or empty (ECS detects it).
    pub format: String,
    /// GiB, 1–2048; empty = from the file.
    pub size_gib: String,
    /// Pre-flight: the virtual disk's size in GiB, rounded up (the smallest size that holds it).
    pub min_size_gib: Option<u32>,
    /// Pre-flight: why ECS would refuse this file, if it would.
    pub refusal: Option<Refusal>,
}

impl ImportDisk {
    pub fn is_local(&self) -> bool {
        matches!(self.source, DiskSource::LocalFile { .. })
    }

    /// The OSS bucket and object the import reads (a local file's upload target).
    pub fn oss_location(&self) -> (&str, &str) {
        match &self.source {
            DiskSource::LocalFile { .. } => (&self.upload_bucket, &self.upload_key),
            DiskSource::OssObject { bucket, object } => (bucket, object),
        }
    }
}

/// One upload the import needs first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadTarget {
    /// Row in [`EcsImportForm::disks`].
    pub disk_index: usize,
    pub path: PathBuf,
    pub bucket: String,
    pub key: String,
}

/// ECS ImportImage form state. Choice fields hold wire values or empty for the API default;
/// offer them from `super::choices(OPERATION, "<wire name>")`.
#[derive(Clone, Debug)]
pub struct EcsImportForm {
    pub region: String,
    pub disks: Vec<ImportDisk>,
    pub name: String,
    pub description: String,
    pub architecture: String,
    pub os_type: String,
    pub platform: String,
    pub boot_mode: String,
    pub license_type: String,
    pub nvme: String,
    pub imds: String,
    /// Run the `Standard` image check after the import.
    pub detection: bool,
    pub resource_group: String,
    /// Empty = [`DEFAULT_ROLE`].
    pub role_name: String,
    pub tags: Vec<TagRow>,
    pub touch: Touch,
}

impl Default for EcsImportForm {
    fn default() -> Self {
        Self {
            region: String::new(),
            disks: vec![ImportDisk::default()],
            name: String::new(),
            description: String::new(),
            architecture: String::new(),
            os_type: String::new(),
            platform: String::new(),
            boot_mode: String::new(),
            license_type: String::new(),
            nvme: String::new(),
            imds: String::new(),
            detection: false,
            resource_group: String::new(),
            role_name: String::new(),
            tags: Vec::new(),
            touch: Touch::default(),
        }
    }
}

impl EcsImportForm {
    /// A form with one (system) disk.
    pub fn new(region: impl Into<String>) -> Self {
        Self { region: region.into(), ..Self::default() }
    }

    /// Wire name of a field of disk row `index` (0-based): `disk_field(0, "OSSBucket")` →
    /// `DiskDeviceMapping.1.OSSBucket`.
    pub fn disk_field(index: usize, sub: &str) -> String {
        list_field(DISKS, index, sub)
    }

    /// Add a data disk (uploading to the previous disk's bucket); `false` at 17 disks.
    pub fn add_disk(&mut self) -> bool {
        if self.disks.len() >= MAX_DISKS {
            return false;
        }
        let upload_bucket = self.disks.last().map(|d| d.upload_bucket.clone()).unwrap_or_default();
        self.disks.push(ImportDisk { upload_bucket, ..ImportDisk::default() });
        true
    }

    /// Remove a disk row (the system disk row always stays).
    pub fn remove_disk(&mut self, index: usize) {
        if self.disks.len() > 1 {
            remove_row(&mut self.disks, &mut self.touch, DISKS, index);
        }
    }

    /// Add an empty tag row; `false` when the 20 allowed are already there.
    pub fn add_tag(&mut self) -> bool {
        push_row(&mut self.tags, MAX_TAGS)
    }

    pub fn remove_tag(&mut self, index: usize) {
        remove_row(&mut self.tags, &mut self.touch, "Tag", index);
    }

    /// Make disk `index` the local file at `path`: the upload key follows the file name unless
    /// the user edited it, and the previous file's pre-flight results are dropped.
    pub fn set_local_file(&mut self, index: usize, path: impl Into<String>) {
        let key_edited = self.touch.is_touched(&Self::disk_field(index, "OSSObject"));
        let Some(disk) = self.disks.get_mut(index) else { return };
        let path = path.into();
        if !key_edited {
            disk.upload_key = object_key_for(&path);
        }
        disk.source = DiskSource::LocalFile { path };
        disk.min_size_gib = None;
        disk.refusal = None;
        self.touch.touch(Self::disk_field(index, "LocalFile"));
    }

    /// Fill disk `disk_index` (0-based) from its pre-flight: format, minimum size (GiB, rounded
    /// up) and, for the system disk, the boot mode. A value the user typed (touched) is kept.
    pub fn apply_sniff(&mut self, disk_index: usize, sniffed: &Sniffed) {
        let format_typed = self.touch.is_touched(&Self::disk_field(disk_index, "Format"));
        let size_typed = self.touch.is_touched(&Self::disk_field(disk_index, "DiskImageSize"));
        let Some(disk) = self.disks.get_mut(disk_index) else { return };
        if let (false, Some(format)) = (format_typed, &sniffed.ecs_format) {
            disk.format = format.as_str().to_owned();
        }
        if let (false, Some(min)) = (size_typed, sniffed.min_disk_image_size_gib) {
            disk.size_gib = min.to_string();
        }
        disk.min_size_gib = sniffed.min_disk_image_size_gib;
        disk.refusal = sniffed.fits_ecs.clone().err();
        // Only the system disk boots; only modes ImportImage accepts are offered.
        let hint = sniffed.boot_mode_hint.as_ref().map(BootMode::as_str);
        if let Some(hint) = hint.filter(|h| choices(OPERATION, "BootMode").iter().any(|c| c == h))
            && disk_index == 0
            && !self.touch.is_touched("BootMode")
        {
            self.boot_mode = hint.to_owned();
        }
    }

    /// The local files to upload before the import (rows with a path).
    pub fn uploads(&self) -> Vec<UploadTarget> {
        self.disks
            .iter()
            .enumerate()
            .filter_map(|(disk_index, disk)| match &disk.source {
                DiskSource::LocalFile { path } if !path.trim().is_empty() => Some(UploadTarget {
                    disk_index,
                    path: PathBuf::from(path.trim()),
                    bucket: disk.upload_bucket.trim().to_owned(),
                    key: disk.upload_key.trim().to_owned(),
                }),
                _ => None,
            })
            .collect()
    }

    /// The request (a local file is read from its upload bucket/key).
    pub fn request(&self, dry_run: bool) -> ImportImage {
        let features = FeatureParams {
            nvme_support: text(&self.nvme).map(|v| NvmeSupport::parse(&v)),
            imds_support: text(&self.imds).map(|v| ImdsSupport::parse(&v)),
        };
        ImportImage {
            region_id: self.region.trim().to_owned(),
            disk_device_mapping: self.disks.iter().map(disk_request).collect(),
            image_name: text(&self.name),
            description: text(&self.description),
            architecture: text(&self.architecture).map(|v| Architecture::parse(&v)),
            os_type: text(&self.os_type).map(|v| OsType::parse(&v)),
            platform: text(&self.platform),
            boot_mode: text(&self.boot_mode).map(|v| BootMode::parse(&v)),
            license_type: text(&self.license_type).map(|v| LicenseType::parse(&v)),
            detection_strategy: self.detection.then_some(DetectionStrategy::Standard),
            features: (features != FeatureParams::default()).then_some(features),
            role_name: text(&self.role_name),
            client_token: None, // the client fills it once and reuses it for every retry
            resource_group_id: text(&self.resource_group),
            tag: tags_request(&self.tags),
            storage_location_arn: None,
            dry_run: dry_run.then_some(true),
        }
    }

    pub fn params(&self, dry_run: bool) -> Params {
        params_of(&self.request(dry_run))
    }

    /// The rule table on what would be sent (sizes as typed when they are not numbers), plus the
    /// checks only the form can make: number of disks, local paths, upload keys, pre-flight
    /// refusals and sizes below the virtual disk, blank rows.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut params = self.params(false);
        for (index, disk) in self.disks.iter().enumerate() {
            keep_unparsed(&mut params, &Self::disk_field(index, "DiskImageSize"), &disk.size_gib);
        }
        let mut errors = validate::validate(OPERATION, &params, &Context::default());
        let count = self.disks.len();
        if !(1..=MAX_DISKS).contains(&count) {
            errors.push(form_error(
                DISKS.into(),
                "ecs_import.disk_count",
                "InvalidParameter",
                format!(
                    "An import takes 1 to {MAX_DISKS} disks (the first is the system disk, up to 16 data disks); this one has {count}."
                ),
                format!("一次导入包含 1~{MAX_DISKS} 块磁盘（第一块为系统盘，最多 16 块数据盘），当前为 {count} 块。"),
            ));
        }
        for (index, disk) in self.disks.iter().enumerate() {
            self.disk_checks(index, disk, &mut errors);
        }
        blank_rows(&params, DISKS, count, "OSSBucket", &mut errors);
        blank_rows(&params, "Tag", self.tags.len(), "Key", &mut errors);
        errors
    }

    fn disk_checks(&self, index: usize, disk: &ImportDisk, errors: &mut Vec<FieldError>) {
        let n = index + 1;
        if let DiskSource::LocalFile { path } = &disk.source {
            let field = Self::disk_field(index, "LocalFile");
            if path.trim().is_empty() {
                errors.push(form_error(
                    field,
                    "ecs_import.local_path",
                    "MissingParameter",
                    format!("Disk {n}: choose the image file to upload, or use an object already in OSS."),
                    format!("磁盘 {n}：请选择要上传的镜像文件，或改用 OSS 中已有的对象。"),
                ));
            } else if let Some(refusal) = &disk.refusal {
                errors.push(form_error(
                    field,
                    "ecs_import.file_refused",
                    "InvalidImageFormat.Malformed",
                    format!("Disk {n}: {}", refusal.en),
                    format!("磁盘 {n}：{}", refusal.zh),
                ));
            }
            let key = disk.upload_key.trim();
            if key.len() > MAX_OBJECT_KEY_BYTES {
                errors.push(form_error(
                    Self::disk_field(index, "OSSObject"),
                    "oss.key_length",
                    "InvalidObjectName",
                    format!(
                        "Disk {n}: the object key is {} bytes long; OSS allows at most {MAX_OBJECT_KEY_BYTES} bytes (UTF-8).",
                        key.len()
                    ),
                    format!(
                        "磁盘 {n}：对象名长度为 {} 字节，OSS 最多允许 {MAX_OBJECT_KEY_BYTES} 字节（UTF-8）。",
                        key.len()
                    ),
                ));
            }
        }
        let size_field = Self::disk_field(index, "DiskImageSize");
        let typed = disk.size_gib.trim().parse::<u32>().ok();
        if let (Some(size), Some(min)) = (typed, disk.min_size_gib)
            && size < min
            && !errors.iter().any(|e| e.field == size_field)
        {
            errors.push(form_error(
                size_field,
                "ecs_import.size_below_disk",
                if index == 0 { "InvalidImageSize" } else { "InvalidDataDiskSize" },
                format!(
                    "Disk {n}: {size} GiB is smaller than the disk in the file ({min} GiB); give at least {min}."
                ),
                format!("磁盘 {n}：{size} GiB 小于镜像文件中磁盘的大小（{min} GiB），请至少填写 {min}。"),
            ));
        }
    }

    /// The error to show under `field`, if it may show.
    pub fn error_for<'a>(&self, errors: &'a [FieldError], field: &str) -> Option<&'a FieldError> {
        self.touch.error_for(errors, field)
    }

    /// The equivalent aliyun CLI command. A local file must be in OSS first, at the bucket and
    /// key shown: see [`Self::upload_cli_commands`].
    pub fn cli_command(&self, dry_run: bool) -> String {
        cli_line("ecs", "ImportImage", &self.params(dry_run))
    }

    /// `aliyun oss cp` lines that upload the local files where [`Self::cli_command`] reads them.
    pub fn upload_cli_commands(&self) -> Vec<String> {
        self.uploads()
            .into_iter()
            .map(|u| {
                let target = format!("oss://{}/{}", u.bucket, u.key);
                format!(
                    "aliyun oss cp {} {}",
                    super::shell_quote(&u.path.to_string_lossy()),
                    super::shell_quote(&target)
                )
            })
            .collect()
    }
}

fn disk_request(disk: &ImportDisk) -> ImportDiskMapping {
    let (bucket, object) = disk.oss_location();
    ImportDiskMapping {
        oss_bucket: bucket.trim().to_owned(),
        oss_object: object.trim().to_owned(),
        format: text(&disk.format).map(|v| ImageFormat::parse(&v)),
        disk_image_size: disk.size_gib.trim().parse().ok(),
        device: None, // deprecated by the API
    }
}

fn form_error(field: String, rule: &'static str, code: &'static str, en: String, zh: String) -> FieldError {
    FieldError { field, rule, code, en, zh }
}

/// The default object key for a local file: its file name (either path separator).
pub fn object_key_for(path: &str) -> String {
    path.trim().rsplit(['/', '\\']).next().unwrap_or_default().to_owned()
}

/// What to set up once so that ECS may read the image files from OSS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleHelp {
    /// `AliyunECSImageImportDefaultRole`: exactly this name unless `RoleName` is given.
    pub role_name: &'static str,
    /// Trust policy: the ECS service may assume the role.
    pub trust_policy: &'static str,
    /// System policy to attach: `AliyunECSImageImportRolePolicy`.
    pub policy_name: &'static str,
    /// The permissions a custom policy needs instead.
    pub custom_policy: &'static str,
    /// aliyun CLI lines that create the role and attach the policy.
    pub cli_commands: Vec<String>,
    pub en: &'static str,
    pub zh: &'static str,
}

/// The RAM role ImportImage needs (seed 003, errors.md §4), with its policies and CLI lines.
pub fn role_setup_help() -> RoleHelp {
    let compact_trust = IMPORT_ROLE_TRUST_POLICY.split_whitespace().collect::<String>();
    let create =
        Params::from_pairs([("RoleName", DEFAULT_ROLE), ("AssumeRolePolicyDocument", &compact_trust)]);
    let attach = Params::from_pairs([
        ("PolicyType", "System"),
        ("PolicyName", ROLE_POLICY),
        ("RoleName", DEFAULT_ROLE),
    ]);
    RoleHelp {
        role_name: DEFAULT_ROLE,
        trust_policy: IMPORT_ROLE_TRUST_POLICY,
        policy_name: ROLE_POLICY,
        custom_policy: IMPORT_ROLE_PERMISSION_POLICY,
        cli_commands: vec![
            cli_line("ram", "CreateRole", &create),
            cli_line("ram", "AttachPolicyToRole", &attach),
        ],
        en: "ECS reads your image files from OSS by assuming a RAM role in your account. Once per \
             account, create the role AliyunECSImageImportDefaultRole (exactly this name, unless you \
             give a Role name) with the trust policy below, which lets the ECS service \
             (ecs.aliyuncs.com) assume it, and attach the system policy \
             AliyunECSImageImportRolePolicy (or a custom policy with the permissions below). \
             Without it the import fails with NoSetRoletoECSServiceAcount.",
        zh: "ECS 通过扮演您账号中的 RAM 角色从 OSS 读取镜像文件。每个账号只需设置一次：创建角色 \
             AliyunECSImageImportDefaultRole（必须是这个名称，除非填写了角色名称），使用下面的信任\
             策略，允许 ECS 服务（ecs.aliyuncs.com）扮演该角色；再为该角色添加系统权限策略 \
             AliyunECSImageImportRolePolicy（或包含下列权限的自定义策略）。否则导入会失败，错误码为 \
             NoSetRoletoECSServiceAcount。",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::sniff::{DiskKind, PartitionTable};

    fn rules(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.rule)).collect()
    }

    fn oss(bucket: &str, object: &str) -> ImportDisk {
        ImportDisk {
            source: DiskSource::OssObject { bucket: bucket.into(), object: object.into() },
            ..ImportDisk::default()
        }
    }

    fn local_form() -> EcsImportForm {
        let mut f = EcsImportForm::new("cn-hangzhou");
        f.disks[0].upload_bucket = "imports".into();
        f.set_local_file(0, "/home/me/images/CentOS 7.qcow2");
        f
    }

    fn raw_uefi(virtual_size: u64) -> Sniffed {
        Sniffed {
            kind: DiskKind::Raw { partition_table: PartitionTable::Gpt, has_esp: true, has_bios_boot: false },
            virtual_size,
            file_size: virtual_size,
            ecs_format: Some(ImageFormat::Raw),
            min_disk_image_size_gib: Some(u32::try_from(virtual_size.div_ceil(1 << 30)).unwrap()),
            boot_mode_hint: Some(BootMode::Uefi),
            fits_ecs: Ok(()),
            fits_ens: Err(Refusal {
                en: "ENS takes qcow2 only.".into(), zh: "ENS 仅支持 qcow2。".into()
            }),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn a_local_file_is_imported_from_its_upload_target() {
        let f = local_form();
        assert_eq!(f.disks[0].upload_key, "CentOS 7.qcow2");
        assert!(f.validate().is_empty(), "{:?}", f.validate());
        assert_eq!(
            f.params(false).into_vec(),
            [
                ("RegionId", "cn-hangzhou"),
                ("DiskDeviceMapping.1.OSSBucket", "imports"),
                ("DiskDeviceMapping.1.OSSObject", "CentOS 7.qcow2"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(
            f.uploads(),
            [UploadTarget {
                disk_index: 0,
                path: PathBuf::from("/home/me/images/CentOS 7.qcow2"),
                bucket: "imports".into(),
                key: "CentOS 7.qcow2".into(),
            }]
        );
        assert_eq!(
            f.upload_cli_commands(),
            ["aliyun oss cp '/home/me/images/CentOS 7.qcow2' 'oss://imports/CentOS 7.qcow2'"]
        );
        assert_eq!(object_key_for(r"C:\images\win.vhd"), "win.vhd");
    }

    #[test]
    fn an_edited_key_survives_a_new_file() {
        let mut f = local_form();
        f.disks[0].upload_key = "imports/2024/sys.qcow2".into();
        f.touch.touch(EcsImportForm::disk_field(0, "OSSObject"));
        f.set_local_file(0, "/tmp/other.raw");
        assert_eq!(f.disks[0].upload_key, "imports/2024/sys.qcow2");
    }

    #[test]
    fn the_cli_command_is_exact_and_quoted() {
        let mut f = local_form();
        f.disks[0].format = "QCOW2".into();
        f.disks[0].size_gib = "40".into();
        f.add_disk();
        f.disks[1] = oss("data-bucket", "data disk.vhd");
        f.name = "centos7-base".into();
        f.description = "it's imported".into();
        f.architecture = "x86_64".into();
        f.os_type = "linux".into();
        f.platform = "CentOS".into();
        f.boot_mode = "BIOS".into();
        f.license_type = "BYOL".into();
        f.nvme = "supported".into();
        f.imds = "v2".into();
        f.detection = true;
        f.role_name = "MyImportRole".into();
        f.resource_group = "rg-1".into();
        f.tags.push(TagRow { key: "env".into(), value: "dev".into() });
        assert!(f.validate().is_empty(), "{:?}", f.validate());
        assert_eq!(
            f.cli_command(true),
            "aliyun ecs ImportImage --RegionId cn-hangzhou \
             --DiskDeviceMapping.1.OSSBucket imports --DiskDeviceMapping.1.OSSObject 'CentOS 7.qcow2' \
             --DiskDeviceMapping.1.Format QCOW2 --DiskDeviceMapping.1.DiskImageSize 40 \
             --DiskDeviceMapping.2.OSSBucket data-bucket --DiskDeviceMapping.2.OSSObject 'data disk.vhd' \
             --ImageName centos7-base --Description 'it'\\''s imported' --Architecture x86_64 \
             --OSType linux --Platform CentOS --BootMode BIOS --LicenseType BYOL \
             --DetectionStrategy Standard --Features.NvmeSupport supported --Features.ImdsSupport v2 \
             --RoleName MyImportRole --ResourceGroupId rg-1 --Tag.1.Key env --Tag.1.Value dev --DryRun true"
        );
        assert_eq!(f.uploads().len(), 1, "the OSS disk needs no upload");
    }

    #[test]
    fn apply_sniff_fills_hints_but_keeps_typed_values() {
        let mut f = local_form();
        f.apply_sniff(0, &raw_uefi(10 * (1 << 30) + 1));
        assert_eq!((f.disks[0].format.as_str(), f.disks[0].size_gib.as_str()), ("RAW", "11"));
        assert_eq!(f.boot_mode, "UEFI");
        assert!(f.validate().is_empty());

        let mut f = local_form();
        f.disks[0].format = "VHD".into();
        f.disks[0].size_gib = "8".into();
        f.boot_mode = "BIOS".into();
        for field in ["DiskDeviceMapping.1.Format", "DiskDeviceMapping.1.DiskImageSize", "BootMode"] {
            f.touch.touch(field);
        }
        f.apply_sniff(0, &raw_uefi(10 * (1 << 30)));
        assert_eq!((f.disks[0].format.as_str(), f.disks[0].size_gib.as_str()), ("VHD", "8"));
        assert_eq!(f.boot_mode, "BIOS");
        // The typed size is kept, but is smaller than the disk in the file.
        let errors = f.validate();
        assert_eq!(rules(&errors), [("DiskDeviceMapping.1.DiskImageSize", "ecs_import.size_below_disk")]);
        assert_eq!(errors[0].code, "InvalidImageSize");
        assert!(errors[0].en.contains("10 GiB") && errors[0].zh.contains("10 GiB"));

        // A data disk's hint never sets the boot mode.
        let mut f = local_form();
        f.add_disk();
        f.set_local_file(1, "/tmp/data.raw");
        f.apply_sniff(1, &raw_uefi(1 << 30));
        assert_eq!(f.boot_mode, "");
        assert_eq!(f.disks[1].format, "RAW");
        f.apply_sniff(7, &raw_uefi(1 << 30)); // no such disk: ignored
    }

    #[test]
    fn a_refused_file_is_reported_on_its_row() {
        let mut f = local_form();
        let mut iso = raw_uefi(1 << 30);
        iso.kind = DiskKind::Iso;
        iso.ecs_format = None;
        iso.fits_ecs = Err(Refusal {
            en: "This is an ISO, not a disk.".into(),
            zh: "这是 ISO，不是磁盘。".into(),
        });
        f.apply_sniff(0, &iso);
        let errors = f.validate();
        assert_eq!(rules(&errors), [("DiskDeviceMapping.1.LocalFile", "ecs_import.file_refused")]);
        assert_eq!(errors[0].en, "Disk 1: This is an ISO, not a disk.");
        f.set_local_file(0, "/tmp/good.qcow2");
        assert!(f.validate().is_empty(), "a new file drops the old verdict");
    }

    #[test]
    fn eighteen_disks_are_refused() {
        let mut f = EcsImportForm::new("cn-hangzhou");
        f.disks[0] = oss("b", "sys.raw");
        while f.add_disk() {}
        assert_eq!(f.disks.len(), MAX_DISKS, "add_disk stops at 17");
        for disk in &mut f.disks {
            *disk = oss("b", "d.raw");
        }
        assert!(f.validate().is_empty());
        f.disks.push(oss("b", "d18.raw"));
        let errors = f.validate();
        let found = rules(&errors);
        assert!(found.contains(&("DiskDeviceMapping", "ecs_import.disk_count")), "{found:?}");
        assert!(found.contains(&("DiskDeviceMapping.18", "list.index")), "{found:?}");
        let count = errors.iter().find(|e| e.rule == "ecs_import.disk_count").map(|e| (&e.en, &e.zh));
        assert!(count.is_some_and(|(en, zh)| en.contains("18") && zh.contains("18")));
    }

    #[test]
    fn empty_paths_buckets_and_rows_are_refused() {
        let mut f = EcsImportForm::new("cn-hangzhou");
        let errors = f.validate();
        assert_eq!(
            rules(&errors),
            [
                ("DiskDeviceMapping.1.OSSBucket", "required.missing"),
                ("DiskDeviceMapping.1.OSSObject", "required.missing"),
                ("DiskDeviceMapping.1.LocalFile", "ecs_import.local_path"),
            ]
        );
        f.disks[0] = oss("b", "sys.raw");
        f.add_disk();
        f.disks[1].source = DiskSource::OssObject { bucket: String::new(), object: String::new() };
        f.add_disk();
        f.disks[2] = oss("b", "data.raw");
        f.disks[2].size_gib = "3000".into();
        assert_eq!(
            rules(&f.validate()),
            [
                ("DiskDeviceMapping.3.DiskImageSize", "int.range"),
                ("DiskDeviceMapping.2.OSSBucket", "form.blank_row"),
            ]
        );
        f.remove_disk(1);
        f.disks[1].size_gib = "big".into();
        let errors = f.validate();
        assert_eq!(rules(&errors), [("DiskDeviceMapping.2.DiskImageSize", "int.parse")]);
        assert_eq!(errors[0].code, "InvalidDataDiskSize");
    }

    #[test]
    fn table_rules_apply_to_the_attributes() {
        let mut f = local_form();
        f.architecture = "arm64".into();
        f.name = "aliyun-copy".into();
        f.disks[0].upload_key = "k".repeat(1024);
        let errors = f.validate();
        assert_eq!(
            rules(&errors),
            [
                ("ImageName", "image_name.reserved_prefix"),
                ("BootMode", "boot_mode.arm64_uefi"),
                ("DiskDeviceMapping.1.OSSObject", "oss.key_length"),
            ]
        );
        assert!(f.error_for(&errors, "ImageName").is_none());
        f.touch.submit();
        assert!(f.error_for(&errors, "ImageName").is_some());
    }

    #[test]
    fn role_help_names_the_exact_role_and_policies() {
        let help = role_setup_help();
        assert_eq!(help.role_name, "AliyunECSImageImportDefaultRole");
        assert_eq!(help.policy_name, "AliyunECSImageImportRolePolicy");
        let trust: serde_json::Value = serde_json::from_str(help.trust_policy).unwrap();
        assert_eq!(trust["Statement"][0]["Principal"]["Service"][0], "ecs.aliyuncs.com");
        assert_eq!(trust["Statement"][0]["Action"], "sts:AssumeRole");
        let custom: serde_json::Value = serde_json::from_str(help.custom_policy).unwrap();
        assert_eq!(custom["Statement"][0]["Action"][0], "oss:GetObject");
        assert_eq!(
            help.cli_commands,
            [
                r#"aliyun ram CreateRole --RoleName AliyunECSImageImportDefaultRole --AssumeRolePolicyDocument '{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}'"#,
                "aliyun ram AttachPolicyToRole --PolicyType System --PolicyName AliyunECSImageImportRolePolicy --RoleName AliyunECSImageImportDefaultRole",
            ]
        );
        for text in [help.en, help.zh] {
            assert!(
                text.contains(DEFAULT_ROLE)
                    && text.contains(ROLE_POLICY)
                    && text.contains("ecs.aliyuncs.com")
            );
        }
        assert!(help.zh.contains("角色"));
    }
}
