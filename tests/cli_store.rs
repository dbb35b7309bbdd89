//! The database commands as a user (or cron) runs them: `domains`, `lists`, `scan`, `trends`,
//! against the loopback world; and a scan killed with SIGKILL mid-way loses nothing committed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;
mod world;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use starttls_monitor::store::{LatestFilter, Store};
use world::World;

fn binary(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command.args(["--db", db.to_str().expect("utf-8 path")]);
    command
}

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("join")
}

fn world_options(world: &World) -> Vec<String> {
    world_options_with_greeting(world, "3")
}

fn world_options_with_greeting(world: &World, greeting_seconds: &str) -> Vec<String> {
    vec![
        "--dns".into(),
        world.dns.addr.to_string(),
        "--smtp-port".into(),
        world.fleet.port.to_string(),
        "--ca-file".into(),
        world.ca_file.to_str().expect("utf-8").to_string(),
        "--timeout".into(),
        "3".into(),
        "--greeting-timeout".into(),
        greeting_seconds.into(),
    ]
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_lists_scan_and_trends_share_one_database() {
    let world = World::build().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");

    // Add from arguments and from stdin (with a comment and a blank line).
    let output = run({
        let mut command = binary(&db);
        command.args([
            "domains",
            "add",
            "--list",
            "Customers",
            "valid.test",
            "nostarttls.test",
        ]);
        command
    })
    .await;
    stdout(&output);
    let output = tokio::task::spawn_blocking({
        let db = db.clone();
        move || {
            let mut child = binary(&db)
                .args(["domains", "add", "--list", "Customers", "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn");
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"# customers from the CRM\n\nfailover.test\nVALID.test.\n")
                .expect("write stdin");
            child.wait_with_output().expect("wait")
        }
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("added 1, already present 1"), "{stderr}");

    // An invalid entry: named, exit 2, nothing added.
    let output = run({
        let mut command = binary(&db);
        command.args(["domains", "add", "ok.test", "not a domain"]);
        command
    })
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a domain"));

    let lists = stdout(
        &run({
            let mut command = binary(&db);
            command.arg("lists");
            command
        })
        .await,
    );
    assert_eq!(lists, "Customers\t3\n");

    let listed = stdout(
        &run({
            let mut command = binary(&db);
            command.args(["domains", "list", "--list", "Customers"]);
            command
        })
        .await,
    );
    assert_eq!(listed, "failover.test\nnostarttls.test\nvalid.test\n");

    // Scan with JSON lines, global options after the subcommand.
    let output = run({
        let mut command = binary(&db);
        command.args(["scan", "--json"]).args(world_options(&world));
        command
    })
    .await;
    let text = stdout(&output);
    let results: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(results.len(), 3);
    let failures = world.check_all(&results);
    // Only the three scanned domains are in `results`; ignore "no result" for the others.
    let failures: Vec<&String> = failures
        .iter()
        .filter(|failure| !failure.ends_with("no result"))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");

    // Plain scan prints a summary.
    let summary = stdout(
        &run({
            let mut command = binary(&db);
            command
                .args(["scan", "--list", "Customers"])
                .args(world_options(&world));
            command
        })
        .await,
    );
    assert!(summary.contains("scanned 3 of 3 domains"), "{summary}");
    assert!(summary.contains("no_starttls 1"), "{summary}");

    let trends: Value = serde_json::from_str(&stdout(
        &run({
            let mut command = binary(&db);
            command.args(["trends", "--json", "--list", "Customers"]);
            command
        })
        .await,
    ))
    .expect("trends JSON");
    let points = trends.as_array().expect("a list of points");
    assert_eq!(points.len(), 1, "one UTC day with results");
    let domains = &points[0]["domains"];
    assert_eq!(domains["total"], 3);
    assert_eq!(domains["testable"], 3);
    assert_eq!(domains["starttls"], 2);
    assert_eq!(domains["all_three"], 2);
    assert_eq!(
        domains["weak_tls"], 0,
        "TLS 1.3 sessions are graded good: no weak TLS"
    );
    assert!(points[0]["mx_hosts"].get("no_mail").is_none());
    assert_eq!(points[0]["mx_hosts"]["total"], 4);
    assert_eq!(points[0]["mx_hosts"]["untestable"], 1);

    let table = stdout(
        &run({
            let mut command = binary(&db);
            command.arg("trends");
            command
        })
        .await,
    );
    assert!(table.contains("66.7%"), "{table}");
    assert!(table.contains("weak TLS"), "{table}");

    // Rename, remove, delete.
    stdout(
        &run({
            let mut command = binary(&db);
            command.args(["lists", "rename", "Customers", "Clients"]);
            command
        })
        .await,
    );
    stdout(
        &run({
            let mut command = binary(&db);
            command.args(["domains", "remove", "--list", "Clients", "valid.test"]);
            command
        })
        .await,
    );
    let lists = stdout(
        &run({
            let mut command = binary(&db);
            command.arg("lists");
            command
        })
        .await,
    );
    assert_eq!(lists, "Clients\t2\n");
    let output = run({
        let mut command = binary(&db);
        command.args(["lists", "delete", "Nope"]);
        command
    })
    .await;
    assert_ne!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Nope"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_killed_mid_way_loses_nothing_committed_and_the_next_scan_runs() {
    let world = World::build().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    // Fast domains, then domains whose servers never greet (they hold the scan open).
    let fast = [
        "valid.test",
        "nostarttls.test",
        "tls12.test",
        "tls13.test",
        "wildcard.test",
    ];
    let slow = ["silent.test", "garbage.test"];
    let mut add = binary(&db);
    add.args(["domains", "add"]).args(fast).args(slow);
    stdout(&run(add).await);

    let mut scan = binary(&db);
    scan.args(["scan", "--concurrency", "7"])
        .args(world_options_with_greeting(&world, "60"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = scan.spawn().expect("spawn scan");

    // Wait until the fast results are committed, then kill -9.
    let started = Instant::now();
    let committed = loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let store = Store::open(&db).expect("open while the scan runs");
        let probed: Vec<String> = store
            .latest(&LatestFilter::default())
            .expect("latest")
            .into_iter()
            .filter(|row| row.verdict.is_some())
            .map(|row| row.domain.to_string())
            .collect();
        if probed.len() >= fast.len() {
            break probed;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "scan made no progress"
        );
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let store = Store::open(&db).expect("the file reopens after kill -9");
    store.integrity_check().expect("integrity_check passes");
    let after: Vec<String> = store
        .latest(&LatestFilter::default())
        .expect("latest")
        .into_iter()
        .filter(|row| row.verdict.is_some())
        .map(|row| row.domain.to_string())
        .collect();
    for domain in &committed {
        assert!(
            after.contains(domain),
            "{domain} was committed before the kill and is gone"
        );
    }
    drop(store);

    // The next scan runs (the short deadline on the silent servers lets it finish).
    let summary = stdout(
        &run({
            let mut command = binary(&db);
            command.args(["scan"]).args(world_options(&world));
            command
        })
        .await,
    );
    assert!(summary.contains("scanned 7 of 7 domains"), "{summary}");
}

/// DESIGN.md "Stale state" from the command line: a good scan, then a scan through a DNS
/// server that never answers. `scan --json` gives each result its last known one, `trends
/// --json` counts the domains by it (and in `stale`), `domains list --json` says since when.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_through_a_dead_dns_server_keeps_what_we_know() {
    let world = World::build().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let names = ["valid.test", "nostarttls.test", "failover.test"];
    let mut add = binary(&db);
    add.args(["domains", "add", "--list", "Customers"])
        .args(names);
    stdout(&run(add).await);
    let mut scan = binary(&db);
    scan.args(["scan", "--json"]).args(world_options(&world));
    let good: Vec<Value> = stdout(&run(scan).await)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(good.len(), 3);
    for result in &good {
        assert_eq!(result["last_known"], Value::Null, "{result}");
        assert_eq!(result["stale_since"], Value::Null, "{result}");
    }
    let trends_json = || {
        let mut command = binary(&db);
        command.args(["trends", "--json", "--list", "Customers"]);
        command
    };
    let before: Value = serde_json::from_str(&stdout(&run(trends_json()).await)).expect("JSON");
    let before = before[0]["domains"].clone();
    assert_eq!(before["stale"], 0, "the trends JSON always has stale");
    assert_eq!(before["testable"], 3);

    // A UDP socket that never answers, and no TCP listener on its port.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut outage = binary(&db);
    outage.args([
        "scan",
        "--json",
        "--dns",
        &silent.local_addr().expect("addr").to_string(),
        "--timeout",
        "2",
    ]);
    let output = run(outage).await;
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    for result in &lines {
        assert_eq!(result["verdict"], "untestable", "as probed: {result}");
        assert_eq!(result["dns_error"], "timeout", "{result}");
        let known = &result["last_known"];
        let earlier = good
            .iter()
            .find(|good| good["domain"] == result["domain"])
            .expect("scanned before");
        assert_eq!(known["verdict"], earlier["verdict"], "{result}");
        assert!(known["mx"].as_array().is_some_and(|mx| !mx.is_empty()));
        assert!(result["stale_since"].is_string(), "{result}");
    }
    let summary = String::from_utf8_lossy(&output.stderr);
    assert!(
        summary.contains("untestable 3 (3 keep their last known state: stale)"),
        "{summary}"
    );

    let after: Value = serde_json::from_str(&stdout(&run(trends_json()).await)).expect("JSON");
    let points = after.as_array().expect("points");
    assert_eq!(points.len(), 1, "the same UTC day");
    let after = &points[0]["domains"];
    assert_eq!(after["stale"], 3);
    for count in [
        "total",
        "untestable",
        "testable",
        "starttls",
        "pfs",
        "strict_valid",
        "all_three",
    ] {
        assert_eq!(
            after[count], before[count],
            "{count} unchanged by the outage"
        );
    }
    let mut table = binary(&db);
    table.args(["trends", "--list", "Customers"]);
    let table = stdout(&run(table).await);
    assert!(table.contains("stale"), "{table}");

    let mut list = binary(&db);
    list.args(["domains", "list", "--json"]);
    let rows: Value = serde_json::from_str(&stdout(&run(list).await)).expect("JSON");
    for row in rows.as_array().expect("rows") {
        assert_ne!(row["verdict"], "untestable", "{row}");
        assert!(row["stale_since"].is_string(), "{row}");
    }
    drop(silent);
}
