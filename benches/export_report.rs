//! Reports at scale: N synthetic domains (default 10,000; from `tests/fixtures`, clearly not
//! probes) in one list with 30 daily roll-ups, exported as CSV, CSV per address, JSON and HTML
//! through `report::export`. The HTML is made as `export` makes it (above
//! `report::FULL_TABLE_MAX_DOMAINS` domains without the full domain table: the problem domains
//! instead) and, up to [`FULL_TABLE_UP_TO`] domains, also with the full table, as `export
//! --full-table`. Prints time and size of each, and the process's peak RSS after each; never
//! asserts on time. Exports are counted as they stream, not kept in memory.
//!
//! Run with `cargo bench --bench export_report` (args: `-- DOMAINS [html]`; `html` makes the
//! HTML only, e.g. at a million domains, where CSV and JSON take minutes).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use std::io::{self, Write};
use std::time::Instant;

use fixtures::{Shape, result_with};
use starttls_monitor::report::{self, ExportFormat, ExportOptions};
use starttls_monitor::store::Store;
use time::OffsetDateTime;

const SHAPES: [Shape; 6] = [
    Shape::Good,
    Shape::Good,
    Shape::BadCert,
    Shape::NoPfs,
    Shape::NoStarttls,
    Shape::Untestable,
];

/// The HTML with the full table is also made up to this many domains (its page is held in
/// memory while it is made: about 290 bytes a domain, several times that while rendering).
const FULL_TABLE_UP_TO: usize = 200_000;

/// Counts the bytes written, keeps none.
#[derive(Default)]
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.0 += buffer.len() as u64;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The process's peak resident set so far, in MiB (Linux; None elsewhere).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let domains: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(10_000);
    let html_only = std::env::args().skip(1).any(|arg| arg == "html");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("monitor.sqlite3")).expect("store");
    let list = store.create_list("Bench").expect("list");
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    {
        let names: Vec<String> = (0..domains).map(|i| format!("d{i}.example")).collect();
        let parsed: Vec<_> = names.iter().map(|name| fixtures::domain(name)).collect();
        store.add_domains(Some(list), &parsed).expect("add");
        for (index, name) in names.iter().enumerate() {
            let shape = SHAPES[index % SHAPES.len()];
            let provider = format!("mx{}.provider{}.example", index % 3, index % 40);
            let expires = now + time::Duration::days((index % 400) as i64 - 10);
            let result = result_with(name, &provider, shape, now, expires);
            store.record_result(None, &result, 14).expect("record");
        }
    }
    for day in (0..30).rev() {
        store
            .refresh_rollup(Some(list), now - time::Duration::days(day))
            .expect("roll-up");
    }
    println!(
        "{domains} domains stored with 30 roll-ups in {:.1} s (HTML full table up to {} domains)",
        started.elapsed().as_secs_f64(),
        report::FULL_TABLE_MAX_DOMAINS
    );
    let mut runs = vec![
        (
            "html",
            ExportFormat::Html,
            false,
            report::FULL_TABLE_MAX_DOMAINS,
        ),
        ("html --full-table", ExportFormat::Html, false, usize::MAX),
        (
            "csv",
            ExportFormat::Csv,
            false,
            report::FULL_TABLE_MAX_DOMAINS,
        ),
        (
            "csv --per-address",
            ExportFormat::Csv,
            true,
            report::FULL_TABLE_MAX_DOMAINS,
        ),
        (
            "json",
            ExportFormat::Json,
            false,
            report::FULL_TABLE_MAX_DOMAINS,
        ),
    ];
    if html_only {
        runs.retain(|run| run.1 == ExportFormat::Html);
    }
    if domains > FULL_TABLE_UP_TO {
        runs.retain(|run| run.0 != "html --full-table");
        println!("  (html --full-table left out above {FULL_TABLE_UP_TO} domains)");
    } else if domains <= report::FULL_TABLE_MAX_DOMAINS {
        // Below the threshold the default page has the full table already.
        runs.retain(|run| run.0 != "html --full-table");
    }
    for (label, format, per_address, full_table_up_to) in runs {
        let options = ExportOptions {
            list: Some("Bench".into()),
            per_address,
            full_table_up_to,
            ..ExportOptions::new(format)
        };
        let started = Instant::now();
        let mut out = Counter::default();
        let summary = report::export(&store, &options, &mut out).expect("exports");
        assert_eq!(summary.bytes, out.0);
        println!(
            "  {label:<18} {:>8.0} ms  {:>10.1} KiB  ({} rows)  peak RSS so far {:.0} MiB",
            started.elapsed().as_secs_f64() * 1000.0,
            out.0 as f64 / 1024.0,
            summary.rows,
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
}
