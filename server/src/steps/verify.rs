//! The `verify` step: every TOML, YAML and JSON file must parse, and no text file may hold
//! a leftover template placeholder.
//!
//! A placeholder is any `{{`, `{%` or `{#` not directly after a `$`. The `$` exception
//! keeps GitHub Actions' `${{ expr }}` and shell's `${#var}` legitimate, while a template
//! that escaped rendering still fails. Closing delimiters are not checked: `}}` is common
//! in JSON and code, and a leftover placeholder always has an opening one. Customers' text
//! cannot trip the rule, because every escaping filter breaks up opening delimiters.

use serde::Deserialize;

use super::{count, StepError, Workspace};

/// Checks every file; the first problem fails the step permanently, naming file and line.
pub fn verify(workspace: &Workspace) -> Result<Vec<String>, StepError> {
    if workspace.is_empty() {
        return Err(StepError::Permanent("workspace has no files to verify".to_owned()));
    }

    let mut log = Vec::new();
    for (path, bytes) in workspace.files() {
        let Ok(text) = std::str::from_utf8(bytes) else {
            log.push(format!("skipped {path} (binary)"));
            continue;
        };
        check_placeholders(path, text)?;
        if let Some(format) = check_syntax(path, text)? {
            log.push(format!("checked {path} ({format})"));
        }
    }

    log.push(format!("verified {}", count(workspace.len(), "file")));
    Ok(log)
}

fn check_placeholders(path: &str, text: &str) -> Result<(), StepError> {
    for (index, line) in text.lines().enumerate() {
        if let Some(delimiter) = leftover_delimiter(line) {
            let line = index + 1;
            return Err(failure(
                path,
                line,
                &format!("leftover template placeholder `{delimiter}`"),
            ));
        }
    }
    Ok(())
}

/// The first opening template delimiter on `line` that is not preceded by `$`.
fn leftover_delimiter(line: &str) -> Option<&'static str> {
    let bytes = line.as_bytes();
    bytes.windows(2).enumerate().find_map(|(at, pair)| {
        let after_dollar = at > 0 && bytes[at - 1] == b'$';
        match pair {
            _ if after_dollar => None,
            b"{{" => Some("{{"),
            b"{%" => Some("{%"),
            b"{#" => Some("{#"),
            _ => None,
        }
    })
}

/// Parses files with a structured extension; `None` for other files.
fn check_syntax(path: &str, text: &str) -> Result<Option<String>, StepError> {
    let extension = path.rsplit_once('.').map(|(_, extension)| extension);
    match extension {
        Some("toml") => check_toml(path, text).map(|()| Some("toml".to_owned())),
        Some("yaml" | "yml") => check_yaml(path, text).map(Some),
        Some("json") => check_json(path, text).map(|()| Some("json".to_owned())),
        _ => Ok(None),
    }
}

fn check_toml(path: &str, text: &str) -> Result<(), StepError> {
    toml::from_str::<toml::Table>(text).map(drop).map_err(|err| {
        let line = err.span().map_or(1, |span| line_of(text, span.start));
        failure(path, line, &format!("invalid toml: {}", err.message()))
    })
}

/// Parses every document of a YAML stream; says how many there were.
fn check_yaml(path: &str, text: &str) -> Result<String, StepError> {
    let mut documents = 0;
    for document in serde_yaml::Deserializer::from_str(text) {
        serde_yaml::Value::deserialize(document).map_err(|err| {
            let line = err.location().map_or(1, |location| location.line());
            failure(path, line, &format!("invalid yaml: {err}"))
        })?;
        documents += 1;
    }
    Ok(match documents {
        1 => "yaml".to_owned(),
        count => format!("yaml, {count} documents"),
    })
}

fn check_json(path: &str, text: &str) -> Result<(), StepError> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(drop)
        .map_err(|err| failure(path, err.line(), &format!("invalid json: {err}")))
}

fn failure(path: &str, line: usize, reason: &str) -> StepError {
    StepError::Permanent(format!("{path} line {line}: {reason}"))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(files: &[(&str, &str)]) -> Workspace {
        let mut workspace = Workspace::new();
        for (path, text) in files {
            workspace.insert(path, *text).unwrap();
        }
        workspace
    }

    fn verify_error(files: &[(&str, &str)]) -> String {
        match verify(&workspace(files)) {
            Err(StepError::Permanent(message)) => message,
            other => panic!("expected a permanent failure, got {other:?}"),
        }
    }

    #[test]
    fn well_formed_files_pass_and_are_logged() {
        let log = verify(&workspace(&[
            ("Cargo.toml", "[package]\nname = \"x\"\n"),
            ("k8s/app.yaml", "a: 1\n---\nb: 2\n"),
            ("data.json", "{\"a\":{\"b\":[1]}}"),
            ("README.md", "# x\n"),
        ]))
        .unwrap();

        assert_eq!(
            log,
            [
                "checked Cargo.toml (toml)",
                "checked data.json (json)",
                "checked k8s/app.yaml (yaml, 2 documents)",
                "verified 4 files",
            ]
        );
    }

    #[test]
    fn a_leftover_placeholder_fails_naming_file_and_line() {
        let message = verify_error(&[("README.md", "# title\n\nHello {{ name }}\n")]);

        assert_eq!(message, "README.md line 3: leftover template placeholder `{{`");
    }

    #[test]
    fn leftover_block_tags_and_comments_fail_too() {
        assert!(verify_error(&[("a.txt", "{% if x %}")]).contains("`{%`"));
        assert!(verify_error(&[("a.txt", "x\n{# note #}")]).starts_with("a.txt line 2"));
    }

    #[test]
    fn github_actions_expressions_are_not_placeholders() {
        let workflow = "jobs:\n  t:\n    name: ${{ matrix.os }}\n    run: echo ${#ARGS}\n";

        assert!(verify(&workspace(&[("ci.yml", workflow)])).is_ok());
    }

    #[test]
    fn broken_toml_fails_naming_file_and_line() {
        let message = verify_error(&[("Cargo.toml", "[package]\nname = \"x\"\nversion = \n")]);

        assert!(message.starts_with("Cargo.toml line 3: invalid toml"), "{message}");
    }

    #[test]
    fn broken_yaml_and_json_fail() {
        let yaml = verify_error(&[("a.yaml", "a: 1\nb: [\n")]);
        let json = verify_error(&[("a.json", "{\n\"a\": }")]);

        assert!(yaml.starts_with("a.yaml line"), "{yaml}");
        assert!(yaml.contains("invalid yaml"), "{yaml}");
        assert!(json.starts_with("a.json line 2: invalid json"), "{json}");
    }

    #[test]
    fn an_empty_workspace_fails() {
        assert!(matches!(verify(&Workspace::new()), Err(StepError::Permanent(_))));
    }
}
