#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Security checks against real servers on loopback: plain HTTP only where it is safe or asked
//! for, TLS certificates always verified (a private CA trusted only when the profile names it),
//! and a server whose clock is 20 minutes off met with one correction, a clear message, and no
//! storm of retries. (Secrets in files, logs and output: tests/secret_hygiene.rs and the soak.)

mod common_app;
mod common_sandbox;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common_app::app;
use common_sandbox::{TempDir, demo_config, demo_key, profile, start};
use egui_kittest::kittest::Queryable as _;
use futures_util::future::join_all;
use imagedesk::app::i18n::Lang;
use imagedesk::app::worker::{Backend, WorkerOptions};
use imagedesk::client::oss::OssRequest;
use imagedesk::client::{Client, ClientError, EndpointError, Profile, StaticCredentials};
use imagedesk::protocol::ops::ecs::{DescribeImages, ImageStatus};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

const TEST_CA: &[u8] = include_bytes!("fixtures/tls/ca.pem");
const SERVER_CERT: &[u8] = include_bytes!("fixtures/tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("fixtures/tls/server.key");
/// A CA that did not sign the server's certificate.
const OTHER_CA: &[u8] = include_bytes!("fixtures/private-cloud-ca.pem");

fn list() -> DescribeImages {
    DescribeImages { region_id: "cn-hangzhou".into(), status: ImageStatus::all(), ..Default::default() }
}

fn client_at(endpoint: &str, allow_insecure_http: bool) -> Client {
    let mut profile = Profile::new("security", "cn-hangzhou");
    profile.endpoint = Some(endpoint.to_owned());
    profile.allow_insecure_http = allow_insecure_http;
    profile.connect_timeout_ms = 2_000;
    Client::new(profile, Arc::new(StaticCredentials::new(demo_key()))).unwrap()
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback_unless_the_profile_opts_in() {
    for host in ["http://ecs.cn-hangzhou.aliyuncs.com", "http://10.0.0.5:8080", "http://[2001:db8::1]"] {
        let error = client_at(host, false).call(list()).await.unwrap_err();
        assert!(
            matches!(error, ClientError::Endpoint(EndpointError::InsecureHttp { .. })),
            "{host}: {error}"
        );
        assert!(error.to_string().contains("refusing plain HTTP"), "{error}");
    }
    // Opted in: the request is attempted (here it cannot resolve, which is a network error).
    let error = client_at("http://imagedesk-test.invalid", true).call(list()).await.unwrap_err();
    assert!(matches!(error, ClientError::Transport { .. }), "{error}");
    // Loopback needs no opt-in (the sandbox).
    let dir = TempDir::new("security-http");
    let sandbox = start(demo_config(&dir, 1.0)).await;
    assert!(client_at(&sandbox.url(), false).call(list()).await.is_ok());
}

/// TLS on 127.0.0.1 in front of the sandbox, with a certificate from the test CA. Counts
/// handshakes begun, to show a refused certificate is not tried again and again.
async fn tls_front(backend: std::net::SocketAddr) -> (String, Arc<AtomicU64>) {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(SERVER_CERT).collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap();
    let config = ServerConfig::builder().with_no_client_auth().with_single_cert(certs, key).unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let handshakes = Arc::new(AtomicU64::new(0));
    let counter = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::Relaxed);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (url, handshakes)
}

#[tokio::test]
async fn tls_certificates_are_verified_and_a_private_ca_is_trusted_only_when_configured() {
    let dir = TempDir::new("security-tls");
    let sandbox = start(demo_config(&dir, 1.0)).await;
    let (url, handshakes) = tls_front(sandbox.addr).await;
    let with_ca = |pem: Option<&[u8]>| {
        let mut profile = Profile::new("tls", "cn-hangzhou");
        profile.endpoint = Some(url.clone());
        Client::with_extra_roots(profile, Arc::new(StaticCredentials::new(demo_key())), pem).unwrap()
    };

    // No CA configured: the system's roots do not know the test CA.
    let error = with_ca(None).call(list()).await.unwrap_err();
    assert!(matches!(error, ClientError::Tls { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("TLS certificate of 127.0.0.1") && message.contains("not trusted"), "{message}");
    assert!(message.contains("set that CA certificate in the profile"), "{message}");
    assert_eq!(handshakes.load(Ordering::Relaxed), 1, "an untrusted certificate is not tried again");

    // Some other private CA configured: still refused.
    let error = with_ca(Some(OTHER_CA)).call(list()).await.unwrap_err();
    assert!(matches!(error, ClientError::Tls { .. }), "{error}");

    // The CA that signed it configured: a real, signed call over TLS.
    let images = with_ca(Some(TEST_CA)).call(list()).await.unwrap().images;
    assert!(!images.is_empty());
}

#[tokio::test]
async fn a_server_20_minutes_ahead_costs_one_correction_not_a_retry_storm() {
    let dir = TempDir::new("security-clock");
    let mut config = demo_config(&dir, 1.0);
    config.clock_offset_secs = 20 * 60;
    let sandbox = start(config).await;
    let mut settings = profile(&sandbox, "cn-hangzhou");
    settings.retry.max_attempts = 8;
    let client = common_sandbox::client_for(settings, demo_key());

    // Ten calls at once, before anything is known: each is refused once at most.
    let answers = join_all((0..10).map(|_| client.call(list()))).await;
    assert!(answers.iter().all(Result::is_ok), "{:?}", answers.iter().find(|a| a.is_err()));
    let first = sandbox.requests_served();
    assert!((11..=20).contains(&first), "10 calls took {first} requests");
    let offset = client.clock_offset_secs();
    assert!((1190..=1210).contains(&offset), "learnt offset {offset}");

    // From then on every call, RPC and OSS, is accepted the first time.
    for _ in 0..10 {
        client.call(list()).await.unwrap();
    }
    let head = OssRequest {
        method: "HEAD".into(),
        bucket: Some("imagedesk-demo-hz".into()),
        key: "images/centos-7.9.qcow2".into(),
        ..OssRequest::default()
    };
    client.oss(Some("cn-hangzhou"), &head).await.unwrap();
    assert_eq!(sandbox.requests_served() - first, 11, "one request per call once corrected");

    // Without the correction the server's refusal is the answer, after one resync attempt.
    let fresh = common_sandbox::demo_client(&sandbox);
    let before = sandbox.requests_served();
    fresh.call(list()).await.unwrap();
    assert_eq!(sandbox.requests_served() - before, 2, "refused once, corrected once");
}

#[test]
fn the_app_says_when_the_clock_is_off() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = TempDir::new("security-clock-ui");
    let mut config = demo_config(&dir, 1.0);
    config.clock_offset_secs = 20 * 60;
    let sandbox = runtime.block_on(start(config));
    let mut harness = app(Backend::SandboxAt(sandbox.url()), WorkerOptions::default(), Lang::En);
    common_app::run_until(&mut harness, "the clock notice", |app| app.clock_offset_secs.is_some());
    common_app::settle(&mut harness);
    let notice = "This computer's clock is about 20 min behind the server's. ImageDesk adjusts its requests; correct the system time.";
    assert!(harness.query_all_by_label(notice).count() >= 1, "the notice is shown");
    assert_eq!(harness.state().inventory.errors().count(), 0, "and the listing worked");
    assert!(!harness.state().inventory.rows().is_empty());
    drop(harness);
    runtime.block_on(sandbox.shutdown());
}
