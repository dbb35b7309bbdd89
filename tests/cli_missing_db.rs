//! Commands that only read (`lists`, `domains list`, `trends`, `export`) given a `--db` that
//! does not exist: exit 1 with one line naming the path, and nothing created — no folder, no
//! empty database, no export file. Commands that write still create the database.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::process::{Command, Output};

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_starttls-monitor"))
        .args(["--db", db.to_str().expect("utf-8 path")])
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn reading_commands_refuse_a_missing_database_and_create_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("not-there");
    let db = folder.join("monitor.sqlite3");
    let report = dir.path().join("report.csv");
    let report_arg = report.to_str().expect("utf-8").to_string();
    let commands: [&[&str]; 6] = [
        &["lists"],
        &["domains", "list"],
        &["domains", "list", "--json"],
        &["trends"],
        &["trends", "--json"],
        &["export", "--format", "csv", "-o", &report_arg],
    ];
    for args in commands {
        let output = run(&db, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed to stdout");
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one line: {stderr}"
        );
        assert!(
            stderr.contains(&db.display().to_string()) && stderr.contains("does not exist"),
            "{args:?} names the path: {stderr}"
        );
        assert!(!folder.exists(), "{args:?} created the folder");
        assert!(!report.exists(), "{args:?} created the export file");
    }
}

#[test]
fn writing_commands_still_create_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("new-folder").join("monitor.sqlite3");
    let output = run(&db, &["lists", "create", "Sample"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(db.exists(), "lists create made the database");
    let db = dir.path().join("other").join("monitor.sqlite3");
    let output = run(&db, &["domains", "add", "example.com"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // And a reading command then reads it.
    let output = run(&db, &["domains", "list"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "example.com"
    );
}
