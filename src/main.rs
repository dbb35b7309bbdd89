//! The `starttls-monitor` binary: parse the command line, run the headless command, or start the
//! desktop app when there is no subcommand. Kept thin on purpose; everything lives in the
//! library. This is the one place that knows both the command line and the app.

use std::process::ExitCode;

use clap::Parser;
use starttls_monitor::cli::{self, Cli, CliError, GlobalOptions};

/// The binary's allocator (the app, every command, and the benches that run them): a scan's
/// many small short-lived allocations (DNS messages, results, rows) cost a fifth of its CPU in
/// glibc's malloc at 100k domains; mimalloc takes 12-35 % off the scan's CPU (README performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let Cli { global, command } = Cli::parse();
    let result = match &command {
        Some(command) => cli::run(&global, command),
        None => run_app(&global),
    };
    cli::exit_code(result)
}

/// Opens the desktop app on the database the options name, with their overrides.
#[cfg(feature = "gui")]
fn run_app(global: &GlobalOptions) -> Result<(), CliError> {
    let db_path = global.db_path()?;
    starttls_monitor::ui::run(db_path, global.overrides()).map_err(CliError::error)
}

/// This build has no desktop app (built without the `gui` feature): say so and how to get it.
#[cfg(not(feature = "gui"))]
fn run_app(_global: &GlobalOptions) -> Result<(), CliError> {
    Err(CliError::error(
        "this starttls-monitor was built without the desktop app (feature `gui`); \
         run a subcommand (see --help) or rebuild with default features",
    ))
}
