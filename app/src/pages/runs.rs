//! `/runs` (and `/`): the runs list, newest first, filtered by the `status`, `run_type` and
//! `cursor` query parameters. Statuses update live from the `/events` stream.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::components::{is_staff, use_viewer, ErrorMessage, Loading, RunStatusBadge};
use crate::format::{optional_duration_ms, optional_timestamp, query_string, short_id, timestamp};
use crate::live::use_server_events;
use crate::model::{RunFilter, RunPage, RunStatus, RunSummary, RunTypeView};
use crate::server_fns::{list_runs, run_types};

#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| RunFilter {
            status: q.get_str("status").and_then(RunStatus::parse),
            run_type: q.get("run_type").filter(|text| !text.is_empty()),
            cursor: q.get("cursor").filter(|text| !text.is_empty()),
            limit: None,
        })
    });
    let runs = Resource::new(move || filter.get(), list_runs);
    let viewer = use_viewer();
    use_server_events(|| Some("/events".to_string()), move || runs.refetch());

    view! {
        <Title text="Runs" />
        <div class="page-head">
            <h1>"Runs"</h1>
            <a href="/runs/new" class="button primary" data-test="new-run-link">
                "New run"
            </a>
        </div>
        <Filters filter />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let show_tenant = viewer.await.map(|v| is_staff(&v)).unwrap_or(false);
                match runs.await {
                    Ok(page) => {
                        view! { <RunsTable page filter=filter.get() show_tenant /> }.into_any()
                    }
                    Err(error) => view! { <ErrorMessage error what="Runs" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A GET form to `/runs`, so filtering works before hydration too; once hydrated it
/// navigates to a clean URL (no empty parameters) without reloading.
#[component]
fn Filters(filter: Memo<RunFilter>) -> impl IntoView {
    let types = Resource::new(|| (), |_| run_types());
    let chosen = FilterChoice::new(filter);
    let navigate = use_navigate();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        navigate(&runs_href(&chosen.to_filter()), NavigateOptions::default());
    };
    let status_options = RunStatus::ALL
        .into_iter()
        .map(|status| {
            let selected = move || filter.with(|f| f.status == Some(status));
            view! {
                <option value=status.as_str() selected=selected>
                    {status.as_str()}
                </option>
            }
        })
        .collect_view();

    view! {
        <form method="get" action="/runs" class="filters" on:submit=on_submit>
            <label>
                "Status "
                <select name="status" bind:value=chosen.status data-test="filter-status">
                    <option value="">"Any"</option>
                    {status_options}
                </select>
            </label>
            <Suspense fallback=move || view! { <RunTypeSelect types=Vec::new() filter chosen /> }>
                {move || Suspend::new(async move {
                    let types = types.await.unwrap_or_default();
                    view! { <RunTypeSelect types filter chosen /> }
                })}
            </Suspense>
            <button type="submit" class="button" data-test="filter-apply">
                "Filter"
            </button>
        </form>
    }
}

/// What the filter selects show, following the URL when it changes.
#[derive(Clone, Copy)]
struct FilterChoice {
    status: RwSignal<String>,
    run_type: RwSignal<String>,
}

impl FilterChoice {
    fn new(filter: Memo<RunFilter>) -> Self {
        let choice = FilterChoice {
            status: RwSignal::new(String::new()),
            run_type: RwSignal::new(String::new()),
        };
        let follow = move |filter: &RunFilter| {
            choice.status.set(filter.status.map(|s| s.as_str().to_string()).unwrap_or_default());
            choice.run_type.set(filter.run_type.clone().unwrap_or_default());
        };
        filter.with_untracked(follow);
        Effect::new(move |_| filter.with(follow));
        choice
    }

    fn to_filter(self) -> RunFilter {
        RunFilter {
            status: RunStatus::parse(&self.status.get_untracked()),
            run_type: Some(self.run_type.get_untracked()).filter(|name| !name.is_empty()),
            cursor: None,
            limit: None,
        }
    }
}

#[component]
fn RunTypeSelect(
    types: Vec<RunTypeView>,
    filter: Memo<RunFilter>,
    chosen: FilterChoice,
) -> impl IntoView {
    let options = types
        .into_iter()
        .map(|run_type| {
            let name = run_type.name.clone();
            let selected = move || filter.with(|f| f.run_type.as_deref() == Some(name.as_str()));
            view! {
                <option value=run_type.name selected=selected>
                    {run_type.title}
                </option>
            }
        })
        .collect_view();

    view! {
        <label>
            "Run type "
            <select name="run_type" bind:value=chosen.run_type data-test="filter-run-type">
                <option value="">"Any"</option>
                {options}
            </select>
        </label>
    }
}

#[component]
fn RunsTable(page: RunPage, filter: RunFilter, show_tenant: bool) -> impl IntoView {
    if page.runs.is_empty() {
        return view! {
            <p class="empty" data-test="runs-empty">
                "No runs match these filters."
            </p>
        }
        .into_any();
    }

    let next = page.next_cursor.map(|cursor| {
        let filter = RunFilter { cursor: Some(cursor), ..filter.clone() };
        view! {
            <a href=runs_href(&filter) class="button" data-test="next-page">
                "Next page"
            </a>
        }
    });
    let first = filter.cursor.is_some().then(|| {
        let filter = RunFilter { cursor: None, ..filter.clone() };
        view! {
            <a href=runs_href(&filter) class="button" data-test="first-page">
                "First page"
            </a>
        }
    });

    view! {
        <table class="table" data-test="runs-table">
            <thead>
                <tr>
                    <th>"Run"</th>
                    {show_tenant.then(|| view! { <th>"Tenant"</th> })}
                    <th>"Type"</th>
                    <th>"Status"</th>
                    <th>"Created"</th>
                    <th>"Took"</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .runs
                    .into_iter()
                    .map(|run| view! { <RunRow run show_tenant /> })
                    .collect_view()}
            </tbody>
        </table>
        <div class="pager">{first} {next}</div>
    }
    .into_any()
}

#[component]
fn RunRow(run: RunSummary, show_tenant: bool) -> impl IntoView {
    let href = format!("/runs/{}", run.id);
    let took = run.started_at.zip(run.finished_at).map(|(s, f)| (f - s).num_milliseconds());

    view! {
        <tr data-test="run-row" data-run-id=run.id.to_string()>
            <td>
                <a href=href class="mono">
                    {short_id(&run.id)}
                </a>
            </td>
            {show_tenant.then(|| view! { <td data-test="run-tenant">{run.tenant.clone()}</td> })}
            <td>{run.run_type.clone()}</td>
            <td>
                <RunStatusBadge status=run.status test="run-row-status" />
            </td>
            <td title=optional_timestamp(run.started_at.as_ref())>{timestamp(&run.created_at)}</td>
            <td>{optional_duration_ms(took)}</td>
        </tr>
    }
}

fn runs_href(filter: &RunFilter) -> String {
    let query = query_string(&[
        ("status", filter.status.map(RunStatus::as_str)),
        ("run_type", filter.run_type.as_deref()),
        ("cursor", filter.cursor.as_deref()),
    ]);
    format!("/runs{query}")
}
