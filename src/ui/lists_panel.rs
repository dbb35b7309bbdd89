//! The side panel of lists: All domains and each named list, with its size and headline rate
//! (share of testable domains with STARTTLS + PFS + strict validation, as of its last scan).
//!
//! Owns: how lists are presented and the list actions it records (select, new, rename, delete,
//! scan, add domains). Must not touch: the table, the selection itself (the app applies it).

use eframe::egui;

use super::action::{Action, DialogRequest};
use super::style::Grade;
use crate::monitor::ScanTarget;
use crate::monitor::view::{ListSummary, TrendCounts};

/// "72% secure" from a list's counts; None before any testable result.
pub fn headline(counts: &TrendCounts) -> Option<f64> {
    (counts.testable > 0).then(|| counts.all_three as f64 * 100.0 / counts.testable as f64)
}

/// The lists panel; it keeps no state of its own (the selected list is the app's).
#[derive(Debug, Default)]
pub struct ListsPanel;

impl ListsPanel {
    /// Draws the panel at the window's left: `lists` with `selected` highlighted.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        lists: &[ListSummary],
        selected: Option<&str>,
        actions: &mut Vec<Action>,
    ) {
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
                        for summary in lists {
                            list_entry_ui(ui, summary, selected, actions);
                        }
                    });
                ui.separator();
                ui.horizontal_wrapped(|ui| {
                    if ui.button("+ New list").clicked() {
                        actions.push(Action::OpenDialog(DialogRequest::NewList));
                    }
                    if ui.button("+ Add domains…").clicked() {
                        actions.push(Action::OpenDialog(DialogRequest::AddDomains {
                            list: selected.map(str::to_string),
                        }));
                    }
                });
            });
    }
}

fn list_entry_ui(
    ui: &mut egui::Ui,
    summary: &ListSummary,
    selected: Option<&str>,
    actions: &mut Vec<Action>,
) {
    let dark_mode = ui.visuals().dark_mode;
    let is_selected = selected == summary.name.as_deref();
    let title = summary.name.as_deref().unwrap_or("All domains");
    let rate = summary.latest.as_ref().and_then(headline);
    let response = ui
        .vertical(|ui| {
            let response = ui.selectable_label(
                is_selected,
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
        actions.push(Action::SelectList(summary.name.clone()));
    }
    let name = summary.name.clone();
    response.context_menu(|ui| {
        let target = match &name {
            Some(name) => ScanTarget::List(name.clone()),
            None => ScanTarget::All,
        };
        if ui.button("Scan now").clicked() {
            actions.push(Action::Scan(target));
            ui.close();
        }
        if ui.button("Add domains…").clicked() {
            actions.push(Action::OpenDialog(DialogRequest::AddDomains {
                list: name.clone(),
            }));
            ui.close();
        }
        if let Some(name) = &name {
            if ui.button("Rename…").clicked() {
                actions.push(Action::OpenDialog(DialogRequest::RenameList(name.clone())));
                ui.close();
            }
            if ui.button("Delete list…").clicked() {
                actions.push(Action::OpenDialog(DialogRequest::DeleteList(name.clone())));
                ui.close();
            }
        }
    });
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
