//! Fuzzes the CSV import (`import::read_reader`) with arbitrary file contents.
//!
//! Input: the file. Plain CSV / TSV / lists are good seeds.
//!
//! Checks, besides "never panics":
//! - text files without NUL bytes are always read (inputs here stay far below the line and record
//!   caps); a file with a NUL byte is always refused, and only non-UTF-8 files as not UTF-8;
//! - every domain is a valid `DomainName`, given once; every data row is counted exactly once
//!   (domain, duplicate or invalid), the kept invalid lines are the first ones, in file order, with
//!   line numbers inside the file and clipped, printable text;
//! - the chosen column exists; choosing it by number gives the very same preview;
//! - reading the file in tiny pieces (a slow pipe) gives the very same result;
//! - progress starts at 0 and ends at the file's size.

#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use starttls_monitor::import::{
    ColumnChoice, ImportError, ImportErrorKind, ImportOptions, ImportPreview, MAX_CELL_CHARS,
    MAX_INVALID_KEPT, read_reader,
};
use starttls_monitor::model::DomainName;

fuzz_target!(|data: &[u8]| {
    let mut calls = Vec::new();
    let result = read_reader(
        data,
        "fuzz.csv",
        data.len() as u64,
        &ImportOptions::default(),
        &mut |done, total| calls.push((done, total)),
    );
    match &result {
        Ok(preview) => {
            check_preview(data, preview);
            check_progress(data, &calls);
            check_by_index(data, preview);
        }
        Err(error) => check_error(data, error),
    }
    let trickled = read_reader(
        Trickle { data, step: 0 },
        "fuzz.csv",
        data.len() as u64,
        &ImportOptions::default(),
        &mut |_, _| {},
    );
    match (&result, &trickled) {
        (Ok(whole), Ok(pieces)) => assert_eq!(whole, pieces, "read in pieces, the preview differs"),
        (Err(whole), Err(pieces)) => assert_eq!(
            whole.to_string(),
            pieces.to_string(),
            "read in pieces, the error differs"
        ),
        _ => panic!("read in pieces gives {trickled:?}, read whole {result:?}"),
    }
});

/// Physical lines as the import numbers them: split at `\n`, the last one possibly unterminated.
fn line_count(data: &[u8]) -> usize {
    let newlines = data.iter().filter(|byte| **byte == b'\n').count();
    newlines + usize::from(data.last().is_some_and(|byte| *byte != b'\n'))
}

fn check_preview(data: &[u8], preview: &ImportPreview) {
    assert!(!data.contains(&0), "a file with NUL bytes was read");
    assert!(
        matches!(preview.delimiter, b',' | b';' | b'\t' | b'|'),
        "delimiter {:?}",
        preview.delimiter
    );
    assert!(
        preview.column < preview.columns.len(),
        "column {} of {:?}",
        preview.column,
        preview.columns
    );
    let mut seen = std::collections::HashSet::new();
    for domain in &preview.domains {
        assert_eq!(
            DomainName::parse(domain.as_str()).as_ref(),
            Ok(domain),
            "not a valid domain"
        );
        assert!(seen.insert(domain), "{domain} given twice");
    }
    assert_eq!(
        preview.lines_read,
        preview.domains.len() + preview.duplicates + preview.invalid_total,
        "rows not counted exactly once: {preview:?}"
    );
    assert_eq!(
        preview.invalid.len(),
        preview.invalid_total.min(MAX_INVALID_KEPT)
    );
    let lines = line_count(data);
    for pair in preview.invalid.windows(2) {
        // Records split by a lone CR share a physical line.
        assert!(
            pair[0].line <= pair[1].line,
            "invalid lines out of order: {pair:?}"
        );
    }
    for invalid in &preview.invalid {
        assert!(
            invalid.line >= 1 && invalid.line <= lines,
            "invalid line {} in a file of {lines} lines",
            invalid.line
        );
        assert!(invalid.text.chars().count() <= MAX_CELL_CHARS + 1);
        assert!(
            !invalid.text.chars().any(char::is_control),
            "control characters kept: {:?}",
            invalid.text
        );
        assert!(!invalid.reason.is_empty());
    }
}

fn check_progress(data: &[u8], calls: &[(u64, u64)]) {
    let total = data.len() as u64;
    assert_eq!(calls.first(), Some(&(0, total)));
    assert_eq!(calls.last(), Some(&(total, total)));
    assert!(calls.windows(2).all(|pair| pair[0].0 <= pair[1].0));
}

fn check_by_index(data: &[u8], preview: &ImportPreview) {
    let options = ImportOptions {
        column: ColumnChoice::Index(preview.column + 1),
    };
    match read_reader(
        data,
        "fuzz.csv",
        data.len() as u64,
        &options,
        &mut |_, _| {},
    ) {
        Ok(by_index) => assert_eq!(
            &by_index, preview,
            "column by number differs from the guess"
        ),
        Err(error) => panic!("column {} by number: {error}", preview.column + 1),
    }
}

fn check_error(data: &[u8], error: &ImportError) {
    let lines = line_count(data);
    if let Some(line) = error.line {
        assert!(
            line >= 1 && line <= lines,
            "error on line {line} of {lines}: {error}"
        );
    }
    match error.kind {
        ImportErrorKind::Binary => assert!(data.contains(&0), "binary without NUL: {error}"),
        ImportErrorKind::NotUtf8 => assert!(
            std::str::from_utf8(data).is_err(),
            "UTF-8 refused as not UTF-8"
        ),
        _ => panic!("a small file is refused: {error}"),
    }
    if data.contains(&0) {
        assert!(matches!(
            error.kind,
            ImportErrorKind::Binary | ImportErrorKind::NotUtf8
        ));
    }
}

/// A reader that hands out 1, 2, 3, 1, 2, 3... bytes per call, like a slow pipe.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 3 + 1;
        let count = self.step.min(buffer.len()).min(self.data.len());
        buffer[..count].copy_from_slice(&self.data[..count]);
        self.data = &self.data[count..];
        Ok(count)
    }
}
