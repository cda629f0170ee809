//! The `generate` step: renders a run type's templates with a run's parameters into a
//! fresh workspace.

use uuid::Uuid;

use super::{count, StepError, Workspace};
use crate::runtypes::{Params, RunType};

/// Renders every template of `run_type`. The same run type, parameters and run id always
/// give the same workspace; failures are permanent, as retrying renders the same again.
pub fn generate(
    run_type: &RunType,
    params: &Params,
    run_id: Uuid,
) -> Result<(Workspace, Vec<String>), StepError> {
    let files = run_type.render(params, run_id).map_err(permanent)?;

    let mut workspace = Workspace::new();
    let mut log = Vec::new();
    for file in files {
        if workspace.contains(&file.path) {
            return Err(StepError::Permanent(format!("two templates render to {}", file.path)));
        }
        log.push(format!("wrote {} ({} bytes)", file.path, file.contents.len()));
        workspace.insert(&file.path, file.contents).map_err(permanent)?;
    }
    if workspace.is_empty() {
        return Err(StepError::Permanent(format!("run type {} rendered no files", run_type.name)));
    }

    log.push(format!(
        "rendered {} from run type {}",
        count(workspace.len(), "file"),
        run_type.name
    ));
    Ok((workspace, log))
}

fn permanent(err: impl std::fmt::Display) -> StepError {
    StepError::Permanent(err.to_string())
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use serde::Deserialize;
    use serde_json::{json, Value};

    use super::*;
    use crate::runtypes::tests::{builtin, TempDir};
    use crate::steps::{package, verify};

    /// Customer text that breaks naive templating in every target language.
    const HOSTILE: &str = "He said \"hi\" \\ then\nleft {{ name }} {% if %} </script><b>&amp;";

    /// Generates `run_type` with `params`, checks verify passes, and returns the files.
    fn generate_verified(run_type: &str, params: Value) -> Workspace {
        let catalogue = builtin();
        let run_type = catalogue.get(run_type).unwrap();
        let params = run_type.validate(&params).unwrap();

        let (workspace, log) = generate(run_type, &params, Uuid::nil()).unwrap();

        assert!(log.last().unwrap().starts_with("rendered"), "{log:?}");
        if let Err(err) = verify(&workspace) {
            panic!("verify failed: {err}\n{}", dump(&workspace));
        }
        workspace
    }

    fn text<'a>(workspace: &'a Workspace, path: &str) -> &'a str {
        let bytes =
            workspace.get(path).unwrap_or_else(|| panic!("no {path} in\n{}", dump(workspace)));
        std::str::from_utf8(bytes).unwrap()
    }

    fn paths(workspace: &Workspace) -> Vec<&str> {
        workspace.files().map(|(path, _)| path).collect()
    }

    fn dump(workspace: &Workspace) -> String {
        workspace
            .files()
            .map(|(path, bytes)| format!("--- {path}\n{}", String::from_utf8_lossy(bytes)))
            .collect()
    }

    fn yaml_documents(text: &str) -> Vec<serde_yaml::Value> {
        serde_yaml::Deserializer::from_str(text)
            .map(|document| serde_yaml::Value::deserialize(document).unwrap())
            .collect()
    }

    #[test]
    fn the_library_has_manifest_code_docs_licence_and_ci() {
        let workspace = generate_verified("library", json!({"crate_name": "tiny_math"}));

        assert_eq!(
            paths(&workspace),
            [".github/workflows/ci.yml", "Cargo.toml", "LICENSE", "README.md", "src/lib.rs"]
        );
        let manifest: toml::Table = toml::from_str(text(&workspace, "Cargo.toml")).unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some("tiny_math"));
        assert_eq!(manifest["package"]["edition"].as_str(), Some("2021"));
        assert!(manifest["dependencies"].as_table().unwrap().is_empty());
        assert!(text(&workspace, "LICENSE")
            .starts_with("MIT License\n\nCopyright (c) the tiny_math authors\n"));
        assert!(text(&workspace, "src/lib.rs").contains("tiny_math::greeting(\"Ada\")"));
        assert!(text(&workspace, ".github/workflows/ci.yml").contains("${{ matrix.toolchain }}"));
    }

    #[test]
    fn the_apache_library_carries_the_apache_notice() {
        let workspace = generate_verified(
            "library",
            json!({"crate_name": "x", "license": "Apache-2.0", "author": "Ada Lovelace"}),
        );

        let licence = text(&workspace, "LICENSE");
        assert!(licence.starts_with(
            "Copyright Ada Lovelace\n\nLicensed under the Apache License, Version 2.0"
        ));
        let manifest: toml::Table = toml::from_str(text(&workspace, "Cargo.toml")).unwrap();
        assert_eq!(manifest["package"]["license"].as_str(), Some("Apache-2.0"));
        assert_eq!(manifest["package"]["authors"][0].as_str(), Some("Ada Lovelace"));
    }

    #[test]
    fn hostile_text_stays_data_in_toml_yaml_rust_and_markdown() {
        let library =
            generate_verified("library", json!({"crate_name": "x", "description": HOSTILE}));
        let service = generate_verified(
            "microservice",
            json!({"service_name": "api", "description": HOSTILE}),
        );

        let manifest: toml::Table = toml::from_str(text(&library, "Cargo.toml")).unwrap();
        assert_eq!(manifest["package"]["description"].as_str(), Some(HOSTILE));
        let documents = yaml_documents(text(&service, "k8s/deployment.yaml"));
        assert_eq!(documents[0]["metadata"]["annotations"]["description"].as_str(), Some(HOSTILE));
        assert!(text(&library, "src/lib.rs")
            .starts_with("#![doc = \"He said \\\"hi\\\" \\\\ then\\nleft \\u{7b}{ name }}"));
        assert!(text(&service, "src/main.rs").contains("const DESCRIPTION: &str = \"He said"));
        assert!(text(&library, "README.md").contains(r"\</script\>\<b\>\&amp;"));
    }

    #[test]
    fn hostile_text_is_escaped_in_html() {
        let site = generate_verified(
            "documentation",
            json!({"site_title": HOSTILE, "outline": format!("# {}\nPlain", HOSTILE.replace('\n', " "))}),
        );

        let index = text(&site, "index.html");
        assert!(
            index.contains("He said &quot;hi&quot; \\ then\nleft &#123;&#123; name &#125;&#125;"),
            "{index}"
        );
        assert!(index.contains("&lt;/script&gt;&lt;b&gt;&amp;amp;"));
        assert!(!index.contains("<b>") && !index.contains("</script>"));
        assert!(text(&site, "02-plain.html").contains("&lt;/script&gt;"));
    }

    #[test]
    fn the_library_passes_cargo_check_offline() {
        let workspace = generate_verified(
            "library",
            json!({"crate_name": "checked", "description": HOSTILE, "license": "Apache-2.0", "edition": "2024"}),
        );
        let dir = TempDir::new();
        for (path, bytes) in workspace.files() {
            dir.write(path, bytes);
        }

        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let output = Command::new(cargo)
            .args(["check", "--offline", "--all-targets", "--quiet"])
            .current_dir(dir.path())
            .env("CARGO_TARGET_DIR", dir.path().join("target"))
            .env_remove("RUSTFLAGS")
            .output()
            .unwrap();

        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "cargo check failed:\n{stderr}\n{}", dump(&workspace));
        assert!(!stderr.contains("warning"), "{stderr}");
    }

    #[test]
    fn the_microservice_manifests_hold_a_deployment_and_a_service() {
        let workspace = generate_verified(
            "microservice",
            json!({"service_name": "orders", "port": 9090, "replicas": 3}),
        );

        assert_eq!(
            paths(&workspace),
            ["Cargo.toml", "Dockerfile", "README.md", "k8s/deployment.yaml", "src/main.rs"]
        );
        let documents = yaml_documents(text(&workspace, "k8s/deployment.yaml"));
        let kinds: Vec<_> = documents.iter().map(|doc| doc["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["Deployment", "Service"]);
        assert_eq!(documents[0]["spec"]["replicas"].as_u64(), Some(3));
        let container = &documents[0]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["ports"][0]["containerPort"].as_u64(), Some(9090));
        assert_eq!(documents[1]["spec"]["ports"][0]["targetPort"].as_str(), Some("http"));
        let manifest: toml::Table = toml::from_str(text(&workspace, "Cargo.toml")).unwrap();
        assert!(manifest["dependencies"].get("axum").is_some());
        assert!(text(&workspace, "src/main.rs").contains(".route(\"/health\", get(health))"));
        assert!(text(&workspace, "Dockerfile").contains("EXPOSE 9090\n"));
    }

    #[test]
    fn a_service_named_like_a_yaml_boolean_stays_a_string() {
        let workspace = generate_verified("microservice", json!({"service_name": "no"}));

        let documents = yaml_documents(text(&workspace, "k8s/deployment.yaml"));
        assert_eq!(documents[0]["metadata"]["name"].as_str(), Some("no"));
    }

    #[test]
    fn a_pipeline_writes_only_the_chosen_ci_system_file() {
        let cases = [
            ("github", ".github/workflows/shop.yml"),
            ("gitlab", ".gitlab-ci.yml"),
            ("woodpecker", ".woodpecker/shop.yaml"),
        ];
        for (ci_system, path) in cases {
            for language in ["rust", "python", "node"] {
                let params =
                    json!({"project_name": "shop", "ci_system": ci_system, "language": language});
                let workspace = generate_verified("pipeline", params);

                assert_eq!(paths(&workspace), [path], "{ci_system} {language}");
                assert_eq!(yaml_documents(text(&workspace, path)).len(), 1);
            }
        }
    }

    #[test]
    fn a_github_pipeline_has_a_test_job_only_when_asked() {
        let with_tests =
            generate_verified("pipeline", json!({"project_name": "shop", "language": "python"}));
        let without =
            generate_verified("pipeline", json!({"project_name": "shop", "run_tests": false}));

        let workflow = &yaml_documents(text(&with_tests, ".github/workflows/shop.yml"))[0];
        assert_eq!(workflow["jobs"]["build"]["container"].as_str(), Some("python:3.12"));
        assert_eq!(workflow["jobs"]["test"]["needs"].as_str(), Some("build"));
        assert_eq!(
            workflow["concurrency"]["group"].as_str(),
            Some("${{ github.workflow }}-${{ github.ref }}")
        );
        let workflow = &yaml_documents(text(&without, ".github/workflows/shop.yml"))[0];
        assert!(workflow["jobs"].get("test").is_none());
        assert_eq!(
            workflow["jobs"]["build"]["steps"][1]["run"].as_str(),
            Some("rustup component add clippy")
        );
    }

    #[test]
    fn gitlab_and_woodpecker_pipelines_list_the_language_commands() {
        let gitlab = generate_verified(
            "pipeline",
            json!({"project_name": "web", "ci_system": "gitlab", "language": "node"}),
        );
        let woodpecker = generate_verified(
            "pipeline",
            json!({"project_name": "web", "ci_system": "woodpecker", "run_tests": false}),
        );

        let config = &yaml_documents(text(&gitlab, ".gitlab-ci.yml"))[0];
        assert_eq!(config["stages"], serde_yaml::to_value(["build", "test"]).unwrap());
        assert_eq!(config["test"]["script"][0].as_str(), Some("npm test"));
        let config = &yaml_documents(text(&woodpecker, ".woodpecker/web.yaml"))[0];
        assert_eq!(config["steps"].as_sequence().unwrap().len(), 1);
        assert_eq!(config["steps"][0]["commands"][1].as_str(), Some("cargo build --all-targets"));
    }

    #[test]
    fn the_documentation_site_has_an_index_a_page_per_entry_and_a_style() {
        let workspace = generate_verified(
            "documentation",
            json!({"site_title": "Handbook", "outline": "# Intro\n## Setup\n\nFAQ\n", "theme": "dark"}),
        );

        assert_eq!(
            paths(&workspace),
            ["01-intro.html", "02-setup.html", "03-faq.html", "index.html", "style.css"]
        );
        let setup = text(&workspace, "02-setup.html");
        assert!(setup.contains("<h2>Setup</h2>"));
        assert!(setup.contains("<a href=\"01-intro.html\">Previous</a>"));
        assert!(setup.contains("<a href=\"03-faq.html\">Next</a>"));
        assert!(text(&workspace, "index.html").contains("<p>This site has 3 sections:</p>"));
        assert!(text(&workspace, "style.css").contains("--background: #16181d;"));
    }

    #[test]
    fn generating_twice_gives_the_same_workspace_and_package() {
        let first = generate_verified("library", json!({"crate_name": "same"}));
        let second = generate_verified("library", json!({"crate_name": "same"}));

        assert_eq!(first, second);
        let (package, _) = package(&first, "same").unwrap();
        assert_eq!(package, crate::steps::package(&second, "same").unwrap().0);
        assert!(text(&first, "README.md").contains("run `00000000-0000-0000-0000-000000000000`"));
    }
}
