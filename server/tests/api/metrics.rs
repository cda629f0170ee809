//! `/metrics` and the KEDA triggers under `deploy/`: both read each pool's load from the same
//! view, so an external autoscaler sees what the pools page and Factory's autoscaler see.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde::Deserialize as _;
use serde_yaml::Value as Yaml;

use crate::helpers::{library_params, spawn_app_configured, spawn_app_with, TestApp, Workers};

async fn scrape(app: &TestApp, token: Option<&str>) -> (StatusCode, String, String) {
    let mut request = Request::builder().method(Method::GET).uri("/metrics");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let reply = app.request(request.body(Body::empty()).unwrap()).await;
    let content_type = reply
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (reply.status, content_type, reply.text())
}

/// The value of the sample `series` (name and labels exactly as exported).
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_report_each_pools_queue_runs_by_status_and_http_timings() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    // Size 1 with room to grow and a target every waiting job misses: the rule wants a slot
    // per job.
    let bounds =
        app::model::PoolUpdate { min_size: Some(1), max_size: Some(1), ..Default::default() };
    let room = app::model::PoolUpdate {
        max_size: Some(8),
        target_start_ms: Some(1),
        ..Default::default()
    };
    for update in [bounds, room] {
        app.store()
            .change_pool("generate", "test", |current| current.apply(&update, 32))
            .await
            .unwrap()
            .unwrap();
    }
    for _ in 0..3 {
        app.submit_id("library", library_params()).await;
    }
    let listed = app.api(Method::GET, "/api/v1/runs", &app.acme_token, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let (status, content_type, body) = scrape(&app, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    assert_eq!(sample(&body, "factory_database_up"), Some(1.0), "{body}");
    assert_eq!(sample(&body, r#"factory_queue_depth{pool="generate"}"#), Some(3.0), "{body}");
    assert_eq!(sample(&body, r#"factory_queue_depth{pool="verify"}"#), Some(0.0), "{body}");
    assert_eq!(sample(&body, r#"factory_jobs_running{pool="generate"}"#), Some(0.0), "{body}");
    assert_eq!(sample(&body, r#"factory_pool_size{pool="generate"}"#), Some(1.0), "{body}");
    assert_eq!(
        sample(&body, r#"factory_pool_desired_size{pool="generate"}"#),
        Some(3.0),
        "three jobs wait past the target: {body}"
    );
    let waited = sample(&body, r#"factory_oldest_wait_seconds{pool="generate"}"#).unwrap();
    assert!(waited > 0.0 && waited < 60.0, "{body}");
    assert_eq!(sample(&body, r#"factory_runs{status="queued"}"#), Some(3.0), "{body}");
    assert_eq!(
        sample(&body, r#"factory_runs{status="failed"}"#),
        Some(0.0),
        "every status: {body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"factory_http_request_duration_seconds_count{method="GET",route="/api/v1/runs",status="200"}"#
        ),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        sample(
            &body,
            r#"factory_http_request_duration_seconds_count{method="POST",route="/api/v1/runs",status="201"}"#
        ),
        Some(3.0),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"));
}

#[tokio::test]
async fn a_metrics_token_keeps_metrics_from_anyone_without_it() {
    let app = spawn_app_configured(Workers::Elsewhere, |settings| {
        settings.metrics_token = Some("scrape-me".into());
    })
    .await;
    assert_eq!(scrape(&app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, Some("guess")).await.0, StatusCode::UNAUTHORIZED);
    let (status, _, body) = scrape(&app, Some("scrape-me")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sample(&body, "factory_database_up"), Some(1.0), "{body}");
}

/// Every ScaledObject under `deploy/keda`: the Deployment it scales and its query.
fn scaled_objects() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/keda/scaledobjects.yaml");
    let text = std::fs::read_to_string(path).expect("read the KEDA manifests");
    let mut found = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let document = Yaml::deserialize(document).expect("valid YAML");
        if document["kind"] != "ScaledObject" {
            continue;
        }
        let target = document["spec"]["scaleTargetRef"]["name"].as_str().unwrap().to_owned();
        for trigger in document["spec"]["triggers"].as_sequence().unwrap() {
            assert_eq!(trigger["type"], "postgresql", "{target}");
            let query = trigger["metadata"]["query"].as_str().unwrap().to_owned();
            found.push((target.clone(), query));
        }
    }
    found
}

#[tokio::test]
async fn the_keda_triggers_read_each_pools_load_from_the_database() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    for _ in 0..2 {
        app.submit_id("library", library_params()).await;
    }
    let triggers = scaled_objects();
    let mut scaled: Vec<&str> = triggers.iter().map(|(target, _)| target.as_str()).collect();
    scaled.sort_unstable();
    assert_eq!(
        scaled,
        ["factory-worker-generate", "factory-worker-package", "factory-worker-verify"],
        "one ScaledObject per pool"
    );

    let workers =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/workers.yaml"))
            .unwrap();
    for (target, query) in &triggers {
        let pool = target.strip_prefix("factory-worker-").unwrap();
        assert!(
            query.contains(&format!("pool = '{pool}'")),
            "{target} reads another pool: {query}"
        );
        assert!(workers.contains(&format!("name: {target}")), "no Deployment {target}");

        let value: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(query.clone()))
            .fetch_one(app.store().pool())
            .await
            .unwrap_or_else(|error| panic!("{query}: {error}"));
        let load = app.store().queue_loads().await.unwrap()[pool];
        assert_eq!(value, load.waiting + load.running, "{query}");
        let expected = if pool == "generate" { 2 } else { 0 };
        assert_eq!(value, expected, "{query}");
    }
}
