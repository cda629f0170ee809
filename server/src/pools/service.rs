//! What callers may ask of the pools: their live views (the overview, the pools page and
//! `GET /api/v1/pools`), the admin's page with changes, decisions and charts, and an admin's
//! change, checked before anything is stored.

use std::collections::HashMap;
use std::time::Duration;

use app::model::{
    PoolChartRow, PoolCharts, PoolSettingsView, PoolUpdate, PoolView, PoolWorkerView, PoolsPage,
};

use super::{health, PoolLoad, LATENCY_WINDOW_MINUTES};
use crate::auth::Scope;
use crate::charts::{self, Series, SeriesChart, Unit};
use crate::reliability::histogram::quantile;
use crate::service::{ServiceError, Services};
use crate::storage::PoolHistoryStep;

/// Hours of history the pools page charts, and the width of one step.
const CHART_HOURS: u32 = 6;
const CHART_STEP_MINUTES: u32 = 5;
/// Entries of the change record and decision list on the page.
const RECENT_ENTRIES: i64 = 50;

impl Services {
    /// Every pool with its settings, live numbers, health and worker processes.
    pub async fn pool_views(&self) -> Result<Vec<PoolView>, ServiceError> {
        let store = &self.store;
        let pools = store.stored_pools().await?;
        let loads = store.queue_loads().await?;
        let latencies = store.recent_start_p95(LATENCY_WINDOW_MINUTES).await?;
        let mut workers: HashMap<String, Vec<PoolWorkerView>> = HashMap::new();
        for (pool, worker) in store.pool_workers(self.settings.orphan_after()).await? {
            workers.entry(pool).or_default().push(worker);
        }

        let now = chrono::Utc::now();
        Ok(pools
            .into_iter()
            .map(|pool| {
                let load = loads.get(&pool.name).copied().unwrap_or_default();
                let p95_start_ms = latencies.get(&pool.name).copied();
                let desired_size = super::scaler::desired_size(&pool, load, p95_start_ms, now);
                let live = PoolLoad {
                    waiting: load.waiting.clamp(0, i64::from(u32::MAX)) as u32,
                    running: load.running.clamp(0, i64::from(u32::MAX)) as u32,
                    oldest_wait: load
                        .oldest_wait_ms
                        .map(|ms| Duration::from_millis(ms.max(0) as u64)),
                };
                let settings = pool.settings;
                PoolView {
                    size: settings.size,
                    queue_depth: load.waiting,
                    running: load.running,
                    oldest_wait_ms: load.oldest_wait_ms,
                    p95_start_ms,
                    desired_size,
                    health: health(&settings, &live),
                    workers: workers.remove(&pool.name).unwrap_or_default(),
                    settings: PoolSettingsView {
                        size: settings.size,
                        min_size: settings.min_size,
                        max_size: settings.max_size,
                        paused: settings.paused,
                        autoscale: settings.autoscale,
                        target_start_ms: settings.target_start_ms,
                        cooldown_secs: settings.cooldown_secs,
                        note: settings.note,
                        updated_at: pool.updated_at,
                        updated_by: pool.updated_by,
                    },
                    name: pool.name,
                }
            })
            .collect())
    }

    /// The pools page (admins only: notes name the staff who wrote them).
    pub async fn pools(&self, scope: &Scope) -> Result<PoolsPage, ServiceError> {
        if !scope.is_admin() {
            return Err(ServiceError::Forbidden("only admins manage pools".into()));
        }
        let history = self.store.pool_history(CHART_HOURS, CHART_STEP_MINUTES).await?;
        let pools = self.pool_views().await?;
        let charts = pools.iter().map(|pool| pool_charts(&pool.name, &history)).collect();
        Ok(PoolsPage {
            pools,
            changes: self.store.pool_changes(RECENT_ENTRIES).await?,
            decisions: self.store.scaling_decisions(RECENT_ENTRIES).await?,
            charts,
            chart_hours: CHART_HOURS,
            max_size: self.settings.max_pool_size,
        })
    }

    /// Changes a pool's bounds, pause, autoscaling mode or targets (admins only). Every
    /// worker process follows within a heartbeat; the change is recorded with its note.
    pub async fn update_pool(
        &self,
        scope: &Scope,
        pool: &str,
        update: &PoolUpdate,
    ) -> Result<PoolView, ServiceError> {
        if !scope.is_admin() {
            return Err(ServiceError::Forbidden("only admins change pools".into()));
        }
        let limit = self.settings.max_pool_size;
        self.store
            .change_pool(pool, scope.actor(), |current| current.apply(update, limit))
            .await?
            .map_err(ServiceError::Invalid)?;
        let views = self.pool_views().await?;
        views.into_iter().find(|view| view.name == pool).ok_or(ServiceError::NotFound)
    }
}

/// One pool's queue depth and start latency charts, with the numbers as a table.
fn pool_charts(pool: &str, history: &[PoolHistoryStep]) -> PoolCharts {
    let steps: Vec<&PoolHistoryStep> = history.iter().filter(|step| step.pool == pool).collect();
    let rows: Vec<PoolChartRow> = steps
        .iter()
        .map(|step| PoolChartRow {
            at: step.at,
            waiting: step.waiting.round() as i64,
            running: step.running.round() as i64,
            p95_start_ms: quantile(&step.starts, 0.95),
        })
        .collect();
    let depth = SeriesChart {
        title: format!("{pool}: jobs waiting and running"),
        y_label: "jobs".into(),
        unit: Unit::Count,
        series: vec![
            Series {
                name: "waiting".into(),
                points: steps.iter().map(|step| (step.at, Some(step.waiting))).collect(),
            },
            Series {
                name: "running".into(),
                points: steps.iter().map(|step| (step.at, Some(step.running))).collect(),
            },
        ],
    };
    let latency = SeriesChart {
        title: format!("{pool}: start latency P95"),
        y_label: "start latency".into(),
        unit: Unit::Milliseconds,
        series: vec![Series {
            name: "P95".into(),
            points: rows.iter().map(|row| (row.at, row.p95_start_ms)).collect(),
        }],
    };
    PoolCharts {
        pool: pool.to_owned(),
        queue_depth_svg: charts::time_series(&depth),
        start_latency_svg: charts::time_series(&latency),
        rows,
    }
}
