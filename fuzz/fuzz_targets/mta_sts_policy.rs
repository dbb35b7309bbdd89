//! Fuzzes the MTA-STS policy parser (`probe::mta_sts::StsPolicy::parse`) with what a hostile
//! policy host may serve at `/.well-known/mta-sts.txt`.
//!
//! Input: the body bytes, as fetched.
//!
//! Checks what the parser promises, not only that it does not panic:
//! - a parsed policy keeps `max_age` within 0..=31557600 and has `mx` patterns unless its mode
//!   is `none`;
//! - every `mx` pattern written out parses to the same pattern, matches a host one label below
//!   it (or its own name), in any case and with a trailing dot, and never the bare parent of a
//!   wildcard;
//! - the policy written out in canonical form parses to the same policy;
//! - line ends do not matter: the body with CRLF turned into LF (or LF into CRLF) parses the
//!   same way (same policy, or the same error on the same line);
//! - an error names a line that exists.

#![no_main]

use libfuzzer_sys::fuzz_target;
use starttls_monitor::model::auth::StsMode;
use starttls_monitor::probe::mta_sts::{MAX_AGE_LIMIT, MxPattern, PolicyError, StsPolicy};

fuzz_target!(|data: &[u8]| check(data));

fn check(data: &[u8]) {
    let parsed = StsPolicy::parse(data);
    match &parsed {
        Ok(policy) => check_policy(policy),
        Err(error) => {
            if let Some(line) = error.line {
                let lines = data.split(|byte| *byte == b'\n').count();
                assert!(line >= 1 && line <= lines, "line {line} of {lines}");
            }
        }
    }
    check_line_ends(data, &parsed);
}

fn check_policy(policy: &StsPolicy) {
    assert!(
        policy.max_age <= MAX_AGE_LIMIT,
        "max_age {}",
        policy.max_age
    );
    if policy.mode != StsMode::None {
        assert!(!policy.mx.is_empty(), "mode {:?} without mx", policy.mode);
    }
    for pattern in &policy.mx {
        let written = pattern.to_string();
        assert_eq!(
            MxPattern::parse(&written).as_ref(),
            Ok(pattern),
            "{written}"
        );
        let (host, parent) = match written.strip_prefix("*.") {
            Some(domain) => (format!("mx.{domain}"), Some(domain.to_string())),
            None => (written.clone(), None),
        };
        assert!(pattern.matches(&host), "{written} does not match {host}");
        assert!(pattern.matches(&format!("{}.", host.to_ascii_uppercase())));
        assert!(policy.matches(&host));
        if let Some(parent) = parent {
            assert!(!pattern.matches(&parent), "{written} matches {parent}");
            assert!(
                !pattern.matches(&format!("a.{host}")),
                "{written}: two labels"
            );
        }
    }
    let text = policy.to_text();
    assert_eq!(
        StsPolicy::parse(text.as_bytes()).as_ref(),
        Ok(policy),
        "canonical text {text:?} parses differently"
    );
}

fn check_line_ends(data: &[u8], parsed: &Result<StsPolicy, PolicyError>) {
    let mut lf = Vec::with_capacity(data.len());
    let mut index = 0;
    while index < data.len() {
        if data[index] == b'\r' && data.get(index + 1) == Some(&b'\n') {
            index += 1;
            continue;
        }
        lf.push(data[index]);
        index += 1;
    }
    // Only where every CR ends a line (`\r\r\n` keeps a CR in the line, so it must differ).
    let clean_crlf = data
        .iter()
        .enumerate()
        .all(|(at, byte)| *byte != b'\r' || data.get(at + 1) == Some(&b'\n'));
    if clean_crlf && lf != data {
        assert_eq!(&StsPolicy::parse(&lf), parsed, "CRLF and LF differ");
    }
    // LF to CRLF only where no CR is around, so no bare CR is created or hidden.
    if !data.contains(&b'\r') {
        let crlf: Vec<u8> = data
            .iter()
            .flat_map(|byte| {
                if *byte == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![*byte]
                }
            })
            .collect();
        assert_eq!(&StsPolicy::parse(&crlf), parsed, "LF and CRLF differ");
    }
}
