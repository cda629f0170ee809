//! Worker processes and the recovery of their work: each process's heartbeat (its rows in
//! `pool_workers`, and `heartbeat_at` of the attempts it runs), the membership each pool's
//! size is shared by, and taking back jobs whose worker went silent, jobs a stopping worker
//! handed back, and queued jobs whose queue row is gone.

use std::time::Duration;

use uuid::Uuid;

use super::execution::{
    apply_next, enqueue, insert_log, record_attempt_end, AttemptEnd, StartRow, ATTEMPT_COLUMNS,
};
use super::{notify, Store, StoreError};
use crate::lifecycle::{self, AttemptContext, Outcome};

/// What one heartbeat of a process reports.
#[derive(Clone, Debug)]
pub struct ProcessBeat {
    pub process_id: Uuid,
    pub host: String,
    pub pid: u32,
    pub version: String,
    pub draining: bool,
    pub pools: Vec<PoolBeat>,
    /// Leases of the attempts running in the process.
    pub leases: Vec<Uuid>,
    /// Members whose last heartbeat is older than this are not counted.
    pub live_within: Duration,
}

#[derive(Clone, Debug)]
pub struct PoolBeat {
    pub pool: String,
    pub slots: u32,
    pub running: u32,
    pub jobs_done: i64,
}

/// A pool's size and the live, non-draining processes that share it.
#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    pub pool: String,
    pub size: u32,
    pub paused: bool,
    pub members: Vec<Uuid>,
}

/// A job taken back from a worker that went silent or stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    pub job_id: Uuid,
    pub run_id: Uuid,
    pub worker_id: Option<Uuid>,
}

/// Most jobs one recovery pass takes, so a pass stays a short transaction.
const RECOVERY_BATCH: i64 = 100;

impl Store {
    /// Writes a process's heartbeat and returns how each of its pools is shared now.
    pub async fn worker_heartbeat(
        &self,
        beat: &ProcessBeat,
    ) -> Result<Vec<Membership>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let pools: Vec<&str> = beat.pools.iter().map(|pool| pool.pool.as_str()).collect();
        let slots: Vec<i32> = beat.pools.iter().map(|pool| pool.slots as i32).collect();
        let running: Vec<i32> = beat.pools.iter().map(|pool| pool.running as i32).collect();
        let done: Vec<i64> = beat.pools.iter().map(|pool| pool.jobs_done).collect();
        sqlx::query(
            "INSERT INTO pool_workers (process_id, pool, host, pid, version, slots, running, \
               jobs_done, draining) \
             SELECT $1, p.pool, $2, $3, $4, p.slots, p.running, p.done, $5 \
             FROM unnest($6::text[], $7::int[], $8::int[], $9::bigint[]) \
               AS p (pool, slots, running, done) \
             ON CONFLICT (process_id, pool) DO UPDATE SET slots = EXCLUDED.slots, \
               running = EXCLUDED.running, jobs_done = EXCLUDED.jobs_done, \
               draining = EXCLUDED.draining, heartbeat_at = now(), stopped_at = NULL",
        )
        .bind(beat.process_id)
        .bind(&beat.host)
        .bind(beat.pid as i32)
        .bind(&beat.version)
        .bind(beat.draining)
        .bind(&pools)
        .bind(&slots)
        .bind(&running)
        .bind(&done)
        .execute(&mut *tx)
        .await?;
        if !beat.leases.is_empty() {
            sqlx::query(
                "UPDATE jobs SET heartbeat_at = now() \
                 WHERE lease = ANY($1) AND status = 'running'",
            )
            .bind(&beat.leases)
            .execute(&mut *tx)
            .await?;
        }
        let rows: Vec<(String, i32, bool, Vec<Uuid>)> = sqlx::query_as(
            "SELECT s.pool, s.size, s.paused, \
               coalesce(array_agg(w.process_id) FILTER (WHERE w.process_id IS NOT NULL), '{}') \
             FROM pool_settings s LEFT JOIN pool_workers w ON w.pool = s.pool \
               AND w.stopped_at IS NULL AND NOT w.draining \
               AND w.heartbeat_at > now() - make_interval(secs => $2) \
             WHERE s.pool = ANY($1) GROUP BY s.pool, s.size, s.paused ORDER BY s.pool",
        )
        .bind(&pools)
        .bind(beat.live_within.as_secs_f64())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(rows
            .into_iter()
            .map(|(pool, size, paused, members)| Membership {
                pool,
                size: size.max(0) as u32,
                paused,
                members,
            })
            .collect())
    }

    /// Marks every pool row of a stopped process, so it is no longer counted or waited for.
    pub async fn worker_stopped(&self, process_id: Uuid) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE pool_workers SET stopped_at = now(), draining = false, running = 0, slots = 0 \
             WHERE process_id = $1",
        )
        .bind(process_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes back running jobs whose worker has not vouched for them within `silent_for`:
    /// each attempt counts as failed transiently (so a job that keeps killing its workers
    /// still ends), and the job is retried by its policy. The old lease is cleared, so a
    /// late completion from the silent worker is refused.
    pub async fn recover_lost_jobs(
        &self,
        silent_for: Duration,
    ) -> Result<Vec<Recovered>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<StartRowWithWorker> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTEMPT_COLUMNS}, j.worker_id, \
               (SELECT w.host || ' pid ' || w.pid FROM pool_workers w \
                WHERE w.process_id = j.worker_id LIMIT 1) AS worker_name \
             FROM jobs j JOIN runs r ON r.id = j.run_id \
             WHERE j.status = 'running' \
               AND coalesce(j.heartbeat_at, j.started_at) < now() - make_interval(secs => $1) \
             ORDER BY j.heartbeat_at LIMIT $2 FOR UPDATE OF j, r SKIP LOCKED"
        )))
        .bind(silent_for.as_secs_f64())
        .bind(RECOVERY_BATCH)
        .fetch_all(&mut *tx)
        .await?;

        let mut recovered = Vec::with_capacity(rows.len());
        for StartRowWithWorker { row, worker_id, worker_name } in rows {
            let lease = row.lease.unwrap_or_default();
            let cancel_requested = row.cancel_requested;
            let attempt = row.attempt(lease);
            let worker = worker_name.unwrap_or_else(|| "an unknown worker".to_owned());
            let error = format!(
                "worker {worker} stopped responding for over {} s during attempt {}",
                silent_for.as_secs(),
                attempt.attempt
            );
            let outcome = Outcome::Transient(error.clone());
            let context = AttemptContext {
                position: attempt.position,
                step_count: attempt.step_count,
                attempt: attempt.attempt,
                max_attempts: attempt.max_attempts,
                cancel_requested,
            };
            let next = lifecycle::after_attempt(context, &outcome);
            insert_log(&mut tx, &attempt, "warn", &error).await?;
            apply_next(&mut tx, &attempt, &outcome, &next).await?;
            record_attempt_end(&mut *tx, lease, AttemptEnd::Lost, Some(&error), true).await?;
            notify(&mut tx, attempt.tenant_id, attempt.run_id, "job").await?;
            recovered.push(Recovered { job_id: attempt.job_id, run_id: attempt.run_id, worker_id });
        }
        tx.commit().await?;
        Ok(recovered)
    }

    /// Gives a running attempt back to the queue at once, without counting it against the
    /// job's attempts: the worker is shutting down, the step did nothing wrong. A no-op when
    /// the attempt no longer holds its job (it finished meanwhile).
    pub async fn hand_back(
        &self,
        job_id: Uuid,
        lease: Uuid,
        worker: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<StartRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTEMPT_COLUMNS} FROM jobs j JOIN runs r ON r.id = j.run_id \
             WHERE j.id = $1 AND j.lease = $2 AND j.status = 'running' FOR UPDATE OF j, r"
        )))
        .bind(job_id)
        .bind(lease)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let attempt = row.attempt(lease);
        sqlx::query(
            "UPDATE jobs SET status = 'queued', lease = NULL, attempts = greatest(attempts - 1, 0), \
             queued_at = now() WHERE id = $1",
        )
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        let message = format!("worker {worker} shut down before the step finished; handed back");
        insert_log(&mut tx, &attempt, "warn", &message).await?;
        enqueue(&mut tx, &attempt.pool, job_id, Duration::ZERO).await?;
        record_attempt_end(&mut *tx, lease, AttemptEnd::HandedBack, Some(&message), true).await?;
        notify(&mut tx, attempt.tenant_id, attempt.run_id, "job").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Puts a queued job's task back in its queue, due now: the process that fetched it had
    /// no free slot after all. A job no longer queued needs no task.
    pub async fn defer_task(&self, job_id: Uuid, pool: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let queued: Option<bool> =
            sqlx::query_scalar("SELECT status = 'queued' FROM jobs WHERE id = $1 FOR UPDATE")
                .bind(job_id)
                .fetch_optional(&mut *tx)
                .await?;
        if queued == Some(true) {
            enqueue(&mut tx, pool, job_id, Duration::ZERO).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues again jobs that have waited longer than `waiting_for` while their queue row is
    /// finished or gone (apalis kills a row after repeated worker crashes), so no accepted
    /// run is left waiting for a task that will never come.
    pub async fn requeue_stranded(&self, waiting_for: Duration) -> Result<Vec<Uuid>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let stranded: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT j.id, j.pool FROM jobs j \
             WHERE j.status = 'queued' AND j.queued_at < now() - make_interval(secs => $1) \
               AND NOT EXISTS (SELECT 1 FROM apalis.jobs q WHERE q.id = j.task_id \
                 AND (q.status IN ('Pending', 'Queued', 'Running') \
                      OR (q.status = 'Failed' AND q.attempts < q.max_attempts))) \
             ORDER BY j.queued_at LIMIT $2 FOR UPDATE OF j SKIP LOCKED",
        )
        .bind(waiting_for.as_secs_f64())
        .bind(RECOVERY_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        for (job_id, pool) in &stranded {
            enqueue(&mut tx, pool, *job_id, Duration::ZERO).await?;
        }
        tx.commit().await?;
        Ok(stranded.into_iter().map(|(job_id, _)| job_id).collect())
    }
}

#[derive(sqlx::FromRow)]
struct StartRowWithWorker {
    #[sqlx(flatten)]
    row: StartRow,
    worker_id: Option<Uuid>,
    worker_name: Option<String>,
}
