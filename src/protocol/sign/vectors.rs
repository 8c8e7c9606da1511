//! The published signing vectors (spec signing.md), recomputed on demand: `imagedesk vectors`
//! prints them so an operator can check a build on their machine. The stage-by-stage checks
//! live in each scheme's tests.

use super::{acs3, oss_v1, oss_v4, rpc};
use crate::secret::{Credential, Secret};

/// One vector: what was published and what this build computes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VectorCheck {
    pub name: &'static str,
    pub source: &'static str,
    pub expected: &'static str,
    pub computed: String,
}

impl VectorCheck {
    pub fn passes(&self) -> bool {
        self.expected == self.computed
    }
}

fn pairs(list: &[(&'static str, &'static str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// R1: the classic ECS doc example (AccessKeyId `testid`, secret `testsecret`).
pub(crate) const R1: [(&str, &str); 8] = [
    ("AccessKeyId", "testid"),
    ("Action", "DescribeRegions"),
    ("Format", "XML"),
    ("SignatureMethod", "HMAC-SHA1"),
    ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
    ("SignatureVersion", "1.0"),
    ("Timestamp", "2016-02-23T12:46:24Z"),
    ("Version", "2014-05-26"),
];

/// R2: the current "V2 signature for RPC APIs" doc example.
pub(crate) const R2: [(&str, &str); 9] = [
    ("AccessKeyId", "testid"),
    ("Action", "DescribeDedicatedHosts"),
    ("Format", "JSON"),
    ("RegionId", "cn-beijing"),
    ("SignatureMethod", "HMAC-SHA1"),
    ("SignatureNonce", "edb2b34af0af9a6d14deaf7c1a5315eb"),
    ("SignatureVersion", "1.0"),
    ("Timestamp", "2023-03-13T08:34:30Z"),
    ("Version", "2014-05-26"),
];

pub fn published() -> Vec<VectorCheck> {
    let test_secret = Secret::new("testsecret");
    let v3_headers = pairs(&[
        ("host", "ecs.cn-shanghai.aliyuncs.com"),
        ("x-acs-action", "RunInstances"),
        ("x-acs-version", "2014-05-26"),
        ("x-acs-date", "2023-10-26T10:22:32Z"),
        ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
        ("x-acs-content-sha256", acs3::EMPTY_PAYLOAD_HASH),
    ]);
    let v3_names =
        acs3::default_signed_header_names(v3_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let v3 = acs3::sign(
        "POST",
        "/",
        [("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), ("RegionId", "cn-shanghai")],
        v3_headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &v3_names,
        acs3::EMPTY_PAYLOAD_HASH,
        &Credential::new("YourAccessKeyId", "YourAccessKeySecret"),
    );
    let o1_secret = Secret::new("OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV");
    let sk = Secret::new("sk");
    let o3_sts = "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson";
    let o6_headers = pairs(&[
        ("x-oss-head1", "value"),
        ("abc", "value"),
        ("ZAbc", "value"),
        ("XYZ", "value"),
        ("content-type", "text/plain"),
        ("x-oss-content-sha256", oss_v4::UNSIGNED_PAYLOAD),
        ("x-oss-date", "20231216T162057Z"),
    ]);
    let o6_query = pairs(&[
        ("param1", "value1"),
        ("+param1", "value3"),
        ("|param1", "value4"),
        ("+param2", ""),
        ("|param2", ""),
        ("param2", ""),
    ]);
    let o6 = oss_v4::sign(
        &oss_v4::OssV4Request {
            verb: "PUT",
            bucket: Some("bucket"),
            key: "1234+-/123/1.txt",
            query: &o6_query,
            headers: &o6_headers,
            additional_headers: &[],
            region: "cn-hangzhou",
        },
        &Credential::new("ak", "sk"),
    );
    vec![
        VectorCheck {
            name: "R1",
            source: "RPC HMAC-SHA1, classic ECS doc example (GET DescribeRegions)",
            expected: "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
            computed: rpc::sign("GET", R1, &test_secret).signature,
        },
        VectorCheck {
            name: "R2",
            source: "RPC HMAC-SHA1, current V2 signature doc (GET DescribeDedicatedHosts)",
            expected: "9NaGiOspFP5UPcwX8Iwt2YJXXuk=",
            computed: rpc::sign("GET", R2, &test_secret).signature,
        },
        VectorCheck {
            name: "V3",
            source: "ACS3-HMAC-SHA256, official V3 doc fixed values (POST RunInstances)",
            expected: "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0",
            computed: v3.signature,
        },
        VectorCheck {
            name: "O1",
            source: "OSS V1 header, OSS doc example",
            expected: "26NBxoKdsyly4EDv6inkoDft/yA=",
            computed: oss_v1::signature(
                &o1_secret,
                "PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\nThu, 17 Nov 2005 18:49:58 GMT\nx-oss-magic:abracadabra\nx-oss-meta-author:foo@bar.com\n/oss-example/nelson",
            ),
        },
        VectorCheck {
            name: "O2",
            source: "OSS V1 presigned URL, OSS doc example",
            expected: "EwaNTn1erJGkimiJ9WmXgwnANLc=",
            computed: oss_v1::signature(&o1_secret, "GET\n\n\n1141889120\n/oss-example/oss-api.pdf"),
        },
        VectorCheck {
            name: "O3",
            source: "OSS V1 header, Go SDK v2 test",
            expected: "kSHKmLxlyEAKtZPkJhG9bZb5k7M=",
            computed: oss_v1::signature(&sk, o3_sts),
        },
        VectorCheck {
            name: "O4",
            source: "OSS V1 header with ?acl, Go SDK v2 test",
            expected: "/afkugFbmWDQ967j1vr6zygBLQk=",
            computed: oss_v1::signature(&sk, &format!("{o3_sts}?acl")),
        },
        VectorCheck {
            name: "O5",
            source: "OSS V1 presigned with versionId, Go SDK v2 test",
            expected: "dcLTea+Yh9ApirQ8o8dOPqtvJXQ=",
            computed: oss_v1::signature(&sk, "GET\n\n\n1699807420\n/bucket/key?versionId=versionId"),
        },
        VectorCheck {
            name: "O6",
            source: "OSS V4 header, Go SDK v2 TestV4AuthHeader",
            expected: "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe",
            computed: o6.signature,
        },
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_published_vector_reproduces() {
        let checks = super::published();
        assert_eq!(checks.len(), 9);
        for check in checks {
            assert!(check.passes(), "{} expected {} got {}", check.name, check.expected, check.computed);
        }
    }
}
