//! Authenticated transport through stored scans, end to end on loopback: a DNSSEC-signed test
//! zone (hickory-server, its key as `--trust-anchor`) whose TLSA record matches the MX host's
//! certificate at the first scan and is left behind when the certificate is renewed (a new key)
//! before the second. Checks the `dane_failed` regression event, the scan summary, the trends
//! counts and the CSV columns, as the `scan`, `events`, `trends` and `export` commands give them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::path::Path;
use std::time::Duration;

use ring::digest;
use serde_json::Value;
use support::signed_zone;
use support::{
    Scenario, SmtpFleet, TestCert, TestDns, TestPki, TlsVersions, Validity, soa_header,
    unique_loopback_ips,
};
use x509_parser::prelude::{FromDer, X509Certificate};

const MONTH: Duration = Duration::from_secs(30 * 24 * 3600);

/// `3 1 1 <sha256 of the leaf's SubjectPublicKeyInfo>`.
fn ee_311(cert: &TestCert) -> String {
    let (_, parsed) = X509Certificate::from_der(cert.chain_der[0].as_ref()).unwrap();
    let hex: String = digest::digest(&digest::SHA256, parsed.public_key().raw)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("3 1 1 {hex}")
}

fn good(cert: TestCert) -> Scenario {
    Scenario::Good {
        cert,
        versions: TlsVersions::Any,
    }
}

/// Runs the binary on `db` with `args`, the test resolver, SMTP port and trust anchor.
async fn run(
    db: &Path,
    dns: std::net::SocketAddr,
    smtp_port: u16,
    anchors: &Path,
    args: &[&str],
) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command
        .arg("--db")
        .arg(db)
        .args(args)
        .args(["--dns", &dns.to_string()])
        .args(["--smtp-port", &smtp_port.to_string()])
        .arg("--trust-anchor")
        .arg(anchors);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    output
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tlsa_record_left_behind_by_a_renewal_raises_dane_failed_at_the_next_scan() {
    let ip = unique_loopback_ips(1)[0];
    let _pki = TestPki::new();
    let before = TestPki::self_signed(&["mx.renew.dane.test"], Validity::Current);
    let renewed = TestPki::self_signed(&["mx.renew.dane.test"], Validity::Current);
    let mut zone_text = soa_header("dane.test");
    zone_text.push_str(&format!(
        "renew IN MX 10 mx.renew\nmx.renew IN A {ip}\n_25._tcp.mx.renew IN TLSA {}\n",
        ee_311(&before)
    ));
    let zone = signed_zone::signed("dane.test.", &zone_text, MONTH);
    let dir = tempfile::tempdir().unwrap();
    let anchors = dir.path().join("anchors.txt");
    std::fs::write(&anchors, &zone.anchor).unwrap();
    let dns = TestDns::start_delegating(vec![(zone.origin, zone.handler)], Vec::new()).await;
    // The same address before and after the renewal: two servers on two ports.
    let old_fleet = SmtpFleet::start(vec![(ip, good(before))]).await;
    let new_fleet = SmtpFleet::start(vec![(ip, good(renewed))]).await;
    let db = dir.path().join("monitor.sqlite3");

    run(
        &db,
        dns.addr,
        old_fleet.port,
        &anchors,
        &["domains", "add", "renew.dane.test"],
    )
    .await;
    let first = run(&db, dns.addr, old_fleet.port, &anchors, &["scan"]).await;
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains("of 1 with DANE/MTA-STS facts: authenticated 100.0%, at risk 0.0%"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("dane_"),
        "a first result is a baseline: {stdout}"
    );

    let second = run(&db, dns.addr, new_fleet.port, &anchors, &["scan"]).await;
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("authenticated 0.0%, at risk 100.0%"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "renew.dane.test dane_failed: DANE failed on mx.renew.dane.test (failed) (was valid)"
        ),
        "{stdout}"
    );

    let events = run(
        &db,
        dns.addr,
        new_fleet.port,
        &anchors,
        &["events", "--regressions", "--json"],
    )
    .await;
    // One JSON object per line.
    let events: Vec<Value> = String::from_utf8_lossy(&events.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|event| event["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["dane_failed"], "{events:?}");
    assert_eq!(events[0]["regression"], true);

    let trends = run(
        &db,
        dns.addr,
        new_fleet.port,
        &anchors,
        &["trends", "--json"],
    )
    .await;
    let trends: Value = serde_json::from_slice(&trends.stdout).unwrap();
    let today = trends.as_array().unwrap().last().unwrap();
    assert_eq!(
        support::contract::missing_trend_fields(today),
        Vec::<String>::new()
    );
    let domains = &today["domains"];
    assert_eq!(
        (
            &domains["auth_testable"],
            &domains["dane_valid"],
            &domains["dane_known"],
            &domains["authenticated"],
            &domains["at_risk"]
        ),
        (
            &Value::from(1),
            &Value::from(0),
            &Value::from(1),
            &Value::from(0),
            &Value::from(1)
        ),
        "{today}"
    );
    assert_eq!(today["mx_hosts"]["at_risk"], 1, "{today}");
    let table = run(&db, dns.addr, new_fleet.port, &anchors, &["trends"]).await;
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("authenticated transport"), "{table}");

    let csv = run(
        &db,
        dns.addr,
        new_fleet.port,
        &anchors,
        &["export", "--format", "csv", "-o", "-"],
    )
    .await;
    let csv = String::from_utf8_lossy(&csv.stdout);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|column| *column == name).unwrap()];
    assert_eq!(cell("dnssec"), "secure", "{csv}");
    assert_eq!(cell("dane"), "failed", "{csv}");
    assert_eq!(cell("authenticated"), "false", "{csv}");
    assert_eq!(cell("at_risk"), "true", "{csv}");
}
