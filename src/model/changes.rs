//! Change events: what differs between a domain's earlier state and a new result, by rule.
//!
//! Owns: the event kinds and the rules that raise them (STARTTLS lost or gained; PFS and
//! certificate validity while STARTTLS holds; MX set changes; certificates about to end; DANE
//! failed, valid again, gained or lost; the MTA-STS policy or TLS-RPT record changed; an
//! `enforce` policy that no longer lists an MX host), and their wording. Must not touch: I/O; reading earlier states and storing events, and the
//! once-per-certificate bookkeeping of `cert_expiring`, are the store's.

use std::collections::BTreeSet;

use super::vocabulary::vocabulary;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::{DaneSetStatus, MtaStsOutcome, TlsRptStatus};
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
        /// DANE now fails (or an answer it needs is bogus): DANE senders defer the mail, e.g.
        /// TLSA records left behind by a certificate renewal.
        DaneFailed,
        /// DANE valid again after failing.
        DaneValid,
        /// TLSA records published where there were none.
        DaneGained,
        /// TLSA records gone (DANE no longer applies).
        DaneLost,
        /// The MTA-STS policy in force changed (mode, `max_age`, `mx` patterns), was published
        /// or was withdrawn.
        StsPolicyChanged,
        /// An MTA-STS `enforce` policy no longer lists some MX host: MTA-STS senders defer.
        StsMxMismatch,
        /// The TLS-RPT record changed (status or report URIs).
        TlsrptChanged,
    }
}

impl ChangeKind {
    /// Whether this change makes things worse (shown as a regression).
    /// Whether the event undoes a regression: STARTTLS or forward secrecy gained, a
    /// certificate that became valid. (An MX change is neither.)
    pub fn is_recovery(self) -> bool {
        matches!(
            self,
            ChangeKind::StarttlsGained
                | ChangeKind::PfsGained
                | ChangeKind::CertBecameValid
                | ChangeKind::DaneValid
                | ChangeKind::DaneGained
        )
    }

    /// Whether this change makes things worse (shown as a regression): STARTTLS, forward
    /// secrecy or certificate validity lost, a certificate about to end, DANE failed or lost,
    /// an `enforce` policy that no longer lists an MX host.
    pub fn is_regression(self) -> bool {
        matches!(
            self,
            ChangeKind::StarttlsLost
                | ChangeKind::PfsLost
                | ChangeKind::CertBecameInvalid
                | ChangeKind::CertExpiring
                | ChangeKind::DaneFailed
                | ChangeKind::DaneLost
                | ChangeKind::StsMxMismatch
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
    /// The authenticated-transport facts; None for a result stored before they existed (the
    /// first result with them is then a baseline: no DANE / MTA-STS / TLS-RPT events).
    pub auth: Option<AuthSnapshot>,
}

/// What the DANE, MTA-STS and TLS-RPT events compare of an earlier result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSnapshot {
    /// The domain's folded `dane`.
    pub dane: Option<DaneSetStatus>,
    /// `mta_sts.outcome`.
    pub sts_outcome: Option<MtaStsOutcome>,
    /// The policy in force, as [`sts_policy_summary`] writes it.
    pub sts_policy: Option<String>,
    /// The TLS-RPT record, as [`tls_rpt_summary`] writes it.
    pub tls_rpt: Option<String>,
}

impl AuthSnapshot {
    /// The snapshot of `result`; None when it has no sender view (stored before the facts
    /// existed, or `no_mail`).
    pub fn of(result: &DomainResult) -> Option<Self> {
        result.sender?;
        Some(Self {
            dane: result.dane,
            sts_outcome: result.mta_sts.as_ref().map(|mta_sts| mta_sts.outcome),
            sts_policy: sts_policy_summary(result),
            tls_rpt: tls_rpt_summary(result),
        })
    }
}

/// The MTA-STS policy in force in words that compare: `mode enforce, max_age 86400, mx
/// mx1.example.org *.example.net` (patterns as written, sorted); None without a policy.
pub fn sts_policy_summary(result: &DomainResult) -> Option<String> {
    let mta_sts = result.mta_sts.as_ref()?;
    let mode = mta_sts.mode?;
    let mut patterns: Vec<&str> = mta_sts
        .mx_patterns
        .iter()
        .flatten()
        .map(String::as_str)
        .collect();
    patterns.sort_unstable();
    patterns.dedup();
    Some(format!(
        "mode {}, max_age {}, mx {}",
        mode.as_str(),
        mta_sts
            .max_age
            .map_or_else(|| "-".to_string(), |age| age.to_string()),
        patterns.join(" ")
    ))
}

/// The domain's TLS-RPT record in words that compare: `none`, `invalid`, or `valid
/// mailto:a@example.org https://r.example.org`; None when not looked up.
pub fn tls_rpt_summary(result: &DomainResult) -> Option<String> {
    let tls_rpt = result.tls_rpt.as_ref()?;
    Some(match tls_rpt.status {
        TlsRptStatus::Valid => format!("valid {}", tls_rpt.rua.join(" ")),
        other => other.as_str().to_string(),
    })
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
            auth: AuthSnapshot::of(result),
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
        if let (Some(was), Some(now)) = (&before.auth, AuthSnapshot::of(after)) {
            auth_changes(was, &now, after, &mut push);
        }
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

/// How a DANE status reads for events: None when it tells nothing (not looked up, or `unknown`:
/// the resolver passed no DNSSEC data, so a move to or from it is no news).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DaneClass {
    /// `failed` or `bogus`: DANE senders defer.
    Failing,
    /// `valid`, `unusable` or `partial`: TLSA records published, nothing failing.
    Published,
    /// `none`: no secure TLSA records.
    Absent,
}

fn dane_class(dane: Option<DaneSetStatus>) -> Option<DaneClass> {
    match dane? {
        DaneSetStatus::Failed | DaneSetStatus::Bogus => Some(DaneClass::Failing),
        DaneSetStatus::Valid | DaneSetStatus::Unusable | DaneSetStatus::Partial => {
            Some(DaneClass::Published)
        }
        DaneSetStatus::None => Some(DaneClass::Absent),
        DaneSetStatus::Unknown => None,
    }
}

/// The DANE, MTA-STS and TLS-RPT events between two testable results that both have the facts.
fn auth_changes(
    before: &AuthSnapshot,
    now: &AuthSnapshot,
    after: &DomainResult,
    push: &mut impl FnMut(ChangeKind, String),
) {
    let name = |dane: Option<DaneSetStatus>| dane.map_or("null", DaneSetStatus::as_str);
    if let (Some(was), Some(is)) = (dane_class(before.dane), dane_class(now.dane)) {
        let was_name = name(before.dane);
        match (was, is) {
            (DaneClass::Published | DaneClass::Absent, DaneClass::Failing) => {
                let hosts: Vec<String> = after
                    .mx
                    .iter()
                    .filter(|host| {
                        matches!(
                            host.dane,
                            Some(DaneSetStatus::Failed | DaneSetStatus::Bogus)
                        )
                    })
                    .map(|host| format!("{} ({})", host.host, name(host.dane)))
                    .collect();
                let hosts = if hosts.is_empty() {
                    "the MX answer".to_string()
                } else {
                    hosts.join(", ")
                };
                push(
                    ChangeKind::DaneFailed,
                    format!(
                        "DANE {} on {hosts} (was {was_name}): DANE senders defer mail; do the                          TLSA records still match the certificate?",
                        name(now.dane)
                    ),
                );
            }
            (DaneClass::Failing, DaneClass::Published)
                if now.dane == Some(DaneSetStatus::Valid) =>
            {
                push(
                    ChangeKind::DaneValid,
                    format!("DANE valid again (was {was_name})"),
                );
            }
            (DaneClass::Absent, DaneClass::Published) => push(
                ChangeKind::DaneGained,
                format!("TLSA records published: DANE {}", name(now.dane)),
            ),
            (DaneClass::Published | DaneClass::Failing, DaneClass::Absent) => push(
                ChangeKind::DaneLost,
                format!("TLSA records gone: DANE no longer applies (was {was_name})"),
            ),
            _ => {}
        }
    }
    // A policy that could not be fetched this time is no news; a published or withdrawn one is.
    let fetch_failed =
        |outcome: Option<MtaStsOutcome>| outcome == Some(MtaStsOutcome::PolicyFailed);
    if !fetch_failed(before.sts_outcome)
        && !fetch_failed(now.sts_outcome)
        && before.sts_policy != now.sts_policy
    {
        let words = |policy: &Option<String>| policy.clone().unwrap_or_else(|| "none".to_string());
        push(
            ChangeKind::StsPolicyChanged,
            format!(
                "MTA-STS policy changed from [{}] to [{}]",
                words(&before.sts_policy),
                words(&now.sts_policy)
            ),
        );
    }
    if now.sts_outcome == Some(MtaStsOutcome::MxMismatch)
        && before.sts_outcome != Some(MtaStsOutcome::MxMismatch)
    {
        let unlisted: Vec<&str> = after
            .mx
            .iter()
            .filter(|host| host.sts_matched == Some(false) && host.verdict.is_testable())
            .map(|host| host.host.as_str())
            .collect();
        push(
            ChangeKind::StsMxMismatch,
            format!(
                "the MTA-STS enforce policy does not list {}: MTA-STS senders defer mail to it",
                unlisted.join(", ")
            ),
        );
    }
    if let (Some(was), Some(is)) = (&before.tls_rpt, &now.tls_rpt)
        && was != is
    {
        push(
            ChangeKind::TlsrptChanged,
            format!("TLS-RPT record changed from [{was}] to [{is}]"),
        );
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

    mod auth_events {
        use super::*;
        use crate::model::auth::{DaneSetStatus as Dane, MtaStsOutcome as Sts, TlsRpt};
        use crate::model::test_support::with_auth;

        fn two_hosts() -> DomainResult {
            result_at(
                Shape::Good,
                &["mx1.example.org", "mx2.example.org"],
                1_000_000,
            )
        }

        fn auth(dane: &[Dane], sts: Sts) -> DomainResult {
            with_auth(two_hosts(), dane, sts)
        }

        fn events(before: &DomainResult, after: &DomainResult) -> Vec<ChangeEvent> {
            let state = DomainState::of(before);
            changes(Some(&state), Some(&state), after)
        }

        fn kinds(before: &DomainResult, after: &DomainResult) -> Vec<ChangeKind> {
            events(before, after)
                .into_iter()
                .map(|event| event.kind)
                .collect()
        }

        #[test]
        fn dane_failed_when_the_tlsa_records_stop_matching_and_valid_again_after() {
            let valid = auth(&[Dane::Valid, Dane::Valid], Sts::None);
            let renewed = auth(&[Dane::Valid, Dane::Failed], Sts::None);
            let found = events(&valid, &renewed);
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].kind, ChangeKind::DaneFailed);
            assert!(found[0].kind.is_regression());
            assert!(
                found[0].detail.contains("mx2.example.org (failed)")
                    && !found[0].detail.contains("mx1"),
                "{}",
                found[0].detail
            );
            assert_eq!(kinds(&renewed, &valid), [ChangeKind::DaneValid]);
            assert!(ChangeKind::DaneValid.is_recovery());
            assert_eq!(kinds(&renewed, &renewed), [], "still failing: no new event");
            let bogus = auth(&[Dane::Bogus, Dane::Bogus], Sts::None);
            assert_eq!(kinds(&valid, &bogus), [ChangeKind::DaneFailed]);
        }

        #[test]
        fn dane_gained_and_lost_and_unknown_is_no_news() {
            let none = auth(&[Dane::None, Dane::None], Sts::None);
            let valid = auth(&[Dane::Valid, Dane::Valid], Sts::None);
            let blind = auth(&[Dane::Unknown, Dane::Unknown], Sts::None);
            let failed = auth(&[Dane::Failed, Dane::Failed], Sts::None);
            assert_eq!(kinds(&none, &valid), [ChangeKind::DaneGained]);
            assert_eq!(kinds(&valid, &none), [ChangeKind::DaneLost]);
            assert!(ChangeKind::DaneLost.is_regression());
            assert_eq!(kinds(&none, &failed), [ChangeKind::DaneFailed]);
            assert_eq!(kinds(&valid, &blind), [], "the resolver went blind");
            assert_eq!(kinds(&blind, &failed), [], "we did not know before");
        }

        #[test]
        fn results_without_the_facts_are_a_baseline() {
            // Stored before the migration: no sender view. The first result with the facts
            // raises no DANE / MTA-STS / TLS-RPT event, whatever it says.
            let old = two_hosts();
            assert!(DomainState::of(&old).auth.is_none());
            let failing = auth(&[Dane::Failed, Dane::Failed], Sts::MxMismatch);
            assert_eq!(kinds(&old, &failing), []);
            assert_eq!(
                changes(None, None, &failing),
                [],
                "a first result is a baseline"
            );
            // Back to no facts (an older build's result): nothing either.
            assert_eq!(kinds(&failing, &old), []);
        }

        #[test]
        fn mta_sts_policy_and_mx_mismatch_and_tls_rpt_changes() {
            let enforce = auth(&[Dane::None, Dane::None], Sts::EnforceOk);
            let testing = auth(&[Dane::None, Dane::None], Sts::Testing);
            let mismatch = auth(&[Dane::None, Dane::None], Sts::MxMismatch);
            let none = auth(&[Dane::None, Dane::None], Sts::None);
            let failed_fetch = auth(&[Dane::None, Dane::None], Sts::PolicyFailed);
            let found = events(&testing, &enforce);
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].kind, ChangeKind::StsPolicyChanged);
            assert!(
                found[0].detail.contains("mode testing")
                    && found[0].detail.contains("mode enforce")
            );
            assert_eq!(
                kinds(&none, &enforce),
                [ChangeKind::StsPolicyChanged],
                "published"
            );
            assert_eq!(
                kinds(&enforce, &none),
                [ChangeKind::StsPolicyChanged],
                "withdrawn"
            );
            assert_eq!(
                kinds(&enforce, &failed_fetch),
                [],
                "a failed fetch is no policy change"
            );
            let found = events(&enforce, &mismatch);
            assert_eq!(
                found.iter().map(|event| event.kind).collect::<Vec<_>>(),
                [ChangeKind::StsMxMismatch]
            );
            assert!(found[0].kind.is_regression());
            assert!(
                found[0].detail.contains("mx2.example.org"),
                "{}",
                found[0].detail
            );
            assert_eq!(kinds(&mismatch, &mismatch), []);
            let mut reporting = enforce.clone();
            reporting.tls_rpt = Some(TlsRpt {
                status: crate::model::auth::TlsRptStatus::Valid,
                rua: vec!["mailto:tlsrpt@example.org".to_string()],
                detail: None,
            });
            let found = events(&enforce, &reporting);
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].kind, ChangeKind::TlsrptChanged);
            assert_eq!(
                found[0].detail,
                "TLS-RPT record changed from [none] to [valid mailto:tlsrpt@example.org]"
            );
        }
    }
}
