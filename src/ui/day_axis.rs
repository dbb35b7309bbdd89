//! The time axis every chart of the app shares: x is days since 1970-01-01 (UTC), labels are
//! dates at steps wide enough not to collide (a day, a week, a month, a quarter, a year), and
//! the visible range hugs the data (one day of data shows that day, not months around it).
//!
//! Owns: the day grid (which marks, how they read) and the x range of a set of days. Must not
//! touch: what the charts draw.

use egui_plot::{GridInput, GridMark, Plot};

use crate::model::adoption::date_of_day_number;

/// About how many pixels a date label needs (`2026-11-01` plus a gap).
const LABEL_WIDTH_PX: f64 = 88.0;

/// The grid steps, in days: a day, two days, a week, two weeks, a month, a quarter, half a year,
/// a year (months and years are their mean lengths; marks fall on the nearest day).
const STEPS: [f64; 8] = [1.0, 2.0, 7.0, 14.0, 30.44, 91.31, 182.62, 365.25];

/// The smallest step that leaves each label `LABEL_WIDTH_PX` when `span_days` are drawn over
/// `width_px` pixels; the largest step when even that is too narrow.
pub fn step_days(span_days: f64, width_px: f64) -> f64 {
    let days_per_px = span_days / width_px.max(1.0);
    let needed = days_per_px * LABEL_WIDTH_PX;
    STEPS
        .into_iter()
        .find(|&step| step >= needed)
        .unwrap_or(STEPS[STEPS.len() - 1])
}

/// The marks of a day axis over `bounds` (in days) drawn `width_px` wide: one per step, on
/// whole days (month steps and wider on the first of a month), so labels never overlap.
pub fn day_marks(bounds: (f64, f64), width_px: f64) -> Vec<GridMark> {
    let (low, high) = bounds;
    if !(low.is_finite() && high.is_finite()) || high <= low {
        return Vec::new();
    }
    let step = step_days(high - low, width_px);
    if step >= 28.0 {
        return month_marks(low, high, (step / 30.44).round().max(1.0) as i32, step);
    }
    let mut marks = Vec::new();
    let mut index = (low / step).ceil();
    while index * step <= high && marks.len() < 400 {
        marks.push(GridMark {
            value: (index * step).round(),
            step_size: step,
        });
        index += 1.0;
    }
    marks.dedup_by(|a, b| a.value == b.value);
    marks
}

/// Marks on the first day of every `months`-th month (counted from January) between `low`
/// and `high` (days).
fn month_marks(low: f64, high: f64, months: i32, step: f64) -> Vec<GridMark> {
    let (Some(start), Some(_)) = (
        date_of_day_number(low.floor() as i64),
        date_of_day_number(high.ceil() as i64),
    ) else {
        return Vec::new();
    };
    let mut year = start.year();
    let mut month = i32::from(u8::from(start.month()));
    // Align to a multiple of `months` from January.
    month = ((month - 1) / months) * months + 1;
    let mut marks = Vec::new();
    while marks.len() < 400 {
        let Ok(month_of_year) = time::Month::try_from(month as u8) else {
            break;
        };
        let Ok(first) = time::Date::from_calendar_date(year, month_of_year, 1) else {
            break;
        };
        let day = crate::model::adoption::day_number(first) as f64;
        if day > high {
            break;
        }
        if day >= low {
            marks.push(GridMark {
                value: day,
                step_size: step,
            });
        }
        month += months;
        while month > 12 {
            month -= 12;
            year += 1;
        }
    }
    marks
}

/// A day's label: `YYYY-MM-DD` at day and week steps, `YYYY-MM` at month steps and wider;
/// nothing between whole days.
pub fn day_label(mark: GridMark) -> String {
    let day = mark.value.round();
    if (mark.value - day).abs() > 0.01 {
        return String::new();
    }
    let Some(date) = date_of_day_number(day as i64) else {
        return String::new();
    };
    if mark.step_size >= 28.0 {
        format!("{}-{:02}", date.year(), u8::from(date.month()))
    } else {
        date.to_string()
    }
}

/// The x range to show for data on `days`: from the first to the last day, at least a day
/// either side of a single day (so one day of data does not stretch the axis for months).
pub fn x_range(days: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (low, high) = days
        .into_iter()
        .filter(|day| day.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), day| {
            (low.min(day), high.max(day))
        });
    if low > high {
        return None;
    }
    let pad = if high - low < 2.0 {
        1.0
    } else {
        (high - low) * 0.02
    };
    Some((low - pad, high + pad))
}

/// `plot` with the day axis: marks that fit `width_px`, date labels, and the x range of `days`
/// included (the plot still fits the data as it grows).
pub fn with_day_axis<'a>(plot: Plot<'a>, days: Option<(f64, f64)>, width_px: f32) -> Plot<'a> {
    let width = f64::from(width_px);
    let plot = plot
        .x_grid_spacer(move |input: GridInput| day_marks(input.bounds, width))
        .x_axis_formatter(|mark, _| day_label(mark));
    match days {
        Some((low, high)) => plot.include_x(low).include_x(high),
        None => plot,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_collide_at_1024_px() {
        // A year across a 480 px chart (half of a 1024 px window): month steps or wider.
        let marks = day_marks((20_000.0, 20_365.0), 480.0);
        assert!(marks.len() >= 2, "{marks:?}");
        for pair in marks.windows(2) {
            let px = (pair[1].value - pair[0].value) / 365.0 * 480.0;
            assert!(px >= LABEL_WIDTH_PX - 2.0, "{px} px between labels");
        }
        assert!(day_label(marks[0]).len() == 7, "{}", day_label(marks[0]));
        for mark in &marks {
            let date = date_of_day_number(mark.value as i64).expect("a date");
            assert_eq!(date.day(), 1, "month marks sit on the first: {date}");
        }
        // Ten days across 900 px: daily labels, full dates.
        let days = day_marks((20_000.0, 20_010.0), 900.0);
        assert_eq!(days.len(), 11);
        assert_eq!(day_label(days[0]), "2024-10-04");
    }

    #[test]
    fn one_day_of_data_shows_about_that_day() {
        let (low, high) = x_range([20_424.0]).expect("a range");
        assert_eq!((low, high), (20_423.0, 20_425.0));
        assert_eq!(x_range(std::iter::empty()), None);
        let (low, high) = x_range([20_000.0, 20_100.0]).expect("a range");
        assert!(low < 20_000.0 && low > 19_990.0 && high > 20_100.0 && high < 20_110.0);
    }

    #[test]
    fn marks_between_days_have_no_label() {
        let mark = GridMark {
            value: 20_000.5,
            step_size: 1.0,
        };
        assert_eq!(day_label(mark), "");
        assert!(day_marks((5.0, 5.0), 100.0).is_empty());
    }
}
