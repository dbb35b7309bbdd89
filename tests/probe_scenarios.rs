//! The probe engine against a loopback internet of scenarios (see `world`): every verdict in
//! the table, politeness (one connection per IP, shared MX hosts probed once), and the commands
//! a server ever sees.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;
mod world;

use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use world::{DEADLINE, World};

fn config_for(world: &World) -> ProbeConfig {
    let mut config = ProbeConfig {
        dns: DnsServer::Custom(world.dns.addr),
        smtp_port: world.fleet.port,
        connect_timeout: DEADLINE,
        greeting_timeout: DEADLINE,
        command_timeout: DEADLINE,
        tls_timeout: DEADLINE,
        ehlo_name: "probe.starttls-monitor.test".to_string(),
        ..ProbeConfig::default()
    };
    config.load_ca_file(&world.ca_file).expect("test CA loads");
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_gets_its_true_verdict() {
    let world = World::build().await;
    let prober = Prober::new(config_for(&world)).expect("prober");
    let domains: Vec<DomainName> = world
        .domains()
        .iter()
        .map(|domain| DomainName::parse(domain).expect("valid test domain"))
        .collect();
    let mut results = Vec::new();
    prober
        .start_run()
        .probe_many(domains, |_, result| {
            results.push(serde_json::to_value(&result).expect("serializes"));
        })
        .await;
    let failures = world.check_all(&results);
    assert!(
        failures.is_empty(),
        "{} scenario check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Politeness: the probe only ever says EHLO, STARTTLS, EHLO, QUIT.
    for command in world.all_commands() {
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        assert!(
            matches!(verb.as_str(), "EHLO" | "STARTTLS" | "QUIT"),
            "the probe sent {command:?}"
        );
    }
    // Eight domains share mx.shared.test: probed once. Four more MX names point at the same IP:
    // one session each, never two at once.
    let shared = world.fleet.server(world.shared_ip);
    assert_eq!(
        shared.connections.load(std::sync::atomic::Ordering::SeqCst),
        5,
        "one session for mx.shared.test and one per other MX name"
    );
    assert_eq!(
        shared
            .max_concurrent
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "at most one connection at a time per IP"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_server_that_does_not_answer_makes_domains_untestable() {
    // A UDP socket that never answers, and no TCP listener on its port.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let config = ProbeConfig {
        dns: DnsServer::Custom(silent.local_addr().expect("addr")),
        dns_timeout: std::time::Duration::from_millis(500),
        ..ProbeConfig::default()
    };
    let prober = Prober::new(config).expect("prober");
    let domain = DomainName::parse("example.test").expect("valid");
    let result = prober.probe_domain(&domain).await;
    let json: Value = serde_json::to_value(&result).expect("serializes");
    assert_eq!(json["verdict"], "untestable");
    assert_eq!(json["dns_error"], "timeout");
    assert_eq!(json["starttls"], Value::Null);
}
