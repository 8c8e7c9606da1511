//! Request parameters as they travel on the wire, and the one serializer that produces them.
//!
//! Rules (spec signing.md §1.4, apis.md §0):
//! - struct/map fields become `Name` or `Prefix.Name`; sequences become `Name.N` (N from 1),
//!   so `Tag.1.Key`, `DiskDeviceMapping.2.OSSBucket`, `Features.NvmeSupport`;
//! - [`JsonString`] sends a nested value as one JSON-string parameter (E-HPC Instant, ENS);
//! - [`CommaList`] sends a list as one comma-joined parameter (`TaskIds`);
//! - booleans are `true`/`false`, numbers decimal;
//! - `None`, empty strings, empty lists and unit are omitted: a parameter is never sent empty.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// Ordered wire parameters (name, value). Order is insertion order; signers sort as they need.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// Append a parameter (an existing one with the same name is replaced).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        let index = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(index).1)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Extend with other parameters (later values win on equal names).
    pub fn extend(&mut self, other: &Params) {
        for (k, v) in other.iter() {
            self.insert(k, v);
        }
    }

    /// Indices N present for a list prefix: `list_indices("Tag")` → `[1, 2]` for `Tag.1.Key`, `Tag.2.Key`.
    pub fn list_indices(&self, prefix: &str) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .0
            .iter()
            .filter_map(|(k, _)| {
                let rest = k.strip_prefix(prefix)?.strip_prefix('.')?;
                let digits = rest.split('.').next()?;
                digits.parse().ok()
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    pub fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Why a value could not become wire parameters (a programming error in a request type).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamsError {
    #[error("request parameters must be a struct or map at the top level, found {0}")]
    NotAStruct(&'static str),
    #[error("map keys must be strings")]
    KeyNotString,
    #[error("{0} cannot be sent as a request parameter")]
    Unsupported(&'static str),
    #[error("{0}")]
    Custom(String),
}

impl ser::Error for ParamsError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::Custom(msg.to_string())
    }
}

/// Flatten a request struct into wire parameters.
pub fn to_params<T: Serialize + ?Sized>(value: &T) -> Result<Params, ParamsError> {
    let mut out = Vec::new();
    value.serialize(TopLevel { out: &mut out })?;
    Ok(Params(out))
}

/// A value sent as one parameter holding its JSON text (SDK "shrink" style).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct JsonString<T>(pub T);

impl<T: Serialize> Serialize for JsonString<T> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(&self.0).map_err(ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}

/// A list sent as one comma-separated parameter (`TaskIds=t-1,t-2`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct CommaList(pub Vec<String>);

impl Serialize for CommaList {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.join(","))
    }
}

impl<S: Into<String>> FromIterator<S> for CommaList {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

/// Scalars have no parameter name at the top level.
macro_rules! refuse_scalars {
    ($($method:ident: $ty:ty => $what:expr),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<(), ParamsError> { Err(ParamsError::NotAStruct($what)) })*
    };
}

/// Map keys must be strings.
macro_rules! refuse_key_scalars {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, _: $ty) -> Result<String, ParamsError> { Err(ParamsError::KeyNotString) })*
    };
}

/// Accepts only a struct or map: bare scalars have no parameter name.
struct TopLevel<'a> {
    out: &'a mut Vec<(String, String)>,
}

/// Serializes one value at a parameter name (`prefix`).
struct Field<'a> {
    out: &'a mut Vec<(String, String)>,
    prefix: String,
}

impl Field<'_> {
    fn emit(self, value: String) -> Result<(), ParamsError> {
        if !value.is_empty() {
            self.out.push((self.prefix, value));
        }
        Ok(())
    }
}

/// Collects struct fields, map entries or sequence items under a prefix.
struct Compound<'a> {
    out: &'a mut Vec<(String, String)>,
    prefix: String,
    next_index: u32,
    pending_key: Option<String>,
}

impl<'a> Compound<'a> {
    fn new(out: &'a mut Vec<(String, String)>, prefix: String) -> Self {
        Self { out, prefix, next_index: 1, pending_key: None }
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), ParamsError> {
        let prefix = join(&self.prefix, name);
        value.serialize(Field { out: self.out, prefix })
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ParamsError> {
        let name = self.next_index.to_string();
        self.next_index += 1;
        self.field(&name, value)
    }
}

macro_rules! scalar_to_string {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<(), ParamsError> { self.emit(v.to_string()) })*
    };
}

impl<'a> ser::Serializer for Field<'a> {
    type Ok = ();
    type Error = ParamsError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Impossible<(), ParamsError>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Impossible<(), ParamsError>;

    scalar_to_string!(
        serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_f32: f32,
        serialize_f64: f64, serialize_char: char,
    );

    fn serialize_str(self, v: &str) -> Result<(), ParamsError> {
        self.emit(v.to_owned())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), ParamsError> {
        Err(ParamsError::Unsupported("raw bytes"))
    }
    fn serialize_none(self) -> Result<(), ParamsError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), ParamsError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), ParamsError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), ParamsError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), ParamsError> {
        self.emit(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), ParamsError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), ParamsError> {
        Err(ParamsError::Unsupported("an enum variant with data"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, ParamsError> {
        Ok(Compound::new(self.out, self.prefix))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, ParamsError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, ParamsError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ParamsError> {
        Err(ParamsError::Unsupported("an enum variant with data"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, ParamsError> {
        Ok(Compound::new(self.out, self.prefix))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, ParamsError> {
        Ok(Compound::new(self.out, self.prefix))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ParamsError> {
        Err(ParamsError::Unsupported("an enum variant with data"))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = ParamsError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ParamsError> {
        self.item(value)
    }
    fn end(self) -> Result<(), ParamsError> {
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = ParamsError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ParamsError> {
        self.item(value)
    }
    fn end(self) -> Result<(), ParamsError> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = ParamsError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ParamsError> {
        self.item(value)
    }
    fn end(self) -> Result<(), ParamsError> {
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = ParamsError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ParamsError> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), ParamsError> {
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = ParamsError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ParamsError> {
        self.pending_key = Some(key.serialize(KeyName)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ParamsError> {
        let key = self.pending_key.take().ok_or(ParamsError::KeyNotString)?;
        self.field(&key, value)
    }
    fn end(self) -> Result<(), ParamsError> {
        Ok(())
    }
}

impl<'a> ser::Serializer for TopLevel<'a> {
    type Ok = ();
    type Error = ParamsError;
    type SerializeSeq = Impossible<(), ParamsError>;
    type SerializeTuple = Impossible<(), ParamsError>;
    type SerializeTupleStruct = Impossible<(), ParamsError>;
    type SerializeTupleVariant = Impossible<(), ParamsError>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Impossible<(), ParamsError>;

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, ParamsError> {
        Ok(Compound::new(self.out, String::new()))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, ParamsError> {
        Ok(Compound::new(self.out, String::new()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), ParamsError> {
        value.serialize(self)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), ParamsError> {
        value.serialize(self)
    }
    fn serialize_none(self) -> Result<(), ParamsError> {
        Ok(())
    }
    fn serialize_unit(self) -> Result<(), ParamsError> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), ParamsError> {
        Ok(())
    }

    refuse_scalars!(
        serialize_bool: bool => "a boolean",
        serialize_i8: i8 => "a number",
        serialize_i16: i16 => "a number",
        serialize_i32: i32 => "a number",
        serialize_i64: i64 => "a number",
        serialize_u8: u8 => "a number",
        serialize_u16: u16 => "a number",
        serialize_u32: u32 => "a number",
        serialize_u64: u64 => "a number",
        serialize_f32: f32 => "a number",
        serialize_f64: f64 => "a number",
        serialize_char: char => "a character",
        serialize_str: &str => "a string",
        serialize_bytes: &[u8] => "bytes",
    );
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), ParamsError> {
        Err(ParamsError::NotAStruct("an enum"))
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), ParamsError> {
        Err(ParamsError::NotAStruct("an enum"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ParamsError> {
        Err(ParamsError::NotAStruct("a list"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ParamsError> {
        Err(ParamsError::NotAStruct("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ParamsError> {
        Err(ParamsError::NotAStruct("a tuple"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ParamsError> {
        Err(ParamsError::NotAStruct("an enum"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ParamsError> {
        Err(ParamsError::NotAStruct("an enum"))
    }
}

/// Map keys: strings (or unit enum variants) only.
struct KeyName;

impl ser::Serializer for KeyName {
    type Ok = String;
    type Error = ParamsError;
    type SerializeSeq = Impossible<String, ParamsError>;
    type SerializeTuple = Impossible<String, ParamsError>;
    type SerializeTupleStruct = Impossible<String, ParamsError>;
    type SerializeTupleVariant = Impossible<String, ParamsError>;
    type SerializeMap = Impossible<String, ParamsError>;
    type SerializeStruct = Impossible<String, ParamsError>;
    type SerializeStructVariant = Impossible<String, ParamsError>;

    fn serialize_str(self, v: &str) -> Result<String, ParamsError> {
        Ok(v.to_owned())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, ParamsError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, ParamsError> {
        value.serialize(self)
    }
    refuse_key_scalars!(
        serialize_bool: bool,
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64,
        serialize_f32: f32,
        serialize_f64: f64,
        serialize_char: char,
        serialize_bytes: &[u8],
    );
    fn serialize_none(self) -> Result<String, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_unit(self) -> Result<String, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ParamsError> {
        Err(ParamsError::KeyNotString)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Tag {
        key: String,
        value: Option<String>,
    }

    #[derive(Serialize)]
    struct Mapping {
        #[serde(rename = "OSSBucket")]
        oss_bucket: String,
        #[serde(rename = "DiskImageSize")]
        disk_image_size: Option<u32>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Features {
        nvme_support: Option<String>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Spec {
        image_id: String,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        region_id: String,
        image_name: Option<String>,
        description: Option<String>,
        dry_run: Option<bool>,
        disk_device_mapping: Vec<Mapping>,
        tag: Vec<Tag>,
        features: Option<Features>,
        #[serde(rename = "VMImageSpec")]
        vm_image_spec: Option<JsonString<Spec>>,
        task_ids: Option<CommaList>,
        page_size: Option<u32>,
    }

    fn sample() -> Request {
        Request {
            region_id: "cn-hangzhou".into(),
            image_name: None,
            description: Some(String::new()),
            dry_run: Some(false),
            disk_device_mapping: vec![
                Mapping { oss_bucket: "b1".into(), disk_image_size: Some(40) },
                Mapping { oss_bucket: "b2".into(), disk_image_size: None },
            ],
            tag: vec![Tag { key: "env".into(), value: Some("dev".into()) }],
            features: Some(Features { nvme_support: Some("supported".into()) }),
            vm_image_spec: Some(JsonString(Spec { image_id: "m-1".into() })),
            task_ids: Some(["t-1", "t-2"].into_iter().collect()),
            page_size: Some(100),
        }
    }

    #[test]
    fn flattens_every_wire_form() {
        let params = to_params(&sample()).unwrap();
        assert_eq!(
            params.into_vec(),
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("DryRun".into(), "false".into()),
                ("DiskDeviceMapping.1.OSSBucket".into(), "b1".into()),
                ("DiskDeviceMapping.1.DiskImageSize".into(), "40".into()),
                ("DiskDeviceMapping.2.OSSBucket".into(), "b2".into()),
                ("Tag.1.Key".into(), "env".into()),
                ("Tag.1.Value".into(), "dev".into()),
                ("Features.NvmeSupport".into(), "supported".into()),
                ("VMImageSpec".into(), r#"{"ImageId":"m-1"}"#.into()),
                ("TaskIds".into(), "t-1,t-2".into()),
                ("PageSize".into(), "100".into()),
            ]
        );
    }

    #[test]
    fn omits_empty_values() {
        let mut req = sample();
        req.task_ids = Some(CommaList(Vec::new()));
        req.features = Some(Features { nvme_support: None });
        req.tag.clear();
        let params = to_params(&req).unwrap();
        assert!(!params.contains("TaskIds"));
        assert!(!params.contains("Description"));
        assert!(!params.contains("ImageName"));
        assert!(
            params.iter().all(|(k, v)| !v.is_empty() && !k.starts_with("Features") && !k.starts_with("Tag"))
        );
    }

    #[test]
    fn maps_use_their_keys_and_scalars_are_refused() {
        let mut map = BTreeMap::new();
        map.insert("Action", "DescribeRegions");
        assert_eq!(to_params(&map).unwrap().get("Action"), Some("DescribeRegions"));
        assert_eq!(to_params(&5u32), Err(ParamsError::NotAStruct("a number")));
    }

    #[test]
    fn list_indices_reads_back_flattened_lists() {
        let params = to_params(&sample()).unwrap();
        assert_eq!(params.list_indices("DiskDeviceMapping"), vec![1, 2]);
        assert_eq!(params.list_indices("Tag"), vec![1]);
        assert!(params.list_indices("Missing").is_empty());
    }
}
