//! A `Read` wrapper that refuses what is not a text table before the CSV parser buffers it:
//! NUL bytes (binary files), lines longer than a cap, and records longer than a cap (a quote
//! left open over millions of short lines).
//!
//! Owns: the byte-level limits of an import. Must not touch: CSV syntax (the parser checks in
//! the record limit through [`GuardState`]).

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Why the guard stopped the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A NUL byte on this 1-based line.
    Nul { line: usize },
    /// This 1-based line is longer than the line cap.
    LineTooLong { line: usize },
    /// The record that starts on this 1-based line is longer than the record cap.
    RecordTooLong { line: usize },
}

/// State shared between the guard (inside the CSV reader) and the loop that reads records.
#[derive(Debug, Default)]
pub struct GuardState {
    /// Bytes handed to the parser so far.
    delivered: Cell<u64>,
    /// The parser may not be given bytes past this offset (set after every record).
    record_limit: Cell<u64>,
    /// The line the current record starts on (for the record-too-long message).
    record_line: Cell<usize>,
    refusal: Cell<Option<Refusal>>,
}

impl GuardState {
    /// Called after each record: the next record may use `cap` bytes past `record_end`.
    pub fn record_finished(&self, record_end: u64, next_line: usize, cap: u64) {
        self.record_limit.set(record_end.saturating_add(cap));
        self.record_line.set(next_line);
    }

    /// Why the stream was stopped, if it was.
    pub fn refusal(&self) -> Option<Refusal> {
        self.refusal.get()
    }
}

/// The guard itself; see the module doc.
pub struct Guard<R> {
    inner: R,
    state: Rc<GuardState>,
    line_cap: usize,
    /// 1-based number of the line the next byte belongs to.
    line: usize,
    /// Bytes of the current line seen so far.
    line_length: usize,
}

impl<R: Read> Guard<R> {
    /// Wraps `inner`; the parser's read-ahead must be smaller than the slack in `record_limit`.
    pub fn new(inner: R, state: Rc<GuardState>, line_cap: usize, record_cap: u64) -> Self {
        state.record_limit.set(record_cap);
        state.record_line.set(1);
        Self {
            inner,
            state,
            line_cap,
            line: 1,
            line_length: 0,
        }
    }

    fn refuse(&self, refusal: Refusal) -> io::Error {
        self.state.refusal.set(Some(refusal));
        io::Error::new(
            io::ErrorKind::InvalidData,
            "import refused by the input guard",
        )
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if let Some(refusal) = self.state.refusal.get() {
            return Err(self.refuse(refusal));
        }
        let delivered = self.state.delivered.get();
        let allowed = self.state.record_limit.get().saturating_sub(delivered);
        if allowed == 0 {
            return Err(self.refuse(Refusal::RecordTooLong {
                line: self.state.record_line.get(),
            }));
        }
        let want = buffer
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let count = self.inner.read(&mut buffer[..want])?;
        let chunk = &buffer[..count];
        if let Some(position) = memchr::memchr(0, chunk) {
            let line = self.line + memchr::memchr_iter(b'\n', &chunk[..position]).count();
            return Err(self.refuse(Refusal::Nul { line }));
        }
        let mut start = 0;
        for newline in memchr::memchr_iter(b'\n', chunk) {
            if self.line_length + (newline - start) > self.line_cap {
                return Err(self.refuse(Refusal::LineTooLong { line: self.line }));
            }
            self.line += 1;
            self.line_length = 0;
            start = newline + 1;
        }
        self.line_length += count - start;
        if self.line_length > self.line_cap {
            return Err(self.refuse(Refusal::LineTooLong { line: self.line }));
        }
        self.state.delivered.set(delivered + count as u64);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(input: &[u8], line_cap: usize, record_cap: u64) -> (Vec<u8>, Option<Refusal>) {
        let state = Rc::new(GuardState::default());
        let mut guard = Guard::new(input, Rc::clone(&state), line_cap, record_cap);
        let mut out = Vec::new();
        let result = guard.read_to_end(&mut out);
        assert_eq!(result.is_err(), state.refusal().is_some());
        (out, state.refusal())
    }

    #[test]
    fn text_passes_unchanged() {
        let (out, refusal) = drain(b"a\nbb\nccc\n", 3, 1 << 20);
        assert_eq!(out, b"a\nbb\nccc\n");
        assert_eq!(refusal, None);
    }

    #[test]
    fn nul_is_refused_with_its_line() {
        let (_, refusal) = drain(b"a\nb\nc\0d\n", 100, 1 << 20);
        assert_eq!(refusal, Some(Refusal::Nul { line: 3 }));
    }

    #[test]
    fn long_lines_are_refused_with_their_line() {
        let (_, refusal) = drain(b"ok\nok\ntoo long\n", 4, 1 << 20);
        assert_eq!(refusal, Some(Refusal::LineTooLong { line: 3 }));
        let (_, refusal) = drain(b"ok\nendless", 4, 1 << 20);
        assert_eq!(refusal, Some(Refusal::LineTooLong { line: 2 }));
    }

    #[test]
    fn a_record_past_its_limit_is_refused() {
        let (out, refusal) = drain(b"0123456789", 100, 4);
        assert_eq!(out, b"0123");
        assert_eq!(refusal, Some(Refusal::RecordTooLong { line: 1 }));
    }
}
