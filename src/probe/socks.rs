//! Reaching port 25 through a SOCKS5 proxy (RFC 1928, user/password RFC 1929): the proxy's
//! address and credentials, the check made before a scan (greeting and authentication), and
//! the CONNECT of one SMTP session to one resolved address.
//!
//! The CONNECT itself is tokio-socks' (`Socks5Stream::connect_with_socket`): we open the TCP
//! connection to the proxy (so its failure is told apart from the target's) and hand it over;
//! after a successful CONNECT the stream is a plain tunnel and the session goes on as over a
//! direct connection. The check before a scan sends only the greeting and, when the proxy asks
//! for it, the RFC 1929 sub-negotiation, then closes: it never asks the proxy to connect
//! anywhere.
//!
//! Two kinds of failure, kept apart on purpose (DESIGN.md "Reaching port 25"): the proxy's own
//! ([`ProxyError`]: unreachable, not SOCKS5, authentication refused, general failure 01,
//! ruleset 02) is *our* failure, never a finding about a domain; the proxy's word about the
//! target (03-06 network/host unreachable, refused, TTL expired; 07/08 unsupported) is the
//! address's result, untestable with the proxy's words.
//!
//! The password never leaves this module in text for people: [`SocksProxy`]'s `Display` and
//! `Debug` mask it; only [`SocksProxy::url_with_password`] (for saving the setting) spells it.
//! Must not touch: DNS (targets are resolved addresses; the proxy host name is the system's to
//! resolve), the SMTP session, storage.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_socks::tcp::Socks5Stream;

use crate::model::Reason;

/// What `Display` shows instead of a password.
pub const MASK: &str = "***";

/// A SOCKS5 proxy: `socks5://[user:pass@]HOST:PORT`.
#[derive(Clone, PartialEq, Eq)]
pub struct SocksProxy {
    host: String,
    port: u16,
    credentials: Option<Credentials>,
}

/// RFC 1929 user name and password (each 1 to 255 bytes).
#[derive(Clone, PartialEq, Eq)]
struct Credentials {
    username: String,
    password: String,
}

impl SocksProxy {
    /// Parses `socks5://[user:pass@]HOST:PORT` (percent-escapes in user and password are
    /// decoded; an IPv6 host is written `[::1]`). `socks5h://` is refused: DNS stays local, so
    /// that per-address results stay exact.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let expected = "expected socks5://[user:pass@]HOST:PORT";
        if !text.contains("://") {
            return Err(format!(
                "'{}' is not a proxy URL ({expected})",
                mask_in(text)
            ));
        }
        let url = url::Url::parse(text)
            .map_err(|_| format!("'{}' is not a proxy URL ({expected})", mask_in(text)))?;
        match url.scheme() {
            "socks5" => {}
            "socks5h" => {
                return Err(format!(
                    "'{}': socks5h (DNS by the proxy) is not supported; DNS stays local, give socks5://",
                    Self::masked_text(&url)
                ));
            }
            other => {
                return Err(format!(
                    "'{}': the scheme '{other}' is not SOCKS5 ({expected})",
                    Self::masked_text(&url)
                ));
            }
        }
        let host = match url.host() {
            Some(url::Host::Ipv6(address)) => address.to_string(),
            Some(url::Host::Ipv4(address)) => address.to_string(),
            Some(url::Host::Domain(name)) if !name.is_empty() => name.to_string(),
            _ => {
                return Err(format!(
                    "'{}' has no proxy host ({expected})",
                    Self::masked_text(&url)
                ));
            }
        };
        let Some(port) = url.port() else {
            return Err(format!(
                "'{}' has no port ({expected}; ssh -D uses 1080)",
                Self::masked_text(&url)
            ));
        };
        if port == 0 {
            return Err(format!(
                "'{}': the port must be between 1 and 65535",
                Self::masked_text(&url)
            ));
        }
        if (url.path() != "" && url.path() != "/")
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(format!(
                "'{}' has more than HOST:PORT ({expected})",
                Self::masked_text(&url)
            ));
        }
        let decode = |part: &str| {
            percent_decode(part).ok_or_else(|| {
                format!(
                    "'{}': the user or password is not valid UTF-8",
                    Self::masked_text(&url)
                )
            })
        };
        let username = decode(url.username())?;
        let password = url.password().map(decode).transpose()?;
        let credentials = match (username.is_empty(), password) {
            (true, None) => None,
            (false, Some(password)) if !password.is_empty() => {
                Some(Credentials { username, password })
            }
            _ => {
                return Err(format!(
                    "'{}': give both a user name and a password, or neither",
                    Self::masked_text(&url)
                ));
            }
        };
        if let Some(credentials) = &credentials
            && (credentials.username.len() > 255 || credentials.password.len() > 255)
        {
            return Err(
                "the proxy user name and password must each be at most 255 bytes".to_string(),
            );
        }
        Ok(Self {
            host,
            port,
            credentials,
        })
    }

    /// The URL as typed for people, password masked.
    fn masked_text(url: &url::Url) -> String {
        let mut shown = url.clone();
        if shown.password().is_some() {
            let _ignored = shown.set_password(Some(MASK));
        }
        shown.to_string().trim_end_matches('/').to_string()
    }

    /// `HOST:PORT` (`[::1]:1080` for IPv6), never with credentials: what a stored scan records
    /// as its path.
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether a user name and password are sent (RFC 1929).
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The full URL with the password, for saving the setting; never for people.
    pub fn url_with_password(&self) -> String {
        match &self.credentials {
            Some(credentials) => format!(
                "socks5://{}:{}@{}",
                percent_encode(&credentials.username),
                percent_encode(&credentials.password),
                self.endpoint()
            ),
            None => format!("socks5://{}", self.endpoint()),
        }
    }

    /// Checks the proxy before a scan: TCP connect, the SOCKS5 greeting, and authentication
    /// when the proxy asks for it; all within `limit`. Asks the proxy to connect nowhere.
    pub async fn check(&self, limit: Duration) -> Result<(), ProxyError> {
        let deadline = Instant::now() + limit;
        let mut tcp = self.open(deadline).await?;
        let stalled = |step: &'static str| ProxyError::Stalled {
            proxy: self.endpoint(),
            step,
            limit,
        };
        let methods: &[u8] = if self.credentials.is_some() {
            &[0x05, 0x02, 0x00, 0x02]
        } else {
            &[0x05, 0x01, 0x00]
        };
        let closed = |error: std::io::Error| ProxyError::NotSocks5 {
            proxy: self.endpoint(),
            detail: format!("the connection ended during the greeting ({error})"),
        };
        timeout_at(deadline, tcp.write_all(methods))
            .await
            .map_err(|_| stalled("greeting"))?
            .map_err(closed)?;
        let mut choice = [0u8; 2];
        timeout_at(deadline, tcp.read_exact(&mut choice))
            .await
            .map_err(|_| stalled("greeting"))?
            .map_err(closed)?;
        if choice[0] != 0x05 {
            return Err(ProxyError::NotSocks5 {
                proxy: self.endpoint(),
                detail: format!(
                    "it answered the greeting with version {} instead of 5",
                    choice[0]
                ),
            });
        }
        match (choice[1], &self.credentials) {
            (0x00, _) => Ok(()),
            (0x02, Some(credentials)) => {
                let mut request = vec![0x01, credentials.username.len() as u8];
                request.extend_from_slice(credentials.username.as_bytes());
                request.push(credentials.password.len() as u8);
                request.extend_from_slice(credentials.password.as_bytes());
                let closed = |error: std::io::Error| ProxyError::NotSocks5 {
                    proxy: self.endpoint(),
                    detail: format!("the connection ended during authentication ({error})"),
                };
                timeout_at(deadline, tcp.write_all(&request))
                    .await
                    .map_err(|_| stalled("authentication"))?
                    .map_err(closed)?;
                let mut status = [0u8; 2];
                timeout_at(deadline, tcp.read_exact(&mut status))
                    .await
                    .map_err(|_| stalled("authentication"))?
                    .map_err(closed)?;
                if status[1] == 0x00 {
                    Ok(())
                } else {
                    Err(ProxyError::PasswordRefused {
                        proxy: self.endpoint(),
                    })
                }
            }
            (0x02, None) | (0xFF, _) => Err(ProxyError::AuthRefused {
                proxy: self.endpoint(),
                offered_password: self.credentials.is_some(),
            }),
            (other, _) => Err(ProxyError::NotSocks5 {
                proxy: self.endpoint(),
                detail: format!(
                    "it chose authentication method {other:#04x}, which we did not offer"
                ),
            }),
        }
    }

    /// One TCP connection to the proxy before `deadline`; its failure is the proxy's.
    async fn open(&self, deadline: Instant) -> Result<TcpStream, ProxyError> {
        let unreachable = |detail: String| ProxyError::Unreachable {
            proxy: self.endpoint(),
            detail,
        };
        match timeout_at(
            deadline,
            TcpStream::connect((self.host.as_str(), self.port)),
        )
        .await
        {
            Err(_) => Err(unreachable(
                "no connection before the connect timeout".to_string(),
            )),
            Ok(Err(error)) => Err(unreachable(error.to_string())),
            Ok(Ok(tcp)) => {
                let _ignored = tcp.set_nodelay(true);
                Ok(tcp)
            }
        }
    }

    /// Opens a tunnel to `target` (a resolved address: DNS stays local), all within `limit`
    /// (the connect timeout covers the proxy step). On success the stream carries the target's
    /// bytes as a direct connection would.
    pub async fn connect(
        &self,
        target: SocketAddr,
        limit: Duration,
    ) -> Result<TcpStream, ConnectFailure> {
        let deadline = Instant::now() + limit;
        let tcp = self.open(deadline).await.map_err(ConnectFailure::Proxy)?;
        let negotiation = async {
            match &self.credentials {
                Some(credentials) => {
                    Socks5Stream::connect_with_password_and_socket(
                        tcp,
                        target,
                        &credentials.username,
                        &credentials.password,
                    )
                    .await
                }
                None => Socks5Stream::connect_with_socket(tcp, target).await,
            }
        };
        match timeout_at(deadline, negotiation).await {
            // The proxy took our request and did not answer in time: it is most likely still
            // trying to reach the target (a silent port 25 seen from the proxy's side).
            Err(_) => Err(ConnectFailure::Target {
                reason: Reason::ConnectTimeout,
                detail: format!(
                    "the SOCKS proxy {} did not report a connection to {target} within {} s",
                    self.endpoint(),
                    limit.as_secs_f32()
                ),
            }),
            Ok(Ok(stream)) => Ok(stream.into_inner()),
            Ok(Err(error)) => Err(self.classify(error, target)),
        }
    }

    /// Sorts a tokio-socks error into the proxy's own failure or its word about the target.
    fn classify(&self, error: tokio_socks::Error, target: SocketAddr) -> ConnectFailure {
        use tokio_socks::Error as Socks;
        let proxy = self.endpoint();
        let target_failure = |reason: Reason, code: u8, words: &str| ConnectFailure::Target {
            reason,
            detail: format!(
                "the SOCKS proxy {proxy} could not connect to {target}: {words} (reply {code:02})"
            ),
        };
        match error {
            Socks::NetworkUnreachable => {
                target_failure(Reason::ProxyTargetUnreachable, 3, "network unreachable")
            }
            Socks::HostUnreachable => {
                target_failure(Reason::ProxyTargetUnreachable, 4, "host unreachable")
            }
            Socks::ConnectionRefused => {
                target_failure(Reason::ProxyTargetRefused, 5, "connection refused")
            }
            Socks::TtlExpired => target_failure(Reason::ProxyTargetUnreachable, 6, "TTL expired"),
            Socks::CommandNotSupported => {
                target_failure(Reason::ProxyUnsupported, 7, "command not supported")
            }
            Socks::AddressTypeNotSupported => {
                target_failure(Reason::ProxyUnsupported, 8, "address type not supported")
            }
            Socks::GeneralSocksServerFailure => ConnectFailure::Proxy(ProxyError::Failed {
                proxy,
                detail: "general SOCKS server failure (reply 01)".to_string(),
            }),
            Socks::ConnectionNotAllowedByRuleset => ConnectFailure::Proxy(ProxyError::Failed {
                proxy,
                detail: "connection not allowed by ruleset (reply 02)".to_string(),
            }),
            Socks::NoAcceptableAuthMethods | Socks::AuthorizationRequired => {
                ConnectFailure::Proxy(ProxyError::AuthRefused {
                    proxy,
                    offered_password: self.credentials.is_some(),
                })
            }
            Socks::PasswordAuthFailure(_) => {
                ConnectFailure::Proxy(ProxyError::PasswordRefused { proxy })
            }
            Socks::Io(error) => ConnectFailure::Proxy(ProxyError::NotSocks5 {
                proxy,
                detail: format!(
                    "the connection to the proxy failed during the SOCKS exchange ({error})"
                ),
            }),
            other => ConnectFailure::Proxy(ProxyError::NotSocks5 {
                proxy,
                detail: other.to_string(),
            }),
        }
    }
}

impl fmt::Display for SocksProxy {
    /// `socks5://user:***@HOST:PORT`: the password is never shown.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.credentials {
            Some(credentials) => write!(
                formatter,
                "socks5://{}:{MASK}@{}",
                percent_encode(&credentials.username),
                self.endpoint()
            ),
            None => write!(formatter, "socks5://{}", self.endpoint()),
        }
    }
}

impl fmt::Debug for SocksProxy {
    /// As `Display`: a log line or a panic message never carries the password.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "SocksProxy({self})")
    }
}

/// The text of a proxy setting with any password in it masked (for a value that may not even
/// parse): what settings output and error messages show.
pub fn mask_in(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let Some((user_info, host)) = rest.rsplit_once('@') else {
        return text.to_string();
    };
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:{MASK}@{host}"),
        None => text.to_string(),
    }
}

/// Whether a scan goes direct or through a proxy, as chosen on the command line or saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyChoice {
    /// No proxy, whatever the settings say (`--proxy direct`).
    Direct,
    /// Through this proxy.
    Socks5(SocksProxy),
}

impl ProxyChoice {
    /// `direct` (or `none`), else a proxy URL ([`SocksProxy::parse`]).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "direct" | "none" => Ok(Self::Direct),
            other => SocksProxy::parse(other).map(Self::Socks5),
        }
    }

    /// The proxy, if any.
    pub fn proxy(&self) -> Option<&SocksProxy> {
        match self {
            Self::Direct => None,
            Self::Socks5(proxy) => Some(proxy),
        }
    }
}

/// The proxy itself failed us: unreachable, not a SOCKS5 proxy, authentication refused, or a
/// failure of its own (replies 01, 02). Never a finding about a domain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// No TCP connection to the proxy.
    #[error("the SOCKS proxy {proxy} is unreachable: {detail}")]
    Unreachable { proxy: String, detail: String },
    /// Connected, but the proxy did not answer a step in time.
    #[error("the SOCKS proxy {proxy} did not answer the {step} within {} s", limit.as_secs_f32())]
    Stalled {
        proxy: String,
        step: &'static str,
        limit: Duration,
    },
    /// The peer does not speak SOCKS5 as RFC 1928 says.
    #[error("{proxy} is not a working SOCKS5 proxy: {detail}")]
    NotSocks5 { proxy: String, detail: String },
    /// Method 0xFF: none of the authentication methods we offered is acceptable.
    #[error("the SOCKS proxy {proxy} refused authentication ({})", if *offered_password { "it accepts neither no authentication nor our user name and password" } else { "it wants a user name and password: give socks5://user:pass@HOST:PORT" })]
    AuthRefused {
        proxy: String,
        offered_password: bool,
    },
    /// RFC 1929: the user name and password were refused.
    #[error("the SOCKS proxy {proxy} refused the user name and password")]
    PasswordRefused { proxy: String },
    /// Reply 01 (general failure) or 02 (not allowed by ruleset).
    #[error("the SOCKS proxy {proxy} failed: {detail}")]
    Failed { proxy: String, detail: String },
}

/// Why a CONNECT through the proxy gave no tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The proxy failed us: the address was not tested at all.
    Proxy(ProxyError),
    /// The proxy's word about the target (or its silence while connecting): the address's
    /// result, untestable for `reason`.
    Target { reason: Reason, detail: String },
}

/// Percent-decodes a URL user-info part; None when the bytes are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%'
            && let Some(hex) = text.get(index + 1..index + 3)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            decoded.push(value);
            index += 3;
            continue;
        }
        decoded.push(byte);
        index += 1;
    }
    String::from_utf8(decoded).ok()
}

/// Percent-encodes a user name or password for the user-info part of a URL.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Connects to `target` directly, or through `proxy` when one is given: the one place an SMTP
/// session's TCP connection is made.
pub async fn connect(
    proxy: Option<&SocksProxy>,
    target: SocketAddr,
    limit: Duration,
) -> Result<TcpStream, ConnectFailure> {
    match proxy {
        Some(proxy) => proxy.connect(target, limit).await,
        None => match timeout(limit, TcpStream::connect(target)).await {
            Err(_) => Err(ConnectFailure::Target {
                reason: Reason::ConnectTimeout,
                detail: format!(
                    "connection to {target} timed out after {} s",
                    limit.as_secs_f32()
                ),
            }),
            Ok(Err(error)) => {
                let reason = match error.kind() {
                    std::io::ErrorKind::ConnectionRefused => Reason::ConnectRefused,
                    std::io::ErrorKind::NetworkUnreachable
                    | std::io::ErrorKind::HostUnreachable => Reason::Unreachable,
                    std::io::ErrorKind::TimedOut => Reason::ConnectTimeout,
                    _ => Reason::ConnectFailed,
                };
                Err(ConnectFailure::Target {
                    reason,
                    detail: format!("connection to {target} failed: {error}"),
                })
            }
            Ok(Ok(tcp)) => Ok(tcp),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_url_parses_and_never_shows_its_password() {
        let proxy = SocksProxy::parse("socks5://alice:s3cr%40t@127.0.0.1:1080").expect("valid");
        assert_eq!(proxy.endpoint(), "127.0.0.1:1080");
        assert!(proxy.has_credentials());
        assert_eq!(proxy.to_string(), "socks5://alice:***@127.0.0.1:1080");
        assert!(!format!("{proxy:?}").contains("s3cr"));
        assert_eq!(
            proxy.url_with_password(),
            "socks5://alice:s3cr%40t@127.0.0.1:1080"
        );
        assert_eq!(
            SocksProxy::parse(&proxy.url_with_password()).expect("round trip"),
            proxy
        );
        let plain = SocksProxy::parse("socks5://localhost:1080").expect("valid");
        assert_eq!(plain.to_string(), "socks5://localhost:1080");
        assert!(!plain.has_credentials());
        let v6 = SocksProxy::parse("socks5://[::1]:1080").expect("valid");
        assert_eq!(v6.endpoint(), "[::1]:1080");
    }

    #[test]
    fn bad_proxy_urls_are_refused_in_words_without_the_password() {
        for (text, expected) in [
            ("localhost:1080", "not a proxy URL"),
            ("http://proxy.example:3128", "is not SOCKS5"),
            ("socks5h://proxy.example:1080", "socks5h"),
            ("socks5://proxy.example", "has no port"),
            (
                "socks5://alice@proxy.example:1080",
                "both a user name and a password",
            ),
            (
                "socks5://alice:hunter2@proxy.example:1080/x",
                "more than HOST:PORT",
            ),
            ("socks4://alice:hunter2@proxy.example:1080", "is not SOCKS5"),
        ] {
            let error = SocksProxy::parse(text).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
            assert!(!error.contains("hunter2"), "{text}: {error}");
        }
        assert_eq!(mask_in("socks5://a:hunter2@h:1"), "socks5://a:***@h:1");
        assert_eq!(mask_in("garbage"), "garbage");
    }

    #[test]
    fn direct_is_a_choice() {
        assert_eq!(ProxyChoice::parse("direct"), Ok(ProxyChoice::Direct));
        assert_eq!(ProxyChoice::parse("none"), Ok(ProxyChoice::Direct));
        let choice = ProxyChoice::parse("socks5://127.0.0.1:9").expect("valid");
        assert_eq!(
            choice.proxy().map(SocksProxy::endpoint).as_deref(),
            Some("127.0.0.1:9")
        );
    }

    #[test]
    fn the_proxy_errors_say_what_failed() {
        let error = ProxyError::AuthRefused {
            proxy: "127.0.0.1:1080".into(),
            offered_password: false,
        };
        assert!(
            error.to_string().contains("wants a user name and password"),
            "{error}"
        );
        let error = ProxyError::Stalled {
            proxy: "127.0.0.1:1080".into(),
            step: "greeting",
            limit: Duration::from_millis(1500),
        };
        assert_eq!(
            error.to_string(),
            "the SOCKS proxy 127.0.0.1:1080 did not answer the greeting within 1.5 s"
        );
    }
}
