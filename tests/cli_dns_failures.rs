//! A DNS server that fails every lookup, as the command line reports it: one that refuses (an
//! authoritative-only server given as `--dns`) and one that answers SERVFAIL. `probe` and `scan`
//! name the server and the likely cause once, and the domains stay untestable, not failing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::path::Path;
use std::process::{Command, Output};

use starttls_monitor::model::{DnsError, DomainName, Verdict};
use starttls_monitor::store::Store;
use support::FailingDns;

const DOMAINS: [&str; 3] = ["a.example", "b.example", "c.example"];

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_starttls-monitor"))
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("join")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn warnings(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .map(str::to_string)
        .collect()
}

fn scan_command(db: &Path, dns: &FailingDns) -> Command {
    let mut command = binary();
    command
        .args(["--db", db.to_str().expect("utf-8 path")])
        .args(["scan", "--dns", &dns.addr.to_string(), "--timeout", "2"]);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_names_a_refusing_server_and_says_it_is_likely_not_a_recursive_resolver() {
    let dns = FailingDns::refusing().await;
    let mut command = binary();
    command
        .args(["probe", "--json", "--timeout", "2"])
        .args(["--dns", &dns.addr.to_string()])
        .args(DOMAINS);
    let output = run(command).await;
    let warnings = warnings(&output);
    assert_eq!(warnings.len(), 1, "said once: {}", stderr(&output));
    let expected = format!(
        "warning: the DNS server {} failed all of the first 3 domain lookups (refused: not a \
         recursive resolver?; 3 refused)",
        dns.addr
    );
    assert!(warnings[0].starts_with(&expected), "{}", warnings[0]);
    assert!(warnings[0].contains("--dns"), "{}", warnings[0]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let results: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(results.len(), DOMAINS.len(), "{stdout}");
    for result in &results {
        assert_eq!(result["verdict"], "untestable", "{result}");
        assert_eq!(result["dns_error"], "refused", "{result}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_names_a_refusing_or_servfailing_server_and_keeps_the_domains_untestable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    {
        let store = Store::open(&db).expect("store");
        let domains: Vec<DomainName> = DOMAINS
            .iter()
            .map(|name| DomainName::parse(name).expect("valid"))
            .collect();
        store.add_domains(None, &domains).expect("add");
    }
    for (dns, cause, counted, dns_error) in [
        (
            FailingDns::refusing().await,
            "refused: not a recursive resolver?",
            "3 refused",
            DnsError::Refused,
        ),
        (
            FailingDns::servfailing().await,
            "servfail: it cannot resolve anything",
            "3 servfail",
            DnsError::Servfail,
        ),
    ] {
        let output = run(scan_command(&db, &dns)).await;
        assert!(output.status.success(), "{}", stderr(&output));
        let warnings = warnings(&output);
        assert_eq!(warnings.len(), 1, "said once: {}", stderr(&output));
        let warning = &warnings[0];
        assert!(
            warning.starts_with(&format!(
                "warning: the DNS server {} failed all of the first 3 domain lookups ({cause}",
                dns.addr
            )),
            "{warning}"
        );
        assert!(warning.contains(counted), "{warning}");
        let store = Store::open(&db).expect("open");
        for name in DOMAINS {
            let result = store
                .latest_result(&DomainName::parse(name).expect("valid"))
                .expect("read")
                .expect("stored");
            assert_eq!(result.verdict, Verdict::Untestable, "{name}");
            assert_eq!(result.dns_error, Some(dns_error), "{name}");
        }
    }
}
