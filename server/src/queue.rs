//! The worker pools: one apalis-postgres queue per pool (`factory-<pool>`), workers with
//! explicit heartbeat, orphan and polling settings, and pool sizes that follow the
//! database within seconds. A pool's size is enforced by a semaphore the handler waits on,
//! so an admin's change applies to running workers without rebuilding them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::{Config as QueueConfig, PostgresStorage};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use crate::config::Settings;
use crate::executor::Executor;
use crate::storage::Store;

/// Every pool Factory has; run type files may only name these.
pub const POOLS: [&str; 3] = ["generate", "verify", "package"];

/// Notified with a pool's name when an admin changes its size.
pub const POOLS_CHANNEL: &str = "factory_pools";

/// Jobs one process may hold per pool, whatever the configured size.
// FIXME: tasks fetched beyond the pool's size wait here for a permit while apalis counts them as running, so another host with free slots cannot take them until this one frees up.
const HARD_SLOTS: usize = 64;

/// How often sizes are re-read even without a notification.
const SIZE_POLL: Duration = Duration::from_secs(5);

/// The argument of every queue task: the job to run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepTask {
    pub job_id: Uuid,
    pub pool: String,
}

pub fn queue_name(pool: &str) -> String {
    format!("factory-{pool}")
}

/// A pool's live size in this process: permits that may be handed out at once.
#[derive(Debug)]
pub struct PoolGate {
    semaphore: Arc<Semaphore>,
    size: std::sync::Mutex<u32>,
}

impl PoolGate {
    fn new(size: u32) -> PoolGate {
        PoolGate {
            semaphore: Arc::new(Semaphore::new(size as usize)),
            size: std::sync::Mutex::new(size),
        }
    }

    /// Grows or shrinks the number of permits; shrinking takes effect as running jobs finish.
    pub fn resize(&self, new_size: u32) {
        let mut size = self.size.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if new_size > *size {
            self.semaphore.add_permits((new_size - *size) as usize);
        } else if new_size < *size {
            let semaphore = self.semaphore.clone();
            let shrink = *size - new_size;
            tokio::spawn(async move {
                if let Ok(permits) = semaphore.acquire_many(shrink).await {
                    permits.forget();
                }
            });
        }
        *size = new_size;
    }

    pub fn size(&self) -> u32 {
        *self.size.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub async fn acquire(&self) -> tokio::sync::OwnedSemaphorePermit {
        self.semaphore.clone().acquire_owned().await.expect("pool semaphore is never closed")
    }
}

/// Worker state shared by every task handler of a process.
#[derive(Clone)]
struct HandlerState {
    executor: Arc<Executor>,
    gates: Arc<HashMap<String, Arc<PoolGate>>>,
}

/// Runs workers for `pools` until `shutdown` is cancelled, restarting a worker that stops
/// with an error (a database outage stops apalis workers).
pub async fn run_workers(
    store: Store,
    executor: Arc<Executor>,
    settings: &Settings,
    pools: &[String],
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let sizes: HashMap<String, u32> = store.pool_sizes().await?.into_iter().collect();
    let gates: HashMap<String, Arc<PoolGate>> = pools
        .iter()
        .map(|pool| (pool.clone(), Arc::new(PoolGate::new(sizes.get(pool).copied().unwrap_or(1)))))
        .collect();
    let gates = Arc::new(gates);
    let state = HandlerState { executor, gates: gates.clone() };

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(follow_pool_sizes(store.clone(), gates.clone(), shutdown.clone()));
    let process = format!("{}-{}", hostname(), std::process::id());
    for pool in pools {
        let config = QueueConfig::default()
            .queue(queue_name(pool))
            .batch_size(4)
            .heartbeat_interval(settings.heartbeat())
            .missed_heartbeats(settings.missed_heartbeats());
        tasks.spawn(supervise_pool(
            store.clone(),
            config,
            pool.clone(),
            process.clone(),
            state.clone(),
            shutdown.clone(),
        ));
    }
    while let Some(result) = tasks.join_next().await {
        if let Err(error) = result {
            warn!(%error, "worker task panicked");
        }
    }
    Ok(())
}

async fn supervise_pool(
    store: Store,
    config: QueueConfig,
    pool: String,
    process: String,
    state: HandlerState,
    shutdown: CancellationToken,
) {
    let mut generation = 0u32;
    while !shutdown.is_cancelled() {
        generation += 1;
        // Unique per process and start, so a crashed predecessor's name is never reused.
        let name = format!("{pool}@{process}-{}-{generation}", Uuid::new_v4().simple());
        let storage = PostgresStorage::<StepTask>::new(store.pool())
            .with_config(config.clone())
            .with_pubsub();
        let worker = WorkerBuilder::new(name.as_str())
            .backend(storage)
            .data(state.clone())
            .concurrency(HARD_SLOTS)
            .build(handle_task);
        let stop = shutdown.clone();
        info!(pool = %pool, worker = %name, "worker started");
        match worker
            .run_until(async move {
                stop.cancelled().await;
                Ok::<(), std::io::Error>(())
            })
            .await
        {
            Ok(()) => info!(pool = %pool, worker = %name, "worker stopped"),
            Err(error) => {
                warn!(pool = %pool, worker = %name, %error, "worker stopped with an error, restarting");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }
}

async fn handle_task(task: StepTask, state: Data<HandlerState>) -> Result<(), BoxDynError> {
    let Some(gate) = state.gates.get(&task.pool) else {
        return Err(format!("task for pool {} reached a worker without it", task.pool).into());
    };
    let _permit = gate.acquire().await;
    state.executor.run_job(task.job_id).await.map_err(|error| error.into())
}

/// Keeps each gate at the configured size: on a notification, and every few seconds.
async fn follow_pool_sizes(
    store: Store,
    gates: Arc<HashMap<String, Arc<PoolGate>>>,
    shutdown: CancellationToken,
) {
    let mut listener = None;
    while !shutdown.is_cancelled() {
        if listener.is_none() {
            listener = match sqlx::postgres::PgListener::connect_with(store.pool()).await {
                Ok(mut new_listener) => match new_listener.listen(POOLS_CHANNEL).await {
                    Ok(()) => Some(new_listener),
                    Err(_) => None,
                },
                Err(_) => None,
            };
        }
        match store.pool_sizes().await {
            Ok(sizes) => {
                for (pool, size) in sizes {
                    if let Some(gate) = gates.get(&pool) {
                        if gate.size() != size {
                            info!(pool = %pool, old_size = gate.size(), new_size = size, "pool resized");
                            gate.resize(size);
                        }
                    }
                }
            }
            Err(error) => warn!(%error, "could not read pool sizes"),
        }
        let notified = async {
            match listener.as_mut() {
                Some(active) => active.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = notified => if result.is_err() { listener = None },
            _ = tokio::time::sleep(SIZE_POLL) => {}
            _ = shutdown.cancelled() => {}
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_gate_grows_and_shrinks_its_permits() {
        let gate = PoolGate::new(1);
        let first = gate.acquire().await;
        gate.resize(2);
        let second = gate.acquire().await;
        assert_eq!(gate.size(), 2);
        drop((first, second));
        gate.resize(0);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(gate.semaphore.available_permits(), 0);
    }
}
