//! Reaching port 25 through a SOCKS5 proxy: the whole probe against the loopback world through
//! an in-process proxy (tests/support/socks.rs) gives the verdicts a direct probe gives; a
//! proxy that refuses us, stalls or is not there stops the scan before anything is written; a
//! proxy lost mid-scan aborts the scan and keeps what was stored; the proxy's replies about
//! targets become untestable addresses with its words; an `ssh -D`-like proxy on a host whose
//! port 25 is blocked still fires the port-25-blocked detector. With `CI=true` the same probe
//! also goes through a real SOCKS server from Debian (microsocks), started and stopped here.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;
mod world;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use starttls_monitor::model::{DomainName, NetworkPath};
use starttls_monitor::monitor::scan::{ScanError, ScanEvent, run_scan};
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober, SocksProxy};
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{ScanScope, ScanStatus, Store};
use support::socks::{SocksMode, SocksServer, closed_port};
use world::{DEADLINE, World};

fn config_for(world: &World, proxy: Option<&str>) -> ProbeConfig {
    let mut config = ProbeConfig {
        dns: DnsServer::Custom(world.dns.addr),
        smtp_port: world.fleet.port,
        connect_timeout: DEADLINE,
        greeting_timeout: DEADLINE,
        command_timeout: DEADLINE,
        tls_timeout: DEADLINE,
        ehlo_name: "probe.starttls-monitor.test".to_string(),
        proxy: proxy.map(|url| SocksProxy::parse(url).expect("proxy URL")),
        ..ProbeConfig::default()
    };
    config.load_ca_file(&world.ca_file).expect("test CA loads");
    config
}

fn domains(world: &World) -> Vec<DomainName> {
    world
        .domains()
        .iter()
        .map(|domain| DomainName::parse(domain).expect("valid"))
        .collect()
}

async fn probe_all(world: &World, proxy: Option<&str>) -> Vec<Value> {
    let prober = Prober::new(config_for(world, proxy)).expect("prober");
    prober.check_proxy().await.expect("the proxy answers");
    let mut results = Vec::new();
    prober
        .start_run()
        .probe_many(domains(world), |_, result| {
            results.push(serde_json::to_value(&result).expect("serializes"));
        })
        .await;
    results
}

/// Per domain: the verdict, and per address its outcome.
fn verdicts(results: &[Value]) -> BTreeMap<String, (String, Vec<String>)> {
    results
        .iter()
        .map(|json| {
            let outcomes = json["mx"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|host| host["addresses"].as_array().cloned().unwrap_or_default())
                .map(|address| format!("{} {}", address["ip"], address["outcome"]))
                .collect();
            (
                json["domain"].as_str().unwrap_or("").to_string(),
                (json["verdict"].to_string(), outcomes),
            )
        })
        .collect()
}

fn assert_same_verdicts(direct: &[Value], proxied: &[Value], how: &str) {
    let direct = verdicts(direct);
    let proxied = verdicts(proxied);
    assert_eq!(direct.len(), proxied.len());
    for (domain, expected) in &direct {
        assert_eq!(
            proxied.get(domain),
            Some(expected),
            "{domain} through {how}"
        );
    }
}

/// Every CONNECT named an IP address (DNS stayed local), on the fleet's port.
fn assert_connects_to_addresses(proxy: &SocksServer, port: u16) {
    let targets = proxy.targets();
    assert!(!targets.is_empty(), "the probe went through the proxy");
    for target in targets {
        let address: std::net::SocketAddr = target.parse().expect("an IP address, never a name");
        assert_eq!(address.port(), port, "{target}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_through_a_proxy_are_the_verdicts_of_a_direct_probe() {
    let world = World::build().await;
    let direct = probe_all(&world, None).await;
    assert!(world.check_all(&direct).is_empty());

    let open = SocksServer::start(SocksMode::Open).await;
    let through_open = probe_all(&world, Some(&open.url(None))).await;
    assert_same_verdicts(&direct, &through_open, "an open proxy");
    assert_connects_to_addresses(&open, world.fleet.port);

    let with_password = SocksServer::start(SocksMode::Password {
        username: "alice".into(),
        password: "s3cret".into(),
    })
    .await;
    let through_password =
        probe_all(&world, Some(&with_password.url(Some(("alice", "s3cret"))))).await;
    assert_same_verdicts(&direct, &through_password, "a proxy with a password");

    // Politeness stays exact through the proxy: one connection at a time per address.
    let shared = world.fleet.server(world.shared_ip);
    assert_eq!(
        shared
            .max_concurrent
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

fn store_with(world: &World, dir: &tempfile::TempDir) -> Arc<Mutex<Store>> {
    let store = Store::open(&dir.path().join("monitor.sqlite3")).expect("store");
    store.add_domains(None, &domains(world)).expect("add");
    Arc::new(Mutex::new(store))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_that_fails_us_stops_the_scan_before_anything_is_written() {
    let world = World::build().await;
    let refusing = SocksServer::start(SocksMode::RefuseAuth).await;
    let stalling = SocksServer::start(SocksMode::Stall).await;
    let with_password = SocksServer::start(SocksMode::Password {
        username: "alice".into(),
        password: "s3cret".into(),
    })
    .await;
    let nothing_there = closed_port().await;
    let cases = [
        (refusing.url(None), "refused authentication"),
        (stalling.url(None), "did not answer the greeting"),
        (
            with_password.url(Some(("alice", "wrong"))),
            "refused the user name and password",
        ),
        (with_password.url(None), "wants a user name and password"),
        (format!("socks5://{nothing_there}"), "is unreachable"),
    ];
    for (url, expected) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_with(&world, &dir);
        let prober = Prober::new(config_for(&world, Some(&url))).expect("prober");
        let mut events = 0;
        let outcome = run_scan(
            &store,
            &prober,
            ScanScope::All,
            domains(&world),
            &Settings::default(),
            |_| events += 1,
        )
        .await;
        let Err(ScanError::Proxy(error)) = &outcome else {
            panic!("{url}: expected a proxy error, got {outcome:?}");
        };
        let message = outcome.as_ref().expect_err("failed").to_string();
        assert!(message.contains(expected), "{url}: {message}");
        assert!(
            message.ends_with("the scan did not start, nothing was stored"),
            "{message}"
        );
        assert!(!message.contains("wrong"), "never the password: {message}");
        assert!(!error.to_string().is_empty());
        assert_eq!(events, 0, "{url}: no scan event");
        let store = store.lock().expect("lock");
        assert!(
            store.scans(10).expect("scans").is_empty(),
            "{url}: no scan row"
        );
        for domain in domains(&world) {
            assert!(
                store.latest_result(&domain).expect("read").is_none(),
                "{url}"
            );
        }
    }
    assert_eq!(
        refusing.connects.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_lost_mid_scan_aborts_the_scan_and_keeps_what_was_stored() {
    let world = World::build().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with(&world, &dir);
    let failing = SocksServer::start(SocksMode::FailAfter(4)).await;
    let mut config = config_for(&world, Some(&failing.url(None)));
    config.concurrency = 1;
    let prober = Prober::new(config).expect("prober");
    let mut probed = Vec::new();
    let mut lost = None;
    let mut not_stored = 0;
    let counts = run_scan(
        &store,
        &prober,
        ScanScope::All,
        domains(&world),
        &Settings::default(),
        |event| match event {
            ScanEvent::DomainProbed(result) => probed.push(result.domain.clone()),
            ScanEvent::ProxyFailed { .. } => not_stored += 1,
            ScanEvent::ProxyLost { detail } => lost = Some(detail),
            _ => {}
        },
    )
    .await
    .expect("the scan ran");
    let detail = lost.expect("the loss was said");
    assert!(
        detail.contains("general SOCKS server failure (reply 01)"),
        "{detail}"
    );
    assert!(!probed.is_empty(), "results before the loss were stored");
    assert!(
        probed.len() < world.domains().len(),
        "the scan stopped early"
    );
    assert_eq!(counts.done, probed.len());
    let store = store.lock().expect("lock");
    let scans = store.scans(10).expect("scans");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0].status, ScanStatus::ProxyLost);
    assert_eq!(scans[0].status.describe(), "aborted (proxy lost)");
    assert_eq!(
        scans[0].path,
        NetworkPath::Socks5 {
            endpoint: failing.addr.to_string()
        }
    );
    let mut stored = 0;
    for domain in domains(&world) {
        let latest = store.latest_result(&domain).expect("read");
        if probed.contains(&domain) {
            let latest = latest.expect("an earlier row stays");
            for address in latest.mx.iter().flat_map(|host| &host.addresses) {
                assert_ne!(address.reason.as_str(), "proxy_failed", "{domain}");
            }
            stored += 1;
        } else {
            assert!(latest.is_none(), "{domain}: nothing written after the loss");
        }
    }
    assert_eq!(stored, probed.len());
    assert!(not_stored <= starttls_monitor::probe::PROXY_LOST_AFTER);
}

async fn first_address_through(world: &World, mode: SocksMode) -> Value {
    let proxy = SocksServer::start(mode).await;
    let prober = Prober::new(config_for(world, Some(&proxy.url(None)))).expect("prober");
    let result = prober
        .probe_domain(&DomainName::parse("valid.test").expect("valid"))
        .await;
    let json = serde_json::to_value(&result).expect("serializes");
    json["mx"][0]["addresses"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxys_word_about_a_target_is_the_addresss_result() {
    let world = World::build().await;
    for (code, reason, words) in [
        (
            0x03,
            "proxy_target_unreachable",
            "network unreachable (reply 03)",
        ),
        (
            0x04,
            "proxy_target_unreachable",
            "host unreachable (reply 04)",
        ),
        (
            0x05,
            "proxy_target_refused",
            "connection refused (reply 05)",
        ),
        (0x06, "proxy_target_unreachable", "TTL expired (reply 06)"),
        (
            0x07,
            "proxy_unsupported",
            "command not supported (reply 07)",
        ),
        (
            0x08,
            "proxy_unsupported",
            "address type not supported (reply 08)",
        ),
    ] {
        let address = first_address_through(&world, SocksMode::Reply(code)).await;
        assert_eq!(address["outcome"], "untestable", "{code}");
        assert_eq!(address["reason"], reason, "{code}");
        let detail = address["detail"].as_str().expect("detail");
        assert!(detail.contains(words), "{code}: {detail}");
    }
    let closed = first_address_through(&world, SocksMode::SuccessThenClose).await;
    assert_eq!(closed["outcome"], "untestable");
    assert_eq!(closed["reason"], "proxy_no_greeting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ssh_d_proxy_whose_host_has_port_25_blocked_fires_the_detector() {
    let world = World::build().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_with(&world, &dir);
    let proxy = SocksServer::start(SocksMode::SuccessThenClose).await;
    let prober = Prober::new(config_for(&world, Some(&proxy.url(None)))).expect("prober");
    let mut blocked = None;
    run_scan(
        &store,
        &prober,
        ScanScope::All,
        domains(&world),
        &Settings::default(),
        |event| {
            if let ScanEvent::Port25Blocked { attempts } = event {
                blocked = Some(attempts);
            }
        },
    )
    .await
    .expect("the scan ran");
    assert!(blocked.is_some(), "the port-25-blocked detector fired");
}

#[test]
fn the_command_line_stops_with_one_message_when_the_proxy_is_down() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let nothing_there = runtime.block_on(closed_port());
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let binary = env!("CARGO_BIN_EXE_starttls-monitor");
    let added = Command::new(binary)
        .args([
            "--db",
            db.to_str().expect("utf-8"),
            "domains",
            "add",
            "valid.test",
        ])
        .output()
        .expect("runs");
    assert!(added.status.success());
    let proxy = format!("socks5://alice:hunter2@{nothing_there}");
    for command in [vec!["scan"], vec!["probe", "valid.test"]] {
        let output = Command::new(binary)
            .args([
                "--db",
                db.to_str().expect("utf-8"),
                "--proxy",
                &proxy,
                "--dns",
                "127.0.0.1:9",
            ])
            .args(&command)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(1), "{command:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
        assert!(
            stderr.contains(&format!("the SOCKS proxy {nothing_there} is unreachable")),
            "{stderr}"
        );
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert!(output.stdout.is_empty(), "{command:?}");
    }
    let store = Store::open(&db).expect("open");
    assert!(
        store.scans(10).expect("scans").is_empty(),
        "nothing written"
    );
}

/// A real SOCKS5 server from Debian's packages (microsocks, installed by .ci/run), on
/// 127.0.0.1 with user and password, started and stopped by this test. Skipped without it,
/// unless CI=true: there it must run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_through_microsocks_are_the_verdicts_of_a_direct_probe() {
    let Ok(binary) = which("microsocks") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but microsocks is not installed (.ci/run installs it)"
        );
        eprintln!("skipped: microsocks is not installed");
        return;
    };
    let port = closed_port().await.port();
    let mut child = Command::new(binary)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-u",
            "probe",
            "-P",
            "lab-secret",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("microsocks starts");
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("microsocks exited: {status}");
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "microsocks listens"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _stop = Stop(child);
    let world = World::build().await;
    let direct = probe_all(&world, None).await;
    let url = format!("socks5://probe:lab-secret@127.0.0.1:{port}");
    let proxied = probe_all(&world, Some(&url)).await;
    assert_same_verdicts(&direct, &proxied, "microsocks");
    let refused = Prober::new(config_for(
        &world,
        Some(&format!("socks5://probe:nope@127.0.0.1:{port}")),
    ))
    .expect("prober")
    .check_proxy()
    .await
    .expect_err("a wrong password");
    assert!(refused.to_string().contains("refused"), "{refused}");
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_exits_1_naming_the_lost_proxy_and_keeps_what_it_stored() {
    let world = World::build().await;
    let failing = SocksServer::start(SocksMode::FailAfter(3)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    let names: Vec<String> = world
        .domains()
        .iter()
        .map(|name| name.to_string())
        .collect();
    Store::open(&db)
        .expect("create")
        .add_domains(None, &domains(&world))
        .expect("add");
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command.args([
        "--db",
        db.to_str().expect("utf-8"),
        "--dns",
        &world.dns.addr.to_string(),
        "--smtp-port",
        &world.fleet.port.to_string(),
        "--ca-file",
        world.ca_file.to_str().expect("utf-8"),
        "--timeout",
        "3",
        "--greeting-timeout",
        "3",
        "--concurrency",
        "1",
        "--proxy",
        &failing.url(None),
        "scan",
    ]);
    let output = tokio::task::spawn_blocking(move || command.output().expect("runs"))
        .await
        .expect("join");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the SOCKS proxy was lost in the middle of the scan"),
        "{stderr}"
    );
    assert!(stderr.contains("aborted (proxy lost)"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("(socks5://{})", failing.addr)),
        "the summary names the path: {stdout}"
    );
    let store = Store::open(&db).expect("open");
    let scans = store.scans(10).expect("scans");
    assert_eq!(scans[0].status, ScanStatus::ProxyLost);
    let stored = names
        .iter()
        .filter(|name| {
            store
                .latest_result(&DomainName::parse(name).expect("valid"))
                .expect("read")
                .is_some()
        })
        .count();
    assert!(
        stored > 0 && stored < names.len(),
        "{stored} of {}",
        names.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_through_an_ssh_d_proxy_on_a_blocked_host_warns_about_the_proxys_host() {
    let world = World::build().await;
    let proxy = SocksServer::start(SocksMode::SuccessThenClose).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("monitor.sqlite3");
    Store::open(&db)
        .expect("create")
        .add_domains(None, &domains(&world))
        .expect("add");
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command.args([
        "--db",
        db.to_str().expect("utf-8"),
        "--dns",
        &world.dns.addr.to_string(),
        "--smtp-port",
        &world.fleet.port.to_string(),
        "--timeout",
        "3",
        "--greeting-timeout",
        "3",
        "scan",
        "--proxy",
        &proxy.url(None),
    ]);
    let output = tokio::task::spawn_blocking(move || command.output().expect("runs"))
        .await
        .expect("join");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("met silence through the SOCKS proxy: outbound port 25 looks blocked on the proxy's host too"),
        "{stderr}"
    );
}
