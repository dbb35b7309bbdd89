//! The DNS queries-per-second cap (`dns_qps`): a run against the in-process DNS server, through
//! a relay that notes when each query arrives, spreads its queries over the time the cap needs
//! (a lower bound on the elapsed time only: it cannot flake), and the cap makes a run slower,
//! never wronger: lookups wait for their turn before hickory's timers start, so none times out
//! even when the queue is longer than the lookup timeout.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use starttls_monitor::model::{DomainName, Verdict};
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::{Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header};
use tokio::net::UdpSocket;

/// A UDP relay in front of `upstream` that notes the arrival time of every query.
struct CountingRelay {
    addr: SocketAddr,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingRelay {
    async fn start(upstream: SocketAddr) -> CountingRelay {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = socket.local_addr().unwrap();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let noted = arrivals.clone();
        let task = tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            loop {
                let Ok((length, client)) = socket.recv_from(&mut buffer).await else {
                    return;
                };
                noted.lock().unwrap().push(Instant::now());
                let query = buffer[..length].to_vec();
                let socket = socket.clone();
                tokio::spawn(async move {
                    let upstream_socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                    upstream_socket.send_to(&query, upstream).await.unwrap();
                    let mut answer = vec![0u8; 65_535];
                    if let Ok(Ok((length, _))) = tokio::time::timeout(
                        Duration::from_secs(5),
                        upstream_socket.recv_from(&mut answer),
                    )
                    .await
                    {
                        let _ = socket.send_to(&answer[..length], client).await;
                    }
                });
            }
        });
        CountingRelay {
            addr,
            arrivals,
            task,
        }
    }

    fn arrivals(&self) -> Vec<Instant> {
        self.arrivals.lock().unwrap().clone()
    }
}

impl Drop for CountingRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A lab of `domains` domains `d<i>.rate`, each with its own MX host on one of four loopback
/// addresses, every server a good STARTTLS one.
struct Lab {
    _dir: tempfile::TempDir,
    ca_file: std::path::PathBuf,
    fleet: SmtpFleet,
    dns: TestDns,
    names: Vec<DomainName>,
}

async fn lab(domains: usize) -> Lab {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = pki.write_ca_file(dir.path());
    let ips = support::unique_loopback_ips(4);
    let mut zone = soa_header("rate");
    for index in 0..domains {
        let ip = ips[index % ips.len()];
        zone.push_str(&format!(
            "mx{index} IN A {ip}\nd{index} IN MX 10 mx{index}\n"
        ));
    }
    let servers = ips
        .iter()
        .map(|ip| {
            let hosts: Vec<String> = (0..domains)
                .filter(|index| ips[index % ips.len()] == *ip)
                .map(|index| format!("mx{index}.rate"))
                .collect();
            let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
            (
                *ip,
                Scenario::Good {
                    cert: pki.leaf(&hosts, Validity::Current),
                    versions: TlsVersions::Any,
                },
            )
        })
        .collect();
    let fleet = SmtpFleet::start(servers).await;
    let dns = TestDns::start(&[("rate.", zone.as_str())]).await;
    let names = (0..domains)
        .map(|index| DomainName::parse(&format!("d{index}.rate")).unwrap())
        .collect();
    Lab {
        _dir: dir,
        ca_file,
        fleet,
        dns,
        names,
    }
}

/// Probes every domain of `lab` through `relay` with `dns_qps`; the verdicts by domain.
async fn probe(
    lab: &Lab,
    relay: &CountingRelay,
    dns_qps: u32,
    dns_timeout: Duration,
) -> Vec<(String, Verdict)> {
    let mut config = ProbeConfig::builder()
        .dns(DnsServer::Custom(relay.addr))
        .dns_qps(dns_qps)
        .dns_timeout(dns_timeout)
        .smtp_port(lab.fleet.port)
        .build()
        .unwrap();
    config.load_ca_file(&lab.ca_file).unwrap();
    let prober = Prober::new(config).unwrap();
    let mut verdicts = Vec::new();
    prober
        .start_run()
        .probe_many(lab.names.clone(), |_, result| {
            assert_eq!(result.dns_error, None, "{}", result.domain);
            verdicts.push((result.domain.to_string(), result.verdict));
        })
        .await;
    verdicts.sort_by(|a, b| a.0.cmp(&b.0));
    verdicts
}

fn all_tls_ok(lab: &Lab) -> Vec<(String, Verdict)> {
    let mut expected: Vec<(String, Verdict)> = lab
        .names
        .iter()
        .map(|name| (name.to_string(), Verdict::TlsOk))
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    expected
}

/// Queries per whole second since `start`, for the log.
fn per_second(start: Instant, arrivals: &[Instant]) -> Vec<usize> {
    let mut counts = Vec::new();
    for arrival in arrivals {
        let second = (*arrival - start).as_secs() as usize;
        if counts.len() <= second {
            counts.resize(second + 1, 0);
        }
        counts[second] += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capped_run_spreads_its_queries_over_the_time_the_cap_needs() {
    let lab = lab(12).await;
    let relay = CountingRelay::start(lab.dns.addr).await;
    let qps = 20;
    // The bucket's burst: a tenth of a second's worth, at least one (probe::rate).
    let burst = (qps / 10).max(1);
    let start = Instant::now();
    let verdicts = probe(&lab, &relay, qps, Duration::from_secs(5)).await;
    assert_eq!(verdicts, all_tls_ok(&lab), "the cap changes no verdict");
    let arrivals = relay.arrivals();
    let sent = arrivals.len() as u32;
    // MX, A, AAAA and the two policy TXT lookups of every domain went through the relay.
    assert!(sent >= 12 * 5, "only {sent} queries");
    let last = *arrivals.iter().max().unwrap();
    let elapsed = last - start;
    // The n-th query can leave no sooner than (n - burst) / qps after the first token.
    let needed = Duration::from_secs_f64(f64::from(sent - burst) / f64::from(qps));
    eprintln!(
        "{sent} queries at {qps} qps in {elapsed:?} (at least {needed:?}); per second: {:?}",
        per_second(start, &arrivals)
    );
    assert!(
        elapsed >= needed,
        "{sent} queries at {qps} qps came within {elapsed:?}, under the {needed:?} the cap allows"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_longer_than_the_lookup_timeout_makes_no_lookup_fail() {
    // 40 domains at once, about 5 queries each, at 50 qps: the last query waits about 4 s,
    // twice the 2 s lookup timeout. Lookups are admitted a few at a time, before hickory's
    // timers start, so every one gets its answer; with no admission limit, the lookups at the
    // back of the queue would time out and their domains be untestable.
    let lab = lab(40).await;
    let relay = CountingRelay::start(lab.dns.addr).await;
    let start = Instant::now();
    let verdicts = probe(&lab, &relay, 50, Duration::from_secs(2)).await;
    let arrivals = relay.arrivals();
    eprintln!(
        "{} queries in {:?}; per second: {:?}",
        arrivals.len(),
        start.elapsed(),
        per_second(start, &arrivals)
    );
    assert_eq!(verdicts, all_tls_ok(&lab));
    let needed = Duration::from_secs_f64((arrivals.len() as f64 - 5.0) / 50.0);
    assert!(
        *arrivals.iter().max().unwrap() - start >= needed,
        "the cap held"
    );
    assert!(
        needed > Duration::from_secs(2),
        "the queue outlasted a lookup timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_turns_the_cap_off_and_every_verdict_still_comes() {
    let lab = lab(12).await;
    let relay = CountingRelay::start(lab.dns.addr).await;
    let start = Instant::now();
    let verdicts = probe(&lab, &relay, 0, Duration::from_secs(5)).await;
    assert_eq!(verdicts, all_tls_ok(&lab));
    let arrivals = relay.arrivals();
    // For the log only: how fast the same run goes without a cap (no timed assertion; that
    // 0 never waits is exact in probe::dns's paused-time unit test).
    eprintln!(
        "uncapped: {} queries in {:?}; per second: {:?}",
        arrivals.len(),
        start.elapsed(),
        per_second(start, &arrivals)
    );
    assert!(arrivals.len() >= 12 * 5);
}

/// Runs the binary on the database `db` with `args`.
fn run(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_starttls-monitor"))
        .args(["--db", db.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_setting_round_trips_through_settings_set_and_show_and_bad_values_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("monitor.sqlite3");
    starttls_monitor::store::Store::open(&db).unwrap();
    let shown = run(&db, &["settings", "show"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert!(
        text(&shown.stdout).contains("dns_qps = 500\n"),
        "the default: {}",
        text(&shown.stdout)
    );
    let set = run(&db, &["settings", "set", "dns_qps", "50"]);
    assert!(set.status.success(), "{}", text(&set.stderr));
    assert_eq!(text(&set.stdout), "dns_qps = 50\n");
    for (value, expected) in [
        (
            "100001",
            "dns_qps must be between 0 (no cap) and 100000 queries per second",
        ),
        ("fast", "dns_qps: 'fast' is not a whole number"),
    ] {
        let refused = run(&db, &["settings", "set", "dns_qps", value]);
        assert_eq!(refused.status.code(), Some(2), "{value}");
        let stderr = text(&refused.stderr);
        assert!(stderr.contains("setting not saved: "), "{stderr}");
        assert!(stderr.contains(expected), "{value}: {stderr}");
    }
    let shown = run(&db, &["settings", "show"]);
    assert!(
        text(&shown.stdout).contains("dns_qps = 50\n"),
        "nothing refused was saved: {}",
        text(&shown.stdout)
    );
    let uncapped = run(&db, &["settings", "set", "dns_qps", "0"]);
    assert_eq!(text(&uncapped.stdout), "dns_qps = 0\n");
    // The option is checked when the command line is read.
    let bad = run(&db, &["probe", "--dns-qps", "lots", "example.test"]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = text(&bad.stderr);
    assert!(stderr.contains("--dns-qps"), "{stderr}");
    assert!(stderr.contains("queries per second"), "{stderr}");
}
