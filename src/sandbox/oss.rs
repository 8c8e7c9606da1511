//! OSS emulation (spec oss-upload.md): buckets, objects and multipart uploads stored as files. The
//! server has already authenticated the request and resolved bucket, key and query; this module
//! implements the behaviour.
//!
//! Storage layout (every JSON file is written atomically):
//! ```text
//! <data dir>/oss/
//!   incoming/                             request bodies being received (emptied on open)
//!   buckets/<bucket>/bucket.json          name, region, creation time, storage class
//!   buckets/<bucket>/objects/<h>.data     object bytes; <h> = SHA-256 hex of the key. For a
//!                                         multipart object a directory of its parts (seg-NNNNN),
//!                                         hard-linked at Complete instead of copying gigabytes
//!   buckets/<bucket>/objects/<h>.json     key, size, ETag, CRC-64, type, times, user metadata
//!   buckets/<bucket>/uploads/<id>/manifest.json, part-<n>.data    multipart uploads in progress
//! ```
//! An in-memory index mirrors the JSON metadata under one mutex (never held across `.await`);
//! bodies stream to `incoming/` outside it and are renamed into place under it, so concurrent part
//! uploads never lose manifest entries and no body ever sits in memory.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use md5::{Digest, Md5};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::{OssView, SandboxError, write_atomically};
use crate::protocol::crc64::{self, Crc64};

/// Largest PutObject body and part (5 GB in the OSS docs, which mean GiB).
const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Smallest non-last part accepted by CompleteMultipartUpload.
const MIN_PART_SIZE: u64 = 100 * 1024;
const MAX_PART_NUMBER: u32 = 10_000;
const MAX_KEY_LEN: usize = 1023;
/// Body bytes gathered before one blocking write (chunks from hyper are small).
const WRITE_BATCH: usize = 1 << 20;
/// Bytes per blocking read when streaming an object back.
const READ_CHUNK: u64 = 256 * 1024;
const DEFAULT_REGION: &str = "cn-hangzhou";
const STORAGE_CLASSES: &[&str] = &["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"];
/// The single account that owns everything in the sandbox.
const OWNER_ID: &str = "1234567890123456";
/// Sub-resources not emulated: answered 501 rather than mistaken for a plain object or listing
/// request (a `PUT /key?acl` must not overwrite the object with the ACL body).
const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
    "acl",
    "append",
    "cors",
    "encryption",
    "lifecycle",
    "logging",
    "policy",
    "referer",
    "replication",
    "restore",
    "stat",
    "symlink",
    "tagging",
    "versioning",
    "versions",
    "website",
    "worm",
    "x-oss-process",
];
/// `encoding-type=url`: everything but unreserved characters (so `/` becomes `%2F`, like OSS).
const URL_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// Object keys in a `Location` URL: per path segment.
const PATH_ENCODE: &AsciiSet = &URL_ENCODE.remove(b'/');

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

impl OssHttpRequest {
    fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(n, _)| n == name)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
    }

    fn url_encoding(&self) -> bool {
        self.query("encoding-type") == Some("url")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct BucketMeta {
    name: String,
    region: String,
    /// ISO 8601 UTC, millisecond precision.
    created: String,
    storage_class: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ObjectMeta {
    key: String,
    size: u64,
    /// Uppercase hex, without quotes (`<md5>` or `<md5 of part md5s>-<count>`).
    etag: String,
    crc64: u64,
    content_type: String,
    /// `Normal` or `Multipart`.
    object_type: String,
    storage_class: String,
    last_modified: String,
    /// Full lowercase header names (`x-oss-meta-…`) → values.
    #[serde(default)]
    user_meta: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct PartMeta {
    size: u64,
    /// Uppercase hex MD5 of the part.
    etag: String,
    crc64: u64,
    last_modified: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct UploadManifest {
    upload_id: String,
    key: String,
    initiated: String,
    content_type: String,
    storage_class: String,
    #[serde(default)]
    user_meta: BTreeMap<String, String>,
    #[serde(default)]
    parts: BTreeMap<u32, PartMeta>,
}

#[derive(Debug)]
struct BucketState {
    meta: BucketMeta,
    objects: BTreeMap<String, ObjectMeta>,
    uploads: BTreeMap<String, UploadManifest>,
}

/// Buckets and objects stored as files under `<data dir>/oss`.
#[derive(Debug)]
pub struct OssStore {
    root: PathBuf,
    buckets: Mutex<BTreeMap<String, BucketState>>,
}

/// An OSS error before rendering (request id and host are added by [`OssStore::handle`]).
#[derive(Debug)]
struct OssError {
    status: StatusCode,
    code: &'static str,
    message: String,
    extras: Vec<(&'static str, String)>,
}

impl OssError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), extras: Vec::new() }
    }

    fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extras.push((name, value.into()));
        self
    }

    fn no_such_bucket(bucket: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist.")
            .with("BucketName", bucket)
    }

    fn no_such_key(key: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.").with("Key", key)
    }

    fn no_such_upload(upload_id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        )
        .with("UploadId", upload_id)
    }

    fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
            .with("ArgumentName", name)
            .with("ArgumentValue", value)
    }

    fn file_exists() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "FileAlreadyExists",
            "The object you specified already exists and can not be overwritten.",
        )
    }

    fn invalid_digest() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    }

    fn request_timeout() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "RequestTimeout",
            "Your socket connection to the server was not read from or written to within the timeout period.",
        )
    }

    fn malformed_xml() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "MalformedXML", "The XML you provided was not well-formed.")
    }

    fn not_implemented(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("{what} is not supported by the sandbox."),
        )
    }

    fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
    }

    fn internal(error: impl Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", format!("sandbox storage: {error}"))
    }
}

impl From<SandboxError> for OssError {
    fn from(error: SandboxError) -> Self {
        Self::internal(error)
    }
}

type OssResult<T> = Result<T, OssError>;

/// What a streamed body turned out to be.
#[derive(Debug)]
struct Received {
    size: u64,
    md5: [u8; 16],
    crc64: u64,
}

impl OssStore {
    /// Open (or create) the store under `<data_dir>/oss`; seed the demo buckets when `seed_demo`
    /// and the directory did not exist yet.
    pub fn open(data_dir: &Path, seed_demo: bool) -> Result<Self, SandboxError> {
        let root = data_dir.join("oss");
        let fresh = !root.exists();
        for dir in [root.join("buckets"), root.join("incoming")] {
            std::fs::create_dir_all(&dir).map_err(|source| SandboxError::Io { path: dir.clone(), source })?;
        }
        // Bodies whose request died with a previous process.
        if let Ok(entries) = std::fs::read_dir(root.join("incoming")) {
            for entry in entries.flatten() {
                let _ = remove_object_data(&entry.path());
            }
        }
        let buckets = load_buckets(&root.join("buckets"))?;
        let store = Self { root, buckets: Mutex::new(buckets) };
        if seed_demo && fresh {
            store.seed_demo()?;
        }
        Ok(store)
    }

    pub async fn handle(&self, request: OssHttpRequest, body: Body) -> Response {
        let mut response = match self.dispatch(&request, body).await {
            Ok(response) => response,
            Err(e) => {
                let extras: Vec<(&str, &str)> = e.extras.iter().map(|(n, v)| (*n, v.as_str())).collect();
                error_response(e.status, e.code, &e.message, &request.request_id, &request.host, &extras)
            }
        };
        if request.method == Method::HEAD
            && (response.status().is_client_error() || response.status().is_server_error())
        {
            // HEAD answers carry no body: the error document travels Base64-encoded in a header.
            let (mut parts, body) = response.into_parts();
            let xml = axum::body::to_bytes(body, 1 << 16).await.unwrap_or_default();
            set_header(&mut parts.headers, "x-oss-err", &BASE64.encode(&xml));
            parts.headers.remove("content-length");
            response = Response::from_parts(parts, Body::empty());
        }
        let headers = response.headers_mut();
        set_header(headers, "x-oss-request-id", &request.request_id);
        headers.insert("server", HeaderValue::from_static("AliyunOSS"));
        set_header(headers, "date", &Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string());
        response
    }

    async fn dispatch(&self, req: &OssHttpRequest, body: Body) -> OssResult<Response> {
        if let Some((name, _)) =
            req.query.iter().find(|(n, _)| UNSUPPORTED_SUBRESOURCES.contains(&n.as_str()))
        {
            return Err(OssError::not_implemented(&format!("Sub-resource `{name}`")));
        }
        let Some(bucket) = req.bucket.as_deref() else {
            return if req.method == Method::GET {
                self.list_buckets(req)
            } else {
                Err(OssError::method_not_allowed())
            };
        };
        if req.key.is_empty() {
            return self.bucket_operation(req, bucket, body).await;
        }
        let key = req.key.as_str();
        if key.len() > MAX_KEY_LEN {
            return Err(OssError::new(
                StatusCode::BAD_REQUEST,
                "InvalidObjectName",
                "The specified object is not valid.",
            ));
        }
        if !self.lock().contains_key(bucket) {
            return Err(OssError::no_such_bucket(bucket));
        }
        match req.method {
            Method::PUT if req.has_query("partNumber") || req.has_query("uploadId") => {
                self.upload_part(req, bucket, key, body).await
            }
            Method::PUT if req.headers.contains_key("x-oss-copy-source") => {
                Err(OssError::not_implemented("CopyObject"))
            }
            Method::PUT => self.put_object(req, bucket, key, body).await,
            Method::POST if req.has_query("uploads") => self.initiate_upload(req, bucket, key),
            Method::POST if req.has_query("uploadId") => self.complete_upload(req, bucket, key, body).await,
            Method::POST => Err(OssError::not_implemented("This POST operation")),
            Method::GET if req.has_query("uploadId") => self.list_parts(req, bucket, key),
            Method::GET => self.get_object(req, bucket, key, false),
            Method::HEAD => self.get_object(req, bucket, key, true),
            Method::DELETE if req.has_query("uploadId") => self.abort_upload(req, bucket, key),
            Method::DELETE => self.delete_object(bucket, key),
            _ => Err(OssError::method_not_allowed()),
        }
    }

    async fn bucket_operation(&self, req: &OssHttpRequest, bucket: &str, body: Body) -> OssResult<Response> {
        if req.method == Method::PUT {
            return self.put_bucket(req, bucket, body).await;
        }
        if !self.lock().contains_key(bucket) {
            return Err(OssError::no_such_bucket(bucket));
        }
        match req.method {
            Method::GET if req.has_query("bucketInfo") => self.bucket_info(bucket),
            Method::GET if req.has_query("location") => self.bucket_location(bucket),
            Method::GET if req.has_query("uploads") => self.list_uploads(req, bucket),
            Method::GET => match req.query("list-type") {
                Some("2") => self.list_objects(req, bucket, true),
                Some(other) => Err(OssError::invalid_argument("list-type must be 2", "list-type", other)),
                None => self.list_objects(req, bucket, false),
            },
            Method::HEAD => Ok(StatusCode::OK.into_response()),
            Method::DELETE => self.delete_bucket(bucket),
            Method::POST => Err(OssError::not_implemented("PostObject")),
            _ => Err(OssError::method_not_allowed()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, BucketState>> {
        // A panic elsewhere leaves the index consistent (every update is a single insert/remove).
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.join("buckets").join(bucket)
    }

    /// (data file, metadata file) of an object.
    fn object_paths(&self, bucket: &str, key: &str) -> (PathBuf, PathBuf) {
        let name = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(key.as_bytes()));
        let dir = self.bucket_dir(bucket).join("objects");
        (dir.join(format!("{name}.data")), dir.join(format!("{name}.json")))
    }

    fn upload_dir(&self, bucket: &str, upload_id: &str) -> PathBuf {
        self.bucket_dir(bucket).join("uploads").join(upload_id)
    }

    fn part_path(&self, bucket: &str, upload_id: &str, part: u32) -> PathBuf {
        self.upload_dir(bucket, upload_id).join(format!("part-{part:05}.data"))
    }

    fn incoming_path(&self) -> PathBuf {
        self.root.join("incoming").join(format!(
            "{:016x}{:016x}.body",
            rand::random::<u64>(),
            rand::random::<u64>()
        ))
    }

    // ---- buckets ----

    fn create_bucket(&self, name: &str, region: &str, storage_class: &str) -> Result<bool, SandboxError> {
        let mut buckets = self.lock();
        if buckets.contains_key(name) {
            return Ok(false);
        }
        let dir = self.bucket_dir(name);
        for sub in ["objects", "uploads"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|source| SandboxError::Io { path, source })?;
        }
        let meta = BucketMeta {
            name: name.to_owned(),
            region: region.to_owned(),
            created: now_iso(),
            storage_class: storage_class.to_owned(),
        };
        write_json(&dir.join("bucket.json"), &meta)?;
        buckets.insert(
            name.to_owned(),
            BucketState { meta, objects: BTreeMap::new(), uploads: BTreeMap::new() },
        );
        Ok(true)
    }

    async fn put_bucket(&self, req: &OssHttpRequest, bucket: &str, body: Body) -> OssResult<Response> {
        if !valid_bucket_name(bucket) {
            return Err(OssError::new(
                StatusCode::BAD_REQUEST,
                "InvalidBucketName",
                "The specified bucket is not valid.",
            )
            .with("BucketName", bucket));
        }
        let xml = axum::body::to_bytes(body, 1 << 16).await.map_err(|_| OssError::request_timeout())?;
        let mut storage_class = "Standard".to_owned();
        if !xml.iter().all(u8::is_ascii_whitespace) {
            let text = std::str::from_utf8(&xml).map_err(|_| OssError::malformed_xml())?;
            let config: CreateBucketXml =
                quick_xml::de::from_str(text).map_err(|_| OssError::malformed_xml())?;
            if let Some(class) = config.storage_class {
                storage_class = class;
            }
        }
        if !STORAGE_CLASSES.contains(&storage_class.as_str()) {
            return Err(OssError::invalid_argument(
                "Unsupported storage class.",
                "StorageClass",
                &storage_class,
            ));
        }
        let region = region_from_host(&req.host)
            .or_else(|| req.header("x-imagedesk-region").filter(|r| !r.is_empty()).map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        // Creating a bucket you already own succeeds and keeps its region, as on OSS.
        self.create_bucket(bucket, &region, &storage_class)?;
        let mut response = StatusCode::OK.into_response();
        set_header(response.headers_mut(), "location", &format!("/{bucket}"));
        Ok(response)
    }

    fn delete_bucket(&self, bucket: &str) -> OssResult<Response> {
        let mut buckets = self.lock();
        let state = buckets.get(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
        if !state.objects.is_empty() || !state.uploads.is_empty() {
            return Err(OssError::new(
                StatusCode::CONFLICT,
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty.",
            )
            .with("BucketName", bucket));
        }
        std::fs::remove_dir_all(self.bucket_dir(bucket)).map_err(OssError::internal)?;
        buckets.remove(bucket);
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    fn list_buckets(&self, req: &OssHttpRequest) -> OssResult<Response> {
        let prefix = req.query("prefix").unwrap_or("");
        let marker = req.query("marker").unwrap_or("");
        let max = parse_max(req.query("max-keys"), "max-keys", 100)?;
        let buckets = self.lock();
        let matching: Vec<&BucketMeta> = buckets
            .values()
            .map(|b| &b.meta)
            .filter(|m| m.name.starts_with(prefix) && m.name.as_str() > marker)
            .collect();
        let truncated = matching.len() > max;
        let mut xml = Xml::new("ListAllMyBucketsResult");
        xml.text("Prefix", prefix);
        xml.text("Marker", marker);
        xml.text("MaxKeys", &max.to_string());
        xml.text("IsTruncated", &truncated.to_string());
        if truncated {
            xml.text("NextMarker", &matching[max - 1].name);
        }
        owner(&mut xml);
        xml.open("Buckets");
        for meta in matching.iter().take(max) {
            xml.open("Bucket");
            xml.text("CreationDate", &meta.created);
            xml.text("ExtranetEndpoint", &format!("oss-{}.aliyuncs.com", meta.region));
            xml.text("IntranetEndpoint", &format!("oss-{}-internal.aliyuncs.com", meta.region));
            xml.text("Location", &format!("oss-{}", meta.region));
            xml.text("Name", &meta.name);
            xml.text("Region", &meta.region);
            xml.text("StorageClass", &meta.storage_class);
            xml.close("Bucket");
        }
        xml.close("Buckets");
        Ok(xml.response())
    }

    fn bucket_meta(&self, bucket: &str) -> OssResult<BucketMeta> {
        self.lock().get(bucket).map(|b| b.meta.clone()).ok_or_else(|| OssError::no_such_bucket(bucket))
    }

    fn bucket_info(&self, bucket: &str) -> OssResult<Response> {
        let meta = self.bucket_meta(bucket)?;
        let mut xml = Xml::new("BucketInfo");
        xml.open("Bucket");
        xml.text("AccessMonitor", "Disabled");
        xml.text("CreationDate", &meta.created);
        xml.text("CrossRegionReplication", "Disabled");
        xml.text("DataRedundancyType", "LRS");
        xml.text("ExtranetEndpoint", &format!("oss-{}.aliyuncs.com", meta.region));
        xml.text("IntranetEndpoint", &format!("oss-{}-internal.aliyuncs.com", meta.region));
        xml.text("Location", &format!("oss-{}", meta.region));
        xml.text("Name", &meta.name);
        xml.text("Region", &meta.region);
        xml.text("StorageClass", &meta.storage_class);
        xml.text("TransferAcceleration", "Disabled");
        owner(&mut xml);
        xml.open("AccessControlList");
        xml.text("Grant", "private");
        xml.close("AccessControlList");
        xml.close("Bucket");
        Ok(xml.response())
    }

    fn bucket_location(&self, bucket: &str) -> OssResult<Response> {
        let meta = self.bucket_meta(bucket)?;
        let mut xml = Xml::bare();
        xml.text("LocationConstraint", &format!("oss-{}", meta.region));
        Ok(xml.response())
    }

    // ---- objects ----

    async fn put_object(
        &self,
        req: &OssHttpRequest,
        bucket: &str,
        key: &str,
        body: Body,
    ) -> OssResult<Response> {
        let declared = check_body_length(req, &body)?;
        let expected_md5 = content_md5_header(req)?;
        let forbid = forbid_overwrite(req);
        let storage_class = storage_class_header(req)?;
        if forbid && self.object_meta(bucket, key).is_some() {
            return Err(OssError::file_exists());
        }
        let temp = self.incoming_path();
        let received = receive_body(body, &temp, declared).await?;
        if expected_md5.is_some_and(|md5| md5 != received.md5) {
            let _ = std::fs::remove_file(&temp);
            return Err(OssError::invalid_digest());
        }
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: received.size,
            etag: hex::encode_upper(received.md5),
            crc64: received.crc64,
            content_type: content_type(req),
            object_type: "Normal".to_owned(),
            storage_class,
            last_modified: now_iso(),
            user_meta: user_meta(&req.headers),
        };
        if let Err(e) = self.commit_object(bucket, &temp, &meta, forbid) {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        Ok(stored_response(&meta.etag, meta.crc64, &received.md5))
    }

    /// Move a received body into place as an object and record its metadata.
    fn commit_object(
        &self,
        bucket: &str,
        temp: &Path,
        meta: &ObjectMeta,
        forbid_overwrite: bool,
    ) -> OssResult<()> {
        let mut buckets = self.lock();
        let state = buckets.get_mut(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
        if forbid_overwrite && state.objects.contains_key(&meta.key) {
            return Err(OssError::file_exists());
        }
        let (data, json) = self.object_paths(bucket, &meta.key);
        // The old bytes may be a file or a multipart directory: rename cannot replace a directory.
        remove_object_data(&data).map_err(OssError::internal)?;
        std::fs::rename(temp, &data).map_err(OssError::internal)?;
        write_json(&json, meta)?;
        state.objects.insert(meta.key.clone(), meta.clone());
        Ok(())
    }

    fn object_meta(&self, bucket: &str, key: &str) -> Option<ObjectMeta> {
        self.lock().get(bucket)?.objects.get(key).cloned()
    }

    fn get_object(&self, req: &OssHttpRequest, bucket: &str, key: &str, head: bool) -> OssResult<Response> {
        // Metadata and file are taken together under the lock, so an overwrite cannot pair
        // new bytes with old headers.
        let (meta, file) = {
            let buckets = self.lock();
            let state = buckets.get(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
            let meta = state.objects.get(key).cloned().ok_or_else(|| OssError::no_such_key(key))?;
            let file = if head {
                None
            } else {
                Some(ObjectData::open(&self.object_paths(bucket, key).0).map_err(OssError::internal)?)
            };
            (meta, file)
        };
        if let Some(status) = precondition(req, &meta)? {
            let mut response = status.into_response();
            set_header(response.headers_mut(), "etag", &format!("\"{}\"", meta.etag));
            return Ok(response);
        }
        let (status, start, len) = match parse_range(req.header("range"), meta.size) {
            RangeSpec::Full => (StatusCode::OK, 0, meta.size),
            RangeSpec::Partial(first, last) => (StatusCode::PARTIAL_CONTENT, first, last - first + 1),
            RangeSpec::Unsatisfiable => {
                return Err(OssError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "InvalidRange",
                    "The requested range cannot be satisfied",
                ));
            }
        };
        let body = match file {
            Some(mut file) if len > 0 => {
                file.seek(SeekFrom::Start(start)).map_err(OssError::internal)?;
                file_body(file, len)
            }
            _ => Body::empty(),
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        object_headers(headers, &meta);
        set_header(headers, "content-length", &len.to_string());
        if status == StatusCode::PARTIAL_CONTENT {
            set_header(
                headers,
                "content-range",
                &format!("bytes {}-{}/{}", start, start + len - 1, meta.size),
            );
        }
        Ok(response)
    }

    fn delete_object(&self, bucket: &str, key: &str) -> OssResult<Response> {
        let mut buckets = self.lock();
        let state = buckets.get_mut(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
        if state.objects.remove(key).is_some() {
            let (data, json) = self.object_paths(bucket, key);
            // Metadata first: a crash in between leaves an orphan data file, never a dangling entry.
            remove_file_if_present(&json)?;
            remove_object_data(&data).map_err(OssError::internal)?;
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    fn list_objects(&self, req: &OssHttpRequest, bucket: &str, v2: bool) -> OssResult<Response> {
        let prefix = req.query("prefix").unwrap_or("");
        let delimiter = req.query("delimiter").unwrap_or("");
        let max = parse_max(req.query("max-keys"), "max-keys", 100)?;
        let url = req.url_encoding();
        let token = req.query("continuation-token");
        let after = if v2 {
            match token {
                Some(token) => URL_SAFE_NO_PAD
                    .decode(token)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| {
                        OssError::invalid_argument(
                            "The continuation token provided is incorrect",
                            "continuation-token",
                            token,
                        )
                    })?,
                None => req.query("start-after").unwrap_or("").to_owned(),
            }
        } else {
            req.query("marker").unwrap_or("").to_owned()
        };
        let page = {
            let buckets = self.lock();
            let state = buckets.get(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
            list_page(&state.objects, prefix, delimiter, &after, max)
        };
        let mut xml = Xml::new("ListBucketResult");
        xml.text("Name", bucket);
        xml.text("Prefix", &encode(prefix, url));
        if v2 {
            if let Some(start_after) = req.query("start-after") {
                xml.text("StartAfter", &encode(start_after, url));
            }
            if let Some(token) = token {
                xml.text("ContinuationToken", token);
            }
        } else {
            xml.text("Marker", &encode(&after, url));
        }
        xml.text("MaxKeys", &max.to_string());
        xml.text("Delimiter", &encode(delimiter, url));
        if url {
            xml.text("EncodingType", "url");
        }
        xml.text("IsTruncated", &page.truncated.to_string());
        if v2 {
            xml.text("KeyCount", &(page.contents.len() + page.prefixes.len()).to_string());
        }
        if page.truncated
            && let Some(last) = &page.last
        {
            if v2 {
                xml.text("NextContinuationToken", &URL_SAFE_NO_PAD.encode(last));
            } else {
                xml.text("NextMarker", &encode(last, url));
            }
        }
        let with_owner = !v2 || req.query("fetch-owner") == Some("true");
        for meta in &page.contents {
            xml.open("Contents");
            xml.text("Key", &encode(&meta.key, url));
            xml.text("LastModified", &xml_time(&meta.last_modified));
            xml.text("ETag", &format!("\"{}\"", meta.etag));
            xml.text("Type", &meta.object_type);
            xml.text("Size", &meta.size.to_string());
            xml.text("StorageClass", &meta.storage_class);
            if with_owner {
                owner(&mut xml);
            }
            xml.close("Contents");
        }
        for common in &page.prefixes {
            xml.open("CommonPrefixes");
            xml.text("Prefix", &encode(common, url));
            xml.close("CommonPrefixes");
        }
        Ok(xml.response())
    }

    // ---- multipart ----

    fn initiate_upload(&self, req: &OssHttpRequest, bucket: &str, key: &str) -> OssResult<Response> {
        let storage_class = storage_class_header(req)?;
        if forbid_overwrite(req) && self.object_meta(bucket, key).is_some() {
            return Err(OssError::file_exists());
        }
        let manifest = UploadManifest {
            upload_id: new_upload_id(),
            key: key.to_owned(),
            initiated: now_iso(),
            content_type: content_type(req),
            storage_class,
            user_meta: user_meta(&req.headers),
            parts: BTreeMap::new(),
        };
        {
            let mut buckets = self.lock();
            let state = buckets.get_mut(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
            let dir = self.upload_dir(bucket, &manifest.upload_id);
            std::fs::create_dir_all(&dir).map_err(OssError::internal)?;
            write_json(&dir.join("manifest.json"), &manifest)?;
            state.uploads.insert(manifest.upload_id.clone(), manifest.clone());
        }
        let url = req.url_encoding();
        let mut xml = Xml::new("InitiateMultipartUploadResult");
        xml.text("Bucket", bucket);
        xml.text("Key", &encode(key, url));
        xml.text("UploadId", &manifest.upload_id);
        if url {
            xml.text("EncodingType", "url");
        }
        Ok(xml.response())
    }

    /// A copy of the manifest of `upload_id`, which must belong to `key`.
    fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> OssResult<UploadManifest> {
        let buckets = self.lock();
        let state = buckets.get(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
        state
            .uploads
            .get(upload_id)
            .filter(|u| u.key == key)
            .cloned()
            .ok_or_else(|| OssError::no_such_upload(upload_id))
    }

    async fn upload_part(
        &self,
        req: &OssHttpRequest,
        bucket: &str,
        key: &str,
        body: Body,
    ) -> OssResult<Response> {
        let upload_id = req.query("uploadId").ok_or_else(|| {
            OssError::invalid_argument("uploadId is required for UploadPart.", "uploadId", "")
        })?;
        let part_number = parse_part_number(req.query("partNumber"))?;
        self.upload(bucket, key, upload_id)?;
        let declared = check_body_length(req, &body)?;
        let expected_md5 = content_md5_header(req)?;
        let temp = self.incoming_path();
        let received = receive_body(body, &temp, declared).await?;
        if expected_md5.is_some_and(|md5| md5 != received.md5) {
            let _ = std::fs::remove_file(&temp);
            return Err(OssError::invalid_digest());
        }
        let part = PartMeta {
            size: received.size,
            etag: hex::encode_upper(received.md5),
            crc64: received.crc64,
            last_modified: now_iso(),
        };
        if let Err(e) = self.commit_part(bucket, key, upload_id, part_number, &temp, &part) {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        Ok(stored_response(&part.etag, part.crc64, &received.md5))
    }

    fn commit_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        temp: &Path,
        part: &PartMeta,
    ) -> OssResult<()> {
        let mut buckets = self.lock();
        let state = buckets.get_mut(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
        // The upload may have been aborted or completed while the body streamed in.
        let upload = state
            .uploads
            .get_mut(upload_id)
            .filter(|u| u.key == key)
            .ok_or_else(|| OssError::no_such_upload(upload_id))?;
        std::fs::rename(temp, self.part_path(bucket, upload_id, part_number)).map_err(OssError::internal)?;
        upload.parts.insert(part_number, part.clone());
        write_json(&self.upload_dir(bucket, upload_id).join("manifest.json"), &*upload)?;
        Ok(())
    }

    fn list_parts(&self, req: &OssHttpRequest, bucket: &str, key: &str) -> OssResult<Response> {
        let upload_id = req.query("uploadId").unwrap_or("");
        let max = parse_max(req.query("max-parts"), "max-parts", 1000)?;
        let marker = match req.query("part-number-marker") {
            None | Some("") => 0,
            Some(raw) => raw.parse::<u32>().map_err(|_| {
                OssError::invalid_argument(
                    "part-number-marker must be an integer.",
                    "part-number-marker",
                    raw,
                )
            })?,
        };
        let upload = self.upload(bucket, key, upload_id)?;
        let parts: Vec<(&u32, &PartMeta)> =
            upload.parts.range((Bound::Excluded(marker), Bound::Unbounded)).take(max + 1).collect();
        let truncated = parts.len() > max;
        let shown = &parts[..parts.len().min(max)];
        let url = req.url_encoding();
        let mut xml = Xml::new("ListPartsResult");
        xml.text("Bucket", bucket);
        if url {
            xml.text("EncodingType", "url");
        }
        xml.text("Key", &encode(key, url));
        xml.text("UploadId", upload_id);
        xml.text("StorageClass", &upload.storage_class);
        xml.text("PartNumberMarker", &marker.to_string());
        let next = shown.last().map_or(marker, |(n, _)| **n);
        xml.text("NextPartNumberMarker", &next.to_string());
        xml.text("MaxParts", &max.to_string());
        xml.text("IsTruncated", &truncated.to_string());
        for (number, part) in shown {
            xml.open("Part");
            xml.text("PartNumber", &number.to_string());
            xml.text("LastModified", &xml_time(&part.last_modified));
            xml.text("ETag", &format!("\"{}\"", part.etag));
            xml.text("HashCrc64ecma", &part.crc64.to_string());
            xml.text("Size", &part.size.to_string());
            xml.close("Part");
        }
        Ok(xml.response())
    }

    async fn complete_upload(
        &self,
        req: &OssHttpRequest,
        bucket: &str,
        key: &str,
        body: Body,
    ) -> OssResult<Response> {
        let upload_id = req.query("uploadId").unwrap_or("").to_owned();
        let complete_all = req.header("x-oss-complete-all").is_some_and(|v| v.eq_ignore_ascii_case("yes"));
        let xml_body = axum::body::to_bytes(body, 8 << 20).await.map_err(|_| OssError::request_timeout())?;
        if let Some(md5) = content_md5_header(req)?
            && md5 != <[u8; 16]>::from(Md5::digest(&xml_body))
        {
            return Err(OssError::invalid_digest());
        }
        let requested = if complete_all {
            if !xml_body.iter().all(u8::is_ascii_whitespace) {
                return Err(OssError::invalid_argument(
                    "The body must be empty when x-oss-complete-all is yes.",
                    "x-oss-complete-all",
                    "yes",
                ));
            }
            None
        } else {
            let text = std::str::from_utf8(&xml_body).map_err(|_| OssError::malformed_xml())?;
            let parsed: CompleteXml = quick_xml::de::from_str(text).map_err(|_| OssError::malformed_xml())?;
            if parsed.parts.is_empty() {
                return Err(OssError::malformed_xml());
            }
            Some(parsed.parts)
        };
        let forbid = forbid_overwrite(req);
        let upload = self.upload(bucket, key, &upload_id)?;
        if forbid && self.object_meta(bucket, key).is_some() {
            return Err(OssError::file_exists());
        }
        let chosen = choose_parts(&upload, requested.as_deref())?;

        // Link the parts as the object's segments (outside the lock): no bytes are copied.
        let sources: Vec<PathBuf> =
            chosen.iter().map(|(n, _)| self.part_path(bucket, &upload_id, *n)).collect();
        let temp = self.incoming_path();
        let target = temp.clone();
        let joined = tokio::task::spawn_blocking(move || link_segments(&sources, &target)).await;
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = remove_object_data(&temp);
                // Parts vanish only if the upload was aborted meanwhile.
                self.upload(bucket, key, &upload_id)?;
                return Err(OssError::internal(e));
            }
            Err(e) => {
                let _ = remove_object_data(&temp);
                return Err(OssError::internal(e));
            }
        }
        let mut md5s = Md5::new();
        let mut crc = 0u64;
        let mut size = 0u64;
        for (_, part) in &chosen {
            md5s.update(hex::decode(&part.etag).map_err(OssError::internal)?);
            crc = crc64::combine(crc, part.crc64, part.size);
            size += part.size;
        }
        let meta = ObjectMeta {
            key: key.to_owned(),
            size,
            etag: format!("{}-{}", hex::encode_upper(md5s.finalize()), chosen.len()),
            crc64: crc,
            content_type: upload.content_type.clone(),
            object_type: "Multipart".to_owned(),
            storage_class: upload.storage_class.clone(),
            last_modified: now_iso(),
            user_meta: upload.user_meta.clone(),
        };
        if let Err(e) = self.finish_upload(bucket, &upload_id, &chosen, &temp, &meta, forbid) {
            let _ = remove_object_data(&temp);
            return Err(e);
        }
        let url = req.url_encoding();
        let mut xml = Xml::new("CompleteMultipartUploadResult");
        if url {
            xml.text("EncodingType", "url");
        }
        xml.text("Location", &object_location(&req.host, bucket, key));
        xml.text("Bucket", bucket);
        xml.text("Key", &encode(key, url));
        xml.text("ETag", &format!("\"{}\"", meta.etag));
        let mut response = xml.response();
        let headers = response.headers_mut();
        set_header(headers, "etag", &format!("\"{}\"", meta.etag));
        set_header(headers, "x-oss-hash-crc64ecma", &meta.crc64.to_string());
        Ok(response)
    }

    /// Commit the assembled object and retire the upload, atomically with respect to other requests.
    fn finish_upload(
        &self,
        bucket: &str,
        upload_id: &str,
        chosen: &[(u32, PartMeta)],
        temp: &Path,
        meta: &ObjectMeta,
        forbid: bool,
    ) -> OssResult<()> {
        let mut buckets = self.lock();
        let state = buckets.get_mut(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
        let upload = state.uploads.get(upload_id).ok_or_else(|| OssError::no_such_upload(upload_id))?;
        // A part re-uploaded during the concatenation would make ETag and CRC lie about the bytes.
        if chosen.iter().any(|(n, p)| upload.parts.get(n).is_none_or(|now| now.etag != p.etag)) {
            return Err(OssError::new(
                StatusCode::BAD_REQUEST,
                "InvalidPart",
                "A part was re-uploaded while the upload was being completed.",
            ));
        }
        if forbid && state.objects.contains_key(&meta.key) {
            return Err(OssError::file_exists());
        }
        let (data, json) = self.object_paths(bucket, &meta.key);
        remove_object_data(&data).map_err(OssError::internal)?;
        std::fs::rename(temp, &data).map_err(OssError::internal)?;
        write_json(&json, meta)?;
        state.objects.insert(meta.key.clone(), meta.clone());
        state.uploads.remove(upload_id);
        // Leftover parts are garbage now; failing to delete them must not fail the request.
        let _ = std::fs::remove_dir_all(self.upload_dir(bucket, upload_id));
        Ok(())
    }

    fn abort_upload(&self, req: &OssHttpRequest, bucket: &str, key: &str) -> OssResult<Response> {
        let upload_id = req.query("uploadId").unwrap_or("");
        let mut buckets = self.lock();
        let state = buckets.get_mut(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
        if state.uploads.get(upload_id).is_none_or(|u| u.key != key) {
            return Err(OssError::no_such_upload(upload_id));
        }
        state.uploads.remove(upload_id);
        std::fs::remove_dir_all(self.upload_dir(bucket, upload_id)).map_err(OssError::internal)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    }

    fn list_uploads(&self, req: &OssHttpRequest, bucket: &str) -> OssResult<Response> {
        let prefix = req.query("prefix").unwrap_or("");
        let key_marker = req.query("key-marker").unwrap_or("");
        let id_marker = req.query("upload-id-marker").unwrap_or("");
        let max = parse_max(req.query("max-uploads"), "max-uploads", 1000)?;
        let url = req.url_encoding();
        let mut uploads: Vec<UploadManifest> = {
            let buckets = self.lock();
            let state = buckets.get(bucket).ok_or_else(|| OssError::no_such_bucket(bucket))?;
            state
                .uploads
                .values()
                .filter(|u| u.key.starts_with(prefix))
                .filter(|u| {
                    u.key.as_str() > key_marker
                        || (!id_marker.is_empty() && u.key == key_marker && u.upload_id.as_str() > id_marker)
                })
                .cloned()
                .collect()
        };
        // Upload ids start with a timestamp, so this is key order, then initiation order.
        uploads.sort_by(|a, b| (&a.key, &a.upload_id).cmp(&(&b.key, &b.upload_id)));
        let truncated = uploads.len() > max;
        uploads.truncate(max);
        let mut xml = Xml::new("ListMultipartUploadsResult");
        xml.text("Bucket", bucket);
        if url {
            xml.text("EncodingType", "url");
        }
        xml.text("KeyMarker", &encode(key_marker, url));
        xml.text("UploadIdMarker", id_marker);
        let (next_key, next_id) = uploads.last().map_or(("", ""), |u| (u.key.as_str(), u.upload_id.as_str()));
        xml.text("NextKeyMarker", &encode(next_key, url));
        xml.text("NextUploadIdMarker", next_id);
        xml.text("Delimiter", "");
        xml.text("Prefix", &encode(prefix, url));
        xml.text("MaxUploads", &max.to_string());
        xml.text("IsTruncated", &truncated.to_string());
        for upload in &uploads {
            xml.open("Upload");
            xml.text("Key", &encode(&upload.key, url));
            xml.text("UploadId", &upload.upload_id);
            xml.text("StorageClass", &upload.storage_class);
            xml.text("Initiated", &xml_time(&upload.initiated));
            xml.close("Upload");
        }
        Ok(xml.response())
    }

    // ---- demo data ----

    /// Demo data set (a fresh data dir with `seed_demo`):
    /// - bucket `imagedesk-demo-hz` (cn-hangzhou):
    ///   - `images/centos-7.9.qcow2`: 64 KiB, a qcow2 v3 header with a 40 GiB virtual size;
    ///   - `images/ubuntu-22.04.raw`: 1 MiB raw disk, one Linux partition, MBR signature 0x55AA;
    ///   - `docs/readme.txt`: plain text (not a disk image, for ImportImage failures);
    /// - bucket `imagedesk-demo-bj` (cn-beijing):
    ///   - `images/edge-node.qcow2`: 64 KiB, qcow2 v3 header with a 20 GiB virtual size.
    fn seed_demo(&self) -> Result<(), SandboxError> {
        const HZ: &str = "imagedesk-demo-hz";
        const BJ: &str = "imagedesk-demo-bj";
        self.create_bucket(HZ, "cn-hangzhou", "Standard")?;
        self.create_bucket(BJ, "cn-beijing", "Standard")?;
        self.seed_object(HZ, "images/centos-7.9.qcow2", &qcow2_image(40 << 30), "application/octet-stream")?;
        self.seed_object(HZ, "images/ubuntu-22.04.raw", &raw_image(1 << 20), "application/octet-stream")?;
        self.seed_object(
            HZ,
            "docs/readme.txt",
            b"ImageDesk sandbox demo bucket.\nimages/ holds disk images to import; this file is not one.\n",
            "text/plain",
        )?;
        self.seed_object(BJ, "images/edge-node.qcow2", &qcow2_image(20 << 30), "application/octet-stream")?;
        Ok(())
    }

    fn seed_object(
        &self,
        bucket: &str,
        key: &str,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<(), SandboxError> {
        let meta = ObjectMeta {
            key: key.to_owned(),
            size: bytes.len() as u64,
            etag: hex::encode_upper(Md5::digest(bytes)),
            crc64: crc64::checksum(bytes),
            content_type: content_type.to_owned(),
            object_type: "Normal".to_owned(),
            storage_class: "Standard".to_owned(),
            last_modified: now_iso(),
            user_meta: BTreeMap::new(),
        };
        let mut buckets = self.lock();
        let (data, json) = self.object_paths(bucket, key);
        write_atomically(&data, bytes)?;
        write_json(&json, &meta)?;
        if let Some(state) = buckets.get_mut(bucket) {
            state.objects.insert(key.to_owned(), meta);
        }
        Ok(())
    }
}

impl OssView for OssStore {
    fn bucket_region(&self, bucket: &str) -> Option<String> {
        self.lock().get(bucket).map(|b| b.meta.region.clone())
    }

    fn object_size(&self, bucket: &str, key: &str) -> Option<u64> {
        self.object_meta(bucket, key).map(|m| m.size)
    }

    fn read_object_head(&self, bucket: &str, key: &str, max: usize) -> Option<Vec<u8>> {
        let file = {
            let buckets = self.lock();
            buckets.get(bucket)?.objects.get(key)?;
            ObjectData::open(&self.object_paths(bucket, key).0).ok()?
        };
        let mut head = Vec::new();
        file.take(max as u64).read_to_end(&mut head).ok()?;
        Some(head)
    }
}

// ---- loading ----

fn load_buckets(dir: &Path) -> Result<BTreeMap<String, BucketState>, SandboxError> {
    let mut buckets = BTreeMap::new();
    for bucket_dir in subdirectories(dir)? {
        let meta_path = bucket_dir.join("bucket.json");
        // A directory without bucket.json is a creation that never finished.
        if !meta_path.exists() {
            continue;
        }
        let meta: BucketMeta = read_json(&meta_path)?;
        let mut objects = BTreeMap::new();
        let objects_dir = bucket_dir.join("objects");
        if objects_dir.is_dir() {
            for entry in read_dir(&objects_dir)? {
                if entry.extension().is_some_and(|e| e == "json") && entry.with_extension("data").exists() {
                    let object: ObjectMeta = read_json(&entry)?;
                    objects.insert(object.key.clone(), object);
                }
            }
        }
        let mut uploads = BTreeMap::new();
        let uploads_dir = bucket_dir.join("uploads");
        if uploads_dir.is_dir() {
            for upload_dir in subdirectories(&uploads_dir)? {
                let manifest_path = upload_dir.join("manifest.json");
                if manifest_path.exists() {
                    let manifest: UploadManifest = read_json(&manifest_path)?;
                    uploads.insert(manifest.upload_id.clone(), manifest);
                }
            }
        }
        buckets.insert(meta.name.clone(), BucketState { meta, objects, uploads });
    }
    Ok(buckets)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, SandboxError> {
    let io = |source| SandboxError::Io { path: dir.to_owned(), source };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        paths.push(entry.map_err(io)?.path());
    }
    Ok(paths)
}

fn subdirectories(dir: &Path) -> Result<Vec<PathBuf>, SandboxError> {
    Ok(read_dir(dir)?.into_iter().filter(|p| p.is_dir()).collect())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SandboxError> {
    let bytes = std::fs::read(path).map_err(|source| SandboxError::Io { path: path.to_owned(), source })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| SandboxError::CorruptState { path: path.to_owned(), reason: e.to_string() })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SandboxError> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| SandboxError::CorruptState { path: path.to_owned(), reason: e.to_string() })?;
    write_atomically(path, &bytes)
}

fn remove_file_if_present(path: &Path) -> OssResult<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(OssError::internal(e)),
        _ => Ok(()),
    }
}

// ---- bodies ----

/// Stream a request body into `path`, hashing as it goes; on any failure the file is removed.
async fn receive_body(body: Body, path: &Path, declared: Option<u64>) -> OssResult<Received> {
    let result = receive_into(body, path, declared).await;
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

#[derive(Debug)]
struct Sink {
    file: std::fs::File,
    md5: Md5,
    crc: Crc64,
}

async fn receive_into(body: Body, path: &Path, declared: Option<u64>) -> OssResult<Received> {
    let file = std::fs::File::create(path).map_err(OssError::internal)?;
    let mut sink = Sink { file, md5: Md5::new(), crc: Crc64::new() };
    let mut batch: Vec<Bytes> = Vec::new();
    let mut batch_len = 0;
    let mut total = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| OssError::request_timeout())?;
        total += chunk.len() as u64;
        if total > MAX_OBJECT_SIZE {
            return Err(too_large(total));
        }
        if declared.is_some_and(|d| total > d) {
            return Err(OssError::invalid_argument(
                "The body is longer than Content-Length.",
                "Content-Length",
                "",
            ));
        }
        batch_len += chunk.len();
        batch.push(chunk);
        if batch_len >= WRITE_BATCH {
            sink = write_batch(sink, std::mem::take(&mut batch)).await?;
            batch_len = 0;
        }
    }
    let mut sink = write_batch(sink, batch).await?;
    if declared.is_some_and(|d| d != total) {
        return Err(OssError::request_timeout());
    }
    sink.file.flush().map_err(OssError::internal)?;
    Ok(Received { size: total, md5: sink.md5.finalize().into(), crc64: sink.crc.value() })
}

async fn write_batch(mut sink: Sink, batch: Vec<Bytes>) -> OssResult<Sink> {
    if batch.is_empty() {
        return Ok(sink);
    }
    tokio::task::spawn_blocking(move || {
        for chunk in &batch {
            sink.md5.update(chunk);
            sink.crc.update(chunk);
            sink.file.write_all(chunk)?;
        }
        Ok::<_, std::io::Error>(sink)
    })
    .await
    .map_err(OssError::internal)?
    .map_err(OssError::internal)
}

/// `len` bytes of `file` from its current position, read in blocking chunks as the client drains them.
fn file_body(file: ObjectData, len: u64) -> Body {
    let stream = futures_util::stream::unfold(Some((file, len)), |state| async move {
        let (mut file, remaining) = state?;
        if remaining == 0 {
            return None;
        }
        let want = remaining.min(READ_CHUNK);
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0; want as usize];
            file.read_exact(&mut buf).map(|()| (file, buf))
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        Some(match read {
            Ok((file, buf)) => (Ok(Bytes::from(buf)), Some((file, remaining - want))),
            Err(e) => (Err(e), None),
        })
    });
    Body::from_stream(stream)
}

/// The answer to PutObject and UploadPart: ETag, CRC-64 and the MD5 of what was stored.
fn stored_response(etag: &str, crc64: u64, md5: &[u8]) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    set_header(headers, "etag", &format!("\"{etag}\""));
    set_header(headers, "x-oss-hash-crc64ecma", &crc64.to_string());
    set_header(headers, "content-md5", &BASE64.encode(md5));
    response
}

/// Make `target` a directory of the parts in order (`seg-00001`, …): hard links where the
/// filesystem allows, copies otherwise.
fn link_segments(sources: &[PathBuf], target: &Path) -> std::io::Result<()> {
    std::fs::create_dir(target)?;
    for (index, source) in sources.iter().enumerate() {
        let segment = target.join(format!("seg-{:05}", index + 1));
        if std::fs::hard_link(source, &segment).is_err() {
            std::fs::copy(source, &segment)?;
        }
    }
    Ok(())
}

/// Remove an object's bytes, file or segment directory; absent is fine.
fn remove_object_data(path: &Path) -> std::io::Result<()> {
    let result = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// An object's bytes as one reader: a single file, or the segments of a multipart object.
#[derive(Debug)]
enum ObjectData {
    File(std::fs::File),
    Segments { segments: Vec<(PathBuf, u64)>, pos: u64, open: Option<(usize, std::fs::File)> },
}

impl ObjectData {
    fn open(path: &Path) -> std::io::Result<Self> {
        if !path.is_dir() {
            return Ok(Self::File(std::fs::File::open(path)?));
        }
        let mut names: Vec<PathBuf> =
            std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        let segments = names
            .into_iter()
            .map(|p| p.metadata().map(|m| (p, m.len())))
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(Self::Segments { segments, pos: 0, open: None })
    }
}

impl Read for ObjectData {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Self::Segments { segments, pos, open } = self else {
            let Self::File(file) = self else { return Ok(0) };
            return file.read(buf);
        };
        // Find the segment holding `pos`.
        let mut start = 0u64;
        for (index, (path, len)) in segments.iter().enumerate() {
            if *pos < start + len {
                if open.as_ref().is_none_or(|(i, _)| *i != index) {
                    let mut file = std::fs::File::open(path)?;
                    file.seek(SeekFrom::Start(*pos - start))?;
                    *open = Some((index, file));
                }
                let Some((_, file)) = open.as_mut() else { return Ok(0) };
                let room = usize::try_from(start + len - *pos).unwrap_or(usize::MAX).min(buf.len());
                let read = file.read(&mut buf[..room])?;
                *pos += read as u64;
                return Ok(read);
            }
            start += len;
        }
        Ok(0)
    }
}

impl Seek for ObjectData {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        match self {
            Self::File(file) => file.seek(to),
            Self::Segments { segments, pos, open } => {
                let total: u64 = segments.iter().map(|(_, len)| len).sum();
                let target = match to {
                    SeekFrom::Start(n) => Some(n),
                    SeekFrom::End(d) => total.checked_add_signed(d),
                    SeekFrom::Current(d) => pos.checked_add_signed(d),
                }
                .ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
                })?;
                *pos = target;
                *open = None;
                Ok(target)
            }
        }
    }
}

// ---- request details ----

fn too_large(size: u64) -> OssError {
    OssError::invalid_argument(
        "Your proposed upload exceeds the maximum allowed size.",
        "Content-Length",
        &size.to_string(),
    )
}

/// Declared `Content-Length`; 411 only when nothing tells the body's length (no header, not
/// chunked, and a body of unknown size).
fn check_body_length(req: &OssHttpRequest, body: &Body) -> OssResult<Option<u64>> {
    let declared = match req.header("content-length") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u64>()
                .map_err(|_| OssError::invalid_argument("Invalid Content-Length.", "Content-Length", raw))?,
        ),
    };
    if let Some(len) = declared
        && len > MAX_OBJECT_SIZE
    {
        return Err(too_large(len));
    }
    let chunked = req.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if declared.is_none() && !chunked && HttpBody::size_hint(body).exact().is_none() {
        return Err(OssError::new(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
        ));
    }
    Ok(declared)
}

fn content_md5_header(req: &OssHttpRequest) -> OssResult<Option<[u8; 16]>> {
    let Some(raw) = req.header("content-md5") else {
        return Ok(None);
    };
    let bytes = BASE64.decode(raw).map_err(|_| OssError::invalid_digest())?;
    <[u8; 16]>::try_from(bytes.as_slice()).map(Some).map_err(|_| OssError::invalid_digest())
}

fn forbid_overwrite(req: &OssHttpRequest) -> bool {
    req.header("x-oss-forbid-overwrite").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn storage_class_header(req: &OssHttpRequest) -> OssResult<String> {
    match req.header("x-oss-storage-class") {
        None => Ok("Standard".to_owned()),
        Some(class) => STORAGE_CLASSES
            .iter()
            .find(|c| c.eq_ignore_ascii_case(class))
            .map(|c| (*c).to_owned())
            .ok_or_else(|| {
                OssError::invalid_argument("Unsupported storage class.", "x-oss-storage-class", class)
            }),
    }
}

fn content_type(req: &OssHttpRequest) -> String {
    req.header("content-type").filter(|v| !v.is_empty()).unwrap_or("application/octet-stream").to_owned()
}

fn user_meta(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-oss-meta-"))
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect()
}

fn parse_part_number(raw: Option<&str>) -> OssResult<u32> {
    let raw = raw.unwrap_or("");
    raw.parse::<u32>().ok().filter(|n| (1..=MAX_PART_NUMBER).contains(n)).ok_or_else(|| {
        OssError::invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive.",
            "PartNumber",
            raw,
        )
    })
}

/// `max-keys`-style limits: 1..=1000, `default` when absent.
fn parse_max(raw: Option<&str>, name: &str, default: usize) -> OssResult<usize> {
    match raw {
        None | Some("") => Ok(default),
        Some(raw) => raw.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
            OssError::invalid_argument(format!("{name} must be between 1 and 1000."), name, raw)
        }),
    }
}

/// The parts a CompleteMultipartUpload assembles, validated as OSS does.
fn choose_parts(
    upload: &UploadManifest,
    requested: Option<&[CompletePartXml]>,
) -> OssResult<Vec<(u32, PartMeta)>> {
    let chosen: Vec<(u32, PartMeta)> = match requested {
        None => upload.parts.iter().map(|(n, p)| (*n, p.clone())).collect(),
        Some(list) => {
            if list.windows(2).any(|w| w[0].part_number >= w[1].part_number) {
                return Err(OssError::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidPartOrder",
                    "The list of parts was not in ascending order. Parts must be ordered by part number.",
                ));
            }
            let mut chosen = Vec::with_capacity(list.len());
            for wanted in list {
                let etag = wanted.etag.trim().trim_matches('"');
                match upload.parts.get(&wanted.part_number) {
                    Some(part) if part.etag.eq_ignore_ascii_case(etag) => {
                        chosen.push((wanted.part_number, part.clone()))
                    }
                    _ => {
                        return Err(OssError::new(
                            StatusCode::BAD_REQUEST,
                            "InvalidPart",
                            "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.",
                        )
                        .with("PartNumber", wanted.part_number.to_string())
                        .with("ETag", wanted.etag.trim()));
                    }
                }
            }
            chosen
        }
    };
    if chosen.is_empty() {
        return Err(OssError::new(StatusCode::BAD_REQUEST, "InvalidPart", "No part has been uploaded."));
    }
    if let Some((number, part)) = chosen[..chosen.len() - 1].iter().find(|(_, p)| p.size < MIN_PART_SIZE) {
        return Err(OssError::new(
            StatusCode::BAD_REQUEST,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size.",
        )
        .with("MinSizeAllowed", MIN_PART_SIZE.to_string())
        .with("ProposedSize", part.size.to_string())
        .with("PartNumber", number.to_string()));
    }
    Ok(chosen)
}

#[derive(Debug, Deserialize)]
struct CreateBucketXml {
    #[serde(rename = "StorageClass")]
    storage_class: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CompleteXml {
    #[serde(rename = "Part", default)]
    parts: Vec<CompletePartXml>,
}

#[derive(Debug, Deserialize)]
struct CompletePartXml {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

// ---- object reads ----

/// 304/412 for the conditional GET/HEAD headers; `None` to answer normally.
fn precondition(req: &OssHttpRequest, meta: &ObjectMeta) -> OssResult<Option<StatusCode>> {
    let etag_matches = |list: &str| {
        list.split(',')
            .map(|t| t.trim().trim_matches('"'))
            .any(|t| t == "*" || t.eq_ignore_ascii_case(&meta.etag))
    };
    let modified = parse_iso(&meta.last_modified).timestamp();
    let since = |raw: &str| DateTime::parse_from_rfc2822(raw).ok().map(|d| d.timestamp());
    let failed = || {
        Err(OssError::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold.",
        ))
    };
    if let Some(list) = req.header("if-match")
        && !etag_matches(list)
    {
        return failed();
    }
    if let Some(limit) = req.header("if-unmodified-since").and_then(since)
        && modified > limit
    {
        return failed();
    }
    if let Some(list) = req.header("if-none-match")
        && etag_matches(list)
    {
        return Ok(Some(StatusCode::NOT_MODIFIED));
    }
    if let Some(limit) = req.header("if-modified-since").and_then(since)
        && modified <= limit
    {
        return Ok(Some(StatusCode::NOT_MODIFIED));
    }
    Ok(None)
}

#[derive(Debug, PartialEq)]
enum RangeSpec {
    Full,
    /// First and last byte, inclusive.
    Partial(u64, u64),
    Unsatisfiable,
}

/// `Range: bytes=a-b | a- | -n`. Malformed or multi-range headers are ignored (whole object), as OSS does.
fn parse_range(header: Option<&str>, size: u64) -> RangeSpec {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeSpec::Full;
    };
    let Some((first, last)) = spec.split_once('-').filter(|_| !spec.contains(',')) else {
        return RangeSpec::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return match last.parse::<u64>() {
            Ok(0) => RangeSpec::Unsatisfiable,
            Ok(_) if size == 0 => RangeSpec::Unsatisfiable,
            Ok(n) => RangeSpec::Partial(size.saturating_sub(n), size - 1),
            Err(_) => RangeSpec::Full,
        };
    }
    let Ok(first) = first.parse::<u64>() else {
        return RangeSpec::Full;
    };
    let last = if last.is_empty() { Ok(u64::MAX) } else { last.parse::<u64>() };
    match last {
        Ok(last) if last >= first => {
            if first >= size {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Partial(first, last.min(size - 1))
            }
        }
        _ => RangeSpec::Full,
    }
}

fn object_headers(headers: &mut HeaderMap, meta: &ObjectMeta) {
    set_header(headers, "content-type", &meta.content_type);
    set_header(headers, "etag", &format!("\"{}\"", meta.etag));
    set_header(
        headers,
        "last-modified",
        &parse_iso(&meta.last_modified).format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
    );
    set_header(headers, "x-oss-object-type", &meta.object_type);
    set_header(headers, "x-oss-hash-crc64ecma", &meta.crc64.to_string());
    set_header(headers, "x-oss-storage-class", &meta.storage_class);
    set_header(headers, "accept-ranges", "bytes");
    if meta.object_type == "Normal"
        && let Ok(md5) = hex::decode(&meta.etag)
    {
        set_header(headers, "content-md5", &BASE64.encode(md5));
    }
    for (name, value) in &meta.user_meta {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
        {
            headers.insert(name, value);
        }
    }
}

/// One page of a listing: objects and common prefixes after `after`, grouped by `delimiter`.
#[derive(Debug)]
struct Page {
    contents: Vec<ObjectMeta>,
    prefixes: Vec<String>,
    truncated: bool,
    /// The last key or common prefix returned (the next marker).
    last: Option<String>,
}

fn list_page(
    objects: &BTreeMap<String, ObjectMeta>,
    prefix: &str,
    delimiter: &str,
    after: &str,
    max: usize,
) -> Page {
    let mut page = Page { contents: Vec::new(), prefixes: Vec::new(), truncated: false, last: None };
    let start = if prefix > after { Bound::Included(prefix) } else { Bound::Excluded(after) };
    for (key, meta) in objects.range::<str, _>((start, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        let group = (!delimiter.is_empty())
            .then(|| key[prefix.len()..].find(delimiter).map(|i| &key[..prefix.len() + i + delimiter.len()]))
            .flatten();
        // A marker that names a common prefix (the previous page ended on it) skips its keys.
        let entry = group.unwrap_or(key);
        if entry <= after || page.prefixes.last().is_some_and(|p| p == entry) {
            continue;
        }
        if page.contents.len() + page.prefixes.len() == max {
            page.truncated = true;
            break;
        }
        match group {
            Some(group) => page.prefixes.push(group.to_owned()),
            None => page.contents.push(meta.clone()),
        }
        page.last = Some(entry.to_owned());
    }
    page
}

// ---- small helpers ----

fn set_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

fn now_iso() -> String {
    // OSS answers second precision with a literal `.000Z`; oss2 accepts only that form.
    Utc::now().format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

/// Times in XML bodies exactly as OSS writes them (`2012-02-24T08:42:32.000Z`), whatever
/// precision the stored value has.
fn xml_time(stored: &str) -> String {
    parse_iso(stored).format("%Y-%m-%dT%H:%M:%S.000Z").to_string()
}

fn parse_iso(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).map(|d| d.with_timezone(&Utc)).unwrap_or(DateTime::UNIX_EPOCH)
}

/// 32 uppercase hex digits; the leading timestamp makes ids sort in initiation order.
fn new_upload_id() -> String {
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    format!("{nanos:016X}{:016X}", rand::random::<u64>())
}

fn encode(text: &str, url: bool) -> String {
    if url { utf8_percent_encode(text, URL_ENCODE).to_string() } else { text.to_owned() }
}

fn valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The region in an `oss-<region>[-internal].…` host, if the client used one.
fn region_from_host(host: &str) -> Option<String> {
    let host = host.split(':').next()?;
    host.split('.').find_map(|label| {
        let rest = label.strip_prefix("oss-")?;
        let rest = rest.strip_suffix("-internal").unwrap_or(rest);
        let plausible = !rest.starts_with("accelerate")
            && rest.contains('-')
            && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        plausible.then(|| rest.to_owned())
    })
}

fn object_location(host: &str, bucket: &str, key: &str) -> String {
    let path = utf8_percent_encode(key, PATH_ENCODE);
    if host.starts_with(&format!("{bucket}.")) {
        format!("http://{host}/{path}")
    } else {
        format!("http://{host}/{bucket}/{path}")
    }
}

fn owner(xml: &mut Xml) {
    xml.open("Owner");
    xml.text("ID", OWNER_ID);
    xml.text("DisplayName", OWNER_ID);
    xml.close("Owner");
}

/// A tiny XML writer: every response document is a flat tree of text elements.
#[derive(Debug)]
struct Xml {
    text: String,
    root: Option<&'static str>,
}

impl Xml {
    fn new(root: &'static str) -> Self {
        let mut xml = Self::bare();
        xml.open(root);
        xml.root = Some(root);
        xml
    }

    /// A document whose single element is written by the caller.
    fn bare() -> Self {
        Self { text: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".to_owned(), root: None }
    }

    fn open(&mut self, name: &str) {
        self.text.push('<');
        self.text.push_str(name);
        self.text.push('>');
    }

    fn close(&mut self, name: &str) {
        self.text.push_str("</");
        self.text.push_str(name);
        self.text.push('>');
    }

    fn text(&mut self, name: &str, value: &str) {
        self.open(name);
        self.text.push_str(&xml_escape(value));
        self.close(name);
    }

    fn response(mut self) -> Response {
        if let Some(root) = self.root {
            self.close(root);
        }
        self.text.push('\n');
        let mut response = (StatusCode::OK, self.text).into_response();
        response.headers_mut().insert("content-type", HeaderValue::from_static("application/xml"));
        response
    }
}

/// A qcow2 v3 header (64 KiB cluster) describing a disk of `virtual_size` bytes.
fn qcow2_image(virtual_size: u64) -> Vec<u8> {
    let mut image = vec![0u8; 64 * 1024];
    let mut put = |offset: usize, bytes: &[u8]| image[offset..offset + bytes.len()].copy_from_slice(bytes);
    let cluster_bits = 16u32;
    // One L1 entry covers cluster_size * (cluster_size / 8) bytes.
    let l1_size = virtual_size.div_ceil((1u64 << cluster_bits) * ((1u64 << cluster_bits) / 8)) as u32;
    put(0, b"QFI\xfb");
    put(4, &3u32.to_be_bytes()); // version
    put(20, &cluster_bits.to_be_bytes());
    put(24, &virtual_size.to_be_bytes());
    put(36, &l1_size.to_be_bytes());
    put(40, &0x3_0000u64.to_be_bytes()); // l1_table_offset
    put(48, &0x1_0000u64.to_be_bytes()); // refcount_table_offset
    put(56, &1u32.to_be_bytes()); // refcount_table_clusters
    put(96, &4u32.to_be_bytes()); // refcount_order
    put(100, &104u32.to_be_bytes()); // header_length
    image
}

/// A raw disk with an MBR holding one bootable Linux partition from sector 2048.
fn raw_image(size: usize) -> Vec<u8> {
    let mut image = vec![0u8; size];
    let sectors = (size / 512) as u32;
    image[446] = 0x80; // bootable
    image[450] = 0x83; // Linux
    image[454..458].copy_from_slice(&2048u32.to_le_bytes());
    image[458..462].copy_from_slice(&sectors.saturating_sub(2048).to_le_bytes());
    image[510] = 0x55;
    image[511] = 0xAA;
    image
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Detailed error codes (EC) documented in the spec; others are omitted rather than invented.
fn error_ec(code: &str) -> Option<&'static str> {
    match code {
        "NoSuchKey" => Some("0026-00000001"),
        "EntityTooSmall" => Some("0042-00000213"),
        _ => None,
    }
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
    let ec = error_ec(code);
    if let Some(ec) = ec {
        xml.push_str(&format!("  <EC>{ec}</EC>\n"));
        xml.push_str(&format!("  <RecommendDoc>https://api.aliyun.com/troubleshoot?q={ec}</RecommendDoc>\n"));
    }
    xml.push_str("</Error>\n");
    let mut response = (status, xml).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/xml"));
    headers.insert("server", HeaderValue::from_static("AliyunOSS"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-oss-request-id", v);
    }
    if let Some(ec) = ec {
        headers.insert("x-oss-ec", HeaderValue::from_static(ec));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: &str = "test-bucket";

    /// A unique scratch directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
            let path = std::env::temp_dir().join(format!(
                "imagedesk-oss-{name}-{}-{nanos}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Self(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    struct Reply {
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    impl Reply {
        fn header(&self, name: &str) -> &str {
            self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
        }
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
        fn error_code(&self) -> String {
            tags(&self.text(), "Code").into_iter().next().unwrap_or_default()
        }
    }

    /// Texts of every `<name>` element (flat documents only).
    fn tags(xml: &str, name: &str) -> Vec<String> {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        let mut out = Vec::new();
        let mut rest = xml;
        while let Some(start) = rest.find(&open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(&close) else { break };
            out.push(after[..end].replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<"));
            rest = &after[end + close.len()..];
        }
        out
    }

    fn request(
        method: Method,
        bucket: Option<&str>,
        key: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> OssHttpRequest {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        OssHttpRequest {
            method,
            bucket: bucket.map(str::to_owned),
            key: key.to_owned(),
            query: query.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect(),
            headers: map,
            host: "oss-cn-hangzhou.aliyuncs.com".to_owned(),
            request_id: "5C3D9175B6FC201293AD4890".to_owned(),
        }
    }

    async fn send(store: &OssStore, mut req: OssHttpRequest, body: &[u8]) -> Reply {
        if matches!(req.method, Method::PUT | Method::POST) && !req.headers.contains_key("content-length") {
            req.headers.insert("content-length", HeaderValue::from(body.len()));
        }
        let response = store.handle(req, Body::from(body.to_vec())).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
        assert_eq!(headers.get("x-oss-request-id").unwrap(), "5C3D9175B6FC201293AD4890");
        assert_eq!(headers.get("server").unwrap(), "AliyunOSS");
        Reply { status, headers, body }
    }

    async fn store_with_bucket(dir: &TempDir) -> OssStore {
        let store = OssStore::open(&dir.0, false).unwrap();
        let reply = send(&store, request(Method::PUT, Some(BUCKET), "", &[], &[]), b"").await;
        assert_eq!(reply.status, StatusCode::OK);
        store
    }

    async fn put(store: &OssStore, key: &str, bytes: &[u8]) -> Reply {
        send(store, request(Method::PUT, Some(BUCKET), key, &[], &[]), bytes).await
    }

    async fn get(store: &OssStore, key: &str, headers: &[(&str, &str)]) -> Reply {
        send(store, request(Method::GET, Some(BUCKET), key, &[], headers), b"").await
    }

    fn md5_hex(bytes: &[u8]) -> String {
        hex::encode_upper(Md5::digest(bytes))
    }

    /// Deterministic pseudo-random bytes.
    fn data(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(seed as u32) as u8 ^ seed)
            .collect()
    }

    #[test]
    fn handle_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let dir = TempDir::new("send");
        let store = OssStore::open(&dir.0, false).unwrap();
        let future = store.handle(request(Method::GET, None, "", &[], &[]), Body::empty());
        assert_send(&future);
    }

    #[tokio::test]
    async fn put_get_head_delete() {
        let dir = TempDir::new("object");
        let store = store_with_bucket(&dir).await;
        let bytes = b"hello, image desk".to_vec();
        let req = request(
            Method::PUT,
            Some(BUCKET),
            "dir/hello.txt",
            &[],
            &[("content-type", "text/plain"), ("x-oss-meta-owner", "ops")],
        );
        let reply = send(&store, req, &bytes).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("etag"), format!("\"{}\"", md5_hex(&bytes)));
        assert_eq!(reply.header("x-oss-hash-crc64ecma"), crc64::checksum(&bytes).to_string());
        assert_eq!(reply.header("content-md5"), crate::protocol::sign::content_md5(&bytes));

        let reply = get(&store, "dir/hello.txt", &[]).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, bytes);
        assert_eq!(reply.header("content-type"), "text/plain");
        assert_eq!(reply.header("x-oss-meta-owner"), "ops");
        assert_eq!(reply.header("content-length"), bytes.len().to_string());

        let reply = get(&store, "dir/hello.txt", &[("range", "bytes=7-10")]).await;
        assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(reply.body, b"imag");
        assert_eq!(reply.header("content-range"), format!("bytes 7-10/{}", bytes.len()));
        assert_eq!(reply.header("x-oss-hash-crc64ecma"), crc64::checksum(&bytes).to_string());
        let reply = get(&store, "dir/hello.txt", &[("range", "bytes=-4")]).await;
        assert_eq!(reply.body, b"desk");
        let reply = get(&store, "dir/hello.txt", &[("range", "bytes=100-")]).await;
        assert_eq!(reply.status, StatusCode::RANGE_NOT_SATISFIABLE);
        let etag = format!("\"{}\"", md5_hex(&bytes));
        let reply = get(&store, "dir/hello.txt", &[("if-none-match", &etag)]).await;
        assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
        let reply = get(&store, "dir/hello.txt", &[("if-match", "\"0000\"")]).await;
        assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);

        let reply = send(&store, request(Method::HEAD, Some(BUCKET), "dir/hello.txt", &[], &[]), b"").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("content-length"), bytes.len().to_string());
        assert_eq!(reply.header("etag"), etag);
        assert_eq!(reply.header("x-oss-object-type"), "Normal");
        assert_eq!(reply.header("x-oss-meta-owner"), "ops");
        assert!(reply.header("last-modified").ends_with(" GMT"));

        let reply = send(&store, request(Method::DELETE, Some(BUCKET), "dir/hello.txt", &[], &[]), b"").await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let reply = get(&store, "dir/hello.txt", &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.error_code(), "NoSuchKey");
        assert_eq!(reply.header("content-type"), "application/xml");
        // Deleting an absent key is not an error.
        let reply = send(&store, request(Method::DELETE, Some(BUCKET), "dir/hello.txt", &[], &[]), b"").await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);

        // HEAD errors travel in headers.
        let reply = send(&store, request(Method::HEAD, Some(BUCKET), "dir/hello.txt", &[], &[]), b"").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("x-oss-ec"), "0026-00000001");
        let xml = String::from_utf8(BASE64.decode(reply.header("x-oss-err")).unwrap()).unwrap();
        assert_eq!(tags(&xml, "Code"), ["NoSuchKey"]);
        assert_eq!(tags(&xml, "Key"), ["dir/hello.txt"]);

        // Empty object.
        let reply = put(&store, "empty", b"").await;
        assert_eq!(reply.header("etag"), "\"D41D8CD98F00B204E9800998ECF8427E\"");
        assert_eq!(reply.header("x-oss-hash-crc64ecma"), "0");
        let reply = get(&store, "empty", &[]).await;
        assert_eq!((reply.status, reply.body.len()), (StatusCode::OK, 0));
    }

    #[tokio::test]
    async fn content_md5_forbid_overwrite_and_missing_things() {
        let dir = TempDir::new("md5");
        let store = store_with_bucket(&dir).await;
        let bad = crate::protocol::sign::content_md5(b"something else");
        let req = request(Method::PUT, Some(BUCKET), "k", &[], &[("content-md5", &bad)]);
        let reply = send(&store, req, b"payload").await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::BAD_REQUEST, "InvalidDigest"));
        assert_eq!(get(&store, "k", &[]).await.status, StatusCode::NOT_FOUND);
        // Nothing left behind in incoming/.
        assert_eq!(std::fs::read_dir(dir.0.join("oss/incoming")).unwrap().count(), 0);

        let good = crate::protocol::sign::content_md5(b"payload");
        let req = request(Method::PUT, Some(BUCKET), "k", &[], &[("content-md5", &good)]);
        assert_eq!(send(&store, req, b"payload").await.status, StatusCode::OK);

        let req = request(Method::PUT, Some(BUCKET), "k", &[], &[("x-oss-forbid-overwrite", "true")]);
        let reply = send(&store, req, b"other").await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::CONFLICT, "FileAlreadyExists"));
        assert_eq!(get(&store, "k", &[]).await.body, b"payload");
        let req = request(Method::PUT, Some(BUCKET), "k", &[], &[("x-oss-forbid-overwrite", "false")]);
        assert_eq!(send(&store, req, b"other").await.status, StatusCode::OK);
        assert_eq!(get(&store, "k", &[]).await.body, b"other");

        let reply = send(&store, request(Method::GET, Some("no-such-bucket"), "k", &[], &[]), b"").await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::NOT_FOUND, "NoSuchBucket"));

        // Too big, declared.
        let req = request(Method::PUT, Some(BUCKET), "big", &[], &[("content-length", "5368709121")]);
        let reply = store.handle(req, Body::empty()).await;
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST);

        // No Content-Length, not chunked, unknown size: 411.
        let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from_static(b"abc"))]);
        let req = request(Method::PUT, Some(BUCKET), "nolen", &[], &[]);
        assert_eq!(store.handle(req, Body::from_stream(stream)).await.status(), StatusCode::LENGTH_REQUIRED);
        // Chunked is fine.
        let stream = futures_util::stream::iter(vec![
            Ok::<_, std::io::Error>(Bytes::from_static(b"ab")),
            Ok(Bytes::from_static(b"c")),
        ]);
        let req = request(Method::PUT, Some(BUCKET), "chunked", &[], &[("transfer-encoding", "chunked")]);
        assert_eq!(store.handle(req, Body::from_stream(stream)).await.status(), StatusCode::OK);
        assert_eq!(get(&store, "chunked", &[]).await.body, b"abc");

        // A body that fails midway stores nothing.
        let stream = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"ab")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let req = request(Method::PUT, Some(BUCKET), "broken", &[], &[("content-length", "10")]);
        let reply = store.handle(req, Body::from_stream(stream)).await;
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST);
        assert_eq!(get(&store, "broken", &[]).await.status, StatusCode::NOT_FOUND);
        assert_eq!(std::fs::read_dir(dir.0.join("oss/incoming")).unwrap().count(), 0);
    }

    async fn list_v2(store: &OssStore, query: &[(&str, &str)]) -> Reply {
        let mut query = query.to_vec();
        query.push(("list-type", "2"));
        let reply = send(store, request(Method::GET, Some(BUCKET), "", &query, &[]), b"").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply
    }

    #[tokio::test]
    async fn list_objects_v2() {
        let dir = TempDir::new("list");
        let store = store_with_bucket(&dir).await;
        let keys = ["a.txt", "dir/1", "dir/2", "dir/sub/3", "dir/sub/4", "other/x", "z z"];
        for key in keys {
            assert_eq!(put(&store, key, key.as_bytes()).await.status, StatusCode::OK);
        }
        let reply = list_v2(&store, &[]).await;
        let text = reply.text();
        assert_eq!(tags(&text, "Key"), keys);
        assert_eq!(tags(&text, "KeyCount"), ["7"]);
        assert_eq!(tags(&text, "MaxKeys"), ["100"]);
        assert_eq!(tags(&text, "IsTruncated"), ["false"]);
        assert_eq!(tags(&text, "Size")[0], "5");
        assert_eq!(tags(&text, "ETag")[0], format!("\"{}\"", md5_hex(b"a.txt")));
        assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        assert_eq!(reply.header("content-type"), "application/xml");

        let text = list_v2(&store, &[("delimiter", "/")]).await.text();
        assert_eq!(tags(&text, "Key"), ["a.txt", "z z"]);
        assert_eq!(tags(&text, "Prefix")[1..], ["dir/", "other/"]);
        assert_eq!(tags(&text, "KeyCount"), ["4"]);

        let text = list_v2(&store, &[("prefix", "dir/"), ("delimiter", "/")]).await.text();
        assert_eq!(tags(&text, "Key"), ["dir/1", "dir/2"]);
        assert_eq!(tags(&text, "Prefix")[1..], ["dir/sub/"]);

        let text = list_v2(&store, &[("start-after", "dir/2")]).await.text();
        assert_eq!(tags(&text, "Key"), ["dir/sub/3", "dir/sub/4", "other/x", "z z"]);

        // Pages of 2, with and without a delimiter, follow the continuation tokens to the end.
        for (delimiter, expected) in [
            ("", keys.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>()),
            ("/", ["a.txt", "dir/", "other/", "z z"].map(str::to_owned).to_vec()),
        ] {
            let mut seen = Vec::new();
            let mut token: Option<String> = None;
            for _ in 0..10 {
                let mut query = vec![("max-keys", "2"), ("delimiter", delimiter)];
                if let Some(token) = &token {
                    query.push(("continuation-token", token.as_str()));
                }
                let text = list_v2(&store, &query).await.text();
                seen.extend(tags(&text, "Key"));
                seen.extend(tags(&text, "CommonPrefixes").iter().flat_map(|c| tags(c, "Prefix")));
                if tags(&text, "IsTruncated") == ["false"] {
                    assert!(tags(&text, "NextContinuationToken").is_empty());
                    token = None;
                    break;
                }
                assert_eq!(tags(&text, "KeyCount"), ["2"]);
                token = tags(&text, "NextContinuationToken").into_iter().next();
            }
            assert!(token.is_none());
            seen.sort();
            assert_eq!(seen, expected);
        }

        let text = list_v2(&store, &[("prefix", "z"), ("encoding-type", "url")]).await.text();
        assert_eq!(tags(&text, "Key"), ["z%20z"]);
        assert_eq!(tags(&text, "EncodingType"), ["url"]);
        let text = list_v2(&store, &[("prefix", "dir/s"), ("encoding-type", "url")]).await.text();
        assert_eq!(tags(&text, "Key"), ["dir%2Fsub%2F3", "dir%2Fsub%2F4"]);

        for bad in ["0", "1001", "x"] {
            let reply = send(
                &store,
                request(Method::GET, Some(BUCKET), "", &[("list-type", "2"), ("max-keys", bad)], &[]),
                b"",
            )
            .await;
            assert_eq!(
                (reply.status, reply.error_code().as_str()),
                (StatusCode::BAD_REQUEST, "InvalidArgument")
            );
        }
        // v1 listing with marker.
        let reply =
            send(&store, request(Method::GET, Some(BUCKET), "", &[("marker", "dir/sub/4")], &[]), b"").await;
        assert_eq!(tags(&reply.text(), "Key"), ["other/x", "z z"]);
    }

    async fn initiate(store: &OssStore, key: &str) -> String {
        let reply = send(store, request(Method::POST, Some(BUCKET), key, &[("uploads", "")], &[]), b"").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let text = reply.text();
        assert_eq!(tags(&text, "Key"), [key]);
        tags(&text, "UploadId").remove(0)
    }

    async fn upload_part(store: &OssStore, key: &str, id: &str, number: &str, bytes: &[u8]) -> Reply {
        let req = request(Method::PUT, Some(BUCKET), key, &[("partNumber", number), ("uploadId", id)], &[]);
        send(store, req, bytes).await
    }

    fn complete_xml(parts: &[(u32, &str)]) -> Vec<u8> {
        let mut xml =
            String::from("<CompleteMultipartUpload xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\">");
        for (number, etag) in parts {
            xml.push_str(&format!("<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>"));
        }
        xml.push_str("</CompleteMultipartUpload>");
        xml.into_bytes()
    }

    async fn complete(store: &OssStore, key: &str, id: &str, parts: &[(u32, &str)]) -> Reply {
        let req = request(
            Method::POST,
            Some(BUCKET),
            key,
            &[("uploadId", id)],
            &[("content-type", "application/xml")],
        );
        send(store, req, &complete_xml(parts)).await
    }

    #[tokio::test]
    async fn multipart_flow() {
        let dir = TempDir::new("multipart");
        let store = store_with_bucket(&dir).await;
        let key = "images/disk.qcow2";
        let id = initiate(&store, key).await;
        let parts = [data(102_400 + 1, 1), data(102_400 + 7, 2), data(5_000, 3)];
        let mut etags = [String::new(), String::new(), String::new()];
        // Out of order, and part 2 uploaded twice (the second upload wins).
        for index in [2usize, 0, 1] {
            if index == 1 {
                let reply = upload_part(&store, key, &id, "2", b"stale").await;
                assert_eq!(reply.status, StatusCode::OK);
            }
            let reply = upload_part(&store, key, &id, &(index + 1).to_string(), &parts[index]).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            assert_eq!(reply.header("etag"), format!("\"{}\"", md5_hex(&parts[index])));
            assert_eq!(reply.header("x-oss-hash-crc64ecma"), crc64::checksum(&parts[index]).to_string());
            etags[index] = reply.header("etag").to_owned();
        }

        let req = request(Method::GET, Some(BUCKET), key, &[("uploadId", &id), ("max-parts", "2")], &[]);
        let text = send(&store, req, b"").await.text();
        assert_eq!(tags(&text, "PartNumber"), ["1", "2"]);
        assert_eq!(tags(&text, "IsTruncated"), ["true"]);
        assert_eq!(tags(&text, "NextPartNumberMarker"), ["2"]);
        assert_eq!(tags(&text, "Size"), [parts[0].len().to_string(), parts[1].len().to_string()]);
        assert_eq!(tags(&text, "HashCrc64ecma")[1], crc64::checksum(&parts[1]).to_string());
        assert_eq!(tags(&text, "ETag")[1], etags[1]);
        let req =
            request(Method::GET, Some(BUCKET), key, &[("uploadId", &id), ("part-number-marker", "2")], &[]);
        let text = send(&store, req, b"").await.text();
        assert_eq!(tags(&text, "PartNumber"), ["3"]);
        assert_eq!(tags(&text, "IsTruncated"), ["false"]);

        // ETags without quotes are accepted too.
        let reply =
            complete(&store, key, &id, &[(1, &etags[0]), (2, etags[1].trim_matches('"')), (3, &etags[2])])
                .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let whole = parts.concat();
        assert_eq!(reply.header("x-oss-hash-crc64ecma"), crc64::checksum(&whole).to_string());
        let etag = tags(&reply.text(), "ETag").remove(0);
        let mut md5s = Vec::new();
        for part in &parts {
            md5s.extend(Md5::digest(part));
        }
        assert_eq!(etag, format!("\"{}-3\"", md5_hex(&md5s)));
        assert_eq!(
            tags(&reply.text(), "Location"),
            ["http://oss-cn-hangzhou.aliyuncs.com/test-bucket/images/disk.qcow2"]
        );

        let reply = get(&store, key, &[]).await;
        assert_eq!(reply.body, whole);
        assert_eq!(reply.header("etag"), etag);
        assert_eq!(reply.header("x-oss-object-type"), "Multipart");
        assert_eq!(reply.header("x-oss-hash-crc64ecma"), crc64::checksum(&whole).to_string());

        // The upload is gone.
        let req = request(Method::GET, Some(BUCKET), key, &[("uploadId", &id)], &[]);
        assert_eq!(send(&store, req, b"").await.error_code(), "NoSuchUpload");
        assert_eq!(complete(&store, key, &id, &[(1, &etags[0])]).await.error_code(), "NoSuchUpload");
        assert!(!dir.0.join("oss/buckets").join(BUCKET).join("uploads").join(&id).exists());
    }

    #[tokio::test]
    async fn parallel_part_uploads_keep_every_part() {
        let dir = TempDir::new("parallel");
        let store = store_with_bucket(&dir).await;
        let id = initiate(&store, "p").await;
        let bodies: Vec<Vec<u8>> = (0..8).map(|i| data(200_000 + i, i as u8)).collect();
        let numbers: Vec<String> = (1..=8).map(|n: u32| n.to_string()).collect();
        let uploads =
            bodies.iter().zip(&numbers).map(|(body, number)| upload_part(&store, "p", &id, number, body));
        for reply in futures_util::future::join_all(uploads).await {
            assert_eq!(reply.status, StatusCode::OK);
        }
        let text = send(&store, request(Method::GET, Some(BUCKET), "p", &[("uploadId", &id)], &[]), b"")
            .await
            .text();
        assert_eq!(tags(&text, "PartNumber").len(), 8);
        let reopened = OssStore::open(&dir.0, false).unwrap();
        let text = send(&reopened, request(Method::GET, Some(BUCKET), "p", &[("uploadId", &id)], &[]), b"")
            .await
            .text();
        assert_eq!(tags(&text, "PartNumber").len(), 8);
    }

    #[tokio::test]
    async fn multipart_errors() {
        let dir = TempDir::new("mperr");
        let store = store_with_bucket(&dir).await;
        let key = "k";
        let id = initiate(&store, key).await;
        let small = data(1000, 1);
        let big = data(102_400, 2);
        let e1 = upload_part(&store, key, &id, "1", &big).await.header("etag").to_owned();
        let e2 = upload_part(&store, key, &id, "2", &small).await.header("etag").to_owned();
        let e3 = upload_part(&store, key, &id, "3", &small).await.header("etag").to_owned();

        let reply = complete(&store, key, &id, &[(2, &e2), (1, &e1)]).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (StatusCode::BAD_REQUEST, "InvalidPartOrder")
        );
        let reply = complete(&store, key, &id, &[(1, &e1), (1, &e1)]).await;
        assert_eq!(reply.error_code(), "InvalidPartOrder");
        let reply = complete(&store, key, &id, &[(1, &e1), (2, &e1)]).await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::BAD_REQUEST, "InvalidPart"));
        let reply = complete(&store, key, &id, &[(1, &e1), (4, &e2)]).await;
        assert_eq!(reply.error_code(), "InvalidPart");
        let reply = complete(&store, key, &id, &[(1, &e1), (2, &e2), (3, &e3)]).await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::BAD_REQUEST, "EntityTooSmall"));
        assert_eq!(reply.header("x-oss-ec"), "0042-00000213");
        let reply = send(
            &store,
            request(Method::POST, Some(BUCKET), key, &[("uploadId", &id)], &[]),
            b"<CompleteMultipartUpload><Part><PartNumber>x",
        )
        .await;
        assert_eq!(reply.error_code(), "MalformedXML");

        for bad in ["0", "10001", "abc", "-1"] {
            let reply = upload_part(&store, key, &id, bad, b"x").await;
            assert_eq!(
                (reply.status, reply.error_code().as_str()),
                (StatusCode::BAD_REQUEST, "InvalidArgument")
            );
            assert_eq!(tags(&reply.text(), "ArgumentName"), ["PartNumber"]);
            assert_eq!(tags(&reply.text(), "ArgumentValue"), [bad]);
        }
        assert_eq!(upload_part(&store, key, &id, "10000", b"x").await.status, StatusCode::OK);
        assert_eq!(upload_part(&store, key, "FFFF", "1", b"x").await.error_code(), "NoSuchUpload");
        assert_eq!(upload_part(&store, "other-key", &id, "1", b"x").await.error_code(), "NoSuchUpload");

        // The last part may be small: 1 (big) + 2 (small) is fine.
        let reply = complete(&store, key, &id, &[(1, &e1), (2, &e2)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(get(&store, key, &[]).await.body, [big, small].concat());

        // Abort, then everything answers NoSuchUpload.
        let id = initiate(&store, key).await;
        upload_part(&store, key, &id, "1", b"abc").await;
        let abort = || request(Method::DELETE, Some(BUCKET), key, &[("uploadId", &id)], &[]);
        assert_eq!(send(&store, abort(), b"").await.status, StatusCode::NO_CONTENT);
        let reply = send(&store, abort(), b"").await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::NOT_FOUND, "NoSuchUpload"));
        assert_eq!(upload_part(&store, key, &id, "2", b"x").await.error_code(), "NoSuchUpload");
        let req = request(Method::GET, Some(BUCKET), key, &[("uploadId", &id)], &[]);
        assert_eq!(send(&store, req, b"").await.error_code(), "NoSuchUpload");
    }

    #[tokio::test]
    async fn complete_all_and_list_uploads() {
        let dir = TempDir::new("uploads");
        let store = store_with_bucket(&dir).await;
        let first = initiate(&store, "a/one").await;
        let second = initiate(&store, "a/one").await;
        let third = initiate(&store, "b/two").await;
        let list = |query: &[(&str, &str)]| {
            let mut query = query.to_vec();
            query.push(("uploads", ""));
            request(Method::GET, Some(BUCKET), "", &query, &[])
        };
        let text = send(&store, list(&[]), b"").await.text();
        assert_eq!(tags(&text, "UploadId"), [first.clone(), second.clone(), third.clone()]);
        assert_eq!(tags(&text, "Key"), ["a/one", "a/one", "b/two"]);
        let text = send(&store, list(&[("max-uploads", "1")]), b"").await.text();
        assert_eq!(tags(&text, "IsTruncated"), ["true"]);
        assert_eq!(tags(&text, "NextUploadIdMarker"), [first.as_str()]);
        let text = send(
            &store,
            list(&[("max-uploads", "1"), ("key-marker", "a/one"), ("upload-id-marker", &first)]),
            b"",
        )
        .await
        .text();
        assert_eq!(tags(&text, "UploadId"), [second.as_str()]);
        let text = send(&store, list(&[("key-marker", "a/one")]), b"").await.text();
        assert_eq!(tags(&text, "UploadId"), [third.as_str()]);
        let text = send(&store, list(&[("prefix", "b/")]), b"").await.text();
        assert_eq!(tags(&text, "UploadId"), [third.as_str()]);

        let p1 = data(150_000, 7);
        let p2 = data(10, 8);
        upload_part(&store, "b/two", &third, "2", &p2).await;
        upload_part(&store, "b/two", &third, "1", &p1).await;
        let req = request(
            Method::POST,
            Some(BUCKET),
            "b/two",
            &[("uploadId", &third)],
            &[("x-oss-complete-all", "yes")],
        );
        let reply = send(&store, req, b"").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let whole = [p1, p2].concat();
        assert_eq!(reply.header("x-oss-hash-crc64ecma"), crc64::checksum(&whole).to_string());
        assert!(reply.header("etag").ends_with("-2\""));
        assert_eq!(get(&store, "b/two", &[]).await.body, whole);
        let text = send(&store, list(&[]), b"").await.text();
        assert_eq!(tags(&text, "UploadId"), [first, second]);

        // A bucket with uploads in progress is not empty.
        let reply = send(&store, request(Method::DELETE, Some(BUCKET), "b/two", &[], &[]), b"").await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let reply = send(&store, request(Method::DELETE, Some(BUCKET), "", &[], &[]), b"").await;
        assert_eq!((reply.status, reply.error_code().as_str()), (StatusCode::CONFLICT, "BucketNotEmpty"));
    }

    #[tokio::test]
    async fn bucket_operations() {
        let dir = TempDir::new("buckets");
        let store = OssStore::open(&dir.0, false).unwrap();
        let mut req = request(Method::PUT, Some("bj-bucket"), "", &[], &[]);
        req.host = "bj-bucket.oss-cn-beijing-internal.aliyuncs.com".to_owned();
        assert_eq!(send(&store, req, b"").await.status, StatusCode::OK);
        let mut req =
            request(Method::PUT, Some("local-bucket"), "", &[], &[("x-imagedesk-region", "cn-shanghai")]);
        req.host = "127.0.0.1:8080".to_owned();
        let xml = b"<CreateBucketConfiguration><StorageClass>IA</StorageClass></CreateBucketConfiguration>";
        assert_eq!(send(&store, req, xml).await.status, StatusCode::OK);
        let mut req = request(Method::PUT, Some("plain-bucket"), "", &[], &[]);
        req.host = "localhost".to_owned();
        assert_eq!(send(&store, req, b"").await.status, StatusCode::OK);
        let reply = send(&store, request(Method::PUT, Some("Bad_Name"), "", &[], &[]), b"").await;
        assert_eq!(reply.error_code(), "InvalidBucketName");

        assert_eq!(store.bucket_region("bj-bucket").as_deref(), Some("cn-beijing"));
        assert_eq!(store.bucket_region("local-bucket").as_deref(), Some("cn-shanghai"));
        assert_eq!(store.bucket_region("plain-bucket").as_deref(), Some("cn-hangzhou"));

        let text = send(&store, request(Method::GET, None, "", &[], &[]), b"").await.text();
        assert_eq!(tags(&text, "Name"), ["bj-bucket", "local-bucket", "plain-bucket"]);
        let text = send(&store, request(Method::GET, Some("bj-bucket"), "", &[("location", "")], &[]), b"")
            .await
            .text();
        assert_eq!(tags(&text, "LocationConstraint"), ["oss-cn-beijing"]);
        let text =
            send(&store, request(Method::GET, Some("local-bucket"), "", &[("bucketInfo", "")], &[]), b"")
                .await
                .text();
        assert_eq!(tags(&text, "StorageClass"), ["IA"]);
        assert_eq!(tags(&text, "Location"), ["oss-cn-shanghai"]);
        assert_eq!(tags(&text, "ExtranetEndpoint"), ["oss-cn-shanghai.aliyuncs.com"]);

        let put = request(Method::PUT, Some("bj-bucket"), "x", &[], &[]);
        assert_eq!(send(&store, put, b"x").await.status, StatusCode::OK);
        let delete = || request(Method::DELETE, Some("bj-bucket"), "", &[], &[]);
        assert_eq!(send(&store, delete(), b"").await.error_code(), "BucketNotEmpty");
        send(&store, request(Method::DELETE, Some("bj-bucket"), "x", &[], &[]), b"").await;
        assert_eq!(send(&store, delete(), b"").await.status, StatusCode::NO_CONTENT);
        assert_eq!(send(&store, delete(), b"").await.error_code(), "NoSuchBucket");
        assert_eq!(store.bucket_region("bj-bucket"), None);
        let reply =
            send(&store, request(Method::GET, Some("local-bucket"), "", &[("acl", "")], &[]), b"").await;
        assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED);
    }

    #[tokio::test]
    async fn state_survives_a_restart() {
        let dir = TempDir::new("persist");
        let id = {
            let store = store_with_bucket(&dir).await;
            let req = request(Method::PUT, Some(BUCKET), "keep/ü €.bin", &[], &[("x-oss-meta-a", "1")]);
            send(&store, req, b"kept bytes").await;
            let id = initiate(&store, "big").await;
            upload_part(&store, "big", &id, "1", &data(102_400, 1)).await;
            id
        };
        let store = OssStore::open(&dir.0, false).unwrap();
        let reply = get(&store, "keep/ü €.bin", &[]).await;
        assert_eq!(reply.body, b"kept bytes");
        assert_eq!(reply.header("x-oss-meta-a"), "1");
        assert_eq!(reply.header("etag"), format!("\"{}\"", md5_hex(b"kept bytes")));
        let text = send(&store, request(Method::GET, Some(BUCKET), "big", &[("uploadId", &id)], &[]), b"")
            .await
            .text();
        assert_eq!(tags(&text, "PartNumber"), ["1"]);
        upload_part(&store, "big", &id, "2", b"tail").await;
        let req = request(
            Method::POST,
            Some(BUCKET),
            "big",
            &[("uploadId", &id)],
            &[("x-oss-complete-all", "yes")],
        );
        assert_eq!(send(&store, req, b"").await.status, StatusCode::OK);
        assert_eq!(store.object_size(BUCKET, "big"), Some(102_404));
    }

    #[tokio::test]
    async fn demo_seed_and_view() {
        let dir = TempDir::new("demo");
        let store = OssStore::open(&dir.0, true).unwrap();
        assert_eq!(store.bucket_region("imagedesk-demo-hz").as_deref(), Some("cn-hangzhou"));
        assert_eq!(store.bucket_region("imagedesk-demo-bj").as_deref(), Some("cn-beijing"));
        assert_eq!(store.bucket_region("nope"), None);

        let head = store.read_object_head("imagedesk-demo-hz", "images/centos-7.9.qcow2", 32).unwrap();
        assert_eq!(head.len(), 32);
        assert_eq!(&head[..4], b"QFI\xfb");
        assert_eq!(u32::from_be_bytes(head[4..8].try_into().unwrap()), 3);
        assert_eq!(u64::from_be_bytes(head[24..32].try_into().unwrap()), 40 << 30);
        let edge = store.read_object_head("imagedesk-demo-bj", "images/edge-node.qcow2", 4).unwrap();
        assert_eq!(edge, b"QFI\xfb");

        assert_eq!(store.object_size("imagedesk-demo-hz", "images/ubuntu-22.04.raw"), Some(1 << 20));
        let mbr = store.read_object_head("imagedesk-demo-hz", "images/ubuntu-22.04.raw", 512).unwrap();
        assert_eq!(&mbr[510..], [0x55, 0xAA]);
        let readme = store.read_object_head("imagedesk-demo-hz", "docs/readme.txt", 1 << 20).unwrap();
        assert!(readme.starts_with(b"ImageDesk"));
        assert_eq!(store.object_size("imagedesk-demo-hz", "docs/readme.txt"), Some(readme.len() as u64));
        assert_eq!(store.object_size("imagedesk-demo-hz", "missing"), None);
        assert_eq!(store.read_object_head("imagedesk-demo-hz", "missing", 4), None);

        // Seeded objects are ordinary objects (CRC header and all).
        let mut req = request(Method::HEAD, Some("imagedesk-demo-hz"), "docs/readme.txt", &[], &[]);
        req.host = "imagedesk-demo-hz.oss-cn-hangzhou.aliyuncs.com".to_owned();
        let reply = send(&store, req, b"").await;
        assert_eq!(reply.header("x-oss-hash-crc64ecma"), crc64::checksum(&readme).to_string());

        // Only a fresh data dir is seeded: a deleted demo object stays deleted.
        send(&store, request(Method::DELETE, Some("imagedesk-demo-hz"), "docs/readme.txt", &[], &[]), b"")
            .await;
        drop(store);
        let store = OssStore::open(&dir.0, true).unwrap();
        assert_eq!(store.object_size("imagedesk-demo-hz", "docs/readme.txt"), None);
        assert!(store.object_size("imagedesk-demo-hz", "images/centos-7.9.qcow2").is_some());
    }

    #[test]
    fn ranges_and_hosts() {
        assert_eq!(parse_range(None, 10), RangeSpec::Full);
        assert_eq!(parse_range(Some("bytes=0-0"), 10), RangeSpec::Partial(0, 0));
        assert_eq!(parse_range(Some("bytes=5-"), 10), RangeSpec::Partial(5, 9));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), RangeSpec::Partial(5, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), RangeSpec::Partial(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), RangeSpec::Partial(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), RangeSpec::Full);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), RangeSpec::Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), RangeSpec::Full);
        assert_eq!(region_from_host("b.oss-cn-hangzhou.aliyuncs.com").as_deref(), Some("cn-hangzhou"));
        assert_eq!(
            region_from_host("oss-ap-southeast-1-internal.aliyuncs.com:443").as_deref(),
            Some("ap-southeast-1")
        );
        assert_eq!(region_from_host("b.oss-accelerate.aliyuncs.com"), None);
        assert_eq!(region_from_host("127.0.0.1:9000"), None);
    }
}
