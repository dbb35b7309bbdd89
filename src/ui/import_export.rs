//! File → Import CSV (a preview: domain column, target list, counts to add / already present /
//! duplicates / invalid with line numbers; confirm or cancel) and File → Export report (format,
//! list, since, per-address; then a save dialog).
//!
//! Owns: the two dialogs' state. Must not touch: reading or writing files — the monitor does
//! that on its own threads and answers with events; native dialogs run on helper threads
//! (asked for with [`Action::PickFile`]).

use std::path::{Path, PathBuf};

use eframe::egui;

use super::action::Action;
use super::file_pick::FilePurpose;
use super::style::Grade;
use super::style::GradeLook as _;
use crate::monitor::{ColumnChoice, Command, Edit, ExportFormat, ExportOptions, ImportReport};

/// Where imported domains go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportTarget {
    /// Only the database (All domains).
    NoList,
    Existing(String),
    /// A new list with this name (created on import).
    New(String),
}

/// The import preview dialog.
#[derive(Clone, Debug)]
pub struct ImportDialog {
    pub path: PathBuf,
    pub target: ImportTarget,
    /// Bytes read so far while the file is being read.
    pub progress: Option<(u64, u64)>,
    pub report: Option<ImportReport>,
    pub error: Option<String>,
}

/// The weight column as a menu entry: none, or a column (0-based).
fn weight_column_text(preview: &crate::import::ImportPreview, column: Option<usize>) -> String {
    match column {
        None => "none (every domain weighs 1)".to_string(),
        Some(index) => format!(
            "{}: {}",
            index + 1,
            preview.columns.get(index).cloned().unwrap_or_default()
        ),
    }
}

impl ImportDialog {
    /// A dialog for `path`, importing into `list` (or a new list named after the file); asks
    /// the monitor to read the file.
    pub fn start(path: PathBuf, list: Option<String>, actions: &mut Vec<Action>) -> Self {
        actions.push(Action::Send(Command::PreviewImport {
            path: path.clone(),
            column: ColumnChoice::Auto,
            weight_column: Some(ColumnChoice::Auto),
        }));
        Self::new(path, list)
    }

    /// A dialog for `path`, importing into `list` (or a new list named after the file).
    pub fn new(path: PathBuf, list: Option<String>) -> Self {
        let target = match list {
            Some(name) => ImportTarget::Existing(name),
            None => ImportTarget::New(list_name_from(&path)),
        };
        Self {
            path,
            target,
            progress: Some((0, 0)),
            report: None,
            error: None,
        }
    }
}

/// A list name from a file name: `customers.csv` → `customers`.
pub fn list_name_from(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().trim().to_string())
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "Imported".to_string())
}

/// The export dialog.
#[derive(Clone, Debug)]
pub struct ExportDialog {
    pub format: ExportFormat,
    pub list: Option<String>,
    /// `YYYY-MM-DD` or empty.
    pub since: String,
    pub per_address: bool,
    /// Waiting for the save dialog or the export itself.
    pub busy: bool,
    pub error: Option<String>,
}

impl ExportDialog {
    pub fn new(list: Option<String>) -> Self {
        Self {
            format: ExportFormat::Html,
            list,
            since: String::new(),
            per_address: false,
            busy: false,
            error: None,
        }
    }

    /// The export options, or why the form is not usable.
    pub fn options(&self) -> Result<ExportOptions, String> {
        let since =
            match self.since.trim() {
                "" => None,
                text => {
                    let format = time::macros::format_description!("[year]-[month]-[day]");
                    Some(time::Date::parse(text, format).map_err(|_| {
                        format!("'since' must be a date like 2026-01-31, not '{text}'")
                    })?)
                }
            };
        Ok(ExportOptions {
            format: self.format,
            list: self.list.clone(),
            since,
            per_address: self.per_address && self.format == ExportFormat::Csv,
            // The full HTML table up to the default threshold, as the CLI without --full-table.
            ..ExportOptions::new(self.format)
        })
    }

    /// The name a saved report gets: after the list and the format (`starttls-Customers.csv`).
    pub fn default_file_name(&self) -> String {
        let stem = self.list.as_deref().map_or_else(
            || "starttls-report".to_string(),
            |name| format!("starttls-{name}"),
        );
        let extension = match self.format {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Html => "html",
        };
        format!("{stem}.{extension}")
    }
}

impl ImportDialog {
    /// Draws the import dialog; false when it should close.
    pub fn ui(&mut self, ui: &mut egui::Ui, lists: &[String], actions: &mut Vec<Action>) -> bool {
        let dialog = self;
        let dark_mode = ui.visuals().dark_mode;
        ui.heading("Import domains from CSV");
        ui.label(dialog.path.display().to_string());
        if let Some(error) = &dialog.error {
            ui.label(egui::RichText::new(error).color(Grade::NoStarttls.color(dark_mode)));
            return !ui.button("Close").clicked();
        }
        let Some(report) = dialog.report.clone() else {
            ui.horizontal(|ui| {
                ui.spinner();
                match dialog.progress {
                    Some((done, total)) if total > 0 => ui.label(format!(
                        "reading… {:.0}%",
                        done as f64 * 100.0 / total as f64
                    )),
                    _ => ui.label("reading…"),
                };
            });
            return !ui.button("Cancel").clicked();
        };
        let preview = &report.preview;
        let mut chosen_column = preview.column;
        egui::ComboBox::from_label("Domain column")
            .selected_text(format!(
                "{}: {}",
                preview.column + 1,
                preview
                    .columns
                    .get(preview.column)
                    .cloned()
                    .unwrap_or_default()
            ))
            .show_ui(ui, |ui| {
                for (index, name) in preview.columns.iter().enumerate() {
                    ui.selectable_value(
                        &mut chosen_column,
                        index,
                        format!("{}: {name}", index + 1),
                    );
                }
            });
        // Weights (mail volume): found by a volume/count/messages/weight header, or chosen.
        let mut chosen_weight = preview.weight_column;
        egui::ComboBox::from_label("Weight column (mail volume)")
            .selected_text(weight_column_text(preview, preview.weight_column))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen_weight, None, weight_column_text(preview, None));
                for index in (0..preview.columns.len()).filter(|index| *index != preview.column) {
                    ui.selectable_value(
                        &mut chosen_weight,
                        Some(index),
                        weight_column_text(preview, Some(index)),
                    );
                }
            });
        if chosen_column != preview.column || chosen_weight != preview.weight_column {
            dialog.report = None;
            dialog.progress = Some((0, 0));
            actions.push(Action::Send(Command::PreviewImport {
                path: dialog.path.clone(),
                column: ColumnChoice::Index(chosen_column + 1),
                weight_column: chosen_weight
                    .filter(|index| *index != chosen_column)
                    .map(|index| ColumnChoice::Index(index + 1)),
            }));
            return true;
        }
        ui.horizontal(|ui| {
            let add_to = ui.label("Add to");
            let mut new_name = match &dialog.target {
                ImportTarget::New(name) => name.clone(),
                _ => list_name_from(&dialog.path),
            };
            let selected_text = match &dialog.target {
                ImportTarget::NoList => "All domains (no list)".to_string(),
                ImportTarget::Existing(name) => name.clone(),
                ImportTarget::New(_) => "a new list".to_string(),
            };
            egui::ComboBox::from_id_salt("import_target")
                .selected_text(selected_text)
                .show_ui(ui, |ui| {
                    ui.selectable_value(
                        &mut dialog.target,
                        ImportTarget::New(new_name.clone()),
                        "a new list",
                    );
                    ui.selectable_value(
                        &mut dialog.target,
                        ImportTarget::NoList,
                        "All domains (no list)",
                    );
                    for name in lists {
                        ui.selectable_value(
                            &mut dialog.target,
                            ImportTarget::Existing(name.clone()),
                            name,
                        );
                    }
                })
                .response
                .labelled_by(add_to.id);
            if let ImportTarget::New(_) = dialog.target {
                let label = ui.label("named");
                if ui
                    .text_edit_singleline(&mut new_name)
                    .labelled_by(label.id)
                    .changed()
                {
                    dialog.target = ImportTarget::New(new_name);
                }
            }
        });
        let to_add = preview.domains.len().saturating_sub(report.already_present);
        egui::Grid::new("import_counts")
            .num_columns(2)
            .spacing([16.0, 2.0])
            .show(ui, |ui| {
                for (name, value) in [
                    ("Rows read", preview.lines_read),
                    ("To add", to_add),
                    ("Already in the database", report.already_present),
                    ("Duplicates in the file", preview.duplicates),
                    ("Invalid", preview.invalid_total),
                ] {
                    ui.label(name);
                    ui.label(value.to_string());
                    ui.end_row();
                }
                if preview.weight_column.is_some() {
                    let total: f64 = preview.weights.iter().map(|weight| weight.get()).sum();
                    ui.label("Mail volume (rows of one domain add up)");
                    ui.label(crate::model::weight::format_volume(total));
                    ui.end_row();
                }
            });
        if !preview.invalid.is_empty() {
            ui.label(egui::RichText::new("Invalid rows (not imported):").strong());
            egui::ScrollArea::vertical()
                .id_salt("import_invalid")
                .max_height(160.0)
                .show(ui, |ui| {
                    for line in preview.invalid.iter().take(1000) {
                        ui.label(
                            egui::RichText::new(format!(
                                "line {}: '{}': {}",
                                line.line, line.text, line.reason
                            ))
                            .color(Grade::NoStarttls.color(dark_mode)),
                        );
                    }
                    if preview.invalid_total > preview.invalid.len().min(1000) {
                        ui.label(format!(
                            "… and {} more",
                            preview.invalid_total - preview.invalid.len().min(1000)
                        ));
                    }
                });
        }
        let list = match &dialog.target {
            ImportTarget::NoList => Ok(None),
            ImportTarget::Existing(name) => Ok(Some(name.clone())),
            ImportTarget::New(name) if name.trim().is_empty() => Err("give the new list a name"),
            ImportTarget::New(name) if lists.contains(&name.trim().to_string()) => {
                Err("a list with that name exists already; choose it from the menu")
            }
            ImportTarget::New(name) => Ok(Some(name.trim().to_string())),
        };
        if let Err(problem) = list {
            ui.label(egui::RichText::new(problem).color(Grade::Encrypted.color(dark_mode)));
        }
        if preview.weight_column.is_some() && matches!(list, Ok(None)) {
            ui.label(
                egui::RichText::new(
                    "Weights belong to a list: choose one to keep them (without a list they \
                     are left out).",
                )
                .color(Grade::Encrypted.color(dark_mode)),
            );
        }
        if let Some((heaviest, weight)) = preview
            .domains
            .iter()
            .zip(&preview.weights)
            .max_by(|a, b| a.1.cmp(b.1))
        {
            ui.label(format!(
                "Heaviest: {} ({})",
                heaviest.display_name(),
                crate::model::weight::format_volume(weight.get())
            ));
        }
        let mut open = true;
        ui.horizontal(|ui| {
            let usable = !preview.domains.is_empty() && list.is_ok();
            if ui
                .add_enabled(
                    usable,
                    egui::Button::new(format!("Import {} domains", preview.domains.len())),
                )
                .clicked()
                && let Ok(list) = list.clone()
            {
                let edit = match &list {
                    Some(name) if preview.weight_column.is_some() => Edit::AddWeightedDomains {
                        list: name.clone(),
                        domains: preview
                            .domains
                            .iter()
                            .cloned()
                            .zip(preview.weights.iter().copied())
                            .collect(),
                    },
                    _ => Edit::AddDomains {
                        list: list.clone(),
                        domains: preview.domains.clone(),
                    },
                };
                actions.push(Action::Send(Command::Edit(edit)));
                if list.is_some() {
                    // Shown once the edit is applied (its reload loads the list): asking for
                    // the view now could race the edit and find no such list yet.
                    actions.push(Action::SelectListAfterEdit(list));
                }
                open = false;
            }
            if ui.button("Cancel").clicked() {
                open = false;
            }
        });
        open
    }
}

impl ExportDialog {
    /// Starts writing the report to `path` with the dialog's options, or says why it cannot.
    pub fn export_to(&mut self, path: PathBuf, actions: &mut Vec<Action>) {
        match self.options() {
            Ok(options) => {
                self.busy = true;
                self.error = None;
                actions.push(Action::Send(Command::Export { options, path }));
            }
            Err(problem) => self.error = Some(problem),
        }
    }

    /// Draws the export dialog; false when it should close.
    pub fn ui(&mut self, ui: &mut egui::Ui, lists: &[String], actions: &mut Vec<Action>) -> bool {
        let dialog = self;
        let dark_mode = ui.visuals().dark_mode;
        ui.heading("Export a report");
        ui.horizontal(|ui| {
            ui.label("Format");
            ui.radio_value(&mut dialog.format, ExportFormat::Html, "HTML report");
            ui.radio_value(&mut dialog.format, ExportFormat::Csv, "CSV");
            ui.radio_value(&mut dialog.format, ExportFormat::Json, "JSON");
        });
        egui::ComboBox::from_label("List")
            .selected_text(dialog.list.as_deref().unwrap_or("All domains"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut dialog.list, None, "All domains");
                for name in lists {
                    ui.selectable_value(&mut dialog.list, Some(name.clone()), name);
                }
            });
        ui.horizontal(|ui| {
            let label = ui.label("Since (trends and events)");
            ui.add(
                egui::TextEdit::singleline(&mut dialog.since)
                    .hint_text("YYYY-MM-DD (optional)")
                    .desired_width(140.0),
            )
            .labelled_by(label.id);
        });
        ui.add_enabled(
            dialog.format == ExportFormat::Csv,
            egui::Checkbox::new(&mut dialog.per_address, "One row per MX address"),
        );
        let options = dialog.options();
        if let Err(problem) = &options {
            ui.label(egui::RichText::new(problem).color(Grade::NoStarttls.color(dark_mode)));
        }
        if let Some(error) = &dialog.error {
            ui.label(egui::RichText::new(error).color(Grade::NoStarttls.color(dark_mode)));
        }
        let mut open = true;
        ui.horizontal(|ui| {
            if dialog.busy {
                ui.spinner();
            }
            if ui
                .add_enabled(
                    options.is_ok() && !dialog.busy,
                    egui::Button::new("Save as…"),
                )
                .clicked()
            {
                dialog.busy = true;
                actions.push(Action::PickFile {
                    purpose: FilePurpose::ExportReport,
                    file_name: Some(dialog.default_file_name()),
                });
            }
            if ui.button("Close").clicked() {
                open = false;
            }
        });
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_options_check_the_date_and_keep_per_address_to_csv() {
        let mut dialog = ExportDialog::new(Some("Customers".into()));
        dialog.per_address = true;
        let options = dialog.options().expect("valid");
        assert!(!options.per_address, "per-address is a CSV option");
        dialog.format = ExportFormat::Csv;
        dialog.since = "2026-02-30".into();
        assert!(dialog.options().is_err());
        dialog.since = "2026-02-28".into();
        let options = dialog.options().expect("valid");
        assert!(options.per_address);
        assert_eq!(options.list.as_deref(), Some("Customers"));
        assert_eq!(dialog.default_file_name(), "starttls-Customers.csv");
    }

    #[test]
    fn a_preview_with_weights_shows_the_volume_and_imports_the_weights_into_the_list() {
        use egui_kittest::Harness;
        use egui_kittest::kittest::Queryable;

        use crate::model::{DomainName, Weight};

        let name = |text: &str| DomainName::parse(text).expect("valid");
        let weigh = |value: f64| Weight::new(value).expect("a weight");
        let mut dialog = ImportDialog::new(PathBuf::from("/tmp/outbound.csv"), None);
        dialog.progress = None;
        dialog.report = Some(ImportReport {
            path: dialog.path.clone(),
            preview: crate::import::ImportPreview {
                columns: vec!["Domain".into(), "Messages".into()],
                column: 0,
                has_header: true,
                delimiter: b',',
                domains: vec![name("gmail.com"), name("a.example"), name("b.example")],
                weight_column: Some(1),
                weights: vec![weigh(1_200_000.0), weigh(500.0), weigh(250.0)],
                lines_read: 3,
                ..Default::default()
            },
            already_present: 0,
        });
        struct Fixture {
            dialog: ImportDialog,
            actions: Vec<Action>,
        }
        let mut harness = Harness::builder()
            .with_size(egui::vec2(600.0, 500.0))
            .build_ui_state(
                |ui, fixture: &mut Fixture| {
                    fixture.dialog.ui(ui, &[], &mut fixture.actions);
                },
                Fixture {
                    dialog,
                    actions: Vec::new(),
                },
            );
        harness.run();
        assert!(
            harness
                .query_by_label_contains("Weight column (mail volume)")
                .is_some()
        );
        assert!(
            harness
                .query_by_label("Mail volume (rows of one domain add up)")
                .is_some()
        );
        assert!(harness.query_by_label("1 200 750").is_some());
        assert!(
            harness
                .query_by_label("Heaviest: gmail.com (1 200 000)")
                .is_some()
        );
        harness.get_by_label("Import 3 domains").click();
        harness.run();
        let edits: Vec<&Edit> = harness
            .state()
            .actions
            .iter()
            .filter_map(|action| match action {
                Action::Send(Command::Edit(edit)) => Some(edit),
                _ => None,
            })
            .collect();
        assert_eq!(
            edits,
            [&Edit::AddWeightedDomains {
                list: "outbound".into(),
                domains: vec![
                    (name("gmail.com"), weigh(1_200_000.0)),
                    (name("a.example"), weigh(500.0)),
                    (name("b.example"), weigh(250.0)),
                ],
            }],
            "into the new list named after the file, with the weights"
        );
    }

    #[test]
    fn a_new_list_is_named_after_the_file() {
        assert_eq!(
            list_name_from(Path::new("/tmp/customers 2026.csv")),
            "customers 2026"
        );
        assert_eq!(list_name_from(Path::new("/")), "Imported");
    }
}
