//! Trend charts as inline SVG, drawn with `plotters` (SVG backend only: text becomes `<text>`
//! elements the browser renders, so no font files are needed).
//!
//! Owns: chart look (size, colours, axes). Must not touch: any text from servers or files;
//! every label here is ours (dates, percentages, series names).
//!
//! The HTML report inserts this SVG as it is (`maud::PreEscaped`, no second escaping). That is
//! safe because no text from outside can reach it: the chart title and the series names are
//! `&'static str` (a list name or a host name cannot be passed), and the axis labels are dates
//! and percentages formatted here. Should a label ever carry outside text, plotters' SVG
//! backend escapes text and attribute values (`<`, `>`, `&`, `"`, `'`) itself; a test below
//! holds it to that.

use plotters::prelude::*;

use super::ReportError;

/// Width and height of every chart, in SVG user units (the page scales them).
const SIZE: (u32, u32) = (880, 340);

/// One line of a share chart.
pub struct Series {
    /// Legend text.
    pub name: &'static str,
    /// Line colour.
    pub color: RGBColor,
    /// (day number since the epoch, percent 0..=100).
    pub points: Vec<(i64, f64)>,
}

fn date_label(day: &i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day * 86_400)
        .map(|at| at.date().to_string())
        .unwrap_or_default()
}

/// Where a chart's legend goes: the corner whose area holds the fewest points, so it covers
/// as little of the lines as it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegendCorner {
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
    MiddleLeft,
    MiddleRight,
}

impl LegendCorner {
    fn position(self) -> SeriesLabelPosition {
        match self {
            LegendCorner::UpperLeft => SeriesLabelPosition::UpperLeft,
            LegendCorner::UpperRight => SeriesLabelPosition::UpperRight,
            LegendCorner::LowerLeft => SeriesLabelPosition::LowerLeft,
            LegendCorner::LowerRight => SeriesLabelPosition::LowerRight,
            LegendCorner::MiddleLeft => SeriesLabelPosition::MiddleLeft,
            LegendCorner::MiddleRight => SeriesLabelPosition::MiddleRight,
        }
    }
}

/// The legend's corner for `series` drawn over days `first..last` and 0-100 %: the one of six
/// boxes (a quarter of the width, 40 % of the height each) with the fewest points in it; the
/// lower right on a tie (where it always was).
pub fn legend_corner(series: &[Series], first: i64, last: i64) -> LegendCorner {
    let span = (last - first).max(1) as f64;
    let boxes = [
        (LegendCorner::LowerRight, 0.75, 0.0),
        (LegendCorner::LowerLeft, 0.0, 0.0),
        (LegendCorner::MiddleRight, 0.75, 30.0),
        (LegendCorner::MiddleLeft, 0.0, 30.0),
        (LegendCorner::UpperRight, 0.75, 60.0),
        (LegendCorner::UpperLeft, 0.0, 60.0),
    ];
    let inside = |(left, bottom): (f64, f64)| {
        series
            .iter()
            .flat_map(|line| line.points.iter())
            .filter(|(day, percent)| {
                let x = (*day - first) as f64 / span;
                (left..=left + 0.25).contains(&x) && (bottom..=bottom + 40.0).contains(percent)
            })
            .count()
    };
    boxes
        .into_iter()
        .min_by_key(|(_, left, bottom)| inside((*left, *bottom)))
        .map_or(LegendCorner::LowerRight, |(corner, _, _)| corner)
}

/// A line chart of shares (0-100 %) over UTC days, as an `<svg>` element for inline use.
/// `title` is ours (`'static`): the page inserts the SVG unescaped.
pub fn share_chart(title: &'static str, series: &[Series]) -> Result<String, ReportError> {
    let fail = |problem: String| ReportError::Chart {
        chart: title.to_string(),
        problem,
    };
    let days = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(day, _)| *day));
    let (first, last) = days.fold((i64::MAX, i64::MIN), |(low, high), day| {
        (low.min(day), high.max(day))
    });
    let (first, last) = if first > last {
        (0, 1)
    } else if first == last {
        (first - 1, last + 1)
    } else {
        (first, last)
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .margin_right(48)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(first..last, 0f64..100f64)
            .map_err(|e| fail(e.to_string()))?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&date_label)
            .y_label_formatter(&|value| format!("{value:.0} %"))
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        // Earlier series are drawn wider, so lines with equal values show as nested stripes
        // instead of hiding each other.
        for (index, line) in series.iter().enumerate() {
            let color = line.color;
            let width = [7, 5, 3, 2].get(index).copied().unwrap_or(2);
            chart
                .draw_series(
                    LineSeries::new(line.points.iter().copied(), color.stroke_width(width))
                        .point_size(3),
                )
                .map_err(|e| fail(e.to_string()))?
                .label(line.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .position(legend_corner(series, first, last).position())
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0xcc, 0xcc, 0xcc))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    // Inline SVG in HTML needs no namespace declaration; dropping it keeps the report free of
    // any URL-looking text.
    Ok(svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_goes_where_the_lines_are_not() {
        let line = |name, points: Vec<(i64, f64)>| Series {
            name,
            color: RGBColor(0, 0, 0),
            points,
        };
        // Rates near the top, weak TLS near the bottom on the right: the middle is free.
        let series = [
            line("all three", (0..100).map(|day| (day, 95.0)).collect()),
            line("weak TLS", (0..100).map(|day| (day, 10.0)).collect()),
        ];
        assert_eq!(legend_corner(&series, 0, 99), LegendCorner::MiddleRight);
        // Nothing drawn: where it always was.
        assert_eq!(legend_corner(&[], 0, 1), LegendCorner::LowerRight);
    }

    #[test]
    fn draws_an_svg_with_our_labels() {
        let svg = share_chart(
            "Domains",
            &[Series {
                name: "STARTTLS",
                color: RGBColor(0x3b, 0x82, 0xf6),
                points: vec![(20_000, 50.0), (20_001, 75.0)],
            }],
        )
        .expect("draws");
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.contains("STARTTLS"));
        assert!(svg.contains("2024-10-04"));
        assert!(!svg.contains("http"));
    }

    #[test]
    fn plotters_escapes_label_text() {
        let svg = share_chart(
            "<script>alert('x')</script> & \"",
            &[Series {
                name: "</style><b>",
                color: RGBColor(0x0e, 0x9a, 0xa7),
                points: vec![(20_000, 50.0)],
            }],
        )
        .expect("draws");
        assert!(!svg.contains("<script") && !svg.contains("</style") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; &quot;"));
        assert!(svg.contains("&lt;/style&gt;&lt;b&gt;"));
    }

    #[test]
    fn one_point_and_no_points_still_draw() {
        let one = share_chart(
            "One",
            &[Series {
                name: "PFS",
                color: RGBColor(0xa8, 0x55, 0xf7),
                points: vec![(20_000, 10.0)],
            }],
        )
        .expect("draws");
        assert!(one.contains("<circle"));
        share_chart("None", &[]).expect("draws an empty frame");
    }
}
