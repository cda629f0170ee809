//! Pages and health checks: every page needs a login, the pages render their data on the
//! server, and logout ends the session.

use axum::http::StatusCode;

use crate::helpers::spawn_app;

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
