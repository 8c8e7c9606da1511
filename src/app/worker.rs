//! The background worker: a named thread running a tokio runtime that owns the [`Client`] (and the
//! in-process sandbox when no account is configured). The UI talks to it only through bounded
//! channels, so no network or disk I/O ever happens on the UI thread.

use std::sync::{Arc, OnceLock};

use eframe::egui;
use tokio::sync::mpsc;

use crate::Credential;
use crate::client::{Client, ClientError, Profile, StaticCredentials};
use crate::protocol::ops::ecs::{self, DescribeImages, ImageOwnerAlias, ImageStatus};
use crate::sandbox::{DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, RunningSandbox, Sandbox, SandboxConfig};

/// The region the inventory lists (region switching comes later).
pub const INVENTORY_REGION: &str = "cn-hangzhou";

/// How many commands / events may queue before senders wait (UI side: refuse).
const COMMAND_CAPACITY: usize = 8;
const EVENT_CAPACITY: usize = 16;

/// UI → worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// List every custom image of [`INVENTORY_REGION`] (all statuses, all pages).
    Refresh,
}

/// Worker → UI.
#[derive(Clone, Debug)]
pub enum Event {
    Images(Vec<ecs::Image>),
    Error(String),
}

/// What the worker talks to.
pub enum Backend {
    /// Start the in-process sandbox on this data dir and use the demo key.
    Sandbox(SandboxConfig),
    /// A real account (optionally against another endpoint, e.g. a private cloud).
    Account { credential: Credential, endpoint: Option<String> },
    /// A ready-made client (tests, or a sandbox started elsewhere).
    Client(Client),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sandbox(config) => f.debug_tuple("Sandbox").field(&config.data_dir).finish(),
            Self::Account { endpoint, .. } => {
                f.debug_struct("Account").field("endpoint", endpoint).finish_non_exhaustive()
            }
            Self::Client(_) => f.write_str("Client(..)"),
        }
    }
}

impl Backend {
    /// The sandbox backend on its default data dir (`$XDG_DATA_HOME/imagedesk/sandbox`).
    pub fn default_sandbox() -> Self {
        Self::Sandbox(SandboxConfig::new(crate::sandbox::default_data_dir()))
    }

    pub fn is_sandbox(&self) -> bool {
        matches!(self, Self::Sandbox(_))
    }
}

/// The UI's handle on the worker thread. Dropping it closes the command channel; the worker then
/// shuts the sandbox down and exits.
#[derive(Debug)]
pub struct Worker {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<Event>,
    repaint: Arc<OnceLock<egui::Context>>,
}

impl Worker {
    pub fn spawn(backend: Backend) -> std::io::Result<Self> {
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
        let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
        let repaint = Arc::new(OnceLock::new());
        let notify = Arc::clone(&repaint);
        std::thread::Builder::new()
            .name("imagedesk-worker".into())
            .spawn(move || run(backend, command_rx, event_tx, notify))?;
        Ok(Self { commands: command_tx, events: event_rx, repaint })
    }

    /// The context to wake after each event (set once, from the first frame).
    pub fn set_context(&self, ctx: &egui::Context) {
        let _ = self.repaint.get_or_init(|| ctx.clone());
    }

    /// Queue a command; `false` if the queue is full or the worker is gone.
    pub fn send(&self, command: Command) -> bool {
        self.commands.try_send(command).is_ok()
    }

    /// The next pending event, without blocking.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

fn run(
    backend: Backend,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    repaint: Arc<OnceLock<egui::Context>>,
) {
    let wake = move || {
        if let Some(ctx) = repaint.get() {
            ctx.request_repaint();
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("imagedesk-net")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = events.blocking_send(Event::Error(format!("cannot start the network runtime: {e}")));
            wake();
            return;
        }
    };
    runtime.block_on(async move {
        let (client, sandbox) = match connect(backend).await {
            Ok(pair) => pair,
            Err(message) => {
                // Answer every request with the same failure until the UI goes away.
                let _ = events.send(Event::Error(message.clone())).await;
                wake();
                while commands.recv().await.is_some() {
                    if events.send(Event::Error(message.clone())).await.is_err() {
                        break;
                    }
                    wake();
                }
                return;
            }
        };
        while let Some(command) = commands.recv().await {
            let event = match command {
                Command::Refresh => {
                    let request = DescribeImages {
                        region_id: INVENTORY_REGION.to_owned(),
                        status: ImageStatus::all(),
                        image_owner_alias: Some(ImageOwnerAlias::SelfOwned),
                        ..Default::default()
                    };
                    match client.list_all(request).await {
                        Ok(images) => Event::Images(images),
                        Err(error) => Event::Error(describe(&error)),
                    }
                }
            };
            if events.send(event).await.is_err() {
                break;
            }
            wake();
        }
        if let Some(running) = sandbox {
            running.shutdown().await;
        }
    });
}

async fn connect(backend: Backend) -> Result<(Client, Option<RunningSandbox>), String> {
    let mut profile = Profile::new("desktop", INVENTORY_REGION);
    let (credential, sandbox) = match backend {
        Backend::Client(client) => return Ok((client, None)),
        Backend::Account { credential, endpoint } => {
            profile.endpoint = endpoint;
            (credential, None)
        }
        Backend::Sandbox(mut config) => {
            config.port = 0;
            let running = Sandbox::start(config)
                .await
                .map_err(|e| format!("cannot start the built-in sandbox: {e}"))?;
            profile.endpoint = Some(running.url());
            profile.oss_endpoint = Some(running.url());
            (Credential::new(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET), Some(running))
        }
    };
    let client =
        Client::new(profile, Arc::new(StaticCredentials::new(credential))).map_err(|e| describe(&e))?;
    Ok((client, sandbox))
}

/// The error, and for service errors what to do about it in English and Chinese.
pub fn describe(error: &ClientError) -> String {
    match error.api() {
        Some(api) => {
            let advice = api.advice();
            format!("{error}\nWhat to do: {}\n处理建议: {}", advice.en, advice.zh)
        }
        None => error.to_string(),
    }
}
