//! The read side of reliability: uptime, run and latency numbers over a window, read from
//! the rollups, plus the down and no-data spans of a period for the SLA maths.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use app::model::{DayUptimeView, LatencyView, UptimeWindow};

use super::{Store, StoreError};
use crate::reliability::histogram::quantile;

/// Finished runs of a window per run type, with their duration histogram.
#[derive(Clone, Debug, Default)]
pub struct RunTypeCounts {
    pub run_type: String,
    pub succeeded: i64,
    pub failed: i64,
    pub within_expected: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
}

/// A span of whole minutes, `[start, end)`.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

impl Store {
    /// Up, down and no-data minutes of `[from, to)` (cut at now).
    pub async fn uptime_window(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<UptimeWindow, StoreError> {
        let to = to.min(Utc::now());
        let minutes = ((to - from).num_seconds() / 60).max(0);
        let (up, down): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE failures = 0), count(*) FILTER (WHERE failures > 0) \
             FROM uptime_minutes WHERE minute >= $1 AND minute < $2",
        )
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        let no_data = (minutes - up - down).max(0);
        Ok(UptimeWindow {
            minutes,
            up_minutes: up,
            down_minutes: down,
            no_data_minutes: no_data,
            uptime_pct: (minutes > 0).then(|| up as f64 * 100.0 / minutes as f64),
        })
    }

    /// Bad (down or no-data) and total minutes over the last `minutes`, for burn rates.
    pub async fn uptime_bad_minutes(&self, minutes: i64) -> Result<(i64, i64), StoreError> {
        let (up,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM uptime_minutes WHERE failures = 0 \
             AND minute >= date_trunc('minute', now()) - make_interval(mins => $1::int) \
             AND minute < date_trunc('minute', now())",
        )
        .bind(minutes as i32)
        .fetch_one(&self.pool)
        .await?;
        Ok((minutes - up, minutes))
    }

    /// Failed and counted runs that ended over the last `minutes`, for burn rates.
    pub async fn run_bad_minutes(
        &self,
        tenant: Option<Uuid>,
        minutes: i64,
    ) -> Result<(i64, i64), StoreError> {
        let (failed, counted): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT sum(failed), sum(succeeded + failed) FROM run_minutely \
             WHERE minute >= date_trunc('minute', now()) - make_interval(mins => $1::int) \
             AND ($2::uuid IS NULL OR tenant_id = $2)",
        )
        .bind(minutes as i32)
        .bind(tenant)
        .fetch_one(&self.pool)
        .await?;
        Ok((failed.unwrap_or(0), counted.unwrap_or(0)))
    }

    /// The first minute ever measured: before it there is no service to account for.
    pub async fn measuring_since(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT min(minute) FROM uptime_minutes")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Days of `[from, to]` with their up, down and no-data minutes (today so far).
    pub async fn uptime_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DayUptimeView>, StoreError> {
        let rows: Vec<(NaiveDate, i32, i32, i64)> = sqlx::query_as(
            "SELECT d::date, coalesce(u.up_minutes, 0), coalesce(u.down_minutes, 0), \
               (extract(epoch FROM least(d + interval '1 day', now()) - d) / 60)::bigint \
             FROM generate_series($1::date::timestamptz, $2::date::timestamptz, \
               interval '1 day') d \
             LEFT JOIN uptime_days u ON u.day = d::date \
             WHERE d < now() ORDER BY 1",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(day, up, down, elapsed)| DayUptimeView {
                day,
                up_minutes: i64::from(up),
                down_minutes: i64::from(down),
                no_data_minutes: (elapsed - i64::from(up) - i64::from(down)).max(0),
                excluded_minutes: 0,
            })
            .collect())
    }

    /// The down spans and the no-data spans of `[from, to)`, each as merged whole minutes.
    pub async fn down_and_gaps(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<Span>, Vec<Span>), StoreError> {
        // Islands of consecutive down minutes: a minute starts a new island unless the one
        // before it was down too.
        let down: Vec<Span> = sqlx::query_as(
            "SELECT min(minute), max(minute) + interval '1 minute' FROM ( \
               SELECT minute, minute - (row_number() OVER (ORDER BY minute)) \
                 * interval '1 minute' AS island \
               FROM uptime_minutes WHERE failures > 0 AND minute >= $1 AND minute < $2) m \
             GROUP BY island ORDER BY 1",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        // Gaps between measured minutes, and before the first and after the last one.
        let gaps: Vec<Span> = sqlx::query_as(
            "SELECT gap_start, gap_end FROM ( \
               SELECT coalesce(lag(minute) OVER w + interval '1 minute', $1) AS gap_start, \
                 minute AS gap_end \
               FROM (SELECT minute FROM uptime_minutes WHERE minute >= $1 AND minute < $2 \
                     UNION ALL SELECT $2) m WINDOW w AS (ORDER BY minute)) g \
             WHERE gap_end > gap_start ORDER BY 1",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok((down, gaps))
    }

    /// Succeeded, failed and within-expected runs per run type ending in `[from, to)`, with
    /// P50/P95 durations of the succeeded ones. Hours are whole: a window is widened to them.
    pub async fn run_type_counts(
        &self,
        tenant: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RunTypeCounts>, StoreError> {
        let counts: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT run_type, sum(succeeded)::bigint, sum(failed)::bigint, \
               sum(within_expected)::bigint FROM run_hourly \
             WHERE hour >= date_trunc('hour', $1) AND hour < $2 \
             AND ($3::uuid IS NULL OR tenant_id = $3) GROUP BY run_type ORDER BY run_type",
        )
        .bind(from)
        .bind(to)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        let buckets: Vec<(String, i16, i64)> = sqlx::query_as(
            "SELECT run_type, bucket, sum(runs)::bigint FROM run_duration_hourly \
             WHERE hour >= date_trunc('hour', $1) AND hour < $2 \
             AND ($3::uuid IS NULL OR tenant_id = $3) GROUP BY run_type, bucket",
        )
        .bind(from)
        .bind(to)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(counts
            .into_iter()
            .map(|(run_type, succeeded, failed, within_expected)| {
                let histogram = histogram_of(&buckets, &run_type);
                RunTypeCounts {
                    p50_ms: quantile(&histogram, 0.5),
                    p95_ms: quantile(&histogram, 0.95),
                    run_type,
                    succeeded,
                    failed,
                    within_expected,
                }
            })
            .collect())
    }

    /// Job start latency P50/P95 per pool over `[from, to)` (whole hours).
    pub async fn start_latency(
        &self,
        tenant: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LatencyView>, StoreError> {
        let buckets: Vec<(String, i16, i64)> = sqlx::query_as(
            "SELECT pool, bucket, sum(jobs)::bigint FROM job_start_hourly \
             WHERE hour >= date_trunc('hour', $1) AND hour < $2 \
             AND ($3::uuid IS NULL OR tenant_id = $3) GROUP BY pool, bucket ORDER BY pool",
        )
        .bind(from)
        .bind(to)
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        Ok(latency_views(&buckets))
    }

    /// API response time P50/P95 per route over `[from, to)` (whole hours).
    pub async fn api_latency(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<LatencyView>, StoreError> {
        let buckets: Vec<(String, i16, i64)> = sqlx::query_as(
            "SELECT route, bucket, sum(requests)::bigint FROM api_latency_hourly \
             WHERE hour >= date_trunc('hour', $1) AND hour < $2 \
             GROUP BY route, bucket ORDER BY route",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(latency_views(&buckets))
    }

    /// Per day (or hour) of `[from, to)`: succeeded and counted runs, and per run type the
    /// P50/P95 duration, for the charts over time.
    pub async fn run_series(
        &self,
        tenant: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        step: &str,
    ) -> Result<RunSeries, StoreError> {
        let success: Vec<(DateTime<Utc>, i64, i64)> = sqlx::query_as(
            "SELECT date_trunc($4, hour), sum(succeeded)::bigint, sum(succeeded + failed)::bigint \
             FROM run_hourly WHERE hour >= date_trunc('hour', $1) AND hour < $2 \
             AND ($3::uuid IS NULL OR tenant_id = $3) GROUP BY 1 ORDER BY 1",
        )
        .bind(from)
        .bind(to)
        .bind(tenant)
        .bind(step)
        .fetch_all(&self.pool)
        .await?;
        let durations: Vec<(DateTime<Utc>, String, i16, i64)> = sqlx::query_as(
            "SELECT date_trunc($4, hour), run_type, bucket, sum(runs)::bigint \
             FROM run_duration_hourly WHERE hour >= date_trunc('hour', $1) AND hour < $2 \
             AND ($3::uuid IS NULL OR tenant_id = $3) GROUP BY 1, 2, 3 ORDER BY 1, 2",
        )
        .bind(from)
        .bind(to)
        .bind(tenant)
        .bind(step)
        .fetch_all(&self.pool)
        .await?;
        let starts: Vec<(DateTime<Utc>, String, i16, i64)> = sqlx::query_as(
            "SELECT date_trunc($4, hour), pool, bucket, sum(jobs)::bigint \
             FROM job_start_hourly WHERE hour >= date_trunc('hour', $1) AND hour < $2 \
             AND ($3::uuid IS NULL OR tenant_id = $3) GROUP BY 1, 2, 3 ORDER BY 1, 2",
        )
        .bind(from)
        .bind(to)
        .bind(tenant)
        .bind(step)
        .fetch_all(&self.pool)
        .await?;
        let depth: Vec<(DateTime<Utc>, String, f64)> = sqlx::query_as(
            "SELECT date_trunc($3, minute), pool, avg(waiting)::float8 FROM queue_samples \
             WHERE minute >= $1 AND minute < $2 GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(from)
        .bind(to)
        .bind(step)
        .fetch_all(&self.pool)
        .await?;
        Ok(RunSeries { success, durations, starts, depth })
    }
}

/// Raw series for the charts over time; `charts` turns them into lines.
pub struct RunSeries {
    /// (time, succeeded, counted).
    pub success: Vec<(DateTime<Utc>, i64, i64)>,
    /// (time, run type, bucket, runs).
    pub durations: Vec<(DateTime<Utc>, String, i16, i64)>,
    /// (time, pool, bucket, jobs).
    pub starts: Vec<(DateTime<Utc>, String, i16, i64)>,
    /// (time, pool, average waiting).
    pub depth: Vec<(DateTime<Utc>, String, f64)>,
}

fn histogram_of(buckets: &[(String, i16, i64)], name: &str) -> Vec<(i16, i64)> {
    buckets
        .iter()
        .filter(|(key, _, _)| key == name)
        .map(|(_, bucket, count)| (*bucket, *count))
        .collect()
}

fn latency_views(buckets: &[(String, i16, i64)]) -> Vec<LatencyView> {
    let mut names: Vec<&str> = buckets.iter().map(|(name, _, _)| name.as_str()).collect();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let histogram = histogram_of(buckets, name);
            LatencyView {
                name: name.to_owned(),
                count: histogram.iter().map(|(_, count)| count).sum(),
                p50_ms: quantile(&histogram, 0.5),
                p95_ms: quantile(&histogram, 0.95),
            }
        })
        .collect()
}
