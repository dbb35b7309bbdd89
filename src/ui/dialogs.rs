//! Modal dialogs (add domains, confirm removal, new/rename/delete list, and the import and
//! export dialogs of [`super::import_export`]): at most one open at a time.
//!
//! Owns: dialog state, validation of what the user typed (pasted domains are cut into
//! entries by [`crate::import::domain_list`], like the command line's), and routing the
//! monitor's answers and picked files to the open dialog. Must not touch: the store or the
//! selection; edits go to the monitor as recorded actions.

use std::path::PathBuf;

use eframe::egui;

use super::action::{Action, DialogRequest};
use super::import_export::{ExportDialog, ImportDialog};
use super::state::DialogNews;
use super::style::Grade;
use super::style::GradeLook as _;
use crate::import::domain_list::{DomainList, InvalidEntry, LineSyntax, Origin};
use crate::model::DomainName;
use crate::monitor::{Command, Edit};

/// The open dialog.
#[derive(Clone, Debug)]
pub enum Dialog {
    AddDomains {
        /// None: to the database only (All domains).
        list: Option<String>,
        text: String,
        /// "New list…" chosen in "Add to": the name typed for it (the list is created by Add).
        new_list: Option<String>,
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
    /// Boxed: the preview it holds is much larger than the other dialogs.
    Import(Box<ImportDialog>),
    Export(ExportDialog),
}

impl Dialog {
    /// The dialog `request` asks for, empty.
    pub fn from_request(request: DialogRequest) -> Self {
        match request {
            DialogRequest::AddDomains { list } => Dialog::AddDomains {
                list,
                text: String::new(),
                new_list: None,
            },
            DialogRequest::ConfirmRemove { domains, list } => {
                Dialog::ConfirmRemove { domains, list }
            }
            DialogRequest::NewList => Dialog::NewList {
                name: String::new(),
            },
            DialogRequest::RenameList(name) => Dialog::RenameList {
                from: name.clone(),
                to: name,
            },
            DialogRequest::DeleteList(name) => Dialog::ConfirmDeleteList { name },
            DialogRequest::Export { list } => Dialog::Export(ExportDialog::new(list)),
        }
    }

    /// Draws the dialog; false when it should close. `lists`: the named lists; `selected`:
    /// the list shown (a rename or delete of it moves the selection along).
    fn body_ui(
        &mut self,
        ui: &mut egui::Ui,
        lists: &[String],
        selected: Option<&str>,
        actions: &mut Vec<Action>,
    ) -> bool {
        let dark_mode = ui.visuals().dark_mode;
        match self {
            Dialog::AddDomains {
                list,
                text,
                new_list,
            } => {
                ui.heading("Add domains");
                ui.label(
                    "One domain per line (commas and spaces also separate names); e-mail \
                     addresses and URLs count by their domain, as in Import.",
                );
                let chosen = match new_list {
                    Some(_) => "New list…".to_string(),
                    None => list
                        .as_deref()
                        .unwrap_or("All domains (no list)")
                        .to_string(),
                };
                let new_list_id = ui.make_persistent_id("add_domains_new_list");
                egui::ComboBox::from_label("Add to")
                    .selected_text(chosen)
                    .show_ui(ui, |ui| {
                        if ui
                            .selectable_label(
                                new_list.is_none() && list.is_none(),
                                "All domains (no list)",
                            )
                            .clicked()
                        {
                            *list = None;
                            *new_list = None;
                        }
                        for name in lists {
                            let current = new_list.is_none() && list.as_deref() == Some(name);
                            if ui.selectable_label(current, name).clicked() {
                                *list = Some(name.clone());
                                *new_list = None;
                            }
                        }
                        if ui
                            .selectable_label(new_list.is_some(), "New list…")
                            .clicked()
                        {
                            *new_list = Some(String::new());
                            // Its name field takes the keyboard as soon as it shows.
                            ui.data_mut(|data| data.insert_temp(new_list_id, true));
                        }
                    });
                let mut new_list_problem = None;
                if let Some(name) = new_list.as_mut() {
                    ui.horizontal(|ui| {
                        ui.label("New list name");
                        let field = ui.add(
                            egui::TextEdit::singleline(name)
                                .id(new_list_id)
                                .hint_text("List name"),
                        );
                        // Asked until it holds: the click that chose "New list…" may take
                        // the focus away in its own frame.
                        let pending = ui.data(|data| data.get_temp::<bool>(new_list_id));
                        if pending == Some(true) {
                            if field.has_focus() {
                                ui.data_mut(|data| data.remove::<bool>(new_list_id));
                            } else {
                                field.request_focus();
                            }
                        }
                    });
                    let trimmed = name.trim();
                    new_list_problem = if trimmed.is_empty() {
                        Some("Name the new list.")
                    } else if lists.iter().any(|list| list == trimmed) {
                        Some("A list with that name exists already: choose it above.")
                    } else {
                        None
                    };
                    if let Some(problem) = new_list_problem {
                        ui.label(problem);
                    }
                }
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
                let unique = parsed.unique_domains();
                ui.label(add_counts_text(
                    unique.len(),
                    parsed.duplicate_count(),
                    parsed.invalid.len(),
                ));
                if !parsed.invalid.is_empty() {
                    egui::ScrollArea::vertical()
                        .id_salt("invalid_lines")
                        .max_height(120.0)
                        .show(ui, |ui| {
                            for entry in parsed.invalid.iter().take(200) {
                                ui.label(
                                    egui::RichText::new(invalid_entry_text(entry))
                                        .color(Grade::NoStarttls.color(dark_mode)),
                                );
                            }
                        });
                }
                let mut open = true;
                ui.horizontal(|ui| {
                    let can_add = !unique.is_empty() && new_list_problem.is_none();
                    if ui.add_enabled(can_add, egui::Button::new("Add")).clicked() {
                        let target = match new_list.take() {
                            Some(name) => {
                                let name = name.trim().to_string();
                                *list = Some(name.clone());
                                Some(name)
                            }
                            None => list.clone(),
                        };
                        actions.push(Action::Send(Command::Edit(Edit::AddDomains {
                            list: target.clone(),
                            domains: unique.clone(),
                        })));
                        if let Some(name) = target.filter(|name| !lists.contains(name)) {
                            // The new list shows once the edit made it (asking now would race).
                            actions.push(Action::SelectListAfterEdit(Some(name)));
                        }
                        if parsed.invalid.is_empty() {
                            open = false;
                        } else {
                            // Keep what could not be added, one entry a line: the reasons below
                            // then name the lines as they now stand (1, 2, …).
                            *text = kept_entries(&parsed.invalid);
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
                        actions.push(Action::Send(Command::Edit(Edit::RemoveDomains {
                            list: list.clone(),
                            domains: domains.clone(),
                        })));
                        actions.push(Action::ForgetDetail);
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
                // Enter in the name field submits. The field keeps the focus (asked for each
                // frame), so it never "loses" it: a press while it has the focus counts too.
                let submit = (response.has_focus() || response.lost_focus())
                    && ui.input(|i| i.key_pressed(egui::Key::Enter));
                ui.horizontal(|ui| {
                    let valid = !trimmed.is_empty() && !taken;
                    let clicked = ui.add_enabled(valid, egui::Button::new("Create")).clicked();
                    if valid && (clicked || submit) {
                        actions.push(Action::Send(Command::Edit(Edit::CreateList(
                            trimmed.clone(),
                        ))));
                        actions.push(Action::SelectList(Some(trimmed.clone())));
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
                        actions.push(Action::Send(Command::Edit(Edit::RenameList {
                            from: from.clone(),
                            to: trimmed.clone(),
                        })));
                        if selected == Some(from.as_str()) {
                            actions.push(Action::SelectListAfterEdit(Some(trimmed.clone())));
                        }
                        open = false;
                    }
                    if ui.button("Cancel").clicked() {
                        open = false;
                    }
                });
                open
            }
            Dialog::Import(import) => import.ui(ui, lists, actions),
            Dialog::Export(export) => export.ui(ui, lists, actions),
            Dialog::ConfirmDeleteList { name } => {
                ui.heading(format!("Delete list '{name}'?"));
                ui.label("Its domains and their results stay in the database (under All domains).");
                let mut open = true;
                ui.horizontal(|ui| {
                    if ui.button("Delete list").clicked() {
                        actions.push(Action::Send(Command::Edit(Edit::DeleteList(name.clone()))));
                        if selected == Some(name.as_str()) {
                            actions.push(Action::SelectListAfterEdit(None));
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
/// "12 valid, 2 duplicates, 1 invalid": a repeat is not counted as valid a second time.
fn add_counts_text(valid: usize, duplicates: usize, invalid: usize) -> String {
    match duplicates {
        0 => format!("{valid} valid, {invalid} invalid"),
        1 => format!("{valid} valid, 1 duplicate, {invalid} invalid"),
        _ => format!("{valid} valid, {duplicates} duplicates, {invalid} invalid"),
    }
}

/// The entries Add left over, one a line (so they are numbered 1, 2, … again).
fn kept_entries(invalid: &[InvalidEntry]) -> String {
    invalid
        .iter()
        .map(|entry| entry.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn invalid_entry_text(entry: &InvalidEntry) -> String {
    match entry.origin {
        Origin::Line(line) => format!("line {line}: '{}': {}", entry.text, entry.reason),
        Origin::Argument => format!("'{}': {}", entry.text, entry.reason),
    }
}

/// The open dialog, if any; at most one at a time (they are modal).
#[derive(Debug, Default)]
pub struct Dialogs {
    open: Option<Dialog>,
}

impl Dialogs {
    /// Whether a dialog is open (the app's keys wait then).
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Opens the dialog `request` asks for, in place of any open one.
    pub fn open(&mut self, request: DialogRequest) {
        self.open = Some(Dialog::from_request(request));
    }

    /// Opens the import preview of `path` (into `list`, or a new list named after the file)
    /// and asks the monitor to read it.
    pub fn open_import(&mut self, path: PathBuf, list: Option<String>, actions: &mut Vec<Action>) {
        self.open = Some(Dialog::Import(Box::new(ImportDialog::start(
            path, list, actions,
        ))));
    }

    /// Starts writing the report to `path` with the export dialog's options (nothing when no
    /// export dialog is open).
    pub fn export_to(&mut self, path: PathBuf, actions: &mut Vec<Action>) {
        if let Some(Dialog::Export(dialog)) = &mut self.open {
            dialog.export_to(path, actions);
        }
    }

    /// The name the export dialog gives a saved report, when it is open.
    pub fn export_file_name(&self) -> Option<String> {
        match &self.open {
            Some(Dialog::Export(dialog)) => Some(dialog.default_file_name()),
            _ => None,
        }
    }

    /// Whether the import preview is open (a dropped file replaces it).
    pub fn is_import_open(&self) -> bool {
        matches!(self.open, Some(Dialog::Import(_)))
    }

    /// The "save as" dialog was cancelled: the export dialog can be used again.
    pub fn export_cancelled(&mut self) {
        if let Some(Dialog::Export(dialog)) = &mut self.open {
            dialog.busy = false;
        }
    }

    /// Takes the monitor's answer about an import or export: the open dialog shows it, or the
    /// status line does (a failure) when that dialog is gone.
    pub fn on_news(&mut self, news: DialogNews, actions: &mut Vec<Action>) {
        match news {
            DialogNews::ImportProgress {
                path,
                done_bytes,
                total_bytes,
            } => {
                if let Some(Dialog::Import(dialog)) = &mut self.open
                    && dialog.path == path
                {
                    dialog.progress = Some((done_bytes, total_bytes));
                }
            }
            DialogNews::ImportPreviewed(report) => {
                if let Some(Dialog::Import(dialog)) = &mut self.open
                    && dialog.path == report.path
                {
                    dialog.progress = None;
                    dialog.report = Some(*report);
                }
            }
            DialogNews::ImportFailed { path, message } => match &mut self.open {
                Some(Dialog::Import(dialog)) if dialog.path == path => {
                    dialog.progress = None;
                    dialog.error = Some(message);
                }
                _ => actions.push(Action::SetStatus {
                    text: message,
                    error: true,
                }),
            },
            DialogNews::Exported => {
                if matches!(self.open, Some(Dialog::Export(_))) {
                    self.open = None;
                }
            }
            DialogNews::ExportFailed { message } => match &mut self.open {
                Some(Dialog::Export(dialog)) => {
                    dialog.busy = false;
                    dialog.error = Some(message);
                }
                _ => actions.push(Action::SetStatus {
                    text: message,
                    error: true,
                }),
            },
        }
    }

    /// Draws the open dialog as a modal window. `lists`: the named lists; `selected`: the
    /// list shown.
    pub fn ui(
        &mut self,
        ctx: &egui::Context,
        lists: &[String],
        selected: Option<&str>,
        actions: &mut Vec<Action>,
    ) {
        let Some(mut dialog) = self.open.take() else {
            return;
        };
        let mut keep_open = true;
        let response = egui::Modal::new(egui::Id::unique("dialog")).show(ctx, |ui| {
            ui.set_max_width(520.0);
            keep_open = dialog.body_ui(ui, lists, selected, actions);
        });
        if response.should_close() {
            keep_open = false;
        }
        if keep_open {
            self.open = Some(dialog);
        }
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
    use egui::accesskit::Role;
    use egui_kittest::Harness;
    use egui_kittest::kittest::{NodeT, Queryable};

    use super::*;
    use crate::monitor::view::ImportReport;

    /// The dialogs alone, with hand-made lists and the actions they recorded.
    struct Fixture {
        dialogs: Dialogs,
        lists: Vec<String>,
        selected: Option<String>,
        actions: Vec<Action>,
    }

    fn harness(request: DialogRequest, selected: Option<&str>) -> Harness<'static, Fixture> {
        let mut dialogs = Dialogs::default();
        dialogs.open(request);
        let fixture = Fixture {
            dialogs,
            lists: vec!["Customers".into(), "Partners".into()],
            selected: selected.map(str::to_string),
            actions: Vec::new(),
        };
        let mut harness = Harness::builder()
            .with_size(egui::vec2(800.0, 600.0))
            .build_ui_state(
                |ui, fixture: &mut Fixture| {
                    fixture.dialogs.ui(
                        ui.ctx(),
                        &fixture.lists,
                        fixture.selected.as_deref(),
                        &mut fixture.actions,
                    );
                },
                fixture,
            );
        harness.run();
        harness
    }

    #[test]
    fn renaming_the_shown_list_records_the_edit_and_moves_the_selection_along() {
        let mut harness = harness(
            DialogRequest::RenameList("Partners".into()),
            Some("Partners"),
        );
        assert!(harness.query_by_label("Rename list 'Partners'").is_some());
        harness.get_by_role(Role::TextInput).click();
        harness.run();
        harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        harness.get_by_role(Role::TextInput).type_text("Customers");
        harness.run();
        assert!(
            harness
                .get_by_label("Rename")
                .accesskit_node()
                .is_disabled(),
            "a name that is taken"
        );
        harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        harness.get_by_role(Role::TextInput).type_text("Clients ");
        harness.run();
        harness.get_by_label("Rename").click();
        harness.run();
        let state = harness.state();
        assert!(!state.dialogs.is_open());
        assert!(
            matches!(
                state.actions.as_slice(),
                [
                    Action::Send(Command::Edit(Edit::RenameList { from, to })),
                    Action::SelectListAfterEdit(Some(selected)),
                ] if from == "Partners" && to == "Clients" && selected == "Clients"
            ),
            "{:?}",
            state.actions
        );
    }

    #[test]
    fn removing_domains_records_the_edit_and_forgets_their_detail() {
        let domains = vec![DomainName::parse("a.example").expect("valid")];
        let mut harness = harness(
            DialogRequest::ConfirmRemove {
                domains,
                list: None,
            },
            None,
        );
        assert!(
            harness
                .query_by_label("Delete 1 domain and their history?")
                .is_some()
        );
        harness.get_by_label("Remove").click();
        harness.run();
        assert!(
            matches!(
                harness.state().actions.as_slice(),
                [
                    Action::Send(Command::Edit(Edit::RemoveDomains { list: None, domains })),
                    Action::ForgetDetail,
                ] if domains.len() == 1
            ),
            "{:?}",
            harness.state().actions
        );
    }

    #[test]
    fn the_monitors_answers_reach_the_open_dialog_or_else_the_status_line() {
        let path = PathBuf::from("/tmp/customers.csv");
        let mut dialogs = Dialogs::default();
        let mut actions = Vec::new();
        dialogs.on_news(
            DialogNews::ImportFailed {
                path: path.clone(),
                message: "no such file".into(),
            },
            &mut actions,
        );
        assert!(matches!(
            actions.as_slice(),
            [Action::SetStatus { text, error: true }] if text == "no such file"
        ));
        actions.clear();
        dialogs.open_import(path.clone(), None, &mut actions);
        assert!(matches!(
            actions.as_slice(),
            [Action::Send(Command::PreviewImport { path: asked, .. })] if *asked == path
        ));
        actions.clear();
        dialogs.on_news(
            DialogNews::ImportProgress {
                path: PathBuf::from("/tmp/other.csv"),
                done_bytes: 1,
                total_bytes: 2,
            },
            &mut actions,
        );
        dialogs.on_news(
            DialogNews::ImportPreviewed(Box::new(ImportReport {
                path: path.clone(),
                preview: crate::import::ImportPreview::default(),
                already_present: 0,
            })),
            &mut actions,
        );
        let Some(Dialog::Import(import)) = &dialogs.open else {
            panic!("the import dialog is open");
        };
        assert_eq!(
            import.progress, None,
            "another file's progress is not this one's"
        );
        assert!(import.report.is_some());

        dialogs.open(DialogRequest::Export { list: None });
        dialogs.export_to(PathBuf::from("/tmp/report.html"), &mut actions);
        assert!(matches!(
            actions.as_slice(),
            [Action::Send(Command::Export { .. })]
        ));
        dialogs.on_news(
            DialogNews::ExportFailed {
                message: "disk full".into(),
            },
            &mut actions,
        );
        let Some(Dialog::Export(export)) = &dialogs.open else {
            panic!("the export dialog is open");
        };
        assert_eq!(export.error.as_deref(), Some("disk full"));
        assert!(!export.busy);
        dialogs.on_news(DialogNews::Exported, &mut actions);
        assert!(!dialogs.is_open(), "a written report closes the dialog");
        assert_eq!(actions.len(), 1, "nothing went to the status line");
    }

    #[test]
    fn a_drop_can_tell_which_dialog_is_open() {
        let mut dialogs = Dialogs::default();
        assert_eq!(dialogs.export_file_name(), None);
        dialogs.open(DialogRequest::Export {
            list: Some("Customers".into()),
        });
        assert_eq!(
            dialogs.export_file_name().as_deref(),
            Some("starttls-Customers.html")
        );
        assert!(!dialogs.is_import_open());
        dialogs.open_import(PathBuf::from("/tmp/a.csv"), None, &mut Vec::new());
        assert!(dialogs.is_import_open());
        assert_eq!(dialogs.export_file_name(), None);
    }

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
