//! The background monitor: a tokio runtime on its own thread that runs scans (now and on a
//! schedule), applies the user's commands, and reports what happens as events.
//!
//! Owns: scheduling (interval + jitter, resume after restart from the last scheduled scan),
//! concurrent scans that never probe one domain twice at once, cancellation, settings changes,
//! watching the database for other processes' writes ([`STORE_POLL_INTERVAL`]), and the only
//! place where probe and store meet ([`scan`]).
//! Must not touch: the UI. Nothing of tokio, rusqlite, hickory or rustls crosses its API: the
//! UI sends [`Command`]s through a [`MonitorHandle`] and reads [`Event`]s; the monitor calls the
//! waker after each event (the app passes `ctx.request_repaint`).

pub mod lock;
pub mod notify;
pub mod scan;
pub mod view;
pub mod webhooks;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

pub use crate::import::{ColumnChoice, ImportPreview};
use crate::model::{DomainName, DomainNames};
use crate::probe::Prober;
pub use crate::report::{ExportFormat, ExportOptions, ExportSummary};
use crate::settings::Settings;
pub use crate::settings::{Overrides, SettingsError};
use crate::store::{
    RecordedScope, ScanCounts, ScanId, ScanScope, Store, StoreError, WebhookDelivery,
};
pub use scan::{DnsFailureCause, DnsFailures, ScanEnd, ScanError, ScanEvent, SharedStore};
pub use view::{DomainDetail, Edit, ImportReport, ViewSnapshot};

/// How often the monitor asks the database whether another process (a cron `scan`, the
/// command line) wrote to it: `PRAGMA data_version` on the monitor's own connection, a cheap
/// read that changes only for other connections' commits. Nothing more is read until it
/// changes; then the app reloads its view ([`Event::StoreChanged`]).
pub const STORE_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// How many store polls between two checks of the monitor's health (about a minute).
const HEALTH_CHECK_TICKS: u32 = 30;

/// What a scan covers, as the user asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanTarget {
    All,
    List(String),
    Domains(Vec<DomainName>),
}

/// What the UI (or a test) asks the monitor to do. Verbs.
#[derive(Clone, Debug)]
pub enum Command {
    ScanNow(ScanTarget),
    /// Cancels every running scan.
    CancelScans,
    PauseSchedule,
    ResumeSchedule,
    /// Validates, saves and uses new settings from the next scan on.
    SaveSettings(Box<Settings>),
    /// Reads what the app shows for a list (None: all domains), and the detail of `detail`
    /// in the same read transaction (so a row and its detail never disagree); answered by
    /// `ViewLoaded`.
    LoadView {
        list: Option<String>,
        detail: Option<DomainName>,
    },
    /// Reads one domain in full; answered by `DomainLoaded`.
    LoadDomain(DomainName),
    /// Changes domains or lists; answered by `Edited` (or `Failed`).
    Edit(Edit),
    /// Reads a CSV file and reports what importing it would do (nothing is stored; applying
    /// is an [`Edit::AddDomains`]); answered by `ImportProgress`… then `ImportPreviewed` or
    /// `ImportFailed`.
    PreviewImport {
        path: PathBuf,
        column: ColumnChoice,
        /// Where weights (mail volume) come from: `Some(Auto)` finds a volume header; None
        /// reads none.
        weight_column: Option<ColumnChoice>,
    },
    /// Writes a report file; answered by `Exported` or `ExportFailed`.
    Export {
        options: ExportOptions,
        path: PathBuf,
    },
    /// Posts a test message to each saved webhook; answered by `WebhooksDelivered` (or
    /// `Failed` when none is set).
    SendTestWebhook,
    /// Desktop notifications from now on carry a "Show" action (the app, which can show a
    /// domain): a click is answered by `NotificationClicked`.
    ClickableNotifications,
    Shutdown,
}

/// What happened. Past tense.
#[derive(Clone, Debug)]
pub enum Event {
    Scan(ScanEvent),
    /// A scan was asked for but nothing was left to do (empty list, or every domain is being
    /// scanned already).
    ScanSkipped {
        reason: String,
    },
    ScheduleChanged {
        paused: bool,
        next_scan_at: Option<OffsetDateTime>,
    },
    SettingsSaved(Box<Settings>),
    /// Settings were not saved: each problem in words (a bad DNS server address, a CA file
    /// that cannot be read...).
    SettingsRejected {
        problems: Vec<String>,
    },
    ViewLoaded(Box<ViewSnapshot>),
    DomainLoaded(Box<DomainDetail>),
    ImportProgress {
        path: PathBuf,
        done_bytes: u64,
        total_bytes: u64,
    },
    ImportPreviewed(Box<ImportReport>),
    /// The file could not be read; the message names the file (and line) and the problem.
    ImportFailed {
        path: PathBuf,
        message: String,
    },
    Exported {
        path: PathBuf,
        summary: ExportSummary,
    },
    ExportFailed {
        path: PathBuf,
        message: String,
    },
    /// An edit was applied; the message says what it did. Views should reload.
    Edited {
        message: String,
    },
    /// Another process committed to the database (a scan, an edit from the command line):
    /// views should reload. Polled every [`STORE_POLL_INTERVAL`].
    StoreChanged,
    /// The SOCKS proxy failed the check before a scan (unreachable, refused us): the scan did
    /// not start and nothing was written; the message says what the proxy did.
    ProxyUnusable(String),
    /// Scheduled scans of this database are run by another process (the app, or
    /// `starttls-monitor run`), which holds the scheduler lock; this one schedules nothing and
    /// asks again every [`STORE_POLL_INTERVAL`].
    ScheduledElsewhere {
        /// The other process's id (0 when unknown).
        pid: u32,
    },
    /// This process holds the scheduler lock and runs scheduled scans (said once it has it).
    SchedulingHere {
        /// The pid of a dead process whose lock was taken over.
        took_over_from: Option<u32>,
    },
    /// Webhook deliveries ended (after a scan with change events, or a test message with
    /// `scan` None); each is in the store's delivery log too. A failed one failed nothing else.
    WebhooksDelivered {
        scan: Option<ScanId>,
        deliveries: Vec<WebhookDelivery>,
    },
    /// Desktop notifications were shown (this process claimed their events).
    Notified(Vec<notify::DesktopNotification>),
    /// The user clicked a desktop notification about this domain (its first).
    NotificationClicked(DomainName),
    /// Something failed; the message names what and where.
    Failed(String),
    Stopped,
}

/// Sends commands to a running monitor from any thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct CommandSender(mpsc::UnboundedSender<Command>);

impl CommandSender {
    /// Sends a command; never blocks (a stopped monitor drops it).
    pub fn send(&self, command: Command) {
        let _ignored = self.0.send(command);
    }
}

/// Wakes whoever reads events (the app passes `ctx.request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The UI's side of the monitor.
pub struct MonitorHandle {
    commands: mpsc::UnboundedSender<Command>,
    events: std_mpsc::Receiver<Event>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MonitorHandle {
    /// Opens the store at `db_path` (errors come back here, before any thread starts) and
    /// starts the monitor thread. `schedule`: run scheduled scans (the app), or only on command.
    pub fn start(
        db_path: &Path,
        overrides: Overrides,
        schedule: bool,
        waker: Waker,
    ) -> Result<Self, StoreError> {
        let store = Store::open(db_path)?;
        Ok(Self::spawn(store, overrides, schedule, true, waker))
    }

    /// Starts the monitor thread on an already open store (tests: it shows no desktop
    /// notifications; [`MonitorHandle::start`], which the app and `run` use, does where a
    /// session bus answers).
    pub fn start_with_store(
        store: Store,
        overrides: Overrides,
        schedule: bool,
        waker: Waker,
    ) -> Self {
        Self::spawn(store, overrides, schedule, false, waker)
    }

    fn spawn(
        store: Store,
        overrides: Overrides,
        schedule: bool,
        notify: bool,
        waker: Waker,
    ) -> Self {
        let (command_sender, command_receiver) = mpsc::unbounded_channel();
        let (event_sender, event_receiver) = std_mpsc::channel();
        let emitter = Emitter {
            sender: event_sender,
            waker,
        };
        let thread = std::thread::Builder::new()
            .name("starttls-monitor".to_string())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .thread_name("monitor-worker")
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        emitter.emit(Event::Failed(format!(
                            "could not start the monitor's runtime: {error}"
                        )));
                        emitter.emit(Event::Stopped);
                        return;
                    }
                };
                let db_path = store.path().to_path_buf();
                let monitor = Monitor {
                    db_path,
                    store: Arc::new(Mutex::new(store)),
                    overrides,
                    schedule,
                    notify,
                    clickable: Arc::new(AtomicBool::new(false)),
                    emitter,
                    active_domains: Arc::new(Mutex::new(ActiveScans::default())),
                };
                runtime.block_on(monitor.run(command_receiver));
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .ok();
        Self {
            commands: command_sender,
            events: event_receiver,
            thread,
        }
    }

    /// A sender of commands that may go to another thread (a signal handler's, say).
    pub fn command_sender(&self) -> CommandSender {
        CommandSender(self.commands.clone())
    }

    /// Sends a command; never blocks.
    pub fn send(&self, command: Command) {
        // A closed channel means the monitor has stopped; Event::Stopped said so already.
        let _ignored = self.commands.send(command);
    }

    /// The next event, if one is waiting; never blocks.
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// Waits up to `limit` for the next event (tests and the command line; never the UI).
    pub fn recv_timeout(&self, limit: Duration) -> Option<Event> {
        self.events.recv_timeout(limit).ok()
    }

    /// Stops the monitor: running scans are cancelled and closed in the store.
    pub fn shutdown(mut self) {
        self.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ignored = thread.join();
        }
    }
}

impl Drop for MonitorHandle {
    fn drop(&mut self) {
        let _ignored = self.commands.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ignored = thread.join();
        }
    }
}

#[derive(Clone)]
struct Emitter {
    sender: std_mpsc::Sender<Event>,
    waker: Waker,
}

impl Emitter {
    fn emit(&self, event: Event) {
        if self.sender.send(event).is_ok() {
            (self.waker)();
        }
    }
}

struct Monitor {
    /// The database file (`:memory:` for a private in-memory store: no lock is needed).
    db_path: PathBuf,
    store: SharedStore,
    overrides: Overrides,
    schedule: bool,
    /// Show desktop notifications (when a session bus answers).
    notify: bool,
    /// Notifications carry a "Show" action ([`Command::ClickableNotifications`]).
    clickable: Arc<AtomicBool>,
    emitter: Emitter,
    /// Domains some running scan is responsible for.
    active_domains: Arc<Mutex<ActiveScans>>,
}

/// The store id of each running scan task, once it has one.
type RunningScans = HashMap<tokio::task::Id, Arc<Mutex<Option<ScanId>>>>;

impl Monitor {
    async fn run(self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut scans: JoinSet<()> = JoinSet::new();
        let mut running: RunningScans = HashMap::new();
        let mut settings = match scan::lock(&self.store).and_then(|store| store.settings()) {
            Ok(settings) => settings,
            Err(error) => {
                self.emitter.emit(Event::Failed(error.to_string()));
                Settings::default()
            }
        };
        let mut scheduler = SchedulerState::default();
        self.acquire_scheduler(&mut scheduler);
        // Desktop notifications only where a session bus answers (not under cron).
        let desktop = self.notify && notify::desktop_available().await;
        let notifying = Arc::new(AtomicBool::new(false));
        let health_shown = Arc::new(Mutex::new(HashSet::new()));
        let mut ticks: u32 = 0;
        let mut next_scan_at = self.next_scheduled_scan(&settings);
        self.emit_schedule(&settings, next_scan_at, &scheduler);
        // The version seen before any view is read: a commit after it is always noticed.
        let watch = Arc::new(StoreWatch::new(
            scan::lock(&self.store)
                .and_then(|store| store.data_version())
                .ok(),
        ));
        let mut poll = tokio::time::interval_at(
            tokio::time::Instant::now() + STORE_POLL_INTERVAL,
            STORE_POLL_INTERVAL,
        );
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (settings_seen, mut stored_settings) = mpsc::unbounded_channel::<Settings>();
        loop {
            let scheduling = scheduler.scheduling();
            let sleep_for = match (scheduling && !settings.paused, next_scan_at) {
                (true, Some(at)) => {
                    let seconds = (at - OffsetDateTime::now_utc()).as_seconds_f64().max(0.0);
                    Duration::from_secs_f64(seconds.min(86_400.0 * 366.0))
                }
                _ => Duration::from_secs(86_400 * 366),
            };
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else { break };
                    match command {
                        Command::ScanNow(target) => {
                            let before = running.len();
                            self.start_scan(&mut scans, &mut running, target, &settings);
                            // The user's first scan starts the schedule: the next one is an
                            // interval away.
                            if next_scan_at.is_none() && running.len() > before {
                                next_scan_at =
                                    Some(OffsetDateTime::now_utc() + jittered_interval(&settings));
                                self.emit_schedule(&settings, next_scan_at, &scheduler);
                            }
                        }
                        Command::CancelScans => {
                            scans.abort_all();
                        }
                        Command::PauseSchedule | Command::ResumeSchedule => {
                            let mut changed = settings.clone();
                            changed.paused = matches!(command, Command::PauseSchedule);
                            if self.save_settings(&changed) {
                                settings = changed;
                                self.emit_schedule(&settings, next_scan_at, &scheduler);
                            }
                        }
                        Command::SaveSettings(changed) => {
                            let problems = changed.usable_problems();
                            if !problems.is_empty() {
                                self.emitter.emit(Event::SettingsRejected { problems });
                            } else if self.save_settings(&changed) {
                                let interval_changed =
                                    changed.scan_interval_hours != settings.scan_interval_hours;
                                settings = *changed;
                                if interval_changed {
                                    next_scan_at = self.next_scheduled_scan(&settings);
                                }
                                self.emitter.emit(Event::SettingsSaved(Box::new(settings.clone())));
                                self.emit_schedule(&settings, next_scan_at, &scheduler);
                            }
                        }
                        Command::LoadView { list, detail } => self.spawn_read(move |store| {
                            view::load_view_with_detail(store, list.as_deref(), detail.as_ref())
                                .map(|snapshot| Event::ViewLoaded(Box::new(snapshot)))
                        }),
                        Command::LoadDomain(domain) => self.spawn_read(move |store| {
                            view::load_domain(store, &domain)
                                .map(|detail| Event::DomainLoaded(Box::new(detail)))
                        }),
                        Command::Edit(edit) => self.spawn_read(move |store| {
                            view::apply_edit(store, &edit).map(|message| Event::Edited { message })
                        }),
                        Command::PreviewImport {
                            path,
                            column,
                            weight_column,
                        } => self.preview_import(path, column, weight_column),
                        Command::Export { options, path } => self.export(options, path),
                        Command::SendTestWebhook => self.send_test_webhook(&settings),
                        Command::ClickableNotifications => {
                            self.clickable.store(true, Ordering::SeqCst);
                        }
                        Command::Shutdown => break,
                    }
                }
                _ = tokio::time::sleep(sleep_for), if scheduling && !settings.paused && next_scan_at.is_some() => {
                    self.start_scan(&mut scans, &mut running, ScanTarget::All, &settings);
                    next_scan_at = Some(OffsetDateTime::now_utc() + jittered_interval(&settings));
                    self.emit_schedule(&settings, next_scan_at, &scheduler);
                }
                Some(stored) = stored_settings.recv() => {
                    // Saved by another process (`settings set`): used from the next scan on.
                    if stored != settings {
                        let interval_changed =
                            stored.scan_interval_hours != settings.scan_interval_hours;
                        settings = stored;
                        if interval_changed {
                            next_scan_at = self.next_scheduled_scan(&settings);
                        }
                        self.emit_schedule(&settings, next_scan_at, &scheduler);
                    }
                }
                _ = poll.tick() => {
                    self.poll_store(&watch, &settings_seen);
                    if desktop {
                        // Health at the first poll, then every HEALTH_CHECK_TICKS polls, by the
                        // scheduling process only.
                        ticks = ticks.wrapping_add(1);
                        let health = scheduler.scheduling() && ticks % HEALTH_CHECK_TICKS == 1;
                        self.notify_pending(&settings, &notifying, health.then(|| health_shown.clone()));
                    }
                    if self.schedule && !scheduler.scheduling() {
                        self.acquire_scheduler(&mut scheduler);
                        if scheduler.scheduling() {
                            next_scan_at = self.next_scheduled_scan(&settings);
                            self.emit_schedule(&settings, next_scan_at, &scheduler);
                        }
                    } else {
                        scheduler.beat();
                    }
                }
                Some(joined) = scans.join_next_with_id(), if !scans.is_empty() => {
                    let task = match &joined {
                        Ok((task, ())) => *task,
                        Err(error) => error.id(),
                    };
                    self.close_if_cut_short(running.remove(&task));
                }
            }
        }
        scans.abort_all();
        while let Some(joined) = scans.join_next_with_id().await {
            let task = match &joined {
                Ok((task, ())) => *task,
                Err(error) => error.id(),
            };
            self.close_if_cut_short(running.remove(&task));
        }
        self.emitter.emit(Event::Stopped);
    }

    /// A scan task that ended without closing its scan (aborted) is closed as cancelled.
    fn close_if_cut_short(&self, entry: Option<Arc<Mutex<Option<ScanId>>>>) {
        let Some(entry) = entry else {
            return;
        };
        let Some(scan) = entry.lock().ok().and_then(|mut slot| slot.take()) else {
            return;
        };
        match scan::cancel_scan(&self.store, scan) {
            Ok(()) => self.emitter.emit(Event::Scan(ScanEvent::Finished {
                scan,
                scope: String::new(),
                end: ScanEnd::Cancelled,
                counts: ScanCounts::default(),
                elapsed: Duration::ZERO,
            })),
            Err(error) => self.emitter.emit(Event::Failed(error.to_string())),
        }
    }

    /// Asks the store, on the blocking pool, whether another process committed since the last
    /// look, and says so when it did. One look at a time: a look still waiting for the store
    /// (a long export holds it) is not doubled.
    /// When something changed, the saved settings are read again and handed to the loop on
    /// `settings_seen` (`settings set` from the command line reaches a running `run` or app).
    fn poll_store(&self, watch: &Arc<StoreWatch>, settings_seen: &mpsc::UnboundedSender<Settings>) {
        if watch.looking.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.store.clone();
        let emitter = self.emitter.clone();
        let watch = watch.clone();
        let settings_seen = settings_seen.clone();
        tokio::task::spawn_blocking(move || {
            let version = scan::lock(&store).and_then(|store| store.data_version());
            if let Ok(version) = version
                && watch.changed(version)
            {
                if let Ok(settings) = scan::lock(&store).and_then(|store| store.settings()) {
                    let _ignored = settings_seen.send(settings);
                }
                emitter.emit(Event::StoreChanged);
            }
            watch.looking.store(false, Ordering::Release);
        });
    }

    /// Runs store work on the blocking pool (never on the scheduler's thread) and emits its
    /// answer, or what went wrong.
    fn spawn_read(&self, work: impl FnOnce(&Store) -> Result<Event, StoreError> + Send + 'static) {
        let store = self.store.clone();
        let emitter = self.emitter.clone();
        tokio::task::spawn_blocking(move || {
            let event = scan::lock(&store)
                .and_then(|store| work(&store))
                .unwrap_or_else(|error| Event::Failed(error.to_string()));
            emitter.emit(event);
        });
    }

    /// Reads a CSV file on the blocking pool and reports what importing it would do.
    fn preview_import(
        &self,
        path: PathBuf,
        column: ColumnChoice,
        weight_column: Option<ColumnChoice>,
    ) {
        let store = self.store.clone();
        let emitter = self.emitter.clone();
        tokio::task::spawn_blocking(move || {
            let options = crate::import::ImportOptions {
                column,
                weight_column,
            };
            let mut last_reported = std::time::Instant::now();
            let read = crate::import::read_file(&path, &options, &mut |done, total| {
                if last_reported.elapsed() >= Duration::from_millis(100) {
                    last_reported = std::time::Instant::now();
                    emitter.emit(Event::ImportProgress {
                        path: path.clone(),
                        done_bytes: done,
                        total_bytes: total,
                    });
                }
            });
            let event = match read {
                Ok(preview) => {
                    match scan::lock(&store).and_then(|store| store.count_present(&preview.domains))
                    {
                        Ok(already_present) => Event::ImportPreviewed(Box::new(ImportReport {
                            path,
                            preview,
                            already_present,
                        })),
                        Err(error) => Event::ImportFailed {
                            path,
                            message: error.to_string(),
                        },
                    }
                }
                Err(error) => Event::ImportFailed {
                    path,
                    message: error.to_string(),
                },
            };
            emitter.emit(event);
        });
    }

    /// Writes a report file on the blocking pool.
    fn export(&self, options: ExportOptions, path: PathBuf) {
        let store = self.store.clone();
        let emitter = self.emitter.clone();
        tokio::task::spawn_blocking(move || {
            let written = scan::lock(&store)
                .map_err(|error| error.to_string())
                .and_then(|store| {
                    crate::report::export_to_file(&store, &options, &path)
                        .map_err(|error| error.to_string())
                });
            emitter.emit(match written {
                Ok(summary) => Event::Exported { path, summary },
                Err(message) => Event::ExportFailed { path, message },
            });
        });
    }

    fn save_settings(&self, settings: &Settings) -> bool {
        match scan::lock(&self.store).and_then(|store| store.save_settings(settings)) {
            Ok(()) => true,
            Err(error) => {
                self.emitter.emit(Event::Failed(error.to_string()));
                false
            }
        }
    }

    fn emit_schedule(
        &self,
        settings: &Settings,
        next_scan_at: Option<OffsetDateTime>,
        scheduler: &SchedulerState,
    ) {
        let scheduling = scheduler.scheduling();
        self.emitter.emit(Event::ScheduleChanged {
            paused: settings.paused || !scheduling,
            next_scan_at: if scheduling && !settings.paused {
                next_scan_at
            } else {
                None
            },
        });
    }

    /// Takes the scheduler lock of the database when this monitor schedules and nobody else
    /// holds it; says who does otherwise (once per change).
    fn acquire_scheduler(&self, scheduler: &mut SchedulerState) {
        if !self.schedule || scheduler.scheduling() {
            return;
        }
        if self.db_path == Path::new(":memory:") {
            *scheduler = SchedulerState::Private;
            return;
        }
        match lock::SchedulerLock::try_acquire(&self.db_path) {
            Ok(Ok((held, took_over_from))) => {
                *scheduler = SchedulerState::Holding {
                    lock: held,
                    last_beat: std::time::Instant::now(),
                };
                self.emitter.emit(Event::SchedulingHere { took_over_from });
            }
            Ok(Err(lock::HeldElsewhere { pid })) => {
                if *scheduler != (SchedulerState::Elsewhere { pid }) {
                    *scheduler = SchedulerState::Elsewhere { pid };
                    self.emitter.emit(Event::ScheduledElsewhere { pid });
                }
            }
            Err(error) => {
                if *scheduler != SchedulerState::Unavailable {
                    *scheduler = SchedulerState::Unavailable;
                    self.emitter.emit(Event::Failed(format!(
                        "scheduled scans are off: the scheduler lock {} cannot be used: {error}",
                        lock::SchedulerLock::path_for(&self.db_path).display()
                    )));
                }
            }
        }
    }

    /// When the next scheduled scan is due: the last full scan's start plus the interval (with
    /// jitter); without a full scan, the latest scan's start plus the interval. None while no
    /// scan was ever run: the schedule waits for the user's first scan (while they are still
    /// adding domains), then follows the interval.
    fn next_scheduled_scan(&self, settings: &Settings) -> Option<OffsetDateTime> {
        let store = scan::lock(&self.store).ok()?;
        let scans = store.scans(200).ok()?;
        let base = scans
            .iter()
            .find(|scan| scan.scope == RecordedScope::All)
            .or_else(|| scans.first())?;
        Some(base.started_at + jittered_interval(settings))
    }

    fn start_scan(
        &self,
        scans: &mut JoinSet<()>,
        running: &mut RunningScans,
        target: ScanTarget,
        settings: &Settings,
    ) {
        let (scope, domains) = match self.resolve_target(&target) {
            Ok(resolved) => resolved,
            Err(error) => {
                self.emitter.emit(Event::Failed(error.to_string()));
                return;
            }
        };
        // Never two scans of one domain at once: leave domains already being scanned out.
        let claimed = {
            let Ok(mut active) = self.active_domains.lock() else {
                return;
            };
            active.claim(&domains)
        };
        let Some((claim, domains)) = claimed else {
            self.emitter.emit(Event::ScanSkipped {
                reason: format!(
                    "nothing to scan for {}: no domains, or all are being scanned already",
                    scope.describe_for_people()
                ),
            });
            return;
        };
        let config = match settings.probe_config(&self.overrides) {
            Ok(config) => config,
            Err(error) => {
                self.release(claim);
                self.emitter.emit(Event::Failed(error.to_string()));
                return;
            }
        };
        let prober = match Prober::new(config) {
            Ok(prober) => prober,
            Err(error) => {
                self.release(claim);
                self.emitter.emit(Event::Failed(error.to_string()));
                return;
            }
        };
        let entry: Arc<Mutex<Option<ScanId>>> = Arc::new(Mutex::new(None));
        let task_entry = entry.clone();
        let store = self.store.clone();
        let emitter = self.emitter.clone();
        let settings = settings.clone();
        let active = self.active_domains.clone();
        let task = scans.spawn(async move {
            let entry = task_entry;
            let _release = ReleaseOnDrop { active, claim };
            let result = scan::run_scan(&store, &prober, scope, domains, &settings, |event| {
                if let ScanEvent::Started { scan, .. } = &event
                    && let Ok(mut slot) = entry.lock()
                {
                    *slot = Some(*scan);
                }
                emitter.emit(Event::Scan(event));
            })
            .await;
            let scan_id = entry.lock().ok().and_then(|slot| *slot);
            match result {
                Ok(_) => {
                    // Posted beside the next scans: a slow webhook holds nothing up.
                    if let Some(scan_id) = scan_id
                        && !settings.webhook_urls().is_empty()
                    {
                        let (store, emitter) = (store.clone(), emitter.clone());
                        let client = prober.https().clone();
                        tokio::spawn(async move {
                            let policy = webhooks::WebhookPolicy::default();
                            match webhooks::post_scan(&store, &client, &settings, scan_id, &policy)
                                .await
                            {
                                Ok(deliveries) if deliveries.is_empty() => {}
                                Ok(deliveries) => emitter.emit(Event::WebhooksDelivered {
                                    scan: Some(scan_id),
                                    deliveries,
                                }),
                                Err(error) => emitter.emit(Event::Failed(format!(
                                    "webhooks for scan {}: {error}",
                                    scan_id.0
                                ))),
                            }
                        });
                    }
                }
                Err(error @ scan::ScanError::Proxy(_)) => {
                    emitter.emit(Event::ProxyUnusable(error.to_string()));
                }
                Err(scan::ScanError::Store(error)) => {
                    emitter.emit(Event::Failed(error.to_string()));
                }
            }
            // Closed normally: nothing for the loop to cancel.
            if let Ok(mut slot) = entry.lock() {
                *slot = None;
            }
        });
        running.insert(task.id(), entry);
    }

    /// Claims and shows the pending notifications in a task of their own (one at a time).
    ///
    /// With `health` (the problems showing), the monitor's health is checked too.
    fn notify_pending(
        &self,
        settings: &Settings,
        notifying: &Arc<AtomicBool>,
        health: Option<Arc<Mutex<HashSet<u8>>>>,
    ) {
        if notifying.swap(true, Ordering::SeqCst) {
            return;
        }
        let (store, emitter, settings, notifying) = (
            self.store.clone(),
            self.emitter.clone(),
            settings.clone(),
            notifying.clone(),
        );
        let clickable = self.clickable.load(Ordering::SeqCst);
        tokio::spawn(async move {
            let clicks_to = emitter.clone();
            let make_click = move || -> notify::OnClick {
                let emitter = clicks_to.clone();
                Box::new(move |domain: String| {
                    if let Ok(domain) = DomainName::parse(&domain) {
                        emitter.emit(Event::NotificationClicked(domain));
                    }
                })
            };
            let clicks: Option<&(dyn Fn() -> notify::OnClick + Send + Sync)> =
                clickable.then_some(&make_click);
            let mut shown = match notify::notify_pending(&store, &settings, clicks).await {
                Ok(shown) => shown,
                Err(error) => {
                    tracing::warn!("notifications: {error}");
                    Vec::new()
                }
            };
            if let Some(health) = health {
                match notify::check_health(&store, &settings, &health).await {
                    Ok(problems) => shown.extend(problems),
                    Err(error) => tracing::warn!("monitor health: {error}"),
                }
            }
            if !shown.is_empty() {
                emitter.emit(Event::Notified(shown));
            }
            notifying.store(false, Ordering::SeqCst);
        });
    }

    /// "Send test": a test message to each saved webhook, in its own task.
    fn send_test_webhook(&self, settings: &Settings) {
        if settings.webhook_urls().is_empty() {
            self.emitter.emit(Event::Failed(
                "no webhook is set: add an https:// URL and save first".to_string(),
            ));
            return;
        }
        let prober = match settings
            .probe_config(&self.overrides)
            .map_err(|error| error.to_string())
            .and_then(|config| Prober::new(config).map_err(|error| error.to_string()))
        {
            Ok(prober) => prober,
            Err(error) => {
                self.emitter.emit(Event::Failed(error));
                return;
            }
        };
        let (store, emitter, settings) =
            (self.store.clone(), self.emitter.clone(), settings.clone());
        tokio::spawn(async move {
            let policy = webhooks::WebhookPolicy::default();
            match webhooks::send_test(&store, prober.https(), &settings, &policy).await {
                Ok(deliveries) => emitter.emit(Event::WebhooksDelivered {
                    scan: None,
                    deliveries,
                }),
                Err(error) => emitter.emit(Event::Failed(format!("webhook test: {error}"))),
            }
        });
    }

    fn release(&self, claim: u64) {
        if let Ok(mut active) = self.active_domains.lock() {
            active.release(claim);
        }
    }

    fn resolve_target(&self, target: &ScanTarget) -> Result<(ScanScope, DomainNames), StoreError> {
        let store = scan::lock(&self.store)?;
        Ok(match target {
            ScanTarget::All => (ScanScope::All, store.domain_names(None)?),
            ScanTarget::List(name) => {
                let list = store.require_list(name)?;
                (
                    ScanScope::List(name.clone()),
                    store.domain_names(Some(list))?,
                )
            }
            ScanTarget::Domains(domains) => (
                ScanScope::Domains(domains.clone()),
                domains.iter().cloned().collect(),
            ),
        })
    }
}

/// Whether this monitor runs the schedule of its database.
#[derive(Debug, Default)]
enum SchedulerState {
    /// Not yet asked, or not scheduling at all.
    #[default]
    Idle,
    /// Holds the scheduler lock.
    Holding {
        lock: lock::SchedulerLock,
        last_beat: std::time::Instant,
    },
    /// A private in-memory database: nobody else can schedule it.
    Private,
    /// Another process holds the lock.
    Elsewhere { pid: u32 },
    /// The lock file cannot be used (said once).
    Unavailable,
}

impl PartialEq for SchedulerState {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Elsewhere { pid }, Self::Elsewhere { pid: other }) => pid == other,
            (Self::Holding { .. }, Self::Holding { .. }) => true,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl SchedulerState {
    /// Whether scheduled scans run here.
    fn scheduling(&self) -> bool {
        matches!(self, Self::Holding { .. } | Self::Private)
    }

    /// Rewrites the heartbeat when one is due.
    fn beat(&mut self) {
        if let Self::Holding { lock, last_beat } = self
            && last_beat.elapsed() >= lock::HEARTBEAT_INTERVAL
        {
            *last_beat = std::time::Instant::now();
            if let Err(error) = lock.heartbeat() {
                tracing::warn!("scheduler heartbeat not written: {error}");
            }
        }
    }
}

/// The database version the monitor last saw (SQLite's `data_version` on its connection).
struct StoreWatch {
    /// `NO_VERSION` until a version was read.
    seen: AtomicI64,
    /// A look is under way.
    looking: AtomicBool,
}

impl StoreWatch {
    const NO_VERSION: i64 = i64::MIN;

    fn new(seen: Option<i64>) -> Self {
        Self {
            seen: AtomicI64::new(seen.unwrap_or(Self::NO_VERSION)),
            looking: AtomicBool::new(false),
        }
    }

    /// Records `version`; true when it differs from a version seen before (the first version
    /// read is only a baseline).
    fn changed(&self, version: i64) -> bool {
        let before = self.seen.swap(version, Ordering::AcqRel);
        before != Self::NO_VERSION && before != version
    }
}

/// The domains of the running scans: each scan's list, sorted and compact, shared with the
/// scan itself (`run_scan` probes from the same list), so a scan of a million domains holds
/// its names once, not again in a set and a copy to release.
#[derive(Debug, Default)]
struct ActiveScans {
    next_claim: u64,
    scans: Vec<(u64, DomainNames)>,
}

impl ActiveScans {
    fn is_active(&self, domain: &str) -> bool {
        self.scans
            .iter()
            .any(|(_, domains)| domains.sorted_contains(domain))
    }

    /// Claims the `domains` no running scan has (each once), for a new scan: its claim and
    /// its list, by name. None when every one is taken (or there are none).
    fn claim(&mut self, domains: &DomainNames) -> Option<(u64, DomainNames)> {
        let free = domains.sorted_unique(|domain| !self.is_active(domain));
        if free.is_empty() {
            return None;
        }
        self.next_claim += 1;
        self.scans.push((self.next_claim, free.clone()));
        Some((self.next_claim, free))
    }

    fn release(&mut self, claim: u64) {
        self.scans.retain(|(held, _)| *held != claim);
    }
}

/// Frees a scan's domains for other scans when its task ends, however it ends.
struct ReleaseOnDrop {
    active: Arc<Mutex<ActiveScans>>,
    claim: u64,
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        if let Ok(mut active) = self.active.lock() {
            active.release(self.claim);
        }
    }
}

/// The schedule interval with ±5 % jitter, so many monitors don't hit servers in lockstep.
fn jittered_interval(settings: &Settings) -> Duration {
    let base = settings.scan_interval();
    let jitter = (fastrand::f64() - 0.5) * 0.1;
    base.mul_f64(1.0 + jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_is_claimed_by_one_running_scan_at_a_time() {
        let names = |names: &[&str]| -> DomainNames {
            names
                .iter()
                .map(|name| DomainName::parse(name).expect("valid"))
                .collect()
        };
        let mut active = ActiveScans::default();
        let (first, listed) = active
            .claim(&names(&["c.example", "a.example", "c.example"]))
            .expect("free");
        assert_eq!(
            listed,
            names(&["a.example", "c.example"]),
            "by name, once each"
        );
        let (second, listed) = active
            .claim(&names(&["b.example", "c.example"]))
            .expect("b.example is free");
        assert_eq!(listed, names(&["b.example"]));
        assert!(active.claim(&names(&["a.example", "b.example"])).is_none());
        active.release(first);
        let (_, listed) = active
            .claim(&names(&["a.example", "b.example"]))
            .expect("a.example is free again");
        assert_eq!(listed, names(&["a.example"]));
        active.release(second);
        assert!(!active.is_active("b.example"));
        assert!(active.claim(&DomainNames::default()).is_none());
    }

    #[test]
    fn the_watch_takes_a_baseline_then_reports_each_change_once() {
        let watch = StoreWatch::new(None);
        assert!(!watch.changed(4), "the first version read is a baseline");
        assert!(!watch.changed(4));
        assert!(watch.changed(5));
        assert!(!watch.changed(5), "said once");
        let watch = StoreWatch::new(Some(7));
        assert!(!watch.changed(7));
        assert!(watch.changed(9));
    }
}
