//! The top bar (menus, scan controls, progress), the port-25 banner and the status line.
//!
//! Owns: how scans are started, paused and cancelled from the UI and how their progress reads.
//! Must not touch: the table or the store; it only sends commands.

use eframe::egui;

use super::app::{App, ThemeChoice, format_time};
use super::dialogs::Dialog;
use super::style::Grade;
use crate::monitor::view::describe_duration;
use crate::monitor::{Command, ScanTarget, view};

impl App {
    pub(super) fn top_bar_ui(&mut self, ui: &mut egui::Ui) {
        egui::Panel::top("top_bar").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                self.menus_ui(ui);
                ui.separator();
                self.scan_controls_ui(ui);
            });
        });
    }

    fn menus_ui(&mut self, ui: &mut egui::Ui) {
        let usable = self.open_error.is_none();
        ui.menu_button("File", |ui| {
            if ui
                .add_enabled(usable, egui::Button::new("Add domains…"))
                .clicked()
            {
                self.dialog = Some(Dialog::add_domains(self.saved.list.clone()));
                ui.close();
            }
            if ui
                .add_enabled(usable, egui::Button::new("Import CSV…"))
                .clicked()
            {
                self.start_import_pick();
                ui.close();
            }
            if ui
                .add_enabled(usable, egui::Button::new("Export report…"))
                .clicked()
            {
                self.dialog = Some(Dialog::export(self.saved.list.clone()));
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
                if ui.radio(self.saved.theme == choice, label).clicked() {
                    self.saved.theme = choice;
                    ui.close();
                }
            }
        });
    }

    fn scan_controls_ui(&mut self, ui: &mut egui::Ui) {
        if self.open_error.is_some() {
            return;
        }
        let selected = self.table.selected_count();
        let list = self.saved.list.clone();
        ui.menu_button("▶ Scan now", |ui| {
            if ui.button("All domains").clicked() {
                self.scan(ScanTarget::All);
                ui.close();
            }
            if let Some(name) = &list
                && ui.button(format!("This list: {name}  (F5)")).clicked()
            {
                self.scan(ScanTarget::List(name.clone()));
                ui.close();
            }
            if ui
                .add_enabled(
                    selected > 0,
                    egui::Button::new(format!("Selected domains ({selected})")),
                )
                .clicked()
            {
                self.scan(ScanTarget::Domains(self.table.selected_domains()));
                ui.close();
            }
        })
        .response
        .on_hover_text("Probe now; F5 scans the selected list");

        if self.schedule_paused {
            if ui
                .button("⏵ Resume schedule")
                .on_hover_text("Scheduled scans are paused")
                .clicked()
            {
                self.send(Command::ResumeSchedule);
            }
        } else if ui
            .button("⏸ Pause schedule")
            .on_hover_text("Stop scheduled scans (scans you start still run)")
            .clicked()
        {
            self.send(Command::PauseSchedule);
        }
        match (self.schedule_paused, self.next_scan_at) {
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

        if !self.scans.is_empty() {
            ui.separator();
            let (done, total) = self.scans.values().fold((0, 0), |(done, total), scan| {
                (done + scan.done, total + scan.total)
            });
            let eta = self.scans.values().filter_map(|scan| scan.eta).max();
            let scopes: Vec<&str> = self
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
                self.send(Command::CancelScans);
            }
        }
    }

    pub(super) fn port_blocked_banner_ui(&mut self, ui: &mut egui::Ui) {
        let Some(attempts) = self.port_blocked else {
            return;
        };
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
            self.port_blocked = None;
        }
    }

    pub(super) fn dns_unanswered_banner_ui(&mut self, ui: &mut egui::Ui) {
        let Some((lookups, resolver)) = &self.dns_unanswered else {
            return;
        };
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
            self.dns_unanswered = None;
        }
    }

    pub(super) fn status_bar_ui(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            ui.horizontal(|ui| {
                let dark_mode = ui.visuals().dark_mode;
                let mut dismiss = false;
                if let Some(status) = &self.status {
                    let text = format!("{}  {}", format_time(status.at), status.text);
                    if status.error {
                        ui.label(
                            egui::RichText::new(format!("⚠ {text}"))
                                .color(Grade::NoStarttls.color(dark_mode)),
                        );
                        dismiss = ui.small_button("✖").on_hover_text("Dismiss").clicked();
                    } else {
                        ui.label(text);
                    }
                }
                if dismiss {
                    self.status = None;
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(egui::RichText::new(self.db_path.display().to_string()).weak())
                        .on_hover_text("Database file");
                    if let Some(view) = &self.view {
                        ui.label(
                            egui::RichText::new(format!(
                                "{} of {} shown · loaded in {} ms",
                                self.table.visible_len(),
                                self.table.total_len(),
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
