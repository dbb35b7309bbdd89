//! DNS for the probe (hickory-resolver): a domain's MX set, and each MX host's addresses.
//!
//! Owns: resolver setup and the translation of DNS answers and failures into model values
//! (null MX, implicit MX, CNAME'd hosts, `DnsError`), and TXT lookups for the policy records
//! of MTA-STS and TLS-RPT ([`Dns::txt`]). Must not touch: SMTP, TLS, storage.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};

use super::config::DnsServer;
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

/// The probe's resolver.
#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
}

impl Dns {
    /// Creates a resolver for `server`; each query times out after `timeout`.
    pub fn new(server: &DnsServer, timeout: Duration) -> Result<Self, DnsSetupError> {
        let mut builder = match server {
            DnsServer::System => {
                TokioResolver::builder_tokio().map_err(|error| DnsSetupError(error.to_string()))?
            }
            DnsServer::Custom(address) => Resolver::builder_with_config(
                custom_config(*address),
                TokioRuntimeProvider::default(),
            ),
        };
        let options: &mut ResolverOpts = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 2;
        options.preserve_intermediates = true;
        options.ndots = 0;
        if matches!(server, DnsServer::Custom(_)) {
            options.use_hosts_file = ResolveHosts::Never;
        }
        let resolver = builder
            .build()
            .map_err(|error| DnsSetupError(error.to_string()))?;
        Ok(Self { resolver })
    }

    /// Looks up the MX set of `domain`.
    pub async fn mx(&self, domain: &DomainName) -> MxAnswer {
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
        let (v4, v6) = tokio::join!(
            self.resolver.ipv4_lookup(fqdn.as_str()),
            self.resolver.ipv6_lookup(fqdn.as_str())
        );
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
