//! How many signed RPC requests per second the sandbox serves, next to a bare loopback HTTP
//! server measured in the same run (the ratio is what to compare across machines).
//!
//! `cargo bench --bench sandbox_rpc` (optional args: seconds concurrency)

// A bench whose setup fails has nothing to measure: stopping with the reason is right.
#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use imagedesk::Credential;
use imagedesk::client::{Client, Profile, StaticCredentials};
use imagedesk::protocol::ops::ecs::DescribeRegions;
use imagedesk::protocol::sign::RpcSignature;
use imagedesk::sandbox::{Sandbox, SandboxConfig};

async fn hammer<F, Fut>(seconds: u64, concurrency: usize, call: F) -> (f64, u64)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let call = Arc::new(call);
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (call, done, failed) = (call.clone(), done.clone(), failed.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if call().await {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    (done.load(Ordering::Relaxed) as f64 / elapsed, failed.load(Ordering::Relaxed))
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let seconds = args.first().copied().unwrap_or(5);
    let concurrency = args.get(1).copied().unwrap_or(8) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let dir = std::env::temp_dir().join(format!("imagedesk-bench-rpc-{}", std::process::id()));
        let mut config = SandboxConfig::new(&dir);
        let key = Credential::new("LTAIbench", "bench-secret");
        config.access_keys = vec![key.clone()];
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");

        // Baseline: a bare axum server answering a fixed JSON body on the same machine.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let bare_addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let app =
                axum::Router::new().fallback(|| async { r#"{"RequestId":"x","Regions":{"Region":[]}}"# });
            let _ = axum::serve(listener, app).await;
        });
        let http = reqwest::Client::new();
        let bare_url = format!("http://{bare_addr}/");
        let (bare_rps, _) = hammer(seconds, concurrency, move || {
            let (http, url) = (http.clone(), bare_url.clone());
            async move { http.post(url).send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;

        let mut results = Vec::new();
        for signature in [RpcSignature::Acs3, RpcSignature::RpcSha1] {
            let mut profile = Profile::new("bench", "cn-hangzhou");
            profile.endpoint = Some(sandbox.url());
            profile.rpc_signature = signature;
            profile.retry.max_attempts = 1;
            let client = Client::new(profile, Arc::new(StaticCredentials::new(key.clone()))).expect("client");
            let (rps, failed) = hammer(seconds, concurrency, move || {
                let client = client.clone();
                async move { client.call(DescribeRegions::default()).await.is_ok() }
            })
            .await;
            results.push((signature, rps, failed));
        }
        println!(
            "sandbox RPC throughput ({seconds} s per run, {concurrency} concurrent clients, 2-core machine)"
        );
        println!("  bare loopback HTTP server : {bare_rps:>9.0} req/s (baseline)");
        for (signature, rps, failed) in results {
            println!(
                "  sandbox DescribeRegions {:<8}: {rps:>9.0} req/s = {:.2} × baseline ({failed} failed)",
                format!("{signature:?}"),
                rps / bare_rps
            );
        }
        sandbox.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
