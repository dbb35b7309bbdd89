//! The top bar (menus, scan controls, progress), the warning banners and the status line.
//!
//! Owns: how scans are started, paused and cancelled from the UI and how their progress reads;
//! what the warning banners say (a blocked port 25, a DNS server that fails every lookup, and
//! what the user can do about either).
//! Must not touch: the table or the store; it only records actions (and asks the window to
//! close on Quit).

use std::path::Path;

use eframe::egui;

use super::action::{Action, Banner, DialogRequest};
use super::file_pick::FilePurpose;
use super::saved::ThemeChoice;
use super::state::{DnsTrouble, UiState};
use super::style::GradeLook as _;
use super::style::{Grade, format_time};
use crate::monitor::view::describe_duration;
use crate::monitor::{Command, DnsFailureCause, ScanTarget, view};

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

    /// Draws the warning banners the monitor raised; when nothing here was ever testable
    /// (a first launch without a usable network), they also point to the demo fleet.
    pub fn banners_ui(&mut self, ui: &mut egui::Ui, state: &UiState, actions: &mut Vec<Action>) {
        let newcomer = state.nothing_ever_testable();
        if let Some(attempts) = state.port_blocked {
            port_blocked_banner_ui(ui, attempts, newcomer, actions);
        }
        if let Some(trouble) = &state.dns_failing {
            dns_failing_banner_ui(ui, trouble, newcomer, actions);
        }
        if let Some(resolver) = &state.dnssec_unavailable {
            let (title, text) = dnssec_unavailable_text(resolver);
            if warning_banner_ui(ui, "dnssec_unavailable_banner", title, &text) {
                actions.push(Action::DismissBanner(Banner::DnssecUnavailable));
            }
        }
        if let Some(text) = &state.proxy_trouble
            && warning_banner_ui(ui, "proxy_banner", "⚠ The SOCKS proxy cannot be used", text)
        {
            actions.push(Action::DismissBanner(Banner::ProxyTrouble));
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
            // The right side first, so the last event gets only the width that is left and is
            // cut short (whole on hover) instead of running under it.
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
                    if let Some(last) = view.recent_scans.first() {
                        ui.label(
                            egui::RichText::new(format!(
                                "last scan {} · {}",
                                last.status.describe(),
                                last.path
                            ))
                            .weak(),
                        )
                        .on_hover_text(
                            "How the last scan ended, and its network path: direct, or \
                             through the SOCKS5 proxy (HOST:PORT)",
                        );
                    }
                }
                let Some(status) = &state.status else {
                    return;
                };
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    let dark_mode = ui.visuals().dark_mode;
                    let text = format!("{}  {}", format_time(status.at), status.text);
                    if status.error {
                        if ui.small_button("✖").on_hover_text("Dismiss").clicked() {
                            actions.push(Action::DismissStatus);
                        }
                        let warning = format!("⚠ {text}");
                        ui.add(
                            egui::Label::new(
                                egui::RichText::new(&warning)
                                    .color(Grade::NoStarttls.color(dark_mode)),
                            )
                            .truncate(),
                        )
                        .on_hover_text(warning);
                    } else {
                        ui.add(egui::Label::new(&text).truncate())
                            .on_hover_text(text);
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
        if ui
            .add_enabled(usable, egui::Button::new("Refresh").shortcut_text("Ctrl+R"))
            .on_hover_text("Reload from the database (other processes' scans show by themselves)")
            .clicked()
        {
            actions.push(Action::Refresh);
            ui.close();
        }
        ui.separator();
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

    if let Some(pid) = state.scheduled_elsewhere {
        ui.label(format!(
            "Scheduled scans are run by another process (pid {pid})"
        ))
        .on_hover_text(
            "Another process (starttls-monitor run, or another window) holds the scheduler of \
             this database; this window shows its scans as they are stored, and scans you \
             start here still run",
        );
    } else if state.schedule_paused {
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
        _ if state.scheduled_elsewhere.is_some() => {}
        (false, Some(at)) => {
            let now = time::OffsetDateTime::now_utc();
            ui.label(format!("Next scan {}", view::describe_until(at, now)))
                .on_hover_text(format!("{} UTC", format_time(at)));
        }
        (true, _) => {
            ui.label("Schedule paused");
        }
        (false, None) => {
            ui.label("Scheduled scans begin after your first scan")
                .on_hover_text(
                    "Add your domains, then start the first scan; the schedule follows it",
                );
        }
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

/// What to do about a DNS server that fails, for the banner.
const DNS_HELP: &str = "What you can do: set a recursive resolver as the DNS server in Settings (or \
     choose the system resolver there), or check this machine's network.";

/// For a first launch: how to see the app at work without any network.
const DEMO_HELP: &str = "New here? Try the app on a loopback demo fleet with no network at \
     all: cargo run --example demo_fleet (it prints the options to start the app with).";

fn port_blocked_banner_ui(
    ui: &mut egui::Ui,
    attempts: usize,
    newcomer: bool,
    actions: &mut Vec<Action>,
) {
    let mut text = format!(
        "All {attempts} connection attempts so far timed out without an answer. Many home, \
         office and cloud networks block outgoing SMTP. Results are kept as untestable, not \
         as failures. What you can do: go through a host that may connect to port 25 (a VPS, a \
         mail server): run 'ssh -N -D 1080 user@host' in a terminal, then set SOCKS5 proxy to \
         socks5://127.0.0.1:1080 in Settings and scan again. If a proxy is set already, its \
         host blocks port 25 too."
    );
    if newcomer {
        text.push(' ');
        text.push_str(DEMO_HELP);
    }
    if warning_banner_ui(
        ui,
        "port25_banner",
        "⚠ Outbound port 25 looks blocked",
        &text,
    ) {
        actions.push(Action::DismissBanner(Banner::Port25Blocked));
    }
}

/// The title and text of the banner when the resolver passes no DNSSEC data.
fn dnssec_unavailable_text(resolver: &str) -> (&'static str, String) {
    (
        "⚠ The DNS resolver passes no DNSSEC data",
        format!(
            "{} returns answers without their DNSSEC signatures (or ignores the DO bit), so \
             no answer can be validated: DANE is shown as unknown for every domain, never as \
             failed. STARTTLS, PFS and certificate results are not affected. For DANE results, \
             give a DNSSEC-aware resolver in Settings (DNS server) or with --dns.",
            capitalized(resolver)
        ),
    )
}

/// The title and text of the DNS banner: who failed, how, the likely cause, what to do.
fn dns_failing_text(trouble: &DnsTrouble, newcomer: bool) -> (&'static str, String) {
    let DnsTrouble {
        lookups,
        resolver,
        failures,
    } = trouble;
    let resolver = capitalized(resolver);
    let cause = failures.cause();
    let (title, what) = match cause {
        DnsFailureCause::Timeout => (
            "⚠ The DNS server is not answering",
            format!(
                "{resolver} answered none of the first {lookups} domain lookups: they all timed \
                 out or could not reach it ({}; {}).",
                cause.explain(),
                failures.describe()
            ),
        ),
        DnsFailureCause::Refused => (
            "⚠ The DNS server refuses to look domains up",
            format!(
                "{resolver} refused all of the first {lookups} domain lookups ({}; {}). It \
                 answers, but will not resolve other domains for us: it is probably an \
                 authoritative-only server, or one that serves only its own network.",
                cause.explain(),
                failures.describe()
            ),
        ),
        DnsFailureCause::Servfail => (
            "⚠ The DNS server fails every lookup",
            format!(
                "{resolver} failed all of the first {lookups} domain lookups ({}; {}).",
                cause.explain(),
                failures.describe()
            ),
        ),
    };
    let mut text = format!("{what} Results are kept as untestable, not as failures. {DNS_HELP}");
    if newcomer {
        text.push(' ');
        text.push_str(DEMO_HELP);
    }
    (title, text)
}

fn dns_failing_banner_ui(
    ui: &mut egui::Ui,
    trouble: &DnsTrouble,
    newcomer: bool,
    actions: &mut Vec<Action>,
) {
    let (title, text) = dns_failing_text(trouble, newcomer);
    if warning_banner_ui(ui, "dns_failing_banner", title, &text) {
        actions.push(Action::DismissBanner(Banner::DnsFailing));
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use egui_kittest::Harness;
    use egui_kittest::kittest::{NodeT, Queryable};

    use super::*;
    use crate::monitor::DnsFailures;
    use crate::monitor::view::{ListSummary, TrendCounts, ViewSnapshot};
    use crate::settings::Settings;
    use crate::ui::table_model::SortOrder;

    struct Fixture {
        bar: TopBar,
        state: UiState,
        actions: Vec<Action>,
    }

    fn state(testable_before: Option<usize>, trouble: Option<DnsTrouble>) -> UiState {
        let mut state = UiState::new(None, SortOrder::default());
        state.view = Some(ViewSnapshot {
            weight_total: 0.0,
            weighted: false,
            webhook_log: Vec::new(),
            list: None,
            lists: vec![ListSummary {
                latest_volume: None,
                name: None,
                domain_count: 3,
                latest: testable_before.map(|testable| TrendCounts {
                    total: 3,
                    testable,
                    ..TrendCounts::default()
                }),
            }],
            rows: Default::default(),
            trends: Vec::new(),
            providers: Vec::new(),
            events: Vec::new(),
            settings: Settings::default(),
            recent_scans: Vec::new(),
            path_changes: Vec::new(),
            db_path: PathBuf::from("/tmp/monitor.sqlite3"),
            load_time: Duration::from_millis(1),
            detail: None,
        });
        state.dns_failing = trouble;
        state
    }

    fn refused() -> DnsTrouble {
        DnsTrouble {
            lookups: 3,
            resolver: "the DNS server 127.0.0.1:5353".into(),
            failures: DnsFailures {
                refused: 3,
                ..DnsFailures::default()
            },
        }
    }

    fn harness(state: UiState) -> Harness<'static, Fixture> {
        let mut harness = Harness::builder()
            .with_size(egui::vec2(1200.0, 400.0))
            .build_ui_state(
                |ui, fixture: &mut Fixture| {
                    fixture.bar.ui(
                        ui,
                        &fixture.state,
                        true,
                        ThemeChoice::System,
                        &mut fixture.actions,
                    );
                    fixture
                        .bar
                        .banners_ui(ui, &fixture.state, &mut fixture.actions);
                },
                Fixture {
                    bar: TopBar,
                    state,
                    actions: Vec::new(),
                },
            );
        harness.run();
        harness
    }

    #[test]
    fn a_refusing_resolver_is_named_with_its_likely_cause_and_what_to_do() {
        let mut harness = harness(state(None, Some(refused())));
        assert!(
            harness
                .query_by_label_contains("The DNS server refuses to look domains up")
                .is_some()
        );
        let text = harness
            .query_by_label_contains("refused all of the first 3 domain lookups")
            .and_then(|node| node.accesskit_node().value())
            .expect("the banner text");
        for expected in [
            "The DNS server 127.0.0.1:5353 refused",
            "refused: not a recursive resolver?",
            "as the DNS server in Settings",
            "cargo run --example demo_fleet",
        ] {
            assert!(text.contains(expected), "'{expected}' in: {text}");
        }
        harness.get_by_label("Dismiss").click();
        harness.run();
        assert!(
            matches!(
                harness.state().actions.as_slice(),
                [Action::DismissBanner(Banner::DnsFailing)]
            ),
            "{:?}",
            harness.state().actions
        );
    }

    #[test]
    fn the_demo_fleet_is_suggested_only_where_nothing_was_ever_testable() {
        let (_, text) = dns_failing_text(&refused(), false);
        assert!(!text.contains("demo_fleet"), "{text}");
        let state = state(Some(2), Some(refused()));
        assert!(!state.nothing_ever_testable());
        let harness = harness(state);
        assert!(
            harness.query_by_label_contains("demo_fleet").is_none(),
            "a network that worked before needs no demo"
        );
        let state = self::state(Some(0), None);
        assert!(
            state.nothing_ever_testable(),
            "only untestable results so far"
        );
        let mut timeout = refused();
        timeout.failures = DnsFailures {
            timeout: 3,
            ..DnsFailures::default()
        };
        let (title, text) = dns_failing_text(&timeout, true);
        assert_eq!(title, "⚠ The DNS server is not answering");
        assert!(
            text.starts_with("The DNS server 127.0.0.1:5353 answered none of the first 3"),
            "{text}"
        );
        assert!(text.contains("timeout: not answering"), "{text}");
        assert!(text.contains("demo_fleet"), "{text}");
    }

    #[test]
    fn view_refresh_records_a_refresh() {
        let mut harness = harness(state(Some(3), None));
        harness.get_by_label("View").click();
        harness.run();
        harness.get_by_label_contains("Refresh").click();
        harness.run();
        assert!(
            matches!(harness.state().actions.as_slice(), [Action::Refresh]),
            "{:?}",
            harness.state().actions
        );
    }
}
