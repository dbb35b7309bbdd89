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

/// mimalloc's `mi_option_arena_eager_commit` and `mi_option_purge_delay` (mimalloc.h of version
/// 3, which libmimalloc-sys builds; defaults 2, "on Linux", and 1,000 ms). libmimalloc-sys
/// names only some options; a test checks these are the ones.
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The app holds the table's snapshot (a million rows, about 100 MB) and, while a scan's new one
/// loads, two: memory freed then goes back to the system at once, and arenas are committed as
/// they are used, not whole. Measured while the app scans 1M domains (RSS during the scan, then
/// after the snapshot swap): mimalloc's defaults 303-322 and 358 MB; these two set here, at
/// the app's start, 247-290 and 272 MB (set from the environment before mimalloc starts,
/// 239-247 and 214 MB; glibc's malloc 262-268 and 308 MB). Commands keep the defaults: a scan
/// frees and allocates all the time, and its RSS is far below its limit.
#[cfg(feature = "gui")]
fn release_freed_memory_at_once() {
    // SAFETY: sets two of mimalloc's global options, which it reads atomically.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

/// Opens the desktop app on the database the options name, with their overrides.
#[cfg(feature = "gui")]
fn run_app(global: &GlobalOptions) -> Result<(), CliError> {
    release_freed_memory_at_once();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_set_for_the_app_are_mimallocs_arena_commit_and_purge_delay() {
        let get = |option| {
            // SAFETY: reads one of mimalloc's global options.
            unsafe { libmimalloc_sys::mi_option_get(option) }
        };
        // mimalloc 3's defaults: purge_decommits 1 after arena_eager_commit 2, and
        // deprecated_eager_commit_delay 1, purge_delay 1,000 ms, use_numa_nodes 0.
        assert_eq!(
            (
                get(MI_OPTION_ARENA_EAGER_COMMIT),
                get(MI_OPTION_ARENA_EAGER_COMMIT + 1)
            ),
            (2, 1)
        );
        assert_eq!(
            (
                get(MI_OPTION_PURGE_DELAY - 1),
                get(MI_OPTION_PURGE_DELAY),
                get(MI_OPTION_PURGE_DELAY + 1)
            ),
            (1, 1000, 0)
        );
    }
}
