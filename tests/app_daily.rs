//! The app as a daily tool, headless (egui_kittest), on a database of synthetic results (no
//! network): weak TLS on the Trends tab (issue 14 item 6); the certificate-expiry filter, the
//! provider filter and grouping, and the detail pane's history chart (item 8); the add-domains
//! dialog's new list, e-mail addresses, duplicates and renumbered lines, and the new-list
//! dialog's focus and Enter (item 9).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod app_support;
#[path = "fixtures/mod.rs"]
mod fixtures;

use std::path::{Path, PathBuf};

use app_support::{has_label, pump, start_app};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fixtures::{Shape, domain, result, result_with};
use starttls_monitor::model::DomainName;
use starttls_monitor::monitor::Overrides;
use starttls_monitor::store::Store;
use starttls_monitor::ui::App;
use time::{Duration, OffsetDateTime};

/// Four domains scanned on two days: good.example and shop.example (both at
/// mx1.bigmail.example), weak.example (TLS 1.2 with RSA key exchange: phase out, weak TLS) and
/// soon.example, whose certificate ends in 5 days.
fn seeded_db(dir: &Path) -> PathBuf {
    let db = dir.join("monitor.sqlite3");
    let store = Store::open(&db).expect("store");
    let names = [
        "good.example",
        "shop.example",
        "weak.example",
        "soon.example",
    ];
    let domains: Vec<DomainName> = names.iter().map(|name| domain(name)).collect();
    store.add_domains(None, &domains).expect("add");
    let now = OffsetDateTime::now_utc();
    let far = now + Duration::days(400);
    for at in [now - Duration::days(1), now] {
        for result in [
            result_with("good.example", "mx1.bigmail.example", Shape::Good, at, far),
            result_with("shop.example", "mx1.bigmail.example", Shape::Good, at, far),
            result("weak.example", Shape::NoPfs, at),
            result_with(
                "soon.example",
                "mx.soon.example",
                Shape::Good,
                at,
                now + Duration::days(5),
            ),
        ] {
            store.record_result(None, &result, 14).expect("record");
        }
        store.refresh_rollup(None, at).expect("roll-up");
    }
    db
}

fn start(db: &Path) -> Harness<'static, App> {
    let mut harness = start_app(db, Overrides::default());
    pump(&mut harness, "the rows", |h| {
        h.state().table().total_len() == 4
    });
    harness
}

/// Opens the combo box labelled `label`.
fn open_combo(harness: &mut Harness<'static, App>, label: &str) {
    harness
        .get_by(|node| node.role() == Role::ComboBox && node.label().as_deref() == Some(label))
        .click();
    harness.run_steps(2);
}

fn shown(harness: &Harness<'static, App>) -> Vec<String> {
    let table = harness.state().table();
    (0..table.visible_len())
        .filter_map(|position| table.visible_row(position))
        .map(|row| row.domain.to_string())
        .collect()
}

#[test]
fn weak_tls_is_its_own_series_on_the_trends_tab() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    harness.get_by_label("Trends").click();
    harness.run_steps(3);
    assert!(
        has_label(&harness, "weak TLS: 1 of 4"),
        "the headline counts the TLS 1.2 RSA domain as weak"
    );
    assert!(
        has_label(&harness, "all three: 3 of 4"),
        "all three keeps its definition"
    );
    // The same word in the legend row above the chart.
    assert!(harness.query_all_by_label("weak TLS").next().is_some());
}

#[test]
fn the_table_filters_by_certificate_expiry_and_by_provider_and_groups_by_provider() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);

    harness.get_by_label("Expires within").click();
    pump(&mut harness, "the expiry filter", |h| {
        h.state().table().visible_len() == 1
    });
    assert_eq!(shown(&harness), ["soon.example"], "ends within 30 days");
    harness.get_by_label("Expires within").click();
    pump(&mut harness, "the filter off", |h| {
        h.state().table().visible_len() == 4
    });

    // Sort by the expiry column: the soonest first.
    harness.get_by_label("Cert expires").click();
    harness.run_steps(2);
    assert_eq!(shown(&harness)[0], "soon.example");

    harness.get_by_label("Group by provider").click();
    harness.run_steps(3);
    assert_eq!(
        &shown(&harness)[..2],
        ["good.example", "shop.example"],
        "the largest provider's rows first"
    );
    assert!(
        has_label(&harness, "bigmail.example (2)"),
        "the group's first row names it with its size"
    );
    harness.get_by_label("Group by provider").click();
    harness.run_steps(2);

    open_combo(&mut harness, "Mail provider");
    harness
        .query_all_by_label("bigmail.example (2)")
        .last()
        .expect("the provider in the filter menu")
        .click();
    pump(&mut harness, "the provider filter", |h| {
        h.state().table().visible_len() == 2
    });
    assert_eq!(shown(&harness), ["good.example", "shop.example"]);
}

#[test]
fn the_detail_pane_draws_the_domains_history_beside_its_timeline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    harness
        .query_all_by_label("soon.example")
        .next()
        .expect("its row")
        .click();
    pump(&mut harness, "the detail", |h| {
        h.state().detail_domain().map(DomainName::as_str) == Some("soon.example")
    });
    harness.run_steps(3);
    let history = harness.get_by_label("History").rect();
    let timeline = harness.get_by_label("Timeline").rect();
    assert!(
        history.top() < timeline.top(),
        "the chart comes just before the text timeline"
    );
    assert!(
        !has_label(&harness, "No certificate seen yet."),
        "a certificate was seen: its days to expiry are drawn"
    );
    // The verdict reads in words, its code only on hover.
    assert!(!has_label(&harness, "tls_ok"));
}

/// The new-list dialog's field has the focus when it opens, and Enter creates the list.
#[test]
fn enter_creates_the_new_list_typed_in_the_focused_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    harness.get_by_label("+ New list").click();
    harness.run_steps(3);
    let focused = harness
        .query_all_by_role(Role::TextInput)
        .find(|node| node.is_focused())
        .expect("the name field has the focus");
    focused.type_text("Fresh");
    harness.run_steps(2);
    harness.key_press(egui::Key::Enter);
    pump(&mut harness, "the new list", |h| {
        h.state().saved().list.as_deref() == Some("Fresh")
    });
    assert!(
        harness.query_by_label("New list").is_none(),
        "the dialog (its heading) closed"
    );
}

#[test]
fn add_domains_takes_addresses_counts_duplicates_once_and_can_make_a_new_list() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    harness.get_by_label("+ Add domains…").click();
    harness.run_steps(2);
    harness.get_by_role(Role::MultilineTextInput).click();
    harness.run_steps(2);
    harness
        .get_by_role(Role::MultilineTextInput)
        .type_text("jane@New.Example\nnew.example\nnot a domain!\nhttps://www.other.example/x\n");
    harness.run_steps(2);
    assert!(
        has_label(&harness, "2 valid, 1 duplicate, 3 invalid"),
        "an address counts by its domain, and a repeat is not valid twice"
    );
    open_combo(&mut harness, "Add to");
    harness.get_by_label("New list…").click();
    harness.run_steps(2);
    assert!(has_label(&harness, "Name the new list."));
    harness
        .query_all_by_role(Role::TextInput)
        .find(|node| node.is_focused())
        .expect("the new list's name field has the focus")
        .type_text("Customers");
    harness.run_steps(2);
    harness.get_by_label("Add").click();
    pump(&mut harness, "the new list with its domains", |h| {
        h.state().saved().list.as_deref() == Some("Customers") && h.state().table().total_len() == 2
    });
    // What could not be added stays, numbered as it now stands.
    assert!(has_label(&harness, "line 1: 'not'"), "renumbered");
    assert!(has_label(&harness, "line 3: 'domain!'"), "renumbered");
    let store = Store::open(&db).expect("reopen");
    let list = store.list_id("Customers").expect("query").expect("made");
    assert_eq!(store.domain_count(Some(list)).expect("count"), 2);
}

/// Settings has a field for `stale_max_days`, shows the saved value, and saves a new one.
#[test]
fn settings_keep_the_last_known_state_for_the_days_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    harness.get_by_label("Settings").click();
    harness.run_steps(3);
    let field = "Keep last known state (days)";
    assert_eq!(
        harness
            .get_by_role_and_label(Role::TextInput, field)
            .value()
            .as_deref(),
        Some("7"),
        "the default window"
    );
    harness
        .get_by_role_and_label(Role::TextInput, field)
        .click();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, field)
        .type_text("3");
    harness.run_steps(2);
    harness.get_by_label("Save settings").click();
    let saved = app_support::pump_until(&mut harness, std::time::Duration::from_secs(10), |_| {
        Store::open(&db)
            .and_then(|store| store.settings())
            .is_ok_and(|settings| settings.stale_max_days == 3)
    });
    assert!(saved, "stale_max_days 3 is saved");
}
