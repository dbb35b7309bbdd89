//! How verdicts look: one grade per domain row, each with a label, an icon and a colour that
//! reads in both light and dark themes (never colour alone: every badge has its icon and word).
//!
//! Owns: the visual vocabulary shared by the table, the detail panel, the legend and the charts
//! (grades, flags, how timestamps read). Must not touch: app state.

use eframe::egui::{self, Color32, RichText};
use time::OffsetDateTime;

use crate::model::{TlsGrade, Verdict};
use crate::monitor::view::LatestRow;

pub use crate::model::words::Grade;

/// How a [`Grade`] looks in egui: its colour, its badge (icon and word), the grade of a row.
pub trait GradeLook: Sized {
    /// A colour with enough contrast on the theme's background.
    fn color(self, dark_mode: bool) -> Color32;
    /// Icon and word, coloured.
    fn badge(self, dark_mode: bool) -> RichText;
    /// The label of a table row (DESIGN.md's order: at risk first, see
    /// [`Grade::of_domain`]).
    fn of_row(row: &LatestRow) -> Self;
}

impl GradeLook for Grade {
    fn color(self, dark_mode: bool) -> Color32 {
        color32(self.rgb(dark_mode))
    }

    fn badge(self, dark_mode: bool) -> RichText {
        RichText::new(format!("{} {}", self.icon(), self.label())).color(self.color(dark_mode))
    }

    fn of_row(row: &LatestRow) -> Self {
        Self::of_domain(
            row.auth.at_risk(),
            row.verdict,
            row.pfs,
            row.strict_valid,
            row.tls_grade,
        )
    }
}

/// The "Authenticated" badge beside a domain's label (`sender.authenticated`), in the green of
/// secure.
pub fn authenticated_badge(dark_mode: bool) -> RichText {
    RichText::new(crate::model::words::AUTHENTICATED_BADGE)
        .small()
        .strong()
        .color(Grade::Secure.color(dark_mode))
}

/// egui's colour of an [`Rgb`](crate::model::words::Rgb).
pub fn color32(rgb: crate::model::words::Rgb) -> Color32 {
    Color32::from_rgb(rgb.0, rgb.1, rgb.2)
}

/// A TLS grade in words (`good`, `sufficient`, `phase out`, `insufficient`), coloured: good and
/// sufficient green, phase out amber, insufficient red; `–` when there is none.
pub fn tls_grade_text(grade: Option<TlsGrade>, dark_mode: bool) -> RichText {
    let Some(grade) = grade else {
        return RichText::new("–").color(Grade::NotProbed.color(dark_mode));
    };
    let color = match grade {
        TlsGrade::Good | TlsGrade::Sufficient => Grade::Secure,
        TlsGrade::PhaseOut => Grade::Encrypted,
        TlsGrade::Insufficient => Grade::NoStarttls,
    }
    .color(dark_mode);
    RichText::new(grade.label()).color(color)
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
    use crate::model::Outcome;

    #[test]
    fn grades_follow_the_verdict_and_both_booleans() {
        assert_eq!(
            Grade::of(Some(Verdict::TlsOk), Some(true), Some(true), None),
            Grade::Secure
        );
        assert_eq!(
            Grade::of(Some(Verdict::TlsOk), Some(false), Some(true), None),
            Grade::Encrypted
        );
        assert_eq!(
            Grade::of(Some(Verdict::TlsOk), Some(true), Some(false), None),
            Grade::Encrypted
        );
        assert_eq!(
            Grade::of(Some(Verdict::Untestable), None, None, None),
            Grade::Untestable
        );
        assert_eq!(
            Grade::of(Some(Verdict::NoStarttls), Some(false), Some(false), None),
            Grade::NoStarttls
        );
        assert_eq!(Grade::of(None, None, None, None), Grade::NotProbed);
    }

    #[test]
    fn all_three_is_secure_only_with_tls_graded_good_or_sufficient() {
        let all_three = |grade| Grade::of(Some(Verdict::TlsOk), Some(true), Some(true), grade);
        assert_eq!(all_three(Some(TlsGrade::Good)), Grade::Secure);
        assert_eq!(all_three(Some(TlsGrade::Sufficient)), Grade::Secure);
        assert_eq!(all_three(Some(TlsGrade::PhaseOut)), Grade::WeakTls);
        assert_eq!(all_three(Some(TlsGrade::Insufficient)), Grade::WeakTls);
        assert_eq!(all_three(None), Grade::Secure, "stored before grading");
        assert_eq!(Grade::WeakTls.label(), "all three, weak TLS");
        assert_eq!(
            Grade::WeakTls.color(true),
            Grade::Encrypted.color(true),
            "amber"
        );
        // Weak TLS does not make a domain without forward secrecy any worse than encrypted.
        assert_eq!(
            Grade::of(
                Some(Verdict::TlsOk),
                Some(false),
                Some(true),
                Some(TlsGrade::PhaseOut)
            ),
            Grade::Encrypted
        );
        assert_eq!(
            tls_grade_text(Some(TlsGrade::PhaseOut), true).text(),
            "phase out"
        );
        assert_eq!(tls_grade_text(None, true).text(), "–");
    }

    #[test]
    fn a_tls_1_2_domain_with_rsa_key_exchange_is_all_three_weak_tls_not_secure() {
        use crate::model::test_support::{address, mx_host};
        use crate::model::{DomainName, DomainResult, TlsVersion, tls_grade};
        let mut rsa = address(Outcome::TlsOk, true, true);
        rsa.tls_version = Some(TlsVersion::Tls12);
        rsa.cipher_suite = Some("TLS_RSA_WITH_AES_128_GCM_SHA256".into());
        rsa.tls_grade = Some(tls_grade::grade_session(
            TlsVersion::Tls12,
            "TLS_RSA_WITH_AES_128_GCM_SHA256",
            None,
        ));
        // The forward-secrecy flag is the probe's; the grade alone must keep "secure" away.
        let mut good = address(Outcome::TlsOk, true, true);
        good.tls_grade = Some(TlsGrade::Good);
        let domain = DomainResult::new(
            DomainName::parse("a.example").expect("valid"),
            false,
            None,
            OffsetDateTime::UNIX_EPOCH,
            vec![mx_host("mx.a.example", vec![good, rsa])],
        );
        assert_eq!(domain.tls_grade, Some(TlsGrade::PhaseOut));
        let grade = Grade::of(
            Some(domain.verdict),
            domain.pfs,
            domain.strict_valid,
            domain.tls_grade,
        );
        assert_eq!(grade, Grade::WeakTls);
        assert_eq!(grade.badge(true).text(), "☑ all three, weak TLS");
        assert!(Grade::ALL.contains(&Grade::WeakTls), "legend and filter");
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
