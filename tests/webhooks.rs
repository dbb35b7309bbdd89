//! Webhooks against an in-process HTTPS receiver on loopback (certificate from the test CA,
//! trusted through the `ca_file` setting, its name resolved by the test DNS zone): a
//! domain's first result posts nothing (baseline); a scan with a regression posts one signed
//! document (`text`, `scan`, `events` exactly as `export --format json`); a scan without
//! events posts nothing; server errors are retried with backoff; a receiver that never answers
//! times out; a 4xx is not retried; every delivery lands in the log; a failing webhook never
//! fails a cron `scan` (exit 0, a warning); the app's monitor posts after its scan and sends a
//! test message on "Send test".
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ring::hmac;
use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::monitor::scan::{ScanEvent, SharedStore, run_scan};
use starttls_monitor::monitor::webhooks::{WebhookPolicy, post_scan};
use starttls_monitor::monitor::{Command, Event, MonitorHandle, Overrides};
use starttls_monitor::probe::Prober;
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{ScanId, ScanScope, Store};
use support::{
    FakeSmtp, HookReply, HookServer, Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity,
    soa_header, unique_loopback_ips,
};

const SECRET: &str = "correct horse battery staple";

/// Retries 100 ms then 200 ms apart, 2 s each: fast enough for a test, real backoff.
const FAST: WebhookPolicy = WebhookPolicy {
    attempts: 3,
    first_backoff: Duration::from_millis(100),
    timeout: Duration::from_secs(2),
};

struct World {
    _dns: TestDns,
    fleet: SmtpFleet,
    ips: Vec<IpAddr>,
    pki: TestPki,
    hooks: HookServer,
    settings: Settings,
    db: PathBuf,
    store: SharedStore,
    _dir: tempfile::TempDir,
}

fn good(pki: &TestPki, host: &str) -> Scenario {
    Scenario::Good {
        cert: pki.leaf(&[host], Validity::Current),
        versions: TlsVersions::Any,
    }
}

impl World {
    async fn build(script: Vec<HookReply>) -> World {
        let pki = TestPki::new();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = pki.write_ca_file(dir.path());
        let ips = unique_loopback_ips(3);
        let mut zone = soa_header("test");
        zone.push_str(&format!(
            "shop IN MX 10 mx.shop\nmx.shop IN A {}\nbank IN MX 10 mx.bank\nmx.bank IN A {}\nhooks IN A {}\n",
            ips[0], ips[1], ips[2]
        ));
        let dns = TestDns::start(&[("test.", zone.as_str())]).await;
        let fleet = SmtpFleet::start(vec![
            (ips[0], good(&pki, "mx.shop.test")),
            (ips[1], good(&pki, "mx.bank.test")),
        ])
        .await;
        let hooks = HookServer::start(
            ips[2],
            &pki.leaf(&["hooks.test"], Validity::Current),
            script,
        )
        .await
        .unwrap();
        let settings = Settings {
            dns_server: dns.addr.to_string(),
            smtp_port: fleet.port,
            ca_file: Some(ca_file),
            connect_timeout_secs: 2,
            greeting_timeout_secs: 2,
            command_timeout_secs: 2,
            ..Settings::default()
        }
        .edited(&[
            (
                "webhooks",
                &format!("https://hooks.test:{}/in?team=ops", hooks.addr.port()),
            ),
            ("webhook_secret", SECRET),
        ])
        .unwrap();
        let db = dir.path().join("monitor.sqlite3");
        let store = Store::open(&db).unwrap();
        store.save_settings(&settings).unwrap();
        store
            .add_domains(None, &[domain("shop.test"), domain("bank.test")])
            .unwrap();
        World {
            _dns: dns,
            fleet,
            ips,
            pki,
            hooks,
            settings,
            db,
            store: Arc::new(Mutex::new(store)),
            _dir: dir,
        }
    }

    fn prober(&self) -> Prober {
        Prober::new(self.settings.probe_config(&Overrides::default()).unwrap()).unwrap()
    }

    /// One stored scan of both domains; its id.
    async fn scan(&self, prober: &Prober) -> ScanId {
        let mut scan = None;
        run_scan(
            &self.store,
            prober,
            ScanScope::All,
            vec![domain("shop.test"), domain("bank.test")],
            &self.settings,
            |event| {
                if let ScanEvent::Finished { scan: id, .. } = event {
                    scan = Some(id);
                }
            },
        )
        .await
        .unwrap();
        scan.unwrap()
    }

    /// The shop's server stops offering STARTTLS (a regression for the next scan).
    async fn break_shop(&mut self) {
        let port = self.fleet.port;
        self.fleet.servers.clear();
        let shop =
            FakeSmtp::restart(SocketAddr::new(self.ips[0], port), Scenario::NoStarttls).await;
        let bank = FakeSmtp::restart(
            SocketAddr::new(self.ips[1], port),
            good(&self.pki, "mx.bank.test"),
        )
        .await;
        self.fleet.servers = vec![shop, bank];
    }
}

fn domain(name: &str) -> DomainName {
    DomainName::parse(name).unwrap()
}

fn expected_signature(body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET.as_bytes());
    let hex: String = hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regression_posts_one_signed_document_and_baselines_or_quiet_scans_post_nothing() {
    let mut world = World::build(vec![HookReply::Status(200)]).await;
    let prober = world.prober();

    let baseline = world.scan(&prober).await;
    let deliveries = post_scan(
        &world.store,
        prober.https(),
        &world.settings,
        baseline,
        &FAST,
    )
    .await
    .unwrap();
    assert!(
        deliveries.is_empty(),
        "a first result is a baseline: {deliveries:?}"
    );

    world.break_shop().await;
    let regressed = world.scan(&prober).await;
    let deliveries = post_scan(
        &world.store,
        prober.https(),
        &world.settings,
        regressed,
        &FAST,
    )
    .await
    .unwrap();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].delivered, "{deliveries:?}");
    assert_eq!(deliveries[0].attempts, 1);
    assert_eq!(deliveries[0].status, Some(200));
    assert_eq!(deliveries[0].scan, Some(regressed));
    assert_eq!(deliveries[0].events, 1);

    let requests = world.hooks.requests();
    assert_eq!(requests.len(), 1, "one document per scan");
    let request = &requests[0];
    assert_eq!(request.line, "POST /in?team=ops HTTP/1.1");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("x-signature"),
        Some(expected_signature(&request.body).as_str())
    );
    let document: Value = serde_json::from_slice(&request.body).unwrap();
    let text = document["text"].as_str().unwrap();
    assert!(text.contains("1 change, 1 regression"), "{text}");
    assert!(text.contains("shop.test: starttls_lost"), "{text}");
    assert_eq!(document["scan"]["id"], regressed.0);
    assert_eq!(document["scan"]["scope"], "all");
    assert_eq!(document["scan"]["status"], "finished");
    assert_eq!(document["scan"]["counts"]["no_starttls"], 1);
    // The events exactly as `export --format json` writes them.
    let stored = world.store.lock().unwrap().scan_events(regressed).unwrap();
    let exported: Vec<Value> = stored
        .iter()
        .map(|event| {
            serde_json::from_str(&starttls_monitor::report::event_json(event).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(document["events"], Value::Array(exported));
    assert_eq!(document["events"][0]["kind"], "starttls_lost");
    assert_eq!(document["events"][0]["regression"], true);

    // Nothing changed since: no events, no POST.
    let quiet = world.scan(&prober).await;
    let deliveries = post_scan(&world.store, prober.https(), &world.settings, quiet, &FAST)
        .await
        .unwrap();
    assert!(deliveries.is_empty());
    assert_eq!(world.hooks.requests().len(), 1);

    let log = world.store.lock().unwrap().webhook_deliveries(10).unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].delivered);
    assert_eq!(log[0].scan, Some(regressed));
}

/// The world after a baseline scan and a regression: the regressed scan's id.
async fn regressed(world: &mut World, prober: &Prober) -> ScanId {
    world.scan(prober).await;
    world.break_shop().await;
    world.scan(prober).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_backoff_until_delivered() {
    let mut world = World::build(vec![
        HookReply::Status(503),
        HookReply::Status(500),
        HookReply::Status(204),
    ])
    .await;
    let prober = world.prober();
    let scan = regressed(&mut world, &prober).await;
    let started = Instant::now();
    let deliveries = post_scan(&world.store, prober.https(), &world.settings, scan, &FAST)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(deliveries[0].delivered, "{deliveries:?}");
    assert_eq!(deliveries[0].attempts, 3);
    assert_eq!(deliveries[0].status, Some(204));
    assert!(
        elapsed >= Duration::from_millis(300),
        "waited 100 ms, then 200 ms: {elapsed:?}"
    );
    let requests = world.hooks.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|request| request.body == requests[0].body
                && request.header("x-signature") == requests[0].header("x-signature")),
        "each attempt sends the same signed document"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_times_out_and_a_client_error_is_not_retried() {
    let mut world = World::build(vec![HookReply::Late(200, Duration::from_secs(30))]).await;
    let prober = world.prober();
    let scan = regressed(&mut world, &prober).await;
    let policy = WebhookPolicy {
        attempts: 2,
        first_backoff: Duration::from_millis(50),
        timeout: Duration::from_millis(500),
    };
    let started = Instant::now();
    let deliveries = post_scan(&world.store, prober.https(), &world.settings, scan, &policy)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(!deliveries[0].delivered);
    assert_eq!(deliveries[0].attempts, 2);
    assert_eq!(deliveries[0].status, None);
    assert!(
        deliveries[0].detail.contains("timed out after 0.5 s"),
        "{:?}",
        deliveries[0].detail
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");

    world.hooks.set_script(vec![HookReply::Status(404)]);
    let deliveries = post_scan(&world.store, prober.https(), &world.settings, scan, &FAST)
        .await
        .unwrap();
    assert!(!deliveries[0].delivered);
    assert_eq!(deliveries[0].attempts, 1, "a 404 is not retried");
    assert_eq!(deliveries[0].status, Some(404));
    assert_eq!(deliveries[0].detail, "HTTP 404: scripted 404");

    let log = world.store.lock().unwrap().webhook_deliveries(10).unwrap();
    assert_eq!(log.len(), 2, "both failures are in the log");
    assert!(log.iter().all(|delivery| !delivery.delivered));
}

fn binary(db: &Path, args: &[&str]) -> std::process::Output {
    Process::new(env!("CARGO_BIN_EXE_starttls-monitor"))
        .args(["--db", db.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_scan_posts_its_regression_and_a_failing_webhook_never_fails_it() {
    let mut world = World::build(vec![HookReply::Status(200)]).await;
    let db = world.db.clone();
    let run = move |db: PathBuf| tokio::task::spawn_blocking(move || binary(&db, &["scan"]));

    let first = run(db.clone()).await.unwrap();
    assert!(first.status.success(), "{first:?}");
    assert!(
        world.hooks.requests().is_empty(),
        "a baseline posts nothing"
    );

    world.break_shop().await;
    world.hooks.set_script(vec![HookReply::Status(500)]);
    let second = run(db.clone()).await.unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        second.status.success(),
        "a failing webhook fails no scan: {stderr}"
    );
    let port = world.hooks.addr.port();
    assert!(
        stderr.contains(&format!(
            "warning: webhook https://hooks.test:{port}/… not delivered after 3 attempt(s): HTTP 500"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("team=ops"),
        "the URL's path is not logged: {stderr}"
    );
    let requests = world.hooks.requests();
    assert_eq!(requests.len(), 3, "retried");
    let document: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(document["events"][0]["domain"], "shop.test");
    assert_eq!(document["events"][0]["kind"], "starttls_lost");

    let log = Store::open(&db).unwrap().webhook_deliveries(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].attempts, 3);
    assert_eq!(log[0].status, Some(500));
}

fn wait_for(monitor: &MonitorHandle, mut done: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut events = Vec::new();
    while Instant::now() < deadline {
        if let Some(event) = monitor.recv_timeout(Duration::from_millis(50)) {
            let finished = done(&event);
            events.push(event);
            if finished {
                return events;
            }
        }
    }
    panic!("timed out; events so far: {events:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_posts_after_its_scan_and_sends_a_test_message() {
    let mut world = World::build(vec![HookReply::Status(200)]).await;
    let store = Store::open(&world.db).unwrap();
    let monitor =
        MonitorHandle::start_with_store(store, Overrides::default(), false, Arc::new(|| {}));
    let finished = |event: &Event| matches!(event, Event::Scan(ScanEvent::Finished { .. }));

    monitor.send(Command::ScanNow(starttls_monitor::monitor::ScanTarget::All));
    wait_for(&monitor, finished);
    world.break_shop().await;
    monitor.send(Command::ScanNow(starttls_monitor::monitor::ScanTarget::All));
    let events = wait_for(&monitor, |event| {
        matches!(event, Event::WebhooksDelivered { .. })
    });
    let Some(Event::WebhooksDelivered { scan, deliveries }) = events.last() else {
        unreachable!()
    };
    assert!(scan.is_some());
    assert!(deliveries[0].delivered, "{deliveries:?}");
    assert_eq!(
        world.hooks.requests().len(),
        1,
        "the first scan was a baseline"
    );

    monitor.send(Command::SendTestWebhook);
    let events = wait_for(&monitor, |event| {
        matches!(event, Event::WebhooksDelivered { scan: None, .. })
    });
    let Some(Event::WebhooksDelivered { deliveries, .. }) = events.last() else {
        unreachable!()
    };
    assert!(deliveries[0].delivered);
    let requests = world.hooks.requests();
    assert_eq!(requests.len(), 2);
    let test: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert!(test["scan"].is_null());
    assert_eq!(test["events"], serde_json::json!([]));
    assert_eq!(
        requests[1].header("x-signature"),
        Some(expected_signature(&requests[1].body).as_str())
    );
    monitor.shutdown();
}
