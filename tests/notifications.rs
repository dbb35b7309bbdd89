//! Desktop notifications through a private D-Bus session bus: the test starts its own
//! `dbus-daemon --session` (its own config and socket in a temporary directory, stopped by the
//! test) and serves a recording org.freedesktop.Notifications stand-in on it (zbus). A cron
//! `scan` (no session bus) stores a regression and shows nothing; `starttls-monitor run` with the
//! bus shows one grouped notification for it ("1 domain lost STARTTLS" — "shop.test"), once: a
//! second `run` shows it again never; in quiet mode a new regression shows nothing.
//!
//! Needs `dbus-daemon` (Debian package `dbus-daemon`; CI installs it). Without it the test says
//! so on stderr and is skipped; under `CI=true` it fails instead.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use starttls_monitor::model::DomainName;
use starttls_monitor::settings::Settings;
use starttls_monitor::store::Store;
use support::dbus::{SessionBus, dbus_ready};
use support::{
    FakeSmtp, Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header,
    unique_loopback_ips,
};

/// One Notify call as the stand-in received it.
#[derive(Clone, Debug)]
struct Shown {
    app_name: String,
    summary: String,
    body: String,
}

/// The recording org.freedesktop.Notifications stand-in.
struct Recorder {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        shown.push(Shown {
            app_name,
            summary,
            body,
        });
        shown.len() as u32
    }

    async fn get_capabilities(&self) -> Vec<String> {
        vec!["body".to_string(), "actions".to_string()]
    }

    async fn get_server_information(&self) -> (String, String, String, String) {
        (
            "recorder".to_string(),
            "starttls-monitor tests".to_string(),
            "1".to_string(),
            "1.2".to_string(),
        )
    }

    async fn close_notification(&self, _id: u32) {}
}

fn binary(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command
        .args(["--db", db.to_str().unwrap()])
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    command
}

/// A cron-like `scan`: no session bus.
async fn cron_scan(db: PathBuf) {
    let output = tokio::task::spawn_blocking(move || binary(&db).arg("scan").output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
}

/// Runs `run` on the bus until `shown` holds `until` notifications (or `wait` passes), then
/// stops it (SIGTERM) and returns its stderr.
async fn run_on_bus(
    db: &Path,
    bus: &SessionBus,
    shown: &Arc<Mutex<Vec<Shown>>>,
    until: usize,
    wait: Duration,
) -> String {
    let child = binary(db)
        .arg("run")
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline && shown.lock().unwrap().len() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn good(pki: &TestPki, host: &str) -> Scenario {
    Scenario::Good {
        cert: pki.leaf(&[host], Validity::Current),
        versions: TlsVersions::Any,
    }
}

async fn restart(fleet: &mut SmtpFleet, ips: &[IpAddr], shop: Scenario, bank: Scenario) {
    let port = fleet.port;
    fleet.servers.clear();
    fleet.servers = vec![
        FakeSmtp::restart(SocketAddr::new(ips[0], port), shop).await,
        FakeSmtp::restart(SocketAddr::new(ips[1], port), bank).await,
    ];
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_regression_is_notified_once_by_run_and_quiet_mode_shows_nothing() {
    if !dbus_ready("a_cron_regression_is_notified_once_by_run_and_quiet_mode_shows_nothing") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new();
    let ca_file = pki.write_ca_file(dir.path());
    let ips = unique_loopback_ips(2);
    let mut zone = soa_header("test");
    zone.push_str(&format!(
        "shop IN MX 10 mx.shop\nmx.shop IN A {}\nbank IN MX 10 mx.bank\nmx.bank IN A {}\n",
        ips[0], ips[1]
    ));
    let dns = TestDns::start(&[("test.", zone.as_str())]).await;
    let mut fleet = SmtpFleet::start(vec![
        (ips[0], good(&pki, "mx.shop.test")),
        (ips[1], good(&pki, "mx.bank.test")),
    ])
    .await;
    let db = dir.path().join("monitor.sqlite3");
    {
        let store = Store::open(&db).unwrap();
        store
            .save_settings(&Settings {
                dns_server: dns.addr.to_string(),
                smtp_port: fleet.port,
                ca_file: Some(ca_file),
                connect_timeout_secs: 2,
                greeting_timeout_secs: 2,
                command_timeout_secs: 2,
                ..Settings::default()
            })
            .unwrap();
        store
            .add_domains(
                None,
                &[
                    DomainName::parse("shop.test").unwrap(),
                    DomainName::parse("bank.test").unwrap(),
                ],
            )
            .unwrap();
    }

    let bus = SessionBus::start(dir.path());
    let shown = Arc::new(Mutex::new(Vec::new()));
    let _stand_in = zbus::connection::Builder::address(bus.address.as_str())
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at(
            "/org/freedesktop/Notifications",
            Recorder {
                shown: shown.clone(),
            },
        )
        .unwrap()
        .build()
        .await
        .unwrap();

    // A baseline, then a regression, both from cron: stored, nothing shown.
    cron_scan(db.clone()).await;
    restart(
        &mut fleet,
        &ips,
        Scenario::NoStarttls,
        good(&pki, "mx.bank.test"),
    )
    .await;
    cron_scan(db.clone()).await;
    assert!(shown.lock().unwrap().is_empty());

    // `run` has the bus: it picks the stored regression up and shows it, grouped.
    let log = run_on_bus(&db, &bus, &shown, 1, Duration::from_secs(20)).await;
    let seen = shown.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}\n{log}");
    assert_eq!(seen[0].app_name, "starttls-monitor");
    assert_eq!(seen[0].summary, "1 domain lost STARTTLS");
    assert_eq!(seen[0].body, "shop.test");
    assert!(
        log.contains("desktop notification: 1 domain lost STARTTLS: shop.test"),
        "{log}"
    );

    // Quiet mode, and a new regression: nothing shown; and the old event is never shown again.
    let quiet = binary(&db)
        .args(["settings", "set", "notify_quiet", "true"])
        .output()
        .unwrap();
    assert!(quiet.status.success(), "{quiet:?}");
    restart(&mut fleet, &ips, Scenario::NoStarttls, Scenario::NoStarttls).await;
    cron_scan(db.clone()).await;
    let log = run_on_bus(&db, &bus, &shown, 2, Duration::from_secs(6)).await;
    assert_eq!(shown.lock().unwrap().len(), 1, "{log}");
    drop(dns);
}
