//! The server-side services the pages call, as a trait the `factory` server implements.
//! Each request gets its own `Backend`, already bound to the logged-in person, so a page
//! can only ever ask for what that person may see.

use std::sync::Arc;

use uuid::Uuid;

use crate::error::AppError;
use crate::model::{
    ExclusionInput, ExclusionsPage, Overview, PoolView, PoolsPage, ReliabilityPage, RunDetail,
    RunFilter, RunPage, RunTypeView, SlaReport, SlaReportList, Viewer,
};

/// Backend calls fail with the same error the server functions send to the browser.
pub type BackendResult<T> = Result<T, AppError>;

#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    fn viewer(&self) -> &Viewer;
    async fn run_types(&self) -> BackendResult<Vec<RunTypeView>>;
    async fn list_runs(&self, filter: RunFilter) -> BackendResult<RunPage>;
    async fn get_run(&self, id: Uuid) -> BackendResult<RunDetail>;
    /// Log lines of a run after `after_id` (0 for all), oldest first.
    async fn run_logs(&self, id: Uuid, after_id: i64) -> BackendResult<Vec<crate::model::LogLine>>;
    /// Stores the run; a run with invalid parameters comes back `rejected` with field errors.
    async fn submit_run(
        &self,
        run_type: String,
        params: serde_json::Value,
    ) -> BackendResult<RunDetail>;
    async fn cancel_run(&self, id: Uuid) -> BackendResult<RunDetail>;
    async fn overview(&self) -> BackendResult<Overview>;
    async fn pools(&self) -> BackendResult<PoolsPage>;
    /// Changes a pool from the pools page's forms: field name to text, a field a form does
    /// not have staying unchanged (see `PoolUpdate::from_form`).
    async fn update_pool(
        &self,
        pool: String,
        form: std::collections::BTreeMap<String, String>,
    ) -> BackendResult<PoolView>;
    /// Reliability numbers and charts over `[from, to)`; the last 30 days when absent.
    async fn reliability(
        &self,
        window: Option<ReliabilityWindow>,
    ) -> BackendResult<ReliabilityPage>;
    /// The month's SLA reports: every tenant for staff, the own issued one for customers.
    async fn sla_reports(&self, month: String) -> BackendResult<SlaReportList>;
    /// One tenant's report for a month: the latest revision (the latest issued one for
    /// customers), its draft recomputed on the way.
    async fn sla_report(&self, tenant: String, month: String) -> BackendResult<SlaReport>;
    /// Moves a report along: `review`, `issue`, or `recompute` (a new revision after issue).
    async fn sla_report_action(
        &self,
        tenant: String,
        month: String,
        action: ReportAction,
        note: String,
    ) -> BackendResult<SlaReport>;
    async fn exclusions(&self) -> BackendResult<ExclusionsPage>;
    /// Records a new ledger entry (`id` absent) or changes one (admins only).
    async fn save_exclusion(
        &self,
        id: Option<Uuid>,
        input: ExclusionInput,
    ) -> BackendResult<ExclusionsPage>;
    async fn delete_exclusion(&self, id: Uuid, reason: String) -> BackendResult<ExclusionsPage>;
}

pub use crate::model::{ReliabilityWindow, ReportAction};

/// What the server puts into each request's extensions once it knows who is asking.
#[derive(Clone)]
pub struct RequestBackend(pub Arc<dyn Backend>);

/// The backend bound to the current request, or `Unauthenticated` when nobody is logged in.
pub fn current_backend() -> BackendResult<Arc<dyn Backend>> {
    let parts =
        leptos::prelude::use_context::<http::request::Parts>().ok_or(AppError::Unauthenticated)?;
    parts
        .extensions
        .get::<RequestBackend>()
        .map(|backend| backend.0.clone())
        .ok_or(AppError::Unauthenticated)
}
