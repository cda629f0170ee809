//! `spawn_app()`: a fresh database, migrations, demo accounts, API tokens, workers for every
//! pool and the router, ready for requests without a socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use uuid::Uuid;

use factory::config::Settings;
use factory::service::Services;
use factory::startup;
use factory::storage::Store;

pub(crate) struct TestApp {
    pub(crate) router: Router,
    pub(crate) services: Arc<Services>,
    pub(crate) acme_token: String,
    pub(crate) globex_token: String,
    pub(crate) database_url: String,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) bytes: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty database on the test server.
pub(crate) async fn fresh_database() -> String {
    let server = server_url();
    let admin = sqlx::PgPool::connect(&server).await.expect("connect to the test PostgreSQL");
    let name = format!("factory_test_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let (base, _) = server.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(Workers::InProcess).await
}

/// Whether the test app runs its own workers or leaves the queues to other processes.
#[derive(PartialEq)]
pub(crate) enum Workers {
    InProcess,
    Elsewhere,
    /// In-process, with this pool sized 0 from the start, so its jobs wait until released.
    Holding(&'static str),
}

pub(crate) async fn spawn_app_with(workers: Workers) -> TestApp {
    spawn_app_configured(workers, |_| {}).await
}

/// A test app whose settings `configure` adjusts after the test defaults.
pub(crate) async fn spawn_app_configured(
    workers: Workers,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let url = fresh_database().await;
    let mut settings = Settings::for_database(&url);
    settings.heartbeat_secs = 1;
    settings.orphan_after_secs = 10;
    settings.db_max_connections = 6;
    settings.max_body_bytes = 64 * 1024;
    // The prober would request a server these tests do not run; its tests start one.
    settings.probe_interval_secs = 0;
    configure(&mut settings);

    let store = Store::connect(&url, settings.db_max_connections).await.expect("connect");
    store.migrate().await.expect("migrate");
    store.seed_demo().await.expect("seed demo accounts");
    let acme_token =
        factory::auth::create_token(store.pool(), "acme", "ci").await.unwrap().unwrap();
    let globex_token =
        factory::auth::create_token(store.pool(), "globex", "ci").await.unwrap().unwrap();

    if let Workers::Holding(pool) = workers {
        set_paused(&store, pool, true).await;
    }
    let services = startup::build_services(store.clone(), &settings).expect("services");
    let shutdown = CancellationToken::new();
    let _background = startup::spawn_background(&services, &shutdown).expect("background");
    let pools: Vec<String> = factory::queue::POOLS.iter().map(|pool| pool.to_string()).collect();
    let pools = if workers == Workers::Elsewhere { Vec::new() } else { pools };
    tokio::spawn(factory::queue::run_workers(
        startup::pool_workers(&services, pools),
        shutdown.clone(),
    ));
    let router = startup::app(services.clone(), startup::leptos_options().expect("leptos options"));
    TestApp { router, services, acme_token, globex_token, database_url: url, shutdown }
}

/// Pauses or resumes a pool as an admin would, recorded as the test's doing.
pub(crate) async fn set_paused(store: &Store, pool: &str, paused: bool) {
    let update = app::model::PoolUpdate { paused: Some(paused), ..Default::default() };
    store
        .change_pool(pool, "test", |current| current.apply(&update, 32))
        .await
        .expect("change the pool")
        .expect("a valid change");
}

impl TestApp {
    pub(crate) async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes =
            axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024).await.unwrap().to_vec();
        Reply { status, headers, bytes }
    }

    pub(crate) async fn api(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.request(builder.body(body).unwrap()).await
    }

    /// A JSON API call made with a browser session instead of a token (staff do this).
    pub(crate) async fn session_api(
        &self,
        method: Method,
        path: &str,
        cookie: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut builder =
            Request::builder().method(method).uri(path).header(header::COOKIE, cookie);
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.request(builder.body(body).unwrap()).await
    }

    /// Submits a run that must be accepted and returns its id.
    pub(crate) async fn submit_id(&self, run_type: &str, params: Value) -> String {
        let reply = self.submit(&self.acme_token, run_type, params).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        reply.json()["id"].as_str().expect("a run id").to_owned()
    }

    pub(crate) async fn submit(&self, token: &str, run_type: &str, params: Value) -> Reply {
        let body = serde_json::json!({ "run_type": run_type, "params": params });
        self.api(Method::POST, "/api/v1/runs", token, Some(body)).await
    }

    /// Polls the run until it reaches `status`, failing the test after a minute.
    pub(crate) async fn wait_for_status(&self, token: &str, id: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let run =
                self.api(Method::GET, &format!("/api/v1/runs/{id}"), token, None).await.json();
            if run["status"] == status {
                return run;
            }
            let finished = ["succeeded", "failed", "cancelled", "rejected"]
                .contains(&run["status"].as_str().unwrap_or_default());
            assert!(!finished, "run ended {} instead of {status}: {run:#}", run["status"]);
            assert!(Instant::now() < deadline, "run never reached {status}: {run:#}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Logs in through the form and returns the session cookie.
    pub(crate) async fn login(&self, email: &str, password: &str) -> Option<String> {
        let form = format!("email={}&password={}", email.replace('@', "%40"), password);
        let reply = self
            .request(
                Request::builder()
                    .method(Method::POST)
                    .uri("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        let cookie = reply.headers.get(header::SET_COOKIE)?.to_str().ok()?;
        cookie.split(';').next().map(str::to_owned)
    }

    pub(crate) async fn page(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut builder = Request::builder().uri(path);
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        self.request(builder.body(Body::empty()).unwrap()).await
    }

    pub(crate) fn store(&self) -> &Store {
        &self.services.store
    }
}

/// Paths and contents of a tar.gz.
pub(crate) fn untar(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read as _;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = Vec::new();
    for entry in archive.entries().expect("a tar archive") {
        let mut entry = entry.expect("a tar entry");
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        files.push((path, content));
    }
    files
}

pub(crate) fn library_params() -> Value {
    serde_json::json!({ "crate_name": "demo_widgets", "description": "Widgets for \"demo\" use", "license": "MIT" })
}

impl TestApp {
    /// The scope of the demo admin, obtained through a real login.
    pub(crate) async fn admin_scope(&self) -> factory::auth::Scope {
        let (_, principal) = factory::auth::login(
            self.store().pool(),
            "admin@factory.test",
            "admin-demo-pass",
            chrono::Duration::hours(1),
        )
        .await
        .unwrap()
        .expect("the demo admin logs in");
        principal.scope
    }
}

impl TestApp {
    /// The run's log messages, oldest first.
    pub(crate) async fn logs(&self, run_id: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT message FROM job_logs WHERE run_id = $1::uuid ORDER BY id")
            .bind(run_id)
            .fetch_all(self.store().pool())
            .await
            .unwrap()
    }
}
