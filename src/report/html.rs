//! The HTML report: one self-contained file that opens in any browser, in the spirit of
//! Facebook's 2014 STARTTLS report and Google's "Safer email" page.
//!
//! Owns: the page's sections and styles. Every string that came from a server, a file or the
//! user (domain and host names, certificate subjects and issuers, event details, the list
//! name) goes through [`escape`]. The page loads nothing: styles are inline, charts are inline
//! SVG, there is no script, and a Content-Security-Policy forbids any request anyway.

use std::borrow::Cow;
use std::io::Write;

use time::OffsetDateTime;

use super::charts::{self, Series};
use super::{
    DomainFacts, EXPIRING_SOON_DAYS, ExportSummary, ReportError, Scope, days_left, rfc3339,
};
use crate::model::adoption::{
    AdoptionState, Basis, HostFold, HostTrendCounts, Measure, TrendCounts, TrendPoint, day_number,
    share, share_series,
};
use crate::model::format::{PercentFormat, yes_no};
use crate::model::{DomainName, DomainResult, Outcome, Verdict};
use crate::store::{EventRow, Store};

/// Rows shown at most in the expiring-certificates and regressions tables.
const MAX_DETAIL_ROWS: usize = 1_000;
/// Without `--since`, regressions are looked for over this many days.
const DEFAULT_PERIOD_DAYS: i64 = 30;
/// Providers shown in the breakdown.
const MAX_PROVIDERS: usize = 25;

/// HTML-escapes text for element content and quoted attributes alike.
pub fn escape(text: &str) -> Cow<'_, str> {
    html_escape::encode_safe(text)
}

/// One row of the domain table.
struct TableRow {
    domain: DomainName,
    verdict: Option<Verdict>,
    starttls: Option<bool>,
    pfs: Option<bool>,
    strict_valid: Option<bool>,
    facts: DomainFacts,
    probed_at: Option<OffsetDateTime>,
}

/// A certificate that ends soon (or has ended).
struct Expiring {
    days_left: i64,
    domain: DomainName,
    host: String,
    ip: String,
    not_after: OffsetDateTime,
    subject: String,
    issuer: String,
}

/// Everything the page shows about the latest results, gathered in one walk.
#[derive(Default)]
struct Latest {
    /// Counts of the probed domains.
    domains: TrendCounts,
    /// Domains in the scope without any result yet (not in `domains`).
    not_probed: usize,
    hosts: HostFold,
    rows: Vec<TableRow>,
    expiring: Vec<Expiring>,
}

impl Latest {
    fn add(&mut self, domain: DomainName, latest: Option<DomainResult>, now: OffsetDateTime) {
        let Some(result) = latest else {
            self.not_probed += 1;
            self.rows.push(TableRow {
                domain,
                verdict: None,
                starttls: None,
                pfs: None,
                strict_valid: None,
                facts: DomainFacts::default(),
                probed_at: None,
            });
            return;
        };
        self.domains.add(AdoptionState::of_domain(&result));
        self.hosts.add_result(&result);
        for host in &result.mx {
            for address in &host.addresses {
                if address.outcome != Outcome::TlsOk {
                    continue;
                }
                let Some(not_after) = address.cert_not_after else {
                    continue;
                };
                let days = days_left(not_after, now);
                if days <= EXPIRING_SOON_DAYS {
                    self.expiring.push(Expiring {
                        days_left: days,
                        domain: result.domain.clone(),
                        host: host.host.clone(),
                        ip: address.ip.to_string(),
                        not_after,
                        subject: address.cert_subject.clone().unwrap_or_default(),
                        issuer: address.cert_issuer.clone().unwrap_or_default(),
                    });
                }
            }
        }
        self.rows.push(TableRow {
            facts: DomainFacts::of(&result),
            domain,
            verdict: Some(result.verdict),
            starttls: result.starttls,
            pfs: result.pfs,
            strict_valid: result.strict_valid,
            probed_at: Some(result.probed_at),
        });
    }
}

/// A share as the page writes it, e.g. `33.3 %` (`–` of nothing).
fn percent(part: usize, whole: usize) -> String {
    PercentFormat::TYPESET.of(part, whole)
}

/// A yes / no / – table cell, coloured by its class.
fn yes_no_cell(value: Option<bool>) -> String {
    format!(
        "<td class=\"{}\">{}</td>",
        yes_no(value, "na"),
        yes_no(value, "–")
    )
}

/// A domain name for people: the Unicode form, with the ASCII form beside it where it
/// differs. Escaped.
fn domain_html(domain: &DomainName) -> String {
    let ascii = domain.as_str();
    let shown = domain.display_name();
    if shown == ascii {
        escape(ascii).into_owned()
    } else {
        format!(
            "{} <span class=\"note\">({})</span>",
            escape(&shown),
            escape(ascii)
        )
    }
}

/// [`domain_html`] for a name stored as text (escaped as it is when it is not a valid name).
fn domain_text_html(name: &str) -> String {
    DomainName::parse(name)
        .map_or_else(|_| escape(name).into_owned(), |domain| domain_html(&domain))
}

fn date_of(at: OffsetDateTime) -> String {
    at.date().to_string()
}

const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 24px; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.meta { color: #555; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 12px; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: 12px 16px; }
.card .figure { font-size: 2em; font-weight: 600; }
.card .label { color: #555; }
.card.headline { border-color: #6a3d9a; background: #f7f3fb; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin-top: 0.6em; }
.wide { overflow-x: auto; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f5f5f7; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.yes { color: #1a7f37; } td.no { color: #b3261e; font-weight: 600; } td.na { color: #999; }
.verdict-tls_ok { color: #1a7f37; } .verdict-no_starttls, .verdict-tls_failed { color: #b3261e; font-weight: 600; }
.verdict-untestable, .verdict-no_mail, .verdict-not_probed { color: #777; }
.worse { color: #b3261e; font-weight: 600; } .better { color: #1a7f37; }
.chart svg { width: 100%; height: auto; max-width: 880px; }
.note { color: #555; font-size: 0.9em; }
dl dt { font-weight: 600; margin-top: 0.6em; } dl dd { margin-left: 1.2em; }
code { background: #f5f5f7; padding: 0 3px; border-radius: 3px; }
";

pub(super) fn write(
    store: &Store,
    scope: &Scope,
    out: &mut dyn Write,
) -> Result<ExportSummary, ReportError> {
    let now = scope.generated_at;
    let mut latest = Latest::default();
    store.each_latest_result(scope.list, |domain, result| {
        latest.add(domain, result, now);
        Ok::<(), ReportError>(())
    })?;
    latest
        .expiring
        .sort_by(|a, b| (a.days_left, &a.domain, &a.host).cmp(&(b.days_left, &b.domain, &b.host)));
    let points = store.trends(scope.list, scope.since)?;
    let period_start = scope
        .since_time()
        .unwrap_or(now - time::Duration::days(DEFAULT_PERIOD_DAYS));
    let events: Vec<EventRow> = store
        .events(scope.list, None, Some(period_start), i64::MAX as usize)?
        .into_iter()
        .filter(|event| event.regression)
        .collect();
    let host_counts = latest.hosts.counts();
    let summary = ExportSummary {
        domains: latest.domains.total + latest.not_probed,
        probed: latest.domains.total,
        rows: latest.rows.len(),
        trend_points: points.len(),
        events: events.len().min(MAX_DETAIL_ROWS),
        bytes: 0,
    };

    let scope_name = match &scope.list_name {
        Some(name) => format!("list “{}”", escape(name)),
        None => "all domains".to_string(),
    };
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"starttls-monitor {version}\">\n\
         <title>Mail transport security report: {scope_name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Mail transport security report</h1>\n\
         <p class=\"meta\">{scope_name} · {domains} domains, {probed} probed · generated {generated} UTC{since}</p>\n",
        version = env!("CARGO_PKG_VERSION"),
        domains = summary.domains,
        probed = summary.probed,
        generated = escape(&rfc3339(now)),
        since = scope
            .since
            .map(|date| format!(" · trends and events since {date}"))
            .unwrap_or_default(),
    )?;

    headline_section(out, &latest.domains, latest.not_probed, &host_counts)?;
    trends_section(out, &points)?;
    regressions_section(out, &points, &events, period_start, scope.since.is_some())?;
    expiring_section(out, &latest.expiring)?;
    providers_section(out, store, scope)?;
    domain_table(out, &latest.rows, now)?;
    definitions_section(out)?;
    writeln!(
        out,
        "<p class=\"note\">Made by starttls-monitor {}. This file is self-contained: it loads nothing from anywhere.</p>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    )?;
    Ok(summary)
}

fn headline_section(
    out: &mut dyn Write,
    domains: &TrendCounts,
    not_probed: usize,
    hosts: &HostTrendCounts,
) -> Result<(), ReportError> {
    writeln!(out, "<h2 id=\"headline\">Headline figures</h2>")?;
    let mut domain_notes = vec![
        format!("{} untestable", domains.untestable),
        format!("{} accept no mail (null MX)", domains.no_mail),
    ];
    if not_probed > 0 {
        domain_notes.push(format!("{not_probed} not probed yet"));
    }
    let figures = [
        (
            "domains",
            domains.total + not_probed,
            domains.testable,
            Measure::RATES.map(|measure| domains.fraction(measure)),
            domain_notes,
        ),
        (
            "MX hosts",
            hosts.total,
            hosts.testable,
            Measure::RATES.map(|measure| hosts.fraction(measure)),
            vec![format!("{} untestable", hosts.untestable)],
        ),
    ];
    for (what, total, testable, fractions, notes) in figures {
        writeln!(
            out,
            "<h3>{what}: {testable} testable of {total}</h3>\n<div class=\"cards\">"
        )?;
        for (measure, (count, of)) in Measure::RATES.into_iter().zip(fractions) {
            let (label, class) = match measure {
                Measure::Starttls => ("with STARTTLS", ""),
                Measure::Pfs => ("with forward secrecy (PFS)", ""),
                Measure::StrictValid => ("with a strictly valid certificate", ""),
                Measure::AllThree | Measure::Untestable => ("with all three", " headline"),
            };
            writeln!(
                out,
                "<div class=\"card{class}\"><div class=\"figure\">{}</div><div class=\"label\">of testable {what} {label} ({count} of {of})</div></div>",
                percent(count, of),
            )?;
        }
        writeln!(out, "</div>")?;
        writeln!(
            out,
            "<p class=\"note\">Not counted in the shares: {}.</p>",
            notes.join(", ")
        )?;
    }
    Ok(())
}

/// The four share series of `basis` for a chart (days with nothing testable have no point).
fn series_of(points: &[TrendPoint], basis: Basis) -> Vec<Series> {
    share_series(points, basis, &Measure::RATES)
        .into_iter()
        .map(|series| {
            let (name, color) = match series.measure {
                Measure::Starttls => ("STARTTLS", charts::STARTTLS_COLOR),
                Measure::Pfs => ("PFS", charts::PFS_COLOR),
                Measure::StrictValid => ("strict", charts::STRICT_COLOR),
                Measure::AllThree | Measure::Untestable => ("all three", charts::ALL_THREE_COLOR),
            };
            Series {
                name,
                color,
                points: series
                    .points
                    .iter()
                    .map(|point| (day_number(point.date), point.percent))
                    .collect(),
            }
        })
        .collect()
}

fn trends_section(out: &mut dyn Write, points: &[TrendPoint]) -> Result<(), ReportError> {
    writeln!(out, "<h2 id=\"trends\">Trends</h2>")?;
    if points.is_empty() {
        writeln!(
            out,
            "<p class=\"note\">No finished scans in this period yet: trends appear after the first scan.</p>"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "<p class=\"note\">Share of testable domains and of testable unique MX hosts, per UTC day with results; each domain counted by its latest result as of the end of that day.</p>"
    )?;
    for (title, basis) in [
        ("Domains: share of testable domains", Basis::Domains),
        ("MX hosts: share of testable MX hosts", Basis::MxHosts),
    ] {
        let svg = charts::share_chart(title, &series_of(points, basis))?;
        writeln!(out, "<figure class=\"chart\">{svg}</figure>")?;
    }
    let mut untestable = Vec::new();
    for point in points {
        let d = &point.domains;
        untestable.push(format!(
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            point.date,
            d.total,
            d.testable,
            d.untestable,
            d.no_mail
        ));
    }
    writeln!(
        out,
        "<details><summary>Counts per day</summary><div class=\"wide\"><table><thead><tr><th>date</th><th class=\"num\">domains</th><th class=\"num\">testable</th><th class=\"num\">untestable</th><th class=\"num\">no mail</th></tr></thead><tbody>{}</tbody></table></div></details>",
        untestable.join("")
    )?;
    Ok(())
}

fn regressions_section(
    out: &mut dyn Write,
    points: &[TrendPoint],
    events: &[EventRow],
    period_start: OffsetDateTime,
    explicit_since: bool,
) -> Result<(), ReportError> {
    writeln!(
        out,
        "<h2 id=\"regressions\">Regressions since {}</h2>",
        date_of(period_start)
    )?;
    if !explicit_since {
        writeln!(
            out,
            "<p class=\"note\">The last {DEFAULT_PERIOD_DAYS} days (choose another start with <code>--since</code>).</p>"
        )?;
    }
    let start_day = period_start.date();
    let before = points
        .iter()
        .rfind(|point| point.date <= start_day)
        .or_else(|| points.first());
    if let (Some(before), Some(after)) = (before, points.last())
        && before.date != after.date
    {
        writeln!(
            out,
            "<div class=\"wide\"><table><thead><tr><th>share of testable domains</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">change</th></tr></thead><tbody>",
            before.date, after.date
        )?;
        let (b, a) = (&before.domains, &after.domains);
        for (label, was, now) in [
            ("STARTTLS", b.starttls, a.starttls),
            ("PFS", b.pfs, a.pfs),
            ("strict", b.strict_valid, a.strict_valid),
            ("all three", b.all_three, a.all_three),
        ] {
            let (was_share, now_share) = (share(was, b.testable), share(now, a.testable));
            let change = match (was_share, now_share) {
                (Some(was), Some(now)) => {
                    let delta = now - was;
                    let class = if delta < -0.05 {
                        "worse"
                    } else if delta > 0.05 {
                        "better"
                    } else {
                        ""
                    };
                    format!("<td class=\"num {class}\">{delta:+.1} pp</td>")
                }
                _ => "<td class=\"num\">–</td>".to_string(),
            };
            writeln!(
                out,
                "<tr><td>{label}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{change}</tr>",
                percent(was, b.testable),
                percent(now, a.testable)
            )?;
        }
        writeln!(out, "</tbody></table></div>")?;
    }
    if events.is_empty() {
        writeln!(
            out,
            "<p class=\"note\">No regression events (STARTTLS lost, PFS lost, certificate became invalid, certificate expiring) in this period.</p>"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "<p>{} regression event(s){}.</p>\n<div class=\"wide\"><table><thead><tr><th>when (UTC)</th><th>domain</th><th>what</th><th>detail</th></tr></thead><tbody>",
        events.len(),
        if events.len() > MAX_DETAIL_ROWS {
            format!(", the newest {MAX_DETAIL_ROWS} shown")
        } else {
            String::new()
        }
    )?;
    for event in events.iter().take(MAX_DETAIL_ROWS) {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&rfc3339(event.at)),
            domain_text_html(&event.domain),
            escape(event.kind.as_str()),
            escape(&event.detail)
        )?;
    }
    writeln!(out, "</tbody></table></div>")?;
    Ok(())
}

fn expiring_section(out: &mut dyn Write, expiring: &[Expiring]) -> Result<(), ReportError> {
    writeln!(
        out,
        "<h2 id=\"expiring\">Certificates expiring within {EXPIRING_SOON_DAYS} days or expired</h2>"
    )?;
    if expiring.is_empty() {
        writeln!(out, "<p class=\"note\">None.</p>")?;
        return Ok(());
    }
    writeln!(
        out,
        "<div class=\"wide\"><table><thead><tr><th class=\"num\">days left</th><th>not after</th><th>domain</th><th>MX host</th><th>address</th><th>subject</th><th>issuer</th></tr></thead><tbody>"
    )?;
    for cert in expiring.iter().take(MAX_DETAIL_ROWS) {
        writeln!(
            out,
            "<tr><td class=\"num{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if cert.days_left < 0 { " worse" } else { "" },
            cert.days_left,
            escape(&date_of(cert.not_after)),
            domain_html(&cert.domain),
            escape(&cert.host),
            escape(&cert.ip),
            escape(&cert.subject),
            escape(&cert.issuer)
        )?;
    }
    writeln!(out, "</tbody></table></div>")?;
    if expiring.len() > MAX_DETAIL_ROWS {
        writeln!(
            out,
            "<p class=\"note\">{} more not shown; the CSV export with --per-address lists them all.</p>",
            expiring.len() - MAX_DETAIL_ROWS
        )?;
    }
    Ok(())
}

fn providers_section(out: &mut dyn Write, store: &Store, scope: &Scope) -> Result<(), ReportError> {
    writeln!(out, "<h2 id=\"providers\">Mail providers</h2>")?;
    let providers = store.providers(scope.list, MAX_PROVIDERS)?;
    if providers.is_empty() {
        writeln!(out, "<p class=\"note\">No results yet.</p>")?;
        return Ok(());
    }
    writeln!(
        out,
        "<p class=\"note\">By the registrable domain of each domain's primary MX host; the {MAX_PROVIDERS} largest.</p>\n\
         <div class=\"wide\"><table><thead><tr><th>provider</th><th class=\"num\">domains</th><th class=\"num\">testable</th><th class=\"num\">STARTTLS</th><th class=\"num\">PFS</th><th class=\"num\">strict</th><th class=\"num\">all three</th></tr></thead><tbody>"
    )?;
    for provider in providers {
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&provider.provider),
            provider.counts.total,
            provider.counts.testable,
            percent(provider.counts.starttls, provider.counts.testable),
            percent(provider.counts.pfs, provider.counts.testable),
            percent(provider.counts.strict_valid, provider.counts.testable),
            percent(provider.counts.all_three, provider.counts.testable),
        )?;
    }
    writeln!(out, "</tbody></table></div>")?;
    Ok(())
}

fn domain_table(
    out: &mut dyn Write,
    rows: &[TableRow],
    now: OffsetDateTime,
) -> Result<(), ReportError> {
    writeln!(
        out,
        "<h2 id=\"domains\">All domains ({})</h2>\n<div class=\"wide\"><table><thead><tr><th>domain</th><th>verdict</th><th>STARTTLS</th><th>PFS</th><th>strict</th><th>lowest TLS</th><th>MX hosts</th><th>provider</th><th>certificate errors</th><th class=\"num\">cert days left</th><th>last probed (UTC)</th></tr></thead><tbody>",
        rows.len()
    )?;
    for row in rows {
        let name = domain_html(&row.domain);
        let verdict = row.verdict.map_or("not_probed", Verdict::as_str);
        let mut hosts = row
            .facts
            .mx_hosts
            .iter()
            .map(|host| escape(host).into_owned())
            .collect::<Vec<_>>()
            .join("<br>");
        if row.facts.untestable_hosts > 0 && row.verdict != Some(Verdict::Untestable) {
            hosts.push_str(&format!(
                "<br><span class=\"note\">{} of {} untestable</span>",
                row.facts.untestable_hosts,
                row.facts.mx_hosts.len()
            ));
        }
        writeln!(
            out,
            "<tr><td>{name}</td><td class=\"verdict-{verdict}\">{}</td>{}{}{}<td>{}{}</td><td>{hosts}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            verdict.replace('_', " "),
            yes_no_cell(row.starttls),
            yes_no_cell(row.pfs),
            yes_no_cell(row.strict_valid),
            row.facts.lowest_tls.map_or("", |v| v.as_str()),
            if row.facts.legacy_tls {
                " (legacy)"
            } else {
                ""
            },
            escape(row.facts.provider.as_deref().unwrap_or("")),
            escape(&row.facts.cert_errors.join(", ")),
            row.facts
                .earliest_not_after
                .map(|at| days_left(at, now).to_string())
                .unwrap_or_default(),
            row.probed_at
                .map(|at| escape(&rfc3339(at)).into_owned())
                .unwrap_or_default(),
        )?;
    }
    writeln!(out, "</tbody></table></div>")?;
    Ok(())
}

fn definitions_section(out: &mut dyn Write) -> Result<(), ReportError> {
    writeln!(
        out,
        "<h2 id=\"definitions\">What the figures mean</h2>\n<dl>\n\
<dt>Per MX address, one outcome</dt>\
<dd><b>untestable</b>: we could not find out (DNS failure, connection refused or timed out, greeting 421/554, garbage). Not the same as “no STARTTLS”: left out of every share.<br>\
<b>no STARTTLS</b>: the server answered EHLO but did not offer STARTTLS; mail to it travels in plain text.<br>\
<b>TLS failed</b>: STARTTLS was offered but refused, or the TLS handshake failed (also with the legacy fallback).<br>\
<b>TLS ok</b>: the handshake completed.</dd>\n\
<dt>PFS (forward secrecy)</dt><dd>TLS 1.3, or TLS 1.2 and older with an ECDHE or DHE key exchange. Plain RSA key exchange is not forward secret.</dd>\n\
<dt>Strict validation</dt><dd>The certificate chain leads to a Mozilla root, the certificate is in date, and a subjectAltName matches the MX host name as written in the MX record (never the mail domain; a wildcard covers one left-most label).</dd>\n\
<dt>A domain</dt><dd>is only as safe as its weakest MX: over every testable address of every MX host, the verdict is the worst outcome; STARTTLS means every testable address completed TLS; PFS and strict mean, on top of that, every testable address was forward secret / strictly valid. A domain with a null MX (<code>MX 0 .</code>) accepts no mail and is left out; a domain without MX records is probed on its own address (implicit MX, RFC 5321 section 5.1).</dd>\n\
<dt>Shares</dt><dd>Every share is of <em>testable</em> domains (or unique MX hosts): untestable and no-mail domains, and domains not probed yet, are not in the denominator. “All three” is STARTTLS with PFS and strict validation together, the headline figure.</dd>\n\
<dt>Trends</dt><dd>One point per UTC day with results, each domain counted by its latest result as of the end of that day.</dd>\n\
<dt>Regressions</dt><dd>Change events that make things worse: STARTTLS lost, PFS lost, certificate became invalid, certificate expiring soon.</dd>\n\
<dt>Certificate days left</dt><dd>Whole days from the time this report was made until the earliest certificate end date; negative once expired.</dd>\n\
</dl>"
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_makes_markup_inert() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2F;script&gt;&amp;&quot;"
        );
    }

    #[test]
    fn percent_of_nothing_is_a_dash() {
        assert_eq!(percent(1, 0), "–");
        assert_eq!(percent(1, 3), "33.3 %");
    }
}
