//! Turning numbers, times and query parameters into text for the pages. Pure functions, so
//! the server and the browser print the same thing and hydration never disagrees.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Utc};

/// What the pages print for a missing time or number.
pub const NONE: &str = "—";

/// A UTC time as `2024-05-01 13:04:05 UTC`.
pub fn timestamp(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn optional_timestamp(at: Option<&DateTime<Utc>>) -> String {
    at.map(timestamp).unwrap_or_else(|| NONE.to_string())
}

/// A UTC time to the minute, as `2024-05-01 13:05 UTC`, for rows that are minutes apart.
pub fn minute(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A duration for people: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    if ms < 60_000 {
        return format!("{:.1} s", ms as f64 / 1_000.0);
    }

    let secs = ms / 1_000;
    if secs < 3_600 {
        format!("{} min {:02} s", secs / 60, secs % 60)
    } else {
        format!("{} h {:02} min", secs / 3_600, (secs % 3_600) / 60)
    }
}

pub fn optional_duration_ms(ms: Option<i64>) -> String {
    ms.map(duration_ms).unwrap_or_else(|| NONE.to_string())
}

/// How long something has waited, coarser than `duration_ms` so that a number refreshed every
/// few seconds reads at a glance: `850 ms`, `12 s`, `3 min`, `2 h 05 min`.
pub fn age_ms(ms: i64) -> String {
    let ms = ms.max(0);
    let secs = ms / 1_000;
    if ms < 1_000 {
        format!("{ms} ms")
    } else if secs < 60 {
        format!("{secs} s")
    } else if secs < 3_600 {
        format!("{} min", secs / 60)
    } else {
        format!("{} h {:02} min", secs / 3_600, (secs % 3_600) / 60)
    }
}

pub fn optional_age_ms(ms: Option<i64>) -> String {
    ms.map(age_ms).unwrap_or_else(|| NONE.to_string())
}

/// Milliseconds as seconds with one decimal, for the percentile table.
pub fn seconds(ms: Option<f64>) -> String {
    ms.map(|ms| format!("{:.1}", ms / 1_000.0)).unwrap_or_else(|| NONE.to_string())
}

/// A ratio in 0..=1 as a percentage with one decimal.
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// A percentage already in 0..=100 (as the reliability numbers are), with two decimals, so
/// 99.95% and 99.9% read apart.
pub fn percentage(value: f64) -> String {
    format!("{value:.2}%")
}

pub fn optional_percentage(value: Option<f64>) -> String {
    value.map(percentage).unwrap_or_else(|| NONE.to_string())
}

/// A latency in milliseconds, rounded, in the units `duration_ms` picks.
pub fn latency_ms(ms: Option<f64>) -> String {
    optional_duration_ms(ms.map(|ms| ms.round() as i64))
}

/// An amount in cents with its currency code: `EUR 250.00`.
pub fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{currency} {sign}{}.{:02}", cents / 100, cents % 100)
}

/// A `YYYY-MM` month for people (`May 2024`); anything else is printed as given.
pub fn month_label(month: &str) -> String {
    parse_month(month).map(|first| first.format("%B %Y").to_string()).unwrap_or(month.to_string())
}

/// The `YYYY-MM` month `delta` months away from `month`, if `month` is one.
pub fn shift_month(month: &str, delta: i32) -> Option<String> {
    let first = parse_month(month)?;
    let shifted = if delta >= 0 {
        first.checked_add_months(Months::new(delta.unsigned_abs()))
    } else {
        first.checked_sub_months(Months::new(delta.unsigned_abs()))
    }?;
    Some(format!("{:04}-{:02}", shifted.year(), shifted.month()))
}

fn parse_month(month: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()
}

/// A UTC time span, the date said once when both ends share it:
/// `2024-05-01 13:00–15:30 UTC`, or `2024-05-01 22:00 – 2024-05-02 02:00 UTC`.
pub fn utc_range(start: &DateTime<Utc>, end: &DateTime<Utc>) -> String {
    if start.date_naive() == end.date_naive() {
        format!("{}–{} UTC", start.format("%Y-%m-%d %H:%M"), end.format("%H:%M"))
    } else {
        format!("{} – {} UTC", start.format("%Y-%m-%d %H:%M"), end.format("%Y-%m-%d %H:%M"))
    }
}

/// The tenants a ledger entry applies to; none named means all of them.
pub fn tenant_list(slugs: &[String]) -> String {
    if slugs.is_empty() {
        "all tenants".to_string()
    } else {
        slugs.join(", ")
    }
}

/// The value of a `datetime-local` input showing `at` in UTC.
pub fn datetime_local(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M").to_string()
}

/// A `datetime-local` input's value read as UTC (the forms say so); `None` if empty or
/// malformed. Browsers send seconds only when a step below a minute asks for them.
pub fn parse_datetime_local(text: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .into_iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text.trim(), format).ok())
        .map(|at| at.and_utc())
}

pub fn bytes(size: i64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if size < 1_024 {
        return format!("{size} B");
    }

    let mut value = size as f64 / 1_024.0;
    let mut unit = 0;
    while value >= 1_024.0 && unit + 1 < UNITS.len() {
        value /= 1_024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A query string (`?a=1&b=x%20y`) from the pairs with a non-empty value, or `""` if none.
pub fn query_string(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(key, value)| {
            let value = value.filter(|value| !value.is_empty())?;
            Some(format!("{}={}", encode_component(key), encode_component(value)))
        })
        .collect();

    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_component(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if unreserved {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The first block of a UUID, enough to tell runs apart in a table.
pub fn short_id(id: &uuid::Uuid) -> String {
    id.simple().to_string()[..8].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn durations_pick_a_unit_people_read_easily() {
        let cases = [
            (-5, "0 ms"),
            (0, "0 ms"),
            (850, "850 ms"),
            (1_000, "1.0 s"),
            (12_345, "12.3 s"),
            (59_999, "60.0 s"),
            (60_000, "1 min 00 s"),
            (245_000, "4 min 05 s"),
            (3_600_000, "1 h 00 min"),
            (7_380_000, "2 h 03 min"),
        ];
        for (ms, expected) in cases {
            assert_eq!(duration_ms(ms), expected, "for {ms} ms");
        }
    }

    #[test]
    fn ages_round_down_to_the_unit_people_read() {
        let cases = [
            (-5, "0 ms"),
            (850, "850 ms"),
            (1_000, "1 s"),
            (12_999, "12 s"),
            (59_999, "59 s"),
            (60_000, "1 min"),
            (245_000, "4 min"),
            (3_599_999, "59 min"),
            (3_600_000, "1 h 00 min"),
            (7_380_000, "2 h 03 min"),
        ];
        for (ms, expected) in cases {
            assert_eq!(age_ms(ms), expected, "for {ms} ms");
        }
        assert_eq!(optional_age_ms(None), NONE);
    }

    #[test]
    fn missing_values_print_a_dash() {
        assert_eq!(optional_duration_ms(None), NONE);
        assert_eq!(optional_timestamp(None), NONE);
        assert_eq!(seconds(None), NONE);
    }

    #[test]
    fn timestamps_are_utc_and_sortable() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 13, 4, 5).unwrap();
        assert_eq!(timestamp(&at), "2024-05-01 13:04:05 UTC");
        assert_eq!(minute(&at), "2024-05-01 13:04 UTC");
    }

    #[test]
    fn percentiles_print_in_seconds() {
        assert_eq!(seconds(Some(12_345.0)), "12.3");
        assert_eq!(seconds(Some(40.0)), "0.0");
    }

    #[test]
    fn ratios_print_as_percentages() {
        assert_eq!(percent(0.875), "87.5%");
        assert_eq!(percent(1.0), "100.0%");
    }

    #[test]
    fn percentages_keep_two_decimals() {
        assert_eq!(percentage(99.95), "99.95%");
        assert_eq!(percentage(100.0), "100.00%");
        assert_eq!(optional_percentage(None), NONE);
    }

    #[test]
    fn latencies_round_to_whole_milliseconds() {
        assert_eq!(latency_ms(Some(12.6)), "13 ms");
        assert_eq!(latency_ms(Some(1_500.0)), "1.5 s");
        assert_eq!(latency_ms(None), NONE);
    }

    #[test]
    fn money_prints_the_currency_and_two_decimals() {
        assert_eq!(money(25_000, "EUR"), "EUR 250.00");
        assert_eq!(money(5, "USD"), "USD 0.05");
        assert_eq!(money(0, "EUR"), "EUR 0.00");
        assert_eq!(money(-150, "EUR"), "EUR -1.50");
    }

    #[test]
    fn months_read_as_names_and_step_across_years() {
        assert_eq!(month_label("2024-05"), "May 2024");
        assert_eq!(month_label("not a month"), "not a month");
        assert_eq!(shift_month("2024-01", -1).as_deref(), Some("2023-12"));
        assert_eq!(shift_month("2024-12", 1).as_deref(), Some("2025-01"));
        assert_eq!(shift_month("2024-13", 1), None);
    }

    #[test]
    fn utc_ranges_say_the_date_once_when_they_can() {
        let start = Utc.with_ymd_and_hms(2024, 5, 1, 13, 0, 0).unwrap();
        let same_day = Utc.with_ymd_and_hms(2024, 5, 1, 15, 30, 0).unwrap();
        let next_day = Utc.with_ymd_and_hms(2024, 5, 2, 2, 0, 0).unwrap();
        assert_eq!(utc_range(&start, &same_day), "2024-05-01 13:00–15:30 UTC");
        assert_eq!(utc_range(&start, &next_day), "2024-05-01 13:00 – 2024-05-02 02:00 UTC");
    }

    #[test]
    fn an_empty_tenant_list_means_all_tenants() {
        assert_eq!(tenant_list(&[]), "all tenants");
        assert_eq!(tenant_list(&["acme".to_string(), "globex".to_string()]), "acme, globex");
    }

    #[test]
    fn datetime_local_values_are_read_and_written_as_utc() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 13, 4, 0).unwrap();
        assert_eq!(datetime_local(&at), "2024-05-01T13:04");
        assert_eq!(parse_datetime_local("2024-05-01T13:04"), Some(at));
        assert_eq!(parse_datetime_local("2024-05-01T13:04:00"), Some(at));
        assert_eq!(parse_datetime_local(""), None);
        assert_eq!(parse_datetime_local("yesterday"), None);
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(2_048), "2.0 KiB");
        assert_eq!(bytes(5 * 1_024 * 1_024 + 512 * 1_024), "5.5 MiB");
    }

    #[test]
    fn query_strings_skip_empty_values_and_encode_the_rest() {
        assert_eq!(query_string(&[("status", None), ("cursor", Some(""))]), "");
        assert_eq!(
            query_string(&[("status", Some("running")), ("cursor", Some("a+b=/c d"))]),
            "?status=running&cursor=a%2Bb%3D%2Fc%20d"
        );
    }

    #[test]
    fn short_ids_are_the_first_eight_hex_digits() {
        let id = uuid::Uuid::parse_str("0f8fad5b-d9cb-469f-a165-70867728950e").unwrap();
        assert_eq!(short_id(&id), "0f8fad5b");
    }
}
