//! The worker pools: one apalis-postgres queue per pool (`factory-<pool>`), served by any
//! number of processes on any number of hosts. Each process takes a share of every pool's
//! size (worked out on each heartbeat from the live members in `pool_workers`), enforced by
//! its `gate`: apalis fetches a task only once a slot is free, and a task that arrives after
//! a pause or a shrink goes back to the queue, so no process holds work another could run.
//! On shutdown a process stops fetching, lets running jobs finish within a grace period and
//! hands back the rest.

pub mod gate;
pub mod process;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::{Config as QueueConfig, PostgresStorage, Pubsub};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use uuid::Uuid;

use crate::storage::{PoolBeat, ProcessBeat, Store};
pub use gate::PoolGate;
use gate::{RoomLayer, Slot};
pub use process::{ActiveAttempt, WorkerProcess};

/// Every pool Factory has; run type files may only name these.
pub const POOLS: [&str; 3] = ["generate", "verify", "package"];

/// Notified with a pool's name when its settings change, so members re-share at once.
pub const POOLS_CHANNEL: &str = "factory_pools";

/// The argument of every queue task: the job to run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepTask {
    pub job_id: Uuid,
    pub pool: String,
}

pub fn queue_name(pool: &str) -> String {
    format!("factory-{pool}")
}

/// What a worker does with a task. The executor runs a job step; benchmarks run nothing.
#[async_trait::async_trait]
pub trait JobRunner: Send + Sync + 'static {
    /// Runs the task's job. An error asks the queue to deliver the task again (the job
    /// could not even be started); once started, the job's fate is the runner's business.
    async fn run(&self, task: StepTask) -> Result<(), BoxDynError>;

    /// Puts a task that arrived without a free slot back in the queue, for any process.
    async fn defer(&self, task: StepTask) -> Result<(), BoxDynError>;

    /// Gives back attempts still running when the shutdown grace period ran out, so
    /// another process can take them at once.
    async fn hand_back(&self, attempts: Vec<ActiveAttempt>);
}

/// Timing of the workers of one process.
#[derive(Clone, Copy, Debug)]
pub struct WorkerTiming {
    /// Between heartbeats of apalis workers and of this process, and between polls for due
    /// retries.
    pub heartbeat: Duration,
    /// Silence after which a process's work is taken over.
    pub orphan_after: Duration,
    /// How long running jobs may take to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl WorkerTiming {
    pub fn from_settings(settings: &crate::config::Settings) -> WorkerTiming {
        WorkerTiming {
            heartbeat: settings.heartbeat(),
            orphan_after: settings.orphan_after(),
            shutdown_grace: settings.shutdown_grace(),
        }
    }

    fn missed_heartbeats(&self) -> usize {
        (self.orphan_after.as_secs_f64() / self.heartbeat.as_secs_f64()).ceil().max(2.0) as usize
    }
}

/// The workers of one process.
#[derive(Clone)]
pub struct PoolWorkers {
    pub store: Store,
    pub runner: Arc<dyn JobRunner>,
    pub process: Arc<WorkerProcess>,
    pub pools: Vec<String>,
    pub timing: WorkerTiming,
}

/// Runs this process's workers until `shutdown`, then drains them: no new work, running jobs
/// get the grace period, what is still running after it is handed back.
pub async fn run_workers(workers: PoolWorkers, shutdown: CancellationToken) -> anyhow::Result<()> {
    let gates: Arc<HashMap<String, Arc<PoolGate>>> = Arc::new(
        workers.pools.iter().map(|pool| (pool.clone(), Arc::new(PoolGate::new(0)))).collect(),
    );
    let stop_heartbeat = CancellationToken::new();
    let heartbeat =
        tokio::spawn(heartbeat_loop(workers.clone(), gates.clone(), stop_heartbeat.clone()));

    let mut supervisors = tokio::task::JoinSet::new();
    for pool in &workers.pools {
        supervisors.spawn(supervise_pool(
            workers.clone(),
            pool.clone(),
            gates[pool].clone(),
            shutdown.clone(),
        ));
    }
    info!(process.id = %workers.process.id, pools = ?workers.pools, "workers started");

    shutdown.cancelled().await;
    workers.process.start_draining();
    let running = workers.process.active().len();
    info!(running, grace_secs = workers.timing.shutdown_grace.as_secs(), "draining workers");
    let drained = tokio::time::timeout(workers.timing.shutdown_grace, async {
        while supervisors.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        let unfinished = workers.process.active();
        warn!(unfinished = unfinished.len(), "shutdown grace ran out; handing back running jobs");
        supervisors.abort_all();
        workers.runner.hand_back(unfinished).await;
    }

    stop_heartbeat.cancel();
    if let Err(error) = heartbeat.await {
        warn!(%error, "heartbeat task panicked");
    }
    if let Err(error) = workers.store.worker_stopped(workers.process.id).await {
        warn!(%error, "could not record that this process stopped");
    }
    info!(process.id = %workers.process.id, "workers stopped");
    Ok(())
}

/// Keeps one pool's apalis worker running, restarting it after a database error stops it.
async fn supervise_pool(
    workers: PoolWorkers,
    pool: String,
    gate: Arc<PoolGate>,
    shutdown: CancellationToken,
) {
    let config = QueueConfig::default()
        .queue(queue_name(&pool))
        // One task per fetch: a task is claimed only when a slot is free for it.
        .batch_size(1)
        .heartbeat_interval(workers.timing.heartbeat)
        .missed_heartbeats(workers.timing.missed_heartbeats());
    let mut generation = 0u32;
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        generation += 1;
        // Unique per process and start, so a crashed predecessor's name is never reused.
        let name =
            format!("{pool}@{}-{}-{generation}", workers.process.host, workers.process.id.simple());
        // New tasks are announced (LISTEN/NOTIFY); a poll every heartbeat also finds what
        // no announcement woke this worker for: tasks that arrived while the pool had no
        // free slot here, or while the listener was reconnecting.
        let wake_ups = Strategy::new()
            .stream(Pubsub::new(workers.store.pool().clone(), queue_name(&pool)))
            .interval(workers.timing.heartbeat);
        let storage = PollWith::new(
            PostgresStorage::<StepTask>::new(workers.store.pool()).with_config(config.clone()),
            wake_ups,
        );
        let worker = WorkerBuilder::new(name.as_str())
            .backend(storage)
            .layer(RoomLayer::new(gate.clone()))
            .data(Handler { runner: workers.runner.clone(), gate: gate.clone() })
            .build(handle_task);
        let stop = shutdown.clone();
        let started = std::time::Instant::now();
        let outcome = worker
            .run_until(async move {
                stop.cancelled().await;
                Ok::<(), std::io::Error>(())
            })
            .await;
        match outcome {
            Ok(()) if shutdown.is_cancelled() => return,
            Ok(()) => {
                warn!(pool = %pool, worker = %name, "worker stopped unexpectedly; restarting")
            }
            Err(error) => {
                // A worker that ran a while before failing starts a new outage.
                if started.elapsed() > Duration::from_secs(60) {
                    failures = 0;
                }
                failures += 1;
                // Each outage is worth one warning, not one per restart.
                if failures == 1 {
                    warn!(pool = %pool, worker = %name, %error,
                        "worker stopped with an error; restarting until it runs again");
                }
            }
        }
        let pause = Duration::from_secs(u64::from(failures.clamp(1, 5)));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.cancelled() => {}
        }
    }
}

/// What the handler needs, as worker data (a named type, so apalis's handler bounds hold).
#[derive(Clone)]
struct Handler {
    runner: Arc<dyn JobRunner>,
    gate: Arc<PoolGate>,
}

async fn handle_task(task: StepTask, handler: Data<Handler>) -> Result<(), BoxDynError> {
    let Handler { runner, gate } = (*handler).clone();
    let Some(slot) = gate.try_enter() else {
        // Paused or shrunk after this worker asked for a task: another process may have room.
        return runner.defer(task).await;
    };
    // A task of its own, so an apalis worker stopped by a database error does not cancel a
    // step half-way: the attempt finishes (or is recovered) whatever happens to the worker,
    // and keeps its slot until it does.
    tokio::spawn(run_in_slot(runner, task, slot))
        .await
        .map_err(|error| -> BoxDynError { format!("job task failed: {error}").into() })?
}

async fn run_in_slot(
    runner: Arc<dyn JobRunner>,
    task: StepTask,
    slot: Slot,
) -> Result<(), BoxDynError> {
    let result = runner.run(task).await;
    drop(slot);
    result
}

/// Heartbeats of this process: reports its slots and running jobs, vouches for its running
/// attempts, and resizes each gate to this process's share of the pool. A settings change
/// (notified on `POOLS_CHANNEL`) triggers a heartbeat at once.
async fn heartbeat_loop(
    workers: PoolWorkers,
    gates: Arc<HashMap<String, Arc<PoolGate>>>,
    stop: CancellationToken,
) {
    let mut listener: Option<sqlx::postgres::PgListener> = None;
    let mut failing = false;
    while !stop.is_cancelled() {
        if listener.is_none() {
            listener = listen(&workers.store).await;
        }
        let mut reshared = false;
        match workers.store.worker_heartbeat(&beat(&workers, &gates)).await {
            Ok(memberships) => {
                if failing {
                    info!("heartbeats reach the database again");
                    failing = false;
                }
                for membership in memberships {
                    let Some(gate) = gates.get(&membership.pool) else { continue };
                    let share = if membership.paused || workers.process.is_draining() {
                        0
                    } else {
                        process::share_of(membership.size, &membership.members, workers.process.id)
                    };
                    if gate.size() != share {
                        info!(pool = %membership.pool, old_slots = gate.size(), new_slots = share,
                            pool_size = membership.size, members = membership.members.len(),
                            "pool share changed");
                        gate.resize(share);
                        reshared = true;
                    }
                }
            }
            Err(error) => {
                if !failing {
                    warn!(%error, "worker heartbeat failed; retrying every heartbeat");
                    failing = true;
                }
            }
        }
        if reshared {
            // Report the new slots at once rather than a heartbeat later.
            continue;
        }
        let notified = async {
            match listener.as_mut() {
                Some(active) => active.recv().await.map(|_| ()),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = notified => if result.is_err() { listener = None },
            _ = tokio::time::sleep(workers.timing.heartbeat) => {}
            _ = stop.cancelled() => {}
        }
    }
}

async fn listen(store: &Store) -> Option<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect_with(store.pool()).await.ok()?;
    listener.listen(POOLS_CHANNEL).await.ok()?;
    Some(listener)
}

fn beat(workers: &PoolWorkers, gates: &HashMap<String, Arc<PoolGate>>) -> ProcessBeat {
    let process = &workers.process;
    ProcessBeat {
        process_id: process.id,
        host: process.host.clone(),
        pid: process.pid,
        version: process.version.to_owned(),
        draining: process.is_draining(),
        pools: workers
            .pools
            .iter()
            .map(|pool| PoolBeat {
                pool: pool.clone(),
                slots: gates.get(pool).map(|gate| gate.size()).unwrap_or(0),
                running: process.running_in(pool),
                jobs_done: process.jobs_done(pool),
            })
            .collect(),
        leases: process.active().into_iter().map(|attempt| attempt.lease).collect(),
        live_within: workers.timing.orphan_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_heartbeats_cover_the_orphan_timeout_and_are_never_fewer_than_two() {
        let timing = |heartbeat, orphan| WorkerTiming {
            heartbeat: Duration::from_secs(heartbeat),
            orphan_after: Duration::from_secs(orphan),
            shutdown_grace: Duration::from_secs(30),
        };
        assert_eq!(timing(2, 30).missed_heartbeats(), 15);
        assert_eq!(timing(4, 30).missed_heartbeats(), 8);
        assert_eq!(timing(5, 5).missed_heartbeats(), 2);
    }
}
