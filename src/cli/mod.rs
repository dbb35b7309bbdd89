//! The headless command line: argument parsing (clap) and the commands that drive the engine.
//!
//! Owns: the command-line contract of DESIGN.md (global options, subcommands, exit status) and
//! how results are printed. Must not touch: probe internals (it uses `probe::Prober` only).

mod import_export;
mod output;
mod store_commands;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::model::{DomainName, DomainResult};
use crate::probe::{DnsServer, ProbeConfig, Prober};

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
    /// DNS server: IP, IP:PORT or [IPv6]:PORT (default: the system resolver).
    #[arg(long, global = true, value_name = "ADDR", value_parser = parse_dns)]
    pub dns: Option<DnsServer>,
    /// Extra trust anchors (PEM), added to the Mozilla roots.
    #[arg(long = "ca-file", global = true, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// SMTP port to probe (default 25; other values are for test fleets and demos).
    #[arg(long = "smtp-port", global = true, value_name = "N")]
    pub smtp_port: Option<u16>,
    /// Seconds to wait for a connection, a reply or a TLS handshake (default 10 / 30 / 30).
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Seconds to wait for the whole greeting (default 30; postscreen may wait 6-15 s).
    #[arg(long = "greeting-timeout", global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub greeting_timeout: Option<Duration>,
    /// Host name to give in EHLO.
    #[arg(long = "ehlo-name", global = true, value_name = "NAME")]
    pub ehlo_name: Option<String>,
    /// Domains probed at the same time (default 64).
    #[arg(long, global = true, value_name = "N")]
    pub concurrency: Option<usize>,
}

/// The subcommands. Without one, the desktop app starts.
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
    fn error(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_ERROR,
        }
    }

    fn usage(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            exit_code: EXIT_USAGE,
        }
    }
}

impl GlobalOptions {
    /// The probe configuration these options describe, on top of the defaults.
    pub fn probe_config(&self) -> Result<ProbeConfig, CliError> {
        let mut config = ProbeConfig::default();
        if let Some(dns) = &self.dns {
            config.dns = dns.clone();
        }
        if let Some(port) = self.smtp_port {
            config.smtp_port = port;
        }
        if let Some(limit) = self.timeout {
            config.connect_timeout = limit;
            config.command_timeout = limit;
            config.tls_timeout = limit;
        }
        if let Some(limit) = self.greeting_timeout {
            config.greeting_timeout = limit;
        }
        if let Some(name) = &self.ehlo_name {
            config.ehlo_name = name.clone();
        }
        if let Some(concurrency) = self.concurrency {
            config.concurrency = concurrency;
        }
        if let Some(path) = &self.ca_file {
            config
                .load_ca_file(path)
                .map_err(|error| CliError::error(error.to_string()))?;
        }
        config
            .validate()
            .map_err(|error| CliError::usage(error.to_string()))?;
        Ok(config)
    }
}

/// Runs a command; without one, opens the desktop app on the database.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Some(Command::Probe(args)) => run_probe(&cli.global, &args),
        Some(Command::Domains { command }) => store_commands::run_domains(&cli.global, &command),
        Some(Command::Lists { command }) => {
            store_commands::run_lists(&cli.global, command.as_ref())
        }
        Some(Command::Scan(args)) => store_commands::run_scan_command(&cli.global, &args),
        Some(Command::Trends(args)) => store_commands::run_trends(&cli.global, &args),
        Some(Command::Import(args)) => import_export::run_import(&cli.global, &args),
        Some(Command::Export(args)) => import_export::run_export(&cli.global, &args),
        None => {
            let db_path = cli.global.db_path()?;
            run_app(db_path, &cli.global)
        }
    }
}

/// Opens the desktop app on `db_path`.
#[cfg(feature = "gui")]
fn run_app(db_path: std::path::PathBuf, global: &GlobalOptions) -> Result<(), CliError> {
    crate::ui::run(db_path, global.overrides()).map_err(CliError::error)
}

/// This build has no desktop app (built without the `gui` feature): say so and how to get it.
#[cfg(not(feature = "gui"))]
fn run_app(_db_path: std::path::PathBuf, _global: &GlobalOptions) -> Result<(), CliError> {
    Err(CliError::error(
        "this starttls-monitor was built without the desktop app (feature `gui`); \
         run a subcommand (see --help) or rebuild with default features",
    ))
}

/// Parses domain arguments, naming every bad one.
fn parse_domains(inputs: &[String]) -> Result<Vec<DomainName>, CliError> {
    let mut domains = Vec::new();
    let mut problems = Vec::new();
    for input in inputs {
        match DomainName::parse(input) {
            Ok(domain) => {
                if !domains.contains(&domain) {
                    domains.push(domain);
                }
            }
            Err(error) => problems.push(format!("'{input}': {error}")),
        }
    }
    if problems.is_empty() {
        Ok(domains)
    } else {
        Err(CliError::usage(format!(
            "invalid domain argument(s): {}",
            problems.join("; ")
        )))
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::error(format!("could not start the async runtime: {error}")))
}

fn run_probe(global: &GlobalOptions, args: &ProbeArgs) -> Result<(), CliError> {
    let domains = parse_domains(&args.domains)?;
    let mut config = global.probe_config()?;
    config.deep = args.deep;
    let runtime = runtime()?;
    let prober = runtime
        .block_on(async { Prober::new(config) })
        .map_err(|error| CliError::error(error.to_string()))?;
    let json = args.json;
    let total = domains.len();
    let resolver = prober.config().dns.to_string();
    let mut silent_dns = crate::monitor::scan::SilentDnsDetector::default();
    runtime.block_on(async {
        let run = prober.start_run();
        // Print in argument order as soon as every earlier domain is done.
        let mut ready: Vec<Option<DomainResult>> = vec![None; total];
        let mut next_to_print = 0;
        let stdout = std::io::stdout();
        let mut write_error = None;
        run.probe_many(domains, |index, result| {
            if silent_dns.observe(&result) {
                eprintln!("{}", silent_dns_warning(&resolver, silent_dns.lookups()));
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
        match write_error {
            Some(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::error(
                format!("could not write results to standard output: {error}"),
            )),
            _ => Ok(()),
        }
    })
}

/// The one-line warning when the resolver answered none of a run's first lookups.
pub(crate) fn silent_dns_warning(resolver: &str, lookups: usize) -> String {
    format!(
        "warning: {resolver} answered none of the first {lookups} domain lookups (all timed out or \
         could not reach it): check --dns or the DNS server setting; those domains are untestable"
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
