//! Probe settings: timeouts, caps, resolver, SMTP port, trust anchors.
//!
//! Owns: the typed configuration and its validation (`ProbeConfig::validate`), and loading extra
//! trust anchors from a PEM file. Must not touch: the network.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::reply::ReplyLimits;

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

/// Everything that shapes a probe. Defaults suit probing the real internet; tests shorten them.
#[derive(Clone, Debug)]
pub struct ProbeConfig {
    /// Resolver to use. Default: the system's.
    pub dns: DnsServer,
    /// Timeout for one DNS query. Default 5 s.
    pub dns_timeout: Duration,
    /// SMTP port. Default 25; other values are for test fleets.
    pub smtp_port: u16,
    /// Name we give in EHLO. Default `starttls-monitor.invalid`-style host name (see `Default`).
    pub ehlo_name: String,
    /// TCP connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Deadline for the whole greeting, not per read. Default 30 s (postscreen waits 6-15 s).
    pub greeting_timeout: Duration,
    /// Deadline for each later reply (EHLO, STARTTLS, QUIT). Default 30 s.
    pub command_timeout: Duration,
    /// Deadline for the TLS handshake. Default 30 s.
    pub tls_timeout: Duration,
    /// Caps on reply size.
    pub reply_limits: ReplyLimits,
    /// Most addresses probed per MX host (A and AAAA interleaved). Default 8.
    pub max_addresses_per_host: usize,
    /// Most MX hosts probed per domain, by preference. Default 10.
    pub max_mx_hosts: usize,
    /// Domains probed at the same time. Default 64.
    pub concurrency: usize,
    /// Extra trust anchors, added to the Mozilla roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Where `extra_roots` came from, for messages and settings.
    pub ca_file: Option<PathBuf>,
    /// Deep mode: for every address that completed TLS, one more session in which the legacy
    /// (OpenSSL) client offers RSA key exchange first, to learn whether the server would choose
    /// a suite without forward secrecy (`prefers_non_pfs`). Default false: it costs a second
    /// connection per address.
    pub deep: bool,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            dns: DnsServer::System,
            dns_timeout: Duration::from_secs(5),
            smtp_port: 25,
            ehlo_name: default_ehlo_name(),
            connect_timeout: Duration::from_secs(10),
            greeting_timeout: Duration::from_secs(30),
            command_timeout: Duration::from_secs(30),
            tls_timeout: Duration::from_secs(30),
            reply_limits: ReplyLimits::default(),
            max_addresses_per_host: 8,
            max_mx_hosts: 10,
            concurrency: 64,
            extra_roots: Vec::new(),
            ca_file: None,
            deep: false,
        }
    }
}

/// A configuration that cannot work, or a CA file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("CA file {path}: {problem}")]
    CaFile { path: PathBuf, problem: String },
    #[error("EHLO name '{0}' is not a host name")]
    EhloName(String),
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
}

impl ProbeConfig {
    /// Checks cross-field rules; called by `Prober::new`.
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

/// A host name for EHLO: the machine's name when it is fully qualified, else a fixed one.
fn default_ehlo_name() -> String {
    let from_system = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| name.contains('.') && !name.ends_with(".localdomain"));
    from_system.unwrap_or_else(|| "starttls-monitor.localhost".to_string())
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
        assert!(ProbeConfig::default().validate().is_ok());
    }
}
