//! OSS transport: addressing (virtual-host for DNS names, path style for IPs and localhost),
//! V1/V4 signing per attempt, XML error decoding, and the shared retry loop.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::Method;

use super::{AttemptError, Client, ClientError, Endpoint, header, read_answer, transport_failure};
use crate::protocol::encode::{pe, pe_path};
use crate::protocol::error::{decode_oss_error, parse_retry_after};
use crate::protocol::sign::{OssSignature, http_date, oss_v1, oss_v4};
use crate::secret::Credential;

/// One OSS request. `bucket: None` is a service-level call (ListBuckets).
#[derive(Clone, Debug, Default)]
pub struct OssRequest {
    pub method: String,
    pub bucket: Option<String>,
    pub key: String,
    /// Query parameters, e.g. `uploads` (empty value), `uploadId`, `partNumber`.
    pub query: Vec<(String, String)>,
    /// Extra headers (`content-type`, `content-md5`, `x-oss-*`); date and auth are added per attempt.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A successful OSS answer.
#[derive(Clone, Debug)]
pub struct OssResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub attempts: u32,
}

impl OssResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The URL and `Host` for a bucket/key: `bucket.host/key` on DNS endpoints (what OSS expects),
/// `host/bucket/key` on IP or `localhost` endpoints (the sandbox, test servers).
pub fn object_url(
    endpoint: &Endpoint,
    bucket: Option<&str>,
    key: &str,
    query: &[(String, String)],
) -> String {
    let path_style = endpoint.is_loopback() || endpoint.host().parse::<std::net::IpAddr>().is_ok();
    let mut url = match bucket {
        None => endpoint.url_for("/"),
        Some(b) if path_style => endpoint.url_for(&format!("/{}/{}", pe(b), pe_path(key))),
        Some(b) => format!("{}://{b}.{}/{}", endpoint.scheme(), endpoint.host_header(), pe_path(key)),
    };
    if !query.is_empty() {
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| if v.is_empty() { pe(k) } else { format!("{}={}", pe(k), pe(v)) })
            .collect();
        url.push('?');
        url.push_str(&encoded.join("&"));
    }
    url
}

impl Client {
    /// Send one OSS request with retries (each attempt re-dated and re-signed).
    pub async fn oss(
        &self,
        region_id: Option<&str>,
        request: &OssRequest,
    ) -> Result<OssResponse, ClientError> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| ClientError::Setup(format!("{:?} is not an HTTP method", request.method)))?;
        let endpoint = self.inner.profile.oss_endpoint_for(region_id)?;
        let region = region_id.filter(|r| !r.is_empty()).unwrap_or(&self.inner.profile.region_id).to_owned();
        let action =
            format!("OSS {} /{}/{}", request.method, request.bucket.as_deref().unwrap_or(""), request.key);
        let (endpoint, region, method, action) = (&endpoint, region.as_str(), &method, action.as_str());
        let ((status, headers, body), attempts) = self
            .with_retries(action, &endpoint.host_header(), |credential| async move {
                self.oss_attempt(action, endpoint, region, method, request, &credential, self.now()).await
            })
            .await?;
        Ok(OssResponse { status, headers, body, attempts })
    }

    async fn oss_attempt(
        &self,
        action: &str,
        endpoint: &Endpoint,
        region: &str,
        method: &Method,
        request: &OssRequest,
        credential: &Credential,
        time: DateTime<Utc>,
    ) -> Result<(u16, Vec<(String, String)>, Bytes), AttemptError> {
        let mut headers = request.headers.clone();
        headers.push(("date".to_owned(), http_date(time)));
        let authorization = match self.inner.profile.oss_signature {
            OssSignature::V1 => {
                headers.extend(oss_v1::sts_header(credential));
                let pairs = || headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                let query = request.query.iter().map(|(k, v)| (k.as_str(), v.as_str()));
                oss_v1::sign(
                    &request.method,
                    request.bucket.as_deref(),
                    &request.key,
                    query,
                    pairs(),
                    credential,
                )
                .authorization
            }
            OssSignature::V4 => {
                headers.extend(oss_v4::required_headers(credential, time));
                let signing = oss_v4::OssV4Request {
                    verb: &request.method,
                    bucket: request.bucket.as_deref(),
                    key: &request.key,
                    query: &request.query,
                    headers: &headers,
                    additional_headers: &[],
                    region,
                };
                oss_v4::sign(&signing, credential).authorization
            }
        };
        let url = object_url(endpoint, request.bucket.as_deref(), &request.key, &request.query);
        let mut builder = self.inner.http.request(method.clone(), url).header("authorization", authorization);
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let response = builder
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| transport_failure(&e, action, &endpoint.host_header()))?;
        let status = response.status().as_u16();
        let response_headers = response.headers().clone();
        let body = Bytes::from(read_answer(response, action).await?);
        if (200..300).contains(&status) {
            let pairs = response_headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect();
            return Ok((status, pairs, body));
        }
        let mut error = decode_oss_error(status, &body, |name| header(&response_headers, name));
        error.retry_after = header(&response_headers, "retry-after").and_then(|v| parse_retry_after(&v));
        let server_date = header(&response_headers, "date")
            .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
            .map(|d| d.with_timezone(&Utc));
        Err(AttemptError::Api { error: Box::new(error), server_date })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addressing_is_virtual_host_for_dns_and_path_style_for_ips() {
        let q = vec![("partNumber".to_owned(), "1".to_owned()), ("uploadId".to_owned(), "U 1".to_owned())];
        let dns = Endpoint::parse("https://oss-cn-hangzhou.aliyuncs.com", false).unwrap();
        assert_eq!(
            object_url(&dns, Some("bkt"), "images/a b+c.qcow2", &q),
            "https://bkt.oss-cn-hangzhou.aliyuncs.com/images/a%20b%2Bc.qcow2?partNumber=1&uploadId=U%201"
        );
        let ip = Endpoint::parse("http://127.0.0.1:9000", false).unwrap();
        assert_eq!(
            object_url(&ip, Some("bkt"), "k", &[("uploads".to_owned(), String::new())]),
            "http://127.0.0.1:9000/bkt/k?uploads"
        );
        assert_eq!(object_url(&dns, None, "", &[]), "https://oss-cn-hangzhou.aliyuncs.com/");
    }
}
