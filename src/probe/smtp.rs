//! The SMTP sessions against one MX address: connect, greeting, `EHLO`, `STARTTLS`, TLS
//! handshake, `EHLO` again, `QUIT`. Never `MAIL`, `RCPT`, `DATA` or `AUTH`.
//!
//! The first session's handshake is rustls'. When it fails in a way an older client could
//! overcome, a second session (same plaintext part) completes the handshake with the legacy
//! OpenSSL client ([`super::legacy`]); in deep mode, an address that completed TLS gets one more
//! session in which the legacy client offers RSA key exchange first. Sessions run one after the
//! other, never two at once.
//!
//! Owns: the session state machine, its deadlines and the mapping of what the peer did onto an
//! [`AddressResult`]. Must not touch: DNS (the caller gives the address and MX host name), the
//! per-IP politeness lock (the caller holds it), storage.
//!
//! Findings are data: every path ends in an `AddressResult`; nothing here returns `Err`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rustls::pki_types::ServerName;
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::legacy::{LegacyTls, Offer};
use super::reply::{Parsed, Reply, ReplyError, ReplyLimits, parse_reply};
use super::socks::{self, ConnectFailure, SocksProxy};
use super::tls::{RecordedChain, SessionFacts, TlsSetup, classify_handshake_error, session_facts};
use crate::model::{AddressResult, CertError, Outcome, Reason};

/// Everything one session needs besides the address.
#[derive(Clone, Debug)]
pub struct SessionSettings {
    pub port: u16,
    pub ehlo_name: String,
    pub connect_timeout: Duration,
    pub greeting_timeout: Duration,
    pub command_timeout: Duration,
    pub tls_timeout: Duration,
    pub limits: ReplyLimits,
    /// Deep mode (`ProbeConfig::deep`): one more session per address that completed TLS.
    pub deep: bool,
    /// The SOCKS5 proxy every connection goes through (`ProbeConfig::proxy`); None: direct.
    pub proxy: Option<SocksProxy>,
}

/// Why reading a reply failed.
#[derive(Debug)]
enum ReadError {
    Timeout,
    Closed,
    Io(std::io::Error),
    Reply(ReplyError),
}

impl ReadError {
    fn reason(&self, timeout_reason: Reason) -> Reason {
        match self {
            ReadError::Timeout => timeout_reason,
            ReadError::Closed | ReadError::Io(_) => Reason::Closed,
            ReadError::Reply(
                ReplyError::LineTooLong { .. }
                | ReplyError::ReplyTooLarge { .. }
                | ReplyError::TooManyLines { .. },
            ) => Reason::ReplyTooLong,
            ReadError::Reply(_) => Reason::BadReply,
        }
    }

    fn describe(&self, waiting_for: &str) -> String {
        match self {
            ReadError::Timeout => format!("no complete {waiting_for} before the deadline"),
            ReadError::Closed => format!("connection closed while waiting for the {waiting_for}"),
            ReadError::Io(error) => {
                format!("connection error while reading the {waiting_for}: {error}")
            }
            ReadError::Reply(error) => format!("bad {waiting_for}: {error}"),
        }
    }
}

/// Reads SMTP replies from a stream through a bounded buffer.
struct ReplyReader<S> {
    stream: S,
    buffer: Vec<u8>,
    limits: ReplyLimits,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReplyReader<S> {
    fn new(stream: S, limits: ReplyLimits) -> Self {
        Self {
            stream,
            buffer: Vec::with_capacity(1024),
            limits,
        }
    }

    /// Reads one whole reply; `deadline` bounds the whole reply, not each read.
    async fn read_reply(&mut self, deadline: Instant) -> Result<Reply, ReadError> {
        let mut chunk = [0u8; 4096];
        loop {
            match parse_reply(&self.buffer, self.limits).map_err(ReadError::Reply)? {
                Parsed::Complete { reply, consumed } => {
                    self.buffer.drain(..consumed);
                    return Ok(reply);
                }
                Parsed::Incomplete => {}
            }
            let read = timeout_at(deadline, self.stream.read(&mut chunk))
                .await
                .map_err(|_| ReadError::Timeout)?
                .map_err(ReadError::Io)?;
            if read == 0 {
                return Err(ReadError::Closed);
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }

    async fn send(&mut self, command: &str, limit: Duration) -> Result<(), ReadError> {
        let line = format!("{command}\r\n");
        timeout(limit, async {
            self.stream.write_all(line.as_bytes()).await?;
            self.stream.flush().await
        })
        .await
        .map_err(|_| ReadError::Timeout)?
        .map_err(ReadError::Io)
    }

    /// Sends a command and reads its reply, each within `limit`.
    async fn command(&mut self, command: &str, limit: Duration) -> Result<Reply, ReadError> {
        self.send(command, limit).await?;
        self.read_reply(Instant::now() + limit).await
    }

    /// Best-effort polite goodbye; errors don't matter any more.
    async fn quit(&mut self, limit: Duration) {
        let limit = limit.min(Duration::from_secs(5));
        if self.send("QUIT", limit).await.is_ok() {
            let _ignored = self.read_reply(Instant::now() + limit).await;
        }
        let _ignored = timeout(limit, self.stream.shutdown()).await;
    }

    fn into_parts(self) -> (S, Vec<u8>) {
        (self.stream, self.buffer)
    }
}

/// Probes one address of one MX host and says what happened.
///
/// `mx_host` is the name as written in the MX record (or the domain for an implicit MX): it is
/// both the SNI and the name the certificate must match. The legacy fallback and deep mode may
/// add a second and third session, one after the other; `elapsed_ms` covers them all.
pub async fn probe_address(
    ip: IpAddr,
    mx_host: &str,
    settings: &SessionSettings,
    tls: &TlsSetup,
    legacy: &LegacyTls,
) -> (AddressResult, Option<PresentedChain>) {
    let started = Instant::now();
    let (mut result, chain) = run_session(ip, mx_host, settings, tls, legacy).await;
    if settings.deep && result.outcome == Outcome::TlsOk {
        deep_session(ip, mx_host, settings, legacy, &mut result).await;
    }
    result.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    (result, chain)
}

/// The certificate chain a server presented in a completed TLS session (rustls or the legacy
/// OpenSSL client), leaf first, as sent: what DANE checks (`probe::dane`).
pub type PresentedChain = Vec<rustls::pki_types::CertificateDer<'static>>;

fn keep_reply(result: &mut AddressResult, reply: &Reply) {
    result.smtp_code = Some(reply.code);
    result.smtp_text = Some(truncate(&reply.text(), 512));
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn ehlo_command(settings: &SessionSettings) -> String {
    format!("EHLO {}", settings.ehlo_name)
}

/// How the plaintext part of a session ended.
enum Plaintext {
    /// The server answered STARTTLS with 220 and sent nothing after it: `tcp` is ready for a
    /// TLS handshake. `result` holds what was learned so far (EHLO extensions, the 220 reply),
    /// with outcome `tls_failed` until a handshake completes.
    ReadyForTls {
        tcp: TcpStream,
        result: AddressResult,
    },
    /// The session ended before TLS; this is the address's result.
    Ended(AddressResult),
}

/// Connect, greeting, `EHLO`, `STARTTLS`, and the check that no byte follows the 220: the part
/// every session (rustls, legacy fallback, deep) shares.
async fn plaintext_until_tls(ip: IpAddr, settings: &SessionSettings) -> Plaintext {
    let untestable = |reason: Reason, detail: String| {
        Plaintext::Ended(AddressResult::new(ip, Outcome::Untestable, reason, detail))
    };
    let address = SocketAddr::new(ip, settings.port);

    // 1. Connect, directly or through the SOCKS proxy (the connect timeout covers both).
    let tcp = match socks::connect(settings.proxy.as_ref(), address, settings.connect_timeout).await
    {
        Ok(tcp) => tcp,
        Err(ConnectFailure::Target { reason, detail }) => return untestable(reason, detail),
        Err(ConnectFailure::Proxy(error)) => {
            return untestable(Reason::ProxyFailed, error.to_string());
        }
    };
    let _ignored = tcp.set_nodelay(true);
    let mut reader = ReplyReader::new(tcp, settings.limits);

    // 2. Greeting: one deadline for the whole reply.
    let greeting = match reader
        .read_reply(Instant::now() + settings.greeting_timeout)
        .await
    {
        Ok(reply) => reply,
        Err(error) => {
            // Through a proxy, nothing at all before the greeting failed is no sign of a
            // server: `ssh -D` answers the CONNECT before it connects out, then closes (or
            // waits) when the target refuses or is filtered.
            if settings.proxy.is_some()
                && reader.buffer.is_empty()
                && matches!(
                    error,
                    ReadError::Closed | ReadError::Io(_) | ReadError::Timeout
                )
            {
                return untestable(
                    Reason::ProxyNoGreeting,
                    format!(
                        "{} through the SOCKS proxy, before any byte from the server (the proxy may not have reached it)",
                        error.describe("greeting")
                    ),
                );
            }
            return untestable(
                error.reason(Reason::GreetingTimeout),
                error.describe("greeting"),
            );
        }
    };
    if greeting.code != 220 {
        let mut result = AddressResult::new(
            ip,
            Outcome::Untestable,
            Reason::GreetingRejected,
            format!("server greeted with {} instead of 220", greeting.code),
        );
        keep_reply(&mut result, &greeting);
        reader.quit(settings.command_timeout).await;
        return Plaintext::Ended(result);
    }

    // 3. EHLO.
    let ehlo = match reader
        .command(&ehlo_command(settings), settings.command_timeout)
        .await
    {
        Ok(reply) => reply,
        Err(error) => {
            let mut result = AddressResult::new(
                ip,
                Outcome::Untestable,
                error.reason(Reason::ReplyTimeout),
                error.describe("EHLO reply"),
            );
            keep_reply(&mut result, &greeting);
            return Plaintext::Ended(result);
        }
    };
    if ehlo.code != 250 {
        // 500/502/504: the server does not speak ESMTP, so it cannot offer STARTTLS.
        let no_esmtp = matches!(ehlo.code, 500 | 502 | 504);
        let mut result = if no_esmtp {
            let mut result = AddressResult::new(
                ip,
                Outcome::NoStarttls,
                Reason::Completed,
                format!(
                    "EHLO not supported ({}): no ESMTP, so no STARTTLS",
                    ehlo.code
                ),
            );
            result.starttls_advertised = Some(false);
            result
        } else {
            AddressResult::new(
                ip,
                Outcome::Untestable,
                Reason::EhloRejected,
                format!("EHLO answered {}; could not test", ehlo.code),
            )
        };
        keep_reply(&mut result, &ehlo);
        reader.quit(settings.command_timeout).await;
        return Plaintext::Ended(result);
    }
    let starttls_advertised = ehlo.has_extension("STARTTLS");
    if !starttls_advertised {
        let mut result = AddressResult::new(
            ip,
            Outcome::NoStarttls,
            Reason::Completed,
            "STARTTLS not advertised in the EHLO reply",
        );
        result.starttls_advertised = Some(false);
        result.ehlo_before_tls = ehlo.extensions();
        keep_reply(&mut result, &ehlo);
        reader.quit(settings.command_timeout).await;
        return Plaintext::Ended(result);
    }
    let mut result = AddressResult::new(ip, Outcome::TlsFailed, Reason::Completed, "");
    result.starttls_advertised = Some(true);
    result.ehlo_before_tls = ehlo.extensions();
    keep_reply(&mut result, &ehlo);

    // 4. STARTTLS.
    let starttls = match reader.command("STARTTLS", settings.command_timeout).await {
        Ok(reply) => reply,
        Err(error) => {
            result.reason = error.reason(Reason::ReplyTimeout);
            result.detail = error.describe("reply to STARTTLS");
            return Plaintext::Ended(result);
        }
    };
    keep_reply(&mut result, &starttls);
    if starttls.code == 421 {
        result.outcome = Outcome::Untestable;
        result.reason = Reason::StarttlsUnavailable;
        result.detail = "server answered STARTTLS with 421 (closing); could not test".to_string();
        return Plaintext::Ended(result);
    }
    if starttls.code != 220 {
        result.reason = Reason::StarttlsRejected;
        result.detail = format!("server refused STARTTLS with {}", starttls.code);
        reader.quit(settings.command_timeout).await;
        return Plaintext::Ended(result);
    }
    let (tcp, leftover) = reader.into_parts();
    let mut early = [0u8; 64];
    // WouldBlock (nothing there) is the normal case.
    let early_bytes: usize = tcp.try_read(&mut early).unwrap_or_default();
    if !leftover.is_empty() || early_bytes > 0 {
        result.reason = Reason::PlaintextAfterStarttls;
        result.detail = format!(
            "plaintext after STARTTLS: {} byte(s) arrived after the 220 and before TLS; refused to continue",
            leftover.len() + early_bytes
        );
        return Plaintext::Ended(result);
    }
    Plaintext::ReadyForTls { tcp, result }
}

/// The first session: the plaintext part, then rustls; hands over to the legacy fallback when
/// rustls fails in a way an older client could overcome.
async fn run_session(
    ip: IpAddr,
    mx_host: &str,
    settings: &SessionSettings,
    tls: &TlsSetup,
    legacy: &LegacyTls,
) -> (AddressResult, Option<PresentedChain>) {
    let (tcp, mut result) = match plaintext_until_tls(ip, settings).await {
        Plaintext::ReadyForTls { tcp, result } => (tcp, result),
        Plaintext::Ended(result) => return (result, None),
    };

    // 5. TLS handshake, SNI = MX host name.
    let Ok(server_name) = ServerName::try_from(mx_host.to_string()) else {
        result.reason = Reason::HandshakeFailed;
        result.detail = format!("MX host name '{mx_host}' cannot be used as a TLS server name");
        return (result, None);
    };
    let (config, chain_slot) = match tls.client_config() {
        Ok(parts) => parts,
        Err(error) => {
            result.reason = Reason::HandshakeFailed;
            result.detail = format!("TLS client setup failed: {error}");
            return (result, None);
        }
    };
    let connector = tokio_rustls::TlsConnector::from(config);
    let tls_stream = match timeout(settings.tls_timeout, connector.connect(server_name, tcp)).await
    {
        Err(_) => {
            result.reason = Reason::HandshakeTimeout;
            result.detail = format!(
                "TLS handshake did not finish within {} s",
                settings.tls_timeout.as_secs_f32()
            );
            return (result, None);
        }
        Ok(Err(error)) => {
            let failure = classify_handshake_error(&error);
            result.reason = Reason::HandshakeFailed;
            result.detail = failure.detail;
            if let Some(recorded) = chain_slot.take() {
                let assessment = tls.assess(&recorded, mx_host, OffsetDateTime::now_utc());
                if let Some(details) = assessment.details {
                    result.set_cert(details, OffsetDateTime::now_utc());
                }
            }
            if failure.legacy_may_help {
                return legacy_fallback(ip, mx_host, settings, tls, legacy, result).await;
            }
            return (result, None);
        }
        Ok(Ok(stream)) => stream,
    };
    let facts = session_facts(tls_stream.get_ref().1);
    let chain = record_session(&mut result, facts, None, chain_slot.take(), tls, mx_host);
    finish_over_tls(tls_stream, settings, &mut result).await;
    (result, chain)
}

/// The second session: the same plaintext part, then the legacy OpenSSL client. When it fails
/// too, the first session's result stands, with both reasons in `detail`.
async fn legacy_fallback(
    ip: IpAddr,
    mx_host: &str,
    settings: &SessionSettings,
    tls: &TlsSetup,
    legacy: &LegacyTls,
    rustls_failed: AddressResult,
) -> (AddressResult, Option<PresentedChain>) {
    let (tcp, mut result) = match plaintext_until_tls(ip, settings).await {
        Plaintext::ReadyForTls { tcp, result } => (tcp, result),
        Plaintext::Ended(second) => {
            let mut result = rustls_failed;
            result.detail = format!(
                "{}; the legacy fallback session (OpenSSL) did not get to TLS: {}",
                result.detail, second.detail
            );
            return (result, None);
        }
    };
    match legacy
        .handshake(Offer::SendingMta, tcp, mx_host, settings.tls_timeout)
        .await
    {
        Err(failure) => {
            let mut result = rustls_failed;
            result.detail = format!(
                "{}; legacy fallback (OpenSSL, TLS 1.0-1.2) failed too: {}",
                result.detail, failure.detail
            );
            (result, None)
        }
        Ok(session) => {
            let recorded = (!session.chain.is_empty())
                .then(|| tls.record_chain(session.chain, mx_host, OffsetDateTime::now_utc()));
            let chain = record_session(
                &mut result,
                session.facts,
                Some(&rustls_failed.detail),
                recorded,
                tls,
                mx_host,
            );
            finish_over_tls(session.stream, settings, &mut result).await;
            (result, chain)
        }
    }
}

/// Fills in a completed TLS session: facts, legacy flag and the strict certificate verdict.
/// `rustls_failure` is the rustls error when the legacy client carried the session. Gives back
/// the presented chain (for DANE), when there was one.
fn record_session(
    result: &mut AddressResult,
    facts: SessionFacts,
    rustls_failure: Option<&str>,
    recorded: Option<RecordedChain>,
    tls: &TlsSetup,
    mx_host: &str,
) -> Option<PresentedChain> {
    result.outcome = Outcome::TlsOk;
    result.reason = Reason::Completed;
    result.tls_grade = match (facts.version, facts.cipher_suite.as_deref()) {
        (Some(version), Some(suite)) => Some(crate::model::tls_grade::grade_session(
            version,
            suite,
            facts.kx_group.as_deref(),
        )),
        _ => None,
    };
    result.tls_version = facts.version;
    result.cipher_suite = facts.cipher_suite;
    result.kx_group = facts.kx_group;
    result.pfs = Some(facts.pfs);
    result.legacy_tls = Some(rustls_failure.is_some());
    let now = OffsetDateTime::now_utc();
    let chain = match recorded {
        Some(recorded) => {
            let assessment = tls.assess(&recorded, mx_host, now);
            result.strict_valid = Some(assessment.strict_valid);
            result.cert_errors = assessment.errors;
            if let Some(details) = assessment.details {
                result.set_cert(details, now);
            }
            Some(recorded.chain)
        }
        None => {
            result.strict_valid = Some(false);
            result.cert_errors = vec![CertError::NoCertificate];
            None
        }
    };
    let handshake = match rustls_failure {
        None => "TLS handshake completed".to_string(),
        Some(reason) => format!(
            "TLS handshake completed by the legacy OpenSSL client after rustls failed ({reason})"
        ),
    };
    result.detail = if result.strict_valid == Some(true) {
        format!("{handshake}; certificate passes strict validation")
    } else {
        let reasons: Vec<&str> = result
            .cert_errors
            .iter()
            .map(|error| error.as_str())
            .collect();
        format!(
            "{handshake}; certificate fails strict validation: {}",
            reasons.join(", ")
        )
    };
    chain
}

/// 6. `EHLO` over TLS, then `QUIT`, on whichever library's stream.
async fn finish_over_tls<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    settings: &SessionSettings,
    result: &mut AddressResult,
) {
    let mut tls_reader = ReplyReader::new(stream, settings.limits);
    match tls_reader
        .command(&ehlo_command(settings), settings.command_timeout)
        .await
    {
        Ok(reply) if reply.code == 250 => {
            result.ehlo_after_tls = reply.extensions();
        }
        Ok(reply) => {
            result
                .detail
                .push_str(&format!("; EHLO over TLS answered {}", reply.code));
        }
        Err(error) => {
            result
                .detail
                .push_str(&format!("; {}", error.describe("EHLO reply over TLS")));
            return;
        }
    }
    tls_reader.quit(settings.command_timeout).await;
}

/// Deep mode: one more session in which the legacy client offers RSA key exchange first, to
/// learn whether the server *chooses* a suite without forward secrecy (`prefers_non_pfs`).
/// Only `prefers_non_pfs` and a note in `detail` change; the verdict stays the first session's.
async fn deep_session(
    ip: IpAddr,
    mx_host: &str,
    settings: &SessionSettings,
    legacy: &LegacyTls,
    result: &mut AddressResult,
) {
    let note = match plaintext_until_tls(ip, settings).await {
        Plaintext::Ended(second) => {
            format!(
                "could not tell, the extra session did not get to TLS: {}",
                second.detail
            )
        }
        Plaintext::ReadyForTls { tcp, .. } => match legacy
            .handshake(
                Offer::RsaKeyExchangeFirst,
                tcp,
                mx_host,
                settings.tls_timeout,
            )
            .await
        {
            Ok(session) => {
                let chose_pfs = session.facts.pfs;
                let suite = session
                    .facts
                    .cipher_suite
                    .clone()
                    .unwrap_or_else(|| "an unknown suite".to_string());
                result.prefers_non_pfs = Some(!chose_pfs);
                ReplyReader::new(session.stream, settings.limits)
                    .quit(settings.command_timeout)
                    .await;
                if chose_pfs {
                    format!("offered RSA key exchange first, the server still chose {suite}")
                } else {
                    format!(
                        "offered RSA key exchange first, the server chose {suite} (no forward secrecy)"
                    )
                }
            }
            Err(failure) if failure.refused_by_server => {
                result.prefers_non_pfs = Some(false);
                format!(
                    "the server refused TLS 1.0-1.2 with RSA key exchange offered first ({}), so it never chooses a suite without forward secrecy",
                    failure.detail
                )
            }
            Err(failure) => format!("could not tell: {}", failure.detail),
        },
    };
    result.detail.push_str(&format!("; deep: {note}"));
}
