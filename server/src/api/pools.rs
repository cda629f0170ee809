//! The pools endpoints of the JSON API, for admins (with their browser session): every
//! pool's settings, live numbers, health and worker processes, and changes to a pool.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use app::model::PoolUpdate;

use super::reliability::json_error;
use super::{ApiError, ApiScope};
use crate::service::{ServiceError, Services};

pub(super) fn router() -> Router<Arc<Services>> {
    Router::new()
        .route("/pools", get(list_pools))
        .route("/pools/{name}", get(get_pool).patch(patch_pool))
}

async fn list_pools(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
) -> Result<Response, ApiError> {
    let page = services.pools(&scope).await?;
    Ok(Json(json!({ "pools": page.pools, "max_size": page.max_size })).into_response())
}

async fn get_pool(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let page = services.pools(&scope).await?;
    let pool =
        page.pools.into_iter().find(|pool| pool.name == name).ok_or(ServiceError::NotFound)?;
    Ok(Json(pool).into_response())
}

/// `{"min_size", "max_size", "paused", "autoscale", "target_start_ms", "cooldown_secs",
/// "note"}`, each optional; the answer is the pool after the change.
async fn patch_pool(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path(name): Path<String>,
    body: Result<Json<PoolUpdate>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(update) = body.map_err(|rejection| json_error(&rejection))?;
    Ok(Json(services.update_pool(&scope, &name, &update).await?).into_response())
}
