//! Exact percentages and shares for the SLA maths: `Percent` holds thousandths of a percent
//! and `Ratio` a fraction, so a threshold comparison never depends on float rounding.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A percentage from 0% to 100%, held exactly in thousandths of a percent (99.9% is 99_900).
///
/// In JSON a percentage is a plain number (`99.9`, `100`), because that is what people and
/// charts read. Reading one back goes through the number's shortest decimal form and
/// `Percent::parse`, so a value with more than three decimals is refused, never rounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(pub(super) u32);

/// Why a string is not a percentage.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PercentError {
    #[error("percentage {input:?} is not a decimal number with at most three decimals")]
    Format { input: String },
    #[error("percentage {input:?} is outside 0..=100")]
    Range { input: String },
}

/// An exact share `num / den` with `0 <= num <= den` and `den > 0`, such as up minutes over
/// eligible minutes. Compare it with a `Percent` through `is_below`, never through floats.
/// Equality is structural: 1/2 and 2/4 are different ratios of the same value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Ratio {
    num: i64,
    den: i64,
}

/// 100% in thousandths of a percent.
pub(super) const WHOLE: u32 = 100_000;

impl Percent {
    pub const ZERO: Percent = Percent(0);
    pub const HUNDRED: Percent = Percent(WHOLE);

    /// Reads a decimal such as `99.9`, `100` or `99.995`: digits, optionally a point and one
    /// to three more digits, with no sign, spaces or exponent.
    pub fn parse(input: &str) -> Result<Percent, PercentError> {
        let format_error = || PercentError::Format { input: input.to_owned() };
        let range_error = || PercentError::Range { input: input.to_owned() };
        let (whole, fraction) = match input.split_once('.') {
            Some((_, "")) => return Err(format_error()),
            Some(parts) => parts,
            None => (input, ""),
        };
        let digits = |text: &str| text.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() || fraction.len() > 3 || !digits(whole) || !digits(fraction) {
            return Err(format_error());
        }

        // Only digits are left, so parsing fails only on numbers far out of range.
        let whole: u64 = whole.parse().map_err(|_| range_error())?;
        // Padded to exactly three digits, so the fraction always parses.
        let padded = format!("{fraction:0<3}");
        let thousandths = whole.saturating_mul(1000).saturating_add(padded.parse().unwrap_or(0));
        match u32::try_from(thousandths) {
            Ok(thousandths) if thousandths <= WHOLE => Ok(Percent(thousandths)),
            _ => Err(range_error()),
        }
    }

    /// The percentage of `thousandths` thousandths of a percent, or `None` above 100%.
    pub const fn from_thousandths(thousandths: u32) -> Option<Percent> {
        if thousandths <= WHOLE {
            Some(Percent(thousandths))
        } else {
            None
        }
    }

    pub const fn thousandths(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Percent {
    /// Writes the shortest exact form: `99.9%`, `10%`, `99.95%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.0 / 1000, self.0 % 1000);
        if fraction == 0 {
            return write!(f, "{whole}%");
        }
        let fraction = format!("{fraction:03}");
        write!(f, "{whole}.{}%", fraction.trim_end_matches('0'))
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(1000) {
            serializer.serialize_u32(self.0 / 1000)
        } else {
            // One correctly rounded division: the nearest double to the exact decimal, which
            // JSON writers print back as that decimal.
            serializer.serialize_f64(f64::from(self.0) / 1000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Percent, D::Error> {
        deserializer.deserialize_any(PercentVisitor)
    }
}

struct PercentVisitor;

impl Visitor<'_> for PercentVisitor {
    type Value = Percent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a percentage from 0 to 100 with at most three decimals")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Percent, E> {
        Percent::parse(&value.to_string()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Percent, E> {
        Percent::parse(&value.to_string()).map_err(E::custom)
    }

    /// Rust writes a float as its shortest round-tripping decimal, so `99.9` reads as
    /// "99.9" and `99.9999` is refused for its fourth decimal.
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Percent, E> {
        Percent::parse(&value.to_string()).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Percent, E> {
        Percent::parse(value).map_err(E::custom)
    }
}

impl Ratio {
    /// `num / den`, or `None` unless `den > 0` and `0 <= num <= den`.
    pub fn new(num: i64, den: i64) -> Option<Ratio> {
        (den > 0 && (0..=den).contains(&num)).then_some(Ratio { num, den })
    }

    pub fn num(self) -> i64 {
        self.num
    }

    pub fn den(self) -> i64 {
        self.den
    }

    /// Whether the ratio is strictly below `target`, compared exactly:
    /// `num × 100_000 < target_thousandths × den`.
    pub fn is_below(self, target: Percent) -> bool {
        i128::from(self.num) * i128::from(WHOLE) < i128::from(target.0) * i128::from(self.den)
    }

    /// The ratio as a percentage for display only; decisions use `is_below`.
    pub fn as_percent_f64(self) -> f64 {
        self.num as f64 * 100.0 / self.den as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(text: &str) -> Percent {
        Percent::parse(text).unwrap()
    }

    #[test]
    fn percentages_parse_with_up_to_three_decimals_and_within_0_to_100() {
        let ok = [("99.9", 99_900), ("100", WHOLE), ("100.000", WHOLE), ("0", 0)];
        let ok = ok.into_iter().chain([("99.95", 99_950), ("99.995", 99_995), ("05", 5_000)]);
        for (input, thousandths) in ok {
            assert_eq!(Percent::parse(input).map(Percent::thousandths), Ok(thousandths), "{input}");
        }

        let format = |input: &str| PercentError::Format { input: input.to_owned() };
        let range = |input: &str| PercentError::Range { input: input.to_owned() };
        for input in ["", "abc", "-1", "+5", " 5", "5.", ".5", "99.9999", "1e2", "9 9", "5,5"] {
            assert_eq!(Percent::parse(input), Err(format(input)));
        }
        for input in ["100.001", "101", "4294967296", "99999999999999999999999"] {
            assert_eq!(Percent::parse(input), Err(range(input)));
        }
        assert_eq!(
            Percent::parse("99.9999").unwrap_err().to_string(),
            r#"percentage "99.9999" is not a decimal number with at most three decimals"#
        );
        assert_eq!(Percent::from_thousandths(100_001), None);
        assert_eq!(Percent::from_thousandths(99_900), Some(pct("99.9")));
    }

    #[test]
    fn percentages_are_written_without_trailing_zeros() {
        let written = [99_900, 10_000, 99_950, 0, 5, 100_000, 99_999]
            .map(|t| Percent::from_thousandths(t).unwrap().to_string());
        assert_eq!(written, ["99.9%", "10%", "99.95%", "0%", "0.005%", "100%", "99.999%"]);
    }

    #[test]
    fn percentages_travel_through_json_as_plain_numbers_and_come_back_exact() {
        assert_eq!(serde_json::to_string(&pct("99.9")).unwrap(), "99.9");
        assert_eq!(serde_json::to_string(&pct("100")).unwrap(), "100");
        assert_eq!(serde_json::to_string(&pct("99.995")).unwrap(), "99.995");
        for thousandths in [0, 1, 5, 99_900, 99_950, 99_999, 12_345, 100_000] {
            let percent = Percent::from_thousandths(thousandths).unwrap();
            let json = serde_json::to_string(&percent).unwrap();
            assert_eq!(serde_json::from_str::<Percent>(&json).unwrap(), percent, "{json}");
        }
        assert_eq!(serde_json::from_str::<Percent>(r#""99.95""#).unwrap(), pct("99.95"));
        assert!(serde_json::from_str::<Percent>("99.9999").is_err());
        assert!(serde_json::from_str::<Percent>("100.5").is_err());
        assert!(serde_json::from_str::<Percent>("-1").is_err());
    }
}
