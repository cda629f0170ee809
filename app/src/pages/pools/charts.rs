//! A pool's queue depth and start latency over the last hours: the server's SVG charts,
//! each followed by the same numbers as a table folded into `<details>`.

use leptos::prelude::*;

use crate::format::{latency_ms, minute};
use crate::model::PoolCharts;

#[component]
pub(super) fn PoolChartsView(charts: PoolCharts, hours: u32) -> impl IntoView {
    let PoolCharts { pool: _, queue_depth_svg, start_latency_svg, rows } = charts;
    let depth_caption = format!("Jobs waiting and running over the last {hours} hours");
    let latency_caption = format!("P95 start latency over the last {hours} hours");
    let depth_rows = rows
        .iter()
        .map(|row| (minute(&row.at), vec![row.waiting.to_string(), row.running.to_string()]))
        .collect();
    let latency_rows =
        rows.iter().map(|row| (minute(&row.at), vec![latency_ms(row.p95_start_ms)])).collect();

    view! {
        <div class="pool-charts">
            <Chart svg=queue_depth_svg caption=depth_caption test="pool-queue-chart">
                <ChartTable
                    summary="Jobs waiting and running (table)"
                    test="pool-queue-table"
                    columns=&["Waiting", "Running"]
                    rows=depth_rows
                />
            </Chart>
            <Chart svg=start_latency_svg caption=latency_caption test="pool-latency-chart">
                <ChartTable
                    summary="P95 start latency (table)"
                    test="pool-latency-table"
                    columns=&["P95 start"]
                    rows=latency_rows
                />
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

/// A chart's numbers folded into `<details>`: a row per time, a column per series.
#[component]
fn ChartTable(
    summary: &'static str,
    test: &'static str,
    columns: &'static [&'static str],
    rows: Vec<(String, Vec<String>)>,
) -> impl IntoView {
    let body = if rows.is_empty() {
        view! { <p class="muted">"No samples in this period."</p> }.into_any()
    } else {
        let head =
            columns.iter().map(|column| view! { <th class="num">{*column}</th> }).collect_view();
        let rows = rows
            .into_iter()
            .map(|(at, values)| {
                let cells = values
                    .into_iter()
                    .map(|value| view! { <td class="num">{value}</td> })
                    .collect_view();
                view! {
                    <tr>
                        <td>{at}</td>
                        {cells}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table">
                <thead>
                    <tr>
                        <th>"Time"</th>
                        {head}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };

    view! {
        <details class="chart-data" data-test=test>
            <summary>{summary}</summary>
            {body}
        </details>
    }
    .into_any()
}
