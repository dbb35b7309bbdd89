//! When the legacy (OpenSSL) fallback runs and when it must not, and what deep mode adds, seen
//! from the scripted fake servers: how many sessions each server got, and what the result says.
//! Real legacy servers (TLS 1.0/1.1, RSA key exchange) are in `tests/postfix.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::{
    Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header, unique_loopback_ips,
};

const DEADLINE: Duration = Duration::from_secs(3);

struct Fakes {
    fleet: SmtpFleet,
    dns: TestDns,
    ca_file: std::path::PathBuf,
    /// `(label, ip)` in the order given.
    servers: Vec<(&'static str, IpAddr)>,
    _dir: tempfile::TempDir,
}

impl Fakes {
    /// One domain `<label>.test` with MX `mx.<label>.test` per scenario.
    async fn start(pki: &TestPki, scenarios: Vec<(&'static str, Scenario)>) -> Fakes {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = pki.write_ca_file(dir.path());
        let ips = unique_loopback_ips(scenarios.len());
        let mut zone = soa_header("test");
        let mut servers = Vec::new();
        let mut fleet = Vec::new();
        for ((label, scenario), ip) in scenarios.into_iter().zip(ips) {
            zone.push_str(&format!(
                "{label} IN MX 10 mx.{label}\nmx.{label} IN A {ip}\n"
            ));
            servers.push((label, ip));
            fleet.push((ip, scenario));
        }
        Fakes {
            fleet: SmtpFleet::start(fleet).await,
            dns: TestDns::start(&[("test.", zone.as_str())]).await,
            ca_file,
            servers,
            _dir: dir,
        }
    }

    async fn probe(&self, label: &str, deep: bool) -> Value {
        let mut config = ProbeConfig {
            dns: DnsServer::Custom(self.dns.addr),
            smtp_port: self.fleet.port,
            connect_timeout: DEADLINE,
            greeting_timeout: DEADLINE,
            command_timeout: DEADLINE,
            tls_timeout: DEADLINE,
            ehlo_name: "probe.starttls-monitor.test".to_string(),
            deep,
            ..ProbeConfig::default()
        };
        config.load_ca_file(&self.ca_file).expect("test CA loads");
        let prober = Prober::new(config).expect("prober");
        let domain = DomainName::parse(&format!("{label}.test")).expect("valid");
        serde_json::to_value(prober.probe_domain(&domain).await).expect("serializes")
    }

    fn connections(&self, label: &str) -> usize {
        let (_, ip) = self
            .servers
            .iter()
            .find(|(name, _)| *name == label)
            .expect("known label");
        self.fleet.server(*ip).connections.load(Ordering::SeqCst)
    }
}

fn good(pki: &TestPki, label: &str, versions: TlsVersions) -> Scenario {
    let name = format!("mx.{label}.test");
    Scenario::Good {
        cert: pki.leaf(&[name.as_str()], Validity::Current),
        versions,
    }
}

fn address(json: &Value) -> &Value {
    &json["mx"][0]["addresses"][0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_or_a_closed_connection_gets_no_second_session() {
    let fakes = Fakes::start(
        &TestPki::new(),
        vec![
            ("garbage", Scenario::HandshakeGarbage),
            ("closed", Scenario::CloseAfter220),
        ],
    )
    .await;
    for label in ["garbage", "closed"] {
        let json = fakes.probe(label, false).await;
        let address = address(&json);
        assert_eq!(json["verdict"], "tls_failed", "{label}: {json}");
        assert_eq!(address["reason"], "handshake_failed", "{label}");
        let detail = address["detail"].as_str().unwrap_or("");
        assert!(!detail.contains("legacy"), "{label}: {detail}");
        assert_eq!(fakes.connections(label), 1, "{label}: one session only");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_failure_alert_gets_the_fallback_and_both_reasons() {
    let fakes = Fakes::start(&TestPki::new(), vec![("alert", Scenario::HandshakeAlert)]).await;
    let json = fakes.probe("alert", false).await;
    let address = address(&json);
    assert_eq!(json["verdict"], "tls_failed", "{json}");
    assert_eq!(address["reason"], "handshake_failed");
    assert_eq!(address["tls_version"], Value::Null);
    assert_eq!(address["legacy_tls"], Value::Null);
    let detail = address["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("HandshakeFailure") && detail.contains("legacy fallback"),
        "both reasons: {detail}"
    );
    assert!(detail.contains("handshake failure"), "OpenSSL's: {detail}");
    assert_eq!(fakes.connections("alert"), 2, "rustls, then OpenSSL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_mode_adds_one_session_per_tls_address_and_says_what_the_server_chose() {
    let pki = TestPki::new();
    let fakes = Fakes::start(
        &pki,
        vec![
            ("modern", good(&pki, "modern", TlsVersions::Any)),
            ("only13", good(&pki, "only13", TlsVersions::Tls13Only)),
            ("plain", Scenario::NoStarttls),
        ],
    )
    .await;

    // Without deep mode: null, one session.
    let json = fakes.probe("modern", false).await;
    assert_eq!(address(&json)["prefers_non_pfs"], Value::Null);
    assert_eq!(fakes.connections("modern"), 1);

    // rustls servers have no RSA key exchange: offered it first, they still pick ECDHE.
    let json = fakes.probe("modern", true).await;
    let modern = address(&json);
    assert_eq!(modern["prefers_non_pfs"], false, "{modern}");
    assert_eq!(
        modern["legacy_tls"], false,
        "the verdict session is still rustls'"
    );
    assert_eq!(modern["tls_version"], "TLSv1.3");
    assert!(
        modern["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("deep: ") && detail.contains("ECDHE")),
        "{modern}"
    );
    assert_eq!(fakes.connections("modern"), 3, "one more session");

    // TLS 1.3 only: refuses the TLS 1.0-1.2 offer, so it never picks RSA key exchange.
    let json = fakes.probe("only13", true).await;
    assert_eq!(address(&json)["prefers_non_pfs"], false, "{json}");
    assert_eq!(json["verdict"], "tls_ok");
    assert_eq!(fakes.connections("only13"), 2);

    // No TLS, no deep session.
    let json = fakes.probe("plain", true).await;
    assert_eq!(json["verdict"], "no_starttls");
    assert_eq!(address(&json)["prefers_non_pfs"], Value::Null);
    assert_eq!(fakes.connections("plain"), 1);
}
