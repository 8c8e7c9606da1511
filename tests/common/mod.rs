//! A scripted loopback HTTP responder for client tests: records every request, verifies its
//! signature with the protocol layer, and answers from a script.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use imagedesk::protocol::encode::parse_form;
use imagedesk::protocol::sign::acs3;
use imagedesk::sandbox::auth::{Keyring, NonceCache, OssParts, RpcParts, verify_oss, verify_rpc};
use imagedesk::{Credential, Secret};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// Did the signature verify with the server's copy of the secret?
    pub signature_ok: bool,
    pub signature: String,
    pub nonce: String,
}

impl Seen {
    /// A parameter from the query or the form body.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().chain(self.form.iter()).find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self { status, body: body.into(), headers: vec![("content-type".into(), "application/json".into())] }
    }
    pub fn error(status: u16, code: &str) -> Self {
        Self::json(
            status,
            format!(
                r#"{{"RequestId":"R-{code}","HostId":"127.0.0.1","Code":"{code}","Message":"scripted {code}"}}"#
            ),
        )
    }
    /// No answer: the connection is cut once the request has been handled (a lost answer).
    pub fn cut() -> Self {
        Self { status: 0, body: String::new(), headers: Vec::new() }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

pub struct Responder {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    secrets: Vec<Credential>,
    script: Mutex<VecDeque<Reply>>,
    fallback: Box<Handler>,
    seen: Arc<Mutex<Vec<Seen>>>,
    delay_ms: u64,
    in_flight: Mutex<(usize, usize)>,
}

impl Responder {
    /// Serve on 127.0.0.1 (a random port): scripted replies first, then `fallback`.
    pub async fn start(
        credentials: Vec<Credential>,
        script: Vec<Reply>,
        delay_ms: u64,
        fallback: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Responder {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            secrets: credentials,
            script: Mutex::new(script.into()),
            fallback: Box::new(fallback),
            seen: seen.clone(),
            delay_ms,
            in_flight: Mutex::new((0, 0)),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Responder { addr, shared }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Most requests that were being handled at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.shared.in_flight.lock().unwrap().1
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = parse_form(uri.query().unwrap_or(""));
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let form = if is_form { parse_form(&String::from_utf8_lossy(&body)) } else { Vec::new() };
    let header_pairs: Vec<(String, String)> =
        headers.iter().map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())).collect();
    let (signature_ok, signature, nonce) =
        verify(&shared.secrets, method.as_str(), uri.path(), &query, &form, &header_pairs, &body);
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        form,
        headers: header_pairs,
        signature_ok,
        signature,
        nonce,
    };
    shared.seen.lock().unwrap().push(seen.clone());
    {
        let mut f = shared.in_flight.lock().unwrap();
        f.0 += 1;
        f.1 = f.1.max(f.0);
    }
    if shared.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(shared.delay_ms)).await;
    }
    let reply = shared.script.lock().unwrap().pop_front().unwrap_or_else(|| (shared.fallback)(&seen));
    shared.in_flight.lock().unwrap().0 -= 1;
    if reply.status == 0 {
        let stream =
            futures_util::stream::once(async { Err::<Bytes, std::io::Error>(std::io::Error::other("cut")) });
        return Response::new(axum::body::Body::from_stream(stream));
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (k, v) in reply.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(&v).unwrap(),
        );
    }
    response
}

/// Verify with the sandbox's own authenticator (no skew limit, no replay memory: this
/// responder checks signatures only). Returns (ok, signature, nonce-or-date) for the record.
fn verify(
    credentials: &[Credential],
    method: &str,
    path: &str,
    query: &[(String, String)],
    form: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
) -> (bool, String, String) {
    let keyring = Keyring::new(credentials.to_vec(), Vec::new());
    let header = |name: &str| {
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let param = |name: &str| {
        query.iter().chain(form.iter()).find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    };
    let authorization = header("authorization");
    let now = chrono::Utc::now();
    if authorization.starts_with("OSS") {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
        let trimmed = decoded.trim_start_matches('/');
        let (bucket, key) = match trimmed.split_once('/') {
            Some((b, k)) => (Some(b), k),
            None if !trimmed.is_empty() => (Some(trimmed), ""),
            None => (None, ""),
        };
        let parts = OssParts { method, bucket, key, query, headers };
        let signature = authorization.rsplit(['=', ':']).next().unwrap_or_default().to_owned();
        let ok = verify_oss(parts, &keyring, now, i64::MAX / 4).is_ok();
        return (ok, signature, header("date") + &header("x-oss-date"));
    }
    let parts = RpcParts { method, query, form, headers, body };
    let ok = verify_rpc(parts, &keyring, &mut NonceCache::default(), now, i64::MAX / 4, true).is_ok();
    if let Some(auth) = acs3::parse_authorization(&authorization) {
        return (ok, auth.signature, header("x-acs-signature-nonce"));
    }
    (ok, param("Signature"), param("SignatureNonce"))
}

pub fn secret(s: &str) -> Secret {
    Secret::new(s)
}
