//! A loopback demo "internet" to try the app (and take the README screenshot) without
//! touching real mail servers: about 30 mail domains in a DNS zone, served by in-process SMTP
//! servers that play a big provider, an old TLS 1.2 host, self-signed / wrong-name / expired
//! certificates, plaintext and broken STARTTLS, a busy server, a null MX and a missing domain.
//!
//! ```sh
//! cargo run --example demo_fleet -- /tmp/starttls-demo
//! ```
//! It prints the options that point starttls-monitor at it, writes the domain list to
//! `DIR/domains.txt`, and runs until interrupted. Loopback only.
#![allow(clippy::unwrap_used, clippy::expect_used)] // shares the test harness, where a panic is the failure report

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("/tmp/starttls-demo"), PathBuf::from);
    if let Err(error) = std::fs::create_dir_all(&dir) {
        eprintln!("demo_fleet: cannot create {}: {error}", dir.display());
        std::process::exit(1);
    }
    let world = support::demo::start_demo_world(&dir).await;
    let list: String = world
        .domains
        .iter()
        .map(|(domain, _)| format!("{domain}\n"))
        .collect();
    let list_file = dir.join("domains.txt");
    if let Err(error) = std::fs::write(&list_file, list) {
        eprintln!("demo_fleet: cannot write {}: {error}", list_file.display());
        std::process::exit(1);
    }
    println!(
        "--dns {} --smtp-port {} --ca-file {}",
        world.dns.addr,
        world.fleet.port,
        world.ca_file.display()
    );
    println!(
        "{} domains in {} (expected verdicts: {})",
        world.domains.len(),
        list_file.display(),
        world
            .domains
            .iter()
            .map(|(domain, verdict)| format!("{domain}={verdict}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    loop {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
