//! The `import` and `export` commands.
//!
//! Owns: their arguments, the import report as printed, progress display, and how the export
//! file is written (to a temporary file beside it, renamed when complete, so a failed export
//! never leaves half a report under the real name). Must not touch: CSV or report internals
//! (it goes through `import::read_file` and `report::export`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;

use super::{CliError, GlobalOptions};
use crate::import::{
    self, ColumnChoice, ImportError, ImportErrorKind, ImportOptions, ImportPreview,
};
use crate::report::{self, ExportFormat, ExportOptions, ReportError};
use crate::store::StoreError;

/// Files at least this big get a progress bar (on a terminal).
const PROGRESS_MIN_BYTES: u64 = 4 * 1024 * 1024;

/// `import FILE [--list NAME] [--column NAME|N] [--weight-column NAME|N] [--dry-run]`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// CSV or plain text file with domains, e-mail addresses or URLs; '-' reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Add the domains to this list too (created if missing); without it they join no list.
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,
    /// The column holding the domains: its header name, or its position counting from 1
    /// (default: guessed from the content and the header).
    #[arg(long, value_name = "NAME|N")]
    pub column: Option<String>,
    /// The column holding each domain's mail volume (messages per period, any non-negative
    /// number): its header name, or its position counting from 1. Needs --list: a weight
    /// belongs to the domain's membership of that list. Default: a column whose header says
    /// volume, count, messages or weight; rows of one domain add their weights up.
    #[arg(long, value_name = "NAME|N")]
    pub weight_column: Option<String>,
    /// Print what would happen; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `export --format csv|json|html [--list NAME] [--since YYYY-MM-DD] [--per-address]
/// [--full-table] -o FILE|-`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// csv (one row per domain, or per MX address with --per-address), json, or html (one
    /// self-contained page with charts).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub format: ExportFormat,
    /// Report on this list only (default: every domain).
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,
    /// Trend points and change events from this UTC day on; tables always show the latest
    /// results.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub since: Option<time::Date>,
    /// CSV only: one row per MX address.
    #[arg(long)]
    pub per_address: bool,
    // HTML only: the full domain table however many domains (the help names the threshold).
    #[arg(long, help = format!(
        "HTML only: the full domain table however many domains (by default left out above {} \
         domains)",
        report::FULL_TABLE_MAX_DOMAINS
    ))]
    pub full_table: bool,
    /// Output file; '-' writes to standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE", required = true)]
    pub output: PathBuf,
}

fn parse_format(text: &str) -> Result<ExportFormat, String> {
    text.parse()
}

fn parse_date(text: &str) -> Result<time::Date, String> {
    time::Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("'{text}' is not a date like 2026-01-31"))
}

/// `--column` text to a choice: digits are a 1-based position, anything else a header name.
fn column_choice(text: Option<&str>) -> Result<ColumnChoice, CliError> {
    column_choice_of("--column", text)
}

/// The text of column option `option` to a choice (see [`column_choice`]).
fn column_choice_of(option: &str, text: Option<&str>) -> Result<ColumnChoice, CliError> {
    let Some(text) = text.map(str::trim) else {
        return Ok(ColumnChoice::Auto);
    };
    if text.is_empty() {
        return Err(CliError::usage(format!(
            "{option} needs a header name or a number"
        )));
    }
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        return match text.parse::<usize>() {
            Ok(index) if index >= 1 => Ok(ColumnChoice::Index(index)),
            _ => Err(CliError::usage(format!(
                "{option} {text}: columns count from 1"
            ))),
        };
    }
    Ok(ColumnChoice::Name(text.to_string()))
}

fn store_error(error: StoreError) -> CliError {
    match error {
        StoreError::Invalid(message) => CliError::usage(message),
        other => CliError::error(other.to_string()),
    }
}

fn import_error(error: ImportError) -> CliError {
    match error.kind {
        ImportErrorKind::NoSuchColumn { .. }
        | ImportErrorKind::ColumnOutOfRange { .. }
        | ImportErrorKind::WeightColumnIsDomainColumn { .. } => CliError::usage(error.to_string()),
        _ => CliError::error(error.to_string()),
    }
}

/// A progress bar in bytes on a terminal for big inputs; hidden otherwise.
fn byte_progress(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if std::io::stderr().is_terminal() && total >= PROGRESS_MIN_BYTES {
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} reading {wide_bar} {binary_bytes}/{binary_total_bytes} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// Runs `import`.
pub fn run_import(global: &GlobalOptions, args: &ImportArgs) -> Result<(), CliError> {
    if args.weight_column.is_some() && args.list.is_none() {
        return Err(CliError::usage(
            "--weight-column needs --list NAME: a weight belongs to a domain's membership of a list",
        ));
    }
    // Weights belong to a list: without one no weight column is read (nor can a bad cell in
    // one refuse a row).
    let weight_column = match &args.list {
        Some(_) => Some(column_choice_of(
            "--weight-column",
            args.weight_column.as_deref(),
        )?),
        None => None,
    };
    let options = ImportOptions {
        column: column_choice(args.column.as_deref())?,
        weight_column,
    };
    let from_stdin = args.file.as_os_str() == "-";
    let source_name = if from_stdin {
        "standard input".to_string()
    } else {
        args.file.display().to_string()
    };
    let total = if from_stdin {
        0
    } else {
        std::fs::metadata(&args.file).map_or(0, |meta| meta.len())
    };
    let bar = byte_progress(total);
    let mut progress = |done: u64, _total: u64| bar.set_position(done);
    let preview = if from_stdin {
        import::read_reader(
            std::io::stdin().lock(),
            &source_name,
            0,
            &options,
            &mut progress,
        )
    } else {
        import::read_file(&args.file, &options, &mut progress)
    };
    bar.finish_and_clear();
    let preview = preview.map_err(import_error)?;

    let db_path = global.db_path()?;
    let (added, already_present, joined_list, list_note) = if args.dry_run {
        // A dry run never creates the database or the list.
        let (already, list_exists) = if db_path.exists() {
            let store = global.open_store()?;
            let list_exists = match &args.list {
                Some(name) => store.list_id(name).map_err(store_error)?.is_some(),
                None => true,
            };
            (
                store.count_present(&preview.domains).map_err(store_error)?,
                list_exists,
            )
        } else {
            (0, args.list.is_none())
        };
        let note = match &args.list {
            Some(name) if !list_exists => format!(" (list '{name}' would be created)"),
            Some(name) => format!(" (list '{name}')"),
            None => String::new(),
        };
        (preview.domains.len() - already, already, None, note)
    } else {
        let store = global.open_store()?;
        let list_id = args
            .list
            .as_deref()
            .map(|name| store.ensure_list(name))
            .transpose()
            .map_err(store_error)?;
        let report = match list_id {
            Some(list) if preview.weight_column.is_some() => {
                let weighted: Vec<_> = preview
                    .domains
                    .iter()
                    .cloned()
                    .zip(preview.weights.iter().copied())
                    .collect();
                store.add_weighted_domains(list, &weighted)
            }
            _ => store.add_domains(list_id, &preview.domains),
        }
        .map_err(store_error)?;
        let note = args
            .list
            .as_ref()
            .map(|name| format!(" (list '{name}')"))
            .unwrap_or_default();
        let joined = list_id.map(|_| report.joined_list);
        (report.added, report.already_present, joined, note)
    };
    let mut text = import_report(
        &source_name,
        &preview,
        args.dry_run,
        added,
        already_present,
        joined_list,
        &list_note,
    );
    if let Some(line) = weights_line(&preview) {
        // After the counts, before the dry-run note.
        let at = text.find("dry run:").unwrap_or(text.len());
        text.insert_str(at, &line);
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::error(
            format!("could not write to standard output: {error}"),
        )),
        _ => Ok(()),
    }
}

/// The printed import report (see README).
fn import_report(
    source_name: &str,
    preview: &ImportPreview,
    dry_run: bool,
    added: usize,
    already_present: usize,
    joined_list: Option<usize>,
    list_note: &str,
) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    let delimiter = match preview.delimiter {
        b'\t' => "tab".to_string(),
        other => format!("'{}'", other as char),
    };
    let column_name = preview
        .columns
        .get(preview.column)
        .map(String::as_str)
        .unwrap_or("");
    let _ = writeln!(
        text,
        "{source_name}: {} rows read ({}, delimiter {delimiter}, domains from column {} \"{}\")",
        preview.lines_read,
        if preview.has_header {
            "with a header"
        } else {
            "no header"
        },
        preview.column + 1,
        column_name.replace(|c: char| c.is_control(), "?"),
    );
    let _ = writeln!(
        text,
        "{}{:>8}{list_note}",
        if dry_run {
            "to add:             "
        } else {
            "added:              "
        },
        added
    );
    let _ = writeln!(text, "already present:    {already_present:>8}");
    if let Some(joined) = joined_list {
        // Domains already in the database join the list too: "added" alone undercounts it.
        let _ = writeln!(text, "joined the list:    {joined:>8}");
    }
    let _ = writeln!(text, "duplicates in file: {:>8}", preview.duplicates);
    let _ = writeln!(text, "invalid:            {:>8}", preview.invalid_total);
    for line in &preview.invalid {
        let _ = writeln!(
            text,
            "  line {}: '{}': {}",
            line.line, line.text, line.reason
        );
    }
    if preview.invalid_total > preview.invalid.len() {
        let _ = writeln!(
            text,
            "  ... and {} more invalid lines",
            preview.invalid_total - preview.invalid.len()
        );
    }
    if dry_run {
        text.push_str("dry run: nothing was changed\n");
    }
    text
}

/// The import report's line about weights (None when the file gave none): which column, the
/// total, and that duplicates add up.
fn weights_line(preview: &ImportPreview) -> Option<String> {
    let column = preview.weight_column?;
    let name = preview
        .columns
        .get(column)
        .map(String::as_str)
        .unwrap_or("")
        .replace(|c: char| c.is_control(), "?");
    let total: f64 = preview.weights.iter().map(|weight| weight.get()).sum();
    Some(format!(
        "weights:            column {} \"{name}\", total {} (rows of one domain add up)\n",
        column + 1,
        crate::model::weight::format_volume(total)
    ))
}

/// Runs `export`.
pub fn run_export(global: &GlobalOptions, args: &ExportArgs) -> Result<(), CliError> {
    if args.per_address && args.format != ExportFormat::Csv {
        return Err(CliError::usage(
            "--per-address applies to --format csv only (JSON and HTML always carry every address)",
        ));
    }
    if args.full_table && args.format != ExportFormat::Html {
        return Err(CliError::usage(
            "--full-table applies to --format html only (CSV and JSON always carry every domain)",
        ));
    }
    let mut options = ExportOptions {
        list: args.list.clone(),
        since: args.since,
        per_address: args.per_address,
        ..ExportOptions::new(args.format)
    };
    if args.full_table {
        options.full_table_up_to = usize::MAX;
    }
    let store = global.open_existing_store()?;
    let to_stdout = args.output.as_os_str() == "-";
    let report_error = |error: ReportError, place: &str| match error {
        ReportError::Store(error) => store_error(error),
        ReportError::Write(error) => CliError::error(format!("could not write {place}: {error}")),
        other => CliError::error(other.to_string()),
    };
    let summary = if to_stdout {
        let mut out = std::io::stdout().lock();
        match report::export(&store, &options, &mut out) {
            Err(ReportError::Write(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                return Ok(());
            }
            other => other.map_err(|error| report_error(error, "standard output"))?,
        }
    } else {
        report::export_to_file(&store, &options, &args.output)
            .map_err(|error| report_error(error, &args.output.display().to_string()))?
    };
    eprintln!(
        "exported {} domains ({} probed){} as {}: {} rows, {} trend points, {} events, {} bytes{}",
        summary.domains,
        summary.probed,
        args.list
            .as_ref()
            .map(|name| format!(" of list '{name}'"))
            .unwrap_or_default(),
        args.format,
        summary.rows,
        summary.trend_points,
        summary.events,
        summary.bytes,
        if to_stdout {
            String::new()
        } else {
            format!(" to {}", args.output.display())
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_option_is_a_name_or_a_position() {
        assert_eq!(column_choice(None).ok(), Some(ColumnChoice::Auto));
        assert_eq!(column_choice(Some("2")).ok(), Some(ColumnChoice::Index(2)));
        assert_eq!(
            column_choice(Some("E-Mail")).ok(),
            Some(ColumnChoice::Name("E-Mail".into()))
        );
        assert_eq!(column_choice(Some("0")).err().map(|e| e.exit_code), Some(2));
        assert_eq!(column_choice(Some(" ")).err().map(|e| e.exit_code), Some(2));
    }

    #[test]
    fn dates_parse_strictly() {
        assert!(parse_date("2026-01-31").is_ok());
        assert!(parse_date("31.01.2026").is_err());
        assert!(parse_date("2026-02-30").is_err());
    }
}
