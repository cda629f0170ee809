//! The monthly SLA arithmetic: uptime from down, no-data and excluded minutes, the run targets,
//! the error budget and the service credit a missed target earns. Pure and exact: thresholds
//! are compared in integers, so a month at exactly 99.9% never tips over on a rounding error.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use super::month::{Interval, IntervalError, IntervalSet};
use super::units::WHOLE;
pub use super::units::{Percent, PercentError, Ratio};

/// A tenant's SLA terms. Build one with `Plan::default_for` or from JSON, then `validate` it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub monthly_fee_cents: i64,
    /// An ISO 4217 code such as `EUR`.
    pub currency: String,
    pub uptime_target: Percent,
    /// Share of counted runs (succeeded or failed) that must succeed.
    pub success_target: Percent,
    /// Share of timed runs that must finish within their expected duration.
    pub execution_target: Percent,
    /// Credits for low uptime; only the tier with the lowest threshold below which uptime
    /// falls applies, they do not add up.
    pub uptime_tiers: Vec<CreditTier>,
    pub success_miss_credit: Percent,
    pub execution_miss_credit: Percent,
    /// The most the credits may add up to, as a share of the fee.
    pub credit_cap: Percent,
}

/// Uptime strictly below `below` earns `credit`; uptime equal to `below` does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditTier {
    pub below: Percent,
    pub credit: Percent,
}

/// Why a plan cannot be used, naming the offending field so the API can point at it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("monthly fee of {cents} cents is negative")]
    NegativeFee { cents: i64 },
    #[error("currency {currency:?} is not three uppercase letters")]
    Currency { currency: String },
    #[error("uptime tiers name the threshold {below} more than once")]
    DuplicateTier { below: Percent },
    #[error("uptime tier below {below} credits less than a tier with a higher threshold")]
    TierCreditDecreases { below: Percent },
}

/// A window in which downtime does not count, already narrowed to the tenant it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusion {
    pub id: Uuid,
    pub label: String,
    pub interval: Interval,
}

/// What the rollups observed over a period. Intervals may overlap each other and reach
/// outside the period; everything is clipped to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UptimeInput {
    pub period: Interval,
    pub down: Vec<Interval>,
    pub no_data: Vec<Interval>,
    pub exclusions: Vec<Exclusion>,
}

/// Where every minute of a period went. `excluded + eligible == minutes` and
/// `down + no_data == downtime <= eligible`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UptimeOutcome {
    pub minutes: i64,
    /// Minutes under at least one exclusion, each counted once.
    pub excluded_minutes: i64,
    /// Minutes observed down and not excluded.
    pub down_minutes: i64,
    /// Minutes without data, not excluded and not also down.
    pub no_data_minutes: i64,
    /// `down + no_data`: what the SLA counts against uptime.
    pub downtime_minutes: i64,
    pub eligible_minutes: i64,
    /// `(eligible - downtime) / eligible`, or `None` when every minute was excluded.
    pub uptime: Option<Ratio>,
    /// One entry per exclusion, earliest-starting first (ties by id).
    pub exclusions: Vec<ExclusionMinutes>,
}

/// How much of the period one exclusion covers, and how many excluded minutes are put down
/// to it: a minute under several exclusions goes to the earliest-starting one (ties by id),
/// so the attributed minutes add up to the outcome's `excluded_minutes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExclusionMinutes {
    pub id: Uuid,
    pub label: String,
    pub covered_minutes: i64,
    pub attributed_minutes: i64,
}

/// Run counts over the period, from the rollups. A part outside `0..=whole` is clamped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunNumbers {
    /// Runs that finished, succeeded or failed; cancelled runs are not counted.
    pub counted: i64,
    pub succeeded: i64,
    /// Finished runs that had an expected duration.
    pub timed: i64,
    pub within_expected: i64,
}

/// The month's verdict on every target and what it costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub uptime: TargetResult,
    pub success: TargetResult,
    pub execution: TargetResult,
    pub uptime_tier: Option<CreditTier>,
    pub error_budget: ErrorBudget,
    pub credit: Credit,
}

/// One target: `met` when there is nothing to measure or the actual share is not below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TargetResult {
    pub target: Percent,
    pub actual: Option<Ratio>,
    pub met: bool,
}

/// Downtime the uptime target allows over the eligible minutes, and how much is left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorBudget {
    /// `floor(eligible × (100% − target))`.
    pub allowed_minutes: i64,
    pub used_minutes: i64,
    /// Negative once the budget is overspent.
    pub remaining_minutes: i64,
}

/// The service credit owed for the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Credit {
    pub percent: Percent,
    /// True when the credits earned added up to more than the plan's cap.
    pub capped: bool,
    /// `fee × percent`, rounded half up to the cent.
    pub amount_cents: i64,
    pub currency: String,
}

impl Plan {
    /// Factory's standard terms: 99.9% uptime, 95% run success, 90% of runs within their
    /// expected time; 10% credit below 99.9%, 25% below 99%, 100% below 95%; 5% for each
    /// missed run target; credits capped at the whole fee.
    pub fn default_for(monthly_fee_cents: i64, currency: impl Into<String>) -> Plan {
        let tier = |below, credit| CreditTier { below: Percent(below), credit: Percent(credit) };
        Plan {
            monthly_fee_cents,
            currency: currency.into(),
            uptime_target: Percent(99_900),
            success_target: Percent(95_000),
            execution_target: Percent(90_000),
            uptime_tiers: vec![tier(99_900, 10_000), tier(99_000, 25_000), tier(95_000, WHOLE)],
            success_miss_credit: Percent(5_000),
            execution_miss_credit: Percent(5_000),
            credit_cap: Percent::HUNDRED,
        }
    }

    /// Checks what `Percent` cannot: a fee that is not negative, a currency code, and tiers
    /// with distinct thresholds whose credit never shrinks as the threshold drops (otherwise
    /// more downtime could earn less). Percentages are at most 100% by construction.
    pub fn validate(self) -> Result<Plan, PlanError> {
        if self.monthly_fee_cents < 0 {
            return Err(PlanError::NegativeFee { cents: self.monthly_fee_cents });
        }
        let is_code =
            self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase());
        if !is_code {
            return Err(PlanError::Currency { currency: self.currency });
        }

        let mut tiers = self.uptime_tiers.clone();
        tiers.sort_by_key(|tier| std::cmp::Reverse(tier.below));
        for pair in tiers.windows(2) {
            let (higher, lower) = (pair[0], pair[1]);
            if higher.below == lower.below {
                return Err(PlanError::DuplicateTier { below: lower.below });
            }
            if lower.credit < higher.credit {
                return Err(PlanError::TierCreditDecreases { below: lower.below });
            }
        }
        Ok(self)
    }
}

impl PlanError {
    /// The plan field at fault, as spelled in JSON.
    pub fn field(&self) -> &'static str {
        match self {
            PlanError::NegativeFee { .. } => "monthly_fee_cents",
            PlanError::Currency { .. } => "currency",
            PlanError::DuplicateTier { .. } | PlanError::TierCreditDecreases { .. } => {
                "uptime_tiers"
            }
        }
    }
}

/// Splits the period's minutes into excluded, down, no-data and up. Exclusions win over
/// everything, and a minute both down and without data counts once, as down.
pub fn compute_uptime(input: &UptimeInput) -> UptimeOutcome {
    let period = input.period;
    let within_period = |spans: &[Interval]| IntervalSet::new(spans.iter().copied()).clip(period);

    let excluded = IntervalSet::new(input.exclusions.iter().map(|e| e.interval)).clip(period);
    let down = within_period(&input.down).subtract(&excluded);
    let no_data = within_period(&input.no_data).subtract(&excluded).subtract(&down);

    let minutes = period.minutes();
    let eligible_minutes = minutes - excluded.minutes();
    let downtime_minutes = down.minutes() + no_data.minutes();
    UptimeOutcome {
        minutes,
        excluded_minutes: excluded.minutes(),
        down_minutes: down.minutes(),
        no_data_minutes: no_data.minutes(),
        downtime_minutes,
        eligible_minutes,
        uptime: Ratio::new(eligible_minutes - downtime_minutes, eligible_minutes),
        exclusions: attribute_exclusions(&input.exclusions, period),
    }
}

/// Weighs a period's uptime and runs against a plan. Expects a validated plan.
pub fn assess(plan: &Plan, uptime: &UptimeOutcome, runs: &RunNumbers) -> Assessment {
    let success = TargetResult::new(plan.success_target, share(runs.succeeded, runs.counted));
    let timely = share(runs.within_expected, runs.timed);
    let execution = TargetResult::new(plan.execution_target, timely);
    let uptime_tier = uptime.uptime.and_then(|actual| applicable_tier(&plan.uptime_tiers, actual));

    let missed = |result: TargetResult, credit: Percent| if result.met { 0 } else { credit.0 };
    let earned = uptime_tier.map_or(0, |tier| tier.credit.0)
        + missed(success, plan.success_miss_credit)
        + missed(execution, plan.execution_miss_credit);
    let percent = Percent(earned.min(plan.credit_cap.0));

    Assessment {
        uptime: TargetResult::new(plan.uptime_target, uptime.uptime),
        success,
        execution,
        uptime_tier,
        error_budget: ErrorBudget::new(plan.uptime_target, uptime),
        credit: Credit {
            percent,
            capped: earned > plan.credit_cap.0,
            amount_cents: share_of_fee(plan.monthly_fee_cents, percent),
            currency: plan.currency.clone(),
        },
    }
}

fn attribute_exclusions(exclusions: &[Exclusion], period: Interval) -> Vec<ExclusionMinutes> {
    let mut ordered: Vec<&Exclusion> = exclusions.iter().collect();
    ordered.sort_by_key(|exclusion| (exclusion.interval.start(), exclusion.id));

    let mut claimed = IntervalSet::default();
    ordered
        .into_iter()
        .map(|exclusion| {
            let covered = IntervalSet::new([exclusion.interval]).clip(period);
            let attributed = covered.subtract(&claimed);
            claimed = claimed.union(&covered);
            ExclusionMinutes {
                id: exclusion.id,
                label: exclusion.label.clone(),
                covered_minutes: covered.minutes(),
                attributed_minutes: attributed.minutes(),
            }
        })
        .collect()
}

/// `part / whole` of run counts, `None` when nothing was counted.
fn share(part: i64, whole: i64) -> Option<Ratio> {
    Ratio::new(part.clamp(0, whole.max(0)), whole)
}

/// The tier with the lowest threshold that uptime is strictly below.
fn applicable_tier(tiers: &[CreditTier], uptime: Ratio) -> Option<CreditTier> {
    tiers.iter().filter(|tier| uptime.is_below(tier.below)).min_by_key(|tier| tier.below).copied()
}

/// `fee × percent`, rounded half up to the cent: 0.5 cents and more round up.
fn share_of_fee(fee_cents: i64, percent: Percent) -> i64 {
    let scaled = i128::from(fee_cents) * i128::from(percent.0);
    let rounded = (scaled + i128::from(WHOLE / 2)).div_euclid(i128::from(WHOLE));
    i64::try_from(rounded).expect("a share of at most 100% of an i64 fee fits an i64")
}

impl TargetResult {
    fn new(target: Percent, actual: Option<Ratio>) -> TargetResult {
        let met = actual.is_none_or(|actual| !actual.is_below(target));
        TargetResult { target, actual, met }
    }
}

impl ErrorBudget {
    fn new(target: Percent, uptime: &UptimeOutcome) -> ErrorBudget {
        let allowance = i128::from(uptime.eligible_minutes) * i128::from(WHOLE - target.0);
        let allowed_minutes = i64::try_from(allowance.div_euclid(i128::from(WHOLE)))
            .expect("the allowance never exceeds the eligible minutes");
        ErrorBudget {
            allowed_minutes,
            used_minutes: uptime.downtime_minutes,
            remaining_minutes: allowed_minutes - uptime.downtime_minutes,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDateTime, Utc};
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::super::month::Month;
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap().and_utc()
    }

    fn span(from: &str, to: &str) -> Interval {
        Interval::new(at(from), at(to)).unwrap()
    }

    fn pct(text: &str) -> Percent {
        Percent::parse(text).unwrap()
    }

    fn month(text: &str) -> Interval {
        Month::parse(text).unwrap().period()
    }

    fn input(period: Interval, down: &[Interval]) -> UptimeInput {
        UptimeInput { period, down: down.to_vec(), no_data: Vec::new(), exclusions: Vec::new() }
    }

    fn exclusion(id: u128, label: &str, interval: Interval) -> Exclusion {
        Exclusion { id: Uuid::from_u128(id), label: label.to_owned(), interval }
    }

    /// The default plan on a €500 fee, with nothing counted for runs.
    fn assess_uptime(outcome: &UptimeOutcome) -> Assessment {
        assess(&Plan::default_for(50_000, "EUR"), outcome, &RunNumbers::default())
    }

    #[test]
    fn a_28_day_month_with_45_minutes_down_earns_the_10_percent_tier() {
        // 40_320 - 45 = 40_275 up; 99.9% of 40_320 is 40_279.68, 99% is 39_916.8.
        let outcome = compute_uptime(&input(
            month("2026-02"),
            &[span("2026-02-10 03:00", "2026-02-10 03:45")],
        ));
        assert_eq!((outcome.minutes, outcome.downtime_minutes), (40_320, 45));
        assert_eq!(outcome.uptime, Ratio::new(40_275, 40_320));

        let assessment = assess_uptime(&outcome);
        assert_eq!(assessment.credit.percent, pct("10"));
        assert_eq!(assessment.credit.amount_cents, 5_000);
        // floor(40_320 × 0.1%) = floor(40.32) = 40 allowed, 45 used.
        let budget = ErrorBudget { allowed_minutes: 40, used_minutes: 45, remaining_minutes: -5 };
        assert_eq!(assessment.error_budget, budget);
    }

    #[test]
    fn a_29_day_february_with_500_minutes_down_earns_the_25_percent_tier() {
        // 41_760 - 500 = 41_260 up: below 99% (41_342.4), not below 95% (39_672).
        let outcome = compute_uptime(&input(
            month("2028-02"),
            &[span("2028-02-29 10:00", "2028-02-29 18:20")],
        ));
        assert_eq!((outcome.minutes, outcome.downtime_minutes), (41_760, 500));

        let assessment = assess_uptime(&outcome);
        assert_eq!(assessment.uptime_tier, Some(Plan::default_for(0, "EUR").uptime_tiers[1]));
        assert_eq!(assessment.credit.amount_cents, 12_500);
        // floor(41.76) = 41 allowed.
        assert_eq!(assessment.error_budget.remaining_minutes, 41 - 500);
    }

    #[test]
    fn a_30_day_month_that_spends_exactly_its_budget_earns_nothing() {
        // 43_200 - 43 = 43_157 up, above 99.9% of 43_200 (43_156.8); floor(43.2) = 43 allowed.
        let outcome = compute_uptime(&input(
            month("2026-04"),
            &[span("2026-04-30 23:17", "2026-05-01 00:00")],
        ));
        assert_eq!((outcome.minutes, outcome.downtime_minutes), (43_200, 43));

        let assessment = assess_uptime(&outcome);
        assert!(assessment.uptime.met);
        assert_eq!((assessment.uptime_tier, assessment.credit.amount_cents), (None, 0));
        let budget = ErrorBudget { allowed_minutes: 43, used_minutes: 43, remaining_minutes: 0 };
        assert_eq!(assessment.error_budget, budget);
    }

    #[test]
    fn a_31_day_month_with_2300_minutes_down_owes_the_whole_fee() {
        // 44_640 - 2_300 = 42_340 up, below 95% of 44_640 (42_408).
        let outcome = compute_uptime(&input(
            month("2026-01"),
            &[span("2026-01-05 00:00", "2026-01-06 14:20")],
        ));
        assert_eq!((outcome.minutes, outcome.downtime_minutes), (44_640, 2_300));

        let assessment = assess_uptime(&outcome);
        assert_eq!(assessment.credit.percent, Percent::HUNDRED);
        assert!(!assessment.credit.capped);
        assert_eq!(assessment.credit.amount_cents, 50_000);
        assert_eq!(assessment.error_budget.allowed_minutes, 44);
    }

    #[test]
    fn an_outage_across_a_month_boundary_counts_in_each_month_only_its_own_minutes() {
        // 23:30 to 00:45: 30 minutes in January, 45 in February.
        let outage = [span("2026-01-31 23:30", "2026-02-01 00:45")];
        let january = compute_uptime(&input(month("2026-01"), &outage));
        let february = compute_uptime(&input(month("2026-02"), &outage));
        assert_eq!((january.down_minutes, february.down_minutes), (30, 45));

        // January: 44_610 up is above 99.9% (44_595.36). February: as the 28-day case.
        assert_eq!(assess_uptime(&january).credit.amount_cents, 0);
        assert_eq!(assess_uptime(&february).credit.amount_cents, 5_000);
    }

    #[test]
    fn maintenance_over_part_of_an_outage_removes_the_overlap_and_shrinks_eligible_minutes() {
        // Down 10:00-11:00, maintenance 10:30-12:00: 90 excluded, 30 down, 43_110 eligible.
        let mut uptime = input(month("2026-04"), &[span("2026-04-10 10:00", "2026-04-10 11:00")]);
        let maintenance = span("2026-04-10 10:30", "2026-04-10 12:00");
        uptime.exclusions.push(exclusion(1, "database upgrade", maintenance));
        let outcome = compute_uptime(&uptime);
        assert_eq!(outcome.excluded_minutes, 90);
        assert_eq!((outcome.down_minutes, outcome.downtime_minutes), (30, 30));
        assert_eq!(outcome.eligible_minutes, 43_110);
        assert_eq!(outcome.uptime, Ratio::new(43_080, 43_110));

        // 43_080 × 100_000 = 4_308_000_000 is not below 99_900 × 43_110 = 4_306_689_000.
        let assessment = assess_uptime(&outcome);
        assert!(assessment.uptime.met);
        assert_eq!(assessment.credit.amount_cents, 0);
        // floor(43_110 × 0.1%) = floor(43.11) = 43 allowed, 30 used.
        assert_eq!(assessment.error_budget.remaining_minutes, 13);
    }

    #[test]
    fn overlapping_exclusions_count_once_and_shared_minutes_go_to_the_earliest() {
        // 02:00-04:00 and 03:00-05:00 cover 180 minutes together; the later gets 04:00-05:00.
        // A third from 02:00 ties on start with the first and loses on id.
        let mut uptime = input(month("2026-04"), &[]);
        uptime.exclusions = vec![
            exclusion(3, "later", span("2026-04-05 03:00", "2026-04-05 05:00")),
            exclusion(2, "first", span("2026-04-05 02:00", "2026-04-05 04:00")),
            exclusion(9, "tie", span("2026-04-05 02:00", "2026-04-05 02:30")),
        ];
        let outcome = compute_uptime(&uptime);
        assert_eq!(outcome.excluded_minutes, 180);
        assert_eq!(outcome.eligible_minutes, 43_200 - 180);

        let minutes: Vec<_> = outcome
            .exclusions
            .iter()
            .map(|e| (e.label.as_str(), e.covered_minutes, e.attributed_minutes))
            .collect();
        assert_eq!(minutes, [("first", 120, 120), ("tie", 30, 0), ("later", 120, 60)]);
    }

    #[test]
    fn an_exclusion_reaching_outside_the_period_covers_only_the_minutes_inside() {
        let mut uptime = input(month("2026-02"), &[]);
        let overnight = span("2026-01-31 22:00", "2026-02-01 01:00");
        uptime.exclusions.push(exclusion(1, "migration", overnight));
        let outcome = compute_uptime(&uptime);
        assert_eq!(outcome.excluded_minutes, 60);
        assert_eq!(outcome.exclusions[0].covered_minutes, 60);
    }

    #[test]
    fn an_exclusion_granted_to_one_tenant_only_spares_that_tenant_alone() {
        // The same hour down for both; only the first tenant's ledger excuses it.
        let outage = span("2026-04-10 10:00", "2026-04-10 11:00");
        let mut excused = input(month("2026-04"), &[outage]);
        excused.exclusions.push(exclusion(7, "customer-requested freeze", outage));
        let other = input(month("2026-04"), &[outage]);
        let plan = Plan::default_for(20_000, "EUR");

        // Excused: 43_140 eligible, all up. Other: 43_140 / 43_200 is 99.86%, below 99.9%.
        let excused = assess(&plan, &compute_uptime(&excused), &RunNumbers::default());
        let other = assess(&plan, &compute_uptime(&other), &RunNumbers::default());
        assert_eq!(excused.uptime.actual, Ratio::new(43_140, 43_140));
        assert_eq!(excused.credit.amount_cents, 0);
        assert_eq!(other.uptime.actual, Ratio::new(43_140, 43_200));
        assert_eq!(other.credit.amount_cents, 2_000);
    }

    #[test]
    fn minutes_without_data_count_as_downtime_but_are_reported_apart() {
        let mut uptime = input(month("2026-04"), &[]);
        uptime.no_data.push(span("2026-04-20 00:00", "2026-04-20 00:30"));
        let outcome = compute_uptime(&uptime);
        assert_eq!((outcome.down_minutes, outcome.no_data_minutes), (0, 30));
        assert_eq!(outcome.downtime_minutes, 30);
        assert_eq!(outcome.uptime, Ratio::new(43_170, 43_200));
    }

    #[test]
    fn a_minute_both_down_and_without_data_counts_once_as_down() {
        // Down 10:00-10:20, no data 10:10-10:50: 20 down, 30 no-data (10:20-10:50), 50 in all.
        let mut uptime = input(month("2026-04"), &[span("2026-04-10 10:00", "2026-04-10 10:20")]);
        uptime.no_data.push(span("2026-04-10 10:10", "2026-04-10 10:50"));
        let outcome = compute_uptime(&uptime);
        assert_eq!((outcome.down_minutes, outcome.no_data_minutes), (20, 30));
        assert_eq!(outcome.downtime_minutes, 50);
        // 43_150 up is below 99.9% of 43_200 (43_156.8).
        assert_eq!(assess_uptime(&outcome).credit.percent, pct("10"));
    }

    #[test]
    fn uptime_exactly_at_a_threshold_is_not_below_it() {
        // 1000 eligible minutes, so n minutes down is exactly (100 - n/10)%.
        let check = |down_minutes: i64, tier: Option<&str>, met: bool| {
            let period = spans(&[(0, 1_000)])[0];
            let down = spans(&[(0, down_minutes)]);
            let assessment = assess_uptime(&compute_uptime(&input(period, &down)));
            let credit = assessment.uptime_tier.map(|tier| tier.credit);
            assert_eq!(credit, tier.map(pct), "{down_minutes} minutes down");
            assert_eq!(assessment.uptime.met, met, "{down_minutes} minutes down");
        };
        check(1, None, true); // 99.9% exactly
        check(2, Some("10"), false); // 99.8%
        check(10, Some("10"), false); // 99.0% exactly
        check(11, Some("25"), false); // 98.9%
        check(50, Some("25"), false); // 95.0% exactly
        check(51, Some("100"), false); // 94.9%
    }

    #[test]
    fn a_period_that_is_all_excluded_has_no_uptime_and_meets_its_target() {
        let period = span("2026-04-01 00:00", "2026-04-01 01:00");
        let mut uptime = input(period, &[period]);
        uptime.exclusions.push(exclusion(1, "everything", period));
        let outcome = compute_uptime(&uptime);
        assert_eq!((outcome.eligible_minutes, outcome.downtime_minutes), (0, 0));
        assert_eq!(outcome.uptime, None);
        let assessment = assess_uptime(&outcome);
        assert!(assessment.uptime.met);
        assert_eq!(assessment.credit.amount_cents, 0);
    }

    #[test]
    fn run_targets_are_met_at_exactly_their_share_and_when_nothing_ran() {
        let check = |runs: RunNumbers, success_met: bool, execution_met: bool, credit: &str| {
            let outcome = compute_uptime(&input(month("2026-04"), &[]));
            let assessment = assess(&Plan::default_for(10_000, "EUR"), &outcome, &runs);
            assert_eq!(assessment.success.met, success_met, "{runs:?}");
            assert_eq!(assessment.execution.met, execution_met, "{runs:?}");
            assert_eq!(assessment.credit.percent, pct(credit), "{runs:?}");
        };
        let runs = |counted, succeeded, timed, within_expected| RunNumbers {
            counted,
            succeeded,
            timed,
            within_expected,
        };
        // 95 of 100 is the 95% target; 9 of 10 is the 90% target.
        check(runs(100, 95, 10, 9), true, true, "0");
        check(runs(100, 94, 10, 9), false, true, "5");
        check(runs(100, 95, 10, 8), true, false, "5");
        check(runs(100, 94, 10, 8), false, false, "10");
        check(runs(0, 0, 0, 0), true, true, "0");
        // 1899 of 1999 is 94.997%, a hair under.
        check(runs(1_999, 1_899, 0, 0), false, true, "5");
    }

    #[test]
    fn credits_add_up_to_the_cap_and_no_further() {
        // 100% for uptime under 95% plus 5% and 5% for both run targets: 110%, capped at 100%.
        let outcome = compute_uptime(&input(
            month("2026-01"),
            &[span("2026-01-05 00:00", "2026-01-06 14:20")],
        ));
        let runs = RunNumbers { counted: 10, succeeded: 5, timed: 10, within_expected: 5 };
        let credit = assess(&Plan::default_for(12_345, "EUR"), &outcome, &runs).credit;
        let expected = Credit {
            percent: pct("100"),
            capped: true,
            amount_cents: 12_345,
            currency: "EUR".into(),
        };
        assert_eq!(credit, expected);

        // With a 15% cap, 10% + 5% is exactly the cap and 10% + 5% + 5% is over it.
        let mut plan = Plan::default_for(10_000, "EUR");
        plan.credit_cap = pct("15");
        let outage = [span("2026-04-10 10:00", "2026-04-10 11:00")];
        let outcome = compute_uptime(&input(month("2026-04"), &outage));
        let one_miss = RunNumbers { counted: 10, succeeded: 5, timed: 0, within_expected: 0 };
        let at_cap = assess(&plan, &outcome, &one_miss).credit;
        assert_eq!((at_cap.percent, at_cap.capped, at_cap.amount_cents), (pct("15"), false, 1_500));
        let over_cap = assess(&plan, &outcome, &runs).credit;
        assert_eq!(
            (over_cap.percent, over_cap.capped, over_cap.amount_cents),
            (pct("15"), true, 1_500)
        );
    }

    #[test]
    fn credit_amounts_round_half_up_to_the_cent() {
        let check = |fee_cents: i64, percent: &str, expected: i64| {
            assert_eq!(share_of_fee(fee_cents, pct(percent)), expected, "{fee_cents} × {percent}%");
        };
        check(99_999, "10", 10_000); // 9_999.9 cents
        check(5, "10", 1); // 0.5 cents
        check(4, "10", 0); // 0.4 cents
        check(12_345, "25", 3_086); // 3_086.25 cents
        check(15, "10", 2); // 1.5 cents
        check(100_001, "0.005", 5); // 5.00005 cents
        check(0, "100", 0);
        check(i64::MAX, "100", i64::MAX);
    }

    #[test]
    fn plans_with_a_bad_field_are_refused_naming_that_field() {
        let base = || Plan::default_for(10_000, "EUR");
        assert_eq!(base().validate(), Ok(base()));
        assert_eq!(Plan::default_for(0, "USD").validate().map(|p| p.currency), Ok("USD".into()));

        let field = |plan: Plan| plan.validate().unwrap_err().field();
        assert_eq!(field(Plan { monthly_fee_cents: -1, ..base() }), "monthly_fee_cents");
        for currency in ["eur", "EURO", "EU", "E1R", ""] {
            assert_eq!(field(Plan { currency: currency.into(), ..base() }), "currency");
        }
        let mut duplicate = base();
        duplicate.uptime_tiers.push(CreditTier { below: pct("99"), credit: pct("50") });
        assert_eq!(
            duplicate.validate().unwrap_err().to_string(),
            "uptime tiers name the threshold 99% more than once"
        );
        let mut shrinking = base();
        shrinking.uptime_tiers[2].credit = pct("20");
        assert_eq!(field(shrinking), "uptime_tiers");
        assert_eq!(Plan { uptime_tiers: Vec::new(), ..base() }.validate().map(|_| ()), Ok(()));
    }

    /// Intervals from `(offset, length)` minutes after 2026-01-01.
    fn spans(pairs: &[(i64, i64)]) -> Vec<Interval> {
        let base = at("2026-01-01 00:00");
        let minutes = chrono::TimeDelta::minutes;
        pairs
            .iter()
            .map(|&(from, length)| {
                Interval::new(base + minutes(from), base + minutes(from + length)).unwrap()
            })
            .collect()
    }

    fn pairs(count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<(i64, i64)>> {
        vec((0i64..30_000, 1i64..3_000), count)
    }

    proptest! {
        #[test]
        fn more_downtime_never_earns_a_smaller_credit(
            fee in 0i64..=100_000_000,
            (offset, length) in (0i64..10_000, 1i64..=20_000),
            down in pairs(0..6),
            more in pairs(1..4),
            excluded in pairs(0..3),
            (counted, succeeded) in (0i64..50).prop_flat_map(|n| (Just(n), 0..=n)),
        ) {
            let plan = Plan::default_for(fee, "EUR");
            let runs = RunNumbers { counted, succeeded, timed: 0, within_expected: 0 };
            let mut before = UptimeInput {
                period: spans(&[(offset, length)])[0],
                down: spans(&down),
                no_data: Vec::new(),
                exclusions: spans(&excluded).into_iter().map(|i| exclusion(1, "x", i)).collect(),
            };
            let credit_before = assess(&plan, &compute_uptime(&before), &runs).credit;
            before.down.extend(spans(&more));
            let credit_after = assess(&plan, &compute_uptime(&before), &runs).credit;
            prop_assert!(credit_after.percent >= credit_before.percent);
            prop_assert!(credit_after.amount_cents >= credit_before.amount_cents);
        }

        #[test]
        fn every_minute_of_the_period_is_accounted_for_once(
            (offset, length) in (0i64..10_000, 1i64..=5_000),
            down in pairs(0..6),
            no_data in pairs(0..6),
            excluded in pairs(0..4),
        ) {
            let exclusions = spans(&excluded)
                .into_iter()
                .enumerate()
                .map(|(id, interval)| exclusion(id as u128, "x", interval))
                .collect();
            let period = spans(&[(offset, length)])[0];
            let (down, no_data) = (spans(&down), spans(&no_data));
            let outcome = compute_uptime(&UptimeInput { period, down, no_data, exclusions });

            let minutes = outcome.excluded_minutes + outcome.eligible_minutes;
            prop_assert_eq!(minutes, outcome.minutes);
            let downtime = outcome.down_minutes + outcome.no_data_minutes;
            prop_assert_eq!(downtime, outcome.downtime_minutes);
            prop_assert!(outcome.downtime_minutes <= outcome.eligible_minutes);
            let attributed: i64 = outcome.exclusions.iter().map(|e| e.attributed_minutes).sum();
            prop_assert_eq!(attributed, outcome.excluded_minutes);
            match outcome.uptime {
                Some(uptime) => {
                    prop_assert!((0.0..=100.0).contains(&uptime.as_percent_f64()));
                    prop_assert!(!uptime.is_below(Percent::ZERO));
                    prop_assert!(uptime.num() <= uptime.den());
                }
                None => prop_assert_eq!(outcome.eligible_minutes, 0),
            }
        }
    }
}
