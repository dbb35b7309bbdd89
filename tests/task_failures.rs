//! A probe task that fails (panics) still yields its result, and the run goes on (issue 12,
//! part 9): through `probe --json` and `scan`, with the test-only fault-injection seam
//! (`starttls_monitor::probe::fault`, cargo feature `fault-injection`, on for this crate's own
//! tests) making the task of one domain, one MX host and one address panic.
//!
//! Before the fix a panicked domain vanished: `probe` printed nothing from it on (it prints in
//! argument order) and still exited 0, and a scan counted fewer domains than it started; a
//! panicked address vanished from its host, so the host was judged on the others alone without
//! a word.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::probe::fault::ENVIRONMENT_VARIABLE;
use starttls_monitor::store::Store;
use support::{
    Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header, unique_loopback_ips,
};

/// The domains, in the order they are given to `probe`: the faults sit between good domains,
/// so a domain lost after them shows.
const DOMAINS: [&str; 5] = [
    "first.test",
    "boomdomain.test",
    "boomhost.test",
    "boomaddr.test",
    "last.test",
];

/// A loopback world where three probe tasks panic.
struct FaultyWorld {
    dns: TestDns,
    fleet: SmtpFleet,
    ca_file: PathBuf,
    /// `boomaddr.test`'s one MX host has these two addresses: a server without STARTTLS, and
    /// a good one whose task panics.
    no_starttls_ip: IpAddr,
    panicking_ip: IpAddr,
    /// The value of the fault-injection environment variable for the binary.
    faults: String,
    dir: tempfile::TempDir,
}

impl FaultyWorld {
    async fn build() -> FaultyWorld {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = pki.write_ca_file(dir.path());
        let ips = unique_loopback_ips(7);
        let good = |name: &str| Scenario::Good {
            cert: pki.leaf(&[name], Validity::Current),
            versions: TlsVersions::Any,
        };
        let (no_starttls_ip, panicking_ip) = (ips[4], ips[5]);
        let mut zone = soa_header("test");
        zone.push_str(&format!(
            "first IN MX 10 mx.first\nmx.first IN A {}\n\
             boomdomain IN MX 10 mx.boomdomain\nmx.boomdomain IN A {}\n\
             boomhost IN MX 10 mx1.boomhost\nboomhost IN MX 20 mx2.boomhost\n\
             mx1.boomhost IN A {}\nmx2.boomhost IN A {}\n\
             boomaddr IN MX 10 mx.boomaddr\n\
             mx.boomaddr IN A {no_starttls_ip}\nmx.boomaddr IN A {panicking_ip}\n\
             last IN MX 10 mx.last\nmx.last IN A {}\n",
            ips[0], ips[1], ips[2], ips[3], ips[6]
        ));
        let fleet = SmtpFleet::start(vec![
            (ips[0], good("mx.first.test")),
            (ips[1], good("mx.boomdomain.test")),
            (ips[2], good("mx1.boomhost.test")),
            (ips[3], good("mx2.boomhost.test")),
            (no_starttls_ip, Scenario::NoStarttls),
            (panicking_ip, good("mx.boomaddr.test")),
            (ips[6], good("mx.last.test")),
        ])
        .await;
        let dns = TestDns::start(&[("test.", zone.as_str())]).await;
        let faults =
            format!("domain:boomdomain.test,mx_host:mx2.boomhost.test,address:{panicking_ip}");
        FaultyWorld {
            dns,
            fleet,
            ca_file,
            no_starttls_ip,
            panicking_ip,
            faults,
            dir,
        }
    }

    /// The binary with the world's options and faults; `--db` in the world's directory.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
        command
            .args(["--db", self.db().to_str().expect("utf-8 path")])
            .args(args)
            .args(["--dns", &self.dns.addr.to_string()])
            .args(["--smtp-port", &self.fleet.port.to_string()])
            .args(["--ca-file", self.ca_file.to_str().expect("utf-8 path")])
            .args(["--timeout", "3", "--greeting-timeout", "3"])
            .env(ENVIRONMENT_VARIABLE, &self.faults);
        command
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("monitor.sqlite3")
    }

    /// Checks every domain's result: the faults are where they were injected, the rest of each
    /// result is what the servers deserve. Returns every failure.
    fn check(&self, results: &[Value]) -> Vec<String> {
        let mut failures = Vec::new();
        let mut expect = |what: String, ok: bool| {
            if !ok {
                failures.push(what);
            }
        };
        for domain in DOMAINS {
            let Some(result) = results.iter().find(|result| result["domain"] == domain) else {
                expect(format!("{domain}: no result"), false);
                continue;
            };
            for problem in support::contract::missing_fields(result) {
                expect(format!("{domain}: {problem}"), false);
            }
            let mx = &result["mx"];
            match domain {
                "first.test" | "last.test" => {
                    expect(
                        format!("{domain} is tls_ok: {result}"),
                        result["verdict"] == "tls_ok" && result["strict_valid"] == true,
                    );
                }
                "boomdomain.test" => {
                    let address = &mx[0]["addresses"][0];
                    expect(
                        format!("{domain} is untestable and says why: {result}"),
                        result["verdict"] == "untestable"
                            && result["starttls"].is_null()
                            && mx.as_array().map(Vec::len) == Some(1)
                            && mx[0]["verdict"] == "untestable"
                            && address["outcome"] == "untestable"
                            && address["reason"] == "internal_error"
                            && detail_names_the_panic(address),
                    );
                }
                "boomhost.test" => {
                    let failed = &mx[1]["addresses"];
                    expect(
                        format!(
                            "{domain}: the good MX host decides, the failed one is untestable: {result}"
                        ),
                        result["verdict"] == "tls_ok"
                            && mx[0]["host"] == "mx1.boomhost.test"
                            && mx[0]["verdict"] == "tls_ok"
                            && mx[1]["host"] == "mx2.boomhost.test"
                            && mx[1]["preference"] == 20
                            && mx[1]["verdict"] == "untestable"
                            && failed.as_array().map(Vec::len) == Some(1)
                            && failed[0]["reason"] == "internal_error"
                            && detail_names_the_panic(&failed[0]),
                    );
                }
                "boomaddr.test" => {
                    let addresses = mx[0]["addresses"].as_array().cloned().unwrap_or_default();
                    let at = |ip: IpAddr| {
                        addresses
                            .iter()
                            .find(|address| address["ip"] == ip.to_string())
                            .cloned()
                            .unwrap_or(Value::Null)
                    };
                    let panicked = at(self.panicking_ip);
                    let other = at(self.no_starttls_ip);
                    expect(
                        format!("{domain}: both addresses are kept: {result}"),
                        addresses.len() == 2,
                    );
                    expect(
                        format!(
                            "{domain}: the panicked address is untestable, internal_error: {panicked}"
                        ),
                        panicked["outcome"] == "untestable"
                            && panicked["reason"] == "internal_error"
                            && detail_names_the_panic(&panicked),
                    );
                    expect(
                        format!("{domain}: the other address still counts: {result}"),
                        other["outcome"] == "no_starttls"
                            && mx[0]["verdict"] == "no_starttls"
                            && result["verdict"] == "no_starttls"
                            && result["starttls"] == false,
                    );
                }
                _ => unreachable!("{domain}"),
            }
        }
        failures
    }
}

fn detail_names_the_panic(address: &Value) -> bool {
    address["detail"].as_str().is_some_and(|detail| {
        detail.starts_with("internal error:")
            && detail.contains("panicked")
            && detail.contains("injected fault")
    })
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("join")
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_prints_every_domain_when_probe_tasks_panic() {
    let world = FaultyWorld::build().await;
    let mut args = vec!["probe", "--json"];
    args.extend(DOMAINS);
    let output = run(world.command(&args)).await;
    // The command did its job, whatever the verdicts: exit 0 (DESIGN.md).
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let results = json_lines(&output);
    let printed: Vec<&Value> = results.iter().map(|result| &result["domain"]).collect();
    assert_eq!(printed, DOMAINS, "every domain, in argument order");
    let failures = world.check(&results);
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        !world.db().exists(),
        "probe never touches the database: {}",
        world.db().display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_stores_and_counts_every_domain_when_probe_tasks_panic() {
    let world = FaultyWorld::build().await;
    let mut args = vec!["domains", "add"];
    args.extend(DOMAINS);
    let added = run(world.command(&args)).await;
    assert!(added.status.success(), "{}", describe(&added));

    let output = run(world.command(&["scan", "--json"])).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let results = json_lines(&output);
    assert_eq!(results.len(), DOMAINS.len(), "{}", describe(&output));
    let failures = world.check(&results);
    assert!(failures.is_empty(), "{failures:#?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("scanned {0} of {0} domains", DOMAINS.len())),
        "{stderr}"
    );

    let store = Store::open(&world.db()).expect("the scan's database opens");
    let scan = store.last_scan().expect("query").expect("one scan");
    assert_eq!((scan.done, scan.total), (DOMAINS.len(), DOMAINS.len()));
    let counts = scan.counts.expect("a finished scan has counts");
    assert_eq!(counts.done, counts.total);
    let stored: Vec<Value> = DOMAINS
        .iter()
        .map(|domain| {
            let name = DomainName::parse(domain).expect("valid");
            let result = store
                .latest_result(&name)
                .expect("query")
                .unwrap_or_else(|| panic!("{domain} is not stored"));
            serde_json::to_value(result).expect("serializes")
        })
        .collect();
    let failures = world.check(&stored);
    assert!(failures.is_empty(), "stored: {failures:#?}");
}

/// The fault list reaches the binary only through the variable this test sets; a probe run
/// without it is unharmed (the seam does nothing unless asked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_injected_faults_nothing_panics() {
    let world = FaultyWorld::build().await;
    let mut command = world.command(&["probe", "--json", "boomdomain.test", "boomaddr.test"]);
    command.env_remove(ENVIRONMENT_VARIABLE);
    let output = run(command).await;
    assert!(output.status.success(), "{}", describe(&output));
    let results = json_lines(&output);
    assert_eq!(results.len(), 2, "{}", describe(&output));
    assert_eq!(results[0]["verdict"], "tls_ok", "{}", results[0]);
    let addresses = results[1]["mx"][0]["addresses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        addresses
            .iter()
            .all(|address| address["reason"] != "internal_error"),
        "{}",
        results[1]
    );
}
