//! OSS emulation (placeholder: being written).

use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{OssView, SandboxError};

/// One authenticated OSS request (the body is passed separately, as a stream).
#[derive(Clone, Debug)]
pub struct OssHttpRequest {
    pub method: Method,
    /// `None` for service-level requests (ListBuckets).
    pub bucket: Option<String>,
    /// Decoded object key (`""` for bucket-level requests).
    pub key: String,
    /// Decoded query parameters.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    /// The `Host` the client used (for `HostId` in errors).
    pub host: String,
    pub request_id: String,
}

/// Buckets and objects stored as files under `<data dir>/oss`.
#[derive(Debug)]
pub struct OssStore {}

impl OssStore {
    pub fn open(_data_dir: &Path, _seed_demo: bool) -> Result<Self, SandboxError> {
        Ok(Self {})
    }

    pub async fn handle(&self, request: OssHttpRequest, _body: Body) -> Response {
        error_response(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "not yet",
            &request.request_id,
            &request.host,
            &[],
        )
    }
}

impl OssView for OssStore {
    fn bucket_region(&self, _bucket: &str) -> Option<String> {
        None
    }
    fn object_size(&self, _bucket: &str, _key: &str) -> Option<u64> {
        None
    }
    fn read_object_head(&self, _bucket: &str, _key: &str, _max: usize) -> Option<Vec<u8>> {
        None
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An OSS XML error document, with the request id in `x-oss-request-id` and the EC in `x-oss-ec`.
/// `extras` are added as elements (`StringToSign`, `OSSAccessKeyId`, `ArgumentName`, …).
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
    host: &str,
    extras: &[(&str, &str)],
) -> Response {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{}</Code>\n  <Message>{}</Message>\n  <RequestId>{}</RequestId>\n  <HostId>{}</HostId>\n",
        xml_escape(code),
        xml_escape(message),
        xml_escape(request_id),
        xml_escape(host)
    );
    for (name, value) in extras {
        xml.push_str(&format!("  <{name}>{}</{name}>\n", xml_escape(value)));
    }
    xml.push_str("</Error>\n");
    let mut response = (status, xml).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", axum::http::HeaderValue::from_static("application/xml"));
    if let Ok(v) = axum::http::HeaderValue::from_str(request_id) {
        headers.insert("x-oss-request-id", v);
    }
    response
}
