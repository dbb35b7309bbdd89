//! Change events: what differs between a domain's earlier state and a new result, by rule.
//!
//! Owns: the event kinds and the rules that raise them (STARTTLS lost or gained; PFS and
//! certificate validity while STARTTLS holds; MX set changes; certificates about to end), and
//! their wording. Must not touch: I/O; reading earlier states and storing events, and the
//! once-per-certificate bookkeeping of `cert_expiring`, are the store's.

use std::collections::BTreeSet;

use super::vocabulary::vocabulary;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{DomainName, DomainResult, Verdict};

vocabulary! {
    /// Kinds of change between two results of a domain.
    pub enum ChangeKind {
        StarttlsLost,
        StarttlsGained,
        PfsLost,
        PfsGained,
        CertBecameInvalid,
        CertBecameValid,
        CertExpiring,
        MxChanged,
    }
}

impl ChangeKind {
    /// Whether this change makes things worse (shown as a regression).
    /// Whether the event undoes a regression: STARTTLS or forward secrecy gained, a
    /// certificate that became valid. (An MX change is neither.)
    pub fn is_recovery(self) -> bool {
        matches!(
            self,
            ChangeKind::StarttlsGained | ChangeKind::PfsGained | ChangeKind::CertBecameValid
        )
    }

    pub fn is_regression(self) -> bool {
        matches!(
            self,
            ChangeKind::StarttlsLost
                | ChangeKind::PfsLost
                | ChangeKind::CertBecameInvalid
                | ChangeKind::CertExpiring
        )
    }
}

/// A change event raised while recording a result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub domain: DomainName,
    pub kind: ChangeKind,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub detail: String,
}

/// What the change rules need of an earlier result of a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainState {
    pub verdict: Verdict,
    pub starttls: Option<bool>,
    pub pfs: Option<bool>,
    pub strict_valid: Option<bool>,
    /// The MX host names, as [`mx_host_set`] writes them.
    pub mx_hosts: String,
}

impl DomainState {
    /// The state a result leaves behind.
    pub fn of(result: &DomainResult) -> Self {
        Self {
            verdict: result.verdict,
            starttls: result.starttls,
            pfs: result.pfs,
            strict_valid: result.strict_valid,
            mx_hosts: mx_host_set(result),
        }
    }
}

/// A result's MX host names, sorted, without repeats, separated by spaces (how the MX set is
/// compared and shown).
pub fn mx_host_set(result: &DomainResult) -> String {
    let hosts: BTreeSet<&str> = result.mx.iter().map(|host| host.host.as_str()).collect();
    hosts.into_iter().collect::<Vec<_>>().join(" ")
}

/// The events between a domain's earlier states and a new result `after`, in the order they
/// are stored: TLS events first, then an MX change. `cert_expiring` is [`cert_expiring`]'s.
///
/// `latest`: the domain's current state (None for its first result). `last_testable`: its most
/// recent testable state, which TLS events compare with, so an untestable probe in between
/// keeps it (and an untestable result raises no TLS event). The MX set is compared with
/// `latest`, when both sides have one.
pub fn changes(
    latest: Option<&DomainState>,
    last_testable: Option<&DomainState>,
    after: &DomainResult,
) -> Vec<ChangeEvent> {
    let mut events = Vec::new();
    let mut push = |kind: ChangeKind, detail: String| {
        events.push(ChangeEvent {
            domain: after.domain.clone(),
            kind,
            at: after.probed_at,
            detail,
        });
    };
    if let Some(before) = last_testable.filter(|before| before.verdict.is_testable())
        && after.verdict.is_testable()
    {
        tls_changes(before, after, &mut push);
    }
    let has_mx = after.dns_error.is_none() && !after.mx.is_empty();
    if has_mx && let Some(latest) = latest.filter(|latest| !latest.mx_hosts.is_empty()) {
        let now = mx_host_set(after);
        if latest.mx_hosts != now {
            push(
                ChangeKind::MxChanged,
                format!("MX hosts changed from [{}] to [{now}]", latest.mx_hosts),
            );
        }
    }
    events
}

fn tls_changes(
    before: &DomainState,
    after: &DomainResult,
    push: &mut impl FnMut(ChangeKind, String),
) {
    let was_starttls = before.starttls == Some(true);
    let is_starttls = after.starttls == Some(true);
    match (was_starttls, is_starttls) {
        (true, false) => push(
            ChangeKind::StarttlsLost,
            format!(
                "STARTTLS lost: now {} (was {})",
                after.verdict.as_str(),
                before.verdict.as_str()
            ),
        ),
        (false, true) => push(
            ChangeKind::StarttlsGained,
            format!("STARTTLS gained (was {})", before.verdict.as_str()),
        ),
        (true, true) => {
            match (before.pfs == Some(true), after.pfs == Some(true)) {
                (true, false) => push(
                    ChangeKind::PfsLost,
                    "forward secrecy lost on at least one MX address".to_string(),
                ),
                (false, true) => push(
                    ChangeKind::PfsGained,
                    "forward secrecy now on every MX address".to_string(),
                ),
                _ => {}
            }
            match (
                before.strict_valid == Some(true),
                after.strict_valid == Some(true),
            ) {
                (true, false) => {
                    let reasons: BTreeSet<&str> = after
                        .mx
                        .iter()
                        .flat_map(|host| &host.addresses)
                        .flat_map(|address| &address.cert_errors)
                        .map(|error| error.as_str())
                        .collect();
                    push(
                        ChangeKind::CertBecameInvalid,
                        format!(
                            "certificate no longer passes strict validation ({})",
                            reasons.into_iter().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
                (false, true) => push(
                    ChangeKind::CertBecameValid,
                    "certificate now passes strict validation".to_string(),
                ),
                _ => {}
            }
        }
        (false, false) => {}
    }
}

/// A certificate of `after` that ends within `warning_days` days (or has ended).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiringCertificate {
    /// The earliest end date among the result's certificates.
    pub not_after: OffsetDateTime,
    /// Raise the event once per this key (one per certificate end date).
    pub dedupe_key: String,
    /// The event to raise when the key is new.
    pub event: ChangeEvent,
}

/// The `cert_expiring` candidate of `after`: its earliest certificate end date, when that is
/// fewer than `warning_days` whole days after the probe. Whether it was already raised for that
/// end date is for the caller to know.
pub fn cert_expiring(after: &DomainResult, warning_days: u32) -> Option<ExpiringCertificate> {
    let not_after = after
        .mx
        .iter()
        .flat_map(|host| &host.addresses)
        .filter_map(|address| address.cert_not_after)
        .min()?;
    let seconds = not_after.unix_timestamp();
    let days_left = (seconds - after.probed_at.unix_timestamp()).div_euclid(86_400);
    if days_left >= i64::from(warning_days) {
        return None;
    }
    let date = not_after.to_offset(time::UtcOffset::UTC).date();
    let detail = if days_left < 0 {
        format!("a certificate expired on {date}")
    } else {
        format!("a certificate expires on {date} ({days_left} days left)")
    };
    Some(ExpiringCertificate {
        not_after,
        dedupe_key: format!("not_after:{seconds}"),
        event: ChangeEvent {
            domain: after.domain.clone(),
            kind: ChangeKind::CertExpiring,
            at: after.probed_at,
            detail,
        },
    })
}

/// The domain's latest stored probe before a new result, as far as `cert_expiring` needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EarlierProbe {
    /// Its earliest certificate end date, if it saw a certificate.
    pub cert_not_after: Option<OffsetDateTime>,
    /// When it was (last) probed.
    pub probed_at: OffsetDateTime,
}

/// Whether `expiring` is news: a change event, not a state. A domain's first result is a
/// baseline (DESIGN.md: no event for it; its expiring certificate shows in the expiry views),
/// and a certificate that was already within the window at the domain's previous probe raised
/// its event then (or was that baseline). Anything else — a certificate that entered the
/// window since, or a new certificate already inside it — raises the event.
pub fn cert_expiring_is_news(
    expiring: &ExpiringCertificate,
    earlier: Option<&EarlierProbe>,
    warning_days: u32,
) -> bool {
    let Some(earlier) = earlier else {
        return false;
    };
    match earlier.cert_not_after {
        Some(not_after) if not_after == expiring.not_after => {
            let days_left_then = (not_after - earlier.probed_at)
                .whole_seconds()
                .div_euclid(86_400);
            days_left_then >= i64::from(warning_days)
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::{address, mx_host};
    use crate::model::{CertError, DnsError, Outcome};

    #[derive(Clone, Copy)]
    enum Shape {
        Good,
        NoPfs,
        BadCert,
        NoStarttls,
        Untestable,
    }

    fn result_at(shape: Shape, hosts: &[&str], at: i64) -> DomainResult {
        let mx = hosts
            .iter()
            .map(|name| {
                let (outcome, pfs, strict) = match shape {
                    Shape::Good => (Outcome::TlsOk, true, true),
                    Shape::NoPfs => (Outcome::TlsOk, false, true),
                    Shape::BadCert => (Outcome::TlsOk, true, false),
                    Shape::NoStarttls => (Outcome::NoStarttls, false, false),
                    Shape::Untestable => (Outcome::Untestable, false, false),
                };
                let mut address = address(outcome, pfs, strict);
                if outcome == Outcome::TlsOk && !strict {
                    address.cert_errors = vec![CertError::NameMismatch, CertError::Expired];
                }
                mx_host(name, vec![address])
            })
            .collect();
        DomainResult::new(
            DomainName::parse("example.org").expect("valid"),
            false,
            None,
            OffsetDateTime::from_unix_timestamp(at).expect("in range"),
            mx,
        )
    }

    fn result(shape: Shape) -> DomainResult {
        result_at(shape, &["mx.example.org"], 1_000_000)
    }

    fn kinds(before: Shape, after: Shape) -> Vec<ChangeKind> {
        let before = DomainState::of(&result(before));
        changes(Some(&before), Some(&before), &result(after))
            .into_iter()
            .map(|event| event.kind)
            .collect()
    }

    #[test]
    fn starttls_lost_and_gained() {
        assert_eq!(
            kinds(Shape::Good, Shape::NoStarttls),
            [ChangeKind::StarttlsLost]
        );
        assert_eq!(
            kinds(Shape::NoStarttls, Shape::Good),
            [ChangeKind::StarttlsGained]
        );
        let before = DomainState::of(&result(Shape::Good));
        let events = changes(Some(&before), Some(&before), &result(Shape::NoStarttls));
        assert_eq!(
            events[0].detail,
            "STARTTLS lost: now no_starttls (was tls_ok)"
        );
        assert!(events[0].kind.is_regression());
        assert!(kinds(Shape::Good, Shape::Good).is_empty());
        assert!(kinds(Shape::NoStarttls, Shape::NoStarttls).is_empty());
    }

    #[test]
    fn pfs_lost_and_gained_while_starttls_holds() {
        assert_eq!(kinds(Shape::Good, Shape::NoPfs), [ChangeKind::PfsLost]);
        assert_eq!(kinds(Shape::NoPfs, Shape::Good), [ChangeKind::PfsGained]);
    }

    #[test]
    fn certificate_became_invalid_and_valid_with_the_reasons() {
        assert_eq!(
            kinds(Shape::Good, Shape::BadCert),
            [ChangeKind::CertBecameInvalid]
        );
        assert_eq!(
            kinds(Shape::BadCert, Shape::Good),
            [ChangeKind::CertBecameValid]
        );
        let before = DomainState::of(&result(Shape::Good));
        let events = changes(Some(&before), Some(&before), &result(Shape::BadCert));
        assert_eq!(
            events[0].detail,
            "certificate no longer passes strict validation (expired, name_mismatch)"
        );
    }

    #[test]
    fn untestable_keeps_the_last_testable_state() {
        let good = DomainState::of(&result(Shape::Good));
        let untestable = DomainState::of(&result(Shape::Untestable));
        // An untestable probe raises no TLS event.
        assert!(changes(Some(&good), Some(&good), &result(Shape::Untestable)).is_empty());
        // The next testable one compares with the good state before it, not the untestable one.
        let events = changes(Some(&untestable), Some(&good), &result(Shape::NoStarttls));
        assert_eq!(
            events.iter().map(|event| event.kind).collect::<Vec<_>>(),
            [ChangeKind::StarttlsLost]
        );
        assert!(changes(Some(&untestable), Some(&good), &result(Shape::Good)).is_empty());
        // Without any testable state, nothing to compare with.
        assert!(changes(Some(&untestable), None, &result(Shape::NoStarttls)).is_empty());
        assert!(
            changes(None, None, &result(Shape::Good)).is_empty(),
            "a first result is a baseline"
        );
    }

    #[test]
    fn mx_changed_when_both_sides_have_an_mx_set() {
        let before = DomainState::of(&result_at(
            Shape::Good,
            &["mx1.example.org", "mx2.example.org"],
            0,
        ));
        let after = result_at(Shape::Good, &["mx3.example.org"], 100);
        let events = changes(Some(&before), Some(&before), &after);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, ChangeKind::MxChanged);
        assert_eq!(
            events[0].detail,
            "MX hosts changed from [mx1.example.org mx2.example.org] to [mx3.example.org]"
        );
        assert!(!events[0].kind.is_regression());
        // The same set in another order is no change.
        let reordered = result_at(Shape::Good, &["mx2.example.org", "mx1.example.org"], 100);
        assert!(changes(Some(&before), Some(&before), &reordered).is_empty());
        // A result without MX (DNS failure) says nothing about the MX set.
        let mut failed = result_at(Shape::Untestable, &["mx3.example.org"], 100);
        failed.dns_error = Some(DnsError::Servfail);
        assert!(changes(Some(&before), Some(&before), &failed).is_empty());
        let no_mx = result_at(Shape::Untestable, &[], 100);
        assert!(changes(Some(&before), Some(&before), &no_mx).is_empty());
        // TLS events come before the MX change.
        let worse = result_at(Shape::NoStarttls, &["mx3.example.org"], 100);
        let kinds: Vec<ChangeKind> = changes(Some(&before), Some(&before), &worse)
            .into_iter()
            .map(|event| event.kind)
            .collect();
        assert_eq!(kinds, [ChangeKind::StarttlsLost, ChangeKind::MxChanged]);
    }

    #[test]
    fn expiring_certificates_within_the_warning_days() {
        let day = 86_400;
        let probed = 1_000 * day;
        let mut result = result_at(Shape::Good, &["mx.example.org"], probed);
        let not_after = |seconds| OffsetDateTime::from_unix_timestamp(seconds).expect("in range");
        result.mx[0].addresses[0].cert_not_after = Some(not_after(probed + 20 * day));
        assert_eq!(
            cert_expiring(&result, 14),
            None,
            "20 days left, warning at 14"
        );
        let soon = cert_expiring(&result, 30).expect("within 30 days");
        assert_eq!(soon.event.kind, ChangeKind::CertExpiring);
        assert_eq!(soon.dedupe_key, format!("not_after:{}", probed + 20 * day));
        assert_eq!(
            soon.event.detail,
            "a certificate expires on 1972-10-17 (20 days left)"
        );
        result.mx[0].addresses[0].cert_not_after = Some(not_after(probed - 1));
        let expired = cert_expiring(&result, 14).expect("expired");
        assert_eq!(expired.event.detail, "a certificate expired on 1972-09-26");
        result.mx[0].addresses[0].cert_not_after = None;
        assert_eq!(cert_expiring(&result, 14), None, "no certificate");
    }

    #[test]
    fn an_expiring_certificate_is_news_once_it_enters_the_window_never_on_a_first_result() {
        let probed = time::macros::datetime!(2026-03-20 00:00 UTC);
        let not_after = probed + time::Duration::days(5);
        let candidate = ExpiringCertificate {
            not_after,
            dedupe_key: String::new(),
            event: ChangeEvent {
                domain: crate::model::DomainName::parse("example.org").expect("valid"),
                kind: ChangeKind::CertExpiring,
                at: probed,
                detail: String::new(),
            },
        };
        let before = |days_earlier: i64, cert: Option<OffsetDateTime>| EarlierProbe {
            cert_not_after: cert,
            probed_at: probed - time::Duration::days(days_earlier),
        };
        assert!(
            !cert_expiring_is_news(&candidate, None, 14),
            "first result: baseline"
        );
        assert!(
            cert_expiring_is_news(&candidate, Some(&before(30, Some(not_after))), 14),
            "it entered the window since the last probe"
        );
        assert!(
            !cert_expiring_is_news(&candidate, Some(&before(1, Some(not_after))), 14),
            "already inside the window at the last probe"
        );
        let renewed = Some(not_after - time::Duration::days(60));
        assert!(
            cert_expiring_is_news(&candidate, Some(&before(1, renewed)), 14),
            "another certificate"
        );
        assert!(
            cert_expiring_is_news(&candidate, Some(&before(1, None)), 14),
            "no certificate seen at the last probe"
        );
    }
}
