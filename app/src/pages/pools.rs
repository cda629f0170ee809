//! `/pools` (admins only): each worker pool's size, editable with a note, and the recent
//! changes. One `set_pool_size` action serves every row; the row it was sent from shows
//! its outcome.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{use_viewer, ErrorMessage, FieldError, Loading};
use crate::error::AppError;
use crate::format::timestamp;
use crate::model::{PoolChange, PoolView, PoolsPage as PoolsData, Role};
use crate::server_fns::{pools, UpdatePool};

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

/// Which row sent the last save; the action forgets its input once the save resolves.
#[derive(Clone, Copy)]
struct SaveState {
    action: ServerAction<UpdatePool>,
    last_pool: RwSignal<Option<String>>,
}

impl SaveState {
    fn new() -> Self {
        let action = ServerAction::<UpdatePool>::new();
        let last_pool = RwSignal::new(None);
        Effect::new(move |_| {
            if let Some(pool) = action.input().with(|input| input.as_ref().map(|i| i.pool.clone()))
            {
                last_pool.set(Some(pool));
            }
        });
        SaveState { action, last_pool }
    }

    /// The outcome of the last save, if it was sent from `pool`'s row.
    fn outcome_for(self, pool: &str) -> Option<Result<(), AppError>> {
        if self.last_pool.with(|last| last.as_deref() != Some(pool)) {
            return None;
        }
        self.action.value().get().map(|result| result.map(|_| ()))
    }
}

#[component]
fn PoolsEditor() -> impl IntoView {
    let save = SaveState::new();
    let data = Resource::new(move || save.action.version().get(), |_| pools());

    view! {
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) => view! { <PoolsView data save /> }.into_any(),
                    Err(AppError::Forbidden) => view! { <AdminsOnly /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error what="Pools" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PoolsView(data: PoolsData, save: SaveState) -> impl IntoView {
    let max_size = data.max_size;
    let rows =
        data.pools.into_iter().map(|pool| view! { <PoolRow pool max_size save /> }).collect_view();

    view! {
        <table class="table" data-test="pools-editor">
            <thead>
                <tr>
                    <th>"Pool"</th>
                    <th>{format!("Min and max size (0–{max_size}), note")}</th>
                    <th class="num">"Size"</th>
                    <th class="num">"Queued"</th>
                    <th class="num">"Running"</th>
                    <th>"Last changed"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <section>
            <h2>"Recent changes"</h2>
            <ChangesTable changes=data.changes />
        </section>
    }
}

#[component]
fn PoolRow(pool: PoolView, max_size: u32, save: SaveState) -> impl IntoView {
    let name = pool.name.clone();
    let outcome = move || save.outcome_for(&name);
    let field_error = {
        let outcome = outcome.clone();
        move |field: &'static str| {
            let message =
                outcome().and_then(Result::err).and_then(|e| e.field_errors().remove(field));
            view! { <FieldError name=field message /> }
        }
    };
    let status = {
        let outcome = outcome.clone();
        move || match outcome() {
            Some(Ok(())) => {
                Some(view! { <p class="saved" data-test="pool-saved">"Saved."</p> }.into_any())
            }
            Some(Err(error)) if error.field_errors().is_empty() => {
                Some(view! { <ErrorMessage error what="Saving" /> }.into_any())
            }
            _ => None,
        }
    };
    let changed =
        format!("{} by {}", timestamp(&pool.settings.updated_at), pool.settings.updated_by);
    let field_error_min = field_error.clone();
    let field_error_max = field_error.clone();
    let (key, label, hidden) = (pool.name.clone(), pool.name.clone(), pool.name.clone());

    view! {
        <tr data-test="pool-row" data-pool=key>
            <td>{label}</td>
            <td>
                <ActionForm action=save.action attr:class="pool-form">
                    <input type="hidden" name="pool" value=hidden />
                    <input
                        type="number"
                        name="min_size"
                        min="0"
                        max=max_size
                        step="1"
                        value=pool.settings.min_size
                        aria-label="Minimum size"
                        data-test="pool-min-input"
                    />
                    <input
                        type="number"
                        name="max_size"
                        min="0"
                        max=max_size
                        step="1"
                        value=pool.settings.max_size
                        aria-label="Maximum size"
                        data-test="pool-max-input"
                    />
                    <input
                        type="text"
                        name="note"
                        placeholder="Why (optional)"
                        aria-label="Note"
                        data-test="pool-note-input"
                    />
                    <button
                        type="submit"
                        class="button"
                        data-test="pool-save"
                        disabled=move || save.action.pending().get()
                    >
                        "Save"
                    </button>
                </ActionForm>
                {move || field_error_min("min_size")}
                {move || field_error_max("max_size")}
                {move || field_error("note")}
                {status}
            </td>
            <td class="num">{pool.size}</td>
            <td class="num">{pool.queue_depth}</td>
            <td class="num">{pool.running}</td>
            <td>{changed}</td>
        </tr>
    }
}

#[component]
fn ChangesTable(changes: Vec<PoolChange>) -> impl IntoView {
    if changes.is_empty() {
        return view! { <p class="muted">"No changes yet."</p> }.into_any();
    }

    let rows = changes
        .into_iter()
        .map(|change| {
            view! {
                <tr data-test="pool-change">
                    <td>{timestamp(&change.changed_at)}</td>
                    <td>{change.changed_by}</td>
                    <td>{change.pool}</td>
                    <td>{change.changes.join(", ")}</td>
                    <td>{change.note}</td>
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
