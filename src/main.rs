//! The `starttls-monitor` binary: parse the command line and run the headless command.
//! Kept thin on purpose; everything lives in the library.

use std::process::ExitCode;

use clap::Parser;
use starttls_monitor::cli::{self, Cli};

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    cli::exit_code(cli::run(cli))
}
