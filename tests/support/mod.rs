//! Loopback test harness shared by the integration tests (`mod support;` at the top of each
//! `tests/*.rs` file).
//!
//! It owns fake network peers that only ever listen on 127.0.0.0/8 or ::1: an authoritative DNS
//! server ([`dns`]), a throw-away certificate authority ([`pki`]), scripted SMTP servers
//! ([`smtp`]) and MTA-STS policy hosts over HTTPS ([`https`]). It must not touch anything
//! outside the test process; nothing here reaches the internet.
//!
//! Each test binary uses only part of the harness, so unused items are allowed here.
#![allow(dead_code, unused_imports)]

pub mod contract;
pub mod dbus;
pub mod demo;
pub mod dns;
pub mod https;
pub mod lossy_dns;
pub mod pki;
pub mod signed_zone;
pub mod smtp;
pub mod socks;
pub mod webhook;

pub use dns::{FailingDns, TestDns, TxtFailingDns, soa_header};
pub use https::{PolicyFleet, PolicyReply, PolicyServer};
pub use lossy_dns::{Loss, LossyDns};
pub use pki::{TestCert, TestPki, Validity};
pub use smtp::{
    FAKE_SMTP_HOSTNAME, FakeSmtp, Scenario, SmtpFleet, TlsVersions, unique_loopback_ips,
};
pub use webhook::{HookReply, HookRequest, HookServer};

/// A fleet of good MX hosts `mx0.<domain>`, `mx1.<domain>`, … on `ips` (a current certificate
/// for each name, any TLS version), and the zone lines of their A records, relative to
/// `domain` (e.g. `bench`): the lab the benchmarks probe.
pub fn good_hosts(
    pki: &TestPki,
    ips: &[std::net::IpAddr],
    domain: &str,
) -> (String, Vec<(std::net::IpAddr, Scenario)>) {
    let domain = domain.trim_end_matches('.');
    let mut zone = String::new();
    let mut servers = Vec::new();
    for (index, ip) in ips.iter().enumerate() {
        zone.push_str(&format!("mx{index} IN A {ip}\n"));
        servers.push((
            *ip,
            Scenario::Good {
                cert: pki.leaf(&[&format!("mx{index}.{domain}")], Validity::Current),
                versions: TlsVersions::Any,
            },
        ));
    }
    (zone, servers)
}
