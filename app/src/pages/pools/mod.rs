//! `/pools` (admins only): each worker pool's health, live numbers, worker processes,
//! settings and pause, its charts, then the autoscaler's decisions and the change record.
//! The data is refetched every few seconds and after each save; the forms keep what is
//! typed into them across refetches (see `forms.rs`).
//!
//! Larger components end in `.into_any()`, which keeps the nested view type within the
//! compiler's recursion limit when the hydrate and server crates build.

// `#[component]` widens a `pub(super)` function's visibility, which the lint takes for an
// unreachable `pub`.
#[allow(unreachable_pub)]
mod charts;
#[allow(unreachable_pub)]
mod forms;
#[allow(unreachable_pub)]
mod history;
#[allow(unreachable_pub)]
mod pool;

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{use_viewer, ErrorMessage, Loading};
use crate::error::AppError;
use crate::live::use_ticks;
use crate::model::{PoolsPage as PoolsData, Role};
use crate::server_fns::pools;

use self::forms::PoolForms;
use self::history::{ChangesTable, DecisionsTable};
use self::pool::PoolSection;

/// How often the page refetches its numbers while it is open.
const REFRESH: Duration = Duration::from_secs(5);

#[component]
pub fn PoolsPage() -> impl IntoView {
    let viewer = use_viewer();

    view! {
        <Title text="Pools" />
        <h1>"Pools"</h1>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(viewer) if viewer.role == Role::Admin => {
                        view! { <PoolsEditor /> }.into_any()
                    }
                    Ok(_) => view! { <AdminsOnly /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error what="Pools" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AdminsOnly() -> impl IntoView {
    view! {
        <p class="notice" data-test="admins-only">
            "Pools are for admins only. Ask an admin if a pool needs resizing."
        </p>
    }
}

/// Loads the page's data on every tick and after every save. Each answer re-renders the
/// pools in place (same elements, new numbers), and the forms' state lives in `forms`, above
/// the data, so neither the focus nor what is typed is lost.
#[component]
fn PoolsEditor() -> impl IntoView {
    let forms = PoolForms::new();
    let ticks = use_ticks(REFRESH);
    let data = Resource::new(
        move || {
            (forms.settings.action.version().get(), forms.pause.action.version().get(), ticks.get())
        },
        |_| pools(),
    );
    // The last answer that arrived, shown while a refetch fails (a restarting server, say).
    let last_shown = StoredValue::new(None::<PoolsData>);

    view! {
        <p class="muted small" data-test="pools-refresh">
            {format!("The numbers refresh every {} seconds.", REFRESH.as_secs())}
        </p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => {
                        last_shown.set_value(Some(data.clone()));
                        view! { <PoolsView data stale=None forms /> }.into_any()
                    }
                    Err(AppError::Forbidden) => view! { <AdminsOnly /> }.into_any(),
                    Err(error) => match last_shown.get_value() {
                        Some(data) => {
                            view! { <PoolsView data stale=Some(error) forms /> }.into_any()
                        }
                        None => view! { <ErrorMessage error what="Pools" /> }.into_any(),
                    },
                }
            })}
        </Transition>
    }
}

/// Every pool, then the decisions and changes across pools. `stale` says why the numbers
/// are older than they should be.
#[component]
fn PoolsView(data: PoolsData, stale: Option<AppError>, forms: PoolForms) -> impl IntoView {
    let PoolsData { pools, changes, decisions, mut charts, chart_hours, max_size } = data;
    let stale = stale.map(|error| {
        view! {
            <div class="stale" data-test="pools-stale">
                <ErrorMessage error what="Live numbers" />
                <p class="muted small">"Below are the numbers of the last refresh that worked."</p>
            </div>
        }
    });
    let sections = pools
        .into_iter()
        .map(|pool| {
            let position = charts.iter().position(|chart| chart.pool == pool.name);
            let charts = position.map(|index| charts.swap_remove(index));
            view! { <PoolSection pool charts chart_hours max_size forms /> }
        })
        .collect_view();

    view! {
        {stale}
        {sections}
        <section>
            <h2>"Autoscaler decisions"</h2>
            <DecisionsTable decisions />
        </section>
        <section>
            <h2>"Recent changes"</h2>
            <ChangesTable changes />
        </section>
    }
    .into_any()
}
