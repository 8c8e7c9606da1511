//! (temporary minimal stand-in; replaced by the full catalog)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    Never,
    Backoff,
    NewNonce,
    ResignFreshTime,
    RefreshCredentials,
}
impl Retry {
    pub fn is_retryable(self) -> bool {
        self != Retry::Never
    }
}
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice {
    pub code: String,
    pub retry: Retry,
    pub field: Option<String>,
    pub en: String,
    pub zh: String,
}
pub fn advice(code: &str, http_status: u16, _server_message: &str) -> Advice {
    let retry = match code {
        "Throttling" | "Throttling.User" | "Throttling.Api" | "InternalError"
        | "ServiceUnavailable" => Retry::Backoff,
        "SignatureNonceUsed" => Retry::NewNonce,
        "InvalidTimeStamp.Expired" | "RequestTimeTooSkewed" => Retry::ResignFreshTime,
        "InvalidSecurityToken.Expired" | "SecurityTokenExpired" => Retry::RefreshCredentials,
        _ if http_status >= 500 || http_status == 429 => Retry::Backoff,
        _ => Retry::Never,
    };
    Advice {
        code: code.to_owned(),
        retry,
        field: None,
        en: code.to_owned(),
        zh: code.to_owned(),
    }
}
