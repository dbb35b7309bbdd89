//! The domain detail panel: MX hosts by preference → addresses → outcome, with TLS and
//! certificate facts, why strict validation failed, EHLO extensions before and after TLS, and
//! the domain's history chart (`history_chart`) and timeline of results and change events.
//!
//! Owns: presenting one [`DomainDetail`] (a stale domain: why and since when, then its last
//! known state). Must not touch: loading it (the monitor does), the
//! dialogs and scans its buttons ask for (they are actions the app applies).

use eframe::egui;

use super::action::{Action, DialogRequest};
use super::style::GradeLook as _;
use super::style::{self, Grade, format_time, tls_grade_text};
use super::table::{describe_stale, stale_mark};
use super::table_model::TableModel;
use crate::model::format::yes_no;
use crate::model::stale;
use crate::model::{AddressResult, CertError, DomainName, DomainResult, MxResult, Weight};
use crate::monitor::view::DomainDetail;
use crate::monitor::{Command, Edit, ScanTarget};

/// A certificate error in a user's words.
pub fn describe_cert_error(error: CertError) -> &'static str {
    match error {
        CertError::UnknownIssuer => "the chain does not lead to a trusted root",
        CertError::SelfSigned => "self-signed",
        CertError::NameMismatch => "no name in the certificate matches the MX host name",
        CertError::Expired => "expired",
        CertError::NotYetValid => "not valid yet",
        CertError::BadSignature => "a signature in the chain does not verify",
        CertError::UnsupportedKey => "key or signature algorithm too weak or unsupported",
        CertError::InvalidPurpose => "not issued for TLS servers",
        CertError::Revoked => "revoked",
        CertError::BadEncoding => "the certificate could not be parsed",
        CertError::NoCertificate => "the server sent no certificate",
        CertError::Other => "rejected by WebPKI for another reason",
    }
}

/// The detail panel; the loaded detail is shared, the panel keeps only the weight being typed.
#[derive(Debug, Default)]
pub struct DetailPanel {
    /// The weight typed for a domain (until the list's weights are reloaded with it).
    weight_edit: Option<(DomainName, f64)>,
}

impl DetailPanel {
    /// Draws the panel at the window's right for `table`'s cursor row: `detail` once it is
    /// that domain's; `list` is where Remove removes from.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        table: &TableModel,
        detail: Option<&DomainDetail>,
        list: Option<&str>,
        warning_days: u32,
        actions: &mut Vec<Action>,
    ) {
        egui::Panel::right("detail_panel")
            .default_size(430.0)
            .min_size(280.0)
            .show(ui, |ui| {
                let Some(cursor) = table.cursor().cloned() else {
                    return;
                };
                ui.add_space(4.0);
                ui.horizontal(|ui| {
                    let shown = cursor.display_name();
                    let heading = ui.heading(shown.as_ref());
                    if shown != cursor.as_str() {
                        heading.on_hover_text(cursor.as_str());
                    }
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui.button("✖ Close").on_hover_text("Esc").clicked() {
                            actions.push(Action::CloseDetail);
                        }
                        if ui
                            .button("🗑")
                            .on_hover_text("Remove this domain…")
                            .clicked()
                        {
                            actions.push(Action::OpenDialog(DialogRequest::ConfirmRemove {
                                domains: vec![cursor.clone()],
                                list: list.map(str::to_string),
                            }));
                        }
                        if ui.button("⟳ Rescan").clicked() {
                            actions.push(Action::Scan(ScanTarget::Domains(vec![cursor.clone()])));
                        }
                    });
                });
                weight_row_ui(ui, &mut self.weight_edit, table, &cursor, list, actions);
                let detail = detail.filter(|detail| detail.domain == cursor);
                match detail {
                    Some(detail) => {
                        egui::ScrollArea::vertical()
                            .auto_shrink([false, false])
                            .show(ui, |ui| detail_ui(ui, detail, warning_days));
                    }
                    None => {
                        ui.spinner();
                    }
                }
            });
    }
}

/// The domain's weight (mail volume) in the list shown and its share of the list's mail;
/// editable in a named list (weights belong to list memberships).
fn weight_row_ui(
    ui: &mut egui::Ui,
    edit: &mut Option<(DomainName, f64)>,
    table: &TableModel,
    domain: &DomainName,
    list: Option<&str>,
    actions: &mut Vec<Action>,
) {
    let weight = table.weight_of(domain);
    let share = table
        .mail_share(domain)
        .map(|share| format!("{share:.1} % of the list's mail"))
        .unwrap_or_default();
    ui.horizontal_wrapped(|ui| {
        let Some(list) = list else {
            ui.label(format!("Mail volume: {weight}"))
                .on_hover_text("The largest weight it has in any list; choose a list to change it");
            ui.label(egui::RichText::new(share).weak());
            return;
        };
        if edit.as_ref().is_none_or(|(edited, _)| edited != domain) {
            *edit = Some((domain.clone(), weight.get()));
        }
        let Some((_, value)) = edit.as_mut() else {
            return;
        };
        let label = ui.label("Mail volume in this list");
        ui.add(
            egui::DragValue::new(value)
                .range(0.0..=Weight::MAX)
                .speed(1.0)
                .max_decimals(3),
        )
        .labelled_by(label.id)
        .on_hover_text("Messages per period (any non-negative number); 1 when not given");
        let typed = Weight::new(*value);
        let changed = typed.as_ref().is_ok_and(|typed| *typed != weight);
        if ui
            .add_enabled(changed, egui::Button::new("Set weight"))
            .clicked()
            && let Ok(typed) = typed
        {
            actions.push(Action::Send(Command::Edit(Edit::SetWeight {
                list: list.to_string(),
                domain: domain.clone(),
                weight: typed,
            })));
        }
        ui.label(egui::RichText::new(share).weak());
    });
}

fn detail_ui(ui: &mut egui::Ui, detail: &DomainDetail, warning_days: u32) {
    let dark_mode = ui.visuals().dark_mode;
    let Some(latest) = &detail.latest else {
        ui.label("Not probed yet. Use Rescan, or wait for the next scheduled scan.");
        return;
    };
    // A stale domain: what its latest probes found, then the last known state that counts.
    let result = match (latest.last_known.as_deref(), latest.stale_since) {
        (Some(known), Some(since)) => {
            stale_ui(ui, latest, known, since, dark_mode);
            known
        }
        _ => latest,
    };
    summary_ui(ui, result, dark_mode);
    ui.separator();
    super::detail_auth::domain_auth_ui(ui, result, dark_mode);
    ui.separator();
    ui.label(egui::RichText::new("MX hosts").strong());
    if result.mx.is_empty() {
        ui.label("No MX host.");
    }
    for host in &result.mx {
        host_ui(ui, host, dark_mode);
    }
    ui.separator();
    // The history chart next to the text timeline: the same runs, drawn over time.
    super::history_chart::history_chart_ui(ui, &detail.history, warning_days);
    ui.add_space(4.0);
    timeline_ui(ui, detail, dark_mode);
}

/// The stale banner: since when the domain was untestable and why, and that the state below
/// is the last known one.
fn stale_ui(
    ui: &mut egui::Ui,
    latest: &DomainResult,
    known: &DomainResult,
    since: time::OffsetDateTime,
    dark_mode: bool,
) {
    let grade = domain_grade(known);
    let text = describe_stale(
        since,
        &stale::why_untestable(latest),
        grade,
        known.probed_at,
    );
    ui.horizontal_wrapped(|ui| {
        ui.label(stale_mark(dark_mode));
        ui.label(egui::RichText::new(text).color(Grade::Untestable.color(dark_mode)))
            .on_hover_text(
                "The latest probes could not test this domain (an outage, not an answer): it \
                 keeps its last known state in every count for stale_max_days days after that \
                 state was last confirmed. NXDOMAIN or a null MX replace it at once.",
            );
    });
    ui.label(format!(
        "Latest probe {} UTC: untestable. Last known state, confirmed {} UTC:",
        format_time(latest.probed_at),
        format_time(known.probed_at)
    ));
    ui.add_space(4.0);
}

/// The app's label of a result (DESIGN.md's order: at risk first).
fn domain_grade(result: &DomainResult) -> Grade {
    Grade::of_domain(
        result.sender.map(|sender| sender.at_risk),
        Some(result.verdict),
        result.pfs,
        result.strict_valid,
        result.tls_grade,
    )
}

fn summary_ui(ui: &mut egui::Ui, result: &DomainResult, dark_mode: bool) {
    let grade = domain_grade(result);
    ui.horizontal_wrapped(|ui| {
        ui.label(grade.badge(dark_mode).size(16.0))
            .on_hover_text(grade.meaning());
        if result.sender.is_some_and(|sender| sender.authenticated) {
            ui.label(style::authenticated_badge(dark_mode))
                .on_hover_text(crate::model::words::AUTHENTICATED_MEANING);
        }
    });
    egui::Grid::new("detail_summary")
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            ui.label("STARTTLS");
            ui.label(style::flag(result.starttls, dark_mode));
            ui.end_row();
            ui.label("Forward secrecy");
            ui.label(style::tls_flag(result.pfs, Some(result.verdict), dark_mode));
            ui.end_row();
            ui.label("Strict validation");
            ui.label(style::tls_flag(
                result.strict_valid,
                Some(result.verdict),
                dark_mode,
            ));
            ui.end_row();
            ui.label("TLS grade");
            ui.label(tls_grade_text(result.tls_grade, dark_mode))
                .on_hover_text("NCSC-NL TLS guidelines v2.1: the worst over the addresses");
            ui.end_row();
            // Words for people, the stable code (JSON, CSV) on hover: one name per result.
            ui.label("Verdict");
            ui.label(grade.badge(dark_mode))
                .on_hover_text(format!("verdict code: {}", result.verdict.as_str()));
            ui.end_row();
            if let Some(error) = result.dns_error {
                ui.label("DNS");
                ui.label(error.as_str());
                ui.end_row();
            }
            ui.label("Probed");
            ui.label(format!("{} UTC", format_time(result.probed_at)));
            ui.end_row();
        });
    let untestable = result.untestable_host_count();
    if result.every_mx_host_dangles() {
        ui.label(
            egui::RichText::new(format!(
                "cannot receive mail: none of its {} MX hosts has an address",
                result.mx.len()
            ))
            .color(Grade::NoStarttls.color(dark_mode)),
        );
    } else if untestable > 0 && !result.mx.is_empty() {
        ui.label(
            egui::RichText::new(format!(
                "{untestable} of {} MX hosts untestable (not counted against the domain)",
                result.mx.len()
            ))
            .color(Grade::Untestable.color(dark_mode)),
        );
    }
}

fn host_ui(ui: &mut egui::Ui, host: &MxResult, dark_mode: bool) {
    let grade = host_grade(host);
    let mut title = format!("{}  {}", host.preference, host.host);
    if host.implicit {
        title.push_str("  (implicit MX: the domain's own address)");
    }
    egui::CollapsingHeader::new(
        egui::RichText::new(format!("{title}   {} {}", grade.icon(), grade.label()))
            .color(grade.color(dark_mode)),
    )
    .id_salt(("mx", &host.host))
    .default_open(true)
    .show(ui, |ui| {
        if let Some(target) = &host.cname_target {
            ui.label(format!(
                "CNAME to {target} (certificate checked against {})",
                host.host
            ));
        }
        if let Some(error) = host.dns_error {
            ui.label(format!("DNS: {}", error.as_str()));
        }
        if host.addresses.is_empty() && host.dns_error.is_none() {
            ui.label("No addresses.");
        }
        super::detail_auth::host_auth_ui(ui, host, dark_mode);
        for address in &host.addresses {
            address_ui(ui, &host.host, address, dark_mode);
        }
    });
}

/// One name/value row of an address's grid.
fn field_row(ui: &mut egui::Ui, name: &str, value: String) {
    ui.label(name);
    ui.add(egui::Label::new(value).wrap());
    ui.end_row();
}

fn host_grade(host: &MxResult) -> Grade {
    let all = |value: fn(&AddressResult) -> Option<bool>| {
        let testable: Vec<&AddressResult> = host
            .addresses
            .iter()
            .filter(|a| a.outcome != crate::model::Outcome::Untestable)
            .collect();
        (!testable.is_empty()).then(|| testable.iter().all(|a| value(a) == Some(true)))
    };
    let tls_grade = crate::model::TlsGrade::worst(
        host.addresses
            .iter()
            .filter(|a| a.outcome == crate::model::Outcome::TlsOk)
            .filter_map(|a| a.tls_grade),
    );
    Grade::of(
        Some(host.verdict),
        all(|a| a.pfs),
        all(|a| a.strict_valid),
        tls_grade,
    )
}

fn address_ui(ui: &mut egui::Ui, host: &str, address: &AddressResult, dark_mode: bool) {
    let grade = Grade::of_outcome(
        address.outcome,
        address.pfs,
        address.strict_valid,
        address.tls_grade,
    );
    egui::CollapsingHeader::new(
        egui::RichText::new(format!(
            "{}   {} {}",
            address.ip,
            grade.icon(),
            grade.label()
        ))
        .color(grade.color(dark_mode)),
    )
    .id_salt(("address", host, address.ip))
    .default_open(true)
    .show(ui, |ui| {
        ui.label(&address.detail);
        egui::Grid::new(("address_grid", host, address.ip))
            .num_columns(2)
            .spacing([12.0, 2.0])
            .striped(true)
            .show(ui, |ui| {
                if let Some(code) = address.smtp_code {
                    field_row(
                        ui,
                        "Reply",
                        format!("{code} {}", address.smtp_text.as_deref().unwrap_or("")),
                    );
                }
                if let Some(advertised) = address.starttls_advertised {
                    field_row(ui, "STARTTLS offered", yes_no(Some(advertised), "").into());
                }
                if let Some(version) = address.tls_version {
                    field_row(ui, "TLS version", version.as_str().to_string());
                }
                if let Some(suite) = &address.cipher_suite {
                    field_row(ui, "Cipher suite", suite.clone());
                }
                if let Some(group) = &address.kx_group {
                    field_row(ui, "Key exchange", group.clone());
                }
                if let Some(pfs) = address.pfs {
                    field_row(ui, "Forward secrecy", yes_no(Some(pfs), "").into());
                }
                if let Some(tls_grade) = address.tls_grade {
                    ui.label("TLS grade");
                    ui.label(tls_grade_text(Some(tls_grade), dark_mode))
                        .on_hover_text(
                            "NCSC-NL TLS guidelines v2.1: the worst of the grades of the \
                             version, the key exchange and the cipher suite",
                        );
                    ui.end_row();
                }
                if address.legacy_tls == Some(true) {
                    field_row(
                        ui,
                        "Legacy TLS",
                        "yes: only an older TLS client (OpenSSL fallback) could connect".into(),
                    );
                }
                if let Some(prefers) = address.prefers_non_pfs {
                    field_row(
                        ui,
                        "Prefers non-PFS",
                        if prefers {
                            "yes: chose RSA key exchange when a sender offered it first".into()
                        } else {
                            "no".into()
                        },
                    );
                }
                if let Some(strict) = address.strict_valid {
                    field_row(ui, "Strict validation", yes_no(Some(strict), "").into());
                }
                super::detail_auth::address_auth_rows(ui, address, dark_mode);
                if !address.cert_errors.is_empty() {
                    let reasons: Vec<&str> = address
                        .cert_errors
                        .iter()
                        .map(|error| describe_cert_error(*error))
                        .collect();
                    field_row(ui, "Why not strict", reasons.join("; "));
                }
                if let Some(subject) = &address.cert_subject {
                    field_row(ui, "Subject", subject.clone());
                }
                if let Some(sans) = &address.cert_sans {
                    field_row(ui, "Names (SAN)", sans.join(", "));
                }
                if let Some(issuer) = &address.cert_issuer {
                    field_row(ui, "Issuer", issuer.clone());
                }
                if let (Some(from), Some(until)) = (address.cert_not_before, address.cert_not_after)
                {
                    field_row(
                        ui,
                        "Valid",
                        format!("{} – {}", format_time(from), format_time(until)),
                    );
                }
                if let Some(days) = address.cert_days_left {
                    field_row(
                        ui,
                        "Days to expiry",
                        if days < 0 {
                            format!("expired {} days ago", -days)
                        } else {
                            days.to_string()
                        },
                    );
                }
                if let Some(key) = &address.cert_key {
                    field_row(ui, "Key", key.clone());
                }
                if let Some(sha256) = &address.cert_sha256 {
                    field_row(ui, "SHA-256", sha256.clone());
                }
                field_row(ui, "Took", format!("{} ms", address.elapsed_ms));
            });
        if !address.ehlo_before_tls.is_empty() {
            egui::CollapsingHeader::new(format!(
                "EHLO before TLS ({})",
                address.ehlo_before_tls.len()
            ))
            .id_salt(("ehlo_before", host, address.ip))
            .show(ui, |ui| {
                for line in &address.ehlo_before_tls {
                    ui.monospace(line);
                }
            });
        }
        if !address.ehlo_after_tls.is_empty() {
            egui::CollapsingHeader::new(format!(
                "EHLO after TLS ({})",
                address.ehlo_after_tls.len()
            ))
            .id_salt(("ehlo_after", host, address.ip))
            .show(ui, |ui| {
                for line in &address.ehlo_after_tls {
                    ui.monospace(line);
                }
            });
        }
    });
}

fn timeline_ui(ui: &mut egui::Ui, detail: &DomainDetail, dark_mode: bool) {
    ui.label(egui::RichText::new("Timeline").strong());
    if detail.history.is_empty() {
        ui.label("No stored results yet.");
    }
    egui::Grid::new("timeline")
        .num_columns(3)
        .spacing([12.0, 2.0])
        .striped(true)
        .show(ui, |ui| {
            for run in detail.history.iter().rev() {
                let result = &run.result;
                let grade = domain_grade(result);
                ui.label(if run.first_at == run.last_at {
                    format_time(run.first_at)
                } else {
                    format!(
                        "{} to {}",
                        format_time(run.first_at),
                        format_time(run.last_at)
                    )
                });
                ui.label(grade.badge(dark_mode));
                ui.label(if run.times_seen == 1 {
                    "seen once".to_string()
                } else {
                    format!("seen {} times", run.times_seen)
                });
                ui.end_row();
            }
        });
    if !detail.events.is_empty() {
        ui.add_space(6.0);
        ui.label(egui::RichText::new("Changes").strong());
        for event in &detail.events {
            let color = if event.regression {
                Grade::NoStarttls.color(dark_mode)
            } else {
                Grade::Secure.color(dark_mode)
            };
            ui.label(
                egui::RichText::new(format!(
                    "{}  {} {}",
                    format_time(event.at),
                    if event.regression { "⏷" } else { "⏶" },
                    event.detail
                ))
                .color(color),
            );
        }
    }
}
