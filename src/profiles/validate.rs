//! Inline checks for the profile form: pure functions of what was typed, each returning the
//! message to show under the field (English and Chinese), or `None` when the value is fine.

/// One message in both UI languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub en: String,
    pub zh: String,
}

fn problem(en: &str, zh: &str) -> Option<Problem> {
    Some(Problem { en: en.to_owned(), zh: zh.to_owned() })
}

/// An AccessKey ID: `LTAI…` for a RAM user's key, `STS.…` for a temporary one.
pub fn access_key_id(value: &str, sts_expected: bool) -> Option<Problem> {
    let value = value.trim();
    if value.is_empty() {
        return problem("Enter the AccessKey ID.", "请输入 AccessKey ID。");
    }
    let is_sts = value.starts_with("STS.");
    let body = value.strip_prefix("STS.").unwrap_or(value);
    if !body.chars().all(|c| c.is_ascii_alphanumeric()) {
        return problem(
            "An AccessKey ID has only letters and digits (after `STS.` for a temporary key).",
            "AccessKey ID 只包含字母和数字（临时密钥为 `STS.` 之后的部分）。",
        );
    }
    if !(12..=128).contains(&value.len()) {
        return problem(
            "That is not the length of an AccessKey ID (a RAM user's looks like LTAI5t… with 24 characters).",
            "长度不像 AccessKey ID（RAM 用户的 AccessKey ID 形如 LTAI5t…，共 24 个字符）。",
        );
    }
    match (sts_expected, is_sts) {
        (true, false) => problem(
            "A temporary (STS) AccessKey ID starts with `STS.`; for a long-lived key choose the AccessKey mode.",
            "临时（STS）AccessKey ID 以 `STS.` 开头；长期密钥请选择 AccessKey 模式。",
        ),
        (false, true) => problem(
            "This is a temporary (STS) key: choose the STS token mode and paste its security token too.",
            "这是临时（STS）密钥：请选择 STS 令牌模式并同时填写安全令牌。",
        ),
        _ => None,
    }
}

/// An AccessKey secret: 30 letters and digits for current keys.
pub fn access_key_secret(value: &str) -> Option<Problem> {
    if value.is_empty() {
        return problem("Enter the AccessKey secret.", "请输入 AccessKey Secret。");
    }
    if value.trim() != value {
        return problem(
            "The secret starts or ends with a space — probably a copy-and-paste slip.",
            "Secret 的开头或结尾有空格——可能是复制粘贴时带上的。",
        );
    }
    if !value.chars().all(|c| c.is_ascii_graphic()) {
        return problem(
            "A secret has only printable ASCII characters.",
            "Secret 只包含可打印的 ASCII 字符。",
        );
    }
    if !(16..=128).contains(&value.len()) {
        return problem(
            "That is not the length of an AccessKey secret (30 characters for current keys).",
            "长度不像 AccessKey Secret（当前密钥为 30 个字符）。",
        );
    }
    None
}

/// `acs:ram::<account id>:role/<role name>`.
pub fn role_arn(value: &str) -> Option<Problem> {
    let bad = || {
        problem(
            "A role ARN looks like acs:ram::1234567890123456:role/role-name.",
            "角色 ARN 形如 acs:ram::1234567890123456:role/role-name。",
        )
    };
    let Some(rest) = value.trim().strip_prefix("acs:ram::") else { return bad() };
    let Some((account, role)) = rest.split_once(":role/") else { return bad() };
    let role_ok = !role.is_empty()
        && role.len() <= 64
        && role.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if account.is_empty() || !account.chars().all(|c| c.is_ascii_digit()) || !role_ok {
        return bad();
    }
    None
}

/// AssumeRole session name: 2–64 of letters, digits, `.`, `@`, `-`, `_`.
pub fn session_name(value: &str) -> Option<Problem> {
    let ok = (2..=64).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'));
    (!ok).then(|| Problem {
        en: "A session name has 2–64 letters, digits, `.`, `@`, `-` or `_`.".into(),
        zh: "会话名称为 2–64 个字母、数字、`.`、`@`、`-` 或 `_`。".into(),
    })
}

/// AssumeRole duration, seconds.
pub fn duration_secs(value: &str) -> Option<Problem> {
    match value.trim().parse::<u32>() {
        Ok(secs) if (900..=43_200).contains(&secs) => None,
        _ => problem(
            "The session lasts 900 to 43200 seconds (and at most the role's maximum session duration).",
            "会话时长为 900 到 43200 秒（且不超过角色的最大会话时间）。",
        ),
    }
}

/// A region ID such as `cn-hangzhou` or `ap-southeast-1`.
pub fn region_id(value: &str) -> Option<Problem> {
    let mut parts = value.split('-');
    let first_ok = parts.next().is_some_and(|p| p.len() >= 2 && p.chars().all(|c| c.is_ascii_lowercase()));
    let rest: Vec<&str> = parts.collect();
    let rest_ok = !rest.is_empty()
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    (!(first_ok && rest_ok)).then(|| Problem {
        en: "A region ID looks like cn-hangzhou or ap-southeast-1.".into(),
        zh: "地域 ID 形如 cn-hangzhou 或 ap-southeast-1。".into(),
    })
}

/// An endpoint URL; plain HTTP only to loopback unless the profile allows it (private clouds).
pub fn endpoint(value: &str, allow_http: bool) -> Option<Problem> {
    let Ok(url) = url::Url::parse(value.trim()) else {
        return problem(
            "An endpoint is a URL such as https://ecs.cn-hangzhou.aliyuncs.com.",
            "Endpoint 是一个 URL，例如 https://ecs.cn-hangzhou.aliyuncs.com。",
        );
    };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        _ if url.host_str().is_none_or(str::is_empty) => {
            problem("The endpoint has no host name.", "Endpoint 缺少主机名。")
        }
        "https" => None,
        "http" if allow_http || loopback => None,
        "http" => problem(
            "Plain HTTP would send your requests unencrypted; use https://, or allow HTTP for this private-cloud profile.",
            "明文 HTTP 会以不加密的方式发送请求；请使用 https://，或为此专有云配置允许 HTTP。",
        ),
        _ => problem("The endpoint must start with https://.", "Endpoint 必须以 https:// 开头。"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_ids_by_mode() {
        assert_eq!(access_key_id("LTAI5tExampleExample0123", false), None);
        assert_eq!(access_key_id("STS.NUgYrLnoC37mZZCNnAbez2Bvx", true), None);
        assert!(access_key_id("", false).is_some());
        assert!(access_key_id("LTAI 5t", false).is_some());
        assert!(access_key_id("short", false).is_some());
        assert!(access_key_id("STS.NUgYrLnoC37mZZCNnAbez2Bvx", false).unwrap().en.contains("STS token mode"));
        assert!(access_key_id("LTAI5tExampleExample0123", true).unwrap().en.contains("starts with `STS.`"));
    }

    #[test]
    fn secrets_catch_paste_slips() {
        assert_eq!(access_key_secret("abcdefghijABCDEFGHIJ0123456789"), None);
        assert!(access_key_secret("").is_some());
        assert!(access_key_secret(" abcdefghijABCDEFGHIJ0123456789").unwrap().en.contains("space"));
        assert!(access_key_secret("abc").is_some());
        assert!(access_key_secret("abcdefghijABCDEFGHIJ012345678密").is_some());
    }

    #[test]
    fn role_arns_sessions_and_durations() {
        assert_eq!(role_arn("acs:ram::1234567890123456:role/image-admin"), None);
        for bad in
            ["", "acs:ram::abc:role/x", "acs:ram::123:user/x", "arn:aws:iam::1:role/x", "acs:ram::123:role/"]
        {
            assert!(role_arn(bad).is_some(), "{bad}");
        }
        assert_eq!(session_name("imagedesk"), None);
        assert!(session_name("x").is_some() && session_name("has space").is_some());
        assert_eq!(duration_secs("3600"), None);
        for bad in ["899", "43201", "", "1h"] {
            assert!(duration_secs(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn regions_and_endpoints() {
        for good in ["cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1"] {
            assert_eq!(region_id(good), None, "{good}");
        }
        for bad in ["", "hangzhou", "CN-hangzhou", "cn-", "cn--x"] {
            assert!(region_id(bad).is_some(), "{bad}");
        }
        assert_eq!(endpoint("https://ecs.cn-hangzhou.aliyuncs.com", false), None);
        assert_eq!(endpoint("http://127.0.0.1:8787", false), None);
        assert!(endpoint("http://asapi.example.internal", false).unwrap().en.contains("unencrypted"));
        assert_eq!(endpoint("http://asapi.example.internal", true), None);
        assert!(endpoint("ecs.aliyuncs.com", false).is_some());
        assert!(endpoint("ftp://x", false).is_some());
    }
}
