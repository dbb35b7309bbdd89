//! The legacy TLS client: OpenSSL (Debian's libssl, through the `openssl` and `tokio-openssl`
//! crates) for the servers rustls cannot talk to: TLS 1.0/1.1 only, RSA key exchange only, keys
//! or signatures that ring refuses (DESIGN.md, "The TLS session used for verdicts").
//!
//! Owns: the two OpenSSL client configurations (the fallback, set up like a typical sending MTA
//! of the last decade, and deep mode's offer with RSA key exchange first), the handshake on a
//! stream that the SMTP session hands over right after the 220 to STARTTLS, and the facts of the
//! finished session: version, IANA suite name, key-exchange group, the peer's chain as DER.
//! Must not touch: SMTP (the caller speaks it before and after the handshake), DNS, and the
//! certificate verdict. OpenSSL verifies no certificate here; the caller sends the chain through
//! the same WebPKI check as a rustls session's (`TlsSetup::record_chain`, `TlsSetup::assess`),
//! so a verdict never depends on which library carried the session.

use std::pin::Pin;
use std::time::Duration;

use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Public};
use openssl::ssl::{
    ErrorCode, Ssl, SslCipherRef, SslContext, SslMethod, SslOptions, SslRef, SslSessionCacheMode,
    SslVerifyMode, SslVersion,
};
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use tokio_openssl::SslStream;

use super::tls::{SessionFacts, is_forward_secret};
use crate::model::TlsVersion;

/// OpenSSL's usual order (`DEFAULT`: ECDHE, then DHE, then RSA key exchange, AEAD suites first)
/// without the suites that need a pre-shared key or an SRP password, at security level 0 so that
/// TLS 1.0/1.1, SHA-1 signatures, small keys and small DH groups are allowed, as they were in
/// the sending MTAs of the last decade.
pub const SENDING_MTA_CIPHERS: &str = "DEFAULT:!PSK:!SRP:!aNULL:@SECLEVEL=0";

/// The same suites with plain RSA key exchange moved to the front: deep mode's question is
/// whether the server *chooses* one of them when a sender prefers them. `DEFAULT` is only
/// allowed first in a cipher string, so its definition (`ALL:!COMPLEMENTOFDEFAULT:!eNULL`) is
/// spelled out after `kRSA`.
pub const RSA_FIRST_CIPHERS: &str =
    "kRSA:ALL:!COMPLEMENTOFDEFAULT:!eNULL:!PSK:!SRP:!aNULL:@SECLEVEL=0";

/// `SSL_OP_LEGACY_SERVER_CONNECT`: connect to servers that predate RFC 5746 (secure
/// renegotiation). It was on by default for clients before OpenSSL 3.0, so the sending MTAs this
/// client imitates had it; the `openssl` crate has no name for it.
const LEGACY_SERVER_CONNECT: SslOptions = SslOptions::from_bits_retain(0x0000_0004);

/// OpenSSL reports a TLS alert received from the peer as reason 1000 + the alert number.
const ALERT_REASON_OFFSET: i32 = 1000;

/// Which ClientHello the legacy client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// The fallback: TLS 1.0-1.2 with ECDHE, DHE and RSA key exchange in OpenSSL's usual order
    /// ([`SENDING_MTA_CIPHERS`]).
    SendingMta,
    /// Deep mode: the same versions and suites, plain RSA key exchange first
    /// ([`RSA_FIRST_CIPHERS`]).
    RsaKeyExchangeFirst,
}

/// The OpenSSL client configurations, built once per prober and shared by every session.
pub struct LegacyTls {
    sending_mta: SslContext,
    rsa_first: SslContext,
}

impl std::fmt::Debug for LegacyTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LegacyTls")
            .field("sending_mta", &SENDING_MTA_CIPHERS)
            .field("rsa_first", &RSA_FIRST_CIPHERS)
            .finish()
    }
}

/// A finished legacy handshake: the encrypted stream (for `EHLO` and `QUIT`) and what was
/// negotiated.
pub struct LegacySession<S> {
    /// The TLS stream over the SMTP connection.
    pub stream: SslStream<S>,
    /// Version, IANA suite name, key-exchange group, forward secrecy.
    pub facts: SessionFacts,
    /// The chain the server sent, leaf first, as DER; empty when it sent none.
    pub chain: Vec<CertificateDer<'static>>,
}

/// Why a legacy handshake did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyFailure {
    /// In words, e.g. `tlsv1 alert protocol version`.
    pub detail: String,
    /// The server answered our ClientHello with a TLS alert that refuses what we offered
    /// (handshake failure, protocol version, insufficient security): it will not speak TLS
    /// 1.0-1.2 with any suite we offered. False for timeouts, closed connections, garbage.
    pub refused_by_server: bool,
    /// The handshake did not finish before the deadline.
    pub timed_out: bool,
}

impl LegacyTls {
    /// Builds both client configurations: TLS 1.0 to 1.2, no certificate verification by
    /// OpenSSL (WebPKI judges the chain afterwards), no session cache (every probe does a full
    /// handshake and sees the certificate).
    pub fn new() -> Result<Self, ErrorStack> {
        Ok(Self {
            sending_mta: client_context(SENDING_MTA_CIPHERS)?,
            rsa_first: client_context(RSA_FIRST_CIPHERS)?,
        })
    }

    /// Runs a TLS handshake on `stream` (positioned right after the 220 to STARTTLS) with SNI
    /// `mx_host`, within `limit`.
    pub async fn handshake<S>(
        &self,
        offer: Offer,
        stream: S,
        mx_host: &str,
        limit: Duration,
    ) -> Result<LegacySession<S>, LegacyFailure>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let context = match offer {
            Offer::SendingMta => &self.sending_mta,
            Offer::RsaKeyExchangeFirst => &self.rsa_first,
        };
        let setup_failed = |error: ErrorStack| LegacyFailure {
            detail: format!("OpenSSL client setup failed: {}", describe_stack(&error)),
            refused_by_server: false,
            timed_out: false,
        };
        let mut ssl = Ssl::new(context).map_err(setup_failed)?;
        ssl.set_hostname(mx_host).map_err(setup_failed)?;
        let mut tls_stream = SslStream::new(ssl, stream).map_err(setup_failed)?;
        match timeout(limit, Pin::new(&mut tls_stream).connect()).await {
            Err(_) => Err(LegacyFailure {
                detail: format!(
                    "TLS handshake did not finish within {} s",
                    limit.as_secs_f32()
                ),
                refused_by_server: false,
                timed_out: true,
            }),
            Ok(Err(error)) => Err(describe_handshake_error(&error)),
            Ok(Ok(())) => {
                let facts = session_facts(tls_stream.ssl());
                let chain = peer_chain(tls_stream.ssl());
                Ok(LegacySession {
                    stream: tls_stream,
                    facts,
                    chain,
                })
            }
        }
    }
}

fn client_context(ciphers: &str) -> Result<SslContext, ErrorStack> {
    let mut builder = SslContext::builder(SslMethod::tls_client())?;
    builder.set_min_proto_version(Some(SslVersion::TLS1))?;
    builder.set_max_proto_version(Some(SslVersion::TLS1_2))?;
    builder.set_cipher_list(ciphers)?;
    builder.set_security_level(0);
    builder.set_verify(SslVerifyMode::NONE);
    builder.set_session_cache_mode(SslSessionCacheMode::OFF);
    builder.set_options(SslOptions::NO_TICKET | SslOptions::NO_COMPRESSION | LEGACY_SERVER_CONNECT);
    Ok(builder.build())
}

/// The reasons in an OpenSSL error stack, e.g. `tlsv1 alert protocol version`.
fn describe_stack(stack: &ErrorStack) -> String {
    let reasons: Vec<String> = stack
        .errors()
        .iter()
        .map(|error| match error.reason() {
            Some(reason) => reason.to_string(),
            None => format!("error code {}", error.reason_code()),
        })
        .collect();
    if reasons.is_empty() {
        "unknown error".to_string()
    } else {
        reasons.join(", ")
    }
}

/// Turns a failed `SSL_connect` into words, and says whether the server refused our offer.
fn describe_handshake_error(error: &openssl::ssl::Error) -> LegacyFailure {
    if let Some(stack) = error.ssl_error() {
        let refused_by_server = stack.errors().iter().any(|entry| {
            let alert = entry.reason_code() - ALERT_REASON_OFFSET;
            // handshake_failure (40), protocol_version (70), insufficient_security (71)
            matches!(alert, 40 | 70 | 71)
        });
        return LegacyFailure {
            detail: describe_stack(stack),
            refused_by_server,
            timed_out: false,
        };
    }
    let detail = match error.io_error() {
        Some(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "connection closed during the TLS handshake".to_string()
        }
        Some(io) => format!("connection error during the TLS handshake: {io}"),
        None if error.code() == ErrorCode::SYSCALL || error.code() == ErrorCode::ZERO_RETURN => {
            "connection closed during the TLS handshake".to_string()
        }
        None => format!("TLS handshake failed: {error}"),
    };
    LegacyFailure {
        detail,
        refused_by_server: false,
        timed_out: false,
    }
}

/// Version, suite, group and forward secrecy of a finished OpenSSL session.
fn session_facts(ssl: &SslRef) -> SessionFacts {
    let version = ssl.version2().and_then(tls_version);
    let cipher_suite = ssl.current_cipher().map(suite_name);
    let kx_group = ssl.peer_tmp_key().ok().and_then(|key| describe_group(&key));
    let pfs = is_forward_secret(version, cipher_suite.as_deref());
    SessionFacts {
        version,
        cipher_suite,
        // Plain RSA key exchange has no ephemeral key, hence no group.
        kx_group: if pfs { kx_group } else { None },
        pfs,
    }
}

fn tls_version(version: SslVersion) -> Option<TlsVersion> {
    if version == SslVersion::TLS1_3 {
        Some(TlsVersion::Tls13)
    } else if version == SslVersion::TLS1_2 {
        Some(TlsVersion::Tls12)
    } else if version == SslVersion::TLS1_1 {
        Some(TlsVersion::Tls11)
    } else if version == SslVersion::TLS1 {
        Some(TlsVersion::Tls10)
    } else if version == SslVersion::SSL3 {
        Some(TlsVersion::Ssl3)
    } else {
        None
    }
}

/// The IANA name of the negotiated suite, as OpenSSL knows it (`SSL_CIPHER_standard_name`, e.g.
/// `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384` for OpenSSL's `ECDHE-RSA-AES256-GCM-SHA384`); the
/// suite's number (`0xc030`) for a suite the library has no standard name for. Forward secrecy
/// is read from this name ([`is_forward_secret`]), so a suite known only by its number counts as
/// not forward secret.
fn suite_name(cipher: &SslCipherRef) -> String {
    match cipher.standard_name() {
        Some(standard) => standard.to_string(),
        None => format!("0x{:04x}", u16::from_be_bytes(cipher.protocol_id())),
    }
}

/// The ephemeral key-exchange group the server picked, named as rustls names them (`X25519`,
/// `secp256r1`...); finite-field DH as `DH` and its size in bits (e.g. `DH 2048`).
fn describe_group(key: &PKey<Public>) -> Option<String> {
    let id = key.id();
    if id == Id::X25519 {
        return Some("X25519".to_string());
    }
    if id == Id::X448 {
        return Some("X448".to_string());
    }
    if id == Id::DH {
        return Some(format!("DH {}", key.bits()));
    }
    if id == Id::EC {
        let curve = key.ec_key().ok()?.group().curve_name()?;
        return Some(match curve {
            Nid::X9_62_PRIME256V1 => "secp256r1".to_string(),
            Nid::SECP384R1 => "secp384r1".to_string(),
            Nid::SECP521R1 => "secp521r1".to_string(),
            other => other.short_name().unwrap_or("unknown curve").to_string(),
        });
    }
    None
}

/// The peer's chain as sent, leaf first (on the client side OpenSSL's chain includes the leaf).
fn peer_chain(ssl: &SslRef) -> Vec<CertificateDer<'static>> {
    if let Some(stack) = ssl.peer_cert_chain() {
        let chain: Vec<CertificateDer<'static>> = stack
            .iter()
            .filter_map(|certificate| certificate.to_der().ok())
            .map(CertificateDer::from)
            .collect();
        if !chain.is_empty() {
            return chain;
        }
    }
    ssl.peer_certificate()
        .and_then(|certificate| certificate.to_der().ok())
        .map(|der| vec![CertificateDer::from(der)])
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ssl::SslCipher;
    use openssl::stack::Stack;

    /// The ciphers the linked OpenSSL knows among `numbers` (suite numbers as on the wire).
    fn openssl_ciphers(numbers: impl IntoIterator<Item = u16>) -> Stack<SslCipher> {
        let context = client_context("ALL:COMPLEMENTOFALL:@SECLEVEL=0").expect("context");
        let ssl = Ssl::new(&context).expect("ssl");
        let bytes: Vec<u8> = numbers.into_iter().flat_map(u16::to_be_bytes).collect();
        ssl.bytes_to_cipher_list(&bytes, false)
            .expect("cipher list")
            .suites
    }

    #[test]
    fn openssl_gives_the_iana_names_we_report() {
        // (number, OpenSSL's name, IANA name, forward secret)
        let expected = [
            (
                0xc030,
                "ECDHE-RSA-AES256-GCM-SHA384",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                true,
            ),
            (
                0xcca9,
                "ECDHE-ECDSA-CHACHA20-POLY1305",
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                true,
            ),
            (
                0xc013,
                "ECDHE-RSA-AES128-SHA",
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                true,
            ),
            (
                0x009f,
                "DHE-RSA-AES256-GCM-SHA384",
                "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
                true,
            ),
            (
                0x0033,
                "DHE-RSA-AES128-SHA",
                "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
                true,
            ),
            (
                0x009d,
                "AES256-GCM-SHA384",
                "TLS_RSA_WITH_AES_256_GCM_SHA384",
                false,
            ),
            (0x002f, "AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", false),
            (
                0x1302,
                "TLS_AES_256_GCM_SHA384",
                "TLS_AES_256_GCM_SHA384",
                true,
            ),
        ];
        let ciphers = openssl_ciphers(expected.iter().map(|(number, ..)| *number));
        assert_eq!(
            ciphers.len(),
            expected.len(),
            "all known to the linked OpenSSL"
        );
        for (cipher, (number, openssl_name, iana, pfs)) in ciphers.iter().zip(expected) {
            assert_eq!(u16::from_be_bytes(cipher.protocol_id()), number);
            assert_eq!(cipher.name(), openssl_name);
            assert_eq!(suite_name(cipher), iana, "{openssl_name}");
            let version = if number >> 8 == 0x13 {
                TlsVersion::Tls13
            } else {
                TlsVersion::Tls12
            };
            assert_eq!(
                is_forward_secret(Some(version), Some(&suite_name(cipher))),
                pfs,
                "{iana}"
            );
        }
    }

    #[test]
    fn forward_secrecy_read_from_the_name_agrees_with_openssls_key_exchange() {
        // Every suite the linked OpenSSL knows, whose key exchange we may offer: ECDHE, DHE,
        // plain RSA, and TLS 1.3's (`Kx=any`); not PSK, SRP, GOST or anonymous ones.
        let mut checked = 0;
        for cipher in &openssl_ciphers(0..=u16::MAX) {
            let description = cipher.description();
            let field = |key: &str| {
                description
                    .split_whitespace()
                    .find_map(|word| word.strip_prefix(key))
                    .map(str::to_string)
            };
            let (Some(kx), Some(au)) = (field("Kx="), field("Au=")) else {
                panic!("no key exchange in {description:?}");
            };
            if au == "None" {
                continue;
            }
            let (version, pfs) = match kx.as_str() {
                "any" => (TlsVersion::Tls13, true),
                "ECDH" | "DH" => (TlsVersion::Tls12, true),
                "RSA" => (TlsVersion::Tls12, false),
                _ => continue,
            };
            let name = suite_name(cipher);
            assert!(name.starts_with("TLS_"), "{description:?} -> {name}");
            assert_eq!(
                is_forward_secret(Some(version), Some(&name)),
                pfs,
                "{description:?} -> {name}"
            );
            checked += 1;
        }
        assert!(checked >= 60, "only {checked} suites checked");
    }

    /// A self-signed RSA-2048 server certificate for `mx.example.test`.
    fn server_identity() -> (openssl::x509::X509, PKey<openssl::pkey::Private>) {
        use openssl::x509::extension::SubjectAlternativeName;
        let key = PKey::from_rsa(openssl::rsa::Rsa::generate(2048).expect("RSA key")).expect("key");
        let mut name = openssl::x509::X509NameBuilder::new().expect("name");
        name.append_entry_by_text("CN", "mx.example.test")
            .expect("CN");
        let name = name.build();
        let mut builder = openssl::x509::X509Builder::new().expect("builder");
        builder.set_version(2).expect("version");
        builder.set_subject_name(&name).expect("subject");
        builder.set_issuer_name(&name).expect("issuer");
        builder.set_pubkey(&key).expect("public key");
        let not_before = openssl::asn1::Asn1Time::days_from_now(0).expect("time");
        let not_after = openssl::asn1::Asn1Time::days_from_now(30).expect("time");
        builder.set_not_before(&not_before).expect("not before");
        builder.set_not_after(&not_after).expect("not after");
        let san = SubjectAlternativeName::new()
            .dns("mx.example.test")
            .build(&builder.x509v3_context(None, None))
            .expect("SAN");
        builder.append_extension(san).expect("extension");
        builder
            .sign(&key, openssl::hash::MessageDigest::sha256())
            .expect("sign");
        (builder.build(), key)
    }

    /// Runs the legacy client against an in-process OpenSSL server (which follows the client's
    /// suite order, as OpenSSL servers do by default) over an in-memory pipe.
    async fn negotiate(
        offer: Offer,
        server_ciphers: &str,
        server_versions: (SslVersion, SslVersion),
    ) -> Result<SessionFacts, LegacyFailure> {
        let (certificate, key) = server_identity();
        let mut server = SslContext::builder(SslMethod::tls_server()).expect("server context");
        server.set_certificate(&certificate).expect("certificate");
        server.set_private_key(&key).expect("key");
        server
            .set_cipher_list(server_ciphers)
            .expect("server suites");
        server
            .set_min_proto_version(Some(server_versions.0))
            .expect("min version");
        server
            .set_max_proto_version(Some(server_versions.1))
            .expect("max version");
        let dh = openssl::dh::Dh::get_2048_256().expect("DH group");
        server.set_tmp_dh(&dh).expect("DH group");
        let server = server.build();
        let (client_io, server_io) = tokio::io::duplex(64 * 1024);
        let server_task = tokio::spawn(async move {
            let ssl = Ssl::new(&server).expect("server ssl");
            let mut stream = SslStream::new(ssl, server_io).expect("server stream");
            // The client's result is what the tests look at.
            let _ignored = Pin::new(&mut stream).accept().await;
        });
        let legacy = LegacyTls::new().expect("OpenSSL contexts");
        let result = legacy
            .handshake(offer, client_io, "mx.example.test", Duration::from_secs(5))
            .await;
        let facts = result.map(|session| {
            assert_eq!(session.chain.len(), 1, "the server's one certificate");
            session.facts
        });
        server_task.abort();
        facts
    }

    const ANY_SERVER: &str = "ALL:@SECLEVEL=0";
    const TLS10_TO_12: (SslVersion, SslVersion) = (SslVersion::TLS1, SslVersion::TLS1_2);

    #[tokio::test]
    async fn the_fallback_offers_forward_secrecy_first() {
        let facts = negotiate(Offer::SendingMta, ANY_SERVER, TLS10_TO_12)
            .await
            .expect("handshake");
        assert_eq!(facts.version, Some(TlsVersion::Tls12));
        assert_eq!(
            facts.cipher_suite.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        );
        assert_eq!(facts.kx_group.as_deref(), Some("X25519"));
        assert!(facts.pfs);
    }

    #[tokio::test]
    async fn deep_mode_offers_rsa_key_exchange_first_but_not_only() {
        let facts = negotiate(Offer::RsaKeyExchangeFirst, ANY_SERVER, TLS10_TO_12)
            .await
            .expect("handshake");
        assert_eq!(
            facts.cipher_suite.as_deref(),
            Some("TLS_RSA_WITH_AES_256_GCM_SHA384")
        );
        assert_eq!(facts.kx_group, None);
        assert!(!facts.pfs);
        // A server that allows only ECDHE or only DHE still finds its suite in the offer.
        let facts = negotiate(
            Offer::RsaKeyExchangeFirst,
            "kECDHE:@SECLEVEL=0",
            TLS10_TO_12,
        )
        .await
        .expect("handshake");
        assert_eq!(
            facts.cipher_suite.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        );
        assert!(facts.pfs);
        let facts = negotiate(Offer::RsaKeyExchangeFirst, "kDHE:@SECLEVEL=0", TLS10_TO_12)
            .await
            .expect("handshake");
        assert_eq!(
            facts.cipher_suite.as_deref(),
            Some("TLS_DHE_RSA_WITH_AES_256_GCM_SHA384")
        );
        assert_eq!(facts.kx_group.as_deref(), Some("DH 2048"));
        assert!(facts.pfs);
    }

    #[tokio::test]
    async fn the_fallback_speaks_tls_1_0() {
        let facts = negotiate(
            Offer::SendingMta,
            ANY_SERVER,
            (SslVersion::TLS1, SslVersion::TLS1),
        )
        .await
        .expect("handshake");
        assert_eq!(facts.version, Some(TlsVersion::Tls10));
        assert_eq!(
            facts.cipher_suite.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")
        );
    }

    #[tokio::test]
    async fn a_server_that_refuses_everything_offered_is_told_apart_from_a_broken_one() {
        let failure = negotiate(
            Offer::RsaKeyExchangeFirst,
            ANY_SERVER,
            (SslVersion::TLS1_3, SslVersion::TLS1_3),
        )
        .await
        .expect_err("a TLS 1.3-only server refuses TLS 1.2 and older");
        assert!(failure.refused_by_server, "{failure:?}");
        assert!(failure.detail.contains("protocol version"), "{failure:?}");

        let (client_io, server_io) = tokio::io::duplex(1024);
        drop(server_io);
        let legacy = LegacyTls::new().expect("OpenSSL contexts");
        let failure = legacy
            .handshake(
                Offer::SendingMta,
                client_io,
                "mx.example.test",
                Duration::from_secs(5),
            )
            .await
            .err()
            .expect("nobody at the other end");
        assert!(!failure.refused_by_server, "{failure:?}");
        assert!(!failure.timed_out, "{failure:?}");
    }
}
