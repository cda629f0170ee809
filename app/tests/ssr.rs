//! Renders the pages on the server, as `factory` does, against a fake backend: every page
//! must render its data and test hooks, and server functions must answer with typed errors.
#![cfg(feature = "ssr")]

mod support;

use std::sync::Arc;

use app::backend::RequestBackend;
use app::model::Role;
use app::{shell, App};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::{Extension, Router};
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use serde_json::json;
use tower::ServiceExt;
use uuid::Uuid;

use support::{FakeBackend, RUN_ID};

#[tokio::test]
async fn runs_list_shows_each_run_with_its_status_and_staff_see_the_tenant() {
    let page = get(FakeBackend::new(Role::Admin), "/runs").await;

    assert!(page.contains(r#"data-test="runs-table""#), "{page}");
    assert!(page.contains(&format!(r#"data-run-id="{RUN_ID}""#)));
    assert!(page.contains(r#"data-test="run-row-status" data-status="running""#));
    assert!(page.contains(r#"data-test="run-tenant""#));
    assert!(page.contains(r#"href="/runs?cursor=page%202""#));
}

#[tokio::test]
async fn customers_do_not_see_a_tenant_column_or_the_pools_link() {
    let page = get(FakeBackend::new(Role::Customer), "/runs?status=running").await;

    assert!(page.contains(r#"data-test="run-row""#), "{page}");
    assert!(!page.contains(r#"data-test="run-tenant""#));
    assert!(!page.contains(r#"data-test="nav-pools""#));
}

#[tokio::test]
async fn run_page_shows_status_jobs_logs_and_artifact() {
    let page = get(FakeBackend::new(Role::Customer), &format!("/runs/{RUN_ID}")).await;

    assert!(page.contains(r#"data-test="run-status" data-status="running""#), "{page}");
    assert!(page.contains(r#"data-test="job-row" data-step="generate""#));
    assert!(page.contains(r#"data-test="job-attempts">1/3"#));
    assert!(page.contains(r#"data-test="log-line""#));
    assert!(page.contains(r#"data-test="artifact-link""#));
    assert!(page.contains(&format!(r#"href="/runs/{RUN_ID}/artifact""#)));
    assert!(page.contains(r#"data-test="cancel-run""#));
}

#[tokio::test]
async fn unknown_run_says_run_not_found() {
    let page = get(FakeBackend::new(Role::Customer), &format!("/runs/{}", Uuid::nil())).await;
    assert!(page.contains("Run not found."), "{page}");

    let page = get(FakeBackend::new(Role::Customer), "/runs/not-a-uuid").await;
    assert!(page.contains("Run not found."), "{page}");
}

#[tokio::test]
async fn new_run_form_is_built_from_the_run_type_parameters() {
    let page = get(FakeBackend::new(Role::Customer), "/runs/new?type=library").await;

    assert!(page.contains(r#"data-test="run-form""#), "{page}");
    assert!(page.contains(r#"type="number""#));
    assert!(page.contains(r#"type="checkbox""#));
    assert!(page.contains(r#"value="billing""#));
    assert!(page.contains(r#"<option value="rust" selected"#));
    assert!(page.contains(r#"data-test="submit-run""#));
}

#[tokio::test]
async fn overview_shows_the_rate_chart_and_tables() {
    let page = get(FakeBackend::new(Role::Customer), "/overview").await;

    assert!(page.contains(r#"data-test="success-rate""#), "{page}");
    assert!(page.contains(">87.5%<"));
    assert!(page.contains("<svg id=\"chart\""));
    assert!(page.contains("Rejected and cancelled runs are not counted"));
    assert!(page.contains(r#"data-test="durations-table""#));
}

#[tokio::test]
async fn pools_page_is_for_admins_only() {
    let page = get(FakeBackend::new(Role::Customer), "/pools").await;
    assert!(page.contains(r#"data-test="admins-only""#), "{page}");

    let page = get(FakeBackend::new(Role::Admin), "/pools").await;
    assert!(page.contains(r#"data-test="pool-size-input""#), "{page}");
    assert!(page.contains(r#"data-test="pool-change""#));
}

#[tokio::test]
async fn login_page_explains_a_failed_login() {
    let page = get(FakeBackend::new(Role::Customer), "/login?error=invalid").await;

    assert!(page.contains(r#"data-test="login-error""#), "{page}");
    assert!(page.contains(r#"action="/login""#));
}

#[tokio::test]
async fn submitting_passes_typed_params_to_the_backend() {
    let backend = FakeBackend::new(Role::Customer);
    let body = json!({ "run_type": "library", "params": { "name": "billing", "replicas": 2 } });
    let (status, answer) = post_json(backend.clone(), "/_fn/submit_run", body).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    let submitted = backend.submitted.lock().unwrap().clone();
    assert_eq!(submitted, Some(json!({ "name": "billing", "replicas": 2 })));
}

#[tokio::test]
async fn server_functions_answer_with_typed_errors() {
    let body = json!({ "id": Uuid::nil() });
    let (status, answer) = post_json(FakeBackend::new(Role::Customer), "/_fn/get_run", body).await;

    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer, r#""NotFound""#);
}

/// A router like the server's, with the fake backend bound to every request.
fn router(backend: FakeBackend) -> Router {
    let options = LeptosOptions::builder().output_name("factory").build();
    let routes = generate_route_list(App);
    Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .layer(Extension(RequestBackend(Arc::new(backend))))
        .with_state(options)
}

async fn get(backend: FakeBackend, uri: &str) -> String {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let (status, body) = send(backend, request).await;
    assert!(status.is_success(), "GET {uri}: {status}\n{body}");
    body
}

async fn post_json(
    backend: FakeBackend,
    uri: &str,
    body: serde_json::Value,
) -> (StatusCode, String) {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    send(backend, request).await
}

async fn send(backend: FakeBackend, request: Request<Body>) -> (StatusCode, String) {
    let response = router(backend).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}
