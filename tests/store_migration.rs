//! Results stored in shared parts (schema 9) answer exactly as the full copies of schema 8 did,
//! a run's MX set read from its shape (schema 10) is the set schema 9 stored with the run, and
//! the last known run kept beside each domain's latest (schema 11) is the one recording keeps.
//!
//! A varied history (50 domains behind 6 provider hosts over 12 daily scans: state changes,
//! outages that keep the last known state, DNS failures, DANE and MTA-STS facts, a list with
//! mail volumes) is written by this build; every query the app and reports use is asked; then
//! the file is taken back to how schema 8 stored results — one full result JSON per run, the
//! result that began the run, as that build wrote it, and MX rows per run — and opened again,
//! which migrates it.
//! Every answer must be the same, the history must be the results that began each run, and an
//! unchanged domain probed again must extend its migrated run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod fixtures;
#[path = "fixtures/auth.rs"]
mod fixtures_auth;

use fixtures::{Shape, dns_failure, domain, result_with};
use fixtures_auth::{unsigned, with_dane, with_sts};
use rusqlite::{Connection, params};
use starttls_monitor::model::auth::{DaneStatus, StsMode};
use starttls_monitor::model::{DnsError, DomainName, DomainResult, Weight};
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{LatestFilter, ListId, ScanCounts, ScanScope, ScanStatus, Store};
use time::OffsetDateTime;

const DOMAINS: usize = 50;
const DAYS: i64 = 12;
const TLSA: &str = "3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The test's "now", fixed once so a result probed again is the same state.
static NOW: std::sync::LazyLock<OffsetDateTime> = std::sync::LazyLock::new(|| {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("a valid time")
});

fn day(days: i64) -> OffsetDateTime {
    *NOW - time::Duration::days(DAYS - days)
}

/// What domain `index` answered on `day`: a provider host, a shape that changes now and then,
/// authenticated-transport facts for some, outages and DNS failures on some days.
fn probe(index: usize, day_index: i64) -> DomainResult {
    let name = format!("d{index:02}.example");
    let host = format!("mx{}.provider{}.example", index % 3, index % 6);
    let at = day(day_index) + time::Duration::seconds(index as i64);
    let expiry = day(0) + time::Duration::days(20 + (index % 4) as i64 * 30);
    if index % 11 == 5 && day_index % 5 == 4 {
        return dns_failure(&name, DnsError::Servfail, at);
    }
    let shapes = [Shape::Good, Shape::BadCert, Shape::NoPfs, Shape::NoStarttls];
    let changes = (day_index as usize * (index % 3)) / 4;
    let shape = if index % 7 == 3 && ((3..6).contains(&day_index) || day_index >= DAYS - 2) {
        Shape::Untestable
    } else {
        shapes[(index + changes) % shapes.len()]
    };
    let result = result_with(&name, &host, shape, at, expiry);
    match index % 5 {
        0 => with_dane(result, &[TLSA], DaneStatus::Valid),
        1 => with_sts(result, StsMode::Enforce, &["*.provider1.example"], at),
        2 => unsigned(result),
        _ => result,
    }
}

/// Every answer the app and the reports ask for, as text (some types have no `PartialEq`).
fn answers(store: &Store, names: &[DomainName], list: ListId) -> Vec<String> {
    let mut answers = Vec::new();
    for scope in [None, Some(list)] {
        answers.push(format!("{:?}", store.trends(scope, None).unwrap()));
        answers.push(format!(
            "{:?}",
            store
                .latest(&LatestFilter {
                    list: scope,
                    ..LatestFilter::default()
                })
                .unwrap()
        ));
        answers.push(format!(
            "{:?}",
            store.events(scope, None, None, 1000).unwrap()
        ));
        answers.push(format!("{:?}", store.providers(scope, 100).unwrap()));
        let mut all = Vec::new();
        store
            .each_latest_result::<starttls_monitor::store::StoreError>(scope, |name, result| {
                all.push(format!("{name}: {result:?}"));
                Ok(())
            })
            .unwrap();
        answers.push(all.join("\n"));
    }
    for name in names {
        answers.push(format!("{:?}", store.history(name).unwrap()));
        answers.push(format!("{:?}", store.latest_result(name).unwrap()));
    }
    answers
}

/// Takes schema 11's domains back to schema 10: no last known run kept beside the latest.
const WITHOUT_KNOWN_RUN: &str = "ALTER TABLE domains DROP COLUMN known_run_id;
             ALTER TABLE domains DROP COLUMN stale_since;";

/// Takes schema 10's runs back to a copy of the MX set in each (`runs.mx_hosts`, schemas 1–9).
const MX_SET_PER_RUN: &str = "ALTER TABLE runs ADD COLUMN mx_hosts TEXT NOT NULL DEFAULT '';
             UPDATE runs SET mx_hosts = coalesce(mx_hosts_kept,
                (SELECT group_concat(m.host, ' ' ORDER BY m.host) FROM shape_mx m
                 WHERE m.shape_id = runs.shape_id), '');
             ALTER TABLE runs DROP COLUMN mx_hosts_kept;";

/// Takes the file back to schema 8: `runs.result` holds the result that began each run (as
/// that build stored it: without the store's own stale fields), and the parts are gone.
fn back_to_schema_8(path: &std::path::Path, began: &[(i64, DomainResult)]) {
    let connection = Connection::open(path).unwrap();
    connection.execute_batch(WITHOUT_KNOWN_RUN).unwrap();
    connection.execute_batch(MX_SET_PER_RUN).unwrap();
    connection
        .execute_batch(
            "ALTER TABLE runs ADD COLUMN result TEXT NOT NULL DEFAULT '';
             CREATE TABLE run_mx (
                run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                host TEXT NOT NULL, verdict TEXT NOT NULL, starttls INTEGER, pfs INTEGER,
                strict_valid INTEGER, tls_grade TEXT, dane TEXT, sts_passes INTEGER,
                authenticated INTEGER, at_risk INTEGER, PRIMARY KEY (run_id, host)) WITHOUT ROWID;
             INSERT INTO run_mx SELECT r.id, m.host, m.verdict, m.starttls, m.pfs, m.strict_valid,
                m.tls_grade, m.dane, m.sts_passes, m.authenticated, m.at_risk
                FROM runs r JOIN shape_mx m ON m.shape_id = r.shape_id;
             ALTER TABLE runs DROP COLUMN shape_id; ALTER TABLE runs DROP COLUMN probed_at_ns;
             DROP TABLE host_runs; DROP TABLE shapes; DROP TABLE shape_mx;
             PRAGMA user_version = 8;",
        )
        .unwrap();
    for (run, result) in began {
        let mut json = serde_json::to_value(result).unwrap();
        let object = json.as_object_mut().unwrap();
        object.remove("stale_since");
        object.remove("last_known");
        let changed = connection
            .execute(
                "UPDATE runs SET result = ?1 WHERE id = ?2",
                params![json.to_string(), run],
            )
            .unwrap();
        assert_eq!(changed, 1, "run {run} exists");
    }
    let empty: i64 = connection
        .query_row("SELECT count(*) FROM runs WHERE result = ''", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(empty, 0, "every run has its result");
}

/// The history's domains.
fn history_names() -> Vec<DomainName> {
    (0..DOMAINS)
        .map(|index| domain(&format!("d{index:02}.example")))
        .collect()
}

/// Every answer after the migration is the one before it.
fn assert_same_answers(after: &[String], before: &[String]) {
    assert_eq!(after.len(), before.len());
    for (index, (after, before)) in after.iter().zip(before).enumerate() {
        assert_eq!(
            after, before,
            "answer {index} is the same after the migration"
        );
    }
}

/// Writes the varied history with this build: the list with mail volumes, and the result
/// that began each run (runs are numbered in the order they begin).
fn write_history(store: &Store, names: &[DomainName]) -> (ListId, Vec<(i64, DomainResult)>) {
    let mut began: Vec<(i64, DomainResult)> = Vec::new();
    store.add_domains(None, names).unwrap();
    let list = store.create_list("Customers").unwrap();
    store.add_domains(Some(list), &names[..30]).unwrap();
    let weights: Vec<(DomainName, Weight)> = names[..30]
        .iter()
        .enumerate()
        .map(|(index, name)| {
            (
                name.clone(),
                Weight::new(1000.0 / (index + 1) as f64).unwrap(),
            )
        })
        .collect();
    store.set_weights(list, &weights).unwrap();
    for day_index in 0..DAYS {
        let scan = store
            .begin_scan(&ScanScope::All, &Settings::default(), DOMAINS)
            .unwrap();
        let mut counts = ScanCounts::default();
        for index in 0..DOMAINS {
            let result = probe(index, day_index);
            let outcome = store.record_result(Some(scan), &result, 30).unwrap();
            if outcome.new_run {
                began.push((began.len() as i64 + 1, result.clone()));
            }
            counts.add(&result);
        }
        store
            .finish_scan(scan, ScanStatus::Finished, &counts)
            .unwrap();
        store.refresh_rollup(None, day(day_index)).unwrap();
        store.refresh_rollup(Some(list), day(day_index)).unwrap();
    }
    (list, began)
}

#[test]
fn a_migrated_database_answers_like_the_one_it_migrates_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitor.sqlite3");
    let names = history_names();
    let (list, began, before);
    {
        let store = Store::open(&path).unwrap();
        (list, began) = write_history(&store, &names);
        before = answers(&store, &names, list);
        // The history is the results that began each run.
        for name in &names {
            let history = store.history(name).unwrap();
            let mut expected: Vec<&DomainResult> = began
                .iter()
                .filter(|(_, result)| &result.domain == name)
                .map(|(_, result)| result)
                .collect();
            expected.reverse();
            assert_eq!(history.len(), expected.len(), "{name}");
            for (run, result) in history.iter().zip(expected) {
                let mut stored = result.clone();
                stored.stale_since = None;
                stored.last_known = None;
                starttls_monitor::model::tls_grade::regrade(&mut stored);
                assert_eq!(run.result, stored, "{name}: read back as recorded");
            }
        }
        let connection = Connection::open(&path).unwrap();
        let count = |table: &str| -> i64 {
            connection
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                    row.get(0)
                })
                .unwrap()
        };
        let (host_runs, shapes, runs) = (count("host_runs"), count("shapes"), count("runs"));
        assert!(runs as usize > DOMAINS, "the history has state changes");
        assert!(
            host_runs < runs && shapes < runs,
            "parts are shared: {host_runs} host runs and {shapes} shapes for {runs} runs"
        );
    }
    assert!(
        began.len() > DOMAINS * 2,
        "a varied history: {} runs",
        began.len()
    );
    assert!(
        before
            .iter()
            .any(|answer| answer.contains("last_known: Some")),
        "some domain keeps its last known state"
    );

    back_to_schema_8(&path, &began);
    let store = Store::open(&path).expect("a schema 8 database migrates");
    let after = answers(&store, &names, list);
    assert_same_answers(&after, &before);
    store.integrity_check().unwrap();

    // An unchanged domain probed again extends its migrated run (the fingerprints were
    // recomputed the way new results are fingerprinted).
    let again = {
        let mut again = probe(7, DAYS - 1);
        again.probed_at = *NOW + time::Duration::minutes(5);
        again
    };
    let runs_before = store.history(&again.domain).unwrap().len();
    let outcome = store.record_result(None, &again, 30).unwrap();
    assert!(!outcome.new_run, "the same state extends the migrated run");
    assert!(outcome.events.is_empty(), "{:?}", outcome.events);
    assert_eq!(store.history(&again.domain).unwrap().len(), runs_before);
}

/// Takes the file back to schema 9: each run carries its MX set (`runs.mx_hosts`) again.
fn back_to_schema_9(connection: &Connection) {
    connection
        .execute_batch(&format!(
            "{WITHOUT_KNOWN_RUN} {MX_SET_PER_RUN} PRAGMA user_version = 9;"
        ))
        .unwrap();
}

#[test]
fn a_schema_9_database_keeps_the_mx_set_of_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitor.sqlite3");
    let at = *NOW - time::Duration::days(2);
    let expiry = *NOW + time::Duration::days(90);
    let first = |name: &str| result_with(name, "mx1.provider.example", Shape::Good, at, expiry);
    {
        let store = Store::open(&path).unwrap();
        for name in ["a.example", "b.example"] {
            store.record_result(None, &first(name), 14).unwrap();
        }
    }
    {
        let connection = Connection::open(&path).unwrap();
        back_to_schema_9(&connection);
        let sets: Vec<String> = connection
            .prepare("SELECT mx_hosts FROM runs ORDER BY id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(sets, ["mx1.provider.example", "mx1.provider.example"]);
        // A run whose stored set is not its shape's (as an unreadable run migrated to schema 9
        // may be) keeps its own.
        connection
            .execute(
                "UPDATE runs SET mx_hosts = 'legacy.example' WHERE domain_id =
                 (SELECT id FROM domains WHERE name = 'b.example')",
                [],
            )
            .unwrap();
    }
    let store = Store::open(&path).expect("a schema 9 database migrates");
    store.integrity_check().unwrap();
    let connection = Connection::open(&path).unwrap();
    let columns: Vec<String> = connection
        .prepare("SELECT name FROM pragma_table_info('runs')")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        !columns.iter().any(|column| column == "mx_hosts"),
        "{columns:?}"
    );
    let kept: i64 = connection
        .query_row(
            "SELECT count(*) FROM runs WHERE mx_hosts_kept IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1, "only the run whose set differs keeps a copy");

    // The MX change events compare with each run's own set, as before the migration.
    let moved = |name: &str| {
        let result = result_with(name, "mx2.provider.example", Shape::Good, *NOW, expiry);
        let outcome = store.record_result(None, &result, 14).unwrap();
        assert!(outcome.new_run);
        outcome
            .events
            .iter()
            .map(|event| event.detail.clone())
            .find(|detail| detail.starts_with("MX hosts changed"))
            .unwrap_or_else(|| panic!("{name}: an MX change event in {:?}", outcome.events))
    };
    assert_eq!(
        moved("a.example"),
        "MX hosts changed from [mx1.provider.example] to [mx2.provider.example]"
    );
    assert_eq!(
        moved("b.example"),
        "MX hosts changed from [legacy.example] to [mx2.provider.example]"
    );
    // An unchanged domain probed again extends its run and raises nothing.
    let again = result_with(
        "a.example",
        "mx2.provider.example",
        Shape::Good,
        *NOW + time::Duration::minutes(5),
        expiry,
    );
    let outcome = store.record_result(None, &again, 14).unwrap();
    assert!(!outcome.new_run);
    assert!(outcome.events.is_empty(), "{:?}", outcome.events);
}

/// Each domain's name, last known run and when the runs after it began, as the file keeps them.
fn known_runs(path: &std::path::Path) -> Vec<(String, Option<i64>, Option<i64>)> {
    Connection::open(path)
        .unwrap()
        .prepare("SELECT name, known_run_id, stale_since FROM domains ORDER BY name")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_schema_10_database_gets_the_last_known_run_of_each_domain_beside_its_latest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitor.sqlite3");
    let names = history_names();
    let (list, before) = {
        let store = Store::open(&path).unwrap();
        let (list, _) = write_history(&store, &names);
        (list, answers(&store, &names, list))
    };
    let recorded = known_runs(&path);
    let stale = recorded
        .iter()
        .filter(|(_, known, since)| known.is_some() && since.is_some())
        .count();
    assert!(
        stale > 0,
        "some domain keeps its last known run: {recorded:?}"
    );
    Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("{WITHOUT_KNOWN_RUN} PRAGMA user_version = 10;"))
        .unwrap();

    let store = Store::open(&path).expect("a schema 10 database migrates");
    store.integrity_check().unwrap();
    assert_eq!(
        known_runs(&path),
        recorded,
        "the migration keeps the runs that recording kept"
    );
    let after = answers(&store, &names, list);
    assert_same_answers(&after, &before);
}
