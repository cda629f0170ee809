//! API response times per route, recorded by middleware into an in-process histogram and
//! flushed to the hourly rollup every few seconds, so a request never waits on a write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::histogram::bucket_of;
use crate::service::Services;

/// How often recorded timings are written to PostgreSQL.
const FLUSH_EVERY: Duration = Duration::from_secs(10);

/// Requests per histogram bucket.
type Buckets = HashMap<i16, i32>;

/// Timings not yet written: (hour, route) → bucket → requests.
#[derive(Default)]
pub struct ApiTimings {
    pending: Mutex<HashMap<(DateTime<Utc>, &'static str), Buckets>>,
}

impl ApiTimings {
    pub fn record(&self, route: &'static str, at: DateTime<Utc>, elapsed: Duration) {
        let hour = at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at);
        let bucket = bucket_of(elapsed.as_secs_f64() * 1000.0);
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *pending.entry((hour, route)).or_default().entry(bucket).or_default() += 1;
    }

    /// Takes everything recorded so far as rows for the rollup.
    pub fn drain(&self) -> Vec<(DateTime<Utc>, String, i16, i32)> {
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pending
            .drain()
            .flat_map(|((hour, route), buckets)| {
                buckets.into_iter().map(move |(bucket, n)| (hour, route.to_owned(), bucket, n))
            })
            .collect()
    }
}

/// The routes whose response times the SLA pages show, by method and matched path.
fn route_name(method: &Method, path: &str) -> Option<&'static str> {
    match (method.as_str(), path) {
        ("POST", "/api/v1/runs") => Some("create run"),
        ("GET", "/api/v1/runs") => Some("list runs"),
        ("GET", "/api/v1/runs/{id}") => Some("run status"),
        _ => None,
    }
}

/// Middleware: times the request and records it under its route's name.
pub async fn time_request(
    State(services): State<Arc<Services>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| route_name(request.method(), path.as_str()));
    let at = Utc::now();
    let started = Instant::now();
    let response = next.run(request).await;
    if let Some(route) = route {
        services.api_timings.record(route, at, started.elapsed());
    }
    response
}

/// Writes recorded timings every few seconds, and once more on shutdown.
pub async fn flush_loop(services: Arc<Services>, shutdown: CancellationToken) {
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(FLUSH_EVERY) => false,
            _ = shutdown.cancelled() => true,
        };
        let batch = services.api_timings.drain();
        if let Err(error) = services.store.record_api_latency(&batch).await {
            // Losing a few seconds of timings beats holding requests up; say so.
            warn!(%error, requests = batch.len(), "could not store API response times");
        }
        if stopping {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_run_creation_status_and_list_are_timed() {
        assert_eq!(route_name(&Method::POST, "/api/v1/runs"), Some("create run"));
        assert_eq!(route_name(&Method::GET, "/api/v1/runs"), Some("list runs"));
        assert_eq!(route_name(&Method::GET, "/api/v1/runs/{id}"), Some("run status"));
        assert_eq!(route_name(&Method::POST, "/api/v1/runs/{id}/cancel"), None);
        assert_eq!(route_name(&Method::GET, "/api/v1/reliability"), None);
    }

    #[test]
    fn recorded_timings_are_drained_once_per_hour_route_and_bucket() {
        let timings = ApiTimings::default();
        let at = "2026-11-05T10:15:00Z".parse().unwrap();
        timings.record("run status", at, Duration::from_millis(20));
        timings.record("run status", at, Duration::from_millis(20));
        timings.record("list runs", at, Duration::from_millis(400));
        let mut rows = timings.drain();
        rows.sort_by(|a, b| a.1.cmp(&b.1));
        let hour: DateTime<Utc> = "2026-11-05T10:00:00Z".parse().unwrap();
        assert_eq!(
            rows,
            vec![
                (hour, "list runs".to_owned(), bucket_of(400.0), 1),
                (hour, "run status".to_owned(), bucket_of(20.0), 2),
            ]
        );
        assert!(timings.drain().is_empty());
    }
}
