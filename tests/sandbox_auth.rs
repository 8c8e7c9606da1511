//! The sandbox authenticates like the real gateways: ImageDesk's client against the in-process
//! sandbox over loopback, plus hand-made requests for replay, skew and presigned URLs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use imagedesk::client::oss::OssRequest;
use imagedesk::client::{Client, ClientError, Profile, RetryConfig, StaticCredentials};
use imagedesk::protocol::ops::ecs::DescribeRegions;
use imagedesk::protocol::params::Params;
use imagedesk::protocol::sign::{OssSignature, RpcSignature, http_date, oss_v1, oss_v4, rpc};
use imagedesk::sandbox::{Faults, RunningSandbox, Sandbox, SandboxConfig, StsGrant};
use imagedesk::{Credential, Secret};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("imagedesk-auth-{name}-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn key() -> Credential {
    Credential::new("LTAIsandboxTest", "sandbox-secret")
}

async fn sandbox(name: &str) -> RunningSandbox {
    let mut config = SandboxConfig::new(temp_dir(name));
    config.access_keys = vec![key()];
    config.seed_demo = false;
    config.sts_tokens = vec![
        StsGrant {
            credential: Credential::new("STS.live", "sts-secret").with_security_token("live-token"),
            expires_at: None,
        },
        StsGrant {
            credential: Credential::new("STS.old", "sts-secret").with_security_token("old-token"),
            expires_at: Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
        },
    ];
    Sandbox::start(config).await.unwrap()
}

fn client(sandbox: &RunningSandbox, credential: Credential, signature: RpcSignature) -> Client {
    let mut profile = Profile::new("sandbox", "cn-hangzhou");
    profile.endpoint = Some(sandbox.url());
    profile.oss_endpoint = Some(sandbox.url());
    profile.rpc_signature = signature;
    profile.retry = RetryConfig { max_attempts: 3, base_delay_ms: 5, max_delay_ms: 20 };
    Client::new(profile, Arc::new(StaticCredentials::new(credential))).unwrap()
}

fn code(error: &ClientError) -> &str {
    error.api().map(|e| e.code.as_str()).unwrap_or("<not an API error>")
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_the_servers_string_to_sign() {
    let sb = sandbox("wrong-secret").await;
    for (signature, prefix) in
        [(RpcSignature::Acs3, "ACS3-HMAC-SHA256\n"), (RpcSignature::RpcSha1, "POST&%2F&")]
    {
        let wrong = Credential::new("LTAIsandboxTest", "not-the-secret");
        let err = client(&sb, wrong, signature).call(DescribeRegions::default()).await.unwrap_err();
        assert_eq!(code(&err), "SignatureDoesNotMatch", "{signature:?}");
        let api = err.api().unwrap();
        assert_eq!(api.http_status, 400);
        let sts = api.server_string_to_sign.as_deref().unwrap_or_default();
        assert!(sts.starts_with(prefix), "{signature:?}: {sts:?}");
    }
}

#[tokio::test]
async fn unknown_keys_and_sts_tokens_are_checked() {
    let sb = sandbox("keys").await;
    let unknown = client(&sb, Credential::new("LTAInobody", "x"), RpcSignature::Acs3);
    assert_eq!(
        code(&unknown.call(DescribeRegions::default()).await.unwrap_err()),
        "InvalidAccessKeyId.NotFound"
    );

    let no_token = client(&sb, Credential::new("STS.live", "sts-secret"), RpcSignature::RpcSha1);
    assert_eq!(code(&no_token.call(DescribeRegions::default()).await.unwrap_err()), "MissingSecurityToken");

    let wrong_token = client(
        &sb,
        Credential::new("STS.live", "sts-secret").with_security_token("other"),
        RpcSignature::Acs3,
    );
    let err = wrong_token.call(DescribeRegions::default()).await.unwrap_err();
    assert_eq!(code(&err), "InvalidSecurityToken.MismatchWithAccessKey");

    let expired = client(
        &sb,
        Credential::new("STS.old", "sts-secret").with_security_token("old-token"),
        RpcSignature::Acs3,
    );
    assert_eq!(
        code(&expired.call(DescribeRegions::default()).await.unwrap_err()),
        "InvalidSecurityToken.Expired"
    );
}

/// A hand-signed RPC-SHA1 POST with a chosen time and nonce.
async fn raw_rpc(
    sb: &RunningSandbox,
    time: chrono::DateTime<chrono::Utc>,
    nonce: &str,
) -> (u16, serde_json::Value) {
    let params = Params::from_pairs([("RegionId", "cn-hangzhou")]);
    let (all, _) = rpc::sign_params("POST", "DescribeRegions", "2014-05-26", &params, &key(), time, nonce);
    let response = reqwest::Client::new()
        .post(format!("{}/", sb.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(rpc::encode_pairs(all.iter()))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, serde_json::from_slice(&response.bytes().await.unwrap()).unwrap())
}

#[tokio::test]
async fn replayed_nonces_and_stale_timestamps_are_refused() {
    let sb = sandbox("replay").await;
    let now = chrono::Utc::now();
    let (first, body) = raw_rpc(&sb, now, "nonce-1").await;
    assert_ne!(body["Code"], "SignatureNonceUsed", "first use is fine: {first} {body}");
    let (status, body) = raw_rpc(&sb, now, "nonce-1").await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("SignatureNonceUsed")));
    let (status, body) = raw_rpc(&sb, now - chrono::Duration::minutes(16), "nonce-2").await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("InvalidTimeStamp.Expired")));
    assert!(body["RequestId"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn unsigned_and_malformed_requests_get_specific_errors() {
    let sb = sandbox("unsigned").await;
    let http = reqwest::Client::new();
    let body: serde_json::Value = http
        .get(format!("{}/?Action=DescribeRegions&Version=2014-05-26", sb.url()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    assert_eq!(body["Code"], "IncompleteSignature");
    let body: serde_json::Value = http
        .get(format!(
            "{}/?Action=DescribeRegions&Version=2014-05-26&AccessKeyId=LTAIsandboxTest&Signature=x&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n&TimeStamp=2016-02-23T12:46:24Z",
            sb.url()
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    assert_eq!(body["Code"], "MissingParameter", "the R1-trap spelling TimeStamp is not Timestamp");
    assert!(body["Message"].as_str().unwrap().contains("\"Timestamp\""));
}

#[tokio::test]
async fn oss_requests_with_a_wrong_secret_are_refused_for_v1_and_v4() {
    let sb = sandbox("oss-wrong").await;
    for signature in [OssSignature::V1, OssSignature::V4] {
        let mut profile = Profile::new("sandbox", "cn-hangzhou");
        profile.oss_endpoint = Some(sb.url());
        profile.oss_signature = signature;
        let wrong =
            Client::new(profile, Arc::new(StaticCredentials::new(Credential::new("LTAIsandboxTest", "bad"))))
                .unwrap();
        let request = OssRequest {
            method: "GET".into(),
            bucket: Some("b".into()),
            key: "k".into(),
            ..Default::default()
        };
        let err = wrong.oss(None, &request).await.unwrap_err();
        let api = err.api().unwrap();
        assert_eq!((api.http_status, api.code.as_str()), (403, "SignatureDoesNotMatch"), "{signature:?}");
        let expected = if signature == OssSignature::V1 { "/b/k" } else { "OSS4-HMAC-SHA256\n" };
        assert!(api.server_string_to_sign.as_deref().is_some_and(|s| s.contains(expected)), "{signature:?}");
    }
}

#[tokio::test]
async fn presigned_urls_verify_and_expire() {
    let sb = sandbox("presign").await;
    let http = reqwest::Client::new();
    let now = chrono::Utc::now();
    // V1: an expired URL is refused; a bad signature is a mismatch.
    let (query, _) = oss_v1::presign_query("GET", "b", "k", &[], now.timestamp() - 10, &key());
    let url = format!(
        "{}/b/k?{}",
        sb.url(),
        rpc::encode_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    );
    let text = http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("<Code>AccessDenied</Code>") && text.contains("expired"), "{text}");
    let (query, _) = oss_v1::presign_query(
        "GET",
        "b",
        "k",
        &[],
        now.timestamp() + 600,
        &Credential::new("LTAIsandboxTest", "bad"),
    );
    let url = format!(
        "{}/b/k?{}",
        sb.url(),
        rpc::encode_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    );
    let text = http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("<Code>SignatureDoesNotMatch</Code>"), "{text}");
    // V4 with a bad secret.
    let query = oss_v4::presign_query(
        "GET",
        "b",
        "k",
        "cn-hangzhou",
        &[],
        now,
        600,
        &Credential::new("LTAIsandboxTest", "bad"),
    );
    let url = format!(
        "{}/b/k?{}",
        sb.url(),
        rpc::encode_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    );
    let text = http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("<Code>SignatureDoesNotMatch</Code>"), "{text}");
    // A skewed Date on header auth.
    let date = http_date(now - chrono::Duration::minutes(20));
    let headers = [("date", date.as_str())];
    let signed = oss_v1::sign("GET", Some("b"), "k", std::iter::empty(), headers.iter().copied(), &key());
    let text = http
        .get(format!("{}/b/k", sb.url()))
        .header("date", date.clone())
        .header("authorization", signed.authorization)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("<Code>RequestTimeTooSkewed</Code>"), "{text}");
    let _ = Secret::new("unused");
}

#[tokio::test]
async fn injected_faults_reach_the_client() {
    let sb = sandbox("faults").await;
    let c = client(&sb, key(), RpcSignature::Acs3);
    sb.set_faults(Faults { throttle_rate: 1.0, ..Faults::default() });
    assert_eq!(code(&c.call(DescribeRegions::default()).await.unwrap_err()), "Throttling");
    sb.set_faults(Faults { unavailable_rate: 1.0, ..Faults::default() });
    let err = c.call(DescribeRegions::default()).await.unwrap_err();
    assert_eq!((err.api().unwrap().http_status, code(&err)), (503, "ServiceUnavailable"));
    sb.set_faults(Faults { drop_rate: 1.0, ..Faults::default() });
    assert!(matches!(c.call(DescribeRegions::default()).await.unwrap_err(), ClientError::Transport { .. }));
    // The admin endpoint sets faults too.
    let http = reqwest::Client::new();
    let set =
        http.put(format!("{}/__sandbox/faults", sb.url())).body(r#"{"latency_ms": 1}"#).send().await.unwrap();
    assert_eq!(set.status(), 200);
    let now: serde_json::Value = http
        .get(format!("{}/__sandbox/faults", sb.url()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    assert_eq!(now["latency_ms"], 1);
    assert_eq!(now["drop_rate"], 0.0);
}

/// A cut connection must lose the whole answer, also the ones that have no body (HEAD, 204):
/// a client that gets "200 OK" with no headers instead learns nothing true about the object.
#[tokio::test]
async fn a_cut_connection_loses_answers_without_a_body_too() {
    let sb = sandbox("faults-cut").await;
    let c = client(&sb, key(), RpcSignature::Acs3);
    let request = |method: &str| OssRequest {
        method: method.into(),
        bucket: Some("b".into()),
        key: "k".into(),
        ..Default::default()
    };
    for faults in [
        Faults { drop_rate: 1.0, ..Faults::default() },
        Faults { lose_answer_rate: 1.0, ..Faults::default() },
    ] {
        sb.set_faults(faults.clone());
        for method in ["HEAD", "GET", "DELETE"] {
            let answer = c.oss(None, &request(method)).await;
            assert!(
                matches!(answer, Err(ClientError::Transport { .. })),
                "{method} under {faults:?}: {answer:?}"
            );
        }
    }
    sb.set_faults(Faults::default());
    let answer = c.oss(None, &request("HEAD")).await;
    assert!(answer.is_err_and(|e| e.api().is_some()), "the server answers again once the faults are off");
}
