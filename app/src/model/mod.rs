//! The data the pages show, shared by the server (which fills it) and the browser (which
//! renders it). Plain serialisable shapes: no SQL, no HTTP, no behaviour beyond formatting.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a person may do: customers see one tenant, staff see every tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    AccountManager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::AccountManager => "account_manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "customer" => Some(Role::Customer),
            "account_manager" => Some(Role::AccountManager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Customer => "Customer",
            Role::AccountManager => "Account manager",
            Role::Admin => "Admin",
        }
    }
}

/// The person looking at a page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Viewer {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The tenant a customer belongs to; `None` for staff.
    pub tenant_slug: Option<String>,
}

/// Where a run is in its life. `Rejected` runs were stored but never queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Rejected,
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Rejected => "rejected",
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Finished runs never change again.
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

/// Where one job (one step of a run) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// An earlier step has not finished yet.
    Waiting,
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Waiting => "waiting",
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<JobStatus> {
        [
            JobStatus::Waiting,
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// One row of the runs list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: Uuid,
    pub tenant: String,
    pub run_type: String,
    pub status: RunStatus,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A run with its jobs, as the detail page and `GET /api/v1/runs/{id}` show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub params: serde_json::Value,
    /// Field name to reason, for rejected runs.
    pub field_errors: BTreeMap<String, String>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub jobs: Vec<JobView>,
    pub artifact: Option<ArtifactInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: Uuid,
    pub position: i32,
    pub step: String,
    pub pool: String,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub queued_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

impl JobView {
    /// Time between being queued and starting, in milliseconds.
    pub fn wait_ms(&self) -> Option<i64> {
        Some((self.started_at? - self.queued_at?).num_milliseconds())
    }

    pub fn duration_ms(&self) -> Option<i64> {
        Some((self.finished_at? - self.started_at?).num_milliseconds())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub id: i64,
    pub job_id: Uuid,
    pub at: DateTime<Utc>,
    pub level: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// A page of runs; `next_cursor` is given back to fetch the following page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunPage {
    pub runs: Vec<RunSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub run_type: Option<String>,
    /// Opaque, from a previous page.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// A run type as the form and catalogue show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunTypeView {
    pub name: String,
    pub title: String,
    pub description: String,
    pub expected_duration_secs: u64,
    pub steps: Vec<StepView>,
    pub params: Vec<ParamView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub name: String,
    pub pool: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamView {
    pub name: String,
    pub label: String,
    pub help: String,
    pub kind: ParamKind,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    /// Allowed values, for a choice.
    pub choices: Vec<String>,
    pub pattern: Option<String>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    String,
    /// Several lines of text.
    Text,
    Integer,
    Boolean,
    Choice,
}

/// What a submission gave back: either the stored run or, when rejected, its field reasons
/// (the rejected run is stored too, and its id is in `run`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub run: RunDetail,
}

/// The overview page's numbers, for the last 30 days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub window_days: u32,
    /// Succeeded over finished runs, rejected and cancelled ones excluded; `None` with no runs.
    pub success_rate: Option<f64>,
    pub counted_runs: i64,
    pub succeeded_runs: i64,
    pub durations: Vec<RunTypeDurations>,
    /// Server-rendered SVG of P50/P95 per run type.
    pub durations_svg: String,
    pub pools: Vec<PoolView>,
    /// Uptime of the control plane API over the same window (no-data minutes count as down).
    pub uptime: UptimeWindow,
    /// Burn-rate alerts on the uptime and run success error budgets.
    pub alerts: Vec<BurnAlertView>,
    /// Planned maintenance that has not ended yet, soonest first.
    pub upcoming_maintenance: Vec<ExclusionView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunTypeDurations {
    pub run_type: String,
    pub runs: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

mod pools;
mod reliability;

pub use pools::*;
pub use reliability::*;
