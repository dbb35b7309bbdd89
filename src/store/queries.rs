//! Read-side queries: latest result per domain (filtered), one domain's history, trend series
//! (from roll-ups), provider breakdown, recent events; and the roll-up computation itself.
//!
//! Owns: query shapes and the trend definitions of DESIGN.md ("each domain counted by its
//! latest result as of the end of that day"), and finding, for a domain whose latest run is
//! untestable, the run that may still count (its last conclusive run; whether it does is
//! `model::stale`'s rule, applied here to every count, row and result the store hands out).
//! Must not touch: writes other than `rollups`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::results::{testable_verdicts_sql, timestamp};
use super::{ListId, Store, StoreError, now_seconds};
use crate::model::adoption::{
    AdoptionState, AuthState, HostFold, HostTrendCounts, TrendCounts, TrendPoint, VolumeCounts,
    date_of_day_number, day_number,
};
use crate::model::auth::MtaStsOutcome;
use crate::model::changes::ChangeKind;
use crate::model::stale::{self, Answer};
use crate::model::{DomainName, DomainResult, TlsGrade, Verdict, Weight};

/// A row of the domains table: the latest state of one domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatestRow {
    pub domain: DomainName,
    /// None when never probed.
    pub verdict: Option<Verdict>,
    pub starttls: Option<bool>,
    pub pfs: Option<bool>,
    pub strict_valid: Option<bool>,
    pub tls_version: Option<String>,
    /// The domain's `tls_grade` (null without TLS, and for results stored before it existed).
    pub tls_grade: Option<TlsGrade>,
    pub cert_not_after: Option<OffsetDateTime>,
    pub provider: Option<String>,
    pub mx_count: usize,
    /// When the domain was last probed.
    pub last_probed: Option<OffsetDateTime>,
    /// When the state shown began.
    pub state_since: Option<OffsetDateTime>,
    /// Set while the domain's latest probes were untestable and it keeps its last known state
    /// (`model::stale`): the fields above from `verdict` to `mx_count`, and `auth`, are that
    /// state's.
    pub stale: Option<Staleness>,
    /// The domain's DANE, MTA-STS outcome and sender view (all None for results stored before
    /// authenticated transport was probed).
    pub auth: RowAuth,
}

/// What a row of the domains table shows of authenticated transport (DESIGN.md,
/// "Authenticated transport"): read from the stored result, not the full JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowAuth {
    /// The domain's `dane`.
    pub dane: Option<crate::model::auth::DaneSetStatus>,
    /// The domain's `mta_sts.outcome`.
    pub mta_sts: Option<crate::model::auth::MtaStsOutcome>,
    /// The domain's `sender` view (null for `no_mail`).
    pub sender: Option<crate::model::auth::SenderView>,
}

impl RowAuth {
    /// The facts of a (shown) result.
    pub fn of(result: &DomainResult) -> Self {
        Self {
            dane: result.dane,
            mta_sts: result.mta_sts.as_ref().map(|mta_sts| mta_sts.outcome),
            sender: result.sender,
        }
    }

    /// `sender.at_risk` (None without a sender view).
    pub fn at_risk(&self) -> Option<bool> {
        self.sender.map(|sender| sender.at_risk)
    }

    /// `sender.authenticated`: the "Authenticated" badge beside the label.
    pub fn authenticated(&self) -> bool {
        self.sender.is_some_and(|sender| sender.authenticated)
    }

    /// Reads the JSON array [`shown_columns`] extracts (`[dane, mta_sts.outcome, sender]`);
    /// anything unreadable (an older result, a value this build does not know) reads as none.
    fn from_json(text: Option<&str>) -> Self {
        let Some(text) = text else {
            return Self::default();
        };
        type Values = (
            Option<serde_json::Value>,
            Option<serde_json::Value>,
            Option<serde_json::Value>,
        );
        let Ok((dane, mta_sts, sender)) = serde_json::from_str::<Values>(text) else {
            return Self::default();
        };
        fn read<T: serde::de::DeserializeOwned>(value: Option<serde_json::Value>) -> Option<T> {
            value.and_then(|value| serde_json::from_value(value).ok())
        }
        Self {
            dane: read(dane),
            mta_sts: read(mta_sts),
            sender: read(sender),
        }
    }
}

/// The [`RowAuth`] of each shape a query met (a million rows share a few hundred shapes).
#[derive(Default)]
struct ShapeAuth(HashMap<i64, RowAuth>);

impl ShapeAuth {
    /// The authenticated-transport facts of `shape` (none without one).
    fn of(&mut self, connection: &Connection, shape: Option<i64>) -> rusqlite::Result<RowAuth> {
        let Some(shape) = shape else {
            return Ok(RowAuth::default());
        };
        if let Some(auth) = self.0.get(&shape) {
            return Ok(*auth);
        }
        let text: Option<String> = connection
            .prepare_cached(
                "SELECT json_extract(facts, '$.dane', '$.mta_sts.outcome', '$.sender')
                 FROM shapes WHERE id = ?1",
            )?
            .query_row([shape], |row| row.get(0))
            .optional()?
            .flatten();
        let auth = RowAuth::from_json(text.as_deref());
        self.0.insert(shape, auth);
        Ok(auth)
    }
}

/// Why, and since when, a row shows its last known state instead of its latest probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staleness {
    /// The first untestable probe since the last known state.
    pub since: OffsetDateTime,
    /// When the last known state was last confirmed.
    pub last_known_at: OffsetDateTime,
    /// Why the latest probe was untestable, in a few words (e.g. `DNS timeout`).
    pub why: String,
}

/// Which domains `latest` returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatestFilter {
    pub list: Option<ListId>,
    pub verdict: Option<Verdict>,
    /// Case-insensitive substring of the domain name.
    pub text: Option<String>,
    /// At most this many rows (None: all).
    pub limit: Option<usize>,
    pub offset: usize,
}

/// One stretch of unchanged results in a domain's history.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainHistoryRun {
    pub first_at: OffsetDateTime,
    pub last_at: OffsetDateTime,
    pub times_seen: usize,
    /// The full result as first seen in this run.
    pub result: DomainResult,
}

/// One provider's share of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRow {
    /// Registrable domain of the primary MX host, e.g. `google.com`.
    pub provider: String,
    /// The adoption counts of its domains (`total` is how many domains it serves).
    pub counts: TrendCounts,
    /// The same weighted by the domains' mail volume in the list (`total`: how much of the
    /// list's mail goes to this provider's MX hosts).
    #[serde(default)]
    pub volume: VolumeCounts,
}

/// Counts table rows ([`LatestRow`]) by mail provider: what [`Store::providers`] gives, for a
/// caller that reads the rows anyway. A row counts by the state it shows (a stale domain by
/// its last known state, once more as stale); a domain never probed or without a provider
/// is left out; providers' figures leave the authenticated layer out (as the roll-ups by
/// provider always have).
#[derive(Debug, Default)]
pub struct ProviderTally(HashMap<String, (TrendCounts, VolumeCounts)>);

impl ProviderTally {
    /// Counts `row`, which weighs `weight` in its list.
    pub fn add(&mut self, row: &LatestRow, weight: Weight) {
        let (Some(verdict), Some(provider)) = (row.verdict, row.provider.as_deref()) else {
            return;
        };
        let state = AdoptionState::new(verdict, row.starttls, row.pfs, row.strict_valid)
            .with_tls_grade(row.tls_grade);
        let (counts, volume) = match self.0.get_mut(provider) {
            Some(entry) => entry,
            None => self.0.entry(provider.to_string()).or_default(),
        };
        if row.stale.is_some() {
            counts.add_stale(state);
            volume.add_stale(state, weight);
        } else {
            counts.add(state);
            volume.add(state, weight);
        }
    }

    /// The providers, largest first (then by name), at most `limit`.
    pub fn finish(self, limit: usize) -> Vec<ProviderRow> {
        let mut providers: Vec<ProviderRow> = self
            .0
            .into_iter()
            .map(|(provider, (counts, volume))| ProviderRow {
                provider,
                counts,
                volume,
            })
            .collect();
        providers.sort_by(|a, b| {
            b.counts
                .total
                .cmp(&a.counts.total)
                .then_with(|| a.provider.cmp(&b.provider))
        });
        providers.truncate(limit);
        providers
    }
}

/// A stored change event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: i64,
    pub domain: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: ChangeKind,
    pub detail: String,
    pub regression: bool,
    /// The scan that found it (None: stored without one, or not stored yet). Not in the JSON.
    #[serde(skip)]
    pub scan_id: Option<i64>,
}

pub(super) fn list_key(list: Option<ListId>) -> i64 {
    list.map_or(0, |id| id.0)
}

/// The `day` key of a roll-up: the UTC day of `at`, counted from 1970-01-01.
fn utc_day(at: OffsetDateTime) -> i64 {
    day_number(at.to_offset(time::UtcOffset::UTC).date())
}

/// A roll-up's `day` key as text, for error messages.
fn day_text(day: i64) -> String {
    date_of_day_number(day).map_or_else(|| format!("day {day}"), |date| date.to_string())
}

/// SQL: for run `{run}` (a table alias) that is untestable and not definitive, the id of its
/// domain's most recent earlier run that was testable or definitive; NULL for any other run,
/// or when no earlier run answered. Whether that run still counts is `model::stale`'s rule.
pub(super) fn last_conclusive_sql(run: &str) -> String {
    format!(
        "CASE WHEN {run}.verdict = '{untestable}' AND {run}.definitive = 0 THEN
           (SELECT c.id FROM runs c WHERE c.domain_id = {run}.domain_id
              AND c.first_at <= {run}.first_at AND (c.first_at < {run}.first_at OR c.id < {run}.id)
              AND (c.verdict IN ({testable}) OR c.definitive = 1)
            ORDER BY c.first_at DESC, c.id DESC LIMIT 1)
         END",
        untestable = Verdict::Untestable.as_str(),
        testable = testable_verdicts_sql(),
    )
}

/// SQL: when the first run after run `{run}` (a table alias) of the same domain began: the
/// `stale_since` of a domain whose last known run is `{run}`.
pub(super) fn first_after_sql(run: &str) -> String {
    format!(
        "(SELECT min(s.first_at) FROM runs s WHERE s.domain_id = {run}.domain_id
           AND s.first_at >= {run}.first_at AND (s.first_at > {run}.first_at OR s.id > {run}.id))"
    )
}

/// SQL: the assignments that keep a domain's last known run beside its latest run `{latest}`
/// (an expression naming the latest run's id): `domains.known_run_id` is
/// [`last_conclusive_sql`] of the latest run and `domains.stale_since` is [`first_after_sql`]
/// of that run (both NULL while the latest run is conclusive). Both depend only on the
/// domain's runs up to its latest one, so the store sets them whenever a domain gets a new
/// latest run (`record_result`; extending a run changes neither), and reads them instead of
/// looking the last known run up among all runs (the snapshot of a year-old file). A change
/// of either rule needs a migration that sets them again.
pub(super) fn known_run_assignments(latest: &str) -> String {
    let known = format!(
        "(SELECT {conclusive} FROM runs r WHERE r.id = {latest})",
        conclusive = last_conclusive_sql("r")
    );
    format!(
        "known_run_id = {known},
         stale_since = (SELECT {since} FROM runs k WHERE k.id = {known})",
        since = first_after_sql("k"),
    )
}

/// A stored run as the stale rule sees it.
#[derive(Clone, Copy, Debug)]
struct Seen {
    verdict: Verdict,
    definitive: bool,
    /// When it was last confirmed (seconds).
    last_at: i64,
}

impl Seen {
    fn answer(self) -> Answer {
        Answer::new(self.verdict, self.definitive)
    }
}

/// `model::stale`'s rule for a domain whose latest run is `latest`, confirmed up to
/// `latest_at`, and whose last conclusive run is `known`.
fn keeps(latest: Seen, latest_at: i64, known: Option<Seen>, max_days: u32) -> bool {
    stale::keeps_last_known(
        latest.answer(),
        timestamp(latest_at),
        known.map(|known| (known.answer(), timestamp(known.last_at))),
        max_days,
    )
}

/// Why a roll-up could not be computed.
#[derive(Debug)]
pub(super) enum RollupError {
    Sqlite(rusqlite::Error),
    /// A stored value this build never writes (the file was damaged).
    Damaged(String),
}

impl From<rusqlite::Error> for RollupError {
    fn from(error: rusqlite::Error) -> Self {
        RollupError::Sqlite(error)
    }
}

/// A stored `tls_grade` column (NULL: none, or a run stored before grades were).
fn stored_grade(row: &rusqlite::Row<'_>, column: usize) -> Result<Option<TlsGrade>, RollupError> {
    match row.get::<_, Option<String>>(column)? {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            RollupError::Damaged(format!("unknown TLS grade '{text}' in a stored run"))
        }),
    }
}

/// The authenticated-transport facts of a stored run (or shape_mx row) from its `dane`,
/// `sts_outcome` (the run's, for a host), `authenticated` and `at_risk` columns at the given
/// indexes; None when `authenticated` is NULL (stored before schema 6's facts existed).
fn stored_auth(
    row: &rusqlite::Row<'_>,
    [dane, sts_outcome, authenticated, at_risk]: [usize; 4],
) -> Result<Option<AuthState>, RollupError> {
    let Some(is_authenticated) = row.get::<_, Option<bool>>(authenticated)? else {
        return Ok(None);
    };
    let outcome: Option<MtaStsOutcome> =
        super::results::stored_name(row.get(sts_outcome)?).map_err(RollupError::Damaged)?;
    Ok(Some(AuthState {
        dane: super::results::stored_name(row.get(dane)?).map_err(RollupError::Damaged)?,
        sts_enforce: outcome.is_some_and(MtaStsOutcome::is_enforce),
        authenticated: is_authenticated,
        at_risk: row.get::<_, Option<bool>>(at_risk)?.unwrap_or(false),
    }))
}

fn verdict_of(text: &str) -> Result<Verdict, RollupError> {
    text.parse()
        .map_err(|_| RollupError::Damaged(format!("unknown verdict '{text}' in a stored run")))
}

/// One roll-up row's counts.
pub(super) struct Rollup {
    domains: TrendCounts,
    hosts: HostTrendCounts,
    tls_versions: BTreeMap<String, usize>,
    /// None before the weights migration.
    volume: Option<VolumeCounts>,
}

/// The roll-up of `list` (0: all domains) as of `cutoff` (seconds): each domain by its latest
/// run that began by then, or by its last conclusive run while the stale rule keeps that one
/// (its MX hosts too, as last confirmed).
pub(super) fn rollup_of(
    connection: &Connection,
    list: i64,
    cutoff: i64,
    max_days: u32,
) -> Result<Rollup, RollupError> {
    // Before the weights migration (the stale-state migration recomputes roll-ups) there are no
    // weights to read, and the roll-up gets no weighted figures.
    let weighted = has_weights(connection)?;
    // One row per (run, MX host), runs together. A domain's run as of `cutoff` is the latest
    // one that began by then; for "now" that is simply its latest run.
    // Its last known run: for the latest run the one the store keeps beside it.
    let (run_as_of, known) = if cutoff + 60 >= now_seconds() {
        ("r.id = d.latest_run_id", "d.known_run_id".to_string())
    } else {
        (
            "r.id = (SELECT id FROM runs WHERE domain_id = d.id AND first_at <= ?2
                 ORDER BY first_at DESC, id DESC LIMIT 1)",
            format!("({})", last_conclusive_sql("r")),
        )
    };
    let sql = format!(
        "SELECT r.id, r.verdict, r.starttls, r.pfs, r.strict_valid, r.tls_version, r.last_at,
                r.definitive,
                k.id, k.verdict, k.starttls, k.pfs, k.strict_valid, k.tls_version, k.last_at,
                k.definitive,
                m.host, m.verdict, m.starttls, m.pfs, m.strict_valid,
                r.tls_grade, k.tls_grade, m.tls_grade, d.id,
                r.dane, r.sts_outcome, r.authenticated, r.at_risk,
                k.dane, k.sts_outcome, k.authenticated, k.at_risk,
                m.dane, m.authenticated, m.at_risk
         FROM domains d
         JOIN runs r ON {run_as_of}
         LEFT JOIN runs k ON k.id = {known}
         LEFT JOIN shape_mx m ON m.shape_id = r.shape_id
         WHERE (?1 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))
           AND ?2 = ?2
         ORDER BY r.id",
    );
    // Read once, not per (run, MX host) row: a map lookup per domain.
    let weights = if weighted {
        membership_weights(connection, list)?
    } else {
        HashMap::new()
    };
    let mut statement = connection.prepare_cached(&sql)?;
    let mut domains = TrendCounts::default();
    let mut volume = VolumeCounts::default();
    let mut tls_versions: BTreeMap<String, usize> = BTreeMap::new();
    // Unique MX hosts: each host's state from the most recently confirmed run naming it.
    let mut hosts = HostFold::default();
    let mut previous_run = None;
    let mut hosts_count = true;
    // Last known runs that count instead of a latest one, with when they were confirmed.
    let mut kept: Vec<(i64, i64)> = Vec::new();
    let mut rows = statement.query(params![list, cutoff])?;
    while let Some(row) = rows.next()? {
        let run_id: i64 = row.get(0)?;
        let last_at: i64 = row.get(6)?;
        if previous_run != Some(run_id) {
            previous_run = Some(run_id);
            let latest = AdoptionState::new(
                verdict_of(&row.get::<_, String>(1)?)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            )
            .with_tls_grade(stored_grade(row, 21)?)
            .with_auth(stored_auth(row, [25, 26, 27, 28])?);
            let seen = Seen {
                verdict: latest.verdict,
                definitive: row.get(7)?,
                last_at,
            };
            let known = match row.get::<_, Option<i64>>(8)? {
                Some(id) => Some((
                    id,
                    Seen {
                        verdict: verdict_of(&row.get::<_, String>(9)?)?,
                        definitive: row.get(15)?,
                        last_at: row.get(14)?,
                    },
                )),
                None => None,
            };
            let stale = keeps(
                seen,
                last_at.min(cutoff),
                known.map(|(_, known)| known),
                max_days,
            );
            let weight = weights
                .get(&row.get::<_, i64>(24)?)
                .copied()
                .unwrap_or_default();
            let (state, version) = match known.filter(|_| stale) {
                Some((id, known)) => {
                    kept.push((id, known.last_at));
                    let state =
                        AdoptionState::new(known.verdict, row.get(10)?, row.get(11)?, row.get(12)?)
                            .with_tls_grade(stored_grade(row, 22)?)
                            .with_auth(stored_auth(row, [29, 30, 31, 32])?);
                    domains.add_stale(state);
                    volume.add_stale(state, weight);
                    (state, row.get::<_, Option<String>>(13)?)
                }
                None => {
                    domains.add(latest);
                    volume.add(latest, weight);
                    (latest, row.get::<_, Option<String>>(5)?)
                }
            };
            hosts_count = !stale;
            if state.is_testable()
                && let Some(version) = version
            {
                *tls_versions.entry(version).or_default() += 1;
            }
        }
        if !hosts_count {
            continue;
        }
        let Some(host) = row.get::<_, Option<String>>(16)? else {
            continue;
        };
        let state = AdoptionState::new(
            verdict_of(&row.get::<_, String>(17)?)?,
            row.get(18)?,
            row.get(19)?,
            row.get(20)?,
        )
        .with_tls_grade(stored_grade(row, 23)?)
        .with_auth(stored_auth(row, [33, 26, 34, 35])?);
        hosts.add(&host, timestamp(last_at), state);
    }
    drop(rows);
    let mut host_rows = connection.prepare_cached(
        "SELECT m.host, m.verdict, m.starttls, m.pfs, m.strict_valid, m.tls_grade,
                m.dane, r.sts_outcome, m.authenticated, m.at_risk
         FROM runs r JOIN shape_mx m ON m.shape_id = r.shape_id WHERE r.id = ?1",
    )?;
    for (run, confirmed) in kept {
        let mut rows = host_rows.query([run])?;
        while let Some(row) = rows.next()? {
            let host: String = row.get(0)?;
            let state = AdoptionState::new(
                verdict_of(&row.get::<_, String>(1)?)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            )
            .with_tls_grade(stored_grade(row, 5)?)
            .with_auth(stored_auth(row, [6, 7, 8, 9])?);
            hosts.add(&host, timestamp(confirmed), state);
        }
    }
    Ok(Rollup {
        domains,
        hosts: hosts.counts(),
        tls_versions,
        volume: weighted.then_some(volume),
    })
}

/// Whether the database has weights yet (the mail-volume migration ran).
fn has_weights(connection: &Connection) -> rusqlite::Result<bool> {
    connection
        .prepare_cached(
            "SELECT count(*) FROM pragma_table_info('list_domains') WHERE name = 'weight'",
        )?
        .query_row([], |row| row.get::<_, i64>(0))
        .map(|count| count > 0)
}

/// Each domain's weight in `list` by domain id (0: all domains, the largest weight it has in
/// any list, as [`weight_sql`]); domains absent weigh 1.
fn membership_weights(
    connection: &Connection,
    list: i64,
) -> rusqlite::Result<HashMap<i64, Weight>> {
    // A list's weights by the primary key's prefix; for all domains one plain scan, the
    // largest weight kept here (cheaper than SQL's GROUP BY, which looks each row up again).
    let mut statement = if list == 0 {
        connection.prepare_cached("SELECT domain_id, weight FROM list_domains WHERE ?1 = 0")?
    } else {
        connection
            .prepare_cached("SELECT domain_id, weight FROM list_domains WHERE list_id = ?1")?
    };
    let mut rows = statement.query([list])?;
    let mut weights: HashMap<i64, Weight> = HashMap::new();
    while let Some(row) = rows.next()? {
        let weight = weight_of(row.get(1)?);
        weights
            .entry(row.get::<_, i64>(0)?)
            .and_modify(|kept| *kept = (*kept).max(weight))
            .or_insert(weight);
    }
    Ok(weights)
}

/// SQL: the weight of domain `{domain}` (a table alias) in list `?1`: its membership's weight;
/// for all domains (`?1 = 0`) the largest weight it has in any list, 1 when it is in none. (A
/// correlated lookup by key: measured faster here than joining a grouped table.)
pub(super) fn weight_sql(domain: &str) -> String {
    format!(
        "CASE WHEN ?1 = 0
           THEN coalesce((SELECT max(w.weight) FROM list_domains w WHERE w.domain_id = {domain}.id), 1.0)
           ELSE coalesce((SELECT w.weight FROM list_domains w WHERE w.list_id = ?1 AND w.domain_id = {domain}.id), 1.0)
         END"
    )
}

/// A stored weight as a [`Weight`]; a missing or invalid one (only a damaged file has one)
/// weighs 1.
fn weight_of(stored: Option<f64>) -> Weight {
    stored
        .and_then(|value| Weight::new(value).ok())
        .unwrap_or_default()
}

/// Writes (or replaces) the roll-up of `list` (0: all domains) for `day`.
pub(super) fn write_rollup(
    connection: &Connection,
    list: i64,
    day: i64,
    rollup: &Rollup,
) -> rusqlite::Result<()> {
    // One statement (one commit outside a transaction). Before the weights migration the
    // volume column does not exist yet, and the roll-up has no weighted figures.
    match &rollup.volume {
        Some(volume) => connection.execute(
            "INSERT INTO rollups (list_id, day, domains, mx_hosts, tls_versions, volume)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(list_id, day) DO UPDATE SET domains = excluded.domains,
             mx_hosts = excluded.mx_hosts, tls_versions = excluded.tls_versions,
             volume = excluded.volume",
            params![
                list,
                day,
                to_json(&rollup.domains),
                to_json(&rollup.hosts),
                to_json(&rollup.tls_versions),
                to_json(volume),
            ],
        )?,
        None => connection.execute(
            "INSERT INTO rollups (list_id, day, domains, mx_hosts, tls_versions) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(list_id, day) DO UPDATE SET domains = excluded.domains,
             mx_hosts = excluded.mx_hosts, tls_versions = excluded.tls_versions",
            params![
                list,
                day,
                to_json(&rollup.domains),
                to_json(&rollup.hosts),
                to_json(&rollup.tls_versions),
            ],
        )?,
    };
    Ok(())
}

/// Seconds in a UTC day.
const DAY_SECONDS: i64 = 86_400;

/// Recomputes with the stale rule (window `max_days`) every stored roll-up of a day on which
/// some domain's latest run may have been untestable while an earlier testable run still
/// counted: each as of the end of its day (today: now). The migration to the rule uses it;
/// on the other days the rule changes no count.
pub(super) fn recompute_stale_rollups(
    connection: &Connection,
    max_days: u32,
) -> Result<(), RollupError> {
    let now = now_seconds();
    let sql = format!(
        "SELECT u.first_at, k.verdict, k.definitive, k.last_at, {next}
         FROM runs u JOIN runs k ON k.id = ({known})
         WHERE u.verdict = ?1 AND u.definitive = 0",
        next = first_after_sql("u"),
        known = last_conclusive_sql("u"),
    );
    // Days from an untestable run's start to the next run's (or now).
    let mut spans: Vec<(i64, i64)> = Vec::new();
    {
        let mut statement = connection.prepare(&sql)?;
        let mut rows = statement.query([Verdict::Untestable.as_str()])?;
        while let Some(row) = rows.next()? {
            let first_at: i64 = row.get(0)?;
            let known = Seen {
                verdict: verdict_of(&row.get::<_, String>(1)?)?,
                definitive: row.get(2)?,
                last_at: row.get(3)?,
            };
            let next: Option<i64> = row.get(4)?;
            let latest = Seen {
                verdict: Verdict::Untestable,
                definitive: false,
                last_at: first_at,
            };
            // Its earliest moment is the likeliest to be within the window.
            if keeps(latest, first_at, Some(known), max_days) {
                let until = next.map_or(now, |next| next - 1).max(first_at);
                spans.push((
                    first_at.div_euclid(DAY_SECONDS),
                    until.div_euclid(DAY_SECONDS),
                ));
            }
        }
    }
    let mut days = BTreeSet::new();
    {
        let mut statement =
            connection.prepare("SELECT DISTINCT day FROM rollups WHERE day BETWEEN ?1 AND ?2")?;
        for (from, to) in spans {
            let mut rows = statement.query(params![from, to])?;
            while let Some(row) = rows.next()? {
                days.insert(row.get::<_, i64>(0)?);
            }
        }
    }
    let mut targets: Vec<(i64, i64)> = Vec::new();
    {
        let mut statement = connection.prepare("SELECT list_id, day FROM rollups ORDER BY day")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let (list, day): (i64, i64) = (row.get(0)?, row.get(1)?);
            if days.contains(&day) {
                targets.push((list, day));
            }
        }
    }
    for (list, day) in targets {
        recompute_rollup(connection, list, day, now, max_days)?;
    }
    Ok(())
}

/// Recomputes the stored roll-up of `list` on `day` as of the end of that day (or `now`). A
/// roll-up written before weights existed keeps no weighted figures (null, not the domain
/// counts that weights of 1 would give): what a day's mail volume was is not in the history.
fn recompute_rollup(
    connection: &Connection,
    list: i64,
    day: i64,
    now: i64,
    max_days: u32,
) -> Result<(), RollupError> {
    let end_of_day = (day + 1) * DAY_SECONDS - 1;
    let mut rollup = rollup_of(connection, list, end_of_day.min(now), max_days)?;
    if rollup.volume.is_some() {
        let volume_was_null: bool = connection
            .prepare_cached("SELECT volume IS NULL FROM rollups WHERE list_id = ?1 AND day = ?2")?
            .query_row(params![list, day], |row| row.get(0))
            .optional()?
            .unwrap_or(false);
        if volume_was_null {
            rollup.volume = None;
        }
    }
    write_rollup(connection, list, day, &rollup)?;
    Ok(())
}

/// Recomputes every stored roll-up, each as of the end of its day (today: now): the migration
/// that adds a count to roll-ups uses it, so old days gain the count from stored runs.
pub(super) fn recompute_all_rollups(
    connection: &Connection,
    max_days: u32,
) -> Result<(), RollupError> {
    let now = now_seconds();
    let mut targets: Vec<(i64, i64)> = Vec::new();
    {
        let mut statement = connection.prepare("SELECT list_id, day FROM rollups ORDER BY day")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            targets.push((row.get(0)?, row.get(1)?));
        }
    }
    for (list, day) in targets {
        recompute_rollup(connection, list, day, now, max_days)?;
    }
    Ok(())
}

/// The columns of run `{run}` (an alias) a row of the domains table shows, in the order
/// [`Shown::read`] reads them.
fn shown_columns(run: &str) -> String {
    format!(
        "{run}.verdict, {run}.starttls, {run}.pfs, {run}.strict_valid, {run}.tls_version,
         {run}.cert_not_after, {run}.provider, {run}.mx_count, {run}.last_at, {run}.first_at,
         {run}.definitive, {run}.tls_grade,
         {run}.shape_id"
    )
}

/// How many columns [`shown_columns`] has.
const SHOWN_COLUMNS: usize = 13;

/// What the domains table shows of one run (all None for a missing run).
#[derive(Default)]
struct Shown {
    verdict: Option<Verdict>,
    starttls: Option<bool>,
    pfs: Option<bool>,
    strict_valid: Option<bool>,
    /// In the batch's text ([`Texts`]), as are `provider` and a [`ReadRow`]'s name.
    tls_version: Option<Span>,
    cert_not_after: Option<i64>,
    provider: Option<Span>,
    mx_count: Option<i64>,
    last_at: Option<i64>,
    first_at: Option<i64>,
    definitive: Option<bool>,
    tls_grade: Option<TlsGrade>,
    /// The run's shape (`store::parts`): its authenticated-transport facts are read once per
    /// shape ([`ShapeAuth`]), not once per row.
    shape: Option<i64>,
}

/// The enum value named by text column `index` (None for NULL or a name this build does not
/// know), read in place.
fn stored_name<T: std::str::FromStr>(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<T>> {
    Ok(row
        .get_ref(index)?
        .as_str_or_null()
        .map_err(|error| not_text(index, error))?
        .and_then(|text| text.parse().ok()))
}

fn not_text(index: usize, error: rusqlite::types::FromSqlError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(error))
}

/// Where a text lies in a [`Texts`].
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

/// The texts of a batch of [`ReadRow`]s end to end: read on SQLite's thread without a heap
/// block per text (a block per text, freed on the other thread, cost a third of the 1M-row
/// snapshot in glibc's allocator).
#[derive(Default)]
struct Texts(String);

impl Texts {
    /// Appends text column `index` (None for NULL).
    fn read(&mut self, row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<Span>> {
        let Some(text) = row
            .get_ref(index)?
            .as_str_or_null()
            .map_err(|error| not_text(index, error))?
        else {
            return Ok(None);
        };
        Ok(Some(self.push(text)))
    }

    fn push(&mut self, text: &str) -> Span {
        let start = self.0.len();
        self.0.push_str(text);
        // A batch's texts stay far below 4 GiB (`LATEST_BATCH` rows of short names).
        Span {
            start: start as u32,
            end: self.0.len() as u32,
        }
    }

    fn get(&self, span: Span) -> &str {
        self.0
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }
}

impl Shown {
    /// Reads [`shown_columns`] from column `start` on, its texts into `texts`.
    fn read(row: &rusqlite::Row<'_>, start: usize, texts: &mut Texts) -> rusqlite::Result<Self> {
        Ok(Self {
            verdict: stored_name(row, start)?,
            starttls: row.get(start + 1)?,
            pfs: row.get(start + 2)?,
            strict_valid: row.get(start + 3)?,
            tls_version: texts.read(row, start + 4)?,
            cert_not_after: row.get(start + 5)?,
            provider: texts.read(row, start + 6)?,
            mx_count: row.get(start + 7)?,
            last_at: row.get(start + 8)?,
            first_at: row.get(start + 9)?,
            definitive: row.get(start + 10)?,
            tls_grade: stored_name(row, start + 11)?,
            shape: row.get(start + 12)?,
        })
    }

    fn seen(&self) -> Option<Seen> {
        Some(Seen {
            verdict: self.verdict?,
            definitive: self.definitive.unwrap_or(false),
            last_at: self.last_at?,
        })
    }
}

/// Rows [`Store::latest_each`] hands on at a time to the thread that finishes them.
const LATEST_BATCH: usize = 2_048;

/// A row of [`Store::latest_each`]'s query as SQLite's side reads it: the run shown (the last
/// known one while the stale rule keeps it), what the staleness says, and the run's
/// authenticated-transport facts; [`Self::into_row`] is the rest of the work.
struct ReadRow {
    name: Span,
    shown: Shown,
    last_probed: Option<i64>,
    stale: Option<Staleness>,
    auth: RowAuth,
}

impl ReadRow {
    /// Reads the query's columns: the name, the latest run, why it was untestable, the last
    /// conclusive run's id, its columns (read only when there is one) and when its successor
    /// began; its texts into `texts`. `auth` gives a shape's facts.
    fn read(
        row: &rusqlite::Row<'_>,
        texts: &mut Texts,
        max_days: u32,
        auth: impl FnOnce(Option<i64>) -> rusqlite::Result<RowAuth>,
    ) -> rusqlite::Result<Self> {
        let name = texts.read(row, 0)?.unwrap_or(Span { start: 0, end: 0 });
        let run = Shown::read(row, 1, texts)?;
        let why: Option<String> = row.get(1 + SHOWN_COLUMNS)?;
        let known_id: Option<i64> = row.get(2 + SHOWN_COLUMNS)?;
        let (known, since) = match known_id {
            Some(_) => (
                Shown::read(row, 3 + SHOWN_COLUMNS, texts)?,
                row.get::<_, Option<i64>>(3 + 2 * SHOWN_COLUMNS)?,
            ),
            None => (Shown::default(), None),
        };
        let stale = match (run.seen(), known.seen()) {
            (Some(seen), Some(known_seen)) => keeps(seen, seen.last_at, Some(known_seen), max_days),
            _ => false,
        };
        let last_probed = run.last_at;
        let staleness = stale.then(|| Staleness {
            since: timestamp(since.or(run.first_at).unwrap_or_default()),
            last_known_at: timestamp(known.last_at.unwrap_or_default()),
            why: why.unwrap_or_else(|| Verdict::Untestable.as_str().to_string()),
        });
        let shown = if stale { known } else { run };
        Ok(Self {
            name,
            auth: auth(shown.shape)?,
            shown,
            last_probed,
            stale: staleness,
        })
    }

    /// The table's row, its texts read from `texts` (None for a stored name that is no longer
    /// a valid domain name).
    fn into_row(self, texts: &Texts) -> Option<LatestRow> {
        let shown = self.shown;
        let text = |span: Option<Span>| span.map(|span| texts.get(span).to_string());
        Some(LatestRow {
            domain: DomainName::parse_owned(texts.get(self.name).to_string()).ok()?,
            verdict: shown.verdict,
            starttls: shown.starttls,
            pfs: shown.pfs,
            strict_valid: shown.strict_valid,
            tls_version: text(shown.tls_version),
            tls_grade: shown.tls_grade,
            cert_not_after: shown.cert_not_after.map(timestamp),
            provider: text(shown.provider),
            mx_count: shown.mx_count.unwrap_or(0) as usize,
            last_probed: self.last_probed.map(timestamp),
            state_since: shown.first_at.map(timestamp),
            stale: self.stale,
            auth: self.auth,
        })
    }
}

impl Store {
    /// Recomputes the roll-up of `list` (None: all domains) for the UTC day of `as_of`, from
    /// each domain's latest run that began no later than `as_of` (or the last known one that
    /// still counts while that run is untestable, `model::stale`).
    pub fn refresh_rollup(
        &self,
        list: Option<ListId>,
        as_of: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let max_days = self.stale_max_days()?;
        let rollup = rollup_of(
            &self.connection,
            list_key(list),
            as_of.unix_timestamp(),
            max_days,
        )
        .map_err(|error| self.rollup_error(error))?;
        write_rollup(&self.connection, list_key(list), utc_day(as_of), &rollup)
            .map_err(|error| self.fail(error))
    }

    fn rollup_error(&self, error: RollupError) -> StoreError {
        match error {
            RollupError::Sqlite(error) => self.fail(error),
            RollupError::Damaged(problem) => StoreError::Corrupt {
                path: self.path.clone(),
                problem,
            },
        }
    }

    /// The saved window of the stale rule, in days.
    fn stale_max_days(&self) -> Result<u32, StoreError> {
        Ok(self.settings()?.stale_max_days)
    }

    /// The trend series of `list` (None: all domains), oldest first; `since` drops earlier days.
    pub fn trends(
        &self,
        list: Option<ListId>,
        since: Option<time::Date>,
    ) -> Result<Vec<TrendPoint>, StoreError> {
        let since_day = since.map_or(i64::MIN, day_number);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT day, domains, mx_hosts, tls_versions, volume FROM rollups
                 WHERE list_id = ?1 AND day >= ?2 ORDER BY day",
            )
            .map_err(|error| self.fail(error))?;
        let rows = statement
            .query_map(params![list_key(list), since_day], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(|error| self.fail(error))?;
        let mut points = Vec::new();
        for row in rows {
            let (day, domains, hosts, versions, volume) = row.map_err(|error| self.fail(error))?;
            let corrupt = |what: &str, error: String| StoreError::Corrupt {
                path: self.path.clone(),
                problem: format!("trend roll-up for {} ({what}): {error}", day_text(day)),
            };
            let date = date_of_day_number(day)
                .ok_or_else(|| corrupt("date", "out of the calendar's range".to_string()))?;
            let corrupt = |what: &str, error: serde_json::Error| corrupt(what, error.to_string());
            points.push(TrendPoint {
                date,
                domains: serde_json::from_str(&domains).map_err(|e| corrupt("domains", e))?,
                mx_hosts: serde_json::from_str(&hosts).map_err(|e| corrupt("MX hosts", e))?,
                tls_versions: serde_json::from_str(&versions)
                    .map_err(|e| corrupt("TLS versions", e))?,
                volume: volume
                    .map(|volume| serde_json::from_str(&volume))
                    .transpose()
                    .map_err(|e| corrupt("mail volume", e))?,
            });
        }
        Ok(points)
    }

    /// The newest roll-up of every list that has one (key None: all domains): the headline
    /// figures the list panel shows, as of each list's last scan.
    pub fn latest_rollups(&self) -> Result<HashMap<Option<ListId>, TrendCounts>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT r.list_id, r.day, r.domains FROM rollups r
                 JOIN (SELECT list_id, max(day) AS day FROM rollups GROUP BY list_id) newest
                   ON newest.list_id = r.list_id AND newest.day = r.day",
            )
            .map_err(|error| self.fail(error))?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(|error| self.fail(error))?;
        let mut latest = HashMap::new();
        for row in rows {
            let (list, day, domains) = row.map_err(|error| self.fail(error))?;
            let counts: TrendCounts =
                serde_json::from_str(&domains).map_err(|error| StoreError::Corrupt {
                    path: self.path.clone(),
                    problem: format!("trend roll-up for {} (domains): {error}", day_text(day)),
                })?;
            let key = (list != 0).then_some(ListId(list));
            latest.insert(key, counts);
        }
        Ok(latest)
    }

    /// The weighted counts of the newest roll-up of every list that has one with weighted
    /// figures (key None: all domains); lists whose newest roll-up predates weights are absent.
    pub fn latest_volume_rollups(
        &self,
    ) -> Result<HashMap<Option<ListId>, VolumeCounts>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT r.list_id, r.day, r.volume FROM rollups r
                 JOIN (SELECT list_id, max(day) AS day FROM rollups GROUP BY list_id) newest
                   ON newest.list_id = r.list_id AND newest.day = r.day
                 WHERE r.volume IS NOT NULL",
            )
            .map_err(fail)?;
        let mut rows = statement.query([]).map_err(fail)?;
        let mut latest = HashMap::new();
        while let Some(row) = rows.next().map_err(fail)? {
            let list: i64 = row.get(0).map_err(fail)?;
            let day: i64 = row.get(1).map_err(fail)?;
            let json: String = row.get(2).map_err(fail)?;
            let volume: VolumeCounts =
                serde_json::from_str(&json).map_err(|error| StoreError::Corrupt {
                    path: self.path.clone(),
                    problem: format!("trend roll-up for {} (mail volume): {error}", day_text(day)),
                })?;
            latest.insert((list != 0).then_some(ListId(list)), volume);
        }
        Ok(latest)
    }

    /// Latest state of each domain matching `filter`, by domain name: a domain whose latest
    /// probes were untestable shows its last known state, marked stale, while the rule keeps it.
    pub fn latest(&self, filter: &LatestFilter) -> Result<Vec<LatestRow>, StoreError> {
        let mut latest = Vec::new();
        self.latest_each(filter, |row| latest.push(row))?;
        Ok(latest)
    }

    /// [`Self::latest`] a row at a time, as each is read: a caller that keeps rows its own way
    /// (the app's compact table) never holds them all twice.
    pub fn latest_each(
        &self,
        filter: &LatestFilter,
        mut each: impl FnMut(LatestRow) + Send,
    ) -> Result<(), StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let max_days = self.stale_max_days()?;
        let text = filter.text.as_ref().map(|text| {
            format!(
                "%{}%",
                text.trim().to_ascii_lowercase().replace(['%', '_'], "")
            )
        });
        let sql = format!(
            "SELECT d.name, {latest}, r.untestable_why, k.id, {known},
                    CASE WHEN k.id IS NOT NULL THEN d.stale_since END
             FROM domains d LEFT JOIN runs r ON r.id = d.latest_run_id
             LEFT JOIN runs k ON k.id = d.known_run_id
             WHERE (?1 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))
               AND (?2 IS NULL OR d.name LIKE ?2)
             ORDER BY d.name",
            latest = shown_columns("r"),
            known = shown_columns("k"),
        );
        let mut statement = self.connection.prepare_cached(&sql).map_err(fail)?;
        let mut auth_of = ShapeAuth::default();
        let mut rows = statement
            .query(params![list_key(filter.list), text])
            .map_err(fail)?;
        // The next row the filter lets through, its texts appended to `texts`.
        let mut next = |texts: &mut Texts| -> Result<Option<ReadRow>, StoreError> {
            while let Some(row) = rows.next().map_err(fail)? {
                let read = ReadRow::read(row, texts, max_days, |shape| {
                    auth_of.of(&self.connection, shape)
                })
                .map_err(fail)?;
                if filter
                    .verdict
                    .is_none_or(|verdict| read.shown.verdict == Some(verdict))
                {
                    return Ok(Some(read));
                }
            }
            Ok(None)
        };
        if filter.offset == 0 && filter.limit.is_none() {
            // Every row: SQLite's side (stepping, the columns, the stale rule) on this thread,
            // the rows' own work and the caller's beside it, a batch at a time.
            return std::thread::scope(|scope| {
                let (sender, receiver) = std::sync::mpsc::sync_channel::<(Texts, Vec<ReadRow>)>(4);
                let consumer = scope.spawn(move || {
                    for (texts, batch) in receiver {
                        for read in batch {
                            if let Some(row) = read.into_row(&texts) {
                                each(row);
                            }
                        }
                    }
                });
                let outcome = (|| {
                    loop {
                        let mut texts = Texts(String::with_capacity(LATEST_BATCH * 48));
                        let mut batch = Vec::with_capacity(LATEST_BATCH);
                        while batch.len() < LATEST_BATCH {
                            match next(&mut texts)? {
                                Some(read) => batch.push(read),
                                None => break,
                            }
                        }
                        let last = batch.len() < LATEST_BATCH;
                        // Fails only when the consumer has panicked, which the join reports.
                        if (!batch.is_empty() && sender.send((texts, batch)).is_err()) || last {
                            return Ok(());
                        }
                    }
                })();
                drop(sender);
                if let Err(panic) = consumer.join() {
                    std::panic::resume_unwind(panic);
                }
                outcome
            });
        }
        let mut given = 0;
        let mut skipped = 0;
        let mut texts = Texts::default();
        loop {
            texts.0.clear();
            let Some(read) = next(&mut texts)? else {
                break;
            };
            let Some(row) = read.into_row(&texts) else {
                continue;
            };
            if skipped < filter.offset {
                skipped += 1;
                continue;
            }
            if filter.limit.is_some_and(|limit| given >= limit) {
                break;
            }
            given += 1;
            each(row);
        }
        Ok(())
    }

    /// The full latest result of `domain`, with `probed_at` set to when it was last confirmed
    /// (and `last_known`, `stale_since` while it keeps its last known state).
    pub fn latest_result(&self, domain: &DomainName) -> Result<Option<DomainResult>, StoreError> {
        let max_days = self.stale_max_days()?;
        let sql = latest_results_sql("d.name = ?1");
        let mut statement = self
            .connection
            .prepare_cached(&sql)
            .map_err(|error| self.fail(error))?;
        let mut rows = statement
            .query(params![domain.as_str()])
            .map_err(|error| self.fail(error))?;
        match rows.next().map_err(|error| self.fail(error))? {
            Some(row) => self.read_latest_result(row, domain, max_days),
            None => Ok(None),
        }
    }

    /// Visits every domain of `list` (None: all), by name, with its full latest result
    /// (`probed_at` = when it was last confirmed; `last_known`, `stale_since` while it keeps
    /// its last known state), or `None` when it was never probed.
    ///
    /// Streams: one result in memory at a time, so reports on 100k domains stay small. The
    /// visitor's error stops the walk and is returned.
    pub fn each_latest_result<E: From<StoreError>>(
        &self,
        list: Option<ListId>,
        mut visit: impl FnMut(DomainName, Option<DomainResult>) -> Result<(), E>,
    ) -> Result<(), E> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let max_days = self.stale_max_days()?;
        let sql = latest_results_sql(
            "(?1 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))",
        );
        let mut statement = self.connection.prepare_cached(&sql).map_err(fail)?;
        let mut rows = statement.query(params![list_key(list)]).map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let name: String = row.get(0).map_err(fail)?;
            let Ok(domain) = DomainName::parse_owned(name) else {
                continue;
            };
            let result = self.read_latest_result(row, &domain, max_days)?;
            visit(domain, result)?;
        }
        Ok(())
    }

    /// A row of [`latest_results_sql`] as the domain's latest result, stale state included.
    fn read_latest_result(
        &self,
        row: &rusqlite::Row<'_>,
        domain: &DomainName,
        max_days: u32,
    ) -> Result<Option<DomainResult>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let Some(shape) = row.get::<_, Option<i64>>(1).map_err(fail)? else {
            return Ok(None);
        };
        let mut result = self.stored_result(domain, shape, row.get(2).map_err(fail)?)?;
        result.stale_since = None;
        result.last_known = None;
        if let Some(last_at) = row.get::<_, Option<i64>>(3).map_err(fail)? {
            result.probed_at = timestamp(last_at);
        }
        let Some(known_shape) = row.get::<_, Option<i64>>(4).map_err(fail)? else {
            return Ok(Some(result));
        };
        let known = Seen {
            verdict: self.stored_verdict(&row.get::<_, String>(6).map_err(fail)?)?,
            definitive: row.get(7).map_err(fail)?,
            last_at: row.get(8).map_err(fail)?,
        };
        let latest = Seen {
            verdict: result.verdict,
            definitive: stale::is_definitive(&result),
            last_at: result.probed_at.unix_timestamp(),
        };
        if keeps(latest, latest.last_at, Some(known), max_days) {
            let mut last_known =
                self.stored_result(domain, known_shape, row.get(5).map_err(fail)?)?;
            last_known.stale_since = None;
            last_known.last_known = None;
            last_known.probed_at = timestamp(known.last_at);
            let since: Option<i64> = row.get(9).map_err(fail)?;
            result.stale_since = Some(since.map_or(result.probed_at, timestamp));
            result.last_known = Some(Box::new(last_known));
        }
        Ok(Some(result))
    }

    /// A domain's history, newest first.
    pub fn history(&self, domain: &DomainName) -> Result<Vec<DomainHistoryRun>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT r.first_at, r.last_at, r.times_seen, r.shape_id, r.probed_at_ns FROM runs r
                 JOIN domains d ON d.id = r.domain_id WHERE d.name = ?1
                 ORDER BY r.first_at DESC, r.id DESC",
            )
            .map_err(|error| self.fail(error))?;
        let rows = statement
            .query_map(params![domain.as_str()], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(|error| self.fail(error))?;
        let runs: Vec<_> = rows
            .collect::<Result<_, _>>()
            .map_err(|error| self.fail(error))?;
        drop(statement);
        let mut history = Vec::new();
        for (first_at, last_at, times_seen, shape, probed_at_ns) in runs {
            history.push(DomainHistoryRun {
                first_at: timestamp(first_at),
                last_at: timestamp(last_at),
                times_seen: times_seen as usize,
                result: self.stored_result(domain, shape, probed_at_ns)?,
            });
        }
        Ok(history)
    }

    /// Domains of `list` grouped by mail provider, largest first (then by name), at most
    /// `limit` rows; a stale domain by its last known state (and provider). The table rows'
    /// own pass ([`Self::latest_each`]) counts them: the app's snapshot counts the same rows
    /// in the pass that builds its table ([`ProviderTally`]), with no second query.
    pub fn providers(
        &self,
        list: Option<ListId>,
        limit: usize,
    ) -> Result<Vec<ProviderRow>, StoreError> {
        let weights = if self.is_weighted(list)? {
            self.weights_other_than_one(list)?
        } else {
            HashMap::new()
        };
        let mut tally = ProviderTally::default();
        let every_row = LatestFilter {
            list,
            ..LatestFilter::default()
        };
        self.latest_each(&every_row, |row| {
            let weight = weights.get(&row.domain).copied().unwrap_or(Weight::ONE);
            tally.add(&row, weight);
        })?;
        Ok(tally.finish(limit))
    }

    /// A verdict as stored; anything else means the file was damaged.
    fn stored_verdict(&self, text: &str) -> Result<Verdict, StoreError> {
        text.parse().map_err(|_| StoreError::Corrupt {
            path: self.path.clone(),
            problem: format!("unknown verdict '{text}' in a stored run"),
        })
    }

    /// Change events, newest first: of `domain` when given, else of every domain (in `list`
    /// when given); only those at or after `since`.
    pub fn events(
        &self,
        list: Option<ListId>,
        domain: Option<&DomainName>,
        since: Option<OffsetDateTime>,
        limit: usize,
    ) -> Result<Vec<EventRow>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT e.id, d.name, e.at, e.kind, e.detail, e.scan_id FROM events e
                 JOIN domains d ON d.id = e.domain_id
                 WHERE (?1 = 0 OR e.domain_id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))
                   AND (?2 IS NULL OR d.name = ?2)
                   AND e.at >= ?3
                 ORDER BY e.at DESC, e.id DESC LIMIT ?4",
            )
            .map_err(|error| self.fail(error))?;
        let rows = statement
            .query_map(
                params![
                    list_key(list),
                    domain.map(DomainName::as_str),
                    since.map_or(i64::MIN, OffsetDateTime::unix_timestamp),
                    limit as i64
                ],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                        row.get::<_, Option<i64>>(5)?,
                    ))
                },
            )
            .map_err(|error| self.fail(error))?;
        let mut events = Vec::new();
        for row in rows {
            let (id, domain, at, kind, detail, scan_id) = row.map_err(|error| self.fail(error))?;
            let Ok(kind) = kind.parse::<ChangeKind>() else {
                continue;
            };
            events.push(EventRow {
                id,
                domain,
                at: timestamp(at),
                kind,
                detail,
                regression: kind.is_regression(),
                scan_id,
            });
        }
        Ok(events)
    }
}

/// The query of [`Store::latest_result`] and [`Store::each_latest_result`]: name, latest
/// result (shape, probe time) and when it was last confirmed, then the last conclusive run
/// (shape, probe time, verdict, definitive, last confirmed) and when the runs after it began,
/// for the domains `filter` selects, by name.
fn latest_results_sql(filter: &str) -> String {
    format!(
        "SELECT d.name, r.shape_id, r.probed_at_ns, r.last_at, k.shape_id, k.probed_at_ns,
                k.verdict, k.definitive, k.last_at, CASE WHEN k.id IS NOT NULL THEN d.stale_since END
         FROM domains d
         LEFT JOIN runs r ON r.id = d.latest_run_id
         LEFT JOIN runs k ON k.id = d.known_run_id
         WHERE {filter}
         ORDER BY d.name"
    )
}

/// Roll-up parts as JSON; serializing plain counts cannot fail.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}
