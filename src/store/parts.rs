//! How a result is stored in shared parts (schema 9): what an MX host showed is kept once per
//! host and state (`host_runs`), what the rest of a domain's result says once per distinct
//! content (`shapes`), and a domain's run names its shape (`runs.shape_id`) beside its own
//! time (`runs.probed_at_ns`). A million domains behind 200 provider hosts store 200 host
//! states and a few hundred shapes, not a million copies of the same TLS facts.
//!
//! Owns: splitting a [`DomainResult`] into those parts, putting them back together exactly,
//! the state fingerprint of a result (computed from its parts, so a host's facts are hashed
//! once per state, not once per domain), and the per-connection caches that keep a scan from
//! encoding the same host facts again for every domain behind it.
//! Must not touch: runs, events and roll-ups (`results`, `queries`); the meaning of any field.
//!
//! Correct by construction: a host part is the [`MxResult`] with only the fields that depend on
//! the domain ([`MxRef`]) taken out, and a shape is the whole result with only its name, time,
//! MX hosts and the store's own annotations taken out. A field added to the model later lands
//! in a part by itself; the worst it can do is make parts dedupe less.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::{DomainName, DomainResult, MxResult};

/// The name a shape's stored JSON carries in place of a domain's (shapes are shared by many
/// domains; the reader puts the run's own name back).
const SHAPE_DOMAIN: &str = "shape.invalid";

/// How many distinct host parts / shapes a connection remembers before it forgets them all
/// (a scan of a million domains behind a few hundred hosts stays far below).
const CACHE_LIMIT: usize = 20_000;

/// How many states a connection remembers per host name and per MX reference list (the
/// latest ones: a scan's domains behind one host share one; domains with an MTA-STS policy of
/// their own each have a shape of their own, which is written, not remembered).
const CACHE_PER_KEY: usize = 4;

/// What an MX host's entry of one domain holds besides the host's shared facts: the fields of
/// [`MxResult`] that depend on the domain (its MX record and its MTA-STS policy). Stored in the
/// shape, in MX order, with the host run that holds the rest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(super) struct MxRef {
    /// `host_runs.id`.
    pub(super) run: i64,
    pub(super) preference: u16,
    pub(super) implicit: bool,
    pub(super) sts_matched: Option<bool>,
    pub(super) sts_passes: Option<bool>,
}

impl MxRef {
    fn of(run: i64, host: &MxResult) -> Self {
        Self {
            run,
            preference: host.preference,
            implicit: host.implicit,
            sts_matched: host.sts_matched,
            sts_passes: host.sts_passes,
        }
    }

    /// The host's entry: its shared facts with this domain's fields put back.
    fn apply(&self, shared: &MxResult) -> MxResult {
        let mut host = shared.clone();
        host.preference = self.preference;
        host.implicit = self.implicit;
        host.sts_matched = self.sts_matched;
        host.sts_passes = self.sts_passes;
        host
    }
}

/// The shared facts of an MX host entry: the entry with the domain's own fields neutral.
fn host_part(host: &MxResult) -> MxResult {
    let mut shared = host.clone();
    shared.preference = 0;
    shared.implicit = false;
    shared.sts_matched = None;
    shared.sts_passes = None;
    shared
}

/// The stable hash of an MX host's shared facts: what changes at every probe (timings,
/// greeting and detail texts, days left, the derived grade, informational DANE warnings) is
/// left out, so an unchanged host probed again is the same state.
fn host_fingerprint(shared: &MxResult) -> i64 {
    let mut stable = shared.clone();
    for address in &mut stable.addresses {
        address.smtp_text = None;
        address.detail.clear();
        address.elapsed_ms = 0;
        address.cert_days_left = None;
        address.tls_grade = None;
    }
    stable.dane_warnings.clear();
    digest(&serde_json::to_string(&stable).unwrap_or_default())
}

/// The first 8 bytes of SHA-256, as a signed integer (SQLite's).
fn digest(text: &str) -> i64 {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    i64::from_le_bytes(first)
}

/// The state fingerprint of a result from its parts: the domain's name and probed facts
/// (verdict, booleans, DNS error, MTA-STS without its fetch time, TLS-RPT, DNSSEC) and, per MX
/// host in order, its domain fields and the stable hash of its shared facts. Times, texts and
/// what is derived from the hashed facts (grades, the sender view, DANE folds) are left out.
fn fingerprint_of(result: &DomainResult, hosts: &[(i64, MxRef)]) -> i64 {
    type HostState = (i64, u16, bool, Option<bool>, Option<bool>);
    #[derive(Serialize)]
    struct Probed<'a> {
        domain: &'a DomainName,
        verdict: crate::model::Verdict,
        starttls: Option<bool>,
        pfs: Option<bool>,
        strict_valid: Option<bool>,
        dns_error: Option<crate::model::DnsError>,
        mta_sts: Option<crate::model::auth::MtaSts>,
        tls_rpt: Option<&'a crate::model::auth::TlsRpt>,
        dnssec: Option<crate::model::auth::DnssecStatus>,
        /// (host fingerprint, preference, implicit, sts_matched, sts_passes) per MX host.
        mx: Vec<HostState>,
    }
    let probed = Probed {
        domain: &result.domain,
        verdict: result.verdict,
        starttls: result.starttls,
        pfs: result.pfs,
        strict_valid: result.strict_valid,
        dns_error: result.dns_error,
        mta_sts: result.mta_sts.clone().map(|mut mta_sts| {
            mta_sts.fetched_at = None;
            mta_sts
        }),
        tls_rpt: result.tls_rpt.as_ref(),
        dnssec: result.dnssec,
        mx: hosts
            .iter()
            .map(|(fingerprint, entry)| {
                (
                    *fingerprint,
                    entry.preference,
                    entry.implicit,
                    entry.sts_matched,
                    entry.sts_passes,
                )
            })
            .collect(),
    };
    digest(&serde_json::to_string(&probed).unwrap_or_default())
}

/// The state fingerprint of `result` (see [`fingerprint_of`]) without the parts' cache: what
/// [`Parts::fingerprint`] must equal.
#[cfg(test)]
fn fingerprint(result: &DomainResult) -> i64 {
    let hosts: Vec<(i64, MxRef)> = result
        .mx
        .iter()
        .map(|host| (host_fingerprint(&host_part(host)), MxRef::of(0, host)))
        .collect();
    fingerprint_of(result, &hosts)
}

/// The shape of a result: the result without its name, time, MX hosts and the store's
/// annotations (compared field by field; see [`same_shape`]).
fn shape_of(result: &DomainResult) -> DomainResult {
    let DomainResult {
        domain: _,
        verdict,
        starttls,
        pfs,
        strict_valid,
        tls_grade,
        dns_error,
        probed_at: _,
        mx: _,
        mta_sts,
        tls_rpt,
        dnssec,
        dane,
        dane_warnings,
        sender,
        stale_since: _,
        last_known: _,
    } = result;
    DomainResult {
        domain: shape_domain(),
        verdict: *verdict,
        starttls: *starttls,
        pfs: *pfs,
        strict_valid: *strict_valid,
        tls_grade: *tls_grade,
        dns_error: *dns_error,
        probed_at: OffsetDateTime::UNIX_EPOCH,
        mx: Vec::new(),
        mta_sts: mta_sts.clone(),
        tls_rpt: tls_rpt.clone(),
        dnssec: *dnssec,
        dane: *dane,
        dane_warnings: dane_warnings.clone(),
        sender: *sender,
        stale_since: None,
        last_known: None,
    }
}

fn shape_domain() -> DomainName {
    DomainName::parse(SHAPE_DOMAIN).unwrap_or_else(|_| unreachable!("a valid name"))
}

/// A shape as stored: the shape's result JSON and its MX hosts' references.
#[derive(Serialize)]
struct ShapeOut<'a> {
    #[serde(flatten)]
    result: &'a DomainResult,
    mx_refs: &'a [MxRef],
}

/// The references of a stored shape (the rest of its JSON is read as a [`DomainResult`]).
#[derive(Deserialize)]
struct ShapeRefs {
    mx_refs: Vec<MxRef>,
}

/// A stored part could not be read back.
#[derive(Debug)]
pub(super) enum PartError {
    Sql(rusqlite::Error),
    /// The stored JSON is damaged: what is wrong, in words.
    Damaged(String),
}

impl From<rusqlite::Error> for PartError {
    fn from(error: rusqlite::Error) -> Self {
        PartError::Sql(error)
    }
}

/// What a connection remembers of the parts it wrote or read. Parts are never changed once
/// written (only a host run's `last_at` moves), so a remembered id stays right; what a
/// transaction wrote is remembered only once it committed ([`Parts::commit`]).
#[derive(Default)]
pub(super) struct Parts {
    /// Per host name: shared facts as probed (exactly) and their fingerprint. Pure, so never
    /// wrong: it only saves hashing the same facts again for every domain behind the host.
    fingerprints: HashMap<String, Vec<(MxResult, i64)>>,
    /// Host runs by host name and fingerprint.
    host_runs: HashMap<(String, i64), i64>,
    /// Per MX references: shapes (the shape result) and their ids.
    shapes: HashMap<Vec<MxRef>, Vec<(DomainResult, i64)>>,
    /// Read side: host runs and shapes by id.
    read_hosts: HashMap<i64, Arc<MxResult>>,
    read_shapes: HashMap<i64, Arc<(DomainResult, Vec<MxRef>)>>,
    /// Written by the open transaction, not yet remembered.
    pending_host_runs: Vec<((String, i64), i64)>,
    pending_shapes: Vec<(Vec<MxRef>, DomainResult, i64)>,
    /// Host runs already marked seen at this second (`last_at`).
    touched: HashMap<i64, i64>,
}

impl Parts {
    /// The shared facts of `host` and their fingerprint.
    fn host_state(&mut self, host: &MxResult) -> (MxResult, i64) {
        let shared = host_part(host);
        if let Some((_, fingerprint)) = self
            .fingerprints
            .get(&host.host)
            .into_iter()
            .flatten()
            .find(|(facts, _)| *facts == shared)
        {
            return (shared, *fingerprint);
        }
        let fingerprint = host_fingerprint(&shared);
        if self.fingerprints.len() >= CACHE_LIMIT {
            self.fingerprints.clear();
        }
        let known = self.fingerprints.entry(host.host.clone()).or_default();
        known.push((shared.clone(), fingerprint));
        if known.len() > CACHE_PER_KEY {
            known.remove(0);
        }
        (shared, fingerprint)
    }

    /// The state fingerprint of `result` ([`fingerprint`], with each host's facts hashed once).
    pub(super) fn fingerprint(&mut self, result: &DomainResult) -> i64 {
        let hosts: Vec<(i64, MxRef)> = result
            .mx
            .iter()
            .map(|host| (self.host_state(host).1, MxRef::of(0, host)))
            .collect();
        fingerprint_of(result, &hosts)
    }

    /// Stores the parts of `result` not stored yet, in the open transaction, and returns the
    /// shape its run names, and whether it is new (its MX rows, `shape_mx`, are the caller's
    /// to write then).
    pub(super) fn store(
        &mut self,
        connection: &Connection,
        result: &DomainResult,
    ) -> Result<(i64, bool), rusqlite::Error> {
        let at = result.probed_at.unix_timestamp();
        let mut refs: Vec<MxRef> = Vec::with_capacity(result.mx.len());
        for host in &result.mx {
            let run = self.host_run(connection, host, at)?;
            refs.push(MxRef::of(run, host));
        }
        self.shape(connection, result, refs)
    }

    /// The host run holding `host`'s shared facts: remembered, or one of the same state in
    /// the database, or a new one.
    fn host_run(
        &mut self,
        connection: &Connection,
        host: &MxResult,
        at: i64,
    ) -> Result<i64, rusqlite::Error> {
        let (shared, fingerprint) = self.host_state(host);
        let key = (host.host.clone(), fingerprint);
        let known = self.host_runs.get(&key).copied().or_else(|| {
            self.pending_host_runs
                .iter()
                .find(|(pending, _)| *pending == key)
                .map(|(_, run)| *run)
        });
        let run = match known {
            Some(run) => run,
            None => {
                let existing: Option<i64> = connection
                    .prepare_cached(
                        "SELECT id FROM host_runs WHERE host = ?1 AND fingerprint = ?2
                         ORDER BY id DESC LIMIT 1",
                    )?
                    .query_row(params![host.host, fingerprint], |row| row.get(0))
                    .optional()?;
                let run = match existing {
                    Some(run) => run,
                    None => {
                        let facts = serde_json::to_string(&shared).map_err(|error| {
                            rusqlite::Error::ToSqlConversionFailure(Box::new(error))
                        })?;
                        connection
                            .prepare_cached(
                                "INSERT INTO host_runs (host, fingerprint, first_at, last_at, facts)
                                 VALUES (?1, ?2, ?3, ?3, ?4)",
                            )?
                            .execute(params![host.host, fingerprint, at, facts])?;
                        connection.last_insert_rowid()
                    }
                };
                self.pending_host_runs.push((key, run));
                run
            }
        };
        if self.touched.get(&run).is_none_or(|seen| *seen < at) {
            connection
                .prepare_cached("UPDATE host_runs SET last_at = max(last_at, ?1) WHERE id = ?2")?
                .execute(params![at, run])?;
            self.touched.insert(run, at);
        }
        Ok(run)
    }

    /// The shape of `result` with `refs`: remembered, or stored with the same text, or new.
    fn shape(
        &mut self,
        connection: &Connection,
        result: &DomainResult,
        refs: Vec<MxRef>,
    ) -> Result<(i64, bool), rusqlite::Error> {
        let shape = shape_of(result);
        let known = self
            .shapes
            .get(&refs)
            .into_iter()
            .flatten()
            .find(|(facts, _)| *facts == shape)
            .map(|(_, id)| *id)
            .or_else(|| {
                self.pending_shapes
                    .iter()
                    .find(|(pending_refs, facts, _)| *pending_refs == refs && *facts == shape)
                    .map(|(_, _, id)| *id)
            });
        if let Some(id) = known {
            return Ok((id, false));
        }
        let text = serde_json::to_string(&ShapeOut {
            result: &shape,
            mx_refs: &refs,
        })
        .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
        let (id, new) = insert_shape(connection, &text)?;
        self.pending_shapes.push((refs, shape, id));
        Ok((id, new))
    }

    /// Remembers what the committed transaction wrote.
    pub(super) fn commit(&mut self) {
        if self.host_runs.len() + self.shapes.len() > CACHE_LIMIT {
            self.host_runs.clear();
            self.shapes.clear();
        }
        self.host_runs.extend(self.pending_host_runs.drain(..));
        for (refs, shape, id) in self.pending_shapes.drain(..) {
            let known = self.shapes.entry(refs).or_default();
            known.push((shape, id));
            if known.len() > CACHE_PER_KEY {
                known.remove(0);
            }
        }
    }

    /// Forgets what the rolled-back transaction wrote (and what was read in it).
    pub(super) fn rollback(&mut self) {
        self.pending_host_runs.clear();
        self.pending_shapes.clear();
        self.touched.clear();
        self.read_hosts.clear();
        self.read_shapes.clear();
    }

    /// Where the open transaction's writes stand, for [`Parts::undo_to`].
    pub(super) fn mark(&self) -> (usize, usize) {
        (self.pending_host_runs.len(), self.pending_shapes.len())
    }

    /// Forgets what was written since `mark` (its savepoint was rolled back).
    pub(super) fn undo_to(&mut self, mark: (usize, usize)) {
        self.pending_host_runs.truncate(mark.0);
        self.pending_shapes.truncate(mark.1);
        self.touched.clear();
    }

    /// The result of a run whose shape is `shape`, for `domain` probed at `probed_at_ns`
    /// (Unix nanoseconds).
    pub(super) fn assemble(
        &mut self,
        connection: &Connection,
        domain: &DomainName,
        shape: i64,
        probed_at_ns: i64,
    ) -> Result<DomainResult, PartError> {
        let stored = self.read_shape(connection, shape)?;
        let (facts, refs) = stored.as_ref();
        let mut result = facts.clone();
        result.domain = domain.clone();
        result.probed_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(probed_at_ns))
            .map_err(|error| PartError::Damaged(format!("probe time: {error}")))?;
        result.mx = Vec::with_capacity(refs.len());
        for entry in refs {
            let shared = self.read_host(connection, entry.run)?;
            result.mx.push(entry.apply(&shared));
        }
        Ok(result)
    }

    fn read_shape(
        &mut self,
        connection: &Connection,
        id: i64,
    ) -> Result<Arc<(DomainResult, Vec<MxRef>)>, PartError> {
        if let Some(shape) = self.read_shapes.get(&id) {
            return Ok(shape.clone());
        }
        let text: Option<String> = connection
            .prepare_cached("SELECT facts FROM shapes WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?;
        let Some(text) = text else {
            return Err(PartError::Damaged(format!("its shape {id} is missing")));
        };
        let facts: DomainResult =
            serde_json::from_str(&text).map_err(|error| PartError::Damaged(error.to_string()))?;
        let refs: ShapeRefs =
            serde_json::from_str(&text).map_err(|error| PartError::Damaged(error.to_string()))?;
        let shape = Arc::new((facts, refs.mx_refs));
        if self.read_shapes.len() >= CACHE_LIMIT {
            self.read_shapes.clear();
        }
        self.read_shapes.insert(id, shape.clone());
        Ok(shape)
    }

    fn read_host(&mut self, connection: &Connection, id: i64) -> Result<Arc<MxResult>, PartError> {
        if let Some(host) = self.read_hosts.get(&id) {
            return Ok(host.clone());
        }
        let text: Option<String> = connection
            .prepare_cached("SELECT facts FROM host_runs WHERE id = ?1")?
            .query_row([id], |row| row.get(0))
            .optional()?;
        let Some(text) = text else {
            return Err(PartError::Damaged(format!(
                "its MX host run {id} is missing"
            )));
        };
        let host: MxResult = serde_json::from_str(&text)
            .map_err(|error| PartError::Damaged(format!("MX host run {id}: {error}")))?;
        let host = Arc::new(host);
        if self.read_hosts.len() >= CACHE_LIMIT {
            self.read_hosts.clear();
        }
        self.read_hosts.insert(id, host.clone());
        Ok(host)
    }
}

/// Stores a shape's text, or finds the same text stored already; says whether it is new.
fn insert_shape(connection: &Connection, text: &str) -> Result<(i64, bool), rusqlite::Error> {
    let key = digest(text);
    let existing: Option<i64> = connection
        .prepare_cached("SELECT id FROM shapes WHERE digest = ?1 AND facts = ?2 LIMIT 1")?
        .query_row(params![key, text], |row| row.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok((id, false));
    }
    connection
        .prepare_cached("INSERT INTO shapes (digest, facts) VALUES (?1, ?2)")?
        .execute(params![key, text])?;
    Ok((connection.last_insert_rowid(), true))
}

/// The schema 9 migration of one stored run: its result JSON in parts, exactly (host runs are
/// shared only when their stored facts are equal, so every run reads back as it was stored).
/// A result this build cannot read is kept as it was, in a shape of its own, and reads back as
/// the same damage it was. Returns (shape, probed_at_ns, fingerprint); the probe time and
/// fingerprint are None for such a result.
pub(super) fn migrate_run(
    connection: &Connection,
    exact_hosts: &mut HashMap<String, i64>,
    json: &str,
) -> Result<(i64, Option<(i64, i64)>), rusqlite::Error> {
    let Ok(result) = serde_json::from_str::<DomainResult>(json) else {
        return Ok((insert_shape(connection, json)?.0, None));
    };
    let at = result.probed_at.unix_timestamp();
    let mut hosts: Vec<(i64, MxRef)> = Vec::with_capacity(result.mx.len());
    for host in &result.mx {
        let shared = host_part(host);
        let fingerprint = host_fingerprint(&shared);
        let facts = serde_json::to_string(&shared)
            .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
        let run = match exact_hosts.get(&facts) {
            Some(run) => {
                connection
                    .prepare_cached(
                        "UPDATE host_runs SET first_at = min(first_at, ?1), last_at = max(last_at, ?1)
                         WHERE id = ?2",
                    )?
                    .execute(params![at, run])?;
                *run
            }
            None => {
                connection
                    .prepare_cached(
                        "INSERT INTO host_runs (host, fingerprint, first_at, last_at, facts)
                         VALUES (?1, ?2, ?3, ?3, ?4)",
                    )?
                    .execute(params![host.host, fingerprint, at, facts])?;
                let run = connection.last_insert_rowid();
                exact_hosts.insert(facts, run);
                run
            }
        };
        hosts.push((fingerprint, MxRef::of(run, host)));
    }
    let refs: Vec<MxRef> = hosts.iter().map(|(_, entry)| entry.clone()).collect();
    let text = serde_json::to_string(&ShapeOut {
        result: &shape_of(&result),
        mx_refs: &refs,
    })
    .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error)))?;
    let (shape, _) = insert_shape(connection, &text)?;
    let probed_at_ns = i64::try_from(result.probed_at.unix_timestamp_nanos()).unwrap_or(i64::MAX);
    Ok((shape, Some((probed_at_ns, fingerprint_of(&result, &hosts)))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;
    use crate::model::test_support::{address, mx_host};
    use crate::store::Store;

    fn domain(name: &str) -> DomainName {
        DomainName::parse(name).expect("valid")
    }

    /// A domain behind `host` whose one address was probed in `elapsed_ms` with `greeting`.
    fn behind(name: &str, host: &str, elapsed_ms: u64, greeting: &str) -> DomainResult {
        let mut probed = address(Outcome::TlsOk, true, true);
        probed.elapsed_ms = elapsed_ms;
        probed.smtp_text = Some(greeting.to_string());
        let mut result = DomainResult::new(
            domain(name),
            false,
            None,
            OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).expect("time"),
            vec![mx_host(host, vec![probed])],
        );
        result.judge_sender();
        result
    }

    fn count(store: &Store, table: &str) -> i64 {
        store
            .connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .expect("count")
    }

    #[test]
    fn domains_behind_one_host_share_its_facts_and_read_back_exactly() {
        let store = Store::open_in_memory().expect("store");
        let mut results = Vec::new();
        for index in 0..50 {
            let mut result = behind(
                &format!("d{index}.example"),
                "mx.provider.example",
                12,
                "hi",
            );
            // A domain's own MX fields stay its own.
            result.mx[0].preference = index;
            results.push(result);
        }
        for result in &results {
            store.record_result(None, result, 14).expect("record");
        }
        assert_eq!(count(&store, "host_runs"), 1, "one host state, stored once");
        assert_eq!(
            count(&store, "shapes"),
            50,
            "preferences differ: one shape each"
        );
        for result in &results {
            let back = store
                .history(&result.domain)
                .expect("history")
                .remove(0)
                .result;
            assert_eq!(&back, result, "the stored result reads back exactly");
        }
        // The same preference: one shape for all.
        let store = Store::open_in_memory().expect("store");
        for index in 0..50 {
            let result = behind(
                &format!("d{index}.example"),
                "mx.provider.example",
                12,
                "hi",
            );
            store.record_result(None, &result, 14).expect("record");
        }
        assert_eq!(
            (count(&store, "host_runs"), count(&store, "shapes")),
            (1, 1)
        );
    }

    #[test]
    fn a_host_probed_again_unchanged_keeps_its_host_run_and_a_change_starts_one() {
        let store = Store::open_in_memory().expect("store");
        store
            .record_result(None, &behind("a.example", "mx.p.example", 12, "hi"), 14)
            .expect("record");
        // Another scan: other timings and greeting, same state; a new domain behind the host.
        let later = behind("b.example", "mx.p.example", 40, "hello again");
        store.record_result(None, &later, 14).expect("record");
        assert_eq!(count(&store, "host_runs"), 1);
        // The new domain shows the host as its state's first probe recorded it.
        let back = store
            .history(&later.domain)
            .expect("history")
            .remove(0)
            .result;
        assert_eq!(back.mx[0].addresses[0].elapsed_ms, 12);
        assert_eq!(back.probed_at, later.probed_at, "its own probe time");
        // A new state of the host (no PFS any more) is a host run of its own.
        let mut changed = behind("a.example", "mx.p.example", 12, "hi");
        changed.mx[0].addresses[0].pfs = Some(false);
        store.record_result(None, &changed, 14).expect("record");
        assert_eq!(count(&store, "host_runs"), 2);
        let history = store.history(&changed.domain).expect("history");
        assert_eq!(history.len(), 2, "a new run for the domain");
        assert_eq!(history[0].result.mx[0].addresses[0].pfs, Some(false));
        assert_eq!(history[1].result.mx[0].addresses[0].pfs, Some(true));
    }

    #[test]
    fn what_a_failed_write_stored_is_not_remembered() {
        let store = Store::open_in_memory().expect("store");
        store
            .connection
            .execute_batch(
                "CREATE TRIGGER no_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .expect("trigger");
        let result = behind("a.example", "mx.p.example", 12, "hi");
        assert!(store.record_result(None, &result, 14).is_err());
        assert_eq!(count(&store, "host_runs"), 0, "rolled back");
        store
            .connection
            .execute_batch("DROP TRIGGER no_runs;")
            .expect("drop");
        // Had the rolled-back host run's id been remembered, this run would name a missing one.
        store.record_result(None, &result, 14).expect("record");
        let back = store
            .history(&result.domain)
            .expect("history")
            .remove(0)
            .result;
        assert_eq!(back, result);
        assert_eq!(count(&store, "host_runs"), 1);
    }

    #[test]
    fn a_missing_part_is_damage_that_names_the_domain() {
        let store = Store::open_in_memory().expect("store");
        let result = behind("a.example", "mx.p.example", 12, "hi");
        store.record_result(None, &result, 14).expect("record");
        store
            .connection
            .execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM host_runs;")
            .expect("damage");
        let error = store
            .latest_result(&result.domain)
            .expect_err("a missing host run is damage");
        let text = error.to_string();
        assert!(
            text.contains("a.example") && text.contains("missing"),
            "{text}"
        );
    }

    #[test]
    fn the_fingerprint_ignores_times_texts_grades_and_stale_state_but_not_a_new_state() {
        let address = {
            let mut address = crate::model::AddressResult::new(
                std::net::IpAddr::from([192, 0, 2, 1]),
                crate::model::Outcome::TlsOk,
                crate::model::Reason::Completed,
                "handshake completed",
            );
            address.pfs = Some(true);
            address.strict_valid = Some(true);
            address.elapsed_ms = 12;
            address
        };
        let host = crate::model::MxResult {
            verdict: crate::model::Verdict::TlsOk,
            ..crate::model::MxResult::new("mx.a.example", 10, vec![address])
        };
        let result = DomainResult::new(
            domain("a.example"),
            false,
            None,
            OffsetDateTime::UNIX_EPOCH,
            vec![host],
        );
        let mut stale = result.clone();
        stale.stale_since = Some(OffsetDateTime::UNIX_EPOCH);
        stale.last_known = Some(Box::new(result.clone()));
        assert_eq!(fingerprint(&stale), fingerprint(&result));
        // What changes at every probe is not a new state; what was measured is.
        let mut later = result.clone();
        later.probed_at += time::Duration::days(1);
        for address in later.mx.iter_mut().flat_map(|host| &mut host.addresses) {
            address.detail = "again".into();
            address.elapsed_ms = 99;
            address.smtp_text = Some("220 hello".into());
            address.cert_days_left = Some(3);
        }
        assert_eq!(fingerprint(&later), fingerprint(&result));
        let mut other = result.clone();
        other.mx[0].addresses[0].pfs = Some(false);
        assert_ne!(fingerprint(&other), fingerprint(&result));
        let mut moved = result.clone();
        moved.mx[0].preference = 20;
        assert_ne!(fingerprint(&moved), fingerprint(&result));
        // With the parts' cache (each host hashed once) the fingerprint is the same.
        let mut parts = Parts::default();
        assert_eq!(parts.fingerprint(&result), fingerprint(&result));
        assert_eq!(parts.fingerprint(&later), fingerprint(&result));
        assert_eq!(parts.fingerprint(&other), fingerprint(&other));
        // The grade follows from facts already hashed: grading changes no run.
        let mut graded = result.clone();
        graded.tls_grade = Some(crate::model::TlsGrade::PhaseOut);
        for address in graded.mx.iter_mut().flat_map(|host| &mut host.addresses) {
            address.tls_grade = Some(crate::model::TlsGrade::PhaseOut);
        }
        assert_eq!(fingerprint(&graded), fingerprint(&result));
        // MTA-STS: a new policy state is a new run; a new fetch time of the same one is not.
        let policy = crate::model::auth::MtaSts {
            outcome: crate::model::auth::MtaStsOutcome::EnforceOk,
            id: Some("1".into()),
            mode: Some(crate::model::auth::StsMode::Enforce),
            max_age: Some(86_400),
            mx_patterns: Some(vec!["mx.a.example".into()]),
            fetched_at: Some(OffsetDateTime::UNIX_EPOCH),
            cached: false,
            failure: None,
            policy: Some(
                "version: STSv1\nmode: enforce\nmx: mx.a.example\nmax_age: 86400\n".into(),
            ),
        };
        let mut with_policy = result.clone();
        with_policy.mta_sts = Some(policy.clone());
        assert_ne!(fingerprint(&with_policy), fingerprint(&result));
        let mut fetched_later = with_policy.clone();
        if let Some(mta_sts) = &mut fetched_later.mta_sts {
            mta_sts.fetched_at = Some(OffsetDateTime::UNIX_EPOCH + time::Duration::days(1));
        }
        assert_eq!(fingerprint(&fetched_later), fingerprint(&with_policy));
        let mut cached = with_policy.clone();
        if let Some(mta_sts) = &mut cached.mta_sts {
            mta_sts.cached = true;
        }
        assert_ne!(fingerprint(&cached), fingerprint(&with_policy));
        let mut matched = with_policy.clone();
        matched.mx[0].sts_matched = Some(true);
        matched.mx[0].sts_passes = Some(true);
        assert_ne!(fingerprint(&matched), fingerprint(&with_policy));
    }
}
