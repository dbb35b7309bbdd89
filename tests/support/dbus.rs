//! A private D-Bus session bus for tests: `dbus-daemon` from its own config, listening on a
//! socket in a temporary directory, stopped when dropped. Needs `dbus-daemon` (CI installs it);
//! [`dbus_ready`] says plainly when it is missing, and fails under `CI=true`.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's `dbus-daemon` package puts the daemon.
pub const DBUS_DAEMON: &str = "/usr/bin/dbus-daemon";

/// Whether the test can run: says why not on stderr, or panics under `CI=true`.
pub fn dbus_ready(test_name: &str) -> bool {
    if Path::new(DBUS_DAEMON).exists() {
        return true;
    }
    let problem = format!("{DBUS_DAEMON} is missing (on Debian: apt-get install dbus-daemon)");
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!("{test_name}: {problem}; CI=true, so this is a failure, not a skip");
    }
    let message = format!("\n*** SKIPPED {test_name}: {problem} ***\n");
    let _ = std::io::stderr().lock().write_all(message.as_bytes());
    false
}

/// A private session bus: `dbus-daemon` from its own config, listening on a socket in `dir`.
pub struct SessionBus {
    child: Child,
    /// The bus address (`unix:path=…`) for clients.
    pub address: String,
}

impl SessionBus {
    /// Starts the daemon; panics if it makes no socket within 10 s.
    pub fn start(dir: &Path) -> SessionBus {
        let socket = dir.join("bus");
        let config = dir.join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        let child = Command::new(DBUS_DAEMON)
            .arg(format!("--config-file={}", config.display()))
            .arg("--nofork")
            .arg("--nopidfile")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "dbus-daemon made no socket");
            std::thread::sleep(Duration::from_millis(20));
        }
        SessionBus {
            child,
            address: format!("unix:path={}", socket.display()),
        }
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
