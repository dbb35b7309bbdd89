//! Authenticated transport as data: DNSSEC status, TLSA records, DANE results and their fold,
//! the MTA-STS outcome, TLS-RPT status, and the sender's view (DESIGN.md, "Authenticated
//! transport"; RFC facts in DNSSEC-NOTES.md).
//!
//! Owns: these types, their JSON names (`snake_case`, a public contract), and the pure rules that
//! draw verdicts from per-address and per-host facts: [`fold_dane`], [`mta_sts_outcome`],
//! [`sender_view`]. Must not touch: any I/O; DNS lookups, TLS sessions, certificate matching
//! (`probe::dane`) and record parsing (`probe::mta_sts`, `probe::tls_rpt`) happen elsewhere and
//! hand their facts in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The DNSSEC status of one answer (an RRset, or the denial that there is none).
///
/// `Indeterminate` counts as `Bogus` wherever a verdict is drawn ([`Self::counts_as_bogus`]):
/// a DANE sender defers an MX whose answers it cannot validate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnssecStatus {
    /// Validated from a trust anchor.
    Secure,
    /// Provably unsigned (no chain of trust reaches it).
    Insecure,
    /// Signed, but the signatures do not validate.
    Bogus,
    /// Validation could not reach a conclusion.
    Indeterminate,
}

impl DnssecStatus {
    /// Whether a verdict treats this answer as bogus (`Bogus` or `Indeterminate`).
    pub fn counts_as_bogus(self) -> bool {
        matches!(self, DnssecStatus::Bogus | DnssecStatus::Indeterminate)
    }

    /// The snake_case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            DnssecStatus::Secure => "secure",
            DnssecStatus::Insecure => "insecure",
            DnssecStatus::Bogus => "bogus",
            DnssecStatus::Indeterminate => "indeterminate",
        }
    }
}

/// The DANE result of one testable address (`dane` of an address; null when untestable).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaneStatus {
    /// A usable TLSA record matched the presented chain.
    Valid,
    /// Usable TLSA records, and none matched; or TLSA present but no STARTTLS or a failed
    /// handshake. A DANE sender defers this address.
    Failed,
    /// Secure TLSA records, none usable for SMTP (e.g. only PKIX-TA/PKIX-EE): TLS is mandatory
    /// but unauthenticated.
    Unusable,
    /// DANE does not apply: no secure TLSA RRset (unsigned zone, or securely absent).
    None,
    /// An answer DANE needs is bogus or indeterminate: a DANE sender defers.
    Bogus,
    /// The resolver passes no DNSSEC data, so DANE could not be judged.
    Unknown,
}

impl DaneStatus {
    /// The snake_case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        DaneSetStatus::from(self).as_str()
    }
}

/// The DANE result of an MX host (over its testable addresses) or of a domain (over its testable
/// MX hosts): [`DaneStatus`] plus `Partial`. See [`fold_dane`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaneSetStatus {
    Valid,
    Failed,
    Unusable,
    None,
    Bogus,
    Unknown,
    /// Some members valid or unusable, some without DANE.
    Partial,
}

impl DaneSetStatus {
    /// The snake_case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            DaneSetStatus::Valid => "valid",
            DaneSetStatus::Failed => "failed",
            DaneSetStatus::Unusable => "unusable",
            DaneSetStatus::None => "none",
            DaneSetStatus::Bogus => "bogus",
            DaneSetStatus::Unknown => "unknown",
            DaneSetStatus::Partial => "partial",
        }
    }
}

impl From<DaneStatus> for DaneSetStatus {
    fn from(status: DaneStatus) -> Self {
        match status {
            DaneStatus::Valid => DaneSetStatus::Valid,
            DaneStatus::Failed => DaneSetStatus::Failed,
            DaneStatus::Unusable => DaneSetStatus::Unusable,
            DaneStatus::None => DaneSetStatus::None,
            DaneStatus::Bogus => DaneSetStatus::Bogus,
            DaneStatus::Unknown => DaneSetStatus::Unknown,
        }
    }
}

/// Folds the DANE results of a host's testable addresses, or of a domain's testable MX hosts.
///
/// `answer` is the DNSSEC status of the answer that named the members (the host's address
/// answers; the domain's MX answer): bogus or indeterminate makes the result `Bogus` whatever
/// the members say. Then, first that applies: `Bogus` if any member is bogus, `Failed` if any
/// failed, `Unknown` if any is unknown, `Valid` if all are valid, `None` if all are none,
/// `Unusable` if all are valid or unusable, else `Partial`. No members (nothing testable) and no
/// bogus answer: `None` (JSON null). Callers pass only testable members.
pub fn fold_dane<I>(answer: Option<DnssecStatus>, members: I) -> Option<DaneSetStatus>
where
    I: IntoIterator,
    I::Item: Into<DaneSetStatus>,
{
    let answer_bogus = answer.is_some_and(DnssecStatus::counts_as_bogus);
    let members: Vec<DaneSetStatus> = members.into_iter().map(Into::into).collect();
    let any = |status: DaneSetStatus| members.contains(&status);
    let all = |accept: &dyn Fn(DaneSetStatus) -> bool| members.iter().all(|status| accept(*status));
    if answer_bogus || any(DaneSetStatus::Bogus) {
        return Some(DaneSetStatus::Bogus);
    }
    if members.is_empty() {
        return None;
    }
    let folded = if any(DaneSetStatus::Failed) {
        DaneSetStatus::Failed
    } else if any(DaneSetStatus::Unknown) {
        DaneSetStatus::Unknown
    } else if all(&|status| status == DaneSetStatus::Valid) {
        DaneSetStatus::Valid
    } else if all(&|status| status == DaneSetStatus::None) {
        DaneSetStatus::None
    } else if all(&|status| matches!(status, DaneSetStatus::Valid | DaneSetStatus::Unusable)) {
        DaneSetStatus::Unusable
    } else {
        DaneSetStatus::Partial
    };
    Some(folded)
}

/// Something worth telling the operator about DANE that still works; never changes a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaneWarning {
    /// One usable record, a DANE-EE one (typically a lone `3 1 1`): no record for the next key
    /// is published, so the next key or certificate change breaks DANE until DNS catches up.
    NoRolloverKey,
    /// A DANE-TA record matched an intermediate CA (not a self-issued root): a change of
    /// intermediate by the CA breaks DANE.
    TaPinnedToIntermediate,
    /// A signature (RRSIG) over the TLSA RRset expires within [`SIGNATURE_WARNING_DAYS`]: if the
    /// zone is not re-signed in time, the TLSA RRset turns bogus and DANE senders defer.
    TlsaSignatureExpiring,
    /// A signature over the MX RRset expires within [`SIGNATURE_WARNING_DAYS`].
    MxSignatureExpiring,
}

impl DaneWarning {
    /// The snake_case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            DaneWarning::NoRolloverKey => "no_rollover_key",
            DaneWarning::TaPinnedToIntermediate => "ta_pinned_to_intermediate",
            DaneWarning::TlsaSignatureExpiring => "tlsa_signature_expiring",
            DaneWarning::MxSignatureExpiring => "mx_signature_expiring",
        }
    }
}

/// How many days ahead an expiring RRSIG over a TLSA or MX RRset is a [`DaneWarning`].
pub const SIGNATURE_WARNING_DAYS: i64 = 7;

/// TLSA certificate usage (RFC 6698 §2.1.1; RFC 7672 §3.1: only DANE-TA and DANE-EE are usable
/// for SMTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CertUsage {
    /// 0: PKIX-TA, unusable for SMTP.
    PkixTa,
    /// 1: PKIX-EE, unusable for SMTP.
    PkixEe,
    /// 2: DANE-TA, a trust anchor in the presented chain.
    DaneTa,
    /// 3: DANE-EE, the server's own certificate or key.
    DaneEe,
    /// Any other value: unusable.
    Unassigned(u8),
}

/// TLSA selector: which part of the certificate is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsaSelector {
    /// 0: the whole DER certificate.
    FullCert,
    /// 1: the DER SubjectPublicKeyInfo.
    Spki,
    /// Any other value: unusable.
    Unassigned(u8),
}

/// TLSA matching type: how the selected bytes are compared with the record's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchingType {
    /// 0: the bytes themselves.
    Raw,
    /// 1: their SHA-256 digest.
    Sha256,
    /// 2: their SHA-512 digest.
    Sha512,
    /// Any other value: unusable.
    Unassigned(u8),
}

impl From<u8> for CertUsage {
    fn from(value: u8) -> Self {
        match value {
            0 => CertUsage::PkixTa,
            1 => CertUsage::PkixEe,
            2 => CertUsage::DaneTa,
            3 => CertUsage::DaneEe,
            other => CertUsage::Unassigned(other),
        }
    }
}

impl From<CertUsage> for u8 {
    fn from(value: CertUsage) -> Self {
        match value {
            CertUsage::PkixTa => 0,
            CertUsage::PkixEe => 1,
            CertUsage::DaneTa => 2,
            CertUsage::DaneEe => 3,
            CertUsage::Unassigned(other) => other,
        }
    }
}

impl From<u8> for TlsaSelector {
    fn from(value: u8) -> Self {
        match value {
            0 => TlsaSelector::FullCert,
            1 => TlsaSelector::Spki,
            other => TlsaSelector::Unassigned(other),
        }
    }
}

impl From<TlsaSelector> for u8 {
    fn from(value: TlsaSelector) -> Self {
        match value {
            TlsaSelector::FullCert => 0,
            TlsaSelector::Spki => 1,
            TlsaSelector::Unassigned(other) => other,
        }
    }
}

impl From<u8> for MatchingType {
    fn from(value: u8) -> Self {
        match value {
            0 => MatchingType::Raw,
            1 => MatchingType::Sha256,
            2 => MatchingType::Sha512,
            other => MatchingType::Unassigned(other),
        }
    }
}

impl From<MatchingType> for u8 {
    fn from(value: MatchingType) -> Self {
        match value {
            MatchingType::Raw => 0,
            MatchingType::Sha256 => 1,
            MatchingType::Sha512 => 2,
            MatchingType::Unassigned(other) => other,
        }
    }
}

/// One TLSA record. In JSON and tables it is written `"3 1 1 <hex>"` (usage, selector, matching
/// type as numbers, then the data in lower-case hex), and read back from that form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TlsaRecord {
    pub usage: CertUsage,
    pub selector: TlsaSelector,
    pub matching: MatchingType,
    /// The certificate association data (bytes, digest).
    pub data: Vec<u8>,
}

impl TlsaRecord {
    /// Builds a record from its four wire fields.
    pub fn new(usage: u8, selector: u8, matching: u8, data: Vec<u8>) -> Self {
        TlsaRecord {
            usage: usage.into(),
            selector: selector.into(),
            matching: matching.into(),
            data,
        }
    }
}

impl fmt::Display for TlsaRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} {} {}",
            u8::from(self.usage),
            u8::from(self.selector),
            u8::from(self.matching)
        )?;
        if !self.data.is_empty() {
            formatter.write_str(" ")?;
            for byte in &self.data {
                write!(formatter, "{byte:02x}")?;
            }
        }
        Ok(())
    }
}

/// Why a text is not a TLSA record in the `"3 1 1 <hex>"` form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a TLSA record (usage selector matching-type hex): {why}")]
pub struct TlsaParseError {
    text: String,
    why: &'static str,
}

impl FromStr for TlsaRecord {
    type Err = TlsaParseError;

    /// Reads `usage selector matching hex…`; the hex may be split by white space (as in zone
    /// files) and is case-insensitive.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |why| TlsaParseError {
            text: text.to_string(),
            why,
        };
        let mut fields = text.split_whitespace();
        let mut number = || -> Result<u8, TlsaParseError> {
            let field = fields
                .next()
                .ok_or_else(|| error("fewer than three numbers"))?;
            if !field.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(error("a field is not a number 0-255"));
            }
            field
                .parse::<u8>()
                .map_err(|_| error("a field is not a number 0-255"))
        };
        let (usage, selector, matching) = (number()?, number()?, number()?);
        let hex: String = fields.collect();
        if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(error("data is not hex"));
        }
        if !hex.len().is_multiple_of(2) {
            return Err(error("odd number of hex digits"));
        }
        let nibble = |digit: u8| match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            _ => digit - b'A' + 10,
        };
        let data = hex
            .as_bytes()
            .chunks_exact(2)
            .map(|pair| match pair {
                [high, low] => (nibble(*high) << 4) | nibble(*low),
                _ => 0,
            })
            .collect();
        Ok(TlsaRecord::new(usage, selector, matching, data))
    }
}

impl TryFrom<String> for TlsaRecord {
    type Error = TlsaParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<TlsaRecord> for String {
    fn from(record: TlsaRecord) -> Self {
        record.to_string()
    }
}

/// The `mode` of an MTA-STS policy (RFC 8461 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StsMode {
    /// Senders do not deliver to an MX host that fails.
    Enforce,
    /// Senders deliver anyway and report failures.
    Testing,
    /// The domain withdraws its policy.
    None,
}

impl StsMode {
    /// The policy-file spelling: `enforce`, `testing`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            StsMode::Enforce => "enforce",
            StsMode::Testing => "testing",
            StsMode::None => "none",
        }
    }
}

/// What the `_mta-sts.<domain>` TXT RRset says (parsed by `probe::mta_sts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum StsTxt {
    /// No record starts with `v=STSv1`.
    Absent,
    /// Two or more such records, or one that is invalid; senders act as if there were no
    /// policy. `why` says which, in words.
    Invalid { why: String },
    /// Exactly one valid record, with its policy `id`.
    Valid { id: String },
}

/// The MTA-STS outcome of a domain (`mta_sts.outcome`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MtaStsOutcome {
    /// No TXT record starting `v=STSv1`.
    None,
    /// Two or more such records, or an invalid one.
    BadRecord,
    /// A valid record, but no policy could be fetched or parsed (and none cached applies).
    PolicyFailed,
    /// Policy in `testing` mode.
    Testing,
    /// Policy in `none` mode.
    ModeNone,
    /// `enforce`, and every testable MX host passes.
    EnforceOk,
    /// `enforce`, and some testable MX host matches no `mx` pattern.
    MxMismatch,
    /// `enforce`, every failing host matches a pattern but fails STARTTLS or WebPKI.
    MxCertInvalid,
}

impl MtaStsOutcome {
    /// The snake_case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            MtaStsOutcome::None => "none",
            MtaStsOutcome::BadRecord => "bad_record",
            MtaStsOutcome::PolicyFailed => "policy_failed",
            MtaStsOutcome::Testing => "testing",
            MtaStsOutcome::ModeNone => "mode_none",
            MtaStsOutcome::EnforceOk => "enforce_ok",
            MtaStsOutcome::MxMismatch => "mx_mismatch",
            MtaStsOutcome::MxCertInvalid => "mx_cert_invalid",
        }
    }

    /// Whether an `enforce` policy is in force (senders of that kind refuse failing hosts).
    pub fn is_enforce(self) -> bool {
        matches!(
            self,
            MtaStsOutcome::EnforceOk | MtaStsOutcome::MxMismatch | MtaStsOutcome::MxCertInvalid
        )
    }
}

/// One testable MX host as the MTA-STS rule sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StsHostCheck {
    /// A pattern of the policy in force matches the host name (`sts_matched`).
    pub matched: bool,
    /// Matched, STARTTLS on every testable address, WebPKI valid for the host name
    /// (`sts_passes`; see [`sts_passes`]).
    pub passes: bool,
}

/// `sts_passes` of an MX host: it matches a pattern, and its opportunistic-layer `starttls` and
/// `strict_valid` (over its testable addresses) are both true.
pub fn sts_passes(matched: bool, starttls: Option<bool>, strict_valid: Option<bool>) -> bool {
    matched && starttls == Some(true) && strict_valid == Some(true)
}

/// The MTA-STS outcome from the TXT state, the mode of the policy in force (fetched now, or a
/// stored one still within `max_age`; `None` when no policy could be had), and the domain's
/// testable MX hosts.
///
/// For `enforce`: `EnforceOk` when every testable host passes (also when there is none),
/// else `MxMismatch` when a testable host matches no pattern, else `MxCertInvalid`.
pub fn mta_sts_outcome(
    txt: &StsTxt,
    policy_mode: Option<StsMode>,
    hosts: &[StsHostCheck],
) -> MtaStsOutcome {
    match (txt, policy_mode) {
        (StsTxt::Absent, _) => MtaStsOutcome::None,
        (StsTxt::Invalid { .. }, _) => MtaStsOutcome::BadRecord,
        (StsTxt::Valid { .. }, None) => MtaStsOutcome::PolicyFailed,
        (StsTxt::Valid { .. }, Some(StsMode::Testing)) => MtaStsOutcome::Testing,
        (StsTxt::Valid { .. }, Some(StsMode::None)) => MtaStsOutcome::ModeNone,
        (StsTxt::Valid { .. }, Some(StsMode::Enforce)) => {
            if hosts.iter().all(|host| host.passes) {
                MtaStsOutcome::EnforceOk
            } else if hosts.iter().any(|host| !host.matched) {
                MtaStsOutcome::MxMismatch
            } else {
                MtaStsOutcome::MxCertInvalid
            }
        }
    }
}

/// The `mta_sts` object of a domain result. Every field is always present in JSON; null when it
/// does not apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MtaSts {
    pub outcome: MtaStsOutcome,
    /// The TXT record's `id` (null without a valid record).
    pub id: Option<String>,
    /// The policy's mode (null without a policy).
    pub mode: Option<StsMode>,
    /// The policy's `max_age` in seconds (null without a policy).
    pub max_age: Option<u32>,
    /// The policy's `mx` patterns as written (null without a policy).
    pub mx_patterns: Option<Vec<String>>,
    /// When the policy in force was fetched.
    #[serde(with = "time::serde::rfc3339::option")]
    pub fetched_at: Option<OffsetDateTime>,
    /// The outcome uses a stored policy still within `max_age` because today's fetch failed.
    pub cached: bool,
    /// Why, for `bad_record` and `policy_failed`; also warnings (policy changed with the same
    /// `id`, policy host certificate expiring).
    pub failure: Option<String>,
    /// The policy text in force.
    pub policy: Option<String>,
}

/// An MTA-STS policy a domain served before, as a stored scan remembers it: what a sender that
/// cached it would still apply while `fetched_at + max_age` has not passed (RFC 8461 §3.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownPolicy {
    /// The TXT record's `id` when it was fetched.
    pub id: String,
    /// The policy text as served.
    pub text: String,
    /// When it was last fetched successfully.
    pub fetched_at: OffsetDateTime,
    /// Its `max_age`, in seconds.
    pub max_age: u32,
}

impl KnownPolicy {
    /// Whether a sender may still apply it at `now` (`now < fetched_at + max_age`).
    pub fn in_date(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at()
    }

    /// When it stops applying: `fetched_at + max_age`.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.fetched_at + time::Duration::seconds(i64::from(self.max_age))
    }
}

impl MtaSts {
    /// The policy in force in this (stored) object, as a later scan remembers it; `None` when
    /// no policy was in force or a field is missing.
    ///
    /// `confirmed_at` is when the stored result was last confirmed: the store keeps one copy of
    /// a result while later probes find the same (the fetch time is left out of that
    /// comparison), so a policy that was fetched, not taken from the cache, was fetched again
    /// at each confirmation; its `fetched_at` is then the later of the two. A cached policy
    /// keeps the time it was really fetched.
    pub fn known_policy(&self, confirmed_at: OffsetDateTime) -> Option<KnownPolicy> {
        let (Some(id), Some(text), Some(fetched_at), Some(max_age)) =
            (&self.id, &self.policy, self.fetched_at, self.max_age)
        else {
            return None;
        };
        let fetched_at = if self.cached {
            fetched_at
        } else {
            fetched_at.max(confirmed_at)
        };
        Some(KnownPolicy {
            id: id.clone(),
            text: text.clone(),
            fetched_at,
            max_age,
        })
    }
}

/// The `status` of a TLS-RPT lookup (RFC 8460 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsRptStatus {
    /// No record starting `v=TLSRPTv1`.
    None,
    /// Exactly one valid record.
    Valid,
    /// Two or more records, or one that is invalid; senders then assume no TLS-RPT.
    Invalid,
}

impl TlsRptStatus {
    /// The snake_case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsRptStatus::None => "none",
            TlsRptStatus::Valid => "valid",
            TlsRptStatus::Invalid => "invalid",
        }
    }
}

/// The `tls_rpt` object: status, the report URIs (`rua`, only when valid), and why it is
/// invalid (`detail`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRpt {
    pub status: TlsRptStatus,
    /// The `mailto:` / `https:` URIs as written; empty unless `valid`.
    pub rua: Vec<String>,
    /// Why the record set is invalid, in words; null otherwise.
    pub detail: Option<String>,
}

/// What one kind of sender (DANE-enforcing, MTA-STS-enforcing) would do with a domain's mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderOutcome {
    /// Every testable MX host passes.
    Authenticated,
    /// Some pass, some fail, and the kind applies to every host: delivered mail is
    /// authenticated; part of the MX set is broken.
    Degraded,
    /// Every testable MX host fails: a sender of this kind cannot deliver.
    Defers,
    /// DANE only: every host valid or unusable, at least one unusable (TLS is mandatory, not
    /// authenticated).
    Encrypted,
    /// DANE unknown on some host and no failure; or no testable host (and DANE not bogus).
    Unknown,
    /// Otherwise: the kind does not apply (no DANE, no enforce policy, DANE on some hosts only).
    Opportunistic,
}

impl SenderOutcome {
    fn authenticates(self) -> bool {
        matches!(self, SenderOutcome::Authenticated | SenderOutcome::Degraded)
    }

    fn puts_at_risk(self) -> bool {
        matches!(self, SenderOutcome::Degraded | SenderOutcome::Defers)
    }
}

/// The `sender` object of a domain result (null for `no_mail`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SenderView {
    pub dane: SenderOutcome,
    pub mta_sts: SenderOutcome,
    /// Either kind is authenticated or degraded.
    pub authenticated: bool,
    /// Either kind is degraded or defers.
    pub at_risk: bool,
}

/// One testable MX host, as the sender rule sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderHostFacts {
    /// The host's folded `dane` (null when not looked up).
    pub dane: Option<DaneSetStatus>,
    /// The host's `sts_passes` (null without a policy in force).
    pub sts_passes: Option<bool>,
}

/// Everything the sender rule reads about a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderFacts {
    /// The domain has a null MX: no sender view at all.
    pub no_mail: bool,
    /// DNSSEC status of the MX answer. Bogus or indeterminate: a DANE sender cannot trust the
    /// MX set, so every host fails for it (and, as MTA-STS never overrides a failing DANE, for
    /// an MTA-STS sender under `enforce` too).
    pub mx_dnssec: Option<DnssecStatus>,
    /// An `enforce` policy is in force ([`MtaStsOutcome::is_enforce`]).
    pub sts_enforce: bool,
    /// The testable MX hosts only.
    pub hosts: Vec<SenderHostFacts>,
}

/// How one kind of sender fares at one host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HostFate {
    Passes,
    Fails,
    /// The kind does not apply here; for DANE, why (unusable and unknown matter to the rule).
    NotApplicable(Option<DaneSetStatus>),
}

/// The sender's view of a domain, exactly as DESIGN.md's `sender` rule says. `None` for
/// `no_mail`.
///
/// Per host, DANE passes when the host's `dane` is valid and fails when it is failed or bogus
/// (or the MX answer is bogus); MTA-STS, under an `enforce` policy, passes when `sts_passes`
/// and the host's DANE does not fail (MTA-STS never overrides a failing DANE), and fails
/// otherwise; it does not apply without `enforce`. See [`SenderOutcome`] for the folding.
pub fn sender_view(facts: &SenderFacts) -> Option<SenderView> {
    if facts.no_mail {
        return None;
    }
    let mx_bogus = facts.mx_dnssec.is_some_and(DnssecStatus::counts_as_bogus);
    let dane_fate = |host: &SenderHostFacts| match host.dane {
        _ if mx_bogus => HostFate::Fails,
        Some(DaneSetStatus::Valid) => HostFate::Passes,
        Some(DaneSetStatus::Failed | DaneSetStatus::Bogus) => HostFate::Fails,
        other => HostFate::NotApplicable(other),
    };
    let sts_fate = |host: &SenderHostFacts| {
        if !facts.sts_enforce {
            HostFate::NotApplicable(None)
        } else if dane_fate(host) == HostFate::Fails || host.sts_passes != Some(true) {
            HostFate::Fails
        } else {
            HostFate::Passes
        }
    };
    let dane_fates: Vec<HostFate> = facts.hosts.iter().map(dane_fate).collect();
    let sts_fates: Vec<HostFate> = facts.hosts.iter().map(sts_fate).collect();
    let dane = if facts.hosts.is_empty() && mx_bogus {
        SenderOutcome::Defers
    } else {
        fold_fates(&dane_fates, true)
    };
    let mta_sts = fold_fates(&sts_fates, false);
    Some(SenderView {
        dane,
        mta_sts,
        authenticated: dane.authenticates() || mta_sts.authenticates(),
        at_risk: dane.puts_at_risk() || mta_sts.puts_at_risk(),
    })
}

/// One kind's outcome over the testable hosts' fates; `dane` enables `Encrypted` and the
/// unknown-host rule.
fn fold_fates(fates: &[HostFate], dane: bool) -> SenderOutcome {
    if fates.is_empty() {
        return SenderOutcome::Unknown;
    }
    let count = |wanted: HostFate| fates.iter().filter(|fate| **fate == wanted).count();
    let (passing, failing) = (count(HostFate::Passes), count(HostFate::Fails));
    let not_applicable = fates.len() - passing - failing;
    let unusable = count(HostFate::NotApplicable(Some(DaneSetStatus::Unusable)));
    let unknown = count(HostFate::NotApplicable(Some(DaneSetStatus::Unknown)));
    if passing == fates.len() {
        SenderOutcome::Authenticated
    } else if failing == fates.len() {
        SenderOutcome::Defers
    } else if passing > 0 && failing > 0 && not_applicable == 0 {
        SenderOutcome::Degraded
    } else if dane && failing == 0 && unusable > 0 && passing + unusable == fates.len() {
        SenderOutcome::Encrypted
    } else if dane && failing == 0 && unknown > 0 {
        SenderOutcome::Unknown
    } else {
        SenderOutcome::Opportunistic
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DaneSetStatus as D;

    #[test]
    fn dnssec_indeterminate_counts_as_bogus() {
        assert!(DnssecStatus::Bogus.counts_as_bogus());
        assert!(DnssecStatus::Indeterminate.counts_as_bogus());
        assert!(!DnssecStatus::Secure.counts_as_bogus());
        assert!(!DnssecStatus::Insecure.counts_as_bogus());
        assert_eq!(
            serde_json::to_value(DnssecStatus::Indeterminate).unwrap(),
            "indeterminate"
        );
    }

    #[test]
    fn dane_fold_table() {
        use DnssecStatus::{Bogus as AnswerBogus, Indeterminate, Insecure, Secure};
        let cases: &[(
            Option<DnssecStatus>,
            &[DaneSetStatus],
            Option<DaneSetStatus>,
        )] = &[
            // Nothing testable.
            (Some(Secure), &[], None),
            (None, &[], None),
            (Some(Insecure), &[], None),
            (Some(AnswerBogus), &[], Some(D::Bogus)),
            (Some(Indeterminate), &[], Some(D::Bogus)),
            // A bogus answer beats every member.
            (Some(AnswerBogus), &[D::Valid, D::Valid], Some(D::Bogus)),
            (Some(Indeterminate), &[D::Valid], Some(D::Bogus)),
            // Single members keep their value.
            (Some(Secure), &[D::Valid], Some(D::Valid)),
            (Some(Secure), &[D::Failed], Some(D::Failed)),
            (Some(Secure), &[D::Unusable], Some(D::Unusable)),
            (Some(Insecure), &[D::None], Some(D::None)),
            (Some(Secure), &[D::Bogus], Some(D::Bogus)),
            (Some(Secure), &[D::Unknown], Some(D::Unknown)),
            (Some(Secure), &[D::Partial], Some(D::Partial)),
            // Order: bogus > failed > unknown.
            (Some(Secure), &[D::Failed, D::Bogus], Some(D::Bogus)),
            (
                Some(Secure),
                &[D::Unknown, D::Bogus, D::Valid],
                Some(D::Bogus),
            ),
            (Some(Secure), &[D::Valid, D::Failed], Some(D::Failed)),
            (Some(Secure), &[D::Unknown, D::Failed], Some(D::Failed)),
            (Some(Secure), &[D::None, D::Failed], Some(D::Failed)),
            (Some(Secure), &[D::Valid, D::Unknown], Some(D::Unknown)),
            (Some(Secure), &[D::None, D::Unknown], Some(D::Unknown)),
            (Some(Secure), &[D::Partial, D::Unknown], Some(D::Unknown)),
            // All valid; all none; all valid-or-unusable.
            (
                Some(Secure),
                &[D::Valid, D::Valid, D::Valid],
                Some(D::Valid),
            ),
            (Some(Secure), &[D::None, D::None], Some(D::None)),
            (Some(Secure), &[D::Valid, D::Unusable], Some(D::Unusable)),
            (Some(Secure), &[D::Unusable, D::Unusable], Some(D::Unusable)),
            // Otherwise partial, including partial members.
            (Some(Secure), &[D::Valid, D::None], Some(D::Partial)),
            (Some(Secure), &[D::Unusable, D::None], Some(D::Partial)),
            (Some(Secure), &[D::Partial, D::Valid], Some(D::Partial)),
            (Some(Secure), &[D::Partial, D::None], Some(D::Partial)),
            (Some(Secure), &[D::Partial, D::Partial], Some(D::Partial)),
        ];
        for (answer, members, expected) in cases {
            assert_eq!(
                fold_dane(*answer, members.iter().copied()),
                *expected,
                "answer {answer:?}, members {members:?}"
            );
        }
    }

    #[test]
    fn address_statuses_fold_like_set_statuses() {
        let folded = fold_dane(
            Some(DnssecStatus::Secure),
            [DaneStatus::Valid, DaneStatus::None],
        );
        assert_eq!(folded, Some(D::Partial));
        assert_eq!(serde_json::to_value(D::Partial).unwrap(), "partial");
        assert_eq!(
            serde_json::to_value(DaneStatus::Unusable).unwrap(),
            "unusable"
        );
    }

    #[test]
    fn tlsa_records_read_and_write_the_presentation_form() {
        let record = TlsaRecord::new(3, 1, 1, vec![0xab, 0x01, 0xff]);
        assert_eq!(record.to_string(), "3 1 1 ab01ff");
        assert_eq!("3 1 1 ab01ff".parse::<TlsaRecord>(), Ok(record.clone()));
        assert_eq!("3 1 1 AB01 FF".parse::<TlsaRecord>(), Ok(record.clone()));
        assert_eq!(
            "  3  1 1\tab01ff ".parse::<TlsaRecord>(),
            Ok(record.clone())
        );
        assert_eq!(record.usage, CertUsage::DaneEe);
        assert_eq!(record.selector, TlsaSelector::Spki);
        assert_eq!(record.matching, MatchingType::Sha256);
        let odd = TlsaRecord::new(255, 7, 9, vec![0]);
        assert_eq!(odd.usage, CertUsage::Unassigned(255));
        assert_eq!(odd.to_string(), "255 7 9 00");
        assert_eq!(odd.to_string().parse::<TlsaRecord>(), Ok(odd));
        let empty = TlsaRecord::new(2, 0, 0, Vec::new());
        assert_eq!(empty.to_string(), "2 0 0");
        assert_eq!("2 0 0".parse::<TlsaRecord>(), Ok(empty));
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json, "3 1 1 ab01ff");
        assert_eq!(serde_json::from_value::<TlsaRecord>(json).unwrap(), record);
        for bad in [
            "",
            "3 1",
            "3 1 x ab",
            "256 1 1 ab",
            "-1 1 1 ab",
            "+3 1 1 ab",
            "3 1 1 abc",
            "3 1 1 zz",
            "3 1 1 +a",
            "3 1 1 é1",
        ] {
            assert!(bad.parse::<TlsaRecord>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn tlsa_field_numbers_round_trip() {
        for value in 0..=u8::MAX {
            assert_eq!(u8::from(CertUsage::from(value)), value);
            assert_eq!(u8::from(TlsaSelector::from(value)), value);
            assert_eq!(u8::from(MatchingType::from(value)), value);
        }
    }

    fn valid_txt() -> StsTxt {
        StsTxt::Valid {
            id: "20260101".to_string(),
        }
    }

    #[test]
    fn mta_sts_outcome_table() {
        let pass = StsHostCheck {
            matched: true,
            passes: true,
        };
        let unmatched = StsHostCheck {
            matched: false,
            passes: false,
        };
        let bad_cert = StsHostCheck {
            matched: true,
            passes: false,
        };
        let invalid = StsTxt::Invalid {
            why: "two records".to_string(),
        };
        use MtaStsOutcome as O;
        use StsMode::{Enforce, None as ModeNone, Testing};
        let cases: &[(&StsTxt, Option<StsMode>, &[StsHostCheck], MtaStsOutcome)] = &[
            (&StsTxt::Absent, None, &[], O::None),
            // A policy without a record is not in force.
            (&StsTxt::Absent, Some(Enforce), &[unmatched], O::None),
            (&invalid, None, &[pass], O::BadRecord),
            (&invalid, Some(Enforce), &[pass], O::BadRecord),
            (&valid_txt(), None, &[pass], O::PolicyFailed),
            (
                &valid_txt(),
                Some(Testing),
                &[unmatched, bad_cert],
                O::Testing,
            ),
            (&valid_txt(), Some(ModeNone), &[unmatched], O::ModeNone),
            (&valid_txt(), Some(Enforce), &[pass, pass], O::EnforceOk),
            (&valid_txt(), Some(Enforce), &[], O::EnforceOk),
            (
                &valid_txt(),
                Some(Enforce),
                &[pass, unmatched],
                O::MxMismatch,
            ),
            (
                &valid_txt(),
                Some(Enforce),
                &[bad_cert, unmatched],
                O::MxMismatch,
            ),
            (
                &valid_txt(),
                Some(Enforce),
                &[pass, bad_cert],
                O::MxCertInvalid,
            ),
            (&valid_txt(), Some(Enforce), &[bad_cert], O::MxCertInvalid),
        ];
        for (txt, mode, hosts, expected) in cases {
            assert_eq!(
                mta_sts_outcome(txt, *mode, hosts),
                *expected,
                "{txt:?} {mode:?} {hosts:?}"
            );
        }
        for outcome in [
            O::None,
            O::BadRecord,
            O::PolicyFailed,
            O::Testing,
            O::ModeNone,
            O::EnforceOk,
            O::MxMismatch,
            O::MxCertInvalid,
        ] {
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
        for status in [
            TlsRptStatus::None,
            TlsRptStatus::Valid,
            TlsRptStatus::Invalid,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert!(O::EnforceOk.is_enforce() && O::MxMismatch.is_enforce());
        assert!(O::MxCertInvalid.is_enforce());
        for outcome in [
            O::None,
            O::BadRecord,
            O::PolicyFailed,
            O::Testing,
            O::ModeNone,
        ] {
            assert!(!outcome.is_enforce(), "{outcome:?}");
        }
        assert_eq!(
            serde_json::to_value(O::MxCertInvalid).unwrap(),
            "mx_cert_invalid"
        );
        assert_eq!(serde_json::to_value(O::ModeNone).unwrap(), "mode_none");
    }

    #[test]
    fn a_stored_policy_is_remembered_until_max_age_passes() {
        let fetched = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1000);
        let confirmed = fetched + time::Duration::hours(20);
        let stored = MtaSts {
            outcome: MtaStsOutcome::EnforceOk,
            id: Some("20260101".to_string()),
            mode: Some(StsMode::Enforce),
            max_age: Some(86_400),
            mx_patterns: Some(vec!["mx.example.org".to_string()]),
            fetched_at: Some(fetched),
            cached: false,
            failure: None,
            policy: Some(
                "version: STSv1\nmode: enforce\nmx: mx.example.org\nmax_age: 86400\n".into(),
            ),
        };
        // Fetched afresh at every confirmation: in force for a day after the last one.
        let known = stored.known_policy(confirmed).unwrap();
        assert_eq!(known.fetched_at, confirmed);
        assert_eq!(known.id, "20260101");
        assert_eq!(known.max_age, 86_400);
        assert!(known.in_date(confirmed + time::Duration::hours(23)));
        assert!(!known.in_date(confirmed + time::Duration::days(1)));
        assert_eq!(known.expires_at(), confirmed + time::Duration::days(1));
        // A cached policy keeps the time of its real fetch.
        let cached = MtaSts {
            cached: true,
            ..stored.clone()
        };
        assert_eq!(cached.known_policy(confirmed).unwrap().fetched_at, fetched);
        // Nothing in force: nothing to remember.
        let failed = MtaSts {
            outcome: MtaStsOutcome::PolicyFailed,
            policy: None,
            ..stored
        };
        assert_eq!(failed.known_policy(confirmed), None);
    }

    #[test]
    fn sts_passes_needs_match_starttls_and_webpki() {
        assert!(sts_passes(true, Some(true), Some(true)));
        assert!(!sts_passes(false, Some(true), Some(true)));
        assert!(!sts_passes(true, Some(false), Some(false)));
        assert!(!sts_passes(true, Some(true), Some(false)));
        assert!(!sts_passes(true, None, None));
    }

    #[test]
    fn json_objects_have_every_field() {
        let mta_sts = MtaSts {
            outcome: MtaStsOutcome::None,
            id: None,
            mode: None,
            max_age: None,
            mx_patterns: None,
            fetched_at: None,
            cached: false,
            failure: None,
            policy: None,
        };
        let json = serde_json::to_value(&mta_sts).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = [
            "outcome",
            "id",
            "mode",
            "max_age",
            "mx_patterns",
            "fetched_at",
            "cached",
            "failure",
            "policy",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(json["outcome"], "none");
        let tls_rpt = TlsRpt {
            status: TlsRptStatus::Valid,
            rua: vec!["mailto:tlsrpt@example.org".to_string()],
            detail: None,
        };
        assert_eq!(
            serde_json::to_value(&tls_rpt).unwrap(),
            serde_json::json!({"status": "valid", "rua": ["mailto:tlsrpt@example.org"], "detail": null})
        );
        let view = SenderView {
            dane: SenderOutcome::Encrypted,
            mta_sts: SenderOutcome::Opportunistic,
            authenticated: false,
            at_risk: false,
        };
        assert_eq!(
            serde_json::to_value(view).unwrap(),
            serde_json::json!({"dane": "encrypted", "mta_sts": "opportunistic", "authenticated": false, "at_risk": false})
        );
        assert_eq!(
            serde_json::to_value(StsTxt::Invalid { why: "x".into() }).unwrap(),
            serde_json::json!({"state": "invalid", "why": "x"})
        );
    }

    fn host(dane: Option<DaneSetStatus>, sts_passes: Option<bool>) -> SenderHostFacts {
        SenderHostFacts { dane, sts_passes }
    }

    fn facts(hosts: &[SenderHostFacts], sts_enforce: bool) -> SenderFacts {
        SenderFacts {
            no_mail: false,
            mx_dnssec: Some(DnssecStatus::Secure),
            sts_enforce,
            hosts: hosts.to_vec(),
        }
    }

    #[test]
    fn sender_view_table() {
        use SenderOutcome::{
            Authenticated as Auth, Defers, Degraded, Encrypted, Opportunistic as Opp, Unknown,
        };
        let valid = host(Some(D::Valid), None);
        let failed = host(Some(D::Failed), None);
        let bogus = host(Some(D::Bogus), None);
        let none = host(Some(D::None), None);
        let unusable = host(Some(D::Unusable), None);
        let unknown = host(Some(D::Unknown), None);
        let partial = host(Some(D::Partial), None);
        let sts_ok = host(Some(D::None), Some(true));
        let sts_bad = host(Some(D::None), Some(false));
        /// `sender.dane`, `sender.mta_sts`, `authenticated`, `at_risk`.
        type Expected = (SenderOutcome, SenderOutcome, bool, bool);
        #[rustfmt::skip]
        let cases: &[(&str, SenderFacts, Expected)] = &[
            ("every host DANE valid", facts(&[valid, valid], false), (Auth, Opp, true, false)),
            ("one good + one failing host", facts(&[valid, failed], false), (Degraded, Opp, true, true)),
            ("a bogus host fails like a failed one", facts(&[valid, bogus], false), (Degraded, Opp, true, true)),
            ("all failing", facts(&[failed, bogus], false), (Defers, Opp, false, true)),
            ("DANE on some hosts only", facts(&[valid, none], false), (Opp, Opp, false, false)),
            ("no DANE at all", facts(&[none, none], false), (Opp, Opp, false, false)),
            ("partial host does not pass", facts(&[partial], false), (Opp, Opp, false, false)),
            ("valid and unusable", facts(&[valid, unusable], false), (Encrypted, Opp, false, false)),
            ("all unusable", facts(&[unusable], false), (Encrypted, Opp, false, false)),
            ("unusable and none", facts(&[unusable, none], false), (Opp, Opp, false, false)),
            ("unknown, no failure", facts(&[unknown, valid], false), (Unknown, Opp, false, false)),
            ("unknown beside none", facts(&[unknown, none], false), (Unknown, Opp, false, false)),
            ("unknown beside a failure", facts(&[unknown, failed], false), (Opp, Opp, false, false)),
            // DESIGN.md literally: a failure beside a host where DANE does not apply is not
            // degraded (delivered mail is not authenticated), so not at risk.
            ("failed beside none", facts(&[failed, none], false), (Opp, Opp, false, false)),
            ("valid, unusable, failed", facts(&[valid, unusable, failed], false), (Opp, Opp, false, false)),
            ("DANE host null", facts(&[host(None, None)], false), (Opp, Opp, false, false)),
            // MTA-STS.
            ("enforce, every host passes", facts(&[sts_ok, sts_ok], true), (Opp, Auth, true, false)),
            ("enforce, one host fails", facts(&[sts_ok, sts_bad], true), (Opp, Degraded, true, true)),
            ("enforce, all fail", facts(&[sts_bad], true), (Opp, Defers, false, true)),
            ("enforce, sts_passes null fails", facts(&[host(Some(D::None), None)], true), (Opp, Defers, false, true)),
            ("no enforce policy", facts(&[sts_ok, sts_bad], false), (Opp, Opp, false, false)),
            // MTA-STS never overrides a failing DANE.
            ("STS passes, DANE failed", facts(&[host(Some(D::Failed), Some(true))], true), (Defers, Defers, false, true)),
            ("STS passes, DANE bogus on one of two", facts(&[sts_ok, host(Some(D::Bogus), Some(true))], true), (Opp, Degraded, true, true)),
            // A DANE pass does not rescue an MTA-STS failure, and unknown DANE does not block it.
            ("DANE valid, STS fails", facts(&[host(Some(D::Valid), Some(false))], true), (Auth, Defers, true, true)),
            ("DANE unknown, STS passes", facts(&[host(Some(D::Unknown), Some(true))], true), (Unknown, Auth, true, false)),
            ("both kinds authenticate", facts(&[host(Some(D::Valid), Some(true))], true), (Auth, Auth, true, false)),
            // No testable host.
            ("no testable host", facts(&[], true), (Unknown, Unknown, false, false)),
        ];
        for (name, facts, (dane, mta_sts, authenticated, at_risk)) in cases {
            let expected = SenderView {
                dane: *dane,
                mta_sts: *mta_sts,
                authenticated: *authenticated,
                at_risk: *at_risk,
            };
            assert_eq!(sender_view(facts), Some(expected), "{name}");
        }
    }

    #[test]
    fn a_bogus_mx_answer_makes_dane_senders_defer() {
        for status in [DnssecStatus::Bogus, DnssecStatus::Indeterminate] {
            let mut untestable = facts(&[], false);
            untestable.mx_dnssec = Some(status);
            let view = sender_view(&untestable).unwrap();
            assert_eq!(
                (view.dane, view.mta_sts),
                (SenderOutcome::Defers, SenderOutcome::Unknown)
            );
            assert!(view.at_risk && !view.authenticated);
            let mut testable = facts(&[host(Some(D::Valid), Some(true))], true);
            testable.mx_dnssec = Some(status);
            let view = sender_view(&testable).unwrap();
            assert_eq!(
                (view.dane, view.mta_sts),
                (SenderOutcome::Defers, SenderOutcome::Defers)
            );
        }
        let mut insecure = facts(&[], false);
        insecure.mx_dnssec = Some(DnssecStatus::Insecure);
        assert_eq!(sender_view(&insecure).unwrap().dane, SenderOutcome::Unknown);
    }

    #[test]
    fn no_mail_has_no_sender_view() {
        let mut no_mail = facts(&[], true);
        no_mail.no_mail = true;
        assert_eq!(sender_view(&no_mail), None);
    }
}
