//! The side panel of lists: All domains and each named list, with its size and headline rate
//! (share of testable domains with STARTTLS + PFS + strict validation, as of its last scan).
//!
//! Owns: list selection and the list actions (new, rename, delete, scan, add domains).
//! Must not touch: the table.

use eframe::egui;

use super::app::App;
use super::dialogs::Dialog;
use super::style::Grade;
use crate::monitor::ScanTarget;
use crate::monitor::view::{ListSummary, TrendCounts};

/// "72% secure" from a list's counts; None before any testable result.
pub fn headline(counts: &TrendCounts) -> Option<f64> {
    (counts.testable > 0).then(|| counts.all_three as f64 * 100.0 / counts.testable as f64)
}

impl App {
    pub(super) fn lists_panel_ui(&mut self, ui: &mut egui::Ui) {
        let lists: Vec<ListSummary> = self
            .view
            .as_ref()
            .map(|view| view.lists.clone())
            .unwrap_or_default();
        egui::Panel::left("lists_panel")
            .default_size(230.0)
            .min_size(160.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                ui.heading("Lists");
                ui.add_space(4.0);
                egui::ScrollArea::vertical()
                    .auto_shrink([false, true])
                    .max_height(ui.available_height() - 70.0)
                    .show(ui, |ui| {
                        for summary in &lists {
                            self.list_entry_ui(ui, summary);
                        }
                    });
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    if ui.button("+ New list").clicked() {
                        self.dialog = Some(Dialog::NewList {
                            name: String::new(),
                        });
                    }
                    if ui.button("+ Add domains…").clicked() {
                        self.dialog = Some(Dialog::add_domains(self.saved.list.clone()));
                    }
                });
            });
    }

    fn list_entry_ui(&mut self, ui: &mut egui::Ui, summary: &ListSummary) {
        let dark_mode = ui.visuals().dark_mode;
        let selected = self.saved.list == summary.name;
        let title = summary.name.as_deref().unwrap_or("All domains");
        let rate = summary.latest.as_ref().and_then(headline);
        let response = ui
            .vertical(|ui| {
                let response = ui.selectable_label(
                    selected,
                    egui::RichText::new(format!("{title}  ({})", summary.domain_count)).strong(),
                );
                let rate_text = match (rate, &summary.latest) {
                    (Some(rate), Some(counts)) => egui::RichText::new(format!(
                        "{rate:.0}% secure · {} of {} testable",
                        counts.all_three, counts.testable
                    ))
                    .small()
                    .color(rate_color(rate, dark_mode)),
                    _ => egui::RichText::new("not scanned yet").small().weak(),
                };
                ui.label(rate_text);
                ui.add_space(2.0);
                response
            })
            .inner;
        let response = response.on_hover_text(
            "Secure = STARTTLS + forward secrecy + strict certificate validation, \
             as a share of testable domains at the list's last scan",
        );
        if response.clicked() {
            self.select_list(summary.name.clone());
        }
        let name = summary.name.clone();
        response.context_menu(|ui| {
            let target = match &name {
                Some(name) => ScanTarget::List(name.clone()),
                None => ScanTarget::All,
            };
            if ui.button("Scan now").clicked() {
                self.scan(target);
                ui.close();
            }
            if ui.button("Add domains…").clicked() {
                self.dialog = Some(Dialog::add_domains(name.clone()));
                ui.close();
            }
            if let Some(name) = &name {
                if ui.button("Rename…").clicked() {
                    self.dialog = Some(Dialog::RenameList {
                        from: name.clone(),
                        to: name.clone(),
                    });
                    ui.close();
                }
                if ui.button("Delete list…").clicked() {
                    self.dialog = Some(Dialog::ConfirmDeleteList { name: name.clone() });
                    ui.close();
                }
            }
        });
    }
}

fn rate_color(rate: f64, dark_mode: bool) -> egui::Color32 {
    let grade = if rate >= 90.0 {
        Grade::Secure
    } else if rate >= 50.0 {
        Grade::Encrypted
    } else {
        Grade::NoStarttls
    };
    grade.color(dark_mode)
}
