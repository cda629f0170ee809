//! The browser side of the HTTP surface: login and logout, the session check in front of
//! every page, server-sent events for live pages, artifact downloads and the per-request
//! `Backend` the Leptos pages call. The pages themselves are in the `app` crate.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Form, Path, Query, Request, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use futures::Stream;
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt as _;
use tracing::error;
use uuid::Uuid;

use app::backend::{Backend, BackendResult, RequestBackend};
use app::error::AppError;
use app::model::{
    ExclusionInput, ExclusionsPage, LogLine, Overview, PoolUpdate, PoolView, PoolsPage,
    ReliabilityPage, ReliabilityWindow, ReportAction, RunDetail, RunFilter, RunPage, RunTypeView,
    SlaReport, SlaReportList, Viewer,
};

use crate::auth::{self, Principal, SESSION_COOKIE};
use crate::service::{ServiceError, Services};

/// Paths anyone may open without logging in.
fn is_public(path: &str) -> bool {
    const EXACT: [&str; 5] = ["/login", "/healthz", "/readyz", "/metrics", "/favicon.ico"];
    const PREFIXES: [&str; 3] = ["/pkg/", "/api/v1/", "/assets/"];
    EXACT.contains(&path) || PREFIXES.iter().any(|prefix| path.starts_with(prefix))
}

pub fn router(services: Arc<Services>) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/events", get(events))
        .route("/runs/{id}/artifact", get(artifact))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::scrape))
        .with_state(services)
}

/// Resolves the session cookie into a `Principal` and a bound `Backend` in the request's
/// extensions, and sends anyone without one to the login page.
pub async fn require_session(
    State(services): State<Arc<Services>>,
    mut request: Request,
    next: Next,
) -> Response {
    if is_cross_site_post(&request) {
        return (StatusCode::FORBIDDEN, "cross-site requests are refused").into_response();
    }
    let path = request.uri().path().to_owned();
    // Public paths (assets above all) need no session: spare them the database lookup.
    if is_public(&path) {
        return next.run(request).await;
    }
    let principal = match session_cookie(request.headers()) {
        Some(session) => match auth::session_principal(services.store.pool(), &session).await {
            Ok(principal) => principal,
            Err(err) => {
                error!(error = %err, "session lookup failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Factory cannot reach its database right now; please retry shortly.",
                )
                    .into_response();
            }
        },
        None => None,
    };
    match principal {
        Some(principal) => {
            let backend =
                SessionBackend { services: services.clone(), principal: principal.clone() };
            request.extensions_mut().insert(RequestBackend(Arc::new(backend)));
            request.extensions_mut().insert(principal);
            let mut response = next.run(request).await;
            // What a logged-in person saw must not come back from the cache after logout.
            response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        None if path.starts_with("/_fn/") || path == "/events" => {
            (StatusCode::UNAUTHORIZED, "please log in").into_response()
        }
        None => Redirect::to(&format!("/login?next={}", urlencode(&path))).into_response(),
    }
}

/// A path on this site: one leading slash, then nothing a browser could read as another host
/// (`//host`, `/\host`) or a scheme.
fn is_local_path(next: &str) -> bool {
    let mut chars = next.chars();
    let safe = |c: char| c.is_ascii_alphanumeric() || "/-_.?=&%".contains(c);
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/') | Some('\\'))
        && next.chars().all(safe)
}

fn urlencode(path: &str) -> String {
    path.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A state-changing request whose `Origin` is another site. Browsers send `Origin` on
/// cross-origin POSTs; SameSite=Lax alone still lets sibling hosts and ports through.
fn is_cross_site_post(request: &Request) -> bool {
    request.method() == axum::http::Method::POST && is_cross_site(request.headers())
}

/// Whether the request says it comes from a page of another origin.
pub(crate) fn is_cross_site(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (headers.get(ORIGIN), headers.get(HOST)) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or_default();
    let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or(origin);
    origin_host != host.to_str().unwrap_or_default()
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(State(services): State<Arc<Services>>, Form(form): Form<LoginForm>) -> Response {
    let lifetime = services.settings.session_lifetime();
    match auth::login(services.store.pool(), &form.email, &form.password, lifetime).await {
        Ok(Some((session, _principal))) => {
            // Only local paths, so the login form cannot be used to redirect elsewhere.
            let next =
                form.next.filter(|next| is_local_path(next)).unwrap_or_else(|| "/runs".into());
            let secure = if services.settings.secure_cookies { "; Secure" } else { "" };
            let cookie = format!(
                "{SESSION_COOKIE}={session}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
                lifetime.num_seconds()
            );
            let mut response = Redirect::to(&next).into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(SET_COOKIE, value);
            }
            response
        }
        Ok(None) => Redirect::to("/login?error=invalid").into_response(),
        Err(err) => {
            error!(error = %err, "login failed");
            Redirect::to("/login?error=unavailable").into_response()
        }
    }
}

async fn logout(State(services): State<Arc<Services>>, headers: HeaderMap) -> Response {
    if let Some(session) = session_cookie(&headers) {
        if let Err(err) = auth::logout(services.store.pool(), &session).await {
            error!(error = %err, "logout failed");
        }
    }
    let mut response = Redirect::to("/login").into_response();
    let expired = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&expired) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

async fn readyz(State(services): State<Arc<Services>>) -> Response {
    if services.store.is_ready().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable or migrations not applied")
            .into_response()
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    run: Option<Uuid>,
}

/// Server-sent events for the runs the viewer may see (or one of them).
async fn events(
    State(services): State<Arc<Services>>,
    principal: axum::Extension<Principal>,
    Query(query): Query<EventsQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let tenant = principal.scope.tenant_id();
    let stream = BroadcastStream::new(services.events.subscribe()).filter_map(move |event| {
        // A lagging receiver skips missed events; the page refetches on the next one.
        let event = event.ok()?;
        let visible = tenant.is_none_or(|tenant| tenant == event.tenant_id);
        let wanted = query.run.is_none_or(|run| run == event.run_id);
        (visible && wanted).then(|| {
            let data = serde_json::json!({ "run_id": event.run_id, "kind": event.kind });
            Ok(Event::default().data(data.to_string()))
        })
    });
    let stream = futures::StreamExt::take_until(stream, services.events.closed());
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn artifact(
    State(services): State<Arc<Services>>,
    principal: axum::Extension<Principal>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return (StatusCode::NOT_FOUND, "run not found").into_response();
    };
    match services.artifact(&principal.scope, id).await {
        Ok((file_name, bytes)) => crate::api::artifact_response(&file_name, bytes),
        Err(ServiceError::NotFound) => {
            (StatusCode::NOT_FOUND, "no artifact for this run").into_response()
        }
        Err(err) => {
            error!(error = %err, "artifact download failed");
            (StatusCode::SERVICE_UNAVAILABLE, "could not load the artifact").into_response()
        }
    }
}

/// The `Backend` of one request, bound to the person who made it.
struct SessionBackend {
    services: Arc<Services>,
    principal: Principal,
}

/// Maps a service failure to what the page shows, and gives the server function's response
/// the status that failure means, as the JSON API does.
fn backend_error(error: ServiceError) -> AppError {
    let (status, error) = match error {
        ServiceError::NotFound => (StatusCode::NOT_FOUND, AppError::NotFound),
        ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, AppError::Forbidden),
        ServiceError::Invalid(fields) => {
            (StatusCode::UNPROCESSABLE_ENTITY, AppError::Invalid(fields))
        }
        ServiceError::Rejected(run) => {
            (StatusCode::UNPROCESSABLE_ENTITY, AppError::Invalid(run.field_errors))
        }
        ServiceError::Conflict(message) => (StatusCode::CONFLICT, AppError::Conflict(message)),
        ServiceError::Store(err) => {
            error!(error = %err, source = ?std::error::Error::source(&err), "page request failed in storage");
            let message = "Factory could not reach its database; please retry shortly";
            (StatusCode::SERVICE_UNAVAILABLE, AppError::Internal(message.into()))
        }
    };
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
    error
}

#[async_trait::async_trait]
impl Backend for SessionBackend {
    fn viewer(&self) -> &Viewer {
        &self.principal.viewer
    }

    async fn run_types(&self) -> BackendResult<Vec<RunTypeView>> {
        Ok(self.services.run_types())
    }

    async fn list_runs(&self, filter: RunFilter) -> BackendResult<RunPage> {
        self.services.list_runs(&self.principal.scope, &filter).await.map_err(backend_error)
    }

    async fn get_run(&self, id: Uuid) -> BackendResult<RunDetail> {
        self.services.get_run(&self.principal.scope, id).await.map_err(backend_error)
    }

    async fn run_logs(&self, id: Uuid, after_id: i64) -> BackendResult<Vec<LogLine>> {
        self.services.run_logs(&self.principal.scope, id, after_id).await.map_err(backend_error)
    }

    async fn submit_run(
        &self,
        run_type: String,
        params: serde_json::Value,
    ) -> BackendResult<RunDetail> {
        match self.services.submit_run(&self.principal.scope, &run_type, params, None).await {
            Ok((run, _)) => Ok(run),
            // The form shows a rejected run's field errors beside the fields.
            Err(ServiceError::Rejected(run)) => Ok(*run),
            Err(error) => Err(backend_error(error)),
        }
    }

    async fn cancel_run(&self, id: Uuid) -> BackendResult<RunDetail> {
        self.services.cancel_run(&self.principal.scope, id).await.map_err(backend_error)
    }

    async fn overview(&self) -> BackendResult<Overview> {
        self.services.overview(&self.principal.scope).await.map_err(backend_error)
    }

    async fn pools(&self) -> BackendResult<PoolsPage> {
        self.services.pools(&self.principal.scope).await.map_err(backend_error)
    }

    async fn update_pool(
        &self,
        pool: String,
        form: std::collections::BTreeMap<String, String>,
    ) -> BackendResult<PoolView> {
        if !self.principal.scope.is_admin() {
            return Err(backend_error(ServiceError::Forbidden("only admins change pools".into())));
        }
        let update = PoolUpdate::from_form(&form)
            .map_err(|fields| backend_error(ServiceError::Invalid(fields)))?;
        self.services
            .update_pool(&self.principal.scope, &pool, &update)
            .await
            .map_err(backend_error)
    }

    async fn reliability(
        &self,
        window: Option<ReliabilityWindow>,
    ) -> BackendResult<ReliabilityPage> {
        self.services.reliability_page(&self.principal.scope, window).await.map_err(backend_error)
    }

    async fn sla_reports(&self, month: String) -> BackendResult<SlaReportList> {
        self.services.sla_reports(&self.principal.scope, &month).await.map_err(backend_error)
    }

    async fn sla_report(&self, tenant: String, month: String) -> BackendResult<SlaReport> {
        self.services
            .sla_report(&self.principal.scope, &tenant, &month)
            .await
            .map_err(backend_error)
    }

    async fn sla_report_action(
        &self,
        tenant: String,
        month: String,
        action: ReportAction,
        note: String,
    ) -> BackendResult<SlaReport> {
        self.services
            .sla_report_action(&self.principal.scope, &tenant, &month, action, &note)
            .await
            .map_err(backend_error)
    }

    async fn exclusions(&self) -> BackendResult<ExclusionsPage> {
        self.services.exclusions_page(&self.principal.scope).await.map_err(backend_error)
    }

    async fn save_exclusion(
        &self,
        id: Option<Uuid>,
        input: ExclusionInput,
    ) -> BackendResult<ExclusionsPage> {
        let scope = &self.principal.scope;
        self.services.save_exclusion(scope, id, input).await.map_err(backend_error)?;
        self.services.exclusions_page(scope).await.map_err(backend_error)
    }

    async fn delete_exclusion(&self, id: Uuid, reason: String) -> BackendResult<ExclusionsPage> {
        let scope = &self.principal.scope;
        self.services.withdraw_exclusion(scope, id, &reason).await.map_err(backend_error)?;
        self.services.exclusions_page(scope).await.map_err(backend_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_login_health_assets_and_the_api_are_public() {
        for path in ["/login", "/healthz", "/readyz", "/pkg/factory.js", "/api/v1/runs"] {
            assert!(is_public(path), "{path}");
        }
        for path in ["/", "/runs", "/runs/new", "/overview", "/pools", "/_fn/list_runs", "/events"]
        {
            assert!(!is_public(path), "{path}");
        }
    }

    #[test]
    fn only_plain_local_paths_are_followed_after_login() {
        for next in ["/runs", "/runs/new?type=library", "/runs/0f8fad5b-d9cb-469f"] {
            assert!(is_local_path(next), "{next}");
        }
        for next in
            ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "/a b", ""]
        {
            assert!(!is_local_path(next), "{next}");
        }
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("a=1; factory_session=abc; b=2"));
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
        assert_eq!(session_cookie(&HeaderMap::new()), None);
    }
}
