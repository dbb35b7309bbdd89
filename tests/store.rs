//! The store as the app and the command line rely on it: what survives a restart, how bad files
//! are refused without being touched, runs and change events across scans, trend roll-ups.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod fixtures;
#[path = "fixtures/auth.rs"]
mod fixtures_auth;

use std::time::Duration;

use fixtures::{Shape, dns_failure, domain, result, result_with};
use starttls_monitor::model::{DnsError, Verdict};
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{
    ChangeKind, LatestFilter, ScanCounts, ScanScope, ScanStatus, Store, StoreError,
};
use time::OffsetDateTime;

fn day(offset: i64) -> OffsetDateTime {
    // A fixed past moment so day boundaries are predictable: 2026-01-10 12:00 UTC.
    OffsetDateTime::from_unix_timestamp(1_768_046_400).expect("valid")
        + time::Duration::days(offset)
}

#[test]
fn a_first_result_is_a_baseline_even_with_an_expiring_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("monitor.sqlite3")).expect("open");
    // First seen with a certificate 5 days from its end: stored, no event.
    let first = result_with("new.example", "mx.new.example", Shape::Good, day(0), day(5));
    let outcome = store.record_result(None, &first, 14).expect("record");
    assert!(outcome.events.is_empty(), "{:?}", outcome.events);
    // Still inside the window at the next probe: it was the baseline, still no event.
    let again = result_with("new.example", "mx.new.example", Shape::Good, day(1), day(5));
    let outcome = store.record_result(None, &again, 14).expect("record");
    assert!(outcome.events.is_empty(), "{:?}", outcome.events);
    // A renewed certificate that is already short-lived is news.
    let renewed = result_with("new.example", "mx.new.example", Shape::Good, day(2), day(9));
    let kinds: Vec<ChangeKind> = store
        .record_result(None, &renewed, 14)
        .expect("record")
        .events
        .iter()
        .map(|event| event.kind)
        .collect();
    assert_eq!(kinds, vec![ChangeKind::CertExpiring]);
}

#[test]
fn restart_keeps_lists_domains_settings_and_results() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested").join("monitor.sqlite3");
    {
        let store = Store::open(&path).expect("creates the file and its folder");
        let list = store.create_list("Customers").expect("list");
        let report = store
            .add_domains(
                Some(list),
                &[
                    domain("a.example"),
                    domain("b.example"),
                    domain("a.example"),
                ],
            )
            .expect("add");
        assert_eq!(
            (report.added, report.already_present, report.duplicates),
            (2, 0, 1)
        );
        let settings = Settings {
            concurrency: 7,
            ..Settings::default()
        };
        store.save_settings(&settings).expect("save");
        let scan = store
            .begin_scan(&ScanScope::All, &settings, 1)
            .expect("scan");
        store
            .record_result(Some(scan), &result("a.example", Shape::Good, day(0)), 14)
            .expect("record");
        store
            .finish_scan(scan, ScanStatus::Finished, &ScanCounts::default())
            .expect("finish");
    }
    let store = Store::open(&path).expect("reopens");
    let lists = store.lists().expect("lists");
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].name, "Customers");
    assert_eq!(lists[0].domain_count, 2);
    assert_eq!(store.settings().expect("settings").concurrency, 7);
    let latest = store
        .latest_result(&domain("a.example"))
        .expect("query")
        .expect("a result");
    assert_eq!(latest.verdict, Verdict::TlsOk);
    assert_eq!(
        latest.mx[0].addresses[0].cipher_suite.as_deref(),
        Some("TLS_AES_256_GCM_SHA384")
    );
    assert_eq!(
        store
            .last_scan()
            .expect("scan")
            .expect("one")
            .status
            .as_str(),
        "finished"
    );
    store.integrity_check().expect("sound file");
}

#[test]
fn foreign_and_newer_files_are_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");

    let text_file = dir.path().join("notes.txt");
    std::fs::write(&text_file, "this is not a database\n".repeat(100)).expect("write");
    let before = std::fs::read(&text_file).expect("read");
    let error = Store::open(&text_file).err().expect("refused");
    assert!(matches!(error, StoreError::Foreign { .. }), "{error}");
    assert!(error.to_string().contains("notes.txt"), "{error}");
    assert_eq!(
        std::fs::read(&text_file).expect("read"),
        before,
        "file untouched"
    );

    let other_db = dir.path().join("other.sqlite3");
    {
        let connection = rusqlite::Connection::open(&other_db).expect("open");
        connection
            .execute_batch(
                "CREATE TABLE invoices (id INTEGER PRIMARY KEY); INSERT INTO invoices VALUES (1);",
            )
            .expect("foreign schema");
    }
    let before = std::fs::read(&other_db).expect("read");
    let error = Store::open(&other_db).err().expect("refused");
    assert!(matches!(error, StoreError::Foreign { .. }), "{error}");
    assert_eq!(
        std::fs::read(&other_db).expect("read"),
        before,
        "file untouched"
    );

    let newer = dir.path().join("newer.sqlite3");
    drop(Store::open(&newer).expect("create"));
    {
        let connection = rusqlite::Connection::open(&newer).expect("open");
        connection
            .pragma_update(None, "user_version", 999)
            .expect("bump version");
    }
    let error = Store::open(&newer).err().expect("refused");
    assert!(
        matches!(error, StoreError::TooNew { found: 999, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("newer"), "{error}");
}

#[test]
fn an_empty_file_is_migrated_from_scratch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("empty.sqlite3");
    std::fs::write(&path, b"").expect("empty file");
    let store = Store::open(&path).expect("an empty file becomes a database");
    store.integrity_check().expect("sound");
    drop(store);
    let version: i64 = rusqlite::Connection::open(&path)
        .expect("open")
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("version");
    assert_eq!(version, starttls_monitor::store::schema::CURRENT_VERSION);
}

#[test]
fn a_lock_held_past_the_timeout_is_a_clear_busy_error_and_two_writers_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("shared.sqlite3");
    let first = Store::open(&path).expect("first");
    let second = Store::open(&path).expect("second process-like connection");
    // Both write, interleaved.
    first
        .add_domains(None, &[domain("one.example")])
        .expect("first writes");
    second
        .add_domains(None, &[domain("two.example")])
        .expect("second writes");
    assert_eq!(first.domain_count(None).expect("count"), 2);

    // Someone holds the write lock and does not let go.
    let holder = rusqlite::Connection::open(&path).expect("holder");
    holder.execute_batch("BEGIN IMMEDIATE").expect("lock");
    second
        .set_busy_timeout(Duration::from_millis(200))
        .expect("timeout");
    let error = second
        .add_domains(None, &[domain("three.example")])
        .expect_err("busy");
    assert!(matches!(error, StoreError::Busy { .. }), "{error}");
    assert!(error.to_string().contains("shared.sqlite3"), "{error}");
    holder.execute_batch("ROLLBACK").expect("unlock");
    second
        .add_domains(None, &[domain("three.example")])
        .expect("works again once the lock is gone");
}

#[test]
fn lists_can_be_created_renamed_deleted_and_domains_removed() {
    let store = Store::open_in_memory().expect("store");
    let list = store.create_list("Universities").expect("create");
    assert!(store.create_list("Universities").is_err(), "duplicate name");
    assert!(store.create_list("  ").is_err(), "empty name");
    store
        .add_domains(
            Some(list),
            &[domain("uni-a.example"), domain("uni-b.example")],
        )
        .expect("add");
    store.rename_list("Universities", "Unis").expect("rename");
    assert!(store.list_id("Universities").expect("query").is_none());
    let unis = store.require_list("Unis").expect("renamed");
    assert_eq!(
        store
            .remove_domains(Some(unis), &[domain("uni-a.example")])
            .expect("remove"),
        1
    );
    assert_eq!(
        store.domains(Some(unis)).expect("domains"),
        vec![domain("uni-b.example")]
    );
    assert_eq!(
        store.domain_count(None).expect("count"),
        2,
        "still in the database"
    );
    store.delete_list("Unis").expect("delete");
    assert!(store.lists().expect("lists").is_empty());
    assert_eq!(
        store.domain_count(None).expect("count"),
        2,
        "domains outlive their list"
    );
    assert_eq!(
        store
            .remove_domains(None, &[domain("uni-a.example")])
            .expect("remove"),
        1
    );
    assert_eq!(store.domain_count(None).expect("count"), 1);
    assert!(
        store
            .require_list("Nope")
            .expect_err("missing")
            .to_string()
            .contains("Nope")
    );
}

#[test]
fn unchanged_results_extend_a_run_and_changes_start_a_new_one() {
    let store = Store::open_in_memory().expect("store");
    let first = store
        .record_result(None, &result("a.example", Shape::Good, day(0)), 14)
        .expect("record");
    assert!(first.new_run);
    assert!(first.events.is_empty(), "a first result raises no change");
    let mut again = result("a.example", Shape::Good, day(1));
    again.mx[0].addresses[0].elapsed_ms = 999; // timings do not make a new state
    let second = store.record_result(None, &again, 14).expect("record");
    assert!(!second.new_run);
    let third = store
        .record_result(None, &result("a.example", Shape::BadCert, day(2)), 14)
        .expect("record");
    assert!(third.new_run);
    let history = store.history(&domain("a.example")).expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].times_seen, 2);
    assert_eq!(history[1].first_at, day(0));
    assert_eq!(history[1].last_at, day(1));
    assert_eq!(history[0].result.strict_valid, Some(false));
}

#[test]
fn change_events_across_scans() {
    let store = Store::open_in_memory().expect("store");
    let record = |shape: Shape, at: i64| {
        store
            .record_result(None, &result("a.example", shape, day(at)), 14)
            .expect("record")
            .events
            .into_iter()
            .map(|event| event.kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(record(Shape::Good, 0), vec![]);
    assert_eq!(
        record(Shape::BadCert, 1),
        vec![ChangeKind::CertBecameInvalid]
    );
    assert_eq!(record(Shape::Good, 2), vec![ChangeKind::CertBecameValid]);
    assert_eq!(record(Shape::NoPfs, 3), vec![ChangeKind::PfsLost]);
    // Untestable: no TLS event, and the domain keeps its last known state...
    assert_eq!(record(Shape::Untestable, 4), vec![]);
    // ...so coming back unchanged raises nothing, and a real change compares with before.
    assert_eq!(record(Shape::NoPfs, 5), vec![]);
    assert_eq!(record(Shape::Untestable, 6), vec![]);
    assert_eq!(record(Shape::NoStarttls, 7), vec![ChangeKind::StarttlsLost]);
    assert_eq!(record(Shape::Good, 8), vec![ChangeKind::StarttlsGained]);

    // MX set change.
    let moved = result_with(
        "a.example",
        "mx.new-provider.example",
        Shape::Good,
        day(9),
        day(69),
    );
    let kinds: Vec<ChangeKind> = store
        .record_result(None, &moved, 14)
        .expect("record")
        .events
        .iter()
        .map(|event| event.kind)
        .collect();
    assert_eq!(kinds, vec![ChangeKind::MxChanged]);

    // A certificate close to expiry: one event per certificate, not one per scan.
    let expiring = |at: i64| {
        result_with(
            "a.example",
            "mx.new-provider.example",
            Shape::Good,
            day(at),
            day(20),
        )
    };
    let kinds: Vec<ChangeKind> = store
        .record_result(None, &expiring(10), 14)
        .expect("record")
        .events
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, vec![ChangeKind::CertExpiring]);
    let again = store
        .record_result(None, &expiring(11), 14)
        .expect("record");
    assert!(again.events.is_empty(), "{:?}", again.events);

    let stored = store
        .events(None, Some(&domain("a.example")), None, 100)
        .expect("events");
    assert_eq!(stored.len(), 7);
    assert_eq!(stored[0].kind, ChangeKind::CertExpiring);
    assert!(stored[0].regression);
}

#[test]
fn trends_count_each_domain_by_its_latest_result_per_day() {
    let store = Store::open_in_memory().expect("store");
    let list = store.create_list("L").expect("list");
    let names = ["a.example", "b.example", "c.example", "d.example"];
    store
        .add_domains(
            Some(list),
            &names.iter().map(|name| domain(name)).collect::<Vec<_>>(),
        )
        .expect("add");
    let shapes = [
        Shape::Good,
        Shape::NoPfs,
        Shape::NoStarttls,
        Shape::Untestable,
    ];
    for (name, shape) in names.iter().zip(shapes) {
        store
            .record_result(None, &result(name, shape, day(0)), 14)
            .expect("record");
    }
    store
        .refresh_rollup(Some(list), day(0))
        .expect("rollup day 0");
    // Next day only one domain is rescanned: the curve moves by one domain.
    store
        .record_result(None, &result("c.example", Shape::Good, day(1)), 14)
        .expect("record");
    store
        .refresh_rollup(Some(list), day(1))
        .expect("rollup day 1");
    let points = store.trends(Some(list), None).expect("trends");
    assert_eq!(points.len(), 2);
    let first = &points[0].domains;
    assert_eq!((first.total, first.untestable, first.testable), (4, 1, 3));
    assert_eq!(
        (
            first.starttls,
            first.pfs,
            first.strict_valid,
            first.all_three
        ),
        (2, 1, 2, 1)
    );
    let second = &points[1].domains;
    assert_eq!(
        (
            second.total,
            second.testable,
            second.starttls,
            second.all_three
        ),
        (4, 3, 3, 2)
    );
    assert_eq!(points[0].date.to_string(), "2026-01-10");
    assert_eq!(points[1].date.to_string(), "2026-01-11");
    assert_eq!(points[1].mx_hosts.total, 4);
    assert_eq!(points[1].mx_hosts.untestable, 1);
    assert_eq!(points[1].tls_versions.get("TLSv1.3"), Some(&2));
    // Recomputing a past day uses what was known then, not now.
    store
        .refresh_rollup(Some(list), day(0))
        .expect("recompute day 0");
    let again = store.trends(Some(list), None).expect("trends");
    assert_eq!(again[0].domains.starttls, 2);
    let since = store
        .trends(Some(list), Some(day(1).date()))
        .expect("trends since");
    assert_eq!(since.len(), 1);
}

#[test]
fn latest_rows_filter_by_list_verdict_and_text() {
    let store = Store::open_in_memory().expect("store");
    let list = store.create_list("L").expect("list");
    store
        .add_domains(
            Some(list),
            &[domain("alpha.example"), domain("beta.example")],
        )
        .expect("add");
    store
        .add_domains(None, &[domain("gamma.example")])
        .expect("add");
    store
        .record_result(None, &result("alpha.example", Shape::Good, day(0)), 14)
        .expect("record");
    store
        .record_result(None, &result("beta.example", Shape::NoStarttls, day(0)), 14)
        .expect("record");
    let all = store.latest(&LatestFilter::default()).expect("latest");
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].domain, domain("gamma.example"));
    assert_eq!(all[2].verdict, None, "never probed");
    let in_list = store
        .latest(&LatestFilter {
            list: Some(list),
            ..LatestFilter::default()
        })
        .expect("latest");
    assert_eq!(in_list.len(), 2);
    let bad = store
        .latest(&LatestFilter {
            verdict: Some(Verdict::NoStarttls),
            ..LatestFilter::default()
        })
        .expect("latest");
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].domain, domain("beta.example"));
    let text = store
        .latest(&LatestFilter {
            text: Some("ALP".into()),
            ..LatestFilter::default()
        })
        .expect("latest");
    assert_eq!(text.len(), 1);
    assert_eq!(text[0].provider.as_deref(), Some("alpha.example"));
    let providers = store.providers(None, 10).expect("providers");
    assert_eq!(providers.len(), 2);
}

#[test]
fn count_present_changes_nothing_and_latest_results_stream_by_name() {
    let store = Store::open_in_memory().expect("store");
    let list = store.create_list("Customers").expect("list");
    store
        .add_domains(Some(list), &[domain("b.example"), domain("a.example")])
        .expect("add");
    store
        .add_domains(None, &[domain("elsewhere.example")])
        .expect("add");
    let asked = [
        domain("a.example"),
        domain("new.example"),
        domain("a.example"),
        domain("elsewhere.example"),
    ];
    assert_eq!(store.count_present(&asked).expect("count"), 2);
    assert_eq!(store.domain_count(None).expect("count"), 3);

    store
        .record_result(None, &result("a.example", Shape::NoPfs, day(0)), 14)
        .expect("record");
    store
        .record_result(None, &result("a.example", Shape::NoPfs, day(1)), 14)
        .expect("same state, run extended");
    let mut seen = Vec::new();
    store
        .each_latest_result(Some(list), |name, latest| {
            seen.push((name.to_string(), latest.map(|r| (r.verdict, r.probed_at))));
            Ok::<(), StoreError>(())
        })
        .expect("walk");
    assert_eq!(
        seen,
        [
            ("a.example".to_string(), Some((Verdict::TlsOk, day(1)))),
            ("b.example".to_string(), None),
        ]
    );
    // The visitor's error stops the walk.
    let mut visits = 0;
    let stopped = store.each_latest_result(None, |_, _| {
        visits += 1;
        Err(StoreError::Invalid("stop".into()))
    });
    assert!(matches!(stopped, Err(StoreError::Invalid(_))));
    assert_eq!(visits, 1);
}

/// DESIGN.md "Stale state": a scan through a dead DNS server leaves every domain's last known
/// state in the table, the results, the roll-ups and the provider breakdown, counted once more
/// in `stale`; NXDOMAIN replaces the state at once; past the window the domain is untestable.
#[test]
fn an_outage_keeps_the_last_known_state_marked_stale() {
    let store = Store::open_in_memory().expect("store");
    let list = store.create_list("L").expect("list");
    let names = [
        "a.example",
        "b.example",
        "c.example",
        "d.example",
        "e.example",
    ];
    store
        .add_domains(
            Some(list),
            &names[..4]
                .iter()
                .map(|name| domain(name))
                .collect::<Vec<_>>(),
        )
        .expect("add");
    store
        .add_domains(None, &[domain("e.example")])
        .expect("add outside the list");
    // A good scan: a, b secure; c without STARTTLS; d never answers; e secure.
    let shapes = [
        Shape::Good,
        Shape::Good,
        Shape::NoStarttls,
        Shape::Untestable,
        Shape::Good,
    ];
    for (name, shape) in names.iter().zip(shapes) {
        let outcome = store
            .record_result(None, &result(name, shape, day(0)), 14)
            .expect("record");
        assert_eq!(outcome.last_known, None, "{name}: a first result stands");
    }
    store.refresh_rollup(Some(list), day(0)).expect("rollup");
    store.refresh_rollup(None, day(0)).expect("rollup");
    let before = store.trends(Some(list), None).expect("trends")[0]
        .domains
        .clone();
    assert_eq!((before.testable, before.all_three), (3, 2));
    assert_eq!((before.untestable, before.stale), (1, 0));

    // Two hours later, a scan through a dead DNS server; e.example is really gone.
    let outage = day(0) + time::Duration::hours(2);
    for name in &names[..4] {
        let outcome = store
            .record_result(None, &dns_failure(name, DnsError::Timeout, outage), 14)
            .expect("record");
        assert!(outcome.events.is_empty(), "{name}: no change event");
        if *name == "d.example" {
            assert_eq!(outcome.last_known, None, "never testable: nothing to keep");
        } else {
            let known = outcome.last_known.expect("the last known result");
            assert_eq!(known.probed_at, day(0), "{name}");
            assert_eq!(outcome.stale_since, Some(outage), "{name}");
        }
    }
    let gone = store
        .record_result(
            None,
            &dns_failure("e.example", DnsError::Nxdomain, outage),
            14,
        )
        .expect("record");
    assert_eq!(gone.last_known, None, "NXDOMAIN replaces the state at once");
    // The same outage seen again an hour later extends its run; stale since the first probe.
    let again = outage + time::Duration::hours(1);
    let outcome = store
        .record_result(
            None,
            &dns_failure("a.example", DnsError::Timeout, again),
            14,
        )
        .expect("record");
    assert!(!outcome.new_run);
    assert_eq!(outcome.stale_since, Some(outage));
    store.refresh_rollup(Some(list), again).expect("rollup");
    store.refresh_rollup(None, again).expect("rollup");

    let rows = store.latest(&LatestFilter::default()).expect("latest");
    let row = |name: &str| {
        rows.iter()
            .find(|row| row.domain.as_str() == name)
            .expect("a row")
    };
    let a = row("a.example");
    assert_eq!(a.verdict, Some(Verdict::TlsOk), "the last known verdict");
    assert_eq!(a.strict_valid, Some(true));
    assert_eq!(a.provider.as_deref(), Some("a.example"));
    assert_eq!(a.last_probed, Some(again), "probed since");
    assert_eq!(a.state_since, Some(day(0)));
    let stale = a.stale.as_ref().expect("marked stale");
    assert_eq!(stale.since, outage);
    assert_eq!(stale.last_known_at, day(0));
    assert_eq!(stale.why, "DNS timeout");
    assert_eq!(row("b.example").verdict, Some(Verdict::TlsOk));
    assert_eq!(row("c.example").verdict, Some(Verdict::NoStarttls));
    assert!(row("c.example").stale.is_some());
    assert_eq!(row("d.example").verdict, Some(Verdict::Untestable));
    assert_eq!(row("d.example").stale, None, "never testable: untestable");
    assert_eq!(row("e.example").verdict, Some(Verdict::Untestable));
    assert_eq!(row("e.example").stale, None, "NXDOMAIN: not stale");
    let secure = store
        .latest(&LatestFilter {
            list: Some(list),
            verdict: Some(Verdict::TlsOk),
            ..LatestFilter::default()
        })
        .expect("latest");
    assert_eq!(
        secure.len(),
        2,
        "the verdict filter sees the last known verdict"
    );

    let points = store.trends(Some(list), None).expect("trends");
    assert_eq!(points.len(), 1, "the same UTC day");
    let after = &points[0].domains;
    assert_eq!(
        (
            after.total,
            after.testable,
            after.starttls,
            after.pfs,
            after.strict_valid,
            after.all_three,
            after.untestable
        ),
        (
            before.total,
            before.testable,
            before.starttls,
            before.pfs,
            before.strict_valid,
            before.all_three,
            before.untestable
        ),
        "the roll-up and its headline are unchanged"
    );
    assert_eq!(after.stale, 3, "the three testable domains are stale");
    let json = serde_json::to_value(points[0].contract()).expect("serializes");
    assert_eq!(json["domains"]["stale"], 3);
    assert_eq!(json["domains"]["all_three"], 2);
    assert_eq!(
        points[0].mx_hosts.testable, 3,
        "their MX hosts as last known"
    );
    assert_eq!(points[0].tls_versions.get("TLSv1.3"), Some(&2));
    let everything = &store.trends(None, None).expect("trends")[0].domains;
    assert_eq!(
        (everything.testable, everything.untestable, everything.stale),
        (3, 2, 3),
        "e.example is gone (NXDOMAIN) at once, not stale"
    );

    // The full result: untestable, with the last known result nested and since when.
    let latest = store
        .latest_result(&domain("a.example"))
        .expect("query")
        .expect("a result");
    assert_eq!(latest.verdict, Verdict::Untestable);
    assert_eq!(latest.probed_at, again);
    assert_eq!(latest.stale_since, Some(outage));
    let known = latest.last_known.as_deref().expect("last known");
    assert_eq!(known.verdict, Verdict::TlsOk);
    assert_eq!(known.probed_at, day(0));
    assert!(known.last_known.is_none());
    let mut walked = Vec::new();
    store
        .each_latest_result(Some(list), |name, result| {
            let result = result.expect("probed");
            walked.push((
                name.to_string(),
                result.stale_since.is_some(),
                result.last_known.map(|known| known.verdict),
            ));
            Ok::<(), StoreError>(())
        })
        .expect("walk");
    assert_eq!(
        walked,
        [
            ("a.example".to_string(), true, Some(Verdict::TlsOk)),
            ("b.example".to_string(), true, Some(Verdict::TlsOk)),
            ("c.example".to_string(), true, Some(Verdict::NoStarttls)),
            ("d.example".to_string(), false, None),
        ]
    );
    let history = store.history(&domain("a.example")).expect("history");
    assert!(
        history
            .iter()
            .all(|run| run.result.last_known.is_none() && run.result.stale_since.is_none()),
        "the store keeps what the probe saw; stale state is worked out when read"
    );
    let providers = store.providers(None, 10).expect("providers");
    let of = |name: &str| {
        providers
            .iter()
            .find(|row| row.provider == name)
            .map(|row| row.counts.clone())
    };
    let a_counts = of("a.example").expect("a.example by its last known provider");
    assert_eq!((a_counts.all_three, a_counts.stale), (1, 1));
    assert_eq!(of("e.example"), None, "gone: no MX, no provider");

    // Past the window (7 days after the last known state) the domain is untestable.
    let later = day(8);
    store
        .record_result(
            None,
            &dns_failure("a.example", DnsError::Timeout, later),
            14,
        )
        .expect("record");
    let row = store
        .latest(&LatestFilter {
            text: Some("a.example".into()),
            ..LatestFilter::default()
        })
        .expect("latest")
        .remove(0);
    assert_eq!(row.verdict, Some(Verdict::Untestable));
    assert_eq!(row.stale, None);
    store.refresh_rollup(Some(list), later).expect("rollup");
    let points = store.trends(Some(list), None).expect("trends");
    let last = &points[1].domains;
    assert_eq!(
        (last.stale, last.untestable),
        (2, 2),
        "a is untestable now; b and c were last probed within their window"
    );
}

#[test]
fn the_tls_grade_is_graded_again_from_the_stored_session_facts() {
    use starttls_monitor::model::TlsGrade;
    let store = Store::open_in_memory().expect("store");
    store
        .add_domains(
            None,
            &[
                domain("graded.example"),
                domain("old.example"),
                domain("wrong.example"),
            ],
        )
        .expect("add");
    // TLS 1.2 with RSA key exchange: phase out, by the table.
    let graded = result("graded.example", Shape::NoPfs, day(0));
    store.record_result(None, &graded, 14).expect("record");
    // Stored before grading existed: no grade recorded, the facts (TLS 1.3) are there.
    let mut old = result("old.example", Shape::Good, day(0));
    old.tls_grade = None;
    for address in old.mx.iter_mut().flat_map(|host| &mut host.addresses) {
        address.tls_grade = None;
    }
    store.record_result(None, &old, 14).expect("record");
    // A grade that disagrees with the recorded session (an older table) is not trusted.
    let mut wrong = result("wrong.example", Shape::Good, day(0));
    wrong.tls_grade = Some(TlsGrade::Insufficient);
    for address in wrong.mx.iter_mut().flat_map(|host| &mut host.addresses) {
        address.tls_grade = Some(TlsGrade::Insufficient);
    }
    store.record_result(None, &wrong, 14).expect("record");
    let rows = store.latest(&LatestFilter::default()).expect("latest");
    let grade_of = |name: &str| {
        rows.iter()
            .find(|row| row.domain.as_str() == name)
            .and_then(|row| row.tls_grade)
    };
    assert_eq!(grade_of("graded.example"), Some(TlsGrade::PhaseOut));
    assert_eq!(
        grade_of("old.example"),
        Some(TlsGrade::Good),
        "graded from its facts"
    );
    assert_eq!(
        grade_of("wrong.example"),
        Some(TlsGrade::Good),
        "the facts win"
    );
    assert_eq!(
        starttls_monitor::store::latest_row_of(&graded).tls_grade,
        Some(TlsGrade::PhaseOut),
        "the row a fresh result gives matches the stored one"
    );
    for (name, grade) in [
        ("graded.example", TlsGrade::PhaseOut),
        ("old.example", TlsGrade::Good),
        ("wrong.example", TlsGrade::Good),
    ] {
        let back = store
            .latest_result(&domain(name))
            .expect("read")
            .expect("a result");
        assert_eq!(back.tls_grade, Some(grade), "{name}");
        assert_eq!(back.mx[0].addresses[0].tls_grade, Some(grade), "{name}");
    }
}

#[test]
fn dnssec_and_dane_fields_are_kept_and_rows_stored_before_them_read_back_without() {
    use starttls_monitor::model::auth::{
        DaneSetStatus, DaneStatus, DaneWarning, DnssecStatus, TlsaRecord,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("monitor.sqlite3");
    let record: TlsaRecord =
        "3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
            .parse()
            .expect("a TLSA record");
    let mut dane = result("dane.example", Shape::Good, day(0));
    dane.dnssec = Some(DnssecStatus::Secure);
    dane.dane = Some(DaneSetStatus::Valid);
    dane.dane_warnings = vec![DaneWarning::MxSignatureExpiring];
    for host in &mut dane.mx {
        host.dnssec = Some(DnssecStatus::Secure);
        host.tlsa = Some(vec![record.clone()]);
        host.tlsa_dnssec = Some(DnssecStatus::Secure);
        host.dane = Some(DaneSetStatus::Valid);
        host.dane_warnings = vec![DaneWarning::NoRolloverKey];
        for address in &mut host.addresses {
            address.dane = Some(DaneStatus::Valid);
            address.dane_matched = Some(record.clone());
        }
    }
    // The store grades every result again from its session facts when it reads it.
    starttls_monitor::model::tls_grade::regrade(&mut dane);
    {
        let store = Store::open(&path).expect("store");
        store
            .add_domains(None, &[domain("dane.example")])
            .expect("add");
        store.record_result(None, &dane, 14).expect("record");
        let back = store
            .latest_result(&domain("dane.example"))
            .expect("read")
            .expect("a result");
        assert_eq!(back, dane, "every DNSSEC/DANE field survives the store");
    }
    // Make the stored row what an older build wrote: none of the new keys.
    let connection = rusqlite::Connection::open(&path).expect("open the file");
    // Results are stored in parts: the domain's shape and its MX host's shared facts.
    let read = |sql: &str| -> serde_json::Value {
        let text: String = connection
            .query_row(sql, [], |row| row.get(0))
            .expect("one part");
        serde_json::from_str(&text).expect("JSON")
    };
    let mut shape = read("SELECT facts FROM shapes");
    let mut host = read("SELECT facts FROM host_runs");
    let strip = |object: &mut serde_json::Value, keys: &[&str]| {
        let map = object.as_object_mut().expect("an object");
        for key in keys {
            assert!(map.remove(*key).is_some(), "the new build writes {key}");
        }
    };
    strip(&mut shape, &["dnssec", "dane", "dane_warnings"]);
    strip(
        &mut host,
        &["dnssec", "tlsa", "tlsa_dnssec", "dane", "dane_warnings"],
    );
    for address in host["addresses"].as_array_mut().expect("addresses") {
        strip(address, &["dane", "dane_matched"]);
    }
    connection
        .execute("UPDATE shapes SET facts = ?1", [shape.to_string()])
        .expect("rewrite");
    connection
        .execute("UPDATE host_runs SET facts = ?1", [host.to_string()])
        .expect("rewrite");
    drop(connection);
    let store = Store::open(&path).expect("store");
    let old = store
        .latest_result(&domain("dane.example"))
        .expect("an old row reads")
        .expect("a result");
    assert_eq!((old.dnssec, old.dane), (None, None));
    assert!(old.dane_warnings.is_empty());
    let host = &old.mx[0];
    assert_eq!(
        (host.dnssec, host.tlsa_dnssec, host.dane),
        (None, None, None)
    );
    assert_eq!(host.tlsa, None);
    assert!(host.dane_warnings.is_empty());
    assert_eq!(host.addresses[0].dane, None);
    assert_eq!(host.addresses[0].dane_matched, None);
    assert_eq!(old.verdict, dane.verdict, "the rest as stored");
    assert_eq!(
        old.mx[0].addresses[0].cert_sha256,
        dane.mx[0].addresses[0].cert_sha256
    );
}

/// The domains table's DANE, MTA-STS and sender columns come from the stored result: the same
/// as the row a fresh result gives (`latest_row_of`, used while a scan runs), none for a result
/// stored before the facts existed, and the last known state's while a domain is stale.
#[test]
fn latest_rows_carry_dane_mta_sts_and_the_sender_view_of_the_state_shown() {
    use fixtures_auth::{TLSA_EE, with_dane};
    use starttls_monitor::model::auth::{DaneSetStatus, DaneStatus, MtaStsOutcome};
    use starttls_monitor::store::{RowAuth, latest_row_of};

    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("monitor.sqlite3")).expect("store");
    let failed = with_dane(
        result("renewed.example", Shape::Good, day(0)),
        &[TLSA_EE],
        DaneStatus::Failed,
    );
    let older = result("older.example", Shape::Good, day(0));
    store
        .add_domains(None, &[domain("renewed.example"), domain("older.example")])
        .expect("add");
    for result in [&failed, &older] {
        store.record_result(None, result, 14).expect("record");
    }
    let auth_of = |store: &Store, name: &str| {
        store
            .latest(&LatestFilter::default())
            .expect("latest")
            .into_iter()
            .find(|row| row.domain.as_str() == name)
            .expect("the row")
            .auth
    };
    let stored = auth_of(&store, "renewed.example");
    assert_eq!(stored.dane, Some(DaneSetStatus::Failed));
    assert_eq!(stored.mta_sts, Some(MtaStsOutcome::None));
    assert_eq!(stored.at_risk(), Some(true));
    assert!(!stored.authenticated());
    assert_eq!(
        stored,
        latest_row_of(&failed).auth,
        "as a fresh result's row"
    );
    assert_eq!(auth_of(&store, "older.example"), RowAuth::default());
    // An outage: the row keeps the last known state, its authentication facts too.
    store
        .record_result(
            None,
            &dns_failure("renewed.example", DnsError::Timeout, day(1)),
            14,
        )
        .expect("record");
    let stale_row = store
        .latest(&LatestFilter::default())
        .expect("latest")
        .into_iter()
        .find(|row| row.domain.as_str() == "renewed.example")
        .expect("the row");
    assert!(stale_row.stale.is_some(), "kept as its last known state");
    assert_eq!(stale_row.auth, stored);
}

#[test]
fn every_row_at_once_is_the_same_as_page_by_page() {
    // More rows than the store reads in one batch (the whole table is read on two threads, a
    // page on one): the same rows either way, in name order, the stale ones marked.
    let store = Store::open_in_memory().expect("store");
    let count = 5_000;
    let names: Vec<_> = (0..count)
        .map(|index| domain(&format!("d{index:05}.example")))
        .collect();
    store.add_domains(None, &names).expect("add");
    let shapes = [Shape::Good, Shape::BadCert, Shape::NoPfs, Shape::NoStarttls];
    let expiry = day(120);
    for (index, name) in names.iter().enumerate() {
        let host = format!("mx{}.provider{}.example", index % 7, index % 3);
        let first = result_with(name.as_str(), &host, shapes[index % 4], day(-2), expiry);
        store.record_result(None, &first, 14).expect("record");
        if index % 10 == 3 {
            // Unreachable since: keeps its last known state, marked stale.
            let outage = result_with(name.as_str(), &host, Shape::Untestable, day(-1), expiry);
            store.record_result(None, &outage, 14).expect("record");
        }
    }
    let all = store.latest(&LatestFilter::default()).expect("all rows");
    assert_eq!(all.len(), count);
    assert!(
        all.windows(2).all(|pair| pair[0].domain < pair[1].domain),
        "by name"
    );
    let stale: Vec<_> = all.iter().filter(|row| row.stale.is_some()).collect();
    assert_eq!(stale.len(), count / 10);
    assert!(
        stale
            .iter()
            .all(|row| row.verdict != Some(Verdict::Untestable))
    );
    assert_eq!(
        all[1].provider.as_deref(),
        Some("provider1.example"),
        "{:?}",
        all[1]
    );

    let mut paged = Vec::new();
    loop {
        let page = store
            .latest(&LatestFilter {
                offset: paged.len(),
                limit: Some(700),
                ..LatestFilter::default()
            })
            .expect("a page");
        if page.is_empty() {
            break;
        }
        paged.extend(page);
    }
    assert_eq!(paged, all);

    // With a verdict filter, the same rows as filtering all of them.
    let no_starttls = store
        .latest(&LatestFilter {
            verdict: Some(Verdict::NoStarttls),
            ..LatestFilter::default()
        })
        .expect("by verdict");
    let expected: Vec<_> = all
        .iter()
        .filter(|row| row.verdict == Some(Verdict::NoStarttls))
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(no_starttls, expected);
}
