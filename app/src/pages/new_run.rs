//! `/runs/new?type=<name>`: pick a run type, then fill in a form built from its parameters.
//! Submitting converts the fields to typed JSON (see `params`) and calls `submit_run`; an
//! accepted run opens its page, a rejected one keeps the form with the reasons beside the
//! fields.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::components::{ErrorMessage, FieldError, Loading};
use crate::error::AppError;
use crate::format::{duration_ms, query_string};
use crate::model::{ParamKind, ParamView, RunDetail, RunStatus, RunTypeView};
use crate::params::{initial_values, to_json, FieldErrors, FormValues};
use crate::server_fns::{run_types, SubmitRun};

#[component]
pub fn NewRunPage() -> impl IntoView {
    let query = use_query_map();
    let chosen = Memo::new(move |_| query.with(|q| q.get("type")).filter(|name| !name.is_empty()));
    let types = Resource::new(|| (), |_| run_types());

    view! {
        <Title text="New run" />
        <h1>"New run"</h1>
        <Suspense fallback=Loading>
            {move || {
                let chosen = chosen.get();
                Suspend::new(async move {
                    match types.await {
                        Ok(types) => view! { <Chooser types chosen /> }.into_any(),
                        Err(error) => view! { <ErrorMessage error what="Run types" /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The run type cards, and the form for the chosen one.
#[component]
fn Chooser(types: Vec<RunTypeView>, chosen: Option<String>) -> impl IntoView {
    let selected = chosen.as_ref().and_then(|name| types.iter().find(|t| &t.name == name)).cloned();
    let chosen_name = chosen.clone();
    let body = match (chosen, selected) {
        (_, Some(run_type)) => view! { <RunForm run_type /> }.into_any(),
        (Some(name), None) => view! {
            <p class="error" data-test="unknown-run-type">
                {format!("There is no run type called “{name}”. Pick one above.")}
            </p>
        }
        .into_any(),
        (None, None) => {
            view! { <p class="muted">"Pick a run type to see its parameters."</p> }.into_any()
        }
    };

    view! {
        <ul class="type-cards" data-test="run-types">
            {types
                .into_iter()
                .map(|run_type| {
                    let chosen = chosen_name.as_deref() == Some(run_type.name.as_str());
                    view! { <TypeCard run_type chosen /> }
                })
                .collect_view()}
        </ul>
        {body}
    }
}

#[component]
fn TypeCard(run_type: RunTypeView, chosen: bool) -> impl IntoView {
    let href = format!("/runs/new{}", query_string(&[("type", Some(&run_type.name))]));
    let test = format!("run-type-{}", run_type.name);
    let steps: Vec<String> = run_type.steps.iter().map(|step| step.name.clone()).collect();
    let expected = duration_ms(run_type.expected_duration_secs as i64 * 1_000);

    view! {
        <li class="card type-card" class:chosen=chosen>
            <a href=href data-test=test>
                <strong>{run_type.title}</strong>
            </a>
            <p>{run_type.description}</p>
            <p class="muted small">{format!("{} · about {expected}", steps.join(" → "))}</p>
        </li>
    }
}

/// One field's live value: text for most kinds, a flag for checkboxes.
#[derive(Clone, Copy)]
enum FieldState {
    Text(RwSignal<String>),
    Flag(RwSignal<bool>),
}

impl FieldState {
    fn new(kind: ParamKind, initial: String) -> Self {
        match kind {
            ParamKind::Boolean => FieldState::Flag(RwSignal::new(initial == "true")),
            _ => FieldState::Text(RwSignal::new(initial)),
        }
    }

    fn text(self) -> String {
        match self {
            FieldState::Text(text) => text.get_untracked(),
            FieldState::Flag(flag) => flag.get_untracked().to_string(),
        }
    }
}

#[component]
fn RunForm(run_type: RunTypeView) -> impl IntoView {
    let mut initial = initial_values(&run_type.params);
    let fields: Vec<(ParamView, FieldState)> = run_type
        .params
        .iter()
        .map(|param| {
            let text = initial.remove(&param.name).unwrap_or_default();
            (param.clone(), FieldState::new(param.kind, text))
        })
        .collect();

    let submit = ServerAction::<SubmitRun>::new();
    let client_errors = RwSignal::new(FieldErrors::new());
    let errors = Memo::new(move |_| {
        let mut errors = client_errors.get();
        errors.extend(
            submit.value().with(|result| result.as_ref().map(refused_fields)).unwrap_or_default(),
        );
        errors
    });
    open_accepted_run(submit);

    let on_submit = {
        let fields = fields.clone();
        let run_type = run_type.name.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let values: FormValues =
                fields.iter().map(|(param, state)| (param.name.clone(), state.text())).collect();
            let params: Vec<ParamView> = fields.iter().map(|(param, _)| param.clone()).collect();
            submit.value().set(None);
            match to_json(&params, &values) {
                Ok(params) => {
                    client_errors.set(FieldErrors::new());
                    submit.dispatch(SubmitRun { run_type: run_type.clone(), params });
                }
                Err(refused) => client_errors.set(refused),
            }
        }
    };

    view! {
        <form class="card run-form" on:submit=on_submit novalidate data-test="run-form">
            <h2>{run_type.title.clone()}</h2>
            <Summary errors submit labels=labels(&run_type.params) />
            {fields
                .into_iter()
                .map(|(param, state)| view! { <ParamField param state errors /> })
                .collect_view()}
            <button
                type="submit"
                class="button primary"
                data-test="submit-run"
                disabled=move || submit.pending().get()
            >
                {move || if submit.pending().get() { "Submitting…" } else { "Submit run" }}
            </button>
        </form>
    }
}

/// Goes to the run's page once the server accepts it.
fn open_accepted_run(submit: ServerAction<SubmitRun>) {
    let navigate = use_navigate();
    Effect::new(move |_| {
        let accepted = submit.value().with(|result| match result {
            Some(Ok(run)) if run.summary.status != RunStatus::Rejected => Some(run.summary.id),
            _ => None,
        });
        if let Some(id) = accepted {
            navigate(&format!("/runs/{id}"), NavigateOptions::default());
        }
    });
}

/// The field reasons of a submission's outcome: a rejected run's or an `Invalid` error's.
fn refused_fields(result: &Result<RunDetail, AppError>) -> FieldErrors {
    match result {
        Ok(run) if run.summary.status == RunStatus::Rejected => run.field_errors.clone(),
        Ok(_) => FieldErrors::new(),
        Err(error) => error.field_errors(),
    }
}

fn labels(params: &[ParamView]) -> Vec<(String, String)> {
    params.iter().map(|param| (param.name.clone(), param.label.clone())).collect()
}

/// The form-level message: what was refused and why, or why the call failed.
#[component]
fn Summary(
    errors: Memo<FieldErrors>,
    submit: ServerAction<SubmitRun>,
    labels: Vec<(String, String)>,
) -> impl IntoView {
    let label_of = move |name: &str| {
        labels.iter().find(|(n, _)| n == name).map(|(_, l)| l.clone()).unwrap_or(name.to_string())
    };
    let failure = move || match submit.value().get() {
        Some(Ok(run)) => run.error.map(|reason| view! { <p>{reason}</p> }.into_any()),
        Some(Err(AppError::Invalid(_))) | None => None,
        Some(Err(error)) => Some(view! { <ErrorMessage error what="The run" /> }.into_any()),
    };

    view! {
        <Show when=move || errors.with(|e| !e.is_empty())>
            <div class="error-summary" role="alert" data-test="form-errors">
                <p>"The run was not accepted. Please correct these fields:"</p>
                <ul>
                    {
                        let label_of = label_of.clone();
                        move || {
                            errors
                                .get()
                                .into_iter()
                                .map(|(name, reason)| {
                                    let text = format!("{}: {reason}", label_of(&name));
                                    view! { <li>{text}</li> }
                                })
                                .collect_view()
                        }
                    }
                </ul>
            </div>
        </Show>
        {failure}
    }
}

#[component]
fn ParamField(param: ParamView, state: FieldState, errors: Memo<FieldErrors>) -> impl IntoView {
    let id = format!("param-{}", param.name);
    let error_name = param.name.clone();
    let error = move || {
        let message = errors.with(|e| e.get(&error_name).cloned());
        view! { <FieldError name=error_name.clone() message /> }
    };
    let help = (!param.help.is_empty()).then(|| view! { <p class="help">{param.help.clone()}</p> });
    let label = view! {
        <label for=id.clone()>
            {param.label.clone()}
            {param.required.then(|| view! { <span class="required" title="required">" *"</span> })}
        </label>
    };

    view! {
        <div class="field" class:has-error=move || errors.with(|e| e.contains_key(&param.name))>
            {label}
            <Input param=param.clone() state id />
            {help}
            {error}
        </div>
    }
}

/// The control for one parameter, by kind.
#[component]
fn Input(param: ParamView, state: FieldState, id: String) -> impl IntoView {
    let test = format!("param-{}", param.name);
    match (param.kind, state) {
        (_, FieldState::Flag(flag)) => view! {
            <input
                type="checkbox"
                id=id
                name=param.name
                checked=flag.get_untracked()
                bind:checked=flag
                data-test=test
            />
        }
        .into_any(),
        (ParamKind::Choice, FieldState::Text(text)) => view! {
            <ChoiceSelect param text id test />
        }
        .into_any(),
        (ParamKind::Text, FieldState::Text(text)) => view! {
            <textarea
                id=id
                name=param.name
                rows="5"
                required=param.required
                minlength=param.min_length
                maxlength=param.max_length
                bind:value=text
                data-test=test
            >
                {text.get_untracked()}
            </textarea>
        }
        .into_any(),
        (kind, FieldState::Text(text)) => {
            let integer = kind == ParamKind::Integer;
            view! {
                <input
                    type=if integer { "number" } else { "text" }
                    step=integer.then_some("1")
                    inputmode=integer.then_some("numeric")
                    id=id
                    name=param.name
                    required=param.required
                    minlength=param.min_length
                    maxlength=param.max_length
                    value=text.get_untracked()
                    bind:value=text
                    data-test=test
                />
            }
            .into_any()
        }
    }
}

#[component]
fn ChoiceSelect(
    param: ParamView,
    text: RwSignal<String>,
    id: String,
    test: String,
) -> impl IntoView {
    let initial = text.get_untracked();
    let blank = (!param.required || initial.is_empty()).then(|| {
        view! { <option value="" selected=initial.is_empty()>"— choose —"</option> }
    });
    let options = param
        .choices
        .iter()
        .map(|choice| {
            view! {
                <option value=choice.clone() selected=*choice == initial>
                    {choice.clone()}
                </option>
            }
        })
        .collect_view();

    view! {
        <select id=id name=param.name required=param.required bind:value=text data-test=test>
            {blank}
            {options}
        </select>
    }
}
