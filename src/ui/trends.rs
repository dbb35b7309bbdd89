//! The Trends tab: adoption over time for the selected list (% STARTTLS, % PFS, % strict,
//! % all three, % weak TLS, % untestable, and beside them % DANE valid, % MTA-STS enforce,
//! % authenticated, % at risk on the days that have those facts), by domains, by unique MX
//! hosts or by mail volume; the provider breakdown; the
//! TLS version mix over time.
//!
//! Owns: turning trend points into chart series (pure, tested) and drawing them with
//! egui_plot. Must not touch: how trend points are computed (the store does, per DESIGN.md).

use std::collections::{BTreeMap, BTreeSet};

use eframe::egui::{self, Color32};
use egui_plot::{Bar, BarChart, Line, LineStyle, Plot, PlotPoints, Points, VLine};

use super::day_axis;
use super::saved::TrendBasis;
use super::style::{self, Grade, GradeLook};
use crate::model::NetworkPath;
use crate::model::adoption::{
    Basis, Measure, day_number, share, share_series, volume_share, volume_share_series,
};
use crate::model::weight::format_volume;
use crate::monitor::view::{ProviderRow, TrendCounts, TrendPoint};

/// One line of a trend chart: percentage points with the counts behind each.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series' word for people (`Measure::label`, the report's too).
    pub name: &'static str,
    pub measure: Measure,
    /// `[day number since 1970-01-01, percent]`.
    pub points: Vec<[f64; 2]>,
    /// `(count, out of, date)` for each point, for hover labels: domains or hosts, or sums of
    /// weights by mail volume.
    pub counts: Vec<(f64, f64, String)>,
}

/// The x coordinate of a day on the trend charts.
fn chart_x(date: time::Date) -> f64 {
    day_number(date) as f64
}

/// The adoption series of DESIGN.md for `basis`: shares of testable domains (or MX hosts)
/// with STARTTLS, PFS, strict validation, all three, weak TLS; untestable as a share of all
/// that take mail; then the authenticated-transport shares ([`Measure::AUTH`]), left out when
/// no day has their facts (history from before they existed draws no empty legend entry).
pub fn adoption_series(points: &[TrendPoint], basis: TrendBasis) -> Vec<Series> {
    let basis = match basis {
        TrendBasis::Domains => Basis::Domains,
        TrendBasis::MxHosts => Basis::MxHosts,
        TrendBasis::Volume => return volume_series(points),
    };
    share_series(points, basis, &Measure::WITH_AUTH)
        .into_iter()
        .filter(|series| !series.points.is_empty() || !Measure::AUTH.contains(&series.measure))
        .map(|series| Series {
            name: series.measure.label(),
            measure: series.measure,
            points: series
                .points
                .iter()
                .map(|point| [chart_x(point.date), point.percent])
                .collect(),
            counts: series
                .points
                .iter()
                .map(|point| {
                    (
                        point.count as f64,
                        point.out_of as f64,
                        point.date.to_string(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// A marker on the adoption chart where the scans' network path changed: its x (the UTC day)
/// and its name ("path: socks5://HOST:PORT", "path: direct").
pub fn path_markers(changes: &[(time::OffsetDateTime, NetworkPath)]) -> Vec<(f64, String)> {
    changes
        .iter()
        .map(|(at, path)| {
            let day = at.to_offset(time::UtcOffset::UTC).date();
            (chart_x(day), format!("path: {path}"))
        })
        .collect()
}

/// The series weighted by mail volume; days from before weights existed have no point (and
/// the authenticated-transport series are left out when no day has their facts).
fn volume_series(points: &[TrendPoint]) -> Vec<Series> {
    volume_share_series(points, &Measure::WITH_AUTH)
        .into_iter()
        .filter(|series| !series.points.is_empty() || !Measure::AUTH.contains(&series.measure))
        .map(|series| Series {
            name: series.measure.label(),
            measure: series.measure,
            points: series
                .points
                .iter()
                .map(|point| [chart_x(point.date), point.percent])
                .collect(),
            counts: series
                .points
                .iter()
                .map(|point| (point.volume, point.out_of, point.date.to_string()))
                .collect(),
        })
        .collect()
}

/// Each TLS version's share of testable domains over time.
pub fn tls_version_series(points: &[TrendPoint]) -> Vec<(String, Vec<[f64; 2]>)> {
    let versions: BTreeSet<&String> = points.iter().flat_map(|p| p.tls_versions.keys()).collect();
    versions
        .into_iter()
        .map(|version| {
            let line = points
                .iter()
                .filter_map(|point| {
                    let count = point.tls_versions.get(version).copied().unwrap_or(0);
                    let percent = share(count, point.domains.testable)?;
                    Some([chart_x(point.date), percent])
                })
                .collect();
            (version.clone(), line)
        })
        .collect()
}

/// A series' colour: the one the report uses too (`Measure::rgb`).
fn series_color(measure: Measure) -> Color32 {
    style::color32(measure.rgb())
}

/// The Trends tab and its basis toggle (saved across restarts).
#[derive(Debug, Default)]
pub struct TrendsTab {
    basis: TrendBasis,
}

impl TrendsTab {
    /// The tab counting by `basis`.
    pub fn new(basis: TrendBasis) -> Self {
        Self { basis }
    }

    /// Whether the charts count domains, unique MX hosts or mail volume.
    pub fn basis(&self) -> TrendBasis {
        self.basis
    }

    /// Draws the charts of `view`'s list.
    pub fn ui(&mut self, ui: &mut egui::Ui, view: &crate::monitor::view::ViewSnapshot) {
        let points = &view.trends;
        let providers = &view.providers;
        let list_name = view.list.clone().unwrap_or_else(|| "All domains".into());
        ui.horizontal(|ui| {
            ui.heading(format!("Trends: {list_name}"));
            ui.separator();
            ui.label("Count");
            ui.radio_value(&mut self.basis, TrendBasis::Domains, "domains");
            ui.radio_value(&mut self.basis, TrendBasis::MxHosts, "unique MX hosts");
            ui.radio_value(&mut self.basis, TrendBasis::Volume, "mail volume")
                .on_hover_text(
                    "Each domain counts by its weight in the list (messages per period, from an \
                     imported volume column or the domain detail; 1 when not given)",
                );
        });
        if points.is_empty() {
            ui.add_space(20.0);
            ui.label("No trend yet: each finished scan adds a point for its UTC day.");
            return;
        }
        let basis = self.basis;
        let series = adoption_series(points, basis);
        if basis == TrendBasis::Volume {
            volume_note_ui(ui, view, &series);
        }
        ui.label(
            egui::RichText::new(format!("Latest shares {}", basis.of_what()))
                .small()
                .weak(),
        );
        headline_ui(ui, &series);
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.label(egui::RichText::new("Adoption over time (% of testable)").strong());
                    ui.label(egui::RichText::new(basis.of_what()).weak());
                });
                adoption_plot_ui(
                    ui,
                    &series,
                    &path_markers(&view.path_changes),
                    days_of(points),
                );
                ui.add_space(8.0);
                ui.columns(2, |columns| {
                    if basis == TrendBasis::Volume {
                        columns[0].label(
                            egui::RichText::new("Mail providers by mail volume (latest results)")
                                .strong(),
                        );
                        provider_volume_ui(&mut columns[0], providers, view.weight_total);
                    } else {
                        columns[0]
                            .label(egui::RichText::new("Mail providers (latest results)").strong());
                        provider_chart_ui(&mut columns[0], providers);
                    }
                    columns[1].label(
                        egui::RichText::new("TLS version mix (% of testable domains)").strong(),
                    );
                    tls_mix_plot_ui(&mut columns[1], points);
                });
            });
    }
}

fn headline_ui(ui: &mut egui::Ui, series: &[Series]) {
    ui.horizontal_wrapped(|ui| {
        for line in series {
            let (Some(point), Some((count, total, date))) =
                (line.points.last(), line.counts.last())
            else {
                continue;
            };
            ui.vertical(|ui| {
                ui.label(
                    egui::RichText::new(format!("{:.1}%", point[1]))
                        .size(22.0)
                        .color(series_color(line.measure)),
                );
                ui.label(format!(
                    "{}: {} of {}",
                    line.name,
                    format_volume(*count),
                    format_volume(*total)
                ))
                .on_hover_text(format!("as of {date}"));
            });
            ui.add_space(18.0);
        }
    });
}

/// A plot of percentages (0-100 %) by UTC day over `days` (first and last x), date labels that
/// fit `width` (`day_axis`); the legend is a row above it (never over the data): the look both
/// trend charts share.
fn percent_by_day_plot(
    id: &'static str,
    height: f32,
    days: Option<(f64, f64)>,
    width: f32,
) -> Plot<'static> {
    let plot = Plot::new(id)
        .height(height)
        .include_y(0.0)
        .include_y(100.0)
        .allow_scroll(false)
        .y_axis_formatter(|mark, _| format!("{:.0}%", mark.value));
    day_axis::with_day_axis(plot, days, width)
}

/// The x range of some trend points (`day_axis::x_range`).
fn days_of(points: &[TrendPoint]) -> Option<(f64, f64)> {
    day_axis::x_range(points.iter().map(|point| chart_x(point.date)))
}

fn adoption_plot_ui(
    ui: &mut egui::Ui,
    series: &[Series],
    markers: &[(f64, String)],
    days: Option<(f64, f64)>,
) {
    let lookup: BTreeMap<&str, &Series> = series.iter().map(|line| (line.name, line)).collect();
    let width = ui.available_width();
    legend_row_ui(
        ui,
        &series
            .iter()
            .map(|line| (line.name.to_string(), series_color(line.measure)))
            .collect::<Vec<_>>(),
    );
    percent_by_day_plot("adoption_plot", 260.0, days, width)
        .label_formatter(move |hover| match hover {
            egui_plot::HoverPosition::NearDataPoint {
                plot_name, index, ..
            } => {
                let line = lookup.get(plot_name)?;
                let (count, total, date) = line.counts.get(*index)?;
                let value = line.points.get(*index)?[1];
                Some(format!(
                    "{plot_name} on {date}\n{value:.1}% ({} of {})",
                    format_volume(*count),
                    format_volume(*total)
                ))
            }
            egui_plot::HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            for line in series {
                let color = series_color(line.measure);
                plot.line(
                    Line::new(line.name, PlotPoints::from(line.points.clone()))
                        .color(color)
                        .width(2.0),
                );
                // Markers, so each day's value shows even before there is a line to draw.
                plot.points(
                    Points::new(line.name, PlotPoints::from(line.points.clone()))
                        .color(color)
                        .radius(3.5),
                );
            }
            // Where the vantage point changed (direct / a proxy): results may differ there.
            for (x, name) in markers {
                plot.vline(
                    VLine::new(name.clone(), *x)
                        .color(Color32::GRAY)
                        .style(LineStyle::dashed_loose()),
                );
            }
        });
}

/// Above the volume charts: "of your mail: 97.3 % encrypted, 81.0 % with all three", or why
/// there is nothing to show by volume.
fn volume_note_ui(ui: &mut egui::Ui, view: &crate::monitor::view::ViewSnapshot, series: &[Series]) {
    if series.iter().all(|line| line.points.is_empty()) {
        ui.label(
            "No figures by mail volume yet: the roll-ups so far were written before weights \
             existed; the next scan adds them.",
        );
    } else if !view.weighted {
        ui.label(
            egui::RichText::new(
                "This list has no weights: every domain weighs 1, so these are the domain \
                 shares. Import a CSV with a volume column, or set weights in the domain detail.",
            )
            .weak(),
        );
    }
    if let Some(sentence) = volume_sentence(&view.trends) {
        ui.label(egui::RichText::new(sentence).strong());
    }
}

/// The latest point's share of mail, in words (None before weighted figures exist).
pub fn volume_sentence(points: &[TrendPoint]) -> Option<String> {
    let volume = points
        .iter()
        .rev()
        .find_map(|point| point.volume.as_ref())?;
    let encrypted = volume_share(volume.starttls, volume.testable)?;
    let all_three = volume_share(volume.all_three, volume.testable)?;
    Some(format!(
        "Of your mail: {encrypted:.1} % encrypted, {all_three:.1} % with all three"
    ))
}

/// Each provider's share of the list's mail, largest first: "62.0 % of your mail goes to
/// google.com's MX hosts".
pub fn provider_volume_shares(providers: &[ProviderRow], weight_total: f64) -> Vec<(String, f64)> {
    let whole = if weight_total > 0.0 {
        weight_total
    } else {
        providers.iter().map(|row| row.volume.total).sum()
    };
    let mut shares: Vec<(String, f64)> = providers
        .iter()
        .filter_map(|row| Some((row.provider.clone(), volume_share(row.volume.total, whole)?)))
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    shares
}

fn provider_volume_ui(ui: &mut egui::Ui, providers: &[ProviderRow], weight_total: f64) {
    let shares = provider_volume_shares(providers, weight_total);
    let Some((top, top_share)) = shares.first() else {
        ui.label("No provider data yet.");
        return;
    };
    ui.label(format!(
        "{top_share:.0} % of your mail goes to {top}'s MX hosts"
    ));
    let dark_mode = ui.visuals().dark_mode;
    egui::Grid::new("provider_volume")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            for (provider, share) in &shares {
                let row = providers.iter().find(|row| &row.provider == provider);
                ui.label(provider);
                ui.label(format!("{share:.1} % of mail"));
                match row.and_then(|row| volume_share(row.volume.all_three, row.volume.testable)) {
                    Some(secure) => ui.label(
                        egui::RichText::new(format!("{secure:.0} % of it with all three")).color(
                            if secure >= 90.0 {
                                Grade::Secure.color(dark_mode)
                            } else if secure >= 50.0 {
                                Grade::Encrypted.color(dark_mode)
                            } else {
                                Grade::NoStarttls.color(dark_mode)
                            },
                        ),
                    ),
                    None => ui.label("–"),
                };
                ui.end_row();
            }
        });
}

/// The provider bars' segments, best first: a name, its grade (colour) and its count.
const PROVIDER_SEGMENTS: [(&str, Grade); 4] = [
    ("secure (all three)", Grade::Secure),
    ("encrypted only", Grade::Encrypted),
    ("no STARTTLS / failed", Grade::NoStarttls),
    ("untestable", Grade::Untestable),
];

/// How many of a provider's domains fall in segment `index` of [`PROVIDER_SEGMENTS`].
fn provider_segment(counts: &TrendCounts, index: usize) -> usize {
    match index {
        0 => counts.all_three,
        1 => counts.starttls.saturating_sub(counts.all_three),
        2 => counts.testable.saturating_sub(counts.starttls),
        _ => counts.total.saturating_sub(counts.testable),
    }
}

/// What hovering a provider's bar segment says: `gmail.com: 14 of 20 secure (all three)`.
pub fn provider_hover(provider: &ProviderRow, index: usize) -> String {
    let (name, _) = PROVIDER_SEGMENTS[index.min(PROVIDER_SEGMENTS.len() - 1)];
    format!(
        "{}: {} of {} {name}",
        provider.provider,
        provider_segment(&provider.counts, index),
        provider.counts.total
    )
}

/// A legend drawn above a chart (never over its bars): a coloured square and a word each.
fn legend_row_ui(ui: &mut egui::Ui, entries: &[(String, Color32)]) {
    ui.horizontal_wrapped(|ui| {
        for (name, color) in entries {
            ui.label(egui::RichText::new("■").color(*color));
            ui.label(name.as_str());
            ui.add_space(6.0);
        }
    });
}

fn provider_chart_ui(ui: &mut egui::Ui, providers: &[ProviderRow]) {
    let dark_mode = ui.visuals().dark_mode;
    if providers.is_empty() {
        ui.label("No provider data yet.");
        return;
    }
    legend_row_ui(
        ui,
        &PROVIDER_SEGMENTS.map(|(name, grade)| (name.to_string(), grade.color(dark_mode))),
    );
    // One horizontal bar per provider, stacked by status, largest provider on top.
    let names: Vec<String> = providers.iter().map(|p| p.provider.clone()).collect();
    let count = providers.len();
    let position = |index: usize| (count - 1 - index) as f64;
    let mut charts: Vec<BarChart> = Vec::new();
    for (segment, (name, grade)) in PROVIDER_SEGMENTS.into_iter().enumerate() {
        let chart = BarChart::new(
            name,
            providers
                .iter()
                .enumerate()
                .map(|(index, provider)| {
                    Bar::new(
                        position(index),
                        provider_segment(&provider.counts, segment) as f64,
                    )
                    .name(provider_hover(provider, segment))
                    .width(0.7)
                })
                .collect(),
        )
        .horizontal()
        .color(grade.color(dark_mode))
        // The value shows as a tooltip at the pointer (below), never clipped at the edge.
        .allow_hover(false);
        let below: Vec<&BarChart> = charts.iter().collect();
        let chart = chart.stack_on(&below);
        charts.push(chart);
    }
    let response = Plot::new("provider_plot")
        .height(24.0 * count as f32 + 40.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .include_x(0.0)
        .y_axis_formatter(move |mark, _| {
            let index = mark.value.round();
            if (mark.value - index).abs() > 0.01 || index < 0.0 || index as usize >= count {
                return String::new();
            }
            names
                .get(count.saturating_sub(1 + index as usize))
                .cloned()
                .unwrap_or_default()
        })
        .x_axis_formatter(|mark, _| format!("{:.0}", mark.value))
        .show(ui, |plot| {
            for chart in charts {
                plot.bar_chart(chart);
            }
            plot.pointer_coordinate()
        });
    if let Some(pointer) = response.inner
        && response.response.hovered()
        && let Some(text) = provider_at(providers, pointer.x, pointer.y)
    {
        response.response.on_hover_text_at_pointer(text);
    }
}

/// What the pointer at (`x` domains, `y` row) of the provider chart is over: that provider's
/// segment, in words ([`provider_hover`]); None off the bars.
pub fn provider_at(providers: &[ProviderRow], x: f64, y: f64) -> Option<String> {
    let count = providers.len();
    let row = y.round();
    if row < 0.0 || (y - row).abs() > 0.35 || x < 0.0 {
        return None;
    }
    let index = count.checked_sub(1 + row as usize)?;
    let provider = providers.get(index)?;
    let mut end = 0.0;
    for segment in 0..PROVIDER_SEGMENTS.len() {
        end += provider_segment(&provider.counts, segment) as f64;
        if x < end {
            return Some(provider_hover(provider, segment));
        }
    }
    None
}

/// The TLS versions' colours, oldest (worst) first: SSL and TLS 1.0 red, 1.1 orange, 1.2 blue,
/// 1.3 green.
fn tls_version_color(version: &str) -> Color32 {
    match version {
        "TLSv1.3" => Color32::from_rgb(0x22, 0xa0, 0x6b),
        "TLSv1.2" => Color32::from_rgb(0x3b, 0x82, 0xf6),
        "TLSv1.1" => Color32::from_rgb(0xf0, 0x9a, 0x3e),
        _ => Color32::from_rgb(0xe1, 0x5a, 0x5a),
    }
}

/// What hovering a day's segment of the TLS mix says: `2026-11-01: TLSv1.1 3 of 40 (7.5%)`.
pub fn tls_mix_hover(point: &TrendPoint, version: &str) -> String {
    let count = point.tls_versions.get(version).copied().unwrap_or(0);
    let percent = share(count, point.domains.testable).unwrap_or(0.0);
    format!(
        "{}: {version} {count} of {} ({percent:.1}%)",
        point.date, point.domains.testable
    )
}

/// The TLS mix as stacked bars per day, oldest version at the bottom: each version keeps its
/// own segment, so TLS 1.1 never hides behind TLS 1.2 when their shares are equal.
fn tls_mix_plot_ui(ui: &mut egui::Ui, points: &[TrendPoint]) {
    let series = tls_version_series(points);
    if series.is_empty() {
        ui.label("No TLS sessions yet.");
        return;
    }
    legend_row_ui(
        ui,
        &series
            .iter()
            .map(|(version, _)| (version.clone(), tls_version_color(version)))
            .collect::<Vec<_>>(),
    );
    let by_day: BTreeMap<i64, &TrendPoint> = points
        .iter()
        .map(|point| (day_number(point.date), point))
        .collect();
    let mut charts: Vec<BarChart> = Vec::new();
    for (version, line) in &series {
        let bars = line
            .iter()
            .map(|&[day, percent]| {
                let name = by_day
                    .get(&(day.round() as i64))
                    .map(|point| tls_mix_hover(point, version))
                    .unwrap_or_default();
                Bar::new(day, percent).name(name).width(0.8)
            })
            .collect();
        let chart = BarChart::new(version.clone(), bars)
            .color(tls_version_color(version))
            .element_formatter(Box::new(|bar, _| bar.name.clone()));
        let below: Vec<&BarChart> = charts.iter().collect();
        let chart = chart.stack_on(&below);
        charts.push(chart);
    }
    let width = ui.available_width();
    percent_by_day_plot("tls_mix_plot", 220.0, days_of(points), width).show(ui, |plot| {
        for chart in charts {
            plot.bar_chart(chart);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::trend_point as point;
    use time::macros::date;

    #[test]
    fn a_path_change_is_marked_on_its_day() {
        let at = time::macros::datetime!(2026-12-01 23:30 UTC);
        let markers = path_markers(&[(
            at,
            NetworkPath::Socks5 {
                endpoint: "127.0.0.1:1080".into(),
            },
        )]);
        assert_eq!(
            markers,
            [(
                chart_x(time::macros::date!(2026 - 12 - 01)),
                "path: socks5://127.0.0.1:1080".to_string()
            )]
        );
    }

    #[test]
    fn adoption_is_a_share_of_testable_and_untestable_a_share_of_all_taking_mail() {
        let points = [
            point(date!(2026 - 11 - 01), 10, 5, 0),
            point(date!(2026 - 11 - 02), 8, 6, 2),
        ];
        let series = adoption_series(&points, TrendBasis::Domains);
        let all_three = &series[3];
        assert_eq!(all_three.points, [[20_758.0, 50.0], [20_759.0, 75.0]]);
        assert_eq!(all_three.counts[1], (6.0, 8.0, "2026-11-02".to_string()));
        assert_eq!(series[4].name, "weak TLS");
        let untestable = &series[5];
        assert_eq!(
            untestable.points[1],
            [20_759.0, 20.0],
            "2 of 10 that take mail"
        );
        let hosts = adoption_series(&points, TrendBasis::MxHosts);
        assert_eq!(hosts[2].points[0][1], 50.0, "2 of 4 MX hosts strict");
    }

    #[test]
    fn days_round_trip_to_dates() {
        assert_eq!(chart_x(date!(2026 - 11 - 01)), 20_758.0);
    }

    #[test]
    fn provider_and_tls_mix_bars_say_their_values_on_hover() {
        let provider = ProviderRow {
            provider: "gmail.com".to_string(),
            counts: point(date!(2026 - 11 - 01), 20, 14, 2).domains,
            volume: Default::default(),
        };
        assert_eq!(
            provider_hover(&provider, 0),
            "gmail.com: 14 of 23 secure (all three)"
        );
        assert_eq!(
            provider_hover(&provider, 1),
            "gmail.com: 6 of 23 encrypted only"
        );
        assert_eq!(
            provider_hover(&provider, 3),
            "gmail.com: 3 of 23 untestable"
        );
        let mut day = point(date!(2026 - 11 - 01), 40, 10, 0);
        day.tls_versions.insert("TLSv1.1".to_string(), 3);
        day.tls_versions.insert("TLSv1.2".to_string(), 3);
        assert_eq!(
            tls_mix_hover(&day, "TLSv1.1"),
            "2026-11-01: TLSv1.1 3 of 40 (7.5%)"
        );
        // TLS 1.1 and 1.2 at the same share are two segments, 1.1 below, in their own colours.
        let mix = tls_version_series(&[day]);
        let names: Vec<&str> = mix.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["TLSv1.1", "TLSv1.2", "TLSv1.3"]);
        assert_ne!(tls_version_color("TLSv1.1"), tls_version_color("TLSv1.2"));
    }

    #[test]
    fn tls_mix_is_a_share_of_testable_domains() {
        let points = [point(date!(2026 - 11 - 01), 10, 5, 0)];
        let mix = tls_version_series(&points);
        assert_eq!(mix, [("TLSv1.3".to_string(), vec![[20_758.0, 50.0]])]);
    }

    #[test]
    fn the_authenticated_transport_series_are_drawn_beside_on_days_with_their_facts() {
        let old = point(date!(2026 - 11 - 01), 10, 5, 0);
        let mut new = point(date!(2026 - 11 - 02), 10, 5, 0);
        new.domains.auth_testable = Some(8);
        new.domains.dane_valid = Some(2);
        new.domains.dane_known = Some(4);
        new.domains.sts_enforce = Some(1);
        new.domains.authenticated = Some(3);
        new.domains.at_risk = Some(2);
        let before = adoption_series(std::slice::from_ref(&old), TrendBasis::Domains);
        assert_eq!(before.len(), 6, "no facts yet: no empty series");
        let series = adoption_series(&[old, new], TrendBasis::Domains);
        let names: Vec<&str> = series.iter().map(|series| series.name).collect();
        assert_eq!(
            names[6..],
            ["DANE valid", "MTA-STS enforce", "authenticated", "at risk"]
        );
        let dane = &series[6];
        assert_eq!(
            dane.points,
            [[20_759.0, 50.0]],
            "2 of the 4 judged; no point before"
        );
        assert_eq!(
            series[8].points,
            [[20_759.0, 37.5]],
            "3 of 8 with the facts"
        );
        assert_ne!(
            series_color(Measure::AtRisk),
            series_color(Measure::AllThree)
        );
    }
}
