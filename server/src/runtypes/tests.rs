//! Tests of run type loading, schemas, validation and rendering against the built-in run
//! types and small broken ones written to temporary folders.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::*;

/// The run types shipped in `server/runtypes`, whatever `FACTORY_RUN_TYPES_DIR` says.
pub(crate) fn builtin() -> Catalogue {
    Catalogue::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/runtypes"))).unwrap()
}

/// A directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> TempDir {
        let path = std::env::temp_dir().join(format!("factory-test-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `relative`, creating parent folders.
    pub(crate) fn write(&self, relative: &str, contents: &[u8]) {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const STEPS: &str = r#"
steps = [{ name = "generate", pool = "generate", max_attempts = 1, timeout_secs = 5 }]
"#;

/// A catalogue folder with one run type `demo`: a header, `body` (steps, params, files)
/// and the given templates.
fn demo_dir(body: &str, templates: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new();
    let header = "name = \"demo\"\ntitle = \"Demo\"\ndescription = \"d\"\n\
                  expected_duration_secs = 1\n";
    dir.write("demo/runtype.toml", format!("{header}{body}").as_bytes());
    for (path, text) in templates {
        dir.write(&format!("demo/templates/{path}"), text.as_bytes());
    }
    dir
}

fn load_error(body: &str, templates: &[(&str, &str)]) -> String {
    let dir = demo_dir(body, templates);
    Catalogue::load(dir.path()).unwrap_err().to_string()
}

/// Validates `input` against built-in `run_type` and compares the field errors.
fn check_errors(run_type: &str, input: Value, expected: &[(&str, &str)]) {
    let catalogue = builtin();
    let errors = catalogue.get(run_type).unwrap().validate(&input).unwrap_err();

    let expected: FieldErrors =
        expected.iter().map(|(field, reason)| (field.to_string(), reason.to_string())).collect();
    assert_eq!(errors, expected, "input: {input}");
}

#[test]
fn the_builtin_catalogue_has_the_four_run_types_sorted_by_name() {
    let catalogue = builtin();

    let names: Vec<&str> = catalogue.all().iter().map(|run_type| run_type.name.as_str()).collect();
    assert_eq!(names, ["documentation", "library", "microservice", "pipeline"]);
    assert!(catalogue.get("library").is_some());
    assert!(catalogue.get("nope").is_none());
}

#[test]
fn builtin_run_types_generate_then_verify_then_package() {
    for run_type in builtin().all() {
        let steps: Vec<(&str, &str)> =
            run_type.steps.iter().map(|step| (step.name.as_str(), step.pool.as_str())).collect();
        assert_eq!(
            steps,
            [("generate", "generate"), ("verify", "verify"), ("package", "package")],
            "{}",
            run_type.name
        );
        assert!(run_type.steps.iter().all(|step| step.kind().is_ok() && step.max_attempts >= 1));
    }
}

#[test]
fn the_view_describes_params_for_the_form() {
    let library = builtin().get("library").unwrap().view();

    assert_eq!(library.name, "library");
    assert_eq!(library.expected_duration_secs, 20);
    assert_eq!(
        library.steps[1],
        app::model::StepView { name: "verify".into(), pool: "verify".into() }
    );
    let license = library.params.iter().find(|param| param.name == "license").unwrap();
    assert_eq!(license.kind, app::model::ParamKind::Choice);
    assert_eq!(license.choices, ["MIT", "Apache-2.0"]);
    assert_eq!(license.default, Some(json!("MIT")));
    let crate_name = &library.params[0];
    assert!(crate_name.required);
    assert_eq!(crate_name.pattern.as_deref(), Some("^[a-z][a-z0-9_]{0,39}$"));
}

#[test]
fn the_library_schema_is_a_closed_draft_2020_12_object() {
    let schema = builtin().get("library").unwrap().json_schema();

    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], json!(["crate_name"]));
    assert_eq!(
        schema["properties"]["crate_name"],
        json!({
            "title": "Crate name",
            "description": "Lowercase letters, digits and underscores, starting with a letter.",
            "type": "string",
            "pattern": "^[a-z][a-z0-9_]{0,39}$",
        })
    );
    assert_eq!(
        schema["properties"]["license"],
        json!({"title": "Licence", "type": "string", "enum": ["MIT", "Apache-2.0"], "default": "MIT"})
    );
    assert_eq!(schema["properties"]["description"]["maxLength"], 200);
}

#[test]
fn the_microservice_schema_bounds_its_integers() {
    let schema = builtin().get("microservice").unwrap().json_schema();

    let port = &schema["properties"]["port"];
    assert_eq!(
        (&port["type"], &port["minimum"], &port["maximum"]),
        (&json!("integer"), &json!(1024), &json!(65535))
    );
    assert_eq!(port["default"], 8080);
    assert_eq!(schema["properties"]["replicas"]["default"], 2);
}

#[test]
fn valid_params_come_back_with_defaults_filled() {
    let catalogue = builtin();
    let library = catalogue.get("library").unwrap();

    let params = library.validate(&json!({"crate_name": "demo"})).unwrap();

    assert_eq!(
        params.as_json(),
        &json!({"crate_name": "demo", "description": "", "author": "", "license": "MIT", "edition": "2021"})
    );
}

#[test]
fn given_values_win_over_defaults_and_whole_floats_become_integers() {
    let catalogue = builtin();
    let microservice = catalogue.get("microservice").unwrap();

    let params = microservice.validate(&json!({"service_name": "api", "port": 9000.0})).unwrap();

    assert_eq!(params.as_json()["port"], json!(9000));
    assert!(params.as_json()["port"].is_i64());
    assert_eq!(params.as_json()["replicas"], json!(2));
}

#[test]
fn a_missing_required_param_is_reported_by_name() {
    check_errors("library", json!({}), &[("crate_name", "is required")]);
    check_errors("documentation", json!({"site_title": "x"}), &[("outline", "is required")]);
}

#[test]
fn a_value_not_matching_the_pattern_quotes_the_pattern() {
    check_errors(
        "library",
        json!({"crate_name": "Bad-Name"}),
        &[("crate_name", "must match ^[a-z][a-z0-9_]{0,39}$")],
    );
    check_errors(
        "library",
        json!({"crate_name": "x", "author": "{{ evil }}"}),
        &[("author", "must match ^[^{}\\u0000-\\u001f]*$")],
    );
    check_errors(
        "library",
        json!({"crate_name": "x", "author": "Ada\nLovelace"}),
        &[("author", "must match ^[^{}\\u0000-\\u001f]*$")],
    );
    check_errors(
        "microservice",
        json!({"service_name": "ends-with-"}),
        &[("service_name", "must match ^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")],
    );
}

#[test]
fn a_choice_outside_the_list_names_the_choices() {
    check_errors(
        "library",
        json!({"crate_name": "x", "license": "GPL"}),
        &[("license", "must be one of: MIT, Apache-2.0")],
    );
    check_errors(
        "pipeline",
        json!({"project_name": "x", "ci_system": "jenkins"}),
        &[("ci_system", "must be one of: github, gitlab, woodpecker")],
    );
}

#[test]
fn lengths_are_checked_in_characters() {
    let long = "é".repeat(201);
    check_errors(
        "library",
        json!({"crate_name": "x", "description": long}),
        &[("description", "must be at most 200 characters")],
    );
    let fits = "é".repeat(200);
    assert!(builtin()
        .get("library")
        .unwrap()
        .validate(&json!({"crate_name": "x", "description": fits}))
        .is_ok());
    check_errors(
        "documentation",
        json!({"site_title": "", "outline": "a"}),
        &[("site_title", "must not be empty")],
    );
}

#[test]
fn integers_outside_their_bounds_name_the_bound() {
    check_errors(
        "microservice",
        json!({"service_name": "api", "port": 80, "replicas": 21}),
        &[("port", "must be at least 1024"), ("replicas", "must be at most 20")],
    );
}

#[test]
fn an_unknown_property_is_reported_under_its_own_name() {
    check_errors(
        "library",
        json!({"crate_name": "x", "colour": "red"}),
        &[("colour", "is not a parameter of this run type")],
    );
}

#[test]
fn a_wrong_type_is_reported_for_each_kind() {
    check_errors(
        "microservice",
        json!({"service_name": 7, "port": "8080", "description": null}),
        &[
            ("description", "must be a string"),
            ("port", "must be a whole number"),
            ("service_name", "must be a string"),
        ],
    );
    check_errors(
        "pipeline",
        json!({"project_name": "x", "run_tests": "yes", "language": 1}),
        &[("language", "must be a string"), ("run_tests", "must be true or false")],
    );
    check_errors(
        "microservice",
        json!({"service_name": "api", "port": 8080.5}),
        &[("port", "must be a whole number")],
    );
}

#[test]
fn params_that_are_not_an_object_are_reported_under_params() {
    check_errors("library", json!(["crate_name"]), &[("params", "must be a json object")]);
    check_errors("library", json!(null), &[("params", "must be a json object")]);
}

#[test]
fn a_broken_runtype_file_is_a_load_error_naming_file_and_line() {
    let message = load_error("steps = [\n  { name = \"generate\" \n", &[("a.txt", "a")]);

    assert!(message.contains("demo/runtype.toml: line"), "{message}");
}

#[test]
fn unknown_fields_pools_and_steps_are_load_errors() {
    let unknown_field = load_error(&format!("{STEPS}colour = \"red\"\n"), &[("a.txt", "a")]);
    let pool = load_error(
        r#"steps = [{ name = "generate", pool = "gpu", max_attempts = 1, timeout_secs = 5 }]"#,
        &[("a.txt", "a")],
    );
    let step = load_error(
        r#"steps = [
            { name = "generate", pool = "generate", max_attempts = 1, timeout_secs = 5 },
            { name = "deploy", pool = "package", max_attempts = 1, timeout_secs = 5 },
        ]"#,
        &[("a.txt", "a")],
    );

    assert!(unknown_field.contains("unknown field `colour`"), "{unknown_field}");
    assert!(
        pool.ends_with(
            "step `generate` names unknown pool `gpu` (known: generate, verify, package)"
        ),
        "{pool}"
    );
    assert!(step.ends_with("unknown step `deploy` (known: generate, verify, package)"), "{step}");
}

#[test]
fn run_types_must_start_with_generate() {
    let message = load_error(
        r#"steps = [{ name = "verify", pool = "verify", max_attempts = 1, timeout_secs = 5 }]"#,
        &[("a.txt", "a")],
    );

    assert!(message.ends_with("the first step must be `generate`, which creates the files"));
}

#[test]
fn param_declarations_are_checked_when_loading() {
    let cases = [
        ("name = \"x\"\nlabel = \"X\"\ntype = \"string\"\n", "must be required or have a default"),
        (
            "name = \"x\"\nlabel = \"X\"\ntype = \"choice\"\nchoices = [\"a\"]\ndefault = \"b\"\n",
            "has a default that must be one of: a",
        ),
        (
            "name = \"x\"\nlabel = \"X\"\ntype = \"integer\"\nrequired = true\nmax_length = 3\n",
            "has a constraint that does not fit its type",
        ),
        ("name = \"run_id\"\nlabel = \"X\"\ntype = \"boolean\"\ndefault = true\n", "not reserved"),
    ];
    for (param, expected) in cases {
        let message = load_error(&format!("{STEPS}[[params]]\n{param}"), &[("a.txt", "a")]);
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn a_template_syntax_error_names_the_template() {
    let message = load_error(STEPS, &[("src/a.rs", "fn main() {}\n{% if %}\n")]);

    assert!(message.contains("demo/templates/src/a.rs"), "{message}");
    assert!(message.contains("line 2") || message.contains("a.rs:2"), "{message}");
}

#[test]
fn file_rules_must_name_an_output_template() {
    let missing =
        load_error(&format!("{STEPS}[files.\"b.txt\"]\nwhen = \"true\"\n"), &[("a.txt", "a")]);
    let half =
        load_error(&format!("{STEPS}[files.\"a.txt\"]\neach = \"[1]\"\n"), &[("a.txt", "a")]);

    assert!(
        missing.ends_with("[files] names `b.txt`, which is not an output template"),
        "{missing}"
    );
    assert!(half.ends_with("needs both `each` and `as`, or neither"), "{half}");
}

#[test]
fn the_folder_name_must_match_the_run_type_name() {
    let dir = TempDir::new();
    dir.write("other/runtype.toml", format!("name = \"demo\"\ntitle = \"D\"\ndescription = \"d\"\nexpected_duration_secs = 1\n{STEPS}").as_bytes());
    dir.write("other/templates/a.txt", b"a");

    let message = Catalogue::load(dir.path()).unwrap_err().to_string();

    assert!(message.ends_with("name `demo` must match its folder `other`"), "{message}");
}

#[test]
fn folders_without_a_runtype_file_are_ignored() {
    let dir = demo_dir(STEPS, &[("a.txt", "a")]);
    dir.write("notes/README.md", b"not a run type");

    let catalogue = Catalogue::load(dir.path()).unwrap();

    assert_eq!(catalogue.all().len(), 1);
}

#[test]
fn templates_see_params_run_id_and_rules_but_not_undefined_names() {
    let body = format!(
        "{STEPS}[[params]]\nname = \"who\"\nlabel = \"Who\"\ntype = \"string\"\nrequired = true\n\
         [files.\"skipped.txt\"]\nwhen = \"who == 'nobody'\"\n\
         [files.\"{{{{ n }}}}.txt\"]\neach = \"[1, 2]\"\nas = \"n\"\n"
    );
    let dir = demo_dir(
        &body,
        &[
            ("hello.txt", "{% include '_part.txt' %} {{ who }} from {{ run_type }} {{ run_id }}\n"),
            ("_part.txt", "hi"),
            ("skipped.txt", "x"),
            ("{{ n }}.txt", "number {{ n }}"),
        ],
    );
    let catalogue = Catalogue::load(dir.path()).unwrap();
    let demo = catalogue.get("demo").unwrap();
    let params = demo.validate(&json!({"who": "ada"})).unwrap();

    let files = demo.render(&params, Uuid::nil()).unwrap();

    let rendered: Vec<(&str, &str)> =
        files.iter().map(|file| (file.path.as_str(), file.contents.as_str())).collect();
    assert_eq!(
        rendered,
        [
            ("hello.txt", "hi ada from demo 00000000-0000-0000-0000-000000000000\n"),
            ("1.txt", "number 1"),
            ("2.txt", "number 2"),
        ]
    );
}

#[test]
fn an_undefined_name_fails_rendering_with_the_template_name() {
    let dir = demo_dir(STEPS, &[("a.txt", "{{ missing }}")]);
    let catalogue = Catalogue::load(dir.path()).unwrap();
    let demo = catalogue.get("demo").unwrap();

    let err = demo.render(&demo.validate(&json!({})).unwrap(), Uuid::nil()).unwrap_err();

    assert_eq!(err.template, "a.txt");
    assert!(err.reason.contains("undefined"), "{err}");
}

#[test]
fn the_catalogue_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Catalogue>();
}
