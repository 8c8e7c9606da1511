//! Every wire form the official SDKs use reaches the sandbox intact: GET, POST with everything in
//! the query and an empty body, form bodies, a mix; `+` as space; `True`; `Format=json`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagedesk::Credential;
use imagedesk::protocol::encode::pe;
use imagedesk::protocol::params::Params;
use imagedesk::protocol::sign::{new_nonce, rpc};
use imagedesk::sandbox::{
    DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, RunningSandbox, Sandbox, SandboxConfig,
};
use serde_json::Value;

async fn sandbox(name: &str) -> RunningSandbox {
    let dir = std::env::temp_dir().join(format!(
        "imagedesk-wire-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    Sandbox::start(SandboxConfig::new(dir)).await.unwrap()
}

fn demo() -> Credential {
    Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
}

/// Sign `api` for `method`, then lay the parameters out as asked.
fn signed(method: &str, action: &str, api: &[(&str, &str)]) -> Params {
    let api = Params::from_pairs(api.iter().copied());
    rpc::sign_params(method, action, "2014-05-26", &api, &demo(), chrono::Utc::now(), &new_nonce()).0
}

/// Form-style encoding as Python's urlencode does it: space as `+`.
fn form_encode(params: &Params) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", pe(k), pe(v).replace("%20", "+")))
        .collect::<Vec<_>>()
        .join("&")
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, serde_json::from_slice(&response.bytes().await.unwrap()).unwrap())
}

#[tokio::test]
async fn get_with_plus_as_space_and_lowercase_format() {
    let sb = sandbox("get").await;
    // The SDKs send `Format=JSON`; some clients send `json`. Sign the final parameter set.
    let mut params =
        signed("GET", "DescribeImages", &[("RegionId", "cn-hangzhou"), ("ImageName", "web base")]);
    params.insert("Format", "json");
    params.remove("Signature");
    let resigned = rpc::sign("GET", params.iter(), &demo().access_key_secret);
    params.insert("Signature", resigned.signature);
    let (status, body) =
        send(reqwest::Client::new().get(format!("{}/?{}", sb.url(), form_encode(&params)))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["RequestId"].is_string());
    assert!(body["TotalCount"].is_number());
}

#[tokio::test]
async fn post_with_everything_in_the_query_and_an_empty_body() {
    let sb = sandbox("query").await;
    let params = signed("POST", "DescribeRegions", &[("AcceptLanguage", "en-US")]);
    let (status, body) =
        send(reqwest::Client::new().post(format!("{}/?{}", sb.url(), rpc::encode_pairs(params.iter()))))
            .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["Regions"]["Region"].as_array().is_some_and(|r| !r.is_empty()));
}

#[tokio::test]
async fn a_mix_of_query_and_form_body_is_signed_as_the_union() {
    let sb = sandbox("mix").await;
    let params = signed("POST", "DescribeImages", &[("RegionId", "cn-hangzhou"), ("ImageName", "中文 镜像")]);
    let (query, form): (Vec<_>, Vec<_>) =
        params.iter().partition(|(k, _)| k.starts_with('S') || *k == "Action");
    let (status, body) = send(
        reqwest::Client::new()
            .post(format!("{}/?{}", sb.url(), rpc::encode_pairs(query)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(&Params::from_pairs(form))),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn capitalised_booleans_are_booleans() {
    let sb = sandbox("bool").await;
    let params = signed(
        "POST",
        "DeleteImage",
        &[("RegionId", "cn-hangzhou"), ("ImageId", "m-demo0002"), ("DryRun", "True")],
    );
    let (status, body) = send(
        reqwest::Client::new()
            .post(format!("{}/", sb.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_encode(&params)),
    )
    .await;
    assert_eq!((status, body["Code"].as_str()), (400, Some("DryRunOperation")), "{body}");
}
