//! The run-duration chart of the dashboard: P50 and P95 run duration per run type as grouped
//! bars, on the shared canvas, empty state and text alternative of the parent module.

use app::model::RunTypeDurations;
use plotters::prelude::*;

use super::{
    short_label, title_style, Area, Canvas, ChartFrame, DrawResult, TickAxis, BLUE, MARGIN, ORANGE,
};

/// Renders P50 and P95 run duration, in seconds, per run type as a grouped bar chart.
///
/// Rows without any finite percentile (no finished run yet) are left out; when none is
/// left the chart says "no finished runs yet". The same input always gives the same bytes.
pub fn durations_chart(rows: &[RunTypeDurations]) -> String {
    let bars: Vec<DurationBars<'_>> = rows.iter().filter_map(DurationBars::from_row).collect();
    let frame = ChartFrame {
        title: "Run duration by run type".to_owned(),
        headline: None,
        summary: durations_summary(&bars),
    };
    if bars.is_empty() {
        return CANVAS.empty(&frame, "no finished runs yet");
    }
    CANVAS.render(&frame, |area| draw_duration_bars(area, &frame.title, &bars))
}

/// One run type's bar heights in seconds; `None` draws no bar.
struct DurationBars<'a> {
    run_type: &'a str,
    p50_s: Option<f64>,
    p95_s: Option<f64>,
}

impl<'a> DurationBars<'a> {
    fn from_row(row: &'a RunTypeDurations) -> Option<Self> {
        let seconds =
            |ms: Option<f64>| ms.filter(|ms| ms.is_finite() && *ms >= 0.0).map(|ms| ms / 1000.0);
        let bars = DurationBars {
            run_type: &row.run_type,
            p50_s: seconds(row.p50_ms),
            p95_s: seconds(row.p95_ms),
        };
        (bars.p50_s.is_some() || bars.p95_s.is_some()).then_some(bars)
    }
}

fn durations_summary(bars: &[DurationBars<'_>]) -> String {
    if bars.is_empty() {
        return "No finished runs yet.".to_owned();
    }
    let per_type: Vec<String> = bars
        .iter()
        .map(|bar| {
            format!(
                "{}: P50 {}, P95 {}",
                bar.run_type,
                describe_seconds(bar.p50_s),
                describe_seconds(bar.p95_s)
            )
        })
        .collect();
    format!("P50 and P95 run duration in seconds. {}.", per_type.join("; "))
}

fn describe_seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "no data".to_owned(), |s| format!("{s:.2} s"))
}

const CANVAS: Canvas = Canvas { width: 640, height: 320 };
const LABEL_SIZE: f64 = 14.0;
const P50_COLOUR: RGBColor = BLUE;
const P95_COLOUR: RGBColor = ORANGE;

/// The width of one bar and half the gap between a pair, in category units (1.0 per type).
const BAR_WIDTH: f64 = 0.34;
const BAR_GAP: f64 = 0.02;

fn draw_duration_bars(area: &Area<'_>, title: &str, bars: &[DurationBars<'_>]) -> DrawResult {
    let y_max = axis_max(bars.iter().flat_map(|bar| [bar.p50_s, bar.p95_s]).flatten());
    let names = bars.iter().map(|bar| short_label(bar.run_type, MAX_LABEL_CHARS));
    let x_axis = TickAxis::categories(names.collect());

    let mut chart = ChartBuilder::on(area)
        .caption(title, title_style())
        .margin(MARGIN)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(x_axis, 0.0..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .max_light_lines(0)
        .bold_line_style(BLACK.mix(0.12))
        .y_labels(8)
        .x_desc("run type")
        .y_desc("duration (s)")
        .label_style((FontFamily::SansSerif, LABEL_SIZE))
        .draw()?;

    let p50 = bars.iter().enumerate().filter_map(|(index, bar)| {
        let left = index as f64 - BAR_GAP - BAR_WIDTH;
        bar.p50_s.map(|s| Rectangle::new([(left, 0.0), (left + BAR_WIDTH, s)], P50_COLOUR.filled()))
    });
    chart.draw_series(p50)?.label("P50").legend(|at| legend_swatch(at, P50_COLOUR));
    let p95 = bars.iter().enumerate().filter_map(|(index, bar)| {
        let left = index as f64 + BAR_GAP;
        bar.p95_s.map(|s| Rectangle::new([(left, 0.0), (left + BAR_WIDTH, s)], P95_COLOUR.filled()))
    });
    chart.draw_series(p95)?.label("P95").legend(|at| legend_swatch(at, P95_COLOUR));

    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FontFamily::SansSerif, LABEL_SIZE))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

fn legend_swatch((x, y): (i32, i32), colour: RGBColor) -> Rectangle<(i32, i32)> {
    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
}

/// The top of a value axis: far enough above the largest value that the legend in the
/// upper corner covers no data, and 1.0 when every value is zero.
fn axis_max(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.fold(0.0_f64, f64::max);
    if max > 0.0 {
        max * 1.4
    } else {
        1.0
    }
}

/// Axis labels longer than this are cut; the text alternative keeps the full name.
const MAX_LABEL_CHARS: usize = 18;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(run_type: &str, p50_ms: Option<f64>, p95_ms: Option<f64>) -> RunTypeDurations {
        RunTypeDurations { run_type: run_type.to_owned(), runs: 10, p50_ms, p95_ms }
    }

    fn two_run_types() -> Vec<RunTypeDurations> {
        vec![
            row("build", Some(1_500.0), Some(4_200.0)),
            row("deploy", Some(30_000.0), Some(95_500.0)),
        ]
    }

    #[test]
    fn two_run_types_render_as_the_snapshot() {
        insta::assert_snapshot!(durations_chart(&two_run_types()));
    }

    #[test]
    fn no_rows_render_the_empty_state_snapshot() {
        insta::assert_snapshot!(durations_chart(&[]));
    }

    #[test]
    fn chart_names_each_run_type_and_carries_its_title() {
        let svg = durations_chart(&two_run_types());

        assert!(svg.starts_with("<svg "), "{svg}");
        assert!(svg.contains(r#"role="img" aria-label="Run duration by run type""#));
        assert!(svg.contains("<title>Run duration by run type</title>"));
        for name in ["build", "deploy"] {
            assert!(svg.contains(&format!(">\n{name}\n</text>")), "axis label {name} missing");
            assert!(svg.contains(&format!("{name}: P50")), "summary of {name} missing");
        }
        assert!(svg.contains("P95") && svg.contains("duration (s)"));
    }

    #[test]
    fn rows_without_finished_runs_give_the_empty_state() {
        let svg = durations_chart(&[row("build", None, None), row("nan", Some(f64::NAN), None)]);

        assert!(svg.contains("no finished runs yet"));
        assert!(svg.contains("<title>Run duration by run type</title>"));
        assert!(!svg.contains(">\nbuild\n</text>"));
    }

    #[test]
    fn same_input_gives_the_same_bytes() {
        assert_eq!(durations_chart(&two_run_types()), durations_chart(&two_run_types()));
    }

    #[test]
    fn run_type_names_are_escaped_and_long_ones_cut_on_the_axis() {
        let long = "a-very-long-run-type-name-indeed";
        let svg = durations_chart(&[row("<b>&", Some(1.0), Some(2.0)), row(long, Some(1.0), None)]);

        assert!(!svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;&amp;"));
        assert!(svg.contains("a-very-long-run-t…"));
        assert!(svg.contains(&format!("{long}: P50 0.00 s, P95 no data")));
    }
}
