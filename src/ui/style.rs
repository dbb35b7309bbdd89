//! How verdicts look: one grade per domain row, each with a label, an icon and a colour that
//! reads in both light and dark themes (never colour alone: every badge has its icon and word).
//!
//! Owns: the visual vocabulary shared by the table, the detail panel, the legend and the charts
//! (grades, flags, how timestamps read). Must not touch: app state.

use eframe::egui::{self, Color32, RichText};
use time::OffsetDateTime;

use crate::model::{Outcome, Verdict};
use crate::monitor::view::LatestRow;

/// What a table row says at a glance, derived from the exact verdict and booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grade {
    /// STARTTLS + forward secrecy + strict certificate validation.
    Secure,
    /// Encrypted, but without forward secrecy or without a strictly valid certificate.
    Encrypted,
    /// STARTTLS offered, but the command or the handshake failed.
    TlsFailed,
    /// Mail arrives in clear text.
    NoStarttls,
    /// Could not be tested (DNS failure, refused, timed out, 421): not a failure.
    Untestable,
    /// Null MX: the domain takes no mail.
    NoMail,
    /// Not probed yet.
    NotProbed,
}

impl Grade {
    /// Every grade, in the legend's order.
    pub const ALL: [Grade; 7] = [
        Grade::Secure,
        Grade::Encrypted,
        Grade::TlsFailed,
        Grade::NoStarttls,
        Grade::Untestable,
        Grade::NoMail,
        Grade::NotProbed,
    ];

    /// The grade of a verdict with its booleans.
    pub fn of(verdict: Option<Verdict>, pfs: Option<bool>, strict_valid: Option<bool>) -> Self {
        match verdict {
            None => Grade::NotProbed,
            Some(Verdict::NoMail) => Grade::NoMail,
            Some(Verdict::Untestable) => Grade::Untestable,
            Some(Verdict::NoStarttls) => Grade::NoStarttls,
            Some(Verdict::TlsFailed) => Grade::TlsFailed,
            Some(Verdict::TlsOk) if pfs == Some(true) && strict_valid == Some(true) => {
                Grade::Secure
            }
            Some(Verdict::TlsOk) => Grade::Encrypted,
        }
    }

    /// The grade of a table row.
    pub fn of_row(row: &LatestRow) -> Self {
        Self::of(row.verdict, row.pfs, row.strict_valid)
    }

    /// The grade of one address's outcome.
    pub fn of_outcome(outcome: Outcome, pfs: Option<bool>, strict_valid: Option<bool>) -> Self {
        let verdict = match outcome {
            Outcome::Untestable => Verdict::Untestable,
            Outcome::NoStarttls => Verdict::NoStarttls,
            Outcome::TlsFailed => Verdict::TlsFailed,
            Outcome::TlsOk => Verdict::TlsOk,
        };
        Self::of(Some(verdict), pfs, strict_valid)
    }

    /// Short word shown in the table.
    pub fn label(self) -> &'static str {
        match self {
            Grade::Secure => "secure",
            Grade::Encrypted => "encrypted",
            Grade::TlsFailed => "TLS failed",
            Grade::NoStarttls => "no STARTTLS",
            Grade::Untestable => "untestable",
            Grade::NoMail => "no mail",
            Grade::NotProbed => "not probed",
        }
    }

    /// What the grade means, for the legend and tooltips.
    pub fn meaning(self) -> &'static str {
        match self {
            Grade::Secure => "STARTTLS, forward secrecy and a strictly valid certificate",
            Grade::Encrypted => {
                "encrypted, but without forward secrecy or without a strictly valid certificate"
            }
            Grade::TlsFailed => "STARTTLS offered, but the command or the TLS handshake failed",
            Grade::NoStarttls => "the server does not offer STARTTLS: mail travels in clear text",
            Grade::Untestable => {
                "could not be tested (DNS failure, refused, timed out, 421); not counted as failing"
            }
            Grade::NoMail => "null MX: the domain accepts no mail",
            Grade::NotProbed => "not probed yet",
        }
    }

    /// An icon that tells grades apart without colour.
    pub fn icon(self) -> &'static str {
        match self {
            Grade::Secure => "✔",
            Grade::Encrypted => "⚠",
            Grade::TlsFailed => "✖",
            Grade::NoStarttls => "🔓",
            Grade::Untestable => "？",
            Grade::NoMail => "—",
            Grade::NotProbed => "…",
        }
    }

    /// A colour with enough contrast on the theme's background.
    pub fn color(self, dark_mode: bool) -> Color32 {
        match (self, dark_mode) {
            (Grade::Secure, true) => Color32::from_rgb(0x5c, 0xd6, 0x7a),
            (Grade::Secure, false) => Color32::from_rgb(0x1b, 0x7a, 0x35),
            (Grade::Encrypted, true) => Color32::from_rgb(0xf2, 0xc1, 0x4e),
            (Grade::Encrypted, false) => Color32::from_rgb(0x8a, 0x5a, 0x00),
            (Grade::TlsFailed, true) => Color32::from_rgb(0xff, 0x8c, 0x5a),
            (Grade::TlsFailed, false) => Color32::from_rgb(0xb3, 0x41, 0x00),
            (Grade::NoStarttls, true) => Color32::from_rgb(0xff, 0x6b, 0x6b),
            (Grade::NoStarttls, false) => Color32::from_rgb(0xb0, 0x12, 0x1f),
            (Grade::Untestable | Grade::NoMail | Grade::NotProbed, true) => {
                Color32::from_rgb(0xa8, 0xa8, 0xa8)
            }
            (Grade::Untestable | Grade::NoMail | Grade::NotProbed, false) => {
                Color32::from_rgb(0x5f, 0x5f, 0x5f)
            }
        }
    }

    /// Icon and word, coloured.
    pub fn badge(self, dark_mode: bool) -> RichText {
        RichText::new(format!("{} {}", self.icon(), self.label())).color(self.color(dark_mode))
    }
}

/// A yes/no/unknown cell: "yes" / "no" / "–", coloured good or bad.
pub fn flag(value: Option<bool>, dark_mode: bool) -> RichText {
    match value {
        Some(true) => RichText::new("✔ yes").color(Grade::Secure.color(dark_mode)),
        Some(false) => RichText::new("✖ no").color(Grade::NoStarttls.color(dark_mode)),
        None => RichText::new("–").color(Grade::NotProbed.color(dark_mode)),
    }
}

/// A forward-secrecy or strict-validation cell: `n/a` when the verdict says there was no TLS
/// session to judge (no STARTTLS, TLS failed), else as [`flag`].
pub fn tls_flag(value: Option<bool>, verdict: Option<Verdict>, dark_mode: bool) -> RichText {
    if no_tls_session(verdict) {
        RichText::new("n/a").color(Grade::NotProbed.color(dark_mode))
    } else {
        flag(value, dark_mode)
    }
}

/// True when a verdict leaves no TLS session whose forward secrecy or certificate one could judge.
pub fn no_tls_session(verdict: Option<Verdict>) -> bool {
    matches!(verdict, Some(Verdict::NoStarttls | Verdict::TlsFailed))
}

/// Colour for "days left" on a certificate: red when expired, amber within the warning window.
pub fn days_left_color(days_left: i64, warning_days: i64, dark_mode: bool) -> Option<Color32> {
    if days_left < 0 {
        Some(Grade::NoStarttls.color(dark_mode))
    } else if days_left <= warning_days {
        Some(Grade::Encrypted.color(dark_mode))
    } else {
        None
    }
}

/// The legend: every grade with its icon, word and meaning.
pub fn legend_ui(ui: &mut egui::Ui) {
    let dark_mode = ui.visuals().dark_mode;
    ui.horizontal_wrapped(|ui| {
        for grade in Grade::ALL {
            ui.label(grade.badge(dark_mode))
                .on_hover_text(grade.meaning());
            ui.add_space(6.0);
        }
    });
}

/// A timestamp as the tables show it: `2026-11-28 10:12` (UTC).
pub fn format_time(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    at.format(format).unwrap_or_else(|_| at.to_string())
}

/// A date: `2026-11-28`.
pub fn format_date(at: OffsetDateTime) -> String {
    at.date().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_follow_the_verdict_and_both_booleans() {
        assert_eq!(
            Grade::of(Some(Verdict::TlsOk), Some(true), Some(true)),
            Grade::Secure
        );
        assert_eq!(
            Grade::of(Some(Verdict::TlsOk), Some(false), Some(true)),
            Grade::Encrypted
        );
        assert_eq!(
            Grade::of(Some(Verdict::TlsOk), Some(true), Some(false)),
            Grade::Encrypted
        );
        assert_eq!(
            Grade::of(Some(Verdict::Untestable), None, None),
            Grade::Untestable
        );
        assert_eq!(
            Grade::of(Some(Verdict::NoStarttls), Some(false), Some(false)),
            Grade::NoStarttls
        );
        assert_eq!(Grade::of(None, None, None), Grade::NotProbed);
    }

    #[test]
    fn forward_secrecy_and_strict_read_n_a_without_a_tls_session() {
        for verdict in [Verdict::NoStarttls, Verdict::TlsFailed] {
            assert_eq!(tls_flag(Some(false), Some(verdict), true).text(), "n/a");
            assert_eq!(tls_flag(Some(false), Some(verdict), false).text(), "n/a");
        }
        assert_eq!(
            tls_flag(Some(false), Some(Verdict::TlsOk), true).text(),
            "✖ no"
        );
        assert_eq!(
            tls_flag(Some(true), Some(Verdict::TlsOk), true).text(),
            "✔ yes"
        );
        assert_eq!(tls_flag(None, Some(Verdict::Untestable), true).text(), "–");
        assert_eq!(tls_flag(None, None, true).text(), "–");
    }

    #[test]
    fn every_grade_has_a_distinct_icon_and_label() {
        let icons: std::collections::HashSet<_> = Grade::ALL.iter().map(|g| g.icon()).collect();
        let labels: std::collections::HashSet<_> = Grade::ALL.iter().map(|g| g.label()).collect();
        assert_eq!(icons.len(), Grade::ALL.len());
        assert_eq!(labels.len(), Grade::ALL.len());
    }
}
