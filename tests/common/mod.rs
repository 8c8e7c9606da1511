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
use imagedesk::protocol::sign::{acs3, oss_v1, oss_v4, rpc, sha256_hex};
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
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (k, v) in reply.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(&v).unwrap(),
        );
    }
    response
}

/// Rebuild the signature from what arrived (V3 header or RPC-SHA1 parameters).
fn verify(
    credentials: &[Credential],
    method: &str,
    path: &str,
    query: &[(String, String)],
    form: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
) -> (bool, String, String) {
    let header =
        |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let find = |id: &str| credentials.iter().find(|c| c.access_key_id == id);
    // OSS, path style: /bucket/key.
    let decoded = form_decode_path(path);
    let (bucket, key) = match decoded.trim_start_matches('/').split_once('/') {
        Some((b, k)) => (Some(b.to_owned()), k.to_owned()),
        None if decoded.len() > 1 => (Some(decoded.trim_start_matches('/').to_owned()), String::new()),
        None => (None, String::new()),
    };
    let pairs = || headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    if let Some((id, provided)) = header("authorization").and_then(|a| oss_v1::parse_authorization(&a)) {
        let Some(cred) = find(&id) else {
            return (false, provided, String::new());
        };
        let q = query.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let signed = oss_v1::sign(method, bucket.as_deref(), &key, q, pairs(), cred);
        return (signed.signature == provided, provided, header("date").unwrap_or_default());
    }
    if let Some(auth) = header("authorization").and_then(|a| oss_v4::parse_authorization(&a)) {
        let Some(cred) = find(&auth.access_key_id) else {
            return (false, auth.signature, String::new());
        };
        let request = oss_v4::OssV4Request {
            verb: method,
            bucket: bucket.as_deref(),
            key: &key,
            query,
            headers,
            additional_headers: &auth.additional_headers,
            region: &auth.region,
        };
        let signed = oss_v4::sign(&request, cred);
        return (
            signed.signature == auth.signature,
            auth.signature,
            header("x-oss-date").unwrap_or_default(),
        );
    }
    if let Some(auth) = header("authorization").and_then(|a| acs3::parse_authorization(&a)) {
        let Some(cred) = credentials.iter().find(|c| c.access_key_id == auth.access_key_id) else {
            return (false, auth.signature, String::new());
        };
        let hash_ok = header("x-acs-content-sha256").as_deref() == Some(sha256_hex(body).as_str());
        let signed = acs3::sign(
            method,
            "/",
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &auth.signed_headers,
            &header("x-acs-content-sha256").unwrap_or_default(),
            cred,
        );
        let ok = hash_ok && signed.signature == auth.signature;
        return (ok, auth.signature, header("x-acs-signature-nonce").unwrap_or_default());
    }
    let all: Vec<(&str, &str)> =
        query.iter().chain(form.iter()).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let get =
        |name: &str| all.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()).unwrap_or_default();
    let provided = get("Signature");
    let Some(cred) = credentials.iter().find(|c| c.access_key_id == get("AccessKeyId")) else {
        return (false, provided, get("SignatureNonce"));
    };
    let signed = rpc::sign(method, all.iter().copied(), &cred.access_key_secret);
    (signed.signature == provided, provided, get("SignatureNonce"))
}

fn form_decode_path(path: &str) -> String {
    percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned()
}

pub fn secret(s: &str) -> Secret {
    Secret::new(s)
}
