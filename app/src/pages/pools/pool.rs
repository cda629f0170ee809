//! One pool's part of the page: its health and live numbers, the last change to it, the
//! worker processes serving it, its forms and its charts.

use leptos::prelude::*;

use crate::format::{latency_ms, optional_age_ms, timestamp};
use crate::model::{PoolCharts, PoolHealth, PoolView, PoolWorkerView, WorkerState};

use super::charts::PoolChartsView;
use super::forms::{PauseForm, PoolForms, SettingsForm};

#[component]
pub(super) fn PoolSection(
    pool: PoolView,
    charts: Option<PoolCharts>,
    chart_hours: u32,
    max_size: u32,
    forms: PoolForms,
) -> impl IntoView {
    let heading_id = format!("pool-{}", pool.name);
    let labelled_by = heading_id.clone();
    let charts = match charts {
        Some(charts) => view! { <PoolChartsView charts hours=chart_hours /> }.into_any(),
        None => view! { <p class="muted">"No history for this pool yet."</p> }.into_any(),
    };

    view! {
        <section
            class="card pool"
            data-test="pool-row"
            data-pool=pool.name.clone()
            aria-labelledby=labelled_by
        >
            <header class="pool-head">
                <h2 id=heading_id>{pool.name.clone()}</h2>
                <HealthBadge health=pool.health />
            </header>
            <PoolFacts pool=pool.clone() />
            <h3>"Worker processes"</h3>
            <WorkersTable workers=pool.workers.clone() />
            <div class="pool-forms">
                <SettingsForm pool=pool.clone() max_size forms />
                <PauseForm pool=pool.clone() forms />
            </div>
            <h3>{format!("Last {chart_hours} hours")}</h3>
            {charts}
        </section>
    }
    .into_any()
}

#[component]
fn HealthBadge(health: PoolHealth) -> impl IntoView {
    let name = health.label().replace(' ', "-");
    view! {
        <span
            class=format!("badge health-{name}")
            data-test="pool-health"
            data-health=name
        >
            {health.label()}
        </span>
    }
}

/// The numbers an admin looks at first, and who changed the pool last and why.
#[component]
fn PoolFacts(pool: PoolView) -> impl IntoView {
    let settings = pool.settings;
    let size = format!("{} (bounds {}–{})", pool.size, settings.min_size, settings.max_size);
    let note = if settings.note.is_empty() {
        "No note".to_string()
    } else {
        format!("“{}”", settings.note)
    };
    let changed = format!("{} by {}", timestamp(&settings.updated_at), settings.updated_by);
    let target = format!("target {}", latency_ms(Some(f64::from(settings.target_start_ms))));

    view! {
        <dl class="pool-facts">
            <div>
                <dt>"Jobs waiting"</dt>
                <dd class="num" data-test="pool-waiting">
                    {pool.queue_depth}
                </dd>
            </div>
            <div>
                <dt>"Running"</dt>
                <dd class="num" data-test="pool-running">
                    {pool.running}
                </dd>
            </div>
            <div>
                <dt>"Oldest waiting job"</dt>
                <dd data-test="pool-oldest-wait">{optional_age_ms(pool.oldest_wait_ms)}</dd>
            </div>
            <div>
                <dt>"P95 start, last 15 min"</dt>
                <dd data-test="pool-p95">
                    {latency_ms(pool.p95_start_ms)} <span class="muted small">" " {target}</span>
                </dd>
            </div>
            <div>
                <dt>"Size"</dt>
                <dd data-test="pool-size">{size}</dd>
            </div>
            <div>
                <dt>"Autoscaler"</dt>
                <dd data-test="pool-autoscale">{settings.autoscale.label()}</dd>
            </div>
        </dl>
        <p class="pool-last-change small" data-test="pool-last-change">
            "Last change: " <span data-test="pool-note">{note}</span> ", " {changed}
        </p>
    }
    .into_any()
}

/// The processes that reported a share of this pool in the last day, live ones first. Whether
/// any of them takes jobs is said in words, since an empty table is easy to misread.
#[component]
fn WorkersTable(workers: Vec<PoolWorkerView>) -> impl IntoView {
    let serving = workers.iter().any(|worker| worker.state == WorkerState::Live);
    let notice = (!serving).then(|| {
        view! {
            <p class="notice warning" data-test="pool-no-workers">
                "No worker process serves this pool: its jobs wait."
            </p>
        }
    });
    if workers.is_empty() {
        return notice.into_any();
    }

    let rows = workers.into_iter().map(|worker| view! { <WorkerRow worker /> }).collect_view();
    view! {
        {notice}
        <table class="table" data-test="pool-workers">
            <thead>
                <tr>
                    <th>"Host"</th>
                    <th class="num">"PID"</th>
                    <th>"Version"</th>
                    <th class="num">"Slots"</th>
                    <th class="num">"Running"</th>
                    <th class="num">"Jobs done"</th>
                    <th>"Last heartbeat"</th>
                    <th>"State"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn WorkerRow(worker: PoolWorkerView) -> impl IntoView {
    let state = worker.state.label();
    let started = format!("started {}", timestamp(&worker.started_at));
    let host = worker.host.clone();

    view! {
        <tr data-test="pool-worker" data-host=host data-state=state>
            <td class="mono">{worker.host}</td>
            <td class="num">{worker.pid}</td>
            <td class="mono">{worker.version}</td>
            <td class="num">{worker.slots}</td>
            <td class="num">{worker.running}</td>
            <td class="num">{worker.jobs_done}</td>
            <td>
                <time datetime=worker.heartbeat_at.to_rfc3339() title=started>
                    {timestamp(&worker.heartbeat_at)}
                </time>
            </td>
            <td>
                <span class=format!("badge worker-{state}")>{state}</span>
            </td>
        </tr>
    }
    .into_any()
}
