//! Listing 5 000 images through the real sandbox with 50 ms added to every request: the
//! concurrent pager (page 1 for the total, then the rest `page_concurrency` at a time) next to a
//! sequential one (`page_concurrency` = 1), measured in the same run, alternating, median of
//! rounds. Also the time at other concurrencies, for the chart.
//!
//! `cargo bench --bench pager` (optional args: images latency_ms rounds). Writes
//! `target/bench-results/pager.csv`; `python3 benches/chart.py` draws it.

// A bench whose setup fails has nothing to measure: stopping with the reason is right.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use imagedesk::Credential;
use imagedesk::client::{Client, Profile, StaticCredentials};
use imagedesk::protocol::ops::ecs::{DescribeImages, ImageOwnerAlias, ImageStatus};
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Sandbox, SandboxConfig};

fn client_with(url: &str, page_concurrency: usize) -> Client {
    let mut profile = Profile::new("bench", "cn-hangzhou");
    profile.endpoint = Some(url.to_owned());
    profile.page_concurrency = page_concurrency;
    let key = Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET);
    Client::new(profile, std::sync::Arc::new(StaticCredentials::new(key))).expect("client")
}

fn own_images() -> DescribeImages {
    DescribeImages {
        region_id: "cn-hangzhou".into(),
        image_owner_alias: Some(ImageOwnerAlias::SelfOwned),
        status: ImageStatus::all(),
        ..Default::default()
    }
}

/// One whole listing: its duration and the IDs in order.
async fn listing(client: &Client) -> (Duration, Vec<String>) {
    let started = Instant::now();
    let images = client.list_all(own_images()).await.expect("listing");
    (started.elapsed(), images.into_iter().map(|i| i.image_id).collect())
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let images = args.first().copied().unwrap_or(5_000) as usize;
    let latency_ms = args.get(1).copied().unwrap_or(50);
    let rounds = args.get(2).copied().unwrap_or(3) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let dir = std::env::temp_dir().join(format!("imagedesk-bench-pager-{}", std::process::id()));
        let mut config = SandboxConfig::new(&dir);
        config.extra_images = images;
        config.faults.latency_ms = latency_ms;
        let sandbox = Sandbox::start(config).await.expect("sandbox starts");
        let url = sandbox.url();
        let default_concurrency = Profile::new("d", "cn-hangzhou").page_concurrency;

        let sequential = client_with(&url, 1);
        let concurrent = client_with(&url, default_concurrency);
        let (_, reference) = listing(&sequential).await; // warm-up, and the expected answer
        let pages = reference.len().div_ceil(100);
        println!(
            "pager: {} images ({pages} pages of 100) at {latency_ms} ms per request; default page_concurrency {default_concurrency}",
            reference.len()
        );
        let (mut seq_times, mut conc_times) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let (t, ids) = listing(&sequential).await;
            assert_eq!(ids, reference, "the sequential pager's listing changed");
            seq_times.push(t);
            let (t, ids) = listing(&concurrent).await;
            assert_eq!(ids, reference, "the concurrent pager returns every image once, in order");
            conc_times.push(t);
        }
        let (seq, conc) = (median(seq_times), median(conc_times));
        let ratio = seq.as_secs_f64() / conc.as_secs_f64();
        println!(
            "pager: sequential {:.0} ms, concurrent ({default_concurrency} at a time) {:.0} ms (medians of {rounds}) => {ratio:.1}x (target >= 6x)",
            seq.as_secs_f64() * 1e3,
            conc.as_secs_f64() * 1e3
        );

        // The curve: median listing time per page concurrency.
        let mut csv = String::from("page_concurrency,median_ms,ideal_ms\n");
        for c in [1usize, 2, 4, 8, 10, 16] {
            let client = client_with(&url, c);
            let mut times = Vec::new();
            for _ in 0..rounds {
                times.push(listing(&client).await.0);
            }
            let t = median(times).as_secs_f64() * 1e3;
            // Page 1 alone, then the rest in waves of `c`, each wave one request's time.
            let per_request = seq.as_secs_f64() * 1e3 / pages as f64;
            let ideal = per_request * (1 + (pages - 1).div_ceil(c)) as f64;
            println!("pager: page_concurrency {c:>2}: {t:>6.0} ms (ideal {ideal:.0} ms)");
            csv.push_str(&format!("{c},{t:.1},{ideal:.1}\n"));
        }
        let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("bench-results");
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or(out, |d| std::path::PathBuf::from(d).join("bench-results"));
        if std::fs::create_dir_all(&target).is_ok() && std::fs::write(target.join("pager.csv"), csv).is_ok() {
            println!("pager: wrote {}", target.join("pager.csv").display());
        }
        sandbox.shutdown().await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
