//! The {{ service_name }} service: a health check and an in-memory `items` resource.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

const SERVICE: &str = {{ service_name | rust_str }};
const DESCRIPTION: &str = {{ description | rust_str }};
const DEFAULT_PORT: u16 = {{ port }};

#[derive(Clone, Default)]
struct AppState {
    items: Arc<Mutex<Vec<Item>>>,
}

#[derive(Clone, Serialize)]
struct Item {
    id: u64,
    name: String,
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    service: &'static str,
    description: &'static str,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = match std::env::var("PORT") {
        Ok(text) => text.parse()?,
        Err(_) => DEFAULT_PORT,
    };
    let address = SocketAddr::from(([0, 0, 0, 0], port));
    let listener = tokio::net::TcpListener::bind(address).await?;
    eprintln!("{SERVICE} listening on {address}");
    axum::serve(listener, app(AppState::default()))
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/items", get(list_items).post(create_item))
        .with_state(state)
}

async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        service: SERVICE,
        description: DESCRIPTION,
    })
}

async fn list_items(State(state): State<AppState>) -> Json<Vec<Item>> {
    let items = state
        .items
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Json(items.clone())
}

async fn create_item(
    State(state): State<AppState>,
    Json(new_item): Json<NewItem>,
) -> (StatusCode, Json<Item>) {
    let mut items = state
        .items
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let item = Item {
        id: items.len() as u64 + 1,
        name: new_item.name,
    };
    items.push(item.clone());
    (StatusCode::CREATED, Json(item))
}

/// Resolves on Ctrl-C or, where there are Unix signals, on SIGTERM from Kubernetes.
async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut stream) = signal(SignalKind::terminate()) {
            stream.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
