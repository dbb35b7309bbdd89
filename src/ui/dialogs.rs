//! Modal dialogs (add domains, confirm removal, new/rename/delete list) and native file
//! dialogs run on a helper thread so the UI never waits for them.
//!
//! Owns: dialog state and validation of what the user typed (pasted domains are cut into
//! entries by [`crate::import::domain_list`], like the command line's). Must not touch: the
//! store; edits go to the monitor as commands.

use std::path::PathBuf;
use std::sync::mpsc;

use eframe::egui;

use super::app::App;
use super::import_export::{ExportDialog, ImportDialog};
use super::style::Grade;
use crate::import::domain_list::{DomainList, InvalidEntry, LineSyntax, Origin};
use crate::model::DomainName;
use crate::monitor::Edit;

/// The open dialog.
#[derive(Clone, Debug)]
pub enum Dialog {
    AddDomains {
        /// None: to the database only (All domains).
        list: Option<String>,
        text: String,
        /// Entries left over from the last "Add": each with its line and reason.
        rejected: Vec<InvalidEntry>,
    },
    ConfirmRemove {
        domains: Vec<DomainName>,
        /// Remove from this list; None: from the database with their history.
        list: Option<String>,
    },
    NewList {
        name: String,
    },
    RenameList {
        from: String,
        to: String,
    },
    ConfirmDeleteList {
        name: String,
    },
    Import(ImportDialog),
    Export(ExportDialog),
}

impl Dialog {
    pub fn add_domains(list: Option<String>) -> Self {
        Dialog::AddDomains {
            list,
            text: String::new(),
            rejected: Vec::new(),
        }
    }

    pub fn confirm_remove(domains: Vec<DomainName>, list: Option<String>) -> Self {
        Dialog::ConfirmRemove { domains, list }
    }

    pub fn export(list: Option<String>) -> Self {
        Dialog::Export(ExportDialog::new(list))
    }
}

/// What a native file dialog is picking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickPurpose {
    CaFile,
    ImportCsv,
    ExportReport,
}

/// A native file dialog running on its own thread; polled each frame.
pub struct FilePick {
    pub purpose: PickPurpose,
    receiver: mpsc::Receiver<Option<PathBuf>>,
}

impl FilePick {
    /// Opens a "pick a file" dialog without blocking the caller.
    pub fn open(
        purpose: PickPurpose,
        title: &str,
        filters: &[(&str, &[&str])],
        ctx: Option<egui::Context>,
    ) -> Self {
        let dialog = with_filters(rfd::FileDialog::new().set_title(title), filters);
        Self::run(purpose, ctx, move || dialog.pick_file())
    }

    /// Opens a "save as" dialog without blocking the caller.
    pub fn save(
        purpose: PickPurpose,
        title: &str,
        file_name: &str,
        ctx: Option<egui::Context>,
    ) -> Self {
        let dialog = rfd::FileDialog::new()
            .set_title(title)
            .set_file_name(file_name);
        Self::run(purpose, ctx, move || dialog.save_file())
    }

    fn run(
        purpose: PickPurpose,
        ctx: Option<egui::Context>,
        show: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) -> Self {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            let _ignored = sender.send(show());
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
        Self { purpose, receiver }
    }

    /// The chosen path once the dialog closed: `Some(Some(path))`, `Some(None)` when
    /// cancelled, None while still open.
    pub fn poll(&self) -> Option<Option<PathBuf>> {
        match self.receiver.try_recv() {
            Ok(choice) => Some(choice),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => Some(None),
        }
    }
}

fn with_filters(mut dialog: rfd::FileDialog, filters: &[(&str, &[&str])]) -> rfd::FileDialog {
    for (name, extensions) in filters {
        dialog = dialog.add_filter(*name, extensions);
    }
    dialog
}

impl App {
    /// Applies a finished file dialog.
    pub(super) fn poll_file_pick(&mut self) {
        let Some(pick) = &self.file_pick else {
            return;
        };
        let Some(choice) = pick.poll() else {
            return;
        };
        let purpose = pick.purpose;
        self.file_pick = None;
        match (purpose, choice) {
            (PickPurpose::CaFile, Some(path)) => {
                self.settings_form.ca_file = path.display().to_string();
            }
            (PickPurpose::ImportCsv, Some(path)) => self.open_import(path),
            (PickPurpose::ExportReport, Some(path)) => self.export_to(path),
            (PickPurpose::ExportReport, None) => {
                if let Some(Dialog::Export(dialog)) = &mut self.dialog {
                    dialog.busy = false;
                }
            }
            (_, None) => {}
        }
    }

    pub(super) fn dialog_ui(&mut self, ctx: &egui::Context) {
        let Some(mut dialog) = self.dialog.take() else {
            return;
        };
        let lists: Vec<String> = self
            .view
            .as_ref()
            .map(|view| view.lists.iter().filter_map(|l| l.name.clone()).collect())
            .unwrap_or_default();
        let mut keep_open = true;
        let response = egui::Modal::new(egui::Id::unique("dialog")).show(ctx, |ui| {
            ui.set_max_width(520.0);
            keep_open = self.dialog_body_ui(ui, &mut dialog, &lists);
        });
        if response.should_close() {
            keep_open = false;
        }
        if keep_open {
            self.dialog = Some(dialog);
        }
    }

    /// Draws the dialog; false when it should close.
    fn dialog_body_ui(&mut self, ui: &mut egui::Ui, dialog: &mut Dialog, lists: &[String]) -> bool {
        let dark_mode = ui.visuals().dark_mode;
        match dialog {
            Dialog::AddDomains {
                list,
                text,
                rejected,
            } => {
                ui.heading("Add domains");
                ui.label("One domain per line (commas and spaces also separate names).");
                egui::ComboBox::from_label("Add to")
                    .selected_text(list.as_deref().unwrap_or("All domains (no list)"))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(list, None, "All domains (no list)");
                        for name in lists {
                            ui.selectable_value(list, Some(name.clone()), name);
                        }
                    });
                egui::ScrollArea::vertical()
                    .max_height(240.0)
                    .show(ui, |ui| {
                        ui.add(
                            egui::TextEdit::multiline(text)
                                .hint_text("example.org\nexample.net")
                                .desired_rows(10)
                                .desired_width(f32::INFINITY),
                        );
                    });
                let parsed = DomainList::from_text(text, LineSyntax::Pasted);
                ui.label(format!(
                    "{} valid, {} invalid",
                    parsed.domains.len(),
                    parsed.invalid.len()
                ));
                let shown = if rejected.is_empty() {
                    &parsed.invalid
                } else {
                    &*rejected
                };
                if !shown.is_empty() {
                    egui::ScrollArea::vertical()
                        .id_salt("invalid_lines")
                        .max_height(120.0)
                        .show(ui, |ui| {
                            for entry in shown.iter().take(200) {
                                ui.label(
                                    egui::RichText::new(invalid_entry_text(entry))
                                        .color(Grade::NoStarttls.color(dark_mode)),
                                );
                            }
                        });
                }
                let mut open = true;
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(!parsed.domains.is_empty(), egui::Button::new("Add"))
                        .clicked()
                    {
                        self.edit(Edit::AddDomains {
                            list: list.clone(),
                            domains: parsed.domains.clone(),
                        });
                        if parsed.invalid.is_empty() {
                            open = false;
                        } else {
                            // Keep what could not be added, with the reasons, to fix or drop.
                            *text = parsed
                                .invalid
                                .iter()
                                .map(|entry| entry.text.as_str())
                                .collect::<Vec<_>>()
                                .join("\n");
                            *rejected = parsed.invalid.clone();
                        }
                    }
                    if ui.button("Close").clicked() {
                        open = false;
                    }
                });
                open
            }
            Dialog::ConfirmRemove { domains, list } => {
                match list {
                    Some(name) => ui.heading(format!(
                        "Remove {} from list '{name}'?",
                        count_domains(domains.len())
                    )),
                    None => ui.heading(format!(
                        "Delete {} and their history?",
                        count_domains(domains.len())
                    )),
                };
                let preview: Vec<&str> = domains.iter().take(8).map(|d| d.as_str()).collect();
                let more = domains.len().saturating_sub(preview.len());
                ui.label(if more > 0 {
                    format!("{} and {more} more", preview.join(", "))
                } else {
                    preview.join(", ")
                });
                if list.is_none() {
                    ui.label("This removes them from every list and deletes their stored results.");
                }
                let mut open = true;
                ui.horizontal(|ui| {
                    if ui.button("Remove").clicked() {
                        self.edit(Edit::RemoveDomains {
                            list: list.clone(),
                            domains: domains.clone(),
                        });
                        self.detail = None;
                        open = false;
                    }
                    if ui.button("Cancel").clicked() {
                        open = false;
                    }
                });
                open
            }
            Dialog::NewList { name } => {
                ui.heading("New list");
                let response = ui.add(egui::TextEdit::singleline(name).hint_text("List name"));
                response.request_focus();
                let trimmed = name.trim().to_string();
                let taken = lists.contains(&trimmed);
                if taken {
                    ui.label("A list with that name exists already.");
                }
                let mut open = true;
                let submit = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.horizontal(|ui| {
                    let valid = !trimmed.is_empty() && !taken;
                    let clicked = ui.add_enabled(valid, egui::Button::new("Create")).clicked();
                    if valid && (clicked || submit) {
                        self.edit(Edit::CreateList(trimmed.clone()));
                        self.select_list(Some(trimmed.clone()));
                        open = false;
                    }
                    if ui.button("Cancel").clicked() {
                        open = false;
                    }
                });
                open
            }
            Dialog::RenameList { from, to } => {
                ui.heading(format!("Rename list '{from}'"));
                ui.add(egui::TextEdit::singleline(to).hint_text("New name"));
                let trimmed = to.trim().to_string();
                let valid = !trimmed.is_empty() && !lists.contains(&trimmed);
                let mut open = true;
                ui.horizontal(|ui| {
                    if ui.add_enabled(valid, egui::Button::new("Rename")).clicked() {
                        self.edit(Edit::RenameList {
                            from: from.clone(),
                            to: trimmed.clone(),
                        });
                        if self.saved.list.as_deref() == Some(from.as_str()) {
                            self.saved.list = Some(trimmed.clone());
                        }
                        open = false;
                    }
                    if ui.button("Cancel").clicked() {
                        open = false;
                    }
                });
                open
            }
            Dialog::Import(import) => self.import_dialog_ui(ui, import, lists),
            Dialog::Export(export) => self.export_dialog_ui(ui, export, lists),
            Dialog::ConfirmDeleteList { name } => {
                ui.heading(format!("Delete list '{name}'?"));
                ui.label("Its domains and their results stay in the database (under All domains).");
                let mut open = true;
                ui.horizontal(|ui| {
                    if ui.button("Delete list").clicked() {
                        self.edit(Edit::DeleteList(name.clone()));
                        if self.saved.list.as_deref() == Some(name.as_str()) {
                            self.saved.list = None;
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
    }
}

/// `line 4: '10.1.2.3': <why>`, as the dialog lists a pasted entry that is not a domain.
fn invalid_entry_text(entry: &InvalidEntry) -> String {
    match entry.origin {
        Origin::Line(line) => format!("line {line}: '{}': {}", entry.text, entry.reason),
        Origin::Argument => format!("'{}': {}", entry.text, entry.reason),
    }
}

fn count_domains(count: usize) -> String {
    if count == 1 {
        "1 domain".to_string()
    } else {
        format!("{count} domains")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_pasted_entry_is_listed_with_its_line() {
        let parsed =
            DomainList::from_text("ok.example\nnot a domain!\n10.0.0.1\n", LineSyntax::Pasted);
        let shown: Vec<String> = parsed.invalid.iter().map(invalid_entry_text).collect();
        assert_eq!(shown.len(), 4, "{shown:?}");
        assert!(shown[0].starts_with("line 2: 'not': "), "{shown:?}");
        assert!(shown[3].starts_with("line 3: '10.0.0.1': "), "{shown:?}");
        assert!(shown[3].contains("IP address"), "{shown:?}");
    }
}
