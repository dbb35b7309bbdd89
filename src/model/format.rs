//! How facts are written for people: yes / no answers and percentages, one spelling each.
//!
//! Owns: the words and number formats. Must not touch: I/O or markup (callers put the words in
//! terminal columns, egui labels or HTML cells).

use super::adoption::{share, volume_share};

/// `yes` or `no` for a known answer, `missing` when there is none (e.g. `-` in a terminal).
pub fn yes_no(value: Option<bool>, missing: &'static str) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => missing,
    }
}

/// How a share is written: one decimal, then `unit`; `missing` for a share of nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PercentFormat {
    /// Written right after the number, e.g. `%` or ` %`.
    pub unit: &'static str,
    /// Written instead when the whole is zero.
    pub missing: &'static str,
}

impl PercentFormat {
    /// `33.3%`, and `-` for a share of nothing: terminals.
    pub const PLAIN: Self = Self {
        unit: "%",
        missing: "-",
    };
    /// `33.3 %`, and `–` for a share of nothing: the HTML report.
    pub const TYPESET: Self = Self {
        unit: " %",
        missing: "–",
    };

    /// `part` of `whole` as text.
    pub fn of(self, part: usize, whole: usize) -> String {
        match share(part, whole) {
            Some(percent) => format!("{percent:.1}{}", self.unit),
            None => self.missing.to_string(),
        }
    }

    /// A share of mail volume (`part` of `whole` weights) as text, like [`PercentFormat::of`].
    pub fn of_volume(self, part: f64, whole: f64) -> String {
        match volume_share(part, whole) {
            Some(percent) => format!("{percent:.1}{}", self.unit),
            None => self.missing.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_shares_are_spelled_one_way() {
        assert_eq!(yes_no(Some(true), "-"), "yes");
        assert_eq!(yes_no(Some(false), "-"), "no");
        assert_eq!(yes_no(None, "–"), "–");
        assert_eq!(PercentFormat::PLAIN.of(1, 3), "33.3%");
        assert_eq!(PercentFormat::PLAIN.of(1, 0), "-");
        assert_eq!(PercentFormat::TYPESET.of(1, 3), "33.3 %");
        assert_eq!(PercentFormat::TYPESET.of(1, 0), "–");
        assert_eq!(PercentFormat::TYPESET.of(2, 2), "100.0 %");
        assert_eq!(PercentFormat::TYPESET.of_volume(973.0, 1000.0), "97.3 %");
        assert_eq!(PercentFormat::PLAIN.of_volume(1.0, 0.0), "-");
    }
}
