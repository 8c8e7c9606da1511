//! The typed operations and the validation table agree on wire names: a fully populated valid
//! request validates clean, and a broken field is reported under the name the request sends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagedesk::protocol::ops::ecs::{
    self, Architecture, BootMode, CreateDiskMapping, DiskType, FeatureParams, ImageFormat, ImageStatus,
    ImdsSupport, ImportDiskMapping, NvmeSupport, OsType, Tag,
};
use imagedesk::protocol::ops::{RpcOperation, ehpc, ens};
use imagedesk::protocol::params::JsonString;
use imagedesk::protocol::validate::{Context, FieldError, Operation, validate};

fn errors<O: RpcOperation>(op: Operation, request: &O, ctx: &Context) -> Vec<FieldError> {
    validate(op, &request.to_params().unwrap(), ctx)
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

fn import() -> ecs::ImportImage {
    ecs::ImportImage {
        region_id: "cn-hangzhou".into(),
        disk_device_mapping: vec![
            ImportDiskMapping {
                oss_bucket: "my-bucket".into(),
                oss_object: "images/centos.qcow2".into(),
                format: Some(ImageFormat::Qcow2),
                disk_image_size: Some(40),
                device: None,
            },
            ImportDiskMapping {
                oss_bucket: "my-bucket".into(),
                oss_object: "images/data.raw".into(),
                format: Some(ImageFormat::Raw),
                disk_image_size: Some(100),
                device: None,
            },
        ],
        image_name: Some("centos-7.9_镜像".into()),
        description: Some("Imported by ImageDesk".into()),
        architecture: Some(Architecture::X86_64),
        os_type: Some(OsType::Linux),
        platform: Some("CentOS".into()),
        boot_mode: Some(BootMode::Bios),
        features: Some(FeatureParams {
            nvme_support: Some(NvmeSupport::Supported),
            imds_support: Some(ImdsSupport::V2),
        }),
        tag: vec![Tag::new("env", "dev"), Tag::new("owner", "")],
        client_token: Some("0123456789abcdef".into()),
        ..Default::default()
    }
}

#[test]
fn a_full_valid_import_validates_clean_and_errors_name_the_sent_fields() {
    assert_eq!(errors(Operation::EcsImportImage, &import(), &Context::default()), vec![]);

    let mut bad = import();
    bad.image_name = Some("aliyun-image".into());
    bad.description = Some("http://example.com".into());
    bad.disk_device_mapping[1].disk_image_size = Some(2049);
    bad.tag.push(Tag::new("env", "prod"));
    bad.architecture = Some(Architecture::Arm64);
    let found = errors(Operation::EcsImportImage, &bad, &Context::default());
    let names = fields(&found);
    for expected in ["ImageName", "Description", "DiskDeviceMapping.2.DiskImageSize", "BootMode"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("Tag.")), "{names:?}");
    assert!(found.iter().all(|e| !e.en.is_empty() && !e.zh.is_empty()));
}

#[test]
fn create_and_modify_use_the_same_names_as_the_table() {
    let create = ecs::CreateImage {
        region_id: "cn-hangzhou".into(),
        disk_device_mapping: vec![CreateDiskMapping {
            snapshot_id: Some("s-bp17441ohwkdca0".into()),
            size: Some(40),
            disk_type: Some(DiskType::System),
            device: Some("/dev/xvda".into()),
        }],
        image_name: Some("TestCentOS".into()),
        image_family: Some("hangzhou-daily".into()),
        architecture: Some(Architecture::X86_64),
        boot_mode: Some(BootMode::UefiPreferred),
        tag: vec![Tag::new("team", "images")],
        ..Default::default()
    };
    assert_eq!(errors(Operation::EcsCreateImage, &create, &Context::default()), vec![]);
    let empty = ecs::CreateImage { region_id: "cn-hangzhou".into(), ..Default::default() };
    assert!(
        !errors(Operation::EcsCreateImage, &empty, &Context::default()).is_empty(),
        "a source is required"
    );

    let modify = ecs::ModifyImageAttribute {
        region_id: "cn-hangzhou".into(),
        image_id: "m-bp18ygjuqnwhechc".into(),
        image_family: Some("daily.v2".into()),
        status: Some(ImageStatus::Deprecated),
        features: Some(FeatureParams { nvme_support: None, imds_support: Some(ImdsSupport::V1) }),
        ..Default::default()
    };
    assert_eq!(errors(Operation::EcsModifyImageAttribute, &modify, &Context::default()), vec![]);
    let ctx = Context {
        current_imds_support: Some("v2".into()),
        image_is_shared: Some(true),
        ..Context::default()
    };
    let names_owned = errors(Operation::EcsModifyImageAttribute, &modify, &ctx);
    let names = fields(&names_owned);
    assert!(names.contains(&"Features.ImdsSupport"), "IMDS v2→v1 refused: {names:?}");
    assert!(names.contains(&"Status"), "deprecating a shared image refused: {names:?}");
}

#[test]
fn ehpc_and_ens_json_parameters_are_checked_inside() {
    let vm = ehpc::AddImage {
        region_id: "cn-hangzhou".into(),
        name: "app-image".into(),
        image_type: Some(ehpc::ImageType::Vm),
        image_version: Some("V1.0".into()),
        vm_image_spec: Some(JsonString(ehpc::VmImageSpec { image_id: "m-bp1akkkr1rkxtb".into() })),
        ..Default::default()
    };
    assert_eq!(errors(Operation::EhpcAddImage, &vm, &Context::default()), vec![]);
    let missing_spec = ehpc::AddImage { vm_image_spec: None, ..vm.clone() };
    assert!(!errors(Operation::EhpcAddImage, &missing_spec, &Context::default()).is_empty());

    let ens_import = ens::ImportImage {
        image_name: "edge-centos".into(),
        disk_device_mapping: Some(JsonString(vec![ens::EnsDiskMapping {
            oss_bucket: "www-cn".into(),
            oss_object: "image-bucket".into(),
            oss_region: Some("cn-beijing".into()),
        }])),
        ..Default::default()
    };
    assert_eq!(errors(Operation::EnsImportImage, &ens_import, &Context::default()), vec![]);
    let bad_name = ens::ImportImage { image_name: "1-starts-with-digit".into(), ..ens_import };
    assert_eq!(fields(&errors(Operation::EnsImportImage, &bad_name, &Context::default())), vec!["ImageName"]);
}
