//! The Events tab: recent regressions and improvements across the selected list's domains
//! (STARTTLS lost, certificate expiring, ...), newest first; a click jumps to the domain.
//!
//! Owns: presenting change events and the "regressions only" toggle. Must not touch: how they
//! are detected (the store does), the Domains tab (a jump is an action the app applies).

use eframe::egui;

use super::action::Action;
use super::style::{Grade, format_time};
use std::borrow::Cow;

use super::style::GradeLook as _;
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
                            let domain = DomainName::parse(&event.domain).ok();
                            let shown = domain
                                .as_ref()
                                .map_or(Cow::Borrowed(event.domain.as_str()), |domain| {
                                    domain.display_name()
                                });
                            let hover = if shown == event.domain {
                                "Show this domain".to_string()
                            } else {
                                format!("{}: show this domain", event.domain)
                            };
                            if ui.link(shown.as_ref()).on_hover_text(hover).clicked()
                                && let Some(domain) = domain
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

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;
    use time::OffsetDateTime;

    use super::*;
    use crate::monitor::view::ChangeKind;

    struct Fixture {
        tab: EventsTab,
        events: Vec<EventRow>,
        actions: Vec<Action>,
    }

    fn event(domain: &str, kind: ChangeKind, detail: &str) -> EventRow {
        EventRow {
            id: 1,
            domain: domain.into(),
            at: OffsetDateTime::UNIX_EPOCH,
            regression: kind.is_regression(),
            kind,
            detail: detail.into(),
        }
    }

    fn harness(events: Vec<EventRow>) -> Harness<'static, Fixture> {
        let fixture = Fixture {
            tab: EventsTab::default(),
            events,
            actions: Vec::new(),
        };
        let mut harness = Harness::builder()
            .with_size(egui::vec2(800.0, 400.0))
            .build_ui_state(
                |ui, fixture: &mut Fixture| {
                    fixture.tab.ui(ui, &fixture.events, &mut fixture.actions);
                },
                fixture,
            );
        harness.run();
        harness
    }

    #[test]
    fn regressions_can_be_shown_alone_and_a_domain_click_records_showing_it() {
        let mut harness = harness(vec![
            event("lost.example", ChangeKind::StarttlsLost, "STARTTLS lost"),
            event("gained.example", ChangeKind::PfsGained, "PFS gained"),
        ]);
        assert!(harness.query_by_label("2 recent, 1 regressions").is_some());
        assert_eq!(harness.query_all_by_label("1970-01-01 00:00").count(), 2);
        assert!(harness.query_by_label("gained.example").is_some());
        harness.get_by_label("Regressions only").click();
        harness.run();
        assert!(harness.query_by_label("gained.example").is_none());
        assert!(harness.query_by_label("⏷ worse").is_some());
        assert!(
            harness.state().actions.is_empty(),
            "the toggle is the tab's own"
        );
        harness.get_by_label("lost.example").click();
        harness.run();
        assert!(
            matches!(
                harness.state().actions.as_slice(),
                [Action::ShowDomain(domain)] if domain.as_str() == "lost.example"
            ),
            "{:?}",
            harness.state().actions
        );
    }

    #[test]
    fn without_events_the_tab_says_when_they_appear() {
        let harness = harness(Vec::new());
        assert!(
            harness
                .query_by_label_contains("Changes appear when a later scan")
                .is_some()
        );
    }
}
