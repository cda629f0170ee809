//! Building a tenant's monthly SLA report: read the month's down and no-data spans, the
//! exclusion ledger and the run rollups, run the pure maths of `sla`, and shape the result
//! as the page and the API show it. Revisions and their review live in `service`.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use uuid::Uuid;

use app::model::{
    CreditView, ExcludedEntry, ExclusionView, PlanView, ReportChange, ReportStatus,
    RunTypeDurations, SlaReport, TargetView, TierView,
};

use super::month::{Interval, Month};
use super::sla::{self, Exclusion, Percent, Plan, RunNumbers, TargetResult, UptimeInput};
use crate::storage::{Span, Store, StoreError};

/// The tenant a report is for.
#[derive(Clone, Debug)]
pub struct ReportTenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// Computes a report's numbers as of `now`, as revision `revision` in draft.
pub async fn compute(
    store: &Store,
    tenant: &ReportTenant,
    month: Month,
    revision: i32,
    now: DateTime<Utc>,
) -> Result<SlaReport, StoreError> {
    let period = service_period(store, month, now).await?;
    let (plan, on_file) = match store.sla_plan(tenant.id).await? {
        Some(plan) => (plan, true),
        None => (Plan::default_for(0, "EUR"), false),
    };

    let (down, no_data) = match period {
        Some(period) => store.down_and_gaps(period.start(), period.end()).await?,
        None => (Vec::new(), Vec::new()),
    };
    let window = period.unwrap_or(month.period());
    let ledger = store.exclusions_for(Some(tenant.id), window.start(), window.end()).await?;
    let excluding: Vec<&ExclusionView> =
        ledger.iter().filter(|entry| entry.classification.excludes_minutes()).collect();
    let uptime = match period {
        Some(period) => sla::compute_uptime(&UptimeInput {
            period,
            down: intervals(&down),
            no_data: intervals(&no_data),
            exclusions: excluding.iter().filter_map(|entry| exclusion(entry)).collect(),
        }),
        None => empty_outcome(),
    };

    let run_types = store.run_type_counts(Some(tenant.id), window.start(), window.end()).await?;
    let runs = RunNumbers {
        counted: run_types.iter().map(|row| row.succeeded + row.failed).sum(),
        succeeded: run_types.iter().map(|row| row.succeeded).sum(),
        timed: run_types.iter().map(|row| row.succeeded).sum(),
        within_expected: run_types.iter().map(|row| row.within_expected).sum(),
    };
    let pools = store.start_latency(Some(tenant.id), window.start(), window.end()).await?;
    let assessment = sla::assess(&plan, &uptime, &runs);

    let exclusions = uptime
        .exclusions
        .iter()
        .filter_map(|minutes| {
            let entry = excluding.iter().find(|entry| entry.id == minutes.id)?;
            Some(ExcludedEntry {
                id: entry.id,
                classification: entry.classification,
                title: entry.title.clone(),
                reason: entry.reason.clone(),
                starts_at: entry.starts_at,
                ends_at: entry.ends_at,
                covered_minutes: minutes.covered_minutes,
                counted_minutes: minutes.attributed_minutes,
            })
        })
        .collect();

    Ok(SlaReport {
        tenant_slug: tenant.slug.clone(),
        tenant_name: tenant.name.clone(),
        month: month.to_string(),
        revision,
        status: ReportStatus::Draft,
        period_start: window.start(),
        period_end: window.end(),
        complete: month.end() <= now,
        computed_at: now,
        plan: plan_view(&plan, on_file),
        minutes: uptime.minutes,
        excluded_minutes: uptime.excluded_minutes,
        down_minutes: uptime.down_minutes,
        no_data_minutes: uptime.no_data_minutes,
        downtime_minutes: uptime.downtime_minutes,
        eligible_minutes: uptime.eligible_minutes,
        uptime: target_view(&assessment.uptime),
        success: target_view(&assessment.success),
        execution: target_view(&assessment.execution),
        runs_counted: runs.counted,
        runs_succeeded: runs.succeeded,
        runs_timed: runs.timed,
        runs_within_expected: runs.within_expected,
        budget_allowed_minutes: assessment.error_budget.allowed_minutes,
        budget_remaining_minutes: assessment.error_budget.remaining_minutes,
        exclusions,
        run_types: run_types
            .into_iter()
            .map(|row| RunTypeDurations {
                run_type: row.run_type,
                runs: row.succeeded + row.failed,
                p50_ms: row.p50_ms,
                p95_ms: row.p95_ms,
            })
            .collect(),
        pools,
        credit: CreditView {
            uptime_tier: assessment
                .uptime_tier
                .map(|tier| TierView { below_pct: pct(tier.below), credit_pct: pct(tier.credit) }),
            percent: pct(assessment.credit.percent),
            capped: assessment.credit.capped,
            amount_cents: assessment.credit.amount_cents,
            currency: assessment.credit.currency,
        },
        review: None,
        issue: None,
        changes: Vec::new(),
        revisions: Vec::new(),
    })
}

/// The numbers that changed from `before` to `after`, as text a reader can compare.
pub fn changes(before: &SlaReport, after: &SlaReport) -> Vec<ReportChange> {
    let percent = |value: Option<f64>| value.map_or("n/a".to_owned(), |v| format!("{v:.3}%"));
    let rows: [(&str, String, String); 10] = [
        ("minutes", before.minutes.to_string(), after.minutes.to_string()),
        (
            "excluded minutes",
            before.excluded_minutes.to_string(),
            after.excluded_minutes.to_string(),
        ),
        ("down minutes", before.down_minutes.to_string(), after.down_minutes.to_string()),
        ("no-data minutes", before.no_data_minutes.to_string(), after.no_data_minutes.to_string()),
        ("uptime", percent(before.uptime.actual_pct), percent(after.uptime.actual_pct)),
        ("run success", percent(before.success.actual_pct), percent(after.success.actual_pct)),
        (
            "within expected time",
            percent(before.execution.actual_pct),
            percent(after.execution.actual_pct),
        ),
        (
            "excluded entries",
            before.exclusions.len().to_string(),
            after.exclusions.len().to_string(),
        ),
        (
            "credit percent",
            format!("{}%", before.credit.percent),
            format!("{}%", after.credit.percent),
        ),
        (
            "credit amount",
            format_cents(before.credit.amount_cents, &before.credit.currency),
            format_cents(after.credit.amount_cents, &after.credit.currency),
        ),
    ];
    rows.into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(field, before, after)| ReportChange { field: field.to_owned(), before, after })
        .collect()
}

/// An amount in cents as `EUR 1234.50`.
pub fn format_cents(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{currency} {sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// The minutes a report accounts for: the month from the first minute ever measured, up to
/// now. `None` when nothing of the month has been measured yet.
async fn service_period(
    store: &Store,
    month: Month,
    now: DateTime<Utc>,
) -> Result<Option<Interval>, StoreError> {
    let Some(since) = store.measuring_since().await? else {
        return Ok(None);
    };
    let start = month.start().max(since);
    let this_minute = now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now);
    Ok(Interval::new(start, month.end().min(this_minute)).ok())
}

fn intervals(spans: &[Span]) -> Vec<Interval> {
    spans.iter().filter_map(|(start, end)| Interval::new(*start, *end).ok()).collect()
}

fn exclusion(entry: &ExclusionView) -> Option<Exclusion> {
    Some(Exclusion {
        id: entry.id,
        label: entry.title.clone(),
        interval: Interval::new(entry.starts_at, entry.ends_at).ok()?,
    })
}

fn empty_outcome() -> sla::UptimeOutcome {
    sla::UptimeOutcome {
        minutes: 0,
        excluded_minutes: 0,
        down_minutes: 0,
        no_data_minutes: 0,
        downtime_minutes: 0,
        eligible_minutes: 0,
        uptime: None,
        exclusions: Vec::new(),
    }
}

fn pct(percent: Percent) -> f64 {
    f64::from(percent.thousandths()) / 1000.0
}

fn target_view(result: &TargetResult) -> TargetView {
    TargetView {
        target_pct: pct(result.target),
        actual_pct: result.actual.map(|ratio| ratio.as_percent_f64()),
        met: result.met,
    }
}

fn plan_view(plan: &Plan, on_file: bool) -> PlanView {
    PlanView {
        monthly_fee_cents: plan.monthly_fee_cents,
        currency: plan.currency.clone(),
        uptime_target_pct: pct(plan.uptime_target),
        success_target_pct: pct(plan.success_target),
        execution_target_pct: pct(plan.execution_target),
        uptime_tiers: plan
            .uptime_tiers
            .iter()
            .map(|tier| TierView { below_pct: pct(tier.below), credit_pct: pct(tier.credit) })
            .collect(),
        success_miss_credit_pct: pct(plan.success_miss_credit),
        execution_miss_credit_pct: pct(plan.execution_miss_credit),
        credit_cap_pct: pct(plan.credit_cap),
        on_file,
    }
}
