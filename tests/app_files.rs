//! The app's file choices and command-line overrides driven like a user would, headless
//! (egui_kittest): on a desktop with no native file dialog (the `FileDialogs::Unavailable`
//! seam stands for no xdg portal and no zenity), File ▸ Import, Export ▸ Save as and
//! Settings ▸ Choose say why and take a typed path; a file dropped on the window imports, or
//! saves the report where it was dropped; options given on the command line show in Settings
//! with the option that set them, and are saved on request.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod app_support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use app_support::{has_label, pump};
use eframe::egui;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use starttls_monitor::monitor::Overrides;
use starttls_monitor::probe::DnsServer;
use starttls_monitor::store::Store;
use starttls_monitor::ui::{App, FileDialogs, Saved, Tab};

/// What the check says on a bare desktop.
const NO_DIALOG: &str = "no xdg desktop portal is installed, and zenity is not installed";

/// The app on `db`, on a desktop where no native file dialog can open.
fn start_app(db: &Path, overrides: Overrides) -> Harness<'static, App> {
    let app = App::start(db.to_path_buf(), overrides, false, Saved::default())
        .with_file_dialogs(FileDialogs::Unavailable(NO_DIALOG.into()));
    app_support::start(app)
}

/// Replaces what the prompt's Path field holds with `text`.
fn type_path(harness: &mut Harness<'static, App>, text: &str) {
    harness
        .get_by_role_and_label(Role::TextInput, "Path")
        .click();
    harness.run_steps(2);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, "Path")
        .type_text(text);
    harness.run_steps(2);
}

/// A file dropped on the window, as the window system hands it to egui.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|error| error.to_string())
    }
}

fn drop_file(harness: &mut Harness<'static, App>, path: &Path) {
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(path.to_path_buf())));
    harness.step();
}

fn write_customers(dir: &Path) -> PathBuf {
    let csv = dir.join("customers.csv");
    std::fs::write(
        &csv,
        "name;contact\nAcme;ops@acme.example\nBeta;it@beta.example\n",
    )
    .expect("write csv");
    csv
}

fn lab_ca(dir: &Path) -> PathBuf {
    let certified =
        rcgen::generate_simple_self_signed(vec!["ca.lab.test".to_string()]).expect("cert");
    let pem = dir.join("lab-ca.pem");
    std::fs::write(&pem, certified.cert.pem()).expect("write pem");
    pem
}

#[test]
fn without_a_native_dialog_import_says_why_and_a_typed_path_opens_the_preview() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let csv = write_customers(dir.path());
    let mut harness = start_app(&db, Overrides::default());

    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Import CSV…").click();
    pump(&mut harness, "the path prompt", |h| {
        has_label(h, "No file dialog could open")
    });
    assert!(has_label(&harness, NO_DIALOG), "it says why");
    assert!(
        has_label(&harness, "zenity") && has_label(&harness, "xdg-desktop-portal-gtk"),
        "it says what to install"
    );
    assert!(
        harness
            .query_by_role_and_label(Role::TextInput, "Path")
            .is_some(),
        "and offers a path field"
    );

    // Typed up to a folder, the prompt completes from it.
    type_path(&mut harness, &format!("{}/cust", dir.path().display()));
    pump(&mut harness, "the completion", |h| {
        h.query_all_by_label("customers.csv").next().is_some()
    });
    harness.key_press(egui::Key::Tab);
    harness.run_steps(2);
    pump(&mut harness, "the completed path", |h| {
        has_label(h, "✔ customers.csv")
    });
    harness.get_by_label("Open").click();
    pump(&mut harness, "the import preview", |h| {
        has_label(h, "Import 2 domains")
    });
    assert!(
        harness
            .query_by_role_and_label(Role::TextInput, "Path")
            .is_none(),
        "the prompt closed"
    );
    assert!(has_label(&harness, &csv.display().to_string()));
    harness.get_by_label("Import 2 domains").click();
    pump(&mut harness, "the imported list", |h| {
        h.state().table().total_len() == 2
    });
}

#[test]
fn without_a_native_dialog_export_and_the_ca_file_take_a_typed_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let csv = write_customers(dir.path());
    let pem = lab_ca(dir.path());
    let mut harness = start_app(&db, Overrides::default());
    harness.state_mut().open_import(csv);
    pump(&mut harness, "the import preview", |h| {
        has_label(h, "Import 2 domains")
    });
    harness.get_by_label("Import 2 domains").click();
    // The view of the new list itself (not "All domains", which also holds the two), since the
    // export dialog names its file after the list shown.
    pump(&mut harness, "the imported list", |h| {
        h.state().table().total_len() == 2
            && h.state()
                .view()
                .is_some_and(|view| view.list.as_deref() == Some("customers"))
    });

    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Export report…").click();
    harness.run_steps(2);
    harness.get_by_label("CSV").click();
    harness.run_steps(1);
    harness.get_by_label("Save as…").click();
    pump(&mut harness, "the save prompt", |h| {
        has_label(h, "No file dialog could open")
    });
    assert!(has_label(&harness, "Type where to save it"));
    let value = harness
        .get_by_role_and_label(Role::TextInput, "Path")
        .value()
        .unwrap_or_default();
    assert!(
        value.ends_with("/starttls-customers.csv"),
        "it suggests the report's name: {value}"
    );
    let report = dir.path().join("report.csv");
    type_path(&mut harness, &report.display().to_string());
    pump(&mut harness, "the folder listing", |h| {
        has_label(h, "a new file in")
    });
    harness.get_by_label("Save").click();
    pump(&mut harness, "the export", |h| {
        h.state()
            .status_text()
            .is_some_and(|text| text.starts_with("exported 2 domains"))
    });
    let written = std::fs::read_to_string(&report).expect("report written");
    assert!(written.contains("acme.example"), "{written}");

    harness.get_by_label("Settings").click();
    harness.run_steps(2);
    harness.get_by_label("Choose…").click();
    pump(&mut harness, "the CA prompt", |h| {
        has_label(h, "No file dialog could open")
    });
    type_path(&mut harness, &pem.display().to_string());
    pump(&mut harness, "the folder listing", |h| {
        has_label(h, "✔ lab-ca.pem")
    });
    harness.get_by_label("Open").click();
    harness.run_steps(3);
    assert!(
        harness
            .query_by_role_and_label(Role::TextInput, "Path")
            .is_none(),
        "the prompt closed"
    );
    assert!(
        harness
            .query_all_by_value(&pem.display().to_string())
            .next()
            .is_some(),
        "the CA file field holds the typed path"
    );

    // Cancelled, the prompt leaves the export dialog usable again.
    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Export report…").click();
    harness.run_steps(2);
    harness.get_by_label("Save as…").click();
    pump(&mut harness, "the save prompt", |h| {
        has_label(h, "Type where to save it")
    });
    harness.get_by_label("Cancel").click();
    harness.run_steps(3);
    assert!(!has_label(&harness, "Type where to save it"));
    assert!(
        harness.query_by_label("Save as…").is_some(),
        "back in the export dialog"
    );
}

#[test]
fn a_dropped_file_imports_or_is_where_the_report_goes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let csv = write_customers(dir.path());
    let mut harness = start_app(&db, Overrides::default());

    drop_file(&mut harness, &dir.path().join("holiday.jpg"));
    harness.run_steps(2);
    assert!(
        harness
            .state()
            .status_text()
            .is_some_and(|text| text.starts_with("'holiday.jpg' was not used: drop a .csv")),
        "{:?}",
        harness.state().status_text()
    );

    drop_file(&mut harness, &csv);
    pump(&mut harness, "the import preview", |h| {
        has_label(h, "Import 2 domains")
    });
    harness.get_by_label("Import 2 domains").click();
    pump(&mut harness, "the imported list", |h| {
        h.state().table().total_len() == 2
    });

    // A folder dropped on the export dialog: the report goes in it, once confirmed.
    harness.get_by_label("File").click();
    harness.run_steps(2);
    harness.get_by_label("Export report…").click();
    harness.run_steps(2);
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).expect("mkdir");
    drop_file(&mut harness, &reports);
    let expected = reports.join("starttls-customers.html");
    pump(&mut harness, "the dropped folder in the prompt", |h| {
        h.query_all_by_value(&expected.display().to_string())
            .next()
            .is_some()
    });
    assert!(
        !has_label(&harness, "No file dialog could open"),
        "a drop is no failure"
    );
    harness.get_by_label("Save").click();
    pump(&mut harness, "the export", |h| {
        h.state()
            .status_text()
            .is_some_and(|text| text.starts_with("exported 2 domains"))
    });
    let written = std::fs::read_to_string(&expected).expect("report written");
    assert!(written.contains("acme.example"));

    // A certificate becomes the extra CA file in Settings; one file at a time.
    let pem = lab_ca(dir.path());
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(pem.clone())));
    drop_file(&mut harness, &csv);
    harness.run_steps(2);
    assert_eq!(harness.state().saved().tab, Tab::Settings);
    assert!(
        harness
            .query_all_by_value(&pem.display().to_string())
            .next()
            .is_some(),
        "the CA file field holds the dropped file"
    );
    let status = harness
        .state()
        .status_text()
        .unwrap_or_default()
        .to_string();
    assert!(
        status.contains("is the extra CA file in Settings")
            && status.ends_with("1 more dropped file was left alone: drop one file at a time"),
        "{status}"
    );
    assert!(
        !has_label(&harness, "Import 2 domains"),
        "the second file was left alone"
    );
}

#[test]
fn command_line_overrides_show_in_settings_and_are_saved_on_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let pem = lab_ca(dir.path());
    let overrides = Overrides {
        dns: Some(DnsServer::parse("127.0.0.53").expect("address")),
        ca_file: Some(pem.clone()),
        ..Overrides::default()
    };
    let mut harness = start_app(&db, overrides);
    harness.get_by_label("Settings").click();
    pump(&mut harness, "the settings", |h| {
        has_label(h, "set by --dns for this run")
    });
    for text in [
        "127.0.0.53:53",
        "set by --ca-file for this run",
        &pem.display().to_string(),
        "⚑ not in effect: --dns 127.0.0.53:53 is used for this run",
    ] {
        assert!(has_label(&harness, text), "{text}");
    }
    harness.get_by_label("Save all as settings").click();
    pump(&mut harness, "the saved overrides", |h| {
        h.query_all_by_label("saved as the setting too").count() == 2
    });
    assert!(
        has_label(&harness, "set by --dns for this run"),
        "still in effect for this run"
    );
    drop(harness);
    let settings = Store::open(&db)
        .expect("reopen")
        .settings()
        .expect("settings");
    assert_eq!(settings.dns_server, "127.0.0.53:53");
    assert_eq!(settings.ca_file, Some(pem));
}
