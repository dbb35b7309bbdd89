//! Scripted fake SMTP servers for tests: each [`FakeSmtp`] plays one [`Scenario`] to every
//! connection on one loopback address and records what clients sent.
//!
//! The servers are deliberately small and strict about their own resources: command lines are
//! capped at [`MAX_COMMAND_LINE`] bytes, every connection task ends when the client goes away,
//! and dropping a server stops its listener and all its connection tasks. They only bind the
//! addresses a test gives them (127.0.0.0/8 or ::1).

use std::{
    collections::HashSet,
    io,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering},
    },
    time::Duration,
};

use rustls::{ServerConfig, SupportedProtocolVersion};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream, tcp::ReadHalf},
    task::{AbortHandle, JoinSet},
    time::Instant,
};
use tokio_rustls::TlsAcceptor;

use super::pki::TestCert;

/// The host name the fake servers use in greetings and EHLO replies.
pub const FAKE_SMTP_HOSTNAME: &str = "fake-smtp.test";
/// Longest command line (without CRLF) the server accepts; longer lines get a 500 reply.
pub const MAX_COMMAND_LINE: usize = 4096;
/// The most a stalling scenario holds a connection open while the client stays.
const HOLD_LIMIT: Duration = Duration::from_secs(120);
/// How long a closing scenario waits for the client's ClientHello or its close.
const LINGER_LIMIT: Duration = Duration::from_secs(10);
/// How long a resetting scenario waits after its last write, so the bytes arrive first.
const RESET_PAUSE: Duration = Duration::from_millis(20);
/// The line `Behaviour::EndlessEhlo` repeats instead of ever finishing its EHLO reply.
const ENDLESS_EHLO_LINE: &[u8] = b"250-endless.test this EHLO reply never ends, keep reading\r\n";
/// How many ports [`SmtpFleet::start`] tries before giving up.
const FLEET_BIND_ATTEMPTS: usize = 20;

/// The greeting of every scenario that greets normally.
const GREETING: &str = "220 fake-smtp.test ESMTP starttls-monitor fake server\r\n";
const READY_FOR_TLS: &str = "220 2.0.0 Ready to start TLS\r\n";
const GO_AHEAD: &str = "220 Go ahead\r\n";
const NOT_IMPLEMENTED: &str = "502 5.5.1 Command not implemented\r\n";
const TLS_NOT_AVAILABLE: &str = "454 4.7.0 TLS not available due to local problem\r\n";
const TLS_ALREADY_ACTIVE: &str = "503 5.5.1 TLS already active\r\n";
const BAD_SEQUENCE: &str = "503 5.5.1 Bad sequence of commands\r\n";
const UNRECOGNIZED: &str = "500 5.5.2 Unrecognized\r\n";
const LINE_TOO_LONG: &str = "500 5.5.2 Line too long\r\n";
const OK: &str = "250 2.0.0 OK\r\n";
const BYE: &str = "221 2.0.0 Bye\r\n";
/// A fatal TLS alert record: handshake_failure, as a TLS 1.2 record.
const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// Which TLS versions a fake server accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersions {
    /// TLS 1.2 and TLS 1.3.
    Any,
    /// TLS 1.2 only.
    Tls12Only,
    /// TLS 1.3 only.
    Tls13Only,
}

impl TlsVersions {
    fn protocol_versions(self) -> &'static [&'static SupportedProtocolVersion] {
        // rustls's versions are statics, so the slices must be statics too.
        static TLS12_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        static TLS13_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self {
            TlsVersions::Any => rustls::ALL_VERSIONS,
            TlsVersions::Tls12Only => &TLS12_ONLY,
            TlsVersions::Tls13Only => &TLS13_ONLY,
        }
    }
}

/// What a fake server does on each connection.
///
/// Unless a scenario says otherwise, the server greets with `220 fake-smtp.test ESMTP ...`,
/// answers EHLO/HELO with a multi-line 250 whose first line is `250-fake-smtp.test Hello`,
/// QUIT with `221 2.0.0 Bye` (then closes), RSET/NOOP with 250 and anything else with
/// `500 5.5.2 Unrecognized`.
#[derive(Clone, Debug)]
pub enum Scenario {
    /// Greeting, EHLO lists STARTTLS (with PIPELINING, SIZE 10240000, 8BITMIME,
    /// ENHANCEDSTATUSCODES), STARTTLS -> "220 2.0.0 Ready to start TLS", a rustls handshake
    /// with this certificate and these versions, then EHLO over TLS lists AUTH PLAIN LOGIN
    /// and no STARTTLS; STARTTLS over TLS -> 503.
    Good {
        /// The certificate chain the server presents.
        cert: TestCert,
        /// The TLS versions the server accepts.
        versions: TlsVersions,
    },
    /// Like `Good` with [`TlsVersions::Any`], but waits `delay` before the greeting
    /// (postscreen-style).
    SlowGreeting {
        /// How long to wait before greeting.
        delay: Duration,
        /// The certificate chain the server presents.
        cert: TestCert,
    },
    /// EHLO has no STARTTLS; STARTTLS -> "502 5.5.1 Command not implemented".
    NoStarttls,
    /// STARTTLS is advertised but answered "454 4.7.0 TLS not available due to local problem";
    /// the session goes on in plaintext.
    Starttls454,
    /// STARTTLS -> 220, then after the ClientHello the server sends "this is not tls\r\n"
    /// instead of a ServerHello and closes.
    HandshakeGarbage,
    /// STARTTLS -> 220, then after the ClientHello the server sends a fatal TLS alert
    /// (handshake_failure, bytes 15 03 03 00 02 02 28) and closes.
    HandshakeAlert,
    /// Greeting "421 4.3.2 Service not available, closing transmission channel", then close.
    Greeting421,
    /// Greeting "554 5.7.1 No SMTP service here"; then QUIT -> 221, anything else -> 503,
    /// until the client quits or closes.
    Greeting554,
    /// Sends nothing; holds the socket until the client closes or 120 s pass. Lines the client
    /// sends are recorded but not answered.
    SilentGreeting,
    /// Sends "220 drip.test ESMTP slow\r\n" one byte per second, then behaves like
    /// `NoStarttls`.
    DripGreeting,
    /// Sends 4 KiB of binary bytes without CR or LF, then 16 CRLF-terminated lines of binary
    /// bytes, then holds the socket like `SilentGreeting`.
    Garbage,
    /// Sends "220 " and then over 1 MiB of 'x' without CRLF as fast as the client reads, then
    /// 1 KiB every 100 ms while the client stays (up to 120 s).
    LongLine,
    /// Sends "220-..." continuation lines as fast as the client reads, up to 100 MiB, never a
    /// final line; then holds the socket until the client closes or 120 s pass.
    EndlessReply,
    /// STARTTLS -> "220 Go ahead", then the server closes the connection at once.
    CloseAfter220,
    /// STARTTLS -> "220 Go ahead\r\n250 injected\r\n" in one write (plaintext injection after
    /// the 220), then a TLS handshake with this certificate if the client goes on, then the
    /// `Good` dialog over TLS.
    InjectAfter220 {
        /// The certificate chain the server presents.
        cert: TestCert,
    },
    /// Greeting, then on the first command the first half of the EHLO reply, then a reset
    /// (RST, by closing with `SO_LINGER` 0) in the middle of the reply.
    ResetMidEhlo,
    /// Greeting, EHLO offers STARTTLS, STARTTLS -> 220, then the server reads the ClientHello
    /// and never answers it: it holds the socket until the client closes or 120 s pass.
    HandshakeStall,
    /// Greeting, then the server shuts down its sending side (FIN) and keeps reading and
    /// recording lines, never answering, until the client closes or 120 s pass.
    HalfCloseAfterGreeting,
    /// Like `Good` with [`TlsVersions::Any`], but before each greeting waits a delay drawn
    /// uniformly from `0..=max_delay` by an RNG seeded with `seed` (connections to one server
    /// come one at a time from the probe, so the sequence of delays repeats run after run).
    RandomGreetingDelay {
        /// The longest delay before the greeting.
        max_delay: Duration,
        /// Seed of the delay sequence.
        seed: u64,
        /// The certificate chain the server presents.
        cert: TestCert,
    },
    /// Picks a [`Behaviour`] per connection as `plan` says (seeded RNG), records the pick in
    /// the plan and plays it; the good behaviour is the `Good` dialog with this certificate
    /// (TLS 1.2 and 1.3). So one host may behave on one scan and not on the next.
    Chaos {
        /// The certificate chain the server presents when it gets to TLS.
        cert: TestCert,
        /// The odds, the RNG and the record of picks; the test keeps a clone to read it.
        plan: Arc<ChaosPlan>,
    },
}

/// One connection's behaviour under [`Scenario::Chaos`]: the good dialog (maybe after a
/// greeting delay) or one misbehaviour. Every hold is bounded by 120 s or the client's close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// The `Good` dialog after waiting this long before the greeting.
    Good {
        /// The wait before the greeting.
        greeting_delay: Duration,
    },
    /// Greeting "421 4.3.2 ...", then close (like [`Scenario::Greeting421`]).
    Greeting421,
    /// Never greets (like [`Scenario::SilentGreeting`]).
    SilentGreeting,
    /// Binary bytes instead of a greeting, then silence (like [`Scenario::Garbage`]).
    Garbage,
    /// Accepts, then resets the connection before sending anything.
    ResetBeforeGreeting,
    /// Sends half a greeting line ("220-fake-smtp.test ES"), then resets.
    ResetMidGreeting,
    /// "220-" continuation lines without end (like [`Scenario::EndlessReply`]).
    EndlessGreeting,
    /// Greeting, then half of the EHLO reply, then a reset (like [`Scenario::ResetMidEhlo`]).
    ResetMidEhlo,
    /// Greeting, then "250-" continuation lines without end as the EHLO reply.
    EndlessEhlo,
    /// Greeting, then FIN, then silence (like [`Scenario::HalfCloseAfterGreeting`]).
    HalfCloseAfterGreeting,
    /// Greeting and EHLO (STARTTLS offered), then no reply to STARTTLS at all.
    StarttlsStall,
    /// STARTTLS -> "220 Go ahead", then close (like [`Scenario::CloseAfter220`]).
    CloseAfter220,
    /// STARTTLS -> 220, read the ClientHello, never answer (like [`Scenario::HandshakeStall`]).
    HandshakeStall,
    /// STARTTLS -> 220, read the ClientHello, then reset.
    HandshakeReset,
    /// STARTTLS -> 220, then a fatal handshake_failure alert (like
    /// [`Scenario::HandshakeAlert`]); the probe's legacy fallback then opens a second
    /// connection, which gets a pick of its own.
    HandshakeAlert,
}

impl Behaviour {
    /// Every misbehaviour, in the order [`ChaosPlan`] draws from.
    pub const MISBEHAVIOURS: [Behaviour; 14] = [
        Behaviour::Greeting421,
        Behaviour::SilentGreeting,
        Behaviour::Garbage,
        Behaviour::ResetBeforeGreeting,
        Behaviour::ResetMidGreeting,
        Behaviour::EndlessGreeting,
        Behaviour::ResetMidEhlo,
        Behaviour::EndlessEhlo,
        Behaviour::HalfCloseAfterGreeting,
        Behaviour::StarttlsStall,
        Behaviour::CloseAfter220,
        Behaviour::HandshakeStall,
        Behaviour::HandshakeReset,
        Behaviour::HandshakeAlert,
    ];

    /// True for [`Behaviour::Good`], whatever its delay.
    pub fn is_good(self) -> bool {
        matches!(self, Behaviour::Good { .. })
    }

    /// A short snake_case name for tables, e.g. `reset_mid_ehlo` (`good` for any delay).
    pub fn name(self) -> &'static str {
        match self {
            Behaviour::Good { .. } => "good",
            Behaviour::Greeting421 => "greeting_421",
            Behaviour::SilentGreeting => "silent_greeting",
            Behaviour::Garbage => "garbage",
            Behaviour::ResetBeforeGreeting => "reset_before_greeting",
            Behaviour::ResetMidGreeting => "reset_mid_greeting",
            Behaviour::EndlessGreeting => "endless_greeting",
            Behaviour::ResetMidEhlo => "reset_mid_ehlo",
            Behaviour::EndlessEhlo => "endless_ehlo",
            Behaviour::HalfCloseAfterGreeting => "half_close_after_greeting",
            Behaviour::StarttlsStall => "starttls_stall",
            Behaviour::CloseAfter220 => "close_after_220",
            Behaviour::HandshakeStall => "handshake_stall",
            Behaviour::HandshakeReset => "handshake_reset",
            Behaviour::HandshakeAlert => "handshake_alert",
        }
    }
}

/// The most picks a [`ChaosPlan`] keeps between two [`ChaosPlan::take_picks`]; later ones are
/// counted in `picks_dropped` only, so a plan nobody reads stays small.
const MAX_PICKS_KEPT: usize = 4096;

/// How a [`Scenario::Chaos`] server chooses each connection's [`Behaviour`], and what it chose.
///
/// Draws come from one seeded RNG per plan, so a server's sequence of behaviours is the same
/// run after run when its connections arrive in the same order (the probe sends one at a time
/// per address).
#[derive(Debug)]
pub struct ChaosPlan {
    /// Share of connections that misbehave, 0.0 (never) ..= 1.0 (always).
    misbehaving_share: f64,
    /// Good connections wait a delay drawn from `0..=max_greeting_delay` before greeting.
    max_greeting_delay: Duration,
    state: Mutex<ChaosState>,
}

#[derive(Debug)]
struct ChaosState {
    rng: fastrand::Rng,
    picks: Vec<Behaviour>,
    picks_dropped: usize,
}

impl ChaosPlan {
    /// A plan whose connections misbehave with probability `misbehaving_share` (each
    /// misbehaviour equally likely) and otherwise behave well after a greeting delay drawn
    /// from `0..=max_greeting_delay`.
    pub fn new(seed: u64, misbehaving_share: f64, max_greeting_delay: Duration) -> Arc<ChaosPlan> {
        Arc::new(ChaosPlan {
            misbehaving_share: misbehaving_share.clamp(0.0, 1.0),
            max_greeting_delay,
            state: Mutex::new(ChaosState {
                rng: fastrand::Rng::with_seed(seed),
                picks: Vec::new(),
                picks_dropped: 0,
            }),
        })
    }

    /// The behaviours picked since the last call, in connection order. Panics when more than
    /// 4096 were picked in between (the record would be incomplete).
    pub fn take_picks(&self) -> Vec<Behaviour> {
        let mut state = self.lock();
        assert_eq!(
            state.picks_dropped, 0,
            "ChaosPlan: more than {MAX_PICKS_KEPT} picks between two take_picks calls"
        );
        std::mem::take(&mut state.picks)
    }

    fn pick(&self) -> Behaviour {
        let mut state = self.lock();
        let behaviour = if state.rng.f64() < self.misbehaving_share {
            let index = state.rng.usize(..Behaviour::MISBEHAVIOURS.len());
            Behaviour::MISBEHAVIOURS[index]
        } else {
            let max_ms = u64::try_from(self.max_greeting_delay.as_millis()).unwrap_or(u64::MAX);
            Behaviour::Good {
                greeting_delay: Duration::from_millis(state.rng.u64(0..=max_ms)),
            }
        };
        if state.picks.len() < MAX_PICKS_KEPT {
            state.picks.push(behaviour);
        } else {
            state.picks_dropped += 1;
        }
        behaviour
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ChaosState> {
        self.state.lock().expect("the chaos plan is never poisoned")
    }
}

/// A fake SMTP server on one address. Dropping it stops the listener and all its connections.
pub struct FakeSmtp {
    /// The address the server listens on.
    pub addr: SocketAddr,
    /// Every command line received (without CRLF), across connections, in arrival order,
    /// e.g. "EHLO probe.example", "STARTTLS", "QUIT".
    pub commands: Arc<Mutex<Vec<String>>>,
    /// Number of connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    /// The highest number of connections that were open at the same time.
    pub max_concurrent: Arc<AtomicUsize>,
    /// Connections open right now.
    open_connections: Arc<AtomicUsize>,
    /// The accept loop; aborting it drops the listener and every connection task.
    accept_task: AbortHandle,
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl FakeSmtp {
    /// Binds exactly `addr` (e.g. 127.0.0.7:40123 or [::1]:40123; port 0 picks a free port)
    /// and serves `scenario` to every connection.
    ///
    /// Fails on bind errors, and with `InvalidInput` when the scenario's certificate does not
    /// make a valid rustls server configuration.
    pub async fn start(addr: SocketAddr, scenario: Scenario) -> io::Result<FakeSmtp> {
        let tls_config = scenario_tls_config(&scenario)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let recorder = Recorder {
            commands: Arc::new(Mutex::new(Vec::new())),
            connections: Arc::new(AtomicUsize::new(0)),
            max_concurrent: Arc::new(AtomicUsize::new(0)),
            open_connections: Arc::new(AtomicUsize::new(0)),
            this_connection: None,
        };
        let plan = scenario_plan(&scenario);
        let script = Arc::new(Script {
            scenario,
            tls_config,
            plan,
        });
        let accept_task = tokio::spawn(accept_loop(listener, script, recorder.clone()));
        Ok(FakeSmtp {
            addr,
            commands: recorder.commands,
            connections: recorder.connections,
            max_concurrent: recorder.max_concurrent,
            open_connections: recorder.open_connections,
            accept_task: accept_task.abort_handle(),
        })
    }

    /// Starts a server on `addr` whose previous server was just dropped: its listener task may
    /// take a moment to let go of the port, so `AddrInUse` is retried for up to 2 s.
    pub async fn restart(addr: SocketAddr, scenario: Scenario) -> FakeSmtp {
        for _ in 0..100 {
            match FakeSmtp::start(addr, scenario.clone()).await {
                Ok(server) => return server,
                Err(error) if error.kind() == io::ErrorKind::AddrInUse => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => panic!("restarting {addr}: {error}"),
            }
        }
        panic!("{addr} stayed in use");
    }

    /// A snapshot of the commands received so far.
    pub fn recorded_commands(&self) -> Vec<String> {
        self.commands
            .lock()
            .expect("the command log is never poisoned")
            .clone()
    }

    /// Number of connections open right now (a connection counts until the server notices
    /// the client has gone).
    pub fn open_connections(&self) -> usize {
        self.open_connections.load(Ordering::SeqCst)
    }
}

/// Several fake servers sharing one port on different loopback addresses, because the probe
/// uses one SMTP port for every address.
pub struct SmtpFleet {
    /// The port every server listens on.
    pub port: u16,
    /// The servers, in the order they were given to [`SmtpFleet::start`].
    pub servers: Vec<FakeSmtp>,
}

impl SmtpFleet {
    /// Starts one server per `(ip, scenario)`, all on one port that is free on every IP.
    ///
    /// The port is picked by binding the first IP on port 0, then the rest on that port; if
    /// one is taken, everything is dropped and a new port is tried (up to 20 times). IPs are
    /// 127.0.0.0/8 or ::1 and must be distinct. Panics when no common port is found.
    pub async fn start(servers: Vec<(IpAddr, Scenario)>) -> SmtpFleet {
        let Some(((first_ip, first_scenario), others)) = servers.split_first() else {
            panic!("an SmtpFleet needs at least one server");
        };
        let mut seen_ips = HashSet::new();
        for (ip, _) in &servers {
            assert!(seen_ips.insert(*ip), "SmtpFleet: {ip} is listed twice");
            assert!(
                ip.is_loopback(),
                "SmtpFleet: {ip} is not a loopback address"
            );
        }

        let mut last_clash = None;
        'attempt: for _ in 0..FLEET_BIND_ATTEMPTS {
            let first = FakeSmtp::start(SocketAddr::new(*first_ip, 0), first_scenario.clone())
                .await
                .unwrap_or_else(|error| {
                    panic!("starting a fake SMTP server on {first_ip}: {error}")
                });
            let port = first.addr.port();
            let mut started = vec![first];
            for (ip, scenario) in others {
                let addr = SocketAddr::new(*ip, port);
                match FakeSmtp::start(addr, scenario.clone()).await {
                    Ok(server) => started.push(server),
                    Err(error) if error.kind() == io::ErrorKind::AddrInUse => {
                        last_clash = Some(addr);
                        continue 'attempt;
                    }
                    Err(error) => panic!("starting a fake SMTP server on {addr}: {error}"),
                }
            }
            return SmtpFleet {
                port,
                servers: started,
            };
        }
        panic!(
            "SmtpFleet: no port free on all of the IPs after {FLEET_BIND_ATTEMPTS} attempts \
             (last clash on {last_clash:?})"
        );
    }

    /// The server listening on `ip`. Panics when the fleet has none there.
    pub fn server(&self, ip: IpAddr) -> &FakeSmtp {
        self.servers
            .iter()
            .find(|server| server.addr.ip() == ip)
            .unwrap_or_else(|| panic!("SmtpFleet has no server on {ip}"))
    }
}

/// Returns `n` IPv4 loopback addresses (127.A.B.C) never returned before in this process, so
/// tests running in parallel threads never share an address.
///
/// The block starts at 127.(10 + pid % 100).0.1, which also keeps test processes that run in
/// parallel (e.g. under nextest) apart most of the time; addresses ending in .0 or .255 are
/// skipped.
pub fn unique_loopback_ips(n: usize) -> Vec<IpAddr> {
    static NEXT_OFFSET: AtomicU32 = AtomicU32::new(0);
    let second_octet = 10 + (std::process::id() % 100) as u8;
    let base = u32::from(Ipv4Addr::new(127, second_octet, 0, 1));
    let mut ips = Vec::with_capacity(n);
    while ips.len() < n {
        let offset = NEXT_OFFSET.fetch_add(1, Ordering::SeqCst);
        let raw = base
            .checked_add(offset)
            .filter(|raw| *raw < u32::from(Ipv4Addr::new(128, 0, 0, 0)))
            .expect("unique_loopback_ips ran out of 127.0.0.0/8");
        let last_octet = raw & 0xff;
        if last_octet == 0 || last_octet == 255 {
            continue;
        }
        ips.push(IpAddr::V4(Ipv4Addr::from(raw)));
    }
    ips
}

/// The shared, per-server record of what clients did.
#[derive(Clone)]
struct Recorder {
    commands: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
    max_concurrent: Arc<AtomicUsize>,
    open_connections: Arc<AtomicUsize>,
    /// In a connection's own copy: whether that connection is already counted closed.
    this_connection: Option<Arc<AtomicBool>>,
}

impl Recorder {
    fn record(&self, line: &str) {
        self.commands
            .lock()
            .expect("the command log is never poisoned")
            .push(line.to_owned());
    }

    /// Counts a new connection: returns the connection's own recorder and a guard that counts
    /// it closed when dropped (unless the session ended earlier, see [`Recorder::session_over`]).
    fn open(&self) -> (Recorder, OpenConnection) {
        self.connections.fetch_add(1, Ordering::SeqCst);
        let open_now = self.open_connections.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_concurrent.fetch_max(open_now, Ordering::SeqCst);
        let closed = Arc::new(AtomicBool::new(false));
        let connection = Recorder {
            this_connection: Some(Arc::clone(&closed)),
            ..self.clone()
        };
        let guard = OpenConnection {
            open_connections: Arc::clone(&self.open_connections),
            closed,
        };
        (connection, guard)
    }

    /// The client's session is over once QUIT is answered: from then on it may leave and
    /// connect again, while this server task is still closing its side. Counting the
    /// connection closed here keeps `max_concurrent` about what the client did, not about how
    /// fast a loaded machine schedules the server's teardown.
    fn session_over(&self) {
        if let Some(closed) = &self.this_connection
            && !closed.swap(true, Ordering::SeqCst)
        {
            self.open_connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Decrements the open-connection count when a connection task ends (or is aborted), unless
/// the session already counted itself over.
struct OpenConnection {
    open_connections: Arc<AtomicUsize>,
    closed: Arc<AtomicBool>,
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        if !self.closed.swap(true, Ordering::SeqCst) {
            self.open_connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// A scenario with its TLS configuration built once.
struct Script {
    scenario: Scenario,
    tls_config: Option<Arc<ServerConfig>>,
    /// Per-connection choices of `Chaos` and `RandomGreetingDelay`.
    plan: Option<Arc<ChaosPlan>>,
}

fn scenario_tls_config(scenario: &Scenario) -> io::Result<Option<Arc<ServerConfig>>> {
    match scenario {
        Scenario::Good { cert, versions } => server_config(cert, *versions).map(Some),
        Scenario::SlowGreeting { cert, .. }
        | Scenario::InjectAfter220 { cert }
        | Scenario::RandomGreetingDelay { cert, .. }
        | Scenario::Chaos { cert, .. } => server_config(cert, TlsVersions::Any).map(Some),
        _ => Ok(None),
    }
}

fn scenario_plan(scenario: &Scenario) -> Option<Arc<ChaosPlan>> {
    match scenario {
        Scenario::Chaos { plan, .. } => Some(Arc::clone(plan)),
        Scenario::RandomGreetingDelay {
            max_delay, seed, ..
        } => Some(ChaosPlan::new(*seed, 0.0, *max_delay)),
        _ => None,
    }
}

/// A rustls server config with the ring provider (no process-wide default needed).
///
/// No session resumption: the probe never resumes, and rustls' default server cache would
/// keep up to 256 sessions per server (two TLS 1.3 tickets per handshake), so a fleet of
/// hundreds scanned again and again would grow by tens of MiB before the caches fill.
fn server_config(cert: &TestCert, versions: TlsVersions) -> io::Result<Arc<ServerConfig>> {
    let invalid = |error: rustls::Error| io::Error::new(io::ErrorKind::InvalidInput, error);
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions.protocol_versions())
            .map_err(invalid)?
            .with_no_client_auth()
            .with_single_cert(cert.chain_der.clone(), cert.key_der.clone_key())
            .map_err(invalid)?;
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

async fn accept_loop(listener: TcpListener, script: Arc<Script>, recorder: Recorder) {
    let mut connection_tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let (recorder, open_connection) = recorder.open();
                    let script = Arc::clone(&script);
                    connection_tasks.spawn(async move {
                        let _open_connection = open_connection;
                        // A failed connection is part of the test; the client sees it.
                        let _ = serve(stream, &script, &recorder).await;
                    });
                }
                // E.g. out of file descriptors: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connection_tasks.join_next(), if !connection_tasks.is_empty() => {}
        }
    }
}

/// Plays the scenario on one connection.
async fn serve(mut stream: TcpStream, script: &Script, recorder: &Recorder) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut lines = LineReader::default();
    match &script.scenario {
        Scenario::Good { .. } => {
            good_session(stream, lines, script, recorder).await?;
        }
        Scenario::SlowGreeting { delay, .. } => {
            if sleep_while_connected(&mut stream, *delay).await {
                good_session(stream, lines, script, recorder).await?;
            }
        }
        Scenario::NoStarttls => {
            write_text(&mut stream, GREETING).await?;
            dialog(&mut stream, &mut lines, recorder, Dialog::NO_STARTTLS).await?;
        }
        Scenario::Starttls454 => {
            write_text(&mut stream, GREETING).await?;
            let starttls_454 = Dialog {
                starttls: Starttls::AdvertisedButRefused(TLS_NOT_AVAILABLE),
                reject_all: false,
                tls_active: false,
            };
            dialog(&mut stream, &mut lines, recorder, starttls_454).await?;
        }
        Scenario::HandshakeGarbage | Scenario::HandshakeAlert => {
            write_text(&mut stream, GREETING).await?;
            let end = dialog(&mut stream, &mut lines, recorder, Dialog::OFFERS_TLS).await?;
            if end == DialogEnd::StartTls {
                write_text(&mut stream, READY_FOR_TLS).await?;
                wait_for_client_hello(&mut stream).await;
                let reply: &[u8] = match script.scenario {
                    Scenario::HandshakeAlert => &HANDSHAKE_FAILURE_ALERT,
                    _ => b"this is not tls\r\n",
                };
                stream.write_all(reply).await?;
                linger_close(&mut stream).await;
            }
        }
        Scenario::Greeting421 => {
            write_text(
                &mut stream,
                "421 4.3.2 Service not available, closing transmission channel\r\n",
            )
            .await?;
            linger_close(&mut stream).await;
        }
        Scenario::Greeting554 => {
            write_text(&mut stream, "554 5.7.1 No SMTP service here\r\n").await?;
            let reject_all = Dialog {
                starttls: Starttls::NotAdvertised(BAD_SEQUENCE),
                reject_all: true,
                tls_active: false,
            };
            dialog(&mut stream, &mut lines, recorder, reject_all).await?;
        }
        Scenario::SilentGreeting => {
            hold_recording(&mut stream, &mut lines, recorder).await;
        }
        Scenario::DripGreeting => {
            for byte in b"220 drip.test ESMTP slow\r\n" {
                stream.write_all(&[*byte]).await?;
                if !sleep_while_connected(&mut stream, Duration::from_secs(1)).await {
                    return Ok(());
                }
            }
            dialog(&mut stream, &mut lines, recorder, Dialog::NO_STARTTLS).await?;
        }
        Scenario::Garbage => {
            stream.write_all(&garbage_bytes()).await?;
            hold_recording(&mut stream, &mut lines, recorder).await;
        }
        Scenario::LongLine => {
            send_long_line(&mut stream).await?;
        }
        Scenario::EndlessReply => {
            send_endless_reply(&mut stream).await?;
        }
        Scenario::CloseAfter220 => {
            write_text(&mut stream, GREETING).await?;
            let end = dialog(&mut stream, &mut lines, recorder, Dialog::OFFERS_TLS).await?;
            if end == DialogEnd::StartTls {
                write_text(&mut stream, GO_AHEAD).await?;
                // Dropping the stream closes the connection at once.
            }
        }
        Scenario::InjectAfter220 { .. } => {
            write_text(&mut stream, GREETING).await?;
            let end = dialog(&mut stream, &mut lines, recorder, Dialog::OFFERS_TLS).await?;
            if end == DialogEnd::StartTls {
                write_text(&mut stream, "220 Go ahead\r\n250 injected\r\n").await?;
                tls_session(stream, script, recorder).await?;
            }
        }
        Scenario::ResetMidEhlo => {
            play(Behaviour::ResetMidEhlo, stream, lines, script, recorder).await?;
        }
        Scenario::HandshakeStall => {
            play(Behaviour::HandshakeStall, stream, lines, script, recorder).await?;
        }
        Scenario::HalfCloseAfterGreeting => {
            let behaviour = Behaviour::HalfCloseAfterGreeting;
            play(behaviour, stream, lines, script, recorder).await?;
        }
        Scenario::RandomGreetingDelay { .. } | Scenario::Chaos { .. } => {
            let Some(plan) = &script.plan else {
                return Ok(());
            };
            play(plan.pick(), stream, lines, script, recorder).await?;
        }
    }
    Ok(())
}

/// Plays one [`Behaviour`] on one connection (the chaos scenarios and the newer fixed ones).
async fn play(
    behaviour: Behaviour,
    mut stream: TcpStream,
    mut lines: LineReader,
    script: &Script,
    recorder: &Recorder,
) -> io::Result<()> {
    match behaviour {
        Behaviour::Good { greeting_delay } => {
            if greeting_delay.is_zero() || sleep_while_connected(&mut stream, greeting_delay).await
            {
                good_session(stream, lines, script, recorder).await?;
            }
        }
        Behaviour::Greeting421 => {
            write_text(
                &mut stream,
                "421 4.3.2 Service not available, closing transmission channel\r\n",
            )
            .await?;
            linger_close(&mut stream).await;
        }
        Behaviour::SilentGreeting => hold_recording(&mut stream, &mut lines, recorder).await,
        Behaviour::Garbage => {
            stream.write_all(&garbage_bytes()).await?;
            hold_recording(&mut stream, &mut lines, recorder).await;
        }
        Behaviour::ResetBeforeGreeting => reset(stream),
        Behaviour::ResetMidGreeting => {
            write_text(&mut stream, &GREETING[..GREETING.len() / 2]).await?;
            reset_soon(stream).await;
        }
        Behaviour::EndlessGreeting => send_endless_reply(&mut stream).await?,
        Behaviour::ResetMidEhlo => {
            write_text(&mut stream, GREETING).await?;
            if let Line::Command(line) = lines.next_line(&mut stream).await? {
                recorder.record(&line);
                let reply = ehlo_reply(true, false);
                write_text(&mut stream, &reply[..reply.len() / 2]).await?;
                reset_soon(stream).await;
            }
        }
        Behaviour::EndlessEhlo => {
            write_text(&mut stream, GREETING).await?;
            if let Line::Command(line) = lines.next_line(&mut stream).await? {
                recorder.record(&line);
                send_endless_lines(&mut stream, ENDLESS_EHLO_LINE).await?;
            }
        }
        Behaviour::HalfCloseAfterGreeting => {
            write_text(&mut stream, GREETING).await?;
            stream.shutdown().await?;
            hold_recording(&mut stream, &mut lines, recorder).await;
        }
        Behaviour::StarttlsStall => {
            write_text(&mut stream, GREETING).await?;
            let end = dialog(&mut stream, &mut lines, recorder, Dialog::OFFERS_TLS).await?;
            if end == DialogEnd::StartTls {
                hold_recording(&mut stream, &mut lines, recorder).await;
            }
        }
        Behaviour::CloseAfter220
        | Behaviour::HandshakeStall
        | Behaviour::HandshakeReset
        | Behaviour::HandshakeAlert => {
            write_text(&mut stream, GREETING).await?;
            let end = dialog(&mut stream, &mut lines, recorder, Dialog::OFFERS_TLS).await?;
            if end != DialogEnd::StartTls {
                return Ok(());
            }
            if behaviour == Behaviour::CloseAfter220 {
                // Dropping the stream closes the connection at once.
                return write_text(&mut stream, GO_AHEAD).await;
            }
            write_text(&mut stream, READY_FOR_TLS).await?;
            wait_for_client_hello(&mut stream).await;
            match behaviour {
                Behaviour::HandshakeStall => hold_until_closed(&mut stream).await,
                Behaviour::HandshakeReset => reset(stream),
                _ => {
                    stream.write_all(&HANDSHAKE_FAILURE_ALERT).await?;
                    linger_close(&mut stream).await;
                }
            }
        }
    }
    Ok(())
}

/// Closes with `SO_LINGER` 0, so the kernel sends RST instead of FIN and drops unsent bytes.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Lets bytes just written reach the client, then resets: a reset in the middle of a reply.
async fn reset_soon(stream: TcpStream) {
    tokio::time::sleep(RESET_PAUSE).await;
    reset(stream);
}

/// Greeting, plaintext dialog offering STARTTLS, upgrade, dialog over TLS.
async fn good_session(
    mut stream: TcpStream,
    mut lines: LineReader,
    script: &Script,
    recorder: &Recorder,
) -> io::Result<()> {
    write_text(&mut stream, GREETING).await?;
    let end = dialog(&mut stream, &mut lines, recorder, Dialog::OFFERS_TLS).await?;
    if end == DialogEnd::StartTls {
        write_text(&mut stream, READY_FOR_TLS).await?;
        // Bytes the client pipelined after STARTTLS are dropped with `lines`, as a careful
        // server must (they would otherwise be an injection).
        drop(lines);
        tls_session(stream, script, recorder).await?;
    }
    Ok(())
}

/// TLS handshake with the scenario's config, then the dialog over TLS.
async fn tls_session(stream: TcpStream, script: &Script, recorder: &Recorder) -> io::Result<()> {
    let Some(tls_config) = &script.tls_config else {
        return Ok(());
    };
    let acceptor = TlsAcceptor::from(Arc::clone(tls_config));
    // A failed handshake is the client's finding, not the server's problem.
    let Ok(mut tls_stream) = acceptor.accept(stream).await else {
        return Ok(());
    };
    let mut lines = LineReader::default();
    let after_tls = Dialog {
        starttls: Starttls::NotAdvertised(TLS_ALREADY_ACTIVE),
        reject_all: false,
        tls_active: true,
    };
    dialog(&mut tls_stream, &mut lines, recorder, after_tls).await?;
    Ok(())
}

/// How a dialog treats STARTTLS.
#[derive(Clone, Copy)]
enum Starttls {
    /// Advertised; the command ends the dialog so the caller can answer and upgrade.
    Offered,
    /// Advertised, but the command gets this reply and the dialog goes on.
    AdvertisedButRefused(&'static str),
    /// Not advertised; the command gets this reply and the dialog goes on.
    NotAdvertised(&'static str),
}

/// The rules of one command dialog.
#[derive(Clone, Copy)]
struct Dialog {
    starttls: Starttls,
    /// Answer every command but QUIT with 503 (after a 554 greeting).
    reject_all: bool,
    /// The dialog runs over TLS (EHLO offers AUTH).
    tls_active: bool,
}

impl Dialog {
    const OFFERS_TLS: Dialog = Dialog {
        starttls: Starttls::Offered,
        reject_all: false,
        tls_active: false,
    };
    const NO_STARTTLS: Dialog = Dialog {
        starttls: Starttls::NotAdvertised(NOT_IMPLEMENTED),
        reject_all: false,
        tls_active: false,
    };

    fn advertises_starttls(self) -> bool {
        matches!(
            self.starttls,
            Starttls::Offered | Starttls::AdvertisedButRefused(_)
        )
    }
}

/// Why a dialog stopped.
#[derive(Debug, PartialEq, Eq)]
enum DialogEnd {
    /// The client sent QUIT; the server answered and closed its side.
    Quit,
    /// The client closed the connection.
    ClientClosed,
    /// The client sent STARTTLS and the dialog offers it; nothing was answered yet.
    StartTls,
}

/// Reads commands line by line, records them and answers them until QUIT, EOF or STARTTLS.
async fn dialog<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    lines: &mut LineReader,
    recorder: &Recorder,
    rules: Dialog,
) -> io::Result<DialogEnd> {
    loop {
        let line = match lines.next_line(stream).await? {
            Line::Command(line) => line,
            Line::TooLong => {
                write_text(stream, LINE_TOO_LONG).await?;
                continue;
            }
            Line::Eof => return Ok(DialogEnd::ClientClosed),
        };
        recorder.record(&line);
        let verb = line
            .split_ascii_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if verb == "QUIT" {
            recorder.session_over();
            write_text(stream, BYE).await?;
            stream.shutdown().await?;
            return Ok(DialogEnd::Quit);
        }
        if rules.reject_all {
            write_text(stream, BAD_SEQUENCE).await?;
            continue;
        }
        match verb.as_str() {
            "EHLO" | "HELO" => {
                let reply = ehlo_reply(rules.advertises_starttls(), rules.tls_active);
                write_text(stream, &reply).await?;
            }
            "RSET" | "NOOP" => write_text(stream, OK).await?,
            "STARTTLS" => match rules.starttls {
                Starttls::Offered => return Ok(DialogEnd::StartTls),
                Starttls::AdvertisedButRefused(reply) | Starttls::NotAdvertised(reply) => {
                    write_text(stream, reply).await?;
                }
            },
            _ => write_text(stream, UNRECOGNIZED).await?,
        }
    }
}

/// The multi-line EHLO reply; AUTH is only offered over TLS.
fn ehlo_reply(advertise_starttls: bool, tls_active: bool) -> String {
    let mut extensions = vec!["PIPELINING", "SIZE 10240000"];
    if advertise_starttls {
        extensions.push("STARTTLS");
    }
    if tls_active {
        extensions.push("AUTH PLAIN LOGIN");
    }
    extensions.extend(["8BITMIME", "ENHANCEDSTATUSCODES"]);

    let mut reply = format!("250-{FAKE_SMTP_HOSTNAME} Hello\r\n");
    let last = extensions.len() - 1;
    for (index, extension) in extensions.iter().enumerate() {
        let separator = if index == last { ' ' } else { '-' };
        reply.push_str(&format!("250{separator}{extension}\r\n"));
    }
    reply
}

/// One read from a [`LineReader`].
enum Line {
    /// A complete line without its CRLF (invalid UTF-8 replaced).
    Command(String),
    /// A line longer than [`MAX_COMMAND_LINE`]; its bytes were discarded.
    TooLong,
    /// The client closed the connection (a trailing partial line is dropped).
    Eof,
}

/// A line splitter with a length cap, so a client cannot make the server buffer without end.
#[derive(Default)]
struct LineReader {
    buffer: Vec<u8>,
    /// Inside an over-long line: drop bytes until the next LF.
    discarding: bool,
}

impl LineReader {
    async fn next_line<S: AsyncRead + Unpin>(&mut self, stream: &mut S) -> io::Result<Line> {
        loop {
            if let Some(lf) = self.buffer.iter().position(|byte| *byte == b'\n') {
                let rest = self.buffer.split_off(lf + 1);
                let mut line = std::mem::replace(&mut self.buffer, rest);
                if self.discarding {
                    self.discarding = false;
                    return Ok(Line::TooLong);
                }
                line.truncate(lf);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > MAX_COMMAND_LINE {
                    return Ok(Line::TooLong);
                }
                return Ok(Line::Command(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.buffer.len() > MAX_COMMAND_LINE + 2 {
                self.buffer.clear();
                self.discarding = true;
            }
            let mut chunk = [0_u8; 2048];
            let read = stream.read(&mut chunk).await?;
            if read == 0 {
                return Ok(Line::Eof);
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }
}

async fn write_text<S: AsyncWrite + Unpin>(stream: &mut S, text: &str) -> io::Result<()> {
    stream.write_all(text.as_bytes()).await?;
    stream.flush().await
}

/// Completes when the peer has closed its side (or the socket failed). If the peer sends
/// data instead, this never completes: the data is left for whoever reads next.
async fn peer_closed(reader: &mut ReadHalf<'_>) {
    let mut probe = [0_u8; 1];
    match reader.peek(&mut probe).await {
        Ok(0) | Err(_) => {}
        Ok(_) => std::future::pending().await,
    }
}

/// Sleeps for `duration`; returns false early when the client closes meanwhile.
async fn sleep_while_connected(stream: &mut TcpStream, duration: Duration) -> bool {
    let (mut reader, _writer) = stream.split();
    tokio::select! {
        () = tokio::time::sleep(duration) => true,
        () = peer_closed(&mut reader) => false,
    }
}

/// Records (but never answers) lines until the client closes or [`HOLD_LIMIT`] passes.
async fn hold_recording(stream: &mut TcpStream, lines: &mut LineReader, recorder: &Recorder) {
    let record_lines = async {
        while let Ok(line) = lines.next_line(stream).await {
            match line {
                Line::Command(line) => recorder.record(&line),
                Line::TooLong => {}
                Line::Eof => break,
            }
        }
    };
    let _ = tokio::time::timeout(HOLD_LIMIT, record_lines).await;
}

/// Reads and drops whatever the client sends until it closes or [`HOLD_LIMIT`] passes.
async fn hold_until_closed(stream: &mut TcpStream) {
    let drain = async {
        let mut sink = [0_u8; 4096];
        while let Ok(read) = stream.read(&mut sink).await {
            if read == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(HOLD_LIMIT, drain).await;
}

/// Waits (briefly) for the client's first TLS bytes, so what the server sends next is an
/// answer to a ClientHello.
async fn wait_for_client_hello(stream: &mut TcpStream) {
    let mut client_hello = [0_u8; 4096];
    let _ = tokio::time::timeout(LINGER_LIMIT, stream.read(&mut client_hello)).await;
}

/// Closes the server's sending side, then drains the client until it closes too (bounded),
/// so the client reads everything sent instead of getting a reset.
async fn linger_close(stream: &mut TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut sink = [0_u8; 4096];
        while let Ok(read) = stream.read(&mut sink).await {
            if read == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER_LIMIT, drain).await;
}

/// 4 KiB of binary bytes without CR or LF, then 16 CRLF-terminated binary lines.
fn garbage_bytes() -> Vec<u8> {
    // xorshift32: deterministic, so a failing test sees the same bytes every run.
    let mut state: u32 = 0x9e37_79b9;
    let mut next_byte = move || loop {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let byte = state.to_le_bytes()[0];
        if byte != b'\r' && byte != b'\n' {
            return byte;
        }
    };
    let mut garbage = vec![0xff];
    garbage.extend((1..4096).map(|_| next_byte()));
    for _ in 0..16 {
        garbage.extend((0..62).map(|_| next_byte()));
        garbage.extend_from_slice(b"\r\n");
    }
    garbage
}

/// "220 " and over 1 MiB of 'x' as fast as the client reads, then 1 KiB every 100 ms while
/// the client stays, up to [`HOLD_LIMIT`].
async fn send_long_line(stream: &mut TcpStream) -> io::Result<()> {
    let (mut reader, mut writer) = stream.split();
    let send = async {
        writer.write_all(b"220 ").await?;
        let fast_chunk = vec![b'x'; 64 * 1024];
        for _ in 0..17 {
            writer.write_all(&fast_chunk).await?;
        }
        let slow_chunk = vec![b'x'; 1024];
        let deadline = Instant::now() + HOLD_LIMIT;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            writer.write_all(&slow_chunk).await?;
        }
        Ok(())
    };
    tokio::select! {
        result = send => result,
        () = peer_closed(&mut reader) => Ok(()),
    }
}

/// "220-" lines as fast as the client reads, up to 100 MiB, then hold until the client
/// closes or [`HOLD_LIMIT`] passes.
async fn send_endless_reply(stream: &mut TcpStream) -> io::Result<()> {
    send_endless_lines(
        stream,
        b"220-endless.test this reply never ends, keep reading\r\n",
    )
    .await
}

/// `line` over and over as fast as the client reads, up to 100 MiB, then hold until the
/// client closes or [`HOLD_LIMIT`] passes.
async fn send_endless_lines(stream: &mut TcpStream, line: &[u8]) -> io::Result<()> {
    const TOTAL: usize = 100 * 1024 * 1024;
    let (mut reader, mut writer) = stream.split();
    let send = async {
        let chunk: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 1200)
            .collect();
        let mut sent = 0;
        while sent < TOTAL {
            writer.write_all(&chunk).await?;
            sent += chunk.len();
        }
        tokio::time::sleep(HOLD_LIMIT).await;
        Ok(())
    };
    tokio::select! {
        result = send => result,
        () = peer_closed(&mut reader) => Ok(()),
    }
}
