//! `/overview`: the last 30 days at a glance — success rate and uptime, burn-rate alerts,
//! upcoming maintenance, run durations per run type (the server draws the chart; the table
//! beside it carries the same numbers), and pools. The details are on `/reliability`.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{ErrorMessage, Loading};
use crate::format::{percent, seconds};
use crate::model::{Overview, PoolView, RunTypeDurations};
use crate::pages::reliability::{BurnAlerts, UpcomingMaintenance, UptimeSummary};
use crate::server_fns::overview;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let numbers = Resource::new(|| (), |_| overview());

    view! {
        <Title text="Overview" />
        <h1>"Overview"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match numbers.await {
                    Ok(numbers) => view! { <OverviewView numbers /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error what="Overview" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OverviewView(numbers: Overview) -> impl IntoView {
    let uptime_heading = format!("Uptime, last {} days", numbers.window_days);

    view! {
        <BurnAlerts alerts=numbers.alerts.clone() />
        <div class="stats">
            <SuccessRate numbers=numbers.clone() />
            <UptimeSummary uptime=numbers.uptime.clone() heading=uptime_heading />
        </div>
        <p>
            <a href="/reliability" data-test="reliability-link">
                "Reliability in detail →"
            </a>
        </p>
        <section>
            <h2>"Upcoming maintenance"</h2>
            <UpcomingMaintenance entries=numbers.upcoming_maintenance.clone() />
        </section>
        <section>
            <h2>"Durations by run type"</h2>
            <div class="side-by-side">
                // The SVG comes from our own server (plotters), not from user input.
                <div
                    class="chart"
                    data-test="durations-chart"
                    inner_html=numbers.durations_svg
                ></div>
                <DurationsTable durations=numbers.durations />
            </div>
        </section>
        <section>
            <h2>"Pools"</h2>
            <PoolsTable pools=numbers.pools />
        </section>
    }
    .into_any()
}

#[component]
fn SuccessRate(numbers: Overview) -> impl IntoView {
    let rate = numbers.success_rate.map(percent).unwrap_or_else(|| "no finished runs".to_string());
    let detail = format!(
        "{} of {} finished runs succeeded in the last {} days. \
         Rejected and cancelled runs are not counted.",
        numbers.succeeded_runs, numbers.counted_runs, numbers.window_days
    );

    view! {
        <section class="card stat">
            <h2>{format!("Success rate, last {} days", numbers.window_days)}</h2>
            <p class="stat-value" data-test="success-rate">
                {rate}
            </p>
            <p class="muted">{detail}</p>
        </section>
    }
}

#[component]
fn DurationsTable(durations: Vec<RunTypeDurations>) -> impl IntoView {
    if durations.is_empty() {
        return view! { <p class="muted">"No finished runs yet."</p> }.into_any();
    }

    let rows = durations
        .into_iter()
        .map(|row| {
            view! {
                <tr>
                    <td>{row.run_type}</td>
                    <td class="num">{row.runs}</td>
                    <td class="num">{seconds(row.p50_ms)}</td>
                    <td class="num">{seconds(row.p95_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="durations-table">
            <thead>
                <tr>
                    <th>"Run type"</th>
                    <th class="num">"Runs"</th>
                    <th class="num">"P50 (s)"</th>
                    <th class="num">"P95 (s)"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn PoolsTable(pools: Vec<PoolView>) -> impl IntoView {
    let rows = pools
        .into_iter()
        .map(|pool| {
            let key = pool.name.clone();
            view! {
                <tr data-test="overview-pool" data-pool=key>
                    <td>{pool.name}</td>
                    <td class="num">{pool.size}</td>
                    <td class="num">{pool.queue_depth}</td>
                    <td class="num">{pool.running}</td>
                    <td data-test="overview-pool-health">{pool.health.label()}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <table class="table" data-test="pools-table">
            <thead>
                <tr>
                    <th>"Pool"</th>
                    <th class="num">"Size"</th>
                    <th class="num">"Queued"</th>
                    <th class="num">"Running"</th>
                    <th>"Health"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
