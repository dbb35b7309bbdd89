//! In-process HTTPS servers for MTA-STS policy hosts (tokio + rustls, rcgen certificates),
//! listening only on loopback addresses.
//!
//! Each server answers every connection with one scripted [`PolicyReply`] (which a test may
//! change between scans) and records what the client sent: the request line and headers, or
//! nothing when the client gave up after the handshake. Servers share one port on different
//! 127.x addresses, because the probe uses one HTTPS port for every policy host. Must not touch
//! anything outside the test process.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::pki::TestCert;

/// How many times to look for a port free on every address of a fleet.
const FLEET_BIND_ATTEMPTS: usize = 20;
/// Most request-head bytes read.
const MAX_HEAD: usize = 16 * 1024;

/// What a policy server answers.
#[derive(Clone, Debug)]
pub enum PolicyReply {
    /// `200 OK` with this body, and this `Content-Type` (none when `None`).
    Policy {
        body: String,
        content_type: Option<String>,
    },
    /// `301 Moved Permanently` to `location`.
    Redirect { location: String },
    /// This status, with a short text body.
    Status(u16),
    /// No TLS at all: the server answers the ClientHello with a plain-HTTP error and closes
    /// (an HTTPS port served by a plain HTTP server).
    NotTls,
    /// `200 OK`, `text/plain`, a body of `bytes` bytes that starts like a policy (sent in
    /// chunks, with no Content-Length, so only counting stops it).
    Oversized { bytes: usize },
}

impl PolicyReply {
    /// A `text/plain` policy.
    pub fn policy(body: &str) -> PolicyReply {
        PolicyReply::Policy {
            body: body.to_string(),
            content_type: Some("text/plain".to_string()),
        }
    }

    fn response(&self) -> Vec<u8> {
        let head = |status: &str, headers: &str, length: usize| {
            format!(
                "HTTP/1.1 {status}\r\n{headers}Content-Length: {length}\r\nConnection: close\r\n\r\n"
            )
        };
        match self {
            PolicyReply::Policy { body, content_type } => {
                let headers = content_type
                    .as_ref()
                    .map(|value| format!("Content-Type: {value}\r\n"))
                    .unwrap_or_default();
                let mut bytes = head("200 OK", &headers, body.len()).into_bytes();
                bytes.extend_from_slice(body.as_bytes());
                bytes
            }
            PolicyReply::Redirect { location } => {
                let body = "moved";
                let mut bytes = head(
                    "301 Moved Permanently",
                    &format!("Location: {location}\r\nContent-Type: text/plain\r\n"),
                    body.len(),
                )
                .into_bytes();
                bytes.extend_from_slice(body.as_bytes());
                bytes
            }
            PolicyReply::Status(code) => {
                let body = format!("status {code}");
                let mut bytes = head(
                    &format!("{code} Scripted"),
                    "Content-Type: text/plain\r\n",
                    body.len(),
                )
                .into_bytes();
                bytes.extend_from_slice(body.as_bytes());
                bytes
            }
            PolicyReply::NotTls => {
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec()
            }
            PolicyReply::Oversized { bytes: size } => {
                let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
                let mut body = "version: STSv1\nmode: enforce\nmax_age: 86400\n".to_string();
                while body.len() < *size {
                    body.push_str("mx: padding.example.org\n");
                }
                for chunk in body.as_bytes().chunks(4096) {
                    bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    bytes.extend_from_slice(chunk);
                    bytes.extend_from_slice(b"\r\n");
                }
                bytes.extend_from_slice(b"0\r\n\r\n");
                bytes
            }
        }
    }
}

/// One policy host: a TLS server with one certificate and a changeable reply.
pub struct PolicyServer {
    pub addr: SocketAddr,
    reply: Arc<Mutex<PolicyReply>>,
    requests: Arc<Mutex<Vec<String>>>,
    handshakes: Arc<Mutex<usize>>,
    delay: Arc<Mutex<Duration>>,
    open: Arc<AtomicUsize>,
    most_open: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

/// Counts a connection closed when dropped.
struct OpenConnection(Arc<AtomicUsize>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Drop for PolicyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PolicyServer {
    /// Starts a server on `addr` presenting `cert` and answering `reply`.
    pub async fn start(addr: SocketAddr, cert: &TestCert, reply: PolicyReply) -> io::Result<Self> {
        assert!(addr.ip().is_loopback(), "{addr} is not a loopback address");
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(io::Error::other)?
                .with_no_client_auth()
                .with_single_cert(cert.chain_der.clone(), cert.key_der.clone_key())
                .map_err(io::Error::other)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let reply = Arc::new(Mutex::new(reply));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handshakes = Arc::new(Mutex::new(0));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let open = Arc::new(AtomicUsize::new(0));
        let most_open = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (reply, requests, handshakes, delay, open, most_open) = (
                reply.clone(),
                requests.clone(),
                handshakes.clone(),
                delay.clone(),
                open.clone(),
                most_open.clone(),
            );
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
                    most_open.fetch_max(now_open, Ordering::SeqCst);
                    let counted = OpenConnection(open.clone());
                    let acceptor = acceptor.clone();
                    let (reply, requests, handshakes, delay) = (
                        reply.clone(),
                        requests.clone(),
                        handshakes.clone(),
                        delay.clone(),
                    );
                    tokio::spawn(async move {
                        let _counted = counted;
                        let mut stream = stream;
                        let not_tls = matches!(*reply.lock().unwrap(), PolicyReply::NotTls);
                        if not_tls {
                            let mut hello = [0u8; 512];
                            let _ = stream.read(&mut hello).await;
                            let response = reply.lock().unwrap().response();
                            let _ = stream.write_all(&response).await;
                            let _ = stream.shutdown().await;
                            return;
                        }
                        let accepting =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream));
                        let Ok(Ok(mut tls)) = accepting.await else {
                            return;
                        };
                        *handshakes.lock().unwrap() += 1;
                        let mut head = Vec::new();
                        let mut buffer = [0u8; 2048];
                        while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                            let read = tokio::time::timeout(
                                Duration::from_secs(10),
                                tls.read(&mut buffer),
                            )
                            .await;
                            match read {
                                Ok(Ok(count)) if count > 0 => {
                                    head.extend_from_slice(&buffer[..count]);
                                }
                                _ => return,
                            }
                            if head.len() > MAX_HEAD {
                                return;
                            }
                        }
                        requests
                            .lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&head).into_owned());
                        let wait = *delay.lock().unwrap();
                        tokio::time::sleep(wait).await;
                        let response = reply.lock().unwrap().response();
                        // The client may stop reading (a body over its limit).
                        let _ = tls.write_all(&response).await;
                        let _ = tls.shutdown().await;
                    });
                }
            }
        });
        Ok(PolicyServer {
            addr,
            reply,
            requests,
            handshakes,
            delay,
            open,
            most_open,
            task,
        })
    }

    /// Answers `reply` from now on.
    pub fn set_reply(&self, reply: PolicyReply) {
        *self.reply.lock().unwrap() = reply;
    }

    /// Waits `delay` before each response from now on.
    pub fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// The most connections that were open at once.
    pub fn most_open(&self) -> usize {
        self.most_open.load(Ordering::SeqCst)
    }

    /// The request heads received so far (request line and headers, CRLF separated).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> usize {
        *self.handshakes.lock().unwrap()
    }
}

/// Several policy servers sharing one port on different loopback addresses.
pub struct PolicyFleet {
    pub port: u16,
    pub servers: Vec<PolicyServer>,
}

impl PolicyFleet {
    /// Starts one server per `(ip, cert, reply)`, all on one port free on every IP (the first
    /// binds port 0, the rest that port; a clash starts over, up to 20 times).
    pub async fn start(servers: Vec<(IpAddr, TestCert, PolicyReply)>) -> PolicyFleet {
        let mut seen = HashSet::new();
        for (ip, _, _) in &servers {
            assert!(seen.insert(*ip), "PolicyFleet: {ip} is listed twice");
        }
        let Some(((first_ip, first_cert, first_reply), others)) = servers.split_first() else {
            panic!("a PolicyFleet needs at least one server");
        };
        'attempt: for _ in 0..FLEET_BIND_ATTEMPTS {
            let first = PolicyServer::start(
                SocketAddr::new(*first_ip, 0),
                first_cert,
                first_reply.clone(),
            )
            .await
            .unwrap_or_else(|error| panic!("policy server on {first_ip}: {error}"));
            let port = first.addr.port();
            let mut started = vec![first];
            for (ip, cert, reply) in others {
                let addr = SocketAddr::new(*ip, port);
                match PolicyServer::start(addr, cert, reply.clone()).await {
                    Ok(server) => started.push(server),
                    Err(error) if error.kind() == io::ErrorKind::AddrInUse => continue 'attempt,
                    Err(error) => panic!("policy server on {addr}: {error}"),
                }
            }
            return PolicyFleet {
                port,
                servers: started,
            };
        }
        panic!("PolicyFleet: no port free on all addresses after {FLEET_BIND_ATTEMPTS} attempts");
    }

    /// The server on `ip`.
    pub fn server(&self, ip: IpAddr) -> &PolicyServer {
        self.servers
            .iter()
            .find(|server| server.addr.ip() == ip)
            .unwrap_or_else(|| panic!("PolicyFleet has no server on {ip}"))
    }
}
