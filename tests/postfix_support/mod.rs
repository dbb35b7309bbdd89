//! Real Postfix (Debian's package) on loopback, for tests that check verdicts against real mail
//! server software rather than our scripted fakes.
//!
//! Owns: starting and stopping Postfix instances, each from its own configuration directory in a
//! temporary folder (`chroot = n`, its own queue, a `maillog_file` to read errors from), listening
//! only on one 127.0.x.y address given by an explicit `master.cf` line; and an RSA test CA built
//! with the `openssl` crate (rcgen's ring backend cannot generate RSA keys, and real mail servers
//! mostly have RSA certificates). Must not touch: anything but 127/8 addresses and its own
//! temporary folders; the system's Postfix configuration in /etc/postfix is never read or changed.
//!
//! Every instance is stopped by [`PostfixInstance`]'s `Drop` (`postfix -c DIR stop`, then the
//! master's own process id if it lingers), also when a test panics.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509NameBuilder};

/// Where Debian installs the `postfix` command.
const POSTFIX: &str = "/usr/sbin/postfix";
/// Where Debian installs Postfix's daemons (`master`, `smtpd`, ...).
const DAEMON_DIRECTORY: &str = "/usr/lib/postfix/sbin";
/// How long an instance may take to accept connections after `postfix start`.
const START_DEADLINE: Duration = Duration::from_secs(20);
/// How long `postfix stop` may take before the master is killed by its process id.
const STOP_DEADLINE: Duration = Duration::from_secs(5);

/// Whether the Postfix tests can run here. When they cannot, says so plainly on stderr (past
/// the test harness's output capture, so it shows in a normal `cargo test` run) and returns
/// false; under CI (`CI=true`) it panics instead, since CI installs Postfix and a silent skip
/// there would hide a broken setup.
pub fn postfix_ready(test_name: &str) -> bool {
    let problem = if !Path::new(POSTFIX).exists() {
        Some(format!(
            "postfix is not installed ({POSTFIX} is missing; on Debian: DEBIAN_FRONTEND=noninteractive apt-get install postfix, choosing \"No configuration\")"
        ))
    } else if !running_as_root() {
        Some("postfix's master daemon must be started as root, and these tests are not".into())
    } else {
        None
    };
    let Some(problem) = problem else {
        return true;
    };
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!("{test_name}: {problem}; CI=true, so this is a failure, not a skip");
    }
    let message = format!("\n*** SKIPPED {test_name}: {problem} ***\n");
    // Straight to the file descriptor: libtest captures only the print macros.
    let _ = std::io::stderr().lock().write_all(message.as_bytes());
    false
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A port that is free on 127.0.0.1 right now; every instance of a test listens on it, each on
/// its own address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("binding 127.0.0.1:0 to find a free port")
}

/// Returns a 127.0.x.y address never returned before in this process, in a block chosen by the
/// process id so that test processes running at once rarely meet.
pub fn next_loopback_ip() -> Ipv4Addr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let block = 2 + (std::process::id() % 200) as u8;
    let offset = NEXT.fetch_add(1, Ordering::SeqCst);
    let host = u8::try_from(1 + offset).expect("fewer than 255 Postfix instances per process");
    Ipv4Addr::new(127, 0, block, host)
}

/// A private key and certificate chain for a Postfix instance, in PEM.
#[derive(Clone)]
pub struct Credentials {
    pub key_pem: Vec<u8>,
    /// Leaf first (then nothing: the test root is given to the probe with `--ca-file`).
    pub chain_pem: Vec<u8>,
}

/// Validity window of a generated leaf, relative to now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// now - 1 day .. now + 90 days
    Current,
    /// now - 60 days .. now - 30 days
    Expired,
}

/// A throw-away RSA-2048 root CA, like the roots that sign most mail servers' certificates.
pub struct RsaPki {
    ca_key: PKey<Private>,
    ca_cert: X509,
}

impl Default for RsaPki {
    fn default() -> Self {
        Self::new()
    }
}

impl RsaPki {
    /// Generates the root, valid now - 1 year .. now + 10 years.
    pub fn new() -> RsaPki {
        let ca_key = rsa_key(2048);
        let now = unix_now();
        let mut builder = X509Builder::new().expect("X509 builder");
        builder.set_version(2).expect("version");
        builder
            .set_serial_number(&serial().to_asn1_integer().expect("serial"))
            .expect("serial");
        let name = {
            let mut name = X509NameBuilder::new().expect("name builder");
            name.append_entry_by_text("CN", "starttls-monitor Postfix Test Root CA")
                .expect("CN");
            name.build()
        };
        builder.set_subject_name(&name).expect("subject");
        builder.set_issuer_name(&name).expect("issuer");
        builder.set_pubkey(&ca_key).expect("public key");
        builder
            .set_not_before(&Asn1Time::from_unix(now - 365 * 86_400).expect("time"))
            .expect("not before");
        builder
            .set_not_after(&Asn1Time::from_unix(now + 3650 * 86_400).expect("time"))
            .expect("not after");
        let constraints = BasicConstraints::new()
            .critical()
            .ca()
            .build()
            .expect("basic constraints");
        builder.append_extension(constraints).expect("extension");
        let usage = KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()
            .expect("key usage");
        builder.append_extension(usage).expect("extension");
        let key_id = SubjectKeyIdentifier::new()
            .build(&builder.x509v3_context(None, None))
            .expect("subject key id");
        builder.append_extension(key_id).expect("extension");
        builder
            .sign(&ca_key, MessageDigest::sha256())
            .expect("self-signing the test root");
        RsaPki {
            ca_key,
            ca_cert: builder.build(),
        }
    }

    /// The root certificate in PEM, for `--ca-file`.
    pub fn ca_pem(&self) -> Vec<u8> {
        self.ca_cert.to_pem().expect("root to PEM")
    }

    /// Writes the root to `dir/ca.pem` and returns the path.
    pub fn write_ca_file(&self, dir: &Path) -> PathBuf {
        let path = dir.join("ca.pem");
        std::fs::write(&path, self.ca_pem())
            .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
        path
    }

    /// A leaf with an RSA key of `bits` for `sans`, signed by this root (SHA-256).
    pub fn leaf(&self, sans: &[&str], validity: Validity, bits: u32) -> Credentials {
        let key = rsa_key(bits);
        let cert = leaf_cert(sans, validity, &key, Some((&self.ca_cert, &self.ca_key)));
        Credentials {
            key_pem: key.private_key_to_pem_pkcs8().expect("key to PEM"),
            chain_pem: cert.to_pem().expect("leaf to PEM"),
        }
    }

    /// A self-signed RSA-2048 leaf for `sans` that no root trusts.
    pub fn self_signed(sans: &[&str], validity: Validity) -> Credentials {
        let key = rsa_key(2048);
        let cert = leaf_cert(sans, validity, &key, None);
        Credentials {
            key_pem: key.private_key_to_pem_pkcs8().expect("key to PEM"),
            chain_pem: cert.to_pem().expect("leaf to PEM"),
        }
    }
}

fn rsa_key(bits: u32) -> PKey<Private> {
    let rsa = Rsa::generate(bits).unwrap_or_else(|error| panic!("RSA-{bits} key: {error}"));
    PKey::from_rsa(rsa).expect("wrapping an RSA key")
}

fn serial() -> BigNum {
    let mut serial = BigNum::new().expect("bignum");
    serial
        .rand(64, MsbOption::MAYBE_ZERO, false)
        .expect("random serial");
    serial
}

fn unix_now() -> i64 {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(seconds).expect("time fits i64")
}

/// A server certificate: CN = first SAN, SANs as DNS names, key usage digitalSignature and
/// keyEncipherment (RSA key exchange needs the latter), EKU serverAuth.
fn leaf_cert(
    sans: &[&str],
    validity: Validity,
    key: &PKey<Private>,
    issuer: Option<(&X509, &PKey<Private>)>,
) -> X509 {
    let first = sans.first().expect("a leaf needs a SAN");
    let now = unix_now();
    let (not_before, not_after) = match validity {
        Validity::Current => (now - 86_400, now + 90 * 86_400),
        Validity::Expired => (now - 60 * 86_400, now - 30 * 86_400),
    };
    let mut builder = X509Builder::new().expect("X509 builder");
    builder.set_version(2).expect("version");
    builder
        .set_serial_number(&serial().to_asn1_integer().expect("serial"))
        .expect("serial");
    let subject = {
        let mut name = X509NameBuilder::new().expect("name builder");
        name.append_entry_by_text("CN", first).expect("CN");
        name.build()
    };
    builder.set_subject_name(&subject).expect("subject");
    match issuer {
        Some((ca_cert, _)) => builder
            .set_issuer_name(ca_cert.subject_name())
            .expect("issuer"),
        None => builder.set_issuer_name(&subject).expect("issuer"),
    }
    builder.set_pubkey(key).expect("public key");
    builder
        .set_not_before(&Asn1Time::from_unix(not_before).expect("time"))
        .expect("not before");
    builder
        .set_not_after(&Asn1Time::from_unix(not_after).expect("time"))
        .expect("not after");
    let constraints = BasicConstraints::new().build().expect("basic constraints");
    builder.append_extension(constraints).expect("extension");
    let usage = KeyUsage::new()
        .critical()
        .digital_signature()
        .key_encipherment()
        .build()
        .expect("key usage");
    builder.append_extension(usage).expect("extension");
    let purpose = ExtendedKeyUsage::new()
        .server_auth()
        .build()
        .expect("extended key usage");
    builder.append_extension(purpose).expect("extension");
    let mut names = SubjectAlternativeName::new();
    for san in sans {
        names.dns(san);
    }
    let names = names
        .build(&builder.x509v3_context(issuer.map(|(ca_cert, _)| ca_cert.as_ref()), None))
        .expect("subjectAltName");
    builder.append_extension(names).expect("extension");
    if let Some((ca_cert, _)) = issuer {
        let authority = AuthorityKeyIdentifier::new()
            .keyid(false)
            .build(&builder.x509v3_context(Some(ca_cert), None))
            .expect("authority key id");
        builder.append_extension(authority).expect("extension");
    }
    let signing_key = issuer.map_or(key, |(_, ca_key)| ca_key);
    builder
        .sign(signing_key, MessageDigest::sha256())
        .expect("signing a leaf");
    builder.build()
}

/// How one Postfix instance is set up.
pub struct InstanceConfig {
    /// Short label for messages and the folder name, e.g. `defaults`.
    pub label: String,
    /// `myhostname`: what the greeting and EHLO say.
    pub hostname: String,
    pub ip: Ipv4Addr,
    pub port: u16,
    /// Key and certificate; `None` leaves TLS off (no STARTTLS).
    pub credentials: Option<Credentials>,
    /// Extra `main.cf` lines, e.g. `smtpd_tls_protocols = >=TLSv1.2`.
    pub main_cf: Vec<String>,
    /// Start the daemons with an OpenSSL configuration at security level 0, so that libssl
    /// accepts what an old server has (an RSA-1024 key when loading it, TLS 1.0/1.1).
    pub openssl_security_level_0: bool,
}

/// A running Postfix instance. Dropping it stops the instance.
pub struct PostfixInstance {
    pub label: String,
    pub address: SocketAddr,
    config_dir: PathBuf,
    maillog: PathBuf,
    started: bool,
    _dir: tempfile::TempDir,
}

impl PostfixInstance {
    /// Writes the configuration, starts Postfix, and waits until it greets. Panics with the
    /// instance's log when it does not start.
    pub fn start(config: InstanceConfig) -> PostfixInstance {
        let dir = tempfile::Builder::new()
            .prefix(&format!("stm-postfix-{}-", config.label))
            .tempdir()
            .expect("temp dir");
        let root = dir.path().to_path_buf();
        let config_dir = root.join("etc");
        let queue_dir = root.join("queue");
        let data_dir = root.join("data");
        for folder in [&config_dir, &queue_dir, &data_dir] {
            std::fs::create_dir_all(folder)
                .unwrap_or_else(|error| panic!("creating {}: {error}", folder.display()));
        }
        // The postfix user must reach the queue and data directories.
        chmod(&root, 0o755);
        chown_postfix(&data_dir);
        let maillog = root.join("maillog");

        let mut main_cf = vec![
            "compatibility_level = 3.6".to_string(),
            format!("queue_directory = {}", queue_dir.display()),
            format!("data_directory = {}", data_dir.display()),
            format!("daemon_directory = {DAEMON_DIRECTORY}"),
            "mail_owner = postfix".into(),
            "setgid_group = postdrop".into(),
            format!("myhostname = {}", config.hostname),
            "mydomain = postfix.test".into(),
            "mydestination =".into(),
            "inet_interfaces = loopback-only".into(),
            "inet_protocols = ipv4".into(),
            "mynetworks = 127.0.0.0/8".into(),
            "alias_maps =".into(),
            "alias_database =".into(),
            "local_recipient_maps =".into(),
            "smtpd_peername_lookup = no".into(),
            "biff = no".into(),
            format!("maillog_file = {}", maillog.display()),
            format!("maillog_file_prefixes = {}", root.display()),
            "smtpd_tls_loglevel = 1".into(),
        ];
        match &config.credentials {
            Some(credentials) => {
                let key = root.join("key.pem");
                let chain = root.join("chain.pem");
                write(&key, &credentials.key_pem);
                chmod(&key, 0o600);
                write(&chain, &credentials.chain_pem);
                main_cf.push("smtpd_tls_security_level = may".into());
                main_cf.push(format!(
                    "smtpd_tls_chain_files = {}, {}",
                    key.display(),
                    chain.display()
                ));
            }
            None => main_cf.push("smtpd_tls_security_level = none".into()),
        }
        if config.openssl_security_level_0 {
            let openssl_cnf = root.join("openssl.cnf");
            write(
                &openssl_cnf,
                b"openssl_conf = openssl_init\n\
                  [openssl_init]\nssl_conf = ssl_sect\n\
                  [ssl_sect]\nsystem_default = system_default_sect\n\
                  [system_default_sect]\nCipherString = DEFAULT:@SECLEVEL=0\n",
            );
            main_cf.push(format!(
                "import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C \
                 POSTLOG_SERVICE POSTLOG_HOSTNAME OPENSSL_CONF={}",
                openssl_cnf.display()
            ));
        }
        main_cf.extend(config.main_cf.iter().cloned());
        write(
            &config_dir.join("main.cf"),
            (main_cf.join("\n") + "\n").as_bytes(),
        );
        // Explicit address:port so that any 127/8 address binds; every service chroot = n.
        let master_cf = format!(
            "{ip}:{port} inet n - n - - smtpd\n\
             postlog unix-dgram n - n - 1 postlogd\n\
             tlsmgr unix - - n 1000? 1 tlsmgr\n\
             anvil unix - - n - 1 anvil\n",
            ip = config.ip,
            port = config.port,
        );
        write(&config_dir.join("master.cf"), master_cf.as_bytes());

        let mut instance = PostfixInstance {
            label: config.label,
            address: SocketAddr::from((config.ip, config.port)),
            config_dir,
            maillog,
            started: false,
            _dir: dir,
        };
        let output = Command::new(POSTFIX)
            .arg("-c")
            .arg(&instance.config_dir)
            .arg("start")
            .output()
            .unwrap_or_else(|error| panic!("running {POSTFIX}: {error}"));
        // From here on, Drop stops whatever did start.
        instance.started = true;
        if !output.status.success() {
            panic!(
                "Postfix instance '{}' did not start ({}): {}{}\n--- maillog ---\n{}",
                instance.label,
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                instance.log()
            );
        }
        instance.wait_for_greeting();
        instance
    }

    /// Connects until the instance greets with 220, then says QUIT. Panics with the log when it
    /// does not within [`START_DEADLINE`].
    fn wait_for_greeting(&self) {
        let deadline = Instant::now() + START_DEADLINE;
        let mut last_problem = String::new();
        while Instant::now() < deadline {
            match TcpStream::connect_timeout(&self.address, Duration::from_secs(1)) {
                Ok(mut stream) => {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut greeting = [0u8; 512];
                    match stream.read(&mut greeting) {
                        Ok(read) if greeting[..read].starts_with(b"220") => {
                            let _ = stream.write_all(b"QUIT\r\n");
                            let _ = stream.read(&mut greeting);
                            return;
                        }
                        Ok(read) => {
                            last_problem = format!(
                                "greeting {:?}",
                                String::from_utf8_lossy(&greeting[..read])
                            );
                        }
                        Err(error) => last_problem = format!("reading the greeting: {error}"),
                    }
                }
                Err(error) => last_problem = format!("connecting: {error}"),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "Postfix instance '{}' on {} did not greet within {:?} ({last_problem})\n--- maillog ---\n{}",
            self.label,
            self.address,
            START_DEADLINE,
            self.log()
        );
    }

    /// The instance's log so far (Postfix's `maillog_file`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.maillog)
            .unwrap_or_else(|error| format!("(no maillog at {}: {error})", self.maillog.display()))
    }

    /// The `disconnect from ...` summary lines: one per SMTP session, with the commands seen,
    /// e.g. `ehlo=2 starttls=1 quit=1 commands=4`.
    pub fn session_summaries(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|line| line.contains("smtpd[") && line.contains(": disconnect from "))
            .map(|line| {
                line.split_once("]: disconnect from ")
                    .map_or(line, |(_, rest)| rest)
                    .to_string()
            })
            .collect()
    }

    fn master_pid(&self) -> Option<u32> {
        let queue = self.config_dir.parent()?.join("queue");
        std::fs::read_to_string(queue.join("pid").join("master.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for PostfixInstance {
    fn drop(&mut self) {
        if !self.started {
            return;
        }
        let master = self.master_pid();
        let _ = Command::new(POSTFIX)
            .arg("-c")
            .arg(&self.config_dir)
            .arg("stop")
            .output();
        let Some(pid) = master else {
            return;
        };
        // `postfix stop` only signals the master; wait for it so no daemon outlives the test.
        let deadline = Instant::now() + STOP_DEADLINE;
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if Path::new(&format!("/proc/{pid}")).exists() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .output();
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes)
        .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|error| panic!("chmod {mode:o} {}: {error}", path.display()));
}

fn chown_postfix(path: &Path) {
    let status = Command::new("chown").arg("postfix").arg(path).status();
    assert!(
        status.is_ok_and(|status| status.success()),
        "chown postfix {}",
        path.display()
    );
}
