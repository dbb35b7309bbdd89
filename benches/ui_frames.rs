//! Frame time of the desktop app with 100,000 domains in the table: the real `App` driven
//! headless by egui_kittest (layout and the accessibility tree each frame; no GPU), while the
//! table scrolls, after a re-sort, and while the text filter changes. Prints median and p99 per
//! frame; how long the snapshot takes (the store's query, then the table model built from it);
//! the process's RSS (VmRSS, VmHWM) before and after; and the table's bytes per row. Synthetic
//! results from `tests/fixtures`; never an assertion on time.
//!
//! `cargo bench --bench ui_frames [-- DOMAINS]`; with `UI_FRAMES_DB=PATH` the filled database
//! is kept at PATH and reused by the next run with the same number of domains (filling a
//! million takes minutes).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use std::time::{Duration, Instant};

use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fixtures::{Shape, result_with};
use starttls_monitor::model::DomainName;
use starttls_monitor::monitor::Overrides;
use starttls_monitor::monitor::view::load_view;
use starttls_monitor::store::Store;
use starttls_monitor::ui::table_model::TableModel;
use starttls_monitor::ui::{App, Saved};
use time::OffsetDateTime;

const SHAPES: [Shape; 6] = [
    Shape::Good,
    Shape::Good,
    Shape::BadCert,
    Shape::NoPfs,
    Shape::NoStarttls,
    Shape::Untestable,
];

fn report(label: &str, mut frames: Vec<Duration>) {
    frames.sort();
    let at = |quantile: f64| {
        let index = ((frames.len() as f64 - 1.0) * quantile).round() as usize;
        frames[index].as_secs_f64() * 1000.0
    };
    println!(
        "  {label:<44} median {:>6.2} ms, p99 {:>6.2} ms, max {:>6.2} ms ({} frames)",
        at(0.5),
        at(0.99),
        at(1.0),
        frames.len()
    );
}

/// `VmRSS` and `VmHWM` of this process in MB (Linux; zeros elsewhere).
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn print_memory(when: &str) {
    let (rss, peak) = memory_mb();
    println!("  RSS {when:<38} {rss:>7.1} MB (peak so far {peak:.1} MB)");
}

/// Fills a database at `path` with `domain_count` synthetic domains.
fn fill(path: &std::path::Path, domain_count: usize) {
    let store = Store::open(path).expect("store");
    let names: Vec<DomainName> = (0..domain_count)
        .map(|index| fixtures::domain(&format!("d{index:06}.example")))
        .collect();
    store.add_domains(None, &names).expect("add");
    let at = OffsetDateTime::now_utc() - time::Duration::hours(2);
    let expiry = at + time::Duration::days(60);
    let mut rng = fastrand::Rng::with_seed(11);
    for name in &names {
        let shape = SHAPES[rng.usize(0..SHAPES.len())];
        let provider = rng.usize(0..50);
        let result = result_with(
            name.as_str(),
            &format!("mx{provider}.provider{provider}.example"),
            shape,
            at,
            expiry,
        );
        store.record_result(None, &result, 14).expect("record");
    }
    store.refresh_rollup(None, at).expect("rollup");
}

fn main() {
    let domain_count: usize = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-'))
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = match std::env::var_os("UI_FRAMES_DB") {
        Some(path) => std::path::PathBuf::from(path),
        None => dir.path().join("ui.sqlite3"),
    };
    let stored = path
        .exists()
        .then(|| Store::open(&path).and_then(|store| store.domain_count(None)))
        .and_then(Result::ok);
    if stored != Some(domain_count) {
        let _ = std::fs::remove_file(&path);
        let filling = Instant::now();
        fill(&path, domain_count);
        println!(
            "filled the database in {:.0} s",
            filling.elapsed().as_secs_f64()
        );
    }
    print_memory("before loading");
    {
        // The snapshot as the monitor's worker reads it, then as the table model takes it.
        let store = Store::open(&path).expect("store");
        let started = Instant::now();
        let view = load_view(&store, None).expect("view");
        let read = started.elapsed();
        let rows = view.rows.len();
        let started = Instant::now();
        let mut table = TableModel::default();
        table.set_rows(view.rows);
        while table.is_rebuilding() {
            std::thread::sleep(Duration::from_millis(1));
            table.poll();
        }
        let built = started.elapsed();
        println!(
            "  snapshot: store query {:.0} ms, table model {:.0} ms ({rows} rows)",
            read.as_secs_f64() * 1000.0,
            built.as_secs_f64() * 1000.0
        );
        print_memory("with one table model");
        report_row_bytes(&table);
    }
    print_memory("after dropping it");
    println!("{domain_count} domains stored; starting the app headless");
    let app = App::start(path, Overrides::default(), false, Saved::default());
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_ui_state(|ui, app: &mut App| app.ui_root(ui), app);
    let loading = Instant::now();
    while harness.state().table().total_len() < domain_count {
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            loading.elapsed() < Duration::from_secs(120),
            "snapshot never came"
        );
    }
    println!(
        "snapshot of {domain_count} rows loaded and shown in {:.0} ms (off the UI thread)",
        loading.elapsed().as_secs_f64() * 1000.0
    );
    print_memory("app with the snapshot shown");
    harness.run_steps(5);

    let mut frames = Vec::new();
    for _ in 0..300 {
        let started = Instant::now();
        harness.step();
        frames.push(started.elapsed());
    }
    report("idle (table at the top)", frames);

    let centre = egui::pos2(700.0, 500.0);
    let mut frames = Vec::new();
    for index in 0..600 {
        harness.event(egui::Event::PointerMoved(centre));
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, if index < 300 { -400.0 } else { 400.0 }),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        let started = Instant::now();
        harness.step();
        frames.push(started.elapsed());
    }
    report("scrolling 400 px per frame", frames);

    let started = Instant::now();
    harness.get_by_label("Verdict").click();
    harness.step();
    println!(
        "  {:<44} {:>6.1} ms (one frame; the re-sort runs beside it above {} rows)",
        format!("click 'Verdict' to sort {domain_count} rows"),
        started.elapsed().as_secs_f64() * 1000.0,
        starttls_monitor::ui::table_model::INLINE_REBUILD_ROWS
    );
    let mut frames = Vec::new();
    while harness.state().table().is_rebuilding() {
        let frame = Instant::now();
        harness.step();
        frames.push(frame.elapsed());
    }
    println!(
        "  {:<44} {:>6.1} ms",
        "sorted view shown after",
        started.elapsed().as_secs_f64() * 1000.0
    );
    if !frames.is_empty() {
        report("frames while it sorted", frames);
    }
    let mut frames = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        harness.step();
        frames.push(started.elapsed());
    }
    report("idle after sorting by verdict", frames);

    let mut frames = Vec::new();
    harness.get_by_role(Role::TextInput).click();
    harness.step();
    for digit in ["0", "4", "2"] {
        harness.get_by_role(Role::TextInput).type_text(digit);
        let started = Instant::now();
        harness.step();
        frames.push(started.elapsed());
    }
    report("typing into the filter (refilters all)", frames);
    let started = Instant::now();
    let mut frames = Vec::new();
    while harness.state().table().is_rebuilding() {
        let frame = Instant::now();
        harness.step();
        frames.push(frame.elapsed());
    }
    println!(
        "  {:<44} {:>6.1} ms after the last key",
        "filtered view shown",
        started.elapsed().as_secs_f64() * 1000.0
    );
    if !frames.is_empty() {
        report("frames while it filtered", frames);
    }
    println!(
        "rows shown after filter '042': {}",
        harness.state().table().visible_len()
    );
    print_memory("at the end");
}

/// Bytes the table model holds per row: the compact rows with their names, interned texts and
/// side tables (`TableRows::heap_bytes`, each heap block as glibc rounds it), and the view's
/// index per shown row.
fn report_row_bytes(table: &TableModel) {
    let rows = table.rows();
    let count = rows.len().max(1) as f64;
    let view = table.visible_len() * std::mem::size_of::<u32>();
    println!(
        "  bytes per row: {:.0} ({:.0} for the row, {:.0} for the view's index)",
        (rows.heap_bytes() + view) as f64 / count,
        rows.heap_bytes() as f64 / count,
        view as f64 / count
    );
}
