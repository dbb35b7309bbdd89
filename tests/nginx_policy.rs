//! MTA-STS policies served by real web server software: Debian's nginx (`nginx-light`) on one
//! 127.x address, three virtual hosts picked by SNI and `Host` (a policy file served as
//! `text/plain`, a redirect, a missing file), each with an RSA certificate from a test root, found
//! through an in-process DNS zone whose MX hosts are in-process SMTP servers; probed through the
//! library and through `probe --json`.
//!
//! Needs the `nginx-light` package (CI installs it). Without it the test says plainly on stderr
//! that it is skipped; under `CI=true` it fails instead. nginx runs from its own configuration,
//! pid and log files in a temporary folder (`master_process off`, `daemon off`: one process,
//! our child), listens only on a loopback address, and is killed by the test that started it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod postfix_support;
mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use postfix_support::{RsaPki, Validity as RsaValidity, free_port};
use serde_json::Value;
use starttls_monitor::model::DomainName;
use starttls_monitor::probe::{DnsServer, ProbeConfig, Prober};
use support::{
    Scenario, SmtpFleet, TestDns, TestPki, TlsVersions, Validity, soa_header, unique_loopback_ips,
};

const NGINX: &str = "/usr/sbin/nginx";
const ZONE: &str = "nginx.test";
const DEADLINE: Duration = Duration::from_secs(5);

/// Whether nginx can run here; says why not on stderr, or panics under `CI=true`.
fn nginx_ready(test_name: &str) -> bool {
    if Path::new(NGINX).exists() {
        return true;
    }
    let problem = format!(
        "nginx is not installed ({NGINX} is missing; on Debian: apt-get install nginx-light)"
    );
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!("{test_name}: {problem}; CI=true, so this is a failure, not a skip");
    }
    let message = format!("\n*** SKIPPED {test_name}: {problem} ***\n");
    let _ = std::io::stderr().lock().write_all(message.as_bytes());
    false
}

/// One virtual host: its server_name, certificate, extra directives, and files under its web
/// root as (path, content).
struct VirtualHost<'a> {
    name: &'a str,
    credentials: &'a postfix_support::Credentials,
    extra: &'a str,
    files: &'a [(&'a str, &'a str)],
}

/// One nginx process from its own folder; killed when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    /// Starts nginx on `address` with `servers` (the first is the default), and waits until it
    /// accepts connections.
    fn start(dir: &Path, address: SocketAddr, servers: &[VirtualHost<'_>]) -> Nginx {
        let mut blocks = String::new();
        for (index, server) in servers.iter().enumerate() {
            let root = dir.join(format!("www{index}"));
            for (path, content) in server.files {
                let file = root.join(path.trim_start_matches('/'));
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, content).unwrap();
            }
            std::fs::create_dir_all(&root).unwrap();
            let cert = dir.join(format!("cert{index}.pem"));
            let key = dir.join(format!("key{index}.pem"));
            std::fs::write(&cert, &server.credentials.chain_pem).unwrap();
            std::fs::write(&key, &server.credentials.key_pem).unwrap();
            blocks.push_str(&format!(
                "  server {{\n    listen {address} ssl;\n    server_name {name};\n    \
                 ssl_certificate {cert};\n    ssl_certificate_key {key};\n    root {root};\n    \
                 {extra}\n  }}\n",
                name = server.name,
                extra = server.extra,
                cert = cert.display(),
                key = key.display(),
                root = root.display(),
            ));
        }
        let d = dir.display();
        let config = format!(
            "master_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 64; }}\nhttp {{\n  access_log {d}/access.log;\n  \
             client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  \
             scgi_temp_path {d}/scgi;\n  types {{ text/plain txt; }}\n  \
             default_type application/octet-stream;\n{blocks}}}\n"
        );
        let config_path = dir.join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&config_path)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let mut nginx = Nginx {
            child,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = nginx.child.try_wait().unwrap() {
                panic!("nginx exited ({status}): {}", nginx.log());
            }
            if std::net::TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return nginx;
            }
            assert!(
                Instant::now() < deadline,
                "nginx never listened: {}",
                nginx.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_serves_policies_as_senders_fetch_them() {
    if !nginx_ready("nginx_serves_policies_as_senders_fetch_them") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rsa = RsaPki::new();
    let pki = TestPki::new();
    // Both roots: nginx's RSA certificates and the SMTP servers' ECDSA ones.
    let ca_file = dir.path().join("ca.pem");
    let mut roots = rsa.ca_pem();
    roots.extend_from_slice(pki.ca_pem().as_bytes());
    std::fs::write(&ca_file, roots).unwrap();

    let ips = unique_loopback_ips(4);
    let (web_ip, mx_ips) = (ips[0], &ips[1..]);
    let labels = ["served", "moved", "missing"];
    let mut zone = soa_header(ZONE);
    let mut smtp = Vec::new();
    for (label, mx_ip) in labels.iter().zip(mx_ips) {
        zone.push_str(&format!(
            "{label} IN MX 10 mx.{label}\nmx.{label} IN A {mx_ip}\n\
             _mta-sts.{label} IN TXT \"v=STSv1; id=2026{label}\"\nmta-sts.{label} IN A {web_ip}\n"
        ));
        smtp.push((
            *mx_ip,
            Scenario::Good {
                cert: pki.leaf(&[&format!("mx.{label}.{ZONE}")], Validity::Current),
                versions: TlsVersions::Any,
            },
        ));
    }
    let dns = TestDns::start(&[(ZONE, &zone)]).await;
    let smtp = SmtpFleet::start(smtp).await;

    let policy = format!("version: STSv1\nmode: enforce\nmx: mx.served.{ZONE}\nmax_age: 604800\n");
    let credentials: Vec<_> = labels
        .iter()
        .map(|label| {
            rsa.leaf(
                &[&format!("mta-sts.{label}.{ZONE}")],
                RsaValidity::Current,
                2048,
            )
        })
        .collect();
    let web = SocketAddr::new(web_ip, free_port());
    let served_host = format!("mta-sts.served.{ZONE}");
    let moved_host = format!("mta-sts.moved.{ZONE}");
    let missing_host = format!("mta-sts.missing.{ZONE}");
    let files: &[(&str, &str)] = &[("/.well-known/mta-sts.txt", &policy)];
    let moved_rule = format!(
        "location = /.well-known/mta-sts.txt {{ return 301 https://mta-sts.served.{ZONE}/.well-known/mta-sts.txt; }}"
    );
    let nginx_dir = dir.path().join("nginx");
    std::fs::create_dir_all(&nginx_dir).unwrap();
    let nginx = Nginx::start(
        &nginx_dir,
        web,
        &[
            VirtualHost {
                name: &served_host,
                credentials: &credentials[0],
                extra: "",
                files,
            },
            VirtualHost {
                name: &moved_host,
                credentials: &credentials[1],
                extra: &moved_rule,
                files: &[],
            },
            VirtualHost {
                name: &missing_host,
                credentials: &credentials[2],
                extra: "",
                files: &[],
            },
        ],
    );

    let mut config = ProbeConfig {
        dns: DnsServer::Custom(dns.addr),
        smtp_port: smtp.port,
        https_port: web.port(),
        connect_timeout: DEADLINE,
        greeting_timeout: DEADLINE,
        command_timeout: DEADLINE,
        tls_timeout: DEADLINE,
        https_timeout: DEADLINE,
        ehlo_name: "probe.starttls-monitor.test".to_string(),
        ..ProbeConfig::default()
    };
    config.load_ca_file(&ca_file).unwrap();
    let prober = Prober::new(config).unwrap();
    let probe = |label: &str| {
        let prober = prober.clone();
        let domain = DomainName::parse(&format!("{label}.{ZONE}")).unwrap();
        async move { prober.probe_domain(&domain).await.mta_sts.unwrap() }
    };

    let served = probe("served").await;
    assert_eq!(
        served.outcome.as_str(),
        "enforce_ok",
        "{served:?}\n{}",
        nginx.log()
    );
    assert_eq!(served.policy.as_deref(), Some(policy.as_str()));
    assert_eq!(served.max_age, Some(604_800));
    // nginx said text/plain: no warning.
    assert_eq!(served.failure, None);

    let moved = probe("moved").await;
    assert_eq!(moved.outcome.as_str(), "policy_failed");
    let why = moved.failure.unwrap_or_default();
    assert!(
        why.contains("(redirect): HTTP 301 to https://mta-sts.served."),
        "{why}"
    );

    let missing = probe("missing").await;
    assert_eq!(missing.outcome.as_str(), "policy_failed");
    let why = missing.failure.unwrap_or_default();
    assert!(why.contains("(http_status): HTTP 404"), "{why}");

    // The binary, as a user runs it.
    let mut command = Command::new(env!("CARGO_BIN_EXE_starttls-monitor"));
    command
        .args(["probe", "--json", "served.nginx.test"])
        .args(["--dns", &dns.addr.to_string()])
        .args(["--smtp-port", &smtp.port.to_string()])
        .args(["--https-port", &web.port().to_string()])
        .args(["--ca-file", ca_file.to_str().unwrap()])
        .args(["--timeout", "5", "--greeting-timeout", "5"]);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["mta_sts"]["outcome"], "enforce_ok", "{json}");
    assert_eq!(json["mx"][0]["sts_passes"], true);

    // Every virtual host saw only the GET of the well-known path, once per probe, by its name.
    let access = nginx.access_log();
    assert_eq!(access.lines().count(), 4, "{access}");
    assert!(
        access
            .lines()
            .all(|line| line.contains("\"GET /.well-known/mta-sts.txt HTTP/1.1\"")),
        "{access}"
    );
    drop(nginx);
}
