//! Tolerant decoding of response fields, used as `#[serde(deserialize_with = "de::…")]`.
//!
//! One field arrives in several shapes across products, API versions and documentation samples
//! (apis.md §0): booleans as `"True"`, numbers as strings, lists with or without their singular
//! wrapper, `null` for "not set". These helpers accept every such shape, so a response never fails
//! to decode over a representation detail. Also here: `wire_enum!` (crate-internal) for enumerated
//! wire values that must survive values this crate does not know yet.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};
use serde_json::Value;

use crate::secret::Secret;

/// `true`/`false`, `"true"`/`"True"`/`"false"`/`"False"`, `1`/`0`; `null` or `""` decode as `false`.
pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(opt_boolean(deserializer)?.unwrap_or(false))
}

/// Like [`boolean`], but `null` or `""` decode as `None` (for flags whose absence means "unknown").
pub fn opt_boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    deserializer.deserialize_any(BoolVisitor)
}

/// An integer from a number or a numeric string (`20`, `"20"`, `" 20 "`); `null` or `""` decode as 0.
/// Fractions (`"20.5"`) are truncated: sizes in GiB are the only fractional values seen.
pub fn integer<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128> + Default,
{
    Ok(deserializer.deserialize_any(IntVisitor(PhantomData))?.unwrap_or_default())
}

/// A string from a string, number or boolean (ENS `Code` is `0` or `"0"`); `null` decodes as `""`.
pub fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(StringVisitor)
}

/// A secret string (E-HPC registry password): decoded like [`string`], never printed.
pub fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    let value = string(deserializer)?;
    Ok((!value.is_empty()).then(|| Secret::new(value)))
}

/// A list in any of the shapes the APIs use:
/// `{"Image":[…]}` (ECS/ENS wrapper), `{"Image":{…}}` (wrapper around one item, as XML-to-JSON
/// gateways produce), `[…]` (E-HPC), `[{"Task":[…]}]` (wrong-but-published doc samples), a bare
/// item object, and `null` / `{}` / `""` (empty).
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let value = Value::deserialize(deserializer)?;
    list_items(value).into_iter().map(|item| T::deserialize(item).map_err(de::Error::custom)).collect()
}

/// A nested object; `null`, `""`, `[]` and `{}` decode as the type's default.
pub fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    let value = Value::deserialize(deserializer)?;
    if is_empty_value(&value) {
        return Ok(T::default());
    }
    T::deserialize(value).map_err(de::Error::custom)
}

/// A progress string such as `"100%"`, `"45"` or `"12.5%"` as a whole percentage (0–100).
pub fn progress_percent(text: &str) -> Option<u8> {
    let number = text.trim().trim_end_matches('%').trim();
    let value: f64 = number.parse().ok()?;
    // Checked range, so the cast cannot truncate meaningfully.
    (0.0..=100.0).contains(&value).then(|| value.floor() as u8)
}

/// Wire values compared ignoring ASCII case and `_`, `-`, spaces: old APIs spell `IMPORT_IMAGE`
/// for `ImportImage`, `Windows` for `windows`, `Unavailable` for `UnAvailable`.
pub fn wire_eq(a: &str, b: &str) -> bool {
    fn canonical(text: &str) -> impl Iterator<Item = char> + '_ {
        text.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).map(|c| c.to_ascii_lowercase())
    }
    canonical(a).eq(canonical(b))
}

/// An enumerated wire value: unit variants with their exact spelling plus `Other(String)`, so an
/// unknown value still round-trips. Serializes as its spelling (also inside [`JsonString`]);
/// deserializes and parses leniently via [`wire_eq`], never failing.
///
/// An optional trailing `default Variant;` also implements `Default` (for required request fields).
///
/// [`JsonString`]: crate::protocol::params::JsonString
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $wire:literal,)+
        }
        default $default:ident;
    ) => {
        $crate::protocol::de::wire_enum! {
            $(#[$meta])*
            pub enum $name {
                $($(#[$variant_meta])* $variant => $wire,)+
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::$default
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $wire:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
            /// A value this crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The exact wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(value) => value,
                }
            }

            /// Reads a wire value leniently (see [`wire_eq`](crate::protocol::de::wire_eq)).
            pub fn parse(value: &str) -> Self {
                $(if $crate::protocol::de::wire_eq(value, $wire) {
                    return Self::$variant;
                })+
                Self::Other(value.to_owned())
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::parse(value)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::protocol::de::string(deserializer).map(|value| Self::parse(&value))
            }
        }
    };
}
pub(crate) use wire_enum;

fn is_empty_value(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A one-key object whose value is a container: the `{"Image": …}` around a list. Items have
/// several fields (or a scalar one), so they are not mistaken for wrappers.
fn is_wrapper(map: &serde_json::Map<String, Value>) -> bool {
    let mut values = map.values();
    match (values.next(), values.next()) {
        (Some(Value::Array(_) | Value::Object(_) | Value::Null), None) => true,
        (Some(Value::String(text)), None) => text.trim().is_empty(),
        _ => false,
    }
}

fn list_items(value: Value) -> Vec<Value> {
    match value {
        Value::Object(map) if is_wrapper(&map) => match map.into_iter().next() {
            Some((_, Value::Object(item))) if item.is_empty() => Vec::new(),
            Some((_, Value::Object(item))) => vec![Value::Object(item)],
            Some((_, inner)) => list_items(inner),
            None => Vec::new(),
        },
        // Doc samples such as `"TaskSet":[{"Task":[…]}]`: an array of wrappers around arrays.
        Value::Array(items)
            if !items.is_empty()
                && items.iter().all(|item| {
                    matches!(item, Value::Object(map) if map.len() == 1
                        && map.values().all(Value::is_array))
                }) =>
        {
            items.into_iter().flat_map(list_items).collect()
        }
        Value::Array(items) => items,
        value if is_empty_value(&value) => Vec::new(),
        item => vec![item],
    }
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean or \"true\"/\"false\"")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        match v {
            0 => Ok(Some(false)),
            1 => Ok(Some(true)),
            _ => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        if v.is_empty() {
            Ok(None)
        } else if v.eq_ignore_ascii_case("true") || v == "1" {
            Ok(Some(true))
        } else if v.eq_ignore_ascii_case("false") || v == "0" {
            Ok(Some(false))
        } else {
            Err(E::invalid_value(Unexpected::Str(v), &self))
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

struct IntVisitor<T>(PhantomData<T>);

impl<T: TryFrom<i128>> IntVisitor<T> {
    fn convert<E: de::Error>(&self, v: i128, shown: Unexpected<'_>) -> Result<Option<T>, E> {
        T::try_from(v).map(Some).map_err(|_| E::invalid_value(shown, self))
    }
}

impl<'de, T: TryFrom<i128>> Visitor<'de> for IntVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a numeric string in range")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.convert(i128::from(v), Unexpected::Unsigned(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.convert(i128::from(v), Unexpected::Signed(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if !v.is_finite() {
            return Err(E::invalid_value(Unexpected::Float(v), &self));
        }
        // Saturating cast; out-of-range values are rejected by `convert`.
        self.convert(v.trunc() as i128, Unexpected::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let text = v.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if let Ok(n) = text.parse::<i128>() {
            return self.convert(n, Unexpected::Str(v));
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => self.convert(f.trunc() as i128, Unexpected::Str(v)),
            _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

struct StringVisitor;

impl<'de> Visitor<'de> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_none<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Clone, Debug, Default, Deserialize, PartialEq)]
    #[serde(default, rename_all = "PascalCase")]
    struct Item {
        #[serde(deserialize_with = "string")]
        name: String,
        #[serde(deserialize_with = "integer")]
        size: u32,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "PascalCase")]
    struct Sample {
        #[serde(deserialize_with = "boolean")]
        flag: bool,
        #[serde(deserialize_with = "opt_boolean")]
        maybe: Option<bool>,
        #[serde(deserialize_with = "integer")]
        count: u64,
        #[serde(deserialize_with = "integer")]
        signed: i64,
        #[serde(deserialize_with = "string")]
        code: String,
        #[serde(deserialize_with = "list")]
        items: Vec<Item>,
        #[serde(deserialize_with = "object")]
        nested: Item,
        #[serde(deserialize_with = "secret")]
        password: Option<Secret>,
    }

    fn parse(json: &str) -> Sample {
        serde_json::from_str(json).unwrap()
    }

    fn item(name: &str, size: u32) -> Item {
        Item { name: name.into(), size }
    }

    #[test]
    fn booleans_accept_strings_any_case() {
        for (text, expected) in [
            ("true", true),
            ("false", false),
            ("\"true\"", true),
            ("\"True\"", true),
            ("\"FALSE\"", false),
            ("\"False\"", false),
            ("1", true),
            ("null", false),
            ("\"\"", false),
        ] {
            let json = format!(r#"{{"Flag":{text}}}"#);
            assert_eq!(parse(&json).flag, expected, "{json}");
        }
        assert_eq!(parse(r#"{"Maybe":"True"}"#).maybe, Some(true));
        assert_eq!(parse(r#"{"Maybe":null}"#).maybe, None);
        assert_eq!(parse("{}").maybe, None);
        assert!(serde_json::from_str::<Sample>(r#"{"Flag":"maybe"}"#).is_err());
    }

    #[test]
    fn integers_accept_numeric_strings() {
        let sample = parse(r#"{"Count":"50","Signed":"-3"}"#);
        assert_eq!((sample.count, sample.signed), (50, -3));
        assert_eq!(parse(r#"{"Count":" 7 ","Signed":4}"#).count, 7);
        assert_eq!(parse(r#"{"Count":"20.9"}"#).count, 20);
        assert_eq!(parse(r#"{"Count":12.0}"#).count, 12);
        assert_eq!(parse(r#"{"Count":""}"#).count, 0);
        assert_eq!(parse(r#"{"Count":null}"#).count, 0);
        assert!(serde_json::from_str::<Sample>(r#"{"Count":-1}"#).is_err());
        assert!(serde_json::from_str::<Sample>(r#"{"Count":"ten"}"#).is_err());
    }

    #[test]
    fn strings_accept_numbers_and_null() {
        assert_eq!(parse(r#"{"Code":0}"#).code, "0");
        assert_eq!(parse(r#"{"Code":"0"}"#).code, "0");
        assert_eq!(parse(r#"{"Code":null}"#).code, "");
        assert_eq!(parse(r#"{"Code":true}"#).code, "true");
    }

    #[test]
    fn lists_accept_every_wrapper_shape() {
        let two = vec![item("a", 1), item("b", 2)];
        let cases = [
            (r#"{"Item":[{"Name":"a","Size":1},{"Name":"b","Size":"2"}]}"#, two.clone()),
            (r#"[{"Name":"a","Size":1},{"Name":"b","Size":2}]"#, two.clone()),
            (r#"[{"Item":[{"Name":"a","Size":1},{"Name":"b","Size":2}]}]"#, two),
            (r#"{"Item":{"Name":"a","Size":1}}"#, vec![item("a", 1)]),
            (r#"{"Name":"a","Size":1}"#, vec![item("a", 1)]),
            (r#"{"Item":[]}"#, vec![]),
            (r#"{"Item":{}}"#, vec![]),
            (r#"{"Item":null}"#, vec![]),
            (r#"{"Item":""}"#, vec![]),
            ("{}", vec![]),
            ("[]", vec![]),
            ("null", vec![]),
            (r#""""#, vec![]),
        ];
        for (shape, expected) in cases {
            let json = format!(r#"{{"Items":{shape}}}"#);
            assert_eq!(parse(&json).items, expected, "{json}");
        }
        assert!(parse("{}").items.is_empty());
    }

    #[test]
    fn objects_tolerate_empty_forms() {
        assert_eq!(parse(r#"{"Nested":{"Name":"x","Size":"3"}}"#).nested, item("x", 3));
        for empty in ["null", "\"\"", "{}", "[]"] {
            assert_eq!(parse(&format!(r#"{{"Nested":{empty}}}"#)).nested, Item::default());
        }
    }

    #[test]
    fn secrets_decode_but_never_print() {
        let sample = parse(r#"{"Password":"hunter2"}"#);
        assert_eq!(sample.password.as_ref().map(Secret::expose), Some("hunter2"));
        assert!(!format!("{sample:?}").contains("hunter2"));
        assert_eq!(parse(r#"{"Password":""}"#).password, None);
    }

    #[test]
    fn progress_reads_percent_strings() {
        assert_eq!(progress_percent("100%"), Some(100));
        assert_eq!(progress_percent(" 45 % "), Some(45));
        assert_eq!(progress_percent("12.5%"), Some(12));
        assert_eq!(progress_percent("0"), Some(0));
        assert_eq!(progress_percent(""), None);
        assert_eq!(progress_percent("150%"), None);
        assert_eq!(progress_percent("n/a"), None);
    }

    wire_enum! {
        /// Test enum.
        pub enum Color {
            Red => "RED_ONE",
            DarkBlue => "dark-blue",
        }
    }

    #[test]
    fn wire_enums_parse_leniently_and_keep_unknown_values() {
        assert!(wire_eq("IMPORT_IMAGE", "ImportImage"));
        assert!(wire_eq("UnAvailable", "Unavailable"));
        assert!(!wire_eq("UEFI", "UEFI-Preferred"));
        assert_eq!(Color::parse("red_one"), Color::Red);
        assert_eq!(Color::parse("DarkBlue"), Color::DarkBlue);
        assert_eq!(Color::parse("green"), Color::Other("green".into()));
        assert_eq!(Color::DarkBlue.to_string(), "dark-blue");
        assert_eq!(serde_json::to_string(&Color::Red).unwrap(), r#""RED_ONE""#);
        assert_eq!(serde_json::to_string(&Color::Other("x".into())).unwrap(), r#""x""#);
        assert_eq!(serde_json::from_str::<Color>(r#""Red One""#).unwrap(), Color::Red);
    }
}
