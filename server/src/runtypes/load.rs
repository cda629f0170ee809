//! Reading run type folders from disk: `runtype.toml`, the `templates/` tree, and turning
//! them into checked `RunType`s. Every error names the file at fault.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::render::Templates;
use super::spec::{self, RunTypeFile};
use super::{schema, RunType, StepDecl};

/// Why the catalogue could not be loaded; `path` is the file or folder at fault.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

const SPEC_FILE: &str = "runtype.toml";
const TEMPLATES_DIR: &str = "templates";

/// Loads every subfolder of `dir` that holds a `runtype.toml`.
pub(super) fn load_all(dir: &Path) -> Result<Vec<RunType>, CatalogueError> {
    let mut run_types = Vec::new();
    for folder in subfolders(dir)? {
        if folder.join(SPEC_FILE).is_file() {
            run_types.push(load_one(&folder)?);
        }
    }
    Ok(run_types)
}

fn load_one(folder: &Path) -> Result<RunType, CatalogueError> {
    let spec_path = folder.join(SPEC_FILE);
    let invalid = |message: String| CatalogueError::Invalid { path: spec_path.clone(), message };
    let file = parse_spec(&spec_path)?;
    let folder_name = folder.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    spec::check(&file, folder_name).map_err(invalid)?;

    let sources = read_templates(&folder.join(TEMPLATES_DIR))?;
    let names: Vec<String> = sources.iter().map(|(name, _)| name.clone()).collect();
    spec::check_files(&file.files, &names, &file.params).map_err(invalid)?;
    let templates = Templates::compile(sources, &file.files).map_err(|err| {
        let path = folder.join(TEMPLATES_DIR).join(&err.template);
        CatalogueError::Invalid { path, message: err.reason }
    })?;

    let object_schema = schema::object_schema(&file.title, &file.description, &file.params);
    let validator = schema::compile(&object_schema).map_err(invalid)?;
    schema::check_defaults(&file.params).map_err(invalid)?;
    Ok(assemble(file, templates, validator))
}

fn assemble(file: RunTypeFile, templates: Templates, validator: jsonschema::Validator) -> RunType {
    let steps = file
        .steps
        .into_iter()
        .map(|step| StepDecl {
            name: step.name,
            pool: step.pool,
            max_attempts: step.max_attempts,
            timeout: Duration::from_secs(step.timeout_secs),
        })
        .collect();
    RunType {
        name: file.name,
        title: file.title,
        description: file.description,
        expected_duration: Duration::from_secs(file.expected_duration_secs),
        steps,
        params: file.params,
        templates,
        validator: Arc::new(validator),
    }
}

fn parse_spec(path: &Path) -> Result<RunTypeFile, CatalogueError> {
    let text = read_text(path)?;
    toml::from_str(&text).map_err(|err| {
        let line = err.span().map(|span| line_of(&text, span.start));
        let message = match line {
            Some(line) => format!("line {line}: {}", err.message()),
            None => err.message().to_owned(),
        };
        CatalogueError::Invalid { path: path.to_owned(), message }
    })
}

/// Every file under `root`, as (path relative to `root` with `/` separators, text), sorted.
fn read_templates(root: &Path) -> Result<Vec<(String, String)>, CatalogueError> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for path in entries(&dir)? {
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push((relative_name(root, &path), read_text(&path)?));
            }
        }
    }
    if files.is_empty() {
        let message = "has no templates".to_owned();
        return Err(CatalogueError::Invalid { path: root.to_owned(), message });
    }
    files.sort();
    Ok(files)
}

fn relative_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<_> =
        relative.components().map(|part| part.as_os_str().to_string_lossy()).collect();
    parts.join("/")
}

fn subfolders(dir: &Path) -> Result<Vec<PathBuf>, CatalogueError> {
    Ok(entries(dir)?.into_iter().filter(|path| path.is_dir()).collect())
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, CatalogueError> {
    let io_error = |source| CatalogueError::Io { path: dir.to_owned(), source };
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error)? {
        paths.push(entry.map_err(io_error)?.path());
    }
    paths.sort();
    Ok(paths)
}

fn read_text(path: &Path) -> Result<String, CatalogueError> {
    fs::read_to_string(path).map_err(|source| CatalogueError::Io { path: path.to_owned(), source })
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}
