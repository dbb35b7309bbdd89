//! The app in a narrow window, headless (egui_kittest): at 1024×700 with the detail pane open
//! the Domains toolbar wraps instead of cutting its buttons off, table columns can be hidden
//! (and stay hidden after a restart), and the detail pane closes with its button or Escape.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod app_support;

use std::path::Path;

use app_support::{harness, has_label, pump};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use starttls_monitor::model::DomainName;
use starttls_monitor::monitor::Overrides;
use starttls_monitor::store::Store;
use starttls_monitor::ui::table_model::SortColumn;
use starttls_monitor::ui::{App, Saved};

const NARROW: egui::Vec2 = egui::vec2(1024.0, 700.0);

/// A database with a few domains (never probed: no network needed).
fn seeded_db(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("monitor.sqlite3");
    let store = Store::open(&db).expect("store");
    let domains: Vec<DomainName> = ["alpha.example", "bravo.example", "charlie.example"]
        .iter()
        .map(|name| DomainName::parse(name).expect("valid"))
        .collect();
    store.add_domains(None, &domains).expect("add");
    db
}

fn start(db: &Path, saved: Saved, size: egui::Vec2) -> Harness<'static, App> {
    let app = App::start(db.to_path_buf(), Overrides::default(), false, saved);
    let mut harness = harness(app, size);
    pump(&mut harness, "the first snapshot", |h| {
        h.state().view_loaded() && h.state().table().total_len() == 3
    });
    harness
}

/// Clicks the row of `name` and waits for its detail.
fn open_detail(harness: &mut Harness<'static, App>, name: &str) {
    harness.get_by_label(name).click();
    pump(harness, "the detail", |h| {
        h.state().detail_domain().map(DomainName::as_str) == Some(name)
    });
    harness.run_steps(3);
}

#[test]
fn at_1024_by_700_with_the_detail_open_the_toolbar_buttons_fit_in_the_window() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db, Saved::default(), NARROW);
    open_detail(&mut harness, "alpha.example");
    assert!(has_label(&harness, "✖ Close"), "the detail pane is open");
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, NARROW);
    let detail = harness.get_by_label("⟳ Rescan").rect();
    for text in ["⟳ Rescan selected", "🗑 Remove…"] {
        let rect = harness.get_by_label(text).rect();
        assert!(
            window.contains_rect(rect),
            "{text} at {rect:?} lies outside the window {window:?}"
        );
        assert!(
            rect.right() <= detail.left(),
            "{text} at {rect:?} is under the detail pane (its Rescan at {detail:?})"
        );
    }
    // The legend wraps too: its last badge is inside the table's side of the window.
    let legend = harness
        .query_all_by_label_contains("not probed")
        .map(|node| node.rect())
        .min_by(|a, b| a.top().total_cmp(&b.top()))
        .expect("the legend's last badge");
    assert!(window.contains_rect(legend), "legend at {legend:?}");
}

#[test]
fn the_smallest_window_still_shows_the_toolbar_with_the_detail_open() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let size = egui::vec2(760.0, 480.0); // ui::run's minimum inner size
    let mut harness = start(&db, Saved::default(), size);
    open_detail(&mut harness, "alpha.example");
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
    for text in ["⟳ Rescan selected", "🗑 Remove…", "✖ Close"] {
        let rect = harness.get_by_label(text).rect();
        assert!(window.contains_rect(rect), "{text} at {rect:?}");
    }
}

#[test]
fn a_hidden_column_loses_its_heading_and_stays_hidden_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db, Saved::default(), NARROW);
    assert!(
        has_label(&harness, "Provider"),
        "the heading shows at first"
    );
    harness.get_by_label("Columns").click();
    harness.run_steps(2);
    // The menu offers every column; Domain is there but cannot be switched off.
    assert_eq!(harness.query_all_by_label("Provider").count(), 2);
    harness
        .get_by(|node| node.role() == Role::CheckBox && node.label().as_deref() == Some("Provider"))
        .click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by(|node| node.role() == Role::CheckBox
                && node.label().as_deref() == Some("Last change"))
            .is_some(),
        "the menu stays open for the next box"
    );
    harness.key_press(egui::Key::Escape); // closes the menu
    harness.run_steps(3);
    assert!(!has_label(&harness, "Provider"), "the heading is gone");
    assert!(has_label(&harness, "Columns (1 hidden)"));
    assert!(has_label(&harness, "Domain ⏶"), "the Domain column stays");
    let saved = harness.state().saved();
    assert!(!saved.hidden_columns.is_shown(SortColumn::Provider));
    drop(harness);

    // A restart: what eframe stored comes back as Saved.
    let text = serde_json::to_string(&saved).expect("serialize");
    let restored: Saved = serde_json::from_str(&text).expect("deserialize");
    let mut harness = start(&db, restored, NARROW);
    harness.run_steps(2);
    assert!(
        !has_label(&harness, "Provider"),
        "still hidden after a restart"
    );
    assert!(
        has_label(&harness, "Verdict"),
        "other columns are back as they were"
    );

    // Right-click on the headings opens the same menu: show it again.
    harness.get_by_label("Verdict").click_secondary();
    harness.run_steps(2);
    harness.get_by_label("Provider").click();
    harness.run_steps(2);
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(has_label(&harness, "Provider"), "shown again");
    assert!(
        harness
            .state()
            .saved()
            .hidden_columns
            .is_shown(SortColumn::Provider)
    );
}

#[test]
fn the_close_button_and_escape_close_the_detail_pane() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = seeded_db(dir.path());
    let mut harness = start(&db, Saved::default(), NARROW);
    open_detail(&mut harness, "alpha.example");
    harness.get_by_label("✖ Close").click();
    harness.run_steps(3);
    assert!(!has_label(&harness, "✖ Close"), "the pane is closed");
    assert!(harness.state().table().cursor().is_none());
    assert_eq!(
        harness.state().table().selected_count(),
        1,
        "the selection stays"
    );

    open_detail(&mut harness, "bravo.example");
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(!has_label(&harness, "✖ Close"), "Escape closed the pane");
    assert!(harness.state().table().cursor().is_none());

    // Escape while typing in the filter leaves the pane open.
    open_detail(&mut harness, "charlie.example");
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    harness.run_steps(3);
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(
        has_label(&harness, "✖ Close"),
        "Escape in the filter does not close it"
    );
    // Now the filter has let go of the focus: Escape closes the pane.
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(!has_label(&harness, "✖ Close"));
}
