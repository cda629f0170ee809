//! The reliability and SLA endpoints of the JSON API: numbers over a window, monthly reports
//! (JSON, CSV, PDF) with their review actions, the exclusion ledger and SLA plans.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use app::model::{ExclusionInput, ReliabilityWindow, ReportAction};

use super::{ApiError, ApiScope};
use crate::reliability::documents;
use crate::service::Services;

pub(super) fn router() -> Router<Arc<Services>> {
    Router::new()
        .route("/reliability", get(reliability))
        .route("/sla/reports", get(list_reports))
        .route("/sla/reports/{tenant}/{month}", get(report))
        .route("/sla/reports/{tenant}/{month}/{action}", post(report_action))
        .route("/sla/plans/{tenant}", get(get_plan).put(put_plan))
        .route("/exclusions", get(list_exclusions).post(create_exclusion))
        .route(
            "/exclusions/{id}",
            get(get_exclusion).put(update_exclusion).delete(withdraw_exclusion),
        )
}

async fn reliability(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut from = None;
    let mut to = None;
    for (key, value) in &query {
        match key.as_str() {
            "from" => from = Some(parse_instant("from", value)?),
            "to" => to = Some(parse_instant("to", value)?),
            other => {
                return Err(ApiError::bad_request(format!("unknown query parameter {other:?}")))
            }
        }
    }
    let window = match (from, to) {
        (None, None) => None,
        (Some(from), Some(to)) => Some(ReliabilityWindow { from, to }),
        (Some(from), None) => Some(ReliabilityWindow { from, to: Utc::now() }),
        (None, Some(_)) => return Err(invalid("from", "is required when to is given")),
    };
    Ok(Json(services.reliability(&scope, window).await?).into_response())
}

/// An RFC 3339 instant or a `YYYY-MM-DD` date (midnight UTC).
fn parse_instant(field: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(value) {
        return Ok(instant.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| midnight.and_utc())
        .ok_or_else(|| invalid(field, "must be an RFC 3339 time or a YYYY-MM-DD date"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthQuery {
    #[serde(default)]
    month: String,
}

async fn list_reports(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    query: Result<Query<MonthQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    Ok(Json(services.sla_reports(&scope, &query.month).await?).into_response())
}

/// `{month}` may carry the format: `2026-11`, `2026-11.json`, `2026-11.csv`, `2026-11.pdf`.
async fn report(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path((tenant, month)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (month, format) = match month.rsplit_once('.') {
        Some((month, format)) => (month.to_owned(), format.to_owned()),
        None => (month, "json".to_owned()),
    };
    if !matches!(format.as_str(), "json" | "csv" | "pdf") {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "a report is available as .json, .csv or .pdf",
        ));
    }
    let report = services.sla_report(&scope, &tenant, &month).await?;
    Ok(report_response(&report, &format))
}

/// A report in the format asked for, as a download for CSV and PDF.
fn report_response(report: &app::model::SlaReport, format: &str) -> Response {
    let stem = format!("factory-sla-{}-{}-r{}", report.tenant_slug, report.month, report.revision);
    match format {
        "csv" => (
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.csv\"")),
            ],
            documents::report_csv(report),
        )
            .into_response(),
        "pdf" => (
            [
                (CONTENT_TYPE, "application/pdf".to_owned()),
                (CONTENT_DISPOSITION, format!("attachment; filename=\"{stem}.pdf\"")),
            ],
            documents::report_pdf(report),
        )
            .into_response(),
        _ => Json(report).into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

async fn report_action(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path((tenant, month, action)): Path<(String, String, String)>,
    body: Option<Json<NoteBody>>,
) -> Result<Response, ApiError> {
    let action = ReportAction::parse(&action).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "actions are review, issue, recompute")
    })?;
    let note = body.map(|Json(body)| body.note).unwrap_or_default();
    let report = services.sla_report_action(&scope, &tenant, &month, action, &note).await?;
    Ok(Json(report).into_response())
}

async fn get_plan(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(services.sla_plan(&scope, &tenant).await?).into_response())
}

async fn put_plan(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path(tenant): Path<String>,
    body: Result<Json<crate::reliability::sla::Plan>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(plan) = body.map_err(|rejection| json_error(&rejection))?;
    Ok(Json(services.put_sla_plan(&scope, &tenant, plan).await?).into_response())
}

async fn list_exclusions(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
) -> Result<Response, ApiError> {
    Ok(Json(services.exclusions_page(&scope).await?).into_response())
}

async fn get_exclusion(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_exclusion_id(&id)?;
    Ok(Json(services.exclusion(&scope, id).await?).into_response())
}

async fn create_exclusion(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    body: Result<Json<ExclusionInput>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(input) = body.map_err(|rejection| json_error(&rejection))?;
    let id = services.save_exclusion(&scope, None, input).await?;
    Ok((StatusCode::CREATED, Json(services.exclusion(&scope, id).await?)).into_response())
}

async fn update_exclusion(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path(id): Path<String>,
    body: Result<Json<ExclusionInput>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let id = parse_exclusion_id(&id)?;
    let Json(input) = body.map_err(|rejection| json_error(&rejection))?;
    services.save_exclusion(&scope, Some(id), input).await?;
    Ok(Json(services.exclusion(&scope, id).await?).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

async fn withdraw_exclusion(
    State(services): State<Arc<Services>>,
    ApiScope(scope): ApiScope,
    Path(id): Path<String>,
    body: Result<Json<ReasonBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let id = parse_exclusion_id(&id)?;
    let Json(body) = body.map_err(|rejection| json_error(&rejection))?;
    services.withdraw_exclusion(&scope, id, &body.reason).await?;
    Ok(Json(services.exclusion(&scope, id).await?).into_response())
}

fn parse_exclusion_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id)
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such ledger entry"))
}

pub(super) fn json_error(rejection: &axum::extract::rejection::JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send JSON with Content-Type: application/json",
        ),
        _ => ApiError::bad_request(rejection.body_text()),
    }
}

fn invalid(field: &str, reason: &str) -> ApiError {
    ApiError::from(crate::service::ServiceError::Invalid(
        [(field.to_owned(), reason.to_owned())].into(),
    ))
}
