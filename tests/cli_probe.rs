//! `starttls-monitor probe` as a user runs it: the same scenario table as the engine test, but
//! through the binary's `--json` output, plus the readable table and the exit statuses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;
mod world;

use std::process::{Command, Output};

use serde_json::Value;
use world::World;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_starttls-monitor"))
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("join")
}

fn probe_command(world: &World, extra: &[&str], domains: &[&str]) -> Command {
    let mut command = binary();
    command
        .arg("probe")
        .args(extra)
        .args(domains)
        // Global options are accepted after the subcommand too.
        .args(["--dns", &world.dns.addr.to_string()])
        .args(["--smtp-port", &world.fleet.port.to_string()])
        .args(["--ca-file", world.ca_file.to_str().expect("utf-8 path")])
        .args(["--timeout", "3", "--greeting-timeout", "3"]);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_json_gives_the_true_verdict_for_every_scenario() {
    let world = World::build().await;
    let domains = world.domains();
    let output = run(probe_command(&world, &["--json"], &domains)).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
        .collect();
    assert_eq!(results.len(), domains.len(), "one line per domain");
    // Lines come in argument order.
    for (result, domain) in results.iter().zip(&domains) {
        assert_eq!(result["domain"], *domain);
    }
    // Every contract field is present on every object, at every level.
    for result in &results {
        let missing = support::contract::missing_fields(result);
        assert!(missing.is_empty(), "{missing:?} in {result}");
        // `probe` has no history: never stale.
        assert_eq!(result["last_known"], Value::Null, "{result}");
        assert_eq!(result["stale_since"], Value::Null, "{result}");
    }
    let failures = world.check_all(&results);
    assert!(
        failures.is_empty(),
        "{} scenario check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_prints_a_readable_table() {
    let world = World::build().await;
    let output = run(probe_command(
        &world,
        &[],
        &[
            "valid.test",
            "nostarttls.test",
            "failover.test",
            "nullmx.test",
        ],
    ))
    .await;
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let domain_line = |domain: &str| {
        lines
            .iter()
            .find(|line| line.starts_with(domain))
            .unwrap_or_else(|| panic!("no line for {domain} in:\n{stdout}"))
            .to_string()
    };
    let valid = domain_line("valid.test");
    assert!(
        valid.contains("tls_ok") && valid.contains("strict=yes"),
        "{valid}"
    );
    assert!(stdout.contains("cert: strict ok"), "{stdout}");
    assert!(domain_line("nostarttls.test").contains("no_starttls"));
    assert!(
        domain_line("failover.test").contains("1 of 2 MX hosts untestable"),
        "{stdout}"
    );
    assert!(domain_line("nullmx.test").contains("no_mail"));
}

#[tokio::test]
async fn bad_usage_and_our_errors_have_distinct_exit_statuses() {
    let output = run({
        let mut command = binary();
        command.args(["probe", "not a domain"]);
        command
    })
    .await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a domain"), "{stderr}");

    let dir = tempfile::tempdir().expect("temp dir");
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, b"\x00\x01binary").expect("write");
    let output = run({
        let mut command = binary();
        command.args([
            "probe",
            "--ca-file",
            not_pem.to_str().expect("utf-8"),
            "example.test",
        ]);
        command
    })
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ca.pem"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");

    let output = run({
        let mut command = binary();
        command.args(["probe", "--no-such-option", "example.test"]);
        command
    })
    .await;
    assert_eq!(output.status.code(), Some(2));
}
