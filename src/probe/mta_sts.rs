//! MTA-STS (RFC 8461) as text: the `_mta-sts` TXT record set, the policy file, and MX patterns.
//!
//! Owns: the parsers and the pattern match, exactly as RFC 8461 §3.1, §3.2 and §4.1 write them,
//! plus the TXT field syntax shared with TLS-RPT ([`super::tls_rpt`]). Must not touch: DNS, HTTP
//! (fetching the policy, its certificate, size and redirect rules belong to the fetcher), the
//! outcome rule (`model::auth::mta_sts_outcome`) or any caching.
//!
//! Strictness: RFC 8461 §3.1 says a syntactically invalid TXT record means no policy, so the
//! record is held to its ABNF (`;` between fields with optional white space, one optional
//! trailing `;`, `name=value` fields); unknown fields must be well-formed and are otherwise
//! ignored. The policy's keys and values are case-sensitive as the ABNF (`%s`) says; white
//! space around keys and values is allowed; blank lines are skipped; unknown keys are ignored;
//! for a repeated `version`, `mode` or `max_age` the first wins (later copies are not even
//! checked).

use std::fmt;

use crate::model::auth::{StsMode, StsTxt};

/// The most `max_age` may say: about a year, in seconds (RFC 8461 §3.2).
pub const MAX_AGE_LIMIT: u32 = 31_557_600;

/// Reads the `_mta-sts.<domain>` TXT RRset. Each record is given as its character-strings,
/// which are joined without spaces. Records that do not start with `v=STSv1` (followed by the
/// end, white space or `;`) are ignored; none left is [`StsTxt::Absent`], two or more, or one
/// that is invalid, is [`StsTxt::Invalid`] with why.
pub fn parse_sts_txt<R, S>(records: impl IntoIterator<Item = R>) -> StsTxt
where
    R: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    let candidates = versioned_records(records, STS_VERSION);
    match candidates.as_slice() {
        [] => StsTxt::Absent,
        [record] => match parse_sts_record(record) {
            Ok(id) => StsTxt::Valid { id },
            Err(why) => StsTxt::Invalid { why },
        },
        several => StsTxt::Invalid {
            why: format!(
                "{} TXT records start with {STS_VERSION}; exactly one is allowed, so senders \
                 ignore them all",
                several.len()
            ),
        },
    }
}

const STS_VERSION: &str = "v=STSv1";

/// One joined TXT record that starts with `v=STSv1`: its `id`, or why it is invalid.
fn parse_sts_record(record: &[u8]) -> Result<String, String> {
    let fields = txt_fields(record, STS_VERSION)?;
    let mut id = None;
    for (name, value) in fields {
        if name != "id" {
            if !is_extension_value(value) {
                return Err(format!(
                    "field {name} has an empty or malformed value '{value}'"
                ));
            }
            continue;
        }
        if id.is_some() {
            return Err("two id fields".to_string());
        }
        if value.is_empty()
            || value.len() > 32
            || !value.bytes().all(|byte| byte.is_ascii_alphanumeric())
        {
            return Err(format!("id '{value}' is not 1 to 32 letters and digits"));
        }
        id = Some(value.to_string());
    }
    id.ok_or_else(|| "no id field".to_string())
}

/// The records of a TXT RRset (character-strings joined) that start with `version` followed by
/// the end, a space, a tab or `;`.
pub(super) fn versioned_records<R, S>(
    records: impl IntoIterator<Item = R>,
    version: &str,
) -> Vec<Vec<u8>>
where
    R: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    records
        .into_iter()
        .map(|strings| {
            strings.into_iter().fold(Vec::new(), |mut joined, string| {
                joined.extend_from_slice(string.as_ref());
                joined
            })
        })
        .filter(|record| {
            record
                .strip_prefix(version.as_bytes())
                .is_some_and(|rest| matches!(rest.first(), None | Some(b' ' | b'\t' | b';')))
        })
        .collect()
}

/// Splits a TXT record `<version> 1*(delim field) [delim]` (`delim` = `*WSP ";" *WSP`, RFC 8461
/// §3.1 and RFC 8460 §3) into its `name=value` fields after the version. Names follow the
/// extension rule (a letter or digit, then up to 31 of letters, digits, `_`, `-`, `.`); values
/// are returned as written for the caller to check (for unknown fields, see
/// [`is_extension_value`]).
pub(super) fn txt_fields<'a>(
    record: &'a [u8],
    version: &str,
) -> Result<Vec<(&'a str, &'a str)>, String> {
    let Ok(text) = std::str::from_utf8(record) else {
        return Err("the record is not ASCII text".to_string());
    };
    if !text.is_ascii() {
        return Err("the record is not ASCII text".to_string());
    }
    let Some(rest) = text.strip_prefix(version) else {
        return Err(format!("the record does not start with {version}"));
    };
    let mut parts = rest.split(';');
    let before_first = parts.next().unwrap_or_default();
    if !before_first.trim_matches(is_wsp).is_empty() {
        return Err(format!("'{before_first}' after {version} (expected ';')"));
    }
    let parts: Vec<&str> = parts.map(|part| part.trim_matches(is_wsp)).collect();
    let mut fields = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        if part.is_empty() {
            if index + 1 == parts.len() {
                break; // one trailing delimiter
            }
            return Err("an empty field (';' where a field is expected)".to_string());
        }
        let Some((name, value)) = part.split_once('=') else {
            return Err(format!("field '{part}' is not name=value"));
        };
        if !is_field_name(name) {
            return Err(format!("'{name}' is not a field name"));
        }
        fields.push((name, value));
    }
    if fields.is_empty() {
        return Err(format!("no field after {version}"));
    }
    Ok(fields)
}

/// Space or tab (ABNF `WSP`).
fn is_wsp(character: char) -> bool {
    character == ' ' || character == '\t'
}

/// ABNF `*-ext-name`: a letter or digit, then up to 31 letters, digits, `_`, `-` or `.`.
fn is_field_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    matches!(bytes.first(), Some(first) if first.is_ascii_alphanumeric())
        && bytes.len() <= 32
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
}

/// ABNF `*-ext-value`: one or more visible ASCII characters other than `;` and `=`.
pub(super) fn is_extension_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|byte| matches!(byte, 0x21..=0x3a | 0x3c | 0x3e..=0x7e))
}

/// A parsed MTA-STS policy (RFC 8461 §3.2). Unknown keys are not kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsPolicy {
    pub mode: StsMode,
    /// Seconds a sender may cache the policy, 0..=[`MAX_AGE_LIMIT`].
    pub max_age: u32,
    /// The `mx` patterns in the order written (duplicates kept). Empty only for `mode: none`.
    pub mx: Vec<MxPattern>,
}

/// Why a policy file does not parse; `line` (from 1) when one line is to blame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    pub line: Option<usize>,
    pub why: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(formatter, "policy line {line}: {}", self.why),
            None => write!(formatter, "policy: {}", self.why),
        }
    }
}

impl StsPolicy {
    /// Parses a policy body (the bytes of `/.well-known/mta-sts.txt`; lines end in LF or CRLF).
    pub fn parse(body: &[u8]) -> Result<StsPolicy, PolicyError> {
        let text = std::str::from_utf8(body).map_err(|error| {
            let line = body[..error.valid_up_to()]
                .iter()
                .filter(|byte| **byte == b'\n')
                .count()
                + 1;
            PolicyError {
                line: Some(line),
                why: "not UTF-8 text".to_string(),
            }
        })?;
        let (mut version, mut mode, mut max_age) = (None, None, None);
        let mut mx = Vec::new();
        for (index, raw_line) in text.split('\n').enumerate() {
            let number = index + 1;
            let error = |why: String| PolicyError {
                line: Some(number),
                why,
            };
            let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
            if line.trim_matches(is_wsp).is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                return Err(error(format!("'{line}' is not 'key: value'")));
            };
            let (key, value) = (key.trim_matches(is_wsp), value.trim_matches(is_wsp));
            match key {
                "version" if version.is_none() => {
                    if value != "STSv1" {
                        return Err(error(format!("version '{value}' (expected STSv1)")));
                    }
                    version = Some(());
                }
                "mode" if mode.is_none() => {
                    mode = Some(match value {
                        "enforce" => StsMode::Enforce,
                        "testing" => StsMode::Testing,
                        "none" => StsMode::None,
                        _ => {
                            return Err(error(format!(
                                "mode '{value}' (expected enforce, testing or none)"
                            )));
                        }
                    });
                }
                "max_age" if max_age.is_none() => {
                    let seconds = (!value.is_empty()
                        && value.len() <= 10
                        && value.bytes().all(|byte| byte.is_ascii_digit()))
                    .then(|| value.parse::<u64>().ok())
                    .flatten()
                    .filter(|seconds| *seconds <= u64::from(MAX_AGE_LIMIT))
                    .and_then(|seconds| u32::try_from(seconds).ok());
                    let Some(seconds) = seconds else {
                        return Err(error(format!(
                            "max_age '{value}' (expected 0 to {MAX_AGE_LIMIT} seconds)"
                        )));
                    };
                    max_age = Some(seconds);
                }
                "mx" => mx.push(MxPattern::parse(value).map_err(error)?),
                _ => {}
            }
        }
        let missing = |key: &str| PolicyError {
            line: None,
            why: format!("no {key} line"),
        };
        version.ok_or_else(|| missing("version"))?;
        let mode = mode.ok_or_else(|| missing("mode"))?;
        let max_age = max_age.ok_or_else(|| missing("max_age"))?;
        if mx.is_empty() && mode != StsMode::None {
            return Err(PolicyError {
                line: None,
                why: format!("mode {} needs at least one mx line", mode.as_str()),
            });
        }
        Ok(StsPolicy { mode, max_age, mx })
    }

    /// The policy written out in canonical form (CRLF lines; parses back to the same policy).
    pub fn to_text(&self) -> String {
        let mut text = format!("version: STSv1\r\nmode: {}\r\n", self.mode.as_str());
        for pattern in &self.mx {
            text.push_str(&format!("mx: {pattern}\r\n"));
        }
        text.push_str(&format!("max_age: {}\r\n", self.max_age));
        text
    }

    /// Whether some `mx` pattern matches the MX host name (`sts_matched`).
    pub fn matches(&self, mx_host: &str) -> bool {
        self.mx.iter().any(|pattern| pattern.matches(mx_host))
    }
}

/// One `mx` pattern of a policy: a host name, or `*.` and a domain, standing for any name one
/// label below it. Kept in lower case without a trailing dot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MxPattern {
    wildcard: bool,
    domain: String,
}

impl MxPattern {
    /// Reads a pattern (`mail.example.com`, `*.example.com`; case-insensitive, one trailing dot
    /// ignored). Labels are 1-63 letters, digits and hyphens, not starting or ending with a
    /// hyphen (RFC 5321 `Domain`); at most 253 characters.
    pub fn parse(text: &str) -> Result<MxPattern, String> {
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        let (wildcard, domain) = match trimmed.strip_prefix("*.") {
            Some(domain) => (true, domain),
            None => (false, trimmed),
        };
        let well_formed = !domain.is_empty()
            && domain.len() <= 253
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            });
        if !well_formed {
            return Err(format!("mx '{text}' is not a host name or *.domain"));
        }
        Ok(MxPattern {
            wildcard,
            domain: domain.to_ascii_lowercase(),
        })
    }

    /// Whether `host` (case-insensitive, a trailing dot ignored) is this name, or for
    /// `*.domain` exactly one label below `domain`.
    pub fn matches(&self, host: &str) -> bool {
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        if !self.wildcard {
            return host == self.domain;
        }
        match host.split_once('.') {
            Some((first_label, rest)) => !first_label.is_empty() && rest == self.domain,
            None => false,
        }
    }
}

impl fmt::Display for MxPattern {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            formatter.write_str("*.")?;
        }
        formatter.write_str(&self.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(records: &[&[&str]]) -> StsTxt {
        parse_sts_txt(
            records
                .iter()
                .map(|strings| strings.iter().map(|s| s.as_bytes())),
        )
    }

    fn valid(id: &str) -> StsTxt {
        StsTxt::Valid { id: id.to_string() }
    }

    #[test]
    fn txt_record_sets() {
        let cases: &[(&[&[&str]], StsTxt)] = &[
            (&[], StsTxt::Absent),
            (
                &[&["v=spf1 -all"], &["google-site-verification=x"]],
                StsTxt::Absent,
            ),
            // Not this version: ignored.
            (
                &[&["v=STSv10; id=1"], &["v=stsv1; id=1"], &[" v=STSv1; id=1"]],
                StsTxt::Absent,
            ),
            (
                &[&["v=STSv1; id=20260101T000000"]],
                valid("20260101T000000"),
            ),
            (&[&["v=STSv1;id=abc"]], valid("abc")),
            (&[&["v=STSv1 ;\tid=abc ; "]], valid("abc")),
            (&[&["v=STSv1; id=abc;"]], valid("abc")),
            // Strings of one record join without spaces.
            (&[&["v=STSv1; id=20", "260101"]], valid("20260101")),
            (&[&["v=STS", "v1; id=1"]], valid("1")),
            // Unknown fields are ignored, wherever they are.
            (&[&["v=STSv1; ext=x:y; id=1; other.name_2-x=!"]], valid("1")),
            (&[&["v=STSv1; id=1"], &["v=spf1 -all"]], valid("1")),
            (
                &[&["v=STSv1; id=12345678901234567890123456789012"]],
                valid("12345678901234567890123456789012"),
            ),
        ];
        for (records, expected) in cases {
            assert_eq!(&txt(records), expected, "{records:?}");
        }
    }

    #[test]
    fn malformed_txt_records_are_invalid_and_say_why() {
        let cases: &[(&[&[&str]], &str)] = &[
            (&[&["v=STSv1; id=1"], &["v=STSv1; id=2"]], "2 TXT records"),
            (&[&["v=STSv1; id=1"], &["v=STSv1; id=1"]], "2 TXT records"),
            (&[&["v=STSv1"]], "no field"),
            (&[&["v=STSv1;"]], "no field"),
            (&[&["v=STSv1; "]], "no field"),
            (&[&["v=STSv1 id=1"]], "expected ';'"),
            (&[&["v=STSv1; ext=1"]], "no id"),
            (&[&["v=STSv1; ID=1"]], "no id"),
            (&[&["v=STSv1; id="]], "not 1 to 32"),
            (&[&["v=STSv1; id=abc-123"]], "not 1 to 32"),
            (&[&["v=STSv1; id=abc def"]], "not 1 to 32"),
            (
                &[&["v=STSv1; id=123456789012345678901234567890123"]],
                "not 1 to 32",
            ),
            (&[&["v=STSv1; id=1; id=2"]], "two id"),
            (&[&["v=STSv1;; id=1"]], "empty field"),
            (&[&["v=STSv1; id=1;;"]], "empty field"),
            (&[&["v=STSv1; id = 1"]], "not a field name"),
            (&[&["v=STSv1; id=1; junk"]], "not name=value"),
            (&[&["v=STSv1; id=1; _x=1"]], "not a field name"),
            (&[&["v=STSv1; id=1; ext=é"]], "not ASCII"),
            (&[&["v=STSv1; id=1; ext="]], "malformed value"),
            (&[&["v=STSv1; ext=a=b; id=1"]], "malformed value"),
            (&[&["v=STSv1; ext=a b; id=1"]], "malformed value"),
        ];
        for (records, why) in cases {
            match txt(records) {
                StsTxt::Invalid { why: said } => {
                    assert!(said.contains(why), "{records:?}: {said}");
                }
                other => panic!("{records:?} gave {other:?}"),
            }
        }
        let binary = parse_sts_txt([[b"v=STSv1; id=1\xff".as_slice()]]);
        assert!(matches!(binary, StsTxt::Invalid { .. }), "{binary:?}");
    }

    fn policy(text: &str) -> Result<StsPolicy, PolicyError> {
        StsPolicy::parse(text.as_bytes())
    }

    fn patterns(policy: &StsPolicy) -> Vec<String> {
        policy.mx.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn policies_that_parse() {
        let enforce = policy(
            "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmx: backupmx.example.com\nmax_age: 604800\n",
        )
        .unwrap();
        assert_eq!(enforce.mode, StsMode::Enforce);
        assert_eq!(enforce.max_age, 604_800);
        assert_eq!(
            patterns(&enforce),
            ["mail.example.com", "*.example.net", "backupmx.example.com"]
        );
        // CRLF, any order, white space, blank lines, no final newline, unknown keys.
        let crlf = policy(
            "mode:testing\r\n\r\nmx:   MAIL.Example.COM.  \r\nversion: STSv1\r\nfoo: bar\r\nx-extension: anything: at all\r\nmax_age:\t0",
        )
        .unwrap();
        assert_eq!(crlf.mode, StsMode::Testing);
        assert_eq!(crlf.max_age, 0);
        assert_eq!(patterns(&crlf), ["mail.example.com"]);
        // mode none needs no mx.
        let none = policy("version: STSv1\nmode: none\nmax_age: 31557600\n").unwrap();
        assert_eq!(
            (none.mode, none.max_age, none.mx.len()),
            (StsMode::None, 31_557_600, 0)
        );
        // The first of a repeated key wins; later copies are not even checked.
        let first_wins = policy(
            "version: STSv1\nmode: testing\nmode: enforce\nmode: bogus\nmx: a.example\nmax_age: 86400\nmax_age: 99999999999\nversion: STSv9\n",
        )
        .unwrap();
        assert_eq!(
            (first_wins.mode, first_wins.max_age),
            (StsMode::Testing, 86_400)
        );
        // Repeated mx lines are all kept.
        let twice =
            policy("version: STSv1\nmode: enforce\nmx: a.example\nmx: a.example\nmax_age: 1\n")
                .unwrap();
        assert_eq!(patterns(&twice), ["a.example", "a.example"]);
    }

    #[test]
    fn malformed_policies_name_the_line() {
        const HEAD: &str = "version: STSv1\nmode: enforce\n";
        let cases: &[(String, Option<usize>, &str)] = &[
            (String::new(), None, "no version"),
            (
                "mode: enforce\nmx: a.example\nmax_age: 1\n".into(),
                None,
                "no version",
            ),
            (
                "version: STSv1\nmx: a.example\nmax_age: 1\n".into(),
                None,
                "no mode",
            ),
            (format!("{HEAD}mx: a.example\n"), None, "no max_age"),
            (format!("{HEAD}max_age: 1\n"), None, "needs at least one mx"),
            (
                "version: STSv1\nmode: testing\nmax_age: 1\n".into(),
                None,
                "needs at least one mx",
            ),
            ("version: STSv2\n".into(), Some(1), "version 'STSv2'"),
            ("version: stsv1\n".into(), Some(1), "version"),
            (
                "Version: STSv1\nmode: none\nmax_age: 1\n".into(),
                None,
                "no version",
            ),
            (
                "version: STSv1\nmode: Enforce\n".into(),
                Some(2),
                "mode 'Enforce'",
            ),
            ("version: STSv1\nmode:\n".into(), Some(2), "mode ''"),
            (
                format!("{HEAD}mx: a.example\nmax_age: 31557601\n"),
                Some(4),
                "max_age '31557601'",
            ),
            (
                format!("{HEAD}mx: a.example\nmax_age: 12345678901\n"),
                Some(4),
                "max_age",
            ),
            (
                format!("{HEAD}mx: a.example\nmax_age: -1\n"),
                Some(4),
                "max_age",
            ),
            (
                format!("{HEAD}mx: a.example\nmax_age: 1d\n"),
                Some(4),
                "max_age",
            ),
            (
                format!("{HEAD}mx: a.example\nmax_age: +5\n"),
                Some(4),
                "max_age",
            ),
            (
                format!("{HEAD}mx: a.example\nmax_age:\n"),
                Some(4),
                "max_age",
            ),
            (format!("{HEAD}mx: *.\n"), Some(3), "mx '*.'"),
            (format!("{HEAD}mx: *\n"), Some(3), "mx '*'"),
            (format!("{HEAD}mx: a.*.example\n"), Some(3), "mx"),
            (format!("{HEAD}mx: mx*.example\n"), Some(3), "mx"),
            (format!("{HEAD}mx: -a.example\n"), Some(3), "mx"),
            (format!("{HEAD}mx: a..example\n"), Some(3), "mx"),
            (format!("{HEAD}mx: a_b.example\n"), Some(3), "mx"),
            (
                format!("{HEAD}mx: mail.example.com mail2.example.com\n"),
                Some(3),
                "mx",
            ),
            (format!("{HEAD}mx: bücher.example\n"), Some(3), "mx"),
            (format!("{HEAD}mx:\n"), Some(3), "mx ''"),
            (
                format!("{HEAD}mx: {}.example\n", "a".repeat(64)),
                Some(3),
                "mx",
            ),
            (
                format!("{HEAD}just some text\n"),
                Some(3),
                "not 'key: value'",
            ),
            (
                "<html><body>Not found</body></html>".into(),
                Some(1),
                "not 'key: value'",
            ),
            // A bare CR is not a line end.
            ("version: STSv1\rmode: enforce\n".into(), Some(1), "version"),
        ];
        for (text, line, why) in cases {
            let error = policy(text).expect_err(text);
            assert_eq!(error.line, *line, "{text:?}: {error}");
            assert!(error.why.contains(why), "{text:?}: {error}");
        }
        let long = format!("{HEAD}mx: {}\n", vec!["a".repeat(63); 4].join("."));
        assert!(policy(&long).is_err(), "a 255-character name");
        let error = StsPolicy::parse(b"version: STSv1\nmode: enforce\nmx: \xff\n").unwrap_err();
        assert_eq!(error.line, Some(3));
        assert_eq!(error.to_string(), "policy line 3: not UTF-8 text");
        assert_eq!(
            policy("").unwrap_err().to_string(),
            "policy: no version line"
        );
    }

    #[test]
    fn canonical_text_parses_back() {
        let original = policy(
            "mode: enforce\nmx: *.Example.NET.\nmx: mail.example.com\nmax_age: 86400\nversion: STSv1\n",
        )
        .unwrap();
        let text = original.to_text();
        assert_eq!(
            text,
            "version: STSv1\r\nmode: enforce\r\nmx: *.example.net\r\nmx: mail.example.com\r\nmax_age: 86400\r\n"
        );
        assert_eq!(StsPolicy::parse(text.as_bytes()), Ok(original));
    }

    #[test]
    fn mx_patterns_match_like_rfc_8461() {
        let wildcard = MxPattern::parse("*.example.com").unwrap();
        let exact = MxPattern::parse("Mail.Example.com.").unwrap();
        assert_eq!(exact.to_string(), "mail.example.com");
        let cases = [
            (&wildcard, "mail.example.com", true),
            (&wildcard, "MAIL.EXAMPLE.COM.", true),
            (&wildcard, "example.com", false),
            (&wildcard, "a.b.example.com", false),
            (&wildcard, ".example.com", false),
            (&wildcard, "mailexample.com", false),
            (&wildcard, "mail.example.com.evil", false),
            (&exact, "mail.example.com", true),
            (&exact, "mail.example.com.", true),
            (&exact, "MAIL.example.COM", true),
            (&exact, "mx.mail.example.com", false),
            (&exact, "example.com", false),
        ];
        for (pattern, host, expected) in cases {
            assert_eq!(pattern.matches(host), expected, "{pattern} vs {host}");
        }
        let policy = policy("version: STSv1\nmode: enforce\nmx: *.example.com\nmx: backup.example.net\nmax_age: 1\n").unwrap();
        assert!(policy.matches("mx1.example.com"));
        assert!(policy.matches("backup.example.net"));
        assert!(!policy.matches("example.com"));
        assert!(!policy.matches("mx.backup.example.net"));
    }
}
