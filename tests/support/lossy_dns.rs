//! A UDP relay in front of a test DNS server that drops a seeded share of the datagrams it
//! relays (queries and answers alike), as a congested network or a burst-limited resolver does.
//! The probe then has to resend: what a lost datagram costs is its retry interval.
//!
//! UDP only (a test resolver that falls back to TCP talks to the server directly through the
//! same port number only if the test gives it; this relay has none). Dropping it stops it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

/// How long the relay waits for the server's answer to one query.
const UPSTREAM_WAIT: Duration = Duration::from_secs(5);

/// Which datagrams the relay drops.
#[derive(Clone, Copy, Debug)]
pub enum Loss {
    /// Each datagram (query or answer) with this probability, from a generator seeded with
    /// `seed` (the same seed drops the same sequence of datagrams).
    Random { share: f64, seed: u64 },
    /// The first this many copies of every distinct query (same message but for its id): every
    /// lookup has to send that many more. Answers all pass.
    FirstCopies(usize),
}

/// A running relay. Dropping it stops it.
pub struct LossyDns {
    /// Where clients send their queries (127.0.0.1, UDP).
    pub addr: SocketAddr,
    dropped: Arc<AtomicUsize>,
    relayed: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl LossyDns {
    /// Relays UDP queries to `upstream`, dropping each datagram (query or answer) with
    /// probability `loss`, from a generator seeded with `seed`.
    pub async fn start(upstream: SocketAddr, loss: f64, seed: u64) -> LossyDns {
        Self::start_with(upstream, Loss::Random { share: loss, seed }).await
    }

    /// Relays UDP queries to `upstream`, dropping datagrams as `loss` says.
    pub async fn start_with(upstream: SocketAddr, loss: Loss) -> LossyDns {
        let (share, seed, first_copies) = match loss {
            Loss::Random { share, seed } => (share, seed, 0),
            Loss::FirstCopies(copies) => (0.0, 0, copies),
        };
        let seen = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
            Vec<u8>,
            usize,
        >::new()));
        let socket = Arc::new(
            UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind the relay"),
        );
        let addr = socket.local_addr().expect("relay address");
        let dropped = Arc::new(AtomicUsize::new(0));
        let relayed = Arc::new(AtomicUsize::new(0));
        let rng = Arc::new(std::sync::Mutex::new(fastrand::Rng::with_seed(seed)));
        let (task_dropped, task_relayed) = (dropped.clone(), relayed.clone());
        let task = tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            loop {
                let Ok((length, client)) = socket.recv_from(&mut buffer).await else {
                    return;
                };
                let lose = move |rng: &std::sync::Mutex<fastrand::Rng>| {
                    rng.lock().map(|mut rng| rng.f64() < share).unwrap_or(false)
                };
                // The message after its 2-byte id: the same for a resent query.
                let first_copy = first_copies > 0
                    && length > 2
                    && seen
                        .lock()
                        .map(|mut seen| {
                            let count = seen.entry(buffer[2..length].to_vec()).or_default();
                            *count += 1;
                            *count <= first_copies
                        })
                        .unwrap_or(false);
                if first_copy || lose(&rng) {
                    task_dropped.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                task_relayed.fetch_add(1, Ordering::SeqCst);
                let query = buffer[..length].to_vec();
                let (socket, rng, dropped) = (socket.clone(), rng.clone(), task_dropped.clone());
                tokio::spawn(async move {
                    let Ok(upstream_socket) = UdpSocket::bind("127.0.0.1:0").await else {
                        return;
                    };
                    if upstream_socket.send_to(&query, upstream).await.is_err() {
                        return;
                    }
                    let mut answer = vec![0u8; 65_535];
                    let Ok(Ok((length, _))) =
                        tokio::time::timeout(UPSTREAM_WAIT, upstream_socket.recv_from(&mut answer))
                            .await
                    else {
                        return;
                    };
                    if lose(&rng) {
                        dropped.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    let _ = socket.send_to(&answer[..length], client).await;
                });
            }
        });
        LossyDns {
            addr,
            dropped,
            relayed,
            task,
        }
    }

    /// Datagrams dropped so far (queries and answers).
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }

    /// Queries relayed so far.
    pub fn relayed(&self) -> usize {
        self.relayed.load(Ordering::SeqCst)
    }
}

impl Drop for LossyDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}
