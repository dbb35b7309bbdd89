//! How probe results are printed: JSON lines and a readable table.
//!
//! Owns: text layout only. Must not touch: I/O (callers write the strings). The table is for
//! people (domain names in Unicode, ASCII beside); JSON keeps the ASCII name.

use std::fmt::Write as _;

use crate::model::auth::{MtaSts, TlsRpt};
use crate::model::format::yes_no;
use crate::model::{AddressResult, DomainResult, Outcome, Verdict};

/// One domain result as one line of JSON (the DESIGN.md contract), with a newline.
pub fn json_line(result: &DomainResult) -> String {
    match serde_json::to_string(result) {
        Ok(mut line) => {
            line.push('\n');
            line
        }
        // Serializing plain data cannot fail; keep the output line-oriented all the same.
        Err(error) => format!(
            "{{\"domain\":\"{}\",\"error\":\"{}\"}}\n",
            result.domain,
            error.to_string().replace('"', "'")
        ),
    }
}

/// Strips control characters from text that came from a server, so it cannot drive the terminal.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A readable block: the domain line, then MX hosts and their addresses beneath.
pub fn domain_table(result: &DomainResult) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<32} {:<12} starttls={:<3} pfs={:<3} strict={:<3} tls_grade={}{}",
        result.domain.display_with_ascii(),
        result.verdict.as_str(),
        yes_no(result.starttls, "-"),
        yes_no(result.pfs, "-"),
        yes_no(result.strict_valid, "-"),
        result.tls_grade.map_or("-", |grade| grade.as_str()),
        domain_note(result),
    );
    if let Some(line) = sts_line(result.mta_sts.as_ref(), result.tls_rpt.as_ref()) {
        let _ = writeln!(text, "{line}");
    }
    if result.verdict != Verdict::NoMail {
        let _ = writeln!(text, "{}", dane_line(result));
    }
    for host in &result.mx {
        let mut line = format!(
            "  MX {:>5} {}{}",
            host.preference,
            host.host,
            if host.implicit { " (implicit MX)" } else { "" }
        );
        if let Some(target) = &host.cname_target {
            let _ = write!(line, " (CNAME -> {target})");
        }
        if let Some(dns_error) = host.dns_error {
            let _ = write!(line, "  DNS error: {}", dns_error.as_str());
        }
        let _ = writeln!(text, "{line}  [{}]", host.verdict.as_str());
        for address in &host.addresses {
            let _ = writeln!(text, "{}", address_line(address));
        }
    }
    text
}

/// The domain's MTA-STS and TLS-RPT on one line: `  STS  enforce_ok (id 1, mode enforce,
/// max_age 86400)  TLS-RPT valid  — why / warnings`; None when neither was looked up.
fn sts_line(mta_sts: Option<&MtaSts>, tls_rpt: Option<&TlsRpt>) -> Option<String> {
    if mta_sts.is_none() && tls_rpt.is_none() {
        return None;
    }
    let mut line = String::from("  STS  ");
    let mut notes = Vec::new();
    match mta_sts {
        Some(mta_sts) => {
            line.push_str(mta_sts.outcome.as_str());
            let mut facts = Vec::new();
            if let Some(id) = &mta_sts.id {
                facts.push(format!("id {}", clean(id)));
            }
            if let Some(mode) = mta_sts.mode {
                facts.push(format!("mode {}", mode.as_str()));
            }
            if let Some(max_age) = mta_sts.max_age {
                facts.push(format!("max_age {max_age}"));
            }
            if mta_sts.cached {
                facts.push("cached policy".to_string());
            }
            if !facts.is_empty() {
                let _ = write!(line, " ({})", facts.join(", "));
            }
            if let Some(failure) = &mta_sts.failure {
                notes.push(clean(failure));
            }
        }
        None => line.push('-'),
    }
    if let Some(tls_rpt) = tls_rpt {
        let _ = write!(line, "  TLS-RPT {}", tls_rpt.status.as_str());
        if !tls_rpt.rua.is_empty() {
            let _ = write!(line, " ({})", clean(&tls_rpt.rua.join(", ")));
        }
        if let Some(detail) = &tls_rpt.detail {
            notes.push(format!("TLS-RPT: {}", clean(detail)));
        }
    }
    if !notes.is_empty() {
        let _ = write!(line, "  — {}", notes.join("; "));
    }
    Some(line)
}

/// The one DANE line of a domain: its DANE result, the MX answer's DNSSEC status, each MX
/// host's DANE (with how many TLSA records and which matched), and any DANE warnings.
fn dane_line(result: &DomainResult) -> String {
    let dash = |name: Option<&'static str>| name.unwrap_or("-");
    let mut line = format!(
        "  DANE {}  (MX answer DNSSEC {})",
        dash(result.dane.map(|dane| dane.as_str())),
        dash(result.dnssec.map(|status| status.as_str())),
    );
    let mut warnings: Vec<&str> = result
        .dane_warnings
        .iter()
        .map(|warning| warning.as_str())
        .collect();
    for host in &result.mx {
        let _ = write!(
            line,
            "; {}: {}",
            host.host,
            dash(host.dane.map(|dane| dane.as_str()))
        );
        match &host.tlsa {
            None => line.push_str(" (no TLSA lookup)"),
            Some(records) if records.is_empty() => line.push_str(" (no TLSA)"),
            Some(records) => {
                let matched: Vec<String> = host
                    .addresses
                    .iter()
                    .filter_map(|address| address.dane_matched.as_ref())
                    .map(|record| {
                        let text = record.to_string();
                        text.chars().take(16).collect::<String>() + "…"
                    })
                    .collect();
                let _ = write!(line, " ({} TLSA", records.len());
                if let Some(first) = matched.first() {
                    let _ = write!(line, ", matched {first}");
                }
                line.push(')');
            }
        }
        for warning in &host.dane_warnings {
            if !warnings.contains(&warning.as_str()) {
                warnings.push(warning.as_str());
            }
        }
    }
    if !warnings.is_empty() {
        let _ = write!(line, "; warnings: {}", warnings.join(", "));
    }
    line
}

fn domain_note(result: &DomainResult) -> String {
    match result.verdict {
        Verdict::NoMail => "  (null MX: accepts no mail)".to_string(),
        _ => {
            let mut notes = Vec::new();
            if let Some(dns_error) = result.dns_error {
                notes.push(format!("DNS error: {}", dns_error.as_str()));
            }
            let untestable = result.untestable_host_count();
            if untestable > 0 && result.verdict != Verdict::Untestable {
                notes.push(format!(
                    "{untestable} of {} MX hosts untestable",
                    result.mx.len()
                ));
            }
            if notes.is_empty() {
                String::new()
            } else {
                format!("  ({})", notes.join("; "))
            }
        }
    }
}

fn address_line(address: &AddressResult) -> String {
    let mut line = format!(
        "    {:<39} {:<11}",
        address.ip.to_string(),
        address.outcome.as_str()
    );
    if address.outcome == Outcome::TlsOk {
        let _ = write!(
            line,
            " {} {} {}",
            address.tls_version.map(|v| v.as_str()).unwrap_or("?"),
            address.cipher_suite.as_deref().unwrap_or("?"),
            address.kx_group.as_deref().unwrap_or("?"),
        );
        if let Some(grade) = address.tls_grade {
            let _ = write!(line, " (TLS grade: {})", grade.label());
        }
        if address.legacy_tls == Some(true) {
            line.push_str(" (legacy TLS)");
        }
        if address.prefers_non_pfs == Some(true) {
            line.push_str(" (prefers non-PFS)");
        }
        if address.strict_valid == Some(true) {
            line.push_str("  cert: strict ok");
        } else {
            let errors: Vec<&str> = address.cert_errors.iter().map(|e| e.as_str()).collect();
            let _ = write!(line, "  cert: NOT strict ({})", errors.join(", "));
        }
        if let Some(days) = address.cert_days_left {
            let _ = write!(line, ", {days} days left");
        }
        if let Some(subject) = &address.cert_subject {
            let _ = write!(line, ", {}", clean(subject));
        }
    } else {
        let _ = write!(line, " {}", clean(&address.detail));
        let decisive_reply = address.smtp_code.filter(|code| *code != 250);
        if let (Some(code), Some(text)) = (decisive_reply, &address.smtp_text) {
            let _ = write!(line, " [{code} {}]", clean(text));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::auth::{MtaStsOutcome, StsMode, TlsRptStatus};

    #[test]
    fn the_sts_line_says_outcome_facts_tls_rpt_and_why() {
        assert_eq!(sts_line(None, None), None);
        let cached = MtaSts {
            outcome: MtaStsOutcome::MxMismatch,
            id: Some("7".into()),
            mode: Some(StsMode::Enforce),
            max_age: Some(600),
            mx_patterns: Some(vec!["mx.example.org".into()]),
            fetched_at: None,
            cached: true,
            failure: Some("policy fetch failed (connect): refused\u{1b}[2J".into()),
            policy: None,
        };
        let invalid = TlsRpt {
            status: TlsRptStatus::Invalid,
            rua: Vec::new(),
            detail: Some("no rua field".into()),
        };
        assert_eq!(
            sts_line(Some(&cached), Some(&invalid)).unwrap(),
            "  STS  mx_mismatch (id 7, mode enforce, max_age 600, cached policy)  TLS-RPT invalid  \
             — policy fetch failed (connect): refused?[2J; TLS-RPT: no rua field"
        );
        let none = MtaSts {
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
        assert_eq!(sts_line(Some(&none), None).unwrap(), "  STS  none");
    }
}
