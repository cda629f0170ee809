//! Running jobs: queue tasks written with the caller's transaction, the start of an attempt,
//! and its completion (outcome, the step's effects, the next task or the run's end) committed
//! together. A completion must present the lease its attempt started with, so a worker that
//! lost its job cannot overwrite what a newer attempt did.

use std::time::Duration;

use sqlx::PgConnection;
use uuid::Uuid;

use app::model::RunStatus;

use super::{notify, Store, StoreError};
use crate::lifecycle::{self, AttemptContext, Next, Outcome};
use crate::queue::{queue_name, StepTask};
use crate::steps::{Package, Workspace};

/// Queue rows get enough attempts to survive a few worker crashes; retries after a step's
/// own failure are new rows scheduled with backoff (see `lifecycle`), not apalis retries.
const QUEUE_MAX_ATTEMPTS: i32 = 5;

/// One started attempt of a job, with what the step handler needs.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub job_id: Uuid,
    pub run_id: Uuid,
    pub tenant_id: Uuid,
    pub run_type: String,
    pub params: serde_json::Value,
    pub step: String,
    pub pool: String,
    pub position: i32,
    pub step_count: i32,
    pub attempt: i32,
    pub max_attempts: i32,
    pub timeout: Duration,
    pub lease: Uuid,
}

/// What a successful step leaves behind.
#[derive(Debug, Default)]
pub struct Effects {
    pub workspace: Option<Workspace>,
    pub package: Option<Package>,
}

/// Writes an apalis task for the job into the pool's queue, due after `delay`.
pub(super) async fn enqueue(
    conn: &mut PgConnection,
    pool: &str,
    job_id: Uuid,
    delay: Duration,
) -> Result<(), StoreError> {
    let task = serde_json::to_vec(&StepTask { job_id, pool: pool.to_owned() })?;
    let task_id = ulid::Ulid::new().to_string();
    sqlx::query(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, \
         priority, metadata) \
         VALUES ($1, $2, $3, 'Pending', 0, $4, now() + make_interval(secs => $5), 0, ''::hstore)",
    )
    .bind(&task_id)
    .bind(queue_name(pool))
    .bind(task)
    .bind(QUEUE_MAX_ATTEMPTS)
    .bind(delay.as_secs_f64())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE jobs SET task_id = $2 WHERE id = $1")
        .bind(job_id)
        .bind(&task_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends a run: the run's status and time, and every job not yet finished cancelled.
pub(super) async fn finish_run(
    conn: &mut PgConnection,
    run_id: Uuid,
    status: RunStatus,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET status = 'cancelled', finished_at = coalesce(finished_at, now()) \
         WHERE run_id = $1 AND status IN ('waiting', 'queued')",
    )
    .bind(run_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE runs SET status = $2, error = $3, finished_at = now() WHERE id = $1")
        .bind(run_id)
        .bind(status.as_str())
        .bind(error)
        .execute(&mut *conn)
        .await?;
    super::rollups::run_ended(conn, run_id).await
}

#[derive(sqlx::FromRow)]
pub(super) struct StartRow {
    job_id: Uuid,
    run_id: Uuid,
    tenant_id: Uuid,
    run_type: String,
    params: serde_json::Value,
    step: String,
    pool: String,
    position: i32,
    pub(super) status: String,
    pub(super) attempts: i32,
    max_attempts: i32,
    timeout_ms: i64,
    pub(super) cancel_requested: bool,
    step_count: i64,
    queued_at: Option<chrono::DateTime<chrono::Utc>>,
    pub(super) lease: Option<Uuid>,
}

/// The columns of a job and its run that an attempt needs (`StartRow`), for `FROM jobs j
/// JOIN runs r`.
pub(super) const ATTEMPT_COLUMNS: &str = "j.id AS job_id, j.run_id, j.tenant_id, r.run_type, \
     r.params, j.step, j.pool, j.position, j.status, j.attempts, j.max_attempts, j.timeout_ms, \
     r.cancel_requested, (SELECT count(*) FROM jobs c WHERE c.run_id = j.run_id) AS step_count, \
     j.queued_at, j.lease";

impl StartRow {
    /// The attempt this row describes, as currently counted.
    pub(super) fn attempt(self, lease: Uuid) -> Attempt {
        Attempt {
            job_id: self.job_id,
            run_id: self.run_id,
            tenant_id: self.tenant_id,
            run_type: self.run_type,
            params: self.params,
            step: self.step,
            pool: self.pool,
            position: self.position,
            step_count: self.step_count as i32,
            attempt: self.attempts,
            max_attempts: self.max_attempts,
            timeout: Duration::from_millis(self.timeout_ms.max(0) as u64),
            lease,
        }
    }
}

impl Store {
    /// Queues tasks for `pool` in one transaction, for ids that need not name a stored job:
    /// the queue benchmark's no-op jobs go through the same rows and triggers as real ones.
    pub async fn enqueue_tasks(&self, pool: &str, job_ids: &[Uuid]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for job_id in job_ids {
            enqueue(&mut tx, pool, *job_id, Duration::ZERO).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Starts an attempt of a queued job in worker process `worker_id`. `None` when there is
    /// nothing to do: the job was cancelled, already finished, or is being run by another
    /// attempt (a duplicate task).
    pub async fn start_attempt(
        &self,
        job_id: Uuid,
        worker_id: Uuid,
    ) -> Result<Option<Attempt>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<StartRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTEMPT_COLUMNS} FROM jobs j JOIN runs r ON r.id = j.run_id \
             WHERE j.id = $1 FOR UPDATE OF j, r"
        )))
        .bind(job_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row.filter(|row| row.status == "queued") else {
            return Ok(None);
        };
        if row.cancel_requested {
            finish_run(&mut tx, row.run_id, RunStatus::Cancelled, None).await?;
            notify(&mut tx, row.tenant_id, row.run_id, "run").await?;
            tx.commit().await?;
            return Ok(None);
        }

        let lease = Uuid::new_v4();
        let started_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease = $2, \
             worker_id = $3, heartbeat_at = now(), started_at = now(), error = NULL \
             WHERE id = $1 RETURNING started_at",
        )
        .bind(job_id)
        .bind(lease)
        .bind(worker_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO job_attempts (lease, job_id, attempt, worker_id, started_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(lease)
        .bind(job_id)
        .bind(row.attempts + 1)
        .bind(worker_id)
        .bind(started_at)
        .execute(&mut *tx)
        .await?;
        // Start latency counts the first attempt only: a retry's wait is its backoff.
        if let (0, Some(queued_at)) = (row.attempts, row.queued_at) {
            super::rollups::job_started(&mut tx, row.tenant_id, &row.pool, queued_at, started_at)
                .await?;
        }
        sqlx::query(
            "UPDATE runs SET status = 'running', started_at = coalesce(started_at, now()) \
             WHERE id = $1",
        )
        .bind(row.run_id)
        .execute(&mut *tx)
        .await?;
        notify(&mut tx, row.tenant_id, row.run_id, "job").await?;
        tx.commit().await?;

        let mut attempt = row.attempt(lease);
        attempt.attempt += 1;
        Ok(Some(attempt))
    }

    /// The files the run's earlier steps produced.
    pub async fn load_workspace(&self, run_id: Uuid) -> Result<Workspace, StoreError> {
        let rows: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT path, content FROM run_files WHERE run_id = $1 ORDER BY path")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await?;
        let mut workspace = Workspace::default();
        for (path, content) in rows {
            workspace
                .insert(&path, content)
                .map_err(|error| StoreError::Conflict(format!("stored file {path}: {error}")))?;
        }
        Ok(workspace)
    }

    /// Appends a log line to a job while it runs, so watchers see progress live.
    pub async fn append_log(
        &self,
        attempt: &Attempt,
        level: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_log(&mut tx, attempt, level, message).await?;
        notify(&mut tx, attempt.tenant_id, attempt.run_id, "log").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records how an attempt ended, with the step's log lines, and moves the run on, all in
    /// one transaction. Returns false, changing nothing but the attempt's own record, when
    /// the attempt no longer holds its job.
    pub async fn finish_attempt(
        &self,
        attempt: &Attempt,
        outcome: &Outcome,
        ended: AttemptEnd,
        effects: &Effects,
        lines: &[String],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let held: Option<bool> = sqlx::query_scalar(
            "SELECT r.cancel_requested FROM jobs j JOIN runs r ON r.id = j.run_id \
             WHERE j.id = $1 AND j.lease = $2 AND j.status = 'running' FOR UPDATE OF j, r",
        )
        .bind(attempt.job_id)
        .bind(attempt.lease)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(cancel_requested) = held else {
            drop(tx);
            record_attempt_end(&self.pool, attempt.lease, ended, outcome_error(outcome), false)
                .await?;
            return Ok(false);
        };

        for line in lines {
            insert_log(&mut tx, attempt, "info", line).await?;
        }
        if let Some(error) = outcome_error(outcome) {
            insert_log(&mut tx, attempt, "error", error).await?;
        }
        if *outcome == Outcome::Succeeded {
            write_effects(&mut tx, attempt, effects).await?;
        }
        let context = AttemptContext {
            position: attempt.position,
            step_count: attempt.step_count,
            attempt: attempt.attempt,
            max_attempts: attempt.max_attempts,
            cancel_requested,
        };
        let next = lifecycle::after_attempt(context, outcome);
        let ended = match (&next, ended) {
            (Next::Finish { status: RunStatus::Cancelled, .. }, _) => AttemptEnd::Cancelled,
            (Next::Finish { .. }, AttemptEnd::Retried) if *outcome != Outcome::Succeeded => {
                AttemptEnd::Failed
            }
            (_, ended) => ended,
        };
        apply_next(&mut tx, attempt, outcome, &next).await?;
        record_attempt_end(&mut *tx, attempt.lease, ended, outcome_error(outcome), true).await?;
        notify(&mut tx, attempt.tenant_id, attempt.run_id, "job").await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// How an attempt ended, as `job_attempts.outcome` records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptEnd {
    Succeeded,
    /// Failed for good: the run fails.
    Failed,
    /// Failed in a way worth another attempt.
    Retried,
    TimedOut,
    /// Its worker stopped vouching for it; taken over by orphan recovery.
    Lost,
    /// Given back by a worker shutting down after its grace period.
    HandedBack,
    Cancelled,
}

impl AttemptEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptEnd::Succeeded => "succeeded",
            AttemptEnd::Failed => "failed",
            AttemptEnd::Retried => "retried",
            AttemptEnd::TimedOut => "timed_out",
            AttemptEnd::Lost => "lost",
            AttemptEnd::HandedBack => "handed_back",
            AttemptEnd::Cancelled => "cancelled",
        }
    }
}

fn outcome_error(outcome: &Outcome) -> Option<&str> {
    match outcome {
        Outcome::Succeeded => None,
        Outcome::Transient(error) | Outcome::Permanent(error) => Some(error),
    }
}

pub(super) async fn record_attempt_end<'c, E>(
    executor: E,
    lease: Uuid,
    ended: AttemptEnd,
    error: Option<&str>,
    accepted: bool,
) -> Result<(), StoreError>
where
    E: sqlx::PgExecutor<'c>,
{
    sqlx::query(
        "UPDATE job_attempts SET finished_at = now(), outcome = $2, error = $3, accepted = $4 \
         WHERE lease = $1 AND finished_at IS NULL",
    )
    .bind(lease)
    .bind(ended.as_str())
    .bind(error)
    .bind(accepted)
    .execute(executor)
    .await?;
    Ok(())
}

pub(super) async fn insert_log(
    conn: &mut PgConnection,
    attempt: &Attempt,
    level: &str,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO job_logs (job_id, run_id, tenant_id, level, message) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(attempt.job_id)
    .bind(attempt.run_id)
    .bind(attempt.tenant_id)
    .bind(level)
    .bind(message)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the run's files and artifact; safe to repeat, so a step run twice does no harm.
async fn write_effects(
    conn: &mut PgConnection,
    attempt: &Attempt,
    effects: &Effects,
) -> Result<(), StoreError> {
    let run_id = attempt.run_id;
    if let Some(workspace) = &effects.workspace {
        sqlx::query("DELETE FROM run_files WHERE run_id = $1")
            .bind(run_id)
            .execute(&mut *conn)
            .await?;
        let (paths, contents): (Vec<String>, Vec<Vec<u8>>) =
            workspace.files().map(|(path, bytes)| (path.to_owned(), bytes.to_vec())).unzip();
        sqlx::query(
            "INSERT INTO run_files (run_id, path, content) \
             SELECT $1, * FROM unnest($2::text[], $3::bytea[])",
        )
        .bind(run_id)
        .bind(paths)
        .bind(contents)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(package) = &effects.package {
        sqlx::query(
            "INSERT INTO artifacts (run_id, tenant_id, file_name, content, sha256, size_bytes, \
             manifest) VALUES ($1, $7, $2, $3, $4, $5, $6) \
             ON CONFLICT (run_id) DO UPDATE SET file_name = excluded.file_name, \
             content = excluded.content, sha256 = excluded.sha256, \
             size_bytes = excluded.size_bytes, manifest = excluded.manifest, created_at = now()",
        )
        .bind(run_id)
        .bind(&package.file_name)
        .bind(&package.bytes)
        .bind(&package.sha256)
        .bind(package.bytes.len() as i64)
        .bind(&package.manifest)
        .bind(attempt.tenant_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub(super) async fn apply_next(
    conn: &mut PgConnection,
    attempt: &Attempt,
    outcome: &Outcome,
    next: &Next,
) -> Result<(), StoreError> {
    let error = match outcome {
        Outcome::Succeeded => None,
        Outcome::Transient(error) | Outcome::Permanent(error) => Some(error.as_str()),
    };
    match next {
        Next::Step { position } => {
            set_job(conn, attempt.job_id, "succeeded", None, true).await?;
            let next_job: (Uuid, String) = sqlx::query_as(
                "UPDATE jobs SET status = 'queued', queued_at = now() \
                 WHERE run_id = $1 AND position = $2 RETURNING id, pool",
            )
            .bind(attempt.run_id)
            .bind(position)
            .fetch_one(&mut *conn)
            .await?;
            enqueue(conn, &next_job.1, next_job.0, Duration::ZERO).await?;
        }
        Next::Retry { after } => {
            set_job(conn, attempt.job_id, "queued", error, false).await?;
            let message = format!(
                "attempt {} failed: {}; retrying in {} s",
                attempt.attempt,
                error.unwrap_or("unknown error"),
                after.as_secs()
            );
            insert_log(conn, attempt, "warn", &message).await?;
            enqueue(conn, &attempt.pool, attempt.job_id, *after).await?;
        }
        Next::Finish { status, error: run_error } => {
            let job_status = match (outcome, status) {
                (Outcome::Succeeded, _) => "succeeded",
                (_, RunStatus::Cancelled) => "cancelled",
                _ => "failed",
            };
            set_job(conn, attempt.job_id, job_status, error, true).await?;
            finish_run(conn, attempt.run_id, *status, run_error.as_deref()).await?;
        }
    }
    Ok(())
}

async fn set_job(
    conn: &mut PgConnection,
    job_id: Uuid,
    status: &str,
    error: Option<&str>,
    finished: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET status = $2, error = $3, lease = NULL, \
         finished_at = CASE WHEN $4 THEN now() END WHERE id = $1",
    )
    .bind(job_id)
    .bind(status)
    .bind(error)
    .bind(finished)
    .execute(conn)
    .await?;
    Ok(())
}
