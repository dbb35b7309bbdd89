//! How strong a finished TLS session is, graded the way NCSC-NL's TLS guidelines v2.1 grade it
//! (DESIGN.md "Grading a TLS session"): the version, the key exchange and the cipher suite each
//! get a grade and the worst of the three wins; a suite the table does not list is insufficient.
//!
//! Owns: [`TlsGrade`], the suite table [`SUITES`], [`grade_session`] and grading stored
//! results again from their recorded facts ([`regrade`]). Must not touch: anything but the
//! grading rule (no I/O; the probe records the session facts it grades).

use super::vocabulary::vocabulary;
use super::{AddressResult, DomainResult, Outcome, TlsVersion, Verdict};

vocabulary! {
    /// NCSC-NL's grade of a TLS session, best first (the JSON names are the serde names).
    pub enum TlsGrade {
        /// Good: nothing to do.
        Good,
        /// Sufficient: acceptable today.
        Sufficient,
        /// Phase out: still works, to be replaced.
        PhaseOut,
        /// Insufficient: not secure.
        Insufficient,
    }
}

impl TlsGrade {
    /// Every grade, best first (the legend's order).
    pub const ALL: [TlsGrade; 4] = [
        TlsGrade::Good,
        TlsGrade::Sufficient,
        TlsGrade::PhaseOut,
        TlsGrade::Insufficient,
    ];

    /// Rank for "worst of": lower is worse.
    pub fn rank(self) -> u8 {
        match self {
            TlsGrade::Insufficient => 0,
            TlsGrade::PhaseOut => 1,
            TlsGrade::Sufficient => 2,
            TlsGrade::Good => 3,
        }
    }

    /// The worse of two grades.
    pub fn worse(self, other: TlsGrade) -> TlsGrade {
        if other.rank() < self.rank() {
            other
        } else {
            self
        }
    }

    /// The worst of some grades; None when there are none.
    pub fn worst(grades: impl IntoIterator<Item = TlsGrade>) -> Option<TlsGrade> {
        grades.into_iter().min_by_key(|grade| grade.rank())
    }

    /// "Weak TLS": below sufficient (phase out or insufficient).
    pub fn is_weak(self) -> bool {
        self.rank() < TlsGrade::Sufficient.rank()
    }

    /// Words for people: `good`, `sufficient`, `phase out`, `insufficient`.
    pub fn label(self) -> &'static str {
        match self {
            TlsGrade::Good => "good",
            TlsGrade::Sufficient => "sufficient",
            TlsGrade::PhaseOut => "phase out",
            TlsGrade::Insufficient => "insufficient",
        }
    }
}

/// The suite table (IANA names, as rustls and OpenSSL give them): NCSC-NL TLS guidelines v2.1.
/// Every suite not listed is insufficient. README "TLS grade" carries the same table.
pub const SUITES: &[(&str, TlsGrade)] = &[
    // TLS 1.3
    ("TLS_AES_256_GCM_SHA384", TlsGrade::Good),
    ("TLS_CHACHA20_POLY1305_SHA256", TlsGrade::Good),
    ("TLS_AES_128_GCM_SHA256", TlsGrade::Good),
    ("TLS_AES_128_CCM_SHA256", TlsGrade::Sufficient),
    // TLS 1.2 and older: ECDHE with AEAD
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", TlsGrade::Good),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        TlsGrade::Good,
    ),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", TlsGrade::Good),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", TlsGrade::Good),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        TlsGrade::Good,
    ),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", TlsGrade::Good),
    // ECDHE with AES-CBC
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        TlsGrade::Sufficient,
    ),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", TlsGrade::Sufficient),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        TlsGrade::Sufficient,
    ),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", TlsGrade::Sufficient),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        TlsGrade::Sufficient,
    ),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", TlsGrade::Sufficient),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        TlsGrade::Sufficient,
    ),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", TlsGrade::Sufficient),
    // DHE
    ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", TlsGrade::Sufficient),
    (
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        TlsGrade::Sufficient,
    ),
    ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", TlsGrade::Sufficient),
    ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", TlsGrade::Sufficient),
    ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", TlsGrade::Sufficient),
    ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", TlsGrade::Sufficient),
    ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", TlsGrade::Sufficient),
    // 3DES
    ("TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", TlsGrade::PhaseOut),
    ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", TlsGrade::PhaseOut),
    ("TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", TlsGrade::PhaseOut),
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", TlsGrade::PhaseOut),
    // RSA key exchange
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", TlsGrade::PhaseOut),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", TlsGrade::PhaseOut),
    ("TLS_RSA_WITH_AES_256_CBC_SHA256", TlsGrade::PhaseOut),
    ("TLS_RSA_WITH_AES_256_CBC_SHA", TlsGrade::PhaseOut),
    ("TLS_RSA_WITH_AES_128_CBC_SHA256", TlsGrade::PhaseOut),
    ("TLS_RSA_WITH_AES_128_CBC_SHA", TlsGrade::PhaseOut),
];

/// The version's grade: 1.3 good, 1.2 sufficient, 1.1 and 1.0 phase out, SSL insufficient.
pub fn grade_version(version: TlsVersion) -> TlsGrade {
    match version {
        TlsVersion::Tls13 => TlsGrade::Good,
        TlsVersion::Tls12 => TlsGrade::Sufficient,
        TlsVersion::Tls11 | TlsVersion::Tls10 => TlsGrade::PhaseOut,
        TlsVersion::Ssl3 => TlsGrade::Insufficient,
    }
}

/// The suite's grade from [`SUITES`]; unlisted suites are insufficient.
pub fn grade_suite(suite: &str) -> TlsGrade {
    SUITES
        .iter()
        .find(|(name, _)| *name == suite)
        .map_or(TlsGrade::Insufficient, |(_, grade)| *grade)
}

/// The RFC 7919 finite-field groups, as rustls names them.
const RFC7919_GROUPS: [&str; 5] = [
    "ffdhe2048",
    "ffdhe3072",
    "ffdhe4096",
    "ffdhe6144",
    "ffdhe8192",
];

/// The key exchange's grade. TLS 1.3 is always ephemeral: an `ffdhe*` group (or OpenSSL's
/// `DH <bits>`) is DHE, any other group ECDHE. Before 1.3 the suite name tells: `TLS_ECDHE_`
/// good, `TLS_DHE_` DHE, `TLS_RSA_` phase out, anything else (static ECDH/DH, anonymous,
/// PSK, …) insufficient. DHE: an RFC 7919 group sufficient; a group we can't name (OpenSSL
/// gives only `DH <bits>`) by its size: 3072 bits or more sufficient, 2048 up to 3072 phase out,
/// smaller insufficient, no size known phase out.
pub fn grade_key_exchange(version: TlsVersion, suite: &str, group: Option<&str>) -> TlsGrade {
    let is_dhe_group = |group: &str| group.starts_with("ffdhe") || group.starts_with("DH ");
    let dhe = |group: Option<&str>| match group {
        Some(name) if RFC7919_GROUPS.contains(&name) => TlsGrade::Sufficient,
        Some(name) => match name
            .strip_prefix("DH ")
            .and_then(|bits| bits.trim().parse::<u32>().ok())
        {
            Some(bits) if bits >= 3072 => TlsGrade::Sufficient,
            Some(bits) if bits >= 2048 => TlsGrade::PhaseOut,
            Some(_) => TlsGrade::Insufficient,
            None => TlsGrade::PhaseOut,
        },
        None => TlsGrade::PhaseOut,
    };
    if version == TlsVersion::Tls13 {
        return match group {
            Some(name) if is_dhe_group(name) => dhe(group),
            _ => TlsGrade::Good,
        };
    }
    if suite.starts_with("TLS_ECDHE_") {
        TlsGrade::Good
    } else if suite.starts_with("TLS_DHE_") {
        dhe(group)
    } else if suite.starts_with("TLS_RSA_") {
        TlsGrade::PhaseOut
    } else {
        TlsGrade::Insufficient
    }
}

/// The session's grade: the worst of version, key exchange and suite.
pub fn grade_session(version: TlsVersion, suite: &str, group: Option<&str>) -> TlsGrade {
    grade_version(version)
        .worse(grade_key_exchange(version, suite, group))
        .worse(grade_suite(suite))
}

/// An address's grade from its recorded session facts (version, suite, group), by the table
/// of this build; None without a completed session or when a fact was not recorded.
pub fn grade_of_address(address: &AddressResult) -> Option<TlsGrade> {
    match (
        address.outcome,
        address.tls_version,
        address.cipher_suite.as_deref(),
    ) {
        (Outcome::TlsOk, Some(version), Some(suite)) => {
            Some(grade_session(version, suite, address.kx_group.as_deref()))
        }
        _ => None,
    }
}

/// The worst grade over `addresses` whose session completed ([`grade_of_address`]): a host's
/// or a domain's `tls_grade` (the `aggregate` rule), from recorded facts.
pub fn grade_of_addresses<'a>(
    addresses: impl IntoIterator<Item = &'a AddressResult>,
) -> Option<TlsGrade> {
    TlsGrade::worst(addresses.into_iter().filter_map(grade_of_address))
}

/// A domain result's `tls_grade` from its recorded facts: the worst over all its addresses;
/// None for a null MX.
pub fn grade_of_domain(result: &DomainResult) -> Option<TlsGrade> {
    match result.verdict {
        Verdict::NoMail => None,
        _ => grade_of_addresses(result.mx.iter().flat_map(|host| host.addresses.iter())),
    }
}

/// Grades a result again from its stored facts: every address ([`grade_of_address`]), then
/// the domain's worst (the `aggregate` rule), its `last_known` result too. The store calls
/// this on every result it reads, so a result stored before grading existed, or under an older
/// suite table, shows the grade this build gives the same measured session; the grade is
/// never trusted from storage.
pub fn regrade(result: &mut DomainResult) {
    for address in result
        .mx
        .iter_mut()
        .flat_map(|host| host.addresses.iter_mut())
    {
        address.tls_grade = grade_of_address(address);
    }
    result.tls_grade = grade_of_domain(result);
    if let Some(known) = result.last_known.as_deref_mut() {
        regrade(known);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TlsGrade::{Good, Insufficient, PhaseOut, Sufficient};
    use TlsVersion::{Ssl3, Tls10, Tls11, Tls12, Tls13};

    #[test]
    fn names_are_the_serde_names_and_ranks_go_worst_first() {
        assert_eq!(PhaseOut.as_str(), "phase_out");
        assert_eq!(
            serde_json::to_value(Insufficient).expect("serializes"),
            "insufficient"
        );
        assert_eq!("sufficient".parse::<TlsGrade>(), Ok(Sufficient));
        assert_eq!(PhaseOut.label(), "phase out");
        let mut ranked = TlsGrade::ALL;
        ranked.sort_by_key(|grade| grade.rank());
        assert_eq!(ranked, [Insufficient, PhaseOut, Sufficient, Good]);
        assert_eq!(Good.worse(PhaseOut), PhaseOut);
        assert_eq!(Insufficient.worse(Good), Insufficient);
        assert_eq!(TlsGrade::worst([Good, Sufficient, Good]), Some(Sufficient));
        assert_eq!(TlsGrade::worst([]), None);
        assert!(PhaseOut.is_weak() && Insufficient.is_weak());
        assert!(!Sufficient.is_weak() && !Good.is_weak());
    }

    #[test]
    fn versions() {
        for (version, grade) in [
            (Tls13, Good),
            (Tls12, Sufficient),
            (Tls11, PhaseOut),
            (Tls10, PhaseOut),
            (Ssl3, Insufficient),
        ] {
            assert_eq!(grade_version(version), grade, "{version:?}");
        }
    }

    #[test]
    fn the_suite_table_suite_by_suite() {
        let expected = [
            ("TLS_AES_256_GCM_SHA384", Good),
            ("TLS_CHACHA20_POLY1305_SHA256", Good),
            ("TLS_AES_128_GCM_SHA256", Good),
            ("TLS_AES_128_CCM_SHA256", Sufficient),
            ("TLS_AES_128_CCM_8_SHA256", Insufficient),
            ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", Good),
            ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", Good),
            ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", Good),
            ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", Good),
            ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Good),
            ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Good),
            ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", Sufficient),
            ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", Sufficient),
            ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", Sufficient),
            ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", Sufficient),
            ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", Sufficient),
            ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", Sufficient),
            ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", Sufficient),
            ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", Sufficient),
            ("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", Sufficient),
            ("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Sufficient),
            ("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", Sufficient),
            ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", Sufficient),
            ("TLS_DHE_RSA_WITH_AES_256_CBC_SHA", Sufficient),
            ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", Sufficient),
            ("TLS_DHE_RSA_WITH_AES_128_CBC_SHA", Sufficient),
            ("TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", PhaseOut),
            ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", PhaseOut),
            ("TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", PhaseOut),
            ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", PhaseOut),
            ("TLS_RSA_WITH_AES_256_GCM_SHA384", PhaseOut),
            ("TLS_RSA_WITH_AES_128_GCM_SHA256", PhaseOut),
            ("TLS_RSA_WITH_AES_256_CBC_SHA256", PhaseOut),
            ("TLS_RSA_WITH_AES_256_CBC_SHA", PhaseOut),
            ("TLS_RSA_WITH_AES_128_CBC_SHA256", PhaseOut),
            ("TLS_RSA_WITH_AES_128_CBC_SHA", PhaseOut),
            // Not listed: insufficient.
            ("TLS_RSA_WITH_RC4_128_SHA", Insufficient),
            ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", Insufficient),
            ("TLS_RSA_WITH_NULL_SHA256", Insufficient),
            ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", Insufficient),
            ("TLS_DH_anon_WITH_AES_128_CBC_SHA", Insufficient),
            ("TLS_RSA_WITH_DES_CBC_SHA", Insufficient),
            ("TLS_DHE_DSS_WITH_AES_128_CBC_SHA", Insufficient),
            ("TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", Insufficient),
            ("0x1234", Insufficient),
        ];
        for (suite, grade) in expected {
            assert_eq!(grade_suite(suite), grade, "{suite}");
        }
        // The table and this test list the same suites.
        for (suite, _) in SUITES {
            assert!(
                expected.iter().any(|(name, _)| name == suite),
                "{suite} untested"
            );
        }
    }

    #[test]
    fn the_readme_table_is_this_table() {
        let readme = include_str!("../../README.md");
        let rows: Vec<(&str, &str)> = readme
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split_once("` | "))
            .filter(|(suite, _)| suite.starts_with("TLS_"))
            .map(|(suite, grade)| (suite, grade.trim_end_matches(" |")))
            .collect();
        let table: Vec<(&str, &str)> = SUITES
            .iter()
            .map(|(suite, grade)| (*suite, grade.label()))
            .collect();
        assert_eq!(rows, table);
    }

    #[test]
    fn key_exchange() {
        let cases = [
            (Tls13, "TLS_AES_128_GCM_SHA256", Some("X25519"), Good),
            (
                Tls13,
                "TLS_AES_128_GCM_SHA256",
                Some("X25519MLKEM768"),
                Good,
            ),
            (Tls13, "TLS_AES_128_GCM_SHA256", None, Good),
            (
                Tls13,
                "TLS_AES_128_GCM_SHA256",
                Some("ffdhe3072"),
                Sufficient,
            ),
            (
                Tls12,
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                Some("secp256r1"),
                Good,
            ),
            (
                Tls12,
                "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                Some("ffdhe2048"),
                Sufficient,
            ),
            (
                Tls12,
                "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                Some("DH 4096"),
                Sufficient,
            ),
            (
                Tls12,
                "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                Some("DH 2048"),
                PhaseOut,
            ),
            (
                Tls12,
                "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
                Some("DH 1024"),
                Insufficient,
            ),
            (Tls12, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", None, PhaseOut),
            (Tls12, "TLS_RSA_WITH_AES_128_GCM_SHA256", None, PhaseOut),
            (
                Tls12,
                "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
                None,
                Insufficient,
            ),
            (
                Tls12,
                "TLS_DH_anon_WITH_AES_128_CBC_SHA",
                None,
                Insufficient,
            ),
        ];
        for (version, suite, group, grade) in cases {
            assert_eq!(
                grade_key_exchange(version, suite, group),
                grade,
                "{suite} {group:?}"
            );
        }
    }

    #[test]
    fn the_worst_of_the_three_wins() {
        let cases = [
            (Tls13, "TLS_AES_256_GCM_SHA384", Some("X25519"), Good),
            (Tls13, "TLS_AES_128_CCM_SHA256", Some("X25519"), Sufficient),
            (
                Tls13,
                "TLS_AES_128_CCM_8_SHA256",
                Some("X25519"),
                Insufficient,
            ),
            (
                Tls12,
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                Some("X25519"),
                Sufficient,
            ),
            (Tls12, "TLS_RSA_WITH_AES_256_GCM_SHA384", None, PhaseOut),
            (
                Tls12,
                "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
                Some("DH 1024"),
                Insufficient,
            ),
            (
                Tls10,
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                Some("secp256r1"),
                PhaseOut,
            ),
            (Tls12, "TLS_RSA_WITH_RC4_128_SHA", None, Insufficient),
            (
                Ssl3,
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                Some("secp256r1"),
                Insufficient,
            ),
        ];
        for (version, suite, group, grade) in cases {
            assert_eq!(
                grade_session(version, suite, group),
                grade,
                "{version:?} {suite}"
            );
        }
    }

    #[test]
    fn a_stored_result_is_graded_again_from_its_recorded_facts() {
        use crate::model::DomainName;
        use crate::model::test_support::{address, mx_host};
        let mut cbc = address(Outcome::TlsOk, false, true);
        cbc.tls_version = Some(TlsVersion::Tls10);
        cbc.cipher_suite = Some("TLS_RSA_WITH_AES_128_CBC_SHA".to_string());
        // Stored before grading existed: no grade recorded, the facts are there.
        cbc.tls_grade = None;
        let mut plain = address(Outcome::NoStarttls, false, false);
        plain.tls_grade = Some(TlsGrade::Good);
        let domain = DomainName::parse("old.example").expect("valid");
        let at = time::OffsetDateTime::UNIX_EPOCH;
        let mut result = DomainResult::new(
            domain.clone(),
            false,
            None,
            at,
            vec![mx_host("mx.old.example", vec![cbc])],
        );
        let mut known = result.clone();
        result.tls_grade = Some(TlsGrade::Good);
        known.tls_grade = None;
        result.last_known = Some(Box::new(known));
        regrade(&mut result);
        assert_eq!(result.tls_grade, Some(TlsGrade::PhaseOut));
        assert_eq!(
            result.mx[0].addresses[0].tls_grade,
            Some(TlsGrade::PhaseOut)
        );
        assert_eq!(
            result.last_known.as_ref().and_then(|known| known.tls_grade),
            Some(TlsGrade::PhaseOut),
            "the last known result too"
        );
        let mut no_tls = DomainResult::new(
            domain,
            false,
            None,
            at,
            vec![mx_host("mx.old.example", vec![plain])],
        );
        regrade(&mut no_tls);
        assert_eq!(
            (no_tls.tls_grade, no_tls.mx[0].addresses[0].tls_grade),
            (None, None),
            "a grade without a session is not kept"
        );
    }
}
