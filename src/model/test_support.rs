//! Test-only builders of model values, shared by the unit tests of `model` and of its users.
//!
//! Owns: nothing the program uses (compiled for tests only). Must not touch: I/O.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use time::Date;

use super::adoption::{HostTrendCounts, TrendCounts, TrendPoint};
use super::{AddressResult, MxResult, Outcome, Reason, Verdict};

/// An address on 127.0.0.1 with `outcome`; `pfs` and `strict` are set only for `tls_ok`.
pub(crate) fn address(outcome: Outcome, pfs: bool, strict: bool) -> AddressResult {
    let mut address = AddressResult::new(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        outcome,
        Reason::Completed,
        "",
    );
    if outcome == Outcome::TlsOk {
        address.pfs = Some(pfs);
        address.strict_valid = Some(strict);
    }
    address
}

/// An MX host (preference 10) with its verdict computed from `addresses`, as the probe does.
pub(crate) fn mx_host(name: &str, addresses: Vec<AddressResult>) -> MxResult {
    MxResult::new(name.to_string(), 10, addresses)
}

/// A trend point: `testable` domains all with STARTTLS, `all_three` of them also with PFS and
/// strict (and TLS 1.3), `untestable` more and one null MX; 4 MX hosts, 2 of them strict.
pub(crate) fn trend_point(
    date: Date,
    testable: usize,
    all_three: usize,
    untestable: usize,
) -> TrendPoint {
    TrendPoint {
        date,
        domains: TrendCounts {
            total: testable + untestable + 1,
            no_mail: 1,
            untestable,
            testable,
            starttls: testable,
            pfs: all_three,
            strict_valid: all_three,
            all_three,
            stale: 0,
            weak_tls: 0,
            ..Default::default()
        },
        mx_hosts: HostTrendCounts {
            total: 4,
            untestable: 0,
            testable: 4,
            starttls: 4,
            pfs: 4,
            strict_valid: 2,
            all_three: 2,
            weak_tls: 0,
            ..Default::default()
        },
        tls_versions: BTreeMap::from([("TLSv1.3".to_string(), all_three)]),
        volume: None,
    }
}

/// Checks, for every variant of a vocabulary enum, that strum's name (`as_str`, via
/// `Into<&'static str>`) is the serde JSON name, and that the name reads back as the variant
/// through both strum's `FromStr` and serde: the two attributes cannot drift apart.
pub(crate) fn assert_names_agree<T>()
where
    T: strum::VariantArray
        + Copy
        + std::fmt::Debug
        + PartialEq
        + Into<&'static str>
        + std::str::FromStr
        + serde::Serialize
        + serde::de::DeserializeOwned,
    <T as std::str::FromStr>::Err: std::fmt::Debug,
{
    assert!(!T::VARIANTS.is_empty(), "{}", std::any::type_name::<T>());
    for &variant in T::VARIANTS {
        let name: &'static str = variant.into();
        let json = serde_json::to_value(variant).expect("serializes");
        assert_eq!(
            json,
            serde_json::Value::String(name.to_string()),
            "{variant:?}"
        );
        assert_eq!(name.parse::<T>().ok(), Some(variant), "{name} parses back");
        let from_json: T = serde_json::from_value(json).expect("deserializes");
        assert_eq!(from_json, variant, "{name} deserializes back");
    }
}

/// `result` with authenticated-transport facts, as a probe with DNSSEC data leaves it: the MX
/// answer secure, each MX host's `dane` from `dane` (in order; hosts beyond it keep theirs),
/// the domain's folded over its testable hosts, an MTA-STS outcome (`enforce_ok` marks every
/// host matched and passing, `mx_mismatch` the last host unmatched), and the sender view judged.
pub(crate) fn with_auth(
    mut result: super::DomainResult,
    dane: &[super::auth::DaneSetStatus],
    sts: super::auth::MtaStsOutcome,
) -> super::DomainResult {
    use super::auth::{DnssecStatus, MtaSts, MtaStsOutcome, StsMode, fold_dane};
    result.dnssec = Some(DnssecStatus::Secure);
    let host_count = result.mx.len();
    for (index, host) in result.mx.iter_mut().enumerate() {
        if let Some(status) = dane.get(index) {
            host.dane = Some(*status);
        }
        let (matched, passes) = match sts {
            MtaStsOutcome::EnforceOk => (Some(true), Some(true)),
            MtaStsOutcome::MxMismatch if index + 1 == host_count => (Some(false), Some(false)),
            MtaStsOutcome::MxMismatch | MtaStsOutcome::Testing => (Some(true), Some(true)),
            _ => (None, None),
        };
        host.sts_matched = matched;
        host.sts_passes = passes;
    }
    result.dane = fold_dane(
        result.dnssec,
        result
            .mx
            .iter()
            .filter(|host| host.verdict != Verdict::Untestable)
            .filter_map(|host| host.dane),
    );
    let mode = match sts {
        MtaStsOutcome::EnforceOk | MtaStsOutcome::MxMismatch | MtaStsOutcome::MxCertInvalid => {
            Some(StsMode::Enforce)
        }
        MtaStsOutcome::Testing => Some(StsMode::Testing),
        MtaStsOutcome::ModeNone => Some(StsMode::None),
        _ => None,
    };
    result.mta_sts = Some(MtaSts {
        outcome: sts,
        id: mode.map(|_| "20261201".to_string()),
        mode,
        max_age: mode.map(|_| 86_400),
        mx_patterns: mode.map(|_| vec![format!("mx.{}", result.domain.as_str())]),
        fetched_at: None,
        cached: false,
        failure: None,
        policy: None,
    });
    result.tls_rpt = Some(super::auth::TlsRpt {
        status: super::auth::TlsRptStatus::None,
        rua: Vec::new(),
        detail: None,
    });
    result.judge_sender();
    result
}
