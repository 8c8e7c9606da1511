//! Decoding error responses: the POP JSON (or XML) error body, OSS XML errors (also carried in
//! `x-oss-err` headers on HEAD), and the Apsara Stack route envelope
//! (`resultCode`/`resultMsg`/`result`).

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::catalog::{self, Advice};

/// Which kind of service answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// ECS, ENS, E-HPC Instant, ASAPI (JSON body).
    Pop,
    Oss,
    /// Apsara Stack `/apsara/route/...` envelope.
    ApsaraRoute,
}

/// An error the service returned, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub service: Service,
    pub http_status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    pub host_id: Option<String>,
    pub recommend: Option<String>,
    /// RAM denial details (`AccessDeniedDetail`), kept as sent.
    pub access_denied_detail: Option<Value>,
    /// The server's string-to-sign, from `SignatureDoesNotMatch` (POP message or OSS XML).
    pub server_string_to_sign: Option<String>,
    /// OSS detailed error code (`EC`).
    pub ec: Option<String>,
    /// A server-requested back-off (`x-acs-retry-after` / `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(
        service: Service,
        http_status: u16,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            service,
            http_status,
            code: code.into(),
            message: message.into(),
            request_id: None,
            host_id: None,
            recommend: None,
            access_denied_detail: None,
            server_string_to_sign: None,
            ec: None,
            retry_after: None,
        }
    }

    /// What to do about it: retry policy, field, and a message in English and Chinese.
    pub fn advice(&self) -> Advice {
        catalog::advice(&self.code, self.http_status, &self.message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (HTTP {}): {}", self.code, self.http_status, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " [RequestId {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// Find a key case-insensitively (`Code`/`code`, `RequestId`/`requestId`/`RequestID`).
fn field<'a>(object: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// A blank code is no code: callers then fall back to one derived from the HTTP status.
fn code(value: &Value) -> Option<String> {
    text(value).filter(|c| !c.trim().is_empty())
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

const STRING_TO_SIGN_MARKER: &str = "server string to sign is:";

/// Decode a POP error body (JSON, or XML `<Error>`). `None` if the body is not an error document.
pub fn decode_pop_error(http_status: u16, body: &[u8]) -> Option<ApiError> {
    let trimmed = std::str::from_utf8(body).ok()?.trim();
    if trimmed.starts_with('<') {
        return decode_xml_error(Service::Pop, http_status, trimmed);
    }
    let value: Value = serde_json::from_str(trimmed).ok()?;
    let object = value.as_object()?;
    let code = field(object, "Code").and_then(code)?;
    let message = field(object, "Message").and_then(text).unwrap_or_default();
    let mut error = ApiError::new(Service::Pop, http_status, code, message);
    error.request_id = field(object, "RequestId").and_then(text);
    error.host_id = field(object, "HostId").and_then(text);
    error.recommend = field(object, "Recommend").and_then(text);
    error.access_denied_detail = field(object, "AccessDeniedDetail").cloned().filter(|v| !v.is_null());
    error.server_string_to_sign = error
        .message
        .split_once(STRING_TO_SIGN_MARKER)
        .map(|(_, sts)| sts.trim().to_owned())
        .filter(|s| !s.is_empty());
    Some(error)
}

/// A 2xx body that nevertheless reports failure: the Apsara route envelope
/// (`{"resultCode":-1,"resultMsg":"system error","result":null}`, possibly under `errorSample`),
/// an ENS body with a non-zero `Code`, or an E-HPC body with `"Success": false` and a `Code`.
pub fn decode_success_body_failure(http_status: u16, body: &[u8]) -> Option<ApiError> {
    let object = &envelope_fields(body)?;
    let envelope = field(object, "errorSample").and_then(Value::as_object).unwrap_or(object);
    if let Some(result_code) = field(envelope, "resultCode") {
        let ok = match result_code {
            Value::Number(n) => n.as_i64() == Some(0) || n.as_i64() == Some(200),
            Value::String(s) => matches!(s.as_str(), "0" | "200" | "OK" | "Success" | "success"),
            _ => false,
        };
        if ok {
            return None;
        }
        let result_code = text(result_code).unwrap_or_else(|| "?".to_owned());
        let message = field(envelope, "resultMsg").and_then(text).unwrap_or_default();
        let mut error = ApiError::new(
            Service::ApsaraRoute,
            http_status,
            catalog::APSARA_ROUTE_FAILURE,
            format!("{message} (resultCode {result_code})"),
        );
        error.request_id = field(object, "RequestId").and_then(text);
        return Some(error);
    }
    let success_false = matches!(field(object, "Success"), Some(Value::Bool(false)))
        || matches!(field(object, "Success").and_then(Value::as_str), Some("false" | "False"));
    let code = field(object, "Code").and_then(code);
    let failed_code = match (&code, success_false) {
        (Some(c), true) => Some(c.clone()),
        (Some(c), false) => {
            // ENS sends `Code: 0` on success; only a non-zero code with a message is a failure.
            let nonzero = c != "0" && c != "200" && !c.eq_ignore_ascii_case("success");
            (nonzero && field(object, "Message").is_some()).then(|| c.clone())
        }
        (None, true) => Some("OperationFailed".to_owned()),
        (None, false) => None,
    }?;
    let mut error = ApiError::new(
        Service::Pop,
        http_status,
        failed_code,
        field(object, "Message").and_then(text).unwrap_or_default(),
    );
    error.request_id = field(object, "RequestId").and_then(text);
    Some(error)
}

/// Top-level fields a 2xx body may report failure in.
const ENVELOPE_KEYS: &[&str] =
    &["errorSample", "resultCode", "resultMsg", "Success", "Code", "Message", "RequestId"];

/// The [`ENVELOPE_KEYS`] of a JSON object, every other field skipped unread: a page of 100 images
/// is not built into a tree just to look for a `Code`. `None` if the body is not a JSON object.
fn envelope_fields(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Fields;
    impl<'de> Visitor<'de> for Fields {
        type Value = serde_json::Map<String, Value>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut kept = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if ENVELOPE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(&key)) {
                    let value = map.next_value::<Value>()?;
                    kept.insert(key, value);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(kept)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let fields = deserializer.deserialize_map(Fields).ok()?;
    deserializer.end().ok()?;
    Some(fields)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct XmlError {
    #[serde(rename = "Code")]
    code: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(rename = "RequestId")]
    request_id: Option<String>,
    #[serde(rename = "HostId")]
    host_id: Option<String>,
    #[serde(rename = "EC")]
    ec: Option<String>,
    #[serde(rename = "RecommendDoc", alias = "Recommend")]
    recommend: Option<String>,
    #[serde(rename = "StringToSign")]
    string_to_sign: Option<String>,
}

fn decode_xml_error(service: Service, http_status: u16, xml: &str) -> Option<ApiError> {
    let parsed: XmlError = quick_xml::de::from_str(xml).ok()?;
    let code = parsed.code.filter(|c| !c.trim().is_empty())?;
    let mut error = ApiError::new(service, http_status, code, parsed.message.unwrap_or_default());
    error.request_id = parsed.request_id;
    error.host_id = parsed.host_id;
    error.ec = parsed.ec;
    error.recommend = parsed.recommend;
    error.server_string_to_sign = parsed.string_to_sign;
    if error.server_string_to_sign.is_none() {
        error.server_string_to_sign =
            error.message.split_once(STRING_TO_SIGN_MARKER).map(|(_, s)| s.trim().to_owned());
    }
    Some(error)
}

/// Decode an OSS error: the XML body, or for bodiless responses (HEAD) the `x-oss-err` header
/// (Base64 of the XML document) and `x-oss-ec`. Always returns an error, naming the status when
/// nothing else is known.
pub fn decode_oss_error(http_status: u16, body: &[u8], header: impl Fn(&str) -> Option<String>) -> ApiError {
    let from_body = std::str::from_utf8(body)
        .ok()
        .and_then(|xml| decode_xml_error(Service::Oss, http_status, xml.trim()));
    let from_header = || {
        let encoded = header("x-oss-err")?;
        let xml = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        decode_xml_error(Service::Oss, http_status, std::str::from_utf8(&xml).ok()?.trim())
    };
    let mut error = from_body.or_else(from_header).unwrap_or_else(|| {
        let code = match http_status {
            404 => "NotFound",
            403 => "AccessDenied",
            _ => "HttpError",
        };
        ApiError::new(
            Service::Oss,
            http_status,
            code,
            format!("OSS answered HTTP {http_status} with no error document"),
        )
    });
    if error.request_id.is_none() {
        error.request_id = header("x-oss-request-id");
    }
    if error.ec.is_none() {
        error.ec = header("x-oss-ec");
    }
    error
}

/// Parse `x-acs-retry-after` / `Retry-After` (positive integer seconds, or milliseconds when large).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let n: u64 = value.trim().parse().ok()?;
    match n {
        0 => None,
        // Values above an hour in seconds are surely milliseconds.
        n if n > 3600 => Some(Duration::from_millis(n)),
        n => Some(Duration::from_secs(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pop_json_error() {
        let body = br#"{"RequestId":"6BE56E05-XXXX","HostId":"ecs.ap-southeast-3.aliyuncs.com","Code":"InvalidImageId.NotFound","Message":"The specified ImageId does not exist.","Recommend":"https://api.alibabacloud.com/troubleshoot?q=InvalidImageId.NotFound"}"#;
        let e = decode_pop_error(404, body).unwrap();
        assert_eq!(e.code, "InvalidImageId.NotFound");
        assert_eq!(e.request_id.as_deref(), Some("6BE56E05-XXXX"));
        assert_eq!(e.host_id.as_deref(), Some("ecs.ap-southeast-3.aliyuncs.com"));
        assert!(e.to_string().contains("InvalidImageId.NotFound (HTTP 404)"));
    }

    #[test]
    fn decodes_lower_camel_and_access_denied_detail() {
        let body = br#"{"requestId":"R","code":"Forbidden.RAM","message":"denied","accessDeniedDetail":{"AuthAction":"ecs:ImportImage","NoPermissionType":"ImplicitDeny"}}"#;
        let e = decode_pop_error(403, body).unwrap();
        assert_eq!(e.code, "Forbidden.RAM");
        assert_eq!(e.request_id.as_deref(), Some("R"));
        assert_eq!(e.access_denied_detail.unwrap()["AuthAction"], "ecs:ImportImage");
    }

    #[test]
    fn extracts_server_string_to_sign() {
        let body = br#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:GET&%2F&A%3Db"}"#;
        assert_eq!(
            decode_pop_error(400, body).unwrap().server_string_to_sign.as_deref(),
            Some("GET&%2F&A%3Db")
        );
    }

    #[test]
    fn decodes_pop_xml_error_and_rejects_non_errors() {
        let xml = b"<?xml version=\"1.0\"?><Error><RequestId>R</RequestId><Code>Throttling</Code><Message>slow down</Message></Error>";
        assert_eq!(decode_pop_error(400, xml).unwrap().code, "Throttling");
        assert!(decode_pop_error(502, b"<html>Bad gateway</html>").is_none());
        assert!(decode_pop_error(500, b"not json").is_none());
        assert!(decode_pop_error(200, br#"{"RequestId":"x"}"#).is_none());
    }

    #[test]
    fn decodes_oss_xml_with_namespace_and_extras() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com">
  <Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match the signature you provided.</Message>
  <RequestId>6556E3AED11E553933CCDEDF</RequestId>
  <HostId>b.oss-cn-hangzhou.aliyuncs.com</HostId>
  <StringToSign>PUT

text/plain
Thu, 17 Nov 2005 18:49:58 GMT
/b/k</StringToSign>
  <EC>0002-00000040</EC>
</Error>"#;
        let e = decode_oss_error(403, xml, |_| None);
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert_eq!(e.ec.as_deref(), Some("0002-00000040"));
        assert!(e.server_string_to_sign.unwrap().ends_with("/b/k"));
    }

    #[test]
    fn decodes_oss_error_from_head_headers() {
        let xml = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>R1</RequestId></Error>";
        let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
        let e = decode_oss_error(404, b"", |name| match name {
            "x-oss-err" => Some(encoded.clone()),
            "x-oss-ec" => Some("0026-00000001".into()),
            _ => None,
        });
        assert_eq!(e.code, "NoSuchKey");
        assert_eq!(e.ec.as_deref(), Some("0026-00000001"));
        let bare = decode_oss_error(404, b"", |name| (name == "x-oss-request-id").then(|| "R2".to_owned()));
        assert_eq!((bare.code.as_str(), bare.request_id.as_deref()), ("NotFound", Some("R2")));
    }

    #[test]
    fn apsara_envelope_and_success_flags() {
        let e = decode_success_body_failure(
            200,
            br#"{"errorSample":{"resultCode":-1,"resultMsg":"system error","result":null}}"#,
        )
        .unwrap();
        assert_eq!(
            (e.service, e.code.as_str(), e.message.as_str()),
            (Service::ApsaraRoute, "Apsara.RouteFailure", "system error (resultCode -1)")
        );
        assert!(
            decode_success_body_failure(200, br#"{"resultCode":0,"resultMsg":"ok","result":{}}"#).is_none()
        );
        assert!(decode_success_body_failure(200, br#"{"RequestID":"1E3D5A1E0"}"#).is_none());
        // ENS: Code 0 is success, a non-zero Code with a message is a failure.
        assert!(decode_success_body_failure(200, br#"{"RequestId":"r","Code":0,"ImageId":"m-1"}"#).is_none());
        assert_eq!(
            decode_success_body_failure(200, br#"{"Code":"NoPermission","Message":"Permission denied."}"#)
                .unwrap()
                .code,
            "NoPermission"
        );
        // E-HPC: Success false.
        assert_eq!(
            decode_success_body_failure(200, br#"{"Success":false,"Code":"ImageNotFound","Message":"x"}"#)
                .unwrap()
                .code,
            "ImageNotFound"
        );
        assert!(decode_success_body_failure(200, br#"{"Success":true,"ImageId":"m-1"}"#).is_none());
    }

    #[test]
    fn blank_codes_count_as_absent() {
        // Found by tests/fuzz.rs: an empty `Code` became the error code, hiding the fallback.
        assert_eq!(decode_pop_error(503, br#"{"Code":"","Message":"busy"}"#), None);
        assert_eq!(decode_pop_error(503, br#"{"code":" "}"#), None);
        let e = decode_success_body_failure(200, br#"{"Success":false,"Code":"","Message":""}"#).unwrap();
        assert_eq!(e.code, "OperationFailed");
        assert_eq!(decode_success_body_failure(200, br#"{"Code":"","Message":"ok"}"#), None);
        let e = decode_oss_error(403, b"<Error><Code></Code><Message>m</Message></Error>", |_| None);
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(decode_pop_error(400, b"<Error><Code> </Code></Error>"), None);
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("1500000"), Some(Duration::from_millis(1_500_000)));
        assert_eq!(parse_retry_after("0"), None);
        assert_eq!(parse_retry_after("soon"), None);
    }
}
