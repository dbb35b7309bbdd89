//! The probe engine: for a domain, resolve its MX hosts and their addresses, run one SMTP
//! STARTTLS session per address, and apply DESIGN.md's verdict rules.
//!
//! Owns: DNS ([`dns`]), SMTP sessions ([`smtp`]), reply parsing ([`reply`]), TLS and certificate
//! verdicts ([`tls`]), the legacy OpenSSL client for servers rustls cannot talk to ([`legacy`]),
//! and a run's politeness state: MX hosts shared by many domains are probed
//! once per run, and at most one connection at a time goes to any IP address.
//! A task that fails (panics) still yields its result: the address, MX host or domain is
//! untestable with reason `internal_error` and the panic message in `detail`, and the run goes
//! on ([`fault`] lets tests make a task panic).
//! Must not touch: the store, the UI, the clock beyond timestamps and deadlines. Depends only on
//! `model` and its own configuration.

pub mod config;
pub mod dane;
pub mod dns;
pub mod fault;
pub mod legacy;
pub mod mta_sts;
pub mod reply;
pub mod smtp;
pub mod socks;
pub mod tls;
pub mod tls_rpt;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use tokio::sync::OnceCell;
use tokio::task::{JoinError, JoinSet};

pub use config::{ConfigError, DnsServer, ProbeConfig};
pub use socks::{ProxyChoice, ProxyError, SocksProxy};

use crate::model::{
    AddressResult, DnsError, DomainName, DomainResult, MxResult, Outcome, Reason, Verdict,
    aggregate,
};
use dns::{Dns, MxAnswer};
use fault::FaultLevel;
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
            proxy: config.proxy.clone(),
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
            proxy_health: Arc::new(ProxyHealth::default()),
        }
    }

    /// Checks the SOCKS5 proxy, when one is configured: greeting and authentication within
    /// the connect timeout. Ok at once without a proxy. A scan or probe that gets an error
    /// here stops before it starts: the proxy's failure is ours, not the domains'.
    pub async fn check_proxy(&self) -> Result<(), ProxyError> {
        match &self.inner.config.proxy {
            None => Ok(()),
            Some(proxy) => proxy.check(self.inner.config.connect_timeout).await,
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
    proxy_health: Arc<ProxyHealth>,
}

/// How many proxy failures in a row (reason `proxy_failed`, with no session through the proxy
/// in between) mean the proxy is lost: the run stops starting domains.
pub const PROXY_LOST_AFTER: usize = 3;

/// A run's view of its SOCKS proxy: failures of the proxy itself in a row, and whether it is
/// lost.
#[derive(Debug, Default)]
struct ProxyHealth {
    failures_in_a_row: std::sync::atomic::AtomicUsize,
    lost: std::sync::atomic::AtomicBool,
}

impl ProxyHealth {
    /// Counts one address's session: a proxy failure, or anything the proxy carried.
    fn observe(&self, reason: Reason) {
        use std::sync::atomic::Ordering;
        if reason == Reason::ProxyFailed {
            let failures = self.failures_in_a_row.fetch_add(1, Ordering::AcqRel) + 1;
            if failures >= PROXY_LOST_AFTER {
                self.lost.store(true, Ordering::Release);
            }
        } else if !self.lost.load(Ordering::Acquire) {
            self.failures_in_a_row.store(0, Ordering::Release);
        }
    }

    fn is_lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl ProbeRun {
    /// Whether the SOCKS proxy was lost during this run ([`PROXY_LOST_AFTER`] proxy failures
    /// in a row). Never true for a direct run.
    pub fn proxy_lost(&self) -> bool {
        self.proxy_health.is_lost()
    }

    /// Probes every domain, at most `config.concurrency` at a time, calling `on_result` with the
    /// domain's index in `domains` as each finishes (completion order). Every domain gets
    /// exactly one result: a domain whose task failed is untestable, and says why — unless the
    /// proxy is lost ([`ProbeRun::proxy_lost`]): then no more domains start, those running are
    /// stopped, and their results never come.
    pub async fn probe_many(
        &self,
        domains: Vec<DomainName>,
        mut on_result: impl FnMut(usize, DomainResult),
    ) {
        let concurrency = self.prober.inner.config.concurrency;
        let mut pending = domains.into_iter().enumerate();
        let mut running = JoinSet::new();
        let mut started = HashMap::new();
        loop {
            if self.proxy_lost() {
                running.abort_all();
                break;
            }
            while running.len() < concurrency {
                let Some((index, domain)) = pending.next() else {
                    break;
                };
                let run = self.clone();
                let task_domain = domain.clone();
                let task = running.spawn(async move {
                    fault::trip(FaultLevel::Domain, task_domain.as_str());
                    run.probe_domain(&task_domain).await
                });
                started.insert(task.id(), (index, domain));
            }
            let (id, result) = match running.join_next_with_id().await {
                Some(Ok((id, result))) => (id, result),
                Some(Err(error)) => {
                    let id = error.id();
                    let Some((_, domain)) = started.get(&id) else {
                        tracing::error!("a domain probe task nobody started failed: {error}");
                        continue;
                    };
                    let why = task_failure(error);
                    tracing::error!("the probe of {domain} {why}");
                    (id, failed_domain_result(domain.clone(), &why))
                }
                None => break,
            };
            if let Some((index, _)) = started.remove(&id) {
                on_result(index, result);
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
        let mut started = HashMap::new();
        for (position, record) in records.into_iter().take(config.max_mx_hosts).enumerate() {
            let run = self.clone();
            let task_record = record.clone();
            let task = lookups.spawn(async move {
                fault::trip(FaultLevel::MxHost, &task_record.host);
                let host_probe = run.probe_host(&task_record.host).await;
                (position, task_record, host_probe)
            });
            started.insert(task.id(), (position, record));
        }
        let mut hosts = Vec::new();
        while let Some(joined) = lookups.join_next_with_id().await {
            match joined {
                Ok((_, entry)) => hosts.push(entry),
                Err(error) => {
                    let Some((position, record)) = started.remove(&error.id()) else {
                        tracing::error!("an MX host probe task nobody started failed: {error}");
                        continue;
                    };
                    let why = task_failure(error);
                    tracing::error!("the probe of MX host {} of {domain} {why}", record.host);
                    let detail = format!(
                        "internal error: the probe of this MX host {why}; its addresses are unknown"
                    );
                    let host_probe = HostProbe {
                        cname_target: None,
                        dns_error: None,
                        addresses: vec![internal_error_address(UNKNOWN_ADDRESS, detail)],
                    };
                    hosts.push((position, record, Arc::new(host_probe)));
                }
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
        let mut started = HashMap::new();
        for (position, ip) in resolved.addresses.iter().copied().enumerate() {
            let run = self.clone();
            let host = host.to_string();
            let task = sessions.spawn(async move {
                fault::trip(FaultLevel::Address, &ip.to_string());
                (position, run.probe_address(ip, &host).await)
            });
            started.insert(task.id(), (position, ip));
        }
        let mut addresses = Vec::new();
        while let Some(joined) = sessions.join_next_with_id().await {
            match joined {
                Ok((_, entry)) => addresses.push(entry),
                Err(error) => {
                    let Some((position, ip)) = started.remove(&error.id()) else {
                        tracing::error!("an address probe task nobody started failed: {error}");
                        continue;
                    };
                    let why = task_failure(error);
                    tracing::error!("the probe of {ip} (MX host {host}) {why}");
                    let detail = format!("internal error: the probe of this address {why}");
                    addresses.push((position, internal_error_address(ip, detail)));
                }
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
                return internal_error_address(ip, "internal error: per-IP lock table poisoned");
            }
        };
        let _one_at_a_time = lock.lock().await;
        let result = smtp::probe_address(ip, host, &inner.session, &inner.tls, &inner.legacy).await;
        if inner.session.proxy.is_some() {
            self.proxy_health.observe(result.reason);
        }
        result
    }
}

/// Stands for the addresses of an MX host or domain whose task failed before they were known.
const UNKNOWN_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// An address we could not test because our own probe failed: untestable, `internal_error`.
fn internal_error_address(ip: IpAddr, detail: impl Into<String>) -> AddressResult {
    AddressResult::new(ip, Outcome::Untestable, Reason::InternalError, detail)
}

/// The result of a domain whose task failed (panicked) before it had a result: untestable,
/// with one MX entry, named after the domain, whose one address ([`UNKNOWN_ADDRESS`], reason
/// `internal_error`) says in `detail` what failed. Every field of the JSON contract stays
/// present, and the reason travels where readers already look for why an address is
/// untestable, rather than the domain vanishing from the run.
fn failed_domain_result(domain: DomainName, why: &str) -> DomainResult {
    let detail = format!(
        "internal error: the probe of this domain {why}; its MX hosts and addresses are unknown"
    );
    let addresses = vec![internal_error_address(UNKNOWN_ADDRESS, detail)];
    let placeholder = MxResult {
        verdict: aggregate(&addresses).verdict,
        host: domain.as_str().to_string(),
        preference: 0,
        implicit: false,
        cname_target: None,
        dns_error: None,
        addresses,
    };
    DomainResult::new(
        domain,
        false,
        None,
        OffsetDateTime::now_utc(),
        vec![placeholder],
    )
}

/// What ended a task that gave no value, in words: `panicked: <message>` or `was cancelled`.
fn task_failure(error: JoinError) -> String {
    if !error.is_panic() {
        return "was cancelled".to_string();
    }
    let payload = error.into_panic();
    let message = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned());
    match message {
        Some(message) => format!("panicked: {message}"),
        None => "panicked".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn failure_of(task: impl Future<Output = ()> + Send + 'static) -> String {
        let error = tokio::spawn(task).await.expect_err("the task fails");
        task_failure(error)
    }

    #[tokio::test]
    async fn a_failed_task_is_described_by_its_panic_message() {
        assert_eq!(
            failure_of(async { panic!("static text") }).await,
            "panicked: static text"
        );
        let number = 7;
        assert_eq!(
            failure_of(async move { panic!("formatted {number}") }).await,
            "panicked: formatted 7"
        );
        assert_eq!(
            failure_of(async { std::panic::panic_any(42_u8) }).await,
            "panicked"
        );
        let handle = tokio::spawn(std::future::pending::<()>());
        handle.abort();
        let error = handle.await.expect_err("aborted");
        assert_eq!(task_failure(error), "was cancelled");
    }

    #[test]
    fn the_proxy_is_lost_after_failures_in_a_row_only() {
        let health = ProxyHealth::default();
        health.observe(Reason::ProxyFailed);
        health.observe(Reason::ProxyFailed);
        health.observe(Reason::Completed);
        health.observe(Reason::ProxyFailed);
        health.observe(Reason::ProxyTargetRefused);
        assert!(
            !health.is_lost(),
            "a session the proxy carried resets the count"
        );
        for _ in 0..PROXY_LOST_AFTER {
            health.observe(Reason::ProxyFailed);
        }
        assert!(health.is_lost());
        health.observe(Reason::Completed);
        assert!(health.is_lost(), "lost stays lost for the run");
    }

    #[test]
    fn a_failed_domain_is_untestable_and_says_why() {
        let domain = DomainName::parse("boom.example").expect("valid");
        let result = failed_domain_result(domain.clone(), "panicked: oops");
        assert_eq!(result.domain, domain);
        assert_eq!(result.verdict, Verdict::Untestable);
        assert_eq!(
            (result.starttls, result.pfs, result.strict_valid),
            (None, None, None)
        );
        assert_eq!(result.dns_error, None);
        assert_eq!(result.untestable_host_count(), 1);
        let [host] = result.mx.as_slice() else {
            panic!("one placeholder MX entry: {:?}", result.mx);
        };
        assert_eq!(host.host, "boom.example");
        assert_eq!(host.verdict, Verdict::Untestable);
        let [address] = host.addresses.as_slice() else {
            panic!("one placeholder address: {:?}", host.addresses);
        };
        assert_eq!(address.ip, UNKNOWN_ADDRESS);
        assert_eq!(address.outcome, Outcome::Untestable);
        assert_eq!(address.reason, Reason::InternalError);
        assert!(
            address.detail.contains("panicked: oops"),
            "{}",
            address.detail
        );
        let json = serde_json::to_value(&result).expect("serializes");
        assert_eq!(json["mx"][0]["addresses"][0]["reason"], "internal_error");
    }

    #[test]
    fn an_internal_error_is_folded_like_any_untestable_address() {
        let mut good = AddressResult::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
            Outcome::TlsOk,
            Reason::Completed,
            "",
        );
        good.pfs = Some(true);
        good.strict_valid = Some(true);
        let failed = internal_error_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)), "boom");
        let summary = aggregate([&good, &failed]);
        assert_eq!(summary.verdict, Verdict::TlsOk);
        assert_eq!(summary.starttls, Some(true));
        assert_eq!(aggregate([&failed]).verdict, Verdict::Untestable);
    }
}
