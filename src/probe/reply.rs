//! SMTP reply parsing (RFC 5321 4.2) on a growing buffer, with hard caps.
//!
//! Owns: turning bytes from a peer into a [`Reply`] (code + text lines) or a precise error.
//! Must not touch: sockets or time; [`super::smtp`] feeds it bytes and enforces deadlines.
//!
//! Like lettre's parser: "incomplete" until the final `NNN ` line; mixed codes are an error; a
//! line longer than the cap or a reply larger than the cap is an error even before it ends, so a
//! hostile peer can never make us buffer without bound.

use std::fmt;

/// Caps that bound memory for one reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyLimits {
    /// Longest accepted line, CRLF included. RFC 5321 says 512; real servers send longer.
    pub max_line: usize,
    /// Largest accepted reply, all lines together.
    pub max_reply: usize,
    /// Most lines in one reply.
    pub max_lines: usize,
}

impl Default for ReplyLimits {
    fn default() -> Self {
        Self {
            max_line: 4096,
            max_reply: 64 * 1024,
            max_lines: 512,
        }
    }
}

/// A complete SMTP reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code, e.g. 250.
    pub code: u16,
    /// The text of each line after the code and separator (may be empty).
    pub lines: Vec<String>,
}

impl Reply {
    /// First digit 2: the command succeeded.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// All lines joined with a space, for messages and the `smtp_text` field.
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// EHLO keywords offered (every line but the first), e.g. `STARTTLS`, `SIZE 10240000`.
    pub fn extensions(&self) -> Vec<String> {
        self.lines.iter().skip(1).cloned().collect()
    }

    /// Whether an EHLO reply advertises `keyword` (case-insensitive, as its first word).
    pub fn has_extension(&self, keyword: &str) -> bool {
        self.lines.iter().skip(1).any(|line| {
            line.split_ascii_whitespace()
                .next()
                .is_some_and(|first| first.eq_ignore_ascii_case(keyword))
        })
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.code, self.text())
    }
}

/// Why bytes from the peer are not an acceptable SMTP reply.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("not an SMTP reply: line {line} starts with {got:?}, expected a 3-digit code")]
    NotSmtp { line: usize, got: String },
    #[error("mixed reply codes: line 1 has {expected}, line {line} has {got}")]
    MixedCodes {
        expected: u16,
        got: u16,
        line: usize,
    },
    #[error("reply line longer than {max} bytes")]
    LineTooLong { max: usize },
    #[error("reply larger than {max} bytes")]
    ReplyTooLarge { max: usize },
    #[error("reply with more than {max} lines")]
    TooManyLines { max: usize },
}

/// Result of looking at the buffer so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// More bytes are needed.
    Incomplete,
    /// A whole reply, and how many bytes of the buffer it used.
    Complete { reply: Reply, consumed: usize },
}

/// Tries to parse one reply from the start of `buffer`.
pub fn parse_reply(buffer: &[u8], limits: ReplyLimits) -> Result<Parsed, ReplyError> {
    let mut position = 0;
    let mut code: Option<u16> = None;
    let mut lines = Vec::new();
    loop {
        let rest = &buffer[position..];
        let Some(newline) = rest.iter().position(|byte| *byte == b'\n') else {
            // An unfinished line: refuse early if it is already not SMTP or too long.
            check_prefix(rest, lines.len() + 1)?;
            if rest.len() >= limits.max_line {
                return Err(ReplyError::LineTooLong {
                    max: limits.max_line,
                });
            }
            if position + rest.len() > limits.max_reply {
                return Err(ReplyError::ReplyTooLarge {
                    max: limits.max_reply,
                });
            }
            return Ok(Parsed::Incomplete);
        };
        if newline + 1 > limits.max_line {
            return Err(ReplyError::LineTooLong {
                max: limits.max_line,
            });
        }
        let raw_line = &rest[..newline];
        let line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        position += newline + 1;
        if position > limits.max_reply {
            return Err(ReplyError::ReplyTooLarge {
                max: limits.max_reply,
            });
        }
        let line_number = lines.len() + 1;
        let (line_code, is_last, text) = split_line(line, line_number)?;
        match code {
            None => code = Some(line_code),
            Some(expected) if expected != line_code => {
                return Err(ReplyError::MixedCodes {
                    expected,
                    got: line_code,
                    line: line_number,
                });
            }
            Some(_) => {}
        }
        // Counted before the line is kept, so that even a final line cannot exceed the cap.
        if lines.len() >= limits.max_lines {
            return Err(ReplyError::TooManyLines {
                max: limits.max_lines,
            });
        }
        lines.push(text);
        if is_last {
            return Ok(Parsed::Complete {
                reply: Reply {
                    code: line_code,
                    lines,
                },
                consumed: position,
            });
        }
        if lines.len() >= limits.max_lines {
            return Err(ReplyError::TooManyLines {
                max: limits.max_lines,
            });
        }
    }
}

/// Rejects a partial line early when its first bytes already cannot start an SMTP reply line.
fn check_prefix(partial: &[u8], line_number: usize) -> Result<(), ReplyError> {
    for (index, byte) in partial.iter().take(4).enumerate() {
        let acceptable = if index < 3 {
            byte.is_ascii_digit()
        } else {
            matches!(byte, b' ' | b'-' | b'\r')
        };
        if !acceptable {
            return Err(not_smtp(partial, line_number));
        }
    }
    Ok(())
}

fn not_smtp(line: &[u8], line_number: usize) -> ReplyError {
    let shown: String = String::from_utf8_lossy(&line[..line.len().min(16)]).into_owned();
    ReplyError::NotSmtp {
        line: line_number,
        got: shown,
    }
}

/// Splits `NNN-text` / `NNN text` / `NNN` into code, last-line flag and text.
fn split_line(line: &[u8], line_number: usize) -> Result<(u16, bool, String), ReplyError> {
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return Err(not_smtp(line, line_number));
    }
    let code = u16::from(line[0] - b'0') * 100
        + u16::from(line[1] - b'0') * 10
        + u16::from(line[2] - b'0');
    if !(200..600).contains(&code) {
        return Err(not_smtp(line, line_number));
    }
    let (is_last, text) = match line.get(3) {
        None => (true, &line[3..]),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => return Err(not_smtp(line, line_number)),
    };
    Ok((code, is_last, String::from_utf8_lossy(text).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: &str) -> Result<Parsed, ReplyError> {
        parse_reply(input.as_bytes(), ReplyLimits::default())
    }

    fn complete(input: &str) -> (Reply, usize) {
        match parse(input) {
            Ok(Parsed::Complete { reply, consumed }) => (reply, consumed),
            other => panic!("expected a complete reply for {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn single_line_reply() {
        let (reply, consumed) = complete("220 mx.example.org ESMTP Postfix\r\n");
        assert_eq!(reply.code, 220);
        assert_eq!(reply.lines, vec!["mx.example.org ESMTP Postfix"]);
        assert_eq!(consumed, 34);
    }

    #[test]
    fn multi_line_ehlo_reply_with_extensions() {
        let (reply, _) = complete(
            "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-starttls\r\n250 8BITMIME\r\n",
        );
        assert_eq!(reply.code, 250);
        assert!(reply.has_extension("STARTTLS"));
        assert!(!reply.has_extension("AUTH"));
        assert_eq!(
            reply.extensions(),
            vec!["PIPELINING", "SIZE 10240000", "starttls", "8BITMIME"]
        );
    }

    #[test]
    fn the_greeting_line_is_not_an_extension() {
        let (reply, _) = complete("250-STARTTLS.example.org\r\n250 SIZE\r\n");
        assert!(!reply.has_extension("STARTTLS"));
    }

    #[test]
    fn incomplete_until_the_final_line() {
        assert_eq!(parse("250-first\r\n250-second\r\n"), Ok(Parsed::Incomplete));
        assert_eq!(parse("250 no newline yet"), Ok(Parsed::Incomplete));
        assert_eq!(parse(""), Ok(Parsed::Incomplete));
        assert_eq!(parse("25"), Ok(Parsed::Incomplete));
    }

    #[test]
    fn bare_lf_and_bare_code_are_tolerated() {
        let (reply, _) = complete("220\n");
        assert_eq!(reply.code, 220);
        assert_eq!(reply.lines, vec![""]);
    }

    #[test]
    fn bytes_after_the_reply_are_left_in_the_buffer() {
        let (reply, consumed) = complete("220 Go ahead\r\n\x16\x03\x01");
        assert_eq!(reply.code, 220);
        assert_eq!(consumed, 14);
    }

    #[test]
    fn garbage_is_rejected_early() {
        assert!(matches!(
            parse("\x16\x03\x01\x00"),
            Err(ReplyError::NotSmtp { line: 1, .. })
        ));
        assert!(matches!(
            parse("HTTP/1.1 400"),
            Err(ReplyError::NotSmtp { .. })
        ));
        assert!(matches!(
            parse("2200 x\r\n"),
            Err(ReplyError::NotSmtp { .. })
        ));
        assert!(matches!(
            parse("999 x\r\n"),
            Err(ReplyError::NotSmtp { .. })
        ));
    }

    #[test]
    fn mixed_codes_are_rejected() {
        assert_eq!(
            parse("250-a\r\n251 b\r\n"),
            Err(ReplyError::MixedCodes {
                expected: 250,
                got: 251,
                line: 2
            })
        );
    }

    #[test]
    fn caps_bound_memory() {
        let limits = ReplyLimits {
            max_line: 16,
            max_reply: 40,
            max_lines: 3,
        };
        let long_line = format!("220 {}", "x".repeat(20));
        assert_eq!(
            parse_reply(long_line.as_bytes(), limits),
            Err(ReplyError::LineTooLong { max: 16 })
        );
        let long_line_done = format!("220 {}\r\n", "x".repeat(20));
        assert_eq!(
            parse_reply(long_line_done.as_bytes(), limits),
            Err(ReplyError::LineTooLong { max: 16 })
        );
        assert_eq!(
            parse_reply(b"250-a\r\n250-b\r\n250-c\r\n250 d\r\n", limits),
            Err(ReplyError::TooManyLines { max: 3 })
        );
        assert!(matches!(
            parse_reply(b"250-a\r\n250-b\r\n250 c\r\n", limits),
            Ok(Parsed::Complete { .. })
        ));
        let big = "250-aaaaaaaa\r\n".repeat(2) + "250-aaaaaaaa\r\n";
        let limits = ReplyLimits {
            max_lines: 100,
            ..limits
        };
        assert_eq!(
            parse_reply(big.as_bytes(), limits),
            Err(ReplyError::ReplyTooLarge { max: 40 })
        );
    }

    /// Found by the `smtp_reply` fuzz target: with `max_lines: 0` a one-line reply was accepted.
    #[test]
    fn the_line_cap_holds_for_the_final_line_too() {
        let limits = ReplyLimits {
            max_lines: 0,
            ..ReplyLimits::default()
        };
        assert_eq!(
            parse_reply(b"220 ready\r\n", limits),
            Err(ReplyError::TooManyLines { max: 0 })
        );
    }

    #[test]
    fn non_utf8_text_is_kept_lossily() {
        let (reply, _) = match parse_reply(b"220 caf\xe9\r\n", ReplyLimits::default()) {
            Ok(Parsed::Complete { reply, consumed }) => (reply, consumed),
            other => panic!("{other:?}"),
        };
        assert_eq!(reply.lines, vec!["caf\u{fffd}"]);
    }
}
