//! The files a customer receives for one SLA report: a `section,field,value` CSV with every
//! number, and an A4 PDF to read and file. Both are pure functions of the report, so a stored
//! revision always gives the same bytes; the numbers themselves are decided in `report`.

use std::borrow::Cow;

use app::model::{
    ExcludedEntry, LatencyView, PlanView, ReportStatus, RunTypeDurations, Signoff, SlaReport,
    TargetView, TierView,
};
use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use pdf_writer::{Buf, Content, Date, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// The report as a CSV for spreadsheets: a `section,field,value` header, then one row per value.
///
/// Times are RFC 3339 in UTC, measured percentages have three decimals, money has two. A cell
/// that a spreadsheet would run as a formula starts with `'`.
pub fn report_csv(report: &SlaReport) -> String {
    let mut rows = CsvRows::default();
    push_report_rows(&mut rows, report);
    push_uptime_rows(&mut rows, report);
    push_run_rows(&mut rows, report);
    push_breakdown_rows(&mut rows, report);
    push_exclusion_rows(&mut rows, &report.exclusions);
    push_credit_rows(&mut rows, report);
    push_plan_rows(&mut rows, &report.plan);
    push_signoff_rows(&mut rows, "review", report.review.as_ref());
    push_signoff_rows(&mut rows, "issue", report.issue.as_ref());
    for change in &report.changes {
        rows.push("change", &change.field, format!("from {} to {}", change.before, change.after));
    }

    write_csv(&rows.0).expect("writing a csv into memory has no i/o that could fail")
}

/// The report as a PDF on A4 pages, usually one or two; the exclusions table runs onto as
/// many pages as it needs.
///
/// It uses the standard Helvetica fonts in WinAnsiEncoding, so no font is embedded and a
/// character those fonts cannot show becomes `?`. Content streams are left uncompressed.
pub fn report_pdf(report: &SlaReport) -> Vec<u8> {
    let mut layout = Layout::new();
    draw_title(&mut layout, report);
    draw_summary(&mut layout, report);
    draw_uptime(&mut layout, report);
    draw_runs(&mut layout, report);
    draw_breakdowns(&mut layout, report);
    draw_exclusions(&mut layout, &report.exclusions);
    draw_plan(&mut layout, &report.plan);
    draw_signoffs(&mut layout, report);
    draw_changes(&mut layout, report);

    let footer = format!(
        "Service level report \u{b7} {} \u{b7} {} \u{b7} revision {}",
        report.tenant_name, report.month, report.revision
    );
    assemble_pdf(report, layout.finish(&footer))
}

// The CSV.

/// One row of the CSV before it is written.
struct CsvRow {
    section: &'static str,
    field: String,
    value: String,
}

#[derive(Default)]
struct CsvRows(Vec<CsvRow>);

impl CsvRows {
    fn push(&mut self, section: &'static str, field: &str, value: impl Into<String>) {
        self.0.push(CsvRow { section, field: field.to_owned(), value: value.into() });
    }
}

fn write_csv(rows: &[CsvRow]) -> Result<String, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["section", "field", "value"])?;
    for row in rows {
        let cells = [neutralise(row.section), neutralise(&row.field), neutralise(&row.value)];
        writer.write_record(cells.iter().map(|cell| cell.as_bytes()))?;
    }

    let bytes = writer.into_inner().map_err(|error| error.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Prefixes a cell with `'` when a spreadsheet would run it as a formula (CSV injection).
///
/// Every cell passes through here, not only the free text, so a field added later cannot
/// forget it; plain numbers such as `-40` are left alone because they cannot run anything.
fn neutralise(cell: &str) -> Cow<'_, str> {
    let starts_like_formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if starts_like_formula && !is_plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

fn is_plain_number(cell: &str) -> bool {
    let unsigned = cell.strip_prefix('-').unwrap_or(cell);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit());
    digits(whole) && digits(fraction)
}

fn push_report_rows(rows: &mut CsvRows, report: &SlaReport) {
    rows.push("report", "tenant", &report.tenant_slug);
    rows.push("report", "tenant name", &report.tenant_name);
    rows.push("report", "month", &report.month);
    rows.push("report", "revision", report.revision.to_string());
    rows.push("report", "status", report.status.as_str());
    rows.push("report", "complete", yes_no(report.complete));
    rows.push("report", "period start", rfc3339(report.period_start));
    rows.push("report", "period end", rfc3339(report.period_end));
    rows.push("report", "computed at", rfc3339(report.computed_at));
}

fn push_uptime_rows(rows: &mut CsvRows, report: &SlaReport) {
    rows.push("uptime", "minutes", report.minutes.to_string());
    rows.push("uptime", "excluded minutes", report.excluded_minutes.to_string());
    rows.push("uptime", "down minutes", report.down_minutes.to_string());
    rows.push("uptime", "no data minutes", report.no_data_minutes.to_string());
    rows.push("uptime", "downtime minutes", report.downtime_minutes.to_string());
    rows.push("uptime", "eligible minutes", report.eligible_minutes.to_string());
    push_target_rows(rows, "uptime", "uptime", &report.uptime);
    rows.push("uptime", "error budget allowed minutes", report.budget_allowed_minutes.to_string());
    let remaining = report.budget_remaining_minutes.to_string();
    rows.push("uptime", "error budget remaining minutes", remaining);
}

fn push_run_rows(rows: &mut CsvRows, report: &SlaReport) {
    rows.push("runs", "counted", report.runs_counted.to_string());
    rows.push("runs", "succeeded", report.runs_succeeded.to_string());
    push_target_rows(rows, "runs", "success", &report.success);
    rows.push("runs", "timed", report.runs_timed.to_string());
    rows.push("runs", "within expected", report.runs_within_expected.to_string());
    push_target_rows(rows, "runs", "within expected", &report.execution);
}

/// The `<name> %`, `<name> target %` and `<name> met` rows; the uptime section's own rows
/// drop the name from the last two.
fn push_target_rows(rows: &mut CsvRows, section: &'static str, name: &str, target: &TargetView) {
    let prefix = if name == section { String::new() } else { format!("{name} ") };
    rows.push(section, &format!("{name} %"), measured(target.actual_pct).unwrap_or_default());
    rows.push(section, &format!("{prefix}target %"), term(target.target_pct));
    rows.push(section, &format!("{prefix}met"), yes_no(target.met));
}

fn push_breakdown_rows(rows: &mut CsvRows, report: &SlaReport) {
    for run_type in &report.run_types {
        rows.push("run type", &run_type.run_type, run_type_summary(run_type));
    }
    for pool in &report.pools {
        rows.push("pool", &pool.name, format!("start latency P95 {}", ms(pool.p95_ms)));
    }
}

fn run_type_summary(run_type: &RunTypeDurations) -> String {
    let (p50, p95) = (ms(run_type.p50_ms), ms(run_type.p95_ms));
    format!("runs {}; P50 {p50}; P95 {p95}", run_type.runs)
}

fn push_exclusion_rows(rows: &mut CsvRows, exclusions: &[ExcludedEntry]) {
    for entry in exclusions {
        let value = format!(
            "{}; {} to {}; covered {} min; counted {} min; reason: {}",
            entry.classification.label(),
            rfc3339(entry.starts_at),
            rfc3339(entry.ends_at),
            entry.covered_minutes,
            entry.counted_minutes,
            entry.reason
        );
        rows.push("exclusion", &entry.title, value);
    }
}

fn push_credit_rows(rows: &mut CsvRows, report: &SlaReport) {
    let credit = &report.credit;
    let tier = credit.uptime_tier.as_ref().map_or_else(|| "none".to_owned(), tier_text);
    rows.push("credit", "uptime tier", tier);
    rows.push("credit", "percent", term(credit.percent));
    rows.push("credit", "capped", yes_no(credit.capped));
    rows.push("credit", "amount", decimal_cents(credit.amount_cents));
    rows.push("credit", "currency", &credit.currency);
}

fn push_plan_rows(rows: &mut CsvRows, plan: &PlanView) {
    rows.push("plan", "on file", yes_no(plan.on_file));
    rows.push("plan", "monthly fee", decimal_cents(plan.monthly_fee_cents));
    rows.push("plan", "currency", &plan.currency);
    rows.push("plan", "uptime target %", term(plan.uptime_target_pct));
    for tier in &plan.uptime_tiers {
        rows.push("plan", "uptime credit tier", tier_text(tier));
    }
    rows.push("plan", "success target %", term(plan.success_target_pct));
    rows.push("plan", "success miss credit %", term(plan.success_miss_credit_pct));
    rows.push("plan", "within expected target %", term(plan.execution_target_pct));
    rows.push("plan", "within expected miss credit %", term(plan.execution_miss_credit_pct));
    rows.push("plan", "credit cap %", term(plan.credit_cap_pct));
}

fn push_signoff_rows(rows: &mut CsvRows, section: &'static str, signoff: Option<&Signoff>) {
    if let Some(signoff) = signoff {
        rows.push(section, "by", &signoff.by);
        rows.push(section, "at", rfc3339(signoff.at));
        rows.push(section, "note", &signoff.note);
    }
}

// Numbers and times, shared by both files so they always agree.

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A time for people: minutes, in UTC, without the zone (headings say UTC).
fn short_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// `value` with `decimals` places, `None` when it is not a number; never `-0.000`.
fn fixed(value: f64, decimals: usize) -> Option<String> {
    if !value.is_finite() {
        return None;
    }
    let text = format!("{value:.decimals$}");
    let is_zero = text.bytes().all(|byte| matches!(byte, b'-' | b'0' | b'.'));
    Some(if is_zero { text.trim_start_matches('-').to_owned() } else { text })
}

/// A measured percentage: three decimals, so a report and its CSV never round differently.
fn measured(percent: Option<f64>) -> Option<String> {
    percent.and_then(|percent| fixed(percent, 3))
}

/// A percentage of the plan's terms, as short as it is exact to three decimals: `99.9`, `10`.
fn term(percent: f64) -> String {
    let Some(text) = fixed(percent, 3) else { return String::new() };
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn ms(value: Option<f64>) -> String {
    value.and_then(|value| fixed(value, 0)).map_or_else(|| "n/a".to_owned(), |ms| ms + " ms")
}

fn tier_text(tier: &TierView) -> String {
    format!("below {}%: {}%", term(tier.below_pct), term(tier.credit_pct))
}

/// Cents as a decimal with two places: `25000` is `250.00`.
fn decimal_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

fn money(cents: i64, currency: &str) -> String {
    format!("{currency} {}", decimal_cents(cents))
}

// The PDF: a small flowing layout on A4 pages.

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TOP: f32 = PAGE_HEIGHT - 48.0;
/// Nothing but the footer goes below this line.
const BOTTOM: f32 = 56.0;
const FOOTER_BASELINE: f32 = 32.0;
/// Space between table rows, so a wrapped row reads as one.
const ROW_GAP: f32 = 1.5;

const INK: [f32; 3] = [0.1, 0.1, 0.1];
const MUTED: [f32; 3] = [0.4, 0.4, 0.4];
const ALERT: [f32; 3] = [0.72, 0.1, 0.1];

const TITLE: Style = Style { font: Font::Bold, size: 18.0, color: INK };
const TENANT: Style = Style { font: Font::Bold, size: 13.0, color: INK };
const DRAFT: Style = Style { font: Font::Bold, size: 15.0, color: ALERT };
const CREDIT: Style = Style { font: Font::Bold, size: 13.0, color: INK };
const HEADING: Style = Style { font: Font::Bold, size: 10.5, color: INK };
const BODY: Style = Style { font: Font::Regular, size: 8.5, color: INK };
const LABEL: Style = Style { font: Font::Regular, size: 8.5, color: MUTED };
const COLUMN_TITLE: Style = Style { font: Font::Bold, size: 7.5, color: MUTED };
const FOOTER: Style = Style { font: Font::Regular, size: 7.5, color: MUTED };

#[derive(Clone, Copy, Debug)]
enum Font {
    Regular,
    Bold,
}

#[derive(Clone, Copy, Debug)]
struct Style {
    font: Font,
    size: f32,
    color: [f32; 3],
}

/// Text in a box `width` wide at `x` from the left margin, wrapped to as many lines as needed.
struct Cell<'a> {
    x: f32,
    width: f32,
    style: Style,
    text: &'a str,
}

struct Column {
    title: &'static str,
    x: f32,
    width: f32,
}

/// Pages being filled from the top; `y` is the top of the next line on the last page.
struct Layout {
    pages: Vec<Content>,
    y: f32,
}

impl Font {
    fn resource(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
        }
    }

    fn base_font(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"Helvetica"),
            Font::Bold => Name(b"Helvetica-Bold"),
        }
    }

    /// The width in points of WinAnsi-encoded `text`.
    fn width(self, text: &[u8], size: f32) -> f32 {
        let widths = match self {
            Font::Regular => &HELVETICA_WIDTHS,
            Font::Bold => &HELVETICA_BOLD_WIDTHS,
        };
        let units: u32 =
            text.iter().map(|&byte| u32::from(widths[usize::from(byte.max(32) - 32)])).sum();
        units as f32 * size / 1000.0
    }
}

impl Style {
    fn leading(self) -> f32 {
        self.size * 1.3
    }
}

impl Layout {
    fn new() -> Layout {
        Layout { pages: vec![Content::new()], y: TOP }
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = TOP;
    }

    fn fits(&self, height: f32) -> bool {
        self.y - height >= BOTTOM
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room(&mut self, height: f32) {
        if !self.fits(height) {
            self.new_page();
        }
    }

    fn gap(&mut self, height: f32) {
        self.y -= height;
    }

    fn content(&mut self) -> &mut Content {
        self.pages.last_mut().expect("a layout always has a page")
    }

    /// Draws one line with its top at the cursor, without moving the cursor.
    fn show(&mut self, style: Style, x: f32, text: &[u8]) {
        let baseline = self.y - style.size;
        show_text(self.content(), style, MARGIN + x, baseline, text);
    }

    /// Draws cells side by side, line by line, so a cell taller than a page still breaks.
    fn row(&mut self, cells: &[Cell]) {
        let wrapped: Vec<_> =
            cells.iter().map(|cell| wrap(cell.text, cell.style, cell.width)).collect();
        let leading = cells.iter().map(|cell| cell.style.leading()).fold(0.0, f32::max);
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(0);

        for line in 0..lines {
            self.room(leading);
            for (cell, cell_lines) in cells.iter().zip(&wrapped) {
                if let Some(text) = cell_lines.get(line) {
                    self.show(cell.style, cell.x, text);
                }
            }
            self.gap(leading);
        }
    }

    fn row_height(cells: &[Cell]) -> f32 {
        let height = |cell: &Cell| {
            wrap(cell.text, cell.style, cell.width).len() as f32 * cell.style.leading()
        };
        cells.iter().map(height).fold(0.0, f32::max)
    }

    fn paragraph(&mut self, style: Style, text: &str) {
        self.row(&[Cell { x: 0.0, width: TEXT_WIDTH, style, text }]);
    }

    /// A section title with a rule under it, kept on the page with the first lines below it.
    fn heading(&mut self, text: &str) {
        self.gap(8.0);
        self.room(HEADING.leading() + 3.0 * BODY.leading());
        self.paragraph(HEADING, text);

        let y = self.y + 1.0;
        let content = self.content();
        content.set_stroke_gray(0.75).set_line_width(0.5);
        content.move_to(MARGIN, y).line_to(MARGIN + TEXT_WIDTH, y).stroke();
        self.gap(4.0);
    }

    /// Label and value pairs in two columns.
    fn facts(&mut self, facts: &[(&str, String)]) {
        for pair in facts.chunks(2) {
            let mut cells = Vec::new();
            for (index, (label, value)) in pair.iter().enumerate() {
                let x = index as f32 * TEXT_WIDTH / 2.0;
                cells.push(Cell { x, width: 118.0, style: LABEL, text: label });
                cells.push(Cell { x: x + 122.0, width: 120.0, style: BODY, text: value });
            }
            self.row(&cells);
        }
    }

    /// A table whose column titles come back on top of each page it runs onto.
    fn table(&mut self, columns: &[Column], rows: &[Vec<String>]) {
        self.column_titles(columns);
        for row in rows {
            let cells: Vec<Cell> = columns
                .iter()
                .zip(row)
                .map(|(column, text)| Cell { x: column.x, width: column.width, style: BODY, text })
                .collect();
            // A row taller than a page breaks wherever it is instead of leaving an empty table.
            let height = Layout::row_height(&cells);
            if !self.fits(height) && height <= TOP - BOTTOM {
                self.new_page();
                self.column_titles(columns);
            }
            self.row(&cells);
            self.gap(ROW_GAP);
        }
    }

    fn column_titles(&mut self, columns: &[Column]) {
        let cells: Vec<Cell> = columns
            .iter()
            .map(|column| Cell {
                x: column.x,
                width: column.width,
                style: COLUMN_TITLE,
                text: column.title,
            })
            .collect();
        self.row(&cells);
        self.gap(1.0);
    }

    /// Puts the footer and page number on every page and closes the content streams. A footer
    /// too long for its line is cut at a word, clear of the page number.
    fn finish(self, footer: &str) -> Vec<Buf> {
        let count = self.pages.len();
        let footer = wrap(footer, FOOTER, TEXT_WIDTH - 80.0).swap_remove(0);
        let mut pages = Vec::with_capacity(count);

        for (index, mut content) in self.pages.into_iter().enumerate() {
            let number = encode(&format!("Page {} of {count}", index + 1));
            let number_x = PAGE_WIDTH - MARGIN - FOOTER.font.width(&number, FOOTER.size);
            show_text(&mut content, FOOTER, MARGIN, FOOTER_BASELINE, &footer);
            show_text(&mut content, FOOTER, number_x, FOOTER_BASELINE, &number);
            pages.push(content.finish());
        }
        pages
    }
}

fn show_text(content: &mut Content, style: Style, x: f32, baseline: f32, text: &[u8]) {
    if text.is_empty() {
        return;
    }
    let [red, green, blue] = style.color;
    content.begin_text();
    content.set_font(style.font.resource(), style.size);
    content.set_fill_rgb(red, green, blue);
    content.next_line(x, baseline);
    content.show(Str(text));
    content.end_text();
}

/// Breaks text into WinAnsi-encoded lines no wider than `width`, always at least one (empty for
/// empty text); a word longer than a line is cut where it must be. Any run of whitespace,
/// newlines included, becomes one space.
fn wrap(text: &str, style: Style, width: f32) -> Vec<Vec<u8>> {
    let space = style.font.width(b" ", style.size);
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_width = 0.0;

    for word in text.split_whitespace() {
        for piece in cut_to_width(&encode(word), style, width) {
            let piece_width = style.font.width(&piece, style.size);
            if !line.is_empty() && line_width + space + piece_width > width {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            if !line.is_empty() {
                line.push(b' ');
                line_width += space;
            }
            line.extend_from_slice(&piece);
            line_width += piece_width;
        }
    }

    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn cut_to_width(word: &[u8], style: Style, width: f32) -> Vec<Vec<u8>> {
    let mut pieces = Vec::new();
    let mut piece: Vec<u8> = Vec::new();
    let mut piece_width = 0.0;
    for &byte in word {
        let byte_width = style.font.width(&[byte], style.size);
        if !piece.is_empty() && piece_width + byte_width > width {
            pieces.push(std::mem::take(&mut piece));
            piece_width = 0.0;
        }
        piece.push(byte);
        piece_width += byte_width;
    }
    pieces.push(piece);
    pieces
}

/// Encodes text for the standard fonts: whitespace becomes a space and a character outside
/// WinAnsiEncoding becomes `?`, so any input gives a valid string.
fn encode(text: &str) -> Vec<u8> {
    text.chars().map(win_ansi).collect()
}

fn win_ansi(character: char) -> u8 {
    match character {
        ' '..='~' | '\u{a0}'..='\u{ff}' => u8::try_from(character).unwrap_or(b'?'),
        _ if character.is_whitespace() => b' ',
        _ => WIN_ANSI_BEYOND_LATIN_1
            .iter()
            .find(|(candidate, _)| *candidate == character)
            .map_or(b'?', |&(_, byte)| byte),
    }
}

fn draw_title(layout: &mut Layout, report: &SlaReport) {
    layout.paragraph(TITLE, "Service level report");
    layout.gap(2.0);
    layout.paragraph(TENANT, &report.tenant_name);
    let line = format!(
        "Month {} \u{b7} revision {} \u{b7} {}",
        report.month,
        report.revision,
        report.status.as_str()
    );
    layout.paragraph(BODY, &line);
    let period = format!(
        "Period {} to {} UTC, computed {} UTC",
        short_time(report.period_start),
        short_time(report.period_end),
        short_time(report.computed_at)
    );
    layout.paragraph(LABEL, &period);

    if report.status != ReportStatus::Issued {
        layout.gap(6.0);
        layout.paragraph(DRAFT, "DRAFT \u{2014} not issued");
        layout.paragraph(LABEL, "The numbers may still change; only an issued report is final.");
    }
    if !report.complete {
        layout.paragraph(LABEL, "The month is still running: the numbers stop at the period end.");
    }
}

/// The box a customer reads first: the credit owed and each target, met or missed.
fn draw_summary(layout: &mut Layout, report: &SlaReport) {
    let credit = &report.credit;
    let mut basis = format!(
        "{}% of the monthly fee of {}",
        term(credit.percent),
        money(report.plan.monthly_fee_cents, &report.plan.currency)
    );
    if credit.capped {
        basis.push_str(&format!(", capped at {}%", term(report.plan.credit_cap_pct)));
    }
    let lines = [
        (CREDIT, format!("Credit owed: {}", money(credit.amount_cents, &credit.currency))),
        (BODY, basis),
        (BODY, target_line("Uptime", &report.uptime)),
        (BODY, target_line("Run success", &report.success)),
        (BODY, target_line("Runs within expected time", &report.execution)),
    ];

    let padding = 7.0;
    let inner_width = TEXT_WIDTH - 2.0 * padding;
    let wrapped: Vec<_> =
        lines.iter().map(|(style, text)| (*style, wrap(text, *style, inner_width))).collect();
    let text_height: f32 =
        wrapped.iter().map(|(style, lines)| lines.len() as f32 * style.leading()).sum();
    let height = text_height + 2.0 * padding;

    layout.gap(10.0);
    layout.room(height);
    let top = layout.y;
    let content = layout.content();
    content.set_fill_gray(0.95).set_stroke_gray(0.8).set_line_width(0.75);
    content.rect(MARGIN, top - height, TEXT_WIDTH, height).fill_nonzero_and_stroke();

    layout.gap(padding);
    for (style, lines) in wrapped {
        for line in lines {
            layout.show(style, padding, &line);
            layout.gap(style.leading());
        }
    }
    layout.gap(padding);
}

fn target_line(name: &str, target: &TargetView) -> String {
    let actual = measured(target.actual_pct).map_or_else(|| "n/a".to_owned(), |pct| pct + "%");
    let result = if target.met { "met" } else { "missed" };
    format!("{name} {actual} against a target of {}%: {result}", term(target.target_pct))
}

fn draw_uptime(layout: &mut Layout, report: &SlaReport) {
    layout.heading("Uptime");
    layout.facts(&[
        ("Minutes in the period", report.minutes.to_string()),
        ("Uptime", percent_text(report.uptime.actual_pct)),
        ("Excluded minutes", report.excluded_minutes.to_string()),
        ("Target", format!("{}%", term(report.uptime.target_pct))),
        ("Eligible minutes", report.eligible_minutes.to_string()),
        ("Result", met_text(report.uptime.met)),
        ("Down minutes", report.down_minutes.to_string()),
        ("Error budget allowed", format!("{} min", report.budget_allowed_minutes)),
        ("Minutes without data", report.no_data_minutes.to_string()),
        ("Error budget remaining", format!("{} min", report.budget_remaining_minutes)),
        ("Downtime minutes", report.downtime_minutes.to_string()),
    ]);
}

fn draw_runs(layout: &mut Layout, report: &SlaReport) {
    layout.heading("Runs");
    layout.facts(&[
        ("Runs counted", report.runs_counted.to_string()),
        ("Runs timed", report.runs_timed.to_string()),
        ("Runs succeeded", report.runs_succeeded.to_string()),
        ("Within expected time", report.runs_within_expected.to_string()),
        ("Success", percent_text(report.success.actual_pct)),
        ("Share within expected", percent_text(report.execution.actual_pct)),
        ("Success target", format!("{}%", term(report.success.target_pct))),
        ("Share target", format!("{}%", term(report.execution.target_pct))),
        ("Success result", met_text(report.success.met)),
        ("Share result", met_text(report.execution.met)),
    ]);
}

fn percent_text(percent: Option<f64>) -> String {
    measured(percent).map_or_else(|| "n/a".to_owned(), |pct| pct + "%")
}

fn met_text(met: bool) -> String {
    if met { "Met" } else { "Missed" }.to_owned()
}

fn draw_breakdowns(layout: &mut Layout, report: &SlaReport) {
    layout.heading("Durations by run type (succeeded runs)");
    let rows: Vec<_> = report.run_types.iter().map(run_type_cells).collect();
    if rows.is_empty() {
        layout.paragraph(LABEL, "No runs in the period.");
    } else {
        layout.table(&latency_columns("Run type", "Runs"), &rows);
    }

    layout.heading("Job start latency by pool");
    let rows: Vec<_> = report.pools.iter().map(pool_cells).collect();
    if rows.is_empty() {
        layout.paragraph(LABEL, "No jobs started in the period.");
    } else {
        layout.table(&latency_columns("Pool", "Jobs"), &rows);
    }
}

fn latency_columns(name: &'static str, count: &'static str) -> [Column; 4] {
    [
        Column { title: name, x: 0.0, width: 200.0 },
        Column { title: count, x: 210.0, width: 70.0 },
        Column { title: "P50", x: 290.0, width: 90.0 },
        Column { title: "P95", x: 390.0, width: 90.0 },
    ]
}

fn run_type_cells(run_type: &RunTypeDurations) -> Vec<String> {
    let (p50, p95) = (ms(run_type.p50_ms), ms(run_type.p95_ms));
    vec![run_type.run_type.clone(), run_type.runs.to_string(), p50, p95]
}

fn pool_cells(pool: &LatencyView) -> Vec<String> {
    vec![pool.name.clone(), pool.count.to_string(), ms(pool.p50_ms), ms(pool.p95_ms)]
}

fn draw_exclusions(layout: &mut Layout, exclusions: &[ExcludedEntry]) {
    layout.heading("Excluded time");
    if exclusions.is_empty() {
        layout.paragraph(LABEL, "Nothing was excluded from this report.");
        return;
    }
    let columns = [
        Column { title: "Start (UTC)", x: 0.0, width: 72.0 },
        Column { title: "End (UTC)", x: 80.0, width: 72.0 },
        Column { title: "Classification", x: 160.0, width: 84.0 },
        Column { title: "Counted / covered min", x: 250.0, width: 48.0 },
        Column { title: "Entry and reason", x: 304.0, width: TEXT_WIDTH - 304.0 },
    ];
    let rows: Vec<_> = exclusions.iter().map(exclusion_cells).collect();
    layout.table(&columns, &rows);
}

fn exclusion_cells(entry: &ExcludedEntry) -> Vec<String> {
    vec![
        short_time(entry.starts_at),
        short_time(entry.ends_at),
        entry.classification.label().to_owned(),
        format!("{} / {}", entry.counted_minutes, entry.covered_minutes),
        format!("{}: {}", entry.title, entry.reason),
    ]
}

fn draw_plan(layout: &mut Layout, plan: &PlanView) {
    layout.heading("Plan terms");
    if !plan.on_file {
        layout.paragraph(LABEL, "No plan is on file for this tenant: the default terms apply.");
    }
    let tiers: Vec<String> = plan.uptime_tiers.iter().map(tier_text).collect();
    let tiers = if tiers.is_empty() { "none".to_owned() } else { tiers.join("; ") };
    layout.facts(&[
        ("Monthly fee", money(plan.monthly_fee_cents, &plan.currency)),
        ("Credit cap", format!("{}% of the fee", term(plan.credit_cap_pct))),
        ("Uptime target", format!("{}%", term(plan.uptime_target_pct))),
        ("Uptime credit tiers", tiers),
        ("Run success target", format!("{}%", term(plan.success_target_pct))),
        ("Credit if missed", format!("{}%", term(plan.success_miss_credit_pct))),
        ("Within expected target", format!("{}%", term(plan.execution_target_pct))),
        ("Credit if missed", format!("{}%", term(plan.execution_miss_credit_pct))),
    ]);
}

fn draw_signoffs(layout: &mut Layout, report: &SlaReport) {
    layout.heading("Sign-offs");
    let columns = [
        Column { title: "Step", x: 0.0, width: 60.0 },
        Column { title: "By", x: 64.0, width: 130.0 },
        Column { title: "At (UTC)", x: 198.0, width: 72.0 },
        Column { title: "Note", x: 274.0, width: TEXT_WIDTH - 274.0 },
    ];
    let rows = [
        signoff_cells("Reviewed", report.review.as_ref()),
        signoff_cells("Issued", report.issue.as_ref()),
    ];
    layout.table(&columns, &rows);
}

fn signoff_cells(step: &str, signoff: Option<&Signoff>) -> Vec<String> {
    match signoff {
        Some(signoff) => {
            vec![step.to_owned(), signoff.by.clone(), short_time(signoff.at), signoff.note.clone()]
        }
        None => vec![step.to_owned(), "not yet".to_owned(), String::new(), String::new()],
    }
}

fn draw_changes(layout: &mut Layout, report: &SlaReport) {
    layout.heading("Changes from the previous revision");
    if report.changes.is_empty() {
        let text = if report.revision <= 1 {
            "This is the first revision.".to_owned()
        } else {
            format!("No number changed from revision {}.", report.revision - 1)
        };
        layout.paragraph(LABEL, &text);
        return;
    }
    let columns = [
        Column { title: "Number", x: 0.0, width: 200.0 },
        Column { title: "Before", x: 210.0, width: 135.0 },
        Column { title: "After", x: 350.0, width: TEXT_WIDTH - 350.0 },
    ];
    let rows: Vec<_> = report
        .changes
        .iter()
        .map(|change| vec![change.field.clone(), change.before.clone(), change.after.clone()])
        .collect();
    layout.table(&columns, &rows);
}

/// Writes the catalog, the pages, the two standard fonts and the document info. Object ids
/// are fixed by position, so the same pages always give the same bytes.
fn assemble_pdf(report: &SlaReport, pages: Vec<Buf>) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let info_id = Ref::new(3);
    let font_ids = [(Font::Regular, Ref::new(4)), (Font::Bold, Ref::new(5))];
    let mut next_id = Ref::new(6);
    let page_ids: Vec<(Ref, Ref)> =
        pages.iter().map(|_| (next_id.bump(), next_id.bump())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    let count = i32::try_from(pages.len()).expect("a report has far fewer pages than i32::MAX");
    pdf.pages(tree_id).kids(page_ids.iter().map(|&(page_id, _)| page_id)).count(count);

    for (&(page_id, content_id), content) in page_ids.iter().zip(&pages) {
        let mut page = pdf.page(page_id);
        page.parent(tree_id).media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.contents(content_id);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        for (font, font_id) in font_ids {
            fonts.pair(font.resource(), font_id);
        }
        fonts.finish();
        resources.finish();
        page.finish();
        pdf.stream(content_id, content);
    }

    for (font, font_id) in font_ids {
        let mut writer = pdf.type1_font(font_id);
        writer.base_font(font.base_font()).encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    let title = format!(
        "Service level report: {}, {}, revision {}",
        report.tenant_name, report.month, report.revision
    );
    let mut info = pdf.document_info(info_id);
    info.title(TextStr(&title)).creator(TextStr("Factory"));
    info.creation_date(pdf_date(report.computed_at));
    info.finish();
    pdf.finish()
}

/// The report's computation time as a PDF date, so no clock makes two files differ.
fn pdf_date(at: DateTime<Utc>) -> Date {
    let two_digits = |value: u32| u8::try_from(value).unwrap_or(0);
    Date::new(u16::try_from(at.year()).unwrap_or(0))
        .month(two_digits(at.month()))
        .day(two_digits(at.day()))
        .hour(two_digits(at.hour()))
        .minute(two_digits(at.minute()))
        .second(two_digits(at.second()))
        .utc_offset_hour(0)
}

/// WinAnsiEncoding's characters in 0x80–0x9F, where it differs from Latin-1.
const WIN_ANSI_BEYOND_LATIN_1: [(char, u8); 27] = [
    ('\u{20ac}', 0x80),
    ('\u{201a}', 0x82),
    ('\u{0192}', 0x83),
    ('\u{201e}', 0x84),
    ('\u{2026}', 0x85),
    ('\u{2020}', 0x86),
    ('\u{2021}', 0x87),
    ('\u{02c6}', 0x88),
    ('\u{2030}', 0x89),
    ('\u{0160}', 0x8a),
    ('\u{2039}', 0x8b),
    ('\u{0152}', 0x8c),
    ('\u{017d}', 0x8e),
    ('\u{2018}', 0x91),
    ('\u{2019}', 0x92),
    ('\u{201c}', 0x93),
    ('\u{201d}', 0x94),
    ('\u{2022}', 0x95),
    ('\u{2013}', 0x96),
    ('\u{2014}', 0x97),
    ('\u{02dc}', 0x98),
    ('\u{2122}', 0x99),
    ('\u{0161}', 0x9a),
    ('\u{203a}', 0x9b),
    ('\u{0153}', 0x9c),
    ('\u{017e}', 0x9e),
    ('\u{0178}', 0x9f),
];

/// Advance widths of Helvetica for WinAnsi codes 32 to 255, in thousandths of the font size,
/// from Adobe's published font metrics; codes WinAnsi leaves undefined are 0.
const HELVETICA_WIDTHS: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
    0, 556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, 0, 222, 222,
    333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    260, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 578, 537, 278, 333,
    333, 365, 556, 834, 834, 834, 611, 667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500,
];

/// The same for Helvetica-Bold.
const HELVETICA_BOLD_WIDTHS: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
    0, 556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, 0, 278, 278,
    500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, 278, 333, 556, 556, 556, 556,
    280, 556, 333, 737, 370, 556, 584, 333, 737, 333, 400, 584, 333, 333, 333, 611, 556, 278, 333,
    333, 365, 556, 834, 834, 834, 611, 722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667,
    278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667,
    611, 556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, 611, 611,
    611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556,
];

#[cfg(test)]
mod tests {
    use super::*;

    use app::model::{Classification, CreditView, ReportChange};
    use chrono::TimeZone;
    use uuid::Uuid;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    fn sample_report() -> SlaReport {
        SlaReport {
            tenant_slug: "acme".into(),
            tenant_name: "Acme Logistics".into(),
            month: "2026-03".into(),
            revision: 2,
            status: ReportStatus::Issued,
            period_start: at(1, 0),
            period_end: Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap(),
            complete: true,
            computed_at: Utc.with_ymd_and_hms(2026, 4, 1, 6, 0, 0).unwrap(),
            plan: sample_plan(),
            minutes: 44_640,
            excluded_minutes: 120,
            down_minutes: 60,
            no_data_minutes: 24,
            downtime_minutes: 84,
            eligible_minutes: 44_520,
            uptime: TargetView { target_pct: 99.9, actual_pct: Some(99.811_320_7), met: false },
            success: TargetView { target_pct: 99.0, actual_pct: Some(99.2), met: true },
            execution: TargetView { target_pct: 95.0, actual_pct: Some(97.25), met: true },
            runs_counted: 1_250,
            runs_succeeded: 1_240,
            runs_timed: 1_240,
            runs_within_expected: 1_206,
            budget_allowed_minutes: 44,
            budget_remaining_minutes: -40,
            exclusions: vec![exclusion("Database upgrade", "Announced 7 days ahead")],
            run_types: vec![
                RunTypeDurations {
                    run_type: "build".into(),
                    runs: 900,
                    p50_ms: Some(1_200.0),
                    p95_ms: Some(3_400.4),
                },
                RunTypeDurations {
                    run_type: "deploy".into(),
                    runs: 340,
                    p50_ms: None,
                    p95_ms: None,
                },
            ],
            pools: vec![LatencyView {
                name: "default".into(),
                count: 1_250,
                p50_ms: Some(180.0),
                p95_ms: Some(850.0),
            }],
            credit: CreditView {
                uptime_tier: Some(TierView { below_pct: 99.9, credit_pct: 10.0 }),
                percent: 10.0,
                capped: false,
                amount_cents: 25_000,
                currency: "EUR".into(),
            },
            review: Some(signoff("maria@factory.example", "Checked against the incident log")),
            issue: Some(signoff("li@factory.example", "Sent to the customer")),
            changes: vec![ReportChange {
                field: "uptime %".into(),
                before: "99.820".into(),
                after: "99.811".into(),
            }],
            revisions: Vec::new(),
        }
    }

    fn sample_plan() -> PlanView {
        PlanView {
            monthly_fee_cents: 250_000,
            currency: "EUR".into(),
            uptime_target_pct: 99.9,
            success_target_pct: 99.0,
            execution_target_pct: 95.0,
            uptime_tiers: vec![
                TierView { below_pct: 99.9, credit_pct: 10.0 },
                TierView { below_pct: 99.0, credit_pct: 25.0 },
            ],
            success_miss_credit_pct: 5.0,
            execution_miss_credit_pct: 5.0,
            credit_cap_pct: 30.0,
            on_file: true,
        }
    }

    fn exclusion(title: &str, reason: &str) -> ExcludedEntry {
        ExcludedEntry {
            id: Uuid::nil(),
            classification: Classification::Planned,
            title: title.into(),
            reason: reason.into(),
            starts_at: at(10, 2),
            ends_at: at(10, 4),
            covered_minutes: 120,
            counted_minutes: 120,
        }
    }

    fn signoff(by: &str, note: &str) -> Signoff {
        Signoff {
            by: by.into(),
            at: Utc.with_ymd_and_hms(2026, 4, 2, 9, 30, 0).unwrap(),
            note: note.into(),
        }
    }

    /// The CSV read back with the csv crate, header included.
    fn csv_records(report: &SlaReport) -> Vec<[String; 3]> {
        let text = report_csv(report);
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
        reader
            .records()
            .map(|record| {
                let record = record.unwrap();
                assert_eq!(record.len(), 3, "{record:?}");
                [record[0].to_owned(), record[1].to_owned(), record[2].to_owned()]
            })
            .collect()
    }

    fn csv_value<'a>(records: &'a [[String; 3]], section: &str, field: &str) -> &'a str {
        let row = records.iter().find(|row| row[0] == section && row[1] == field);
        &row.unwrap_or_else(|| panic!("no row {section},{field}"))[2]
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|window| window == needle)
    }

    #[test]
    fn csv_reads_back_with_the_credit_uptime_and_exclusion_rows() {
        let records = csv_records(&sample_report());

        assert_eq!(records[0], ["section", "field", "value"]);
        assert_eq!(csv_value(&records, "report", "period start"), "2026-03-01T00:00:00Z");
        assert_eq!(csv_value(&records, "uptime", "uptime %"), "99.811");
        assert_eq!(csv_value(&records, "uptime", "target %"), "99.9");
        assert_eq!(csv_value(&records, "uptime", "met"), "no");
        assert_eq!(csv_value(&records, "uptime", "error budget remaining minutes"), "-40");
        assert_eq!(csv_value(&records, "runs", "within expected %"), "97.250");
        assert_eq!(csv_value(&records, "run type", "deploy"), "runs 340; P50 n/a; P95 n/a");
        assert_eq!(csv_value(&records, "pool", "default"), "start latency P95 850 ms");
        assert_eq!(csv_value(&records, "credit", "amount"), "250.00");
        assert_eq!(csv_value(&records, "credit", "currency"), "EUR");
        assert_eq!(csv_value(&records, "credit", "uptime tier"), "below 99.9%: 10%");
        assert_eq!(csv_value(&records, "issue", "note"), "Sent to the customer");
        assert_eq!(csv_value(&records, "change", "uptime %"), "from 99.820 to 99.811");
        assert_eq!(
            csv_value(&records, "exclusion", "Database upgrade"),
            "Planned maintenance; 2026-03-10T02:00:00Z to 2026-03-10T04:00:00Z; \
             covered 120 min; counted 120 min; reason: Announced 7 days ahead"
        );
    }

    #[test]
    fn csv_neutralises_free_text_a_spreadsheet_would_run() {
        let mut report = sample_report();
        report.exclusions = vec![exclusion("=HYPERLINK(\"http://evil.example\")", "x")];
        report.review = Some(signoff("@admin", "+1 looks fine"));
        report.tenant_name = "-Acme".into();

        let records = csv_records(&report);

        let exclusion = records.iter().find(|row| row[0] == "exclusion").unwrap();
        assert_eq!(exclusion[1], "'=HYPERLINK(\"http://evil.example\")");
        assert_eq!(csv_value(&records, "review", "by"), "'@admin");
        assert_eq!(csv_value(&records, "review", "note"), "'+1 looks fine");
        assert_eq!(csv_value(&records, "report", "tenant name"), "'-Acme");
        assert_eq!(csv_value(&records, "uptime", "error budget remaining minutes"), "-40");
    }

    #[test]
    fn numbers_are_written_the_same_way_every_time() {
        let check = |actual: String, expected: &str| assert_eq!(actual, expected);

        check(money(25_000, "EUR"), "EUR 250.00");
        check(money(5, "EUR"), "EUR 0.05");
        check(money(-250, "USD"), "USD -2.50");
        check(measured(Some(99.811_320_7)).unwrap(), "99.811");
        check(measured(Some(-0.000_1)).unwrap(), "0.000");
        check(term(99.9), "99.9");
        check(term(10.0), "10");
        check(term(0.0), "0");
        check(ms(Some(3_400.4)), "3400 ms");
        check(ms(Some(f64::NAN)), "n/a");
        assert_eq!(measured(Some(f64::INFINITY)), None);
    }

    #[test]
    fn pdf_is_a_whole_file_with_the_tenant_and_the_credit_line() {
        let pdf = report_pdf(&sample_report());

        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF"));
        assert!(contains(&pdf, b"(Acme Logistics)"));
        assert!(contains(&pdf, b"(Credit owed: EUR 250.00)"));
        assert!(contains(&pdf, b"/BaseFont /Helvetica-Bold"));
        assert!(contains(&pdf, b"/Encoding /WinAnsiEncoding"));
        assert!(contains(
            &pdf,
            b"/Title (Service level report: Acme Logistics, 2026-03, revision 2)"
        ));
        assert!(contains(&pdf, b"/Count 1"));
        assert!(!contains(&pdf, b"/Filter"));
        assert!(!contains(&pdf, b"/FontFile"));
    }

    #[test]
    fn pdf_starts_a_second_page_for_sixty_exclusions() {
        let mut report = sample_report();
        report.exclusions =
            (1..=60).map(|n| exclusion(&format!("Window {n}"), "Announced ahead")).collect();

        let pdf = report_pdf(&report);

        assert!(contains(&pdf, b"/Count 2"));
        assert!(contains(&pdf, b"(Window 60: Announced ahead)"));
        assert!(contains(&pdf, b"(Page 2 of 2)"));
    }

    #[test]
    fn pdf_replaces_characters_the_standard_fonts_cannot_show() {
        let mut report = sample_report();
        report.tenant_name = "Acme \u{6771}\u{4eac}".into();

        let pdf = report_pdf(&report);

        assert!(contains(&pdf, b"(Acme ??)"));
        assert!(!contains(&pdf, "\u{6771}".as_bytes()));
        assert_eq!(encode("Zo\u{eb} \u{2013} \u{20ac}\u{1f600}\n"), b"Zo\xeb \x96 \x80? ");
    }

    #[test]
    fn pdf_of_a_report_not_issued_says_draft() {
        let draft_line = b"<44524146542097206E6F7420697373756564>";
        let mut report = sample_report();
        assert!(!contains(&report_pdf(&report), draft_line));

        report.status = ReportStatus::Reviewed;
        report.issue = None;

        assert!(contains(&report_pdf(&report), draft_line));
    }

    #[test]
    fn pdf_bytes_are_the_same_for_the_same_report() {
        assert_eq!(report_pdf(&sample_report()), report_pdf(&sample_report()));
    }

    #[test]
    fn wrapped_lines_fit_the_width_and_long_words_are_cut() {
        let text = "The upgrade window was announced seven days ahead to every tenant on the plan";
        let lines = wrap(text, BODY, 120.0);
        assert!(lines.len() > 2, "{lines:?}");
        assert!(lines.iter().all(|line| BODY.font.width(line, BODY.size) <= 120.0));
        assert_eq!(lines.join(&b' '), text.as_bytes());

        let lines = wrap(&"x".repeat(100), BODY, 50.0);
        assert!(lines.len() > 1 && lines.iter().all(|line| !line.contains(&b' ')));
        assert_eq!(wrap("", BODY, 50.0), vec![Vec::<u8>::new()]);
    }
}
