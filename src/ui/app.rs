//! The app's frame: events in (through the reducer), panels drawn, keys read, and the actions
//! the panels recorded applied — after the frame, in one place ([`App::apply`]).
//!
//! Owns: the panels, the shared [`UiState`], the monitor handle, the one file choice that may
//! be open (native dialog or typed path prompt), files dropped on the window (by the rules of
//! [`super::file_drop`]), and routing answers (monitor events, picked files) to the panel that
//! asked. Must not touch: the store, the network, anything that blocks — it only sends
//! [`Command`]s and reads [`Event`]s, never waits.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eframe::egui;

use super::action::{Action, Banner, DialogRequest};
use super::detail::DetailPanel;
use super::dialogs::Dialogs;
use super::events_tab::EventsTab;
use super::file_drop::{DropContext, DropPlan};
use super::file_pick::{FileChooser, FileDialogs, FilePurpose};
use super::lists_panel::ListsPanel;
use super::saved::{SAVED_KEY, Saved, Tab, ThemeChoice};
use super::settings_tab::SettingsTab;
use super::state::{Reaction, UiState};
use super::style::GradeLook as _;
use super::table::DomainsTab;
use super::table_model::TableModel;
use super::top_bar::TopBar;
use super::trends::TrendsTab;
use super::welcome::Welcome;
use crate::model::DomainName;
use crate::monitor::{Command, DomainDetail, Event, MonitorHandle, Overrides, ViewSnapshot};

/// Wakes the UI from the monitor's thread once the context is known.
type RepaintSlot = Arc<Mutex<Option<egui::Context>>>;

/// The desktop app.
pub struct App {
    monitor: Option<MonitorHandle>,
    /// Why the database could not be opened (the app then shows only this).
    open_error: Option<String>,
    db_path: PathBuf,
    repaint: RepaintSlot,
    /// What every panel reads.
    state: UiState,
    tab: Tab,
    theme: ThemeChoice,
    applied_theme: Option<ThemeChoice>,
    /// The file choice that is open, if any (one at a time).
    files: FileChooser,
    top_bar: TopBar,
    lists: ListsPanel,
    detail: DetailPanel,
    welcome: Welcome,
    domains: DomainsTab,
    trends: TrendsTab,
    events: EventsTab,
    settings: SettingsTab,
    dialogs: Dialogs,
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
        let settings = SettingsTab::with_overrides(overrides.clone());
        let (monitor, open_error) = match MonitorHandle::start(&db_path, overrides, schedule, waker)
        {
            Ok(monitor) => {
                // A click on a desktop notification shows its domain here.
                monitor.send(Command::ClickableNotifications);
                (Some(monitor), None)
            }
            Err(error) => (None, Some(error.to_string())),
        };
        let Saved {
            list,
            sort,
            tab,
            theme,
            trend_basis,
            hidden_columns,
        } = saved;
        let mut app = Self {
            monitor,
            open_error,
            db_path,
            repaint,
            state: UiState::new(list, sort),
            tab,
            theme,
            applied_theme: None,
            files: FileChooser::default(),
            top_bar: TopBar,
            lists: ListsPanel,
            detail: DetailPanel::default(),
            welcome: Welcome,
            domains: DomainsTab::new(hidden_columns),
            trends: TrendsTab::new(trend_basis),
            events: EventsTab::default(),
            settings,
            dialogs: Dialogs::default(),
        };
        if let Some(command) = app.state.request_view() {
            app.send(command);
        }
        app
    }

    /// Uses `dialogs` for file choices (a test seam: [`FileDialogs::Unavailable`] stands for a
    /// desktop with neither an xdg portal nor zenity).
    pub fn with_file_dialogs(mut self, dialogs: FileDialogs) -> Self {
        self.files.set_dialogs(dialogs);
        self
    }

    /// What to keep across restarts, gathered from the panels that own each part.
    pub fn saved(&self) -> Saved {
        Saved {
            list: self.state.list.clone(),
            sort: self.state.table.sort(),
            tab: self.tab,
            theme: self.theme,
            trend_basis: self.trends.basis(),
            hidden_columns: self.domains.hidden_columns().clone(),
        }
    }

    /// The table model (tests and benchmarks look at it).
    pub fn table(&self) -> &TableModel {
        &self.state.table
    }

    /// Whether a snapshot has arrived since the last request.
    pub fn view_loaded(&self) -> bool {
        self.state.view.is_some() && !self.state.view_in_flight()
    }

    /// Done and total of the running scans, when any runs.
    pub fn scan_progress(&self) -> Option<(usize, usize)> {
        self.state.scan_progress()
    }

    /// The domain the detail panel shows, once loaded.
    pub fn detail_domain(&self) -> Option<&DomainName> {
        self.state.detail.as_ref().map(|detail| &detail.domain)
    }

    /// Whether the monitor said outbound port 25 looks blocked (and the banner shows).
    pub fn port_blocked_banner(&self) -> bool {
        self.state.port_blocked.is_some()
    }

    /// Whether the monitor said the DNS server fails every lookup — refused, servfail or
    /// timed out (and the banner shows).
    pub fn dns_unanswered_banner(&self) -> bool {
        self.state.dns_failing.is_some()
    }

    /// Whether the monitor said the resolver passes no DNSSEC data (and the banner shows).
    pub fn dnssec_unavailable_banner(&self) -> bool {
        self.state.dnssec_unavailable.is_some()
    }

    /// The last snapshot (its rows are in [`Self::table`]); tests compare it with the store.
    pub fn view(&self) -> Option<&ViewSnapshot> {
        self.state.view.as_ref()
    }

    /// The loaded detail of the cursor row, if any.
    pub fn detail(&self) -> Option<&DomainDetail> {
        self.state.detail.as_ref()
    }

    /// The status line's text, if any.
    pub fn status_text(&self) -> Option<&str> {
        self.state
            .status
            .as_ref()
            .map(|status| status.text.as_str())
    }

    /// Opens the import preview for `path`, as if it had been picked in File → Import CSV….
    pub fn open_import(&mut self, path: PathBuf) {
        self.file_picked(FilePurpose::ImportCsv, Some(path));
    }

    /// Writes the report to `path` with the open export dialog's options, as if it had been
    /// chosen in its "Save as…" dialog (nothing when no export dialog is open).
    pub fn export_to(&mut self, path: PathBuf) {
        self.file_picked(FilePurpose::ExportReport, Some(path));
    }

    /// Takes every waiting event from the monitor and applies it through the reducer; the
    /// answers meant for a panel go to that panel.
    pub fn drain_events(&mut self) {
        let mut events: Vec<Event> = Vec::new();
        if let Some(monitor) = &self.monitor {
            while let Some(event) = monitor.try_recv() {
                events.push(event);
            }
        }
        let mut reactions = Vec::new();
        let mut actions = Vec::new();
        for event in events {
            self.state.apply_event(event, &mut reactions);
            for reaction in reactions.drain(..) {
                match reaction {
                    Reaction::Send(command) => self.send(command),
                    Reaction::Settings(news) => self.settings.on_news(news),
                    Reaction::Dialog(news) => self.dialogs.on_news(news, &mut actions),
                    Reaction::ShowDomain(domain) => {
                        // Brought to the front where the desktop lets a window ask for it.
                        if let Some(ctx) = self.repaint_context() {
                            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
                        }
                        actions.push(Action::ShowDomain(domain));
                    }
                }
            }
        }
        self.apply(actions);
    }

    /// One frame: events in, keys read, panels drawn, then what they asked for applied.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        self.attach_context(ui.ctx());
        self.apply_theme(ui.ctx());
        self.drain_events();
        self.state.rebuild_table_if_due();
        self.poll_file_pick();
        // Keys act before drawing, so the frame shows what they did.
        let mut actions = Vec::new();
        self.keys(ui.ctx(), &mut actions);
        self.apply(actions);

        let mut actions = Vec::new();
        self.panels_ui(ui, &mut actions);
        self.apply(actions);
        // The dialogs go on top, after the panels' actions: one a panel opened shows at once.
        if self.open_error.is_none() && self.dialogs.is_open() {
            let mut actions = Vec::new();
            self.dialogs.ui(
                ui.ctx(),
                &self.state.list_names(),
                self.state.list.as_deref(),
                &mut actions,
            );
            self.apply(actions);
        }
        if self.open_error.is_none() {
            self.files_ui(ui.ctx());
        }
        if !self.state.scans.is_empty() || self.state.view_in_flight() {
            ui.ctx().request_repaint_after(Duration::from_millis(500));
        }
    }

    /// Draws every panel but the dialogs; they only record what they want done.
    fn panels_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let usable = self.open_error.is_none();
        self.top_bar
            .ui(ui, &self.state, usable, self.theme, actions);
        self.top_bar.banners_ui(ui, &self.state, actions);
        self.top_bar
            .status_bar_ui(ui, &self.state, &self.db_path, actions);
        if let Some(error) = &self.open_error {
            egui::CentralPanel::default().show(ui, |ui| open_error_ui(ui, error));
            return;
        }
        let state = &self.state;
        let lists = state.view.as_ref().map_or(&[][..], |view| &view.lists[..]);
        self.lists.ui(ui, lists, state.list.as_deref(), actions);
        let empty = state.is_empty();
        if !empty && self.tab == Tab::Domains && state.table.cursor().is_some() {
            self.detail.ui(
                ui,
                &state.table,
                state.detail.as_ref(),
                state.list.as_deref(),
                state
                    .view
                    .as_ref()
                    .map_or(crate::settings::DEFAULT_EXPIRY_WARNING_DAYS, |view| {
                        view.settings.expiry_warning_days
                    }),
                actions,
            );
        }
        egui::CentralPanel::default().show(ui, |ui| {
            let Some(view) = &state.view else {
                ui.centered_and_justified(|ui| {
                    ui.spinner();
                });
                return;
            };
            tabs_ui(ui, self.tab, actions);
            ui.separator();
            match self.tab {
                Tab::Domains if empty => self.welcome.ui(ui, actions),
                Tab::Domains => {
                    self.domains
                        .ui(ui, &state.table, view, state.list.as_deref(), actions);
                }
                Tab::Trends => self.trends.ui(ui, view),
                Tab::Events => {
                    let lists: Vec<String> = view
                        .lists
                        .iter()
                        .filter_map(|list| list.name.clone())
                        .collect();
                    self.events
                        .ui(ui, &view.events, view.list.as_deref(), &lists, actions);
                }
                Tab::Settings => self
                    .settings
                    .ui(ui, &view.db_path, &view.webhook_log, actions),
            }
        });
    }

    /// Applies what the panels asked for — the one place where they change the app.
    fn apply(&mut self, actions: Vec<Action>) {
        if actions.is_empty() {
            return;
        }
        for action in actions {
            self.apply_one(action);
        }
        // What the actions changed shows in the next frame: ask for it now.
        if let Some(ctx) = self.repaint_context() {
            ctx.request_repaint();
        }
    }

    fn apply_one(&mut self, action: Action) {
        let state = &mut self.state;
        match action {
            Action::SelectList(list) => {
                if let Some(command) = state.select_list(list) {
                    send(self.monitor.as_ref(), command);
                }
            }
            Action::SelectListAfterEdit(list) => state.list = list,
            Action::SelectTab(tab) => self.tab = tab,
            Action::SetTheme(theme) => self.theme = theme,
            Action::Refresh => {
                state.set_status("reloading from the database", false);
                if let Some(command) = state.request_view() {
                    send(self.monitor.as_ref(), command);
                }
            }
            Action::Scan(target) => {
                state.port_blocked = None;
                state.dns_failing = None;
                state.dnssec_unavailable = None;
                state.proxy_trouble = None;
                send(self.monitor.as_ref(), Command::ScanNow(target));
            }
            Action::Send(command) => send(self.monitor.as_ref(), command),
            Action::ShowDomain(domain) => {
                self.tab = Tab::Domains;
                if state.table.position_of(&domain).is_none() {
                    // Hidden by a filter: clear the filters so the row can be shown.
                    self.domains.clear_filter_text();
                    state.table.set_filter_text("");
                    state.table.set_grade_filter(None);
                    state.table.set_expiry_filter(None);
                    state.table.set_provider_filter(None);
                    state.table.set_dane_filter(None);
                    state.table.set_mta_sts_filter(None);
                }
                if state.table.select_only(&domain) {
                    self.domains.scroll_to(state.table.position_of(&domain));
                }
                send(self.monitor.as_ref(), Command::LoadDomain(domain));
            }
            Action::SetFilterText(text) => state.table.set_filter_text(&text),
            Action::SetGradeFilter(grade) => state.table.set_grade_filter(grade),
            Action::SetExpiryFilter(days) => state.table.set_expiry_filter(days),
            Action::SetProviderFilter(provider) => state.table.set_provider_filter(provider),
            Action::SetDaneFilter(dane) => state.table.set_dane_filter(dane),
            Action::SetMtaStsFilter(outcome) => state.table.set_mta_sts_filter(outcome),
            Action::SetGroupByProvider(group) => state.table.set_group_by_provider(group),
            Action::SortBy(column) => state.table.click_heading(column),
            Action::ClickRow {
                position,
                toggle,
                extend,
            } => {
                if let Some(domain) = state.table.click(position, toggle, extend) {
                    state.detail = None;
                    send(self.monitor.as_ref(), Command::LoadDomain(domain));
                }
            }
            Action::SelectAllVisible => state.table.select_all_visible(),
            Action::MoveCursor(delta) => {
                if let Some((domain, position)) = state.table.move_cursor(delta) {
                    self.domains.scroll_to(Some(position));
                    send(self.monitor.as_ref(), Command::LoadDomain(domain));
                }
            }
            Action::FocusFilter => {
                self.tab = Tab::Domains;
                self.domains.focus_filter();
            }
            Action::ForgetDetail => state.detail = None,
            Action::CloseDetail => {
                state.table.clear_cursor();
                state.detail = None;
            }
            Action::OpenDialog(request) => self.dialogs.open(request),
            Action::PickFile { purpose, file_name } => {
                let ctx = self.repaint_context();
                if !self.files.start(purpose, file_name, ctx) {
                    // One file choice at a time: this one counts as cancelled.
                    self.file_picked(purpose, None);
                }
            }
            Action::SetStatus { text, error } => state.set_status(text, error),
            Action::DismissStatus => state.status = None,
            Action::DismissBanner(Banner::Port25Blocked) => state.port_blocked = None,
            Action::DismissBanner(Banner::DnsFailing) => state.dns_failing = None,
            Action::DismissBanner(Banner::DnssecUnavailable) => state.dnssec_unavailable = None,
            Action::DismissBanner(Banner::ProxyTrouble) => state.proxy_trouble = None,
        }
    }

    /// Sends a command to the monitor (dropped when the database could not be opened).
    fn send(&self, command: Command) {
        send(self.monitor.as_ref(), command);
    }

    /// Hands a finished native file dialog's answer to the panel that asked (one that could
    /// not open leaves the typed path prompt open instead).
    fn poll_file_pick(&mut self) {
        if let Some((purpose, choice)) = self.files.poll() {
            self.file_picked(purpose, choice);
        }
    }

    /// The typed path prompt on top of everything, and files dropped on the window.
    fn files_ui(&mut self, ctx: &egui::Context) {
        if let Some((purpose, choice)) = self.files.prompt_ui(ctx) {
            self.file_picked(purpose, choice);
        }
        let context = DropContext {
            prompt_open: self.files.prompt_is_open(),
            export_open: self.dialogs.export_file_name().is_some(),
            other_dialog_open: self.dialogs.is_open()
                && !self.dialogs.is_import_open()
                && self.dialogs.export_file_name().is_none(),
        };
        let Some((plan, left_alone)) = super::file_drop::dropped_ui(ctx, context) else {
            return;
        };
        let mut status = None;
        match plan {
            DropPlan::FillPrompt(path) => {
                self.files.drop_into_prompt(&path);
            }
            DropPlan::ExportTo(path) => {
                let file_name = self.dialogs.export_file_name();
                if !self
                    .files
                    .prompt_with(FilePurpose::ExportReport, path, file_name)
                {
                    status = Some(("a file dialog is open: choose there".to_string(), true));
                }
            }
            DropPlan::Import(path) => self.file_picked(FilePurpose::ImportCsv, Some(path)),
            DropPlan::CaFile(path) => {
                self.settings.ca_file_picked(&path);
                self.tab = Tab::Settings;
                let text = format!(
                    "{} is the extra CA file in Settings: Save settings to keep it",
                    path.display()
                );
                status = Some((text, false));
            }
            DropPlan::Refuse(why) => status = Some((why, true)),
        }
        if left_alone > 0 {
            let (text, _) = status.get_or_insert_with(|| (String::new(), true));
            let more = match left_alone {
                1 => "1 more dropped file was left alone".to_string(),
                count => format!("{count} more dropped files were left alone"),
            };
            let joiner = if text.is_empty() { "" } else { "; " };
            *text = format!("{text}{joiner}{more}: drop one file at a time");
        }
        if let Some((text, error)) = status {
            self.apply(vec![Action::SetStatus { text, error }]);
        }
    }

    /// Routes a picked file (None: cancelled) by its purpose.
    fn file_picked(&mut self, purpose: FilePurpose, choice: Option<PathBuf>) {
        let mut actions = Vec::new();
        match (purpose, choice) {
            (FilePurpose::SettingsCaFile, Some(path)) => self.settings.ca_file_picked(&path),
            (FilePurpose::SettingsTrustAnchor, Some(path)) => {
                self.settings.trust_anchor_picked(&path);
            }
            (FilePurpose::ImportCsv, Some(path)) => {
                self.dialogs
                    .open_import(path, self.state.list.clone(), &mut actions);
            }
            (FilePurpose::ExportReport, Some(path)) => self.dialogs.export_to(path, &mut actions),
            (FilePurpose::ExportReport, None) => self.dialogs.export_cancelled(),
            (
                FilePurpose::ImportCsv
                | FilePurpose::SettingsCaFile
                | FilePurpose::SettingsTrustAnchor,
                None,
            ) => {}
        }
        self.apply(actions);
    }

    /// The context, once the first frame has run (for waking the UI from helper threads).
    fn repaint_context(&self) -> Option<egui::Context> {
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
        if self.applied_theme == Some(self.theme) {
            return;
        }
        ctx.set_theme(match self.theme {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Light => egui::ThemePreference::Light,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
        });
        self.applied_theme = Some(self.theme);
    }

    /// Ctrl+F filter, F5 scan, Ctrl+R refresh, Delete remove (asks first), arrows move the
    /// selection, Escape closes the detail pane (not while typing or a menu is open).
    fn keys(&self, ctx: &egui::Context, actions: &mut Vec<Action>) {
        if self.dialogs.is_open() || self.files.prompt_is_open() || self.open_error.is_some() {
            return;
        }
        let typing = ctx.egui_wants_keyboard_input();
        // Escape in an open menu or combo box closes that first; in the filter box it only
        // lets go of the focus (egui drops the focus before this frame: ask about the last).
        let popup = egui::Popup::is_any_open(ctx);
        let in_filter = ctx.memory(|memory| memory.had_focus_last_frame(super::table::filter_id()));
        let pane_open = self.tab == Tab::Domains && self.state.table.cursor().is_some();
        let close = pane_open
            && !typing
            && !popup
            && !in_filter
            && ctx.input_mut(|input| input.consume_key(egui::Modifiers::NONE, egui::Key::Escape));
        let (find, rescan, refresh, delete, up, down, select_all) = ctx.input_mut(|input| {
            (
                input.consume_key(egui::Modifiers::COMMAND, egui::Key::F),
                input.consume_key(egui::Modifiers::NONE, egui::Key::F5),
                input.consume_key(egui::Modifiers::COMMAND, egui::Key::R),
                !typing && input.consume_key(egui::Modifiers::NONE, egui::Key::Delete),
                !typing && input.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
                !typing && input.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                !typing && input.consume_key(egui::Modifiers::COMMAND, egui::Key::A),
            )
        });
        if find {
            actions.push(Action::FocusFilter);
        }
        if rescan {
            actions.push(Action::Scan(self.state.current_scan_target()));
        }
        if refresh {
            actions.push(Action::Refresh);
        }
        let tab = if find { Tab::Domains } else { self.tab };
        if tab != Tab::Domains {
            return;
        }
        let table = &self.state.table;
        if close {
            actions.push(Action::CloseDetail);
        }
        if delete && table.selected_count() > 0 {
            actions.push(Action::OpenDialog(DialogRequest::ConfirmRemove {
                domains: table.selected_domains(),
                list: self.state.list.clone(),
            }));
        }
        if select_all {
            actions.push(Action::SelectAllVisible);
        }
        let delta = match (up, down) {
            (true, false) => -1,
            (false, true) => 1,
            _ => 0,
        };
        if delta != 0 {
            actions.push(Action::MoveCursor(delta));
        }
    }
}

/// Sends `command` to `monitor`, if there is one (none when the database could not be opened).
fn send(monitor: Option<&MonitorHandle>, command: Command) {
    if let Some(monitor) = monitor {
        monitor.send(command);
    }
}

/// The tab row.
fn tabs_ui(ui: &mut egui::Ui, current: Tab, actions: &mut Vec<Action>) {
    ui.horizontal(|ui| {
        for tab in Tab::ALL {
            if ui.selectable_label(current == tab, tab.title()).clicked() {
                actions.push(Action::SelectTab(tab));
            }
        }
    });
}

fn open_error_ui(ui: &mut egui::Ui, error: &str) {
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
