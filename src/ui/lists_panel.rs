//! The side panel of lists: All domains and each named list, with its size and headline rate
//! (share of testable domains with STARTTLS + PFS + strict validation, as of its last scan).
//!
//! Owns: how lists are presented and the list actions it records (select, new, rename, delete,
//! scan, add domains). Must not touch: the table, the selection itself (the app applies it).

use eframe::egui;

use super::action::{Action, DialogRequest};
use super::style::Grade;
use super::style::GradeLook as _;
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
                ui.label(
                    egui::RichText::new("secure: % of testable domains (and of mail volume)")
                        .small()
                        .weak(),
                );
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
                // Scanned, but nothing was testable: say so, not "not scanned yet".
                (None, Some(counts)) if counts.total > 0 => {
                    egui::RichText::new(format!("scanned · none of {} testable", counts.total))
                        .small()
                        .weak()
                }
                _ => egui::RichText::new("not scanned yet").small().weak(),
            };
            ui.label(rate_text);
            if let Some(volume) = &summary.latest_volume
                && let Some(rate) =
                    crate::model::adoption::volume_share(volume.all_three, volume.testable)
            {
                ui.label(
                    egui::RichText::new(format!("{rate:.0}% of mail secure"))
                        .small()
                        .color(rate_color(rate, dark_mode)),
                );
            }
            ui.add_space(2.0);
            response
        })
        .inner;
    let response = response.on_hover_text(
        "Secure = STARTTLS + forward secrecy + strict certificate validation, \
         as a share of testable domains at the list's last scan (and, for a list with \
         weights, as a share of its testable mail volume)",
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

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;

    /// The panel alone, with hand-made lists and the actions it recorded.
    struct Fixture {
        panel: ListsPanel,
        lists: Vec<ListSummary>,
        selected: Option<String>,
        actions: Vec<Action>,
    }

    fn harness(selected: Option<&str>) -> Harness<'static, Fixture> {
        let fixture = Fixture {
            panel: ListsPanel,
            lists: vec![
                ListSummary {
                    latest_volume: None,
                    name: None,
                    domain_count: 5,
                    latest: None,
                },
                ListSummary {
                    latest_volume: Some(crate::monitor::view::VolumeCounts {
                        total: 1000.0,
                        testable: 1000.0,
                        starttls: 990.0,
                        pfs: 980.0,
                        strict_valid: 975.0,
                        all_three: 973.0,
                        ..Default::default()
                    }),
                    name: Some("Customers".into()),
                    domain_count: 3,
                    latest: Some(TrendCounts {
                        total: 3,
                        testable: 3,
                        starttls: 3,
                        pfs: 2,
                        strict_valid: 2,
                        all_three: 2,
                        ..TrendCounts::default()
                    }),
                },
                ListSummary {
                    latest_volume: None,
                    name: Some("Partners".into()),
                    domain_count: 2,
                    latest: None,
                },
                ListSummary {
                    latest_volume: None,
                    name: Some("Dark".into()),
                    domain_count: 2,
                    latest: Some(TrendCounts {
                        total: 2,
                        untestable: 2,
                        ..TrendCounts::default()
                    }),
                },
            ],
            selected: selected.map(str::to_string),
            actions: Vec::new(),
        };
        let mut harness = Harness::builder()
            .with_size(egui::vec2(400.0, 500.0))
            .build_ui_state(
                |ui, fixture: &mut Fixture| {
                    fixture.panel.ui(
                        ui,
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
    fn each_list_shows_its_size_and_rate_and_a_click_records_selecting_it() {
        let mut harness = harness(None);
        assert!(
            harness
                .query_by_label("67% secure · 2 of 3 testable")
                .is_some()
        );
        assert!(
            harness.query_by_label("97% of mail secure").is_some(),
            "a list with weights also shows its share of mail"
        );
        assert_eq!(
            harness.query_all_by_label("not scanned yet").count(),
            2,
            "All domains and Partners"
        );
        assert!(
            harness
                .query_by_label("scanned · none of 2 testable")
                .is_some(),
            "a list whose scans found nothing testable says so"
        );
        assert!(
            harness.state().actions.is_empty(),
            "drawing records nothing"
        );
        harness.get_by_label("Customers  (3)").click();
        harness.run();
        assert!(
            matches!(
                harness.state().actions.as_slice(),
                [Action::SelectList(Some(name))] if name == "Customers"
            ),
            "{:?}",
            harness.state().actions
        );
    }

    #[test]
    fn the_buttons_and_the_context_menu_record_dialogs_and_scans() {
        let mut harness = harness(Some("Partners"));
        harness.get_by_label("+ Add domains…").click();
        harness.run();
        harness.get_by_label("Partners  (2)").click_secondary();
        harness.run();
        harness.get_by_label("Scan now").click();
        harness.run();
        harness.get_by_label("Partners  (2)").click_secondary();
        harness.run();
        harness.get_by_label("Rename…").click();
        harness.run();
        harness.get_by_label("All domains  (5)").click_secondary();
        harness.run();
        assert!(
            harness.query_by_label("Rename…").is_none(),
            "All domains cannot be renamed"
        );
        harness.get_by_label("Scan now").click();
        harness.run();
        let actions = &harness.state().actions;
        assert!(
            matches!(
                actions.as_slice(),
                [
                    Action::OpenDialog(DialogRequest::AddDomains { list: Some(added_to) }),
                    Action::Scan(ScanTarget::List(scanned)),
                    Action::OpenDialog(DialogRequest::RenameList(renamed)),
                    Action::Scan(ScanTarget::All),
                ] if added_to == "Partners" && scanned == "Partners" && renamed == "Partners"
            ),
            "{actions:?}"
        );
    }
}
