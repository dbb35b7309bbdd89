//! The app's state and its frame: applies monitor events, lays out the panels, handles keys.
//!
//! Owns: UI state (saved across restarts in [`Saved`], runtime beside it) and the one place
//! where events from the monitor change that state. Must not touch: the store, the network,
//! anything that blocks — it only sends [`Command`]s and reads [`Event`]s, never waits.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eframe::egui;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::dialogs::{Dialog, FilePick};
use super::settings_tab::SettingsForm;
use super::table_model::{SortOrder, TableModel};
use crate::model::DomainName;
use crate::monitor::view::{self, DomainDetail, Edit, ViewSnapshot};
use crate::monitor::{Command, Event, MonitorHandle, Overrides, ScanEnd, ScanEvent, ScanTarget};

/// Key under which [`Saved`] is kept in eframe's storage.
pub const SAVED_KEY: &str = "starttls-monitor-ui";

/// The centre's tabs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    Domains,
    Trends,
    Events,
    Settings,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Domains, Tab::Trends, Tab::Events, Tab::Settings];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Domains => "Domains",
            Tab::Trends => "Trends",
            Tab::Events => "Events",
            Tab::Settings => "Settings",
        }
    }
}

/// Light, dark, or follow the system.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

/// Trend charts count domains or unique MX hosts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrendBasis {
    #[default]
    Domains,
    MxHosts,
}

/// What survives a restart (window size and panel widths are kept by eframe itself).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Saved {
    /// The selected list (None: all domains).
    pub list: Option<String>,
    pub sort: SortOrder,
    pub tab: Tab,
    pub theme: ThemeChoice,
    pub trend_basis: TrendBasis,
}

/// A scan that is running, as the top bar shows it.
#[derive(Clone, Debug)]
pub struct RunningScan {
    pub scope: String,
    pub done: usize,
    pub total: usize,
    pub eta: Option<Duration>,
}

/// The status line: the last thing that happened.
#[derive(Clone, Debug)]
pub struct Status {
    pub text: String,
    pub error: bool,
    pub at: OffsetDateTime,
}

/// Wakes the UI from the monitor's thread once the context is known.
type RepaintSlot = Arc<Mutex<Option<egui::Context>>>;

/// The desktop app.
pub struct App {
    pub(super) saved: Saved,
    pub(super) monitor: Option<MonitorHandle>,
    /// Why the database could not be opened (the app then shows only this).
    pub(super) open_error: Option<String>,
    pub(super) db_path: PathBuf,
    repaint: RepaintSlot,
    /// The last snapshot, without its rows (they live in `table`).
    pub(super) view: Option<ViewSnapshot>,
    view_in_flight: bool,
    view_dirty: bool,
    pub(super) table: TableModel,
    pub(super) filter_text: String,
    pub(super) detail: Option<DomainDetail>,
    pub(super) scans: BTreeMap<i64, RunningScan>,
    pub(super) schedule_paused: bool,
    pub(super) next_scan_at: Option<OffsetDateTime>,
    /// Connection attempts when the monitor said port 25 looks blocked.
    pub(super) port_blocked: Option<usize>,
    /// Lookups and resolver when the monitor said the DNS server answers nothing.
    pub(super) dns_unanswered: Option<(usize, String)>,
    pub(super) status: Option<Status>,
    pub(super) settings_form: SettingsForm,
    pub(super) dialog: Option<Dialog>,
    pub(super) file_pick: Option<FilePick>,
    /// Ctrl+F asked for the filter box to take focus.
    pub(super) focus_filter: bool,
    /// The table should scroll to this position next frame.
    pub(super) scroll_to: Option<usize>,
    /// The Events tab shows only regressions.
    pub(super) events_regressions_only: bool,
    last_table_rebuild: Instant,
    applied_theme: Option<ThemeChoice>,
}

impl App {
    /// Opens the database at `db_path` and starts the monitor (with the schedule when
    /// `schedule`). A database that cannot be opened leaves an app that says why.
    pub fn start(db_path: PathBuf, overrides: Overrides, schedule: bool, saved: Saved) -> Self {
        let repaint: RepaintSlot = Arc::new(Mutex::new(None));
        let slot = repaint.clone();
        let waker: crate::monitor::Waker = Arc::new(move || {
            if let Ok(guard) = slot.lock()
                && let Some(ctx) = guard.as_ref()
            {
                ctx.request_repaint();
            }
        });
        let (monitor, open_error) = match MonitorHandle::start(&db_path, overrides, schedule, waker)
        {
            Ok(monitor) => (Some(monitor), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let mut table = TableModel::default();
        table.set_sort(saved.sort);
        let mut app = Self {
            saved,
            monitor,
            open_error,
            db_path,
            repaint,
            view: None,
            view_in_flight: false,
            view_dirty: false,
            table,
            filter_text: String::new(),
            detail: None,
            scans: BTreeMap::new(),
            schedule_paused: false,
            next_scan_at: None,
            port_blocked: None,
            dns_unanswered: None,
            status: None,
            settings_form: SettingsForm::default(),
            dialog: None,
            file_pick: None,
            focus_filter: false,
            scroll_to: None,
            events_regressions_only: false,
            last_table_rebuild: Instant::now(),
            applied_theme: None,
        };
        app.request_view();
        app
    }

    /// What to keep across restarts.
    pub fn saved(&self) -> Saved {
        let mut saved = self.saved.clone();
        saved.sort = self.table.sort();
        saved
    }

    /// The table model (tests and benchmarks look at it).
    pub fn table(&self) -> &TableModel {
        &self.table
    }

    /// Whether a snapshot has arrived since the last request.
    pub fn view_loaded(&self) -> bool {
        self.view.is_some() && !self.view_in_flight
    }

    /// Done and total of the running scans, when any runs.
    pub fn scan_progress(&self) -> Option<(usize, usize)> {
        (!self.scans.is_empty()).then(|| {
            self.scans.values().fold((0, 0), |(done, total), scan| {
                (done + scan.done, total + scan.total)
            })
        })
    }

    /// The domain the detail panel shows, once loaded.
    pub fn detail_domain(&self) -> Option<&DomainName> {
        self.detail.as_ref().map(|detail| &detail.domain)
    }

    /// Whether the monitor said outbound port 25 looks blocked (and the banner shows).
    pub fn port_blocked_banner(&self) -> bool {
        self.port_blocked.is_some()
    }

    /// Whether the monitor said the DNS server answers nothing (and the banner shows).
    pub fn dns_unanswered_banner(&self) -> bool {
        self.dns_unanswered.is_some()
    }

    /// The status line's text, if any.
    pub fn status_text(&self) -> Option<&str> {
        self.status.as_ref().map(|status| status.text.as_str())
    }

    /// Sends a command to the monitor (dropped when the database could not be opened).
    pub(super) fn send(&self, command: Command) {
        if let Some(monitor) = &self.monitor {
            monitor.send(command);
        }
    }

    /// Asks for a fresh snapshot of the selected list; coalesces while one is in flight.
    pub(super) fn request_view(&mut self) {
        if self.view_in_flight {
            self.view_dirty = true;
            return;
        }
        self.view_in_flight = true;
        self.view_dirty = false;
        self.send(Command::LoadView {
            list: self.saved.list.clone(),
        });
    }

    /// Switches to another list.
    pub(super) fn select_list(&mut self, list: Option<String>) {
        if self.saved.list != list {
            self.saved.list = list;
            self.request_view();
        }
    }

    /// Makes `domain` the cursor row and loads its detail.
    pub(super) fn open_domain(&mut self, domain: DomainName) {
        if self.table.select_only(&domain) {
            self.scroll_to = self.table.position_of(&domain);
        }
        self.send(Command::LoadDomain(domain));
    }

    /// Applies an edit of domains or lists through the monitor.
    pub(super) fn edit(&self, edit: Edit) {
        self.send(Command::Edit(edit));
    }

    /// Starts a scan.
    pub(super) fn scan(&mut self, target: ScanTarget) {
        self.port_blocked = None;
        self.dns_unanswered = None;
        self.send(Command::ScanNow(target));
    }

    /// The scan target F5 and "Scan this list" mean: the selected list, or everything.
    pub(super) fn current_scan_target(&self) -> ScanTarget {
        match &self.saved.list {
            Some(name) => ScanTarget::List(name.clone()),
            None => ScanTarget::All,
        }
    }

    pub(super) fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
            at: OffsetDateTime::now_utc(),
        });
    }

    /// Takes every waiting event from the monitor and applies it.
    pub fn drain_events(&mut self) {
        let mut events = Vec::new();
        if let Some(monitor) = &self.monitor {
            while let Some(event) = monitor.try_recv() {
                events.push(event);
            }
        }
        for event in events {
            self.apply_event(event);
        }
    }

    fn apply_event(&mut self, event: Event) {
        match event {
            Event::ViewLoaded(mut snapshot) => {
                self.view_in_flight = false;
                self.saved.list = snapshot.list.clone();
                let rows = std::mem::take(&mut snapshot.rows);
                self.table.set_rows(rows);
                self.last_table_rebuild = Instant::now();
                if !self.settings_form.is_editing() {
                    self.settings_form.load(&snapshot.settings);
                }
                self.view = Some(*snapshot);
                if self.view_dirty {
                    self.request_view();
                }
            }
            Event::DomainLoaded(detail) => {
                if self.table.cursor() == Some(&detail.domain) || self.table.cursor().is_none() {
                    self.detail = Some(*detail);
                }
            }
            Event::ImportProgress {
                path,
                done_bytes,
                total_bytes,
            } => {
                if let Some(Dialog::Import(dialog)) = &mut self.dialog
                    && dialog.path == path
                {
                    dialog.progress = Some((done_bytes, total_bytes));
                }
            }
            Event::ImportPreviewed(report) => {
                if let Some(Dialog::Import(dialog)) = &mut self.dialog
                    && dialog.path == report.path
                {
                    dialog.progress = None;
                    dialog.report = Some(*report);
                }
            }
            Event::ImportFailed { path, message } => match &mut self.dialog {
                Some(Dialog::Import(dialog)) if dialog.path == path => {
                    dialog.progress = None;
                    dialog.error = Some(message);
                }
                _ => self.set_status(message, true),
            },
            Event::Exported { path, summary } => {
                if matches!(self.dialog, Some(Dialog::Export(_))) {
                    self.dialog = None;
                }
                self.set_status(
                    format!(
                        "exported {} domains ({} probed) to {} ({} bytes)",
                        summary.domains,
                        summary.probed,
                        path.display(),
                        summary.bytes
                    ),
                    false,
                );
            }
            Event::ExportFailed { message, .. } => match &mut self.dialog {
                Some(Dialog::Export(dialog)) => {
                    dialog.busy = false;
                    dialog.error = Some(message);
                }
                _ => self.set_status(message, true),
            },
            Event::Edited { message } => {
                self.set_status(message, false);
                self.request_view();
            }
            Event::Scan(scan_event) => self.apply_scan_event(scan_event),
            Event::ScanSkipped { reason } => self.set_status(reason, false),
            Event::ScheduleChanged {
                paused,
                next_scan_at,
            } => {
                self.schedule_paused = paused;
                self.next_scan_at = next_scan_at;
            }
            Event::SettingsSaved(settings) => {
                self.settings_form.load(&settings);
                self.settings_form.saved_message = Some("Saved; the next scan uses them.".into());
                if let Some(view) = &mut self.view {
                    view.settings = *settings;
                }
                self.set_status("settings saved", false);
            }
            Event::SettingsRejected { problems } => {
                self.settings_form.problems = problems;
                self.settings_form.saved_message = None;
            }
            Event::Failed(message) => {
                self.view_in_flight = false;
                self.set_status(message, true);
            }
            Event::Stopped => {
                self.set_status("the monitor stopped", true);
            }
        }
    }

    fn apply_scan_event(&mut self, event: ScanEvent) {
        match event {
            ScanEvent::Started { scan, scope, total } => {
                self.scans.insert(
                    scan.0,
                    RunningScan {
                        scope: scope.clone(),
                        done: 0,
                        total,
                        eta: None,
                    },
                );
                self.set_status(format!("scan of {scope} started ({total} domains)"), false);
            }
            ScanEvent::Progress {
                scan,
                done,
                total,
                eta,
            } => {
                if let Some(running) = self.scans.get_mut(&scan.0) {
                    running.done = done;
                    running.total = total;
                    running.eta = eta;
                }
            }
            ScanEvent::DomainProbed(result) => {
                let previous = self.table.row_of(&result.domain).cloned();
                let row = view::row_from_result(&result, previous.as_ref());
                self.table.update_row(row);
                if self.table.cursor() == Some(&result.domain) {
                    self.send(Command::LoadDomain(result.domain.clone()));
                }
            }
            ScanEvent::Changes(changes) => {
                if let Some(view) = &mut self.view {
                    for change in changes.into_iter().rev() {
                        view.events.insert(
                            0,
                            view::EventRow {
                                id: 0,
                                domain: change.domain.to_string(),
                                at: change.at,
                                regression: change.kind.is_regression(),
                                kind: change.kind,
                                detail: change.detail,
                            },
                        );
                    }
                    view.events.truncate(view::VIEW_EVENT_LIMIT);
                }
            }
            ScanEvent::Port25Blocked { attempts } => self.port_blocked = Some(attempts),
            ScanEvent::DnsUnanswered { lookups, resolver } => {
                self.dns_unanswered = Some((lookups, resolver));
            }
            ScanEvent::StoreFailed(message) => self.set_status(message, true),
            ScanEvent::Finished {
                scan,
                scope,
                end,
                counts,
                elapsed,
            } => {
                let scope = self
                    .scans
                    .remove(&scan.0)
                    .map_or(scope, |running| running.scope);
                let how = match end {
                    ScanEnd::Finished => "finished",
                    ScanEnd::DeadlineReached => "stopped at its deadline",
                    ScanEnd::Cancelled => "cancelled",
                };
                let text = if end == ScanEnd::Cancelled {
                    format!("scan of {scope} cancelled")
                } else {
                    format!(
                        "scan of {scope} {how} in {}: {} domains, {} secure, {} no STARTTLS, {} untestable",
                        view::describe_duration(elapsed),
                        counts.done,
                        counts.all_three,
                        counts.no_starttls,
                        counts.untestable
                    )
                };
                self.set_status(text, false);
                self.request_view();
            }
        }
    }

    /// One frame: events in, panels drawn, keys handled.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        self.attach_context(ui.ctx());
        self.apply_theme(ui.ctx());
        self.drain_events();
        if self.last_table_rebuild.elapsed() >= Duration::from_millis(250) {
            self.table.rebuild_if_stale();
            self.last_table_rebuild = Instant::now();
        }
        self.poll_file_pick();
        self.handle_keys(ui.ctx());

        self.top_bar_ui(ui);
        if self.port_blocked.is_some() {
            self.port_blocked_banner_ui(ui);
        }
        if self.dns_unanswered.is_some() {
            self.dns_unanswered_banner_ui(ui);
        }
        self.status_bar_ui(ui);
        if let Some(error) = self.open_error.clone() {
            egui::CentralPanel::default().show(ui, |ui| self.open_error_ui(ui, &error));
            return;
        }
        self.lists_panel_ui(ui);
        let empty = self
            .view
            .as_ref()
            .is_some_and(|view| view.lists.first().is_some_and(|all| all.domain_count == 0));
        if !empty && self.saved.tab == Tab::Domains && self.table.cursor().is_some() {
            self.detail_panel_ui(ui);
        }
        egui::CentralPanel::default().show(ui, |ui| {
            if self.view.is_none() {
                ui.centered_and_justified(|ui| {
                    ui.spinner();
                });
                return;
            }
            self.tabs_ui(ui);
            ui.separator();
            match self.saved.tab {
                Tab::Domains if empty => self.welcome_ui(ui),
                Tab::Domains => self.domains_tab_ui(ui),
                Tab::Trends => self.trends_tab_ui(ui),
                Tab::Events => self.events_tab_ui(ui),
                Tab::Settings => self.settings_tab_ui(ui),
            }
        });
        self.dialog_ui(ui.ctx());
        if !self.scans.is_empty() || self.view_in_flight {
            ui.ctx().request_repaint_after(Duration::from_millis(500));
        }
    }

    /// The context, once the first frame has run (for waking the UI from helper threads).
    pub(super) fn repaint_context(&self) -> Option<egui::Context> {
        self.repaint.lock().ok().and_then(|slot| slot.clone())
    }

    fn attach_context(&self, ctx: &egui::Context) {
        if let Ok(mut slot) = self.repaint.lock()
            && slot.is_none()
        {
            *slot = Some(ctx.clone());
        }
    }

    fn apply_theme(&mut self, ctx: &egui::Context) {
        if self.applied_theme == Some(self.saved.theme) {
            return;
        }
        ctx.set_theme(match self.saved.theme {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Light => egui::ThemePreference::Light,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
        });
        self.applied_theme = Some(self.saved.theme);
    }

    fn tabs_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                if ui
                    .selectable_label(self.saved.tab == tab, tab.title())
                    .clicked()
                {
                    self.saved.tab = tab;
                }
            }
        });
    }

    /// Ctrl+F filter, F5 scan, Delete remove (asks first), arrows move the selection.
    fn handle_keys(&mut self, ctx: &egui::Context) {
        if self.dialog.is_some() || self.open_error.is_some() {
            return;
        }
        let typing = ctx.egui_wants_keyboard_input();
        let (find, rescan, delete, up, down, select_all) = ctx.input_mut(|input| {
            (
                input.consume_key(egui::Modifiers::COMMAND, egui::Key::F),
                input.consume_key(egui::Modifiers::NONE, egui::Key::F5),
                !typing && input.consume_key(egui::Modifiers::NONE, egui::Key::Delete),
                !typing && input.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
                !typing && input.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                !typing && input.consume_key(egui::Modifiers::COMMAND, egui::Key::A),
            )
        });
        if find {
            self.saved.tab = Tab::Domains;
            self.focus_filter = true;
        }
        if rescan {
            let target = self.current_scan_target();
            self.scan(target);
        }
        if self.saved.tab != Tab::Domains {
            return;
        }
        if delete && self.table.selected_count() > 0 {
            self.dialog = Some(Dialog::confirm_remove(
                self.table.selected_domains(),
                self.saved.list.clone(),
            ));
        }
        if select_all {
            self.table.select_all_visible();
        }
        let delta = match (up, down) {
            (true, false) => -1,
            (false, true) => 1,
            _ => 0,
        };
        if delta != 0
            && let Some((domain, position)) = self.table.move_cursor(delta)
        {
            self.scroll_to = Some(position);
            self.send(Command::LoadDomain(domain));
        }
    }

    fn open_error_ui(&self, ui: &mut egui::Ui, error: &str) {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            ui.heading("The database could not be opened");
            ui.add_space(8.0);
            ui.label(
                egui::RichText::new(error)
                    .color(super::style::Grade::NoStarttls.color(ui.visuals().dark_mode)),
            );
            ui.add_space(8.0);
            ui.label(
                "Nothing was changed in that file. Start the app with another database \
                 (starttls-monitor --db PATH), or move the file away to start afresh.",
            );
        });
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SAVED_KEY, &self.saved());
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(monitor) = self.monitor.take() {
            monitor.shutdown();
        }
    }
}

/// A timestamp as the tables show it: `2026-11-28 10:12` (UTC).
pub fn format_time(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    at.format(format).unwrap_or_else(|_| at.to_string())
}

/// A date: `2026-11-28`.
pub fn format_date(at: OffsetDateTime) -> String {
    at.date().to_string()
}
