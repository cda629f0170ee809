//! Worker pool sizes and their change record, and the live numbers per pool (waiting and
//! running jobs) that the overview and pools pages show.

use chrono::{DateTime, Utc};

use app::model::{PoolChange, PoolView};

use super::{Store, StoreError};
use crate::queue::{queue_name, POOLS};

impl Store {
    /// Configured size of every pool.
    pub async fn pool_sizes(&self) -> Result<Vec<(String, u32)>, StoreError> {
        let rows: Vec<(String, i32)> =
            sqlx::query_as("SELECT pool, size FROM pool_settings ORDER BY pool")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(pool, size)| (pool, size.max(0) as u32)).collect())
    }

    /// Sets a pool's size and records who changed it, from what, and why.
    pub async fn set_pool_size(
        &self,
        pool: &str,
        size: u32,
        actor: &str,
        note: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let old: Option<i32> =
            sqlx::query_scalar("SELECT size FROM pool_settings WHERE pool = $1 FOR UPDATE")
                .bind(pool)
                .fetch_optional(&mut *tx)
                .await?;
        let old = old.ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE pool_settings SET size = $2, updated_at = now(), updated_by = $3 \
             WHERE pool = $1",
        )
        .bind(pool)
        .bind(size as i32)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO pool_changes (pool, old_size, new_size, changed_by, note) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(pool)
        .bind(old)
        .bind(size as i32)
        .bind(actor)
        .bind(note)
        .execute(&mut *tx)
        .await?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::queue::POOLS_CHANNEL)
            .bind(pool)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Each pool with its size, waiting queue rows and running jobs.
    pub async fn pool_views(&self) -> Result<Vec<PoolView>, StoreError> {
        let queues: Vec<String> = POOLS.iter().map(|pool| queue_name(pool)).collect();
        let rows: Vec<(String, i32, DateTime<Utc>, String, i64, i64)> = sqlx::query_as(
            "SELECT s.pool, s.size, s.updated_at, s.updated_by, \
             (SELECT count(*) FROM apalis.jobs q WHERE q.job_type = 'factory-' || s.pool \
                AND q.run_at <= now() \
                AND (q.status = 'Pending' OR (q.status = 'Failed' AND q.attempts < q.max_attempts))), \
             (SELECT count(*) FROM jobs j WHERE j.pool = s.pool AND j.status = 'running') \
             FROM pool_settings s WHERE 'factory-' || s.pool = ANY($1) ORDER BY s.pool",
        )
        .bind(&queues)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, size, updated_at, updated_by, queue_depth, running)| PoolView {
                name,
                size: size.max(0) as u32,
                queue_depth,
                running,
                updated_at: Some(updated_at),
                updated_by: Some(updated_by),
            })
            .collect())
    }

    pub async fn pool_changes(&self, limit: i64) -> Result<Vec<PoolChange>, StoreError> {
        let rows: Vec<(String, i32, i32, String, DateTime<Utc>, String)> = sqlx::query_as(
            "SELECT pool, old_size, new_size, changed_by, changed_at, note FROM pool_changes \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(pool, old_size, new_size, changed_by, changed_at, note)| PoolChange {
                pool,
                old_size,
                new_size,
                changed_by,
                changed_at,
                note,
            })
            .collect())
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
}
