//! The DANE matcher for SMTP (RFC 7672, RFC 7671): does the certificate chain a server presented
//! match its (DNSSEC-validated) TLSA records?
//!
//! Owns: record usability, DANE-EE and DANE-TA matching, the DANE-TA path check (rustls-webpki
//! with the matched certificate as the only trust anchor), the RFC 7672 §3.2.3 name check, and
//! the informational warnings about a record set. Must not touch: DNS (the caller looks the
//! TLSA RRset up and decides whether it is secure), the TLS session (the caller hands over the
//! chain as DER, from rustls or the OpenSSL fallback alike), or the domain verdicts.
//!
//! The caller maps a session that never presented a chain (no STARTTLS, failed handshake) to
//! `failed` itself when records exist; an empty chain given here is `failed` too.

use ring::digest;
use rustls::pki_types::{CertificateDer, UnixTime};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use super::tls::names_match;
pub use crate::model::auth::DaneWarning;
use crate::model::auth::{CertUsage, DaneStatus, MatchingType, TlsaRecord, TlsaSelector};

/// What checking one presented chain against a TLSA RRset found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaneCheck {
    /// `Valid`, `Failed`, `Unusable` (records, none usable for SMTP) or `None` (no records).
    pub status: DaneStatus,
    /// The record that matched (the first in RRset order that did), when `Valid`.
    pub matched: Option<TlsaRecord>,
    /// Why it failed, in words, when `Failed`.
    pub detail: Option<String>,
    /// Informational findings about the record set; they never change `status`.
    pub warnings: Vec<DaneWarning>,
}

/// Whether a record can authenticate an SMTP server: usage DANE-TA (2) or DANE-EE (3),
/// selector 0 or 1, matching type 0 (non-empty data), 1 (32 bytes) or 2 (64 bytes). PKIX-TA and
/// PKIX-EE (RFC 7672 §3.1.3), unassigned values and digests of the wrong length are unusable.
pub fn is_usable(record: &TlsaRecord) -> bool {
    let usage = matches!(record.usage, CertUsage::DaneTa | CertUsage::DaneEe);
    let selector = matches!(record.selector, TlsaSelector::FullCert | TlsaSelector::Spki);
    let data = match record.matching {
        MatchingType::Raw => !record.data.is_empty(),
        MatchingType::Sha256 => record.data.len() == 32,
        MatchingType::Sha512 => record.data.len() == 64,
        MatchingType::Unassigned(_) => false,
    };
    usage && selector && data
}

/// The warnings that follow from the record set alone ([`DaneWarning::NoRolloverKey`]).
pub fn record_warnings(records: &[TlsaRecord]) -> Vec<DaneWarning> {
    let usable: Vec<&TlsaRecord> = records.iter().filter(|record| is_usable(record)).collect();
    match usable.as_slice() {
        [lone] if lone.usage == CertUsage::DaneEe => vec![DaneWarning::NoRolloverKey],
        _ => Vec::new(),
    }
}

/// Checks the chain a server presented (`chain`, leaf first, as sent) against its TLSA RRset.
///
/// - DANE-EE (3): the leaf's full DER (selector 0) or SubjectPublicKeyInfo (1) matches; names
///   and dates are ignored (RFC 7672 §3.1.1).
/// - DANE-TA (2): a certificate at depth ≥ 1 of the presented chain matches, and the leaf has a
///   valid path to it (signatures, dates, serverAuth usage where an EKU is present, with the
///   matched certificate as the only trust anchor and the rest of the chain as intermediates),
///   and the leaf's name matches one of `reference_names` (RFC 7672 §3.2.3: DNS-ID SANs when the
///   certificate has a SAN extension, else its most specific CN; a wildcard only as the whole
///   left-most label, standing for one label).
///
/// `reference_names`: the TLSA base domain first, plus the MX host name when CNAME expansion
/// gave a different base domain; any match suffices. `now`: the time dates are checked at.
pub fn check_chain(
    records: &[TlsaRecord],
    chain: &[CertificateDer<'_>],
    reference_names: &[&str],
    now: UnixTime,
) -> DaneCheck {
    let mut check = DaneCheck {
        status: DaneStatus::None,
        matched: None,
        detail: None,
        warnings: record_warnings(records),
    };
    if records.is_empty() {
        return check;
    }
    let usable: Vec<&TlsaRecord> = records.iter().filter(|record| is_usable(record)).collect();
    if usable.is_empty() {
        check.status = DaneStatus::Unusable;
        return check;
    }
    check.status = DaneStatus::Failed;
    let Some(leaf) = chain.first() else {
        check.detail = Some("the server presented no certificate".to_string());
        return check;
    };
    let mut trust_anchor_failure = None;
    for record in usable {
        match record.usage {
            CertUsage::DaneEe => {
                if matches_certificate(record, leaf) {
                    check.status = DaneStatus::Valid;
                    check.matched = Some(record.clone());
                    return check;
                }
            }
            CertUsage::DaneTa => {
                for anchor in chain.iter().skip(1) {
                    if !matches_certificate(record, anchor) {
                        continue;
                    }
                    match trust_anchor_path(leaf, chain, anchor, reference_names, now) {
                        Ok(()) => {
                            if !is_self_issued(anchor) {
                                check.warnings.push(DaneWarning::TaPinnedToIntermediate);
                            }
                            check.status = DaneStatus::Valid;
                            check.matched = Some(record.clone());
                            return check;
                        }
                        Err(why) => {
                            trust_anchor_failure.get_or_insert(format!("{record}: {why}"));
                        }
                    }
                }
            }
            CertUsage::PkixTa | CertUsage::PkixEe | CertUsage::Unassigned(_) => {}
        }
    }
    check.detail =
        Some(trust_anchor_failure.unwrap_or_else(|| {
            "no TLSA record matches the presented certificate chain".to_string()
        }));
    check
}

/// Whether `record`'s selector and matching type, applied to `certificate`, give its data.
fn matches_certificate(record: &TlsaRecord, certificate: &CertificateDer<'_>) -> bool {
    let parsed;
    let selected: &[u8] = match record.selector {
        TlsaSelector::FullCert => certificate.as_ref(),
        TlsaSelector::Spki => {
            let Ok((_, certificate)) = X509Certificate::from_der(certificate.as_ref()) else {
                return false;
            };
            parsed = certificate;
            parsed.public_key().raw
        }
        TlsaSelector::Unassigned(_) => return false,
    };
    match record.matching {
        MatchingType::Raw => selected == record.data.as_slice(),
        MatchingType::Sha256 => digest::digest(&digest::SHA256, selected).as_ref() == record.data,
        MatchingType::Sha512 => digest::digest(&digest::SHA512, selected).as_ref() == record.data,
        MatchingType::Unassigned(_) => false,
    }
}

/// The DANE-TA checks below a matched anchor: a valid path from the leaf, then the name.
fn trust_anchor_path(
    leaf: &CertificateDer<'_>,
    chain: &[CertificateDer<'_>],
    anchor: &CertificateDer<'_>,
    reference_names: &[&str],
    now: UnixTime,
) -> Result<(), String> {
    let trust_anchor = webpki::anchor_from_trusted_cert(anchor)
        .map_err(|error| format!("the matched certificate is no usable trust anchor ({error})"))?;
    let end_entity = webpki::EndEntityCert::try_from(leaf)
        .map_err(|error| format!("the leaf certificate cannot be read ({error})"))?;
    end_entity
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &[trust_anchor],
            chain.get(1..).unwrap_or_default(),
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|error| path_failure(&error))?;
    let names = leaf_names(leaf);
    if reference_names
        .iter()
        .any(|reference| names_match(&names, reference))
    {
        Ok(())
    } else {
        Err(format!(
            "the leaf certificate's names ({}) do not match {}",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            },
            reference_names.join(" or ")
        ))
    }
}

/// Why no valid path leads from the leaf to the matched anchor, in words.
fn path_failure(error: &webpki::Error) -> String {
    match error {
        webpki::Error::CertExpired { .. } => {
            "a certificate below the trust anchor has expired".to_string()
        }
        webpki::Error::CertNotValidYet { .. } => {
            "a certificate below the trust anchor is not yet valid".to_string()
        }
        webpki::Error::UnknownIssuer => {
            "the leaf certificate has no path to the matched certificate".to_string()
        }
        webpki::Error::InvalidSignatureForPublicKey => {
            "a signature below the trust anchor does not verify".to_string()
        }
        other => format!("no valid path from the leaf to the matched certificate ({other})"),
    }
}

/// The names RFC 7672 §3.2.3 matches: the DNS-ID SANs when the certificate has a SAN
/// extension, else the most specific (last) subject CN. Nothing for an unreadable certificate.
fn leaf_names(leaf: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, certificate)) = X509Certificate::from_der(leaf.as_ref()) else {
        return Vec::new();
    };
    match certificate.subject_alternative_name() {
        Ok(Some(extension)) => extension
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::DNSName(dns) => Some((*dns).to_string()),
                _ => None,
            })
            .collect(),
        Ok(None) => certificate
            .subject()
            .iter_common_name()
            .filter_map(|common_name| common_name.as_str().ok())
            .last()
            .map(str::to_string)
            .into_iter()
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Issuer and subject are the same name (a root, or a self-signed leaf).
fn is_self_issued(certificate: &CertificateDer<'_>) -> bool {
    X509Certificate::from_der(certificate.as_ref()).is_ok_and(|(_, certificate)| {
        certificate.subject().as_raw() == certificate.issuer().as_raw()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
        ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, PublicKeyData,
    };
    use time::{Duration, OffsetDateTime};

    const MX: &str = "mx.example.org";

    fn sha256(bytes: &[u8]) -> Vec<u8> {
        digest::digest(&digest::SHA256, bytes).as_ref().to_vec()
    }

    fn sha512(bytes: &[u8]) -> Vec<u8> {
        digest::digest(&digest::SHA512, bytes).as_ref().to_vec()
    }

    fn ca_params(name: &str) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
    }

    fn root(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        CertifiedIssuer::self_signed(ca_params(name), KeyPair::generate().unwrap()).unwrap()
    }

    fn intermediate(
        name: &str,
        issuer: &CertifiedIssuer<'static, KeyPair>,
    ) -> CertifiedIssuer<'static, KeyPair> {
        CertifiedIssuer::signed_by(ca_params(name), KeyPair::generate().unwrap(), issuer).unwrap()
    }

    /// Leaf parameters for `sans`, valid from a day ago for 90 days unless `expired`.
    fn leaf_params(sans: &[&str], expired: bool) -> CertificateParams {
        let names: Vec<String> = sans.iter().map(|san| (*san).to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, sans.first().copied().unwrap_or("leaf"));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = OffsetDateTime::now_utc();
        (params.not_before, params.not_after) = if expired {
            (now - Duration::days(60), now - Duration::days(30))
        } else {
            (now - Duration::days(1), now + Duration::days(90))
        };
        params
    }

    /// A leaf signed by `issuer`, with its key pair.
    fn leaf_by(
        params: &CertificateParams,
        issuer: &CertifiedIssuer<'static, KeyPair>,
    ) -> (CertificateDer<'static>, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, issuer).unwrap();
        (certificate.der().clone(), key)
    }

    fn self_signed(sans: &[&str]) -> (CertificateDer<'static>, KeyPair) {
        let key = KeyPair::generate().unwrap();
        let certificate = leaf_params(sans, false).self_signed(&key).unwrap();
        (certificate.der().clone(), key)
    }

    fn check(records: &[TlsaRecord], chain: &[CertificateDer<'_>]) -> DaneCheck {
        check_chain(records, chain, &[MX], UnixTime::now())
    }

    fn record(usage: u8, selector: u8, matching: u8, data: Vec<u8>) -> TlsaRecord {
        TlsaRecord::new(usage, selector, matching, data)
    }

    #[test]
    fn dane_ee_matches_the_leaf_whatever_its_name_and_dates() {
        let (leaf, key) = self_signed(&["some.other.name"]);
        let spki = key.subject_public_key_info();
        let der = leaf.as_ref().to_vec();
        let chain = [leaf];
        for record in [
            record(3, 1, 1, sha256(&spki)),
            record(3, 0, 1, sha256(&der)),
            record(3, 1, 2, sha512(&spki)),
            record(3, 0, 2, sha512(&der)),
            record(3, 0, 0, der.clone()),
            record(3, 1, 0, spki.clone()),
        ] {
            let result = check(std::slice::from_ref(&record), &chain);
            assert_eq!(result.status, DaneStatus::Valid, "{record}: {result:?}");
            assert_eq!(result.matched, Some(record.clone()));
            assert_eq!(result.detail, None);
        }
        // Expired and for another name: DANE-EE does not care.
        let ca = root("Test Root");
        let (expired, key) = leaf_by(&leaf_params(&["elsewhere.example"], true), &ca);
        let result = check(
            &[record(3, 1, 1, sha256(&key.subject_public_key_info()))],
            &[expired],
        );
        assert_eq!(result.status, DaneStatus::Valid, "{result:?}");
    }

    #[test]
    fn a_record_that_matches_nothing_fails() {
        let (leaf, key) = self_signed(&[MX]);
        let (_, other_key) = self_signed(&[MX]);
        let wrong_key = record(3, 1, 1, sha256(&other_key.subject_public_key_info()));
        let result = check(
            std::slice::from_ref(&wrong_key),
            std::slice::from_ref(&leaf),
        );
        assert_eq!(result.status, DaneStatus::Failed);
        assert_eq!(result.matched, None);
        assert!(result.detail.unwrap().contains("no TLSA record matches"));
        // The right digest under the wrong selector or matching type does not match either.
        let spki_digest = sha256(&key.subject_public_key_info());
        let wrong_selector = record(3, 0, 1, spki_digest.clone());
        assert_eq!(
            check(&[wrong_selector], std::slice::from_ref(&leaf)).status,
            DaneStatus::Failed
        );
        // No chain at all.
        let right = record(3, 1, 1, spki_digest);
        let result = check(&[right], &[]);
        assert_eq!(result.status, DaneStatus::Failed);
        assert!(result.detail.unwrap().contains("no certificate"));
    }

    #[test]
    fn dane_ee_never_matches_a_certificate_below_the_leaf() {
        let ca = root("Test Root");
        let (leaf, _) = leaf_by(&leaf_params(&[MX], false), &ca);
        let record = record(3, 0, 1, sha256(ca.der()));
        assert_eq!(
            check(&[record], &[leaf, ca.der().clone()]).status,
            DaneStatus::Failed
        );
    }

    #[test]
    fn dane_ta_on_the_issuing_ca_is_valid() {
        let ca = root("Test Root");
        let (leaf, _) = leaf_by(&leaf_params(&[MX], false), &ca);
        let chain = [leaf, ca.der().clone()];
        let spki = ca.key().subject_public_key_info();
        for record in [
            record(2, 1, 1, sha256(&spki)),
            record(2, 0, 1, sha256(ca.der())),
            record(2, 0, 2, sha512(ca.der())),
            record(2, 1, 0, spki.clone()),
        ] {
            let result = check(std::slice::from_ref(&record), &chain);
            assert_eq!(result.status, DaneStatus::Valid, "{record}: {result:?}");
            assert_eq!(result.matched, Some(record.clone()));
            assert_eq!(result.warnings, Vec::new(), "a root is no intermediate");
        }
    }

    #[test]
    fn dane_ta_names_follow_rfc_7672() {
        let ca = root("Test Root");
        let ta = record(2, 0, 1, sha256(ca.der()));
        let chain_for = |sans: &[&str]| {
            let (leaf, _) = leaf_by(&leaf_params(sans, false), &ca);
            vec![leaf, ca.der().clone()]
        };
        let status = |chain: &[CertificateDer<'_>], names: &[&str]| {
            check_chain(std::slice::from_ref(&ta), chain, names, UnixTime::now()).status
        };
        // Wrong name: failed, and the detail says so.
        let other = chain_for(&["other.example.org"]);
        let result = check_chain(std::slice::from_ref(&ta), &other, &[MX], UnixTime::now());
        assert_eq!(result.status, DaneStatus::Failed);
        let detail = result.detail.unwrap();
        assert!(detail.contains("do not match mx.example.org"), "{detail}");
        assert!(detail.starts_with("2 0 1 "), "{detail}");
        // Case-insensitive, trailing dots ignored.
        assert_eq!(
            status(&chain_for(&["MX.Example.ORG"]), &["mx.example.org."]),
            DaneStatus::Valid
        );
        // A wildcard stands for exactly one left-most label.
        let wildcard = chain_for(&["*.example.org"]);
        assert_eq!(status(&wildcard, &[MX]), DaneStatus::Valid);
        assert_eq!(status(&wildcard, &["a.mx.example.org"]), DaneStatus::Failed);
        assert_eq!(status(&wildcard, &["example.org"]), DaneStatus::Failed);
        // Any reference name will do (TLSA base domain after CNAME expansion, or the MX name).
        let cname_target = chain_for(&["mail.provider.example"]);
        assert_eq!(
            status(&cname_target, &["mail.provider.example", MX]),
            DaneStatus::Valid
        );
        assert_eq!(status(&cname_target, &[MX]), DaneStatus::Failed);
    }

    #[test]
    fn dane_ta_falls_back_to_the_common_name_only_without_a_san_extension() {
        let ca = root("Test Root");
        let ta = record(2, 0, 1, sha256(ca.der()));
        let mut without_san = leaf_params(&[], false);
        without_san.subject_alt_names = Vec::new();
        without_san.distinguished_name = DistinguishedName::new();
        without_san.distinguished_name.push(DnType::CommonName, MX);
        let (leaf, _) = leaf_by(&without_san, &ca);
        let result = check(std::slice::from_ref(&ta), &[leaf, ca.der().clone()]);
        assert_eq!(result.status, DaneStatus::Valid, "{result:?}");
        // With a SAN extension, the CN is not looked at.
        let mut san_elsewhere = leaf_params(&["other.example.org"], false);
        san_elsewhere.distinguished_name = DistinguishedName::new();
        san_elsewhere
            .distinguished_name
            .push(DnType::CommonName, MX);
        let (leaf, _) = leaf_by(&san_elsewhere, &ca);
        let result = check(std::slice::from_ref(&ta), &[leaf, ca.der().clone()]);
        assert_eq!(result.status, DaneStatus::Failed, "{result:?}");
    }

    #[test]
    fn dane_ta_checks_dates_below_the_anchor() {
        let ca = root("Test Root");
        let (expired, _) = leaf_by(&leaf_params(&[MX], true), &ca);
        let ta = record(2, 0, 1, sha256(ca.der()));
        let result = check(&[ta], &[expired, ca.der().clone()]);
        assert_eq!(result.status, DaneStatus::Failed);
        assert!(result.detail.unwrap().contains("expired"));
    }

    #[test]
    fn dane_ta_needs_the_anchor_in_the_presented_chain() {
        let ca = root("Test Root");
        let other_ca = root("Other Root");
        let (leaf, _) = leaf_by(&leaf_params(&[MX], false), &ca);
        // The record names a CA the server did not send.
        let absent = record(2, 0, 1, sha256(other_ca.der()));
        assert_eq!(
            check(
                std::slice::from_ref(&absent),
                &[leaf.clone(), ca.der().clone()]
            )
            .status,
            DaneStatus::Failed
        );
        // Sent, but it did not issue the leaf: it matches, yet there is no path.
        let unrelated = check(
            std::slice::from_ref(&absent),
            &[leaf.clone(), other_ca.der().clone()],
        );
        assert_eq!(unrelated.status, DaneStatus::Failed);
        assert!(unrelated.detail.unwrap().contains("no path"));
        // The issuing CA's record, but the server sent only the leaf.
        let issuing = record(2, 0, 1, sha256(ca.der()));
        assert_eq!(check(&[issuing], &[leaf]).status, DaneStatus::Failed);
    }

    #[test]
    fn dane_ta_never_matches_the_leaf_itself() {
        let (leaf, _) = self_signed(&[MX]);
        let on_leaf = record(2, 0, 1, sha256(&leaf));
        assert_eq!(check(&[on_leaf], &[leaf]).status, DaneStatus::Failed);
    }

    #[test]
    fn dane_ta_on_an_intermediate_is_valid_with_a_warning() {
        let ca = root("Test Root");
        let issuing = intermediate("Test Intermediate", &ca);
        let (leaf, _) = leaf_by(&leaf_params(&[MX], false), &issuing);
        let chain = [leaf, issuing.der().clone(), ca.der().clone()];
        let on_intermediate = record(2, 1, 1, sha256(&issuing.key().subject_public_key_info()));
        let result = check(std::slice::from_ref(&on_intermediate), &chain);
        assert_eq!(result.status, DaneStatus::Valid, "{result:?}");
        assert_eq!(result.warnings, vec![DaneWarning::TaPinnedToIntermediate]);
        // Pinned to the root above it instead: valid through the intermediate, no warning.
        let on_root = record(2, 0, 1, sha256(ca.der()));
        let result = check(std::slice::from_ref(&on_root), &chain);
        assert_eq!(result.status, DaneStatus::Valid, "{result:?}");
        assert_eq!(result.warnings, Vec::new());
        // The root's record, but the server left the intermediate out: no path.
        let short = [chain[0].clone(), ca.der().clone()];
        assert_eq!(check(&[on_root], &short).status, DaneStatus::Failed);
    }

    #[test]
    fn pkix_and_unassigned_records_are_unusable() {
        let (leaf, key) = self_signed(&[MX]);
        let digest = sha256(&key.subject_public_key_info());
        let unusable = [
            record(0, 1, 1, digest.clone()),
            record(1, 1, 1, digest.clone()),
            record(4, 1, 1, digest.clone()),
            record(3, 2, 1, digest.clone()),
            record(3, 1, 3, digest.clone()),
            // Digests of the wrong length, empty raw data.
            record(3, 1, 1, digest[..31].to_vec()),
            record(3, 1, 2, digest.clone()),
            record(3, 1, 0, Vec::new()),
        ];
        for record in &unusable {
            assert!(!is_usable(record), "{record}");
        }
        let result = check(&unusable, std::slice::from_ref(&leaf));
        assert_eq!(result.status, DaneStatus::Unusable);
        assert_eq!((result.matched, result.detail), (None, None));
        assert_eq!(result.warnings, Vec::new());
        // Beside one usable record, unusable ones are skipped.
        let mut mixed = unusable.to_vec();
        mixed.push(record(3, 1, 1, digest));
        let result = check(&mixed, &[leaf]);
        assert_eq!(result.status, DaneStatus::Valid);
        assert_eq!(result.warnings, vec![DaneWarning::NoRolloverKey]);
    }

    #[test]
    fn no_records_is_none() {
        let (leaf, _) = self_signed(&[MX]);
        let result = check(&[], &[leaf]);
        assert_eq!(result.status, DaneStatus::None);
        assert_eq!(result.warnings, Vec::new());
    }

    #[test]
    fn rollover_pair_reports_the_record_that_matched() {
        let (leaf, key) = self_signed(&[MX]);
        let (_, next_key) = self_signed(&[MX]);
        let current = record(3, 1, 1, sha256(&key.subject_public_key_info()));
        let next = record(3, 1, 1, sha256(&next_key.subject_public_key_info()));
        let result = check(
            &[next.clone(), current.clone()],
            std::slice::from_ref(&leaf),
        );
        assert_eq!(result.status, DaneStatus::Valid);
        assert_eq!(result.matched, Some(current.clone()));
        assert_eq!(result.warnings, Vec::new(), "a second key is published");
        // A lone 3 1 1: valid, with the warning.
        let result = check(std::slice::from_ref(&current), &[leaf]);
        assert_eq!(result.status, DaneStatus::Valid);
        assert_eq!(result.warnings, vec![DaneWarning::NoRolloverKey]);
    }

    #[test]
    fn a_failing_ta_record_does_not_hide_a_matching_ee_record() {
        let ca = root("Test Root");
        let (leaf, key) = leaf_by(&leaf_params(&["other.example.org"], false), &ca);
        let ta = record(2, 0, 1, sha256(ca.der()));
        let ee = record(3, 1, 1, sha256(&key.subject_public_key_info()));
        let result = check(&[ta, ee.clone()], &[leaf, ca.der().clone()]);
        assert_eq!(result.status, DaneStatus::Valid);
        assert_eq!(result.matched, Some(ee));
    }

    #[test]
    fn record_warnings_only_for_a_lone_dane_ee_record() {
        let digest = vec![0; 32];
        let lone_ee = [record(3, 1, 1, digest.clone())];
        assert_eq!(record_warnings(&lone_ee), vec![DaneWarning::NoRolloverKey]);
        let lone_full = [record(3, 0, 1, digest.clone())];
        assert_eq!(
            record_warnings(&lone_full),
            vec![DaneWarning::NoRolloverKey]
        );
        let with_pkix = [
            record(3, 1, 1, digest.clone()),
            record(1, 1, 1, digest.clone()),
        ];
        assert_eq!(
            record_warnings(&with_pkix),
            vec![DaneWarning::NoRolloverKey]
        );
        let pair = [
            record(3, 1, 1, digest.clone()),
            record(3, 1, 1, vec![1; 32]),
        ];
        assert_eq!(record_warnings(&pair), Vec::new());
        let lone_ta = [record(2, 1, 1, digest)];
        assert_eq!(record_warnings(&lone_ta), Vec::new());
    }
}
