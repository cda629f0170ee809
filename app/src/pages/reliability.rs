//! `/reliability?from=YYYY-MM-DD&to=YYYY-MM-DD`: uptime, run success, durations and
//! latencies over a window (the last 30 days by default), each chart followed by the same
//! numbers as a table or text. Also the burn-rate alerts and upcoming maintenance, which
//! the overview shows too.
//!
//! Larger components end in `.into_any()`, which keeps the nested view type within the
//! compiler's recursion limit when the hydrate and server crates build.

use chrono::{Days, NaiveDate};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::components::{ErrorMessage, Loading};
use crate::format::{
    latency_ms, optional_percentage, percentage, query_string, seconds, tenant_list, timestamp,
    utc_range, NONE,
};
use crate::model::{
    BurnAlertView, DayUptimeView, ExclusionView, LatencyView, ReliabilityPage as ReliabilityData,
    ReliabilityWindow, RunTypeReliability, SuccessWindow, UptimeWindow,
};
use crate::server_fns::reliability;

#[component]
pub fn ReliabilityPage() -> impl IntoView {
    let query = use_query_map();
    let choice =
        Memo::new(move |_| query.with(|q| WindowChoice::parse(q.get_str("from"), q.get_str("to"))));
    let numbers = Resource::new(move || choice.get().window(), reliability);

    view! {
        <Title text="Reliability" />
        <h1>"Reliability"</h1>
        <WindowPicker />
        <Show when=move || choice.get() == WindowChoice::Invalid>
            <p class="notice" data-test="window-invalid">
                "Give both dates, the first not after the second. Showing the last 30 days."
            </p>
        </Show>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match numbers.await {
                    Ok(page) => view! { <ReliabilityView page /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error what="Reliability" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The window the query asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum WindowChoice {
    /// No dates: the server's default, the last 30 days.
    Default,
    Chosen(ReliabilityWindow),
    /// Missing, malformed or reversed dates; the default is shown with a notice.
    Invalid,
}

impl WindowChoice {
    /// From two `YYYY-MM-DD` dates, `to` included: midnight UTC at the start of `from` up to
    /// midnight after `to`.
    fn parse(from: Option<&str>, to: Option<&str>) -> WindowChoice {
        let from = from.filter(|text| !text.is_empty());
        let to = to.filter(|text| !text.is_empty());
        let (Some(from), Some(to)) = (from, to) else {
            return if from.is_none() && to.is_none() {
                WindowChoice::Default
            } else {
                WindowChoice::Invalid
            };
        };

        let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let (Some(from), Some(to)) = (date(from), date(to)) else {
            return WindowChoice::Invalid;
        };
        let Some(after_to) = to.checked_add_days(Days::new(1)).filter(|_| from <= to) else {
            return WindowChoice::Invalid;
        };
        WindowChoice::Chosen(ReliabilityWindow {
            from: from.and_time(Default::default()).and_utc(),
            to: after_to.and_time(Default::default()).and_utc(),
        })
    }

    fn window(self) -> Option<ReliabilityWindow> {
        match self {
            WindowChoice::Chosen(window) => Some(window),
            WindowChoice::Default | WindowChoice::Invalid => None,
        }
    }
}

/// A GET form, so a window can be picked before hydration too; once hydrated it navigates
/// to a clean URL without reloading.
#[component]
fn WindowPicker() -> impl IntoView {
    let query = use_query_map();
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    let follow = move |q: &leptos_router::params::ParamsMap| {
        from.set(q.get("from").unwrap_or_default());
        to.set(q.get("to").unwrap_or_default());
    };
    query.with_untracked(follow);
    Effect::new(move |_| query.with(follow));

    let navigate = use_navigate();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let (from, to) = (from.get_untracked(), to.get_untracked());
        let query = query_string(&[("from", Some(&from)), ("to", Some(&to))]);
        navigate(&format!("/reliability{query}"), NavigateOptions::default());
    };

    view! {
        <form method="get" action="/reliability" class="filters" on:submit=on_submit>
            <label>
                "From (UTC) "
                <input
                    type="date"
                    name="from"
                    value=from.get_untracked()
                    bind:value=from
                    data-test="window-from"
                />
            </label>
            <label>
                "To, included (UTC) "
                <input
                    type="date"
                    name="to"
                    value=to.get_untracked()
                    bind:value=to
                    data-test="window-to"
                />
            </label>
            <button type="submit" class="button" data-test="window-apply">
                "Show"
            </button>
            <a href="/reliability" data-test="window-default">
                "Last 30 days"
            </a>
        </form>
    }
    .into_any()
}

#[component]
fn ReliabilityView(page: ReliabilityData) -> impl IntoView {
    let numbers = page.numbers;
    let shown = format!(
        "From {} to {} (the end excluded).",
        timestamp(&numbers.from),
        timestamp(&numbers.to)
    );

    view! {
        <p class="muted" data-test="reliability-window">
            {shown}
        </p>
        <BurnAlerts alerts=page.alerts.clone() />
        <div class="stats">
            <UptimeSummary uptime=numbers.uptime heading="Uptime in this window" />
            <SuccessSummary
                success=numbers.success
                heading="Run success in this window"
                test="success-window"
            />
            <SuccessSummary
                success=numbers.success_30d
                heading="Run success, last 30 days"
                test="success-30d"
            />
        </div>
        <section>
            <h2>"Uptime by day"</h2>
            <Figure svg=page.uptime_bars_svg caption="Uptime per day" test="uptime-chart">
                <DaysTable days=page.days />
            </Figure>
        </section>
        <section>
            <h2>"Run durations"</h2>
            <Figure
                svg=page.durations_svg
                caption="P50 and P95 duration per run type"
                test="durations-chart"
            >
                <RunTypesTable run_types=numbers.run_types />
            </Figure>
        </section>
        <section>
            <h2>"Run success"</h2>
            <Figure svg=page.success_svg caption="Run success over the window" test="success-chart">
                <p class="muted">
                    "The numbers behind this chart: run success in this window above, and per \
                     run type in the durations table."
                </p>
            </Figure>
        </section>
        <section>
            <h2>"Job start latency"</h2>
            <Figure
                svg=page.start_latency_svg
                caption="Time from queued to started, per pool"
                test="start-latency-chart"
            >
                <LatencyTable rows=numbers.pools name="Pool" test="start-latency-table" />
            </Figure>
        </section>
        <section>
            <h2>"Queue depth"</h2>
            <Figure
                svg=page.queue_depth_svg
                caption="Jobs waiting per pool over the window"
                test="queue-depth-chart"
            >
                <p class="muted">
                    "Jobs waiting in each pool's queue over the window. The current depth of "
                    "each pool is on the " <a href="/overview">"overview"</a> "."
                </p>
            </Figure>
        </section>
        <section>
            <h2>"API response times"</h2>
            <LatencyTable rows=numbers.api_routes name="Route" test="api-routes-table" />
        </section>
        <section>
            <h2>"Error budgets"</h2>
            <Figure
                svg=page.burndown_svg
                caption="Error budget remaining over the window"
                test="burndown-chart"
            >
                <BurnRulesTable alerts=page.alerts />
            </Figure>
        </section>
        <section>
            <h2>"Upcoming maintenance"</h2>
            <UpcomingMaintenance entries=page.upcoming_maintenance />
        </section>
    }
    .into_any()
}

/// A server-drawn chart with, beside it, the same numbers for people who cannot see it.
#[component]
fn Figure(
    svg: String,
    caption: &'static str,
    test: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <figure class="chart-figure" data-test=test>
            <figcaption>{caption}</figcaption>
            <div class="side-by-side">
                // The SVG comes from our own server (plotters), not from user input.
                <div class="chart" role="img" aria-label=caption inner_html=svg></div>
                <div class="chart-alt">{children()}</div>
            </div>
        </figure>
    }
    .into_any()
}

/// The uptime of a window as one number, with the minutes behind it. Minutes without probe
/// data are shown apart: they count as downtime for the SLA, but nobody saw the API down.
#[component]
pub fn UptimeSummary(uptime: UptimeWindow, #[prop(into)] heading: String) -> impl IntoView {
    let value = uptime.uptime_pct.map(percentage).unwrap_or_else(|| "no data".to_string());
    let detail = format!(
        "{} of {} minutes up, {} down.",
        uptime.up_minutes, uptime.minutes, uptime.down_minutes
    );
    let no_data = format!(
        "{} minutes without probe data (counted as downtime for the SLA).",
        uptime.no_data_minutes
    );

    view! {
        <section class="card stat">
            <h2>{heading}</h2>
            <p class="stat-value" data-test="uptime-pct">
                {value}
            </p>
            <p class="muted">{detail}</p>
            <p class="muted" data-test="uptime-no-data">
                {no_data}
            </p>
        </section>
    }
    .into_any()
}

#[component]
fn SuccessSummary(
    success: SuccessWindow,
    heading: &'static str,
    test: &'static str,
) -> impl IntoView {
    let value = success.success_pct.map(percentage).unwrap_or_else(|| "no finished runs".into());
    let detail = format!(
        "{} of {} finished runs succeeded. Rejected and cancelled runs are not counted.",
        success.succeeded, success.counted
    );

    view! {
        <section class="card stat">
            <h2>{heading}</h2>
            <p class="stat-value" data-test=test>
                {value}
            </p>
            <p class="muted">{detail}</p>
        </section>
    }
    .into_any()
}

/// The uptime bars as a table, folded away: ninety rows are a lot to scroll past.
#[component]
fn DaysTable(days: Vec<DayUptimeView>) -> impl IntoView {
    if days.is_empty() {
        return view! { <p class="muted">"No probe data in this window."</p> }.into_any();
    }

    let rows = days
        .into_iter()
        .map(|day| {
            let total = day.up_minutes + day.down_minutes + day.no_data_minutes;
            let uptime = (total > 0).then(|| day.up_minutes as f64 * 100.0 / total as f64);
            view! {
                <tr data-test="uptime-day">
                    <td>{day.day.to_string()}</td>
                    <td class="num">{day.up_minutes}</td>
                    <td class="num">{day.down_minutes}</td>
                    <td class="num">{day.no_data_minutes}</td>
                    <td class="num">{day.excluded_minutes}</td>
                    <td class="num">{optional_percentage(uptime)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <details class="chart-data" data-test="uptime-days">
            <summary>"Minutes per day (table)"</summary>
            <table class="table">
                <thead>
                    <tr>
                        <th>"Day (UTC)"</th>
                        <th class="num">"Up (min)"</th>
                        <th class="num">"Down (min)"</th>
                        <th class="num">"No data (min)"</th>
                        <th class="num">"Excluded (min)"</th>
                        <th class="num">"Uptime"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </details>
    }
    .into_any()
}

#[component]
fn RunTypesTable(run_types: Vec<RunTypeReliability>) -> impl IntoView {
    if run_types.is_empty() {
        return view! { <p class="muted">"No finished runs in this window."</p> }.into_any();
    }

    let rows = run_types
        .into_iter()
        .map(|row| {
            view! {
                <tr data-test="run-type-row">
                    <td>{row.run_type}</td>
                    <td class="num">{row.succeeded}</td>
                    <td class="num">{row.failed}</td>
                    <td class="num">{seconds(row.p50_ms)}</td>
                    <td class="num">{seconds(row.p95_ms)}</td>
                    <td class="num">{optional_percentage(row.within_expected_pct)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="run-types-table">
            <thead>
                <tr>
                    <th>"Run type"</th>
                    <th class="num">"Succeeded"</th>
                    <th class="num">"Failed"</th>
                    <th class="num">"P50 (s)"</th>
                    <th class="num">"P95 (s)"</th>
                    <th class="num">"Within expected time"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// P50/P95 per pool or per API route; `name` heads the first column.
#[component]
fn LatencyTable(rows: Vec<LatencyView>, name: &'static str, test: &'static str) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted">"Nothing measured in this window."</p> }.into_any();
    }

    let rows = rows
        .into_iter()
        .map(|row| {
            view! {
                <tr>
                    <td class="mono">{row.name}</td>
                    <td class="num">{row.count}</td>
                    <td class="num">{latency_ms(row.p50_ms)}</td>
                    <td class="num">{latency_ms(row.p95_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test=test>
            <thead>
                <tr>
                    <th>{name}</th>
                    <th class="num">"Count"</th>
                    <th class="num">"P50"</th>
                    <th class="num">"P95"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// The firing burn-rate alerts, prominent; otherwise one quiet line.
#[component]
pub fn BurnAlerts(alerts: Vec<BurnAlertView>) -> impl IntoView {
    let firing: Vec<BurnAlertView> = alerts.into_iter().filter(|alert| alert.firing).collect();
    if firing.is_empty() {
        return view! {
            <p class="quiet-ok" data-test="no-burn-alerts">
                "No error budget is burning fast."
            </p>
        }
        .into_any();
    }

    view! {
        <div class="burn-alerts" role="alert">
            {firing.into_iter().map(|alert| view! { <BurnAlert alert /> }).collect_view()}
        </div>
    }
    .into_any()
}

#[component]
fn BurnAlert(alert: BurnAlertView) -> impl IntoView {
    let heading = format!("The {} error budget is burning fast", alert.objective);
    let detail = format!(
        "{}: burning at {} over the long window and {} over the short one.",
        alert.rule,
        rate(alert.long_rate),
        rate(alert.short_rate)
    );

    let (objective, severity) = (alert.objective.clone(), alert.severity.clone());

    view! {
        <div
            class="burn-alert"
            data-test="burn-alert"
            data-objective=objective
            data-severity=severity
        >
            <strong>{heading}</strong>
            " "
            <span class="badge severity">{alert.severity}</span>
            <p>{detail}</p>
        </div>
    }
    .into_any()
}

/// Every burn-rate rule with its current rates: the burndown chart's text alternative.
#[component]
fn BurnRulesTable(alerts: Vec<BurnAlertView>) -> impl IntoView {
    if alerts.is_empty() {
        return view! { <p class="muted">"No burn-rate rules are configured."</p> }.into_any();
    }

    let rows = alerts
        .into_iter()
        .map(|alert| {
            view! {
                <tr data-test="burn-rule" data-firing=alert.firing.to_string()>
                    <td>{alert.objective}</td>
                    <td>{alert.rule}</td>
                    <td>{alert.severity}</td>
                    <td class="num">{rate(alert.long_rate)}</td>
                    <td class="num">{rate(alert.short_rate)}</td>
                    <td>{if alert.firing { "firing" } else { "quiet" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="burn-rules">
            <thead>
                <tr>
                    <th>"Objective"</th>
                    <th>"Rule"</th>
                    <th>"Severity"</th>
                    <th class="num">"Long window"</th>
                    <th class="num">"Short window"</th>
                    <th>"State"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// A burn rate as a multiple of the rate that spends the budget exactly over the period.
fn rate(rate: Option<f64>) -> String {
    rate.map(|rate| format!("{rate:.1}×")).unwrap_or_else(|| NONE.to_string())
}

/// Planned maintenance that has not ended, soonest first, with times in UTC.
#[component]
pub fn UpcomingMaintenance(entries: Vec<ExclusionView>) -> impl IntoView {
    let body = if entries.is_empty() {
        view! { <p class="muted">"No planned maintenance ahead."</p> }.into_any()
    } else {
        let items = entries
            .into_iter()
            .map(|entry| {
                view! {
                    <li data-test="maintenance-item">
                        <strong>{entry.title}</strong>
                        <span class="when">{utc_range(&entry.starts_at, &entry.ends_at)}</span>
                        <span class="muted small">{tenant_list(&entry.tenants)}</span>
                        <p class="muted small">{entry.reason}</p>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="maintenance-list">{items}</ul> }.into_any()
    };

    view! { <div data-test="upcoming-maintenance">{body}</div> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn no_dates_ask_for_the_default_window() {
        assert_eq!(WindowChoice::parse(None, None), WindowChoice::Default);
        assert_eq!(WindowChoice::parse(Some(""), Some("")), WindowChoice::Default);
    }

    #[test]
    fn two_dates_make_a_window_that_includes_the_last_day() {
        let expected = ReliabilityWindow {
            from: Utc.with_ymd_and_hms(2024, 4, 1, 0, 0, 0).unwrap(),
            to: Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap(),
        };
        assert_eq!(
            WindowChoice::parse(Some("2024-04-01"), Some("2024-04-30")),
            WindowChoice::Chosen(expected)
        );
    }

    #[test]
    fn one_date_a_malformed_date_or_reversed_dates_are_invalid() {
        let cases = [
            (Some("2024-04-01"), None),
            (None, Some("2024-04-30")),
            (Some("2024-04-31"), Some("2024-05-02")),
            (Some("2024-05-02"), Some("2024-05-01")),
        ];
        for (from, to) in cases {
            assert_eq!(WindowChoice::parse(from, to), WindowChoice::Invalid, "{from:?}–{to:?}");
        }
    }

    #[test]
    fn burn_rates_print_as_multiples() {
        assert_eq!(rate(Some(14.4)), "14.4×");
        assert_eq!(rate(None), NONE);
    }
}
