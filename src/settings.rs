//! The user's persistent settings: schedule, politeness, timeouts, resolver, trust anchors.
//!
//! Owns: the plain data, its defaults and validation. Stored by `store` as JSON (missing fields
//! take their defaults, so old databases keep working); turned into a probe configuration by
//! `monitor`. Must not touch: I/O.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Settings saved in the database and used by the next scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Hours between scheduled scans. Default 24.
    pub scan_interval_hours: u32,
    /// Whether the schedule is paused (manual scans still run). Default false.
    pub paused: bool,
    /// Domains probed at the same time. Default 64.
    pub concurrency: usize,
    /// TCP connect timeout in seconds. Default 10.
    pub connect_timeout_secs: u32,
    /// Deadline for the whole greeting in seconds. Default 30.
    pub greeting_timeout_secs: u32,
    /// Deadline for each later reply and for the TLS handshake, in seconds. Default 30.
    pub command_timeout_secs: u32,
    /// Deadline for a whole scan in minutes; what is not done by then is left for the next.
    /// Default 360.
    pub scan_deadline_minutes: u32,
    /// Name given in EHLO; empty means the probe's default.
    pub ehlo_name: String,
    /// DNS server as `IP`, `IP:PORT` or `[IPv6]:PORT`; empty means the system resolver.
    pub dns_server: String,
    /// Extra trust anchors (PEM file), added to the Mozilla roots.
    pub ca_file: Option<PathBuf>,
    /// SMTP port. Default 25; other values are for test fleets.
    pub smtp_port: u16,
    /// Deep mode: also ask whether servers prefer non-forward-secret suites.
    pub deep: bool,
    /// Raise "certificate expires soon" this many days ahead. Default 14.
    pub expiry_warning_days: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            scan_interval_hours: 24,
            paused: false,
            concurrency: 64,
            connect_timeout_secs: 10,
            greeting_timeout_secs: 30,
            command_timeout_secs: 30,
            scan_deadline_minutes: 360,
            ehlo_name: String::new(),
            dns_server: String::new(),
            ca_file: None,
            smtp_port: 25,
            deep: false,
            expiry_warning_days: 14,
        }
    }
}

impl Settings {
    /// Every problem with these settings, in words; empty when they can be used.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.scan_interval_hours == 0 || self.scan_interval_hours > 24 * 365 {
            problems.push("scan interval must be between 1 hour and 1 year".to_string());
        }
        if self.concurrency == 0 || self.concurrency > 4096 {
            problems.push("concurrency must be between 1 and 4096".to_string());
        }
        for (value, name) in [
            (self.connect_timeout_secs, "connect timeout"),
            (self.greeting_timeout_secs, "greeting timeout"),
            (self.command_timeout_secs, "reply timeout"),
        ] {
            if value == 0 || value > 600 {
                problems.push(format!("{name} must be between 1 and 600 seconds"));
            }
        }
        if self.scan_deadline_minutes == 0 {
            problems.push("scan deadline must be at least 1 minute".to_string());
        }
        if self.smtp_port == 0 {
            problems.push("SMTP port must be between 1 and 65535".to_string());
        }
        if self.expiry_warning_days > 365 {
            problems.push("expiry warning must be at most 365 days".to_string());
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_json_with_missing_fields_takes_defaults() {
        let settings: Settings =
            serde_json::from_str(r#"{"concurrency": 8}"#).expect("partial settings parse");
        assert_eq!(settings.concurrency, 8);
        assert_eq!(settings.scan_interval_hours, 24);
        assert_eq!(settings.expiry_warning_days, 14);
    }

    #[test]
    fn problems_are_named() {
        assert!(Settings::default().problems().is_empty());
        let settings = Settings {
            concurrency: 0,
            smtp_port: 0,
            ..Settings::default()
        };
        let problems = settings.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("concurrency"));
    }
}
