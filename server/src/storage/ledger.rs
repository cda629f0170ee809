//! The exclusion ledger (maintenance windows and incidents) and the tenants it may name.
//! Every change writes a record of who, when, why, and the entry before and after, in the
//! transaction that makes it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use app::model::{Classification, ExclusionChange, ExclusionKind, ExclusionView, TenantOption};

use super::{Store, StoreError};

/// A checked ledger entry, ready to store: tenant slugs already resolved to ids.
#[derive(Clone, Debug)]
pub struct LedgerEntry {
    pub kind: ExclusionKind,
    pub classification: Classification,
    pub title: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub tenant_ids: Vec<Uuid>,
}

type ExclusionRow = (
    Uuid,
    String,
    String,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Vec<String>,
    String,
    DateTime<Utc>,
    String,
    DateTime<Utc>,
    bool,
);

const EXCLUSION_COLUMNS: &str = "e.id, e.kind, e.classification, e.title, e.reason, \
     e.starts_at, e.ends_at, \
     coalesce((SELECT array_agg(t.slug ORDER BY t.slug) FROM tenants t \
               WHERE t.id = ANY(e.tenant_ids)), '{}') AS tenants, \
     e.created_by, e.created_at, e.updated_by, e.updated_at, e.deleted_at IS NOT NULL";

impl Store {
    /// Every tenant, for pickers and the month's list of reports.
    pub async fn tenants(&self) -> Result<Vec<(Uuid, TenantOption)>, StoreError> {
        let rows: Vec<(Uuid, String, String)> =
            sqlx::query_as("SELECT id, slug, name FROM tenants ORDER BY slug")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id, slug, name)| (id, TenantOption { slug, name })).collect())
    }

    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<(Uuid, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT id, name FROM tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The ledger, newest first, withdrawn entries included.
    pub async fn exclusions(&self, limit: i64) -> Result<Vec<ExclusionView>, StoreError> {
        let sql = format!(
            "SELECT {EXCLUSION_COLUMNS} FROM exclusions e ORDER BY e.starts_at DESC, e.id LIMIT $1"
        );
        let rows: Vec<ExclusionRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(exclusion_view).collect())
    }

    pub async fn exclusion(&self, id: Uuid) -> Result<Option<ExclusionView>, StoreError> {
        let sql = format!("SELECT {EXCLUSION_COLUMNS} FROM exclusions e WHERE e.id = $1");
        let row: Option<ExclusionRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(exclusion_view))
    }

    /// Entries in force that overlap `[from, to)` and apply to `tenant` (entries naming no
    /// tenant apply to all), whatever their classification.
    pub async fn exclusions_for(
        &self,
        tenant: Option<Uuid>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ExclusionView>, StoreError> {
        let sql = format!(
            "SELECT {EXCLUSION_COLUMNS} FROM exclusions e WHERE e.deleted_at IS NULL \
             AND e.starts_at < $2 AND e.ends_at > $1 \
             AND (cardinality(e.tenant_ids) = 0 OR $3::uuid IS NULL OR $3 = ANY(e.tenant_ids)) \
             ORDER BY e.starts_at, e.id"
        );
        let rows: Vec<ExclusionRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(from)
            .bind(to)
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(exclusion_view).collect())
    }

    /// Planned maintenance that has not ended, for `tenant` (or all), soonest first.
    pub async fn upcoming_maintenance(
        &self,
        tenant: Option<Uuid>,
    ) -> Result<Vec<ExclusionView>, StoreError> {
        let sql = format!(
            "SELECT {EXCLUSION_COLUMNS} FROM exclusions e WHERE e.deleted_at IS NULL \
             AND e.kind = 'maintenance' AND e.ends_at > now() \
             AND (cardinality(e.tenant_ids) = 0 OR $1::uuid IS NULL OR $1 = ANY(e.tenant_ids)) \
             ORDER BY e.starts_at, e.id LIMIT 20"
        );
        let rows: Vec<ExclusionRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(exclusion_view).collect())
    }

    /// Records a new entry and its `created` change.
    pub async fn insert_exclusion(
        &self,
        entry: &LedgerEntry,
        actor: &str,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO exclusions (id, kind, classification, title, reason, starts_at, \
               ends_at, tenant_ids, created_by, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id)
        .bind(entry.kind.as_str())
        .bind(entry.classification.as_str())
        .bind(&entry.title)
        .bind(&entry.reason)
        .bind(entry.starts_at)
        .bind(entry.ends_at)
        .bind(&entry.tenant_ids)
        .bind(actor)
        .execute(&mut *tx)
        .await?;
        record_change(&mut tx, id, "created", actor, &entry.reason).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes an entry in force; `reason` says why and goes into the change record.
    pub async fn update_exclusion(
        &self,
        id: Uuid,
        entry: &LedgerEntry,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE exclusions SET kind = $2, classification = $3, title = $4, reason = $5, \
               starts_at = $6, ends_at = $7, tenant_ids = $8, updated_by = $9, \
               updated_at = now() \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(entry.kind.as_str())
        .bind(entry.classification.as_str())
        .bind(&entry.title)
        .bind(&entry.reason)
        .bind(entry.starts_at)
        .bind(entry.ends_at)
        .bind(&entry.tenant_ids)
        .bind(actor)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        record_change(&mut tx, id, "updated", actor, &entry.reason).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Withdraws an entry: it stays in the ledger, marked, and stops excluding minutes.
    pub async fn withdraw_exclusion(
        &self,
        id: Uuid,
        actor: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE exclusions SET deleted_at = now(), updated_by = $2, updated_at = now() \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(actor)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        record_change(&mut tx, id, "deleted", actor, reason).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The most recent changes to the ledger, newest first.
    pub async fn exclusion_changes(&self, limit: i64) -> Result<Vec<ExclusionChange>, StoreError> {
        type Row = (
            Uuid,
            String,
            String,
            DateTime<Utc>,
            String,
            Option<serde_json::Value>,
            Option<serde_json::Value>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT exclusion_id, action, changed_by, changed_at, reason, before, after \
             FROM exclusion_changes ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(exclusion_id, action, changed_by, changed_at, reason, before, after)| {
                ExclusionChange {
                    exclusion_id,
                    action,
                    changed_by,
                    changed_at,
                    reason,
                    before,
                    after,
                }
            })
            .collect())
    }
}

/// Writes the change record with the entry's state before this transaction's change (from
/// the previous record) and after it (as it now stands).
async fn record_change(
    tx: &mut sqlx::PgConnection,
    id: Uuid,
    action: &str,
    actor: &str,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO exclusion_changes (exclusion_id, action, changed_by, reason, before, after) \
         SELECT $1, $2, $3, $4, \
           (SELECT after FROM exclusion_changes WHERE exclusion_id = $1 ORDER BY id DESC LIMIT 1), \
           to_jsonb(e) - 'created_at' - 'updated_at' FROM exclusions e WHERE e.id = $1",
    )
    .bind(id)
    .bind(action)
    .bind(actor)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn exclusion_view(row: ExclusionRow) -> ExclusionView {
    let (
        id,
        kind,
        classification,
        title,
        reason,
        starts_at,
        ends_at,
        tenants,
        created_by,
        created_at,
        updated_by,
        updated_at,
        deleted,
    ) = row;
    ExclusionView {
        id,
        kind: ExclusionKind::parse(&kind).unwrap_or(ExclusionKind::Incident),
        classification: Classification::parse(&classification).unwrap_or(Classification::Platform),
        title,
        reason,
        starts_at,
        ends_at,
        tenants,
        created_by,
        created_at,
        updated_by,
        updated_at,
        deleted,
    }
}
