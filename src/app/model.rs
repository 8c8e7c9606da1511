//! One row shape for every product's images, so a single table, search, filter and sort serve
//! ECS, ENS and E-HPC Instant alike. The product's own record is kept for the detail pane.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use eframe::egui::Color32;
use serde::{Deserialize, Serialize};

use crate::protocol::ops::ecs::{self, ImageOwnerAlias, ImageStatus};
use crate::protocol::ops::ehpc;
use crate::protocol::ops::ens::{self, EnsImageStatus};

/// The products whose images ImageDesk lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Product {
    Ecs,
    Ens,
    EhpcInstant,
}

impl Product {
    pub const ALL: [Product; 3] = [Product::Ecs, Product::Ens, Product::EhpcInstant];

    /// Product names are the same in both UI languages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ecs => "ECS",
            Self::Ens => "ENS",
            Self::EhpcInstant => "E-HPC Instant",
        }
    }

    /// ENS is global: one listing covers every edge region.
    pub fn is_global(self) -> bool {
        self == Self::Ens
    }
}

/// Whose image it is (the owner filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Owner {
    /// The account's own custom images.
    Own,
    /// Shared with the account, or community images.
    Shared,
    /// Alibaba Cloud public images.
    System,
    Marketplace,
}

impl Owner {
    pub const ALL: [Owner; 4] = [Owner::Own, Owner::Shared, Owner::System, Owner::Marketplace];

    fn from_alias(alias: &str) -> Self {
        match ImageOwnerAlias::parse(alias) {
            ImageOwnerAlias::SelfOwned => Self::Own,
            ImageOwnerAlias::Others => Self::Shared,
            ImageOwnerAlias::Marketplace => Self::Marketplace,
            ImageOwnerAlias::System => Self::System,
            ImageOwnerAlias::Other(_) => Self::Own,
        }
    }
}

/// Every product's statuses mapped onto one scale (the raw text stays in [`ImageRow::status_text`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    Creating,
    Waiting,
    Available,
    Deprecated,
    Unavailable,
    Failed,
    Unknown,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Creating,
        Status::Waiting,
        Status::Available,
        Status::Deprecated,
        Status::Unavailable,
        Status::Failed,
        Status::Unknown,
    ];

    /// Still changing: worth polling.
    pub fn in_flight(self) -> bool {
        matches!(self, Self::Creating | Self::Waiting)
    }

    fn from_ecs(status: &ImageStatus) -> Self {
        match status {
            ImageStatus::Creating => Self::Creating,
            ImageStatus::Waiting => Self::Waiting,
            ImageStatus::Available => Self::Available,
            ImageStatus::UnAvailable => Self::Unavailable,
            ImageStatus::CreateFailed => Self::Failed,
            ImageStatus::Deprecated => Self::Deprecated,
            ImageStatus::Other(_) => Self::Unknown,
        }
    }

    fn from_ens(status: &EnsImageStatus) -> Self {
        match status {
            EnsImageStatus::Creating
            | EnsImageStatus::Packing
            | EnsImageStatus::Uploading
            | EnsImageStatus::Copying => Self::Creating,
            EnsImageStatus::PackFailed | EnsImageStatus::UploadFailed => Self::Failed,
            EnsImageStatus::Available => Self::Available,
            EnsImageStatus::Unavailable => Self::Unavailable,
            EnsImageStatus::Other(_) => Self::Unknown,
        }
    }

    /// The one palette for status colour and icon; the word is always shown too, so colour is
    /// never the only cue.
    pub fn style(self) -> (Color32, &'static str) {
        match self {
            Self::Available => (Color32::from_rgb(0, 150, 70), "●"),
            Self::Creating => (Color32::from_rgb(30, 110, 220), "◐"),
            Self::Waiting => (Color32::from_rgb(120, 110, 220), "◎"),
            Self::Deprecated => (Color32::from_rgb(170, 120, 20), "▽"),
            Self::Unavailable => (Color32::from_rgb(150, 150, 150), "○"),
            Self::Failed => (Color32::from_rgb(210, 50, 50), "■"),
            Self::Unknown => (Color32::GRAY, "◇"),
        }
    }
}

/// What identifies a row across refreshes and polls.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RowKey {
    pub product: Product,
    pub region: String,
    pub id: String,
}

/// One listing unit: a product in a region (ENS: the global listing, region `""`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source {
    pub product: Product,
    pub region: String,
}

/// The product's own record, for the detail pane.
#[derive(Clone, Debug)]
pub enum Detail {
    Ecs(Box<ecs::Image>),
    Ens(Box<ens::EnsImage>),
    Ehpc(Box<ehpc::ImageSummary>),
}

/// One image, whatever its product.
#[derive(Clone, Debug)]
pub struct ImageRow {
    pub product: Product,
    /// The region the image lives in (ENS: its edge region).
    pub region: String,
    /// The listing it came from (differs from `region` for ENS only).
    pub source_region: String,
    pub id: String,
    pub name: String,
    pub status: Status,
    pub status_text: String,
    pub progress: Option<u8>,
    pub size_gib: Option<u64>,
    pub os: String,
    pub architecture: String,
    pub family: String,
    pub boot_mode: String,
    /// Seconds since the epoch (for sorting); `None` when the API gave no parsable time.
    pub created_at: Option<i64>,
    /// `YYYY-MM-DD HH:MM` UTC, or the raw text.
    pub created: String,
    pub owner: Owner,
    pub tags: Vec<(String, String)>,
    /// Lower-cased name, for case-insensitive sorting without allocating per comparison.
    pub name_key: String,
    /// Lower-cased name, ID, OS and family: what the search box matches.
    pub search_key: String,
    pub detail: Arc<Detail>,
}

impl ImageRow {
    pub fn key(&self) -> RowKey {
        RowKey { product: self.product, region: self.source_region.clone(), id: self.id.clone() }
    }

    pub fn is_key(&self, key: &RowKey) -> bool {
        self.product == key.product && self.source_region == key.region && self.id == key.id
    }

    pub fn source(&self) -> Source {
        Source { product: self.product, region: self.source_region.clone() }
    }

    pub fn has_tag(&self, wanted: &str) -> bool {
        match wanted.split_once('=') {
            Some((key, value)) => self.tags.iter().any(|(k, v)| k == key && v == value),
            None => self.tags.iter().any(|(k, _)| k == wanted),
        }
    }

    fn finish(mut self) -> Self {
        self.name_key = self.name.to_lowercase();
        self.search_key =
            format!("{}\u{1f}{}\u{1f}{}\u{1f}{}", self.name, self.id, self.os, self.family).to_lowercase();
        let (at, text) = parse_time(&self.created);
        self.created_at = at;
        self.created = text;
        self
    }

    pub fn from_ecs(region: &str, image: ecs::Image) -> Self {
        let status = Status::from_ecs(&image.status());
        let os = if image.os_name_en.is_empty() { image.platform.clone() } else { image.os_name_en.clone() };
        Self {
            product: Product::Ecs,
            region: region.to_owned(),
            source_region: region.to_owned(),
            id: image.image_id.clone(),
            name: image.image_name.clone(),
            status,
            status_text: image.status.clone(),
            progress: image.progress_percent(),
            size_gib: Some(image.size),
            os,
            architecture: image.architecture.clone(),
            family: image.image_family.clone(),
            boot_mode: image.boot_mode.clone(),
            created_at: None,
            created: image.creation_time.clone(),
            owner: Owner::from_alias(&image.image_owner_alias),
            tags: image.tags.iter().map(|tag| (tag.tag_key.clone(), tag.tag_value.clone())).collect(),
            name_key: String::new(),
            search_key: String::new(),
            detail: Arc::new(Detail::Ecs(Box::new(image))),
        }
        .finish()
    }

    /// `own` images come from DescribeSelfImages, which carries the status; the public ones
    /// (DescribeImages) are usable by definition.
    pub fn from_ens(image: ens::EnsImage, own: bool) -> Self {
        let (status, status_text) = if own && !image.status.is_empty() {
            (Status::from_ens(&image.status()), image.status.clone())
        } else {
            (Status::Available, "Available".to_owned())
        };
        let os = if image.os_version.is_empty() {
            image.platform.clone()
        } else {
            format!("{} {}", image.platform, image.os_version)
        };
        Self {
            product: Product::Ens,
            region: image.region_id.clone(),
            source_region: String::new(),
            id: image.image_id.clone(),
            name: image.image_name.clone(),
            status,
            status_text,
            progress: None,
            size_gib: Some(image.image_size),
            os,
            architecture: image.architecture.clone(),
            family: String::new(),
            boot_mode: String::new(),
            created_at: None,
            created: image.creation_time.clone(),
            owner: if own { Owner::Own } else { Owner::from_alias(&image.image_owner_alias) },
            tags: Vec::new(),
            name_key: String::new(),
            search_key: String::new(),
            detail: Arc::new(Detail::Ens(Box::new(image))),
        }
        .finish()
    }

    /// E-HPC Instant registers images (a VM image by ECS image ID, or a container image); a
    /// registered image is usable at once.
    pub fn from_ehpc(region: &str, image: ehpc::ImageSummary) -> Self {
        Self {
            product: Product::EhpcInstant,
            region: region.to_owned(),
            source_region: region.to_owned(),
            id: image.image_id.clone(),
            name: image.name.clone(),
            status: Status::Available,
            status_text: "Available".to_owned(),
            progress: None,
            size_gib: None,
            os: image.os_tag.clone(),
            architecture: String::new(),
            family: String::new(),
            boot_mode: String::new(),
            created_at: None,
            created: image.create_time.clone(),
            owner: if image.app_id.is_empty() { Owner::System } else { Owner::Own },
            tags: Vec::new(),
            name_key: String::new(),
            search_key: String::new(),
            detail: Arc::new(Detail::Ehpc(Box::new(image))),
        }
        .finish()
    }

    /// Every field of the product's record as (API name, value), for the detail pane.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        fn yes_no(value: bool) -> String {
            if value { "true".into() } else { "false".into() }
        }
        let mut fields = Vec::new();
        let mut push = |name: &'static str, value: String| {
            if !value.is_empty() {
                fields.push((name, value));
            }
        };
        match self.detail.as_ref() {
            Detail::Ecs(i) => {
                push("ImageId", i.image_id.clone());
                push("ImageName", i.image_name.clone());
                push("Description", i.description.clone());
                push("Status", i.status.clone());
                push("Progress", i.progress.clone());
                push("ImageFamily", i.image_family.clone());
                push("ImageVersion", i.image_version.clone());
                push("Size", format!("{} GiB", i.size));
                push("OSType", i.os_type.clone());
                push("OSName", i.os_name.clone());
                push("OSNameEn", i.os_name_en.clone());
                push("Platform", i.platform.clone());
                push("Architecture", i.architecture.clone());
                push("BootMode", i.boot_mode.clone());
                push("ImageOwnerAlias", i.image_owner_alias.clone());
                if i.image_owner_id != 0 {
                    push("ImageOwnerId", i.image_owner_id.to_string());
                }
                push("Usage", i.usage.clone());
                push("LicenseType", i.license_type.clone());
                push("ResourceGroupId", i.resource_group_id.clone());
                push("ProductCode", i.product_code.clone());
                push("SupplierName", i.supplier_name.clone());
                push("CreationTime", i.creation_time.clone());
                push("IsCopied", yes_no(i.is_copied));
                push("IsPublic", yes_no(i.is_public));
                push("IsSelfShared", yes_no(i.is_self_shared));
                push("IsSupportCloudinit", yes_no(i.is_support_cloudinit));
                push("IsSupportIoOptimized", yes_no(i.is_support_io_optimized));
                push("LoginAsNonRootSupported", yes_no(i.login_as_non_root_supported));
                push("Features.NvmeSupport", i.features.nvme_support.clone());
                push("Features.ImdsSupport", i.features.imds_support.clone());
                push("DetectionOptions.Status", i.detection_options.status.clone());
            }
            Detail::Ens(i) => {
                push("ImageId", i.image_id.clone());
                push("ImageName", i.image_name.clone());
                push("Status", i.status.clone());
                push("RegionId", i.region_id.clone());
                push("ImageSize", format!("{} GiB", i.image_size));
                push("ImageStorageSize", i.image_storage_size.to_string());
                push("Architecture", i.architecture.clone());
                push("Platform", i.platform.clone());
                push("OsVersion", i.os_version.clone());
                push("ComputeType", i.compute_type.clone());
                push("ImageOwnerAlias", i.image_owner_alias.clone());
                push("SnapshotId", i.snapshot_id.clone());
                push("InstanceId", i.instance_id.clone());
                push("CreationTime", i.creation_time.clone());
            }
            Detail::Ehpc(i) => {
                push("ImageId", i.image_id.clone());
                push("Name", i.name.clone());
                push("ImageType", i.image_type.clone());
                push("Version", i.version.clone());
                push("Description", i.description.clone());
                push("OsTag", i.os_tag.clone());
                push("AppId", i.app_id.clone());
                push("DocumentId", i.document_id.clone());
                push("CreateTime", i.create_time.clone());
                push("UpdateTime", i.update_time.clone());
            }
        }
        fields
    }

    /// The image's disks as (device or type, size, snapshot or format) lines.
    pub fn disks(&self) -> Vec<[String; 4]> {
        match self.detail.as_ref() {
            Detail::Ecs(i) => i
                .disk_device_mappings
                .iter()
                .map(|d| {
                    [d.device.clone(), d.disk_type.clone(), format!("{} GiB", d.size), d.snapshot_id.clone()]
                })
                .collect(),
            Detail::Ens(i) => i
                .disk_device_mappings
                .iter()
                .map(|d| {
                    [d.disk_type.clone(), d.format.clone(), format!("{} GiB", d.size), d.image_id.clone()]
                })
                .collect(),
            Detail::Ehpc(_) => Vec::new(),
        }
    }
}

/// Parse the time formats the products use (`2024-06-28T08:00:00Z`, `…T08:00Z`,
/// `2024-06-28 08:00:00`) into epoch seconds and a uniform `YYYY-MM-DD HH:MM` text.
pub fn parse_time(text: &str) -> (Option<i64>, String) {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return (None, String::new());
    }
    let parsed = DateTime::parse_from_rfc3339(trimmed).map(|t| t.with_timezone(&Utc)).ok().or_else(|| {
        ["%Y-%m-%dT%H:%MZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(trimmed, format).ok())
            .map(|naive| Utc.from_utc_datetime(&naive))
    });
    match parsed {
        Some(time) => (Some(time.timestamp()), time.format("%Y-%m-%d %H:%M").to_string()),
        None => (None, trimmed.to_owned()),
    }
}

/// An ECS row for tests: one image with a status and progress text.
#[cfg(test)]
pub(crate) fn test_ecs_row(id: &str, name: &str, status: &str, progress: &str) -> ImageRow {
    let image = ecs::Image {
        image_id: id.into(),
        image_name: name.into(),
        status: status.into(),
        progress: progress.into(),
        ..Default::default()
    };
    ImageRow::from_ecs("cn-hangzhou", image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_every_product_parse_to_one_format() {
        assert_eq!(parse_time("2024-06-28T08:00:00Z"), (Some(1_719_561_600), "2024-06-28 08:00".into()));
        assert_eq!(parse_time("2024-06-28T08:00Z").0, Some(1_719_561_600));
        assert_eq!(parse_time("2024-06-28 08:00:00").0, Some(1_719_561_600));
        assert_eq!(parse_time("yesterday"), (None, "yesterday".into()));
        assert_eq!(parse_time(" "), (None, String::new()));
    }

    #[test]
    fn ecs_rows_map_status_owner_progress_and_tags() {
        let image = ecs::Image {
            image_id: "m-1".into(),
            image_name: "Web-Base".into(),
            status: "Creating".into(),
            progress: "45%".into(),
            image_owner_alias: "others".into(),
            tags: vec![ecs::ResourceTag { tag_key: "env".into(), tag_value: "prod".into() }],
            ..Default::default()
        };
        let row = ImageRow::from_ecs("cn-hangzhou", image);
        assert_eq!((row.status, row.progress, row.owner), (Status::Creating, Some(45), Owner::Shared));
        assert!(row.status.in_flight());
        assert!(row.has_tag("env") && row.has_tag("env=prod") && !row.has_tag("env=dev"));
        assert_eq!(row.name_key, "web-base");
        assert!(row.search_key.contains("m-1"));
    }

    #[test]
    fn ens_status_comes_only_from_own_images() {
        let image =
            ens::EnsImage { image_id: "m-e".into(), status: "Pack_failed".into(), ..Default::default() };
        assert_eq!(ImageRow::from_ens(image.clone(), true).status, Status::Failed);
        let public = ImageRow::from_ens(image, false);
        assert_eq!(public.status, Status::Available);
        assert_eq!(public.source_region, "", "ENS is one global listing");
    }
}
