//! The app with a list weighted by mail volume, driven headless (egui_kittest): the Trends tab
//! switches between its three bases (domains, unique MX hosts, mail volume) and says which one
//! it shows; by mail volume it gives the share of mail and the providers' shares; the domains
//! table shows each domain's weight and share and sorts the heaviest first; the detail sets a
//! weight. The database is written beforehand with synthetic results (no probing).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod app_support;
mod fixtures;

use std::path::Path;

use app_support::{has_label, pump, start};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use fixtures::{Shape, domain, result_with};
use starttls_monitor::model::Weight;
use starttls_monitor::monitor::Overrides;
use starttls_monitor::store::Store;
use starttls_monitor::ui::{App, Saved, Tab, TrendBasis};
use time::OffsetDateTime;

/// A list "outbound" where one Google-hosted domain carries almost all the mail: by domains
/// 1 of 3 is secure, by mail volume 99.9 %.
fn weighted_database(db: &Path) {
    let store = Store::open(db).expect("store");
    let list = store.create_list("outbound").expect("list");
    let weigh = |value: f64| Weight::new(value).expect("a weight");
    store
        .add_weighted_domains(
            list,
            &[
                (domain("heavy.example"), weigh(1_200_000.0)),
                (domain("plain.example"), weigh(500.0)),
                (domain("nopfs.example"), weigh(250.0)),
            ],
        )
        .expect("add");
    let now = OffsetDateTime::now_utc();
    let far = now + time::Duration::days(400);
    for (name, mx, shape) in [
        ("heavy.example", "aspmx.l.google.com", Shape::Good),
        ("plain.example", "mx.plain.example", Shape::NoStarttls),
        ("nopfs.example", "mx.nopfs.example", Shape::NoPfs),
    ] {
        store
            .record_result(None, &result_with(name, mx, shape, now, far), 14)
            .expect("record");
    }
    store.refresh_rollup(Some(list), now).expect("roll-up");
}

fn open_on_trends(db: &Path) -> egui_kittest::Harness<'static, App> {
    let saved = Saved {
        list: Some("outbound".into()),
        tab: Tab::Trends,
        ..Saved::default()
    };
    let mut harness = start(App::start(
        db.to_path_buf(),
        Overrides::default(),
        false,
        saved,
    ));
    pump(&mut harness, "the weighted list", |h| {
        h.state().table().total_len() == 3
    });
    harness.run_steps(3);
    harness
}

#[test]
fn trends_switch_to_mail_volume_and_say_which_basis_they_show() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    weighted_database(&db);
    let mut harness = open_on_trends(&db);

    assert!(has_label(&harness, "Latest shares of testable domains"));
    assert!(has_label(&harness, "all three: 1 of 3"), "by domains");
    assert!(
        has_label(&harness, "97% of mail secure") || has_label(&harness, "100% of mail secure"),
        "the list panel shows the share of mail of a weighted list"
    );

    harness.get_by_label("mail volume").click();
    harness.run_steps(3);
    assert_eq!(harness.state().saved().trend_basis, TrendBasis::Volume);
    assert!(has_label(
        &harness,
        "Latest shares of the testable mail volume"
    ));
    assert!(
        has_label(&harness, "all three: 1 200 000 of 1 200 750"),
        "headline weighted by volume"
    );
    assert!(
        has_label(
            &harness,
            "Of your mail: 100.0 % encrypted, 99.9 % with all three"
        ),
        "the sentence of the issue"
    );
    assert!(
        has_label(&harness, "100 % of your mail goes to google.com's MX hosts"),
        "providers weighted by mail volume"
    );
    assert!(!has_label(&harness, "This list has no weights"));

    harness.get_by_label("unique MX hosts").click();
    harness.run_steps(3);
    assert_eq!(harness.state().saved().trend_basis, TrendBasis::MxHosts);
    assert!(has_label(
        &harness,
        "Latest shares of testable unique MX hosts"
    ));
    harness.get_by_label("domains").click();
    harness.run_steps(3);
    assert_eq!(harness.state().saved().trend_basis, TrendBasis::Domains);
    assert!(has_label(&harness, "all three: 1 of 3"));
}

#[test]
fn the_table_sorts_the_heaviest_first_and_the_detail_sets_a_weight() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    weighted_database(&db);
    let mut harness = open_on_trends(&db);
    harness.get_by_label("Domains").click();
    harness.run_steps(3);
    assert!(
        has_label(&harness, "Mail volume"),
        "the column of a weighted list"
    );
    assert!(
        has_label(&harness, "1 200 000 · 99.9 %"),
        "weight and share of the list's mail"
    );
    harness.get_by_label("Mail volume").click();
    harness.run_steps(3);
    let first = harness
        .state()
        .table()
        .visible_row(0)
        .map(|row| row.domain.as_str().to_string());
    assert_eq!(first.as_deref(), Some("heavy.example"), "heaviest first");
    let last = harness
        .state()
        .table()
        .visible_row(2)
        .map(|row| row.domain.as_str().to_string());
    assert_eq!(last.as_deref(), Some("nopfs.example"));

    // The detail of the lightest domain: type a weight (the field selects its text on a click),
    // set it, and the list reloads with it.
    // Its own MX host makes it its own provider too: the first cell is the Domain column.
    harness
        .query_all_by_label("nopfs.example")
        .next()
        .expect("the row")
        .click();
    pump(&mut harness, "the detail", |h| {
        h.state().detail_domain().map(|domain| domain.as_str()) == Some("nopfs.example")
    });
    harness.run_steps(2);
    harness
        .get_by_role_and_label(Role::SpinButton, "Mail volume in this list")
        .click();
    harness.run_steps(1);
    harness
        .get_by_role_and_label(Role::SpinButton, "Mail volume in this list")
        .type_text("2500");
    harness.run_steps(1);
    harness.key_press(egui::Key::Enter);
    harness.run_steps(2);
    harness.get_by_label("Set weight").click();
    pump(&mut harness, "the new weight", |h| {
        h.state().table().weight_of(&domain("nopfs.example"))
            == Weight::new(2500.0).expect("a weight")
    });
    let store = Store::open(&db).expect("reopen");
    let list = store.list_id("outbound").expect("query");
    assert_eq!(
        store.weight(list, &domain("nopfs.example")).expect("read"),
        Some(Weight::new(2500.0).expect("a weight"))
    );
}
