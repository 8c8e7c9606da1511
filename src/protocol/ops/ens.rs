//! ENS edge images (`Ens`, 2017-11-10, apis.md §2). One global endpoint: no `RegionId`.

use serde::{Deserialize, Serialize};

use super::RpcOperation;
use super::ecs::{Architecture, OsType};
use crate::protocol::Product;
use crate::protocol::de::{self, wire_enum};
use crate::protocol::params::JsonString;

wire_enum! {
    /// Image file format of ENS ImportImage (only `qcow2` is accepted).
    pub enum EnsImageFormat {
        Qcow2 => "qcow2",
    }
    default Qcow2;
}

wire_enum! {
    /// ENS compute type of an image (ImportImage accepts only `ens_vm`).
    pub enum EnsComputeType {
        EnsVm => "ens_vm",
        Ens => "ens",
        BareMetal => "bare_metal",
        ArmVm => "arm_vm",
        ArmBareMetal => "arm_bare_metal",
        Pcfarm => "pcfarm",
    }
    default EnsVm;
}

wire_enum! {
    /// State of an own ENS image (DescribeSelfImages); only `Available` is usable.
    pub enum EnsImageStatus {
        Creating => "Creating",
        Packing => "Packing",
        Uploading => "Uploading",
        PackFailed => "Pack_failed",
        UploadFailed => "Upload_failed",
        Available => "Available",
        Unavailable => "Unavailable",
        Copying => "Copying",
    }
}

/// One disk file of a multi-disk ENS import, inside the `DiskDeviceMapping` JSON string.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnsDiskMapping {
    #[serde(rename = "OSSBucket")]
    pub oss_bucket: String,
    #[serde(rename = "OSSObject")]
    pub oss_object: String,
    #[serde(rename = "OSSRegion", default, skip_serializing_if = "Option::is_none")]
    pub oss_region: Option<String>,
}

/// ImportImage: import a qcow2 file from OSS as an ENS image.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportImage {
    pub image_name: String,
    /// Only `x86_64` is accepted.
    pub architecture: Architecture,
    #[serde(rename = "OSType")]
    pub os_type: OsType,
    pub image_format: EnsImageFormat,
    pub compute_type: EnsComputeType,
    /// `centos`, `ubuntu`, … (free text on the API).
    pub platform: Option<String>,
    #[serde(rename = "OSVersion")]
    pub os_version: Option<String>,
    /// Single-file form; `OSSRegion` only `cn-beijing`.
    #[serde(rename = "OSSBucket")]
    pub oss_bucket: Option<String>,
    #[serde(rename = "OSSObject")]
    pub oss_object: Option<String>,
    #[serde(rename = "OSSRegion")]
    pub oss_region: Option<String>,
    /// Multi-disk form, sent as one JSON-string parameter.
    pub disk_device_mapping: Option<JsonString<Vec<EnsDiskMapping>>>,
    /// `cn-beijing` or `ap-southeast-1`.
    #[serde(rename = "TargetOSSRegionId")]
    pub target_oss_region_id: Option<String>,
    /// Undocumented values.
    pub license_type: Option<String>,
}

/// DescribeImages: public and own ENS images.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImages {
    pub ens_region_id: Option<String>,
    pub image_id: Option<String>,
    pub image_name: Option<String>,
    pub snapshot_id: Option<String>,
    /// Documented as "unavailable parameter"; kept for completeness.
    pub status: Option<String>,
    /// Typed String by the API; decimal text either way.
    pub page_number: Option<u32>,
    /// At most 50.
    pub page_size: Option<u32>,
}

/// DescribeSelfImages: own ENS images, with their status.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSelfImages {
    pub image_id: Option<String>,
    /// Fuzzy match.
    pub image_name: Option<String>,
    pub snapshot_id: Option<String>,
    pub page_number: Option<u32>,
    /// At most 50.
    pub page_size: Option<u32>,
}

/// DeleteImage: delete one own ENS image.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImage {
    pub image_id: String,
}

/// DescribeImageInfos: the catalogue of public ENS images.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImageInfos {
    pub os_type: Option<OsType>,
}

/// ImportImage result.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ImportImageResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    /// `0` on success; a number or a string on the wire.
    #[serde(deserialize_with = "de::string")]
    pub code: String,
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
}

/// Response carrying `RequestId` and `Code` only (DeleteImage).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct EnsEmptyResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub code: String,
}

/// DescribeImages / DescribeSelfImages result page.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DescribeImagesResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub code: String,
    #[serde(deserialize_with = "de::integer")]
    pub total_count: u64,
    /// Strings on the wire.
    #[serde(deserialize_with = "de::integer")]
    pub page_number: u32,
    #[serde(deserialize_with = "de::integer")]
    pub page_size: u32,
    #[serde(deserialize_with = "de::list")]
    pub images: Vec<EnsImage>,
}

/// An ENS image (DescribeImages fields plus those only DescribeSelfImages returns).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct EnsImage {
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
    #[serde(deserialize_with = "de::string")]
    pub image_name: String,
    /// `system` / `self` / `others`.
    #[serde(deserialize_with = "de::string")]
    pub image_owner_alias: String,
    /// GiB, a string on the wire.
    #[serde(deserialize_with = "de::integer")]
    pub image_size: u64,
    #[serde(deserialize_with = "de::string")]
    pub architecture: String,
    #[serde(deserialize_with = "de::string")]
    pub platform: String,
    #[serde(deserialize_with = "de::string")]
    pub creation_time: String,
    #[serde(deserialize_with = "de::string")]
    pub region_id: String,
    #[serde(deserialize_with = "de::string")]
    pub snapshot_id: String,
    #[serde(deserialize_with = "de::list")]
    pub disk_device_mappings: Vec<EnsImageDisk>,
    /// DescribeSelfImages only.
    #[serde(deserialize_with = "de::string")]
    pub compute_type: String,
    #[serde(deserialize_with = "de::integer")]
    pub image_storage_size: u64,
    #[serde(deserialize_with = "de::string")]
    pub instance_id: String,
    #[serde(deserialize_with = "de::string")]
    pub os_version: String,
    /// DescribeSelfImages only; see [`EnsImage::status`].
    #[serde(deserialize_with = "de::string")]
    pub status: String,
}

impl EnsImage {
    pub fn status(&self) -> EnsImageStatus {
        EnsImageStatus::parse(&self.status)
    }

    pub fn compute_type(&self) -> EnsComputeType {
        EnsComputeType::parse(&self.compute_type)
    }
}

/// One disk of an ENS image (its image ID is spelt `imageId`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct EnsImageDisk {
    #[serde(deserialize_with = "de::string")]
    pub format: String,
    #[serde(deserialize_with = "de::integer")]
    pub size: u64,
    /// `system`/`data` (catalogue: `System`/`Data`).
    #[serde(rename = "Type", deserialize_with = "de::string")]
    pub disk_type: String,
    #[serde(rename = "imageId", alias = "ImageId", deserialize_with = "de::string")]
    pub image_id: String,
}

/// DescribeImageInfos result.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DescribeImageInfosResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub code: String,
    #[serde(deserialize_with = "de::list")]
    pub images: Vec<EnsImageInfo>,
}

/// A public ENS image in the catalogue.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct EnsImageInfo {
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
    #[serde(deserialize_with = "de::string")]
    pub image_version: String,
    #[serde(deserialize_with = "de::integer")]
    pub image_size: u64,
    #[serde(rename = "OSType", deserialize_with = "de::string")]
    pub os_type: String,
    #[serde(rename = "OSName", deserialize_with = "de::string")]
    pub os_name: String,
    #[serde(deserialize_with = "de::string")]
    pub compute_type: String,
    #[serde(deserialize_with = "de::string")]
    pub description: String,
    #[serde(deserialize_with = "de::string")]
    pub region_id: String,
    #[serde(deserialize_with = "de::list")]
    pub disk_device_mappings: Vec<EnsImageDisk>,
}

macro_rules! ens_operation {
    ($request:ty, $action:literal, $response:ty) => {
        impl RpcOperation for $request {
            const PRODUCT: Product = Product::Ens;
            const ACTION: &'static str = $action;
            type Response = $response;
        }
    };
}

ens_operation!(ImportImage, "ImportImage", ImportImageResponse);
ens_operation!(DescribeImages, "DescribeImages", DescribeImagesResponse);
ens_operation!(DescribeSelfImages, "DescribeSelfImages", DescribeImagesResponse);
ens_operation!(DeleteImage, "DeleteImage", EnsEmptyResponse);
ens_operation!(DescribeImageInfos, "DescribeImageInfos", DescribeImageInfosResponse);

paged_operation!(DescribeImages => EnsImage, images, 50);

paged_operation!(DescribeSelfImages => EnsImage, images, 50);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ops::PagedOperation;
    use crate::protocol::ops::test_support::{expected, sorted};

    #[test]
    fn import_image_sends_disk_mapping_as_json_string() {
        let request = ImportImage {
            image_name: "镜像名称".into(),
            architecture: Architecture::X86_64,
            os_type: OsType::Linux,
            image_format: EnsImageFormat::Qcow2,
            compute_type: EnsComputeType::EnsVm,
            platform: Some("centos".into()),
            os_version: Some("6.8".into()),
            disk_device_mapping: Some(JsonString(vec![
                EnsDiskMapping {
                    oss_bucket: "www-cn".into(),
                    oss_object: "image-bucket".into(),
                    oss_region: Some("cn-beijing".into()),
                },
                EnsDiskMapping {
                    oss_bucket: "www-cn".into(),
                    oss_object: "data.qcow2".into(),
                    oss_region: None,
                },
            ])),
            target_oss_region_id: Some("cn-beijing".into()),
            ..Default::default()
        };
        assert_eq!(
            sorted(&request),
            expected(&[
                ("ImageName", "镜像名称"),
                ("Architecture", "x86_64"),
                ("OSType", "linux"),
                ("ImageFormat", "qcow2"),
                ("ComputeType", "ens_vm"),
                ("Platform", "centos"),
                ("OSVersion", "6.8"),
                (
                    "DiskDeviceMapping",
                    r#"[{"OSSBucket":"www-cn","OSSObject":"image-bucket","OSSRegion":"cn-beijing"},{"OSSBucket":"www-cn","OSSObject":"data.qcow2"}]"#,
                ),
                ("TargetOSSRegionId", "cn-beijing"),
            ])
        );
        assert_eq!(request.region_id(), None);
        assert_eq!((ImportImage::PRODUCT, ImportImage::ACTION), (Product::Ens, "ImportImage"));
    }

    #[test]
    fn single_file_import_uses_oss_params_and_defaults() {
        // Seed 001 example values; the required enums default to the only accepted values.
        let request = ImportImage {
            image_name: "img".into(),
            oss_bucket: Some("tmp-hybrid".into()),
            oss_object: Some("image-test".into()),
            oss_region: Some("cn-beijing".into()),
            ..Default::default()
        };
        assert_eq!(
            sorted(&request),
            expected(&[
                ("ImageName", "img"),
                ("Architecture", "x86_64"),
                ("OSType", "linux"),
                ("ImageFormat", "qcow2"),
                ("ComputeType", "ens_vm"),
                ("OSSBucket", "tmp-hybrid"),
                ("OSSObject", "image-test"),
                ("OSSRegion", "cn-beijing"),
            ])
        );
    }

    #[test]
    fn paging_and_other_requests() {
        let mut request =
            DescribeImages { ens_region_id: Some("cn-dalian-unicom".into()), ..Default::default() };
        request.set_page(2, DescribeImages::MAX_PAGE_SIZE);
        assert_eq!(
            sorted(&request),
            expected(&[("EnsRegionId", "cn-dalian-unicom"), ("PageNumber", "2"), ("PageSize", "50")])
        );
        let mut own = DescribeSelfImages { image_name: Some("web".into()), ..Default::default() };
        own.set_page(1, DescribeSelfImages::MAX_PAGE_SIZE);
        assert_eq!(sorted(&own), expected(&[("ImageName", "web"), ("PageNumber", "1"), ("PageSize", "50")]));
        let delete = DeleteImage { image_id: "m-1".into() };
        assert_eq!(sorted(&delete), expected(&[("ImageId", "m-1")]));
        let infos = DescribeImageInfos { os_type: Some(OsType::Windows) };
        assert_eq!(sorted(&infos), expected(&[("OsType", "windows")]));
    }

    #[test]
    fn seed_import_response_decodes() {
        let response: ImportImageResponse = serde_json::from_str(
            r#"{"RequestId":"CEF72CEB-54B6-4AE8-B225-F876FF7BA984","ImageId":"m-5wn1dh*******b48f440ntvad"}"#,
        )
        .unwrap();
        assert_eq!(response.image_id, "m-5wn1dh*******b48f440ntvad");
        assert_eq!(response.code, "");
    }

    #[test]
    fn describe_images_decodes_string_numbers_and_lower_camel_image_id() {
        let response: DescribeImagesResponse = serde_json::from_str(
            r#"{"RequestId":"r","Code":0,"TotalCount":1,"PageNumber":"1","PageSize":"10",
               "Images":{"Image":[{"ImageId":"m-1","ImageName":"centos","ImageOwnerAlias":"self",
                 "ImageSize":"20","Architecture":"x86_64","Platform":"Linux","CreationTime":"2020-01-01T00:00:00Z",
                 "RegionId":"cn-beijing","DiskDeviceMappings":{"DiskDeviceMapping":[
                   {"Format":"qcow2","Size":"20","Type":"system","imageId":"m-1-sys"}]}}]}}"#,
        )
        .unwrap();
        assert_eq!((response.code.as_str(), response.page_number, response.page_size), ("0", 1, 10));
        let page = DescribeImages::into_page(response);
        let image = &page.items[0];
        assert_eq!(image.image_size, 20);
        let disk = &image.disk_device_mappings[0];
        assert_eq!((disk.image_id.as_str(), disk.size, disk.disk_type.as_str()), ("m-1-sys", 20, "system"));
        assert_eq!(image.status(), EnsImageStatus::Other(String::new()));
        let code_text: EnsEmptyResponse = serde_json::from_str(r#"{"RequestId":"r","Code":"0"}"#).unwrap();
        assert_eq!(code_text.code, "0");
    }

    #[test]
    fn describe_self_images_decodes_status() {
        let response: DescribeImagesResponse = serde_json::from_str(
            r#"{"RequestId":"r","Code":0,"TotalCount":"2","Images":{"Image":[
                 {"ImageId":"m-1","Status":"Pack_failed","ComputeType":"ens_vm","ImageStorageSize":"12",
                  "OsVersion":"7.9","InstanceId":"i-1"},
                 {"ImageId":"m-2","Status":"Available","ComputeType":"arm_vm"}]}}"#,
        )
        .unwrap();
        let page = DescribeSelfImages::into_page(response);
        assert_eq!(page.total_count, 2);
        assert_eq!(page.items[0].status(), EnsImageStatus::PackFailed);
        assert_eq!(page.items[0].compute_type(), EnsComputeType::EnsVm);
        assert_eq!(page.items[0].image_storage_size, 12);
        assert_eq!(page.items[1].status(), EnsImageStatus::Available);
        assert_eq!(page.items[1].compute_type(), EnsComputeType::ArmVm);
    }

    #[test]
    fn image_infos_decode_capitalised_disk_fields() {
        let response: DescribeImageInfosResponse = serde_json::from_str(
            r#"{"RequestId":"r","Code":0,"Images":{"Image":{"ImageId":"centos_7","ImageVersion":"7.6",
               "ImageSize":20,"OSType":"linux","OSName":"centos","ComputeType":"ens_vm",
               "DiskDeviceMappings":{"DiskDeviceMapping":[{"Format":"qcow2","Size":20,"Type":"System","ImageId":"d-1"}]}}}}"#,
        )
        .unwrap();
        assert_eq!(response.images.len(), 1);
        assert_eq!(response.images[0].os_type, "linux");
        assert_eq!(response.images[0].disk_device_mappings[0].image_id, "d-1");
    }
}
