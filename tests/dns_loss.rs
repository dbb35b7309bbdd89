//! A lost DNS datagram costs the retry interval, not the lookup timeout: through a relay that
//! drops the first four copies of every query (more than hickory's own UDP retransmissions
//! within one attempt), each lookup tries again and every domain still gets its verdict, long
//! before a single lookup timeout (30 s here) could have passed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::time::Duration;

use starttls_monitor::model::{DomainName, Verdict};
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::{
    Loss, LossyDns, Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lookup_resends_a_lost_query_within_the_retry_interval() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = pki.write_ca_file(dir.path());
    let ips = support::unique_loopback_ips(3);
    let mut zone = soa_header("loss");
    let mut servers = Vec::new();
    for (index, ip) in ips.iter().enumerate() {
        zone.push_str(&format!(
            "mx{index} IN A {ip}\nd{index} IN MX 10 mx{index}\n"
        ));
        servers.push((
            *ip,
            Scenario::Good {
                cert: pki.leaf(&[&format!("mx{index}.loss")], Validity::Current),
                versions: TlsVersions::Any,
            },
        ));
    }
    let fleet = SmtpFleet::start(servers).await;
    let dns = TestDns::start(&[("loss.", zone.as_str())]).await;
    let relay = LossyDns::start_with(dns.addr, Loss::FirstCopies(4)).await;
    let mut config = ProbeConfig::builder()
        .dns(DnsServer::Custom(relay.addr))
        .dns_timeout(Duration::from_secs(30))
        .smtp_port(fleet.port)
        .build()
        .unwrap();
    config.load_ca_file(&ca_file).unwrap();
    let prober = Prober::new(config).unwrap();
    let names: Vec<DomainName> = (0..3)
        .map(|index| DomainName::parse(&format!("d{index}.loss")).unwrap())
        .collect();
    let mut verdicts = Vec::new();
    // Each lookup loses its first four queries: with the old shape (one attempt per lookup
    // timeout, hickory resending three times within it) a lookup would wait the whole 30 s; the
    // bound leaves a wide margin over the ~2 s the retry interval gives, so a loaded machine
    // does not make it fail.
    tokio::time::timeout(
        Duration::from_secs(15),
        prober.start_run().probe_many(names, |_, result| {
            verdicts.push((result.domain.to_string(), result.verdict));
        }),
    )
    .await
    .expect("every lookup resent its lost query long before the lookup timeout");
    verdicts.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        verdicts,
        (0..3)
            .map(|index| (format!("d{index}.loss"), Verdict::TlsOk))
            .collect::<Vec<_>>()
    );
    // MX, A and AAAA of three domains at least, each lost four times and sent again.
    assert!(relay.dropped() >= 36, "dropped {}", relay.dropped());
    assert!(
        relay.relayed() >= 9,
        "every lost query got through in the end"
    );
}
