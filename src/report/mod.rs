//! Reports: the stored results of a list (or of every domain) written as CSV, JSON or one
//! self-contained HTML file with charts.
//!
//! Owns: the export formats (their columns and top-level JSON shape, documented in README) and
//! the HTML report's layout and charts (SVG drawn by `plotters`). Reads from `store` and
//! `model`, writes to any `dyn Write`.
//! Must not touch: the network (the HTML report makes no external request: no remote fonts,
//! scripts or images), the probe, the UI. Every string that came from a server or a file is
//! escaped for where it goes (HTML-escaped; CSV cells neutralized against formula injection).
//!
//! Meant to run on a background thread: [`export`] holds only the store it is given.

mod charts;
mod csv_export;
mod html;
mod json_export;

pub use json_export::event_json;

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;

use crate::model::{DomainResult, Outcome, TlsVersion};
use crate::store::{ListId, Store, StoreError};

/// Certificates that end within this many days (or have ended) are listed as expiring soon.
pub const EXPIRING_SOON_DAYS: i64 = 30;

/// The HTML report carries the full domain table up to this many domains in its scope (about
/// 7 MB of page: a row is about 360 bytes, `benches/export_report.rs`). Above it the page keeps
/// the headline figures, the charts, the events, the expiring certificates and the problem
/// domains (capped), and points to the CSV and JSON exports for every domain: the table of a
/// million domains would be ~350 MB, more than a browser opens. The default of
/// [`ExportOptions::full_table_up_to`].
pub const FULL_TABLE_MAX_DOMAINS: usize = 20_000;

/// The file format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "lowercase")]
pub enum ExportFormat {
    /// One row per domain (or per MX address with `per_address`), spreadsheet-safe.
    Csv,
    /// The domain result objects, the trend series and the change events in one document.
    Json,
    /// One self-contained HTML file: headline figures, charts, tables, definitions.
    Html,
}

impl ExportFormat {
    /// The name used on the command line and as file extension: `csv`, `json`, `html`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for ExportFormat {
    type Err = String;
    /// A format by its name, in any case; `htm` is taken for `html`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.trim().to_ascii_lowercase();
        let wanted = if name == "htm" { "html" } else { name.as_str() };
        ExportFormat::VARIANTS
            .iter()
            .copied()
            .find(|format| format.as_str() == wanted)
            .ok_or_else(|| format!("unknown export format '{name}' (csv, json or html)"))
    }
}

/// What to export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOptions {
    /// The file format.
    pub format: ExportFormat,
    /// The list to report on, by name (None: every domain in the database).
    pub list: Option<String>,
    /// Trend points and change events from this UTC day on (None: all). Tables always show
    /// each domain's latest result.
    pub since: Option<time::Date>,
    /// CSV only: one row per MX address instead of one per domain (ignored by JSON and HTML,
    /// which always carry the addresses).
    pub per_address: bool,
    /// HTML only: the page carries the full domain table when the scope has at most this many
    /// domains (default [`FULL_TABLE_MAX_DOMAINS`]; `usize::MAX` always, as `export
    /// --full-table`); above, the problem domains instead, and a pointer to CSV and JSON.
    pub full_table_up_to: usize,
}

impl ExportOptions {
    /// Options for `format` with every other choice at its default (all domains, all time).
    pub fn new(format: ExportFormat) -> Self {
        Self {
            format,
            list: None,
            since: None,
            per_address: false,
            full_table_up_to: FULL_TABLE_MAX_DOMAINS,
        }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Domains in the scope (list or database).
    pub domains: usize,
    /// Of those, domains with at least one stored result.
    pub probed: usize,
    /// Data rows (CSV), domain objects (JSON) or domain table rows (HTML; above
    /// [`ExportOptions::full_table_up_to`] the problem domains shown).
    pub rows: usize,
    /// Trend points included (JSON, HTML).
    pub trend_points: usize,
    /// Change events included (JSON, HTML).
    pub events: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading the database failed (or the list does not exist).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed (disk full, closed pipe...); the caller knows the file name.
    #[error("could not write the report: {0}")]
    Write(#[from] io::Error),
    /// The output file could not be created, written or put in place (names the file).
    #[error("{problem}")]
    Output {
        /// The file asked for.
        path: PathBuf,
        /// What went wrong, naming the file.
        problem: String,
    },
    /// A chart could not be drawn.
    #[error("could not draw the chart '{chart}': {problem}")]
    Chart {
        /// Which chart.
        chart: String,
        /// What the drawing library said.
        problem: String,
    },
}

/// Writes the report to `path` through a temporary file beside it, renamed into place when
/// complete, so a failed export never leaves half a report (or clobbers an older one).
pub fn export_to_file(
    store: &Store,
    options: &ExportOptions,
    path: &Path,
) -> Result<ExportSummary, ReportError> {
    let output = |problem: String| ReportError::Output {
        path: path.to_path_buf(),
        problem,
    };
    if path.is_dir() {
        return Err(output(format!(
            "cannot write {}: it is a folder",
            path.display()
        )));
    }
    let file_name = path.file_name().map_or_else(
        || "export".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let temporary = path.with_file_name(format!(".{file_name}.{}.partial", std::process::id()));
    let mut file = std::fs::File::create(&temporary)
        .map_err(|error| output(format!("cannot create {}: {error}", path.display())))?;
    let outcome = export(store, options, &mut file)
        .map_err(|error| match error {
            ReportError::Write(error) => {
                output(format!("could not write {}: {error}", path.display()))
            }
            other => other,
        })
        .and_then(|summary| {
            file.sync_all()
                .map_err(|error| output(format!("could not write {}: {error}", path.display())))?;
            std::fs::rename(&temporary, path)
                .map_err(|error| output(format!("cannot create {}: {error}", path.display())))?;
            Ok(summary)
        });
    if outcome.is_err() {
        let _ignored = std::fs::remove_file(&temporary);
    }
    outcome
}

/// Writes the report `options` describe to `out`. The output is buffered here; the caller
/// only creates the file (or passes standard output).
pub fn export(
    store: &Store,
    options: &ExportOptions,
    out: &mut dyn Write,
) -> Result<ExportSummary, ReportError> {
    let scope = Scope {
        list: options
            .list
            .as_deref()
            .map(|name| store.require_list(name))
            .transpose()?,
        list_name: options.list.as_ref().map(|name| name.trim().to_string()),
        since: options.since,
        generated_at: {
            let now = OffsetDateTime::now_utc();
            now.replace_nanosecond(0).unwrap_or(now)
        },
    };
    let mut counting = CountingWriter {
        inner: io::BufWriter::with_capacity(64 * 1024, out),
        bytes: 0,
    };
    let mut summary = match options.format {
        ExportFormat::Csv => csv_export::write(store, &scope, options.per_address, &mut counting)?,
        ExportFormat::Json => json_export::write(store, &scope, &mut counting)?,
        ExportFormat::Html => html::write(store, &scope, options.full_table_up_to, &mut counting)?,
    };
    counting.flush()?;
    summary.bytes = counting.bytes;
    Ok(summary)
}

/// What every format needs to know about the report being made.
struct Scope {
    list: Option<ListId>,
    list_name: Option<String>,
    since: Option<time::Date>,
    generated_at: OffsetDateTime,
}

impl Scope {
    /// The start of the period, for event queries.
    fn since_time(&self) -> Option<OffsetDateTime> {
        self.since.map(|date| date.midnight().assume_utc())
    }
}

/// Counts what passes through, for [`ExportSummary::bytes`].
struct CountingWriter<W: Write> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Facts of a domain's latest result that tables show, computed once.
#[derive(Clone, Debug, Default)]
struct DomainFacts {
    mx_hosts: Vec<String>,
    untestable_hosts: usize,
    lowest_tls: Option<TlsVersion>,
    legacy_tls: bool,
    cert_errors: Vec<String>,
    earliest_not_after: Option<OffsetDateTime>,
    provider: Option<String>,
}

impl DomainFacts {
    fn of(result: &DomainResult) -> Self {
        let addresses = || result.mx.iter().flat_map(|host| &host.addresses);
        let mut cert_errors: Vec<String> = addresses()
            .flat_map(|address| &address.cert_errors)
            .map(|error| error.as_str().to_string())
            .collect();
        cert_errors.sort();
        cert_errors.dedup();
        Self {
            mx_hosts: result.mx.iter().map(|host| host.host.clone()).collect(),
            untestable_hosts: result.untestable_host_count(),
            lowest_tls: addresses()
                .filter(|address| address.outcome == Outcome::TlsOk)
                .filter_map(|address| address.tls_version)
                .min(),
            legacy_tls: addresses().any(|address| address.legacy_tls == Some(true)),
            cert_errors,
            earliest_not_after: addresses()
                .filter_map(|address| address.cert_not_after)
                .min(),
            provider: result.provider(),
        }
    }
}

/// Whole days from `now` until `until`, negative once past (as `cert_days_left`).
fn days_left(until: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (until - now).whole_days()
}

/// RFC 3339 text of a timestamp (UTC, whole seconds).
fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_formats_read_back_by_name_in_any_case() {
        for &format in ExportFormat::VARIANTS {
            assert_eq!(format.as_str().parse::<ExportFormat>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        assert_eq!(ExportFormat::Csv.as_str(), "csv");
        assert_eq!(ExportFormat::Json.as_str(), "json");
        assert_eq!(ExportFormat::Html.as_str(), "html");
        assert_eq!(" HTML ".parse::<ExportFormat>(), Ok(ExportFormat::Html));
        assert_eq!("htm".parse::<ExportFormat>(), Ok(ExportFormat::Html));
        assert_eq!(
            "Xlsx".parse::<ExportFormat>(),
            Err("unknown export format 'xlsx' (csv, json or html)".to_string())
        );
    }
}
