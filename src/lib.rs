//! ImageDesk — administer custom images on Alibaba Cloud (ECS, ENS, E-HPC Instant, Apsara Stack).
//!
//! Layers, each importing only the ones above it in this list:
//! 1. [`protocol`] — signing, wire parameters, typed operations, error decoding, validation;
//! 2. [`client`] — HTTP transport: endpoints, retries, idempotency tokens, paging;
//!    [`profiles`] (also layer 2) — profile records and credential import;
//! 3. [`sandbox`] — the local emulator of the APIs (also the `imagedesk-sandbox` binary);
//! 4. [`jobs`] — upload/import pipelines with persisted state;
//! 5. [`app`] — the egui desktop UI and its background worker.

pub mod app;
pub mod client;
pub mod jobs;
pub mod paths;
pub mod profiles;
pub mod protocol;
pub mod sandbox;
pub mod secret;

pub use secret::{Credential, Secret};
