//! DANE for SMTP and DNSSEC status, end to end on loopback: a DNSSEC-signed test zone served by
//! hickory-server (its key given as `--trust-anchor`), an unsigned zone beside it, fake SMTP
//! servers presenting chosen certificates, and the probe's JSON checked field by field — and the
//! opportunistic verdicts (STARTTLS, PFS, strict) checked unchanged by DNSSEC in every case.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use hickory_server::proto::rr::Name;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use ring::digest;
use rustls::pki_types::CertificateDer;
use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::model::auth::DnssecStatus;
use starttls_monitor::probe::config::TrustAnchorFile;
use starttls_monitor::probe::dns::{DnssecData, ValidatingDns};
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::dns::DelegatingDns;
use support::signed_zone::{self, TestZone};
use support::{
    Scenario, SmtpFleet, TestCert, TestDns, TestPki, TlsVersions, Validity, soa_header,
    unique_loopback_ips,
};
use x509_parser::prelude::{FromDer, X509Certificate};

const DEADLINE: Duration = Duration::from_secs(3);
const MONTH: Duration = Duration::from_secs(30 * 24 * 3600);

fn sha256_hex(bytes: &[u8]) -> String {
    digest::digest(&digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `3 1 1 <sha256 of the leaf's SubjectPublicKeyInfo>`.
fn ee_311(cert: &TestCert) -> String {
    let (_, parsed) = X509Certificate::from_der(cert.chain_der[0].as_ref()).unwrap();
    format!("3 1 1 {}", sha256_hex(parsed.public_key().raw))
}

/// `2 0 1 <sha256 of the whole certificate>`.
fn ta_201(certificate: &CertificateDer<'_>) -> String {
    format!("2 0 1 {}", sha256_hex(certificate.as_ref()))
}

fn good(cert: TestCert) -> Scenario {
    Scenario::Good {
        cert,
        versions: TlsVersions::Any,
    }
}

/// One loopback internet: zones, their anchors, the SMTP fleet.
struct World {
    dns: DelegatingDns,
    fleet: SmtpFleet,
    anchor_file: PathBuf,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl World {
    /// Serves `zones` (the anchors of the signed ones go into one trust-anchor file) and one
    /// SMTP server per `(ip, scenario)`.
    async fn start(
        pki: &TestPki,
        zones: Vec<TestZone>,
        children: Vec<TestZone>,
        anchors: &str,
        servers: Vec<(IpAddr, Scenario)>,
    ) -> World {
        let dir = tempfile::tempdir().unwrap();
        let anchor_file = dir.path().join("anchors.txt");
        std::fs::write(&anchor_file, anchors).unwrap();
        let ca_file = pki.write_ca_file(dir.path());
        let handlers = |zones: Vec<TestZone>| -> Vec<(Name, InMemoryZoneHandler)> {
            zones
                .into_iter()
                .map(|zone| (zone.origin, zone.handler))
                .collect()
        };
        World {
            dns: TestDns::start_delegating(handlers(zones), handlers(children)).await,
            fleet: SmtpFleet::start(servers).await,
            anchor_file,
            ca_file,
            _dir: dir,
        }
    }

    fn config(&self, with_ca: bool) -> ProbeConfig {
        let mut config = ProbeConfig {
            dns: DnsServer::Custom(self.dns.addr),
            smtp_port: self.fleet.port,
            connect_timeout: DEADLINE,
            greeting_timeout: DEADLINE,
            command_timeout: DEADLINE,
            tls_timeout: DEADLINE,
            dns_timeout: DEADLINE,
            ehlo_name: "probe.starttls-monitor.test".to_string(),
            trust_anchor: Some(TrustAnchorFile::load(&self.anchor_file).unwrap()),
            ..ProbeConfig::default()
        };
        if with_ca {
            config.load_ca_file(&self.ca_file).unwrap();
        }
        config
    }

    async fn probe(&self, domain: &str, with_ca: bool) -> Value {
        let prober = Prober::new(self.config(with_ca)).unwrap();
        let domain = DomainName::parse(domain).unwrap();
        serde_json::to_value(prober.probe_domain(&domain).await).unwrap()
    }
}

fn host<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["mx"]
        .as_array()
        .unwrap()
        .iter()
        .find(|host| host["host"] == name)
        .unwrap_or_else(|| panic!("no MX host {name} in {json}"))
}

/// The main signed zone `dane.test.` and its cases, one domain each.
struct Cases {
    pki: TestPki,
    zone_text: String,
    servers: Vec<(IpAddr, Scenario)>,
    ips: Vec<IpAddr>,
}

impl Cases {
    fn new(count: usize) -> Cases {
        Cases {
            pki: TestPki::new(),
            zone_text: soa_header("dane.test"),
            servers: Vec::new(),
            ips: unique_loopback_ips(count),
        }
    }

    /// `<label>.dane.test MX 10 mx.<label>.dane.test`, the host on a new IP playing `scenario`,
    /// with these TLSA records at `_25._tcp.mx.<label>.dane.test`.
    fn mx(&mut self, label: &str, scenario: Scenario, tlsa: &[String]) -> IpAddr {
        let ip = self.ips.pop().expect("enough IPs");
        self.zone_text.push_str(&format!(
            "{label} IN MX 10 mx.{label}\nmx.{label} IN A {ip}\n"
        ));
        for record in tlsa {
            self.zone_text
                .push_str(&format!("_25._tcp.mx.{label} IN TLSA {record}\n"));
        }
        self.servers.push((ip, scenario));
        ip
    }

    fn line(&mut self, text: &str) {
        self.zone_text.push_str(text);
        self.zone_text.push('\n');
    }

    fn server(&mut self, scenario: Scenario) -> IpAddr {
        let ip = self.ips.pop().expect("enough IPs");
        self.servers.push((ip, scenario));
        ip
    }
}

fn self_signed(name: &str) -> TestCert {
    TestPki::self_signed(&[name], Validity::Current)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dane_ee_ta_mismatch_rollover_and_failures_in_a_signed_zone() {
    let mut cases = Cases::new(12);
    // DANE-EE on a self-signed certificate.
    let ee_cert = self_signed("mx.ee.dane.test");
    let ee_record = ee_311(&ee_cert);
    cases.mx(
        "ee",
        good(ee_cert.clone()),
        std::slice::from_ref(&ee_record),
    );
    // DANE-TA: a CA the prober does not trust (no --ca-file), sent in the chain.
    let ta_cert = cases.pki.leaf(&["mx.ta.dane.test"], Validity::Current);
    let ta_record = ta_201(&ta_cert.chain_der[1]);
    cases.mx("ta", good(ta_cert), std::slice::from_ref(&ta_record));
    // A WebPKI-valid (with --ca-file) certificate that no TLSA record matches.
    let valid_cert = cases
        .pki
        .leaf(&["mx.mismatch.dane.test"], Validity::Current);
    cases.mx(
        "mismatch",
        good(valid_cert),
        &[ee_311(&self_signed("someone.else"))],
    );
    // Rollover: the next key's record first, then the current one.
    let current = self_signed("mx.rollover.dane.test");
    let rollover_records = [ee_311(&self_signed("next.key")), ee_311(&current)];
    cases.mx("rollover", good(current), &rollover_records);
    // TLSA published, no STARTTLS.
    cases.mx(
        "nostarttls",
        Scenario::NoStarttls,
        std::slice::from_ref(&ee_record),
    );
    // DANE-TA whose leaf names another host.
    let wrong_name = cases.pki.leaf(&["other.dane.test"], Validity::Current);
    let ta_name_record = ta_201(&wrong_name.chain_der[1]);
    cases.mx("taname", good(wrong_name), &[ta_name_record]);
    // Signed, no TLSA.
    cases.mx("notlsa", good(self_signed("mx.notlsa.dane.test")), &[]);
    // Only PKIX usages: unusable for SMTP.
    let pkix_cert = self_signed("mx.pkix.dane.test");
    let pkix_record = ee_311(&pkix_cert).replacen("3 1 1", "1 1 1", 1);
    cases.mx("pkix", good(pkix_cert), &[pkix_record]);
    let pki_ca = cases.pki.ca_der();

    let zone = signed_zone::signed("dane.test.", &cases.zone_text, MONTH);
    let anchors = zone.anchor.clone();
    let world = World::start(
        &cases.pki,
        vec![zone],
        Vec::new(),
        &anchors,
        cases.servers.clone(),
    )
    .await;

    // DANE-EE valid on a self-signed certificate; the opportunistic verdict is unchanged.
    let json = world.probe("ee.dane.test", false).await;
    assert_eq!(json["verdict"], "tls_ok", "{json}");
    assert_eq!(json["starttls"], true);
    assert_eq!(json["strict_valid"], false, "self-signed stays not strict");
    assert_eq!(json["dnssec"], "secure");
    assert_eq!(json["dane"], "valid");
    assert_eq!(json["dane_warnings"], serde_json::json!([]));
    assert_eq!(
        json["sender"],
        serde_json::json!({"dane": "authenticated", "mta_sts": "opportunistic", "authenticated": true, "at_risk": false}),
        "{json}"
    );
    assert_eq!(
        support::contract::missing_fields(&json),
        Vec::<String>::new()
    );
    let mx = host(&json, "mx.ee.dane.test");
    assert_eq!(mx["dnssec"], "secure");
    assert_eq!(mx["tlsa_dnssec"], "secure");
    assert_eq!(mx["tlsa"], serde_json::json!([ee_record]));
    assert_eq!(mx["dane"], "valid");
    assert_eq!(mx["dane_warnings"], serde_json::json!(["no_rollover_key"]));
    assert_eq!(mx["addresses"][0]["dane"], "valid");
    assert_eq!(mx["addresses"][0]["dane_matched"], ee_record.as_str());

    // DANE-TA valid although WebPKI does not know the CA.
    let json = world.probe("ta.dane.test", false).await;
    assert_eq!(json["strict_valid"], false, "{json}");
    assert_eq!(json["dane"], "valid", "{json}");
    let mx = host(&json, "mx.ta.dane.test");
    assert_eq!(mx["addresses"][0]["dane_matched"], ta_record.as_str());
    assert_eq!(
        mx["dane_warnings"],
        serde_json::json!([]),
        "a root, no rollover warning for TA"
    );
    assert_eq!(ta_record, ta_201(&pki_ca));

    // A WebPKI-valid certificate does not save a TLSA mismatch: DANE senders defer.
    let json = world.probe("mismatch.dane.test", true).await;
    assert_eq!(json["strict_valid"], true, "{json}");
    assert_eq!(json["verdict"], "tls_ok");
    assert_eq!(json["dane"], "failed");
    assert_eq!(
        json["sender"],
        serde_json::json!({"dane": "defers", "mta_sts": "opportunistic", "authenticated": false, "at_risk": true}),
        "{json}"
    );
    let address = &host(&json, "mx.mismatch.dane.test")["addresses"][0];
    assert_eq!(address["dane"], "failed");
    assert_eq!(address["dane_matched"], Value::Null);
    assert!(
        address["detail"].as_str().unwrap().contains("DANE failed"),
        "{address}"
    );

    // Two records: the current one matches; a rollover record is there, so no warning.
    let json = world.probe("rollover.dane.test", false).await;
    assert_eq!(json["dane"], "valid", "{json}");
    let mx = host(&json, "mx.rollover.dane.test");
    assert_eq!(mx["tlsa"].as_array().unwrap().len(), 2);
    assert_eq!(
        mx["addresses"][0]["dane_matched"],
        rollover_records[1].as_str()
    );
    assert_eq!(mx["dane_warnings"], serde_json::json!([]));

    // TLSA and no STARTTLS: failed (a DANE sender will not send in plaintext).
    let json = world.probe("nostarttls.dane.test", false).await;
    assert_eq!(json["verdict"], "no_starttls", "{json}");
    assert_eq!(json["dane"], "failed");
    assert_eq!(
        host(&json, "mx.nostarttls.dane.test")["addresses"][0]["dane"],
        "failed"
    );

    // DANE-TA: the chain matches, but the leaf is for another name.
    let json = world.probe("taname.dane.test", false).await;
    assert_eq!(json["dane"], "failed", "{json}");
    let detail = host(&json, "mx.taname.dane.test")["addresses"][0]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("do not match"), "{detail}");

    // Signed zone, no TLSA: looked up, proven absent, DANE does not apply.
    let json = world.probe("notlsa.dane.test", false).await;
    assert_eq!(json["dane"], "none", "{json}");
    let mx = host(&json, "mx.notlsa.dane.test");
    assert_eq!(mx["tlsa"], serde_json::json!([]));
    assert_eq!(mx["tlsa_dnssec"], "secure");
    assert_eq!(mx["addresses"][0]["dane"], "none");

    // PKIX-EE only: unusable (TLS mandatory, not authenticated).
    let json = world.probe("pkix.dane.test", false).await;
    assert_eq!(json["dane"], "unusable", "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_addresses_and_hosts_fold_and_implicit_and_cnamed_hosts_get_their_tlsa() {
    let mut cases = Cases::new(8);
    let good_cert = self_signed("mx.multi.dane.test");
    let good_record = ee_311(&good_cert);
    // One MX host, two addresses: one presents the matching key, the other another one.
    let good_ip = cases.server(good(good_cert.clone()));
    let bad_ip = cases.server(good(self_signed("mx.multi.dane.test")));
    cases.line(&format!(
        "multi IN MX 10 mx.multi\nmx.multi IN A {good_ip}\nmx.multi IN A {bad_ip}\n\
         _25._tcp.mx.multi IN TLSA {good_record}"
    ));
    // Two MX hosts: one valid, one failing.
    let one_cert = self_signed("mx1.two.dane.test");
    let one_record = ee_311(&one_cert);
    let one_ip = cases.server(good(one_cert));
    let two_ip = cases.server(good(self_signed("mx2.two.dane.test")));
    cases.line(&format!(
        "two IN MX 10 mx1.two\ntwo IN MX 20 mx2.two\nmx1.two IN A {one_ip}\nmx2.two IN A {two_ip}\n\
         _25._tcp.mx1.two IN TLSA {one_record}\n_25._tcp.mx2.two IN TLSA {one_record}"
    ));
    // No MX (securely denied): TLSA at the domain itself.
    let implicit_cert = self_signed("implicit.dane.test");
    let implicit_record = ee_311(&implicit_cert);
    let implicit_ip = cases.server(good(implicit_cert));
    cases.line(&format!(
        "implicit IN A {implicit_ip}\n_25._tcp.implicit IN TLSA {implicit_record}"
    ));
    // A CNAME'd MX host: TLSA at the expanded name first (RFC 7672 §2.2.2).
    let cname_cert = self_signed("real.cname.dane.test");
    let cname_record = ee_311(&cname_cert);
    let cname_ip = cases.server(good(cname_cert));
    cases.line(&format!(
        "cname IN MX 10 mx.cname\nmx.cname IN CNAME real.cname\nreal.cname IN A {cname_ip}\n\
         _25._tcp.real.cname IN TLSA {cname_record}\n\
         _25._tcp.mx.cname IN TLSA {}",
        ee_311(&self_signed("not.this.one"))
    ));

    let zone = signed_zone::signed("dane.test.", &cases.zone_text, MONTH);
    let anchors = zone.anchor.clone();
    let world = World::start(
        &cases.pki,
        vec![zone],
        Vec::new(),
        &anchors,
        cases.servers.clone(),
    )
    .await;

    let json = world.probe("multi.dane.test", false).await;
    let mx = host(&json, "mx.multi.dane.test");
    let by_ip = |ip: IpAddr| {
        mx["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|address| address["ip"] == ip.to_string())
            .unwrap()
            .clone()
    };
    assert_eq!(by_ip(good_ip)["dane"], "valid", "{json}");
    assert_eq!(by_ip(bad_ip)["dane"], "failed", "{json}");
    assert_eq!(
        mx["dane"], "failed",
        "a host is as good as its worst address"
    );
    assert_eq!(json["dane"], "failed");
    assert_eq!(json["starttls"], true);

    let json = world.probe("two.dane.test", false).await;
    assert_eq!(host(&json, "mx1.two.dane.test")["dane"], "valid", "{json}");
    assert_eq!(host(&json, "mx2.two.dane.test")["dane"], "failed", "{json}");
    assert_eq!(json["dane"], "failed");
    assert_eq!(
        json["sender"],
        serde_json::json!({"dane": "degraded", "mta_sts": "opportunistic", "authenticated": true, "at_risk": true}),
        "{json}"
    );

    let json = world.probe("implicit.dane.test", false).await;
    let mx = host(&json, "implicit.dane.test");
    assert_eq!(mx["implicit"], true, "{json}");
    assert_eq!(json["dnssec"], "secure", "the denied MX is proven absent");
    assert_eq!(mx["tlsa"], serde_json::json!([implicit_record]));
    assert_eq!(json["dane"], "valid");

    let json = world.probe("cname.dane.test", false).await;
    let mx = host(&json, "mx.cname.dane.test");
    assert_eq!(mx["cname_target"], "real.cname.dane.test", "{json}");
    assert_eq!(mx["tlsa"], serde_json::json!([cname_record]));
    assert_eq!(mx["dane"], "valid", "{json}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_zones_bogus_answers_and_proven_absence_are_told_apart() {
    let mut cases = Cases::new(6);
    let cert = self_signed("mx.plain.dane.test");
    let record = ee_311(&cert);
    let plain_ip = cases.server(good(cert));
    // An unsigned child zone, delegated from the signed one without a DS record.
    // Its `via` domain uses a DANE provider's MX host in the signed zone.
    let plain_text = format!(
        "{}@ IN MX 10 mx\nmx IN A {plain_ip}\n_25._tcp.mx IN TLSA {record}\n\
         via IN MX 10 mx.provider.dane.test.\n",
        soa_header("plain.dane.test")
    );
    let provider_cert = self_signed("mx.provider.dane.test");
    let provider_record = ee_311(&provider_cert);
    cases.mx(
        "provider",
        good(provider_cert),
        std::slice::from_ref(&provider_record),
    );
    cases.line("plain IN NS ns1.dane.test.");
    // MX RRset spoiled after signing: bogus. The plain lookup still finds the host.
    let bogus_cert = self_signed("mx.bogusmx.dane.test");
    let bogus_record = ee_311(&bogus_cert);
    cases.mx(
        "bogusmx",
        good(bogus_cert),
        std::slice::from_ref(&bogus_record),
    );
    // The host's A record spoiled: signed for another address, served with the real one.
    let ip = cases.server(good(self_signed("mx.bogusa.dane.test")));
    cases.line(&format!(
        "bogusa IN MX 10 mx.bogusa\nmx.bogusa IN A 127.254.254.254\n_25._tcp.mx.bogusa IN TLSA {bogus_record}"
    ));
    cases.mx("absent", good(self_signed("mx.absent.dane.test")), &[]);

    let mut zone = signed_zone::signed("dane.test.", &cases.zone_text, MONTH);
    zone.spoil(
        "bogusmx",
        hickory_server::proto::rr::RecordType::MX,
        "20 mx.bogusmx.dane.test.",
    );
    zone.spoil(
        "mx.bogusa",
        hickory_server::proto::rr::RecordType::A,
        &ip.to_string(),
    );
    let anchors = zone.anchor.clone();
    let plain = signed_zone::unsigned("plain.dane.test.", &plain_text);
    let world = World::start(
        &cases.pki,
        vec![zone],
        vec![plain],
        &anchors,
        cases.servers.clone(),
    )
    .await;

    // Unsigned MX zone with a TLSA record: not looked up, DANE does not apply.
    let json = world.probe("plain.dane.test", false).await;
    assert_eq!(json["verdict"], "tls_ok", "{json}");
    assert_eq!(json["dnssec"], "insecure");
    let mx = host(&json, "mx.plain.dane.test");
    assert_eq!(mx["dnssec"], "insecure");
    assert_eq!(mx["tlsa"], Value::Null, "not looked up");
    assert_eq!(mx["tlsa_dnssec"], Value::Null);
    assert_eq!(mx["addresses"][0]["dane"], "none");
    assert_eq!(json["dane"], "none");
    assert_eq!(
        json["sender"],
        serde_json::json!({"dane": "opportunistic", "mta_sts": "opportunistic", "authenticated": false, "at_risk": false}),
        "{json}"
    );

    // One MX host with a valid TLSA RRset, used by a signed and an unsigned domain in one run:
    // DANE reaches it only from the domain whose MX answer is secure.
    let prober = Prober::new(world.config(false)).unwrap();
    let mut by_domain = std::collections::HashMap::new();
    prober
        .start_run()
        .probe_many(
            vec![
                DomainName::parse("provider.dane.test").unwrap(),
                DomainName::parse("via.plain.dane.test").unwrap(),
            ],
            |_, result| {
                by_domain.insert(
                    result.domain.as_str().to_string(),
                    serde_json::to_value(&result).unwrap(),
                );
            },
        )
        .await;
    let signed_view = &by_domain["provider.dane.test"];
    assert_eq!(signed_view["dane"], "valid", "{signed_view}");
    let unsigned_view = &by_domain["via.plain.dane.test"];
    assert_eq!(unsigned_view["dnssec"], "insecure", "{unsigned_view}");
    let shared = host(unsigned_view, "mx.provider.dane.test");
    assert_eq!(shared["dnssec"], "secure", "the host itself is signed");
    assert_eq!(
        shared["tlsa"],
        Value::Null,
        "no DANE through an insecure MX answer"
    );
    assert_eq!(shared["addresses"][0]["dane"], "none");
    assert_eq!(unsigned_view["dane"], "none");

    // A bogus MX answer: DANE bogus, the opportunistic verdict unchanged.
    let json = world.probe("bogusmx.dane.test", false).await;
    assert_eq!(json["verdict"], "tls_ok", "{json}");
    assert_eq!(json["starttls"], true);
    assert_eq!(json["dnssec"], "bogus");
    assert_eq!(json["dane"], "bogus");
    assert_eq!(
        json["sender"],
        serde_json::json!({"dane": "defers", "mta_sts": "opportunistic", "authenticated": false, "at_risk": true}),
        "{json}"
    );
    let mx = host(&json, "mx.bogusmx.dane.test");
    assert_eq!(mx["preference"], 20, "the plain lookup's answer");
    assert_eq!(mx["addresses"][0]["dane"], "bogus");

    // A bogus address answer: the host is bogus.
    let json = world.probe("bogusa.dane.test", false).await;
    assert_eq!(json["verdict"], "tls_ok", "{json}");
    assert_eq!(json["dnssec"], "secure");
    let mx = host(&json, "mx.bogusa.dane.test");
    assert_eq!(mx["dnssec"], "bogus", "{json}");
    assert_eq!(mx["tlsa"], Value::Null);
    assert_eq!(mx["dane"], "bogus");
    assert_eq!(json["dane"], "bogus");

    // The validating resolver itself: "TLSA proven absent" is secure and empty; an unsigned
    // zone's answer is insecure, with or without records.
    let config = world.config(false);
    let validating =
        ValidatingDns::new(&config.dns, DEADLINE, config.trust_anchor.as_ref()).unwrap();
    let absent = validating.tlsa("mx.absent.dane.test").await;
    assert_eq!(absent.status, DnssecStatus::Secure, "{absent:?}");
    assert!(absent.records.is_empty());
    let unsigned_absent = validating.tlsa("nothing.plain.dane.test").await;
    assert_eq!(
        unsigned_absent.status,
        DnssecStatus::Insecure,
        "{unsigned_absent:?}"
    );
    assert!(unsigned_absent.records.is_empty());
    let unsigned_present = validating.tlsa("mx.plain.dane.test").await;
    assert_eq!(unsigned_present.status, DnssecStatus::Insecure);
    assert_eq!(unsigned_present.records.len(), 1);
    assert_eq!(validating.passes_dnssec_data().await, DnssecData::Passes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_strips_dnssec_gives_unknown_and_one_warning_never_bogus() {
    let mut cases = Cases::new(2);
    let cert = self_signed("mx.ee.dane.test");
    let record = ee_311(&cert);
    cases.mx("ee", good(cert), &[record]);
    // The anchor of a signed copy, but the server serves the zone without DNSSEC data.
    let signed = signed_zone::signed("dane.test.", &cases.zone_text, MONTH);
    let stripped = signed_zone::unsigned("dane.test.", &cases.zone_text);
    let world = World::start(
        &cases.pki,
        vec![stripped],
        Vec::new(),
        &signed.anchor,
        cases.servers.clone(),
    )
    .await;

    let prober = Prober::new(world.config(false)).unwrap();
    let run = prober.start_run();
    assert!(
        !run.dnssec_data_missing(),
        "not known before the first lookup"
    );
    let mut results = Vec::new();
    run.probe_many(
        vec![DomainName::parse("ee.dane.test").unwrap()],
        |_, result| results.push(serde_json::to_value(&result).unwrap()),
    )
    .await;
    assert!(run.dnssec_data_missing());
    let json = &results[0];
    assert_eq!(json["verdict"], "tls_ok", "{json}");
    assert_eq!(json["starttls"], true);
    assert_eq!(json["dnssec"], Value::Null);
    assert_eq!(json["dane"], "unknown");
    let mx = host(json, "mx.ee.dane.test");
    assert_eq!(mx["dnssec"], Value::Null);
    assert_eq!(mx["tlsa"], Value::Null);
    assert_eq!(mx["dane"], "unknown");
    assert_eq!(mx["addresses"][0]["dane"], "unknown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolver_that_refuses_gives_no_dnssec_warning_and_no_bogus() {
    // REFUSED for everything: the failing-DNS warning's case, not a DNSSEC one.
    let refusing = support::FailingDns::refusing().await;
    let dir = tempfile::tempdir().unwrap();
    let anchor_file = dir.path().join("anchors.txt");
    let zone = signed_zone::signed("dane.test.", &soa_header("dane.test"), MONTH);
    std::fs::write(&anchor_file, &zone.anchor).unwrap();
    let config = ProbeConfig {
        dns: DnsServer::Custom(refusing.addr),
        dns_timeout: DEADLINE,
        trust_anchor: Some(TrustAnchorFile::load(&anchor_file).unwrap()),
        ..ProbeConfig::default()
    };
    let validating =
        ValidatingDns::new(&config.dns, DEADLINE, config.trust_anchor.as_ref()).unwrap();
    assert_eq!(validating.passes_dnssec_data().await, DnssecData::Failed);
    let prober = Prober::new(config).unwrap();
    let run = prober.start_run();
    let mut results = Vec::new();
    run.probe_many(
        vec![DomainName::parse("a.dane.test").unwrap()],
        |_, result| {
            results.push(serde_json::to_value(&result).unwrap());
        },
    )
    .await;
    assert!(
        !run.dnssec_data_missing(),
        "no DNSSEC warning for a refusing resolver"
    );
    assert_eq!(results[0]["verdict"], "untestable", "{}", results[0]);
    assert_eq!(results[0]["dnssec"], Value::Null);
    assert_eq!(results[0]["dane"], Value::Null, "never bogus");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_about_to_expire_are_warned_about() {
    let mut cases = Cases::new(2);
    let cert = self_signed("mx.soon.dane.test");
    let record = ee_311(&cert);
    cases.mx("soon", good(cert), &[record]);
    let zone = signed_zone::signed(
        "dane.test.",
        &cases.zone_text,
        Duration::from_secs(3 * 86400),
    );
    let anchors = zone.anchor.clone();
    let world = World::start(
        &cases.pki,
        vec![zone],
        Vec::new(),
        &anchors,
        cases.servers.clone(),
    )
    .await;
    let json = world.probe("soon.dane.test", false).await;
    assert_eq!(json["dane"], "valid", "{json}");
    assert_eq!(
        json["dane_warnings"],
        serde_json::json!(["mx_signature_expiring"])
    );
    let warnings = &host(&json, "mx.soon.dane.test")["dane_warnings"];
    assert!(
        warnings
            .as_array()
            .unwrap()
            .contains(&Value::from("tlsa_signature_expiring")),
        "{warnings}"
    );
}

/// A chain leaf → intermediate → root for `name` (all sent), and the intermediate.
fn chain_via_intermediate(name: &str) -> (TestCert, CertificateDer<'static>) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
        ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    };
    let ca = |common_name: &str| {
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
    };
    let root =
        CertifiedIssuer::self_signed(ca("DANE test root"), KeyPair::generate().unwrap()).unwrap();
    let intermediate = CertifiedIssuer::signed_by(
        ca("DANE test intermediate"),
        KeyPair::generate().unwrap(),
        &root,
    )
    .unwrap();
    let mut params = CertificateParams::new(vec![name.to_string()]).unwrap();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(90);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = params.signed_by(&leaf_key, &intermediate).unwrap();
    let cert = TestCert {
        chain_der: vec![
            leaf.der().clone(),
            intermediate.der().clone(),
            root.der().clone(),
        ],
        key_der: rustls::pki_types::PrivateKeyDer::from(leaf_key),
    };
    (cert, intermediate.der().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dane_ta_on_an_intermediate_is_warned_and_a_failed_handshake_fails_dane() {
    let mut cases = Cases::new(3);
    let (cert, intermediate) = chain_via_intermediate("mx.inter.dane.test");
    let pinned = ta_201(&intermediate);
    cases.mx("inter", good(cert), std::slice::from_ref(&pinned));
    let some_record = ee_311(&self_signed("mx.alert.dane.test"));
    cases.mx("alert", Scenario::HandshakeAlert, &[some_record]);
    let zone = signed_zone::signed("dane.test.", &cases.zone_text, MONTH);
    let anchors = zone.anchor.clone();
    let world = World::start(
        &cases.pki,
        vec![zone],
        Vec::new(),
        &anchors,
        cases.servers.clone(),
    )
    .await;

    let json = world.probe("inter.dane.test", false).await;
    assert_eq!(json["dane"], "valid", "{json}");
    let mx = host(&json, "mx.inter.dane.test");
    assert_eq!(mx["addresses"][0]["dane_matched"], pinned.as_str());
    assert_eq!(
        mx["dane_warnings"],
        serde_json::json!(["ta_pinned_to_intermediate"]),
        "{mx}"
    );

    // STARTTLS offered, the handshake fails (also for the legacy client): a DANE sender defers.
    let json = world.probe("alert.dane.test", false).await;
    assert_eq!(json["verdict"], "tls_failed", "{json}");
    assert_eq!(json["dane"], "failed");
    let address = &host(&json, "mx.alert.dane.test")["addresses"][0];
    assert!(
        address["detail"]
            .as_str()
            .unwrap()
            .contains("no TLS session was completed"),
        "{address}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untestable_address_has_no_dane() {
    let mut cases = Cases::new(2);
    let cert = self_signed("mx.down.dane.test");
    let record = ee_311(&cert);
    cases.mx("down", Scenario::Greeting421, &[record]);
    let zone = signed_zone::signed("dane.test.", &cases.zone_text, MONTH);
    let anchors = zone.anchor.clone();
    let world = World::start(
        &cases.pki,
        vec![zone],
        Vec::new(),
        &anchors,
        cases.servers.clone(),
    )
    .await;
    let json = world.probe("down.dane.test", false).await;
    assert_eq!(json["verdict"], "untestable", "{json}");
    let mx = host(&json, "mx.down.dane.test");
    assert_eq!(mx["addresses"][0]["dane"], Value::Null);
    assert_eq!(mx["tlsa_dnssec"], "secure", "looked up all the same");
    assert_eq!(mx["dane"], Value::Null);
    assert_eq!(json["dane"], Value::Null);
}

/// An SMTP server whose TLS only the legacy (OpenSSL) client can complete: TLS 1.2 with a CBC
/// suite rustls does not offer. Serves `cert` until dropped.
async fn legacy_server(ip: IpAddr, cert: &TestCert) -> (u16, tokio::task::JoinHandle<()>) {
    use openssl::pkey::PKey;
    use openssl::ssl::{Ssl, SslContext, SslMethod, SslVersion};
    use openssl::x509::X509;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let mut context = SslContext::builder(SslMethod::tls_server()).unwrap();
    context
        .set_certificate(&X509::from_der(cert.chain_der[0].as_ref()).unwrap())
        .unwrap();
    for extra in &cert.chain_der[1..] {
        context
            .add_extra_chain_cert(X509::from_der(extra.as_ref()).unwrap())
            .unwrap();
    }
    context
        .set_private_key(&PKey::private_key_from_der(cert.key_der.secret_der()).unwrap())
        .unwrap();
    context
        .set_max_proto_version(Some(SslVersion::TLS1_2))
        .unwrap();
    context
        .set_cipher_list("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")
        .unwrap();
    let context = context.build();
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let context = context.clone();
            tokio::spawn(async move {
                let mut plain = BufReader::new(tcp);
                let _ = plain.write_all(b"220 legacy.test ESMTP\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if plain.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let command = line.trim().to_ascii_uppercase();
                    if command.starts_with("EHLO") {
                        let _ = plain
                            .write_all(b"250-legacy.test\r\n250 STARTTLS\r\n")
                            .await;
                    } else if command == "STARTTLS" {
                        let _ = plain.write_all(b"220 2.0.0 Ready\r\n").await;
                        break;
                    } else {
                        let _ = plain.write_all(b"221 2.0.0 Bye\r\n").await;
                        return;
                    }
                }
                let ssl = Ssl::new(&context).unwrap();
                let mut tls = tokio_openssl::SslStream::new(ssl, plain.into_inner()).unwrap();
                if std::pin::Pin::new(&mut tls).accept().await.is_err() {
                    return; // the rustls attempt: no shared suite
                }
                let mut tls = BufReader::new(tls);
                loop {
                    line.clear();
                    if tls.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line.trim().to_ascii_uppercase().starts_with("EHLO") {
                        let _ = tls.write_all(b"250 legacy.test\r\n").await;
                    } else {
                        let _ = tls.write_all(b"221 2.0.0 Bye\r\n").await;
                        return;
                    }
                }
            });
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_of_a_legacy_openssl_session_is_checked_too() {
    let pki = TestPki::new();
    let ip = unique_loopback_ips(1)[0];
    let cert = pki.leaf(&["mx.legacy.dane.test"], Validity::Current);
    let (port, server) = legacy_server(ip, &cert).await;
    let zone_text = format!(
        "{}legacy IN MX 10 mx.legacy\nmx.legacy IN A {ip}\n_25._tcp.mx.legacy IN TLSA {}\n\
         other IN MX 10 mx.other\nmx.other IN A {ip}\n_25._tcp.mx.other IN TLSA {}\n\
         ta IN MX 10 mx.legacy\n",
        soa_header("dane.test"),
        ee_311(&cert),
        ee_311(&self_signed("not.the.server")),
    );
    let zone = signed_zone::signed("dane.test.", &zone_text, MONTH);
    let dir = tempfile::tempdir().unwrap();
    let anchor_file = dir.path().join("anchors.txt");
    std::fs::write(&anchor_file, &zone.anchor).unwrap();
    let dns = TestDns::start_delegating(vec![(zone.origin, zone.handler)], Vec::new()).await;
    let config = ProbeConfig {
        dns: DnsServer::Custom(dns.addr),
        smtp_port: port,
        connect_timeout: DEADLINE,
        greeting_timeout: DEADLINE,
        command_timeout: DEADLINE,
        tls_timeout: DEADLINE,
        ehlo_name: "probe.starttls-monitor.test".to_string(),
        trust_anchor: Some(TrustAnchorFile::load(&anchor_file).unwrap()),
        ..ProbeConfig::default()
    };
    let prober = Prober::new(config).unwrap();
    let probe = |name: &'static str| {
        let prober = prober.clone();
        async move {
            let domain = DomainName::parse(name).unwrap();
            serde_json::to_value(prober.probe_domain(&domain).await).unwrap()
        }
    };
    let json = probe("legacy.dane.test").await;
    let address = &host(&json, "mx.legacy.dane.test")["addresses"][0];
    assert_eq!(address["legacy_tls"], true, "{json}");
    assert_eq!(address["tls_version"], "TLSv1.2");
    assert_eq!(address["dane"], "valid", "{address}");
    assert_eq!(address["dane_matched"], ee_311(&cert).as_str());
    // The same server under a TLSA record for another key: the chain really is compared.
    let json = probe("other.dane.test").await;
    let address = &host(&json, "mx.other.dane.test")["addresses"][0];
    assert_eq!(address["legacy_tls"], true, "{json}");
    assert_eq!(address["dane"], "failed", "{address}");
    server.abort();
}

fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_starttls-monitor"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_warns_once_when_the_resolver_passes_no_dnssec_data_and_prints_a_dane_line() {
    let mut cases = Cases::new(3);
    let cert = self_signed("mx.one.dane.test");
    cases.mx("one", good(cert.clone()), &[ee_311(&cert)]);
    let cert = self_signed("mx.two.dane.test");
    cases.mx("two", good(cert.clone()), &[ee_311(&cert)]);
    let signed = signed_zone::signed("dane.test.", &cases.zone_text, MONTH);
    let anchor = signed.anchor.clone();
    let stripped = signed_zone::unsigned("dane.test.", &cases.zone_text);
    // Two servers: one passes DNSSEC data, one strips it (the same zone, unsigned).
    let honest = World::start(
        &cases.pki,
        vec![signed],
        Vec::new(),
        &anchor,
        cases.servers.clone(),
    )
    .await;
    let stripping =
        TestDns::start_delegating(vec![(stripped.origin, stripped.handler)], Vec::new()).await;
    let run = |dns: std::net::SocketAddr, json: bool| {
        let mut command = binary();
        command.arg("probe");
        if json {
            command.arg("--json");
        }
        command
            .args(["one.dane.test", "two.dane.test"])
            .args(["--dns", &dns.to_string()])
            .args(["--smtp-port", &honest.fleet.port.to_string()])
            .arg("--trust-anchor")
            .arg(&honest.anchor_file)
            .args(["--timeout", "3"]);
        async move {
            tokio::task::spawn_blocking(move || command.output().unwrap())
                .await
                .unwrap()
        }
    };
    let output = run(stripping.addr, true).await;
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("passes no DNSSEC data").count(),
        1,
        "one warning per run: {stderr}"
    );
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let json: Value = serde_json::from_str(line).unwrap();
        assert_eq!(json["dane"], "unknown", "{json}");
        assert_eq!(json["starttls"], true);
    }

    // A stored scan says it once too, and stores DANE unknown.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("monitor.sqlite3");
    let store_command = |args: &[&str]| {
        let mut command = binary();
        command
            .arg("--db")
            .arg(&db)
            .args(args)
            .args(["--dns", &stripping.addr.to_string()])
            .args(["--smtp-port", &honest.fleet.port.to_string()])
            .arg("--trust-anchor")
            .arg(&honest.anchor_file);
        async move {
            tokio::task::spawn_blocking(move || command.output().unwrap())
                .await
                .unwrap()
        }
    };
    let added = store_command(&["domains", "add", "one.dane.test", "two.dane.test"]).await;
    assert!(added.status.success(), "{added:?}");
    let scanned = store_command(&["scan", "--json"]).await;
    assert!(scanned.status.success(), "{scanned:?}");
    let stderr = String::from_utf8_lossy(&scanned.stderr);
    assert_eq!(
        stderr.matches("passes no DNSSEC data").count(),
        1,
        "{stderr}"
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&scanned.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines.iter().all(|json| json["dane"] == "unknown"),
        "{lines:?}"
    );

    let output = run(honest.dns.addr, false).await;
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let dane_lines: Vec<&str> = stdout
        .lines()
        .filter(|line| line.trim_start().starts_with("DANE "))
        .collect();
    assert_eq!(dane_lines.len(), 2, "{stdout}");
    assert!(
        dane_lines[0].contains(
            "DANE valid  (MX answer DNSSEC secure); mx.one.dane.test: valid (1 TLSA, matched 3 1 1"
        ),
        "{stdout}"
    );
    assert!(
        dane_lines[0].contains("warnings: no_rollover_key"),
        "{stdout}"
    );
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("DNSSEC"),
        "{output:?}"
    );
}
