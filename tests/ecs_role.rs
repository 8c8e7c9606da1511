#![allow(clippy::unwrap_used, clippy::expect_used)]
//! EcsRamRole: credentials from a stand-in ECS metadata service (hardened mode with a session
//! token, and the plain mode), then used against the sandbox, which accepts them as STS keys.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use imagedesk::Credential;
use imagedesk::client::ecs_metadata::EcsRoleProvider;
use imagedesk::client::{Client, CredentialProvider, Profile};
use imagedesk::protocol::ops::ecs::DescribeRegions;
use imagedesk::sandbox::{Sandbox, SandboxConfig, StsGrant};

const ROLE: &str = "imagedesk-instance-role";
const TOKEN: &str = "metadata-session-token";

fn role_credentials() -> String {
    let expires = (chrono::Utc::now() + chrono::Duration::hours(6)).format("%Y-%m-%dT%H:%M:%SZ");
    format!(
        r#"{{"AccessKeyId":"STS.InstanceRole0001","AccessKeySecret":"instance-role-secret-000000000","SecurityToken":"instance-role-token","Expiration":"{expires}","LastUpdated":"2026-11-23T00:00:00Z","Code":"Success"}}"#
    )
}

/// A metadata service; `hardened` requires the session token on every read.
async fn metadata_service(hardened: bool) -> String {
    let check = move |headers: &HeaderMap| {
        !hardened || headers.get("X-aliyun-ecs-metadata-token").is_some_and(|t| t == TOKEN)
    };
    let mut app = Router::new()
        .route(
            "/latest/meta-data/ram/security-credentials/",
            get(move |headers: HeaderMap| async move {
                if check(&headers) {
                    (StatusCode::OK, format!("{ROLE}\n"))
                } else {
                    (StatusCode::UNAUTHORIZED, String::new())
                }
            }),
        )
        .route(
            &format!("/latest/meta-data/ram/security-credentials/{ROLE}"),
            get(move |headers: HeaderMap| async move {
                if check(&headers) {
                    (StatusCode::OK, role_credentials())
                } else {
                    (StatusCode::UNAUTHORIZED, String::new())
                }
            }),
        );
    if hardened {
        app = app.route(
            "/latest/api/token",
            put(|headers: HeaderMap| async move {
                assert!(headers.contains_key("X-aliyun-ecs-metadata-token-ttl-seconds"));
                TOKEN
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_instance_role_signs_requests_in_both_metadata_modes() {
    let dir = std::env::temp_dir().join(format!("imagedesk-ecs-role-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = SandboxConfig::new(&dir);
    config.sts_tokens.push(StsGrant {
        credential: Credential::new("STS.InstanceRole0001", "instance-role-secret-000000000")
            .with_security_token("instance-role-token"),
        expires_at: None,
    });
    let sandbox = Sandbox::start(config).await.unwrap();
    for (hardened, role) in [(true, ""), (false, ROLE)] {
        let metadata = metadata_service(hardened).await;
        let provider = Arc::new(EcsRoleProvider::new(metadata, role).unwrap());
        let mut profile = Profile::new("instance", "cn-hangzhou");
        profile.endpoint = Some(sandbox.url());
        let client = Client::new(profile, provider.clone()).unwrap();
        let regions = client.call(DescribeRegions::default()).await.unwrap();
        assert!(!regions.regions.is_empty(), "hardened={hardened}");
        assert_eq!(provider.current().unwrap().access_key_id, "STS.InstanceRole0001");
        assert!(provider.expires_at().unwrap() > chrono::Utc::now() + chrono::Duration::hours(5));
    }
    // Not on an instance: a clear error, not a hang.
    let nowhere = Arc::new(EcsRoleProvider::new("http://127.0.0.1:9", ROLE).unwrap());
    let mut profile = Profile::new("instance", "cn-hangzhou");
    profile.endpoint = Some(sandbox.url());
    let error = Client::new(profile, nowhere).unwrap().call(DescribeRegions::default()).await.unwrap_err();
    assert!(error.to_string().contains("metadata service"), "{error}");
    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
