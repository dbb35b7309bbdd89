//! Proves the loopback test harness in `tests/support` works: the DNS server answers like an
//! authoritative server, the PKI makes certificates rustls accepts or rejects as intended, and
//! the fake SMTP servers play their scenarios. It does not exercise the crate itself.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod support;

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use hickory_resolver::{
    Resolver, TokioResolver,
    config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts},
    net::{DnsError, NetError, runtime::TokioRuntimeProvider},
    proto::{
        op::ResponseCode,
        rr::{Name, RData, RecordType},
    },
};
use rustls::{
    ClientConfig, ProtocolVersion,
    pki_types::{CertificateDer, ServerName, pem::PemObject},
};
use support::{
    FAKE_SMTP_HOSTNAME, FakeSmtp, Scenario, SmtpFleet, TestCert, TestDns, TestPki, TlsVersions,
    Validity, soa_header, unique_loopback_ips,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream};

/// Every test finishes well within this, or fails instead of hanging.
const TEST_LIMIT: Duration = Duration::from_secs(5);
const MX_HOST: &str = "mx.example.test";

async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, future)
        .await
        .expect("the test took too long")
}

// ---------------------------------------------------------------- DNS

fn example_zone() -> String {
    soa_header("example.test")
        + "@        IN MX    10 mx1\n\
           @        IN MX    20 mx2.other.test.\n\
           mx1      IN A     127.0.0.5\n\
           mx1      IN AAAA  ::1\n\
           alias    IN CNAME mx1\n\
           textonly IN TXT   \"v=spf1 -all\"\n"
}

fn resolver_for(dns: &TestDns, connections: Vec<ConnectionConfig>) -> TokioResolver {
    let name_server = NameServerConfig::new(dns.addr.ip(), true, connections);
    let mut builder = Resolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![name_server]),
        TokioRuntimeProvider::default(),
    );
    let options: &mut ResolverOpts = builder.options_mut();
    options.timeout = Duration::from_secs(1);
    options.attempts = 1;
    builder.build().expect("building a resolver")
}

/// `ConnectionConfig` is non-exhaustive, so the port is set after construction.
fn with_port(mut connection: ConnectionConfig, port: u16) -> ConnectionConfig {
    connection.port = port;
    connection
}

fn udp_and_tcp(port: u16) -> Vec<ConnectionConfig> {
    vec![
        with_port(ConnectionConfig::udp(), port),
        with_port(ConnectionConfig::tcp(), port),
    ]
}

fn negative_response_code(error: &NetError) -> ResponseCode {
    let NetError::Dns(DnsError::NoRecordsFound(no_records)) = error else {
        panic!("expected a negative answer, got {error}");
    };
    no_records.response_code
}

#[tokio::test]
async fn dns_answers_mx_a_aaaa_cname_and_negative_queries() {
    within(async {
        let zone = example_zone();
        let dns = TestDns::start(&[("example.test", &zone)]).await;
        assert_eq!(dns.addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        let resolver = resolver_for(&dns, udp_and_tcp(dns.addr.port()));

        let mx = resolver.mx_lookup("example.test.").await.expect("MX");
        let mut exchanges: Vec<(u16, String)> = mx
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_string())),
                _ => None,
            })
            .collect();
        exchanges.sort();
        assert_eq!(
            exchanges,
            [
                (10, "mx1.example.test.".to_owned()),
                (20, "mx2.other.test.".to_owned())
            ]
        );

        let a = resolver.ipv4_lookup("mx1.example.test.").await.expect("A");
        let v4: Vec<_> = a
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect();
        assert_eq!(v4, [Ipv4Addr::new(127, 0, 0, 5)]);

        let aaaa = resolver
            .ipv6_lookup("mx1.example.test.")
            .await
            .expect("AAAA");
        let v6: Vec<_> = aaaa
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::AAAA(aaaa) => Some(aaaa.0),
                _ => None,
            })
            .collect();
        assert_eq!(v6, [Ipv6Addr::LOCALHOST]);

        let cname = resolver
            .lookup("alias.example.test.", RecordType::CNAME)
            .await
            .expect("CNAME");
        let targets: Vec<_> = cname
            .answers()
            .iter()
            .filter_map(|record| match &record.data {
                RData::CNAME(target) => Some(target.0.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            targets,
            [Name::from_ascii("mx1.example.test.").expect("name")]
        );

        // An A query on the alias follows the CNAME inside the zone.
        let via_alias = resolver
            .ipv4_lookup("alias.example.test.")
            .await
            .expect("A via CNAME");
        assert!(
            via_alias.answers().iter().any(
                |record| matches!(&record.data, RData::A(a) if a.0 == Ipv4Addr::new(127, 0, 0, 5))
            ),
            "{:?}",
            via_alias.answers()
        );

        let missing = resolver
            .ipv4_lookup("missing.example.test.")
            .await
            .expect_err("a missing name has no records");
        assert_eq!(negative_response_code(&missing), ResponseCode::NXDomain);

        let no_data = resolver
            .ipv4_lookup("textonly.example.test.")
            .await
            .expect_err("a TXT-only name has no A records");
        assert_eq!(negative_response_code(&no_data), ResponseCode::NoError);
    })
    .await;
}

#[tokio::test]
async fn dns_answers_over_tcp_on_the_same_port_and_stops_on_drop() {
    within(async {
        let zone = example_zone();
        let dns = TestDns::start(&[("example.test", &zone)]).await;
        let tcp_only = vec![with_port(ConnectionConfig::tcp(), dns.addr.port())];
        let resolver = resolver_for(&dns, tcp_only);
        let mx = resolver
            .mx_lookup("example.test.")
            .await
            .expect("MX over TCP");
        assert_eq!(mx.answers().len(), 2);

        // Dropping the server closes its listeners (at the runtime's next turn).
        let addr = dns.addr;
        drop(dns);
        while TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn dns_serves_several_zones_and_its_own_resolver_config() {
    within(async {
        let first = example_zone();
        let second = soa_header("other.test.") + "mx2 IN A 127.0.0.6\n";
        let dns = TestDns::start(&[("example.test", &first), ("other.test.", &second)]).await;
        let resolver =
            Resolver::builder_with_config(dns.resolver_config(), TokioRuntimeProvider::default())
                .build()
                .expect("building a resolver");
        let a = resolver.ipv4_lookup("mx2.other.test.").await.expect("A");
        assert_eq!(a.answers().len(), 1);
    })
    .await;
}

#[tokio::test]
#[should_panic(expected = "does not parse")]
async fn dns_panics_clearly_on_a_bad_zone() {
    let zone = soa_header("broken.test") + "www IN A not-an-address\n";
    let _dns = TestDns::start(&[("broken.test", &zone)]).await;
}

// ---------------------------------------------------------------- PKI

#[test]
fn pki_writes_a_parsable_ca_file() {
    let pki = TestPki::new();
    let dir =
        std::env::temp_dir().join(format!("starttls-monitor-selftest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    let path = pki.write_ca_file(&dir);
    assert_eq!(path, dir.join("ca.pem"));
    let from_file = CertificateDer::from_pem_file(&path).expect("ca.pem holds a certificate");
    assert_eq!(from_file, pki.ca_der());
    std::fs::remove_dir_all(&dir).expect("removing the temp dir");

    let leaf = pki.leaf(&["*.mx.test", "mx.test"], Validity::Current);
    assert_eq!(leaf.chain_der.len(), 2);
    assert_eq!(leaf.chain_der[1], pki.ca_der());
    assert_eq!(
        TestPki::self_signed(&[MX_HOST], Validity::Expired)
            .chain_der
            .len(),
        1
    );
}

// ---------------------------------------------------------------- SMTP client helpers

/// A minimal SMTP client side for driving the fake servers.
struct Client<S> {
    stream: S,
    buffered: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    fn new(stream: S) -> Self {
        Client {
            stream,
            buffered: Vec::new(),
        }
    }

    async fn send(&mut self, command: &str) {
        self.stream
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .expect("sending a command");
        self.stream.flush().await.expect("flushing a command");
    }

    /// Reads one reply: lines up to the first `NNN ` line.
    async fn reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines;
            }
        }
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(lf) = self.buffered.iter().position(|byte| *byte == b'\n') {
                let rest = self.buffered.split_off(lf + 1);
                let line = std::mem::replace(&mut self.buffered, rest);
                return String::from_utf8_lossy(&line)
                    .trim_end_matches(['\r', '\n'])
                    .to_owned();
            }
            let mut chunk = [0_u8; 1024];
            let read = self.stream.read(&mut chunk).await.expect("reading a reply");
            assert!(read > 0, "server closed mid-reply: {:?}", self.buffered);
            self.buffered.extend_from_slice(&chunk[..read]);
        }
    }
}

async fn connect(addr: SocketAddr) -> Client<TcpStream> {
    Client::new(TcpStream::connect(addr).await.expect("connecting"))
}

fn client_config(pki: &TestPki) -> Arc<ClientConfig> {
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("TLS 1.2 and 1.3 are supported")
            .with_root_certificates(pki.root_store())
            .with_no_client_auth();
    Arc::new(config)
}

/// Greeting, EHLO, STARTTLS, 220; returns the plaintext stream, ready for a handshake.
async fn plaintext_until_starttls(addr: SocketAddr) -> TcpStream {
    let mut client = connect(addr).await;
    assert!(client.reply().await[0].starts_with("220 "));
    client.send("EHLO probe.example").await;
    let ehlo = client.reply().await;
    assert_eq!(ehlo[0], format!("250-{FAKE_SMTP_HOSTNAME} Hello"));
    assert!(ehlo.iter().any(|line| line == "250-STARTTLS"), "{ehlo:?}");
    client.send("STARTTLS").await;
    assert_eq!(client.reply().await, ["220 2.0.0 Ready to start TLS"]);
    assert!(client.buffered.is_empty(), "bytes after the 220");
    client.stream
}

async fn handshake(
    pki: &TestPki,
    stream: TcpStream,
) -> Result<TlsStream<TcpStream>, std::io::Error> {
    let server_name = ServerName::try_from(MX_HOST).expect("a DNS name");
    TlsConnector::from(client_config(pki))
        .connect(server_name, stream)
        .await
}

fn rustls_error(error: &std::io::Error) -> &rustls::Error {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a rustls error: {error:?}"))
}

async fn single_server(scenario: Scenario) -> SmtpFleet {
    SmtpFleet::start(vec![(unique_loopback_ips(1)[0], scenario)]).await
}

fn good(cert: TestCert, versions: TlsVersions) -> Scenario {
    Scenario::Good { cert, versions }
}

// ---------------------------------------------------------------- SMTP

#[tokio::test]
async fn fleet_shares_one_port_across_loopback_ips() {
    within(async {
        let ips = unique_loopback_ips(2);
        let fleet = SmtpFleet::start(vec![
            (ips[0], Scenario::NoStarttls),
            (ips[1], Scenario::Greeting554),
        ])
        .await;
        assert_eq!(fleet.servers.len(), 2);
        for server in &fleet.servers {
            assert_eq!(server.addr.port(), fleet.port);
        }

        let mut first = connect(SocketAddr::new(ips[0], fleet.port)).await;
        assert!(first.reply().await[0].starts_with("220 "));
        first.send("EHLO probe.example").await;
        let ehlo = first.reply().await;
        assert!(
            !ehlo.iter().any(|line| line.contains("STARTTLS")),
            "{ehlo:?}"
        );
        first.send("STARTTLS").await;
        assert_eq!(first.reply().await, ["502 5.5.1 Command not implemented"]);

        let mut second = connect(SocketAddr::new(ips[1], fleet.port)).await;
        assert_eq!(second.reply().await, ["554 5.7.1 No SMTP service here"]);
        second.send("EHLO probe.example").await;
        assert!(second.reply().await[0].starts_with("503 "));
        second.send("QUIT").await;
        assert_eq!(second.reply().await, ["221 2.0.0 Bye"]);

        assert_eq!(fleet.server(ips[0]).connections.load(Ordering::SeqCst), 1);
        assert_eq!(
            fleet.server(ips[1]).recorded_commands(),
            ["EHLO probe.example", "QUIT"]
        );
    })
    .await;
}

#[tokio::test]
async fn fleet_can_include_ipv6_loopback() {
    within(async {
        let ipv4 = unique_loopback_ips(1)[0];
        let ipv6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let fleet = SmtpFleet::start(vec![
            (ipv4, Scenario::NoStarttls),
            (ipv6, Scenario::Greeting421),
        ])
        .await;
        let mut client = connect(SocketAddr::new(ipv6, fleet.port)).await;
        assert_eq!(
            client.reply().await,
            ["421 4.3.2 Service not available, closing transmission channel"]
        );
    })
    .await;
}

#[tokio::test]
async fn good_scenario_completes_starttls_and_records_commands() {
    within(async {
        let pki = TestPki::new();
        let cert = pki.leaf(&[MX_HOST], Validity::Current);
        let fleet = single_server(good(cert, TlsVersions::Any)).await;
        let server = &fleet.servers[0];

        let stream = plaintext_until_starttls(server.addr).await;
        let tls = handshake(&pki, stream).await.expect("a trusted handshake");
        let mut client = Client::new(tls);
        client.send("EHLO probe.example").await;
        let ehlo = client.reply().await;
        assert_eq!(ehlo[0], format!("250-{FAKE_SMTP_HOSTNAME} Hello"));
        assert!(
            ehlo.iter().any(|line| line == "250-AUTH PLAIN LOGIN"),
            "{ehlo:?}"
        );
        assert!(
            !ehlo.iter().any(|line| line.contains("STARTTLS")),
            "{ehlo:?}"
        );
        client.send("QUIT").await;
        assert_eq!(client.reply().await, ["221 2.0.0 Bye"]);

        assert_eq!(
            server.recorded_commands(),
            [
                "EHLO probe.example",
                "STARTTLS",
                "EHLO probe.example",
                "QUIT"
            ]
        );
        assert_eq!(server.connections.load(Ordering::SeqCst), 1);
        assert_eq!(server.max_concurrent.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn tls_versions_are_enforced() {
    within(async {
        let pki = TestPki::new();
        let cert = pki.leaf(&[MX_HOST], Validity::Current);
        for (versions, expected) in [
            (TlsVersions::Tls12Only, ProtocolVersion::TLSv1_2),
            (TlsVersions::Tls13Only, ProtocolVersion::TLSv1_3),
            (TlsVersions::Any, ProtocolVersion::TLSv1_3),
        ] {
            let fleet = single_server(good(cert.clone(), versions)).await;
            let stream = plaintext_until_starttls(fleet.servers[0].addr).await;
            let tls = handshake(&pki, stream).await.expect("a trusted handshake");
            assert_eq!(tls.get_ref().1.protocol_version(), Some(expected));
        }
    })
    .await;
}

#[tokio::test]
async fn untrusted_certificates_are_rejected_by_rustls() {
    within(async {
        let pki = TestPki::new();
        for cert in [
            pki.leaf(&[MX_HOST], Validity::Expired),
            pki.leaf(&[MX_HOST], Validity::NotYetValid),
            pki.leaf(&["other.example.test"], Validity::Current),
            TestPki::self_signed(&[MX_HOST], Validity::Current),
            TestPki::new().leaf(&[MX_HOST], Validity::Current),
        ] {
            let fleet = single_server(good(cert, TlsVersions::Any)).await;
            let stream = plaintext_until_starttls(fleet.servers[0].addr).await;
            let error = handshake(&pki, stream)
                .await
                .expect_err("an untrusted cert");
            assert!(
                matches!(rustls_error(&error), rustls::Error::InvalidCertificate(_)),
                "{error:?}"
            );
        }

        // A wildcard covers one label.
        let wildcard = pki.leaf(&["*.example.test"], Validity::Current);
        let fleet = single_server(good(wildcard, TlsVersions::Any)).await;
        let stream = plaintext_until_starttls(fleet.servers[0].addr).await;
        handshake(&pki, stream).await.expect("the wildcard matches");
    })
    .await;
}

#[tokio::test]
async fn handshake_failures_reach_the_client() {
    within(async {
        let pki = TestPki::new();

        let fleet = single_server(Scenario::HandshakeAlert).await;
        let stream = plaintext_until_starttls(fleet.servers[0].addr).await;
        let error = handshake(&pki, stream).await.expect_err("an alert");
        assert_eq!(
            rustls_error(&error),
            &rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)
        );

        let fleet = single_server(Scenario::HandshakeGarbage).await;
        let stream = plaintext_until_starttls(fleet.servers[0].addr).await;
        handshake(&pki, stream)
            .await
            .expect_err("garbage instead of a ServerHello");

        let fleet = single_server(Scenario::CloseAfter220).await;
        let mut client = connect(fleet.servers[0].addr).await;
        client.reply().await;
        client.send("STARTTLS").await;
        assert_eq!(client.reply().await, ["220 Go ahead"]);
        handshake(&pki, client.stream)
            .await
            .expect_err("the server closed");
    })
    .await;
}

#[tokio::test]
async fn starttls_refusals_and_injection() {
    within(async {
        let fleet = single_server(Scenario::Starttls454).await;
        let mut client = connect(fleet.servers[0].addr).await;
        client.reply().await;
        client.send("EHLO probe.example").await;
        assert!(client.reply().await.contains(&"250-STARTTLS".to_owned()));
        client.send("STARTTLS").await;
        assert_eq!(
            client.reply().await,
            ["454 4.7.0 TLS not available due to local problem"]
        );
        client.send("NOOP").await;
        assert_eq!(client.reply().await, ["250 2.0.0 OK"]);
        client.send("BOGUS").await;
        assert_eq!(client.reply().await, ["500 5.5.2 Unrecognized"]);

        let pki = TestPki::new();
        let cert = pki.leaf(&[MX_HOST], Validity::Current);
        let fleet = single_server(Scenario::InjectAfter220 { cert }).await;
        let mut client = connect(fleet.servers[0].addr).await;
        client.reply().await;
        client.send("STARTTLS").await;
        assert_eq!(client.reply().await, ["220 Go ahead"]);
        // The injected reply arrives with the 220, before any TLS.
        assert_eq!(client.reply().await, ["250 injected"]);
    })
    .await;
}

#[tokio::test]
async fn server_caps_command_lines() {
    within(async {
        let fleet = single_server(Scenario::NoStarttls).await;
        let mut client = connect(fleet.servers[0].addr).await;
        client.reply().await;
        client.send(&"A".repeat(100_000)).await;
        assert_eq!(client.reply().await, ["500 5.5.2 Line too long"]);
        client.send("QUIT").await;
        assert_eq!(client.reply().await, ["221 2.0.0 Bye"]);
        assert_eq!(fleet.servers[0].recorded_commands(), ["QUIT"]);
    })
    .await;
}

#[tokio::test]
async fn concurrency_is_counted_and_tasks_end_with_the_client() {
    within(async {
        let fleet = single_server(Scenario::SilentGreeting).await;
        let server = &fleet.servers[0];
        let mut clients = Vec::new();
        for _ in 0..3 {
            clients.push(TcpStream::connect(server.addr).await.expect("connecting"));
        }
        while server.open_connections() < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(clients);
        while server.open_connections() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(server.connections.load(Ordering::SeqCst), 3);
        assert_eq!(server.max_concurrent.load(Ordering::SeqCst), 3);
    })
    .await;
}

#[tokio::test]
async fn stalling_scenarios_send_what_they_promise() {
    within(async {
        let fleet = single_server(Scenario::LongLine).await;
        let mut stream = TcpStream::connect(fleet.servers[0].addr)
            .await
            .expect("connecting");
        let mut received = vec![0_u8; 1024 * 1024];
        stream.read_exact(&mut received).await.expect("1 MiB");
        assert!(received.starts_with(b"220 x"));
        assert!(!received.contains(&b'\n'));

        let fleet = single_server(Scenario::EndlessReply).await;
        let mut client = connect(fleet.servers[0].addr).await;
        for _ in 0..10_000 {
            assert!(client.line().await.starts_with("220-"));
        }

        let fleet = single_server(Scenario::Garbage).await;
        let mut stream = TcpStream::connect(fleet.servers[0].addr)
            .await
            .expect("connecting");
        let mut received = vec![0_u8; 4096];
        stream.read_exact(&mut received).await.expect("4 KiB");
        assert!(!received.contains(&b'\n') && !received.starts_with(b"220"));

        let fleet = single_server(Scenario::DripGreeting).await;
        let mut stream = TcpStream::connect(fleet.servers[0].addr)
            .await
            .expect("connecting");
        let mut first = [0_u8; 8];
        let read = stream.read(&mut first).await.expect("the first byte");
        assert_eq!(&first[..read], b"2");
    })
    .await;
}

#[tokio::test]
async fn slow_greeting_waits_before_greeting() {
    within(async {
        let pki = TestPki::new();
        let delay = Duration::from_millis(300);
        let cert = pki.leaf(&[MX_HOST], Validity::Current);
        let fleet = single_server(Scenario::SlowGreeting { delay, cert }).await;
        let started = tokio::time::Instant::now();
        let stream = plaintext_until_starttls(fleet.servers[0].addr).await;
        assert!(started.elapsed() >= delay);
        handshake(&pki, stream).await.expect("a trusted handshake");
    })
    .await;
}

#[tokio::test]
async fn dropping_a_server_closes_its_port() {
    within(async {
        let ip = unique_loopback_ips(1)[0];
        let server = FakeSmtp::start(SocketAddr::new(ip, 0), Scenario::NoStarttls)
            .await
            .expect("binding");
        let addr = server.addr;
        let mut client = connect(addr).await;
        client.reply().await;
        drop(server);
        // The abort lands at the runtime's next turn; the open connection ends with it.
        let mut rest = Vec::new();
        client
            .stream
            .read_to_end(&mut rest)
            .await
            .expect("the connection ends");
        while TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[test]
fn unique_loopback_ips_never_repeat() {
    let mut ips = unique_loopback_ips(300);
    ips.extend(unique_loopback_ips(300));
    let distinct: std::collections::HashSet<_> = ips.iter().collect();
    assert_eq!(distinct.len(), ips.len());
    assert!(ips.iter().all(IpAddr::is_loopback));
}

#[test]
fn harness_types_can_move_between_tasks() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<TestDns>();
    assert_send_sync::<TestPki>();
    assert_send_sync::<TestCert>();
    assert_send_sync::<Scenario>();
    assert_send_sync::<FakeSmtp>();
    assert_send_sync::<SmtpFleet>();
}
