//! The commands that use the database: `domains`, `lists`, `scan`, `trends`.
//!
//! Owns: their arguments, their output (plain and JSON) and progress display. Must not touch:
//! probe or store internals (it goes through `store::Store` and `monitor::scan`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::{Args, Subcommand};
use serde::Serialize;

use super::{CliError, GlobalOptions, output, runtime};
use crate::import::domain_list::{DomainList, LineSyntax, Origin};
use crate::model::DomainName;
use crate::model::adoption::Measure;
use crate::model::format::PercentFormat;
use crate::monitor::scan::{ScanEnd, ScanError, ScanEvent, run_scan};
use crate::probe::Prober;
use crate::store::{LatestFilter, ListId, ScanScope, Store, TrendPoint, default_path};

/// `domains add|remove|list`
#[derive(Debug, Subcommand)]
pub enum DomainsCommand {
    /// Add domains (to a list, created if missing). '-' reads one per line from stdin.
    Add {
        #[arg(long, value_name = "NAME")]
        list: Option<String>,
        #[arg(required = true, value_name = "DOMAIN")]
        domains: Vec<String>,
    },
    /// Remove domains from a list, or from the database (with their history) without --list.
    Remove {
        #[arg(long, value_name = "NAME")]
        list: Option<String>,
        #[arg(required = true, value_name = "DOMAIN")]
        domains: Vec<String>,
    },
    /// Print domains: one per line, or their latest state as JSON.
    List {
        #[arg(long, value_name = "NAME")]
        list: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// `lists [create|rename|delete ...]`
#[derive(Debug, Subcommand)]
pub enum ListsCommand {
    /// Create an empty list.
    Create { name: String },
    /// Rename a list.
    Rename { old: String, new: String },
    /// Delete a list (its domains stay in the database).
    Delete { name: String },
}

/// `scan [--list NAME] [--json] [--deep]`
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Scan only this list (default: every domain).
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,
    /// Print each domain's result as one JSON line.
    #[arg(long)]
    pub json: bool,
    /// Deep mode: also ask whether servers prefer non-forward-secret suites.
    #[arg(long)]
    pub deep: bool,
}

/// `trends [--list NAME] [--json]`
#[derive(Debug, Args)]
pub struct TrendsArgs {
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,
    /// The trends JSON (a list of points, one per UTC day).
    #[arg(long)]
    pub json: bool,
}

impl GlobalOptions {
    /// The database file: `--db`, else the default location.
    pub fn db_path(&self) -> Result<PathBuf, CliError> {
        match &self.db {
            Some(path) => Ok(path.clone()),
            None => default_path().ok_or_else(|| {
                CliError::error("no home directory to put the database in; give --db PATH")
            }),
        }
    }

    /// Opens the database, creating it (and its folder) if needed: for commands that write.
    pub fn open_store(&self) -> Result<Store, CliError> {
        Store::open(&self.db_path()?).map_err(|error| CliError::error(error.to_string()))
    }

    /// Opens the database only if it exists (exit 1 naming the path otherwise, nothing
    /// created): for commands that only read.
    pub fn open_existing_store(&self) -> Result<Store, CliError> {
        Store::open_existing(&self.db_path()?).map_err(|error| CliError::error(error.to_string()))
    }
}

pub(super) fn store_error(error: crate::store::StoreError) -> CliError {
    match error {
        crate::store::StoreError::Invalid(message) => CliError::usage(message),
        other => CliError::error(other.to_string()),
    }
}

/// Reads domain arguments; `-` reads stdin (blank lines and `#` comments skipped). Every
/// invalid entry is named with its position; nothing is used when any is invalid.
fn read_domain_inputs(inputs: &[String]) -> Result<Vec<DomainName>, CliError> {
    let mut list = DomainList::default();
    for input in inputs {
        if input == "-" {
            let stdin = std::io::stdin();
            for (index, line) in stdin.lock().lines().enumerate() {
                let line = line.map_err(|error| {
                    CliError::error(format!("standard input line {}: {error}", index + 1))
                })?;
                list.push_line(index + 1, &line, LineSyntax::OnePerLine);
            }
        } else {
            list.push_argument(input);
        }
    }
    if list.invalid.is_empty() {
        return Ok(list.domains);
    }
    let problems: Vec<String> = list
        .invalid
        .iter()
        .map(|entry| match entry.origin {
            Origin::Argument => format!("argument '{}': {}", entry.text, entry.reason),
            Origin::Line(line) => format!("stdin line {line}: {}", entry.reason),
        })
        .collect();
    Err(CliError::usage(format!(
        "nothing added; {} invalid domain(s): {}",
        problems.len(),
        problems.join("; ")
    )))
}

fn list_option(store: &Store, name: Option<&str>) -> Result<Option<ListId>, CliError> {
    name.map(|name| store.require_list(name))
        .transpose()
        .map_err(store_error)
}

/// Runs `domains ...`.
pub fn run_domains(global: &GlobalOptions, command: &DomainsCommand) -> Result<(), CliError> {
    match command {
        DomainsCommand::Add { list, domains } => {
            let domains = read_domain_inputs(domains)?;
            let store = global.open_store()?;
            let list_id = list
                .as_deref()
                .map(|name| store.ensure_list(name))
                .transpose()
                .map_err(store_error)?;
            let report = store.add_domains(list_id, &domains).map_err(store_error)?;
            eprintln!(
                "added {}, already present {}, duplicates ignored {}{}",
                report.added,
                report.already_present,
                report.duplicates,
                list.as_ref()
                    .map(|name| format!(" (list '{name}': {} joined it)", report.joined_list))
                    .unwrap_or_default()
            );
            Ok(())
        }
        DomainsCommand::Remove { list, domains } => {
            let domains = read_domain_inputs(domains)?;
            let store = global.open_store()?;
            let list_id = list_option(&store, list.as_deref())?;
            let removed = store
                .remove_domains(list_id, &domains)
                .map_err(store_error)?;
            eprintln!("removed {removed} of {}", domains.len());
            Ok(())
        }
        DomainsCommand::List { list, json } => {
            let store = global.open_existing_store()?;
            let list_id = list_option(&store, list.as_deref())?;
            let rows = store
                .latest(&LatestFilter {
                    list: list_id,
                    ..LatestFilter::default()
                })
                .map_err(store_error)?;
            let mut out = std::io::stdout().lock();
            if *json {
                #[derive(Serialize)]
                struct Row<'a> {
                    domain: &'a str,
                    verdict: Option<&'static str>,
                    starttls: Option<bool>,
                    pfs: Option<bool>,
                    strict_valid: Option<bool>,
                    tls_version: Option<&'a str>,
                    provider: Option<&'a str>,
                    #[serde(with = "time::serde::rfc3339::option")]
                    last_probed: Option<time::OffsetDateTime>,
                    /// Set while the row shows the last known state (`model::stale`).
                    #[serde(with = "time::serde::rfc3339::option")]
                    stale_since: Option<time::OffsetDateTime>,
                }
                let rows: Vec<Row<'_>> = rows
                    .iter()
                    .map(|row| Row {
                        domain: row.domain.as_str(),
                        verdict: row.verdict.map(|verdict| verdict.as_str()),
                        starttls: row.starttls,
                        pfs: row.pfs,
                        strict_valid: row.strict_valid,
                        tls_version: row.tls_version.as_deref(),
                        provider: row.provider.as_deref(),
                        last_probed: row.last_probed,
                        stale_since: row.stale.as_ref().map(|stale| stale.since),
                    })
                    .collect();
                let text = serde_json::to_string_pretty(&rows)
                    .map_err(|error| CliError::error(error.to_string()))?;
                writeln!(out, "{text}").map_err(write_error)?;
            } else {
                for row in rows {
                    writeln!(out, "{}", row.domain).map_err(write_error)?;
                }
            }
            Ok(())
        }
    }
}

/// Runs `lists ...`; without a subcommand prints name and count per line.
pub fn run_lists(global: &GlobalOptions, command: Option<&ListsCommand>) -> Result<(), CliError> {
    let store = match command {
        None => global.open_existing_store()?,
        Some(_) => global.open_store()?,
    };
    match command {
        None => {
            let mut out = std::io::stdout().lock();
            for list in store.lists().map_err(store_error)? {
                writeln!(out, "{}\t{}", list.name, list.domain_count).map_err(write_error)?;
            }
            Ok(())
        }
        Some(ListsCommand::Create { name }) => {
            store.create_list(name).map(|_| ()).map_err(store_error)
        }
        Some(ListsCommand::Rename { old, new }) => store.rename_list(old, new).map_err(store_error),
        Some(ListsCommand::Delete { name }) => store.delete_list(name).map_err(store_error),
    }
}

pub(super) fn write_error(error: std::io::Error) -> CliError {
    CliError::error(format!("could not write to standard output: {error}"))
}

/// A share as the terminal shows it, e.g. `33.3%` (`-` of nothing).
fn percent(part: usize, whole: usize) -> String {
    PercentFormat::PLAIN.of(part, whole)
}

/// Runs `scan`: one scan now, stored; progress bar on a terminal; summary at the end.
pub fn run_scan_command(global: &GlobalOptions, args: &ScanArgs) -> Result<(), CliError> {
    let store = global.open_store()?;
    let settings = store.settings().map_err(store_error)?;
    let (scope, domains) = match &args.list {
        Some(name) => {
            let list = store.require_list(name).map_err(store_error)?;
            (
                ScanScope::List(name.clone()),
                store.domain_names(Some(list)).map_err(store_error)?,
            )
        }
        None => (
            ScanScope::All,
            store.domain_names(None).map_err(store_error)?,
        ),
    };
    if domains.is_empty() {
        eprintln!("nothing to scan: no domains (add some with 'starttls-monitor domains add')");
        return Ok(());
    }
    let mut overrides = global.overrides();
    overrides.deep = args.deep;
    let config = settings
        .probe_config(&overrides)
        .map_err(|error| CliError::error(error.to_string()))?;
    let runtime = runtime()?;
    let prober = runtime
        .block_on(async { Prober::new(config) })
        .map_err(|error| CliError::error(error.to_string()))?;
    let shared = Arc::new(Mutex::new(store));
    let progress = indicatif::ProgressBar::new(domains.len() as u64);
    if std::io::stderr().is_terminal() {
        progress.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} domains, ETA {eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let json = args.json;
    let path = prober.config().network_path();
    let proxied = path.is_proxy();
    let mut proxy_lost = None;
    let mut write_failure = None;
    let mut changes = Vec::new();
    let mut finish = None;
    let mut finished_scan = None;
    // Untestable results that leave the domain's last known state counting.
    let mut stale = 0;
    let outcome = runtime.block_on(run_scan(
        &shared,
        &prober,
        scope,
        domains,
        &settings,
        |event| match event {
            ScanEvent::DomainProbed(result) => {
                progress.inc(1);
                stale += usize::from(result.last_known.is_some());
                if json {
                    let line = output::json_line(&result);
                    let mut out = std::io::stdout().lock();
                    if let Err(error) = out.write_all(line.as_bytes()) {
                        write_failure.get_or_insert(error);
                    }
                }
            }
            ScanEvent::Changes(events) => changes.extend(events),
            ScanEvent::Port25Blocked { attempts } => progress.suspend(|| {
                eprintln!("{}", super::port_blocked_warning(attempts, proxied));
            }),
            ScanEvent::ProxyFailed { domain, detail } => progress.suspend(|| {
                eprintln!(
                    "warning: {detail}; {} not stored, left for the next scan",
                    domain.display_with_ascii()
                );
            }),
            ScanEvent::ProxyLost { detail } => proxy_lost = Some(detail),
            ScanEvent::DnsFailing {
                lookups,
                resolver,
                failures,
            } => progress.suspend(|| {
                eprintln!(
                    "{}",
                    super::failing_dns_warning(&resolver, lookups, failures)
                );
            }),
            ScanEvent::DnssecUnavailable { resolver } => progress.suspend(|| {
                eprintln!("{}", super::dnssec_unavailable_warning(&resolver));
            }),
            ScanEvent::StoreFailed(message) => progress.suspend(|| eprintln!("error: {message}")),
            ScanEvent::Finished {
                scan,
                end,
                counts,
                elapsed,
                ..
            } => {
                finished_scan = Some(scan);
                finish = Some((end, counts, elapsed));
            }
            ScanEvent::Started { .. } | ScanEvent::Progress { .. } => {}
        },
    ));
    progress.finish_and_clear();
    outcome.map_err(|error| match error {
        ScanError::Store(error) => store_error(error),
        ScanError::Proxy(error) => CliError::error(format!("{}", ScanError::Proxy(error))),
    })?;
    if let Some(error) = write_failure
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(write_error(error));
    }
    if let Some((end, counts, elapsed)) = finish {
        let testable = counts.no_starttls + counts.tls_failed + counts.tls_ok;
        let summary = format!(
            "scanned {} of {} domains in {:.1} s ({path}){}: tls_ok {}, tls_failed {}, no_starttls {}, untestable {}{}, no_mail {}; \
             of {} testable: STARTTLS {}, PFS {}, strict {}, all three {}{}",
            counts.done,
            counts.total,
            elapsed.as_secs_f64(),
            match end {
                ScanEnd::Finished => "",
                ScanEnd::DeadlineReached =>
                    " (scan deadline reached; the rest is left for the next scan)",
                ScanEnd::Cancelled => " (cancelled)",
                ScanEnd::ProxyLost => " (aborted: the proxy was lost; what was stored stays)",
            },
            counts.tls_ok,
            counts.tls_failed,
            counts.no_starttls,
            counts.untestable,
            if stale > 0 {
                format!(" ({stale} keep their last known state: stale)")
            } else {
                String::new()
            },
            counts.no_mail,
            testable,
            percent(counts.starttls, testable),
            percent(counts.pfs, testable),
            percent(counts.strict_valid, testable),
            percent(counts.all_three, testable),
            counts.auth_summary(),
        );
        if json {
            eprintln!("{summary}");
        } else {
            println!("{summary}");
            for change in &changes {
                println!(
                    "  {} {}: {}",
                    change.domain.display_with_ascii(),
                    change.kind.as_str(),
                    change.detail
                );
            }
        }
    }
    if let Some(scan) = finished_scan {
        post_webhooks(&runtime, &shared, &prober, &settings, scan);
    }
    if let Some(detail) = proxy_lost {
        return Err(CliError::error(format!(
            "the SOCKS proxy was lost in the middle of the scan ({detail}): the scan is marked \
             aborted (proxy lost); what was stored before stays, nothing more was written"
        )));
    }
    Ok(())
}

/// Posts the scan's webhooks (when it raised events and webhooks are set), waiting for them:
/// the process ends after. A failed delivery is a warning on stderr, never the scan's failure.
fn post_webhooks(
    runtime: &tokio::runtime::Runtime,
    store: &crate::monitor::SharedStore,
    prober: &Prober,
    settings: &crate::settings::Settings,
    scan: crate::store::ScanId,
) {
    let policy = crate::monitor::webhooks::WebhookPolicy::default();
    let posted = runtime.block_on(crate::monitor::webhooks::post_scan(
        store,
        prober.https(),
        settings,
        scan,
        &policy,
    ));
    match posted {
        Ok(deliveries) => {
            for delivery in deliveries.iter().filter(|delivery| !delivery.delivered) {
                eprintln!(
                    "warning: webhook {} not delivered after {} attempt(s): {}",
                    crate::settings::mask_url(&delivery.url),
                    delivery.attempts,
                    delivery.detail
                );
            }
        }
        Err(error) => eprintln!("warning: webhooks not sent: {error}"),
    }
}

/// Runs `trends`: a table, or the trends JSON.
pub fn run_trends(global: &GlobalOptions, args: &TrendsArgs) -> Result<(), CliError> {
    let store = global.open_existing_store()?;
    let list = list_option(&store, args.list.as_deref())?;
    let points = store.trends(list, None).map_err(store_error)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let contract: Vec<_> = points.iter().map(TrendPoint::contract).collect();
        let text = serde_json::to_string_pretty(&contract)
            .map_err(|error| CliError::error(error.to_string()))?;
        writeln!(out, "{text}").map_err(write_error)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<10}  {:>7} {:>8} {:>9} {:>8} {:>8} {:>8} {:>10} {:>6} {:>8}   {:>8} {:>8} {:>10}",
        "date",
        "domains",
        "testable",
        "STARTTLS",
        "PFS",
        "strict",
        "all 3",
        "untestable",
        "stale",
        "weak TLS",
        "MX hosts",
        "MX all 3",
        "MX untest."
    )
    .map_err(write_error)?;
    for point in &points {
        let domains = &point.domains;
        let hosts = &point.mx_hosts;
        writeln!(
            out,
            "{:<10}  {:>7} {:>8} {:>9} {:>8} {:>8} {:>8} {:>10} {:>6} {:>8}   {:>8} {:>8} {:>10}",
            point.date.to_string(),
            domains.total,
            domains.testable,
            percent(domains.starttls, domains.testable),
            percent(domains.pfs, domains.testable),
            percent(domains.strict_valid, domains.testable),
            percent(domains.all_three, domains.testable),
            percent(domains.untestable, domains.total - domains.no_mail),
            domains.stale,
            percent(domains.weak_tls, domains.testable),
            hosts.total,
            percent(hosts.all_three, hosts.testable),
            percent(hosts.untestable, hosts.total),
        )
        .map_err(write_error)?;
    }
    if points
        .iter()
        .any(|point| point.domains.auth_testable.is_some())
    {
        auth_table(&mut out, &points)?;
    }
    if store.is_weighted(list).map_err(store_error)?
        && points.iter().any(|point| point.volume.is_some())
    {
        volume_table(&mut out, &points)?;
    }
    if points.is_empty() {
        writeln!(out, "(no scans yet)").map_err(write_error)?;
    } else if points.iter().any(|point| point.domains.stale > 0) {
        writeln!(
            out,
            "stale: untestable at their latest probe, counted by their last known state"
        )
        .map_err(write_error)?;
    }
    Ok(())
}

/// The authenticated-transport table: per day with the facts, the shares of the testable
/// domains (and unique MX hosts) that have them; days before the facts existed are left out.
fn auth_table(out: &mut impl Write, points: &[TrendPoint]) -> Result<(), CliError> {
    writeln!(
        out,
        "authenticated transport (of testable domains with DANE/MTA-STS facts; DANE valid of \
         those whose DANE could be judged):\n{:<10}  {:>10} {:>10} {:>15} {:>13} {:>8}   {:>13} {:>10}",
        "date",
        "with facts",
        "DANE valid",
        "MTA-STS enforce",
        "authenticated",
        "at risk",
        "MX DANE valid",
        "MX at risk"
    )
    .map_err(write_error)?;
    for point in points {
        let domains = &point.domains;
        let Some(with_facts) = domains.auth_testable else {
            continue;
        };
        let hosts = &point.mx_hosts;
        let rate = |counts: (usize, usize)| percent(counts.0, counts.1);
        writeln!(
            out,
            "{:<10}  {:>10} {:>10} {:>15} {:>13} {:>8}   {:>13} {:>10}",
            point.date.to_string(),
            with_facts,
            rate(domains.fraction(Measure::DaneValid)),
            rate(domains.fraction(Measure::StsEnforce)),
            rate(domains.fraction(Measure::Authenticated)),
            rate(domains.fraction(Measure::AtRisk)),
            rate(hosts.fraction(Measure::DaneValid)),
            rate(hosts.fraction(Measure::AtRisk)),
        )
        .map_err(write_error)?;
    }
    Ok(())
}

/// The trends table by mail volume (a list with weights): shares of the testable weight.
fn volume_table(out: &mut impl Write, points: &[TrendPoint]) -> Result<(), CliError> {
    writeln!(
        out,
        "by mail volume (share of the testable weight):\n{:<10}  {:>14} {:>9} {:>8} {:>8} {:>8} {:>10}",
        "date", "testable mail", "STARTTLS", "PFS", "strict", "all 3", "untestable"
    )
    .map_err(write_error)?;
    for point in points {
        let Some(volume) = &point.volume else {
            continue;
        };
        let share = |part: f64, whole: f64| PercentFormat::PLAIN.of_volume(part, whole);
        writeln!(
            out,
            "{:<10}  {:>14} {:>9} {:>8} {:>8} {:>8} {:>10}",
            point.date.to_string(),
            crate::model::weight::format_volume(volume.testable),
            share(volume.starttls, volume.testable),
            share(volume.pfs, volume.testable),
            share(volume.strict_valid, volume.testable),
            share(volume.all_three, volume.testable),
            share(volume.untestable, volume.takes_mail()),
        )
        .map_err(write_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_argument_is_named_and_nothing_is_used() {
        let domains =
            read_domain_inputs(&["a.test".into(), "A.test".into()]).expect("valid arguments");
        assert_eq!(domains.len(), 2, "repeats are left for the store to count");
        let error = read_domain_inputs(&["ok.test".into(), "not a domain".into(), "".into()])
            .expect_err("invalid");
        assert_eq!(error.exit_code, super::super::EXIT_USAGE);
        assert!(
            error
                .message
                .starts_with("nothing added; 2 invalid domain(s): argument 'not a domain': "),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("; argument '': "),
            "{}",
            error.message
        );
    }
}
