//! Tenant isolation and authentication: one tenant can neither see nor act on another's
//! runs, through the API or the pages.

use axum::http::{Method, StatusCode};

use crate::helpers::{library_params, spawn_app};

#[tokio::test]
async fn one_tenant_cannot_see_cancel_or_download_another_tenants_run() {
    let app = spawn_app().await;
    let id = app.submit_id("library", library_params()).await;
    app.wait_for_status(&app.acme_token, &id, "succeeded").await;

    for (method, path) in [
        (Method::GET, format!("/api/v1/runs/{id}")),
        (Method::POST, format!("/api/v1/runs/{id}/cancel")),
        (Method::GET, format!("/api/v1/runs/{id}/artifact")),
    ] {
        let reply = app.api(method, &path, &app.globex_token, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.json()["error"], "not_found");
    }
    let list = app.api(Method::GET, "/api/v1/runs", &app.globex_token, None).await.json();
    assert_eq!(list["runs"], serde_json::json!([]));

    let globex = app.login("customer@globex.test", "globex-demo-pass").await.expect("a session");
    let download = app.page(&format!("/runs/{id}/artifact"), Some(&globex)).await;
    assert_eq!(download.status, StatusCode::NOT_FOUND);
    let acme = app.login("customer@acme.test", "acme-demo-pass").await.expect("a session");
    let download = app.page(&format!("/runs/{id}/artifact"), Some(&acme)).await;
    assert_eq!(download.status, StatusCode::OK);

    // Staff see every tenant.
    let manager = app.login("manager@factory.test", "manager-demo-pass").await.unwrap();
    let download = app.page(&format!("/runs/{id}/artifact"), Some(&manager)).await;
    assert_eq!(download.status, StatusCode::OK);
}

#[tokio::test]
async fn the_api_refuses_missing_and_unknown_tokens_with_a_json_401() {
    let app = spawn_app().await;
    let missing = app
        .request(axum::http::Request::get("/api/v1/runs").body(axum::body::Body::empty()).unwrap())
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json()["error"], "unauthorized");
    let unknown = app.api(Method::GET, "/api/v1/runs", "fct_nope", None).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_wrong_password_gets_no_session() {
    let app = spawn_app().await;
    assert_eq!(app.login("customer@acme.test", "wrong").await, None);
    assert_eq!(app.login("nobody@acme.test", "acme-demo-pass").await, None);
}

#[tokio::test]
async fn login_only_redirects_to_local_paths_and_pages_are_not_cached() {
    let app = spawn_app().await;
    let login = |next: &'static str| {
        app.request(
            axum::http::Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!(
                    "email=customer%40acme.test&password=acme-demo-pass&next={next}"
                )))
                .unwrap(),
        )
    };
    let outside = login("%2F%5Cevil.example").await;
    assert_eq!(outside.headers["location"], "/runs");
    let inside = login("%2Foverview").await;
    assert_eq!(inside.headers["location"], "/overview");

    let cookie = app.login("customer@acme.test", "acme-demo-pass").await.unwrap();
    let page = app.page("/runs", Some(&cookie)).await;
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["x-frame-options"], "DENY");
}

#[tokio::test]
async fn server_functions_refuse_cross_site_posts_and_answer_errors_with_their_status() {
    let app = spawn_app().await;
    let customer = app.login("customer@acme.test", "acme-demo-pass").await.unwrap();
    let admin = app.login("admin@factory.test", "admin-demo-pass").await.unwrap();
    let post_as = |cookie: &str, path: &'static str, origin: &'static str, body: &'static str| {
        app.request(
            axum::http::Request::post(path)
                .header("cookie", cookie)
                .header("host", "factory.test")
                .header("origin", origin)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(body))
                .unwrap(),
        )
    };
    let post = |path, origin, body| post_as(&customer, path, origin, body);
    let cross =
        post("/_fn/update_pool", "http://evil.example", "pool=generate&max_size=1&note=x").await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let not_admin =
        post("/_fn/update_pool", "http://factory.test", "pool=generate&max_size=1&note=x").await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN, "{}", not_admin.text());
    let pools = post("/_fn/pools", "http://factory.test", "").await;
    assert_eq!(pools.status, StatusCode::FORBIDDEN, "customers do not read the pool log");
    let malformed =
        post_as(&admin, "/_fn/update_pool", "http://factory.test", "pool=generate&max_size=lots")
            .await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", malformed.text());
    assert!(malformed.text().contains("must be a whole number"), "{}", malformed.text());
}
