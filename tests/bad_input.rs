//! Bad input on the command line, as a user meets it: a database file that is not SQLite, is
//! another program's, is from a newer version, is read-only or is locked by another process; a
//! CA file that is not PEM; a DNS server that does not answer. Each gives one line that says
//! what and where (exit 1), or a plain warning when the command still did its job, and nothing
//! already stored is lost or rewritten.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use starttls_monitor::model::{DomainName, Verdict};
use starttls_monitor::store::Store;
use support::{Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity};

fn binary(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command.args(["--db", db.to_str().expect("utf-8 path")]);
    command
}

fn run(db: &Path, args: &[&str]) -> Output {
    binary(db).args(args).output().expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Exit 1 with exactly one line on stderr that names `path` and contains `what`.
fn assert_one_line_error(output: &Output, path: &Path, what: &str) {
    let message = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "exit status; stderr: {message}"
    );
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .expect("name");
    assert!(message.contains(name), "names {name}: {message}");
    assert!(message.contains(what), "says '{what}': {message}");
}

fn add_domains(db: &Path, domains: &[&str]) {
    let output = run(db, &[&["domains", "add"], domains].concat());
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn files_that_are_not_our_database_are_refused_and_left_byte_for_byte() {
    let dir = tempfile::tempdir().expect("temp dir");

    let text = dir.path().join("notes.sqlite3");
    std::fs::write(&text, "meeting notes, not a database\n".repeat(100)).expect("write");
    let bytes = std::fs::read(&text).expect("read");
    for args in [
        &["domains", "list"][..],
        &["domains", "add", "example.org"],
        &["scan"],
        &["export", "--format", "csv", "-o", "-"],
    ] {
        let output = run(&text, args);
        assert_one_line_error(&output, &text, "notes.sqlite3");
        assert_eq!(std::fs::read(&text).expect("read"), bytes, "{args:?} wrote");
    }

    // Another program's SQLite database.
    let foreign = dir.path().join("crm.sqlite3");
    {
        let connection = rusqlite::Connection::open(&foreign).expect("create");
        connection
            .execute_batch(
                "CREATE TABLE customers (name TEXT); INSERT INTO customers VALUES ('Acme');",
            )
            .expect("fill");
    }
    let bytes = std::fs::read(&foreign).expect("read");
    let output = run(&foreign, &["domains", "add", "example.org"]);
    assert_one_line_error(&output, &foreign, "not a starttls-monitor database");
    assert_eq!(std::fs::read(&foreign).expect("read"), bytes);

    // Ours, but written by a newer version.
    let newer = dir.path().join("newer.sqlite3");
    add_domains(&newer, &["example.org"]);
    {
        let connection = rusqlite::Connection::open(&newer).expect("open");
        connection
            .pragma_update(None, "user_version", 999)
            .expect("bump version");
    }
    let bytes = std::fs::read(&newer).expect("read");
    let output = run(&newer, &["domains", "list"]);
    assert_one_line_error(&output, &newer, "newer");
    assert_eq!(std::fs::read(&newer).expect("read"), bytes);

    // A folder where the file should be.
    let output = run(dir.path(), &["domains", "list"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("folder"), "{}", stderr(&output));
}

/// Runs the binary as an unprivileged user: root ignores file permissions, and CI runs as root.
fn as_unprivileged(db: &Path, args: &[&str]) -> Output {
    let is_root = std::fs::metadata("/proc/self")
        .map(|meta| std::os::unix::fs::MetadataExt::uid(&meta) == 0)
        .unwrap_or(false);
    if !is_root {
        return run(db, args);
    }
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_starttls-monitor"))
        .args(["--db", db.to_str().expect("utf-8")])
        .args(args)
        .env("HOME", "/tmp")
        .output()
        .expect("setpriv runs the binary")
}

#[test]
fn a_read_only_database_still_reads_and_refuses_writes_by_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let db = dir.path().join("monitor.sqlite3");
    add_domains(&db, &["example.org", "example.net"]);
    // Checkpointed and closed, then read-only for everyone.
    drop(Store::open(&db).expect("open"));
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let bytes = std::fs::read(&db).expect("read");

    let output = as_unprivileged(&db, &["domains", "list"]);
    if output.status.success() {
        assert_eq!(stdout(&output), "example.net\nexample.org\n");
    } else {
        assert_one_line_error(&output, &db, "read-only");
    }
    let output = as_unprivileged(&db, &["domains", "add", "example.com"]);
    assert_one_line_error(&output, &db, "read-only");
    let output = as_unprivileged(&db, &["lists", "create", "Customers"]);
    assert_one_line_error(&output, &db, "read-only");
    assert_eq!(std::fs::read(&db).expect("read"), bytes, "nothing written");

    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let output = run(&db, &["domains", "list"]);
    assert_eq!(
        stdout(&output),
        "example.net\nexample.org\n",
        "nothing lost"
    );
}

#[test]
fn a_database_locked_by_another_process_is_busy_not_broken() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    add_domains(&db, &["example.org"]);
    // Another process holds the write lock (as a crashed or stuck writer would).
    let holder = rusqlite::Connection::open(&db).expect("open");
    holder.execute_batch("BEGIN EXCLUSIVE").expect("lock");
    let started = Instant::now();
    let output = run(&db, &["domains", "add", "example.net"]);
    assert_one_line_error(&output, &db, "busy");
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "waited for the lock first ({:?})",
        started.elapsed()
    );
    holder.execute_batch("ROLLBACK").expect("unlock");
    drop(holder);
    // Once the lock is gone, everything works and nothing was lost.
    add_domains(&db, &["example.net"]);
    let output = run(&db, &["domains", "list"]);
    assert_eq!(stdout(&output), "example.net\nexample.org\n");
}

/// A loopback world with two good domains, for the tests that need earlier results.
struct SmallWorld {
    dns: TestDns,
    fleet: SmtpFleet,
    ca_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn small_world() -> SmallWorld {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = pki.write_ca_file(dir.path());
    let ips = support::unique_loopback_ips(2);
    let mut zone = support::soa_header("bad.test");
    let mut servers = Vec::new();
    for (index, ip) in ips.iter().enumerate() {
        zone.push_str(&format!(
            "mx{index} IN A {ip}\nd{index} IN MX 10 mx{index}\n"
        ));
        servers.push((
            *ip,
            Scenario::Good {
                cert: pki.leaf(&[&format!("mx{index}.bad.test")], Validity::Current),
                versions: TlsVersions::Any,
            },
        ));
    }
    SmallWorld {
        dns: TestDns::start(&[("bad.test.", zone.as_str())]).await,
        fleet: SmtpFleet::start(servers).await,
        ca_file,
        _dir: dir,
    }
}

fn scan_args(dns: &str, port: u16, ca_file: &Path) -> Vec<String> {
    [
        "scan",
        "--dns",
        dns,
        "--smtp-port",
        &port.to_string(),
        "--ca-file",
        ca_file.to_str().expect("utf-8"),
        "--timeout",
        "2",
    ]
    .map(String::from)
    .to_vec()
}

async fn run_async(db: &Path, args: Vec<String>) -> Output {
    let mut command = binary(db);
    command.args(args);
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_ca_file_or_a_silent_dns_server_loses_nothing_stored() {
    let world = small_world().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    add_domains(&db, &["d0.bad.test", "d1.bad.test", "missing.bad.test"]);
    let dns = world.dns.addr.to_string();
    let output = run_async(&db, scan_args(&dns, world.fleet.port, &world.ca_file)).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let good = DomainName::parse("d0.bad.test").expect("valid");
    let before = Store::open(&db)
        .expect("open")
        .latest_result(&good)
        .expect("read")
        .expect("stored");
    assert_eq!(before.verdict, Verdict::TlsOk);

    // A CA file that is not PEM: refused before anything is probed or stored.
    let not_pem = dir.path().join("corporate-ca.crt");
    std::fs::write(&not_pem, [0x30, 0x82, 0x01, 0x0a, 0x02, 0x82]).expect("write");
    let output = run_async(&db, scan_args(&dns, world.fleet.port, &not_pem)).await;
    assert_one_line_error(&output, &not_pem, "corporate-ca.crt");
    let missing = dir.path().join("no-such-ca.pem");
    let output = run_async(&db, scan_args(&dns, world.fleet.port, &missing)).await;
    assert_one_line_error(&output, &missing, "no-such-ca.pem");

    // A DNS server that never answers: the scan does its job (exit 0), says plainly that the
    // resolver is silent, and the earlier good result stays in the domain's history.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr").to_string();
    let output = run_async(
        &db,
        scan_args(&silent_addr, world.fleet.port, &world.ca_file),
    )
    .await;
    let message = stderr(&output);
    assert!(output.status.success(), "{message}");
    assert!(
        message.contains(&format!("the DNS server {silent_addr} answered none")),
        "{message}"
    );
    assert!(
        stdout(&output).contains("untestable 3"),
        "{}",
        stdout(&output)
    );
    let store = Store::open(&db).expect("open");
    let history = store.history(&good).expect("history");
    assert!(
        history
            .iter()
            .any(|run| run.result.verdict == Verdict::TlsOk
                && run.result.strict_valid == Some(true)
                && run.first_at <= before.probed_at),
        "the good result before the silent scan is kept: {history:#?}"
    );
    assert_eq!(store.domain_count(None).expect("count"), 3);
    drop(silent);
}
