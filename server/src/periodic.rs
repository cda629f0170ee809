//! Singleton periodic work: every process runs the loops, and each tick first takes or
//! renews a named lease in PostgreSQL, so exactly one process does the work and another
//! takes over within a few intervals when the holder dies. Here too is the work every
//! Factory process with a database shares: orphan recovery, autoscaling and pruning.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::service::Services;

/// How often finished queue rows are pruned.
const PRUNE_QUEUE_EVERY: Duration = Duration::from_secs(600);
/// How often old log lines, attempts and decisions are pruned.
const PRUNE_HISTORY_EVERY: Duration = Duration::from_secs(3600);
/// Rows one pruning statement deletes at a time.
const PRUNE_BATCH: i64 = 500;

/// This process's name as a lease holder: unique per start.
pub fn holder(services: &Services) -> String {
    let process = &services.process;
    format!("{}:{}:{}", process.host, process.pid, process.id.simple())
}

/// Starts the shared periodic work on `tasks`: orphan recovery every heartbeat, the
/// autoscaler, and pruning of finished queue rows and old history.
pub fn spawn_maintenance(
    services: &Arc<Services>,
    shutdown: &CancellationToken,
    tasks: &mut tokio::task::JoinSet<()>,
) {
    let holder = holder(services);
    let heartbeat = services.settings.heartbeat();
    tasks.spawn(singleton(
        services.clone(),
        shutdown.clone(),
        "orphan-recovery",
        holder.clone(),
        heartbeat,
        |services| async move { recover_once(&services).await },
    ));
    tasks.spawn(singleton(
        services.clone(),
        shutdown.clone(),
        "autoscaler",
        holder.clone(),
        crate::pools::scaler::SCALE_EVERY,
        |services| async move {
            crate::pools::scaler::scale_once(&services.store).await?;
            Ok(())
        },
    ));
    tasks.spawn(singleton(
        services.clone(),
        shutdown.clone(),
        "queue-pruner",
        holder.clone(),
        PRUNE_QUEUE_EVERY,
        |services| async move {
            let days = services.settings.queue_retention_days;
            let mut pruned = 0;
            loop {
                let batch = services.store.prune_queue(days, PRUNE_BATCH).await?;
                pruned += batch;
                if batch < PRUNE_BATCH as u64 {
                    break;
                }
            }
            if pruned > 0 {
                info!(pruned, "pruned finished queue rows");
            }
            Ok(())
        },
    ));
    tasks.spawn(singleton(
        services.clone(),
        shutdown.clone(),
        "history-pruner",
        holder,
        PRUNE_HISTORY_EVERY,
        |services| async move {
            let days = services.settings.log_retention_days;
            let pruned = services.store.prune_history(days, PRUNE_BATCH).await?;
            if pruned > 0 {
                info!(pruned, "pruned old job logs, attempts, decisions and worker rows");
            }
            Ok(())
        },
    ));
}

/// Takes back jobs of silent workers and queues again jobs whose queue row is gone.
pub async fn recover_once(services: &Services) -> anyhow::Result<()> {
    let silent_for = services.settings.orphan_after();
    for recovered in services.store.recover_lost_jobs(silent_for).await? {
        warn!(job.id = %recovered.job_id, run.id = %recovered.run_id,
            worker = ?recovered.worker_id, "took back a job from a silent worker");
    }
    for job_id in services.store.requeue_stranded(silent_for).await? {
        warn!(job.id = %job_id, "queued a job again whose queue row was gone");
    }
    Ok(())
}

/// Runs `work` every `every` in whichever process holds the lease `name`.
pub async fn singleton<F, Fut>(
    services: Arc<Services>,
    shutdown: CancellationToken,
    name: &'static str,
    holder: String,
    every: Duration,
    work: F,
) where
    F: Fn(Arc<Services>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    // A few missed ticks before another process may take over.
    let ttl = (every * 3).max(Duration::from_secs(5));
    loop {
        match services.store.try_lease(name, &holder, ttl).await {
            Ok(true) => {
                if let Err(error) = work(services.clone()).await {
                    warn!(lease = name, %error, "periodic work failed");
                }
            }
            Ok(false) => {}
            Err(error) => debug!(lease = name, %error, "could not take a lease"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => break,
        }
    }
    if let Err(error) = services.store.release_lease(name, &holder).await {
        debug!(lease = name, %error, "could not release a lease");
    }
}
