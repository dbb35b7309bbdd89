//! DANE against real DNS software: a zone signed by `ldns-signzone` (one with NSEC, one with
//! NSEC3), served by NSD, resolved through a validating Unbound, both on 127.0.0.1 with their
//! own configuration, pid and log files in a temporary directory, started and stopped here.
//! The probe's own validator (hickory) must agree with what real signers produce.
//!
//! Needs the Debian packages `nsd`, `unbound` and `ldnsutils` (CI installs them). Without them
//! the test says plainly on stderr that it is skipped; under `CI=true` it fails instead.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ring::digest;
use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::probe::config::TrustAnchorFile;
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::{Scenario, SmtpFleet, TestCert, TestPki, TlsVersions, Validity, unique_loopback_ips};
use x509_parser::prelude::{FromDer, X509Certificate};

const DEADLINE: Duration = Duration::from_secs(5);
const TOOLS: [&str; 4] = ["nsd", "unbound", "ldns-keygen", "ldns-signzone"];

/// The path of `tool` when it is installed (PATH, then /usr/sbin and /usr/bin).
fn find(tool: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    dirs.extend([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")]);
    dirs.into_iter()
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
}

/// The tools, or None (and why on stderr) when one is missing; under `CI=true` a panic.
fn tools() -> Option<Vec<PathBuf>> {
    let found: Vec<Option<PathBuf>> = TOOLS.iter().map(|tool| find(tool)).collect();
    if found.iter().all(Option::is_some) {
        return Some(found.into_iter().flatten().collect());
    }
    let missing: Vec<&str> = TOOLS
        .iter()
        .zip(&found)
        .filter(|(_, path)| path.is_none())
        .map(|(tool, _)| *tool)
        .collect();
    let message = format!(
        "dane_real: {} not installed (Debian packages nsd, unbound, ldnsutils)",
        missing.join(", ")
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{message}: CI must install them"
    );
    eprintln!("{message}: skipped");
    None
}

/// A port free on 127.0.0.1 for both UDP and TCP right now.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// A daemon this test started; dropping it kills it (by its own handle) and waits for it.
struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(name: &'static str, program: &Path, config: &Path, log: PathBuf) -> Daemon {
        let child = Command::new(program)
            .args(["-d", "-c"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log.with_extension("stderr")).unwrap())
            .spawn()
            .unwrap_or_else(|error| panic!("starting {name}: {error}"));
        Daemon { name, child, log }
    }

    /// Waits until the daemon accepts TCP on `port`.
    fn wait_for(&mut self, port: u16) {
        let started = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}): {}\n{}",
                    self.name,
                    std::fs::read_to_string(self.log.with_extension("stderr")).unwrap_or_default(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{} did not listen on {port}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: &Path, args: &[&str], dir: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{} {args:?}: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn ee_311(cert: &TestCert) -> String {
    let (_, parsed) = X509Certificate::from_der(cert.chain_der[0].as_ref()).unwrap();
    let hex: String = digest::digest(&digest::SHA256, parsed.public_key().raw)
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("3 1 1 {hex}")
}

/// Signs `<origin>` with a new KSK; returns the signed zone file name and the key's DNSKEY line.
fn sign(tools: &[PathBuf], dir: &Path, origin: &str, text: &str, nsec3: bool) -> (String, String) {
    let file = format!("{origin}zone");
    std::fs::write(dir.join(&file), text).unwrap();
    let key = run(&tools[2], &["-a", "ECDSAP256SHA256", "-k", origin], dir);
    let mut args = Vec::new();
    if nsec3 {
        args.extend(["-n", "-t", "0"]);
    }
    args.extend([file.as_str(), key.as_str()]);
    run(&tools[3], &args, dir);
    let anchor = std::fs::read_to_string(dir.join(format!("{key}.key"))).unwrap();
    (format!("{file}.signed"), anchor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dane_through_nsd_and_unbound_with_nsec_and_nsec3_zones() {
    let Some(tools) = tools() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let valid = TestPki::self_signed(&["mx.d.test"], Validity::Current);
    let other = TestPki::self_signed(&["someone.else"], Validity::Current);
    let ips = unique_loopback_ips(2);
    let fleet = SmtpFleet::start(vec![
        (
            ips[0],
            Scenario::Good {
                cert: valid.clone(),
                versions: TlsVersions::Any,
            },
        ),
        (ips[1], Scenario::NoStarttls),
    ])
    .await;
    let zone = |origin: &str| {
        format!(
            "$ORIGIN {origin}\n$TTL 60\n@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n\
             @ IN NS ns1\nns1 IN A 127.0.0.1\n\
             d IN MX 10 mx.d\nmx.d IN A {good}\n_25._tcp.mx.d IN TLSA {valid}\n\
             bad IN MX 10 mx.bad\nmx.bad IN A {good}\n_25._tcp.mx.bad IN TLSA {other}\n\
             none IN MX 10 mx.none\nmx.none IN A {good}\n\
             plain IN MX 10 mx.plain\nmx.plain IN A {plain}\n_25._tcp.mx.plain IN TLSA {valid}\n\
             implicit IN A {good}\n_25._tcp.implicit IN TLSA {valid}\n",
            good = ips[0],
            plain = ips[1],
            valid = ee_311(&valid),
            other = ee_311(&other),
        )
    };
    let (nsec_file, nsec_anchor) = sign(&tools, path, "nsec.test.", &zone("nsec.test."), false);
    let (nsec3_file, nsec3_anchor) = sign(&tools, path, "nsec3.test.", &zone("nsec3.test."), true);
    let anchor_file = path.join("anchors.key");
    std::fs::write(&anchor_file, format!("{nsec_anchor}\n{nsec3_anchor}\n")).unwrap();

    let nsd_port = free_port();
    let dir_text = path.display();
    std::fs::write(
        path.join("nsd.conf"),
        format!(
            "server:\n  ip-address: 127.0.0.1@{nsd_port}\n  port: {nsd_port}\n  username: \"\"\n  \
             chroot: \"\"\n  zonesdir: \"{dir_text}\"\n  pidfile: \"{dir_text}/nsd.pid\"\n  \
             database: \"\"\n  xfrdfile: \"{dir_text}/xfrd.state\"\n  \
             zonelistfile: \"{dir_text}/zone.list\"\n  logfile: \"{dir_text}/nsd.log\"\n  \
             do-ip6: no\nremote-control:\n  control-enable: no\n\
             zone:\n  name: nsec.test\n  zonefile: \"{dir_text}/{nsec_file}\"\n\
             zone:\n  name: nsec3.test\n  zonefile: \"{dir_text}/{nsec3_file}\"\n"
        ),
    )
    .unwrap();
    let mut nsd = Daemon::start(
        "nsd",
        &tools[0],
        &path.join("nsd.conf"),
        path.join("nsd.log"),
    );
    nsd.wait_for(nsd_port);

    let unbound_port = free_port();
    std::fs::write(
        path.join("unbound.conf"),
        format!(
            "server:\n  interface: 127.0.0.1@{unbound_port}\n  port: {unbound_port}\n  \
             username: \"\"\n  chroot: \"\"\n  directory: \"{dir_text}\"\n  \
             pidfile: \"{dir_text}/unbound.pid\"\n  do-daemonize: no\n  use-syslog: no\n  \
             logfile: \"{dir_text}/unbound.log\"\n  do-not-query-localhost: no\n  do-ip6: no\n  \
             trust-anchor-file: \"{}\"\n  module-config: \"validator iterator\"\n  \
             access-control: 127.0.0.0/8 allow\n  local-zone: \"test.\" nodefault\n\
             stub-zone:\n  name: \"nsec.test\"\n  stub-addr: 127.0.0.1@{nsd_port}\n\
             stub-zone:\n  name: \"nsec3.test\"\n  stub-addr: 127.0.0.1@{nsd_port}\n\
             remote-control:\n  control-enable: no\n",
            anchor_file.display()
        ),
    )
    .unwrap();
    let mut unbound = Daemon::start(
        "unbound",
        &tools[1],
        &path.join("unbound.conf"),
        path.join("unbound.log"),
    );
    unbound.wait_for(unbound_port);

    let config = ProbeConfig {
        dns: DnsServer::Custom(SocketAddr::from((Ipv4Addr::LOCALHOST, unbound_port))),
        smtp_port: fleet.port,
        connect_timeout: DEADLINE,
        greeting_timeout: DEADLINE,
        command_timeout: DEADLINE,
        tls_timeout: DEADLINE,
        dns_timeout: DEADLINE,
        ehlo_name: "probe.starttls-monitor.test".to_string(),
        trust_anchor: Some(TrustAnchorFile::load(&anchor_file).unwrap()),
        ..ProbeConfig::default()
    };
    let prober = Prober::new(config).unwrap();
    for origin in ["nsec.test", "nsec3.test"] {
        let probe = |label: &str| {
            let domain = DomainName::parse(&format!("{label}.{origin}")).unwrap();
            let prober = prober.clone();
            async move { serde_json::to_value(prober.probe_domain(&domain).await).unwrap() }
        };
        let json = probe("d").await;
        assert_eq!(json["dnssec"], "secure", "{origin}: {json}");
        assert_eq!(json["dane"], "valid", "{origin}: {json}");
        assert_eq!(json["strict_valid"], false, "self-signed");
        assert_eq!(
            json["mx"][0]["dnssec"], "secure",
            "A secure, AAAA securely denied"
        );

        let json = probe("bad").await;
        assert_eq!(json["dane"], "failed", "{origin}: {json}");
        assert_eq!(json["verdict"], "tls_ok");

        let json = probe("none").await;
        let host: &Value = &json["mx"][0];
        assert_eq!(host["tlsa"], serde_json::json!([]), "{origin}: {json}");
        assert_eq!(
            host["tlsa_dnssec"], "secure",
            "proven absent by a real signer's denial"
        );
        assert_eq!(json["dane"], "none");

        let json = probe("plain").await;
        assert_eq!(json["verdict"], "no_starttls", "{origin}: {json}");
        assert_eq!(json["dane"], "failed", "TLSA and no STARTTLS");

        let json = probe("implicit").await;
        assert_eq!(json["mx"][0]["implicit"], true, "{origin}: {json}");
        assert_eq!(json["dnssec"], "secure", "the MX denial validates");
        assert_eq!(json["dane"], "valid", "{origin}: {json}");
    }
    drop(unbound);
    drop(nsd);
}
