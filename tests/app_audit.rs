#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The audit log view (kittest, real app, loopback sandbox): a mutating call made from the app
//! shows up, the filter narrows the list, and both exports write exactly what is listed.

mod common_app;
use common_app::{app, replace_text, run_until, settle};
use std::sync::Arc;

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use imagedesk::app::i18n::Lang;
use imagedesk::app::worker::{Backend, WorkerOptions};
use imagedesk::client::audit::AuditEntry;
use imagedesk::jobs::audit::AuditLog;
use imagedesk::sandbox::{Sandbox, SandboxConfig};

#[test]
fn the_audit_view_lists_filters_and_exports_mutating_calls() {
    let root = std::env::temp_dir().join(format!("imagedesk-app-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let sandbox = runtime.block_on(Sandbox::start(SandboxConfig::new(root.join("sandbox")))).unwrap();
    let log = Arc::new(AuditLog::new(root.join("audit.jsonl")));
    let options = WorkerOptions { audit: Some(log.clone()), ..WorkerOptions::default() };
    let backend = Backend::SandboxAt(sandbox.url());
    let mut harness = app(backend, options, Lang::En);

    harness.get_by_label("Import sample image").click();
    settle(&mut harness);
    run_until(&mut harness, "the import", |app| {
        app.jobs.jobs.iter().any(|j| j.name.starts_with("sample-import-"))
    });

    harness.get_by_role_and_label(Role::Button, "Audit log").click();
    settle(&mut harness);
    run_until(&mut harness, "the audit log", |app| app.audit_entries.as_ref().is_some_and(|e| !e.is_empty()));
    settle(&mut harness);
    harness.get_by_label("ImportImage");
    harness.get_by_label("1 of 1 entries");
    replace_text(&mut harness, "Filter", "CreateImage");
    harness.get_by_label("0 of 1 entries");
    replace_text(&mut harness, "Filter", "import");
    harness.get_by_label("1 of 1 entries");

    let csv = root.join("exports").join("audit.csv");
    replace_text(&mut harness, "Export to", csv.to_str().unwrap());
    harness.get_by_role_and_label(Role::Button, "Export CSV").click();
    settle(&mut harness);
    run_until(&mut harness, "the CSV export", |app| app.audit_message.is_some());
    assert!(matches!(&harness.state().audit_message, Some(Ok(text)) if text.contains("Exported 1 entries")));
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("time,profile,product,region,action,result"));
    assert!(lines[1].contains(",Ecs,cn-hangzhou,ImportImage,success,"), "{}", lines[1]);

    let jsonl = root.join("exports").join("audit.jsonl");
    replace_text(&mut harness, "Export to", jsonl.to_str().unwrap());
    harness.state_mut().audit_message = None;
    harness.get_by_role_and_label(Role::Button, "Export JSON Lines").click();
    settle(&mut harness);
    run_until(&mut harness, "the JSON Lines export", |app| app.audit_message.is_some());
    let exported: Vec<AuditEntry> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(exported, log.read().unwrap().entries, "the export is the log's own entries");

    drop(harness);
    runtime.block_on(sandbox.shutdown());
    let _ = std::fs::remove_dir_all(&root);
}
