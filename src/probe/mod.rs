//! The probe engine: for a domain, resolve its MX hosts and their addresses, run one SMTP
//! STARTTLS session per address, and apply DESIGN.md's verdict rules.
//!
//! Owns: DNS ([`dns`], its queries-per-second cap in [`rate`]), SMTP sessions ([`smtp`]), reply
//! parsing ([`reply`]), TLS and certificate verdicts ([`tls`]), the legacy OpenSSL client for
//! servers rustls cannot talk to ([`legacy`]), MTA-STS and TLS-RPT lookups ([`sts`], over the
//! HTTPS client [`https`]; beside the SMTP probes, never changing their verdicts), and a run's
//! politeness state: MX hosts shared by many domains are probed once per run, and at most one
//! connection at a time goes to any IP address.
//! A task that fails (panics) still yields its result: the address, MX host or domain is
//! untestable with reason `internal_error` and the panic message in `detail`, and the run goes
//! on ([`fault`] lets tests make a task panic).
//! Must not touch: the store, the UI, the clock beyond timestamps and deadlines. Depends only on
//! `model` and its own configuration.

pub mod config;
pub mod dane;
pub mod dns;
pub mod dns_udp;
pub mod fault;
pub mod https;
pub mod legacy;
pub mod mta_sts;
pub mod rate;
pub mod reply;
pub mod smtp;
pub mod socks;
pub mod sts;
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

use crate::model::auth::{
    DaneSetStatus, DaneStatus, DaneWarning, DnssecStatus, SIGNATURE_WARNING_DAYS, TlsaRecord,
    fold_dane,
};
use crate::model::{
    AddressResult, DnsError, DomainName, DomainNames, DomainResult, MxResult, Outcome, Reason,
    Verdict, aggregate, auth,
};
use dane::DaneCheck;
use dns::{Dns, DnssecData, MxAnswer, QueryPacing, Validated, ValidatingDns};
use fault::FaultLevel;
use https::HttpsClient;
use legacy::LegacyTls;
use smtp::PresentedChain;
use smtp::SessionSettings;
pub use sts::PolicyMemory;
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
    /// The validating resolver beside `dns`: DNSSEC status and TLSA only, never a verdict.
    validating: ValidatingDns,
    tls: TlsSetup,
    legacy: LegacyTls,
    session: SessionSettings,
    https: HttpsClient,
    /// One lock per IP address, shared by all runs of this prober, so that no address ever
    /// sees two of our connections at once.
    ip_locks: Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<()>>>>,
}

impl Prober {
    /// Validates `config` and builds the resolver and TLS verifier. Needs a tokio runtime only
    /// when probing, not here.
    pub fn new(config: ProbeConfig) -> Result<Self, ProbeSetupError> {
        config.validate()?;
        // One cap for both resolvers and every run of this prober.
        let pacing = QueryPacing::new(config.dns_qps);
        let dns = Dns::with_retry(
            &config.dns,
            config.dns_timeout,
            config.dns_retry_interval,
            &pacing,
        )?;
        let validating = ValidatingDns::with_retry(
            &config.dns,
            config.dns_timeout,
            config.dns_retry_interval,
            config.trust_anchor.as_ref(),
            &pacing,
        )?;
        let tls = TlsSetup::new(&config.extra_roots)?;
        let legacy = LegacyTls::new()?;
        let https = HttpsClient::new(
            dns.clone(),
            tls.clone(),
            config.connect_timeout,
            config.https_timeout,
            config.max_addresses_per_host,
        );
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
                validating,
                tls,
                legacy,
                session,
                https,
                ip_locks: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The configuration this prober was built with.
    pub fn config(&self) -> &ProbeConfig {
        &self.inner.config
    }

    /// The HTTPS client of the MTA-STS policy fetch (its resolver, roots and `--ca-file`),
    /// for the monitor's webhooks: one client in the process.
    pub fn https(&self) -> &HttpsClient {
        &self.inner.https
    }

    /// Starts a run: within it, each MX host is probed once and each IP gets one connection at
    /// a time. A scan is one run.
    pub fn start_run(&self) -> ProbeRun {
        ProbeRun {
            prober: self.clone(),
            hosts: Arc::new(Mutex::new(HashMap::new())),
            memory: None,
            dnssec_data: Arc::new(OnceCell::new()),
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
    /// DNSSEC status of the address answers; None when the resolver passes no DNSSEC data.
    dnssec: Option<DnssecStatus>,
    /// The TLSA answer, looked up when the address answers are secure.
    tlsa: Option<Validated<TlsaRecord>>,
    /// Per address (same order), the DANE check of its session when the TLSA RRset is secure
    /// and not empty and the address is testable.
    dane_checks: Vec<Option<DaneCheck>>,
    /// TLS-RPT of `_smtp._tls.<host>` (the DANE policy domain), looked up when the TLSA RRset is
    /// secure and not empty.
    tls_rpt: Option<auth::TlsRpt>,
}

type HostCell = Arc<OnceCell<Arc<HostProbe>>>;

/// What the plain part of a domain's probe found: no mail, a failed MX lookup, or its MX hosts
/// (in MX order, with their position) and the run's facts about each.
enum ProbedMx {
    NullMx,
    Failed(DnsError),
    Hosts {
        implicit: bool,
        hosts: Vec<(usize, dns::MxRecord, Arc<HostProbe>)>,
    },
}

/// One run's shared state. Cheap to clone; clones share the caches.
#[derive(Clone)]
pub struct ProbeRun {
    prober: Prober,
    hosts: Arc<Mutex<HashMap<String, HostCell>>>,
    /// Where a stored scan finds the MTA-STS policies domains served before (None for `probe`,
    /// which then never applies a cached policy).
    memory: Option<Arc<dyn PolicyMemory>>,
    /// Whether the resolver passes DNSSEC data (asked once per run, at the first domain).
    dnssec_data: Arc<OnceCell<DnssecData>>,
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
    /// This run, remembering past MTA-STS policies through `memory`: a failed policy fetch then
    /// applies the last good policy while within its `max_age`, and a policy that changed
    /// under the same TXT `id` is warned about (the monitor gives a stored scan the store).
    pub fn remembering(mut self, memory: Arc<dyn PolicyMemory>) -> Self {
        self.memory = Some(memory);
        self
    }

    /// True once this run has found that the resolver answers but passes no DNSSEC data (the
    /// DNSKEY RRset of a trust anchor's zone does not validate: RRSIGs stripped, DO bit
    /// dropped): its results carry DANE `unknown` and no DNSSEC status. False before the first
    /// domain's lookups, when DNSSEC data passes, and when the query failed outright (a
    /// resolver that does not answer is the failing-DNS detector's to report; DANE is
    /// `unknown` then too). Callers warn once per scan.
    pub fn dnssec_data_missing(&self) -> bool {
        self.dnssec_data.get() == Some(&DnssecData::Missing)
    }

    /// True when DNSSEC statuses cannot be told in this run (data missing or the query failed).
    fn dnssec_blind(&self) -> bool {
        self.dnssec_data
            .get()
            .is_some_and(|data| *data != DnssecData::Passes)
    }

    /// Whether the resolver passes DNSSEC data, asked once per run.
    async fn passes_dnssec_data(&self) -> bool {
        *self
            .dnssec_data
            .get_or_init(|| self.prober.inner.validating.passes_dnssec_data())
            .await
            == DnssecData::Passes
    }

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
        domains: impl Into<DomainNames>,
        mut on_result: impl FnMut(usize, DomainResult),
    ) {
        let concurrency = self.prober.inner.config.concurrency;
        // Compact, and shared with whoever handed it over (the monitor keeps a scan's list to
        // know which domains it holds): each name is copied only while its probe runs.
        let domains: DomainNames = domains.into();
        let mut pending =
            (0..domains.len()).filter_map(|index| Some((index, domains.name(index)?)));
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
                // Boxed, as the host and address tasks below: the task then holds a pointer,
                // not a state machine of kilobytes that tokio copies on spawn and on completion.
                let task = running.spawn(Box::pin(async move {
                    fault::trip(FaultLevel::Domain, task_domain.as_str());
                    run.probe_domain(&task_domain).await
                }));
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

    /// Probes one domain: MX lookup, then every MX host (in parallel) beside the MTA-STS and
    /// TLS-RPT lookups, then the verdicts.
    pub async fn probe_domain(&self, domain: &DomainName) -> DomainResult {
        let probed_at = OffsetDateTime::now_utc();
        // The validating lookups run beside the plain ones and the sessions, and decide nothing
        // but the DNSSEC/DANE fields: nothing of the opportunistic layer waits for them.
        let (mx_validated, (probed, policies)) = tokio::join!(
            async {
                if self.passes_dnssec_data().await {
                    Some(self.prober.inner.validating.mx(domain).await)
                } else {
                    None
                }
            },
            async {
                let mx_answer = self.prober.inner.dns.mx(domain).await;
                if mx_answer == MxAnswer::NullMx {
                    // A domain that accepts no mail has no transport policy to judge.
                    return (ProbedMx::NullMx, None);
                }
                let (probed, policies) = tokio::join!(
                    self.probe_mx_hosts(domain, mx_answer),
                    self.look_up_policies(domain)
                );
                (probed, Some(policies))
            }
        );
        let mx_dnssec = mx_validated.as_ref().map(|validated| validated.status);
        let mut domain_warnings = Vec::new();
        if let Some(validated) = &mx_validated
            && validated.status == DnssecStatus::Secure
            && signature_expires_soon(validated.signature_expires, probed_at)
        {
            domain_warnings.push(DaneWarning::MxSignatureExpiring);
        }
        let (implicit, mut hosts) = match probed {
            ProbedMx::NullMx => {
                let mut result =
                    DomainResult::new(domain.clone(), true, None, probed_at, Vec::new());
                result.dnssec = mx_dnssec;
                return result;
            }
            ProbedMx::Failed(dns_error) => {
                let mut result = DomainResult::new(
                    domain.clone(),
                    false,
                    Some(dns_error),
                    probed_at,
                    Vec::new(),
                );
                result.dnssec = mx_dnssec;
                // The lookup failed for the plain resolver too: a validator that could not
                // conclude either (indeterminate) is the same failure, not a bogus answer.
                let answer = mx_dnssec.filter(|status| *status != DnssecStatus::Indeterminate);
                result.dane = fold_dane(answer, std::iter::empty::<DaneSetStatus>());
                apply_policies(&mut result, policies);
                result.judge_sender();
                return result;
            }
            ProbedMx::Hosts { implicit, hosts } => (implicit, hosts),
        };
        hosts.sort_by_key(|(position, _, _)| *position);
        let blind = self.dnssec_blind();
        let mx: Vec<MxResult> = hosts
            .into_iter()
            .map(|(_, record, host_probe)| {
                host_result(record, implicit, &host_probe, mx_dnssec, blind, probed_at)
            })
            .collect();
        let domain_dns_error = if implicit {
            mx.first().and_then(|host| host.dns_error)
        } else {
            None
        };
        let mut result = DomainResult::new(domain.clone(), false, domain_dns_error, probed_at, mx);
        result.dnssec = mx_dnssec;
        result.dane = if blind {
            fold_dane(None, testable_hosts_dane(&result.mx))
        } else {
            fold_dane(mx_dnssec, testable_hosts_dane(&result.mx))
        };
        result.dane_warnings = domain_warnings;
        apply_policies(&mut result, policies);
        result.judge_sender();
        result
    }

    /// The domain's MTA-STS findings and TLS-RPT record (independent of the SMTP probes).
    async fn look_up_policies(&self, domain: &DomainName) -> (sts::StsFindings, auth::TlsRpt) {
        let inner = &self.prober.inner;
        tokio::join!(
            sts::look_up_mta_sts(
                &inner.dns,
                &inner.https,
                inner.config.https_port,
                inner.config.expiry_warning_days,
                domain,
                self.memory.clone(),
            ),
            sts::look_up_tls_rpt(&inner.dns, domain.as_str())
        )
    }

    /// The plain (opportunistic) part of a domain's probe: the MX lookup, then every MX host
    /// (in parallel), each with its shared run facts.
    async fn probe_mx_hosts(&self, domain: &DomainName, mx_answer: MxAnswer) -> ProbedMx {
        let config = &self.prober.inner.config;
        let (records, implicit) = match mx_answer {
            MxAnswer::NullMx => return ProbedMx::NullMx,
            MxAnswer::Failed(dns_error) => return ProbedMx::Failed(dns_error),
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
            let task = lookups.spawn(Box::pin(async move {
                fault::trip(FaultLevel::MxHost, &task_record.host);
                let host_probe = run.probe_host(&task_record.host).await;
                (position, task_record, host_probe)
            }));
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
                        dnssec: None,
                        tlsa: None,
                        dane_checks: vec![None],
                        tls_rpt: None,
                    };
                    hosts.push((position, record, Arc::new(host_probe)));
                }
            }
        }
        ProbedMx::Hosts { implicit, hosts }
    }

    /// Resolves and probes one MX host, once per run whatever number of domains ask.
    async fn probe_host(&self, host: &str) -> Arc<HostProbe> {
        let cell = {
            let Ok(mut hosts) = self.hosts.lock() else {
                return Arc::new(Box::pin(self.probe_host_uncached(host)).await);
            };
            hosts.entry(host.to_string()).or_default().clone()
        };
        // Boxed: most domains of a large run find their hosts probed already, and their
        // tasks need not carry the state of a probe they never run.
        cell.get_or_init(|| async { Arc::new(Box::pin(self.probe_host_uncached(host)).await) })
            .await
            .clone()
    }

    async fn probe_host_uncached(&self, host: &str) -> HostProbe {
        let inner = &self.prober.inner;
        // The DNSSEC side (validated address answers, then TLSA) runs beside the plain lookup
        // and the sessions; the sessions never wait for it.
        let dnssec_side = async {
            if !self.passes_dnssec_data().await {
                return (None, None, None);
            }
            let validated = inner.validating.addresses(host).await;
            let tlsa = if validated.status == DnssecStatus::Secure {
                Some(self.tlsa_for(host, validated.cname_target.as_deref()).await)
            } else {
                None
            };
            let secure_tlsa = tlsa.as_ref().is_some_and(|(answer, _)| {
                answer.status == DnssecStatus::Secure && !answer.records.is_empty()
            });
            let tls_rpt = if secure_tlsa {
                Some(sts::look_up_tls_rpt(&inner.dns, host).await)
            } else {
                None
            };
            (Some(validated.status), tlsa, tls_rpt)
        };
        let plain = async {
            let resolved = inner
                .dns
                .addresses(host, inner.config.max_addresses_per_host)
                .await;
            let mut sessions = JoinSet::new();
            let mut started = HashMap::new();
            for (position, ip) in resolved.addresses.iter().copied().enumerate() {
                let run = self.clone();
                let host = host.to_string();
                let task = sessions.spawn(Box::pin(async move {
                    fault::trip(FaultLevel::Address, &ip.to_string());
                    (position, run.probe_address(ip, &host).await)
                }));
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
                        addresses.push((position, (internal_error_address(ip, detail), None)));
                    }
                }
            }
            addresses.sort_by_key(|(position, _)| *position);
            (resolved, addresses)
        };
        let ((dnssec, tlsa, tls_rpt), (resolved, addresses)) = tokio::join!(dnssec_side, plain);
        let now = rustls::pki_types::UnixTime::now();
        let mut results = Vec::with_capacity(addresses.len());
        let mut dane_checks = Vec::with_capacity(addresses.len());
        for (_, (address, chain)) in addresses {
            let check = tlsa
                .as_ref()
                .and_then(|(answer, names)| dane_check(answer, names, &address, chain, now));
            dane_checks.push(check);
            results.push(address);
        }
        HostProbe {
            cname_target: resolved.cname_target,
            dns_error: resolved.error,
            addresses: results,
            dnssec,
            tlsa: tlsa.map(|(answer, _)| answer),
            dane_checks,
            tls_rpt,
        }
    }

    /// The TLSA RRset of `host` (RFC 7672 §2.2.2): for a CNAME'd host, first at the expanded
    /// name, then, when that is securely absent or insecure, at the name in the MX record.
    /// Gives the answer and the reference names a DANE-TA leaf is checked against (the TLSA
    /// base domain first, then the MX host name when they differ).
    async fn tlsa_for(
        &self,
        host: &str,
        cname_target: Option<&str>,
    ) -> (Validated<TlsaRecord>, Vec<String>) {
        let validating = &self.prober.inner.validating;
        if let Some(target) = cname_target.filter(|target| *target != host) {
            let expanded = validating.tlsa(target).await;
            let use_expanded = match expanded.status {
                DnssecStatus::Secure => !expanded.records.is_empty(),
                DnssecStatus::Bogus | DnssecStatus::Indeterminate => true,
                DnssecStatus::Insecure => false,
            };
            if use_expanded {
                return (expanded, vec![target.to_string(), host.to_string()]);
            }
        }
        (validating.tlsa(host).await, vec![host.to_string()])
    }

    /// One SMTP session, holding the prober's lock for the IP so no IP sees two at once.
    async fn probe_address(
        &self,
        ip: IpAddr,
        host: &str,
    ) -> (AddressResult, Option<PresentedChain>) {
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
                let detail = "internal error: per-IP lock table poisoned";
                return (internal_error_address(ip, detail), None);
            }
        };
        let _one_at_a_time = lock.lock().await;
        let result = smtp::probe_address(ip, host, &inner.session, &inner.tls, &inner.legacy).await;
        if inner.session.proxy.is_some() {
            self.proxy_health.observe(result.0.reason);
        }
        result
    }
}

/// The DANE check of one address's session against a secure, non-empty TLSA RRset; None when
/// DANE does not reach the address (no such RRset, or the address is untestable). A session
/// that presented no chain (no STARTTLS, failed handshake) fails: a DANE sender defers it.
fn dane_check(
    answer: &Validated<TlsaRecord>,
    reference_names: &[String],
    address: &AddressResult,
    chain: Option<PresentedChain>,
    now: rustls::pki_types::UnixTime,
) -> Option<DaneCheck> {
    if answer.status != DnssecStatus::Secure
        || answer.records.is_empty()
        || address.outcome == Outcome::Untestable
    {
        return None;
    }
    let names: Vec<&str> = reference_names.iter().map(String::as_str).collect();
    match chain {
        Some(chain) if address.outcome == Outcome::TlsOk => {
            Some(dane::check_chain(&answer.records, &chain, &names, now))
        }
        _ => Some(DaneCheck {
            status: DaneStatus::Failed,
            matched: None,
            detail: Some(
                match address.outcome {
                    Outcome::NoStarttls => "TLSA records are published but STARTTLS is not offered",
                    _ => "TLSA records are published but no TLS session was completed",
                }
                .to_string(),
            ),
            warnings: dane::record_warnings(&answer.records),
        }),
    }
}

/// Whether a signature expiring at `expires` (seconds since the epoch) ends within
/// [`SIGNATURE_WARNING_DAYS`] of `now`.
fn signature_expires_soon(expires: Option<i64>, now: OffsetDateTime) -> bool {
    expires.is_some_and(|expires| {
        expires - now.unix_timestamp() < SIGNATURE_WARNING_DAYS * 24 * 60 * 60
    })
}

/// The `dane` of the testable MX hosts, for the domain's fold.
fn testable_hosts_dane(hosts: &[MxResult]) -> Vec<DaneSetStatus> {
    hosts
        .iter()
        .filter(|host| host.verdict != Verdict::Untestable)
        .filter_map(|host| host.dane)
        .collect()
}

/// One MX host as this domain sees it: the run's shared facts about the host, with the DNSSEC /
/// DANE fields as the domain's MX answer (`mx_dnssec`) allows — DANE applies only when it and
/// the host's address answers are secure (RFC 7672 §2.2); `blind`: the resolver passes no
/// DNSSEC data, so every testable address is DANE `unknown` and no status is recorded.
fn host_result(
    record: dns::MxRecord,
    implicit: bool,
    host_probe: &HostProbe,
    mx_dnssec: Option<DnssecStatus>,
    blind: bool,
    now: OffsetDateTime,
) -> MxResult {
    let verdict = if host_probe.addresses.is_empty() {
        Verdict::Untestable
    } else {
        aggregate(&host_probe.addresses).verdict
    };
    let mut addresses = host_probe.addresses.clone();
    let dane_applies = !blind
        && mx_dnssec == Some(DnssecStatus::Secure)
        && host_probe.dnssec == Some(DnssecStatus::Secure);
    let answer_bogus = mx_dnssec.is_some_and(DnssecStatus::counts_as_bogus)
        || host_probe.dnssec.is_some_and(DnssecStatus::counts_as_bogus);
    let tlsa = host_probe.tlsa.as_ref().filter(|_| dane_applies);
    let mut warnings: Vec<DaneWarning> = Vec::new();
    for (address, check) in addresses.iter_mut().zip(&host_probe.dane_checks) {
        if address.outcome == Outcome::Untestable {
            continue;
        }
        address.dane = Some(if blind {
            DaneStatus::Unknown
        } else if let Some(answer) = tlsa {
            match (answer.status, check) {
                (DnssecStatus::Bogus | DnssecStatus::Indeterminate, _) => DaneStatus::Bogus,
                (_, Some(check)) => {
                    address.dane_matched = check.matched.clone();
                    if let Some(why) = &check.detail {
                        address.detail = format!("{}; DANE failed: {why}", address.detail);
                    }
                    for warning in &check.warnings {
                        if !warnings.contains(warning) {
                            warnings.push(*warning);
                        }
                    }
                    check.status
                }
                _ => DaneStatus::None,
            }
        } else if answer_bogus {
            DaneStatus::Bogus
        } else {
            DaneStatus::None
        });
    }
    if let Some(answer) = tlsa
        && answer.status == DnssecStatus::Secure
        && !answer.records.is_empty()
        && signature_expires_soon(answer.signature_expires, now)
    {
        warnings.push(DaneWarning::TlsaSignatureExpiring);
    }
    let dnssec = if blind { None } else { host_probe.dnssec };
    let testable: Vec<DaneStatus> = addresses
        .iter()
        .filter(|address| address.outcome != Outcome::Untestable)
        .filter_map(|address| address.dane)
        .collect();
    let dane = fold_dane(dnssec, testable);
    MxResult {
        verdict,
        host: record.host,
        preference: record.preference,
        implicit,
        cname_target: host_probe.cname_target.clone(),
        dns_error: host_probe.dns_error,
        addresses,
        dnssec,
        tlsa: tlsa.map(|answer| answer.records.clone()),
        tlsa_dnssec: tlsa.map(|answer| answer.status),
        dane,
        dane_warnings: warnings,
        sts_matched: None,
        sts_passes: None,
        tls_rpt: host_probe.tls_rpt.clone().filter(|_| dane_applies),
    }
}

/// Stands for the addresses of an MX host or domain whose task failed before they were known.
const UNKNOWN_ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// An address we could not test because our own probe failed: untestable, `internal_error`.
fn internal_error_address(ip: IpAddr, detail: impl Into<String>) -> AddressResult {
    AddressResult::new(ip, Outcome::Untestable, Reason::InternalError, detail)
}

/// Puts a domain's MTA-STS outcome (judged against its MX hosts, which gain `sts_matched` /
/// `sts_passes`) and TLS-RPT record into its result; None (a null MX) leaves them null.
fn apply_policies(result: &mut DomainResult, policies: Option<(sts::StsFindings, auth::TlsRpt)>) {
    if let Some((findings, tls_rpt)) = policies {
        result.mta_sts = Some(findings.judge(&mut result.mx));
        result.tls_rpt = Some(tls_rpt);
    }
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
        sts_matched: None,
        sts_passes: None,
        tls_rpt: None,
        dnssec: None,
        tlsa: None,
        tlsa_dnssec: None,
        dane: None,
        dane_warnings: Vec::new(),
    };
    let mut result = DomainResult::new(
        domain,
        false,
        None,
        OffsetDateTime::now_utc(),
        vec![placeholder],
    );
    result.judge_sender();
    result
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

    fn tls_ok_address(last_octet: u8) -> AddressResult {
        let mut address = AddressResult::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, last_octet)),
            Outcome::TlsOk,
            Reason::Completed,
            "handshake completed",
        );
        address.pfs = Some(true);
        address.strict_valid = Some(false);
        address
    }

    fn probe_with(dnssec: Option<DnssecStatus>, tlsa: Option<Validated<TlsaRecord>>) -> HostProbe {
        let record: TlsaRecord =
            "3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                .parse()
                .expect("record");
        HostProbe {
            cname_target: None,
            dns_error: None,
            addresses: vec![
                tls_ok_address(2),
                internal_error_address(UNKNOWN_ADDRESS, "x"),
            ],
            dnssec,
            tlsa,
            tls_rpt: None,
            dane_checks: vec![
                Some(DaneCheck {
                    status: DaneStatus::Valid,
                    matched: Some(record),
                    detail: None,
                    warnings: vec![DaneWarning::NoRolloverKey],
                }),
                None,
            ],
        }
    }

    fn secure_tlsa() -> Validated<TlsaRecord> {
        Validated {
            status: DnssecStatus::Secure,
            records: vec![
                "3 1 1 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                    .parse()
                    .expect("record"),
            ],
            signature_expires: None,
            cname_target: None,
        }
    }

    fn record(host: &str) -> dns::MxRecord {
        dns::MxRecord {
            host: host.to_string(),
            preference: 10,
        }
    }

    #[test]
    fn dane_reaches_a_host_only_through_secure_mx_and_address_answers() {
        let now = OffsetDateTime::now_utc();
        let secure = Some(DnssecStatus::Secure);
        let probe = probe_with(secure, Some(secure_tlsa()));
        let host = host_result(record("mx.a.test"), false, &probe, secure, false, now);
        assert_eq!(host.dane, Some(DaneSetStatus::Valid));
        assert_eq!(host.addresses[0].dane, Some(DaneStatus::Valid));
        assert_eq!(host.addresses[1].dane, None, "untestable: null");
        assert_eq!(host.tlsa.as_ref().map(Vec::len), Some(1));
        assert_eq!(host.dane_warnings, vec![DaneWarning::NoRolloverKey]);

        // The same shared host seen from a domain whose MX answer is insecure.
        let insecure = Some(DnssecStatus::Insecure);
        let host = host_result(record("mx.a.test"), false, &probe, insecure, false, now);
        assert_eq!((host.tlsa.clone(), host.tlsa_dnssec), (None, None));
        assert_eq!(host.addresses[0].dane, Some(DaneStatus::None));
        assert_eq!(host.dane, Some(DaneSetStatus::None));
        assert!(host.dane_warnings.is_empty());

        // An indeterminate MX answer counts as bogus.
        let indeterminate = Some(DnssecStatus::Indeterminate);
        let host = host_result(
            record("mx.a.test"),
            false,
            &probe,
            indeterminate,
            false,
            now,
        );
        assert_eq!(host.addresses[0].dane, Some(DaneStatus::Bogus));

        // A bogus address answer makes the host bogus.
        let bogus = probe_with(Some(DnssecStatus::Bogus), None);
        let host = host_result(record("mx.a.test"), false, &bogus, secure, false, now);
        assert_eq!(host.dane, Some(DaneSetStatus::Bogus));
        assert_eq!(host.dnssec, Some(DnssecStatus::Bogus));

        // A resolver without DNSSEC data: unknown, no status recorded.
        let blind = probe_with(None, None);
        let host = host_result(record("mx.a.test"), false, &blind, None, true, now);
        assert_eq!(host.addresses[0].dane, Some(DaneStatus::Unknown));
        assert_eq!(host.dane, Some(DaneSetStatus::Unknown));
        assert_eq!(host.dnssec, None);
    }

    #[test]
    fn a_signature_expiring_within_seven_days_is_soon() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let day = 24 * 60 * 60;
        assert!(signature_expires_soon(Some(1_800_000_000 + 6 * day), now));
        assert!(signature_expires_soon(Some(1_800_000_000 - day), now));
        assert!(!signature_expires_soon(Some(1_800_000_000 + 8 * day), now));
        assert!(!signature_expires_soon(None, now));
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
