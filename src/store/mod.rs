//! The database: domains and lists, settings, scans, results (as runs), change events, trend
//! roll-ups. SQLite through rusqlite (bundled), WAL mode, foreign keys on.
//!
//! Owns: the schema ([`schema`]), every write ([`results`] for scan results) and every query the
//! UI and reports need ([`queries`]). Must not touch: the network or the probe (it receives
//! finished `DomainResult`s), the UI.
//!
//! Safety rules: every write is a transaction, so a kill -9 loses nothing committed; a file that
//! is not ours or is from a newer version is refused, never written; a lock held past the busy
//! timeout is a clear "database busy" error.

mod alerts;
mod parts;
mod queries;
mod results;
pub mod schema;
mod weights;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use time::OffsetDateTime;

pub use alerts::{MAX_WEBHOOK_DELIVERIES, WebhookDelivery};
pub use queries::{
    DomainHistoryRun, EventRow, LatestFilter, LatestRow, ProviderRow, ProviderTally, RowAuth,
    Staleness,
};
pub use results::{
    RecordOutcome, RecordedScope, ScanCounts, ScanInfo, ScanScope, ScanStatus, latest_row_of,
};

// Defined in `model` (pure), re-exported for the store's users.
pub use crate::model::Weight;
pub use crate::model::adoption::{HostTrendCounts, TrendCounts, TrendPoint, VolumeCounts};
pub use crate::model::changes::{ChangeEvent, ChangeKind};

use crate::model::domain_names::DomainNamesBuilder;
use crate::model::{DomainName, DomainNames, DomainResult};
use crate::settings::Settings;

/// How long a write waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Identifies a named list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListId(pub i64);

/// Identifies a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScanId(pub i64);

/// A list with its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListInfo {
    pub id: ListId,
    pub name: String,
    pub domain_count: usize,
}

/// What `add_domains` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddReport {
    /// New to the database.
    pub added: usize,
    /// Already in the database (and now in the list, if one was given).
    pub already_present: usize,
    /// Given more than once in this call.
    pub duplicates: usize,
    /// Made members of the list given (new to the database or not); 0 without a list.
    pub joined_list: usize,
}

/// A database problem, always naming the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {problem}")]
    Open { path: PathBuf, problem: String },
    #[error("database {path} is not a starttls-monitor database; refusing to touch it")]
    Foreign { path: PathBuf },
    #[error(
        "database {path} was written by a newer starttls-monitor (schema {found}, this build knows {known}); refusing to touch it"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("database {path} is busy: another process held its lock past the busy timeout")]
    Busy { path: PathBuf },
    #[error("database {path} is read-only: {problem}")]
    ReadOnly { path: PathBuf, problem: String },
    #[error("database {path} is damaged: {problem}")]
    Corrupt { path: PathBuf, problem: String },
    #[error("database {path}: {problem}")]
    Other { path: PathBuf, problem: String },
    /// A command that only reads was given a file that is not there (nothing was created).
    #[error("database {path} does not exist; nothing to read (domains add or import creates it)")]
    Missing { path: PathBuf },
    #[error("{0}")]
    Invalid(String),
}

/// The open database.
pub struct Store {
    connection: Connection,
    path: PathBuf,
    /// The shared parts this connection wrote or read ([`parts::Parts`]).
    parts: std::cell::RefCell<parts::Parts>,
}

/// The default database location: `monitor.sqlite3` in the user's data directory.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "starttls-monitor", "starttls-monitor")
        .map(|dirs| dirs.data_dir().join("monitor.sqlite3"))
}

/// Prepared statements a connection keeps.
const STATEMENT_CACHE: usize = 64;

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
            && !parent.exists()
        {
            std::fs::create_dir_all(parent).map_err(|error| StoreError::Open {
                path: path.to_path_buf(),
                problem: format!("cannot create folder {}: {error}", parent.display()),
            })?;
        }
        Self::open_file(path, OpenFlags::SQLITE_OPEN_CREATE)
    }

    /// Opens the database at `path` only if the file is already there: a missing file is
    /// [`StoreError::Missing`], and neither its folder nor the file is created. For commands
    /// that only read; an existing file's schema is still brought up to date.
    pub fn open_existing(path: &Path) -> Result<Self, StoreError> {
        match std::fs::metadata(path) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::Missing {
                    path: path.to_path_buf(),
                });
            }
            Err(error) => {
                return Err(StoreError::Open {
                    path: path.to_path_buf(),
                    problem: error.to_string(),
                });
            }
        }
        // Without SQLITE_OPEN_CREATE: a file removed since the check is an error, not new.
        Self::open_file(path, OpenFlags::empty())
    }

    /// Opens `path` read-write (plus `extra` flags), refusing a folder; then [`Self::set_up`].
    fn open_file(path: &Path, extra: OpenFlags) -> Result<Self, StoreError> {
        if path.is_dir() {
            return Err(StoreError::Open {
                path: path.to_path_buf(),
                problem: "is a folder, not a file".to_string(),
            });
        }
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI
                | extra,
        )
        .map_err(|error| classify(path, error))?;
        Self::set_up(connection, path.to_path_buf())
    }

    /// A private in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let connection = Connection::open_in_memory().map_err(|error| StoreError::Other {
            path: PathBuf::from(":memory:"),
            problem: error.to_string(),
        })?;
        Self::set_up(connection, PathBuf::from(":memory:"))
    }

    fn set_up(mut connection: Connection, path: PathBuf) -> Result<Self, StoreError> {
        let fail = |error: rusqlite::Error| classify(&path, error);
        connection.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        // Query plans that do not depend on bound values. Without it, the SQLite that rusqlite
        // bundles marks a statement with an `= ?` filter term to be prepared again when that
        // parameter is rebound, and rusqlite's statement cache clears every binding when a
        // statement comes back to it: such a statement was compiled anew at every use (a scan's
        // record path spent a seventh of its CPU in SQLite's parser). We keep no ANALYZE
        // statistics, so no plan is lost.
        connection
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                true,
            )
            .map_err(fail)?;
        // Reading the header first turns "not a database" into a clear error.
        let _: i64 = connection
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .map_err(fail)?;
        schema::migrate(&mut connection).map_err(|error| match error {
            schema::SchemaError::Foreign(_) => StoreError::Foreign { path: path.clone() },
            schema::SchemaError::TooNew { found, known } => StoreError::TooNew {
                path: path.clone(),
                found,
                known,
            },
            schema::SchemaError::Sqlite(error) => classify(&path, error),
            schema::SchemaError::Damaged(problem) => StoreError::Corrupt {
                path: path.clone(),
                problem,
            },
        })?;
        let journal: String = connection
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(fail)?;
        if journal != "wal" && journal != "memory" {
            tracing::warn!(
                "database {} stays in {journal} journal mode",
                path.display()
            );
        }
        connection
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
            .map_err(fail)?;
        // Room for every statement a scan's write path and the app's snapshot use (rusqlite
        // keeps 16 by default; the record path alone prepares about 20).
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let store = Self {
            connection,
            path,
            parts: Default::default(),
        };
        store.mark_interrupted_scans()?;
        Ok(store)
    }

    /// How long writes wait for another process's lock (default 10 s) before "database busy".
    pub fn set_busy_timeout(&self, limit: Duration) -> Result<(), StoreError> {
        self.connection
            .busy_timeout(limit)
            .map_err(|error| self.fail(error))
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, error: rusqlite::Error) -> StoreError {
        classify(&self.path, error)
    }

    /// The stored result of `domain`'s run with shape `shape`, probed at `probed_at_ns` (Unix
    /// nanoseconds; a run whose result could not be read when it was migrated has none and
    /// reads as the damage it is), graded again from its recorded session facts
    /// (`tls_grade::regrade`: the grade is this build's judgement of what was measured).
    fn stored_result(
        &self,
        domain: &DomainName,
        shape: i64,
        probed_at_ns: Option<i64>,
    ) -> Result<DomainResult, StoreError> {
        let damaged = |problem: String| StoreError::Corrupt {
            path: self.path.clone(),
            problem: format!("stored result of {domain} is unreadable: {problem}"),
        };
        let mut parts = self.parts.borrow_mut();
        let assembled = match probed_at_ns {
            Some(probed_at_ns) => parts.assemble(&self.connection, domain, shape, probed_at_ns),
            None => parts.assemble(&self.connection, domain, shape, 0).and(Err(
                parts::PartError::Damaged("its probe time is missing".to_string()),
            )),
        };
        let mut result = assembled.map_err(|error| match error {
            parts::PartError::Sql(error) => self.fail(error),
            parts::PartError::Damaged(problem) => damaged(problem),
        })?;
        crate::model::tls_grade::regrade(&mut result);
        Ok(result)
    }

    /// SQLite's `PRAGMA data_version` for this connection: it changes when another connection
    /// (another process: a cron `scan`, the command line) commits, never for this connection's
    /// own writes. A cheap read for watching the file.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        self.connection
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .map_err(|error| self.fail(error))
    }

    /// Runs `read` in one read transaction, so all its queries see one state of the database
    /// even while another process writes. `read` must only read.
    pub fn read_consistent<T>(
        &self,
        read: impl FnOnce(&Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let transaction = self
            .connection
            .unchecked_transaction()
            .map_err(|error| self.fail(error))?;
        let value = read(self)?;
        transaction.commit().map_err(|error| self.fail(error))?;
        Ok(value)
    }

    /// Runs SQLite's integrity check; `Ok(())` when the file is sound.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let verdict: String = self
            .connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .map_err(|error| self.fail(error))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                path: self.path.clone(),
                problem: verdict,
            })
        }
    }

    // ----- lists -----

    /// All named lists with their sizes, by name.
    pub fn lists(&self) -> Result<Vec<ListInfo>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT l.id, l.name, (SELECT count(*) FROM list_domains ld WHERE ld.list_id = l.id)
                 FROM lists l ORDER BY l.name COLLATE NOCASE",
            )
            .map_err(|error| self.fail(error))?;
        let rows = statement
            .query_map([], |row| {
                Ok(ListInfo {
                    id: ListId(row.get(0)?),
                    name: row.get(1)?,
                    domain_count: row.get::<_, i64>(2)? as usize,
                })
            })
            .map_err(|error| self.fail(error))?;
        rows.collect::<Result<_, _>>()
            .map_err(|error| self.fail(error))
    }

    /// The list called `name`, if any.
    pub fn list_id(&self, name: &str) -> Result<Option<ListId>, StoreError> {
        self.connection
            .query_row(
                "SELECT id FROM lists WHERE name = ?1",
                params![name.trim()],
                |row| row.get(0),
            )
            .optional()
            .map(|id| id.map(ListId))
            .map_err(|error| self.fail(error))
    }

    /// The list called `name`, or a clear error naming it.
    pub fn require_list(&self, name: &str) -> Result<ListId, StoreError> {
        self.list_id(name)?
            .ok_or_else(|| StoreError::Invalid(format!("no list named '{}'", name.trim())))
    }

    /// Creates a list; an error if the name is empty or taken.
    pub fn create_list(&self, name: &str) -> Result<ListId, StoreError> {
        let name = valid_list_name(name)?;
        if self.list_id(name)?.is_some() {
            return Err(StoreError::Invalid(format!(
                "a list named '{name}' already exists"
            )));
        }
        self.connection
            .execute(
                "INSERT INTO lists (name, created_at) VALUES (?1, ?2)",
                params![name, now_seconds()],
            )
            .map_err(|error| self.fail(error))?;
        Ok(ListId(self.connection.last_insert_rowid()))
    }

    /// The list called `name`, created when missing.
    pub fn ensure_list(&self, name: &str) -> Result<ListId, StoreError> {
        match self.list_id(name)? {
            Some(id) => Ok(id),
            None => self.create_list(name),
        }
    }

    /// Renames a list.
    pub fn rename_list(&self, old: &str, new: &str) -> Result<(), StoreError> {
        let id = self.require_list(old)?;
        let new = valid_list_name(new)?;
        if let Some(existing) = self.list_id(new)?
            && existing != id
        {
            return Err(StoreError::Invalid(format!(
                "a list named '{new}' already exists"
            )));
        }
        self.connection
            .execute(
                "UPDATE lists SET name = ?1 WHERE id = ?2",
                params![new, id.0],
            )
            .map_err(|error| self.fail(error))?;
        Ok(())
    }

    /// Deletes a list (its domains stay in the database and in other lists).
    pub fn delete_list(&self, name: &str) -> Result<(), StoreError> {
        let id = self.require_list(name)?;
        let transaction = self
            .connection
            .unchecked_transaction()
            .map_err(|error| self.fail(error))?;
        transaction
            .execute("DELETE FROM lists WHERE id = ?1", params![id.0])
            .map_err(|error| self.fail(error))?;
        transaction
            .execute("DELETE FROM rollups WHERE list_id = ?1", params![id.0])
            .map_err(|error| self.fail(error))?;
        transaction.commit().map_err(|error| self.fail(error))
    }

    // ----- domains -----

    /// Adds domains (to the database, and to `list` when given) in one transaction.
    pub fn add_domains(
        &self,
        list: Option<ListId>,
        domains: &[DomainName],
    ) -> Result<AddReport, StoreError> {
        let mut report = AddReport::default();
        let transaction = self
            .connection
            .unchecked_transaction()
            .map_err(|error| self.fail(error))?;
        {
            let mut insert = transaction
                .prepare_cached("INSERT OR IGNORE INTO domains (name, added_at) VALUES (?1, ?2)")
                .map_err(|error| self.fail(error))?;
            let mut find = transaction
                .prepare_cached("SELECT id FROM domains WHERE name = ?1")
                .map_err(|error| self.fail(error))?;
            let mut member = transaction
                .prepare_cached(
                    "INSERT OR IGNORE INTO list_domains (list_id, domain_id) VALUES (?1, ?2)",
                )
                .map_err(|error| self.fail(error))?;
            let now = now_seconds();
            let mut seen = std::collections::HashSet::new();
            for domain in domains {
                if !seen.insert(domain.as_str()) {
                    report.duplicates += 1;
                    continue;
                }
                let inserted = insert
                    .execute(params![domain.as_str(), now])
                    .map_err(|error| self.fail(error))?;
                if inserted == 1 {
                    report.added += 1;
                } else {
                    report.already_present += 1;
                }
                if let Some(list) = list {
                    let domain_id: i64 = find
                        .query_row(params![domain.as_str()], |row| row.get(0))
                        .map_err(|error| self.fail(error))?;
                    report.joined_list += member
                        .execute(params![list.0, domain_id])
                        .map_err(|error| self.fail(error))?;
                }
            }
        }
        transaction.commit().map_err(|error| self.fail(error))?;
        Ok(report)
    }

    /// Removes domains from `list`, or from the database (with their history) when `list` is
    /// `None`. Returns how many were removed.
    pub fn remove_domains(
        &self,
        list: Option<ListId>,
        domains: &[DomainName],
    ) -> Result<usize, StoreError> {
        let transaction = self
            .connection
            .unchecked_transaction()
            .map_err(|error| self.fail(error))?;
        let mut removed = 0;
        {
            let mut statement = match list {
                Some(_) => transaction.prepare_cached(
                    "DELETE FROM list_domains WHERE list_id = ?2
                     AND domain_id = (SELECT id FROM domains WHERE name = ?1)",
                ),
                None => {
                    transaction.prepare_cached("DELETE FROM domains WHERE name = ?1 AND ?2 IS NULL")
                }
            }
            .map_err(|error| self.fail(error))?;
            for domain in domains {
                removed += statement
                    .execute(params![domain.as_str(), list.map(|id| id.0)])
                    .map_err(|error| self.fail(error))?;
            }
        }
        transaction.commit().map_err(|error| self.fail(error))?;
        Ok(removed)
    }

    /// Domains in `list` (or all), by name.
    pub fn domains(&self, list: Option<ListId>) -> Result<Vec<DomainName>, StoreError> {
        let mut domains = Vec::new();
        self.each_domain(list, |domain| domains.push(domain))?;
        Ok(domains)
    }

    /// [`Self::domains`] as a compact list (what a scan holds while it runs: a million names
    /// in about 20 MB).
    pub fn domain_names(&self, list: Option<ListId>) -> Result<DomainNames, StoreError> {
        let mut names = DomainNamesBuilder::default();
        self.each_domain(list, |domain| names.push(&domain))?;
        Ok(names.build())
    }

    /// Each domain in `list` (or all), by name; stored names that are not valid (a damaged
    /// file) are skipped with a warning.
    fn each_domain(
        &self,
        list: Option<ListId>,
        mut each: impl FnMut(DomainName),
    ) -> Result<(), StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT d.name FROM domains d
                 WHERE ?1 IS NULL OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1)
                 ORDER BY d.name",
            )
            .map_err(|error| self.fail(error))?;
        let names = statement
            .query_map(params![list.map(|id| id.0)], |row| row.get::<_, String>(0))
            .map_err(|error| self.fail(error))?;
        for name in names {
            let name = name.map_err(|error| self.fail(error))?;
            match DomainName::parse(&name) {
                Ok(domain) => each(domain),
                Err(error) => tracing::warn!(
                    "database {}: skipping stored domain '{name}': {error}",
                    self.path.display()
                ),
            }
        }
        Ok(())
    }

    /// How many of `domains` are already stored (each distinct name counted once), without
    /// changing anything: what `add_domains` would report as already present (`import
    /// --dry-run`, the import preview).
    pub fn count_present(&self, domains: &[DomainName]) -> Result<usize, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT 1 FROM domains WHERE name = ?1")
            .map_err(|error| self.fail(error))?;
        let mut seen = std::collections::HashSet::new();
        let mut present = 0;
        for domain in domains {
            if !seen.insert(domain.as_str()) {
                continue;
            }
            if statement
                .exists(params![domain.as_str()])
                .map_err(|error| self.fail(error))?
            {
                present += 1;
            }
        }
        Ok(present)
    }

    /// How many domains are stored (in `list`, or in all).
    pub fn domain_count(&self, list: Option<ListId>) -> Result<usize, StoreError> {
        let count: i64 = match list {
            Some(list) => self.connection.query_row(
                "SELECT count(*) FROM list_domains WHERE list_id = ?1",
                params![list.0],
                |row| row.get(0),
            ),
            None => self
                .connection
                .query_row("SELECT count(*) FROM domains", [], |row| row.get(0)),
        }
        .map_err(|error| self.fail(error))?;
        Ok(count as usize)
    }

    // ----- settings -----

    /// The saved settings (defaults for anything never saved).
    pub fn settings(&self) -> Result<Settings, StoreError> {
        let json: Option<String> = self
            .connection
            .query_row(
                "SELECT value FROM settings WHERE key = 'settings'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|error| self.fail(error))?;
        match json {
            None => Ok(Settings::default()),
            Some(json) => serde_json::from_str(&json).map_err(|error| StoreError::Corrupt {
                path: self.path.clone(),
                problem: format!("saved settings are unreadable: {error}"),
            }),
        }
    }

    /// Validates and saves settings.
    pub fn save_settings(&self, settings: &Settings) -> Result<(), StoreError> {
        let problems = settings.problems();
        if !problems.is_empty() {
            return Err(StoreError::Invalid(format!(
                "settings not saved: {}",
                problems.join("; ")
            )));
        }
        let json = serde_json::to_string(settings)
            .map_err(|error| StoreError::Invalid(error.to_string()))?;
        self.connection
            .execute(
                "INSERT INTO settings (key, value) VALUES ('settings', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![json],
            )
            .map_err(|error| self.fail(error))?;
        Ok(())
    }
}

fn valid_list_name(name: &str) -> Result<&str, StoreError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid(
            "a list name cannot be empty".to_string(),
        ));
    }
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "list name '{}' is too long or has control characters",
            name.escape_debug()
        )));
    }
    Ok(name)
}

pub(crate) fn now_seconds() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Turns a SQLite error into one that names the file and says what kind of trouble it is.
fn classify(path: &Path, error: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    let problem = error.to_string();
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Busy { path },
        Some(ErrorCode::NotADatabase) => StoreError::Foreign { path },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupt { path, problem },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path, problem },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
            StoreError::Open { path, problem }
        }
        _ => StoreError::Other { path, problem },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_existing_refuses_a_missing_file_and_creates_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("no-such-folder").join("monitor.sqlite3");
        let error = Store::open_existing(&path)
            .err()
            .expect("missing file refused");
        assert!(matches!(&error, StoreError::Missing { path: missing } if missing == &path));
        assert!(error.to_string().contains(&path.display().to_string()));
        assert!(
            !dir.path().join("no-such-folder").exists(),
            "no folder made"
        );
        // An existing file opens, and sees what was written.
        let path = dir.path().join("monitor.sqlite3");
        Store::open(&path)
            .expect("create")
            .create_list("Kept")
            .expect("list");
        let store = Store::open_existing(&path).expect("open existing");
        assert_eq!(store.lists().expect("lists")[0].name, "Kept");
    }

    #[test]
    fn data_version_moves_only_for_other_connections_commits() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("monitor.sqlite3");
        let watcher = Store::open(&path).expect("open");
        let writer = Store::open(&path).expect("second connection");
        let start = watcher.data_version().expect("version");
        assert_eq!(watcher.data_version().expect("version"), start, "stable");
        watcher.create_list("Own").expect("own write");
        assert_eq!(
            watcher.data_version().expect("version"),
            start,
            "own commits do not count"
        );
        writer.create_list("Other").expect("other write");
        let after = watcher.data_version().expect("version");
        assert_ne!(after, start, "another connection's commit is seen");
        assert_eq!(watcher.data_version().expect("version"), after);
    }

    #[test]
    fn a_consistent_read_sees_one_state_while_another_connection_writes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("monitor.sqlite3");
        let reader = Store::open(&path).expect("open");
        let writer = Store::open(&path).expect("second connection");
        writer.create_list("First").expect("write");
        let (before, during) = reader
            .read_consistent(|store| {
                let before = store.lists()?.len();
                writer.create_list("Second")?;
                Ok((before, store.lists()?.len()))
            })
            .expect("read");
        assert_eq!((before, during), (1, 1));
        assert_eq!(reader.lists().expect("lists").len(), 2, "seen afterwards");
    }
}
