//! TLS for the probe: rustls client setup, a recording certificate verifier, the strict
//! certificate verdict, and the facts of a completed session.
//!
//! Owns: everything about certificates and TLS sessions. Must not touch: SMTP (the caller hands
//! over a stream positioned right after the 220 to STARTTLS) or DNS.
//!
//! The verifier wraps rustls' real WebPKI verifier: it records WebPKI's verdict and the chain and
//! lets the handshake finish, so version, suite and group are captured even for a bad
//! certificate. Handshake signatures are still checked by WebPKI's algorithms, so the session
//! facts are true. Verdicts never depend on which library carried the session.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::model::{CertDetails, CertError, TlsVersion};

/// Shared TLS state for all probes: crypto provider and the WebPKI verifier with its roots.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    provider: Arc<CryptoProvider>,
    webpki: Arc<WebPkiServerVerifier>,
}

impl TlsSetup {
    /// Builds the verifier over the Mozilla roots plus `extra_roots`.
    pub fn new(extra_roots: &[CertificateDer<'static>]) -> Result<Self, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for root in extra_roots {
            roots.add(root.clone())?;
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|error| rustls::Error::General(error.to_string()))?;
        Ok(Self { provider, webpki })
    }

    /// A client config for one connection, whose verifier records into the returned slot.
    ///
    /// Resumption is off so every probe does a full handshake and sees the certificate.
    pub fn client_config(&self) -> Result<(Arc<rustls::ClientConfig>, ChainSlot), rustls::Error> {
        let slot = ChainSlot::default();
        let verifier = Arc::new(RecordingVerifier {
            inner: self.webpki.clone(),
            slot: slot.clone(),
        });
        let mut config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.resumption = rustls::client::Resumption::disabled();
        config.enable_sni = true;
        Ok((Arc::new(config), slot))
    }

    /// Runs WebPKI on a chain that another TLS client (the legacy OpenSSL one) received, as
    /// the recording verifier does during a rustls handshake: same roots, same MX host name, so
    /// the verdict never depends on which library carried the session. `chain` is leaf first.
    pub fn record_chain(
        &self,
        chain: Vec<CertificateDer<'static>>,
        mx_host: &str,
        now: OffsetDateTime,
    ) -> RecordedChain {
        let seconds = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        let at = UnixTime::since_unix_epoch(Duration::from_secs(seconds));
        let webpki = match (
            chain.split_first(),
            ServerName::try_from(mx_host.to_string()),
        ) {
            (None, _) => Err(CertificateError::BadEncoding),
            (Some(_), Err(_)) => Err(CertificateError::NotValidForName),
            (Some((leaf, intermediates)), Ok(server_name)) => webpki_verdict(
                self.webpki
                    .verify_server_cert(leaf, intermediates, &server_name, &[], at),
            ),
        };
        RecordedChain { chain, webpki }
    }

    /// The strict verdict for a chain a server presented, checked against `mx_host`.
    pub fn assess(
        &self,
        recorded: &RecordedChain,
        mx_host: &str,
        now: OffsetDateTime,
    ) -> CertAssessment {
        assess_chain(&self.webpki, recorded, mx_host, now)
    }
}

/// What the verifier saw: the chain and WebPKI's verdict on it at handshake time.
#[derive(Debug, Clone)]
pub struct RecordedChain {
    pub chain: Vec<CertificateDer<'static>>,
    pub webpki: Result<(), CertificateError>,
}

/// Where one connection's verifier leaves the chain it saw.
#[derive(Debug, Clone, Default)]
pub struct ChainSlot(Arc<Mutex<Option<RecordedChain>>>);

impl ChainSlot {
    /// The recorded chain, if the server got as far as sending one.
    pub fn take(&self) -> Option<RecordedChain> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }

    fn put(&self, recorded: RecordedChain) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(recorded);
        }
    }
}

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    slot: ChainSlot,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = webpki_verdict(self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ));
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|der| der.clone().into_owned()));
        self.slot.put(RecordedChain {
            chain,
            webpki: verdict,
        });
        // Record, then let the handshake finish: this connection carries no mail.
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// WebPKI's answer as a certificate verdict: every other kind of error becomes `Other`.
fn webpki_verdict(
    answer: Result<ServerCertVerified, rustls::Error>,
) -> Result<(), CertificateError> {
    answer.map(|_| ()).map_err(|error| match error {
        rustls::Error::InvalidCertificate(certificate_error) => certificate_error,
        other => CertificateError::Other(rustls::OtherError(Arc::new(Message(other.to_string())))),
    })
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

/// The strict verdict on a certificate chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertAssessment {
    pub strict_valid: bool,
    /// Every reason that applies, sorted; empty when valid.
    pub errors: Vec<CertError>,
    /// Leaf details; None when there was no parseable leaf.
    pub details: Option<CertDetails>,
}

fn assess_chain(
    webpki: &WebPkiServerVerifier,
    recorded: &RecordedChain,
    mx_host: &str,
    now: OffsetDateTime,
) -> CertAssessment {
    let Some(leaf_der) = recorded.chain.first() else {
        return CertAssessment {
            strict_valid: false,
            errors: vec![CertError::NoCertificate],
            details: None,
        };
    };
    let Ok((_, leaf)) = X509Certificate::from_der(leaf_der.as_ref()) else {
        return CertAssessment {
            strict_valid: false,
            errors: vec![CertError::BadEncoding],
            details: None,
        };
    };
    let details = cert_details(&leaf, leaf_der.as_ref());
    let key_usable = leaf_key_usable(&leaf);
    if recorded.webpki.is_ok() {
        return CertAssessment {
            strict_valid: key_usable,
            errors: if key_usable {
                Vec::new()
            } else {
                vec![CertError::UnsupportedKey]
            },
            details: Some(details),
        };
    }

    // WebPKI stops at the first problem; find every one that applies.
    let mut errors = BTreeSet::new();
    if !key_usable {
        errors.insert(CertError::UnsupportedKey);
    }
    if now > details.not_after {
        errors.insert(CertError::Expired);
    }
    if now < details.not_before {
        errors.insert(CertError::NotYetValid);
    }
    if !names_match(&dns_sans(&leaf), mx_host) {
        errors.insert(CertError::NameMismatch);
    }
    let self_signed =
        leaf.subject().as_raw() == leaf.issuer().as_raw() && leaf.verify_signature(None).is_ok();
    if self_signed {
        errors.insert(CertError::SelfSigned);
    }

    // Re-run WebPKI at a moment when the leaf is in date, to judge the chain on its own. A leaf
    // whose validity ends before it begins has no such moment: the re-run then reports the
    // leaf's dates at the midpoint, not at `now`, so its date errors are left out (the leaf's
    // dates were judged above against `now`).
    let never_in_date = details.not_after < details.not_before;
    let half_validity: time::Duration = (details.not_after - details.not_before) / 2;
    let midpoint = details.not_before + half_validity;
    let seconds = u64::try_from(midpoint.unix_timestamp()).unwrap_or(0);
    let at_midpoint = UnixTime::since_unix_epoch(Duration::from_secs(seconds));
    let chain_check = match ServerName::try_from(mx_host.to_string()) {
        Ok(server_name) => webpki
            .verify_server_cert(
                leaf_der,
                &recorded.chain[1..],
                &server_name,
                &[],
                at_midpoint,
            )
            .map(|_| ()),
        Err(_) => Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName,
        )),
    };
    match chain_check {
        Ok(()) => {}
        Err(rustls::Error::InvalidCertificate(error)) => {
            // Name problems were judged above with our own RFC 6125 check.
            if let Some(mapped) = map_certificate_error(&error)
                && mapped != CertError::NameMismatch
                && !(self_signed && mapped == CertError::UnknownIssuer)
                && !(never_in_date && matches!(mapped, CertError::Expired | CertError::NotYetValid))
            {
                errors.insert(mapped);
            }
        }
        Err(_) => {
            errors.insert(CertError::Other);
        }
    }
    if errors.is_empty() {
        // Our checks found nothing WebPKI did: report WebPKI's own reason.
        let mapped = recorded
            .webpki
            .as_ref()
            .err()
            .and_then(map_certificate_error)
            .unwrap_or(CertError::Other);
        errors.insert(mapped);
    }
    CertAssessment {
        strict_valid: false,
        errors: errors.into_iter().collect(),
        details: Some(details),
    }
}

/// Whether a WebPKI client can check signatures made with the leaf's key: RSA of 2048 to 8192
/// bits, ECDSA P-256 or P-384, Ed25519 (ring's algorithms, which rustls uses).
///
/// WebPKI's chain check verifies signatures made *by issuers*, never the leaf's own key, so a
/// CA-signed RSA-1024 leaf passes it; only a rustls handshake would then fail. The legacy
/// (OpenSSL) client does accept such a key, so without this rule the verdict would depend on
/// which library carried the session. Such a key is `unsupported_key` on either path.
fn leaf_key_usable(certificate: &X509Certificate<'_>) -> bool {
    let public_key = certificate.public_key();
    match public_key.parsed() {
        Ok(PublicKey::RSA(rsa)) => (2048..=8192).contains(&rsa.key_size()),
        Ok(PublicKey::EC(_)) => {
            let curve = public_key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.as_oid().ok())
                .map(|oid| oid.to_id_string());
            matches!(
                curve.as_deref(),
                Some("1.2.840.10045.3.1.7" | "1.3.132.0.34")
            )
        }
        _ => public_key.algorithm.algorithm.to_id_string() == "1.3.101.112",
    }
}

/// Maps a WebPKI error to our reason codes.
fn map_certificate_error(error: &CertificateError) -> Option<CertError> {
    Some(match error {
        CertificateError::BadEncoding => CertError::BadEncoding,
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertError::Expired,
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            CertError::NotYetValid
        }
        CertificateError::Revoked => CertError::Revoked,
        CertificateError::UnknownIssuer => CertError::UnknownIssuer,
        CertificateError::BadSignature => CertError::BadSignature,
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            CertError::UnsupportedKey
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertError::NameMismatch
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            CertError::InvalidPurpose
        }
        _ => CertError::Other,
    })
}

/// DNS names from the subjectAltName extension.
fn dns_sans(certificate: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(extension)) = certificate.subject_alternative_name() else {
        return Vec::new();
    };
    extension
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_string()),
            _ => None,
        })
        .collect()
}

/// RFC 6125 / 7817 host check: SAN dNSName entries only (no CN fallback), case-insensitive, a
/// wildcard only as the whole left-most label, matching exactly one label.
pub fn names_match(sans: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    sans.iter().any(|san| {
        let pattern = san.trim_end_matches('.').to_ascii_lowercase();
        if let Some(suffix) = pattern.strip_prefix("*.") {
            // "*.com" style patterns are too broad to honour.
            if !suffix.contains('.') || suffix.contains('*') {
                return false;
            }
            match host.split_once('.') {
                Some((first_label, rest)) => !first_label.is_empty() && rest == suffix,
                None => false,
            }
        } else {
            !pattern.contains('*') && pattern == host
        }
    })
}

fn cert_details(certificate: &X509Certificate<'_>, der: &[u8]) -> CertDetails {
    let mut sans = Vec::new();
    if let Ok(Some(extension)) = certificate.subject_alternative_name() {
        for name in &extension.value.general_names {
            match name {
                GeneralName::DNSName(dns) => sans.push((*dns).to_string()),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(octets) = <[u8; 4]>::try_from(*bytes) {
                        sans.push(std::net::Ipv4Addr::from(octets).to_string());
                    } else if let Ok(octets) = <[u8; 16]>::try_from(*bytes) {
                        sans.push(std::net::Ipv6Addr::from(octets).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    CertDetails {
        subject: certificate.subject().to_string(),
        sans,
        issuer: certificate.issuer().to_string(),
        not_before: certificate.validity().not_before.to_datetime(),
        not_after: certificate.validity().not_after.to_datetime(),
        key: describe_key(certificate),
        sha256: hex(digest.as_ref()),
    }
}

fn describe_key(certificate: &X509Certificate<'_>) -> String {
    let public_key = certificate.public_key();
    let algorithm = public_key.algorithm.algorithm.to_id_string();
    match public_key.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA {}", rsa.key_size()),
        Ok(PublicKey::EC(point)) => {
            let curve = public_key
                .algorithm
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.as_oid().ok())
                .map(|oid| oid.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "ECDSA P-256".to_string(),
                Some("1.3.132.0.34") => "ECDSA P-384".to_string(),
                Some("1.3.132.0.35") => "ECDSA P-521".to_string(),
                _ => format!("EC {}", point.key_size()),
            }
        }
        Ok(PublicKey::DSA(_)) => "DSA".to_string(),
        _ => match algorithm.as_str() {
            "1.3.101.112" => "Ed25519".to_string(),
            "1.3.101.113" => "Ed448".to_string(),
            other => format!("unknown ({other})"),
        },
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Facts of a completed rustls session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub version: Option<TlsVersion>,
    pub cipher_suite: Option<String>,
    pub kx_group: Option<String>,
    pub pfs: bool,
}

/// Reads version, suite and group from a finished rustls client connection.
pub fn session_facts(connection: &rustls::ClientConnection) -> SessionFacts {
    let version = connection
        .protocol_version()
        .and_then(|version| match version {
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            rustls::ProtocolVersion::TLSv1_1 => Some(TlsVersion::Tls11),
            rustls::ProtocolVersion::TLSv1_0 => Some(TlsVersion::Tls10),
            rustls::ProtocolVersion::SSLv3 => Some(TlsVersion::Ssl3),
            _ => None,
        });
    let cipher_suite = connection
        .negotiated_cipher_suite()
        .map(|suite| iana_suite_name(suite.suite()));
    let kx_group =
        connection
            .negotiated_key_exchange_group()
            .map(|group| match group.name().as_str() {
                Some(name) => name.to_string(),
                None => format!("{:?}", group.name()),
            });
    let pfs = is_forward_secret(version, cipher_suite.as_deref());
    SessionFacts {
        version,
        cipher_suite,
        kx_group,
        pfs,
    }
}

/// IANA name of a suite: rustls spells TLS 1.3 suites `TLS13_...`, IANA `TLS_...`.
fn iana_suite_name(suite: rustls::CipherSuite) -> String {
    match suite.as_str() {
        Some(name) => match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_string(),
        },
        None => format!("0x{:04x}", u16::from(suite)),
    }
}

/// DESIGN.md: TLS 1.3, or a TLS 1.2-or-older suite with ECDHE or DHE key exchange, read from
/// the suite's IANA name as rustls or OpenSSL gives it (`TLS_ECDHE_...`, `TLS_DHE_...`); plain
/// RSA key exchange (`TLS_RSA_...`) is not forward secret.
pub fn is_forward_secret(version: Option<TlsVersion>, cipher_suite: Option<&str>) -> bool {
    if version == Some(TlsVersion::Tls13) {
        return true;
    }
    cipher_suite.is_some_and(|suite| suite.contains("_ECDHE_") || suite.contains("_DHE_"))
}

/// Why a handshake failed, in words, and whether an older TLS client might have succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeFailure {
    pub detail: String,
    /// Protocol version, no shared suite, handshake-failure alert, unsupported key or signature:
    /// the legacy fallback may complete such a handshake. Not for timeouts or closed connections.
    pub legacy_may_help: bool,
}

/// Classifies an error from `tokio_rustls::TlsConnector::connect`.
pub fn classify_handshake_error(error: &std::io::Error) -> HandshakeFailure {
    use rustls::{AlertDescription, PeerIncompatible};
    let Some(tls_error) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        let detail = match error.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                "connection closed during the TLS handshake".to_string()
            }
            std::io::ErrorKind::ConnectionReset => {
                "connection reset during the TLS handshake".to_string()
            }
            _ => format!("TLS handshake failed: {error}"),
        };
        return HandshakeFailure {
            detail,
            legacy_may_help: false,
        };
    };
    let legacy_may_help = match tls_error {
        rustls::Error::AlertReceived(alert) => matches!(
            alert,
            AlertDescription::HandshakeFailure
                | AlertDescription::ProtocolVersion
                | AlertDescription::InsufficientSecurity
                | AlertDescription::IllegalParameter
        ),
        rustls::Error::PeerIncompatible(incompatible) => !matches!(
            incompatible,
            PeerIncompatible::ServerRejectedEncryptedClientHello(_)
        ),
        // The recording verifier accepts every chain, so a certificate error here comes from
        // checking the server's handshake signature: a key or signature type ring refuses
        // (RSA-1024, SHA-1 or MD5 signatures...). OpenSSL checks that signature too, so a
        // genuinely bad one still fails there.
        rustls::Error::InvalidCertificate(
            CertificateError::BadSignature
            | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
        ) => true,
        rustls::Error::PeerMisbehaved(_) => false,
        _ => false,
    };
    let detail = match tls_error {
        rustls::Error::AlertReceived(alert) => {
            format!("TLS handshake failed: server sent alert {alert:?}")
        }
        rustls::Error::InvalidMessage(_) => {
            format!("TLS handshake failed: server did not speak TLS ({tls_error})")
        }
        other => format!("TLS handshake failed: {other}"),
    };
    HandshakeFailure {
        detail,
        legacy_may_help,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sans(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_string()).collect()
    }

    #[test]
    fn exact_names_match_case_insensitively() {
        assert!(names_match(&sans(&["MX.Example.org"]), "mx.example.org"));
        assert!(names_match(&sans(&["mx.example.org."]), "mx.example.org"));
        assert!(!names_match(&sans(&["example.org"]), "mx.example.org"));
        assert!(!names_match(&[], "mx.example.org"));
    }

    #[test]
    fn wildcards_match_one_left_most_label_only() {
        let wildcard = sans(&["*.example.org"]);
        assert!(names_match(&wildcard, "mx.example.org"));
        assert!(!names_match(&wildcard, "a.mx.example.org"));
        assert!(!names_match(&wildcard, "example.org"));
        assert!(!names_match(&sans(&["*.org"]), "example.org"));
        assert!(!names_match(&sans(&["m*.example.org"]), "mx.example.org"));
        assert!(!names_match(&sans(&["mx.*.org"]), "mx.example.org"));
    }

    #[test]
    fn forward_secrecy_rule() {
        assert!(is_forward_secret(
            Some(TlsVersion::Tls13),
            Some("TLS_AES_128_GCM_SHA256")
        ));
        assert!(is_forward_secret(
            Some(TlsVersion::Tls12),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        ));
        assert!(is_forward_secret(
            Some(TlsVersion::Tls10),
            Some("TLS_DHE_RSA_WITH_AES_256_CBC_SHA")
        ));
        assert!(!is_forward_secret(
            Some(TlsVersion::Tls12),
            Some("TLS_RSA_WITH_AES_128_GCM_SHA256")
        ));
        assert!(!is_forward_secret(None, None));
    }

    #[test]
    fn suite_names_are_iana() {
        assert_eq!(
            iana_suite_name(rustls::CipherSuite::TLS13_AES_256_GCM_SHA384),
            "TLS_AES_256_GCM_SHA384"
        );
        assert_eq!(
            iana_suite_name(rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        );
        assert_eq!(
            iana_suite_name(rustls::CipherSuite::TLS_RSA_WITH_AES_128_GCM_SHA256),
            "TLS_RSA_WITH_AES_128_GCM_SHA256"
        );
        assert_eq!(iana_suite_name(rustls::CipherSuite::from(0x0a0a)), "0x0a0a");
    }

    #[test]
    fn every_suite_rustls_negotiates_has_an_iana_name_and_is_forward_secret() {
        // rustls speaks TLS 1.3 and TLS 1.2 with ECDHE only: every session it completes is
        // forward secret, and the rule read from the name must say so.
        for suite in rustls::crypto::ring::ALL_CIPHER_SUITES {
            let name = iana_suite_name(suite.suite());
            assert!(name.starts_with("TLS_"), "{name}");
            let version = match suite.version().version {
                rustls::ProtocolVersion::TLSv1_3 => TlsVersion::Tls13,
                _ => TlsVersion::Tls12,
            };
            assert!(is_forward_secret(Some(version), Some(&name)), "{name}");
        }
    }

    /// How tokio-rustls hands over a rustls error.
    fn io_error(error: rustls::Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, error)
    }

    #[test]
    fn the_fallback_runs_when_an_older_client_could_succeed() {
        use rustls::{AlertDescription, PeerIncompatible};
        for error in [
            rustls::Error::AlertReceived(AlertDescription::HandshakeFailure),
            rustls::Error::AlertReceived(AlertDescription::ProtocolVersion),
            rustls::Error::AlertReceived(AlertDescription::InsufficientSecurity),
            rustls::Error::PeerIncompatible(PeerIncompatible::NoCipherSuitesInCommon),
            rustls::Error::PeerIncompatible(PeerIncompatible::Tls12NotOffered),
            // The handshake signature of an RSA-1024 key: ring refuses it.
            rustls::Error::InvalidCertificate(CertificateError::BadSignature),
        ] {
            let failure = classify_handshake_error(&io_error(error.clone()));
            assert!(failure.legacy_may_help, "{error:?}: {failure:?}");
        }
    }

    #[test]
    fn no_fallback_for_garbage_closed_connections_or_other_alerts() {
        use rustls::{AlertDescription, InvalidMessage};
        for error in [
            std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
            io_error(rustls::Error::InvalidMessage(
                InvalidMessage::InvalidContentType,
            )),
            io_error(rustls::Error::AlertReceived(
                AlertDescription::InternalError,
            )),
            io_error(rustls::Error::AlertReceived(AlertDescription::DecodeError)),
        ] {
            let failure = classify_handshake_error(&error);
            assert!(!failure.legacy_may_help, "{error:?}: {failure:?}");
        }
        let garbage = classify_handshake_error(&io_error(rustls::Error::InvalidMessage(
            InvalidMessage::InvalidContentType,
        )));
        assert!(garbage.detail.contains("did not speak TLS"), "{garbage:?}");
    }

    /// An RSA-2048 root and a leaf for `mx.example.org` with an RSA key of `leaf_bits`, as DER.
    fn rsa_chain(leaf_bits: u32) -> (CertificateDer<'static>, CertificateDer<'static>) {
        use openssl::asn1::Asn1Time;
        use openssl::hash::MessageDigest;
        use openssl::pkey::PKey;
        use openssl::rsa::Rsa;
        use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
        use openssl::x509::{X509Builder, X509NameBuilder};
        let certificate =
            |common_name: &str,
             bits: u32,
             issuer: Option<(&openssl::x509::X509, &PKey<openssl::pkey::Private>)>| {
                let key = PKey::from_rsa(Rsa::generate(bits).expect("RSA")).expect("key");
                let mut name = X509NameBuilder::new().expect("name");
                name.append_entry_by_text("CN", common_name).expect("CN");
                let name = name.build();
                let mut builder = X509Builder::new().expect("builder");
                builder.set_version(2).expect("version");
                builder.set_subject_name(&name).expect("subject");
                match issuer {
                    Some((ca, _)) => builder.set_issuer_name(ca.subject_name()).expect("issuer"),
                    None => builder.set_issuer_name(&name).expect("issuer"),
                }
                builder.set_pubkey(&key).expect("public key");
                builder
                    .set_not_before(
                        &Asn1Time::from_unix(OffsetDateTime::now_utc().unix_timestamp() - 86_400)
                            .expect("time"),
                    )
                    .expect("not before");
                builder
                    .set_not_after(&Asn1Time::days_from_now(30).expect("time"))
                    .expect("not after");
                if issuer.is_none() {
                    let constraints = BasicConstraints::new().critical().ca().build().expect("bc");
                    builder.append_extension(constraints).expect("extension");
                    let usage = KeyUsage::new().key_cert_sign().build().expect("ku");
                    builder.append_extension(usage).expect("extension");
                } else {
                    let san = SubjectAlternativeName::new()
                        .dns(common_name)
                        .build(&builder.x509v3_context(None, None))
                        .expect("SAN");
                    builder.append_extension(san).expect("extension");
                }
                let signer = issuer.map_or(&key, |(_, ca_key)| ca_key);
                builder.sign(signer, MessageDigest::sha256()).expect("sign");
                (builder.build(), key)
            };
        let (ca, ca_key) = certificate("Test RSA Root", 2048, None);
        let (leaf, _) = certificate("mx.example.org", leaf_bits, Some((&ca, &ca_key)));
        (
            CertificateDer::from(leaf.to_der().expect("DER")),
            CertificateDer::from(ca.to_der().expect("DER")),
        )
    }

    #[test]
    fn a_chain_from_another_client_gets_the_same_webpki_check() {
        let (leaf, root) = rsa_chain(2048);
        let setup = TlsSetup::new(std::slice::from_ref(&root)).expect("setup");
        let now = OffsetDateTime::now_utc();
        let recorded = setup.record_chain(vec![leaf.clone()], "mx.example.org", now);
        assert!(recorded.webpki.is_ok(), "{:?}", recorded.webpki);
        let assessment = setup.assess(&recorded, "mx.example.org", now);
        assert!(assessment.strict_valid, "{assessment:?}");
        assert_eq!(
            assessment.details.map(|details| details.key),
            Some("RSA 2048".to_string())
        );

        let recorded = setup.record_chain(vec![leaf], "other.example.org", now);
        let assessment = setup.assess(&recorded, "other.example.org", now);
        assert_eq!(assessment.errors, vec![CertError::NameMismatch]);

        let untrusted = TlsSetup::new(&[]).expect("setup");
        let (leaf, _) = rsa_chain(2048);
        let recorded = untrusted.record_chain(vec![leaf], "mx.example.org", now);
        let assessment = untrusted.assess(&recorded, "mx.example.org", now);
        assert_eq!(assessment.errors, vec![CertError::UnknownIssuer]);
    }

    #[test]
    fn a_key_webpki_cannot_use_is_not_strictly_valid() {
        // WebPKI's chain check passes (it verifies the root's signature, not the leaf's key)...
        let (leaf, root) = rsa_chain(1024);
        let setup = TlsSetup::new(std::slice::from_ref(&root)).expect("setup");
        let now = OffsetDateTime::now_utc();
        let recorded = setup.record_chain(vec![leaf], "mx.example.org", now);
        assert!(recorded.webpki.is_ok(), "{:?}", recorded.webpki);
        // ...but no WebPKI client could check the server's signatures made with that key.
        let assessment = setup.assess(&recorded, "mx.example.org", now);
        assert!(!assessment.strict_valid);
        assert_eq!(assessment.errors, vec![CertError::UnsupportedKey]);
        assert_eq!(
            assessment.details.map(|details| details.key),
            Some("RSA 1024".to_string())
        );
    }

    /// Found by the `cert_details` fuzz target: a leaf whose validity ends before it begins was
    /// also reported `expired`, months before its not-after date.
    #[test]
    fn an_inverted_validity_is_not_yet_valid_but_not_expired() {
        use openssl::asn1::Asn1Time;
        use openssl::ec::{EcGroup, EcKey};
        use openssl::hash::MessageDigest;
        use openssl::nid::Nid;
        use openssl::pkey::PKey;
        use openssl::x509::extension::SubjectAlternativeName;
        use openssl::x509::{X509Builder, X509NameBuilder};
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("curve");
        let key = PKey::from_ec_key(EcKey::generate(&group).expect("EC")).expect("key");
        let mut name = X509NameBuilder::new().expect("name");
        name.append_entry_by_text("CN", "mx.example.org")
            .expect("CN");
        let name = name.build();
        let mut builder = X509Builder::new().expect("builder");
        builder.set_version(2).expect("version");
        builder.set_subject_name(&name).expect("subject");
        builder.set_issuer_name(&name).expect("issuer");
        builder.set_pubkey(&key).expect("public key");
        let later = Asn1Time::days_from_now(365).expect("time");
        let sooner = Asn1Time::days_from_now(90).expect("time");
        builder.set_not_before(&later).expect("not before");
        builder.set_not_after(&sooner).expect("not after");
        let san = SubjectAlternativeName::new()
            .dns("mx.example.org")
            .build(&builder.x509v3_context(None, None))
            .expect("SAN");
        builder.append_extension(san).expect("extension");
        builder.sign(&key, MessageDigest::sha256()).expect("sign");
        let leaf = CertificateDer::from(builder.build().to_der().expect("DER"));

        let setup = TlsSetup::new(&[]).expect("setup");
        let now = OffsetDateTime::now_utc();
        let recorded = setup.record_chain(vec![leaf], "mx.example.org", now);
        let assessment = setup.assess(&recorded, "mx.example.org", now);
        assert_eq!(
            assessment.errors,
            vec![CertError::SelfSigned, CertError::NotYetValid]
        );
    }

    #[test]
    fn empty_chain_is_not_strict() {
        let setup = TlsSetup::new(&[]).expect("setup");
        let recorded = RecordedChain {
            chain: Vec::new(),
            webpki: Err(CertificateError::BadEncoding),
        };
        let assessment = setup.assess(&recorded, "mx.example.org", OffsetDateTime::now_utc());
        assert!(!assessment.strict_valid);
        assert_eq!(assessment.errors, vec![CertError::NoCertificate]);
    }
}
