//! What happened to the pools across all of them: the autoscaler's decisions with the
//! numbers it decided on, and the admins' changes with their notes. Newest first.

use leptos::prelude::*;

use crate::format::{latency_ms, optional_age_ms, timestamp};
use crate::model::{PoolChange, ScalingDecisionView};

#[component]
pub(super) fn DecisionsTable(decisions: Vec<ScalingDecisionView>) -> impl IntoView {
    if decisions.is_empty() {
        return view! {
            <p class="muted" data-test="scaling-decisions-empty">
                "The autoscaler has not changed a size yet."
            </p>
        }
        .into_any();
    }

    let rows = decisions
        .into_iter()
        .map(|decision| {
            let sizes = format!("{} → {}", decision.old_size, decision.new_size);
            let applied = if decision.applied { "applied" } else { "dry run" };
            view! {
                <tr data-test="scaling-decision" data-applied=decision.applied.to_string()>
                    <td>{timestamp(&decision.decided_at)}</td>
                    <td>{decision.pool}</td>
                    <td class="num">{sizes}</td>
                    <td>{applied}</td>
                    <td class="num">{decision.waiting}</td>
                    <td class="num">{decision.running}</td>
                    <td class="num">{optional_age_ms(decision.oldest_wait_ms)}</td>
                    <td class="num">{latency_ms(decision.p95_start_ms)}</td>
                    <td>{decision.reason}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="scaling-decisions">
            <caption class="muted small">
                "Each decision with the numbers it was made on."
            </caption>
            <thead>
                <tr>
                    <th>"When"</th>
                    <th>"Pool"</th>
                    <th class="num">"Size"</th>
                    <th>"Applied"</th>
                    <th class="num">"Waiting"</th>
                    <th class="num">"Running"</th>
                    <th class="num">"Oldest wait"</th>
                    <th class="num">"P95 start"</th>
                    <th>"Reason"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
pub(super) fn ChangesTable(changes: Vec<PoolChange>) -> impl IntoView {
    if changes.is_empty() {
        return view! {
            <p class="muted" data-test="pool-changes-empty">
                "No changes yet."
            </p>
        }
        .into_any();
    }

    let rows = changes
        .into_iter()
        .map(|change| {
            let what = if change.changes.is_empty() {
                "nothing changed".to_string()
            } else {
                change.changes.join(", ")
            };
            view! {
                <tr data-test="pool-change">
                    <td>{timestamp(&change.changed_at)}</td>
                    <td>{change.changed_by}</td>
                    <td>{change.pool}</td>
                    <td data-test="pool-change-what">{what}</td>
                    <td data-test="pool-change-note">{change.note}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="pool-changes">
            <thead>
                <tr>
                    <th>"When"</th>
                    <th>"Who"</th>
                    <th>"Pool"</th>
                    <th>"Changes"</th>
                    <th>"Note"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
