//! JSON export: one document with the domain result objects (the same serializer and field
//! names as `probe --json`; `last_known` and `stale_since` as the store reads them), the
//! domains never probed, the trends JSON and the change events.
//!
//! Owns: the top-level shape (README documents it). Domains are streamed one object per line,
//! so a 100k-domain export never holds every result in memory.

use std::io::Write;

use serde::Serialize;

use super::{ExportSummary, ReportError, Scope, rfc3339};
use crate::store::{ChangeKind, EventRow, Store};

/// The value of the top-level `format` field.
pub const FORMAT_NAME: &str = "starttls-monitor-export";
/// The value of the top-level `version` field; raised when the shape changes incompatibly.
pub const FORMAT_VERSION: u32 = 1;

/// One change event.
#[derive(Serialize)]
struct EventJson<'a> {
    domain: &'a str,
    at: String,
    kind: ChangeKind,
    detail: &'a str,
    regression: bool,
}

/// One change event as the JSON export writes it (`domain`, `at`, `kind`, `detail`,
/// `regression`), on one line: `events --json` prints the same objects.
pub fn event_json(event: &EventRow) -> Result<String, ReportError> {
    json(&EventJson {
        domain: &event.domain,
        at: rfc3339(event.at),
        kind: event.kind,
        detail: &event.detail,
        regression: event.regression,
    })
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, ReportError> {
    serde_json::to_string(value)
        .map_err(|error| ReportError::Write(std::io::Error::other(error.to_string())))
}

pub(super) fn write(
    store: &Store,
    scope: &Scope,
    out: &mut dyn Write,
) -> Result<ExportSummary, ReportError> {
    let mut summary = ExportSummary::default();
    writeln!(out, "{{")?;
    writeln!(out, "\"format\": {},", json(FORMAT_NAME)?)?;
    writeln!(out, "\"version\": {FORMAT_VERSION},")?;
    writeln!(
        out,
        "\"generated_at\": {},",
        json(&rfc3339(scope.generated_at))?
    )?;
    writeln!(out, "\"list\": {},", json(&scope.list_name)?)?;
    writeln!(
        out,
        "\"since\": {},",
        json(&scope.since.map(|date| date.to_string()))?
    )?;
    write!(out, "\"domains\": [")?;
    let mut not_probed = Vec::new();
    store.each_latest_result(scope.list, |domain, latest| {
        summary.domains += 1;
        match latest {
            Some(result) => {
                out.write_all(if summary.probed == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *out, &result).map_err(|error| {
                    ReportError::Write(std::io::Error::other(error.to_string()))
                })?;
                summary.probed += 1;
                summary.rows += 1;
            }
            None => not_probed.push(domain),
        }
        Ok::<(), ReportError>(())
    })?;
    writeln!(out, "\n],")?;
    writeln!(out, "\"not_probed\": {},", json(&not_probed)?)?;

    let points = store.trends(scope.list, scope.since)?;
    summary.trend_points = points.len();
    write!(out, "\"trends\": [")?;
    for (index, point) in points.iter().enumerate() {
        // Exactly as `trends --json` prints it.
        let line = json(&point.contract())?;
        write!(out, "{}{line}", if index == 0 { "\n" } else { ",\n" })?;
    }
    writeln!(out, "\n],")?;

    let events = store.events(scope.list, None, scope.since_time(), i64::MAX as usize)?;
    summary.events = events.len();
    write!(out, "\"events\": [")?;
    for (index, event) in events.iter().enumerate() {
        let line = event_json(event)?;
        write!(out, "{}{line}", if index == 0 { "\n" } else { ",\n" })?;
    }
    writeln!(out, "\n]")?;
    writeln!(out, "}}")?;
    Ok(summary)
}
