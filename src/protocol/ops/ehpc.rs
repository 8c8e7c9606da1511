//! E-HPC Instant image registry (`EhpcInstant`, 2023-07-01, apis.md §3.1). Nested objects travel
//! as JSON-string parameters; the region only selects the endpoint and is never sent.

use serde::{Deserialize, Serialize, Serializer};

use super::RpcOperation;
use crate::protocol::Product;
use crate::protocol::de::{self, wire_enum};
use crate::protocol::params::JsonString;
use crate::secret::Secret;

wire_enum! {
    /// Kind of E-HPC Instant image.
    pub enum ImageType {
        Vm => "VM",
        Container => "Container",
    }
}

wire_enum! {
    /// Public (provided) or custom (own) images.
    pub enum ImageCategory {
        Public => "Public",
        Custom => "Custom",
    }
}

wire_enum! {
    /// ListImages `Mode`: every version, or only the latest per image.
    pub enum ListMode {
        List => "List",
        Merge => "Merge",
    }
}

/// `VMImageSpec` of AddImage: an ECS image to register.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct VmImageSpec {
    #[serde(rename = "ImageId")]
    pub image_id: String,
}

/// `ContainerImageSpec` of AddImage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContainerImageSpec {
    /// e.g. `registry-vpc.cn-hangzhou.aliyuncs.com/ehpc_open/nginx:latest`.
    #[serde(rename = "RegistryUrl", skip_serializing_if = "Option::is_none")]
    pub registry_url: Option<String>,
    #[serde(rename = "IsACRRegistry", skip_serializing_if = "Option::is_none")]
    pub is_acr_registry: Option<bool>,
    #[serde(rename = "IsACREnterprise", skip_serializing_if = "Option::is_none")]
    pub is_acr_enterprise: Option<bool>,
    /// ACR Enterprise instance, `cri-…`.
    #[serde(rename = "RegistryCriId", skip_serializing_if = "Option::is_none")]
    pub registry_cri_id: Option<String>,
    #[serde(rename = "RegistryCredential", skip_serializing_if = "Option::is_none")]
    pub registry_credential: Option<RegistryCredential>,
}

/// Login for a private registry; the password prints as `***` in `Debug`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RegistryCredential {
    #[serde(rename = "Server", skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(rename = "UserName", skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(
        rename = "Password",
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_password",
        deserialize_with = "de::secret"
    )]
    pub password: Option<Secret>,
}

/// The one place the registry password leaves its [`Secret`]: the request's JSON text.
fn expose_password<S: Serializer>(password: &Option<Secret>, serializer: S) -> Result<S::Ok, S::Error> {
    match password {
        Some(secret) => serializer.serialize_str(secret.expose()),
        None => serializer.serialize_none(),
    }
}

/// AddImage: register a VM (ECS image) or container image with E-HPC Instant.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddImage {
    /// Endpoint region (`ehpcinstant.<region>.aliyuncs.com`), not a wire parameter.
    #[serde(skip)]
    pub region_id: String,
    pub name: String,
    pub image_type: Option<ImageType>,
    pub image_version: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "VMImageSpec")]
    pub vm_image_spec: Option<JsonString<VmImageSpec>>,
    pub container_image_spec: Option<JsonString<ContainerImageSpec>>,
}

/// GetImage: details of one registered image.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetImage {
    #[serde(skip)]
    pub region_id: String,
    pub image_id: String,
    pub image_type: Option<ImageType>,
    pub image_category: Option<ImageCategory>,
    /// Other regions to report the image's copies in.
    pub additional_region_ids: Option<JsonString<Vec<String>>>,
}

/// ListImages: registered images, filtered by IDs or names.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListImages {
    #[serde(skip)]
    pub region_id: String,
    pub image_category: Option<ImageCategory>,
    pub image_type: Option<ImageType>,
    pub image_ids: Option<JsonString<Vec<String>>>,
    pub image_names: Option<JsonString<Vec<String>>>,
    pub mode: Option<ListMode>,
    pub page_number: Option<u32>,
    /// Default 20.
    pub page_size: Option<u32>,
}

/// RemoveImage: unregister an image.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveImage {
    #[serde(skip)]
    pub region_id: String,
    pub image_id: String,
    pub image_type: Option<ImageType>,
}

/// AddImage result.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AddImageResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
    /// `None` when the field is absent.
    #[serde(deserialize_with = "de::opt_boolean")]
    pub success: Option<bool>,
}

/// RemoveImage result.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct SuccessResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::opt_boolean")]
    pub success: Option<bool>,
}

/// ListImages result page (a plain JSON array, no wrapper).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ListImagesResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::opt_boolean")]
    pub success: Option<bool>,
    #[serde(deserialize_with = "de::integer")]
    pub total_count: u64,
    #[serde(deserialize_with = "de::integer")]
    pub page_number: u32,
    #[serde(deserialize_with = "de::integer")]
    pub page_size: u32,
    #[serde(deserialize_with = "de::list")]
    pub images: Vec<ImageSummary>,
}

/// One image in ListImages.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ImageSummary {
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub image_type: String,
    #[serde(deserialize_with = "de::string")]
    pub version: String,
    #[serde(deserialize_with = "de::string")]
    pub description: String,
    #[serde(deserialize_with = "de::string")]
    pub create_time: String,
    #[serde(deserialize_with = "de::string")]
    pub update_time: String,
    #[serde(deserialize_with = "de::string")]
    pub app_id: String,
    #[serde(deserialize_with = "de::string")]
    pub os_tag: String,
    /// An integer on the wire; kept as text like other IDs.
    #[serde(deserialize_with = "de::string")]
    pub document_id: String,
    #[serde(deserialize_with = "de::integer")]
    pub weight: i64,
}

impl ImageSummary {
    pub fn image_type(&self) -> ImageType {
        ImageType::parse(&self.image_type)
    }
}

/// GetImage result.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct GetImageResponse {
    #[serde(alias = "RequestID", alias = "requestId", deserialize_with = "de::string")]
    pub request_id: String,
    #[serde(deserialize_with = "de::opt_boolean")]
    pub success: Option<bool>,
    #[serde(deserialize_with = "de::integer")]
    pub total_count: u64,
    #[serde(deserialize_with = "de::object")]
    pub image: InstantImage,
}

/// A registered image in detail.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct InstantImage {
    #[serde(deserialize_with = "de::string")]
    pub image_type: String,
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    #[serde(deserialize_with = "de::string")]
    pub version: String,
    #[serde(deserialize_with = "de::string")]
    pub description: String,
    /// Display text such as `"40 GiB"`.
    #[serde(deserialize_with = "de::string")]
    pub size: String,
    #[serde(deserialize_with = "de::string")]
    pub create_time: String,
    /// Undocumented value set.
    #[serde(deserialize_with = "de::string")]
    pub status: String,
    #[serde(deserialize_with = "de::string")]
    pub app_id: String,
    #[serde(rename = "VMImageSpec", deserialize_with = "de::object")]
    pub vm_image_spec: VmImageDetail,
    #[serde(deserialize_with = "de::object")]
    pub container_image_spec: ContainerImageDetail,
    #[serde(deserialize_with = "de::object")]
    pub document_info: DocumentInfo,
    #[serde(deserialize_with = "de::list")]
    pub additional_regions_info: Vec<AdditionalRegionInfo>,
}

impl InstantImage {
    pub fn image_type(&self) -> ImageType {
        ImageType::parse(&self.image_type)
    }
}

/// VM side of a registered image.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VmImageDetail {
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
    #[serde(deserialize_with = "de::string")]
    pub architecture: String,
    #[serde(deserialize_with = "de::string")]
    pub os_tag: String,
    #[serde(deserialize_with = "de::string")]
    pub platform: String,
}

/// Container side of a registered image.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ContainerImageDetail {
    #[serde(deserialize_with = "de::string")]
    pub registry_url: String,
    #[serde(rename = "IsACRRegistry", deserialize_with = "de::boolean")]
    pub is_acr_registry: bool,
    #[serde(rename = "IsACREnterprise", deserialize_with = "de::boolean")]
    pub is_acr_enterprise: bool,
    #[serde(deserialize_with = "de::string")]
    pub registry_cri_id: String,
    #[serde(deserialize_with = "de::object")]
    pub registry_credential: RegistryCredential,
    #[serde(deserialize_with = "de::string")]
    pub architecture: String,
    #[serde(deserialize_with = "de::string")]
    pub os_tag: String,
    #[serde(deserialize_with = "de::string")]
    pub platform: String,
}

/// Documentation attached to an image.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DocumentInfo {
    #[serde(deserialize_with = "de::string")]
    pub document: String,
    #[serde(deserialize_with = "de::string")]
    pub document_id: String,
    #[serde(deserialize_with = "de::string")]
    pub encoding_mode: String,
}

/// The image's counterpart in another region.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AdditionalRegionInfo {
    #[serde(deserialize_with = "de::string")]
    pub region_id: String,
    #[serde(deserialize_with = "de::string")]
    pub image_id: String,
    #[serde(deserialize_with = "de::string")]
    pub status: String,
}

macro_rules! ehpc_operation {
    ($request:ty, $action:literal, $response:ty) => {
        impl RpcOperation for $request {
            const PRODUCT: Product = Product::EhpcInstant;
            const ACTION: &'static str = $action;
            type Response = $response;

            fn region_id(&self) -> Option<&str> {
                (!self.region_id.is_empty()).then_some(self.region_id.as_str())
            }
        }
    };
}

ehpc_operation!(AddImage, "AddImage", AddImageResponse);
ehpc_operation!(GetImage, "GetImage", GetImageResponse);
ehpc_operation!(ListImages, "ListImages", ListImagesResponse);
ehpc_operation!(RemoveImage, "RemoveImage", SuccessResponse);

// The API documents no maximum; 100 matches the other products' largest page.
paged_operation!(ListImages => ImageSummary, images, 100);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ops::PagedOperation;
    use crate::protocol::ops::test_support::{expected, sorted};

    fn container_request() -> AddImage {
        AddImage {
            region_id: "cn-hangzhou".into(),
            name: "app-image".into(),
            image_type: Some(ImageType::Container),
            image_version: Some("V1.0".into()),
            description: Some("Test image".into()),
            vm_image_spec: None,
            container_image_spec: Some(JsonString(ContainerImageSpec {
                registry_url: Some("registry-vpc.cn-hangzhou.aliyuncs.com/ehpc_open/nginx:latest".into()),
                is_acr_registry: Some(true),
                is_acr_enterprise: Some(true),
                registry_cri_id: Some("cri-xyz795ygf8k9****".into()),
                registry_credential: Some(RegistryCredential {
                    server: Some("registry-vpc.cn-hangzhou.aliyuncs.com".into()),
                    user_name: Some("username".into()),
                    password: Some(Secret::new("userpassword")),
                }),
            })),
        }
    }

    #[test]
    fn add_vm_image_sends_spec_as_json_string() {
        let request = AddImage {
            region_id: "cn-hangzhou".into(),
            name: "app-image".into(),
            image_type: Some(ImageType::Vm),
            vm_image_spec: Some(JsonString(VmImageSpec { image_id: "m-bp1akkkr1rkxtb******".into() })),
            ..Default::default()
        };
        assert_eq!(
            sorted(&request),
            expected(&[
                ("Name", "app-image"),
                ("ImageType", "VM"),
                ("VMImageSpec", r#"{"ImageId":"m-bp1akkkr1rkxtb******"}"#),
            ])
        );
        // The region picks the endpoint and is not a parameter.
        assert_eq!(request.region_id(), Some("cn-hangzhou"));
        assert_eq!((AddImage::PRODUCT, AddImage::ACTION), (Product::EhpcInstant, "AddImage"));
    }

    #[test]
    fn add_container_image_sends_nested_json_with_password() {
        assert_eq!(
            sorted(&container_request()),
            expected(&[
                ("Name", "app-image"),
                ("ImageType", "Container"),
                ("ImageVersion", "V1.0"),
                ("Description", "Test image"),
                (
                    "ContainerImageSpec",
                    concat!(
                        r#"{"RegistryUrl":"registry-vpc.cn-hangzhou.aliyuncs.com/ehpc_open/nginx:latest","#,
                        r#""IsACRRegistry":true,"IsACREnterprise":true,"RegistryCriId":"cri-xyz795ygf8k9****","#,
                        r#""RegistryCredential":{"Server":"registry-vpc.cn-hangzhou.aliyuncs.com","#,
                        r#""UserName":"username","Password":"userpassword"}}"#
                    ),
                ),
            ])
        );
        let public_registry = AddImage {
            name: "n".into(),
            container_image_spec: Some(JsonString(ContainerImageSpec {
                registry_url: Some("docker.io/library/nginx".into()),
                ..Default::default()
            })),
            ..Default::default()
        };
        assert_eq!(
            public_registry.to_params().unwrap().get("ContainerImageSpec"),
            Some(r#"{"RegistryUrl":"docker.io/library/nginx"}"#)
        );
    }

    #[test]
    fn debug_never_shows_the_registry_password() {
        let shown = format!("{:?}", container_request());
        assert!(!shown.contains("userpassword"), "{shown}");
        assert!(shown.contains("***") && shown.contains("username"), "{shown}");
    }

    #[test]
    fn list_and_get_send_json_arrays() {
        let mut list = ListImages {
            region_id: "cn-hangzhou".into(),
            image_category: Some(ImageCategory::Custom),
            image_type: Some(ImageType::Vm),
            image_ids: Some(JsonString(vec!["m-1".into(), "m-2".into()])),
            image_names: Some(JsonString(vec!["app-image".into()])),
            mode: Some(ListMode::Merge),
            ..Default::default()
        };
        list.set_page(1, ListImages::MAX_PAGE_SIZE);
        assert_eq!(
            sorted(&list),
            expected(&[
                ("ImageCategory", "Custom"),
                ("ImageType", "VM"),
                ("ImageIds", r#"["m-1","m-2"]"#),
                ("ImageNames", r#"["app-image"]"#),
                ("Mode", "Merge"),
                ("PageNumber", "1"),
                ("PageSize", "100"),
            ])
        );
        let get = GetImage {
            region_id: "cn-hangzhou".into(),
            image_id: "m-1".into(),
            image_category: Some(ImageCategory::Custom),
            additional_region_ids: Some(JsonString(vec!["cn-beijing".into(), "cn-shanghai".into()])),
            ..Default::default()
        };
        assert_eq!(
            sorted(&get),
            expected(&[
                ("ImageId", "m-1"),
                ("ImageCategory", "Custom"),
                ("AdditionalRegionIds", r#"["cn-beijing","cn-shanghai"]"#),
            ])
        );
        let remove = RemoveImage { region_id: String::new(), image_id: "m-1".into(), image_type: None };
        assert_eq!(sorted(&remove), expected(&[("ImageId", "m-1")]));
        assert_eq!(remove.region_id(), None);
    }

    #[test]
    fn add_image_seed_response_decodes() {
        // Seed 000 sample, including its stray newlines.
        let response: AddImageResponse = serde_json::from_str(
            r#"{"RequestId":"04F0F334-1335-436C-A1D7-6C044FE73368\n","Success":true,"ImageId":"m-bp1akkkr1rkxtb******\n"}"#,
        )
        .unwrap();
        assert_eq!(response.success, Some(true));
        assert_eq!(response.image_id.trim_end(), "m-bp1akkkr1rkxtb******");
        let textual: SuccessResponse = serde_json::from_str(r#"{"RequestId":"r","Success":"True"}"#).unwrap();
        assert_eq!(textual.success, Some(true));
        let absent: SuccessResponse = serde_json::from_str(r#"{"RequestId":"r"}"#).unwrap();
        assert_eq!(absent.success, None);
    }

    #[test]
    fn list_images_decodes_plain_array() {
        let response: ListImagesResponse = serde_json::from_str(
            r#"{"RequestId":"r","Success":true,"TotalCount":"2","PageNumber":1,"PageSize":"20",
               "Images":[
                 {"ImageId":"m-1","Name":"app-image","ImageType":"VM","Version":"V1.0","Description":"d",
                  "CreateTime":"2024-01-01 00:00:00","UpdateTime":"2024-01-02 00:00:00","AppId":"app-1",
                  "OsTag":"CentOS 7.9","DocumentId":12,"Weight":"3"},
                 {"ImageId":"c-1","ImageType":"Container","DocumentId":null}
               ]}"#,
        )
        .unwrap();
        assert_eq!((response.page_number, response.page_size), (1, 20));
        let page = ListImages::into_page(response);
        assert_eq!(page.total_count, 2);
        assert_eq!(page.items[0].document_id, "12");
        assert_eq!(page.items[0].weight, 3);
        assert_eq!(page.items[0].image_type(), ImageType::Vm);
        assert_eq!(page.items[1].image_type(), ImageType::Container);
        assert_eq!(page.items[1].document_id, "");
    }

    #[test]
    fn get_image_decodes_nested_specs() {
        let response: GetImageResponse = serde_json::from_str(
            r#"{"RequestId":"r","Success":"true","TotalCount":1,"Image":{
                 "ImageType":"Container","Name":"app-image","Version":"V1.0","Size":"40 GiB",
                 "CreateTime":"2024-01-01","Status":"Available","AppId":"app-1",
                 "VMImageSpec":null,
                 "ContainerImageSpec":{"RegistryUrl":"registry/nginx:latest","IsACRRegistry":"True",
                   "IsACREnterprise":false,"RegistryCriId":"cri-1","Architecture":"x86_64",
                   "RegistryCredential":{"Server":"registry","UserName":"u","Password":"p@ss"}},
                 "DocumentInfo":{"Document":"readme","DocumentId":7,"EncodingMode":"plain"},
                 "AdditionalRegionsInfo":[{"RegionId":"cn-beijing","ImageId":"m-2","Status":"Available"}]}}"#,
        )
        .unwrap();
        assert_eq!(response.success, Some(true));
        let image = &response.image;
        assert_eq!(image.image_type(), ImageType::Container);
        assert_eq!(image.size, "40 GiB");
        assert!(image.vm_image_spec.image_id.is_empty());
        let container = &image.container_image_spec;
        assert!(container.is_acr_registry && !container.is_acr_enterprise);
        assert_eq!(container.registry_credential.user_name.as_deref(), Some("u"));
        assert_eq!(container.registry_credential.password.as_ref().map(Secret::expose), Some("p@ss"));
        assert!(!format!("{response:?}").contains("p@ss"));
        assert_eq!(image.document_info.document_id, "7");
        assert_eq!(image.additional_regions_info[0].image_id, "m-2");

        let vm: GetImageResponse = serde_json::from_str(
            r#"{"Image":{"ImageType":"VM","VMImageSpec":{"ImageId":"m-1","Architecture":"x86_64","OsTag":"CentOS","Platform":"CentOS"}}}"#,
        )
        .unwrap();
        assert_eq!(vm.image.vm_image_spec.image_id, "m-1");
        assert!(vm.image.additional_regions_info.is_empty());
    }
}
