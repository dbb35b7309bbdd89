//! Guessing the shape of a table from its first lines: the delimiter, whether the first row is
//! a header, and which column holds the domains.
//!
//! Owns: the heuristics, kept apart so they can be tested on their own. Must not touch: I/O.

use super::normalize::normalize_domain;

/// The delimiters we try, in order of preference when they tie.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Picks the delimiter from a sample of the file's first lines.
///
/// For each candidate, counts its occurrences outside double quotes on every non-blank,
/// non-comment line; the winner is the candidate that appears the same non-zero number of times
/// on the most lines. With no candidate anywhere (one column), comma.
pub fn sniff_delimiter(sample: &[u8]) -> u8 {
    let lines: Vec<&[u8]> = sample
        .split(|byte| *byte == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| {
            let first = line.iter().find(|byte| !byte.is_ascii_whitespace());
            !matches!(first, None | Some(b'#'))
        })
        .take(200)
        .collect();
    let mut best = (b',', 0usize, 0usize);
    for candidate in CANDIDATES {
        let counts: Vec<usize> = lines
            .iter()
            .map(|line| count_outside_quotes(line, candidate))
            .collect();
        let Some(mode) = mode_of_nonzero(&counts) else {
            continue;
        };
        let agreeing = counts.iter().filter(|count| **count == mode).count();
        // More agreeing lines wins; on a tie, more columns (a delimiter inside a field rarely
        // repeats as often as the real one).
        if (agreeing, mode) > (best.1, best.2) {
            best = (candidate, agreeing, mode);
        }
    }
    best.0
}

fn count_outside_quotes(line: &[u8], delimiter: u8) -> usize {
    let mut quoted = false;
    let mut count = 0;
    for byte in line {
        if *byte == b'"' {
            quoted = !quoted;
        } else if *byte == delimiter && !quoted {
            count += 1;
        }
    }
    count
}

fn mode_of_nonzero(counts: &[usize]) -> Option<usize> {
    let mut tally: Vec<(usize, usize)> = Vec::new();
    for count in counts.iter().copied().filter(|count| *count > 0) {
        match tally.iter_mut().find(|(value, _)| *value == count) {
            Some((_, seen)) => *seen += 1,
            None => tally.push((count, 1)),
        }
    }
    tally
        .into_iter()
        .max_by_key(|(value, seen)| (*seen, *value))
        .map(|(value, _)| value)
}

/// Whether a header name says "this column holds mail volumes": one of its words is volume,
/// count, messages or weight (or their singular / plural), e.g. `Volume`, `message count`,
/// `messages_30d`, `Weight`; not `country` or `account`.
pub fn is_weight_header(name: &str) -> bool {
    name.split(|character: char| !character.is_alphanumeric())
        .map(str::to_lowercase)
        .any(|word| {
            matches!(
                word.as_str(),
                "volume"
                    | "volumes"
                    | "count"
                    | "counts"
                    | "messages"
                    | "message"
                    | "msgs"
                    | "weight"
                    | "weights"
            )
        })
}

/// How strongly a header name says "this column holds domains" (higher is better; 0: no hint).
pub fn header_hint(name: &str) -> u8 {
    let squashed: String = name
        .chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if squashed.is_empty() {
        return 0;
    }
    // An e-mail address carries the mail domain itself; a website's host is often `www.`
    // something, so it ranks last.
    if squashed.contains("domain") || squashed == "fqdn" {
        4
    } else if squashed.contains("mail") {
        3
    } else if squashed.contains("host") {
        2
    } else if squashed.contains("url")
        || squashed.contains("website")
        || squashed == "site"
        || squashed == "web"
        || squashed == "homepage"
    {
        1
    } else {
        0
    }
}

/// The first rows of the file (after blank lines and comments), as text.
pub struct Sample<'a> {
    pub rows: &'a [Vec<String>],
}

impl Sample<'_> {
    fn column_count(&self) -> usize {
        self.rows.iter().map(Vec::len).max().unwrap_or(0)
    }

    fn valid_counts(&self, skip_first: bool) -> Vec<usize> {
        let mut counts = vec![0; self.column_count()];
        for row in self.rows.iter().skip(usize::from(skip_first)) {
            for (index, cell) in row.iter().enumerate() {
                if normalize_domain(cell).is_ok() {
                    counts[index] += 1;
                }
            }
        }
        counts
    }

    /// Whether the first row is a header: it names a domain-ish column, or none of its cells is
    /// a domain while the rows below have domains and the first row's cell in that column looks
    /// like a word rather than a mistyped domain (no `.`, `@` or `/`).
    pub fn has_header(&self) -> bool {
        let Some(first) = self.rows.first() else {
            return false;
        };
        if first.iter().any(|cell| normalize_domain(cell).is_ok()) {
            return false;
        }
        if first.iter().any(|cell| header_hint(cell) > 0) {
            return true;
        }
        let below = self.valid_counts(true);
        let Some(best) = best_index(&below, &[]) else {
            return false;
        };
        below[best] > 0
            && first
                .get(best)
                .is_some_and(|cell| !cell.contains(['.', '@', '/']))
    }

    /// The 0-based column that most likely holds the domains.
    ///
    /// The column where most cells normalize to valid domains; a column whose header hints at
    /// domains wins when it has at least half as many valid cells as the best one.
    pub fn domain_column(&self, has_header: bool) -> usize {
        let counts = self.valid_counts(has_header);
        let hints: Vec<u8> = match (has_header, self.rows.first()) {
            (true, Some(header)) => header.iter().map(|name| header_hint(name)).collect(),
            _ => Vec::new(),
        };
        let best = best_index(&counts, &hints).unwrap_or(0);
        let best_count = counts.get(best).copied().unwrap_or(0);
        let hinted = hints
            .iter()
            .enumerate()
            .filter(|(index, hint)| {
                **hint > 0 && counts.get(*index).copied().unwrap_or(0) * 2 >= best_count
            })
            .max_by_key(|(index, hint)| (**hint, counts.get(*index).copied(), usize::MAX - index))
            .map(|(index, _)| index);
        hinted.unwrap_or(best)
    }
}

/// Index of the largest count; ties go to the better hint, then the leftmost column.
fn best_index(counts: &[usize], hints: &[u8]) -> Option<usize> {
    counts
        .iter()
        .enumerate()
        .max_by_key(|(index, count)| {
            (
                **count,
                hints.get(*index).copied().unwrap_or(0),
                usize::MAX - index,
            )
        })
        .map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, delimiter: char) -> Vec<Vec<String>> {
        text.lines()
            .map(|line| line.split(delimiter).map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn delimiter_is_the_consistent_one() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter(b"name;domain\nx;a.org\ny;b.org\n"), b';');
        assert_eq!(sniff_delimiter(b"name\tdomain\nx\ta.org\n"), b'\t');
        assert_eq!(sniff_delimiter(b"a.org\nb.org\n"), b',');
        // Decimal commas inside a semicolon file.
        assert_eq!(
            sniff_delimiter(b"domain;score\na.org;1,5\nb.org;2\nc.org;3\n"),
            b';'
        );
        // A comma inside quotes does not count.
        assert_eq!(
            sniff_delimiter(b"\"Doe, Jane\";a.org\n\"Roe, Rick\";b.org\n"),
            b';'
        );
        // Comments and blank lines are ignored.
        assert_eq!(sniff_delimiter(b"# a, b, c, d\n\nx;a.org\n"), b';');
    }

    #[test]
    fn volume_headers_are_recognised_by_their_words() {
        for name in ["Volume", "message count", "messages_30d", "WEIGHT", "Msgs"] {
            assert!(is_weight_header(name), "{name}");
        }
        for name in ["country", "account", "domain", "", "volumetric"] {
            assert!(!is_weight_header(name), "{name}");
        }
    }

    #[test]
    fn header_names_hint_at_the_column() {
        assert_eq!(header_hint("Domain"), 4);
        assert_eq!(header_hint("E-Mail Address"), 3);
        assert_eq!(header_hint("Website URL"), 1);
        assert_eq!(header_hint("MX host"), 2);
        assert_eq!(header_hint("Name"), 0);
    }

    #[test]
    fn header_and_column_are_detected() {
        let table = rows("Name,Contact\nAlice,alice@a.org\nBob,bob@b.org", ',');
        let sample = Sample { rows: &table };
        assert!(sample.has_header());
        assert_eq!(sample.domain_column(true), 1);

        let table = rows("a.org\nb.org\nnot a domain", ',');
        let sample = Sample { rows: &table };
        assert!(!sample.has_header());
        assert_eq!(sample.domain_column(false), 0);

        // A first row that looks like a broken domain is data, not a header.
        let table = rows("broken..org\nb.org\nc.org", ',');
        assert!(!Sample { rows: &table }.has_header());

        // Unnamed header word without hint, e.g. "Kunden".
        let table = rows("Kunden\na.org\nb.org", ',');
        assert!(Sample { rows: &table }.has_header());
    }

    #[test]
    fn a_hinted_column_beats_a_slightly_fuller_one() {
        let table = rows(
            "email,domain\na@x.org,x.org\nb@y.org,y.org\nc@z.org,\nd@w.org,w.org",
            ',',
        );
        let sample = Sample { rows: &table };
        assert!(sample.has_header());
        assert_eq!(sample.domain_column(true), 1);
        // Without hints, the fuller column wins.
        let table = rows("a@x.org,x.org\nb@y.org,y.org\nc@z.org,", ',');
        assert_eq!(Sample { rows: &table }.domain_column(false), 0);
    }
}
