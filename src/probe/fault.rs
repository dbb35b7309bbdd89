//! Test-only fault injection: makes one probe task panic (the task of a chosen domain, MX host or
//! address), so that tests can check that a failed task still yields its result and the run goes
//! on (issue 12, part 9).
//!
//! Owns: the list of injected faults and the check the probe calls at the start of each task.
//! Must not touch: anything else. Without the `fault-injection` cargo feature (off by default;
//! only the crate's own tests turn it on, through its dev-dependency on itself) [`trip`] is an
//! empty function and nothing here reads the environment, so no build people use can be made to
//! panic.

/// The level of a probe task, from the widest to the narrowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultLevel {
    /// A domain's task in `ProbeRun::probe_many`, chosen by the ASCII domain name.
    Domain,
    /// An MX host's task within a domain, chosen by the host name as in the MX record (lower
    /// case, no trailing dot; for an implicit MX, the domain).
    MxHost,
    /// One address's SMTP session within an MX host, chosen by the IP address as text
    /// (`127.0.0.5`, `::1`).
    Address,
}

/// Panics when a fault is injected for `name` at `level`; the probe calls this at the start of
/// each task. Does nothing without the `fault-injection` feature.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn trip(_level: FaultLevel, _name: &str) {}

#[cfg(feature = "fault-injection")]
pub(crate) use enabled::trip;
#[cfg(feature = "fault-injection")]
pub use enabled::{ENVIRONMENT_VARIABLE, inject_panic};

#[cfg(feature = "fault-injection")]
mod enabled {
    use std::sync::{Mutex, OnceLock};

    use super::FaultLevel;

    /// Faults for a child process (the binary under test): a comma-separated list of
    /// `domain:NAME`, `mx_host:NAME` and `address:IP`, read once when the first task starts.
    pub const ENVIRONMENT_VARIABLE: &str = "STARTTLS_MONITOR_FAULTS";

    /// Faults injected in this process by [`inject_panic`].
    static INJECTED: Mutex<Vec<(FaultLevel, String)>> = Mutex::new(Vec::new());

    /// Makes every later task at `level` for `name` panic, in this process. Faults stay until
    /// the process ends: tests choose names no other test uses.
    pub fn inject_panic(level: FaultLevel, name: impl Into<String>) {
        let mut injected = INJECTED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        injected.push((level, name.into()));
    }

    /// The faults named in [`ENVIRONMENT_VARIABLE`]; entries it cannot read are ignored.
    fn from_environment() -> &'static [(FaultLevel, String)] {
        static FROM_ENVIRONMENT: OnceLock<Vec<(FaultLevel, String)>> = OnceLock::new();
        FROM_ENVIRONMENT.get_or_init(|| {
            std::env::var(ENVIRONMENT_VARIABLE)
                .map(|text| parse(&text))
                .unwrap_or_default()
        })
    }

    pub(super) fn parse(text: &str) -> Vec<(FaultLevel, String)> {
        text.split(',')
            .filter_map(|entry| {
                let (level, name) = entry.trim().split_once(':')?;
                let level = match level {
                    "domain" => FaultLevel::Domain,
                    "mx_host" => FaultLevel::MxHost,
                    "address" => FaultLevel::Address,
                    _ => return None,
                };
                Some((level, name.to_string()))
            })
            .collect()
    }

    fn is_injected(level: FaultLevel, name: &str) -> bool {
        let matches = |(fault_level, fault_name): &(FaultLevel, String)| {
            *fault_level == level && fault_name == name
        };
        if from_environment().iter().any(matches) {
            return true;
        }
        INJECTED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .any(matches)
    }

    /// Panics when a fault is injected for `name` at `level`.
    pub(crate) fn trip(level: FaultLevel, name: &str) {
        if is_injected(level, name) {
            panic!("injected fault: the {level:?} task for {name} panics");
        }
    }
}

#[cfg(all(test, feature = "fault-injection"))]
mod tests {
    use super::*;

    #[test]
    fn the_environment_list_names_level_and_name() {
        assert_eq!(
            enabled::parse("domain:a.test, mx_host:mx.b.test,address:127.0.0.5,address:::1"),
            vec![
                (FaultLevel::Domain, "a.test".to_string()),
                (FaultLevel::MxHost, "mx.b.test".to_string()),
                (FaultLevel::Address, "127.0.0.5".to_string()),
                (FaultLevel::Address, "::1".to_string()),
            ]
        );
        assert_eq!(enabled::parse(""), Vec::new());
        assert_eq!(enabled::parse("nonsense,host:x"), Vec::new());
    }

    #[test]
    fn only_the_injected_task_panics() {
        inject_panic(FaultLevel::MxHost, "mx.fault-unit.test");
        trip(FaultLevel::MxHost, "mx.other.test");
        trip(FaultLevel::Domain, "mx.fault-unit.test");
        let panicked = std::panic::catch_unwind(|| trip(FaultLevel::MxHost, "mx.fault-unit.test"));
        assert!(panicked.is_err());
    }
}
