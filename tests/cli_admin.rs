//! The headless server's commands as an admin (or cron) runs them: `settings show|set` (one
//! line per key, the proxy password masked, the Settings tab's checks), `events` with its
//! filters, and `run`'s one-scheduler-per-database lock (a second `run` refuses while the
//! first holds it; a lock left by a dead process is taken over).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod fixtures;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use fixtures::{Shape, result};
use starttls_monitor::model::DomainName;
use starttls_monitor::monitor::lock::SchedulerLock;
use starttls_monitor::settings::Settings;
use starttls_monitor::store::Store;
use time::OffsetDateTime;

fn binary(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command.args(["--db", db.to_str().expect("utf-8 path")]);
    command
}

fn run(db: &Path, args: &[&str]) -> Output {
    binary(db).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn settings_show_one_line_per_key_and_set_checks_like_the_settings_tab() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    Store::open(&db).expect("create");

    let set = run(
        &db,
        &[
            "settings",
            "set",
            "proxy",
            "socks5://alice:hunter2@127.0.0.1:1080",
        ],
    );
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert_eq!(
        text(&set.stdout),
        "proxy = socks5://alice:***@127.0.0.1:1080\n"
    );
    let set = run(&db, &["settings", "set", "scan_interval_hours", "6"]);
    assert!(set.status.success(), "{}", text(&set.stderr));

    let shown = run(&db, &["settings", "show"]);
    assert!(shown.status.success());
    let shown = text(&shown.stdout);
    assert_eq!(shown.lines().count(), Settings::keys().len(), "{shown}");
    for key in Settings::keys() {
        assert!(
            shown
                .lines()
                .any(|line| line.starts_with(&format!("{key} = "))),
            "{key}: {shown}"
        );
    }
    assert!(
        shown.contains("proxy = socks5://alice:***@127.0.0.1:1080\n"),
        "{shown}"
    );
    assert!(shown.contains("scan_interval_hours = 6\n"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    // The password is kept for use, only never shown.
    let saved = Store::open(&db).expect("open").settings().expect("read");
    assert_eq!(saved.proxy, "socks5://alice:hunter2@127.0.0.1:1080");

    for (key, value, expected) in [
        (
            "scan_interval_hours",
            "0",
            "scan interval must be between 1 hour and 1 year",
        ),
        (
            "concurrency",
            "lots",
            "concurrency: 'lots' is not a whole number",
        ),
        (
            "proxy",
            "http://bob:swordfish@proxy.example:3128",
            "proxy setting: ",
        ),
        ("dns_server", "dns.example", "DNS server setting: "),
        ("colour", "blue", "'colour' is not a setting"),
    ] {
        let refused = run(&db, &["settings", "set", key, value]);
        assert_eq!(refused.status.code(), Some(2), "{key} {value}");
        let stderr = text(&refused.stderr);
        assert!(stderr.contains("setting not saved: "), "{stderr}");
        assert!(stderr.contains(expected), "{key}: {stderr}");
        assert!(!stderr.contains("swordfish"), "{stderr}");
    }
    let unchanged = Store::open(&db).expect("open").settings().expect("read");
    assert_eq!(unchanged, saved, "nothing refused was saved");

    let direct = run(&db, &["settings", "set", "proxy", ""]);
    assert!(direct.status.success());
    assert_eq!(text(&direct.stdout), "proxy = \n");
}

#[test]
fn events_filter_by_list_day_and_regressions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let store = Store::open(&db).expect("create");
    let day = |offset: i64| {
        OffsetDateTime::from_unix_timestamp(1_768_046_400).expect("valid")
            + time::Duration::days(offset)
    };
    let eu = store.create_list("EU").expect("list");
    let names = ["a.example", "b.example"].map(|name| DomainName::parse(name).expect("valid"));
    store.add_domains(Some(eu), &names[..1]).expect("add");
    store.add_domains(None, &names[1..]).expect("add");
    for (name, shapes) in [
        ("a.example", [Shape::Good, Shape::NoStarttls, Shape::Good]),
        ("b.example", [Shape::Good, Shape::NoPfs, Shape::Good]),
    ] {
        for (offset, shape) in shapes.into_iter().enumerate() {
            store
                .record_result(None, &result(name, shape, day(offset as i64)), 14)
                .expect("record");
        }
    }
    drop(store);

    let all = run(&db, &["events"]);
    assert!(all.status.success(), "{}", text(&all.stderr));
    let all = text(&all.stdout);
    assert_eq!(all.lines().count(), 4, "{all}");
    let newest = all.lines().next().expect("one");
    assert!(
        newest.contains("starttls_gained") || newest.contains("pfs_gained"),
        "newest first: {all}"
    );

    let regressions = text(&run(&db, &["events", "--regressions"]).stdout);
    assert_eq!(regressions.lines().count(), 2, "{regressions}");
    assert!(
        regressions.contains("a.example starttls_lost: "),
        "{regressions}"
    );
    assert!(
        regressions.contains("b.example pfs_lost: "),
        "{regressions}"
    );

    let eu_only = text(&run(&db, &["events", "--list", "EU", "--json"]).stdout);
    let objects: Vec<serde_json::Value> = eu_only
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(objects.len(), 2, "{eu_only}");
    for object in &objects {
        assert_eq!(object["domain"], "a.example");
        let keys: Vec<&str> = object
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["at", "detail", "domain", "kind", "regression"],
            "as export writes them"
        );
    }
    // The same objects as `export --format json` writes.
    let export = run(
        &db,
        &["export", "--format", "json", "--list", "EU", "-o", "-"],
    );
    let export: serde_json::Value = serde_json::from_slice(&export.stdout).expect("export JSON");
    assert_eq!(export["events"].as_array().expect("events"), &objects);

    let recent = text(&run(&db, &["events", "--since", "2026-01-12"]).stdout);
    assert_eq!(recent.lines().count(), 2, "the third day only: {recent}");
    let none = run(&db, &["events", "--since", "1d"]);
    assert!(none.status.success());
    assert!(
        none.stdout.is_empty(),
        "nothing in the last day: {}",
        text(&none.stdout)
    );
    let bad = run(&db, &["events", "--since", "yesterday"]);
    assert_eq!(bad.status.code(), Some(2));
    let missing = run(&db, &["events", "--list", "Nowhere"]);
    assert_ne!(missing.status.code(), Some(0));
}

/// Starts `run` and waits for its "scheduler started" line.
fn start_scheduler(db: &Path) -> (Child, String) {
    let mut child = binary(db)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run starts");
    let stderr = child.stderr.take().expect("stderr");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Reads to the end, so the child never writes into a closed pipe.
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            let _ = sender.send(line);
        }
    });
    let started = Instant::now();
    let deadline = Duration::from_secs(30);
    while let Ok(line) = receiver.recv_timeout(deadline.saturating_sub(started.elapsed())) {
        if line.starts_with("scheduler started") {
            return (child, line);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("run did not say it started within {deadline:?}");
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn one_scheduler_per_database_and_a_dead_ones_lock_is_taken_over() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    Store::open(&db).expect("create");

    let (first, line) = start_scheduler(&db);
    assert!(line.contains(&format!("(pid {})", first.id())), "{line}");
    let second = run(&db, &["run"]);
    assert_eq!(second.status.code(), Some(1));
    let stderr = text(&second.stderr);
    assert!(
        stderr.contains(&format!("are run by another process (pid {})", first.id())),
        "{stderr}"
    );
    // The first dies without cleaning up: the lock is free at once.
    let dead = first.id();
    stop(first);
    let (second, line) = start_scheduler(&db);
    assert!(
        line.contains(&format!("took over the lock of process {dead}")),
        "{line}"
    );
    stop(second);

    // A lock file naming a process that is gone, from before a reboot say.
    std::fs::write(
        SchedulerLock::path_for(&db),
        "pid 4194303\nheartbeat 2026-12-01T00:00:00Z\n",
    )
    .expect("write");
    let (third, line) = start_scheduler(&db);
    assert!(
        line.contains("took over the lock of process 4194303"),
        "{line}"
    );
    stop(third);
}

#[test]
fn sigterm_stops_run_cleanly_and_releases_the_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    Store::open(&db).expect("create");
    let (mut first, _) = start_scheduler(&db);
    let killed = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = first.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            stop(first);
            panic!("run did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit 0 on SIGTERM: {status:?}");
    // Released, not left behind: the next one starts without taking anything over.
    let (second, line) = start_scheduler(&db);
    assert!(!line.contains("took over"), "{line}");
    stop(second);
}
