//! Run types: data folders, not code. Each `<dir>/<name>/` holds a `runtype.toml` (steps,
//! parameters, expected duration) and a `templates/` tree; adding a run type is adding a
//! folder. This module loads and checks them, validates customers' parameters against
//! each run type's JSON Schema, and renders the templates.
//!
//! # Template conventions
//!
//! - Every file under `templates/` is a minijinja template, rendered to the same relative
//!   path. The path is a template too: `.github/workflows/{{ project_name }}.yml`.
//! - A file whose name starts with `_` is a partial: it can be included, imported or
//!   extended, and is never written.
//! - Templates see every parameter (optional ones always have a default), `run_id` and
//!   `run_type`. Undefined names are errors.
//! - Block tags on their own line leave no blank line behind (`trim_blocks`,
//!   `lstrip_blocks`), and a file's final newline is kept.
//! - `.html`, `.htm` and `.xml` templates are HTML-escaped automatically (braces included).
//!   Other formats never escape by themselves: free text must go through the filter of its
//!   language: `toml_str`, `yaml_str` and `rust_str` give a quoted, escaped literal, and
//!   `md` gives Markdown text that renders as typed. `outline_sections` splits a text into
//!   numbered `{number, level, title, slug}` sections.
//! - `[files."<template path>"]` in `runtype.toml` sets when and how often a template is
//!   written: `when = "<expression>"` writes it only if the expression is true, and
//!   `each = "<expression>"` with `as = "<name>"` writes it once per item of a list. An
//!   output that renders empty is still written, so a missing rule shows up as an empty
//!   file rather than a silently dropped one.

mod filters;
mod load;
mod render;
mod schema;
mod spec;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use app::model::{ParamView, RunTypeView, StepView};
use jsonschema::Validator;
use minijinja::Value as TemplateValue;
use uuid::Uuid;

pub use load::CatalogueError;
pub use render::{RenderError, RenderedFile};
pub use schema::{FieldErrors, Params};
pub use spec::{ParamSpec, POOLS};

use crate::steps::{StepKind, UnknownStep};

/// Every run type found in one directory, sorted by name.
#[derive(Clone, Debug)]
pub struct Catalogue {
    run_types: Vec<RunType>,
}

/// One kind of generation run: its steps, parameters and templates.
#[derive(Clone, Debug)]
pub struct RunType {
    pub name: String,
    pub title: String,
    pub description: String,
    pub expected_duration: Duration,
    pub steps: Vec<StepDecl>,
    pub params: Vec<ParamSpec>,
    templates: render::Templates,
    validator: Arc<Validator>,
}

/// One step of a run type's pipeline, run by a worker of `pool`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepDecl {
    pub name: String,
    pub pool: String,
    pub max_attempts: u32,
    pub timeout: Duration,
}

impl Catalogue {
    /// Loads every subfolder of `dir` that has a `runtype.toml`; any broken run type fails
    /// the whole load with an error naming its file.
    pub fn load(dir: &Path) -> Result<Catalogue, CatalogueError> {
        let mut run_types = load::load_all(dir)?;
        run_types.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Catalogue { run_types })
    }

    /// `FACTORY_RUN_TYPES_DIR` if set, else the `runtypes/` folder of this crate.
    pub fn builtin_dir() -> PathBuf {
        match std::env::var_os("FACTORY_RUN_TYPES_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/runtypes")),
        }
    }

    pub fn get(&self, name: &str) -> Option<&RunType> {
        self.run_types.iter().find(|run_type| run_type.name == name)
    }

    /// Sorted by name.
    pub fn all(&self) -> &[RunType] {
        &self.run_types
    }
}

impl RunType {
    /// The JSON Schema (draft 2020-12) of this run type's parameters object.
    pub fn json_schema(&self) -> serde_json::Value {
        schema::object_schema(&self.title, &self.description, &self.params)
    }

    /// Checks `params` against `json_schema()` and fills in defaults. Errors are keyed by
    /// parameter name, or `"params"` when the input is not an object.
    pub fn validate(&self, params: &serde_json::Value) -> Result<Params, FieldErrors> {
        schema::validate(&self.validator, &self.params, params)
    }

    /// Renders the templates for one run; the same inputs always give the same files.
    pub fn render(&self, params: &Params, run_id: Uuid) -> Result<Vec<RenderedFile>, RenderError> {
        let mut context = render::Context::new();
        if let Some(values) = params.as_json().as_object() {
            for (name, value) in values {
                context.insert(name.clone(), TemplateValue::from_serialize(value));
            }
        }
        context.insert("run_id".to_owned(), TemplateValue::from(run_id.to_string()));
        context.insert("run_type".to_owned(), TemplateValue::from(self.name.clone()));
        self.templates.render(&context)
    }

    pub fn view(&self) -> RunTypeView {
        RunTypeView {
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            expected_duration_secs: self.expected_duration.as_secs(),
            steps: self.steps.iter().map(StepDecl::view).collect(),
            params: self.params.iter().map(ParamSpec::view).collect(),
        }
    }
}

impl StepDecl {
    /// The handler that runs this step; `Catalogue::load` accepts only known step names.
    pub fn kind(&self) -> Result<StepKind, UnknownStep> {
        self.name.parse()
    }

    fn view(&self) -> StepView {
        StepView { name: self.name.clone(), pool: self.pool.clone() }
    }
}

impl ParamSpec {
    fn view(&self) -> ParamView {
        ParamView {
            name: self.name.clone(),
            label: self.label.clone(),
            help: self.help.clone(),
            kind: self.kind,
            required: self.required,
            default: self.default.clone(),
            choices: self.choices.clone(),
            pattern: self.pattern.clone(),
            min_length: self.min_length,
            max_length: self.max_length,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
