//! The UI state every panel reads — the latest snapshot, the domains table, the domain detail,
//! running scans, the schedule, the banners and the status line — and the reducer: the one
//! place where events from the monitor change it.
//!
//! Owns: applying [`Event`]s ([`UiState::apply_event`]) and asking for fresh snapshots without
//! piling requests up. Must not touch: drawing, panels' own state (answers meant for a panel
//! are handed back as [`Reaction`]s for the app to route), the monitor itself (commands are
//! handed back too) — so all of it runs, and is tested, without a window.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::table_model::{SortOrder, TableModel};
use crate::monitor::view::{self, DomainDetail, ImportReport, ViewSnapshot};
use crate::monitor::{Command, DnsFailures, Event, ScanEnd, ScanEvent, ScanTarget};
use crate::settings::Settings;

/// How often rows updated in place during a scan are re-filtered and re-sorted.
const TABLE_REBUILD_INTERVAL: Duration = Duration::from_millis(250);

/// A scan that is running, as the top bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningScan {
    pub scope: String,
    pub done: usize,
    pub total: usize,
    pub eta: Option<Duration>,
}

/// What the monitor said about a DNS server that failed every lookup of a scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsTrouble {
    /// Distinct domains looked up when it was said.
    pub lookups: usize,
    /// Who was asked, for people ("the DNS server 127.0.0.1:5353").
    pub resolver: String,
    /// How the lookups failed (refused, servfail, timed out).
    pub failures: DnsFailures,
}

/// The status line: the last thing that happened.
#[derive(Clone, Debug)]
pub struct Status {
    pub text: String,
    /// Shown in red with a dismiss button.
    pub error: bool,
    pub at: OffsetDateTime,
}

/// What applying an event asks of the rest of the app.
#[derive(Clone, Debug)]
pub enum Reaction {
    /// A command for the monitor (a fresh snapshot, a domain's detail).
    Send(Command),
    /// An answer for the Settings tab.
    Settings(SettingsNews),
    /// An answer for the open dialog (import preview, export).
    Dialog(DialogNews),
    /// A desktop notification about this domain was clicked: show it.
    ShowDomain(crate::model::DomainName),
}

/// What the monitor said about settings.
#[derive(Clone, Debug, PartialEq)]
pub enum SettingsNews {
    /// A snapshot arrived with these stored settings (the form takes them unless it is being
    /// edited).
    Loaded(Settings),
    /// The settings were saved.
    Saved(Settings),
    /// The settings were not saved: each problem in words.
    Rejected(Vec<String>),
}

/// What the monitor said about an import preview or an export.
#[derive(Clone, Debug)]
pub enum DialogNews {
    ImportProgress {
        path: PathBuf,
        done_bytes: u64,
        total_bytes: u64,
    },
    ImportPreviewed(Box<ImportReport>),
    /// Shown in the import dialog of `path`, or on the status line when it is gone.
    ImportFailed {
        path: PathBuf,
        message: String,
    },
    /// The report was written (the status line says where).
    Exported,
    /// Shown in the export dialog, or on the status line when it is gone.
    ExportFailed {
        message: String,
    },
}

/// What every panel reads; changed only by the reducer and by the app applying actions.
pub struct UiState {
    /// The selected list (None: all domains); saved across restarts.
    pub list: Option<String>,
    /// The last snapshot, without its rows (they live in `table`).
    pub view: Option<ViewSnapshot>,
    pub table: TableModel,
    /// The detail of the cursor row, once loaded.
    pub detail: Option<DomainDetail>,
    /// Running scans by scan id.
    pub scans: BTreeMap<i64, RunningScan>,
    pub schedule_paused: bool,
    pub next_scan_at: Option<OffsetDateTime>,
    /// Connection attempts when the monitor said port 25 looks blocked.
    pub port_blocked: Option<usize>,
    /// What the monitor said when the DNS server failed every lookup of a scan.
    pub dns_failing: Option<DnsTrouble>,
    /// The resolver the monitor found passing no DNSSEC data (DANE is `unknown`), for the
    /// banner; None when it passes DNSSEC data or no scan said otherwise.
    pub dnssec_unavailable: Option<String>,
    /// The SOCKS proxy could not be used (refused before a scan, or lost during one), in
    /// words for the banner.
    pub proxy_trouble: Option<String>,
    /// Another process (pid) runs the scheduled scans of this database: the app schedules
    /// nothing and says so.
    pub scheduled_elsewhere: Option<u32>,
    pub status: Option<Status>,
    view_in_flight: bool,
    view_dirty: bool,
    last_table_rebuild: Instant,
}

impl UiState {
    /// The state at start: `list` selected, the table sorted by `sort`, nothing loaded.
    pub fn new(list: Option<String>, sort: SortOrder) -> Self {
        let mut table = TableModel::default();
        table.set_sort(sort);
        Self {
            list,
            view: None,
            table,
            detail: None,
            scans: BTreeMap::new(),
            schedule_paused: false,
            next_scan_at: None,
            port_blocked: None,
            dns_failing: None,
            dnssec_unavailable: None,
            proxy_trouble: None,
            scheduled_elsewhere: None,
            status: None,
            view_in_flight: false,
            view_dirty: false,
            last_table_rebuild: Instant::now(),
        }
    }

    /// Whether a snapshot was asked for and has not arrived yet.
    pub fn view_in_flight(&self) -> bool {
        self.view_in_flight
    }

    /// Asks for a fresh snapshot of the selected list, with the detail of the cursor row read
    /// in the same transaction (so row and detail never show two states of one domain); while
    /// one is in flight, the request is remembered and made when it arrives (None then).
    pub fn request_view(&mut self) -> Option<Command> {
        if self.view_in_flight {
            self.view_dirty = true;
            return None;
        }
        self.view_in_flight = true;
        self.view_dirty = false;
        Some(Command::LoadView {
            list: self.list.clone(),
            detail: self.table.cursor().cloned(),
        })
    }

    /// Whether no domain has ever had a testable result here (a first launch, or a network
    /// that never let a probe through): the banners then say how to try the app anyway.
    pub fn nothing_ever_testable(&self) -> bool {
        self.view.as_ref().is_some_and(|view| {
            view.lists
                .first()
                .and_then(|all| all.latest.as_ref())
                .is_none_or(|counts| counts.testable == 0)
        })
    }

    /// Switches to another list; the snapshot to ask for, if the list changed.
    pub fn select_list(&mut self, list: Option<String>) -> Option<Command> {
        if self.list == list {
            return None;
        }
        self.list = list;
        self.request_view()
    }

    /// The scan target F5 and "Scan this list" mean: the selected list, or everything.
    pub fn current_scan_target(&self) -> ScanTarget {
        match &self.list {
            Some(name) => ScanTarget::List(name.clone()),
            None => ScanTarget::All,
        }
    }

    /// Done and total of the running scans, when any runs.
    pub fn scan_progress(&self) -> Option<(usize, usize)> {
        (!self.scans.is_empty()).then(|| {
            self.scans.values().fold((0, 0), |(done, total), scan| {
                (done + scan.done, total + scan.total)
            })
        })
    }

    /// Whether the selected list is shown and the database holds no domain at all (the
    /// Domains tab then welcomes).
    pub fn is_empty(&self) -> bool {
        self.view
            .as_ref()
            .is_some_and(|view| view.lists.first().is_some_and(|all| all.domain_count == 0))
    }

    /// Names of the named lists (for the dialogs' menus).
    pub fn list_names(&self) -> Vec<String> {
        self.view
            .as_ref()
            .map(|view| view.lists.iter().filter_map(|l| l.name.clone()).collect())
            .unwrap_or_default()
    }

    /// Sets the status line.
    pub fn set_status(&mut self, text: impl Into<String>, error: bool) {
        self.status = Some(Status {
            text: text.into(),
            error,
            at: OffsetDateTime::now_utc(),
        });
    }

    /// Takes a finished background rebuild of the table; re-filters and re-sorts rows updated
    /// in place, at most every 250 ms.
    pub fn rebuild_table_if_due(&mut self) {
        self.table.poll();
        if self.last_table_rebuild.elapsed() >= TABLE_REBUILD_INTERVAL {
            self.table.rebuild_if_stale();
            self.last_table_rebuild = Instant::now();
        }
    }

    /// The reducer: applies one event from the monitor; commands to send and answers for
    /// panels go to `reactions`.
    pub fn apply_event(&mut self, event: Event, reactions: &mut Vec<Reaction>) {
        match event {
            Event::ViewLoaded(mut snapshot) => {
                self.view_in_flight = false;
                self.list = snapshot.list.clone();
                let rows = std::mem::take(&mut snapshot.rows);
                self.table.set_rows(rows);
                self.table.set_weight_total(snapshot.weight_total);
                self.last_table_rebuild = Instant::now();
                // The detail read with these rows replaces the shown one; a cursor that moved
                // meanwhile has its own answer coming.
                match (snapshot.detail.take(), self.table.cursor()) {
                    (Some(detail), Some(cursor)) if detail.domain == *cursor => {
                        self.detail = Some(*detail);
                    }
                    (_, None) => self.detail = None,
                    _ => {}
                }
                reactions.push(Reaction::Settings(SettingsNews::Loaded(
                    snapshot.settings.clone(),
                )));
                self.view = Some(*snapshot);
                if self.view_dirty {
                    self.request_view_into(reactions);
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
            } => reactions.push(Reaction::Dialog(DialogNews::ImportProgress {
                path,
                done_bytes,
                total_bytes,
            })),
            Event::ImportPreviewed(report) => {
                reactions.push(Reaction::Dialog(DialogNews::ImportPreviewed(report)));
            }
            Event::ImportFailed { path, message } => {
                reactions.push(Reaction::Dialog(DialogNews::ImportFailed { path, message }));
            }
            Event::Exported { path, summary } => {
                reactions.push(Reaction::Dialog(DialogNews::Exported));
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
            Event::ExportFailed { message, .. } => {
                reactions.push(Reaction::Dialog(DialogNews::ExportFailed { message }));
            }
            Event::Edited { message } => {
                self.set_status(message, false);
                self.request_view_into(reactions);
            }
            // Another process (a cron `scan`, the command line) wrote to the database: reload
            // the rows, the list figures, the events and the open detail, in one snapshot.
            Event::StoreChanged => self.request_view_into(reactions),
            Event::Scan(scan_event) => self.apply_scan_event(scan_event, reactions),
            Event::ScanSkipped { reason } => self.set_status(reason, false),
            Event::ScheduleChanged {
                paused,
                next_scan_at,
            } => {
                self.schedule_paused = paused;
                self.next_scan_at = next_scan_at;
            }
            Event::SettingsSaved(settings) => {
                if let Some(view) = &mut self.view {
                    view.settings = (*settings).clone();
                }
                reactions.push(Reaction::Settings(SettingsNews::Saved(*settings)));
                self.set_status("settings saved", false);
            }
            Event::SettingsRejected { problems } => {
                reactions.push(Reaction::Settings(SettingsNews::Rejected(problems)));
            }
            Event::ScheduledElsewhere { pid } => self.scheduled_elsewhere = Some(pid),
            Event::SchedulingHere { took_over_from } => {
                self.scheduled_elsewhere = None;
                if let Some(pid) = took_over_from {
                    self.set_status(
                        format!("took over scheduled scans from process {pid}, which had stopped"),
                        false,
                    );
                }
            }
            Event::ProxyUnusable(message) => {
                self.proxy_trouble = Some(format!(
                    "{}. Check that the proxy runs (for ssh -D: that the ssh session is still \
                     open), or change or clear the SOCKS5 proxy in Settings.",
                    capitalized_first(&message)
                ));
            }
            Event::Notified(_) => {}
            Event::NotificationClicked(domain) => reactions.push(Reaction::ShowDomain(domain)),
            Event::WebhooksDelivered { scan, deliveries } => {
                let delivered = deliveries
                    .iter()
                    .filter(|delivery| delivery.delivered)
                    .count();
                let what = match scan {
                    Some(scan) => format!("webhooks for scan {}", scan.0),
                    None => "webhook test".to_string(),
                };
                self.set_status(
                    format!("{what}: delivered to {delivered} of {}", deliveries.len()),
                    delivered < deliveries.len(),
                );
                // The delivery log in the Settings tab comes with the view.
                self.request_view_into(reactions);
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

    fn request_view_into(&mut self, reactions: &mut Vec<Reaction>) {
        if let Some(command) = self.request_view() {
            reactions.push(Reaction::Send(command));
        }
    }

    fn apply_scan_event(&mut self, event: ScanEvent, reactions: &mut Vec<Reaction>) {
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
                let domains = if total == 1 { "domain" } else { "domains" };
                self.set_status(
                    format!("scan of {scope} started ({total} {domains})"),
                    false,
                );
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
                let previous = self.table.row_of(&result.domain);
                let row = view::row_from_result(&result, previous.as_ref());
                self.table.update_row(row);
                if self.table.cursor() == Some(&result.domain) {
                    reactions.push(Reaction::Send(Command::LoadDomain(result.domain.clone())));
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
                                scan_id: None,
                            },
                        );
                    }
                    view.events.truncate(view::VIEW_EVENT_LIMIT);
                }
            }
            ScanEvent::Port25Blocked { attempts } => self.port_blocked = Some(attempts),
            ScanEvent::DnsFailing {
                lookups,
                resolver,
                failures,
            } => {
                self.dns_failing = Some(DnsTrouble {
                    lookups,
                    resolver,
                    failures,
                });
            }
            ScanEvent::DnssecUnavailable { resolver } => self.dnssec_unavailable = Some(resolver),
            ScanEvent::StoreFailed(message) => self.set_status(message, true),
            ScanEvent::ProxyFailed { domain, detail } => self.set_status(
                format!(
                    "{detail}; {} not stored, left for the next scan",
                    domain.display_name()
                ),
                true,
            ),
            ScanEvent::ProxyLost { detail } => {
                self.proxy_trouble = Some(format!(
                    "The SOCKS proxy was lost in the middle of a scan ({detail}). The scan is \
                     marked aborted (proxy lost): what it stored stays, nothing more was written."
                ));
            }
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
                    ScanEnd::ProxyLost => "aborted (proxy lost)",
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
                self.request_view_into(reactions);
            }
        }
    }
}

/// `text` with its first letter upper-case, for a banner sentence.
fn capitalized_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DomainName, DomainResult, Verdict};
    use crate::monitor::view::{ChangeKind, LatestRow, ListSummary, ScanCounts};
    use crate::store::{ChangeEvent, ScanId};

    fn domain(name: &str) -> DomainName {
        DomainName::parse(name).expect("valid test domain")
    }

    fn row(name: &str) -> LatestRow {
        LatestRow {
            domain: domain(name),
            verdict: None,
            starttls: None,
            pfs: None,
            strict_valid: None,
            tls_version: None,
            tls_grade: None,
            cert_not_after: None,
            provider: None,
            mx_count: 0,
            last_probed: None,
            state_since: None,
            stale: None,
            auth: Default::default(),
        }
    }

    fn snapshot(list: Option<&str>, rows: &[&str]) -> Box<ViewSnapshot> {
        Box::new(ViewSnapshot {
            weight_total: 0.0,
            weighted: false,
            webhook_log: Vec::new(),
            list: list.map(str::to_string),
            lists: vec![ListSummary {
                latest_volume: None,
                name: None,
                domain_count: rows.len(),
                latest: None,
            }],
            rows: crate::monitor::view::rows::TableRows::from_rows(
                rows.iter().map(|name| row(name)).collect(),
            )
            .expect("fits"),
            trends: Vec::new(),
            providers: Vec::new(),
            events: Vec::new(),
            settings: Settings::default(),
            recent_scans: Vec::new(),
            path_changes: Vec::new(),
            db_path: PathBuf::from("/tmp/monitor.sqlite3"),
            load_time: Duration::from_millis(3),
            detail: None,
        })
    }

    fn sent_views(reactions: &[Reaction]) -> Vec<Option<String>> {
        reactions
            .iter()
            .filter_map(|reaction| match reaction {
                Reaction::Send(Command::LoadView { list, .. }) => Some(list.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_snapshot_fills_the_table_and_requests_made_meanwhile_are_made_once_it_arrives() {
        let mut state = UiState::new(None, SortOrder::default());
        assert!(matches!(
            state.request_view(),
            Some(Command::LoadView {
                list: None,
                detail: None
            })
        ));
        assert!(state.view_in_flight());
        // Switching lists while the first snapshot is on its way: remembered, not sent.
        assert!(state.select_list(Some("Customers".into())).is_none());
        let mut reactions = Vec::new();
        state.apply_event(
            Event::ViewLoaded(snapshot(None, &["b.example", "a.example"])),
            &mut reactions,
        );
        assert_eq!(state.table.total_len(), 2);
        assert!(state.view.as_ref().is_some_and(|view| view.rows.is_empty()));
        assert_eq!(state.list, None, "the snapshot says which list it shows");
        assert!(reactions.iter().any(|reaction| matches!(
            reaction,
            Reaction::Settings(SettingsNews::Loaded(settings)) if *settings == Settings::default()
        )));
        assert_eq!(sent_views(&reactions), [None], "the remembered request");
        assert!(state.view_in_flight());
        reactions.clear();
        state.apply_event(Event::Failed("the store is locked".into()), &mut reactions);
        assert!(!state.view_in_flight());
        assert_eq!(
            state
                .status
                .as_ref()
                .map(|status| (status.text.as_str(), status.error)),
            Some(("the store is locked", true))
        );
    }

    #[test]
    fn a_scan_shows_progress_updates_rows_and_ends_with_a_summary_and_a_reload() {
        let mut state = UiState::new(Some("Customers".into()), SortOrder::default());
        let mut reactions = Vec::new();
        let _first = state.request_view();
        state.apply_event(
            Event::ViewLoaded(snapshot(
                Some("Customers"),
                &["a.example", "b.example", "c.example"],
            )),
            &mut reactions,
        );
        assert!(state.table.select_only(&domain("b.example")));
        let events = [
            Event::Scan(ScanEvent::Started {
                scan: ScanId(7),
                scope: "Customers".into(),
                total: 3,
            }),
            Event::Scan(ScanEvent::Progress {
                scan: ScanId(7),
                done: 2,
                total: 3,
                eta: Some(Duration::from_secs(4)),
            }),
            Event::Scan(ScanEvent::DomainProbed(Box::new(DomainResult::new(
                domain("b.example"),
                true,
                None,
                OffsetDateTime::UNIX_EPOCH,
                Vec::new(),
            )))),
            Event::Scan(ScanEvent::Changes(vec![ChangeEvent {
                domain: domain("b.example"),
                kind: ChangeKind::StarttlsLost,
                at: OffsetDateTime::UNIX_EPOCH,
                detail: "STARTTLS lost".into(),
            }])),
            Event::Scan(ScanEvent::Port25Blocked { attempts: 12 }),
        ];
        reactions.clear();
        for event in events {
            state.apply_event(event, &mut reactions);
        }
        assert_eq!(state.scan_progress(), Some((2, 3)));
        assert_eq!(
            state.status.as_ref().map(|status| status.text.as_str()),
            Some("scan of Customers started (3 domains)")
        );
        assert_eq!(
            state
                .table
                .row_of(&domain("b.example"))
                .and_then(|row| row.verdict),
            Some(Verdict::NoMail),
            "the row is updated in place"
        );
        assert!(
            matches!(
                reactions.as_slice(),
                [Reaction::Send(Command::LoadDomain(loaded))] if loaded.as_str() == "b.example"
            ),
            "the cursor row's detail is reloaded: {reactions:?}"
        );
        let events = &state.view.as_ref().expect("view").events;
        assert_eq!(events.len(), 1);
        assert!(events[0].regression);
        assert_eq!(state.port_blocked, Some(12));

        reactions.clear();
        state.apply_event(
            Event::Scan(ScanEvent::Finished {
                scan: ScanId(7),
                scope: "ignored: the running scan's scope is used".into(),
                end: ScanEnd::Finished,
                counts: ScanCounts {
                    done: 3,
                    all_three: 1,
                    no_starttls: 1,
                    untestable: 1,
                    ..ScanCounts::default()
                },
                elapsed: Duration::from_secs(5),
            }),
            &mut reactions,
        );
        assert_eq!(state.scan_progress(), None);
        let status = state.status.as_ref().map(|status| status.text.clone());
        assert!(
            status
                .as_deref()
                .is_some_and(|text| text.starts_with("scan of Customers finished in")
                    && text.ends_with(": 3 domains, 1 secure, 1 no STARTTLS, 1 untestable")),
            "{status:?}"
        );
        assert_eq!(sent_views(&reactions), [Some("Customers".to_string())]);
    }

    #[test]
    fn a_proxy_that_fails_raises_a_banner_and_another_scheduler_is_named() {
        let mut state = UiState::new(None, SortOrder::default());
        let mut reactions = Vec::new();
        state.apply_event(
            Event::ProxyUnusable(
                "the SOCKS proxy 127.0.0.1:1080 is unreachable: refused: the scan did not start, \
                 nothing was stored"
                    .into(),
            ),
            &mut reactions,
        );
        let banner = state.proxy_trouble.clone().expect("a banner");
        assert!(
            banner.starts_with("The SOCKS proxy 127.0.0.1:1080 is unreachable"),
            "{banner}"
        );
        assert!(banner.contains("SOCKS5 proxy in Settings"), "{banner}");
        state.apply_event(
            Event::Scan(ScanEvent::ProxyLost {
                detail: "general SOCKS server failure (reply 01)".into(),
            }),
            &mut reactions,
        );
        let banner = state.proxy_trouble.clone().expect("a banner");
        assert!(banner.contains("aborted (proxy lost)"), "{banner}");

        state.apply_event(Event::ScheduledElsewhere { pid: 4242 }, &mut reactions);
        assert_eq!(state.scheduled_elsewhere, Some(4242));
        state.apply_event(
            Event::SchedulingHere {
                took_over_from: Some(4242),
            },
            &mut reactions,
        );
        assert_eq!(state.scheduled_elsewhere, None);
        let status = state.status.clone().expect("status");
        assert!(
            status
                .text
                .contains("took over scheduled scans from process 4242")
        );
    }

    #[test]
    fn the_status_line_names_the_scan_scope_in_words() {
        let mut state = UiState::new(None, SortOrder::default());
        let mut reactions = Vec::new();
        let scope = crate::store::ScanScope::List("Sample".to_string()).describe_for_people();
        state.apply_event(
            Event::Scan(ScanEvent::Started {
                scan: ScanId(1),
                scope,
                total: 1,
            }),
            &mut reactions,
        );
        assert_eq!(
            state.status.as_ref().map(|status| status.text.as_str()),
            Some("scan of list Sample started (1 domain)")
        );
        state.apply_event(
            Event::Scan(ScanEvent::Finished {
                scan: ScanId(1),
                scope: String::new(),
                end: ScanEnd::Cancelled,
                counts: ScanCounts::default(),
                elapsed: Duration::ZERO,
            }),
            &mut reactions,
        );
        assert_eq!(
            state.status.as_ref().map(|status| status.text.as_str()),
            Some("scan of list Sample cancelled")
        );
    }

    #[test]
    fn answers_for_panels_are_handed_on_and_detail_only_follows_the_cursor() {
        let mut state = UiState::new(None, SortOrder::default());
        let mut reactions = Vec::new();
        let _first = state.request_view();
        state.apply_event(
            Event::ViewLoaded(snapshot(None, &["a.example", "b.example"])),
            &mut reactions,
        );
        assert!(state.table.select_only(&domain("a.example")));
        let detail = |name: &str| {
            Event::DomainLoaded(Box::new(DomainDetail {
                domain: domain(name),
                latest: None,
                history: Vec::new(),
                events: Vec::new(),
            }))
        };
        state.apply_event(detail("b.example"), &mut reactions);
        assert!(state.detail.is_none(), "a late answer for another row");
        state.apply_event(detail("a.example"), &mut reactions);
        assert_eq!(
            state.detail.as_ref().map(|detail| detail.domain.as_str()),
            Some("a.example")
        );

        reactions.clear();
        let saved = Settings {
            concurrency: 8,
            ..Settings::default()
        };
        state.apply_event(
            Event::SettingsSaved(Box::new(saved.clone())),
            &mut reactions,
        );
        state.apply_event(
            Event::ImportFailed {
                path: PathBuf::from("/tmp/x.csv"),
                message: "line 1: not UTF-8".into(),
            },
            &mut reactions,
        );
        assert_eq!(
            state.view.as_ref().map(|view| view.settings.concurrency),
            Some(8)
        );
        assert!(matches!(
            reactions.as_slice(),
            [
                Reaction::Settings(SettingsNews::Saved(settings)),
                Reaction::Dialog(DialogNews::ImportFailed { message, .. }),
            ] if *settings == saved && message == "line 1: not UTF-8"
        ));
    }

    fn detail_of(name: &str) -> Box<DomainDetail> {
        Box::new(DomainDetail {
            domain: domain(name),
            latest: None,
            history: Vec::new(),
            events: Vec::new(),
        })
    }

    #[test]
    fn another_process_writing_reloads_the_view_with_the_open_detail_in_one_snapshot() {
        let mut state = UiState::new(None, SortOrder::default());
        let mut reactions = Vec::new();
        let _first = state.request_view();
        state.apply_event(
            Event::ViewLoaded(snapshot(None, &["a.example", "b.example"])),
            &mut reactions,
        );
        assert!(state.table.select_only(&domain("b.example")));
        state.apply_event(Event::DomainLoaded(detail_of("b.example")), &mut reactions);
        reactions.clear();

        state.apply_event(Event::StoreChanged, &mut reactions);
        assert!(
            matches!(
                reactions.as_slice(),
                [Reaction::Send(Command::LoadView { list: None, detail: Some(asked) })]
                    if asked.as_str() == "b.example"
            ),
            "the cursor's detail is asked with the view: {reactions:?}"
        );
        // A second change while that snapshot is on its way: asked again once it arrives.
        reactions.clear();
        state.apply_event(Event::StoreChanged, &mut reactions);
        assert!(reactions.is_empty());

        let mut fresh = snapshot(None, &["a.example", "b.example"]);
        let mut detail = detail_of("b.example");
        detail.events.push(view::EventRow {
            id: 9,
            domain: "b.example".into(),
            at: OffsetDateTime::UNIX_EPOCH,
            kind: ChangeKind::CertBecameInvalid,
            regression: true,
            detail: "certificate became invalid".into(),
            scan_id: None,
        });
        fresh.detail = Some(detail);
        state.apply_event(Event::ViewLoaded(fresh), &mut reactions);
        assert_eq!(
            state.detail.as_ref().map(|detail| detail.events.len()),
            Some(1),
            "the detail read with the rows replaces the shown one"
        );
        assert_eq!(sent_views(&reactions), [None], "the remembered reload");

        // The cursor moved while the snapshot was on its way: its detail is not taken.
        reactions.clear();
        assert!(state.table.select_only(&domain("a.example")));
        let mut late = snapshot(None, &["a.example", "b.example"]);
        late.detail = Some(detail_of("b.example"));
        state.apply_event(Event::ViewLoaded(late), &mut reactions);
        assert_eq!(
            state.detail.as_ref().map(|detail| detail.domain.as_str()),
            Some("b.example"),
            "unchanged: a.example's own answer is coming"
        );
        assert!(
            state
                .detail
                .as_ref()
                .is_some_and(|detail| detail.events.len() == 1),
            "not replaced by the other row's late detail"
        );

        // The cursor's domain is gone (removed by another process): no detail is left.
        let gone = snapshot(None, &["b.example"]);
        state.apply_event(Event::ViewLoaded(gone), &mut reactions);
        assert!(state.table.cursor().is_none());
        assert!(state.detail.is_none());
    }

    #[test]
    fn a_resolver_without_dnssec_data_raises_the_banner_state() {
        let mut state = UiState::new(None, SortOrder::default());
        assert_eq!(state.dnssec_unavailable, None);
        state.apply_event(
            Event::Scan(ScanEvent::DnssecUnavailable {
                resolver: "the system resolver".into(),
            }),
            &mut Vec::new(),
        );
        assert_eq!(
            state.dnssec_unavailable.as_deref(),
            Some("the system resolver")
        );
    }

    #[test]
    fn a_failing_dns_server_raises_the_banner_state() {
        let mut state = UiState::new(None, SortOrder::default());
        let failures = DnsFailures {
            refused: 3,
            ..DnsFailures::default()
        };
        state.apply_event(
            Event::Scan(ScanEvent::DnsFailing {
                lookups: 3,
                resolver: "the DNS server 127.0.0.1:5353".into(),
                failures,
            }),
            &mut Vec::new(),
        );
        assert_eq!(
            state.dns_failing,
            Some(DnsTrouble {
                lookups: 3,
                resolver: "the DNS server 127.0.0.1:5353".into(),
                failures,
            })
        );
    }
}
