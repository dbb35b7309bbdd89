//! Crash safety: the headless `scan` is killed with SIGKILL at random points, many times in a
//! row, against a loopback fleet whose servers change between kills (so kills land in new-run
//! writes, run extensions, change events and the end-of-scan roll-up alike). After every kill
//! the database must open, pass `PRAGMA integrity_check`, and still hold every result that was
//! committed before the kill; at the end an uninterrupted scan finishes with true verdicts.
//!
//! `CRASH_KILLS` sets the number of kills (default 30); `CRASH_SEED` replays one sequence.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use starttls_monitor::model::{DomainName, Verdict};
use starttls_monitor::store::{LatestFilter, Store};
use support::{FakeSmtp, Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity};
use time::OffsetDateTime;

/// Domains in the fleet, each with its own MX host and loopback address.
const DOMAINS: usize = 120;
/// Every `SLOW_EVERY`-th server waits before its greeting, so a scan lasts a few seconds and
/// kills fall while results are still arriving.
const SLOW_EVERY: usize = 4;

fn binary(db: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command.args(["--db", db.to_str().expect("utf-8 path")]);
    command
}

/// The part a domain's server plays in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// Waits before its greeting, then good: keeps the scan going for a few seconds.
    Slow,
    Good,
    PlaintextOnly,
    SelfSigned,
}

/// Mostly good; each round some servers turn plaintext-only or self-signed for a while, so
/// stored states change between scans.
fn part(index: usize, round: u64) -> Part {
    if index.is_multiple_of(SLOW_EVERY) {
        return Part::Slow;
    }
    match (index as u64 + round) % 7 {
        0 => Part::PlaintextOnly,
        1 => Part::SelfSigned,
        _ => Part::Good,
    }
}

fn scenario(pki: &TestPki, index: usize, round: u64) -> Scenario {
    let host = format!("mx{index}.crash.test");
    match part(index, round) {
        Part::Slow => Scenario::SlowGreeting {
            delay: Duration::from_millis(200 + (index as u64 * 37) % 900),
            cert: pki.leaf(&[&host], Validity::Current),
        },
        Part::Good => Scenario::Good {
            cert: pki.leaf(&[&host], Validity::Current),
            versions: TlsVersions::Any,
        },
        Part::PlaintextOnly => Scenario::NoStarttls,
        Part::SelfSigned => Scenario::Good {
            cert: TestPki::self_signed(&[&host], Validity::Current),
            versions: TlsVersions::Any,
        },
    }
}

/// The verdict and strictness a part must give.
fn expected(part: Part) -> (Verdict, Option<bool>) {
    match part {
        Part::Slow | Part::Good => (Verdict::TlsOk, Some(true)),
        Part::PlaintextOnly => (Verdict::NoStarttls, Some(false)),
        Part::SelfSigned => (Verdict::TlsOk, Some(false)),
    }
}

/// What the database says it holds: per domain, when its state was last confirmed and how
/// many probes its history counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    last_probed: OffsetDateTime,
    times_seen: usize,
}

fn snapshot(store: &Store) -> HashMap<String, Held> {
    let mut held = HashMap::new();
    for row in store.latest(&LatestFilter::default()).expect("latest rows") {
        let Some(last_probed) = row.last_probed else {
            continue;
        };
        let times_seen = store
            .history(&row.domain)
            .expect("history")
            .iter()
            .map(|run| run.times_seen)
            .sum();
        held.insert(
            row.domain.to_string(),
            Held {
                last_probed,
                times_seen,
            },
        );
    }
    held
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text} is not a number")),
        Err(_) => default,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_never_loses_a_committed_result() {
    let kills = env_number("CRASH_KILLS", 30);
    let seed = env_number("CRASH_SEED", fastrand::u64(..));
    println!("crash safety: {kills} kills, CRASH_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);

    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = pki.write_ca_file(dir.path());
    let db = dir.path().join("monitor.sqlite3");
    let ips = support::unique_loopback_ips(DOMAINS);
    let mut zone = support::soa_header("crash.test");
    for (index, ip) in ips.iter().enumerate() {
        zone.push_str(&format!(
            "mx{index} IN A {ip}\nd{index} IN MX 10 mx{index}\n"
        ));
    }
    let dns = TestDns::start(&[("crash.test.", zone.as_str())]).await;
    let mut fleet = SmtpFleet::start(
        ips.iter()
            .enumerate()
            .map(|(index, ip)| (*ip, scenario(&pki, index, 0)))
            .collect(),
    )
    .await;
    let domains: Vec<String> = (0..DOMAINS)
        .map(|index| format!("d{index}.crash.test"))
        .collect();
    let added = binary(&db)
        .args(["domains", "add", "--list", "Crash"])
        .args(&domains)
        .output()
        .expect("domains add runs");
    assert!(added.status.success(), "{added:?}");

    let options = [
        "--dns".to_string(),
        dns.addr.to_string(),
        "--smtp-port".to_string(),
        fleet.port.to_string(),
        "--ca-file".to_string(),
        ca_file.to_str().expect("utf-8").to_string(),
        "--timeout".to_string(),
        "5".to_string(),
        "--concurrency".to_string(),
        "16".to_string(),
    ];
    let port = fleet.port;
    let mut servers: Vec<Option<FakeSmtp>> = std::mem::take(&mut fleet.servers)
        .into_iter()
        .map(Some)
        .collect();
    let mut committed_total = 0;
    let mut kills_mid_scan = 0;
    for round in 1..=kills {
        // Restart the servers whose part changes in this round, so the scan has new states
        // to write (about two in seven of them).
        for (index, slot) in servers.iter_mut().enumerate() {
            if part(index, round) == part(index, round - 1) {
                continue;
            }
            let address = SocketAddr::new(ips[index], port);
            drop(slot.take());
            *slot = Some(FakeSmtp::restart(address, scenario(&pki, index, round)).await);
        }
        let mut child = binary(&db)
            .arg("scan")
            .args(&options)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn scan");
        // Anywhere from process start-up to just past the end of a scan (about 2 s here).
        let wait = Duration::from_millis(rng.u64(20..2_600));
        tokio::time::sleep(wait).await;
        let before = {
            let store = Store::open(&db).expect("the database opens while a scan runs");
            snapshot(&store)
        };
        let still_running = child.try_wait().expect("try_wait").is_none();
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        if still_running {
            kills_mid_scan += 1;
        }

        let store = Store::open(&db).unwrap_or_else(|error| {
            panic!("round {round} (seed {seed}): the file does not reopen after kill -9: {error}")
        });
        store.integrity_check().unwrap_or_else(|error| {
            panic!("round {round} (seed {seed}): integrity_check after kill -9: {error}")
        });
        assert_eq!(
            store.domain_count(None).expect("domain count"),
            DOMAINS,
            "round {round} (seed {seed}): domains were lost"
        );
        let after = snapshot(&store);
        for (domain, held) in &before {
            let Some(now) = after.get(domain) else {
                panic!(
                    "round {round} (seed {seed}): {domain} had a result before the kill and has none now"
                );
            };
            assert!(
                now.last_probed >= held.last_probed && now.times_seen >= held.times_seen,
                "round {round} (seed {seed}): {domain} went back from {held:?} to {now:?}"
            );
        }
        committed_total = after.len();
        println!(
            "round {round:>3}: killed after {:>5} ms ({}), {} domains with results, {} probes in history",
            wait.as_millis(),
            if still_running {
                "mid-scan"
            } else {
                "after the scan"
            },
            after.len(),
            after.values().map(|held| held.times_seen).sum::<usize>()
        );
    }
    assert!(
        kills_mid_scan * 2 >= kills as usize,
        "most kills must land mid-scan to mean anything ({kills_mid_scan} of {kills})"
    );
    assert!(committed_total > 0, "no scan ever committed a result");

    // One scan left alone finishes, and the stored verdicts are the true ones.
    let finished = binary(&db)
        .arg("scan")
        .args(&options)
        .output()
        .expect("final scan runs");
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let store = Store::open(&db).expect("open after the final scan");
    store.integrity_check().expect("integrity_check");
    for (index, name) in domains.iter().enumerate() {
        let domain = DomainName::parse(name).expect("valid");
        let result = store
            .latest_result(&domain)
            .expect("latest result")
            .unwrap_or_else(|| panic!("{domain} has no result after a full scan"));
        let (verdict, strict) = expected(part(index, kills));
        assert_eq!(
            (result.verdict, result.strict_valid),
            (verdict, strict),
            "{domain} after the final scan"
        );
    }
    let last_scan = store
        .last_scan()
        .expect("last scan")
        .expect("a scan is recorded");
    assert_eq!(last_scan.status.as_str(), "finished", "{last_scan:?}");
    assert_eq!(last_scan.done, DOMAINS, "{last_scan:?}");
    drop(servers);
}
