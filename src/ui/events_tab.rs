//! The Events tab: recent regressions and improvements across the selected list's domains
//! (STARTTLS lost, certificate expiring, ...), newest first; a click jumps to the domain.
//!
//! Owns: presenting change events. Must not touch: how they are detected (the store does).

use eframe::egui;

use super::app::{App, Tab, format_time};
use super::style::Grade;
use crate::model::DomainName;
use crate::monitor::view::EventRow;

impl App {
    pub(super) fn events_tab_ui(&mut self, ui: &mut egui::Ui) {
        let Some(view) = &self.view else {
            return;
        };
        let events: Vec<EventRow> = view
            .events
            .iter()
            .filter(|event| !self.events_regressions_only || event.regression)
            .cloned()
            .collect();
        let regressions = view.events.iter().filter(|event| event.regression).count();
        ui.horizontal(|ui| {
            ui.heading("Changes");
            ui.label(format!(
                "{} recent, {regressions} regressions",
                view.events.len()
            ));
            ui.checkbox(&mut self.events_regressions_only, "Regressions only");
        });
        if events.is_empty() {
            ui.add_space(12.0);
            ui.label("No changes yet. Changes appear when a later scan finds a domain different.");
            return;
        }
        let dark_mode = ui.visuals().dark_mode;
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        let mut jump: Option<DomainName> = None;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_height, events.len(), |ui, range| {
                egui::Grid::new("events_grid")
                    .num_columns(4)
                    .spacing([14.0, 4.0])
                    .striped(true)
                    .show(ui, |ui| {
                        for event in &events[range] {
                            let (icon, grade) = if event.regression {
                                ("⏷ worse", Grade::NoStarttls)
                            } else {
                                ("⏶ better", Grade::Secure)
                            };
                            ui.label(format_time(event.at));
                            if ui
                                .link(&event.domain)
                                .on_hover_text("Show this domain")
                                .clicked()
                            {
                                jump = DomainName::parse(&event.domain).ok();
                            }
                            ui.label(egui::RichText::new(icon).color(grade.color(dark_mode)));
                            ui.label(&event.detail);
                            ui.end_row();
                        }
                    });
            });
        if let Some(domain) = jump {
            self.saved.tab = Tab::Domains;
            if self.table.position_of(&domain).is_none() {
                // Hidden by a filter: clear the filters so the row can be shown.
                self.filter_text.clear();
                self.table.set_filter_text("");
                self.table.set_grade_filter(None);
            }
            self.open_domain(domain);
        }
    }
}
