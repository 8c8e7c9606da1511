//! ImageDesk — administer custom images on Alibaba Cloud (ECS, ENS, E-HPC Instant, Apsara Stack).
//!
//! Layers, each importing only the ones above it in this list:
//! 1. [`protocol`] — signing, wire parameters, typed operations, error decoding, validation;
//! 2. [`client`] — HTTP transport: endpoints, retries, idempotency tokens, paging;
//! 3. [`sandbox`] — the local emulator of the APIs (also the `imagedesk-sandbox` binary);
//! 4. [`jobs`] — upload/import pipelines with persisted state;
//! 5. [`app`] — the egui desktop UI and its background worker.

pub mod app;
pub mod client;
pub mod jobs;
pub mod protocol;
pub mod sandbox;
pub mod secret;

pub use secret::{Credential, Secret};
