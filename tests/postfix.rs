//! Verdicts against real mail server software: Debian's Postfix, one instance per configuration
//! a real operator might have (issue 6), each on its own 127.0.x.y address, found through an
//! in-process DNS zone, probed through the library (`Prober`, with and without deep mode) and
//! through the binary (`probe --json --deep`).
//!
//! Needs the `postfix` package and root (CI installs it and runs as root). Without them the
//! tests say plainly on stderr that they are skipped; under `CI=true` they fail instead.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod postfix_support;
mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use postfix_support::{
    Credentials, InstanceConfig, PostfixInstance, RsaPki, Validity, free_port, next_loopback_ip,
    postfix_ready,
};
use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::{TestDns, soa_header};

/// The zone every Postfix MX host lives in.
const ORIGIN: &str = "postfix.test";
/// Deadline for every network step of the probe.
const DEADLINE: Duration = Duration::from_secs(5);

/// One Postfix configuration and everything the probe must say about it.
struct Case {
    /// DNS label: the domain is `<label>.postfix.test`, its MX host `mx.<label>.postfix.test`.
    label: &'static str,
    /// What the configuration is, for the table.
    description: &'static str,
    /// Key and certificate for the MX host name, and extra `main.cf` lines.
    setup: fn(&RsaPki, &str) -> Setup,
    expected: Expected,
}

struct Setup {
    credentials: Option<Credentials>,
    main_cf: &'static [&'static str],
    openssl_security_level_0: bool,
}

/// What one address's result must say. `None` in an `Option<Option<_>>` field means "JSON null".
#[derive(Clone, Copy)]
struct Expected {
    verdict: &'static str,
    tls_version: Option<&'static str>,
    cipher_suite: Option<&'static str>,
    kx_group: Option<&'static str>,
    pfs: Option<bool>,
    strict_valid: Option<bool>,
    cert_errors: &'static [&'static str],
    legacy_tls: Option<bool>,
    /// What deep mode says.
    prefers_non_pfs: Option<bool>,
    /// SMTP sessions per probe without deep mode (2 when the legacy fallback ran).
    sessions: usize,
}

/// TLS 1.0 and 1.1 need security level 0 under OpenSSL 3, on the server too.
const SECLEVEL_0_CIPHERS: &str =
    "tls_medium_cipherlist = aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:@SECLEVEL=0";

fn ca_signed(pki: &RsaPki, mx_host: &str) -> Setup {
    Setup {
        credentials: Some(pki.leaf(&[mx_host], Validity::Current, 2048)),
        main_cf: &[],
        openssl_security_level_0: false,
    }
}

fn cases() -> Vec<Case> {
    let modern = |suite, prefers_non_pfs, strict_valid, cert_errors| Expected {
        verdict: "tls_ok",
        tls_version: Some("TLSv1.3"),
        cipher_suite: Some(suite),
        kx_group: Some("X25519"),
        pfs: Some(true),
        strict_valid: Some(strict_valid),
        cert_errors,
        legacy_tls: Some(false),
        prefers_non_pfs,
        sessions: 1,
    };
    vec![
        Case {
            label: "defaults",
            description: "Debian defaults, CA-signed RSA-2048 certificate",
            setup: ca_signed,
            // Postfix follows the client's suite order by default (tls_preempt_cipherlist = no):
            // a TLS 1.2 sender that prefers RSA key exchange gets it.
            expected: modern("TLS_AES_256_GCM_SHA384", Some(true), true, &[]),
        },
        Case {
            label: "preempt",
            description: "defaults + tls_preempt_cipherlist = yes (server's suite order)",
            setup: |pki, mx_host| Setup {
                main_cf: &["tls_preempt_cipherlist = yes"],
                ..ca_signed(pki, mx_host)
            },
            expected: modern("TLS_AES_256_GCM_SHA384", Some(false), true, &[]),
        },
        Case {
            label: "selfsigned",
            description: "self-signed certificate",
            setup: |_, mx_host| Setup {
                credentials: Some(RsaPki::self_signed(&[mx_host], Validity::Current)),
                main_cf: &[],
                openssl_security_level_0: false,
            },
            expected: modern(
                "TLS_AES_256_GCM_SHA384",
                Some(true),
                false,
                &["self_signed"],
            ),
        },
        Case {
            label: "wrongname",
            description: "CA-signed certificate for another name",
            setup: |pki, _| Setup {
                credentials: Some(pki.leaf(&["mail.elsewhere.test"], Validity::Current, 2048)),
                main_cf: &[],
                openssl_security_level_0: false,
            },
            expected: modern(
                "TLS_AES_256_GCM_SHA384",
                Some(true),
                false,
                &["name_mismatch"],
            ),
        },
        Case {
            label: "expired",
            description: "CA-signed certificate, expired",
            setup: |pki, mx_host| Setup {
                credentials: Some(pki.leaf(&[mx_host], Validity::Expired, 2048)),
                main_cf: &[],
                openssl_security_level_0: false,
            },
            expected: modern("TLS_AES_256_GCM_SHA384", Some(true), false, &["expired"]),
        },
        Case {
            label: "nostarttls",
            description: "no STARTTLS (smtpd_tls_security_level = none)",
            setup: |_, _| Setup {
                credentials: None,
                main_cf: &[],
                openssl_security_level_0: false,
            },
            expected: Expected {
                verdict: "no_starttls",
                tls_version: None,
                cipher_suite: None,
                kx_group: None,
                pfs: None,
                strict_valid: None,
                cert_errors: &[],
                legacy_tls: None,
                prefers_non_pfs: None,
                sessions: 1,
            },
        },
        Case {
            label: "rsakx",
            description: "TLS 1.2 only, RSA key exchange only (no PFS)",
            setup: |pki, mx_host| Setup {
                main_cf: &[
                    "smtpd_tls_protocols = >=TLSv1.2, <=TLSv1.2",
                    "smtpd_tls_exclude_ciphers = kECDHE, kDHE, aNULL",
                ],
                ..ca_signed(pki, mx_host)
            },
            expected: Expected {
                verdict: "tls_ok",
                tls_version: Some("TLSv1.2"),
                cipher_suite: Some("TLS_RSA_WITH_AES_256_GCM_SHA384"),
                kx_group: None,
                pfs: Some(false),
                strict_valid: Some(true),
                cert_errors: &[],
                legacy_tls: Some(true),
                prefers_non_pfs: Some(true),
                sessions: 2,
            },
        },
        Case {
            label: "tls1011",
            description: "TLS 1.0/1.1 only, @SECLEVEL=0",
            setup: |pki, mx_host| Setup {
                main_cf: &[
                    "smtpd_tls_protocols = >=TLSv1, <=TLSv1.1",
                    SECLEVEL_0_CIPHERS,
                ],
                ..ca_signed(pki, mx_host)
            },
            expected: Expected {
                verdict: "tls_ok",
                tls_version: Some("TLSv1.1"),
                cipher_suite: Some("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
                kx_group: Some("X25519"),
                pfs: Some(true),
                strict_valid: Some(true),
                cert_errors: &[],
                legacy_tls: Some(true),
                prefers_non_pfs: Some(true),
                sessions: 2,
            },
        },
        Case {
            label: "tls10",
            description: "TLS 1.0 only, @SECLEVEL=0",
            setup: |pki, mx_host| Setup {
                main_cf: &["smtpd_tls_protocols = >=TLSv1, <=TLSv1", SECLEVEL_0_CIPHERS],
                ..ca_signed(pki, mx_host)
            },
            expected: Expected {
                verdict: "tls_ok",
                tls_version: Some("TLSv1.0"),
                cipher_suite: Some("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
                kx_group: Some("X25519"),
                pfs: Some(true),
                strict_valid: Some(true),
                cert_errors: &[],
                legacy_tls: Some(true),
                prefers_non_pfs: Some(true),
                sessions: 2,
            },
        },
        Case {
            label: "tls13",
            description: "TLS 1.3 only",
            setup: |pki, mx_host| Setup {
                main_cf: &["smtpd_tls_protocols = >=TLSv1.3"],
                ..ca_signed(pki, mx_host)
            },
            // It refuses TLS 1.2 and older outright, so it never picks RSA key exchange.
            expected: modern("TLS_AES_256_GCM_SHA384", Some(false), true, &[]),
        },
        Case {
            label: "rsa1024",
            description: "defaults, CA-signed RSA-1024 certificate (OpenSSL @SECLEVEL=0)",
            setup: |pki, mx_host| Setup {
                credentials: Some(pki.leaf(&[mx_host], Validity::Current, 1024)),
                main_cf: &[SECLEVEL_0_CIPHERS],
                openssl_security_level_0: true,
            },
            // ring refuses 1024-bit RSA signatures, so rustls fails; OpenSSL completes TLS 1.2,
            // and a key no WebPKI client can use is not strictly valid.
            expected: Expected {
                verdict: "tls_ok",
                tls_version: Some("TLSv1.2"),
                cipher_suite: Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
                kx_group: Some("X25519"),
                pfs: Some(true),
                strict_valid: Some(false),
                cert_errors: &["unsupported_key"],
                legacy_tls: Some(true),
                prefers_non_pfs: Some(true),
                sessions: 2,
            },
        },
    ]
}

/// The running instances, the DNS zone that points at them, and the test root.
struct PostfixWorld {
    /// Same order as the cases given to `start`.
    instances: Vec<PostfixInstance>,
    dns: TestDns,
    port: u16,
    ca_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl PostfixWorld {
    /// Starts one instance per case (in parallel) and the DNS server.
    async fn start(cases: &[Case]) -> PostfixWorld {
        let pki = RsaPki::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = pki.write_ca_file(dir.path());
        let port = free_port();
        let mut zone = soa_header(ORIGIN);
        let mut configs = Vec::new();
        for case in cases {
            let ip = next_loopback_ip();
            let mx_host = format!("mx.{}.{ORIGIN}", case.label);
            zone.push_str(&format!(
                "{label} IN MX 10 mx.{label}\nmx.{label} IN A {ip}\n",
                label = case.label
            ));
            let setup = (case.setup)(&pki, &mx_host);
            configs.push(InstanceConfig {
                label: case.label.to_string(),
                hostname: mx_host,
                ip,
                port,
                credentials: setup.credentials,
                main_cf: setup.main_cf.iter().map(|line| line.to_string()).collect(),
                openssl_security_level_0: setup.openssl_security_level_0,
            });
        }
        let instances = tokio::task::spawn_blocking(move || start_all(configs))
            .await
            .expect("starting Postfix instances");
        let dns = TestDns::start(&[(ORIGIN, zone.as_str())]).await;
        PostfixWorld {
            instances,
            dns,
            port,
            ca_file,
            _dir: dir,
        }
    }

    fn probe_config(&self, deep: bool) -> ProbeConfig {
        let mut config = ProbeConfig {
            dns: DnsServer::Custom(self.dns.addr),
            smtp_port: self.port,
            connect_timeout: DEADLINE,
            greeting_timeout: DEADLINE,
            command_timeout: DEADLINE,
            tls_timeout: DEADLINE,
            ehlo_name: "probe.starttls-monitor.test".to_string(),
            deep,
            ..ProbeConfig::default()
        };
        config.load_ca_file(&self.ca_file).expect("test root loads");
        config
    }

    /// Probes every case's domain through the library; results as JSON by label.
    async fn probe(&self, cases: &[Case], deep: bool) -> BTreeMap<&'static str, Value> {
        let prober = Prober::new(self.probe_config(deep)).expect("prober");
        let domains: Vec<DomainName> = cases
            .iter()
            .map(|case| DomainName::parse(&domain(case.label)).expect("valid domain"))
            .collect();
        let mut results = BTreeMap::new();
        prober
            .start_run()
            .probe_many(domains, |index, result| {
                let json = serde_json::to_value(&result).expect("serializes");
                results.insert(cases[index].label, json);
            })
            .await;
        results
    }

    /// Every instance's log, for failure messages.
    fn logs(&self) -> String {
        self.instances
            .iter()
            .map(|instance| format!("--- {} ---\n{}", instance.label, instance.log()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for PostfixWorld {
    /// Stops the instances at once rather than one after the other (`postfix stop` takes about
    /// two seconds each); each instance's own guard does the stopping.
    fn drop(&mut self) {
        stop_all(std::mem::take(&mut self.instances));
    }
}

fn stop_all(instances: Vec<PostfixInstance>) {
    std::thread::scope(|scope| {
        for instance in instances {
            scope.spawn(move || drop(instance));
        }
    });
}

/// Starts every instance on its own thread; a panic in one is re-raised after the others have
/// been started (and so will be stopped by their guards).
fn start_all(configs: Vec<InstanceConfig>) -> Vec<PostfixInstance> {
    let outcomes: Vec<std::thread::Result<PostfixInstance>> = std::thread::scope(|scope| {
        let handles: Vec<_> = configs
            .into_iter()
            .map(|config| scope.spawn(move || PostfixInstance::start(config)))
            .collect();
        handles.into_iter().map(|handle| handle.join()).collect()
    });
    let mut instances = Vec::new();
    let mut failure = None;
    for outcome in outcomes {
        match outcome {
            Ok(instance) => instances.push(instance),
            Err(panic) => failure = Some(panic),
        }
    }
    if let Some(panic) = failure {
        stop_all(instances);
        std::panic::resume_unwind(panic);
    }
    instances
}

fn domain(label: &str) -> String {
    format!("{label}.{ORIGIN}")
}

fn json_option<T: Into<Value>>(value: Option<T>) -> Value {
    value.map_or(Value::Null, Into::into)
}

/// Compares one domain result with the case's expectations; returns every difference.
fn check(case: &Case, json: &Value, deep: bool) -> Vec<String> {
    let expected = &case.expected;
    let address = &json["mx"][0]["addresses"][0];
    let mut problems = Vec::new();
    let mut compare = |what: &str, actual: &Value, wanted: Value| {
        if *actual != wanted {
            problems.push(format!(
                "{}: {what} is {actual}, expected {wanted}",
                case.label
            ));
        }
    };
    compare("verdict", &json["verdict"], Value::from(expected.verdict));
    compare(
        "outcome",
        &address["outcome"],
        Value::from(expected.verdict),
    );
    compare(
        "tls_version",
        &address["tls_version"],
        json_option(expected.tls_version),
    );
    compare(
        "cipher_suite",
        &address["cipher_suite"],
        json_option(expected.cipher_suite),
    );
    compare(
        "kx_group",
        &address["kx_group"],
        json_option(expected.kx_group),
    );
    compare("pfs", &address["pfs"], json_option(expected.pfs));
    compare(
        "strict_valid",
        &address["strict_valid"],
        json_option(expected.strict_valid),
    );
    compare(
        "cert_errors",
        &address["cert_errors"],
        Value::from(expected.cert_errors.to_vec()),
    );
    compare(
        "legacy_tls",
        &address["legacy_tls"],
        json_option(expected.legacy_tls),
    );
    compare(
        "prefers_non_pfs",
        &address["prefers_non_pfs"],
        if deep {
            json_option(expected.prefers_non_pfs)
        } else {
            Value::Null
        },
    );
    // The domain summary follows the address (one MX host, one address).
    let tls_ok = expected.verdict == "tls_ok";
    compare("domain starttls", &json["starttls"], Value::from(tls_ok));
    compare(
        "domain pfs",
        &json["pfs"],
        Value::from(tls_ok && expected.pfs == Some(true)),
    );
    compare(
        "domain strict_valid",
        &json["strict_valid"],
        Value::from(tls_ok && expected.strict_valid == Some(true)),
    );
    if tls_ok {
        let after = address["ehlo_after_tls"].to_string();
        if !after.contains("PIPELINING") || after.contains("STARTTLS") {
            problems.push(format!("{}: EHLO over TLS gave {after}", case.label));
        }
    }
    if problems.is_empty() {
        Vec::new()
    } else {
        problems.push(format!("    {}: detail {}", case.label, address["detail"]));
        problems
    }
}

/// The table of issue 6, printed with `--nocapture`.
fn table(cases: &[Case], results: &BTreeMap<&'static str, Value>) -> String {
    let mut text = String::from(
        "| configuration | verdict | tls_version | cipher_suite | pfs | strict_valid | cert_errors | legacy_tls | prefers_non_pfs (--deep) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for case in cases {
        let Some(json) = results.get(case.label) else {
            continue;
        };
        let address = &json["mx"][0]["addresses"][0];
        let show = |value: &Value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            case.description,
            show(&json["verdict"]),
            show(&address["tls_version"]),
            show(&address["cipher_suite"]),
            show(&address["pfs"]),
            show(&address["strict_valid"]),
            show(&address["cert_errors"]),
            show(&address["legacy_tls"]),
            show(&address["prefers_non_pfs"]),
        ));
    }
    text
}

/// Asserts that Postfix only ever saw EHLO, STARTTLS and QUIT from us, and returns how many
/// sessions each instance logged.
fn session_counts(world: &PostfixWorld) -> Vec<usize> {
    let mut counts = Vec::new();
    for instance in &world.instances {
        let summaries = instance.session_summaries();
        for summary in &summaries {
            for token in summary.split_whitespace().skip(1) {
                let command = token.split('=').next().unwrap_or("");
                assert!(
                    matches!(command, "ehlo" | "starttls" | "quit" | "commands"),
                    "{} saw more than EHLO/STARTTLS/QUIT: {summary}",
                    instance.label
                );
            }
        }
        counts.push(summaries.len());
    }
    counts
}

/// Waits until every session has been logged (Postfix writes the summary when the session ends,
/// a moment after our QUIT).
async fn settled_session_counts(world: &PostfixWorld, minimum: &[usize]) -> Vec<usize> {
    for _ in 0..40 {
        let counts = session_counts(world);
        if counts.iter().zip(minimum).all(|(count, min)| count >= min) {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    session_counts(world)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_postfix_configuration_gets_its_true_verdict() {
    if !postfix_ready("every_postfix_configuration_gets_its_true_verdict") {
        return;
    }
    let cases = cases();
    let world = PostfixWorld::start(&cases).await;
    // The readiness check made one session per instance.
    let before = settled_session_counts(&world, &vec![1; cases.len()]).await;

    // Plain mode: the verdicts, and one more session only where rustls could not finish.
    let results = world.probe(&cases, false).await;
    let mut failures = Vec::new();
    for case in &cases {
        match results.get(case.label) {
            Some(json) => failures.extend(check(case, json, false)),
            None => failures.push(format!("{}: no result", case.label)),
        }
    }
    let wanted: Vec<usize> = before
        .iter()
        .zip(&cases)
        .map(|(count, case)| count + case.expected.sessions)
        .collect();
    let after = settled_session_counts(&world, &wanted).await;
    for ((case, wanted), after) in cases.iter().zip(&wanted).zip(&after) {
        if after != wanted {
            failures.push(format!(
                "{}: {} session(s) per probe, expected {}",
                case.label,
                after - (wanted - case.expected.sessions),
                case.expected.sessions
            ));
        }
    }

    // Deep mode: the same verdicts, plus whether the server picks RSA key exchange when a
    // sender offers it first (one more session per address that completed TLS).
    let deep_results = world.probe(&cases, true).await;
    for case in &cases {
        match deep_results.get(case.label) {
            Some(json) => failures.extend(check(case, json, true)),
            None => failures.push(format!("{}: no deep result", case.label)),
        }
    }
    println!("{}", table(&cases, &deep_results));
    assert!(
        failures.is_empty(),
        "{} check(s) failed:\n{}\n\n{}",
        failures.len(),
        failures.join("\n"),
        world.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_json_deep_against_postfix() {
    if !postfix_ready("probe_json_deep_against_postfix") {
        return;
    }
    let all = cases();
    let cases: Vec<Case> = all
        .into_iter()
        .filter(|case| matches!(case.label, "defaults" | "rsakx" | "tls1011"))
        .collect();
    let world = PostfixWorld::start(&cases).await;
    let domains: Vec<String> = cases.iter().map(|case| domain(case.label)).collect();
    let output = run_binary(
        &world.dns.addr,
        world.port,
        &world.ca_file,
        &["--json", "--deep"],
        &domains,
    )
    .await;
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), cases.len(), "{stdout}");
    let mut failures = Vec::new();
    for (case, json) in cases.iter().zip(&lines) {
        assert_eq!(json["domain"], domain(case.label));
        failures.extend(check(case, json, true));
    }
    assert!(
        failures.is_empty(),
        "{}\n\n{}",
        failures.join("\n"),
        world.logs()
    );

    // The readable table says which sessions were legacy and which servers pick RSA.
    let output = run_binary(
        &world.dns.addr,
        world.port,
        &world.ca_file,
        &["--deep"],
        &[domain("rsakx")],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("TLS_RSA_WITH_AES_256_GCM_SHA384") && stdout.contains("legacy TLS"),
        "{stdout}"
    );
    assert!(stdout.contains("prefers non-PFS"), "{stdout}");
}

async fn run_binary(
    dns: &SocketAddr,
    port: u16,
    ca_file: &Path,
    options: &[&str],
    domains: &[String],
) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command
        .arg("probe")
        .args(options)
        .args(domains)
        .args(["--dns", &dns.to_string()])
        .args(["--smtp-port", &port.to_string()])
        .args(["--ca-file", ca_file.to_str().expect("utf-8 path")])
        .args(["--timeout", "5", "--greeting-timeout", "5"]);
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("join")
}
