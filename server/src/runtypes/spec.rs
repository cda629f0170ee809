//! The shape of `runtype.toml` as written, and the checks a file must pass before it
//! becomes a `RunType`. Each check returns a short message; `load` adds the file name.

use std::collections::{BTreeMap, BTreeSet};

use app::model::ParamKind;
use serde::Deserialize;

use crate::steps::StepKind;

/// Pools a step may run in; the queue keeps one worker pool per name.
pub const POOLS: [&str; 3] = ["generate", "verify", "package"];

/// Names every template sees besides the parameters.
pub(super) const RESERVED_NAMES: [&str; 2] = ["run_id", "run_type"];

/// `runtype.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RunTypeFile {
    pub(super) name: String,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) expected_duration_secs: u64,
    pub(super) steps: Vec<StepFile>,
    #[serde(default)]
    pub(super) params: Vec<ParamSpec>,
    /// Keyed by template path (relative to `templates/`, before rendering).
    #[serde(default)]
    pub(super) files: BTreeMap<String, FileRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepFile {
    pub(super) name: String,
    pub(super) pool: String,
    pub(super) max_attempts: u32,
    pub(super) timeout_secs: u64,
}

/// One parameter a customer fills in. Every optional parameter has a default, so
/// templates always see a value for every name.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub help: String,
    #[serde(rename = "type")]
    pub kind: ParamKind,
    #[serde(default)]
    pub required: bool,
    pub default: Option<serde_json::Value>,
    /// An ECMA-262 regular expression the whole value must match (anchor it with `^…$`).
    pub pattern: Option<String>,
    /// The allowed values of a `choice`.
    #[serde(default)]
    pub choices: Vec<String>,
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
}

/// When and how often one template is rendered; templates without a rule render once.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileRule {
    /// An expression; the file is written only when it is true.
    pub(super) when: Option<String>,
    /// An expression giving a list; the file is rendered once per item, bound to `as`.
    pub(super) each: Option<String>,
    #[serde(rename = "as")]
    pub(super) binding: Option<String>,
}

/// Checks everything that does not need the templates.
pub(super) fn check(file: &RunTypeFile, folder_name: &str) -> Result<(), String> {
    if file.name != folder_name {
        return Err(format!("name `{}` must match its folder `{folder_name}`", file.name));
    }
    if !is_identifier(&file.name) {
        return Err(format!("name `{}` must be lowercase letters, digits and _", file.name));
    }
    check_steps(&file.steps)?;
    check_params(&file.params)
}

/// Checks the `[files]` rules against the template names found on disk.
pub(super) fn check_files(
    files: &BTreeMap<String, FileRule>,
    templates: &[String],
    params: &[ParamSpec],
) -> Result<(), String> {
    for (path, rule) in files {
        if !templates.contains(path) || is_partial(path) {
            return Err(format!("[files] names `{path}`, which is not an output template"));
        }
        match (&rule.each, &rule.binding) {
            (Some(_), Some(binding)) => check_binding(path, binding, params)?,
            (None, None) => {}
            _ => return Err(format!("[files.\"{path}\"] needs both `each` and `as`, or neither")),
        }
    }
    Ok(())
}

/// Partials (a file name starting with `_`) are only included or extended, never written.
pub(super) fn is_partial(template: &str) -> bool {
    template.rsplit('/').next().is_some_and(|file_name| file_name.starts_with('_'))
}

fn check_steps(steps: &[StepFile]) -> Result<(), String> {
    if steps.first().map(|step| step.name.as_str()) != Some("generate") {
        return Err("the first step must be `generate`, which creates the files".to_owned());
    }
    for step in steps {
        step.name.parse::<StepKind>().map_err(|err| err.to_string())?;
        if !POOLS.contains(&step.pool.as_str()) {
            return Err(format!(
                "step `{}` names unknown pool `{}` (known: {})",
                step.name,
                step.pool,
                POOLS.join(", ")
            ));
        }
        if step.max_attempts == 0 || step.timeout_secs == 0 {
            return Err(format!(
                "step `{}` needs max_attempts and timeout_secs above 0",
                step.name
            ));
        }
    }
    Ok(())
}

fn check_params(params: &[ParamSpec]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for param in params {
        if !seen.insert(param.name.as_str()) {
            return Err(format!("param `{}` is declared twice", param.name));
        }
        check_param(param).map_err(|message| format!("param `{}` {message}", param.name))?;
    }
    Ok(())
}

fn check_param(param: &ParamSpec) -> Result<(), String> {
    let is_text = matches!(param.kind, ParamKind::String | ParamKind::Text);
    let has_length = param.min_length.is_some() || param.max_length.is_some();
    let has_bounds = param.minimum.is_some() || param.maximum.is_some();

    if !is_identifier(&param.name) || RESERVED_NAMES.contains(&param.name.as_str()) {
        return Err("must be named with lowercase letters, digits and _, and not reserved".into());
    }
    if !param.required && param.default.is_none() {
        return Err("must be required or have a default".to_owned());
    }
    if (param.kind == ParamKind::Choice) == param.choices.is_empty() {
        return Err("must have choices if and only if it is a choice".to_owned());
    }
    if (!is_text && (has_length || param.pattern.is_some())) || (has_bounds && !is_integer(param)) {
        return Err("has a constraint that does not fit its type".to_owned());
    }
    Ok(())
}

fn check_binding(path: &str, binding: &str, params: &[ParamSpec]) -> Result<(), String> {
    let taken =
        params.iter().any(|param| param.name == binding) || RESERVED_NAMES.contains(&binding);
    if !is_identifier(binding) || taken {
        return Err(format!("[files.\"{path}\"] binds `{binding}`, which is not a free name"));
    }
    Ok(())
}

fn is_integer(param: &ParamSpec) -> bool {
    param.kind == ParamKind::Integer
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
