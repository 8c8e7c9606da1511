//! The local audit log: every mutating call, one JSON object per line in
//! `$XDG_DATA_HOME/imagedesk/audit.jsonl`, appended and flushed as it happens. Read back for the
//! Activity view, and exported as CSV or JSON Lines.

use std::fs::OpenOptions;
use std::io::{self, BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::client::audit::{AuditEntry, AuditOutcome, AuditSink};

/// `$XDG_DATA_HOME/imagedesk/audit.jsonl` (else `~/.local/share/imagedesk/audit.jsonl`).
pub fn default_path(get: impl Fn(&str) -> Option<String>) -> PathBuf {
    crate::paths::data_dir(get).join("audit.jsonl")
}

/// The log file. Appends are serialised, so concurrent calls never interleave lines.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    write: Mutex<()>,
}

/// What reading the log found.
#[derive(Debug, Default)]
pub struct AuditRead {
    pub entries: Vec<AuditEntry>,
    /// Lines that are not entries (a torn last line after a crash, hand edits): skipped, counted.
    pub unreadable_lines: usize,
}

impl AuditLog {
    pub fn new(path: PathBuf) -> Self {
        Self { path, write: Mutex::new(()) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&self, entry: &AuditEntry) -> io::Result<()> {
        let _guard = self.write.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(entry).map_err(io::Error::other)?;
        line.push('\n');
        let mut file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        // One write of the whole line: an append either lands whole or (on a crash) torn at the end.
        file.write_all(line.as_bytes())?;
        file.sync_data()
    }

    /// Every entry, oldest first; a missing file is an empty log.
    pub fn read(&self) -> io::Result<AuditRead> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(AuditRead::default()),
            Err(e) => return Err(e),
        };
        let mut read = AuditRead::default();
        for line in BufReader::new(file).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(&line) {
                Ok(entry) => read.entries.push(entry),
                Err(_) => read.unreadable_lines += 1,
            }
        }
        Ok(read)
    }
}

impl AuditSink for AuditLog {
    fn record(&self, entry: AuditEntry) {
        if let Err(e) = self.append(&entry) {
            tracing::error!(path = %self.path.display(), "cannot append to the audit log: {e}");
        }
    }
}

/// JSON Lines, one entry per line (the log's own format).
pub fn export_jsonl(entries: &[AuditEntry], out: &mut impl io::Write) -> io::Result<()> {
    for entry in entries {
        serde_json::to_writer(&mut *out, entry).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// CSV (RFC 4180): time, profile, product, region, action, result, error code, error message,
/// request ID, parameters (as one JSON object).
pub fn export_csv(entries: &[AuditEntry], out: &mut impl io::Write) -> io::Result<()> {
    fn field(text: &str) -> String {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    }
    writeln!(
        out,
        "time,profile,product,region,action,result,error_code,error_message,request_id,parameters"
    )?;
    for e in entries {
        let (result, code, message) = match &e.outcome {
            AuditOutcome::Success => ("success", "", ""),
            AuditOutcome::Error { code, message } => ("error", code.as_str(), message.as_str()),
        };
        let params = serde_json::to_string(&e.params).map_err(io::Error::other)?;
        let row = [
            e.time.to_rfc3339(),
            e.profile.clone(),
            e.product.clone(),
            e.region.clone(),
            e.action.clone(),
            result.to_owned(),
            code.to_owned(),
            message.to_owned(),
            e.request_id.clone().unwrap_or_default(),
            params,
        ];
        let line: Vec<String> = row.iter().map(|v| field(v)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn entry(action: &str, outcome: AuditOutcome) -> AuditEntry {
        AuditEntry {
            time: chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            profile: "prod".into(),
            product: "Ecs".into(),
            region: "cn-hangzhou".into(),
            action: action.into(),
            params: BTreeMap::from([("ImageName".to_owned(), "web, \"v2\"".to_owned())]),
            request_id: Some("REQ-1".into()),
            outcome,
        }
    }

    #[test]
    fn entries_append_read_back_and_a_torn_line_is_skipped() {
        let dir = std::env::temp_dir().join(format!("imagedesk-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let log = AuditLog::new(dir.join("audit.jsonl"));
        assert!(log.read().unwrap().entries.is_empty());
        log.append(&entry("ImportImage", AuditOutcome::Success)).unwrap();
        let failed =
            AuditOutcome::Error { code: "InvalidImageName.Duplicated".into(), message: "dup".into() };
        log.append(&entry("CreateImage", failed.clone())).unwrap();
        // A crash mid-append leaves a partial last line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"{\"time\":\"20")
            .unwrap();
        let read = log.read().unwrap();
        assert_eq!(read.entries.len(), 2);
        assert_eq!(read.unreadable_lines, 1);
        assert_eq!(read.entries[1].outcome, failed);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn exports_are_exact() {
        let entries = vec![
            entry("ImportImage", AuditOutcome::Success),
            entry(
                "DeleteImage",
                AuditOutcome::Error { code: "Throttling".into(), message: "slow down".into() },
            ),
        ];
        let mut csv = Vec::new();
        export_csv(&entries, &mut csv).unwrap();
        let csv = String::from_utf8(csv).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "time,profile,product,region,action,result,error_code,error_message,request_id,parameters"
        );
        assert_eq!(
            lines[1],
            r#"2026-11-23T10:00:00+00:00,prod,Ecs,cn-hangzhou,ImportImage,success,,,REQ-1,"{""ImageName"":""web, \""v2\""""}""#
        );
        assert!(lines[2].contains(",error,Throttling,slow down,"));
        let mut jsonl = Vec::new();
        export_jsonl(&entries, &mut jsonl).unwrap();
        let back: Vec<AuditEntry> =
            String::from_utf8(jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(back, entries);
    }
}
