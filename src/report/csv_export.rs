//! CSV export: one row per domain, or one per MX address.
//!
//! Owns: the column sets and the spreadsheet-safety rule: a text cell that starts with `=`,
//! `+`, `-`, `@`, tab or carriage return gets a leading apostrophe, so a spreadsheet shows it
//! instead of running it as a formula (CSV injection). Numeric columns (`smtp_code`,
//! `cert_days_left`, ...) are written as plain numbers, negative ones included.

use std::borrow::Cow;
use std::io::Write;

use super::{DomainFacts, ExportSummary, ReportError, Scope, days_left, rfc3339, serde_name};
use crate::model::{AddressResult, DomainName, DomainResult, MxResult};
use crate::store::Store;

/// Columns of the per-domain CSV.
pub const DOMAIN_COLUMNS: [&str; 16] = [
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
];

/// Columns of the per-address CSV.
pub const ADDRESS_COLUMNS: [&str; 33] = [
    "domain",
    "domain_verdict",
    "mx_host",
    "preference",
    "implicit",
    "cname_target",
    "mx_dns_error",
    "mx_verdict",
    "ip",
    "outcome",
    "reason",
    "smtp_code",
    "smtp_text",
    "detail",
    "starttls_advertised",
    "tls_version",
    "cipher_suite",
    "kx_group",
    "pfs",
    "legacy_tls",
    "prefers_non_pfs",
    "strict_valid",
    "cert_errors",
    "cert_subject",
    "cert_sans",
    "cert_issuer",
    "cert_not_before",
    "cert_not_after",
    "cert_days_left",
    "cert_key",
    "cert_sha256",
    "elapsed_ms",
    "probed_at",
];

/// A text cell made safe for spreadsheets (see the module doc).
pub fn neutralize(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One row being built: text cells go through [`neutralize`], numbers and booleans do not.
#[derive(Default)]
struct Row(Vec<String>);

impl Row {
    fn text(&mut self, value: &str) -> &mut Self {
        self.0.push(neutralize(value).into_owned());
        self
    }

    fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        self.text(value.unwrap_or(""))
    }

    fn number(&mut self, value: Option<i64>) -> &mut Self {
        self.0
            .push(value.map(|n| n.to_string()).unwrap_or_default());
        self
    }

    fn boolean(&mut self, value: Option<bool>) -> &mut Self {
        self.0
            .push(value.map(|b| b.to_string()).unwrap_or_default());
        self
    }

    /// Our own fixed vocabulary (verdicts, timestamps): nothing to neutralize.
    fn plain(&mut self, value: impl Into<String>) -> &mut Self {
        self.0.push(value.into());
        self
    }
}

pub(super) fn write(
    store: &Store,
    scope: &Scope,
    per_address: bool,
    out: &mut dyn Write,
) -> Result<ExportSummary, ReportError> {
    let mut writer = csv::WriterBuilder::new().flexible(false).from_writer(out);
    let header: &[&str] = if per_address {
        &ADDRESS_COLUMNS
    } else {
        &DOMAIN_COLUMNS
    };
    writer.write_record(header).map_err(csv_error)?;
    let mut summary = ExportSummary::default();
    let now = scope.generated_at;
    store.each_latest_result(scope.list, |domain, latest| {
        summary.domains += 1;
        summary.probed += usize::from(latest.is_some());
        let rows = match (&latest, per_address) {
            (Some(result), false) => vec![domain_row(result, now)],
            (Some(result), true) => address_rows(result, now),
            (None, false) => vec![unprobed_row(&domain, DOMAIN_COLUMNS.len())],
            (None, true) => vec![unprobed_row(&domain, ADDRESS_COLUMNS.len())],
        };
        for row in rows {
            writer.write_record(&row.0).map_err(csv_error)?;
            summary.rows += 1;
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

fn unprobed_row(domain: &DomainName, width: usize) -> Row {
    let mut row = Row::default();
    row.text(domain.as_str());
    row.0.resize(width, String::new());
    row
}

fn domain_row(result: &DomainResult, now: time::OffsetDateTime) -> Row {
    let facts = DomainFacts::of(result);
    let mut row = Row::default();
    row.text(result.domain.as_str())
        .plain(result.verdict.as_str())
        .boolean(result.starttls)
        .boolean(result.pfs)
        .boolean(result.strict_valid)
        .plain(result.dns_error.map(|e| e.as_str()).unwrap_or(""))
        .text(&facts.mx_hosts.join(" "))
        .number(Some(result.mx.len() as i64))
        .number(Some(facts.untestable_hosts as i64))
        .plain(facts.lowest_tls.map(|v| v.as_str()).unwrap_or(""))
        .boolean(facts.lowest_tls.map(|_| facts.legacy_tls))
        .plain(facts.cert_errors.join(" "))
        .plain(facts.earliest_not_after.map(rfc3339).unwrap_or_default())
        .number(facts.earliest_not_after.map(|at| days_left(at, now)))
        .opt_text(facts.provider.as_deref())
        .plain(rfc3339(result.probed_at));
    row
}

fn address_rows(result: &DomainResult, now: time::OffsetDateTime) -> Vec<Row> {
    let mut rows = Vec::new();
    if result.mx.is_empty() {
        let mut row = Row::default();
        row.text(result.domain.as_str())
            .plain(result.verdict.as_str());
        row.0.resize(ADDRESS_COLUMNS.len() - 1, String::new());
        row.plain(rfc3339(result.probed_at));
        rows.push(row);
    }
    for host in &result.mx {
        if host.addresses.is_empty() {
            let mut row = host_prefix(result, host);
            row.0.resize(ADDRESS_COLUMNS.len() - 1, String::new());
            row.plain(rfc3339(result.probed_at));
            rows.push(row);
        }
        for address in &host.addresses {
            let mut row = host_prefix(result, host);
            address_cells(&mut row, address, now);
            row.plain(rfc3339(result.probed_at));
            rows.push(row);
        }
    }
    rows
}

fn host_prefix(result: &DomainResult, host: &MxResult) -> Row {
    let mut row = Row::default();
    row.text(result.domain.as_str())
        .plain(result.verdict.as_str())
        .text(&host.host)
        .number(Some(i64::from(host.preference)))
        .boolean(Some(host.implicit))
        .opt_text(host.cname_target.as_deref())
        .plain(host.dns_error.map(|e| e.as_str()).unwrap_or(""))
        .plain(host.verdict.as_str());
    row
}

fn address_cells(row: &mut Row, address: &AddressResult, now: time::OffsetDateTime) {
    let cert_errors: Vec<&str> = address.cert_errors.iter().map(|e| e.as_str()).collect();
    row.plain(address.ip.to_string())
        .plain(address.outcome.as_str())
        .plain(serde_name(&address.reason))
        .number(address.smtp_code.map(i64::from))
        .opt_text(address.smtp_text.as_deref())
        .text(&address.detail)
        .boolean(address.starttls_advertised)
        .plain(address.tls_version.map(|v| v.as_str()).unwrap_or(""))
        .opt_text(address.cipher_suite.as_deref())
        .opt_text(address.kx_group.as_deref())
        .boolean(address.pfs)
        .boolean(address.legacy_tls)
        .boolean(address.prefers_non_pfs)
        .boolean(address.strict_valid)
        .plain(cert_errors.join(" "))
        .opt_text(address.cert_subject.as_deref())
        .text(&address.cert_sans.as_deref().unwrap_or_default().join(" "))
        .opt_text(address.cert_issuer.as_deref())
        .plain(address.cert_not_before.map(rfc3339).unwrap_or_default())
        .plain(address.cert_not_after.map(rfc3339).unwrap_or_default())
        .number(address.cert_not_after.map(|at| days_left(at, now)))
        .opt_text(address.cert_key.as_deref())
        .opt_text(address.cert_sha256.as_deref())
        .number(i64::try_from(address.elapsed_ms).ok());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_an_apostrophe() {
        for dangerous in ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralize(dangerous), format!("'{dangerous}"));
        }
        for harmless in ["example.org", "CN=mx", "", "1-2", " =x"] {
            assert_eq!(neutralize(harmless), harmless);
        }
    }

    #[test]
    fn numbers_stay_numbers() {
        let mut row = Row::default();
        row.number(Some(-5))
            .text("-5")
            .boolean(Some(false))
            .number(None);
        assert_eq!(row.0, ["-5", "'-5", "false", ""]);
    }

    #[test]
    fn column_sets_have_unique_names() {
        for columns in [&DOMAIN_COLUMNS[..], &ADDRESS_COLUMNS[..]] {
            let mut sorted = columns.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), columns.len());
        }
    }
}
