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
//! and UTC day when scans finish (`rollups`).

use rusqlite::{Connection, Transaction};

/// `PRAGMA application_id` of our files: "STMN".
pub const APPLICATION_ID: i32 = 0x5354_4d4e;

/// Each entry migrates from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: first schema.
    r#"
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
"#,
];

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
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let transaction: Transaction<'_> = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
        transaction.pragma_update(None, "user_version", (index + 1) as i64)?;
        transaction.commit()?;
    }
    Ok(())
}
