//! An in-process SOCKS5 server (RFC 1928, user/password RFC 1929) on 127.0.0.1, port 0, that
//! plays one behaviour per instance: a working relay (with or without authentication), one
//! that refuses authentication, one that stalls, one that answers success and then closes (as
//! `ssh -D` does when its host cannot reach the target), one that answers a fixed reply code,
//! and one that relays a few connections and then fails (the proxy lost mid-scan).
//!
//! It records every CONNECT target as it arrived (an IP address, or a name when a client sent
//! one), so a test can assert that DNS stayed local. Must not touch: any non-loopback address
//! (it connects only where the probe asks, and the probe only knows the loopback fleet).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocksMode {
    /// No authentication; relays every CONNECT.
    Open,
    /// Requires this user name and password (RFC 1929); relays every CONNECT.
    Password { username: String, password: String },
    /// Answers the greeting with method 0xFF: no acceptable method.
    RefuseAuth,
    /// Accepts the TCP connection and never says a word.
    Stall,
    /// Answers every CONNECT with success before connecting out, then closes the tunnel
    /// at once — what `ssh -D` does when its host may not reach port 25.
    SuccessThenClose,
    /// Answers every CONNECT with this reply code (e.g. 0x05 connection refused).
    Reply(u8),
    /// Relays this many CONNECTs, then answers each later one with 0x01 (general failure).
    FailAfter(usize),
}

/// A running server; stops when dropped.
pub struct SocksServer {
    pub addr: SocketAddr,
    /// Every CONNECT target, as `IP:PORT` or `name:PORT`.
    pub targets: Arc<Mutex<Vec<String>>>,
    /// CONNECT requests answered.
    pub connects: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SocksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SocksServer {
    /// Starts a server with `mode` on 127.0.0.1 (a free port).
    pub async fn start(mode: SocksMode) -> SocksServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let targets = Arc::new(Mutex::new(Vec::new()));
        let connects = Arc::new(AtomicUsize::new(0));
        let task = {
            let targets = targets.clone();
            let connects = connects.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        return;
                    };
                    let mode = mode.clone();
                    let targets = targets.clone();
                    let connects = connects.clone();
                    tokio::spawn(async move {
                        let _ignored = serve(client, &mode, &targets, &connects).await;
                    });
                }
            })
        };
        SocksServer {
            addr,
            targets,
            connects,
            task,
        }
    }

    /// `socks5://HOST:PORT` (with `user:pass@` when given) for `--proxy` and the settings.
    pub fn url(&self, credentials: Option<(&str, &str)>) -> String {
        match credentials {
            Some((user, pass)) => format!("socks5://{user}:{pass}@{}", self.addr),
            None => format!("socks5://{}", self.addr),
        }
    }

    /// The CONNECT targets seen so far.
    pub fn targets(&self) -> Vec<String> {
        self.targets.lock().expect("lock").clone()
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    addr
}

async fn serve(
    mut client: TcpStream,
    mode: &SocksMode,
    targets: &Mutex<Vec<String>>,
    connects: &AtomicUsize,
) -> std::io::Result<()> {
    if *mode == SocksMode::Stall {
        let mut sink = [0u8; 64];
        while client.read(&mut sink).await? > 0 {}
        return Ok(());
    }
    // Greeting: VER NMETHODS METHODS...
    let mut head = [0u8; 2];
    client.read_exact(&mut head).await?;
    let mut methods = vec![0u8; usize::from(head[1])];
    client.read_exact(&mut methods).await?;
    match mode {
        SocksMode::RefuseAuth => {
            client.write_all(&[0x05, 0xFF]).await?;
            return Ok(());
        }
        SocksMode::Password { username, password } => {
            if !methods.contains(&0x02) {
                client.write_all(&[0x05, 0xFF]).await?;
                return Ok(());
            }
            client.write_all(&[0x05, 0x02]).await?;
            let mut version_and_length = [0u8; 2];
            client.read_exact(&mut version_and_length).await?;
            let mut user = vec![0u8; usize::from(version_and_length[1])];
            client.read_exact(&mut user).await?;
            let mut length = [0u8; 1];
            client.read_exact(&mut length).await?;
            let mut pass = vec![0u8; usize::from(length[0])];
            client.read_exact(&mut pass).await?;
            let accepted = user == username.as_bytes() && pass == password.as_bytes();
            client
                .write_all(&[0x01, if accepted { 0x00 } else { 0x01 }])
                .await?;
            if !accepted {
                return Ok(());
            }
        }
        _ => {
            if !methods.contains(&0x00) {
                client.write_all(&[0x05, 0xFF]).await?;
                return Ok(());
            }
            client.write_all(&[0x05, 0x00]).await?;
        }
    }
    // Request: VER CMD RSV ATYP ADDR PORT
    let mut request = [0u8; 4];
    client.read_exact(&mut request).await?;
    let target = match request[3] {
        0x01 => {
            let mut octets = [0u8; 4];
            client.read_exact(&mut octets).await?;
            std::net::IpAddr::from(octets).to_string()
        }
        0x04 => {
            let mut octets = [0u8; 16];
            client.read_exact(&mut octets).await?;
            format!("[{}]", std::net::IpAddr::from(octets))
        }
        0x03 => {
            let mut length = [0u8; 1];
            client.read_exact(&mut length).await?;
            let mut name = vec![0u8; usize::from(length[0])];
            client.read_exact(&mut name).await?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return Ok(()),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port).await?;
    let target = format!("{target}:{}", u16::from_be_bytes(port));
    targets.lock().expect("lock").push(target.clone());
    let seen = connects.fetch_add(1, Ordering::SeqCst);
    let reply = |code: u8| [0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    match mode {
        SocksMode::Reply(code) => {
            client.write_all(&reply(*code)).await?;
            return Ok(());
        }
        SocksMode::SuccessThenClose => {
            client.write_all(&reply(0x00)).await?;
            return Ok(());
        }
        SocksMode::FailAfter(limit) if seen >= *limit => {
            client.write_all(&reply(0x01)).await?;
            return Ok(());
        }
        _ => {}
    }
    let upstream = match TcpStream::connect(target.as_str()).await {
        Ok(upstream) => upstream,
        Err(error) => {
            let code = match error.kind() {
                std::io::ErrorKind::ConnectionRefused => 0x05,
                std::io::ErrorKind::NetworkUnreachable => 0x03,
                _ => 0x04,
            };
            client.write_all(&reply(code)).await?;
            return Ok(());
        }
    };
    client.write_all(&reply(0x00)).await?;
    let mut upstream = upstream;
    let _ignored = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    Ok(())
}
