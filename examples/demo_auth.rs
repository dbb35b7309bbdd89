//! DEMO DATA: writes **synthetic** authenticated-transport results (DNSSEC, DANE, MTA-STS,
//! TLS-RPT and the sender view) into a database, so the app's DANE and MTA-STS columns, the
//! at-risk label and the detail pane can be tried (and README's screenshot taken) without a
//! signed zone or a policy host. Nothing is probed: every result is made up (by the same
//! builders as the app tests, `tests/fixtures/auth.rs`), for domains under `.example` whose MX
//! hosts sit in 192.0.2.0/24 (documentation space), in a list named "Demo authenticated
//! transport (synthetic)".
//!
//! ```sh
//! cargo run --example demo_auth -- /tmp/demo-auth.sqlite3
//! starttls-monitor --db /tmp/demo-auth.sqlite3
//! ```
//! The file must not exist yet.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a demo tool: a panic is the error report

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;
#[path = "../tests/fixtures/auth.rs"]
mod fixtures_auth;

use std::path::PathBuf;

use fixtures::{Shape, domain, result};
use fixtures_auth::{TLSA_EE, TLSA_NEXT, unsigned, with_dane, with_sts};
use starttls_monitor::model::DomainName;
use starttls_monitor::model::auth::{DaneStatus, StsMode};
use starttls_monitor::store::Store;
use time::OffsetDateTime;

/// The list the demo domains go in: its name says the data is made up.
const LIST: &str = "Demo authenticated transport (synthetic)";

fn main() {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .expect("usage: demo_auth DB_PATH");
    assert!(!path.exists(), "{} exists already", path.display());
    let store = Store::open(&path).expect("open the database");
    let now = OffsetDateTime::now_utc();
    let fetched = now - time::Duration::hours(5);
    let results = [
        // DANE valid with a rollover pair, and an MTA-STS enforce policy it meets.
        with_sts(
            with_dane(
                result("both.example", Shape::Good, now),
                &[TLSA_EE, TLSA_NEXT],
                DaneStatus::Valid,
            ),
            StsMode::Enforce,
            &["mx.both.example"],
            fetched,
        ),
        // DANE valid on a self-signed certificate: authenticated for DANE senders.
        with_dane(
            result("selfsigned-dane.example", Shape::BadCert, now),
            &[TLSA_EE],
            DaneStatus::Valid,
        ),
        // The certificate was renewed, the TLSA record left behind: DANE senders defer.
        with_dane(
            result("renewed.example", Shape::Good, now),
            &[TLSA_EE],
            DaneStatus::Failed,
        ),
        // MTA-STS enforce, every MX listed and valid.
        with_sts(
            unsigned(result("enforced.example", Shape::Good, now)),
            StsMode::Enforce,
            &["*.enforced.example"],
            fetched,
        ),
        // MTA-STS enforce that does not list the MX the domain moved to.
        with_sts(
            unsigned(result("moved.example", Shape::Good, now)),
            StsMode::Enforce,
            &["mx.oldhost.example"],
            fetched,
        ),
        // MTA-STS in testing mode.
        with_sts(
            unsigned(result("testing.example", Shape::Good, now)),
            StsMode::Testing,
            &["mx.testing.example"],
            fetched,
        ),
        unsigned(result("plain.example", Shape::Good, now)),
        unsigned(result("cleartext.example", Shape::NoStarttls, now)),
        // Stored before authenticated transport was probed.
        result("older.example", Shape::Good, now),
    ];
    let domains: Vec<DomainName> = results
        .iter()
        .map(|result| domain(result.domain.as_str()))
        .collect();
    let list = store.create_list(LIST).expect("create the list");
    store.add_domains(Some(list), &domains).expect("add");
    for result in &results {
        store.record_result(None, result, 14).expect("record");
    }
    store.refresh_rollup(Some(list), now).expect("roll-up");
    store.refresh_rollup(None, now).expect("roll-up");
    println!(
        "wrote {} synthetic results into list '{LIST}' of {}",
        results.len(),
        path.display()
    );
}
