//! DNS for the probe (hickory-resolver): a domain's MX set, and each MX host's addresses.
//!
//! Owns: resolver setup and the translation of DNS answers and failures into model values
//! (null MX, implicit MX, CNAME'd hosts, `DnsError`), TXT lookups for the policy records of
//! MTA-STS and TLS-RPT ([`Dns::txt`]); beside them, the validating resolver ([`ValidatingDns`])
//! that gives the DNSSEC status of the MX, address and TLSA answers and the TLSA records. Must
//! not touch: SMTP, TLS, storage, the DANE rules (`probe::dane`, `probe`).
//!
//! One prober has one [`Dns`] and one [`ValidatingDns`], built once in `Prober::new` and
//! shared (cloned handles of the same hickory resolver and its connections) by every
//! domain task of every run, and by the HTTPS client's host lookups: never one per domain.
//! Lookups in flight are bounded: at most `concurrency` domains run at once, each with a fixed
//! fan-out (MX, then A/AAAA of at most `max_mx_hosts` hosts, the TXT and validating lookups);
//! with a queries-per-second cap also by [`QueryPacing`]'s admission limit.
//!
//! The cap (`ProbeConfig::dns_qps`) holds for every datagram the run sends: hickory asks its
//! runtime for a UDP socket for each query it sends, first copies, its own resends and our
//! retries alike, and [`PacedRuntime`] takes a token from the shared bucket (`probe::rate`)
//! before handing out each (a place on a pooled socket, `probe::dns_udp`), for both resolvers. A TCP connection (after a truncated answer) takes one token when
//! it opens; the queries it then carries are not counted. The plain resolver keeps no answer
//! cache; the validating one does (its DNSKEY and DS chain), and its cached answers send nothing
//! and take nothing.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::{RuntimeProvider, TokioRuntimeProvider};
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::dnssec::rdata::DNSSECRData;
use hickory_resolver::proto::dnssec::{Proof, TrustAnchors};
use hickory_resolver::proto::op::{DEFAULT_RETRY_FLOOR, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::{DEFAULT_DNS_RETRY_INTERVAL, DnsServer, TrustAnchorFile};
use super::dns_udp::{PooledUdp, UdpPool};
use super::rate::QueryRate;
use crate::model::auth::{DnssecStatus, TlsaRecord};
use crate::model::{DnsError, DomainName};

/// One MX record, host name normalized (lower case, no trailing dot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MxRecord {
    pub host: String,
    pub preference: u16,
}

/// What the MX lookup of a domain says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MxAnswer {
    /// Only `MX 0 .`: the domain accepts no mail (RFC 7505).
    NullMx,
    /// MX hosts sorted by preference then name (a null MX among others is dropped).
    Hosts(Vec<MxRecord>),
    /// The name exists but has no MX: use its own A/AAAA (RFC 5321 5.1).
    Implicit,
    /// The lookup failed.
    Failed(DnsError),
}

/// Addresses of one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostAddresses {
    /// Final target when the host name is an alias.
    pub cname_target: Option<String>,
    /// A and AAAA addresses interleaved (v4 first), capped.
    pub addresses: Vec<IpAddr>,
    /// Set when no address was found.
    pub error: Option<DnsError>,
}

/// What a TXT lookup says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxtAnswer {
    /// The TXT records at the name (after any CNAMEs), each as its character-strings; empty
    /// when the name does not exist or has no TXT record.
    Records(Vec<Vec<Vec<u8>>>),
    /// The lookup failed (no answer, SERVFAIL, refused ...).
    Failed(DnsError),
}

/// Resolver could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("DNS resolver setup failed: {0}")]
pub struct DnsSetupError(String);

/// hickory's per-query timeout and number of retries for lookups of at most about `timeout`
/// whose queries are sent again every `retry`: a lost datagram then costs `retry` (at most
/// `timeout`), and as many tries as fit in `timeout` are made, at least two.
pub fn query_timing(timeout: Duration, retry: Duration) -> (Duration, usize) {
    let per_query = retry.min(timeout).max(Duration::from_millis(1));
    let tries = (timeout.as_millis() / per_query.as_millis()).max(2);
    (per_query, usize::try_from(tries - 1).unwrap_or(usize::MAX))
}

/// The A and AAAA lookups of `fqdn`, concurrently, each admitted by `pacing` first (the plain
/// and the validating resolver look up a host's addresses alike).
async fn a_and_aaaa(
    resolver: &Resolver<PacedRuntime>,
    pacing: &QueryPacing,
    fqdn: &str,
) -> (Result<Lookup, NetError>, Result<Lookup, NetError>) {
    tokio::join!(
        async {
            let _admitted = pacing.admit().await;
            resolver.ipv4_lookup(fqdn).await
        },
        async {
            let _admitted = pacing.admit().await;
            resolver.ipv6_lookup(fqdn).await
        }
    )
}

/// The DNS pacing of one prober, shared by its plain and its validating resolver: the
/// queries-per-second bucket every datagram takes a token from ([`PacedRuntime`]), and the
/// admission limit on lookups in flight. Cheap to clone; clones share both.
#[derive(Clone, Default)]
pub struct QueryPacing {
    /// None: no cap.
    rate: Option<Arc<QueryRate>>,
    /// Lookups in flight (None with no cap). With a cap, a lookup starts only when its first
    /// query can go within about half of hickory's shortest resend interval
    /// ([`DEFAULT_RETRY_FLOOR`], 333 ms): `max(burst, qps * floor / 2)` lookups at once. So
    /// waiting for the cap happens before hickory's timers start, and never turns into a
    /// resend or a lookup timeout (a DNS error, a wrong verdict): a capped run is slower, not
    /// wronger.
    lookups: Option<Arc<Semaphore>>,
    /// The admission limit `lookups` was made with (0 with no cap).
    lookup_limit: usize,
}

impl QueryPacing {
    /// At most `qps` queries a second (0: no cap, no admission limit).
    pub fn new(qps: u32) -> Self {
        let Some(rate) = QueryRate::new(qps) else {
            return Self::default();
        };
        let per_floor = f64::from(qps) * DEFAULT_RETRY_FLOOR.as_secs_f64() / 2.0;
        let lookups = (per_floor as usize).max(rate.burst() as usize);
        Self {
            rate: Some(Arc::new(rate)),
            lookups: Some(Arc::new(Semaphore::new(lookups))),
            lookup_limit: lookups,
        }
    }

    /// Lookups admitted at once under the cap; None without one.
    pub fn lookup_limit(&self) -> Option<usize> {
        self.lookups.as_ref().map(|_| self.lookup_limit)
    }

    /// Waits until a lookup may start; the permit ends it. None without a cap (or, never, a
    /// closed limit).
    async fn admit(&self) -> Option<OwnedSemaphorePermit> {
        match &self.lookups {
            Some(lookups) => lookups.clone().acquire_owned().await.ok(),
            None => None,
        }
    }
}

/// hickory's tokio runtime with every UDP query and every TCP connection first taking a token
/// from the prober's bucket (none without a cap), and UDP queries carried by pooled sockets
/// (`probe::dns_udp`). hickory asks for a socket for each UDP query it sends, resends included
/// ([`RuntimeProvider::bind_udp`]), so that is where each datagram is paced.
#[derive(Clone, Default)]
pub struct PacedRuntime {
    tokio: TokioRuntimeProvider,
    rate: Option<Arc<QueryRate>>,
    udp: UdpPool,
}

impl RuntimeProvider for PacedRuntime {
    type Handle = <TokioRuntimeProvider as RuntimeProvider>::Handle;
    type Timer = <TokioRuntimeProvider as RuntimeProvider>::Timer;
    type Udp = PooledUdp;
    type Tcp = <TokioRuntimeProvider as RuntimeProvider>::Tcp;

    fn create_handle(&self) -> Self::Handle {
        self.tokio.create_handle()
    }

    fn connect_tcp(
        &self,
        server_addr: SocketAddr,
        bind_addr: Option<SocketAddr>,
        timeout: Option<Duration>,
    ) -> Pin<Box<dyn Send + Future<Output = Result<Self::Tcp, io::Error>>>> {
        self.paced(self.tokio.connect_tcp(server_addr, bind_addr, timeout))
    }

    fn bind_udp(
        &self,
        local_addr: SocketAddr,
        _server_addr: SocketAddr,
    ) -> Pin<Box<dyn Send + Future<Output = Result<Self::Udp, io::Error>>>> {
        let socket = self.udp.socket(local_addr);
        self.paced(Box::pin(async move { Ok(socket) }))
    }
}

impl PacedRuntime {
    /// `open` (a socket bind or a TCP connect), once the cap gives a token (at once without one).
    fn paced<T: 'static>(
        &self,
        open: Pin<Box<dyn Send + Future<Output = T>>>,
    ) -> Pin<Box<dyn Send + Future<Output = T>>> {
        let rate = self.rate.clone();
        Box::pin(async move {
            if let Some(rate) = rate {
                rate.acquire().await;
            }
            open.await
        })
    }
}

/// A resolver builder for `server` on the paced runtime.
fn resolver_builder(
    server: &DnsServer,
    pacing: &QueryPacing,
) -> Result<hickory_resolver::ResolverBuilder<PacedRuntime>, DnsSetupError> {
    let runtime = PacedRuntime {
        tokio: TokioRuntimeProvider::default(),
        rate: pacing.rate.clone(),
        udp: UdpPool::default(),
    };
    match server {
        DnsServer::System => {
            Resolver::builder(runtime).map_err(|error| DnsSetupError(error.to_string()))
        }
        DnsServer::Custom(address) => Ok(Resolver::builder_with_config(
            custom_config(*address),
            runtime,
        )),
    }
}

/// The probe's resolver.
#[derive(Clone)]
pub struct Dns {
    resolver: Resolver<PacedRuntime>,
    pacing: QueryPacing,
}

impl Dns {
    /// Creates a resolver for `server`, without a rate cap; each lookup takes at most about
    /// `timeout`, its queries sent again every [`DEFAULT_DNS_RETRY_INTERVAL`].
    pub fn new(server: &DnsServer, timeout: Duration) -> Result<Self, DnsSetupError> {
        Self::with_retry(
            server,
            timeout,
            DEFAULT_DNS_RETRY_INTERVAL,
            &QueryPacing::default(),
        )
    }

    /// Creates a resolver for `server` whose lookups take at most about `timeout`, each query
    /// sent again after `retry` without an answer ([`query_timing`]), paced by `pacing`.
    pub fn with_retry(
        server: &DnsServer,
        timeout: Duration,
        retry: Duration,
        pacing: &QueryPacing,
    ) -> Result<Self, DnsSetupError> {
        let mut builder = resolver_builder(server, pacing)?;
        let options: &mut ResolverOpts = builder.options_mut();
        (options.timeout, options.attempts) = query_timing(timeout, retry);
        options.preserve_intermediates = true;
        options.ndots = 0;
        // No answer cache: a run asks for each name once (a domain's MX and TXT records; an MX
        // host's addresses once per run, `ProbeRun`'s host cache), so hickory's cache served
        // nothing but cost a tenth of a large scan's CPU to fill and evict. Caching is the
        // configured resolver's job; identical queries in flight are still sent once.
        options.cache_size = 0;
        if matches!(server, DnsServer::Custom(_)) {
            options.use_hosts_file = ResolveHosts::Never;
        }
        let resolver = builder
            .build()
            .map_err(|error| DnsSetupError(error.to_string()))?;
        Ok(Self {
            resolver,
            pacing: pacing.clone(),
        })
    }

    /// Looks up the MX set of `domain`.
    pub async fn mx(&self, domain: &DomainName) -> MxAnswer {
        let _admitted = self.pacing.admit().await;
        match self.resolver.mx_lookup(domain.to_fqdn()).await {
            Ok(lookup) => mx_answer(&lookup),
            Err(error) => match classify(&error) {
                Classified::NoData => MxAnswer::Implicit,
                Classified::Failed(dns_error) => MxAnswer::Failed(dns_error),
            },
        }
    }

    /// Looks up the TXT records of `name` (absolute or not; one trailing dot is added), following
    /// CNAMEs, with the resolver and timeouts of every other lookup.
    pub async fn txt(&self, name: &str) -> TxtAnswer {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let _admitted = self.pacing.admit().await;
        match self.resolver.txt_lookup(fqdn.as_str()).await {
            Ok(lookup) => TxtAnswer::Records(
                lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::TXT(txt) => {
                            Some(txt.txt_data.iter().map(|string| string.to_vec()).collect())
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            Err(error) => match classify(&error) {
                Classified::NoData | Classified::Failed(DnsError::Nxdomain) => {
                    TxtAnswer::Records(Vec::new())
                }
                Classified::Failed(dns_error) => TxtAnswer::Failed(dns_error),
            },
        }
    }

    /// Looks up A and AAAA of `host` (concurrently), following CNAMEs, at most `cap` addresses.
    pub async fn addresses(&self, host: &str, cap: usize) -> HostAddresses {
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        let (v4, v6) = a_and_aaaa(&self.resolver, &self.pacing, &fqdn).await;
        let mut cname_target = None;
        let mut v4_addresses = Vec::new();
        let mut v6_addresses = Vec::new();
        let mut errors = Vec::new();
        for (result, list) in [(v4, &mut v4_addresses), (v6, &mut v6_addresses)] {
            match result {
                Ok(lookup) => {
                    for record in lookup.answers() {
                        match &record.data {
                            RData::A(a) => list.push(IpAddr::V4(a.0)),
                            RData::AAAA(aaaa) => list.push(IpAddr::V6(aaaa.0)),
                            RData::CNAME(target) => cname_target = Some(normalize(&target.0)),
                            _ => {}
                        }
                    }
                }
                Err(error) => errors.push(classify(&error)),
            }
        }
        let mut addresses = Vec::new();
        let mut v4_iter = v4_addresses.into_iter().filter(usable_address);
        let mut v6_iter = v6_addresses.into_iter().filter(usable_address);
        loop {
            let next_v4 = v4_iter.next();
            let next_v6 = v6_iter.next();
            if next_v4.is_none() && next_v6.is_none() {
                break;
            }
            for address in [next_v4, next_v6].into_iter().flatten() {
                if addresses.len() < cap && !addresses.contains(&address) {
                    addresses.push(address);
                }
            }
        }
        let error = if addresses.is_empty() {
            // NXDOMAIN wins; then a real failure; "no data" on both is "no address".
            let failures: Vec<DnsError> = errors
                .iter()
                .filter_map(|classified| match classified {
                    Classified::Failed(error) => Some(*error),
                    Classified::NoData => None,
                })
                .collect();
            Some(if failures.contains(&DnsError::Nxdomain) {
                DnsError::Nxdomain
            } else {
                failures.first().copied().unwrap_or(DnsError::NoAddress)
            })
        } else {
            None
        };
        HostAddresses {
            cname_target,
            addresses,
            error,
        }
    }
}

fn custom_config(address: SocketAddr) -> ResolverConfig {
    let mut udp = ConnectionConfig::udp();
    udp.port = address.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = address.port();
    ResolverConfig::from_name_servers(vec![NameServerConfig::new(
        address.ip(),
        true,
        vec![udp, tcp],
    )])
}

fn normalize(name: &hickory_resolver::proto::rr::Name) -> String {
    name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// Addresses we will never connect to, whatever DNS says.
fn usable_address(address: &IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}

fn mx_answer(lookup: &Lookup) -> MxAnswer {
    let mut hosts = Vec::new();
    let mut saw_null = false;
    for record in lookup.answers() {
        if let RData::MX(mx) = &record.data {
            if mx.exchange.is_root() {
                saw_null = true;
            } else {
                let host = normalize(&mx.exchange);
                let entry = MxRecord {
                    host,
                    preference: mx.preference,
                };
                if !hosts.contains(&entry) {
                    hosts.push(entry);
                }
            }
        }
    }
    if hosts.is_empty() {
        return if saw_null {
            MxAnswer::NullMx
        } else {
            MxAnswer::Implicit
        };
    }
    hosts.sort_by(|a, b| {
        a.preference
            .cmp(&b.preference)
            .then_with(|| a.host.cmp(&b.host))
    });
    MxAnswer::Hosts(hosts)
}

enum Classified {
    /// The name exists, without records of the asked type.
    NoData,
    Failed(DnsError),
}

fn classify(error: &NetError) -> Classified {
    match error {
        NetError::Dns(HickoryDnsError::NoRecordsFound(no_records)) => {
            if no_records.response_code == ResponseCode::NXDomain {
                Classified::Failed(DnsError::Nxdomain)
            } else {
                Classified::NoData
            }
        }
        NetError::Dns(HickoryDnsError::ResponseCode(code)) => Classified::Failed(match *code {
            ResponseCode::NXDomain => DnsError::Nxdomain,
            ResponseCode::ServFail => DnsError::Servfail,
            ResponseCode::Refused => DnsError::Refused,
            _ => DnsError::Other,
        }),
        NetError::Timeout => Classified::Failed(DnsError::Timeout),
        NetError::Proto(_) => Classified::Failed(DnsError::BadAnswer),
        other => {
            let text = other.to_string();
            if text.contains("timed out") || text.contains("timeout") {
                Classified::Failed(DnsError::Timeout)
            } else {
                Classified::Failed(DnsError::Other)
            }
        }
    }
}

/// The validating resolver, beside [`Dns`]: the same server, the DO bit set, every answer
/// checked from the trust anchors (hickory's `DnssecDnsHandle`). Its answers decide only the
/// DNSSEC and DANE fields; the opportunistic layer never waits on it or reads it, so a resolver
/// that strips DNSSEC data, or a bogus answer, changes no STARTTLS / PFS / WebPKI verdict.
#[derive(Clone)]
pub struct ValidatingDns {
    resolver: Resolver<PacedRuntime>,
    /// The same pacing as the plain resolver's: one cap for the run.
    pacing: QueryPacing,
    /// The zones of the trust anchors (`.` for the built-in root keys).
    anchor_zones: Vec<String>,
}

/// What asking for the trust anchors' DNSKEY RRsets said about the resolver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnssecData {
    /// Every anchor's DNSKEY RRset validated: DNSSEC statuses can be told.
    Passes,
    /// The resolver answered, without validatable DNSSEC data (RRSIGs stripped, DO bit
    /// ignored, no DNSKEY): worth a warning.
    Missing,
    /// The query failed (timeout, REFUSED, SERVFAIL, unreachable): the resolver's trouble is
    /// the failing-DNS warning's business, not a DNSSEC one.
    Failed,
}

/// One validated answer: its DNSSEC status, and its records when there were any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validated<T> {
    /// `Secure` for a validated RRset or a validated denial that there is one.
    pub status: DnssecStatus,
    /// The records of the asked type (empty for a denial or a failure).
    pub records: Vec<T>,
    /// The earliest expiry (seconds since the epoch) of the RRSIGs over the answer's RRsets.
    pub signature_expires: Option<i64>,
    /// The final target when the name was a CNAME (normalized), as in [`HostAddresses`].
    pub cname_target: Option<String>,
}

impl<T> Validated<T> {
    fn empty(status: DnssecStatus) -> Self {
        Validated {
            status,
            records: Vec::new(),
            signature_expires: None,
            cname_target: None,
        }
    }
}

impl ValidatingDns {
    /// A validating resolver for `server`, lookups timed as [`Dns::new`]'s (no rate cap);
    /// `anchors` replace the built-in root keys.
    pub fn new(
        server: &DnsServer,
        timeout: Duration,
        anchors: Option<&TrustAnchorFile>,
    ) -> Result<Self, DnsSetupError> {
        Self::with_retry(
            server,
            timeout,
            DEFAULT_DNS_RETRY_INTERVAL,
            anchors,
            &QueryPacing::default(),
        )
    }

    /// A validating resolver timed and paced as [`Dns::with_retry`]'s (give it the same
    /// `pacing` for one cap over both).
    pub fn with_retry(
        server: &DnsServer,
        timeout: Duration,
        retry: Duration,
        anchors: Option<&TrustAnchorFile>,
        pacing: &QueryPacing,
    ) -> Result<Self, DnsSetupError> {
        let mut builder = resolver_builder(server, pacing)?;
        let anchor_zones = match anchors {
            Some(file) => {
                let parsed = TrustAnchors::from_str(&file.text).map_err(|error| {
                    DnsSetupError(format!(
                        "trust anchor file {}: {error}",
                        file.path.display()
                    ))
                })?;
                // ResolverOpts.trust_anchor (a path) is not read by the stub resolver: the
                // anchors go in themselves (DNSSEC-NOTES.md).
                builder = builder.with_trust_anchor(Arc::new(parsed));
                file.zones.clone()
            }
            None => vec![".".to_string()],
        };
        let options: &mut ResolverOpts = builder.options_mut();
        (options.timeout, options.attempts) = query_timing(timeout, retry);
        options.preserve_intermediates = true;
        options.ndots = 0;
        options.validate = true;
        options.use_hosts_file = ResolveHosts::Never;
        let resolver = builder
            .build()
            .map_err(|error| DnsSetupError(error.to_string()))?;
        Ok(Self {
            resolver,
            pacing: pacing.clone(),
            anchor_zones,
        })
    }

    /// Whether the resolver passes DNSSEC data: the DNSKEY RRset of every trust anchor's zone
    /// comes back validated ([`DnssecData::Passes`]). A resolver (or middlebox) that strips
    /// RRSIGs or drops the DO bit answers without it ([`DnssecData::Missing`]); one that does
    /// not answer, refuses or fails the query gives [`DnssecData::Failed`]. Either way no DNSSEC
    /// status can be told and DANE is `unknown`.
    pub async fn passes_dnssec_data(&self) -> DnssecData {
        for zone in &self.anchor_zones {
            let Ok(name) = Name::from_ascii(zone) else {
                return DnssecData::Missing;
            };
            let admitted = self.pacing.admit().await;
            let answer = self.resolver.lookup(name, RecordType::DNSKEY).await;
            drop(admitted);
            match answer {
                Ok(lookup) => {
                    let secure = lookup.answers().iter().any(|record| {
                        record.record_type() == RecordType::DNSKEY && record.proof.is_secure()
                    });
                    if !secure {
                        return DnssecData::Missing;
                    }
                }
                Err(error) => {
                    return match error {
                        NetError::Dns(
                            HickoryDnsError::NoRecordsFound(_)
                            | HickoryDnsError::Nsec { .. }
                            | HickoryDnsError::DnssecBogus,
                        ) => DnssecData::Missing,
                        _ => DnssecData::Failed,
                    };
                }
            }
        }
        DnssecData::Passes
    }

    /// The DNSSEC status of the MX answer of `domain` (of its denial when it has none).
    pub async fn mx(&self, domain: &DomainName) -> Validated<()> {
        let admitted = self.pacing.admit().await;
        let result = self.resolver.mx_lookup(domain.to_fqdn()).await;
        drop(admitted);
        validated(result, RecordType::MX, |_| Some(()))
    }

    /// The DNSSEC status of `host`'s address answers: A and AAAA, the worse of the two (both
    /// must be secure, as positive answers or as secure denials, for DANE to apply).
    pub async fn addresses(&self, host: &str) -> Validated<IpAddr> {
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        let (v4, v6) = a_and_aaaa(&self.resolver, &self.pacing, &fqdn).await;
        let v4 = validated(v4, RecordType::A, |data| match data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        });
        let v6 = validated(v6, RecordType::AAAA, |data| match data {
            RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
            _ => None,
        });
        let mut records = v4.records;
        records.extend(v6.records);
        Validated {
            status: worse(v4.status, v6.status),
            records,
            signature_expires: earliest(v4.signature_expires, v6.signature_expires),
            cname_target: v4.cname_target.or(v6.cname_target),
        }
    }

    /// The TLSA RRset at `_25._tcp.<host>`, validated.
    pub async fn tlsa(&self, host: &str) -> Validated<TlsaRecord> {
        let name = format!("_25._tcp.{}.", host.trim_end_matches('.'));
        let admitted = self.pacing.admit().await;
        let result = self.resolver.tlsa_lookup(name.as_str()).await;
        drop(admitted);
        validated(result, RecordType::TLSA, |data| match data {
            RData::TLSA(tlsa) => Some(TlsaRecord::new(
                tlsa.cert_usage.into(),
                tlsa.selector.into(),
                tlsa.matching.into(),
                tlsa.cert_data.clone(),
            )),
            _ => None,
        })
    }
}

/// The worse of two statuses: bogus, then indeterminate, then insecure, then secure.
fn worse(first: DnssecStatus, second: DnssecStatus) -> DnssecStatus {
    let rank = |status: DnssecStatus| match status {
        DnssecStatus::Bogus => 0,
        DnssecStatus::Indeterminate => 1,
        DnssecStatus::Insecure => 2,
        DnssecStatus::Secure => 3,
    };
    if rank(second) < rank(first) {
        second
    } else {
        first
    }
}

fn earliest(first: Option<i64>, second: Option<i64>) -> Option<i64> {
    match (first, second) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (one, other) => one.or(other),
    }
}

fn status_of(proof: Proof) -> DnssecStatus {
    match proof {
        Proof::Secure => DnssecStatus::Secure,
        Proof::Insecure => DnssecStatus::Insecure,
        Proof::Bogus => DnssecStatus::Bogus,
        Proof::Indeterminate => DnssecStatus::Indeterminate,
    }
}

/// Reads one validating lookup: the status of the records of `record_type` and of the CNAMEs
/// that led to them (each record carries hickory's proof; the worst wins, all four states
/// kept, unlike `DnssecSummary`), or of the denial; `pick` maps the wanted records.
fn validated<T>(
    result: Result<Lookup, NetError>,
    record_type: RecordType,
    pick: impl Fn(&RData) -> Option<T>,
) -> Validated<T> {
    let lookup = match result {
        Ok(lookup) => lookup,
        Err(error) => return denial(&error),
    };
    let mut status = None;
    let mut records = Vec::new();
    let mut cname_target = None;
    let mut signature_expires = None;
    for record in lookup.answers() {
        match &record.data {
            RData::DNSSEC(DNSSECRData::RRSIG(rrsig)) => {
                let expires = i64::from(rrsig.input().sig_expiration.get());
                signature_expires = earliest(signature_expires, Some(expires));
            }
            RData::CNAME(target) => {
                cname_target = Some(normalize(&target.0));
                status = Some(status.map_or(status_of(record.proof), |seen| {
                    worse(seen, status_of(record.proof))
                }));
            }
            data if record.record_type() == record_type => {
                status = Some(status.map_or(status_of(record.proof), |seen| {
                    worse(seen, status_of(record.proof))
                }));
                if let Some(value) = pick(data) {
                    records.push(value);
                }
            }
            _ => {}
        }
    }
    Validated {
        status: status.unwrap_or(DnssecStatus::Indeterminate),
        records,
        signature_expires,
        cname_target,
    }
}

/// The status of a lookup that returned no records: a validated denial (NODATA or NXDOMAIN
/// whose SOA validated) is `Secure` ("proven absent"); an unsigned zone's denial is
/// `Insecure`; a bogus answer `Bogus`; anything else (timeout, SERVFAIL, no SOA) is
/// `Indeterminate`.
fn denial<T>(error: &NetError) -> Validated<T> {
    let status = match error {
        NetError::Dns(HickoryDnsError::NoRecordsFound(no_records)) => {
            let soa = no_records.soa.as_ref().map(|soa| status_of(soa.proof));
            let authorities = no_records.authorities.as_ref().and_then(|records| {
                records
                    .iter()
                    .map(|record| status_of(record.proof))
                    .reduce(worse)
            });
            match (soa, authorities) {
                (Some(soa), Some(rest)) => worse(soa, rest),
                (Some(status), None) | (None, Some(status)) => status,
                (None, None) => DnssecStatus::Indeterminate,
            }
        }
        NetError::Dns(HickoryDnsError::Nsec { proof, .. }) => status_of(*proof),
        NetError::Dns(HickoryDnsError::DnssecBogus) => DnssecStatus::Bogus,
        _ => DnssecStatus::Indeterminate,
    };
    Validated::empty(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admission_limit_follows_the_cap_and_zero_has_none() {
        let uncapped = QueryPacing::new(0);
        assert!(uncapped.rate.is_none());
        assert_eq!(uncapped.lookup_limit(), None);
        // 500 qps * 333 ms / 2: the queue ahead of a lookup's first query drains in 167 ms.
        assert_eq!(QueryPacing::new(500).lookup_limit(), Some(83));
        // Never below the burst, never zero.
        assert_eq!(QueryPacing::new(20).lookup_limit(), Some(3));
        assert_eq!(QueryPacing::new(1).lookup_limit(), Some(1));
    }

    #[tokio::test(start_paused = true)]
    async fn every_datagram_socket_waits_for_a_token_and_none_without_a_cap() {
        let local: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let start = tokio::time::Instant::now();
        let uncapped = PacedRuntime::default();
        for _ in 0..200 {
            uncapped.bind_udp(local, server).await.unwrap();
        }
        assert_eq!(tokio::time::Instant::now(), start, "no cap: no wait");

        let pacing = QueryPacing::new(100);
        let capped = PacedRuntime {
            rate: pacing.rate.clone(),
            ..PacedRuntime::default()
        };
        for _ in 0..30 {
            capped.bind_udp(local, server).await.unwrap();
        }
        // A burst of 10, then one every 10 ms.
        assert_eq!(
            tokio::time::Instant::now() - start,
            Duration::from_millis(200)
        );
    }

    #[test]
    fn a_lost_query_costs_the_retry_interval_and_the_tries_fit_the_lookup_timeout() {
        // The defaults: resent every 0.8 s, six tries within the 5 s of a lookup.
        let (per_query, retries) = query_timing(Duration::from_secs(5), DEFAULT_DNS_RETRY_INTERVAL);
        assert_eq!(per_query, Duration::from_millis(800));
        assert_eq!(retries, 5);
        assert!(per_query * (retries as u32 + 1) <= Duration::from_secs(5));
        // A retry interval longer than the lookup timeout is the timeout (hickory's old shape).
        assert_eq!(
            query_timing(Duration::from_secs(2), Duration::from_secs(5)),
            (Duration::from_secs(2), 1)
        );
        // A short timeout still gets a second try.
        assert_eq!(
            query_timing(Duration::from_millis(500), DEFAULT_DNS_RETRY_INTERVAL),
            (Duration::from_millis(500), 1)
        );
        // Never a zero timeout, whatever is asked.
        assert!(query_timing(Duration::ZERO, Duration::ZERO).0 > Duration::ZERO);
    }
}
