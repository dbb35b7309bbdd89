//! The desktop app while another process writes to its database (a cron `scan`, the command
//! line): it notices by itself within two polls, and the table row, the detail pane, the list
//! figures and the events then agree with the database; View ▸ Refresh (Ctrl+R) reloads at
//! once. And a DNS server that refuses every lookup gets a banner that names it, the likely
//! cause and what to do.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod app_support;

mod fixtures;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use app_support::{has_label, pump_until, pump_within as pump, start_app};
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fixtures::{Shape, domain, result};
use starttls_monitor::model::{DomainName, DomainResult, Verdict};
use starttls_monitor::monitor::{Overrides, STORE_POLL_INTERVAL};
use starttls_monitor::probe::DnsServer;
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{LatestFilter, ScanCounts, ScanScope, ScanStatus, Store};
use starttls_monitor::ui::{App, Tab};
use time::OffsetDateTime;

const DOMAINS: [&str; 3] = ["a.example", "b.example", "c.example"];

/// Clicks a domain's row: its first cell (the provider column may say the same name).
fn click_row(harness: &mut Harness<'static, App>, name: &str) {
    harness
        .query_all_by_label(name)
        .next()
        .expect("the domain's row")
        .click();
}

/// What a second writer does: one whole scan of `results`, stored as `scan` stores it.
fn record_scan(db: &Path, results: &[DomainResult]) {
    let store = Store::open(db).expect("a second connection");
    let scan = store
        .begin_scan(&ScanScope::All, &Settings::default(), results.len())
        .expect("begin");
    let mut counts = ScanCounts {
        total: results.len(),
        ..ScanCounts::default()
    };
    for result in results {
        counts.add(result);
        store.record_result(Some(scan), result, 14).expect("record");
    }
    store
        .finish_scan(scan, ScanStatus::Finished, &counts)
        .expect("finish");
}

/// What the database says now, in the terms the app shows.
struct Truth {
    rows: Vec<starttls_monitor::store::LatestRow>,
    all_domains: Option<starttls_monitor::store::TrendCounts>,
    event_ids: Vec<i64>,
    detail: Option<DomainResult>,
}

fn truth(db: &Path, detail_of: &DomainName) -> Truth {
    let store = Store::open(db).expect("open");
    Truth {
        rows: store.latest(&LatestFilter::default()).expect("rows"),
        all_domains: store.latest_rollups().expect("roll-ups").remove(&None),
        event_ids: store
            .events(None, None, None, 500)
            .expect("events")
            .iter()
            .map(|event| event.id)
            .collect(),
        detail: store.latest_result(detail_of).expect("detail"),
    }
}

/// Whether the app shows exactly what `truth` says, and the same state in row and detail.
fn agrees(harness: &Harness<'static, App>, truth: &Truth, detail_of: &DomainName) -> bool {
    let app = harness.state();
    let Some(view) = app.view() else {
        return false;
    };
    let event_ids: Vec<i64> = view.events.iter().map(|event| event.id).collect();
    let detail = app
        .detail()
        .filter(|detail| detail.domain == *detail_of)
        .and_then(|detail| detail.latest.as_ref());
    let row = app.table().row_of(detail_of);
    app.table().rows() == truth.rows.as_slice()
        && view.lists.first().and_then(|all| all.latest.as_ref()) == truth.all_domains.as_ref()
        && event_ids == truth.event_ids
        && detail == truth.detail.as_ref()
        && row.is_some_and(|row| {
            detail.is_some_and(|detail| {
                row.verdict == Some(detail.verdict)
                    && row.strict_valid == detail.strict_valid
                    && row.last_probed == Some(detail.probed_at)
            })
        })
}

fn seed(db: &Path) {
    let store = Store::open(db).expect("store");
    let domains: Vec<DomainName> = DOMAINS.iter().map(|name| domain(name)).collect();
    store.add_domains(None, &domains).expect("add");
    drop(store);
    let earlier = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let results: Vec<DomainResult> = DOMAINS
        .iter()
        .map(|name| result(name, Shape::Good, earlier))
        .collect();
    record_scan(db, &results);
}

#[test]
fn a_scan_written_by_another_process_shows_within_two_polls_in_row_detail_figures_and_events() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    seed(&db);
    let b = domain("b.example");
    let mut harness = start_app(&db, Overrides::default());
    click_row(&mut harness, "b.example");
    pump(&mut harness, Duration::from_secs(10), "the detail", |h| {
        h.state().detail_domain() == Some(&b)
    });
    let before = truth(&db, &b);
    assert!(agrees(&harness, &before, &b), "the app starts in agreement");
    assert_eq!(
        before
            .detail
            .as_ref()
            .and_then(|result| result.strict_valid),
        Some(true)
    );
    harness.step();
    assert!(has_label(&harness, "100% secure · 3 of 3 testable"));

    // A cron job's scan: b.example's certificate turned self-signed, c.example lost STARTTLS.
    let now = OffsetDateTime::now_utc();
    record_scan(
        &db,
        &[
            result("a.example", Shape::Good, now),
            result("b.example", Shape::BadCert, now),
            result("c.example", Shape::NoStarttls, now),
        ],
    );
    let written = Instant::now();
    let after = truth(&db, &b);
    assert_eq!(after.event_ids.len(), 2, "two change events were stored");
    let within = STORE_POLL_INTERVAL * 2 + Duration::from_millis(1500);
    let agreed = pump_until(&mut harness, within, |h| agrees(h, &after, &b));
    assert!(
        agreed,
        "not in agreement {:?} after the write (two polls: {within:?}); status: {:?}",
        written.elapsed(),
        harness.state().status_text()
    );
    let row = harness.state().table().row_of(&b).expect("row");
    assert_eq!(row.verdict, Some(Verdict::TlsOk));
    assert_eq!(row.strict_valid, Some(false));

    // What a user sees: the detail pane, the list figures and the events.
    harness.step();
    assert!(has_label(&harness, "self-signed"), "the detail pane");
    assert!(
        has_label(&harness, "33% secure · 1 of 3 testable"),
        "the list figures"
    );
    harness.get_by_label("Events").click();
    harness.run_steps(2);
    assert_eq!(harness.state().saved().tab, Tab::Events);
    assert!(has_label(&harness, "2 recent, 2 regressions"), "the events");
}

#[test]
fn domains_added_by_the_command_line_show_up_by_themselves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    seed(&db);
    let mut harness = start_app(&db, Overrides::default());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_starttls-monitor"))
        .args(["--db", db.to_str().expect("utf-8 path")])
        .args(["domains", "add", "--list", "Partners", "d.example"])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let added = domain("d.example");
    pump(
        &mut harness,
        STORE_POLL_INTERVAL * 2 + Duration::from_millis(1500),
        "the new domain and list",
        |h| h.state().table().row_of(&added).is_some(),
    );
    harness.step();
    assert!(has_label(&harness, "Partners  (1)"), "the new list");
    assert!(has_label(&harness, "All domains  (4)"));
}

#[test]
fn ctrl_r_reloads_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    seed(&db);
    let c = domain("c.example");
    let mut harness = start_app(&db, Overrides::default());
    click_row(&mut harness, "c.example");
    pump(&mut harness, Duration::from_secs(10), "the detail", |h| {
        h.state().detail_domain() == Some(&c)
    });
    record_scan(
        &db,
        &[result(
            "c.example",
            Shape::NoStarttls,
            OffsetDateTime::now_utc(),
        )],
    );
    let after = truth(&db, &c);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    harness.step();
    assert_eq!(
        harness.state().status_text(),
        Some("reloading from the database"),
        "Ctrl+R asked for a fresh snapshot"
    );
    pump(
        &mut harness,
        STORE_POLL_INTERVAL / 2,
        "the refreshed view, sooner than a poll",
        |h| agrees(h, &after, &c),
    );
}

#[test]
fn a_refusing_dns_server_gets_a_banner_naming_it_the_likely_cause_and_what_to_do() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dns = runtime.block_on(support::FailingDns::refusing());
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    {
        let store = Store::open(&db).expect("store");
        let domains: Vec<DomainName> = DOMAINS.iter().map(|name| domain(name)).collect();
        store.add_domains(None, &domains).expect("add");
    }
    let overrides = Overrides {
        dns: Some(DnsServer::Custom(dns.addr)),
        timeout: Some(Duration::from_secs(2)),
        ..Overrides::default()
    };
    let mut harness = start_app(&db, overrides);
    harness.key_press(egui::Key::F5);
    pump(
        &mut harness,
        Duration::from_secs(30),
        "the DNS banner",
        |h| h.state().dns_unanswered_banner(),
    );
    harness.step();
    assert!(has_label(
        &harness,
        "The DNS server refuses to look domains up"
    ));
    for expected in [
        format!(
            "The DNS server {} refused all of the first 3 domain lookups",
            dns.addr
        ),
        "refused: not a recursive resolver?".to_string(),
        "as the DNS server in Settings".to_string(),
        // A first launch where nothing was ever testable: the demo fleet is offered.
        "cargo run --example demo_fleet".to_string(),
    ] {
        assert!(
            harness.query_all_by_value(&expected).next().is_some()
                || has_label(&harness, &expected),
            "banner says '{expected}'"
        );
    }
    pump(
        &mut harness,
        Duration::from_secs(30),
        "the scan to finish",
        |h| {
            h.state()
                .status_text()
                .is_some_and(|text| text.contains("finished"))
        },
    );
    for name in DOMAINS {
        let row = harness.state().table().row_of(&domain(name)).expect("row");
        assert_eq!(row.verdict, Some(Verdict::Untestable), "{name}");
    }
    drop(harness);
    drop(dns);
}
