//! The desktop app driven like a user would, headless (egui_kittest: no display, no GL):
//! first launch, adding domains, a scan against the loopback demo world with progress to the
//! end, the domain detail, keyboard navigation, trends, settings, and a damaged database.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod app_support;

mod fixtures;
mod support;

use std::time::Duration;

use app_support::{harness, has_label, pump_within as pump, start, start_app};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use starttls_monitor::model::DomainName;
use starttls_monitor::monitor::Overrides;
use starttls_monitor::probe::DnsServer;
use starttls_monitor::settings::Settings;
use starttls_monitor::store::Store;
use starttls_monitor::ui::style::Grade;
use starttls_monitor::ui::{App, Saved, Tab};

#[test]
fn first_launch_welcomes_and_the_sample_list_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let mut harness = start_app(&db, Overrides::default());
    assert!(has_label(&harness, "Welcome to starttls-monitor"));
    let samples = starttls_monitor::ui::sample_domains().len();
    harness
        .get_by_label(&format!("Load the sample list ({samples} domains)"))
        .click();
    pump(
        &mut harness,
        Duration::from_secs(10),
        "the sample list",
        |h| h.state().table().total_len() == samples,
    );
    harness.step();
    assert!(!has_label(&harness, "Welcome to starttls-monitor"));
    assert!(
        has_label(&harness, "Sample  (43)"),
        "the list panel shows the new list"
    );
    assert!(
        has_label(&harness, "gmail.com"),
        "the table shows the domains"
    );
    assert_eq!(harness.state().saved().list.as_deref(), Some("Sample"));
    let store = Store::open(&db).expect("reopen");
    assert_eq!(store.domain_count(None).expect("count"), samples);
}

#[test]
fn typed_domains_are_added_and_invalid_lines_are_reported_not_dropped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let mut harness = start_app(&db, Overrides::default());
    harness.get_by_label("Type or paste domains…").click();
    harness.run_steps(2);
    let text = harness.get_by_role(Role::MultilineTextInput);
    text.click();
    harness.run_steps(2);
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text("example.org\nMail.Example.NET.\nnot_a domain!\n10.1.2.3\n");
    harness.run_steps(2);
    assert!(has_label(&harness, "2 valid, 3 invalid"), "live count");
    assert!(has_label(&harness, "line 4: '10.1.2.3'"));
    harness.get_by_label("Add").click();
    pump(&mut harness, Duration::from_secs(10), "the domains", |h| {
        h.state().table().total_len() == 2
    });
    // The dialog stays open with what could not be added and why.
    assert!(
        has_label(&harness, "line 2: 'domain!'"),
        "kept lines are numbered as they now stand"
    );
    harness.get_by_label("Close").click();
    harness.run_steps(2);
    let shown: Vec<&str> = harness
        .state()
        .table()
        .rows()
        .iter()
        .map(|row| row.domain())
        .collect();
    assert_eq!(shown, ["example.org", "mail.example.net"]);
    assert!(
        harness
            .state()
            .status_text()
            .is_some_and(|text| text.contains("2 domains added")),
        "{:?}",
        harness.state().status_text()
    );
}

#[test]
fn a_scan_runs_to_completion_with_progress_then_detail_keyboard_and_trends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let world = runtime.block_on(support::demo::start_demo_world(dir.path()));
    let db = dir.path().join("monitor.sqlite3");
    {
        let store = Store::open(&db).expect("store");
        let domains: Vec<DomainName> = world
            .domains
            .iter()
            .map(|(name, _)| DomainName::parse(name).expect("valid"))
            .collect();
        let list = store.ensure_list("Customers").expect("list");
        store.add_domains(Some(list), &domains).expect("add");
    }
    let overrides = Overrides {
        dns: Some(DnsServer::Custom(world.dns.addr)),
        smtp_port: Some(world.fleet.port),
        ca_file: Some(world.ca_file.clone()),
        timeout: Some(Duration::from_secs(3)),
        greeting_timeout: Some(Duration::from_secs(5)),
        ..Overrides::default()
    };
    let mut harness = start_app(&db, overrides);
    harness.get_by_label("Customers  (33)").click();
    pump(
        &mut harness,
        Duration::from_secs(10),
        "the Customers list",
        |h| h.state().saved().list.as_deref() == Some("Customers"),
    );

    harness.get_by_label("▶ Scan now").click();
    harness.run_steps(2);
    harness.get_by_label("This list: Customers  (F5)").click();
    let mut seen_progress = None;
    pump(
        &mut harness,
        Duration::from_secs(60),
        "the scan to finish",
        |h| {
            if let Some(progress) = h.state().scan_progress() {
                seen_progress = Some(progress);
            }
            h.state()
                .status_text()
                .is_some_and(|text| text.contains("finished"))
        },
    );
    let (_, total) = seen_progress.expect("progress was shown while the scan ran");
    assert_eq!(total, world.domains.len());
    // Give the reload after the scan a moment.
    pump(&mut harness, Duration::from_secs(10), "the reload", |h| {
        h.state().view_loaded()
    });

    for (domain, expected) in &world.domains {
        let name = DomainName::parse(domain).expect("valid");
        let row = harness.state().table().row_of(&name).expect("row");
        assert_eq!(
            row.verdict.map(|verdict| verdict.as_str()),
            Some(*expected),
            "{domain}"
        );
    }
    let counts = harness.state().table().grade_counts().clone();
    assert_eq!(counts.get(&Grade::NoStarttls), Some(&4));
    assert_eq!(counts.get(&Grade::NoMail), Some(&1));

    // Click a row: its detail shows MX hosts, TLS facts and why strict validation failed.
    harness.get_by_label("riverbend.test").click();
    pump(&mut harness, Duration::from_secs(10), "the detail", |h| {
        h.state().detail_domain().map(DomainName::as_str) == Some("riverbend.test")
    });
    harness.step();
    assert!(has_label(&harness, "mx.selfhost.test"));
    assert!(has_label(&harness, "self-signed"));
    assert!(has_label(&harness, "TLS_AES"), "cipher suite shown");

    // Arrow down moves the selection and the detail follows.
    harness.key_press(egui::Key::ArrowDown);
    pump(
        &mut harness,
        Duration::from_secs(10),
        "the next row's detail",
        |h| h.state().detail_domain().map(DomainName::as_str) == Some("saltmarsh.test"),
    );

    // Trends: the series for this list, by domains and by MX hosts.
    harness.get_by_label("Trends").click();
    harness.run_steps(3);
    assert!(has_label(&harness, "Adoption over time (% of testable)"));
    assert!(
        has_label(&harness, "all three: 19 of 30"),
        "headline counts"
    );
    harness.get_by_label("unique MX hosts").click();
    harness.run_steps(3);
    assert_eq!(
        harness.state().saved().trend_basis,
        starttls_monitor::ui::TrendBasis::MxHosts
    );
    harness.get_by_label("Events").click();
    harness.run_steps(2);
    assert_eq!(harness.state().saved().tab, Tab::Events);
    drop(harness);
    drop(world);
}

#[test]
fn a_changed_setting_is_validated_saved_and_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let mut harness = start_app(&db, Overrides::default());
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    let field = harness.get_by_role_and_label(Role::TextInput, "Concurrency (domains at once)");
    field.click();
    harness.run_steps(1);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, "Concurrency (domains at once)")
        .type_text("many");
    harness.run_steps(2);
    assert!(has_label(
        &harness,
        "concurrency: 'many' is not a whole number"
    ));
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, "Concurrency (domains at once)")
        .type_text("16");
    harness.run_steps(2);
    let value = harness
        .get_by_role_and_label(Role::TextInput, "Concurrency (domains at once)")
        .value();
    assert_eq!(value.as_deref(), Some("16"));
    harness.get_by_label("Save settings").click();
    pump(
        &mut harness,
        Duration::from_secs(10),
        "the settings to be saved",
        |h| has_label(h, "Saved; the next scan uses them."),
    );
    drop(harness);
    let store = Store::open(&db).expect("reopen");
    assert_eq!(
        store.settings().expect("settings"),
        Settings {
            concurrency: 16,
            ..Settings::default()
        }
    );
}

#[test]
fn a_damaged_database_is_reported_in_the_window_and_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let bytes = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(&db, &bytes).expect("write");
    let app = App::start(db.clone(), Overrides::default(), false, Saved::default());
    let mut harness = harness(app, app_support::WINDOW);
    harness.run_steps(3);
    assert!(has_label(&harness, "The database could not be opened"));
    assert!(has_label(&harness, "monitor.sqlite3"));
    drop(harness);
    assert_eq!(std::fs::read(&db).expect("read"), bytes);
}

#[test]
fn a_csv_import_is_previewed_then_applied_and_a_report_exported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let csv = dir.path().join("customers.csv");
    std::fs::write(
        &csv,
        "\u{feff}name;contact;website\r\nAcme;ops@Acme.EXAMPLE;https://acme.example/\r\n\
         Bücher;info@bücher.example;\r\nBroken;not an address;\r\nAcme again;it@acme.example;\r\n",
    )
    .expect("write csv");
    let mut harness = start_app(&db, Overrides::default());
    harness.state_mut().open_import(csv.clone());
    pump(
        &mut harness,
        Duration::from_secs(10),
        "the import preview",
        |h| has_label(h, "Import 2 domains"),
    );
    assert!(
        harness.query_all_by_value("2: contact").next().is_some()
            || has_label(&harness, "2: contact"),
        "the e-mail column was chosen"
    );
    assert!(
        has_label(&harness, "line 4: 'not an address'"),
        "invalid row named"
    );
    harness.get_by_label("Import 2 domains").click();
    pump(
        &mut harness,
        Duration::from_secs(10),
        "the imported list",
        |h| {
            h.state().table().total_len() == 2
                && h.state().saved().list.as_deref() == Some("customers")
        },
    );
    let names: Vec<&str> = harness
        .state()
        .table()
        .rows()
        .iter()
        .map(|row| row.domain())
        .collect();
    assert_eq!(names, ["acme.example", "xn--bcher-kva.example"]);

    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Export report…").click();
    harness.run_steps(2);
    harness.get_by_label("CSV").click();
    harness.run_steps(1);
    let report = dir.path().join("report.csv");
    harness.state_mut().export_to(report.clone());
    pump(&mut harness, Duration::from_secs(10), "the export", |h| {
        h.state()
            .status_text()
            .is_some_and(|text| text.starts_with("exported 2 domains"))
    });
    let written = std::fs::read_to_string(&report).expect("report written");
    assert!(written.contains("acme.example"), "{written}");
    assert_eq!(
        written.lines().count(),
        3,
        "header and two domains: {written}"
    );

    // An export that cannot be written says where, and the app goes on.
    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Export report…").click();
    harness.run_steps(2);
    harness
        .state_mut()
        .export_to(dir.path().join("no-such-folder").join("report.html"));
    pump(
        &mut harness,
        Duration::from_secs(10),
        "the export error",
        |h| has_label(h, "no-such-folder"),
    );
}

#[test]
fn a_database_from_a_newer_version_is_reported_in_the_window_and_left_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    drop(Store::open(&db).expect("create"));
    {
        let connection = rusqlite::Connection::open(&db).expect("open");
        connection
            .pragma_update(None, "user_version", 999)
            .expect("bump version");
    }
    let bytes = std::fs::read(&db).expect("read");
    let app = App::start(db.clone(), Overrides::default(), false, Saved::default());
    let mut harness = harness(app, app_support::WINDOW);
    harness.run_steps(3);
    assert!(has_label(&harness, "The database could not be opened"));
    assert!(has_label(&harness, "newer starttls-monitor"));
    drop(harness);
    assert_eq!(std::fs::read(&db).expect("read"), bytes);
}

#[test]
fn a_dns_server_that_does_not_answer_gets_a_banner_not_failing_domains() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    {
        let store = Store::open(&db).expect("store");
        let domains: Vec<DomainName> = ["a.example", "b.example", "c.example"]
            .iter()
            .map(|name| DomainName::parse(name).expect("valid"))
            .collect();
        store.add_domains(None, &domains).expect("add");
    }
    // A UDP socket that never answers, and no TCP listener on its port.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let overrides = Overrides {
        dns: Some(DnsServer::Custom(silent_addr)),
        timeout: Some(Duration::from_secs(2)),
        ..Overrides::default()
    };
    let mut harness = start_app(&db, overrides);
    harness.key_press(egui::Key::F5);
    pump(
        &mut harness,
        Duration::from_secs(60),
        "the silent-DNS banner",
        |h| h.state().dns_unanswered_banner(),
    );
    assert!(has_label(&harness, "The DNS server is not answering"));
    assert!(has_label(
        &harness,
        &format!("The DNS server {silent_addr} answered none")
    ));
    pump(
        &mut harness,
        Duration::from_secs(60),
        "the scan to finish",
        |h| {
            h.state()
                .status_text()
                .is_some_and(|text| text.contains("finished"))
        },
    );
    for name in ["a.example", "b.example", "c.example"] {
        let domain = DomainName::parse(name).expect("valid");
        let verdict = harness
            .state()
            .table()
            .row_of(&domain)
            .and_then(|row| row.verdict);
        assert_eq!(
            verdict,
            Some(starttls_monitor::model::Verdict::Untestable),
            "{name}"
        );
    }
    harness.get_by_label("Dismiss").click();
    harness.run_steps(2);
    assert!(!harness.state().dns_unanswered_banner());
    drop(silent);
}

/// DESIGN.md "Stale state" in the app: a scan through a DNS server that never answers leaves
/// every domain's last known verdict in the table, marked stale, the list's headline unchanged,
/// and the detail pane says since when, why, and what was known.
#[test]
fn an_outage_leaves_the_last_known_verdicts_marked_stale() {
    use fixtures::{Shape, result};
    use starttls_monitor::model::Verdict;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let earlier = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    {
        let store = Store::open(&db).expect("store");
        for (name, shape) in [
            ("a.example", Shape::Good),
            ("b.example", Shape::Good),
            ("c.example", Shape::NoStarttls),
        ] {
            store
                .add_domains(None, &[DomainName::parse(name).expect("valid")])
                .expect("add");
            store
                .record_result(None, &result(name, shape, earlier), 14)
                .expect("record");
        }
        store.refresh_rollup(None, earlier).expect("roll-up");
    }
    let headline = "67% secure · 2 of 3 testable";
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let overrides = Overrides {
        dns: Some(DnsServer::Custom(silent.local_addr().expect("addr"))),
        timeout: Some(Duration::from_secs(2)),
        ..Overrides::default()
    };
    let mut harness = start_app(&db, overrides);
    harness.step();
    assert!(has_label(&harness, headline), "before the outage");
    assert!(!has_label(&harness, "(stale)"));
    harness.key_press(egui::Key::F5);
    pump(
        &mut harness,
        Duration::from_secs(60),
        "the scan to finish",
        |h| {
            h.state()
                .status_text()
                .is_some_and(|text| text.contains("finished"))
        },
    );
    harness.run_steps(3);
    for (name, verdict) in [
        ("a.example", Verdict::TlsOk),
        ("b.example", Verdict::TlsOk),
        ("c.example", Verdict::NoStarttls),
    ] {
        let domain = DomainName::parse(name).expect("valid");
        let row = harness.state().table().row_of(&domain).expect("a row");
        assert_eq!(row.verdict, Some(verdict), "{name}: the last known verdict");
        let stale = row.stale.expect("marked stale");
        assert!(stale.why.starts_with("DNS"), "{name}: {}", stale.why);
    }
    assert_eq!(
        harness.query_all_by_label("(stale)").count(),
        3,
        "every row shows the stale mark"
    );
    assert!(has_label(&harness, headline), "the headline holds");
    let counts = harness.state().table().grade_counts().clone();
    assert_eq!(counts.get(&Grade::Secure), Some(&2));
    assert_eq!(counts.get(&Grade::Untestable), None);

    // The domain's cell (its provider's is the same name).
    harness
        .query_all_by_label("a.example")
        .next()
        .expect("the row")
        .click();
    pump(&mut harness, Duration::from_secs(10), "the detail", |h| {
        h.state().detail_domain().map(DomainName::as_str) == Some("a.example")
    });
    harness.run_steps(2);
    assert!(
        has_label(&harness, "untestable since"),
        "the detail says since when"
    );
    assert!(has_label(&harness, "; last known: secure, 2 h"));
    assert!(
        has_label(&harness, "mx.a.example"),
        "the last known MX hosts"
    );
    drop(silent);
}

#[test]
fn a_proxy_that_is_down_raises_a_banner_and_another_scheduler_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let store = Store::open(&db).expect("create");
    store
        .add_domains(None, &[DomainName::parse("example.org").expect("valid")])
        .expect("add");
    // A port where no proxy listens.
    let nothing_there = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address");
    store
        .save_settings(&Settings {
            proxy: format!("socks5://alice:hunter2@{nothing_there}").into(),
            ..Settings::default()
        })
        .expect("save");
    drop(store);
    // Another process runs the schedule of this database.
    let (_held, _) = starttls_monitor::monitor::lock::SchedulerLock::try_acquire(&db)
        .expect("io")
        .expect("free");
    let mut harness = start(App::start(
        db.clone(),
        Overrides::default(),
        true,
        Saved::default(),
    ));
    pump(
        &mut harness,
        Duration::from_secs(10),
        "the other scheduler named",
        |h| {
            h.query_all_by_label_contains(&format!(
                "Scheduled scans are run by another process (pid {})",
                std::process::id()
            ))
            .next()
            .is_some()
        },
    );
    harness.get_by_label("▶ Scan now").click();
    harness.run_steps(2);
    harness.get_by_label("All domains").click();
    pump(
        &mut harness,
        Duration::from_secs(15),
        "the proxy banner",
        |h| {
            h.query_all_by_label_contains("The SOCKS proxy cannot be used")
                .next()
                .is_some()
        },
    );
    assert!(has_label(
        &harness,
        &format!("The SOCKS proxy {nothing_there} is unreachable")
    ));
    assert!(!has_label(&harness, "hunter2"));
    let store = Store::open(&db).expect("reopen");
    assert!(
        store.scans(10).expect("scans").is_empty(),
        "nothing written"
    );
}

#[test]
fn the_proxy_password_is_masked_in_the_settings_tab_until_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let store = Store::open(&db).expect("create");
    store
        .save_settings(&Settings {
            proxy: "socks5://alice:hunter2@127.0.0.1:1080".into(),
            ..Settings::default()
        })
        .expect("save");
    drop(store);
    let mut harness = start_app(&db, Overrides::default());
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    let masked = harness.get_by_role_and_label(Role::PasswordInput, "SOCKS5 proxy");
    assert!(
        !masked.value().unwrap_or_default().contains("hunter2"),
        "{:?}",
        masked.value()
    );
    assert!(!has_label(&harness, "hunter2"));
    harness.get_by_label("Show").click();
    harness.run_steps(2);
    let shown = harness.get_by_role_and_label(Role::TextInput, "SOCKS5 proxy");
    assert_eq!(
        shown.value().as_deref(),
        Some("socks5://alice:hunter2@127.0.0.1:1080")
    );
}
