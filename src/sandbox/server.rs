//! The sandbox HTTP server (placeholder: being written).

/// Start the sandbox.
#[derive(Debug)]
pub struct Sandbox;

/// A running sandbox.
#[derive(Debug)]
pub struct RunningSandbox;
