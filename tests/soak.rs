//! Fault-injection soak: a loopback fleet of a few hundred fake SMTP servers, about 30% of them
//! misbehaving (some always the same way, most at random per connection), scanned again and
//! again through the real scan path (`run_scan`: probe engine and SQLite store) for a while.
//!
//! Every scan must give every domain a result; every well-behaved server must get exactly its
//! true verdict; a misbehaving one must get the verdict (and reason) that what it did that time
//! allows; each address and each scan must finish within the bound the probe's deadlines give;
//! the probe runtime must go back to its idle task count after each scan (no task leaks); open
//! file descriptors must come back, and resident memory must stay flat after warm-up.
//!
//! The fleet and its DNS server run on a tokio runtime of their own (own thread), so the probe
//! runtime's `num_alive_tasks` counts only the engine's tasks.
//!
//! Knobs (environment): `SOAK_SECONDS` (default 60: how long to keep starting scans; at least
//! four scans run), `SOAK_DOMAINS` (default 300), `SOAK_SEED` (default fixed; the chaos
//! servers' RNG), `SOAK_PROBE_ONLY=1` (scan with the bare engine, no store: tells the engine's
//! memory from the store's). The long run is
//! `SOAK_SECONDS=600 cargo test --release --test soak -- --nocapture`.
//! Only 127.0.0.0/8 is ever bound or connected.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use starttls_monitor::model::{
    AddressResult, CertError, DomainName, DomainResult, Outcome, Reason, TlsVersion, Verdict,
};
use starttls_monitor::monitor::scan::run_scan;
use starttls_monitor::monitor::{ScanEnd, ScanEvent};
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use starttls_monitor::settings::Settings;
use starttls_monitor::store::{ScanCounts, ScanScope, Store};
use support::smtp::{Behaviour, ChaosPlan};
use support::{Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header};

/// Seconds during which new scans start, unless `SOAK_SECONDS` says otherwise.
const DEFAULT_SOAK_SECONDS: u64 = 60;
/// Domains (and servers, and loopback IPs), unless `SOAK_DOMAINS` says otherwise.
const DEFAULT_DOMAINS: usize = 300;
/// The chaos servers' seed, unless `SOAK_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x5eed_2026;
/// Scans that run whatever `SOAK_SECONDS` says, so the memory comparison has a baseline.
const MIN_SCANS: usize = 4;
/// Scans before the memory baseline is taken (allocator arenas, SQLite cache, TLS caches).
const WARM_UP_SCANS: usize = 2;
/// Share of a chaos server's connections that misbehave.
const CHAOS_MISBEHAVING_SHARE: f64 = 0.8;
/// Longest greeting delay of a well-behaved (random-delay or chaos) server: a third of the
/// greeting timeout, so a loaded machine still greets in time.
const MAX_GREETING_DELAY: Duration = Duration::from_secs(1);
/// Domains probed at once.
const CONCURRENCY: usize = 100;
/// How much resident memory (VmRSS) may grow from the end of warm-up to the last scan.
/// Measured: 3.0 MiB over 130 scans (debug) and 5.1 MiB over 114 (release): SQLite's page
/// cache filling over the first ~20 scans, then the allocator's heap growing in steps of about
/// 1 MiB every ~75 scans in release (flat between steps; the bare engine, `SOAK_PROBE_ONLY=1`,
/// stays within 0.5 MiB). A leak of 1.7 KiB per connection (~400 a scan) crosses it within
/// the CI run.
const RSS_GROWTH_TOLERANCE_KIB: u64 = 12 * 1024;
/// How much the heap (RssAnon) may grow over the second half of the scans after warm-up,
/// when caches have filled: a steady leak shows here even when it is too small for the total
/// (1.1 KiB per connection crosses it in the CI run). Measured: 0.5 MiB in the CI run, 1.5 MiB
/// (one allocator step) in the 114-scan release run.
const LATE_HEAP_GROWTH_TOLERANCE_KIB: u64 = 4 * 1024;
/// Descriptors that may be open after a scan beyond the count after the first one (the
/// resolver's sockets come and go).
const FD_TOLERANCE: usize = 8;
/// Background tasks the resolver may keep between scans: one per connection it holds to the
/// DNS server (hickory's `DnsExchange`, UDP and maybe TCP).
const RESOLVER_TASKS: usize = 2;
/// How long alive tasks and descriptors may take to settle after a scan ends.
const SETTLE_LIMIT: Duration = Duration::from_secs(10);

/// Probe deadlines: short, but far above what a loopback server needs even on a busy machine.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const GREETING_TIMEOUT: Duration = Duration::from_secs(3);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
const TLS_TIMEOUT: Duration = Duration::from_secs(2);
const DNS_TIMEOUT: Duration = Duration::from_secs(2);
/// The resolver tries each query this many times (`probe::dns`).
const DNS_ATTEMPTS: u32 = 2;

/// What a domain's server does, and so what its result must be.
#[derive(Clone)]
enum Kind {
    /// Well-behaved: the exact result is known.
    WellBehaved(Truth),
    /// Misbehaves the same way on every connection.
    Fixed { name: &'static str, expect: Expect },
    /// Picks a behaviour per connection; the plan records the picks.
    Chaos(Arc<ChaosPlan>),
}

/// The true result of a well-behaved server.
#[derive(Clone, Copy, Debug)]
enum Truth {
    /// TLS with a CA-signed certificate for the MX name: tls_ok, pfs, strict, this version.
    Strict(TlsVersion),
    /// TLS 1.3 with a certificate that fails strict validation for this reason.
    CertProblem(CertError),
    /// No STARTTLS advertised.
    NoStarttls,
    /// STARTTLS advertised, then refused with 454.
    Refused454,
}

/// An address outcome and the reasons that may go with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Expect {
    outcome: Outcome,
    reasons: &'static [Reason],
}

/// An outcome with exactly one possible reason.
const fn expect(outcome: Outcome, reason: &'static Reason) -> Expect {
    Expect {
        outcome,
        reasons: std::slice::from_ref(reason),
    }
}

/// The fixed misbehaviours, one server each in turn, and what DESIGN.md's rules make of them.
fn fixed_misbehaviours() -> Vec<(&'static str, Scenario, Expect)> {
    use Outcome::{TlsFailed, Untestable};
    vec![
        (
            "silent_greeting",
            Scenario::SilentGreeting,
            expect(Untestable, &Reason::GreetingTimeout),
        ),
        (
            "garbage",
            Scenario::Garbage,
            expect(Untestable, &Reason::BadReply),
        ),
        (
            "long_line",
            Scenario::LongLine,
            expect(Untestable, &Reason::ReplyTooLong),
        ),
        (
            "endless_reply",
            Scenario::EndlessReply,
            expect(Untestable, &Reason::ReplyTooLong),
        ),
        (
            "drip_greeting",
            Scenario::DripGreeting,
            expect(Untestable, &Reason::GreetingTimeout),
        ),
        (
            "greeting_421",
            Scenario::Greeting421,
            expect(Untestable, &Reason::GreetingRejected),
        ),
        (
            "greeting_554",
            Scenario::Greeting554,
            expect(Untestable, &Reason::GreetingRejected),
        ),
        (
            "reset_mid_ehlo",
            Scenario::ResetMidEhlo,
            expect(Untestable, &Reason::Closed),
        ),
        (
            "half_close_after_greeting",
            Scenario::HalfCloseAfterGreeting,
            expect(Untestable, &Reason::Closed),
        ),
        (
            "handshake_garbage",
            Scenario::HandshakeGarbage,
            expect(TlsFailed, &Reason::HandshakeFailed),
        ),
        (
            "handshake_alert",
            Scenario::HandshakeAlert,
            expect(TlsFailed, &Reason::HandshakeFailed),
        ),
        (
            "handshake_stall",
            Scenario::HandshakeStall,
            expect(TlsFailed, &Reason::HandshakeTimeout),
        ),
        (
            "close_after_220",
            Scenario::CloseAfter220,
            expect(TlsFailed, &Reason::HandshakeFailed),
        ),
        (
            "inject_after_220",
            Scenario::InjectAfter220 {
                cert: TestPki::self_signed(&["inject.soak"], Validity::Current),
            },
            expect(TlsFailed, &Reason::PlaintextAfterStarttls),
        ),
    ]
}

/// What one chaos connection's behaviour makes of the address, when it was the only session.
fn expect_behaviour(behaviour: Behaviour) -> Expect {
    use Outcome::{TlsFailed, TlsOk, Untestable};
    match behaviour {
        Behaviour::Good { .. } => expect(TlsOk, &Reason::Completed),
        Behaviour::Greeting421 => expect(Untestable, &Reason::GreetingRejected),
        Behaviour::SilentGreeting => expect(Untestable, &Reason::GreetingTimeout),
        Behaviour::Garbage => expect(Untestable, &Reason::BadReply),
        // A reset that comes before the client's connect call has returned (it reads the
        // socket's error then) makes the connect fail.
        Behaviour::ResetBeforeGreeting | Behaviour::ResetMidGreeting => Expect {
            outcome: Untestable,
            reasons: &[Reason::Closed, Reason::ConnectFailed],
        },
        Behaviour::ResetMidEhlo | Behaviour::HalfCloseAfterGreeting => {
            expect(Untestable, &Reason::Closed)
        }
        Behaviour::EndlessGreeting | Behaviour::EndlessEhlo => {
            expect(Untestable, &Reason::ReplyTooLong)
        }
        Behaviour::StarttlsStall => expect(TlsFailed, &Reason::ReplyTimeout),
        Behaviour::HandshakeStall => expect(TlsFailed, &Reason::HandshakeTimeout),
        Behaviour::CloseAfter220 | Behaviour::HandshakeReset | Behaviour::HandshakeAlert => {
            expect(TlsFailed, &Reason::HandshakeFailed)
        }
    }
}

/// One domain of the fleet.
struct Domain {
    name: DomainName,
    kind: Kind,
}

/// The fleet and its DNS server, running on their own runtime in their own thread.
struct Fleet {
    port: u16,
    dns: DnsServer,
    /// The fleet runtime, to read its task count.
    handle: tokio::runtime::Handle,
    /// Each server's log of the commands it received, in domain order; drained every scan.
    command_logs: Vec<Arc<Mutex<Vec<String>>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Fleet {
    fn start(servers: Vec<(IpAddr, Scenario)>, zone: String) -> Fleet {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("soak-fleet".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("soak-fleet-worker")
                    .enable_all()
                    .build()
                    .expect("fleet runtime");
                runtime.block_on(async move {
                    let fleet = SmtpFleet::start(servers).await;
                    let dns = TestDns::start(&[("soak.", zone.as_str())]).await;
                    let command_logs = fleet
                        .servers
                        .iter()
                        .map(|server| Arc::clone(&server.commands))
                        .collect();
                    let ready = (
                        fleet.port,
                        dns.addr,
                        tokio::runtime::Handle::current(),
                        command_logs,
                    );
                    ready_tx.send(ready).expect("the test waits for the fleet");
                    // Ends when the test drops its sender, also when it panics.
                    let _ = stop_rx.await;
                    drop(fleet);
                    drop(dns);
                });
            })
            .expect("fleet thread");
        let (port, dns_addr, handle, command_logs) = ready_rx.recv().expect("the fleet starts");
        Fleet {
            port,
            dns: DnsServer::Custom(dns_addr),
            handle,
            command_logs,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn alive_tasks(&self) -> usize {
        self.handle.metrics().num_alive_tasks()
    }

    /// Empties every server's command log (so the logs do not grow over a long soak) and
    /// returns how many commands there were and the ones the probe must never send.
    fn drain_commands(&self) -> (usize, Vec<String>) {
        let mut total = 0;
        let mut impolite = Vec::new();
        for log in &self.command_logs {
            let commands = std::mem::take(&mut *log.lock().expect("command log"));
            total += commands.len();
            impolite.extend(commands.into_iter().filter(|command| {
                let verb = command.split_whitespace().next().unwrap_or("");
                !["EHLO", "STARTTLS", "QUIT"]
                    .iter()
                    .any(|allowed| verb.eq_ignore_ascii_case(allowed))
            }));
        }
        (total, impolite)
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Builds the domain table, the servers and the zone: per hundred domains, 30 chaos servers,
/// 5 fixed misbehavers, and 65 well-behaved ones of several kinds.
fn build_world(
    domains: usize,
    seed: u64,
    pki: &TestPki,
) -> (Vec<Domain>, Vec<(IpAddr, Scenario)>, String) {
    let ips = support::unique_loopback_ips(domains);
    let fixed = fixed_misbehaviours();
    let mut fixed_next = 0;
    let mut zone = soa_header("soak");
    let mut table = Vec::with_capacity(domains);
    let mut servers = Vec::with_capacity(domains);
    for (index, ip) in ips.into_iter().enumerate() {
        let mx_host = format!("mx.d{index}.soak");
        zone.push_str(&format!(
            "d{index} IN MX 10 mx.d{index}\nmx.d{index} IN A {ip}\n"
        ));
        let ca_signed = |versions| Scenario::Good {
            cert: pki.leaf(&[&mx_host], Validity::Current),
            versions,
        };
        let server_seed = seed ^ (index as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let (kind, scenario) = match index % 100 {
            0..30 => {
                let plan = ChaosPlan::new(server_seed, CHAOS_MISBEHAVING_SHARE, MAX_GREETING_DELAY);
                let scenario = Scenario::Chaos {
                    cert: pki.leaf(&[&mx_host], Validity::Current),
                    plan: Arc::clone(&plan),
                };
                (Kind::Chaos(plan), scenario)
            }
            30..35 => {
                let (name, scenario, expect) = fixed[fixed_next % fixed.len()].clone();
                fixed_next += 1;
                (Kind::Fixed { name, expect }, scenario)
            }
            35..42 => (
                Kind::WellBehaved(Truth::Strict(TlsVersion::Tls13)),
                Scenario::RandomGreetingDelay {
                    max_delay: MAX_GREETING_DELAY,
                    seed: server_seed,
                    cert: pki.leaf(&[&mx_host], Validity::Current),
                },
            ),
            42..47 => (Kind::WellBehaved(Truth::NoStarttls), Scenario::NoStarttls),
            47..49 => (Kind::WellBehaved(Truth::Refused454), Scenario::Starttls454),
            49..51 => (
                Kind::WellBehaved(Truth::CertProblem(CertError::SelfSigned)),
                Scenario::Good {
                    cert: TestPki::self_signed(&[&mx_host], Validity::Current),
                    versions: TlsVersions::Any,
                },
            ),
            51..53 => (
                Kind::WellBehaved(Truth::CertProblem(CertError::NameMismatch)),
                Scenario::Good {
                    cert: pki.leaf(&["other.soak"], Validity::Current),
                    versions: TlsVersions::Any,
                },
            ),
            53 => (
                Kind::WellBehaved(Truth::CertProblem(CertError::Expired)),
                Scenario::Good {
                    cert: pki.leaf(&[&mx_host], Validity::Expired),
                    versions: TlsVersions::Any,
                },
            ),
            54..60 => (
                Kind::WellBehaved(Truth::Strict(TlsVersion::Tls12)),
                ca_signed(TlsVersions::Tls12Only),
            ),
            60..66 => (
                Kind::WellBehaved(Truth::Strict(TlsVersion::Tls13)),
                ca_signed(TlsVersions::Tls13Only),
            ),
            _ => (
                Kind::WellBehaved(Truth::Strict(TlsVersion::Tls13)),
                ca_signed(TlsVersions::Any),
            ),
        };
        let name = DomainName::parse(&format!("d{index}.soak")).expect("valid soak domain");
        table.push(Domain { name, kind });
        servers.push((ip, scenario));
    }
    (table, servers, zone)
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
        Err(_) => default,
    }
}

/// The longest one session may take by the probe's deadlines: connect, the whole greeting,
/// EHLO, STARTTLS and EHLO over TLS (send and reply each within the command timeout), the
/// handshake, and QUIT (send, reply and shutdown, each within min(command timeout, 5 s)).
fn session_bound(config: &ProbeConfig) -> Duration {
    let quit_step = config.command_timeout.min(Duration::from_secs(5));
    config.connect_timeout
        + config.greeting_timeout
        + config.command_timeout * 6
        + config.tls_timeout
        + quit_step * 3
}

/// The longest one address may take: two sessions (rustls, then the legacy fallback; deep
/// mode is off).
fn address_bound(config: &ProbeConfig) -> Duration {
    session_bound(config) * 2
}

/// The longest a scan may take: each domain's MX lookup and its host's A and AAAA lookups
/// (each query tried twice), then its one address; domains run `concurrency` at a time.
/// One second per wave is added for storing results.
fn scan_bound(config: &ProbeConfig, domains: usize) -> Duration {
    let dns = config.dns_timeout * (3 * DNS_ATTEMPTS);
    let per_domain = dns + address_bound(config) + Duration::from_secs(1);
    let waves = domains.div_ceil(config.concurrency);
    per_domain * u32::try_from(waves).expect("few waves")
}

/// Resident memory in KiB from `/proc/self/status`.
struct Memory {
    /// VmRSS: all resident pages.
    rss: u64,
    /// RssAnon: the heap and stacks (a leak shows here; file pages are code and SQLite's).
    anon: u64,
    /// VmHWM: the peak of VmRSS so far.
    peak: u64,
}

fn memory() -> Memory {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} missing from /proc/self/status"))
    };
    Memory {
        rss: field("VmRSS:"),
        anon: field("RssAnon:"),
        peak: field("VmHWM:"),
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Waits until `count()` is at most `target` or [`SETTLE_LIMIT`] passes; returns the last count.
fn settle(target: usize, count: impl Fn() -> usize) -> usize {
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        let now = count();
        if now <= target || Instant::now() >= deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The only address of a soak domain (one MX host with one A record).
fn only_address(result: &DomainResult) -> Result<&AddressResult, String> {
    match result.mx.as_slice() {
        [host] => match host.addresses.as_slice() {
            [address] => Ok(address),
            other => Err(format!("{} addresses, expected 1", other.len())),
        },
        other => Err(format!("{} MX hosts, expected 1", other.len())),
    }
}

fn check_expect(address: &AddressResult, expected: Expect) -> Result<(), String> {
    if address.outcome == Outcome::NoStarttls {
        return Err("a misbehaving server was judged no_starttls".to_string());
    }
    if address.outcome != expected.outcome || !expected.reasons.contains(&address.reason) {
        return Err(format!(
            "outcome {:?}/{:?}, expected {:?}/{:?}",
            address.outcome, address.reason, expected.outcome, expected.reasons
        ));
    }
    Ok(())
}

fn check_truth(result: &DomainResult, address: &AddressResult, truth: Truth) -> Result<(), String> {
    let verdict = (
        result.verdict,
        result.starttls,
        result.pfs,
        result.strict_valid,
    );
    let wrong = |what: String| Err(format!("{what}; got {verdict:?}, {:?}", address.reason));
    match truth {
        Truth::Strict(version) => {
            if verdict != (Verdict::TlsOk, Some(true), Some(true), Some(true)) {
                return wrong("expected tls_ok, pfs, strict".to_string());
            }
            if address.tls_version != Some(version) || address.legacy_tls != Some(false) {
                return wrong(format!(
                    "expected {version:?} by rustls, got {:?} legacy {:?}",
                    address.tls_version, address.legacy_tls
                ));
            }
        }
        Truth::CertProblem(error) => {
            if verdict != (Verdict::TlsOk, Some(true), Some(true), Some(false))
                || !address.cert_errors.contains(&error)
            {
                return wrong(format!(
                    "expected tls_ok, pfs, not strict ({error:?}); cert_errors {:?}",
                    address.cert_errors
                ));
            }
        }
        Truth::NoStarttls => {
            if verdict != (Verdict::NoStarttls, Some(false), Some(false), Some(false)) {
                return wrong("expected no_starttls".to_string());
            }
        }
        Truth::Refused454 => {
            if result.verdict != Verdict::TlsFailed
                || address.smtp_code != Some(454)
                || address.reason != Reason::StarttlsRejected
            {
                return wrong(format!(
                    "expected tls_failed by 454, code {:?}",
                    address.smtp_code
                ));
            }
        }
    }
    Ok(())
}

/// Checks a chaos server's result against the behaviours its connections got this scan.
/// Returns whether it behaved well on every connection.
fn check_chaos(
    result: &DomainResult,
    address: &AddressResult,
    picks: &[Behaviour],
) -> Result<bool, String> {
    match picks {
        [] => Err("the server saw no connection this scan".to_string()),
        [single] if single.is_good() => {
            check_truth(result, address, Truth::Strict(TlsVersion::Tls13))?;
            Ok(true)
        }
        [Behaviour::HandshakeAlert] => {
            Err("handshake_alert without the legacy fallback session".to_string())
        }
        [single] => check_expect(address, expect_behaviour(*single)).map(|()| false),
        // rustls got the alert; the legacy fallback's session got a pick of its own.
        [Behaviour::HandshakeAlert, second] if second.is_good() => {
            if address.outcome != Outcome::TlsOk
                || address.legacy_tls != Some(true)
                || address.strict_valid != Some(true)
            {
                return Err(format!(
                    "alert, then a good fallback session: expected tls_ok by the legacy client \
                     and strict, got {:?}/{:?} legacy {:?} strict {:?}",
                    address.outcome, address.reason, address.legacy_tls, address.strict_valid
                ));
            }
            Ok(false)
        }
        [Behaviour::HandshakeAlert, _] => check_expect(
            address,
            expect(Outcome::TlsFailed, &Reason::HandshakeFailed),
        )
        .map(|()| false),
        more => Err(format!(
            "{} connections this scan ({:?}); at most 2 expected",
            more.len(),
            more.iter().map(|pick| pick.name()).collect::<Vec<_>>()
        )),
    }
}

/// What one scan showed.
struct ScanFigures {
    number: usize,
    elapsed: Duration,
    verdicts: BTreeMap<&'static str, usize>,
    misbehaving: usize,
    peak_tasks: usize,
    tasks_after: usize,
    fleet_tasks_after: usize,
    commands: usize,
    rss_kib: u64,
    anon_kib: u64,
    fds: usize,
    slowest_address_ms: u64,
}

#[test]
fn fault_injection_soak() {
    let soak_for = Duration::from_secs(env_number("SOAK_SECONDS", DEFAULT_SOAK_SECONDS));
    let domain_count = env_number("SOAK_DOMAINS", DEFAULT_DOMAINS);
    let seed = env_number("SOAK_SEED", DEFAULT_SEED);
    let probe_only = env_number("SOAK_PROBE_ONLY", 0) != 0;
    assert!(domain_count >= 100, "SOAK_DOMAINS must be at least 100");

    let pki = TestPki::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file: PathBuf = pki.write_ca_file(dir.path());
    let (domains, servers, zone) = build_world(domain_count, seed, &pki);
    let fleet = Fleet::start(servers, zone);

    let mut config = ProbeConfig {
        dns: fleet.dns.clone(),
        dns_timeout: DNS_TIMEOUT,
        smtp_port: fleet.port,
        ehlo_name: "probe.starttls-monitor.test".to_string(),
        connect_timeout: CONNECT_TIMEOUT,
        greeting_timeout: GREETING_TIMEOUT,
        command_timeout: COMMAND_TIMEOUT,
        tls_timeout: TLS_TIMEOUT,
        concurrency: CONCURRENCY,
        ..ProbeConfig::default()
    };
    config.load_ca_file(&ca_file).expect("test CA loads");
    let address_limit = address_bound(&config);
    let scan_limit = scan_bound(&config, domain_count);
    let settings = Settings {
        concurrency: CONCURRENCY,
        scan_deadline_minutes: u32::try_from(scan_limit.as_secs().div_ceil(60) + 1)
            .expect("minutes"),
        ..Settings::default()
    };

    let probe_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("soak-probe-worker")
        .enable_all()
        .build()
        .expect("probe runtime");
    let prober = Prober::new(config).expect("prober");
    let names: Vec<DomainName> = domains.iter().map(|domain| domain.name.clone()).collect();
    let index_of: HashMap<DomainName, usize> = names
        .iter()
        .enumerate()
        .map(|(index, name)| (name.clone(), index))
        .collect();
    let store = Store::open(&dir.path().join("soak.sqlite3")).expect("store");
    store.add_domains(None, &names).expect("domains added");
    let store = Arc::new(Mutex::new(store));

    let chaos_count = domains
        .iter()
        .filter(|domain| matches!(domain.kind, Kind::Chaos(_)))
        .count();
    let fixed_count = domains
        .iter()
        .filter(|domain| matches!(domain.kind, Kind::Fixed { .. }))
        .count();
    println!(
        "soak: {domain_count} domains on {domain_count} loopback IPs: {chaos_count} chaos \
         (misbehaving share {CHAOS_MISBEHAVING_SHARE}), {fixed_count} fixed misbehavers, {} \
         well-behaved; seed {seed:#x}; scans for {} s{}; concurrency {CONCURRENCY}; \
         address bound {} s, scan bound {} s",
        domain_count - chaos_count - fixed_count,
        soak_for.as_secs(),
        if probe_only {
            " (probe only, no store)"
        } else {
            " through run_scan and the store"
        },
        address_limit.as_secs(),
        scan_limit.as_secs(),
    );

    let idle_tasks = probe_runtime.metrics().num_alive_tasks();
    let idle_fleet_tasks = fleet.alive_tasks();
    println!(
        "soak: before the first scan: probe tasks {idle_tasks}, fleet tasks \
         {idle_fleet_tasks}, rss {:.1} MiB, fds {}",
        mib(memory().rss),
        open_fds()
    );
    println!(
        "{:>4} {:>7} {:>6} {:>6} {:>6} {:>6} {:>5} {:>6} {:>6} {:>6} {:>5} {:>8} {:>8} {:>5} {:>8}",
        "scan",
        "secs",
        "tls_ok",
        "no_tls",
        "failed",
        "untest",
        "bad",
        "peak_t",
        "tasks",
        "fleet",
        "cmds",
        "rss_MiB",
        "anon_MiB",
        "fds",
        "slow_ms"
    );

    let mut behaviour_totals: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut figures: Vec<ScanFigures> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut first_fds = None;
    let mut task_baseline: Option<usize> = None;
    let soak_started = Instant::now();
    while figures.len() < MIN_SCANS || soak_started.elapsed() < soak_for {
        let number = figures.len() + 1;
        let mut results: Vec<Option<DomainResult>> = vec![None; domain_count];
        let mut duplicates = 0;
        let mut end = None;
        let mut peak_tasks = 0;
        let started = Instant::now();
        let mut record = |result: DomainResult, alive_tasks: usize| {
            peak_tasks = peak_tasks.max(alive_tasks);
            let index = index_of[&result.domain];
            if results[index].replace(result).is_some() {
                duplicates += 1;
            }
        };
        let counts = if probe_only {
            probe_runtime.block_on(async {
                let runtime = tokio::runtime::Handle::current();
                let mut done = 0;
                let run = prober.start_run();
                let probing = run.probe_many(names.clone(), |_, result| {
                    done += 1;
                    record(result, runtime.metrics().num_alive_tasks());
                });
                if tokio::time::timeout(scan_limit, probing).await.is_ok() {
                    end = Some(ScanEnd::Finished);
                }
                Ok(ScanCounts {
                    total: domain_count,
                    done,
                    ..ScanCounts::default()
                })
            })
        } else {
            probe_runtime.block_on(async {
                let runtime = tokio::runtime::Handle::current();
                run_scan(
                    &store,
                    &prober,
                    ScanScope::All,
                    names.clone(),
                    &settings,
                    |event| match event {
                        ScanEvent::DomainProbed(result) => {
                            record(*result, runtime.metrics().num_alive_tasks());
                        }
                        ScanEvent::Finished { end: scan_end, .. } => end = Some(scan_end),
                        ScanEvent::StoreFailed(message) => panic!("scan {number}: {message}"),
                        _ => {}
                    },
                )
                .await
            })
        };
        let elapsed = started.elapsed();
        let counts = counts.unwrap_or_else(|error| panic!("scan {number} failed: {error}"));

        // Let aborted or finishing tasks end, on both sides, before counting anything. The
        // resolver keeps its connection to the DNS server, with one background task each,
        // from the first scan on: that count is the baseline of every later scan.
        let task_target = task_baseline.unwrap_or(idle_tasks + RESOLVER_TASKS);
        let tasks_after = settle(task_target, || probe_runtime.metrics().num_alive_tasks());
        let task_target = *task_baseline.get_or_insert(tasks_after.min(task_target));
        let fleet_tasks_after = settle(idle_fleet_tasks, || fleet.alive_tasks());
        let fds = open_fds();
        let fds = match first_fds {
            None => {
                first_fds = Some(fds);
                fds
            }
            Some(first) => settle(first + FD_TOLERANCE, open_fds),
        };
        let (commands, impolite) = fleet.drain_commands();
        let memory_now = memory();

        let mut scan_failures = Vec::new();
        if end != Some(ScanEnd::Finished) {
            scan_failures.push(format!("scan ended {end:?}, not Finished"));
        }
        if elapsed > scan_limit {
            scan_failures.push(format!(
                "scan took {:.1} s, bound {} s",
                elapsed.as_secs_f64(),
                scan_limit.as_secs()
            ));
        }
        if !impolite.is_empty() {
            scan_failures.push(format!("the probe sent {impolite:?}"));
        }
        if duplicates > 0 {
            scan_failures.push(format!("{duplicates} domains got two results"));
        }
        if counts.done != domain_count {
            scan_failures.push(format!("counts.done {} of {domain_count}", counts.done));
        }
        if tasks_after > task_target {
            scan_failures.push(format!(
                "{tasks_after} probe tasks alive after the scan, {idle_tasks} before the first \
                 and at most {task_target} expected: a task leak"
            ));
        }
        if fleet_tasks_after > idle_fleet_tasks {
            scan_failures.push(format!(
                "{fleet_tasks_after} fleet tasks alive after the scan, {idle_fleet_tasks} idle: \
                 a fake server holds a connection the probe closed"
            ));
        }
        if let Some(first) = first_fds
            && fds > first + FD_TOLERANCE
        {
            scan_failures.push(format!(
                "{fds} descriptors open, {first} after scan 1: a descriptor leak"
            ));
        }

        let mut verdicts: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut misbehaving = 0;
        let mut slowest_address_ms = 0;
        for (domain, result) in domains.iter().zip(&results) {
            let Some(result) = result else {
                scan_failures.push(format!("{}: no result", domain.name));
                continue;
            };
            *verdicts.entry(result.verdict.as_str()).or_default() += 1;
            let checked = only_address(result).and_then(|address| {
                slowest_address_ms = slowest_address_ms.max(address.elapsed_ms);
                if u128::from(address.elapsed_ms) > address_limit.as_millis() {
                    return Err(format!(
                        "address took {} ms, bound {} ms",
                        address.elapsed_ms,
                        address_limit.as_millis()
                    ));
                }
                match &domain.kind {
                    Kind::WellBehaved(truth) => check_truth(result, address, *truth),
                    Kind::Fixed { name, expect } => {
                        misbehaving += 1;
                        *behaviour_totals.entry(name).or_default() += 1;
                        check_expect(address, *expect).map_err(|error| format!("{name}: {error}"))
                    }
                    Kind::Chaos(plan) => {
                        let picks = plan.take_picks();
                        for pick in &picks {
                            *behaviour_totals.entry(pick.name()).or_default() += 1;
                        }
                        let names: Vec<&str> = picks.iter().map(|pick| pick.name()).collect();
                        match check_chaos(result, address, &picks) {
                            Ok(true) => Ok(()),
                            Ok(false) => {
                                misbehaving += 1;
                                Ok(())
                            }
                            Err(error) => Err(format!("chaos {names:?}: {error}")),
                        }
                    }
                }
                .map_err(|error| format!("{error} [{}]", address.detail))
            });
            if let Err(error) = checked {
                scan_failures.push(format!("{}: {error}", domain.name));
            }
        }

        let figure = ScanFigures {
            number,
            elapsed,
            verdicts,
            misbehaving,
            peak_tasks,
            tasks_after,
            fleet_tasks_after,
            commands,
            rss_kib: memory_now.rss,
            anon_kib: memory_now.anon,
            fds,
            slowest_address_ms,
        };
        println!(
            "{:>4} {:>7.2} {:>6} {:>6} {:>6} {:>6} {:>5} {:>6} {:>6} {:>6} {:>5} {:>8.1} {:>8.1} {:>5} {:>8}",
            figure.number,
            figure.elapsed.as_secs_f64(),
            figure.verdicts.get("tls_ok").copied().unwrap_or(0),
            figure.verdicts.get("no_starttls").copied().unwrap_or(0),
            figure.verdicts.get("tls_failed").copied().unwrap_or(0),
            figure.verdicts.get("untestable").copied().unwrap_or(0),
            figure.misbehaving,
            figure.peak_tasks,
            figure.tasks_after,
            figure.fleet_tasks_after,
            figure.commands,
            mib(figure.rss_kib),
            mib(figure.anon_kib),
            figure.fds,
            figure.slowest_address_ms,
        );
        for failure in &scan_failures {
            println!("     FAIL {failure}");
        }
        failures.extend(
            scan_failures
                .into_iter()
                .map(|failure| format!("scan {number}: {failure}")),
        );
        figures.push(figure);
    }

    let scans = figures.len();
    let baseline = &figures[WARM_UP_SCANS - 1];
    let last = &figures[scans - 1];
    let peak_rss = memory().peak;
    let elapsed: Vec<f64> = figures
        .iter()
        .map(|figure| figure.elapsed.as_secs_f64())
        .collect();
    let mean = elapsed.iter().sum::<f64>() / scans as f64;
    let slowest = elapsed.iter().copied().fold(0.0, f64::max);
    let fastest = elapsed.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "soak: {scans} scans x {domain_count} domains in {:.0} s; scan time min {fastest:.2} / \
         mean {mean:.2} / max {slowest:.2} s (bound {} s); probe tasks idle {idle_tasks}, peak \
         {}, after each scan <= {} (resolver's own: {}); rss scan {} {:.1} MiB -> last {:.1} MiB (anon {:.1} -> {:.1}, peak {:.1} MiB); \
         fds {} -> {}",
        soak_started.elapsed().as_secs_f64(),
        scan_limit.as_secs(),
        figures
            .iter()
            .map(|figure| figure.peak_tasks)
            .max()
            .unwrap_or(0),
        figures
            .iter()
            .map(|figure| figure.tasks_after)
            .max()
            .unwrap_or(0),
        task_baseline.unwrap_or(0).saturating_sub(idle_tasks),
        baseline.number,
        mib(baseline.rss_kib),
        mib(last.rss_kib),
        mib(baseline.anon_kib),
        mib(last.anon_kib),
        mib(peak_rss),
        figures[0].fds,
        last.fds,
    );
    println!("soak: behaviours served by the chaos and fixed misbehavers (connections):");
    for (name, count) in &behaviour_totals {
        println!("  {name:<26} {count:>6}");
    }

    let midpoint = &figures[WARM_UP_SCANS - 1 + (scans - WARM_UP_SCANS) / 2];
    let late_growth = last.anon_kib.saturating_sub(midpoint.anon_kib);
    println!(
        "soak: heap (RssAnon) scan {} {:.1} MiB -> scan {} {:.1} MiB -> last {:.1} MiB",
        baseline.number,
        mib(baseline.anon_kib),
        midpoint.number,
        mib(midpoint.anon_kib),
        mib(last.anon_kib)
    );
    if late_growth > LATE_HEAP_GROWTH_TOLERANCE_KIB {
        failures.push(format!(
            "the heap grew {:.1} MiB from scan {} to scan {} (tolerance {:.0} MiB): a steady leak",
            mib(late_growth),
            midpoint.number,
            last.number,
            mib(LATE_HEAP_GROWTH_TOLERANCE_KIB)
        ));
    }
    let growth = last.rss_kib.saturating_sub(baseline.rss_kib);
    if growth > RSS_GROWTH_TOLERANCE_KIB {
        failures.push(format!(
            "resident memory grew {:.1} MiB from scan {} to scan {} (tolerance {:.0} MiB)",
            mib(growth),
            baseline.number,
            last.number,
            mib(RSS_GROWTH_TOLERANCE_KIB)
        ));
    }
    drop(fleet);
    assert!(
        failures.is_empty(),
        "{} soak check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
