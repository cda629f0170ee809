//! A run type's parameters as a JSON Schema (draft 2020-12), and validation against that
//! same schema with the `jsonschema` crate, producing `Params` or short field errors.

use std::collections::BTreeMap;

use app::model::ParamKind;
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::spec::ParamSpec;

/// Field name to a short reason; `"params"` holds errors about the object as a whole.
pub type FieldErrors = BTreeMap<String, String>;

/// The key of errors that concern no single parameter.
const WHOLE_OBJECT: &str = "params";

/// Parameters that passed a run type's schema, with defaults filled in. Only
/// `RunType::validate` makes one, so holding a `Params` means the values are valid.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Params(Value);

impl Params {
    /// The parameters as a JSON object, every declared parameter present.
    pub fn as_json(&self) -> &Value {
        &self.0
    }

    pub fn into_json(self) -> Value {
        self.0
    }
}

/// The schema of the parameters object.
pub(super) fn object_schema(title: &str, description: &str, params: &[ParamSpec]) -> Value {
    let properties: Map<String, Value> =
        params.iter().map(|param| (param.name.clone(), param_schema(param))).collect();
    let required: Vec<&str> =
        params.iter().filter(|param| param.required).map(|param| param.name.as_str()).collect();

    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// The schema of one parameter's value.
pub(super) fn param_schema(param: &ParamSpec) -> Value {
    let mut schema = Map::new();
    schema.insert("title".into(), json!(param.label));
    if !param.help.is_empty() {
        schema.insert("description".into(), json!(param.help));
    }
    schema.insert("type".into(), json!(json_type(param.kind)));
    if param.kind == ParamKind::Choice {
        schema.insert("enum".into(), json!(param.choices));
    }
    let keywords = [
        ("pattern", param.pattern.as_ref().map(|pattern| json!(pattern))),
        ("minLength", param.min_length.map(|length| json!(length))),
        ("maxLength", param.max_length.map(|length| json!(length))),
        ("minimum", param.minimum.map(|bound| json!(bound))),
        ("maximum", param.maximum.map(|bound| json!(bound))),
        ("default", param.default.clone()),
    ];
    for (keyword, value) in keywords {
        if let Some(value) = value {
            schema.insert(keyword.into(), value);
        }
    }
    Value::Object(schema)
}

/// Compiles a schema as draft 2020-12; a failure is a broken run type.
pub(super) fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::draft202012::new(schema).map_err(|err| format!("invalid parameter schema: {err}"))
}

/// Checks each default against its own parameter's schema.
pub(super) fn check_defaults(params: &[ParamSpec]) -> Result<(), String> {
    for param in params {
        let Some(default) = &param.default else { continue };
        let validator = compile(&param_schema(param))?;
        let problem = validator.iter_errors(default).next().map(|err| message(param, &err.kind));
        if let Some(reason) = problem {
            return Err(format!("param `{}` has a default that {reason}", param.name));
        }
    }
    Ok(())
}

/// Validates `input` with `validator` (compiled from `object_schema(params)`), then fills
/// in defaults. Integers written as `8080.0` come back as `8080`.
pub(super) fn validate(
    validator: &Validator,
    params: &[ParamSpec],
    input: &Value,
) -> Result<Params, FieldErrors> {
    let mut errors = FieldErrors::new();
    for err in validator.iter_errors(input) {
        // A wrong type explains every other complaint about the same value.
        let is_type_error = matches!(err.kind, ValidationErrorKind::Type { .. });
        for (field, reason) in describe(&err, params) {
            if is_type_error {
                errors.insert(field, reason);
            } else {
                errors.entry(field).or_insert(reason);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut values = input.as_object().cloned().unwrap_or_default();
    for param in params {
        fill(&mut values, param);
    }
    Ok(Params(Value::Object(values)))
}

fn fill(values: &mut Map<String, Value>, param: &ParamSpec) {
    let Some(value) = values.get_mut(&param.name) else {
        if let Some(default) = &param.default {
            values.insert(param.name.clone(), default.clone());
        }
        return;
    };
    let is_float_integer = param.kind == ParamKind::Integer && value.as_i64().is_none();
    if let Some(number) = value.as_f64().filter(|_| is_float_integer) {
        *value = json!(number as i64);
    }
}

/// Turns one schema error into `(field, reason)` pairs.
fn describe(err: &ValidationError<'_>, params: &[ParamSpec]) -> Vec<(String, String)> {
    let field = top_level_field(err.instance_path.as_str());
    match (&err.kind, field) {
        (ValidationErrorKind::Required { property }, None) => {
            let name = property.as_str().unwrap_or_default().to_owned();
            vec![(name, "is required".to_owned())]
        }
        (ValidationErrorKind::AdditionalProperties { unexpected }, None) => unexpected
            .iter()
            .map(|name| (name.clone(), "is not a parameter of this run type".to_owned()))
            .collect(),
        (ValidationErrorKind::Type { .. }, None) => {
            vec![(WHOLE_OBJECT.to_owned(), "must be a json object".to_owned())]
        }
        (kind, Some(field)) => {
            let reason = match params.iter().find(|param| param.name == field) {
                Some(param) => message(param, kind),
                None => "is invalid".to_owned(),
            };
            vec![(field, reason)]
        }
        (_, None) => vec![(WHOLE_OBJECT.to_owned(), "are invalid".to_owned())],
    }
}

/// The parameter name an instance path such as `/crate_name` points into.
fn top_level_field(pointer: &str) -> Option<String> {
    let segment = pointer.strip_prefix('/')?.split('/').next()?;
    Some(segment.replace("~1", "/").replace("~0", "~"))
}

fn message(param: &ParamSpec, kind: &ValidationErrorKind) -> String {
    match kind {
        ValidationErrorKind::Type { .. } => format!("must be {}", type_phrase(param.kind)),
        ValidationErrorKind::Enum { .. } => {
            format!("must be one of: {}", param.choices.join(", "))
        }
        ValidationErrorKind::Pattern { pattern } => format!("must match {pattern}"),
        ValidationErrorKind::MinLength { limit: 1 } => "must not be empty".to_owned(),
        ValidationErrorKind::MinLength { limit } => {
            format!("must be at least {limit} characters")
        }
        ValidationErrorKind::MaxLength { limit } => format!("must be at most {limit} characters"),
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}"),
        _ => "is invalid".to_owned(),
    }
}

fn json_type(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::String | ParamKind::Text | ParamKind::Choice => "string",
        ParamKind::Integer => "integer",
        ParamKind::Boolean => "boolean",
    }
}

fn type_phrase(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::String | ParamKind::Text | ParamKind::Choice => "a string",
        ParamKind::Integer => "a whole number",
        ParamKind::Boolean => "true or false",
    }
}
