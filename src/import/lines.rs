//! Physical lines of an input, with exact 1-based line numbers, refusing what is not a text
//! table before it can use much memory: NUL bytes (binary files) and lines longer than a cap.
//!
//! Owns: the byte-level limits of an import and line numbering. Must not touch: CSV syntax.
//! The first lines can be read ahead ([`LineReader::sample`]) to guess the delimiter and are
//! then replayed, so the input is read once, as a stream.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

/// Why a line could not be read.
#[derive(Debug)]
pub enum LineError {
    /// A NUL byte on this 1-based line.
    Nul { line: usize },
    /// This 1-based line is longer than the cap.
    TooLong { line: usize },
    /// The reader failed on this line.
    Io { line: usize, error: io::Error },
}

/// Reads lines (each with its `\n`, if any) with their numbers.
pub struct LineReader<R> {
    reader: BufReader<R>,
    line_cap: usize,
    /// Number of the next line to come from `reader`.
    next_line: usize,
    /// Lines read ahead by `sample`, handed out again first.
    replay: VecDeque<(usize, Vec<u8>)>,
    bytes_read: u64,
}

impl<R: Read> LineReader<R> {
    /// Wraps `reader`; lines longer than `line_cap` bytes (without the newline) are refused.
    pub fn new(reader: R, line_cap: usize) -> Self {
        Self {
            reader: BufReader::with_capacity(64 * 1024, reader),
            line_cap,
            next_line: 1,
            replay: VecDeque::new(),
            bytes_read: 0,
        }
    }

    /// Bytes taken from the input so far (read-ahead included).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Reads ahead until at least `bytes` bytes or the end, and returns those lines joined (a
    /// leading UTF-8 BOM removed); they are returned again by [`LineReader::next_line`].
    pub fn sample(&mut self, bytes: usize) -> Result<Vec<u8>, LineError> {
        let mut joined = Vec::new();
        for (_, line) in &self.replay {
            joined.extend_from_slice(line);
        }
        while joined.len() < bytes {
            let mut line = Vec::new();
            let Some(number) = self.read_line(&mut line)? else {
                break;
            };
            joined.extend_from_slice(&line);
            self.replay.push_back((number, line));
        }
        Ok(joined)
    }

    /// The next line into `buffer` (replacing its content) and its number; `None` at the end.
    /// The first line loses a UTF-8 byte order mark.
    pub fn next_line(&mut self, buffer: &mut Vec<u8>) -> Result<Option<usize>, LineError> {
        if let Some((number, line)) = self.replay.pop_front() {
            *buffer = line;
            return Ok(Some(number));
        }
        self.read_line(buffer)
    }

    fn read_line(&mut self, buffer: &mut Vec<u8>) -> Result<Option<usize>, LineError> {
        buffer.clear();
        let line = self.next_line;
        // One byte over the cap, plus CR LF (and a BOM on line 1), tells "too long" from
        // "just fits".
        let limit = self.line_cap as u64 + 2 + if line == 1 { 3 } else { 0 };
        let count = (&mut self.reader)
            .take(limit)
            .read_until(b'\n', buffer)
            .map_err(|error| LineError::Io { line, error })?;
        if count == 0 {
            return Ok(None);
        }
        self.bytes_read += count as u64;
        if line == 1 && buffer.starts_with(b"\xEF\xBB\xBF") {
            buffer.drain(..3);
        }
        if memchr::memchr(0, buffer).is_some() {
            return Err(LineError::Nul { line });
        }
        let content = buffer.strip_suffix(b"\n").unwrap_or(buffer);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.len() > self.line_cap {
            return Err(LineError::TooLong { line });
        }
        self.next_line += 1;
        Ok(Some(line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_lines(input: &[u8], cap: usize) -> Result<Vec<(usize, Vec<u8>)>, LineError> {
        let mut reader = LineReader::new(input, cap);
        let mut lines = Vec::new();
        let mut buffer = Vec::new();
        while let Some(number) = reader.next_line(&mut buffer)? {
            lines.push((number, buffer.clone()));
        }
        Ok(lines)
    }

    #[test]
    fn lines_keep_their_newlines_and_numbers() {
        let lines = all_lines(b"\xEF\xBB\xBFa\r\nbb\n\nccc", 3).expect("reads");
        assert_eq!(
            lines,
            [
                (1, b"a\r\n".to_vec()),
                (2, b"bb\n".to_vec()),
                (3, b"\n".to_vec()),
                (4, b"ccc".to_vec())
            ]
        );
    }

    #[test]
    fn nul_and_long_lines_are_refused_with_their_line() {
        assert!(matches!(
            all_lines(b"a\nb\nc\0d\n", 100),
            Err(LineError::Nul { line: 3 })
        ));
        assert!(matches!(
            all_lines(b"ok\nok\ntoo long\n", 4),
            Err(LineError::TooLong { line: 3 })
        ));
        assert!(matches!(
            all_lines(b"ok\nendless", 4),
            Err(LineError::TooLong { line: 2 })
        ));
        // Exactly at the cap, with CRLF, is fine.
        assert!(all_lines(b"abcd\r\nabcd", 4).is_ok());
    }

    #[test]
    fn sampled_lines_are_replayed() {
        let mut reader = LineReader::new(&b"one\ntwo\nthree\n"[..], 100);
        assert_eq!(reader.sample(5).expect("sample"), b"one\ntwo\n");
        assert_eq!(reader.bytes_read(), 8);
        let mut buffer = Vec::new();
        let mut seen = Vec::new();
        while let Some(number) = reader.next_line(&mut buffer).expect("line") {
            seen.push((number, String::from_utf8_lossy(&buffer).into_owned()));
        }
        assert_eq!(
            seen,
            [
                (1, "one\n".to_string()),
                (2, "two\n".to_string()),
                (3, "three\n".to_string())
            ]
        );
    }
}
