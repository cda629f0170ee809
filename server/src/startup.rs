//! Start-up: connect to PostgreSQL (Factory's own cluster when `DATABASE_URL` is unset),
//! migrate, build the shared services and the router, and run the web server, workers and
//! periodic tasks until a shutdown signal.

use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::DefaultBodyLimit;
use axum::http::header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::HeaderValue;
use axum::Router;
use leptos::config::{get_configuration, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing::{info, warn};

use crate::config::Settings;
use crate::embedded_pg::EmbeddedPostgres;
use crate::events::Events;
use crate::executor::Executor;
use crate::queue::{PoolWorkers, WorkerProcess, WorkerTiming};
use crate::runtypes::Catalogue;
use crate::service::Services;
use crate::storage::Store;

/// A connected database, with the cluster Factory started for it, if any.
pub struct Database {
    pub store: Store,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    pub async fn open(settings: &Settings) -> anyhow::Result<Database> {
        let (url, embedded) = match &settings.database_url {
            Some(url) => (url.clone(), None),
            None => {
                let data_dir = settings.data_dir.join("pgdata");
                info!(data_dir = %data_dir.display(), port = settings.embedded_pg_port,
                    "DATABASE_URL is not set; starting Factory's own PostgreSQL");
                let cluster = EmbeddedPostgres::start(&data_dir, settings.embedded_pg_port)
                    .await
                    .context("start the embedded PostgreSQL")?;
                (cluster.database_url(), Some(cluster))
            }
        };
        let store = Store::connect(&url, settings.db_max_connections)
            .await
            .context("connect to PostgreSQL")?;
        store.migrate().await?;
        Ok(Database { store, embedded })
    }

    /// Closes connections and stops Factory's own cluster if it started one.
    pub async fn close(self) {
        self.store.pool().close().await;
        if let Some(cluster) = self.embedded {
            if let Err(error) = cluster.stop().await {
                warn!(%error, "could not stop the embedded PostgreSQL");
            }
        }
    }
}

pub fn build_services(store: Store, settings: &Settings) -> anyhow::Result<Arc<Services>> {
    let dir = settings.run_types_dir.clone().unwrap_or_else(Catalogue::builtin_dir);
    let catalogue = Arc::new(
        Catalogue::load(&dir).with_context(|| format!("load run types from {}", dir.display()))?,
    );
    let process = Arc::new(WorkerProcess::new());
    let executor =
        Arc::new(Executor::new(store.clone(), catalogue.clone(), process.clone(), settings));
    Ok(Arc::new(Services {
        store,
        catalogue,
        settings: Arc::new(settings.clone()),
        events: Events::new(),
        executor,
        process,
        api_timings: Arc::default(),
        metrics: Arc::default(),
    }))
}

/// Leptos settings: the site root comes from `LEPTOS_SITE_ROOT` (cargo-leptos sets it).
pub fn leptos_options() -> anyhow::Result<LeptosOptions> {
    Ok(get_configuration(None).context("read Leptos configuration")?.leptos_options)
}

/// The whole HTTP surface: JSON API, pages, events and health checks.
pub fn app(services: Arc<Services>, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(app::App);
    let pages = Router::new()
        .leptos_routes(&leptos_options, routes, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(app::shell))
        .with_state(leptos_options);
    let browser = crate::web::router(services.clone())
        .merge(pages)
        .route_layer(axum::middleware::from_fn_with_state(
            services.clone(),
            crate::metrics::time_http,
        ))
        .layer(axum::middleware::from_fn_with_state(services.clone(), crate::web::require_session));

    let api = crate::api::router(services.clone())
        .route_layer(axum::middleware::from_fn_with_state(
            services.clone(),
            crate::reliability::api_timing::time_request,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            services.clone(),
            crate::metrics::time_http,
        ));
    Router::new()
        .nest("/api/v1", api)
        .merge(browser)
        .layer(DefaultBodyLimit::max(services.settings.max_body_bytes))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http())
}

/// Background work a serving process runs beside the web server: the event relay, API
/// timing flushes, the reliability loops (the prober among them) and the maintenance every
/// process shares (orphan recovery, autoscaling, pruning).
pub fn spawn_background(
    services: &Arc<Services>,
    shutdown: &CancellationToken,
) -> anyhow::Result<tokio::task::JoinSet<()>> {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(services.events.clone().relay(services.store.clone(), shutdown.clone()));
    tasks.spawn(crate::reliability::api_timing::flush_loop(services.clone(), shutdown.clone()));
    crate::reliability::periodic::spawn(services, shutdown, &mut tasks)?;
    crate::periodic::spawn_maintenance(services, shutdown, &mut tasks);
    Ok(tasks)
}

/// The workers of this process for `pools`, running the executor.
pub fn pool_workers(services: &Services, pools: Vec<String>) -> PoolWorkers {
    PoolWorkers {
        store: services.store.clone(),
        runner: services.executor.clone(),
        process: services.process.clone(),
        pools,
        timing: WorkerTiming::from_settings(&services.settings),
    }
}

/// The pools a `--pools` list names: `none` (or nothing) for none, each checked.
pub fn parse_pools(names: &[String]) -> anyhow::Result<Vec<String>> {
    let names: Vec<&str> =
        names.iter().map(|name| name.trim()).filter(|name| !name.is_empty()).collect();
    if names == ["none"] {
        return Ok(Vec::new());
    }
    let mut pools = Vec::new();
    for name in names {
        anyhow::ensure!(
            crate::queue::POOLS.contains(&name),
            "unknown pool {name}; expected some of {:?}, or none",
            crate::queue::POOLS
        );
        if !pools.iter().any(|pool| pool == name) {
            pools.push(name.to_owned());
        }
    }
    Ok(pools)
}

/// Runs `factory serve`: web, workers for `pools` (all by default) and periodic tasks in one
/// process.
pub async fn serve(settings: Settings, pools: Vec<String>) -> anyhow::Result<()> {
    let pools = parse_pools(&pools)?;
    let database = Database::open(&settings).await?;
    let services = build_services(database.store.clone(), &settings)?;
    // Bound before the prober starts, so its first probe waits in the backlog for the
    // server instead of failing and counting a down minute at every start.
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("listen on {}", settings.addr))?;
    let shutdown = CancellationToken::new();
    let mut background = spawn_background(&services, &shutdown)?;
    let workers =
        tokio::spawn(crate::queue::run_workers(pool_workers(&services, pools), shutdown.clone()));

    info!(addr = %settings.addr, "factory is serving; open http://{}/", settings.addr);
    let router = app(services.clone(), leptos_options()?);
    let web_shutdown = shutdown.clone();
    let events = services.events.clone();
    let web = axum::serve(listener, router).with_graceful_shutdown(async move {
        web_shutdown.cancelled().await;
        events.close();
    });

    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let web_result = web.await;
    info!("web server stopped");
    shutdown.cancel();
    match workers.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => warn!(%error, "workers stopped with an error"),
        Err(error) => warn!(%error, "workers task failed"),
    }
    while background.join_next().await.is_some() {}
    database.close().await;
    web_result.context("web server failed")
}

/// Runs `factory worker --pools ...`: workers and the shared maintenance, for extra hosts.
pub async fn worker(settings: Settings, pools: Vec<String>) -> anyhow::Result<()> {
    let pools = parse_pools(&pools)?;
    anyhow::ensure!(!pools.is_empty(), "a worker needs at least one pool");
    let database = Database::open(&settings).await?;
    let services = build_services(database.store.clone(), &settings)?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let mut maintenance = tokio::task::JoinSet::new();
    crate::periodic::spawn_maintenance(&services, &shutdown, &mut maintenance);
    info!(pools = ?pools, "factory worker started");
    let result = crate::queue::run_workers(pool_workers(&services, pools), shutdown).await;
    while maintenance.join_next().await.is_some() {}
    info!("factory worker stopped");
    database.close().await;
    result
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("interrupt received, shutting down"),
        _ = terminate => info!("SIGTERM received, shutting down"),
    }
    shutdown.cancel();
}
