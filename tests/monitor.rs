//! The background monitor as the app uses it: commands in, events out, the waker called;
//! change events across two scans whose servers changed in between; "port 25 looks blocked";
//! cancellation; settings saved; scheduled scans.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use starttls_monitor::model::DomainName;
use starttls_monitor::monitor::{
    Command, Event, MonitorHandle, Overrides, ScanEnd, ScanEvent, ScanTarget,
};
use starttls_monitor::probe::DnsServer;
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{ChangeKind, Store};
use support::{
    FakeSmtp, Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header,
    unique_loopback_ips,
};

fn overrides(dns: &TestDns, port: u16, ca_file: &std::path::Path) -> Overrides {
    Overrides {
        dns: Some(DnsServer::Custom(dns.addr)),
        smtp_port: Some(port),
        ca_file: Some(ca_file.to_path_buf()),
        timeout: Some(Duration::from_secs(2)),
        greeting_timeout: Some(Duration::from_secs(2)),
        ..Overrides::default()
    }
}

/// Collects events until `done` says so or `limit` passes.
fn wait_for(
    monitor: &MonitorHandle,
    limit: Duration,
    mut done: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let deadline = std::time::Instant::now() + limit;
    let mut events = Vec::new();
    while std::time::Instant::now() < deadline {
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

/// Sends settings the monitor must refuse, and returns the problems it names.
fn rejected_problems(monitor: &MonitorHandle, settings: Settings) -> Vec<String> {
    monitor.send(Command::SaveSettings(Box::new(settings)));
    let events = wait_for(monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::SettingsRejected { .. })
    });
    let Some(Event::SettingsRejected { problems }) = events.last() else {
        panic!("no rejection event");
    };
    problems.clone()
}

fn is_finished(event: &Event) -> bool {
    matches!(event, Event::Scan(ScanEvent::Finished { .. }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_events_across_two_scans_whose_servers_changed() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = pki.write_ca_file(dir.path());
    let ips = unique_loopback_ips(2);
    let mut zone = soa_header("test");
    zone.push_str(&format!(
        "shop IN MX 10 mx.shop\nmx.shop IN A {}\nbank IN MX 10 mx.bank\nmx.bank IN A {}\n",
        ips[0], ips[1]
    ));
    let dns = TestDns::start(&[("test.", zone.as_str())]).await;
    let mut fleet = SmtpFleet::start(vec![
        (
            ips[0],
            Scenario::Good {
                cert: pki.leaf(&["mx.shop.test"], Validity::Current),
                versions: TlsVersions::Any,
            },
        ),
        (
            ips[1],
            Scenario::Good {
                cert: pki.leaf(&["mx.bank.test"], Validity::Current),
                versions: TlsVersions::Any,
            },
        ),
    ])
    .await;
    let port = fleet.port;
    let store = Store::open(&dir.path().join("monitor.sqlite3")).expect("store");
    store
        .add_domains(
            None,
            &[
                DomainName::parse("shop.test").expect("valid"),
                DomainName::parse("bank.test").expect("valid"),
            ],
        )
        .expect("add");
    let wakes = Arc::new(AtomicUsize::new(0));
    let waker = {
        let wakes = wakes.clone();
        Arc::new(move || {
            wakes.fetch_add(1, Ordering::SeqCst);
        })
    };
    let monitor =
        MonitorHandle::start_with_store(store, overrides(&dns, port, &ca_file), false, waker);

    monitor.send(Command::ScanNow(ScanTarget::All));
    let events = wait_for(&monitor, Duration::from_secs(20), is_finished);
    assert!(events.iter().any(|event| matches!(
        event,
        Event::Scan(ScanEvent::Progress {
            done: 2,
            total: 2,
            ..
        })
    )));
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, Event::Scan(ScanEvent::Changes(_)))),
        "a first scan raises no changes"
    );
    // The waker runs right after each event is queued; give the last call a moment.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        wakes.load(Ordering::SeqCst) >= events.len(),
        "the waker runs for each event"
    );

    // Between scans: the shop's server stops offering STARTTLS, the bank's certificate expires.
    fleet.servers.clear();
    let _shop = FakeSmtp::restart(SocketAddr::new(ips[0], port), Scenario::NoStarttls).await;
    let _bank = FakeSmtp::restart(
        SocketAddr::new(ips[1], port),
        Scenario::Good {
            cert: pki.leaf(&["mx.bank.test"], Validity::Expired),
            versions: TlsVersions::Any,
        },
    )
    .await;

    monitor.send(Command::ScanNow(ScanTarget::All));
    let events = wait_for(&monitor, Duration::from_secs(20), is_finished);
    let mut changes: Vec<(String, ChangeKind)> = events
        .iter()
        .filter_map(|event| match event {
            Event::Scan(ScanEvent::Changes(changes)) => Some(changes.clone()),
            _ => None,
        })
        .flatten()
        .map(|change| (change.domain.to_string(), change.kind))
        .collect();
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        changes,
        vec![
            ("bank.test".to_string(), ChangeKind::CertBecameInvalid),
            ("bank.test".to_string(), ChangeKind::CertExpiring),
            ("shop.test".to_string(), ChangeKind::StarttlsLost),
        ]
    );
    monitor.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_port_25_everywhere_is_reported_once_as_blocked() {
    // Listeners whose accept queue is full: further connection attempts get no answer at all,
    // like a firewall that drops outbound port 25. Loopback only.
    let ips = unique_loopback_ips(22);
    let probe_listener = std::net::TcpListener::bind((ips[0], 0)).expect("pick a port");
    let port = probe_listener.local_addr().expect("addr").port();
    drop(probe_listener);
    let mut keep = Vec::new();
    for ip in &ips {
        let socket = match ip {
            IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .expect("socket");
        socket.bind(SocketAddr::new(*ip, port)).expect("bind");
        let listener = socket.listen(1).expect("listen");
        // Fill the accept queue; a connection attempt that hangs means it is full.
        let mut fillers = Vec::new();
        for _ in 0..4 {
            match tokio::time::timeout(
                Duration::from_millis(300),
                tokio::net::TcpStream::connect(SocketAddr::new(*ip, port)),
            )
            .await
            {
                Ok(Ok(stream)) => fillers.push(stream),
                _ => break,
            }
        }
        keep.push((listener, fillers));
    }
    let mut zone = soa_header("test");
    let mut domains = Vec::new();
    for (index, ip) in ips.iter().enumerate() {
        zone.push_str(&format!(
            "d{index} IN MX 10 mx.d{index}\nmx.d{index} IN A {ip}\n"
        ));
        domains.push(DomainName::parse(&format!("d{index}.test")).expect("valid"));
    }
    let dns = TestDns::start(&[("test.", zone.as_str())]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("monitor.sqlite3")).expect("store");
    store.add_domains(None, &domains).expect("add");
    let pki = TestPki::new();
    let ca_file = pki.write_ca_file(dir.path());
    let mut overrides = overrides(&dns, port, &ca_file);
    overrides.timeout = Some(Duration::from_secs(1));
    let monitor = MonitorHandle::start_with_store(store, overrides, false, Arc::new(|| {}));
    monitor.send(Command::ScanNow(ScanTarget::All));
    let events = wait_for(&monitor, Duration::from_secs(60), is_finished);
    let blocked = events
        .iter()
        .filter(|event| matches!(event, Event::Scan(ScanEvent::Port25Blocked { .. })))
        .count();
    assert_eq!(blocked, 1, "said once: {events:#?}");
    let results: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            Event::Scan(ScanEvent::DomainProbed(result)) => Some(result),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), ips.len());
    for result in &results {
        assert_eq!(result.verdict.as_str(), "untestable", "never 'no STARTTLS'");
    }
    assert!(
        results.iter().any(|result| result.mx[0].addresses[0]
            .detail
            .contains("port 25 looks blocked")),
        "results after the detection say why"
    );
    monitor.shutdown();
    drop(keep);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_scan_and_settings_are_saved() {
    let ips = unique_loopback_ips(3);
    let mut zone = soa_header("test");
    let mut servers = Vec::new();
    let mut domains = Vec::new();
    for (index, ip) in ips.iter().enumerate() {
        zone.push_str(&format!(
            "slow{index} IN MX 10 mx.slow{index}\nmx.slow{index} IN A {ip}\n"
        ));
        servers.push((*ip, Scenario::SilentGreeting));
        domains.push(DomainName::parse(&format!("slow{index}.test")).expect("valid"));
    }
    let fleet = SmtpFleet::start(servers).await;
    let dns = TestDns::start(&[("test.", zone.as_str())]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("monitor.sqlite3");
    let store = Store::open(&db_path).expect("store");
    store.add_domains(None, &domains).expect("add");
    let pki = TestPki::new();
    let ca_file = pki.write_ca_file(dir.path());
    let mut overrides = overrides(&dns, fleet.port, &ca_file);
    overrides.greeting_timeout = Some(Duration::from_secs(60));
    let monitor = MonitorHandle::start_with_store(store, overrides, false, Arc::new(|| {}));

    monitor.send(Command::ScanNow(ScanTarget::All));
    let events = wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::Scan(ScanEvent::Started { .. }))
    });
    // The scope in words for the status line, not the stored `all`.
    assert!(
        matches!(events.last(), Some(Event::Scan(ScanEvent::Started { scope, .. })) if scope == "all domains"),
        "{:?}",
        events.last()
    );
    // A second scan of the same domains while the first runs has nothing to do.
    monitor.send(Command::ScanNow(ScanTarget::All));
    let events = wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::ScanSkipped { .. })
    });
    assert!(
        matches!(events.last(), Some(Event::ScanSkipped { reason }) if reason.starts_with("nothing to scan for all domains:")),
        "{:?}",
        events.last()
    );
    monitor.send(Command::CancelScans);
    let events = wait_for(&monitor, Duration::from_secs(10), is_finished);
    assert!(matches!(
        events.last(),
        Some(Event::Scan(ScanEvent::Finished {
            end: ScanEnd::Cancelled,
            ..
        }))
    ));

    let settings = Settings {
        concurrency: 3,
        scan_interval_hours: 6,
        ..Settings::default()
    };
    monitor.send(Command::SaveSettings(Box::new(settings.clone())));
    wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::SettingsSaved(_))
    });
    let invalid = Settings {
        concurrency: 0,
        ..Settings::default()
    };
    let problems = rejected_problems(&monitor, invalid);
    assert!(
        problems.iter().any(|p| p.contains("concurrency")),
        "{problems:?}"
    );

    // A CA file that cannot be read is refused before anything is saved, naming the file.
    let unreadable = Settings {
        ca_file: Some(dir.path().join("missing-ca.pem")),
        ..settings.clone()
    };
    let problems = rejected_problems(&monitor, unreadable);
    assert!(
        problems.iter().any(|p| p.contains("missing-ca.pem")),
        "{problems:?}"
    );
    // So is one that is there but is not PEM (a DER file picked by mistake, say).
    let der = dir.path().join("corporate-ca.der");
    std::fs::write(&der, [0x30, 0x82, 0x03, 0x1c, 0x30, 0x82]).expect("write");
    let not_pem = Settings {
        ca_file: Some(der),
        ..settings.clone()
    };
    let problems = rejected_problems(&monitor, not_pem);
    assert!(
        problems.iter().any(|p| p.contains("corporate-ca.der")),
        "{problems:?}"
    );
    monitor.shutdown();

    let store = Store::open(&db_path).expect("reopen");
    assert_eq!(store.settings().expect("settings"), settings);
    let scan = store.last_scan().expect("scans").expect("one");
    assert_eq!(scan.status.as_str(), "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_waits_for_the_users_first_scan_and_then_says_when_the_next_is_due() {
    let pki = TestPki::new();
    let ips = unique_loopback_ips(1);
    let mut zone = soa_header("test");
    zone.push_str(&format!(
        "sched IN MX 10 mx.sched\nmx.sched IN A {}\n",
        ips[0]
    ));
    let fleet = SmtpFleet::start(vec![(
        ips[0],
        Scenario::Good {
            cert: pki.leaf(&["mx.sched.test"], Validity::Current),
            versions: TlsVersions::Any,
        },
    )])
    .await;
    let dns = TestDns::start(&[("test.", zone.as_str())]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = pki.write_ca_file(dir.path());
    let db_path = dir.path().join("monitor.sqlite3");
    let store = Store::open(&db_path).expect("store");
    store
        .add_domains(None, &[DomainName::parse("sched.test").expect("valid")])
        .expect("add");
    let monitor = MonitorHandle::start_with_store(
        store,
        overrides(&dns, fleet.port, &ca_file),
        true,
        Arc::new(|| {}),
    );
    // Never scanned before: no scan starts by itself (the user may still be adding domains),
    // and no next scan time is announced.
    let events = wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::ScheduleChanged { .. })
    });
    assert!(
        matches!(
            events.last(),
            Some(Event::ScheduleChanged {
                paused: false,
                next_scan_at: None
            })
        ),
        "{events:#?}"
    );
    let quiet = std::time::Instant::now();
    while quiet.elapsed() < Duration::from_millis(1500) {
        if let Some(event) = monitor.recv_timeout(Duration::from_millis(100)) {
            assert!(
                !matches!(event, Event::Scan(ScanEvent::Started { .. })),
                "a scan started before the user asked: {event:?}"
            );
        }
    }
    // The user's first scan starts the schedule.
    monitor.send(Command::ScanNow(ScanTarget::All));
    let events = wait_for(&monitor, Duration::from_secs(20), is_finished);
    let next = events.iter().rev().find_map(|event| match event {
        Event::ScheduleChanged {
            next_scan_at: Some(at),
            ..
        } => Some(*at),
        _ => None,
    });
    let next = next.expect("the next scan time is announced");
    let hours = (next - time::OffsetDateTime::now_utc()).as_seconds_f64() / 3600.0;
    assert!((22.0..=25.5).contains(&hours), "next scan in {hours} h");
    monitor.send(Command::PauseSchedule);
    wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(
            event,
            Event::ScheduleChanged {
                paused: true,
                next_scan_at: None
            }
        )
    });
    monitor.shutdown();

    // After a restart the schedule resumes from the stored last scan, not from scratch.
    let store = Store::open(&db_path).expect("reopen");
    assert!(store.settings().expect("settings").paused);
    let mut settings = store.settings().expect("settings");
    settings.paused = false;
    store.save_settings(&settings).expect("save");
    let monitor = MonitorHandle::start_with_store(
        store,
        overrides(&dns, fleet.port, &ca_file),
        true,
        Arc::new(|| {}),
    );
    let events = wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::ScheduleChanged { .. })
    });
    let Some(Event::ScheduleChanged {
        next_scan_at: Some(at),
        ..
    }) = events.last()
    else {
        panic!("no schedule: {events:#?}");
    };
    let hours = (*at - time::OffsetDateTime::now_utc()).as_seconds_f64() / 3600.0;
    assert!(
        hours > 20.0,
        "resumed from the last scan, next in {hours} h"
    );
    assert!(
        monitor.recv_timeout(Duration::from_millis(500)).is_none(),
        "no scan starts right after a restart"
    );
    monitor.shutdown();
}

#[test]
fn the_app_schedules_nothing_while_another_process_holds_the_scheduler_lock() {
    use starttls_monitor::monitor::lock::SchedulerLock;
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("monitor.sqlite3");
    let store = Store::open(&db_path).expect("store");
    let (held, _) = SchedulerLock::try_acquire(&db_path)
        .expect("io")
        .expect("free");
    let monitor =
        MonitorHandle::start_with_store(store, Overrides::default(), true, Arc::new(|| {}));
    let events = wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::ScheduleChanged { .. })
    });
    assert!(
        events.iter().any(|event| matches!(
            event,
            Event::ScheduledElsewhere { pid } if *pid == std::process::id()
        )),
        "{events:#?}"
    );
    assert!(
        matches!(
            events.last(),
            Some(Event::ScheduleChanged {
                paused: true,
                next_scan_at: None
            })
        ),
        "no schedule here: {events:#?}"
    );
    // The other scheduler stops: this one takes over within a poll or two.
    drop(held);
    let events = wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::SchedulingHere { .. })
    });
    assert!(
        matches!(
            events.last(),
            Some(Event::SchedulingHere {
                took_over_from: None
            })
        ),
        "{events:#?}"
    );
    monitor.shutdown();
}

#[test]
fn settings_saved_by_another_process_reach_a_running_scheduler() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("monitor.sqlite3");
    let store = Store::open(&db_path).expect("store");
    let monitor =
        MonitorHandle::start_with_store(store, Overrides::default(), true, Arc::new(|| {}));
    let events = wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::ScheduleChanged { .. })
    });
    assert!(
        matches!(
            events.last(),
            Some(Event::ScheduleChanged { paused: false, .. })
        ),
        "{events:#?}"
    );
    // `starttls-monitor settings set paused true` from another process.
    let other = Store::open(&db_path).expect("a second connection");
    let paused = Settings {
        paused: true,
        ..other.settings().expect("read")
    };
    other.save_settings(&paused).expect("save");
    let events = wait_for(&monitor, Duration::from_secs(10), |event| {
        matches!(event, Event::ScheduleChanged { paused: true, .. })
    });
    assert!(
        matches!(
            events.last(),
            Some(Event::ScheduleChanged { paused: true, .. })
        ),
        "the running scheduler saw the saved settings: {events:#?}"
    );
    monitor.shutdown();
}
