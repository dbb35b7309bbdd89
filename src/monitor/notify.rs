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
    pub kind: ChangeKind,
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
        ChangeKind::StarttlsGained
        | ChangeKind::PfsGained
        | ChangeKind::CertBecameValid
        | ChangeKind::MxChanged => return None,
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
            kind: *kind,
            summary,
            body,
            domains,
        });
    }
    notifications
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

/// Shows one notification; the error in words.
pub async fn show(notification: &DesktopNotification) -> Result<(), String> {
    #[cfg(all(feature = "notify", unix, not(target_os = "macos")))]
    {
        notify_rust::Notification::new()
            .appname("starttls-monitor")
            .summary(&notification.summary)
            .body(&notification.body)
            .icon("mail-send")
            .hint(notify_rust::Hint::Category("network".to_string()))
            .show_async()
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
    #[cfg(not(all(feature = "notify", unix, not(target_os = "macos"))))]
    {
        let _ = notification;
        Err("built without desktop notifications".to_string())
    }
}

/// Claims the unnotified events of finished scans and shows their notifications. Returns what
/// was shown (a notification the service refused is logged and left out).
pub async fn notify_pending(
    store: &SharedStore,
    settings: &Settings,
) -> Result<Vec<DesktopNotification>, StoreError> {
    let since = OffsetDateTime::now_utc() - CLAIM_WINDOW;
    let events = lock(store)?.claim_unnotified_events(since, CLAIM_LIMIT)?;
    let mut shown = Vec::new();
    for notification in group(&events, settings) {
        match show(&notification).await {
            Ok(()) => shown.push(notification),
            Err(error) => tracing::warn!(
                "desktop notification '{}' not shown: {error}",
                notification.summary
            ),
        }
    }
    Ok(shown)
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
        assert_eq!(shown[0].kind, ChangeKind::CertExpiring);

        let quiet = Settings {
            notify_quiet: true,
            ..Settings::default()
        };
        assert!(group(&events, &quiet).is_empty());
    }
}
