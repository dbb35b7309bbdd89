//! One scheduler per database: the app and `starttls-monitor run` never both run scheduled
//! scans of one file.
//!
//! The lock is a file beside the database (`<database>.scheduler.lock`) holding the owner's
//! pid and a heartbeat time, locked with the operating system's advisory file lock
//! (`File::try_lock`) for as long as the owner lives: the kernel releases it when the owner
//! dies, however it dies, so a lock left by a dead process is taken over at once. The pid and
//! heartbeat are for people ("run by another process (pid N)") and for filesystems without
//! advisory locks (there a live pid with a fresh heartbeat holds the lock). The file is never
//! deleted — deleting a locked file would let two processes lock two different files.
//!
//! Owns: the lock file's name, content and rules. Must not touch: the database itself (the
//! lock takes no write there: a heartbeat would wake every reader's data_version watch).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How often the owner rewrites its heartbeat.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(30);
/// Where advisory locks do not work: a heartbeat older than this no longer holds the lock.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// The scheduler lock of one database, held until dropped.
#[derive(Debug)]
pub struct SchedulerLock {
    file: File,
    path: PathBuf,
    /// Whether the OS lock is held (false on filesystems without advisory locks).
    os_locked: bool,
}

/// Someone else runs the schedule of this database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeldElsewhere {
    /// The owner's process id (0 when its file could not be read).
    pub pid: u32,
}

/// What the lock file says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Holder {
    pid: u32,
    heartbeat: Option<OffsetDateTime>,
}

impl Holder {
    fn parse(text: &str) -> Option<Holder> {
        let mut pid = None;
        let mut heartbeat = None;
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("pid", value)) => pid = value.trim().parse().ok(),
                Some(("heartbeat", value)) => {
                    heartbeat = OffsetDateTime::parse(value.trim(), &Rfc3339).ok();
                }
                _ => {}
            }
        }
        pid.map(|pid| Holder { pid, heartbeat })
    }
}

impl SchedulerLock {
    /// The lock file of the database at `database`.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".scheduler.lock");
        PathBuf::from(name)
    }

    /// Takes the scheduler lock of `database`, or says who holds it. A lock whose owner died
    /// is taken over; the pid it named comes back in `Ok((lock, Some(pid)))`.
    pub fn try_acquire(
        database: &Path,
    ) -> std::io::Result<Result<(SchedulerLock, Option<u32>), HeldElsewhere>> {
        let path = Self::path_for(database);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let mut previous = String::new();
        let os_locked = match file.try_lock() {
            Ok(()) => true,
            Err(TryLockError::WouldBlock) => {
                let _ignored = file.read_to_string(&mut previous);
                let pid = Holder::parse(&previous).map_or(0, |holder| holder.pid);
                return Ok(Err(HeldElsewhere { pid }));
            }
            // No advisory locks here: the pid and heartbeat decide.
            Err(TryLockError::Error(_)) => false,
        };
        if os_locked {
            let _ignored = file.read_to_string(&mut previous);
        } else {
            file.read_to_string(&mut previous)?;
        }
        let holder = Holder::parse(&previous);
        let own_pid = std::process::id();
        if !os_locked
            && let Some(holder) = holder
            && holder.pid != own_pid
            && process_alive(holder.pid)
            && holder
                .heartbeat
                .is_some_and(|at| (OffsetDateTime::now_utc() - at).unsigned_abs() < STALE_AFTER)
        {
            return Ok(Err(HeldElsewhere { pid: holder.pid }));
        }
        let mut lock = SchedulerLock {
            file,
            path,
            os_locked,
        };
        lock.heartbeat()?;
        let taken_over = holder
            .map(|holder| holder.pid)
            .filter(|pid| *pid != own_pid && *pid != 0);
        Ok(Ok((lock, taken_over)))
    }

    /// Rewrites the owner's pid and the time now (call every [`HEARTBEAT_INTERVAL`]).
    pub fn heartbeat(&mut self) -> std::io::Result<()> {
        let now = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let content = format!("pid {}\nheartbeat {now}\n", std::process::id());
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(content.as_bytes())?;
        self.file.flush()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SchedulerLock {
    /// Leaves the file (see the module doc), empties it, and releases the OS lock.
    fn drop(&mut self) {
        let _ignored = self.file.set_len(0);
        if self.os_locked {
            let _ignored = self.file.unlock();
        }
    }
}

/// Whether a process with this id runs (Linux: `/proc/PID`; elsewhere assumed alive, so
/// only the heartbeat's age decides).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_next_one_after_it_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("monitor.sqlite3");
        let (first, taken_over) = SchedulerLock::try_acquire(&database)
            .expect("io")
            .expect("free");
        assert_eq!(taken_over, None);
        assert_eq!(
            first.path(),
            dir.path().join("monitor.sqlite3.scheduler.lock")
        );
        let held = SchedulerLock::try_acquire(&database)
            .expect("io")
            .expect_err("held");
        assert_eq!(held.pid, std::process::id());
        drop(first);
        assert!(SchedulerLock::try_acquire(&database).expect("io").is_ok());
    }

    #[test]
    fn a_lock_left_by_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("monitor.sqlite3");
        let now = OffsetDateTime::now_utc().format(&Rfc3339).expect("format");
        std::fs::write(
            SchedulerLock::path_for(&database),
            format!("pid 4194303\nheartbeat {now}\n"),
        )
        .expect("write");
        let (lock, taken_over) = SchedulerLock::try_acquire(&database)
            .expect("io")
            .expect("taken over");
        assert_eq!(taken_over, Some(4_194_303));
        let content = std::fs::read_to_string(lock.path()).expect("read");
        assert!(content.starts_with(&format!("pid {}\n", std::process::id())));
    }

    #[test]
    fn the_file_says_who_and_when() {
        let holder = Holder::parse("pid 42\nheartbeat 2026-12-02T07:00:00Z\n").expect("parses");
        assert_eq!(holder.pid, 42);
        assert!(holder.heartbeat.is_some());
        assert_eq!(Holder::parse(""), None);
    }
}
