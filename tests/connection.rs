#![allow(clippy::unwrap_used, clippy::expect_used)]
//! "Test connection" against the sandbox over loopback: a good key connects, a wrong secret is a
//! signature problem, an unknown key is reported as such, and the clock difference is measured.

use std::sync::Arc;

use imagedesk::Credential;
use imagedesk::client::diagnose::Verdict;
use imagedesk::client::{Client, Profile, StaticCredentials};
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Sandbox, SandboxConfig};

fn client(url: &str, id: &str, secret: &str) -> Client {
    let mut profile = Profile::new("test", "cn-hangzhou");
    profile.endpoint = Some(url.to_owned());
    profile.retry.max_attempts = 1;
    Client::new(profile, Arc::new(StaticCredentials::new(Credential::new(id, secret)))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_tells_good_keys_from_wrong_secrets_and_unknown_keys() {
    let dir = std::env::temp_dir().join(format!("imagedesk-connection-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sandbox = Sandbox::start(SandboxConfig::new(&dir)).await.unwrap();
    let url = sandbox.url();

    let good = client(&url, DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).test_connection().await;
    assert_eq!(good.verdict, Verdict::Connected, "{:?}", good.error);
    assert!(good.regions > 5);
    let skew = good.clock_skew_secs.expect("the sandbox sends Date");
    assert!(skew.abs() <= 2, "same machine, same clock: {skew} s");

    let wrong_secret =
        client(&url, DEMO_ACCESS_KEY_ID, "not-the-right-secret-000000000").test_connection().await;
    assert_eq!(wrong_secret.verdict, Verdict::WrongSecret, "{:?}", wrong_secret.error);
    assert!(wrong_secret.error.unwrap().contains("SignatureDoesNotMatch"));

    let unknown = client(&url, "LTAI5tNoSuchKeyAtAll000", DEMO_ACCESS_KEY_SECRET).test_connection().await;
    assert_eq!(unknown.verdict, Verdict::UnknownAccessKey, "{:?}", unknown.error);

    let nowhere =
        client("http://127.0.0.1:9", DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET).test_connection().await;
    assert_eq!(nowhere.verdict, Verdict::Network, "{:?}", nowhere.error);
    assert_eq!(nowhere.clock_skew_secs, None);

    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
