//! `/sla/<tenant>/<month>`: one tenant's SLA report, written for the customer to read —
//! the credit owed first, then the uptime, runs, exclusions and plan terms behind it, and
//! the report's revisions and sign-offs. Account managers and admins review, issue and
//! recompute it here; the page prints cleanly (see `@media print` in the stylesheet).
//!
//! Most components end in `.into_any()`: the page nests deeply enough that the unerased view
//! type overflows the compiler's recursion limit when the hydrate and server crates build.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::{
    can_act_on_reports, count_successes, use_viewer, ErrorMessage, FieldError, Loading, MetBadge,
    ReportStatusBadge,
};
use crate::error::AppError;
use crate::format::{
    latency_ms, money, month_label, optional_percentage, percentage, query_string, seconds,
    timestamp, utc_range,
};
use crate::model::{
    ExcludedEntry, LatencyView, PlanView, ReportChange, ReportStatus, RevisionSummary,
    RunTypeDurations, Signoff, SlaReport, TargetView,
};
use crate::server_fns::{sla_report, SlaReportAction};

#[component]
pub fn SlaReportPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        params.with(|p| (p.get("tenant").unwrap_or_default(), p.get("month").unwrap_or_default()))
    });
    let act = ServerAction::<SlaReportAction>::new();
    let refreshes = count_successes(act);
    let report = Resource::new(
        move || (key.get(), refreshes.get()),
        |((tenant, month), _)| sla_report(tenant, month),
    );
    let viewer = use_viewer();

    // The note lives above the report, so it outlives the refetch after each action: a
    // reviewer's note is there again for issuing, and can be changed before.
    let note = RwSignal::new(String::new());

    let back = move || format!("/sla{}", query_string(&[("month", Some(&key.get().1))]));

    view! {
        <Title text=move || {
            let (tenant, month) = key.get();
            format!("SLA report {tenant} {month}")
        } />
        <p class="breadcrumb no-print">
            <a href=back>"← SLA reports"</a>
        </p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                let can_act = viewer.await.is_ok_and(|viewer| can_act_on_reports(&viewer));
                match report.await {
                    Ok(report) => view! { <ReportView report can_act act note /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error what="SLA report" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ReportView(
    report: SlaReport,
    can_act: bool,
    act: ServerAction<SlaReportAction>,
    note: RwSignal<String>,
) -> impl IntoView {
    let actions = can_act.then(|| view! { <Actions report=report.clone() act note /> });

    view! {
        <article class="report" data-test="sla-report">
            <Head report=report.clone() />
            <CreditSummary report=report.clone() />
            <UptimeSection report=report.clone() />
            <RunsSection report=report.clone() />
            <section>
                <h2>"Run durations by run type"</h2>
                <RunTypesTable run_types=report.run_types.clone() />
            </section>
            <section>
                <h2>"Job start latency by pool"</h2>
                <PoolsTable pools=report.pools.clone() />
            </section>
            <section>
                <h2>"Excluded time"</h2>
                <ExclusionsTable entries=report.exclusions.clone() />
            </section>
            <section>
                <h2>"Plan terms"</h2>
                <PlanTerms plan=report.plan.clone() />
            </section>
            <section>
                <h2>"Sign-off"</h2>
                <Signoffs report=report.clone() />
            </section>
            <Revisions report=report.clone() />
            {actions}
        </article>
    }
    .into_any()
}

/// Who the report is for, which month and revision, where it stands, and the downloads.
#[component]
fn Head(report: SlaReport) -> impl IntoView {
    let running = (!report.complete).then(|| {
        view! {
            <p class="notice" data-test="report-incomplete">
                "The month is not over yet: these numbers run up to "
                {timestamp(&report.period_end)}
                " and will change until it is."
            </p>
        }
    });
    let print = move |_| {
        let _ = window().print();
    };

    view! {
        <header class="report-head">
            <div>
                <h1 data-test="report-tenant">{report.tenant_name.clone()}</h1>
                <p class="report-meta">
                    "SLA report for "
                    <strong data-test="report-month">{month_label(&report.month)}</strong>
                    " · revision "
                    <span data-test="report-revision">{report.revision}</span>
                    " · "
                    <ReportStatusBadge status=report.status test="report-status" />
                </p>
            </div>
            <p class="downloads no-print">
                <a
                    href=download_href(&report, "csv")
                    download=""
                    rel="external"
                    class="button"
                    data-test="download-csv"
                >
                    "Download CSV"
                </a>
                <a
                    href=download_href(&report, "pdf")
                    download=""
                    rel="external"
                    class="button"
                    data-test="download-pdf"
                >
                    "Download PDF"
                </a>
                <button type="button" class="button" on:click=print data-test="print">
                    "Print"
                </button>
            </p>
        </header>
        <dl class="facts">
            <dt>"Period"</dt>
            <dd data-test="report-period">{utc_range(&report.period_start, &report.period_end)}</dd>
            <dt>"Computed"</dt>
            <dd>{timestamp(&report.computed_at)}</dd>
        </dl>
        {running}
    }
    .into_any()
}

/// The report as a file from the JSON API, which also accepts this page's session.
fn download_href(report: &SlaReport, extension: &str) -> String {
    format!("/api/v1/sla/reports/{}/{}.{extension}", report.tenant_slug, report.month)
}

/// The answer first: what is owed, and which targets the month met.
#[component]
fn CreditSummary(report: SlaReport) -> impl IntoView {
    let credit = &report.credit;
    let share = format!(
        "{} of the monthly fee of {}{}.",
        percentage(credit.percent),
        money(report.plan.monthly_fee_cents, &report.plan.currency),
        if credit.capped { ", capped" } else { "" }
    );
    let tier = match &credit.uptime_tier {
        Some(tier) => format!(
            "uptime below {}: {} of the fee",
            percentage(tier.below_pct),
            percentage(tier.credit_pct)
        ),
        None => "none".to_string(),
    };

    view! {
        <section class="summary-box" data-test="report-summary">
            <div class="summary-credit">
                <p class="summary-label">"Service credit owed"</p>
                <p class="summary-value" data-test="credit-amount">
                    {money(credit.amount_cents, &credit.currency)}
                </p>
                <p class="muted small" data-test="credit-share">
                    {share}
                </p>
            </div>
            <dl class="summary-facts">
                <dt>"Uptime"</dt>
                <dd>
                    <TargetText target=report.uptime.clone() test="uptime-met" />
                </dd>
                <dt>"Run success"</dt>
                <dd>
                    <TargetText target=report.success.clone() test="success-met" />
                </dd>
                <dt>"Runs within expected time"</dt>
                <dd>
                    <TargetText target=report.execution.clone() test="execution-met" />
                </dd>
                <dt>"Uptime credit tier"</dt>
                <dd data-test="credit-tier">{tier}</dd>
            </dl>
        </section>
    }
    .into_any()
}

/// `99.93% (target 99.90%) met`.
#[component]
fn TargetText(target: TargetView, test: &'static str) -> impl IntoView {
    let text = format!(
        "{} (target {}) ",
        optional_percentage(target.actual_pct),
        percentage(target.target_pct)
    );
    view! { {text} <MetBadge met=target.met test /> }
}

#[component]
fn UptimeSection(report: SlaReport) -> impl IntoView {
    let remaining = report.budget_remaining_minutes;
    let remaining_text = if remaining < 0 {
        format!("{} minutes overspent", -remaining)
    } else {
        format!("{remaining} minutes")
    };

    view! {
        <section>
            <h2>"Uptime"</h2>
            <p class="muted">
                "Minutes of the period, less those excluded by planned maintenance or an \
                 incident not counted against the platform, are the eligible minutes. \
                 Downtime is the minutes the API was seen down plus those without probe data."
            </p>
            <dl class="facts" data-test="uptime-facts">
                <dt>"Minutes in the period"</dt>
                <dd data-test="minutes">{report.minutes}</dd>
                <dt>"Excluded"</dt>
                <dd data-test="excluded-minutes">{report.excluded_minutes}</dd>
                <dt>"Observed down"</dt>
                <dd data-test="down-minutes">{report.down_minutes}</dd>
                <dt>"No probe data"</dt>
                <dd data-test="no-data-minutes">{report.no_data_minutes}</dd>
                <dt>"Downtime"</dt>
                <dd data-test="downtime-minutes">{report.downtime_minutes}</dd>
                <dt>"Eligible minutes"</dt>
                <dd data-test="eligible-minutes">{report.eligible_minutes}</dd>
                <dt>"Uptime"</dt>
                <dd>
                    <TargetText target=report.uptime.clone() test="uptime-target-met" />
                </dd>
                <dt>"Error budget allowed"</dt>
                <dd data-test="budget-allowed">
                    {format!("{} minutes", report.budget_allowed_minutes)}
                </dd>
                <dt>"Error budget remaining"</dt>
                <dd data-test="budget-remaining" class:error=remaining < 0>
                    {remaining_text}
                </dd>
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn RunsSection(report: SlaReport) -> impl IntoView {
    let succeeded =
        format!("{} of {} finished runs succeeded", report.runs_succeeded, report.runs_counted);
    let within = format!(
        "{} of {} timed runs finished within their expected time",
        report.runs_within_expected, report.runs_timed
    );

    view! {
        <section>
            <h2>"Runs"</h2>
            <dl class="facts" data-test="runs-facts">
                <dt>"Run success"</dt>
                <dd>
                    <TargetText target=report.success.clone() test="success-target-met" />
                    <span class="muted small">" " {succeeded}</span>
                </dd>
                <dt>"Within expected time"</dt>
                <dd>
                    <TargetText target=report.execution.clone() test="execution-target-met" />
                    <span class="muted small">" " {within}</span>
                </dd>
            </dl>
        </section>
    }
    .into_any()
}

#[component]
fn RunTypesTable(run_types: Vec<RunTypeDurations>) -> impl IntoView {
    if run_types.is_empty() {
        return view! { <p class="muted">"No finished runs this month."</p> }.into_any();
    }

    let rows = run_types
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
        <table class="table" data-test="report-run-types">
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
fn PoolsTable(pools: Vec<LatencyView>) -> impl IntoView {
    if pools.is_empty() {
        return view! { <p class="muted">"No jobs started this month."</p> }.into_any();
    }

    let rows = pools
        .into_iter()
        .map(|pool| {
            view! {
                <tr>
                    <td>{pool.name}</td>
                    <td class="num">{pool.count}</td>
                    <td class="num">{latency_ms(pool.p95_ms)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="report-pools">
            <thead>
                <tr>
                    <th>"Pool"</th>
                    <th class="num">"Jobs"</th>
                    <th class="num">"P95 start latency"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ExclusionsTable(entries: Vec<ExcludedEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! {
            <p class="muted" data-test="no-exclusions">
                "Nothing was excluded: every minute of the period counts."
            </p>
        }
        .into_any();
    }

    let rows = entries
        .into_iter()
        .map(|entry| {
            view! {
                <tr data-test="excluded-entry">
                    <td>{entry.classification.label()}</td>
                    <td>{entry.title}</td>
                    <td>{entry.reason}</td>
                    <td>{utc_range(&entry.starts_at, &entry.ends_at)}</td>
                    <td class="num">{entry.covered_minutes}</td>
                    <td class="num">{entry.counted_minutes}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="excluded-entries">
            <thead>
                <tr>
                    <th>"Kind"</th>
                    <th>"Title"</th>
                    <th>"Reason"</th>
                    <th>"When (UTC)"</th>
                    <th class="num">"Covered (min)"</th>
                    <th class="num">"Counted (min)"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <p class="muted small">
            "Platform incidents are listed for the record and count as downtime. Where \
             entries overlap, the minutes are counted once."
        </p>
    }
    .into_any()
}

#[component]
fn PlanTerms(plan: PlanView) -> impl IntoView {
    let default_terms = (!plan.on_file).then(|| {
        view! {
            <p class="notice" data-test="plan-default">
                "No plan is on file for this tenant, so the default terms apply: with no fee, \
                 no credit is owed."
            </p>
        }
    });
    let tiers = plan
        .uptime_tiers
        .iter()
        .map(|tier| {
            let text = format!(
                "below {}: {} of the fee",
                percentage(tier.below_pct),
                percentage(tier.credit_pct)
            );
            view! { <li>{text}</li> }
        })
        .collect_view();

    view! {
        {default_terms}
        <dl class="facts" data-test="plan-terms">
            <dt>"Monthly fee"</dt>
            <dd>{money(plan.monthly_fee_cents, &plan.currency)}</dd>
            <dt>"Uptime target"</dt>
            <dd>{percentage(plan.uptime_target_pct)}</dd>
            <dt>"Run success target"</dt>
            <dd>{percentage(plan.success_target_pct)}</dd>
            <dt>"Within expected time target"</dt>
            <dd>{percentage(plan.execution_target_pct)}</dd>
            <dt>"Uptime credit tiers"</dt>
            <dd>
                <ul class="plain">{tiers}</ul>
            </dd>
            <dt>"Run success missed"</dt>
            <dd>{format!("{} of the fee", percentage(plan.success_miss_credit_pct))}</dd>
            <dt>"Expected time missed"</dt>
            <dd>{format!("{} of the fee", percentage(plan.execution_miss_credit_pct))}</dd>
            <dt>"Credit cap"</dt>
            <dd>{format!("{} of the fee", percentage(plan.credit_cap_pct))}</dd>
        </dl>
    }
    .into_any()
}

#[component]
fn Signoffs(report: SlaReport) -> impl IntoView {
    let line = |step: &'static str, signoff: Option<Signoff>, test: &'static str| {
        signoff.map(|signoff| {
            let text = format!("{step} by {} on {}", signoff.by, timestamp(&signoff.at));
            let note = (!signoff.note.is_empty()).then(|| view! { <q>{signoff.note}</q> });
            view! {
                <li data-test=test>
                    {text} {note.is_some().then_some(": ")} {note}
                </li>
            }
        })
    };
    let nothing = (report.review.is_none() && report.issue.is_none())
        .then(|| view! { <li class="muted">"Not reviewed yet."</li> });

    view! {
        <ul class="plain signoffs">
            {line("Reviewed", report.review, "review-signoff")}
            {line("Issued", report.issue, "issue-signoff")}
            {nothing}
        </ul>
    }
    .into_any()
}

/// The report's revisions and, for a later one, what changed from the one before.
#[component]
fn Revisions(report: SlaReport) -> impl IntoView {
    if report.revisions.len() < 2 && report.changes.is_empty() {
        return ().into_any();
    }

    let currency = report.credit.currency.clone();
    let current = report.revision;
    let rows = report
        .revisions
        .into_iter()
        .map(|revision| view! { <RevisionRow revision current currency=currency.clone() /> })
        .collect_view();
    let changes =
        (!report.changes.is_empty()).then(|| view! { <Changes changes=report.changes /> });

    view! {
        <section>
            <h2>"Revisions"</h2>
            <table class="table" data-test="report-revisions">
                <thead>
                    <tr>
                        <th class="num">"Revision"</th>
                        <th>"Status"</th>
                        <th>"Computed"</th>
                        <th class="num">"Credit"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {changes}
        </section>
    }
    .into_any()
}

#[component]
fn RevisionRow(revision: RevisionSummary, current: i32, currency: String) -> impl IntoView {
    let shown = revision.revision == current;
    view! {
        <tr data-test="report-revision-row" class:current=shown>
            <td class="num">
                {revision.revision} {shown.then_some(" (this one)")}
            </td>
            <td>
                <ReportStatusBadge status=revision.status test="revision-status" />
            </td>
            <td>{timestamp(&revision.computed_at)}</td>
            <td class="num">{money(revision.credit_amount_cents, &currency)}</td>
        </tr>
    }
    .into_any()
}

#[component]
fn Changes(changes: Vec<ReportChange>) -> impl IntoView {
    let rows = changes
        .into_iter()
        .map(|change| {
            view! {
                <tr data-test="report-change">
                    <td>{change.field}</td>
                    <td>{change.before}</td>
                    <td>{change.after}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <h3>"Changes from the previous revision"</h3>
        <table class="table" data-test="report-changes">
            <thead>
                <tr>
                    <th>"What"</th>
                    <th>"Before"</th>
                    <th>"Now"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Review, issue and recompute, for account managers and admins. A plain form posting to
/// the server function (the button pressed names the action), so it works before
/// hydration too.
#[component]
fn Actions(
    report: SlaReport,
    act: ServerAction<SlaReportAction>,
    note: RwSignal<String>,
) -> impl IntoView {
    let status = report.status;
    let may_sign = report.complete;
    let review = (may_sign && status == ReportStatus::Draft).then(|| {
        view! {
            <button
                type="submit"
                name="action"
                value="review"
                class="button primary"
                data-test="review"
                disabled=move || act.pending().get()
            >
                "Mark reviewed"
            </button>
        }
    });
    let issue = (may_sign && status == ReportStatus::Reviewed).then(|| {
        view! {
            <button
                type="submit"
                name="action"
                value="issue"
                class="button primary"
                data-test="issue"
                disabled=move || act.pending().get()
            >
                "Issue to the customer"
            </button>
        }
    });
    let recompute_label =
        if status == ReportStatus::Issued { "Recompute as a new revision" } else { "Recompute" };
    let waiting = (!may_sign).then(|| {
        view! {
            <p class="muted small">
                "The report can be reviewed and issued once the month is over."
            </p>
        }
    });
    let note_error = move || {
        let message = act
            .value()
            .with(|v| v.as_ref().and_then(|r| r.as_ref().err()?.field_errors().remove("note")));
        view! { <FieldError name="note" message /> }
    };

    view! {
        <section class="report-actions" data-test="report-actions">
            <h2>"Review and issue"</h2>
            {waiting}
            <ActionForm action=act attr:class="action-form">
                <input type="hidden" name="tenant" value=report.tenant_slug.clone() />
                <input type="hidden" name="month" value=report.month.clone() />
                <div class="field">
                    <label for="report-note">"Note, kept with the sign-off"</label>
                    <textarea
                        id="report-note"
                        name="note"
                        rows="3"
                        maxlength="2000"
                        bind:value=note
                        data-test="report-note"
                    >
                        {note.get_untracked()}
                    </textarea>
                    <p class="help">"Reviewing and issuing need a note; recomputing does not."</p>
                    {note_error}
                </div>
                <div class="buttons">
                    {review}
                    {issue}
                    <button
                        type="submit"
                        name="action"
                        value="recompute"
                        class="button"
                        data-test="recompute"
                        disabled=move || act.pending().get()
                    >
                        {recompute_label}
                    </button>
                </div>
            </ActionForm>
            <ActionError act />
        </section>
    }
    .into_any()
}

/// Why the last action was refused, beside the form. A refused note is shown at the note.
#[component]
fn ActionError(act: ServerAction<SlaReportAction>) -> impl IntoView {
    move || {
        let text = act.value().with(|outcome| match outcome {
            Some(Err(error)) => Some(refusal(error)),
            _ => None,
        })?;
        Some(view! {
            <p class="error" role="alert" data-test="action-error">
                {text}
            </p>
        })
    }
}

fn refusal(error: &AppError) -> String {
    let AppError::Invalid(fields) = error else {
        return format!("Not done: {error}.");
    };
    let reasons: Vec<String> = fields
        .iter()
        .filter(|(field, _)| field.as_str() != "note")
        .map(|(field, reason)| format!("{field}: {reason}"))
        .collect();
    if reasons.is_empty() {
        "Not done: see the note.".to_string()
    } else {
        format!("Not done: {}.", reasons.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_action_says_why_and_leaves_note_reasons_to_the_note() {
        assert_eq!(refusal(&AppError::Forbidden), "Not done: not allowed for your role.");

        let note_only = AppError::Invalid([("note".into(), "is too long".into())].into());
        assert_eq!(refusal(&note_only), "Not done: see the note.");

        let month = AppError::Invalid([("month".into(), "is not over yet".into())].into());
        assert_eq!(refusal(&month), "Not done: month: is not over yet.");
    }
}
