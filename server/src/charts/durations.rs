//! Server-rendered SVG charts for the web pages: pure functions from view data to an SVG
//! string, drawn with plotters so pages embed them without client-side code. Every chart
//! carries its own text alternative (`role="img"`, `aria-label`, `<title>`, `<desc>`).

use std::ops::Range;

use app::model::RunTypeDurations;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Renders P50 and P95 run duration, in seconds, per run type as a grouped bar chart.
///
/// Rows without any finite percentile (no finished run yet) are left out; when none is
/// left the chart says "no finished runs yet". The same input always gives the same bytes.
pub fn durations_chart(rows: &[RunTypeDurations]) -> String {
    let bars: Vec<DurationBars<'_>> = rows.iter().filter_map(DurationBars::from_row).collect();
    let frame = ChartFrame { title: "Run duration by run type", summary: durations_summary(&bars) };
    if bars.is_empty() {
        return empty_chart(&frame, "no finished runs yet");
    }
    render(&frame, |area| draw_duration_bars(area, frame.title, &bars))
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

const P50_COLOUR: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const P95_COLOUR: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const MUTED_TEXT: RGBColor = RGBColor(0x55, 0x55, 0x55);

/// The width of one bar and half the gap between a pair, in category units (1.0 per type).
const BAR_WIDTH: f64 = 0.34;
const BAR_GAP: f64 = 0.02;

fn draw_duration_bars(area: &Area<'_>, title: &str, bars: &[DurationBars<'_>]) -> DrawResult {
    let y_max = axis_max(bars.iter().flat_map(|bar| [bar.p50_s, bar.p95_s]).flatten());
    let x_axis = CategoryAxis::new(bars.iter().map(|bar| short_label(bar.run_type)).collect());

    let mut chart = ChartBuilder::on(area)
        .caption(title, (FontFamily::SansSerif, TITLE_SIZE))
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

/// A category axis: category `i` is centred on `i as f64` and labelled `names[i]`, so
/// several bars can stand side by side around one label.
struct CategoryAxis {
    names: Vec<String>,
    span: RangedCoordf64,
}

impl CategoryAxis {
    fn new(names: Vec<String>) -> CategoryAxis {
        let span = (-0.5..names.len() as f64 - 0.5).into();
        CategoryAxis { names, span }
    }
}

impl Ranged for CategoryAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.span.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Labels and ticks only at category centres; no light grid lines between them.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (0..self.names.len()).map(|index| index as f64).collect()
    }

    fn range(&self) -> Range<f64> {
        self.span.range()
    }
}

impl ValueFormatter<f64> for CategoryAxis {
    fn format_ext(&self, value: &f64) -> String {
        let index = value.round() as usize;
        self.names.get(index).cloned().unwrap_or_default()
    }
}

/// Axis labels longer than this are cut; the text alternative keeps the full name.
const MAX_LABEL_CHARS: usize = 18;

fn short_label(name: &str) -> String {
    if name.chars().count() <= MAX_LABEL_CHARS {
        return name.to_owned();
    }
    let kept: String = name.chars().take(MAX_LABEL_CHARS - 1).collect();
    format!("{kept}…")
}

// The shared shape of every chart: a fixed-size SVG with a title and a text summary,
// drawn by a closure, or an empty state. A time-series chart reuses `render`,
// `empty_chart` and `axis_max` and only brings its own drawing closure.

const WIDTH: u32 = 640;
const HEIGHT: u32 = 320;
const MARGIN: u32 = 12;
const TITLE_SIZE: f64 = 18.0;
const LABEL_SIZE: f64 = 14.0;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// What a chart says about itself to readers who cannot see it.
struct ChartFrame {
    /// Short name, drawn as the caption and used as `<title>` and `aria-label`.
    title: &'static str,
    /// The data in words, used as `<desc>`.
    summary: String,
}

/// Draws one chart into an SVG string and adds the frame's text alternative.
///
/// Plotters text needs no font here: without the `ttf` and `ab_glyph` features it
/// estimates text extents itself, and the SVG backend writes `<text>` for the browser to
/// set in its own sans-serif font.
fn render(frame: &ChartFrame, draw: impl FnOnce(&Area<'_>) -> DrawResult) -> String {
    let mut svg = String::new();
    let drawn = {
        let area = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        area.fill(&WHITE).and_then(|()| draw(&area)).and_then(|()| area.present())
    };
    match drawn {
        Ok(()) => with_text_alternative(&svg, frame),
        Err(error) => {
            // Drawing into a String has no I/O to fail; this guards against plotters bugs.
            tracing::warn!(chart = frame.title, error = %error, "chart could not be drawn");
            fallback_svg(frame)
        }
    }
}

/// A chart with no data: the title and a centred message instead of axes.
fn empty_chart(frame: &ChartFrame, message: &str) -> String {
    render(frame, |area| {
        let margin = MARGIN as i32;
        let area = area
            .margin(margin, margin, margin, margin)
            .titled(frame.title, (FontFamily::SansSerif, TITLE_SIZE))?;
        let style = TextStyle::from((FontFamily::SansSerif, LABEL_SIZE + 2.0))
            .color(&MUTED_TEXT)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let (width, height) = area.dim_in_pixel();
        area.draw_text(message, &style, (width as i32 / 2, height as i32 / 2))
    })
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

/// Plotters writes the `<svg ...>` open tag first; the accessible name goes into that tag
/// and `<title>` and `<desc>` become its first children, where screen readers look.
fn with_text_alternative(svg: &str, frame: &ChartFrame) -> String {
    let title = xml_escape(frame.title);
    let summary = xml_escape(&frame.summary);
    let open_end = svg.find('>').map_or(0, |index| index + 1);
    let (open_tag, body) = svg.split_at(open_end);
    let open_tag = open_tag.trim_end_matches('>');
    format!(
        "{open_tag} role=\"img\" aria-label=\"{title}\">\n<title>{title}</title>\n\
         <desc>{summary}</desc>{body}"
    )
}

fn fallback_svg(frame: &ChartFrame) -> String {
    let title = xml_escape(frame.title);
    format!(
        "<svg width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{title}\">\n\
         <title>{title}</title>\n<desc>{}</desc>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-family=\"sans-serif\">\
         chart unavailable</text>\n</svg>\n",
        xml_escape(&frame.summary),
        WIDTH / 2,
        HEIGHT / 2
    )
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

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
