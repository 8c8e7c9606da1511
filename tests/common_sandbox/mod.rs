//! Shared helpers for the sandbox integration tests: a sandbox in its own temp dir, ImageDesk
//! clients pointed at it, error-code access and a polling helper.

#![allow(dead_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imagedesk::Credential;
use imagedesk::client::{Client, ClientError, Profile, RetryConfig, StaticCredentials};
use imagedesk::protocol::ops::ecs::{DescribeImages, Image, ImageStatus};
use imagedesk::sandbox::{
    DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, RunningSandbox, Sandbox, SandboxConfig,
};

/// A data dir removed when dropped (declare it before the sandbox so it outlives it).
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh, unique directory under the system temp dir.
    pub fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "imagedesk-sbtest-{name}-{}-{nanos}-{}",
            std::process::id(),
            rand_tail()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_tail() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn demo_key() -> Credential {
    Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
}

/// Demo key, demo seed, jobs `time_scale` times faster than real time.
pub fn demo_config(dir: &TempDir, time_scale: f64) -> SandboxConfig {
    let mut config = SandboxConfig::new(dir.path());
    config.time_scale = time_scale;
    config
}

pub async fn start(config: SandboxConfig) -> RunningSandbox {
    Sandbox::start(config).await.unwrap()
}

/// A profile for `region` pointing every RPC product and OSS at the sandbox.
pub fn profile(sb: &RunningSandbox, region: &str) -> Profile {
    let mut profile = Profile::new("sandbox", region);
    profile.endpoint = Some(sb.url());
    profile.oss_endpoint = Some(sb.url());
    profile.retry = RetryConfig { max_attempts: 3, base_delay_ms: 5, max_delay_ms: 20 };
    profile.request_timeout_ms = 10_000;
    profile
}

pub fn client_for(profile: Profile, credential: Credential) -> Client {
    Client::new(profile, Arc::new(StaticCredentials::new(credential))).unwrap()
}

/// The demo account's client in cn-hangzhou.
pub fn demo_client(sb: &RunningSandbox) -> Client {
    client_for(profile(sb, "cn-hangzhou"), demo_key())
}

/// The API error code of a failure (or a marker when it is not an API error).
pub fn code(error: &ClientError) -> &str {
    error.api().map(|e| e.code.as_str()).unwrap_or("<not an API error>")
}

pub fn status_and_code(error: &ClientError) -> (u16, &str) {
    (error.api().map_or(0, |e| e.http_status), code(error))
}

/// Poll `probe` every 20 ms until it yields `Some`, failing the test after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One ECS image by ID in any status, if the caller sees it in `region`.
pub async fn find_image(client: &Client, region: &str, id: &str) -> Option<Image> {
    let response = client
        .call(DescribeImages {
            region_id: region.into(),
            image_id: Some(id.into()),
            status: ImageStatus::all(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(response.images.len() <= 1, "one ID, at most one image: {:?}", response.images);
    response.images.into_iter().next()
}

/// Wait until the image has left `Creating`, returning it.
pub async fn settled_image(client: &Client, region: &str, id: &str, timeout: Duration) -> Image {
    eventually(&format!("{id} to leave Creating"), timeout, || async {
        find_image(client, region, id).await.filter(|i| i.status() != ImageStatus::Creating)
    })
    .await
}

/// Deterministic, incompressible-looking bytes (xorshift).
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
