//! Turning what someone typed into the new-run form into the typed JSON parameters a run
//! type expects: integers as numbers, booleans as `true`/`false`, empty optional fields
//! left out. Pure, so it is tested here rather than in a browser.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};

use crate::model::{ParamKind, ParamView};

/// The form's raw values by parameter name. A checkbox holds `"true"` or `"false"`.
pub type FormValues = BTreeMap<String, String>;

/// Field name to the reason it was refused.
pub type FieldErrors = BTreeMap<String, String>;

/// The text each field starts with: the parameter's default, if it has one.
pub fn initial_values(params: &[ParamView]) -> FormValues {
    params
        .iter()
        .map(|param| {
            let text = param.default.as_ref().map(default_text).unwrap_or_default();
            let text = match param.kind {
                ParamKind::Boolean => (text == "true").to_string(),
                _ => text,
            };
            (param.name.clone(), text)
        })
        .collect()
}

/// The JSON object to submit, or the fields that cannot be turned into their type.
pub fn to_json(params: &[ParamView], values: &FormValues) -> Result<Value, FieldErrors> {
    let mut object = Map::new();
    let mut errors = FieldErrors::new();

    for param in params {
        let raw = values.get(&param.name).map(String::as_str).unwrap_or("");
        match field_value(param, raw) {
            Ok(Some(value)) => {
                object.insert(param.name.clone(), value);
            }
            Ok(None) if param.required => {
                errors.insert(param.name.clone(), "is required".to_string());
            }
            Ok(None) => {}
            Err(reason) => {
                errors.insert(param.name.clone(), reason);
            }
        }
    }

    if errors.is_empty() {
        Ok(Value::Object(object))
    } else {
        Err(errors)
    }
}

/// One field's typed value; `None` when it was left empty.
fn field_value(param: &ParamView, raw: &str) -> Result<Option<Value>, String> {
    match param.kind {
        ParamKind::Boolean => Ok(Some(Value::Bool(raw == "true"))),
        ParamKind::Integer => parse_integer(raw.trim()),
        ParamKind::Text => Ok(non_blank(raw).map(|_| Value::String(raw.to_string()))),
        ParamKind::String | ParamKind::Choice => {
            Ok(non_blank(raw).map(|text| Value::String(text.to_string())))
        }
    }
}

fn parse_integer(text: &str) -> Result<Option<Value>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .map(|number| Some(Value::Number(Number::from(number))))
        .map_err(|_| "must be a whole number".to_string())
}

/// The trimmed text, unless there is nothing but whitespace.
fn non_blank(raw: &str) -> Option<&str> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then_some(trimmed)
}

fn default_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(name: &str, kind: ParamKind, required: bool, default: Option<Value>) -> ParamView {
        ParamView {
            name: name.to_string(),
            label: name.to_string(),
            help: String::new(),
            kind,
            required,
            default,
            choices: Vec::new(),
            pattern: None,
            min_length: None,
            max_length: None,
        }
    }

    fn values(pairs: &[(&str, &str)]) -> FormValues {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    fn check(params: &[ParamView], form: &[(&str, &str)], expected: Result<Value, FieldErrors>) {
        assert_eq!(to_json(params, &values(form)), expected);
    }

    #[test]
    fn each_kind_becomes_its_json_type() {
        let params = [
            param("name", ParamKind::String, true, None),
            param("notes", ParamKind::Text, false, None),
            param("replicas", ParamKind::Integer, true, None),
            param("tests", ParamKind::Boolean, false, None),
            param("language", ParamKind::Choice, true, None),
        ];
        check(
            &params,
            &[
                ("name", "  billing  "),
                ("notes", "line one\n  line two\n"),
                ("replicas", " 3 "),
                ("tests", "true"),
                ("language", "rust"),
            ],
            Ok(json!({
                "name": "billing",
                "notes": "line one\n  line two\n",
                "replicas": 3,
                "tests": true,
                "language": "rust",
            })),
        );
    }

    #[test]
    fn empty_optional_fields_are_left_out_and_unticked_boxes_are_false() {
        let params = [
            param("notes", ParamKind::Text, false, None),
            param("replicas", ParamKind::Integer, false, None),
            param("tests", ParamKind::Boolean, false, None),
            param("language", ParamKind::Choice, false, None),
        ];
        check(
            &params,
            &[("notes", "   "), ("replicas", ""), ("tests", "false")],
            Ok(json!({ "tests": false })),
        );
    }

    #[test]
    fn empty_required_fields_and_bad_integers_are_refused_by_name() {
        let params = [
            param("name", ParamKind::String, true, None),
            param("replicas", ParamKind::Integer, false, None),
            param("size", ParamKind::Integer, false, None),
        ];
        let expected: FieldErrors = [
            ("name".to_string(), "is required".to_string()),
            ("replicas".to_string(), "must be a whole number".to_string()),
            ("size".to_string(), "must be a whole number".to_string()),
        ]
        .into();
        check(&params, &[("name", " "), ("replicas", "2.5"), ("size", "ten")], Err(expected));
    }

    #[test]
    fn negative_integers_are_numbers() {
        let params = [param("offset", ParamKind::Integer, true, None)];
        check(&params, &[("offset", "-4")], Ok(json!({ "offset": -4 })));
    }

    #[test]
    fn defaults_fill_the_form_as_text() {
        let params = [
            param("name", ParamKind::String, true, Some(json!("billing"))),
            param("replicas", ParamKind::Integer, false, Some(json!(2))),
            param("tests", ParamKind::Boolean, false, Some(json!(true))),
            param("docs", ParamKind::Boolean, false, None),
            param("notes", ParamKind::Text, false, None),
        ];
        let expected = values(&[
            ("name", "billing"),
            ("replicas", "2"),
            ("tests", "true"),
            ("docs", "false"),
            ("notes", ""),
        ]);
        assert_eq!(initial_values(&params), expected);
    }

    #[test]
    fn defaults_round_trip_to_their_types() {
        let params = [
            param("replicas", ParamKind::Integer, false, Some(json!(2))),
            param("tests", ParamKind::Boolean, false, Some(json!(true))),
        ];
        let form = initial_values(&params);
        assert_eq!(to_json(&params, &form), Ok(json!({ "replicas": 2, "tests": true })));
    }
}
