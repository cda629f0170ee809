//! Runs as customers see them: submission (run, jobs and first queue task in one
//! transaction), listing with keyset pagination, detail, logs, cancel and the artifact.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use uuid::Uuid;

use app::model::{
    ArtifactInfo, JobStatus, JobView, LogLine, RunDetail, RunFilter, RunPage, RunStatus, RunSummary,
};

use super::{notify, Store, StoreError};
use crate::auth::Scope;
use crate::runtypes::StepDecl;

/// Runs per page when the caller does not say.
const DEFAULT_PAGE: u32 = 25;
const MAX_PAGE: u32 = 100;

/// A run to store. Rejected runs carry their field errors and are never queued.
pub struct NewRun<'a> {
    pub run_type: &'a str,
    pub params: serde_json::Value,
    pub field_errors: BTreeMap<String, String>,
    pub idempotency_key: Option<&'a str>,
    pub expected_duration_ms: i64,
    pub steps: &'a [StepDecl],
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    tenant: String,
    run_type: String,
    status: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl RunRow {
    fn into_summary(self) -> RunSummary {
        RunSummary {
            id: self.id,
            tenant: self.tenant,
            run_type: self.run_type,
            status: RunStatus::parse(&self.status).unwrap_or(RunStatus::Failed),
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    position: i32,
    step: String,
    pool: String,
    status: String,
    attempts: i32,
    max_attempts: i32,
    queued_at: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
}

impl JobRow {
    fn into_view(self) -> JobView {
        JobView {
            id: self.id,
            position: self.position,
            step: self.step,
            pool: self.pool,
            status: JobStatus::parse(&self.status).unwrap_or(JobStatus::Failed),
            attempts: self.attempts,
            max_attempts: self.max_attempts,
            queued_at: self.queued_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            error: self.error,
        }
    }
}

const SUMMARY_COLUMNS: &str = "r.id, t.slug AS tenant, r.run_type, r.status, r.created_at, \
     r.started_at, r.finished_at";

impl Store {
    /// Stores a run. With an idempotency key already used by this tenant, returns the run
    /// stored the first time instead.
    pub async fn insert_run(
        &self,
        scope: &Scope,
        new: NewRun<'_>,
    ) -> Result<(RunDetail, bool), StoreError> {
        let tenant = scope.tenant().ok_or_else(|| {
            StoreError::Conflict("runs are submitted by a tenant's users or tokens".into())
        })?;
        let mut tx = self.pool.begin().await?;

        if let Some(key) = new.idempotency_key {
            // Serialise concurrent submissions with the same key within this tenant.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))")
                .bind(tenant.id.to_string())
                .bind(key)
                .execute(&mut *tx)
                .await?;
            let existing: Option<Uuid> = sqlx::query_scalar(
                "SELECT id FROM runs WHERE tenant_id = $1 AND idempotency_key = $2",
            )
            .bind(tenant.id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = existing {
                tx.commit().await?;
                let run = self.run_detail(scope, id).await?.ok_or(StoreError::NotFound)?;
                return Ok((run, false));
            }
        }

        let run_id = Uuid::new_v4();
        let rejected = !new.field_errors.is_empty();
        let status = if rejected { RunStatus::Rejected } else { RunStatus::Queued };
        sqlx::query(
            "INSERT INTO runs (id, tenant_id, run_type, params, status, field_errors, \
             idempotency_key, expected_duration_ms, created_by, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10 THEN now() END)",
        )
        .bind(run_id)
        .bind(tenant.id)
        .bind(new.run_type)
        .bind(&new.params)
        .bind(status.as_str())
        .bind(serde_json::to_value(&new.field_errors)?)
        .bind(new.idempotency_key)
        .bind(new.expected_duration_ms)
        .bind(scope.actor())
        .bind(rejected)
        .execute(&mut *tx)
        .await?;

        if !rejected {
            insert_jobs(&mut tx, run_id, tenant.id, new.steps).await?;
        }
        notify(&mut tx, tenant.id, run_id, "run").await?;
        tx.commit().await?;

        let run = self.run_detail(scope, run_id).await?.ok_or(StoreError::NotFound)?;
        Ok((run, true))
    }

    pub async fn list_runs(
        &self,
        scope: &Scope,
        filter: &RunFilter,
    ) -> Result<RunPage, StoreError> {
        let limit = filter.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
        let cursor = filter.cursor.as_deref().map(decode_cursor).transpose()?;

        let mut query: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM runs r JOIN tenants t ON t.id = r.tenant_id WHERE true"
        ));
        if let Some(tenant_id) = scope.tenant_id() {
            query.push(" AND r.tenant_id = ").push_bind(tenant_id);
        }
        if let Some(status) = filter.status {
            query.push(" AND r.status = ").push_bind(status.as_str());
        }
        if let Some(run_type) = &filter.run_type {
            query.push(" AND r.run_type = ").push_bind(run_type.clone());
        }
        if let Some((created_at, id)) = cursor {
            query.push(" AND (r.created_at, r.id) < (").push_bind(created_at);
            query.push(", ").push_bind(id).push(")");
        }
        query.push(" ORDER BY r.created_at DESC, r.id DESC LIMIT ").push_bind(i64::from(limit) + 1);

        let mut rows: Vec<RunRow> = query.build_query_as().fetch_all(&self.pool).await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|last| encode_cursor(last.created_at, last.id))
        } else {
            None
        };
        Ok(RunPage { runs: rows.into_iter().map(RunRow::into_summary).collect(), next_cursor })
    }

    pub async fn run_detail(
        &self,
        scope: &Scope,
        id: Uuid,
    ) -> Result<Option<RunDetail>, StoreError> {
        run_detail_in(&mut *self.pool.acquire().await?, scope.tenant_id(), id).await
    }

    pub async fn run_logs(
        &self,
        scope: &Scope,
        run_id: Uuid,
        after_id: i64,
    ) -> Result<Vec<LogLine>, StoreError> {
        let rows: Vec<(i64, Uuid, DateTime<Utc>, String, String)> = sqlx::query_as(
            "SELECT id, job_id, at, level, message FROM job_logs \
             WHERE run_id = $1 AND id > $2 AND ($3::uuid IS NULL OR tenant_id = $3) \
             ORDER BY id LIMIT 1000",
        )
        .bind(run_id)
        .bind(after_id)
        .bind(scope.tenant_id())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, job_id, at, level, message)| LogLine { id, job_id, at, level, message })
            .collect())
    }

    /// Cancels a run. With no job running the run ends `cancelled` at once (queued tasks
    /// will find their job cancelled and do nothing); otherwise the running job's worker
    /// ends the run when its attempt returns.
    pub async fn cancel_run(&self, scope: &Scope, id: Uuid) -> Result<RunDetail, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<(Uuid, String)> = sqlx::query_as(
            "SELECT tenant_id, status FROM runs WHERE id = $1 \
             AND ($2::uuid IS NULL OR tenant_id = $2) FOR UPDATE",
        )
        .bind(id)
        .bind(scope.tenant_id())
        .fetch_optional(&mut *tx)
        .await?;
        let (tenant_id, status) = row.ok_or(StoreError::NotFound)?;
        let status = RunStatus::parse(&status).unwrap_or(RunStatus::Failed);
        if !crate::lifecycle::can_cancel(status) {
            return Err(StoreError::Conflict(format!("run is already {}", status.as_str())));
        }

        let running: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE run_id = $1 AND status = 'running')",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE runs SET cancel_requested = true WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !running {
            super::execution::finish_run(&mut tx, id, RunStatus::Cancelled, None).await?;
        }
        notify(&mut tx, tenant_id, id, "run").await?;
        tx.commit().await?;
        self.run_detail(scope, id).await?.ok_or(StoreError::NotFound)
    }

    /// The packaged artifact: file name and bytes.
    pub async fn artifact(
        &self,
        scope: &Scope,
        run_id: Uuid,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row = sqlx::query_as(
            "SELECT file_name, content FROM artifacts \
             WHERE run_id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)",
        )
        .bind(run_id)
        .bind(scope.tenant_id())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }
}

async fn insert_jobs(
    tx: &mut PgConnection,
    run_id: Uuid,
    tenant_id: Uuid,
    steps: &[StepDecl],
) -> Result<(), StoreError> {
    let mut first_job = None;
    for (position, step) in steps.iter().enumerate() {
        let job_id = Uuid::new_v4();
        let first = position == 0;
        sqlx::query(
            "INSERT INTO jobs (id, run_id, tenant_id, position, step, pool, status, \
             max_attempts, timeout_ms, queued_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10 THEN now() END)",
        )
        .bind(job_id)
        .bind(run_id)
        .bind(tenant_id)
        .bind(position as i32)
        .bind(&step.name)
        .bind(&step.pool)
        .bind(if first { "queued" } else { "waiting" })
        .bind(step.max_attempts as i32)
        .bind(step.timeout.as_millis() as i64)
        .bind(first)
        .execute(&mut *tx)
        .await?;
        if first {
            first_job = Some((job_id, step.pool.clone()));
        }
    }
    if let Some((job_id, pool)) = first_job {
        super::execution::enqueue(tx, &pool, job_id, std::time::Duration::ZERO).await?;
    }
    Ok(())
}

pub(super) async fn run_detail_in(
    conn: &mut PgConnection,
    tenant_id: Option<Uuid>,
    id: Uuid,
) -> Result<Option<RunDetail>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct DetailRow {
        #[sqlx(flatten)]
        summary: RunRow,
        params: serde_json::Value,
        field_errors: serde_json::Value,
        error: Option<String>,
        cancel_requested: bool,
    }
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, r.params, r.field_errors, r.error, r.cancel_requested \
         FROM runs r JOIN tenants t ON t.id = r.tenant_id \
         WHERE r.id = $1 AND ($2::uuid IS NULL OR r.tenant_id = $2)"
    );
    let Some(row): Option<DetailRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };

    let jobs: Vec<JobRow> = sqlx::query_as(
        "SELECT id, position, step, pool, status, attempts, max_attempts, queued_at, \
         started_at, finished_at, error FROM jobs WHERE run_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let artifact: Option<(String, i64, String)> =
        sqlx::query_as("SELECT file_name, size_bytes, sha256 FROM artifacts WHERE run_id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;

    Ok(Some(RunDetail {
        summary: row.summary.into_summary(),
        params: row.params,
        field_errors: serde_json::from_value(row.field_errors).unwrap_or_default(),
        error: row.error,
        cancel_requested: row.cancel_requested,
        jobs: jobs.into_iter().map(JobRow::into_view).collect(),
        artifact: artifact.map(|(file_name, size_bytes, sha256)| ArtifactInfo {
            file_name,
            size_bytes,
            sha256,
        }),
    }))
}

/// Cursors are opaque to callers: the last row's creation time and id.
fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", created_at.timestamp_micros(), id.simple())
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), StoreError> {
    let invalid = || StoreError::Invalid("invalid cursor".into());
    let (micros, id) = cursor.split_once('_').ok_or_else(invalid)?;
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let created_at = DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?;
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok((created_at, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode_cursor(&encode_cursor(at, id)).unwrap(), (at, id));
        assert!(decode_cursor("nonsense").is_err());
        assert!(decode_cursor("12_notauuid").is_err());
    }
}
