//! Turning numbers, times and query parameters into text for the pages. Pure functions, so
//! the server and the browser print the same thing and hydration never disagrees.

use chrono::{DateTime, Utc};

/// What the pages print for a missing time or number.
pub const NONE: &str = "—";

/// A UTC time as `2024-05-01 13:04:05 UTC`.
pub fn timestamp(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn optional_timestamp(at: Option<&DateTime<Utc>>) -> String {
    at.map(timestamp).unwrap_or_else(|| NONE.to_string())
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

/// Milliseconds as seconds with one decimal, for the percentile table.
pub fn seconds(ms: Option<f64>) -> String {
    ms.map(|ms| format!("{:.1}", ms / 1_000.0)).unwrap_or_else(|| NONE.to_string())
}

/// A ratio in 0..=1 as a percentage with one decimal.
pub fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
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
    fn missing_values_print_a_dash() {
        assert_eq!(optional_duration_ms(None), NONE);
        assert_eq!(optional_timestamp(None), NONE);
        assert_eq!(seconds(None), NONE);
    }

    #[test]
    fn timestamps_are_utc_and_sortable() {
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 13, 4, 5).unwrap();
        assert_eq!(timestamp(&at), "2024-05-01 13:04:05 UTC");
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
