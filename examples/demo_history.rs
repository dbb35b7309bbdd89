//! DEMO DATA: writes a year of **synthetic** scan history into a database, so the Trends tab,
//! the detail pane's history chart and the Events tab can be tried (and README's Trends
//! screenshot taken) without a year of real scans. Nothing is probed: every result is made up
//! here, for domains under `.example` whose MX hosts sit in 192.0.2.0/24 (documentation
//! space), in a list named "Demo history (synthetic)".
//!
//! ```sh
//! cargo run --example demo_history -- /tmp/demo-history.sqlite3 [DAYS]
//! starttls-monitor --db /tmp/demo-history.sqlite3
//! ```
//! One scan a day at 03:00 UTC for DAYS days (default 365) up to today: domains move from no
//! STARTTLS to TLS 1.0 with CBC suites (weak TLS) to TLS 1.3, certificates are renewed every
//! 90 days (a few lapse for a week), and one day a DNS outage makes a third of them
//! untestable (they stay counted by their last known state). The file must not exist yet.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a demo tool: a panic is the error report

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use starttls_monitor::model::{
    AddressResult, CertError, DnsError, DomainName, DomainResult, MxResult, Outcome, Reason,
    TlsVersion, tls_grade,
};
use starttls_monitor::store::Store;
use time::{Duration, OffsetDateTime, Time};

/// The list the demo domains go in: its name says the data is made up.
const LIST: &str = "Demo history (synthetic)";

/// What a domain's MX does on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Connected, no STARTTLS.
    Plain,
    /// TLS 1.0, RSA key exchange, AES-CBC: weak TLS, no forward secrecy.
    Tls10Rsa,
    /// TLS 1.0 with ECDHE and AES-CBC: forward secret, still weak TLS (phase out).
    Tls10Ecdhe,
    /// TLS 1.2 with ECDHE and AES-GCM.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// One demo domain: its provider's MX host and the days (from the start) it moves on.
struct Demo {
    name: String,
    mx_host: String,
    /// `(from day, stage)`, in order.
    stages: Vec<(i64, Stage)>,
    /// A certificate that is not renewed in time (expired for a week) on this day, if any.
    lapse_day: Option<i64>,
    /// Whether its certificate fails strict validation for another reason (a wrong name).
    wrong_name: bool,
}

impl Demo {
    fn stage(&self, day: i64) -> Stage {
        self.stages
            .iter()
            .rev()
            .find(|(from, _)| *from <= day)
            .map_or(Stage::Plain, |(_, stage)| *stage)
    }
}

fn demo_domains(days: i64, rng: &mut fastrand::Rng) -> Vec<Demo> {
    let providers = [
        ("mx1.bigmail.example", 40),
        ("inbound.hostedmx.example", 25),
        ("smtp.oldmail.example", 15),
    ];
    let prefixes = [
        "shop", "clinic", "school", "city", "club", "studio", "law", "farm", "cafe", "garage",
    ];
    let mut domains = Vec::new();
    for index in 0..120 {
        let name = format!("{}-{index:03}.example", prefixes[index % prefixes.len()]);
        let pick = rng.u32(0..100);
        let mx_host = match pick {
            0..40 => providers[0].0.to_string(),
            40..65 => providers[1].0.to_string(),
            65..80 => providers[2].0.to_string(),
            _ => format!("mail.{name}"),
        };
        // Big providers were modern all year; the old one moves to TLS 1.2 in spring; own
        // servers start anywhere and upgrade at their own pace.
        let stages = match pick {
            0..40 => vec![(0, Stage::Tls13)],
            40..65 => vec![(0, Stage::Tls12), (days * 2 / 3, Stage::Tls13)],
            65..80 => vec![(0, Stage::Tls10Rsa), (days / 3, Stage::Tls12)],
            _ => {
                let start = [Stage::Plain, Stage::Tls10Rsa, Stage::Tls10Ecdhe][rng.usize(0..3)];
                let first = rng.i64(0..days);
                let second = first + rng.i64(0..days);
                vec![
                    (0, start),
                    (first, Stage::Tls10Ecdhe),
                    (second, Stage::Tls13),
                ]
            }
        };
        domains.push(Demo {
            lapse_day: (rng.u32(0..100) < 6).then(|| rng.i64(30..days.max(31))),
            wrong_name: pick >= 80 && rng.u32(0..100) < 15,
            name,
            mx_host,
            stages,
        });
    }
    domains
}

/// The synthetic result of `demo` on `day` (probed at `at`).
fn result_of(demo: &Demo, day: i64, at: OffsetDateTime, outage: bool) -> DomainResult {
    let domain = DomainName::parse(&demo.name).expect("valid demo domain");
    if outage {
        return DomainResult::new(domain, false, Some(DnsError::Timeout), at, Vec::new());
    }
    let stage = demo.stage(day);
    let host_byte = (demo.mx_host.len() * 7 % 250) as u8 + 1;
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, host_byte));
    let outcome = if stage == Stage::Plain {
        Outcome::NoStarttls
    } else {
        Outcome::TlsOk
    };
    let mut address = AddressResult::new(ip, outcome, Reason::Completed, "synthetic demo result");
    address.elapsed_ms = 80;
    address.starttls_advertised = Some(outcome == Outcome::TlsOk);
    if outcome == Outcome::TlsOk {
        let (version, suite, group, pfs) = match stage {
            Stage::Tls10Rsa => (
                TlsVersion::Tls10,
                "TLS_RSA_WITH_AES_128_CBC_SHA",
                None,
                false,
            ),
            Stage::Tls10Ecdhe => (
                TlsVersion::Tls10,
                "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
                Some("secp256r1"),
                true,
            ),
            Stage::Tls12 => (
                TlsVersion::Tls12,
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                Some("X25519"),
                true,
            ),
            _ => (
                TlsVersion::Tls13,
                "TLS_AES_256_GCM_SHA384",
                Some("X25519"),
                true,
            ),
        };
        address.tls_version = Some(version);
        address.cipher_suite = Some(suite.to_string());
        address.kx_group = group.map(str::to_string);
        address.pfs = Some(pfs);
        address.legacy_tls = Some(version == TlsVersion::Tls10);
        address.tls_grade = tls_grade::grade_of_address(&address);
        // Renewed every 90 days; a lapse leaves the old one expired for a week.
        let cycle = (demo.name.len() as i64 * 13 + i64::from(host_byte)) % 90;
        let issued = day - (day + cycle).rem_euclid(90);
        let mut not_after = at - Duration::days(day - issued) + Duration::days(90);
        let lapsed = demo
            .lapse_day
            .is_some_and(|lapse| (lapse..lapse + 7).contains(&day));
        if lapsed {
            not_after = at - Duration::days(day - demo.lapse_day.unwrap_or(day) + 1);
        }
        let mut errors = Vec::new();
        if lapsed {
            errors.push(CertError::Expired);
        }
        if demo.wrong_name {
            errors.push(CertError::NameMismatch);
        }
        address.strict_valid = Some(errors.is_empty());
        address.cert_errors = errors;
        address.cert_subject = Some(format!("CN={}", demo.mx_host));
        address.cert_sans = Some(vec![demo.mx_host.clone()]);
        address.cert_issuer = Some("CN=Synthetic Demo CA".to_string());
        address.cert_not_before = Some(not_after - Duration::days(90));
        address.cert_not_after = Some(not_after);
        address.cert_days_left = Some((not_after - at).whole_days());
        address.cert_key = Some("ECDSA P-256".to_string());
        address.cert_sha256 = Some(format!(
            "{:064x}",
            not_after.unix_timestamp() ^ i64::from(host_byte)
        ));
    } else {
        address.smtp_code = Some(250);
    }
    let addresses = vec![address];
    let host = MxResult::new(demo.mx_host.clone(), 10, addresses);
    DomainResult::new(domain, false, None, at, vec![host])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: demo_history DATABASE [DAYS]   (writes a year of synthetic history)");
        std::process::exit(2);
    };
    let days: i64 = args.next().map_or(365, |text| {
        text.parse().expect("DAYS is a whole number of days")
    });
    if path.exists() {
        eprintln!(
            "demo_history: {} exists; give a new file (demo data never goes into a real database)",
            path.display()
        );
        std::process::exit(1);
    }
    let store = Store::open(&path).expect("create the database");
    let list = store.create_list(LIST).expect("create the demo list");
    let mut rng = fastrand::Rng::with_seed(14);
    let demos = demo_domains(days, &mut rng);
    let names: Vec<DomainName> = demos
        .iter()
        .map(|demo| DomainName::parse(&demo.name).expect("valid demo domain"))
        .collect();
    store
        .add_domains(Some(list), &names)
        .expect("add the demo domains");
    let now = OffsetDateTime::now_utc();
    let first_day = now.date() - Duration::days(days - 1);
    let outage_day = days * 3 / 5;
    for day in 0..days {
        let date = first_day + Duration::days(day);
        let at = date
            .with_time(Time::from_hms(3, 0, 0).expect("valid time"))
            .assume_utc();
        if at > now {
            break;
        }
        for (index, demo) in demos.iter().enumerate() {
            // The outage: every third domain's MX lookup times out, for one scan.
            let outage = day == outage_day && index % 3 == 0;
            let result = result_of(demo, day, at, outage);
            store
                .record_result(None, &result, 14)
                .expect("store a synthetic result");
        }
        let as_of = (at + Duration::hours(1)).min(now);
        store
            .refresh_rollup(Some(list), as_of)
            .expect("roll up the list");
        store
            .refresh_rollup(None, as_of)
            .expect("roll up all domains");
    }
    println!(
        "demo_history: wrote {days} days of SYNTHETIC history for {} domains (list \"{LIST}\") to {}",
        demos.len(),
        path.display()
    );
}
