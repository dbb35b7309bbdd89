//! Fuzzes the SMTP reply parser (`probe::reply::parse_reply`) with what a hostile peer may send.
//!
//! Input: the bytes the peer sent. When the first byte is 0x80 or more, the next three bytes set
//! small limits (line, reply, line count) and the rest is the peer's bytes; otherwise the
//! default limits apply to the whole input, so plain SMTP transcripts are good seeds.
//!
//! Checks what the parser promises, not only that it does not panic:
//! - a complete reply is made of whole lines at the start of the buffer, all with its 3-digit
//!   code in 200..=599, `-` on every line but the last, and fits every limit;
//! - the bytes after a complete reply do not change it;
//! - fed in growing prefixes, as from a socket, the answers go Incomplete... then either the same
//!   Complete from the point its last line ends, or errors that stay errors;
//! - tighter limits only ever add limit errors: under them the answer is the one given without
//!   limits, or LineTooLong / ReplyTooLarge / TooManyLines, and a reply that fits them is never
//!   refused;
//! - a complete reply written out again parses to the same reply.

#![no_main]

use libfuzzer_sys::fuzz_target;
use starttls_monitor::probe::reply::{Parsed, Reply, ReplyError, ReplyLimits, parse_reply};

/// No caps at all, to tell what the limits change.
const UNLIMITED: ReplyLimits = ReplyLimits {
    max_line: usize::MAX,
    max_reply: usize::MAX,
    max_lines: usize::MAX,
};

fuzz_target!(|data: &[u8]| {
    let (limits, buffer) = split_limits(data);
    let result = parse_reply(buffer, limits);
    if let Ok(Parsed::Complete { reply, consumed }) = &result {
        check_complete(buffer, reply, *consumed, limits);
    }
    check_prefixes(buffer, limits, &result);
    check_against_unlimited(buffer, limits, &result);
});

fn split_limits(data: &[u8]) -> (ReplyLimits, &[u8]) {
    match data {
        [selector, line, reply, lines, rest @ ..] if *selector >= 0x80 => (
            ReplyLimits {
                max_line: usize::from(*line),
                max_reply: usize::from(*reply) * 4,
                max_lines: usize::from(*lines % 16),
            },
            rest,
        ),
        _ => (ReplyLimits::default(), data),
    }
}

/// The physical lines of a complete reply, each with its `\n`.
fn reply_lines(consumed_bytes: &[u8]) -> Vec<&[u8]> {
    consumed_bytes
        .split_inclusive(|byte| *byte == b'\n')
        .collect()
}

fn fits(consumed_bytes: &[u8], limits: ReplyLimits) -> bool {
    let lines = reply_lines(consumed_bytes);
    consumed_bytes.len() <= limits.max_reply
        && lines.len() <= limits.max_lines
        && lines.iter().all(|line| line.len() <= limits.max_line)
}

fn check_complete(buffer: &[u8], reply: &Reply, consumed: usize, limits: ReplyLimits) {
    assert!(
        consumed > 0 && consumed <= buffer.len(),
        "consumed {consumed}"
    );
    let used = &buffer[..consumed];
    assert_eq!(used.last(), Some(&b'\n'), "a reply ends with its line");
    assert!((200..=599).contains(&reply.code), "code {}", reply.code);
    let lines = reply_lines(used);
    assert_eq!(lines.len(), reply.lines.len(), "one text per line");
    assert!(
        fits(used, limits),
        "a complete reply over the limits {limits:?}"
    );
    let code = reply.code.to_string();
    for (index, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(code.as_bytes()),
            "line {index} has another code"
        );
        let separator = line.get(3).copied();
        if index + 1 < lines.len() {
            assert_eq!(separator, Some(b'-'), "line {index} is not a continuation");
        } else {
            assert!(
                matches!(separator, Some(b' ' | b'\r' | b'\n')),
                "the last line does not end the reply"
            );
        }
    }
    // The bytes after the reply (maybe the start of a TLS handshake) do not change it.
    assert_eq!(
        parse_reply(used, limits),
        Ok(Parsed::Complete {
            reply: reply.clone(),
            consumed
        })
    );
    // Written out again, it reads the same (when the text was UTF-8, so nothing was replaced).
    if std::str::from_utf8(used).is_ok() {
        let mut written = Vec::new();
        for (index, text) in reply.lines.iter().enumerate() {
            let separator = if index + 1 < reply.lines.len() {
                '-'
            } else {
                ' '
            };
            written.extend_from_slice(format!("{}{separator}{text}\r\n", reply.code).as_bytes());
        }
        assert_eq!(
            parse_reply(&written, UNLIMITED),
            Ok(Parsed::Complete {
                reply: reply.clone(),
                consumed: written.len()
            })
        );
    }
}

/// Lengths of the prefixes to try: all for short inputs, else around every line end.
fn prefix_lengths(buffer: &[u8]) -> Vec<usize> {
    if buffer.len() <= 128 {
        return (0..buffer.len()).collect();
    }
    let mut lengths: Vec<usize> = vec![0, 1, 2, 3, 4];
    for (index, byte) in buffer.iter().enumerate() {
        if *byte == b'\n' {
            lengths.extend([index, index + 1, index + 2, index + 5]);
        }
    }
    lengths.retain(|length| *length < buffer.len());
    lengths.sort_unstable();
    lengths.dedup();
    lengths
}

fn check_prefixes(buffer: &[u8], limits: ReplyLimits, full: &Result<Parsed, ReplyError>) {
    let mut errored_at = None;
    for length in prefix_lengths(buffer) {
        let prefix = &buffer[..length];
        match (parse_reply(prefix, limits), full) {
            (Ok(Parsed::Incomplete), _) => assert!(
                errored_at.is_none(),
                "prefix {length} incomplete after an error at {errored_at:?}"
            ),
            (Ok(Parsed::Complete { reply, consumed }), Ok(Parsed::Complete { .. })) => {
                assert_eq!(
                    full,
                    &Ok(Parsed::Complete {
                        reply: reply.clone(),
                        consumed
                    }),
                    "prefix {length} completes differently"
                );
            }
            (Ok(Parsed::Complete { .. }), _) => {
                panic!("prefix {length} is complete, the whole buffer gives {full:?}")
            }
            (Err(_), Err(_)) => {
                errored_at.get_or_insert(length);
            }
            (Err(error), Ok(_)) => {
                panic!("prefix {length} is refused ({error}), the whole buffer gives {full:?}")
            }
        }
    }
    if let Ok(Parsed::Complete { consumed, .. }) = full {
        let before_end = &buffer[..consumed - 1];
        assert_eq!(
            parse_reply(before_end, limits),
            Ok(Parsed::Incomplete),
            "complete before its last newline"
        );
    }
}

fn check_against_unlimited(
    buffer: &[u8],
    limits: ReplyLimits,
    limited: &Result<Parsed, ReplyError>,
) {
    let unlimited = parse_reply(buffer, UNLIMITED);
    if let Ok(Parsed::Complete { consumed, .. }) = &unlimited
        && fits(&buffer[..*consumed], limits)
    {
        assert_eq!(limited, &unlimited, "a reply within {limits:?} is refused");
        return;
    }
    if limited != &unlimited {
        assert!(
            matches!(
                limited,
                Err(ReplyError::LineTooLong { .. }
                    | ReplyError::ReplyTooLarge { .. }
                    | ReplyError::TooManyLines { .. })
            ),
            "limits {limits:?} changed {unlimited:?} into {limited:?}"
        );
    }
    if let Err(error) = &unlimited {
        assert!(
            limited.is_err(),
            "{error} without limits, {limited:?} with them"
        );
    }
}
