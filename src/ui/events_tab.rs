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
use crate::model::changes::ChangeKind;
use crate::monitor::view::EventRow;

/// The Events tab and its toggle.
#[derive(Debug, Default)]
pub struct EventsTab {
    /// Show only regressions.
    regressions_only: bool,
}

/// Events of one scan with the same kind, shown as one line ("14 domains: certificate became
/// valid"); a lone event is a group of one.
#[derive(Debug)]
pub struct EventGroup<'a> {
    /// Newest first.
    pub events: Vec<&'a EventRow>,
}

impl EventGroup<'_> {
    /// The group's line: the event's own detail when alone, else how many domains and what.
    pub fn summary(&self) -> String {
        match self.events.as_slice() {
            [event] => event.detail.clone(),
            events => format!("{} domains: {}", events.len(), events[0].kind.label()),
        }
    }
}

/// What puts events in one group: their scan, or for an event without one (just arrived from
/// the running scan, or stored outside a scan) the hour it happened in; and the kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum GroupKey {
    Scan(i64, ChangeKind),
    Hour(i64, ChangeKind),
}

/// Groups `events` (newest first) by scan and kind, each group where its newest event
/// stands. Events without a scan group by the hour they happened in and their kind.
pub fn group_events<'a>(events: &[&'a EventRow]) -> Vec<EventGroup<'a>> {
    let mut groups: Vec<EventGroup<'a>> = Vec::new();
    let mut index: std::collections::HashMap<GroupKey, usize> = std::collections::HashMap::new();
    for event in events {
        let key = match event.scan_id {
            Some(scan) => GroupKey::Scan(scan, event.kind),
            None => GroupKey::Hour(event.at.unix_timestamp().div_euclid(3600), event.kind),
        };
        match index.get(&key) {
            Some(&group) => groups[group].events.push(event),
            None => {
                index.insert(key, groups.len());
                groups.push(EventGroup {
                    events: vec![event],
                });
            }
        }
    }
    groups
}

/// A domain of an event as a link that records [`Action::ShowDomain`].
fn domain_link_ui(ui: &mut egui::Ui, name: &str, actions: &mut Vec<Action>) {
    let domain = DomainName::parse(name).ok();
    let shown = domain
        .as_ref()
        .map_or(Cow::Borrowed(name), |domain| domain.display_name());
    let hover = if shown == name {
        "Show this domain".to_string()
    } else {
        format!("{name}: show this domain")
    };
    if ui.link(shown.as_ref()).on_hover_text(hover).clicked()
        && let Some(domain) = domain
    {
        actions.push(Action::ShowDomain(domain));
    }
}

impl EventsTab {
    /// Draws `events` (newest first) of `list` (None: all domains); `lists` are the named lists
    /// the list filter offers (choosing one selects it, as the lists panel does). A click on a
    /// domain records [`Action::ShowDomain`].
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        events: &[EventRow],
        list: Option<&str>,
        lists: &[String],
        actions: &mut Vec<Action>,
    ) {
        let shown: Vec<&EventRow> = events
            .iter()
            .filter(|event| !self.regressions_only || event.regression)
            .collect();
        let regressions = events.iter().filter(|event| event.regression).count();
        ui.horizontal_wrapped(|ui| {
            ui.heading("Changes");
            let mut chosen = list.map(str::to_string);
            egui::ComboBox::from_label("List")
                .selected_text(list.unwrap_or("All domains"))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut chosen, None, "All domains");
                    for name in lists {
                        ui.selectable_value(&mut chosen, Some(name.clone()), name);
                    }
                });
            if chosen.as_deref() != list {
                actions.push(Action::SelectList(chosen));
            }
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
        let groups = group_events(&shown);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                egui::Grid::new("events_grid")
                    .num_columns(4)
                    .spacing([14.0, 4.0])
                    .striped(true)
                    .show(ui, |ui| {
                        for (number, group) in groups.iter().enumerate() {
                            let newest = group.events[0];
                            let (icon, grade) = if newest.regression {
                                ("⏷ worse", Grade::NoStarttls)
                            } else {
                                ("⏶ better", Grade::Secure)
                            };
                            ui.label(format_time(newest.at));
                            match group.events.as_slice() {
                                [event] => domain_link_ui(ui, &event.domain, actions),
                                events => {
                                    egui::CollapsingHeader::new(format!(
                                        "{} domains",
                                        events.len()
                                    ))
                                    .id_salt(("event_group", number, newest.id))
                                    .show(ui, |ui| {
                                        for event in events {
                                            domain_link_ui(ui, &event.domain, actions);
                                        }
                                    });
                                }
                            }
                            ui.label(egui::RichText::new(icon).color(grade.color(dark_mode)));
                            ui.label(group.summary());
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
            scan_id: Some(1),
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
                    fixture
                        .tab
                        .ui(ui, &fixture.events, None, &[], &mut fixture.actions);
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

    #[test]
    fn identical_events_of_one_scan_read_as_one_line_with_the_domains_inside() {
        let mut events: Vec<EventRow> = (0..14)
            .map(|index| {
                event(
                    &format!("d{index}.example"),
                    ChangeKind::CertBecameValid,
                    "certificate became valid",
                )
            })
            .collect();
        let mut other_scan = event("x.example", ChangeKind::CertBecameValid, "valid again");
        other_scan.scan_id = Some(2);
        events.push(other_scan);
        events.push(event(
            "lost.example",
            ChangeKind::StarttlsLost,
            "STARTTLS lost",
        ));
        let refs: Vec<&EventRow> = events.iter().collect();
        let groups = group_events(&refs);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].summary(), "14 domains: certificate became valid");
        assert_eq!(
            groups[1].summary(),
            "valid again",
            "another scan: its own line"
        );
        let mut harness = harness(events);
        assert!(has("14 domains: certificate became valid", &harness));
        assert!(harness.query_by_label("d3.example").is_none(), "folded");
        harness.get_by_label("14 domains").click();
        harness.run();
        assert!(harness.query_by_label("d3.example").is_some(), "unfolded");
    }

    #[test]
    fn the_list_filter_selects_the_list_whose_events_show() {
        let fixture = Fixture {
            tab: EventsTab::default(),
            events: Vec::new(),
            actions: Vec::new(),
        };
        let mut harness = Harness::builder()
            .with_size(egui::vec2(800.0, 400.0))
            .build_ui_state(
                |ui, fixture: &mut Fixture| {
                    let lists = ["Customers".to_string(), "Staff".to_string()];
                    fixture
                        .tab
                        .ui(ui, &fixture.events, None, &lists, &mut fixture.actions);
                },
                fixture,
            );
        harness.run();
        harness
            .get_by(|node| {
                node.role() == egui::accesskit::Role::ComboBox
                    && node.label().as_deref() == Some("List")
            })
            .click();
        harness.run();
        harness.get_by_label("Staff").click();
        harness.run();
        assert!(
            matches!(
                harness.state().actions.as_slice(),
                [Action::SelectList(Some(name))] if name == "Staff"
            ),
            "{:?}",
            harness.state().actions
        );
    }

    fn has(label: &str, harness: &Harness<'_, Fixture>) -> bool {
        harness.query_by_label(label).is_some()
    }
}
