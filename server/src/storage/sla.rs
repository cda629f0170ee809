//! SLA plans and the stored revisions of monthly reports. An issued revision is never
//! changed (a trigger refuses it); recomputing one inserts the next revision.

use chrono::{NaiveDate, Utc};
use uuid::Uuid;

use app::model::{ReportStatus, SlaReport};

use super::{Store, StoreError};
use crate::reliability::sla::{CreditTier, Percent, Plan};

/// A stored revision of a report.
#[derive(Clone, Debug)]
pub struct StoredReport {
    pub id: Uuid,
    pub revision: i32,
    pub status: ReportStatus,
    pub snapshot: SlaReport,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TierJson {
    below: u32,
    credit: u32,
}

type PlanRow = (i64, String, i32, i32, i32, serde_json::Value, i32, i32, i32);

impl Store {
    /// The tenant's plan, or `None` when none is on file.
    pub async fn sla_plan(&self, tenant_id: Uuid) -> Result<Option<Plan>, StoreError> {
        let row: Option<PlanRow> = sqlx::query_as(
            "SELECT monthly_fee_cents, currency, uptime_target, success_target, \
               execution_target, uptime_tiers, success_miss_credit, execution_miss_credit, \
               credit_cap FROM sla_plans WHERE tenant_id = $1",
        )
        .bind(tenant_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(plan_from_row).transpose()
    }

    pub async fn put_sla_plan(
        &self,
        tenant_id: Uuid,
        plan: &Plan,
        actor: &str,
    ) -> Result<(), StoreError> {
        let tiers: Vec<TierJson> = plan
            .uptime_tiers
            .iter()
            .map(|tier| TierJson {
                below: tier.below.thousandths(),
                credit: tier.credit.thousandths(),
            })
            .collect();
        sqlx::query(
            "INSERT INTO sla_plans (tenant_id, monthly_fee_cents, currency, uptime_target, \
               success_target, execution_target, uptime_tiers, success_miss_credit, \
               execution_miss_credit, credit_cap, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (tenant_id) DO UPDATE SET monthly_fee_cents = EXCLUDED.monthly_fee_cents, \
               currency = EXCLUDED.currency, uptime_target = EXCLUDED.uptime_target, \
               success_target = EXCLUDED.success_target, \
               execution_target = EXCLUDED.execution_target, \
               uptime_tiers = EXCLUDED.uptime_tiers, \
               success_miss_credit = EXCLUDED.success_miss_credit, \
               execution_miss_credit = EXCLUDED.execution_miss_credit, \
               credit_cap = EXCLUDED.credit_cap, updated_by = EXCLUDED.updated_by, \
               updated_at = now()",
        )
        .bind(tenant_id)
        .bind(plan.monthly_fee_cents)
        .bind(&plan.currency)
        .bind(plan.uptime_target.thousandths() as i32)
        .bind(plan.success_target.thousandths() as i32)
        .bind(plan.execution_target.thousandths() as i32)
        .bind(serde_json::to_value(tiers)?)
        .bind(plan.success_miss_credit.thousandths() as i32)
        .bind(plan.execution_miss_credit.thousandths() as i32)
        .bind(plan.credit_cap.thousandths() as i32)
        .bind(actor)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every stored revision of a tenant's month, oldest first.
    pub async fn report_revisions(
        &self,
        tenant_id: Uuid,
        month: NaiveDate,
    ) -> Result<Vec<StoredReport>, StoreError> {
        let rows: Vec<(Uuid, i32, String, serde_json::Value)> = sqlx::query_as(
            "SELECT id, revision, status, snapshot FROM sla_reports \
             WHERE tenant_id = $1 AND month = $2 ORDER BY revision",
        )
        .bind(tenant_id)
        .bind(month)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, revision, status, snapshot)| {
                Ok(StoredReport {
                    id,
                    revision,
                    status: ReportStatus::parse(&status).unwrap_or(ReportStatus::Draft),
                    snapshot: serde_json::from_value(snapshot)?,
                })
            })
            .collect()
    }

    /// The latest revision per tenant for a month: (tenant id, status, snapshot).
    pub async fn month_reports(
        &self,
        month: NaiveDate,
        issued_only: bool,
    ) -> Result<Vec<(Uuid, StoredReport)>, StoreError> {
        let rows: Vec<(Uuid, Uuid, i32, String, serde_json::Value)> = sqlx::query_as(
            "SELECT DISTINCT ON (tenant_id) tenant_id, id, revision, status, snapshot \
             FROM sla_reports WHERE month = $1 AND (NOT $2 OR status = 'issued') \
             ORDER BY tenant_id, revision DESC",
        )
        .bind(month)
        .bind(issued_only)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(tenant_id, id, revision, status, snapshot)| {
                let report = StoredReport {
                    id,
                    revision,
                    status: ReportStatus::parse(&status).unwrap_or(ReportStatus::Draft),
                    snapshot: serde_json::from_value(snapshot)?,
                };
                Ok((tenant_id, report))
            })
            .collect()
    }

    /// Stores a new revision as a draft.
    pub async fn insert_report(
        &self,
        tenant_id: Uuid,
        month: NaiveDate,
        report: &SlaReport,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let inserted = sqlx::query(
            "INSERT INTO sla_reports (id, tenant_id, month, revision, status, snapshot, \
               computed_at) VALUES ($1, $2, $3, $4, 'draft', $5, $6) \
             ON CONFLICT (tenant_id, month, revision) DO NOTHING",
        )
        .bind(id)
        .bind(tenant_id)
        .bind(month)
        .bind(report.revision)
        .bind(serde_json::to_value(report)?)
        .bind(report.computed_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(
                "another revision of this report was stored at the same time".into(),
            ));
        }
        Ok(id)
    }

    /// Replaces a draft's numbers; refuses when the revision is no longer a draft.
    pub async fn refresh_draft(&self, id: Uuid, report: &SlaReport) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE sla_reports SET snapshot = $2, computed_at = $3 \
             WHERE id = $1 AND status = 'draft'",
        )
        .bind(id)
        .bind(serde_json::to_value(report)?)
        .bind(report.computed_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::Conflict("the report is no longer a draft".into()));
        }
        Ok(())
    }

    /// Signs a revision off as reviewed (from draft) or issued (from reviewed), storing the
    /// snapshot as signed off. Refuses when someone else moved it first.
    pub async fn sign_off_report(
        &self,
        id: Uuid,
        to: ReportStatus,
        report: &SlaReport,
        actor: &str,
        note: &str,
    ) -> Result<(), StoreError> {
        let (sql, from) = match to {
            ReportStatus::Reviewed => (
                "UPDATE sla_reports SET status = 'reviewed', snapshot = $2, reviewed_by = $3, \
                 review_note = $4, reviewed_at = $5 WHERE id = $1 AND status = 'draft'",
                ReportStatus::Draft,
            ),
            ReportStatus::Issued => (
                "UPDATE sla_reports SET status = 'issued', snapshot = $2, issued_by = $3, \
                 issue_note = $4, issued_at = $5 WHERE id = $1 AND status = 'reviewed'",
                ReportStatus::Reviewed,
            ),
            ReportStatus::Draft => {
                return Err(StoreError::Invalid("a report is not signed off as a draft".into()))
            }
        };
        let at = match to {
            ReportStatus::Issued => report.issue.as_ref().map(|signoff| signoff.at),
            _ => report.review.as_ref().map(|signoff| signoff.at),
        };
        let updated = sqlx::query(sql)
            .bind(id)
            .bind(serde_json::to_value(report)?)
            .bind(actor)
            .bind(note)
            .bind(at.unwrap_or_else(Utc::now))
            .execute(&self.pool)
            .await?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::Conflict(format!(
                "the report is no longer {}; reload it",
                from.as_str()
            )));
        }
        Ok(())
    }

    /// Turns a reviewed revision back into a draft with fresh numbers (the review lapses).
    pub async fn reopen_report(&self, id: Uuid, report: &SlaReport) -> Result<(), StoreError> {
        let updated = sqlx::query(
            "UPDATE sla_reports SET status = 'draft', snapshot = $2, computed_at = $3, \
             reviewed_by = NULL, review_note = NULL, reviewed_at = NULL \
             WHERE id = $1 AND status = 'reviewed'",
        )
        .bind(id)
        .bind(serde_json::to_value(report)?)
        .bind(report.computed_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::Conflict("the report is no longer reviewed; reload it".into()));
        }
        Ok(())
    }
}

fn plan_from_row(row: PlanRow) -> Result<Plan, StoreError> {
    let (fee, currency, uptime, success, execution, tiers, success_miss, execution_miss, cap) = row;
    let percent = |value: i32| {
        u32::try_from(value).ok().and_then(Percent::from_thousandths).ok_or_else(|| {
            StoreError::Invalid(format!("stored percentage {value} is out of range"))
        })
    };
    let tiers: Vec<TierJson> = serde_json::from_value(tiers)?;
    let uptime_tiers = tiers
        .into_iter()
        .map(|tier| {
            Ok(CreditTier {
                below: percent(tier.below as i32)?,
                credit: percent(tier.credit as i32)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Plan {
        monthly_fee_cents: fee,
        currency,
        uptime_target: percent(uptime)?,
        success_target: percent(success)?,
        execution_target: percent(execution)?,
        uptime_tiers,
        success_miss_credit: percent(success_miss)?,
        execution_miss_credit: percent(execution_miss)?,
        credit_cap: percent(cap)?,
    })
}
