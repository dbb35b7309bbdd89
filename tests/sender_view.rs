//! Property test of the sender's view (DESIGN.md, "Authenticated transport", `sender`), against
//! an oracle written from the raw per-address facts, not by calling the rules under test:
//!
//! - `sender.dane` / `sender.mta_sts` is `authenticated` exactly when every testable MX host
//!   passes for that kind of sender (DANE: every testable address of the host valid and no bogus
//!   answer; MTA-STS: an `enforce` policy, the host matched, STARTTLS and WebPKI valid, and its
//!   DANE not failing, since MTA-STS never overrides a failing DANE);
//! - `at_risk` is true exactly when some host that kind of sender may use fails. A kind "uses"
//!   the MX set when it decides at every testable host (each host passes or fails for it); where
//!   it does not apply to some host (DANE on some hosts only, no `enforce` policy) the sender
//!   delivers opportunistically and DESIGN.md calls that `opportunistic`, not at risk. A bogus
//!   MX answer with no testable host makes DANE senders defer.
//! - `authenticated` is true exactly when some kind decides at every host and some host passes.
//!
//! The generated domains run through the real folds ([`fold_dane`] for each host,
//! [`mta_sts_outcome`] for the policy), so those are checked on the way.
//!
//! `PROPTEST_CASES` raises the number of cases (default 256 per property).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use proptest::prelude::*;
use starttls_monitor::model::auth::{
    DaneStatus, DnssecStatus, MtaStsOutcome, SenderFacts, SenderHostFacts, SenderOutcome,
    StsHostCheck, StsMode, StsTxt, fold_dane, mta_sts_outcome, sender_view, sts_passes,
};

/// One MX host, raw: its address answer's DNSSEC status, each address's DANE result (None =
/// untestable), and the MTA-STS facts.
#[derive(Clone, Debug)]
struct RawHost {
    address_dnssec: Option<DnssecStatus>,
    addresses: Vec<Option<DaneStatus>>,
    sts_matched: bool,
    starttls: bool,
    strict_valid: bool,
}

#[derive(Clone, Debug)]
struct RawDomain {
    no_mail: bool,
    mx_dnssec: Option<DnssecStatus>,
    txt_valid: bool,
    policy_mode: Option<StsMode>,
    hosts: Vec<RawHost>,
}

fn dnssec() -> impl Strategy<Value = Option<DnssecStatus>> {
    prop_oneof![
        4 => Just(Some(DnssecStatus::Secure)),
        1 => Just(Some(DnssecStatus::Insecure)),
        1 => Just(Some(DnssecStatus::Bogus)),
        1 => Just(Some(DnssecStatus::Indeterminate)),
        1 => Just(None),
    ]
}

fn address_dane() -> impl Strategy<Value = Option<DaneStatus>> {
    prop_oneof![
        6 => Just(Some(DaneStatus::Valid)),
        2 => Just(Some(DaneStatus::Failed)),
        2 => Just(Some(DaneStatus::Unusable)),
        2 => Just(Some(DaneStatus::None)),
        1 => Just(Some(DaneStatus::Bogus)),
        1 => Just(Some(DaneStatus::Unknown)),
        2 => Just(None),
    ]
}

fn raw_host() -> impl Strategy<Value = RawHost> {
    (
        dnssec(),
        prop::collection::vec(address_dane(), 0..4),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
    )
        .prop_map(
            |(address_dnssec, addresses, sts_matched, starttls, strict_valid)| RawHost {
                address_dnssec,
                addresses,
                sts_matched,
                starttls,
                strict_valid,
            },
        )
}

fn raw_domain() -> impl Strategy<Value = RawDomain> {
    (
        prop::bool::weighted(0.05),
        dnssec(),
        prop::bool::weighted(0.7),
        prop_oneof![
            3 => Just(Some(StsMode::Enforce)),
            1 => Just(Some(StsMode::Testing)),
            1 => Just(Some(StsMode::None)),
            1 => Just(None),
        ],
        prop::collection::vec(raw_host(), 0..5),
    )
        .prop_map(
            |(no_mail, mx_dnssec, txt_valid, policy_mode, hosts)| RawDomain {
                no_mail,
                mx_dnssec,
                txt_valid,
                policy_mode,
                hosts,
            },
        )
}

fn is_bogus(status: Option<DnssecStatus>) -> bool {
    matches!(
        status,
        Some(DnssecStatus::Bogus | DnssecStatus::Indeterminate)
    )
}

// ---------------------------------------------------------------------------------------------
// The oracle: straight from the raw facts.

fn testable(host: &RawHost) -> impl Iterator<Item = DaneStatus> + '_ {
    host.addresses.iter().flatten().copied()
}

fn oracle_enforce(domain: &RawDomain) -> bool {
    domain.txt_valid && domain.policy_mode == Some(StsMode::Enforce)
}

fn oracle_dane_passes(domain: &RawDomain, host: &RawHost) -> bool {
    !is_bogus(domain.mx_dnssec)
        && !is_bogus(host.address_dnssec)
        && testable(host).all(|status| status == DaneStatus::Valid)
}

fn oracle_dane_fails(domain: &RawDomain, host: &RawHost) -> bool {
    is_bogus(domain.mx_dnssec)
        || is_bogus(host.address_dnssec)
        || testable(host).any(|status| matches!(status, DaneStatus::Failed | DaneStatus::Bogus))
}

fn oracle_sts_passes(domain: &RawDomain, host: &RawHost) -> bool {
    oracle_enforce(domain)
        && host.sts_matched
        && host.starttls
        && host.strict_valid
        && !oracle_dane_fails(domain, host)
}

fn oracle_sts_fails(domain: &RawDomain, host: &RawHost) -> bool {
    oracle_enforce(domain) && !oracle_sts_passes(domain, host)
}

type Rule = fn(&RawDomain, &RawHost) -> bool;

/// The testable hosts: those with at least one testable address.
fn testable_hosts(domain: &RawDomain) -> Vec<&RawHost> {
    domain
        .hosts
        .iter()
        .filter(|host| testable(host).next().is_some())
        .collect()
}

fn every_host_passes(domain: &RawDomain, passes: Rule) -> bool {
    let hosts = testable_hosts(domain);
    !hosts.is_empty() && hosts.iter().all(|host| passes(domain, host))
}

/// The kind decides at every testable host (there is at least one), and some host `wanted`.
fn decides_everywhere_and_some(
    domain: &RawDomain,
    passes: Rule,
    fails: Rule,
    wanted: Rule,
) -> bool {
    let hosts = testable_hosts(domain);
    !hosts.is_empty()
        && hosts
            .iter()
            .all(|host| passes(domain, host) || fails(domain, host))
        && hosts.iter().any(|host| wanted(domain, host))
}

// ---------------------------------------------------------------------------------------------
// The code under test, fed the same domain.

fn facts_of(domain: &RawDomain) -> (SenderFacts, MtaStsOutcome) {
    let hosts: Vec<&RawHost> = testable_hosts(domain);
    let checks: Vec<StsHostCheck> = hosts
        .iter()
        .map(|host| StsHostCheck {
            matched: host.sts_matched,
            passes: sts_passes(
                host.sts_matched,
                Some(host.starttls),
                Some(host.strict_valid),
            ),
        })
        .collect();
    let txt = if domain.txt_valid {
        StsTxt::Valid {
            id: "1".to_string(),
        }
    } else {
        StsTxt::Absent
    };
    let outcome = mta_sts_outcome(&txt, domain.policy_mode, &checks);
    let policy_in_force = domain.txt_valid && domain.policy_mode.is_some();
    let sender_hosts = hosts
        .iter()
        .zip(&checks)
        .map(|(host, check)| SenderHostFacts {
            dane: fold_dane(host.address_dnssec, testable(host)),
            sts_passes: policy_in_force.then_some(check.passes),
        })
        .collect();
    let facts = SenderFacts {
        no_mail: domain.no_mail,
        mx_dnssec: domain.mx_dnssec,
        sts_enforce: outcome.is_enforce(),
        hosts: sender_hosts,
    };
    (facts, outcome)
}

proptest! {
    #[test]
    fn sender_view_agrees_with_the_oracle(domain in raw_domain()) {
        let (facts, outcome) = facts_of(&domain);
        let view = sender_view(&facts);
        if domain.no_mail {
            prop_assert_eq!(view, None);
            return Ok(());
        }
        let view = view.expect("a domain that takes mail has a sender view");
        let hosts = testable_hosts(&domain);

        prop_assert_eq!(
            view.dane == SenderOutcome::Authenticated,
            every_host_passes(&domain, oracle_dane_passes),
            "sender.dane authenticated"
        );
        prop_assert_eq!(
            view.mta_sts == SenderOutcome::Authenticated,
            every_host_passes(&domain, oracle_sts_passes),
            "sender.mta_sts authenticated"
        );

        let dane_defers_untestable = hosts.is_empty() && is_bogus(domain.mx_dnssec);
        let dane_at_risk = dane_defers_untestable
            || decides_everywhere_and_some(&domain, oracle_dane_passes, oracle_dane_fails, oracle_dane_fails);
        let sts_at_risk =
            decides_everywhere_and_some(&domain, oracle_sts_passes, oracle_sts_fails, oracle_sts_fails);
        prop_assert_eq!(view.at_risk, dane_at_risk || sts_at_risk, "at_risk");

        let authenticated =
            decides_everywhere_and_some(&domain, oracle_dane_passes, oracle_dane_fails, oracle_dane_passes)
            || decides_everywhere_and_some(&domain, oracle_sts_passes, oracle_sts_fails, oracle_sts_passes);
        prop_assert_eq!(view.authenticated, authenticated, "authenticated");

        // Defers: every testable host fails for that kind (or DANE with a bogus MX answer and
        // nothing testable).
        let every_host_fails = |fails: Rule| !hosts.is_empty() && hosts.iter().all(|host| fails(&domain, host));
        prop_assert_eq!(
            view.dane == SenderOutcome::Defers,
            dane_defers_untestable || every_host_fails(oracle_dane_fails),
            "sender.dane defers"
        );
        prop_assert_eq!(
            view.mta_sts == SenderOutcome::Defers,
            every_host_fails(oracle_sts_fails),
            "sender.mta_sts defers"
        );
        // Only DANE has `encrypted`; no testable host is unknown unless DANE senders defer.
        prop_assert_ne!(view.mta_sts, SenderOutcome::Encrypted);
        if hosts.is_empty() {
            prop_assert_eq!(view.mta_sts, SenderOutcome::Unknown);
            if !dane_defers_untestable {
                prop_assert_eq!(view.dane, SenderOutcome::Unknown);
            }
        }
        // Without an enforce policy an MTA-STS sender is opportunistic (or unknown).
        if !oracle_enforce(&domain) && !hosts.is_empty() {
            prop_assert_eq!(view.mta_sts, SenderOutcome::Opportunistic);
        }

        // The MTA-STS outcome on the way: enforce_ok exactly when every testable host passes.
        let every_host_sts_ok = hosts
            .iter()
            .all(|host| host.sts_matched && host.starttls && host.strict_valid);
        prop_assert_eq!(
            outcome == MtaStsOutcome::EnforceOk,
            oracle_enforce(&domain) && every_host_sts_ok,
            "mta_sts.outcome enforce_ok"
        );
        if outcome == MtaStsOutcome::MxMismatch {
            prop_assert!(hosts.iter().any(|host| !host.sts_matched));
        }
    }
}
