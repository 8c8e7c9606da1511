//! Client behaviour against a real HTTP server on loopback: retries, signatures, idempotency
//! tokens, paging, endpoint safety and the Apsara Stack request styles.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{Reply, Responder, Seen};
use imagedesk::Credential;
use imagedesk::client::credentials::{CredentialError, CredentialProvider, RefreshFuture};
use imagedesk::client::{
    Client, ClientError, EndpointError, Profile, RequestStyle, RetryConfig, StaticCredentials, Tenancy,
};
use imagedesk::protocol::Product;
use imagedesk::protocol::ops::RpcOperation;
use imagedesk::protocol::ops::ecs::{self, DescribeImages, ImageStatus, ImportDiskMapping};
use imagedesk::protocol::sign::RpcSignature;
use serde::{Deserialize, Serialize};

fn cred() -> Credential {
    Credential::new("LTAItest", "test-secret")
}

fn profile(url: &str) -> Profile {
    let mut p = Profile::new("test", "cn-hangzhou");
    p.endpoint = Some(url.to_owned());
    p.retry = RetryConfig { max_attempts: 4, base_delay_ms: 5, max_delay_ms: 20 };
    p
}

fn client(p: Profile) -> Client {
    Client::new(p, Arc::new(StaticCredentials::new(cred()))).unwrap()
}

/// A creating call with a ClientToken, like ImportImage.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Import {
    region_id: String,
    image_name: Option<String>,
    client_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImportResponse {
    #[serde(alias = "RequestID")]
    request_id: String,
    #[serde(default)]
    image_id: String,
}

impl RpcOperation for Import {
    const PRODUCT: Product = Product::Ecs;
    const ACTION: &'static str = "ImportImage";
    type Response = ImportResponse;
    fn region_id(&self) -> Option<&str> {
        Some(&self.region_id)
    }
    fn client_token_mut(&mut self) -> Option<&mut Option<String>> {
        Some(&mut self.client_token)
    }
}

fn import() -> Import {
    Import { region_id: "cn-hangzhou".into(), image_name: Some("demo 镜像*~".into()), client_token: None }
}

const OK_IMPORT: &str = r#"{"RequestId":"R-ok","ImageId":"m-123","TaskId":"t-1"}"#;

fn always(reply: &'static str) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |_| Reply::json(200, reply)
}

#[tokio::test]
async fn retries_throttling_and_503_with_fresh_signatures_and_one_client_token() {
    let server = Responder::start(
        vec![cred()],
        vec![
            Reply::error(400, "Throttling"),
            Reply::error(503, "ServiceUnavailable"),
            Reply::error(400, "Throttling.User"),
        ],
        0,
        always(OK_IMPORT),
    )
    .await;
    let response = client(profile(&server.url())).call(import()).await.unwrap();
    assert_eq!(response.image_id, "m-123");

    let seen = server.seen();
    assert_eq!(seen.len(), 4, "three retryable failures, then success");
    assert!(seen.iter().all(|s| s.signature_ok), "every attempt is validly signed");
    let nonces: std::collections::HashSet<_> = seen.iter().map(|s| s.nonce.clone()).collect();
    let signatures: std::collections::HashSet<_> = seen.iter().map(|s| s.signature.clone()).collect();
    assert_eq!(nonces.len(), 4, "a new nonce per attempt");
    assert_eq!(signatures.len(), 4, "a new signature per attempt");
    let token = seen[0].param("ClientToken").expect("a ClientToken is generated").to_owned();
    assert!(!token.is_empty() && token.len() <= 64 && token.is_ascii());
    assert!(seen.iter().all(|s| s.param("ClientToken") == Some(token.as_str())), "same token on every retry");
    assert_eq!(seen[0].param("ImageName"), Some("demo 镜像*~"));
    assert_eq!(seen[0].header("x-acs-action"), Some("ImportImage"));
    assert_eq!(seen[0].header("x-acs-version"), Some("2014-05-26"));
}

#[tokio::test]
async fn a_second_logical_call_gets_a_new_client_token_and_a_given_token_is_kept() {
    let server = Responder::start(vec![cred()], vec![], 0, always(OK_IMPORT)).await;
    let c = client(profile(&server.url()));
    c.call(import()).await.unwrap();
    c.call(import()).await.unwrap();
    let mut op = import();
    op.client_token = Some("my-token-1".into());
    c.call(op).await.unwrap();
    let seen = server.seen();
    assert_ne!(seen[0].param("ClientToken"), seen[1].param("ClientToken"));
    assert_eq!(seen[2].param("ClientToken"), Some("my-token-1"));
}

#[tokio::test]
async fn the_real_import_image_operation_keeps_its_token_across_retries() {
    let server = Responder::start(
        vec![cred()],
        vec![Reply::error(500, "InternalError")],
        0,
        always(r#"{"RequestId":"R","RegionId":"cn-hangzhou","ImageId":"m-9","ImportTaskId":"t-9"}"#),
    )
    .await;
    let op = ecs::ImportImage {
        region_id: "cn-hangzhou".into(),
        disk_device_mapping: vec![ImportDiskMapping {
            oss_bucket: "my-bucket".into(),
            oss_object: "images/centos 7*~.qcow2".into(),
            disk_image_size: Some(40),
            ..Default::default()
        }],
        image_name: Some("demo-镜像".into()),
        ..Default::default()
    };
    let response = client(profile(&server.url())).call(op).await.unwrap();
    assert_eq!((response.image_id.as_str(), response.task_id.as_str()), ("m-9", "t-9"));
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.signature_ok));
    assert_eq!(seen[0].param("ClientToken"), seen[1].param("ClientToken"));
    assert_eq!(seen[1].param("DiskDeviceMapping.1.OSSObject"), Some("images/centos 7*~.qcow2"));
    assert_eq!(seen[1].param("DiskDeviceMapping.1.DiskImageSize"), Some("40"));
}

#[tokio::test]
async fn no_retry_on_signature_mismatch() {
    let server = Responder::start(
        vec![cred()],
        vec![Reply::error(400, "SignatureDoesNotMatch")],
        0,
        always(OK_IMPORT),
    )
    .await;
    let err = client(profile(&server.url())).call(import()).await.unwrap_err();
    assert_eq!(err.api().map(|e| e.code.as_str()), Some("SignatureDoesNotMatch"));
    assert_eq!(server.seen().len(), 1, "a signing error is never retried");
}

#[tokio::test]
async fn wrong_secret_is_detected_by_the_server_side_verifier() {
    let server =
        Responder::start(vec![Credential::new("LTAItest", "other")], vec![], 0, always(OK_IMPORT)).await;
    client(profile(&server.url())).call(import()).await.unwrap();
    assert!(!server.seen()[0].signature_ok, "the verifier must reject a signature made with another secret");
}

#[tokio::test]
async fn gives_up_after_max_attempts_with_the_last_error() {
    let server = Responder::start(vec![cred()], vec![], 0, |_| Reply::error(500, "InternalError")).await;
    let err = client(profile(&server.url())).call(import()).await.unwrap_err();
    assert_eq!(err.api().map(|e| e.code.as_str()), Some("InternalError"));
    assert_eq!(server.seen().len(), 4);
}

#[tokio::test]
async fn html_gateway_errors_are_retried_and_reported_clearly() {
    let server = Responder::start(
        vec![cred()],
        vec![Reply::json(502, "<html>Bad Gateway</html>")],
        0,
        always(OK_IMPORT),
    )
    .await;
    client(profile(&server.url())).call(import()).await.unwrap();
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test]
async fn connection_failures_are_retried_then_reported() {
    // Bind then drop a listener: the port refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let err = client(profile(&format!("http://127.0.0.1:{port}"))).call(import()).await.unwrap_err();
    match err {
        ClientError::Transport { action, host, .. } => {
            assert_eq!(action, "ImportImage");
            assert_eq!(host, format!("127.0.0.1:{port}"));
        }
        other => panic!("expected a transport error, got {other}"),
    }
}

#[tokio::test]
async fn a_delete_whose_answer_was_lost_is_done_when_the_repeat_finds_nothing() {
    let delete =
        || ecs::DeleteImage { region_id: "cn-hangzhou".into(), image_id: "m-1".into(), ..Default::default() };
    let server = Responder::start(
        vec![cred()],
        vec![Reply::cut(), Reply::error(404, "InvalidImageId.NotFound")],
        0,
        always(r#"{"RequestId":"R"}"#),
    )
    .await;
    let answer = client(profile(&server.url())).call(delete()).await.unwrap();
    assert_eq!(answer.request_id, "R-InvalidImageId.NotFound");
    assert_eq!(server.seen().len(), 2);

    // Without a lost answer first, "not found" is the user's error.
    let server =
        Responder::start(vec![cred()], vec![Reply::error(404, "InvalidImageId.NotFound")], 0, always("{}"))
            .await;
    let error = client(profile(&server.url())).call(delete()).await.unwrap_err();
    assert_eq!(error.api().map(|e| e.code.as_str()), Some("InvalidImageId.NotFound"));
    // A call without such a rule (ModifyImageAttribute) reports it even after a lost answer.
    let server = Responder::start(
        vec![cred()],
        vec![Reply::cut(), Reply::error(404, "InvalidImageId.NotFound")],
        0,
        always("{}"),
    )
    .await;
    let modify = ecs::ModifyImageAttribute {
        region_id: "cn-hangzhou".into(),
        image_id: "m-1".into(),
        description: Some("d".into()),
        ..Default::default()
    };
    let error = client(profile(&server.url())).call(modify).await.unwrap_err();
    assert_eq!(error.api().map(|e| e.code.as_str()), Some("InvalidImageId.NotFound"));
}

#[tokio::test]
async fn an_answer_larger_than_16_mib_is_refused_without_retrying() {
    let huge = format!("{{\"RequestId\":\"R\",\"Pad\":\"{}\"}}", "x".repeat(17 << 20));
    let server = Responder::start(vec![cred()], Vec::new(), 0, move |_| Reply::json(200, huge.clone())).await;
    let error = client(profile(&server.url())).call(import()).await.unwrap_err();
    assert!(matches!(error, ClientError::Decode { .. }), "{error}");
    assert!(error.to_string().contains("larger than 16 MiB"), "{error}");
    assert_eq!(server.seen().len(), 1, "a huge answer is not asked for again");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused_before_any_request() {
    let err = client(profile("http://ecs.cn-hangzhou.aliyuncs.com")).call(import()).await.unwrap_err();
    assert!(matches!(err, ClientError::Endpoint(EndpointError::InsecureHttp { .. })), "{err}");
    assert!(err.to_string().contains("refusing plain HTTP to ecs.cn-hangzhou.aliyuncs.com"), "{err}");
}

#[derive(Debug)]
struct RefreshingCredentials {
    refreshes: AtomicU32,
}

impl CredentialProvider for RefreshingCredentials {
    fn current(&self) -> Result<Credential, CredentialError> {
        Ok(cred().with_security_token("old-token"))
    }
    fn refresh(&self) -> RefreshFuture<'_> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(cred().with_security_token("new-token")) })
    }
}

#[tokio::test]
async fn an_expired_sts_token_triggers_one_refresh() {
    let server = Responder::start(
        vec![cred()],
        vec![Reply::error(400, "InvalidSecurityToken.Expired")],
        0,
        always(OK_IMPORT),
    )
    .await;
    let provider = Arc::new(RefreshingCredentials { refreshes: AtomicU32::new(0) });
    let c = Client::new(profile(&server.url()), provider.clone()).unwrap();
    c.call(import()).await.unwrap();
    let seen = server.seen();
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(seen[0].header("x-acs-security-token"), Some("old-token"));
    assert_eq!(seen[1].header("x-acs-security-token"), Some("new-token"));
    assert!(seen.iter().all(|s| s.signature_ok));
}

#[tokio::test]
async fn an_expired_timestamp_resyncs_the_clock_from_the_server_date() {
    let ahead = chrono::Utc::now() + chrono::Duration::hours(2);
    let server = Responder::start(
        vec![cred()],
        vec![
            Reply::error(400, "InvalidTimeStamp.Expired")
                .with_header("date", &imagedesk::protocol::sign::http_date(ahead)),
        ],
        0,
        always(OK_IMPORT),
    )
    .await;
    client(profile(&server.url())).call(import()).await.unwrap();
    let seen = server.seen();
    let date = |s: &Seen| chrono::DateTime::parse_from_rfc3339(s.header("x-acs-date").unwrap()).unwrap();
    let shift = date(&seen[1]) - date(&seen[0]);
    assert!(shift > chrono::Duration::minutes(110), "second attempt uses the server's clock: {shift}");
}

// ---------------------------------------------------------------- paging

fn serve_images(total: u64) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen| {
        let number: u64 = seen.param("PageNumber").and_then(|v| v.parse().ok()).unwrap_or(1);
        let size: u64 = seen.param("PageSize").and_then(|v| v.parse().ok()).unwrap_or(10);
        if size > 100 {
            return Reply::error(400, "InvalidParameter");
        }
        let start = (number - 1) * size;
        let items: Vec<String> =
            (start..(start + size).min(total)).map(|i| format!(r#"{{"ImageId":"m-{i:05}"}}"#)).collect();
        Reply::json(
            200,
            format!(
                r#"{{"RequestId":"R","TotalCount":{total},"PageNumber":{number},"PageSize":{size},"Images":{{"Image":[{}]}}}}"#,
                items.join(",")
            ),
        )
    }
}

#[tokio::test]
async fn pages_5000_items_concurrently_each_once_in_order() {
    let server = Responder::start(vec![cred()], vec![], 5, serve_images(5000)).await;
    let mut p = profile(&server.url());
    p.page_concurrency = 4;
    let items = client(p)
        .list_all(DescribeImages {
            region_id: "cn-hangzhou".into(),
            status: ImageStatus::all(),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<String> = items.into_iter().map(|image| image.image_id).collect();
    let expected: Vec<String> = (0..5000).map(|i| format!("m-{i:05}")).collect();
    assert_eq!(ids, expected, "every item exactly once, in order");
    let seen = server.seen();
    assert_eq!(seen.len(), 50);
    assert_eq!(seen[0].param("PageNumber"), Some("1"), "page 1 first, for the total");
    assert!(seen.iter().all(|s| s.param("PageSize") == Some("100")));
    assert!(
        seen.iter()
            .all(|s| s.param("Status")
                == Some("Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"))
    );
    let max = server.max_in_flight();
    assert!(max > 1 && max <= 4, "remaining pages fetched concurrently, bounded: {max}");
}

#[tokio::test]
async fn a_failing_page_fails_the_listing() {
    let pages = serve_images(1000);
    let server = Responder::start(vec![cred()], vec![], 0, move |seen| {
        if seen.param("PageNumber") == Some("7") { Reply::error(403, "Forbidden.RAM") } else { pages(seen) }
    })
    .await;
    let err = client(profile(&server.url()))
        .list_all(DescribeImages { region_id: "cn-hangzhou".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(err.api().map(|e| e.code.as_str()), Some("Forbidden.RAM"));
}

#[tokio::test]
async fn an_empty_list_is_one_request() {
    let server = Responder::start(vec![cred()], vec![], 0, serve_images(0)).await;
    let items = client(profile(&server.url()))
        .list_all(DescribeImages { region_id: "cn-hangzhou".into(), ..Default::default() })
        .await
        .unwrap();
    assert!(items.is_empty());
    assert_eq!(server.seen().len(), 1);
}

// ---------------------------------------------------------------- signing styles

#[tokio::test]
async fn rpc_sha1_sends_a_signed_form_body() {
    let server = Responder::start(vec![cred()], vec![], 0, always(OK_IMPORT)).await;
    let mut p = profile(&server.url());
    p.rpc_signature = RpcSignature::RpcSha1;
    client(p).call(import()).await.unwrap();
    let s = &server.seen()[0];
    assert!(s.signature_ok);
    assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/"));
    assert!(s.query.is_empty());
    assert_eq!(s.param("SignatureMethod"), Some("HMAC-SHA1"));
    assert_eq!(s.param("Action"), Some("ImportImage"));
    assert_eq!(s.param("ImageName"), Some("demo 镜像*~"));
}

#[tokio::test]
async fn asapi_style_signs_the_product_and_sends_tenancy_headers() {
    let server = Responder::start(vec![cred()], vec![], 0, always(OK_IMPORT)).await;
    let mut p = profile(&server.url());
    p.style = RequestStyle::Asapi(Tenancy {
        organization_id: Some("26".into()),
        resource_group_id: Some("rg-1".into()),
        region_id: Some("cn-qingdao-env17-d01".into()),
        caller_sdk_source: Some("ImageDesk".into()),
    });
    client(p).call(import()).await.unwrap();
    let s = &server.seen()[0];
    assert!(s.signature_ok);
    assert_eq!(s.path, "/asapi/v3");
    assert_eq!(s.param("Product"), Some("ecs"));
    assert_eq!(s.param("SignatureVersion"), Some("1.0"));
    assert_eq!(s.header("x-acs-organizationid"), Some("26"));
    assert_eq!(s.header("x-acs-resourcegroupid"), Some("rg-1"));
    assert_eq!(s.header("x-acs-regionid"), Some("cn-qingdao-env17-d01"));
}

#[tokio::test]
async fn apsara_route_style_posts_to_the_route_and_decodes_both_envelopes() {
    let server = Responder::start(
        vec![cred()],
        vec![Reply::json(200, r#"{"RequestID":"1E3D5A1E0-67CA"}"#)],
        0,
        always(r#"{"errorSample":{"resultCode":-1,"resultMsg":"system error","result":null}}"#),
    )
    .await;
    let mut p = profile(&server.url());
    p.style = RequestStyle::ApsaraRoute {
        path_template: "/apsara/route/{product}/{action}".into(),
        tenancy: Tenancy::default(),
    };
    let c = client(p);
    let ok = c.call(import()).await.unwrap();
    assert_eq!(ok.request_id, "1E3D5A1E0-67CA");
    let s = &server.seen()[0];
    assert_eq!(s.path, "/apsara/route/Ecs/ImportImage");
    assert!(s.signature_ok);
    assert!(s.form.iter().any(|(k, _)| k == "Signature"));
    let err = c.call(import()).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.message, "system error (resultCode -1)");
    assert!(api.code.starts_with("Apsara."), "{}", api.code);
}

// ---------------------------------------------------------------- OSS

#[tokio::test]
async fn oss_requests_are_signed_v1_and_v4_path_style_on_loopback() {
    use imagedesk::client::oss::OssRequest;
    use imagedesk::protocol::sign::OssSignature;
    for signature in [OssSignature::V1, OssSignature::V4] {
        let server = Responder::start(vec![cred()], vec![Reply::json(503, "")], 0, |_| {
            Reply::json(200, "").with_header("etag", "\"ABC\"").with_header("x-oss-hash-crc64ecma", "0")
        })
        .await;
        let mut p = profile(&server.url());
        p.oss_endpoint = Some(server.url());
        p.oss_signature = signature;
        let c =
            Client::new(p, Arc::new(StaticCredentials::new(cred().with_security_token("sts-tok")))).unwrap();
        let request = OssRequest {
            method: "PUT".into(),
            bucket: Some("images".into()),
            key: "disks/centos 7+x.qcow2".into(),
            query: vec![("partNumber".into(), "3".into()), ("uploadId".into(), "U1".into())],
            headers: vec![("content-type".into(), "application/octet-stream".into())],
            body: bytes::Bytes::from_static(b"part bytes"),
        };
        let response = c.oss(Some("cn-hangzhou"), &request).await.unwrap();
        assert_eq!(response.header("etag"), Some("\"ABC\""));
        assert_eq!(response.attempts, 2, "503 is retried");
        let seen = server.seen();
        for s in &seen {
            assert!(s.signature_ok, "{signature:?} signature must verify");
            assert_eq!(s.path, "/images/disks/centos%207%2Bx.qcow2");
            assert_eq!(s.header("x-oss-security-token"), Some("sts-tok"));
        }
        // The verifier is not vacuous: another secret rejects the same request.
        let strict =
            Responder::start(vec![Credential::new("LTAItest", "other")], vec![], 0, |_| Reply::json(200, ""))
                .await;
        let mut p = profile(&strict.url());
        p.oss_endpoint = Some(strict.url());
        p.oss_signature = signature;
        client(p).oss(None, &request).await.unwrap();
        assert!(!strict.seen()[0].signature_ok);
    }
}

#[tokio::test]
async fn oss_errors_are_decoded_from_xml_and_not_retried_when_fatal() {
    use imagedesk::client::oss::OssRequest;
    let xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><RequestId>R7</RequestId><EC>0042-00000002</EC></Error>";
    let server = Responder::start(vec![cred()], vec![], 0, move |_| Reply::json(404, xml)).await;
    let mut p = profile(&server.url());
    p.oss_endpoint = Some(server.url());
    let request = OssRequest {
        method: "GET".into(),
        bucket: Some("b".into()),
        key: "k".into(),
        query: vec![("uploadId".into(), "X".into())],
        ..Default::default()
    };
    let err = client(p).oss(None, &request).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(
        (api.code.as_str(), api.ec.as_deref(), api.request_id.as_deref()),
        ("NoSuchUpload", Some("0042-00000002"), Some("R7"))
    );
    assert_eq!(server.seen().len(), 1);
}
