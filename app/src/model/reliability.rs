//! The shapes of the reliability pages, the SLA reports and the exclusion ledger, as the
//! pages and the JSON API show them. Percentages here are for display (`f64`, 0–100); the
//! exact maths that decides targets and credits lives on the server.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::RunTypeDurations;

/// Reliability numbers over a window (`GET /api/v1/reliability`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reliability {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub uptime: UptimeWindow,
    /// Run success over the window; rejected and cancelled runs are not counted.
    pub success: SuccessWindow,
    /// Run success over the 30 days up to now, whatever the window.
    pub success_30d: SuccessWindow,
    /// P50/P95 duration per run type (succeeded runs) and the share within expected time.
    pub run_types: Vec<RunTypeReliability>,
    /// Job start latency (queued to started) per pool.
    pub pools: Vec<LatencyView>,
    /// API response times per route, recorded by middleware.
    pub api_routes: Vec<LatencyView>,
}

/// Minutes of the control plane API's uptime over a window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UptimeWindow {
    pub minutes: i64,
    pub up_minutes: i64,
    pub down_minutes: i64,
    /// Minutes without any probe sample; downtime for the SLA, shown apart.
    pub no_data_minutes: i64,
    /// `up / minutes` in percent; `None` for an empty window.
    pub uptime_pct: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuccessWindow {
    pub counted: i64,
    pub succeeded: i64,
    pub success_pct: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunTypeReliability {
    pub run_type: String,
    pub succeeded: i64,
    pub failed: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Share of succeeded runs that took no longer than the run type's expected duration.
    pub within_expected_pct: Option<f64>,
}

/// P50/P95 of a latency (job start per pool, or API response per route).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencyView {
    pub name: String,
    pub count: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// One day of the uptime bars, with its numbers for the table beside the chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayUptimeView {
    pub day: NaiveDate,
    pub up_minutes: i64,
    pub down_minutes: i64,
    pub no_data_minutes: i64,
    /// Minutes under maintenance or an excluding incident (they may also be up or down).
    pub excluded_minutes: i64,
}

/// A multi-window burn-rate alert on an error budget.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BurnAlertView {
    /// `uptime` or `run success`.
    pub objective: String,
    /// For example "1 h and 5 min at 14.4×".
    pub rule: String,
    pub severity: String,
    pub long_rate: Option<f64>,
    pub short_rate: Option<f64>,
    pub firing: bool,
}

/// The reliability page: numbers, charts (server-rendered SVG) and alerts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityPage {
    pub numbers: Reliability,
    pub days: Vec<DayUptimeView>,
    pub uptime_bars_svg: String,
    pub durations_svg: String,
    pub success_svg: String,
    pub start_latency_svg: String,
    pub queue_depth_svg: String,
    pub burndown_svg: String,
    pub alerts: Vec<BurnAlertView>,
    pub upcoming_maintenance: Vec<ExclusionView>,
}

/// Kinds of entries in the exclusion ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionKind {
    Maintenance,
    Incident,
}

/// Who an incident is attributed to. Maintenance is always `Planned`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Planned,
    /// The platform's fault: recorded, and counted as downtime.
    Platform,
    /// Excludes minutes for the tenants named only.
    CustomerCaused,
    ForceMajeure,
}

impl Classification {
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Planned => "planned",
            Classification::Platform => "platform",
            Classification::CustomerCaused => "customer_caused",
            Classification::ForceMajeure => "force_majeure",
        }
    }

    pub fn parse(text: &str) -> Option<Classification> {
        match text {
            "planned" => Some(Classification::Planned),
            "platform" => Some(Classification::Platform),
            "customer_caused" => Some(Classification::CustomerCaused),
            "force_majeure" => Some(Classification::ForceMajeure),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Classification::Planned => "Planned maintenance",
            Classification::Platform => "Platform incident",
            Classification::CustomerCaused => "Customer-caused",
            Classification::ForceMajeure => "Force majeure",
        }
    }

    /// Whether minutes under an entry of this class are left out of the SLA maths.
    pub fn excludes_minutes(self) -> bool {
        !matches!(self, Classification::Platform)
    }
}

impl ExclusionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionKind::Maintenance => "maintenance",
            ExclusionKind::Incident => "incident",
        }
    }

    pub fn parse(text: &str) -> Option<ExclusionKind> {
        match text {
            "maintenance" => Some(ExclusionKind::Maintenance),
            "incident" => Some(ExclusionKind::Incident),
            _ => None,
        }
    }
}

/// An entry of the exclusion ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExclusionView {
    pub id: Uuid,
    pub kind: ExclusionKind,
    pub classification: Classification,
    pub title: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Slugs of the tenants it applies to; empty means every tenant.
    pub tenants: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    pub deleted: bool,
}

/// What an admin submits to record or change a ledger entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExclusionInput {
    pub kind: ExclusionKind,
    pub classification: Classification,
    pub title: String,
    /// Why the entry exists or, for a change, why it changed; required.
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Tenant slugs; empty for every tenant.
    #[serde(default)]
    pub tenants: Vec<String>,
}

/// One recorded change of the ledger: who, when, why, and what it was before and after.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExclusionChange {
    pub exclusion_id: Uuid,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    pub reason: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantOption {
    pub slug: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExclusionsPage {
    pub entries: Vec<ExclusionView>,
    pub changes: Vec<ExclusionChange>,
    pub tenants: Vec<TenantOption>,
    /// Planned maintenance must be announced at least this long ahead.
    pub min_notice_hours: u32,
    /// Whether the viewer may change the ledger (admins).
    pub can_edit: bool,
}

/// Where an SLA report is in its review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Draft,
    Reviewed,
    Issued,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Draft => "draft",
            ReportStatus::Reviewed => "reviewed",
            ReportStatus::Issued => "issued",
        }
    }

    pub fn parse(text: &str) -> Option<ReportStatus> {
        match text {
            "draft" => Some(ReportStatus::Draft),
            "reviewed" => Some(ReportStatus::Reviewed),
            "issued" => Some(ReportStatus::Issued),
            _ => None,
        }
    }
}

/// A tenant's SLA terms, as shown on a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanView {
    pub monthly_fee_cents: i64,
    pub currency: String,
    pub uptime_target_pct: f64,
    pub success_target_pct: f64,
    pub execution_target_pct: f64,
    pub uptime_tiers: Vec<TierView>,
    pub success_miss_credit_pct: f64,
    pub execution_miss_credit_pct: f64,
    pub credit_cap_pct: f64,
    /// False when the tenant has no plan on file and the defaults (fee 0) were used.
    pub on_file: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierView {
    pub below_pct: f64,
    pub credit_pct: f64,
}

/// A target of the report and whether the month met it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetView {
    pub target_pct: f64,
    pub actual_pct: Option<f64>,
    pub met: bool,
}

/// An exclusion ledger entry as it counts in one report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExcludedEntry {
    pub id: Uuid,
    pub classification: Classification,
    pub title: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Minutes of the month the entry covers.
    pub covered_minutes: i64,
    /// Minutes it adds to the excluded total (overlaps with earlier entries count once).
    pub counted_minutes: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreditView {
    /// The uptime tier that applied (`below_pct`, `credit_pct`), if any.
    pub uptime_tier: Option<TierView>,
    pub percent: f64,
    pub capped: bool,
    pub amount_cents: i64,
    pub currency: String,
}

/// Who moved a report along, when, and their note.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signoff {
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// A number that differs from the previous revision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RevisionSummary {
    pub revision: i32,
    pub status: ReportStatus,
    pub computed_at: DateTime<Utc>,
    pub credit_amount_cents: i64,
}

/// One tenant's SLA report for one calendar month (UTC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaReport {
    pub tenant_slug: String,
    pub tenant_name: String,
    /// `YYYY-MM`.
    pub month: String,
    pub revision: i32,
    pub status: ReportStatus,
    /// The minutes the report covers: the month, cut at now while it is running.
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    /// Whether the month is over (only then may the report be reviewed and issued).
    pub complete: bool,
    pub computed_at: DateTime<Utc>,
    pub plan: PlanView,
    pub minutes: i64,
    pub excluded_minutes: i64,
    pub down_minutes: i64,
    pub no_data_minutes: i64,
    pub downtime_minutes: i64,
    pub eligible_minutes: i64,
    pub uptime: TargetView,
    pub success: TargetView,
    pub execution: TargetView,
    pub runs_counted: i64,
    pub runs_succeeded: i64,
    pub runs_timed: i64,
    pub runs_within_expected: i64,
    pub budget_allowed_minutes: i64,
    pub budget_remaining_minutes: i64,
    pub exclusions: Vec<ExcludedEntry>,
    pub run_types: Vec<RunTypeDurations>,
    pub pools: Vec<LatencyView>,
    pub credit: CreditView,
    pub review: Option<Signoff>,
    pub issue: Option<Signoff>,
    /// Differences from the previous revision; empty for the first.
    pub changes: Vec<ReportChange>,
    pub revisions: Vec<RevisionSummary>,
}

/// A row of the month's list of reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaReportRow {
    pub tenant_slug: String,
    pub tenant_name: String,
    /// `None` when no revision has been stored yet.
    pub status: Option<ReportStatus>,
    pub revision: Option<i32>,
    pub uptime_pct: Option<f64>,
    pub credit_amount_cents: Option<i64>,
    pub currency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaReportList {
    pub month: String,
    pub rows: Vec<SlaReportRow>,
    /// Whether the viewer may review and issue (account managers and admins).
    pub can_review: bool,
}

/// A window for the reliability numbers, half-open.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// What an account manager does to a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportAction {
    Review,
    Issue,
    /// Recompute: refreshes a draft, or starts a new revision of an issued report.
    Recompute,
}

impl ReportAction {
    pub fn parse(text: &str) -> Option<ReportAction> {
        match text {
            "review" => Some(ReportAction::Review),
            "issue" => Some(ReportAction::Issue),
            "recompute" => Some(ReportAction::Recompute),
            _ => None,
        }
    }
}
