//! One scan: probe a set of domains in one probe run, store every result as it arrives, report
//! progress, detect a blocked port 25, and close the scan in the store.
//!
//! Owns: the join between probe and store for a scan. Used by the background monitor and by the
//! headless `scan` command, so both behave the same. Must not touch: scheduling, the UI.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::{DnsError, DomainName, DomainResult, Reason};
use crate::probe::Prober;
use crate::settings::Settings;
use crate::store::{ChangeEvent, ScanCounts, ScanId, ScanScope, ScanStatus, Store, StoreError};

/// The store, shared by the monitor's tasks. Held only for single, short operations.
pub type SharedStore = Arc<Mutex<Store>>;

/// How many addresses a scan must have tried before "port 25 looks blocked" may be said.
pub const BLOCKED_PORT_MIN_ATTEMPTS: usize = 20;

/// How many domains' lookups must have failed for "the DNS server does not answer" to be said.
pub const SILENT_DNS_MIN_LOOKUPS: usize = 3;

/// What a scan reports while it runs.
#[derive(Clone, Debug)]
pub enum ScanEvent {
    Started {
        scan: ScanId,
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
    /// Every domain's MX lookup so far timed out or could not reach the resolver: the DNS
    /// server (the configured one, or the system's) is not answering. Said once per scan.
    DnsUnanswered {
        lookups: usize,
        /// Who was asked, for people: "the DNS server 127.0.0.1:5353" or "the system resolver".
        resolver: String,
    },
    /// A result could not be stored (the scan goes on; the message names the domain).
    StoreFailed(String),
    Finished {
        scan: ScanId,
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
}

impl From<ScanEnd> for ScanStatus {
    /// The status stored with a scan that ended this way.
    fn from(end: ScanEnd) -> Self {
        match end {
            ScanEnd::Finished => ScanStatus::Finished,
            ScanEnd::DeadlineReached => ScanStatus::DeadlineReached,
            ScanEnd::Cancelled => ScanStatus::Cancelled,
        }
    }
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
            let silent = matches!(address.reason, Reason::ConnectTimeout | Reason::Unreachable);
            self.tally.count(silent);
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

/// Counts domain lookups to tell a DNS server that answers nothing from domains that fail.
///
/// Only the domain's own MX lookup counts, and only timeouts and transport failures
/// (`timeout`, `other`): an NXDOMAIN or SERVFAIL is an answer.
#[derive(Debug, Default, Clone)]
pub struct SilentDnsDetector {
    tally: SilenceTally<SILENT_DNS_MIN_LOOKUPS>,
}

impl SilentDnsDetector {
    /// Looks at one result; true exactly once, when the resolver first looks silent.
    pub fn observe(&mut self, result: &DomainResult) -> bool {
        let silent = matches!(result.dns_error, Some(DnsError::Timeout | DnsError::Other));
        self.tally.count(silent);
        self.tally.first_time_all_silent()
    }

    /// Whether every lookup so far went unanswered (and there were enough of them).
    pub fn looks_silent(&self) -> bool {
        self.tally.all_silent()
    }

    /// Domain lookups seen.
    pub fn lookups(&self) -> usize {
        self.tally.seen
    }
}

/// "Nothing answered, and we asked at least `MINIMUM` times", said once: the rule shared by
/// the blocked-port and silent-DNS detectors.
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

/// Locks the shared store, turning a poisoned lock into a store error.
pub fn lock(store: &SharedStore) -> Result<std::sync::MutexGuard<'_, Store>, StoreError> {
    store
        .lock()
        .map_err(|_| StoreError::Invalid("internal error: the store lock is poisoned".to_string()))
}

/// Runs one scan of `domains` to the end, the deadline, or cancellation (drop the future to
/// cancel: call [`cancel_scan`] afterwards with the id from `Started`).
pub async fn run_scan(
    store: &SharedStore,
    prober: &Prober,
    scope: ScanScope,
    domains: Vec<DomainName>,
    settings: &Settings,
    mut emit: impl FnMut(ScanEvent),
) -> Result<ScanCounts, StoreError> {
    let total = domains.len();
    let scan = lock(store)?.begin_scan(&scope, settings, total)?;
    let scope_text = scope.describe();
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
    let mut silent_dns = SilentDnsDetector::default();
    let deadline = settings.scan_deadline();
    let expiry_days = settings.expiry_warning_days;
    let run = prober.start_run();
    let probing = run.probe_many(domains, |_, mut result| {
        if detector.observe(&result) {
            emit(ScanEvent::Port25Blocked {
                attempts: detector.attempts(),
            });
        }
        if detector.looks_blocked() {
            annotate_blocked(&mut result);
        }
        if silent_dns.observe(&result) {
            emit(ScanEvent::DnsUnanswered {
                lookups: silent_dns.lookups(),
                resolver: prober.config().dns.to_string(),
            });
        }
        counts.add(&result);
        let stored =
            lock(store).and_then(|store| store.record_result(Some(scan), &result, expiry_days));
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
        let done = counts.done;
        let elapsed = started.elapsed();
        let eta = (done > 0 && done < total)
            .then(|| elapsed.mul_f64((total - done) as f64 / done as f64));
        emit(ScanEvent::DomainProbed(Box::new(result)));
        emit(ScanEvent::Progress {
            scan,
            done,
            total,
            eta,
        });
    });
    let end = match tokio::time::timeout(deadline, probing).await {
        Ok(()) => ScanEnd::Finished,
        Err(_) => ScanEnd::DeadlineReached,
    };
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
        if matches!(address.reason, Reason::ConnectTimeout | Reason::Unreachable) {
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
            host: "mx.example.org".into(),
            preference: 10,
            implicit: false,
            cname_target: None,
            dns_error: None,
            verdict: Verdict::Untestable,
            addresses: vec![address],
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

    fn result_with_dns_error(dns_error: Option<DnsError>) -> DomainResult {
        DomainResult::new(
            DomainName::parse("example.org").expect("valid"),
            false,
            dns_error,
            time::OffsetDateTime::UNIX_EPOCH,
            Vec::new(),
        )
    }

    #[test]
    fn a_silent_resolver_is_said_once_after_three_unanswered_lookups() {
        let mut detector = SilentDnsDetector::default();
        assert!(!detector.observe(&result_with_dns_error(Some(DnsError::Timeout))));
        assert!(!detector.observe(&result_with_dns_error(Some(DnsError::Other))));
        assert!(detector.observe(&result_with_dns_error(Some(DnsError::Timeout))));
        assert!(!detector.observe(&result_with_dns_error(Some(DnsError::Timeout))));
        assert!(detector.looks_silent());
    }

    #[test]
    fn one_answered_lookup_even_nxdomain_means_the_resolver_works() {
        let mut detector = SilentDnsDetector::default();
        assert!(!detector.observe(&result_with_dns_error(Some(DnsError::Nxdomain))));
        for _ in 0..10 {
            assert!(!detector.observe(&result_with_dns_error(Some(DnsError::Timeout))));
        }
        assert!(!detector.looks_silent());
        let mut detector = SilentDnsDetector::default();
        assert!(!detector.observe(&result_with_dns_error(None)));
        assert!(!detector.observe(&result_with_dns_error(Some(DnsError::Timeout))));
        assert!(!detector.observe(&result_with_dns_error(Some(DnsError::Timeout))));
        assert!(!detector.looks_silent());
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
