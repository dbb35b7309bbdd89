//! Test-only builders of model values, shared by the unit tests of `model` and of its users.
//!
//! Owns: nothing the program uses (compiled for tests only). Must not touch: I/O.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use time::Date;

use super::adoption::{HostTrendCounts, TrendCounts, TrendPoint};
use super::{AddressResult, MxResult, Outcome, Reason, Verdict, aggregate};

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
    MxResult {
        host: name.to_string(),
        preference: 10,
        implicit: false,
        cname_target: None,
        dns_error: None,
        verdict: if addresses.is_empty() {
            Verdict::Untestable
        } else {
            aggregate(&addresses).verdict
        },
        addresses,
        sts_matched: None,
        sts_passes: None,
        tls_rpt: None,
        dnssec: None,
        tlsa: None,
        tlsa_dnssec: None,
        dane: None,
        dane_warnings: Vec::new(),
    }
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
