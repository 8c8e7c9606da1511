//! ECS image administration end to end: ImageDesk's typed client against the in-process sandbox
//! over loopback, on the demo data set (see `src/sandbox/cloud.rs` for the seeded IDs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common_sandbox;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common_sandbox::{
    TempDir, code, demo_client, demo_config, find_image, settled_image, start, status_and_code,
};
use imagedesk::client::{Client, RetryConfig};
use imagedesk::protocol::catalog::IMPORT_ROLE_NAME;
use imagedesk::protocol::ops::ecs::{
    Architecture, CancelCopyImage, CancelTask, CopyImage, CreateImage, DeleteImage, DescribeImages,
    DescribeRegions, DescribeTaskAttribute, DescribeTasks, FeatureParams, ImageOwnerAlias, ImageStatus,
    ImdsSupport, ImportDiskMapping, ImportImage, ModifyImageAttribute, Tag, TaskAction, TaskStatus,
};
use imagedesk::protocol::params::CommaList;
use imagedesk::sandbox::Faults;

const HZ: &str = "cn-hangzhou";
const BJ: &str = "cn-beijing";
const HZ_BUCKET: &str = "imagedesk-demo-hz";
const BJ_BUCKET: &str = "imagedesk-demo-bj";
/// Jobs run 100× faster: an import (120 s nominal) takes 1.2 s, a copy 0.9 s, a create 0.6 s.
const SCALE: f64 = 100.0;
const JOB_TIMEOUT: Duration = Duration::from_secs(10);

fn describe(region: &str) -> DescribeImages {
    DescribeImages { region_id: region.into(), page_size: Some(100), ..Default::default() }
}

fn import_of(bucket: &str, object: &str, name: &str) -> ImportImage {
    ImportImage {
        region_id: HZ.into(),
        disk_device_mapping: vec![ImportDiskMapping {
            oss_bucket: bucket.into(),
            oss_object: object.into(),
            ..Default::default()
        }],
        image_name: Some(name.into()),
        platform: Some("CentOS".into()),
        ..Default::default()
    }
}

fn centos_import(name: &str) -> ImportImage {
    import_of(HZ_BUCKET, "images/centos-7.9.qcow2", name)
}

async fn task(client: &Client, id: &str) -> imagedesk::protocol::ops::ecs::DescribeTaskAttributeResponse {
    client.call(DescribeTaskAttribute { region_id: HZ.into(), task_id: id.into() }).await.unwrap()
}

fn ids(images: &[imagedesk::protocol::ops::ecs::Image]) -> Vec<&str> {
    images.iter().map(|i| i.image_id.as_str()).collect()
}

// ---- DescribeImages ------------------------------------------------------------------------------

#[tokio::test]
async fn describe_images_defaults_to_available_and_all_statuses_widen_it() {
    let dir = TempDir::new("ecs-status");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);

    let default = c.call(describe(HZ)).await.unwrap();
    assert!(!default.images.is_empty());
    assert_eq!(default.total_count, default.images.len() as u64);
    for image in &default.images {
        assert_eq!(image.status(), ImageStatus::Available, "{} without Status", image.image_id);
    }
    let listed = ids(&default.images);
    for hidden in ["m-demo0004", "m-demo0011", "m-demo0012", "m-demo0013"] {
        assert!(!listed.contains(&hidden), "{hidden} is not Available and must be hidden by default");
    }

    let all = c.call(DescribeImages { status: ImageStatus::all(), ..describe(HZ) }).await.unwrap();
    let by_id = |id: &str| all.images.iter().find(|i| i.image_id == id).unwrap_or_else(|| panic!("{id}"));
    assert_eq!(by_id("m-demo0004").status(), ImageStatus::Deprecated);
    assert_eq!(by_id("m-demo0011").status(), ImageStatus::CreateFailed);
    assert_eq!(by_id("m-demo0012").status(), ImageStatus::UnAvailable);
    let importing = by_id("m-demo0013");
    assert_eq!(importing.status(), ImageStatus::Creating);
    assert!(importing.progress_percent().is_some_and(|p| p < 100), "{:?}", importing.progress);
    assert_eq!(
        all.total_count,
        default.total_count + 8,
        "4 named above + 0014, 0015 and deprecated 0021/0028"
    );
}

#[tokio::test]
async fn describe_images_filters_by_name_family_tag_owner_and_architecture() {
    let dir = TempDir::new("ecs-filters");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);

    // Fuzzy, case-insensitive, Chinese included.
    let chinese = c.call(DescribeImages { image_name: Some("中文".into()), ..describe(HZ) }).await.unwrap();
    assert_eq!(ids(&chinese.images), ["m-demo0007"]);
    assert_eq!(chinese.images[0].image_name, "中文镜像-centos");
    assert_eq!(chinese.images[0].description, "中文描述:演示用镜像");
    let fuzzy =
        c.call(DescribeImages { image_name: Some("WEB-BASE-V".into()), ..describe(HZ) }).await.unwrap();
    let mut names: Vec<&str> = fuzzy.images.iter().map(|i| i.image_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["web-base-v1", "web-base-v2", "web-base-v3"], "v0 is Deprecated");

    let family = c
        .call(DescribeImages {
            image_family: Some("web-base".into()),
            status: ImageStatus::all(),
            ..describe(HZ)
        })
        .await
        .unwrap();
    let mut family_ids = ids(&family.images);
    family_ids.sort_unstable();
    assert_eq!(family_ids, ["m-demo0001", "m-demo0002", "m-demo0003", "m-demo0004"]);
    assert!(family.images.iter().all(|i| i.image_family == "web-base"));

    let tagged = c.call(DescribeImages { tag: vec![Tag::new("env", "prod")], ..describe(HZ) }).await.unwrap();
    // app-build-16…30 with even numbers, minus Deprecated 28.
    assert_eq!(tagged.total_count, 7, "{:?}", ids(&tagged.images));
    for image in &tagged.images {
        assert!(image.tags.iter().any(|t| t.tag_key == "env" && t.tag_value == "prod"), "{}", image.image_id);
    }

    let system = c
        .call(DescribeImages { image_owner_alias: Some(ImageOwnerAlias::System), ..describe(HZ) })
        .await
        .unwrap();
    assert_eq!(system.total_count, 7);
    assert!(system.images.iter().all(|i| i.image_owner_alias() == ImageOwnerAlias::System));
    assert!(ids(&system.images).contains(&"centos_7_9_x64_20G_alibase_20240628.vhd"));

    let own = c
        .call(DescribeImages { image_owner_alias: Some(ImageOwnerAlias::SelfOwned), ..describe(HZ) })
        .await
        .unwrap();
    assert!(own.total_count > 0);
    for image in &own.images {
        assert_eq!(image.image_owner_alias(), ImageOwnerAlias::SelfOwned, "{}", image.image_id);
        assert!(image.image_id.starts_with("m-demo"), "{}", image.image_id);
    }
    assert!(!ids(&own.images).contains(&"m-shared0001"), "shared images are not self-owned");

    let shared = c
        .call(DescribeImages { image_owner_alias: Some(ImageOwnerAlias::Others), ..describe(HZ) })
        .await
        .unwrap();
    let mut shared_ids = ids(&shared.images);
    shared_ids.sort_unstable();
    assert_eq!(shared_ids, ["m-shared0001", "m-shared0002"], "shared with the demo account");
    assert!(shared.images.iter().all(|i| i.image_owner_alias() == ImageOwnerAlias::Others));

    let arm =
        c.call(DescribeImages { architecture: Some(Architecture::Arm64), ..describe(HZ) }).await.unwrap();
    let mut arm_ids = ids(&arm.images);
    arm_ids.sort_unstable();
    assert_eq!(arm_ids, ["aliyun_3_arm64_20G_alibase_20240528.vhd", "m-demo0010"]);
    assert!(arm.images.iter().all(|i| i.architecture() == Architecture::Arm64));
}

#[tokio::test]
async fn list_all_reads_every_page_once_and_page_size_is_bounded() {
    let dir = TempDir::new("ecs-paging");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let request = DescribeImages { region_id: HZ.into(), status: ImageStatus::all(), ..Default::default() };

    let first = c.call(DescribeImages { page_size: Some(1), ..request.clone() }).await.unwrap();
    let all = c.list_all(request.clone()).await.unwrap();
    assert_eq!(all.len() as u64, first.total_count);
    let unique: HashSet<&str> = all.iter().map(|i| i.image_id.as_str()).collect();
    assert_eq!(unique.len(), all.len(), "no duplicates");

    // Page by hand with a small page: the same images, in the same order.
    let mut paged = Vec::new();
    for page in 1.. {
        let r =
            c.call(DescribeImages { page_number: Some(page), page_size: Some(7), ..request.clone() }).await;
        let r = r.unwrap();
        assert_eq!((r.page_number, r.page_size), (page, 7));
        if r.images.is_empty() {
            break;
        }
        paged.extend(r.images.into_iter().map(|i| i.image_id));
    }
    assert_eq!(paged, all.iter().map(|i| i.image_id.clone()).collect::<Vec<_>>());

    let err = c.call(DescribeImages { page_size: Some(101), ..request.clone() }).await.unwrap_err();
    assert_eq!(status_and_code(&err), (400, "InvalidParameter"), "{err}");
    let err = c.call(DescribeImages { dry_run: Some(true), ..request }).await.unwrap_err();
    assert_eq!(code(&err), "DryRunOperation");
}

// ---- ImportImage ---------------------------------------------------------------------------------

#[tokio::test]
async fn import_progresses_to_available_and_its_task_finishes() {
    let dir = TempDir::new("ecs-import");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);

    let started = c.call(centos_import("imported-centos")).await.unwrap();
    assert!(started.image_id.starts_with("m-") && started.task_id.starts_with("t-"), "{started:?}");
    assert!(!started.request_id.is_empty());

    let first = find_image(&c, HZ, &started.image_id).await.unwrap();
    assert_eq!(first.status(), ImageStatus::Creating);
    assert_eq!(first.image_name, "imported-centos");
    assert_eq!(first.disk_device_mappings[0].import_oss_object, "images/centos-7.9.qcow2");
    assert_eq!(first.disk_device_mappings[0].format, "QCOW2", "sniffed from the file");
    let running = task(&c, &started.task_id).await;
    assert_eq!(running.task_status(), TaskStatus::Processing);
    assert_eq!(running.task_action(), TaskAction::ImportImage);
    assert!(running.support_cancel);

    // Progress only rises, and is seen strictly between 0 and 100 on the way.
    let mut seen = vec![first.progress_percent().unwrap()];
    let deadline = Instant::now() + JOB_TIMEOUT;
    let done = loop {
        let image = find_image(&c, HZ, &started.image_id).await.unwrap();
        if image.status() != ImageStatus::Creating {
            break image;
        }
        seen.push(image.progress_percent().unwrap());
        assert!(Instant::now() < deadline, "import still running after {JOB_TIMEOUT:?}: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done.status(), ImageStatus::Available);
    assert_eq!(done.progress_percent(), Some(100));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress went backwards: {seen:?}");
    assert!(seen.iter().any(|p| (1..100).contains(p)), "no intermediate progress seen: {seen:?}");
    assert!(seen.first() < seen.last(), "progress never rose: {seen:?}");

    let finished = task(&c, &started.task_id).await;
    assert_eq!(finished.task_status(), TaskStatus::Finished);
    assert_eq!(finished.progress_percent(), Some(100));
    assert!(!finished.support_cancel);
    assert!(!finished.finished_time.is_empty());
    let listed = c
        .call(DescribeTasks {
            region_id: HZ.into(),
            task_ids: Some(CommaList(vec![started.task_id.clone(), "t-demo0001".into()])),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.total_count, 2);
    let mine = listed.task_set.iter().find(|t| t.task_id == started.task_id).unwrap();
    assert_eq!(
        (mine.task_status(), mine.resource_id.as_str()),
        (TaskStatus::Finished, started.image_id.as_str())
    );
    assert!(mine.is_import());
    let demo = listed.task_set.iter().find(|t| t.task_id == "t-demo0001").unwrap();
    assert_eq!((demo.task_status(), demo.resource_id.as_str()), (TaskStatus::Processing, "m-demo0013"));
}

#[tokio::test]
async fn importing_a_file_that_is_not_a_disk_image_ends_create_failed() {
    let dir = TempDir::new("ecs-import-txt");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let started = c.call(import_of(HZ_BUCKET, "docs/readme.txt", "not-a-disk")).await.unwrap();
    let image = settled_image(&c, HZ, &started.image_id, JOB_TIMEOUT).await;
    assert_eq!(image.status(), ImageStatus::CreateFailed);
    let failed = task(&c, &started.task_id).await;
    assert_eq!(failed.task_status(), TaskStatus::Failed);
    assert_eq!(failed.failed_count, 1);
    let progress = &failed.operation_progress_set[0];
    assert_eq!(progress.error_code, "ImportImageFailed");
    assert!(progress.error_msg.contains("docs/readme.txt"), "{}", progress.error_msg);
}

#[tokio::test]
async fn import_refuses_missing_objects_and_buckets_of_another_region() {
    let dir = TempDir::new("ecs-import-errors");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let err = c.call(import_of(HZ_BUCKET, "images/nope.qcow2", "x1")).await.unwrap_err();
    assert_eq!(code(&err), "InvalidOSSObject.NotFound", "{err}");
    let err = c.call(import_of(BJ_BUCKET, "images/edge-node.qcow2", "x2")).await.unwrap_err();
    assert_eq!(code(&err), "InvalidOSSBucket.NotMatched", "{err}");
    assert!(err.api().unwrap().message.contains(BJ), "{err}");
    let err = c.call(import_of("no-such-bucket-here", "a.qcow2", "x3")).await.unwrap_err();
    assert_eq!(code(&err), "InvalidOSSBucket.NotFound", "{err}");
}

#[tokio::test]
async fn import_without_the_role_is_refused_and_the_advice_names_the_role() {
    let dir = TempDir::new("ecs-import-role");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    sb.set_import_role_authorized(false);
    let err = c.call(centos_import("needs-role")).await.unwrap_err();
    assert_eq!(status_and_code(&err), (403, "NoSetRoletoECSServiceAcount"), "{err}");
    let advice = err.api().unwrap().advice();
    assert_eq!(IMPORT_ROLE_NAME, "AliyunECSImageImportDefaultRole");
    assert!(advice.en.contains("AliyunECSImageImportDefaultRole"), "{}", advice.en);
    assert!(advice.zh.contains("AliyunECSImageImportDefaultRole"), "{}", advice.zh);
    sb.set_import_role_authorized(true);
    c.call(centos_import("needs-role")).await.unwrap();
}

#[tokio::test]
async fn dry_run_validates_without_importing() {
    let dir = TempDir::new("ecs-dry-run");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let own = DescribeImages {
        image_owner_alias: Some(ImageOwnerAlias::SelfOwned),
        status: ImageStatus::all(),
        ..describe(HZ)
    };
    let before = c.call(own.clone()).await.unwrap().total_count;
    let err = c.call(ImportImage { dry_run: Some(true), ..centos_import("dry") }).await.unwrap_err();
    assert_eq!(status_and_code(&err), (400, "DryRunOperation"), "{err}");
    // A dry run still reports real problems first.
    let err = c
        .call(ImportImage { dry_run: Some(true), ..import_of(HZ_BUCKET, "images/nope.qcow2", "dry") })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidOSSObject.NotFound");
    assert_eq!(c.call(own).await.unwrap().total_count, before, "a dry run creates nothing");
}

#[tokio::test]
async fn client_token_reuse_is_idempotent_and_mismatches_are_refused() {
    let dir = TempDir::new("ecs-token");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let token = Client::new_client_token();
    let request = ImportImage { client_token: Some(token.clone()), ..centos_import("token-import") };
    let first = c.call(request.clone()).await.unwrap();
    let again = c.call(request.clone()).await.unwrap();
    assert_eq!((&again.image_id, &again.task_id), (&first.image_id, &first.task_id));
    let same_name = c
        .call(DescribeImages {
            image_name: Some("token-import".into()),
            status: ImageStatus::all(),
            ..describe(HZ)
        })
        .await
        .unwrap();
    assert_eq!(same_name.total_count, 1, "the replay created no second image");

    let err = c.call(ImportImage { image_name: Some("token-import-2".into()), ..request }).await.unwrap_err();
    assert_eq!(code(&err), "IdempotentParameterMismatch", "{err}");

    // CreateImage has its own token space.
    let create = CreateImage {
        region_id: HZ.into(),
        instance_id: Some("i-demo0003".into()),
        image_name: Some("token-create".into()),
        client_token: Some(token),
        ..Default::default()
    };
    let a = c.call(create.clone()).await.unwrap();
    let b = c.call(create).await.unwrap();
    assert_eq!(a.image_id, b.image_id);
}

#[tokio::test]
async fn cancel_task_stops_a_running_import() {
    let dir = TempDir::new("ecs-cancel-task");
    // Slow jobs: the import must still be running when CancelTask arrives, even on a loaded machine.
    let sb = start(demo_config(&dir, 5.0)).await;
    let c = demo_client(&sb);
    let started = c.call(centos_import("to-cancel")).await.unwrap();
    c.call(CancelTask { region_id: HZ.into(), task_id: started.task_id.clone() }).await.unwrap();
    let cancelled = task(&c, &started.task_id).await;
    assert_eq!(cancelled.task_status(), TaskStatus::Failed);
    assert!(!cancelled.support_cancel);
    assert!(find_image(&c, HZ, &started.image_id).await.is_none(), "a cancelled import leaves no image");
    let err =
        c.call(CancelTask { region_id: HZ.into(), task_id: started.task_id.clone() }).await.unwrap_err();
    assert_eq!(status_and_code(&err), (403, "InvalidTaskId.IncorrectTaskStatus"), "{err}");
    let err = c.call(CancelTask { region_id: HZ.into(), task_id: "t-nope".into() }).await.unwrap_err();
    assert_eq!(code(&err), "InvalidTaskId.NotFound");
    // Still cancelled after the import would have ended.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(task(&c, &started.task_id).await.task_status(), TaskStatus::Failed);
    assert!(find_image(&c, HZ, &started.image_id).await.is_none());
}

// ---- CreateImage ---------------------------------------------------------------------------------

#[tokio::test]
async fn create_image_from_an_instance_or_a_snapshot() {
    let dir = TempDir::new("ecs-create");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let base = CreateImage { region_id: HZ.into(), ..Default::default() };

    let from_instance = c
        .call(CreateImage {
            instance_id: Some("i-demo0001".into()),
            image_name: Some("from-instance".into()),
            image_family: Some("web-base".into()),
            ..base.clone()
        })
        .await
        .unwrap();
    let creating = find_image(&c, HZ, &from_instance.image_id).await.unwrap();
    assert_eq!(creating.status(), ImageStatus::Creating);
    assert_eq!(creating.platform, "CentOS", "OS details come from the instance's image");
    let from_snapshot = c
        .call(CreateImage {
            snapshot_id: Some("s-demo0001".into()),
            image_name: Some("from-snapshot".into()),
            ..base.clone()
        })
        .await
        .unwrap();
    let snap = find_image(&c, HZ, &from_snapshot.image_id).await.unwrap();
    assert_eq!(snap.disk_device_mappings[0].snapshot_id, "s-demo0001");
    assert_eq!(snap.size, 40);
    for id in [&from_instance.image_id, &from_snapshot.image_id] {
        let image = settled_image(&c, HZ, id, JOB_TIMEOUT).await;
        assert_eq!(image.status(), ImageStatus::Available, "{id}");
    }
    assert_eq!(find_image(&c, HZ, &from_instance.image_id).await.unwrap().image_family, "web-base");

    let err =
        c.call(CreateImage { snapshot_id: Some("s-demo0006".into()), ..base.clone() }).await.unwrap_err();
    assert_eq!(status_and_code(&err), (403, "InvalidSnapshotId.NotReady"), "{err}");
    let err = c.call(CreateImage { instance_id: Some("i-nope".into()), ..base.clone() }).await.unwrap_err();
    assert_eq!(status_and_code(&err), (404, "InvalidInstanceId.NotFound"), "{err}");
    let err = c.call(CreateImage { image_name: Some("no-source".into()), ..base.clone() }).await.unwrap_err();
    assert_eq!(code(&err), "MissingParameter", "{err}");
    let err = c
        .call(CreateImage {
            snapshot_id: Some("s-demo0003".into()),
            image_name: Some("from-instance".into()),
            ..base
        })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidImageName.Duplicated");
}

// ---- ModifyImageAttribute ------------------------------------------------------------------------

#[tokio::test]
async fn modify_image_attribute_renames_families_and_refuses_what_it_must() {
    let dir = TempDir::new("ecs-modify");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let modify =
        |id: &str| ModifyImageAttribute { region_id: HZ.into(), image_id: id.into(), ..Default::default() };

    c.call(ModifyImageAttribute { image_name: Some("web-base-v2-renamed".into()), ..modify("m-demo0002") })
        .await
        .unwrap();
    assert_eq!(find_image(&c, HZ, "m-demo0002").await.unwrap().image_name, "web-base-v2-renamed");

    let err = c
        .call(ModifyImageAttribute { image_name: Some("web-base-v1".into()), ..modify("m-demo0003") })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidImageName.Duplicated", "{err}");

    let err = c
        .call(ModifyImageAttribute {
            features: Some(FeatureParams { imds_support: Some(ImdsSupport::V1), ..Default::default() }),
            ..modify("m-demo0006")
        })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidOperation.FeaturesImdsSupportNotMatch", "{err}");
    assert_eq!(find_image(&c, HZ, "m-demo0006").await.unwrap().features.imds_support(), ImdsSupport::V2);

    let err = c
        .call(ModifyImageAttribute { status: Some(ImageStatus::Deprecated), ..modify("m-demo0005") })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "ImageUseShared", "a shared image cannot be deprecated: {err}");
    assert_eq!(find_image(&c, HZ, "m-demo0005").await.unwrap().status(), ImageStatus::Available);

    // Deprecate and restore an unshared one.
    c.call(ModifyImageAttribute { status: Some(ImageStatus::Deprecated), ..modify("m-demo0003") })
        .await
        .unwrap();
    assert_eq!(find_image(&c, HZ, "m-demo0003").await.unwrap().status(), ImageStatus::Deprecated);
    c.call(ModifyImageAttribute { status: Some(ImageStatus::Available), ..modify("m-demo0003") })
        .await
        .unwrap();

    c.call(ModifyImageAttribute { image_family: Some("ops-tools".into()), ..modify("m-demo0008") })
        .await
        .unwrap();
    let family =
        c.call(DescribeImages { image_family: Some("ops-tools".into()), ..describe(HZ) }).await.unwrap();
    assert_eq!(ids(&family.images), ["m-demo0008"]);

    let err = c
        .call(ModifyImageAttribute {
            description: Some("a longer description".into()),
            ..modify("m-demo0013")
        })
        .await;
    assert_eq!(code(&err.unwrap_err()), "InvalidStatus.ImageIsCreating");
    let err = c
        .call(ModifyImageAttribute { description: Some("a longer description".into()), ..modify("m-nope") })
        .await;
    assert_eq!(status_and_code(&err.unwrap_err()), (404, "InvalidImageId.NotFound"));
}

// ---- DeleteImage ---------------------------------------------------------------------------------

#[tokio::test]
async fn delete_image_needs_force_for_images_in_use_and_refuses_imports() {
    let dir = TempDir::new("ecs-delete");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let delete = |id: &str| DeleteImage { region_id: HZ.into(), image_id: id.into(), ..Default::default() };

    let err = c.call(delete("m-demo0001")).await.unwrap_err();
    assert_eq!(code(&err), "ImageUsingByInstance", "{err}");
    assert!(find_image(&c, HZ, "m-demo0001").await.is_some());
    c.call(DeleteImage { force: Some(true), ..delete("m-demo0001") }).await.unwrap();
    assert!(find_image(&c, HZ, "m-demo0001").await.is_none());

    let err = c.call(delete("m-demo0013")).await.unwrap_err();
    assert_eq!(code(&err), "ImageIsImporting", "{err}");
    let err = c.call(DeleteImage { force: Some(true), ..delete("m-demo0013") }).await.unwrap_err();
    assert_eq!(code(&err), "ImageIsImporting", "Force does not override an import: {err}");

    let err = c.call(DeleteImage { dry_run: Some(true), ..delete("m-demo0002") }).await.unwrap_err();
    assert_eq!(code(&err), "DryRunOperation");
    c.call(delete("m-demo0002")).await.unwrap();
    assert!(find_image(&c, HZ, "m-demo0002").await.is_none());
}

// ---- CopyImage -----------------------------------------------------------------------------------

#[tokio::test]
async fn copy_image_to_beijing_completes_or_is_cancelled() {
    let dir = TempDir::new("ecs-copy");
    // A copy takes 3 s here: long enough to cancel one reliably, short enough to wait for another.
    let sb = start(demo_config(&dir, 30.0)).await;
    let c = demo_client(&sb);
    let copy = |id: &str, name: &str| CopyImage {
        region_id: HZ.into(),
        image_id: id.into(),
        destination_region_id: Some(BJ.into()),
        destination_image_name: Some(name.into()),
        ..Default::default()
    };

    let copied = c.call(copy("m-demo0002", "copied-v2")).await.unwrap();
    let in_bj = find_image(&c, BJ, &copied.image_id).await.unwrap();
    assert_eq!(in_bj.status(), ImageStatus::Creating);
    assert!(in_bj.is_copied);
    assert_eq!(in_bj.image_name, "copied-v2");
    assert!(find_image(&c, HZ, &copied.image_id).await.is_none(), "the copy lives in the destination");
    let done = settled_image(&c, BJ, &copied.image_id, JOB_TIMEOUT).await;
    assert_eq!(done.status(), ImageStatus::Available);
    assert_eq!(find_image(&c, HZ, "m-demo0002").await.unwrap().status(), ImageStatus::Available);

    let cancelled = c.call(copy("m-demo0003", "copied-v3")).await.unwrap();
    let err = c
        .call(DeleteImage {
            region_id: HZ.into(),
            image_id: "m-demo0003".into(),
            force: Some(true),
            dry_run: None,
        })
        .await
        .unwrap_err();
    assert_eq!(code(&err), "OperationDenied.ImageCopying", "the source of a running copy stays: {err}");
    c.call(CancelCopyImage { region_id: BJ.into(), image_id: cancelled.image_id.clone() }).await.unwrap();
    assert!(find_image(&c, BJ, &cancelled.image_id).await.is_none());
    // A finished copy can no longer be cancelled.
    let err = c.call(CancelCopyImage { region_id: BJ.into(), image_id: copied.image_id.clone() }).await;
    assert_eq!(code(&err.unwrap_err()), "IncorrectImageStatus");

    let err =
        c.call(CopyImage { destination_region_id: Some(HZ.into()), ..copy("m-demo0002", "same") }).await;
    assert_eq!(code(&err.unwrap_err()), "IncorrectDestinationRegion");
}

#[tokio::test]
async fn describe_regions_lists_endpoints_in_the_requested_language() {
    let dir = TempDir::new("ecs-regions");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let zh = c.call(DescribeRegions::default()).await.unwrap();
    let hz = zh.regions.iter().find(|r| r.region_id == HZ).unwrap();
    assert_eq!(hz.region_endpoint, "ecs.cn-hangzhou.aliyuncs.com");
    assert_eq!(hz.local_name, "华东1（杭州）");
    assert!(zh.regions.iter().any(|r| r.region_id == BJ));
    let en = c
        .call(DescribeRegions { accept_language: Some("en-US".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(en.regions.len(), zh.regions.len());
    assert_eq!(en.regions.iter().find(|r| r.region_id == HZ).unwrap().local_name, "China (Hangzhou)");
}

// ---- Persistence and faults ----------------------------------------------------------------------

#[tokio::test]
async fn an_import_survives_a_sandbox_restart() {
    let dir = TempDir::new("ecs-restart");
    let sb = start(demo_config(&dir, SCALE)).await;
    let started = demo_client(&sb).call(centos_import("persisted")).await.unwrap();
    sb.shutdown().await;

    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    let image = find_image(&c, HZ, &started.image_id).await.expect("the import is still there");
    assert_eq!(image.image_name, "persisted");
    // The job kept running across the restart and still finishes.
    let image = settled_image(&c, HZ, &started.image_id, JOB_TIMEOUT).await;
    assert_eq!(image.status(), ImageStatus::Available);
    assert_eq!(task(&c, &started.task_id).await.task_status(), TaskStatus::Finished);
    sb.shutdown().await;

    let sb = start(demo_config(&dir, SCALE)).await;
    let image = find_image(&demo_client(&sb), HZ, &started.image_id).await.unwrap();
    assert_eq!(image.status(), ImageStatus::Available, "the finished state was saved");
}

#[tokio::test]
async fn throttling_is_retried_away_and_latency_applies() {
    let dir = TempDir::new("ecs-faults");
    let sb = start(demo_config(&dir, SCALE)).await;
    let mut profile = common_sandbox::profile(&sb, HZ);
    profile.retry = RetryConfig { max_attempts: 30, base_delay_ms: 1, max_delay_ms: 4 };
    let c = common_sandbox::client_for(profile, common_sandbox::demo_key());

    sb.set_faults(Faults { throttle_rate: 0.5, ..Faults::default() });
    let before = sb.requests_served();
    const CALLS: u64 = 20;
    for _ in 0..CALLS {
        let regions = c.call(DescribeRegions::default()).await.unwrap();
        assert!(!regions.regions.is_empty());
    }
    let served = sb.requests_served() - before;
    assert!(served > CALLS, "with half the requests throttled, {CALLS} calls took only {served} requests");

    sb.set_faults(Faults { latency_ms: 400, ..Faults::default() });
    let t = Instant::now();
    c.call(DescribeRegions::default()).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(400), "{:?}", t.elapsed());
    sb.set_faults(Faults::default());
    let t = Instant::now();
    c.call(DescribeRegions::default()).await.unwrap();
    assert!(t.elapsed() < Duration::from_millis(400), "latency stays off once cleared: {:?}", t.elapsed());
}

#[tokio::test]
async fn an_object_uploaded_through_oss_can_be_imported() {
    let dir = TempDir::new("ecs-upload-import");
    let sb = start(demo_config(&dir, SCALE)).await;
    let c = demo_client(&sb);
    // A tiny raw disk: an MBR boot signature at offset 510.
    let mut disk = vec![0u8; 4096];
    disk[510] = 0x55;
    disk[511] = 0xAA;
    let put = imagedesk::client::oss::OssRequest {
        method: "PUT".into(),
        bucket: Some(HZ_BUCKET.into()),
        key: "uploads/tiny.raw".into(),
        body: disk.into(),
        ..Default::default()
    };
    c.oss(Some(HZ), &put).await.unwrap();
    let started = c.call(import_of(HZ_BUCKET, "uploads/tiny.raw", "uploaded-raw")).await.unwrap();
    let image = settled_image(&c, HZ, &started.image_id, JOB_TIMEOUT).await;
    assert_eq!(image.status(), ImageStatus::Available);
    let disk = &image.disk_device_mappings[0];
    assert_eq!((disk.format.as_str(), disk.size), ("RAW", 20), "sniffed as RAW; sized to the 20 GiB floor");
}
