//! Reports at scale: N synthetic domains (default 10,000; from `tests/fixtures`, clearly not
//! probes) in one list with 30 daily roll-ups, exported as CSV, CSV per address, JSON and HTML
//! through `report::export`. Prints time and size of each; never asserts on time.
//!
//! Run with `cargo bench --bench export_report` (args: `-- DOMAINS`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

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

fn main() {
    let domains: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("monitor.sqlite3")).expect("store");
    let list = store.create_list("Bench").expect("list");
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
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
    for day in (0..30).rev() {
        store
            .refresh_rollup(Some(list), now - time::Duration::days(day))
            .expect("roll-up");
    }
    println!(
        "{domains} domains stored with 30 roll-ups in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for (label, format, per_address) in [
        ("csv", ExportFormat::Csv, false),
        ("csv --per-address", ExportFormat::Csv, true),
        ("json", ExportFormat::Json, false),
        ("html", ExportFormat::Html, false),
    ] {
        let options = ExportOptions {
            format,
            list: Some("Bench".into()),
            since: None,
            per_address,
        };
        let started = Instant::now();
        let mut out = Vec::new();
        let summary = report::export(&store, &options, &mut out).expect("exports");
        println!(
            "  {label:<18} {:>8.0} ms  {:>8.1} KiB  ({} rows)",
            started.elapsed().as_secs_f64() * 1000.0,
            out.len() as f64 / 1024.0,
            summary.rows
        );
    }
}
