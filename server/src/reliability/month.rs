//! The periods Factory's SLA is measured over: calendar months in UTC, half-open intervals
//! rounded out to whole minutes, and unions of intervals kept sorted and disjoint so that
//! overlapping outages or exclusions are only ever counted once.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// A calendar month from 2000-01 to 9999-12, written `YYYY-MM`; it starts and ends in UTC.
///
/// Serialised as its `YYYY-MM` string; ordered by year, then month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Month {
    year: i32,
    month: u32,
}

/// Why a string is not a month.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MonthError {
    #[error("month {input:?} is not written as YYYY-MM")]
    Format { input: String },
    #[error("month {input:?} has a year outside 2000..=9999")]
    Year { input: String },
    #[error("month {input:?} has a month number outside 01..=12")]
    MonthNumber { input: String },
}

/// A half-open span of time `[start, end)` covering at least one whole UTC minute.
///
/// Serialised as `{"start": ..., "end": ...}`; reading one back goes through `Interval::new`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawInterval")]
pub struct Interval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// Why two instants do not make an interval.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error("interval ending at {end} does not end after its start {start}")]
    NotAfterStart { start: DateTime<Utc>, end: DateTime<Utc> },
    #[error("interval end {end} cannot be rounded up to a whole minute")]
    OutOfRange { end: DateTime<Utc> },
}

/// A union of intervals, kept sorted, disjoint and with no two intervals touching.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntervalSet {
    spans: Vec<Interval>,
}

const YEARS: RangeInclusive<i32> = 2000..=9999;

impl Month {
    /// Reads exactly `YYYY-MM`: four digits, a dash and two digits, nothing around them.
    pub fn parse(input: &str) -> Result<Month, MonthError> {
        let bytes = input.as_bytes();
        let well_formed = bytes.len() == 7
            && bytes[4] == b'-'
            && bytes.iter().enumerate().all(|(at, byte)| at == 4 || byte.is_ascii_digit());
        if !well_formed {
            return Err(MonthError::Format { input: input.to_owned() });
        }

        // Both slices are ASCII digits of fixed width, so they always fit.
        let year: i32 = input[..4].parse().unwrap_or_default();
        let month: u32 = input[5..].parse().unwrap_or_default();
        if !YEARS.contains(&year) {
            return Err(MonthError::Year { input: input.to_owned() });
        }
        Month::from_ymd(year, month)
            .ok_or_else(|| MonthError::MonthNumber { input: input.to_owned() })
    }

    /// The month `year-month`, or `None` outside 2000-01..=9999-12.
    pub fn from_ymd(year: i32, month: u32) -> Option<Month> {
        let valid = YEARS.contains(&year) && (1..=12).contains(&month);
        valid.then_some(Month { year, month })
    }

    /// The month an instant falls in, or `None` outside the supported years.
    pub fn containing(instant: DateTime<Utc>) -> Option<Month> {
        Month::from_ymd(instant.year(), instant.month())
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// The month number, 1 for January.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The first instant of the month.
    pub fn start(self) -> DateTime<Utc> {
        first_instant(self.year, self.month)
    }

    /// The first instant of the following month: the month's exclusive end.
    pub fn end(self) -> DateTime<Utc> {
        match self.month {
            12 => first_instant(self.year + 1, 1),
            month => first_instant(self.year, month + 1),
        }
    }

    /// The month as an interval, `[start, end)`.
    pub fn period(self) -> Interval {
        Interval { start: self.start(), end: self.end() }
    }

    /// Minutes in the month: 40_320 for 28 days up to 44_640 for 31.
    pub fn minutes(self) -> i64 {
        (self.end() - self.start()).num_minutes()
    }

    /// The following month, or `None` after 9999-12.
    pub fn next(self) -> Option<Month> {
        match self.month {
            12 => Month::from_ymd(self.year + 1, 1),
            month => Month::from_ymd(self.year, month + 1),
        }
    }

    /// The preceding month, or `None` before 2000-01.
    pub fn prev(self) -> Option<Month> {
        match self.month {
            1 => Month::from_ymd(self.year - 1, 12),
            month => Month::from_ymd(self.year, month - 1),
        }
    }
}

fn first_instant(year: i32, month: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, month, 1)
        .expect("months from 2000-01 to 10000-01 have a first day")
        .and_time(NaiveTime::MIN)
        .and_utc()
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = MonthError;

    fn from_str(input: &str) -> Result<Month, MonthError> {
        Month::parse(input)
    }
}

impl From<Month> for String {
    fn from(month: Month) -> String {
        month.to_string()
    }
}

impl TryFrom<String> for Month {
    type Error = MonthError;

    fn try_from(input: String) -> Result<Month, MonthError> {
        Month::parse(&input)
    }
}

impl Interval {
    /// The interval from `start` to `end`, widened to whole minutes: the start is floored and
    /// the end ceiled, so a 20-second outage counts as the minute it touched. Errors when
    /// `end` is not strictly after `start`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Interval, IntervalError> {
        if end <= start {
            return Err(IntervalError::NotAfterStart { start, end });
        }
        let floored_end = floor_to_minute(end);
        let end = if floored_end == end {
            end
        } else {
            floored_end
                .checked_add_signed(TimeDelta::minutes(1))
                .ok_or(IntervalError::OutOfRange { end })?
        };
        Ok(Interval { start: floor_to_minute(start), end })
    }

    pub fn start(self) -> DateTime<Utc> {
        self.start
    }

    /// The exclusive end: the first instant not in the interval.
    pub fn end(self) -> DateTime<Utc> {
        self.end
    }

    pub fn minutes(self) -> i64 {
        (self.end - self.start).num_minutes()
    }

    /// The part of both intervals, or `None` when they share no minute (touching is not
    /// sharing: `[1, 2)` and `[2, 3)` have nothing in common).
    pub fn intersect(self, other: Interval) -> Option<Interval> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start < end).then_some(Interval { start, end })
    }
}

fn floor_to_minute(instant: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = instant.timestamp().rem_euclid(60);
    let nanos = instant.timestamp_subsec_nanos();
    // Flooring never leaves chrono's range: its earliest instant is itself on a minute.
    instant - TimeDelta::seconds(seconds) - TimeDelta::nanoseconds(i64::from(nanos))
}

#[derive(Deserialize)]
struct RawInterval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<RawInterval> for Interval {
    type Error = IntervalError;

    fn try_from(raw: RawInterval) -> Result<Interval, IntervalError> {
        Interval::new(raw.start, raw.end)
    }
}

impl IntervalSet {
    /// The union of `intervals`, in any order, overlapping or not.
    pub fn new(intervals: impl IntoIterator<Item = Interval>) -> IntervalSet {
        let mut sorted: Vec<Interval> = intervals.into_iter().collect();
        sorted.sort_unstable();

        let mut spans: Vec<Interval> = Vec::with_capacity(sorted.len());
        for span in sorted {
            match spans.last_mut() {
                Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
                _ => spans.push(span),
            }
        }
        IntervalSet { spans }
    }

    /// The disjoint intervals, earliest first.
    pub fn intervals(&self) -> &[Interval] {
        &self.spans
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Minutes covered, each counted once.
    pub fn minutes(&self) -> i64 {
        self.spans.iter().map(|span| span.minutes()).sum()
    }

    /// The part of the set inside `period`.
    pub fn clip(&self, period: Interval) -> IntervalSet {
        IntervalSet::new(self.spans.iter().filter_map(|span| span.intersect(period)))
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        IntervalSet::new(self.spans.iter().chain(&other.spans).copied())
    }

    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let mut shared = Vec::new();
        let (mut mine, mut theirs) = (0, 0);
        while let (Some(a), Some(b)) = (self.spans.get(mine), other.spans.get(theirs)) {
            shared.extend(a.intersect(*b));
            // Whichever ends first cannot meet anything later in the other set.
            if a.end <= b.end {
                mine += 1;
            } else {
                theirs += 1;
            }
        }
        IntervalSet::new(shared)
    }

    /// The minutes of this set that are not in `other`.
    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut left = Vec::new();
        for span in &self.spans {
            let mut cursor = span.start;
            let cuts =
                other.spans.iter().filter(|cut| cut.end > span.start && cut.start < span.end);
            for cut in cuts {
                if cut.start > cursor {
                    left.push(Interval { start: cursor, end: cut.start });
                }
                cursor = cursor.max(cut.end);
            }
            if cursor < span.end {
                left.push(Interval { start: cursor, end: span.end });
            }
        }
        IntervalSet::new(left)
    }
}

impl FromIterator<Interval> for IntervalSet {
    fn from_iter<I: IntoIterator<Item = Interval>>(intervals: I) -> IntervalSet {
        IntervalSet::new(intervals)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap().and_utc()
    }

    fn span(from: &str, to: &str) -> Interval {
        Interval::new(at(&format!("{from}:00")), at(&format!("{to}:00"))).unwrap()
    }

    fn month(text: &str) -> Month {
        Month::parse(text).unwrap()
    }

    fn set(spans: &[Interval]) -> IntervalSet {
        spans.iter().copied().collect()
    }

    #[test]
    fn months_have_the_minutes_of_their_days() {
        // 1440 minutes a day times 28, 29, 30 and 31 days.
        assert_eq!(month("2026-02").minutes(), 40_320);
        assert_eq!(month("2028-02").minutes(), 41_760);
        assert_eq!(month("2026-04").minutes(), 43_200);
        assert_eq!(month("2026-01").minutes(), 44_640);
        assert_eq!(month("2026-02").period().minutes(), 40_320);
    }

    #[test]
    fn a_month_runs_from_its_first_instant_to_the_first_instant_of_the_next() {
        let december = month("2026-12");
        assert_eq!(december.start(), at("2026-12-01 00:00:00"));
        assert_eq!(december.end(), at("2027-01-01 00:00:00"));
        let after_the_last = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap();
        assert_eq!(month("9999-12").end(), after_the_last.and_time(NaiveTime::MIN).and_utc());
    }

    #[test]
    fn months_step_across_year_boundaries_and_stop_at_the_supported_range() {
        assert_eq!(month("2026-12").next(), Some(month("2027-01")));
        assert_eq!(month("2027-01").prev(), Some(month("2026-12")));
        assert_eq!(month("2026-05").next(), Some(month("2026-06")));
        assert_eq!(month("9999-12").next(), None);
        assert_eq!(month("2000-01").prev(), None);
    }

    #[test]
    fn an_instant_belongs_to_the_month_it_falls_in() {
        assert_eq!(Month::containing(at("2026-01-31 23:59:59")), Some(month("2026-01")));
        assert_eq!(Month::containing(at("2026-02-01 00:00:00")), Some(month("2026-02")));
        assert_eq!(Month::containing(at("1999-12-31 23:59:59")), None);
    }

    #[test]
    fn months_are_written_and_ordered_like_their_strings() {
        assert_eq!(month("2026-02").to_string(), "2026-02");
        assert_eq!(Month::from_ymd(2026, 2), Some(month("2026-02")));
        assert_eq!(Month::from_ymd(2026, 13), None);
        assert!(month("2026-12") < month("2027-01"));
        assert!(month("2026-02") < month("2026-10"));
        assert_eq!("2026-03".parse::<Month>(), Ok(month("2026-03")));
    }

    #[test]
    fn months_travel_through_json_as_their_string() {
        assert_eq!(serde_json::to_string(&month("2026-02")).unwrap(), r#""2026-02""#);
        assert_eq!(serde_json::from_str::<Month>(r#""2026-02""#).unwrap(), month("2026-02"));
        let error = serde_json::from_str::<Month>(r#""2026-13""#).unwrap_err();
        assert!(error.to_string().contains("outside 01..=12"), "{error}");
    }

    #[test]
    fn only_yyyy_mm_within_range_parses_as_a_month() {
        let check = |input: &str, expected: &str| {
            assert_eq!(Month::parse(input).unwrap_err().to_string(), expected, "{input}");
        };
        check("2026-13", r#"month "2026-13" has a month number outside 01..=12"#);
        check("2026-00", r#"month "2026-00" has a month number outside 01..=12"#);
        check("1999-12", r#"month "1999-12" has a year outside 2000..=9999"#);
        check("2026-1", r#"month "2026-1" is not written as YYYY-MM"#);
        check("26-01", r#"month "26-01" is not written as YYYY-MM"#);
        check("abc", r#"month "abc" is not written as YYYY-MM"#);
        check("2026/01", r#"month "2026/01" is not written as YYYY-MM"#);
        check(" 2026-01", r#"month " 2026-01" is not written as YYYY-MM"#);
        check("+026-01", r#"month "+026-01" is not written as YYYY-MM"#);
        check("", r#"month "" is not written as YYYY-MM"#);
    }

    #[test]
    fn an_interval_is_widened_to_whole_minutes() {
        // 10:00:20 floors to 10:00 and 10:01:05 ceils to 10:02: two minutes touched.
        let interval = Interval::new(at("2026-04-10 10:00:20"), at("2026-04-10 10:01:05")).unwrap();
        assert_eq!(interval.start(), at("2026-04-10 10:00:00"));
        assert_eq!(interval.end(), at("2026-04-10 10:02:00"));
        assert_eq!(interval.minutes(), 2);
        assert_eq!(span("2026-04-10 10:00", "2026-04-10 10:30").minutes(), 30);
    }

    #[test]
    fn an_interval_must_end_after_it_starts() {
        let instant = at("2026-04-10 10:00:00");
        let error = Interval::new(instant, instant).unwrap_err();
        assert_eq!(
            error.to_string(),
            "interval ending at 2026-04-10 10:00:00 UTC does not end after its start \
             2026-04-10 10:00:00 UTC"
        );
        assert!(Interval::new(instant, at("2026-04-10 09:00:00")).is_err());
    }

    #[test]
    fn intervals_travel_through_json_and_are_checked_on_the_way_in() {
        let interval = span("2026-04-10 10:00", "2026-04-10 11:00");
        let json = serde_json::to_string(&interval).unwrap();
        assert_eq!(json, r#"{"start":"2026-04-10T10:00:00Z","end":"2026-04-10T11:00:00Z"}"#);
        assert_eq!(serde_json::from_str::<Interval>(&json).unwrap(), interval);
        let backwards = r#"{"start":"2026-04-10T11:00:00Z","end":"2026-04-10T10:00:00Z"}"#;
        assert!(serde_json::from_str::<Interval>(backwards).is_err());
    }

    #[test]
    fn touching_intervals_share_nothing_and_overlapping_ones_share_their_overlap() {
        let early = span("2026-04-10 10:00", "2026-04-10 11:00");
        let late = span("2026-04-10 11:00", "2026-04-10 12:00");
        let middle = span("2026-04-10 10:30", "2026-04-10 11:30");
        assert_eq!(early.intersect(late), None);
        assert_eq!(early.intersect(middle), Some(span("2026-04-10 10:30", "2026-04-10 11:00")));
    }

    #[test]
    fn a_set_merges_overlapping_and_touching_intervals() {
        let merged = set(&[
            span("2026-04-10 12:00", "2026-04-10 13:00"),
            span("2026-04-10 10:00", "2026-04-10 11:00"),
            span("2026-04-10 11:00", "2026-04-10 11:30"),
            span("2026-04-10 10:15", "2026-04-10 10:45"),
        ]);
        let expected = [
            span("2026-04-10 10:00", "2026-04-10 11:30"),
            span("2026-04-10 12:00", "2026-04-10 13:00"),
        ];
        assert_eq!(merged.intervals(), expected);
        // 90 + 60 minutes, the nested quarter of an hour counted once.
        assert_eq!(merged.minutes(), 150);
    }

    #[test]
    fn subtracting_cuts_holes_and_trims_edges() {
        let day = set(&[span("2026-04-10 10:00", "2026-04-10 14:00")]);
        let cuts = set(&[
            span("2026-04-10 09:00", "2026-04-10 10:30"),
            span("2026-04-10 11:00", "2026-04-10 12:00"),
            span("2026-04-10 13:30", "2026-04-10 15:00"),
        ]);
        let expected = [
            span("2026-04-10 10:30", "2026-04-10 11:00"),
            span("2026-04-10 12:00", "2026-04-10 13:30"),
        ];
        assert_eq!(day.subtract(&cuts).intervals(), expected);
        assert!(day.subtract(&day).is_empty());
        assert_eq!(day.subtract(&IntervalSet::default()), day);
    }

    #[test]
    fn intersecting_and_clipping_keep_only_shared_minutes() {
        let a = set(&[
            span("2026-04-10 10:00", "2026-04-10 11:00"),
            span("2026-04-10 12:00", "2026-04-10 13:00"),
        ]);
        let b = set(&[span("2026-04-10 10:30", "2026-04-10 12:30")]);
        let expected = [
            span("2026-04-10 10:30", "2026-04-10 11:00"),
            span("2026-04-10 12:00", "2026-04-10 12:30"),
        ];
        assert_eq!(a.intersect(&b).intervals(), expected);
        assert_eq!(b.intersect(&a), a.intersect(&b));
        assert_eq!(a.clip(span("2026-04-10 10:30", "2026-04-10 12:30")).intervals(), expected);
        assert_eq!(a.union(&b).intervals(), [span("2026-04-10 10:00", "2026-04-10 13:00")]);
    }
}
