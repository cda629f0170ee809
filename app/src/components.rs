//! Small pieces several pages share: status badges, loading and error states, the viewer
//! that the layout loads once for every page, and refetching after an action succeeds.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{JobStatus, ReportStatus, Role, RunStatus, Viewer};

/// The logged-in person, loaded once by the layout and shared with every page under it.
#[derive(Clone, Copy)]
pub struct ViewerResource(pub Resource<Result<Viewer, AppError>>);

pub fn use_viewer() -> Resource<Result<Viewer, AppError>> {
    expect_context::<ViewerResource>().0
}

/// Staff see every tenant; customers only their own, so a tenant column would be noise.
pub fn is_staff(viewer: &Viewer) -> bool {
    viewer.role != Role::Customer
}

#[component]
pub fn RunStatusBadge(
    status: RunStatus,
    /// The `data-test` hook, as the list and the detail page want different ones.
    #[prop(default = "run-status")]
    test: &'static str,
) -> impl IntoView {
    let class = format!("badge status-{}", status.as_str());
    view! {
        <span class=class data-test=test data-status=status.as_str()>
            {status.as_str()}
        </span>
    }
}

#[component]
pub fn JobStatusBadge(status: JobStatus) -> impl IntoView {
    let class = format!("badge status-{}", status.as_str());
    view! {
        <span class=class data-test="job-status" data-status=status.as_str()>
            {status.as_str()}
        </span>
    }
}

/// Account managers and admins review and issue SLA reports.
pub fn can_act_on_reports(viewer: &Viewer) -> bool {
    matches!(viewer.role, Role::AccountManager | Role::Admin)
}

/// Counts an action's successful calls, for refetching a page's data only when something
/// changed: after a refused call the page stays as it was, with what was typed into it and
/// the reasons beside the form.
pub fn count_successes<I, T, E>(action: impl Into<Action<I, Result<T, E>>>) -> ReadSignal<u32>
where
    I: Send + Sync + 'static,
    T: Send + Sync + 'static,
    E: Send + Sync + 'static,
{
    let action = action.into();
    let count = RwSignal::new(0);
    Effect::new(move |_| {
        if action.value().with(|outcome| matches!(outcome, Some(Ok(_)))) {
            count.update(|count| *count += 1);
        }
    });
    count.read_only()
}

#[component]
pub fn ReportStatusBadge(
    status: ReportStatus,
    #[prop(default = "report-row-status")] test: &'static str,
) -> impl IntoView {
    let class = format!("badge status-{}", status.as_str());
    view! {
        <span class=class data-test=test data-status=status.as_str()>
            {status.as_str()}
        </span>
    }
}

/// Whether a month met one of its targets.
#[component]
pub fn MetBadge(met: bool, test: &'static str) -> impl IntoView {
    let (class, text) = if met { ("badge met", "met") } else { ("badge missed", "missed") };
    view! {
        <span class=class data-test=test>
            {text}
        </span>
    }
}

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" aria-busy="true">"Loading…"</p> }
}

/// A failed call, worded for the thing that was being loaded (`what`, e.g. "Run").
#[component]
pub fn ErrorMessage(error: AppError, #[prop(into)] what: String) -> impl IntoView {
    let text = match &error {
        AppError::NotFound => format!("{what} not found."),
        AppError::Forbidden => format!("{what}: not allowed for your role."),
        other => format!("{what} could not be loaded: {other}."),
    };
    let login_link = matches!(error, AppError::Unauthenticated)
        .then(|| view! { " " <a href="/login" rel="external">"Log in"</a> });

    view! {
        <p class="error" role="alert" data-test="error">
            {text}
            {login_link}
        </p>
    }
}

/// The reason beside a form field, if it has one.
#[component]
pub fn FieldError(#[prop(into)] name: String, message: Option<String>) -> impl IntoView {
    message.map(|message| {
        let test = format!("field-error-{name}");
        view! {
            <p class="field-error" data-test=test>
                {message}
            </p>
        }
    })
}
