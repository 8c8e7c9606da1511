//! Resumable multipart upload to OSS (being written).
