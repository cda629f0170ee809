//! Worker pools through the API and the store: the pools endpoints and their refusals,
//! pause and resume, shares across processes, the autoscaler, orphan recovery, hand-back,
//! step timeouts, stranded jobs and retention.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{
    library_params, set_paused, spawn_app, spawn_app_configured, spawn_app_with, TestApp, Workers,
};

impl TestApp {
    async fn admin_cookie(&self) -> String {
        self.login("admin@factory.test", "admin-demo-pass").await.expect("admin logs in")
    }

    async fn first_job(&self, run_id: &str) -> Uuid {
        sqlx::query_scalar("SELECT id FROM jobs WHERE run_id = $1::uuid AND position = 0")
            .bind(run_id)
            .fetch_one(self.store().pool())
            .await
            .unwrap()
    }

    /// Takes the singleton lease `name` from this app's own background loop, so the test
    /// alone does that work (call before creating what the work would act on).
    async fn take_lease(&self, name: &str) {
        sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, 'test', now() + interval '1 hour') \
             ON CONFLICT (name) DO UPDATE SET holder = 'test', expires_at = EXCLUDED.expires_at",
        )
        .bind(name)
        .execute(self.store().pool())
        .await
        .unwrap();
    }

    /// `(attempt, outcome, accepted)` of every attempt of a job, in order.
    async fn attempts(&self, job_id: Uuid) -> Vec<(i32, Option<String>, Option<bool>)> {
        sqlx::query_as(
            "SELECT attempt, outcome, accepted FROM job_attempts WHERE job_id = $1 \
             ORDER BY started_at, attempt",
        )
        .bind(job_id)
        .fetch_all(self.store().pool())
        .await
        .unwrap()
    }
}

/// Polls `check` every 100 ms until it gives a value, failing after `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn admins_list_pools_with_their_live_worker_and_others_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin_cookie().await;

    let pools = eventually(Duration::from_secs(10), "a live worker holding the pool", || async {
        let reply = app.session_api(Method::GET, "/api/v1/pools", &admin, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let body = reply.json();
        let generate = &body["pools"][0];
        let settled = generate["workers"]
            .as_array()?
            .iter()
            .any(|worker| worker["state"] == "live" && worker["slots"] == generate["size"]);
        settled.then_some(body)
    })
    .await;
    let names: Vec<&str> =
        pools["pools"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["generate", "package", "verify"]);
    let generate = &pools["pools"][0];
    assert_eq!(generate["health"], "idle");
    assert_eq!(generate["settings"]["min_size"], 1);
    assert_eq!(generate["settings"]["autoscale"], "on");
    let worker = &generate["workers"][0];
    assert_eq!(worker["pid"], std::process::id());
    assert_eq!(worker["slots"], generate["size"], "one process holds the whole pool");

    let one = app.session_api(Method::GET, "/api/v1/pools/verify", &admin, None).await;
    assert_eq!(one.json()["name"], "verify");
    let missing = app.session_api(Method::GET, "/api/v1/pools/teleport", &admin, None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let customer = app.api(Method::GET, "/api/v1/pools", &app.acme_token, None).await;
    assert_eq!(customer.status, StatusCode::FORBIDDEN);
    let manager = app.login("manager@factory.test", "manager-demo-pass").await.unwrap();
    let manager = app.session_api(Method::GET, "/api/v1/pools", &manager, None).await;
    assert_eq!(manager.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn invalid_pool_changes_get_a_reason_per_field_and_change_nothing() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    let admin = app.admin_cookie().await;
    let patch =
        |body: Value| app.session_api(Method::PATCH, "/api/v1/pools/generate", &admin, Some(body));

    let negative = patch(json!({ "min_size": -1, "note": "x" })).await;
    assert_eq!(negative.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", negative.text());
    assert_eq!(negative.json()["fields"]["min_size"], "must not be negative");
    let crossed = patch(json!({ "min_size": 6, "max_size": 4 })).await;
    assert_eq!(crossed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crossed.json()["fields"]["min_size"], "must not be above the maximum size (4)");
    let too_big = patch(json!({ "max_size": 33 })).await;
    assert_eq!(too_big.json()["fields"]["max_size"], "must be at most 32, the hard limit");
    let mode = patch(json!({ "autoscale": "sometimes" })).await;
    assert_eq!(mode.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = patch(json!({ "size": 3 })).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text());
    let missing =
        app.session_api(Method::PATCH, "/api/v1/pools/teleport", &admin, Some(json!({}))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let changes: i64 = sqlx::query_scalar("SELECT count(*) FROM pool_changes")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(changes, 0, "refused changes are not recorded");
    let pool = app.session_api(Method::GET, "/api/v1/pools/generate", &admin, None).await.json();
    assert_eq!(
        (pool["settings"]["min_size"].as_i64(), pool["settings"]["max_size"].as_i64()),
        (Some(1), Some(8))
    );
}

#[tokio::test]
async fn malformed_pool_changes_are_refused_before_anything_is_read_or_written() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    let admin = app.admin_cookie().await;
    let patch =
        |path: &'static str, body: Value| app.session_api(Method::PATCH, path, &admin, Some(body));

    for body in [json!([2, 6, true]), json!([]), json!("min_size"), json!(3)] {
        let reply = patch("/api/v1/pools/package", body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {}", reply.text());
        assert_eq!(reply.json()["error"], "bad_request");
    }
    let typed = patch(
        "/api/v1/pools/package",
        json!({ "min_size": "5", "max_size": 2.5, "paused": "yes", "note": 7 }),
    )
    .await;
    assert_eq!(typed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", typed.text());
    let fields = typed.json()["fields"].clone();
    assert_eq!(fields["min_size"], "must be a whole number");
    assert_eq!(fields["max_size"], "must be a whole number");
    assert_eq!(fields["paused"], "must be true or false");
    assert_eq!(fields["note"], "must be text");

    // Nulls and an empty body change nothing, and a change of nothing is refused as such.
    for body in [json!({}), json!({ "max_size": null, "paused": null }), json!({ "note": "hi" })] {
        let reply = patch("/api/v1/pools/package", body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            reply.json()["fields"]["settings"],
            "nothing to change: every setting already has this value (a note is saved with a change)"
        );
    }
    let nul = patch("/api/v1/pools/%00", json!({ "max_size": 3 })).await;
    assert_eq!(nul.status, StatusCode::NOT_FOUND, "{}", nul.text());

    // Who may change pools is settled before the body is looked at.
    let customer = app.login("customer@acme.test", "acme-demo-pass").await.unwrap();
    let refused = app
        .session_api(
            Method::PATCH,
            "/api/v1/pools/generate",
            &customer,
            Some(json!({ "bogus": 1 })),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text());

    let wrong_method =
        app.session_api(Method::DELETE, "/api/v1/pools/generate", &admin, None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.json()["error"], "method_not_allowed");

    let changes: i64 = sqlx::query_scalar("SELECT count(*) FROM pool_changes")
        .fetch_one(app.store().pool())
        .await
        .unwrap();
    assert_eq!(changes, 0, "nothing was recorded");
}

#[tokio::test]
async fn a_change_is_recorded_with_who_before_after_and_note_and_moves_the_size_into_bounds() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    let admin = app.admin_cookie().await;
    let reply = app
        .session_api(
            Method::PATCH,
            "/api/v1/pools/verify",
            &admin,
            Some(json!({ "min_size": 3, "max_size": 5, "autoscale": "dry_run", "note": "launch week" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let pool = reply.json();
    assert_eq!(pool["size"], 3, "the size follows the new minimum");
    assert_eq!(pool["settings"]["autoscale"], "dry_run");
    assert_eq!(pool["settings"]["note"], "launch week");
    assert_eq!(pool["settings"]["updated_by"], "admin@factory.test");

    let page = app.services.pools(&app.admin_scope().await).await.unwrap();
    let change = &page.changes[0];
    assert_eq!(change.pool, "verify");
    assert_eq!(change.changed_by, "admin@factory.test");
    assert_eq!(change.note, "launch week");
    assert_eq!(
        change.changes,
        ["min size 1 → 3", "max size 8 → 5", "size 2 → 3", "autoscale dry_run"]
    );
    assert_eq!(change.before.as_ref().unwrap()["min_size"], 1);
    assert_eq!(change.after.as_ref().unwrap()["min_size"], 3);

    // The API lists the change record too.
    let listed = app.session_api(Method::GET, "/api/v1/pools", &admin, None).await.json();
    assert_eq!(listed["changes"][0]["note"], "launch week");
    assert_eq!(listed["changes"][0]["before"]["max_size"], 8);
    assert_eq!(listed["changes"][0]["after"]["max_size"], 5);
}

#[tokio::test]
async fn a_paused_pool_starts_nothing_until_it_is_resumed() {
    let app = spawn_app().await;
    let admin = app.admin_cookie().await;
    let pause = json!({ "paused": true, "note": "database maintenance" });
    let reply = app.session_api(Method::PATCH, "/api/v1/pools/generate", &admin, Some(pause)).await;
    assert_eq!(reply.json()["health"], "paused");

    let id = app.submit_id("library", library_params()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let job = app.first_job(&id).await;
    assert!(app.attempts(job).await.is_empty(), "nothing started while paused");
    let run = app.api(Method::GET, &format!("/api/v1/runs/{id}"), &app.acme_token, None).await;
    assert_eq!(run.json()["status"], "queued");
    let depth = app.store().queue_loads().await.unwrap()["generate"];
    assert_eq!(depth.waiting, 1, "the task waits in the queue, not in a worker");

    let resume = json!({ "paused": false, "note": "done" });
    let resumed =
        app.session_api(Method::PATCH, "/api/v1/pools/generate", &admin, Some(resume)).await;
    assert_eq!(resumed.status, StatusCode::OK, "{}", resumed.text());
    app.wait_for_status(&app.acme_token, &id, "succeeded").await;
    let changes = app.store().pool_changes(10).await.unwrap();
    let recorded: Vec<(&str, &str)> =
        changes.iter().map(|c| (c.changes[0].as_str(), c.note.as_str())).collect();
    assert_eq!(recorded, [("resumed", "done"), ("paused", "database maintenance")]);
}

#[tokio::test]
async fn processes_serving_a_pool_split_its_size_between_them() {
    let app = spawn_app().await;
    let update =
        app::model::PoolUpdate { min_size: Some(3), max_size: Some(3), ..Default::default() };
    app.store()
        .change_pool("package", "test", |current| current.apply(&update, 32))
        .await
        .unwrap()
        .unwrap();

    // A second process on the same database, serving only `package`.
    let second = factory::startup::build_services(app.store().clone(), &app.services.settings)
        .expect("services of a second process");
    let stop = CancellationToken::new();
    let workers = factory::startup::pool_workers(&second, vec!["package".into()]);
    let handle = tokio::spawn(factory::queue::run_workers(workers, stop.clone()));

    let slots = eventually(Duration::from_secs(10), "two members sharing package", || async {
        let rows: Vec<(i32,)> = sqlx::query_as(
            "SELECT slots FROM pool_workers WHERE pool = 'package' AND stopped_at IS NULL \
             ORDER BY slots DESC",
        )
        .fetch_all(app.store().pool())
        .await
        .unwrap();
        let slots: Vec<i32> = rows.into_iter().map(|(slots,)| slots).collect();
        (slots == [2, 1]).then_some(slots)
    })
    .await;
    assert_eq!(slots.iter().sum::<i32>(), 3);

    // When the second one stops, the first takes the whole pool again.
    stop.cancel();
    handle.await.unwrap().unwrap();
    eventually(Duration::from_secs(10), "the remaining member holding all 3", || async {
        let slots: Vec<i32> = sqlx::query_scalar(
            "SELECT slots FROM pool_workers WHERE pool = 'package' AND stopped_at IS NULL",
        )
        .fetch_all(app.store().pool())
        .await
        .unwrap();
        (slots == [3]).then_some(())
    })
    .await;
    let stopped: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pool_workers WHERE process_id = $1 AND stopped_at IS NOT NULL",
    )
    .bind(second.process.id)
    .fetch_one(app.store().pool())
    .await
    .unwrap();
    assert_eq!(stopped, 1, "the stopped process is marked stopped");
}

#[tokio::test]
async fn the_autoscaler_grows_a_backlogged_pool_and_a_dry_run_only_records() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    app.take_lease("autoscaler").await;
    let store = app.store();
    let fast = app::model::PoolUpdate {
        target_start_ms: Some(1),
        cooldown_secs: Some(0),
        max_size: Some(4),
        ..Default::default()
    };
    store
        .change_pool("generate", "test", |current| current.apply(&fast, 32))
        .await
        .unwrap()
        .unwrap();
    for _ in 0..6 {
        app.submit_id("library", library_params()).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    let decisions = factory::pools::scaler::scale_once(store).await.unwrap();
    let (pool, decision) = decisions.iter().find(|(pool, _)| pool == "generate").unwrap();
    assert_eq!(pool, "generate");
    assert_eq!((decision.old_size, decision.new_size, decision.apply), (2, 4, true));
    assert!(
        decision.reason.contains("6 waiting and 0 running need 6 slots; capped at the maximum 4"),
        "{}",
        decision.reason
    );
    let size: i32 = sqlx::query_scalar("SELECT size FROM pool_settings WHERE pool = 'generate'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(size, 4);
    let stored = store.scaling_decisions(10).await.unwrap();
    assert_eq!(stored[0].waiting, 6);
    assert!(stored[0].applied);

    let dry = app::model::PoolUpdate {
        autoscale: Some("dry_run".into()),
        max_size: Some(8),
        ..Default::default()
    };
    store
        .change_pool("generate", "test", |current| current.apply(&dry, 32))
        .await
        .unwrap()
        .unwrap();
    let decisions = factory::pools::scaler::scale_once(store).await.unwrap();
    let (_, decision) = decisions.iter().find(|(pool, _)| pool == "generate").unwrap();
    assert_eq!((decision.new_size, decision.apply), (6, false));
    let size: i32 = sqlx::query_scalar("SELECT size FROM pool_settings WHERE pool = 'generate'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(size, 4, "a dry run leaves the size alone");
    assert!(!store.scaling_decisions(1).await.unwrap()[0].applied);
}

#[tokio::test]
async fn a_job_whose_worker_went_silent_is_taken_back_and_the_silent_worker_cannot_finish_it() {
    let app = spawn_app_with(Workers::Holding("generate")).await;
    let id = app.submit_id("library", library_params()).await;
    let job = app.first_job(&id).await;
    let store = app.store();

    // A worker of another process starts the job, then falls silent.
    let silent = store.start_attempt(job, Uuid::new_v4()).await.unwrap().expect("queued");
    sqlx::query("UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1")
        .bind(job)
        .execute(store.pool())
        .await
        .unwrap();
    factory::periodic::recover_once(&app.services).await.unwrap();

    let logs = app.logs(&id).await;
    assert!(logs.iter().any(|line| line.contains("stopped responding")), "{logs:?}");
    let ended = factory::storage::AttemptEnd::Succeeded;
    let late = store
        .finish_attempt(
            &silent,
            &factory::lifecycle::Outcome::Succeeded,
            ended,
            &Default::default(),
            &[],
        )
        .await
        .unwrap();
    assert!(!late, "the silent worker's completion is refused");

    set_paused(store, "generate", false).await;
    app.wait_for_status(&app.acme_token, &id, "succeeded").await;
    let attempts = app.attempts(job).await;
    assert_eq!(
        attempts,
        [(1, Some("lost".into()), Some(true)), (2, Some("succeeded".into()), Some(true))],
        "the late completion stays refused on the record: {attempts:?}"
    );
}

#[tokio::test]
async fn a_handed_back_job_runs_again_at_once_without_spending_an_attempt() {
    let app = spawn_app_with(Workers::Holding("generate")).await;
    let id = app.submit_id("library", library_params()).await;
    let job = app.first_job(&id).await;
    let store = app.store();

    let attempt = store.start_attempt(job, Uuid::new_v4()).await.unwrap().unwrap();
    assert!(store.hand_back(job, attempt.lease, "test-host pid 1").await.unwrap());
    assert!(!store.hand_back(job, attempt.lease, "test-host pid 1").await.unwrap(), "only once");

    set_paused(store, "generate", false).await;
    let run = app.wait_for_status(&app.acme_token, &id, "succeeded").await;
    assert_eq!(run["jobs"][0]["attempts"], 1, "{run:#}");
    let attempts = app.attempts(job).await;
    let outcomes: Vec<&str> = attempts.iter().filter_map(|a| a.1.as_deref()).collect();
    assert_eq!(outcomes, ["handed_back", "succeeded"]);
}

#[tokio::test]
async fn a_step_past_its_timeout_is_failed_and_retried_by_policy_and_recorded_as_timed_out() {
    let run_types = copy_run_types_with_generate_timeout(1);
    let app = spawn_app_configured(Workers::InProcess, |settings| {
        settings.run_types_dir = Some(run_types.clone());
        settings.step_delay_ms = 1_500;
    })
    .await;
    let id = app.submit_id("library", library_params()).await;
    let run = app.wait_for_status(&app.acme_token, &id, "failed").await;
    let error = run["error"].as_str().unwrap();
    assert_eq!(error, "gave up after 3 attempts: step timed out after 1 s", "{run:#}");
    let job = app.first_job(&id).await;
    let outcomes: Vec<Option<String>> = app.attempts(job).await.into_iter().map(|a| a.1).collect();
    assert_eq!(outcomes, vec![Some("timed_out".to_owned()); 3]);
    let logs = app.logs(&id).await;
    assert_eq!(
        logs.iter().filter(|line| line.contains("timed out after 1 s")).count(),
        5,
        "three errors and two retry notices: {logs:?}"
    );
    let _ = std::fs::remove_dir_all(&run_types);
}

#[tokio::test]
async fn a_queued_job_whose_queue_row_was_killed_is_queued_again() {
    let app = spawn_app_with(Workers::Holding("generate")).await;
    app.take_lease("orphan-recovery").await;
    let id = app.submit_id("library", library_params()).await;
    let store = app.store();
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Killed', done_at = now() WHERE job_type = 'factory-generate'",
    )
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE jobs SET queued_at = now() - interval '1 hour' WHERE run_id = $1::uuid")
        .bind(&id)
        .execute(store.pool())
        .await
        .unwrap();
    let requeued = store.requeue_stranded(Duration::from_secs(30)).await.unwrap();
    assert_eq!(requeued, [app.first_job(&id).await]);
    assert!(store.requeue_stranded(Duration::from_secs(30)).await.unwrap().is_empty());

    set_paused(store, "generate", false).await;
    app.wait_for_status(&app.acme_token, &id, "succeeded").await;
}

#[tokio::test]
async fn old_logs_attempts_decisions_and_gone_workers_are_pruned_and_recent_ones_kept() {
    let app = spawn_app().await;
    let id = app.submit_id("library", library_params()).await;
    app.wait_for_status(&app.acme_token, &id, "succeeded").await;
    let store = app.store();
    let pool = store.pool();
    let kept_logs = app.logs(&id).await.len();
    for statement in [
        "INSERT INTO job_logs (job_id, run_id, tenant_id, at, level, message) \
         SELECT job_id, run_id, tenant_id, now() - interval '100 days', 'info', 'old' \
         FROM job_logs CROSS JOIN generate_series(1, 700) LIMIT 700",
        "INSERT INTO job_attempts (lease, job_id, attempt, started_at, outcome, accepted) \
         SELECT gen_random_uuid(), job_id, 9, now() - interval '100 days', 'succeeded', true \
         FROM job_attempts LIMIT 1",
        "INSERT INTO scaling_decisions (pool, decided_at, old_size, new_size, applied, waiting, \
         running, reason) VALUES ('generate', now() - interval '100 days', 1, 2, true, 1, 1, 'old')",
        "INSERT INTO pool_workers (process_id, pool, host, pid, version, heartbeat_at, stopped_at) \
         VALUES (gen_random_uuid(), 'generate', 'gone', 1, '0', now() - interval '3 days', \
         now() - interval '3 days')",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }

    let pruned = store.prune_history(90, 500).await.unwrap();
    assert_eq!(pruned, 700 + 1 + 1 + 1);
    assert_eq!(app.logs(&id).await.len(), kept_logs, "recent log lines stay");
    let gone: i64 = sqlx::query_scalar("SELECT count(*) FROM pool_workers WHERE host = 'gone'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(gone, 0);
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pool_workers").fetch_one(pool).await.unwrap();
    assert!(live >= 3, "the running process keeps its rows");
}

/// A copy of the built-in run types whose `generate` steps time out after `secs`.
fn copy_run_types_with_generate_timeout(secs: u32) -> std::path::PathBuf {
    let source = factory::runtypes::Catalogue::builtin_dir();
    let target = std::env::temp_dir().join(format!("factory-runtypes-{}", Uuid::new_v4().simple()));
    copy_dir(&source, &target);
    for entry in std::fs::read_dir(&target).unwrap() {
        let file = entry.unwrap().path().join("runtype.toml");
        if let Ok(text) = std::fs::read_to_string(&file) {
            let changed = text.replace(
                r#"{ name = "generate", pool = "generate", max_attempts = 3, timeout_secs = 60 }"#,
                &format!(r#"{{ name = "generate", pool = "generate", max_attempts = 3, timeout_secs = {secs} }}"#),
            );
            std::fs::write(&file, changed).unwrap();
        }
    }
    target
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_lost_process_is_listed_as_lost_holding_nothing() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    sqlx::query(
        "INSERT INTO pool_workers (process_id, pool, host, pid, version, slots, running, \
           jobs_done, started_at, heartbeat_at, draining) \
         VALUES ($1, 'verify', 'gone-host', 4242, '0.1.0', 2, 2, 7, now() - interval '1 hour', \
           now() - interval '10 minutes', false)",
    )
    .bind(Uuid::new_v4())
    .execute(app.store().pool())
    .await
    .unwrap();
    let admin = app.admin_cookie().await;
    let pool = app.session_api(Method::GET, "/api/v1/pools/verify", &admin, None).await.json();
    let worker = &pool["workers"][0];
    assert_eq!(worker["host"], "gone-host");
    assert_eq!(worker["state"], "lost");
    assert_eq!((worker["slots"].as_i64(), worker["running"].as_i64()), (Some(0), Some(0)));
    assert_eq!(worker["jobs_done"], 7, "what it did stays on record");
}
