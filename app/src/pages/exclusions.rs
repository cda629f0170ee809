//! `/exclusions` (staff): the ledger of planned maintenance and incidents that decides which
//! minutes count for the SLA, and the record of every change to it. Admins record, change
//! and withdraw entries here; each change needs a reason, which the record keeps.
//!
//! Larger components end in `.into_any()`, which keeps the nested view type within the
//! compiler's recursion limit when the hydrate and server crates build.

use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use crate::components::{count_successes, ErrorMessage, FieldError, Loading};
use crate::error::AppError;
use crate::format::{datetime_local, parse_datetime_local, tenant_list, timestamp, utc_range};
use crate::model::{
    Classification, ExclusionChange, ExclusionInput, ExclusionKind, ExclusionView,
    ExclusionsPage as Ledger, TenantOption,
};
use crate::params::FieldErrors;
use crate::server_fns::{exclusions, DeleteExclusion, SaveExclusion};

/// The form's id, for scrolling to it when an entry is picked for a change.
const FORM_ID: &str = "exclusion-form";

#[component]
pub fn ExclusionsPage() -> impl IntoView {
    let form = EntryForm::new();
    let save = ServerAction::<SaveExclusion>::new();
    let withdraw = Withdrawals::new();
    let saved = count_successes(save);
    let withdrawn = count_successes(withdraw.action);
    let ledger = Resource::new(move || (saved.get(), withdrawn.get()), |_| exclusions());
    Effect::new(move |_| {
        if saved.get() > 0 {
            form.reset();
        }
    });

    view! {
        <Title text="Exclusions" />
        <h1>"Exclusion ledger"</h1>
        <p class="muted">
            "Planned maintenance and incidents, and whether their minutes count for the SLA. \
             Every change is recorded with who made it and why."
        </p>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match ledger.await {
                    Ok(ledger) => view! { <LedgerView ledger form save withdraw /> }.into_any(),
                    Err(AppError::Forbidden) => view! { <StaffOnly /> }.into_any(),
                    Err(error) => view! { <ErrorMessage error what="Exclusions" /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StaffOnly() -> impl IntoView {
    view! {
        <p class="notice" data-test="staff-only">
            "The exclusion ledger is kept by Factory's staff. Planned maintenance that \
             affects you is listed on the " <a href="/overview">"overview"</a> " and the "
            <a href="/reliability">"reliability"</a> " pages."
        </p>
    }
}

#[component]
fn LedgerView(
    ledger: Ledger,
    form: EntryForm,
    save: ServerAction<SaveExclusion>,
    withdraw: Withdrawals,
) -> impl IntoView {
    let can_edit = ledger.can_edit;
    let titles: Vec<(Uuid, String)> =
        ledger.entries.iter().map(|entry| (entry.id, entry.title.clone())).collect();
    let editor = can_edit.then(|| {
        view! {
            <EntryEditor
                form
                save
                tenants=ledger.tenants.clone()
                min_notice_hours=ledger.min_notice_hours
            />
        }
    });

    view! {
        <section>
            <h2>"Entries"</h2>
            <EntriesTable entries=ledger.entries can_edit form withdraw />
        </section>
        {editor}
        <section>
            <h2>"Change record"</h2>
            <ChangesTable changes=ledger.changes titles />
        </section>
    }
    .into_any()
}

#[component]
fn EntriesTable(
    entries: Vec<ExclusionView>,
    can_edit: bool,
    form: EntryForm,
    withdraw: Withdrawals,
) -> impl IntoView {
    if entries.is_empty() {
        return view! {
            <p class="empty" data-test="exclusions-empty">
                "Nothing recorded yet."
            </p>
        }
        .into_any();
    }

    let rows = entries
        .into_iter()
        .map(|entry| view! { <EntryRow entry can_edit form withdraw /> })
        .collect_view();
    view! {
        <table class="table" data-test="exclusions-table">
            <thead>
                <tr>
                    <th>"Kind"</th>
                    <th>"Title and reason"</th>
                    <th>"When (UTC)"</th>
                    <th>"Tenants"</th>
                    <th>"Recorded"</th>
                    <th>"Last changed"</th>
                    {can_edit.then(|| view! { <th></th> })}
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn EntryRow(
    entry: ExclusionView,
    can_edit: bool,
    form: EntryForm,
    withdraw: Withdrawals,
) -> impl IntoView {
    let id = entry.id;
    let recorded = format!("{} by {}", timestamp(&entry.created_at), entry.created_by);
    let changed = format!("{} by {}", timestamp(&entry.updated_at), entry.updated_by);
    let withdrawn = entry.deleted.then(|| {
        view! {
            <span class="badge status-withdrawn" data-test="exclusion-withdrawn">
                "withdrawn"
            </span>
        }
    });
    let actions = can_edit.then(|| {
        if entry.deleted {
            return view! { <td></td> }.into_any();
        }
        let picked = entry.clone();
        let edit = move |_| {
            form.edit(&picked);
            scroll_to_form();
        };
        // Erased: with its forms the row is too deep a type for the compiler's limits.
        view! {
            <td class="row-actions">
                <button type="button" class="link-button" on:click=edit data-test="edit-exclusion">
                    "Change"
                </button>
                <WithdrawForm id withdraw />
            </td>
        }
        .into_any()
    });

    view! {
        <tr
            data-test="exclusion-row"
            data-id=id.to_string()
            data-deleted=entry.deleted.to_string()
            class:withdrawn=entry.deleted
        >
            <td>
                {entry.kind.as_str()} <br />
                <span class="muted small" data-test="exclusion-classification">
                    {entry.classification.label()}
                </span>
                " "
                {withdrawn}
            </td>
            <td>
                <strong data-test="exclusion-title">{entry.title}</strong>
                <p class="muted small">{entry.reason}</p>
            </td>
            <td>{utc_range(&entry.starts_at, &entry.ends_at)}</td>
            <td>{tenant_list(&entry.tenants)}</td>
            <td class="small">{recorded}</td>
            <td class="small">{changed}</td>
            {actions}
        </tr>
    }
    .into_any()
}

/// Brings the form into view; it sits below a table that may be long.
fn scroll_to_form() {
    if let Some(form) = document().get_element_by_id(FORM_ID) {
        form.scroll_into_view();
    }
}

/// Which row sent the last withdrawal; the action forgets its input once it resolves.
#[derive(Clone, Copy)]
struct Withdrawals {
    action: ServerAction<DeleteExclusion>,
    last_id: RwSignal<Option<Uuid>>,
}

impl Withdrawals {
    fn new() -> Self {
        let action = ServerAction::<DeleteExclusion>::new();
        let last_id = RwSignal::new(None);
        Effect::new(move |_| {
            if let Some(id) = action.input().with(|input| input.as_ref().map(|input| input.id)) {
                last_id.set(Some(id));
            }
        });
        Withdrawals { action, last_id }
    }

    /// Why the last withdrawal failed, if it was sent from `id`'s row.
    fn error_for(self, id: Uuid) -> Option<AppError> {
        if self.last_id.get() != Some(id) {
            return None;
        }
        self.action.value().with(|outcome| outcome.as_ref()?.as_ref().err().cloned())
    }
}

/// A withdrawal needs a reason, so it folds out of the row: a plain form posting to the
/// server function, which works before hydration too.
#[component]
fn WithdrawForm(id: Uuid, withdraw: Withdrawals) -> impl IntoView {
    let reason_error = move || {
        let message =
            withdraw.error_for(id).and_then(|error| error.field_errors().remove("reason"));
        view! { <FieldError name="withdraw-reason" message /> }
    };
    let other_error = move || {
        withdraw.error_for(id).filter(|error| error.field_errors().is_empty()).map(|error| {
            view! { <ErrorMessage error what="Withdrawing" /> }
        })
    };
    let input_id = format!("withdraw-reason-{id}");

    view! {
        <details class="withdraw" open=move || withdraw.error_for(id).is_some()>
            <summary data-test="withdraw-toggle">"Withdraw"</summary>
            <ActionForm action=withdraw.action attr:class="withdraw-form">
                <input type="hidden" name="id" value=id.to_string() />
                <label for=input_id.clone()>"Why"</label>
                <input
                    type="text"
                    id=input_id
                    name="reason"
                    required
                    data-test="withdraw-reason"
                />
                <button
                    type="submit"
                    class="button danger"
                    data-test="withdraw"
                    disabled=move || withdraw.action.pending().get()
                >
                    "Withdraw entry"
                </button>
            </ActionForm>
            {reason_error}
            {other_error}
        </details>
    }
    .into_any()
}

/// What the form shows, kept above the ledger's data so a refused save keeps what was
/// typed. `editing` names the entry being changed, if any.
#[derive(Clone, Copy)]
struct EntryForm {
    editing: RwSignal<Option<Uuid>>,
    editing_title: RwSignal<String>,
    kind: RwSignal<String>,
    classification: RwSignal<String>,
    title: RwSignal<String>,
    reason: RwSignal<String>,
    starts_at: RwSignal<String>,
    ends_at: RwSignal<String>,
    tenants: RwSignal<Vec<String>>,
    client_errors: RwSignal<FieldErrors>,
}

impl EntryForm {
    fn new() -> Self {
        let values = EntryValues::default();
        let form = EntryForm {
            editing: RwSignal::new(None),
            editing_title: RwSignal::new(String::new()),
            kind: RwSignal::new(values.kind),
            classification: RwSignal::new(values.classification),
            title: RwSignal::new(String::new()),
            reason: RwSignal::new(String::new()),
            starts_at: RwSignal::new(String::new()),
            ends_at: RwSignal::new(String::new()),
            tenants: RwSignal::new(Vec::new()),
            client_errors: RwSignal::new(FieldErrors::new()),
        };
        // Maintenance is always planned, and an incident never is.
        Effect::new(move |_| {
            let kind = form.kind.get();
            let classification = form.classification.get_untracked();
            if let Some(fixed) = classification_for(&kind, &classification) {
                form.classification.set(fixed.to_string());
            }
        });
        form
    }

    fn load(self, values: EntryValues) {
        self.kind.set(values.kind);
        self.classification.set(values.classification);
        self.title.set(values.title);
        self.reason.set(values.reason);
        self.starts_at.set(values.starts_at);
        self.ends_at.set(values.ends_at);
        self.tenants.set(values.tenants);
        self.client_errors.set(FieldErrors::new());
    }

    fn reset(self) {
        self.editing.set(None);
        self.load(EntryValues::default());
    }

    /// Prefills the form from an entry; the reason starts empty, as a change needs its own.
    fn edit(self, entry: &ExclusionView) {
        self.editing.set(Some(entry.id));
        self.editing_title.set(entry.title.clone());
        self.load(EntryValues::from_entry(entry));
    }

    fn values(self) -> EntryValues {
        EntryValues {
            kind: self.kind.get_untracked(),
            classification: self.classification.get_untracked(),
            title: self.title.get_untracked(),
            reason: self.reason.get_untracked(),
            starts_at: self.starts_at.get_untracked(),
            ends_at: self.ends_at.get_untracked(),
            tenants: self.tenants.get_untracked(),
        }
    }

    fn toggle_tenant(self, slug: &str, on: bool) {
        self.tenants.update(|tenants| {
            tenants.retain(|known| known != slug);
            if on {
                tenants.push(slug.to_string());
            }
        });
    }
}

/// The classification a kind forces, if `classification` does not fit it.
fn classification_for(kind: &str, classification: &str) -> Option<&'static str> {
    let planned = classification == Classification::Planned.as_str();
    match ExclusionKind::parse(kind)? {
        ExclusionKind::Maintenance if !planned => Some(Classification::Planned.as_str()),
        ExclusionKind::Incident if planned => Some(Classification::Platform.as_str()),
        _ => None,
    }
}

/// The form's values as typed.
#[derive(Clone, Debug, PartialEq)]
struct EntryValues {
    kind: String,
    classification: String,
    title: String,
    reason: String,
    /// `datetime-local` values, read as UTC.
    starts_at: String,
    ends_at: String,
    tenants: Vec<String>,
}

impl Default for EntryValues {
    fn default() -> Self {
        EntryValues {
            kind: ExclusionKind::Maintenance.as_str().to_string(),
            classification: Classification::Planned.as_str().to_string(),
            title: String::new(),
            reason: String::new(),
            starts_at: String::new(),
            ends_at: String::new(),
            tenants: Vec::new(),
        }
    }
}

impl EntryValues {
    fn from_entry(entry: &ExclusionView) -> Self {
        EntryValues {
            kind: entry.kind.as_str().to_string(),
            classification: entry.classification.as_str().to_string(),
            title: entry.title.clone(),
            reason: String::new(),
            starts_at: datetime_local(&entry.starts_at),
            ends_at: datetime_local(&entry.ends_at),
            tenants: entry.tenants.clone(),
        }
    }

    /// What to send, or the fields that cannot be sent as they are. The server checks the
    /// rest (order of the times, notice, tenants); this only spares a round trip.
    fn to_input(&self) -> Result<ExclusionInput, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut refuse = |field: &str, reason: &str| {
            errors.insert(field.to_string(), reason.to_string());
        };

        let kind = ExclusionKind::parse(&self.kind);
        if kind.is_none() {
            refuse("kind", "choose maintenance or incident");
        }
        let classification = Classification::parse(&self.classification);
        if classification.is_none() {
            refuse("classification", "choose a classification");
        }
        let title = self.title.trim();
        if title.is_empty() {
            refuse("title", "is required");
        }
        let reason = self.reason.trim();
        if reason.is_empty() {
            refuse("reason", "is required");
        }
        let starts_at = parse_datetime_local(&self.starts_at);
        if starts_at.is_none() {
            refuse("starts_at", "enter a date and time");
        }
        let ends_at = parse_datetime_local(&self.ends_at);
        if ends_at.is_none() {
            refuse("ends_at", "enter a date and time");
        }

        match (kind, classification, starts_at, ends_at) {
            (Some(kind), Some(classification), Some(starts_at), Some(ends_at))
                if errors.is_empty() =>
            {
                Ok(ExclusionInput {
                    kind,
                    classification,
                    title: title.to_string(),
                    reason: reason.to_string(),
                    starts_at,
                    ends_at,
                    tenants: self.tenants.clone(),
                })
            }
            _ => Err(errors),
        }
    }
}

/// Recording a new entry or changing one (admins). The input is JSON, so the form is
/// submitted from the browser, as the new-run form is.
#[component]
fn EntryEditor(
    form: EntryForm,
    save: ServerAction<SaveExclusion>,
    tenants: Vec<TenantOption>,
    min_notice_hours: u32,
) -> impl IntoView {
    let errors = Memo::new(move |_| {
        let mut errors = form.client_errors.get();
        let refused = save.value().with(|outcome| match outcome {
            Some(Err(error)) => error.field_errors(),
            _ => FieldErrors::new(),
        });
        errors.extend(refused);
        errors
    });
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        save.value().set(None);
        match form.values().to_input() {
            Ok(input) => {
                form.client_errors.set(FieldErrors::new());
                save.dispatch(SaveExclusion { id: form.editing.get_untracked(), input });
            }
            Err(refused) => form.client_errors.set(refused),
        }
    };
    let editing = move || form.editing.get().is_some();
    let reason_label =
        Signal::derive(move || if editing() { "Why it changes" } else { "Reason" }.to_string());
    let notice = format!(
        "Planned maintenance must be announced at least {min_notice_hours} hours before it \
         starts. Times are read as UTC, whatever your browser's time zone."
    );

    view! {
        <form
            id=FORM_ID
            class="card entry-form"
            on:submit=on_submit
            novalidate
            data-test="exclusion-form"
        >
            <h2>{move || if editing() { "Change an entry" } else { "Record an entry" }}</h2>
            <Show when=editing>
                <p class="notice" data-test="editing">
                    {move || format!("Changing “{}”. ", form.editing_title.get())}
                    "The reason below says why it changes; the record keeps the entry as it was. "
                    <button
                        type="button"
                        class="link-button"
                        on:click=move |_| form.reset()
                        data-test="cancel-edit"
                    >
                        "Cancel the change"
                    </button>
                </p>
            </Show>
            <FormFailure save />
            <div class="field-row">
                <Field name="kind" label="Kind" errors>
                    <select
                        id="exclusion-kind"
                        name="kind"
                        bind:value=form.kind
                        data-test="exclusion-kind"
                    >
                        <KindOption
                            kind=ExclusionKind::Maintenance
                            label="Planned maintenance"
                            form
                        />
                        <KindOption kind=ExclusionKind::Incident label="Incident" form />
                    </select>
                </Field>
                <Field name="classification" label="Classification" errors>
                    <ClassificationSelect form />
                </Field>
            </div>
            <Field name="title" label="Title" errors>
                <input
                    type="text"
                    id="exclusion-title"
                    name="title"
                    value=form.title.get_untracked()
                    bind:value=form.title
                    data-test="exclusion-title"
                />
            </Field>
            <Field name="reason" label=reason_label errors>
                <textarea
                    id="exclusion-reason"
                    name="reason"
                    rows="3"
                    bind:value=form.reason
                    data-test="exclusion-reason"
                >
                    {form.reason.get_untracked()}
                </textarea>
            </Field>
            <div class="field-row">
                <Field name="starts_at" label="Starts (UTC)" errors>
                    <TimeInput name="starts_at" value=form.starts_at />
                </Field>
                <Field name="ends_at" label="Ends (UTC)" errors>
                    <TimeInput name="ends_at" value=form.ends_at />
                </Field>
            </div>
            <p class="help" data-test="notice-help">
                {notice}
            </p>
            <TenantChoice tenants form errors />
            <button
                type="submit"
                class="button primary"
                data-test="exclusion-save"
                disabled=move || save.pending().get()
            >
                {move || if editing() { "Save the change" } else { "Record entry" }}
            </button>
            <Show when=move || save.value().with(|outcome| matches!(outcome, Some(Ok(_))))>
                <p class="saved" data-test="exclusion-saved">
                    "Saved."
                </p>
            </Show>
        </form>
    }
    .into_any()
}

/// A labelled control with the reason it was refused, if it was. `name` is the field as the
/// server names it; the control's id is `exclusion-<name>`, with dashes.
#[component]
fn Field(
    name: &'static str,
    #[prop(into)] label: Signal<String>,
    errors: Memo<FieldErrors>,
    children: Children,
) -> impl IntoView {
    let message = move || errors.with(|errors| errors.get(name).cloned());

    view! {
        <div class="field" class:has-error=move || message().is_some()>
            <label for=control_id(name)>{label}</label>
            {children()}
            {move || view! { <FieldError name message=message() /> }}
        </div>
    }
    .into_any()
}

fn control_id(name: &str) -> String {
    format!("exclusion-{}", name.replace('_', "-"))
}

/// A `datetime-local` input; the form reads its value as UTC.
#[component]
fn TimeInput(name: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <input
            type="datetime-local"
            id=control_id(name)
            name=name
            value=value.get_untracked()
            bind:value=value
            data-test=control_id(name)
        />
    }
}

#[component]
fn ClassificationSelect(form: EntryForm) -> impl IntoView {
    view! {
        <select
            id="exclusion-classification"
            name="classification"
            bind:value=form.classification
            data-test="exclusion-classification"
        >
            <ClassOption class=Classification::Planned form />
            <ClassOption class=Classification::Platform form />
            <ClassOption class=Classification::CustomerCaused form />
            <ClassOption class=Classification::ForceMajeure form />
        </select>
        <p class="help">
            "Platform incidents are recorded and still count as downtime. Customer-caused \
             incidents exclude minutes for the tenants ticked only."
        </p>
    }
    .into_any()
}

#[component]
fn KindOption(kind: ExclusionKind, label: &'static str, form: EntryForm) -> impl IntoView {
    let selected = move || form.kind.get() == kind.as_str();
    view! {
        <option value=kind.as_str() selected=selected>
            {label}
        </option>
    }
}

/// A classification, offered only for the kinds it fits.
#[component]
fn ClassOption(class: Classification, form: EntryForm) -> impl IntoView {
    let selected = move || form.classification.get() == class.as_str();
    let unfit = move || classification_for(&form.kind.get(), class.as_str()).is_some();
    view! {
        <option value=class.as_str() selected=selected disabled=unfit>
            {class.label()}
        </option>
    }
}

#[component]
fn TenantChoice(
    tenants: Vec<TenantOption>,
    form: EntryForm,
    errors: Memo<FieldErrors>,
) -> impl IntoView {
    let message = move || errors.with(|errors| errors.get("tenants").cloned());
    let boxes = tenants
        .into_iter()
        .map(|tenant| {
            let slug = tenant.slug.clone();
            let checked = {
                let slug = slug.clone();
                move || form.tenants.with(|chosen| chosen.contains(&slug))
            };
            let on_change = {
                let slug = slug.clone();
                move |event| form.toggle_tenant(&slug, event_target_checked(&event))
            };
            let initially = checked();
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        name="tenants"
                        value=slug.clone()
                        checked=initially
                        prop:checked=checked
                        on:change=on_change
                        data-test=format!("exclusion-tenant-{slug}")
                    />
                    {tenant.name}
                </label>
            }
        })
        .collect_view();

    view! {
        <fieldset class="field tenant-choice" class:has-error=move || message().is_some()>
            <legend>"Tenants"</legend>
            <div class="checks">{boxes}</div>
            <p class="help">"None ticked: the entry applies to all tenants."</p>
            {move || view! { <FieldError name="tenants" message=message() /> }}
        </fieldset>
    }
    .into_any()
}

/// Why a save failed, when it was not a matter of the fields.
#[component]
fn FormFailure(save: ServerAction<SaveExclusion>) -> impl IntoView {
    move || {
        let error = save.value().with(|outcome| match outcome {
            Some(Err(AppError::Invalid(_))) | Some(Ok(_)) | None => None,
            Some(Err(error)) => Some(error.clone()),
        })?;
        Some(view! {
            <div data-test="exclusion-error">
                <ErrorMessage error what="Saving" />
            </div>
        })
    }
}

#[component]
fn ChangesTable(changes: Vec<ExclusionChange>, titles: Vec<(Uuid, String)>) -> impl IntoView {
    if changes.is_empty() {
        return view! { <p class="muted">"No changes yet."</p> }.into_any();
    }

    let title_of = move |id: Uuid| {
        titles.iter().find(|(known, _)| *known == id).map(|(_, title)| title.clone())
    };
    let rows = changes
        .into_iter()
        .map(|change| {
            let entry =
                title_of(change.exclusion_id).unwrap_or_else(|| change.exclusion_id.to_string());
            let action = change.action.clone();
            view! {
                <tr data-test="exclusion-change" data-action=action>
                    <td>{timestamp(&change.changed_at)}</td>
                    <td>{change.changed_by}</td>
                    <td>{change.action}</td>
                    <td>{entry}</td>
                    <td>{change.reason}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-test="exclusion-changes">
            <thead>
                <tr>
                    <th>"When"</th>
                    <th>"Who"</th>
                    <th>"What"</th>
                    <th>"Entry"</th>
                    <th>"Why"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn filled() -> EntryValues {
        EntryValues {
            title: " Database upgrade ".to_string(),
            reason: "PostgreSQL 17".to_string(),
            starts_at: "2024-06-01T02:00".to_string(),
            ends_at: "2024-06-01T03:30".to_string(),
            tenants: vec!["acme".to_string()],
            ..EntryValues::default()
        }
    }

    #[test]
    fn a_filled_form_becomes_an_input_read_in_utc() {
        let input = filled().to_input().unwrap();
        assert_eq!(input.kind, ExclusionKind::Maintenance);
        assert_eq!(input.classification, Classification::Planned);
        assert_eq!(input.title, "Database upgrade");
        assert_eq!(input.starts_at, Utc.with_ymd_and_hms(2024, 6, 1, 2, 0, 0).unwrap());
        assert_eq!(input.ends_at, Utc.with_ymd_and_hms(2024, 6, 1, 3, 30, 0).unwrap());
        assert_eq!(input.tenants, ["acme"]);
    }

    #[test]
    fn missing_fields_are_refused_by_name() {
        let values = EntryValues { starts_at: "tomorrow".to_string(), ..EntryValues::default() };
        let refused = values.to_input().unwrap_err();
        let names: Vec<&str> = refused.keys().map(String::as_str).collect();
        assert_eq!(names, ["ends_at", "reason", "starts_at", "title"]);
    }

    #[test]
    fn a_change_starts_from_the_entry_with_an_empty_reason() {
        let input = filled().to_input().unwrap();
        let at = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        let entry = ExclusionView {
            id: Uuid::nil(),
            kind: input.kind,
            classification: input.classification,
            title: input.title.clone(),
            reason: input.reason.clone(),
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            tenants: input.tenants.clone(),
            created_by: "admin".to_string(),
            created_at: at,
            updated_by: "admin".to_string(),
            updated_at: at,
            deleted: false,
        };
        let values = EntryValues::from_entry(&entry);
        assert_eq!(values.reason, "");
        assert_eq!(
            EntryValues { reason: input.reason.clone(), ..values }.to_input().unwrap(),
            input
        );
    }

    #[test]
    fn maintenance_is_planned_and_incidents_are_not() {
        assert_eq!(classification_for("maintenance", "platform"), Some("planned"));
        assert_eq!(classification_for("maintenance", "planned"), None);
        assert_eq!(classification_for("incident", "planned"), Some("platform"));
        assert_eq!(classification_for("incident", "force_majeure"), None);
        assert_eq!(classification_for("unknown", "planned"), None);
    }
}
