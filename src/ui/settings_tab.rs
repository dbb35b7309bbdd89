//! The Settings tab: a form over [`Settings`] that validates what it can at once (numbers,
//! ranges), and sends the rest to the monitor, which checks the DNS server and CA file and
//! saves; rejected settings come back with each problem in words.
//!
//! Command-line options that override settings for this run ([`Overrides`]) show above the
//! form, each with its value and the option that set it ("set by --dns for this run"), and
//! beside the field they override; each can be saved as the setting.
//!
//! Owns: the editable text of each field, and what the monitor answered about them. The
//! hints state the defaults from [`Settings::default`], which takes them from the one set of
//! default constants. Must not touch: the store or the files named (saving and picking a
//! file are actions).

use std::path::Path;

use eframe::egui;

use super::action::Action;
use super::file_pick::FilePurpose;
use super::state::SettingsNews;
use super::style::Grade;
use super::style::GradeLook as _;
use crate::model::changes::ChangeKind;
use crate::monitor::Command;
use crate::settings::DEFAULT_NOTIFY_KINDS;
use crate::settings::{OverriddenSetting, Overrides, Settings, mask_url, proxy_has_password};
use crate::store::WebhookDelivery;

/// The form's fields as typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SettingsForm {
    /// The settings the form was loaded from (what "Revert" goes back to).
    pub original: Settings,
    pub scan_interval_hours: String,
    pub concurrency: String,
    pub connect_timeout_secs: String,
    pub greeting_timeout_secs: String,
    pub command_timeout_secs: String,
    pub scan_deadline_minutes: String,
    pub expiry_warning_days: String,
    /// How many days a last known state is kept through untestable probes (`stale_max_days`).
    pub stale_max_days: String,
    pub smtp_port: String,
    pub ehlo_name: String,
    pub custom_dns: bool,
    pub dns_server: String,
    /// The DNS queries-per-second cap (`dns_qps`); 0: none.
    pub dns_qps: String,
    pub ca_file: String,
    /// DNSSEC trust anchors (`trust_anchor`); empty: the root keys built in.
    pub trust_anchor: String,
    pub deep: bool,
    /// The SOCKS5 proxy URL (`socks5://[user:pass@]HOST:PORT`); empty: direct.
    pub proxy: String,
    /// Whether the proxy URL's password is shown (UI only; masked by default).
    pub proxy_shown: bool,
    /// Webhook URLs, comma-separated (`https://` only).
    pub webhooks: String,
    /// The HMAC secret that signs webhook bodies; empty: unsigned. Always masked.
    pub webhook_secret: String,
    /// The regression kinds that raise a desktop notification.
    pub notify_kinds: Vec<ChangeKind>,
    /// Quiet mode: no desktop notifications.
    pub notify_quiet: bool,
    /// Problems found by the form or reported by the monitor.
    pub problems: Vec<String>,
    pub saved_message: Option<String>,
    /// Whether the form was ever filled from stored settings.
    pub loaded: bool,
}

impl SettingsForm {
    /// Fills the form from saved settings.
    pub fn load(&mut self, settings: &Settings) {
        *self = Self {
            original: settings.clone(),
            scan_interval_hours: settings.scan_interval_hours.to_string(),
            concurrency: settings.concurrency.to_string(),
            connect_timeout_secs: settings.connect_timeout_secs.to_string(),
            greeting_timeout_secs: settings.greeting_timeout_secs.to_string(),
            command_timeout_secs: settings.command_timeout_secs.to_string(),
            scan_deadline_minutes: settings.scan_deadline_minutes.to_string(),
            expiry_warning_days: settings.expiry_warning_days.to_string(),
            stale_max_days: settings.stale_max_days.to_string(),
            smtp_port: settings.smtp_port.to_string(),
            ehlo_name: settings.ehlo_name.clone(),
            custom_dns: !settings.dns_server.trim().is_empty(),
            dns_server: settings.dns_server.clone(),
            dns_qps: settings.dns_qps.to_string(),
            ca_file: settings
                .ca_file
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default(),
            trust_anchor: settings
                .trust_anchor
                .as_ref()
                .map(|path| path.display().to_string())
                .unwrap_or_default(),
            deep: settings.deep,
            proxy: settings.proxy.to_string(),
            proxy_shown: false,
            webhooks: settings.webhooks.join(", "),
            webhook_secret: settings.webhook_secret.as_str().to_string(),
            notify_kinds: settings.notify_kinds.clone(),
            notify_quiet: settings.notify_quiet,
            problems: Vec::new(),
            saved_message: self.saved_message.take(),
            loaded: true,
        };
    }

    /// Whether the user changed something not saved yet (a reload must not overwrite it).
    pub fn is_editing(&self) -> bool {
        self.loaded
            && self
                .to_settings()
                .map_or(true, |settings| settings != self.original)
    }

    /// The settings the form describes, or every problem with it: each field's text goes
    /// through [`Settings::edited`], the one validation `settings set` uses too.
    pub fn to_settings(&self) -> Result<Settings, Vec<String>> {
        let dns_server = if self.custom_dns {
            self.dns_server.as_str()
        } else {
            ""
        };
        let notify_kinds: Vec<&str> = DEFAULT_NOTIFY_KINDS
            .iter()
            .filter(|kind| self.notify_kinds.contains(kind))
            .map(|kind| kind.as_str())
            .collect();
        let notify_kinds = notify_kinds.join(",");
        let edits: [(&str, &str); 20] = [
            ("scan_interval_hours", &self.scan_interval_hours),
            ("concurrency", &self.concurrency),
            ("connect_timeout_secs", &self.connect_timeout_secs),
            ("greeting_timeout_secs", &self.greeting_timeout_secs),
            ("command_timeout_secs", &self.command_timeout_secs),
            ("scan_deadline_minutes", &self.scan_deadline_minutes),
            ("ehlo_name", &self.ehlo_name),
            ("dns_server", dns_server),
            ("dns_qps", &self.dns_qps),
            ("ca_file", &self.ca_file),
            ("trust_anchor", &self.trust_anchor),
            ("smtp_port", &self.smtp_port),
            ("deep", if self.deep { "true" } else { "false" }),
            ("expiry_warning_days", &self.expiry_warning_days),
            ("proxy", &self.proxy),
            ("stale_max_days", &self.stale_max_days),
            ("webhooks", &self.webhooks),
            ("webhook_secret", &self.webhook_secret),
            ("notify_kinds", &notify_kinds),
            (
                "notify_quiet",
                if self.notify_quiet { "true" } else { "false" },
            ),
        ];
        let mut result = self.original.edited(&edits);
        if self.custom_dns && self.dns_server.trim().is_empty() {
            let problem = "DNS server: give an address, or choose the system resolver".to_string();
            match &mut result {
                Ok(_) => result = Err(vec![problem]),
                Err(problems) => problems.insert(0, problem),
            }
        }
        result
    }
}

/// The Settings tab: its form, filled from stored settings, and the command-line options in
/// effect for this run.
#[derive(Debug, Default)]
pub struct SettingsTab {
    form: SettingsForm,
    overrides: Overrides,
}

impl SettingsTab {
    /// A tab that shows `overrides` (the command line's, for this run) over the settings.
    pub fn with_overrides(overrides: Overrides) -> Self {
        Self {
            form: SettingsForm::default(),
            overrides,
        }
    }

    /// Takes the monitor's answer: stored settings (kept out while the form is being edited),
    /// saved, or rejected with problems.
    pub fn on_news(&mut self, news: SettingsNews) {
        match news {
            SettingsNews::Loaded(settings) => {
                if !self.form.is_editing() {
                    self.form.load(&settings);
                }
            }
            SettingsNews::Saved(settings) => {
                self.form.load(&settings);
                self.form.saved_message = Some("Saved; the next scan uses them.".into());
            }
            SettingsNews::Rejected(problems) => {
                self.form.problems = problems;
                self.form.saved_message = None;
            }
        }
    }

    /// The trust anchor file the native dialog picked.
    pub fn trust_anchor_picked(&mut self, path: &Path) {
        self.form.trust_anchor = path.display().to_string();
    }

    /// The CA file the native dialog picked.
    pub fn ca_file_picked(&mut self, path: &Path) {
        self.form.ca_file = path.display().to_string();
    }

    /// Draws the form; `db_path` is the database in use, `webhook_log` the latest webhook
    /// deliveries (newest first).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        db_path: &Path,
        webhook_log: &[WebhookDelivery],
        actions: &mut Vec<Action>,
    ) {
        let dark_mode = ui.visuals().dark_mode;
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.heading("Settings");
            ui.label("Saved in the database and used from the next scan on.");
            ui.add_space(6.0);
            overrides_ui(ui, &self.overrides, &self.form, actions);
            let form = &mut self.form;
            let overrides = &self.overrides;
            let note = |setting: OverriddenSetting| {
                overrides.value_text(setting).map(|value| {
                    format!(
                        "⚑ not in effect: {} {value} is used for this run",
                        setting.flag()
                    )
                })
            };
            let defaults = Settings::default();
            let mut pick_ca = false;
            let mut pick_trust_anchor = false;
            egui::Grid::new("settings_grid")
                .num_columns(3)
                .spacing([12.0, 6.0])
                .show(ui, |ui| {
                    text_row(
                        ui,
                        "Scan every (hours)",
                        &mut form.scan_interval_hours,
                        &format!("default {}", defaults.scan_interval_hours),
                        None,
                    );
                    text_row(
                        ui,
                        "Concurrency (domains at once)",
                        &mut form.concurrency,
                        &format!(
                            "default {}; one connection per IP address at a time",
                            defaults.concurrency
                        ),
                        note(OverriddenSetting::Concurrency),
                    );
                    text_row(
                        ui,
                        "Connect timeout (s)",
                        &mut form.connect_timeout_secs,
                        &format!("default {}", defaults.connect_timeout_secs),
                        note(OverriddenSetting::Timeout),
                    );
                    text_row(
                        ui,
                        "Greeting timeout (s)",
                        &mut form.greeting_timeout_secs,
                        &format!(
                            "default {}: postscreen delays of 6-15 s are normal",
                            defaults.greeting_timeout_secs
                        ),
                        note(OverriddenSetting::GreetingTimeout),
                    );
                    text_row(
                        ui,
                        "Reply and TLS timeout (s)",
                        &mut form.command_timeout_secs,
                        &format!("default {}", defaults.command_timeout_secs),
                        note(OverriddenSetting::Timeout),
                    );
                    text_row(
                        ui,
                        "Scan deadline (min)",
                        &mut form.scan_deadline_minutes,
                        "what is not done by then waits for the next scan",
                        None,
                    );
                    text_row(
                        ui,
                        "Warn of expiry (days ahead)",
                        &mut form.expiry_warning_days,
                        &format!("default {}", defaults.expiry_warning_days),
                        None,
                    );
                    text_row(
                        ui,
                        "Keep last known state (days)",
                        &mut form.stale_max_days,
                        &format!(
                            "default {}: an untestable domain counts by its last testable state \
                             this long; 0 turns it off",
                            defaults.stale_max_days
                        ),
                        None,
                    );
                    text_row(
                        ui,
                        "EHLO name",
                        &mut form.ehlo_name,
                        "empty: this machine's default name",
                        note(OverriddenSetting::EhloName),
                    );
                    text_row(
                        ui,
                        "SMTP port",
                        &mut form.smtp_port,
                        &format!("{}; other ports only for test fleets", defaults.smtp_port),
                        note(OverriddenSetting::SmtpPort),
                    );
                    let proxy_label = ui.label("SOCKS5 proxy");
                    ui.horizontal(|ui| {
                        // A URL with a password is masked until the user asks to see it.
                        let has_password = proxy_has_password(&form.proxy);
                        ui.add(
                            egui::TextEdit::singleline(&mut form.proxy)
                                .password(has_password && !form.proxy_shown)
                                .hint_text("socks5://127.0.0.1:1080")
                                .desired_width(240.0),
                        )
                        .labelled_by(proxy_label.id);
                        if has_password {
                            ui.checkbox(&mut form.proxy_shown, "Show");
                        }
                    });
                    hint_ui(
                        ui,
                        "empty: direct; socks5://[user:pass@]HOST:PORT, e.g. from \
                         'ssh -N -D 1080 user@host': socks5://127.0.0.1:1080",
                        note(OverriddenSetting::Proxy),
                    );
                    ui.end_row();

                    ui.label("DNS server");
                    ui.horizontal(|ui| {
                        ui.radio_value(&mut form.custom_dns, false, "System resolver");
                        ui.radio_value(&mut form.custom_dns, true, "Custom:");
                        ui.add_enabled(
                            form.custom_dns,
                            egui::TextEdit::singleline(&mut form.dns_server)
                                .hint_text("IP, IP:PORT or [IPv6]:PORT")
                                .desired_width(180.0),
                        );
                    });
                    hint_ui(
                        ui,
                        "your own resolver, or a test zone",
                        note(OverriddenSetting::Dns),
                    );
                    ui.end_row();
                    text_row(
                        ui,
                        "DNS queries per second",
                        &mut form.dns_qps,
                        &format!(
                            "default {}: kind to a public resolver; 0: no cap (test fleets)",
                            defaults.dns_qps
                        ),
                        note(OverriddenSetting::DnsQps),
                    );

                    ui.label("Extra trusted CA file");
                    ui.horizontal(|ui| {
                        ui.add(
                            egui::TextEdit::singleline(&mut form.ca_file)
                                .hint_text("PEM file (optional)")
                                .desired_width(240.0),
                        );
                        if ui.button("Choose…").clicked() {
                            pick_ca = true;
                        }
                    });
                    hint_ui(
                        ui,
                        "added to the Mozilla roots",
                        note(OverriddenSetting::CaFile),
                    );
                    ui.end_row();

                    let label = ui.label("DNSSEC trust anchors");
                    ui.horizontal(|ui| {
                        ui.add(
                            egui::TextEdit::singleline(&mut form.trust_anchor)
                                .hint_text("DNSKEY file (optional)")
                                .desired_width(240.0),
                        )
                        .labelled_by(label.id);
                        // Its own word: "Choose…" is the CA file's button.
                        if ui
                            .button("Choose keys…")
                            .on_hover_text("Choose the DNSSEC trust anchor file")
                            .clicked()
                        {
                            pick_trust_anchor = true;
                        }
                    });
                    hint_ui(
                        ui,
                        "replaces the built-in root keys (private roots, test zones)",
                        overrides.trust_anchor.as_ref().map(|path| {
                            format!("--trust-anchor {} applies to this run", path.display())
                        }),
                    );
                    ui.end_row();

                    ui.label("Deep mode");
                    ui.checkbox(
                        &mut form.deep,
                        "Also ask whether servers prefer non-PFS suites",
                    );
                    hint_ui(
                        ui,
                        "a second connection per server",
                        note(OverriddenSetting::Deep),
                    );
                    ui.end_row();

                    text_row(
                        ui,
                        "Webhooks",
                        &mut form.webhooks,
                        "https:// URLs, comma-separated: one JSON POST per scan with changes",
                        None,
                    );
                    let secret_label = ui.label("Webhook secret");
                    ui.add(
                        egui::TextEdit::singleline(&mut form.webhook_secret)
                            .password(true)
                            .desired_width(240.0),
                    )
                    .labelled_by(secret_label.id);
                    hint_ui(
                        ui,
                        "empty: unsigned; else X-Signature: sha256=HMAC-SHA256(secret, body)",
                        None,
                    );
                    ui.end_row();

                    ui.label("Desktop notifications");
                    ui.vertical(|ui| {
                        ui.checkbox(&mut form.notify_quiet, "Quiet: show none");
                        ui.add_enabled_ui(!form.notify_quiet, |ui| {
                            for (kind, label) in NOTIFY_LABELS {
                                let mut on = form.notify_kinds.contains(&kind);
                                if ui.checkbox(&mut on, label).changed() {
                                    form.notify_kinds.retain(|chosen| *chosen != kind);
                                    if on {
                                        form.notify_kinds.push(kind);
                                    }
                                }
                            }
                        });
                    });
                    hint_ui(
                        ui,
                        "one per kind and scan, from the app or `run` (not from cron)",
                        None,
                    );
                    ui.end_row();

                    ui.label("Database");
                    ui.label(db_path.display().to_string());
                    ui.label(egui::RichText::new("--db PATH opens another").weak());
                    ui.end_row();
                });
            ui.add_space(8.0);
            let validation = form.to_settings();
            let local_problems = validation.as_ref().err().cloned().unwrap_or_default();
            for problem in local_problems.iter().chain(form.problems.iter()) {
                ui.label(
                    egui::RichText::new(format!("⚠ {problem}"))
                        .color(Grade::NoStarttls.color(dark_mode)),
                );
            }
            let mut save = None;
            let mut revert = false;
            ui.horizontal(|ui| {
                let changed = validation
                    .as_ref()
                    .is_ok_and(|settings| *settings != form.original);
                if ui
                    .add_enabled(changed, egui::Button::new("Save settings"))
                    .clicked()
                    && let Ok(settings) = &validation
                {
                    save = Some(settings.clone());
                }
                if ui.button("Revert").clicked() {
                    revert = true;
                }
                if let Some(message) = &form.saved_message {
                    ui.label(egui::RichText::new(message).color(Grade::Secure.color(dark_mode)));
                }
            });
            if revert {
                let original = form.original.clone();
                form.load(&original);
            }
            if let Some(settings) = save {
                form.problems.clear();
                form.saved_message = None;
                actions.push(Action::Send(Command::SaveSettings(Box::new(settings))));
            }
            ui.add_space(8.0);
            webhooks_ui(ui, form, webhook_log, actions);
            if pick_ca {
                actions.push(Action::PickFile {
                    purpose: FilePurpose::SettingsCaFile,
                    file_name: None,
                });
            }
            if pick_trust_anchor {
                actions.push(Action::PickFile {
                    purpose: FilePurpose::SettingsTrustAnchor,
                    file_name: None,
                });
            }
        });
    }
}

/// The regression kinds a notification may be about, as the form names them.
const NOTIFY_LABELS: [(ChangeKind, &str); 4] = [
    (ChangeKind::StarttlsLost, "STARTTLS lost"),
    (ChangeKind::PfsLost, "Forward secrecy lost"),
    (ChangeKind::CertBecameInvalid, "Certificate became invalid"),
    (ChangeKind::CertExpiring, "Certificate expiring"),
];

/// The webhooks box: "Send test" (for the saved webhooks, so it waits while the form has
/// unsaved changes) and the latest deliveries.
fn webhooks_ui(
    ui: &mut egui::Ui,
    form: &SettingsForm,
    webhook_log: &[WebhookDelivery],
    actions: &mut Vec<Action>,
) {
    let dark_mode = ui.visuals().dark_mode;
    ui.group(|ui| {
        ui.label(egui::RichText::new("Webhook deliveries").strong());
        let saved = !form.original.webhooks.is_empty();
        let can_test = saved && form.loaded && !form.is_editing();
        if ui
            .add_enabled(can_test, egui::Button::new("Send test"))
            .on_disabled_hover_text("Save one or more webhook URLs first")
            .clicked()
        {
            actions.push(Action::Send(Command::SendTestWebhook));
        }
        if webhook_log.is_empty() {
            ui.label(egui::RichText::new("No deliveries yet.").weak());
            return;
        }
        egui::Grid::new("webhook_log_grid")
            .num_columns(4)
            .spacing([12.0, 2.0])
            .show(ui, |ui| {
                for delivery in webhook_log {
                    ui.label(super::style::format_time(delivery.at));
                    ui.label(mask_url(&delivery.url));
                    ui.label(match delivery.scan {
                        Some(scan) => format!("scan {}, {} events", scan.0, delivery.events),
                        None => "test".to_string(),
                    });
                    let (mark, grade) = if delivery.delivered {
                        ("✔ delivered", Grade::Secure)
                    } else {
                        ("✖ failed", Grade::NoStarttls)
                    };
                    ui.label(
                        egui::RichText::new(format!(
                            "{mark} after {} attempt(s): {}",
                            delivery.attempts, delivery.detail
                        ))
                        .color(grade.color(dark_mode)),
                    );
                    ui.end_row();
                }
            });
    });
}

/// One row of the form: label, field, and the hint — or, when a command-line option
/// overrides the field for this run, `note` saying so.
fn text_row(ui: &mut egui::Ui, label: &str, value: &mut String, hint: &str, note: Option<String>) {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(value).desired_width(240.0))
        .labelled_by(label.id);
    hint_ui(ui, hint, note);
    ui.end_row();
}

/// A row's hint, or the note that a command-line option overrides the field for this run.
fn hint_ui(ui: &mut egui::Ui, hint: &str, note: Option<String>) {
    match note {
        Some(note) => {
            let color = Grade::Encrypted.color(ui.visuals().dark_mode);
            ui.label(egui::RichText::new(note).color(color));
        }
        None => {
            ui.label(egui::RichText::new(hint).weak());
        }
    }
}

/// The command-line options in effect for this run: each overridden setting with its value,
/// the option that set it, and a button that saves it as the setting (all at once with "Save
/// all as settings"). Saving waits while the form has unsaved changes, so it never saves them
/// by the way or loses them.
fn overrides_ui(
    ui: &mut egui::Ui,
    overrides: &Overrides,
    form: &SettingsForm,
    actions: &mut Vec<Action>,
) {
    let overridden = overrides.overridden();
    if overridden.is_empty() {
        return;
    }
    let dark_mode = ui.visuals().dark_mode;
    let saved = &form.original;
    let can_save = form.loaded && !form.is_editing();
    let mut save = None;
    ui.group(|ui| {
        ui.label(egui::RichText::new("Set on the command line for this run").strong());
        ui.label(
            "These options win over the saved settings below until the app is closed; the              next start without them uses the saved settings.",
        );
        egui::Grid::new("overrides_grid")
            .num_columns(4)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for setting in &overridden {
                    let value = overrides.value_text(*setting).unwrap_or_default();
                    ui.label(setting.setting_name());
                    ui.label(egui::RichText::new(value).strong());
                    ui.label(
                        egui::RichText::new(format!("set by {} for this run", setting.flag()))
                            .color(Grade::Encrypted.color(dark_mode)),
                    );
                    if overrides.is_saved_in(*setting, saved) {
                        ui.label(egui::RichText::new("saved as the setting too").weak());
                    } else if ui
                        .add_enabled(can_save, egui::Button::new("Save as setting"))
                        .on_disabled_hover_text("Save or revert your changes below first")
                        .clicked()
                    {
                        save = Some(overrides.saved_into(*setting, saved));
                    }
                    ui.end_row();
                }
            });
        let unsaved = overridden
            .iter()
            .filter(|setting| !overrides.is_saved_in(**setting, saved))
            .count();
        if unsaved > 1
            && ui
                .add_enabled(can_save, egui::Button::new("Save all as settings"))
                .on_disabled_hover_text("Save or revert your changes below first")
                .clicked()
        {
            save = Some(overrides.all_saved_into(saved));
        }
    });
    ui.add_space(6.0);
    if let Some(settings) = save {
        actions.push(Action::Send(Command::SaveSettings(Box::new(settings))));
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn stored_settings_do_not_overwrite_an_edit_and_answers_show_in_the_form() {
        let mut tab = SettingsTab::default();
        tab.on_news(SettingsNews::Loaded(Settings::default()));
        assert!(tab.form.loaded);
        tab.form.concurrency = "16".into();
        let stored = Settings {
            concurrency: 4,
            ..Settings::default()
        };
        tab.on_news(SettingsNews::Loaded(stored.clone()));
        assert_eq!(tab.form.concurrency, "16", "the edit is kept");
        tab.on_news(SettingsNews::Rejected(vec!["DNS server: no answer".into()]));
        assert_eq!(tab.form.problems, ["DNS server: no answer"]);
        tab.on_news(SettingsNews::Saved(stored.clone()));
        assert_eq!(tab.form.concurrency, "4");
        assert!(tab.form.problems.is_empty());
        assert_eq!(
            tab.form.saved_message.as_deref(),
            Some("Saved; the next scan uses them.")
        );
        tab.ca_file_picked(Path::new("/etc/ssl/extra.pem"));
        assert_eq!(tab.form.ca_file, "/etc/ssl/extra.pem");
        assert!(tab.form.is_editing());
    }

    #[test]
    fn the_trust_anchor_file_goes_through_the_one_validation_and_empty_means_the_root_keys() {
        let mut tab = SettingsTab::default();
        tab.on_news(SettingsNews::Loaded(Settings::default()));
        assert_eq!(tab.form.trust_anchor, "", "the built-in root keys");
        tab.trust_anchor_picked(Path::new("/etc/unbound/lab.key"));
        let settings = tab.form.to_settings().expect("valid");
        assert_eq!(
            settings.trust_anchor,
            Some(PathBuf::from("/etc/unbound/lab.key"))
        );
        assert!(tab.form.is_editing());
        tab.on_news(SettingsNews::Saved(settings.clone()));
        assert_eq!(tab.form.trust_anchor, "/etc/unbound/lab.key", "loaded back");
        tab.form.trust_anchor = "  ".into();
        assert_eq!(
            tab.form.to_settings().expect("valid").trust_anchor,
            None,
            "blank: the root keys again"
        );
    }

    #[test]
    fn command_line_overrides_show_with_their_option_and_save_as_settings() {
        use egui_kittest::Harness;
        use egui_kittest::kittest::Queryable;

        use crate::probe::DnsServer;

        let overrides = Overrides {
            dns: Some(DnsServer::parse("127.0.0.53").expect("address")),
            ca_file: Some(PathBuf::from("/tmp/lab-ca.pem")),
            ..Overrides::default()
        };
        let mut tab = SettingsTab::with_overrides(overrides);
        tab.on_news(SettingsNews::Loaded(Settings::default()));
        let mut harness = Harness::builder()
            .with_size(egui::vec2(1400.0, 1000.0))
            .build_ui_state(
                |ui, (tab, actions): &mut (SettingsTab, Vec<Action>)| {
                    tab.ui(ui, Path::new("/tmp/monitor.sqlite3"), &[], actions);
                },
                (tab, Vec::new()),
            );
        harness.run();
        let shown = |harness: &Harness<'_, (SettingsTab, Vec<Action>)>, text: &str| {
            harness.query_all_by_label_contains(text).next().is_some()
        };
        for text in [
            "Set on the command line for this run",
            "127.0.0.53:53",
            "set by --dns for this run",
            "/tmp/lab-ca.pem",
            "set by --ca-file for this run",
            "⚑ not in effect: --dns 127.0.0.53:53 is used for this run",
        ] {
            assert!(shown(&harness, text), "{text}");
        }
        harness.get_by_label("Save all as settings").click();
        harness.run();
        let saved = match harness.state().1.as_slice() {
            [Action::Send(Command::SaveSettings(settings))] => (**settings).clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(saved.dns_server, "127.0.0.53:53");
        assert_eq!(saved.ca_file, Some(PathBuf::from("/tmp/lab-ca.pem")));
        assert_eq!(
            Settings {
                dns_server: String::new(),
                ca_file: None,
                ..saved.clone()
            },
            Settings::default(),
            "nothing else changed"
        );
        harness.state_mut().0.on_news(SettingsNews::Saved(saved));
        harness.run();
        assert_eq!(
            harness
                .query_all_by_label("saved as the setting too")
                .count(),
            2
        );
        assert!(harness.query_by_label("Save all as settings").is_none());
        assert!(
            shown(&harness, "set by --dns for this run"),
            "still in effect"
        );
    }

    #[test]
    fn an_unsaved_edit_holds_back_saving_an_override() {
        let overrides = Overrides {
            smtp_port: Some(2525),
            ..Overrides::default()
        };
        let mut tab = SettingsTab::with_overrides(overrides);
        tab.on_news(SettingsNews::Loaded(Settings::default()));
        tab.form.concurrency = "16".into();
        let mut harness = egui_kittest::Harness::builder()
            .with_size(egui::vec2(1400.0, 1000.0))
            .build_ui_state(
                |ui, (tab, actions): &mut (SettingsTab, Vec<Action>)| {
                    tab.ui(ui, Path::new("/tmp/monitor.sqlite3"), &[], actions);
                },
                (tab, Vec::new()),
            );
        harness.run();
        use egui_kittest::kittest::{NodeT, Queryable};
        assert!(
            harness
                .get_by_label("Save as setting")
                .accesskit_node()
                .is_disabled()
        );
    }

    #[test]
    fn the_form_round_trips_settings_and_names_each_bad_field() {
        let mut form = SettingsForm::default();
        let settings = Settings {
            dns_server: "127.0.0.1:5353".into(),
            ..Settings::default()
        };
        form.load(&settings);
        assert_eq!(form.to_settings(), Ok(settings.clone()));
        assert!(!form.is_editing());
        assert!(
            !SettingsForm::default().is_editing(),
            "an empty form is not an edit"
        );
        form.concurrency = "lots".into();
        form.scan_interval_hours = "0".into();
        let problems = form.to_settings().expect_err("invalid");
        assert!(
            problems.iter().any(|p| p.contains("concurrency: 'lots'")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("scan interval")),
            "{problems:?}"
        );
        assert!(form.is_editing());
        form.load(&settings);
        form.notify_kinds
            .retain(|kind| *kind != ChangeKind::PfsLost);
        form.notify_quiet = true;
        let edited = form.to_settings().expect("valid");
        assert_eq!(
            edited.notify_kinds,
            vec![
                ChangeKind::StarttlsLost,
                ChangeKind::CertBecameInvalid,
                ChangeKind::CertExpiring,
                ChangeKind::DaneFailed,
                ChangeKind::DaneLost,
                ChangeKind::StsMxMismatch,
            ]
        );
        assert!(edited.notify_quiet);
        form.load(&settings);
        form.custom_dns = false;
        assert_eq!(form.to_settings().map(|s| s.dns_server), Ok(String::new()));
    }

    #[test]
    fn send_test_posts_to_saved_webhooks_and_the_delivery_log_shows() {
        use egui_kittest::kittest::{NodeT, Queryable};

        use crate::store::ScanId;

        let saved = Settings::default()
            .edited(&[
                ("webhooks", "https://hooks.example.com/services/T0/B0/token"),
                ("webhook_secret", "k"),
            ])
            .expect("valid");
        let mut tab = SettingsTab::default();
        tab.on_news(SettingsNews::Loaded(saved.clone()));
        assert_eq!(tab.form.to_settings(), Ok(saved));
        let log = vec![
            WebhookDelivery {
                id: 2,
                at: time::OffsetDateTime::UNIX_EPOCH,
                url: "https://hooks.example.com/services/T0/B0/token".into(),
                scan: Some(ScanId(9)),
                events: 3,
                attempts: 3,
                status: Some(500),
                delivered: false,
                detail: "HTTP 500".into(),
            },
            WebhookDelivery {
                id: 1,
                at: time::OffsetDateTime::UNIX_EPOCH,
                url: "https://hooks.example.com/services/T0/B0/token".into(),
                scan: None,
                events: 0,
                attempts: 1,
                status: Some(200),
                delivered: true,
                detail: "HTTP 200".into(),
            },
        ];
        let mut harness = egui_kittest::Harness::builder()
            .with_size(egui::vec2(1400.0, 1400.0))
            .build_ui_state(
                move |ui, (tab, actions): &mut (SettingsTab, Vec<Action>)| {
                    tab.ui(ui, Path::new("/tmp/monitor.sqlite3"), &log, actions);
                },
                (tab, Vec::new()),
            );
        harness.run();
        for text in [
            "scan 9, 3 events",
            "✖ failed after 3 attempt(s): HTTP 500",
            "✔ delivered after 1 attempt(s): HTTP 200",
        ] {
            assert!(
                harness.query_all_by_label_contains(text).next().is_some(),
                "{text}"
            );
        }
        assert!(
            harness
                .query_all_by_label_contains("token")
                .next()
                .is_none(),
            "the URL's path is not shown"
        );
        harness.get_by_label("Send test").click();
        harness.run();
        assert!(matches!(
            harness.state().1.as_slice(),
            [Action::Send(Command::SendTestWebhook)]
        ));
        // An unsaved edit holds the test back: it posts to the saved webhooks.
        harness.state_mut().0.form.webhooks = "https://other.example.org/in".into();
        harness.run();
        assert!(
            harness
                .get_by_label("Send test")
                .accesskit_node()
                .is_disabled()
        );
    }
}
