//! Singleton periodic work of reliability: probing the control plane API, sampling queue
//! depth, and pruning old samples, each under a lease (`crate::periodic`), so only one
//! process does the work and another takes over within a few intervals when it dies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::service::Services;
use crate::storage::ProbeSample;

/// How long a single probe may take before it counts as a failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often queue depth is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(60);
/// How often old samples are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Starts the reliability loops on `tasks`.
pub fn spawn(
    services: &Arc<Services>,
    shutdown: &CancellationToken,
    tasks: &mut tokio::task::JoinSet<()>,
) -> anyhow::Result<()> {
    let holder = crate::periodic::holder(services);
    if services.settings.probe_interval_secs > 0 {
        let prober = Prober::new(services, holder.clone())?;
        tasks.spawn(prober.run(shutdown.clone()));
    }
    tasks.spawn(crate::periodic::singleton(
        services.clone(),
        shutdown.clone(),
        "queue-sampler",
        holder.clone(),
        SAMPLE_EVERY,
        |services| async move { Ok(services.store.sample_queues().await?) },
    ));
    tasks.spawn(crate::periodic::singleton(
        services.clone(),
        shutdown.clone(),
        "reliability-pruner",
        holder,
        PRUNE_EVERY,
        |services| async move {
            let days = services.settings.probe_retention_days;
            let pruned = services.store.prune_reliability(days).await?;
            if pruned > 0 {
                info!(pruned, "pruned old probe, queue and per-minute samples");
            }
            Ok(())
        },
    ));
    Ok(())
}

/// Requests `/readyz` on an interval and stores each sample while holding the lease.
struct Prober {
    services: Arc<Services>,
    holder: String,
    url: String,
    every: Duration,
    client: reqwest::Client,
}

impl Prober {
    fn new(services: &Arc<Services>, holder: String) -> anyhow::Result<Prober> {
        let settings = &services.settings;
        let url = match &settings.probe_url {
            Some(url) => url.clone(),
            None => {
                let mut addr = settings.addr;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{addr}/readyz")
            }
        };
        anyhow::ensure!(
            url.starts_with("http://"),
            "FACTORY_PROBE_URL must be a plain http:// URL inside the deployment, got {url}"
        );
        let client = reqwest::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .build()
            .map_err(|error| anyhow::anyhow!("build the prober's HTTP client: {error}"))?;
        Ok(Prober {
            services: services.clone(),
            holder,
            url,
            every: Duration::from_secs(settings.probe_interval_secs.max(1)),
            client,
        })
    }

    async fn run(self, shutdown: CancellationToken) {
        let lease_ttl = self.every * 3;
        loop {
            match self.services.store.try_lease("prober", &self.holder, lease_ttl).await {
                Ok(true) => self.probe_once().await,
                Ok(false) => debug!("another process holds the prober lease"),
                Err(error) => warn!(%error, "could not take the prober lease"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.every) => {}
                _ = shutdown.cancelled() => break,
            }
        }
        if let Err(error) = self.services.store.release_lease("prober", &self.holder).await {
            debug!(%error, "could not release the prober lease");
        }
    }

    async fn probe_once(&self) {
        let at = Utc::now();
        let started = Instant::now();
        let outcome = self.client.get(&self.url).send().await;
        let latency_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        let (up, error) = match outcome {
            Ok(response) if response.status().is_success() => (true, None),
            Ok(response) => (false, Some(format!("status {}", response.status().as_u16()))),
            Err(error) if error.is_timeout() => (false, Some("timed out".to_owned())),
            Err(error) => (false, Some(format!("request failed: {error}"))),
        };
        if let Some(error) = &error {
            warn!(url = %self.url, %error, latency_ms, "control plane probe failed");
        }
        let sample = ProbeSample { at, up, latency_ms, error };
        if let Err(error) = self.services.store.record_probe(&self.holder, &sample).await {
            // Without the database there is nowhere to write: the minute stays "no data".
            warn!(%error, "could not store a probe sample");
        }
    }
}
