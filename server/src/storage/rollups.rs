//! The write side of reliability: probe samples, leases for singleton work, and the rollups
//! updated as data arrives (a run ending, a job starting, a batch of API timings, a queue
//! sample), so that reading a month never scans raw history.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Store, StoreError};
use crate::reliability::histogram::bucket_of;

/// One request of the prober.
#[derive(Clone, Debug)]
pub struct ProbeSample {
    pub at: DateTime<Utc>,
    pub up: bool,
    pub latency_ms: i32,
    pub error: Option<String>,
}

impl Store {
    /// Takes or renews the lease `name` for `holder`: true while `holder` holds it. A lease
    /// that has expired (its holder died or stalled) goes to whoever asks next.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let held: Option<String> = sqlx::query_scalar(
            "INSERT INTO leases (name, holder, expires_at) \
             VALUES ($1, $2, now() + make_interval(secs => $3)) \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, \
               expires_at = EXCLUDED.expires_at, \
               acquired_at = CASE WHEN leases.holder = EXCLUDED.holder \
                             THEN leases.acquired_at ELSE now() END \
             WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now() \
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(ttl.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        Ok(held.is_some())
    }

    /// Gives a lease up at once (on shutdown), so another process need not wait it out.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a probe sample and folds it into the minute and day rollups.
    pub async fn record_probe(&self, prober: &str, sample: &ProbeSample) -> Result<(), StoreError> {
        let minute = sample.at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(sample.at);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO probe_samples (at, up, latency_ms, error, prober) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sample.at)
        .bind(sample.up)
        .bind(sample.latency_ms.max(0))
        .bind(sample.error.as_deref())
        .bind(prober)
        .execute(&mut *tx)
        .await?;

        let before: Option<i32> =
            sqlx::query_scalar("SELECT failures FROM uptime_minutes WHERE minute = $1 FOR UPDATE")
                .bind(minute)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO uptime_minutes (minute, probes, failures) VALUES ($1, 1, $2) \
             ON CONFLICT (minute) DO UPDATE SET probes = uptime_minutes.probes + 1, \
               failures = uptime_minutes.failures + EXCLUDED.failures",
        )
        .bind(minute)
        .bind(i32::from(!sample.up))
        .execute(&mut *tx)
        .await?;

        // The day's counts change when a minute first appears, or turns from up to down.
        let (up_delta, down_delta) = match (before, sample.up) {
            (None, true) => (1, 0),
            (None, false) => (0, 1),
            (Some(0), false) => (-1, 1),
            _ => (0, 0),
        };
        if (up_delta, down_delta) != (0, 0) {
            sqlx::query(
                "INSERT INTO uptime_days (day, up_minutes, down_minutes) VALUES ($1, $2, $3) \
                 ON CONFLICT (day) DO UPDATE SET \
                   up_minutes = uptime_days.up_minutes + EXCLUDED.up_minutes, \
                   down_minutes = uptime_days.down_minutes + EXCLUDED.down_minutes",
            )
            .bind(minute.date_naive())
            .bind(up_delta)
            .bind(down_delta)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Rebuilds the uptime rollups of `[from, to)` from the probe samples, after a bulk load
    /// (demo history, benchmarks). Whole UTC days are rebuilt.
    pub async fn rebuild_uptime(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let statements = [
            "DELETE FROM uptime_minutes WHERE minute >= $1::date AND minute < $2::date + 1",
            "DELETE FROM uptime_days WHERE day >= $1::date AND day < $2::date + 1",
            "INSERT INTO uptime_minutes (minute, probes, failures) \
             SELECT date_trunc('minute', at), count(*), count(*) FILTER (WHERE NOT up) \
             FROM probe_samples WHERE at >= $1::date AND at < $2::date + 1 GROUP BY 1",
            "INSERT INTO uptime_days (day, up_minutes, down_minutes) \
             SELECT minute::date, count(*) FILTER (WHERE failures = 0), \
               count(*) FILTER (WHERE failures > 0) \
             FROM uptime_minutes WHERE minute >= $1::date AND minute < $2::date + 1 GROUP BY 1",
        ];
        for statement in statements {
            sqlx::query(statement)
                .bind(from.date_naive())
                .bind(to.date_naive())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Rebuilds every run and job-start rollup from the runs and jobs tables, after a bulk
    /// load (demo history, benchmarks).
    pub async fn rebuild_run_rollups(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let statements = [
            "TRUNCATE run_hourly, run_minutely, run_duration_hourly, job_start_hourly",
            "INSERT INTO run_hourly (tenant_id, hour, run_type, succeeded, failed, \
               within_expected) \
             SELECT tenant_id, date_trunc('hour', finished_at), run_type, \
               count(*) FILTER (WHERE status = 'succeeded'), \
               count(*) FILTER (WHERE status = 'failed'), \
               count(*) FILTER (WHERE status = 'succeeded' AND \
                 finished_at - created_at <= make_interval(secs => expected_duration_ms / 1000.0)) \
             FROM runs WHERE status IN ('succeeded', 'failed') GROUP BY 1, 2, 3",
            "INSERT INTO run_minutely (tenant_id, minute, succeeded, failed) \
             SELECT tenant_id, date_trunc('minute', finished_at), \
               count(*) FILTER (WHERE status = 'succeeded'), \
               count(*) FILTER (WHERE status = 'failed') \
             FROM runs WHERE status IN ('succeeded', 'failed') \
               AND finished_at >= now() - interval '4 days' GROUP BY 1, 2",
        ];
        for statement in statements {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        // The bucket formula matches `histogram::bucket_of`: floor(ln(ms) / ln(1.1)) + 1.
        let bucket = |ms: &str| {
            format!(
                "CASE WHEN {ms} < 1 THEN 0 ELSE \
                 least(floor(ln({ms}) / ln(1.1))::int + 1, {}) END",
                crate::reliability::histogram::MAX_BUCKET
            )
        };
        let durations = format!(
            "INSERT INTO run_duration_hourly (tenant_id, hour, run_type, bucket, runs) \
             SELECT tenant_id, date_trunc('hour', finished_at), run_type, {}, count(*) \
             FROM runs WHERE status = 'succeeded' GROUP BY 1, 2, 3, 4",
            bucket("(extract(epoch FROM finished_at - created_at) * 1000)")
        );
        let starts = format!(
            "INSERT INTO job_start_hourly (tenant_id, hour, pool, bucket, jobs) \
             SELECT tenant_id, date_trunc('hour', started_at), pool, {}, count(*) \
             FROM jobs WHERE started_at IS NOT NULL AND queued_at IS NOT NULL \
             GROUP BY 1, 2, 3, 4",
            bucket("(extract(epoch FROM started_at - queued_at) * 1000)")
        );
        for statement in [durations, starts] {
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a batch of API response times, `(hour, route, bucket, requests)`.
    pub async fn record_api_latency(
        &self,
        batch: &[(DateTime<Utc>, String, i16, i32)],
    ) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let hours: Vec<DateTime<Utc>> = batch.iter().map(|row| row.0).collect();
        let routes: Vec<&str> = batch.iter().map(|row| row.1.as_str()).collect();
        let buckets: Vec<i16> = batch.iter().map(|row| row.2).collect();
        let requests: Vec<i32> = batch.iter().map(|row| row.3).collect();
        sqlx::query(
            "INSERT INTO api_latency_hourly (hour, route, bucket, requests) \
             SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::smallint[], $4::int[]) \
             ON CONFLICT (hour, route, bucket) DO UPDATE \
             SET requests = api_latency_hourly.requests + EXCLUDED.requests",
        )
        .bind(hours)
        .bind(routes)
        .bind(buckets)
        .bind(requests)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records each pool's waiting and running jobs for the current minute.
    pub async fn sample_queues(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO queue_samples (minute, pool, waiting, running) \
             SELECT date_trunc('minute', now()), p.pool, \
               count(j.id) FILTER (WHERE j.status = 'queued'), \
               count(j.id) FILTER (WHERE j.status = 'running') \
             FROM pool_settings p LEFT JOIN jobs j ON j.pool = p.pool \
               AND j.status IN ('queued', 'running') \
             GROUP BY p.pool \
             ON CONFLICT (minute, pool) DO UPDATE SET waiting = EXCLUDED.waiting, \
               running = EXCLUDED.running",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes raw samples and fine-grained rollups past their retention, in small batches.
    pub async fn prune_reliability(&self, probe_retention_days: u32) -> Result<u64, StoreError> {
        let mut total = 0;
        for (statement, days) in [
            (
                "DELETE FROM probe_samples WHERE id IN (SELECT id FROM probe_samples \
                 WHERE at < now() - make_interval(days => $1) LIMIT 5000)",
                probe_retention_days,
            ),
            (
                "DELETE FROM run_minutely WHERE (tenant_id, minute) IN (SELECT tenant_id, minute \
                 FROM run_minutely WHERE minute < now() - make_interval(days => $1) LIMIT 5000)",
                FINE_ROLLUP_DAYS,
            ),
            (
                "DELETE FROM queue_samples WHERE (minute, pool) IN (SELECT minute, pool \
                 FROM queue_samples WHERE minute < now() - make_interval(days => $1) LIMIT 5000)",
                probe_retention_days,
            ),
            (
                "DELETE FROM job_start_minutely WHERE (minute, pool, bucket) IN (SELECT minute, \
                 pool, bucket FROM job_start_minutely \
                 WHERE minute < now() - make_interval(days => $1) LIMIT 5000)",
                FINE_ROLLUP_DAYS,
            ),
        ] {
            loop {
                let done = sqlx::query(statement)
                    .bind(days as i32)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                total += done;
                if done == 0 {
                    break;
                }
            }
        }
        Ok(total)
    }
}

/// Days per-minute rollups are kept; longer views read the hourly ones.
const FINE_ROLLUP_DAYS: u32 = 4;

/// Folds a run that just ended `succeeded` or `failed` into the run rollups; called in the
/// transaction that ends it.
pub(super) async fn run_ended(conn: &mut PgConnection, run_id: Uuid) -> Result<(), StoreError> {
    type EndedRun = (Uuid, String, String, DateTime<Utc>, DateTime<Utc>, i64);
    let row: Option<EndedRun> = sqlx::query_as(
        "SELECT tenant_id, run_type, status, created_at, finished_at, expected_duration_ms \
         FROM runs WHERE id = $1 AND status IN ('succeeded', 'failed') \
         AND finished_at IS NOT NULL",
    )
    .bind(run_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((tenant_id, run_type, status, created_at, finished_at, expected_ms)) = row else {
        return Ok(());
    };
    let succeeded = status == "succeeded";
    let duration_ms = (finished_at - created_at).num_milliseconds().max(0);
    let within = succeeded && duration_ms <= expected_ms;
    let hour = finished_at.duration_trunc(TimeDelta::hours(1)).unwrap_or(finished_at);
    let minute = finished_at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(finished_at);

    sqlx::query(
        "INSERT INTO run_hourly (tenant_id, hour, run_type, succeeded, failed, within_expected) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (tenant_id, hour, run_type) DO UPDATE SET \
           succeeded = run_hourly.succeeded + EXCLUDED.succeeded, \
           failed = run_hourly.failed + EXCLUDED.failed, \
           within_expected = run_hourly.within_expected + EXCLUDED.within_expected",
    )
    .bind(tenant_id)
    .bind(hour)
    .bind(&run_type)
    .bind(i32::from(succeeded))
    .bind(i32::from(!succeeded))
    .bind(i32::from(within))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO run_minutely (tenant_id, minute, succeeded, failed) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, minute) DO UPDATE SET \
           succeeded = run_minutely.succeeded + EXCLUDED.succeeded, \
           failed = run_minutely.failed + EXCLUDED.failed",
    )
    .bind(tenant_id)
    .bind(minute)
    .bind(i32::from(succeeded))
    .bind(i32::from(!succeeded))
    .execute(&mut *conn)
    .await?;
    if succeeded {
        sqlx::query(
            "INSERT INTO run_duration_hourly (tenant_id, hour, run_type, bucket, runs) \
             VALUES ($1, $2, $3, $4, 1) \
             ON CONFLICT (tenant_id, hour, run_type, bucket) DO UPDATE SET \
               runs = run_duration_hourly.runs + 1",
        )
        .bind(tenant_id)
        .bind(hour)
        .bind(&run_type)
        .bind(bucket_of(duration_ms as f64))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Folds a job's start latency (queued to first attempt) into its pool's rollup.
pub(super) async fn job_started(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    pool: &str,
    queued_at: DateTime<Utc>,
    started_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let latency_ms = (started_at - queued_at).num_milliseconds().max(0);
    let hour = started_at.duration_trunc(TimeDelta::hours(1)).unwrap_or(started_at);
    sqlx::query(
        "INSERT INTO job_start_hourly (tenant_id, hour, pool, bucket, jobs) \
         VALUES ($1, $2, $3, $4, 1) \
         ON CONFLICT (tenant_id, hour, pool, bucket) DO UPDATE SET \
           jobs = job_start_hourly.jobs + 1",
    )
    .bind(tenant_id)
    .bind(hour)
    .bind(pool)
    .bind(bucket_of(latency_ms as f64))
    .execute(&mut *conn)
    .await?;
    let minute = started_at.duration_trunc(TimeDelta::minutes(1)).unwrap_or(started_at);
    sqlx::query(
        "INSERT INTO job_start_minutely (minute, pool, bucket, jobs) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (minute, pool, bucket) DO UPDATE SET jobs = job_start_minutely.jobs + 1",
    )
    .bind(minute)
    .bind(pool)
    .bind(bucket_of(latency_ms as f64))
    .execute(conn)
    .await?;
    Ok(())
}
