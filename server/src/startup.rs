//! Start-up: connect to PostgreSQL (Factory's own cluster when `DATABASE_URL` is unset),
//! migrate, build the shared services and the router, and run the web server, workers and
//! periodic tasks until a shutdown signal.

use std::sync::Arc;
use std::time::Duration;

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
use crate::runtypes::Catalogue;
use crate::service::Services;
use crate::storage::Store;

/// How often finished queue rows are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// Advisory lock key under which one process at a time prunes.
const PRUNE_LEASE: i64 = 0x0fac_7041;

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
    let executor = Arc::new(Executor::new(store.clone(), catalogue.clone()));
    Ok(Arc::new(Services {
        store,
        catalogue,
        settings: Arc::new(settings.clone()),
        events: Events::new(),
        executor,
        api_timings: Arc::default(),
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
        .layer(axum::middleware::from_fn_with_state(services.clone(), crate::web::require_session));

    let api =
        crate::api::router(services.clone()).route_layer(axum::middleware::from_fn_with_state(
            services.clone(),
            crate::reliability::api_timing::time_request,
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

/// Background work a serving process runs beside the web server: the event relay, queue
/// pruning, API timing flushes and the reliability loops (the prober among them).
pub fn spawn_background(
    services: &Arc<Services>,
    shutdown: &CancellationToken,
) -> anyhow::Result<tokio::task::JoinSet<()>> {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(services.events.clone().relay(services.store.clone(), shutdown.clone()));
    tasks.spawn(prune_loop(services.clone(), shutdown.clone()));
    tasks.spawn(crate::reliability::api_timing::flush_loop(services.clone(), shutdown.clone()));
    crate::reliability::periodic::spawn(services, shutdown, &mut tasks)?;
    Ok(tasks)
}

async fn prune_loop(services: Arc<Services>, shutdown: CancellationToken) {
    loop {
        match prune_once(&services).await {
            Ok(0) => {}
            Ok(pruned) => info!(pruned, "pruned finished queue rows"),
            Err(error) => warn!(%error, "pruning finished queue rows failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Prunes in batches while holding a database lease, so only one process prunes at a time.
async fn prune_once(services: &Services) -> anyhow::Result<u64> {
    let mut lease = services.store.pool().acquire().await?;
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(PRUNE_LEASE)
        .fetch_one(&mut *lease)
        .await?;
    if !held {
        return Ok(0);
    }
    let mut total = 0;
    let result = loop {
        match services.store.prune_queue(services.settings.queue_retention_days, 500).await {
            Ok(0) => break Ok(total),
            Ok(pruned) => total += pruned,
            Err(error) => break Err(error.into()),
        }
    };
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(PRUNE_LEASE).execute(&mut *lease).await?;
    result
}

/// Runs `factory serve`: web, workers for every pool and periodic tasks in one process.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let database = Database::open(&settings).await?;
    let services = build_services(database.store.clone(), &settings)?;
    let shutdown = CancellationToken::new();
    let mut background = spawn_background(&services, &shutdown)?;

    let pools: Vec<String> = crate::queue::POOLS.iter().map(|pool| pool.to_string()).collect();
    let workers = tokio::spawn({
        let (store, executor, settings, shutdown) =
            (services.store.clone(), services.executor.clone(), settings.clone(), shutdown.clone());
        async move { crate::queue::run_workers(store, executor, &settings, &pools, shutdown).await }
    });

    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .with_context(|| format!("listen on {}", settings.addr))?;
    info!(addr = %settings.addr, "factory is serving; open http://{}/", settings.addr);
    let router = app(services.clone(), leptos_options()?);
    let web_shutdown = shutdown.clone();
    let web = axum::serve(listener, router).with_graceful_shutdown(async move {
        web_shutdown.cancelled().await;
    });

    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let web_result = web.await;
    info!("web server stopped");
    shutdown.cancel();
    match workers.await {
        Ok(Ok(())) => info!("workers stopped"),
        Ok(Err(error)) => warn!(%error, "workers stopped with an error"),
        Err(error) => warn!(%error, "workers task failed"),
    }
    while background.join_next().await.is_some() {}
    database.close().await;
    web_result.context("web server failed")
}

/// Runs `factory worker --pools ...`: workers only, for extra worker hosts.
pub async fn worker(settings: Settings, pools: Vec<String>) -> anyhow::Result<()> {
    for pool in &pools {
        anyhow::ensure!(
            crate::queue::POOLS.contains(&pool.as_str()),
            "unknown pool {pool}; expected some of {:?}",
            crate::queue::POOLS
        );
    }
    let database = Database::open(&settings).await?;
    let services = build_services(database.store.clone(), &settings)?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    info!(pools = ?pools, "factory worker started");
    let result = crate::queue::run_workers(
        services.store.clone(),
        services.executor.clone(),
        &settings,
        &pools,
        shutdown,
    )
    .await;
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
