//! The real CLI against a loopback lab of a million domains, measured from outside: N domains
//! (default 1,000,000) on M MX hosts (default 200), each host a fake SMTP server with a
//! CA-signed certificate on its own 127.x address, the MX answers from an in-process DNS server.
//!
//! The lab runs in a child process (this bench re-executed with `serve`), so the scanner's
//! peak RSS and CPU are its own. The bench imports the domains from a generated Tranco-style
//! `rank,domain` CSV (no `--column`: the domain column must be detected), then runs `scan`
//! twice, as a user would, and prints for each command its wall time, the scanner's user and
//! system CPU and peak RSS (`wait4`'s rusage of that child alone), and the database file size
//! (plus its `-wal`) afterwards.
//!
//! ```sh
//! cargo bench --bench million_scan                      # 1,000,000 domains on 200 MX hosts
//! cargo bench --bench million_scan -- 100000 200        # DOMAINS HOSTS
//! cargo bench --bench million_scan -- 1000000 200 --memory-zone   # hickory's in-memory zone
//! cargo bench --bench million_scan -- 1000000 200 --concurrency 256   # the scans' --concurrency
//! cargo bench --bench million_scan -- cpu [RUNS]        # CPU per probed domain, 200 on 200
//! MILLION_DB=/tmp/m.sqlite3 cargo bench --bench million_scan   # keep the scanned database
//! ```
//!
//! DNS: by default the MX answers are synthesized (`dN.bench MX 10 mx(N % M).bench`, NXDOMAIN for
//! the names below a domain) by a small handler in front of a catalog that holds only the SOA
//! and the hosts' A records; with
//! `--memory-zone` the whole zone is hickory's in-memory zone parsed from master-file text (the
//! lab then prints how long the zone took to load and the lab's RSS after it). Measured at 1M
//! records: 42 s to load, 1.5 GB of lab RSS, and its NXDOMAIN answers (the `_mta-sts` and
//! `_smtp._tls` TXT lookups below each domain) come too slowly: the probe records them as
//! timeouts. Hence the synthesized answers.
//!
//! `cpu` mode: the same lab with 200 domains on 200 hosts; `probe` of all 200 domains (nothing
//! stored), `probe` of one domain (what a run costs before its first domain), and `scan` of the
//! 200 domains with the store, each RUNS times (default 7); prints the median CPU (user + sys)
//! per domain of the scanner process, and the marginal cost per probed domain
//! ((probe of 200 − probe of 1) / 199).
//!
//! Not a test: the figures go in closing notes and the README, never into an assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

#[path = "../tests/support/mod.rs"]
mod support;

use std::future::Future;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_server::{
    Server,
    net::runtime::Time,
    proto::{
        op::{Header, HeaderCounts, Metadata, ResponseCode},
        rr::{LowerName, Name, RData, Record, RecordType, rdata::MX},
        serialize::txt::Parser,
    },
    server::{Request, RequestHandler, ResponseHandler, ResponseInfo},
    store::in_memory::InMemoryZoneHandler,
    zone_handler::{AxfrPolicy, Catalog, MessageResponseBuilder, ZoneType},
};
use support::{SmtpFleet, TestPki, soa_header};
use tokio::net::{TcpListener, UdpSocket};

/// The CLI binary cargo builds for benches and tests.
const CLI: &str = env!("CARGO_BIN_EXE_starttls-monitor");
const DEFAULT_DOMAINS: usize = 1_000_000;
const DEFAULT_HOSTS: usize = 200;
/// The CPU goal's shape: 200 domains on 200 MX hosts (every domain its own TLS handshake).
const CPU_DOMAINS: usize = 200;
const CPU_HOSTS: usize = 200;
const DEFAULT_CPU_RUNS: usize = 7;
/// The lab's zone and the TTL of its synthesized answers.
const ORIGIN: &str = "bench.";
const TTL: u32 = 60;
/// TCP side of the lab's DNS server (as tests/support/dns.rs).
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
const TCP_RESPONSE_BUFFER: usize = 32;

fn main() {
    // `cargo bench` passes `--bench` to a harness-less bench; it is no option of ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| arg != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("serve") => {
            let domains = number(args.get(1), DEFAULT_DOMAINS);
            let hosts = number(args.get(2), DEFAULT_HOSTS);
            let dir = PathBuf::from(args.get(3).expect("serve DOMAINS HOSTS DIR [memory]"));
            let memory_zone = args.get(4).is_some_and(|kind| kind == "memory");
            serve(domains, hosts, &dir, memory_zone);
        }
        Some("cpu") => cpu_per_domain(number(args.get(1), DEFAULT_CPU_RUNS)),
        _ => {
            let memory_zone = args.iter().any(|arg| arg == "--memory-zone");
            let concurrency_at = args.iter().position(|arg| arg == "--concurrency");
            let concurrency = concurrency_at.map(|at| number(args.get(at + 1), 0));
            let numbers: Vec<&String> = args
                .iter()
                .enumerate()
                .filter(|(at, arg)| {
                    !arg.starts_with("--") && concurrency_at.is_none_or(|option| *at != option + 1)
                })
                .map(|(_, arg)| arg)
                .collect();
            million(
                number(numbers.first().copied(), DEFAULT_DOMAINS),
                number(numbers.get(1).copied(), DEFAULT_HOSTS),
                memory_zone,
                concurrency,
            );
        }
    }
}

fn number(arg: Option<&String>, default: usize) -> usize {
    arg.map_or(default, |text| {
        text.replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {text}"))
    })
}

// ---------------------------------------------------------------------------------------------
// The measured runs (parent process).

/// The lab child process and where it listens. Dropping it closes the lab's stdin (it exits)
/// and reaps it.
struct Lab {
    child: std::process::Child,
    dns: SocketAddr,
    smtp_port: u16,
    ca_file: PathBuf,
}

impl Lab {
    fn start(domains: usize, hosts: usize, dir: &Path, memory_zone: bool) -> Lab {
        let started = Instant::now();
        let mut child = Command::new(std::env::current_exe().expect("own path"))
            .args(["serve", &domains.to_string(), &hosts.to_string()])
            .arg(dir)
            .arg(if memory_zone { "memory" } else { "synth" })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the lab");
        let stdout = child.stdout.take().expect("lab stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the lab's address line");
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [dns, smtp_port, ca_file] = fields[..] else {
            panic!("the lab said {line:?}, not 'DNS_ADDR SMTP_PORT CA_FILE'");
        };
        println!(
            "lab: {domains} domains on {hosts} MX hosts ({} DNS), up in {:.1} s",
            if memory_zone {
                "hickory in-memory zone"
            } else {
                "synthesized MX answers"
            },
            started.elapsed().as_secs_f64()
        );
        Lab {
            child,
            dns: dns.parse().expect("DNS address"),
            smtp_port: smtp_port.parse().expect("SMTP port"),
            ca_file: PathBuf::from(ca_file),
        }
    }

    /// The CLI with the options that point it at this lab and at `db`.
    fn cli(&self, db: &Path) -> Command {
        let mut command = Command::new(CLI);
        command
            .arg("--db")
            .arg(db)
            .arg("--dns")
            .arg(self.dns.to_string())
            .arg("--smtp-port")
            .arg(self.smtp_port.to_string())
            .arg("--ca-file")
            .arg(&self.ca_file)
            // The lab's own DNS server on loopback: no queries-per-second cap (the default is
            // for a public resolver), so the figures are the probe's, not the cap's.
            .args(["--dns-qps", "0"]);
        command
    }
}

impl Drop for Lab {
    /// Closes the lab's stdin (it exits), reaps it and prints what it cost: on a 2-core machine
    /// the lab's DNS and SMTP servers share the cores with the scanner.
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        match reap(&self.child) {
            Ok(cost) => println!(
                "lab: CPU user {:.1} s + sys {:.1} s, peak RSS {:.1} MiB",
                cost.user.as_secs_f64(),
                cost.sys.as_secs_f64(),
                cost.max_rss_kib as f64 / 1024.0
            ),
            Err(error) => println!("lab: not reaped: {error}"),
        }
    }
}

/// What one child process cost, from `wait4`: its own rusage, no other child's.
struct Cost {
    wall: Duration,
    user: Duration,
    sys: Duration,
    max_rss_kib: u64,
}

impl Cost {
    fn cpu(&self) -> Duration {
        self.user + self.sys
    }
}

/// Runs `command` with stdout and stderr into `log` (a scan of a million domains may print a
/// line per change) and measures it. Panics when it fails, showing the log's tail.
fn run_measured(mut command: Command, log: &Path) -> Cost {
    let out = std::fs::File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    let started = Instant::now();
    // Reaped by `wait4` in `reap_with_status`, which std's lint cannot see.
    #[allow(clippy::zombie_processes)]
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start the CLI");
    let (cost, status) = reap_with_status(&child).expect("wait4");
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    assert!(
        exited_ok,
        "{command:?} failed (status {status}):\n{}",
        tail(log, 20)
    );
    Cost {
        wall: started.elapsed(),
        ..cost
    }
}

fn reap(child: &std::process::Child) -> std::io::Result<Cost> {
    reap_with_status(child).map(|(cost, _)| cost)
}

/// Waits for `child` with `wait4`: its exit status and its own rusage (wall time left zero).
/// The child is reaped here, never by `Child`.
fn reap_with_status(child: &std::process::Child) -> std::io::Result<(Cost, libc::c_int)> {
    let pid = libc::pid_t::try_from(child.id()).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, all-zero is a valid value; wait4 writes into both
    // out-parameters, which live for the call.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if reaped != pid {
        return Err(std::io::Error::last_os_error());
    }
    let duration = |time: libc::timeval| {
        Duration::from_secs(u64::try_from(time.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(time.tv_usec).unwrap_or(0))
    };
    let cost = Cost {
        wall: Duration::ZERO,
        user: duration(usage.ru_utime),
        sys: duration(usage.ru_stime),
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    };
    Ok((cost, status))
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn print_cost(what: &str, cost: &Cost) {
    println!(
        "{what:<8} wall {:>8.1} s   CPU user {:>7.1} s + sys {:>6.1} s   peak RSS {:>6.1} MiB",
        cost.wall.as_secs_f64(),
        cost.user.as_secs_f64(),
        cost.sys.as_secs_f64(),
        cost.max_rss_kib as f64 / 1024.0,
    );
}

fn print_db_size(db: &Path) {
    let wal = db.with_extension("sqlite3-wal");
    println!(
        "         database {:>8.1} MiB + wal {:>7.1} MiB",
        mib(file_size(db)),
        mib(file_size(&wal))
    );
}

/// The list a study would import: Tranco's shape, `rank,domain` lines and no header.
fn write_tranco_csv(path: &Path, domains: usize) {
    let file = std::fs::File::create(path).expect("CSV file");
    let mut out = std::io::BufWriter::new(file);
    for index in 0..domains {
        writeln!(out, "{},d{index}.bench", index + 1).expect("write CSV");
    }
    out.flush().expect("write CSV");
}

/// `concurrency`: the scans' `--concurrency` (None: the CLI's default).
fn million(domains: usize, hosts: usize, memory_zone: bool, concurrency: Option<usize>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let lab = Lab::start(domains, hosts, dir.path(), memory_zone);
    let db = dir.path().join("million.sqlite3");
    let csv = dir.path().join("tranco.csv");
    write_tranco_csv(&csv, domains);
    println!(
        "CLI: {CLI}\nlist: {domains} lines, {:.1} MiB (rank,domain; no header)",
        mib(file_size(&csv))
    );

    let mut import = Command::new(CLI);
    import.arg("--db").arg(&db).arg("import").arg(&csv);
    let log = dir.path().join("import.log");
    let cost = run_measured(import, &log);
    print_cost("import", &cost);
    for line in tail(&log, 6).lines() {
        println!("         | {line}");
    }
    print_db_size(&db);

    for scan in 1..=2 {
        let mut command = lab.cli(&db);
        command.arg("scan");
        if let Some(concurrency) = concurrency {
            command.args(["--concurrency", &concurrency.to_string()]);
        }
        let log = dir.path().join(format!("scan{scan}.log"));
        let cost = run_measured(command, &log);
        print_cost(&format!("scan {scan}"), &cost);
        println!(
            "         {:.0} domains/s, {:.3} ms CPU per domain",
            domains as f64 / cost.wall.as_secs_f64(),
            cost.cpu().as_secs_f64() * 1000.0 / domains as f64
        );
        let summary = std::fs::read_to_string(&log).unwrap_or_default();
        for line in summary
            .lines()
            .filter(|line| !line.starts_with("  "))
            .take(4)
        {
            println!("         | {line}");
        }
        print_db_size(&db);
    }
    // A real scanned database for other benches (the app's snapshot load: `ui_frames`).
    if let Some(keep) = std::env::var_os("MILLION_DB") {
        for suffix in ["", "-wal"] {
            let from = PathBuf::from(format!("{}{suffix}", db.display()));
            let to = PathBuf::from(format!("{}{suffix}", PathBuf::from(&keep).display()));
            if from.exists() {
                std::fs::copy(&from, &to).expect("keep the database");
            }
        }
        println!("database kept at {}", PathBuf::from(keep).display());
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn cpu_per_domain(runs: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let lab = Lab::start(CPU_DOMAINS, CPU_HOSTS, dir.path(), false);
    let names: Vec<String> = (0..CPU_DOMAINS)
        .map(|index| format!("d{index}.bench"))
        .collect();
    let db = dir.path().join("cpu.sqlite3");
    let mut add = Command::new(CLI);
    add.arg("--db")
        .arg(&db)
        .args(["domains", "add"])
        .args(&names);
    run_measured(add, &dir.path().join("add.log"));

    let (mut all, mut one, mut scans) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let mut probe_all = lab.cli(&db);
        probe_all.args(["probe", "--json"]).args(&names);
        let log = dir.path().join("probe-all.log");
        let cost = run_measured(probe_all, &log);
        let good = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("\"tls_ok\"")
            .count();
        assert!(
            good >= CPU_DOMAINS,
            "every lab domain must be tls_ok, or the figure means nothing:\n{}",
            tail(&log, 20)
        );
        all.push(cost.cpu());

        let mut probe_one = lab.cli(&db);
        probe_one.args(["probe", "--json"]).arg(&names[0]);
        one.push(run_measured(probe_one, &dir.path().join("probe-one.log")).cpu());

        let mut scan = lab.cli(&db);
        scan.arg("scan");
        let cost = run_measured(scan, &dir.path().join("scan.log"));
        scans.push(cost.cpu());
        println!(
            "run {run}: probe {CPU_DOMAINS}: {:.1} ms CPU; probe 1: {:.1} ms; scan {CPU_DOMAINS}: {:.1} ms (wall {:.2} s)",
            all[run].as_secs_f64() * 1000.0,
            one[run].as_secs_f64() * 1000.0,
            scans[run].as_secs_f64() * 1000.0,
            cost.wall.as_secs_f64()
        );
    }
    let per_domain = |total: Duration| total.as_secs_f64() * 1000.0 / CPU_DOMAINS as f64;
    let (all, one, scans) = (median(all), median(one), median(scans));
    println!(
        "{CPU_DOMAINS} domains on {CPU_HOSTS} MX hosts, median of {runs} runs, CPU (user + sys) of the scanner process:"
    );
    println!(
        "  probe: {:.3} ms per domain (whole process {:.1} ms; a 1-domain probe {:.1} ms)",
        per_domain(all),
        all.as_secs_f64() * 1000.0,
        one.as_secs_f64() * 1000.0
    );
    println!(
        "  probe, marginal: {:.3} ms per probed domain ((200 - 1 domain) / 199)",
        all.saturating_sub(one).as_secs_f64() * 1000.0 / (CPU_DOMAINS - 1) as f64
    );
    println!(
        "  scan (stored): {:.3} ms per domain (whole process {:.1} ms)",
        per_domain(scans),
        scans.as_secs_f64() * 1000.0
    );
}

// ---------------------------------------------------------------------------------------------
// The lab (child process).

/// Runs the lab until stdin closes: prints `DNS_ADDR SMTP_PORT CA_FILE` on one line once it
/// answers.
fn serve(domains: usize, hosts: usize, dir: &Path, memory_zone: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let pki = TestPki::new();
        let ca_file = pki.write_ca_file(dir);
        let ips = support::unique_loopback_ips(hosts);
        let mut zone = soa_header(ORIGIN);
        let (hosts_zone, servers) = support::good_hosts(&pki, &ips, ORIGIN);
        zone.push_str(&hosts_zone);
        let fleet = SmtpFleet::start(servers).await;
        let handler = if memory_zone {
            let started = Instant::now();
            for index in 0..domains {
                zone.push_str(&format!("d{index} IN MX 10 mx{}\n", index % hosts));
            }
            let catalog = catalog(&zone);
            eprintln!(
                "lab: in-memory zone of {domains} MX records loaded in {:.1} s, lab RSS {}",
                started.elapsed().as_secs_f64(),
                own_rss()
            );
            drop(zone);
            LabDns {
                catalog,
                domains: 0,
                hosts,
                soa: None,
            }
        } else {
            let catalog = catalog(&zone);
            let soa = soa_record(&zone);
            LabDns {
                catalog,
                domains,
                hosts,
                soa: Some(soa),
            }
        };
        let (udp, tcp) = bind_udp_and_tcp().await;
        let dns_addr = udp.local_addr().expect("DNS address");
        let mut server = Server::new(handler);
        server.register_socket(udp);
        server.register_listener(tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        println!("{dns_addr} {} {}", fleet.port, ca_file.display());
        std::io::stdout().flush().expect("stdout");
        // Serve until the bench closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            while std::io::stdin()
                .read_line(&mut sink)
                .is_ok_and(|read| read > 0)
            {}
        })
        .await
        .expect("stdin watcher");
        drop(server);
        drop(fleet);
    });
}

fn own_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .map_or_else(String::new, |line| {
            line.trim_start_matches("VmRSS:").trim().to_string()
        })
}

fn catalog(zone_text: &str) -> Catalog {
    let origin = Name::from_str(ORIGIN).expect("origin");
    let (origin, records) = Parser::new(zone_text, None, Some(origin))
        .parse()
        .expect("lab zone parses");
    let handler: InMemoryZoneHandler = InMemoryZoneHandler::new(
        origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
        None,
    )
    .expect("lab zone is valid");
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::from(origin), vec![Arc::new(handler)]);
    catalog
}

fn soa_record(zone_text: &str) -> Record {
    let origin = Name::from_str(ORIGIN).expect("origin");
    let (_, records) = Parser::new(zone_text, None, Some(origin))
        .parse()
        .expect("lab zone parses");
    records
        .into_values()
        .flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>())
        .find(|record| record.record_type() == RecordType::SOA)
        .expect("the zone has an SOA")
}

/// The lab's DNS: `dN.bench` for N below `domains` is answered here (MX → `mx(N % hosts).bench`,
/// any other type → no data, with the SOA), and so is every name below it (NXDOMAIN, with the
/// SOA: the `_mta-sts` and `_smtp._tls` TXT lookups, what the catalog would answer, without its
/// name search, which was two fifths of the lab's CPU); everything else by the catalog (the
/// SOA, the hosts' A records, REFUSED outside the zone). `domains` 0: the catalog holds the
/// whole zone.
struct LabDns {
    catalog: Catalog,
    domains: usize,
    hosts: usize,
    soa: Option<Record>,
}

impl LabDns {
    /// N, and whether `name` is below it, when `name` is `dN.bench.` for a lab domain or a name
    /// below it (case-insensitive, as DNS is).
    fn domain_index(&self, name: &LowerName) -> Option<(usize, bool)> {
        if self.domains == 0 {
            return None;
        }
        let text = name.to_string();
        let labels = text.strip_suffix(".bench.")?;
        let (below, label) = match labels.rsplit_once('.') {
            Some((_, label)) => (true, label),
            None => (false, labels),
        };
        let digits = label.strip_prefix('d')?;
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        if digits.len() > 1 && digits.starts_with('0') {
            return None;
        }
        digits
            .parse()
            .ok()
            .filter(|index| *index < self.domains)
            .map(|index| (index, below))
    }
}

// The trait is declared with `async_trait`; this is its expansion (as tests/support/dns.rs).
impl RequestHandler for LabDns {
    fn handle_request<'handler, 'request, 'future, R, T>(
        &'handler self,
        request: &'request Request,
        mut response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'future>>
    where
        R: ResponseHandler + 'future,
        T: Time + 'future,
        'handler: 'future,
        'request: 'future,
        Self: 'future,
    {
        let Some((index, query_type, name)) = request.request_info().ok().and_then(|info| {
            self.domain_index(info.query.name())
                .map(|index| (index, info.query.query_type(), info.query.name().clone()))
        }) else {
            return self
                .catalog
                .handle_request::<R, T>(request, response_handle);
        };
        let (index, below) = index;
        let answer = (query_type == RecordType::MX && !below).then(|| {
            let exchange =
                Name::from_str(&format!("mx{}.bench.", index % self.hosts)).expect("host name");
            Record::from_rdata(Name::from(name), TTL, RData::MX(MX::new(10, exchange)))
        });
        let soa = if answer.is_none() {
            self.soa.clone()
        } else {
            None
        };
        Box::pin(async move {
            let mut metadata = Metadata::response_from_request(&request.metadata);
            metadata.authoritative = true;
            metadata.response_code = if below {
                ResponseCode::NXDomain
            } else {
                ResponseCode::NoError
            };
            let response = MessageResponseBuilder::new(&request.queries, None).build(
                metadata,
                answer.iter(),
                None.iter(),
                soa.iter(),
                None.iter(),
            );
            match response_handle.send_response(response).await {
                Ok(info) => info,
                Err(_) => ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                }),
            }
        })
    }
}

/// Binds UDP on 127.0.0.1:0, then TCP on the port UDP got; retries when TCP finds it taken.
async fn bind_udp_and_tcp() -> (UdpSocket, TcpListener) {
    for _ in 0..20 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind UDP");
        let port = udp.local_addr().expect("UDP address").port();
        if let Ok(tcp) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            return (udp, tcp);
        }
    }
    panic!("no port free for both UDP and TCP");
}
