//! The weight of a domain in a list: how much mail goes to it (messages per period, or any
//! other non-negative measure of volume), so that adoption can be read as a share of mail and
//! not only of domains (DESIGN.md "Weighted by mail volume").
//!
//! Owns: what a valid weight is ([`Weight`]: finite, not negative, at most [`Weight::MAX`];
//! 1 when not given), how one is read from text ([`Weight::parse`]) and written for people.
//! Must not touch: where weights are stored (the store keeps one per list membership) or how
//! they are counted (`model::adoption::VolumeCounts`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How much mail goes to a domain of a list. Finite, never negative, never NaN; 1 when not
/// given (so an unweighted list counts every domain once, as the domain counts do).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Weight(f64);

// A weight is never NaN (`Weight::new` refuses it), so equality is total.
impl Eq for Weight {}

impl Ord for Weight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl PartialOrd for Weight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Default for Weight {
    /// A domain whose weight was never given weighs 1.
    fn default() -> Self {
        Self::ONE
    }
}

/// Why a value is not a weight; the message says what arrived.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WeightError {
    #[error("weight '{0}' is not a number")]
    NotANumber(String),
    #[error("weight {0} is negative")]
    Negative(String),
    #[error("weight {0} is not a finite number")]
    NotFinite(String),
    #[error("weight {0} is larger than {max:e}", max = Weight::MAX)]
    TooLarge(String),
}

impl Weight {
    /// The weight of a domain nobody weighed.
    pub const ONE: Self = Self(1.0);
    /// Weight 0: listed, but no mail goes there (it counts in no share of mail).
    pub const ZERO: Self = Self(0.0);
    /// The largest weight accepted (10^18 messages): sums of millions of these stay far below
    /// f64's range, so weighted counts never overflow.
    pub const MAX: f64 = 1e18;

    /// A weight of `value`: refused when NaN, infinite, negative or above [`Weight::MAX`]
    /// (`-0.0` reads as 0).
    pub fn new(value: f64) -> Result<Self, WeightError> {
        if !value.is_finite() {
            return Err(WeightError::NotFinite(value.to_string()));
        }
        if value < 0.0 {
            return Err(WeightError::Negative(value.to_string()));
        }
        if value > Self::MAX {
            return Err(WeightError::TooLarge(value.to_string()));
        }
        Ok(Self(value + 0.0))
    }

    /// Reads a weight as spreadsheets write it: `1234`, `12.5`, `1e6`, with spaces, `_` or `'`
    /// between digit groups, or `,` between groups of three (`1,234,567`).
    pub fn parse(text: &str) -> Result<Self, WeightError> {
        let trimmed = text.trim();
        let compact: String = trimmed
            .chars()
            .filter(|character| !matches!(character, ' ' | '_' | '\'' | '\u{a0}' | '\u{202f}'))
            .collect();
        let value = match compact.parse::<f64>() {
            Ok(value) => value,
            Err(_) if is_grouped_by_commas(&compact) => compact
                .replace(',', "")
                .parse::<f64>()
                .map_err(|_| WeightError::NotANumber(trimmed.to_string()))?,
            Err(_) => return Err(WeightError::NotANumber(trimmed.to_string())),
        };
        Self::new(value).map_err(|error| match error {
            // Say it as the file wrote it.
            WeightError::Negative(_) => WeightError::Negative(trimmed.to_string()),
            WeightError::NotFinite(_) => WeightError::NotFinite(trimmed.to_string()),
            WeightError::TooLarge(_) => WeightError::TooLarge(trimmed.to_string()),
            other => other,
        })
    }

    /// The weight as a number.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// `1,234` or `12,345,678.5`: digit groups of three after the first, separated by commas.
fn is_grouped_by_commas(text: &str) -> bool {
    let integer = text.split('.').next().unwrap_or_default();
    let mut groups = integer.split(',');
    let Some(first) = groups.next() else {
        return false;
    };
    let digits = |group: &str| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit());
    text.contains(',')
        && digits(first)
        && first.len() <= 3
        && groups.all(|group| group.len() == 3 && digits(group))
}

impl TryFrom<f64> for Weight {
    type Error = WeightError;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Weight> for f64 {
    fn from(weight: Weight) -> Self {
        weight.0
    }
}

impl fmt::Display for Weight {
    /// Whole numbers without decimals (`1200`), others with up to three (`0.125`, `2.5`).
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", format_volume(self.0))
    }
}

/// A volume (a weight, or a sum of weights) for people: whole numbers with thin groups of three
/// (`1 234 567`), others with up to three decimals, huge ones in scientific notation.
pub fn format_volume(value: f64) -> String {
    if value.abs() >= 1e15 {
        return format!("{value:.3e}");
    }
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    let (integer, decimals) = text.split_once('.').unwrap_or((text, ""));
    let mut grouped = String::new();
    for (index, digit) in integer.chars().enumerate() {
        if index > 0 && (integer.len() - index) % 3 == 0 && digit.is_ascii_digit() {
            grouped.push(' ');
        }
        grouped.push(digit);
    }
    if !decimals.is_empty() {
        grouped.push('.');
        grouped.push_str(decimals);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_spreadsheets_write_them_are_weights() {
        let parsed = |text: &str| Weight::parse(text).map(Weight::get);
        assert_eq!(parsed("1234"), Ok(1234.0));
        assert_eq!(parsed(" 12.5 "), Ok(12.5));
        assert_eq!(parsed("1e6"), Ok(1e6));
        assert_eq!(parsed("1,234,567"), Ok(1_234_567.0));
        assert_eq!(parsed("1 234"), Ok(1234.0));
        assert_eq!(parsed("0"), Ok(0.0));
        assert_eq!(parsed("-0"), Ok(0.0));
        assert_eq!(parsed("1000000000000000000"), Ok(1e18));
    }

    #[test]
    fn bad_weights_say_what_arrived() {
        let error = |text: &str| Weight::parse(text).expect_err("not a weight").to_string();
        assert_eq!(error("-3"), "weight -3 is negative");
        assert_eq!(error("lots"), "weight 'lots' is not a number");
        assert_eq!(error("NaN"), "weight NaN is not a finite number");
        assert_eq!(error("inf"), "weight inf is not a finite number");
        assert_eq!(error("-inf"), "weight -inf is not a finite number");
        assert_eq!(error("1e19"), "weight 1e19 is larger than 1e18");
        assert_eq!(error("1,23"), "weight '1,23' is not a number");
        assert_eq!(error(""), "weight '' is not a number");
        assert!(Weight::new(f64::NAN).is_err());
        assert!(
            serde_json::from_str::<Weight>("-1").is_err(),
            "JSON is checked too"
        );
        assert_eq!(
            serde_json::from_str::<Weight>("2.5").map(Weight::get).ok(),
            Some(2.5)
        );
    }

    #[test]
    fn volumes_read_like_numbers_people_write() {
        assert_eq!(Weight::ONE.to_string(), "1");
        assert_eq!(format_volume(1_234_567.0), "1 234 567");
        assert_eq!(format_volume(0.125), "0.125");
        assert_eq!(format_volume(2.5), "2.5");
        assert_eq!(format_volume(1_200_751.5), "1 200 751.5");
        assert_eq!(format_volume(0.0), "0");
        assert_eq!(format_volume(3e17), "3.000e17");
        assert_eq!(Weight::default(), Weight::ONE);
        assert!(Weight::ZERO < Weight::ONE);
    }
}
