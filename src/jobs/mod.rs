//! Layer 4 — jobs: long-running pipelines (pre-flight sniffing, resumable upload to OSS, import
//! and monitoring) with persisted state, built on the client and driven by the app.

pub mod audit;
pub mod import;
pub mod sniff;
pub mod upload;
