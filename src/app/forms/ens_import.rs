//! The "Import image to ENS" form (ENS ImportImage, seed 001, apis.md §2.1): a qcow2 file (or
//! several disk files) already in OSS becomes an edge image.
//!
//! ENS has one global endpoint (no region parameter) and no `DryRun`, so this form has no dry
//! run. The documented limits are fixed values here: format `qcow2`, architecture `x86_64`,
//! compute type `ens_vm`. Wire names of its fields: `ImageName`, `OSType`, `Platform`,
//! `OSVersion`, `OSSRegion`, `TargetOSSRegionId`, `OSSBucket`, `OSSObject` (single file) and
//! `DiskDeviceMapping.N.{OSSBucket,OSSObject}` (multi-disk, N from 1).

use super::{Touch, cli_line, list_field, params_of, remove_row, text};
use crate::protocol::ops::ecs::{Architecture, OsType};
use crate::protocol::ops::ens::{EnsComputeType, EnsDiskMapping, EnsImageFormat, ImportImage};
use crate::protocol::params::{JsonString, Params};
use crate::protocol::validate::{self, Context, FieldError, Operation};

/// The operation whose rules and value lists ([`super::choices`]) this form uses.
pub const OPERATION: Operation = Operation::EnsImportImage;
/// The only values ENS ImportImage accepts (shown read-only).
pub const ARCHITECTURE: &str = "x86_64";
pub const IMAGE_FORMAT: &str = "qcow2";
pub const COMPUTE_TYPE: &str = "ens_vm";
/// The only OSS region ENS imports from (the form's default).
pub const DEFAULT_OSS_REGION: &str = "cn-beijing";

/// Where the image file is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnsSource {
    /// One qcow2 file: `OSSBucket` + `OSSObject`.
    #[default]
    SingleFile,
    /// One file per disk: `DiskDeviceMapping` (a JSON array).
    Disks,
}

/// One disk file of the multi-disk form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnsDiskRow {
    pub bucket: String,
    pub object: String,
}

/// ENS ImportImage form state.
#[derive(Clone, Debug)]
pub struct EnsImportForm {
    pub name: String,
    /// `linux` (the only one ENS currently imports) or `windows`.
    pub os_type: String,
    /// `centos`, `ubuntu` or empty.
    pub platform: String,
    pub os_version: String,
    /// Region of the bucket(s); one value for the single file and every disk.
    pub oss_region: String,
    /// Where the image is stored: `cn-beijing`, `ap-southeast-1` or empty (default).
    pub target_region: String,
    pub source: EnsSource,
    pub bucket: String,
    pub object: String,
    pub disks: Vec<EnsDiskRow>,
    pub touch: Touch,
}

impl Default for EnsImportForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            os_type: "linux".into(),
            platform: String::new(),
            os_version: String::new(),
            oss_region: DEFAULT_OSS_REGION.into(),
            target_region: String::new(),
            source: EnsSource::SingleFile,
            bucket: String::new(),
            object: String::new(),
            disks: Vec::new(),
            touch: Touch::default(),
        }
    }
}

impl EnsImportForm {
    pub fn new() -> Self {
        Self::default()
    }

    /// Switch between the single-file and multi-disk forms; the multi-disk form starts with the
    /// single file as its first disk, so nothing typed is lost.
    pub fn set_source(&mut self, source: EnsSource) {
        self.source = source;
        if source == EnsSource::Disks && self.disks.is_empty() {
            self.disks.push(EnsDiskRow { bucket: self.bucket.clone(), object: self.object.clone() });
        }
    }

    pub fn add_disk(&mut self) {
        self.disks.push(EnsDiskRow::default());
    }

    /// Remove a disk row (the last one stays: the multi-disk form needs a disk).
    pub fn remove_disk(&mut self, index: usize) {
        if self.disks.len() > 1 {
            remove_row(&mut self.disks, &mut self.touch, "DiskDeviceMapping", index);
        }
    }

    pub fn request(&self) -> ImportImage {
        let single = self.source == EnsSource::SingleFile;
        let oss_region = text(&self.oss_region);
        let disks = (!single && !self.disks.is_empty()).then(|| {
            JsonString(
                self.disks
                    .iter()
                    .map(|row| EnsDiskMapping {
                        oss_bucket: row.bucket.trim().to_owned(),
                        oss_object: row.object.trim().to_owned(),
                        oss_region: oss_region.clone(),
                    })
                    .collect(),
            )
        });
        ImportImage {
            image_name: self.name.trim().to_owned(),
            architecture: Architecture::X86_64,
            os_type: OsType::parse(self.os_type.trim()),
            image_format: EnsImageFormat::Qcow2,
            compute_type: EnsComputeType::EnsVm,
            platform: text(&self.platform),
            os_version: text(&self.os_version),
            oss_bucket: single.then(|| text(&self.bucket)).flatten(),
            oss_object: single.then(|| text(&self.object)).flatten(),
            oss_region: if single { oss_region } else { None },
            disk_device_mapping: disks,
            target_oss_region_id: text(&self.target_region),
            license_type: None, // values undocumented: not offered
        }
    }

    pub fn params(&self) -> Params {
        params_of(&self.request())
    }

    /// The table's EnsImportImage rules, plus "linux only" (documented, not in the table).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = validate::validate(OPERATION, &self.params(), &Context::default());
        // Every disk carries the form's one OSS region: report it once, under that field.
        for error in &mut errors {
            if error.field.starts_with("DiskDeviceMapping.") && error.field.ends_with(".OSSRegion") {
                error.field = "OSSRegion".into();
            }
        }
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert((e.field.clone(), e.rule)));
        if OsType::parse(self.os_type.trim()) == OsType::Windows {
            errors.push(FieldError {
                field: "OSType".into(),
                rule: "ens_import.linux_only",
                code: "InvalidParameter.OSType",
                en: "ENS ImportImage currently imports only linux images; choose linux.".into(),
                zh: "ENS 导入镜像目前仅支持 linux 镜像，请选择 linux。".into(),
            });
        }
        errors
    }

    /// Wire name of a field of disk row `index` (0-based).
    pub fn disk_field(index: usize, sub: &str) -> String {
        list_field("DiskDeviceMapping", index, sub)
    }

    /// The error to show under `field`, if it may show.
    pub fn error_for<'a>(&self, errors: &'a [FieldError], field: &str) -> Option<&'a FieldError> {
        self.touch.error_for(errors, field)
    }

    /// The equivalent aliyun CLI command (ENS is global: no region).
    pub fn cli_command(&self) -> String {
        cli_line("ens", "ImportImage", &self.params())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.rule)).collect()
    }

    fn single() -> EnsImportForm {
        EnsImportForm {
            name: "edge-centos".into(),
            platform: "centos".into(),
            bucket: "tmp-hybrid".into(),
            object: "images/edge.qcow2".into(),
            ..EnsImportForm::new()
        }
    }

    #[test]
    fn single_file_sends_the_fixed_values_and_the_file() {
        let f = single();
        assert!(f.validate().is_empty(), "{:?}", f.validate());
        assert_eq!(
            f.params().into_vec(),
            [
                ("ImageName", "edge-centos"),
                ("Architecture", "x86_64"),
                ("OSType", "linux"),
                ("ImageFormat", "qcow2"),
                ("ComputeType", "ens_vm"),
                ("Platform", "centos"),
                ("OSSBucket", "tmp-hybrid"),
                ("OSSObject", "images/edge.qcow2"),
                ("OSSRegion", "cn-beijing"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        assert_eq!(
            f.cli_command(),
            "aliyun ens ImportImage --ImageName edge-centos --Architecture x86_64 --OSType linux \
             --ImageFormat qcow2 --ComputeType ens_vm --Platform centos --OSSBucket tmp-hybrid \
             --OSSObject images/edge.qcow2 --OSSRegion cn-beijing"
        );
    }

    #[test]
    fn multi_disk_sends_one_json_parameter() {
        let mut f = single();
        f.set_source(EnsSource::Disks);
        assert_eq!(f.disks.len(), 1, "the single file became disk 1");
        f.add_disk();
        f.disks[1] = EnsDiskRow { bucket: "b2".into(), object: "data.qcow2".into() };
        f.target_region = "ap-southeast-1".into();
        let p = f.params();
        assert!(!p.contains("OSSBucket") && !p.contains("OSSRegion"));
        assert_eq!(
            p.get("DiskDeviceMapping"),
            Some(
                r#"[{"OSSBucket":"tmp-hybrid","OSSObject":"images/edge.qcow2","OSSRegion":"cn-beijing"},{"OSSBucket":"b2","OSSObject":"data.qcow2","OSSRegion":"cn-beijing"}]"#
            )
        );
        assert_eq!(p.get("TargetOSSRegionId"), Some("ap-southeast-1"));
        assert!(f.validate().is_empty());
        assert!(f.cli_command().contains(r#" --DiskDeviceMapping '[{"OSSBucket":"tmp-hybrid","#));
    }

    #[test]
    fn documented_limits_are_enforced() {
        let mut f = single();
        f.name = "img.v1".into(); // ENS names have no '.'
        f.oss_region = "cn-hangzhou".into();
        f.target_region = "cn-shanghai".into();
        f.platform = "Ubuntu".into();
        f.os_type = "windows".into();
        let errors = f.validate();
        assert_eq!(
            rules(&errors),
            [
                ("ImageName", "image_name.chars"),
                ("Platform", "enum.value"),
                ("OSSRegion", "enum.value"),
                ("TargetOSSRegionId", "enum.value"),
                ("OSType", "ens_import.linux_only"),
            ]
        );
        assert_eq!(errors[4].code, "InvalidParameter.OSType");
        assert!(errors.iter().all(|e| !e.en.is_empty() && !e.zh.is_empty()));
    }

    #[test]
    fn a_missing_file_is_reported_where_it_is_typed() {
        let mut f = single();
        f.object.clear();
        assert_eq!(rules(&f.validate()), [("OSSObject", "required.missing")]);
        f.bucket.clear();
        assert_eq!(rules(&f.validate()), [("OSSBucket", "ens_import.source")]);
        f.set_source(EnsSource::Disks);
        f.add_disk();
        f.disks[1].bucket = "b".into();
        f.oss_region = "cn-hangzhou".into();
        let errors = f.validate();
        assert_eq!(
            rules(&errors),
            [
                ("DiskDeviceMapping.1.OSSBucket", "required.missing"),
                ("DiskDeviceMapping.1.OSSObject", "required.missing"),
                ("OSSRegion", "enum.value"),
                ("DiskDeviceMapping.2.OSSObject", "required.missing"),
            ],
            "the shared OSS region is reported once"
        );
        assert_eq!(EnsImportForm::disk_field(1, "OSSObject"), "DiskDeviceMapping.2.OSSObject");
        f.touch.touch("DiskDeviceMapping.2.OSSObject");
        f.remove_disk(0);
        assert!(f.touch.is_touched("DiskDeviceMapping.1.OSSObject"));
        f.remove_disk(0);
        assert_eq!(f.disks.len(), 1, "the last disk stays");
    }
}
