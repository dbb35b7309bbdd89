//! Fuzzes certificate parsing and the strict verdict (`probe::tls`): what a hostile server may
//! present as its chain.
//!
//! Input: DER. When it holds two DER structures back to back, the first is the leaf and the rest
//! is the next certificate of the chain (an issuer); otherwise the whole input is the leaf. So a
//! real certificate, or a leaf followed by its CA, is a good seed.
//!
//! Checks, for the MX host `mx.example.test` at a fixed moment, against the Mozilla roots only:
//! - nothing made up is ever strictly valid, and WebPKI never accepts it;
//! - not strictly valid always comes with at least one reason; reasons are sorted and unique;
//! - unparseable leaves give `bad_encoding` and no details;
//! - the details are storable (JSON round trip), the fingerprint is 64 hex digits of the leaf;
//! - date and name reasons agree with the details shown next to them (an issuer out of date
//!   may add a date reason to a longer chain).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rustls_pki_types::CertificateDer;
use starttls_monitor::model::{CertDetails, CertError};
use starttls_monitor::probe::tls::{TlsSetup, names_match};
use time::OffsetDateTime;

const MX_HOST: &str = "mx.example.test";

fn setup() -> &'static TlsSetup {
    static SETUP: OnceLock<TlsSetup> = OnceLock::new();
    SETUP.get_or_init(|| TlsSetup::new(&[]).expect("the Mozilla roots load"))
}

fuzz_target!(|data: &[u8]| {
    // 2026-12-01 00:00 UTC: fixed, so a finding replays the same way.
    let Ok(now) = OffsetDateTime::from_unix_timestamp(1_796_083_200) else {
        return;
    };
    let chain: Vec<CertificateDer<'static>> = match der_length(data) {
        Some(length) if length < data.len() => vec![
            CertificateDer::from(data[..length].to_vec()),
            CertificateDer::from(data[length..].to_vec()),
        ],
        _ => vec![CertificateDer::from(data.to_vec())],
    };
    let recorded = setup().record_chain(chain, MX_HOST, now);
    assert!(recorded.webpki.is_err(), "WebPKI accepted a made-up chain");
    let assessment = setup().assess(&recorded, MX_HOST, now);
    assert!(
        !assessment.strict_valid,
        "a made-up chain is strictly valid: {assessment:?}"
    );
    assert!(
        !assessment.errors.is_empty(),
        "not valid, but no reason: {assessment:?}"
    );
    assert!(
        assessment.errors.windows(2).all(|pair| pair[0] < pair[1]),
        "reasons not sorted and unique: {:?}",
        assessment.errors
    );
    let Some(details) = &assessment.details else {
        assert_eq!(assessment.errors, vec![CertError::BadEncoding]);
        return;
    };
    check_details(details, &recorded.chain[0]);
    // The leaf's dates decide these reasons; an issuer out of date may add them too.
    let alone = recorded.chain.len() == 1;
    let expired = assessment.errors.contains(&CertError::Expired);
    let past_not_after = now > details.not_after;
    assert!(
        expired == past_not_after || (expired && !alone),
        "expired: {expired}, but not_after is {}",
        details.not_after
    );
    let not_yet_valid = assessment.errors.contains(&CertError::NotYetValid);
    let before_not_before = now < details.not_before;
    assert!(
        not_yet_valid == before_not_before || (not_yet_valid && !alone),
        "not yet valid: {not_yet_valid}, but not_before is {}",
        details.not_before
    );
    if names_match(&details.sans, MX_HOST) {
        assert!(
            !assessment.errors.contains(&CertError::NameMismatch),
            "name mismatch, but a SAN matches: {:?}",
            details.sans
        );
    } else {
        assert!(
            assessment.errors.contains(&CertError::NameMismatch),
            "no SAN matches, but no name mismatch: {:?}",
            details.sans
        );
    }
});

/// The length of the DER TLV at the start of `data`, when its header is well-formed.
fn der_length(data: &[u8]) -> Option<usize> {
    let (&first_length_byte, rest) = data.get(1..)?.split_first()?;
    if first_length_byte < 0x80 {
        return Some(2 + usize::from(first_length_byte));
    }
    let count = usize::from(first_length_byte & 0x7f);
    if count == 0 || count > 3 {
        return None;
    }
    let bytes = rest.get(..count)?;
    let length = bytes
        .iter()
        .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
    Some(2 + count + length)
}

fn check_details(details: &CertDetails, leaf: &CertificateDer<'_>) {
    assert_eq!(details.sha256.len(), 64);
    assert!(
        details
            .sha256
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)),
        "fingerprint {}",
        details.sha256
    );
    assert!(!leaf.as_ref().is_empty());
    assert!(!details.key.is_empty(), "no key description");
    // Results (details included) are stored and exported as JSON: they must survive the trip.
    let json = serde_json::to_string(details).unwrap_or_else(|error| {
        panic!("details cannot be stored: {error}: {details:?}");
    });
    let back: CertDetails = serde_json::from_str(&json).unwrap_or_else(|error| {
        panic!("stored details cannot be read back: {error}: {json}");
    });
    assert_eq!(&back, details, "details change when stored");
}
