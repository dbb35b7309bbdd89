//! The database schema and its migrations.
//!
//! Versioned with SQLite's `user_version`; each migration runs in one transaction, so a file is
//! always at exactly one version. `application_id` marks the file as ours, so a foreign SQLite
//! file is refused instead of being written to. (Hand-rolled rather than `rusqlite_migration`,
//! whose current release pins an older rusqlite than the bundled SQLite we build against.)
//!
//! Storage model: results are stored as *runs*. A probe whose meaningful content (verdict,
//! outcomes, TLS facts, certificate fingerprint, MX set — not timings or greeting text) equals
//! the domain's current run only extends that run (`last_at`, `last_scan_id`, `times_seen`);
//! anything new starts a new run holding the full result JSON. History stays exact while a
//! year of daily scans of 100k stable domains stays small. Trend series are rolled up per list
//! and UTC day when scans finish (`rollups`). Since schema 2 each run also says whether it was a
//! definitive answer and why an untestable one was untestable (`model::stale`), so the store
//! finds the state that still counts for a domain whose latest run is untestable.
//!
//! A migration is SQL, optionally followed by code in the same transaction (reading stored
//! JSON); the pending steps run in one transaction and the roll-ups they change are recomputed
//! once at its end, with today's schema. Migrations already released are never edited.

use rusqlite::{Connection, OptionalExtension, Transaction};

use crate::model::{DomainResult, TlsGrade, Verdict};
use crate::model::{stale, tls_grade};
use crate::settings::Settings;

/// `PRAGMA application_id` of our files: "STMN".
pub const APPLICATION_ID: i32 = 0x5354_4d4e;

/// Each entry migrates from version `index` to `index + 1`: its SQL, then its code.
const MIGRATIONS: &[(&str, Option<MigrationCode>)] = &[
    (FIRST_SCHEMA, None),
    (STALE_STATE, Some(stale_state_code)),
    (SCAN_PATH, Some(scan_path_code)),
    (MAIL_VOLUME, None),
    (TLS_GRADE, Some(tls_grade_code)),
    (AUTH_COUNTS, Some(auth_counts_code)),
    (WEBHOOK_DELIVERIES, None),
    (NOTIFIED_AT, None),
    (SHARED_PARTS, Some(shared_parts_code)),
    (MX_SET_FROM_SHAPE, None),
    (KNOWN_RUN, Some(known_run_code)),
];

/// A migration step that SQL alone cannot do (it reads stored JSON); it runs in the migration's
/// transaction, after the step's SQL, and says which roll-ups the step changes. Roll-ups are
/// recomputed once, after the last pending step, because computing them needs today's schema.
type MigrationCode = fn(&Transaction<'_>) -> Result<Rollups, SchemaError>;

/// Which stored roll-ups a migration step leaves to recompute (the larger need wins).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rollups {
    /// None: the step changes no count.
    Keep,
    /// The days on which some domain may have kept its last known state (the stale rule).
    StaleDays,
    /// Every day (a new count).
    All,
}

/// 2 -> 3, the network path of each scan (issue "reach and alert"): `direct` or
/// `socks5://HOST:PORT` (never credentials), so Trends can mark where the vantage point
/// changed. Self-contained: it only adds the column; [`scan_path_code`] fills it.
const SCAN_PATH: &str = r#"
ALTER TABLE scans ADD COLUMN path TEXT;
"#;

/// Every scan stored before proxies existed went direct.
fn scan_path_code(transaction: &Transaction<'_>) -> Result<Rollups, SchemaError> {
    transaction.execute(
        "UPDATE scans SET path = ?1 WHERE path IS NULL",
        [crate::model::NetworkPath::Direct.to_string()],
    )?;
    Ok(Rollups::Keep)
}

/// 1 -> 2, stale state (`model::stale`): what each run answered, and why an untestable one
/// was untestable, so the store finds the state that still counts without reading results. The
/// code fills both for stored runs and recomputes the roll-ups the rule changes.
const STALE_STATE: &str = r#"
ALTER TABLE runs ADD COLUMN definitive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN untestable_why TEXT;
"#;

/// 3 -> 4, weights by mail volume (DESIGN.md "Weighted by mail volume"): a weight per list
/// membership (memberships stored before weigh 1), and the weighted counts of each roll-up
/// (`volume`, JSON of `model::adoption::VolumeCounts`; NULL for roll-ups written before, which
/// read as "no weighted figures", never as 0).
const MAIL_VOLUME: &str = r#"
ALTER TABLE list_domains ADD COLUMN weight REAL NOT NULL DEFAULT 1;
ALTER TABLE rollups ADD COLUMN volume TEXT;
"#;

/// 4 -> 5, weak TLS (`model::tls_grade`): the worst TLS grade of each run and of each of its
/// MX hosts, so roll-ups count `weak_tls` without reading results. The code grades every stored
/// run from its recorded session facts and recomputes every roll-up.
const TLS_GRADE: &str = r#"
ALTER TABLE runs ADD COLUMN tls_grade TEXT;
ALTER TABLE run_mx ADD COLUMN tls_grade TEXT;
"#;

/// 5 -> 6, authenticated-transport counts (DESIGN.md "Authenticated transport"): per run the
/// domain's `dane`, `mta_sts.outcome`, `sender.authenticated` / `sender.at_risk`, and what the
/// DANE / MTA-STS / TLS-RPT events compare (the policy and the TLS-RPT record as
/// `model::changes` summarizes them); per run and MX host its `dane`, `sts_passes` and the sender
/// rule over it alone. NULL for results without the facts: `runs.authenticated IS NULL` means
/// "stored before they existed", and such runs count in none of the new counts (null, not 0).
/// [`auth_counts_code`] fills them from the stored result JSON.
const AUTH_COUNTS: &str = r#"
ALTER TABLE runs ADD COLUMN dane TEXT;
ALTER TABLE runs ADD COLUMN sts_outcome TEXT;
ALTER TABLE runs ADD COLUMN sts_policy TEXT;
ALTER TABLE runs ADD COLUMN tls_rpt TEXT;
ALTER TABLE runs ADD COLUMN authenticated INTEGER;
ALTER TABLE runs ADD COLUMN at_risk INTEGER;
ALTER TABLE run_mx ADD COLUMN dane TEXT;
ALTER TABLE run_mx ADD COLUMN sts_passes INTEGER;
ALTER TABLE run_mx ADD COLUMN authenticated INTEGER;
ALTER TABLE run_mx ADD COLUMN at_risk INTEGER;
"#;

/// The code of [`AUTH_COUNTS`]: every stored run whose result JSON has a sender view gets its
/// authenticated-transport columns (`store::results::auth_columns`, as a new run would); runs
/// stored before the facts existed (or unreadable) keep NULL. Then every roll-up is recomputed:
/// a day whose counted domains have no facts keeps the new counts null; a day with some gets
/// them counted over those domains.
fn auth_counts_code(transaction: &Transaction<'_>) -> Result<Rollups, SchemaError> {
    let mut filled: Vec<(i64, super::results::AuthColumns)> = Vec::new();
    {
        let mut statement = transaction.prepare("SELECT id, result FROM runs ORDER BY id")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let json: String = row.get(1)?;
            match serde_json::from_str::<DomainResult>(&json) {
                Ok(result) if result.sender.is_some() => {
                    filled.push((id, super::results::auth_columns(&result)));
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(
                        "stored run {id} is unreadable ({error}); left without DANE facts"
                    );
                }
            }
        }
    }
    {
        let mut run = transaction.prepare(
            "UPDATE runs SET dane = ?1, sts_outcome = ?2, sts_policy = ?3, tls_rpt = ?4,
             authenticated = ?5, at_risk = ?6 WHERE id = ?7",
        )?;
        let mut host = transaction.prepare(
            "UPDATE run_mx SET dane = ?1, sts_passes = ?2, authenticated = ?3, at_risk = ?4
             WHERE run_id = ?5 AND host = ?6",
        )?;
        for (id, auth) in &filled {
            run.execute(rusqlite::params![
                auth.dane,
                auth.sts_outcome,
                auth.sts_policy,
                auth.tls_rpt,
                auth.authenticated,
                auth.at_risk,
                id
            ])?;
            for (name, columns) in &auth.hosts {
                host.execute(rusqlite::params![
                    columns.dane,
                    columns.sts_passes,
                    columns.authenticated,
                    columns.at_risk,
                    id,
                    name
                ])?;
            }
        }
    }
    Ok(Rollups::All)
}

/// 6 -> 7, the webhook delivery log (issue "reach and alert", `store::alerts`): one row per
/// POST to one URL (its last attempt's status, how many attempts, what happened), written by
/// whichever process ran the scan and read by the app's Settings tab. Bounded by the writer
/// (`MAX_WEBHOOK_DELIVERIES` rows). Self-contained: a new table only.
const WEBHOOK_DELIVERIES: &str = r#"
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    url TEXT NOT NULL,
    scan_id INTEGER,
    events INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    status INTEGER,
    delivered INTEGER NOT NULL,
    detail TEXT NOT NULL
);
"#;

/// 7 -> 8, desktop notifications once per event (issue "reach and alert",
/// `monitor::notify`): `events.notified_at`, set when a process with a session bus (the app,
/// `run`) has claimed the event for a notification, so no two processes show one event.
/// Events stored before are a baseline: marked seen, never notified. Self-contained.
const NOTIFIED_AT: &str = r#"
ALTER TABLE events ADD COLUMN notified_at INTEGER;
UPDATE events SET notified_at = at;
CREATE INDEX events_not_notified ON events(at) WHERE notified_at IS NULL;
"#;

/// 8 -> 9, results stored in shared parts (issue "a million domains", `store::parts`): what
/// an MX host showed is kept once per host and state (`host_runs`), the rest of a result once
/// per distinct content (`shapes`, with its MX hosts' references), and a run names its shape
/// and keeps its own probe time (`probed_at_ns`, Unix nanoseconds) instead of a full copy of
/// the result. The per-MX-host columns the roll-ups count move from each run (`run_mx`) to its
/// shape (`shape_mx`): every run of a shape has the same hosts in the same states.
/// [`shared_parts_code`] moves every stored result into parts, exactly, and drops `runs.result`
/// and `run_mx`.
const SHARED_PARTS: &str = r#"
CREATE TABLE host_runs (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    fingerprint INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    facts TEXT NOT NULL
);
CREATE INDEX host_runs_by_state ON host_runs(host, fingerprint);
CREATE TABLE shapes (
    id INTEGER PRIMARY KEY,
    digest INTEGER NOT NULL,
    facts TEXT NOT NULL
);
CREATE INDEX shapes_by_digest ON shapes(digest);
CREATE TABLE shape_mx (
    shape_id INTEGER NOT NULL,
    host TEXT NOT NULL,
    verdict TEXT NOT NULL,
    starttls INTEGER,
    pfs INTEGER,
    strict_valid INTEGER,
    tls_grade TEXT,
    dane TEXT,
    sts_passes INTEGER,
    authenticated INTEGER,
    at_risk INTEGER,
    PRIMARY KEY (shape_id, host)
) WITHOUT ROWID;
ALTER TABLE runs ADD COLUMN shape_id INTEGER;
ALTER TABLE runs ADD COLUMN probed_at_ns INTEGER;
"#;

/// 9 -> 10, a run's MX set read from its shape (issue "a million domains", the 365-day size):
/// every run of a shape has the shape's MX hosts (`shape_mx`), so `runs.mx_hosts`, a copy per
/// run (about a quarter of a run's row), goes. A run whose stored set is not its shape's (a
/// run left unreadable by the schema 9 migration, whose shape has no MX rows) keeps it in
/// `mx_hosts_kept`, so every run reads back its MX set exactly
/// ([`super::results::RUN_MX_HOSTS`]). The migration of a big file rewrites the runs table
/// once; its freed pages are reused by later writes.
const MX_SET_FROM_SHAPE: &str = r#"
ALTER TABLE runs ADD COLUMN mx_hosts_kept TEXT;
UPDATE runs SET mx_hosts_kept = mx_hosts
WHERE mx_hosts IS NOT coalesce(
    (SELECT group_concat(m.host, ' ' ORDER BY m.host) FROM shape_mx m WHERE m.shape_id = runs.shape_id),
    '');
ALTER TABLE runs DROP COLUMN mx_hosts;
"#;

/// 10 -> 11, each domain's last known run kept beside its latest one (issue "a million
/// domains", the snapshot of a year-old file): `domains.known_run_id` and
/// `domains.stale_since`, as `store::queries::known_run_assignments` defines them, so reading
/// every domain's state does not look the last known run up among all of a year's runs.
/// [`known_run_code`] sets them for the domains whose latest run is inconclusive (NULL, the
/// default, is right for every other one).
const KNOWN_RUN: &str = r#"
ALTER TABLE domains ADD COLUMN known_run_id INTEGER;
ALTER TABLE domains ADD COLUMN stale_since INTEGER;
"#;

/// The code of [`KNOWN_RUN`]: the rule's SQL is the store's own, so it is built, not written
/// here.
fn known_run_code(transaction: &Transaction<'_>) -> Result<Rollups, SchemaError> {
    transaction.execute(
        &format!(
            "UPDATE domains SET {known} WHERE latest_run_id IN
               (SELECT id FROM runs WHERE verdict = ?1 AND definitive = 0)",
            known = super::queries::known_run_assignments("domains.latest_run_id")
        ),
        [Verdict::Untestable.as_str()],
    )?;
    Ok(Rollups::Keep)
}

/// The code of [`SHARED_PARTS`]: every run's result JSON split into parts
/// (`parts::migrate_run`: host runs shared only where the stored facts are equal, so every
/// run reads back exactly as stored), its fingerprint recomputed the way new results are
/// fingerprinted (so an unchanged domain probed again extends its migrated run), then the
/// full copies dropped. Counts do not change.
fn shared_parts_code(transaction: &Transaction<'_>) -> Result<Rollups, SchemaError> {
    const BATCH: i64 = 5_000;
    let mut exact_hosts = std::collections::HashMap::new();
    let mut after = i64::MIN;
    loop {
        let batch: Vec<(i64, String)> = {
            let mut statement = transaction
                .prepare_cached("SELECT id, result FROM runs WHERE id > ?1 ORDER BY id LIMIT ?2")?;
            let rows = statement.query_map(rusqlite::params![after, BATCH], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let Some((last, _)) = batch.last() else {
            break;
        };
        after = *last;
        for (id, json) in &batch {
            let (shape, probed) = super::parts::migrate_run(transaction, &mut exact_hosts, json)?;
            match probed {
                Some((probed_at_ns, fingerprint)) => transaction
                    .prepare_cached(
                        "UPDATE runs SET shape_id = ?1, probed_at_ns = ?2, fingerprint = ?3
                         WHERE id = ?4",
                    )?
                    .execute(rusqlite::params![shape, probed_at_ns, fingerprint, id])?,
                None => {
                    tracing::warn!(
                        "stored run {id} is unreadable; kept as it was (it reads as damaged)"
                    );
                    transaction
                        .prepare_cached("UPDATE runs SET shape_id = ?1 WHERE id = ?2")?
                        .execute(rusqlite::params![shape, id])?
                }
            };
        }
    }
    // A shape's MX rows are those of its first run (every run of it has the same).
    transaction.execute_batch(
        "INSERT OR IGNORE INTO shape_mx (shape_id, host, verdict, starttls, pfs, strict_valid,
         tls_grade, dane, sts_passes, authenticated, at_risk)
         SELECT r.shape_id, m.host, m.verdict, m.starttls, m.pfs, m.strict_valid, m.tls_grade,
                m.dane, m.sts_passes, m.authenticated, m.at_risk
         FROM runs r JOIN run_mx m ON m.run_id = r.id ORDER BY r.id;
         DROP TABLE run_mx;
         ALTER TABLE runs DROP COLUMN result;",
    )?;
    Ok(Rollups::Keep)
}

/// 0 -> 1: first schema.
const FIRST_SCHEMA: &str = r#"
CREATE TABLE lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE domains (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    added_at INTEGER NOT NULL,
    latest_run_id INTEGER
);
CREATE TABLE list_domains (
    list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, domain_id)
) WITHOUT ROWID;
CREATE INDEX list_domains_by_domain ON list_domains(domain_id);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE scans (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    scope TEXT NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    counts TEXT
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    first_scan_id INTEGER,
    last_scan_id INTEGER,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    times_seen INTEGER NOT NULL DEFAULT 1,
    fingerprint INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    starttls INTEGER,
    pfs INTEGER,
    strict_valid INTEGER,
    tls_version TEXT,
    cert_not_after INTEGER,
    mx_hosts TEXT NOT NULL,
    mx_count INTEGER NOT NULL,
    provider TEXT,
    result TEXT NOT NULL
);
CREATE INDEX runs_by_domain ON runs(domain_id, first_at);
CREATE INDEX runs_by_last_scan ON runs(last_scan_id);
CREATE TABLE run_mx (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    host TEXT NOT NULL,
    verdict TEXT NOT NULL,
    starttls INTEGER,
    pfs INTEGER,
    strict_valid INTEGER,
    PRIMARY KEY (run_id, host)
) WITHOUT ROWID;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    scan_id INTEGER,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    dedupe_key TEXT
);
CREATE INDEX events_by_time ON events(at);
CREATE INDEX events_by_domain ON events(domain_id, at);
CREATE TABLE rollups (
    list_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    domains TEXT NOT NULL,
    mx_hosts TEXT NOT NULL,
    tls_versions TEXT NOT NULL,
    PRIMARY KEY (list_id, day)
) WITHOUT ROWID;
"#;

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("not a starttls-monitor database (application id {0:#x})")]
    Foreign(i32),
    #[error("written by a newer starttls-monitor (schema {found}, this build knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// Stored data a migration must read is not what this build wrote.
    #[error("{0}")]
    Damaged(String),
}

/// The code of [`STALE_STATE`]: for every stored untestable run, whether it was definitive and
/// why it was untestable (read from its result JSON; an unreadable one stays inconclusive);
/// then, with the saved `stale_max_days`, the roll-ups of every day on which some domain may
/// have kept its last known state are recomputed by the rule. The other roll-ups count the
/// same under the rule (their missing `stale` reads as 0).
fn stale_state_code(transaction: &Transaction<'_>) -> Result<Rollups, SchemaError> {
    transaction.execute(
        "UPDATE runs SET definitive = 1 WHERE verdict = ?1",
        [Verdict::NoMail.as_str()],
    )?;
    let mut answers: Vec<(i64, bool, String)> = Vec::new();
    {
        let mut statement =
            transaction.prepare("SELECT id, result FROM runs WHERE verdict = ?1 ORDER BY id")?;
        let mut rows = statement.query([Verdict::Untestable.as_str()])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let json: String = row.get(1)?;
            match serde_json::from_str::<DomainResult>(&json) {
                Ok(result) => answers.push((
                    id,
                    stale::is_definitive(&result),
                    stale::why_untestable(&result),
                )),
                Err(error) => {
                    tracing::warn!("stored run {id} is unreadable ({error}); left inconclusive");
                }
            }
        }
    }
    {
        let mut update = transaction
            .prepare("UPDATE runs SET definitive = ?1, untestable_why = ?2 WHERE id = ?3")?;
        for (id, definitive, why) in &answers {
            update.execute(rusqlite::params![definitive, why, id])?;
        }
    }
    Ok(Rollups::StaleDays)
}

/// The saved `stale_max_days` (the default when nothing readable is saved).
fn saved_stale_max_days(transaction: &Transaction<'_>) -> Result<u32, SchemaError> {
    let settings: Option<String> = transaction
        .query_row(
            "SELECT value FROM settings WHERE key = 'settings'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    Ok(settings
        .and_then(|json| serde_json::from_str::<Settings>(&json).ok())
        .unwrap_or_default()
        .stale_max_days)
}

fn rollup_error(error: super::queries::RollupError) -> SchemaError {
    match error {
        super::queries::RollupError::Sqlite(error) => SchemaError::Sqlite(error),
        super::queries::RollupError::Damaged(problem) => SchemaError::Damaged(problem),
    }
}

/// The code of [`TLS_GRADE`]: every stored run and MX host graded from its result JSON's
/// recorded session facts by this build's table (`tls_grade::grade_of_addresses`; an
/// unreadable result stays ungraded), then every roll-up recomputed, so `weak_tls` counts
/// every day of history. (A later change of the suite table needs the same step again.)
fn tls_grade_code(transaction: &Transaction<'_>) -> Result<Rollups, SchemaError> {
    /// A run's id, its grade, and each MX host's.
    type Graded = (i64, Option<TlsGrade>, Vec<(String, Option<TlsGrade>)>);
    let mut grades: Vec<Graded> = Vec::new();
    {
        let mut statement = transaction.prepare("SELECT id, result FROM runs ORDER BY id")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let json: String = row.get(1)?;
            match serde_json::from_str::<DomainResult>(&json) {
                Ok(result) => grades.push((
                    id,
                    tls_grade::grade_of_domain(&result),
                    result
                        .mx
                        .iter()
                        .map(|host| {
                            (
                                host.host.clone(),
                                tls_grade::grade_of_addresses(&host.addresses),
                            )
                        })
                        .collect(),
                )),
                Err(error) => {
                    tracing::warn!("stored run {id} is unreadable ({error}); left ungraded");
                }
            }
        }
    }
    {
        let mut run = transaction.prepare("UPDATE runs SET tls_grade = ?1 WHERE id = ?2")?;
        let mut host = transaction
            .prepare("UPDATE run_mx SET tls_grade = ?1 WHERE run_id = ?2 AND host = ?3")?;
        for (id, grade, hosts) in &grades {
            run.execute(rusqlite::params![grade.map(TlsGrade::as_str), id])?;
            for (name, grade) in hosts {
                host.execute(rusqlite::params![grade.map(TlsGrade::as_str), id, name])?;
            }
        }
    }
    Ok(Rollups::All)
}

/// Brings `connection` to [`CURRENT_VERSION`], refusing foreign or newer files.
pub fn migrate(connection: &mut Connection) -> Result<(), SchemaError> {
    let application_id: i32 =
        connection.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    let version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if application_id != APPLICATION_ID {
        let table_count: i64 =
            connection.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))?;
        // A brand-new empty file becomes ours; anything else with tables is someone else's.
        if application_id != 0 || table_count > 0 || version != 0 {
            return Err(SchemaError::Foreign(application_id));
        }
    }
    if version > CURRENT_VERSION {
        return Err(SchemaError::TooNew {
            found: version,
            known: CURRENT_VERSION,
        });
    }
    if version == CURRENT_VERSION {
        return Ok(());
    }
    // Every pending step in one transaction, roll-ups last: the file is at its old version or
    // at the current one, never in between.
    let transaction: Transaction<'_> = connection.transaction()?;
    let mut rollups = Rollups::Keep;
    for (index, (migration, code)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        transaction.execute_batch(migration)?;
        if let Some(code) = code {
            rollups = rollups.max(code(&transaction)?);
        }
        transaction.pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    if rollups != Rollups::Keep {
        let max_days = saved_stale_max_days(&transaction)?;
        match rollups {
            Rollups::Keep => {}
            Rollups::StaleDays => {
                super::queries::recompute_stale_rollups(&transaction, max_days)
                    .map_err(rollup_error)?;
            }
            Rollups::All => {
                super::queries::recompute_all_rollups(&transaction, max_days)
                    .map_err(rollup_error)?;
            }
        }
    }
    transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
    transaction.commit()?;
    // Moving results into shared parts frees most of an older file: give the space back once
    // (outside the transaction, as SQLite requires). Not fatal: another process may hold the
    // file, and the space is reused by later writes anyway.
    if (1..SHARED_PARTS_VERSION).contains(&version)
        && let Err(error) = connection.execute_batch("VACUUM")
    {
        tracing::warn!(
            "the migrated database was not compacted ({error}); its free space is reused"
        );
    }
    Ok(())
}

/// The version at which results moved into shared parts ([`SHARED_PARTS`]).
const SHARED_PARTS_VERSION: i64 = 9;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::adoption::day_number;
    use crate::model::test_support::{address, mx_host};
    use crate::model::{DnsError, DomainName, Outcome};
    use crate::store::Store;
    use rusqlite::params;
    use time::OffsetDateTime;

    /// 2026-01-10 12:00 UTC, plus `days`.
    fn day(days: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_768_046_400).expect("valid")
            + time::Duration::days(days)
    }

    #[test]
    fn the_shared_parts_version_is_the_migration_s() {
        let (sql, _) = MIGRATIONS[(SHARED_PARTS_VERSION - 1) as usize];
        assert!(std::ptr::eq(sql, SHARED_PARTS));
    }

    #[test]
    fn scans_stored_before_the_path_existed_went_direct() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v2.sqlite3");
        {
            let mut connection = Connection::open(&path).expect("open");
            let transaction = connection.transaction().expect("transaction");
            transaction.execute_batch(FIRST_SCHEMA).expect("schema 1");
            transaction.execute_batch(STALE_STATE).expect("schema 2");
            transaction
                .pragma_update(None, "application_id", APPLICATION_ID)
                .expect("id");
            transaction
                .pragma_update(None, "user_version", 2)
                .expect("version");
            transaction
                .execute(
                    "INSERT INTO scans (started_at, scope, settings, status, total)
                     VALUES (?1, 'all', '{}', 'finished', 0)",
                    params![day(0).unix_timestamp()],
                )
                .expect("a scan");
            transaction.commit().expect("commit");
        }
        let store = Store::open(&path).expect("migrates");
        let scans = store.scans(10).expect("scans");
        assert_eq!(scans.len(), 1);
        assert_eq!(scans[0].path, crate::model::NetworkPath::Direct);
        let stored: Option<String> = Connection::open(&path)
            .expect("open")
            .query_row("SELECT path FROM scans", [], |row| row.get(0))
            .expect("read");
        assert_eq!(stored.as_deref(), Some("direct"), "filled, not left NULL");
    }

    /// Takes a database back to how schema 8 stored results: a full JSON per run (the result
    /// the store reads back, as [`stored_json`]), no shared parts; the version is the caller's.
    fn back_to_full_results(path: &std::path::Path) {
        let runs: Vec<(i64, String)> = {
            let store = Store::open(path).expect("store");
            let mut statement = store
                .connection
                .prepare(
                    "SELECT r.id, d.name, r.shape_id, r.probed_at_ns FROM runs r
                     JOIN domains d ON d.id = r.domain_id ORDER BY r.id",
                )
                .expect("prepare");
            let rows: Vec<(i64, String, i64, Option<i64>)> = statement
                .query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows");
            rows.into_iter()
                .map(|(id, name, shape, probed_at_ns)| {
                    let domain = DomainName::parse(&name).expect("valid");
                    let result = store
                        .stored_result(&domain, shape, probed_at_ns)
                        .expect("reads");
                    (id, stored_json(&result))
                })
                .collect()
        };
        let connection = Connection::open(path).expect("open");
        connection
            .execute_batch(&format!(
                "ALTER TABLE domains DROP COLUMN known_run_id;
                 ALTER TABLE domains DROP COLUMN stale_since;
                 ALTER TABLE runs ADD COLUMN mx_hosts TEXT NOT NULL DEFAULT '';
                 UPDATE runs SET mx_hosts = coalesce(mx_hosts_kept,
                    (SELECT group_concat(m.host, ' ' ORDER BY m.host) FROM shape_mx m
                     WHERE m.shape_id = runs.shape_id), '');
                 ALTER TABLE runs DROP COLUMN mx_hosts_kept;
                 ALTER TABLE runs ADD COLUMN result TEXT NOT NULL DEFAULT '';
                 {RUN_MX_AS_BEFORE}
                 ALTER TABLE runs DROP COLUMN shape_id; ALTER TABLE runs DROP COLUMN probed_at_ns;
                 DROP TABLE host_runs; DROP TABLE shapes; DROP TABLE shape_mx;"
            ))
            .expect("back to full results");
        for (id, json) in runs {
            connection
                .execute(
                    "UPDATE runs SET result = ?1 WHERE id = ?2",
                    params![json, id],
                )
                .expect("full result");
        }
    }

    /// `run_mx` as schema 8 had it, filled from each run's shape.
    const RUN_MX_AS_BEFORE: &str = "CREATE TABLE run_mx (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            host TEXT NOT NULL, verdict TEXT NOT NULL, starttls INTEGER, pfs INTEGER,
            strict_valid INTEGER, tls_grade TEXT, dane TEXT, sts_passes INTEGER,
            authenticated INTEGER, at_risk INTEGER, PRIMARY KEY (run_id, host)) WITHOUT ROWID;
        INSERT INTO run_mx SELECT r.id, m.host, m.verdict, m.starttls, m.pfs, m.strict_valid,
            m.tls_grade, m.dane, m.sts_passes, m.authenticated, m.at_risk
            FROM runs r JOIN shape_mx m ON m.shape_id = r.shape_id;";

    /// A result's JSON as the previous build stored it (without the stale fields).
    fn stored_json(result: &DomainResult) -> String {
        let mut json = serde_json::to_value(result).expect("serializes");
        let object = json.as_object_mut().expect("an object");
        object.remove("stale_since");
        object.remove("last_known");
        json.to_string()
    }

    fn good(name: &str, at: OffsetDateTime) -> DomainResult {
        let domain = DomainName::parse(name).expect("valid");
        let host = mx_host(
            &format!("mx.{name}"),
            vec![address(Outcome::TlsOk, true, true)],
        );
        DomainResult::new(domain, false, None, at, vec![host])
    }

    fn failed(name: &str, error: DnsError, at: OffsetDateTime) -> DomainResult {
        let domain = DomainName::parse(name).expect("valid");
        DomainResult::new(domain, false, Some(error), at, vec![])
    }

    /// Writes a database as schema version 1 left it: a.example good, then untestable through
    /// a dead DNS server a day later; b.example good, then gone (NXDOMAIN); the roll-ups of
    /// both days as that build counted them.
    fn write_version_1(path: &std::path::Path) {
        let mut connection = Connection::open(path).expect("open");
        let transaction = connection.transaction().expect("transaction");
        transaction.execute_batch(FIRST_SCHEMA).expect("schema 1");
        transaction
            .pragma_update(None, "application_id", APPLICATION_ID)
            .expect("id");
        transaction
            .pragma_update(None, "user_version", 1)
            .expect("version");
        transaction
            .execute_batch(
                "INSERT INTO lists (id, name, created_at) VALUES (1, 'L', 0);
                 INSERT INTO domains (id, name, added_at) VALUES (1, 'a.example', 0), (2, 'b.example', 0);
                 INSERT INTO list_domains VALUES (1, 1), (1, 2);",
            )
            .expect("lists and domains");
        let runs = [
            (1, 1, good("a.example", day(0))),
            (2, 1, failed("a.example", DnsError::Timeout, day(1))),
            (3, 2, good("b.example", day(0))),
            (4, 2, failed("b.example", DnsError::Nxdomain, day(1))),
        ];
        for (id, domain, result) in &runs {
            let testable = result.verdict.is_testable();
            transaction
                .execute(
                    "INSERT INTO runs (id, domain_id, first_at, last_at, fingerprint, verdict, starttls,
                     pfs, strict_valid, tls_version, mx_hosts, mx_count, provider, result)
                     VALUES (?1, ?2, ?3, ?3, ?1, ?4, ?5, ?5, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        id,
                        domain,
                        result.probed_at.unix_timestamp(),
                        result.verdict.as_str(),
                        testable.then_some(true),
                        testable.then_some("TLSv1.3"),
                        crate::model::changes::mx_host_set(result),
                        result.mx.len() as i64,
                        result.provider(),
                        stored_json(result),
                    ],
                )
                .expect("run");
            for host in &result.mx {
                transaction
                    .execute(
                        "INSERT INTO run_mx VALUES (?1, ?2, 'tls_ok', 1, 1, 1)",
                        params![id, host.host],
                    )
                    .expect("run_mx");
            }
        }
        transaction
            .execute_batch("UPDATE domains SET latest_run_id = id * 2;")
            .expect("latest runs");
        let before = r#"{"total":2,"no_mail":0,"untestable":0,"testable":2,"starttls":2,"pfs":2,"strict_valid":2,"all_three":2}"#;
        let outage = r#"{"total":2,"no_mail":0,"untestable":2,"testable":0,"starttls":0,"pfs":0,"strict_valid":0,"all_three":0}"#;
        for list in [0, 1] {
            for (at, domains, hosts, versions) in [
                (
                    day(0),
                    before,
                    r#"{"total":2,"untestable":0,"testable":2,"starttls":2,"pfs":2,"strict_valid":2,"all_three":2}"#,
                    r#"{"TLSv1.3":2}"#,
                ),
                (
                    day(1),
                    outage,
                    r#"{"total":0,"untestable":0,"testable":0,"starttls":0,"pfs":0,"strict_valid":0,"all_three":0}"#,
                    "{}",
                ),
            ] {
                transaction
                    .execute(
                        "INSERT INTO rollups VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![list, day_number(at.date()), domains, hosts, versions],
                    )
                    .expect("rollup");
            }
        }
        transaction.commit().expect("commit");
    }

    #[test]
    fn a_schema_1_database_keeps_its_history_and_gets_its_roll_ups_recomputed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.sqlite3");
        write_version_1(&path);

        let store = Store::open(&path).expect("an old database opens");
        let version: i64 = store
            .connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, CURRENT_VERSION);
        let a = DomainName::parse("a.example").expect("valid");
        assert_eq!(store.history(&a).expect("history").len(), 2, "history kept");
        let answers: Vec<(i64, bool, Option<String>)> = {
            let mut statement = store
                .connection
                .prepare("SELECT id, definitive, untestable_why FROM runs ORDER BY id")
                .expect("prepare");
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        };
        assert_eq!(
            answers,
            [
                (1, false, None),
                (2, false, Some("DNS timeout".to_string())),
                (3, false, None),
                (4, true, Some("DNS nxdomain".to_string())),
            ]
        );

        for list in [None, store.list_id("L").expect("query")] {
            let points = store.trends(list, None).expect("trends");
            assert_eq!(points.len(), 2);
            let (before, outage) = (&points[0].domains, &points[1].domains);
            assert_eq!(
                (before.testable, before.all_three, before.stale),
                (2, 2, 0),
                "a day the rule does not change is left as it was"
            );
            assert_eq!(
                (
                    outage.total,
                    outage.testable,
                    outage.all_three,
                    outage.untestable,
                    outage.stale
                ),
                (2, 1, 1, 1, 1),
                "a.example keeps its last known state, b.example is gone"
            );
            assert_eq!(points[1].mx_hosts.testable, 1);
            assert_eq!(points[1].tls_versions.get("TLSv1.3"), Some(&1));
        }
        for list in [None, store.list_id("L").expect("query")] {
            let points = store.trends(list, None).expect("trends");
            assert!(
                points.iter().all(|point| point.volume.is_none()),
                "roll-ups from before weights have no weighted figures (null, not 0)"
            );
        }
        let list = store.list_id("L").expect("query").expect("the list");
        let weights = store.weights(Some(list)).expect("weights");
        assert_eq!(weights.len(), 2);
        assert!(
            weights
                .values()
                .all(|weight| *weight == crate::model::Weight::ONE),
            "memberships from before weights weigh 1"
        );
        let latest = store.latest_result(&a).expect("query").expect("a result");
        assert_eq!(latest.stale_since, Some(day(1)));
        assert_eq!(
            latest.last_known.map(|known| known.verdict),
            Some(Verdict::TlsOk)
        );
        store.integrity_check().expect("sound");
    }

    #[test]
    fn weak_tls_is_graded_from_stored_sessions_and_counted_on_every_old_day() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.sqlite3");
        write_version_1(&path);
        {
            // a.example's day-0 session was TLS 1.0 with RSA key exchange and CBC, stored
            // before grades existed: the facts are in its JSON, no grade.
            let connection = Connection::open(&path).expect("open");
            let mut weak = good("a.example", day(0));
            let tls = &mut weak.mx[0].addresses[0];
            tls.tls_version = Some(crate::model::TlsVersion::Tls10);
            tls.cipher_suite = Some("TLS_RSA_WITH_AES_128_CBC_SHA".to_string());
            let mut json =
                serde_json::from_str::<serde_json::Value>(&stored_json(&weak)).expect("json");
            json.as_object_mut().expect("object").remove("tls_grade");
            json["mx"][0]["addresses"][0]
                .as_object_mut()
                .expect("object")
                .remove("tls_grade");
            connection
                .execute(
                    "UPDATE runs SET result = ?1 WHERE id = 1",
                    [json.to_string()],
                )
                .expect("update");
        }
        let store = Store::open(&path).expect("migrates");
        let (run_grade, host_grade): (Option<String>, Option<String>) = store
            .connection
            .query_row(
                "SELECT r.tls_grade, m.tls_grade FROM runs r JOIN shape_mx m ON m.shape_id = r.shape_id
                 WHERE r.id = 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("graded");
        assert_eq!(run_grade.as_deref(), Some("phase_out"));
        assert_eq!(host_grade.as_deref(), Some("phase_out"));
        let b_grade: Option<String> = store
            .connection
            .query_row("SELECT tls_grade FROM runs WHERE id = 3", [], |row| {
                row.get(0)
            })
            .expect("graded");
        assert_eq!(b_grade, None, "no recorded suite: no grade, not weak");
        let a = DomainName::parse("a.example").expect("valid");
        let history = store.history(&a).expect("history");
        assert_eq!(
            history[1].result.tls_grade,
            Some(TlsGrade::PhaseOut),
            "a stored result reads graded from its facts"
        );
        for list in [None, store.list_id("L").expect("query")] {
            let points = store.trends(list, None).expect("trends");
            assert_eq!(points.len(), 2);
            let (before, outage) = (&points[0].domains, &points[1].domains);
            assert_eq!((before.testable, before.weak_tls), (2, 1), "{list:?}");
            assert_eq!(
                before.all_three, 2,
                "all three keeps its definition beside weak TLS"
            );
            assert_eq!(
                (outage.stale, outage.weak_tls),
                (1, 1),
                "stale a.example counts weak by its last known state"
            );
            assert_eq!(points[0].mx_hosts.weak_tls, 1);
        }
    }

    /// The new columns of schema 6, as (table, column).
    const AUTH_COLUMNS: [(&str, &str); 10] = [
        ("runs", "dane"),
        ("runs", "sts_outcome"),
        ("runs", "sts_policy"),
        ("runs", "tls_rpt"),
        ("runs", "authenticated"),
        ("runs", "at_risk"),
        ("run_mx", "dane"),
        ("run_mx", "sts_passes"),
        ("run_mx", "authenticated"),
        ("run_mx", "at_risk"),
    ];

    #[test]
    fn a_schema_1_database_keeps_null_authenticated_counts_until_results_have_the_facts() {
        use crate::model::auth::{DaneSetStatus, MtaStsOutcome};
        use crate::model::test_support::with_auth;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("old.sqlite3");
        write_version_1(&path);
        let store = Store::open(&path).expect("an old database opens");
        let filled: i64 = store
            .connection
            .query_row(
                "SELECT count(*) FROM runs WHERE authenticated IS NOT NULL OR dane IS NOT NULL",
                [],
                |row| row.get(0),
            )
            .expect("count");
        assert_eq!(filled, 0, "results without a sender view keep NULL");
        for list in [None, store.list_id("L").expect("query")] {
            let points = store.trends(list, None).expect("trends");
            assert_eq!(points.len(), 2, "history kept");
            for point in &points {
                assert!(point.domains.testable > 0);
                assert_eq!(
                    (point.domains.auth_testable, point.domains.authenticated),
                    (None, None),
                    "a day whose runs had no facts: null, not 0"
                );
                assert_eq!(point.mx_hosts.dane_valid, None);
            }
        }
        // The same opportunistic result again, now with a sender view (its fingerprint is the
        // old run's): a new run holds the facts, and they are a baseline (no event).
        let mut same = good("a.example", day(2));
        same.judge_sender();
        let recorded = store.record_result(None, &same, 14).expect("recorded");
        assert!(recorded.new_run, "a run without facts is not extended");
        assert_eq!(recorded.events, []);
        // Then DANE valid (its first looked-up value: a baseline too), and a day later the TLSA
        // record left behind by a renewal.
        let valid = with_auth(
            good("a.example", day(3)),
            &[DaneSetStatus::Valid],
            MtaStsOutcome::None,
        );
        let recorded = store.record_result(None, &valid, 14).expect("recorded");
        assert_eq!(recorded.events, [], "DANE not looked up before: no event");
        store.refresh_rollup(None, day(3)).expect("roll-up");
        let failed = with_auth(
            good("a.example", day(4)),
            &[DaneSetStatus::Failed],
            MtaStsOutcome::None,
        );
        let events = store
            .record_result(None, &failed, 14)
            .expect("recorded")
            .events;
        assert_eq!(
            events.iter().map(|event| event.kind).collect::<Vec<_>>(),
            [crate::model::changes::ChangeKind::DaneFailed]
        );
        store.refresh_rollup(None, day(4)).expect("roll-up");
        let points = store.trends(None, None).expect("trends");
        let (day3, day4) = (&points[points.len() - 2], &points[points.len() - 1]);
        assert_eq!(
            (
                day3.domains.auth_testable,
                day3.domains.dane_valid,
                day3.domains.authenticated
            ),
            (Some(1), Some(1), Some(1)),
            "b.example (gone) is not testable; a.example counts with its facts"
        );
        assert_eq!(
            (
                day4.domains.dane_valid,
                day4.domains.at_risk,
                day4.mx_hosts.at_risk
            ),
            (Some(0), Some(1), Some(1))
        );
        assert_eq!(points[0].domains.auth_testable, None, "old days stay null");
    }

    #[test]
    fn a_schema_5_database_gets_its_columns_and_counts_from_the_stored_json() {
        use crate::model::auth::{DaneSetStatus, MtaStsOutcome};
        use crate::model::test_support::with_auth;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("v5.sqlite3");
        {
            // Results with the facts in their JSON, stored by a schema-5 build (the DANE and
            // MTA-STS branch wrote them before the columns existed).
            let store = Store::open(&path).expect("new");
            let results = [
                with_auth(
                    good("a.example", day(0)),
                    &[DaneSetStatus::Valid],
                    MtaStsOutcome::None,
                ),
                with_auth(
                    good("b.example", day(0)),
                    &[DaneSetStatus::Unknown],
                    MtaStsOutcome::EnforceOk,
                ),
                with_auth(
                    good("c.example", day(0)),
                    &[DaneSetStatus::Failed],
                    MtaStsOutcome::None,
                ),
                good("d.example", day(0)),
            ];
            for result in &results {
                store.record_result(None, result, 14).expect("recorded");
            }
            store.refresh_rollup(None, day(0)).expect("roll-up");
        }
        back_to_full_results(&path);
        {
            let connection = Connection::open(&path).expect("open");
            for (table, column) in AUTH_COLUMNS {
                connection
                    .execute_batch(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                    .expect("back to schema 5");
            }
            // And without what the later schemas (7, 8: alerts) added.
            connection
                .execute_batch(
                    "DROP TABLE webhook_deliveries; DROP INDEX IF EXISTS events_not_notified;
                     ALTER TABLE events DROP COLUMN notified_at;",
                )
                .expect("back to schema 5");
            // The roll-up as schema 5 wrote it: without the new counts.
            connection
                .execute(
                    "UPDATE rollups SET domains = ?1",
                    [r#"{"total":4,"no_mail":0,"untestable":0,"testable":4,"starttls":4,"pfs":4,"strict_valid":4,"all_three":4,"stale":0,"weak_tls":0}"#],
                )
                .expect("old roll-up");
            connection
                .pragma_update(None, "user_version", 5)
                .expect("version");
        }
        let store = Store::open(&path).expect("migrates");
        /// A domain, its run's `dane` and `authenticated`, its MX host's `at_risk`.
        type Columns = (String, Option<String>, Option<bool>, Option<bool>);
        let columns: Vec<Columns> = {
            let mut statement = store
                .connection
                .prepare(
                    "SELECT d.name, r.dane, r.authenticated, m.at_risk FROM runs r
                     JOIN domains d ON d.id = r.domain_id JOIN shape_mx m ON m.shape_id = r.shape_id
                     ORDER BY d.name",
                )
                .expect("prepare");
            statement
                .query_map([], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        };
        assert_eq!(
            columns,
            [
                (
                    "a.example".to_string(),
                    Some("valid".to_string()),
                    Some(true),
                    Some(false)
                ),
                (
                    "b.example".to_string(),
                    Some("unknown".to_string()),
                    Some(true),
                    Some(false)
                ),
                (
                    "c.example".to_string(),
                    Some("failed".to_string()),
                    Some(false),
                    Some(true)
                ),
                ("d.example".to_string(), None, None, None),
            ]
        );
        let points = store.trends(None, None).expect("trends");
        assert_eq!(points.len(), 1);
        let counts = &points[0].domains;
        assert_eq!(counts.testable, 4);
        assert_eq!(
            (
                counts.auth_testable,
                counts.dane_valid,
                counts.dane_known,
                counts.sts_enforce,
                counts.authenticated,
                counts.at_risk
            ),
            (Some(3), Some(1), Some(2), Some(1), Some(2), Some(1)),
            "recomputed from the filled columns; d.example has no facts, unknown is left out"
        );
        store.integrity_check().expect("sound");
    }

    #[test]
    fn a_stale_domain_keeps_its_last_known_authenticated_transport_in_the_roll_ups() {
        use crate::model::auth::{DaneSetStatus, MtaStsOutcome};
        use crate::model::test_support::with_auth;
        let store = Store::open_in_memory().expect("store");
        let valid = with_auth(
            good("a.example", day(0)),
            &[DaneSetStatus::Valid],
            MtaStsOutcome::EnforceOk,
        );
        store.record_result(None, &valid, 14).expect("recorded");
        store.refresh_rollup(None, day(0)).expect("roll-up");
        let outage = failed("a.example", DnsError::Timeout, day(1));
        store.record_result(None, &outage, 14).expect("recorded");
        store.refresh_rollup(None, day(1)).expect("roll-up");
        let points = store.trends(None, None).expect("trends");
        assert_eq!(points.len(), 2);
        let stale = &points[1];
        assert_eq!((stale.domains.stale, stale.domains.testable), (1, 1));
        assert_eq!(
            (
                stale.domains.auth_testable,
                stale.domains.dane_valid,
                stale.domains.sts_enforce,
                stale.domains.authenticated
            ),
            (Some(1), Some(1), Some(1), Some(1)),
            "counted by its last known facts"
        );
        assert_eq!(
            stale.mx_hosts.dane_valid,
            Some(1),
            "its MX host as last known"
        );
        assert_eq!(
            stale
                .volume
                .as_ref()
                .and_then(|volume| volume.authenticated),
            Some(1.0)
        );
    }
}
