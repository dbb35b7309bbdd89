//! CSV import: reads a spreadsheet export (or a plain list) and turns one of its columns into
//! validated domain names, with a report of every line that could not be used.
//!
//! Owns: reading CSV robustly (header or not, `,` `;` tab or `|`, quotes, UTF-8 BOM, CRLF, blank
//! lines, `#` comments), guessing the domain column, normalizing cells (e-mail, URL, IDN; see
//! [`normalize_domain`]) and refusing files that are not text tables (NUL bytes, lines over
//! [`MAX_LINE_BYTES`]) before they can use much memory: the file is streamed, never read whole.
//! Must not touch: the database. Applying a preview is the caller's one call to
//! `Store::add_domains(list, &preview.domains)`, which also says what was already present.
//! Depends only on `model`.
//!
//! Meant to run on a background thread: [`read_file`] reports progress through a callback and
//! holds no locks.
//!
//! Short lists typed or pasted by people (arguments, `domains add -`, the app's "Add domains"
//! box) go through [`domain_list`] instead.

mod detect;
pub mod domain_list;
mod lines;
mod normalize;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

pub use normalize::{NormalizeError, normalize_domain};

use crate::model::{DomainName, Weight};
use detect::Sample;
use lines::{LineError, LineReader};

/// Longest physical line accepted (64 KiB); a longer one refuses the file (binary or garbage).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Longest record accepted (256 KiB), for quoted cells that span lines.
pub const MAX_RECORD_BYTES: u64 = 256 * 1024;
/// At most this many invalid lines are kept with their text (the count goes on).
pub const MAX_INVALID_KEPT: usize = 10_000;
/// Cell text kept in an [`InvalidLine`] is cut to this many characters.
pub const MAX_CELL_CHARS: usize = 80;
/// Rows looked at to guess the header and the domain column.
const SAMPLE_ROWS: usize = 1_000;
/// Bytes looked at to guess the delimiter.
const SNIFF_BYTES: usize = 64 * 1024;
/// How often (in bytes read) progress is reported.
const PROGRESS_STEP: u64 = 256 * 1024;

/// Which column holds the domains.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ColumnChoice {
    /// Guess: the column where most cells are domains (a header like "domain" or "email"
    /// helps). The default.
    #[default]
    Auto,
    /// The column with this header name (case-insensitive); the file must have it in its first
    /// row.
    Name(String),
    /// The column at this position, counting from 1.
    Index(usize),
}

/// How to read a file. `Default` guesses everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// Which column holds the domains (default: guess).
    pub column: ColumnChoice,
    /// Which column holds each domain's weight (mail volume): `Some(Auto)`, the default, takes
    /// the first column whose header says volume, count, messages or weight (none: no weights);
    /// `None` reads no weights.
    pub weight_column: Option<ColumnChoice>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            column: ColumnChoice::Auto,
            weight_column: Some(ColumnChoice::Auto),
        }
    }
}

impl ImportOptions {
    /// Domains from `column`, weights found by their header (the default for weights).
    pub fn with_column(column: ColumnChoice) -> Self {
        Self {
            column,
            ..Self::default()
        }
    }
}

/// What a file holds, ready to show and to apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportPreview {
    /// Column names: the header's cells, or `column 1`, `column 2`... without a header (an empty
    /// header cell also gets `column N`).
    pub columns: Vec<String>,
    /// The 0-based column the domains were taken from.
    pub column: usize,
    /// Whether the first row was read as a header (and not imported).
    pub has_header: bool,
    /// The field delimiter found: `,`, `;`, tab or `|`.
    pub delimiter: u8,
    /// Valid domains, each once, in the order they first appear.
    pub domains: Vec<DomainName>,
    /// The 0-based column the weights were taken from; None when the file gave none.
    pub weight_column: Option<usize>,
    /// With a weight column: each domain's weight, in the order of `domains`. Duplicate rows
    /// of one domain add their weights up (the file lists mail per sender, say); an empty or
    /// missing weight cell is 1. Empty without a weight column.
    pub weights: Vec<Weight>,
    /// Rows whose domain was already given by an earlier row of the file.
    pub duplicates: usize,
    /// Rows that gave no domain (or a bad weight), with line number and reason; at most
    /// [`MAX_INVALID_KEPT`] (the first ones). `invalid_total` counts them all.
    pub invalid: Vec<InvalidLine>,
    /// All rows that gave no domain.
    pub invalid_total: usize,
    /// Data rows read: every record except the header, blank lines and `#` comments.
    pub lines_read: usize,
}

/// A row that gave no domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidLine {
    /// 1-based line number where the row starts in the file.
    pub line: usize,
    /// The cell's text, cut to [`MAX_CELL_CHARS`] characters (with `…`), control characters
    /// replaced by `?`. Show it escaped: it comes from the file.
    pub text: String,
    /// Why, in words.
    pub reason: String,
}

/// Why a file could not be read; the message names the file and, where it applies, the line.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}{}: {kind}", line.map(|line| format!(" line {line}")).unwrap_or_default())]
pub struct ImportError {
    /// The file name as given, or e.g. `standard input`.
    pub source_name: String,
    /// 1-based line, when the trouble has one.
    pub line: Option<usize>,
    /// What went wrong.
    pub kind: ImportErrorKind,
}

/// What went wrong while reading a file.
#[derive(Debug, thiserror::Error)]
pub enum ImportErrorKind {
    /// The file could not be opened (missing, permissions, a folder).
    #[error("cannot open: {0}")]
    Open(io::Error),
    /// Reading failed part way.
    #[error("read error: {0}")]
    Read(io::Error),
    /// NUL bytes: a binary file (spreadsheet, archive, image), not text.
    #[error(
        "contains NUL bytes: this looks like a binary file, not CSV text; export it as CSV (UTF-8) first"
    )]
    Binary,
    /// Most sampled rows are not UTF-8.
    #[error("is not UTF-8 text; export it as CSV (UTF-8) first")]
    NotUtf8,
    /// A line longer than [`MAX_LINE_BYTES`].
    #[error("is longer than {} KiB: this does not look like a list of domains", MAX_LINE_BYTES / 1024)]
    LineTooLong,
    /// A record (quoted cells spanning lines) longer than [`MAX_RECORD_BYTES`].
    #[error("starts a record longer than {} KiB (an unclosed quote?)", MAX_RECORD_BYTES / 1024)]
    RecordTooLong,
    /// `--column NAME` not found in the first row.
    #[error("has no column named '{name}' in its first row (columns: {available})")]
    NoSuchColumn {
        /// The name asked for.
        name: String,
        /// The first row's cells, comma-separated.
        available: String,
    },
    /// The weight column asked for is the column the domains come from.
    #[error("column {} holds the domains; it cannot hold the weights too", index + 1)]
    WeightColumnIsDomainColumn {
        /// The 0-based column.
        index: usize,
    },
    /// `--column N` beyond the last column.
    #[error("has {columns} column(s); column {index} does not exist (columns count from 1)")]
    ColumnOutOfRange {
        /// The 1-based position asked for.
        index: usize,
        /// How many columns the file has.
        columns: usize,
    },
    /// The CSV parser failed in a way the guard did not catch.
    #[error("{0}")]
    Csv(String),
}

/// Reads and checks the CSV file at `path` (see the module doc); `progress(done, total)` is
/// called with byte counts every 256 KiB and at the end.
pub fn read_file(
    path: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportPreview, ImportError> {
    let name = path.display().to_string();
    let fail = |kind| ImportError {
        source_name: name.clone(),
        line: None,
        kind,
    };
    if path.is_dir() {
        return Err(fail(ImportErrorKind::Open(io::Error::other(
            "is a folder, not a file",
        ))));
    }
    let file = File::open(path).map_err(|error| fail(ImportErrorKind::Open(error)))?;
    let total = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    read_reader(file, &name, total, options, progress)
}

/// Like [`read_file`] for any reader (standard input, tests). `source_name` names it in errors;
/// `total_bytes` is passed to `progress` as the total (0 when unknown).
pub fn read_reader(
    reader: impl Read,
    source_name: &str,
    total_bytes: u64,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportPreview, ImportError> {
    let fail = |(line, kind): (Option<usize>, ImportErrorKind)| ImportError {
        source_name: source_name.to_string(),
        line,
        kind,
    };
    progress(0, total_bytes);
    let mut lines = LineReader::new(reader, MAX_LINE_BYTES);
    // The first lines decide the delimiter; they are then replayed to the parser.
    let sample = lines
        .sample(SNIFF_BYTES)
        .map_err(|error| fail(line_error(error)))?;
    let delimiter = detect::sniff_delimiter(&sample);
    drop(sample);
    let mut rows = RowReader::new(lines, delimiter);

    // Phase 1: the first rows, to guess the header and the column.
    let mut head: Vec<Row> = Vec::new();
    while head.len() < SAMPLE_ROWS {
        match rows.next().map_err(fail)? {
            Some(row) => head.push(row),
            None => break,
        }
    }
    let not_utf8 = head.iter().filter(|row| row.cells.is_none()).count();
    if not_utf8 > 0 && not_utf8 * 2 >= head.len() {
        let first = head
            .iter()
            .find(|row| row.cells.is_none())
            .map(|row| row.line);
        return Err(fail((first, ImportErrorKind::NotUtf8)));
    }
    let text_rows: Vec<Vec<String>> = head.iter().filter_map(|row| row.cells.clone()).collect();
    let sample = Sample { rows: &text_rows };
    let column_count = text_rows.iter().map(Vec::len).max().unwrap_or(0);
    let first_row = head.first().and_then(|row| row.cells.as_ref());
    let (has_header, column) = match &options.column {
        ColumnChoice::Auto => {
            let has_header = sample.has_header();
            (has_header, sample.domain_column(has_header))
        }
        ColumnChoice::Name(name) => {
            let wanted = name.trim();
            let found = first_row.and_then(|cells| {
                cells
                    .iter()
                    .position(|cell| cell.trim().eq_ignore_ascii_case(wanted))
            });
            let Some(index) = found else {
                return Err(fail((
                    head.first().map(|row| row.line),
                    ImportErrorKind::NoSuchColumn {
                        name: wanted.to_string(),
                        available: first_row
                            .map(|cells| cells.iter().map(|c| clip(c)).collect::<Vec<_>>())
                            .unwrap_or_default()
                            .join(", "),
                    },
                )));
            };
            (true, index)
        }
        ColumnChoice::Index(index) => {
            if *index == 0 || *index > column_count.max(1) {
                return Err(fail((
                    None,
                    ImportErrorKind::ColumnOutOfRange {
                        index: *index,
                        columns: column_count,
                    },
                )));
            }
            (sample.has_header(), index - 1)
        }
    };
    let weight_column = match &options.weight_column {
        None => None,
        Some(ColumnChoice::Auto) => {
            if has_header {
                first_row.and_then(|cells| {
                    cells
                        .iter()
                        .enumerate()
                        .position(|(index, cell)| index != column && detect::is_weight_header(cell))
                })
            } else {
                None
            }
        }
        Some(ColumnChoice::Name(name)) => {
            let wanted = name.trim();
            let found = first_row.and_then(|cells| {
                cells
                    .iter()
                    .position(|cell| cell.trim().eq_ignore_ascii_case(wanted))
            });
            let Some(index) = found.filter(|_| has_header) else {
                return Err(fail((
                    head.first().map(|row| row.line),
                    ImportErrorKind::NoSuchColumn {
                        name: wanted.to_string(),
                        available: first_row
                            .map(|cells| cells.iter().map(|c| clip(c)).collect::<Vec<_>>())
                            .unwrap_or_default()
                            .join(", "),
                    },
                )));
            };
            Some(index)
        }
        Some(ColumnChoice::Index(index)) => {
            if *index == 0 || *index > column_count.max(1) {
                return Err(fail((
                    None,
                    ImportErrorKind::ColumnOutOfRange {
                        index: *index,
                        columns: column_count,
                    },
                )));
            }
            Some(index - 1)
        }
    };
    if weight_column == Some(column) {
        return Err(fail((
            None,
            ImportErrorKind::WeightColumnIsDomainColumn { index: column },
        )));
    }
    let columns = (0..column_count.max(1))
        .map(|index| {
            let named = if has_header {
                first_row
                    .and_then(|cells| cells.get(index))
                    .map(|cell| clip(cell))
            } else {
                None
            };
            match named {
                Some(name) if !name.is_empty() => name,
                _ => format!("column {}", index + 1),
            }
        })
        .collect();

    // Phase 2: every row, the sampled ones first, then the rest as it streams in.
    let mut collector = Collector {
        column,
        preview: ImportPreview {
            columns,
            column,
            has_header,
            delimiter,
            weight_column,
            ..ImportPreview::default()
        },
        weight_column,
        seen: HashMap::new(),
    };
    for row in head.into_iter().skip(usize::from(has_header)) {
        collector.add(row);
    }
    let mut reported = 0;
    while let Some(row) = rows.next().map_err(fail)? {
        collector.add(row);
        let done = rows.lines.bytes_read();
        if done >= reported + PROGRESS_STEP {
            reported = done;
            progress(done, total_bytes);
        }
    }
    let done = rows.lines.bytes_read();
    progress(done, total_bytes.max(done));
    Ok(collector.preview)
}

fn line_error(error: LineError) -> (Option<usize>, ImportErrorKind) {
    match error {
        LineError::Nul { line } => (Some(line), ImportErrorKind::Binary),
        LineError::TooLong { line } => (Some(line), ImportErrorKind::LineTooLong),
        LineError::Io { line, error } => (Some(line), ImportErrorKind::Read(error)),
    }
}

/// One record: the line it starts on and its cells, trimmed (`None` when it is not UTF-8).
struct Row {
    line: usize,
    cells: Option<Vec<String>>,
}

/// Feeds physical lines to the CSV state machine (`csv-core`, the engine of the `csv` crate)
/// so that each record knows the exact line it starts on, even after comments, blank lines,
/// CRLF and quoted cells spanning lines. Blank lines and `#` comments between records are
/// skipped; a record may use at most [`MAX_RECORD_BYTES`] of input.
struct RowReader<R: Read> {
    lines: LineReader<R>,
    core: csv_core::Reader,
    line: Vec<u8>,
    /// How much of `line` the parser has consumed.
    offset: usize,
    line_number: usize,
    /// The line the record being parsed starts on; `None` between records.
    start_line: Option<usize>,
    /// Input bytes the current record has used.
    record_bytes: u64,
    fields: Vec<u8>,
    ends: Vec<usize>,
    field_length: usize,
    field_count: usize,
    finished: bool,
}

impl<R: Read> RowReader<R> {
    fn new(lines: LineReader<R>, delimiter: u8) -> Self {
        Self {
            lines,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            line: Vec::new(),
            offset: 0,
            line_number: 0,
            start_line: None,
            record_bytes: 0,
            fields: vec![0; 4096],
            ends: vec![0; 64],
            field_length: 0,
            field_count: 0,
            finished: false,
        }
    }

    /// The next non-blank record, or `None` at the end.
    fn next(&mut self) -> Result<Option<Row>, (Option<usize>, ImportErrorKind)> {
        use csv_core::ReadRecordResult;
        loop {
            if self.finished {
                return Ok(None);
            }
            let at_end_of_input = if self.offset >= self.line.len() {
                match self.lines.next_line(&mut self.line).map_err(line_error)? {
                    Some(number) => {
                        self.offset = 0;
                        self.line_number = number;
                        if self.start_line.is_none() {
                            if is_blank_or_comment(&self.line) {
                                self.offset = self.line.len();
                                continue;
                            }
                            self.start_line = Some(number);
                        }
                        false
                    }
                    None => true,
                }
            } else {
                false
            };
            let input: &[u8] = if at_end_of_input {
                &[]
            } else {
                &self.line[self.offset..]
            };
            let (result, read, written, ended) = self.core.read_record(
                input,
                &mut self.fields[self.field_length..],
                &mut self.ends[self.field_count..],
            );
            self.offset += read;
            self.record_bytes += read as u64;
            self.field_length += written;
            self.field_count += ended;
            if self.record_bytes > MAX_RECORD_BYTES {
                return Err((self.start_line, ImportErrorKind::RecordTooLong));
            }
            match result {
                ReadRecordResult::InputEmpty => {
                    if at_end_of_input {
                        self.finished = true;
                    }
                }
                ReadRecordResult::OutputFull => {
                    let larger = self.fields.len() * 2;
                    self.fields.resize(larger, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let larger = self.ends.len() * 2;
                    self.ends.resize(larger, 0);
                }
                ReadRecordResult::Record => {
                    let line = self.start_line.unwrap_or(self.line_number);
                    let row = self.take_row(line);
                    // More records on the same physical line (a lone CR as line break).
                    let rest = &self.line[self.offset.min(self.line.len())..];
                    self.start_line = rest
                        .iter()
                        .any(|byte| !matches!(byte, b'\r' | b'\n'))
                        .then_some(self.line_number);
                    if let Some(row) = row {
                        return Ok(Some(row));
                    }
                }
                ReadRecordResult::End => {
                    self.finished = true;
                }
            }
        }
    }

    /// Turns the parsed fields into a row (`None` when every cell is empty) and resets.
    fn take_row(&mut self, line: usize) -> Option<Row> {
        let mut cells = Some(Vec::with_capacity(self.field_count));
        let mut start = 0;
        for end in &self.ends[..self.field_count] {
            let field = &self.fields[start..*end];
            start = *end;
            match (std::str::from_utf8(field), cells.as_mut()) {
                (Ok(text), Some(cells)) => cells.push(text.trim().to_string()),
                _ => cells = None,
            }
        }
        self.field_length = 0;
        self.field_count = 0;
        self.record_bytes = 0;
        if let Some(cells) = &cells
            && cells.iter().all(String::is_empty)
        {
            return None;
        }
        Some(Row { line, cells })
    }
}

/// A line with nothing but whitespace, or whose first visible character is `#`.
fn is_blank_or_comment(line: &[u8]) -> bool {
    match line.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None => true,
        Some(byte) => *byte == b'#',
    }
}

/// Builds the preview row by row.
struct Collector {
    column: usize,
    weight_column: Option<usize>,
    preview: ImportPreview,
    /// Each domain's index in `preview.domains`.
    seen: HashMap<DomainName, usize>,
}

impl Collector {
    fn add(&mut self, row: Row) {
        self.preview.lines_read += 1;
        let Some(cells) = row.cells else {
            self.invalid(row.line, String::new(), "not UTF-8 text".to_string());
            return;
        };
        let Some(cell) = cells.get(self.column) else {
            let text = clip(&cells.join(", "));
            self.invalid(
                row.line,
                text,
                format!(
                    "no column {} in this row (it has {})",
                    self.column + 1,
                    cells.len()
                ),
            );
            return;
        };
        let domain = match normalize_domain(cell) {
            Ok(domain) => domain,
            Err(error) => {
                self.invalid(row.line, clip(cell), error.to_string());
                return;
            }
        };
        // A bad weight makes the row unusable like a bad domain: importing it with weight 1
        // would skew every share of mail without a word.
        let weight = match self.weight_column {
            None => None,
            Some(index) => match cells.get(index).map(String::as_str) {
                None | Some("") => Some(Weight::ONE),
                Some(text) => match Weight::parse(text) {
                    Ok(weight) => Some(weight),
                    Err(error) => {
                        self.invalid(row.line, clip(text), error.to_string());
                        return;
                    }
                },
            },
        };
        match self.seen.get(&domain) {
            Some(&index) => {
                self.preview.duplicates += 1;
                if let (Some(weight), Some(sum)) = (weight, self.preview.weights.get_mut(index)) {
                    // Saturates at the largest weight instead of failing the import.
                    *sum = Weight::new((sum.get() + weight.get()).min(Weight::MAX)).unwrap_or(*sum);
                }
            }
            None => {
                self.seen.insert(domain.clone(), self.preview.domains.len());
                self.preview.domains.push(domain);
                if let Some(weight) = weight {
                    self.preview.weights.push(weight);
                }
            }
        }
    }

    fn invalid(&mut self, line: usize, text: String, reason: String) {
        self.preview.invalid_total += 1;
        if self.preview.invalid.len() < MAX_INVALID_KEPT {
            self.preview
                .invalid
                .push(InvalidLine { line, text, reason });
        }
    }
}

/// Cuts text from a file to [`MAX_CELL_CHARS`] characters and replaces control characters.
fn clip(text: &str) -> String {
    let mut clipped: String = text
        .chars()
        .take(MAX_CELL_CHARS)
        .map(|character| {
            if character.is_control() {
                '?'
            } else {
                character
            }
        })
        .collect();
    if text.chars().nth(MAX_CELL_CHARS).is_some() {
        clipped.push('…');
    }
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8], column: ColumnChoice) -> Result<ImportPreview, ImportError> {
        read_reader(
            text,
            "test.csv",
            text.len() as u64,
            &ImportOptions::with_column(column),
            &mut |_, _| {},
        )
    }

    fn names(preview: &ImportPreview) -> Vec<&str> {
        preview.domains.iter().map(DomainName::as_str).collect()
    }

    #[test]
    fn a_plain_list_needs_no_header() {
        let preview = read(
            b"a.org\nB.org.\n\n# comment\na.org\nnope\n",
            ColumnChoice::Auto,
        )
        .expect("reads");
        assert_eq!(names(&preview), ["a.org", "b.org"]);
        assert!(!preview.has_header);
        assert_eq!(preview.columns, ["column 1"]);
        assert_eq!(preview.duplicates, 1);
        assert_eq!(preview.lines_read, 4);
        assert_eq!(preview.invalid.len(), 1);
        assert_eq!(preview.invalid[0].line, 6);
        assert_eq!(preview.invalid[0].text, "nope");
    }

    #[test]
    fn header_bom_crlf_semicolons_and_quotes() {
        let text = "\u{feff}Name;E-Mail\r\n\"Doe; Jane\";jane@Example.org\r\nBob;\"bob@b.org\"\r\n";
        let preview = read(text.as_bytes(), ColumnChoice::Auto).expect("reads");
        assert_eq!(preview.delimiter, b';');
        assert!(preview.has_header);
        assert_eq!(preview.columns, ["Name", "E-Mail"]);
        assert_eq!(preview.column, 1);
        assert_eq!(names(&preview), ["example.org", "b.org"]);
        assert_eq!(preview.lines_read, 2);
    }

    #[test]
    fn column_by_name_and_by_index() {
        let text = b"domain,backup\na.org,x.org\nb.org,y.org\n";
        let preview = read(text, ColumnChoice::Name("BACKUP".into())).expect("reads");
        assert_eq!(names(&preview), ["x.org", "y.org"]);
        let preview = read(text, ColumnChoice::Index(2)).expect("reads");
        assert_eq!(names(&preview), ["x.org", "y.org"]);
        assert!(preview.has_header);
        let error = read(text, ColumnChoice::Name("mx".into())).expect_err("no such column");
        assert!(
            error.to_string().contains("no column named 'mx'")
                && error.to_string().contains("domain, backup"),
            "{error}"
        );
        let error = read(text, ColumnChoice::Index(3)).expect_err("out of range");
        assert!(error.to_string().contains("2 column(s)"), "{error}");
    }

    #[test]
    fn short_rows_and_empty_cells_are_invalid_lines() {
        let text = b"name,domain\nx,a.org\ny\nz,\n";
        let preview = read(text, ColumnChoice::Auto).expect("reads");
        assert_eq!(names(&preview), ["a.org"]);
        let reasons: Vec<(usize, &str)> = preview
            .invalid
            .iter()
            .map(|line| (line.line, line.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [(3, "no column 2 in this row (it has 1)"), (4, "empty cell")]
        );
    }

    #[test]
    fn binary_and_huge_lines_are_refused_with_the_line() {
        let error = read(b"a.org\nb.org\n\x00\x01\x02", ColumnChoice::Auto).expect_err("binary");
        assert_eq!(error.line, Some(3));
        assert!(matches!(error.kind, ImportErrorKind::Binary));
        assert!(
            error.to_string().starts_with("test.csv line 3: "),
            "{error}"
        );

        let mut huge = b"a.org\n".to_vec();
        huge.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        let error = read(&huge, ColumnChoice::Auto).expect_err("huge line");
        assert_eq!(error.line, Some(2));
        assert!(matches!(error.kind, ImportErrorKind::LineTooLong));

        // An unclosed quote over many short lines.
        let mut open = b"a.org\n\"".to_vec();
        for _ in 0..40_000 {
            open.extend_from_slice(b"short line\n");
        }
        let error = read(&open, ColumnChoice::Auto).expect_err("record too long");
        assert!(
            matches!(error.kind, ImportErrorKind::RecordTooLong),
            "{error}"
        );
        assert_eq!(error.line, Some(2));

        let latin1 = b"caf\xe9.org\nna\xefve.org\n";
        let error = read(latin1, ColumnChoice::Auto).expect_err("not UTF-8");
        assert!(matches!(error.kind, ImportErrorKind::NotUtf8));
    }

    #[test]
    fn line_numbers_are_exact_after_comments_crlf_and_multiline_cells() {
        let text = b"domain,note\r\n# comment\r\n\r\nbad1,x\r\na.org,\"two\r\nlines\"\r\n   \r\nbad2,y\r\n,,\r\nbad3";
        let preview = read(text, ColumnChoice::Auto).expect("reads");
        let lines: Vec<usize> = preview.invalid.iter().map(|line| line.line).collect();
        assert_eq!(lines, [4, 8, 10]);
        assert_eq!(names(&preview), ["a.org"]);
        // A lone CR as line break still splits records.
        let preview = read(b"a.org\rb.org\rc.org\r", ColumnChoice::Auto).expect("reads");
        assert_eq!(names(&preview), ["a.org", "b.org", "c.org"]);
    }

    #[test]
    fn an_empty_file_is_an_empty_preview() {
        let preview = read(b"", ColumnChoice::Auto).expect("reads");
        assert!(preview.domains.is_empty());
        assert_eq!(preview.lines_read, 0);
        assert_eq!(preview.columns, ["column 1"]);
    }

    #[test]
    fn long_cells_are_clipped_in_reports() {
        let long = format!("a.org\n{}\n", "y".repeat(500));
        let preview = read(long.as_bytes(), ColumnChoice::Auto).expect("reads");
        assert_eq!(preview.invalid[0].text.chars().count(), MAX_CELL_CHARS + 1);
        assert!(preview.invalid[0].text.ends_with('…'));
    }

    #[test]
    fn progress_reaches_the_total() {
        let text = "x.org\n".repeat(100_000);
        let mut calls = Vec::new();
        let preview = read_reader(
            text.as_bytes(),
            "big",
            text.len() as u64,
            &ImportOptions::default(),
            &mut |done, total| calls.push((done, total)),
        )
        .expect("reads");
        assert_eq!(preview.domains.len(), 1);
        assert_eq!(preview.duplicates, 99_999);
        assert_eq!(calls.first(), Some(&(0, text.len() as u64)));
        assert_eq!(calls.last(), Some(&(text.len() as u64, text.len() as u64)));
        assert!(calls.len() > 2);
        assert!(calls.windows(2).all(|pair| pair[0].0 <= pair[1].0));
    }
}
