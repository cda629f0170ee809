//! The autoscaler's pass: read every pool's settings and live numbers, ask the rule in
//! `autoscale` for a size, and record each decision with its inputs (applying it unless the
//! pool is in dry-run). Runs under the `autoscaler` lease, so one process decides at a time.

use std::time::Duration;

use app::model::AutoscaleMode;
use chrono::{DateTime, Utc};
use tracing::info;

use super::autoscale::{decide, ScaleInput};
use crate::storage::{QueueLoad, ScalingRecord, Store, StoreError, StoredPool};

/// How often the autoscaler looks at the pools.
pub const SCALE_EVERY: Duration = Duration::from_secs(5);
/// The window of start latency it reads, as the pools page shows it.
pub const LATENCY_WINDOW_MINUTES: u32 = 15;

/// One pass over every pool; returns the decisions recorded.
pub async fn scale_once(store: &Store) -> Result<Vec<(String, ScalingRecord)>, StoreError> {
    let pools = store.stored_pools().await?;
    let loads = store.queue_loads().await?;
    let latencies = store.recent_start_p95(LATENCY_WINDOW_MINUTES).await?;
    let now = Utc::now();

    let mut recorded = Vec::new();
    for pool in pools {
        let load = loads.get(&pool.name).copied().unwrap_or_default();
        let p95_start_ms = latencies.get(&pool.name).copied();
        let settings = &pool.settings;
        let input = scale_input(&pool, load, p95_start_ms, now);
        let Some(decision) = decide(&input) else { continue };
        let record = ScalingRecord {
            old_size: settings.size,
            new_size: decision.new_size,
            apply: settings.autoscale == AutoscaleMode::On,
            load,
            p95_start_ms,
            reason: decision.reason,
        };
        if store.record_scaling(&pool.name, &record).await? {
            info!(pool = %pool.name, old_size = record.old_size, new_size = record.new_size,
                applied = record.apply, waiting = load.waiting, running = load.running,
                oldest_wait_ms = load.oldest_wait_ms, p95_start_ms, reason = %record.reason,
                "autoscaler decision");
            recorded.push((pool.name, record));
        }
    }
    Ok(recorded)
}

/// The size the rule wants for `pool` now, ignoring the cooldown: the signal `/metrics`
/// exports for an external autoscaler. Equals the size when the rule would leave it.
pub fn desired_size(
    pool: &StoredPool,
    load: QueueLoad,
    p95_start_ms: Option<f64>,
    now: DateTime<Utc>,
) -> u32 {
    let input =
        ScaleInput { since_resize: Duration::MAX, ..scale_input(pool, load, p95_start_ms, now) };
    decide(&input).map_or(input.size, |decision| decision.new_size)
}

/// What the rule reads of one pool.
fn scale_input(
    pool: &StoredPool,
    load: QueueLoad,
    p95_start_ms: Option<f64>,
    now: DateTime<Utc>,
) -> ScaleInput {
    let settings = &pool.settings;
    ScaleInput {
        size: settings.size,
        min_size: settings.min_size,
        max_size: settings.max_size,
        paused: settings.paused,
        waiting: clamp_count(load.waiting),
        running: clamp_count(load.running),
        oldest_wait: load.oldest_wait_ms.map(|ms| Duration::from_millis(ms.max(0) as u64)),
        p95_start: p95_start_ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0)),
        target_start: settings.target_start(),
        cooldown: Duration::from_secs(u64::from(settings.cooldown_secs)),
        since_resize: (now - pool.resized_at).to_std().unwrap_or_default(),
    }
}

fn clamp_count(count: i64) -> u32 {
    count.clamp(0, i64::from(u32::MAX)) as u32
}
