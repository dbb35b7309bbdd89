//! How people read results: one word, icon and colour for each verdict grade ([`Grade`]) and
//! each adoption series ([`Measure::label`], [`Measure::rgb`]), and the words of authenticated
//! transport (DNSSEC, DANE, MTA-STS, the sender view: their `label` methods), shared by the desktop app and
//! the HTML report, so the same thing has one name and one colour everywhere. Machines keep the
//! stable codes (`tls_ok`, `all_three`) of the JSON and CSV.
//!
//! Owns: labels, meanings, icons and colours (as plain RGB). Must not touch: any I/O, and how
//! a toolkit draws them (the UI turns [`Rgb`] into its colour type, the report into CSS).

use super::adoption::Measure;
use super::auth::{
    DaneSetStatus, DaneStatus, DaneWarning, DnssecStatus, MtaStsOutcome, SenderOutcome, SenderView,
};
use super::changes::ChangeKind;
use super::{Outcome, TlsGrade, Verdict};

/// A colour as red, green, blue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, for CSS.
    pub fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// What a table row says at a glance, derived from the exact verdict and booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grade {
    /// A DANE- or MTA-STS-enforcing sender defers some or all of the domain's mail
    /// (`sender.at_risk`): first of all labels, whatever the opportunistic verdict says.
    AtRisk,
    /// STARTTLS + forward secrecy + strict certificate validation, and TLS graded good or
    /// sufficient (NCSC-NL) on every testable address.
    Secure,
    /// All three, but the TLS grade is phase out or insufficient somewhere (`weak TLS`).
    WeakTls,
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
    pub const ALL: [Grade; 9] = [
        Grade::AtRisk,
        Grade::Secure,
        Grade::WeakTls,
        Grade::Encrypted,
        Grade::TlsFailed,
        Grade::NoStarttls,
        Grade::Untestable,
        Grade::NoMail,
        Grade::NotProbed,
    ];

    /// The grade of a verdict with its booleans and TLS grade (the worst over the addresses
    /// where TLS worked). A null TLS grade (results stored before grading) does not pull a
    /// domain down from secure.
    pub fn of(
        verdict: Option<Verdict>,
        pfs: Option<bool>,
        strict_valid: Option<bool>,
        tls_grade: Option<TlsGrade>,
    ) -> Self {
        match verdict {
            None => Grade::NotProbed,
            Some(Verdict::NoMail) => Grade::NoMail,
            Some(Verdict::Untestable) => Grade::Untestable,
            Some(Verdict::NoStarttls) => Grade::NoStarttls,
            Some(Verdict::TlsFailed) => Grade::TlsFailed,
            Some(Verdict::TlsOk) if pfs == Some(true) && strict_valid == Some(true) => {
                if tls_grade.is_some_and(TlsGrade::is_weak) {
                    Grade::WeakTls
                } else {
                    Grade::Secure
                }
            }
            Some(Verdict::TlsOk) => Grade::Encrypted,
        }
    }

    /// The app's label for a domain (DESIGN.md, "Authenticated transport"), first that
    /// applies: at risk (`sender.at_risk`); the verdict labels; secure; all three, weak TLS;
    /// encrypted. So an at-risk domain is never shown secure. `at_risk` is None for results
    /// stored before the sender view existed (and for `no_mail`): the grade of [`Self::of`].
    pub fn of_domain(
        at_risk: Option<bool>,
        verdict: Option<Verdict>,
        pfs: Option<bool>,
        strict_valid: Option<bool>,
        tls_grade: Option<TlsGrade>,
    ) -> Self {
        if at_risk == Some(true) && verdict.is_some() {
            Grade::AtRisk
        } else {
            Self::of(verdict, pfs, strict_valid, tls_grade)
        }
    }

    /// The grade of one address's outcome.
    pub fn of_outcome(
        outcome: Outcome,
        pfs: Option<bool>,
        strict_valid: Option<bool>,
        tls_grade: Option<TlsGrade>,
    ) -> Self {
        let verdict = match outcome {
            Outcome::Untestable => Verdict::Untestable,
            Outcome::NoStarttls => Verdict::NoStarttls,
            Outcome::TlsFailed => Verdict::TlsFailed,
            Outcome::TlsOk => Verdict::TlsOk,
        };
        Self::of(Some(verdict), pfs, strict_valid, tls_grade)
    }

    /// A stable name for style sheets (`secure`, `weak_tls`, `encrypted`, …).
    pub fn key(self) -> &'static str {
        match self {
            Grade::AtRisk => "at_risk",
            Grade::Secure => "secure",
            Grade::WeakTls => "weak_tls",
            Grade::Encrypted => "encrypted",
            Grade::TlsFailed => "tls_failed",
            Grade::NoStarttls => "no_starttls",
            Grade::Untestable => "untestable",
            Grade::NoMail => "no_mail",
            Grade::NotProbed => "not_probed",
        }
    }

    /// Short word shown in the table.
    pub fn label(self) -> &'static str {
        match self {
            Grade::AtRisk => "at risk",
            Grade::Secure => "secure",
            Grade::WeakTls => "all three, weak TLS",
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
            Grade::AtRisk => {
                "a DANE- or MTA-STS-enforcing sender defers some or all mail: a TLSA record or \
                 an MTA-STS enforce policy that the MX hosts do not meet"
            }
            Grade::Secure => {
                "STARTTLS, forward secrecy, a strictly valid certificate and TLS graded good or \
                 sufficient (NCSC-NL TLS guidelines v2.1)"
            }
            Grade::WeakTls => {
                "STARTTLS, forward secrecy and a strictly valid certificate, but TLS graded phase \
                 out or insufficient (NCSC-NL TLS guidelines v2.1: version, key exchange, suite)"
            }
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
            Grade::AtRisk => "⛔",
            Grade::Secure => "✔",
            Grade::WeakTls => "☑",
            Grade::Encrypted => "⚠",
            Grade::TlsFailed => "✖",
            Grade::NoStarttls => "🔓",
            Grade::Untestable => "？",
            Grade::NoMail => "—",
            Grade::NotProbed => "…",
        }
    }

    /// A colour with enough contrast on the theme's background.
    pub fn rgb(self, dark_mode: bool) -> Rgb {
        match (self, dark_mode) {
            (Grade::Secure, true) => Rgb(0x5c, 0xd6, 0x7a),
            (Grade::Secure, false) => Rgb(0x1b, 0x7a, 0x35),
            (Grade::Encrypted | Grade::WeakTls, true) => Rgb(0xf2, 0xc1, 0x4e),
            (Grade::Encrypted | Grade::WeakTls, false) => Rgb(0x8a, 0x5a, 0x00),
            (Grade::TlsFailed, true) => Rgb(0xff, 0x8c, 0x5a),
            (Grade::TlsFailed, false) => Rgb(0xb3, 0x41, 0x00),
            (Grade::NoStarttls | Grade::AtRisk, true) => Rgb(0xff, 0x6b, 0x6b),
            (Grade::NoStarttls | Grade::AtRisk, false) => Rgb(0xb0, 0x12, 0x1f),
            (Grade::Untestable | Grade::NoMail | Grade::NotProbed, true) => Rgb(0xa8, 0xa8, 0xa8),
            (Grade::Untestable | Grade::NoMail | Grade::NotProbed, false) => Rgb(0x5f, 0x5f, 0x5f),
        }
    }
}

/// The badge beside a domain's label when `sender.authenticated`: a DANE- or MTA-STS-enforcing
/// sender authenticates the MX hosts it delivers to.
pub const AUTHENTICATED_BADGE: &str = "Authenticated";

/// What [`AUTHENTICATED_BADGE`] means, for tooltips.
pub const AUTHENTICATED_MEANING: &str = "a DANE- or MTA-STS-enforcing sender authenticates the \
     MX hosts it delivers to (DANE valid, or an MTA-STS enforce policy the MX hosts meet)";

impl ChangeKind {
    /// The event in words, for people (the stable code stays in JSON and CSV): e.g.
    /// `certificate became invalid`, `certificate became valid`.
    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::StarttlsLost => "STARTTLS lost",
            ChangeKind::StarttlsGained => "STARTTLS gained",
            ChangeKind::PfsLost => "forward secrecy lost",
            ChangeKind::PfsGained => "forward secrecy gained",
            ChangeKind::CertBecameInvalid => "certificate became invalid",
            ChangeKind::CertBecameValid => "certificate became valid",
            ChangeKind::CertExpiring => "certificate expires soon",
            ChangeKind::MxChanged => "MX hosts changed",
            ChangeKind::DaneFailed => "DANE failed",
            ChangeKind::DaneValid => "DANE valid again",
            ChangeKind::DaneGained => "DANE published",
            ChangeKind::DaneLost => "DANE gone",
            ChangeKind::StsPolicyChanged => "MTA-STS policy changed",
            ChangeKind::StsMxMismatch => "MTA-STS policy misses an MX host",
            ChangeKind::TlsrptChanged => "TLS-RPT record changed",
        }
    }
}

impl Measure {
    /// The series' name for people, the same in the app's charts and headline and in the
    /// report: `STARTTLS`, `PFS`, `strict`, `all three`, `weak TLS`, `untestable`, and the
    /// authenticated-transport shares `DANE valid`, `MTA-STS enforce`, `authenticated`, `at risk`.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Starttls => "STARTTLS",
            Measure::Pfs => "PFS",
            Measure::StrictValid => "strict",
            Measure::AllThree => "all three",
            Measure::WeakTls => "weak TLS",
            Measure::Untestable => "untestable",
            Measure::DaneValid => "DANE valid",
            Measure::StsEnforce => "MTA-STS enforce",
            Measure::Authenticated => "authenticated",
            Measure::AtRisk => "at risk",
        }
    }

    /// The series' colour on charts (app and report; it reads on light and dark backgrounds):
    /// all three in the green of "secure", weak TLS in its amber, untestable grey, at risk in
    /// the red of the "at risk" label.
    pub fn rgb(self) -> Rgb {
        match self {
            Measure::Starttls => Rgb(0x3b, 0x82, 0xf6),
            Measure::Pfs => Rgb(0xa8, 0x55, 0xf7),
            Measure::StrictValid => Rgb(0x0e, 0x9a, 0xa7),
            Measure::AllThree => Rgb(0x2e, 0xa0, 0x4e),
            Measure::WeakTls => Rgb(0xd9, 0x8e, 0x04),
            Measure::Untestable => Rgb(0x8a, 0x8a, 0x8a),
            Measure::DaneValid => Rgb(0x65, 0xa3, 0x0d),
            Measure::StsEnforce => Rgb(0xdb, 0x27, 0x77),
            Measure::Authenticated => Rgb(0x63, 0x66, 0xf1),
            Measure::AtRisk => Rgb(0xef, 0x44, 0x44),
        }
    }
}

impl DnssecStatus {
    /// The DNSSEC status in words: `signed (secure)`, `unsigned`, `bogus signatures`,
    /// `indeterminate` (the last two make DANE senders defer).
    pub fn label(self) -> &'static str {
        match self {
            DnssecStatus::Secure => "signed (secure)",
            DnssecStatus::Insecure => "unsigned",
            DnssecStatus::Bogus => "bogus signatures",
            DnssecStatus::Indeterminate => "indeterminate",
        }
    }
}

impl DaneSetStatus {
    /// Every value, best first: the DANE column's sort order and filter menu.
    pub const ALL: [DaneSetStatus; 7] = [
        DaneSetStatus::Valid,
        DaneSetStatus::Partial,
        DaneSetStatus::Unusable,
        DaneSetStatus::None,
        DaneSetStatus::Unknown,
        DaneSetStatus::Failed,
        DaneSetStatus::Bogus,
    ];

    /// DANE in words: `valid`, `failed`, `bogus DNSSEC`, `no TLSA`, …
    pub fn label(self) -> &'static str {
        match self {
            DaneSetStatus::Valid => "valid",
            DaneSetStatus::Failed => "failed",
            DaneSetStatus::Unusable => "unusable records",
            DaneSetStatus::None => "none",
            DaneSetStatus::Bogus => "bogus DNSSEC",
            DaneSetStatus::Unknown => "unknown",
            DaneSetStatus::Partial => "partial",
        }
    }

    /// What it means, for tooltips.
    pub fn meaning(self) -> &'static str {
        match self {
            DaneSetStatus::Valid => "a DNSSEC-signed TLSA record matches every testable MX host",
            DaneSetStatus::Failed => {
                "TLSA records are published but the certificate does not match them (or STARTTLS \
                 failed): DANE senders defer mail"
            }
            DaneSetStatus::Unusable => {
                "only TLSA records SMTP cannot use (PKIX-TA/PKIX-EE): TLS is required, not \
                 authenticated"
            }
            DaneSetStatus::None => "no DNSSEC-signed TLSA records: DANE does not apply",
            DaneSetStatus::Bogus => "DNSSEC signatures do not validate: DANE senders defer mail",
            DaneSetStatus::Unknown => "the resolver passes no DNSSEC data: DANE not judged",
            DaneSetStatus::Partial => "DANE on some MX hosts only",
        }
    }

    /// The colour family: valid as secure, failed and bogus as at risk, the rest grey.
    pub fn grade(self) -> Grade {
        match self {
            DaneSetStatus::Valid => Grade::Secure,
            DaneSetStatus::Failed | DaneSetStatus::Bogus => Grade::AtRisk,
            DaneSetStatus::Unusable | DaneSetStatus::Partial => Grade::Encrypted,
            DaneSetStatus::None | DaneSetStatus::Unknown => Grade::Untestable,
        }
    }
}

impl DaneStatus {
    /// One address's DANE in words (as [`DaneSetStatus::label`]).
    pub fn label(self) -> &'static str {
        DaneSetStatus::from(self).label()
    }
}

impl DaneWarning {
    /// The warning in words.
    pub fn label(self) -> &'static str {
        match self {
            DaneWarning::NoRolloverKey => {
                "one DANE-EE record only: no record for the next key is published, so the next \
                 certificate change breaks DANE until DNS catches up"
            }
            DaneWarning::TaPinnedToIntermediate => {
                "the DANE-TA record pins an intermediate CA: a change of intermediate breaks DANE"
            }
            DaneWarning::TlsaSignatureExpiring => {
                "the TLSA records' DNSSEC signature expires within 7 days"
            }
            DaneWarning::MxSignatureExpiring => {
                "the MX records' DNSSEC signature expires within 7 days"
            }
        }
    }
}

impl MtaStsOutcome {
    /// Every value, best first: the MTA-STS column's sort order and filter menu.
    pub const ALL: [MtaStsOutcome; 8] = [
        MtaStsOutcome::EnforceOk,
        MtaStsOutcome::Testing,
        MtaStsOutcome::ModeNone,
        MtaStsOutcome::None,
        MtaStsOutcome::BadRecord,
        MtaStsOutcome::PolicyFailed,
        MtaStsOutcome::MxCertInvalid,
        MtaStsOutcome::MxMismatch,
    ];

    /// The MTA-STS outcome in words: `enforce`, `testing`, `enforce: MX not listed`, …
    pub fn label(self) -> &'static str {
        match self {
            MtaStsOutcome::None => "none",
            MtaStsOutcome::BadRecord => "bad TXT record",
            MtaStsOutcome::PolicyFailed => "policy unavailable",
            MtaStsOutcome::Testing => "testing",
            MtaStsOutcome::ModeNone => "mode none",
            MtaStsOutcome::EnforceOk => "enforce",
            MtaStsOutcome::MxMismatch => "enforce: MX not listed",
            MtaStsOutcome::MxCertInvalid => "enforce: MX certificate invalid",
        }
    }

    /// What it means, for tooltips.
    pub fn meaning(self) -> &'static str {
        match self {
            MtaStsOutcome::None => "no _mta-sts TXT record: MTA-STS does not apply",
            MtaStsOutcome::BadRecord => {
                "the _mta-sts TXT record is invalid or duplicated: senders act as if there were \
                 no policy"
            }
            MtaStsOutcome::PolicyFailed => {
                "a TXT record, but the policy could not be fetched or parsed"
            }
            MtaStsOutcome::Testing => "policy in testing mode: senders deliver and report",
            MtaStsOutcome::ModeNone => "policy in mode none: withdrawn",
            MtaStsOutcome::EnforceOk => "enforce policy, and every MX host meets it",
            MtaStsOutcome::MxMismatch => {
                "enforce policy that does not list an MX host: MTA-STS senders defer mail to it"
            }
            MtaStsOutcome::MxCertInvalid => {
                "enforce policy, but a listed MX host fails STARTTLS or WebPKI: MTA-STS senders \
                 defer mail to it"
            }
        }
    }

    /// The colour family: enforce met as secure, enforce failing as at risk, a broken
    /// record or policy amber, the rest grey.
    pub fn grade(self) -> Grade {
        match self {
            MtaStsOutcome::EnforceOk => Grade::Secure,
            MtaStsOutcome::MxMismatch | MtaStsOutcome::MxCertInvalid => Grade::AtRisk,
            MtaStsOutcome::BadRecord | MtaStsOutcome::PolicyFailed => Grade::Encrypted,
            MtaStsOutcome::None | MtaStsOutcome::Testing | MtaStsOutcome::ModeNone => {
                Grade::Untestable
            }
        }
    }
}

impl SenderOutcome {
    /// What a sender of that kind does, in words: `authenticated`, `defer all mail`, …
    pub fn label(self) -> &'static str {
        match self {
            SenderOutcome::Authenticated => "authenticated",
            SenderOutcome::Degraded => "authenticated, but defer mail to some MX hosts",
            SenderOutcome::Defers => "defer all mail",
            SenderOutcome::Encrypted => "encrypted, not authenticated",
            SenderOutcome::Unknown => "unknown",
            SenderOutcome::Opportunistic => "opportunistic (not enforced)",
        }
    }
}

impl SenderView {
    /// The sender view in words: `DANE senders: authenticated; MTA-STS senders: defer all
    /// mail — at risk`.
    pub fn describe(&self) -> String {
        let mut text = format!(
            "DANE senders: {}; MTA-STS senders: {}",
            self.dane.label(),
            self.mta_sts.label()
        );
        if self.at_risk {
            text.push_str(" — at risk");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grade_and_series_has_its_own_word_and_colour() {
        let labels: std::collections::HashSet<_> = Grade::ALL.iter().map(|g| g.label()).collect();
        assert_eq!(labels.len(), Grade::ALL.len());
        let keys: std::collections::HashSet<_> = Grade::ALL.iter().map(|g| g.key()).collect();
        assert_eq!(keys.len(), Grade::ALL.len());
        let series: std::collections::HashSet<_> = Measure::WITH_AUTH
            .iter()
            .map(|m| (m.label(), m.rgb()))
            .collect();
        assert_eq!(series.len(), Measure::WITH_AUTH.len());
        let colours: std::collections::HashSet<_> =
            Measure::WITH_AUTH.iter().map(|m| m.rgb()).collect();
        assert_eq!(
            colours.len(),
            Measure::WITH_AUTH.len(),
            "no two series share a colour"
        );
        assert_eq!(Rgb(0x1b, 0x7a, 0x35).css(), "#1b7a35");
    }

    #[test]
    fn an_expired_certificate_is_not_shown_as_ok() {
        // TLS worked but the certificate failed strict validation: "encrypted", amber, never
        // the green of secure (the report once said "tls ok" in green).
        let grade = Grade::of(Some(Verdict::TlsOk), Some(true), Some(false), None);
        assert_eq!(grade, Grade::Encrypted);
        assert_ne!(grade.rgb(false), Grade::Secure.rgb(false));
        assert_eq!(grade.label(), "encrypted");
    }

    #[test]
    fn at_risk_comes_first_and_is_never_shown_secure() {
        let secure = (
            Some(Verdict::TlsOk),
            Some(true),
            Some(true),
            Some(TlsGrade::Good),
        );
        let label = |at_risk, (verdict, pfs, strict, tls)| {
            Grade::of_domain(at_risk, verdict, pfs, strict, tls)
        };
        assert_eq!(label(Some(true), secure), Grade::AtRisk);
        assert_eq!(label(Some(false), secure), Grade::Secure);
        assert_eq!(
            label(None, secure),
            Grade::Secure,
            "stored before the sender view"
        );
        // At risk beats the verdict labels too: TLSA published, but no STARTTLS.
        let plain = (Some(Verdict::NoStarttls), Some(false), Some(false), None);
        assert_eq!(label(Some(true), plain), Grade::AtRisk);
        assert_eq!(label(Some(false), plain), Grade::NoStarttls);
        // Then the verdict labels, then secure, weak TLS, encrypted.
        let weak = (
            Some(Verdict::TlsOk),
            Some(true),
            Some(true),
            Some(TlsGrade::PhaseOut),
        );
        assert_eq!(label(Some(false), weak), Grade::WeakTls);
        let encrypted = (Some(Verdict::TlsOk), Some(true), Some(false), None);
        assert_eq!(label(Some(false), encrypted), Grade::Encrypted);
        assert_eq!(
            label(Some(true), (None, None, None, None)),
            Grade::NotProbed
        );
        assert_eq!(
            Grade::ALL[0],
            Grade::AtRisk,
            "first in the legend and the filter"
        );
        assert!(
            Grade::AtRisk < Grade::Secure,
            "first when sorted by verdict"
        );
        assert_eq!(
            Grade::AtRisk.rgb(false),
            Grade::NoStarttls.rgb(false),
            "red"
        );
        assert_eq!(Grade::AtRisk.label(), "at risk");
    }

    #[test]
    fn the_sender_view_reads_in_words() {
        let view = SenderView {
            dane: SenderOutcome::Authenticated,
            mta_sts: SenderOutcome::Defers,
            authenticated: true,
            at_risk: true,
        };
        assert_eq!(
            view.describe(),
            "DANE senders: authenticated; MTA-STS senders: defer all mail — at risk"
        );
        let labels: std::collections::HashSet<_> = MtaStsOutcome::ALL
            .iter()
            .map(|outcome| outcome.label())
            .collect();
        assert_eq!(labels.len(), MtaStsOutcome::ALL.len());
        let labels: std::collections::HashSet<_> =
            DaneSetStatus::ALL.iter().map(|dane| dane.label()).collect();
        assert_eq!(labels.len(), DaneSetStatus::ALL.len());
        // A DANE failure and an unmet enforce policy are red, as at risk is.
        assert_eq!(DaneSetStatus::Failed.grade(), Grade::AtRisk);
        assert_eq!(MtaStsOutcome::MxMismatch.grade(), Grade::AtRisk);
        assert_eq!(MtaStsOutcome::EnforceOk.grade(), Grade::Secure);
    }
}
