//! `import` and `export` as a user (or cron) runs them: reports, exit codes and messages that
//! name the file and line, dry runs that change nothing, stdin, and report files written whole.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod fixtures;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use fixtures::{Shape, result};
use starttls_monitor::store::Store;
use time::OffsetDateTime;

fn binary(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command.args(["--db", db.to_str().expect("utf-8 path")]);
    command
}

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/csv")
        .join(name)
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

fn run(db: &Path, args: &[&str]) -> Output {
    binary(db).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

#[test]
fn import_reports_adds_and_dry_runs_change_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let crm = data("crm_bom_semicolon.csv");

    // A dry run against a database that does not exist yet: report, and no file created.
    let report = ok(&run(&db, &["import", &crm, "--list", "CRM", "--dry-run"]));
    assert!(
        report.contains("to add:                    3 (list 'CRM' would be created)"),
        "{report}"
    );
    assert!(report.contains("duplicates in file:        1"), "{report}");
    assert!(report.contains("invalid:                   3"), "{report}");
    assert!(
        report.contains("line 6: 'eve@': e-mail address without a domain"),
        "{report}"
    );
    assert!(report.contains("line 9: 'trent@[192.0.2.1]'"), "{report}");
    assert!(report.contains("dry run: nothing was changed"));
    assert!(!db.exists(), "a dry run creates no database");

    let report = ok(&run(&db, &["import", &crm, "--list", "CRM"]));
    assert!(
        report.contains("added:                     3 (list 'CRM')"),
        "{report}"
    );
    assert!(report.contains("with a header, delimiter ';', domains from column 2 \"E-Mail\""));
    assert!(report.contains("joined the list:           3"), "{report}");
    let lists = ok(&run(&db, &["lists"]));
    assert_eq!(lists, "CRM\t3\n");

    // Again: everything is already present; a dry run now says so too.
    let report = ok(&run(&db, &["import", &crm, "--dry-run"]));
    assert!(report.contains("to add:                    0"), "{report}");
    assert!(report.contains("already present:           3"), "{report}");
    let report = ok(&run(&db, &["import", &data("plain_list.txt")]));
    assert!(report.contains("added:                     3"), "{report}");
    assert!(report.contains("already present:           1"), "{report}");
    let listed = ok(&run(&db, &["domains", "list"]));
    assert!(listed.contains("xn--e1afmkfd.xn--p1ai\n"), "{listed}");
    assert_eq!(
        ok(&run(&db, &["lists"])),
        "CRM\t3\n",
        "no --list: no list joined"
    );
    // Stored domains that join another list count in "joined the list", not in "added".
    let report = ok(&run(&db, &["import", &crm, "--list", "Partners"]));
    assert!(
        report.contains("added:                     0 (list 'Partners')"),
        "{report}"
    );
    assert!(report.contains("joined the list:           3"), "{report}");
}

#[test]
fn import_column_choice_stdin_and_refusals() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let sites = data("websites.tsv");
    let report = ok(&run(
        &db,
        &["import", &sites, "--column", "website", "--dry-run"],
    ));
    assert!(report.contains("to add:                    4"), "{report}");
    let report = ok(&run(&db, &["import", &sites, "--column", "3", "--dry-run"]));
    assert!(report.contains("invalid:                   5"), "{report}");

    let output = run(&db, &["import", &sites, "--column", "Domain"]);
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(message.contains("websites.tsv") && message.contains("no column named 'Domain'"));
    let output = run(&db, &["import", &sites, "--column", "0"]);
    assert_eq!(output.status.code(), Some(2));

    let output = run(&db, &["import", &data("image.png")]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    assert!(
        message.contains("image.png line 3") && message.contains("binary"),
        "{message}"
    );
    let output = run(&db, &["import", &data("missing.csv")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("missing.csv: cannot open"));
    let output = run(&db, &["import", &data("empty.csv")]);
    assert!(ok(&output).contains("0 rows read"));

    let mut child = binary(&db)
        .args(["import", "-", "--list", "Piped"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"email\nann@piped.example\nbob@Piped.Example\nnobody\n")
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    let report = ok(&output);
    assert!(
        report.starts_with("standard input: 3 rows read"),
        "{report}"
    );
    assert!(
        report.contains("added:                     1 (list 'Piped')"),
        "{report}"
    );
    assert!(report.contains("line 4: 'nobody'"), "{report}");
}

fn populated(db: &Path) {
    let store = Store::open(db).expect("store");
    let list = store.create_list("Customers").expect("list");
    let at = OffsetDateTime::now_utc();
    for (name, shape) in [
        ("good.example", Shape::Good),
        ("plain.example", Shape::NoStarttls),
    ] {
        store
            .add_domains(Some(list), &[fixtures::domain(name)])
            .expect("add");
        store
            .record_result(None, &result(name, shape, at), 14)
            .expect("record");
    }
    store.refresh_rollup(Some(list), at).expect("roll-up");
}

#[test]
fn export_writes_each_format_to_a_file_or_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    populated(&db);

    for format in ["csv", "json", "html"] {
        let file = dir.path().join(format!("report.{format}"));
        let output = run(
            &db,
            &[
                "export",
                "--format",
                format,
                "--list",
                "Customers",
                "-o",
                file.to_str().expect("utf-8"),
            ],
        );
        ok(&output);
        let summary = text(&output.stderr);
        assert!(
            summary.contains("exported 2 domains (2 probed) of list 'Customers'"),
            "{summary}"
        );
        let written = std::fs::read_to_string(&file).expect("the report");
        assert!(written.contains("plain.example"), "{format}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left");

    let stdout = ok(&run(
        &db,
        &[
            "export",
            "--format",
            "json",
            "--since",
            "2026-01-01",
            "-o",
            "-",
        ],
    ));
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(json["since"], "2026-01-01");
    assert_eq!(json["domains"].as_array().map(Vec::len), Some(2));

    let csv = ok(&run(
        &db,
        &["export", "--format", "csv", "--per-address", "-o", "-"],
    ));
    assert!(csv.starts_with("domain,domain_verdict,mx_host,"), "{csv}");
    assert_eq!(csv.lines().count(), 3);
}

#[test]
fn export_usage_and_output_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    populated(&db);

    let output = run(
        &db,
        &["export", "--format", "json", "--per-address", "-o", "-"],
    );
    assert_eq!(output.status.code(), Some(2));
    let output = run(&db, &["export", "--format", "pdf", "-o", "-"]);
    assert_eq!(output.status.code(), Some(2));
    let output = run(
        &db,
        &[
            "export",
            "--format",
            "csv",
            "--since",
            "01/02/2026",
            "-o",
            "-",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let output = run(&db, &["export", "--format", "csv"]);
    assert_eq!(output.status.code(), Some(2), "-o is required");
    let output = run(
        &db,
        &["export", "--format", "csv", "--list", "Nope", "-o", "-"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("no list named 'Nope'"));

    let unwritable = dir.path().join("no-such-folder").join("report.html");
    let output = run(
        &db,
        &[
            "export",
            "--format",
            "html",
            "-o",
            unwritable.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("cannot create") && message.contains("no-such-folder/report.html"),
        "{message}"
    );
    let output = run(
        &db,
        &[
            "export",
            "--format",
            "html",
            "-o",
            dir.path().to_str().expect("utf-8"),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("folder"));
}

/// `import` with a volume column stores each domain's weight in the list; `trends --json` then
/// gives the share of mail beside the share of domains, and the CSV export the weight.
#[test]
fn import_with_volumes_gives_trends_by_mail_volume() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let volumes = data("volumes.csv");

    let refused = run(&db, &["import", &volumes, "--weight-column", "2"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("--weight-column needs --list"),
        "{}",
        text(&refused.stderr)
    );
    // Into no list: no weights are read, so no row is refused for its weight.
    let dry = ok(&run(&db, &["import", &volumes, "--dry-run"]));
    assert!(dry.contains("invalid:                   1"), "{dry}");
    assert!(!dry.contains("weights:"), "{dry}");

    let report = ok(&run(
        &db,
        &[
            "import",
            &volumes,
            "--list",
            "outbound",
            "--weight-column",
            "Messages (30 d)",
        ],
    ));
    assert!(
        report.contains("weights:            column 2 \"Messages (30 d)\", total 1 200 751.5 (rows of one domain add up)"),
        "{report}"
    );
    assert!(
        report.contains("line 5: '-3': weight -3 is negative"),
        "{report}"
    );
    assert!(
        report.contains("line 7: 'lots': weight 'lots' is not a number"),
        "{report}"
    );

    let now = OffsetDateTime::now_utc();
    {
        let store = Store::open(&db).expect("store");
        for (name, shape) in [
            ("gmail.com", Shape::Good),
            ("example.org", Shape::NoStarttls),
            ("blank.example", Shape::NoStarttls),
            ("zero.example", Shape::NoStarttls),
        ] {
            store
                .record_result(None, &result(name, shape, now), 14)
                .expect("record");
        }
        let list = store.list_id("outbound").expect("query");
        store.refresh_rollup(list, now).expect("roll-up");
    }
    let json: serde_json::Value =
        serde_json::from_str(&ok(&run(&db, &["trends", "--list", "outbound", "--json"])))
            .expect("JSON");
    let point = &json[0];
    assert_eq!(point["domains"]["all_three"], 1);
    assert_eq!(point["domains"]["testable"], 4, "1 of 4 domains");
    assert_eq!(point["volume"]["all_three"], 1_200_000.0);
    assert_eq!(
        point["volume"]["testable"], 1_200_751.5,
        "but 99.9 % of the mail"
    );

    let table = ok(&run(&db, &["trends", "--list", "outbound"]));
    assert!(table.contains("by mail volume"), "{table}");
    assert!(
        table.contains("   1 200 751.5     99.9%    99.9%    99.9%    99.9%       0.0%"),
        "{table}"
    );

    let csv_path = dir.path().join("out.csv");
    ok(&run(
        &db,
        &[
            "export",
            "--format",
            "csv",
            "--list",
            "outbound",
            "-o",
            csv_path.to_str().expect("utf-8"),
        ],
    ));
    let csv = std::fs::read_to_string(&csv_path).expect("written");
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let column = header
        .iter()
        .position(|name| *name == "weight")
        .expect("a weight column");
    let gmail = csv
        .lines()
        .find(|line| line.starts_with("gmail.com,"))
        .expect("a row");
    assert_eq!(gmail.split(',').nth(column), Some("1200000.0"));
}
