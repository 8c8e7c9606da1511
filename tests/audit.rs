#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every mutating call lands in the audit log (success with its RequestId, failure with its
//! code), reads do not, and no secret is written.

use std::sync::Arc;

use imagedesk::Credential;
use imagedesk::Secret;
use imagedesk::client::audit::AuditOutcome;
use imagedesk::client::{Client, Profile, StaticCredentials};
use imagedesk::jobs::audit::AuditLog;
use imagedesk::protocol::ops::ecs::{DeleteImage, DescribeImages, ModifyImageAttribute};
use imagedesk::protocol::ops::ehpc::{AddImage, ContainerImageSpec, RegistryCredential};
use imagedesk::protocol::params::JsonString;
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Sandbox, SandboxConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutating_calls_are_audited_without_secrets() {
    let dir = std::env::temp_dir().join(format!("imagedesk-audit-it-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sandbox = Sandbox::start(SandboxConfig::new(dir.join("sandbox"))).await.unwrap();
    let mut profile = Profile::new("audited", "cn-hangzhou");
    profile.endpoint = Some(sandbox.url());
    profile.retry.max_attempts = 1;
    let log = Arc::new(AuditLog::new(dir.join("audit.jsonl")));
    let credentials =
        Arc::new(StaticCredentials::new(Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)));
    let client = Client::new(profile, credentials).unwrap().with_audit(log.clone());

    client.list_all(DescribeImages { region_id: "cn-hangzhou".into(), ..Default::default() }).await.unwrap();
    let renamed = ModifyImageAttribute {
        region_id: "cn-hangzhou".into(),
        image_id: "m-demo0002".into(),
        description: Some("audited change".into()),
        ..Default::default()
    };
    client.call(renamed).await.unwrap();
    let bad_name = ModifyImageAttribute {
        region_id: "cn-hangzhou".into(),
        image_id: "m-demo0002".into(),
        image_name: Some("1-starts-with-a-digit".into()),
        ..Default::default()
    };
    client.call(bad_name).await.unwrap_err();
    let delete =
        DeleteImage { region_id: "cn-hangzhou".into(), image_id: "m-demo0003".into(), ..Default::default() };
    let _ = client.call(delete).await;
    let registry_password = "registry-password-never-logged";
    let add = AddImage {
        region_id: "cn-hangzhou".into(),
        name: "audited-container".into(),
        container_image_spec: Some(JsonString(ContainerImageSpec {
            registry_url: Some("registry.example.com/team/app:1".into()),
            registry_credential: Some(RegistryCredential {
                server: Some("registry.example.com".into()),
                user_name: Some("ci".into()),
                password: Some(Secret::new(registry_password)),
            }),
            ..Default::default()
        })),
        ..Default::default()
    };
    let _ = client.call(add).await;

    let read = log.read().unwrap();
    let actions: Vec<&str> = read.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["ModifyImageAttribute", "ModifyImageAttribute", "DeleteImage", "AddImage"],
        "reads are not audited"
    );
    let modify = &read.entries[0];
    assert_eq!((modify.profile.as_str(), modify.region.as_str()), ("audited", "cn-hangzhou"));
    assert_eq!(modify.outcome, AuditOutcome::Success);
    assert!(modify.request_id.as_deref().is_some_and(|id| !id.is_empty()));
    assert_eq!(modify.params["Description"], "audited change");
    match &read.entries[1].outcome {
        AuditOutcome::Error { code, .. } => assert!(code.starts_with("InvalidImageName"), "{code}"),
        other => panic!("{other:?}"),
    }
    let text = std::fs::read_to_string(log.path()).unwrap();
    for secret in [DEMO_ACCESS_KEY_SECRET, registry_password] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
    assert!(text.contains("registry.example.com/team/app:1"), "non-secret parts of JSON parameters stay");
    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
