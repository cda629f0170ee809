//! Server-rendered SVG charts for the web pages: pure functions from view data to an SVG
//! string, drawn with plotters so pages embed them without client-side code. This module
//! holds what every chart shares: the canvas, the empty state, a labelled axis and the text
//! alternative (`role="img"`, `aria-label`, `<title>`, `<desc>`) that each chart carries.

mod durations;
pub mod reliability;

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub use durations::durations_chart;
pub use reliability::{
    budget_burndown, time_series, uptime_bars, BurnDown, DayUptime, Series, SeriesChart, Unit,
};

const MARGIN: i32 = 12;
const TITLE_SIZE: f64 = 18.0;
const EMPTY_MESSAGE_SIZE: f64 = 16.0;

/// Okabe–Ito colours, safe for the common kinds of colour blindness.
const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const MUTED_TEXT: RGBColor = RGBColor(0x55, 0x55, 0x55);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawError = DrawingAreaErrorKind<std::io::Error>;
type DrawResult = Result<(), DrawError>;

/// What a chart says about itself to readers who cannot see it.
struct ChartFrame {
    /// Drawn as the caption and used as `<title>`.
    title: String,
    /// The key numbers in a phrase; `aria-label` is the title followed by this, or the title
    /// alone without one.
    headline: Option<String>,
    /// The data in sentences, used as `<desc>`.
    summary: String,
}

/// The fixed pixel size of a family of charts.
#[derive(Clone, Copy)]
struct Canvas {
    width: u32,
    height: u32,
}

impl Canvas {
    /// Draws one chart into an SVG string and adds the frame's text alternative.
    ///
    /// No font feature is needed: plotters estimates text extents itself and the SVG backend
    /// writes `<text>` elements that the browser sets in its own sans-serif font.
    fn render(self, frame: &ChartFrame, draw: impl FnOnce(&Area<'_>) -> DrawResult) -> String {
        let mut svg = String::new();
        let drawn = {
            let size = (self.width, self.height);
            let area = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            area.fill(&WHITE).and_then(|()| draw(&area)).and_then(|()| area.present())
        };
        match drawn {
            Ok(()) => with_text_alternative(&svg, frame),
            Err(error) => {
                // Drawing into a String cannot fail on I/O; this guards against plotters bugs.
                tracing::warn!(chart = %frame.title, error = %error, "chart could not be drawn");
                with_text_alternative(&self.fallback_svg(), frame)
            }
        }
    }

    /// A chart with no data: the title and a centred message instead of axes.
    fn empty(self, frame: &ChartFrame, message: &str) -> String {
        self.render(frame, |area| {
            let area =
                area.margin(MARGIN, MARGIN, MARGIN, MARGIN).titled(&frame.title, title_style())?;
            let style = TextStyle::from((FontFamily::SansSerif, EMPTY_MESSAGE_SIZE))
                .color(&MUTED_TEXT)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let (width, height) = area.dim_in_pixel();
            area.draw_text(message, &style, (width as i32 / 2, height as i32 / 2))
        })
    }

    /// Shown, with the text alternative, if plotters ever fails to draw into a string.
    fn fallback_svg(self) -> String {
        let Canvas { width, height } = self;
        format!(
            "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
             xmlns=\"http://www.w3.org/2000/svg\">\n\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-family=\"sans-serif\">\
             chart unavailable</text>\n</svg>\n",
            width / 2,
            height / 2
        )
    }
}

/// An `f64` axis whose labelled ticks the chart chooses itself (categories, dates, days of the
/// month) instead of the round numbers plotters would pick.
struct TickAxis {
    span: RangedCoordf64,
    ticks: Vec<(f64, String)>,
}

impl TickAxis {
    /// Category `i` is centred on `i as f64` and labelled `names[i]`, so several bars can
    /// stand side by side around one label.
    fn categories(names: Vec<String>) -> TickAxis {
        let span = (-0.5..names.len() as f64 - 0.5).into();
        let ticks = names.into_iter().enumerate().map(|(index, name)| (index as f64, name));
        TickAxis { span, ticks: ticks.collect() }
    }
}

impl Ranged for TickAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.span.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only the chosen ticks; plotters asks separately for light grid lines, and gets none.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        self.ticks.iter().map(|(at, _)| *at).collect()
    }

    fn range(&self) -> Range<f64> {
        self.span.range()
    }
}

impl ValueFormatter<f64> for TickAxis {
    fn format_ext(&self, value: &f64) -> String {
        let tick = self.ticks.iter().find(|(at, _)| at == value);
        tick.map(|(_, label)| label.clone()).unwrap_or_default()
    }
}

fn title_style() -> TextStyle<'static> {
    TextStyle::from((FontFamily::SansSerif, TITLE_SIZE))
}

/// Cuts a name for an axis or legend to `max_chars`; the text alternative keeps it whole.
fn short_label(name: &str, max_chars: usize) -> String {
    if name.chars().count() <= max_chars {
        return name.to_owned();
    }
    let kept: String = name.chars().take(max_chars - 1).collect();
    format!("{kept}…")
}

/// Plotters writes the `<svg ...>` open tag first: the accessible name goes into that tag, and
/// `<title>` and `<desc>` become its first children, where screen readers look for them.
fn with_text_alternative(svg: &str, frame: &ChartFrame) -> String {
    let title = xml_escape(&frame.title);
    let label = match &frame.headline {
        Some(headline) => xml_escape(&format!("{}: {headline}", frame.title)),
        None => title.clone(),
    };
    let summary = xml_escape(&frame.summary);
    let open_end = svg.find('>').map_or(0, |index| index + 1);
    let (open_tag, body) = svg.split_at(open_end);
    let open_tag = open_tag.trim_end_matches('>');
    format!(
        "{open_tag} role=\"img\" aria-label=\"{label}\">\n<title>{title}</title>\n\
         <desc>{summary}</desc>{body}"
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

    #[test]
    fn a_chart_that_cannot_be_drawn_still_carries_its_text_alternative() {
        let frame = ChartFrame {
            title: "Queue <depth>".to_owned(),
            headline: Some("3 waiting".to_owned()),
            summary: "Three runs wait.".to_owned(),
        };
        let svg = with_text_alternative(&Canvas { width: 640, height: 320 }.fallback_svg(), &frame);

        assert_eq!(
            svg,
            "<svg width=\"640\" height=\"320\" viewBox=\"0 0 640 320\" \
             xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
             aria-label=\"Queue &lt;depth&gt;: 3 waiting\">\n\
             <title>Queue &lt;depth&gt;</title>\n<desc>Three runs wait.</desc>\n\
             <text x=\"320\" y=\"160\" text-anchor=\"middle\" font-family=\"sans-serif\">\
             chart unavailable</text>\n</svg>\n"
        );
    }
}
