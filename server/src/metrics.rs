//! `/metrics` for Prometheus (OpenMetrics text): each pool's queue depth, running jobs,
//! oldest wait, P95 start latency and the size the autoscaler's rule wants, runs by status,
//! and this process's HTTP response times per route. The queue numbers are read from
//! PostgreSQL at each scrape (every process reports the same platform-wide values); the HTTP
//! histogram is this process's own, so Prometheus sums it across instances.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use std::sync::atomic::AtomicU64;
use tracing::warn;

use crate::service::Services;

/// The statuses a run can have (the `runs.status` CHECK constraint).
const RUN_STATUSES: [&str; 6] =
    ["rejected", "queued", "running", "succeeded", "failed", "cancelled"];

/// What Prometheus is told the body is.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabel {
    pool: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    /// The route's pattern (`/api/v1/runs/{id}`), never the raw path, so the label set stays
    /// small.
    route: String,
    status: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The registry and the families it holds. One per process, in `Services`.
pub struct Metrics {
    registry: Registry,
    database_up: Gauge,
    queue_depth: Family<PoolLabel, Gauge>,
    running: Family<PoolLabel, Gauge>,
    oldest_wait: Family<PoolLabel, FloatGauge>,
    start_p95: Family<PoolLabel, FloatGauge>,
    pool_size: Family<PoolLabel, Gauge>,
    desired_size: Family<PoolLabel, Gauge>,
    runs: Family<StatusLabel, Gauge>,
    http: Family<HttpLabels, Histogram>,
    /// One scrape at a time refreshes the gauges, so two scrapes never interleave values.
    scrape: tokio::sync::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("factory");
        let database_up = Gauge::default();
        registry.register(
            "database_up",
            "Whether this process reached PostgreSQL at this scrape (the other queue numbers are missing when not)",
            database_up.clone(),
        );
        let queue_depth = Family::<PoolLabel, Gauge>::default();
        registry.register("queue_depth", "Jobs due and waiting for a slot", queue_depth.clone());
        let running = Family::<PoolLabel, Gauge>::default();
        registry.register("jobs_running", "Jobs started and not yet finished", running.clone());
        let oldest_wait = Family::<PoolLabel, FloatGauge>::default();
        registry.register(
            "oldest_wait_seconds",
            "How long the oldest waiting job has waited",
            oldest_wait.clone(),
        );
        let start_p95 = Family::<PoolLabel, FloatGauge>::default();
        registry.register(
            "start_latency_p95_seconds",
            "P95 of queued-to-started over the last 15 minutes, first attempts (absent when no job started)",
            start_p95.clone(),
        );
        let pool_size = Family::<PoolLabel, Gauge>::default();
        registry.register(
            "pool_size",
            "The pool's size: slots shared by its live worker processes",
            pool_size.clone(),
        );
        let desired_size = Family::<PoolLabel, Gauge>::default();
        registry.register(
            "pool_desired_size",
            "The size the autoscaler's rule wants now, within the pool's bounds, cooldown aside",
            desired_size.clone(),
        );
        let runs = Family::<StatusLabel, Gauge>::default();
        registry.register("runs", "Runs by status", runs.clone());
        let http = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            // 1 ms to about 16 s.
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register(
            "http_request_duration_seconds",
            "Response times of this process, by route",
            http.clone(),
        );
        Metrics {
            registry,
            database_up,
            queue_depth,
            running,
            oldest_wait,
            start_p95,
            pool_size,
            desired_size,
            runs,
            http,
            scrape: tokio::sync::Mutex::new(()),
        }
    }

    fn observe_http(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        let labels = HttpLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status: status.as_u16().to_string(),
        };
        self.http.get_or_create(&labels).observe(seconds);
    }

    /// Reads the platform's numbers and encodes everything. A database that does not answer
    /// leaves the queue families empty and `factory_database_up` at 0; the HTTP histogram is
    /// still reported.
    pub async fn render(&self, services: &Services) -> String {
        let _one_at_a_time = self.scrape.lock().await;
        match self.refresh(services).await {
            Ok(()) => {
                self.database_up.set(1);
            }
            Err(error) => {
                warn!(error = format!("{error:#}"), "metrics: could not read the queues");
                self.clear_platform();
                self.database_up.set(0);
            }
        }
        let mut body = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut body, &self.registry);
        body
    }

    /// Forgets the numbers read from PostgreSQL, so none outlives the scrape that read it.
    fn clear_platform(&self) {
        for family in [&self.queue_depth, &self.running, &self.pool_size, &self.desired_size] {
            family.clear();
        }
        self.oldest_wait.clear();
        self.start_p95.clear();
        self.runs.clear();
    }

    async fn refresh(&self, services: &Services) -> anyhow::Result<()> {
        let pools = services.pool_views().await?;
        let runs = services.store.runs_by_status().await?;

        self.clear_platform();
        for pool in pools {
            let label = PoolLabel { pool: pool.name.clone() };
            self.queue_depth.get_or_create(&label).set(pool.queue_depth);
            self.running.get_or_create(&label).set(pool.running);
            self.pool_size.get_or_create(&label).set(i64::from(pool.size));
            let wait_ms = pool.oldest_wait_ms.unwrap_or(0);
            self.oldest_wait.get_or_create(&label).set(wait_ms as f64 / 1000.0);
            if let Some(p95) = pool.p95_start_ms {
                self.start_p95.get_or_create(&label).set(p95 / 1000.0);
            }
            self.desired_size.get_or_create(&label).set(i64::from(pool.desired_size));
        }
        // Every status, zero included, so a dashboard reads 0 rather than "no data".
        for status in RUN_STATUSES {
            let count = runs.iter().find(|(name, _)| name == status).map_or(0, |(_, n)| *n);
            self.runs.get_or_create(&StatusLabel { status: status.to_owned() }).set(count);
        }
        Ok(())
    }
}

/// `GET /metrics`. Open to anyone unless `FACTORY_METRICS_TOKEN` is set, then only with
/// `Authorization: Bearer <token>`.
pub async fn scrape(State(services): State<Arc<Services>>, headers: HeaderMap) -> Response {
    if let Some(expected) = services.settings.metrics_token.as_deref() {
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        // Compare digests, so the time taken says nothing about the token.
        let matches = given.is_some_and(|given| {
            Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
        });
        if !matches {
            return (StatusCode::UNAUTHORIZED, "metrics need the bearer token").into_response();
        }
    }
    let body = services.metrics.render(&services).await;
    ([(CONTENT_TYPE, OPENMETRICS)], body).into_response()
}

/// Middleware (as a route layer, where the matched route is known): times each request into
/// the HTTP histogram.
pub async fn time_http(
    State(services): State<Arc<Services>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "other".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    services.metrics.observe_http(
        &method,
        &route,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_timings_are_encoded_per_route_method_and_status() {
        let metrics = Metrics::new();
        metrics.observe_http("GET", "/api/v1/runs/{id}", StatusCode::OK, 0.003);
        metrics.observe_http("GET", "/api/v1/runs/{id}", StatusCode::OK, 0.003);
        metrics.observe_http("POST", "/api/v1/runs", StatusCode::UNPROCESSABLE_ENTITY, 0.5);
        let mut body = String::new();
        prometheus_client::encoding::text::encode(&mut body, &metrics.registry).unwrap();
        assert!(
            body.contains(
                "factory_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/runs/{id}\",status=\"200\"} 2"
            ),
            "{body}"
        );
        assert!(
            body.contains(
                "factory_http_request_duration_seconds_bucket{le=\"0.004\",method=\"GET\",route=\"/api/v1/runs/{id}\",status=\"200\"} 2"
            ),
            "{body}"
        );
        assert!(
            body.contains(
                "factory_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/runs\",status=\"422\"} 1"
            ),
            "{body}"
        );
        assert!(body.ends_with("# EOF\n"), "{body}");
    }
}
