//! The UDP sockets of the probe's DNS queries ([`UdpPool`]): a few sockets per name server, each
//! carrying many queries at once, instead of a socket bound, registered and closed for every
//! datagram.
//!
//! Owns: the sockets, the routing of each datagram to the query that sent its ID, and the
//! sockets' rotation. Must not touch: DNS message content beyond the 2-byte ID (hickory builds,
//! checks and parses the messages), pacing (`probe::dns`, before a socket is asked for), TCP.
//!
//! hickory's UDP client asks its runtime for a fresh socket for each query it sends (first
//! copies and resends alike) and drops it after the answer: a socket, a bind, two epoll
//! registrations and a close per datagram, about an eighth of a 100k-domain scan's CPU. Here
//! the runtime's `bind_udp` (`probe::dns::PacedRuntime`) hands out a [`PooledUdp`] without a
//! system call. Its first send picks a socket of the pool for that server which has no query in
//! flight with the same ID and fewer than [`IN_FLIGHT_PER_SOCKET`] queries in flight, or opens
//! one. One task per socket reads its datagrams and hands each to the query waiting for its ID,
//! if it comes from the server's address (hickory then checks address, ID and question again,
//! as it does with a socket of its own).
//!
//! Spoofing: an off-path answer must match the (port, ID) pair of a query in flight; there are
//! as many such pairs as queries in flight, pooled or not. Ports are the kernel's random
//! ephemeral ones, and a socket is retired after [`QUERIES_PER_SOCKET`] queries or
//! [`SOCKET_LIFETIME`], whichever comes first: a port lives about as long as a burst of queries,
//! never for a whole run. A retired socket takes no new query and closes when its last one ends.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use hickory_resolver::net::runtime::{DnsUdpSocket, TokioTime};
use tokio::net::UdpSocket;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Queries one socket carries at once.
pub const IN_FLIGHT_PER_SOCKET: usize = 64;
/// Queries one socket carries in all before it is retired.
pub const QUERIES_PER_SOCKET: usize = 256;
/// How long a socket takes new queries after it opens.
pub const SOCKET_LIFETIME: Duration = Duration::from_secs(2);
/// Datagrams kept for one query until it reads them (a server that answers twice, a stray
/// copy): more are dropped.
const DATAGRAMS_KEPT: usize = 4;
/// The largest datagram read, hickory's own receive buffer (`MAX_RECEIVE_BUFFER_SIZE`).
const DATAGRAM_MAX: usize = 4096;

/// The pooled sockets of one resolver. Cheap to clone; clones share the sockets.
#[derive(Clone)]
pub struct UdpPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    /// The sockets that take new queries.
    sockets: Mutex<Vec<Arc<Shared>>>,
    lifetime: Duration,
    queries_per_socket: usize,
    in_flight_per_socket: usize,
    /// Sockets opened so far.
    opened: AtomicUsize,
    /// Sockets whose reading task still runs.
    open: AtomicUsize,
}

impl Default for UdpPool {
    fn default() -> Self {
        Self::with_limits(SOCKET_LIFETIME, QUERIES_PER_SOCKET, IN_FLIGHT_PER_SOCKET)
    }
}

impl UdpPool {
    /// A pool whose sockets take queries for `lifetime`, at most `queries_per_socket` in all
    /// and `in_flight_per_socket` at once.
    fn with_limits(lifetime: Duration, queries_per_socket: usize, in_flight: usize) -> Self {
        Self {
            inner: Arc::new(PoolInner {
                sockets: Mutex::new(Vec::new()),
                lifetime,
                queries_per_socket: queries_per_socket.max(1),
                in_flight_per_socket: in_flight.max(1),
                opened: AtomicUsize::new(0),
                open: AtomicUsize::new(0),
            }),
        }
    }

    /// A socket for one query from `local`'s address (its port is not used: a pooled socket
    /// has the kernel's random ephemeral port). No system call until it sends; the server is
    /// the one it sends to.
    pub fn socket(&self, local: SocketAddr) -> PooledUdp {
        PooledUdp {
            pool: self.clone(),
            local: local.ip(),
            claim: Mutex::new(None),
        }
    }

    /// Sockets opened so far.
    pub fn opened(&self) -> usize {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// Sockets still open (their reading task runs).
    pub fn open(&self) -> usize {
        self.inner.open.load(Ordering::Relaxed)
    }

    /// A socket of the pool for `server` from `local` on which query `id` is now awaited.
    fn claim(&self, local: IpAddr, server: SocketAddr, id: u16) -> io::Result<Arc<Shared>> {
        let inner = &self.inner;
        let mut sockets = lock(&inner.sockets);
        let now = Instant::now();
        for shared in sockets.iter() {
            if shared.server != server || shared.local != local || now >= shared.retire_at {
                continue;
            }
            let mut state = shared.state();
            if state.retired
                || state.waiting.len() >= inner.in_flight_per_socket
                || state.waiting.contains_key(&id)
            {
                continue;
            }
            state.waiting.insert(id, Slot::default());
            state.sent += 1;
            let full = state.sent >= inner.queries_per_socket;
            state.retired |= full;
            drop(state);
            let shared = shared.clone();
            if full {
                // Its reading task closes it when its last query ends.
                sockets.retain(|other| !Arc::ptr_eq(other, &shared));
            }
            return Ok(shared);
        }

        let socket = std::net::UdpSocket::bind(SocketAddr::new(local, 0))?;
        socket.set_nonblocking(true)?;
        let sender = socket.try_clone()?;
        let socket = UdpSocket::from_std(socket)?;
        let retired = inner.queries_per_socket <= 1;
        let shared = Arc::new(Shared {
            socket,
            sender,
            server,
            local,
            retire_at: now + inner.lifetime,
            state: Mutex::new(State {
                waiting: HashMap::from([(id, Slot::default())]),
                sent: 1,
                retired,
                dead: None,
            }),
            wake_reader: Notify::new(),
        });
        if !retired {
            sockets.push(shared.clone());
        }
        drop(sockets);
        inner.opened.fetch_add(1, Ordering::Relaxed);
        inner.open.fetch_add(1, Ordering::Relaxed);
        // The guard goes in as an argument, so it also runs when the task is dropped before
        // its first poll (its runtime shutting down).
        tokio::spawn(read_datagrams(Closing {
            shared: shared.clone(),
            pool: Arc::downgrade(inner),
        }));
        Ok(shared)
    }
}

/// One pooled socket and the queries awaiting answers on it.
struct Shared {
    socket: UdpSocket,
    /// The same socket, for sends that do not wait for tokio's readiness: tokio keeps one
    /// waker per direction for its `poll_` calls, so queries sending at once on a new socket
    /// (not yet writable to tokio) would all but one wait for hickory's resend, 0.8 s later.
    sender: std::net::UdpSocket,
    server: SocketAddr,
    local: IpAddr,
    /// From then on it takes no new query.
    retire_at: Instant,
    state: Mutex<State>,
    /// Tells the reading task to look whether it is done.
    wake_reader: Notify,
}

#[derive(Default)]
struct State {
    /// The queries in flight, by ID.
    waiting: HashMap<u16, Slot>,
    /// Queries it has carried.
    sent: usize,
    /// It takes no new query; it closes when `waiting` is empty.
    retired: bool,
    /// Why it can no longer read (its reading task ended); its queries fail with this.
    dead: Option<io::ErrorKind>,
}

/// What one query has received and who waits for it.
#[derive(Default)]
struct Slot {
    datagrams: VecDeque<(Vec<u8>, SocketAddr)>,
    waker: Option<Waker>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Hands a datagram to the query that sent its ID, if it comes from the server.
    fn deliver(&self, datagram: &[u8], from: SocketAddr) {
        if from.ip().to_canonical() != self.server.ip().to_canonical()
            || from.port() != self.server.port()
        {
            return;
        }
        let Some(id) = datagram
            .first_chunk::<2>()
            .map(|id| u16::from_be_bytes(*id))
        else {
            return;
        };
        let mut state = self.state();
        if let Some(slot) = state.waiting.get_mut(&id) {
            if slot.datagrams.len() < DATAGRAMS_KEPT {
                slot.datagrams.push_back((datagram.to_vec(), from));
            }
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }

    /// Query `id` no longer waits; a retired socket's reader is told to look.
    fn release(&self, id: u16) {
        let mut state = self.state();
        state.waiting.remove(&id);
        let done = state.retired && state.waiting.is_empty();
        drop(state);
        if done {
            self.wake_reader.notify_one();
        }
    }
}

/// Reads `shared`'s datagrams until it is retired and its last query has ended (or it cannot
/// read any more: its queries then fail, and the next ones go on a new socket).
async fn read_datagrams(closing: Closing) {
    let (shared, pool) = (&closing.shared, &closing.pool);
    let mut buffer = vec![0u8; DATAGRAM_MAX];
    let mut retired = shared.state().retired;
    loop {
        tokio::select! {
            received = shared.socket.recv_from(&mut buffer) => match received {
                Ok((length, from)) => shared.deliver(&buffer[..length], from),
                // An ICMP error reported on the socket: it concerns one datagram, not the socket.
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
                    ) => {}
                Err(error) => {
                    shared.state().dead = Some(error.kind());
                    return;
                }
            },
            () = shared.wake_reader.notified() => {}
            () = tokio::time::sleep_until(shared.retire_at), if !retired => {
                shared.state().retired = true;
                leave_pool(shared, pool);
            }
        }
        let state = shared.state();
        retired = state.retired;
        if state.retired && state.waiting.is_empty() {
            return;
        }
    }
}

/// Takes `shared` out of the pool's sockets that take new queries.
fn leave_pool(shared: &Arc<Shared>, pool: &Weak<PoolInner>) {
    if let Some(pool) = pool.upgrade() {
        lock(&pool.sockets).retain(|other| !Arc::ptr_eq(other, shared));
    }
}

/// When a socket's reading task ends, however it ends (also when its runtime shuts down): the
/// socket leaves the pool, and queries still waiting on it fail instead of waiting forever.
struct Closing {
    shared: Arc<Shared>,
    pool: Weak<PoolInner>,
}

impl Drop for Closing {
    fn drop(&mut self) {
        let mut state = self.shared.state();
        state.retired = true;
        state.dead.get_or_insert(io::ErrorKind::BrokenPipe);
        let wakers: Vec<Waker> = state
            .waiting
            .values_mut()
            .filter_map(|slot| slot.waker.take())
            .collect();
        drop(state);
        for waker in wakers {
            waker.wake();
        }
        leave_pool(&self.shared, &self.pool);
        if let Some(pool) = self.pool.upgrade() {
            pool.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// The socket hickory sends one query on and reads its answer from: a place on a pooled socket,
/// taken at the first send (the query's ID is known then) and given back when dropped.
pub struct PooledUdp {
    pool: UdpPool,
    local: IpAddr,
    claim: Mutex<Option<(Arc<Shared>, u16)>>,
}

impl DnsUdpSocket for PooledUdp {
    type Time = TokioTime;

    fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let claim = lock(&self.claim);
        let Some((shared, id)) = claim.as_ref() else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "no query was sent on this socket",
            )));
        };
        let mut state = shared.state();
        let dead = state.dead;
        let Some(slot) = state.waiting.get_mut(id) else {
            return Poll::Ready(Err(io::Error::other("the query no longer waits")));
        };
        if let Some((datagram, from)) = slot.datagrams.pop_front() {
            let length = datagram.len().min(buf.len());
            buf[..length].copy_from_slice(&datagram[..length]);
            return Poll::Ready(Ok((length, from)));
        }
        if let Some(kind) = dead {
            return Poll::Ready(Err(io::Error::new(
                kind,
                "the pooled DNS socket can no longer read",
            )));
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let Some(id) = buf.first_chunk::<2>().map(|id| u16::from_be_bytes(*id)) else {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a DNS message has at least an ID",
            )));
        };
        let shared = {
            let mut claim = lock(&self.claim);
            match claim.as_ref() {
                Some((shared, claimed)) if *claimed == id && shared.server == target => {
                    shared.clone()
                }
                _ => {
                    if let Some((shared, claimed)) = claim.take() {
                        shared.release(claimed);
                    }
                    let shared = match self.pool.claim(self.local, target, id) {
                        Ok(shared) => shared,
                        Err(error) => return Poll::Ready(Err(error)),
                    };
                    *claim = Some((shared.clone(), id));
                    shared
                }
            }
        };
        // UDP sends do not block but for a full send buffer; only then wait for tokio.
        match shared.sender.send_to(buf, target) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                shared.socket.poll_send_to(cx, buf, target)
            }
            sent => Poll::Ready(sent),
        }
    }
}

impl Drop for PooledUdp {
    fn drop(&mut self) {
        if let Some((shared, id)) = lock(&self.claim).take() {
            shared.release(id);
        }
    }
}

/// A lock that a panic elsewhere does not poison for good: the data is plain bookkeeping.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server socket on 127.0.0.1 and a pool whose queries go to it.
    async fn server() -> (UdpSocket, SocketAddr) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("server socket");
        let address = socket.local_addr().expect("address");
        (socket, address)
    }

    fn local() -> SocketAddr {
        "0.0.0.0:0".parse().expect("address")
    }

    fn query(id: u16, tail: &[u8]) -> Vec<u8> {
        let mut message = id.to_be_bytes().to_vec();
        message.extend_from_slice(tail);
        message
    }

    async fn send(socket: &PooledUdp, message: &[u8], to: SocketAddr) {
        let sent = socket.send_to(message, to).await.expect("sent");
        assert_eq!(sent, message.len());
    }

    async fn receive(socket: &PooledUdp) -> (Vec<u8>, SocketAddr) {
        let mut buffer = [0u8; 512];
        let (length, from) =
            tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buffer))
                .await
                .expect("an answer in time")
                .expect("received");
        (buffer[..length].to_vec(), from)
    }

    /// Reads `count` queries and answers them in reverse order, each echoed with `!`.
    async fn answer_in_reverse(server: &UdpSocket, count: usize) -> Vec<SocketAddr> {
        let mut received = Vec::new();
        let mut buffer = [0u8; 512];
        for _ in 0..count {
            let (length, from) = server.recv_from(&mut buffer).await.expect("query");
            received.push((buffer[..length].to_vec(), from));
        }
        let mut sources = Vec::new();
        for (mut message, from) in received.into_iter().rev() {
            message.push(b'!');
            server.send_to(&message, from).await.expect("answer");
            sources.push(from);
        }
        sources
    }

    #[tokio::test]
    async fn each_answer_reaches_the_query_that_sent_its_id_on_one_shared_socket() {
        let (server, address) = server().await;
        let pool = UdpPool::default();
        let sockets: Vec<PooledUdp> = (0..10).map(|_| pool.socket(local())).collect();
        for (index, socket) in sockets.iter().enumerate() {
            send(socket, &query(100 + index as u16, b"q"), address).await;
        }
        let sources = answer_in_reverse(&server, sockets.len()).await;
        assert!(
            sources.windows(2).all(|pair| pair[0] == pair[1]),
            "ten queries in flight share one socket: {sources:?}"
        );
        for (index, socket) in sockets.iter().enumerate() {
            let (answer, from) = receive(socket).await;
            assert_eq!(answer, query(100 + index as u16, b"q!"));
            assert_eq!(from, address);
        }
        assert_eq!(pool.opened(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queries_sending_at_once_on_a_new_socket_all_go_out_at_once() {
        let (server, address) = server().await;
        let server = Arc::new(server);
        let echo = {
            let server = server.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 512];
                loop {
                    let Ok((length, from)) = server.recv_from(&mut buffer).await else {
                        return;
                    };
                    let _ = server.send_to(&buffer[..length], from).await;
                }
            })
        };
        let pool = UdpPool::default();
        let queries: Vec<_> = (0..40u16)
            .map(|id| {
                let socket = pool.socket(local());
                tokio::spawn(async move {
                    send(&socket, &query(id, b"q"), address).await;
                    receive(&socket).await.0
                })
            })
            .collect();
        // No resend here: a query whose send waited for a wake-up that never came would hang.
        let answers = tokio::time::timeout(Duration::from_secs(3), async {
            let mut answers = Vec::new();
            for query in queries {
                answers.push(query.await.expect("query task"));
            }
            answers
        })
        .await
        .expect("every query sent and answered at once");
        for (id, answer) in answers.iter().enumerate() {
            assert_eq!(*answer, query(id as u16, b"q"));
        }
        echo.abort();
    }

    #[tokio::test]
    async fn the_same_id_twice_in_flight_goes_on_two_sockets_and_each_copy_gets_its_answer() {
        let (server, address) = server().await;
        let pool = UdpPool::default();
        // hickory resends a query with the same ID while the first copy waits.
        let (first, resend) = (pool.socket(local()), pool.socket(local()));
        send(&first, &query(7, b"a"), address).await;
        send(&resend, &query(7, b"b"), address).await;
        let sources = answer_in_reverse(&server, 2).await;
        assert_ne!(sources[0], sources[1], "two ports for one ID");
        assert_eq!(receive(&first).await.0, query(7, b"a!"));
        assert_eq!(receive(&resend).await.0, query(7, b"b!"));
        assert_eq!(pool.opened(), 2);
    }

    #[tokio::test]
    async fn a_datagram_from_another_address_never_reaches_a_query() {
        let (server, address) = server().await;
        let (stranger, _) = self::server().await;
        let pool = UdpPool::default();
        let socket = pool.socket(local());
        send(&socket, &query(9, b"q"), address).await;
        let mut buffer = [0u8; 512];
        let (_, from) = server.recv_from(&mut buffer).await.expect("query");
        // A forged answer with the right ID from another port, then the server's.
        stranger
            .send_to(&query(9, b"forged"), from)
            .await
            .expect("forged");
        server
            .send_to(&query(9, b"real"), from)
            .await
            .expect("real");
        let (answer, sender) = receive(&socket).await;
        assert_eq!(answer, query(9, b"real"));
        assert_eq!(sender, address);
    }

    #[tokio::test]
    async fn sockets_are_retired_after_their_share_of_queries_or_in_flight_limit() {
        let (server, address) = server().await;
        let pool = UdpPool::with_limits(Duration::from_secs(60), 5, 3);
        let mut sources = Vec::new();
        // One at a time: a new port every five queries.
        for id in 0..12u16 {
            let socket = pool.socket(local());
            send(&socket, &query(id, b"q"), address).await;
            sources.extend(answer_in_reverse(&server, 1).await);
            assert_eq!(receive(&socket).await.0, query(id, b"q!"));
        }
        let ports: Vec<u16> = sources.iter().map(SocketAddr::port).collect();
        assert!(ports[..5].iter().all(|port| *port == ports[0]), "{ports:?}");
        assert!(
            ports[5..10].iter().all(|port| *port == ports[5]),
            "{ports:?}"
        );
        assert_ne!(ports[0], ports[5]);
        assert_ne!(ports[5], ports[10]);
        // Seven at once with at most three in flight per socket: three ports at least.
        let burst: Vec<PooledUdp> = (0..7).map(|_| pool.socket(local())).collect();
        for (index, socket) in burst.iter().enumerate() {
            send(socket, &query(500 + index as u16, b"q"), address).await;
        }
        let mut ports: Vec<u16> = answer_in_reverse(&server, burst.len())
            .await
            .iter()
            .map(SocketAddr::port)
            .collect();
        for (index, socket) in burst.iter().enumerate() {
            assert_eq!(receive(socket).await.0, query(500 + index as u16, b"q!"));
        }
        ports.sort_unstable();
        let mut per_port = ports
            .chunk_by(|a, b| a == b)
            .map(<[u16]>::len)
            .collect::<Vec<_>>();
        per_port.sort_unstable();
        assert!(
            per_port.len() >= 3 && per_port.iter().all(|count| *count <= 3),
            "{ports:?}"
        );
    }

    #[tokio::test]
    async fn a_retired_socket_closes_once_its_last_query_ends() {
        let (server, address) = server().await;
        let pool = UdpPool::with_limits(Duration::from_millis(50), 100, 10);
        let waiting = pool.socket(local());
        send(&waiting, &query(1, b"q"), address).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(pool.open(), 1, "still open: a query waits on it");
        // Past its lifetime it takes no new query: this one opens a new socket.
        let later = pool.socket(local());
        send(&later, &query(2, b"q"), address).await;
        assert_eq!(pool.opened(), 2);
        let sources = answer_in_reverse(&server, 2).await;
        assert_ne!(sources[0], sources[1]);
        assert_eq!(receive(&waiting).await.0, query(1, b"q!"));
        drop(waiting);
        drop(later);
        let deadline = Instant::now() + Duration::from_secs(5);
        while pool.open() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(pool.open(), 0, "both retired and idle: closed");
    }

    #[test]
    fn queries_waiting_when_the_runtime_ends_fail_instead_of_hanging() {
        let pool = UdpPool::default();
        let (socket, address) = {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let (_server, address) = server().await;
                let socket = pool.socket(local());
                send(&socket, &query(3, b"q"), address).await;
                (socket, address)
            })
        };
        assert_eq!(pool.open(), 0, "its reading task ended with the runtime");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let mut buffer = [0u8; 64];
            let answer =
                tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buffer))
                    .await
                    .expect("no hang");
            assert!(answer.is_err(), "{answer:?}");
            // The next query opens a socket in this runtime.
            let next = pool.socket(local());
            send(&next, &query(4, b"q"), address).await;
            assert_eq!(pool.opened(), 2);
        });
    }
}
