//! Probe settings: timeouts, caps (the DNS queries-per-second cap among them), resolver, SMTP
//! port, trust anchors.
//!
//! Owns: the typed configuration, the one set of probe defaults (`DEFAULT_*`, used by
//! `ProbeConfig::default`, the saved settings' defaults, the command-line help and the settings
//! tab), the builder ([`ProbeConfig::builder`]) and its rules (`ProbeConfig::validate`), and
//! loading extra trust anchors from a PEM file. Must not touch: the network, the user's saved
//! settings (they are turned into a builder by `settings`, never read here).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::CertificateDer;

use crate::model::NetworkPath;
use rustls::pki_types::pem::PemObject;

use super::reply::ReplyLimits;
use super::socks::SocksProxy;

/// Which DNS server answers our queries.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum DnsServer {
    /// The system's resolver configuration (`/etc/resolv.conf`).
    #[default]
    System,
    /// One given server, over UDP with TCP fallback.
    Custom(SocketAddr),
}

impl DnsServer {
    /// Parses `IP`, `IP:PORT` or `[IPv6]:PORT` (port 53 when omitted).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(socket) = text.parse::<SocketAddr>() {
            return Ok(Self::Custom(socket));
        }
        if let Ok(ip) = text
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(Self::Custom(SocketAddr::new(ip, 53)));
        }
        Err(format!(
            "'{text}' is not a DNS server address (expected IP, IP:PORT or [IPv6]:PORT)"
        ))
    }
}

impl std::fmt::Display for DnsServer {
    /// For people: `the DNS server 127.0.0.1:5353`, or `the system resolver (/etc/resolv.conf)`.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsServer::System => formatter.write_str("the system resolver (/etc/resolv.conf)"),
            DnsServer::Custom(address) => write!(formatter, "the DNS server {address}"),
        }
    }
}

/// How long one DNS lookup may take, retries included.
pub const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one DNS query waits for its answer before it is sent again (within the lookup's
/// [`DEFAULT_DNS_TIMEOUT`]): a lost UDP datagram costs this, not the whole lookup timeout. Long
/// enough for a busy recursive resolver's cold lookup most of the time; a resolver that takes
/// longer gets a duplicate query, which it answers from the lookup already under way.
pub const DEFAULT_DNS_RETRY_INTERVAL: Duration = Duration::from_millis(800);
/// Most DNS queries a prober sends per second, retransmissions included (0: no cap). Public
/// resolvers rate-limit each client at about 1,000-1,500 queries a second (Google Public DNS's
/// page for ISPs gives 1,000 or 1,500 per IPv4 address, by version) and throttle the excess
/// (dropped or refused), which a probe would read as DNS failures; half the lower figure leaves
/// room for the other users behind the same address and is light for a system resolver (a
/// local cache or the ISP's). Real-world runs at the default concurrency stay below it; large
/// lists at high concurrency are held to it. Loopback test fleets and benchmarks set 0.
pub const DEFAULT_DNS_QPS: u32 = 500;
/// The SMTP port of mail exchangers; other values are for test fleets.
pub const DEFAULT_SMTP_PORT: u16 = 25;
/// TCP connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline for the whole greeting, not per read (postscreen waits 6-15 s).
pub const DEFAULT_GREETING_TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline for each later reply (EHLO, STARTTLS, QUIT).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline for the TLS handshake: the same as for a reply.
pub const DEFAULT_TLS_TIMEOUT: Duration = DEFAULT_COMMAND_TIMEOUT;
/// The HTTPS port of MTA-STS policy hosts (RFC 8461 §3.3); other values are for tests.
pub const DEFAULT_HTTPS_PORT: u16 = 443;
/// Deadline for a whole MTA-STS policy fetch: resolve, connect, TLS, request, body. RFC 8461
/// §3.3 suggests a minute at most; a probe waits as long as for one SMTP reply.
pub const DEFAULT_HTTPS_TIMEOUT: Duration = DEFAULT_COMMAND_TIMEOUT;
/// How many days ahead a certificate's end is news ("certificate expires soon"): the saved
/// setting's default, and the window of the MTA-STS policy host warning.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 14;
/// Most addresses probed per MX host (A and AAAA interleaved).
pub const DEFAULT_MAX_ADDRESSES_PER_HOST: usize = 8;
/// Most MX hosts probed per domain, by preference.
pub const DEFAULT_MAX_MX_HOSTS: usize = 10;
/// Domains probed at the same time.
pub const DEFAULT_CONCURRENCY: usize = 64;
/// The EHLO name when this machine's name is not fully qualified.
pub const FALLBACK_EHLO_NAME: &str = "starttls-monitor.localhost";

/// Everything that shapes a probe. Defaults suit probing the real internet; tests shorten them.
/// Built field by field (tests) or with [`ProbeConfig::builder`], which also loads the CA file
/// and checks the rules.
#[derive(Clone, Debug)]
pub struct ProbeConfig {
    /// Resolver to use. Default: the system's.
    pub dns: DnsServer,
    /// How long one DNS lookup may take, retries included. Default [`DEFAULT_DNS_TIMEOUT`].
    pub dns_timeout: Duration,
    /// How long one DNS query waits before it is sent again. Default
    /// [`DEFAULT_DNS_RETRY_INTERVAL`] (capped at `dns_timeout`).
    pub dns_retry_interval: Duration,
    /// Most DNS queries sent per second by this prober, both resolvers and every run together,
    /// retransmissions included; 0: no cap. A burst of a tenth of a second's worth may go at
    /// once (`probe::rate`). Default [`DEFAULT_DNS_QPS`].
    pub dns_qps: u32,
    /// SMTP port. Default [`DEFAULT_SMTP_PORT`]; other values are for test fleets.
    pub smtp_port: u16,
    /// Name we give in EHLO. Default: this machine's fully qualified name, else
    /// [`FALLBACK_EHLO_NAME`].
    pub ehlo_name: String,
    /// TCP connect timeout. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// Deadline for the whole greeting, not per read. Default [`DEFAULT_GREETING_TIMEOUT`].
    pub greeting_timeout: Duration,
    /// Deadline for each later reply (EHLO, STARTTLS, QUIT). Default [`DEFAULT_COMMAND_TIMEOUT`].
    pub command_timeout: Duration,
    /// Deadline for the TLS handshake. Default [`DEFAULT_TLS_TIMEOUT`].
    pub tls_timeout: Duration,
    /// Caps on reply size.
    pub reply_limits: ReplyLimits,
    /// Most addresses probed per MX host (A and AAAA interleaved). Default
    /// [`DEFAULT_MAX_ADDRESSES_PER_HOST`].
    pub max_addresses_per_host: usize,
    /// Most MX hosts probed per domain, by preference. Default [`DEFAULT_MAX_MX_HOSTS`].
    pub max_mx_hosts: usize,
    /// Domains probed at the same time. Default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Extra trust anchors, added to the Mozilla roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Where `extra_roots` came from, for messages and settings.
    pub ca_file: Option<PathBuf>,
    /// HTTPS port of MTA-STS policy hosts. Default [`DEFAULT_HTTPS_PORT`]; other values are for
    /// tests.
    pub https_port: u16,
    /// Deadline for a whole MTA-STS policy fetch (the connect part also within
    /// `connect_timeout`). Default [`DEFAULT_HTTPS_TIMEOUT`].
    pub https_timeout: Duration,
    /// A policy host certificate ending within this many days is warned about. Default
    /// [`DEFAULT_EXPIRY_WARNING_DAYS`].
    pub expiry_warning_days: u32,
    /// Deep mode: for every address that completed TLS, one more session in which the legacy
    /// (OpenSSL) client offers RSA key exchange first, to learn whether the server would choose
    /// a suite without forward secrecy (`prefers_non_pfs`). Default false: it costs a second
    /// connection per address.
    pub deep: bool,
    /// A SOCKS5 proxy every SMTP connection goes through (CONNECT to the resolved address;
    /// DNS stays local). Default None: direct.
    pub proxy: Option<SocksProxy>,
    /// DNSSEC trust anchors that replace hickory's built-in root keys (`--trust-anchor`, the
    /// `trust_anchor` setting); None: the root KSKs 20326 and 38696. For tests and private roots.
    pub trust_anchor: Option<TrustAnchorFile>,
}

/// DNSSEC trust anchors read from a file of DNSKEY lines in zone-file format (the owner name of
/// each line is the zone it anchors; DS lines are not accepted, hickory takes DNSKEYs only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustAnchorFile {
    /// Where the anchors came from, for messages and settings.
    pub path: PathBuf,
    /// The file's text, parsed again by the resolver setup.
    pub text: String,
    /// The zones the anchors are for (lower case, with the trailing dot: `.`, `test.`), in
    /// file order without repeats. The probe asks each for its DNSKEY RRset to learn whether
    /// the resolver passes DNSSEC data at all.
    pub zones: Vec<String>,
}

impl TrustAnchorFile {
    /// Reads and checks `path`: at least one DNSKEY record, each one a key hickory can use.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let anchor_error = |problem: String| ConfigError::TrustAnchor {
            path: path.to_path_buf(),
            problem,
        };
        let text =
            std::fs::read_to_string(path).map_err(|error| anchor_error(error.to_string()))?;
        Self::parse(path, text).map_err(anchor_error)
    }

    /// Checks `text` (read from `path`) as a trust-anchor file; the problem in words if not.
    fn parse(path: &Path, text: String) -> Result<Self, String> {
        use std::str::FromStr;
        hickory_resolver::proto::dnssec::TrustAnchors::from_str(&text)
            .map_err(|error| format!("not a file of DNSKEY records ({error})"))?;
        let mut zones: Vec<String> = Vec::new();
        for line in text.lines() {
            let line = line.split(';').next().unwrap_or_default();
            let fields: Vec<&str> = line.split_whitespace().collect();
            let Some(owner) = fields.first() else {
                continue;
            };
            if line.starts_with(char::is_whitespace) || !fields.contains(&"DNSKEY") {
                continue;
            }
            let zone = if owner.ends_with('.') {
                owner.to_ascii_lowercase()
            } else {
                format!("{}.", owner.to_ascii_lowercase())
            };
            if !zones.contains(&zone) {
                zones.push(zone);
            }
        }
        if zones.is_empty() {
            return Err("no DNSKEY record found (a DS record is not accepted as an anchor)".into());
        }
        Ok(Self {
            path: path.to_path_buf(),
            text,
            zones,
        })
    }
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            dns: DnsServer::System,
            dns_timeout: DEFAULT_DNS_TIMEOUT,
            dns_retry_interval: DEFAULT_DNS_RETRY_INTERVAL,
            dns_qps: DEFAULT_DNS_QPS,
            smtp_port: DEFAULT_SMTP_PORT,
            ehlo_name: default_ehlo_name(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            greeting_timeout: DEFAULT_GREETING_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            tls_timeout: DEFAULT_TLS_TIMEOUT,
            reply_limits: ReplyLimits::default(),
            max_addresses_per_host: DEFAULT_MAX_ADDRESSES_PER_HOST,
            max_mx_hosts: DEFAULT_MAX_MX_HOSTS,
            concurrency: DEFAULT_CONCURRENCY,
            extra_roots: Vec::new(),
            ca_file: None,
            https_port: DEFAULT_HTTPS_PORT,
            https_timeout: DEFAULT_HTTPS_TIMEOUT,
            expiry_warning_days: DEFAULT_EXPIRY_WARNING_DAYS,
            deep: false,
            trust_anchor: None,
            proxy: None,
        }
    }
}

/// A configuration that cannot work, or a CA file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The CA file could not be read or holds no usable trust anchor (our job failed, not the
    /// user's syntax).
    #[error("CA file {path}: {problem}")]
    CaFile { path: PathBuf, problem: String },
    /// The trust-anchor file could not be read or holds no usable DNSKEY record.
    #[error("trust anchor file {path}: {problem}")]
    TrustAnchor { path: PathBuf, problem: String },
    /// The EHLO name is empty, too long, or has characters a host name cannot have.
    #[error("EHLO name '{0}' is not a host name")]
    EhloName(String),
    /// A count, a port or a timeout that is zero and so could never work.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
}

impl ConfigError {
    /// Whether the problem is in what the user asked for (a zero, a bad name), rather than in a
    /// file we could not use.
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            ConfigError::CaFile { .. } | ConfigError::TrustAnchor { .. }
        )
    }
}

impl ProbeConfig {
    /// The network path this configuration's sessions take: direct, or the proxy's
    /// `HOST:PORT` (never its credentials). A stored scan records it.
    pub fn network_path(&self) -> NetworkPath {
        match &self.proxy {
            None => NetworkPath::Direct,
            Some(proxy) => NetworkPath::Socks5 {
                endpoint: proxy.endpoint(),
            },
        }
    }

    /// A builder starting from the defaults.
    pub fn builder() -> ProbeConfigBuilder {
        ProbeConfigBuilder::default()
    }

    /// Checks the rules a configuration must keep (an EHLO name that is a host name, no zero
    /// count, port or timeout); called by [`ProbeConfigBuilder::build`] and `Prober::new`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ehlo_ok = !self.ehlo_name.is_empty()
            && self.ehlo_name.len() <= 255
            && self.ehlo_name.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':')
            });
        if !ehlo_ok {
            return Err(ConfigError::EhloName(self.ehlo_name.clone()));
        }
        for (value, name) in [
            (self.max_addresses_per_host, "addresses per MX host"),
            (self.max_mx_hosts, "MX hosts per domain"),
            (self.concurrency, "concurrency"),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        if self.smtp_port == 0 {
            return Err(ConfigError::Zero("SMTP port"));
        }
        if self.https_port == 0 {
            return Err(ConfigError::Zero("HTTPS port"));
        }
        for (value, name) in [
            (self.dns_timeout, "DNS timeout"),
            (self.dns_retry_interval, "DNS retry interval"),
            (self.connect_timeout, "connect timeout"),
            (self.greeting_timeout, "greeting timeout"),
            (self.command_timeout, "reply timeout"),
            (self.tls_timeout, "TLS handshake timeout"),
            (self.https_timeout, "HTTPS fetch timeout"),
        ] {
            if value.is_zero() {
                return Err(ConfigError::Zero(name));
            }
        }
        Ok(())
    }

    /// Reads extra trust anchors from a PEM file (one or more `CERTIFICATE` blocks).
    pub fn load_ca_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let ca_error = |problem: String| ConfigError::CaFile {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|error| ca_error(error.to_string()))?;
        let mut roots = Vec::new();
        for item in CertificateDer::pem_slice_iter(&bytes) {
            let certificate =
                item.map_err(|error| ca_error(format!("not a valid PEM file ({error})")))?;
            roots.push(certificate);
        }
        if roots.is_empty() {
            return Err(ca_error(
                "no PEM 'CERTIFICATE' block found (is it a PEM file?)".to_string(),
            ));
        }
        let mut store = rustls::RootCertStore::empty();
        for (index, root) in roots.iter().enumerate() {
            if let Err(error) = store.add(root.clone()) {
                return Err(ca_error(format!(
                    "certificate {} is not a usable trust anchor ({error})",
                    index + 1
                )));
            }
        }
        self.extra_roots = roots;
        self.ca_file = Some(path.to_path_buf());
        Ok(())
    }
}

/// Builds a [`ProbeConfig`] from the defaults: typed setters (timeouts are [`Duration`]s), then
/// [`build`](Self::build) loads the CA file and checks the rules, so a configuration that
/// cannot work is never handed to a prober.
#[derive(Clone, Debug, Default)]
pub struct ProbeConfigBuilder {
    config: ProbeConfig,
    /// Extra trust anchors to load in `build`.
    ca_file: Option<PathBuf>,
    /// DNSSEC trust anchors to load in `build`.
    trust_anchor: Option<PathBuf>,
}

impl ProbeConfigBuilder {
    /// The resolver. Default: the system's.
    pub fn dns(mut self, dns: DnsServer) -> Self {
        self.config.dns = dns;
        self
    }

    /// How long one DNS lookup may take, retries included. Default [`DEFAULT_DNS_TIMEOUT`].
    pub fn dns_timeout(mut self, limit: Duration) -> Self {
        self.config.dns_timeout = limit;
        self
    }

    /// How long one DNS query waits before it is sent again. Default
    /// [`DEFAULT_DNS_RETRY_INTERVAL`].
    pub fn dns_retry_interval(mut self, interval: Duration) -> Self {
        self.config.dns_retry_interval = interval;
        self
    }

    /// Most DNS queries sent per second (0: no cap). Default [`DEFAULT_DNS_QPS`].
    pub fn dns_qps(mut self, qps: u32) -> Self {
        self.config.dns_qps = qps;
        self
    }

    /// The SMTP port. Default [`DEFAULT_SMTP_PORT`].
    pub fn smtp_port(mut self, port: u16) -> Self {
        self.config.smtp_port = port;
        self
    }

    /// The name given in EHLO. Default: this machine's fully qualified name, else
    /// [`FALLBACK_EHLO_NAME`].
    pub fn ehlo_name(mut self, name: impl Into<String>) -> Self {
        self.config.ehlo_name = name.into();
        self
    }

    /// TCP connect timeout. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.config.connect_timeout = limit;
        self
    }

    /// Deadline for the whole greeting. Default [`DEFAULT_GREETING_TIMEOUT`].
    pub fn greeting_timeout(mut self, limit: Duration) -> Self {
        self.config.greeting_timeout = limit;
        self
    }

    /// Deadline for each later reply. Default [`DEFAULT_COMMAND_TIMEOUT`].
    pub fn command_timeout(mut self, limit: Duration) -> Self {
        self.config.command_timeout = limit;
        self
    }

    /// Deadline for the TLS handshake. Default [`DEFAULT_TLS_TIMEOUT`].
    pub fn tls_timeout(mut self, limit: Duration) -> Self {
        self.config.tls_timeout = limit;
        self
    }

    /// Caps on reply size. Default [`ReplyLimits::default`].
    pub fn reply_limits(mut self, limits: ReplyLimits) -> Self {
        self.config.reply_limits = limits;
        self
    }

    /// Most addresses probed per MX host. Default [`DEFAULT_MAX_ADDRESSES_PER_HOST`].
    pub fn max_addresses_per_host(mut self, count: usize) -> Self {
        self.config.max_addresses_per_host = count;
        self
    }

    /// Most MX hosts probed per domain. Default [`DEFAULT_MAX_MX_HOSTS`].
    pub fn max_mx_hosts(mut self, count: usize) -> Self {
        self.config.max_mx_hosts = count;
        self
    }

    /// Domains probed at the same time. Default [`DEFAULT_CONCURRENCY`].
    pub fn concurrency(mut self, count: usize) -> Self {
        self.config.concurrency = count;
        self
    }

    /// A PEM file of extra trust anchors, read by [`build`](Self::build). Default: none.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// The HTTPS port of MTA-STS policy hosts. Default [`DEFAULT_HTTPS_PORT`].
    pub fn https_port(mut self, port: u16) -> Self {
        self.config.https_port = port;
        self
    }

    /// Deadline for a whole MTA-STS policy fetch. Default [`DEFAULT_HTTPS_TIMEOUT`].
    pub fn https_timeout(mut self, limit: Duration) -> Self {
        self.config.https_timeout = limit;
        self
    }

    /// Days ahead a policy host certificate's end is warned about. Default
    /// [`DEFAULT_EXPIRY_WARNING_DAYS`].
    pub fn expiry_warning_days(mut self, days: u32) -> Self {
        self.config.expiry_warning_days = days;
        self
    }

    /// A file of DNSKEY lines whose keys replace the built-in DNSSEC root keys, read by
    /// [`build`](Self::build). Default: none (the root keys).
    pub fn trust_anchor(mut self, path: impl Into<PathBuf>) -> Self {
        self.trust_anchor = Some(path.into());
        self
    }

    /// Deep mode (a second session per address to learn `prefers_non_pfs`). Default false.
    pub fn deep(mut self, deep: bool) -> Self {
        self.config.deep = deep;
        self
    }

    /// The SOCKS5 proxy for every SMTP connection (None: direct). Default None.
    pub fn proxy(mut self, proxy: Option<SocksProxy>) -> Self {
        self.config.proxy = proxy;
        self
    }

    /// Loads the CA file, if one was given, then checks the rules of
    /// [`ProbeConfig::validate`].
    pub fn build(self) -> Result<ProbeConfig, ConfigError> {
        let mut config = self.config;
        if let Some(path) = &self.ca_file {
            config.load_ca_file(path)?;
        }
        if let Some(path) = &self.trust_anchor {
            config.trust_anchor = Some(TrustAnchorFile::load(path)?);
        }
        config.validate()?;
        Ok(config)
    }
}

/// A host name for EHLO: the machine's name when it is fully qualified, else a fixed one.
fn default_ehlo_name() -> String {
    let from_system = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| name.contains('.') && !name.ends_with(".localdomain"));
    from_system.unwrap_or_else(|| FALLBACK_EHLO_NAME.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_server_forms() {
        assert_eq!(
            DnsServer::parse("127.0.0.1"),
            Ok(DnsServer::Custom("127.0.0.1:53".parse().expect("addr")))
        );
        assert_eq!(
            DnsServer::parse("127.0.0.1:5353"),
            Ok(DnsServer::Custom("127.0.0.1:5353".parse().expect("addr")))
        );
        assert_eq!(
            DnsServer::parse("[::1]:5353"),
            Ok(DnsServer::Custom("[::1]:5353".parse().expect("addr")))
        );
        assert_eq!(
            DnsServer::parse("::1"),
            Ok(DnsServer::Custom("[::1]:53".parse().expect("addr")))
        );
        assert!(DnsServer::parse("dns.example").is_err());
    }

    #[test]
    fn ca_file_that_is_not_pem_is_refused_with_its_path() {
        let dir = std::env::temp_dir().join(format!("stm-ca-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("not-a-ca.pem");
        std::fs::write(&path, "hello, I am not a certificate\n").expect("write");
        let mut config = ProbeConfig::default();
        let error = config
            .load_ca_file(&path)
            .expect_err("must fail")
            .to_string();
        assert!(error.contains("not-a-ca.pem"), "{error}");
        assert!(error.contains("PEM"), "{error}");
        let missing = dir.join("missing.pem");
        let error = config
            .load_ca_file(&missing)
            .expect_err("must fail")
            .to_string();
        assert!(error.contains("missing.pem"), "{error}");
    }

    #[test]
    fn validation_rejects_bad_values() {
        let config = ProbeConfig {
            ehlo_name: "bad name".into(),
            ..ProbeConfig::default()
        };
        assert!(config.validate().is_err());
        let config = ProbeConfig {
            concurrency: 0,
            ..ProbeConfig::default()
        };
        assert!(config.validate().is_err());
        let config = ProbeConfig {
            https_port: 0,
            ..ProbeConfig::default()
        };
        assert!(config.validate().is_err());
        assert!(ProbeConfig::default().validate().is_ok());
    }

    #[test]
    fn a_built_config_starts_from_the_default_constants() {
        let config = ProbeConfig::builder().build().expect("the defaults work");
        assert_eq!(config.dns, DnsServer::System);
        assert_eq!(config.dns_timeout, DEFAULT_DNS_TIMEOUT);
        assert_eq!(config.dns_qps, DEFAULT_DNS_QPS);
        assert_eq!(config.smtp_port, DEFAULT_SMTP_PORT);
        assert_eq!(config.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(config.greeting_timeout, DEFAULT_GREETING_TIMEOUT);
        assert_eq!(config.command_timeout, DEFAULT_COMMAND_TIMEOUT);
        assert_eq!(config.tls_timeout, DEFAULT_TLS_TIMEOUT);
        assert_eq!(
            config.max_addresses_per_host,
            DEFAULT_MAX_ADDRESSES_PER_HOST
        );
        assert_eq!(config.max_mx_hosts, DEFAULT_MAX_MX_HOSTS);
        assert_eq!(config.concurrency, DEFAULT_CONCURRENCY);
        assert_eq!(config.ehlo_name, ProbeConfig::default().ehlo_name);
        assert!(config.extra_roots.is_empty() && config.ca_file.is_none());
        assert!(!config.deep);
        assert!(config.proxy.is_none());
        assert_eq!(config.network_path(), NetworkPath::Direct);
    }

    #[test]
    fn the_path_names_the_proxy_without_its_credentials() {
        let proxy = SocksProxy::parse("socks5://u:secret@127.0.0.1:1080").expect("valid");
        let config = ProbeConfig::builder()
            .proxy(Some(proxy))
            .build()
            .expect("valid");
        assert_eq!(
            config.network_path(),
            NetworkPath::Socks5 {
                endpoint: "127.0.0.1:1080".into()
            }
        );
        assert_eq!(config.network_path().to_string(), "socks5://127.0.0.1:1080");
    }

    #[test]
    fn setters_set_what_they_name() {
        let config = ProbeConfig::builder()
            .dns(DnsServer::parse("127.0.0.1:5353").expect("address"))
            .dns_timeout(Duration::from_millis(1500))
            .dns_qps(0)
            .smtp_port(2525)
            .ehlo_name("probe.example.org")
            .connect_timeout(Duration::from_secs(3))
            .greeting_timeout(Duration::from_secs(4))
            .command_timeout(Duration::from_secs(5))
            .tls_timeout(Duration::from_secs(6))
            .max_addresses_per_host(2)
            .max_mx_hosts(3)
            .concurrency(7)
            .deep(true)
            .build()
            .expect("valid");
        assert_eq!(
            config.dns,
            DnsServer::Custom("127.0.0.1:5353".parse().expect("addr"))
        );
        assert_eq!(config.dns_timeout, Duration::from_millis(1500));
        assert_eq!(config.dns_qps, 0);
        assert_eq!(config.smtp_port, 2525);
        assert_eq!(config.ehlo_name, "probe.example.org");
        assert_eq!(config.connect_timeout, Duration::from_secs(3));
        assert_eq!(config.greeting_timeout, Duration::from_secs(4));
        assert_eq!(config.command_timeout, Duration::from_secs(5));
        assert_eq!(config.tls_timeout, Duration::from_secs(6));
        assert_eq!((config.max_addresses_per_host, config.max_mx_hosts), (2, 3));
        assert_eq!(config.concurrency, 7);
        assert!(config.deep);
    }

    #[test]
    fn the_builder_rejects_what_cannot_work() {
        let zero_timeout = ProbeConfig::builder()
            .greeting_timeout(Duration::ZERO)
            .build()
            .expect_err("a zero timeout");
        assert_eq!(
            zero_timeout.to_string(),
            "greeting timeout must be greater than zero"
        );
        assert!(zero_timeout.is_usage());
        for builder in [
            ProbeConfig::builder().concurrency(0),
            ProbeConfig::builder().smtp_port(0),
            ProbeConfig::builder().max_mx_hosts(0),
            ProbeConfig::builder().tls_timeout(Duration::ZERO),
            ProbeConfig::builder().ehlo_name(""),
            ProbeConfig::builder().ehlo_name("two words"),
        ] {
            let error = builder.build().expect_err("invalid");
            assert!(error.is_usage(), "{error}");
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.pem");
        let error = ProbeConfig::builder()
            .ca_file(&missing)
            .build()
            .expect_err("no such file");
        assert!(!error.is_usage(), "a file we could not use: {error}");
        assert!(error.to_string().contains("missing.pem"), "{error}");
    }

    #[test]
    fn a_trust_anchor_file_gives_its_zones_and_bad_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anchors.txt");
        std::fs::write(
            &path,
            "; test anchors\nExample.TEST. 3600 IN DNSKEY 257 3 13 \
             mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n",
        )
        .unwrap();
        let config = ProbeConfig::builder().trust_anchor(&path).build().unwrap();
        let anchor = config.trust_anchor.expect("loaded");
        assert_eq!(anchor.zones, vec!["example.test.".to_string()]);
        assert_eq!(anchor.path, path);

        std::fs::write(
            &path,
            "example.test. 3600 IN DS 12345 13 2 0123456789abcdef\n",
        )
        .unwrap();
        let error = ProbeConfig::builder()
            .trust_anchor(&path)
            .build()
            .unwrap_err();
        assert!(matches!(error, ConfigError::TrustAnchor { .. }), "{error}");
        assert!(!error.is_usage());
        let missing = dir.path().join("missing.txt");
        let error = ProbeConfig::builder()
            .trust_anchor(&missing)
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("missing.txt"), "{error}");
    }

    #[test]
    fn the_builder_loads_the_ca_file() {
        let certified =
            rcgen::generate_simple_self_signed(vec!["ca.example".to_string()]).expect("cert");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, certified.cert.pem()).expect("write");
        let config = ProbeConfig::builder()
            .ca_file(&path)
            .build()
            .expect("a valid PEM file");
        assert_eq!(config.extra_roots.len(), 1);
        assert_eq!(config.ca_file.as_deref(), Some(path.as_path()));
    }
}
