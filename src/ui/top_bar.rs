//! The top bar (menus, scan controls, progress), the warning banners and the status line.
//!
//! Owns: how scans are started, paused and cancelled from the UI and how their progress reads.
//! Must not touch: the table or the store; it only records actions (and asks the window to
//! close on Quit).

use std::path::Path;

use eframe::egui;

use super::action::{Action, Banner, DialogRequest};
use super::file_pick::FilePurpose;
use super::saved::ThemeChoice;
use super::state::UiState;
use super::style::{Grade, format_time};
use crate::monitor::view::describe_duration;
use crate::monitor::{Command, ScanTarget, view};

/// The top bar, the banners below it and the status line; they keep no state of their own.
#[derive(Debug, Default)]
pub struct TopBar;

impl TopBar {
    /// Draws the menu bar. `usable`: the database is open (else only Quit and the theme work).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &UiState,
        usable: bool,
        theme: ThemeChoice,
        actions: &mut Vec<Action>,
    ) {
        egui::Panel::top("top_bar").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                menus_ui(ui, state, usable, theme, actions);
                ui.separator();
                if usable {
                    scan_controls_ui(ui, state, actions);
                }
            });
        });
    }

    /// Draws the warning banners the monitor raised.
    pub fn banners_ui(&mut self, ui: &mut egui::Ui, state: &UiState, actions: &mut Vec<Action>) {
        if let Some(attempts) = state.port_blocked {
            port_blocked_banner_ui(ui, attempts, actions);
        }
        if let Some((lookups, resolver)) = &state.dns_unanswered {
            dns_unanswered_banner_ui(ui, *lookups, resolver, actions);
        }
    }

    /// Draws the status line: the last thing that happened, what the table shows, and the
    /// database file at `db_path`.
    pub fn status_bar_ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &UiState,
        db_path: &Path,
        actions: &mut Vec<Action>,
    ) {
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                let dark_mode = ui.visuals().dark_mode;
                if let Some(status) = &state.status {
                    let text = format!("{}  {}", format_time(status.at), status.text);
                    if status.error {
                        ui.label(
                            egui::RichText::new(format!("⚠ {text}"))
                                .color(Grade::NoStarttls.color(dark_mode)),
                        );
                        if ui.small_button("✖").on_hover_text("Dismiss").clicked() {
                            actions.push(Action::DismissStatus);
                        }
                    } else {
                        ui.label(text);
                    }
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(egui::RichText::new(db_path.display().to_string()).weak())
                        .on_hover_text("Database file");
                    if let Some(view) = &state.view {
                        ui.label(
                            egui::RichText::new(format!(
                                "{} of {} shown · loaded in {} ms",
                                state.table.visible_len(),
                                state.table.total_len(),
                                view.load_time.as_millis()
                            ))
                            .weak(),
                        );
                    }
                });
            });
        });
    }
}

fn menus_ui(
    ui: &mut egui::Ui,
    state: &UiState,
    usable: bool,
    theme: ThemeChoice,
    actions: &mut Vec<Action>,
) {
    ui.menu_button("File", |ui| {
        if ui
            .add_enabled(usable, egui::Button::new("Add domains…"))
            .clicked()
        {
            actions.push(Action::OpenDialog(DialogRequest::AddDomains {
                list: state.list.clone(),
            }));
            ui.close();
        }
        if ui
            .add_enabled(usable, egui::Button::new("Import CSV…"))
            .clicked()
        {
            actions.push(Action::PickFile {
                purpose: FilePurpose::ImportCsv,
                file_name: None,
            });
            ui.close();
        }
        if ui
            .add_enabled(usable, egui::Button::new("Export report…"))
            .clicked()
        {
            actions.push(Action::OpenDialog(DialogRequest::Export {
                list: state.list.clone(),
            }));
            ui.close();
        }
        ui.separator();
        if ui.button("Quit").clicked() {
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
    });
    ui.menu_button("View", |ui| {
        ui.label("Theme");
        for (choice, label) in [
            (ThemeChoice::System, "Follow the system"),
            (ThemeChoice::Light, "Light"),
            (ThemeChoice::Dark, "Dark"),
        ] {
            if ui.radio(theme == choice, label).clicked() {
                actions.push(Action::SetTheme(choice));
                ui.close();
            }
        }
    });
}

fn scan_controls_ui(ui: &mut egui::Ui, state: &UiState, actions: &mut Vec<Action>) {
    let table = &state.table;
    let selected = table.selected_count();
    ui.menu_button("▶ Scan now", |ui| {
        if ui.button("All domains").clicked() {
            actions.push(Action::Scan(ScanTarget::All));
            ui.close();
        }
        if let Some(name) = &state.list
            && ui.button(format!("This list: {name}  (F5)")).clicked()
        {
            actions.push(Action::Scan(ScanTarget::List(name.clone())));
            ui.close();
        }
        if ui
            .add_enabled(
                selected > 0,
                egui::Button::new(format!("Selected domains ({selected})")),
            )
            .clicked()
        {
            actions.push(Action::Scan(ScanTarget::Domains(table.selected_domains())));
            ui.close();
        }
    })
    .response
    .on_hover_text("Probe now; F5 scans the selected list");

    if state.schedule_paused {
        if ui
            .button("⏵ Resume schedule")
            .on_hover_text("Scheduled scans are paused")
            .clicked()
        {
            actions.push(Action::Send(Command::ResumeSchedule));
        }
    } else if ui
        .button("⏸ Pause schedule")
        .on_hover_text("Stop scheduled scans (scans you start still run)")
        .clicked()
    {
        actions.push(Action::Send(Command::PauseSchedule));
    }
    match (state.schedule_paused, state.next_scan_at) {
        (false, Some(at)) => {
            let now = time::OffsetDateTime::now_utc();
            ui.label(format!("Next scan {}", view::describe_until(at, now)))
                .on_hover_text(format!("{} UTC", format_time(at)));
        }
        (true, _) => {
            ui.label("Schedule paused");
        }
        (false, None) => {}
    }

    if let Some((done, total)) = state.scan_progress() {
        ui.separator();
        let eta = state.scans.values().filter_map(|scan| scan.eta).max();
        let scopes: Vec<&str> = state
            .scans
            .values()
            .map(|scan| scan.scope.as_str())
            .collect();
        let fraction = if total == 0 {
            0.0
        } else {
            done as f32 / total as f32
        };
        let text = match eta {
            Some(eta) => format!("{done}/{total} · ETA {}", describe_duration(eta)),
            None => format!("{done}/{total}"),
        };
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width(220.0)
                .text(text),
        )
        .on_hover_text(format!("Scanning {}", scopes.join(", ")));
        if ui.button("✖ Cancel").clicked() {
            actions.push(Action::Send(Command::CancelScans));
        }
    }
}

fn port_blocked_banner_ui(ui: &mut egui::Ui, attempts: usize, actions: &mut Vec<Action>) {
    let text = format!(
        "All {attempts} connection attempts so far timed out without an answer. Many home, \
         office and cloud networks block outgoing SMTP. Results are kept as untestable, not \
         as failures. Run the monitor on a host that may connect to port 25 (a mail server, \
         say), or ask your provider to allow it."
    );
    if warning_banner_ui(
        ui,
        "port25_banner",
        "⚠ Outbound port 25 looks blocked",
        &text,
    ) {
        actions.push(Action::DismissBanner(Banner::Port25Blocked));
    }
}

fn dns_unanswered_banner_ui(
    ui: &mut egui::Ui,
    lookups: usize,
    resolver: &str,
    actions: &mut Vec<Action>,
) {
    let text = format!(
        "{} answered none of the first {lookups} domain lookups: they all timed out or could \
         not reach it. Results are kept as untestable, not as failures. Check the DNS server \
         in Settings (empty means the system resolver) or this machine's network.",
        capitalized(resolver)
    );
    if warning_banner_ui(
        ui,
        "dns_unanswered_banner",
        "⚠ The DNS server is not answering",
        &text,
    ) {
        actions.push(Action::DismissBanner(Banner::DnsUnanswered));
    }
}

/// A dismissable warning strip across the top of the window; true when Dismiss was clicked.
fn warning_banner_ui(ui: &mut egui::Ui, id: &'static str, title: &str, text: &str) -> bool {
    let dark_mode = ui.visuals().dark_mode;
    let mut dismissed = false;
    egui::Panel::top(id)
        .frame(
            egui::Frame::new()
                .fill(banner_fill(dark_mode))
                .inner_margin(8.0),
        )
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    egui::RichText::new(title)
                        .strong()
                        .color(Grade::Encrypted.color(dark_mode)),
                );
                ui.label(text);
                dismissed = ui.button("Dismiss").clicked();
            });
        });
    dismissed
}

/// The background of a warning banner, readable in both themes.
fn banner_fill(dark_mode: bool) -> egui::Color32 {
    if dark_mode {
        egui::Color32::from_rgb(0x5a, 0x3d, 0x00)
    } else {
        egui::Color32::from_rgb(0xff, 0xf0, 0xc2)
    }
}

/// "the DNS server …" → "The DNS server …", for the start of a sentence.
fn capitalized(text: &str) -> String {
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => String::new(),
    }
}
