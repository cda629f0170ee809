//! The pools endpoints of the JSON API, for admins (with their browser session): every
//! pool's settings, live numbers, health and worker processes, and changes to a pool.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use app::model::PoolUpdate;

use super::reliability::json_error;
use super::{ApiError, ApiScope};
use crate::queue::POOLS;
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
    Ok(Json(json!({
        "pools": page.pools,
        "max_size": page.max_size,
        "changes": page.changes,
        "decisions": page.decisions,
    }))
    .into_response())
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
/// "note"}`, each optional (absent or `null`: unchanged); the answer is the pool after the
/// change. Who may ask is checked before the body is read, and an unknown pool is a 404
/// whatever its name holds.
async fn patch_pool(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path(name): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    if !scope.is_admin() {
        return Err(ServiceError::Forbidden("only admins change pools".into()).into());
    }
    if !POOLS.contains(&name.as_str()) {
        return Err(ServiceError::NotFound.into());
    }
    let Json(body) = body.map_err(|rejection| json_error(&rejection))?;
    let update = read_update(body)?;
    Ok(Json(services.update_pool(&scope, &name, &update).await?).into_response())
}

/// The fields a PATCH may hold, with what each must be.
const FIELDS: [(&str, Kind); 7] = [
    ("min_size", Kind::WholeNumber),
    ("max_size", Kind::WholeNumber),
    ("target_start_ms", Kind::WholeNumber),
    ("cooldown_secs", Kind::WholeNumber),
    ("paused", Kind::Boolean),
    ("autoscale", Kind::Text),
    ("note", Kind::Text),
];

#[derive(Clone, Copy)]
enum Kind {
    WholeNumber,
    Boolean,
    Text,
}

/// Reads a PATCH body: a JSON object of known fields (400 otherwise), each of the right type
/// (422 naming the field otherwise).
fn read_update(body: Value) -> Result<PoolUpdate, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::bad_request("the body must be a JSON object of pool settings"));
    };
    let unknown: Vec<&str> = fields
        .keys()
        .map(String::as_str)
        .filter(|key| !FIELDS.iter().any(|(field, _)| field == key))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = FIELDS.iter().map(|(field, _)| *field).collect();
        return Err(ApiError::bad_request(format!(
            "unknown field(s) {}; expected some of {}",
            unknown.join(", "),
            known.join(", ")
        )));
    }
    let mut errors = BTreeMap::new();
    for (field, kind) in FIELDS {
        let Some(value) = fields.get(field).filter(|value| !value.is_null()) else { continue };
        let fits = match kind {
            Kind::WholeNumber => value.is_i64(),
            Kind::Boolean => value.is_boolean(),
            Kind::Text => value.is_string(),
        };
        if !fits {
            let reason = match kind {
                Kind::WholeNumber => "must be a whole number",
                Kind::Boolean => "must be true or false",
                Kind::Text => "must be text",
            };
            errors.insert(field.to_owned(), reason.to_owned());
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors).into());
    }
    // Every field was checked above, so this cannot fail on the body's shape.
    serde_json::from_value(Value::Object(fields))
        .map_err(|error| ApiError::bad_request(format!("pool settings: {error}")))
}
