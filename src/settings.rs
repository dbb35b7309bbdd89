//! The user's persistent settings: schedule, politeness, timeouts, resolver, trust anchors; and
//! the command-line options that override them for one process.
//!
//! Owns: the plain data, its defaults (the schedule's here; the probe's are the `DEFAULT_*`
//! constants of [`crate::probe::config`], so each default exists once) and validation, the one
//! edge where the saved seconds and minutes become [`Duration`]s
//! ([`Settings::probe_config_builder`], [`Settings::scan_interval`], [`Settings::scan_deadline`]),
//! and [`Overrides::apply`], the one place command-line options win over settings (with
//! [`Overrides::overridden`] and [`Overrides::saved_into`] saying which and keeping them). Stored by
//! `store` as JSON (missing fields take their defaults, so old databases keep working). Must not
//! touch: I/O (reading the CA file happens in `ProbeConfigBuilder::build`).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::changes::ChangeKind;
use crate::probe::config::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DNS_QPS,
    DEFAULT_GREETING_TIMEOUT, DEFAULT_SMTP_PORT, ProbeConfigBuilder,
};
use crate::probe::socks::mask_in;
use crate::probe::{DnsServer, ProbeConfig, ProxyChoice, SocksProxy};

/// Time between scheduled scans.
pub const DEFAULT_SCAN_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// Deadline for a whole scan; what is not done by then is left for the next.
pub const DEFAULT_SCAN_DEADLINE: Duration = Duration::from_secs(360 * 60);
/// How many days ahead "certificate expires soon" is raised (defined with the probe's defaults).
pub use crate::probe::config::DEFAULT_EXPIRY_WARNING_DAYS;
/// How many days an untestable domain keeps its last known testable state (`model::stale`).
pub const DEFAULT_STALE_MAX_DAYS: u32 = 7;

/// Settings saved in the database and used by the next scan. Times are kept in whole seconds,
/// minutes or hours, as saved and as typed in the settings tab; they become [`Duration`]s only
/// through the methods below.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Hours between scheduled scans. Default [`DEFAULT_SCAN_INTERVAL`].
    pub scan_interval_hours: u32,
    /// Whether the schedule is paused (manual scans still run). Default false.
    pub paused: bool,
    /// Domains probed at the same time. Default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// TCP connect timeout in seconds. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout_secs: u32,
    /// Deadline for the whole greeting in seconds. Default [`DEFAULT_GREETING_TIMEOUT`].
    pub greeting_timeout_secs: u32,
    /// Deadline for each later reply and for the TLS handshake, in seconds. Default
    /// [`DEFAULT_COMMAND_TIMEOUT`].
    pub command_timeout_secs: u32,
    /// Deadline for a whole scan in minutes; what is not done by then is left for the next.
    /// Default [`DEFAULT_SCAN_DEADLINE`].
    pub scan_deadline_minutes: u32,
    /// Name given in EHLO; empty means the probe's default.
    pub ehlo_name: String,
    /// DNS server as `IP`, `IP:PORT` or `[IPv6]:PORT`; empty means the system resolver.
    pub dns_server: String,
    /// Most DNS queries a second, retransmissions included; 0: no cap (loopback test fleets).
    /// Default [`DEFAULT_DNS_QPS`], at most [`MAX_DNS_QPS`].
    pub dns_qps: u32,
    /// Extra trust anchors (PEM file), added to the Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// DNSSEC trust anchors (a file of DNSKEY lines) that replace the built-in root keys;
    /// None: the root keys. For private roots and test fleets.
    pub trust_anchor: Option<PathBuf>,
    /// SMTP port. Default [`DEFAULT_SMTP_PORT`]; other values are for test fleets.
    pub smtp_port: u16,
    /// Deep mode: also ask whether servers prefer non-forward-secret suites.
    pub deep: bool,
    /// Raise "certificate expires soon" this many days ahead. Default
    /// [`DEFAULT_EXPIRY_WARNING_DAYS`].
    pub expiry_warning_days: u32,
    /// An untestable domain keeps its last known testable state for this many days after that
    /// state was last confirmed (0: never). Default [`DEFAULT_STALE_MAX_DAYS`].
    pub stale_max_days: u32,
    /// SOCKS5 proxy for every SMTP connection, `socks5://[user:pass@]HOST:PORT`; empty means
    /// direct. Holds the password as saved; its `Debug` masks it, and people see it only
    /// through [`Settings::masked`].
    pub proxy: ProxyUrl,
    /// Webhook URLs (`https://` only) that get one JSON document per scan with new events
    /// (`monitor::webhooks`); empty: none.
    pub webhooks: Vec<String>,
    /// The HMAC-SHA256 key that signs each webhook body (`X-Signature: sha256=<hex>`); empty:
    /// unsigned. Its `Debug` masks it, and [`Settings::masked`] replaces it with `***`.
    pub webhook_secret: SecretText,
    /// Which regressions raise a desktop notification (the app and `run`, one grouped
    /// notification per kind and scan); only regression kinds. Default
    /// [`DEFAULT_NOTIFY_KINDS`]; empty: none.
    pub notify_kinds: Vec<ChangeKind>,
    /// Quiet mode: no desktop notification at all (events are still marked as seen, so
    /// turning it off later brings no backlog). Default false.
    pub notify_quiet: bool,
    /// Monitor health: notify when more than this percentage of all domains is stale (their
    /// latest probe untestable, their last known state kept); 0: never. Default
    /// [`DEFAULT_HEALTH_STALE_PERCENT`]. (A scheduled scan missing for two intervals is
    /// always notified, outside quiet mode.)
    pub health_stale_percent: u32,
}

/// The highest DNS queries-per-second cap the setting takes (a cap above what any resolver
/// answers is a typo; 0 is the way to say "no cap").
pub const MAX_DNS_QPS: u32 = 100_000;

/// The default of [`Settings::health_stale_percent`].
pub const DEFAULT_HEALTH_STALE_PERCENT: u32 = 25;

/// The regressions notified by default: every regression kind.
pub const DEFAULT_NOTIFY_KINDS: [ChangeKind; 7] = [
    ChangeKind::StarttlsLost,
    ChangeKind::PfsLost,
    ChangeKind::CertBecameInvalid,
    ChangeKind::CertExpiring,
    ChangeKind::DaneFailed,
    ChangeKind::DaneLost,
    ChangeKind::StsMxMismatch,
];

/// A secret setting's text as saved. `Debug` shows `***` (or `""` when empty), so a settings
/// value in a log line or a debug print never carries it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    /// The text as saved.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `***` for a secret that is set, empty for none: what people see.
    pub fn masked(&self) -> &'static str {
        if self.0.is_empty() { "" } else { MASK }
    }
}

/// What a masked secret reads as.
const MASK: &str = "***";

impl From<&str> for SecretText {
    fn from(text: &str) -> Self {
        Self(text.to_string())
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{:?}", self.masked())
    }
}

/// Most webhook URLs kept.
pub const MAX_WEBHOOKS: usize = 16;

/// A webhook URL as the setting takes it: `https://HOST[:PORT]/PATH[?QUERY]`, no user name or
/// password, no fragment. Plain `http://` is refused: a webhook body names the domains watched
/// and their weaknesses, and the one HTTPS client validates the receiver's certificate with
/// our roots (plus `ca_file`), as it does for MTA-STS policies.
pub fn webhook_url(text: &str) -> Result<url::Url, String> {
    let shown = mask_url(text);
    let url = url::Url::parse(text.trim())
        .map_err(|error| format!("webhook '{shown}' is not a URL: {error}"))?;
    if url.scheme() != "https" {
        return Err(format!(
            "webhook '{shown}' must start with https:// (plain http is not sent)"
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("webhook '{shown}' has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "webhook '{shown}' carries a user name or password; put a token in the path or use webhook_secret"
        ));
    }
    if url.fragment().is_some() {
        return Err(format!("webhook '{shown}' has a #fragment"));
    }
    Ok(url)
}

/// A webhook URL for log lines and messages: scheme, host and port only, the path (which often
/// carries a token, as Slack's do) shown as `/…`.
pub fn mask_url(text: &str) -> String {
    match url::Url::parse(text.trim()) {
        Ok(url) => {
            let host = url.host_str().unwrap_or_default();
            let port = url
                .port()
                .map(|port| format!(":{port}"))
                .unwrap_or_default();
            let path = if url.path().len() > 1 || url.query().is_some() {
                "/…"
            } else {
                ""
            };
            format!("{}://{host}{port}{path}", url.scheme())
        }
        Err(_) => "(not a URL)".to_string(),
    }
}

/// Whether a proxy setting's text holds a password (the Settings tab masks it then).
pub fn proxy_has_password(text: &str) -> bool {
    mask_in(text) != text
}

/// A setting's JSON value as text for people: numbers and booleans as written, a text as is,
/// null as empty, a list comma-separated.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) => {
            items.iter().map(value_text).collect::<Vec<_>>().join(",")
        }
        other => other.to_string(),
    }
}

/// Whole seconds of a default, as saved (the defaults are whole seconds well below `u32::MAX`).
const fn whole_seconds(duration: Duration) -> u32 {
    duration.as_secs() as u32
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            scan_interval_hours: whole_seconds(DEFAULT_SCAN_INTERVAL) / 3600,
            paused: false,
            concurrency: DEFAULT_CONCURRENCY,
            connect_timeout_secs: whole_seconds(DEFAULT_CONNECT_TIMEOUT),
            greeting_timeout_secs: whole_seconds(DEFAULT_GREETING_TIMEOUT),
            command_timeout_secs: whole_seconds(DEFAULT_COMMAND_TIMEOUT),
            scan_deadline_minutes: whole_seconds(DEFAULT_SCAN_DEADLINE) / 60,
            ehlo_name: String::new(),
            dns_server: String::new(),
            dns_qps: DEFAULT_DNS_QPS,
            ca_file: None,
            trust_anchor: None,
            smtp_port: DEFAULT_SMTP_PORT,
            deep: false,
            expiry_warning_days: DEFAULT_EXPIRY_WARNING_DAYS,
            stale_max_days: DEFAULT_STALE_MAX_DAYS,
            proxy: ProxyUrl::default(),
            webhooks: Vec::new(),
            webhook_secret: SecretText::default(),
            notify_kinds: DEFAULT_NOTIFY_KINDS.to_vec(),
            notify_quiet: false,
            health_stale_percent: DEFAULT_HEALTH_STALE_PERCENT,
        }
    }
}

/// The proxy setting's text as saved (with any password). `Debug` masks the password, so a
/// settings value in a log line or a debug print never carries it; the text itself is for
/// using and saving.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProxyUrl(String);

impl ProxyUrl {
    /// The text as saved.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for ProxyUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for ProxyUrl {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for ProxyUrl {
    fn from(text: &str) -> Self {
        Self(text.to_string())
    }
}

impl PartialEq<&str> for ProxyUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Debug for ProxyUrl {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{:?}", mask_in(&self.0))
    }
}

/// Why no probe configuration could be made from the settings (a DNS server address that does
/// not parse, a CA file that cannot be read, a value that cannot work); in words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

/// Command-line options that override saved settings for one process (`--dns`, `--ca-file`,
/// `--smtp-port`, `--timeout`, `--greeting-timeout`, `--ehlo-name`, `--concurrency`,
/// `--dns-qps`, and a
/// command's `--deep`). `None` leaves the setting (or, for `probe`, the default) alone.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// The resolver, instead of the saved DNS server.
    pub dns: Option<DnsServer>,
    /// The DNS queries-per-second cap (0: none), instead of the saved one.
    pub dns_qps: Option<u32>,
    /// Extra trust anchors, instead of the saved CA file.
    pub ca_file: Option<PathBuf>,
    /// DNSSEC trust anchors (`--trust-anchor`), instead of the saved `trust_anchor`.
    pub trust_anchor: Option<PathBuf>,
    /// The SMTP port.
    pub smtp_port: Option<u16>,
    /// The HTTPS port of MTA-STS policy hosts (`--https-port`; tests only, never saved).
    pub https_port: Option<u16>,
    /// One deadline for connecting, each reply and the TLS handshake.
    pub timeout: Option<Duration>,
    /// The deadline for the whole greeting.
    pub greeting_timeout: Option<Duration>,
    /// The name given in EHLO.
    pub ehlo_name: Option<String>,
    /// Domains probed at the same time.
    pub concurrency: Option<usize>,
    /// Deep mode on, whatever the settings say (false leaves the setting alone).
    pub deep: bool,
    /// `--proxy`: through this SOCKS5 proxy, or `direct`, instead of the saved proxy.
    pub proxy: Option<ProxyChoice>,
}

impl Overrides {
    /// `builder` with every given option put over what it holds.
    pub fn apply(&self, mut builder: ProbeConfigBuilder) -> ProbeConfigBuilder {
        if let Some(dns) = &self.dns {
            builder = builder.dns(dns.clone());
        }
        if let Some(qps) = self.dns_qps {
            builder = builder.dns_qps(qps);
        }
        if let Some(path) = &self.ca_file {
            builder = builder.ca_file(path);
        }
        if let Some(path) = &self.trust_anchor {
            builder = builder.trust_anchor(path);
        }
        if let Some(port) = self.smtp_port {
            builder = builder.smtp_port(port);
        }
        if let Some(port) = self.https_port {
            builder = builder.https_port(port);
        }
        if let Some(limit) = self.timeout {
            builder = builder
                .connect_timeout(limit)
                .command_timeout(limit)
                .tls_timeout(limit)
                .https_timeout(limit);
        }
        if let Some(limit) = self.greeting_timeout {
            builder = builder.greeting_timeout(limit);
        }
        if let Some(name) = &self.ehlo_name {
            builder = builder.ehlo_name(name);
        }
        if let Some(count) = self.concurrency {
            builder = builder.concurrency(count);
        }
        if self.deep {
            builder = builder.deep(true);
        }
        if let Some(choice) = &self.proxy {
            builder = builder.proxy(choice.proxy().cloned());
        }
        builder
    }
}

/// A saved setting that a command-line option can override for one run; the Settings tab names
/// each one in effect, with the option that set it, and can save its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverriddenSetting {
    /// `--dns`, over the DNS server.
    Dns,
    /// `--dns-qps`, over the DNS queries-per-second cap.
    DnsQps,
    /// `--ca-file`, over the extra CA file.
    CaFile,
    /// `--smtp-port`, over the SMTP port.
    SmtpPort,
    /// `--timeout`, over the connect and the reply/TLS timeouts.
    Timeout,
    /// `--greeting-timeout`, over the greeting timeout.
    GreetingTimeout,
    /// `--ehlo-name`, over the EHLO name.
    EhloName,
    /// `--concurrency`, over the concurrency.
    Concurrency,
    /// `--deep`, over deep mode.
    Deep,
    /// `--proxy`, over the SOCKS5 proxy.
    Proxy,
}

impl OverriddenSetting {
    /// Every one, in the order of the Settings tab.
    pub const ALL: [OverriddenSetting; 10] = [
        OverriddenSetting::Concurrency,
        OverriddenSetting::Timeout,
        OverriddenSetting::GreetingTimeout,
        OverriddenSetting::EhloName,
        OverriddenSetting::SmtpPort,
        OverriddenSetting::Dns,
        OverriddenSetting::DnsQps,
        OverriddenSetting::CaFile,
        OverriddenSetting::Proxy,
        OverriddenSetting::Deep,
    ];

    /// The command-line option, as typed.
    pub fn flag(self) -> &'static str {
        match self {
            OverriddenSetting::Dns => "--dns",
            OverriddenSetting::DnsQps => "--dns-qps",
            OverriddenSetting::CaFile => "--ca-file",
            OverriddenSetting::SmtpPort => "--smtp-port",
            OverriddenSetting::Timeout => "--timeout",
            OverriddenSetting::GreetingTimeout => "--greeting-timeout",
            OverriddenSetting::EhloName => "--ehlo-name",
            OverriddenSetting::Concurrency => "--concurrency",
            OverriddenSetting::Deep => "--deep",
            OverriddenSetting::Proxy => "--proxy",
        }
    }

    /// The setting's name, as the Settings tab says it.
    pub fn setting_name(self) -> &'static str {
        match self {
            OverriddenSetting::Dns => "DNS server",
            OverriddenSetting::DnsQps => "DNS queries per second",
            OverriddenSetting::CaFile => "Extra trusted CA file",
            OverriddenSetting::SmtpPort => "SMTP port",
            OverriddenSetting::Timeout => "Connect, reply and TLS timeouts",
            OverriddenSetting::GreetingTimeout => "Greeting timeout",
            OverriddenSetting::EhloName => "EHLO name",
            OverriddenSetting::Concurrency => "Concurrency",
            OverriddenSetting::Deep => "Deep mode",
            OverriddenSetting::Proxy => "SOCKS5 proxy",
        }
    }
}

/// Whole seconds of a deadline given on the command line, rounded up (settings keep whole
/// seconds; a deadline is never shortened by saving it).
fn seconds_rounded_up(duration: Duration) -> u32 {
    let seconds = duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0));
    u32::try_from(seconds).unwrap_or(u32::MAX)
}

/// A DNS rate cap for people: `500 per second`, `no cap`.
fn dns_qps_text(qps: u32) -> String {
    if qps == 0 {
        "no cap".to_string()
    } else {
        format!("{qps} per second")
    }
}

/// A deadline for people: `5 s`, `2.5 s`.
fn seconds_text(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

impl Overrides {
    /// The settings these options override, in the order of the Settings tab (empty: none).
    pub fn overridden(&self) -> Vec<OverriddenSetting> {
        OverriddenSetting::ALL
            .into_iter()
            .filter(|setting| self.value_text(*setting).is_some())
            .collect()
    }

    /// The value in effect for `setting` when an option overrides it, for people
    /// (`127.0.0.53:53`, `2.5 s`, `on`); None when no option does.
    pub fn value_text(&self, setting: OverriddenSetting) -> Option<String> {
        match setting {
            OverriddenSetting::Dns => self.dns.as_ref().map(|dns| match dns {
                DnsServer::System => "the system resolver".to_string(),
                DnsServer::Custom(address) => address.to_string(),
            }),
            OverriddenSetting::DnsQps => self.dns_qps.map(dns_qps_text),
            OverriddenSetting::CaFile => {
                self.ca_file.as_ref().map(|path| path.display().to_string())
            }
            OverriddenSetting::SmtpPort => self.smtp_port.map(|port| port.to_string()),
            OverriddenSetting::Timeout => self.timeout.map(seconds_text),
            OverriddenSetting::GreetingTimeout => self.greeting_timeout.map(seconds_text),
            OverriddenSetting::EhloName => self.ehlo_name.clone(),
            OverriddenSetting::Concurrency => self.concurrency.map(|count| count.to_string()),
            OverriddenSetting::Deep => self.deep.then(|| "on".to_string()),
            OverriddenSetting::Proxy => self.proxy.as_ref().map(|choice| match choice {
                ProxyChoice::Direct => "direct (no proxy)".to_string(),
                ProxyChoice::Socks5(proxy) => proxy.to_string(),
            }),
        }
    }

    /// `settings` with the value the option gives `setting` saved in it (deadlines rounded up
    /// to whole seconds; `--timeout` sets the connect and the reply/TLS timeouts); `settings`
    /// as they are when no option overrides it.
    pub fn saved_into(&self, setting: OverriddenSetting, settings: &Settings) -> Settings {
        let mut saved = settings.clone();
        match setting {
            OverriddenSetting::Dns => {
                if let Some(dns) = &self.dns {
                    saved.dns_server = match dns {
                        DnsServer::System => String::new(),
                        DnsServer::Custom(address) => address.to_string(),
                    };
                }
            }
            OverriddenSetting::DnsQps => {
                if let Some(qps) = self.dns_qps {
                    saved.dns_qps = qps;
                }
            }
            OverriddenSetting::CaFile => {
                if let Some(path) = &self.ca_file {
                    saved.ca_file = Some(path.clone());
                }
            }
            OverriddenSetting::SmtpPort => {
                if let Some(port) = self.smtp_port {
                    saved.smtp_port = port;
                }
            }
            OverriddenSetting::Timeout => {
                if let Some(limit) = self.timeout {
                    saved.connect_timeout_secs = seconds_rounded_up(limit);
                    saved.command_timeout_secs = seconds_rounded_up(limit);
                }
            }
            OverriddenSetting::GreetingTimeout => {
                if let Some(limit) = self.greeting_timeout {
                    saved.greeting_timeout_secs = seconds_rounded_up(limit);
                }
            }
            OverriddenSetting::EhloName => {
                if let Some(name) = &self.ehlo_name {
                    saved.ehlo_name = name.trim().to_string();
                }
            }
            OverriddenSetting::Concurrency => {
                if let Some(count) = self.concurrency {
                    saved.concurrency = count;
                }
            }
            OverriddenSetting::Deep => saved.deep |= self.deep,
            OverriddenSetting::Proxy => {
                if let Some(choice) = &self.proxy {
                    saved.proxy = choice
                        .proxy()
                        .map(SocksProxy::url_with_password)
                        .unwrap_or_default()
                        .into();
                }
            }
        }
        saved
    }

    /// `settings` with every overriding option's value saved in it.
    pub fn all_saved_into(&self, settings: &Settings) -> Settings {
        self.overridden()
            .into_iter()
            .fold(settings.clone(), |saved, setting| {
                self.saved_into(setting, &saved)
            })
    }

    /// Whether `settings` already hold what the option gives `setting` (saving it changes
    /// nothing).
    pub fn is_saved_in(&self, setting: OverriddenSetting, settings: &Settings) -> bool {
        self.saved_into(setting, settings) == *settings
    }
}

impl Settings {
    /// A probe configuration builder holding these settings (timeouts as [`Duration`]s; an
    /// empty EHLO name or DNS server leaves the probe's default). The CA file is read when the
    /// builder is built.
    pub fn probe_config_builder(&self) -> Result<ProbeConfigBuilder, SettingsError> {
        let seconds = |value: u32| Duration::from_secs(u64::from(value));
        let mut builder = ProbeConfig::builder()
            .concurrency(self.concurrency)
            .connect_timeout(seconds(self.connect_timeout_secs))
            .greeting_timeout(seconds(self.greeting_timeout_secs))
            .command_timeout(seconds(self.command_timeout_secs))
            .tls_timeout(seconds(self.command_timeout_secs))
            .https_timeout(seconds(self.command_timeout_secs))
            .expiry_warning_days(self.expiry_warning_days)
            .dns_qps(self.dns_qps)
            .smtp_port(self.smtp_port)
            .deep(self.deep);
        let ehlo_name = self.ehlo_name.trim();
        if !ehlo_name.is_empty() {
            builder = builder.ehlo_name(ehlo_name);
        }
        if !self.dns_server.trim().is_empty() {
            let dns = DnsServer::parse(&self.dns_server)
                .map_err(|problem| SettingsError(format!("DNS server setting: {problem}")))?;
            builder = builder.dns(dns);
        }
        if let Some(path) = &self.ca_file {
            builder = builder.ca_file(path);
        }
        if let Some(path) = &self.trust_anchor {
            builder = builder.trust_anchor(path);
        }
        if let Some(proxy) = self.socks_proxy()? {
            builder = builder.proxy(Some(proxy));
        }
        Ok(builder)
    }

    /// The saved SOCKS5 proxy, None for direct (an empty setting, or `direct` / `none` as
    /// `--proxy` takes them).
    pub fn socks_proxy(&self) -> Result<Option<SocksProxy>, SettingsError> {
        let text = self.proxy.trim();
        if text.is_empty() {
            return Ok(None);
        }
        ProxyChoice::parse(text)
            .map(|choice| choice.proxy().cloned())
            .map_err(|problem| SettingsError(format!("proxy setting: {problem}")))
    }

    /// These settings with the proxy password masked (`socks5://user:***@HOST:PORT`): what
    /// `settings show`, logs, exports and a stored scan's copy of the settings hold.
    pub fn masked(&self) -> Settings {
        let mut masked = self.clone();
        masked.proxy = match SocksProxy::parse(&self.proxy) {
            Ok(proxy) => proxy.to_string().into(),
            Err(_) => mask_in(&self.proxy).into(),
        };
        masked.webhook_secret = SecretText::from(self.webhook_secret.masked());
        masked
    }

    /// The probe configuration for these settings with `overrides` put over them; the CA file
    /// is read and every rule checked.
    pub fn probe_config(&self, overrides: &Overrides) -> Result<ProbeConfig, SettingsError> {
        overrides
            .apply(self.probe_config_builder()?)
            .build()
            .map_err(|error| SettingsError(error.to_string()))
    }

    /// The keys of the Settings JSON (`settings show` and `settings set` use them), sorted.
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// One line per key for people: `(key, value)`, the proxy password masked; an empty or
    /// absent value is an empty text, a list is comma-separated.
    pub fn shown(&self) -> Vec<(String, String)> {
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(self.masked()) else {
            return Vec::new();
        };
        fields
            .into_iter()
            .map(|(key, value)| (key, value_text(&value)))
            .collect()
    }

    /// These settings with each `(key, text)` edit applied — the text as typed in the Settings
    /// tab or given to `settings set KEY VALUE` — then every rule of [`Settings::problems`]
    /// checked: the one validation of an edit, used by both. Each problem names its key.
    pub fn edited(&self, edits: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
        let mut edited = self.clone();
        let mut problems = Vec::new();
        for (key, text) in edits {
            if let Err(problem) = edited.set_text(key, text) {
                problems.push(problem);
            }
        }
        // One order (the kinds' own), no repeats: the Settings tab's checkboxes give the same.
        edited.notify_kinds.sort_by_key(|kind| {
            <ChangeKind as strum::VariantArray>::VARIANTS
                .iter()
                .position(|known| known == kind)
        });
        edited.notify_kinds.dedup();
        problems.extend(edited.problems());
        if problems.is_empty() {
            Ok(edited)
        } else {
            Err(problems)
        }
    }

    /// Sets one setting from its text: a whole number, `true`/`false` (also on/off, yes/no),
    /// a text, an empty text for "none" where a setting may be absent, a comma-separated
    /// list. Only the syntax is checked here; [`Settings::edited`] checks the rules.
    fn set_text(&mut self, key: &str, text: &str) -> Result<(), String> {
        let text = text.trim();
        let Ok(serde_json::Value::Object(mut fields)) = serde_json::to_value(&*self) else {
            return Err("internal error: settings are not a JSON object".to_string());
        };
        let Some(current) = fields.get(key) else {
            return Err(format!(
                "'{key}' is not a setting (the keys are: {})",
                Settings::keys().join(", ")
            ));
        };
        let shown = if key == "proxy" {
            mask_in(text)
        } else if key == "webhook_secret" {
            MASK.to_string()
        } else {
            text.to_string()
        };
        let candidates: Vec<serde_json::Value> = match current {
            serde_json::Value::Bool(_) => match text.to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => vec![true.into()],
                "false" | "off" | "no" | "0" => vec![false.into()],
                _ => return Err(format!("{key}: '{shown}' is not true or false")),
            },
            serde_json::Value::Number(_) => match text.parse::<u64>() {
                Ok(number) => vec![number.into()],
                Err(_) => return Err(format!("{key}: '{shown}' is not a whole number")),
            },
            serde_json::Value::Array(_) => vec![serde_json::Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| serde_json::Value::String(item.to_string()))
                    .collect(),
            )],
            serde_json::Value::String(_) | serde_json::Value::Null if text.is_empty() => {
                vec![
                    serde_json::Value::Null,
                    serde_json::Value::String(String::new()),
                ]
            }
            _ => vec![serde_json::Value::String(text.to_string())],
        };
        for candidate in candidates {
            fields.insert(key.to_string(), candidate);
            if let Ok(settings) =
                serde_json::from_value::<Settings>(serde_json::Value::Object(fields.clone()))
            {
                *self = settings;
                return Ok(());
            }
        }
        Err(format!("{key}: '{shown}' is out of range"))
    }

    /// Every problem that keeps these settings from being saved and used: the rules of
    /// [`Settings::problems`], then the probe configuration they make (a DNS server address,
    /// a CA file that must be readable). The app's save and `settings set` both ask this.
    pub fn usable_problems(&self) -> Vec<String> {
        let mut problems = self.problems();
        if problems.is_empty()
            && let Err(error) = self.probe_config(&Overrides::default())
        {
            problems.push(error.to_string());
        }
        problems
    }

    /// Time between scheduled scans.
    pub fn scan_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.scan_interval_hours) * 3600)
    }

    /// Deadline for a whole scan.
    pub fn scan_deadline(&self) -> Duration {
        Duration::from_secs(u64::from(self.scan_deadline_minutes) * 60)
    }

    /// Every problem with these settings, in words; empty when they can be used.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.scan_interval_hours == 0 || self.scan_interval_hours > 24 * 365 {
            problems.push("scan interval must be between 1 hour and 1 year".to_string());
        }
        if self.concurrency == 0 || self.concurrency > 4096 {
            problems.push("concurrency must be between 1 and 4096".to_string());
        }
        for (value, name) in [
            (self.connect_timeout_secs, "connect timeout"),
            (self.greeting_timeout_secs, "greeting timeout"),
            (self.command_timeout_secs, "reply timeout"),
        ] {
            if value == 0 || value > 600 {
                problems.push(format!("{name} must be between 1 and 600 seconds"));
            }
        }
        if self.dns_qps > MAX_DNS_QPS {
            problems.push(format!(
                "dns_qps must be between 0 (no cap) and {MAX_DNS_QPS} queries per second"
            ));
        }
        if self.scan_deadline_minutes == 0 {
            problems.push("scan deadline must be at least 1 minute".to_string());
        }
        if self.smtp_port == 0 {
            problems.push("SMTP port must be between 1 and 65535".to_string());
        }
        if self.expiry_warning_days > 365 {
            problems.push("expiry warning must be at most 365 days".to_string());
        }
        if self.stale_max_days > 365 {
            problems.push("stale state must be kept at most 365 days".to_string());
        }
        if let Err(error) = self.socks_proxy() {
            problems.push(error.to_string());
        }
        if self.health_stale_percent > 100 {
            problems.push("health_stale_percent must be between 0 and 100".to_string());
        }
        for kind in &self.notify_kinds {
            if !kind.is_regression() {
                problems.push(format!(
                    "notify_kinds: '{}' is not a regression (notified kinds: {})",
                    kind.as_str(),
                    DEFAULT_NOTIFY_KINDS.map(ChangeKind::as_str).join(", ")
                ));
            }
        }
        if self.webhooks.len() > MAX_WEBHOOKS {
            problems.push(format!("at most {MAX_WEBHOOKS} webhooks"));
        }
        for url in &self.webhooks {
            if let Err(problem) = webhook_url(url) {
                problems.push(problem);
            }
        }
        problems
    }

    /// The webhook URLs, parsed (each checked by [`webhook_url`]; a bad one is left out, and
    /// [`Settings::problems`] names it).
    pub fn webhook_urls(&self) -> Vec<url::Url> {
        self.webhooks
            .iter()
            .filter_map(|url| webhook_url(url).ok())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn old_json_with_missing_fields_takes_defaults() {
        let settings: Settings =
            serde_json::from_str(r#"{"concurrency": 8}"#).expect("partial settings parse");
        assert_eq!(settings.concurrency, 8);
        assert_eq!(settings.scan_interval_hours, 24);
        assert_eq!(settings.expiry_warning_days, 14);
        assert_eq!(settings.stale_max_days, DEFAULT_STALE_MAX_DAYS);
    }

    #[test]
    fn the_trust_anchor_setting_is_loaded_and_the_option_wins() {
        let settings: Settings = serde_json::from_str(r#"{"concurrency": 8}"#).expect("parses");
        assert_eq!(settings.trust_anchor, None, "old settings: the root keys");
        let dir = tempfile::tempdir().expect("temp dir");
        let saved = dir.path().join("saved.key");
        let given = dir.path().join("given.key");
        let line = "example.test. IN DNSKEY 257 3 13 \
            mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n";
        std::fs::write(&saved, line).expect("write");
        std::fs::write(&given, line.replace("example.test.", "other.test.")).expect("write");
        let settings: Settings =
            serde_json::from_value(serde_json::json!({ "trust_anchor": saved })).expect("parses");
        let config = settings.probe_config(&Overrides::default()).expect("valid");
        let anchor = config.trust_anchor.expect("the saved anchors");
        assert_eq!(anchor.zones, vec!["example.test.".to_string()]);
        let overrides = Overrides {
            trust_anchor: Some(given.clone()),
            ..Overrides::default()
        };
        let config = settings.probe_config(&overrides).expect("valid");
        assert_eq!(config.trust_anchor.expect("given").path, given);
        let missing = Settings {
            trust_anchor: Some(dir.path().join("gone.key")),
            ..Settings::default()
        };
        let error = missing
            .probe_config(&Overrides::default())
            .expect_err("a missing anchor file is an error");
        assert!(error.to_string().contains("gone.key"), "{error}");
    }

    #[test]
    fn the_stale_window_is_seven_days_and_at_most_a_year() {
        assert_eq!(DEFAULT_STALE_MAX_DAYS, 7);
        assert_eq!(Settings::default().stale_max_days, 7);
        let settings: Settings = serde_json::from_str(r#"{"stale_max_days": 0}"#).expect("parses");
        assert_eq!(settings.stale_max_days, 0, "0 turns the rule off");
        assert!(settings.problems().is_empty());
        let too_long = Settings {
            stale_max_days: 366,
            ..Settings::default()
        };
        assert_eq!(too_long.problems().len(), 1);
        assert!(too_long.problems()[0].contains("stale"));
    }

    #[test]
    fn problems_are_named() {
        assert!(Settings::default().problems().is_empty());
        let settings = Settings {
            concurrency: 0,
            smtp_port: 0,
            ..Settings::default()
        };
        let problems = settings.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("concurrency"));
    }

    #[test]
    fn defaults_are_the_constants() {
        let settings = Settings::default();
        assert_eq!(settings.scan_interval(), DEFAULT_SCAN_INTERVAL);
        assert_eq!(settings.scan_deadline(), DEFAULT_SCAN_DEADLINE);
        assert_eq!(settings.expiry_warning_days, DEFAULT_EXPIRY_WARNING_DAYS);
        let from_settings = settings
            .probe_config(&Overrides::default())
            .expect("default settings work");
        let default = ProbeConfig::default();
        assert_eq!(from_settings.concurrency, default.concurrency);
        assert_eq!(from_settings.connect_timeout, default.connect_timeout);
        assert_eq!(from_settings.greeting_timeout, default.greeting_timeout);
        assert_eq!(from_settings.command_timeout, default.command_timeout);
        assert_eq!(from_settings.tls_timeout, default.tls_timeout);
        assert_eq!(from_settings.smtp_port, default.smtp_port);
        assert_eq!(from_settings.ehlo_name, default.ehlo_name);
        assert_eq!(from_settings.dns, DnsServer::System);
        assert!(!from_settings.deep);
    }

    #[test]
    fn saved_settings_become_durations() {
        let json = r#"{"connect_timeout_secs": 7, "greeting_timeout_secs": 12,
            "command_timeout_secs": 20, "scan_interval_hours": 6, "scan_deadline_minutes": 90,
            "concurrency": 5, "smtp_port": 2525, "ehlo_name": " probe.example.org ",
            "dns_server": "127.0.0.1:5353", "deep": true}"#;
        let settings: Settings = serde_json::from_str(json).expect("settings parse");
        let round_trip: Settings =
            serde_json::from_str(&serde_json::to_string(&settings).expect("serialize"))
                .expect("parse again");
        assert_eq!(round_trip, settings);
        assert_eq!(settings.scan_interval(), Duration::from_secs(6 * 3600));
        assert_eq!(settings.scan_deadline(), Duration::from_secs(90 * 60));
        let config = round_trip
            .probe_config(&Overrides::default())
            .expect("valid");
        assert_eq!(config.connect_timeout, Duration::from_secs(7));
        assert_eq!(config.greeting_timeout, Duration::from_secs(12));
        assert_eq!(config.command_timeout, Duration::from_secs(20));
        assert_eq!(config.tls_timeout, Duration::from_secs(20));
        assert_eq!(config.concurrency, 5);
        assert_eq!(config.smtp_port, 2525);
        assert_eq!(config.ehlo_name, "probe.example.org");
        assert_eq!(
            config.dns,
            DnsServer::Custom("127.0.0.1:5353".parse().expect("addr"))
        );
        assert!(config.deep);
    }

    #[test]
    fn overrides_win_over_settings() {
        let settings = Settings {
            concurrency: 5,
            connect_timeout_secs: 7,
            greeting_timeout_secs: 12,
            command_timeout_secs: 20,
            smtp_port: 2525,
            ehlo_name: "saved.example.org".into(),
            dns_server: "127.0.0.1:5353".into(),
            ca_file: Some(PathBuf::from("/nonexistent/saved-ca.pem")),
            ..Settings::default()
        };
        let certified =
            rcgen::generate_simple_self_signed(vec!["ca.example".to_string()]).expect("cert");
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("override-ca.pem");
        std::fs::write(&ca_file, certified.cert.pem()).expect("write");
        let overrides = Overrides {
            dns: Some(DnsServer::parse("10.0.0.53").expect("address")),
            dns_qps: Some(40),
            ca_file: Some(ca_file.clone()),
            smtp_port: Some(2526),
            https_port: Some(8443),
            timeout: Some(Duration::from_millis(2500)),
            greeting_timeout: Some(Duration::from_secs(3)),
            ehlo_name: Some("override.example.org".into()),
            concurrency: Some(9),
            deep: true,
            trust_anchor: None,
            proxy: Some(ProxyChoice::parse("socks5://127.0.0.1:1080").expect("valid")),
        };
        let config = settings.probe_config(&overrides).expect("valid");
        assert_eq!(
            config.dns,
            DnsServer::Custom("10.0.0.53:53".parse().expect("addr"))
        );
        assert_eq!(config.dns_qps, 40);
        assert_eq!(config.ca_file.as_deref(), Some(ca_file.as_path()));
        assert_eq!(config.extra_roots.len(), 1);
        assert_eq!(config.smtp_port, 2526);
        assert_eq!(config.connect_timeout, Duration::from_millis(2500));
        assert_eq!(config.command_timeout, Duration::from_millis(2500));
        assert_eq!(config.tls_timeout, Duration::from_millis(2500));
        assert_eq!(config.https_port, 8443);
        assert_eq!(config.https_timeout, Duration::from_millis(2500));
        assert_eq!(config.greeting_timeout, Duration::from_secs(3));
        assert_eq!(config.ehlo_name, "override.example.org");
        assert_eq!(config.concurrency, 9);
        assert!(config.deep);
        assert_eq!(
            config.proxy.as_ref().map(SocksProxy::endpoint).as_deref(),
            Some("127.0.0.1:1080")
        );

        // Without overrides the saved CA file is used, and its problem named.
        let error = settings
            .probe_config(&Overrides::default())
            .expect_err("the saved CA file is missing");
        assert!(error.to_string().contains("saved-ca.pem"), "{error}");
    }

    #[test]
    fn each_override_is_named_with_its_value_and_can_be_saved() {
        assert!(Overrides::default().overridden().is_empty());
        let overrides = Overrides {
            dns: Some(DnsServer::parse("127.0.0.53").expect("address")),
            ca_file: Some(PathBuf::from("/tmp/lab-ca.pem")),
            timeout: Some(Duration::from_millis(2500)),
            greeting_timeout: Some(Duration::from_secs(20)),
            deep: true,
            ..Overrides::default()
        };
        assert_eq!(
            overrides.overridden(),
            [
                OverriddenSetting::Timeout,
                OverriddenSetting::GreetingTimeout,
                OverriddenSetting::Dns,
                OverriddenSetting::CaFile,
                OverriddenSetting::Deep,
            ]
        );
        assert_eq!(
            overrides.value_text(OverriddenSetting::Dns).as_deref(),
            Some("127.0.0.53:53")
        );
        assert_eq!(
            overrides.value_text(OverriddenSetting::Timeout).as_deref(),
            Some("2.5 s")
        );
        assert_eq!(
            overrides
                .value_text(OverriddenSetting::GreetingTimeout)
                .as_deref(),
            Some("20 s")
        );
        assert_eq!(overrides.value_text(OverriddenSetting::SmtpPort), None);
        assert_eq!(OverriddenSetting::Dns.flag(), "--dns");

        let saved = Settings::default();
        let with_dns = overrides.saved_into(OverriddenSetting::Dns, &saved);
        assert_eq!(with_dns.dns_server, "127.0.0.53:53");
        assert_eq!(
            Settings {
                dns_server: saved.dns_server.clone(),
                ..with_dns.clone()
            },
            saved,
            "only the DNS server changed"
        );
        assert!(overrides.is_saved_in(OverriddenSetting::Dns, &with_dns));
        assert!(!overrides.is_saved_in(OverriddenSetting::CaFile, &with_dns));
        assert!(
            overrides.is_saved_in(OverriddenSetting::SmtpPort, &saved),
            "not overridden"
        );

        let all = overrides.all_saved_into(&saved);
        assert_eq!(all.dns_server, "127.0.0.53:53");
        assert_eq!(all.ca_file.as_deref(), Some(Path::new("/tmp/lab-ca.pem")));
        assert_eq!(all.connect_timeout_secs, 3, "2.5 s rounds up");
        assert_eq!(all.command_timeout_secs, 3);
        assert_eq!(all.greeting_timeout_secs, 20);
        assert!(all.deep);
        assert_eq!(all.concurrency, saved.concurrency);
        for setting in overrides.overridden() {
            assert!(overrides.is_saved_in(setting, &all), "{setting:?}");
        }
    }

    #[test]
    fn an_edit_is_parsed_by_its_type_and_checked_by_the_rules() {
        let settings = Settings::default();
        let edited = settings
            .edited(&[
                ("concurrency", " 8 "),
                ("deep", "on"),
                ("dns_server", "127.0.0.1:5353"),
                ("ca_file", "/tmp/lab.pem"),
            ])
            .expect("valid");
        assert_eq!(edited.concurrency, 8);
        assert!(edited.deep);
        assert_eq!(edited.dns_server, "127.0.0.1:5353");
        assert_eq!(edited.ca_file.as_deref(), Some(Path::new("/tmp/lab.pem")));
        let cleared = edited.edited(&[("ca_file", "")]).expect("valid");
        assert_eq!(cleared.ca_file, None, "empty means none");

        let problems = settings
            .edited(&[
                ("concurrency", "lots"),
                ("deep", "maybe"),
                ("smtp_port", "70000"),
                ("colour", "blue"),
            ])
            .expect_err("invalid");
        assert_eq!(problems[0], "concurrency: 'lots' is not a whole number");
        assert_eq!(problems[1], "deep: 'maybe' is not true or false");
        assert_eq!(problems[2], "smtp_port: '70000' is out of range");
        assert!(problems[3].starts_with("'colour' is not a setting (the keys are: "));
        let problems = settings
            .edited(&[("scan_interval_hours", "0")])
            .expect_err("a rule");
        assert_eq!(
            problems,
            ["scan interval must be between 1 hour and 1 year"]
        );
    }

    #[test]
    fn the_dns_rate_cap_is_a_setting_an_option_overrides_and_zero_is_no_cap() {
        let settings = Settings::default();
        assert_eq!(settings.dns_qps, DEFAULT_DNS_QPS);
        assert!(
            settings
                .shown()
                .contains(&("dns_qps".to_string(), DEFAULT_DNS_QPS.to_string()))
        );
        let config = settings.probe_config(&Overrides::default()).expect("valid");
        assert_eq!(config.dns_qps, DEFAULT_DNS_QPS);

        let edited = settings.edited(&[("dns_qps", " 50 ")]).expect("valid");
        assert_eq!(edited.dns_qps, 50);
        let uncapped = edited.edited(&[("dns_qps", "0")]).expect("0 is no cap");
        assert_eq!(uncapped.dns_qps, 0);
        let config = uncapped.probe_config(&Overrides::default()).expect("valid");
        assert_eq!(config.dns_qps, 0);
        assert_eq!(
            settings.edited(&[("dns_qps", "fast")]).expect_err("text"),
            ["dns_qps: 'fast' is not a whole number"]
        );
        assert_eq!(
            settings.edited(&[("dns_qps", "-5")]).expect_err("negative"),
            ["dns_qps: '-5' is not a whole number"]
        );
        assert_eq!(
            settings
                .edited(&[("dns_qps", "5000000000")])
                .expect_err("u32"),
            ["dns_qps: '5000000000' is out of range"]
        );
        assert_eq!(
            settings
                .edited(&[("dns_qps", "100001")])
                .expect_err("a rule"),
            [format!(
                "dns_qps must be between 0 (no cap) and {MAX_DNS_QPS} queries per second"
            )]
        );

        // `--dns-qps` wins for one process, is named with its value, and can be saved.
        let overrides = Overrides {
            dns_qps: Some(0),
            ..Overrides::default()
        };
        let config = edited.probe_config(&overrides).expect("valid");
        assert_eq!(config.dns_qps, 0, "the option over the saved 50");
        assert_eq!(overrides.overridden(), [OverriddenSetting::DnsQps]);
        assert_eq!(OverriddenSetting::DnsQps.flag(), "--dns-qps");
        assert_eq!(
            overrides.value_text(OverriddenSetting::DnsQps).as_deref(),
            Some("no cap")
        );
        let saved = overrides.saved_into(OverriddenSetting::DnsQps, &edited);
        assert_eq!(
            saved,
            Settings {
                dns_qps: 0,
                ..edited.clone()
            }
        );
        assert!(overrides.is_saved_in(OverriddenSetting::DnsQps, &saved));
        // A database saved before the setting existed takes the default.
        let old: Settings = serde_json::from_str(r#"{"concurrency": 8}"#).expect("parses");
        assert_eq!(old.dns_qps, DEFAULT_DNS_QPS);
    }

    #[test]
    fn the_proxy_setting_is_checked_and_its_password_never_shown() {
        let settings = Settings::default()
            .edited(&[("proxy", "socks5://alice:hunter2@127.0.0.1:1080")])
            .expect("valid");
        assert_eq!(settings.proxy, "socks5://alice:hunter2@127.0.0.1:1080");
        let shown = settings.shown();
        let proxy = shown
            .iter()
            .find(|(key, _)| key == "proxy")
            .map(|(_, value)| value.as_str());
        assert_eq!(proxy, Some("socks5://alice:***@127.0.0.1:1080"));
        assert!(proxy_has_password(&settings.proxy));
        assert!(
            !format!("{settings:?}").contains("hunter2"),
            "a debug print masks it"
        );
        assert!(!proxy_has_password("socks5://127.0.0.1:1080"));
        assert!(!format!("{shown:?}").contains("hunter2"));
        assert_eq!(shown.len(), Settings::keys().len(), "one line per key");
        let config = settings.probe_config(&Overrides::default()).expect("valid");
        assert_eq!(
            config.proxy.as_ref().map(SocksProxy::endpoint).as_deref(),
            Some("127.0.0.1:1080")
        );
        let problems = Settings::default()
            .edited(&[("proxy", "http://alice:hunter2@proxy.example:3128")])
            .expect_err("not SOCKS5");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("proxy setting: "), "{problems:?}");
        assert!(!problems[0].contains("hunter2"), "{problems:?}");
        for direct in ["direct", "none"] {
            let direct = settings.edited(&[("proxy", direct)]).expect("valid");
            assert!(direct.socks_proxy().expect("valid").is_none());
        }
        let direct = settings.edited(&[("proxy", "")]).expect("valid");
        assert!(
            direct
                .probe_config(&Overrides::default())
                .expect("valid")
                .proxy
                .is_none()
        );
        // --proxy direct wins over a saved proxy.
        let overrides = Overrides {
            proxy: Some(ProxyChoice::Direct),
            ..Overrides::default()
        };
        assert!(
            settings
                .probe_config(&overrides)
                .expect("valid")
                .proxy
                .is_none()
        );
        assert_eq!(
            overrides
                .saved_into(OverriddenSetting::Proxy, &settings)
                .proxy,
            ""
        );
    }

    #[test]
    fn settings_that_cannot_work_are_refused_in_words() {
        let bad_dns = Settings {
            dns_server: "dns.example".into(),
            ..Settings::default()
        };
        let error = bad_dns
            .probe_config(&Overrides::default())
            .expect_err("not an address");
        assert!(
            error.to_string().starts_with("DNS server setting: "),
            "{error}"
        );
        let zero = Settings {
            connect_timeout_secs: 0,
            ..Settings::default()
        };
        let error = zero
            .probe_config(&Overrides::default())
            .expect_err("zero timeout");
        assert_eq!(
            error.to_string(),
            "connect timeout must be greater than zero"
        );
        // An override can repair a setting, and can break one.
        assert!(
            zero.probe_config(&Overrides {
                timeout: Some(Duration::from_secs(1)),
                ..Overrides::default()
            })
            .is_ok()
        );
        assert!(
            Settings::default()
                .probe_config(&Overrides {
                    concurrency: Some(0),
                    ..Overrides::default()
                })
                .is_err()
        );
    }

    #[test]
    fn webhooks_are_https_lists_and_the_secret_is_never_shown() {
        let settings = Settings::default()
            .edited(&[
                (
                    "webhooks",
                    "https://hooks.example.com/services/T0/B0/tok, https://ops.example.org:8443/in",
                ),
                ("webhook_secret", "s3cret-key"),
            ])
            .expect("valid");
        assert_eq!(
            settings.webhooks,
            vec![
                "https://hooks.example.com/services/T0/B0/tok".to_string(),
                "https://ops.example.org:8443/in".to_string()
            ]
        );
        assert_eq!(settings.webhook_urls().len(), 2);
        assert_eq!(settings.webhook_secret.as_str(), "s3cret-key");
        let shown: Vec<(String, String)> = settings.shown();
        let value = |key: &str| {
            shown
                .iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.clone())
        };
        assert_eq!(value("webhook_secret").as_deref(), Some("***"));
        assert!(!format!("{settings:?}").contains("s3cret-key"));
        assert!(
            !serde_json::to_string(&settings.masked())
                .unwrap()
                .contains("s3cret-key")
        );
        // Saved in full, read back in full.
        let json = serde_json::to_string(&settings).unwrap();
        let back: Settings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, settings);

        for bad in [
            "http://hooks.example.com/x",
            "https://user:pw@hooks.example.com/x",
            "not a url",
            "https://hooks.example.com/x#frag",
        ] {
            let problems = Settings::default()
                .edited(&[("webhooks", bad)])
                .expect_err(bad);
            assert!(problems[0].starts_with("webhook '"), "{problems:?}");
            assert!(!problems[0].contains("pw@"), "{problems:?}");
        }
        let none = settings.edited(&[("webhooks", "")]).expect("valid");
        assert!(none.webhooks.is_empty());
        assert_eq!(
            mask_url("https://hooks.example.com/services/T0/B0/tok"),
            "https://hooks.example.com/…"
        );
        assert_eq!(
            mask_url("https://ops.example.org:8443"),
            "https://ops.example.org:8443"
        );
    }

    #[test]
    fn notified_kinds_are_regressions_by_name_and_quiet_is_a_switch() {
        let settings = Settings::default();
        assert_eq!(settings.notify_kinds, DEFAULT_NOTIFY_KINDS.to_vec());
        assert!(!settings.notify_quiet);
        let edited = settings
            .edited(&[
                ("notify_kinds", "starttls_lost, cert_expiring"),
                ("notify_quiet", "on"),
            ])
            .expect("valid");
        assert_eq!(
            edited.notify_kinds,
            vec![ChangeKind::StarttlsLost, ChangeKind::CertExpiring]
        );
        assert!(edited.notify_quiet);
        let problems = settings
            .edited(&[("notify_kinds", "starttls_gained")])
            .expect_err("not a regression");
        assert!(
            problems[0].contains("'starttls_gained' is not a regression"),
            "{problems:?}"
        );
        assert!(settings.edited(&[("notify_kinds", "bogus")]).is_err());
        let none = settings.edited(&[("notify_kinds", "")]).expect("valid");
        assert!(none.notify_kinds.is_empty());
        let shown = edited.shown();
        assert!(shown.contains(&(
            "notify_kinds".to_string(),
            "starttls_lost,cert_expiring".to_string()
        )));
    }
}
