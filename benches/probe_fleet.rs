//! Probe throughput against a loopback fleet: N domains over M MX hosts (each a fake SMTP
//! server with a CA-signed certificate, on its own 127.x address), MX and address lookups
//! included. Run with `cargo bench --bench probe_fleet`; prints wall time and domains/second.
//!
//! Not a test: the figures go in closing notes and the README, never into an assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use starttls_monitor::model::{DomainName, Verdict};
use starttls_monitor::monitor::scan::run_scan;
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{ScanScope, Store};
use support::{SmtpFleet, TestDns, TestPki, soa_header};

async fn run(domains: usize, hosts: usize, with_store: bool) {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = pki.write_ca_file(dir.path());
    let ips = support::unique_loopback_ips(hosts);
    let mut zone = soa_header("bench");
    let (hosts_zone, servers) = support::good_hosts(&pki, &ips, "bench");
    zone.push_str(&hosts_zone);
    for index in 0..domains {
        zone.push_str(&format!("d{index} IN MX 10 mx{}\n", index % hosts));
    }
    let fleet = SmtpFleet::start(servers).await;
    let dns = TestDns::start(&[("bench.", zone.as_str())]).await;
    let mut config = ProbeConfig {
        dns: DnsServer::Custom(dns.addr),
        smtp_port: fleet.port,
        // Loopback: the public-resolver cap would measure the cap, not the probe.
        dns_qps: 0,
        ..ProbeConfig::default()
    };
    config.load_ca_file(&ca_file).expect("CA");
    let prober = Prober::new(config).expect("prober");
    let names: Vec<DomainName> = (0..domains)
        .map(|index| DomainName::parse(&format!("d{index}.bench")).expect("valid"))
        .collect();
    let started = Instant::now();
    let mut good = 0;
    if with_store {
        // The real scan path: every result stored (WAL SQLite on disk), events computed.
        let store = Store::open(&dir.path().join("bench.sqlite3")).expect("store");
        store.add_domains(None, &names).expect("add");
        let shared = Arc::new(Mutex::new(store));
        let counts = run_scan(
            &shared,
            &prober,
            ScanScope::All,
            names,
            &Settings::default(),
            |_| {},
        )
        .await
        .expect("scan");
        good = counts.all_three;
    } else {
        prober
            .start_run()
            .probe_many(names, |_, result| {
                if result.verdict == Verdict::TlsOk && result.strict_valid == Some(true) {
                    good += 1;
                }
            })
            .await;
    }
    let elapsed = started.elapsed();
    println!(
        "{:<12} {domains:>5} domains over {hosts:>4} MX hosts: {:>8.1} ms  ({:>7.0} domains/s, {:>6.0} handshakes/s)  {good}/{domains} tls_ok+strict",
        if with_store {
            "scan+store"
        } else {
            "probe only"
        },
        elapsed.as_secs_f64() * 1000.0,
        domains as f64 / elapsed.as_secs_f64(),
        hosts as f64 / elapsed.as_secs_f64(),
    );
    assert_eq!(
        good, domains,
        "every bench domain must be good, or the figure means nothing"
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for (domains, hosts) in [(100, 100), (100, 10), (200, 200), (1000, 200)] {
            run(domains, hosts, false).await;
        }
        for (domains, hosts) in [(200, 200), (1000, 200)] {
            run(domains, hosts, true).await;
        }
    });
}
