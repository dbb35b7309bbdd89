//! The probe engine: for a domain, resolve its MX hosts and their addresses, run one SMTP
//! STARTTLS session per address, and apply DESIGN.md's verdict rules.
//!
//! Owns: DNS ([`dns`]), SMTP sessions ([`smtp`]), reply parsing ([`reply`]), TLS and certificate
//! verdicts ([`tls`]), the legacy OpenSSL client for servers rustls cannot talk to ([`legacy`]),
//! and a run's politeness state: MX hosts shared by many domains are probed
//! once per run, and at most one connection at a time goes to any IP address.
//! Must not touch: the store, the UI, the clock beyond timestamps and deadlines. Depends only on
//! `model` and its own configuration.

pub mod config;
pub mod dns;
pub mod legacy;
pub mod reply;
pub mod smtp;
pub mod tls;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use tokio::sync::OnceCell;
use tokio::task::JoinSet;

pub use config::{ConfigError, DnsServer, ProbeConfig};

use crate::model::{
    AddressResult, DnsError, DomainName, DomainResult, MxResult, Outcome, Reason, Verdict,
    aggregate,
};
use dns::{Dns, MxAnswer};
use legacy::LegacyTls;
use smtp::SessionSettings;
use tls::TlsSetup;

/// The probe could not be set up (bad configuration, resolver or trust anchors).
#[derive(Debug, thiserror::Error)]
pub enum ProbeSetupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Dns(#[from] dns::DnsSetupError),
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("legacy TLS (OpenSSL) client setup failed: {0}")]
    Legacy(#[from] openssl::error::ErrorStack),
}

/// A configured probe engine. Cheap to clone; clones share resolver and trust anchors.
#[derive(Clone)]
pub struct Prober {
    inner: Arc<ProberInner>,
}

struct ProberInner {
    config: ProbeConfig,
    dns: Dns,
    tls: TlsSetup,
    legacy: LegacyTls,
    session: SessionSettings,
    /// One lock per IP address, shared by all runs of this prober, so that no address ever
    /// sees two of our connections at once.
    ip_locks: Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<()>>>>,
}

impl Prober {
    /// Validates `config` and builds the resolver and TLS verifier. Needs a tokio runtime only
    /// when probing, not here.
    pub fn new(config: ProbeConfig) -> Result<Self, ProbeSetupError> {
        config.validate()?;
        let dns = Dns::new(&config.dns, config.dns_timeout)?;
        let tls = TlsSetup::new(&config.extra_roots)?;
        let legacy = LegacyTls::new()?;
        let session = SessionSettings {
            port: config.smtp_port,
            ehlo_name: config.ehlo_name.clone(),
            connect_timeout: config.connect_timeout,
            greeting_timeout: config.greeting_timeout,
            command_timeout: config.command_timeout,
            tls_timeout: config.tls_timeout,
            limits: config.reply_limits,
            deep: config.deep,
        };
        Ok(Self {
            inner: Arc::new(ProberInner {
                config,
                dns,
                tls,
                legacy,
                session,
                ip_locks: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configuration this prober was built with.
    pub fn config(&self) -> &ProbeConfig {
        &self.inner.config
    }

    /// Starts a run: within it, each MX host is probed once and each IP gets one connection at
    /// a time. A scan is one run.
    pub fn start_run(&self) -> ProbeRun {
        ProbeRun {
            prober: self.clone(),
            hosts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Probes one domain in a run of its own.
    pub async fn probe_domain(&self, domain: &DomainName) -> DomainResult {
        self.start_run().probe_domain(domain).await
    }
}

/// What was learned about one MX host name, shared by every domain that uses it in a run.
#[derive(Debug)]
struct HostProbe {
    cname_target: Option<String>,
    dns_error: Option<DnsError>,
    addresses: Vec<AddressResult>,
}

type HostCell = Arc<OnceCell<Arc<HostProbe>>>;

/// One run's shared state. Cheap to clone; clones share the caches.
#[derive(Clone)]
pub struct ProbeRun {
    prober: Prober,
    hosts: Arc<Mutex<HashMap<String, HostCell>>>,
}

impl ProbeRun {
    /// Probes every domain, at most `config.concurrency` at a time, calling `on_result` with the
    /// domain's index in `domains` as each finishes (completion order).
    pub async fn probe_many(
        &self,
        domains: Vec<DomainName>,
        mut on_result: impl FnMut(usize, DomainResult),
    ) {
        let concurrency = self.prober.inner.config.concurrency;
        let mut pending = domains.into_iter().enumerate();
        let mut running = JoinSet::new();
        loop {
            while running.len() < concurrency {
                let Some((index, domain)) = pending.next() else {
                    break;
                };
                let run = self.clone();
                running.spawn(async move { (index, run.probe_domain(&domain).await) });
            }
            match running.join_next().await {
                Some(Ok((index, result))) => on_result(index, result),
                Some(Err(error)) => tracing::error!("a domain probe task failed: {error}"),
                None => break,
            }
        }
    }

    /// Probes one domain: MX lookup, then every MX host (in parallel), then the verdict.
    pub async fn probe_domain(&self, domain: &DomainName) -> DomainResult {
        let probed_at = OffsetDateTime::now_utc();
        let config = &self.prober.inner.config;
        let mx_answer = self.prober.inner.dns.mx(domain).await;
        let (records, implicit) = match mx_answer {
            MxAnswer::NullMx => {
                return DomainResult::new(domain.clone(), true, None, probed_at, Vec::new());
            }
            MxAnswer::Failed(dns_error) => {
                return DomainResult::new(
                    domain.clone(),
                    false,
                    Some(dns_error),
                    probed_at,
                    Vec::new(),
                );
            }
            MxAnswer::Implicit => (
                vec![dns::MxRecord {
                    host: domain.as_str().to_string(),
                    preference: 0,
                }],
                true,
            ),
            MxAnswer::Hosts(records) => (records, false),
        };
        let mut lookups = JoinSet::new();
        for (position, record) in records.into_iter().take(config.max_mx_hosts).enumerate() {
            let run = self.clone();
            lookups.spawn(async move {
                let host_probe = run.probe_host(&record.host).await;
                (position, record, host_probe)
            });
        }
        let mut hosts = Vec::new();
        while let Some(joined) = lookups.join_next().await {
            match joined {
                Ok(entry) => hosts.push(entry),
                Err(error) => tracing::error!("an MX host probe task failed: {error}"),
            }
        }
        hosts.sort_by_key(|(position, _, _)| *position);
        let mx: Vec<MxResult> = hosts
            .into_iter()
            .map(|(_, record, host_probe)| MxResult {
                verdict: if host_probe.addresses.is_empty() {
                    Verdict::Untestable
                } else {
                    aggregate(&host_probe.addresses).verdict
                },
                host: record.host,
                preference: record.preference,
                implicit,
                cname_target: host_probe.cname_target.clone(),
                dns_error: host_probe.dns_error,
                addresses: host_probe.addresses.clone(),
            })
            .collect();
        let domain_dns_error = if implicit {
            mx.first().and_then(|host| host.dns_error)
        } else {
            None
        };
        DomainResult::new(domain.clone(), false, domain_dns_error, probed_at, mx)
    }

    /// Resolves and probes one MX host, once per run whatever number of domains ask.
    async fn probe_host(&self, host: &str) -> Arc<HostProbe> {
        let cell = {
            let Ok(mut hosts) = self.hosts.lock() else {
                return Arc::new(self.probe_host_uncached(host).await);
            };
            hosts.entry(host.to_string()).or_default().clone()
        };
        cell.get_or_init(|| async { Arc::new(self.probe_host_uncached(host).await) })
            .await
            .clone()
    }

    async fn probe_host_uncached(&self, host: &str) -> HostProbe {
        let inner = &self.prober.inner;
        let resolved = inner
            .dns
            .addresses(host, inner.config.max_addresses_per_host)
            .await;
        let mut sessions = JoinSet::new();
        for (position, ip) in resolved.addresses.iter().copied().enumerate() {
            let run = self.clone();
            let host = host.to_string();
            sessions.spawn(async move { (position, run.probe_address(ip, &host).await) });
        }
        let mut addresses = Vec::new();
        while let Some(joined) = sessions.join_next().await {
            match joined {
                Ok(entry) => addresses.push(entry),
                Err(error) => tracing::error!("an address probe task failed: {error}"),
            }
        }
        addresses.sort_by_key(|(position, _)| *position);
        HostProbe {
            cname_target: resolved.cname_target,
            dns_error: resolved.error,
            addresses: addresses.into_iter().map(|(_, result)| result).collect(),
        }
    }

    /// One SMTP session, holding the prober's lock for the IP so no IP sees two at once.
    async fn probe_address(&self, ip: IpAddr, host: &str) -> AddressResult {
        let inner = &self.prober.inner;
        let lock = match inner.ip_locks.lock() {
            Ok(mut locks) => {
                if locks.len() > 4096 {
                    // Forget locks nobody holds or waits for, so the table stays small.
                    locks.retain(|_, lock| Arc::strong_count(lock) > 1);
                }
                locks.entry(ip).or_default().clone()
            }
            Err(_) => {
                return AddressResult::new(
                    ip,
                    Outcome::Untestable,
                    Reason::ConnectFailed,
                    "internal error: per-IP lock table poisoned",
                );
            }
        };
        let _one_at_a_time = lock.lock().await;
        smtp::probe_address(ip, host, &inner.session, &inner.tls, &inner.legacy).await
    }
}
