//! The detail pane's authenticated-transport facts (DESIGN.md, "Authenticated transport"): the
//! sender view in words, the DNSSEC status of the MX answer and of each host's addresses, the
//! TLSA records and which one matched at each address, DANE warnings, the MTA-STS policy (its
//! text, id, mode, max_age, when fetched, whether cached) and each MX host's match and pass,
//! and the TLS-RPT report URIs.
//!
//! Owns: presenting those fields of one result in words (the vocabulary is `model::words`).
//! Must not touch: how they are probed or folded (`probe`, `model::auth`), the store.

use eframe::egui;

use super::style::GradeLook as _;
use super::style::{Grade, format_time};
use crate::model::auth::{DnssecStatus, MtaSts, TlsRpt, TlsRptStatus};
use crate::model::{AddressResult, DomainResult, MxResult};

/// The height of the policy text box before it scrolls.
const POLICY_HEIGHT: f32 = 120.0;

/// A DNSSEC status in words, coloured (secure green, bogus and indeterminate red); `not
/// validated` when the resolver gave no DNSSEC data or the result predates validation.
fn dnssec_text(status: Option<DnssecStatus>, dark_mode: bool) -> egui::RichText {
    let Some(status) = status else {
        return egui::RichText::new("not validated").color(Grade::NotProbed.color(dark_mode));
    };
    let grade = match status {
        DnssecStatus::Secure => Grade::Secure,
        DnssecStatus::Insecure => Grade::Untestable,
        DnssecStatus::Bogus | DnssecStatus::Indeterminate => Grade::AtRisk,
    };
    egui::RichText::new(status.label()).color(grade.color(dark_mode))
}

/// One name/value row of a grid, the value wrapped.
fn row(ui: &mut egui::Ui, name: &str, value: impl Into<egui::WidgetText>) {
    ui.label(name);
    ui.add(egui::Label::new(value).wrap());
    ui.end_row();
}

/// The domain's section: sender view, DNSSEC of the MX answer, DANE, MTA-STS, TLS-RPT.
pub fn domain_auth_ui(ui: &mut egui::Ui, result: &DomainResult, dark_mode: bool) {
    ui.label(egui::RichText::new("Authenticated transport").strong());
    if let Some(sender) = result.sender {
        let color = if sender.at_risk {
            Grade::AtRisk
        } else if sender.authenticated {
            Grade::Secure
        } else {
            Grade::Untestable
        };
        ui.add(
            egui::Label::new(egui::RichText::new(sender.describe()).color(color.color(dark_mode)))
                .wrap(),
        )
        .on_hover_text(
            "What a DANE-enforcing sender (Postfix, Exim, Exchange Online) and an \
             MTA-STS-enforcing sender (Gmail, Microsoft) would do with this domain's mail",
        );
    }
    egui::Grid::new("detail_auth")
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            row(ui, "DNSSEC (MX)", dnssec_text(result.dnssec, dark_mode));
            match result.dane {
                Some(dane) => {
                    ui.label("DANE");
                    ui.label(
                        egui::RichText::new(dane.label()).color(dane.grade().color(dark_mode)),
                    )
                    .on_hover_text(dane.meaning());
                    ui.end_row();
                }
                None => row(ui, "DANE", "not looked up"),
            }
            for warning in &result.dane_warnings {
                row(ui, "DANE warning", warning_text(warning.label(), dark_mode));
            }
            match &result.mta_sts {
                Some(mta_sts) => mta_sts_rows(ui, mta_sts, dark_mode),
                None => row(ui, "MTA-STS", "not looked up"),
            }
            tls_rpt_rows(ui, "TLS-RPT", result.tls_rpt.as_ref());
        });
    if let Some(policy) = result
        .mta_sts
        .as_ref()
        .and_then(|mta_sts| mta_sts.policy.as_ref())
    {
        ui.label("MTA-STS policy:");
        egui::Frame::group(ui.style()).show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("mta_sts_policy")
                .max_height(POLICY_HEIGHT)
                .auto_shrink([false, true])
                .show(ui, |ui| {
                    ui.add(egui::Label::new(
                        egui::RichText::new(policy.trim_end()).monospace(),
                    ));
                });
        });
    }
}

/// An informational warning's text, in amber.
fn warning_text(text: &str, dark_mode: bool) -> egui::RichText {
    egui::RichText::new(text).color(Grade::Encrypted.color(dark_mode))
}

/// The MTA-STS rows: outcome, id, mode, max_age, fetched (and cached), patterns, why.
fn mta_sts_rows(ui: &mut egui::Ui, mta_sts: &MtaSts, dark_mode: bool) {
    ui.label("MTA-STS");
    ui.label(
        egui::RichText::new(mta_sts.outcome.label())
            .color(mta_sts.outcome.grade().color(dark_mode)),
    )
    .on_hover_text(format!(
        "{} (code: {})",
        mta_sts.outcome.meaning(),
        mta_sts.outcome.as_str()
    ));
    ui.end_row();
    if let Some(id) = &mta_sts.id {
        row(ui, "Policy id", id.clone());
    }
    if let Some(mode) = mta_sts.mode {
        row(ui, "Mode", mode.as_str());
    }
    if let Some(max_age) = mta_sts.max_age {
        row(
            ui,
            "max_age",
            format!("{max_age} s ({} days)", max_age / 86_400),
        );
    }
    if let Some(fetched_at) = mta_sts.fetched_at {
        let mut text = format!("{} UTC", format_time(fetched_at));
        if mta_sts.cached {
            text.push_str(" (cached: today's fetch failed; senders still apply it)");
        }
        row(ui, "Fetched", text);
    }
    if let Some(patterns) = &mta_sts.mx_patterns {
        row(ui, "mx patterns", patterns.join(", "));
    }
    if let Some(failure) = &mta_sts.failure {
        row(ui, "Why", warning_text(failure, dark_mode));
    }
}

/// A TLS-RPT row: status, and the report URIs when valid (why when invalid).
fn tls_rpt_rows(ui: &mut egui::Ui, name: &str, tls_rpt: Option<&TlsRpt>) {
    let Some(tls_rpt) = tls_rpt else {
        row(ui, name, "not looked up");
        return;
    };
    let text = match tls_rpt.status {
        TlsRptStatus::Valid => format!("reports to {}", tls_rpt.rua.join(", ")),
        TlsRptStatus::None => "none".to_string(),
        TlsRptStatus::Invalid => format!(
            "invalid: {}",
            tls_rpt.detail.as_deref().unwrap_or("unreadable record")
        ),
    };
    row(ui, name, text);
}

/// An MX host's rows: DNSSEC of its addresses, TLSA records, DANE with warnings, MTA-STS match
/// and pass, its own TLS-RPT.
pub fn host_auth_ui(ui: &mut egui::Ui, host: &MxResult, dark_mode: bool) {
    egui::Grid::new(("host_auth", &host.host))
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            row(
                ui,
                "DNSSEC (addresses)",
                dnssec_text(host.dnssec, dark_mode),
            );
            match &host.tlsa {
                Some(records) if records.is_empty() => row(ui, "TLSA", "none published"),
                Some(records) => {
                    ui.label("TLSA");
                    ui.vertical(|ui| {
                        for record in records {
                            ui.add(
                                egui::Label::new(
                                    egui::RichText::new(record.to_string()).monospace(),
                                )
                                .wrap(),
                            );
                        }
                    });
                    ui.end_row();
                }
                None => row(
                    ui,
                    "TLSA",
                    "not looked up (needs a DNSSEC-signed MX and address)",
                ),
            }
            if host.tlsa.is_some() {
                row(
                    ui,
                    "DNSSEC (TLSA)",
                    dnssec_text(host.tlsa_dnssec, dark_mode),
                );
            }
            if let Some(dane) = host.dane {
                ui.label("DANE");
                ui.label(egui::RichText::new(dane.label()).color(dane.grade().color(dark_mode)))
                    .on_hover_text(dane.meaning());
                ui.end_row();
            }
            for warning in &host.dane_warnings {
                row(ui, "DANE warning", warning_text(warning.label(), dark_mode));
            }
            if let Some(matched) = host.sts_matched {
                row(
                    ui,
                    "MTA-STS match",
                    if matched {
                        "listed in the policy"
                    } else {
                        "not listed in the policy"
                    },
                );
            }
            if let Some(passes) = host.sts_passes {
                let text = egui::RichText::new(if passes {
                    "passes (listed, STARTTLS, WebPKI valid)"
                } else {
                    "fails"
                });
                let grade = if passes { Grade::Secure } else { Grade::AtRisk };
                row(ui, "MTA-STS", text.color(grade.color(dark_mode)));
            }
            if host.tls_rpt.is_some() {
                tls_rpt_rows(ui, "TLS-RPT (host)", host.tls_rpt.as_ref());
            }
        });
}

/// An address's DANE rows (inside its grid): its result and the record that matched.
pub fn address_auth_rows(ui: &mut egui::Ui, address: &AddressResult, dark_mode: bool) {
    let Some(dane) = address.dane else {
        return;
    };
    let set = crate::model::auth::DaneSetStatus::from(dane);
    ui.label("DANE");
    ui.label(egui::RichText::new(dane.label()).color(set.grade().color(dark_mode)))
        .on_hover_text(set.meaning());
    ui.end_row();
    if let Some(record) = &address.dane_matched {
        ui.label("TLSA matched");
        ui.add(egui::Label::new(egui::RichText::new(record.to_string()).monospace()).wrap());
        ui.end_row();
    }
}
