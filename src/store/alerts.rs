//! What alerts need of the database: the change events one scan raised (what a webhook
//! carries), the webhook delivery log (`webhook_deliveries`, schema 5), and which events a
//! desktop notification has claimed (`events.notified_at`, schema 6).
//!
//! Owns: reading and writing those rows, and keeping the log bounded
//! ([`MAX_WEBHOOK_DELIVERIES`]). Must not touch: HTTP, payloads, signatures (`monitor::webhooks`),
//! which events are raised (`model::changes`).

use rusqlite::params;
use time::OffsetDateTime;

use super::results::timestamp;
use super::{ChangeKind, EventRow, ScanId, Store, StoreError};

/// Most delivery-log rows kept; older ones are deleted as new ones are written.
pub const MAX_WEBHOOK_DELIVERIES: usize = 200;

/// One POST of one document to one webhook URL, with its retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// The log row (0 before it is stored).
    pub id: i64,
    /// When the delivery ended (delivered or given up).
    pub at: OffsetDateTime,
    /// The URL as set. May carry a token in its path: show it with
    /// [`crate::settings::mask_url`] in logs.
    pub url: String,
    /// The scan whose events were posted; None for a test message.
    pub scan: Option<ScanId>,
    /// How many events the document carried.
    pub events: usize,
    /// Attempts made (1 when the first one was answered 2xx).
    pub attempts: u32,
    /// The HTTP status of the last answer; None when no attempt got one.
    pub status: Option<u16>,
    /// Whether an attempt was answered 2xx.
    pub delivered: bool,
    /// What happened, in words ("200 OK", "timed out after 10 s while waiting for the
    /// response", ...).
    pub detail: String,
}

impl Store {
    /// The change events scan `scan` raised, oldest first (by time, then as stored).
    pub fn scan_events(&self, scan: ScanId) -> Result<Vec<EventRow>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT e.id, d.name, e.at, e.kind, e.detail FROM events e
                 JOIN domains d ON d.id = e.domain_id
                 WHERE e.scan_id = ?1 ORDER BY e.at, e.id",
            )
            .map_err(|error| self.fail(error))?;
        let rows = statement
            .query_map(params![scan.0], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })
            .map_err(|error| self.fail(error))?;
        let mut events = Vec::new();
        for row in rows {
            let (id, domain, at, kind, detail) = row.map_err(|error| self.fail(error))?;
            // A kind this build does not know is left out, as `Store::events` does.
            let Ok(kind) = kind.parse::<ChangeKind>() else {
                continue;
            };
            events.push(EventRow {
                id,
                domain,
                at: timestamp(at),
                kind,
                detail,
                regression: kind.is_regression(),
                scan_id: None,
            });
        }
        Ok(events)
    }

    /// Claims the events not yet claimed for a notification that happened at or after
    /// `since`, of scans no longer running (so a scan's events are grouped together; oldest
    /// first, at most `limit`), marking each `notified_at = now`; older
    /// unclaimed ones are marked without being returned (no backlog after a long pause). Each
    /// row is claimed by one conditional UPDATE, so when the app and `run` ask at once, every
    /// event goes to exactly one of them.
    pub fn claim_unnotified_events(
        &self,
        since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<EventRow>, StoreError> {
        let fail = |error: rusqlite::Error| self.fail(error);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.connection
            .execute(
                "UPDATE events SET notified_at = ?1 WHERE notified_at IS NULL AND at < ?2",
                params![now, since.unix_timestamp()],
            )
            .map_err(fail)?;
        let candidates = {
            let mut statement = self
                .connection
                .prepare_cached(
                    "SELECT e.id, d.name, e.at, e.kind, e.detail FROM events e
                     JOIN domains d ON d.id = e.domain_id
                     WHERE e.notified_at IS NULL AND e.at >= ?1
                       AND (e.scan_id IS NULL OR EXISTS (SELECT 1 FROM scans s
                            WHERE s.id = e.scan_id AND s.status != 'running'))
                     ORDER BY e.at, e.id LIMIT ?2",
                )
                .map_err(fail)?;
            let rows = statement
                .query_map(params![since.unix_timestamp(), limit as i64], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, String>(4)?,
                    ))
                })
                .map_err(fail)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(fail)?
        };
        let mut claimed = Vec::new();
        let mut claim = self
            .connection
            .prepare_cached(
                "UPDATE events SET notified_at = ?1 WHERE id = ?2 AND notified_at IS NULL",
            )
            .map_err(fail)?;
        for (id, domain, at, kind, detail) in candidates {
            if claim.execute(params![now, id]).map_err(fail)? == 0 {
                continue;
            }
            let Ok(kind) = kind.parse::<ChangeKind>() else {
                continue;
            };
            claimed.push(EventRow {
                id,
                domain,
                at: timestamp(at),
                kind,
                detail,
                regression: kind.is_regression(),
                scan_id: None,
            });
        }
        Ok(claimed)
    }

    /// Writes one delivery to the log (its `id` is ignored) and deletes the oldest rows beyond
    /// [`MAX_WEBHOOK_DELIVERIES`]. Returns the new row's id.
    pub fn record_webhook_delivery(&self, delivery: &WebhookDelivery) -> Result<i64, StoreError> {
        let transaction = self
            .connection
            .unchecked_transaction()
            .map_err(|error| self.fail(error))?;
        transaction
            .execute(
                "INSERT INTO webhook_deliveries (at, url, scan_id, events, attempts, status, delivered, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    delivery.at.unix_timestamp(),
                    delivery.url,
                    delivery.scan.map(|scan| scan.0),
                    delivery.events as i64,
                    delivery.attempts,
                    delivery.status,
                    delivery.delivered,
                    delivery.detail,
                ],
            )
            .map_err(|error| self.fail(error))?;
        let id = transaction.last_insert_rowid();
        transaction
            .execute(
                "DELETE FROM webhook_deliveries WHERE id <= ?1 - ?2",
                params![id, MAX_WEBHOOK_DELIVERIES as i64],
            )
            .map_err(|error| self.fail(error))?;
        transaction.commit().map_err(|error| self.fail(error))?;
        Ok(id)
    }

    /// The most recent deliveries, newest first.
    pub fn webhook_deliveries(&self, limit: usize) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT id, at, url, scan_id, events, attempts, status, delivered, detail
                 FROM webhook_deliveries ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|error| self.fail(error))?;
        let rows = statement
            .query_map(params![limit as i64], |row| {
                Ok(WebhookDelivery {
                    id: row.get(0)?,
                    at: timestamp(row.get(1)?),
                    url: row.get(2)?,
                    scan: row.get::<_, Option<i64>>(3)?.map(ScanId),
                    events: row.get::<_, i64>(4)?.max(0) as usize,
                    attempts: row.get(5)?,
                    status: row.get(6)?,
                    delivered: row.get(7)?,
                    detail: row.get(8)?,
                })
            })
            .map_err(|error| self.fail(error))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|error| self.fail(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(n: u32) -> WebhookDelivery {
        WebhookDelivery {
            id: 0,
            at: timestamp(1_700_000_000 + i64::from(n)),
            url: format!("https://hooks.example.com/{n}"),
            scan: n.is_multiple_of(2).then_some(ScanId(i64::from(n))),
            events: n as usize,
            attempts: 1 + n % 3,
            status: (!n.is_multiple_of(3)).then_some(200),
            delivered: !n.is_multiple_of(3),
            detail: format!("attempt {n}"),
        }
    }

    #[test]
    fn the_delivery_log_reads_back_newest_first_and_stays_bounded() {
        let store = Store::open_in_memory().unwrap();
        assert!(store.webhook_deliveries(10).unwrap().is_empty());
        let first = store.record_webhook_delivery(&delivery(1)).unwrap();
        let read = store.webhook_deliveries(10).unwrap();
        assert_eq!(
            read,
            vec![WebhookDelivery {
                id: first,
                ..delivery(1)
            }]
        );
        for n in 2..=(MAX_WEBHOOK_DELIVERIES as u32 + 5) {
            store.record_webhook_delivery(&delivery(n)).unwrap();
        }
        let all = store.webhook_deliveries(10_000).unwrap();
        assert_eq!(all.len(), MAX_WEBHOOK_DELIVERIES);
        assert_eq!(
            all[0].detail,
            format!("attempt {}", MAX_WEBHOOK_DELIVERIES + 5)
        );
        assert_eq!(all.last().unwrap().detail, "attempt 6");
    }

    #[test]
    fn each_event_of_a_finished_scan_is_claimed_once_and_old_ones_never() {
        let store = Store::open_in_memory().unwrap();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        store
            .connection
            .execute_batch(&format!(
                "INSERT INTO domains (id, name, added_at) VALUES (1, 'a.example', 0), (2, 'b.example', 0);
                 INSERT INTO scans (id, started_at, scope, settings, status, total) VALUES
                   (1, {now}, 'all', '{{}}', 'finished', 2), (2, {now}, 'all', '{{}}', 'running', 2);
                 INSERT INTO events (id, domain_id, scan_id, at, kind, detail) VALUES
                   (1, 1, 1, {now}, 'starttls_lost', 'lost'),
                   (2, 2, 1, {now}, 'cert_expiring', 'soon'),
                   (3, 2, 2, {now}, 'pfs_lost', 'running scan'),
                   (4, 1, NULL, {old}, 'starttls_lost', 'long ago');",
                old = now - 30 * 86_400
            ))
            .unwrap();
        let since = timestamp(now - 86_400);
        let claimed = store.claim_unnotified_events(since, 100).unwrap();
        let ids: Vec<i64> = claimed.iter().map(|event| event.id).collect();
        assert_eq!(
            ids,
            [1, 2],
            "the running scan's event waits; the old one is never shown"
        );
        assert_eq!(claimed[0].kind, ChangeKind::StarttlsLost);
        assert!(
            store
                .claim_unnotified_events(since, 100)
                .unwrap()
                .is_empty(),
            "once"
        );
        store
            .connection
            .execute("UPDATE scans SET status = 'finished' WHERE id = 2", [])
            .unwrap();
        let later = store.claim_unnotified_events(since, 100).unwrap();
        assert_eq!(later.iter().map(|event| event.id).collect::<Vec<_>>(), [3]);
        let old_marked: Option<i64> = store
            .connection
            .query_row("SELECT notified_at FROM events WHERE id = 4", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert!(old_marked.is_some());
    }
}
