//! Percent-encoding exactly as Alibaba Cloud signs it (spec signing.md §1.2).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// RFC 3986 unreserved characters stay; every other byte becomes `%XY` (uppercase hex).
/// So space is `%20` (never `+`), `*` is `%2A` and `~` is kept.
pub const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Same as [`RFC3986`] but leaves `/` literal: object keys in OSS paths.
pub const RFC3986_PATH: &AsciiSet = &RFC3986.remove(b'/');

/// `pe(x)` of the spec: percent-encode UTF-8 bytes with the RFC 3986 unreserved set.
pub fn pe(value: &str) -> String {
    utf8_percent_encode(value, RFC3986).to_string()
}

/// Percent-encode a path, keeping `/` (OSS V4 canonical URI, request URLs).
pub fn pe_path(value: &str) -> String {
    utf8_percent_encode(value, RFC3986_PATH).to_string()
}

/// Decode one `application/x-www-form-urlencoded` component: `+` is a space, `%XY` a byte.
/// Invalid UTF-8 is replaced rather than rejected, so a verifier can still report a mismatch.
pub fn form_decode(component: &str) -> String {
    let spaced = component.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Parse a query string or form body into ordered pairs (`a=1&b&c=`; `b` has an empty value).
pub fn parse_form(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (form_decode(k), form_decode(v)),
            None => (form_decode(part), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_awkward_characters() {
        assert_eq!(pe("a b"), "a%20b");
        assert_eq!(pe("*"), "%2A");
        assert_eq!(pe("~"), "~");
        assert_eq!(pe("/:=&+"), "%2F%3A%3D%26%2B");
        assert_eq!(pe("镜"), "%E9%95%9C");
        assert_eq!(pe("AZaz09-_."), "AZaz09-_.");
        assert_eq!(pe_path("a b/c+d"), "a%20b/c%2Bd");
    }

    #[test]
    fn form_decoding_treats_plus_as_space() {
        assert_eq!(
            parse_form("A=x+y&B=%2B&C&D="),
            vec![
                ("A".into(), "x y".into()),
                ("B".into(), "+".into()),
                ("C".into(), String::new()),
                ("D".into(), String::new()),
            ]
        );
    }
}
