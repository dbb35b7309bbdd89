//! A domain's own history as a small chart in the detail pane, beside the text timeline: a
//! band coloured by what each stored run found (its grade) over time, and the days left on
//! the certificate (the soonest-ending one of the run's TLS sessions) as a line under it.
//!
//! Owns: turning a domain's stored runs into the chart's bands and expiry lines (pure, tested)
//! and drawing them. Must not touch: loading the history (the monitor does) or the timeline.

use eframe::egui;
use egui_plot::{Line, Plot, PlotPoints, Polygon};
use time::OffsetDateTime;

use super::day_axis;
use super::style::{self, Grade, GradeLook as _};
use crate::model::{DomainResult, Outcome};
use crate::monitor::view::DomainHistoryRun;

/// The y axis width of both plots, so their x scales line up.
const Y_AXIS_WIDTH: f32 = 40.0;

/// Seconds in a day, for the chart's x (days since 1970-01-01).
const DAY_SECONDS: f64 = 86_400.0;

/// A time as the chart's x: fractional days since 1970-01-01 (UTC).
fn chart_day(at: OffsetDateTime) -> f64 {
    at.unix_timestamp() as f64 / DAY_SECONDS
}

/// One stretch of the verdict band.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    /// From and to, in days since 1970-01-01.
    pub from: f64,
    pub to: f64,
    pub grade: Grade,
}

/// The chart of one domain: bands oldest first, and the days-to-expiry lines (one per run
/// that had a certificate, so a run without one leaves a gap).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryChart {
    pub bands: Vec<Band>,
    /// `[day, days left]` pairs, one line per run.
    pub expiry: Vec<Vec<[f64; 2]>>,
}

/// The earliest certificate end among a result's completed TLS sessions.
fn cert_end(result: &DomainResult) -> Option<OffsetDateTime> {
    result
        .mx
        .iter()
        .flat_map(|host| &host.addresses)
        .filter(|address| address.outcome == Outcome::TlsOk)
        .filter_map(|address| address.cert_not_after)
        .min()
}

/// The chart of `history` (stored runs, in any order) as of `now`: each run's band reaches to
/// the next run's start (the last one to its last confirmation, or a little past it so a run
/// seen once still shows); its expiry line goes from its first to its last confirmation.
pub fn history_chart(history: &[DomainHistoryRun], now: OffsetDateTime) -> HistoryChart {
    let mut runs: Vec<&DomainHistoryRun> = history.iter().collect();
    runs.sort_by_key(|run| run.first_at);
    let mut chart = HistoryChart::default();
    for (index, run) in runs.iter().enumerate() {
        let result = &run.result;
        // The app's label, at risk first (a TLSA record left behind shows as a red stretch).
        let grade = Grade::of_domain(
            result.sender.map(|sender| sender.at_risk),
            Some(result.verdict),
            result.pfs,
            result.strict_valid,
            result.tls_grade,
        );
        let from = chart_day(run.first_at);
        let to = match runs.get(index + 1) {
            Some(next) => chart_day(next.first_at),
            None => chart_day(
                run.last_at
                    .max(now.min(run.last_at + time::Duration::hours(12))),
            ),
        };
        chart.bands.push(Band {
            from,
            to: to.max(from + 0.02),
            grade,
        });
        if let Some(end) = cert_end(result) {
            let days_left = |at: OffsetDateTime| (end - at).whole_seconds() as f64 / DAY_SECONDS;
            let mut line = vec![[from, days_left(run.first_at)]];
            if run.last_at > run.first_at {
                line.push([chart_day(run.last_at), days_left(run.last_at)]);
            }
            chart.expiry.push(line);
        }
    }
    chart
}

/// Draws the chart of `history` (nothing when there is none).
pub fn history_chart_ui(ui: &mut egui::Ui, history: &[DomainHistoryRun], warning_days: u32) {
    let chart = history_chart(history, OffsetDateTime::now_utc());
    if chart.bands.is_empty() {
        return;
    }
    let dark_mode = ui.visuals().dark_mode;
    let days = day_axis::x_range(chart.bands.iter().flat_map(|band| [band.from, band.to]));
    let width = ui.available_width();
    let band_top = 1.0;
    let band_bottom = 0.0;
    let link = ui.scope_id().with("history_axes");
    ui.label(egui::RichText::new("History").strong())
        .on_hover_text("What each stored run found, and the days left on its certificate");
    day_axis::with_day_axis(Plot::new("history_band"), days, width)
        .height(46.0)
        .show_y(false)
        // An empty y axis as wide as the expiry chart's, so both share one time scale.
        .show_axes([false, true])
        .y_axis_min_width(Y_AXIS_WIDTH)
        .y_axis_formatter(|_, _| String::new())
        .show_grid([true, false])
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .include_y(band_bottom)
        .include_y(band_top)
        .link_axis(link, [true, false])
        .label_formatter(|hover| match hover {
            egui_plot::HoverPosition::NearDataPoint { plot_name, .. } => {
                Some(plot_name.to_string())
            }
            egui_plot::HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            for band in &chart.bands {
                let color = band.grade.color(dark_mode);
                let name = format!("{} {}", band.grade.icon(), band.grade.label());
                plot.polygon(
                    Polygon::new(
                        name,
                        PlotPoints::from(vec![
                            [band.from, band_bottom],
                            [band.to, band_bottom],
                            [band.to, band_top],
                            [band.from, band_top],
                        ]),
                    )
                    .fill_color(color.gamma_multiply(0.85))
                    .stroke(egui::Stroke::new(0.5, color)),
                );
            }
        });
    if chart.expiry.is_empty() {
        ui.label("No certificate seen yet.");
        return;
    }
    let expiry_color = style::color32(crate::model::adoption::Measure::StrictValid.rgb());
    let warning = f64::from(warning_days);
    day_axis::with_day_axis(Plot::new("history_expiry"), days, width)
        .height(120.0)
        .y_axis_min_width(Y_AXIS_WIDTH)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .include_y(0.0)
        .link_axis(link, [true, false])
        .y_axis_formatter(|mark, _| format!("{:.0} d", mark.value))
        .label_formatter(|hover| match hover {
            egui_plot::HoverPosition::NearDataPoint {
                position: value, ..
            } => Some(format!(
                "{}\n{:.0} days to certificate expiry",
                day_axis::day_label(egui_plot::GridMark {
                    value: value.x.round(),
                    step_size: 1.0
                }),
                value.y
            )),
            egui_plot::HoverPosition::Elsewhere { .. } => None,
        })
        .show(ui, |plot| {
            if let Some((low, high)) = days {
                // The expiry warning window of Settings, as a dashed line.
                plot.line(
                    Line::new(
                        "warning window",
                        PlotPoints::from(vec![[low, warning], [high, warning]]),
                    )
                    .color(Grade::Encrypted.color(dark_mode))
                    .style(egui_plot::LineStyle::dashed_loose())
                    .allow_hover(false),
                );
            }
            for line in &chart.expiry {
                plot.line(
                    Line::new("days to certificate expiry", PlotPoints::from(line.clone()))
                        .color(expiry_color)
                        .width(2.0),
                );
                plot.points(
                    egui_plot::Points::new(
                        "days to certificate expiry",
                        PlotPoints::from(line.clone()),
                    )
                    .color(expiry_color)
                    .radius(2.5),
                );
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_support::{address, mx_host};
    use crate::model::{DomainName, Verdict};

    fn at(days: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000 + days)
    }

    fn run(first: i64, last: i64, outcome: Outcome, cert_end: Option<i64>) -> DomainHistoryRun {
        let mut tls = address(outcome, true, true);
        tls.cert_not_after = cert_end.map(at);
        let result = DomainResult::new(
            DomainName::parse("a.example").expect("valid"),
            false,
            None,
            at(first),
            vec![mx_host("mx.a.example", vec![tls])],
        );
        DomainHistoryRun {
            first_at: at(first),
            last_at: at(last),
            times_seen: 1,
            result,
        }
    }

    #[test]
    fn bands_follow_the_runs_and_expiry_counts_down_within_a_run() {
        // Newest first, as the store hands them out.
        let history = [
            run(10, 20, Outcome::TlsOk, Some(100)),
            run(5, 9, Outcome::Untestable, None),
            run(0, 4, Outcome::TlsOk, Some(30)),
        ];
        let chart = history_chart(&history, at(20));
        let grades: Vec<Grade> = chart.bands.iter().map(|band| band.grade).collect();
        assert_eq!(grades, [Grade::Secure, Grade::Untestable, Grade::Secure]);
        assert_eq!(
            (chart.bands[0].from, chart.bands[0].to),
            (20_000.0, 20_005.0),
            "a band reaches to the next run"
        );
        assert_eq!(
            chart.bands[2].to, 20_020.0,
            "the last one to its last confirmation"
        );
        assert_eq!(
            chart.expiry,
            [
                vec![[20_000.0, 30.0], [20_004.0, 26.0]],
                vec![[20_010.0, 90.0], [20_020.0, 80.0]],
            ],
            "the untestable run leaves a gap; a new certificate jumps"
        );
        assert_eq!(
            Grade::of(Some(Verdict::Untestable), None, None, None),
            Grade::Untestable
        );
    }

    #[test]
    fn a_run_seen_once_still_has_a_visible_band() {
        let chart = history_chart(&[run(0, 0, Outcome::TlsOk, Some(30))], at(0));
        assert!(chart.bands[0].to > chart.bands[0].from);
        assert_eq!(chart.expiry, [vec![[20_000.0, 30.0]]]);
        assert!(history_chart(&[], at(0)).bands.is_empty());
    }

    #[test]
    fn a_stretch_at_risk_reads_at_risk_not_secure() {
        use crate::model::auth::{SenderOutcome, SenderView};
        let mut at_risk = run(5, 9, Outcome::TlsOk, Some(100));
        at_risk.result.sender = Some(SenderView {
            dane: SenderOutcome::Defers,
            mta_sts: SenderOutcome::Opportunistic,
            authenticated: false,
            at_risk: true,
        });
        let history = [at_risk, run(0, 4, Outcome::TlsOk, Some(30))];
        let grades: Vec<Grade> = history_chart(&history, at(9))
            .bands
            .iter()
            .map(|band| band.grade)
            .collect();
        assert_eq!(grades, [Grade::Secure, Grade::AtRisk]);
    }
}
