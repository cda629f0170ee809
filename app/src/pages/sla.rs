//! `/sla?month=YYYY-MM`: the month's SLA reports, one row per tenant with its status, uptime
//! and credit. Without a month the server picks the previous calendar month and says which,
//! so the server and the browser never guess "now" differently. Customers see only their
//! own issued report.
//!
//! Larger components end in `.into_any()`, which keeps the nested view type within the
//! compiler's recursion limit when the hydrate and server crates build.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::components::{ErrorMessage, Loading, ReportStatusBadge};
use crate::format::{money, month_label, optional_percentage, query_string, shift_month, NONE};
use crate::model::{SlaReportList, SlaReportRow};
use crate::server_fns::sla_reports;

#[component]
pub fn SlaPage() -> impl IntoView {
    let query = use_query_map();
    let month = Memo::new(move |_| query.with(|q| q.get("month").unwrap_or_default()));
    let reports = Resource::new(move || month.get(), sla_reports);

    view! {
        <Title text="SLA reports" />
        <h1>"SLA reports"</h1>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match reports.await {
                    Ok(list) => view! { <ReportList list /> }.into_any(),
                    Err(error) => {
                        view! {
                            <MonthPicker month=month.get_untracked() />
                            <ErrorMessage error what="SLA reports" />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// A GET form with the month, and links to the months either side. Once hydrated it
/// navigates without reloading, as the runs filters do.
#[component]
fn MonthPicker(month: String) -> impl IntoView {
    let chosen = RwSignal::new(month.clone());
    let navigate = use_navigate();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        navigate(&sla_href(&chosen.get_untracked()), NavigateOptions::default());
    };
    let step = |delta: i32, test: &'static str| {
        shift_month(&month, delta).map(|other| {
            let text = if delta < 0 {
                format!("← {}", month_label(&other))
            } else {
                format!("{} →", month_label(&other))
            };
            view! {
                <a href=sla_href(&other) data-test=test>
                    {text}
                </a>
            }
        })
    };

    view! {
        <form method="get" action="/sla" class="filters" on:submit=on_submit>
            {step(-1, "previous-month")}
            <label>
                "Month "
                <input
                    type="month"
                    name="month"
                    value=chosen.get_untracked()
                    bind:value=chosen
                    required
                    data-test="month-input"
                />
            </label>
            <button type="submit" class="button" data-test="month-apply">
                "Show"
            </button>
            {step(1, "next-month")}
        </form>
    }
    .into_any()
}

fn sla_href(month: &str) -> String {
    format!("/sla{}", query_string(&[("month", Some(month))]))
}

#[component]
fn ReportList(list: SlaReportList) -> impl IntoView {
    let heading = format!("Reports for {}", month_label(&list.month));
    let month = list.month.clone();
    let table = if list.rows.is_empty() {
        view! { <EmptyList can_review=list.can_review month=list.month.clone() /> }.into_any()
    } else {
        let rows = list
            .rows
            .into_iter()
            .map(|row| view! { <ReportRow row month=month.clone() /> })
            .collect_view();
        view! {
            <table class="table" data-test="sla-reports">
                <thead>
                    <tr>
                        <th>"Tenant"</th>
                        <th>"Status"</th>
                        <th class="num">"Revision"</th>
                        <th class="num">"Uptime"</th>
                        <th class="num">"Credit"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };

    view! {
        <MonthPicker month=list.month.clone() />
        <h2 data-test="sla-month" data-month=list.month>
            {heading}
        </h2>
        {table}
    }
    .into_any()
}

#[component]
fn EmptyList(can_review: bool, month: String) -> impl IntoView {
    let text = if can_review {
        format!("There are no tenants with reports for {}.", month_label(&month))
    } else {
        format!(
            "Your report for {} has not been issued yet. It appears here once your account \
             manager has reviewed and issued it.",
            month_label(&month)
        )
    };
    view! {
        <p class="empty" data-test="sla-empty">
            {text}
        </p>
    }
}

#[component]
fn ReportRow(row: SlaReportRow, month: String) -> impl IntoView {
    let href = format!("/sla/{}/{month}", row.tenant_slug);
    let link_test = format!("report-link-{}", row.tenant_slug);
    let status = match row.status {
        Some(status) => view! { <ReportStatusBadge status /> }.into_any(),
        None => view! { <span class="muted">"not computed"</span> }.into_any(),
    };
    let credit = match (row.credit_amount_cents, row.currency.as_deref()) {
        (Some(cents), Some(currency)) => money(cents, currency),
        _ => NONE.to_string(),
    };
    let link_text = if row.status.is_some() { "Open report" } else { "Compute report" };
    let key = row.tenant_slug.clone();

    view! {
        <tr data-test="sla-row" data-tenant=key>
            <td>
                {row.tenant_name} " " <span class="muted small mono">{row.tenant_slug}</span>
            </td>
            <td>{status}</td>
            <td class="num">{row.revision.map(|r| r.to_string()).unwrap_or(NONE.to_string())}</td>
            <td class="num">{optional_percentage(row.uptime_pct)}</td>
            <td class="num" data-test="row-credit">
                {credit}
            </td>
            <td>
                <a href=href data-test=link_test>
                    {link_text}
                </a>
            </td>
        </tr>
    }
    .into_any()
}
