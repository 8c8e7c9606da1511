//! The "Create image" form (ECS CreateImage, seed 004, apis.md §1.3): a custom image from an
//! instance, a system-disk snapshot, or a set of disk mappings. Apsara Stack serves the same API
//! (only the endpoint differs), so this one form serves both.
//!
//! Wire names of its fields: `RegionId`, `InstanceId`, `SnapshotId`,
//! `DiskDeviceMapping.N.{SnapshotId,Size,Device,DiskType}`, `ImageName`, `Description`,
//! `ImageFamily`, `ImageVersion`, `Architecture`, `Platform`, `BootMode`,
//! `Features.ImdsSupport`, `DetectionStrategy`, `ResourceGroupId`, `Tag.N.{Key,Value}`; the
//! table's count errors land on `Tag` and, with no source at all, on `InstanceId`.

use super::{
    MAX_TAGS, TagRow, Touch, blank_rows, cli_line, keep_unparsed, list_field, params_of, push_row,
    remove_row, tags_request, text,
};
use crate::protocol::ops::ecs::{
    Architecture, BootMode, CreateDiskMapping, CreateImage, DetectionStrategy, DiskType, FeatureParams,
    ImdsSupport,
};
use crate::protocol::params::Params;
use crate::protocol::validate::{self, Context, FieldError, Operation};

/// The operation whose rules and value lists ([`super::choices`]) this form uses.
pub const OPERATION: Operation = Operation::EcsCreateImage;
/// `DiskDeviceMapping.N` takes N from 1 to 17 (one system disk and up to 16 data disks).
pub const MAX_DISKS: usize = 17;

/// What the image is built from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CreateSource {
    /// A whole instance (`InstanceId`): all its disks.
    #[default]
    Instance,
    /// One system-disk snapshot (`SnapshotId`).
    Snapshot,
    /// Snapshots (or empty disks) per disk (`DiskDeviceMapping.N.*`).
    Disks,
}

/// One disk mapping row; text as typed (`size_gib` is parsed when sent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateDiskRow {
    pub snapshot_id: String,
    /// GiB; empty = the snapshot's size (or the API default for an empty disk).
    pub size_gib: String,
    /// `/dev/xvda` (system) or `/dev/xvdb`…; empty = automatic.
    pub device: String,
    /// `system`, `data` or empty (the snapshot's own type).
    pub disk_type: String,
}

/// CreateImage form state. Choice fields hold wire values (`x86_64`, `UEFI`, `v2`) or empty for
/// the API default; offer them from `super::choices(OPERATION, "<wire name>")`.
#[derive(Clone, Debug, Default)]
pub struct CreateImageForm {
    pub region: String,
    pub source: CreateSource,
    pub instance_id: String,
    pub snapshot_id: String,
    pub disks: Vec<CreateDiskRow>,
    pub name: String,
    pub description: String,
    pub family: String,
    pub version: String,
    pub architecture: String,
    pub platform: String,
    pub boot_mode: String,
    pub imds: String,
    /// Run the `Standard` image check after creation.
    pub detection: bool,
    pub resource_group: String,
    pub tags: Vec<TagRow>,
    pub touch: Touch,
}

impl CreateImageForm {
    pub fn new(region: impl Into<String>) -> Self {
        Self { region: region.into(), ..Self::default() }
    }

    /// A form building an image from this instance (picked in the instance list).
    pub fn from_instance(region: impl Into<String>, instance_id: impl Into<String>) -> Self {
        Self { instance_id: instance_id.into(), ..Self::new(region) }
    }

    /// Wire name of a field of disk row `index` (0-based): `disk_field(0, "Size")` →
    /// `DiskDeviceMapping.1.Size`.
    pub fn disk_field(index: usize, sub: &str) -> String {
        list_field("DiskDeviceMapping", index, sub)
    }

    /// Add an empty disk row; `false` when the 17 allowed are already there.
    pub fn add_disk(&mut self) -> bool {
        push_row(&mut self.disks, MAX_DISKS)
    }

    pub fn remove_disk(&mut self, index: usize) {
        remove_row(&mut self.disks, &mut self.touch, "DiskDeviceMapping", index);
    }

    /// Add an empty tag row; `false` when the 20 allowed are already there.
    pub fn add_tag(&mut self) -> bool {
        push_row(&mut self.tags, MAX_TAGS)
    }

    pub fn remove_tag(&mut self, index: usize) {
        remove_row(&mut self.tags, &mut self.touch, "Tag", index);
    }

    /// The request: only the chosen source is sent, blank fields are left to the API defaults.
    pub fn request(&self, dry_run: bool) -> CreateImage {
        let (instance_id, snapshot_id, disk_device_mapping) = match self.source {
            CreateSource::Instance => (text(&self.instance_id), None, Vec::new()),
            CreateSource::Snapshot => (None, text(&self.snapshot_id), Vec::new()),
            CreateSource::Disks => (None, None, self.disks.iter().map(disk_request).collect()),
        };
        let imds = text(&self.imds).map(|v| ImdsSupport::parse(&v));
        CreateImage {
            region_id: self.region.trim().to_owned(),
            instance_id,
            snapshot_id,
            disk_device_mapping,
            image_name: text(&self.name),
            description: text(&self.description),
            image_family: text(&self.family),
            image_version: text(&self.version),
            architecture: text(&self.architecture).map(|v| Architecture::parse(&v)),
            platform: text(&self.platform),
            boot_mode: text(&self.boot_mode).map(|v| BootMode::parse(&v)),
            detection_strategy: self.detection.then_some(DetectionStrategy::Standard),
            features: imds.map(|imds| FeatureParams { imds_support: Some(imds), ..FeatureParams::default() }),
            client_token: None, // the client fills it once and reuses it for every retry
            resource_group_id: text(&self.resource_group),
            tag: tags_request(&self.tags),
            dry_run: dry_run.then_some(true),
        }
    }

    pub fn params(&self, dry_run: bool) -> Params {
        params_of(&self.request(dry_run))
    }

    /// The rule table on what would be sent (sizes as typed when they are not numbers), plus
    /// blank disk and tag rows.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut params = self.params(false);
        if self.source == CreateSource::Disks {
            for (index, row) in self.disks.iter().enumerate() {
                keep_unparsed(&mut params, &Self::disk_field(index, "Size"), &row.size_gib);
            }
        }
        let mut errors = validate::validate(OPERATION, &params, &Context::default());
        if self.source == CreateSource::Disks {
            blank_rows(&params, "DiskDeviceMapping", self.disks.len(), "SnapshotId", &mut errors);
        }
        blank_rows(&params, "Tag", self.tags.len(), "Key", &mut errors);
        errors
    }

    /// The error to show under `field`, if it may show.
    pub fn error_for<'a>(&self, errors: &'a [FieldError], field: &str) -> Option<&'a FieldError> {
        self.touch.error_for(errors, field)
    }

    /// The equivalent aliyun CLI command (for Apsara Stack, point the CLI at its endpoint).
    pub fn cli_command(&self, dry_run: bool) -> String {
        cli_line("ecs", "CreateImage", &self.params(dry_run))
    }
}

fn disk_request(row: &CreateDiskRow) -> CreateDiskMapping {
    CreateDiskMapping {
        snapshot_id: text(&row.snapshot_id),
        size: row.size_gib.trim().parse().ok(),
        disk_type: text(&row.disk_type).map(|v| DiskType::parse(&v)),
        device: text(&row.device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors.iter().map(|e| (e.field.as_str(), e.rule)).collect()
    }

    fn disks_form() -> CreateImageForm {
        let mut f = CreateImageForm { source: CreateSource::Disks, ..CreateImageForm::new("cn-qingdao") };
        f.disks = vec![
            CreateDiskRow {
                snapshot_id: "s-sys".into(),
                size_gib: "40".into(),
                device: "/dev/xvda".into(),
                disk_type: "system".into(),
            },
            CreateDiskRow { size_gib: "100".into(), disk_type: "data".into(), ..Default::default() },
        ];
        f
    }

    #[test]
    fn only_the_chosen_source_is_sent() {
        let mut f = CreateImageForm::from_instance("cn-hangzhou", "i-1");
        f.snapshot_id = "s-1".into();
        f.disks.push(CreateDiskRow { snapshot_id: "s-2".into(), ..Default::default() });
        assert_eq!(
            f.params(false).into_vec(),
            vec![
                ("RegionId".to_owned(), "cn-hangzhou".to_owned()),
                ("InstanceId".to_owned(), "i-1".to_owned())
            ]
        );
        f.source = CreateSource::Snapshot;
        let p = f.params(true);
        assert_eq!(p.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["RegionId", "SnapshotId", "DryRun"]);
        assert!(f.validate().is_empty());
    }

    #[test]
    fn disk_mappings_flatten_in_row_order() {
        let f = disks_form();
        assert!(f.validate().is_empty(), "{:?}", f.validate());
        assert_eq!(
            f.params(false).into_vec(),
            [
                ("RegionId", "cn-qingdao"),
                ("DiskDeviceMapping.1.SnapshotId", "s-sys"),
                ("DiskDeviceMapping.1.Size", "40"),
                ("DiskDeviceMapping.1.DiskType", "system"),
                ("DiskDeviceMapping.1.Device", "/dev/xvda"),
                ("DiskDeviceMapping.2.Size", "100"),
                ("DiskDeviceMapping.2.DiskType", "data"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn disk_rules_come_from_the_table() {
        let mut f = disks_form();
        f.disks[1].disk_type = "system".into();
        f.disks[1].device = "/dev/xvda".into();
        f.disks[0].size_gib = "4".into();
        let errors = f.validate();
        assert!(
            rules(&errors).contains(&("DiskDeviceMapping.2.DiskType", "disk.system_count")),
            "{errors:?}"
        );
        assert!(rules(&errors).contains(&("DiskDeviceMapping.2.Device", "disk.duplicate_device")));
        assert!(rules(&errors).contains(&("DiskDeviceMapping.1.Size", "int.range")));
        f.disks[0].size_gib = "forty".into();
        let errors = f.validate();
        assert!(rules(&errors).contains(&("DiskDeviceMapping.1.Size", "int.parse")), "{errors:?}");
        assert_eq!(CreateImageForm::disk_field(0, "Size"), "DiskDeviceMapping.1.Size");
    }

    #[test]
    fn no_source_and_blank_rows_are_refused() {
        let mut f = CreateImageForm::new("cn-hangzhou");
        assert_eq!(rules(&f.validate()), [("InstanceId", "create_image.source")]);
        f.source = CreateSource::Disks;
        f.add_disk();
        f.add_disk();
        f.disks[1].snapshot_id = "s-2".into();
        assert_eq!(rules(&f.validate()), [("DiskDeviceMapping.1.SnapshotId", "form.blank_row")]);
        f.remove_disk(0);
        assert!(f.validate().is_empty());
        assert_eq!(f.params(false).get("DiskDeviceMapping.1.SnapshotId"), Some("s-2"));
    }

    #[test]
    fn tags_follow_the_table_rules() {
        let mut f = CreateImageForm::from_instance("cn-hangzhou", "i-1");
        for _ in 0..MAX_TAGS {
            assert!(f.add_tag());
        }
        assert!(!f.add_tag(), "a 21st tag row is refused");
        f.tags.truncate(3);
        f.tags[0] = TagRow { key: "env".into(), value: "prod".into() };
        f.tags[1] = TagRow { key: "env".into(), value: String::new() };
        f.tags[2] = TagRow { key: String::new(), value: "orphan".into() };
        let errors = f.validate();
        assert_eq!(rules(&errors), [("Tag.2.Key", "tag.duplicate_key"), ("Tag.3.Key", "tag.mismatch")]);
        f.tags.truncate(1);
        f.tags.extend((0..20).map(|i| TagRow { key: format!("k{i}"), value: String::new() }));
        assert!(rules(&f.validate()).contains(&("Tag", "tag.count")));
        f.tags.truncate(1);
        f.tags.push(TagRow { key: "aliyun-x".into(), value: String::new() });
        assert_eq!(rules(&f.validate()), [("Tag.2.Key", "tag_key.reserved_prefix")]);
    }

    #[test]
    fn attributes_use_the_create_image_rules() {
        let mut f = CreateImageForm::from_instance("cn-hangzhou", "i-1");
        f.family = "daily.v1".into(); // '.' is refused in CreateImage families
        f.architecture = "arm64".into();
        f.boot_mode = "BIOS".into();
        f.imds = "v2".into();
        f.detection = true;
        let errors = f.validate();
        assert_eq!(
            rules(&errors),
            [("ImageFamily", "image_family.chars"), ("BootMode", "boot_mode.arm64_uefi")]
        );
        assert!(f.error_for(&errors, "BootMode").is_none());
        f.touch.touch("BootMode");
        assert!(f.error_for(&errors, "BootMode").is_some_and(|e| e.zh.contains("UEFI")));
        let p = f.params(false);
        assert_eq!(p.get("Features.ImdsSupport"), Some("v2"));
        assert_eq!(p.get("DetectionStrategy"), Some("Standard"));
    }

    #[test]
    fn the_cli_command_is_exact_and_quoted() {
        let mut f = CreateImageForm::from_instance("cn-hangzhou", "i-bp1");
        f.name = "web base".into();
        f.description = "it's mine".into();
        f.tags.push(TagRow { key: "team".into(), value: "图像".into() });
        assert_eq!(
            f.cli_command(true),
            "aliyun ecs CreateImage --RegionId cn-hangzhou --InstanceId i-bp1 --ImageName 'web base' \
             --Description 'it'\\''s mine' --Tag.1.Key team --Tag.1.Value '图像' --DryRun true"
        );
    }
}
