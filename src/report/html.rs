//! The HTML report: one self-contained file that opens in any browser, in the spirit of
//! Facebook's 2014 STARTTLS report and Google's "Safer email" page.
//!
//! Owns: the page's sections (one function each, returning [`Markup`]) and styles. The page is
//! written with `maud` templates, which HTML-escape every spliced value by default, so a string
//! from a server, a file or the user (domain and host names, certificate subjects and issuers,
//! event details, provider and list names) is escaped without anyone having to remember it.
//! Those strings are spliced as [`Untrusted`], which also escapes `'` and `/`, so the page's
//! source holds no URL-looking text from outside. The only text inserted unescaped
//! ([`PreEscaped`]) is ours: the style sheet below and the charts' SVG, whose every label is
//! ours too (see `charts`' module doc). The page loads nothing: styles are inline, charts are
//! inline SVG, there is no script, and a Content-Security-Policy forbids any request anyway.
//! Must not touch: the store beyond reading what the page shows (in [`write`], before any
//! markup is made); the network.

use std::io::Write;

use maud::{DOCTYPE, Markup, PreEscaped, Render, html};
use time::OffsetDateTime;

use super::charts::{self, Series};
use super::{
    DomainFacts, EXPIRING_SOON_DAYS, ExportSummary, ReportError, Scope, days_left, rfc3339,
};
use crate::model::adoption::{
    AdoptionState, Basis, HostFold, HostTrendCounts, Measure, TrendCounts, TrendPoint,
    VolumeCounts, day_number, share, share_series, volume_share, volume_share_series,
};
use crate::model::format::{PercentFormat, yes_no};
use crate::model::stale;
use crate::model::weight::format_volume;
use crate::model::words::Grade;
use crate::model::{DomainName, DomainResult, Outcome, TlsGrade, Verdict};
use crate::store::{EventRow, ProviderRow, Store};

/// Rows shown at most in the expiring-certificates and regressions tables.
const MAX_DETAIL_ROWS: usize = 1_000;
/// Without `--since`, regressions are looked for over this many days.
const DEFAULT_PERIOD_DAYS: i64 = 30;
/// Providers shown in the breakdown.
const MAX_PROVIDERS: usize = 25;
/// The labels that make a domain a problem domain, worst first (the order of the problem
/// section, above [`super::FULL_TABLE_MAX_DOMAINS`]). A domain's label is the one the domain
/// table and the app give it ([`TableRow::grade`], `Grade::of_domain`); encrypted is the one
/// of a certificate that is not strictly valid or of no forward secrecy.
const PROBLEM_GRADES: [Grade; 5] = [
    Grade::AtRisk,
    Grade::NoStarttls,
    Grade::TlsFailed,
    Grade::Encrypted,
    Grade::WeakTls,
];
/// Problem domains listed at most per label (so at most 1,000 rows, about 0.5 MB of page,
/// whatever the size of the list); the counts are always whole.
const MAX_PROBLEM_ROWS_PER_GRADE: usize = 200;
/// The page's policy: nothing may be loaded or run; only its own inline styles and `data:`
/// images apply.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/// The program version, in the generator tag and the footer.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One row of the domain table.
struct TableRow {
    domain: DomainName,
    verdict: Option<Verdict>,
    starttls: Option<bool>,
    pfs: Option<bool>,
    strict_valid: Option<bool>,
    tls_grade: Option<TlsGrade>,
    facts: DomainFacts,
    probed_at: Option<OffsetDateTime>,
    /// While the domain shows its last known state (`model::stale`): since when its probes
    /// were untestable, and why.
    stale: Option<(OffsetDateTime, String)>,
    /// DANE, MTA-STS, authenticated and at risk in words ([`auth_words`]); None without the
    /// facts.
    auth: Option<String>,
    /// `sender.at_risk`: the label is "at risk" first (DESIGN.md's label order); None without
    /// the sender view (older results).
    at_risk: Option<bool>,
}

impl TableRow {
    /// The domain's label, as the app gives it (at risk first).
    fn grade(&self) -> Grade {
        Grade::of_domain(
            self.at_risk,
            self.verdict,
            self.pfs,
            self.strict_valid,
            self.tls_grade,
        )
    }
}

/// Which domains the page lists one by one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Listing {
    /// Every domain, in the full domain table (scopes up to the threshold).
    #[default]
    AllDomains,
    /// The problem domains only, at most [`MAX_PROBLEM_ROWS_PER_GRADE`] of each label, with
    /// a pointer to the CSV and JSON exports (scopes above the threshold).
    Problems,
}

/// The problem domains of a scope: per label of [`PROBLEM_GRADES`], how many there are and
/// the first ones in the store's order (by domain name).
#[derive(Default)]
struct Problems {
    counts: [usize; PROBLEM_GRADES.len()],
    rows: [Vec<TableRow>; PROBLEM_GRADES.len()],
}

impl Problems {
    /// Counts `row` when its label is a problem, and keeps it while its label has room.
    fn add(&mut self, row: TableRow) {
        let grade = row.grade();
        let Some(index) = PROBLEM_GRADES.iter().position(|&problem| problem == grade) else {
            return;
        };
        self.counts[index] += 1;
        if self.rows[index].len() < MAX_PROBLEM_ROWS_PER_GRADE {
            self.rows[index].push(row);
        }
    }

    /// Problem domains in all.
    fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Problem domains listed.
    fn shown(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }
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
    /// Which rows are kept: every domain's (in `rows`) or the problem domains' (in
    /// `problems`); the figures count every domain either way.
    listing: Listing,
    rows: Vec<TableRow>,
    problems: Problems,
    expiring: Vec<Expiring>,
}

impl Latest {
    /// Gathers the rows `listing` asks for.
    fn new(listing: Listing) -> Self {
        Self {
            listing,
            ..Self::default()
        }
    }

    /// Keeps `row` for the page as [`Self::listing`] says.
    fn keep(&mut self, row: TableRow) {
        match self.listing {
            Listing::AllDomains => self.rows.push(row),
            Listing::Problems => self.problems.add(row),
        }
    }

    fn add(&mut self, domain: DomainName, latest: Option<DomainResult>, now: OffsetDateTime) {
        let Some(result) = latest else {
            self.not_probed += 1;
            self.keep(TableRow {
                domain,
                verdict: None,
                starttls: None,
                pfs: None,
                strict_valid: None,
                tls_grade: None,
                facts: DomainFacts::default(),
                probed_at: None,
                stale: None,
                auth: None,
                at_risk: None,
            });
            return;
        };
        let stale = result
            .stale_since
            .filter(|_| result.last_known.is_some())
            .map(|since| (since, stale::why_untestable(&result)));
        // A stale domain counts, and is shown, by its last known result.
        let result = match result.last_known {
            Some(known) => {
                self.domains.add_stale(AdoptionState::of_domain(&known));
                *known
            }
            None => {
                self.domains.add(AdoptionState::of_domain(&result));
                result
            }
        };
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
        self.keep(TableRow {
            facts: DomainFacts::of(&result),
            domain,
            verdict: Some(result.verdict),
            starttls: result.starttls,
            pfs: result.pfs,
            strict_valid: result.strict_valid,
            tls_grade: result.tls_grade,
            probed_at: Some(result.probed_at),
            stale,
            auth: auth_words(&result),
            at_risk: result.sender.map(|sender| sender.at_risk),
        });
    }
}

/// A domain's authenticated transport in words for the domain table: at risk or authenticated
/// first, then DANE and MTA-STS, e.g. `at risk · DANE failed · MTA-STS none` or `authenticated ·
/// DANE valid · MTA-STS enforce ok`; None without a sender view (stored before the facts
/// existed, or no mail).
fn auth_words(result: &DomainResult) -> Option<String> {
    let sender = result.sender?;
    let verdict = match (sender.at_risk, sender.authenticated) {
        (true, _) => "at risk",
        (false, true) => "authenticated",
        (false, false) => "not authenticated",
    };
    let dane = result.dane.map_or_else(
        || "DANE –".to_string(),
        |dane| format!("DANE {}", dane.as_str()),
    );
    let sts = result.mta_sts.as_ref().map_or_else(
        || "MTA-STS –".to_string(),
        |mta_sts| format!("MTA-STS {}", mta_sts.outcome.as_str().replace('_', " ")),
    );
    Some(format!("{verdict} · {dane} · {sts}"))
}

/// Text from outside the program (a server, a file, the user) as the page shows it.
///
/// Every `maud` splice is HTML-escaped already (`&`, `<`, `>`, `"`), which is all the page's
/// safety needs: maud quotes every attribute with `"`. This also writes `'` and `/` as
/// `&#x27;` and `&#x2F;` (as the report always has), so that nothing from outside reads as a
/// URL in the page's source: a certificate issuer `http://evil.example` shows as that text,
/// but the file holds no `http://` (the page's own text and charts hold none either; the
/// export tests check the whole file for it).
struct Untrusted<'a>(&'a str);

impl Render for Untrusted<'_> {
    fn render_to(&self, buffer: &mut String) {
        let mut start = 0;
        for (at, character) in self.0.match_indices(['\'', '/']) {
            self.0[start..at].render_to(buffer);
            buffer.push_str(if character == "/" { "&#x2F;" } else { "&#x27;" });
            start = at + character.len();
        }
        self.0[start..].render_to(buffer);
    }
}

/// A share as the page writes it, e.g. `33.3 %` (`–` of nothing).
fn percent(part: usize, whole: usize) -> String {
    PercentFormat::TYPESET.of(part, whole)
}

/// A yes / no / – table cell, coloured by its class.
fn yes_no_cell(value: Option<bool>) -> Markup {
    html! { td class=(yes_no(value, "na")) { (yes_no(value, "–")) } }
}

/// A domain name for people: the Unicode form, with the ASCII form beside it where it
/// differs.
fn domain_name(domain: &DomainName) -> Markup {
    let ascii = domain.as_str();
    let shown = domain.display_name();
    html! {
        (Untrusted(&shown))
        @if shown != ascii {
            " " span.note { "(" (Untrusted(ascii)) ")" }
        }
    }
}

/// [`domain_name`] for a name stored as text (shown as it is when it is not a valid name).
fn domain_text(name: &str) -> Markup {
    DomainName::parse(name).map_or_else(
        |_| html! { (Untrusted(name)) },
        |domain| domain_name(&domain),
    )
}

fn date_of(at: OffsetDateTime) -> String {
    at.date().to_string()
}

/// The page's one style sheet (ours, inserted as it is).
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
.card.headline { border-color: #2ea04e; background: #f3fbf5; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin-top: 0.6em; }
.wide { overflow-x: auto; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f5f5f7; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.yes { color: #1a7f37; } td.no { color: #b3261e; font-weight: 600; } td.na { color: #999; }
.grade-no_starttls, .grade-tls_failed { font-weight: 600; }
.tls-good, .tls-sufficient { color: #1a7f37; } .tls-phase_out { color: #8a5a00; } .tls-insufficient { color: #b3261e; font-weight: 600; }
.worse { color: #b3261e; font-weight: 600; } .better { color: #1a7f37; }
.chart svg { width: 100%; height: auto; max-width: 880px; }
.note { color: #555; font-size: 0.9em; }
dl dt { font-weight: 600; margin-top: 0.6em; } dl dd { margin-left: 1.2em; }
code { background: #f5f5f7; padding: 0 3px; border-radius: 3px; }
.notice { border-left: 4px solid #8a5a00; background: #fdf8ee; padding: 4px 14px; margin: 1em 0; }
";

/// Reads what the page shows from `store`, then writes the page to `out` in one piece. A
/// scope of more than `full_table_up_to` domains gets the problem domains instead of the full
/// domain table (and only those rows are held while the page is made).
pub(super) fn write(
    store: &Store,
    scope: &Scope,
    full_table_up_to: usize,
    out: &mut dyn Write,
) -> Result<ExportSummary, ReportError> {
    let now = scope.generated_at;
    let stale_max_days = store.settings()?.stale_max_days;
    let listing = if store.domain_count(scope.list)? > full_table_up_to {
        Listing::Problems
    } else {
        Listing::AllDomains
    };
    let mut latest = Latest::new(listing);
    // A list with weights also gets its figures by mail volume, counted like the domains.
    let weights = if store.is_weighted(scope.list)? {
        Some(store.weights_other_than_one(scope.list)?)
    } else {
        None
    };
    let mut volume = VolumeCounts::default();
    let mut weight_total = 0.0;
    store.each_latest_result(scope.list, |domain, result| {
        if let Some(weights) = &weights {
            let weight = weights.get(&domain).copied().unwrap_or_default();
            weight_total += weight.get();
            if let Some(result) = &result {
                volume.add_standing(
                    AdoptionState::of_domain(result),
                    result.last_known.as_deref().map(AdoptionState::of_domain),
                    weight,
                );
            }
        }
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
        .filter(|event| event.regression || event.kind.is_recovery())
        .collect();
    let providers = store.providers(scope.list, MAX_PROVIDERS)?;
    let host_counts = latest.hosts.counts();
    let summary = ExportSummary {
        domains: latest.domains.total + latest.not_probed,
        probed: latest.domains.total,
        rows: match listing {
            Listing::AllDomains => latest.rows.len(),
            Listing::Problems => latest.problems.shown(),
        },
        trend_points: points.len(),
        events: events.len().min(MAX_DETAIL_ROWS),
        bytes: 0,
    };

    let scope_name = scope_name(scope.list_name.as_deref());
    let left_out = (listing == Listing::Problems).then(|| {
        table_left_out(
            summary.domains,
            full_table_up_to,
            scope.list_name.as_deref(),
        )
    });
    let trends = trends_section(&points)?;
    let volume_markup = weights
        .as_ref()
        .map(|_| volume_section(&volume, weight_total, &points, &providers))
        .transpose()?;
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&scope_name))
            body {
                (masthead(&scope_name, &summary, now, scope.since))
                @if let Some(note) = &left_out {
                    (note)
                }
                (headline_section(&latest.domains, latest.not_probed, &host_counts))
                @if let Some(section) = &volume_markup {
                    (section)
                }
                (trends)
                (regressions_section(&points, &events, period_start, scope.since.is_some()))
                (expiring_section(&latest.expiring))
                (providers_section(&providers))
                @if let Some(note) = &left_out {
                    (problems_section(&latest.problems, summary.probed, now))
                    h2 id="domains" { "All domains (" (summary.domains) "): not in this page" }
                    (note)
                } @else {
                    (domains_section(&latest.rows, now))
                }
                (definitions_section(stale_max_days))
                (footer())
            }
        }
    };
    let mut page = page.into_string();
    page.push('\n');
    out.write_all(page.as_bytes())?;
    Ok(summary)
}

/// What the report covers: `list “NAME”` or `all domains`.
fn scope_name(list_name: Option<&str>) -> Markup {
    html! {
        @if let Some(name) = list_name {
            "list “" (Untrusted(name)) "”"
        } @else {
            "all domains"
        }
    }
}

/// The verdict colours, the app's (`model::words::Grade`): one rule per grade.
fn grade_style() -> String {
    Grade::ALL
        .iter()
        .map(|grade| {
            format!(
                ".grade-{} {{ color: {}; }}\n",
                grade.key(),
                grade.rgb(false).css()
            )
        })
        .collect()
}

/// The `<head>`: the Content-Security-Policy, the title and the one inline style sheet.
fn head(scope_name: &Markup) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta http-equiv="Content-Security-Policy" content=(CONTENT_SECURITY_POLICY);
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="generator" content={ "starttls-monitor " (VERSION) };
            title { "Mail transport security report: " (scope_name) }
            // Our own constant: nothing from outside is in it.
            style { (PreEscaped(STYLE)) (PreEscaped(grade_style())) }
        }
    }
}

/// The page title and what it covers, when it was made.
fn masthead(
    scope_name: &Markup,
    summary: &ExportSummary,
    generated_at: OffsetDateTime,
    since: Option<time::Date>,
) -> Markup {
    html! {
        h1 { "Mail transport security report" }
        p.meta {
            (scope_name) " · " (summary.domains) " domains, " (summary.probed) " probed · generated "
            (rfc3339(generated_at)) " UTC"
            @if let Some(date) = since {
                " · trends and events since " (date)
            }
        }
    }
}

/// The cards of the headline: the four rates, then weak TLS beside them.
const HEADLINE: [Measure; 5] = [
    Measure::Starttls,
    Measure::Pfs,
    Measure::StrictValid,
    Measure::AllThree,
    Measure::WeakTls,
];

/// The share cards of domains and of unique MX hosts.
fn headline_section(domains: &TrendCounts, not_probed: usize, hosts: &HostTrendCounts) -> Markup {
    let mut domain_notes = vec![
        format!("{} untestable", domains.untestable),
        format!("{} accept no mail (null MX)", domains.no_mail),
    ];
    if not_probed > 0 {
        domain_notes.push(format!("{not_probed} not probed yet"));
    }
    let stale_note = (domains.stale > 0).then(|| {
        format!(
            "{} of the testable domains were untestable at their latest probe and are counted by \
             their last known state (stale, see the definitions).",
            domains.stale
        )
    });
    let figures = [
        (
            "domains",
            domains.total + not_probed,
            domains.testable,
            HEADLINE.map(|measure| domains.fraction(measure)),
            domain_notes,
        ),
        (
            "MX hosts",
            hosts.total,
            hosts.testable,
            HEADLINE.map(|measure| hosts.fraction(measure)),
            vec![format!("{} untestable", hosts.untestable)],
        ),
    ];
    html! {
        h2 id="headline" { "Headline figures" }
        @for (what, total, testable, fractions, notes) in figures {
            h3 { (what) ": " (testable) " testable of " (total) }
            div.cards {
                @for (measure, (count, of)) in HEADLINE.into_iter().zip(fractions) {
                    @let (label, headline) = match measure {
                        Measure::Starttls => ("with STARTTLS", false),
                        Measure::Pfs => ("with forward secrecy (PFS)", false),
                        Measure::StrictValid => ("with a strictly valid certificate", false),
                        Measure::WeakTls => ("with weak TLS (graded below sufficient)", false),
                        Measure::AllThree | Measure::Untestable => ("with all three", true),
                        other => (rate_label(other), false),
                    };
                    div.card.headline[headline] {
                        div.figure { (percent(count, of)) }
                        div.label { "of testable " (what) " " (label) " (" (count) " of " (of) ")" }
                    }
                }
            }
            p.note { "Not counted in the shares: " (notes.join(", ")) "." }
            @if what == "domains" && let Some(note) = &stale_note {
                p.note { (note) }
            }
            @let auth = if what == "domains" { auth_figures(domains) } else { auth_figures(&TrendCounts::from(hosts.clone())) };
            @if let Some((with_facts, fractions)) = auth {
                h4 { "Authenticated transport: " (with_facts) " testable " (what) " with DANE / MTA-STS facts" }
                div.cards {
                    @for (measure, (count, of)) in Measure::AUTH.into_iter().zip(fractions) {
                        div.card {
                            div.figure { (percent(count, of)) }
                            div.label { (rate_label(measure)) " (" (count) " of " (of) ")" }
                        }
                    }
                }
            }
        }
    }
}

/// The authenticated-transport shares of `counts` ([`Measure::AUTH`]) and how many testable
/// ones have the facts; None when none has them (results from before they existed).
fn auth_figures(counts: &TrendCounts) -> Option<(usize, [(usize, usize); 4])> {
    let with_facts = counts.auth_testable?;
    Some((
        with_facts,
        Measure::AUTH.map(|measure| counts.fraction(measure)),
    ))
}

/// "Of your mail: 97.3 % encrypted, 81.0 % with all three" (None when no testable mail).
pub fn volume_sentence(volume: &VolumeCounts) -> Option<String> {
    let encrypted = volume_share(volume.starttls, volume.testable)?;
    let all_three = volume_share(volume.all_three, volume.testable)?;
    Some(format!(
        "of your mail: {encrypted:.1} % encrypted, {all_three:.1} % with all three"
    ))
}

/// The figures by mail volume of a list with weights: the sentence, the share cards, a chart
/// of the days that have weighted figures, and each provider's share of the mail.
fn volume_section(
    volume: &VolumeCounts,
    weight_total: f64,
    points: &[TrendPoint],
    providers: &[ProviderRow],
) -> Result<Markup, ReportError> {
    let series: Vec<Series> = volume_share_series(points, &Measure::RATES)
        .into_iter()
        .map(|series| {
            let rgb = series.measure.rgb();
            Series {
                name: series.measure.label(),
                color: plotters::style::RGBColor(rgb.0, rgb.1, rgb.2),
                points: series
                    .points
                    .iter()
                    .map(|point| (day_number(point.date), point.percent))
                    .collect(),
            }
        })
        .collect();
    let chart = if series.iter().any(|line| !line.points.is_empty()) {
        Some(charts::share_chart(
            "Mail volume: share of the testable mail",
            &series,
        )?)
    } else {
        None
    };
    let mut shares: Vec<(&ProviderRow, f64)> = providers
        .iter()
        .filter_map(|row| Some((row, volume_share(row.volume.total, weight_total)?)))
        .collect();
    shares.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| a.0.provider.cmp(&b.0.provider))
    });
    let of_mail = |part: f64, whole: f64| PercentFormat::TYPESET.of_volume(part, whole);
    Ok(html! {
        h2 id="volume" { "By mail volume" }
        p.note {
            "Each domain counts by its weight in the list (messages per period; 1 where none \
             was given), so a domain that receives a million messages weighs a million times \
             more than one that receives one. Total weight " (format_volume(weight_total))
            ", of it testable " (format_volume(volume.testable)) "."
        }
        @if let Some(sentence) = volume_sentence(volume) {
            p.headline-volume { b { (sentence) } }
        }
        div.cards {
            @for measure in Measure::RATES {
                @let (part, whole) = volume.fraction(measure);
                div.card.headline[measure == Measure::AllThree] {
                    div.figure { (of_mail(part, whole)) }
                    div.label {
                        "of the testable mail " (rate_label(measure)) " ("
                        (format_volume(part)) " of " (format_volume(whole)) ")"
                    }
                }
            }
        }
        @if let Some(svg) = &chart {
            // Our own SVG, as the other charts.
            figure.chart { (PreEscaped(svg)) }
        } @else {
            p.note { "No day has weighted figures yet (roll-ups from before weights have none)." }
        }
        @if let Some((top, top_share)) = shares.first() {
            p { (format!("{top_share:.0}")) " % of your mail goes to " (Untrusted(&top.provider)) "'s MX hosts." }
            div.wide {
                table {
                    thead {
                        tr {
                            th { "provider" }
                            th.num { "share of mail" }
                            th.num { "STARTTLS" }
                            th.num { "all three" }
                        }
                    }
                    tbody {
                        @for (row, share) in &shares {
                            tr {
                                td { (Untrusted(&row.provider)) }
                                td.num { (format!("{share:.1} %")) }
                                td.num { (of_mail(row.volume.starttls, row.volume.testable)) }
                                td.num { (of_mail(row.volume.all_three, row.volume.testable)) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// A rate in the words of the share cards.
fn rate_label(measure: Measure) -> &'static str {
    match measure {
        Measure::Starttls => "with STARTTLS",
        Measure::Pfs => "with forward secrecy (PFS)",
        Measure::StrictValid => "with a strictly valid certificate",
        Measure::AllThree | Measure::Untestable => "with all three",
        Measure::WeakTls => "with weak TLS",
        Measure::DaneValid => "DANE valid (of those whose DANE could be judged)",
        Measure::StsEnforce => "with an MTA-STS enforce policy",
        Measure::Authenticated => "authenticated (a DANE or MTA-STS sender)",
        Measure::AtRisk => "at risk (a DANE or MTA-STS sender defers mail)",
    }
}

/// The four share series of `basis` and weak TLS, for a chart (days with nothing testable have
/// no point); names and colours are the app's (`model::words`).
fn series_of(points: &[TrendPoint], basis: Basis) -> Vec<Series> {
    series_of_measures(points, basis, &HEADLINE)
}

/// The share series of `measures` over `basis`, for a chart.
fn series_of_measures(points: &[TrendPoint], basis: Basis, measures: &[Measure]) -> Vec<Series> {
    share_series(points, basis, measures)
        .into_iter()
        .map(|series| {
            let rgb = series.measure.rgb();
            Series {
                name: series.measure.label(),
                color: plotters::style::RGBColor(rgb.0, rgb.1, rgb.2),
                points: series
                    .points
                    .iter()
                    .map(|point| (day_number(point.date), point.percent))
                    .collect(),
            }
        })
        .collect()
}

/// The two share charts (domains, MX hosts) and the counts per day behind them.
fn trends_section(points: &[TrendPoint]) -> Result<Markup, ReportError> {
    if points.is_empty() {
        return Ok(html! {
            h2 id="trends" { "Trends" }
            p.note { "No finished scans in this period yet: trends appear after the first scan." }
        });
    }
    let charts = [
        ("Domains: share of testable domains", Basis::Domains),
        ("MX hosts: share of testable MX hosts", Basis::MxHosts),
    ]
    .into_iter()
    .map(|(title, basis)| charts::share_chart(title, &series_of(points, basis)))
    .collect::<Result<Vec<_>, _>>()?;
    // The authenticated-transport shares, once some day has their facts.
    let mut charts = charts;
    if points
        .iter()
        .any(|point| point.domains.auth_testable.is_some())
    {
        charts.push(charts::share_chart(
            "Authenticated transport: share of testable domains with DANE / MTA-STS facts",
            &series_of_measures(points, Basis::Domains, &Measure::AUTH),
        )?);
    }
    Ok(html! {
        h2 id="trends" { "Trends" }
        p.note {
            "Share of testable domains and of testable unique MX hosts, per UTC day with results; \
             each domain counted by its latest result as of the end of that day."
        }
        @for svg in &charts {
            // Our own SVG: `charts` draws only our labels, and plotters escapes text anyway.
            figure.chart { (PreEscaped(svg)) }
        }
        details {
            summary { "Counts per day" }
            div.wide {
                table {
                    thead {
                        tr {
                            th { "date" }
                            th.num { "domains" }
                            th.num { "testable" }
                            th.num { "untestable" }
                            th.num { "no mail" }
                        }
                    }
                    tbody {
                        @for point in points {
                            @let counts = &point.domains;
                            tr {
                                td { (point.date) }
                                td.num { (counts.total) }
                                td.num { (counts.testable) }
                                td.num { (counts.untestable) }
                                td.num { (counts.no_mail) }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// The trend points to compare in the regressions table: the last one on or before the
/// period's first day (else the first), and the last one; none when they are the same day.
fn compared_points(
    points: &[TrendPoint],
    period_start: OffsetDateTime,
) -> Option<(&TrendPoint, &TrendPoint)> {
    let start_day = period_start.date();
    let before = points
        .iter()
        .rfind(|point| point.date <= start_day)
        .or_else(|| points.first())?;
    let after = points.last()?;
    (before.date != after.date).then_some((before, after))
}

/// A change of a share in percentage points, coloured when it moved by more than 0.05.
/// `lower_is_better` (weak TLS): a fall is coloured better, a rise worse.
fn change_cell(was: Option<f64>, now: Option<f64>, lower_is_better: bool) -> Markup {
    let (Some(was), Some(now)) = (was, now) else {
        return html! { td.num { "–" } };
    };
    let delta = now - was;
    let gain = if lower_is_better { -delta } else { delta };
    html! {
        td.num.worse[gain < -0.05].better[gain > 0.05] { (format!("{delta:+.1} pp")) }
    }
}

/// How the shares moved over the period, and the regression events in it (newest first).
fn regressions_section(
    points: &[TrendPoint],
    events: &[EventRow],
    period_start: OffsetDateTime,
    explicit_since: bool,
) -> Markup {
    html! {
        h2 id="regressions" { "Regressions and recoveries since " (date_of(period_start)) }
        @if !explicit_since {
            p.note {
                "The last " (DEFAULT_PERIOD_DAYS) " days (choose another start with "
                code { "--since" } ")."
            }
        }
        @if let Some((before, after)) = compared_points(points, period_start) {
            @let (b, a) = (&before.domains, &after.domains);
            div.wide {
                table {
                    thead {
                        tr {
                            th { "share of testable domains" }
                            th.num { (before.date) }
                            th.num { (after.date) }
                            th.num { "change" }
                        }
                    }
                    tbody {
                        @for measure in HEADLINE {
                            @let ((was, _), (now, _)) = (b.fraction(measure), a.fraction(measure));
                            @let (was_share, now_share) = (share(was, b.testable), share(now, a.testable));
                            tr {
                                td { (measure.label()) }
                                td.num { (percent(was, b.testable)) }
                                td.num { (percent(now, a.testable)) }
                                // Weak TLS: lower is better, a fall is good news.
                                (change_cell(was_share, now_share, measure == Measure::WeakTls))
                            }
                        }
                    }
                }
            }
        }
        @let regressions = events.iter().filter(|event| event.regression).count();
        @let recoveries = events.len() - regressions;
        @if events.is_empty() {
            p.note {
                "No regression events (STARTTLS lost, PFS lost, certificate became invalid, \
                 certificate expiring) and no recoveries in this period."
            }
        } @else {
            p {
                (regressions) " regression event(s) and " (recoveries) " recovery event(s)"
                @if events.len() > MAX_DETAIL_ROWS {
                    ", the newest " (MAX_DETAIL_ROWS) " shown"
                }
                "."
            }
            div.wide {
                table {
                    thead {
                        tr {
                            th { "when (UTC)" } th { "domain" } th { "change" } th { "what" }
                            th { "detail" }
                        }
                    }
                    tbody {
                        @for event in events.iter().take(MAX_DETAIL_ROWS) {
                            tr {
                                td { (rfc3339(event.at)) }
                                td { (domain_text(&event.domain)) }
                                @if event.regression {
                                    td.worse { "worse" }
                                } @else {
                                    td.better { "better" }
                                }
                                td title=(event.kind.as_str()) { (event.kind.label()) }
                                td { (Untrusted(&event.detail)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Certificates that end within [`EXPIRING_SOON_DAYS`] or have ended, soonest first.
fn expiring_section(expiring: &[Expiring]) -> Markup {
    html! {
        h2 id="expiring" {
            "Certificates expiring within " (EXPIRING_SOON_DAYS) " days or expired"
        }
        @if expiring.is_empty() {
            p.note { "None." }
        } @else {
            div.wide {
                table {
                    thead {
                        tr {
                            th.num { "days left" }
                            th { "not after" }
                            th { "domain" }
                            th { "MX host" }
                            th { "address" }
                            th { "subject" }
                            th { "issuer" }
                        }
                    }
                    tbody {
                        @for cert in expiring.iter().take(MAX_DETAIL_ROWS) {
                            tr {
                                td.num.worse[cert.days_left < 0] { (cert.days_left) }
                                td { (date_of(cert.not_after)) }
                                td { (domain_name(&cert.domain)) }
                                td { (Untrusted(&cert.host)) }
                                td { (cert.ip) }
                                td { (Untrusted(&cert.subject)) }
                                td { (Untrusted(&cert.issuer)) }
                            }
                        }
                    }
                }
            }
            @if expiring.len() > MAX_DETAIL_ROWS {
                p.note {
                    (expiring.len() - MAX_DETAIL_ROWS)
                    " more not shown; the CSV export with --per-address lists them all."
                }
            }
        }
    }
}

/// The largest providers (at most [`MAX_PROVIDERS`]) with their shares.
fn providers_section(providers: &[ProviderRow]) -> Markup {
    html! {
        h2 id="providers" { "Mail providers" }
        @if providers.is_empty() {
            p.note { "No results yet." }
        } @else {
            p.note {
                "By the registrable domain of each domain's primary MX host; the "
                (MAX_PROVIDERS) " largest."
            }
            div.wide {
                table {
                    thead {
                        tr {
                            th { "provider" }
                            th.num { "domains" }
                            th.num { "testable" }
                            th.num { "STARTTLS" }
                            th.num { "PFS" }
                            th.num { "strict" }
                            th.num { "all three" }
                        }
                    }
                    tbody {
                        @for provider in providers {
                            @let counts = &provider.counts;
                            tr {
                                td { (Untrusted(&provider.provider)) }
                                td.num { (counts.total) }
                                td.num { (counts.testable) }
                                td.num { (percent(counts.starttls, counts.testable)) }
                                td.num { (percent(counts.pfs, counts.testable)) }
                                td.num { (percent(counts.strict_valid, counts.testable)) }
                                td.num { (percent(counts.all_three, counts.testable)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Why the page has no full domain table, and the commands that export every domain: said
/// under the masthead and where the table would be.
fn table_left_out(domains: usize, full_table_up_to: usize, list_name: Option<&str>) -> Markup {
    let list = list_name.map(|name| format!(" --list {}", shell_word(name)));
    let list = list.as_deref().unwrap_or("");
    html! {
        div.notice {
            p {
                b { "The full domain table is left out of this page: " }
                "the report covers " (domains) " domains, and it carries the table up to "
                (full_table_up_to) " domains. The page keeps the headline figures, the charts,                  the events, the expiring certificates and the problem domains. Every domain's                  latest result is in the CSV and JSON exports:"
            }
            p {
                code { "starttls-monitor export --format csv" (Untrusted(list)) " -o domains.csv" }
                br;
                code { "starttls-monitor export --format json" (Untrusted(list)) " -o domains.json" }
            }
            p.note {
                "(with the same " code { "--db" } " if you gave one), or the app's “Export                  report…” with the format CSV or JSON. "
                code { "starttls-monitor export --format html --full-table" (Untrusted(list)) " -o report.html" }
                " writes this page with the whole table (a large file)."
            }
        }
    }
}

/// `text` as one word for a POSIX shell: as it is when it holds only characters no shell
/// reads specially, else in single quotes (a `'` in it written `'\''`).
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:+@%/=".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The problem domains of a scope too large for the full table: how many have each problem
/// label, and the first [`MAX_PROBLEM_ROWS_PER_GRADE`] of each, worst label first.
fn problems_section(problems: &Problems, probed: usize, now: OffsetDateTime) -> Markup {
    let total = problems.total();
    let shown = problems.shown();
    html! {
        h2 id="problems" { "Problem domains (" (total) " of " (probed) " probed)" }
        p.note {
            "Domains whose label (the app's and the domain table's; at risk comes before every              other) is one of these, worst first. Each label lists its first "
            (MAX_PROBLEM_ROWS_PER_GRADE) " domains by name; the CSV and JSON exports have them all."
        }
        div.wide {
            table {
                thead {
                    tr { th { "label" } th { "meaning" } th.num { "domains" } th.num { "listed" } }
                }
                tbody {
                    @for ((grade, count), rows) in PROBLEM_GRADES.iter().zip(&problems.counts).zip(&problems.rows) {
                        tr {
                            td class={ "grade-" (grade.key()) } { (grade.label()) }
                            td { (grade.meaning()) }
                            td.num { (count) }
                            td.num { (rows.len()) }
                        }
                    }
                }
            }
        }
        @if total == 0 {
            p.note { "None." }
        } @else {
            @if shown < total {
                p { (shown) " of " (total) " problem domains listed." }
            }
            (domain_table(problems.rows.iter().flatten(), now))
        }
    }
}

/// Every domain in the scope with its latest result.
fn domains_section(rows: &[TableRow], now: OffsetDateTime) -> Markup {
    html! {
        h2 id="domains" { "All domains (" (rows.len()) ")" }
        (domain_table(rows, now))
    }
}

/// The domain table of `rows`.
fn domain_table<'a>(rows: impl IntoIterator<Item = &'a TableRow>, now: OffsetDateTime) -> Markup {
    html! {
        div.wide {
            table {
                thead {
                    tr {
                        th { "domain" }
                        th { "verdict" }
                        th { "STARTTLS" }
                        th { "PFS" }
                        th { "strict" }
                        th { "TLS grade" }
                        th { "lowest TLS" }
                        th { "MX hosts" }
                        th { "provider" }
                        th { "certificate errors" }
                        th.num { "cert days left" }
                        th { "last probed (UTC)" }
                        th { "authenticated transport" }
                    }
                }
                tbody {
                    @for row in rows {
                        (domain_row(row, now))
                    }
                }
            }
        }
    }
}

/// One row of the domain table.
fn domain_row(row: &TableRow, now: OffsetDateTime) -> Markup {
    let verdict = row.verdict.map_or("not_probed", Verdict::as_str);
    let facts: &DomainFacts = &row.facts;
    let untestable_note = facts.untestable_hosts > 0 && row.verdict != Some(Verdict::Untestable);
    html! {
        tr {
            td { (domain_name(&row.domain)) }
            @let grade = row.grade();
            td class={ "grade-" (grade.key()) } title={ "verdict " (verdict) } {
                (grade.label())
                @if let Some((since, why)) = &row.stale {
                    br;
                    span.note { "stale: untestable since " (rfc3339(*since)) " (" (why) ")" }
                }
            }
            (yes_no_cell(row.starttls))
            (yes_no_cell(row.pfs))
            (yes_no_cell(row.strict_valid))
            @match row.tls_grade {
                Some(grade) => td class={ "tls-" (grade.as_str()) } { (grade.label()) },
                None => td.na { "–" },
            }
            td {
                (facts.lowest_tls.map_or("", |v| v.as_str()))
                @if facts.legacy_tls { " (legacy)" }
            }
            td {
                @for (index, host) in facts.mx_hosts.iter().enumerate() {
                    @if index > 0 { br; }
                    (Untrusted(host))
                }
                @if untestable_note {
                    br;
                    span.note {
                        (facts.untestable_hosts) " of " (facts.mx_hosts.len()) " untestable"
                    }
                }
            }
            td { (Untrusted(facts.provider.as_deref().unwrap_or(""))) }
            td { (facts.cert_errors.join(", ")) }
            td.num {
                @if let Some(at) = facts.earliest_not_after { (days_left(at, now)) }
            }
            td {
                @if let Some(at) = row.probed_at { (rfc3339(at)) }
            }
            @match &row.auth {
                Some(words) => td { (words) },
                None => td.na { "–" },
            }
        }
    }
}

/// What the figures mean: DESIGN.md's metric definitions in words.
fn definitions_section(stale_max_days: u32) -> Markup {
    html! {
        h2 id="definitions" { "What the figures mean" }
        dl {
            dt { "Per MX address, one outcome" }
            dd {
                b { "untestable" }
                ": we could not find out (DNS failure, connection refused or timed out, greeting \
                 421/554, garbage). Not the same as “no STARTTLS”: left out of every share."
                br;
                b { "no STARTTLS" }
                ": the server answered EHLO but did not offer STARTTLS; mail to it travels in \
                 plain text."
                br;
                b { "TLS failed" }
                ": STARTTLS was offered but refused, or the TLS handshake failed (also with the \
                 legacy fallback)."
                br;
                b { "TLS ok" }
                ": the handshake completed."
            }
            dt { "PFS (forward secrecy)" }
            dd {
                "TLS 1.3, or TLS 1.2 and older with an ECDHE or DHE key exchange. Plain RSA key \
                 exchange is not forward secret."
            }
            dt { "Strict validation" }
            dd {
                "The certificate chain leads to a Mozilla root, the certificate is in date, and a \
                 subjectAltName matches the MX host name as written in the MX record (never the \
                 mail domain; a wildcard covers one left-most label)."
            }
            dt { "A domain" }
            dd {
                "is only as safe as its weakest MX: over every testable address of every MX host, \
                 the verdict is the worst outcome; STARTTLS means every testable address completed \
                 TLS; PFS and strict mean, on top of that, every testable address was forward \
                 secret / strictly valid. A domain with a null MX ("
                code { "MX 0 ." }
                ") accepts no mail and is left out; a domain without MX records is probed on its \
                 own address (implicit MX, RFC 5321 section 5.1)."
            }
            dt { "Shares" }
            dd {
                "Every share is of "
                em { "testable" }
                " domains (or unique MX hosts): untestable and no-mail domains, and domains not \
                 probed yet, are not in the denominator. “All three” is STARTTLS with PFS and \
                 strict validation together, the headline figure."
            }
            dt { "Stale state" }
            dd {
                "An outage must not erase what we know. A domain whose latest probe was untestable \
                 (a DNS timeout, refused connections …) keeps its last known testable state in \
                 every figure, marked stale, when that state was confirmed at most "
                (stale_max_days)
                " days (the setting stale_max_days) before the latest probe; it is also counted \
                 as stale. Definitive answers are never stale: NXDOMAIN of the domain, a null MX, \
                 or NXDOMAIN for every MX host count at once. A domain never testable stays \
                 untestable."
            }
            dt { "Trends" }
            dd {
                "One point per UTC day with results, each domain counted by its latest result as \
                 of the end of that day (a stale domain by its last known one)."
            }
            dt { "Regressions and recoveries" }
            dd {
                "Change events that make things worse: STARTTLS lost, PFS lost, certificate became \
                 invalid, certificate expiring soon; and those that undo them: STARTTLS gained, \
                 PFS gained, certificate became valid."
            }
            dt { "Weak TLS" }
            dd {
                "A testable domain (or MX host) where some TLS session is graded below sufficient \
                 by NCSC-NL's TLS guidelines v2.1 (version, key exchange and suite each graded, \
                 the worst wins; a suite they do not list is insufficient). A share of testable, \
                 lower is better; counted beside “all three”, not instead of it."
            }
            dt { "Certificate days left" }
            dd {
                "Whole days from the time this report was made until the earliest certificate end \
                 date; negative once expired."
            }
        }
    }
}

/// The closing note.
fn footer() -> Markup {
    html! {
        p.note {
            "Made by starttls-monitor " (VERSION)
            ". This file is self-contained: it loads nothing from anywhere."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::changes::ChangeKind;
    use crate::model::test_support::{address, mx_host, trend_point};

    /// Tries to leave element content, attributes and the style element, and to look like a
    /// reference.
    const HOSTILE: &str = "<script>alert(\"x\")</script> & 'q' </style> http://evil.example";
    /// [`HOSTILE`] as the page must write it.
    const HOSTILE_ESCAPED: &str = "&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt; &amp; \
                                   &#x27;q&#x27; &lt;&#x2F;style&gt; http:&#x2F;&#x2F;evil.example";

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).expect("valid time")
    }

    /// `markup` shows [`HOSTILE`] escaped (`times` times) and nothing of it raw.
    #[track_caller]
    fn assert_escaped(markup: &Markup, times: usize) {
        let text = &markup.0;
        assert_eq!(text.matches(HOSTILE_ESCAPED).count(), times, "{text}");
        for raw in ["<script", "</script", "alert(\"", "'q'", "http://"] {
            assert!(!text.contains(raw), "{raw} in {text}");
        }
        // Only our own style element is ever closed.
        assert_eq!(
            text.matches("</style").count(),
            text.matches("<style>").count(),
            "{text}"
        );
    }

    #[test]
    fn percent_of_nothing_is_a_dash() {
        assert_eq!(percent(1, 0), "–");
        assert_eq!(percent(1, 3), "33.3 %");
    }

    #[test]
    fn untrusted_text_is_escaped_for_content_and_attributes() {
        assert_eq!(
            Untrusted("<script>alert('x')</script>&\"").render().0,
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2F;script&gt;&amp;&quot;"
        );
        assert_eq!(Untrusted("mx.bücher.de").render().0, "mx.bücher.de");
        assert_eq!(Untrusted("").render().0, "");
        assert_eq!(Untrusted("//'").render().0, "&#x2F;&#x2F;&#x27;");
        // A plain splice is escaped too (maud's default), only without `'` and `/`.
        assert_eq!(
            html! { (HOSTILE) }.0,
            HOSTILE_ESCAPED
                .replace("&#x2F;", "/")
                .replace("&#x27;", "'")
        );
    }

    #[test]
    fn the_list_name_is_escaped_in_title_and_masthead() {
        let name = scope_name(Some(HOSTILE));
        assert_escaped(&name, 1);
        assert_eq!(scope_name(None).0, "all domains");
        let head = head(&name);
        assert_escaped(&head, 1);
        assert_eq!(head.0.matches("<style>").count(), 1);
        assert_eq!(head.0.matches("</style>").count(), 1);
        let summary = ExportSummary::default();
        assert_escaped(&masthead(&name, &summary, at(0), None), 1);
    }

    #[test]
    fn event_domains_and_details_are_escaped() {
        let event = EventRow {
            id: 1,
            domain: HOSTILE.to_string(),
            at: at(86_400),
            kind: ChangeKind::StarttlsLost,
            detail: HOSTILE.to_string(),
            regression: true,
            scan_id: None,
        };
        let section = regressions_section(&[], &[event], at(0), false);
        assert_escaped(&section, 2);
        assert!(
            section.0.contains(
                "<td class=\"worse\">worse</td><td title=\"starttls_lost\">STARTTLS lost</td>"
            ),
            "{}",
            section.0
        );
        assert!(
            section
                .0
                .contains("1 regression event(s) and 0 recovery event(s).")
        );
    }

    #[test]
    fn recoveries_show_beside_regressions_in_words() {
        let event = |id, kind: ChangeKind| EventRow {
            id,
            domain: "expired.lab.test".to_string(),
            at: at(86_400 + id),
            kind,
            detail: String::new(),
            regression: kind.is_regression(),
            scan_id: None,
        };
        let events = [
            event(2, ChangeKind::CertBecameValid),
            event(1, ChangeKind::CertBecameInvalid),
        ];
        let text = regressions_section(&[], &events, at(0), false).0;
        assert!(
            text.contains("1 regression event(s) and 1 recovery event(s)."),
            "{text}"
        );
        assert!(
            text.contains("<td class=\"better\">better</td><td title=\"cert_became_valid\">certificate became valid</td>"),
            "{text}"
        );
        assert!(text.contains("certificate became invalid"), "{text}");
        assert!(!ChangeKind::MxChanged.is_recovery() && !ChangeKind::MxChanged.is_regression());
    }

    #[test]
    fn an_expired_certificate_reads_encrypted_in_amber_not_tls_ok_in_green() {
        let row = TableRow {
            domain: DomainName::parse("expired.example").expect("valid"),
            verdict: Some(Verdict::TlsOk),
            starttls: Some(true),
            pfs: Some(true),
            strict_valid: Some(false),
            tls_grade: Some(TlsGrade::Good),
            facts: DomainFacts::default(),
            probed_at: Some(at(0)),
            stale: None,
            auth: None,
            at_risk: None,
        };
        let text = domains_section(&[row], at(0)).0;
        assert!(
            text.contains("<td class=\"grade-encrypted\" title=\"verdict tls_ok\">encrypted</td>"),
            "{text}"
        );
        assert!(!text.contains("tls ok"));
        let style = grade_style();
        assert!(style.contains(&format!(
            ".grade-encrypted {{ color: {}; }}",
            Grade::Encrypted.rgb(false).css()
        )));
        assert!(style.contains(&format!(
            ".grade-secure {{ color: {}; }}",
            Grade::Secure.rgb(false).css()
        )));
    }

    #[test]
    fn expiring_certificates_escape_host_subject_and_issuer() {
        let cert = Expiring {
            days_left: -3,
            domain: DomainName::parse("xn--bcher-kva.de").expect("valid"),
            host: HOSTILE.to_string(),
            ip: "192.0.2.1".to_string(),
            not_after: at(0),
            subject: HOSTILE.to_string(),
            issuer: HOSTILE.to_string(),
        };
        let section = expiring_section(&[cert]);
        assert_escaped(&section, 3);
        assert!(
            section.0.contains("<td class=\"num worse\">-3</td>"),
            "{}",
            section.0
        );
        assert!(
            section
                .0
                .contains("<td>bücher.de <span class=\"note\">(xn--bcher-kva.de)</span></td>"),
            "{}",
            section.0
        );
        assert!(expiring_section(&[]).0.contains("None."));
    }

    #[test]
    fn provider_names_are_escaped() {
        let provider = ProviderRow {
            provider: HOSTILE.to_string(),
            counts: TrendCounts {
                total: 3,
                testable: 2,
                starttls: 1,
                ..TrendCounts::default()
            },
            volume: crate::store::VolumeCounts::default(),
        };
        let section = providers_section(&[provider]);
        assert_escaped(&section, 1);
        assert!(
            section.0.contains("<td class=\"num\">50.0 %</td>"),
            "{}",
            section.0
        );
        assert!(providers_section(&[]).0.contains("No results yet."));
    }

    #[test]
    fn a_stale_domain_counts_and_shows_as_last_known_marked_stale() {
        use crate::model::DnsError;
        use crate::model::test_support::{address, mx_host};
        let domain = DomainName::parse("a.example").expect("valid");
        let host = mx_host("mx.a.example", vec![address(Outcome::TlsOk, true, true)]);
        let good = DomainResult::new(domain.clone(), false, None, at(0), vec![host]);
        let mut outage = DomainResult::new(
            domain.clone(),
            false,
            Some(DnsError::Timeout),
            at(3600),
            vec![],
        );
        outage.stale_since = Some(at(3600));
        outage.last_known = Some(Box::new(good));
        let mut latest = Latest::default();
        latest.add(domain, Some(outage), at(7200));
        assert_eq!(
            (
                latest.domains.testable,
                latest.domains.all_three,
                latest.domains.stale
            ),
            (1, 1, 1)
        );
        assert_eq!(
            latest.hosts.counts().testable,
            1,
            "its MX host as last known"
        );
        let row = &latest.rows[0];
        assert_eq!(row.verdict, Some(Verdict::TlsOk));
        let cell = domain_row(row, at(7200)).0;
        assert!(
            cell.contains("stale: untestable since 1970-01-01T01:00:00Z (DNS timeout)"),
            "{cell}"
        );
        let headline = headline_section(&latest.domains, 0, &latest.hosts.counts()).0;
        assert!(
            headline.contains("1 of the testable domains were untestable"),
            "{headline}"
        );
        assert!(definitions_section(7).0.contains("at most 7 days"));
    }

    #[test]
    fn domain_table_escapes_hosts_and_provider() {
        let row = TableRow {
            domain: DomainName::parse("good.example").expect("valid"),
            verdict: Some(Verdict::TlsOk),
            starttls: Some(true),
            pfs: Some(false),
            strict_valid: None,
            tls_grade: Some(TlsGrade::PhaseOut),
            facts: DomainFacts {
                mx_hosts: vec![HOSTILE.to_string(), "mx2.good.example".to_string()],
                untestable_hosts: 1,
                provider: Some(HOSTILE.to_string()),
                ..DomainFacts::default()
            },
            probed_at: Some(at(0)),
            stale: None,
            auth: None,
            at_risk: None,
        };
        let section = domains_section(&[row], at(0));
        assert_escaped(&section, 2);
        let text = &section.0;
        assert!(text.contains("All domains (1)"));
        assert!(
            text.contains("<td class=\"grade-encrypted\" title=\"verdict tls_ok\">encrypted</td>"),
            "{text}"
        );
        assert!(
            text.contains(
                "<td class=\"yes\">yes</td><td class=\"no\">no</td><td class=\"na\">–</td>"
            )
        );
        assert!(
            text.contains("<td class=\"tls-phase_out\">phase out</td>"),
            "{text}"
        );
        assert!(text.contains(
            "<br>mx2.good.example<br><span class=\"note\">1 of 2 untestable</span></td>"
        ));
        assert!(text.contains("<td>1970-01-01T00:00:00Z</td>"), "{text}");
    }

    #[test]
    fn trends_draw_two_charts_and_regressions_compare_the_period() {
        let day = |n: i64| at(n * 86_400).date();
        let points = [
            trend_point(day(100), 4, 2, 1),
            trend_point(day(110), 4, 1, 0),
        ];
        let trends = trends_section(&points).expect("draws");
        assert_eq!(trends.0.matches("<figure class=\"chart\"><svg").count(), 2);
        assert!(trends.0.contains("<td>1970-04-11</td>"), "{}", trends.0);
        let empty = trends_section(&[]).expect("no charts");
        assert!(empty.0.contains("No finished scans") && !empty.0.contains("<svg"));

        let section = regressions_section(&points, &[], at(105 * 86_400), true);
        let text = &section.0;
        assert!(
            text.contains("Regressions and recoveries since 1970-04-16"),
            "{text}"
        );
        assert!(text.contains("<td>weak TLS</td>"), "{text}");
        assert!(
            !text.contains("--since"),
            "an explicit start is not explained"
        );
        // STARTTLS stays at 100 %, all three falls from 50 % to 25 %.
        assert!(text.contains("<td class=\"num\">+0.0 pp</td>"), "{text}");
        assert!(
            text.contains("<td class=\"num worse\">-25.0 pp</td>"),
            "{text}"
        );
        assert!(text.contains("No regression events"));
        let rising = [points[1].clone(), {
            let mut later = trend_point(day(120), 4, 2, 0);
            later.date = day(120);
            later
        }];
        let section = regressions_section(&rising, &[], at(0), false);
        assert!(
            section.0.contains("<td class=\"num better\">+25.0 pp</td>"),
            "{}",
            section.0
        );
        assert!(section.0.contains("<code>--since</code>"));
    }

    #[test]
    fn a_list_with_weights_gets_its_figures_by_mail_volume() {
        let store = Store::open_in_memory().expect("store");
        let list = store.create_list("outbound").expect("list");
        let weigh = |value: f64| crate::model::Weight::new(value).expect("a weight");
        let name = |text: &str| DomainName::parse(text).expect("valid");
        store
            .add_weighted_domains(
                list,
                &[
                    (name("big.example"), weigh(973.0)),
                    (name("plain.example"), weigh(27.0)),
                ],
            )
            .expect("add");
        let now = at(1_800_000_000);
        for (domain, host, outcome) in [
            ("big.example", "aspmx.l.google.com", Outcome::TlsOk),
            ("plain.example", "mx.plain.example", Outcome::NoStarttls),
        ] {
            let result = DomainResult::new(
                name(domain),
                false,
                None,
                now,
                vec![mx_host(host, vec![address(outcome, true, true)])],
            );
            store.record_result(None, &result, 14).expect("record");
        }
        store.refresh_rollup(Some(list), now).expect("roll-up");
        let scope = Scope {
            list: Some(list),
            list_name: Some("outbound".to_string()),
            since: None,
            generated_at: now,
        };
        let mut out = Vec::new();
        write(&store, &scope, usize::MAX, &mut out).expect("writes");
        let page = String::from_utf8(out).expect("UTF-8");
        assert_eq!(page.matches("id=\"volume\"").count(), 1);
        assert!(
            page.contains("of your mail: 97.3 % encrypted, 97.3 % with all three"),
            "{page}"
        );
        assert!(
            page.contains("97 % of your mail goes to google.com's MX hosts"),
            "{page}"
        );
        assert_eq!(
            page.matches("<svg").count(),
            3,
            "the volume chart beside the two others"
        );

        // The same list without weights: no volume section.
        store
            .set_weights(
                list,
                &[
                    (name("big.example"), crate::model::Weight::ONE),
                    (name("plain.example"), crate::model::Weight::ONE),
                ],
            )
            .expect("unweigh");
        let mut out = Vec::new();
        write(&store, &scope, usize::MAX, &mut out).expect("writes");
        let page = String::from_utf8(out).expect("UTF-8");
        assert!(!page.contains("id=\"volume\""));
    }

    #[test]
    fn the_page_is_one_inert_document_with_outside_text_escaped() {
        let store = Store::open_in_memory().expect("store");
        let list = store.create_list(HOSTILE).expect("list");
        let name = DomainName::parse("hostile.example").expect("valid");
        store
            .add_domains(Some(list), std::slice::from_ref(&name))
            .expect("add");
        let now = at(1_800_000_000);
        let mut tls = address(Outcome::TlsOk, true, true);
        tls.cert_subject = Some(HOSTILE.to_string());
        tls.cert_issuer = Some(HOSTILE.to_string());
        tls.cert_not_after = Some(now + time::Duration::days(5));
        let result = DomainResult::new(name, false, None, now, vec![mx_host(HOSTILE, vec![tls])]);
        store.record_result(None, &result, 14).expect("record");
        store.refresh_rollup(Some(list), now).expect("roll-up");
        let scope = Scope {
            list: Some(list),
            list_name: Some(HOSTILE.to_string()),
            since: None,
            generated_at: now,
        };
        let mut out = Vec::new();
        let summary = write(&store, &scope, usize::MAX, &mut out).expect("writes");
        assert_eq!((summary.domains, summary.probed, summary.rows), (1, 1, 1));
        let page = String::from_utf8(out).expect("UTF-8");
        assert!(
            page.starts_with("<!DOCTYPE html><html lang=\"en\"><head>"),
            "{page}"
        );
        assert!(page.ends_with("</html>\n"));
        let lower = page.to_ascii_lowercase();
        assert_eq!(lower.matches("<style").count(), 1, "one style element");
        assert_eq!(lower.matches("</style").count(), 1);
        assert!(!lower.contains("<script"), "no script");
        assert!(page.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; img-src data:\">"
        ));
        // Title, masthead, the expiring table (host, subject, issuer), the providers (the
        // host is its own provider) and the domain table (host, provider); no raw piece of it
        // anywhere.
        assert_escaped(&PreEscaped(page.clone()), 8);
        for section in [
            "id=\"headline\"",
            "id=\"trends\"",
            "id=\"regressions\"",
            "id=\"expiring\"",
            "id=\"providers\"",
            "id=\"domains\"",
            "id=\"definitions\"",
        ] {
            assert_eq!(page.matches(section).count(), 1, "{section}");
        }
        assert_eq!(page.matches("<svg").count(), 2);
    }

    #[test]
    fn the_report_gives_the_authenticated_shares_and_each_domain_s_in_words() {
        use crate::model::auth::{DaneSetStatus as Dane, MtaStsOutcome as Sts};
        use crate::model::test_support::{address, mx_host, with_auth};
        let plain = |name: &str| {
            let host = mx_host(
                &format!("mx.{name}"),
                vec![address(Outcome::TlsOk, true, true)],
            );
            let domain = DomainName::parse(name).expect("valid");
            DomainResult::new(domain, false, None, at(0), vec![host])
        };
        let mut latest = Latest::default();
        let results = [
            with_auth(plain("a.example"), &[Dane::Valid], Sts::None),
            with_auth(plain("b.example"), &[Dane::Failed], Sts::None),
            with_auth(plain("c.example"), &[Dane::Unknown], Sts::EnforceOk),
        ];
        for result in results {
            latest.add(result.domain.clone(), Some(result), at(0));
        }
        let headline = headline_section(&latest.domains, 0, &latest.hosts.counts()).0;
        assert!(
            headline
                .contains("Authenticated transport: 3 testable domains with DANE / MTA-STS facts"),
            "{headline}"
        );
        assert!(
            headline.contains("DANE valid (of those whose DANE could be judged) (1 of 2)"),
            "unknown is left out: {headline}"
        );
        assert!(headline.contains("at risk (a DANE or MTA-STS sender defers mail) (1 of 3)"));
        let table = domains_section(&latest.rows, at(0)).0;
        assert!(
            table.contains("<td>at risk · DANE failed · MTA-STS none</td>"),
            "{table}"
        );
        assert!(table.contains("<td>authenticated · DANE unknown · MTA-STS enforce ok</td>"));
        // Results from before the facts: no such cards, a dash in the table.
        let mut old = Latest::default();
        old.add(
            DomainName::parse("old.example").expect("valid"),
            Some(plain("old.example")),
            at(0),
        );
        let headline = headline_section(&old.domains, 0, &old.hosts.counts()).0;
        assert!(!headline.contains("Authenticated transport"), "{headline}");
        assert!(
            domains_section(&old.rows, at(0))
                .0
                .contains("<td class=\"na\">–</td></tr>")
        );
    }

    /// A list "Big list" of 203 domains without STARTTLS (`ns000`…), one encrypted without
    /// forward secrecy, one at risk (DANE failed), two secure and one never probed.
    fn big_list_store(now: OffsetDateTime) -> Store {
        use crate::model::auth::{DaneSetStatus as Dane, MtaStsOutcome as Sts};
        use crate::model::test_support::with_auth;
        let store = Store::open_in_memory().expect("store");
        let list = store.create_list("Big list").expect("list");
        let result = |name: &str, outcome: Outcome, pfs: bool| {
            // One provider for all, so that no domain's name shows outside its own row.
            let host = mx_host(
                &format!("{}.mx.example", name.replace('.', "-")),
                vec![address(outcome, pfs, true)],
            );
            let domain = DomainName::parse(name).expect("valid");
            DomainResult::new(domain, false, None, now, vec![host])
        };
        let mut results: Vec<DomainResult> = (0..203)
            .map(|index| result(&format!("ns{index:03}.example"), Outcome::NoStarttls, true))
            .collect();
        results.push(result("nopfs.example", Outcome::TlsOk, false));
        results.push(with_auth(
            result("risky.example", Outcome::TlsOk, true),
            &[Dane::Failed],
            Sts::None,
        ));
        results.push(result("good1.example", Outcome::TlsOk, true));
        results.push(result("good2.example", Outcome::TlsOk, true));
        let mut names: Vec<DomainName> = results.iter().map(|r| r.domain.clone()).collect();
        names.push(DomainName::parse("never.example").expect("valid"));
        store.add_domains(Some(list), &names).expect("add");
        for result in &results {
            store.record_result(None, result, 14).expect("record");
        }
        store.refresh_rollup(Some(list), now).expect("roll-up");
        store
    }

    /// The page of "Big list" with the full table up to `full_table_up_to` domains.
    fn big_list_page(
        store: &Store,
        full_table_up_to: usize,
        now: OffsetDateTime,
    ) -> (String, ExportSummary) {
        let scope = Scope {
            list: store.require_list("Big list").ok(),
            list_name: Some("Big list".to_string()),
            since: None,
            generated_at: now,
        };
        let mut out = Vec::new();
        let summary = write(store, &scope, full_table_up_to, &mut out).expect("writes");
        (String::from_utf8(out).expect("UTF-8"), summary)
    }

    #[test]
    fn above_the_threshold_the_page_lists_the_problem_domains_and_points_to_the_exports() {
        let now = at(1_800_000_000);
        let store = big_list_store(now);
        let (page, summary) = big_list_page(&store, 207, now);
        assert_eq!((summary.domains, summary.probed), (208, 207));
        // The full table is left out: no secure domain and no unprobed one has a row.
        assert!(
            page.contains("All domains (208): not in this page"),
            "{page}"
        );
        assert!(!page.contains("good1.example") && !page.contains("never.example"));
        assert_eq!(
            page.matches("title=\"verdict ").count(),
            202,
            "the listed rows only"
        );
        // Figures, charts, events and expiring certificates stay.
        for section in [
            "id=\"headline\"",
            "id=\"trends\"",
            "id=\"regressions\"",
            "id=\"expiring\"",
        ] {
            assert_eq!(page.matches(section).count(), 1, "{section}");
        }
        assert!(page.contains("<svg"), "the charts");
        // The problem domains: counted whole, listed up to the cap per label, worst first.
        assert!(
            page.contains("Problem domains (205 of 207 probed)"),
            "{page}"
        );
        assert!(
            page.contains(&format!(
                "<td class=\"grade-no_starttls\">no STARTTLS</td><td>{}</td>\
                 <td class=\"num\">203</td><td class=\"num\">200</td>",
                Grade::NoStarttls.meaning()
            )),
            "{page}"
        );
        assert!(
            page.contains("202 of 205 problem domains listed."),
            "{page}"
        );
        assert_eq!(summary.rows, 202, "the rows listed");
        assert!(page.contains("ns199.example") && !page.contains("ns200.example"));
        assert!(
            page.contains("nopfs.example"),
            "encrypted without forward secrecy"
        );
        let risky = page.find("risky.example").expect("the at-risk domain");
        assert!(
            risky < page.find("ns000.example").expect("listed"),
            "at risk first"
        );
        // The page says so at the top and where the table would be, with the commands.
        assert_eq!(
            page.matches("The full domain table is left out of this page")
                .count(),
            2
        );
        assert!(page.find("class=\"notice\"") < page.find("id=\"headline\""));
        for command in [
            "starttls-monitor export --format csv --list &#x27;Big list&#x27; -o domains.csv",
            "starttls-monitor export --format json --list &#x27;Big list&#x27; -o domains.json",
            "starttls-monitor export --format html --full-table --list &#x27;Big list&#x27;",
        ] {
            assert_eq!(page.matches(command).count(), 2, "{command}: {page}");
        }
        assert!(
            page.contains("it carries the table up to 207 domains"),
            "{page}"
        );
    }

    #[test]
    fn up_to_the_threshold_the_page_has_the_full_table_as_before() {
        let now = at(1_800_000_000);
        let store = big_list_store(now);
        for up_to in [208, crate::report::FULL_TABLE_MAX_DOMAINS, usize::MAX] {
            let (page, summary) = big_list_page(&store, up_to, now);
            assert_eq!(summary.rows, 208);
            assert!(page.contains("All domains (208)</h2>"), "{page}");
            assert!(page.contains("good1.example") && page.contains("never.example"));
            assert!(page.contains("ns202.example"));
            assert!(!page.contains("id=\"problems\"") && !page.contains("class=\"notice\""));
            assert!(!page.contains("table is left out"));
        }
    }

    #[test]
    fn list_names_in_the_commands_are_one_shell_word() {
        assert_eq!(shell_word("Customers"), "Customers");
        assert_eq!(shell_word("de-2026_v1.5"), "de-2026_v1.5");
        assert_eq!(shell_word("Big list"), "'Big list'");
        assert_eq!(shell_word("it's $HOME"), "'it'\\''s $HOME'");
        assert_eq!(shell_word(""), "''");
        let note = table_left_out(3, 2, Some(HOSTILE)).0;
        assert_escaped(&PreEscaped(note.clone()), 0);
        assert!(!note.contains("<script"), "{note}");
        let note = table_left_out(3, 2, None).0;
        assert!(
            note.contains("starttls-monitor export --format csv -o domains.csv"),
            "{note}"
        );
    }

    #[test]
    fn the_authenticated_transport_chart_appears_once_a_day_has_the_facts() {
        use crate::model::test_support::trend_point;
        use time::macros::date;
        let old = trend_point(date!(2026 - 11 - 01), 4, 2, 0);
        let title = "Authenticated transport: share of testable domains";
        let section = trends_section(std::slice::from_ref(&old))
            .expect("charts")
            .0;
        assert!(!section.contains(title), "no facts: no chart");
        let mut new = trend_point(date!(2026 - 11 - 02), 4, 2, 0);
        new.domains.auth_testable = Some(4);
        new.domains.dane_valid = Some(1);
        new.domains.dane_known = Some(2);
        new.domains.sts_enforce = Some(1);
        new.domains.authenticated = Some(2);
        new.domains.at_risk = Some(1);
        let section = trends_section(&[old, new]).expect("charts").0;
        assert!(section.contains(title), "{section}");
        assert!(
            section.contains("at risk"),
            "the series' names in the legend"
        );
    }
}
