//! An authoritative, in-process DNS server for tests (hickory-server), listening on
//! 127.0.0.1 with UDP and TCP on the same port.
//!
//! It serves only the zones a test hands it: names under a zone that do not exist answer
//! NXDOMAIN, names that exist with other types answer NOERROR with no data, and names outside
//! every zone answer REFUSED. It never forwards or recurses.
//!
//! [`FailingDns`] is a server that answers every query with one error code (REFUSED, as an
//! authoritative-only server does for other names; SERVFAIL, as a resolver without upstream).
//! [`TxtFailingDns`] serves zones like [`TestDns`] but answers every TXT query with one error
//! code (policy-record lookups failing while the rest of DNS works).

use std::{
    future::Future,
    io,
    net::{Ipv4Addr, SocketAddr},
    pin::Pin,
    str::FromStr,
    sync::Arc,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_server::{
    Server,
    net::runtime::Time,
    proto::{
        op::{Header, HeaderCounts, MessageType, Metadata, ResponseCode},
        rr::{LowerName, Name, RecordType},
        serialize::txt::Parser,
    },
    server::{Request, RequestHandler, ResponseHandler, ResponseInfo},
    store::in_memory::InMemoryZoneHandler,
    zone_handler::{AxfrPolicy, Catalog, MessageResponseBuilder, ZoneType},
};
use tokio::net::{TcpListener, UdpSocket};

/// How long the TCP side waits for a query on an idle connection before closing it.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Responses queued per TCP connection (the value hickory's own tests use).
const TCP_RESPONSE_BUFFER: usize = 32;
/// How many times to look for a port that is free for both UDP and TCP.
const BIND_ATTEMPTS: usize = 20;

/// A running test DNS server. Dropping it stops the server and all its tasks.
pub struct TestDns {
    /// The address (127.0.0.1:port) answering on both UDP and TCP.
    pub addr: SocketAddr,
    /// Owns the server's tasks; dropping the server's `JoinSet` aborts them.
    server: Server<Catalog>,
}

impl TestDns {
    /// Starts an authoritative DNS server on 127.0.0.1:<free port> (same port for UDP and TCP)
    /// serving each `(origin, zone_text)` pair.
    ///
    /// `zone_text` is RFC 1035 master-file text; it must contain an SOA for the origin, and
    /// relative names are relative to `origin`. [`soa_header`] writes a suitable preamble.
    /// Panics with the zone's origin and the parser's message when a zone is malformed.
    pub async fn start(zones: &[(&str, &str)]) -> TestDns {
        let handlers = zones
            .iter()
            .map(|(origin, zone_text)| parse_zone(origin, zone_text))
            .collect();
        Self::start_handlers(handlers).await
    }

    /// Starts the server (as [`TestDns::start`]) with zone handlers built by the caller, e.g.
    /// signed ones from [`super::signed_zone`].
    pub async fn start_handlers(zones: Vec<(Name, InMemoryZoneHandler)>) -> TestDns {
        let mut catalog = Catalog::new();
        for (origin_name, zone_handler) in zones {
            catalog.upsert(LowerName::from(origin_name), vec![Arc::new(zone_handler)]);
        }
        Self::serve(catalog).await
    }

    /// Starts a server for `parents` and for `children` delegated from them (the parent zone
    /// holds the NS records), answering a DS query for a child's apex from its parent, as the
    /// real DNS does (one server holding both would otherwise answer it from the child, and a
    /// validating resolver could never prove an unsigned child insecure).
    pub async fn start_delegating(
        parents: Vec<(Name, InMemoryZoneHandler)>,
        children: Vec<(Name, InMemoryZoneHandler)>,
    ) -> DelegatingDns {
        let mut all = Catalog::new();
        let mut parent_catalog = Catalog::new();
        let mut child_origins = Vec::new();
        for (origin_name, zone_handler) in parents {
            let handler = Arc::new(zone_handler);
            all.upsert(LowerName::from(origin_name.clone()), vec![handler.clone()]);
            parent_catalog.upsert(LowerName::from(origin_name), vec![handler]);
        }
        for (origin_name, zone_handler) in children {
            child_origins.push(LowerName::from(origin_name.clone()));
            all.upsert(LowerName::from(origin_name), vec![Arc::new(zone_handler)]);
        }
        let (udp_socket, tcp_listener) = bind_udp_and_tcp_on_one_port().await;
        let addr = udp_socket
            .local_addr()
            .expect("a bound UDP socket has a local address");
        let queries = Arc::new(AtomicUsize::new(0));
        let mut server = Server::new(DsToParent {
            all,
            parents: parent_catalog,
            child_origins,
            queries: queries.clone(),
        });
        server.register_socket(udp_socket);
        server.register_listener(tcp_listener, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        DelegatingDns {
            addr,
            server,
            queries,
        }
    }

    async fn serve(catalog: Catalog) -> TestDns {
        let (udp_socket, tcp_listener) = bind_udp_and_tcp_on_one_port().await;
        let addr = udp_socket
            .local_addr()
            .expect("a bound UDP socket has a local address");

        let mut server = Server::new(catalog);
        server.register_socket(udp_socket);
        server.register_listener(tcp_listener, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        TestDns { addr, server }
    }

    /// A resolver configuration that asks only this server, over UDP and TCP.
    pub fn resolver_config(&self) -> ResolverConfig {
        // `ConnectionConfig` is non-exhaustive: no struct-update syntax.
        let mut udp = ConnectionConfig::udp();
        udp.port = self.addr.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = self.addr.port();
        ResolverConfig::from_name_servers(vec![NameServerConfig::new(
            self.addr.ip(),
            true,
            vec![udp, tcp],
        )])
    }
}

/// A running DNS server of parent and child zones ([`TestDns::start_delegating`]). Dropping it
/// stops the server.
pub struct DelegatingDns {
    /// The address (127.0.0.1:port) answering on both UDP and TCP.
    pub addr: SocketAddr,
    /// Owns the server's tasks.
    server: Server<DsToParent>,
    /// Requests answered so far.
    queries: Arc<AtomicUsize>,
}

impl DelegatingDns {
    /// How many requests the server has answered so far (for cost figures).
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

/// Sends DS queries for a child zone's apex to the parents' catalog, all else to the full one.
struct DsToParent {
    all: Catalog,
    parents: Catalog,
    child_origins: Vec<LowerName>,
    queries: Arc<AtomicUsize>,
}

impl RequestHandler for DsToParent {
    fn handle_request<'handler, 'request, 'future, R, T>(
        &'handler self,
        request: &'request Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'future>>
    where
        R: ResponseHandler + 'future,
        T: Time + 'future,
        'handler: 'future,
        'request: 'future,
        Self: 'future,
    {
        self.queries.fetch_add(1, Ordering::SeqCst);
        let to_parent = request.request_info().is_ok_and(|info| {
            info.query.query_type() == RecordType::DS
                && self.child_origins.contains(info.query.name())
        });
        if to_parent {
            self.parents
                .handle_request::<R, T>(request, response_handle)
        } else {
            self.all.handle_request::<R, T>(request, response_handle)
        }
    }
}

/// A test DNS server that serves zones but answers every TXT query with one response code.
/// Dropping it stops the server.
pub struct TxtFailingDns {
    /// The address (127.0.0.1:port) answering on both UDP and TCP.
    pub addr: SocketAddr,
    /// Owns the server's tasks.
    server: Server<TxtFailing>,
}

impl TxtFailingDns {
    /// Serves `zones` as [`TestDns::start`] does, except that TXT queries get `code`.
    pub async fn start(zones: &[(&str, &str)], code: ResponseCode) -> TxtFailingDns {
        let mut catalog = Catalog::new();
        for (origin, zone_text) in zones {
            let (origin_name, zone_handler) = parse_zone(origin, zone_text);
            catalog.upsert(LowerName::from(origin_name), vec![Arc::new(zone_handler)]);
        }
        let (udp_socket, tcp_listener) = bind_udp_and_tcp_on_one_port().await;
        let addr = udp_socket
            .local_addr()
            .expect("a bound UDP socket has a local address");
        let mut server = Server::new(TxtFailing {
            catalog,
            fixed: FixedResponse(code),
        });
        server.register_socket(udp_socket);
        server.register_listener(tcp_listener, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        TxtFailingDns { addr, server }
    }
}

/// The request handler of [`TxtFailingDns`].
struct TxtFailing {
    catalog: Catalog,
    fixed: FixedResponse,
}

impl RequestHandler for TxtFailing {
    fn handle_request<'handler, 'request, 'future, R, T>(
        &'handler self,
        request: &'request Request,
        response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'future>>
    where
        R: ResponseHandler + 'future,
        T: Time + 'future,
        'handler: 'future,
        'request: 'future,
        Self: 'future,
    {
        let txt = request
            .request_info()
            .is_ok_and(|info| info.query.query_type() == RecordType::TXT);
        if txt {
            self.fixed.handle_request::<R, T>(request, response_handle)
        } else {
            self.catalog
                .handle_request::<R, T>(request, response_handle)
        }
    }
}

/// A running DNS server that answers every query with one response code (no records).
/// Dropping it stops the server.
pub struct FailingDns {
    /// The address (127.0.0.1:port) answering on both UDP and TCP.
    pub addr: SocketAddr,
    /// Owns the server's tasks.
    server: Server<FixedResponse>,
}

impl FailingDns {
    /// Answers REFUSED to everything: what a server that is not a recursive resolver does.
    pub async fn refusing() -> FailingDns {
        Self::answering(ResponseCode::Refused).await
    }

    /// Answers SERVFAIL to everything: a resolver that cannot reach anything upstream.
    pub async fn servfailing() -> FailingDns {
        Self::answering(ResponseCode::ServFail).await
    }

    /// Answers `code` to every query, on 127.0.0.1:<free port> (UDP and TCP).
    pub async fn answering(code: ResponseCode) -> FailingDns {
        let (udp_socket, tcp_listener) = bind_udp_and_tcp_on_one_port().await;
        let addr = udp_socket
            .local_addr()
            .expect("a bound UDP socket has a local address");
        let mut server = Server::new(FixedResponse(code));
        server.register_socket(udp_socket);
        server.register_listener(tcp_listener, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);
        FailingDns { addr, server }
    }
}

/// The request handler of [`FailingDns`]: one response code for every request.
struct FixedResponse(ResponseCode);

// The trait is declared with `async_trait`; this is its expansion, written out so the tests
// need no macro crate of their own.
impl RequestHandler for FixedResponse {
    fn handle_request<'handler, 'request, 'future, R, T>(
        &'handler self,
        request: &'request Request,
        mut response_handle: R,
    ) -> Pin<Box<dyn Future<Output = ResponseInfo> + Send + 'future>>
    where
        R: ResponseHandler + 'future,
        T: Time + 'future,
        'handler: 'future,
        'request: 'future,
        Self: 'future,
    {
        let code = self.0;
        Box::pin(async move {
            let response = MessageResponseBuilder::new(&request.queries, None)
                .error_msg(&request.metadata, code);
            match response_handle.send_response(response).await {
                Ok(info) => info,
                Err(_) => {
                    let mut metadata = Metadata::new(
                        request.metadata.id,
                        MessageType::Response,
                        request.metadata.op_code,
                    );
                    metadata.response_code = code;
                    ResponseInfo::from(Header {
                        metadata,
                        counts: HeaderCounts::default(),
                    })
                }
            }
        })
    }
}

/// Returns a zone preamble for `origin`: `$ORIGIN`, `$TTL 60`, an SOA (negative TTL 60 s) and
/// one NS record (`ns1.<origin>`, which has no address), so tests only write the records they
/// care about. A trailing dot on `origin` is optional.
pub fn soa_header(origin: &str) -> String {
    let origin = origin.trim_end_matches('.');
    format!(
        "$ORIGIN {origin}.\n\
         $TTL 60\n\
         @ IN SOA ns1.{origin}. hostmaster.{origin}. ( 1 3600 600 86400 60 )\n\
         @ IN NS ns1.{origin}.\n"
    )
}

/// Parses one zone and wraps it in a primary, AXFR-denying in-memory zone handler.
fn parse_zone(origin: &str, zone_text: &str) -> (Name, InMemoryZoneHandler) {
    let origin_name = Name::from_str(origin)
        .unwrap_or_else(|error| panic!("test zone origin {origin:?} is not a name: {error}"));
    let (parsed_origin, records) = Parser::new(zone_text, None, Some(origin_name))
        .parse()
        .unwrap_or_else(|error| {
            panic!("test zone {origin:?} does not parse: {error}\n--- zone text ---\n{zone_text}")
        });
    let zone_handler = InMemoryZoneHandler::new(
        parsed_origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
        None,
    )
    .unwrap_or_else(|error| panic!("test zone {origin:?} is not a valid zone: {error}"));
    (parsed_origin, zone_handler)
}

/// Binds UDP on 127.0.0.1:0, then TCP on the port UDP got; retries when TCP finds it taken.
async fn bind_udp_and_tcp_on_one_port() -> (UdpSocket, TcpListener) {
    let mut last_error = None;
    for _ in 0..BIND_ATTEMPTS {
        let udp_socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("binding a UDP socket on 127.0.0.1:0");
        let port = udp_socket
            .local_addr()
            .expect("a bound UDP socket has a local address")
            .port();
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(tcp_listener) => return (udp_socket, tcp_listener),
            Err(error) if error.kind() == io::ErrorKind::AddrInUse => last_error = Some(error),
            Err(error) => panic!("binding TCP on 127.0.0.1:{port}: {error}"),
        }
    }
    panic!("no port free for both UDP and TCP after {BIND_ATTEMPTS} attempts: {last_error:?}");
}
