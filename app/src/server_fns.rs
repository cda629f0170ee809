//! Every server function the pages call, all under `/_fn/<name>` so they never collide with
//! the JSON API. Each is a thin shim over the request's `Backend`, which already knows who
//! is asking; the browser build only sees the generated client stubs.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{
    ExclusionInput, ExclusionsPage, LogLine, Overview, PoolView, PoolsPage, ReliabilityPage,
    ReliabilityWindow, RunDetail, RunFilter, RunPage, RunTypeView, SlaReport, SlaReportList,
    Viewer,
};

/// The backend bound to this request, or `Unauthenticated`.
#[cfg(feature = "ssr")]
fn backend() -> Result<std::sync::Arc<dyn crate::backend::Backend>, AppError> {
    crate::backend::current_backend()
}

/// The person looking at the page. (The generated type is named `GetViewer` so it does not
/// clash with `model::Viewer`; likewise `GetOverview` below.)
#[server(name = GetViewer, prefix = "/_fn", endpoint = "viewer")]
pub async fn viewer() -> Result<Viewer, AppError> {
    Ok(backend()?.viewer().clone())
}

/// The run types this person may submit, for the form and the filters.
#[server(prefix = "/_fn", endpoint = "run_types")]
pub async fn run_types() -> Result<Vec<RunTypeView>, AppError> {
    backend()?.run_types().await
}

/// One page of runs, newest first.
#[server(prefix = "/_fn", endpoint = "list_runs", input = Json)]
pub async fn list_runs(filter: RunFilter) -> Result<RunPage, AppError> {
    backend()?.list_runs(filter).await
}

#[server(prefix = "/_fn", endpoint = "get_run", input = Json)]
pub async fn get_run(id: Uuid) -> Result<RunDetail, AppError> {
    backend()?.get_run(id).await
}

/// Log lines of a run with an id above `after_id` (0 for all), oldest first.
#[server(prefix = "/_fn", endpoint = "run_logs", input = Json)]
pub async fn run_logs(id: Uuid, after_id: i64) -> Result<Vec<LogLine>, AppError> {
    backend()?.run_logs(id, after_id).await
}

/// Stores a run. Refused parameters do not fail the call: the run comes back `rejected`
/// with its `field_errors` filled.
#[server(prefix = "/_fn", endpoint = "submit_run", input = Json)]
pub async fn submit_run(
    run_type: String,
    params: serde_json::Value,
) -> Result<RunDetail, AppError> {
    backend()?.submit_run(run_type, params).await
}

/// Asks a queued or running run to stop. Form-encoded so the button works as a plain form.
#[server(prefix = "/_fn", endpoint = "cancel_run")]
pub async fn cancel_run(id: Uuid) -> Result<RunDetail, AppError> {
    backend()?.cancel_run(id).await
}

#[server(name = GetOverview, prefix = "/_fn", endpoint = "overview")]
pub async fn overview() -> Result<Overview, AppError> {
    backend()?.overview().await
}

/// Pool sizes and their recent changes (admins only).
#[server(prefix = "/_fn", endpoint = "pools")]
pub async fn pools() -> Result<PoolsPage, AppError> {
    backend()?.pools().await
}

/// Changes a pool's settings or pauses and resumes it (admins only). Form-encoded for
/// `ActionForm`: every field is text, and an absent or empty one stays as it is.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/_fn", endpoint = "update_pool")]
pub async fn update_pool(
    pool: String,
    min_size: Option<String>,
    max_size: Option<String>,
    autoscale: Option<String>,
    target_start_ms: Option<String>,
    cooldown_secs: Option<String>,
    paused: Option<String>,
    note: Option<String>,
) -> Result<PoolView, AppError> {
    let fields = [
        ("min_size", min_size),
        ("max_size", max_size),
        ("autoscale", autoscale),
        ("target_start_ms", target_start_ms),
        ("cooldown_secs", cooldown_secs),
        ("paused", paused),
        ("note", note),
    ];
    let form = fields
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_owned(), value)))
        .collect();
    backend()?.update_pool(pool, form).await
}

/// Reliability numbers and charts; the last 30 days unless a window is given.
#[server(name = GetReliability, prefix = "/_fn", endpoint = "reliability", input = Json)]
pub async fn reliability(window: Option<ReliabilityWindow>) -> Result<ReliabilityPage, AppError> {
    backend()?.reliability(window).await
}

/// The SLA reports of a month (`YYYY-MM`).
#[server(name = GetSlaReports, prefix = "/_fn", endpoint = "sla_reports")]
pub async fn sla_reports(month: String) -> Result<SlaReportList, AppError> {
    backend()?.sla_reports(month).await
}

/// One tenant's SLA report for a month.
#[server(name = GetSlaReport, prefix = "/_fn", endpoint = "sla_report")]
pub async fn sla_report(tenant: String, month: String) -> Result<SlaReport, AppError> {
    backend()?.sla_report(tenant, month).await
}

/// Reviews, issues or recomputes a report (account managers and admins). Form-encoded.
#[server(prefix = "/_fn", endpoint = "sla_report_action")]
pub async fn sla_report_action(
    tenant: String,
    month: String,
    action: String,
    note: String,
) -> Result<SlaReport, AppError> {
    let Some(action) = crate::model::ReportAction::parse(&action) else {
        return Err(AppError::Invalid(
            [("action".to_owned(), "must be review, issue or recompute".to_owned())].into(),
        ));
    };
    backend()?.sla_report_action(tenant, month, action, note).await
}

/// The exclusion ledger: maintenance windows and incidents with their change record.
#[server(name = GetExclusions, prefix = "/_fn", endpoint = "exclusions")]
pub async fn exclusions() -> Result<ExclusionsPage, AppError> {
    backend()?.exclusions().await
}

/// Records or changes a ledger entry (admins only).
#[server(prefix = "/_fn", endpoint = "save_exclusion", input = Json)]
pub async fn save_exclusion(
    id: Option<Uuid>,
    input: ExclusionInput,
) -> Result<ExclusionsPage, AppError> {
    backend()?.save_exclusion(id, input).await
}

/// Withdraws a ledger entry, with the reason (admins only). Form-encoded.
#[server(prefix = "/_fn", endpoint = "delete_exclusion")]
pub async fn delete_exclusion(id: Uuid, reason: String) -> Result<ExclusionsPage, AppError> {
    backend()?.delete_exclusion(id, reason).await
}
