//! `/runs/<id>`: one run with its parameters, job timeline, log and artifact. Live: each
//! event on `/events?run=<id>` refetches the run and appends the log lines after the last
//! one shown.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use crate::components::{
    is_staff, use_viewer, ErrorMessage, JobStatusBadge, Loading, RunStatusBadge,
};
use crate::error::AppError;
use crate::format::{bytes, optional_duration_ms, optional_timestamp, short_id, timestamp, NONE};
use crate::live::use_server_events;
use crate::model::{ArtifactInfo, JobView, LogLine, RunDetail, RunSummary};
use crate::server_fns::{get_run, run_logs, CancelRun};

#[component]
pub fn RunDetailPage() -> impl IntoView {
    let params = use_params_map();
    let run_id = Memo::new(move |_| params.with(|p| p.get_str("id").and_then(parse_id)));
    let cancel = ServerAction::<CancelRun>::new();
    let run = Resource::new(move || (run_id.get(), cancel.version().get()), |(id, _)| load_run(id));
    let logs = Logs::new(run_id);
    let viewer = use_viewer();

    use_server_events(
        move || run_id.get().map(|id| format!("/events?run={id}")),
        move || {
            run.refetch();
            logs.fetch_newer();
        },
    );

    view! {
        <Title text=move || {
            run_id.get().map(|id| format!("Run {}", short_id(&id))).unwrap_or_default()
        } />
        <p class="breadcrumb">
            <a href="/runs">"← Runs"</a>
        </p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let show_tenant = viewer.await.is_ok_and(|v| is_staff(&v));
                match run.await {
                    Ok(run) => view! { <RunView run cancel show_tenant /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error what="Run" /> }.into_any(),
                }
            })}
        </Transition>
        <section class="logs-section">
            <h2>"Log"</h2>
            <LogView logs />
        </section>
    }
}

fn parse_id(text: &str) -> Option<Uuid> {
    Uuid::parse_str(text).ok()
}

async fn load_run(id: Option<Uuid>) -> Result<RunDetail, AppError> {
    match id {
        Some(id) => get_run(id).await,
        None => Err(AppError::NotFound),
    }
}

#[component]
fn RunView(run: RunDetail, cancel: ServerAction<CancelRun>, show_tenant: bool) -> impl IntoView {
    let id = run.summary.id;
    let can_cancel = !run.summary.status.is_terminal() && !run.cancel_requested;

    view! {
        <div class="page-head">
            <h1>
                "Run " <span class="mono" data-test="run-id">{id.to_string()}</span>
            </h1>
            <RunStatusBadge status=run.summary.status />
        </div>
        <Facts summary=run.summary.clone() show_tenant />
        <Notices run=run.clone() />
        {can_cancel.then(|| view! { <CancelButton id cancel /> })}
        <ArtifactLink id artifact=run.artifact.clone() />
        <FieldReasons run=run.clone() />
        <section>
            <h2>"Parameters"</h2>
            <Params params=run.params />
        </section>
        <section>
            <h2>"Jobs"</h2>
            <JobsTable jobs=run.jobs />
        </section>
    }
}

#[component]
fn Facts(summary: RunSummary, show_tenant: bool) -> impl IntoView {
    let took = summary.started_at.zip(summary.finished_at).map(|(s, f)| (f - s).num_milliseconds());
    let tenant = summary.tenant;
    let tenant_row = show_tenant.then(|| view! { <dt>"Tenant"</dt> <dd>{tenant}</dd> });

    view! {
        <dl class="facts">
            <dt>"Run type"</dt>
            <dd data-test="run-type">{summary.run_type}</dd>
            {tenant_row}
            <dt>"Created"</dt>
            <dd>{timestamp(&summary.created_at)}</dd>
            <dt>"Started"</dt>
            <dd>{optional_timestamp(summary.started_at.as_ref())}</dd>
            <dt>"Finished"</dt>
            <dd>{optional_timestamp(summary.finished_at.as_ref())}</dd>
            <dt>"Took"</dt>
            <dd>{optional_duration_ms(took)}</dd>
        </dl>
    }
}

/// Why the run failed, and whether someone asked to cancel it.
#[component]
fn Notices(run: RunDetail) -> impl IntoView {
    let error = run.error.map(|error| {
        view! {
            <p class="error" data-test="run-error">
                {error}
            </p>
        }
    });
    let cancelling = run.cancel_requested.then(|| {
        view! {
            <p class="notice" data-test="cancel-requested">
                "Cancellation requested."
            </p>
        }
    });
    view! { {error} {cancelling} }
}

/// A plain form posting to the server function, so it works before hydration too.
#[component]
fn CancelButton(id: Uuid, cancel: ServerAction<CancelRun>) -> impl IntoView {
    let error = move || {
        cancel.value().get().and_then(Result::err).map(|error| {
            view! { <ErrorMessage error what="Cancelling" /> }
        })
    };

    view! {
        <ActionForm action=cancel attr:class="cancel-form">
            <input type="hidden" name="id" value=id.to_string() />
            <button
                type="submit"
                class="button danger"
                data-test="cancel-run"
                disabled=move || cancel.pending().get()
            >
                "Cancel run"
            </button>
        </ActionForm>
        {error}
    }
}

#[component]
fn ArtifactLink(id: Uuid, artifact: Option<ArtifactInfo>) -> impl IntoView {
    artifact.map(|artifact| {
        let href = format!("/runs/{id}/artifact");
        view! {
            <p class="artifact">
                // `download` and `rel="external"` keep the router from treating it as a page.
                <a
                    href=href
                    download=artifact.file_name.clone()
                    rel="external"
                    class="button primary"
                    data-test="artifact-link"
                >
                    {format!("Download {}", artifact.file_name)}
                </a>
                <span class="muted small">
                    {format!(" {} · sha256 ", bytes(artifact.size_bytes))}
                    <code data-test="artifact-sha256">{artifact.sha256}</code>
                </span>
            </p>
        }
    })
}

/// Why a rejected run's parameters were refused.
#[component]
fn FieldReasons(run: RunDetail) -> impl IntoView {
    (!run.field_errors.is_empty()).then(|| {
        view! {
            <div class="error-summary" data-test="run-field-errors">
                <p>"The parameters were refused:"</p>
                <ul>
                    {run
                        .field_errors
                        .into_iter()
                        .map(|(name, reason)| view! { <li><code>{name}</code>": " {reason}</li> })
                        .collect_view()}
                </ul>
            </div>
        }
    })
}

#[component]
fn Params(params: serde_json::Value) -> impl IntoView {
    let serde_json::Value::Object(entries) = params else {
        return view! { <pre class="params">{params.to_string()}</pre> }.into_any();
    };
    if entries.is_empty() {
        return view! { <p class="muted">"No parameters."</p> }.into_any();
    }

    let rows = entries
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            view! { <dt>{name}</dt> <dd class="pre">{text}</dd> }
        })
        .collect_view();
    view! { <dl class="facts" data-test="run-params">{rows}</dl> }.into_any()
}

#[component]
fn JobsTable(jobs: Vec<JobView>) -> impl IntoView {
    if jobs.is_empty() {
        return view! { <p class="muted">"No jobs: the run was never queued."</p> }.into_any();
    }

    view! {
        <table class="table" data-test="jobs-table">
            <thead>
                <tr>
                    <th>"Step"</th>
                    <th>"Pool"</th>
                    <th>"Status"</th>
                    <th>"Attempts"</th>
                    <th>"Waited"</th>
                    <th>"Took"</th>
                    <th>"Error"</th>
                </tr>
            </thead>
            <tbody>{jobs.into_iter().map(|job| view! { <JobRow job /> }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn JobRow(job: JobView) -> impl IntoView {
    let wait = optional_duration_ms(job.wait_ms());
    let took = optional_duration_ms(job.duration_ms());
    let title = optional_timestamp(job.started_at.as_ref());
    let step = job.step.clone();

    view! {
        <tr data-test="job-row" data-step=step>
            <td>{job.step}</td>
            <td>{job.pool}</td>
            <td>
                <JobStatusBadge status=job.status />
            </td>
            <td data-test="job-attempts">{format!("{}/{}", job.attempts, job.max_attempts)}</td>
            <td>{wait}</td>
            <td title=title>{took}</td>
            <td class="job-error">{job.error.unwrap_or_else(|| NONE.to_string())}</td>
        </tr>
    }
}

/// The log shown: the lines the page was rendered with, then those fetched live since.
#[derive(Clone, Copy)]
struct Logs {
    run_id: Memo<Option<Uuid>>,
    initial: Resource<Result<Vec<LogLine>, AppError>>,
    /// The id of the last line of `initial`, copied once it loads (a resource read outside
    /// `Suspense` would upset hydration).
    initial_last: RwSignal<i64>,
    newer: RwSignal<Vec<LogLine>>,
}

impl Logs {
    fn new(run_id: Memo<Option<Uuid>>) -> Self {
        let initial = Resource::new(
            move || run_id.get(),
            |id| async move {
                match id {
                    Some(id) => run_logs(id, 0).await,
                    None => Ok(Vec::new()),
                }
            },
        );
        let initial_last = RwSignal::new(0);
        let newer = RwSignal::new(Vec::new());
        // Another run's page starts over with that run's lines.
        Effect::new(move |_| {
            if let Some(Ok(lines)) = initial.get() {
                initial_last.set(lines.last().map_or(0, |line| line.id));
                newer.set(Vec::new());
            }
        });
        Logs { run_id, initial, initial_last, newer }
    }

    fn last_id(&self) -> i64 {
        let newest = self.newer.with_untracked(|lines| lines.last().map(|line| line.id));
        newest.unwrap_or_else(|| self.initial_last.get_untracked())
    }

    fn fetch_newer(self) {
        let Some(id) = self.run_id.get_untracked() else { return };
        let after = self.last_id();
        spawn_local(async move {
            // A failed poll is harmless: the next event asks again from the same line.
            if let Ok(lines) = run_logs(id, after).await {
                self.newer.update(|known| append_after(known, lines, after));
            }
        });
    }
}

/// Appends the lines newer than both `after` and what is already known, so overlapping
/// fetches never show a line twice.
fn append_after(known: &mut Vec<LogLine>, lines: Vec<LogLine>, after: i64) {
    let floor = known.last().map_or(after, |line| line.id.max(after));
    known.extend(lines.into_iter().filter(|line| line.id > floor));
}

#[component]
fn LogView(logs: Logs) -> impl IntoView {
    view! {
        <ol class="logs" data-test="logs">
            <Suspense fallback=|| view! { <li class="muted">"Loading…"</li> }>
                {move || Suspend::new(async move {
                    match logs.initial.await {
                        Ok(lines) => lines
                            .into_iter()
                            .map(|line| view! { <LogLineView line /> })
                            .collect_view()
                            .into_any(),
                        Err(error) => {
                            view! { <li><ErrorMessage error what="Log" /></li> }.into_any()
                        }
                    }
                })}
            </Suspense>
            <For each=move || logs.newer.get() key=|line| line.id let:line>
                <LogLineView line />
            </For>
        </ol>
    }
}

#[component]
fn LogLineView(line: LogLine) -> impl IntoView {
    let class = format!("log-line level-{}", line.level.to_lowercase());
    view! {
        <li class=class data-test="log-line" data-job-id=line.job_id.to_string()>
            <time>{timestamp(&line.at)}</time>
            <span class="level">{line.level}</span>
            <span class="message">{line.message}</span>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn line(id: i64) -> LogLine {
        LogLine {
            id,
            job_id: Uuid::nil(),
            at: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
            level: "info".to_string(),
            message: format!("line {id}"),
        }
    }

    fn ids(lines: &[LogLine]) -> Vec<i64> {
        lines.iter().map(|line| line.id).collect()
    }

    #[test]
    fn new_lines_are_appended_after_the_known_ones() {
        let mut known = vec![line(4)];
        append_after(&mut known, vec![line(5), line(6)], 4);
        assert_eq!(ids(&known), [4, 5, 6]);
    }

    #[test]
    fn overlapping_fetches_do_not_repeat_lines() {
        let mut known = vec![line(5), line(6)];
        append_after(&mut known, vec![line(5), line(6), line(7)], 4);
        assert_eq!(ids(&known), [5, 6, 7]);
    }

    #[test]
    fn the_first_fetch_starts_after_the_rendered_lines() {
        let mut known = Vec::new();
        append_after(&mut known, vec![line(3), line(9)], 3);
        assert_eq!(ids(&known), [9]);
    }
}
