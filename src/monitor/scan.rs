//! One scan: probe a set of domains in one probe run, store every result as it arrives, report
//! progress, detect a blocked port 25 and a DNS server that fails every lookup, and close the
//! scan in the store.
//!
//! Owns: the join between probe and store for a scan, including the MTA-STS memory a stored
//! scan gets ([`StoredPolicies`]: the policy in force in each domain's latest stored result).
//! Used by the background monitor and by the headless `scan` command, so both behave the same.
//! Must not touch: scheduling, the UI.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::model::auth::KnownPolicy;
use crate::model::{DnsError, DomainName, DomainNames, DomainResult, Reason};
use crate::probe::{PolicyMemory, Prober, ProxyError};
use crate::settings::Settings;
use crate::store::{ChangeEvent, ScanCounts, ScanId, ScanScope, ScanStatus, Store, StoreError};

/// The store, shared by the monitor's tasks. Held only for single, short operations.
pub type SharedStore = Arc<Mutex<Store>>;

/// How many results a scan writes in one transaction (a million domains are a few thousand
/// commits, not a million).
pub const WRITE_BATCH: usize = 256;

/// How long a probed result may wait for its batch before the batch is written anyway (what
/// the app shows lags the probe by at most this, while results keep coming).
pub const WRITE_BATCH_WAIT: Duration = Duration::from_millis(250);

/// How many addresses a scan must have tried before "port 25 looks blocked" may be said.
pub const BLOCKED_PORT_MIN_ATTEMPTS: usize = 20;

/// How many distinct domains' lookups must all have failed for "the DNS server fails every
/// lookup" to be said (one bogus domain's SERVFAIL is not an outage).
pub const FAILING_DNS_MIN_DOMAINS: usize = 3;

/// What a scan reports while it runs.
#[derive(Clone, Debug)]
pub enum ScanEvent {
    Started {
        scan: ScanId,
        /// The scope in words for people (`list Sample`), not the stored `list:Sample`.
        scope: String,
        total: usize,
    },
    Progress {
        scan: ScanId,
        done: usize,
        total: usize,
        eta: Option<Duration>,
    },
    DomainProbed(Box<DomainResult>),
    Changes(Vec<ChangeEvent>),
    /// Every connection attempt so far timed out or was unreachable: outbound port 25 is
    /// probably blocked on this network. Said once per scan.
    Port25Blocked {
        attempts: usize,
    },
    /// Every domain's MX lookup so far failed (refused, SERVFAIL, timed out or could not reach
    /// the resolver), for at least [`FAILING_DNS_MIN_DOMAINS`] domains: the DNS server (the
    /// configured one, or the system's) is not usable. Said once per scan.
    DnsFailing {
        /// Distinct domains looked up when it was said.
        lookups: usize,
        /// Who was asked, for people: "the DNS server 127.0.0.1:5353" or "the system resolver".
        resolver: String,
        /// How those lookups failed.
        failures: DnsFailures,
    },
    /// The resolver passes no DNSSEC data (the DNSKEY RRset of a trust anchor's zone does not
    /// validate): DANE is `unknown` for every domain of this scan, never `bogus`. Said once per
    /// scan, like `DnsFailing`.
    DnssecUnavailable {
        /// Who was asked, for people (as in `DnsFailing`).
        resolver: String,
    },
    /// A result could not be stored (the scan goes on; the message names the domain).
    StoreFailed(String),
    /// The SOCKS proxy failed while this domain was probed (our failure, not the domain's):
    /// its result is not stored and the domain is left for the next scan.
    ProxyFailed {
        domain: DomainName,
        /// What the proxy did, in words.
        detail: String,
    },
    /// The SOCKS proxy was lost in the middle of the scan ([`crate::probe::PROXY_LOST_AFTER`]
    /// proxy failures in a row): what was stored stays, nothing more is written, and the scan
    /// ends as [`ScanEnd::ProxyLost`]. Said once, before `Finished`.
    ProxyLost {
        /// The last proxy failure, in words.
        detail: String,
    },
    Finished {
        scan: ScanId,
        /// The scope in words for people, as in `Started`.
        scope: String,
        end: ScanEnd,
        counts: ScanCounts,
        elapsed: Duration,
    },
}

/// How a scan ended (the ends a running scan can reach; the store's [`ScanStatus`] also knows
/// `running` and `interrupted`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanEnd {
    Finished,
    /// The scan deadline passed; the rest is left for the next scan.
    DeadlineReached,
    Cancelled,
    /// Aborted: the SOCKS proxy was lost mid-scan ([`ScanEvent::ProxyLost`]).
    ProxyLost,
}

impl From<ScanEnd> for ScanStatus {
    /// The status stored with a scan that ended this way.
    fn from(end: ScanEnd) -> Self {
        match end {
            ScanEnd::Finished => ScanStatus::Finished,
            ScanEnd::DeadlineReached => ScanStatus::DeadlineReached,
            ScanEnd::Cancelled => ScanStatus::Cancelled,
            ScanEnd::ProxyLost => ScanStatus::ProxyLost,
        }
    }
}

/// Why a scan could not run.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The SOCKS proxy failed the check before the scan (greeting, authentication): the scan
    /// did not start and nothing was written.
    #[error("{0}: the scan did not start, nothing was stored")]
    Proxy(ProxyError),
}

/// Counts connection attempts to tell a blocked port 25 from servers that answer.
#[derive(Debug, Default, Clone)]
pub struct BlockedPortDetector {
    tally: SilenceTally<BLOCKED_PORT_MIN_ATTEMPTS>,
}

impl BlockedPortDetector {
    /// Looks at one result; true exactly once, when the scan first looks blocked.
    pub fn observe(&mut self, result: &DomainResult) -> bool {
        for address in result.mx.iter().flat_map(|host| &host.addresses) {
            self.tally.count(is_silent(address.reason));
        }
        self.tally.first_time_all_silent()
    }

    /// Whether every attempt so far was silent (and there were enough of them).
    pub fn looks_blocked(&self) -> bool {
        self.tally.all_silent()
    }

    /// Connection attempts seen.
    pub fn attempts(&self) -> usize {
        self.tally.seen
    }
}

/// Whether an address's connection attempt met silence: a timeout or no route, directly or as
/// the SOCKS proxy reports it; or, through a proxy, a tunnel that closed (or stayed silent)
/// before the server's first byte, which is how `ssh -D` shows a refused or filtered target.
fn is_silent(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::ConnectTimeout
            | Reason::Unreachable
            | Reason::ProxyTargetUnreachable
            | Reason::ProxyNoGreeting
    )
}

/// Why a DNS server failed a scan's lookups, the kind most of them failed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsFailureCause {
    /// REFUSED: the server answers but will not resolve for us.
    Refused,
    /// SERVFAIL: the server tried and could not resolve anything.
    Servfail,
    /// No answer in time, or the server could not be reached at all.
    Timeout,
}

impl DnsFailureCause {
    /// The cause and what it likely means, for people: "refused: not a recursive resolver?".
    pub fn explain(self) -> &'static str {
        match self {
            DnsFailureCause::Refused => "refused: not a recursive resolver?",
            DnsFailureCause::Servfail => {
                "servfail: it cannot resolve anything (no working upstream, or DNSSEC trouble?)"
            }
            DnsFailureCause::Timeout => "timeout: not answering",
        }
    }
}

/// How a scan's failed domain lookups failed, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DnsFailures {
    /// Answered REFUSED.
    pub refused: usize,
    /// Answered SERVFAIL.
    pub servfail: usize,
    /// Timed out, or the server could not be reached (`timeout`, `other`).
    pub timeout: usize,
}

impl DnsFailures {
    /// Failed lookups counted.
    pub fn total(&self) -> usize {
        self.refused + self.servfail + self.timeout
    }

    /// The kind most lookups failed with (a tie goes to the more telling one: refused, then
    /// servfail, then timeout).
    pub fn cause(&self) -> DnsFailureCause {
        let ranked = [
            (self.refused, DnsFailureCause::Refused),
            (self.servfail, DnsFailureCause::Servfail),
            (self.timeout, DnsFailureCause::Timeout),
        ];
        let mut cause = DnsFailureCause::Refused;
        let mut most = 0;
        for (count, kind) in ranked {
            if count > most {
                most = count;
                cause = kind;
            }
        }
        cause
    }

    /// The kinds with their counts, for people: "3 refused", "2 refused, 1 timed out or
    /// unreachable".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.refused, "refused"),
            (self.servfail, "servfail"),
            (self.timeout, "timed out or unreachable"),
        ]
        .into_iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, kind)| format!("{count} {kind}"))
        .collect();
        parts.join(", ")
    }
}

/// Tells a DNS server that fails every lookup of a scan from domains that fail on their own.
///
/// Only each domain's own MX lookup counts, once per domain. REFUSED, SERVFAIL, timeouts and
/// transport failures (`refused`, `servfail`, `timeout`, `other`) are failures; an answer of
/// any other kind, even NXDOMAIN, means the server works. It is said once, when at least
/// [`FAILING_DNS_MIN_DOMAINS`] distinct domains were looked up and every one failed.
#[derive(Debug, Default, Clone)]
pub struct FailingDnsDetector {
    /// Domains counted while the verdict is open (at most the minimum: then it is decided).
    domains: HashSet<DomainName>,
    failures: DnsFailures,
    answered: bool,
    reported: bool,
}

impl FailingDnsDetector {
    /// Looks at one result; true exactly once, when the server first looks like it fails
    /// every lookup.
    pub fn observe(&mut self, result: &DomainResult) -> bool {
        let failure = match result.dns_error {
            Some(DnsError::Refused) => Some(DnsFailureCause::Refused),
            Some(DnsError::Servfail) => Some(DnsFailureCause::Servfail),
            Some(DnsError::Timeout | DnsError::Other) => Some(DnsFailureCause::Timeout),
            _ => None,
        };
        let Some(failure) = failure else {
            self.answered = true;
            self.domains.clear();
            return false;
        };
        if self.answered || self.reported || !self.domains.insert(result.domain.clone()) {
            return false;
        }
        match failure {
            DnsFailureCause::Refused => self.failures.refused += 1,
            DnsFailureCause::Servfail => self.failures.servfail += 1,
            DnsFailureCause::Timeout => self.failures.timeout += 1,
        }
        if self.domains.len() >= FAILING_DNS_MIN_DOMAINS {
            self.reported = true;
            self.domains.clear();
            return true;
        }
        false
    }

    /// Whether it was said and no lookup has been answered since.
    pub fn looks_failing(&self) -> bool {
        self.reported && !self.answered
    }

    /// Distinct domains whose failed lookups were counted.
    pub fn lookups(&self) -> usize {
        self.failures.total()
    }

    /// How the counted lookups failed.
    pub fn failures(&self) -> DnsFailures {
        self.failures
    }
}

/// "Nothing answered, and we asked at least `MINIMUM` times", said once: the blocked-port
/// detector's rule.
#[derive(Debug, Default, Clone)]
struct SilenceTally<const MINIMUM: usize> {
    seen: usize,
    silent: usize,
    reported: bool,
}

impl<const MINIMUM: usize> SilenceTally<MINIMUM> {
    fn count(&mut self, silent: bool) {
        self.seen += 1;
        if silent {
            self.silent += 1;
        }
    }

    /// True exactly once: the first time every attempt so far was silent and there were enough.
    fn first_time_all_silent(&mut self) -> bool {
        if self.all_silent() && !self.reported {
            self.reported = true;
            return true;
        }
        false
    }

    fn all_silent(&self) -> bool {
        self.seen >= MINIMUM && self.silent == self.seen
    }
}

/// The MTA-STS policies a stored scan remembers: the policy in force in each domain's latest
/// stored result (`MtaSts::known_policy`), read when the probe asks. A store that cannot be read
/// remembers nothing (the probe then acts like `probe`, which has no history).
pub struct StoredPolicies(pub SharedStore);

impl PolicyMemory for StoredPolicies {
    fn last_policy(&self, domain: &DomainName) -> Option<KnownPolicy> {
        let latest = match lock(&self.0).and_then(|store| store.latest_result(domain)) {
            Ok(latest) => latest?,
            Err(error) => {
                tracing::warn!("the stored MTA-STS policy of {domain} could not be read: {error}");
                return None;
            }
        };
        latest
            .mta_sts
            .as_ref()
            .and_then(|mta_sts| mta_sts.known_policy(latest.probed_at))
    }
}

/// Locks the shared store, turning a poisoned lock into a store error.
pub fn lock(store: &SharedStore) -> Result<std::sync::MutexGuard<'_, Store>, StoreError> {
    store
        .lock()
        .map_err(|_| StoreError::Invalid("internal error: the store lock is poisoned".to_string()))
}

/// Runs one scan of `domains` to the end, the deadline, cancellation (drop the future to
/// cancel: call [`cancel_scan`] afterwards with the id from `Started`), or the loss of the
/// SOCKS proxy. With a proxy, it is checked first: when it fails, nothing is written and the
/// error is [`ScanError::Proxy`]. A result in which the proxy failed is not stored
/// ([`ScanEvent::ProxyFailed`]).
pub async fn run_scan(
    store: &SharedStore,
    prober: &Prober,
    scope: ScanScope,
    domains: impl Into<DomainNames>,
    settings: &Settings,
    mut emit: impl FnMut(ScanEvent),
) -> Result<ScanCounts, ScanError> {
    let domains: DomainNames = domains.into();
    let total = domains.len();
    prober.check_proxy().await.map_err(ScanError::Proxy)?;
    let path = prober.config().network_path();
    let scan = lock(store)?.begin_scan_via(&scope, settings, total, &path)?;
    let scope_text = scope.describe_for_people();
    emit(ScanEvent::Started {
        scan,
        scope: scope_text.clone(),
        total,
    });
    let started = Instant::now();
    let mut counts = ScanCounts {
        total,
        ..ScanCounts::default()
    };
    let mut detector = BlockedPortDetector::default();
    let mut failing_dns = FailingDnsDetector::default();
    let deadline = settings.scan_deadline();
    let expiry_days = settings.expiry_warning_days;
    let run = prober
        .start_run()
        .remembering(Arc::new(StoredPolicies(store.clone())));
    let dnssec_watch = run.clone();
    let mut dnssec_warned = false;
    let mut last_proxy_failure = None;
    // The probe's callback and the write timer share the pending writes and `emit`; both run
    // on this task (the mutexes are never contended) and never hold a lock across an await.
    let emit = Mutex::new(emit);
    let say = |event: ScanEvent| (emit.lock().unwrap_or_else(PoisonError::into_inner))(event);
    let writes = Mutex::new(PendingWrites::new(store, scan, expiry_days, total));
    let pending = || writes.lock().unwrap_or_else(PoisonError::into_inner);
    let write_due = || {
        let mut writes = pending();
        if writes.due() {
            writes.write(&mut |event| say(event));
        }
    };
    let probing = run.probe_many(domains, |_, mut result| {
        if run.proxy_lost() {
            // Nothing more is written once the proxy is lost.
            if let Some(detail) = proxy_failure(&result) {
                last_proxy_failure = Some(detail);
            }
            return;
        }
        if let Some(detail) = proxy_failure(&result) {
            last_proxy_failure = Some(detail.clone());
            say(ScanEvent::ProxyFailed {
                domain: result.domain.clone(),
                detail,
            });
            return;
        }
        if !dnssec_warned && dnssec_watch.dnssec_data_missing() {
            dnssec_warned = true;
            say(ScanEvent::DnssecUnavailable {
                resolver: prober.config().dns.to_string(),
            });
        }
        if detector.observe(&result) {
            say(ScanEvent::Port25Blocked {
                attempts: detector.attempts(),
            });
        }
        if detector.looks_blocked() {
            annotate_blocked(&mut result);
        }
        if failing_dns.observe(&result) {
            say(ScanEvent::DnsFailing {
                lookups: failing_dns.lookups(),
                resolver: prober.config().dns.to_string(),
                failures: failing_dns.failures(),
            });
        }
        counts.add(&result);
        pending().push(result);
        write_due();
    });
    // Results that arrive slowly (the last domains waiting on timeouts) are still written
    // and shown within about `WRITE_BATCH_WAIT`.
    let write_timer = async {
        let mut timer = tokio::time::interval(WRITE_BATCH_WAIT);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            timer.tick().await;
            write_due();
        }
    };
    let probing_and_writing = async {
        tokio::select! {
            () = probing => {}
            () = write_timer => {}
        }
    };
    let end = match tokio::time::timeout(deadline, probing_and_writing).await {
        Ok(()) if run.proxy_lost() => ScanEnd::ProxyLost,
        Ok(()) => ScanEnd::Finished,
        Err(_) => ScanEnd::DeadlineReached,
    };
    pending().write(&mut |event| say(event));
    drop(writes);
    let mut emit = emit.into_inner().unwrap_or_else(PoisonError::into_inner);
    if end == ScanEnd::ProxyLost {
        emit(ScanEvent::ProxyLost {
            detail: last_proxy_failure
                .unwrap_or_else(|| "the SOCKS proxy failed repeatedly".to_string()),
        });
    }
    lock(store)?.finish_scan(scan, end.into(), &counts)?;
    emit(ScanEvent::Finished {
        scan,
        scope: scope_text,
        end,
        counts: counts.clone(),
        elapsed: started.elapsed(),
    });
    Ok(counts)
}

/// The results a scan has probed and not yet written, written a batch at a time
/// ([`WRITE_BATCH`], [`WRITE_BATCH_WAIT`]); each is reported (its changes, the result as the
/// store reads it, the progress) once written. Dropped with results left (the scan was
/// cancelled), it writes them without reporting: what was probed is kept.
struct PendingWrites<'a> {
    store: &'a SharedStore,
    scan: ScanId,
    expiry_days: u32,
    total: usize,
    results: Vec<DomainResult>,
    /// When the oldest waiting result arrived.
    since: Option<Instant>,
    /// Results written (and reported) so far.
    written: usize,
    started: Instant,
}

impl<'a> PendingWrites<'a> {
    fn new(store: &'a SharedStore, scan: ScanId, expiry_days: u32, total: usize) -> Self {
        Self {
            store,
            scan,
            expiry_days,
            total,
            results: Vec::new(),
            since: None,
            written: 0,
            started: Instant::now(),
        }
    }

    fn push(&mut self, result: DomainResult) {
        self.since.get_or_insert_with(Instant::now);
        self.results.push(result);
    }

    /// Whether the waiting results should be written now.
    fn due(&self) -> bool {
        self.results.len() >= WRITE_BATCH
            || self
                .since
                .is_some_and(|since| since.elapsed() >= WRITE_BATCH_WAIT)
    }

    /// Writes the waiting results in one transaction and reports each.
    fn write(&mut self, emit: &mut dyn FnMut(ScanEvent)) {
        if self.results.is_empty() {
            return;
        }
        self.since = None;
        let results = std::mem::take(&mut self.results);
        let outcomes = match lock(self.store) {
            Ok(store) => store.record_results(Some(self.scan), &results, self.expiry_days),
            Err(error) => {
                let problem = error.to_string();
                results
                    .iter()
                    .map(|_| Err(StoreError::Invalid(problem.clone())))
                    .collect()
            }
        };
        for (mut result, stored) in results.into_iter().zip(outcomes) {
            match stored {
                Ok(mut outcome) => {
                    // The result as the store now reads it (a stale one carries its last known).
                    outcome.annotate(&mut result);
                    if !outcome.events.is_empty() {
                        emit(ScanEvent::Changes(outcome.events));
                    }
                }
                Err(error) => emit(ScanEvent::StoreFailed(format!(
                    "result for {} not stored: {error}",
                    result.domain
                ))),
            }
            self.written += 1;
            let done = self.written;
            let elapsed = self.started.elapsed();
            let eta = (done > 0 && done < self.total)
                .then(|| elapsed.mul_f64((self.total - done) as f64 / done as f64));
            emit(ScanEvent::DomainProbed(Box::new(result)));
            emit(ScanEvent::Progress {
                scan: self.scan,
                done,
                total: self.total,
                eta,
            });
        }
    }
}

impl Drop for PendingWrites<'_> {
    fn drop(&mut self) {
        if self.results.is_empty() {
            return;
        }
        let results = std::mem::take(&mut self.results);
        let stored = lock(self.store)
            .map(|store| store.record_results(Some(self.scan), &results, self.expiry_days));
        let failed = match stored {
            Ok(outcomes) => outcomes.iter().filter(|outcome| outcome.is_err()).count(),
            Err(_) => results.len(),
        };
        if failed > 0 {
            tracing::warn!("{failed} results of a cancelled scan could not be stored");
        }
    }
}

/// What the SOCKS proxy did when it failed for one of the result's addresses (reason
/// `proxy_failed`), None when it carried every session (or there is no proxy).
fn proxy_failure(result: &DomainResult) -> Option<String> {
    result
        .mx
        .iter()
        .flat_map(|host| &host.addresses)
        .find(|address| address.reason == Reason::ProxyFailed)
        .map(|address| address.detail.clone())
}

/// Closes a scan whose future was dropped (cancelled).
pub fn cancel_scan(store: &SharedStore, scan: ScanId) -> Result<(), StoreError> {
    lock(store)?.abandon_scan(scan, ScanEnd::Cancelled.into())
}

/// Says in each silent address's detail that the port, not the server, is the likely cause.
fn annotate_blocked(result: &mut DomainResult) {
    for address in result
        .mx
        .iter_mut()
        .flat_map(|host| host.addresses.iter_mut())
    {
        if is_silent(address.reason) {
            address
                .detail
                .push_str(" (outbound port 25 looks blocked on this network)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AddressResult, MxResult, Outcome, Verdict};
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn each_end_is_stored_by_its_status_name() {
        let stored = |end: ScanEnd| ScanStatus::from(end).as_str();
        assert_eq!(stored(ScanEnd::Finished), "finished");
        assert_eq!(stored(ScanEnd::DeadlineReached), "deadline");
        assert_eq!(stored(ScanEnd::Cancelled), "cancelled");
    }

    fn result_with_reason(reason: Reason) -> DomainResult {
        let address = AddressResult::new(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            Outcome::Untestable,
            reason,
            "",
        );
        let host = MxResult {
            verdict: Verdict::Untestable,
            ..MxResult::new("mx.example.org", 10, vec![address])
        };
        DomainResult::new(
            DomainName::parse("example.org").expect("valid"),
            false,
            None,
            time::OffsetDateTime::UNIX_EPOCH,
            vec![host],
        )
    }

    #[test]
    fn blocked_port_needs_twenty_silent_attempts_and_is_said_once() {
        let mut detector = BlockedPortDetector::default();
        let silent = result_with_reason(Reason::ConnectTimeout);
        for _ in 0..19 {
            assert!(!detector.observe(&silent));
        }
        assert!(detector.observe(&silent), "the 20th silent attempt says it");
        assert!(!detector.observe(&silent), "only once");
        assert!(detector.looks_blocked());
    }

    fn lookup(domain: &str, dns_error: Option<DnsError>) -> DomainResult {
        DomainResult::new(
            DomainName::parse(domain).expect("valid"),
            false,
            dns_error,
            time::OffsetDateTime::UNIX_EPOCH,
            Vec::new(),
        )
    }

    #[test]
    fn a_silent_resolver_is_said_once_after_three_unanswered_lookups() {
        let mut detector = FailingDnsDetector::default();
        assert!(!detector.observe(&lookup("a.example", Some(DnsError::Timeout))));
        assert!(!detector.observe(&lookup("b.example", Some(DnsError::Other))));
        assert!(detector.observe(&lookup("c.example", Some(DnsError::Timeout))));
        assert!(!detector.observe(&lookup("d.example", Some(DnsError::Timeout))));
        assert!(detector.looks_failing());
        assert_eq!(detector.failures().cause(), DnsFailureCause::Timeout);
        assert_eq!(detector.failures().describe(), "3 timed out or unreachable");
    }

    #[test]
    fn three_refused_lookups_say_it_two_do_not() {
        let mut detector = FailingDnsDetector::default();
        assert!(!detector.observe(&lookup("a.example", Some(DnsError::Refused))));
        assert!(!detector.observe(&lookup("b.example", Some(DnsError::Refused))));
        assert!(!detector.looks_failing(), "two domains are not enough");
        assert!(detector.observe(&lookup("c.example", Some(DnsError::Refused))));
        assert_eq!(detector.lookups(), 3);
        assert_eq!(
            detector.failures(),
            DnsFailures {
                refused: 3,
                ..DnsFailures::default()
            }
        );
        assert_eq!(
            detector.failures().cause().explain(),
            "refused: not a recursive resolver?"
        );
    }

    #[test]
    fn one_domain_looked_up_three_times_is_one_domain() {
        let mut detector = FailingDnsDetector::default();
        for _ in 0..3 {
            assert!(!detector.observe(&lookup("a.example", Some(DnsError::Servfail))));
        }
        assert!(!detector.looks_failing());
        assert!(!detector.observe(&lookup("b.example", Some(DnsError::Servfail))));
        assert!(detector.observe(&lookup("c.example", Some(DnsError::Servfail))));
        assert_eq!(detector.failures().cause(), DnsFailureCause::Servfail);
    }

    #[test]
    fn a_mix_of_failures_names_the_most_common_kind() {
        let mut detector = FailingDnsDetector::default();
        assert!(!detector.observe(&lookup("a.example", Some(DnsError::Timeout))));
        assert!(!detector.observe(&lookup("b.example", Some(DnsError::Refused))));
        assert!(detector.observe(&lookup("c.example", Some(DnsError::Refused))));
        assert_eq!(detector.failures().cause(), DnsFailureCause::Refused);
        assert_eq!(
            detector.failures().describe(),
            "2 refused, 1 timed out or unreachable"
        );
    }

    #[test]
    fn one_servfail_among_good_answers_is_not_an_outage() {
        let mut detector = FailingDnsDetector::default();
        assert!(!detector.observe(&lookup("a.example", None)));
        assert!(!detector.observe(&lookup("bogus.example", Some(DnsError::Servfail))));
        assert!(!detector.observe(&lookup("b.example", None)));
        assert!(!detector.observe(&lookup("c.example", Some(DnsError::Servfail))));
        assert!(!detector.observe(&lookup("d.example", Some(DnsError::Servfail))));
        assert!(!detector.looks_failing());
        // The bogus domain first, then good answers: still not said.
        let mut detector = FailingDnsDetector::default();
        assert!(!detector.observe(&lookup("bogus.example", Some(DnsError::Servfail))));
        for name in ["a.example", "b.example", "c.example"] {
            assert!(!detector.observe(&lookup(name, None)));
        }
        assert!(!detector.looks_failing());
    }

    #[test]
    fn one_answered_lookup_even_nxdomain_means_the_resolver_works() {
        let names = |prefix: &'static str| (0..10).map(move |i| format!("{prefix}{i}.example"));
        let mut detector = FailingDnsDetector::default();
        assert!(!detector.observe(&lookup("gone.example", Some(DnsError::Nxdomain))));
        for name in names("t") {
            assert!(!detector.observe(&lookup(&name, Some(DnsError::Timeout))));
        }
        assert!(!detector.looks_failing());
        let mut detector = FailingDnsDetector::default();
        assert!(!detector.observe(&lookup("good.example", None)));
        for name in names("r") {
            assert!(!detector.observe(&lookup(&name, Some(DnsError::Refused))));
        }
        assert!(!detector.looks_failing());
    }

    #[test]
    fn silence_through_a_proxy_counts_as_blocked_too() {
        // ssh -D answers success, then closes when the target is refused or filtered.
        let mut detector = BlockedPortDetector::default();
        let closed = result_with_reason(Reason::ProxyNoGreeting);
        let unreachable = result_with_reason(Reason::ProxyTargetUnreachable);
        for _ in 0..10 {
            assert!(!detector.observe(&closed));
        }
        for _ in 0..9 {
            assert!(!detector.observe(&unreachable));
        }
        assert!(detector.observe(&closed), "the 20th silent attempt says it");
        let mut detector = BlockedPortDetector::default();
        assert!(!detector.observe(&result_with_reason(Reason::ProxyTargetRefused)));
        for _ in 0..30 {
            assert!(!detector.observe(&closed));
        }
        assert!(
            !detector.looks_blocked(),
            "a refusal means the port is reachable"
        );
    }

    #[test]
    fn a_result_the_proxy_failed_is_told_apart() {
        assert_eq!(
            proxy_failure(&result_with_reason(Reason::ConnectTimeout)),
            None
        );
        assert_eq!(
            proxy_failure(&result_with_reason(Reason::ProxyFailed)).as_deref(),
            Some("")
        );
        assert_eq!(ScanStatus::from(ScanEnd::ProxyLost).as_str(), "proxy_lost");
    }

    #[test]
    fn one_refused_or_answered_connection_means_not_blocked() {
        let mut detector = BlockedPortDetector::default();
        assert!(!detector.observe(&result_with_reason(Reason::ConnectRefused)));
        for _ in 0..30 {
            assert!(!detector.observe(&result_with_reason(Reason::ConnectTimeout)));
        }
        assert!(!detector.looks_blocked());
    }
}
