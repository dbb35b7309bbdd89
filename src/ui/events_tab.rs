//! The Events tab: recent regressions and improvements across the selected list's domains
//! (STARTTLS lost, certificate expiring, ...), newest first; a click jumps to the domain.
//!
//! Owns: presenting change events and the "regressions only" toggle. Must not touch: how they
//! are detected (the store does), the Domains tab (a jump is an action the app applies).

use eframe::egui;

use super::action::Action;
use super::style::{Grade, format_time};
use crate::model::DomainName;
use crate::monitor::view::EventRow;

/// The Events tab and its toggle.
#[derive(Debug, Default)]
pub struct EventsTab {
    /// Show only regressions.
    regressions_only: bool,
}

impl EventsTab {
    /// Draws `events` (newest first); a click on a domain records [`Action::ShowDomain`].
    pub fn ui(&mut self, ui: &mut egui::Ui, events: &[EventRow], actions: &mut Vec<Action>) {
        let shown: Vec<&EventRow> = events
            .iter()
            .filter(|event| !self.regressions_only || event.regression)
            .collect();
        let regressions = events.iter().filter(|event| event.regression).count();
        ui.horizontal(|ui| {
            ui.heading("Changes");
            ui.label(format!(
                "{} recent, {regressions} regressions",
                events.len()
            ));
            ui.checkbox(&mut self.regressions_only, "Regressions only");
        });
        if shown.is_empty() {
            ui.add_space(12.0);
            ui.label("No changes yet. Changes appear when a later scan finds a domain different.");
            return;
        }
        let dark_mode = ui.visuals().dark_mode;
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show_rows(ui, row_height, shown.len(), |ui, range| {
                egui::Grid::new("events_grid")
                    .num_columns(4)
                    .spacing([14.0, 4.0])
                    .striped(true)
                    .show(ui, |ui| {
                        for event in &shown[range] {
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
                                && let Ok(domain) = DomainName::parse(&event.domain)
                            {
                                actions.push(Action::ShowDomain(domain));
                            }
                            ui.label(egui::RichText::new(icon).color(grade.color(dark_mode)));
                            ui.label(&event.detail);
                            ui.end_row();
                        }
                    });
            });
    }
}
