//! Loads generated history for the demo tenant (see `reliability::demo`): its runs and jobs,
//! probe samples, ledger entries and plans, then rebuilds the rollups. Safe to repeat: the
//! previous generated history is replaced, and real probe samples are left alone.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use app::model::{Classification, ExclusionKind};

use super::ledger::LedgerEntry;
use super::{Store, StoreError};
use crate::auth::hash_password;
use crate::reliability::demo::{HistoricStatus, History, DEMO_TENANT};
use crate::reliability::sla::Plan;

/// Who the generated rows say made them.
const DEMO_ACTOR: &str = "demo-history";
/// The demo tenant's customer login.
pub const DEMO_CUSTOMER: (&str, &str) = ("customer@demo-history.test", "demo-history-pass");

impl Store {
    /// Replaces the demo tenant's generated history with `history`.
    pub async fn load_history(&self, history: &History) -> Result<(), StoreError> {
        let tenant_id = self.demo_tenant().await?;
        self.demo_plans(tenant_id).await?;
        sqlx::query("DELETE FROM runs WHERE tenant_id = $1")
            .bind(tenant_id)
            .execute(&self.pool)
            .await?;
        for chunk in history.runs.chunks(500) {
            self.insert_historic_runs(tenant_id, chunk).await?;
        }
        self.insert_demo_probes(history).await?;
        self.insert_demo_ledger(tenant_id, history).await?;
        self.rebuild_run_rollups().await?;
        self.rebuild_uptime(history.from, history.to).await?;
        Ok(())
    }

    async fn demo_tenant(&self) -> Result<Uuid, StoreError> {
        let (slug, name) = DEMO_TENANT;
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3) \
             ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        )
        .bind(Uuid::new_v4())
        .bind(slug)
        .bind(name)
        .fetch_one(&self.pool)
        .await?;
        let (email, password) = DEMO_CUSTOMER;
        let hash = hash_password(password)
            .map_err(|_| StoreError::Conflict("hash the demo password".into()))?;
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, role, tenant_id) \
             VALUES ($1, $2, 'Dana Demo', $3, 'customer', $4) \
             ON CONFLICT (lower(email)) DO UPDATE SET password_hash = EXCLUDED.password_hash",
        )
        .bind(Uuid::new_v4())
        .bind(email)
        .bind(hash)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Plans for the demo tenants that have none yet.
    async fn demo_plans(&self, demo_tenant: Uuid) -> Result<(), StoreError> {
        let plans = [
            (Some(demo_tenant), None, 400_000, "EUR"),
            (None, Some("acme"), 250_000, "EUR"),
            (None, Some("globex"), 120_000, "USD"),
        ];
        for (id, slug, fee, currency) in plans {
            let id = match (id, slug) {
                (Some(id), _) => Some(id),
                (None, Some(slug)) => self.tenant_by_slug(slug).await?.map(|(id, _)| id),
                _ => None,
            };
            let Some(id) = id else { continue };
            if self.sla_plan(id).await?.is_none() {
                self.put_sla_plan(id, &Plan::default_for(fee, currency), DEMO_ACTOR).await?;
            }
        }
        Ok(())
    }

    async fn insert_historic_runs(
        &self,
        tenant_id: Uuid,
        runs: &[crate::reliability::demo::HistoricRun],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<Uuid> = runs.iter().map(|_| Uuid::new_v4()).collect();
        let statuses: Vec<&str> = runs
            .iter()
            .map(|run| match run.status {
                HistoricStatus::Succeeded => "succeeded",
                HistoricStatus::Failed(_) => "failed",
                HistoricStatus::Cancelled => "cancelled",
                HistoricStatus::Rejected => "rejected",
            })
            .collect();
        let field_errors: Vec<serde_json::Value> = runs
            .iter()
            .map(|run| match run.status {
                HistoricStatus::Rejected => serde_json::json!({ "name": "is required" }),
                _ => serde_json::json!({}),
            })
            .collect();
        let errors: Vec<Option<&str>> = runs
            .iter()
            .map(|run| match run.status {
                HistoricStatus::Failed(_) => Some("step failed (generated history)"),
                _ => None,
            })
            .collect();
        sqlx::query(
            "INSERT INTO runs (id, tenant_id, run_type, params, status, field_errors, error, \
               expected_duration_ms, created_by, created_at, started_at, finished_at) \
             SELECT id, $2, run_type, '{}'::jsonb, status, field_errors, error, expected_ms, \
               $3, created_at, CASE WHEN status = 'rejected' THEN NULL ELSE created_at END, \
               finished_at \
             FROM unnest($1::uuid[], $4::text[], $5::text[], $6::jsonb[], $7::text[], \
               $8::bigint[], $9::timestamptz[], $10::timestamptz[]) \
               AS r(id, run_type, status, field_errors, error, expected_ms, created_at, \
                    finished_at)",
        )
        .bind(&ids)
        .bind(tenant_id)
        .bind(DEMO_ACTOR)
        .bind(runs.iter().map(|run| run.run_type.as_str()).collect::<Vec<_>>())
        .bind(&statuses)
        .bind(&field_errors)
        .bind(&errors)
        .bind(runs.iter().map(|run| run.expected.num_milliseconds()).collect::<Vec<_>>())
        .bind(runs.iter().map(|run| run.created_at).collect::<Vec<_>>())
        .bind(runs.iter().map(|run| run.finished_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;

        let mut job_runs = Vec::new();
        let mut positions = Vec::new();
        let mut steps = Vec::new();
        let mut pools = Vec::new();
        let mut job_statuses = Vec::new();
        let mut queued = Vec::new();
        let mut started = Vec::new();
        let mut finished = Vec::new();
        for (run, id) in runs.iter().zip(&ids) {
            for (position, job) in run.jobs.iter().enumerate() {
                job_runs.push(*id);
                positions.push(position as i32);
                steps.push(job.step.as_str());
                pools.push(job.pool.as_str());
                job_statuses.push(job.status);
                queued.push(job.queued_at);
                started.push(job.started_at);
                finished.push(job.finished_at);
            }
        }
        sqlx::query(
            "INSERT INTO jobs (id, run_id, tenant_id, position, step, pool, status, attempts, \
               max_attempts, timeout_ms, queued_at, started_at, finished_at) \
             SELECT gen_random_uuid(), run_id, $2, position, step, pool, status, \
               CASE WHEN started_at IS NULL THEN 0 ELSE 1 END, 3, 300000, queued_at, \
               started_at, finished_at \
             FROM unnest($1::uuid[], $3::int[], $4::text[], $5::text[], $6::text[], \
               $7::timestamptz[], $8::timestamptz[], $9::timestamptz[]) \
               AS j(run_id, position, step, pool, status, queued_at, started_at, finished_at)",
        )
        .bind(&job_runs)
        .bind(tenant_id)
        .bind(&positions)
        .bind(&steps)
        .bind(&pools)
        .bind(&job_statuses)
        .bind(&queued)
        .bind(&started)
        .bind(&finished)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A probe every 15 s over the history, up to the first real sample: failed in the down
    /// spans, during the customer's incident and the first half hour of maintenance, and
    /// missing in the no-data spans.
    async fn insert_demo_probes(&self, history: &History) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM probe_samples WHERE prober = $1")
            .bind(DEMO_ACTOR)
            .execute(&self.pool)
            .await?;
        let first_real: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT min(at) FROM probe_samples").fetch_one(&self.pool).await?;
        let until = first_real.map_or(history.to, |first| first.min(history.to));

        let mut failing = history.down.clone();
        failing.push(history.customer_incident);
        let (maintenance_start, _) = history.maintenance;
        failing.push((maintenance_start, maintenance_start + chrono::TimeDelta::minutes(30)));
        let (fail_from, fail_to): (Vec<_>, Vec<_>) = failing.into_iter().unzip();
        let (gap_from, gap_to): (Vec<_>, Vec<_>) = history.no_data.iter().copied().unzip();
        sqlx::query(
            "INSERT INTO probe_samples (at, up, latency_ms, error, prober) \
             SELECT at, NOT failed, CASE WHEN failed THEN 5000 ELSE 8 + (extract(second FROM at))::int END, \
               CASE WHEN failed THEN 'timed out' END, $7 \
             FROM (SELECT at, EXISTS (SELECT 1 FROM unnest($3::timestamptz[], $4::timestamptz[]) \
                       f(a, b) WHERE at >= a AND at < b) AS failed \
                   FROM generate_series($1::timestamptz, $2::timestamptz - interval '15 seconds', \
                     interval '15 seconds') at \
                   WHERE NOT EXISTS (SELECT 1 FROM unnest($5::timestamptz[], \
                     $6::timestamptz[]) g(a, b) WHERE at >= a AND at < b)) s",
        )
        .bind(history.from)
        .bind(until)
        .bind(&fail_from)
        .bind(&fail_to)
        .bind(&gap_from)
        .bind(&gap_to)
        .bind(DEMO_ACTOR)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn insert_demo_ledger(
        &self,
        tenant_id: Uuid,
        history: &History,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM exclusion_changes WHERE exclusion_id IN \
             (SELECT id FROM exclusions WHERE created_by = $1)",
        )
        .bind(DEMO_ACTOR)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM exclusions WHERE created_by = $1")
            .bind(DEMO_ACTOR)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;

        let (outage_start, outage_end) = history.down[0];
        let entries = [
            LedgerEntry {
                kind: ExclusionKind::Maintenance,
                classification: Classification::Planned,
                title: "Database upgrade (generated history)".into(),
                reason: "PostgreSQL minor upgrade, announced a week ahead".into(),
                starts_at: history.maintenance.0,
                ends_at: history.maintenance.1,
                tenant_ids: Vec::new(),
            },
            LedgerEntry {
                kind: ExclusionKind::Incident,
                classification: Classification::CustomerCaused,
                title: "Customer load test (generated history)".into(),
                reason: "The customer's unannounced load test saturated the API".into(),
                starts_at: history.customer_incident.0,
                ends_at: history.customer_incident.1,
                tenant_ids: vec![tenant_id],
            },
            LedgerEntry {
                kind: ExclusionKind::Incident,
                classification: Classification::Platform,
                title: "API outage (generated history)".into(),
                reason: "A bad deploy took the control plane down; counted as downtime".into(),
                starts_at: outage_start,
                ends_at: outage_end,
                tenant_ids: Vec::new(),
            },
        ];
        for entry in &entries {
            self.insert_exclusion(entry, DEMO_ACTOR).await?;
        }
        Ok(())
    }
}
