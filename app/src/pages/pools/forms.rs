//! A pool's settings form and its pause/resume form, both posting to `update_pool`, and the
//! state they keep above the page's data: which pool's form sent each call, and what the
//! admin has typed. The data is refetched every few seconds, which renders the forms again;
//! a field shows the pool's current setting until it is typed into, then what was typed
//! until that pool's form is saved.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::components::FieldError;
use crate::error::AppError;
use crate::model::{AutoscaleMode, PoolView};
use crate::server_fns::UpdatePool;

/// The fields of the settings form, as `update_pool` names them.
const SETTINGS_FIELDS: &[&str] =
    &["min_size", "max_size", "autoscale", "target_start_ms", "cooldown_secs", "note"];
/// The pause form's note, kept apart from the settings form's note.
const PAUSE_NOTE: &str = "pause_note";

/// Everything the pools' forms share. Pausing has its own action, so a settings form never
/// answers "Saved." for a pause, nor shows its refusals.
#[derive(Clone, Copy)]
pub(super) struct PoolForms {
    pub(super) settings: PoolAction,
    pub(super) pause: PoolAction,
    drafts: Drafts,
}

impl PoolForms {
    pub(super) fn new() -> Self {
        let forms = PoolForms {
            settings: PoolAction::new(),
            pause: PoolAction::new(),
            drafts: Drafts::new(),
        };
        forms.drafts.forget_after_saves(forms.settings, SETTINGS_FIELDS);
        forms.drafts.forget_after_saves(forms.pause, &[PAUSE_NOTE]);
        forms
    }
}

/// An `update_pool` action used by the same form on every pool, and the pool whose form sent
/// the last call (the action forgets its input once the call comes back).
#[derive(Clone, Copy)]
pub(super) struct PoolAction {
    pub(super) action: ServerAction<UpdatePool>,
    sent_from: RwSignal<Option<String>>,
}

impl PoolAction {
    fn new() -> Self {
        PoolAction { action: ServerAction::new(), sent_from: RwSignal::new(None) }
    }

    /// Called by a form's submit handler, as its `ActionForm` dispatches the call.
    fn send_from(self, pool: &str) {
        self.sent_from.set(Some(pool.to_owned()));
    }

    /// Called when `pool`'s form is edited: "Saved." or a refusal no longer describes what
    /// the form holds.
    fn edited(self, pool: &str) {
        if self.sent_from.with_untracked(|from| from.as_deref() == Some(pool)) {
            self.sent_from.set(None);
        }
    }

    fn pending(self) -> bool {
        self.action.pending().get()
    }

    /// How the last call went, once it came back, if `pool`'s form sent it.
    fn outcome_for(self, pool: &str) -> Option<Result<(), AppError>> {
        let sent_here = self.sent_from.with(|from| from.as_deref() == Some(pool));
        if !sent_here || self.pending() {
            return None;
        }
        self.action.value().with(|outcome| {
            outcome.as_ref().map(|result| result.as_ref().map(|_| ()).map_err(AppError::clone))
        })
    }

    /// Why `field` was refused, if the last call was `pool`'s and was refused for it.
    fn field_error(self, pool: &str, field: &str) -> Option<String> {
        self.outcome_for(pool)?.err()?.field_errors().remove(field)
    }

    /// The last call's failure as a sentence, unless every reason sits beside its field.
    fn unplaced_error(self, pool: &str, fields: &[&str]) -> Option<String> {
        let error = self.outcome_for(pool)?.err()?;
        match &error {
            AppError::Invalid(reasons) => {
                // The reasons no field of this form shows, e.g. that nothing would change.
                let unplaced: Vec<&str> = reasons
                    .iter()
                    .filter(|(field, _)| !fields.contains(&field.as_str()))
                    .map(|(_, reason)| reason.as_str())
                    .collect();
                (!unplaced.is_empty()).then(|| format!("Not saved: {}.", unplaced.join("; ")))
            }
            _ => Some(format!("Not saved: {error}.")),
        }
    }
}

/// What was typed into the forms, by pool and field. Plain data, not signals: the forms
/// read it when they are rendered again, which every refetch does.
#[derive(Clone, Copy)]
struct Drafts(StoredValue<HashMap<(String, &'static str), String>>);

impl Drafts {
    fn new() -> Self {
        Drafts(StoredValue::new(HashMap::new()))
    }

    /// What the field shows: what was typed, or else the current setting.
    fn shown(self, pool: &str, field: &'static str, current: &str) -> String {
        self.0
            .with_value(|drafts| drafts.get(&(pool.to_owned(), field)).cloned())
            .unwrap_or_else(|| current.to_owned())
    }

    fn typed(self, pool: &str, field: &'static str, text: String) {
        self.0.update_value(|drafts| {
            drafts.insert((pool.to_owned(), field), text);
        });
    }

    /// After a pool's form is saved, its fields show the settings again (the refetch that
    /// follows the save brings them).
    fn forget_after_saves(self, action: PoolAction, fields: &'static [&'static str]) {
        Effect::new(move |_| {
            action.action.value().with(|outcome| {
                if let Some(Ok(view)) = outcome {
                    self.0.update_value(|drafts| {
                        drafts.retain(|(pool, field), _| {
                            *pool != view.name || !fields.contains(field)
                        });
                    });
                }
            });
        });
    }
}

fn control_id(pool: &str, field: &str) -> String {
    format!("pool-{pool}-{}", field.replace('_', "-"))
}

/// Bounds, autoscaling mode, targets and a note for one pool.
#[component]
pub(super) fn SettingsForm(pool: PoolView, max_size: u32, forms: PoolForms) -> impl IntoView {
    let name = pool.name.clone();
    let settings = pool.settings;
    let action = forms.settings;
    let status = {
        let name = name.clone();
        move || {
            if let Some(message) = action.unplaced_error(&name, SETTINGS_FIELDS) {
                return Some(view! { <p class="error" role="alert" data-test="pool-save-error">{message}</p> }.into_any());
            }
            action.outcome_for(&name)?.ok()?;
            Some(
                view! { <p class="saved" role="status" data-test="pool-saved">"Saved."</p> }
                    .into_any(),
            )
        }
    };
    let on_submit = {
        let name = name.clone();
        move |_| action.send_from(&name)
    };
    let help = format!(
        "Sizes from 0 to {max_size}. The autoscaler keeps the size within these bounds and adds \
         slots while the P95 start latency is above the target; in dry run it only records \
         what it would do."
    );

    view! {
        <ActionForm action=action.action attr:class="pool-settings" on:submit=on_submit>
            <h3>"Settings"</h3>
            <input type="hidden" name="pool" value=name.clone() />
            <div class="field-row">
                <DraftField pool=name.clone() field="min_size" label="Minimum size" current=settings.min_size.to_string() min=0 max=max_size test="pool-min-input" forms />
                <DraftField pool=name.clone() field="max_size" label="Maximum size" current=settings.max_size.to_string() min=0 max=max_size test="pool-max-input" forms />
                <AutoscaleField pool=name.clone() current=settings.autoscale forms />
                <DraftField pool=name.clone() field="target_start_ms" label="Target start (ms)" current=settings.target_start_ms.to_string() min=1 test="pool-target-input" forms />
                <DraftField pool=name.clone() field="cooldown_secs" label="Cooldown (s)" current=settings.cooldown_secs.to_string() min=0 test="pool-cooldown-input" forms />
            </div>
            <p class="help">{help}</p>
            <DraftField pool=name.clone() field="note" label="Note" kind="text" current=String::new() placeholder="Why (kept with the change)" test="pool-note-input" forms />
            <button type="submit" class="button primary" data-test="pool-save" disabled=move || action.pending()>
                "Save"
            </button>
            {status}
        </ActionForm>
    }
    .into_any()
}

/// Pausing stops new jobs from starting in the pool; resuming lets them start again. Both
/// take a note, which the change record keeps.
#[component]
pub(super) fn PauseForm(pool: PoolView, forms: PoolForms) -> impl IntoView {
    let name = pool.name.clone();
    let action = forms.pause;
    let (paused, label, test, help) = if pool.settings.paused {
        ("false", "Resume", "pool-resume", "Paused: its jobs wait until it is resumed.")
    } else {
        ("true", "Pause", "pool-pause", "Running jobs finish; no new job starts until resumed.")
    };
    let error = {
        let name = name.clone();
        move || {
            action.unplaced_error(&name, &["note"]).map(|message| {
                view! { <p class="error" role="alert" data-test="pool-pause-error">{message}</p> }
            })
        }
    };
    let on_submit = {
        let name = name.clone();
        move |_| action.send_from(&name)
    };

    view! {
        <ActionForm action=action.action attr:class="pool-pause" on:submit=on_submit>
            <h3>{label}</h3>
            <input type="hidden" name="pool" value=name.clone() />
            <input type="hidden" name="paused" value=paused />
            <p class="help">{help}</p>
            <DraftField pool=name.clone() field="note" draft=PAUSE_NOTE label="Note" kind="text" current=String::new() placeholder="Why" test="pool-pause-note" error_test="pause_note" forms pause=true />
            <button type="submit" class="button" data-test=test disabled=move || action.pending()>
                {label}
            </button>
            {error}
        </ActionForm>
    }
    .into_any()
}

/// A labelled input named `field` that shows `current` until typed into, with the reason it
/// was refused beside it. `draft` keys what was typed when two forms share a field name.
#[component]
fn DraftField(
    pool: String,
    field: &'static str,
    #[prop(optional)] draft: Option<&'static str>,
    label: &'static str,
    current: String,
    #[prop(default = "number")] kind: &'static str,
    #[prop(optional)] min: Option<u32>,
    #[prop(optional)] max: Option<u32>,
    #[prop(optional)] placeholder: Option<&'static str>,
    test: &'static str,
    /// The `field-error-…` hook, when it differs from the field's name.
    #[prop(optional)]
    error_test: Option<&'static str>,
    forms: PoolForms,
    /// Whether the field belongs to the pause form, whose action reports its refusals.
    #[prop(optional)]
    pause: bool,
) -> impl IntoView {
    let draft = draft.unwrap_or(field);
    let id = control_id(&pool, draft);
    let shown = forms.drafts.shown(&pool, draft, &current);
    let action = if pause { forms.pause } else { forms.settings };
    let on_input = {
        let pool = pool.clone();
        move |event| {
            forms.drafts.typed(&pool, draft, event_target_value(&event));
            action.edited(&pool);
        }
    };
    let message = move || action.field_error(&pool, field);
    let refused = {
        let message = message.clone();
        move || message().is_some()
    };
    let step = (kind == "number").then_some("1");

    view! {
        <div class="field" class:has-error=refused>
            <label for=id.clone()>{label}</label>
            <input
                type=kind
                id=id
                name=field
                min=min
                max=max
                step=step
                placeholder=placeholder
                value=shown.clone()
                prop:value=shown
                on:input=on_input
                data-test=test
            />
            {move || view! { <FieldError name=error_test.unwrap_or(field) message=message() /> }}
        </div>
    }
    .into_any()
}

/// Whether the autoscaler applies its decisions or only records them.
#[component]
fn AutoscaleField(pool: String, current: AutoscaleMode, forms: PoolForms) -> impl IntoView {
    const FIELD: &str = "autoscale";
    let id = control_id(&pool, FIELD);
    let shown = forms.drafts.shown(&pool, FIELD, current.as_str());
    let on_change = {
        let pool = pool.clone();
        move |event| {
            forms.drafts.typed(&pool, FIELD, event_target_value(&event));
            forms.settings.edited(&pool);
        }
    };
    let message = move || forms.settings.field_error(&pool, FIELD);
    let options = [AutoscaleMode::On, AutoscaleMode::DryRun]
        .into_iter()
        .map(|mode| {
            view! {
                <option value=mode.as_str() selected=shown == mode.as_str()>
                    {mode.label()}
                </option>
            }
        })
        .collect_view();

    view! {
        <div class="field">
            <label for=id.clone()>"Autoscaler"</label>
            <select
                id=id
                name=FIELD
                prop:value=shown.clone()
                on:change=on_change
                data-test="pool-autoscale-input"
            >
                {options}
            </select>
            {move || view! { <FieldError name=FIELD message=message() /> }}
        </div>
    }
    .into_any()
}
