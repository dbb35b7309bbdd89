//! Frame time of the desktop app with 100,000 domains in the table: the real `App` driven
//! headless by egui_kittest (layout and the accessibility tree each frame; no GPU), while the
//! table scrolls, after a re-sort, and while the text filter changes. Prints median and p99 per
//! frame. Synthetic results from `tests/fixtures`; never an assertion on time.
//!
//! `cargo bench --bench ui_frames [-- DOMAINS]`
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
use starttls_monitor::store::Store;
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

fn main() {
    let domain_count: usize = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with('-'))
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ui.sqlite3");
    {
        let store = Store::open(&path).expect("store");
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
        "  {:<44} {:>6.1} ms (one frame, includes the re-sort)",
        "click 'Verdict' to sort 100k rows",
        started.elapsed().as_secs_f64() * 1000.0
    );
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
    report("typing into the filter (refilters 100k)", frames);
    println!(
        "rows shown after filter '042': {}",
        harness.state().table().visible_len()
    );
}
