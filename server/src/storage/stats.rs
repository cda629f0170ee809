//! Run success rate (rejected and cancelled runs excluded) and exact P50/P95 durations per
//! run type over the last days, scanned from the raw `runs` table. Pages read the rollups
//! instead; these scans are the baseline the reliability benchmark compares them with, and
//! the tests' cross-check that the rollups agree with the rows they summarise.

use app::model::RunTypeDurations;

use super::{Store, StoreError};
use crate::auth::Scope;

/// Success over the window: (succeeded, counted).
pub struct RunTotals {
    pub succeeded: i64,
    pub counted: i64,
}

impl Store {
    pub async fn run_totals(&self, scope: &Scope, days: u32) -> Result<RunTotals, StoreError> {
        let (succeeded, counted): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status = 'succeeded'), count(*) FROM runs \
             WHERE status IN ('succeeded', 'failed') \
             AND finished_at >= now() - make_interval(days => $1) \
             AND ($2::uuid IS NULL OR tenant_id = $2)",
        )
        .bind(days as i32)
        .bind(scope.tenant_id())
        .fetch_one(&self.pool)
        .await?;
        Ok(RunTotals { succeeded, counted })
    }

    /// How many runs are in each status, across tenants (for `/metrics`).
    pub async fn runs_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as("SELECT status, count(*) FROM runs GROUP BY status ORDER BY status")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn run_durations(
        &self,
        scope: &Scope,
        days: u32,
    ) -> Result<Vec<RunTypeDurations>, StoreError> {
        let rows: Vec<(String, i64, Option<f64>, Option<f64>)> = sqlx::query_as(
            "SELECT run_type, count(*), \
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), \
             percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) \
             FROM (SELECT run_type, \
                   extract(epoch FROM finished_at - created_at) * 1000 AS ms \
                   FROM runs WHERE status = 'succeeded' \
                   AND finished_at >= now() - make_interval(days => $1) \
                   AND ($2::uuid IS NULL OR tenant_id = $2)) d \
             GROUP BY run_type ORDER BY run_type",
        )
        .bind(days as i32)
        .bind(scope.tenant_id())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(run_type, runs, p50_ms, p95_ms)| RunTypeDurations {
                run_type,
                runs,
                p50_ms,
                p95_ms,
            })
            .collect())
    }
}
