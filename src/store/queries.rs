//! Read-side queries: latest result per domain (filtered), one domain's history, trend series
//! (from roll-ups), provider breakdown, recent events; and the roll-up computation itself.
//!
//! Owns: query shapes and the trend definitions of DESIGN.md ("each domain counted by its
//! latest result as of the end of that day"). Must not touch: writes other than `rollups`.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::results::timestamp;
use super::{ListId, Store, StoreError};
use crate::model::adoption::{
    AdoptionState, HostFold, TrendCounts, TrendPoint, date_of_day_number, day_number,
};
use crate::model::changes::ChangeKind;
use crate::model::{DomainName, DomainResult, Verdict};

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
    pub cert_not_after: Option<OffsetDateTime>,
    pub provider: Option<String>,
    pub mx_count: usize,
    /// When the current state was last confirmed.
    pub last_probed: Option<OffsetDateTime>,
    /// When the current state began.
    pub state_since: Option<OffsetDateTime>,
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
}

fn list_key(list: Option<ListId>) -> i64 {
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

impl Store {
    /// Recomputes the roll-up of `list` (None: all domains) for the UTC day of `as_of`, from
    /// each domain's latest run that began no later than `as_of`.
    pub fn refresh_rollup(
        &self,
        list: Option<ListId>,
        as_of: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let cutoff = as_of.unix_timestamp();
        // One row per (run, MX host), runs together. A domain's run as of `cutoff` is the
        // latest one that began by then; for "now" that is simply its latest run.
        let run_as_of = if cutoff + 60 >= super::now_seconds() {
            "r.id = d.latest_run_id"
        } else {
            "r.id = (SELECT id FROM runs WHERE domain_id = d.id AND first_at <= ?2
                     ORDER BY first_at DESC, id DESC LIMIT 1)"
        };
        let sql = format!(
            "SELECT r.id, r.verdict, r.starttls, r.pfs, r.strict_valid, r.tls_version, r.last_at,
                    m.host, m.verdict, m.starttls, m.pfs, m.strict_valid
             FROM domains d
             JOIN runs r ON {run_as_of}
             LEFT JOIN run_mx m ON m.run_id = r.id
             WHERE (?1 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))
               AND ?2 = ?2
             ORDER BY r.id"
        );
        let mut statement = self.connection.prepare_cached(&sql).map_err(fail)?;
        let mut domains = TrendCounts::default();
        let mut tls_versions: BTreeMap<String, usize> = BTreeMap::new();
        // Unique MX hosts: each host's state from the most recently confirmed run naming it.
        let mut hosts = HostFold::default();
        let mut previous_run = None;
        let mut rows = statement
            .query(params![list_key(list), cutoff])
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let run_id: i64 = row.get(0).map_err(fail)?;
            let last_at = timestamp(row.get(6).map_err(fail)?);
            if previous_run != Some(run_id) {
                previous_run = Some(run_id);
                let state = AdoptionState::new(
                    self.stored_verdict(&row.get::<_, String>(1).map_err(fail)?)?,
                    row.get(2).map_err(fail)?,
                    row.get(3).map_err(fail)?,
                    row.get(4).map_err(fail)?,
                );
                domains.add(state);
                if state.is_testable()
                    && let Some(version) = row.get::<_, Option<String>>(5).map_err(fail)?
                {
                    *tls_versions.entry(version).or_default() += 1;
                }
            }
            let Some(host) = row.get::<_, Option<String>>(7).map_err(fail)? else {
                continue;
            };
            let state = AdoptionState::new(
                self.stored_verdict(&row.get::<_, String>(8).map_err(fail)?)?,
                row.get(9).map_err(fail)?,
                row.get(10).map_err(fail)?,
                row.get(11).map_err(fail)?,
            );
            hosts.add(&host, last_at, state);
        }
        drop(rows);
        let hosts = hosts.counts();
        self.connection
            .execute(
                "INSERT INTO rollups (list_id, day, domains, mx_hosts, tls_versions) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(list_id, day) DO UPDATE SET domains = excluded.domains,
                 mx_hosts = excluded.mx_hosts, tls_versions = excluded.tls_versions",
                params![
                    list_key(list),
                    utc_day(as_of),
                    to_json(&domains),
                    to_json(&hosts),
                    to_json(&tls_versions),
                ],
            )
            .map_err(fail)?;
        Ok(())
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
                "SELECT day, domains, mx_hosts, tls_versions FROM rollups
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
                ))
            })
            .map_err(|error| self.fail(error))?;
        let mut points = Vec::new();
        for row in rows {
            let (day, domains, hosts, versions) = row.map_err(|error| self.fail(error))?;
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

    /// Latest state of each domain matching `filter`, by domain name.
    pub fn latest(&self, filter: &LatestFilter) -> Result<Vec<LatestRow>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let text = filter.text.as_ref().map(|text| {
            format!(
                "%{}%",
                text.trim().to_ascii_lowercase().replace(['%', '_'], "")
            )
        });
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT d.name, r.verdict, r.starttls, r.pfs, r.strict_valid, r.tls_version,
                        r.cert_not_after, r.provider, coalesce(r.mx_count, 0), r.last_at, r.first_at
                 FROM domains d LEFT JOIN runs r ON r.id = d.latest_run_id
                 WHERE (?1 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))
                   AND (?2 IS NULL OR r.verdict = ?2)
                   AND (?3 IS NULL OR d.name LIKE ?3)
                 ORDER BY d.name LIMIT ?4 OFFSET ?5",
            )
            .map_err(fail)?;
        let limit = filter.limit.map_or(-1, |limit| limit as i64);
        let rows = statement
            .query_map(
                params![
                    list_key(filter.list),
                    filter.verdict.map(Verdict::as_str),
                    text,
                    limit,
                    filter.offset as i64
                ],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, Option<String>>(1)?,
                        row.get::<_, Option<bool>>(2)?,
                        row.get::<_, Option<bool>>(3)?,
                        row.get::<_, Option<bool>>(4)?,
                        row.get::<_, Option<String>>(5)?,
                        row.get::<_, Option<i64>>(6)?,
                        row.get::<_, Option<String>>(7)?,
                        row.get::<_, i64>(8)?,
                        row.get::<_, Option<i64>>(9)?,
                        row.get::<_, Option<i64>>(10)?,
                    ))
                },
            )
            .map_err(fail)?;
        let mut latest = Vec::new();
        for row in rows {
            let row = row.map_err(fail)?;
            let Ok(domain) = DomainName::parse(&row.0) else {
                continue;
            };
            latest.push(LatestRow {
                domain,
                verdict: row.1.as_deref().and_then(|text| text.parse().ok()),
                starttls: row.2,
                pfs: row.3,
                strict_valid: row.4,
                tls_version: row.5,
                cert_not_after: row.6.map(timestamp),
                provider: row.7,
                mx_count: row.8 as usize,
                last_probed: row.9.map(timestamp),
                state_since: row.10.map(timestamp),
            });
        }
        Ok(latest)
    }

    /// The full latest result of `domain`, with `probed_at` set to when it was last confirmed.
    pub fn latest_result(&self, domain: &DomainName) -> Result<Option<DomainResult>, StoreError> {
        let row: Option<(String, i64)> = self
            .connection
            .query_row(
                "SELECT r.result, r.last_at FROM domains d JOIN runs r ON r.id = d.latest_run_id
                 WHERE d.name = ?1",
                params![domain.as_str()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|error| self.fail(error))?;
        let Some((json, last_at)) = row else {
            return Ok(None);
        };
        let mut result = self.parse_result(&json, domain)?;
        result.probed_at = timestamp(last_at);
        Ok(Some(result))
    }

    /// Visits every domain of `list` (None: all), by name, with its full latest result
    /// (`probed_at` = when it was last confirmed), or `None` when it was never probed.
    ///
    /// Streams: one result in memory at a time, so reports on 100k domains stay small. The
    /// visitor's error stops the walk and is returned.
    pub fn each_latest_result<E: From<StoreError>>(
        &self,
        list: Option<ListId>,
        mut visit: impl FnMut(DomainName, Option<DomainResult>) -> Result<(), E>,
    ) -> Result<(), E> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT d.name, r.result, r.last_at FROM domains d
                 LEFT JOIN runs r ON r.id = d.latest_run_id
                 WHERE (?1 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))
                 ORDER BY d.name",
            )
            .map_err(fail)?;
        let mut rows = statement.query(params![list_key(list)]).map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let name: String = row.get(0).map_err(fail)?;
            let Ok(domain) = DomainName::parse(&name) else {
                continue;
            };
            let json: Option<String> = row.get(1).map_err(fail)?;
            let result = match json {
                Some(json) => {
                    let mut result = self.parse_result(&json, &domain)?;
                    if let Some(last_at) = row.get::<_, Option<i64>>(2).map_err(fail)? {
                        result.probed_at = timestamp(last_at);
                    }
                    Some(result)
                }
                None => None,
            };
            visit(domain, result)?;
        }
        Ok(())
    }

    fn parse_result(&self, json: &str, domain: &DomainName) -> Result<DomainResult, StoreError> {
        serde_json::from_str(json).map_err(|error| StoreError::Corrupt {
            path: self.path.clone(),
            problem: format!("stored result of {domain} is unreadable: {error}"),
        })
    }

    /// A domain's history, newest first.
    pub fn history(&self, domain: &DomainName) -> Result<Vec<DomainHistoryRun>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT r.first_at, r.last_at, r.times_seen, r.result FROM runs r
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
                    row.get::<_, String>(3)?,
                ))
            })
            .map_err(|error| self.fail(error))?;
        let mut history = Vec::new();
        for row in rows {
            let (first_at, last_at, times_seen, json) = row.map_err(|error| self.fail(error))?;
            history.push(DomainHistoryRun {
                first_at: timestamp(first_at),
                last_at: timestamp(last_at),
                times_seen: times_seen as usize,
                result: self.parse_result(&json, domain)?,
            });
        }
        Ok(history)
    }

    /// Domains of `list` grouped by mail provider, largest first (then by name), at most
    /// `limit` rows.
    pub fn providers(
        &self,
        list: Option<ListId>,
        limit: usize,
    ) -> Result<Vec<ProviderRow>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        // SQLite groups by state, the adoption module counts: a few rows per provider.
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT r.provider, r.verdict, r.starttls, r.pfs, r.strict_valid, count(*)
                 FROM domains d JOIN runs r ON r.id = d.latest_run_id
                 WHERE (?1 = 0 OR d.id IN (SELECT domain_id FROM list_domains WHERE list_id = ?1))
                   AND r.provider IS NOT NULL
                 GROUP BY r.provider, r.verdict, r.starttls, r.pfs, r.strict_valid",
            )
            .map_err(fail)?;
        let mut rows = statement.query(params![list_key(list)]).map_err(fail)?;
        let mut providers: HashMap<String, TrendCounts> = HashMap::new();
        while let Some(row) = rows.next().map_err(fail)? {
            let provider: String = row.get(0).map_err(fail)?;
            let state = AdoptionState::new(
                self.stored_verdict(&row.get::<_, String>(1).map_err(fail)?)?,
                row.get(2).map_err(fail)?,
                row.get(3).map_err(fail)?,
                row.get(4).map_err(fail)?,
            );
            let count = row.get::<_, i64>(5).map_err(fail)? as usize;
            providers
                .entry(provider)
                .or_default()
                .add_many(state, count);
        }
        let mut providers: Vec<ProviderRow> = providers
            .into_iter()
            .map(|(provider, counts)| ProviderRow { provider, counts })
            .collect();
        providers.sort_by(|a, b| {
            b.counts
                .total
                .cmp(&a.counts.total)
                .then_with(|| a.provider.cmp(&b.provider))
        });
        providers.truncate(limit);
        Ok(providers)
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
                "SELECT e.id, d.name, e.at, e.kind, e.detail FROM events e
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
                    ))
                },
            )
            .map_err(|error| self.fail(error))?;
        let mut events = Vec::new();
        for row in rows {
            let (id, domain, at, kind, detail) = row.map_err(|error| self.fail(error))?;
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
            });
        }
        Ok(events)
    }
}

/// Roll-up parts as JSON; serializing plain counts cannot fail.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}
