//! Worker pool settings and their change record, the autoscaler's decisions, and the live
//! numbers per pool (waiting and running jobs, the oldest wait, recent start latency, the
//! worker processes) that the pools page, the overview and `/metrics` show.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use app::model::{AutoscaleMode, PoolChange, PoolWorkerView, ScalingDecisionView, WorkerState};

use super::{Store, StoreError};
use crate::pools::PoolSettings;
use crate::queue::{POOLS, POOLS_CHANNEL};
use crate::reliability::histogram::quantile;

/// A pool's settings with who changed them last and when its size last moved.
#[derive(Clone, Debug)]
pub struct StoredPool {
    pub name: String,
    pub settings: PoolSettings,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub resized_at: DateTime<Utc>,
}

/// A pool's live queue: jobs due and waiting, running jobs, and the oldest wait.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QueueLoad {
    pub waiting: i64,
    pub running: i64,
    pub oldest_wait_ms: Option<i64>,
}

/// An autoscaler decision to record.
#[derive(Clone, Debug)]
pub struct ScalingRecord {
    pub old_size: u32,
    pub new_size: u32,
    pub apply: bool,
    pub load: QueueLoad,
    pub p95_start_ms: Option<f64>,
    pub reason: String,
}

#[derive(sqlx::FromRow)]
struct PoolRow {
    pool: String,
    size: i32,
    min_size: i32,
    max_size: i32,
    paused: bool,
    autoscale: String,
    target_start_ms: i32,
    cooldown_secs: i32,
    note: String,
    updated_at: DateTime<Utc>,
    updated_by: String,
    resized_at: DateTime<Utc>,
}

const POOL_COLUMNS: &str = "pool, size, min_size, max_size, paused, autoscale, target_start_ms, \
     cooldown_secs, note, updated_at, updated_by, resized_at";

impl PoolRow {
    fn into_stored(self) -> StoredPool {
        let unsigned = |value: i32| value.max(0) as u32;
        StoredPool {
            settings: PoolSettings {
                size: unsigned(self.size),
                min_size: unsigned(self.min_size),
                max_size: unsigned(self.max_size),
                paused: self.paused,
                autoscale: AutoscaleMode::parse(&self.autoscale).unwrap_or(AutoscaleMode::On),
                target_start_ms: unsigned(self.target_start_ms),
                cooldown_secs: unsigned(self.cooldown_secs),
                note: self.note,
            },
            name: self.pool,
            updated_at: self.updated_at,
            updated_by: self.updated_by,
            resized_at: self.resized_at,
        }
    }
}

impl Store {
    /// Every known pool with its settings, in name order.
    pub async fn stored_pools(&self) -> Result<Vec<StoredPool>, StoreError> {
        let rows: Vec<PoolRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {POOL_COLUMNS} FROM pool_settings WHERE pool = ANY($1) ORDER BY pool"
        )))
        .bind(POOLS.as_slice())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(PoolRow::into_stored).collect())
    }

    /// Changes a pool's settings with `change`, applied to the stored row under a lock, and
    /// records who changed what and why; workers are notified on commit. `Ok(Err(fields))`
    /// when `change` refused the input, with nothing written.
    pub async fn change_pool(
        &self,
        pool: &str,
        actor: &str,
        change: impl FnOnce(&PoolSettings) -> Result<PoolSettings, BTreeMap<String, String>>,
    ) -> Result<Result<PoolSettings, BTreeMap<String, String>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<PoolRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {POOL_COLUMNS} FROM pool_settings WHERE pool = $1 FOR UPDATE"
        )))
        .bind(pool)
        .fetch_optional(&mut *tx)
        .await?;
        let before = row.ok_or(StoreError::NotFound)?.into_stored().settings;
        let after = match change(&before) {
            Ok(after) => after,
            Err(fields) => return Ok(Err(fields)),
        };
        sqlx::query(
            "UPDATE pool_settings SET size = $2, min_size = $3, max_size = $4, paused = $5, \
             autoscale = $6, target_start_ms = $7, cooldown_secs = $8, note = $9, \
             updated_at = now(), updated_by = $10, \
             resized_at = CASE WHEN size <> $2 THEN now() ELSE resized_at END \
             WHERE pool = $1",
        )
        .bind(pool)
        .bind(after.size as i32)
        .bind(after.min_size as i32)
        .bind(after.max_size as i32)
        .bind(after.paused)
        .bind(after.autoscale.as_str())
        .bind(after.target_start_ms as i32)
        .bind(after.cooldown_secs as i32)
        .bind(&after.note)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO pool_changes (pool, old_size, new_size, changed_by, note, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(pool)
        .bind(before.size as i32)
        .bind(after.size as i32)
        .bind(actor)
        .bind(&after.note)
        .bind(serde_json::to_value(&before)?)
        .bind(serde_json::to_value(&after)?)
        .execute(&mut *tx)
        .await?;
        notify_pools(&mut tx, pool).await?;
        tx.commit().await?;
        Ok(Ok(after))
    }

    /// Records an autoscaler decision and, when `apply`, sets the size, but only if the
    /// size is still `old_size` (nobody changed it since the decision was taken). Returns
    /// whether it was recorded.
    pub async fn record_scaling(
        &self,
        pool: &str,
        record: &ScalingRecord,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let current: Option<i32> =
            sqlx::query_scalar("SELECT size FROM pool_settings WHERE pool = $1 FOR UPDATE")
                .bind(pool)
                .fetch_optional(&mut *tx)
                .await?;
        if current != Some(record.old_size as i32) {
            return Ok(false);
        }
        if record.apply {
            sqlx::query(
                "UPDATE pool_settings SET size = $2, resized_at = now() WHERE pool = $1 \
                 AND $2 BETWEEN min_size AND max_size",
            )
            .bind(pool)
            .bind(record.new_size as i32)
            .execute(&mut *tx)
            .await?;
            notify_pools(&mut tx, pool).await?;
        } else {
            // A dry run restarts the cooldown too, so it records as often as it would act.
            sqlx::query("UPDATE pool_settings SET resized_at = now() WHERE pool = $1")
                .bind(pool)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO scaling_decisions (pool, old_size, new_size, applied, waiting, running, \
             oldest_wait_ms, p95_start_ms, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(pool)
        .bind(record.old_size as i32)
        .bind(record.new_size as i32)
        .bind(record.apply)
        .bind(record.load.waiting as i32)
        .bind(record.load.running as i32)
        .bind(record.load.oldest_wait_ms)
        .bind(record.p95_start_ms)
        .bind(&record.reason)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Each pool's queue right now. Waiting counts queue rows that are due (what a free slot
    /// would take next), so a retry still backing off is not yet waiting.
    pub async fn queue_loads(&self) -> Result<HashMap<String, QueueLoad>, StoreError> {
        let rows: Vec<(String, i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT pool, waiting, oldest_wait_ms, running FROM factory_pool_load \
             WHERE pool = ANY($1)",
        )
        .bind(&POOLS[..])
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(pool, waiting, oldest_wait_ms, running)| {
                (pool, QueueLoad { waiting, running, oldest_wait_ms })
            })
            .collect())
    }

    /// P95 of first-attempt start latency per pool over the last `minutes`, from the
    /// per-minute rollup.
    pub async fn recent_start_p95(&self, minutes: u32) -> Result<HashMap<String, f64>, StoreError> {
        let rows: Vec<(String, i16, i64)> = sqlx::query_as(
            "SELECT pool, bucket, sum(jobs)::bigint FROM job_start_minutely \
             WHERE minute >= date_trunc('minute', now()) - make_interval(mins => $1) \
             GROUP BY pool, bucket",
        )
        .bind(minutes as i32)
        .fetch_all(&self.pool)
        .await?;
        let mut histograms: HashMap<String, Vec<(i16, i64)>> = HashMap::new();
        for (pool, bucket, jobs) in rows {
            histograms.entry(pool).or_default().push((bucket, jobs));
        }
        Ok(histograms
            .into_iter()
            .filter_map(|(pool, counts)| quantile(&counts, 0.95).map(|p95| (pool, p95)))
            .collect())
    }

    /// Worker processes seen in the last day, per pool: live ones first, then by host.
    pub async fn pool_workers(
        &self,
        live_within: std::time::Duration,
    ) -> Result<Vec<(String, PoolWorkerView)>, StoreError> {
        type Row = (
            String,
            String,
            i32,
            String,
            i32,
            i32,
            i64,
            DateTime<Utc>,
            DateTime<Utc>,
            bool,
            Option<DateTime<Utc>>,
            bool,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT pool, host, pid, version, slots, running, jobs_done, started_at, heartbeat_at, \
               draining, stopped_at, heartbeat_at > now() - make_interval(secs => $1) AS fresh \
             FROM pool_workers WHERE coalesce(stopped_at, heartbeat_at) > now() - interval '1 day' \
             ORDER BY pool, stopped_at IS NOT NULL, NOT (heartbeat_at > now() - make_interval(secs => $1)), \
               host, pid",
        )
        .bind(live_within.as_secs_f64())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    pool,
                    host,
                    pid,
                    version,
                    slots,
                    running,
                    jobs_done,
                    started_at,
                    heartbeat_at,
                    draining,
                    stopped_at,
                    fresh,
                )| {
                    let state = match (stopped_at, fresh, draining) {
                        (Some(_), _, _) => WorkerState::Stopped,
                        (None, false, _) => WorkerState::Lost,
                        (None, true, true) => WorkerState::Draining,
                        (None, true, false) => WorkerState::Live,
                    };
                    // A lost or stopped process holds nothing any more: its jobs are taken
                    // over, so its last reported slots and running jobs would mislead.
                    let holds = matches!(state, WorkerState::Live | WorkerState::Draining);
                    let held = |count: i32| if holds { count.max(0) as u32 } else { 0 };
                    let view = PoolWorkerView {
                        host,
                        pid,
                        version,
                        slots: held(slots),
                        running: held(running),
                        jobs_done,
                        started_at,
                        heartbeat_at,
                        state,
                    };
                    (pool, view)
                },
            )
            .collect())
    }

    /// The latest admin changes to any pool, newest first.
    pub async fn pool_changes(&self, limit: i64) -> Result<Vec<PoolChange>, StoreError> {
        type Row = (
            String,
            i32,
            i32,
            String,
            DateTime<Utc>,
            String,
            Option<serde_json::Value>,
            Option<serde_json::Value>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT pool, old_size, new_size, changed_by, changed_at, note, before, after \
             FROM pool_changes ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(pool, old_size, new_size, changed_by, changed_at, note, before, after)| {
                let parse = |value: &Option<serde_json::Value>| {
                    value
                        .clone()
                        .and_then(|value| serde_json::from_value::<PoolSettings>(value).ok())
                };
                let changes = match (parse(&before), parse(&after)) {
                    (Some(old), Some(new)) => new.describe_changes(&old),
                    // Rows from before settings were recorded whole name the size only.
                    _ => vec![format!("size {old_size} → {new_size}")],
                };
                PoolChange { pool, changed_by, changed_at, note, changes, before, after }
            })
            .collect())
    }

    /// The latest autoscaler decisions, newest first.
    pub async fn scaling_decisions(
        &self,
        limit: i64,
    ) -> Result<Vec<ScalingDecisionView>, StoreError> {
        type Row =
            (String, DateTime<Utc>, i32, i32, bool, i32, i32, Option<i64>, Option<f64>, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT pool, decided_at, old_size, new_size, applied, waiting, running, \
             oldest_wait_ms, p95_start_ms, reason FROM scaling_decisions ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(
                    pool,
                    decided_at,
                    old_size,
                    new_size,
                    applied,
                    waiting,
                    running,
                    oldest_wait_ms,
                    p95_start_ms,
                    reason,
                )| {
                    ScalingDecisionView {
                        pool,
                        decided_at,
                        old_size: old_size.max(0) as u32,
                        new_size: new_size.max(0) as u32,
                        applied,
                        waiting: waiting.into(),
                        running: running.into(),
                        oldest_wait_ms,
                        p95_start_ms,
                        reason,
                    }
                },
            )
            .collect())
    }

    /// Queue samples and start latency per pool over the last `hours`, in steps of
    /// `step_minutes`: (pool, step start, average waiting, average running, start
    /// histogram).
    pub async fn pool_history(
        &self,
        hours: u32,
        step_minutes: u32,
    ) -> Result<Vec<PoolHistoryStep>, StoreError> {
        let depth: Vec<(String, DateTime<Utc>, f64, f64)> = sqlx::query_as(
            "SELECT pool, date_bin(make_interval(mins => $2), minute, 'epoch') AS step, \
               avg(waiting)::float8, avg(running)::float8 FROM queue_samples \
             WHERE minute >= now() - make_interval(hours => $1) GROUP BY pool, step ORDER BY step",
        )
        .bind(hours as i32)
        .bind(step_minutes as i32)
        .fetch_all(&self.pool)
        .await?;
        let starts: Vec<(String, DateTime<Utc>, i16, i64)> = sqlx::query_as(
            "SELECT pool, date_bin(make_interval(mins => $2), minute, 'epoch') AS step, bucket, \
               sum(jobs)::bigint FROM job_start_minutely \
             WHERE minute >= now() - make_interval(hours => $1) GROUP BY pool, step, bucket",
        )
        .bind(hours as i32)
        .bind(step_minutes as i32)
        .fetch_all(&self.pool)
        .await?;

        let mut steps: BTreeMap<(String, DateTime<Utc>), PoolHistoryStep> = BTreeMap::new();
        for (pool, at, waiting, running) in depth {
            let step =
                steps.entry((pool.clone(), at)).or_insert_with(|| PoolHistoryStep::new(pool, at));
            step.waiting = waiting;
            step.running = running;
        }
        for (pool, at, bucket, jobs) in starts {
            steps
                .entry((pool.clone(), at))
                .or_insert_with(|| PoolHistoryStep::new(pool, at))
                .starts
                .push((bucket, jobs));
        }
        Ok(steps.into_values().collect())
    }

    /// Deletes finished queue rows older than the retention, a batch at a time.
    pub async fn prune_queue(&self, retention_days: u32, batch: i64) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM apalis.jobs WHERE id IN (SELECT id FROM apalis.jobs \
             WHERE status IN ('Done', 'Killed') AND done_at < now() - make_interval(days => $1) \
             LIMIT $2)",
        )
        .bind(retention_days as i32)
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }

    /// Deletes job log lines, attempt records and scaling decisions older than
    /// `retention_days`, and worker rows gone for a day, `batch` rows per statement at a
    /// time, so the hot tables stay small without long locks.
    pub async fn prune_history(&self, retention_days: u32, batch: i64) -> Result<u64, StoreError> {
        let mut total = 0;
        for (statement, days) in [
            (
                "DELETE FROM job_logs WHERE id IN (SELECT id FROM job_logs \
                 WHERE at < now() - make_interval(days => $1) LIMIT $2)",
                retention_days,
            ),
            (
                "DELETE FROM job_attempts WHERE lease IN (SELECT lease FROM job_attempts \
                 WHERE started_at < now() - make_interval(days => $1) LIMIT $2)",
                retention_days,
            ),
            (
                "DELETE FROM scaling_decisions WHERE id IN (SELECT id FROM scaling_decisions \
                 WHERE decided_at < now() - make_interval(days => $1) LIMIT $2)",
                retention_days,
            ),
            (
                "DELETE FROM pool_workers WHERE (process_id, pool) IN (SELECT process_id, pool \
                 FROM pool_workers \
                 WHERE coalesce(stopped_at, heartbeat_at) < now() - make_interval(days => $1) \
                 LIMIT $2)",
                1,
            ),
        ] {
            loop {
                let done = sqlx::query(statement)
                    .bind(days as i32)
                    .bind(batch)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                total += done;
                if done < batch as u64 {
                    break;
                }
            }
        }
        Ok(total)
    }
}

/// One step of a pool's recent history.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolHistoryStep {
    pub pool: String,
    pub at: DateTime<Utc>,
    pub waiting: f64,
    pub running: f64,
    /// Start latency histogram of jobs started in the step.
    pub starts: Vec<(i16, i64)>,
}

impl PoolHistoryStep {
    fn new(pool: String, at: DateTime<Utc>) -> PoolHistoryStep {
        PoolHistoryStep { pool, at, waiting: 0.0, running: 0.0, starts: Vec::new() }
    }
}

async fn notify_pools(conn: &mut sqlx::PgConnection, pool: &str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(POOLS_CHANNEL).bind(pool).execute(conn).await?;
    Ok(())
}
