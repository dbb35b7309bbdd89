//! Reports from a database of synthetic results (from `tests/fixtures`, clearly not probes),
//! including hostile server strings: JSON round-trips, CSV cells stay spreadsheet-safe, the
//! HTML page stays inert and self-contained, and headless Chromium (when installed) renders
//! its charts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "support/contract.rs"]
#[allow(dead_code)] // this file checks only the trends JSON
mod contract;
mod fixtures;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fixtures::{Shape, dns_failure, domain, result, result_with};
use starttls_monitor::model::{DnsError, DomainResult};
use starttls_monitor::report::{self, ExportFormat, ExportOptions, ReportError};
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{ScanCounts, ScanScope, ScanStatus, Store, StoreError};
use time::OffsetDateTime;

const HOSTILE_SUBJECT: &str = "CN=<script>alert('subject')</script>";
const HOSTILE_HOST: &str = "mx.<img src=x onerror=alert(1)>.example";
const HOSTILE_EHLO: &str = "<script>alert('ehlo')</script>";
const HOSTILE_LIST: &str = "Kunden <script>alert('list')</script>";

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("valid")
}

/// A result whose server strings try to break out of HTML and into spreadsheets.
fn hostile(name: &str, at: OffsetDateTime, cert_not_after: OffsetDateTime) -> DomainResult {
    let mut result = result_with(name, HOSTILE_HOST, Shape::BadCert, at, cert_not_after);
    let address = &mut result.mx[0].addresses[0];
    address.cert_subject = Some(HOSTILE_SUBJECT.into());
    address.cert_issuer = Some("=HYPERLINK(\"http://evil.example\",\"x\")".into());
    address.ehlo_after_tls = vec![HOSTILE_EHLO.into(), "@SUM(1+1)".into()];
    address.smtp_text = Some("+2.0.0 Ready </table>".into());
    address.detail = "-1+1 handshake said <b>bold</b>".into();
    address.cert_days_left = Some((cert_not_after - at).whole_days());
    result
}

/// A database with: a good domain, a domain that lost STARTTLS (a regression event), a
/// hostile one whose certificate expired 3 days ago, one expiring in 5 days, a null-MX
/// domain, and one never probed; all in a list with a hostile name; trend points on
/// three days.
fn populated_store(path: &Path) -> Store {
    let store = Store::open(path).expect("store");
    let list = store.create_list(HOSTILE_LIST).expect("list");
    let names = [
        "good.example",
        "lost.example",
        "hostile.example",
        "soon.example",
        "nomail.example",
        "never.example",
    ];
    let domains: Vec<_> = names.iter().map(|name| domain(name)).collect();
    store.add_domains(Some(list), &domains).expect("add");
    store
        .add_domains(None, &[domain("outside.example")])
        .expect("add outside the list");
    let now = now();
    let days = [
        now - time::Duration::days(2),
        now - time::Duration::days(1),
        now,
    ];
    let settings = Settings::default();
    for (index, at) in days.iter().enumerate() {
        let scan = store
            .begin_scan(&ScanScope::All, &settings, 5)
            .expect("scan");
        let mut results = vec![
            result("good.example", Shape::Good, *at),
            result(
                "lost.example",
                if index < 2 {
                    Shape::Good
                } else {
                    Shape::NoStarttls
                },
                *at,
            ),
            hostile("hostile.example", *at, now - time::Duration::days(3)),
            result_with(
                "soon.example",
                "mx.soon.example",
                Shape::NoPfs,
                *at,
                now + time::Duration::days(5) + time::Duration::hours(1),
            ),
            result("nomail.example", Shape::NoMail, *at),
        ];
        results.push(result("outside.example", Shape::Untestable, *at));
        for result in &results {
            store.record_result(Some(scan), result, 14).expect("record");
        }
        store
            .finish_scan(scan, ScanStatus::Finished, &ScanCounts::default())
            .expect("finish");
        store.refresh_rollup(None, *at).expect("roll-up");
        store.refresh_rollup(Some(list), *at).expect("roll-up");
    }
    store
}

fn export_to_string(store: &Store, options: &ExportOptions) -> (String, report::ExportSummary) {
    let mut out = Vec::new();
    let summary = report::export(store, options, &mut out).expect("exports");
    assert_eq!(summary.bytes, out.len() as u64);
    (String::from_utf8(out).expect("UTF-8"), summary)
}

fn options(format: ExportFormat, list: bool) -> ExportOptions {
    ExportOptions {
        list: list.then(|| HOSTILE_LIST.to_string()),
        ..ExportOptions::new(format)
    }
}

#[test]
fn json_export_round_trips_the_stored_results() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(&dir.path().join("monitor.sqlite3"));
    let (text, summary) = export_to_string(&store, &options(ExportFormat::Json, true));
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["format"], "starttls-monitor-export");
    assert_eq!(json["version"], 1);
    assert_eq!(json["list"], HOSTILE_LIST);
    assert_eq!(json["since"], serde_json::Value::Null);
    assert!(
        json["generated_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(json["not_probed"], serde_json::json!(["never.example"]));

    let domains = json["domains"].as_array().expect("a list");
    assert_eq!(domains.len(), 5);
    assert_eq!((summary.domains, summary.probed, summary.rows), (6, 5, 5));
    for object in domains {
        let exported: DomainResult =
            serde_json::from_value(object.clone()).expect("a domain result object");
        let stored = store
            .latest_result(&exported.domain)
            .expect("query")
            .expect("stored");
        assert_eq!(exported, stored, "{}", exported.domain);
        // The same serializer as `probe --json`: every field present (the authenticated-transport
        // fields too: `dnssec`, `dane`, `mta_sts`, `tls_rpt`, `sender`, null without them).
        assert_eq!(
            contract::missing_fields(object),
            Vec::<String>::new(),
            "{}",
            exported.domain
        );
        assert_eq!(
            object,
            &serde_json::to_value(&stored).expect("serializes"),
            "{}",
            exported.domain
        );
    }
    let hostile = domains
        .iter()
        .find(|object| object["domain"] == "hostile.example")
        .expect("hostile domain");
    assert_eq!(
        hostile["mx"][0]["addresses"][0]["cert_subject"],
        HOSTILE_SUBJECT
    );

    let trends = json["trends"].as_array().expect("a list");
    assert_eq!(trends.len(), 3, "{trends:?}");
    let last = &trends[2];
    assert_eq!(last["date"], now().date().to_string());
    assert_eq!(last["domains"]["total"], 5);
    assert_eq!(last["domains"]["no_mail"], 1);
    assert_eq!(last["domains"]["testable"], 4);
    assert!(last["mx_hosts"]["total"].as_u64().is_some());
    assert!(
        last.get("tls_versions").is_none(),
        "same shape as trends --json"
    );
    for point in trends {
        assert_eq!(contract::missing_trend_fields(point), Vec::<String>::new());
    }
    assert_eq!(
        last["volume"]["testable"], 4.0,
        "unweighted memberships weigh 1: the volume figures are the domain counts, as numbers"
    );
    // The trends JSON is a contract: byte for byte, key order included. These results carry no
    // authenticated-transport facts (no sender view): those counts are null, not 0.
    let exact = format!(
        "{{\"date\":\"{}\",\
         \"domains\":{{\"total\":5,\"no_mail\":1,\"untestable\":0,\"testable\":4,\"starttls\":3,\"pfs\":2,\"strict_valid\":2,\"all_three\":1,\"stale\":0,\"weak_tls\":1,\
         \"auth_testable\":null,\"dane_valid\":null,\"dane_known\":null,\"sts_enforce\":null,\"authenticated\":null,\"at_risk\":null}},\
         \"mx_hosts\":{{\"total\":4,\"untestable\":0,\"testable\":4,\"starttls\":3,\"pfs\":2,\"strict_valid\":2,\"all_three\":1,\"weak_tls\":1,\
         \"auth_testable\":null,\"dane_valid\":null,\"dane_known\":null,\"sts_enforce\":null,\"authenticated\":null,\"at_risk\":null}},\
         \"volume\":{{\"total\":5.0,\"no_mail\":1.0,\"untestable\":0.0,\"testable\":4.0,\"starttls\":3.0,\"pfs\":2.0,\"strict_valid\":2.0,\"all_three\":1.0,\"stale\":0.0,\"weak_tls\":1.0,\
         \"auth_testable\":null,\"dane_valid\":null,\"dane_known\":null,\"sts_enforce\":null,\"authenticated\":null,\"at_risk\":null}}}}",
        now().date()
    );
    assert!(
        text.lines().any(|line| line == exact),
        "no trend line is exactly {exact}\n{text}"
    );

    let events = json["events"].as_array().expect("a list");
    assert!(
        events.iter().any(|event| event["domain"] == "lost.example"
            && event["kind"] == "starttls_lost"
            && event["regression"] == true),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|event| event["domain"] != "outside.example")
    );
    assert_eq!(summary.events, events.len());
}

#[test]
fn since_limits_trends_and_events_but_not_the_tables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(&dir.path().join("monitor.sqlite3"));
    let mut since = options(ExportFormat::Json, false);
    since.since = Some(now().date());
    let (text, _) = export_to_string(&store, &since);
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["since"], now().date().to_string());
    assert_eq!(json["trends"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["domains"].as_array().map(Vec::len), Some(6));
    let events = json["events"].as_array().expect("events");
    let today = now().date().midnight().assume_utc();
    for event in events {
        let at = OffsetDateTime::parse(
            event["at"].as_str().expect("text"),
            &time::format_description::well_known::Rfc3339,
        )
        .expect("RFC 3339");
        assert!(at >= today, "{event}");
    }
    let mut later = since.clone();
    later.since = Some(now().date() + time::Duration::days(1));
    let (text, _) = export_to_string(&store, &later);
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(json["trends"].as_array().map(Vec::len), Some(0));
    assert_eq!(json["events"].as_array().map(Vec::len), Some(0));
}

#[test]
fn csv_cells_are_neutralized_and_numbers_stay_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(&dir.path().join("monitor.sqlite3"));

    let (text, summary) = export_to_string(&store, &options(ExportFormat::Csv, true));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[0], "domain");
    assert_eq!(
        header[header.len() - 6..],
        [
            "dnssec",
            "dane",
            "mta_sts",
            "tls_rpt",
            "authenticated",
            "at_risk"
        ],
        "the authenticated-transport columns come last"
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(summary.rows, 6);
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let row_of = |name: &str| {
        rows.iter()
            .find(|row| &row[0] == name)
            .unwrap_or_else(|| panic!("row {name}"))
    };
    let hostile = row_of("hostile.example");
    assert_eq!(&hostile[column("verdict")], "tls_ok");
    assert_eq!(&hostile[column("strict_valid")], "false");
    assert_eq!(&hostile[column("mx_hosts")], HOSTILE_HOST);
    let days: i64 = hostile[column("cert_days_left")]
        .parse()
        .expect("a plain number");
    assert!((-4..=-3).contains(&days), "{days}");
    let soon = row_of("soon.example");
    assert_eq!(&soon[column("pfs")], "false");
    assert_eq!(&soon[column("cert_days_left")], "5");
    assert_eq!(&row_of("never.example")[column("verdict")], "");
    assert_eq!(&row_of("nomail.example")[column("verdict")], "no_mail");

    let mut per_address = options(ExportFormat::Csv, true);
    per_address.per_address = true;
    let (text, _) = export_to_string(&store, &per_address);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let hostile = rows
        .iter()
        .find(|row| &row[0] == "hostile.example")
        .expect("hostile row");
    assert_eq!(
        &hostile[column("cert_issuer")],
        "'=HYPERLINK(\"http://evil.example\",\"x\")"
    );
    assert_eq!(&hostile[column("smtp_text")], "'+2.0.0 Ready </table>");
    assert_eq!(
        &hostile[column("detail")],
        "'-1+1 handshake said <b>bold</b>"
    );
    assert_eq!(&hostile[column("cert_subject")], HOSTILE_SUBJECT);
    assert_eq!(&hostile[column("outcome")], "tls_ok");
    assert_eq!(&hostile[column("reason")], "completed");
    assert_eq!(&hostile[column("elapsed_ms")], "42");
    let days: i64 = hostile[column("cert_days_left")]
        .parse()
        .expect("a plain number");
    assert!(days < 0);
    // Every text cell of every row: nothing starts a formula.
    for row in &rows {
        for cell in row.iter() {
            let number = cell.parse::<f64>().is_ok();
            assert!(
                number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
    // The null-MX domain and the unprobed one still get a row each.
    assert!(rows.iter().any(|row| &row[0] == "nomail.example"));
    assert!(rows.iter().any(|row| &row[0] == "never.example"));
}

/// The elements the report may contain: ours and the chart library's SVG.
const ALLOWED_TAGS: &[&str] = &[
    "doctype", "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "div",
    "span", "b", "em", "code", "br", "table", "thead", "tbody", "tr", "th", "td", "details",
    "summary", "dl", "dt", "dd", "figure", "svg", "g", "rect", "line", "polyline", "path",
    "circle", "text", "polygon",
];

fn html_report(store: &Store) -> String {
    export_to_string(store, &options(ExportFormat::Html, true)).0
}

/// The HTML report of the hostile list with the full domain table up to `full_table_up_to`
/// domains (it has 6).
fn html_report_up_to(store: &Store, full_table_up_to: usize) -> String {
    let options = ExportOptions {
        full_table_up_to,
        ..options(ExportFormat::Html, true)
    };
    export_to_string(store, &options).0
}

/// No script, no external reference, only our tags without handlers or sources, the policy
/// in place, and the hostile strings escaped.
#[track_caller]
fn assert_inert(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(lower.starts_with("<!doctype html>"));
    assert!(!lower.contains("<script"), "no script element at all");
    assert!(
        !lower.contains("http://") && !lower.contains("https://"),
        "no external reference"
    );
    // Every tag is one we write, with no event handler, source or link attribute.
    for tag in lower.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let name: String = tag
            .trim_start_matches(['/', '!'])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "unexpected tag <{tag}>"
        );
        for attribute in [" on", "src=", "href=", "url("] {
            assert!(!tag.contains(attribute), "{attribute} in <{tag}>");
        }
    }
    assert!(lower.contains("content-security-policy"));
    // Hostile strings are there, escaped.
    assert!(html.contains("CN=&lt;script&gt;alert(&#x27;subject&#x27;)&lt;&#x2F;script&gt;"));
    assert!(html.contains("mx.&lt;img src=x onerror=alert(1)&gt;.example"));
    assert!(html.contains("Kunden &lt;script&gt;"));
}

#[test]
fn html_report_is_inert_and_self_contained() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(&dir.path().join("monitor.sqlite3"));
    let html = html_report(&store);
    assert_inert(&html);
    // Sections and figures.
    for section in [
        "Headline figures",
        "Trends",
        "Regressions and recoveries since",
        "Certificates expiring",
        "Mail providers",
        "All domains (6)",
        "What the figures mean",
    ] {
        assert!(html.contains(section), "section {section}");
    }
    assert_eq!(html.matches("<svg").count(), 2, "two trend charts");
    assert!(html.contains("lost.example") && html.contains("starttls_lost"));
    assert!(html.contains("soon.example"));
    // 4 testable domains: good (all three), lost (no STARTTLS), hostile (bad cert),
    // soon (no PFS): one in four has all three.
    assert!(html.contains("25.0 %"), "all-three share of domains");
}

/// Above the threshold the page leaves the full table out, lists the problem domains (no
/// STARTTLS, certificate not strictly valid, no forward secrecy) and says how to get every
/// domain; it stays as inert as the full page.
#[test]
fn html_report_above_the_threshold_lists_the_problem_domains_instead_of_the_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(&dir.path().join("monitor.sqlite3"));
    let html = html_report_up_to(&store, 5);
    assert_inert(&html);
    assert!(!html.contains("All domains (6)</h2>"), "no full table");
    assert!(html.contains("All domains (6): not in this page"));
    // One row each (a domain-table row has one verdict cell): no secure domain, none never
    // probed.
    assert_eq!(html.matches("title=\"verdict ").count(), 3, "{html}");
    assert!(!html.contains("title=\"verdict not_probed\""));
    assert!(html.contains("Problem domains (3 of 5 probed)"), "{html}");
    for problem in ["lost.example", "hostile.example", "soon.example"] {
        assert!(html.contains(problem), "{problem}");
    }
    assert!(html.contains("mx.&lt;img src=x onerror=alert(1)&gt;.example"));
    assert!(
        html.contains("starttls-monitor export --format csv --list &#x27;Kunden &lt;script&gt;"),
        "the command names the list, quoted and escaped"
    );
    for section in [
        "Headline figures",
        "Trends",
        "Regressions and recoveries since",
        "Certificates expiring",
    ] {
        assert!(html.contains(section), "section {section}");
    }
    assert_eq!(html.matches("<svg").count(), 2, "two trend charts");
    let at_the_threshold = html_report_up_to(&store, 6);
    assert!(
        at_the_threshold.contains("All domains (6)</h2>")
            && !at_the_threshold.contains("table is left out")
    );
}

/// The CLI's `export` uses the default threshold (`report::FULL_TABLE_MAX_DOMAINS`), and
/// `--full-table` writes the whole table however large the list (HTML only).
#[test]
fn the_cli_leaves_the_table_out_above_the_default_threshold_unless_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let store = Store::open(&db).expect("store");
    let list = store.create_list("Big").expect("list");
    let domains: Vec<_> = (0..=report::FULL_TABLE_MAX_DOMAINS)
        .map(|index| domain(&format!("d{index}.example")))
        .collect();
    store.add_domains(Some(list), &domains).expect("add");
    store
        .record_result(None, &result("d0.example", Shape::NoStarttls, now()), 14)
        .expect("record");
    drop(store);
    let export = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_starttls-monitor"))
            .args([
                "--db",
                db.to_str().expect("UTF-8 path"),
                "export",
                "--list",
                "Big",
            ])
            .args(extra)
            .args(["-o", "-"])
            .output()
            .expect("runs")
    };
    let count = report::FULL_TABLE_MAX_DOMAINS + 1;
    let output = export(&["--format", "html"]);
    assert!(output.status.success(), "{output:?}");
    let page = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(page.contains(&format!("All domains ({count}): not in this page")));
    assert!(page.contains(&format!(
        "it carries the table up to {} domains",
        report::FULL_TABLE_MAX_DOMAINS
    )));
    assert!(page.contains("Problem domains (1 of 1 probed)") && page.contains("d0.example"));
    assert_eq!(
        page.matches("title=\"verdict ").count(),
        1,
        "no row of an unprobed domain"
    );

    let output = export(&["--format", "html", "--full-table"]);
    assert!(output.status.success(), "{output:?}");
    let page = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(page.contains(&format!("All domains ({count})</h2>")));
    assert_eq!(
        page.matches("title=\"verdict ").count(),
        count,
        "a row per domain"
    );
    assert!(!page.contains("table is left out"));

    let output = export(&["--format", "csv", "--full-table"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--full-table applies to --format html only")
    );
}

/// Renders the report in Debian's headless Chromium when it is installed: the charts must be
/// in the DOM and a screenshot must come out. Under CI (`CI=true`), a missing Chromium fails.
#[test]
fn headless_chromium_renders_the_charts() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must install chromium (see .ci/run)"
        );
        eprintln!(
            "SKIPPED headless_chromium_renders_the_charts: /usr/bin/chromium is not installed \
             (apt-get install chromium)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(&dir.path().join("monitor.sqlite3"));
    let page = dir.path().join("report.html");
    std::fs::write(&page, html_report(&store)).expect("write page");
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let common = [
        "--headless".to_string(),
        "--disable-gpu".to_string(),
        "--no-sandbox".to_string(),
        "--no-first-run".to_string(),
        "--disable-dev-shm-usage".to_string(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let dom = run_chromium(chromium, &common, &["--dump-dom".to_string(), url.clone()]);
    let dom = String::from_utf8_lossy(&dom);
    assert!(
        dom.contains("<svg"),
        "charts in the DOM: {}",
        &dom[..dom.len().min(400)]
    );
    assert!(
        dom.contains("polyline") || dom.contains("<path"),
        "chart lines drawn"
    );
    assert!(!dom.to_ascii_lowercase().contains("<script"));
    // The page of a list above the threshold renders too, and says what it leaves out.
    let summary_page = dir.path().join("summary.html");
    std::fs::write(&summary_page, html_report_up_to(&store, 5)).expect("write page");
    let summary_url = format!("file://{}", summary_page.display());
    let dom = run_chromium(chromium, &common, &["--dump-dom".to_string(), summary_url]);
    let dom = String::from_utf8_lossy(&dom);
    assert!(dom.contains("The full domain table is left out of this page"));
    assert!(dom.contains("<svg") && dom.contains("Problem domains (3 of 5 probed)"));

    let shot = dir.path().join("report.png");
    run_chromium(
        chromium,
        &common,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1200,1800".to_string(),
            url,
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        png.len() > 10_000,
        "a page with content, {} bytes",
        png.len()
    );
    // To look at the page yourself: REPORT_SCREENSHOT=/tmp/report.png (and REPORT_HTML, and
    // REPORT_SUMMARY_HTML for the page above the threshold).
    if let Ok(keep) = std::env::var("REPORT_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("keep the screenshot");
    }
    if let Ok(keep) = std::env::var("REPORT_HTML") {
        std::fs::copy(&page, keep).expect("keep the page");
    }
    if let Ok(keep) = std::env::var("REPORT_SUMMARY_HTML") {
        std::fs::copy(&summary_page, keep).expect("keep the page above the threshold");
    }
}

/// Runs Chromium with a deadline (it must never hang the suite); returns its stdout.
fn run_chromium(chromium: &Path, common: &[String], extra: &[String]) -> Vec<u8> {
    let mut child = Command::new(chromium)
        .args(common)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut stdout = stdout;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "chromium exited with {status}");
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().expect("join").expect("read stdout")
}

#[test]
fn an_unknown_list_is_a_clear_error() {
    let store = Store::open_in_memory().expect("store");
    let mut options = ExportOptions::new(ExportFormat::Html);
    options.list = Some("Nope".into());
    let error = report::export(&store, &options, &mut Vec::new()).expect_err("no such list");
    assert!(matches!(error, ReportError::Store(StoreError::Invalid(_))));
    assert!(error.to_string().contains("Nope"));
}

#[test]
fn an_empty_database_still_makes_every_format() {
    let store = Store::open_in_memory().expect("store");
    for format in [ExportFormat::Csv, ExportFormat::Json, ExportFormat::Html] {
        let (text, summary) = export_to_string(&store, &ExportOptions::new(format));
        assert_eq!(summary.domains, 0);
        assert!(!text.is_empty(), "{format}");
    }
    let (html, _) = export_to_string(&store, &ExportOptions::new(ExportFormat::Html));
    assert!(html.contains("No finished scans"));
}

#[test]
fn a_failing_writer_is_reported_as_a_write_error() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "disk full",
            ))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(&dir.path().join("monitor.sqlite3"));
    for format in [ExportFormat::Csv, ExportFormat::Json, ExportFormat::Html] {
        let error =
            report::export(&store, &ExportOptions::new(format), &mut Full).expect_err("full");
        assert!(matches!(error, ReportError::Write(_)), "{format}: {error}");
        assert!(error.to_string().contains("disk full"), "{error}");
    }
}

/// Every format reports a stale domain (untestable at its latest probe, `model::stale`) by its
/// last known result, and says so: JSON nests it as `last_known` with `stale_since`, CSV shows
/// it with `stale_since`, HTML counts it in the headline and marks its row.
#[test]
fn reports_show_a_stale_domain_by_its_last_known_result() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = populated_store(&dir.path().join("monitor.sqlite3"));
    let outage = now();
    store
        .record_result(
            None,
            &dns_failure("good.example", DnsError::Timeout, outage),
            14,
        )
        .expect("record");

    let (text, _) = export_to_string(&store, &options(ExportFormat::Json, true));
    let json: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let domains = json["domains"].as_array().expect("a list");
    let good = domains
        .iter()
        .find(|object| object["domain"] == "good.example")
        .expect("good.example");
    assert_eq!(good["verdict"], "untestable", "as probed");
    assert_eq!(good["last_known"]["verdict"], "tls_ok");
    assert!(good["stale_since"].is_string());
    for object in domains
        .iter()
        .filter(|object| object["domain"] != "good.example")
    {
        assert_eq!(object["last_known"], serde_json::Value::Null, "{object}");
        assert_eq!(object["stale_since"], serde_json::Value::Null, "{object}");
    }

    let (text, _) = export_to_string(&store, &options(ExportFormat::Csv, true));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let good = rows
        .iter()
        .find(|row| &row[0] == "good.example")
        .expect("good.example row");
    assert_eq!(&good[column("verdict")], "tls_ok");
    assert_eq!(&good[column("strict_valid")], "true");
    assert!(!good[column("stale_since")].is_empty());
    let lost = rows
        .iter()
        .find(|row| &row[0] == "lost.example")
        .expect("row");
    assert_eq!(&lost[column("stale_since")], "");

    let (html, _) = export_to_string(&store, &options(ExportFormat::Html, true));
    assert!(
        html.contains("stale: untestable since"),
        "the row is marked"
    );
    assert!(
        html.contains("1 of the testable domains were untestable at their latest probe"),
        "the headline says how many are stale"
    );
}
