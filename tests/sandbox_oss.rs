//! OSS through ImageDesk's OSS client against the in-process sandbox, signed with V1 and V4:
//! buckets, objects, checksums, listings, multipart uploads, error decoding and STS tokens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common_sandbox;
use common_sandbox::data;

use base64::Engine;
use bytes::Bytes;
use common_sandbox::{TempDir, client_for, demo_key, profile, start, status_and_code};
use imagedesk::Credential;
use imagedesk::client::Client;
use imagedesk::client::oss::{OssRequest, OssResponse};
use imagedesk::protocol::crc64;
use imagedesk::protocol::sign::OssSignature;
use imagedesk::sandbox::{RunningSandbox, SandboxConfig, StsGrant};
use md5::{Digest, Md5};

const MIN_PART: usize = 100 * 1024;

async fn sandbox(dir: &TempDir) -> RunningSandbox {
    let mut config = SandboxConfig::new(dir.path());
    config.seed_demo = false;
    config.sts_tokens = vec![
        StsGrant {
            credential: Credential::new("STS.oss-live", "sts-oss-secret").with_security_token("oss-token"),
            expires_at: None,
        },
        StsGrant {
            credential: Credential::new("STS.oss-old", "sts-oss-secret").with_security_token("old-token"),
            expires_at: Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
        },
    ];
    start(config).await
}

fn oss_client(sb: &RunningSandbox, signature: OssSignature, credential: Credential) -> Client {
    let mut p = profile(sb, "cn-hangzhou");
    p.oss_signature = signature;
    client_for(p, credential)
}

fn request(method: &str, bucket: &str, key: &str) -> OssRequest {
    OssRequest { method: method.into(), bucket: Some(bucket.into()), key: key.into(), ..Default::default() }
}

fn with_query(mut r: OssRequest, query: &[(&str, &str)]) -> OssRequest {
    r.query = query.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    r
}

fn with_body(mut r: OssRequest, body: impl Into<Bytes>) -> OssRequest {
    r.body = body.into();
    r
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode_upper(Md5::digest(bytes))
}

fn etag(response: &OssResponse) -> String {
    response.header("etag").unwrap().trim_matches('"').to_ascii_uppercase()
}

fn crc_header(response: &OssResponse) -> u64 {
    response.header("x-oss-hash-crc64ecma").unwrap().parse().unwrap()
}

/// Text of every `<name>…</name>` element, in order (enough for the sandbox's flat documents).
fn tags(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let end = after.find(&close).unwrap();
        out.push(after[..end].replace("&quot;", "\"").replace("&amp;", "&"));
        rest = &after[end + close.len()..];
    }
    out
}

fn body_text(response: &OssResponse) -> String {
    String::from_utf8(response.body.to_vec()).unwrap()
}

// ---- objects -------------------------------------------------------------------------------------

async fn objects_round_trip(signature: OssSignature) {
    let dir = TempDir::new(&format!("oss-objects-{signature:?}"));
    let sb = sandbox(&dir).await;
    let c = oss_client(&sb, signature, demo_key());
    let bucket = "sbtest-objects";

    let created = c.oss(None, &request("PUT", bucket, "")).await.unwrap();
    assert_eq!(created.status, 200);
    let location = c.oss(None, &with_query(request("GET", bucket, ""), &[("location", "")])).await.unwrap();
    assert_eq!(tags(&body_text(&location), "LocationConstraint"), ["oss-cn-hangzhou"]);

    let key = "dir/a b+c 中文.bin";
    let bytes = data(300 * 1024 + 7, 1);
    let put = c.oss(None, &with_body(request("PUT", bucket, key), bytes.clone())).await.unwrap();
    assert_eq!(etag(&put), md5_hex(&bytes), "ETag is the MD5 of the bytes");
    assert_eq!(crc_header(&put), crc64::checksum(&bytes), "x-oss-hash-crc64ecma is CRC-64/ECMA");
    let small = b"hello, sandbox\n".to_vec();
    c.oss(None, &with_body(request("PUT", bucket, "dir/small.txt"), small.clone())).await.unwrap();
    c.oss(None, &with_body(request("PUT", bucket, "other/x"), Bytes::from_static(b"x"))).await.unwrap();

    let got = c.oss(None, &request("GET", bucket, key)).await.unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.body.as_ref(), bytes.as_slice());
    assert_eq!(etag(&got), md5_hex(&bytes));
    assert_eq!(crc_header(&got), crc64::checksum(&bytes));

    let head = c.oss(None, &request("HEAD", bucket, key)).await.unwrap();
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some(bytes.len().to_string().as_str()));
    assert_eq!(etag(&head), md5_hex(&bytes));
    assert_eq!(crc_header(&head), crc64::checksum(&bytes));

    let list = c
        .oss(None, &with_query(request("GET", bucket, ""), &[("list-type", "2"), ("prefix", "dir/")]))
        .await
        .unwrap();
    let xml = body_text(&list);
    assert_eq!(tags(&xml, "Key"), [key, "dir/small.txt"], "{xml}");
    assert_eq!(tags(&xml, "Size"), [bytes.len().to_string(), small.len().to_string()]);
    assert_eq!(tags(&xml, "KeyCount"), ["2"]);
    let listed_etags: Vec<String> =
        tags(&xml, "ETag").iter().map(|e| e.trim_matches('"').to_owned()).collect();
    assert_eq!(listed_etags, [md5_hex(&bytes), md5_hex(&small)]);
    let folders = c
        .oss(None, &with_query(request("GET", bucket, ""), &[("list-type", "2"), ("delimiter", "/")]))
        .await
        .unwrap();
    assert_eq!(tags(&body_text(&folders), "Prefix"), ["", "dir/", "other/"]);

    let deleted = c.oss(None, &request("DELETE", bucket, key)).await.unwrap();
    assert_eq!(deleted.status, 204);
    let err = c.oss(None, &request("GET", bucket, key)).await.unwrap_err();
    assert_eq!(status_and_code(&err), (404, "NoSuchKey"), "{err}");
    assert!(err.api().unwrap().request_id.is_some());
    // HEAD has no body: the error document arrives Base64-encoded in `x-oss-err`.
    let err = c.oss(None, &request("HEAD", bucket, key)).await.unwrap_err();
    let api = err.api().unwrap();
    assert_eq!((api.http_status, api.code.as_str()), (404, "NoSuchKey"), "{err}");
    assert!(api.message.contains("does not exist"), "{}", api.message);
    let err = c.oss(None, &request("GET", "sbtest-no-such-bucket", "k")).await.unwrap_err();
    assert_eq!(status_and_code(&err), (404, "NoSuchBucket"), "{err}");
}

#[tokio::test]
async fn objects_round_trip_with_v1_signatures() {
    objects_round_trip(OssSignature::V1).await;
}

#[tokio::test]
async fn objects_round_trip_with_v4_signatures() {
    objects_round_trip(OssSignature::V4).await;
}

// ---- multipart -----------------------------------------------------------------------------------

async fn initiate(c: &Client, bucket: &str, key: &str) -> String {
    let r = c.oss(None, &with_query(request("POST", bucket, key), &[("uploads", "")])).await.unwrap();
    let ids = tags(&body_text(&r), "UploadId");
    assert_eq!(ids.len(), 1);
    ids[0].clone()
}

async fn upload_part(c: &Client, bucket: &str, key: &str, id: &str, n: u32, bytes: &[u8]) -> OssResponse {
    let r = with_query(request("PUT", bucket, key), &[("partNumber", &n.to_string()), ("uploadId", id)]);
    c.oss(None, &with_body(r, bytes.to_vec())).await.unwrap()
}

fn complete_xml(parts: &[(u32, &str)]) -> String {
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (n, etag) in parts {
        xml.push_str(&format!("<Part><PartNumber>{n}</PartNumber><ETag>\"{etag}\"</ETag></Part>"));
    }
    xml.push_str("</CompleteMultipartUpload>");
    xml
}

fn complete(bucket: &str, key: &str, id: &str, parts: &[(u32, &str)]) -> OssRequest {
    with_body(with_query(request("POST", bucket, key), &[("uploadId", id)]), complete_xml(parts))
}

async fn list_uploads(c: &Client, bucket: &str) -> Vec<String> {
    let r = c.oss(None, &with_query(request("GET", bucket, ""), &[("uploads", "")])).await.unwrap();
    tags(&body_text(&r), "UploadId")
}

async fn multipart(signature: OssSignature) {
    let dir = TempDir::new(&format!("oss-multipart-{signature:?}"));
    let sb = sandbox(&dir).await;
    let c = oss_client(&sb, signature, demo_key());
    let bucket = "sbtest-multipart";
    c.oss(None, &request("PUT", bucket, "")).await.unwrap();
    let key = "images/big disk.qcow2";

    let id = initiate(&c, bucket, key).await;
    let parts = [data(MIN_PART + 1, 11), data(MIN_PART + 333, 12), data(4321, 13)];
    let mut etags = Vec::new();
    for (n, bytes) in (1u32..).zip(&parts) {
        let r = upload_part(&c, bucket, key, &id, n, bytes).await;
        assert_eq!(etag(&r), md5_hex(bytes), "part {n}");
        assert_eq!(crc_header(&r), crc64::checksum(bytes), "part {n}");
        etags.push(etag(&r));
    }
    let listed = c.oss(None, &with_query(request("GET", bucket, key), &[("uploadId", &id)])).await.unwrap();
    let xml = body_text(&listed);
    assert_eq!(tags(&xml, "PartNumber"), ["1", "2", "3"]);
    let sizes: Vec<String> = parts.iter().map(|p| p.len().to_string()).collect();
    assert_eq!(tags(&xml, "Size"), sizes);
    let crcs: Vec<String> = parts.iter().map(|p| crc64::checksum(p).to_string()).collect();
    assert_eq!(tags(&xml, "HashCrc64ecma"), crcs);
    assert_eq!(list_uploads(&c, bucket).await, std::slice::from_ref(&id));

    let numbered: Vec<(u32, &str)> = (1u32..).zip(etags.iter().map(String::as_str)).collect();
    let err =
        c.oss(None, &complete(bucket, key, &id, &[numbered[1], numbered[0], numbered[2]])).await.unwrap_err();
    assert_eq!(status_and_code(&err), (400, "InvalidPartOrder"), "{err}");

    let done = c.oss(None, &complete(bucket, key, &id, &numbered)).await.unwrap();
    let whole: Vec<u8> = parts.concat();
    let combined = parts.iter().fold(0u64, |crc, p| crc64::combine(crc, crc64::checksum(p), p.len() as u64));
    assert_eq!(combined, crc64::checksum(&whole), "crc64::combine agrees with a whole-object CRC");
    assert_eq!(crc_header(&done), combined);
    assert!(etag(&done).ends_with("-3"), "{}", etag(&done));
    assert_eq!(tags(&body_text(&done), "Key"), [key]);
    assert!(list_uploads(&c, bucket).await.is_empty(), "a completed upload is no longer listed");

    let got = c.oss(None, &request("GET", bucket, key)).await.unwrap();
    assert_eq!(got.body.len(), whole.len());
    assert!(got.body.as_ref() == whole.as_slice(), "the object is the parts in order");
    assert_eq!(crc_header(&got), combined);
    assert_eq!(got.header("x-oss-object-type"), Some("Multipart"));
    // A range across the first part boundary reads through both segments.
    let (first, last) = (MIN_PART - 10, MIN_PART + 20);
    let mut ranged = request("GET", bucket, key);
    ranged.headers.push(("range".into(), format!("bytes={first}-{last}")));
    let got = c.oss(None, &ranged).await.unwrap();
    assert_eq!(got.status, 206);
    assert!(got.body.as_ref() == &whole[first..=last], "range across parts");
    // Overwriting a multipart object with a plain PUT, and deleting it, both work.
    c.oss(None, &with_body(request("PUT", bucket, key), b"small now".to_vec())).await.unwrap();
    assert_eq!(c.oss(None, &request("GET", bucket, key)).await.unwrap().body.as_ref(), b"small now");

    // Abort: the upload disappears and its parts with it.
    let aborted = initiate(&c, bucket, "images/aborted.raw").await;
    upload_part(&c, bucket, "images/aborted.raw", &aborted, 1, &parts[2]).await;
    assert_eq!(list_uploads(&c, bucket).await, std::slice::from_ref(&aborted));
    let r = c
        .oss(None, &with_query(request("DELETE", bucket, "images/aborted.raw"), &[("uploadId", &aborted)]))
        .await
        .unwrap();
    assert_eq!(r.status, 204);
    assert!(list_uploads(&c, bucket).await.is_empty());
    let err = c
        .oss(None, &with_query(request("GET", bucket, "images/aborted.raw"), &[("uploadId", &aborted)]))
        .await
        .unwrap_err();
    assert_eq!(status_and_code(&err), (404, "NoSuchUpload"), "{err}");

    // Every part but the last must be at least 100 KiB.
    let small = initiate(&c, bucket, "images/small-parts.raw").await;
    let a = upload_part(&c, bucket, "images/small-parts.raw", &small, 1, &parts[2]).await;
    let b = upload_part(&c, bucket, "images/small-parts.raw", &small, 2, &parts[0]).await;
    let err = c
        .oss(None, &complete(bucket, "images/small-parts.raw", &small, &[(1, &etag(&a)), (2, &etag(&b))]))
        .await
        .unwrap_err();
    assert_eq!(status_and_code(&err), (400, "EntityTooSmall"), "{err}");
    assert_eq!(list_uploads(&c, bucket).await, [small], "a refused completion keeps the upload");
}

#[tokio::test]
async fn multipart_uploads_with_v1_signatures() {
    multipart(OssSignature::V1).await;
}

#[tokio::test]
async fn multipart_uploads_with_v4_signatures() {
    multipart(OssSignature::V4).await;
}

// ---- STS -----------------------------------------------------------------------------------------

async fn sts_credentials(signature: OssSignature) {
    let dir = TempDir::new(&format!("oss-sts-{signature:?}"));
    let sb = sandbox(&dir).await;
    let live = Credential::new("STS.oss-live", "sts-oss-secret").with_security_token("oss-token");
    let c = oss_client(&sb, signature, live);
    c.oss(None, &request("PUT", "sbtest-sts", "")).await.unwrap();
    let bytes = data(1000, 5);
    c.oss(None, &with_body(request("PUT", "sbtest-sts", "k"), bytes.clone())).await.unwrap();
    assert_eq!(
        c.oss(None, &request("GET", "sbtest-sts", "k")).await.unwrap().body.as_ref(),
        bytes.as_slice()
    );

    // The same key without its token, with another token, and an expired one are all refused.
    let bare = oss_client(&sb, signature, Credential::new("STS.oss-live", "sts-oss-secret"));
    let err = bare.oss(None, &request("GET", "sbtest-sts", "k")).await.unwrap_err();
    assert_eq!(status_and_code(&err), (403, "InvalidAccessKeyId"), "{err}");
    let wrong = oss_client(
        &sb,
        signature,
        Credential::new("STS.oss-live", "sts-oss-secret").with_security_token("not-it"),
    );
    let err = wrong.oss(None, &request("GET", "sbtest-sts", "k")).await.unwrap_err();
    assert_eq!(status_and_code(&err), (403, "InvalidSecurityToken"), "{err}");
    let old = oss_client(
        &sb,
        signature,
        Credential::new("STS.oss-old", "sts-oss-secret").with_security_token("old-token"),
    );
    let err = old.oss(None, &request("GET", "sbtest-sts", "k")).await.unwrap_err();
    assert_eq!(status_and_code(&err), (403, "SecurityTokenExpired"), "{err}");
}

#[tokio::test]
async fn sts_credentials_carry_their_token_with_v1_signatures() {
    sts_credentials(OssSignature::V1).await;
}

#[tokio::test]
async fn sts_credentials_carry_their_token_with_v4_signatures() {
    sts_credentials(OssSignature::V4).await;
}

/// A hand-made HEAD of a missing object: the raw answer has no body and a Base64 `x-oss-err`.
#[tokio::test]
async fn head_errors_travel_in_the_x_oss_err_header() {
    let dir = TempDir::new("oss-head-raw");
    let sb = sandbox(&dir).await;
    let c = oss_client(&sb, OssSignature::V4, demo_key());
    c.oss(None, &request("PUT", "sbtest-head", "")).await.unwrap();
    let url = format!("{}/sbtest-head/missing", sb.url());
    let date = imagedesk::protocol::sign::http_date(chrono::Utc::now());
    let headers = [("date", date.as_str())];
    let signed = imagedesk::protocol::sign::oss_v1::sign(
        "HEAD",
        Some("sbtest-head"),
        "missing",
        std::iter::empty(),
        headers.iter().copied(),
        &demo_key(),
    );
    let response = reqwest::Client::new()
        .head(url)
        .header("date", date)
        .header("authorization", signed.authorization)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let encoded = response.headers().get("x-oss-err").unwrap().to_str().unwrap().to_owned();
    assert!(response.bytes().await.unwrap().is_empty());
    let xml = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap();
    assert_eq!(tags(&xml, "Code"), ["NoSuchKey"], "{xml}");
}

#[tokio::test]
async fn buckets_and_objects_survive_a_restart() {
    let dir = TempDir::new("oss-restart");
    let sb = sandbox(&dir).await;
    let bytes = data(5000, 9);
    {
        let c = oss_client(&sb, OssSignature::V4, demo_key());
        let mut create = request("PUT", "sbtest-restart", "");
        create.headers.push(("x-imagedesk-region".into(), "cn-beijing".into()));
        c.oss(None, &create).await.unwrap();
        c.oss(None, &with_body(request("PUT", "sbtest-restart", "kept"), bytes.clone())).await.unwrap();
        let pending = initiate(&c, "sbtest-restart", "pending").await;
        upload_part(&c, "sbtest-restart", "pending", &pending, 1, &bytes).await;
    }
    sb.shutdown().await;
    let sb = sandbox(&dir).await;
    let c = oss_client(&sb, OssSignature::V1, demo_key());
    let got = c.oss(None, &request("GET", "sbtest-restart", "kept")).await.unwrap();
    assert_eq!(got.body.as_ref(), bytes.as_slice());
    assert_eq!(crc_header(&got), crc64::checksum(&bytes));
    let location =
        c.oss(None, &with_query(request("GET", "sbtest-restart", ""), &[("location", "")])).await.unwrap();
    assert_eq!(tags(&body_text(&location), "LocationConstraint"), ["oss-cn-beijing"]);
    assert_eq!(list_uploads(&c, "sbtest-restart").await.len(), 1, "the multipart upload is still open");
}

#[tokio::test]
async fn buckets_are_listed_described_and_refused_when_not_empty() {
    let dir = TempDir::new("oss-buckets");
    let sb = sandbox(&dir).await;
    let c = oss_client(&sb, OssSignature::V4, demo_key());
    for bucket in ["imgs-hz", "imgs-bj"] {
        let response = c.oss(Some("cn-hangzhou"), &request("PUT", bucket, "")).await.unwrap();
        assert_eq!(response.status, 200, "PutBucket {bucket}");
    }
    let service = OssRequest { method: "GET".into(), bucket: None, ..Default::default() };
    let listed = body_text(&c.oss(None, &service).await.unwrap());
    assert_eq!(tags(&listed, "Name"), vec!["imgs-bj", "imgs-hz"], "ListBuckets: {listed}");
    let info = body_text(
        &c.oss(None, &with_query(request("GET", "imgs-hz", ""), &[("bucketInfo", "")])).await.unwrap(),
    );
    assert_eq!(tags(&info, "Name"), vec!["imgs-hz"], "GetBucketInfo: {info}");
    assert!(info.contains("<Location>oss-cn-hangzhou</Location>"), "{info}");
    c.oss(None, &with_body(request("PUT", "imgs-hz", "a.raw"), vec![0u8; 16])).await.unwrap();
    let err = c.oss(None, &request("DELETE", "imgs-hz", "")).await.unwrap_err();
    assert_eq!(status_and_code(&err), (409, "BucketNotEmpty"), "{err}");
    c.oss(None, &request("DELETE", "imgs-hz", "a.raw")).await.unwrap();
    assert_eq!(c.oss(None, &request("DELETE", "imgs-hz", "")).await.unwrap().status, 204);
    let err =
        c.oss(None, &with_query(request("GET", "imgs-hz", ""), &[("bucketInfo", "")])).await.unwrap_err();
    assert_eq!(status_and_code(&err), (404, "NoSuchBucket"), "{err}");
}
