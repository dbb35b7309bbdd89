//! CSV import as users meet it: messy spreadsheet exports from `tests/data/csv/` run through
//! one table of expectations; files that are not tables are refused with the file and line;
//! big files are generated here (never committed) and stream through.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::io::Write;
use std::path::PathBuf;

use starttls_monitor::import::{
    self, ColumnChoice, ImportErrorKind, ImportOptions, ImportPreview, MAX_LINE_BYTES,
    normalize_domain,
};
use starttls_monitor::store::Store;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/csv")
        .join(name)
}

fn read(name: &str, column: ColumnChoice) -> Result<ImportPreview, import::ImportError> {
    import::read_file(
        &data(name),
        &ImportOptions::with_column(column),
        &mut |_, _| {},
    )
}

/// What one fixture must give.
struct Expect {
    file: &'static str,
    delimiter: u8,
    has_header: bool,
    column: usize,
    domains: &'static [&'static str],
    duplicates: usize,
    /// (line, a word of the reason)
    invalid: &'static [(usize, &'static str)],
}

const FIXTURES: &[Expect] = &[
    Expect {
        file: "crm_bom_semicolon.csv",
        delimiter: b';',
        has_header: true,
        column: 1,
        domains: &["example.org", "xn--bcher-kva.de", "mail.example.net"],
        duplicates: 1,
        invalid: &[(6, "after '@'"), (7, "not a valid"), (9, "IP address")],
    },
    Expect {
        file: "websites.tsv",
        delimiter: b'\t',
        has_header: true,
        column: 1,
        domains: &[
            "www.acme.example",
            "globex.example",
            "initech.example",
            "files.hooli.example",
        ],
        duplicates: 0,
        invalid: &[(5, "IP address")],
    },
    Expect {
        file: "plain_list.txt",
        delimiter: b',',
        has_header: false,
        column: 0,
        domains: &[
            "example.org",
            "example.net",
            "xn--e1afmkfd.xn--p1ai",
            "mail.example.com",
        ],
        duplicates: 1,
        invalid: &[(7, "single label"), (8, "not a valid"), (9, "'-'")],
    },
    Expect {
        file: "mixed_no_hint.csv",
        delimiter: b',',
        has_header: true,
        column: 1,
        domains: &[
            "one.example",
            "two.example",
            "three.example",
            "four.example",
            "five.example",
        ],
        duplicates: 1,
        invalid: &[(6, "empty cell")],
    },
    Expect {
        file: "empty.csv",
        delimiter: b',',
        has_header: false,
        column: 0,
        domains: &[],
        duplicates: 0,
        invalid: &[],
    },
];

#[test]
fn messy_fixtures_give_the_expected_domains_and_invalid_lines() {
    for expect in FIXTURES {
        let preview = read(expect.file, ColumnChoice::Auto)
            .unwrap_or_else(|error| panic!("{}: {error}", expect.file));
        let domains: Vec<&str> = preview.domains.iter().map(|d| d.as_str()).collect();
        assert_eq!(domains, expect.domains, "{}", expect.file);
        assert_eq!(preview.delimiter, expect.delimiter, "{}", expect.file);
        assert_eq!(preview.has_header, expect.has_header, "{}", expect.file);
        assert_eq!(preview.column, expect.column, "{}", expect.file);
        assert_eq!(preview.duplicates, expect.duplicates, "{}", expect.file);
        let invalid: Vec<usize> = preview.invalid.iter().map(|line| line.line).collect();
        let expected: Vec<usize> = expect.invalid.iter().map(|(line, _)| *line).collect();
        assert_eq!(invalid, expected, "{}: {:?}", expect.file, preview.invalid);
        for (line, (_, word)) in preview.invalid.iter().zip(expect.invalid) {
            assert!(
                line.reason.contains(word),
                "{} line {}: reason '{}' should mention '{word}'",
                expect.file,
                line.line,
                line.reason
            );
        }
        assert_eq!(preview.invalid_total, preview.invalid.len());
        assert_eq!(
            preview.lines_read,
            preview.domains.len() + preview.duplicates + preview.invalid_total,
            "{}: every data row is counted once",
            expect.file
        );
    }
}

#[test]
fn header_names_and_the_column_choice() {
    let preview = read("crm_bom_semicolon.csv", ColumnChoice::Auto).expect("reads");
    assert_eq!(preview.columns, ["Name", "E-Mail", "Notes"]);
    let preview = read("plain_list.txt", ColumnChoice::Auto).expect("reads");
    assert_eq!(preview.columns, ["column 1"]);

    // By name (any case) and by position give the same column.
    let by_name = read("websites.tsv", ColumnChoice::Name("WEBSITE".into())).expect("reads");
    let by_index = read("websites.tsv", ColumnChoice::Index(2)).expect("reads");
    assert_eq!(by_name.domains, by_index.domains);
    // Another column: the city names are no domains, each one reported.
    let cities = read("websites.tsv", ColumnChoice::Index(3)).expect("reads");
    assert!(cities.domains.is_empty());
    assert_eq!(cities.invalid.len(), 5);
    assert_eq!(cities.invalid[0].text, "Paris");

    let error = read("websites.tsv", ColumnChoice::Name("Domain".into())).expect_err("missing");
    let message = error.to_string();
    assert!(
        message.contains("websites.tsv") && message.contains("Company, Website, City"),
        "{message}"
    );
    let error = read("websites.tsv", ColumnChoice::Index(9)).expect_err("out of range");
    assert!(matches!(
        error.kind,
        ImportErrorKind::ColumnOutOfRange {
            index: 9,
            columns: 3
        }
    ));
}

#[test]
fn binary_and_non_utf8_files_are_refused_naming_file_and_line() {
    let error = read("image.png", ColumnChoice::Auto).expect_err("binary");
    assert!(matches!(error.kind, ImportErrorKind::Binary));
    // The PNG signature holds two line breaks; the first NUL is on line 3.
    assert_eq!(error.line, Some(3));
    let message = error.to_string();
    assert!(
        message.contains("image.png line 3") && message.contains("binary"),
        "{message}"
    );

    let error = read("latin1.csv", ColumnChoice::Auto).expect_err("latin-1");
    assert!(matches!(error.kind, ImportErrorKind::NotUtf8));
    assert!(error.to_string().contains("UTF-8"), "{error}");

    let error = read("no-such-file.csv", ColumnChoice::Auto).expect_err("missing");
    assert!(matches!(error.kind, ImportErrorKind::Open(_)));
    assert!(error.to_string().contains("no-such-file.csv"));
    let error = import::read_file(&data(""), &ImportOptions::default(), &mut |_, _| {})
        .expect_err("a folder");
    assert!(error.to_string().contains("folder"), "{error}");
}

#[test]
fn a_huge_line_is_refused_early_and_a_big_file_streams_with_progress() {
    let dir = tempfile::tempdir().expect("temp dir");

    // 20 MB on one line: refused at line 3 without reading the rest.
    let huge = dir.path().join("huge.csv");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&huge).expect("create"));
        file.write_all(b"domain\na.example\n").expect("write");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..20 {
            file.write_all(&chunk).expect("write");
        }
        file.flush().expect("flush");
    }
    let mut furthest = 0;
    let error = import::read_file(&huge, &ImportOptions::default(), &mut |done, _| {
        furthest = furthest.max(done);
    })
    .expect_err("huge line");
    assert!(matches!(error.kind, ImportErrorKind::LineTooLong));
    assert_eq!(error.line, Some(3));
    assert!(
        error
            .to_string()
            .contains(&format!("{} KiB", MAX_LINE_BYTES / 1024))
    );
    assert!(furthest < 1 << 20, "stopped early, read {furthest} bytes");

    // 100,000 lines with e-mails, duplicates and invalid cells.
    let big = dir.path().join("big.csv");
    let lines = 100_000;
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&big).expect("create"));
        writeln!(file, "name,email").expect("write");
        for index in 0..lines {
            match index % 20 {
                0 => writeln!(file, "dup {index},someone@dup.example"),
                1 => writeln!(file, "bad {index},nobody@"),
                _ => writeln!(file, "\"Person, {index}\",p{index}@d{index}.example"),
            }
            .expect("write");
        }
        file.flush().expect("flush");
    }
    let total = std::fs::metadata(&big).expect("size").len();
    let mut calls = Vec::new();
    let preview = import::read_file(&big, &ImportOptions::default(), &mut |done, all| {
        calls.push((done, all));
    })
    .expect("reads");
    assert_eq!(preview.lines_read, lines);
    assert_eq!(preview.domains.len(), lines / 20 * 18 + 1);
    assert_eq!(preview.duplicates, lines / 20 - 1);
    assert_eq!(preview.invalid_total, lines / 20);
    assert_eq!(preview.invalid[0].line, 3);
    assert_eq!(calls.first(), Some(&(0, total)));
    assert_eq!(calls.last(), Some(&(total, total)));
    assert!(calls.len() > 5, "progress is reported along the way");
}

#[test]
fn applying_a_preview_reports_what_was_already_present() {
    let preview = read("crm_bom_semicolon.csv", ColumnChoice::Auto).expect("reads");
    let store = Store::open_in_memory().expect("store");
    store
        .add_domains(None, &[normalize_domain("example.org").expect("valid")])
        .expect("add");
    assert_eq!(store.count_present(&preview.domains).expect("count"), 1);
    let list = store.ensure_list("CRM").expect("list");
    let report = store
        .add_domains(Some(list), &preview.domains)
        .expect("applies in one transaction");
    assert_eq!((report.added, report.already_present), (2, 1));
    assert_eq!(store.domain_count(Some(list)).expect("count"), 3);
    let shown: Vec<String> = preview
        .domains
        .iter()
        .map(|domain| domain.display_name().into_owned())
        .collect();
    assert_eq!(shown, ["example.org", "bücher.de", "mail.example.net"]);
}

#[test]
fn hostile_cells_never_become_domains() {
    for cell in [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>.example",
        "=cmd|' /C calc'!A0",
        "evil.example\u{0000}",
        "javascript:alert(1)",
    ] {
        assert!(normalize_domain(cell).is_err(), "{cell:?} must be refused");
    }
}

/// A mail log export with a volume column: the header names it, so weights are read without
/// being asked; rows of one domain add their weights up; a bad weight is a per-line error that
/// names the line and the value, like a bad domain.
#[test]
fn a_volume_column_gives_weights_duplicates_add_up_and_bad_weights_are_per_line_errors() {
    use starttls_monitor::model::Weight;
    let preview = read("volumes.csv", ColumnChoice::Auto).expect("reads");
    assert_eq!(preview.column, 0);
    assert_eq!(preview.weight_column, Some(1), "the header says messages");
    let weighed: Vec<(&str, f64)> = preview
        .domains
        .iter()
        .map(|domain| domain.as_str())
        .zip(preview.weights.iter().map(|weight| weight.get()))
        .collect();
    assert_eq!(
        weighed,
        [
            ("gmail.com", 1_200_000.0),
            ("example.org", 750.5),
            ("blank.example", 1.0),
            ("zero.example", 0.0),
        ],
        "duplicates add up; an empty weight cell weighs 1"
    );
    assert_eq!(preview.duplicates, 2);
    let invalid: Vec<(usize, &str, &str)> = preview
        .invalid
        .iter()
        .map(|line| (line.line, line.text.as_str(), line.reason.as_str()))
        .collect();
    assert_eq!(
        invalid,
        [
            (5, "-3", "weight -3 is negative"),
            (6, "NaN", "weight NaN is not a finite number"),
            (7, "lots", "weight 'lots' is not a number"),
            (8, "inf", "weight inf is not a finite number"),
            (10, "not a domain", invalid[4].2),
        ]
    );

    // Asked for by name or position, the same; no weights when asked for none.
    for choice in [
        ColumnChoice::Name("messages (30 D)".into()),
        ColumnChoice::Index(2),
    ] {
        let options = ImportOptions {
            column: ColumnChoice::Auto,
            weight_column: Some(choice),
        };
        let again =
            import::read_file(&data("volumes.csv"), &options, &mut |_, _| {}).expect("reads");
        assert_eq!(again.weights, preview.weights);
    }
    let options = ImportOptions {
        column: ColumnChoice::Auto,
        weight_column: None,
    };
    let unweighted =
        import::read_file(&data("volumes.csv"), &options, &mut |_, _| {}).expect("reads");
    assert_eq!(unweighted.weight_column, None);
    assert!(unweighted.weights.is_empty());
    assert_eq!(unweighted.invalid_total, 1, "only the bad domain");
    let options = ImportOptions {
        column: ColumnChoice::Index(1),
        weight_column: Some(ColumnChoice::Index(1)),
    };
    let error =
        import::read_file(&data("volumes.csv"), &options, &mut |_, _| {}).expect_err("same column");
    assert!(
        matches!(
            error.kind,
            ImportErrorKind::WeightColumnIsDomainColumn { .. }
        ),
        "{error}"
    );

    // Applied to a list, each membership keeps its weight.
    let store = Store::open_in_memory().expect("store");
    let list = store.ensure_list("outbound").expect("list");
    let weighted: Vec<_> = preview
        .domains
        .iter()
        .cloned()
        .zip(preview.weights.iter().copied())
        .collect();
    store
        .add_weighted_domains(list, &weighted)
        .expect("applies");
    let gmail = normalize_domain("gmail.com").expect("valid");
    assert_eq!(
        store.weight(Some(list), &gmail).expect("read"),
        Some(Weight::new(1_200_000.0).expect("a weight"))
    );
    assert!(store.is_weighted(Some(list)).expect("read"));
}
