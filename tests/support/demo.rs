//! A small "internet" of mail domains on loopback that looks like a real customer list: a big
//! provider hosting many domains, an old TLS 1.2 host, self-signed, wrong-name and expired
//! certificates, servers without STARTTLS or with a broken one, a busy server, a postscreen-style slow greeting, a null MX, a
//! missing domain, a domain with one good and one plaintext MX, and an implicit MX.
//!
//! Used by the app's UI tests and by `examples/demo_fleet.rs` (the README screenshot). Every
//! domain comes with the verdict the monitor must give it.

use std::path::{Path, PathBuf};

use super::{
    Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header, unique_loopback_ips,
};

/// The running demo world.
pub struct DemoWorld {
    pub dns: TestDns,
    pub fleet: SmtpFleet,
    pub ca_file: PathBuf,
    /// `(domain, expected verdict as in JSON)`, e.g. `("alpha-shop.test", "tls_ok")`.
    pub domains: Vec<(String, &'static str)>,
}

struct Host {
    name: &'static str,
    scenario: Scenario,
}

/// Starts the demo DNS zone and SMTP fleet; the CA file is written into `dir`.
pub async fn start_demo_world(dir: &Path) -> DemoWorld {
    let pki = TestPki::new();
    let ca_file = pki.write_ca_file(dir);
    let good = |names: &[&str], versions: TlsVersions| Scenario::Good {
        cert: pki.leaf(names, Validity::Current),
        versions,
    };
    let hosts = vec![
        Host {
            name: "mx1.bigmail.test",
            scenario: good(&["mx1.bigmail.test"], TlsVersions::Any),
        },
        Host {
            name: "mx2.bigmail.test",
            scenario: good(&["*.bigmail.test"], TlsVersions::Any),
        },
        Host {
            name: "mail.oldhost.test",
            scenario: good(&["mail.oldhost.test"], TlsVersions::Tls12Only),
        },
        Host {
            name: "mx.selfhost.test",
            scenario: Scenario::Good {
                cert: TestPki::self_signed(&["mx.selfhost.test"], Validity::Current),
                versions: TlsVersions::Any,
            },
        },
        Host {
            name: "smtp.cheaphost.test",
            scenario: good(&["www.cheaphost.test"], TlsVersions::Any),
        },
        Host {
            name: "mx.lapsed.test",
            scenario: Scenario::Good {
                cert: pki.leaf(&["mx.lapsed.test"], Validity::Expired),
                versions: TlsVersions::Any,
            },
        },
        Host {
            name: "mx.plainmail.test",
            scenario: Scenario::NoStarttls,
        },
        Host {
            name: "mx.brokentls.test",
            scenario: Scenario::Starttls454,
        },
        Host {
            name: "mx.busy.test",
            scenario: Scenario::Greeting421,
        },
        Host {
            name: "mx.postscreen.test",
            scenario: Scenario::SlowGreeting {
                delay: std::time::Duration::from_millis(1500),
                cert: pki.leaf(&["mx.postscreen.test"], Validity::Current),
            },
        },
        Host {
            name: "bare.test",
            scenario: good(&["bare.test"], TlsVersions::Any),
        },
    ];
    let ips = unique_loopback_ips(hosts.len());
    let mut domains: Vec<(String, &'static str)> = Vec::new();
    let mut zone = soa_header("test");
    for (host, ip) in hosts.iter().zip(&ips) {
        zone.push_str(&format!("{}. IN A {ip}\n", host.name));
    }
    let mut customer =
        |zone: &mut String, name: &str, mx: &[(u16, &str)], verdict: &'static str| {
            for (preference, host) in mx {
                zone.push_str(&format!("{name}. IN MX {preference} {host}.\n"));
            }
            domains.push((name.to_string(), verdict));
        };
    for name in [
        "alpha-shop",
        "brightdental",
        "citylibrary",
        "deltalogistics",
        "evergreen-school",
        "fjordfish",
        "greenleaf-coop",
        "harbourclinic",
        "ironworks",
        "juniper-law",
        "kestrel-air",
        "lumen-labs",
    ] {
        customer(
            &mut zone,
            &format!("{name}.test"),
            &[(10, "mx1.bigmail.test"), (20, "mx2.bigmail.test")],
            "tls_ok",
        );
    }
    for name in ["maple-bakery", "northwind", "oakridge-council", "pinecrest"] {
        customer(
            &mut zone,
            &format!("{name}.test"),
            &[(10, "mail.oldhost.test")],
            "tls_ok",
        );
    }
    for name in ["quartz-games", "riverbend", "saltmarsh"] {
        customer(
            &mut zone,
            &format!("{name}.test"),
            &[(10, "mx.selfhost.test")],
            "tls_ok",
        );
    }
    for name in ["tidewater", "umber-arts"] {
        customer(
            &mut zone,
            &format!("{name}.test"),
            &[(10, "smtp.cheaphost.test")],
            "tls_ok",
        );
    }
    customer(
        &mut zone,
        "vintage-radio.test",
        &[(10, "mx.lapsed.test")],
        "tls_ok",
    );
    for name in ["willow-farm", "xenon-motors", "yarrow-club"] {
        customer(
            &mut zone,
            &format!("{name}.test"),
            &[(10, "mx.plainmail.test")],
            "no_starttls",
        );
    }
    customer(
        &mut zone,
        "zephyr-hotel.test",
        &[(10, "mx.brokentls.test")],
        "tls_failed",
    );
    customer(
        &mut zone,
        "slowpoke.test",
        &[(10, "mx.postscreen.test")],
        "tls_ok",
    );
    customer(
        &mut zone,
        "busy-bee.test",
        &[(10, "mx.busy.test")],
        "untestable",
    );
    customer(
        &mut zone,
        "split-brain.test",
        &[(10, "mx1.bigmail.test"), (20, "mx.plainmail.test")],
        "no_starttls",
    );
    customer(
        &mut zone,
        "half-down.test",
        &[(10, "mx1.bigmail.test"), (20, "mx.busy.test")],
        "tls_ok",
    );
    zone.push_str("noreply-only.test. IN MX 0 .\n");
    domains.push(("noreply-only.test".into(), "no_mail"));
    // bare.test has no MX: its own A record is the implicit MX.
    domains.push(("bare.test".into(), "tls_ok"));
    // gone.test is not in the zone at all: NXDOMAIN.
    domains.push(("gone.test".into(), "untestable"));

    let dns = TestDns::start(&[("test.", zone.as_str())]).await;
    let fleet = SmtpFleet::start(
        hosts
            .into_iter()
            .zip(ips)
            .map(|(host, ip)| (ip, host.scenario))
            .collect(),
    )
    .await;
    DemoWorld {
        dns,
        fleet,
        ca_file,
        domains,
    }
}
