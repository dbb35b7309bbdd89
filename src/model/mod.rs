//! Plain data shared by every layer: domain names, probe outcomes, TLS and certificate facts, and
//! the verdict rules of DESIGN.md ("Metric definitions").
//!
//! Owns: the result types and their JSON shape (field names are a public contract), and the pure
//! functions that turn per-address outcomes into MX-host and domain verdicts.
//! Must not touch: any I/O (network, disk, clock reads other than what callers pass in).
//!
//! Names: each vocabulary enum (outcome, verdict, reason, ...) spells its text once, by serde's
//! `rename_all` and strum's `serialize_all` side by side; `as_str()` and `FromStr` come from
//! strum, and one test checks for every variant that the two agree and read back.
//!
//! Submodules: [`adoption`] (adoption counts, shares and chart series), [`changes`] (change
//! events between results), [`format`] (yes / no and percentages for people), [`stale`] (when
//! an untestable probe keeps the last known state).

pub(crate) mod vocabulary;

pub mod adoption;
pub mod auth;
pub mod changes;
pub mod domain_names;
pub mod format;
pub mod network_path;
pub mod stale;
#[cfg(test)]
pub(crate) mod test_support;
pub mod tls_grade;
pub mod weight;
pub mod words;

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

pub use domain_names::DomainNames;
pub use network_path::NetworkPath;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
pub use tls_grade::TlsGrade;
use vocabulary::vocabulary;
pub use weight::Weight;

/// A syntactically valid, lower-case ASCII domain name without a trailing dot.
///
/// Why a newtype: every layer (probe, store, import, UI) must agree on one spelling of a domain so
/// that de-duplication and lookups work; the only way to get one is [`DomainName::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

/// Why a string is not a usable domain name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    #[error("empty domain name")]
    Empty,
    #[error("domain name is longer than 253 characters")]
    TooLong,
    #[error("label '{0}' is empty or longer than 63 characters")]
    BadLabelLength(String),
    #[error(
        "label '{label}' contains '{character}' (only letters, digits, '-' and '_' are allowed)"
    )]
    BadCharacter { label: String, character: char },
    #[error("label '{0}' starts or ends with '-'")]
    HyphenAtEdge(String),
    #[error("'{0}' has a single label; a mail domain needs at least two (e.g. example.org)")]
    SingleLabel(String),
    #[error("'{0}' is an IP address, not a domain name")]
    IpAddress(String),
    #[error("internationalized name '{0}': give its ASCII (punycode) form, e.g. xn--...")]
    NotAscii(String),
}

impl DomainName {
    /// Validates and normalizes (lower case, one trailing dot removed, surrounding spaces trimmed).
    pub fn parse(input: &str) -> Result<Self, DomainNameError> {
        let trimmed = input.trim();
        let without_dot = trimmed.strip_suffix('.').unwrap_or(trimmed);
        let lower = Self::checked_ascii(without_dot)?.to_ascii_lowercase();
        Self::check_labels(&lower)?;
        Ok(Self(lower))
    }

    /// [`Self::parse`] of an owned name: a name already in normal form (as the store keeps
    /// them) is validated where it is, without a copy.
    pub fn parse_owned(input: String) -> Result<Self, DomainNameError> {
        let normal = !input.ends_with('.')
            && !input.starts_with(char::is_whitespace)
            && !input.ends_with(char::is_whitespace)
            && !input.bytes().any(|byte| byte.is_ascii_uppercase());
        if !normal {
            return Self::parse(&input);
        }
        Self::checked_ascii(&input)?;
        Self::check_labels(&input)?;
        Ok(Self(input))
    }

    /// `name` (no surrounding spaces, no trailing dot) if it is non-empty ASCII and not an IP
    /// address.
    fn checked_ascii(name: &str) -> Result<&str, DomainNameError> {
        if name.is_empty() {
            return Err(DomainNameError::Empty);
        }
        if !name.is_ascii() {
            return Err(DomainNameError::NotAscii(name.to_string()));
        }
        if name.parse::<IpAddr>().is_ok() {
            return Err(DomainNameError::IpAddress(name.to_string()));
        }
        Ok(name)
    }

    /// The length and label rules, on a lower-case ASCII name.
    fn check_labels(lower: &str) -> Result<(), DomainNameError> {
        if lower.len() > 253 {
            return Err(DomainNameError::TooLong);
        }
        let mut labels = 0;
        for label in lower.split('.') {
            labels += 1;
            if label.is_empty() || label.len() > 63 {
                return Err(DomainNameError::BadLabelLength(label.to_string()));
            }
            if let Some(character) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            {
                return Err(DomainNameError::BadCharacter {
                    label: label.to_string(),
                    character,
                });
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(DomainNameError::HyphenAtEdge(label.to_string()));
            }
        }
        if labels < 2 {
            return Err(DomainNameError::SingleLabel(lower.to_string()));
        }
        Ok(())
    }

    /// The name as text, e.g. `example.org`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The fully qualified form with a trailing dot, for DNS queries that must not be subject to
    /// the resolver's search list.
    pub fn to_fqdn(&self) -> String {
        format!("{}.", self.0)
    }

    /// The form shown to people: Unicode (`xn--bcher-kva.de` → `bücher.de`). The ASCII form
    /// when the name has no punycode label, does not decode cleanly, or decodes to a form that
    /// would not read back as the same domain (so a list copied from a report or the app can be
    /// imported again). Machine-readable output (JSON, CSV, `domains list`) keeps [`Self::as_str`].
    pub fn display_name(&self) -> Cow<'_, str> {
        let ascii = self.0.as_str();
        let has_punycode = ascii
            .split('.')
            .any(|label| label.len() > 4 && label[..4].eq_ignore_ascii_case("xn--"));
        if !has_punycode {
            return Cow::Borrowed(ascii);
        }
        match idna::domain_to_unicode(ascii) {
            (unicode, Ok(())) if self.is_read_back_from(&unicode) => Cow::Owned(unicode),
            _ => Cow::Borrowed(ascii),
        }
    }

    /// The name as plain text for people: the Unicode form, with the ASCII form beside it where
    /// they differ (`bücher.de (xn--bcher-kva.de)`), e.g. in the command line's tables.
    pub fn display_with_ascii(&self) -> String {
        let shown = self.display_name();
        if shown == self.0 {
            self.0.clone()
        } else {
            format!("{shown} ({})", self.0)
        }
    }

    /// Whether `unicode` turns back into this very name the way an import does (UTS 46 as
    /// browsers do), with nothing in it that an import would cut or trim first.
    fn is_read_back_from(&self, unicode: &str) -> bool {
        let structural = |character: char| {
            character.is_whitespace()
                || character.is_control()
                || matches!(
                    character,
                    '\u{feff}' | '\u{200b}'
                        ..='\u{200d}'
                            | '\u{2060}'
                            | '"'
                            | '\''
                            | '`'
                            | '<'
                            | '>'
                            | '@'
                            | '/'
                            | '?'
                            | '#'
                            | ':'
                            | '['
                            | ']'
                )
        };
        if unicode.chars().any(structural) {
            return false;
        }
        let Ok(ascii) = idna::domain_to_ascii_cow(unicode.as_bytes(), idna::AsciiDenyList::URL)
        else {
            return false;
        };
        let ascii = ascii.strip_suffix('.').unwrap_or(&ascii);
        DomainName::parse(ascii).is_ok_and(|again| &again == self)
    }
}

/// The mail provider of an MX host: its registrable domain by the Public Suffix List (None for
/// a name that has none, e.g. a bare public suffix).
pub fn provider_of(host: &str) -> Option<String> {
    psl::domain_str(host.trim_end_matches('.')).map(str::to_string)
}

impl fmt::Display for DomainName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl TryFrom<String> for DomainName {
    type Error = DomainNameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DomainName> for String {
    fn from(value: DomainName) -> Self {
        value.0
    }
}

vocabulary! {
    /// What happened at one MX address. Exactly one per probed address (DESIGN.md).
    pub enum Outcome {
        /// We could not find out: DNS failure, refused, timed out, 421/554 greeting, garbage.
        /// Never counts as "no STARTTLS".
        Untestable,
        /// Connected and EHLO worked, but STARTTLS was not advertised.
        NoStarttls,
        /// STARTTLS advertised, but the command was refused or the handshake failed.
        TlsFailed,
        /// The TLS handshake completed.
        TlsOk,
    }
}

impl Outcome {
    /// Rank for "worst of": lower is worse. Untestable is not ranked (it never pulls down).
    fn badness_rank(self) -> u8 {
        match self {
            Outcome::NoStarttls => 0,
            Outcome::TlsFailed => 1,
            Outcome::TlsOk => 2,
            Outcome::Untestable => 3,
        }
    }
}

vocabulary! {
    /// A domain's (or MX host's) overall verdict.
    pub enum Verdict {
        /// Null MX (`MX 0 .`): the domain accepts no mail. Excluded from adoption denominators.
        NoMail,
        /// No testable address at all. Excluded from adoption denominators.
        Untestable,
        NoStarttls,
        TlsFailed,
        TlsOk,
    }
}

impl Verdict {
    /// Whether this verdict counts in adoption denominators.
    pub fn is_testable(self) -> bool {
        !matches!(self, Verdict::NoMail | Verdict::Untestable)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

vocabulary! {
    /// How a DNS lookup failed. Kept with the result so "untestable" says why.
    pub enum DnsError {
        /// The name does not exist.
        Nxdomain,
        /// The server failed (SERVFAIL).
        Servfail,
        /// The server refused to answer (REFUSED).
        Refused,
        /// No answer in time.
        Timeout,
        /// The name exists but has no A/AAAA (for an MX host or an implicit MX).
        NoAddress,
        /// The answer could not be used (malformed, wrong type, unusable address).
        BadAnswer,
        /// Any other resolver failure (no connection to the server, ...).
        Other,
    }
}

vocabulary! {
    /// Why an address ended where it did, as a stable code (the `detail` field says it in words).
    ///
    /// The monitor uses these codes to tell "outbound port 25 looks blocked" (only timeouts and
    /// unreachable) from servers that answer.
    pub enum Reason {
        /// The peer answered everything asked; see the outcome.
        Completed,
        ConnectRefused,
        ConnectTimeout,
        /// Network or host unreachable (no route).
        Unreachable,
        ConnectFailed,
        GreetingTimeout,
        /// Greeting with 421, 554 or another non-220 code.
        GreetingRejected,
        /// A reply that is not SMTP (garbage, mixed codes).
        BadReply,
        /// A reply line or a whole reply longer than our caps.
        ReplyTooLong,
        /// The peer closed the connection where we expected a reply.
        Closed,
        ReplyTimeout,
        /// EHLO answered 4xx (temporary).
        EhloRejected,
        /// STARTTLS answered 454 or 5xx.
        StarttlsRejected,
        /// STARTTLS answered 421: the server is going away; untestable.
        StarttlsUnavailable,
        /// Bytes were buffered right after the 220 to STARTTLS: possible plaintext injection.
        PlaintextAfterStarttls,
        HandshakeFailed,
        HandshakeTimeout,
        /// The DNS step failed for this address's host.
        Dns,
        /// Our own probe failed (a task panicked): the address is untestable and `detail` carries
        /// the panic message. Never a finding about the server.
        InternalError,
        /// Through a SOCKS proxy: it could not reach the address (RFC 1928 replies 03 network
        /// unreachable, 04 host unreachable, 06 TTL expired); `detail` has the proxy's words.
        ProxyTargetUnreachable,
        /// Through a SOCKS proxy: the address refused the proxy's connection (reply 05).
        ProxyTargetRefused,
        /// Through a SOCKS proxy: it does not support the request (07 command, 08 address
        /// type, e.g. no IPv6).
        ProxyUnsupported,
        /// Through a SOCKS proxy: the tunnel closed, or stayed silent, before the server's
        /// first byte. `ssh -D` reports success before it connects out, so a refused or
        /// blocked target looks like this.
        ProxyNoGreeting,
        /// The SOCKS proxy itself failed (general failure, ruleset, gone): the address was not
        /// tested. Our failure, never a finding; a scan does not store such a result.
        ProxyFailed,
    }
}

vocabulary! {
    /// Protocol version of a completed TLS session.
    #[derive(PartialOrd, Ord)]
    pub enum TlsVersion {
        #[serde(rename = "SSLv3")]
        #[strum(serialize = "SSLv3")]
        Ssl3,
        #[serde(rename = "TLSv1.0")]
        #[strum(serialize = "TLSv1.0")]
        Tls10,
        #[serde(rename = "TLSv1.1")]
        #[strum(serialize = "TLSv1.1")]
        Tls11,
        #[serde(rename = "TLSv1.2")]
        #[strum(serialize = "TLSv1.2")]
        Tls12,
        #[serde(rename = "TLSv1.3")]
        #[strum(serialize = "TLSv1.3")]
        Tls13,
    }
}

vocabulary! {
    /// One reason why strict certificate validation failed. Every reason that applies is listed.
    #[derive(PartialOrd, Ord)]
    pub enum CertError {
        /// The chain does not lead to a trusted root.
        UnknownIssuer,
        /// The leaf is its own issuer and its self-signature verifies.
        SelfSigned,
        /// No subjectAltName DNS entry matches the MX host name.
        NameMismatch,
        Expired,
        NotYetValid,
        BadSignature,
        /// Key or signature algorithm we cannot verify.
        UnsupportedKey,
        /// Certificate not valid for TLS server use (extended key usage).
        InvalidPurpose,
        Revoked,
        /// The certificate could not be parsed.
        BadEncoding,
        /// The server sent no certificate.
        NoCertificate,
        /// Anything else WebPKI rejected.
        Other,
    }
}

/// Facts about the leaf certificate a server presented.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertDetails {
    /// RFC 4514 style, e.g. `CN=mx.example.org`.
    pub subject: String,
    /// subjectAltName entries: DNS names as written, IP addresses as text.
    pub sans: Vec<String>,
    pub issuer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// e.g. `RSA 2048`, `ECDSA P-256`, `Ed25519`.
    pub key: String,
    /// SHA-256 of the DER, lower-case hex.
    pub sha256: String,
}

/// What the probe learned at one address of one MX host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AddressResult {
    pub ip: IpAddr,
    pub outcome: Outcome,
    /// Stable code for why the session ended as it did.
    pub reason: Reason,
    /// The last reply that decided the outcome.
    pub smtp_code: Option<u16>,
    pub smtp_text: Option<String>,
    /// Why, in words, for people.
    pub detail: String,
    /// Null when we never saw an EHLO reply.
    pub starttls_advertised: Option<bool>,
    /// EHLO extension lines (without the first, greeting-like line).
    pub ehlo_before_tls: Vec<String>,
    pub ehlo_after_tls: Vec<String>,
    pub tls_version: Option<TlsVersion>,
    /// IANA name, e.g. `TLS_AES_256_GCM_SHA384`.
    pub cipher_suite: Option<String>,
    /// e.g. `X25519`, `secp256r1`.
    pub kx_group: Option<String>,
    pub pfs: Option<bool>,
    /// True when the session came from the legacy (OpenSSL) fallback; null without TLS.
    pub legacy_tls: Option<bool>,
    /// NCSC-NL's grade of the session ([`tls_grade`]); null without TLS (and in results stored
    /// before the field existed).
    #[serde(default)]
    pub tls_grade: Option<TlsGrade>,
    /// Deep mode only (`--deep`): true when the server chose a suite without forward secrecy
    /// while a TLS 1.0-1.2 sender offered RSA key exchange first (next to ECDHE and DHE); false
    /// when it chose ECDHE/DHE or refused TLS 1.2 and older altogether. Null when deep mode did
    /// not run, the session had no TLS, or the extra session could not tell.
    pub prefers_non_pfs: Option<bool>,
    pub strict_valid: Option<bool>,
    pub cert_errors: Vec<CertError>,
    pub cert_subject: Option<String>,
    pub cert_sans: Option<Vec<String>>,
    pub cert_issuer: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub cert_not_before: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub cert_not_after: Option<OffsetDateTime>,
    /// Whole days until `cert_not_after`, negative when expired.
    pub cert_days_left: Option<i64>,
    pub cert_key: Option<String>,
    pub cert_sha256: Option<String>,
    pub elapsed_ms: u64,
    /// DANE result of this address ([`auth::DaneStatus`]); null when the address is untestable,
    /// and in results stored before the field existed.
    #[serde(default)]
    pub dane: Option<auth::DaneStatus>,
    /// The TLSA record that matched the presented chain (`"3 1 1 <hex>"`), when `dane` is valid.
    #[serde(default)]
    pub dane_matched: Option<auth::TlsaRecord>,
}

impl AddressResult {
    /// A result with only the outcome and reason filled in; the probe fills the rest.
    pub fn new(ip: IpAddr, outcome: Outcome, reason: Reason, detail: impl Into<String>) -> Self {
        Self {
            ip,
            outcome,
            reason,
            smtp_code: None,
            smtp_text: None,
            detail: detail.into(),
            starttls_advertised: None,
            ehlo_before_tls: Vec::new(),
            ehlo_after_tls: Vec::new(),
            tls_version: None,
            cipher_suite: None,
            kx_group: None,
            pfs: None,
            legacy_tls: None,
            tls_grade: None,
            prefers_non_pfs: None,
            strict_valid: None,
            cert_errors: Vec::new(),
            cert_subject: None,
            cert_sans: None,
            cert_issuer: None,
            cert_not_before: None,
            cert_not_after: None,
            cert_days_left: None,
            cert_key: None,
            cert_sha256: None,
            elapsed_ms: 0,
            dane: None,
            dane_matched: None,
        }
    }

    /// Copies certificate facts into the flat fields, computing days left at `now`.
    pub fn set_cert(&mut self, cert: CertDetails, now: OffsetDateTime) {
        self.cert_days_left = Some((cert.not_after - now).whole_days());
        self.cert_subject = Some(cert.subject);
        self.cert_sans = Some(cert.sans);
        self.cert_issuer = Some(cert.issuer);
        self.cert_not_before = Some(cert.not_before);
        self.cert_not_after = Some(cert.not_after);
        self.cert_key = Some(cert.key);
        self.cert_sha256 = Some(cert.sha256);
    }
}

/// One MX host of a domain with every address probed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MxResult {
    /// As written in the MX record (lower case, no trailing dot); for an implicit MX, the domain.
    pub host: String,
    pub preference: u16,
    /// True when the domain has no MX and its own A/AAAA were used (RFC 5321 5.1).
    pub implicit: bool,
    /// Final target when the MX host name is a CNAME (an RFC 2181 violation, but common).
    pub cname_target: Option<String>,
    pub dns_error: Option<DnsError>,
    /// The host's verdict over its addresses (same rule as for a domain).
    pub verdict: Verdict,
    pub addresses: Vec<AddressResult>,
    /// A pattern of the MTA-STS policy in force matches this host name; null without a policy
    /// in force (and in results stored before the field existed).
    #[serde(default)]
    pub sts_matched: Option<bool>,
    /// Matched, STARTTLS on every testable address and WebPKI valid for the host name
    /// ([`auth::sts_passes`]); null without a policy in force, or when the host is untestable.
    #[serde(default)]
    pub sts_passes: Option<bool>,
    /// TLS-RPT of `_smtp._tls.<host>`, looked up when the host has a secure TLSA RRset (the
    /// DANE policy domain); null otherwise.
    #[serde(default)]
    pub tls_rpt: Option<auth::TlsRpt>,
    /// DNSSEC status of the host's address answers (A and AAAA, the worst of the two); null
    /// when not validated (the resolver passes no DNSSEC data, or an older result).
    #[serde(default)]
    pub dnssec: Option<auth::DnssecStatus>,
    /// The TLSA RRset at `_25._tcp.<host>` (or the CNAME target's, RFC 7672 §2.2.2): null when
    /// not looked up (the MX answer or the address answers are not secure), `[]` when looked up
    /// and none found.
    #[serde(default)]
    pub tlsa: Option<Vec<auth::TlsaRecord>>,
    /// DNSSEC status of the TLSA answer (or of its denial); null when not looked up.
    #[serde(default)]
    pub tlsa_dnssec: Option<auth::DnssecStatus>,
    /// DANE over the host's testable addresses ([`auth::fold_dane`]); null without any.
    #[serde(default)]
    pub dane: Option<auth::DaneSetStatus>,
    /// Informational DANE findings about this host's TLSA RRset; they never change `dane`.
    #[serde(default)]
    pub dane_warnings: Vec<auth::DaneWarning>,
}

/// The domain-level summary booleans of DESIGN.md; null when not applicable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aggregate {
    pub verdict: Verdict,
    pub starttls: Option<bool>,
    pub pfs: Option<bool>,
    pub strict_valid: Option<bool>,
    /// The worst TLS grade over the addresses where TLS worked; None when there are none.
    pub tls_grade: Option<TlsGrade>,
}

/// Applies DESIGN.md's domain rule to a set of probed addresses (null MX is the caller's case).
///
/// Untestable addresses are skipped; with nothing testable the verdict is `untestable`; otherwise
/// the worst outcome wins and the booleans require every testable address to qualify.
pub fn aggregate<'a>(addresses: impl IntoIterator<Item = &'a AddressResult>) -> Aggregate {
    let testable: Vec<&AddressResult> = addresses
        .into_iter()
        .filter(|address| address.outcome != Outcome::Untestable)
        .collect();
    let Some(worst) = testable
        .iter()
        .map(|address| address.outcome)
        .min_by_key(|outcome| outcome.badness_rank())
    else {
        return Aggregate {
            verdict: Verdict::Untestable,
            starttls: None,
            pfs: None,
            strict_valid: None,
            tls_grade: None,
        };
    };
    let verdict = match worst {
        Outcome::NoStarttls => Verdict::NoStarttls,
        Outcome::TlsFailed => Verdict::TlsFailed,
        Outcome::TlsOk | Outcome::Untestable => Verdict::TlsOk,
    };
    let starttls = testable
        .iter()
        .all(|address| address.outcome == Outcome::TlsOk);
    let pfs = starttls && testable.iter().all(|address| address.pfs == Some(true));
    let strict_valid = starttls
        && testable
            .iter()
            .all(|address| address.strict_valid == Some(true));
    let tls_grade = TlsGrade::worst(
        testable
            .iter()
            .filter(|address| address.outcome == Outcome::TlsOk)
            .filter_map(|address| address.tls_grade),
    );
    Aggregate {
        verdict,
        starttls: Some(starttls),
        pfs: Some(pfs),
        strict_valid: Some(strict_valid),
        tls_grade,
    }
}

/// Everything the probe learned about one domain at one time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DomainResult {
    pub domain: DomainName,
    pub verdict: Verdict,
    pub starttls: Option<bool>,
    pub pfs: Option<bool>,
    pub strict_valid: Option<bool>,
    /// The worst `tls_grade` over the addresses where TLS worked; null when there are none (and
    /// in results stored before the field existed).
    #[serde(default)]
    pub tls_grade: Option<TlsGrade>,
    /// How the domain's own MX lookup failed, if it did.
    pub dns_error: Option<DnsError>,
    #[serde(with = "time::serde::rfc3339")]
    pub probed_at: OffsetDateTime,
    /// MX hosts by preference (then name).
    pub mx: Vec<MxResult>,
    /// The domain's MTA-STS state (RFC 8461; DESIGN.md "Authenticated transport"); null when
    /// not looked up (null MX, a failed probe, results stored before the field existed).
    #[serde(default)]
    pub mta_sts: Option<auth::MtaSts>,
    /// The domain's TLS-RPT record (`_smtp._tls.<domain>`, RFC 8460); null when not looked up.
    #[serde(default)]
    pub tls_rpt: Option<auth::TlsRpt>,
    /// DNSSEC status of the MX answer (or of its denial); null when not validated (the resolver
    /// passes no DNSSEC data, the domain's probe failed, or an older result).
    #[serde(default)]
    pub dnssec: Option<auth::DnssecStatus>,
    /// DANE over the testable MX hosts ([`auth::fold_dane`]); null for `no_mail` and when
    /// nothing was testable (unless the MX answer is bogus).
    #[serde(default)]
    pub dane: Option<auth::DaneSetStatus>,
    /// Informational DANE findings about the MX answer (its signatures expiring soon).
    #[serde(default)]
    pub dane_warnings: Vec<auth::DaneWarning>,
    /// What a DANE-enforcing and an MTA-STS-enforcing sender would do with this domain's mail
    /// ([`auth::sender_view`] of [`DomainResult::sender_facts`]); null for `no_mail` and in
    /// results stored before the field existed.
    #[serde(default)]
    pub sender: Option<auth::SenderView>,
    /// While this result is untestable and the domain keeps its last known state
    /// ([`stale`]): the first untestable probe since `last_known`. Null otherwise, and always
    /// from the probe itself (only the store knows a domain's history).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub stale_since: Option<OffsetDateTime>,
    /// The full last testable result, which still counts while this one is untestable (see
    /// `stale_since`); null otherwise.
    #[serde(default)]
    pub last_known: Option<Box<DomainResult>>,
}

impl MxResult {
    /// An MX host as its addresses' probes left it, with nothing else known yet: not implicit,
    /// no CNAME, no DNS error, the verdict folded from `addresses` (untestable without any),
    /// and the DNSSEC / DANE / MTA-STS / TLS-RPT fields not looked up.
    pub fn new(host: impl Into<String>, preference: u16, addresses: Vec<AddressResult>) -> Self {
        let verdict = if addresses.is_empty() {
            Verdict::Untestable
        } else {
            aggregate(&addresses).verdict
        };
        Self {
            host: host.into(),
            preference,
            implicit: false,
            cname_target: None,
            dns_error: None,
            verdict,
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
}

impl DomainResult {
    /// Builds the result and computes the verdict from the MX hosts, by DESIGN.md's rule.
    pub fn new(
        domain: DomainName,
        null_mx: bool,
        dns_error: Option<DnsError>,
        probed_at: OffsetDateTime,
        mx: Vec<MxResult>,
    ) -> Self {
        let summary = if null_mx {
            Aggregate {
                verdict: Verdict::NoMail,
                starttls: None,
                pfs: None,
                strict_valid: None,
                tls_grade: None,
            }
        } else {
            aggregate(mx.iter().flat_map(|host| host.addresses.iter()))
        };
        Self {
            domain,
            verdict: summary.verdict,
            starttls: summary.starttls,
            pfs: summary.pfs,
            strict_valid: summary.strict_valid,
            tls_grade: summary.tls_grade,
            dns_error,
            probed_at,
            mx,
            mta_sts: None,
            tls_rpt: None,
            dnssec: None,
            dane: None,
            dane_warnings: Vec::new(),
            sender: None,
            stale_since: None,
            last_known: None,
        }
    }

    /// What the sender rule reads of this result: the MX answer's DNSSEC status, whether an
    /// MTA-STS `enforce` policy is in force, and the DANE / `sts_passes` of each testable MX
    /// host (a host with at least one testable address).
    pub fn sender_facts(&self) -> auth::SenderFacts {
        auth::SenderFacts {
            no_mail: self.verdict == Verdict::NoMail,
            mx_dnssec: self.dnssec,
            sts_enforce: self
                .mta_sts
                .as_ref()
                .is_some_and(|mta_sts| mta_sts.outcome.is_enforce()),
            hosts: self
                .mx
                .iter()
                .filter(|host| host.verdict != Verdict::Untestable)
                .map(|host| auth::SenderHostFacts {
                    dane: host.dane,
                    sts_passes: host.sts_passes,
                })
                .collect(),
        }
    }

    /// Sets `sender` from the result's DNSSEC, DANE and MTA-STS facts (call it once they are in).
    pub fn judge_sender(&mut self) {
        self.sender = auth::sender_view(&self.sender_facts());
    }

    /// The domain's mail provider: the registrable domain of its primary (first) MX host, or
    /// that host's name when it has none; None without MX hosts.
    pub fn provider(&self) -> Option<String> {
        self.mx
            .first()
            .map(|host| provider_of(&host.host).unwrap_or_else(|| host.host.clone()))
    }

    /// How many MX hosts had no testable address, for "1 of 2 MX hosts untestable".
    pub fn untestable_host_count(&self) -> usize {
        self.mx
            .iter()
            .filter(|host| host.verdict == Verdict::Untestable)
            .count()
    }

    /// True when the domain names MX hosts and every one dangles: its name does not exist or
    /// has no address (DNS answered, so this is the domain's state, not a passing failure).
    /// Such a domain cannot receive mail; its verdict stays `untestable`.
    pub fn every_mx_host_dangles(&self) -> bool {
        !self.mx.is_empty()
            && self.mx.iter().all(|host| {
                host.addresses.is_empty()
                    && matches!(
                        host.dns_error,
                        Some(DnsError::NoAddress | DnsError::Nxdomain)
                    )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    use crate::model::changes::ChangeKind;
    use crate::model::test_support::assert_names_agree;

    #[test]
    fn people_see_the_unicode_form_with_the_ascii_form_beside_it() {
        let idn = DomainName::parse("xn--bcher-kva.de").expect("valid");
        assert_eq!(idn.display_name(), "bücher.de");
        assert_eq!(idn.display_with_ascii(), "bücher.de (xn--bcher-kva.de)");
        let plain = DomainName::parse("example.org").expect("valid");
        assert_eq!(plain.display_with_ascii(), "example.org");
    }

    #[test]
    fn every_enum_name_is_its_serde_name_and_reads_back() {
        assert_names_agree::<Outcome>();
        assert_names_agree::<Verdict>();
        assert_names_agree::<DnsError>();
        assert_names_agree::<TlsGrade>();
        assert_names_agree::<Reason>();
        assert_names_agree::<TlsVersion>();
        assert_names_agree::<CertError>();
        assert_names_agree::<ChangeKind>();
    }

    #[test]
    fn enum_names_are_the_documented_ones() {
        assert_eq!(Outcome::NoStarttls.as_str(), "no_starttls");
        assert_eq!(Verdict::NoMail.as_str(), "no_mail");
        assert_eq!(Verdict::TlsOk.to_string(), "tls_ok");
        assert_eq!(DnsError::NoAddress.as_str(), "no_address");
        assert_eq!(
            Reason::PlaintextAfterStarttls.as_str(),
            "plaintext_after_starttls"
        );
        assert_eq!(TlsVersion::Ssl3.as_str(), "SSLv3");
        assert_eq!(TlsVersion::Tls10.as_str(), "TLSv1.0");
        assert_eq!(TlsVersion::Tls13.as_str(), "TLSv1.3");
        assert_eq!(CertError::NotYetValid.as_str(), "not_yet_valid");
        assert_eq!(
            ChangeKind::CertBecameInvalid.as_str(),
            "cert_became_invalid"
        );
        assert_eq!("tls_failed".parse::<Verdict>(), Ok(Verdict::TlsFailed));
        assert!(
            "TLS_OK".parse::<Verdict>().is_err(),
            "names are case-sensitive"
        );
        assert!("tlsv1.3".parse::<TlsVersion>().is_err());
        assert!("".parse::<ChangeKind>().is_err());
    }

    fn address(outcome: Outcome, pfs: Option<bool>, strict: Option<bool>) -> AddressResult {
        let mut result = AddressResult::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            outcome,
            Reason::Completed,
            "",
        );
        result.pfs = pfs;
        result.strict_valid = strict;
        result
    }

    #[test]
    fn domain_names_are_normalized_and_validated() {
        assert_eq!(
            DomainName::parse(" Example.ORG. ").map(|d| d.to_string()),
            Ok("example.org".to_string())
        );
        assert_eq!(DomainName::parse(""), Err(DomainNameError::Empty));
        assert!(matches!(
            DomainName::parse("exa mple.org"),
            Err(DomainNameError::BadCharacter { character: ' ', .. })
        ));
        assert!(matches!(
            DomainName::parse("a..b"),
            Err(DomainNameError::BadLabelLength(_))
        ));
        assert!(matches!(
            DomainName::parse("-a.org"),
            Err(DomainNameError::HyphenAtEdge(_))
        ));
        assert!(matches!(
            DomainName::parse("localhost"),
            Err(DomainNameError::SingleLabel(_))
        ));
        assert!(matches!(
            DomainName::parse("127.0.0.1"),
            Err(DomainNameError::IpAddress(_))
        ));
        assert!(matches!(
            DomainName::parse("bücher.de"),
            Err(DomainNameError::NotAscii(_))
        ));
        let long = format!("{}.org", "a".repeat(64));
        assert!(matches!(
            DomainName::parse(&long),
            Err(DomainNameError::BadLabelLength(_))
        ));
    }

    #[test]
    fn an_owned_name_is_judged_as_its_text_is() {
        let long = format!("{}.org", "a".repeat(64));
        let too_long = format!("{}.org", "abcdefghi.".repeat(26));
        let inputs = [
            "example.org",
            " Example.ORG. ",
            "mail.example.org.",
            "",
            ".",
            "exa mple.org",
            "a..b",
            "-a.org",
            "localhost",
            "127.0.0.1",
            "::1",
            "bücher.de",
            "xn--bcher-kva.de",
            "_dmarc.example.org",
            long.as_str(),
            too_long.as_str(),
        ];
        for input in inputs {
            assert_eq!(
                DomainName::parse_owned(input.to_string()),
                DomainName::parse(input),
                "{input:?}"
            );
        }
    }

    #[test]
    fn names_are_shown_in_unicode_when_they_read_back() {
        let idn = DomainName::parse("xn--bcher-kva.de").expect("valid");
        assert_eq!(idn.display_name(), "bücher.de");
        assert_eq!(
            idn.as_str(),
            "xn--bcher-kva.de",
            "the ASCII form stays the name"
        );
        let plain = DomainName::parse("example.org").expect("valid");
        assert!(matches!(plain.display_name(), Cow::Borrowed("example.org")));
        let bad_punycode = DomainName::parse("xn--zz.example").expect("syntactically fine");
        assert_eq!(bad_punycode.display_name(), "xn--zz.example");
        // Found by the normalize_domain fuzz target: decodes to a label starting with xn--.
        let tricky =
            DomainName::parse("xn--xn---eedaa.xn--bgohhhhhhhhrkhohhhhmrwei").expect("valid");
        assert_eq!(tricky.display_name(), tricky.as_str());
    }

    #[test]
    fn providers_are_registrable_domains_of_the_primary_mx() {
        assert_eq!(
            provider_of("mx1.mail.google.com."),
            Some("google.com".into())
        );
        assert_eq!(
            provider_of("mx.example.co.uk"),
            Some("example.co.uk".into())
        );
        let domain = DomainName::parse("example.org").expect("valid");
        let host = |name: &str| MxResult {
            host: name.into(),
            preference: 10,
            implicit: false,
            cname_target: None,
            dns_error: None,
            verdict: Verdict::Untestable,
            addresses: vec![],
            sts_matched: None,
            sts_passes: None,
            tls_rpt: None,
            dnssec: None,
            tlsa: None,
            tlsa_dnssec: None,
            dane: None,
            dane_warnings: Vec::new(),
        };
        let result = DomainResult::new(
            domain.clone(),
            false,
            None,
            OffsetDateTime::UNIX_EPOCH,
            vec![host("aspmx.l.google.com"), host("mx.other.example")],
        );
        assert_eq!(result.provider(), Some("google.com".into()));
        let none = DomainResult::new(domain, true, None, OffsetDateTime::UNIX_EPOCH, vec![]);
        assert_eq!(none.provider(), None);
    }

    #[test]
    fn a_domain_whose_every_mx_host_dangles_cannot_receive_mail() {
        let domain = DomainName::parse("example.org").expect("valid");
        let host = |name: &str, dns_error: Option<DnsError>| MxResult {
            host: name.into(),
            preference: 10,
            implicit: false,
            cname_target: None,
            dns_error,
            verdict: Verdict::Untestable,
            addresses: vec![],
            sts_matched: None,
            sts_passes: None,
            tls_rpt: None,
            dnssec: None,
            tlsa: None,
            tlsa_dnssec: None,
            dane: None,
            dane_warnings: Vec::new(),
        };
        let result = |hosts: Vec<MxResult>| {
            DomainResult::new(
                domain.clone(),
                false,
                None,
                OffsetDateTime::UNIX_EPOCH,
                hosts,
            )
        };
        let dangling = result(vec![
            host("mx1.example.org", Some(DnsError::NoAddress)),
            host("mx2.example.org", Some(DnsError::Nxdomain)),
        ]);
        assert!(dangling.every_mx_host_dangles());
        assert_eq!(dangling.verdict, Verdict::Untestable, "the verdict stays");
        // One host timing out is a passing failure, not the domain's state.
        let timeout = result(vec![
            host("mx1.example.org", Some(DnsError::NoAddress)),
            host("mx2.example.org", Some(DnsError::Timeout)),
        ]);
        assert!(!timeout.every_mx_host_dangles());
        assert!(
            !result(vec![]).every_mx_host_dangles(),
            "no MX hosts at all"
        );
    }

    #[test]
    fn nothing_testable_is_untestable_with_null_booleans() {
        let summary = aggregate(&[address(Outcome::Untestable, None, None)]);
        assert_eq!(summary.verdict, Verdict::Untestable);
        assert_eq!(summary.starttls, None);
        assert_eq!(summary.pfs, None);
        assert_eq!(summary.strict_valid, None);
        assert_eq!(aggregate(&[]).verdict, Verdict::Untestable);
    }

    #[test]
    fn untestable_address_never_pulls_a_domain_down() {
        let summary = aggregate(&[
            address(Outcome::Untestable, None, None),
            address(Outcome::TlsOk, Some(true), Some(true)),
        ]);
        assert_eq!(summary.verdict, Verdict::TlsOk);
        assert_eq!(summary.starttls, Some(true));
        assert_eq!(summary.pfs, Some(true));
        assert_eq!(summary.strict_valid, Some(true));
    }

    #[test]
    fn worst_testable_outcome_wins() {
        let summary = aggregate(&[
            address(Outcome::TlsOk, Some(true), Some(true)),
            address(Outcome::TlsFailed, None, None),
            address(Outcome::NoStarttls, None, None),
        ]);
        assert_eq!(summary.verdict, Verdict::NoStarttls);
        assert_eq!(summary.starttls, Some(false));
        assert_eq!(summary.pfs, Some(false));
        assert_eq!(summary.strict_valid, Some(false));

        let summary = aggregate(&[
            address(Outcome::TlsOk, Some(true), Some(true)),
            address(Outcome::TlsFailed, None, None),
        ]);
        assert_eq!(summary.verdict, Verdict::TlsFailed);
        assert_eq!(summary.starttls, Some(false));
    }

    #[test]
    fn pfs_and_strict_need_every_testable_address() {
        let summary = aggregate(&[
            address(Outcome::TlsOk, Some(true), Some(true)),
            address(Outcome::TlsOk, Some(false), Some(true)),
        ]);
        assert_eq!(summary.verdict, Verdict::TlsOk);
        assert_eq!(summary.starttls, Some(true));
        assert_eq!(summary.pfs, Some(false));
        assert_eq!(summary.strict_valid, Some(true));

        let summary = aggregate(&[
            address(Outcome::TlsOk, Some(true), Some(false)),
            address(Outcome::TlsOk, Some(true), Some(true)),
        ]);
        assert_eq!(summary.pfs, Some(true));
        assert_eq!(summary.strict_valid, Some(false));
    }

    #[test]
    fn null_mx_is_no_mail_with_null_booleans() {
        let domain = DomainName::parse("example.org").expect("valid");
        let result = DomainResult::new(domain, true, None, OffsetDateTime::UNIX_EPOCH, vec![]);
        assert_eq!(result.verdict, Verdict::NoMail);
        assert_eq!(result.starttls, None);
        assert!(!result.verdict.is_testable());
    }

    #[test]
    fn json_field_names_follow_the_contract() {
        let domain = DomainName::parse("example.org").expect("valid");
        let mut tls_address = address(Outcome::TlsOk, Some(true), Some(false));
        tls_address.tls_version = Some(TlsVersion::Tls13);
        tls_address.tls_grade = Some(TlsGrade::Good);
        tls_address.cert_errors = vec![CertError::SelfSigned, CertError::NameMismatch];
        let host = MxResult {
            host: "mx.example.org".into(),
            preference: 10,
            implicit: false,
            cname_target: None,
            dns_error: None,
            verdict: Verdict::TlsOk,
            addresses: vec![tls_address],
            sts_matched: None,
            sts_passes: None,
            tls_rpt: None,
            dnssec: None,
            tlsa: None,
            tlsa_dnssec: None,
            dane: None,
            dane_warnings: Vec::new(),
        };
        let result = DomainResult::new(domain, false, None, OffsetDateTime::UNIX_EPOCH, vec![host]);
        let json = serde_json::to_value(&result).expect("serializes");
        assert_eq!(json["verdict"], "tls_ok");
        assert_eq!(json["probed_at"], "1970-01-01T00:00:00Z");
        assert_eq!(json["dns_error"], serde_json::Value::Null);
        assert_eq!(
            json["stale_since"],
            serde_json::Value::Null,
            "always present"
        );
        assert_eq!(
            json["last_known"],
            serde_json::Value::Null,
            "always present"
        );
        let text = serde_json::to_string(&result).expect("serializes");
        assert!(
            text.ends_with(",\"stale_since\":null,\"last_known\":null}"),
            "after mx, the nested last known result last: {text}"
        );
        let address_json = &json["mx"][0]["addresses"][0];
        assert_eq!(address_json["tls_version"], "TLSv1.3");
        assert_eq!(address_json["prefers_non_pfs"], serde_json::Value::Null);
        assert_eq!(address_json["tls_grade"], "good");
        assert_eq!(json["tls_grade"], "good", "the worst over TLS addresses");
        assert_eq!(
            address_json["cert_errors"],
            serde_json::json!(["self_signed", "name_mismatch"])
        );
        for field in [
            "ip",
            "outcome",
            "smtp_code",
            "smtp_text",
            "detail",
            "starttls_advertised",
            "ehlo_before_tls",
            "ehlo_after_tls",
            "tls_version",
            "cipher_suite",
            "kx_group",
            "pfs",
            "legacy_tls",
            "tls_grade",
            "prefers_non_pfs",
            "strict_valid",
            "cert_errors",
            "cert_subject",
            "cert_sans",
            "cert_issuer",
            "cert_not_before",
            "cert_not_after",
            "cert_days_left",
            "cert_key",
            "cert_sha256",
            "elapsed_ms",
        ] {
            assert!(address_json.get(field).is_some(), "missing field {field}");
        }
        let back: DomainResult = serde_json::from_value(json).expect("round-trips");
        assert_eq!(back, result);

        // Stale: the last known result nested whole; results stored before the fields existed
        // read back with both null.
        let mut stale = result.clone();
        stale.verdict = Verdict::Untestable;
        stale.dns_error = Some(DnsError::Timeout);
        stale.stale_since = Some(OffsetDateTime::UNIX_EPOCH + time::Duration::hours(2));
        stale.last_known = Some(Box::new(result.clone()));
        let json = serde_json::to_value(&stale).expect("serializes");
        assert_eq!(json["stale_since"], "1970-01-01T02:00:00Z");
        assert_eq!(json["last_known"]["verdict"], "tls_ok");
        assert_eq!(json["last_known"]["last_known"], serde_json::Value::Null);
        let back: DomainResult = serde_json::from_value(json).expect("round-trips");
        assert_eq!(back, stale);
        let mut old = serde_json::to_value(&result).expect("serializes");
        let object = old.as_object_mut().expect("an object");
        object.remove("stale_since");
        object.remove("last_known");
        object.remove("tls_grade");
        for host in object["mx"].as_array_mut().expect("hosts") {
            for address in host["addresses"].as_array_mut().expect("addresses") {
                address
                    .as_object_mut()
                    .expect("an object")
                    .remove("tls_grade");
            }
        }
        let back: DomainResult = serde_json::from_value(old).expect("old results read");
        let mut ungraded = result.clone();
        ungraded.tls_grade = None;
        for address in ungraded.mx.iter_mut().flat_map(|host| &mut host.addresses) {
            address.tls_grade = None;
        }
        assert_eq!(
            back, ungraded,
            "results stored before tls_grade read it as null"
        );
    }
}
