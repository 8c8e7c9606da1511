//! The RPC products' emulation (placeholder: being written).

use std::path::Path;

use crate::protocol::error::{ApiError, Service};

use super::{OssView, RpcCall, SandboxError};

/// Behaviour switches of the emulation.
#[derive(Clone, Debug)]
pub struct CloudSettings {
    pub import_role_authorized: bool,
    pub time_scale: f64,
    pub seed_demo: bool,
}

/// Images, tasks, instances and snapshots of every account and region, persisted in the data dir.
#[derive(Debug)]
pub struct Cloud {
    settings: CloudSettings,
}

impl Cloud {
    /// Load `state.json` from the data dir, or start empty (seeded with demo data if asked).
    pub fn open(_data_dir: &Path, settings: CloudSettings) -> Result<Self, SandboxError> {
        Ok(Self { settings })
    }

    pub fn settings_mut(&mut self) -> &mut CloudSettings {
        &mut self.settings
    }

    /// Answer one authenticated call: the response body (without `RequestId`, which the server
    /// adds) or the API error to send.
    pub fn handle(&mut self, call: &RpcCall, _oss: &dyn OssView) -> Result<serde_json::Value, ApiError> {
        Err(ApiError::new(
            Service::Pop,
            404,
            "InvalidAction.NotFound",
            format!("Specified api {} is not found, please check your url and method.", call.action),
        ))
    }
}
