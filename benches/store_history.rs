//! Store at scale: a synthetic history of N domains (default 100,000) × D daily scans (default
//! 365), written through the real store API (results as runs, change events, per-day roll-ups),
//! then the queries the UI and reports use are timed, and the file size is reported. The 10k
//! list carries mail volumes (weights with a long tail), so its roll-ups count them too.
//!
//! Clearly synthetic: results come from `tests/fixtures`, not from probes. Run with
//! `cargo bench --bench store_history` (args: `-- DOMAINS DAYS CHANGE ROLLUP_EVERY`: CHANGE is
//! the share of domains whose state changes each day, default 0.01; the all-domains roll-up is
//! refreshed every ROLLUP_EVERY days, default 1; `STORE_HISTORY_DB=PATH` keeps the database).
//! Results are written as a scan writes them, a batch per transaction. Figures for closing notes and the README; never an assertion on time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use std::time::Instant;

use fixtures::{Shape, result_with};
use starttls_monitor::model::{DomainName, Verdict, Weight};
use starttls_monitor::store::{LatestFilter, Store};
use time::OffsetDateTime;

const SHAPES: [Shape; 6] = [
    Shape::Good,
    Shape::Good,
    Shape::BadCert,
    Shape::NoPfs,
    Shape::NoStarttls,
    Shape::Untestable,
];

fn time_it<T>(label: &str, runs: usize, mut work: impl FnMut() -> T) -> T {
    let mut best = f64::MAX;
    let mut total = 0.0;
    let mut value = None;
    for _ in 0..runs {
        let started = Instant::now();
        value = Some(work());
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        best = best.min(ms);
        total += ms;
    }
    println!(
        "  {label:<58} best {best:>8.2} ms, mean {:>8.2} ms ({runs} runs)",
        total / runs as f64
    );
    value.expect("at least one run")
}

/// Results per transaction, as a scan writes them (`monitor::scan::WRITE_BATCH`).
const BATCH: usize = starttls_monitor::monitor::scan::WRITE_BATCH;

fn record(store: &Store, batch: &mut Vec<starttls_monitor::model::DomainResult>) {
    for outcome in store.record_results(None, batch, 14) {
        outcome.expect("record");
    }
    batch.clear();
}

/// Bytes per table and index (SQLite's `dbstat`, when the build has it).
fn table_sizes(path: &std::path::Path) {
    let connection = rusqlite::Connection::open(path).expect("open");
    let sizes: Result<Vec<(String, i64)>, _> = connection
        .prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        });
    match sizes {
        Ok(sizes) => {
            for (name, bytes) in sizes.iter().take(12) {
                println!("  {name:<28} {:>9.1} MB", *bytes as f64 / 1e6);
            }
        }
        Err(error) => println!("  (no table sizes: {error})"),
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|arg| !arg.starts_with('-'));
    let domain_count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let days: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(365);
    let change: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0.01);
    let rollup_every: i64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    // STORE_HISTORY_DB=PATH: the history is written there (a file already there is replaced)
    // and kept, to look at its snapshot or queries again.
    let path = match std::env::var_os("STORE_HISTORY_DB") {
        Some(path) => {
            let path = std::path::PathBuf::from(path);
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
            path
        }
        None => dir.path().join("history.sqlite3"),
    };
    let store = Store::open(&path).expect("store");
    let mut rng = fastrand::Rng::with_seed(7);
    let names: Vec<DomainName> = (0..domain_count)
        .map(|index| fixtures::domain(&format!("d{index:06}.example")))
        .collect();
    let list = store.create_list("Top 10k").expect("list");
    store.add_domains(None, &names).expect("add all");
    store
        .add_domains(Some(list), &names[..domain_count.min(10_000)])
        .expect("add list");
    // Mail volumes for the list (a long tail): the roll-ups count them beside the domains.
    let weights: Vec<_> = names[..domain_count.min(10_000)]
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let volume = 1_000_000.0 / (index as f64 + 1.0);
            (name.clone(), Weight::new(volume.round()).expect("a weight"))
        })
        .collect();
    store.set_weights(list, &weights).expect("weights");
    let start = OffsetDateTime::now_utc() - time::Duration::days(days);
    let expiry = start + time::Duration::days(days + 400);
    // Each domain: a provider (50 shared MX hosts) and a shape that changes on `change` of days.
    let mut state: Vec<(usize, Shape)> = (0..domain_count)
        .map(|_| (rng.usize(0..50), SHAPES[rng.usize(0..SHAPES.len())]))
        .collect();
    println!(
        "generating {domain_count} domains x {days} daily scans, {:.1} % changing a day (synthetic)...",
        change * 100.0
    );
    let generation = Instant::now();
    let mut writes = 0usize;
    let mut batch = Vec::with_capacity(BATCH);
    for day in 0..days {
        let at = start + time::Duration::days(day) + time::Duration::hours(3);
        for (index, name) in names.iter().enumerate() {
            let changed = day == 0 || rng.f64() < change;
            if !changed {
                continue;
            }
            if day > 0 {
                state[index].1 = SHAPES[rng.usize(0..SHAPES.len())];
            }
            let (provider, shape) = state[index];
            let result = result_with(
                name.as_str(),
                &format!("mx{provider}.provider.example"),
                shape,
                at,
                expiry,
            );
            batch.push(result);
            if batch.len() == BATCH {
                record(&store, &mut batch);
            }
            writes += 1;
        }
        record(&store, &mut batch);
        if day % rollup_every == 0 || day == days - 1 {
            store.refresh_rollup(None, at).expect("rollup all");
        }
        store.refresh_rollup(Some(list), at).expect("rollup list");
        if day % 73 == 0 {
            println!(
                "  day {day}: {writes} state changes written, {:.0} s",
                generation.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "generated in {:.1} s: {writes} runs (state changes) for {} domain-scans",
        generation.elapsed().as_secs_f64(),
        domain_count as i64 * days
    );
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(dir.path().join("history.sqlite3-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "size on disk: {:.1} MB ({:.0} bytes per domain)",
        size as f64 / 1e6,
        size as f64 / domain_count as f64
    );
    table_sizes(&path);

    println!("queries:");
    let points = time_it(
        &format!("trend series, all domains ({days} points)"),
        20,
        || store.trends(None, None).expect("trends"),
    );
    let rolled_up = (0..days)
        .filter(|day| day % rollup_every == 0 || *day == days - 1)
        .count();
    assert_eq!(points.len(), rolled_up);
    time_it("trend series, list of 10k", 20, || {
        store.trends(Some(list), None).expect("trends")
    });
    time_it("latest results, first page of 100 by name", 20, || {
        store
            .latest(&LatestFilter {
                limit: Some(100),
                ..LatestFilter::default()
            })
            .expect("latest")
    });
    time_it("latest results, page 500 (offset 50,000)", 20, || {
        store
            .latest(&LatestFilter {
                limit: Some(100),
                offset: 50_000,
                ..LatestFilter::default()
            })
            .expect("latest")
    });
    time_it("latest results, verdict no_starttls, first 100", 20, || {
        store
            .latest(&LatestFilter {
                verdict: Some(Verdict::NoStarttls),
                limit: Some(100),
                ..LatestFilter::default()
            })
            .expect("latest")
    });
    time_it("latest results, text filter '0420', first 100", 20, || {
        store
            .latest(&LatestFilter {
                text: Some("0420".into()),
                limit: Some(100),
                ..LatestFilter::default()
            })
            .expect("latest")
    });
    time_it("latest results, list of 10k, first 100", 20, || {
        store
            .latest(&LatestFilter {
                list: Some(list),
                limit: Some(100),
                ..LatestFilter::default()
            })
            .expect("latest")
    });
    let all = time_it("latest results, all rows (UI snapshot)", 3, || {
        store.latest(&LatestFilter::default()).expect("latest")
    });
    assert_eq!(all.len(), domain_count);
    time_it("provider breakdown, top 20", 5, || {
        store.providers(None, 20).expect("providers")
    });
    time_it("one domain's history", 20, || {
        store.history(&names[4242 % domain_count]).expect("history")
    });
    time_it("recent events, 200", 20, || {
        store.events(None, None, None, 200).expect("events")
    });
    time_it("roll-up refresh, all domains (end of a scan)", 3, || {
        store
            .refresh_rollup(None, OffsetDateTime::now_utc())
            .expect("rollup")
    });
    time_it("roll-up refresh, list of 10k", 5, || {
        store
            .refresh_rollup(Some(list), OffsetDateTime::now_utc())
            .expect("rollup")
    });
}
