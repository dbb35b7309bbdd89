//! A loopback "internet" of scenarios for the probe: one DNS zone (`test.`), a fleet of fake
//! SMTP servers on 127.x addresses and ::1 sharing one port, a test CA, and the table of what
//! the probe must say about each domain.
//!
//! Data-driven on purpose: the library test and the command-line test run the same table, so
//! `probe --json` and the engine can never disagree. Checks work on the domain result JSON.
#![allow(dead_code)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header};

/// The deadline every scenario test uses for connect, replies, TLS and the greeting.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// One row of the table: a domain and what must be true of its result.
pub struct Case {
    pub domain: &'static str,
    pub verdict: &'static str,
    /// Extra checks on the domain result JSON; each returns a message when it fails.
    pub checks: Vec<Check>,
}

pub type Check = Box<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

pub struct World {
    pub dns: TestDns,
    pub fleet: SmtpFleet,
    pub pki: TestPki,
    pub ca_file: PathBuf,
    pub cases: Vec<Case>,
    /// Servers whose transcripts the tests inspect.
    pub shared_ip: IpAddr,
    _dir: tempfile::TempDir,
}

fn field_is(path: &'static [&'static str], expected: Value) -> Check {
    Box::new(move |json: &Value| {
        let mut value = json;
        for key in path {
            value = match key.parse::<usize>() {
                Ok(index) => &value[index],
                Err(_) => &value[*key],
            };
        }
        if *value == expected {
            Ok(())
        } else {
            Err(format!(
                "{} is {value}, expected {expected}",
                path.join(".")
            ))
        }
    })
}

fn first_address(key: &'static str, expected: Value) -> Check {
    let path: &'static [&'static str] = Box::leak(Box::new(["mx", "0", "addresses", "0", key]));
    field_is(path, expected)
}

fn elapsed_within(limit: Duration) -> Check {
    Box::new(move |json: &Value| {
        let elapsed = json["mx"][0]["addresses"][0]["elapsed_ms"]
            .as_u64()
            .ok_or("elapsed_ms missing")?;
        // Generous slack for loaded machines; the point is "bounded", not "fast".
        let bound = limit.as_millis() as u64 + 2500;
        if elapsed <= bound {
            Ok(())
        } else {
            Err(format!(
                "took {elapsed} ms, deadline was {} ms",
                limit.as_millis()
            ))
        }
    })
}

fn summary(starttls: Value, pfs: Value, strict: Value) -> Vec<Check> {
    vec![
        field_is(&["starttls"], starttls),
        field_is(&["pfs"], pfs),
        field_is(&["strict_valid"], strict),
    ]
}

fn null3() -> Vec<Check> {
    summary(Value::Null, Value::Null, Value::Null)
}

impl World {
    pub async fn build() -> World {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = pki.write_ca_file(dir.path());
        let ips = crate::support::unique_loopback_ips(40);
        let mut next = ips.into_iter();
        let mut ip = || next.next().expect("enough IPs");
        let v6: IpAddr = "::1".parse().expect("::1");

        let mut zone = soa_header("test");
        let mut servers: Vec<(IpAddr, Scenario)> = Vec::new();
        let good = |pki: &TestPki, name: &str| Scenario::Good {
            cert: pki.leaf(&[name], Validity::Current),
            versions: TlsVersions::Any,
        };
        let mut cases: Vec<Case> = Vec::new();

        // Helper: one domain, one MX host, one address, one scenario.
        let simple = |zone: &mut String,
                      servers: &mut Vec<(IpAddr, Scenario)>,
                      label: &'static str,
                      address: IpAddr,
                      scenario: Scenario| {
            zone.push_str(&format!(
                "{label} IN MX 10 mx.{label}\nmx.{label} IN {} {address}\n",
                if address.is_ipv4() { "A" } else { "AAAA" }
            ));
            servers.push((address, scenario));
        };

        // Valid chain to the test CA, name matches the MX host: the good case.
        simple(
            &mut zone,
            &mut servers,
            "valid",
            ip(),
            good(&pki, "mx.valid.test"),
        );
        let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(true));
        checks.push(first_address("cert_errors", serde_json::json!([])));
        checks.push(first_address("legacy_tls", Value::Bool(false)));
        checks.push(first_address("starttls_advertised", Value::Bool(true)));
        checks.push(Box::new(|json: &Value| {
            let address = &json["mx"][0]["addresses"][0];
            let before = address["ehlo_before_tls"].to_string();
            let after = address["ehlo_after_tls"].to_string();
            let days = address["cert_days_left"].as_i64().unwrap_or(-1);
            if !before.contains("STARTTLS") || !after.contains("AUTH") || after.contains("STARTTLS")
            {
                return Err(format!(
                    "EHLO extensions wrong: before {before}, after {after}"
                ));
            }
            if !(85..=90).contains(&days) {
                return Err(format!("cert_days_left {days}, expected about 89"));
            }
            if address["cert_key"] != "ECDSA P-256" {
                return Err(format!("cert_key {}", address["cert_key"]));
            }
            if address["cert_sha256"].as_str().map(str::len) != Some(64) {
                return Err("cert_sha256 is not 64 hex digits".into());
            }
            if address["cert_sans"] != serde_json::json!(["mx.valid.test"]) {
                return Err(format!("cert_sans {}", address["cert_sans"]));
            }
            if !address["cert_issuer"].to_string().contains("Test Root CA") {
                return Err(format!("cert_issuer {}", address["cert_issuer"]));
            }
            Ok(())
        }));
        cases.push(Case {
            domain: "valid.test",
            verdict: "tls_ok",
            checks,
        });

        // Self-signed, wrong name, expired, not yet valid, expired + wrong name.
        for (label, cert, errors) in [
            (
                "selfsigned",
                TestPki::self_signed(&["mx.selfsigned.test"], Validity::Current),
                serde_json::json!(["self_signed"]),
            ),
            (
                "wrongname",
                pki.leaf(&["other.example.test"], Validity::Current),
                serde_json::json!(["name_mismatch"]),
            ),
            (
                "expired",
                pki.leaf(&["mx.expired.test"], Validity::Expired),
                serde_json::json!(["expired"]),
            ),
            (
                "notyet",
                pki.leaf(&["mx.notyet.test"], Validity::NotYetValid),
                serde_json::json!(["not_yet_valid"]),
            ),
            (
                "expiredwrong",
                pki.leaf(&["mail.elsewhere.test"], Validity::Expired),
                serde_json::json!(["name_mismatch", "expired"]),
            ),
        ] {
            simple(
                &mut zone,
                &mut servers,
                label,
                ip(),
                Scenario::Good {
                    cert,
                    versions: TlsVersions::Any,
                },
            );
            let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(false));
            checks.push(first_address("cert_errors", errors));
            checks.push(first_address("strict_valid", Value::Bool(false)));
            cases.push(Case {
                domain: Box::leak(format!("{label}.test").into_boxed_str()),
                verdict: "tls_ok",
                checks,
            });
        }

        // Wildcard certificate covering the MX host.
        simple(
            &mut zone,
            &mut servers,
            "wildcard",
            ip(),
            Scenario::Good {
                cert: pki.leaf(&["*.wildcard.test"], Validity::Current),
                versions: TlsVersions::Any,
            },
        );
        cases.push(Case {
            domain: "wildcard.test",
            verdict: "tls_ok",
            checks: summary(Value::Bool(true), Value::Bool(true), Value::Bool(true)),
        });

        // TLS 1.2 only and TLS 1.3 only.
        // NCSC-NL grade: TLS 1.3 with an AEAD suite and ECDHE is good; TLS 1.2 at best
        // sufficient (the version's grade).
        for (label, versions, version, suite_part, grade) in [
            (
                "tls12",
                TlsVersions::Tls12Only,
                "TLSv1.2",
                "TLS_ECDHE_ECDSA_WITH_",
                "sufficient",
            ),
            (
                "tls13",
                TlsVersions::Tls13Only,
                "TLSv1.3",
                "TLS_AES_",
                "good",
            ),
        ] {
            let name = format!("mx.{label}.test");
            simple(
                &mut zone,
                &mut servers,
                label,
                ip(),
                Scenario::Good {
                    cert: pki.leaf(&[name.as_str()], Validity::Current),
                    versions,
                },
            );
            let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(true));
            checks.push(first_address("tls_version", Value::from(version)));
            checks.push(first_address("pfs", Value::Bool(true)));
            checks.push(first_address("tls_grade", Value::from(grade)));
            checks.push(field_is(&["tls_grade"], Value::from(grade)));
            checks.push(Box::new(move |json: &Value| {
                let address = &json["mx"][0]["addresses"][0];
                let suite = address["cipher_suite"].as_str().unwrap_or("");
                let group = address["kx_group"].as_str().unwrap_or("");
                if !suite.starts_with(suite_part) {
                    return Err(format!("cipher_suite {suite}, expected {suite_part}..."));
                }
                if group.is_empty() {
                    return Err("kx_group missing".into());
                }
                Ok(())
            }));
            cases.push(Case {
                domain: Box::leak(format!("{label}.test").into_boxed_str()),
                verdict: "tls_ok",
                checks,
            });
        }

        // No STARTTLS; STARTTLS refused with 454; handshake failures.
        simple(
            &mut zone,
            &mut servers,
            "nostarttls",
            ip(),
            Scenario::NoStarttls,
        );
        let mut checks = summary(Value::Bool(false), Value::Bool(false), Value::Bool(false));
        checks.push(first_address("starttls_advertised", Value::Bool(false)));
        cases.push(Case {
            domain: "nostarttls.test",
            verdict: "no_starttls",
            checks,
        });
        simple(
            &mut zone,
            &mut servers,
            "refused454",
            ip(),
            Scenario::Starttls454,
        );
        let mut checks = summary(Value::Bool(false), Value::Bool(false), Value::Bool(false));
        checks.push(first_address("smtp_code", Value::from(454)));
        checks.push(first_address("reason", Value::from("starttls_rejected")));
        cases.push(Case {
            domain: "refused454.test",
            verdict: "tls_failed",
            checks,
        });
        for (label, scenario, reason) in [
            ("hsgarbage", Scenario::HandshakeGarbage, "handshake_failed"),
            ("hsalert", Scenario::HandshakeAlert, "handshake_failed"),
            ("closeafter220", Scenario::CloseAfter220, "handshake_failed"),
            (
                "inject",
                Scenario::InjectAfter220 {
                    cert: pki.leaf(&["mx.inject.test"], Validity::Current),
                },
                "plaintext_after_starttls",
            ),
        ] {
            simple(&mut zone, &mut servers, label, ip(), scenario);
            let mut checks = summary(Value::Bool(false), Value::Bool(false), Value::Bool(false));
            checks.push(first_address("reason", Value::from(reason)));
            checks.push(first_address("tls_version", Value::Null));
            checks.push(first_address("tls_grade", Value::Null));
            checks.push(field_is(&["tls_grade"], Value::Null));
            cases.push(Case {
                domain: Box::leak(format!("{label}.test").into_boxed_str()),
                verdict: "tls_failed",
                checks,
            });
        }

        // Untestable peers: each within its deadline, never "no STARTTLS".
        for (label, scenario, reason, code) in [
            (
                "greet421",
                Scenario::Greeting421,
                "greeting_rejected",
                Value::from(421),
            ),
            (
                "greet554",
                Scenario::Greeting554,
                "greeting_rejected",
                Value::from(554),
            ),
            (
                "silent",
                Scenario::SilentGreeting,
                "greeting_timeout",
                Value::Null,
            ),
            (
                "drip",
                Scenario::DripGreeting,
                "greeting_timeout",
                Value::Null,
            ),
            ("garbage", Scenario::Garbage, "bad_reply", Value::Null),
            (
                "longline",
                Scenario::LongLine,
                "reply_too_long",
                Value::Null,
            ),
            (
                "endless",
                Scenario::EndlessReply,
                "reply_too_long",
                Value::Null,
            ),
        ] {
            simple(&mut zone, &mut servers, label, ip(), scenario);
            let mut checks = null3();
            checks.push(first_address("outcome", Value::from("untestable")));
            checks.push(first_address("reason", Value::from(reason)));
            checks.push(first_address("smtp_code", code));
            checks.push(elapsed_within(DEADLINE));
            cases.push(Case {
                domain: Box::leak(format!("{label}.test").into_boxed_str()),
                verdict: "untestable",
                checks,
            });
        }

        // A postscreen-style greeting delay shorter than the deadline is fine.
        simple(
            &mut zone,
            &mut servers,
            "slowgreet",
            ip(),
            Scenario::SlowGreeting {
                delay: Duration::from_millis(1500),
                cert: pki.leaf(&["mx.slowgreet.test"], Validity::Current),
            },
        );
        cases.push(Case {
            domain: "slowgreet.test",
            verdict: "tls_ok",
            checks: summary(Value::Bool(true), Value::Bool(true), Value::Bool(true)),
        });

        // Null MX.
        zone.push_str("nullmx IN MX 0 .\n");
        let mut checks = null3();
        checks.push(field_is(&["mx"], serde_json::json!([])));
        cases.push(Case {
            domain: "nullmx.test",
            verdict: "no_mail",
            checks,
        });

        // Implicit MX: no MX record, the domain's own address.
        let implicit_ip = ip();
        zone.push_str(&format!("implicit IN A {implicit_ip}\n"));
        servers.push((implicit_ip, good(&pki, "implicit.test")));
        let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(true));
        checks.push(field_is(&["mx", "0", "implicit"], Value::Bool(true)));
        checks.push(field_is(&["mx", "0", "host"], Value::from("implicit.test")));
        checks.push(first_address("ip", Value::from(implicit_ip.to_string())));
        cases.push(Case {
            domain: "implicit.test",
            verdict: "tls_ok",
            checks,
        });

        // CNAME'd MX host: probed; the name checked is the MX record's, not the CNAME target.
        let cname_ip = ip();
        zone.push_str(&format!(
            "cname IN MX 10 alias.cname\nalias.cname IN CNAME real.cname\nreal.cname IN A {cname_ip}\n"
        ));
        servers.push((cname_ip, good(&pki, "alias.cname.test")));
        let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(true));
        checks.push(field_is(
            &["mx", "0", "cname_target"],
            Value::from("real.cname.test"),
        ));
        checks.push(field_is(
            &["mx", "0", "host"],
            Value::from("alias.cname.test"),
        ));
        cases.push(Case {
            domain: "cname.test",
            verdict: "tls_ok",
            checks,
        });
        let cname2_ip = ip();
        zone.push_str(&format!(
            "cname2 IN MX 10 alias.cname2\nalias.cname2 IN CNAME real.cname2\nreal.cname2 IN A {cname2_ip}\n"
        ));
        servers.push((cname2_ip, good(&pki, "real.cname2.test")));
        let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(false));
        checks.push(first_address(
            "cert_errors",
            serde_json::json!(["name_mismatch"]),
        ));
        cases.push(Case {
            domain: "cname2.test",
            verdict: "tls_ok",
            checks,
        });

        // DNS failures.
        zone.push_str("unresolvable IN MX 10 missing.unresolvable\n");
        let mut checks = null3();
        checks.push(field_is(&["mx", "0", "dns_error"], Value::from("nxdomain")));
        checks.push(field_is(&["mx", "0", "addresses"], serde_json::json!([])));
        cases.push(Case {
            domain: "unresolvable.test",
            verdict: "untestable",
            checks,
        });
        let mut checks = null3();
        checks.push(field_is(&["dns_error"], Value::from("nxdomain")));
        cases.push(Case {
            domain: "doesnotexist.test",
            verdict: "untestable",
            checks,
        });
        zone.push_str("noaddress IN TXT \"v=spf1 -all\"\n");
        let mut checks = null3();
        checks.push(field_is(&["dns_error"], Value::from("no_address")));
        checks.push(field_is(&["mx", "0", "implicit"], Value::Bool(true)));
        cases.push(Case {
            domain: "noaddress.test",
            verdict: "untestable",
            checks,
        });

        // Refused primary + good secondary: a good domain with one untestable host.
        let refused_ip = ip(); // nothing listens there
        let secondary_ip = ip();
        zone.push_str(&format!(
            "failover IN MX 10 mx1.failover\nfailover IN MX 20 mx2.failover\n\
             mx1.failover IN A {refused_ip}\nmx2.failover IN A {secondary_ip}\n"
        ));
        servers.push((secondary_ip, good(&pki, "mx2.failover.test")));
        let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(true));
        checks.push(field_is(&["mx", "0", "verdict"], Value::from("untestable")));
        checks.push(first_address("reason", Value::from("connect_refused")));
        checks.push(field_is(&["mx", "1", "verdict"], Value::from("tls_ok")));
        cases.push(Case {
            domain: "failover.test",
            verdict: "tls_ok",
            checks,
        });

        // Worst MX wins: one good host, one without STARTTLS.
        let mixed_good = ip();
        let mixed_bad = ip();
        zone.push_str(&format!(
            "mixed IN MX 10 mx1.mixed\nmixed IN MX 20 mx2.mixed\n\
             mx1.mixed IN A {mixed_good}\nmx2.mixed IN A {mixed_bad}\n"
        ));
        servers.push((mixed_good, good(&pki, "mx1.mixed.test")));
        servers.push((mixed_bad, Scenario::NoStarttls));
        cases.push(Case {
            domain: "mixed.test",
            verdict: "no_starttls",
            checks: summary(Value::Bool(false), Value::Bool(false), Value::Bool(false)),
        });

        // IPv6-only MX on ::1.
        zone.push_str("ipv6 IN MX 10 mx6.ipv6\nmx6.ipv6 IN AAAA ::1\n");
        servers.push((v6, good(&pki, "mx6.ipv6.test")));
        let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(true));
        checks.push(first_address("ip", Value::from("::1")));
        cases.push(Case {
            domain: "ipv6.test",
            verdict: "tls_ok",
            checks,
        });

        // Many domains sharing one MX host, and several MX names on one IP.
        let shared_ip = ip();
        servers.push((shared_ip, good(&pki, "mx.shared.test")));
        zone.push_str(&format!("mx.shared IN A {shared_ip}\n"));
        for index in 0..8 {
            zone.push_str(&format!("shared{index} IN MX 10 mx.shared\n"));
            cases.push(Case {
                domain: Box::leak(format!("shared{index}.test").into_boxed_str()),
                verdict: "tls_ok",
                checks: summary(Value::Bool(true), Value::Bool(true), Value::Bool(true)),
            });
        }
        for index in 0..4 {
            zone.push_str(&format!(
                "sameip{index} IN MX 10 mx.sameip{index}\nmx.sameip{index} IN A {shared_ip}\n"
            ));
            // The shared server's certificate names mx.shared.test only.
            let mut checks = summary(Value::Bool(true), Value::Bool(true), Value::Bool(false));
            checks.push(first_address(
                "cert_errors",
                serde_json::json!(["name_mismatch"]),
            ));
            cases.push(Case {
                domain: Box::leak(format!("sameip{index}.test").into_boxed_str()),
                verdict: "tls_ok",
                checks,
            });
        }

        let fleet = SmtpFleet::start(servers).await;
        let dns = TestDns::start(&[("test.", zone.as_str())]).await;
        World {
            dns,
            fleet,
            pki,
            ca_file,
            cases,
            shared_ip,
            _dir: dir,
        }
    }

    /// Every domain of the table, in order.
    pub fn domains(&self) -> Vec<&'static str> {
        self.cases.iter().map(|case| case.domain).collect()
    }

    /// Runs the table's checks against results (as JSON, keyed by domain); returns every failure.
    pub fn check_all(&self, results: &[Value]) -> Vec<String> {
        let mut failures = Vec::new();
        for case in &self.cases {
            let Some(json) = results.iter().find(|json| json["domain"] == case.domain) else {
                failures.push(format!("{}: no result", case.domain));
                continue;
            };
            if json["verdict"] != case.verdict {
                failures.push(format!(
                    "{}: verdict {}, expected {} ({})",
                    case.domain,
                    json["verdict"],
                    case.verdict,
                    json["mx"].to_string().chars().take(600).collect::<String>()
                ));
                continue;
            }
            for check in &case.checks {
                if let Err(message) = check(json) {
                    failures.push(format!("{}: {message}", case.domain));
                }
            }
        }
        failures
    }

    /// Every command any fake server received, across all servers.
    pub fn all_commands(&self) -> Vec<String> {
        self.fleet
            .servers
            .iter()
            .flat_map(|server| server.recorded_commands())
            .collect()
    }
}
