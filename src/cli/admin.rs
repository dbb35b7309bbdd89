//! The commands for a headless server: `settings show|set`, `events` for cron pipelines, and
//! `run`, the app's scheduler without a window.
//!
//! Owns: their arguments and output. `settings set` validates through [`Settings::edited`] and
//! [`Settings::usable_problems`], as the Settings tab does; `events --json` prints the event
//! objects of `export --format json` ([`crate::report::event_json`]); `run` is the monitor's
//! own scheduler ([`MonitorHandle`] with scheduling on), so the schedule is defined once, and
//! the scheduler lock keeps it to one process per database. Alerts (desktop notifications,
//! webhooks) hook in where `run` reads the monitor's events ([`run_scheduler`]:
//! `ScanEvent::Changes` and `ScanEvent::Finished`), as the app does from its own event loop.
//! Must not touch: probe or store internals.

use std::io::Write;
use std::time::Duration;

use clap::{Args, Subcommand};
use time::OffsetDateTime;

use super::store_commands::{store_error, write_error};
use super::{CliError, GlobalOptions};
use crate::monitor::scan::ScanEvent;
use crate::monitor::{Event, MonitorHandle, ScanEnd};

/// `settings show|set`
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print every setting, one `key = value` line per key of the Settings JSON (the proxy
    /// password masked).
    Show,
    /// Change one setting, with the same checks as the Settings tab: `settings set proxy
    /// socks5://127.0.0.1:1080`, `settings set scan_interval_hours 6`; an empty VALUE clears
    /// a text (`settings set proxy ""` goes direct).
    Set {
        /// A key of the Settings JSON (`settings show` lists them).
        key: String,
        /// The new value: a whole number, true/false, or text.
        value: String,
    },
}

/// `events [--list NAME] [--since YYYY-MM-DD|Nd] [--regressions] [--json]`
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events of domains in this list.
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,
    /// Only events from this UTC day on (YYYY-MM-DD), or from N days ago (`1d`: the last 24
    /// hours).
    #[arg(long, value_name = "DATE|Nd", value_parser = parse_since)]
    pub since: Option<Since>,
    /// Only regressions (lost STARTTLS, certificate expiring, ...).
    #[arg(long)]
    pub regressions: bool,
    /// One JSON object per event per line, as `export --format json` writes events.
    #[arg(long)]
    pub json: bool,
}

/// Where `--since` starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    /// From the start of this UTC day.
    Day(time::Date),
    /// From this many days before now.
    DaysAgo(u32),
}

impl Since {
    /// The first moment included, as of `now`.
    pub fn start(self, now: OffsetDateTime) -> OffsetDateTime {
        match self {
            Since::Day(date) => date.midnight().assume_utc(),
            Since::DaysAgo(days) => now - time::Duration::days(i64::from(days)),
        }
    }
}

fn parse_since(text: &str) -> Result<Since, String> {
    let text = text.trim();
    if let Some(days) = text.strip_suffix('d') {
        return days
            .parse()
            .map(Since::DaysAgo)
            .map_err(|_| format!("'{text}' is not a number of days like 1d or 7d"));
    }
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(Since::Day)
    .map_err(|_| format!("'{text}' is not a date like 2026-01-31 or a number of days like 7d"))
}

/// Runs `settings show` or `settings set KEY VALUE`.
pub fn run_settings(global: &GlobalOptions, command: &SettingsCommand) -> Result<(), CliError> {
    match command {
        SettingsCommand::Show => {
            let store = global.open_existing_store()?;
            let settings = store.settings().map_err(store_error)?;
            let mut out = std::io::stdout().lock();
            for (key, value) in settings.shown() {
                writeln!(out, "{key} = {value}").map_err(write_error)?;
            }
            Ok(())
        }
        SettingsCommand::Set { key, value } => {
            let store = global.open_store()?;
            let settings = store.settings().map_err(store_error)?;
            let edited =
                settings
                    .edited(&[(key.as_str(), value.as_str())])
                    .map_err(|problems| {
                        CliError::usage(format!("setting not saved: {}", problems.join("; ")))
                    })?;
            let problems = edited.usable_problems();
            if !problems.is_empty() {
                return Err(CliError::usage(format!(
                    "setting not saved: {}",
                    problems.join("; ")
                )));
            }
            store.save_settings(&edited).map_err(store_error)?;
            if let Some((key, value)) = edited.shown().into_iter().find(|(name, _)| name == key) {
                println!("{key} = {value}");
            }
            Ok(())
        }
    }
}

/// Runs `events`: newest first, one line each (or one JSON object per line).
pub fn run_events(global: &GlobalOptions, args: &EventsArgs) -> Result<(), CliError> {
    let store = global.open_existing_store()?;
    let list = match &args.list {
        Some(name) => Some(store.require_list(name).map_err(store_error)?),
        None => None,
    };
    let since = args
        .since
        .map(|since| since.start(OffsetDateTime::now_utc()));
    let events = store
        .events(list, None, since, usize::MAX >> 1)
        .map_err(store_error)?;
    let mut out = std::io::stdout().lock();
    for event in events
        .iter()
        .filter(|event| event.regression || !args.regressions)
    {
        let line = if args.json {
            crate::report::event_json(event).map_err(|error| CliError::error(error.to_string()))?
        } else {
            format!(
                "{} {} {}: {}",
                event
                    .at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                event.domain,
                event.kind.as_str(),
                event.detail
            )
        };
        match writeln!(out, "{line}") {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(error) => return Err(write_error(error)),
        }
    }
    Ok(())
}

/// Runs `run`: the app's scheduler without a window, until the process is stopped. Refuses
/// (exit 1) when another process holds the scheduler lock of the database.
pub fn run_scheduler(global: &GlobalOptions) -> Result<(), CliError> {
    let path = global.db_path()?;
    let monitor = MonitorHandle::start(&path, global.overrides(), true, std::sync::Arc::new(|| {}))
        .map_err(|error| CliError::error(error.to_string()))?;
    let shown = path.display().to_string();
    stop_on_signals(monitor.command_sender());
    loop {
        let Some(event) = monitor.recv_timeout(Duration::from_secs(3600)) else {
            continue;
        };
        match event {
            Event::ScheduledElsewhere { pid } => {
                monitor.shutdown();
                return Err(CliError::error(format!(
                    "scheduled scans of {shown} are run by another process (pid {pid}); stop it \
                     first (one scheduler per database)"
                )));
            }
            Event::SchedulingHere { took_over_from } => match took_over_from {
                Some(pid) => log(&format!(
                    "scheduler started for {shown} (pid {}; took over the lock of process {pid}, which had stopped)",
                    std::process::id()
                )),
                None => log(&format!(
                    "scheduler started for {shown} (pid {})",
                    std::process::id()
                )),
            },
            Event::ScheduleChanged {
                paused,
                next_scan_at,
            } => match (paused, next_scan_at) {
                (true, _) => log("schedule paused (starttls-monitor settings set paused false)"),
                (false, Some(at)) => log(&format!(
                    "next scan at {}",
                    at.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default()
                )),
                (false, None) => log(
                    "no scan yet: the schedule starts after the first scan (run 'starttls-monitor scan' once)",
                ),
            },
            Event::Scan(scan_event) => log_scan_event(scan_event),
            Event::ProxyUnusable(message) | Event::Failed(message) => {
                log(&format!("error: {message}"));
            }
            Event::ScanSkipped { reason } => log(&reason),
            Event::Notified(shown) => {
                for notification in shown {
                    log(&format!(
                        "desktop notification: {}: {}",
                        notification.summary, notification.body
                    ));
                }
            }
            Event::WebhooksDelivered { deliveries, .. } => {
                for delivery in deliveries {
                    let url = crate::settings::mask_url(&delivery.url);
                    log(&if delivery.delivered {
                        format!("webhook {url}: delivered ({})", delivery.detail)
                    } else {
                        format!(
                            "warning: webhook {url} not delivered after {} attempt(s): {}",
                            delivery.attempts, delivery.detail
                        )
                    });
                }
            }
            Event::Stopped => {
                log("scheduler stopped");
                return Ok(());
            }
            _ => {}
        }
    }
}

fn log_scan_event(event: ScanEvent) {
    match event {
        ScanEvent::Started { scope, total, .. } => {
            log(&format!("scan of {scope} started ({total} domains)"));
        }
        ScanEvent::Port25Blocked { attempts } => {
            log(&super::port_blocked_warning(attempts, false));
        }
        ScanEvent::DnsFailing {
            lookups,
            resolver,
            failures,
        } => log(&super::failing_dns_warning(&resolver, lookups, failures)),
        ScanEvent::DnssecUnavailable { resolver } => {
            log(&super::dnssec_unavailable_warning(&resolver));
        }
        ScanEvent::ProxyFailed { domain, detail } => {
            log(&format!("warning: {detail}; {domain} not stored"));
        }
        ScanEvent::ProxyLost { detail } => log(&format!(
            "error: the SOCKS proxy was lost in the middle of the scan ({detail}); the scan is aborted"
        )),
        ScanEvent::StoreFailed(message) => log(&format!("error: {message}")),
        ScanEvent::Changes(changes) => {
            for change in changes {
                log(&format!(
                    "{} {}: {}",
                    change.domain,
                    change.kind.as_str(),
                    change.detail
                ));
            }
        }
        ScanEvent::Finished {
            scope,
            end,
            counts,
            elapsed,
            ..
        } => {
            let how = match end {
                ScanEnd::Finished => "finished",
                ScanEnd::DeadlineReached => "stopped at its deadline",
                ScanEnd::Cancelled => "cancelled",
                ScanEnd::ProxyLost => "aborted (proxy lost)",
            };
            log(&format!(
                "scan of {scope} {how} in {:.1} s: {} of {} domains, tls_ok {}, untestable {}",
                elapsed.as_secs_f64(),
                counts.done,
                counts.total,
                counts.tls_ok,
                counts.untestable
            ));
        }
        ScanEvent::Progress { .. } | ScanEvent::DomainProbed(_) => {}
    }
}

/// On SIGTERM (`systemctl stop`) or SIGINT (Ctrl-C), asks the monitor to stop: running scans
/// are cancelled and closed in the store, the scheduler lock is released, `run` exits 0. Runs
/// on a thread of its own; without signal support the process just ends as before.
fn stop_on_signals(commands: crate::monitor::CommandSender) {
    let spawned = std::thread::Builder::new()
        .name("run-signals".to_string())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let Some(name) = stop_signal().await else {
                    return;
                };
                log(&format!(
                    "{name}: stopping (running scans are closed as cancelled)"
                ));
                commands.send(crate::monitor::Command::Shutdown);
            });
        });
    if let Err(error) = spawned {
        log(&format!("warning: signals will end run abruptly: {error}"));
    }
}

/// Waits for SIGTERM or SIGINT; its name, or None when signals cannot be watched.
#[cfg(unix)]
async fn stop_signal() -> Option<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).ok()?;
    let mut interrupt = signal(SignalKind::interrupt()).ok()?;
    Some(tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    })
}

/// Waits for Ctrl-C; None when it cannot be watched.
#[cfg(not(unix))]
async fn stop_signal() -> Option<&'static str> {
    tokio::signal::ctrl_c().await.ok().map(|()| "Ctrl-C")
}

/// One line on stderr (journald keeps it with its time).
/// A closed stderr (a reader gone) never ends the scheduler: the line is dropped.
fn log(line: &str) {
    let _ignored = writeln!(std::io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_day_or_a_number_of_days() {
        let now = time::macros::datetime!(2026-12-02 07:30 UTC);
        assert_eq!(
            parse_since("2026-11-30").expect("a day").start(now),
            time::macros::datetime!(2026-11-30 00:00 UTC)
        );
        assert_eq!(
            parse_since("1d").expect("days").start(now),
            time::macros::datetime!(2026-12-01 07:30 UTC)
        );
        assert!(parse_since("yesterday").is_err());
        assert!(parse_since("xd").is_err());
    }
}
