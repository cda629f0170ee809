//! A pool's queue depth and start latency over the last hours: the server's SVG charts,
//! each followed by the same numbers as a table folded into `<details>`.

use leptos::prelude::*;

use crate::format::{latency_ms, minute};
use crate::model::{PoolChartRow, PoolCharts};

#[component]
pub(super) fn PoolChartsView(charts: PoolCharts, hours: u32) -> impl IntoView {
    let PoolCharts { pool: _, queue_depth_svg, start_latency_svg, rows } = charts;
    let depth_caption = format!("Jobs waiting and running over the last {hours} hours");
    let latency_caption = format!("P95 start latency over the last {hours} hours");
    let depth_rows = rows.clone();

    view! {
        <div class="pool-charts">
            <Chart svg=queue_depth_svg caption=depth_caption test="pool-queue-chart">
                <DepthTable rows=depth_rows />
            </Chart>
            <Chart svg=start_latency_svg caption=latency_caption test="pool-latency-chart">
                <LatencyTable rows />
            </Chart>
        </div>
    }
    .into_any()
}

/// A server-drawn chart, then its numbers for people who cannot see it.
#[component]
fn Chart(svg: String, caption: String, test: &'static str, children: Children) -> impl IntoView {
    view! {
        <figure class="chart-figure" data-test=test>
            <figcaption>{caption.clone()}</figcaption>
            // The SVG comes from our own server (plotters), not from user input.
            <div class="chart" role="img" aria-label=caption inner_html=svg></div>
            {children()}
        </figure>
    }
    .into_any()
}

#[component]
fn DepthTable(rows: Vec<PoolChartRow>) -> impl IntoView {
    let body = if rows.is_empty() {
        view! { <p class="muted">"No samples in this period."</p> }.into_any()
    } else {
        let rows = rows
            .into_iter()
            .map(|row| {
                view! {
                    <tr>
                        <td>{minute(&row.at)}</td>
                        <td class="num">{row.waiting}</td>
                        <td class="num">{row.running}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table">
                <thead>
                    <tr>
                        <th>"Time"</th>
                        <th class="num">"Waiting"</th>
                        <th class="num">"Running"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };

    view! {
        <details class="chart-data" data-test="pool-queue-table">
            <summary>"Jobs waiting and running (table)"</summary>
            {body}
        </details>
    }
    .into_any()
}

#[component]
fn LatencyTable(rows: Vec<PoolChartRow>) -> impl IntoView {
    let body = if rows.is_empty() {
        view! { <p class="muted">"No samples in this period."</p> }.into_any()
    } else {
        let rows = rows
            .into_iter()
            .map(|row| {
                view! {
                    <tr>
                        <td>{minute(&row.at)}</td>
                        <td class="num">{latency_ms(row.p95_start_ms)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table">
                <thead>
                    <tr>
                        <th>"Time"</th>
                        <th class="num">"P95 start"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };

    view! {
        <details class="chart-data" data-test="pool-latency-table">
            <summary>"P95 start latency (table)"</summary>
            {body}
        </details>
    }
    .into_any()
}
