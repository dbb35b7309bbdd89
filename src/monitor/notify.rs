//! Desktop notifications: the regressions of finished scans, one grouped notification per kind
//! ("3 domains lost STARTTLS" — "a.example, b.example, c.example"), through the desktop's
//! notification service (org.freedesktop.Notifications over the session bus, notify-rust's
//! zbus backend; feature "notify").
//!
//! Each event is notified once across processes: a monitor with a session bus (the app, `run`)
//! claims the events of finished scans from the store ([`Store::claim_unnotified_events`],
//! `events.notified_at`) and only the claimer shows them; a cron `scan` has no session bus and
//! leaves its events for the app or `run` to pick up through the store. Quiet mode and kinds
//! not chosen still claim (no backlog later). Owns: the grouping and wording, the claim window
//! ([`CLAIM_WINDOW`]), talking to the notification service. Must not touch: which events exist
//! (`model::changes`), the UI.

use std::time::Duration;

use time::OffsetDateTime;

use super::scan::{SharedStore, lock};
use crate::model::changes::ChangeKind;
use crate::settings::Settings;
use crate::store::{EventRow, StoreError};

/// Events older than this when first seen are marked without a notification (a laptop opened
/// after a week does not get a week of them).
pub const CLAIM_WINDOW: Duration = Duration::from_secs(3 * 24 * 3600);
/// Most events claimed at once.
const CLAIM_LIMIT: usize = 10_000;
/// Most domains named in one notification; the rest are counted.
const NAMED_DOMAINS: usize = 5;

/// One notification to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesktopNotification {
    /// The regression it groups; None for a monitor-health notification.
    pub kind: Option<ChangeKind>,
    /// "3 domains lost STARTTLS".
    pub summary: String,
    /// "a.example, b.example, c.example…".
    pub body: String,
    /// Every domain concerned, in the order of their events, without repeats.
    pub domains: Vec<String>,
}

fn domains_text(count: usize) -> String {
    if count == 1 {
        "1 domain".to_string()
    } else {
        format!("{count} domains")
    }
}

/// The summary line for `count` domains with a `kind` regression; None for a kind that is not
/// a regression.
fn summary(kind: ChangeKind, count: usize, expiry_warning_days: u32) -> Option<String> {
    let domains = domains_text(count);
    Some(match kind {
        ChangeKind::StarttlsLost => format!("{domains} lost STARTTLS"),
        ChangeKind::PfsLost => format!("{domains} lost forward secrecy"),
        ChangeKind::CertBecameInvalid => {
            format!("{domains}: certificate no longer valid")
        }
        ChangeKind::CertExpiring => {
            format!("{domains}: certificate expires within {expiry_warning_days} days")
        }
        ChangeKind::DaneFailed => {
            format!("{domains}: DANE failed (DANE senders defer their mail)")
        }
        ChangeKind::DaneLost => format!("{domains} lost DANE"),
        ChangeKind::StsMxMismatch => {
            format!("{domains}: MTA-STS policy does not list an MX host")
        }
        ChangeKind::StarttlsGained
        | ChangeKind::PfsGained
        | ChangeKind::CertBecameValid
        | ChangeKind::MxChanged
        | ChangeKind::DaneValid
        | ChangeKind::DaneGained
        | ChangeKind::StsPolicyChanged
        | ChangeKind::TlsrptChanged => return None,
    })
}

/// The notifications for `events` under `settings`: none in quiet mode; else one per kind in
/// `notify_kinds` that has events, in the order of `notify_kinds`.
pub fn group(events: &[EventRow], settings: &Settings) -> Vec<DesktopNotification> {
    if settings.notify_quiet {
        return Vec::new();
    }
    let mut notifications = Vec::new();
    for kind in &settings.notify_kinds {
        let mut domains: Vec<String> = Vec::new();
        for event in events.iter().filter(|event| event.kind == *kind) {
            if !domains.contains(&event.domain) {
                domains.push(event.domain.clone());
            }
        }
        if domains.is_empty() {
            continue;
        }
        let Some(summary) = summary(*kind, domains.len(), settings.expiry_warning_days) else {
            continue;
        };
        let mut body = domains
            .iter()
            .take(NAMED_DOMAINS)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if domains.len() > NAMED_DOMAINS {
            body.push_str(&format!(" and {} more", domains.len() - NAMED_DOMAINS));
        }
        notifications.push(DesktopNotification {
            kind: Some(*kind),
            summary,
            body,
            domains,
        });
    }
    notifications
}

/// Something wrong with the monitoring itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HealthProblem {
    /// No scan has finished for two scheduled intervals (the last one finished `hours` ago).
    NoRecentScan { hours: i64 },
    /// More than the set share of all domains is stale.
    ManyStale { stale: usize, total: usize },
}

impl HealthProblem {
    /// Which problem it is, whatever its figures: a problem is notified once until it clears.
    pub fn key(self) -> u8 {
        match self {
            HealthProblem::NoRecentScan { .. } => 0,
            HealthProblem::ManyStale { .. } => 1,
        }
    }

    /// The notification for it.
    pub fn notification(self) -> DesktopNotification {
        let (summary, body) = match self {
            HealthProblem::NoRecentScan { hours } => (
                "starttls-monitor: no scan has finished lately".to_string(),
                format!(
                    "The last scan finished {hours} hours ago, over two scheduled intervals: is the scheduler (the app or `run`) running, and port 25 reachable?"
                ),
            ),
            HealthProblem::ManyStale { stale, total } => (
                format!("starttls-monitor: {stale} of {total} domains are stale"),
                "Their latest probes were untestable; the last known state is shown. Port 25, the DNS server or the proxy may be failing.".to_string(),
            ),
        };
        DesktopNotification {
            kind: None,
            summary,
            body,
            domains: Vec::new(),
        }
    }
}

/// The monitor's health problems at `now`: `last_finished`, when the latest scan that ran to
/// its end (or its deadline) finished — None when none ever did (no schedule yet, nothing to
/// say); `latest` the latest roll-up of all domains. Paused schedules miss no scan.
pub fn health(
    now: OffsetDateTime,
    settings: &Settings,
    last_finished: Option<OffsetDateTime>,
    latest: Option<&crate::store::TrendCounts>,
) -> Vec<HealthProblem> {
    let mut problems = Vec::new();
    if let Some(finished) = last_finished
        && !settings.paused
    {
        let late = now - finished;
        if late > settings.scan_interval() * 2 {
            problems.push(HealthProblem::NoRecentScan {
                hours: late.whole_hours(),
            });
        }
    }
    if let Some(counts) = latest
        && settings.health_stale_percent > 0
        && counts.total > 0
        && counts.stale * 100 > counts.total * settings.health_stale_percent as usize
    {
        problems.push(HealthProblem::ManyStale {
            stale: counts.stale,
            total: counts.total,
        });
    }
    problems
}

/// Reads what [`health`] needs from the store.
pub fn health_now(
    store: &SharedStore,
    settings: &Settings,
) -> Result<Vec<HealthProblem>, StoreError> {
    let (scans, rollups) = {
        let store = lock(store)?;
        (store.scans(50)?, store.latest_rollups()?)
    };
    let last_finished = scans
        .iter()
        .filter(|scan| {
            matches!(
                scan.status,
                crate::store::ScanStatus::Finished | crate::store::ScanStatus::DeadlineReached
            )
        })
        .find_map(|scan| scan.finished_at);
    Ok(health(
        OffsetDateTime::now_utc(),
        settings,
        last_finished,
        rollups.get(&None),
    ))
}

/// Whether this process can show desktop notifications: built with them, and a session bus
/// answers (asked once, when the monitor starts).
pub async fn desktop_available() -> bool {
    #[cfg(all(feature = "notify", unix, not(target_os = "macos")))]
    {
        match zbus::Connection::session().await {
            Ok(_) => true,
            Err(error) => {
                tracing::info!("no desktop notifications: no session bus ({error})");
                false
            }
        }
    }
    #[cfg(not(all(feature = "notify", unix, not(target_os = "macos"))))]
    {
        false
    }
}

/// Called with the notification's first domain when the user clicks it.
pub type OnClick = Box<dyn FnOnce(String) + Send + 'static>;

/// Shows one notification; the error in words. With `on_click` (the app: it can show a
/// domain) and a domain to show, the notification carries the default action, and a click
/// calls `on_click` with its first domain — where the desktop supports actions; the wait for
/// it runs beside, until the notification is clicked or closed.
pub async fn show(
    notification: &DesktopNotification,
    on_click: Option<OnClick>,
) -> Result<(), String> {
    #[cfg(all(feature = "notify", unix, not(target_os = "macos")))]
    {
        let mut shown = notify_rust::Notification::new();
        shown
            .appname("starttls-monitor")
            .summary(&notification.summary)
            .body(&notification.body)
            .icon("mail-send")
            .hint(notify_rust::Hint::Category("network".to_string()));
        let click = on_click.zip(notification.domains.first().cloned());
        if click.is_some() {
            shown.action("default", "Show");
        }
        let handle = shown
            .show_async()
            .await
            .map_err(|error| error.to_string())?;
        if let Some((on_click, domain)) = click {
            tokio::spawn(async move {
                let mut clicked = false;
                handle
                    .wait_for_action_async(|response| {
                        clicked = matches!(response, notify_rust::NotificationResponse::Default)
                            || matches!(
                                response,
                                notify_rust::NotificationResponse::Action(action) if action == "default"
                            );
                    })
                    .await;
                if clicked {
                    on_click(domain);
                }
            });
        }
        Ok(())
    }
    #[cfg(not(all(feature = "notify", unix, not(target_os = "macos"))))]
    {
        let _ = (notification, on_click);
        Err("built without desktop notifications".to_string())
    }
}

/// Claims the unnotified events of finished scans and shows their notifications. Returns what
/// was shown (a notification the service refused is logged and left out).
///
/// `clicks`: makes the click handler of each notification (None: not clickable, as in `run`).
pub async fn notify_pending(
    store: &SharedStore,
    settings: &Settings,
    clicks: Option<&(dyn Fn() -> OnClick + Send + Sync)>,
) -> Result<Vec<DesktopNotification>, StoreError> {
    let since = OffsetDateTime::now_utc() - CLAIM_WINDOW;
    let events = lock(store)?.claim_unnotified_events(since, CLAIM_LIMIT)?;
    let mut shown = Vec::new();
    for notification in group(&events, settings) {
        match show(&notification, clicks.map(|make| make())).await {
            Ok(()) => shown.push(notification),
            Err(error) => tracing::warn!(
                "desktop notification '{}' not shown: {error}",
                notification.summary
            ),
        }
    }
    Ok(shown)
}

/// Shows each health problem that is new since the last check (one notification until it
/// clears; `shown` holds what is showing); nothing in quiet mode. Returns what was shown.
pub async fn check_health(
    store: &SharedStore,
    settings: &Settings,
    shown: &std::sync::Mutex<std::collections::HashSet<u8>>,
) -> Result<Vec<DesktopNotification>, StoreError> {
    let problems = health_now(store, settings)?;
    let new: Vec<HealthProblem> = {
        let Ok(mut shown) = shown.lock() else {
            return Ok(Vec::new());
        };
        shown.retain(|key| problems.iter().any(|problem| problem.key() == *key));
        problems
            .into_iter()
            .filter(|problem| shown.insert(problem.key()))
            .collect()
    };
    let mut notified = Vec::new();
    if settings.notify_quiet {
        return Ok(notified);
    }
    for problem in new {
        let notification = problem.notification();
        match show(&notification, None).await {
            Ok(()) => notified.push(notification),
            Err(error) => tracing::warn!(
                "desktop notification '{}' not shown: {error}",
                notification.summary
            ),
        }
    }
    Ok(notified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(domain: &str, kind: ChangeKind) -> EventRow {
        EventRow {
            id: 0,
            domain: domain.into(),
            at: OffsetDateTime::UNIX_EPOCH,
            kind,
            detail: String::new(),
            regression: kind.is_regression(),
            scan_id: None,
        }
    }

    #[test]
    fn one_notification_per_chosen_kind_naming_the_domains() {
        let mut events: Vec<EventRow> = (1..=7)
            .map(|n| event(&format!("d{n}.example"), ChangeKind::StarttlsLost))
            .collect();
        events.push(event("d1.example", ChangeKind::StarttlsLost));
        events.push(event("bank.example", ChangeKind::CertExpiring));
        events.push(event("shop.example", ChangeKind::StarttlsGained));
        events.push(event("shop.example", ChangeKind::MxChanged));
        let settings = Settings::default();
        let shown = group(&events, &settings);
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0].summary, "7 domains lost STARTTLS");
        assert_eq!(
            shown[0].body,
            "d1.example, d2.example, d3.example, d4.example, d5.example and 2 more"
        );
        assert_eq!(shown[0].domains.len(), 7, "a domain once");
        assert_eq!(
            shown[1].summary,
            "1 domain: certificate expires within 14 days"
        );
        assert_eq!(shown[1].body, "bank.example");

        let only_certs = Settings {
            notify_kinds: vec![ChangeKind::CertExpiring],
            ..Settings::default()
        };
        let shown = group(&events, &only_certs);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].kind, Some(ChangeKind::CertExpiring));

        let quiet = Settings {
            notify_quiet: true,
            ..Settings::default()
        };
        assert!(group(&events, &quiet).is_empty());
    }

    #[test]
    fn a_missing_scan_and_many_stale_domains_are_health_problems() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(100);
        let settings = Settings::default(); // every 24 h, 25 % stale
        let hours_ago = |hours: i64| Some(now - time::Duration::hours(hours));
        assert!(health(now, &settings, hours_ago(47), None).is_empty());
        assert_eq!(
            health(now, &settings, hours_ago(49), None),
            [HealthProblem::NoRecentScan { hours: 49 }]
        );
        assert!(
            health(now, &settings, None, None).is_empty(),
            "no schedule yet"
        );
        let paused = Settings {
            paused: true,
            ..Settings::default()
        };
        assert!(health(now, &paused, hours_ago(100), None).is_empty());
        let counts = |stale: usize| crate::store::TrendCounts {
            total: 100,
            stale,
            ..crate::store::TrendCounts::default()
        };
        assert!(health(now, &settings, hours_ago(1), Some(&counts(25))).is_empty());
        let problems = health(now, &settings, hours_ago(1), Some(&counts(26)));
        assert_eq!(
            problems,
            [HealthProblem::ManyStale {
                stale: 26,
                total: 100
            }]
        );
        assert_eq!(
            problems[0].notification().summary,
            "starttls-monitor: 26 of 100 domains are stale"
        );
        let never = Settings {
            health_stale_percent: 0,
            ..Settings::default()
        };
        assert!(health(now, &never, hours_ago(1), Some(&counts(100))).is_empty());
    }
}
