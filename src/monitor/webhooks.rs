//! Webhooks: after a scan that raised change events, the process that ran it (the app, `run`,
//! a cron `scan`) POSTs one JSON document to each configured URL, signs it when a secret is
//! set, retries with backoff, and writes each delivery to the store's log.
//!
//! The document (README "Alerts"): `{"text": "...", "scan": {...}, "events": [...]}` — `text`
//! a summary for people (Slack and Mattermost incoming webhooks show it as is), `scan` the
//! scan's id, scope, times, status, network path and counts, `events` each change event
//! exactly as `export --format json` writes it ([`crate::report::event_json`]). A test message
//! ("Send test") has `scan: null` and no events. Signed: `X-Signature: sha256=<hex of
//! HMAC-SHA256(secret, body)>`.
//!
//! Owns: the document, the signature, the retry rule, the delivery log rows. Uses the probe's
//! one HTTPS client ([`crate::probe::Prober::https`]: our roots plus `ca_file`, `https://`
//! only). Must not touch: which events a scan raises (a baseline raises none, so it posts
//! nothing), the UI; a failing webhook never fails the scan — the caller only logs it.

use std::time::Duration;

use ring::hmac;
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::scan::{SharedStore, lock};
use crate::probe::https::{HttpsClient, HttpsRequest, Method};
use crate::settings::{SecretText, Settings, mask_url};
use crate::store::{EventRow, ScanCounts, ScanId, ScanInfo, StoreError, WebhookDelivery};

/// Most bytes of a receiver's answer read (it is only shown in the delivery log).
const ANSWER_LIMIT: usize = 4096;
/// Most characters of a receiver's answer kept in the log's detail.
const ANSWER_SHOWN: usize = 200;
/// Most events named one by one in `text`; the rest are counted.
const TEXT_EVENTS: usize = 20;
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How hard a delivery tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt; it doubles for each later one (at most a minute).
    pub first_backoff: Duration,
    /// The deadline of one attempt: connect, TLS, request and answer.
    pub timeout: Duration,
}

impl Default for WebhookPolicy {
    /// 3 attempts, 2 s then 4 s apart, 10 s each: at most about 36 s per URL.
    fn default() -> Self {
        Self {
            attempts: 3,
            first_backoff: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The `scan` object of a document.
#[derive(Serialize)]
struct ScanJson<'a> {
    id: i64,
    /// As stored: `all`, `list:NAME`, `domain:NAME`, `domains:COUNT`.
    scope: String,
    /// In words: `list Sample`.
    scope_text: String,
    started_at: String,
    finished_at: Option<String>,
    status: &'static str,
    /// `direct` or `socks5://HOST:PORT`.
    path: String,
    counts: Option<&'a ScanCounts>,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

fn json_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("internal error: webhook document: {error}"))
}

/// The summary people read: a first line with the counts, then one line per event (at most
/// [`TEXT_EVENTS`]).
pub fn summary_text(scan: &ScanInfo, events: &[EventRow]) -> String {
    let regressions = events.iter().filter(|event| event.regression).count();
    let plural = |count: usize, word: &str| {
        if count == 1 {
            format!("1 {word}")
        } else {
            format!("{count} {word}s")
        }
    };
    let mut text = format!(
        "starttls-monitor: scan {} of {} — {}, {}",
        scan.id.0,
        scan.scope.describe_for_people(),
        plural(events.len(), "change"),
        plural(regressions, "regression"),
    );
    for event in events.iter().take(TEXT_EVENTS) {
        let mark = if event.regression { "▼" } else { "▲" };
        text.push_str(&format!(
            "\n{mark} {}: {} — {}",
            event.domain,
            event.kind.as_str(),
            event.detail
        ));
    }
    if events.len() > TEXT_EVENTS {
        text.push_str(&format!("\n… and {} more", events.len() - TEXT_EVENTS));
    }
    text
}

/// The document for `scan` and its `events` (compact JSON, UTF-8).
pub fn scan_document(scan: &ScanInfo, rows: &[EventRow]) -> Result<Vec<u8>, StoreError> {
    let scan_json = ScanJson {
        id: scan.id.0,
        scope: scan.scope.to_string(),
        scope_text: scan.scope.describe_for_people(),
        started_at: rfc3339(scan.started_at),
        finished_at: scan.finished_at.map(rfc3339),
        status: scan.status.as_str(),
        path: scan.path.to_string(),
        counts: scan.counts.as_ref(),
    };
    let events = rows
        .iter()
        .map(|event| {
            let line = crate::report::event_json(event).map_err(json_error)?;
            serde_json::from_str::<Value>(&line).map_err(json_error)
        })
        .collect::<Result<Vec<Value>, StoreError>>()?;
    let document = serde_json::json!({
        "text": summary_text(scan, rows),
        "scan": serde_json::to_value(scan_json).map_err(json_error)?,
        "events": events,
    });
    serde_json::to_vec(&document).map_err(json_error)
}

/// The document of a test message: `text` says so, `scan` is null, `events` empty.
pub fn test_document(now: OffsetDateTime) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(&serde_json::json!({
        "text": format!(
            "starttls-monitor: test message ({}); real messages list a scan's change events",
            rfc3339(now)
        ),
        "scan": Value::Null,
        "events": [],
    }))
    .map_err(json_error)
}

/// `sha256=<lower-case hex of HMAC-SHA256(secret, body)>`: the `X-Signature` value.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, body);
    let hex: String = tag
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// How a delivery ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryOutcome {
    pub attempts: u32,
    pub status: Option<u16>,
    pub delivered: bool,
    pub detail: String,
}

/// Whether an answer with this status is worth another attempt: a server error, 408 or 429.
fn status_is_retried(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

/// The receiver's answer for the log: printable characters only, at most [`ANSWER_SHOWN`].
fn answer_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(ANSWER_SHOWN)
        .collect();
    cleaned.trim().to_string()
}

/// POSTs `body` to `url` (already checked by [`crate::settings::webhook_url`]) until it is
/// answered 2xx, an answer says retrying is pointless (a 4xx other than 408/429, a redirect,
/// a certificate that is not valid), or `policy.attempts` are spent.
pub async fn deliver(
    client: &HttpsClient,
    url: &url::Url,
    body: &[u8],
    secret: &SecretText,
    policy: &WebhookPolicy,
) -> DeliveryOutcome {
    let client = client.with_deadline(policy.timeout);
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let mut headers = Vec::new();
    if !secret.as_str().is_empty() {
        headers.push(("X-Signature".to_string(), signature(secret.as_str(), body)));
    }
    let request = HttpsRequest {
        method: Method::Post,
        host: url.host_str().unwrap_or_default().to_string(),
        port: url.port_or_known_default().unwrap_or(443),
        path,
        body: Some(("application/json".to_string(), body.to_vec())),
        headers,
        body_limit: ANSWER_LIMIT,
    };
    let attempts = policy.attempts.max(1);
    let mut outcome = DeliveryOutcome {
        attempts: 0,
        status: None,
        delivered: false,
        detail: String::new(),
    };
    let mut backoff = policy.first_backoff;
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        outcome.attempts = attempt;
        let retry = match client.send(&request).await {
            Ok(response) => {
                outcome.status = Some(response.status);
                let answer = answer_text(&response.body);
                outcome.detail = if answer.is_empty() {
                    format!("HTTP {}", response.status)
                } else {
                    format!("HTTP {}: {answer}", response.status)
                };
                if (200..300).contains(&response.status) {
                    outcome.delivered = true;
                    return outcome;
                }
                status_is_retried(response.status)
            }
            Err(error) => {
                outcome.status = None;
                outcome.detail = error.to_string();
                error.kind() != "tls_certificate"
            }
        };
        if !retry {
            break;
        }
    }
    outcome
}

/// Posts one document to every webhook of `settings` at once, writes each delivery to the
/// log, and returns them (in the order of the setting). A log that cannot be written is
/// logged and skipped: the delivery happened.
async fn post_everywhere(
    store: &SharedStore,
    client: &HttpsClient,
    settings: &Settings,
    scan: Option<ScanId>,
    events: usize,
    body: Vec<u8>,
    policy: &WebhookPolicy,
) -> Vec<WebhookDelivery> {
    let urls = settings.webhook_urls();
    let mut posts = tokio::task::JoinSet::new();
    for (index, url) in urls.into_iter().enumerate() {
        let (client, body, secret, policy) = (
            client.clone(),
            body.clone(),
            settings.webhook_secret.clone(),
            *policy,
        );
        posts.spawn(async move {
            let outcome = deliver(&client, &url, &body, &secret, &policy).await;
            (index, url, outcome)
        });
    }
    let mut deliveries = Vec::new();
    while let Some(joined) = posts.join_next().await {
        let Ok((index, url, outcome)) = joined else {
            tracing::warn!("a webhook delivery task failed");
            continue;
        };
        let mut delivery = WebhookDelivery {
            id: 0,
            at: OffsetDateTime::now_utc(),
            url: url.to_string(),
            scan,
            events,
            attempts: outcome.attempts,
            status: outcome.status,
            delivered: outcome.delivered,
            detail: outcome.detail,
        };
        let shown = mask_url(url.as_str());
        if delivery.delivered {
            tracing::info!("webhook {shown}: delivered ({})", delivery.detail);
        } else {
            tracing::warn!(
                "webhook {shown}: not delivered after {} attempt(s): {}",
                delivery.attempts,
                delivery.detail
            );
        }
        match lock(store).and_then(|store| store.record_webhook_delivery(&delivery)) {
            Ok(id) => delivery.id = id,
            Err(error) => tracing::warn!("webhook {shown}: delivery not logged: {error}"),
        }
        deliveries.push((index, delivery));
    }
    deliveries.sort_by_key(|(index, _)| *index);
    deliveries
        .into_iter()
        .map(|(_, delivery)| delivery)
        .collect()
}

/// After scan `scan`: when it raised change events and webhooks are set, posts its document
/// to each. Returns the deliveries (empty: nothing to post). Only reading the scan can fail;
/// a webhook's failure is in its delivery.
pub async fn post_scan(
    store: &SharedStore,
    client: &HttpsClient,
    settings: &Settings,
    scan: ScanId,
    policy: &WebhookPolicy,
) -> Result<Vec<WebhookDelivery>, StoreError> {
    if settings.webhook_urls().is_empty() {
        return Ok(Vec::new());
    }
    let (info, events) = {
        let store = lock(store)?;
        (store.scan_info(scan)?, store.scan_events(scan)?)
    };
    let Some(info) = info else {
        return Ok(Vec::new());
    };
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let body = scan_document(&info, &events)?;
    Ok(post_everywhere(
        store,
        client,
        settings,
        Some(scan),
        events.len(),
        body,
        policy,
    )
    .await)
}

/// "Send test": posts [`test_document`] to each webhook and logs it (without a scan).
pub async fn send_test(
    store: &SharedStore,
    client: &HttpsClient,
    settings: &Settings,
    policy: &WebhookPolicy,
) -> Result<Vec<WebhookDelivery>, StoreError> {
    let body = test_document(OffsetDateTime::now_utc())?;
    Ok(post_everywhere(store, client, settings, None, 0, body, policy).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetworkPath;
    use crate::store::{ChangeKind, RecordedScope, ScanStatus};

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    fn scan() -> ScanInfo {
        ScanInfo {
            id: ScanId(7),
            started_at: at(1_780_000_000),
            finished_at: Some(at(1_780_000_060)),
            scope: RecordedScope::List("Shops".into()),
            status: ScanStatus::Finished,
            total: 2,
            done: 2,
            counts: Some(ScanCounts {
                total: 2,
                done: 2,
                ..ScanCounts::default()
            }),
            path: NetworkPath::Direct,
        }
    }

    fn event(id: i64, domain: &str, kind: ChangeKind, detail: &str) -> EventRow {
        EventRow {
            id,
            domain: domain.into(),
            at: at(1_780_000_030),
            kind,
            detail: detail.into(),
            regression: kind.is_regression(),
            scan_id: None,
        }
    }

    #[test]
    fn the_signature_is_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_document_has_text_scan_and_the_export_events() {
        let events = vec![
            event(
                1,
                "shop.test",
                ChangeKind::StarttlsLost,
                "STARTTLS lost: now no_starttls (was tls_ok)",
            ),
            event(
                2,
                "bank.test",
                ChangeKind::CertBecameValid,
                "certificate now passes",
            ),
        ];
        let body = scan_document(&scan(), &events).unwrap();
        let document: Value = serde_json::from_slice(&body).unwrap();
        let keys: Vec<&str> = document
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["events", "scan", "text"]);
        let text = document["text"].as_str().unwrap();
        assert!(
            text.starts_with("starttls-monitor: scan 7 of list Shops — 2 changes, 1 regression"),
            "{text}"
        );
        assert!(
            text.contains("▼ shop.test: starttls_lost — STARTTLS lost"),
            "{text}"
        );
        assert_eq!(document["scan"]["id"], 7);
        assert_eq!(document["scan"]["scope"], "list:Shops");
        assert_eq!(document["scan"]["status"], "finished");
        assert_eq!(document["scan"]["path"], "direct");
        assert_eq!(document["scan"]["finished_at"], "2026-05-28T20:27:40Z");
        assert_eq!(document["scan"]["counts"]["done"], 2);
        // Each event exactly as `export --format json` writes it.
        for (index, row) in events.iter().enumerate() {
            let exported: Value =
                serde_json::from_str(&crate::report::event_json(row).unwrap()).unwrap();
            assert_eq!(document["events"][index], exported);
        }
        assert_eq!(document["events"][0]["regression"], true);
    }

    #[test]
    fn a_long_scan_names_twenty_events_and_counts_the_rest() {
        let events: Vec<EventRow> = (0..25)
            .map(|n| event(n, &format!("d{n}.test"), ChangeKind::PfsLost, "lost"))
            .collect();
        let text = summary_text(&scan(), &events);
        assert_eq!(text.lines().count(), 1 + 20 + 1);
        assert!(text.ends_with("… and 5 more"), "{text}");
    }

    #[test]
    fn the_test_message_has_no_scan_and_no_events() {
        let document: Value = serde_json::from_slice(&test_document(at(0)).unwrap()).unwrap();
        assert!(document["scan"].is_null());
        assert_eq!(document["events"], serde_json::json!([]));
        assert!(document["text"].as_str().unwrap().contains("test message"));
    }

    #[test]
    fn server_errors_and_throttling_are_retried_other_answers_not() {
        for status in [500, 502, 503, 408, 429] {
            assert!(status_is_retried(status), "{status}");
        }
        for status in [200, 301, 400, 401, 403, 404, 410] {
            assert!(!status_is_retried(status), "{status}");
        }
        assert_eq!(answer_text(b"  bad\r\nrequest\x07 "), "bad  request");
    }
}
