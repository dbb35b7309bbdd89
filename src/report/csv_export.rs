//! CSV export: one row per domain, or one per MX address; a stale domain (`model::stale`) by
//! its last known result, with `stale_since`.
//!
//! Owns: the column sets and the spreadsheet-safety rule: a text cell that starts with `=`,
//! `+`, `-`, `@`, tab or carriage return gets a leading apostrophe, so a spreadsheet shows it
//! instead of running it as a formula (CSV injection). Numeric columns (`smtp_code`,
//! `cert_days_left`, ...) are written as plain numbers, negative ones included.

use std::io::Write;

use serde::{Serialize, Serializer};
use time::OffsetDateTime;

use super::{DomainFacts, ExportSummary, ReportError, Scope, days_left, rfc3339};
use crate::model::auth::{DaneSetStatus, DaneStatus, DnssecStatus, MtaStsOutcome, TlsRptStatus};
use crate::model::stale;
use crate::model::{
    AddressResult, CertError, DnsError, DomainName, DomainResult, MxResult, Outcome, Reason,
    TlsGrade, TlsVersion, Verdict,
};
use crate::store::Store;

/// A text cell that came from a server, a file or the user, made safe for spreadsheets: one that
/// starts with `=`, `+`, `-`, `@`, tab or carriage return is written with a leading apostrophe.
/// Every such column of a row has this type, so no cell can forget the rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafeText(String);

impl SafeText {
    /// The cell as it will be written.
    pub fn neutralized(&self) -> std::borrow::Cow<'_, str> {
        if self.0.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            std::borrow::Cow::Owned(format!("'{}", self.0))
        } else {
            std::borrow::Cow::Borrowed(&self.0)
        }
    }
}

impl<T: Into<String>> From<T> for SafeText {
    fn from(text: T) -> Self {
        Self(text.into())
    }
}

impl Serialize for SafeText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.neutralized())
    }
}

fn safe(text: Option<&str>) -> Option<SafeText> {
    text.map(SafeText::from)
}

/// Space-separated names of certificate errors (our own vocabulary: nothing to neutralize).
fn cert_error_names(errors: &[CertError]) -> String {
    errors
        .iter()
        .map(|error| error.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One row of the per-domain CSV; the field names are the header (README documents them). A
/// domain never probed has only `domain`; a stale one (`model::stale`) shows its last known
/// result (`probed_at`: when that was last confirmed) and `stale_since`.
#[derive(Debug, Default, Serialize)]
struct DomainRow {
    domain: SafeText,
    verdict: Option<Verdict>,
    starttls: Option<bool>,
    pfs: Option<bool>,
    strict_valid: Option<bool>,
    dns_error: Option<DnsError>,
    mx_hosts: Option<SafeText>,
    mx_count: Option<usize>,
    mx_untestable: Option<usize>,
    lowest_tls_version: Option<TlsVersion>,
    legacy_tls: Option<bool>,
    cert_errors: Option<String>,
    cert_not_after: Option<String>,
    cert_days_left: Option<i64>,
    provider: Option<SafeText>,
    probed_at: Option<String>,
    /// The first untestable probe since the last known result shown; empty when current.
    stale_since: Option<String>,
    /// The domain's `tls_grade` (last, so older columns keep their places).
    tls_grade: Option<TlsGrade>,
    /// The domain's weight (mail volume) in the list; for every domain, the largest weight it
    /// has in any list (1 in none). Last, so older columns keep their places.
    weight: Option<f64>,
    /// DNSSEC status of the MX answer (authenticated transport; these six come after
    /// `weight`, so older columns keep their places; empty when not looked up).
    dnssec: Option<DnssecStatus>,
    /// The domain's folded `dane`.
    dane: Option<DaneSetStatus>,
    /// `mta_sts.outcome`.
    mta_sts: Option<MtaStsOutcome>,
    /// `tls_rpt.status`.
    tls_rpt: Option<TlsRptStatus>,
    /// `sender.authenticated`.
    authenticated: Option<bool>,
    /// `sender.at_risk`.
    at_risk: Option<bool>,
}

/// One row of the per-address CSV (one per MX address; one per MX host without addresses, one
/// per domain without MX hosts, with the address columns empty); of the last known result, and
/// `stale_since`, while the domain is stale.
#[derive(Debug, Default, Serialize)]
struct AddressRow {
    domain: SafeText,
    domain_verdict: Option<Verdict>,
    mx_host: Option<SafeText>,
    preference: Option<u16>,
    implicit: Option<bool>,
    cname_target: Option<SafeText>,
    mx_dns_error: Option<DnsError>,
    mx_verdict: Option<Verdict>,
    ip: Option<String>,
    outcome: Option<Outcome>,
    reason: Option<Reason>,
    smtp_code: Option<u16>,
    smtp_text: Option<SafeText>,
    detail: Option<SafeText>,
    starttls_advertised: Option<bool>,
    tls_version: Option<TlsVersion>,
    cipher_suite: Option<SafeText>,
    kx_group: Option<SafeText>,
    pfs: Option<bool>,
    legacy_tls: Option<bool>,
    prefers_non_pfs: Option<bool>,
    strict_valid: Option<bool>,
    cert_errors: Option<String>,
    cert_subject: Option<SafeText>,
    cert_sans: Option<SafeText>,
    cert_issuer: Option<SafeText>,
    cert_not_before: Option<String>,
    cert_not_after: Option<String>,
    cert_days_left: Option<i64>,
    cert_key: Option<SafeText>,
    cert_sha256: Option<SafeText>,
    elapsed_ms: Option<u64>,
    probed_at: Option<String>,
    stale_since: Option<String>,
    /// The address's `tls_grade` (last, so older columns keep their places).
    tls_grade: Option<TlsGrade>,
    /// The address's `dane` (after `tls_grade`, so older columns keep their places).
    dane: Option<DaneStatus>,
    /// The MX host's folded `dane`.
    mx_dane: Option<DaneSetStatus>,
    /// The MX host's `sts_passes`.
    sts_passes: Option<bool>,
}

/// The header of a row type: its field names, as the csv crate writes them.
fn header_of<T: Serialize + Default>() -> Result<csv::StringRecord, ReportError> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(true)
        .from_writer(Vec::new());
    writer.serialize(T::default()).map_err(csv_error)?;
    let bytes = writer
        .into_inner()
        .map_err(|error| ReportError::Write(std::io::Error::other(error.to_string())))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    match reader.records().next() {
        Some(Ok(header)) => Ok(header),
        _ => Err(ReportError::Write(std::io::Error::other(
            "could not write the CSV header",
        ))),
    }
}

pub(super) fn write(
    store: &Store,
    scope: &Scope,
    per_address: bool,
    out: &mut dyn Write,
) -> Result<ExportSummary, ReportError> {
    let header = if per_address {
        header_of::<AddressRow>()?
    } else {
        header_of::<DomainRow>()?
    };
    let mut writer = csv::WriterBuilder::new()
        .flexible(false)
        .has_headers(false)
        .from_writer(out);
    writer.write_record(&header).map_err(csv_error)?;
    let mut summary = ExportSummary::default();
    let now = scope.generated_at;
    // Only the domains that weigh other than 1: every other one weighs 1.
    let weights = store.weights_other_than_one(scope.list)?;
    store.each_latest_result(scope.list, |domain, latest| {
        summary.domains += 1;
        summary.probed += usize::from(latest.is_some());
        let weight = Some(weights.get(&domain).copied().unwrap_or_default().get());
        match (&latest, per_address) {
            (Some(result), false) => {
                let mut row = domain_row(result, now);
                row.weight = weight;
                writer.serialize(row).map_err(csv_error)?;
                summary.rows += 1;
            }
            (Some(result), true) => {
                for row in address_rows(result, now) {
                    writer.serialize(row).map_err(csv_error)?;
                    summary.rows += 1;
                }
            }
            (None, false) => {
                let mut row = DomainRow::unprobed(&domain);
                row.weight = weight;
                writer.serialize(row).map_err(csv_error)?;
                summary.rows += 1;
            }
            (None, true) => {
                writer
                    .serialize(AddressRow::unprobed(&domain))
                    .map_err(csv_error)?;
                summary.rows += 1;
            }
        }
        Ok::<(), ReportError>(())
    })?;
    writer.flush()?;
    Ok(summary)
}

fn csv_error(error: csv::Error) -> ReportError {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => ReportError::Write(error),
        other => ReportError::Write(std::io::Error::other(format!("{other:?}"))),
    }
}

impl DomainRow {
    fn unprobed(domain: &DomainName) -> Self {
        Self {
            domain: domain.as_str().into(),
            ..Self::default()
        }
    }
}

impl AddressRow {
    fn unprobed(domain: &DomainName) -> Self {
        Self {
            domain: domain.as_str().into(),
            ..Self::default()
        }
    }

    /// The domain and MX host columns, the address columns empty (`result` is the one shown,
    /// `stale_since` the latest result's).
    fn of_host(
        result: &DomainResult,
        stale_since: Option<OffsetDateTime>,
        host: Option<&MxResult>,
    ) -> Self {
        let mut row = Self {
            domain: result.domain.as_str().into(),
            domain_verdict: Some(result.verdict),
            probed_at: Some(rfc3339(result.probed_at)),
            stale_since: stale_since.map(rfc3339),
            ..Self::default()
        };
        if let Some(host) = host {
            row.mx_host = Some(host.host.as_str().into());
            row.preference = Some(host.preference);
            row.implicit = Some(host.implicit);
            row.cname_target = safe(host.cname_target.as_deref());
            row.mx_dns_error = host.dns_error;
            row.mx_verdict = Some(host.verdict);
            row.mx_dane = host.dane;
            row.sts_passes = host.sts_passes;
        }
        row
    }
}

fn domain_row(latest: &DomainResult, now: OffsetDateTime) -> DomainRow {
    let result = stale::counted(latest);
    let facts = DomainFacts::of(result);
    DomainRow {
        domain: result.domain.as_str().into(),
        verdict: Some(result.verdict),
        starttls: result.starttls,
        pfs: result.pfs,
        strict_valid: result.strict_valid,
        dns_error: result.dns_error,
        mx_hosts: Some(facts.mx_hosts.join(" ").into()),
        mx_count: Some(result.mx.len()),
        mx_untestable: Some(facts.untestable_hosts),
        lowest_tls_version: facts.lowest_tls,
        legacy_tls: facts.lowest_tls.map(|_| facts.legacy_tls),
        cert_errors: Some(facts.cert_errors.join(" ")),
        cert_not_after: facts.earliest_not_after.map(rfc3339),
        cert_days_left: facts.earliest_not_after.map(|at| days_left(at, now)),
        provider: safe(facts.provider.as_deref()),
        probed_at: Some(rfc3339(result.probed_at)),
        stale_since: latest.stale_since.map(rfc3339),
        tls_grade: result.tls_grade,
        weight: None,
        dnssec: result.dnssec,
        dane: result.dane,
        mta_sts: result.mta_sts.as_ref().map(|mta_sts| mta_sts.outcome),
        tls_rpt: result.tls_rpt.as_ref().map(|tls_rpt| tls_rpt.status),
        authenticated: result.sender.map(|sender| sender.authenticated),
        at_risk: result.sender.map(|sender| sender.at_risk),
    }
}

fn address_rows(latest: &DomainResult, now: OffsetDateTime) -> Vec<AddressRow> {
    let result = stale::counted(latest);
    let since = latest.stale_since;
    let mut rows = Vec::new();
    if result.mx.is_empty() {
        rows.push(AddressRow::of_host(result, since, None));
    }
    for host in &result.mx {
        if host.addresses.is_empty() {
            rows.push(AddressRow::of_host(result, since, Some(host)));
        }
        for address in &host.addresses {
            let mut row = AddressRow::of_host(result, since, Some(host));
            address_cells(&mut row, address, now);
            rows.push(row);
        }
    }
    rows
}

fn address_cells(row: &mut AddressRow, address: &AddressResult, now: OffsetDateTime) {
    row.ip = Some(address.ip.to_string());
    row.outcome = Some(address.outcome);
    row.reason = Some(address.reason);
    row.smtp_code = address.smtp_code;
    row.smtp_text = safe(address.smtp_text.as_deref());
    row.detail = Some(address.detail.as_str().into());
    row.starttls_advertised = address.starttls_advertised;
    row.tls_version = address.tls_version;
    row.cipher_suite = safe(address.cipher_suite.as_deref());
    row.kx_group = safe(address.kx_group.as_deref());
    row.pfs = address.pfs;
    row.legacy_tls = address.legacy_tls;
    row.prefers_non_pfs = address.prefers_non_pfs;
    row.tls_grade = address.tls_grade;
    row.strict_valid = address.strict_valid;
    row.cert_errors = Some(cert_error_names(&address.cert_errors));
    row.cert_subject = safe(address.cert_subject.as_deref());
    row.cert_sans = Some(
        address
            .cert_sans
            .as_deref()
            .unwrap_or_default()
            .join(" ")
            .into(),
    );
    row.cert_issuer = safe(address.cert_issuer.as_deref());
    row.cert_not_before = address.cert_not_before.map(rfc3339);
    row.cert_not_after = address.cert_not_after.map(rfc3339);
    row.cert_days_left = address.cert_not_after.map(|at| days_left(at, now));
    row.cert_key = safe(address.cert_key.as_deref());
    row.cert_sha256 = safe(address.cert_sha256.as_deref());
    row.elapsed_ms = Some(address.elapsed_ms);
    row.dane = address.dane;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<T: Serialize + Default>() -> Vec<String> {
        header_of::<T>()
            .expect("header")
            .iter()
            .map(str::to_string)
            .collect()
    }

    fn line<T: Serialize>(row: T) -> String {
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        writer.serialize(row).expect("serializes");
        String::from_utf8(writer.into_inner().expect("flushed")).expect("UTF-8")
    }

    #[test]
    fn formula_starts_get_an_apostrophe() {
        for dangerous in ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(
                SafeText::from(dangerous).neutralized(),
                format!("'{dangerous}")
            );
        }
        for harmless in ["example.org", "CN=mx", "", "1-2", " =x"] {
            assert_eq!(SafeText::from(harmless).neutralized(), harmless);
        }
    }

    #[test]
    fn numbers_stay_numbers_and_text_is_neutralized() {
        let row = DomainRow {
            domain: "-5.example".into(),
            mx_count: Some(2),
            cert_days_left: Some(-5),
            starttls: Some(false),
            provider: Some("=cmd".into()),
            weight: Some(1234.5),
            ..DomainRow::default()
        };
        assert_eq!(
            line(row),
            "'-5.example,,false,,,,,2,,,,,,-5,'=cmd,,,,1234.5,,,,,,\n"
        );
    }

    #[test]
    fn headers_are_the_documented_columns() {
        assert_eq!(
            header::<DomainRow>(),
            [
                "domain",
                "verdict",
                "starttls",
                "pfs",
                "strict_valid",
                "dns_error",
                "mx_hosts",
                "mx_count",
                "mx_untestable",
                "lowest_tls_version",
                "legacy_tls",
                "cert_errors",
                "cert_not_after",
                "cert_days_left",
                "provider",
                "probed_at",
                "stale_since",
                "tls_grade",
                "weight",
                "dnssec",
                "dane",
                "mta_sts",
                "tls_rpt",
                "authenticated",
                "at_risk",
            ]
        );
        let address = header::<AddressRow>();
        assert_eq!(address.len(), 38);
        assert_eq!(address[..3], ["domain", "domain_verdict", "mx_host"]);
        assert_eq!(
            address[32..],
            [
                "probed_at",
                "stale_since",
                "tls_grade",
                "dane",
                "mx_dane",
                "sts_passes"
            ]
        );
        let mut sorted = address.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), address.len());
    }

    #[test]
    fn a_stale_domain_is_written_as_last_known_with_stale_since() {
        use crate::model::test_support::{address, mx_host};
        let at = |hours: i64| OffsetDateTime::UNIX_EPOCH + time::Duration::hours(hours);
        let domain = DomainName::parse("a.example").expect("valid");
        let host = mx_host("mx.a.example", vec![address(Outcome::TlsOk, true, true)]);
        let good = DomainResult::new(domain.clone(), false, None, at(1), vec![host]);
        let mut latest = DomainResult::new(domain, false, Some(DnsError::Timeout), at(3), vec![]);
        latest.stale_since = Some(at(2));
        latest.last_known = Some(Box::new(good));
        let row = domain_row(&latest, at(4));
        assert_eq!(row.verdict, Some(Verdict::TlsOk));
        assert_eq!(row.strict_valid, Some(true));
        assert_eq!(row.dns_error, None);
        assert_eq!(row.probed_at.as_deref(), Some("1970-01-01T01:00:00Z"));
        assert_eq!(row.stale_since.as_deref(), Some("1970-01-01T02:00:00Z"));
        let rows = address_rows(&latest, at(4));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].outcome, Some(Outcome::TlsOk));
        assert_eq!(rows[0].stale_since.as_deref(), Some("1970-01-01T02:00:00Z"));
        latest.last_known = None;
        latest.stale_since = None;
        let current = domain_row(&latest, at(4));
        assert_eq!(current.verdict, Some(Verdict::Untestable));
        assert_eq!(current.stale_since, None);
    }

    #[test]
    fn enums_are_written_by_their_serde_names() {
        let row = AddressRow {
            domain: "example.org".into(),
            domain_verdict: Some(Verdict::TlsOk),
            outcome: Some(Outcome::Untestable),
            reason: Some(Reason::ConnectTimeout),
            tls_version: Some(TlsVersion::Tls12),
            mx_dns_error: Some(DnsError::NoAddress),
            tls_grade: Some(TlsGrade::PhaseOut),
            ..AddressRow::default()
        };
        let text = line(row);
        assert!(text.ends_with(",phase_out,,,\n"), "{text}");
        for name in [
            "tls_ok",
            "untestable",
            "connect_timeout",
            "TLSv1.2",
            "no_address",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
    }

    #[test]
    fn the_authenticated_transport_columns_say_what_senders_do() {
        use crate::model::auth::{DaneSetStatus as Dane, MtaStsOutcome as Sts};
        use crate::model::test_support::{address, mx_host, with_auth};
        let domain = DomainName::parse("a.example").expect("valid");
        let host = mx_host("mx.a.example", vec![address(Outcome::TlsOk, true, true)]);
        let plain = DomainResult::new(domain, false, None, OffsetDateTime::UNIX_EPOCH, vec![host]);
        let failing = with_auth(plain.clone(), &[Dane::Failed], Sts::EnforceOk);
        let text = line(domain_row(&failing, OffsetDateTime::UNIX_EPOCH));
        assert!(
            text.ends_with(",secure,failed,enforce_ok,none,false,true\n"),
            "{text}"
        );
        let old = line(domain_row(&plain, OffsetDateTime::UNIX_EPOCH));
        assert!(old.ends_with(",,,,,,\n"), "no facts: empty cells, {old}");
        let rows = address_rows(&failing, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(rows[0].mx_dane, Some(Dane::Failed));
        assert_eq!(rows[0].sts_passes, Some(true));
    }
}
