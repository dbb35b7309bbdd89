//! Authenticated transport in the app, headless (egui_kittest; issue 13 items 5 and 6), on a
//! database of synthetic results carrying DANE and MTA-STS facts written to the store directly
//! (no network): the label order (at risk beats secure), the "Authenticated" badge, the DANE
//! and MTA-STS columns with their filters, the detail pane's DNSSEC, TLSA, policy and sender
//! facts, and the Settings tab's trust anchor file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod app_support;
#[path = "fixtures/mod.rs"]
mod fixtures;
#[path = "fixtures/auth.rs"]
mod fixtures_auth;

use std::path::{Path, PathBuf};

use app_support::{has_label, pump, start_app};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fixtures::{Shape, domain, result};
use fixtures_auth::{TLSA_EE, TLSA_NEXT, unsigned, with_dane, with_sts};
use starttls_monitor::model::DomainName;
use starttls_monitor::model::auth::{DaneStatus, StsMode};
use starttls_monitor::monitor::Overrides;
use starttls_monitor::store::Store;
use starttls_monitor::ui::App;
use starttls_monitor::ui::style::{Grade, GradeLook as _};
use starttls_monitor::ui::table_model::SortColumn;
use time::OffsetDateTime;

use eframe::egui;

/// Five domains, every one all three with good TLS:
/// - dane.example: DANE valid (a rollover pair of 3 1 1 records): authenticated;
/// - broken.example: a TLSA record the certificate no longer matches: DANE senders defer, at
///   risk;
/// - sts.example: unsigned, MTA-STS enforce listing its MX: authenticated;
/// - mismatch.example: unsigned, MTA-STS enforce that does not list its MX: at risk;
/// - plain.example: a result stored before authenticated transport was probed.
fn seeded_db(dir: &Path) -> PathBuf {
    let db = dir.join("monitor.sqlite3");
    let store = Store::open(&db).expect("store");
    let names = [
        "dane.example",
        "broken.example",
        "sts.example",
        "mismatch.example",
        "plain.example",
    ];
    let domains: Vec<DomainName> = names.iter().map(|name| domain(name)).collect();
    store.add_domains(None, &domains).expect("add");
    let now = OffsetDateTime::now_utc();
    let fetched = now - time::Duration::hours(3);
    for result in [
        with_dane(
            result("dane.example", Shape::Good, now),
            &[TLSA_EE, TLSA_NEXT],
            DaneStatus::Valid,
        ),
        with_dane(
            result("broken.example", Shape::Good, now),
            &[TLSA_EE],
            DaneStatus::Failed,
        ),
        with_sts(
            unsigned(result("sts.example", Shape::Good, now)),
            StsMode::Enforce,
            &["mx.sts.example"],
            fetched,
        ),
        with_sts(
            unsigned(result("mismatch.example", Shape::Good, now)),
            StsMode::Enforce,
            &["*.elsewhere.example"],
            fetched,
        ),
        result("plain.example", Shape::Good, now),
    ] {
        store.record_result(None, &result, 14).expect("record");
    }
    store.refresh_rollup(None, now).expect("roll-up");
    db
}

fn start(db: &Path) -> Harness<'static, App> {
    let mut harness = start_app(db, Overrides::default());
    pump(&mut harness, "the rows", |h| {
        h.state().table().total_len() == 5
    });
    harness
}

fn grade_of(harness: &Harness<'static, App>, name: &str) -> Grade {
    let row = harness
        .state()
        .table()
        .row_of(&domain(name))
        .expect("the row");
    Grade::of_row(&row)
}

fn shown(harness: &Harness<'static, App>) -> Vec<String> {
    let table = harness.state().table();
    (0..table.visible_len())
        .filter_map(|position| table.visible_row(position))
        .map(|row| row.domain.to_string())
        .collect()
}

/// Opens the combo box labelled `label`.
fn open_combo(harness: &mut Harness<'static, App>, label: &str) {
    harness
        .get_by(|node| node.role() == Role::ComboBox && node.label().as_deref() == Some(label))
        .click();
    harness.run_steps(2);
}

/// Opens `name`'s detail pane.
fn open_detail(harness: &mut Harness<'static, App>, name: &str) {
    harness
        .query_all_by_label(name)
        .next()
        .expect("its row")
        .click();
    pump(harness, "the detail", |h| {
        h.state()
            .detail()
            .is_some_and(|detail| detail.domain.as_str() == name)
    });
    harness.run_steps(3);
}

#[test]
fn at_risk_beats_secure_and_authenticated_domains_carry_the_badge() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    harness.run_steps(2);
    assert_eq!(grade_of(&harness, "broken.example"), Grade::AtRisk);
    assert_eq!(grade_of(&harness, "mismatch.example"), Grade::AtRisk);
    for name in ["dane.example", "sts.example", "plain.example"] {
        assert_eq!(grade_of(&harness, name), Grade::Secure, "{name}");
    }
    // In the table: two rows read "at risk" (never "secure"), three "secure".
    let badge = |grade: Grade| format!("{} {}", grade.icon(), grade.label());
    assert_eq!(
        harness.query_all_by_label(&badge(Grade::AtRisk)).count(),
        // The two rows and the legend.
        3
    );
    assert_eq!(
        harness.query_all_by_label(&badge(Grade::Secure)).count(),
        4,
        "three rows and the legend"
    );
    assert_eq!(
        harness.query_all_by_label("Authenticated").count(),
        2,
        "the DANE-valid and the MTA-STS-enforce domain, not the at-risk ones"
    );
    // The verdict filter offers at risk first, with its count.
    open_combo(&mut harness, "Verdict filter");
    harness
        .query_all_by_label(&format!("{} (2)", badge(Grade::AtRisk)))
        .last()
        .expect("at risk in the filter menu")
        .click();
    pump(&mut harness, "the at-risk filter", |h| {
        h.state().table().visible_len() == 2
    });
    assert_eq!(shown(&harness), ["broken.example", "mismatch.example"]);
}

#[test]
fn the_dane_and_mta_sts_columns_read_in_words_filter_sort_and_hide() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    harness.run_steps(2);
    for text in [
        "valid",
        "failed",
        "enforce",
        "enforce: MX not listed",
        "not looked up",
    ] {
        assert!(
            harness.query_all_by_label(text).next().is_some(),
            "a cell reads {text:?}"
        );
    }
    // Sort by the DANE heading: valid first, failed after none, not looked up last.
    harness
        .get_by(|node| node.role() == Role::Button && node.label().as_deref() == Some("DANE"))
        .click();
    harness.run_steps(2);
    let order = shown(&harness);
    assert_eq!(order[0], "dane.example");
    assert_eq!(order[4], "plain.example");
    assert_eq!(harness.state().saved().sort.column, SortColumn::Dane);

    open_combo(&mut harness, "MTA-STS");
    harness
        .query_all_by_label("enforce: MX not listed (1)")
        .last()
        .expect("the outcome in the filter menu")
        .click();
    pump(&mut harness, "the MTA-STS filter", |h| {
        h.state().table().visible_len() == 1
    });
    assert_eq!(shown(&harness), ["mismatch.example"]);
    open_combo(&mut harness, "MTA-STS");
    harness
        .query_all_by_label("All MTA-STS")
        .last()
        .expect("all")
        .click();
    pump(&mut harness, "the filter off", |h| {
        h.state().table().visible_len() == 5
    });
    open_combo(&mut harness, "DANE");
    harness
        .query_all_by_label("not looked up (1)")
        .last()
        .expect("results without the facts in the DANE menu")
        .click();
    pump(&mut harness, "the DANE filter", |h| {
        h.state().table().visible_len() == 1
    });
    assert_eq!(shown(&harness), ["plain.example"]);

    // The Columns menu hides the MTA-STS column.
    harness.get_by_label("Columns").click();
    harness.run_steps(2);
    harness
        .get_by(|node| node.role() == Role::CheckBox && node.label().as_deref() == Some("MTA-STS"))
        .click();
    harness.run_steps(2);
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(has_label(&harness, "Columns (1 hidden)"));
    assert!(
        !harness
            .state()
            .saved()
            .hidden_columns
            .is_shown(SortColumn::MtaSts)
    );
    assert!(
        harness
            .query_by(
                |node| node.role() == Role::Button && node.label().as_deref() == Some("MTA-STS")
            )
            .is_none(),
        "its heading is gone"
    );
}

#[test]
fn the_detail_pane_shows_dnssec_tlsa_the_match_and_the_sender_view() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    open_detail(&mut harness, "broken.example");
    for text in [
        "DANE senders: defer all mail; MTA-STS senders: opportunistic (not enforced) — at risk",
        "DNSSEC (MX)",
        "signed (secure)",
        TLSA_EE,
        "TLS-RPT",
    ] {
        assert!(has_label(&harness, text), "the pane shows {text:?}");
    }
    assert!(
        !has_label(&harness, "TLSA matched"),
        "no record matched the certificate"
    );

    open_detail(&mut harness, "dane.example");
    for text in [
        "DANE senders: authenticated; MTA-STS senders: opportunistic (not enforced)",
        "TLSA matched",
        TLSA_NEXT,
    ] {
        assert!(has_label(&harness, text), "the pane shows {text:?}");
    }
    assert!(
        !has_label(&harness, "— at risk"),
        "an authenticated domain is not at risk"
    );
    assert!(harness.query_all_by_label("Authenticated").count() >= 2);
}

#[test]
fn the_detail_pane_shows_the_mta_sts_policy_and_each_mx_match() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db);
    open_detail(&mut harness, "mismatch.example");
    for text in [
        "DANE senders: opportunistic (not enforced); MTA-STS senders: defer all mail — at risk",
        "enforce: MX not listed",
        "Policy id",
        "20261201",
        "604800 s (7 days)",
        "*.elsewhere.example",
        "not listed in the policy",
        "mode: enforce",
        "reports to mailto:tlsrpt@mismatch.example",
        "unsigned",
    ] {
        assert!(has_label(&harness, text), "the pane shows {text:?}");
    }
    open_detail(&mut harness, "sts.example");
    for text in [
        "listed in the policy",
        "passes (listed, STARTTLS, WebPKI valid)",
        "MTA-STS senders: authenticated",
    ] {
        assert!(has_label(&harness, text), "the pane shows {text:?}");
    }
}

#[test]
fn the_trust_anchor_setting_takes_a_chosen_file() {
    use starttls_monitor::ui::{FileDialogs, Saved};
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let anchor = dir.path().join("lab.key");
    std::fs::write(&anchor, "lab. 3600 IN DNSKEY 257 3 13 AAAA\n").expect("write");
    let app = App::start(db, Overrides::default(), false, Saved::default())
        .with_file_dialogs(FileDialogs::Unavailable("no dialog in tests".into()));
    let mut harness = app_support::start(app);
    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    assert!(has_label(&harness, "DNSSEC trust anchors"));
    harness.get_by_label("Choose keys…").click();
    pump(&mut harness, "the path prompt", |h| {
        has_label(h, "No file dialog could open")
    });
    harness
        .get_by_role_and_label(Role::TextInput, "Path")
        .click();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, "Path")
        .type_text(&anchor.display().to_string());
    pump(&mut harness, "the folder listing", |h| {
        has_label(h, "✔ lab.key")
    });
    harness.get_by_label("Open").click();
    harness.run_steps(3);
    assert!(
        harness
            .query_all_by_value(&anchor.display().to_string())
            .next()
            .is_some(),
        "the trust anchors field holds the chosen file"
    );
}
