//! PUT throughput of one large object with curl against the sandbox, next to raw disk write
//! speed (`dd … conv=fdatasync`) measured in the same run, to show the sandbox is not the
//! bottleneck of upload benchmarks.
//!
//! `cargo bench --bench sandbox_put` (optional arg: size in MiB, default 1024). Needs curl and dd.

// A bench whose setup fails has nothing to measure: stopping with the reason is right.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use imagedesk::Credential;
use imagedesk::protocol::crc64::Crc64;
use imagedesk::protocol::sign::{oss_v1, rpc};
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Sandbox, SandboxConfig};

fn mib_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / seconds
}

fn main() {
    let mib: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1024);
    let bytes = mib * 1024 * 1024;
    let dir = std::env::temp_dir().join(format!("imagedesk-bench-put-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    // Source file with non-trivial content; its CRC is what OSS must report back.
    let source = dir.join("source.bin");
    let mut crc = Crc64::new();
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&source).expect("source file"));
        let mut block = vec![0u8; 1 << 20];
        for i in 0..mib {
            for (j, byte) in block.iter_mut().enumerate() {
                *byte = (i as usize * 31 + j * 7) as u8;
            }
            crc.update(&block);
            file.write_all(&block).expect("write source");
        }
        file.flush().expect("flush source");
    }

    // Raw disk write speed on the same filesystem.
    let dd_target = dir.join("dd.bin");
    let started = Instant::now();
    let dd = Command::new("dd")
        .arg("if=/dev/zero")
        .arg(format!("of={}", dd_target.display()))
        .arg("bs=1M")
        .arg(format!("count={mib}"))
        .arg("conv=fdatasync")
        .output()
        .expect("run dd");
    let dd_seconds = started.elapsed().as_secs_f64();
    assert!(dd.status.success(), "dd failed: {}", String::from_utf8_lossy(&dd.stderr));
    let _ = std::fs::remove_file(&dd_target);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let (curl_seconds, http_code, reported_crc) = runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig::new(dir.join("sandbox"))).await.expect("sandbox starts");
        let credential = Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET);
        let expires = chrono::Utc::now().timestamp() + 3600;
        let (query, _) =
            oss_v1::presign_query("PUT", "imagedesk-demo-hz", "bench/large.bin", &[], expires, &credential);
        let url = format!(
            "{}/imagedesk-demo-hz/bench/large.bin?{}",
            sandbox.url(),
            rpc::encode_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        );
        let source = source.clone();
        let (seconds, output) = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let output = Command::new("curl")
                .args(["-s", "-D", "-", "-o", "/dev/null", "-H", "Expect:", "-T"])
                .arg(&source)
                .arg(&url)
                .output()
                .expect("run curl");
            (started.elapsed().as_secs_f64(), output)
        })
        .await
        .expect("curl task");
        let headers = String::from_utf8_lossy(&output.stdout).to_string();
        let code = headers.split_whitespace().nth(1).unwrap_or("?").to_owned();
        let crc = headers
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("x-oss-hash-crc64ecma:").map(|v| v.trim().to_owned())
            })
            .unwrap_or_default();
        sandbox.shutdown().await;
        (seconds, code, crc)
    });
    let _ = std::fs::remove_dir_all(&dir);

    let dd_rate = mib_per_s(bytes, dd_seconds);
    let put_rate = mib_per_s(bytes, curl_seconds);
    println!("large PUT against the sandbox ({mib} MiB, same filesystem, one run)");
    println!("  dd if=/dev/zero bs=1M conv=fdatasync : {dd_rate:>8.1} MiB/s ({dd_seconds:.2} s)");
    println!(
        "  curl -T → sandbox PutObject          : {put_rate:>8.1} MiB/s ({curl_seconds:.2} s, HTTP {http_code}) = {:.2} × dd",
        put_rate / dd_rate
    );
    println!(
        "  CRC-64 reported by the sandbox {} the file's ({})",
        if reported_crc == crc.value().to_string() { "matches" } else { "DOES NOT MATCH" },
        crc.value()
    );
}
