//! Pages and health checks: every page needs a login, the pages render their data on the
//! server, and logout ends the session.

use std::time::{Duration, Instant};

use axum::http::StatusCode;

use crate::helpers::{set_paused, spawn_app, spawn_app_with, TestApp, Workers};

#[tokio::test]
async fn pages_send_anonymous_visitors_to_the_login_page() {
    let app = spawn_app().await;
    for path in ["/runs", "/runs/new", "/overview", "/pools"] {
        let reply = app.page(path, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert!(reply.headers["location"].to_str().unwrap().starts_with("/login"), "{path}");
    }
    let login = app.page("/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.text().contains("password"));
}

#[tokio::test]
async fn health_and_readiness_answer_without_login() {
    let app = spawn_app().await;
    assert_eq!(app.page("/healthz", None).await.status, StatusCode::OK);
    let ready = app.page("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text());
}

#[tokio::test]
async fn a_logged_in_customer_sees_their_runs_page_and_logout_ends_the_session() {
    let app = spawn_app().await;
    let cookie = app.login("customer@acme.test", "acme-demo-pass").await.unwrap();
    let runs = app.page("/runs", Some(&cookie)).await;
    assert_eq!(runs.status, StatusCode::OK, "{}", runs.text());
    assert!(runs.text().contains("Ada Acme"), "the page names the viewer");

    let logout = app
        .request(
            axum::http::Request::post("/logout")
                .header("cookie", &cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(app.page("/runs", Some(&cookie)).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_new_run_form_is_built_from_the_run_type_parameters() {
    let app = spawn_app().await;
    let cookie = app.login("customer@acme.test", "acme-demo-pass").await.unwrap();
    let page = app.page("/runs/new?type=microservice", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    for hook in [
        r#"data-test="run-form""#,
        r#"data-test="param-service_name""#,
        r#"data-test="param-port""#,
        r#"data-test="submit-run""#,
    ] {
        assert!(html.contains(hook), "{hook} missing from the form");
    }
    assert!(html.contains(r#"type="number""#), "integers get a number input");
    assert!(html.contains(r#"value="8080""#), "defaults are filled in");
}

#[tokio::test]
async fn the_pools_page_lets_admins_edit_and_tells_others_it_is_for_admins() {
    let app = spawn_app().await;
    let customer = app.login("customer@acme.test", "acme-demo-pass").await.unwrap();
    let page = app.page("/pools", Some(&customer)).await.text();
    assert!(page.contains(r#"data-test="admins-only""#));
    for hook in ["pool-row", "pool-health", "pool-workers", "pool-max-input", "pool-changes"] {
        assert!(!page.contains(&format!(r#"data-test="{hook}""#)), "a customer sees {hook}");
    }

    set_paused(app.store(), "package", true).await;
    let admin = app.login("admin@factory.test", "admin-demo-pass").await.unwrap();
    // The in-process workers report themselves with their first heartbeat, a second in.
    let live_worker = format!(
        r#"data-test="pool-worker" data-host="{}" data-state="live""#,
        factory::queue::process::hostname()
    );
    let page =
        poll_pools_page(&app, &admin, |page| pool_section(page, "generate").contains(&live_worker))
            .await;

    let generate = pool_section(&page, "generate");
    for hook in [
        "pool-min-input",
        "pool-max-input",
        "pool-autoscale-input",
        "pool-target-input",
        "pool-cooldown-input",
        "pool-note-input",
        "pool-save",
        "pool-pause-note",
        "pool-pause",
        "pool-workers",
        "pool-queue-chart",
        "pool-latency-chart",
    ] {
        assert!(generate.contains(&format!(r#"data-test="{hook}""#)), "{hook} missing");
    }
    assert!(generate.contains(r#"data-health="idle""#), "nothing queued: {generate}");
    assert!(generate.contains(r#"value="8""#), "the maximum size is filled in");
    assert!(!generate.contains(r#"data-test="pool-no-workers""#));
    assert!(generate.contains("<svg"), "the charts are embedded");

    let package = pool_section(&page, "package");
    assert!(package.contains(r#"data-health="paused""#), "{package}");
    assert!(package.contains(r#"data-test="pool-resume""#));
    assert!(!package.contains(r#"data-test="pool-pause""#));

    assert!(page.contains(r#"data-test="pool-changes""#));
    let change = page.split(r#"data-test="pool-change""#).nth(1).expect("the pause is recorded");
    assert!(change.contains("paused") && change.contains("package"), "{change}");
}

#[tokio::test]
async fn the_pools_page_says_plainly_when_no_worker_serves_a_pool() {
    let app = spawn_app_with(Workers::Elsewhere).await;
    let admin = app.login("admin@factory.test", "admin-demo-pass").await.unwrap();
    let page = app.page("/pools", Some(&admin)).await.text();
    for pool in ["generate", "verify", "package"] {
        let section = pool_section(&page, pool);
        assert!(
            section.contains("No worker process serves this pool: its jobs wait."),
            "{pool}: {section}"
        );
        assert!(!section.contains(r#"data-test="pool-worker""#), "{pool} lists a worker");
    }
}

/// Loads `/pools` until `ready` holds for it, failing the test after 30 seconds.
async fn poll_pools_page(app: &TestApp, cookie: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = app.page("/pools", Some(cookie)).await;
        assert_eq!(reply.status, StatusCode::OK);
        let page = reply.text();
        if ready(&page) {
            return page;
        }
        assert!(Instant::now() < deadline, "the pools page never got ready: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One pool's part of the pools page: from its section to the next pool's, or to the tables
/// after the last one.
fn pool_section<'a>(page: &'a str, pool: &str) -> &'a str {
    let marker = format!(r#"data-test="pool-row" data-pool="{pool}""#);
    let start = page.find(&marker).unwrap_or_else(|| panic!("no section for {pool}: {page}"));
    let rest = &page[start + marker.len()..];
    let end = [r#"data-test="pool-row""#, "Autoscaler decisions"]
        .iter()
        .filter_map(|next| rest.find(next))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::test]
async fn the_overview_shows_the_success_rate_and_the_duration_chart_of_real_runs() {
    let app = spawn_app().await;
    let id = app.submit_id("library", crate::helpers::library_params()).await;
    app.wait_for_status(&app.acme_token, &id, "succeeded").await;

    let cookie = app.login("customer@acme.test", "acme-demo-pass").await.unwrap();
    let page = app.page("/overview", Some(&cookie)).await.text();
    assert!(page.contains(r#"data-test="success-rate""#));
    assert!(page.contains("100.0%"), "one succeeded run of one counted");
    assert!(page.contains("<svg"), "the chart is embedded");
    assert!(page.contains(r#"data-test="durations-table""#));
    assert!(page.contains("library"));
}

#[tokio::test]
async fn another_tenants_run_page_says_not_found() {
    let app = spawn_app().await;
    let id = app
        .submit(&app.acme_token, "library", serde_json::json!({ "crate_name": "BAD" }))
        .await
        .json()["run"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let globex = app.login("customer@globex.test", "globex-demo-pass").await.unwrap();
    let page = app.page(&format!("/runs/{id}"), Some(&globex)).await.text();
    assert!(page.to_lowercase().contains("not found"), "{page}");
    assert!(!page.contains("crate_name"), "nothing of the run is shown");

    let acme = app.login("customer@acme.test", "acme-demo-pass").await.unwrap();
    let page = app.page(&format!("/runs/{id}"), Some(&acme)).await.text();
    assert!(page.contains("rejected"));
    assert!(page.contains(r#"data-test="run-field-errors""#));
}
