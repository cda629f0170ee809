//! What Factory does for a caller, shared by the JSON API and the web pages: submit, list,
//! show and cancel runs and the overview numbers (the pools are in `pools::service`). Each
//! call takes the caller's `Scope`; HTTP lives in `api` and `web`, SQL in `storage`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::TimeDelta;
use uuid::Uuid;

use app::model::{LogLine, Overview, RunDetail, RunFilter, RunPage, RunTypeDurations, RunTypeView};

use crate::auth::Scope;
use crate::config::Settings;
use crate::events::Events;
use crate::executor::Executor;
use crate::runtypes::{Catalogue, RunType};
use crate::storage::{NewRun, Store, StoreError};

/// Days the overview looks back.
const OVERVIEW_DAYS: u32 = 30;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("not found")]
    NotFound,
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The input was refused before anything was stored.
    #[error("invalid input")]
    Invalid(BTreeMap<String, String>),
    /// The parameters were refused; the run was stored as `rejected`.
    #[error("invalid parameters")]
    Rejected(Box<RunDetail>),
    #[error("{0}")]
    Conflict(String),
    #[error("storage failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> ServiceError {
        match error {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(message) => ServiceError::Conflict(message),
            StoreError::Invalid(message) => {
                ServiceError::Invalid(BTreeMap::from([("cursor".to_owned(), message)]))
            }
            other => ServiceError::Store(other),
        }
    }
}

/// Everything a request handler needs; one per process, shared behind an `Arc`.
pub struct Services {
    pub store: Store,
    pub catalogue: Arc<Catalogue>,
    pub settings: Arc<Settings>,
    pub events: Events,
    pub executor: Arc<Executor>,
    /// This process as a member of the worker pools.
    pub process: Arc<crate::queue::WorkerProcess>,
    pub api_timings: Arc<crate::reliability::api_timing::ApiTimings>,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Services {
    pub fn run_types(&self) -> Vec<RunTypeView> {
        self.catalogue.all().iter().map(RunType::view).collect()
    }

    /// Validates and stores a run. Invalid parameters store it `rejected` and return
    /// `ServiceError::Rejected`; an unknown run type stores nothing.
    pub async fn submit_run(
        &self,
        scope: &Scope,
        run_type: &str,
        params: serde_json::Value,
        idempotency_key: Option<&str>,
    ) -> Result<(RunDetail, bool), ServiceError> {
        if scope.tenant().is_none() {
            return Err(ServiceError::Forbidden(
                "runs are submitted by a tenant's users or tokens".into(),
            ));
        }
        let Some(definition) = self.catalogue.get(run_type) else {
            let known: Vec<&str> = self.catalogue.all().iter().map(|rt| rt.name.as_str()).collect();
            return Err(ServiceError::Invalid(BTreeMap::from([(
                "run_type".to_owned(),
                format!("unknown run type; expected one of: {}", known.join(", ")),
            )])));
        };
        if let Some(key) = idempotency_key {
            if key.is_empty() || key.len() > 200 {
                return Err(ServiceError::Invalid(BTreeMap::from([(
                    "Idempotency-Key".to_owned(),
                    "must be 1 to 200 characters".to_owned(),
                )])));
            }
        }

        if let Some(field) = field_with_nul(&params) {
            // PostgreSQL cannot store NUL in text or jsonb; refuse it before anything is written.
            return Err(ServiceError::Invalid(BTreeMap::from([(
                field,
                "must not contain NUL characters".to_owned(),
            )])));
        }

        let (params, field_errors) = match definition.validate(&params) {
            Ok(valid) => (valid.as_json().clone(), BTreeMap::new()),
            Err(errors) => (params, errors),
        };
        let new_run = NewRun {
            run_type,
            params,
            field_errors,
            idempotency_key,
            expected_duration_ms: definition.expected_duration.as_millis() as i64,
            steps: &definition.steps,
        };
        let expected_params = new_run.params.clone();
        let (run, created) = self.store.insert_run(scope, new_run).await?;
        let same_request = run.summary.run_type == run_type && run.params == expected_params;
        if !created && !same_request {
            return Err(ServiceError::Conflict(
                "this Idempotency-Key was used for a different submission".into(),
            ));
        }
        if !run.field_errors.is_empty() {
            return Err(ServiceError::Rejected(Box::new(run)));
        }
        Ok((run, created))
    }

    pub async fn list_runs(
        &self,
        scope: &Scope,
        filter: &RunFilter,
    ) -> Result<RunPage, ServiceError> {
        Ok(self.store.list_runs(scope, filter).await?)
    }

    pub async fn get_run(&self, scope: &Scope, id: Uuid) -> Result<RunDetail, ServiceError> {
        self.store.run_detail(scope, id).await?.ok_or(ServiceError::NotFound)
    }

    pub async fn run_logs(
        &self,
        scope: &Scope,
        id: Uuid,
        after_id: i64,
    ) -> Result<Vec<LogLine>, ServiceError> {
        // Looking the run up first makes another tenant's run a 404, not an empty list.
        self.get_run(scope, id).await?;
        Ok(self.store.run_logs(scope, id, after_id).await?)
    }

    pub async fn cancel_run(&self, scope: &Scope, id: Uuid) -> Result<RunDetail, ServiceError> {
        Ok(self.store.cancel_run(scope, id).await?)
    }

    pub async fn artifact(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<(String, Vec<u8>), ServiceError> {
        self.store.artifact(scope, id).await?.ok_or(ServiceError::NotFound)
    }

    pub async fn overview(&self, scope: &Scope) -> Result<Overview, ServiceError> {
        let now = chrono::Utc::now();
        let from = now - TimeDelta::days(OVERVIEW_DAYS.into());
        let counts = self.store.run_type_counts(scope.tenant_id(), from, now).await?;
        let succeeded: i64 = counts.iter().map(|row| row.succeeded).sum();
        let counted: i64 = counts.iter().map(|row| row.succeeded + row.failed).sum();
        let durations: Vec<RunTypeDurations> = counts
            .into_iter()
            .filter(|row| row.succeeded > 0)
            .map(|row| RunTypeDurations {
                run_type: row.run_type,
                runs: row.succeeded,
                p50_ms: row.p50_ms,
                p95_ms: row.p95_ms,
            })
            .collect();
        let durations_svg = crate::charts::durations_chart(&durations);
        Ok(Overview {
            window_days: OVERVIEW_DAYS,
            success_rate: (counted > 0).then(|| succeeded as f64 / counted as f64),
            counted_runs: counted,
            succeeded_runs: succeeded,
            durations,
            durations_svg,
            pools: self
                .pool_views()
                .await?
                .into_iter()
                .map(|pool| for_viewer(scope, pool))
                .collect(),
            uptime: self
                .store
                .uptime_window(now - TimeDelta::days(OVERVIEW_DAYS.into()), now)
                .await?,
            alerts: self.burn_alerts(scope).await?,
            upcoming_maintenance: self.store.upcoming_maintenance(scope.tenant_id()).await?,
        })
    }
}

/// A pool as the overview shows it: customers see the numbers, not which hosts run the
/// workers or what staff wrote in their notes.
fn for_viewer(scope: &Scope, mut pool: app::model::PoolView) -> app::model::PoolView {
    if scope.tenant().is_some() {
        pool.workers.clear();
        pool.settings.note.clear();
        pool.settings.updated_by.clear();
    }
    pool
}

/// The parameter (or `params` itself) holding a NUL character, in a key or a string value.
fn field_with_nul(params: &serde_json::Value) -> Option<String> {
    fn has_nul(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(text) => text.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(has_nul),
            serde_json::Value::Object(map) => {
                map.iter().any(|(key, value)| key.contains('\0') || has_nul(value))
            }
            _ => false,
        }
    }
    match params {
        serde_json::Value::Object(map) => map
            .iter()
            .find(|(key, value)| key.contains('\0') || has_nul(value))
            .map(|(key, _)| key.replace('\0', "\\0")),
        other => has_nul(other).then(|| "params".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_found_in_values_keys_and_nested_values() {
        assert_eq!(field_with_nul(&serde_json::json!({ "a": "x\u{0}y" })), Some("a".into()));
        assert_eq!(
            field_with_nul(&serde_json::json!({ "b": ["ok", { "c": "\u{0}" }] })),
            Some("b".into())
        );
        assert_eq!(field_with_nul(&serde_json::json!({ "k\u{0}": 1 })), Some("k\\0".into()));
        assert_eq!(field_with_nul(&serde_json::json!("\u{0}")), Some("params".into()));
        assert_eq!(field_with_nul(&serde_json::json!({ "a": "fine", "n": 3 })), None);
    }
}
