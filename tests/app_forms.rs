#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Import (ECS, ENS), Create and Add forms (kittest, real app, loopback sandbox): the rule
//! table's message under the field as you type, dry run changing nothing, the exact CLI command,
//! a valid submit creating the image (the inventory shows it), server errors on their field, the
//! import role help, and a local file imported end to end by a durable job.

mod common_app;
mod common_sandbox;
use common_app::{app, replace_text, run_until, settle};
use common_sandbox::{TempDir, data};

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use imagedesk::app::ImageDeskApp;
use imagedesk::app::i18n::Lang;
use imagedesk::app::model::{Product, Status};
use imagedesk::app::worker::{Backend, WorkerOptions};
use imagedesk::jobs::import::{JobStore, Stage};
use imagedesk::protocol::params::Params;
use imagedesk::protocol::validate::{Context, Operation, validate};
use imagedesk::sandbox::{RunningSandbox, Sandbox, SandboxConfig};

struct Setup {
    _dir: TempDir,
    runtime: tokio::runtime::Runtime,
    sandbox: Option<RunningSandbox>,
    harness: Harness<'static, ImageDeskApp>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(sandbox) = self.sandbox.take() {
            self.runtime.block_on(sandbox.shutdown());
        }
    }
}

fn setup(name: &str, role_authorized: bool) -> Setup {
    let dir = TempDir::new(name);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut config = SandboxConfig::new(dir.path().join("sandbox"));
    config.time_scale = 60.0;
    config.import_role_authorized = role_authorized;
    let sandbox = runtime.block_on(Sandbox::start(config)).unwrap();
    let options = WorkerOptions {
        jobs: Some(JobStore::new(dir.path().join("jobs"))),
        job_poll: Some(std::time::Duration::from_millis(50)),
        job_part_size: Some(256 * 1024),
        ..WorkerOptions::default()
    };
    let harness = app(Backend::SandboxAt(sandbox.url()), options, Lang::En);
    Setup { _dir: dir, runtime, sandbox: Some(sandbox), harness }
}

fn open(harness: &mut Harness<'_, ImageDeskApp>, item: &str) {
    harness.get_by_role_and_label(Role::Button, "New image").click();
    settle(harness);
    harness.get_by_role_and_label(Role::Button, item).click();
    settle(harness);
}

fn click(harness: &mut Harness<'_, ImageDeskApp>, button: &str) {
    harness.get_by_role_and_label(Role::Button, button).click();
    settle(harness);
}

fn rule_message(op: Operation, pairs: &[(&str, &str)]) -> String {
    let errors = validate(op, &Params::from_pairs(pairs.iter().copied()), &Context::default());
    assert!(!errors.is_empty(), "{pairs:?} should break a rule");
    errors[0].en.clone()
}

fn has_row(app: &ImageDeskApp, product: Product, name: &str, status: Status) -> bool {
    app.inventory.rows().iter().any(|r| r.product == product && r.name == name && r.status == status)
}

#[test]
fn ecs_import_of_a_local_file_validates_dry_runs_and_runs_a_job_to_an_available_image() {
    let mut s = setup("form-ecs-import", true);
    let h = &mut s.harness;
    let file = s._dir.path().join("web-disk.raw");
    let mut bytes = data(600 * 1024, 3);
    bytes[510] = 0x55;
    bytes[511] = 0xAA;
    std::fs::write(&file, bytes).unwrap();

    open(h, "Import image (ECS)…");
    assert!(h.state().forms.ecs_import.is_some());
    // The rule table's message under the name field as it is typed.
    replace_text(h, "Image name", "1-bad");
    h.get_by_label(&rule_message(Operation::EcsImportImage, &[("ImageName", "1-bad")]));
    // Submit says why it is disabled.
    h.get_by_label_contains("Disabled until");

    // The typed path (no file dialog here) and the pre-flight filling format and size.
    replace_text(h, "Local file", &file.display().to_string());
    click(h, "Check file");
    run_until(h, "the pre-flight", |app| !app.forms.sniffed.is_empty());
    let form = h.state().forms.ecs_import.clone().unwrap();
    assert_eq!(form.disks[0].format, "RAW", "the pre-flight filled the format");
    assert_eq!(form.disks[0].size_gib, "1", "and the smallest size that holds the disk");
    assert_eq!(form.disks[0].upload_key, "web-disk.raw");
    h.get_by_label_contains("Pre-flight: RAW");

    replace_text(h, "Image name", "web-from-form");
    let cli = h.state().forms.ecs_import.as_ref().unwrap().cli_command(false);
    assert_eq!(
        cli,
        "aliyun ecs ImportImage --RegionId cn-hangzhou \
         --DiskDeviceMapping.1.OSSBucket imagedesk-demo-hz --DiskDeviceMapping.1.OSSObject web-disk.raw \
         --DiskDeviceMapping.1.Format RAW --DiskDeviceMapping.1.DiskImageSize 1 --ImageName web-from-form"
    );
    h.get_by_label(&cli);
    // Dry run: the file is not in OSS yet, everything else passes, nothing is created.
    click(h, "Dry run");
    run_until(h, "the dry run", |app| app.forms.results.values().next().is_some());
    h.get_by_label("Dry run passed: the request is valid and nothing was changed.");
    assert!(
        !h.state().inventory.rows().iter().any(|r| r.name == "web-from-form"),
        "a dry run imports nothing"
    );

    // A server-side error lands on its field: a name another image already has (checked by
    // ECS once the disk is in OSS, so with an object that is).
    h.get_by_label("Object in OSS").click();
    settle(h);
    replace_text(h, "OSS bucket", "imagedesk-demo-hz");
    replace_text(h, "OSS object", "images/centos-7.9.qcow2");
    replace_text(h, "Size (GiB)", "40");
    replace_text(h, "Image name", "web-base-v1");
    click(h, "Dry run");
    run_until(h, "the refusal", |app| app.forms.results.values().any(|r| r.is_err()));
    h.get_by_label_contains("InvalidImageName.Duplicated —");
    assert!(!h.state().forms.role_missing);
    h.get_by_label("Local file").click();
    settle(h);
    replace_text(h, "Local file", &file.display().to_string());
    click(h, "Check file");
    run_until(h, "the pre-flight", |app| !app.forms.sniffed.is_empty());
    replace_text(h, "Image name", "web-from-form");

    // Upload and import: one durable job, to an Available image the inventory shows.
    click(h, "Upload and import");
    assert!(h.state().forms.ecs_import.is_none(), "the form closes; the job takes over");
    run_until(h, "the job to finish", |app| app.import_jobs.iter().any(|j| j.stage.is_terminal()));
    let job = h.state().import_jobs[0].clone();
    assert_eq!(job.stage, Stage::Done, "{:?}", job.failure);
    assert!(job.disks[0].verified);
    run_until(h, "the inventory to show the image", |app| {
        !app.inventory.any_loading() && has_row(app, Product::Ecs, "web-from-form", Status::Available)
    });
    assert!(h.get_all_by_label_contains("web-from-form").count() >= 2, "the job and the table row");
    h.get_by_label_contains("web-from-form (m-");
    h.get_by_label_contains(") is ready");
}

#[test]
fn a_missing_import_role_shows_exactly_what_to_create() {
    let mut s = setup("form-role", false);
    let h = &mut s.harness;
    open(h, "Import image (ECS)…");
    replace_text(h, "Image name", "needs-role");
    replace_text(h, "Local file", "/tmp/not-uploaded-yet.qcow2");
    click(h, "Check import role");
    run_until(h, "the role check", |app| app.forms.results.values().next().is_some());
    assert!(h.state().forms.role_missing);
    h.get_by_label("AliyunECSImageImportDefaultRole");
    h.get_by_label("AliyunECSImageImportRolePolicy");
    assert!(h.get_all_by_label_contains("ecs.aliyuncs.com").next().is_some(), "the trust policy is shown");
}

#[test]
fn create_image_validates_dry_runs_creates_and_puts_server_errors_on_their_field() {
    let mut s = setup("form-create", true);
    let h = &mut s.harness;
    open(h, "Create image (ECS / Apsara Stack)…");
    replace_text(h, "Image name", "1-bad");
    h.get_by_label(&rule_message(
        Operation::EcsCreateImage,
        &[("ImageName", "1-bad"), ("InstanceId", "i-demo0002")],
    ));
    replace_text(h, "Instance ID", "i-demo0002");
    replace_text(h, "Image name", "snap-of-web");
    h.get_by_label(
        "aliyun ecs CreateImage --RegionId cn-hangzhou --InstanceId i-demo0002 --ImageName snap-of-web",
    );

    click(h, "Dry run");
    run_until(h, "the dry run", |app| app.forms.results.values().next().is_some());
    h.get_by_label("Dry run passed: the request is valid and nothing was changed.");
    click(h, "Refresh");
    run_until(h, "the refresh", |app| !app.inventory.any_loading());
    assert!(!h.state().inventory.rows().iter().any(|r| r.name == "snap-of-web"), "nothing created");

    replace_text(h, "Image name", "web-base-v1");
    click(h, "Create");
    run_until(h, "the refusal", |app| app.forms.results.values().any(|r| r.is_err()));
    let failure = h.state().forms.results.values().next().unwrap().clone().unwrap_err();
    assert_eq!(failure.field.as_deref(), Some("ImageName"), "{failure:?}");
    h.get_by_label_contains("InvalidImageName.Duplicated —");

    replace_text(h, "Image name", "snap-of-web");
    click(h, "Create");
    run_until(h, "the image", |app| app.forms.results.values().any(|r| r.as_ref().is_ok_and(|d| !d.dry_run)));
    run_until(h, "the inventory to show it", |app| {
        !app.inventory.any_loading() && app.inventory.rows().iter().any(|r| r.name == "snap-of-web")
    });
}

#[test]
fn add_image_to_ehpc_picks_from_the_inventory_and_never_shows_the_registry_password() {
    let mut s = setup("form-add", true);
    let h = &mut s.harness;
    open(h, "Add image (E-HPC Instant)…");
    // Container from a private registry: the password is sent, never shown in the CLI line.
    h.get_by_label("Container").click();
    settle(h);
    h.get_by_label("Other registry").click();
    settle(h);
    replace_text(h, "Password", "hunter2-secret");
    let cli = h.state().forms.add.as_ref().unwrap().cli_command();
    assert!(!cli.contains("hunter2"), "{cli}");
    assert!(cli.contains("<password>"), "{cli}");
    assert!(!format!("{:?}", h.state().forms.add).contains("hunter2"));

    // VM from an image picked in the inventory.
    h.get_by_label("VM (ECS image)").click();
    settle(h);
    h.get_by_label("Pick from the inventory").click();
    settle(h);
    let first = h
        .get_all_by_role(Role::Button)
        .filter_map(|n| n.accesskit_node().label())
        .find(|l| l.contains("(m-demo"));
    let first = first.expect("an own Available ECS image to pick");
    h.get_by_role_and_label(Role::Button, &first).click();
    settle(h);
    let picked = h.state().forms.add.as_ref().unwrap().vm_image_id.clone();
    assert!(picked.starts_with("m-demo"), "{picked}");
    replace_text(h, "Name", "hpc-app-image");
    replace_text(h, "Version", "v1");
    h.get_by_label(&format!(
        "aliyun ehpcinstant AddImage --region cn-hangzhou --Name hpc-app-image --ImageType VM --ImageVersion v1 --VMImageSpec '{{\"ImageId\":\"{picked}\"}}'"
    ));
    click(h, "Add image");
    run_until(h, "the image", |app| app.forms.results.values().any(|r| r.is_ok()));
    run_until(h, "the inventory to show it", |app| {
        !app.inventory.any_loading()
            && app
                .inventory
                .rows()
                .iter()
                .any(|r| r.product == Product::EhpcInstant && r.name == "hpc-app-image")
    });

    // Invalid input: the rule table's message under the name field.
    common_app::text_field(h, "Name").focus();
    settle(h);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    settle(h);
    let errors = h.state().forms.add.as_ref().unwrap().validate();
    let message =
        errors.iter().find(|e| e.field == "Name").map(|e| e.en.clone()).expect("a name is required");
    h.get_by_label(&message);
    // The same ECS image again: E-HPC refuses it, under the image field.
    replace_text(h, "Name", "hpc-app-image-2");
    click(h, "Add image");
    run_until(h, "the refusal", |app| app.forms.results.values().any(|r| r.is_err()));
    let failure = h.state().forms.results.values().next().unwrap().clone().unwrap_err();
    assert_eq!(failure.code.as_deref(), Some("ImageAlreadyExists"), "{failure:?}");
    h.get_by_label_contains("ImageAlreadyExists —");
}

#[test]
fn ens_import_states_its_limits_and_imports_from_oss() {
    let mut s = setup("form-ens", true);
    let h = &mut s.harness;
    open(h, "Import image (ENS)…");
    replace_text(h, "Image name", "edge-web");
    replace_text(h, "OSS bucket", "imagedesk-demo-bj");
    replace_text(h, "OSS object", "images/edge-node.qcow2");
    // ENS reads from OSS in cn-beijing only: another region is refused under its field.
    replace_text(h, "OSS region", "cn-hangzhou");
    let errors = h.state().forms.ens_import.as_ref().unwrap().validate();
    let message = errors.iter().find(|e| e.field == "OSSRegion").map(|e| e.en.clone());
    let message = message.expect("an OSS region other than cn-beijing is refused by the form");
    h.get_by_label(&message);
    replace_text(h, "OSS region", "cn-beijing");
    let form = h.state().forms.ens_import.clone().unwrap();
    assert!(form.validate().is_empty(), "{:?}", form.validate());
    h.get_by_label(&form.cli_command());
    click(h, "Import");
    run_until(h, "the answer", |app| !app.forms.busy.iter().any(|_| true) && !app.forms.results.is_empty());
    let result = h.state().forms.results.values().next().unwrap().clone();
    let done = result.expect("ENS accepted the import");
    assert!(done.image_id.is_some());
    run_until(h, "the inventory to show it", |app| {
        !app.inventory.any_loading()
            && app.inventory.rows().iter().any(|r| r.product == Product::Ens && r.name == "edge-web")
    });
}

#[test]
fn the_app_resumes_an_unfinished_job_it_finds_at_start() {
    let dir = TempDir::new("form-resume");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut config = SandboxConfig::new(dir.path().join("sandbox"));
    config.time_scale = 60.0;
    let sandbox = runtime.block_on(Sandbox::start(config)).unwrap();
    let backend = Backend::SandboxAt(sandbox.url());
    // A job left behind by an earlier session (stopped before it imported anything).
    let store = JobStore::new(dir.path().join("jobs"));
    let mut params = Params::new();
    params.insert("RegionId", "cn-hangzhou");
    params.insert("ImageName", "left-behind");
    params.insert("DiskDeviceMapping.1.OSSBucket", "imagedesk-demo-hz");
    params.insert("DiskDeviceMapping.1.OSSObject", "images/centos-7.9.qcow2");
    params.insert("DiskDeviceMapping.1.DiskImageSize", "40");
    let job = imagedesk::jobs::import::ImportJob::new(
        backend.job_owner(),
        "cn-hangzhou",
        "left-behind",
        vec![imagedesk::jobs::import::JobDisk::in_oss("imagedesk-demo-hz", "images/centos-7.9.qcow2")],
        params,
        imagedesk::jobs::import::AfterSteps { family: Some("restored".into()), ..Default::default() },
    );
    store.save(&job).unwrap();
    let options = WorkerOptions {
        jobs: Some(store.clone()),
        job_poll: Some(std::time::Duration::from_millis(50)),
        ..WorkerOptions::default()
    };
    let mut h = app(backend, options, Lang::En);
    run_until(&mut h, "the resumed job to finish", |app| {
        app.import_jobs.iter().any(|j| j.id == job.id && j.stage.is_terminal())
    });
    let finished = store.load_all().jobs.into_iter().find(|j| j.id == job.id).unwrap();
    assert_eq!(finished.stage, Stage::Done, "{:?}", finished.failure);
    assert!(finished.after.family_done, "the after-step ran");
    run_until(&mut h, "the inventory", |app| {
        !app.inventory.any_loading() && has_row(app, Product::Ecs, "left-behind", Status::Available)
    });
    drop(h);
    runtime.block_on(sandbox.shutdown());
}

#[test]
fn the_oss_browser_lists_buckets_and_objects_and_picks_one() {
    let mut s = setup("form-oss", true);
    let h = &mut s.harness;
    open(h, "Import image (ECS)…");
    h.get_by_label("Object in OSS").click();
    settle(h);
    click(h, "Browse OSS…");
    run_until(h, "the buckets", |app| !app.forms.oss.busy && !app.forms.oss.buckets.is_empty());
    assert!(
        h.state().forms.oss.buckets.contains(&"imagedesk-demo-hz".to_owned()),
        "{:?}",
        h.state().forms.oss.buckets
    );
    h.get_by_label("imagedesk-demo-hz").click();
    settle(h);
    run_until(h, "the objects", |app| !app.forms.oss.busy && !app.forms.oss.objects.is_empty());
    let (key, size) =
        h.state().forms.oss.objects.iter().find(|(k, _)| k == "images/centos-7.9.qcow2").cloned().unwrap();
    assert!(size > 0, "sizes are read from the listing");
    h.get_by_label(&key).click();
    settle(h);
    let form = h.state().forms.ecs_import.clone().unwrap();
    assert_eq!(form.disks[0].oss_location(), ("imagedesk-demo-hz", "images/centos-7.9.qcow2"));
    assert!(!h.state().forms.oss.open, "the browser closes on a pick");
}
