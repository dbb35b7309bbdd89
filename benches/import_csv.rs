//! Import at scale: a generated CSV of N lines (default 1,000,000) with a header, names,
//! e-mail addresses, URLs, some IDN, duplicates and invalid cells, read through
//! `import::read_file` (auto-detected delimiter, header and column), then applied to a fresh
//! database with `Store::add_domains` (one transaction). Prints the figures; never asserts on
//! time.
//!
//! With `--weights` each row also has a `Messages` column (mail volume): read as weights,
//! duplicates adding up, and applied with `Store::add_weighted_domains`.
//!
//! Run with `cargo bench --bench import_csv` (args: `-- LINES [--weights]`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::io::Write;
use std::time::Instant;

use starttls_monitor::import::{self, ImportOptions};
use starttls_monitor::store::Store;

fn main() {
    let lines: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(1_000_000);
    let weighted = std::env::args().any(|arg| arg == "--weights");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("domains.csv");
    let started = Instant::now();
    {
        let file = std::fs::File::create(&path).expect("create");
        let mut out = std::io::BufWriter::new(file);
        if weighted {
            writeln!(out, "\u{feff}Name;E-Mail;Website;Messages").expect("write");
        } else {
            writeln!(out, "\u{feff}Name;E-Mail;Website").expect("write");
        }
        for index in 0..lines {
            // Every 10th row repeats an earlier domain, every 50th is invalid, every 100th IDN.
            let domain = if index % 10 == 9 {
                format!("d{}.example", index / 2)
            } else if index % 100 == 7 {
                format!("bücher{index}.example")
            } else {
                format!("d{index}.example")
            };
            let mail = if index % 50 == 3 {
                "not an address".to_string()
            } else {
                format!("person{index}@{domain}")
            };
            if weighted {
                writeln!(
                    out,
                    "\"Person {index}; Dept\";{mail};https://www.{domain}/contact;{}\r",
                    index % 1000 * 7
                )
                .expect("write");
            } else {
                writeln!(
                    out,
                    "\"Person {index}; Dept\";{mail};https://www.{domain}/contact\r"
                )
                .expect("write");
            }
        }
        out.flush().expect("flush");
    }
    let size = std::fs::metadata(&path).expect("size").len();
    println!(
        "generated {lines} lines, {:.1} MiB, in {:.2} s",
        size as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let mut progress_calls = 0usize;
    let preview = import::read_file(&path, &ImportOptions::default(), &mut |_, _| {
        progress_calls += 1;
    })
    .expect("imports");
    let read_seconds = started.elapsed().as_secs_f64();
    println!(
        "read_file{}: {read_seconds:.2} s ({:.0} lines/s, {:.1} MiB/s); column {} ({:?}), {} domains, {} duplicates, {} invalid, {progress_calls} progress calls",
        if weighted { " (with weights)" } else { "" },
        lines as f64 / read_seconds,
        size as f64 / (1024.0 * 1024.0) / read_seconds,
        preview.column + 1,
        preview.columns.get(preview.column),
        preview.domains.len(),
        preview.duplicates,
        preview.invalid_total,
    );

    let store = Store::open(&dir.path().join("monitor.sqlite3")).expect("store");
    let started = Instant::now();
    let present = store.count_present(&preview.domains).expect("count");
    println!(
        "count_present (dry run) on an empty database: {:.2} s ({present} present)",
        started.elapsed().as_secs_f64()
    );
    let list = store.ensure_list("Imported").expect("list");
    let started = Instant::now();
    let report = if weighted {
        assert_eq!(
            preview.weights.len(),
            preview.domains.len(),
            "every domain weighed"
        );
        let domains: Vec<_> = preview
            .domains
            .iter()
            .cloned()
            .zip(preview.weights.iter().copied())
            .collect();
        store.add_weighted_domains(list, &domains).expect("applies")
    } else {
        store
            .add_domains(Some(list), &preview.domains)
            .expect("applies")
    };
    println!(
        "add_{}domains (one transaction, with list): {:.2} s, added {}",
        if weighted { "weighted_" } else { "" },
        started.elapsed().as_secs_f64(),
        report.added
    );
}
