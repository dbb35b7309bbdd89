//! What DNSSEC validation and DANE cost per domain, on the loopback fleet: the same N domains
//! over M MX hosts probed twice — once in an unsigned zone with the built-in root anchors (the
//! test server passes no DNSSEC data for the root, so after one DNSKEY query the probe records
//! DANE `unknown` and validates nothing: today's cost), once in a signed zone whose key is the
//! trust anchor, every host with a matching TLSA record (full validation: MX, A, AAAA, TLSA,
//! DNSKEY, and the DANE check). Prints DNS queries per domain and wall time per domain.
//! Run with `cargo bench --bench dnssec_cost`.
//!
//! Not a test: the figures go in closing notes and the README, never into an assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use starttls_monitor::model::DomainName;
use starttls_monitor::model::auth::DaneSetStatus;
use starttls_monitor::probe::config::TrustAnchorFile;
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::signed_zone;
use support::{Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header};
use x509_parser::prelude::{FromDer, X509Certificate};

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

async fn run(domains: usize, hosts: usize, signed: bool) {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = pki.write_ca_file(dir.path());
    let ips = support::unique_loopback_ips(hosts);
    let mut zone = soa_header("bench");
    let mut servers = Vec::new();
    for (index, ip) in ips.iter().enumerate() {
        let cert = pki.leaf(&[&format!("mx{index}.bench")], Validity::Current);
        let (_, parsed) = X509Certificate::from_der(cert.chain_der[0].as_ref()).expect("leaf");
        zone.push_str(&format!(
            "mx{index} IN A {ip}\n_25._tcp.mx{index} IN TLSA 3 1 1 {}\n",
            sha256_hex(parsed.public_key().raw)
        ));
        servers.push((
            *ip,
            Scenario::Good {
                cert,
                versions: TlsVersions::Any,
            },
        ));
    }
    for index in 0..domains {
        zone.push_str(&format!("d{index} IN MX 10 mx{}\n", index % hosts));
    }
    let fleet = SmtpFleet::start(servers).await;
    let test_zone = if signed {
        signed_zone::signed("bench.", &zone, Duration::from_secs(30 * 86400))
    } else {
        signed_zone::unsigned("bench.", &zone)
    };
    let anchor_text = test_zone.anchor.clone();
    let dns =
        TestDns::start_delegating(vec![(test_zone.origin, test_zone.handler)], Vec::new()).await;
    let mut config = ProbeConfig {
        dns: DnsServer::Custom(dns.addr),
        smtp_port: fleet.port,
        // Loopback: the public-resolver cap would measure the cap, not the probe.
        dns_qps: 0,
        ..ProbeConfig::default()
    };
    config.load_ca_file(&ca_file).expect("CA");
    if signed {
        let anchor_file = dir.path().join("anchor.txt");
        std::fs::write(&anchor_file, anchor_text).expect("anchor");
        config.trust_anchor = Some(TrustAnchorFile::load(&anchor_file).expect("anchor loads"));
    }
    let prober = Prober::new(config).expect("prober");
    let names: Vec<DomainName> = (0..domains)
        .map(|index| DomainName::parse(&format!("d{index}.bench")).expect("valid"))
        .collect();
    let before = dns.queries();
    let started = Instant::now();
    let mut valid = 0;
    let mut strict = 0;
    prober
        .start_run()
        .probe_many(names, |_, result| {
            if result.dane == Some(DaneSetStatus::Valid) {
                valid += 1;
            }
            if result.strict_valid == Some(true) {
                strict += 1;
            }
        })
        .await;
    let elapsed = started.elapsed();
    let queries = dns.queries() - before;
    println!(
        "{:<26} {domains:>5} domains over {hosts:>4} MX hosts: {:>8.1} ms ({:>6.2} ms/domain), \
         {queries:>6} DNS queries ({:>5.2}/domain)  dane valid {valid}/{domains}",
        if signed {
            "signed zone, validated"
        } else {
            "unsigned, no DNSSEC data"
        },
        elapsed.as_secs_f64() * 1000.0,
        elapsed.as_secs_f64() * 1000.0 / domains as f64,
        queries as f64 / domains as f64,
    );
    assert_eq!(strict, domains, "every bench domain must be strict");
    if signed {
        assert_eq!(
            valid, domains,
            "every signed bench domain must be DANE valid"
        );
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for (domains, hosts) in [(100, 100), (200, 200), (1000, 200)] {
            for signed in [false, true] {
                run(domains, hosts, signed).await;
            }
        }
    });
}
