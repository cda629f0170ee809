//! Runs through the JSON API: every run type to `succeeded` with a real artifact, rejection,
//! idempotency, cancel, retries, pagination and bad input.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{library_params, spawn_app, spawn_app_with, untar, Workers};

async fn artifact_files(app: &crate::helpers::TestApp, id: &str) -> Vec<(String, Vec<u8>)> {
    let reply =
        app.api(Method::GET, &format!("/api/v1/runs/{id}/artifact"), &app.acme_token, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/gzip");
    untar(&reply.bytes)
}

fn has_file(files: &[(String, Vec<u8>)], suffix: &str) -> bool {
    files.iter().any(|(path, _)| path.ends_with(suffix))
}

#[tokio::test]
async fn each_run_type_runs_from_submission_to_succeeded_with_its_artifact() {
    let app = spawn_app().await;
    let cases: [(&str, Value, &[&str]); 4] = [
        ("library", library_params(), &["/Cargo.toml", "/src/lib.rs", "/LICENSE", "/README.md"]),
        (
            "microservice",
            json!({ "service_name": "orders-api", "port": 8080 }),
            &["/Cargo.toml", "/Dockerfile", "/src/main.rs"],
        ),
        (
            "pipeline",
            json!({ "project_name": "orders", "ci_system": "gitlab" }),
            &["/.gitlab-ci.yml"],
        ),
        (
            "documentation",
            json!({ "site_title": "Orders handbook", "outline": "Getting started\nOperations" }),
            &["/index.html"],
        ),
    ];
    for (run_type, params, expected) in cases {
        let reply = app.submit(&app.acme_token, run_type, params).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{run_type}: {}", reply.text());
        let id = reply.json()["id"].as_str().unwrap().to_owned();

        let run = app.wait_for_status(&app.acme_token, &id, "succeeded").await;
        let jobs = run["jobs"].as_array().unwrap();
        let steps: Vec<&str> = jobs.iter().map(|job| job["step"].as_str().unwrap()).collect();
        assert_eq!(steps, ["generate", "verify", "package"], "{run_type}");
        for job in jobs {
            assert_eq!(job["status"], "succeeded");
            assert_eq!(job["attempts"], 1);
            assert!(job["started_at"].is_string() && job["finished_at"].is_string());
        }

        let files = artifact_files(&app, &id).await;
        for suffix in expected {
            assert!(
                has_file(&files, suffix),
                "{run_type} artifact lacks {suffix}: {:?}",
                files.iter().map(|(path, _)| path).collect::<Vec<_>>()
            );
        }
        let manifest = files.iter().find(|(path, _)| path.ends_with("MANIFEST.sha256"));
        assert!(manifest.is_some(), "{run_type} artifact has a manifest of sums");

        let logs = app.logs(&id).await;
        assert!(logs.iter().any(|line| line.contains("attempt 1 of")), "{run_type} logs: {logs:?}");
    }
}

#[tokio::test]
async fn invalid_parameters_store_a_rejected_run_with_field_errors_and_queue_nothing() {
    let app = spawn_app().await;
    let reply = app
        .submit(
            &app.acme_token,
            "library",
            json!({ "crate_name": "Not A Crate!", "license": "GPL-9" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = reply.json();
    assert_eq!(body["error"], "invalid_params");
    assert!(body["fields"]["crate_name"].is_string(), "{body:#}");
    assert!(body["fields"]["license"].is_string(), "{body:#}");

    let id = body["run"]["id"].as_str().unwrap();
    let run =
        app.api(Method::GET, &format!("/api/v1/runs/{id}"), &app.acme_token, None).await.json();
    assert_eq!(run["status"], "rejected");
    assert_eq!(run["jobs"], json!([]));
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(queued, 0);
}

#[tokio::test]
async fn an_unknown_run_type_or_malformed_body_is_refused_without_storing_anything() {
    let app = spawn_app().await;
    let unknown = app.submit(&app.acme_token, "spaceship", json!({})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.json()["fields"]["run_type"].as_str().unwrap().contains("library"));

    let malformed = app
        .request(
            axum::http::Request::post("/api/v1/runs")
                .header("authorization", format!("Bearer {}", app.acme_token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"run_type\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"], "bad_request");

    let huge =
        json!({ "run_type": "library", "params": { "description": "x".repeat(100 * 1024) } });
    let too_large = app.api(Method::POST, "/api/v1/runs", &app.acme_token, Some(huge)).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.json()["error"], "payload_too_large");

    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM runs")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn repeating_a_submission_with_the_same_idempotency_key_returns_the_same_run() {
    let app = spawn_app().await;
    let send = || async {
        app.request(
            axum::http::Request::post("/api/v1/runs")
                .header("authorization", format!("Bearer {}", app.acme_token))
                .header("content-type", "application/json")
                .header("idempotency-key", "order-42")
                .body(axum::body::Body::from(
                    json!({ "run_type": "library", "params": library_params() }).to_string(),
                ))
                .unwrap(),
        )
        .await
    };
    let first = send().await;
    let second = send().await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(first.json()["id"], second.json()["id"]);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM runs")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn a_cancelled_run_never_starts_its_queued_steps() {
    // With no generate slots the first job stays queued until the cancel.
    let app = spawn_app_with(Workers::Holding("generate")).await;
    let id = app.submit_id("library", library_params()).await;
    let cancelled =
        app.api(Method::POST, &format!("/api/v1/runs/{id}/cancel"), &app.acme_token, None).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text());
    assert_eq!(cancelled.json()["status"], "cancelled");

    crate::helpers::set_paused(app.store(), "generate", false).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let run =
        app.api(Method::GET, &format!("/api/v1/runs/{id}"), &app.acme_token, None).await.json();
    assert_eq!(run["status"], "cancelled");
    for job in run["jobs"].as_array().unwrap() {
        assert_eq!(job["status"], "cancelled");
        assert_eq!(job["attempts"], 0, "no step started: {run:#}");
    }

    let again =
        app.api(Method::POST, &format!("/api/v1/runs/{id}/cancel"), &app.acme_token, None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_transient_failure_is_retried_with_backoff_until_the_run_succeeds() {
    let app = spawn_app().await;
    // The library's generate step allows three attempts.
    app.services.executor.inject_transient_failures("generate", 2);
    let id = app.submit_id("library", library_params()).await;
    let run = app.wait_for_status(&app.acme_token, &id, "succeeded").await;
    let generate = &run["jobs"][0];
    assert_eq!(generate["step"], "generate");
    assert_eq!(generate["attempts"], 3);
    assert_eq!(run["jobs"][1]["attempts"], 1);
    let logs = app.logs(&id).await;
    let retries = logs.iter().filter(|line| line.contains("retrying in")).count();
    assert_eq!(retries, 2, "{logs:?}");
}

#[tokio::test]
async fn the_run_list_pages_newest_first_and_filters_by_status_and_type() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let reply = app.submit(&app.acme_token, "library", json!({ "crate_name": "BAD" })).await;
        ids.push(reply.json()["run"]["id"].as_str().unwrap().to_owned());
    }
    let first = app
        .api(Method::GET, "/api/v1/runs?limit=2&status=rejected", &app.acme_token, None)
        .await
        .json();
    let listed: Vec<&str> =
        first["runs"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str()]);
    let cursor = first["next_cursor"].as_str().unwrap();

    let second = app
        .api(
            Method::GET,
            &format!("/api/v1/runs?limit=2&status=rejected&cursor={cursor}"),
            &app.acme_token,
            None,
        )
        .await
        .json();
    assert_eq!(second["runs"][0]["id"], ids[0].as_str());
    assert_eq!(second["next_cursor"], Value::Null);

    let none =
        app.api(Method::GET, "/api/v1/runs?run_type=pipeline", &app.acme_token, None).await.json();
    assert_eq!(none["runs"], json!([]));
    let bad = app.api(Method::GET, "/api/v1/runs?status=sideways", &app.acme_token, None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let bad_cursor = app.api(Method::GET, "/api/v1/runs?cursor=zzz", &app.acme_token, None).await;
    assert_eq!(bad_cursor.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_catalogue_lists_each_run_type_with_a_json_schema_of_its_parameters() {
    let app = spawn_app().await;
    let body = app.api(Method::GET, "/api/v1/run-types", &app.acme_token, None).await.json();
    let names: Vec<&str> = body["run_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rt| rt["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["documentation", "library", "microservice", "pipeline"]);
    let library = &body["run_types"][1];
    assert_eq!(library["params_schema"]["type"], "object");
    assert!(library["params_schema"]["required"]
        .as_array()
        .unwrap()
        .contains(&json!("crate_name")));
}

#[tokio::test]
async fn a_step_that_keeps_failing_fails_the_run_after_its_attempt_limit() {
    let app = spawn_app().await;
    app.services.executor.inject_transient_failures("verify", 5);
    let id = app.submit_id("library", library_params()).await;
    let run = app.wait_for_status(&app.acme_token, &id, "failed").await;
    assert_eq!(run["jobs"][1]["attempts"], 2);
    assert_eq!(run["jobs"][1]["status"], "failed");
    assert_eq!(run["jobs"][2]["status"], "cancelled");
    assert!(run["error"].as_str().unwrap().contains("gave up after 2 attempts"), "{run:#}");
    assert_eq!(run["artifact"], Value::Null);
}

#[tokio::test]
async fn a_completion_from_an_attempt_that_lost_its_job_changes_nothing() {
    let app = spawn_app_with(Workers::Holding("generate")).await;
    let id = app.submit_id("library", library_params()).await;
    let job_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM jobs WHERE run_id = $1::uuid AND position = 0")
            .bind(&id)
            .fetch_one(app.store().pool())
            .await
            .unwrap();

    // Attempt one starts, then loses the job (as after a crash or a timeout) to attempt two.
    let store = app.store();
    let worker = uuid::Uuid::new_v4();
    let stale = store.start_attempt(job_id, worker).await.unwrap().expect("the job is queued");
    sqlx::query("UPDATE jobs SET status = 'queued' WHERE id = $1")
        .bind(job_id)
        .execute(store.pool())
        .await
        .unwrap();
    let current = store.start_attempt(job_id, worker).await.unwrap().expect("queued again");
    assert_eq!(current.attempt, 2);

    let outcome = factory::lifecycle::Outcome::Permanent("stale worker's verdict".into());
    let failed = factory::storage::AttemptEnd::Failed;
    let refused =
        store.finish_attempt(&stale, &outcome, failed, &Default::default(), &[]).await.unwrap();
    assert!(!refused, "the stale completion is refused");
    let status: String = sqlx::query_scalar("SELECT status FROM runs WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(status, "running");

    let succeeded = factory::lifecycle::Outcome::Succeeded;
    let ended = factory::storage::AttemptEnd::Succeeded;
    assert!(store
        .finish_attempt(&current, &succeeded, ended, &Default::default(), &[])
        .await
        .unwrap());
    let verify_status: String =
        sqlx::query_scalar("SELECT status FROM jobs WHERE run_id = $1::uuid AND position = 1")
            .bind(&id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(verify_status, "queued");
}

#[tokio::test]
async fn a_reused_idempotency_key_with_another_body_is_a_conflict() {
    let app = spawn_app().await;
    let send = |params: Value| {
        let body = json!({ "run_type": "library", "params": params }).to_string();
        app.request(
            axum::http::Request::post("/api/v1/runs")
                .header("authorization", format!("Bearer {}", app.acme_token))
                .header("content-type", "application/json")
                .header("idempotency-key", "k1")
                .body(axum::body::Body::from(body))
                .unwrap(),
        )
    };
    assert_eq!(send(library_params()).await.status, StatusCode::CREATED);
    let other = send(json!({ "crate_name": "something_else" })).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.json()["error"], "conflict");
}

#[tokio::test]
async fn a_nul_character_in_parameters_is_refused_with_a_field_error() {
    let app = spawn_app().await;
    let reply = app
        .submit(
            &app.acme_token,
            "library",
            json!({ "crate_name": "ok_name", "description": "a\u{0}b" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text());
    assert!(reply.json()["fields"]["description"].as_str().unwrap().contains("NUL"));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM runs")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
