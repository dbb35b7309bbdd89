//! MTA-STS and TLS-RPT against a loopback internet: an in-process DNS zone with `_mta-sts` and
//! `_smtp._tls` records, HTTPS policy hosts (tokio + rustls, certificates from the test CA) and
//! SMTP servers, covering every outcome a sender can reach (enforce ok, testing, mode none,
//! wildcard, MX not listed, MX certificate invalid, no policy host, nothing listening, bad
//! policy certificate, plain HTTP on the HTTPS port, malformed and duplicate records, redirect,
//! oversized body, HTTP error, a page that is not a policy, wrong content type, a host that never
//! answers), TLS-RPT valid / invalid / duplicate / none (domain and MX host), one connection at a
//! time to a shared policy host, failing TXT lookups that change no verdict, and, through stored
//! scans, a policy changed under the same id and a cached policy applied after a failed fetch.
//! `probe --json`, the table and `scan --json` carry the same fields; old rows read back.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::monitor::scan::run_scan;
use starttls_monitor::probe::dns::Dns;
use starttls_monitor::probe::sts::look_up_tls_rpt;
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{ScanScope, Store};
use support::{
    PolicyFleet, PolicyReply, Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, TxtFailingDns,
    Validity, soa_header, unique_loopback_ips,
};

const DEADLINE: Duration = Duration::from_secs(3);
const ZONE: &str = "sts.test";

/// One domain of the world: its records and servers.
struct Spec {
    label: &'static str,
    /// `_mta-sts` TXT records, each as its strings (zone-file syntax inside the quotes).
    sts_txt: Vec<Vec<&'static str>>,
    /// The policy host's reply and whether its certificate is good; None: no policy host.
    policy: Option<(PolicyReply, bool)>,
    /// The MX host's certificate is valid for its name.
    mx_cert_valid: bool,
    /// `_smtp._tls` TXT records.
    tls_rpt_txt: Vec<&'static str>,
}

fn enforce_for(mx: &str) -> String {
    format!("version: STSv1\nmode: enforce\nmx: {mx}\nmax_age: 86400\n")
}

fn spec(label: &'static str, id: &'static str, policy: Option<PolicyReply>) -> Spec {
    Spec {
        label,
        sts_txt: vec![vec![id]],
        policy: policy.map(|reply| (reply, true)),
        mx_cert_valid: true,
        tls_rpt_txt: Vec::new(),
    }
}

struct StsWorld {
    dns: TestDns,
    /// The zone text served, for a second server of the same zone.
    zone: String,
    smtp: SmtpFleet,
    policies: PolicyFleet,
    pki: TestPki,
    ca_file: PathBuf,
    policy_ips: HashMap<&'static str, IpAddr>,
    _dir: tempfile::TempDir,
}

impl StsWorld {
    async fn build(specs: Vec<Spec>) -> StsWorld {
        Self::build_with(specs, "").await
    }

    /// As [`StsWorld::build`], with `extra` records (zone-file lines) in the zone.
    async fn build_with(specs: Vec<Spec>, extra: &str) -> StsWorld {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = pki.write_ca_file(dir.path());
        let mut ips = unique_loopback_ips(specs.len() * 2).into_iter();
        let mut zone = soa_header(ZONE);
        let mut smtp_servers = Vec::new();
        let mut policy_servers = Vec::new();
        let mut policy_ips = HashMap::new();
        for spec in &specs {
            let label = spec.label;
            let mx_name = format!("mx.{label}.{ZONE}");
            let mx_ip = ips.next().unwrap();
            zone.push_str(&format!(
                "{label} IN MX 10 mx.{label}\nmx.{label} IN A {mx_ip}\n"
            ));
            let cert = if spec.mx_cert_valid {
                pki.leaf(&[&mx_name], Validity::Current)
            } else {
                TestPki::self_signed(&[&mx_name], Validity::Current)
            };
            smtp_servers.push((
                mx_ip,
                Scenario::Good {
                    cert,
                    versions: TlsVersions::Any,
                },
            ));
            for strings in &spec.sts_txt {
                let quoted: Vec<String> = strings.iter().map(|s| format!("\"{s}\"")).collect();
                zone.push_str(&format!("_mta-sts.{label} IN TXT {}\n", quoted.join(" ")));
            }
            for record in &spec.tls_rpt_txt {
                zone.push_str(&format!("_smtp._tls.{label} IN TXT \"{record}\"\n"));
            }
            if let Some((reply, cert_valid)) = &spec.policy {
                let policy_ip = ips.next().unwrap();
                let host = format!("mta-sts.{label}.{ZONE}");
                zone.push_str(&format!("mta-sts.{label} IN A {policy_ip}\n"));
                let cert = if *cert_valid {
                    pki.leaf(&[&host], Validity::Current)
                } else {
                    TestPki::self_signed(&[&host], Validity::Current)
                };
                policy_servers.push((policy_ip, cert, reply.clone()));
                policy_ips.insert(label, policy_ip);
            }
        }
        if specs.iter().any(|spec| spec.label == "wild") {
            // A CNAME'd record set in two strings: `_mta-sts.wild` points at `record.wild`.
            zone.push_str("_mta-sts.wild IN CNAME record.wild\n");
            zone.push_str("record.wild IN TXT \"v=STSv1; \" \"id=w1\"\n");
        }
        zone.push_str(extra);
        let dns = TestDns::start(&[(ZONE, &zone)]).await;
        let smtp = SmtpFleet::start(smtp_servers).await;
        let policies = PolicyFleet::start(policy_servers).await;
        StsWorld {
            dns,
            zone,
            smtp,
            policies,
            pki,
            ca_file,
            policy_ips,
            _dir: dir,
        }
    }

    fn config(&self) -> ProbeConfig {
        let mut config = ProbeConfig {
            dns: DnsServer::Custom(self.dns.addr),
            smtp_port: self.smtp.port,
            https_port: self.policies.port,
            connect_timeout: DEADLINE,
            greeting_timeout: DEADLINE,
            command_timeout: DEADLINE,
            tls_timeout: DEADLINE,
            https_timeout: DEADLINE,
            ehlo_name: "probe.starttls-monitor.test".to_string(),
            ..ProbeConfig::default()
        };
        config.load_ca_file(&self.ca_file).unwrap();
        config
    }

    fn policy_server(&self, label: &str) -> &support::PolicyServer {
        self.policies.server(self.policy_ips[label])
    }
}

fn domain(label: &str) -> DomainName {
    DomainName::parse(&format!("{label}.{ZONE}")).unwrap()
}

/// The whole table of single-probe cases.
fn probe_specs() -> Vec<Spec> {
    let mut specs = vec![
        Spec {
            tls_rpt_txt: vec!["v=TLSRPTv1; rua=mailto:tlsrpt@enforce.sts.test"],
            ..spec(
                "enforce",
                "v=STSv1; id=20260101",
                Some(PolicyReply::policy(&enforce_for("mx.enforce.sts.test"))),
            )
        },
        Spec {
            tls_rpt_txt: vec!["v=TLSRPTv1; rua=http://reports.sts.test/"],
            ..spec(
                "testing",
                "v=STSv1; id=t1",
                Some(PolicyReply::policy(
                    "version: STSv1\nmode: testing\nmx: other.sts.test\nmax_age: 600\n",
                )),
            )
        },
        spec(
            "modenone",
            "v=STSv1; id=n1",
            Some(PolicyReply::policy(
                "version: STSv1\r\nmode: none\r\nmax_age: 600\r\n",
            )),
        ),
        Spec {
            // `_mta-sts.wild` is a CNAME (the world writes it), its target's TXT two strings.
            sts_txt: Vec::new(),
            tls_rpt_txt: vec![
                "v=TLSRPTv1; rua=mailto:a@wild.sts.test",
                "v=TLSRPTv1; rua=mailto:b@wild.sts.test",
            ],
            ..spec(
                "wild",
                "",
                Some(PolicyReply::policy(&enforce_for("*.wild.sts.test"))),
            )
        },
        spec(
            "mismatch",
            "v=STSv1; id=m1",
            Some(PolicyReply::policy(&enforce_for("mail.elsewhere.test"))),
        ),
        Spec {
            mx_cert_valid: false,
            ..spec(
                "badmx",
                "v=STSv1; id=b1",
                Some(PolicyReply::policy(&enforce_for("mx.badmx.sts.test"))),
            )
        },
        spec("nohost", "v=STSv1; id=h1", None),
        // `mta-sts.refused` has an address where nothing listens (the world adds it).
        spec("refused", "v=STSv1; id=f1", None),
        Spec {
            policy: Some((
                PolicyReply::policy(&enforce_for("mx.badcert.sts.test")),
                false,
            )),
            ..spec("badcert", "v=STSv1; id=c1", None)
        },
        spec(
            "malformed",
            "v=STSv1; id=not-valid!",
            Some(PolicyReply::policy(&enforce_for("mx.malformed.sts.test"))),
        ),
        Spec {
            sts_txt: vec![vec!["v=STSv1; id=d1"], vec!["v=STSv1; id=d2"]],
            ..spec(
                "dup",
                "",
                Some(PolicyReply::policy(&enforce_for("mx.dup.sts.test"))),
            )
        },
        spec(
            "redirect",
            "v=STSv1; id=r1",
            Some(PolicyReply::Redirect {
                location: "https://elsewhere.sts.test/.well-known/mta-sts.txt".into(),
            }),
        ),
        spec(
            "big",
            "v=STSv1; id=g1",
            Some(PolicyReply::Oversized { bytes: 70 * 1024 }),
        ),
        spec("status", "v=STSv1; id=s1", Some(PolicyReply::Status(404))),
        spec("plain", "v=STSv1; id=q1", Some(PolicyReply::NotTls)),
        spec(
            "garbage",
            "v=STSv1; id=p1",
            Some(PolicyReply::policy(
                "<html><body>Welcome to nginx!</body></html>\n",
            )),
        ),
        spec(
            "html",
            "v=STSv1; id=x1",
            Some(PolicyReply::Policy {
                body: enforce_for("mx.html.sts.test"),
                content_type: Some("text/html".into()),
            }),
        ),
        Spec {
            sts_txt: Vec::new(),
            ..spec("none", "", None)
        },
    ];
    for spec in &mut specs {
        spec.sts_txt
            .retain(|strings| strings.iter().all(|s| !s.is_empty()));
    }
    specs
}

fn text(value: &Value) -> String {
    value.as_str().map(str::to_string).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mta_sts_case_gets_its_outcome() {
    let nobody = unique_loopback_ips(1)[0];
    let world =
        StsWorld::build_with(probe_specs(), &format!("mta-sts.refused IN A {nobody}\n")).await;
    let prober = Prober::new(world.config()).unwrap();
    let labels: Vec<&str> = probe_specs().iter().map(|spec| spec.label).collect();
    let mut results: HashMap<String, Value> = HashMap::new();
    prober
        .start_run()
        .probe_many(
            labels.iter().map(|label| domain(label)).collect::<Vec<_>>(),
            |_, result| {
                results.insert(
                    result.domain.as_str().to_string(),
                    serde_json::to_value(&result).unwrap(),
                );
            },
        )
        .await;
    let result = |label: &str| results[&format!("{label}.{ZONE}")].clone();
    let outcome = |label: &str| text(&result(label)["mta_sts"]["outcome"]);
    let failure = |label: &str| text(&result(label)["mta_sts"]["failure"]);

    // Every field of the contract, on every domain and host.
    for json in results.values() {
        let missing = support::contract::missing_fields(json);
        assert!(missing.is_empty(), "{missing:?} in {json}");
        let mta_sts = json["mta_sts"].as_object().unwrap();
        for key in [
            "outcome",
            "id",
            "mode",
            "max_age",
            "mx_patterns",
            "fetched_at",
            "cached",
            "failure",
            "policy",
        ] {
            assert!(mta_sts.contains_key(key), "mta_sts has no {key}: {json}");
        }
        assert_eq!(json["mta_sts"]["cached"], false, "probe never caches");
        // MTA-STS never changes the opportunistic verdict.
        assert_eq!(json["verdict"], "tls_ok", "{json}");
        assert_eq!(json["starttls"], true, "{json}");
    }

    // enforce: every MX host passes.
    let enforce = result("enforce");
    assert_eq!(outcome("enforce"), "enforce_ok", "{enforce}");
    assert_eq!(enforce["mta_sts"]["id"], "20260101");
    assert_eq!(enforce["mta_sts"]["mode"], "enforce");
    assert_eq!(enforce["mta_sts"]["max_age"], 86400);
    assert_eq!(
        enforce["mta_sts"]["mx_patterns"],
        serde_json::json!(["mx.enforce.sts.test"])
    );
    assert_eq!(
        text(&enforce["mta_sts"]["policy"]),
        enforce_for("mx.enforce.sts.test")
    );
    assert!(enforce["mta_sts"]["fetched_at"].is_string());
    assert_eq!(enforce["mta_sts"]["failure"], Value::Null);
    assert_eq!(enforce["mx"][0]["sts_matched"], true);
    assert_eq!(enforce["mx"][0]["sts_passes"], true);
    // The sender's view: an MTA-STS sender authenticates every delivery.
    assert_eq!(enforce["sender"]["mta_sts"], "authenticated", "{enforce}");
    assert_eq!(enforce["sender"]["authenticated"], true);
    assert_eq!(enforce["sender"]["at_risk"], false);
    assert_eq!(enforce["mx"][0]["tls_rpt"], Value::Null);
    assert_eq!(
        enforce["tls_rpt"],
        serde_json::json!({"status": "valid", "rua": ["mailto:tlsrpt@enforce.sts.test"], "detail": null})
    );
    // The request a sender makes: GET the well-known path, Host with our port.
    let requests = world.policy_server("enforce").requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = requests[0].to_ascii_lowercase();
    assert!(
        request.starts_with("get /.well-known/mta-sts.txt http/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains(&format!(
            "host: mta-sts.enforce.sts.test:{}\r\n",
            world.policies.port
        )),
        "{request}"
    );

    // testing: judged, not enforced (the MX is not even listed); TLS-RPT with an http: URI.
    assert_eq!(outcome("testing"), "testing");
    assert_eq!(result("testing")["sender"]["mta_sts"], "opportunistic");
    assert_eq!(result("testing")["mx"][0]["sts_matched"], false);
    assert_eq!(result("testing")["tls_rpt"]["status"], "invalid");
    assert!(
        text(&result("testing")["tls_rpt"]["detail"]).contains("only mailto: and https:"),
        "{}",
        result("testing")["tls_rpt"]
    );
    assert_eq!(outcome("modenone"), "mode_none");
    assert_eq!(
        result("modenone")["mta_sts"]["mx_patterns"],
        serde_json::json!([])
    );

    // Wildcard pattern, TXT behind a CNAME in two strings; two TLS-RPT records are invalid.
    let wild = result("wild");
    assert_eq!(outcome("wild"), "enforce_ok", "{wild}");
    assert_eq!(wild["mta_sts"]["id"], "w1");
    assert_eq!(wild["mx"][0]["sts_matched"], true);
    assert_eq!(wild["tls_rpt"]["status"], "invalid");
    assert!(text(&wild["tls_rpt"]["detail"]).contains("2 TXT records"));

    // MX not listed; MX listed but its certificate is self-signed.
    assert_eq!(outcome("mismatch"), "mx_mismatch");
    assert_eq!(result("mismatch")["mx"][0]["sts_matched"], false);
    assert_eq!(result("mismatch")["mx"][0]["sts_passes"], false);
    // Its only MX host fails the policy: an MTA-STS sender defers all mail.
    assert_eq!(result("mismatch")["sender"]["mta_sts"], "defers");
    assert_eq!(result("mismatch")["sender"]["at_risk"], true);
    let badmx = result("badmx");
    assert_eq!(outcome("badmx"), "mx_cert_invalid", "{badmx}");
    assert_eq!(badmx["mx"][0]["sts_matched"], true);
    assert_eq!(badmx["mx"][0]["sts_passes"], false);
    assert_eq!(badmx["strict_valid"], false);

    // Policy failures, each with its reason; no policy in force, hosts null.
    for (label, reason) in [
        ("nohost", "(connect)"),
        ("refused", "(connect)"),
        ("badcert", "(tls_certificate)"),
        ("redirect", "(redirect)"),
        ("big", "(too_large)"),
        ("status", "(http_status)"),
        ("garbage", "(parse)"),
        ("plain", "(tls)"),
    ] {
        let json = result(label);
        assert_eq!(outcome(label), "policy_failed", "{label}: {json}");
        assert!(
            failure(label).contains(reason),
            "{label}: {}",
            failure(label)
        );
        assert_eq!(json["mta_sts"]["policy"], Value::Null, "{label}");
        assert_eq!(json["mta_sts"]["mode"], Value::Null, "{label}");
        assert!(json["mta_sts"]["id"].is_string(), "{label}");
        assert_eq!(json["mx"][0]["sts_matched"], Value::Null, "{label}");
        assert_eq!(json["mx"][0]["sts_passes"], Value::Null, "{label}");
    }
    assert!(
        failure("badcert").contains("self_signed"),
        "{}",
        failure("badcert")
    );
    assert!(
        failure("nohost").contains("has no address (nxdomain)"),
        "{}",
        failure("nohost")
    );
    assert!(
        failure("refused").contains("could not connect to mta-sts.refused.sts.test"),
        "{}",
        failure("refused")
    );
    assert!(failure("redirect").contains("https://elsewhere.sts.test/"));
    assert!(failure("status").contains("HTTP 404"));
    assert!(
        failure("garbage").contains("policy line 1: '<html>"),
        "{}",
        failure("garbage")
    );
    // Nothing was asked of a policy host whose certificate failed.
    assert!(world.policy_server("badcert").handshakes() >= 1);
    assert_eq!(
        world.policy_server("badcert").requests(),
        Vec::<String>::new()
    );

    // Bad records: no fetch at all.
    assert_eq!(outcome("malformed"), "bad_record");
    assert!(
        failure("malformed").contains("not 1 to 32"),
        "{}",
        failure("malformed")
    );
    assert_eq!(outcome("dup"), "bad_record");
    assert!(
        failure("dup").contains("2 TXT records"),
        "{}",
        failure("dup")
    );
    for label in ["malformed", "dup"] {
        assert!(world.policy_server(label).requests().is_empty(), "{label}");
        assert_eq!(result(label)["mta_sts"]["id"], Value::Null);
    }

    // Wrong content type: the policy applies, with a warning.
    assert_eq!(outcome("html"), "enforce_ok");
    assert!(
        failure("html").contains("'text/html'"),
        "{}",
        failure("html")
    );

    // No record at all.
    let none = result("none");
    assert_eq!(outcome("none"), "none");
    assert_eq!(none["mta_sts"]["failure"], Value::Null);
    assert_eq!(none["mx"][0]["sts_matched"], Value::Null);
    assert_eq!(
        none["tls_rpt"],
        serde_json::json!({"status": "none", "rua": [], "detail": null})
    );

    // A policy host certificate inside the warning window is warned about.
    let mut config = world.config();
    config.expiry_warning_days = 120;
    let warned = Prober::new(config)
        .unwrap()
        .probe_domain(&domain("enforce"))
        .await;
    let mta_sts = warned.mta_sts.unwrap();
    assert_eq!(mta_sts.outcome.as_str(), "enforce_ok");
    let failure = mta_sts.failure.unwrap_or_default();
    assert!(
        failure.contains("certificate of mta-sts.enforce.sts.test expires on"),
        "{failure}"
    );
    drop(world.pki);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_json_and_the_table_carry_mta_sts() {
    let world = StsWorld::build(vec![Spec {
        tls_rpt_txt: vec!["v=TLSRPTv1; rua=mailto:tlsrpt@enforce.sts.test"],
        ..spec(
            "enforce",
            "v=STSv1; id=20260101",
            Some(PolicyReply::policy(&enforce_for("mx.enforce.sts.test"))),
        )
    }])
    .await;
    let run = |json: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
        command.arg("probe");
        if json {
            command.arg("--json");
        }
        command
            .arg("enforce.sts.test")
            .args(["--dns", &world.dns.addr.to_string()])
            .args(["--smtp-port", &world.smtp.port.to_string()])
            .args(["--https-port", &world.policies.port.to_string()])
            .args(["--ca-file", world.ca_file.to_str().unwrap()])
            .args(["--timeout", "3", "--greeting-timeout", "3"]);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    let output = run(true).await.unwrap();
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["mta_sts"]["outcome"], "enforce_ok", "{json}");
    assert_eq!(json["mx"][0]["sts_passes"], true);
    assert_eq!(json["tls_rpt"]["status"], "valid");
    let output = run(false).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let sts_lines: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("  STS  "))
        .collect();
    assert_eq!(
        sts_lines,
        [
            "  STS  enforce_ok (id 20260101, mode enforce, max_age 86400)  TLS-RPT valid (mailto:tlsrpt@enforce.sts.test)"
        ],
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_scans_warn_about_a_changed_policy_and_apply_a_cached_one() {
    let world = StsWorld::build(vec![spec(
        "changing",
        "v=STSv1; id=1",
        Some(PolicyReply::policy(&enforce_for("mx.changing.sts.test"))),
    )])
    .await;
    let prober = Prober::new(world.config()).unwrap();
    let store = Arc::new(Mutex::new(Store::open_in_memory().unwrap()));
    let target = domain("changing");
    let scan = || async {
        run_scan(
            &store,
            &prober,
            ScanScope::Domains(vec![target.clone()]),
            vec![target.clone()],
            &Settings::default(),
            |_| {},
        )
        .await
        .unwrap();
        store
            .lock()
            .unwrap()
            .latest_result(&target)
            .unwrap()
            .unwrap()
    };

    let first = scan().await;
    let mta_sts = first.mta_sts.clone().unwrap();
    assert_eq!(mta_sts.outcome.as_str(), "enforce_ok");
    assert!(!mta_sts.cached);
    assert_eq!(mta_sts.failure, None);

    // The policy changes (testing now) but the TXT id stays: a warning.
    let testing = "version: STSv1\nmode: testing\nmx: mx.changing.sts.test\nmax_age: 86400\n";
    world
        .policy_server("changing")
        .set_reply(PolicyReply::policy(testing));
    let second = scan().await.mta_sts.unwrap();
    assert_eq!(second.outcome.as_str(), "testing");
    assert!(!second.cached);
    let warning = second.failure.clone().unwrap_or_default();
    assert!(warning.contains("TXT id stayed 1"), "{warning}");

    // The fetch fails: the stored scan applies the last good policy, as senders do.
    world
        .policy_server("changing")
        .set_reply(PolicyReply::Status(500));
    let third = scan().await;
    let cached = third.mta_sts.clone().unwrap();
    assert!(cached.cached, "{cached:?}");
    assert_eq!(cached.outcome.as_str(), "testing");
    assert_eq!(cached.policy.as_deref(), Some(testing));
    assert_eq!(cached.fetched_at, second.fetched_at);
    let failure = cached.failure.clone().unwrap_or_default();
    assert!(failure.contains("(http_status)"), "{failure}");
    assert!(
        failure.contains("applying the policy fetched at"),
        "{failure}"
    );
    assert_eq!(third.mx[0].sts_matched, Some(true));
    // Another failing scan keeps applying it (its fetch time stays the real one).
    let fourth = scan().await.mta_sts.unwrap();
    assert!(fourth.cached);
    assert_eq!(fourth.fetched_at, second.fetched_at);

    // `probe` has no history: the same failure is a failed policy.
    let probed = prober.probe_domain(&target).await.mta_sts.unwrap();
    assert_eq!(probed.outcome.as_str(), "policy_failed");
    assert!(!probed.cached);
}

#[test]
fn results_stored_before_mta_sts_read_back_with_null_fields() {
    let json = serde_json::json!({
        "domain": "old.example", "verdict": "tls_ok", "starttls": true, "pfs": true,
        "strict_valid": true, "dns_error": null, "probed_at": "2026-01-01T00:00:00Z",
        "mx": [{"host": "mx.old.example", "preference": 10, "implicit": false,
                "cname_target": null, "dns_error": null, "verdict": "tls_ok", "addresses": []}]
    });
    let result: starttls_monitor::model::DomainResult = serde_json::from_value(json).unwrap();
    assert_eq!(result.mta_sts, None);
    assert_eq!(result.tls_rpt, None);
    assert_eq!(result.mx[0].sts_matched, None);
    assert_eq!(result.mx[0].sts_passes, None);
    assert_eq!(result.mx[0].tls_rpt, None);
    // Written again, every field is present (null).
    let written = serde_json::to_value(&result).unwrap();
    assert_eq!(written["mta_sts"], Value::Null);
    assert!(
        written["mx"][0]
            .as_object()
            .unwrap()
            .contains_key("sts_passes")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_policy_lookups_change_no_verdict() {
    let world = StsWorld::build(vec![Spec {
        tls_rpt_txt: vec!["v=TLSRPTv1; rua=mailto:tlsrpt@enforce.sts.test"],
        ..spec(
            "enforce",
            "v=STSv1; id=1",
            Some(PolicyReply::policy(&enforce_for("mx.enforce.sts.test"))),
        )
    }])
    .await;
    let target = domain("enforce");
    let working = Prober::new(world.config())
        .unwrap()
        .probe_domain(&target)
        .await;
    assert_eq!(
        working.mta_sts.as_ref().unwrap().outcome.as_str(),
        "enforce_ok"
    );
    // The same zone, but every TXT query answers SERVFAIL.
    let txt_failing = TxtFailingDns::start(
        &[(ZONE, &world.zone)],
        hickory_server::proto::op::ResponseCode::ServFail,
    )
    .await;
    let mut config = world.config();
    config.dns = DnsServer::Custom(txt_failing.addr);
    let failing = Prober::new(config).unwrap().probe_domain(&target).await;
    assert_eq!(
        (
            failing.verdict,
            failing.starttls,
            failing.pfs,
            failing.strict_valid
        ),
        (
            working.verdict,
            working.starttls,
            working.pfs,
            working.strict_valid
        )
    );
    assert_eq!(failing.dns_error, None);
    assert_eq!(failing.mx[0].addresses.len(), 1);
    let mta_sts = failing.mta_sts.unwrap();
    assert_eq!(mta_sts.outcome.as_str(), "none");
    let why = mta_sts.failure.unwrap_or_default();
    assert!(
        why.contains("_mta-sts TXT lookup failed (servfail)"),
        "{why}"
    );
    assert_eq!(failing.mx[0].sts_matched, None);
    let tls_rpt = failing.tls_rpt.unwrap();
    assert_eq!(tls_rpt.status.as_str(), "none");
    assert!(
        tls_rpt
            .detail
            .unwrap_or_default()
            .contains("lookup failed (servfail)"),
        "TLS-RPT says why"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_rpt_of_an_mx_host_is_read_at_its_own_name() {
    // The DANE policy domain is the TLSA base domain: the MX host (RFC 8460 §3).
    let world = StsWorld::build_with(
        vec![spec(
            "enforce",
            "v=STSv1; id=1",
            Some(PolicyReply::Status(404)),
        )],
        "_smtp._tls.mx.enforce IN TXT \"v=TLSRPTv1; rua=https://reports.sts.test/dane\"\n",
    )
    .await;
    let dns = Dns::new(&DnsServer::Custom(world.dns.addr), DEADLINE).unwrap();
    let host = look_up_tls_rpt(&dns, "mx.enforce.sts.test").await;
    assert_eq!(
        serde_json::to_value(&host).unwrap(),
        serde_json::json!({"status": "valid", "rua": ["https://reports.sts.test/dane"], "detail": null})
    );
    // The mail domain itself has none here.
    let domain_level = look_up_tls_rpt(&dns, "enforce.sts.test.").await;
    assert_eq!(domain_level.status.as_str(), "none");
    assert_eq!(domain_level.detail, None);
}

#[test]
fn a_database_row_written_before_mta_sts_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("monitor.sqlite3");
    let target = DomainName::parse("old.example").unwrap();
    {
        let store = Store::open(&path).unwrap();
        let host = starttls_monitor::model::MxResult {
            sts_matched: Some(true),
            sts_passes: Some(false),
            ..starttls_monitor::model::MxResult::new("mx.old.example", 10, Vec::new())
        };
        let result = starttls_monitor::model::DomainResult::new(
            target.clone(),
            false,
            None,
            time::OffsetDateTime::now_utc(),
            vec![host],
        );
        store.record_result(None, &result, 14).unwrap();
    }
    // What an older build wrote: the same JSON without the new keys.
    let connection = rusqlite::Connection::open(&path).unwrap();
    // (Results are stored in parts: the domain's shape, with its MX host's own fields, and
    // the host's shared facts.)
    let changed = connection
        .execute(
            "UPDATE shapes SET facts = json_remove(facts, '$.mta_sts', '$.tls_rpt', \
             '$.mx_refs[0].sts_matched', '$.mx_refs[0].sts_passes')",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let changed = connection
        .execute(
            "UPDATE host_runs SET facts = json_remove(facts, '$.tls_rpt', '$.sts_matched', \
             '$.sts_passes')",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let stored: String = connection
        .query_row(
            "SELECT s.facts || h.facts FROM shapes s, host_runs h",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(!stored.contains("mta_sts"), "{stored}");
    assert!(!stored.contains("sts_"), "{stored}");
    assert!(!stored.contains("tls_rpt"), "{stored}");
    drop(connection);
    let store = Store::open(&path).unwrap();
    let read = store.latest_result(&target).unwrap().unwrap();
    assert_eq!((read.mta_sts, read.tls_rpt), (None, None));
    assert_eq!(read.mx[0].host, "mx.old.example");
    assert_eq!(
        (
            read.mx[0].sts_matched,
            read.mx[0].sts_passes,
            &read.mx[0].tls_rpt
        ),
        (None, None, &None)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_policy_fetch_at_a_time_goes_to_a_shared_policy_host() {
    // Eight domains whose mta-sts names all point at one provider's address.
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = pki.write_ca_file(dir.path());
    let ips = unique_loopback_ips(2);
    let (mx_ip, web_ip) = (ips[0], ips[1]);
    let labels: Vec<String> = (0..8).map(|index| format!("shared{index}")).collect();
    let mut zone = soa_header(ZONE);
    zone.push_str(&format!("mx IN A {mx_ip}\n"));
    for label in &labels {
        zone.push_str(&format!(
            "{label} IN MX 10 mx\n_mta-sts.{label} IN TXT \"v=STSv1; id=1\"\nmta-sts.{label} IN A {web_ip}\n"
        ));
    }
    let dns = TestDns::start(&[(ZONE, &zone)]).await;
    let smtp = SmtpFleet::start(vec![(
        mx_ip,
        Scenario::Good {
            cert: pki.leaf(&[&format!("mx.{ZONE}")], Validity::Current),
            versions: TlsVersions::Any,
        },
    )])
    .await;
    let names: Vec<String> = labels
        .iter()
        .map(|label| format!("mta-sts.{label}.{ZONE}"))
        .collect();
    let sans: Vec<&str> = names.iter().map(String::as_str).collect();
    let web = PolicyFleet::start(vec![(
        web_ip,
        pki.leaf(&sans, Validity::Current),
        PolicyReply::policy(&enforce_for(&format!("mx.{ZONE}"))),
    )])
    .await;
    web.server(web_ip).set_delay(Duration::from_millis(100));
    let mut config = ProbeConfig {
        dns: DnsServer::Custom(dns.addr),
        smtp_port: smtp.port,
        https_port: web.port,
        connect_timeout: DEADLINE,
        greeting_timeout: DEADLINE,
        command_timeout: DEADLINE,
        tls_timeout: DEADLINE,
        https_timeout: DEADLINE,
        ehlo_name: "probe.starttls-monitor.test".to_string(),
        ..ProbeConfig::default()
    };
    config.load_ca_file(&ca_file).unwrap();
    let mut outcomes = Vec::new();
    Prober::new(config)
        .unwrap()
        .start_run()
        .probe_many(
            labels.iter().map(|label| domain(label)).collect::<Vec<_>>(),
            |_, result| {
                outcomes.push(result.mta_sts.unwrap().outcome.as_str().to_string());
            },
        )
        .await;
    // Every fetch got its policy although they queued (waiting is not counted in the deadline),
    // and never two connections at once.
    assert_eq!(outcomes, vec!["enforce_ok"; 8]);
    assert_eq!(web.server(web_ip).requests().len(), 8);
    assert_eq!(web.server(web_ip).most_open(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_json_stores_and_prints_mta_sts() {
    let world = StsWorld::build(vec![Spec {
        tls_rpt_txt: vec!["v=TLSRPTv1; rua=mailto:tlsrpt@enforce.sts.test"],
        ..spec(
            "enforce",
            "v=STSv1; id=20260101",
            Some(PolicyReply::policy(&enforce_for("mx.enforce.sts.test"))),
        )
    }])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("monitor.sqlite3");
    let run = |args: Vec<String>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
        command.arg("--db").arg(&db).args(args);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    let added = run(vec![
        "domains".into(),
        "add".into(),
        "enforce.sts.test".into(),
    ])
    .await
    .unwrap();
    assert!(added.status.success(), "{added:?}");
    let options = vec![
        "--dns".to_string(),
        world.dns.addr.to_string(),
        "--smtp-port".into(),
        world.smtp.port.to_string(),
        "--https-port".into(),
        world.policies.port.to_string(),
        "--ca-file".into(),
        world.ca_file.to_str().unwrap().to_string(),
        "--timeout".into(),
        "3".into(),
        "--greeting-timeout".into(),
        "3".into(),
    ];
    let mut scan_args = vec!["scan".to_string(), "--json".into()];
    scan_args.extend(options);
    let scanned = run(scan_args).await.unwrap();
    assert!(scanned.status.success(), "{scanned:?}");
    let printed: Value = serde_json::from_slice(&scanned.stdout).unwrap();
    assert_eq!(printed["mta_sts"]["outcome"], "enforce_ok", "{printed}");
    assert_eq!(printed["mta_sts"]["cached"], false);
    assert_eq!(printed["mx"][0]["sts_matched"], true);
    assert_eq!(printed["tls_rpt"]["status"], "valid");
    // The stored result carries the same objects.
    let store = Store::open(&db).unwrap();
    let stored = store.latest_result(&domain("enforce")).unwrap().unwrap();
    let stored = serde_json::to_value(&stored).unwrap();
    assert_eq!(stored["mta_sts"]["policy"], printed["mta_sts"]["policy"]);
    assert_eq!(stored["tls_rpt"], printed["tls_rpt"]);
    assert_eq!(stored["mx"][0]["sts_passes"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_host_that_never_answers_times_out_within_the_deadline() {
    let world = StsWorld::build(vec![spec(
        "slow",
        "v=STSv1; id=1",
        Some(PolicyReply::policy(&enforce_for("mx.slow.sts.test"))),
    )])
    .await;
    world
        .policy_server("slow")
        .set_delay(Duration::from_secs(30));
    let mut config = world.config();
    config.https_timeout = Duration::from_secs(1);
    let started = std::time::Instant::now();
    let result = Prober::new(config)
        .unwrap()
        .probe_domain(&domain("slow"))
        .await;
    let elapsed = started.elapsed();
    let mta_sts = result.mta_sts.unwrap();
    assert_eq!(mta_sts.outcome.as_str(), "policy_failed");
    let why = mta_sts.failure.unwrap_or_default();
    assert!(
        why.contains("(timeout): timed out after 1 s while waiting for the response"),
        "{why}"
    );
    // Bounded: the deadline, plus slack for a loaded machine; the SMTP verdict is unaffected.
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    assert_eq!(result.verdict.as_str(), "tls_ok");
}
