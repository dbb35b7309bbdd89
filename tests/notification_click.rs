//! A click on a desktop notification reaches the app: through a private `dbus-daemon
//! --session` (its own config and socket, stopped by the test), a stand-in
//! org.freedesktop.Notifications records the actions a notification offers and then invokes
//! the default one, as a desktop does on a click; the monitor the app runs (after
//! `Command::ClickableNotifications`) answers `Event::NotificationClicked` with the
//! notification's first domain, which the app shows. A file of its own: it points this
//! process's session bus address at the private bus.
//!
//! Needs `dbus-daemon` (CI installs it); without it the test says so and is skipped, under
//! `CI=true` it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "support/dbus.rs"]
mod dbus;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dbus::{SessionBus, dbus_ready};

use starttls_monitor::monitor::{Command as MonitorCommand, Event, MonitorHandle, Overrides};
use starttls_monitor::store::Store;
use zbus::object_server::SignalEmitter;

struct Clicker {
    actions: Arc<Mutex<Vec<Vec<String>>>>,
    /// The test's runtime (zbus runs this interface on its own executor).
    runtime: tokio::runtime::Handle,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Clicker {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        _summary: String,
        _body: String,
        actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let id = {
            let mut recorded = self.actions.lock().unwrap();
            recorded.push(actions.clone());
            recorded.len() as u32
        };
        if actions.iter().any(|action| action == "default") {
            // The user clicks a moment after the notification shows.
            let emitter = emitter.to_owned();
            self.runtime.spawn(async move {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let _ = Clicker::action_invoked(&emitter, id, "default").await;
            });
        }
        id
    }

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;

    async fn get_capabilities(&self) -> Vec<String> {
        vec!["body".to_string(), "actions".to_string()]
    }

    async fn get_server_information(&self) -> (String, String, String, String) {
        (
            "clicker".to_string(),
            "starttls-monitor tests".to_string(),
            "1".to_string(),
            "1.2".to_string(),
        )
    }

    async fn close_notification(&self, _id: u32) {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_on_a_notification_shows_its_first_domain_in_the_app() {
    if !dbus_ready("a_click_on_a_notification_shows_its_first_domain_in_the_app") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("monitor.sqlite3");
    drop(Store::open(&db).unwrap());
    // A finished scan that raised two STARTTLS regressions (as stored by a cron `scan`).
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(&format!(
            "INSERT INTO domains (id, name, added_at) VALUES (1, 'shop.test', 0), (2, 'bank.test', 0);
             INSERT INTO scans (id, started_at, finished_at, scope, settings, status, total)
               VALUES (1, {now}, {now}, 'all', '{{}}', 'finished', 2);
             INSERT INTO events (domain_id, scan_id, at, kind, detail) VALUES
               (1, 1, {now}, 'starttls_lost', 'lost'), (2, 1, {now}, 'starttls_lost', 'lost');"
        ))
        .unwrap();

    let bus = SessionBus::start(dir.path());
    let actions = Arc::new(Mutex::new(Vec::new()));
    let _stand_in = zbus::connection::Builder::address(bus.address.as_str())
        .unwrap()
        .name("org.freedesktop.Notifications")
        .unwrap()
        .serve_at(
            "/org/freedesktop/Notifications",
            Clicker {
                actions: actions.clone(),
                runtime: tokio::runtime::Handle::current(),
            },
        )
        .unwrap()
        .build()
        .await
        .unwrap();
    // SAFETY: this test binary has this one test; nothing else reads the environment now.
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address) };

    let monitor = MonitorHandle::start(&db, Overrides::default(), false, Arc::new(|| {})).unwrap();
    monitor.send(MonitorCommand::ClickableNotifications);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let clicked = loop {
        assert!(Instant::now() < deadline, "no click came back: {seen:#?}");
        match monitor.recv_timeout(Duration::from_millis(50)) {
            Some(Event::NotificationClicked(domain)) => break domain,
            Some(event) => seen.push(event),
            None => {}
        }
    };
    assert_eq!(
        clicked.as_str(),
        "shop.test",
        "the first domain of the notification"
    );
    let offered = actions.lock().unwrap().clone();
    assert_eq!(offered.len(), 1, "one grouped notification: {offered:?}");
    assert_eq!(offered[0], ["default", "Show"]);
    monitor.shutdown();
}
