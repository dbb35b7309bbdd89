//! The first-launch view: what the app measures, in two sentences, and three ways to start —
//! import a CSV, type or paste domains, or load the bundled sample list.
//!
//! Owns: the sample list (assets/sample-domains.txt, compiled in). Must not touch: the store,
//! the dialogs (opening one is an action the app applies).

use eframe::egui;

use super::action::{Action, DialogRequest};
use super::file_pick::FilePurpose;
use crate::import::domain_list::{DomainList, LineSyntax};
use crate::model::DomainName;
use crate::monitor::{Command, Edit};

/// The bundled sample list, one domain per line with `#` comments.
pub const SAMPLE_LIST: &str = include_str!("../../assets/sample-domains.txt");

/// The list the sample domains go into.
pub const SAMPLE_LIST_NAME: &str = "Sample";

/// The sample list's domains.
pub fn sample_domains() -> Vec<DomainName> {
    DomainList::from_text(SAMPLE_LIST, LineSyntax::Pasted).domains
}

/// The welcome view; it keeps no state of its own.
#[derive(Debug, Default)]
pub struct Welcome;

impl Welcome {
    /// Draws the welcome in the centre; the three ways to start are recorded as actions.
    pub fn ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        ui.add_space(48.0);
        ui.vertical_centered(|ui| {
            ui.set_max_width(640.0);
            ui.heading("Welcome to starttls-monitor");
            ui.add_space(10.0);
            ui.label(
                "It watches how well mail domains protect mail in transit: for every MX host \
                 of every domain it checks whether STARTTLS is offered, whether the TLS \
                 session is forward secret, and whether the certificate passes strict \
                 validation against the MX host name.",
            );
            ui.label(
                "Add the domains you care about, and it rescans them on a schedule and charts \
                 how their protection changes over time.",
            );
            ui.add_space(18.0);
            let samples = sample_domains();
            if ui
                .add_sized([300.0, 32.0], egui::Button::new("Import a CSV…"))
                .on_hover_text("A column of domains, e-mail addresses or URLs")
                .clicked()
            {
                actions.push(Action::PickFile {
                    purpose: FilePurpose::ImportCsv,
                    file_name: None,
                });
            }
            ui.add_space(6.0);
            if ui
                .add_sized([300.0, 32.0], egui::Button::new("Type or paste domains…"))
                .clicked()
            {
                actions.push(Action::OpenDialog(DialogRequest::AddDomains { list: None }));
            }
            ui.add_space(6.0);
            if ui
                .add_sized(
                    [300.0, 32.0],
                    egui::Button::new(format!("Load the sample list ({} domains)", samples.len())),
                )
                .on_hover_text("Large mail providers, universities and governments")
                .clicked()
            {
                actions.push(Action::Send(Command::Edit(Edit::AddDomains {
                    list: Some(SAMPLE_LIST_NAME.to_string()),
                    domains: samples,
                })));
                actions.push(Action::SelectListAfterEdit(Some(
                    SAMPLE_LIST_NAME.to_string(),
                )));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_list_is_a_few_dozen_valid_domains() {
        let parsed = DomainList::from_text(SAMPLE_LIST, LineSyntax::Pasted);
        assert!(parsed.invalid.is_empty(), "{:?}", parsed.invalid);
        assert!((30..=80).contains(&parsed.domains.len()));
    }
}
