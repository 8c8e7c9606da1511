//! The other RPC products and styles against the in-process sandbox: E-HPC Instant's image
//! registry, ENS edge images, and ECS through the Apsara Stack route and ASAPI gateways.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common_sandbox;

use std::time::Duration;

use bytes::Bytes;
use common_sandbox::{
    TempDir, code, demo_client, demo_config, demo_key, eventually, profile, start, status_and_code,
};
use imagedesk::client::oss::OssRequest;
use imagedesk::client::{Client, RequestStyle, Tenancy};
use imagedesk::protocol::Product;
use imagedesk::protocol::ops::ecs::{self, ImageStatus};
use imagedesk::protocol::ops::ehpc::{
    AddImage, ContainerImageSpec, GetImage, ImageType, ListImages, RemoveImage, VmImageSpec,
};
use imagedesk::protocol::ops::ens::{self, EnsImageStatus};
use imagedesk::protocol::ops::{PagedOperation, RpcOperation};
use imagedesk::protocol::params::JsonString;

const HZ: &str = "cn-hangzhou";
const BJ_BUCKET: &str = "imagedesk-demo-bj";
/// ENS imports take 150 s nominal: 0.15 s here.
const SCALE: f64 = 1000.0;
const JOB_TIMEOUT: Duration = Duration::from_secs(10);

// ---- E-HPC Instant -------------------------------------------------------------------------------

fn add(name: &str, version: &str) -> AddImage {
    AddImage {
        region_id: HZ.into(),
        name: name.into(),
        image_version: Some(version.into()),
        description: Some("added by the integration tests".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn ehpc_instant_registers_lists_gets_and_removes_vm_and_container_images() {
    let dir = TempDir::new("ehpc");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);

    let vm = c
        .call(AddImage {
            image_type: Some(ImageType::Vm),
            vm_image_spec: Some(JsonString(VmImageSpec { image_id: "m-demo0002".into() })),
            ..add("web-base", "V2")
        })
        .await
        .unwrap();
    assert_eq!(vm.image_id, "m-demo0002", "a VM image is registered under its ECS image ID");
    assert_eq!(vm.success, Some(true));
    let registry = "registry-vpc.cn-hangzhou.aliyuncs.com/ehpc_open/redis:7";
    let container = c
        .call(AddImage {
            image_type: Some(ImageType::Container),
            container_image_spec: Some(JsonString(ContainerImageSpec {
                registry_url: Some(registry.into()),
                is_acr_registry: Some(true),
                ..Default::default()
            })),
            ..add("redis", "7")
        })
        .await
        .unwrap();
    assert!(container.image_id.starts_with("m-") && container.image_id != vm.image_id, "{container:?}");

    // ListImages by ImageIds, per type (VM is the default type).
    let wanted = JsonString(vec![vm.image_id.clone(), container.image_id.clone(), "m-nope".into()]);
    let vms =
        c.call(ListImages { region_id: HZ.into(), image_ids: Some(wanted.clone()), ..Default::default() });
    let vms = vms.await.unwrap();
    assert_eq!(vms.total_count, 1);
    assert_eq!((vms.images[0].image_id.as_str(), vms.images[0].name.as_str()), ("m-demo0002", "web-base"));
    assert_eq!(vms.images[0].version, "V2");
    assert_eq!(vms.images[0].image_type(), ImageType::Vm);
    let containers = c
        .call(ListImages {
            region_id: HZ.into(),
            image_ids: Some(wanted),
            image_type: Some(ImageType::Container),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(containers.images.len(), 1);
    assert_eq!(containers.images[0].image_id, container.image_id);
    let all_vms = c.list_all(ListImages { region_id: HZ.into(), ..Default::default() }).await.unwrap();
    assert!(all_vms.iter().any(|i| i.image_id == "m-ehpcpub01"), "public images are listed too");
    assert!(all_vms.iter().any(|i| i.image_id == "m-demo0002"));

    let got = c.call(GetImage { region_id: HZ.into(), image_id: vm.image_id.clone(), ..Default::default() });
    let got = got.await.unwrap();
    assert_eq!(got.image.image_type(), ImageType::Vm);
    assert_eq!(got.image.vm_image_spec.image_id, "m-demo0002");
    assert_eq!(got.image.vm_image_spec.platform, "CentOS", "OS details come from the ECS image");
    assert_eq!(got.image.size, "20 GiB");
    let got = c
        .call(GetImage {
            region_id: HZ.into(),
            image_id: container.image_id.clone(),
            image_type: Some(ImageType::Container),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(got.image.container_image_spec.registry_url, registry);
    assert!(got.image.container_image_spec.is_acr_registry);
    assert_eq!(got.image.name, "redis");

    // Registering the same thing twice.
    let err = c
        .call(AddImage {
            vm_image_spec: Some(JsonString(VmImageSpec { image_id: "m-demo0002".into() })),
            ..add("another-name", "V9")
        })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ImageAlreadyExists", "{err}");
    let err = c
        .call(AddImage {
            image_type: Some(ImageType::Container),
            container_image_spec: Some(JsonString(ContainerImageSpec {
                registry_url: Some("registry-vpc.cn-hangzhou.aliyuncs.com/other/redis:7".into()),
                ..Default::default()
            })),
            ..add("redis", "7")
        })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ImageAlreadyExists", "same name and version: {err}");

    c.call(RemoveImage { region_id: HZ.into(), image_id: vm.image_id.clone(), ..Default::default() })
        .await
        .unwrap();
    let err = c
        .call(GetImage { region_id: HZ.into(), image_id: vm.image_id.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(status_and_code(&err), (404, "ImageNotFound"), "{err}");
    let err = c
        .call(RemoveImage { region_id: HZ.into(), image_id: vm.image_id.clone(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ImageNotFound");
    // The ECS image itself is untouched.
    assert!(common_sandbox::find_image(&c, HZ, "m-demo0002").await.is_some());
}

// ---- ENS -----------------------------------------------------------------------------------------

fn ens_import(name: &str, object: &str) -> ens::ImportImage {
    ens::ImportImage {
        image_name: name.into(),
        platform: Some("centos".into()),
        os_version: Some("7.9".into()),
        oss_bucket: Some(BJ_BUCKET.into()),
        oss_object: Some(object.into()),
        oss_region: Some("cn-beijing".into()),
        ..Default::default()
    }
}

async fn own_ens_image(c: &Client, id: &str) -> Option<ens::EnsImage> {
    let r =
        c.call(ens::DescribeSelfImages { image_id: Some(id.into()), ..Default::default() }).await.unwrap();
    r.images.into_iter().next()
}

async fn settled_ens_image(c: &Client, id: &str) -> ens::EnsImage {
    eventually(&format!("ENS image {id} to settle"), JOB_TIMEOUT, || async {
        own_ens_image(c, id).await.filter(|i| {
            !matches!(
                i.status(),
                EnsImageStatus::Creating | EnsImageStatus::Packing | EnsImageStatus::Uploading
            )
        })
    })
    .await
}

#[tokio::test]
async fn ens_imports_a_qcow2_from_oss_and_deletes_it() {
    let dir = TempDir::new("ens");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);

    let started = c.call(ens_import("edge-node-test", "images/edge-node.qcow2")).await.unwrap();
    assert_eq!(started.code, "0");
    assert!(started.image_id.starts_with("m-"), "{started:?}");
    let first = own_ens_image(&c, &started.image_id).await.unwrap();
    assert!(
        matches!(
            first.status(),
            EnsImageStatus::Creating | EnsImageStatus::Packing | EnsImageStatus::Uploading
        ) || first.status() == EnsImageStatus::Available,
        "{:?}",
        first.status
    );
    let image = settled_ens_image(&c, &started.image_id).await;
    assert_eq!(image.status(), EnsImageStatus::Available);
    assert_eq!((image.image_name.as_str(), image.platform.as_str()), ("edge-node-test", "centos"));
    assert_eq!(image.image_size, 20);

    let listed = c.list_all(ens::DescribeImages::default()).await.unwrap();
    let public_and_own: Vec<&str> = listed.iter().map(|i| i.image_id.as_str()).collect();
    assert!(public_and_own.contains(&started.image_id.as_str()), "{public_and_own:?}");
    assert!(public_and_own.contains(&"centos_7_9_x64_20G_alibase_20240628"), "public images are listed");
    let named = c
        .call(ens::DescribeImages { image_name: Some("EDGE-NODE".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(named.images.len(), 1);
    assert_eq!(named.images[0].image_owner_alias, "self");

    let deleted = c.call(ens::DeleteImage { image_id: started.image_id.clone() }).await.unwrap();
    assert_eq!(deleted.code, "0");
    assert!(own_ens_image(&c, &started.image_id).await.is_none());
    let err = c.call(ens::DeleteImage { image_id: started.image_id.clone() }).await.unwrap_err();
    assert_eq!(code(&err), "InvalidParameter.ImageId", "{err}");
}

#[tokio::test]
async fn ens_import_of_a_file_that_is_not_qcow2_fails_while_packing() {
    let dir = TempDir::new("ens-bad");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    // A text file next to the demo image, uploaded through ImageDesk's OSS client.
    let put = OssRequest {
        method: "PUT".into(),
        bucket: Some(BJ_BUCKET.into()),
        key: "docs/notes.txt".into(),
        body: Bytes::from_static(b"not a disk image, just notes\n"),
        ..Default::default()
    };
    c.oss(Some("cn-beijing"), &put).await.unwrap();

    let started = c.call(ens_import("edge-notes", "docs/notes.txt")).await.unwrap();
    let image = settled_ens_image(&c, &started.image_id).await;
    assert_eq!(image.status(), EnsImageStatus::PackFailed, "{:?}", image.status);

    let err = c.call(ens_import("edge-missing", "images/nope.qcow2")).await.unwrap_err();
    assert_eq!(code(&err), "InvalidParameter.OSSObject", "{err}");
}

// ---- Apsara Stack styles -------------------------------------------------------------------------

fn tenancy() -> Tenancy {
    Tenancy {
        organization_id: Some("26".into()),
        resource_group_id: Some("rg-apsara".into()),
        region_id: Some(HZ.into()),
        caller_sdk_source: Some("ImageDesk".into()),
    }
}

async fn apsara_round_trip(style: RequestStyle, name: &str) {
    let dir = TempDir::new(name);
    let sb = start(demo_config(&dir, SCALE)).await;
    let mut p = profile(&sb, HZ);
    p.style = style.clone();
    let c = common_sandbox::client_for(p, demo_key());

    let created = c
        .call(ecs::CreateImage {
            region_id: HZ.into(),
            instance_id: Some("i-demo0001".into()),
            image_name: Some(format!("{name}-image")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(created.image_id.starts_with("m-"), "{created:?}");
    assert!(!created.request_id.is_empty(), "RequestId (or RequestID) decoded: {created:?}");

    let listed = c
        .call(ecs::DescribeImages {
            region_id: HZ.into(),
            image_id: Some(created.image_id.clone()),
            status: ImageStatus::all(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.total_count, 1);
    assert_eq!(listed.images[0].image_name, format!("{name}-image"));
    assert!(!listed.request_id.is_empty());

    // The wire spelling of the request ID differs by style.
    let params = ecs::DescribeRegions::default().to_params().unwrap();
    let raw = c.call_raw(Product::Ecs, "DescribeRegions", None, &params).await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&raw.body).unwrap();
    let (expected, other) = match style {
        RequestStyle::ApsaraRoute { .. } => ("RequestID", "RequestId"),
        _ => ("RequestId", "RequestID"),
    };
    assert!(body[expected].as_str().is_some_and(|id| !id.is_empty()), "{body}");
    assert!(body.get(other).is_none(), "{body}");

    // Errors come back as POP errors in both styles.
    let err = c
        .call(ecs::CreateImage {
            region_id: HZ.into(),
            instance_id: Some("i-nope".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status_and_code(&err), (404, "InvalidInstanceId.NotFound"), "{err}");
}

#[tokio::test]
async fn apsara_route_style_creates_and_lists_images() {
    let style = RequestStyle::ApsaraRoute {
        path_template: "/apsara/route/{product}/{action}".into(),
        tenancy: Tenancy::default(),
    };
    apsara_round_trip(style, "route").await;
}

#[tokio::test]
async fn apsara_route_style_with_tenancy_headers() {
    let style = RequestStyle::ApsaraRoute {
        path_template: "/apsara/route/{product}/{action}".into(),
        tenancy: tenancy(),
    };
    apsara_round_trip(style, "route-tenancy").await;
}

#[tokio::test]
async fn asapi_style_creates_and_lists_images() {
    apsara_round_trip(RequestStyle::Asapi(tenancy()), "asapi").await;
}

#[tokio::test]
async fn ens_page_size_over_fifty_is_refused() {
    let dir = TempDir::new("ens-page");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    assert_eq!(<ens::DescribeImages as PagedOperation>::MAX_PAGE_SIZE, 50);
    let err = c.call(ens::DescribeImages { page_size: Some(51), ..Default::default() }).await.unwrap_err();
    assert_eq!(code(&err), "InvalidParameter.PageSize", "{err}");
}
