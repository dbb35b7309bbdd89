//! The headless command line: argument parsing (clap) and the commands that drive the engine.
//!
//! Owns: the command-line contract of DESIGN.md (global options, subcommands, exit status), the
//! one mapping from global options to [`Overrides`], and how results are printed. Must not
//! touch: probe internals (it uses `probe::Prober` and the config builder only), the desktop app
//! (`main.rs` starts it when there is no subcommand).

mod admin;
mod import_export;
mod output;
mod store_commands;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::import::domain_list::DomainList;
use crate::model::{DomainName, DomainResult};
use crate::probe::config::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DNS_QPS,
    DEFAULT_GREETING_TIMEOUT, DEFAULT_HTTPS_PORT, DEFAULT_SMTP_PORT, DEFAULT_TLS_TIMEOUT,
    FALLBACK_EHLO_NAME,
};
use crate::probe::{DnsServer, ProbeConfig, Prober, ProxyChoice};
use crate::settings::{MAX_DNS_QPS, Overrides};

/// Exit status for "we could not do our job" (bad CA file, DNS setup...).
pub const EXIT_ERROR: u8 = 1;
/// Exit status for bad usage (unknown option, invalid domain argument).
pub const EXIT_USAGE: u8 = 2;

/// Watch how well mail domains protect mail in transit.
#[derive(Debug, Parser)]
#[command(name = "starttls-monitor", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalOptions {
    /// Database file (default: monitor.sqlite3 in the user's data directory). `probe` never
    /// touches it.
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// DNS server: IP, IP:PORT or [IPv6]:PORT (default: the saved setting, else the system
    /// resolver).
    #[arg(long, global = true, value_name = "ADDR", value_parser = parse_dns)]
    pub dns: Option<DnsServer>,
    /// Most DNS queries a second, retransmissions included; 0: no cap. The help states the
    /// default ([`DEFAULT_DNS_QPS`]).
    #[arg(long = "dns-qps", global = true, value_name = "N", value_parser = parse_dns_qps, help = dns_qps_help())]
    pub dns_qps: Option<u32>,
    /// Extra trust anchors (PEM), added to the Mozilla roots (instead of the saved CA file).
    #[arg(long = "ca-file", global = true, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// DNSSEC trust anchors: a file of DNSKEY lines (zone-file format) that replaces the
    /// built-in root keys (instead of the saved setting); for private roots and tests.
    #[arg(long = "trust-anchor", global = true, value_name = "FILE")]
    pub trust_anchor: Option<PathBuf>,
    /// SMTP port to probe; the help states the default ([`DEFAULT_SMTP_PORT`]).
    #[arg(long = "smtp-port", global = true, value_name = "N", help = smtp_port_help())]
    pub smtp_port: Option<u16>,
    /// HTTPS port of MTA-STS policy hosts; the help states the default ([`DEFAULT_HTTPS_PORT`]).
    #[arg(long = "https-port", global = true, value_name = "N", help = https_port_help())]
    pub https_port: Option<u16>,
    /// One deadline for connecting, each reply and the TLS handshake; the help states the
    /// defaults ([`DEFAULT_CONNECT_TIMEOUT`], [`DEFAULT_COMMAND_TIMEOUT`], [`DEFAULT_TLS_TIMEOUT`]).
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds, help = timeout_help())]
    pub timeout: Option<Duration>,
    /// Deadline for the whole greeting; the help states the default
    /// ([`DEFAULT_GREETING_TIMEOUT`]).
    #[arg(long = "greeting-timeout", global = true, value_name = "SECONDS", value_parser = parse_seconds, help = greeting_timeout_help())]
    pub greeting_timeout: Option<Duration>,
    /// Host name to give in EHLO; the help states the default ([`FALLBACK_EHLO_NAME`]).
    #[arg(long = "ehlo-name", global = true, value_name = "NAME", help = ehlo_name_help())]
    pub ehlo_name: Option<String>,
    /// Domains probed at the same time; the help states the default ([`DEFAULT_CONCURRENCY`]).
    #[arg(long, global = true, value_name = "N", help = concurrency_help())]
    pub concurrency: Option<usize>,
    /// Every SMTP connection through this SOCKS5 proxy (`socks5://[user:pass@]HOST:PORT`, e.g.
    /// from `ssh -N -D 1080 user@host`), or `direct` (default: the saved setting, else direct).
    /// DNS stays local.
    #[arg(long, global = true, value_name = "URL", value_parser = parse_proxy)]
    pub proxy: Option<ProxyChoice>,
}

/// `--smtp-port` help, with the default from its constant.
fn smtp_port_help() -> String {
    format!(
        "SMTP port to probe (default {DEFAULT_SMTP_PORT}, or the saved setting; other values are \
         for test fleets and demos)"
    )
}

/// `--https-port` help, with the default from its constant.
fn https_port_help() -> String {
    format!(
        "HTTPS port of MTA-STS policy hosts (default {DEFAULT_HTTPS_PORT}; other values are for \
         test fleets)"
    )
}

/// `--timeout` help, with the defaults from their constants.
fn timeout_help() -> String {
    format!(
        "Seconds to wait for a connection, a reply or a TLS handshake (default {} / {} / {}, or \
         the saved settings)",
        DEFAULT_CONNECT_TIMEOUT.as_secs(),
        DEFAULT_COMMAND_TIMEOUT.as_secs(),
        DEFAULT_TLS_TIMEOUT.as_secs()
    )
}

/// `--greeting-timeout` help, with the default from its constant.
fn greeting_timeout_help() -> String {
    format!(
        "Seconds to wait for the whole greeting (default {}, or the saved setting; postscreen may \
         wait 6-15 s)",
        DEFAULT_GREETING_TIMEOUT.as_secs()
    )
}

/// `--ehlo-name` help, with the fallback name from its constant.
fn ehlo_name_help() -> String {
    format!(
        "Host name to give in EHLO (default: the saved setting, else this machine's FQDN, else \
         {FALLBACK_EHLO_NAME})"
    )
}

/// `--dns-qps` help, with the default from its constant.
fn dns_qps_help() -> String {
    format!(
        "Most DNS queries a second, resends included (default {DEFAULT_DNS_QPS}, or the saved \
         setting; 0: no cap, for loopback test fleets)"
    )
}

/// `--concurrency` help, with the default from its constant.
fn concurrency_help() -> String {
    format!("Domains probed at the same time (default {DEFAULT_CONCURRENCY}, or the saved setting)")
}

/// The subcommands. Without one, the desktop app starts (`main.rs` does that).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe domains now and print the results; stores nothing.
    Probe(ProbeArgs),
    /// Add, remove or list the domains in the database.
    Domains {
        #[command(subcommand)]
        command: store_commands::DomainsCommand,
    },
    /// Show lists (name and count per line), or create, rename, delete one.
    Lists {
        #[command(subcommand)]
        command: Option<store_commands::ListsCommand>,
    },
    /// Run one scan now and store it (progress bar on a terminal, summary at the end).
    Scan(store_commands::ScanArgs),
    /// Adoption over time, one row (or JSON point) per UTC day with results.
    Trends(store_commands::TrendsArgs),
    /// Read domains from a CSV or text file (e-mail addresses and URLs too) and add them.
    Import(import_export::ImportArgs),
    /// Write a report of the latest results, trends and events: CSV, JSON or HTML.
    Export(import_export::ExportArgs),
    /// Show the saved settings, or change one (same checks as the Settings tab).
    Settings {
        #[command(subcommand)]
        command: admin::SettingsCommand,
    },
    /// Change events, newest first: for cron pipelines (`events --since 1d --regressions`).
    Events(admin::EventsArgs),
    /// Run the app's scheduler without a window (a server, a systemd unit), until stopped;
    /// refuses when another process runs the schedule of this database.
    Run,
}

/// `probe [--json] DOMAIN...`
#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// One JSON object per domain per line (the domain result JSON of the README).
    #[arg(long)]
    pub json: bool,
    /// Also ask every server that completed TLS whether it would choose a suite without
    /// forward secrecy when a sender offers RSA key exchange first (`prefers_non_pfs`); one more
    /// connection per address.
    #[arg(long)]
    pub deep: bool,
    /// Domains to probe (e-mail addresses and URLs are not accepted here; give the domain).
    #[arg(required = true, value_name = "DOMAIN")]
    pub domains: Vec<String>,
}

fn parse_dns(text: &str) -> Result<DnsServer, String> {
    DnsServer::parse(text)
}

fn parse_proxy(text: &str) -> Result<ProxyChoice, String> {
    ProxyChoice::parse(text)
}

fn parse_dns_qps(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(qps) if qps <= MAX_DNS_QPS => Ok(qps),
        _ => Err(format!(
            "'{text}' is not a number of queries per second from 0 (no cap) to {MAX_DNS_QPS}"
        )),
    }
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(format!("'{text}' must be between 0 and 3600 seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// An error that ends a command: message for stderr and exit status.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub exit_code: u8,
}

impl CliError {
    /// We could not do our job: exit status [`EXIT_ERROR`].
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_ERROR,
        }
    }

    /// The command line asked for something that cannot be: exit status [`EXIT_USAGE`].
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_USAGE,
        }
    }
}

impl GlobalOptions {
    /// These options as overrides of the saved settings (or, for `probe`, of the defaults).
    pub fn overrides(&self) -> Overrides {
        Overrides {
            dns: self.dns.clone(),
            dns_qps: self.dns_qps,
            ca_file: self.ca_file.clone(),
            trust_anchor: self.trust_anchor.clone(),
            smtp_port: self.smtp_port,
            https_port: self.https_port,
            timeout: self.timeout,
            greeting_timeout: self.greeting_timeout,
            ehlo_name: self.ehlo_name.clone(),
            concurrency: self.concurrency,
            deep: false,
            proxy: self.proxy.clone(),
        }
    }
}

/// Runs a subcommand. Without one the desktop app starts instead; that is `main.rs`'s job, so
/// the command line never reaches into the UI.
pub fn run(global: &GlobalOptions, command: &Command) -> Result<(), CliError> {
    match command {
        Command::Probe(args) => run_probe(global, args),
        Command::Domains { command } => store_commands::run_domains(global, command),
        Command::Lists { command } => store_commands::run_lists(global, command.as_ref()),
        Command::Scan(args) => store_commands::run_scan_command(global, args),
        Command::Trends(args) => store_commands::run_trends(global, args),
        Command::Import(args) => import_export::run_import(global, args),
        Command::Export(args) => import_export::run_export(global, args),
        Command::Settings { command } => admin::run_settings(global, command),
        Command::Events(args) => admin::run_events(global, args),
        Command::Run => admin::run_scheduler(global),
    }
}

/// Parses domain arguments (repeats left out), naming every bad one.
fn parse_domains(inputs: &[String]) -> Result<Vec<DomainName>, CliError> {
    let list = DomainList::from_arguments(inputs);
    if list.invalid.is_empty() {
        return Ok(list.unique_domains());
    }
    let problems: Vec<String> = list
        .invalid
        .iter()
        .map(|entry| format!("'{}': {}", entry.text, entry.reason))
        .collect();
    Err(CliError::usage(format!(
        "invalid domain argument(s): {}",
        problems.join("; ")
    )))
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        // Named like the app's "monitor-worker": a profile tells the scanner's threads from a
        // lab's on the same machine.
        .thread_name("cli-worker")
        .enable_all()
        .build()
        .map_err(|error| CliError::error(format!("could not start the async runtime: {error}")))
}

fn run_probe(global: &GlobalOptions, args: &ProbeArgs) -> Result<(), CliError> {
    let domains = parse_domains(&args.domains)?;
    let mut overrides = global.overrides();
    overrides.deep = args.deep;
    // `probe` stores nothing and reads no settings: the overrides go over the defaults.
    let config = overrides
        .apply(ProbeConfig::builder())
        .build()
        .map_err(|error| {
            if error.is_usage() {
                CliError::usage(error.to_string())
            } else {
                CliError::error(error.to_string())
            }
        })?;
    let runtime = runtime()?;
    let prober = runtime
        .block_on(async { Prober::new(config) })
        .map_err(|error| CliError::error(error.to_string()))?;
    let json = args.json;
    let total = domains.len();
    let resolver = prober.config().dns.to_string();
    let mut failing_dns = crate::monitor::scan::FailingDnsDetector::default();
    let mut dnssec_warned = false;
    runtime.block_on(async {
        // The proxy's failure is ours, not the domains': stop before probing any.
        prober
            .check_proxy()
            .await
            .map_err(|error| CliError::error(format!("{error}: nothing was probed")))?;
        let run = prober.start_run();
        let dnssec_watch = run.clone();
        // Print in argument order as soon as every earlier domain is done.
        let mut ready: Vec<Option<DomainResult>> = vec![None; total];
        let mut next_to_print = 0;
        let stdout = std::io::stdout();
        let mut write_error = None;
        let mut counts = crate::store::ScanCounts::default();
        run.probe_many(domains, |index, result| {
            counts.add(&result);
            if !dnssec_warned && dnssec_watch.dnssec_data_missing() {
                dnssec_warned = true;
                eprintln!("{}", dnssec_unavailable_warning(&resolver));
            }
            if failing_dns.observe(&result) {
                eprintln!(
                    "{}",
                    failing_dns_warning(&resolver, failing_dns.lookups(), failing_dns.failures())
                );
            }
            ready[index] = Some(result);
            while let Some(Some(result)) = ready.get_mut(next_to_print).map(Option::take) {
                let text = if json {
                    output::json_line(&result)
                } else {
                    output::domain_table(&result)
                };
                let mut handle = stdout.lock();
                if let Err(error) = handle
                    .write_all(text.as_bytes())
                    .and_then(|()| handle.flush())
                {
                    write_error.get_or_insert(error);
                }
                next_to_print += 1;
            }
        })
        .await;
        if !json && write_error.is_none() && !run.proxy_lost() {
            let summary = probe_summary(&counts);
            let mut handle = stdout.lock();
            if let Err(error) = handle
                .write_all(summary.as_bytes())
                .and_then(|()| handle.flush())
            {
                write_error.get_or_insert(error);
            }
        }
        if run.proxy_lost() {
            return Err(CliError::error(format!(
                "the SOCKS proxy was lost in the middle of the probe: {} of {total} domains \
                 printed, the rest were not probed",
                next_to_print
            )));
        }
        match write_error {
            Some(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::error(
                format!("could not write results to standard output: {error}"),
            )),
            _ => Ok(()),
        }
    })
}

/// The last line of `probe`'s table: how many domains were probed, the share of testable ones
/// with all three, and (when the results have the facts) % authenticated and % at risk.
fn probe_summary(counts: &crate::store::ScanCounts) -> String {
    let testable = counts.testable();
    format!(
        "probed {} domains; of {testable} testable: all three {}{}\n",
        counts.done,
        crate::model::format::PercentFormat::PLAIN.of(counts.all_three, testable),
        counts.auth_summary()
    )
}

/// The one-line warning when the resolver passes no DNSSEC data (said once per run).
pub(crate) fn dnssec_unavailable_warning(resolver: &str) -> String {
    format!(
        "warning: {resolver} passes no DNSSEC data (the trust anchor's DNSKEY RRset does not \
         validate: RRSIGs stripped or the DO bit ignored): DANE is reported as unknown; give a \
         validating or DNSSEC-aware resolver with --dns for DANE results"
    )
}

/// The warning when a run's connection attempts all met silence: port 25 looks blocked. Offers
/// the way out — a SOCKS5 proxy on a host that may connect out on 25 — unless the run already
/// went through one (then the proxy host's own port 25 looks blocked).
pub(crate) fn port_blocked_warning(attempts: usize, proxied: bool) -> String {
    if proxied {
        format!(
            "warning: all {attempts} connection attempts so far met silence through the SOCKS \
             proxy: outbound port 25 looks blocked on the proxy's host too; results are stored \
             as untestable"
        )
    } else {
        format!(
            "warning: all {attempts} connection attempts so far timed out: outbound port 25 looks \
             blocked on this network (many home and cloud networks block it); results are stored \
             as untestable. To scan from a host that may connect out on port 25: \
             'ssh -N -D 1080 user@host', then --proxy socks5://127.0.0.1:1080 (or \
             'starttls-monitor settings set proxy socks5://127.0.0.1:1080')"
        )
    }
}

/// The one-line warning when the DNS server failed every one of a run's first lookups: who,
/// how ("refused: not a recursive resolver?") and what to do.
pub(crate) fn failing_dns_warning(
    resolver: &str,
    lookups: usize,
    failures: crate::monitor::scan::DnsFailures,
) -> String {
    let cause = failures.cause();
    let verb = if cause == crate::monitor::scan::DnsFailureCause::Timeout {
        "answered none of"
    } else {
        "failed all of"
    };
    format!(
        "warning: {resolver} {verb} the first {lookups} domain lookups ({}; {}): give a recursive \
         resolver with --dns or the DNS server setting; those domains are untestable",
        cause.explain(),
        failures.describe()
    )
}

/// Exit code for a finished command.
pub fn exit_code(result: Result<(), CliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("starttls-monitor: {}", error.message);
            ExitCode::from(error.exit_code)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_help_states_the_defaults_of_the_constants() {
        let help = Cli::command().render_long_help().to_string();
        for expected in [
            format!("default {DEFAULT_SMTP_PORT}, or the saved setting"),
            format!(
                "default {} / {} / {}, or",
                DEFAULT_CONNECT_TIMEOUT.as_secs(),
                DEFAULT_COMMAND_TIMEOUT.as_secs(),
                DEFAULT_TLS_TIMEOUT.as_secs()
            ),
            format!(
                "whole greeting (default {}",
                DEFAULT_GREETING_TIMEOUT.as_secs()
            ),
            format!("default {DEFAULT_CONCURRENCY}, or the saved setting"),
            format!("default {DEFAULT_DNS_QPS}, or the saved"),
            FALLBACK_EHLO_NAME.to_string(),
        ] {
            assert!(help.contains(&expected), "'{expected}' in:\n{help}");
        }
    }

    #[test]
    fn global_options_become_overrides_over_the_defaults() {
        let cli = Cli::try_parse_from([
            "starttls-monitor",
            "probe",
            "example.org",
            "--smtp-port",
            "2525",
            "--https-port",
            "8443",
            "--timeout",
            "2.5",
            "--concurrency",
            "3",
            "--dns-qps",
            "0",
        ])
        .expect("parses");
        let config = cli
            .global
            .overrides()
            .apply(ProbeConfig::builder())
            .build()
            .expect("valid");
        assert_eq!(config.smtp_port, 2525);
        assert_eq!(config.https_port, 8443);
        assert_eq!(config.connect_timeout, Duration::from_millis(2500));
        assert_eq!(config.tls_timeout, Duration::from_millis(2500));
        assert_eq!(config.greeting_timeout, DEFAULT_GREETING_TIMEOUT);
        assert_eq!(config.concurrency, 3);
        assert_eq!(config.dns_qps, 0, "0: no cap");
        let default = Cli::try_parse_from(["starttls-monitor", "probe", "example.org"])
            .expect("parses")
            .global
            .overrides()
            .apply(ProbeConfig::builder())
            .build()
            .expect("valid");
        assert_eq!(default.dns_qps, DEFAULT_DNS_QPS);
        for bad in ["-1", "many", "100001"] {
            let option = format!("--dns-qps={bad}");
            let error = Cli::try_parse_from(["starttls-monitor", "scan", option.as_str()])
                .expect_err("refused")
                .to_string();
            assert!(error.contains("--dns-qps"), "{error}");
            assert!(error.contains("queries per second"), "{error}");
        }
    }

    #[test]
    fn domain_arguments_lose_repeats_and_bad_ones_are_named() {
        let domains =
            parse_domains(&["b.test".into(), "A.test".into(), "b.test.".into()]).expect("valid");
        let names: Vec<&str> = domains.iter().map(DomainName::as_str).collect();
        assert_eq!(names, ["b.test", "a.test"]);
        let error = parse_domains(&["ok.test".into(), "not a domain".into(), "10.0.0.1".into()])
            .expect_err("invalid");
        assert_eq!(error.exit_code, EXIT_USAGE);
        assert!(
            error
                .message
                .starts_with("invalid domain argument(s): 'not a domain': "),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("; '10.0.0.1': "),
            "{}",
            error.message
        );
    }

    #[test]
    fn the_port_25_warning_offers_the_proxy_and_the_ssh_recipe() {
        let direct = port_blocked_warning(20, false);
        assert!(
            direct.contains("outbound port 25 looks blocked"),
            "{direct}"
        );
        assert!(direct.contains("'ssh -N -D 1080 user@host'"), "{direct}");
        assert!(
            direct.contains("--proxy socks5://127.0.0.1:1080"),
            "{direct}"
        );
        assert!(direct.contains("settings set proxy"), "{direct}");
        let proxied = port_blocked_warning(20, true);
        assert!(proxied.contains("on the proxy's host too"), "{proxied}");
        assert!(!proxied.contains("ssh -N -D"), "{proxied}");
    }

    #[test]
    fn a_proxy_option_parses_and_direct_overrides_a_saved_one() {
        let cli = Cli::try_parse_from([
            "starttls-monitor",
            "scan",
            "--proxy",
            "socks5://u:p@127.0.0.1:1080",
        ])
        .expect("parses");
        let proxy = cli.global.overrides().proxy.expect("given");
        assert_eq!(
            proxy
                .proxy()
                .map(crate::probe::SocksProxy::endpoint)
                .as_deref(),
            Some("127.0.0.1:1080")
        );
        let cli =
            Cli::try_parse_from(["starttls-monitor", "--proxy", "direct", "scan"]).expect("parses");
        assert_eq!(cli.global.overrides().proxy, Some(ProxyChoice::Direct));
        let error = Cli::try_parse_from(["starttls-monitor", "--proxy", "http://x:1", "scan"])
            .expect_err("not SOCKS5");
        assert!(error.to_string().contains("is not SOCKS5"), "{error}");
    }

    #[test]
    fn the_dns_warning_names_the_server_and_the_likely_cause() {
        use crate::monitor::scan::DnsFailures;
        let refused = failing_dns_warning(
            "the DNS server 127.0.0.1:5353",
            3,
            DnsFailures {
                refused: 3,
                ..DnsFailures::default()
            },
        );
        assert_eq!(
            refused,
            "warning: the DNS server 127.0.0.1:5353 failed all of the first 3 domain lookups \
             (refused: not a recursive resolver?; 3 refused): give a recursive resolver with \
             --dns or the DNS server setting; those domains are untestable"
        );
        let silent = failing_dns_warning(
            "the system resolver (/etc/resolv.conf)",
            3,
            DnsFailures {
                timeout: 3,
                ..DnsFailures::default()
            },
        );
        assert!(
            silent.starts_with(
                "warning: the system resolver (/etc/resolv.conf) answered none of the first 3 \
                 domain lookups (timeout: not answering; 3 timed out or unreachable)"
            ),
            "{silent}"
        );
    }
}
