//! What a lost DNS datagram costs (issue "a million domains": no multi-second stalls). The
//! loopback fleet of `probe_fleet` (200 domains on 200 MX hosts) is probed through a UDP relay
//! that drops a seeded 1 % of datagrams, once with queries resent only after the whole lookup
//! timeout (5 s, the old shape) and once with the default retry interval; then 20 runs of 200
//! domains straight to the test server, to see the spread a burst of queries gives.
//! Run with `cargo bench --bench dns_loss`.
//!
//! Not a test: the figures go in closing notes and the README, never into an assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use starttls_monitor::model::{DomainName, Verdict};
use starttls_monitor::probe::config::{DEFAULT_DNS_RETRY_INTERVAL, DEFAULT_DNS_TIMEOUT};
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::{LossyDns, SmtpFleet, TestDns, TestPki, soa_header};
use time::OffsetDateTime;

const DOMAINS: usize = 200;

/// One probe of every domain; per-domain times (ms) and the whole run's.
async fn probe_all(
    dns: std::net::SocketAddr,
    smtp_port: u16,
    ca_file: &std::path::Path,
    retry: Duration,
) -> (Vec<f64>, f64) {
    let mut config = ProbeConfig {
        dns: DnsServer::Custom(dns),
        smtp_port,
        dns_timeout: DEFAULT_DNS_TIMEOUT,
        dns_retry_interval: retry,
        // Loopback: the public-resolver cap would measure the cap, not the probe.
        dns_qps: 0,
        ..ProbeConfig::default()
    };
    config.load_ca_file(ca_file).expect("CA");
    let prober = Prober::new(config).expect("prober");
    let names: Vec<DomainName> = (0..DOMAINS)
        .map(|index| DomainName::parse(&format!("d{index}.bench")).expect("valid"))
        .collect();
    let mut times = Vec::with_capacity(DOMAINS);
    let mut good = 0;
    let started = Instant::now();
    prober
        .start_run()
        .probe_many(names, |_, result| {
            if result.verdict == Verdict::TlsOk {
                good += 1;
            }
            times.push((OffsetDateTime::now_utc() - result.probed_at).as_seconds_f64() * 1000.0);
        })
        .await;
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(good, DOMAINS, "every bench domain must be tls_ok");
    times.sort_by(f64::total_cmp);
    (times, wall)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = pki.write_ca_file(dir.path());
        let ips = support::unique_loopback_ips(DOMAINS);
        let mut zone = soa_header("bench");
        let (hosts_zone, servers) = support::good_hosts(&pki, &ips, "bench");
        zone.push_str(&hosts_zone);
        for index in 0..ips.len() {
            zone.push_str(&format!("d{index} IN MX 10 mx{index}\n"));
        }
        let fleet = SmtpFleet::start(servers).await;
        let dns = TestDns::start(&[("bench.", zone.as_str())]).await;

        println!("{DOMAINS} domains on {DOMAINS} MX hosts, 1 % of DNS datagrams dropped (seeded):");
        for (label, retry) in [
            ("resent after the lookup timeout (old)", DEFAULT_DNS_TIMEOUT),
            ("resent every retry interval (default)", DEFAULT_DNS_RETRY_INTERVAL),
        ] {
            let mut all = Vec::new();
            let mut dropped = 0;
            let mut walls = Vec::new();
            for seed in 1..=5u64 {
                let lossy = LossyDns::start(dns.addr, 0.01, seed).await;
                let (times, wall) = probe_all(lossy.addr, fleet.port, &ca_file, retry).await;
                dropped += lossy.dropped();
                all.extend(times);
                walls.push(wall);
            }
            all.sort_by(f64::total_cmp);
            walls.sort_by(f64::total_cmp);
            let slow = all.iter().filter(|&&ms| ms > 1000.0).count();
            println!(
                "  {label:<40} retry {:>5} ms: per domain median {:>6.1} ms, p99 {:>7.1} ms, max {:>7.1} ms; {slow} of {} domains over 1 s; runs {:.0}–{:.0} ms; {dropped} datagrams dropped",
                retry.as_millis(),
                quantile(&all, 0.5),
                quantile(&all, 0.99),
                all[all.len() - 1],
                all.len(),
                walls[0],
                walls[walls.len() - 1],
            );
        }

        let mut walls = Vec::new();
        for _ in 0..20 {
            let (_, wall) =
                probe_all(dns.addr, fleet.port, &ca_file, DEFAULT_DNS_RETRY_INTERVAL).await;
            walls.push(wall);
        }
        walls.sort_by(f64::total_cmp);
        println!(
            "20 runs of {DOMAINS} domains, no relay: median {:.0} ms, slowest {:.0} ms ({:.2}× the median)",
            quantile(&walls, 0.5),
            walls[walls.len() - 1],
            walls[walls.len() - 1] / quantile(&walls, 0.5)
        );
    });
}
