//! Endpoints and profiles: where requests go, in which style, signed how.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::protocol::Product;
use crate::protocol::sign::{OssSignature, RpcSignature};

/// Why an endpoint cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("endpoint {url:?} is not a valid URL: {reason}")]
    Malformed { url: String, reason: String },
    #[error("endpoint {url:?} must use https:// or http://, not {scheme}://")]
    UnsupportedScheme { url: String, scheme: String },
    #[error(
        "refusing plain HTTP to {host}: credentials and request signatures would cross the network unencrypted. \
         Use https://, or set `allow_insecure_http` in the profile if this host is on a trusted private network"
    )]
    InsecureHttp { host: String },
}

/// A validated base URL (`scheme://host[:port][/base/path]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    url: Url,
}

impl Endpoint {
    /// Accepts `https://host`, a bare `host` (HTTPS assumed), or `http://` for loopback hosts;
    /// other plain-HTTP hosts only with `allow_insecure_http`.
    pub fn parse(input: &str, allow_insecure_http: bool) -> Result<Self, EndpointError> {
        let input = input.trim();
        let with_scheme = if input.contains("://") { input.to_owned() } else { format!("https://{input}") };
        let url = Url::parse(&with_scheme)
            .map_err(|e| EndpointError::Malformed { url: input.to_owned(), reason: e.to_string() })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| EndpointError::Malformed { url: input.to_owned(), reason: "no host".to_owned() })?
            .to_owned();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) || allow_insecure_http => {}
            "http" => return Err(EndpointError::InsecureHttp { host }),
            other => {
                return Err(EndpointError::UnsupportedScheme {
                    url: input.to_owned(),
                    scheme: other.to_owned(),
                });
            }
        }
        Ok(Self { url })
    }

    pub fn scheme(&self) -> &str {
        self.url.scheme()
    }

    /// The host the request is signed for: `host` or `host:port` when the port is not default.
    pub fn host_header(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// The base path without a trailing slash (`""` for most endpoints, `/asapi/v3` for ASAPI).
    pub fn base_path(&self) -> &str {
        self.url.path().trim_end_matches('/')
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback_host(self.host())
    }

    /// `scheme://host[:port]` + `path` (path starts with `/`).
    pub fn url_for(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme(), self.host_header(), path)
    }
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

/// The public endpoint of a product in a region.
pub fn default_rpc_endpoint(product: Product, region_id: &str) -> String {
    match product {
        Product::Ecs => format!("https://ecs.{region_id}.aliyuncs.com"),
        Product::EhpcInstant => format!("https://ehpcinstant.{region_id}.aliyuncs.com"),
        // ENS has a single global endpoint; nodes are addressed by EnsRegionId.
        Product::Ens => "https://ens.aliyuncs.com".to_owned(),
        // STS answers globally; regional endpoints exist but are optional.
        Product::Sts if region_id.is_empty() => "https://sts.aliyuncs.com".to_owned(),
        Product::Sts => format!("https://sts.{region_id}.aliyuncs.com"),
    }
}

/// The OSS endpoint of a region (`oss-<region>[-internal].aliyuncs.com`).
pub fn default_oss_endpoint(region_id: &str, internal: bool) -> String {
    if internal {
        format!("https://oss-{region_id}-internal.aliyuncs.com")
    } else {
        format!("https://oss-{region_id}.aliyuncs.com")
    }
}

/// How requests reach an RPC API (Apsara Stack gateways differ from the public cloud).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestStyle {
    /// Standard RPC: `POST /` on the product endpoint.
    #[default]
    Rpc,
    /// Apsara Stack ASAPI gateway: `POST /asapi/v3`, RPC-SHA1 signed, signed `Product`
    /// parameter and tenancy headers.
    Asapi(Tenancy),
    /// The route style of the Apsara Stack reference pages: `POST /apsara/route/{Product}/{Action}`
    /// with parameters in a form body, RPC-SHA1 signed. No public source pins this style down,
    /// so the path template is configurable (`{product}` and `{action}` are substituted).
    ApsaraRoute { path_template: String, tenancy: Tenancy },
}

pub const DEFAULT_APSARA_ROUTE: &str = "/apsara/route/{product}/{action}";

/// Apsara Stack tenancy headers (not signed under RPC-SHA1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenancy {
    pub organization_id: Option<String>,
    pub resource_group_id: Option<String>,
    pub region_id: Option<String>,
    /// `x-acs-caller-sdk-source`, required by the ASAPI SDK.
    pub caller_sdk_source: Option<String>,
}

impl Tenancy {
    pub fn headers(&self, product: Product) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut push = |name, value: &Option<String>| {
            if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                out.push((name, v.clone()));
            }
        };
        push("x-acs-organizationid", &self.organization_id);
        push("x-acs-resourcegroupid", &self.resource_group_id);
        push("x-acs-regionid", &self.region_id);
        push("x-acs-caller-sdk-source", &self.caller_sdk_source);
        out.push(("x-ascm-product-name", product.code().to_owned()));
        out
    }
}

/// Retry behaviour for one profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryConfig {
    /// Total attempts including the first.
    pub max_attempts: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self { max_attempts: 5, base_delay_ms: 200, max_delay_ms: 20_000 }
    }
}

/// An account profile minus its secrets (those live in the OS keychain).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub region_id: String,
    /// One endpoint for every RPC product (an Apsara gateway, the sandbox); overrides defaults.
    pub endpoint: Option<String>,
    /// Per-product overrides, taking precedence over `endpoint`.
    pub product_endpoints: BTreeMap<Product, String>,
    pub oss_endpoint: Option<String>,
    pub style: RequestStyle,
    pub rpc_signature: RpcSignature,
    pub oss_signature: OssSignature,
    pub allow_insecure_http: bool,
    pub connect_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub retry: RetryConfig,
    /// Pages fetched at once after the first. 16: 5 000 images (51 pages) arrive in 5 rounds
    /// after page 1 instead of 50, which hides the round trip (`cargo bench --bench pager`);
    /// a throttled page is retried with backoff like any call.
    pub page_concurrency: usize,
}

impl Profile {
    pub fn new(name: impl Into<String>, region_id: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            region_id: region_id.into(),
            endpoint: None,
            product_endpoints: BTreeMap::new(),
            oss_endpoint: None,
            style: RequestStyle::Rpc,
            rpc_signature: RpcSignature::Acs3,
            oss_signature: OssSignature::V4,
            allow_insecure_http: false,
            connect_timeout_ms: 10_000,
            request_timeout_ms: 60_000,
            retry: RetryConfig::default(),
            page_concurrency: 16,
        }
    }

    /// Endpoint for `product`, for a call in `region_id` (falls back to the profile's region).
    pub fn endpoint_for(&self, product: Product, region_id: Option<&str>) -> Result<Endpoint, EndpointError> {
        let region = region_id.filter(|r| !r.is_empty()).unwrap_or(&self.region_id);
        let url = self
            .product_endpoints
            .get(&product)
            .or(self.endpoint.as_ref())
            .cloned()
            .unwrap_or_else(|| default_rpc_endpoint(product, region));
        Endpoint::parse(&url, self.allow_insecure_http)
    }

    pub fn oss_endpoint_for(&self, region_id: Option<&str>) -> Result<Endpoint, EndpointError> {
        let region = region_id.filter(|r| !r.is_empty()).unwrap_or(&self.region_id);
        let url = self.oss_endpoint.clone().unwrap_or_else(|| default_oss_endpoint(region, false));
        Endpoint::parse(&url, self.allow_insecure_http)
    }

    /// Apsara gateways only take RPC-SHA1 (spec apis.md §4).
    pub fn effective_rpc_signature(&self) -> RpcSignature {
        match self.style {
            RequestStyle::Rpc => self.rpc_signature,
            RequestStyle::Asapi(_) | RequestStyle::ApsaraRoute { .. } => RpcSignature::RpcSha1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_endpoints_follow_the_region() {
        let p = Profile::new("p", "cn-hangzhou");
        assert_eq!(
            p.endpoint_for(Product::Ecs, None).unwrap().url_for("/"),
            "https://ecs.cn-hangzhou.aliyuncs.com/"
        );
        assert_eq!(
            p.endpoint_for(Product::Ecs, Some("ap-southeast-1")).unwrap().host(),
            "ecs.ap-southeast-1.aliyuncs.com"
        );
        assert_eq!(
            p.endpoint_for(Product::EhpcInstant, None).unwrap().host(),
            "ehpcinstant.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(p.endpoint_for(Product::Ens, Some("cn-beijing")).unwrap().host(), "ens.aliyuncs.com");
        assert_eq!(p.oss_endpoint_for(None).unwrap().host(), "oss-cn-hangzhou.aliyuncs.com");
        assert_eq!(default_oss_endpoint("cn-beijing", true), "https://oss-cn-beijing-internal.aliyuncs.com");
    }

    #[test]
    fn overrides_take_precedence() {
        let mut p = Profile::new("p", "cn-hangzhou");
        p.endpoint = Some("https://gateway.example.com".into());
        p.product_endpoints.insert(Product::Ens, "ens.internal.example".into());
        assert_eq!(p.endpoint_for(Product::Ecs, None).unwrap().host(), "gateway.example.com");
        let ens = p.endpoint_for(Product::Ens, None).unwrap();
        assert_eq!((ens.scheme(), ens.host()), ("https", "ens.internal.example"));
    }

    #[test]
    fn plain_http_only_for_loopback_unless_allowed() {
        for ok in
            ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:80", "https://ecs.example.com"]
        {
            assert!(Endpoint::parse(ok, false).is_ok(), "{ok}");
        }
        let err = Endpoint::parse("http://ecs.cn-hangzhou.aliyuncs.com", false).unwrap_err();
        assert_eq!(err, EndpointError::InsecureHttp { host: "ecs.cn-hangzhou.aliyuncs.com".into() });
        assert!(err.to_string().contains("refusing plain HTTP to ecs.cn-hangzhou.aliyuncs.com"));
        assert!(Endpoint::parse("http://10.0.0.5", true).is_ok());
        assert!(matches!(Endpoint::parse("ftp://x", false), Err(EndpointError::UnsupportedScheme { .. })));
        assert!(matches!(Endpoint::parse("https://", false), Err(EndpointError::Malformed { .. })));
    }

    #[test]
    fn host_header_and_base_path() {
        let e = Endpoint::parse("http://127.0.0.1:8080/asapi/v3/", false).unwrap();
        assert_eq!(e.host_header(), "127.0.0.1:8080");
        assert_eq!(e.base_path(), "/asapi/v3");
        assert_eq!(Endpoint::parse("https://ecs.x.com:443", false).unwrap().host_header(), "ecs.x.com");
    }

    #[test]
    fn apsara_styles_force_rpc_sha1_and_send_tenancy() {
        let mut p = Profile::new("p", "cn-qingdao-env17-d01");
        assert_eq!(p.effective_rpc_signature(), RpcSignature::Acs3);
        let tenancy = Tenancy { organization_id: Some("26".into()), ..Tenancy::default() };
        p.style = RequestStyle::Asapi(tenancy.clone());
        assert_eq!(p.effective_rpc_signature(), RpcSignature::RpcSha1);
        let headers = tenancy.headers(Product::Ecs);
        assert!(headers.contains(&("x-acs-organizationid", "26".into())));
        assert!(headers.contains(&("x-ascm-product-name", "Ecs".into())));
        assert!(!headers.iter().any(|(k, _)| *k == "x-acs-resourcegroupid"));
    }
}
