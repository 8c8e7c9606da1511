#![allow(clippy::unwrap_used, clippy::expect_used)]
//! RamRoleArn against the sandbox's STS: AssumeRole on first use, the temporary credentials sign
//! the calls, renewal when the server says they expired, and AssumeRole's own errors surface.

use std::sync::Arc;

use imagedesk::Credential;
use imagedesk::client::assume_role::AssumeRoleProvider;
use imagedesk::client::diagnose::Verdict;
use imagedesk::client::{Client, CredentialProvider, Profile, StaticCredentials};
use imagedesk::protocol::ops::ecs::{DescribeImages, ImageOwnerAlias};
use imagedesk::protocol::ops::sts::AssumeRole;
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Sandbox, SandboxConfig};

fn profile(url: &str) -> Profile {
    let mut profile = Profile::new("role", "cn-hangzhou");
    profile.endpoint = Some(url.to_owned());
    profile
}

fn role_client(url: &str, secret: &str, role_arn: &str) -> (Client, Arc<AssumeRoleProvider>) {
    let signer = Arc::new(StaticCredentials::new(Credential::new(DEMO_ACCESS_KEY_ID, secret)));
    let sts = Client::new(profile(url), signer).unwrap();
    let request = AssumeRole {
        role_arn: role_arn.into(),
        role_session_name: "imagedesk-test".into(),
        duration_seconds: Some(900),
        ..AssumeRole::default()
    };
    let provider = Arc::new(AssumeRoleProvider::new(sts, request));
    (Client::new(profile(url), provider.clone()).unwrap(), provider)
}

fn own_images() -> DescribeImages {
    DescribeImages {
        region_id: "cn-hangzhou".into(),
        image_owner_alias: Some(ImageOwnerAlias::SelfOwned),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ram_role_credentials_are_assumed_used_and_renewed() {
    let dir = std::env::temp_dir().join(format!("imagedesk-sts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sandbox = Sandbox::start(SandboxConfig::new(&dir)).await.unwrap();
    let url = sandbox.url();

    let (client, provider) =
        role_client(&url, DEMO_ACCESS_KEY_SECRET, "acs:ram::1234567890123456:role/image-admin");
    assert!(provider.current().is_err(), "nothing assumed before the first call");
    let images = client.list_all(own_images()).await.unwrap();
    assert!(!images.is_empty());
    let first = provider.current().unwrap();
    assert!(first.access_key_id.starts_with("STS."), "{}", first.access_key_id);
    let expires = provider.expires_at().unwrap();
    let lifetime = (expires - chrono::Utc::now()).num_seconds();
    assert!((880..=900).contains(&lifetime), "asked for 900 s, got {lifetime}");
    client.list_all(own_images()).await.unwrap();
    assert_eq!(provider.current().unwrap().access_key_id, first.access_key_id, "reused while valid");

    // The server says the token expired: the client assumes the role again and carries on.
    sandbox.expire_sts_credentials();
    client.list_all(own_images()).await.unwrap();
    let second = provider.current().unwrap();
    assert_ne!(second.access_key_id, first.access_key_id, "renewed");

    // AssumeRole's own errors reach the caller, classified for "Test connection".
    let (bad_role, _) = role_client(&url, DEMO_ACCESS_KEY_SECRET, "acs:ram::not-digits:role/x");
    let error = bad_role.list_all(own_images()).await.unwrap_err();
    assert!(error.to_string().contains("InvalidParameter.RoleArn"), "{error}");
    let (wrong_secret, _) = role_client(&url, "not-the-secret-000000000000000", "acs:ram::1:role/x");
    assert_eq!(wrong_secret.test_connection().await.verdict, Verdict::WrongSecret);
    let (good, _) = role_client(&url, DEMO_ACCESS_KEY_SECRET, "acs:ram::1:role/x");
    assert_eq!(good.test_connection().await.verdict, Verdict::Connected);

    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
