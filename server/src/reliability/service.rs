//! What callers can ask of reliability, shared by the JSON API and the pages: the numbers
//! over a window, the page with its charts and alerts, the exclusion ledger, and SLA
//! reports with their review from draft to issued.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeDelta, Utc};

use app::model::{
    BurnAlertView, Classification, ExclusionInput, ExclusionKind, ExclusionsPage, Reliability,
    ReliabilityPage, ReliabilityWindow, ReportAction, ReportStatus, RevisionSummary,
    RunTypeReliability, Signoff, SlaReport, SlaReportList, SlaReportRow, SuccessWindow,
};

use super::burn::{self, Severity};
use super::month::{Interval, IntervalSet, Month};
use super::report::{self, ReportTenant};
use super::sla::Plan;
use crate::auth::Scope;
use crate::charts::reliability as charts;
use crate::service::{ServiceError, Services};
use crate::storage::{LedgerEntry, StoredReport};

/// The longest window the reliability numbers may cover.
const MAX_WINDOW_DAYS: i64 = 400;
/// Default window of the reliability page and API.
const DEFAULT_WINDOW_DAYS: i64 = 30;
/// Longest text accepted in notes, titles and reasons.
const MAX_TEXT: usize = 2000;

impl Services {
    /// Reliability numbers over `[from, to)`; a customer's runs are their own, uptime is the
    /// platform's.
    pub async fn reliability(
        &self,
        scope: &Scope,
        window: Option<ReliabilityWindow>,
    ) -> Result<Reliability, ServiceError> {
        let (from, to) = checked_window(window)?;
        let tenant = scope.tenant_id();
        let store = &self.store;
        let run_types = store.run_type_counts(tenant, from, to).await?;
        let success = success_window(&run_types);
        let success_30d = success_window(
            &store.run_type_counts(tenant, Utc::now() - TimeDelta::days(30), Utc::now()).await?,
        );
        Ok(Reliability {
            from,
            to,
            uptime: store.uptime_window(from, to).await?,
            success,
            success_30d,
            run_types: run_types
                .into_iter()
                .map(|row| RunTypeReliability {
                    within_expected_pct: (row.succeeded > 0)
                        .then(|| row.within_expected as f64 * 100.0 / row.succeeded as f64),
                    run_type: row.run_type,
                    succeeded: row.succeeded,
                    failed: row.failed,
                    p50_ms: row.p50_ms,
                    p95_ms: row.p95_ms,
                })
                .collect(),
            pools: store.start_latency(tenant, from, to).await?,
            api_routes: store.api_latency(from, to).await?,
        })
    }

    /// The reliability page: the numbers, the charts over time, alerts and maintenance.
    pub async fn reliability_page(
        &self,
        scope: &Scope,
        window: Option<ReliabilityWindow>,
    ) -> Result<ReliabilityPage, ServiceError> {
        let numbers = self.reliability(scope, window).await?;
        let (from, to) = (numbers.from, numbers.to);
        let step = if to - from <= TimeDelta::days(2) { "hour" } else { "day" };
        let series = self.store.run_series(scope.tenant_id(), from, to, step).await?;

        let today = Utc::now().date_naive();
        let mut days = self.store.uptime_days(today - TimeDelta::days(89), today).await?;
        self.mark_excluded_minutes(scope, &mut days).await?;
        let bars: Vec<charts::DayUptime> = days
            .iter()
            .map(|day| charts::DayUptime {
                day: day.day,
                up_minutes: day.up_minutes,
                down_minutes: day.down_minutes,
                no_data_minutes: day.no_data_minutes,
                excluded_minutes: day.excluded_minutes,
            })
            .collect();

        Ok(ReliabilityPage {
            uptime_bars_svg: charts::uptime_bars(&bars),
            durations_svg: charts::time_series(&durations_chart(&series)),
            success_svg: charts::time_series(&success_chart(&series)),
            start_latency_svg: charts::time_series(&start_latency_chart(&series)),
            queue_depth_svg: charts::time_series(&queue_depth_chart(&series)),
            burndown_svg: charts::budget_burndown(&self.burndown(scope).await?),
            days,
            alerts: self.burn_alerts(scope).await?,
            upcoming_maintenance: self.store.upcoming_maintenance(scope.tenant_id()).await?,
            numbers,
        })
    }

    /// Replaces the demo tenant's generated history with `days` days from `seed`.
    pub async fn load_demo_history(&self, days: u32, seed: u64) -> Result<(), ServiceError> {
        let run_types: Vec<super::demo::HistoryRunType> = self
            .catalogue
            .all()
            .iter()
            .map(|run_type| super::demo::HistoryRunType {
                name: run_type.name.clone(),
                expected: TimeDelta::from_std(run_type.expected_duration)
                    .unwrap_or(TimeDelta::minutes(1)),
                steps: run_type
                    .steps
                    .iter()
                    .map(|step| (step.name.clone(), step.pool.clone()))
                    .collect(),
            })
            .collect();
        let history = super::demo::plan(days, seed, Utc::now(), &run_types);
        Ok(self.store.load_history(&history).await?)
    }

    /// Fills each day's excluded minutes from the ledger entries that exclude minutes for
    /// the viewer: a customer's own and everyone's; for staff, those for every tenant.
    async fn mark_excluded_minutes(
        &self,
        scope: &Scope,
        days: &mut [app::model::DayUptimeView],
    ) -> Result<(), ServiceError> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Ok(());
        };
        let from = first.day.and_time(chrono::NaiveTime::MIN).and_utc();
        let to = last.day.and_time(chrono::NaiveTime::MIN).and_utc() + TimeDelta::days(1);
        let entries = self.store.exclusions_for(scope.tenant_id(), from, to).await?;
        let excluded: IntervalSet = entries
            .iter()
            .filter(|entry| entry.classification.excludes_minutes())
            .filter(|entry| scope.tenant().is_some() || entry.tenants.is_empty())
            .filter_map(|entry| Interval::new(entry.starts_at, entry.ends_at).ok())
            .collect();
        for day in days.iter_mut() {
            let start = day.day.and_time(chrono::NaiveTime::MIN).and_utc();
            if let Ok(whole_day) = Interval::new(start, start + TimeDelta::days(1)) {
                day.excluded_minutes = excluded.clip(whole_day).minutes();
            }
        }
        Ok(())
    }

    /// Multi-window burn-rate alerts for uptime and run success.
    pub async fn burn_alerts(&self, scope: &Scope) -> Result<Vec<BurnAlertView>, ServiceError> {
        let plan = match scope.tenant_id() {
            Some(tenant) => self.store.sla_plan(tenant).await?,
            None => None,
        };
        let defaults = Plan::default_for(0, "EUR");
        let plan = plan.unwrap_or(defaults);

        let mut windows: Vec<Duration> =
            burn::DEFAULT_RULES.iter().flat_map(|rule| [rule.long, rule.short]).collect();
        windows.sort();
        windows.dedup();
        let mut uptime_counts = HashMap::new();
        let mut run_counts = HashMap::new();
        for window in windows {
            let minutes = (window.as_secs() / 60) as i64;
            uptime_counts.insert(window, self.store.uptime_bad_minutes(minutes).await?);
            run_counts
                .insert(window, self.store.run_bad_minutes(scope.tenant_id(), minutes).await?);
        }
        let mut alerts = Vec::new();
        for (objective, counts, target) in [
            ("uptime", &uptime_counts, plan.uptime_target),
            ("run success", &run_counts, plan.success_target),
        ] {
            let evaluated = burn::evaluate(
                &burn::DEFAULT_RULES,
                |window| counts.get(&window).copied().unwrap_or((0, 0)),
                target,
            );
            alerts.extend(evaluated.into_iter().map(|alert| BurnAlertView {
                objective: objective.to_owned(),
                rule: format!(
                    "{} and {} at {}×",
                    describe_window(alert.rule.long),
                    describe_window(alert.rule.short),
                    alert.rule.factor
                ),
                severity: match alert.rule.severity {
                    Severity::Page => "page".to_owned(),
                    Severity::Ticket => "ticket".to_owned(),
                },
                long_rate: alert.long_rate,
                short_rate: alert.short_rate,
                firing: alert.firing,
            }));
        }
        Ok(alerts)
    }

    /// The current month's error budget, day by day.
    async fn burndown(&self, scope: &Scope) -> Result<charts::BurnDown, ServiceError> {
        let now = Utc::now();
        let month = Month::containing(now).ok_or(ServiceError::NotFound)?;
        let plan = match scope.tenant_id() {
            Some(tenant) => self.store.sla_plan(tenant).await?,
            None => None,
        }
        .unwrap_or_else(|| Plan::default_for(0, "EUR"));
        let days = self.store.uptime_days(month.start().date_naive(), now.date_naive()).await?;
        let budget_share = 100_000 - i64::from(plan.uptime_target.thousandths());
        let allowed = month.minutes() * budget_share / 100_000;
        let mut remaining = allowed;
        let remaining_by_day = days
            .iter()
            .map(|day| {
                remaining -= day.down_minutes + day.no_data_minutes;
                (day.day.day(), remaining)
            })
            .collect();
        Ok(charts::BurnDown {
            month_label: month.to_string(),
            days_in_month: (month.minutes() / 1440) as u32,
            allowed_minutes: allowed,
            remaining_by_day,
        })
    }

    /// The exclusion ledger with its change record (staff only).
    pub async fn exclusions_page(&self, scope: &Scope) -> Result<ExclusionsPage, ServiceError> {
        if scope.tenant().is_some() {
            return Err(ServiceError::Forbidden("the exclusion ledger is for staff".into()));
        }
        Ok(ExclusionsPage {
            entries: self.store.exclusions(200).await?,
            changes: self.store.exclusion_changes(100).await?,
            tenants: self.store.tenants().await?.into_iter().map(|(_, tenant)| tenant).collect(),
            min_notice_hours: self.settings.maintenance_notice_hours,
            can_edit: scope.is_admin(),
        })
    }

    /// Records (`id` absent) or changes a ledger entry (admins only).
    pub async fn save_exclusion(
        &self,
        scope: &Scope,
        id: Option<uuid::Uuid>,
        input: ExclusionInput,
    ) -> Result<uuid::Uuid, ServiceError> {
        if !scope.is_admin() {
            return Err(ServiceError::Forbidden("only admins change the exclusion ledger".into()));
        }
        let previous = match id {
            Some(id) => {
                let entry = self.store.exclusion(id).await?.ok_or(ServiceError::NotFound)?;
                if entry.deleted {
                    return Err(ServiceError::Conflict("the entry was withdrawn".into()));
                }
                Some(entry)
            }
            None => None,
        };
        let entry = self.check_entry(input, previous.as_ref()).await?;
        match id {
            Some(id) => {
                self.store.update_exclusion(id, &entry, scope.actor()).await?;
                Ok(id)
            }
            None => Ok(self.store.insert_exclusion(&entry, scope.actor()).await?),
        }
    }

    /// One ledger entry (staff only).
    pub async fn exclusion(
        &self,
        scope: &Scope,
        id: uuid::Uuid,
    ) -> Result<app::model::ExclusionView, ServiceError> {
        if scope.tenant().is_some() {
            return Err(ServiceError::Forbidden("the exclusion ledger is for staff".into()));
        }
        self.store.exclusion(id).await?.ok_or(ServiceError::NotFound)
    }

    /// A tenant's SLA plan (the defaults with a zero fee when none is on file). Customers
    /// see their own.
    pub async fn sla_plan(&self, scope: &Scope, tenant: &str) -> Result<Plan, ServiceError> {
        if scope.tenant().is_some_and(|own| own.slug != tenant) {
            return Err(ServiceError::NotFound);
        }
        let (id, _) = self.store.tenant_by_slug(tenant).await?.ok_or(ServiceError::NotFound)?;
        Ok(self.store.sla_plan(id).await?.unwrap_or_else(|| Plan::default_for(0, "EUR")))
    }

    /// Sets a tenant's SLA plan (admins only); reports recomputed afterwards use it.
    pub async fn put_sla_plan(
        &self,
        scope: &Scope,
        tenant: &str,
        plan: Plan,
    ) -> Result<Plan, ServiceError> {
        if !scope.is_admin() {
            return Err(ServiceError::Forbidden("only admins change SLA plans".into()));
        }
        let (id, _) = self.store.tenant_by_slug(tenant).await?.ok_or(ServiceError::NotFound)?;
        let plan = plan.validate().map_err(|error| invalid(error.field(), &error.to_string()))?;
        self.store.put_sla_plan(id, &plan, scope.actor()).await?;
        Ok(plan)
    }

    /// Withdraws a ledger entry with the reason (admins only).
    pub async fn withdraw_exclusion(
        &self,
        scope: &Scope,
        id: uuid::Uuid,
        reason: &str,
    ) -> Result<(), ServiceError> {
        if !scope.is_admin() {
            return Err(ServiceError::Forbidden("only admins change the exclusion ledger".into()));
        }
        let reason = required_text("reason", reason)?;
        Ok(self.store.withdraw_exclusion(id, scope.actor(), &reason).await?)
    }

    /// The month's reports: every tenant's latest revision for staff, the own latest issued
    /// one for a customer. An empty month means the previous calendar month.
    pub async fn sla_reports(
        &self,
        scope: &Scope,
        month: &str,
    ) -> Result<SlaReportList, ServiceError> {
        let month = parse_month_or_previous(month)?;
        let day = month.start().date_naive();
        let stored = self.store.month_reports(day, scope.tenant().is_some()).await?;
        let mut rows = Vec::new();
        for (tenant_id, tenant) in self.store.tenants().await? {
            if scope.tenant_id().is_some_and(|own| own != tenant_id) {
                continue;
            }
            let report = stored.iter().find(|(id, _)| *id == tenant_id).map(|(_, r)| r);
            if scope.tenant().is_some() && report.is_none() {
                continue;
            }
            rows.push(SlaReportRow {
                tenant_slug: tenant.slug,
                tenant_name: tenant.name,
                status: report.map(|r| r.status),
                revision: report.map(|r| r.revision),
                uptime_pct: report.and_then(|r| r.snapshot.uptime.actual_pct),
                credit_amount_cents: report.map(|r| r.snapshot.credit.amount_cents),
                currency: report.map(|r| r.snapshot.credit.currency.clone()),
            });
        }
        Ok(SlaReportList { month: month.to_string(), rows, can_review: scope.tenant().is_none() })
    }

    /// A tenant's report for a month. Staff get the latest revision, a draft recomputed
    /// first (and stored as revision 1 when there is none); customers get the latest issued
    /// revision of their own tenant.
    pub async fn sla_report(
        &self,
        scope: &Scope,
        tenant: &str,
        month: &str,
    ) -> Result<SlaReport, ServiceError> {
        let (tenant, month) = self.report_key(scope, tenant, month).await?;
        let day = month.start().date_naive();
        let revisions = self.store.report_revisions(tenant.id, day).await?;

        if scope.tenant().is_some() {
            let issued: Vec<&StoredReport> =
                revisions.iter().filter(|r| r.status == ReportStatus::Issued).collect();
            let latest = issued.last().ok_or(ServiceError::NotFound)?;
            return Ok(with_revisions(&latest.snapshot, &issued));
        }

        let all: Vec<&StoredReport> = revisions.iter().collect();
        match revisions.last() {
            None => {
                let fresh = report::compute(&self.store, &tenant, month, 1, Utc::now()).await?;
                self.store.insert_report(tenant.id, day, &fresh).await?;
                Box::pin(self.sla_report(scope, &tenant.slug, &month.to_string())).await
            }
            Some(latest) if latest.status == ReportStatus::Draft => {
                let fresh = self.recompute(&tenant, month, latest, &revisions).await?;
                self.store.refresh_draft(latest.id, &fresh).await?;
                Ok(with_revisions(&fresh, &all))
            }
            Some(latest) => Ok(with_revisions(&latest.snapshot, &all)),
        }
    }

    /// Reviews, issues or recomputes a report (account managers and admins).
    pub async fn sla_report_action(
        &self,
        scope: &Scope,
        tenant: &str,
        month: &str,
        action: ReportAction,
        note: &str,
    ) -> Result<SlaReport, ServiceError> {
        if scope.tenant().is_some() {
            return Err(ServiceError::Forbidden("reports are reviewed by account managers".into()));
        }
        let (tenant, month) = self.report_key(scope, tenant, month).await?;
        // Opening the report first makes sure a revision exists and a draft is fresh.
        self.sla_report(scope, &tenant.slug, &month.to_string()).await?;
        let day = month.start().date_naive();
        let revisions = self.store.report_revisions(tenant.id, day).await?;
        let latest = revisions.last().ok_or(ServiceError::NotFound)?;
        let now = Utc::now();

        match action {
            ReportAction::Review | ReportAction::Issue => {
                let note = required_text("note", note)?;
                if month.end() > now {
                    return Err(invalid("month", "the month is not over yet"));
                }
                let (from, to) = match action {
                    ReportAction::Review => (ReportStatus::Draft, ReportStatus::Reviewed),
                    _ => (ReportStatus::Reviewed, ReportStatus::Issued),
                };
                if latest.status != from {
                    return Err(ServiceError::Conflict(format!(
                        "only a {} report can be {}; this one is {}",
                        from.as_str(),
                        to.as_str(),
                        latest.status.as_str()
                    )));
                }
                let mut snapshot = latest.snapshot.clone();
                snapshot.status = to;
                let signoff = Signoff { by: scope.actor().to_owned(), at: now, note: note.clone() };
                match to {
                    ReportStatus::Reviewed => snapshot.review = Some(signoff),
                    _ => snapshot.issue = Some(signoff),
                }
                self.store.sign_off_report(latest.id, to, &snapshot, scope.actor(), &note).await?;
            }
            ReportAction::Recompute => {
                let fresh = self.recompute(&tenant, month, latest, &revisions).await?;
                match latest.status {
                    ReportStatus::Draft => self.store.refresh_draft(latest.id, &fresh).await?,
                    ReportStatus::Reviewed => self.store.reopen_report(latest.id, &fresh).await?,
                    ReportStatus::Issued => {
                        let mut next = fresh;
                        next.revision = latest.revision + 1;
                        next.changes = report::changes(&latest.snapshot, &next);
                        self.store.insert_report(tenant.id, day, &next).await?;
                    }
                }
            }
        }
        self.sla_report(scope, &tenant.slug, &month.to_string()).await
    }

    /// Fresh numbers for the revision after the last issued one (or the first), with the
    /// changes from the last issued revision.
    async fn recompute(
        &self,
        tenant: &ReportTenant,
        month: Month,
        latest: &StoredReport,
        revisions: &[StoredReport],
    ) -> Result<SlaReport, ServiceError> {
        let mut fresh =
            report::compute(&self.store, tenant, month, latest.revision, Utc::now()).await?;
        let previous_issued =
            revisions.iter().rev().find(|r| r.status == ReportStatus::Issued && r.id != latest.id);
        if let Some(previous) = previous_issued {
            fresh.changes = report::changes(&previous.snapshot, &fresh);
        }
        Ok(fresh)
    }

    /// The tenant and month a report request names, checked against the caller's scope.
    async fn report_key(
        &self,
        scope: &Scope,
        tenant: &str,
        month: &str,
    ) -> Result<(ReportTenant, Month), ServiceError> {
        let month = Month::parse(month).map_err(|error| invalid("month", &error.to_string()))?;
        if month.start() > Utc::now() {
            return Err(invalid("month", "the month has not started yet"));
        }
        if scope.tenant().is_some_and(|own| own.slug != tenant) {
            return Err(ServiceError::NotFound);
        }
        let (id, name) = self.store.tenant_by_slug(tenant).await?.ok_or(ServiceError::NotFound)?;
        Ok((ReportTenant { id, slug: tenant.to_owned(), name }, month))
    }

    /// Turns an admin's input into a ledger entry, or field errors.
    async fn check_entry(
        &self,
        input: ExclusionInput,
        previous: Option<&app::model::ExclusionView>,
    ) -> Result<LedgerEntry, ServiceError> {
        let mut errors = BTreeMap::new();
        let title = input.title.trim().to_owned();
        if title.is_empty() || title.len() > 200 || title.contains('\0') {
            errors.insert("title".to_owned(), "must be 1 to 200 characters".to_owned());
        }
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() || reason.len() > MAX_TEXT || reason.contains('\0') {
            errors.insert("reason".to_owned(), format!("must be 1 to {MAX_TEXT} characters"));
        }
        if input.ends_at <= input.starts_at {
            errors.insert("ends_at".to_owned(), "must be after the start".to_owned());
        }
        let kind_fits = match input.kind {
            ExclusionKind::Maintenance => input.classification == Classification::Planned,
            ExclusionKind::Incident => input.classification != Classification::Planned,
        };
        if !kind_fits {
            errors.insert(
                "classification".to_owned(),
                "maintenance is planned; an incident is platform, customer-caused or force \
                 majeure"
                    .to_owned(),
            );
        }
        // Notice applies to maintenance being announced, or moved earlier.
        let notice = TimeDelta::hours(i64::from(self.settings.maintenance_notice_hours));
        let announced_start = previous.map(|entry| entry.starts_at);
        let moved_earlier = announced_start.is_none_or(|start| input.starts_at < start);
        if input.kind == ExclusionKind::Maintenance
            && moved_earlier
            && input.starts_at < Utc::now() + notice
        {
            errors.insert(
                "starts_at".to_owned(),
                format!(
                    "planned maintenance must be announced at least {} hours ahead",
                    self.settings.maintenance_notice_hours
                ),
            );
        }
        if input.kind == ExclusionKind::Incident && input.starts_at > Utc::now() {
            errors.insert("starts_at".to_owned(), "an incident cannot start in the future".into());
        }

        let known = self.store.tenants().await?;
        let mut tenant_ids = Vec::new();
        for slug in &input.tenants {
            match known.iter().find(|(_, tenant)| &tenant.slug == slug) {
                Some((id, _)) => tenant_ids.push(*id),
                None => {
                    errors.insert("tenants".to_owned(), format!("unknown tenant {slug}"));
                }
            }
        }
        tenant_ids.sort();
        tenant_ids.dedup();
        if input.classification == Classification::CustomerCaused && tenant_ids.is_empty() {
            errors.insert(
                "tenants".to_owned(),
                "a customer-caused incident names the tenants it excludes minutes for".into(),
            );
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        Ok(LedgerEntry {
            kind: input.kind,
            classification: input.classification,
            title,
            reason,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            tenant_ids,
        })
    }
}

fn with_revisions(report: &SlaReport, revisions: &[&StoredReport]) -> SlaReport {
    let mut report = report.clone();
    report.revisions = revisions
        .iter()
        .map(|stored| RevisionSummary {
            revision: stored.revision,
            status: stored.status,
            computed_at: stored.snapshot.computed_at,
            credit_amount_cents: stored.snapshot.credit.amount_cents,
        })
        .collect();
    report
}

fn success_window(rows: &[crate::storage::RunTypeCounts]) -> SuccessWindow {
    let succeeded: i64 = rows.iter().map(|row| row.succeeded).sum();
    let counted: i64 = rows.iter().map(|row| row.succeeded + row.failed).sum();
    SuccessWindow {
        counted,
        succeeded,
        success_pct: (counted > 0).then(|| succeeded as f64 * 100.0 / counted as f64),
    }
}

/// The window asked for, or the last 30 days; refused when empty, reversed or too long.
fn checked_window(
    window: Option<ReliabilityWindow>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ServiceError> {
    let Some(window) = window else {
        let now = Utc::now();
        return Ok((now - TimeDelta::days(DEFAULT_WINDOW_DAYS), now));
    };
    if window.to <= window.from {
        return Err(invalid("to", "must be after from"));
    }
    if window.to - window.from > TimeDelta::days(MAX_WINDOW_DAYS) {
        return Err(invalid("to", &format!("the window may be at most {MAX_WINDOW_DAYS} days")));
    }
    Ok((window.from, window.to))
}

fn parse_month_or_previous(month: &str) -> Result<Month, ServiceError> {
    if month.trim().is_empty() {
        let current = Month::containing(Utc::now()).ok_or(ServiceError::NotFound)?;
        return current.prev().ok_or(ServiceError::NotFound);
    }
    Month::parse(month.trim()).map_err(|error| invalid("month", &error.to_string()))
}

fn required_text(field: &str, text: &str) -> Result<String, ServiceError> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_TEXT || text.contains('\0') {
        return Err(invalid(field, &format!("must be 1 to {MAX_TEXT} characters")));
    }
    Ok(text.to_owned())
}

fn invalid(field: &str, reason: &str) -> ServiceError {
    ServiceError::Invalid(BTreeMap::from([(field.to_owned(), reason.to_owned())]))
}

fn describe_window(window: Duration) -> String {
    let minutes = window.as_secs() / 60;
    match minutes {
        m if m % 1440 == 0 => format!("{} d", m / 1440),
        m if m % 60 == 0 => format!("{} h", m / 60),
        m => format!("{m} min"),
    }
}

/// Lines of P50 and P95 duration per run type.
fn durations_chart(series: &crate::storage::RunSeries) -> charts::SeriesChart {
    let mut lines = Vec::new();
    let mut run_types: Vec<&str> = series.durations.iter().map(|row| row.1.as_str()).collect();
    run_types.sort();
    run_types.dedup();
    for run_type in run_types {
        for (label, q) in [("P50", 0.5), ("P95", 0.95)] {
            lines.push(charts::Series {
                name: format!("{run_type} {label}"),
                points: quantile_points(&series.durations, run_type, q),
            });
        }
    }
    charts::SeriesChart {
        title: "Run duration by run type".into(),
        y_label: "duration".into(),
        unit: charts::Unit::Milliseconds,
        series: lines,
    }
}

fn success_chart(series: &crate::storage::RunSeries) -> charts::SeriesChart {
    let points = series
        .success
        .iter()
        .map(|(at, succeeded, counted)| {
            (*at, (*counted > 0).then(|| *succeeded as f64 * 100.0 / *counted as f64))
        })
        .collect();
    charts::SeriesChart {
        title: "Run success rate".into(),
        y_label: "success".into(),
        unit: charts::Unit::Percent,
        series: vec![charts::Series { name: "success rate".into(), points }],
    }
}

fn start_latency_chart(series: &crate::storage::RunSeries) -> charts::SeriesChart {
    let mut pools: Vec<&str> = series.starts.iter().map(|row| row.1.as_str()).collect();
    pools.sort();
    pools.dedup();
    charts::SeriesChart {
        title: "Job start latency P95 by pool".into(),
        y_label: "start latency".into(),
        unit: charts::Unit::Milliseconds,
        series: pools
            .into_iter()
            .map(|pool| charts::Series {
                name: pool.to_owned(),
                points: quantile_points(&series.starts, pool, 0.95),
            })
            .collect(),
    }
}

fn queue_depth_chart(series: &crate::storage::RunSeries) -> charts::SeriesChart {
    let mut pools: Vec<&str> = series.depth.iter().map(|row| row.1.as_str()).collect();
    pools.sort();
    pools.dedup();
    charts::SeriesChart {
        title: "Queue depth by pool (average waiting jobs)".into(),
        y_label: "jobs".into(),
        unit: charts::Unit::Count,
        series: pools
            .into_iter()
            .map(|pool| charts::Series {
                name: pool.to_owned(),
                points: series
                    .depth
                    .iter()
                    .filter(|row| row.1 == pool)
                    .map(|(at, _, waiting)| (*at, Some(*waiting)))
                    .collect(),
            })
            .collect(),
    }
}

/// The `q`-quantile at each time of one key's histograms.
fn quantile_points(
    rows: &[(DateTime<Utc>, String, i16, i64)],
    key: &str,
    q: f64,
) -> Vec<(DateTime<Utc>, Option<f64>)> {
    let mut by_time: BTreeMap<DateTime<Utc>, Vec<(i16, i64)>> = BTreeMap::new();
    for (at, name, bucket, count) in rows {
        if name == key {
            by_time.entry(*at).or_default().push((*bucket, *count));
        }
    }
    by_time
        .into_iter()
        .map(|(at, histogram)| (at, super::histogram::quantile(&histogram, q)))
        .collect()
}
