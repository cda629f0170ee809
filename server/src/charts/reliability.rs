//! Server-rendered SVG charts for the reliability pages: daily uptime bars, time series (run
//! latency, success rate, pool start latency and queue depth) and the month's error-budget
//! burn-down. Pure functions from plain view data to SVG strings, each with a text alternative.

use std::cmp::Reverse;
use std::ops::Range;

use chrono::{DateTime, NaiveDate, Utc};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    short_label, title_style, Area, Canvas, ChartFrame, DrawError, DrawResult, TickAxis, BLUE,
    GREEN, MARGIN, ORANGE, VERMILLION,
};

/// One calendar day of a monitor, in minutes as counted by the uptime rollup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayUptime {
    pub day: NaiveDate,
    pub up_minutes: i64,
    pub down_minutes: i64,
    pub no_data_minutes: i64,
    /// Planned maintenance and other minutes that count neither as up nor as down.
    pub excluded_minutes: i64,
}

/// What the values of a [`SeriesChart`] measure; it decides axis labels and the text summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A percentage from 0 to 100, such as a success rate.
    Percent,
    /// A duration, labelled in seconds once the axis reaches two seconds.
    Milliseconds,
    Count,
}

/// A line chart over time with one line per series, such as P95 duration per run type.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesChart {
    pub title: String,
    pub y_label: String,
    pub unit: Unit,
    pub series: Vec<Series>,
}

/// One named line; a `None` value (or a non-finite one) leaves a gap in the line.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(DateTime<Utc>, Option<f64>)>,
}

/// A month's error budget: the downtime allowed and what remained at the end of each day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BurnDown {
    pub month_label: String,
    pub days_in_month: u32,
    pub allowed_minutes: i64,
    /// `(day of month, remaining minutes at the end of that day)`; negative when overspent.
    pub remaining_by_day: Vec<(u32, i64)>,
}

/// Renders one bar a day in date order, coloured by how much of the day was down.
///
/// Thresholds are relative to the minutes measured that day (up plus down), a full day being
/// 1440: no downtime is green; downtime that kept the day at 99% or better (at most 14
/// minutes of a full day) is orange; below 99% is red. A 99.9% month allows about 43 minutes
/// in all, so one red day spends a third of it. A day without downtime where more than 1% of
/// the minutes had no data is grey and hatched, since too little was seen to call it up. A
/// day with no minutes at all (before monitoring started) is an empty outline.
pub fn uptime_bars(days: &[DayUptime]) -> String {
    let mut days: Vec<&DayUptime> = days.iter().collect();
    days.sort_by_key(|day| day.day);
    let stats = UptimeStats::of(&days);
    let frame = ChartFrame {
        title: "Daily uptime".to_owned(),
        headline: Some(stats.headline()),
        summary: stats.summary(),
    };
    if stats.monitored_days == 0 {
        return CANVAS.empty(&frame, "monitoring has not started yet");
    }
    CANVAS.render(&frame, |area| draw_uptime_bars(area, &frame.title, &days))
}

/// Renders a time series line chart with a legend; labels on the time axis are in UTC.
///
/// Colours follow the order of `series`: keep it stable (by name, say) so that a run type has
/// the same colour on every page. Beyond eight series the colours repeat with dashed lines.
pub fn time_series(chart: &SeriesChart) -> String {
    let lines: Vec<Line<'_>> = chart.series.iter().map(Line::from_series).collect();
    let frame = ChartFrame {
        title: chart.title.clone(),
        headline: Some(series_headline(chart.unit, &lines)),
        summary: series_summary(chart, &lines),
    };
    if lines.iter().all(|line| line.stats.is_none()) {
        return CANVAS.empty(&frame, "no data for this period");
    }
    CANVAS.render(&frame, |area| draw_time_series(area, chart, &lines))
}

/// Renders the month's remaining error budget against the ideal linear burn.
///
/// The budget starts the month (day 0) at the allowed minutes; below zero it is overspent and
/// drawn in red over a red band. Days outside the month are ignored.
pub fn budget_burndown(chart: &BurnDown) -> String {
    let mut days: Vec<(u32, i64)> = chart.remaining_by_day.clone();
    days.retain(|&(day, _)| (1..=chart.days_in_month).contains(&day));
    days.sort_by_key(|&(day, _)| day);
    days.dedup_by_key(|&mut (day, _)| day);
    let frame = ChartFrame {
        title: format!("Error budget, {}", chart.month_label),
        headline: Some(burn_headline(chart.allowed_minutes, &days)),
        summary: burn_summary(chart, &days),
    };
    if days.is_empty() {
        return CANVAS.empty(&frame, "no budget data for this month yet");
    }
    CANVAS.render(&frame, |area| draw_burndown(area, &frame.title, chart, &days))
}

// Uptime bars.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DayStatus {
    NotMonitored,
    NoData,
    Up,
    Degraded,
    Down,
}

impl DayStatus {
    fn of(day: &DayUptime) -> DayStatus {
        let [up, down, no_data, excluded] =
            [day.up_minutes, day.down_minutes, day.no_data_minutes, day.excluded_minutes]
                .map(|minutes| minutes.max(0));
        let measured = up + down;
        let below_99_percent = down * 100 > measured;
        let too_little_seen = no_data * 100 > up + no_data;
        if measured + no_data + excluded == 0 {
            DayStatus::NotMonitored
        } else if down > 0 && below_99_percent {
            DayStatus::Down
        } else if down > 0 {
            DayStatus::Degraded
        } else if too_little_seen {
            DayStatus::NoData
        } else {
            DayStatus::Up
        }
    }
}

struct UptimeStats<'a> {
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    up: i64,
    down: i64,
    down_days: usize,
    worst: Option<&'a DayUptime>,
    no_data_days: usize,
    monitored_days: usize,
}

impl<'a> UptimeStats<'a> {
    fn of(days: &[&'a DayUptime]) -> Self {
        let statuses = || days.iter().map(|day| DayStatus::of(day));
        let down_days = || days.iter().copied().filter(|day| day.down_minutes > 0);
        // The earliest of the days with the most downtime.
        let worst = down_days().min_by_key(|day| (Reverse(day.down_minutes), day.day));
        UptimeStats {
            first: days.first().map(|day| day.day),
            last: days.last().map(|day| day.day),
            up: days.iter().map(|day| day.up_minutes.max(0)).sum(),
            down: days.iter().map(|day| day.down_minutes.max(0)).sum(),
            down_days: down_days().count(),
            worst,
            no_data_days: statuses().filter(|status| *status == DayStatus::NoData).count(),
            monitored_days: statuses().filter(|status| *status != DayStatus::NotMonitored).count(),
        }
    }

    /// Uptime of the measured minutes, floored so that any downtime never reads as 100%.
    fn uptime(&self) -> Option<String> {
        let measured = self.up + self.down;
        let thousandths = (self.up as f64 / measured as f64 * 100_000.0).floor();
        (measured > 0).then(|| format!("{:.3}%", thousandths / 1000.0))
    }

    fn headline(&self) -> String {
        let Some(uptime) = self.uptime() else {
            return "no measurements yet".to_owned();
        };
        let downtime = self.worst.map_or_else(
            || "no downtime".to_owned(),
            |day| {
                let days = plural(self.down_days, "day");
                let worst = long_date(day.day);
                format!(
                    "{days} with downtime, worst day {worst} with {} min down",
                    day.down_minutes
                )
            },
        );
        format!("{uptime} up, {downtime}, {} with no data", plural(self.no_data_days, "day"))
    }

    fn summary(&self) -> String {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return "No uptime data yet.".to_owned();
        };
        format!(
            "From {} to {}, {} monitored: {}. Uptime counts measured minutes only, leaving out \
             minutes without data and excluded minutes.",
            long_date(first),
            long_date(last),
            plural(self.monitored_days, "day"),
            self.headline()
        )
    }
}

/// Height of the row of date labels under the bars, in pixels.
const DATE_ROW: i32 = 22;

fn draw_uptime_bars(area: &Area<'_>, title: &str, days: &[&DayUptime]) -> DrawResult {
    let (plot, legend) = frame_areas(area, title)?;
    let (width, height) = plot.dim_in_pixel();
    let bottom = height as i32 - DATE_ROW;
    let slot = f64::from(width) / days.len() as f64;
    let gap = if slot >= 4.0 { 1 } else { 0 };
    for (index, day) in days.iter().enumerate() {
        let left = (index as f64 * slot).round() as i32;
        let right = (((index + 1) as f64 * slot).round() as i32 - gap).max(left + 1);
        draw_day(&plot, DayStatus::of(day), [(left, 0), (right, bottom)])?;
    }

    let style = label_style();
    let first_label = style.pos(Pos::new(HPos::Left, VPos::Top));
    let last_label = style.pos(Pos::new(HPos::Right, VPos::Top));
    let (first, last) = (days[0].day, days[days.len() - 1].day);
    plot.draw_text(&long_date(first), &first_label, (0, bottom + 6))?;
    plot.draw_text(&long_date(last), &last_label, (width as i32, bottom + 6))?;

    let legend_entries = [
        ("no downtime", DayStatus::Up),
        ("down ≤ 1%", DayStatus::Degraded),
        ("down > 1%", DayStatus::Down),
        ("no data", DayStatus::NoData),
        ("not monitored", DayStatus::NotMonitored),
    ]
    .map(|(label, status)| LegendEntry { label: label.to_owned(), mark: Mark::Day(status) });
    draw_legend(&legend, &legend_entries)
}

fn draw_day(area: &Area<'_>, status: DayStatus, corners: [(i32, i32); 2]) -> DrawResult {
    match status {
        DayStatus::NotMonitored => area.draw(&Rectangle::new(corners, OUTLINE.stroke_width(1))),
        DayStatus::NoData => {
            area.draw(&Rectangle::new(corners, NO_DATA_FILL.filled()))?;
            area.draw(&PathElement::new(zigzag(corners), NO_DATA_HATCH.stroke_width(1)))
        }
        DayStatus::Up => area.draw(&Rectangle::new(corners, GREEN.filled())),
        DayStatus::Degraded => area.draw(&Rectangle::new(corners, ORANGE.filled())),
        DayStatus::Down => area.draw(&Rectangle::new(corners, VERMILLION.filled())),
    }
}

/// A hatch for narrow bars as one polyline zigzagging upwards at 45°, which keeps the SVG
/// small where separate diagonal lines would add dozens of elements per bar.
fn zigzag([(left, top), (right, bottom)]: [(i32, i32); 2]) -> Vec<(i32, i32)> {
    let step = (right - left).max(1);
    let rows = (bottom - top) / step;
    (0..=rows).map(|row| (if row % 2 == 0 { left } else { right }, bottom - row * step)).collect()
}

// Time series.

/// One series with its points in time order, as Unix seconds, and its non-finite values gone.
struct Line<'a> {
    name: &'a str,
    points: Vec<(i64, Option<f64>)>,
    stats: Option<LineStats>,
}

struct LineStats {
    latest_at: i64,
    latest: f64,
    min: f64,
    max: f64,
}

impl<'a> Line<'a> {
    fn from_series(series: &'a Series) -> Self {
        let mut points: Vec<(i64, Option<f64>)> = series
            .points
            .iter()
            .map(|(at, value)| (at.timestamp(), value.filter(|value| value.is_finite())))
            .collect();
        points.sort_by_key(|&(at, _)| at);
        let values = || points.iter().filter_map(|&(at, value)| value.map(|value| (at, value)));
        let stats = values().next_back().map(|(latest_at, latest)| LineStats {
            latest_at,
            latest,
            min: values().map(|(_, value)| value).fold(f64::INFINITY, f64::min),
            max: values().map(|(_, value)| value).fold(f64::NEG_INFINITY, f64::max),
        });
        Line { name: &series.name, points, stats }
    }

    /// The unbroken stretches of the line, in chart coordinates.
    fn runs(&self) -> Vec<Vec<(f64, f64)>> {
        let runs = self.points.split(|(_, value)| value.is_none()).filter(|run| !run.is_empty());
        let in_chart = |run: &[(i64, Option<f64>)]| {
            run.iter().filter_map(|&(at, value)| Some((at as f64, value?))).collect()
        };
        runs.map(in_chart).collect()
    }
}

fn series_headline(unit: Unit, lines: &[Line<'_>]) -> String {
    if lines.iter().all(|line| line.stats.is_none()) {
        return "no data for this period".to_owned();
    }
    let latest: Vec<String> = lines
        .iter()
        .map(|line| match &line.stats {
            Some(stats) => format!("{} {}", line.name, describe_value(unit, stats.latest)),
            None => format!("{} no data", line.name),
        })
        .collect();
    format!("latest {}", latest.join(", "))
}

fn series_summary(chart: &SeriesChart, lines: &[Line<'_>]) -> String {
    let Some((start, end)) = time_span(lines) else {
        return format!("{}: no data for this period.", chart.y_label);
    };
    let per_series: Vec<String> = lines
        .iter()
        .map(|line| match &line.stats {
            Some(stats) => format!(
                "{}: latest {} at {}, lowest {}, highest {}",
                line.name,
                describe_value(chart.unit, stats.latest),
                long_time(stats.latest_at),
                describe_value(chart.unit, stats.min),
                describe_value(chart.unit, stats.max)
            ),
            None => format!("{}: no data", line.name),
        })
        .collect();
    let (start, end) = (long_time(start), long_time(end));
    format!("{} from {start} to {end}. {}.", chart.y_label, per_series.join("; "))
}

fn describe_value(unit: Unit, value: f64) -> String {
    match unit {
        Unit::Percent => format!("{value:.2}%"),
        Unit::Milliseconds if value.abs() >= 1000.0 => format!("{:.2} s", value / 1000.0),
        Unit::Milliseconds => format!("{value:.0} ms"),
        Unit::Count if value.fract() == 0.0 => format!("{value:.0}"),
        Unit::Count => format!("{value:.1}"),
    }
}

fn time_span(lines: &[Line<'_>]) -> Option<(i64, i64)> {
    let times = || lines.iter().flat_map(|line| line.points.iter().map(|&(at, _)| at));
    Some((times().min()?, times().max()?))
}

fn draw_time_series(area: &Area<'_>, chart: &SeriesChart, lines: &[Line<'_>]) -> DrawResult {
    let (plot, legend) = frame_areas(area, &chart.title)?;
    let (start, end) = time_span(lines).unwrap_or_default();
    let (start, end) = if end - start < 60 { (start - 1800, end + 1800) } else { (start, end) };
    let x_axis =
        TickAxis { span: (start as f64..end as f64).into(), ticks: time_ticks(start, end) };
    let values = lines.iter().filter_map(|line| line.stats.as_ref());
    let y_range = value_range(chart.unit, values.flat_map(|stats| [stats.min, stats.max]));
    let top = y_range.end;
    let label = |value, step| axis_value(chart.unit, top, step, value);
    let ticks = value_ticks(&y_range, one_two_five(), label);
    let grid = grid(&plot, x_axis, TickAxis { span: y_range.into(), ticks }, &chart.y_label)?;

    let mut entries = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let style = series_style(index);
        for run in line.runs() {
            draw_run(grid.plotting_area(), run, style)?;
        }
        entries.push(LegendEntry {
            label: short_label(line.name, MAX_LABEL_CHARS),
            mark: Mark::Line(style),
        });
    }
    draw_legend(&legend, &entries)
}

type Grid<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<TickAxis, TickAxis>>;

/// Builds the axes with their labelled ticks and light horizontal grid lines.
fn grid<'a, 'b>(
    plot: &'a Area<'b>,
    x_axis: TickAxis,
    y_axis: TickAxis,
    y_desc: &str,
) -> Result<Grid<'a, 'b>, DrawError> {
    let mut grid = ChartBuilder::on(plot)
        .margin(8)
        .x_label_area_size(24)
        .y_label_area_size(68)
        .build_cartesian_2d(x_axis, y_axis)?;
    grid.configure_mesh()
        .disable_x_mesh()
        .bold_line_style(BLACK.mix(0.12))
        .y_desc(y_desc)
        .label_style((FontFamily::SansSerif, LABEL_SIZE))
        .draw()?;
    Ok(grid)
}

#[derive(Clone, Copy)]
struct LineStyle {
    colour: RGBColor,
    dashed: bool,
}

fn series_style(index: usize) -> LineStyle {
    LineStyle { colour: PALETTE[index % PALETTE.len()], dashed: index >= PALETTE.len() }
}

fn draw_run(area: &PlotArea<'_>, run: Vec<(f64, f64)>, style: LineStyle) -> DrawResult {
    let stroke = style.colour.stroke_width(2);
    match run.as_slice() {
        // A lone value between gaps has no neighbour to join; a dot keeps it visible.
        [point] => area.draw(&Circle::new(*point, 3, style.colour.filled())),
        _ if style.dashed => area.draw(&DashedPathElement::new(run, 6, 4, stroke)),
        _ => area.draw(&PathElement::new(run, stroke)),
    }
}

/// Tick steps in seconds, tried from the finest; steps of a week or more start on a Monday.
const TIME_STEPS: [i64; 15] = [
    60,
    300,
    900,
    1800,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    28 * DAY,
    91 * DAY,
    364 * DAY,
];
const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
/// 1970-01-05, the first Monday after the Unix epoch.
const FIRST_MONDAY: i64 = 4 * DAY;

fn time_ticks(start: i64, end: i64) -> Vec<(f64, String)> {
    let span = end - start;
    let format = |step| match step {
        _ if step < DAY && span > DAY => "%-d %b %H:%M",
        _ if step < DAY => "%H:%M",
        _ if step < 28 * DAY => "%-d %b",
        _ => "%-d %b %Y",
    };
    // Short labels ("4 Mar", "09:30") fit seven to an axis, long ones five.
    let fits = |&step: &i64| span / step < if format(step).len() > 6 { 5 } else { 7 };
    let step = TIME_STEPS.into_iter().find(fits).unwrap_or(364 * DAY);
    let origin = if step >= 7 * DAY { FIRST_MONDAY } else { 0 };
    let first = start + (origin - start).rem_euclid(step);
    let times = (0..).map(|index| first + index * step).take_while(|at| *at <= end);
    times.map(|at| (at as f64, utc(at).format(format(step)).to_string())).collect()
}

/// The value axis: from zero (or the lowest value, if negative) for durations and counts; for
/// percentages, from a little under the lowest value up to just over 100%, so that a success
/// rate moving between 97% and 99% is visible.
fn value_range(unit: Unit, values: impl Iterator<Item = f64>) -> Range<f64> {
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
        (low.min(value), high.max(value))
    });
    match unit {
        Unit::Percent => {
            let top = max.max(100.0);
            let bottom = (min - (top - min).max(1.0) * 0.25).floor().max(min.min(0.0));
            bottom..top + (top - bottom) * 0.04
        }
        Unit::Milliseconds | Unit::Count => min.min(0.0)..if max > 0.0 { max * 1.1 } else { 1.0 },
    }
}

fn axis_value(unit: Unit, top: f64, step: f64, value: f64) -> String {
    match unit {
        Unit::Percent => format!("{}%", fixed(value, step)),
        Unit::Milliseconds if top >= 2000.0 => {
            format!("{} s", fixed(value / 1000.0, step / 1000.0))
        }
        Unit::Milliseconds => format!("{} ms", fixed(value, step)),
        Unit::Count => fixed(value, step),
    }
}

/// Labelled ticks at the multiples of the first of `steps` that puts at most six on the axis.
fn value_ticks(
    range: &Range<f64>,
    steps: impl IntoIterator<Item = f64>,
    label: impl Fn(f64, f64) -> String,
) -> Vec<(f64, String)> {
    let span = range.end - range.start;
    let step = steps.into_iter().find(|step| span / step <= 6.0).unwrap_or(span);
    let (first, last) = ((range.start / step).ceil() as i64, (range.end / step).floor() as i64);
    (first..=last).map(|index| index as f64 * step).map(|at| (at, label(at, step))).collect()
}

/// Steps of 1, 2 and 5 times a power of ten, from 0.01 up.
fn one_two_five() -> impl Iterator<Item = f64> {
    (-2..12).flat_map(|power| [1.0, 2.0, 5.0].map(|digit| digit * 10_f64.powi(power)))
}

/// A number with as many decimals as ticks this far apart need; never "-0".
fn fixed(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else {
        2
    };
    format!("{:.*}", decimals, value + 0.0)
}

// Budget burn-down.

fn ran_out_day(days: &[(u32, i64)]) -> Option<u32> {
    days.iter().find(|&&(_, remaining)| remaining <= 0).map(|&(day, _)| day)
}

fn burn_headline(allowed: i64, days: &[(u32, i64)]) -> String {
    let Some(&(day, remaining)) = days.last() else {
        return "no budget data yet".to_owned();
    };
    let now = if remaining >= 0 {
        format!("{} of {} left after day {day}", minutes_text(remaining), minutes_text(allowed))
    } else {
        format!("overspent by {} after day {day}", minutes_text(-remaining))
    };
    match ran_out_day(days) {
        Some(out) => format!("{now}, ran out on day {out}"),
        None => now,
    }
}

fn burn_summary(chart: &BurnDown, days: &[(u32, i64)]) -> String {
    let allowed = minutes_text(chart.allowed_minutes);
    let out = if days.is_empty() || ran_out_day(days).is_some() { "" } else { ", not run out" };
    format!(
        "Error budget for {}: {allowed} of downtime allowed; {}{out}.",
        chart.month_label,
        burn_headline(chart.allowed_minutes, days)
    )
}

fn minutes_text(minutes: i64) -> String {
    if minutes.abs() < 60 {
        return format!("{minutes} min");
    }
    format!("{} h {} min", minutes / 60, (minutes % 60).abs())
}

fn draw_burndown(
    area: &Area<'_>,
    title: &str,
    chart: &BurnDown,
    days: &[(u32, i64)],
) -> DrawResult {
    let (plot, legend) = frame_areas(area, title)?;
    let mut path = vec![(0.0, chart.allowed_minutes as f64)];
    path.extend(days.iter().map(|&(day, remaining)| (f64::from(day), remaining as f64)));
    let (x_axis, y_axis) = burn_axes(chart.days_in_month, &path);
    let grid = grid(&plot, x_axis, y_axis, "budget left")?;
    draw_burn_lines(grid.plotting_area(), &path)?;

    let entries = [
        ("budget left", LineStyle { colour: BLUE, dashed: false }),
        ("overspent", LineStyle { colour: VERMILLION, dashed: false }),
        ("ideal burn", LineStyle { colour: IDEAL, dashed: true }),
    ];
    let entries = entries
        .map(|(label, style)| LegendEntry { label: label.to_owned(), mark: Mark::Line(style) });
    draw_legend(&legend, &entries)
}

/// Days of the month across, ticked on the 1st and every fifth; minutes up, with room below
/// zero only when the budget is overspent.
fn burn_axes(days_in_month: u32, path: &[(f64, f64)]) -> (TickAxis, TickAxis) {
    let x_ticks = (1..=days_in_month).filter(|day| *day == 1 || day % 5 == 0);
    let x_ticks = x_ticks.map(|day| (f64::from(day), day.to_string())).collect();
    let x_axis = TickAxis { span: (0.0..f64::from(days_in_month)).into(), ticks: x_ticks };

    let low = path.iter().map(|point| point.1).fold(0.0, f64::min);
    let high = path.iter().map(|point| point.1).fold(1.0, f64::max);
    let pad = (high - low) * 0.08;
    let y_range = if low < 0.0 { low - pad } else { 0.0 }..high + pad;
    let y_ticks = value_ticks(&y_range, MINUTE_STEPS, minutes_axis_value);
    (x_axis, TickAxis { span: y_range.into(), ticks: y_ticks })
}

/// `path` starts at day 0 with the allowed minutes, which the ideal burn spends evenly.
fn draw_burn_lines(plotting: &PlotArea<'_>, path: &[(f64, f64)]) -> DrawResult {
    let (x_range, y_range) = (plotting.get_x_range(), plotting.get_y_range());
    let (last_day, allowed) = (x_range.end, path[0].1);
    if y_range.start < 0.0 {
        let band = [(0.0, y_range.start), (last_day, 0.0)];
        plotting.draw(&Rectangle::new(band, VERMILLION.mix(0.08).filled()))?;
    }
    let zero = vec![(0.0, 0.0), (last_day, 0.0)];
    plotting.draw(&PathElement::new(zero, BLACK.mix(0.6).stroke_width(1)))?;

    // Dashes laid out in data units: plotters' own dashes step visibly along a slope.
    let ideal = |day: f64| allowed * (1.0 - day / last_day);
    for dash in (0..(last_day * 2.0) as u32).map(|half_day| f64::from(half_day) / 2.0) {
        let ends = vec![(dash, ideal(dash)), (dash + 0.3, ideal(dash + 0.3))];
        plotting.draw(&PathElement::new(ends, IDEAL.stroke_width(1)))?;
    }

    for (run, overspent) in split_at_zero(path) {
        let colour = if overspent { VERMILLION } else { BLUE };
        plotting.draw(&PathElement::new(run, colour.stroke_width(2)))?;
    }
    match path[1..].iter().find(|point| point.1 <= 0.0) {
        Some(&ran_out) => plotting.draw(&Circle::new(ran_out, 4, VERMILLION.filled())),
        None => Ok(()),
    }
}

/// Splits a path where it crosses zero, so that overspent stretches can be drawn apart; the
/// flag says whether a stretch lies below zero.
fn split_at_zero(path: &[(f64, f64)]) -> Vec<(Vec<(f64, f64)>, bool)> {
    let mut runs: Vec<(Vec<(f64, f64)>, bool)> = Vec::new();
    for &(x, y) in path {
        let below = y < 0.0;
        match runs.last_mut() {
            Some((run, run_below)) if *run_below != below => {
                let (x0, y0) = run[run.len() - 1];
                let crossing = (x0 + (x - x0) * y0 / (y0 - y), 0.0);
                run.push(crossing);
                runs.push((vec![crossing, (x, y)], below));
            }
            Some((run, _)) => run.push((x, y)),
            None => runs.push((vec![(x, y)], below)),
        }
    }
    runs
}

/// Tick steps for minutes: round minutes, then whole hours, then whole days.
const MINUTE_STEPS: [f64; 15] = [
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 180.0, 360.0, 720.0, 1440.0, 2880.0, 7200.0,
    14400.0,
];

fn minutes_axis_value(minutes: f64, step: f64) -> String {
    if step >= 60.0 {
        return format!("{} h", fixed(minutes / 60.0, step / 60.0));
    }
    format!("{} min", fixed(minutes, step))
}

// Shared by the three charts: the frame, legend and text styles.

const CANVAS: Canvas = Canvas { width: 720, height: 260 };
const LEGEND_WIDTH: u32 = 150;
const LEGEND_ROW: i32 = 18;
const LABEL_SIZE: f64 = 13.0;

/// The Okabe–Ito colours; their yellow is too faint on white, so an olive takes its place.
const PALETTE: [RGBColor; 8] = [
    BLUE,
    ORANGE,
    GREEN,
    VERMILLION,
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0x99, 0x99, 0x33),
];
const NO_DATA_FILL: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const NO_DATA_HATCH: RGBColor = RGBColor(0x80, 0x80, 0x80);
const OUTLINE: RGBColor = RGBColor(0xA0, 0xA0, 0xA0);
const IDEAL: RGBColor = RGBColor(0x66, 0x66, 0x66);

type PlotArea<'a> = DrawingArea<SVGBackend<'a>, Cartesian2d<TickAxis, TickAxis>>;

/// Puts the title above and splits what is left into the plot and a legend column on the right.
fn frame_areas<'a>(area: &Area<'a>, title: &str) -> Result<(Area<'a>, Area<'a>), DrawError> {
    let area = area.margin(MARGIN, MARGIN, MARGIN, MARGIN).titled(title, title_style())?;
    let width = area.dim_in_pixel().0;
    Ok(area.split_horizontally(width.saturating_sub(LEGEND_WIDTH)))
}

enum Mark {
    Line(LineStyle),
    Day(DayStatus),
}

struct LegendEntry {
    label: String,
    mark: Mark,
}

/// Draws the entries top down; when they do not fit, the last row counts the ones left out.
fn draw_legend(area: &Area<'_>, entries: &[LegendEntry]) -> DrawResult {
    let style = label_style().pos(Pos::new(HPos::Left, VPos::Center));
    let rows = (area.dim_in_pixel().1 as i32 / LEGEND_ROW).max(1) as usize;
    let shown = if entries.len() > rows { rows - 1 } else { entries.len() };
    for (index, entry) in entries.iter().take(shown).enumerate() {
        let y = LEGEND_ROW / 2 + index as i32 * LEGEND_ROW;
        match entry.mark {
            Mark::Line(line) => draw_legend_line(area, line, y)?,
            Mark::Day(status) => draw_day(area, status, [(14, y - 6), (24, y + 6)])?,
        }
        area.draw_text(&entry.label, &style, (30, y))?;
    }
    if shown < entries.len() {
        let y = LEGEND_ROW / 2 + shown as i32 * LEGEND_ROW;
        area.draw_text(&format!("+{} more", entries.len() - shown), &style, (30, y))?;
    }
    Ok(())
}

fn draw_legend_line(area: &Area<'_>, line: LineStyle, y: i32) -> DrawResult {
    let ends = vec![(8, y), (24, y)];
    let stroke = line.colour.stroke_width(2);
    if line.dashed {
        return area.draw(&DashedPathElement::new(ends, 4, 3, stroke));
    }
    area.draw(&PathElement::new(ends, stroke))
}

fn label_style() -> TextStyle<'static> {
    TextStyle::from((FontFamily::SansSerif, LABEL_SIZE))
}

/// Legend and text alternative keep the full name; legend entries longer than this are cut.
const MAX_LABEL_CHARS: usize = 16;

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

fn utc(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

fn long_date(day: NaiveDate) -> String {
    day.format("%-d %b %Y").to_string()
}

fn long_time(seconds: i64) -> String {
    utc(seconds).format("%-d %b %Y %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn count(svg: &str, needle: &str) -> usize {
        svg.matches(needle).count()
    }

    fn aria_label(svg: &str) -> &str {
        let start = svg.find("aria-label=\"").expect("aria-label") + "aria-label=\"".len();
        &svg[start..start + svg[start..].find('"').expect("closing quote")]
    }

    fn day(offset: i64, [up, down, no_data, excluded]: [i64; 4]) -> DayUptime {
        let first = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
        DayUptime {
            day: first + Duration::days(offset),
            up_minutes: up,
            down_minutes: down,
            no_data_minutes: no_data,
            excluded_minutes: excluded,
        }
    }

    /// 90 days: 10 before monitoring, downtime of 40, 10 and 440 minutes, two days without data.
    fn ninety_days() -> Vec<DayUptime> {
        let minutes = |offset| match offset {
            0..=9 => [0, 0, 0, 0],
            20 => [1400, 40, 0, 0],
            33 => [1430, 10, 0, 0],
            50 | 51 => [200, 0, 1240, 0],
            70 => [1000, 440, 0, 0],
            _ => [1440, 0, 0, 0],
        };
        (0..90).rev().map(|offset| day(offset, minutes(offset))).collect()
    }

    #[test]
    fn ninety_days_render_as_the_snapshot() {
        insta::assert_snapshot!(uptime_bars(&ninety_days()));
    }

    #[test]
    fn no_days_render_the_empty_state_snapshot() {
        insta::assert_snapshot!(uptime_bars(&[]));
    }

    #[test]
    fn each_day_is_one_bar_coloured_by_its_downtime() {
        let svg = uptime_bars(&ninety_days());

        // One rect a day, five legend swatches and the white background.
        assert_eq!(count(&svg, "<rect"), 90 + 5 + 1);
        // Each colour once more for its legend swatch.
        assert_eq!(count(&svg, "fill=\"#009E73\""), 75 + 1, "days without downtime");
        assert_eq!(count(&svg, "fill=\"#E69F00\""), 1 + 1, "10 minutes down stays at 99%");
        assert_eq!(count(&svg, "fill=\"#D55E00\""), 2 + 1, "40 and 440 minutes are below 99%");
        assert!(svg.contains(">\n1 Jan 2024\n</text>") && svg.contains(">\n30 Mar 2024\n</text>"));
    }

    #[test]
    fn days_are_classified_against_99_percent_of_their_measured_minutes() {
        let check = |minutes: [i64; 4], expected: DayStatus| {
            assert_eq!(DayStatus::of(&day(0, minutes)), expected, "{minutes:?}");
        };
        check([0, 0, 0, 0], DayStatus::NotMonitored);
        check([1440, 0, 0, 0], DayStatus::Up);
        check([1439, 1, 0, 0], DayStatus::Degraded);
        check([1426, 14, 0, 0], DayStatus::Degraded);
        check([1425, 15, 0, 0], DayStatus::Down);
        check([0, 1, 0, 1439], DayStatus::Down);
        check([1426, 0, 14, 0], DayStatus::Up);
        check([1425, 0, 15, 0], DayStatus::NoData);
        check([0, 0, 1440, 0], DayStatus::NoData);
        check([1200, 20, 220, 0], DayStatus::Down);
        check([0, 0, 0, 1440], DayStatus::Up);
    }

    #[test]
    fn uptime_text_names_the_uptime_downtime_days_worst_day_and_days_without_data() {
        let svg = uptime_bars(&ninety_days());
        let label = aria_label(&svg);

        assert!(label.starts_with("Daily uptime: 99.565% up"), "{label}");
        assert!(label.contains("3 days with downtime"), "{label}");
        assert!(label.contains("worst day 11 Mar 2024 with 440 min down"), "{label}");
        assert!(label.contains("2 days with no data"), "{label}");
        assert!(svg.contains("<desc>From 1 Jan 2024 to 30 Mar 2024, 80 days monitored: "));
    }

    #[test]
    fn days_without_data_are_hatched_grey_and_not_coloured_as_down() {
        let days = [day(0, [1440, 0, 0, 0]), day(1, [0, 0, 1440, 0]), day(2, [600, 0, 840, 0])];
        let svg = uptime_bars(&days);

        // Two days and the legend swatch.
        assert_eq!(count(&svg, "fill=\"#E4E4E4\""), 3);
        assert_eq!(count(&svg, "stroke=\"#808080\""), 3);
        assert_eq!(count(&svg, "fill=\"#D55E00\""), 1, "only the legend swatch is red");
        assert_eq!(aria_label(&svg), "Daily uptime: 100.000% up, no downtime, 2 days with no data");
    }

    #[test]
    fn days_before_monitoring_are_empty_outlines() {
        let days = [day(0, [0, 0, 0, 0]), day(1, [0, 0, 0, 0]), day(2, [1440, 0, 0, 0])];
        let svg = uptime_bars(&days);

        // Two days and the legend swatch.
        assert_eq!(count(&svg, "fill=\"none\" stroke=\"#A0A0A0\""), 3);
        assert!(svg.contains("1 day monitored: 100.000% up"));
    }

    #[test]
    fn days_without_any_minutes_give_the_empty_state() {
        let svg = uptime_bars(&[day(0, [0, 0, 0, 0]), day(1, [0, 0, 0, 0])]);

        assert!(svg.contains("monitoring has not started yet"));
        assert_eq!(aria_label(&svg), "Daily uptime: no measurements yet");
        assert_eq!(count(&svg, "<rect"), 1);
    }

    #[test]
    fn a_minute_of_downtime_never_reads_as_100_percent_and_ties_name_the_earliest_day() {
        let mut days: Vec<DayUptime> = (0..90).map(|offset| day(offset, [1440, 0, 0, 0])).collect();
        days[40] = day(40, [1439, 1, 0, 0]);
        days[7] = day(7, [1439, 1, 0, 0]);
        let label = uptime_bars(&days);

        assert!(aria_label(&label).starts_with("Daily uptime: 99.998% up, 2 days with downtime"));
        assert!(aria_label(&label).contains("worst day 8 Jan 2024 with 1 min down"));
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, day, hour, 0, 0).single().expect("valid time")
    }

    fn latency_chart() -> SeriesChart {
        let build = (1..=14).map(|day| (at(day, 12), Some(900.0 + f64::from(day) * 100.0)));
        let deploy = (1..=14).map(|day| (at(day, 12), (day != 7).then_some(f64::from(day) * 10.0)));
        SeriesChart {
            title: "P95 duration by run type".to_owned(),
            y_label: "P95 duration".to_owned(),
            unit: Unit::Milliseconds,
            series: vec![
                Series { name: "build".to_owned(), points: build.collect() },
                Series { name: "deploy".to_owned(), points: deploy.collect() },
            ],
        }
    }

    #[test]
    fn series_chart_renders_as_the_snapshot() {
        insta::assert_snapshot!(time_series(&latency_chart()));
    }

    #[test]
    fn series_without_values_render_the_empty_state() {
        let mut chart = latency_chart();
        chart.series[0].points = vec![(at(1, 0), None), (at(2, 0), Some(f64::NAN))];
        chart.series.truncate(1);
        let svg = time_series(&chart);

        assert!(svg.contains("no data for this period"));
        assert_eq!(aria_label(&svg), "P95 duration by run type: no data for this period");
        assert!(!svg.contains("<polyline"));
    }

    #[test]
    fn gaps_split_a_line_and_a_lone_value_becomes_a_dot() {
        let mut chart = latency_chart();
        chart.series[1].points[11].1 = None;
        let svg = time_series(&chart);

        // Days 1–6, 8–11 and the legend; day 13 stands alone between gaps, and day 14 too
        // once day 13's neighbours are gone: the points are in time order whatever the input.
        assert_eq!(count(&svg, "stroke=\"#E69F00\" stroke-width=\"2\""), 3 + 1);
        assert_eq!(count(&svg, "<circle"), 0);
        chart.series[1].points[13].1 = None;
        let svg = time_series(&chart);
        assert_eq!(count(&svg, "<circle"), 1, "day 13 is a lone value");
    }

    #[test]
    fn durations_are_labelled_in_seconds_once_the_axis_reaches_two_seconds() {
        let svg = time_series(&latency_chart());
        assert!(svg.contains(">\n2.0 s\n</text>"), "{svg}");

        let mut chart = latency_chart();
        chart.series.remove(0);
        let svg = time_series(&chart);
        assert!(svg.contains(">\n100 ms\n</text>"), "{svg}");
    }

    #[test]
    fn series_text_gives_each_series_latest_lowest_and_highest_value() {
        let svg = time_series(&latency_chart());

        assert_eq!(
            aria_label(&svg),
            "P95 duration by run type: latest build 2.30 s, deploy 140 ms"
        );
        assert!(svg.contains(
            "build: latest 2.30 s at 14 Mar 2024 12:00 UTC, lowest 1.00 s, highest 2.30 s; \
             deploy: latest 140 ms at 14 Mar 2024 12:00 UTC, lowest 10 ms, highest 140 ms."
        ));
    }

    #[test]
    fn series_names_and_titles_are_escaped() {
        let mut chart = latency_chart();
        chart.title = "Queue <depth> & \"more\"".to_owned();
        chart.series[0].name = "<script>alert('x')</script>".to_owned();
        let svg = time_series(&chart);

        assert!(!svg.contains("<script>") && !svg.contains("<depth>"));
        assert!(svg.contains("<title>Queue &lt;depth&gt; &amp; &quot;more&quot;</title>"));
        assert!(svg.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;: latest"));
    }

    #[test]
    fn more_series_than_colours_repeat_them_dashed() {
        let mut chart = latency_chart();
        chart.series = (0..10)
            .map(|index| Series {
                name: format!("pool {index}"),
                points: vec![(at(1, 0), Some(1.0)), (at(2, 0), Some(2.0))],
            })
            .collect();
        let svg = time_series(&chart);

        assert!(svg.contains(">\npool 9\n</text>"));
        // Series 0 and its legend line are one polyline each; series 8 and its legend line
        // come in blue again, as a polyline per dash.
        assert!(count(&svg, "stroke=\"#0072B2\" stroke-width=\"2\"") > 2 + 20, "{svg}");
    }

    #[test]
    fn time_ticks_fit_the_span_and_weeks_start_on_monday() {
        let check = |from: DateTime<Utc>, to: DateTime<Utc>, expected: &[&str]| {
            let ticks = time_ticks(from.timestamp(), to.timestamp());
            let labels: Vec<&str> = ticks.iter().map(|(_, label)| label.as_str()).collect();
            assert_eq!(labels, expected);
        };
        check(at(4, 9), at(4, 14), &["09:00", "10:00", "11:00", "12:00", "13:00", "14:00"]);
        check(at(4, 0), at(5, 12), &["4 Mar 00:00", "4 Mar 12:00", "5 Mar 00:00", "5 Mar 12:00"]);
        check(
            at(1, 0),
            at(14, 0),
            &["2 Mar", "4 Mar", "6 Mar", "8 Mar", "10 Mar", "12 Mar", "14 Mar"],
        );
        check(at(1, 0), at(31, 0), &["4 Mar", "11 Mar", "18 Mar", "25 Mar"]);
        let june = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).single().expect("valid time");
        check(
            at(1, 0),
            june,
            &["4 Mar", "18 Mar", "1 Apr", "15 Apr", "29 Apr", "13 May", "27 May"],
        );
    }

    #[test]
    fn value_axes_start_at_zero_except_for_high_percentages() {
        assert_eq!(value_range(Unit::Percent, [97.0, 99.0].into_iter()), 96.0..100.16);
        assert_eq!(value_range(Unit::Percent, [0.0, 100.0].into_iter()), 0.0..104.0);
        assert_eq!(value_range(Unit::Count, [3.0, 10.0].into_iter()), 0.0..11.0);
        assert_eq!(value_range(Unit::Count, [0.0].into_iter()), 0.0..1.0);
        assert_eq!(fixed(-0.0, 100.0), "0");
    }

    fn overspent_march() -> BurnDown {
        BurnDown {
            month_label: "March 2024".to_owned(),
            days_in_month: 31,
            allowed_minutes: 44,
            remaining_by_day: vec![(1, 44), (2, 40), (3, 30), (4, 12), (5, -5), (6, -20)],
        }
    }

    #[test]
    fn burn_down_renders_as_the_snapshot() {
        insta::assert_snapshot!(budget_burndown(&overspent_march()));
    }

    #[test]
    fn overspent_budget_is_red_below_zero_and_the_text_names_the_day_it_ran_out() {
        let svg = budget_burndown(&overspent_march());

        assert_eq!(
            aria_label(&svg),
            "Error budget, March 2024: overspent by 20 min after day 6, ran out on day 5"
        );
        assert!(svg.contains("<desc>Error budget for March 2024: 44 min of downtime allowed; "));
        // The overspent stretch and the legend; the red band; the marker on day 5.
        assert_eq!(count(&svg, "stroke=\"#D55E00\" stroke-width=\"2\""), 2);
        assert!(svg.contains("opacity=\"0.08\" fill=\"#D55E00\""));
        assert_eq!(count(&svg, "<circle"), 1);
    }

    #[test]
    fn budget_within_limits_has_no_red_and_says_it_has_not_run_out() {
        let chart = BurnDown {
            month_label: "April 2024".to_owned(),
            days_in_month: 30,
            allowed_minutes: 432,
            remaining_by_day: vec![(2, 400), (1, 432), (3, 380)],
        };
        let svg = budget_burndown(&chart);

        assert!(svg.contains(
            "7 h 12 min of downtime allowed; 6 h 20 min of 7 h 12 min left after \
                              day 3, not run out."
        ));
        assert_eq!(count(&svg, "stroke=\"#D55E00\" stroke-width=\"2\""), 1, "legend only");
        assert!(!svg.contains("opacity=\"0.08\"") && !svg.contains("<circle"));
        assert!(svg.contains(">\n6 h\n</text>"), "a large budget is labelled in hours");
    }

    #[test]
    fn burn_down_without_days_in_the_month_renders_the_empty_state() {
        let mut chart = overspent_march();
        chart.remaining_by_day = vec![(0, 10), (32, 5)];
        let svg = budget_burndown(&chart);

        assert!(svg.contains("no budget data for this month yet"));
        assert_eq!(aria_label(&svg), "Error budget, March 2024: no budget data yet");
    }

    #[test]
    fn a_path_is_split_where_it_crosses_zero() {
        let runs = split_at_zero(&[(0.0, 10.0), (1.0, -10.0), (2.0, -5.0), (3.0, 5.0)]);

        let expected = vec![
            (vec![(0.0, 10.0), (0.5, 0.0)], false),
            (vec![(0.5, 0.0), (1.0, -10.0), (2.0, -5.0), (2.5, 0.0)], true),
            (vec![(2.5, 0.0), (3.0, 5.0)], false),
        ];
        assert_eq!(runs, expected);
    }

    #[test]
    fn same_input_gives_the_same_bytes() {
        assert_eq!(uptime_bars(&ninety_days()), uptime_bars(&ninety_days()));
        assert_eq!(time_series(&latency_chart()), time_series(&latency_chart()));
        assert_eq!(budget_burndown(&overspent_march()), budget_burndown(&overspent_march()));
    }
}
