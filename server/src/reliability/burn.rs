//! Multi-window burn-rate alerts on an SLA target: how fast a window spends the error budget,
//! and which rules fire. A rule fires only when a long and a short window both burn too fast,
//! so an old spike that has stopped does not keep paging. The caller counts the windows.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::sla::Percent;

/// Whether an alert wakes someone up or waits for working hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Page,
    Ticket,
}

/// Fires when both windows, ending now, burn the budget at `factor` times the sustainable
/// rate or faster.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurnRule {
    pub long: Duration,
    pub short: Duration,
    pub factor: f64,
    pub severity: Severity,
}

/// One rule's reading: the rates of its two windows (`None` when a window saw nothing).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurnAlert {
    pub rule: BurnRule,
    pub long_rate: Option<f64>,
    pub short_rate: Option<f64>,
    pub firing: bool,
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// The SRE workbook's three rules for a monthly budget: 2% of it spent in an hour or 5% in
/// six hours pages; 10% in three days opens a ticket.
pub const DEFAULT_RULES: [BurnRule; 3] = [
    BurnRule {
        long: Duration::from_secs(HOUR),
        short: Duration::from_secs(5 * MINUTE),
        factor: 14.4,
        severity: Severity::Page,
    },
    BurnRule {
        long: Duration::from_secs(6 * HOUR),
        short: Duration::from_secs(30 * MINUTE),
        factor: 6.0,
        severity: Severity::Page,
    },
    BurnRule {
        long: Duration::from_secs(72 * HOUR),
        short: Duration::from_secs(6 * HOUR),
        factor: 1.0,
        severity: Severity::Ticket,
    },
];

/// How many times faster than sustainable a window spends the budget:
/// `(bad / total) / (100% − target)`. `None` when the window counted nothing, when `bad` is
/// outside `0..=total`, or when a 100% target leaves no budget to burn.
///
/// Computed as one division of two integers (exact as floats below 2^53), so a rate that is
/// exactly a rule's factor (144 bad in 10_000 against 99.9% is 14.4) compares equal to it.
pub fn burn_rate(bad: i64, total: i64, target: Percent) -> Option<f64> {
    let budget = 100_000 - i64::from(target.thousandths());
    if total <= 0 || budget == 0 || !(0..=total).contains(&bad) {
        return None;
    }
    let spent = i128::from(bad) * 100_000;
    let allowed = i128::from(total) * i128::from(budget);
    Some(spent as f64 / allowed as f64)
}

/// Reads every rule, asking `counts` for the `(bad, total)` of each window ending now.
pub fn evaluate(
    rules: &[BurnRule],
    mut counts: impl FnMut(Duration) -> (i64, i64),
    target: Percent,
) -> Vec<BurnAlert> {
    let mut rate = |window| {
        let (bad, total) = counts(window);
        burn_rate(bad, total, target)
    };
    rules
        .iter()
        .map(|&rule| {
            let long_rate = rate(rule.long);
            let short_rate = rate(rule.short);
            let too_fast = |rate: Option<f64>| rate.is_some_and(|rate| rate >= rule.factor);
            BurnAlert {
                rule,
                long_rate,
                short_rate,
                firing: too_fast(long_rate) && too_fast(short_rate),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Percent {
        Percent::parse("99.9").unwrap()
    }

    /// Counts per window, keyed by minutes; any other window saw nothing.
    fn counts(table: &[(u64, i64, i64)]) -> impl FnMut(Duration) -> (i64, i64) + '_ {
        move |window| {
            let minutes = window.as_secs() / MINUTE;
            table.iter().find(|row| row.0 == minutes).map_or((0, 0), |row| (row.1, row.2))
        }
    }

    #[test]
    fn the_rate_is_the_bad_share_over_the_budget_share() {
        // 99.9% leaves 0.1%: 1 bad in 1000 is 0.1%, burning at exactly 1×.
        assert_eq!(burn_rate(1, 1_000, target()), Some(1.0));
        // 144 in 10_000 is 1.44%, 14.4 × 0.1%, and equals the literal 14.4 exactly.
        assert_eq!(burn_rate(144, 10_000, target()), Some(14.4));
        assert_eq!(burn_rate(0, 500, target()), Some(0.0));
        // 95% leaves 5%: 1 bad in 10 is 10%, twice the budget.
        assert_eq!(burn_rate(1, 10, Percent::parse("95").unwrap()), Some(2.0));
        assert_eq!(burn_rate(10, 10, Percent::ZERO), Some(1.0));
    }

    #[test]
    fn there_is_no_rate_without_traffic_budget_or_sensible_counts() {
        assert_eq!(burn_rate(0, 0, target()), None);
        assert_eq!(burn_rate(1, 100, Percent::HUNDRED), None);
        assert_eq!(burn_rate(11, 10, target()), None);
        assert_eq!(burn_rate(-1, 10, target()), None);
    }

    #[test]
    fn the_default_rules_are_the_workbook_windows() {
        let windows = DEFAULT_RULES.map(|rule| (rule.long.as_secs(), rule.short.as_secs()));
        assert_eq!(windows, [(3_600, 300), (21_600, 1_800), (259_200, 21_600)]);
        let severities = DEFAULT_RULES.map(|rule| rule.severity);
        assert_eq!(severities, [Severity::Page, Severity::Page, Severity::Ticket]);
    }

    #[test]
    fn a_rule_fires_when_both_windows_burn_at_least_its_factor() {
        // 1 h: 150 / 10_000 = 15×; 5 min: 20 / 1_000 = 20×; both over 14.4.
        // 6 h: 400 / 60_000 ≈ 6.67×; 30 min: 30 / 5_000 = 6× exactly, at the factor.
        // 3 d: 500 / 720_000 ≈ 0.69×, under 1× although its 6 h short window is over.
        let table = [
            (60, 150, 10_000),
            (5, 20, 1_000),
            (360, 400, 60_000),
            (30, 30, 5_000),
            (4_320, 500, 720_000),
        ];
        let alerts = evaluate(&DEFAULT_RULES, counts(&table), target());
        assert_eq!(
            alerts.iter().map(|alert| alert.firing).collect::<Vec<_>>(),
            [true, true, false]
        );
        assert_eq!((alerts[0].long_rate, alerts[0].short_rate), (Some(15.0), Some(20.0)));
        assert_eq!(alerts[1].short_rate, Some(6.0));
        assert_eq!(alerts[2].rule, DEFAULT_RULES[2]);
    }

    #[test]
    fn a_healthy_short_window_holds_back_a_burning_long_one() {
        // 1 h burns at 15×, but the last 5 minutes at 5×: the incident is over.
        let alerts =
            evaluate(&DEFAULT_RULES[..1], counts(&[(60, 150, 10_000), (5, 5, 1_000)]), target());
        assert_eq!((alerts[0].long_rate, alerts[0].short_rate), (Some(15.0), Some(5.0)));
        assert!(!alerts[0].firing);
    }

    #[test]
    fn a_window_without_traffic_never_fires() {
        let alerts = evaluate(&DEFAULT_RULES[..1], counts(&[(60, 150, 10_000)]), target());
        assert_eq!(alerts[0].short_rate, None);
        assert!(!alerts[0].firing);
    }
}
