//! Layer 2 — transport: turns typed operations into signed HTTP requests, with endpoints per
//! profile, timeouts, retries (exponential backoff + jitter, each attempt freshly signed),
//! one ClientToken per logical create/import/copy, and a concurrent, order-preserving pager.

pub mod assume_role;
pub mod audit;
pub mod credentials;
pub mod diagnose;
pub mod ecs_metadata;
pub mod endpoint;
pub mod oss;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use reqwest::header::{CONTENT_TYPE, HeaderMap};

pub use credentials::{CredentialError, CredentialProvider, StaticCredentials};
pub use endpoint::{Endpoint, EndpointError, Profile, RequestStyle, RetryConfig, Tenancy};

use crate::protocol::Product;
use crate::protocol::catalog::Retry;
use crate::protocol::error::{
    ApiError, Service, decode_pop_error, decode_success_body_failure, parse_retry_after,
};
use crate::protocol::ops::{PagedOperation, RpcOperation};
use crate::protocol::params::{Params, ParamsError};
use crate::protocol::sign::{self, RpcSignature, acs3, rpc};
use crate::secret::Credential;

/// Everything that can go wrong calling an API.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Api(Box<ApiError>),
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("could not build the request parameters: {0}")]
    Params(#[from] ParamsError),
    #[error("network error calling {action} at {host}: {message}")]
    Transport { action: String, host: String, message: String },
    #[error(
        "{action}: unexpected response (HTTP {status}) that could not be read: {reason}; body starts with {snippet:?}"
    )]
    Decode { action: String, status: u16, reason: String, snippet: String },
    #[error(
        "{action}: the TLS certificate of {host} is not trusted ({message}). ImageDesk checks every \
         certificate; for a private cloud with its own CA, set that CA certificate in the profile"
    )]
    Tls { action: String, host: String, message: String },
    #[error("{action}: the list reports {total} items, more than ImageDesk will page through ({limit})")]
    TooManyPages { action: String, total: u64, limit: u64 },
    #[error("could not start the HTTP client: {0}")]
    Setup(String),
}

impl ClientError {
    /// The service's error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ClientError::Api(e) => Some(e),
            _ => None,
        }
    }

    /// A `DryRun` request that passed: the API says so with the error code `DryRunOperation`.
    pub fn is_dry_run_pass(&self) -> bool {
        self.api().is_some_and(|a| a.code == "DryRunOperation")
    }
}

/// Most pages ImageDesk reads for one listing (guards against a nonsense `TotalCount`).
const MAX_PAGES: u64 = 10_000;

/// The API client for one profile. Cheap to clone; share it between tasks.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    profile: Profile,
    credentials: Arc<dyn CredentialProvider>,
    /// Seconds to add to the local clock, learned from a server that said our time was off.
    clock_offset_secs: AtomicI64,
    /// Where mutating calls are recorded.
    audit: Option<Arc<dyn audit::AuditSink>>,
}

/// A raw successful answer.
#[derive(Clone, Debug)]
pub struct RawResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub attempts: u32,
}

impl Client {
    pub fn new(profile: Profile, credentials: Arc<dyn CredentialProvider>) -> Result<Self, ClientError> {
        Self::with_extra_roots(profile, credentials, None)
    }

    /// Like [`Client::new`], also trusting the CA certificates in `extra_roots_pem` (a private
    /// cloud's own CA; the public roots stay trusted).
    pub fn with_extra_roots(
        profile: Profile,
        credentials: Arc<dyn CredentialProvider>,
        extra_roots_pem: Option<&[u8]>,
    ) -> Result<Self, ClientError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(profile.connect_timeout_ms))
            .timeout(Duration::from_millis(profile.request_timeout_ms))
            .user_agent(concat!("ImageDesk/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = extra_roots_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ClientError::Setup(format!("the CA certificate file is not PEM: {e}")))?;
            if certificates.is_empty() {
                return Err(ClientError::Setup("the CA certificate file holds no certificate".into()));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder.build().map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                profile,
                credentials,
                clock_offset_secs: AtomicI64::new(0),
                audit: None,
            }),
        })
    }

    pub fn profile(&self) -> &Profile {
        &self.inner.profile
    }

    /// The same client, recording every mutating call to `sink`.
    pub fn with_audit(self, sink: Arc<dyn audit::AuditSink>) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                profile: inner.profile.clone(),
                credentials: Arc::clone(&inner.credentials),
                clock_offset_secs: AtomicI64::new(inner.clock_offset_secs.load(Ordering::Relaxed)),
                audit: Some(sink),
            }),
        }
    }

    /// The credential source every attempt signs with (long jobs renew it ahead of expiry).
    pub fn credentials(&self) -> &Arc<dyn CredentialProvider> {
        &self.inner.credentials
    }

    /// A new ClientToken: 32 hex characters (≤ 64 ASCII as the APIs require).
    pub fn new_client_token() -> String {
        sign::new_nonce()
    }

    /// Call one operation. A missing ClientToken is generated here once, so every retry of this
    /// logical call carries the same token.
    pub async fn call<O: RpcOperation>(&self, mut operation: O) -> Result<O::Response, ClientError> {
        if let Some(token) = operation.client_token_mut()
            && token.as_deref().is_none_or(str::is_empty)
        {
            *token = Some(Self::new_client_token());
        }
        let params = operation.to_params()?;
        let raw = self
            .call_raw_with(
                O::PRODUCT,
                O::ACTION,
                operation.region_id(),
                &params,
                operation.done_if_repeat_answers(),
            )
            .await?;
        decode_json(O::ACTION, &raw)
    }

    /// Read every page of a list: page 1 first (for the total), then the rest concurrently
    /// (at most `page_concurrency` at once), returned in page order.
    pub async fn list_all<O: PagedOperation>(&self, operation: O) -> Result<Vec<O::Item>, ClientError> {
        let size = O::MAX_PAGE_SIZE.max(1);
        let mut first = operation.clone();
        first.set_page(1, size);
        let page = O::into_page(self.call(first).await?);
        let total = page.total_count;
        let pages = total.div_ceil(u64::from(size)).max(1);
        if pages > MAX_PAGES {
            return Err(ClientError::TooManyPages {
                action: O::ACTION.to_owned(),
                total,
                limit: MAX_PAGES * u64::from(size),
            });
        }
        let mut items = page.items;
        let rest: Vec<Vec<O::Item>> = stream::iter(2..=pages)
            .map(|number| {
                let mut op = operation.clone();
                // `pages` ≤ MAX_PAGES, so the page number fits in u32.
                op.set_page(u32::try_from(number).unwrap_or(u32::MAX), size);
                async move { self.call(op).await.map(|r| O::into_page(r).items) }
            })
            .buffered(self.inner.profile.page_concurrency.max(1))
            .try_collect()
            .await?;
        items.extend(rest.into_iter().flatten());
        Ok(items)
    }

    /// How far the server's clock is ahead of this machine's, seconds, as learnt from a request
    /// the server refused for its time (0 until then). Every later request is signed with it.
    pub fn clock_offset_secs(&self) -> i64 {
        self.inner.clock_offset_secs.load(Ordering::Relaxed)
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.inner.clock_offset_secs.load(Ordering::Relaxed))
    }

    /// Send already-flattened parameters with retries; returns the raw body of the success.
    pub async fn call_raw(
        &self,
        product: Product,
        action: &str,
        region_id: Option<&str>,
        params: &Params,
    ) -> Result<RawResponse, ClientError> {
        self.call_raw_with(product, action, region_id, params, None).await
    }

    /// [`Client::call_raw`]; after a lost answer (a transport failure once the request may have
    /// arrived), a repeat answering `repeat_done` means the first attempt did the work: success.
    async fn call_raw_with(
        &self,
        product: Product,
        action: &str,
        region_id: Option<&str>,
        params: &Params,
        repeat_done: Option<&str>,
    ) -> Result<RawResponse, ClientError> {
        let endpoint = self.inner.profile.endpoint_for(product, region_id)?;
        let endpoint = &endpoint;
        let answer_lost = &AtomicBool::new(false);
        let result = self
            .with_retries(action, &endpoint.host_header(), |credential| async move {
                match self.attempt(product, action, region_id, params, endpoint, &credential).await {
                    Err(AttemptError::Api { error, .. })
                        if answer_lost.load(Ordering::Relaxed) && repeat_done == Some(error.code.as_str()) =>
                    {
                        tracing::info!(action, code = %error.code, "an earlier attempt whose answer was lost did the work");
                        let body = serde_json::json!({ "RequestId": error.request_id.clone().unwrap_or_default() });
                        Ok((200, body.to_string().into_bytes()))
                    }
                    Err(AttemptError::Transport(message)) => {
                        answer_lost.store(true, Ordering::Relaxed);
                        Err(AttemptError::Transport(message))
                    }
                    other => other,
                }
            })
            .await;
        if let Some(sink) = &self.inner.audit
            && audit::is_mutating(action)
        {
            sink.record(self.audit_entry(product, action, region_id, params, &result));
        }
        let ((status, body), attempts) = result?;
        Ok(RawResponse { status, body, attempts })
    }

    fn audit_entry(
        &self,
        product: Product,
        action: &str,
        region_id: Option<&str>,
        params: &Params,
        result: &Result<((u16, Vec<u8>), u32), ClientError>,
    ) -> audit::AuditEntry {
        let (request_id, outcome) = match result {
            Ok(((_, body), _)) => {
                let id = serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|v| {
                    ["RequestId", "RequestID", "requestId"]
                        .iter()
                        .find_map(|k| v.get(*k).and_then(|id| id.as_str()).map(str::to_owned))
                });
                (id, audit::AuditOutcome::Success)
            }
            Err(ClientError::Api(api)) => (
                api.request_id.clone(),
                audit::AuditOutcome::Error { code: api.code.clone(), message: api.message.clone() },
            ),
            Err(ClientError::Transport { message, .. }) => {
                (None, audit::AuditOutcome::Error { code: "Network".into(), message: message.clone() })
            }
            Err(other) => {
                (None, audit::AuditOutcome::Error { code: "Client".into(), message: other.to_string() })
            }
        };
        audit::AuditEntry {
            time: Utc::now(),
            profile: self.inner.profile.name.clone(),
            product: product.code().to_owned(),
            region: region_id.unwrap_or(&self.inner.profile.region_id).to_owned(),
            action: action.to_owned(),
            params: audit::redact(params),
            request_id,
            outcome,
        }
    }

    /// The retry loop shared by RPC and OSS calls: `send` makes one freshly signed attempt with
    /// the credential it is given. Returns the success and the number of attempts.
    pub(crate) async fn with_retries<T, F, Fut>(
        &self,
        action: &str,
        host: &str,
        mut send: F,
    ) -> Result<(T, u32), ClientError>
    where
        F: FnMut(Credential) -> Fut,
        Fut: std::future::Future<Output = Result<T, AttemptError>>,
    {
        let retry = &self.inner.profile.retry;
        let max_attempts = retry.max_attempts.max(1);
        let provider = &self.inner.credentials;
        let mut credential = match provider.current() {
            // Temporary credentials about to expire: renew first (keep the old ones if that fails;
            // they may still work, and the server's answer will say if not).
            Ok(current) => match provider.expires_at() {
                Some(expires)
                    if provider.renew_ahead() && assume_role::due_for_renewal(expires, Utc::now()) =>
                {
                    provider.refresh().await.unwrap_or(current)
                }
                _ => current,
            },
            Err(CredentialError::NeedsRefresh) => provider.refresh().await?,
            Err(e) => return Err(e.into()),
        };
        let (mut refreshed, mut resynced) = (false, false);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (decision, error, server_date, retry_after) = match send(credential.clone()).await {
                Ok(value) => return Ok((value, attempt)),
                Err(AttemptError::Transport(message)) => {
                    let e =
                        ClientError::Transport { action: action.to_owned(), host: host.to_owned(), message };
                    (Retry::Backoff, e, None, None)
                }
                Err(AttemptError::Api { error, server_date }) => {
                    let retry_after = error.retry_after;
                    (error.advice().retry, ClientError::Api(error), server_date, retry_after)
                }
                Err(AttemptError::Fatal(error)) => return Err(error),
            };
            if attempt >= max_attempts {
                tracing::warn!(action, attempt, "giving up: {error}");
                return Err(error);
            }
            match decision {
                Retry::Never => return Err(error),
                Retry::Backoff => {
                    let delay = retry_after.unwrap_or_else(|| backoff_delay(retry, attempt));
                    tracing::debug!(action, attempt, ?delay, "retrying after: {error}");
                    tokio::time::sleep(delay).await;
                }
                // A fresh nonce comes with every attempt anyway.
                Retry::NewNonce => tracing::debug!(action, attempt, "retrying with a new nonce"),
                Retry::ResignFreshTime => {
                    if resynced {
                        return Err(error);
                    }
                    resynced = true;
                    if let Some(server) = server_date {
                        let offset = (server - Utc::now()).num_seconds();
                        self.inner.clock_offset_secs.store(offset, Ordering::Relaxed);
                        tracing::warn!(action, offset, "local clock differs from the server; compensating");
                    }
                }
                Retry::RefreshCredentials => {
                    if refreshed {
                        return Err(error);
                    }
                    refreshed = true;
                    match self.inner.credentials.refresh().await {
                        Ok(fresh) => credential = fresh,
                        // The server's own error says more than "cannot refresh".
                        Err(refresh_error) => {
                            tracing::warn!(action, "credential refresh failed: {refresh_error}");
                            return Err(error);
                        }
                    }
                }
            }
        }
    }

    async fn attempt(
        &self,
        product: Product,
        action: &str,
        region_id: Option<&str>,
        params: &Params,
        endpoint: &Endpoint,
        credential: &Credential,
    ) -> Result<(u16, Vec<u8>), AttemptError> {
        let request = self.build_request(
            product,
            action,
            region_id,
            params,
            endpoint,
            credential,
            self.now(),
            &sign::new_nonce(),
        );
        let response =
            request.send().await.map_err(|e| transport_failure(&e, action, &endpoint.host_header()))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_answer(response, action).await?;
        let retry_after = header(&headers, "x-acs-retry-after")
            .or_else(|| header(&headers, "retry-after"))
            .and_then(|v| parse_retry_after(&v));
        let server_date = header(&headers, "date")
            .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
            .map(|d| d.with_timezone(&Utc));
        if (200..300).contains(&status) {
            if let Some(mut error) = decode_success_body_failure(status, &body) {
                error.retry_after = retry_after;
                return Err(AttemptError::Api { error: Box::new(error), server_date });
            }
            return Ok((status, body));
        }
        let mut error = decode_pop_error(status, &body).unwrap_or_else(|| {
            let code = match status {
                503 => "ServiceUnavailable",
                429 => "Throttling",
                s if s >= 500 => "InternalError",
                _ => "HttpError",
            };
            ApiError::new(
                Service::Pop,
                status,
                code,
                format!("HTTP {status} without an error document: {}", snippet(&body)),
            )
        });
        error.retry_after = retry_after;
        Err(AttemptError::Api { error: Box::new(error), server_date })
    }

    /// One signed attempt. Pure except for the HTTP client handle.
    #[allow(clippy::too_many_arguments)]
    fn build_request(
        &self,
        product: Product,
        action: &str,
        region_id: Option<&str>,
        params: &Params,
        endpoint: &Endpoint,
        credential: &Credential,
        time: DateTime<Utc>,
        nonce: &str,
    ) -> reqwest::RequestBuilder {
        let profile = &self.inner.profile;
        let version = product.version();
        let http = &self.inner.http;
        match (&profile.style, profile.effective_rpc_signature()) {
            (RequestStyle::Rpc, RpcSignature::Acs3) => {
                // SDK form: POST, every parameter in the query, empty body.
                let host = endpoint.host_header();
                let headers =
                    acs3::request_headers(&host, action, version, b"", None, credential, time, nonce);
                let pairs = || headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                let names = acs3::default_signed_header_names(pairs());
                let signed = acs3::sign(
                    "POST",
                    "/",
                    params.iter(),
                    pairs(),
                    &names,
                    acs3::EMPTY_PAYLOAD_HASH,
                    credential,
                );
                let query = rpc::encode_pairs(params.iter());
                let path = format!("{}/", endpoint.base_path());
                let url = if query.is_empty() {
                    endpoint.url_for(&path)
                } else {
                    format!("{}?{query}", endpoint.url_for(&path))
                };
                let mut builder = http.post(url).header("authorization", signed.authorization);
                for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
                    builder = builder.header(k.as_str(), v.as_str());
                }
                builder
            }
            (style, _) => {
                // RPC-SHA1 with every parameter in a form body.
                let mut api = params.clone();
                let mut extra_headers = Vec::new();
                let path = match style {
                    RequestStyle::Rpc => format!("{}/", endpoint.base_path()),
                    RequestStyle::Asapi(tenancy) => {
                        api.insert("Product", product.code().to_ascii_lowercase());
                        if !api.contains("RegionId") {
                            api.insert("RegionId", region_id.unwrap_or(&profile.region_id));
                        }
                        extra_headers = tenancy.headers(product);
                        match endpoint.base_path() {
                            "" => "/asapi/v3".to_owned(),
                            base => base.to_owned(),
                        }
                    }
                    RequestStyle::ApsaraRoute { path_template, tenancy } => {
                        extra_headers = tenancy.headers(product);
                        let route =
                            path_template.replace("{product}", product.code()).replace("{action}", action);
                        format!("{}{}", endpoint.base_path(), route)
                    }
                };
                let (all, _signed) = rpc::sign_params("POST", action, version, &api, credential, time, nonce);
                let mut builder = http
                    .post(endpoint.url_for(&path))
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(rpc::encode_pairs(all.iter()));
                for (k, v) in extra_headers {
                    builder = builder.header(k, v);
                }
                builder
            }
        }
    }
}

pub(crate) enum AttemptError {
    Transport(String),
    Api {
        error: Box<ApiError>,
        server_date: Option<DateTime<Utc>>,
    },
    /// Not worth repeating (an answer too large to read).
    Fatal(ClientError),
}

/// Largest answer ImageDesk reads: a page of 100 images is about 200 KB, an OSS listing of 1 000
/// keys about 500 KB. Anything far larger is a broken or hostile server, not data.
pub(crate) const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Read a response body, refusing (without buffering it) one larger than [`MAX_ANSWER_BYTES`].
pub(crate) async fn read_answer(
    mut response: reqwest::Response,
    action: &str,
) -> Result<Vec<u8>, AttemptError> {
    let status = response.status().as_u16();
    let too_large = |body: &[u8]| {
        AttemptError::Fatal(ClientError::Decode {
            action: action.to_owned(),
            status,
            reason: format!(
                "the answer is larger than {} MiB, far more than any real answer; ImageDesk stopped reading it",
                MAX_ANSWER_BYTES >> 20
            ),
            snippet: snippet(body),
        })
    };
    if response.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
        return Err(too_large(&[]));
    }
    let mut body = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| AttemptError::Transport(describe_reqwest(&e)))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large(&body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A failed exchange. A certificate this client does not trust is final: repeating cannot help,
/// the user has to act. Anything else may pass.
pub(crate) fn transport_failure(error: &reqwest::Error, action: &str, host: &str) -> AttemptError {
    let message = describe_reqwest(error);
    if error.is_connect() && message.contains("certificate") {
        return AttemptError::Fatal(ClientError::Tls {
            action: action.to_owned(),
            host: host.to_owned(),
            message,
        });
    }
    AttemptError::Transport(message)
}

pub(crate) fn describe_reqwest(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

/// A call's JSON answer as `T` (what [`Client::call`] does after [`Client::call_raw`]).
pub fn decode_json<T: serde::de::DeserializeOwned>(
    action: &str,
    raw: &RawResponse,
) -> Result<T, ClientError> {
    let mut deserializer = serde_json::Deserializer::from_slice(&raw.body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // Syntax errors (a truncated answer) have no useful path; type errors do.
        let reason = if path == "." || inner.is_syntax() || inner.is_eof() {
            inner.to_string()
        } else {
            format!("field {path}: {inner}")
        };
        let reason = without_secrets_of(reason, &raw.body);
        ClientError::Decode {
            action: action.to_owned(),
            status: raw.status,
            reason,
            snippet: snippet(&raw.body),
        }
    })
}

/// The start of a body for an error message, secret-named members masked (an AssumeRole answer
/// carries an AccessKeySecret, an E-HPC image a registry password).
fn snippet(body: &[u8]) -> String {
    mask_secret_values(&String::from_utf8_lossy(&body[..body.len().min(200)]))
}

/// Byte ranges of the string values of secret-named members (`"Password":"…"`) in a JSON text,
/// found by reading name/value pairs rather than parsing, so a truncated or broken text works
/// too (a value cut off runs to the end).
fn secret_value_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut ranges = Vec::new();
    let mut at = 0;
    while let Some(open) = text[at..].find('"').map(|i| at + i + 1) {
        let close = string_end(bytes, open);
        let name = &text[open..close];
        at = (close + 1).min(text.len());
        let rest = text[at..].trim_start();
        let Some(value) = rest.strip_prefix(':').map(str::trim_start) else { continue };
        if !value.starts_with('"') {
            continue;
        }
        let start = text.len() - value.len() + 1;
        let end = string_end(bytes, start);
        if audit::is_secret_name(name) {
            ranges.push(start..end);
        }
        at = (end + 1).min(text.len());
    }
    ranges
}

/// Where the JSON string starting at `start` ends (its closing quote, or the end of the text).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn mask_secret_values(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut from = 0;
    for range in secret_value_ranges(text) {
        masked.push_str(&text[from..range.start]);
        masked.push_str("***");
        from = range.end;
    }
    masked.push_str(&text[from..]);
    masked
}

/// `message` with every secret value of `body` replaced (serde quotes the value it choked on).
fn without_secrets_of(message: String, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    secret_value_ranges(&text)
        .into_iter()
        .map(|r| &text[r])
        .filter(|value| !value.is_empty())
        .fold(message, |message, value| message.replace(value, "***"))
}

/// Exponential backoff with "equal jitter": half the capped delay plus a random half.
pub fn backoff_delay(config: &RetryConfig, attempt: u32) -> Duration {
    let exp = config.base_delay_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(config.max_delay_ms).max(1);
    let half = capped / 2;
    Duration::from_millis(half + rand::random_range(0..=capped - half))
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn secret_values_are_masked_in_bodies_quoted_by_errors_even_when_cut_short() {
        let body =
            r#"{"Credentials":{"AccessKeyId":"STS.a","AccessKeySecret":"s3cr\"et","SecurityToken":"CAIS"#;
        assert_eq!(
            mask_secret_values(body),
            r#"{"Credentials":{"AccessKeyId":"STS.a","AccessKeySecret":"***","SecurityToken":"***"#
        );
        // ClientToken is not a secret; a name that only looks like one in a value is not a name.
        let body = r#"{"ClientToken":"abc","Note":"password","Password" : "p4ss"}"#;
        assert_eq!(mask_secret_values(body), r#"{"ClientToken":"abc","Note":"password","Password" : "***"}"#);
        let raw = RawResponse {
            status: 200,
            body: br#"{"Image":{"Password":7,"RegistryUrl":["x"]}}"#.to_vec(),
            attempts: 1,
        };
        let message =
            without_secrets_of("expected a string, got \"hunter22\"".into(), br#"{"Password":"hunter22"}"#);
        assert_eq!(message, "expected a string, got \"***\"");
        assert!(decode_json::<serde_json::Value>("GetImage", &raw).is_ok());
    }
}

#[cfg(test)]
mod ca_tests {
    use super::*;
    use crate::client::StaticCredentials;

    fn credentials() -> Arc<dyn CredentialProvider> {
        Arc::new(StaticCredentials::new(Credential::new("LTAI5tExample", "secret")))
    }

    #[test]
    fn a_private_cloud_ca_is_accepted_and_garbage_is_refused_clearly() {
        let pem = include_bytes!("../../tests/fixtures/private-cloud-ca.pem");
        let profile = Profile::new("apsara", "cn-hangzhou");
        assert!(Client::with_extra_roots(profile.clone(), credentials(), Some(pem)).is_ok());
        let error = Client::with_extra_roots(profile.clone(), credentials(), Some(b"not a certificate"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("CA certificate"), "{error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_capped() {
        let config = RetryConfig { max_attempts: 10, base_delay_ms: 100, max_delay_ms: 1000 };
        for _ in 0..50 {
            let d1 = backoff_delay(&config, 1).as_millis();
            let d3 = backoff_delay(&config, 3).as_millis();
            let d9 = backoff_delay(&config, 9).as_millis();
            assert!((50..=100).contains(&d1), "{d1}");
            assert!((200..=400).contains(&d3), "{d3}");
            assert!((500..=1000).contains(&d9), "{d9}");
        }
    }
}
