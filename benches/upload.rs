//! Upload of a large file to the sandbox (a separate process), measured in one run:
//! ImageDesk's resumable multipart upload, raw `curl -T` PUT, and Alibaba's official
//! `oss2.resumable_upload` with the same part size and thread count; plus ImageDesk's peak RSS.
//!
//! `cargo bench --bench upload` (optional args: size in MiB (default 2048), part MiB (8), threads (4)).
//! Needs curl and python3; the oss2 venv is the interop suite's (created if missing).

// A bench whose setup fails has nothing to measure: stopping with the reason is right.
#![allow(clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imagedesk::Credential;
use imagedesk::client::{Client, Profile, StaticCredentials};
use imagedesk::jobs::upload::{Control, UploadSpec, upload};
use imagedesk::protocol::sign::{oss_v1, rpc};
use imagedesk::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET};

const BUCKET: &str = "imagedesk-demo-hz";

fn mib_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64()
}

/// Peak resident set (VmHWM) of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Reset the peak so only the upload counts (Linux ≥ 4.0).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn start_sandbox(dir: &Path) -> (std::process::Child, String) {
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_imagedesk-sandbox"))
        .args(["--port", &port.to_string(), "--data-dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start imagedesk-sandbox");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (child, url);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the sandbox did not start");
}

fn oss2_python(root: &Path) -> PathBuf {
    let venv = std::env::var_os("IMAGEDESK_INTEROP_VENV").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/imagedesk-interop-venv")
    });
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "-r"])
                .arg(root.join("tests/interop/requirements.txt"))
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "could not create the oss2 venv at {}", venv.display());
    }
    python
}

const OSS2_SCRIPT: &str = r#"
import sys, time, oss2
url, path, part, threads, store = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
bucket = oss2.Bucket(oss2.Auth("LTAI5tImageDeskDemo", "imagedesk-sandbox-demo-secret"), url, "imagedesk-demo-hz")
t = time.time()
oss2.resumable_upload(bucket, "bench/oss2.bin", path, store=oss2.ResumableStore(root=store),
                      multipart_threshold=part, part_size=part, num_threads=threads)
print(time.time() - t)
"#;

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let mib = args.first().copied().unwrap_or(2048);
    let part_mib = args.get(1).copied().unwrap_or(8);
    let threads = args.get(2).copied().unwrap_or(4) as usize;
    let bytes = mib * 1024 * 1024;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("imagedesk-bench-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("disk.raw");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("create file"));
        let mut block = vec![0u8; 1 << 20];
        for i in 0..mib {
            for (j, b) in block.iter_mut().enumerate() {
                *b = (i as usize * 131 + j * 7 + (j >> 9)) as u8;
            }
            out.write_all(&block).expect("write file");
        }
        out.flush().expect("flush");
        // Start every contender with the file on disk and no dirty pages pending: otherwise
        // whoever runs first pays for the kernel's writeback of the source file.
        out.get_ref().sync_all().expect("sync file");
    }
    let settle = || {
        let _ = Command::new("sync").status();
    };
    settle();
    let python = oss2_python(&root);
    let (mut sandbox, url) = start_sandbox(&dir.join("sandbox"));

    // ImageDesk.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    reset_peak_rss();
    let rss_before = peak_rss_kib();
    let (imagedesk_time, outcome, parts_phase) = runtime.block_on(async {
        let mut profile = Profile::new("bench", "cn-hangzhou");
        profile.oss_endpoint = Some(url.clone());
        let credential = Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET);
        let client = Client::new(profile, Arc::new(StaticCredentials::new(credential))).expect("client");
        let mut spec = UploadSpec::new(&file, BUCKET, "bench/imagedesk.bin");
        spec.part_size = Some(part_mib * 1024 * 1024);
        spec.concurrency = threads;
        spec.checkpoint_path = dir.join("imagedesk.checkpoint.json");
        let (events, mut rx) = tokio::sync::mpsc::channel(64);
        // When the last part finished: the rest of the time is CompleteMultipartUpload.
        let drain = tokio::spawn(async move {
            let mut last_part = None;
            while let Some(event) = rx.recv().await {
                if matches!(event, imagedesk::jobs::upload::UploadEvent::PartDone { .. }) {
                    last_part = Some(Instant::now());
                }
            }
            last_part
        });
        let (_control, watch) = tokio::sync::watch::channel(Control::Run);
        let started = Instant::now();
        let outcome = upload(&client, spec, events, watch).await.expect("ImageDesk upload");
        let elapsed = started.elapsed();
        let parts_phase = drain.await.ok().flatten().map(|t| t - started).unwrap_or(elapsed);
        (elapsed, outcome, parts_phase)
    });
    let rss_peak = peak_rss_kib();

    settle();
    // curl -T with a presigned PUT.
    let expires = chrono::Utc::now().timestamp() + 3600;
    let credential = Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET);
    let (query, _) = oss_v1::presign_query("PUT", BUCKET, "bench/curl.bin", &[], expires, &credential);
    let presigned = format!(
        "{url}/{BUCKET}/bench/curl.bin?{}",
        rpc::encode_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    );
    let started = Instant::now();
    let curl = Command::new("curl")
        .args(["-sf", "-o", "/dev/null", "-H", "Expect:", "-T"])
        .arg(&file)
        .arg(&presigned)
        .status()
        .expect("run curl");
    let curl_time = started.elapsed();
    assert!(curl.success(), "curl PUT failed");

    settle();
    // oss2.resumable_upload, same part size and threads.
    let oss2 = Command::new(&python)
        .arg("-c")
        .arg(OSS2_SCRIPT)
        .arg(&url)
        .arg(&file)
        .arg((part_mib * 1024 * 1024).to_string())
        .arg(threads.to_string())
        .arg(dir.join("oss2-store"))
        .output()
        .expect("run oss2");
    assert!(oss2.status.success(), "oss2 failed: {}", String::from_utf8_lossy(&oss2.stderr));
    let oss2_secs: f64 = String::from_utf8_lossy(&oss2.stdout).trim().parse().expect("oss2 timing");
    let oss2_time = Duration::from_secs_f64(oss2_secs);

    let _ = sandbox.kill();
    let _ = sandbox.wait();
    let _ = std::fs::remove_dir_all(&dir);

    let (ours, curl_rate, oss2_rate) =
        (mib_s(bytes, imagedesk_time), mib_s(bytes, curl_time), mib_s(bytes, oss2_time));
    println!(
        "upload of {mib} MiB to the sandbox (part {part_mib} MiB, {threads} threads; one run, same machine)"
    );
    println!(
        "  ImageDesk upload       : {ours:>7.1} MiB/s ({:.2} s, {} parts, CRC-64 {:#x} verified)",
        imagedesk_time.as_secs_f64(),
        outcome.parts_total,
        outcome.crc64
    );
    println!(
        "    of which parts       : {:>7.1} MiB/s ({:.2} s); CompleteMultipartUpload {:.2} s",
        mib_s(bytes, parts_phase),
        parts_phase.as_secs_f64(),
        (imagedesk_time - parts_phase).as_secs_f64()
    );
    println!("  curl -T (single PUT)   : {curl_rate:>7.1} MiB/s ({:.2} s)", curl_time.as_secs_f64());
    println!("  oss2.resumable_upload  : {oss2_rate:>7.1} MiB/s ({oss2_secs:.2} s)");
    println!(
        "  ratios                 : {:.2} × curl (target ≥ 0.9), {:.2} × oss2 (target ≥ 1.5)",
        ours / curl_rate,
        ours / oss2_rate
    );
    println!(
        "  ImageDesk peak RSS     : {:.1} MiB during the upload (process peak before it: {:.1} MiB; target ≤ 64)",
        rss_peak as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
}
