//! An in-process HTTPS webhook receiver (tokio + rustls, a certificate from the test CA),
//! listening only on a loopback address and port 0.
//!
//! It reads each whole request (head and a `Content-Length` body), records it, and answers
//! from a script: one [`HookReply`] per request in turn, the last one repeated. A reply may
//! stall (answer after a delay, or never), so a test sees retries and timeouts. Must not touch
//! anything outside the test process.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::pki::TestCert;

/// Most request bytes read.
const MAX_REQUEST: usize = 1024 * 1024;

/// How the receiver answers one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookReply {
    /// This status at once.
    Status(u16),
    /// This status after the delay.
    Late(u16, Duration),
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct HookRequest {
    /// The request line, e.g. `POST /in?x=1 HTTP/1.1`.
    pub line: String,
    /// Header names lower-cased, values trimmed, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HookRequest {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The receiver.
pub struct HookServer {
    pub addr: SocketAddr,
    script: Arc<Mutex<Vec<HookReply>>>,
    requests: Arc<Mutex<Vec<HookRequest>>>,
    task: JoinHandle<()>,
}

impl Drop for HookServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn parse(raw: &[u8]) -> Option<(HookRequest, usize)> {
    let end = raw.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    Some((
        HookRequest {
            line,
            headers,
            body: Vec::new(),
        },
        end + 4 + length,
    ))
}

impl HookServer {
    /// Starts a receiver on `ip` (loopback), port 0, presenting `cert`, answering `script`.
    pub async fn start(ip: IpAddr, cert: &TestCert, script: Vec<HookReply>) -> io::Result<Self> {
        assert!(ip.is_loopback(), "{ip} is not a loopback address");
        assert!(!script.is_empty(), "a HookServer needs a reply");
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(io::Error::other)?
                .with_no_client_auth()
                .with_single_cert(cert.chain_der.clone(), cert.key_der.clone_key())
                .map_err(io::Error::other)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind(SocketAddr::new(ip, 0)).await?;
        let addr = listener.local_addr()?;
        let script = Arc::new(Mutex::new(script));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let (script, requests) = (script.clone(), requests.clone());
            async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let (acceptor, script, requests) =
                        (acceptor.clone(), script.clone(), requests.clone());
                    tokio::spawn(async move {
                        let Ok(Ok(mut tls)) =
                            tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                                .await
                        else {
                            return;
                        };
                        let mut raw = Vec::new();
                        let mut buffer = [0u8; 4096];
                        let (mut request, total) = loop {
                            if let Some((request, total)) = parse(&raw)
                                && raw.len() >= total
                            {
                                break (request, total);
                            }
                            let read = tokio::time::timeout(
                                Duration::from_secs(10),
                                tls.read(&mut buffer),
                            )
                            .await;
                            match read {
                                Ok(Ok(count)) if count > 0 => {
                                    raw.extend_from_slice(&buffer[..count])
                                }
                                _ => return,
                            }
                            if raw.len() > MAX_REQUEST {
                                return;
                            }
                        };
                        let head_end = total - request_body_len(&raw, total);
                        request.body = raw[head_end..total].to_vec();
                        let reply = {
                            let mut requests = requests.lock().unwrap();
                            requests.push(request);
                            let script = script.lock().unwrap();
                            script[(requests.len() - 1).min(script.len() - 1)]
                        };
                        let status = match reply {
                            HookReply::Status(status) => status,
                            HookReply::Late(status, delay) => {
                                tokio::time::sleep(delay).await;
                                status
                            }
                        };
                        let body = format!("scripted {status}");
                        let response = format!(
                            "HTTP/1.1 {status} Scripted\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = tls.write_all(response.as_bytes()).await;
                        let _ = tls.shutdown().await;
                    });
                }
            }
        });
        Ok(HookServer {
            addr,
            script,
            requests,
            task,
        })
    }

    /// Answers `script` from the next request on (counted from the first request ever).
    pub fn set_script(&self, script: Vec<HookReply>) {
        *self.script.lock().unwrap() = script;
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<HookRequest> {
        self.requests.lock().unwrap().clone()
    }
}

/// The body length of the request that ends at `total` bytes of `raw`.
fn request_body_len(raw: &[u8], total: usize) -> usize {
    let end = raw
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map_or(total, |end| end + 4);
    total - end
}
