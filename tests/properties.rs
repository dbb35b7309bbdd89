//! Property tests (proptest) for the two rules every figure rests on:
//!
//! - the verdict aggregation of DESIGN.md: worst-of over testable addresses, untestable
//!   addresses never pulling a domain down, null MX always `no_mail`, the three booleans
//!   requiring every testable address, one weak MX host making the whole domain weak;
//! - domain normalization of imported cells: never panics, always yields a valid ASCII
//!   domain, idempotent, and the Unicode form shown in the UI normalizes back to the same name.
//!
//! `PROPTEST_CASES` raises the number of cases (default 256 per property).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;
use starttls_monitor::import::normalize_domain;
use starttls_monitor::model::{
    AddressResult, DomainName, DomainResult, MxResult, Outcome, Reason, Verdict, aggregate,
};
use time::OffsetDateTime;

// ---------------------------------------------------------------------------------------------
// Verdict aggregation

/// One probed address as the aggregation sees it.
#[derive(Clone, Copy, Debug)]
struct Probed {
    outcome: Outcome,
    pfs: bool,
    strict: bool,
}

fn probed() -> impl Strategy<Value = Probed> {
    (
        prop_oneof![
            Just(Outcome::Untestable),
            Just(Outcome::NoStarttls),
            Just(Outcome::TlsFailed),
            Just(Outcome::TlsOk),
        ],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(outcome, pfs, strict)| Probed {
            outcome,
            pfs,
            strict,
        })
}

/// The address result the probe would record: PFS and strictness only exist after a
/// completed handshake.
fn address(probed: Probed, index: usize) -> AddressResult {
    let ip = IpAddr::V4(Ipv4Addr::new(
        127,
        0,
        (index / 250) as u8,
        (index % 250 + 1) as u8,
    ));
    let mut result = AddressResult::new(ip, probed.outcome, Reason::Completed, "property test");
    if probed.outcome == Outcome::TlsOk {
        result.pfs = Some(probed.pfs);
        result.strict_valid = Some(probed.strict);
    }
    result
}

fn addresses(probes: &[Probed]) -> Vec<AddressResult> {
    probes
        .iter()
        .enumerate()
        .map(|(index, probed)| address(*probed, index))
        .collect()
}

/// Worst first, as DESIGN.md lists them.
fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::NoStarttls => 0,
        Verdict::TlsFailed => 1,
        Verdict::TlsOk => 2,
        Verdict::Untestable => 3,
        Verdict::NoMail => 4,
    }
}

fn outcome_verdict(outcome: Outcome) -> Verdict {
    match outcome {
        Outcome::Untestable => Verdict::Untestable,
        Outcome::NoStarttls => Verdict::NoStarttls,
        Outcome::TlsFailed => Verdict::TlsFailed,
        Outcome::TlsOk => Verdict::TlsOk,
    }
}

fn mx_host(name: &str, preference: u16, probes: &[Probed]) -> MxResult {
    let addresses = addresses(probes);
    MxResult::new(name.to_string(), preference, addresses)
}

fn domain_of(hosts: &[Vec<Probed>], null_mx: bool) -> DomainResult {
    let mx = hosts
        .iter()
        .enumerate()
        .map(|(index, probes)| mx_host(&format!("mx{index}.example.test"), index as u16, probes))
        .collect();
    DomainResult::new(
        DomainName::parse("example.test").expect("valid"),
        null_mx,
        None,
        OffsetDateTime::UNIX_EPOCH,
        mx,
    )
}

proptest! {
    /// The rule written out once more, independently: worst outcome among testable addresses;
    /// booleans only when something was testable, each requiring every testable address.
    #[test]
    fn aggregate_is_worst_of_the_testable_addresses(probes in prop::collection::vec(probed(), 0..12)) {
        let summary = aggregate(&addresses(&probes));
        let testable: Vec<&Probed> =
            probes.iter().filter(|p| p.outcome != Outcome::Untestable).collect();
        if testable.is_empty() {
            prop_assert_eq!(summary.verdict, Verdict::Untestable);
            prop_assert_eq!((summary.starttls, summary.pfs, summary.strict_valid), (None, None, None));
        } else {
            let worst = testable
                .iter()
                .map(|p| outcome_verdict(p.outcome))
                .min_by_key(|verdict| rank(*verdict))
                .expect("non-empty");
            prop_assert_eq!(summary.verdict, worst);
            let starttls = testable.iter().all(|p| p.outcome == Outcome::TlsOk);
            prop_assert_eq!(summary.starttls, Some(starttls));
            prop_assert_eq!(summary.pfs, Some(starttls && testable.iter().all(|p| p.pfs)));
            prop_assert_eq!(summary.strict_valid, Some(starttls && testable.iter().all(|p| p.strict)));
            // "encrypted + PFS + strict" can never exceed "encrypted".
            prop_assert!(summary.pfs <= summary.starttls && summary.strict_valid <= summary.starttls);
        }
    }

    /// An untestable address (refused, timed out, 421) never changes anything: it is not
    /// "no STARTTLS" and it never pulls a verdict down.
    #[test]
    fn untestable_addresses_change_nothing(
        probes in prop::collection::vec(probed(), 0..10),
        extra in 1..6usize,
        position in any::<prop::sample::Index>(),
    ) {
        let before = aggregate(&addresses(&probes));
        let mut with_untestable = probes.clone();
        for _ in 0..extra {
            let at = position.index(with_untestable.len() + 1);
            with_untestable.insert(at, Probed { outcome: Outcome::Untestable, pfs: false, strict: false });
        }
        prop_assert_eq!(aggregate(&addresses(&with_untestable)), before);
    }

    /// Order of MX hosts and addresses does not matter.
    #[test]
    fn aggregate_ignores_order(mut probes in prop::collection::vec(probed(), 0..12), seed in any::<u64>()) {
        let before = aggregate(&addresses(&probes));
        fastrand::Rng::with_seed(seed).shuffle(&mut probes);
        prop_assert_eq!(aggregate(&addresses(&probes)), before);
    }

    /// Adding a testable address can only keep or lower the verdict and the booleans.
    #[test]
    fn more_addresses_never_make_a_domain_safer(
        probes in prop::collection::vec(probed(), 1..10),
        added in probed(),
    ) {
        let before = aggregate(&addresses(&probes));
        let mut more = probes.clone();
        more.push(added);
        let after = aggregate(&addresses(&more));
        if before.verdict != Verdict::Untestable && added.outcome != Outcome::Untestable {
            prop_assert!(rank(after.verdict) <= rank(before.verdict));
            prop_assert!(after.starttls <= before.starttls);
            prop_assert!(after.pfs <= before.pfs);
            prop_assert!(after.strict_valid <= before.strict_valid);
        }
    }

    /// A domain is only as safe as its weakest MX host: its verdict is the worst testable
    /// host's, hosts with no testable address are ignored, and a null MX is `no_mail` with
    /// null booleans whatever else was recorded.
    #[test]
    fn a_domain_is_as_weak_as_its_weakest_mx_host(
        hosts in prop::collection::vec(prop::collection::vec(probed(), 0..4), 0..5),
        null_mx in any::<bool>(),
    ) {
        let domain = domain_of(&hosts, null_mx);
        if null_mx {
            prop_assert_eq!(domain.verdict, Verdict::NoMail);
            prop_assert_eq!((domain.starttls, domain.pfs, domain.strict_valid), (None, None, None));
            return Ok(());
        }
        let flat: Vec<Probed> = hosts.iter().flatten().copied().collect();
        let summary = aggregate(&addresses(&flat));
        prop_assert_eq!(domain.verdict, summary.verdict);
        prop_assert_eq!((domain.starttls, domain.pfs, domain.strict_valid),
            (summary.starttls, summary.pfs, summary.strict_valid));
        let testable_hosts: Vec<&MxResult> =
            domain.mx.iter().filter(|host| host.verdict != Verdict::Untestable).collect();
        match testable_hosts.iter().map(|host| host.verdict).min_by_key(|v| rank(*v)) {
            Some(weakest) => prop_assert_eq!(domain.verdict, weakest),
            None => prop_assert_eq!(domain.verdict, Verdict::Untestable),
        }
        prop_assert_eq!(
            domain.untestable_host_count(),
            domain.mx.len() - testable_hosts.len()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Domain normalization

/// A label as people write them: ASCII, accented letters, other scripts, odd punctuation.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,12}",
        "[a-zA-Z0-9][a-zA-Z0-9-]{0,10}[a-zA-Z0-9]",
        "[a-zäöüßéèçñ0-9]{1,10}",
        "[а-я]{1,8}",
        "[α-ω]{1,8}",
        "[一-龥]{1,4}",
        "xn--[a-z0-9]{1,10}",
        "[a-z0-9_.\\-]{0,6}",
    ]
}

/// A name of one to four labels.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..5).prop_map(|labels| labels.join("."))
}

/// Cells as they arrive in spreadsheets: bare names, e-mail addresses, URLs, with noise.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        name(),
        name().prop_map(|name| format!("{}.", name.to_uppercase())),
        (name(), "[a-z.]{1,8}").prop_map(|(name, user)| format!("{user}@{name}")),
        (name(), "[A-Za-z ]{0,10}").prop_map(|(name, person)| format!("{person} <me@{name}>")),
        (name(), "(https?|ftp)", "(/[a-z]{0,5}){0,3}")
            .prop_map(|(name, scheme, path)| format!("{scheme}://{name}{path}")),
        (name(), 1..65535u32).prop_map(|(name, port)| format!("{name}:{port}/x?y#z")),
        name().prop_map(|name| format!("\u{feff} \"{name}\"\t")),
        any::<String>(),
        "\\PC{0,40}",
    ]
}

proptest! {
    /// Whatever a cell holds, normalization returns a value or a reason, never panics; a value
    /// is a valid lower-case ASCII domain that `DomainName::parse` accepts as it is.
    #[test]
    fn normalization_never_panics_and_yields_valid_ascii(cell in cell()) {
        if let Ok(domain) = normalize_domain(&cell) {
            let text = domain.as_str();
            prop_assert!(text.is_ascii(), "{text}");
            prop_assert_eq!(text.to_ascii_lowercase(), text);
            prop_assert!(!text.ends_with('.'));
            prop_assert_eq!(DomainName::parse(text), Ok(domain.clone()));
        }
    }

    /// Normalizing a normalized name changes nothing, and the Unicode form the UI shows comes
    /// back to the same ASCII name (so a name copied out of the app imports as itself).
    #[test]
    fn normalization_is_idempotent_and_round_trips_the_display_form(cell in cell()) {
        if let Ok(domain) = normalize_domain(&cell) {
            prop_assert_eq!(normalize_domain(domain.as_str()), Ok(domain.clone()));
            let shown = domain.display_name();
            prop_assert_eq!(normalize_domain(&shown), Ok(domain.clone()), "shown as {}", shown);
        }
    }
}
