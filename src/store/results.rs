//! Writing scans and their results, and storing change events.
//!
//! Owns: the scans table, runs (see `schema` for the run model), per-run MX rows, change
//! events (reading the states they compare, writing them, the once-per-certificate key of
//! `cert_expiring`) and the roll-up refresh when a scan ends. Every result is written in one
//! transaction with its events, so a crash never leaves half a result.
//! Must not touch: probing; the meaning of verdicts and the change rules (`model::changes`).

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use strum::VariantArray;
use time::OffsetDateTime;

use super::{ListId, ScanId, Store, StoreError, now_seconds};
use crate::model::adoption::AdoptionState;
use crate::model::adoption::AuthState;
use crate::model::changes::{
    self, AuthSnapshot, ChangeEvent, ChangeKind, DomainState, EarlierProbe,
};
use crate::model::stale::{self, Answer};
use crate::model::vocabulary::vocabulary;
use crate::model::{
    DomainName, DomainResult, NetworkPath, Outcome, TlsGrade, TlsVersion, Verdict, tls_grade,
};
use crate::settings::Settings;

/// What a scan covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanScope {
    All,
    List(String),
    Domains(Vec<DomainName>),
}

impl ScanScope {
    /// How the scope is shown and stored, e.g. `all`, `list:Customers`, `domains:3` (the
    /// text of its [`RecordedScope`]).
    pub fn describe(&self) -> String {
        RecordedScope::from(self).to_string()
    }

    /// The scope in words for status lines and summaries (see
    /// [`RecordedScope::describe_for_people`]); never stored.
    pub fn describe_for_people(&self) -> String {
        RecordedScope::from(self).describe_for_people()
    }
}

/// What a stored scan covered, as the scans table remembers it: `all`, `list:NAME`,
/// `domain:NAME` or `domains:COUNT`.
///
/// Not a [`ScanScope`]: a scan of several named domains stores only how many there were, so
/// the read form keeps that count (and cannot be scanned again). The text on disk is the one
/// [`ScanScope::describe`] has always written; `Display` writes it and `FromStr` reads it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RecordedScope {
    /// Every domain in the database.
    All,
    /// A named list, by its name when the scan ran.
    List(String),
    /// One domain given by name.
    Domain(DomainName),
    /// Several domains given by name (or none); only their number is stored.
    Domains { count: usize },
}

impl From<&ScanScope> for RecordedScope {
    fn from(scope: &ScanScope) -> Self {
        match scope {
            ScanScope::All => RecordedScope::All,
            ScanScope::List(name) => RecordedScope::List(name.clone()),
            ScanScope::Domains(domains) => match domains.as_slice() {
                [domain] => RecordedScope::Domain(domain.clone()),
                _ => RecordedScope::Domains {
                    count: domains.len(),
                },
            },
        }
    }
}

impl fmt::Display for RecordedScope {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordedScope::All => formatter.write_str(RecordedScope::ALL),
            RecordedScope::List(name) => write!(formatter, "{}:{name}", RecordedScope::LIST),
            RecordedScope::Domain(domain) => {
                write!(formatter, "{}:{domain}", RecordedScope::DOMAIN)
            }
            RecordedScope::Domains { count } => {
                write!(formatter, "{}:{count}", RecordedScope::DOMAINS)
            }
        }
    }
}

impl RecordedScope {
    /// The scope in words for people: `all domains`, `list Sample`, `example.com` (its Unicode
    /// form), `3 domains`. Status lines and summaries show this; the database keeps the
    /// `Display` text (`list:Sample`), which stays as it is.
    pub fn describe_for_people(&self) -> String {
        match self {
            RecordedScope::All => "all domains".to_string(),
            RecordedScope::List(name) => format!("list {name}"),
            RecordedScope::Domain(domain) => domain.display_name().into_owned(),
            RecordedScope::Domains { count: 1 } => "1 domain".to_string(),
            RecordedScope::Domains { count } => format!("{count} domains"),
        }
    }

    const ALL: &'static str = "all";
    const LIST: &'static str = "list";
    const DOMAIN: &'static str = "domain";
    const DOMAINS: &'static str = "domains";
}

impl FromStr for RecordedScope {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown =
            || format!("scan scope '{text}' is none of all, list:NAME, domain:NAME, domains:COUNT");
        if text == RecordedScope::ALL {
            return Ok(RecordedScope::All);
        }
        let (kind, rest) = text.split_once(':').ok_or_else(unknown)?;
        match kind {
            RecordedScope::LIST => Ok(RecordedScope::List(rest.to_string())),
            RecordedScope::DOMAIN => DomainName::parse(rest)
                .map(RecordedScope::Domain)
                .map_err(|_| unknown()),
            RecordedScope::DOMAINS => rest
                .parse()
                .map(|count| RecordedScope::Domains { count })
                .map_err(|_| unknown()),
            _ => Err(unknown()),
        }
    }
}

vocabulary! {
    /// How far a scan got, as stored in the scans table (the snake_case name, e.g. `finished`;
    /// `DeadlineReached` is stored as `deadline`).
    pub enum ScanStatus {
        /// Begun and not yet closed (by this process or another live one).
        Running,
        /// Every domain was probed.
        Finished,
        /// The scan deadline passed; the rest is left for the next scan.
        #[serde(rename = "deadline")]
        #[strum(serialize = "deadline")]
        DeadlineReached,
        /// Cancelled (by the user, or the monitor stopping mid-scan).
        Cancelled,
        /// The process died mid-scan; closed when the database was next opened.
        Interrupted,
        /// Aborted: the SOCKS proxy was lost mid-scan; what was stored before stays.
        ProxyLost,
    }
}

impl ScanStatus {
    /// For people: `finished`, `deadline reached`, `aborted (proxy lost)`...
    pub fn describe(self) -> &'static str {
        match self {
            ScanStatus::Running => "running",
            ScanStatus::Finished => "finished",
            ScanStatus::DeadlineReached => "deadline reached",
            ScanStatus::Cancelled => "cancelled",
            ScanStatus::Interrupted => "interrupted",
            ScanStatus::ProxyLost => "aborted (proxy lost)",
        }
    }
}

impl fmt::Display for ScanStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Verdict counts of a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanCounts {
    pub total: usize,
    pub done: usize,
    pub no_mail: usize,
    pub untestable: usize,
    pub no_starttls: usize,
    pub tls_failed: usize,
    pub tls_ok: usize,
    pub starttls: usize,
    pub pfs: usize,
    pub strict_valid: usize,
    pub all_three: usize,
    /// Testable results with the authenticated-transport facts (a sender view); 0 in scans
    /// stored before they existed.
    #[serde(default)]
    pub auth_testable: usize,
    /// Of those, `sender.authenticated`.
    #[serde(default)]
    pub authenticated: usize,
    /// Of those, `sender.at_risk`.
    #[serde(default)]
    pub at_risk: usize,
}

impl ScanCounts {
    /// Counts one more result.
    pub fn add(&mut self, result: &DomainResult) {
        self.done += 1;
        match result.verdict {
            Verdict::NoMail => self.no_mail += 1,
            Verdict::Untestable => self.untestable += 1,
            Verdict::NoStarttls => self.no_starttls += 1,
            Verdict::TlsFailed => self.tls_failed += 1,
            Verdict::TlsOk => self.tls_ok += 1,
        }
        let state = AdoptionState::of_domain(result);
        self.starttls += usize::from(state.starttls);
        self.pfs += usize::from(state.pfs);
        self.strict_valid += usize::from(state.strict_valid);
        self.all_three += usize::from(state.all_three());
        if let Some(auth) = state.auth.filter(|_| state.is_testable()) {
            self.auth_testable += 1;
            self.authenticated += usize::from(auth.authenticated);
            self.at_risk += usize::from(auth.at_risk);
        }
    }

    /// Testable results (`no_starttls`, `tls_failed`, `tls_ok`): the denominator of the rates.
    pub fn testable(&self) -> usize {
        self.no_starttls + self.tls_failed + self.tls_ok
    }

    /// The authenticated-transport part of a summary line: `; of 4 with DANE/MTA-STS facts:
    /// authenticated 50.0%, at risk 25.0%`; empty when no result had the facts.
    pub fn auth_summary(&self) -> String {
        if self.auth_testable == 0 {
            return String::new();
        }
        let percent =
            |part| crate::model::format::PercentFormat::PLAIN.of(part, self.auth_testable);
        format!(
            "; of {} with DANE/MTA-STS facts: authenticated {}, at risk {}",
            self.auth_testable,
            percent(self.authenticated),
            percent(self.at_risk)
        )
    }
}

/// A scan as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanInfo {
    pub id: ScanId,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// What the scan covered, as stored.
    pub scope: RecordedScope,
    /// How far it got.
    pub status: ScanStatus,
    pub total: usize,
    pub done: usize,
    pub counts: Option<ScanCounts>,
    /// The network path its sessions took (direct for scans stored before proxies existed).
    pub path: NetworkPath,
}

/// What recording one result did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RecordOutcome {
    /// True when the result differs from the domain's current state (a new run started).
    pub new_run: bool,
    pub events: Vec<ChangeEvent>,
    /// While the result is untestable and the domain keeps its last known state
    /// (`model::stale`): the first untestable probe since that state.
    pub stale_since: Option<OffsetDateTime>,
    /// The last known (testable) result that still counts, `probed_at` = when last confirmed.
    pub last_known: Option<Box<DomainResult>>,
}

impl RecordOutcome {
    /// Gives `result` what the store knows of its standing (`stale_since`, `last_known`): the
    /// domain result a scan prints and the app shows, like the store's own reads.
    pub fn annotate(&mut self, result: &mut DomainResult) {
        result.stale_since = self.stale_since;
        result.last_known = self.last_known.take();
    }
}

/// `sql` run with `params` through the connection's statement cache: the record path runs the
/// same few statements for every result of a scan, and parsing them again each time was a
/// visible share of a million-domain scan's CPU.
fn cached_execute(
    connection: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    connection.prepare_cached(sql)?.execute(params)
}

/// [`cached_execute`]'s `query_row`.
fn cached_query_row<T>(
    connection: &rusqlite::Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    connection.prepare_cached(sql)?.query_row(params, read)
}

/// SQL: the MX set of run `r` (`model::changes::mx_host_set`'s form: sorted, without repeats,
/// separated by spaces), from its shape's MX hosts (schema 10); a run migrated with a set its
/// shape does not give keeps its own.
pub(super) const RUN_MX_HOSTS: &str = "coalesce(r.mx_hosts_kept,
    (SELECT group_concat(m.host, ' ' ORDER BY m.host) FROM shape_mx m WHERE m.shape_id = r.shape_id),
    '')";

/// SQL: the columns of run `r` that [`PreviousRun`] reads, in its order.
fn previous_run_columns() -> String {
    format!(
        "r.id, r.fingerprint, r.verdict, r.starttls, r.pfs, r.strict_valid, {RUN_MX_HOSTS},
         r.cert_not_after, r.last_at, r.authenticated, r.dane, r.sts_outcome, r.sts_policy,
         r.tls_rpt"
    )
}

/// SQL: the latest run of domain `?1` with the columns [`PreviousRun`] reads, found by a
/// subquery on the domain's `latest_run_id`. The record path's SQL texts are built once: they
/// are the statement cache's keys, looked up for every result.
fn previous_run_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {} FROM runs r
             WHERE r.id = (SELECT latest_run_id FROM domains WHERE id = ?1)",
            previous_run_columns()
        )
    });
    &SQL
}

/// SQL: the latest run of domain `?1` other than run `?2` whose verdict is testable, with the
/// columns [`PreviousRun`] reads (TLS events compare with the last testable state).
fn last_testable_run_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {} FROM runs r
             WHERE r.domain_id = ?1 AND r.id != ?2 AND r.verdict IN ({})
             ORDER BY r.first_at DESC, r.id DESC LIMIT 1",
            previous_run_columns(),
            testable_verdicts_sql()
        )
    });
    &SQL
}

/// SQL: run `?1` becomes the latest of domain `?2`, with its known run and stale time.
fn set_latest_run_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE domains SET latest_run_id = ?1, {known} WHERE id = ?2",
            known = super::queries::known_run_assignments("?1")
        )
    });
    &SQL
}

/// The previous state of a domain, as far as events need it.
#[derive(Clone)]
struct PreviousRun {
    id: i64,
    fingerprint: i64,
    state: DomainState,
    /// Its earliest certificate end date and when it was last probed.
    earlier: EarlierProbe,
}

/// The columns a run stores besides its shape.
struct RunSummary {
    tls_version: Option<TlsVersion>,
    cert_not_after: Option<i64>,
    mx_count: usize,
    provider: Option<String>,
}

fn summarize(result: &DomainResult) -> RunSummary {
    let tls_version = result
        .mx
        .iter()
        .flat_map(|host| &host.addresses)
        .filter(|address| address.outcome == Outcome::TlsOk)
        .filter_map(|address| address.tls_version)
        .min();
    let cert_not_after = result
        .mx
        .iter()
        .flat_map(|host| &host.addresses)
        .filter_map(|address| address.cert_not_after)
        .map(OffsetDateTime::unix_timestamp)
        .min();
    RunSummary {
        tls_version,
        cert_not_after,
        mx_count: result.mx.len(),
        provider: result.provider(),
    }
}

/// The authenticated-transport columns of a run (schema 6): what the roll-ups count (`dane`,
/// `sts_outcome`, `authenticated`, `at_risk`) and what the change events compare
/// (`sts_policy`, `tls_rpt`, as `model::changes` summarizes them). All NULL for a result without
/// a sender view (stored before the facts existed, or `no_mail`): `authenticated IS NULL` is
/// how the store tells "no facts".
pub(super) struct AuthColumns {
    pub(super) dane: Option<&'static str>,
    pub(super) sts_outcome: Option<&'static str>,
    pub(super) sts_policy: Option<String>,
    pub(super) tls_rpt: Option<String>,
    pub(super) authenticated: Option<bool>,
    pub(super) at_risk: Option<bool>,
    /// Per MX host (by name): its `dane`, `sts_passes`, and the sender rule over it alone
    /// (`AuthState::of_host`; NULL for an untestable host).
    pub(super) hosts: Vec<(String, HostAuthColumns)>,
}

/// The authenticated-transport columns of one `shape_mx` row.
pub(super) struct HostAuthColumns {
    pub(super) dane: Option<&'static str>,
    pub(super) sts_passes: Option<bool>,
    pub(super) authenticated: Option<bool>,
    pub(super) at_risk: Option<bool>,
}

/// The authenticated-transport columns of `result` (see [`AuthColumns`]).
pub(super) fn auth_columns(result: &DomainResult) -> AuthColumns {
    let snapshot = AuthSnapshot::of(result);
    let hosts = result
        .mx
        .iter()
        .map(|host| {
            let state = AuthState::of_host(result, host);
            (
                host.host.clone(),
                HostAuthColumns {
                    dane: host.dane.map(|dane| dane.as_str()),
                    sts_passes: host.sts_passes,
                    authenticated: state.map(|state| state.authenticated),
                    at_risk: state.map(|state| state.at_risk),
                },
            )
        })
        .collect();
    AuthColumns {
        dane: snapshot
            .as_ref()
            .and_then(|snapshot| snapshot.dane)
            .map(|dane| dane.as_str()),
        sts_outcome: snapshot
            .as_ref()
            .and_then(|snapshot| snapshot.sts_outcome)
            .map(|outcome| outcome.as_str()),
        sts_policy: snapshot
            .as_ref()
            .and_then(|snapshot| snapshot.sts_policy.clone()),
        tls_rpt: snapshot
            .as_ref()
            .and_then(|snapshot| snapshot.tls_rpt.clone()),
        authenticated: result
            .sender
            .filter(|_| snapshot.is_some())
            .map(|sender| sender.authenticated),
        at_risk: result
            .sender
            .filter(|_| snapshot.is_some())
            .map(|sender| sender.at_risk),
        hosts,
    }
}

/// A stored snake_case name (a `dane` or `sts_outcome` column) read back as its type; None for
/// NULL. A name this build never writes is damage.
pub(super) fn stored_name<T: serde::de::DeserializeOwned>(
    text: Option<String>,
) -> Result<Option<T>, String> {
    match text {
        None => Ok(None),
        Some(text) => serde_json::from_value(serde_json::Value::String(text.clone()))
            .map(Some)
            .map_err(|_| format!("unknown value '{text}' in a stored run")),
    }
}

/// The latest-results row `result` would give, computed the way the store computes its columns
/// (so a row updated in place while a scan runs matches the row a reload returns): a result
/// that carries a `last_known` one (stale) shows that one, marked stale. "State since" is the
/// probe time (of the last known result, when stale); the caller keeps an older one when the
/// state did not change.
pub fn latest_row_of(result: &DomainResult) -> super::LatestRow {
    let shown = stale::counted(result);
    let summary = summarize(shown);
    super::LatestRow {
        domain: result.domain.clone(),
        verdict: Some(shown.verdict),
        starttls: shown.starttls,
        pfs: shown.pfs,
        strict_valid: shown.strict_valid,
        tls_version: summary
            .tls_version
            .map(|version| version.as_str().to_string()),
        // From the recorded facts, as the stored column is (`tls_grade::grade_of_domain`).
        tls_grade: tls_grade::grade_of_domain(shown),
        cert_not_after: summary
            .cert_not_after
            .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok()),
        provider: summary.provider,
        mx_count: summary.mx_count,
        last_probed: Some(result.probed_at),
        state_since: Some(shown.probed_at),
        stale: result
            .last_known
            .as_deref()
            .map(|known| super::queries::Staleness {
                since: result.stale_since.unwrap_or(result.probed_at),
                last_known_at: known.probed_at,
                why: stale::why_untestable(result),
            }),
        auth: super::queries::RowAuth::of(shown),
    }
}

impl Store {
    /// Starts a direct scan; its status is `running` until [`Store::finish_scan`].
    pub fn begin_scan(
        &self,
        scope: &ScanScope,
        settings: &Settings,
        total: usize,
    ) -> Result<ScanId, StoreError> {
        self.begin_scan_via(scope, settings, total, &NetworkPath::Direct)
    }

    /// Starts a scan whose sessions take `path`; the scan keeps a copy of the settings with
    /// the proxy password masked.
    pub fn begin_scan_via(
        &self,
        scope: &ScanScope,
        settings: &Settings,
        total: usize,
        path: &NetworkPath,
    ) -> Result<ScanId, StoreError> {
        let settings_json = serde_json::to_string(&settings.masked()).unwrap_or_default();
        self.connection
            .execute(
                "INSERT INTO scans (started_at, scope, settings, status, total, path) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    now_seconds(),
                    scope.describe(),
                    settings_json,
                    ScanStatus::Running.as_str(),
                    total as i64,
                    path.to_string()
                ],
            )
            .map_err(|error| self.fail(error))?;
        Ok(ScanId(self.connection.last_insert_rowid()))
    }

    /// Stores one domain's result (and its change events) in one transaction.
    ///
    /// `expiry_warning_days`: raise `cert_expiring` when a certificate ends within that many days.
    pub fn record_result(
        &self,
        scan: Option<ScanId>,
        result: &DomainResult,
        expiry_warning_days: u32,
    ) -> Result<RecordOutcome, StoreError> {
        self.record_results(scan, std::slice::from_ref(result), expiry_warning_days)
            .pop()
            .unwrap_or_else(|| {
                Err(StoreError::Invalid(
                    "internal error: no result recorded".into(),
                ))
            })
    }

    /// Stores several results (and their change events) in one transaction, each as
    /// [`Store::record_result`] would: what one result's write does is kept or undone whole
    /// (a savepoint each), so one damaged domain does not cost the others theirs. One outcome per
    /// result, in order; when the transaction itself fails, each says so.
    pub fn record_results(
        &self,
        scan: Option<ScanId>,
        results: &[DomainResult],
        expiry_warning_days: u32,
    ) -> Vec<Result<RecordOutcome, StoreError>> {
        let recorded = self.record_results_committed(scan, results, expiry_warning_days);
        let mut parts = self.parts.borrow_mut();
        match recorded {
            Ok(outcomes) => {
                parts.commit();
                outcomes
            }
            Err(error) => {
                parts.rollback();
                let problem = error.to_string();
                results
                    .iter()
                    .map(|_| {
                        Err(StoreError::Other {
                            path: self.path.clone(),
                            problem: problem.clone(),
                        })
                    })
                    .collect()
            }
        }
    }

    /// [`Store::record_results`]'s transaction, committed when it returns `Ok`.
    fn record_results_committed(
        &self,
        scan: Option<ScanId>,
        results: &[DomainResult],
        expiry_warning_days: u32,
    ) -> Result<Vec<Result<RecordOutcome, StoreError>>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let max_days = self.settings()?.stale_max_days;
        let transaction = self.connection.unchecked_transaction().map_err(fail)?;
        let mut outcomes = Vec::with_capacity(results.len());
        let mut stored = 0i64;
        for result in results {
            cached_execute(&transaction, "SAVEPOINT one_result", []).map_err(fail)?;
            let mark = self.parts.borrow().mark();
            match self.record_one(&transaction, scan, result, expiry_warning_days, max_days) {
                Ok(outcome) => {
                    cached_execute(&transaction, "RELEASE one_result", []).map_err(fail)?;
                    stored += 1;
                    outcomes.push(Ok(outcome));
                }
                Err(error) => {
                    cached_execute(&transaction, "ROLLBACK TO one_result", []).map_err(fail)?;
                    cached_execute(&transaction, "RELEASE one_result", []).map_err(fail)?;
                    self.parts.borrow_mut().undo_to(mark);
                    outcomes.push(Err(error));
                }
            }
        }
        if let Some(scan) = scan
            && stored > 0
        {
            transaction
                .execute(
                    "UPDATE scans SET done = done + ?1 WHERE id = ?2",
                    params![stored, scan.0],
                )
                .map_err(fail)?;
        }
        transaction.commit().map_err(fail)?;
        Ok(outcomes)
    }

    /// Writes one result in the open transaction `transaction` (see [`Store::record_result`]).
    fn record_one(
        &self,
        transaction: &rusqlite::Connection,
        scan: Option<ScanId>,
        result: &DomainResult,
        expiry_warning_days: u32,
        max_days: u32,
    ) -> Result<RecordOutcome, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let now = now_seconds();
        let at = result.probed_at.unix_timestamp();
        let answer = Answer::of(result);
        cached_execute(
            transaction,
            "INSERT OR IGNORE INTO domains (name, added_at) VALUES (?1, ?2)",
            params![result.domain.as_str(), now],
        )
        .map_err(fail)?;
        let domain_id: i64 = cached_query_row(
            transaction,
            "SELECT id FROM domains WHERE name = ?1",
            params![result.domain.as_str()],
            |row| row.get(0),
        )
        .map_err(fail)?;
        let read_run = |row: &rusqlite::Row<'_>| -> rusqlite::Result<PreviousRun> {
            let verdict: String = row.get(2)?;
            let Ok(verdict) = verdict.parse::<Verdict>() else {
                return Err(rusqlite::Error::FromSqlConversionFailure(
                    2,
                    rusqlite::types::Type::Text,
                    format!("unknown verdict '{verdict}' in a stored run").into(),
                ));
            };
            let damaged = |column: usize, problem: String| {
                rusqlite::Error::FromSqlConversionFailure(
                    column,
                    rusqlite::types::Type::Text,
                    problem.into(),
                )
            };
            // Schema 6's columns; `authenticated` NULL: stored before the facts existed.
            let auth = match row.get::<_, Option<bool>>(9)? {
                None => None,
                Some(_) => Some(AuthSnapshot {
                    dane: stored_name(row.get(10)?).map_err(|problem| damaged(10, problem))?,
                    sts_outcome: stored_name(row.get(11)?)
                        .map_err(|problem| damaged(11, problem))?,
                    sts_policy: row.get(12)?,
                    tls_rpt: row.get(13)?,
                }),
            };
            Ok(PreviousRun {
                id: row.get(0)?,
                fingerprint: row.get(1)?,
                state: DomainState {
                    verdict,
                    starttls: row.get(3)?,
                    pfs: row.get(4)?,
                    strict_valid: row.get(5)?,
                    mx_hosts: row.get(6)?,
                    auth,
                },
                earlier: EarlierProbe {
                    cert_not_after: row.get::<_, Option<i64>>(7)?.map(timestamp),
                    probed_at: timestamp(row.get(8)?),
                },
            })
        };
        let previous: Option<PreviousRun> = cached_query_row(
            transaction,
            previous_run_sql(),
            params![domain_id],
            read_run,
        )
        .optional()
        .map_err(fail)?;
        let summary = summarize(result);
        let fingerprint = self.parts.borrow_mut().fingerprint(result);
        let mut outcome = RecordOutcome::default();
        let scan_id = scan.map(|scan| scan.0);

        let auth = auth_columns(result);
        // A run stored before the authenticated-transport facts existed is not extended by a
        // result that has them: the new run keeps them (and is the baseline of their events).
        let same_state = previous.as_ref().is_some_and(|previous| {
            previous.fingerprint == fingerprint
                && (previous.state.auth.is_some() || auth.authenticated.is_none())
        });
        if let (true, Some(previous)) = (same_state, previous.as_ref()) {
            cached_execute(transaction,
                    "UPDATE runs SET last_at = max(last_at, ?1), last_scan_id = coalesce(?2, last_scan_id),
                     times_seen = times_seen + 1 WHERE id = ?3",
                    params![at, scan_id, previous.id],
                )
                .map_err(fail)?;
        } else {
            outcome.new_run = true;
            // The shared parts (`parts`); the store's own annotations are worked out when
            // read, never stored.
            let (shape, new_shape) = self
                .parts
                .borrow_mut()
                .store(transaction, result)
                .map_err(fail)?;
            let probed_at_ns =
                i64::try_from(result.probed_at.unix_timestamp_nanos()).map_err(|_| {
                    StoreError::Invalid(format!("probe time of {} is out of range", result.domain))
                })?;
            let why =
                (result.verdict == Verdict::Untestable).then(|| stale::why_untestable(result));
            cached_execute(transaction,
                    "INSERT INTO runs (domain_id, first_scan_id, last_scan_id, first_at, last_at, fingerprint,
                     verdict, starttls, pfs, strict_valid, tls_version, cert_not_after, mx_count,
                     provider, shape_id, definitive, untestable_why, tls_grade, dane, sts_outcome,
                     sts_policy, tls_rpt, authenticated, at_risk, probed_at_ns)
                     VALUES (?1, ?2, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
                    params![
                        domain_id,
                        scan_id,
                        at,
                        fingerprint,
                        result.verdict.as_str(),
                        result.starttls,
                        result.pfs,
                        result.strict_valid,
                        summary.tls_version.map(TlsVersion::as_str),
                        summary.cert_not_after,
                        summary.mx_count as i64,
                        summary.provider,
                        shape,
                        answer == Answer::Definitive,
                        why,
                        tls_grade::grade_of_domain(result).map(TlsGrade::as_str),
                        auth.dane,
                        auth.sts_outcome,
                        auth.sts_policy,
                        auth.tls_rpt,
                        auth.authenticated,
                        auth.at_risk,
                        probed_at_ns,
                    ],
                )
                .map_err(fail)?;
            let run_id = transaction.last_insert_rowid();
            // The per-MX-host columns the roll-ups count belong to the shape: every run of the
            // shape has the same MX hosts in the same states.
            if new_shape {
                let mut insert_mx = transaction
                    .prepare_cached(
                        "INSERT OR IGNORE INTO shape_mx (shape_id, host, verdict, starttls, pfs, strict_valid,
                         tls_grade, dane, sts_passes, authenticated, at_risk)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )
                    .map_err(fail)?;
                for (host, (_, host_auth)) in result.mx.iter().zip(&auth.hosts) {
                    let host_summary = crate::model::aggregate(&host.addresses);
                    insert_mx
                        .execute(params![
                            shape,
                            host.host,
                            host.verdict.as_str(),
                            host_summary.starttls,
                            host_summary.pfs,
                            host_summary.strict_valid,
                            tls_grade::grade_of_addresses(&host.addresses).map(TlsGrade::as_str),
                            host_auth.dane,
                            host_auth.sts_passes,
                            host_auth.authenticated,
                            host_auth.at_risk,
                        ])
                        .map_err(fail)?;
                }
            }
            cached_execute(
                transaction,
                set_latest_run_sql(),
                params![run_id, domain_id],
            )
            .map_err(fail)?;

            // TLS events compare with the last *testable* state (see `model::changes`).
            let last_testable: Option<DomainState> = match &previous {
                Some(previous) if previous.state.verdict.is_testable() => {
                    Some(previous.state.clone())
                }
                _ => cached_query_row(
                    transaction,
                    last_testable_run_sql(),
                    params![domain_id, run_id],
                    read_run,
                )
                .optional()
                .map_err(fail)?
                .map(|run| run.state),
            };
            outcome.events = changes::changes(
                previous.as_ref().map(|previous| &previous.state),
                last_testable.as_ref(),
                result,
            );
        }

        // Expiring certificates: once per certificate end date.
        // A first result is a baseline; afterwards, news when the certificate entered the window.
        if let Some(expiring) = changes::cert_expiring(result, expiry_warning_days)
            && changes::cert_expiring_is_news(
                &expiring,
                previous.as_ref().map(|previous| &previous.earlier),
                expiry_warning_days,
            )
        {
            let already: bool = cached_query_row(transaction,
                    "SELECT EXISTS(SELECT 1 FROM events WHERE domain_id = ?1 AND kind = ?2 AND dedupe_key = ?3)",
                    params![
                        domain_id,
                        ChangeKind::CertExpiring.as_str(),
                        expiring.dedupe_key
                    ],
                    |row| row.get(0),
                )
                .map_err(fail)?;
            if !already {
                cached_execute(
                    transaction,
                    "INSERT INTO events (domain_id, scan_id, at, kind, detail, dedupe_key)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        domain_id,
                        scan_id,
                        at,
                        expiring.event.kind.as_str(),
                        expiring.event.detail,
                        expiring.dedupe_key
                    ],
                )
                .map_err(fail)?;
                outcome.events.push(expiring.event);
            }
        }
        {
            let mut insert_event = transaction
                .prepare_cached(
                    "INSERT INTO events (domain_id, scan_id, at, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(fail)?;
            for event in outcome
                .events
                .iter()
                .filter(|event| event.kind != ChangeKind::CertExpiring)
            {
                insert_event
                    .execute(params![
                        domain_id,
                        scan_id,
                        at,
                        event.kind.as_str(),
                        event.detail
                    ])
                    .map_err(fail)?;
            }
        }
        // Stale state: an inconclusive result may leave the last known state counting.
        if answer == Answer::Inconclusive {
            /// Verdict, definitive, last confirmed, since, shape, probe time.
            type KnownRun = (String, bool, i64, Option<i64>, i64, Option<i64>);
            let known: Option<KnownRun> = cached_query_row(
                transaction,
                "SELECT k.verdict, k.definitive, k.last_at, d.stale_since, k.shape_id, k.probed_at_ns
                 FROM domains d JOIN runs k ON k.id = d.known_run_id WHERE d.id = ?1",
                params![domain_id],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                    ))
                },
            )
            .optional()
            .map_err(fail)?;
            if let Some((verdict, definitive, last_at, since, shape, probed_at_ns)) = known {
                let known_answer = verdict
                    .parse::<Verdict>()
                    .map(|verdict| Answer::new(verdict, definitive))
                    .unwrap_or(Answer::Inconclusive);
                if stale::keeps_last_known(
                    answer,
                    result.probed_at,
                    Some((known_answer, timestamp(last_at))),
                    max_days,
                ) {
                    let mut last_known = self.stored_result(&result.domain, shape, probed_at_ns)?;
                    last_known.probed_at = timestamp(last_at);
                    last_known.stale_since = None;
                    last_known.last_known = None;
                    outcome.stale_since = Some(since.map_or(result.probed_at, timestamp));
                    outcome.last_known = Some(Box::new(last_known));
                }
            }
        }
        Ok(outcome)
    }

    /// Ends a scan with its counts and refreshes the trend roll-ups of every list it touched.
    pub fn finish_scan(
        &self,
        scan: ScanId,
        status: ScanStatus,
        counts: &ScanCounts,
    ) -> Result<(), StoreError> {
        let counts_json = serde_json::to_string(counts).unwrap_or_default();
        self.connection
            .execute(
                "UPDATE scans SET finished_at = ?1, status = ?2, counts = ?3 WHERE id = ?4",
                params![now_seconds(), status.as_str(), counts_json, scan.0],
            )
            .map_err(|error| self.fail(error))?;
        self.refresh_rollups_for_scan(scan, OffsetDateTime::now_utc())
    }

    /// Recomputes today's roll-up of every list holding a domain that `scan` probed.
    fn refresh_rollups_for_scan(
        &self,
        scan: ScanId,
        as_of: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let lists: Vec<i64> = {
            let mut statement = self
                .connection
                .prepare_cached(
                    "SELECT DISTINCT ld.list_id FROM runs r JOIN list_domains ld ON ld.domain_id = r.domain_id
                     WHERE r.last_scan_id = ?1",
                )
                .map_err(|error| self.fail(error))?;
            let rows = statement
                .query_map(params![scan.0], |row| row.get(0))
                .map_err(|error| self.fail(error))?;
            rows.collect::<Result<_, _>>()
                .map_err(|error| self.fail(error))?
        };
        self.refresh_rollup(None, as_of)?;
        for list in lists {
            self.refresh_rollup(Some(ListId(list)), as_of)?;
        }
        Ok(())
    }

    /// Marks scans left `running` by a process that died as `interrupted`, and rolls up what
    /// they stored.
    pub(super) fn mark_interrupted_scans(&self) -> Result<(), StoreError> {
        let running: Vec<(i64, i64)> = {
            let mut statement = self
                .connection
                .prepare("SELECT id, started_at FROM scans WHERE status = ?1")
                .map_err(|error| self.fail(error))?;
            let rows = statement
                .query_map(params![ScanStatus::Running.as_str()], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .map_err(|error| self.fail(error))?;
            rows.collect::<Result<_, _>>()
                .map_err(|error| self.fail(error))?
        };
        for (id, _started_at) in running {
            // Another live process may own a running scan; only claim scans whose results
            // stopped coming for a while.
            let last_activity: Option<i64> = self
                .connection
                .query_row(
                    "SELECT max(last_at) FROM runs WHERE last_scan_id = ?1",
                    params![id],
                    |row| row.get(0),
                )
                .map_err(|error| self.fail(error))?;
            let started: i64 = self
                .connection
                .query_row(
                    "SELECT started_at FROM scans WHERE id = ?1",
                    params![id],
                    |row| row.get(0),
                )
                .map_err(|error| self.fail(error))?;
            let idle_since = last_activity.unwrap_or(started).max(started);
            if now_seconds() - idle_since < 15 * 60 {
                continue;
            }
            self.connection
                .execute(
                    "UPDATE scans SET status = ?1, finished_at = ?2 WHERE id = ?3",
                    params![ScanStatus::Interrupted.as_str(), idle_since, id],
                )
                .map_err(|error| self.fail(error))?;
            let as_of = OffsetDateTime::from_unix_timestamp(idle_since)
                .unwrap_or_else(|_| OffsetDateTime::now_utc());
            self.refresh_rollups_for_scan(ScanId(id), as_of)?;
        }
        Ok(())
    }

    /// Marks a scan this process was running as interrupted right away (cancel, crash recovery
    /// in tests), and rolls up what it stored.
    pub fn abandon_scan(&self, scan: ScanId, status: ScanStatus) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE scans SET status = ?1, finished_at = ?2 WHERE id = ?3",
                params![status.as_str(), now_seconds(), scan.0],
            )
            .map_err(|error| self.fail(error))?;
        self.refresh_rollups_for_scan(scan, OffsetDateTime::now_utc())
    }

    /// Where the network path of the scans changed, oldest first: each change's start time and
    /// the path from then on (see [`crate::model::network_path::path_changes`]). Trends marks
    /// them, since two vantage points can see different things.
    pub fn path_changes(&self) -> Result<Vec<(OffsetDateTime, NetworkPath)>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let mut statement = self
            .connection
            .prepare_cached("SELECT started_at, path FROM scans ORDER BY started_at, id")
            .map_err(fail)?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Option<String>>(1)?))
            })
            .map_err(fail)?;
        let mut scans = Vec::new();
        for row in rows {
            let (started_at, path) = row.map_err(fail)?;
            let path = path
                .as_deref()
                .and_then(NetworkPath::parse)
                .unwrap_or_default();
            scans.push((timestamp(started_at), path));
        }
        Ok(crate::model::network_path::path_changes(
            scans.iter().map(|(at, path)| (*at, path)),
        ))
    }

    /// The most recent scan, if any.
    pub fn last_scan(&self) -> Result<Option<ScanInfo>, StoreError> {
        self.scans(1).map(|mut scans| scans.pop())
    }

    /// The most recent scans, newest first. A scope or status this build does not know means
    /// the file was damaged (a newer writer changes the schema version and is refused).
    pub fn scans(&self, limit: usize) -> Result<Vec<ScanInfo>, StoreError> {
        self.scans_where(limit, None)
    }

    /// One scan, None when there is no scan of that id.
    pub fn scan_info(&self, scan: ScanId) -> Result<Option<ScanInfo>, StoreError> {
        Ok(self.scans_where(1, Some(scan))?.pop())
    }

    /// The most recent scans (only `only` when given), newest first.
    fn scans_where(&self, limit: usize, only: Option<ScanId>) -> Result<Vec<ScanInfo>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT id, started_at, finished_at, scope, status, total, done, counts, path
                 FROM scans WHERE (?2 IS NULL OR id = ?2) ORDER BY id DESC LIMIT ?1",
            )
            .map_err(fail)?;
        let mut rows = statement
            .query(params![limit as i64, only.map(|scan| scan.0)])
            .map_err(fail)?;
        let mut scans = Vec::new();
        while let Some(row) = rows.next().map_err(fail)? {
            let id = ScanId(row.get(0).map_err(fail)?);
            let corrupt = |problem: String| StoreError::Corrupt {
                path: self.path.clone(),
                problem: format!("scan {}: {problem}", id.0),
            };
            let scope: String = row.get(3).map_err(fail)?;
            let status: String = row.get(4).map_err(fail)?;
            let counts: Option<String> = row.get(7).map_err(fail)?;
            let path: Option<String> = row.get(8).map_err(fail)?;
            let path = match path {
                None => NetworkPath::Direct,
                Some(text) => NetworkPath::parse(&text)
                    .ok_or_else(|| corrupt(format!("unknown network path '{text}'")))?,
            };
            scans.push(ScanInfo {
                id,
                started_at: timestamp(row.get(1).map_err(fail)?),
                finished_at: row.get::<_, Option<i64>>(2).map_err(fail)?.map(timestamp),
                scope: scope.parse().map_err(corrupt)?,
                status: status
                    .parse()
                    .map_err(|_| corrupt(format!("unknown scan status '{status}'")))?,
                total: row.get::<_, i64>(5).map_err(fail)? as usize,
                done: row.get::<_, i64>(6).map_err(fail)? as usize,
                counts: counts.and_then(|json| serde_json::from_str(&json).ok()),
                path,
            });
        }
        Ok(scans)
    }
}

/// The testable verdicts as an SQL list, `'no_starttls', 'tls_failed', 'tls_ok'` (our own
/// names, never outside text, so quoting them in place is safe).
pub(super) fn testable_verdicts_sql() -> String {
    Verdict::VARIANTS
        .iter()
        .filter(|verdict| verdict.is_testable())
        .map(|verdict| format!("'{}'", verdict.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Seconds since the epoch to a timestamp (the epoch itself if out of range).
pub(crate) fn timestamp(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DnsError, Outcome};
    use time::Duration;

    fn domain(name: &str) -> DomainName {
        DomainName::parse(name).expect("valid")
    }

    /// What the store keeps beside each domain's latest run, and what the rule finds among
    /// all of the domain's runs, by domain name.
    fn kept_and_ruled(store: &Store) -> (Vec<KnownColumns>, Vec<KnownColumns>) {
        let read = |sql: &str| -> Vec<KnownColumns> {
            store
                .connection
                .prepare(sql)
                .expect("prepare")
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        };
        let kept = read("SELECT name, known_run_id, stale_since FROM domains ORDER BY name");
        let ruled = read(&format!(
            "SELECT d.name, k.id, CASE WHEN k.id IS NOT NULL THEN {since} END
             FROM domains d LEFT JOIN runs r ON r.id = d.latest_run_id
             LEFT JOIN runs k ON k.id = ({known}) ORDER BY d.name",
            since = super::super::queries::first_after_sql("k"),
            known = super::super::queries::last_conclusive_sql("r"),
        ));
        (kept, ruled)
    }

    /// A domain's name, its last known run and when the runs after it began.
    type KnownColumns = (String, Option<i64>, Option<i64>);

    #[test]
    fn the_last_known_run_kept_beside_the_latest_is_the_one_the_rule_finds() {
        use crate::model::test_support::{address, mx_host};
        let store = Store::open_in_memory().expect("store");
        let start = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("valid")
            - Duration::days(20);
        let at = |hours: i64| start + Duration::hours(hours);
        let with = |name: &str, outcome: Outcome, hours: i64| {
            let host = mx_host(&format!("mx.{name}"), vec![address(outcome, true, true)]);
            DomainResult::new(domain(name), false, None, at(hours), vec![host])
        };
        let failing = |name: &str, error: DnsError, hours: i64| {
            DomainResult::new(domain(name), false, Some(error), at(hours), vec![])
        };
        // Good, an outage over two probes (the second extends the first), back, out again,
        // a late result that began before the outage's run, and a gone domain (definitive).
        let steps = [
            with("a.example", Outcome::TlsOk, 0),
            with("b.example", Outcome::NoStarttls, 0),
            failing("a.example", DnsError::Timeout, 24),
            failing("a.example", DnsError::Timeout, 48),
            with("b.example", Outcome::Untestable, 48),
            with("a.example", Outcome::TlsOk, 72),
            failing("a.example", DnsError::Servfail, 96),
            with("a.example", Outcome::NoStarttls, 90),
            failing("a.example", DnsError::Timeout, 120),
            failing("b.example", DnsError::Nxdomain, 120),
            failing("b.example", DnsError::Timeout, 144),
            failing("c.example", DnsError::Timeout, 144),
        ];
        let mut kept_some = 0;
        for (step, result) in steps.iter().enumerate() {
            store.record_result(None, result, 14).expect("recorded");
            let (kept, ruled) = kept_and_ruled(&store);
            assert_eq!(
                kept, ruled,
                "after step {step} ({} at {})",
                result.domain, result.probed_at
            );
            kept_some += kept.iter().filter(|(_, known, _)| known.is_some()).count();
        }
        assert!(
            kept_some >= 5,
            "the steps keep a last known run often: {kept_some}"
        );
        let latest = store
            .latest(&super::super::LatestFilter::default())
            .expect("latest");
        let a = latest
            .iter()
            .find(|row| row.domain.as_str() == "a.example")
            .expect("a");
        assert!(
            a.stale.is_some(),
            "a.example shows its last known state: {a:?}"
        );
    }

    #[test]
    fn the_record_path_reads_earlier_runs_without_preparing_its_statements_again() {
        use crate::model::test_support::{address, mx_host};
        let store = Store::open_in_memory().expect("store");
        let at = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .expect("valid");
        let batch = |outcome: Outcome| -> Vec<DomainResult> {
            (0..60)
                .map(|index| {
                    let host = mx_host(
                        &format!("mx{}.example", index % 7),
                        vec![address(outcome, true, true)],
                    );
                    DomainResult::new(
                        domain(&format!("d{index}.example")),
                        false,
                        None,
                        at,
                        vec![host],
                    )
                })
                .collect()
        };
        // A first scan, then a second in which every domain has a previous run to read.
        for outcome in [Outcome::TlsOk, Outcome::NoStarttls] {
            let recorded = store.record_results(None, &batch(outcome), 14);
            assert!(recorded.iter().all(Result::is_ok), "{recorded:?}");
        }
        // The previous run is read for every result; the last testable run for each of the
        // first scan's (no previous run) and each after an untestable one.
        for (what, sql) in [
            ("previous-run lookup", previous_run_sql()),
            ("last-testable-run lookup", last_testable_run_sql()),
        ] {
            let reprepared = store
                .connection
                .prepare_cached(sql)
                .expect("the record path's cached statement")
                .get_status(rusqlite::StatementStatus::RePrepare);
            assert!(
                reprepared <= 2,
                "the {what} was prepared again {reprepared} times for 120 results"
            );
        }
    }

    #[test]
    fn scan_states_are_named_once() {
        crate::model::test_support::assert_names_agree::<ScanStatus>();
        assert_eq!(ScanStatus::DeadlineReached.as_str(), "deadline");
        assert_eq!("interrupted".parse(), Ok(ScanStatus::Interrupted));
    }

    #[test]
    fn a_scope_reads_in_words_for_people_while_the_stored_text_stays() {
        let cases = [
            (ScanScope::All, "all domains"),
            (ScanScope::List("Sample".to_string()), "list Sample"),
            (ScanScope::Domains(vec![domain("a.example")]), "a.example"),
            (
                ScanScope::Domains(vec![domain("xn--bcher-kva.example")]),
                "bücher.example",
            ),
            (
                ScanScope::Domains(vec![domain("a.example"), domain("b.example")]),
                "2 domains",
            ),
        ];
        for (scope, words) in cases {
            assert_eq!(scope.describe_for_people(), words);
            assert!(!scope.describe_for_people().contains(':'), "{words}");
        }
        assert_eq!(
            RecordedScope::Domains { count: 1 }.describe_for_people(),
            "1 domain"
        );
        assert_eq!(
            ScanScope::List("Sample".to_string()).describe(),
            "list:Sample"
        );
    }

    #[test]
    fn a_scope_is_stored_as_describe_always_wrote_it_and_reads_back() {
        let cases = [
            (ScanScope::All, "all", RecordedScope::All),
            (
                ScanScope::List("Customers: EU".to_string()),
                "list:Customers: EU",
                RecordedScope::List("Customers: EU".to_string()),
            ),
            (
                ScanScope::Domains(vec![domain("a.example")]),
                "domain:a.example",
                RecordedScope::Domain(domain("a.example")),
            ),
            (
                ScanScope::Domains(vec![domain("a.example"), domain("b.example")]),
                "domains:2",
                RecordedScope::Domains { count: 2 },
            ),
            (
                ScanScope::Domains(Vec::new()),
                "domains:0",
                RecordedScope::Domains { count: 0 },
            ),
        ];
        for (scope, text, recorded) in cases {
            assert_eq!(scope.describe(), text);
            assert_eq!(RecordedScope::from(&scope), recorded);
            assert_eq!(recorded.to_string(), text);
            assert_eq!(text.parse::<RecordedScope>(), Ok(recorded), "{text}");
        }
    }

    #[test]
    fn scope_text_that_is_none_of_the_forms_is_refused() {
        for text in [
            "",
            "All",
            "list",
            "everything:1",
            "domain:not a domain",
            "domains:",
            "domains:two",
        ] {
            let error = text.parse::<RecordedScope>().expect_err(text);
            assert!(error.contains(&format!("'{text}'")), "{error}");
        }
    }

    #[test]
    fn scan_statuses_keep_their_stored_names() {
        let names: Vec<&str> = ScanStatus::VARIANTS
            .iter()
            .map(|status| status.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "running",
                "finished",
                "deadline",
                "cancelled",
                "interrupted",
                "proxy_lost"
            ]
        );
        for &status in ScanStatus::VARIANTS {
            assert_eq!(status.as_str().parse::<ScanStatus>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
        assert!("Finished".parse::<ScanStatus>().is_err());
    }

    #[test]
    fn scans_read_back_typed_from_the_stored_text() {
        let store = Store::open_in_memory().expect("store");
        let settings = Settings::default();
        let list = store
            .begin_scan(&ScanScope::List("EU".to_string()), &settings, 3)
            .expect("begin");
        store
            .finish_scan(list, ScanStatus::DeadlineReached, &ScanCounts::default())
            .expect("finish");
        let two = ScanScope::Domains(vec![domain("a.example"), domain("b.example")]);
        let running = store.begin_scan(&two, &settings, 2).expect("begin");

        let stored: Vec<(String, String)> = {
            let mut statement = store
                .connection
                .prepare("SELECT scope, status FROM scans ORDER BY id")
                .expect("prepare");
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("rows")
        };
        let text = |scope: &str, status: &str| (scope.to_string(), status.to_string());
        assert_eq!(
            stored,
            [text("list:EU", "deadline"), text("domains:2", "running")]
        );

        let scans = store.scans(10).expect("scans");
        assert_eq!(scans[0].id, running);
        assert_eq!(scans[0].scope, RecordedScope::Domains { count: 2 });
        assert_eq!(scans[0].status, ScanStatus::Running);
        assert_eq!(scans[1].id, list);
        assert_eq!(scans[1].scope, RecordedScope::List("EU".to_string()));
        assert_eq!(scans[1].status, ScanStatus::DeadlineReached);

        store
            .abandon_scan(running, ScanStatus::Cancelled)
            .expect("abandon");
        let last = store.last_scan().expect("scan").expect("one");
        assert_eq!(last.status, ScanStatus::Cancelled);
    }

    #[test]
    fn each_scan_keeps_its_path_and_the_changes_are_found() {
        let store = Store::open_in_memory().expect("store");
        let settings = Settings {
            proxy: "socks5://alice:hunter2@127.0.0.1:1080".into(),
            ..Settings::default()
        };
        let proxy = NetworkPath::Socks5 {
            endpoint: "127.0.0.1:1080".into(),
        };
        let first = store
            .begin_scan(&ScanScope::All, &Settings::default(), 1)
            .expect("begin");
        let second = store
            .begin_scan_via(&ScanScope::All, &settings, 1, &proxy)
            .expect("begin");
        let scans = store.scans(10).expect("scans");
        assert_eq!(scans[0].id, second);
        assert_eq!(scans[0].path, proxy);
        assert_eq!(scans[1].id, first);
        assert_eq!(scans[1].path, NetworkPath::Direct);
        let changes = store.path_changes().expect("read");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].1, proxy);
        let stored: String = store
            .connection
            .query_row(
                "SELECT settings FROM scans WHERE id = ?1",
                params![second.0],
                |row| row.get(0),
            )
            .expect("stored settings");
        assert!(
            !stored.contains("hunter2"),
            "a scan's settings copy is masked: {stored}"
        );
        assert!(stored.contains("alice:***@"), "{stored}");
    }

    #[test]
    fn a_scan_status_this_build_does_not_know_is_damage() {
        let store = Store::open_in_memory().expect("store");
        store
            .begin_scan(&ScanScope::All, &Settings::default(), 0)
            .expect("begin");
        store
            .connection
            .execute("UPDATE scans SET status = 'paused'", [])
            .expect("update");
        let error = store.scans(1).expect_err("unknown status");
        assert!(
            matches!(&error, StoreError::Corrupt { problem, .. } if problem.contains("'paused'")),
            "{error}"
        );
    }

    #[test]
    fn the_testable_verdicts_in_sql_are_the_model_s() {
        assert_eq!(
            testable_verdicts_sql(),
            "'no_starttls', 'tls_failed', 'tls_ok'"
        );
    }

    #[test]
    fn scan_counts_say_authenticated_and_at_risk_of_the_results_with_the_facts() {
        use crate::model::auth::{DaneSetStatus as Dane, MtaStsOutcome as Sts};
        use crate::model::test_support::{address, mx_host, with_auth};
        let plain = |name: &str| {
            let host = mx_host(
                &format!("mx.{name}"),
                vec![address(Outcome::TlsOk, true, true)],
            );
            DomainResult::new(
                domain(name),
                false,
                None,
                OffsetDateTime::UNIX_EPOCH,
                vec![host],
            )
        };
        let mut counts = ScanCounts::default();
        assert_eq!(counts.auth_summary(), "", "no facts: nothing said");
        counts.add(&plain("old.example"));
        assert_eq!(counts.auth_summary(), "");
        counts.add(&with_auth(plain("a.example"), &[Dane::Valid], Sts::None));
        counts.add(&with_auth(plain("b.example"), &[Dane::Failed], Sts::None));
        counts.add(&with_auth(plain("c.example"), &[Dane::None], Sts::None));
        counts.add(&with_auth(
            plain("d.example"),
            &[Dane::None],
            Sts::EnforceOk,
        ));
        assert_eq!((counts.testable(), counts.auth_testable), (5, 4));
        assert_eq!(
            counts.auth_summary(),
            "; of 4 with DANE/MTA-STS facts: authenticated 50.0%, at risk 25.0%"
        );
        let old: ScanCounts = serde_json::from_str(
            r#"{"total":1,"done":1,"no_mail":0,"untestable":0,"no_starttls":0,"tls_failed":0,"tls_ok":1,"starttls":1,"pfs":1,"strict_valid":1,"all_three":1}"#,
        )
        .expect("counts stored before the facts read");
        assert_eq!(old.auth_testable, 0);
    }
}
