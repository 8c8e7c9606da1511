//! The sandbox HTTP server: one loopback port for every RPC product and for OSS.
//!
//! Routing: a request is RPC when it names an `Action` (query, form or `x-acs-action`) or uses
//! an Apsara path (`/asapi/v3`, `/apsara/route/{Product}/{Action}`); anything else is OSS, with
//! the bucket taken from the `Host` (`bucket.oss-<region>.aliyuncs.com`) or, for IP/localhost
//! hosts, from the first path segment. `/__sandbox/*` is the admin endpoint (faults, health).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::auth::{AuthFailure, Keyring, NonceCache, OssParts, RpcParts, verify_oss, verify_rpc};
use super::cloud::{Cloud, CloudSettings};
use super::connection::{ConnectionCut, CuttableListener};
use super::oss::{OssHttpRequest, OssStore, error_response};
use super::{CallStyle, Faults, Malformed, RpcCall, SandboxConfig, SandboxError};
use crate::protocol::Product;
use crate::protocol::encode::{form_decode, parse_form};
use crate::protocol::error::ApiError;
use crate::protocol::params::Params;

/// Largest RPC request body the sandbox reads (RPC parameters are small; OSS bodies stream).
const MAX_RPC_BODY: usize = 1 << 20;

struct Shared {
    keyring: Keyring,
    max_skew_secs: i64,
    clock_offset: chrono::Duration,
    part_receipts: Mutex<Vec<PartReceipt>>,
    nonces: Mutex<NonceCache>,
    cloud: Mutex<Cloud>,
    oss: Arc<OssStore>,
    faults: Mutex<Faults>,
    counter: AtomicU64,
    requests_served: AtomicU64,
    injected: [AtomicU64; 4],
}

/// How many faults the sandbox has injected so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub throttled: u64,
    pub unavailable: u64,
    /// Connections cut before the request was handled.
    pub dropped: u64,
    /// Requests handled whose answer was then cut.
    pub answers_lost: u64,
}

const THROTTLED: usize = 0;
const UNAVAILABLE: usize = 1;
const DROPPED: usize = 2;
const ANSWER_LOST: usize = 3;

impl Shared {
    /// The server's idea of now (the machine's clock plus the configured offset).
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now() + self.clock_offset
    }
}

/// One UploadPart that reached the sandbox (signature verified): which part of which object, how
/// many bytes it declared, and whether it was stored. Tests count these to measure what a resumed
/// upload sent again; an attempt cut short counts its whole declared size (an upper bound).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartReceipt {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_number: u32,
    pub bytes: u64,
    pub stored: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Entry point: `Sandbox::start(config)`.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Open (or seed) the data dir and serve on `127.0.0.1:<port>` until shut down.
    pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|source| SandboxError::Io { path: config.data_dir.clone(), source })?;
        let cloud = Cloud::open(
            &config.data_dir,
            CloudSettings {
                import_role_authorized: config.import_role_authorized,
                time_scale: config.time_scale,
                seed_demo: config.seed_demo,
                extra_images: config.extra_images,
            },
        )?;
        let oss = OssStore::open(&config.data_dir, config.seed_demo)?;
        let shared = Arc::new(Shared {
            keyring: Keyring::new(config.access_keys.clone(), config.sts_tokens.clone()),
            max_skew_secs: config.max_skew_secs,
            clock_offset: chrono::Duration::seconds(config.clock_offset_secs),
            part_receipts: Mutex::new(Vec::new()),
            nonces: Mutex::new(NonceCache::default()),
            cloud: Mutex::new(cloud),
            oss: Arc::new(oss),
            faults: Mutex::new(config.faults.clone()),
            counter: AtomicU64::new(0),
            requests_served: AtomicU64::new(0),
            injected: Default::default(),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| SandboxError::Bind { port: config.port, source })?;
        let addr =
            listener.local_addr().map_err(|source| SandboxError::Bind { port: config.port, source })?;
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<ConnectionCut>();
            let serve = axum::serve(CuttableListener(listener), app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = serve.await {
                tracing::error!("sandbox server stopped: {error}");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(RunningSandbox { addr, stop: Some(stop), task, shared })
    }
}

/// A sandbox serving on loopback; dropping it stops the server.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSandbox").field("addr", &self.addr).finish_non_exhaustive()
    }
}

/// STS AssumeRole: checks the parameters as STS does and issues a temporary credential that the
/// sandbox accepts from then on (until it expires).
fn assume_role(shared: &Shared, call: &RpcCall) -> Result<Value, ApiError> {
    use crate::protocol::error::Service;
    let invalid = |code: &str, message: &str| Err(ApiError::new(Service::Pop, 400, code, message));
    if call.action != "AssumeRole" {
        return Err(ApiError::new(
            Service::Pop,
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        ));
    }
    let role_arn = call.params.get("RoleArn").unwrap_or_default();
    let Some((account, role)) = role_arn.strip_prefix("acs:ram::").and_then(|rest| rest.split_once(":role/"))
    else {
        return invalid("InvalidParameter.RoleArn", "The parameter RoleArn is wrong.");
    };
    if account.is_empty() || !account.chars().all(|c| c.is_ascii_digit()) || role.is_empty() {
        return invalid("InvalidParameter.RoleArn", "The parameter RoleArn is wrong.");
    }
    let session = call.params.get("RoleSessionName").unwrap_or_default();
    let session_ok = (2..=64).contains(&session.len())
        && session.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'));
    if !session_ok {
        return invalid("InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrong.");
    }
    let duration: i64 = match call.params.get("DurationSeconds") {
        None => 3600,
        Some(text) => match text.parse::<i64>() {
            // The role's maximum session duration defaults to one hour.
            Ok(secs) if (900..=3600).contains(&secs) => secs,
            _ => {
                return invalid(
                    "InvalidParameter.DurationSeconds",
                    "The Min/Max value of DurationSeconds is 15min/1hr.",
                );
            }
        },
    };
    let random = |len: usize| -> String {
        use rand::Rng as _;
        let mut rng = rand::rng();
        (0..len).map(|_| char::from(rng.sample(rand::distr::Alphanumeric))).collect()
    };
    let expires = call.now + chrono::Duration::seconds(duration);
    let credential = crate::Credential::new(format!("STS.NT{}", random(24)), random(30))
        .with_security_token(format!("CAIS{}", random(96)));
    let answer = serde_json::json!({
        "AssumedRoleUser": {
            "Arn": format!("{role_arn}/{session}"),
            "AssumedRoleId": format!("3{}:{session}", random(17)),
        },
        "Credentials": {
            "AccessKeyId": credential.access_key_id,
            "AccessKeySecret": credential.access_key_secret.expose(),
            "SecurityToken": credential.security_token.as_ref().map(|t| t.expose().to_owned()).unwrap_or_default(),
            "Expiration": expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        },
    });
    let account = shared.keyring.account_of(&call.access_key_id);
    shared.keyring.issue(super::StsGrant { credential, expires_at: Some(expires) }, &account);
    Ok(answer)
}

impl RunningSandbox {
    /// Expire every STS credential issued so far (tests of credential refresh).
    pub fn expire_sts_credentials(&self) {
        self.shared.keyring.expire_all(Utc::now());
    }

    /// `http://127.0.0.1:<port>`: the endpoint for every RPC product and for OSS.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults) = faults;
    }

    pub fn set_import_role_authorized(&self, authorized: bool) {
        lock(&self.shared.cloud).settings_mut().import_role_authorized = authorized;
    }

    /// Every UploadPart stored so far, oldest first.
    pub fn part_receipts(&self) -> Vec<PartReceipt> {
        lock(&self.shared.part_receipts).clone()
    }

    /// Faults injected so far.
    pub fn fault_counts(&self) -> FaultCounts {
        let count = |i: usize| self.shared.injected[i].load(Ordering::Relaxed);
        FaultCounts {
            throttled: count(THROTTLED),
            unavailable: count(UNAVAILABLE),
            dropped: count(DROPPED),
            answers_lost: count(ANSWER_LOST),
        }
    }

    /// Requests answered so far (for benchmarks).
    pub fn requests_served(&self) -> u64 {
        self.shared.requests_served.load(Ordering::Relaxed)
    }

    /// Stop accepting requests and wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = std::mem::replace(&mut self.task, tokio::spawn(async {}));
        let _ = task.await;
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A request id shaped like the real ones (uppercase hex UUID).
fn new_request_id(shared: &Shared) -> String {
    shared.counter.fetch_add(1, Ordering::Relaxed);
    let hex = format!("{:032X}", rand::random::<u128>());
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(connection): ConnectInfo<ConnectionCut>,
    request: Request,
) -> Response {
    let request_id = new_request_id(&shared);
    let path = request.uri().path().to_owned();
    if let Some(admin) = path.strip_prefix("/__sandbox/") {
        let admin = admin.to_owned();
        return admin_endpoint(&shared, &admin, request).await;
    }
    let faults = lock(&shared.faults).clone();
    if faults.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(faults.latency_ms)).await;
    }
    if faults.drop_rate > 0.0 && rand::random::<f64>() < faults.drop_rate {
        shared.injected[DROPPED].fetch_add(1, Ordering::Relaxed);
        return cut_connection(&connection);
    }
    let query = parse_form(request.uri().query().unwrap_or(""));
    let is_rpc = path.starts_with("/apsara/route/")
        || path.starts_with("/asapi/")
        || request.headers().contains_key("x-acs-action")
        || query.iter().any(|(k, _)| k == "Action")
        || (request.method() == Method::POST
            && path == "/"
            && request
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded")));
    let injected = if faults.throttle_rate > 0.0 && rand::random::<f64>() < faults.throttle_rate {
        shared.injected[THROTTLED].fetch_add(1, Ordering::Relaxed);
        Some((400u16, "Throttling", "Request was denied due to request throttling."))
    } else if faults.unavailable_rate > 0.0 && rand::random::<f64>() < faults.unavailable_rate {
        shared.injected[UNAVAILABLE].fetch_add(1, Ordering::Relaxed);
        Some((503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."))
    } else {
        None
    };
    let host = request.headers().get("host").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1").to_owned();
    shared.requests_served.fetch_add(1, Ordering::Relaxed);
    if let Some((status, code, message)) = injected {
        return if is_rpc {
            pop_error(
                &request_id,
                &host,
                &ApiError::new(crate::protocol::error::Service::Pop, status, code, message),
            )
        } else {
            // OSS has no Throttling code; both faults look like an overloaded server there.
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                message,
                &request_id,
                &host,
                &[],
            )
        };
    }
    let mut response = if is_rpc {
        let response = rpc_request(&shared, request, query, &request_id, &host).await;
        match faults.malformed {
            Some(kind) if response.status().is_success() => malformed(kind, response).await,
            _ => response,
        }
    } else {
        oss_request(&shared, request, query, &request_id, &host, &connection).await
    };
    if faults.lose_answer_rate > 0.0 && rand::random::<f64>() < faults.lose_answer_rate {
        // The change is made; only the answer is lost.
        shared.injected[ANSWER_LOST].fetch_add(1, Ordering::Relaxed);
        return cut_connection(&connection);
    }
    set_date(&mut response, shared.now());
    response
}

async fn admin_endpoint(shared: &Shared, path: &str, request: Request) -> Response {
    match (request.method().clone(), path) {
        (Method::GET, "health") => json_response(StatusCode::OK, json!({"status": "ok"})),
        (Method::GET, "faults") => json_response(StatusCode::OK, json!(*lock(&shared.faults))),
        (Method::PUT | Method::POST, "faults") => {
            let body = match axum::body::to_bytes(request.into_body(), MAX_RPC_BODY).await {
                Ok(b) => b,
                Err(e) => return json_response(StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
            };
            match serde_json::from_slice::<Faults>(&body) {
                Ok(faults) => {
                    *lock(&shared.faults) = faults.clone();
                    json_response(StatusCode::OK, json!(faults))
                }
                Err(e) => {
                    json_response(StatusCode::BAD_REQUEST, json!({"error": format!("faults JSON: {e}")}))
                }
            }
        }
        (Method::PUT | Method::POST, "import-role") => {
            let body = axum::body::to_bytes(request.into_body(), MAX_RPC_BODY).await.unwrap_or_default();
            let authorized = serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get("authorized").and_then(Value::as_bool));
            match authorized {
                Some(a) => {
                    lock(&shared.cloud).settings_mut().import_role_authorized = a;
                    json_response(StatusCode::OK, json!({"authorized": a}))
                }
                None => json_response(
                    StatusCode::BAD_REQUEST,
                    json!({"error": "send {\"authorized\": true|false}"}),
                ),
            }
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"error": "admin endpoints: GET /__sandbox/health, GET|PUT /__sandbox/faults, PUT /__sandbox/import-role"}),
        ),
    }
}

fn json_response(status: StatusCode, value: Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json;charset=utf-8"));
    response
}

fn pop_error(request_id: &str, host: &str, error: &ApiError) -> Response {
    let status = StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(
        status,
        json!({
            "RequestId": request_id,
            "HostId": host,
            "Code": error.code,
            "Message": error.message,
            "Recommend": format!(
                "https://api.aliyun.com/troubleshoot?q={}&product=Sandbox&requestId={request_id}",
                error.code
            ),
        }),
    )
}

fn auth_to_api(failure: AuthFailure) -> ApiError {
    ApiError::new(crate::protocol::error::Service::Pop, failure.status, failure.code, failure.message)
}

/// Which product an Apsara path or the `Version` names.
fn product_for(
    version: Option<&str>,
    asapi_product: Option<&str>,
    route_product: Option<&str>,
) -> Option<Product> {
    let by_code = |code: &str| Product::ALL.into_iter().find(|p| p.code().eq_ignore_ascii_case(code));
    route_product
        .and_then(by_code)
        .or_else(|| asapi_product.and_then(by_code))
        .or_else(|| version.and_then(Product::from_version))
}

async fn rpc_request(
    shared: &Arc<Shared>,
    request: Request,
    query: Vec<(String, String)>,
    request_id: &str,
    host: &str,
) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_RPC_BODY).await {
        Ok(body) => body,
        Err(_) => {
            let e = ApiError::new(
                crate::protocol::error::Service::Pop,
                413,
                "InvalidParameter",
                "The request body is too large.",
            );
            return pop_error(request_id, host, &e);
        }
    };
    let is_form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form { parse_form(&String::from_utf8_lossy(&body)) } else { Vec::new() };
    let headers = header_pairs(&parts.headers);
    let path = parts.uri.path();
    let (style, route_product, route_action) = if let Some(route) = path.strip_prefix("/apsara/route/") {
        let mut segments = route.split('/').map(form_decode);
        (CallStyle::ApsaraRoute, segments.next(), segments.next())
    } else if path.starts_with("/asapi/") {
        (CallStyle::Asapi, None, None)
    } else {
        (CallStyle::Rpc, None, None)
    };
    let now = shared.now();
    let identity = {
        let mut nonces = lock(&shared.nonces);
        verify_rpc(
            RpcParts {
                method: parts.method.as_str(),
                query: &query,
                form: &form,
                headers: &headers,
                body: &body,
            },
            &shared.keyring,
            &mut nonces,
            now,
            shared.max_skew_secs,
            style == CallStyle::Rpc,
        )
    };
    let identity = match identity {
        Ok(identity) => identity,
        Err(failure) => return pop_error(request_id, host, &auth_to_api(failure)),
    };
    let mut params = Params::new();
    for (k, v) in query.iter().chain(form.iter()) {
        params.insert(k.as_str(), v.as_str());
    }
    let version = identity.header_version.clone().or_else(|| params.get("Version").map(str::to_owned));
    let action =
        route_action.or(identity.header_action.clone()).or_else(|| params.get("Action").map(str::to_owned));
    let product = product_for(version.as_deref(), params.get("Product"), route_product.as_deref());
    let (Some(product), Some(action)) = (product, action) else {
        let e = ApiError::new(
            crate::protocol::error::Service::Pop,
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        );
        return pop_error(request_id, host, &e);
    };
    if let Some(format) = params.get("Format")
        && !format.eq_ignore_ascii_case("json")
    {
        tracing::debug!(format, "answering JSON; the sandbox does not render XML");
    }
    let call = RpcCall {
        product,
        action,
        params,
        access_key_id: shared.keyring.account_of(&identity.access_key_id),
        request_id: request_id.to_owned(),
        now,
        style,
    };
    if call.product == Product::Sts {
        let answer = assume_role(shared, &call);
        return match answer {
            Ok(Value::Object(fields)) => {
                let mut object = Map::new();
                object.insert("RequestId".to_owned(), Value::String(request_id.to_owned()));
                object.extend(fields);
                json_response(StatusCode::OK, Value::Object(object))
            }
            Ok(other) => json_response(StatusCode::OK, other),
            Err(error) => pop_error(request_id, host, &error),
        };
    }
    let worker = shared.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let oss = worker.oss.clone();
        lock(&worker.cloud).handle(&call, oss.as_ref())
    })
    .await;
    match outcome {
        Ok(Ok(value)) => {
            let id_key = if style == CallStyle::ApsaraRoute { "RequestID" } else { "RequestId" };
            let mut object = Map::new();
            object.insert(id_key.to_owned(), Value::String(request_id.to_owned()));
            if let Value::Object(fields) = value {
                object.extend(fields);
            }
            json_response(StatusCode::OK, Value::Object(object))
        }
        Ok(Err(error)) => pop_error(request_id, host, &error),
        Err(join) => {
            tracing::error!("cloud emulation panicked: {join}");
            let e = ApiError::new(
                crate::protocol::error::Service::Pop,
                500,
                "InternalError",
                "The request processing has failed due to some unknown error, exception or failure.",
            );
            pop_error(request_id, host, &e)
        }
    }
}

/// `bucket.oss-<region>.aliyuncs.com` ⇒ virtual host; IP/localhost ⇒ path style.
fn bucket_and_key(host: &str, path: &str) -> (Option<String>, String) {
    let hostname = host
        .rsplit_once(':')
        .map_or(host, |(h, port)| if port.chars().all(|c| c.is_ascii_digit()) { h } else { host });
    let decoded = form_decode_path(path);
    if let Some((bucket, rest)) = hostname.split_once(".oss-")
        && !bucket.is_empty()
        && !rest.is_empty()
    {
        return (Some(bucket.to_owned()), decoded.trim_start_matches('/').to_owned());
    }
    let trimmed = decoded.trim_start_matches('/');
    match trimmed.split_once('/') {
        Some((bucket, key)) => (Some(bucket.to_owned()), key.to_owned()),
        None if !trimmed.is_empty() => (Some(trimmed.to_owned()), String::new()),
        None => (None, String::new()),
    }
}

/// Paths decode `%XY` but keep `+` literal (only query strings use `+` for space).
fn form_decode_path(path: &str) -> String {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned()
}

async fn oss_request(
    shared: &Arc<Shared>,
    request: Request,
    query: Vec<(String, String)>,
    request_id: &str,
    host: &str,
    connection: &ConnectionCut,
) -> Response {
    let (parts, body) = request.into_parts();
    let (bucket, key) = bucket_and_key(host, parts.uri.path());
    let headers = header_pairs(&parts.headers);
    let verified = verify_oss(
        OssParts {
            method: parts.method.as_str(),
            bucket: bucket.as_deref(),
            key: &key,
            query: &query,
            headers: &headers,
        },
        &shared.keyring,
        shared.now(),
        shared.max_skew_secs,
    );
    if let Err(failure) = verified {
        let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::FORBIDDEN);
        let mut extras: Vec<(&str, String)> = Vec::new();
        if let Some(id) = &failure.access_key_id {
            extras.push(("OSSAccessKeyId", id.clone()));
        }
        if let Some(provided) = &failure.signature_provided {
            extras.push(("SignatureProvided", provided.clone()));
        }
        if let Some(sts) = &failure.string_to_sign {
            extras.push(("StringToSign", sts.clone()));
            let bytes: Vec<String> = sts.bytes().map(|b| format!("{b:02x}")).collect();
            extras.push(("StringToSignBytes", bytes.join(" ")));
        }
        let extras: Vec<(&str, &str)> = extras.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return error_response(status, failure.code, &failure.message, request_id, host, &extras);
    }
    let oss_request = OssHttpRequest {
        method: parts.method,
        bucket,
        key,
        query,
        headers: parts.headers,
        host: host.to_owned(),
        request_id: request_id.to_owned(),
    };
    let part = part_receipt(&oss_request);
    let is_complete = oss_request.method == Method::POST
        && oss_request.query.iter().any(|(k, _)| k == "uploadId")
        && oss_request.bucket.is_some();
    let response = shared.oss.handle(oss_request, body).await;
    if let Some(mut receipt) = part {
        receipt.stored = response.status().is_success();
        lock(&shared.part_receipts).push(receipt);
    }
    if is_complete && response.status().is_success() {
        let mut faults = lock(&shared.faults);
        if faults.lose_complete_answers > 0 {
            faults.lose_complete_answers -= 1;
            return cut_connection(connection);
        }
    }
    response
}

/// The UploadPart an OSS request is, if it is one (bytes from its `Content-Length`).
fn part_receipt(request: &OssHttpRequest) -> Option<PartReceipt> {
    if request.method != Method::PUT {
        return None;
    }
    let query = |name: &str| request.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    Some(PartReceipt {
        bucket: request.bucket.clone()?,
        key: request.key.clone(),
        upload_id: query("uploadId")?.to_owned(),
        part_number: query("partNumber")?.parse().ok()?,
        bytes: request
            .headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        stored: false,
    })
}

/// `Date` as the server's clock reads (hyper would stamp the machine's own).
fn set_date(response: &mut Response, now: chrono::DateTime<Utc>) {
    if let Ok(value) = HeaderValue::from_str(&now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        response.headers_mut().insert("date", value);
    }
}

/// Break a successful RPC answer the way `kind` says.
async fn malformed(kind: Malformed, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    parts.headers.remove("content-length");
    let broken: Vec<u8> = match kind {
        Malformed::TruncatedJson => body[..body.len() / 2].to_vec(),
        Malformed::WrongTypes => {
            let value = serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null);
            serde_json::to_vec(&wrong_types(value)).unwrap_or_default()
        }
        Malformed::ErrorIn200 => serde_json::to_vec(&json!({
            "RequestId": "00000000-0000-0000-0000-000000000000",
            "Code": "InternalError",
            "Message": "The request processing has failed due to some unknown error.",
        }))
        .unwrap_or_default(),
        Malformed::HugeBody => {
            let mut huge = vec![b' '; 64 << 20];
            huge.extend_from_slice(b"{}");
            huge
        }
    };
    Response::from_parts(parts, Body::from(broken))
}

/// Numbers become words and strings become lists (keeping `RequestId` so it still looks real).
fn wrong_types(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| {
                    let v = if k == "RequestId" { v } else { wrong_types(v) };
                    (k, v)
                })
                .collect(),
        ),
        Value::Number(_) => json!("a few"),
        Value::String(text) => json!([text]),
        Value::Array(items) => Value::Array(items.into_iter().map(wrong_types).collect()),
        other => other,
    }
}

/// Lose this answer: its connection is dropped before any of it is sent (see `connection`).
fn cut_connection(connection: &ConnectionCut) -> Response {
    connection.cut();
    // Never sent.
    Response::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_come_from_the_host_or_the_path() {
        assert_eq!(
            bucket_and_key("imgs.oss-cn-hangzhou.aliyuncs.com", "/a/b%20c+d.qcow2"),
            (Some("imgs".into()), "a/b c+d.qcow2".into())
        );
        assert_eq!(bucket_and_key("127.0.0.1:8080", "/imgs/a/b"), (Some("imgs".into()), "a/b".into()));
        assert_eq!(bucket_and_key("localhost:8080", "/imgs"), (Some("imgs".into()), String::new()));
        assert_eq!(bucket_and_key("localhost", "/"), (None, String::new()));
        assert_eq!(bucket_and_key("oss-cn-hangzhou.aliyuncs.com", "/b/k"), (Some("b".into()), "k".into()));
    }

    #[test]
    fn products_route_by_version_or_apsara_names() {
        assert_eq!(product_for(Some("2014-05-26"), None, None), Some(Product::Ecs));
        assert_eq!(product_for(Some("2023-07-01"), None, None), Some(Product::EhpcInstant));
        assert_eq!(product_for(None, Some("ecs"), None), Some(Product::Ecs));
        assert_eq!(product_for(Some("2016-01-01"), None, Some("Ecs")), Some(Product::Ecs));
        assert_eq!(product_for(Some("1999-01-01"), None, None), None);
    }
}
