//! Lists of domain names that people give us directly: command-line arguments, the lines of
//! `domains add -` on standard input, and text pasted into the app's "Add domains" dialog.
//!
//! Owns: how such a list is cut into entries (line numbers, blank lines, `#` comments,
//! separators), validating each entry as a [`DomainName`], and keeping every bad entry with
//! where it stood and why. Must not touch: I/O (callers read standard input or the text box),
//! CSV files (that is [`super::read_file`]), or how the problems are worded for the user (each
//! caller keeps its own message).

use crate::model::DomainName;

/// Where an entry stood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line argument (the entry's text is the whole argument).
    Argument,
    /// This 1-based line of a text.
    Line(usize),
}

/// An entry that is not a domain name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidEntry {
    /// Where it stood.
    pub origin: Origin,
    /// The entry as given (a line trimmed, an item of a pasted line, an argument untouched).
    pub text: String,
    /// Why it is not a domain name, in words.
    pub reason: String,
}

/// How the lines of a text are cut into entries. Both skip blank lines and `#` comments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineSyntax {
    /// One name per line, as a script writes it (`domains add -`): the trimmed line is the
    /// entry and a line starting with `#` is a comment, so a stray space, comma or trailing
    /// remark makes the whole line a bad entry, reported with its number, not a guess.
    OnePerLine,
    /// Text a person typed or pasted: everything after a `#` is a comment, and commas,
    /// semicolons and white space separate names too (people paste "a.org, b.org"). Each item
    /// goes through the import's cell normalizer ([`super::normalize_domain`]), so an e-mail
    /// address (`user@example.org`), a URL or a Unicode name is taken as `import` takes it.
    Pasted,
}

/// The valid domains in the order given (repeats kept: the store counts them), and every entry
/// that was not one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainList {
    /// The entries that are domain names, in order.
    pub domains: Vec<DomainName>,
    /// The entries that are not, in order.
    pub invalid: Vec<InvalidEntry>,
}

impl DomainList {
    /// The entries of a whole text, its lines numbered from 1.
    pub fn from_text(text: &str, syntax: LineSyntax) -> Self {
        let mut list = Self::default();
        for (index, line) in text.lines().enumerate() {
            list.push_line(index + 1, line, syntax);
        }
        list
    }

    /// The entries of command-line arguments, one each (none is skipped: an empty argument is
    /// a bad entry).
    pub fn from_arguments<S: AsRef<str>>(arguments: &[S]) -> Self {
        let mut list = Self::default();
        for argument in arguments {
            list.push_argument(argument.as_ref());
        }
        list
    }

    /// Adds one command-line argument as one entry.
    pub fn push_argument(&mut self, argument: &str) {
        self.push_entry(Origin::Argument, argument);
    }

    /// Adds the entries of line `number` (1-based) of a text read line by line.
    pub fn push_line(&mut self, number: usize, line: &str, syntax: LineSyntax) {
        let origin = Origin::Line(number);
        match syntax {
            LineSyntax::OnePerLine => {
                let entry = line.trim();
                if !entry.is_empty() && !entry.starts_with('#') {
                    self.push_entry(origin, entry);
                }
            }
            LineSyntax::Pasted => {
                let content = line.split('#').next().unwrap_or_default();
                for item in content
                    .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                    .filter(|item| !item.is_empty())
                {
                    self.push_normalized(origin, item);
                }
            }
        }
    }

    /// How many of the valid entries repeat an earlier one (not counted as valid again).
    pub fn duplicate_count(&self) -> usize {
        self.domains.len() - self.unique_domains().len()
    }

    fn push_normalized(&mut self, origin: Origin, text: &str) {
        match super::normalize_domain(text) {
            Ok(domain) => self.domains.push(domain),
            Err(error) => self.invalid.push(InvalidEntry {
                origin,
                text: text.to_string(),
                reason: error.to_string(),
            }),
        }
    }

    /// The domains with repeats left out, each where it first stood.
    pub fn unique_domains(&self) -> Vec<DomainName> {
        let mut seen = std::collections::HashSet::new();
        self.domains
            .iter()
            .filter(|domain| seen.insert(*domain))
            .cloned()
            .collect()
    }

    fn push_entry(&mut self, origin: Origin, text: &str) {
        match DomainName::parse(text) {
            Ok(domain) => self.domains.push(domain),
            Err(error) => self.invalid.push(InvalidEntry {
                origin,
                text: text.to_string(),
                reason: error.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &DomainList) -> Vec<&str> {
        list.domains.iter().map(DomainName::as_str).collect()
    }

    fn places(list: &DomainList) -> Vec<(Origin, &str)> {
        list.invalid
            .iter()
            .map(|entry| (entry.origin, entry.text.as_str()))
            .collect()
    }

    #[test]
    fn pasted_text_is_split_and_bad_items_keep_their_line() {
        let list = DomainList::from_text(
            "Example.ORG\n\n# a comment\nexample.net, mail.example.com\nnot a domain!\n10.0.0.1\n\
             tail.example # a remark\n",
            LineSyntax::Pasted,
        );
        assert_eq!(
            names(&list),
            [
                "example.org",
                "example.net",
                "mail.example.com",
                "tail.example"
            ]
        );
        assert_eq!(
            places(&list),
            [
                (Origin::Line(5), "not"),
                (Origin::Line(5), "a"),
                (Origin::Line(5), "domain!"),
                (Origin::Line(6), "10.0.0.1"),
            ]
        );
        assert!(list.invalid[3].reason.contains("IP address"), "{list:?}");
    }

    #[test]
    fn pasted_addresses_and_urls_are_taken_as_import_takes_them() {
        let list = DomainList::from_text(
            "jane@Example.ORG
<sales@shop.example>, https://www.site.example/contact
             bücher.de
user@
example.org
",
            LineSyntax::Pasted,
        );
        assert_eq!(
            names(&list),
            [
                "example.org",
                "shop.example",
                "www.site.example",
                "xn--bcher-kva.de",
                "example.org"
            ]
        );
        assert_eq!(places(&list), [(Origin::Line(4), "user@")]);
        assert_eq!(list.duplicate_count(), 1, "example.org twice");
        assert_eq!(list.unique_domains().len(), 4);
    }

    #[test]
    fn one_per_line_text_takes_each_trimmed_line_whole() {
        let list = DomainList::from_text(
            "# customers from the CRM\n\n  failover.test  \nVALID.test.\na.test, b.test\n\
             c.test # remark\n   # indented comment\n",
            LineSyntax::OnePerLine,
        );
        assert_eq!(names(&list), ["failover.test", "valid.test"]);
        assert_eq!(
            places(&list),
            [
                (Origin::Line(5), "a.test, b.test"),
                (Origin::Line(6), "c.test # remark"),
            ]
        );
    }

    #[test]
    fn arguments_are_one_entry_each_and_never_skipped() {
        let list = DomainList::from_arguments(&["ok.test", "not a domain", "", "# x", "OK.test"]);
        assert_eq!(names(&list), ["ok.test", "ok.test"]);
        assert_eq!(
            places(&list),
            [
                (Origin::Argument, "not a domain"),
                (Origin::Argument, ""),
                (Origin::Argument, "# x"),
            ]
        );
        let unique: Vec<String> = list
            .unique_domains()
            .iter()
            .map(|domain| domain.as_str().to_string())
            .collect();
        assert_eq!(unique, ["ok.test"]);
    }

    #[test]
    fn lines_can_be_pushed_one_by_one_after_arguments() {
        let mut list = DomainList::default();
        list.push_argument("first.test");
        list.push_line(1, "second.test", LineSyntax::OnePerLine);
        list.push_line(2, "bad name", LineSyntax::OnePerLine);
        assert_eq!(names(&list), ["first.test", "second.test"]);
        assert_eq!(places(&list), [(Origin::Line(2), "bad name")]);
    }
}
