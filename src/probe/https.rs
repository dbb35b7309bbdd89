//! A small HTTPS/1.1 client: one request per connection, to a host name, with our resolver and
//! our trust anchors.
//!
//! Owns: resolving the host (the probe's resolver), the TCP connect (each address in turn, within
//! the connect timeout), the TLS handshake (tokio-rustls, SNI = the host name), the certificate
//! verdict — the same WebPKI check and the same [`TlsSetup`] roots (Mozilla roots plus
//! `--ca-file`) as the SMTP probe's strict validation, judged **before any byte of the request is
//! sent** —, one HTTP/1.1 exchange (hyper's client connection, no pool, no redirects followed:
//! a 3xx is handed back as it is), a cap on the body read, and one deadline over all of it.
//! Polite like the SMTP probe: at most one of its connections at a time goes to any IP address
//! (many domains' `mta-sts` names point at one provider's host).
//! Used for the MTA-STS policy fetch ([`super::sts`]); small and general so that webhooks can
//! use it too. Must not touch: what a response means (status rules, content types, policy
//! parsing belong to the caller), SMTP, storage.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use time::OffsetDateTime;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::dns::Dns;
use super::tls::TlsSetup;
use crate::model::{CertDetails, CertError};

/// The request method. The client only ever sends these two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One request: where, what, and how much of the answer to read.
#[derive(Clone, Debug)]
pub struct HttpsRequest {
    pub method: Method,
    /// The host name: resolved, sent as SNI and `Host`, and the name the certificate must be
    /// valid for.
    pub host: String,
    /// The TCP port (443 outside tests).
    pub port: u16,
    /// The path and query, starting with `/`.
    pub path: String,
    /// For POST: the content type and the body.
    pub body: Option<(String, Vec<u8>)>,
    /// More request headers (name, value), e.g. a webhook's signature.
    pub headers: Vec<(String, String)>,
    /// Most body bytes read; a longer body is cut there and flagged
    /// ([`HttpsResponse::too_large`]).
    pub body_limit: usize,
}

/// A response, as received: no redirect followed, no status judged.
#[derive(Clone, Debug)]
pub struct HttpsResponse {
    pub status: u16,
    /// The `Content-Type` header as sent (null without one, or when it is not text).
    pub content_type: Option<String>,
    /// The `Location` header as sent (for a redirect).
    pub location: Option<String>,
    /// The body, at most `body_limit` bytes.
    pub body: Vec<u8>,
    /// The server sent (or announced) more than `body_limit` bytes; reading stopped there.
    pub too_large: bool,
    /// The server's certificate (leaf), which passed WebPKI for the host name.
    pub certificate: Option<CertDetails>,
}

/// Why a request got no response. `kind()` names the stage for people and tests.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HttpsError {
    /// The host name has no usable address (the DNS error, in words).
    #[error("{host} has no address ({why})")]
    Resolve { host: String, why: String },
    /// No address accepted a TCP connection.
    #[error("could not connect to {host} port {port}: {why}")]
    Connect {
        host: String,
        port: u16,
        why: String,
    },
    /// The deadline passed; `stage` says during what.
    #[error("timed out after {} s while {stage}", .limit.as_secs_f64())]
    Timeout {
        stage: &'static str,
        limit: Duration,
    },
    /// The TLS handshake failed.
    #[error("TLS handshake with {host} failed: {why}")]
    Tls { host: String, why: String },
    /// The certificate is not WebPKI-valid for the host name; nothing was sent.
    #[error("the certificate of {host} is not valid: {}", describe_cert_errors(.errors))]
    Certificate {
        host: String,
        errors: Vec<CertError>,
    },
    /// The HTTP exchange failed (the server closed, sent something that is not HTTP/1.1 ...).
    #[error("HTTP exchange with {host} failed: {why}")]
    Http { host: String, why: String },
}

impl HttpsError {
    /// The stage that failed: `connect` (resolving or connecting), `timeout`, `tls`,
    /// `tls_certificate` or `http`.
    pub fn kind(&self) -> &'static str {
        match self {
            HttpsError::Resolve { .. } | HttpsError::Connect { .. } => "connect",
            HttpsError::Timeout { .. } => "timeout",
            HttpsError::Tls { .. } => "tls",
            HttpsError::Certificate { .. } => "tls_certificate",
            HttpsError::Http { .. } => "http",
        }
    }
}

/// How one address's attempt ended without a response.
enum Attempt {
    /// No TCP connection (refused, unreachable, no answer): the next address is tried.
    NotConnected(String),
    /// Connected, then failed: so does the request.
    Failed(HttpsError),
}

impl From<HttpsError> for Attempt {
    fn from(error: HttpsError) -> Self {
        Attempt::Failed(error)
    }
}

fn describe_cert_errors(errors: &[CertError]) -> String {
    let names: Vec<&str> = errors.iter().map(|error| error.as_str()).collect();
    names.join(", ")
}

/// Makes HTTPS requests with the probe's resolver, trust anchors and timeouts. Cheap to clone.
#[derive(Clone)]
pub struct HttpsClient {
    dns: Dns,
    tls: TlsSetup,
    connect_timeout: Duration,
    deadline: Duration,
    max_addresses: usize,
    /// One lock per IP address, shared by the clones: one connection at a time to each.
    ip_locks: Arc<Mutex<HashMap<IpAddr, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Held while a connection to an IP address is open.
type IpTurn = tokio::sync::OwnedMutexGuard<()>;

impl HttpsClient {
    /// A client resolving with `dns`, trusting what `tls` trusts; each connection attempt waits
    /// at most `connect_timeout`, a whole request at most `deadline`, and at most
    /// `max_addresses` addresses of a host are tried.
    pub fn new(
        dns: Dns,
        tls: TlsSetup,
        connect_timeout: Duration,
        deadline: Duration,
        max_addresses: usize,
    ) -> Self {
        Self {
            dns,
            tls,
            connect_timeout,
            deadline,
            max_addresses,
            ip_locks: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// This client (same resolver, roots, connect timeout and per-IP turns) with another
    /// deadline for a whole request: webhooks wait longer than a policy fetch.
    pub fn with_deadline(&self, deadline: Duration) -> Self {
        Self {
            deadline,
            ..self.clone()
        }
    }

    /// Sends one request and reads the response (its body up to the limit).
    ///
    /// The host's addresses are tried in turn: for each, the client waits for its turn at that
    /// IP (one connection of ours at a time), then connects within the connect timeout; the
    /// first that accepts carries the exchange, which — connect, TLS, request, body — must end
    /// within the deadline. Waiting for the turn is not counted: a busy shared host does not
    /// make a policy time out.
    pub async fn send(&self, request: &HttpsRequest) -> Result<HttpsResponse, HttpsError> {
        let host = request.host.trim_end_matches('.').to_ascii_lowercase();
        let resolved = self.dns.addresses(&host, self.max_addresses).await;
        if resolved.addresses.is_empty() {
            return Err(HttpsError::Resolve {
                host,
                why: resolved
                    .error
                    .map_or("no address", |error| error.as_str())
                    .to_string(),
            });
        }
        let mut failures = Vec::new();
        for ip in resolved.addresses {
            let _turn = self.turn_at(ip).await;
            let stage = Arc::new(Mutex::new("connecting"));
            let exchange = self.exchange(request, &host, ip, stage.clone());
            match tokio::time::timeout(self.deadline, exchange).await {
                Ok(Err(Attempt::NotConnected(why))) => failures.push(why),
                Ok(Err(Attempt::Failed(error))) => return Err(error),
                Ok(Ok(response)) => return Ok(response),
                Err(_) => {
                    return Err(HttpsError::Timeout {
                        stage: stage.lock().map(|stage| *stage).unwrap_or("fetching"),
                        limit: self.deadline,
                    });
                }
            }
        }
        Err(HttpsError::Connect {
            host,
            port: request.port,
            why: failures.join("; "),
        })
    }

    /// One exchange with the server at `ip`.
    async fn exchange(
        &self,
        request: &HttpsRequest,
        host: &str,
        ip: IpAddr,
        stage: Arc<Mutex<&'static str>>,
    ) -> Result<HttpsResponse, Attempt> {
        let set_stage = |now: &'static str| {
            if let Ok(mut stage) = stage.lock() {
                *stage = now;
            }
        };
        let host = host.to_string();
        let address = SocketAddr::new(ip, request.port);
        let tcp =
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => return Err(Attempt::NotConnected(format!("{ip}: {error}"))),
                Err(_) => {
                    return Err(Attempt::NotConnected(format!(
                        "{ip}: no answer within {} s",
                        self.connect_timeout.as_secs_f64()
                    )));
                }
            };
        // One request, written at once: never wait for a delayed ACK.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY on {address}: {error}");
        }

        set_stage("in the TLS handshake");
        let (config, slot) = self.tls.client_config().map_err(|error| HttpsError::Tls {
            host: host.clone(),
            why: error.to_string(),
        })?;
        let server_name = ServerName::try_from(host.clone()).map_err(|error| HttpsError::Tls {
            host: host.clone(),
            why: format!("not a TLS server name: {error}"),
        })?;
        let handshake = TlsConnector::from(config).connect(server_name, tcp).await;
        // Judge the certificate first, whatever the handshake did, so a bad certificate is
        // named as such (the recording verifier lets the handshake finish).
        let recorded = slot.take();
        let tls_stream = handshake.map_err(|error| HttpsError::Tls {
            host: host.clone(),
            why: error.to_string(),
        })?;
        let Some(recorded) = recorded else {
            return Err(Attempt::Failed(HttpsError::Tls {
                host,
                why: "the server sent no certificate".to_string(),
            }));
        };
        let assessment = self.tls.assess(&recorded, &host, OffsetDateTime::now_utc());
        if !assessment.strict_valid {
            return Err(Attempt::Failed(HttpsError::Certificate {
                host,
                errors: assessment.errors,
            }));
        }

        set_stage("waiting for the response");
        let http_error = |why: String| HttpsError::Http {
            host: host.clone(),
            why,
        };
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(tls_stream))
                .await
                .map_err(|error| http_error(error.to_string()))?;
        // The connection is driven beside the exchange and dropped with it.
        let driver = tokio::spawn(connection);
        let _abort_driver = AbortOnDrop(driver);
        let http_request = build_request(request, &host).map_err(http_error)?;
        let response = sender
            .send_request(http_request)
            .await
            .map_err(|error| http_error(error.to_string()))?;
        let status = response.status().as_u16();
        let header_text = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header_text(header::CONTENT_TYPE);
        let location = header_text(header::LOCATION);
        let announced = header_text(header::CONTENT_LENGTH)
            .and_then(|length| length.trim().parse::<u64>().ok());
        let limit = request.body_limit;
        if announced.is_some_and(|length| length > limit as u64) {
            return Ok(HttpsResponse {
                status,
                content_type,
                location,
                body: Vec::new(),
                too_large: true,
                certificate: assessment.details,
            });
        }
        set_stage("reading the body");
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        let mut too_large = false;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| http_error(error.to_string()))?;
            if let Ok(data) = frame.into_data() {
                let room = limit - bytes.len();
                if data.len() > room {
                    bytes.extend_from_slice(&data[..room]);
                    too_large = true;
                    break;
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(HttpsResponse {
            status,
            content_type,
            location,
            body: bytes,
            too_large,
            certificate: assessment.details,
        })
    }

    /// Waits for this client's turn at `ip` (no other connection of ours open to it).
    async fn turn_at(&self, ip: IpAddr) -> Option<IpTurn> {
        let lock = {
            let mut locks = self.ip_locks.lock().ok()?;
            if locks.len() > 4096 {
                // Forget locks nobody holds or waits for, so the table stays small.
                locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            locks.entry(ip).or_default().clone()
        };
        Some(lock.lock_owned().await)
    }
}

/// The HTTP request for `request`: the path, `Host` (with the port when it is not 443), our
/// user agent, `Connection: close`, and for POST the body with its type.
fn build_request(
    request: &HttpsRequest,
    host: &str,
) -> Result<hyper::Request<Full<Bytes>>, String> {
    let authority = if request.port == 443 {
        host.to_string()
    } else {
        format!("{host}:{}", request.port)
    };
    let builder = hyper::Request::builder()
        .method(match request.method {
            Method::Get => hyper::Method::GET,
            Method::Post => hyper::Method::POST,
        })
        .uri(request.path.as_str())
        .header(header::HOST, authority)
        .header(
            header::USER_AGENT,
            concat!("starttls-monitor/", env!("CARGO_PKG_VERSION")),
        )
        .header(header::CONNECTION, "close");
    let builder = request
        .headers
        .iter()
        .fold(builder, |builder, (name, value)| {
            builder.header(name.as_str(), value.as_str())
        });
    let built = match &request.body {
        Some((content_type, body)) => builder
            .header(header::CONTENT_TYPE, content_type.as_str())
            .body(Full::new(Bytes::from(body.clone()))),
        None => builder.body(Full::new(Bytes::new())),
    };
    built.map_err(|error| format!("request for {}: {error}", request.path))
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_the_host_and_port_and_ask_to_close() {
        let mut request = HttpsRequest {
            method: Method::Get,
            host: "mta-sts.example.org".into(),
            port: 443,
            path: "/.well-known/mta-sts.txt".into(),
            body: None,
            headers: Vec::new(),
            body_limit: 10,
        };
        let built = build_request(&request, "mta-sts.example.org").unwrap();
        assert_eq!(built.method(), hyper::Method::GET);
        assert_eq!(built.uri(), "/.well-known/mta-sts.txt");
        assert_eq!(built.headers()[header::HOST], "mta-sts.example.org");
        assert_eq!(built.headers()[header::CONNECTION], "close");
        request.port = 8443;
        request.method = Method::Post;
        request.body = Some(("application/json".into(), b"{}".to_vec()));
        request.headers = vec![("X-Signature".into(), "sha256=00".into())];
        let built = build_request(&request, "mta-sts.example.org").unwrap();
        assert_eq!(built.headers()["x-signature"], "sha256=00");
        assert_eq!(built.method(), hyper::Method::POST);
        assert_eq!(built.headers()[header::HOST], "mta-sts.example.org:8443");
        assert_eq!(built.headers()[header::CONTENT_TYPE], "application/json");
        request.path = "no slash and spaces".into();
        assert!(build_request(&request, "mta-sts.example.org").is_err());
    }

    #[test]
    fn errors_name_their_stage() {
        let certificate = HttpsError::Certificate {
            host: "mta-sts.example.org".into(),
            errors: vec![CertError::Expired, CertError::NameMismatch],
        };
        assert_eq!(certificate.kind(), "tls_certificate");
        assert_eq!(
            certificate.to_string(),
            "the certificate of mta-sts.example.org is not valid: expired, name_mismatch"
        );
        let timeout = HttpsError::Timeout {
            stage: "reading the body",
            limit: Duration::from_millis(1500),
        };
        assert_eq!(timeout.kind(), "timeout");
        assert_eq!(
            timeout.to_string(),
            "timed out after 1.5 s while reading the body"
        );
        let resolve = HttpsError::Resolve {
            host: "mta-sts.example.org".into(),
            why: "nxdomain".into(),
        };
        assert_eq!(resolve.kind(), "connect");
    }
}
