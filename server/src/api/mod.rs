//! The JSON API for customers' automation under `/api/v1`, authenticated with
//! `Authorization: Bearer <token>`. `ApiError` is the one place where failures become an
//! HTTP status and a `{"error", "message", "fields"}` body.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tracing::error;
use uuid::Uuid;

use app::model::{RunFilter, RunStatus};

use crate::auth::{self, Scope};
use crate::service::{ServiceError, Services};
use crate::storage::StoreError;

mod pools;
mod reliability;

/// The API routes, to be nested under `/api/v1`.
pub fn router(services: Arc<Services>) -> Router {
    Router::new()
        .route("/runs", post(submit_run).get(list_runs))
        .route("/runs/{id}", get(get_run))
        .route("/runs/{id}/cancel", post(cancel_run))
        .route("/runs/{id}/artifact", get(artifact))
        .route("/run-types", get(run_types))
        .merge(reliability::router())
        .merge(pools::router())
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            )
        })
        .with_state(services)
}

/// A failed API call, rendered as JSON with its status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    fields: BTreeMap<String, String>,
    extra: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), fields: BTreeMap::new(), extra: None }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body =
            json!({ "error": self.code, "message": self.message, "fields": self.fields });
        if let Some(serde_json::Value::Object(extra)) = self.extra {
            body.as_object_mut().expect("body is an object").extend(extra);
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        match error {
            ServiceError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "not found")
            }
            ServiceError::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            ServiceError::Invalid(fields) => ApiError {
                fields,
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    "the request was refused",
                )
            },
            ServiceError::Rejected(run) => ApiError {
                fields: run.field_errors.clone(),
                extra: Some(json!({ "run": *run })),
                ..ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_params",
                    "the parameters were refused; the run is stored as rejected",
                )
            },
            ServiceError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            ServiceError::Store(error) => store_failure(&error),
        }
    }
}

fn store_failure(error: &StoreError) -> ApiError {
    error!(error = %error, source = ?std::error::Error::source(error), "api request failed in storage");
    if error.is_unavailable() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is unavailable, try again",
        )
    } else {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
    }
}

/// The scope of the caller: a bearer token's tenant, or the person of a browser session
/// (staff use the reliability and SLA endpoints this way). A session may not write from a
/// page of another origin.
pub struct ApiScope(pub Scope);

impl FromRequestParts<Arc<Services>> for ApiScope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Arc<Services>,
    ) -> Result<Self, ApiError> {
        if parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
            let TokenScope(scope) = TokenScope::from_request_parts(parts, services).await?;
            return Ok(ApiScope(scope));
        }
        let Some(session) = crate::web::session_cookie(&parts.headers) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing Authorization: Bearer <token> header",
            ));
        };
        let writes = !matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD);
        if writes && crate::web::is_cross_site(&parts.headers) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "cross-site requests are refused",
            ));
        }
        match auth::session_principal(services.store.pool(), &session).await {
            Ok(Some(principal)) => Ok(ApiScope(principal.scope)),
            Ok(None) => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the session has ended; log in again",
            )),
            Err(auth::AuthError::Database(error)) => {
                Err(store_failure(&StoreError::Database(error)))
            }
            Err(other) => {
                Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", other.to_string()))
            }
        }
    }
}

/// The tenant scope of the bearer token on the request.
pub struct TokenScope(pub Scope);

impl FromRequestParts<Arc<Services>> for TokenScope {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        services: &Arc<Services>,
    ) -> Result<Self, ApiError> {
        let unauthorized =
            |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| unauthorized("missing Authorization: Bearer <token> header"))?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| unauthorized("the Authorization header must be Bearer <token>"))?;
        match auth::token_scope(services.store.pool(), token).await {
            Ok(Some(scope)) => Ok(TokenScope(scope)),
            Ok(None) => Err(unauthorized("unknown or revoked token")),
            Err(auth::AuthError::Database(error)) => {
                Err(store_failure(&StoreError::Database(error)))
            }
            Err(other) => {
                Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", other.to_string()))
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    run_type: String,
    #[serde(default = "empty_object")]
    params: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    json!({})
}

async fn submit_run(
    State(services): State<Arc<Services>>,
    TokenScope(scope): TokenScope,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            )
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    let body: SubmitBody = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request(format!("invalid JSON body: {error}")))?;
    let key = match headers.get("idempotency-key") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be ASCII text"))?,
        ),
        None => None,
    };

    let (run, created) = services.submit_run(&scope, &body.run_type, body.params, key).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(run)).into_response())
}

async fn list_runs(
    State(services): State<Arc<Services>>,
    TokenScope(scope): TokenScope,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let filter = parse_filter(&query)?;
    let page = services.list_runs(&scope, &filter).await?;
    Ok(Json(page).into_response())
}

fn parse_filter(query: &HashMap<String, String>) -> Result<RunFilter, ApiError> {
    let mut filter = RunFilter::default();
    for (key, value) in query {
        match key.as_str() {
            "status" => {
                filter.status =
                    Some(RunStatus::parse(value).ok_or_else(|| {
                        ApiError::bad_request(format!("unknown status {value:?}"))
                    })?)
            }
            "run_type" => filter.run_type = Some(value.clone()),
            "cursor" => filter.cursor = Some(value.clone()),
            "limit" => {
                let limit: u32 =
                    value.parse().ok().filter(|limit| (1..=100).contains(limit)).ok_or_else(
                        || ApiError::bad_request("limit must be a number from 1 to 100"),
                    )?;
                filter.limit = Some(limit);
            }
            other => {
                return Err(ApiError::bad_request(format!("unknown query parameter {other:?}")))
            }
        }
    }
    Ok(filter)
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id)
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", "run not found"))
}

async fn get_run(
    State(services): State<Arc<Services>>,
    TokenScope(scope): TokenScope,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let run = services.get_run(&scope, parse_id(&id)?).await?;
    Ok(Json(run).into_response())
}

async fn cancel_run(
    State(services): State<Arc<Services>>,
    TokenScope(scope): TokenScope,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let run = services.cancel_run(&scope, parse_id(&id)?).await?;
    Ok(Json(run).into_response())
}

async fn artifact(
    State(services): State<Arc<Services>>,
    TokenScope(scope): TokenScope,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (file_name, bytes) =
        services.artifact(&scope, parse_id(&id)?).await.map_err(|error| match error {
            ServiceError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "no artifact for this run")
            }
            other => other.into(),
        })?;
    Ok(artifact_response(&file_name, bytes))
}

/// A download of a run's tar.gz.
pub fn artifact_response(file_name: &str, bytes: Vec<u8>) -> Response {
    let safe_name: String =
        file_name.chars().filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).collect();
    (
        [
            (CONTENT_TYPE, "application/gzip".to_owned()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{safe_name}\"")),
        ],
        bytes,
    )
        .into_response()
}

async fn run_types(
    State(services): State<Arc<Services>>,
    TokenScope(_scope): TokenScope,
) -> Json<serde_json::Value> {
    let catalogue: Vec<serde_json::Value> = services
        .catalogue
        .all()
        .iter()
        .map(|run_type| {
            json!({
                "name": run_type.name,
                "title": run_type.title,
                "description": run_type.description,
                "expected_duration_secs": run_type.expected_duration.as_secs(),
                "steps": run_type.steps.iter().map(|step| json!({"name": step.name, "pool": step.pool})).collect::<Vec<_>>(),
                "params_schema": run_type.json_schema(),
            })
        })
        .collect();
    Json(json!({ "run_types": catalogue }))
}
