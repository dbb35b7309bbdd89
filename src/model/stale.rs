//! Stale state (DESIGN.md "Grading a TLS session, and stale state"): an outage must not erase
//! what we know. When a domain's latest probe is untestable, its last known testable state keeps
//! counting for a while, marked stale; a definitive answer replaces it at once.
//!
//! Owns: what a result answers ([`Answer`]: testable, definitive, or inconclusive), the rule
//! that decides whether an inconclusive probe keeps the last known state ([`keeps_last_known`],
//! and [`standing`] over a whole history), which result a count uses ([`counted`]), and why a
//! probe was untestable in a few words ([`why_untestable`]).
//! Must not touch: I/O and clock reads (every time is passed in), finding earlier results (the
//! store does), the window's default (`settings::DEFAULT_STALE_MAX_DAYS`).
//!
//! The rule, exactly:
//! - a result is *testable* when its verdict counts in shares (`no_starttls`, `tls_failed`,
//!   `tls_ok`);
//! - it is *definitive* when it is not testable but the DNS gave a final answer: a null MX
//!   (`no_mail`), NXDOMAIN of the domain itself, or NXDOMAIN for every one of its MX hosts;
//! - anything else (DNS timeout, SERVFAIL, REFUSED, refused or timed-out connections, ...) is
//!   *inconclusive*;
//! - a domain whose latest result is inconclusive keeps the state of its most recent earlier
//!   result that was not inconclusive (its *last conclusive* result) when that one was testable
//!   and was last confirmed at most `stale_max_days` days before the latest probe. It is then
//!   *stale* since the first probe after that result. Otherwise (never testable, the last
//!   conclusive answer was definitive, or the window has passed) the latest result counts as it
//!   is.

use time::{Duration, OffsetDateTime};

use super::{DnsError, DomainResult, Outcome, Verdict};

/// What a result tells about a domain, as far as stale state is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Answer {
    /// The verdict counts in shares (`no_starttls`, `tls_failed`, `tls_ok`).
    Testable,
    /// Not testable, but final: null MX, NXDOMAIN of the domain, NXDOMAIN of every MX host.
    Definitive,
    /// We could not find out (timeouts, SERVFAIL, refused, ...): the last known state may stand.
    Inconclusive,
}

impl Answer {
    /// From a stored verdict and whether the result was definitive (see [`is_definitive`]).
    pub fn new(verdict: Verdict, definitive: bool) -> Self {
        if verdict.is_testable() {
            Answer::Testable
        } else if definitive || verdict == Verdict::NoMail {
            Answer::Definitive
        } else {
            Answer::Inconclusive
        }
    }

    /// What `result` answers.
    pub fn of(result: &DomainResult) -> Self {
        Self::new(result.verdict, is_definitive(result))
    }

    /// Testable or definitive: an answer that replaces whatever was known before.
    pub fn is_conclusive(self) -> bool {
        self != Answer::Inconclusive
    }
}

/// Whether `result` (when not testable) is a final answer that replaces the last known state at
/// once: a null MX, NXDOMAIN of the domain, or NXDOMAIN for every MX host.
pub fn is_definitive(result: &DomainResult) -> bool {
    result.verdict == Verdict::NoMail
        || result.dns_error == Some(DnsError::Nxdomain)
        || (!result.mx.is_empty()
            && result
                .mx
                .iter()
                .all(|host| host.dns_error == Some(DnsError::Nxdomain)))
}

/// The rule: whether a domain whose latest probe gave `latest` at `latest_at` keeps the state of
/// its last conclusive result, given as (its answer, when it was last confirmed); None when
/// every earlier result was inconclusive too (or there is none).
///
/// True only for an inconclusive latest probe whose last conclusive result was testable and
/// was confirmed at most `stale_max_days` days before `latest_at` (0 turns the rule off).
pub fn keeps_last_known(
    latest: Answer,
    latest_at: OffsetDateTime,
    last_conclusive: Option<(Answer, OffsetDateTime)>,
    stale_max_days: u32,
) -> bool {
    latest == Answer::Inconclusive
        && stale_max_days > 0
        && matches!(
            last_conclusive,
            Some((Answer::Testable, known_at))
                if latest_at - known_at <= Duration::days(i64::from(stale_max_days))
        )
}

/// One stored result as the rule sees it: a run of equal results, first and last seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sighting {
    pub answer: Answer,
    /// When this state was first seen.
    pub first_at: OffsetDateTime,
    /// When it was last confirmed.
    pub last_at: OffsetDateTime,
}

/// Which result of a domain's history counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The latest result counts as it is (or there is none).
    Current,
    /// The latest result is inconclusive and the result at `last_known` (an index into the
    /// history) counts instead, stale since `since`: the first result after it.
    Stale {
        last_known: usize,
        since: OffsetDateTime,
    },
}

/// The rule over a domain's history, newest first (index 0 is the latest result).
pub fn standing(history: &[Sighting], stale_max_days: u32) -> Standing {
    let Some(latest) = history.first() else {
        return Standing::Current;
    };
    let Some(known) = history
        .iter()
        .position(|sighting| sighting.answer.is_conclusive())
    else {
        return Standing::Current;
    };
    let last_conclusive = history[known];
    if known == 0
        || !keeps_last_known(
            latest.answer,
            latest.last_at,
            Some((last_conclusive.answer, last_conclusive.last_at)),
            stale_max_days,
        )
    {
        return Standing::Current;
    }
    Standing::Stale {
        last_known: known,
        since: history[known - 1].first_at,
    }
}

/// The result a count uses: the last known one while `result` is stale, else `result` itself.
pub fn counted(result: &DomainResult) -> &DomainResult {
    result.last_known.as_deref().unwrap_or(result)
}

/// Why an untestable result could not be tested, in a few words for people: `DNS timeout`,
/// `DNS servfail`, `MX host DNS refused`, `connect refused`, `greeting timeout` ... (the stable
/// codes with spaces, the most common one among the untestable addresses).
pub fn why_untestable(result: &DomainResult) -> String {
    let words = |code: &str| code.replace('_', " ");
    if let Some(error) = result.dns_error {
        return format!("DNS {}", words(error.as_str()));
    }
    if result.verdict == Verdict::NoMail {
        return "accepts no mail (null MX)".to_string();
    }
    let no_address_at_all = result.mx.iter().all(|host| host.addresses.is_empty());
    if no_address_at_all && let Some(error) = result.mx.iter().find_map(|host| host.dns_error) {
        return format!("MX host DNS {}", words(error.as_str()));
    }
    let mut reasons: Vec<(&'static str, usize)> = Vec::new();
    for address in result
        .mx
        .iter()
        .flat_map(|host| &host.addresses)
        .filter(|address| address.outcome == Outcome::Untestable)
    {
        let code = address.reason.as_str();
        match reasons.iter_mut().find(|(seen, _)| *seen == code) {
            Some((_, count)) => *count += 1,
            None => reasons.push((code, 1)),
        }
    }
    // The most common reason; the first one seen wins a tie.
    let mut best: Option<(&str, usize)> = None;
    for (code, count) in reasons {
        if best.is_none_or(|(_, best_count)| count > best_count) {
            best = Some((code, count));
        }
    }
    match best {
        Some((code, _)) => words(code),
        None if result.mx.is_empty() => "no MX host".to_string(),
        None => "nothing testable".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::{address, mx_host};
    use crate::model::{DomainName, MxResult, Reason};

    fn at(hours: i64) -> OffsetDateTime {
        // 2026-01-10 12:00 UTC, plus `hours`.
        OffsetDateTime::from_unix_timestamp(1_768_046_400).expect("valid") + Duration::hours(hours)
    }

    fn domain_result(dns_error: Option<DnsError>, mx: Vec<MxResult>) -> DomainResult {
        let domain = DomainName::parse("example.org").expect("valid");
        DomainResult::new(domain, false, dns_error, at(0), mx)
    }

    fn good() -> DomainResult {
        domain_result(
            None,
            vec![mx_host(
                "mx.example.org",
                vec![address(Outcome::TlsOk, true, true)],
            )],
        )
    }

    fn host_failing(name: &str, error: DnsError) -> MxResult {
        let mut host = mx_host(name, vec![]);
        host.dns_error = Some(error);
        host
    }

    fn refused() -> DomainResult {
        let mut address = address(Outcome::Untestable, false, false);
        address.reason = Reason::ConnectRefused;
        domain_result(None, vec![mx_host("mx.example.org", vec![address])])
    }

    fn sighting(answer: Answer, first: i64, last: i64) -> Sighting {
        Sighting {
            answer,
            first_at: at(first),
            last_at: at(last),
        }
    }

    #[test]
    fn answers_are_testable_definitive_or_inconclusive() {
        assert_eq!(Answer::of(&good()), Answer::Testable);
        let domain = DomainName::parse("example.org").expect("valid");
        let null_mx = DomainResult::new(domain, true, None, at(0), vec![]);
        assert_eq!(Answer::of(&null_mx), Answer::Definitive, "null MX");
        assert_eq!(
            Answer::of(&domain_result(Some(DnsError::Nxdomain), vec![])),
            Answer::Definitive,
            "NXDOMAIN of the domain"
        );
        let all_gone = domain_result(
            None,
            vec![
                host_failing("mx1.example.org", DnsError::Nxdomain),
                host_failing("mx2.example.org", DnsError::Nxdomain),
            ],
        );
        assert_eq!(
            Answer::of(&all_gone),
            Answer::Definitive,
            "every MX host NXDOMAIN"
        );
        let one_gone = domain_result(
            None,
            vec![
                host_failing("mx1.example.org", DnsError::Nxdomain),
                host_failing("mx2.example.org", DnsError::Timeout),
            ],
        );
        assert_eq!(
            Answer::of(&one_gone),
            Answer::Inconclusive,
            "one host timed out"
        );
        for error in [
            DnsError::Timeout,
            DnsError::Servfail,
            DnsError::Refused,
            DnsError::Other,
        ] {
            assert_eq!(
                Answer::of(&domain_result(Some(error), vec![])),
                Answer::Inconclusive,
                "{error:?}"
            );
        }
        assert_eq!(Answer::of(&refused()), Answer::Inconclusive);
        assert_eq!(
            Answer::of(&domain_result(None, vec![])),
            Answer::Inconclusive,
            "no MX host and no error: nothing definitive"
        );
        // A testable result stays testable whatever else failed.
        let mut mixed = good();
        mixed
            .mx
            .push(host_failing("mx2.example.org", DnsError::Nxdomain));
        assert_eq!(Answer::of(&mixed), Answer::Testable);
        assert_eq!(Answer::new(Verdict::NoMail, false), Answer::Definitive);
        assert_eq!(Answer::new(Verdict::Untestable, true), Answer::Definitive);
        assert_eq!(Answer::new(Verdict::TlsFailed, true), Answer::Testable);
    }

    #[test]
    fn untestable_within_the_window_keeps_the_last_known_state() {
        let known = Some((Answer::Testable, at(0)));
        assert!(keeps_last_known(Answer::Inconclusive, at(2), known, 7));
        assert!(
            keeps_last_known(Answer::Inconclusive, at(7 * 24), known, 7),
            "exactly 7 days later still counts"
        );
        let history = [
            sighting(Answer::Inconclusive, 30, 48),
            sighting(Answer::Inconclusive, 2, 20),
            sighting(Answer::Testable, -10, 0),
        ];
        assert_eq!(
            standing(&history, 7),
            Standing::Stale {
                last_known: 2,
                since: at(2)
            },
            "stale since the first untestable probe after the last known state"
        );
    }

    #[test]
    fn beyond_stale_max_days_the_domain_is_untestable() {
        let known = Some((Answer::Testable, at(0)));
        assert!(!keeps_last_known(
            Answer::Inconclusive,
            at(7 * 24 + 1),
            known,
            7
        ));
        assert!(keeps_last_known(
            Answer::Inconclusive,
            at(9 * 24),
            known,
            10
        ));
        assert!(
            !keeps_last_known(Answer::Inconclusive, at(1), known, 0),
            "0 days turns the rule off"
        );
        let history = [
            sighting(Answer::Inconclusive, 24, 8 * 24),
            sighting(Answer::Testable, -10, 0),
        ];
        assert_eq!(standing(&history, 7), Standing::Current);
    }

    #[test]
    fn definitive_answers_replace_the_state_at_once() {
        let known = Some((Answer::Testable, at(0)));
        assert!(
            !keeps_last_known(Answer::Definitive, at(1), known, 7),
            "NXDOMAIN, null MX, every MX host NXDOMAIN"
        );
        assert!(!keeps_last_known(Answer::Testable, at(1), known, 7));
        // A definitive answer in between ends what was known before it.
        let history = [
            sighting(Answer::Inconclusive, 3, 3),
            sighting(Answer::Definitive, 2, 2),
            sighting(Answer::Testable, 0, 1),
        ];
        assert_eq!(standing(&history, 7), Standing::Current);
        assert!(!keeps_last_known(
            Answer::Inconclusive,
            at(3),
            Some((Answer::Definitive, at(2))),
            7
        ));
    }

    #[test]
    fn a_domain_never_testable_stays_untestable() {
        assert!(!keeps_last_known(Answer::Inconclusive, at(1), None, 7));
        let history = [
            sighting(Answer::Inconclusive, 5, 6),
            sighting(Answer::Inconclusive, 0, 4),
        ];
        assert_eq!(standing(&history, 7), Standing::Current);
        assert_eq!(standing(&[], 7), Standing::Current);
        assert_eq!(
            standing(&[sighting(Answer::Testable, 0, 1)], 7),
            Standing::Current,
            "a testable latest result is simply current"
        );
    }

    #[test]
    fn counts_use_the_last_known_result_while_stale() {
        let mut latest = domain_result(Some(DnsError::Timeout), vec![]);
        assert_eq!(counted(&latest).verdict, Verdict::Untestable);
        latest.last_known = Some(Box::new(good()));
        latest.stale_since = Some(at(1));
        assert_eq!(counted(&latest).verdict, Verdict::TlsOk);
    }

    #[test]
    fn untestable_results_say_why_in_a_few_words() {
        assert_eq!(
            why_untestable(&domain_result(Some(DnsError::Timeout), vec![])),
            "DNS timeout"
        );
        assert_eq!(
            why_untestable(&domain_result(
                None,
                vec![host_failing("mx.example.org", DnsError::NoAddress)]
            )),
            "MX host DNS no address"
        );
        assert_eq!(why_untestable(&refused()), "connect refused");
        let mut timeout = address(Outcome::Untestable, false, false);
        timeout.reason = Reason::ConnectTimeout;
        let mut refused_too = address(Outcome::Untestable, false, false);
        refused_too.reason = Reason::ConnectRefused;
        let two_timeouts = domain_result(
            None,
            vec![mx_host(
                "mx.example.org",
                vec![refused_too, timeout.clone(), timeout],
            )],
        );
        assert_eq!(why_untestable(&two_timeouts), "connect timeout");
        assert_eq!(why_untestable(&domain_result(None, vec![])), "no MX host");
    }
}
