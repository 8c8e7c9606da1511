#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Broken answers from a server (the sandbox's `malformed` fault): each gives a specific error
//! naming the call, quickly, and never a panic or a buffer the size of the answer.

mod common_sandbox;

use common_sandbox::{TempDir, demo_client, demo_config, start};
use imagedesk::client::ClientError;
use imagedesk::protocol::ops::ecs::{DescribeImages, ImageStatus};
use imagedesk::sandbox::{Faults, Malformed};

fn list() -> DescribeImages {
    DescribeImages { region_id: "cn-hangzhou".into(), status: ImageStatus::all(), ..Default::default() }
}

#[tokio::test]
async fn each_kind_of_broken_answer_gives_a_specific_error() {
    let dir = TempDir::new("hostile");
    let sandbox = start(demo_config(&dir, 1.0)).await;
    let client = demo_client(&sandbox);
    assert!(client.call(list()).await.is_ok(), "a sound answer first");

    let cases: [(Malformed, &[&str]); 4] = [
        (Malformed::TruncatedJson, &["DescribeImages", "could not be read", "EOF while parsing"]),
        (Malformed::WrongTypes, &["DescribeImages", "could not be read", "field Images"]),
        (Malformed::ErrorIn200, &["InternalError", "unknown error"]),
        (Malformed::HugeBody, &["DescribeImages", "larger than 16 MiB"]),
    ];
    for (kind, expected) in cases {
        sandbox.set_faults(Faults { malformed: Some(kind), ..Faults::default() });
        let before = sandbox.requests_served();
        let error = client.call(list()).await.unwrap_err();
        let message = error.to_string();
        for part in expected {
            assert!(message.contains(part), "{kind:?}: {part:?} not in {message:?}");
        }
        assert!(message.len() < 800, "{kind:?}: the message stays readable ({} bytes)", message.len());
        let requests = sandbox.requests_served() - before;
        match kind {
            // A 200 with an error document is the service's error: retried like any InternalError.
            Malformed::ErrorIn200 => assert!(matches!(error, ClientError::Api(_)), "{message}"),
            // An answer that cannot be read is not asked for again.
            _ => {
                assert!(matches!(error, ClientError::Decode { .. }), "{kind:?}: {message}");
                assert_eq!(requests, 1, "{kind:?}: not retried");
            }
        }
    }
    sandbox.set_faults(Faults::default());
    assert!(client.call(list()).await.is_ok(), "sound again once the server is");
}
