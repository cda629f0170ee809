//! A run type's templates compiled into one minijinja environment, and rendering them
//! with validated parameters into output files (paths rendered too).

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior, Value};

use super::filters;
use super::spec::{self, FileRule};

/// One output file, its path relative to the output root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedFile {
    pub path: String,
    pub contents: String,
}

/// A template that failed to render: named, with minijinja's reason and line.
#[derive(Debug, thiserror::Error)]
#[error("render template `{template}`: {reason}")]
pub struct RenderError {
    pub template: String,
    pub reason: String,
}

/// What every template sees: the parameters, `run_id`, `run_type`, and any `as` binding.
pub(super) type Context = BTreeMap<String, Value>;

/// The compiled templates of one run type.
#[derive(Clone, Debug)]
pub(super) struct Templates {
    env: Environment<'static>,
    /// Every template that is not a partial, sorted, with its rule.
    outputs: Vec<(String, FileRule)>,
}

impl Templates {
    /// Compiles every template, its path and its rule's expressions; a failure names the
    /// template and says why.
    pub(super) fn compile(
        sources: Vec<(String, String)>,
        rules: &BTreeMap<String, FileRule>,
    ) -> Result<Templates, RenderError> {
        let mut env = environment();
        let mut outputs = Vec::new();
        for (name, source) in sources {
            if !spec::is_partial(&name) {
                outputs.push((name.clone(), rules.get(&name).cloned().unwrap_or_default()));
            }
            env.add_template_owned(name.clone(), source).map_err(|err| failure(&name, err))?;
        }
        outputs.sort_by(|a, b| a.0.cmp(&b.0));

        let templates = Templates { env, outputs };
        for (name, rule) in &templates.outputs {
            templates.check_compiles(name, rule).map_err(|err| failure(name, err))?;
        }
        Ok(templates)
    }

    /// Renders every output template that applies, in template-name order.
    pub(super) fn render(&self, context: &Context) -> Result<Vec<RenderedFile>, RenderError> {
        let mut files = Vec::new();
        for (name, rule) in &self.outputs {
            self.render_template(name, rule, context, &mut files)
                .map_err(|err| failure(name, err))?;
        }
        Ok(files)
    }

    fn render_template(
        &self,
        name: &str,
        rule: &FileRule,
        context: &Context,
        files: &mut Vec<RenderedFile>,
    ) -> Result<(), minijinja::Error> {
        if let Some(when) = &rule.when {
            if !self.env.compile_expression_owned(when.clone())?.eval(context)?.is_true() {
                return Ok(());
            }
        }
        let (Some(each), Some(binding)) = (&rule.each, &rule.binding) else {
            files.push(self.render_one(name, context)?);
            return Ok(());
        };
        for item in self.env.compile_expression_owned(each.clone())?.eval(context)?.try_iter()? {
            let mut item_context = context.clone();
            item_context.insert(binding.clone(), item);
            files.push(self.render_one(name, &item_context)?);
        }
        Ok(())
    }

    fn render_one(&self, name: &str, context: &Context) -> Result<RenderedFile, minijinja::Error> {
        let path = self.env.render_str(name, context)?;
        let contents = self.env.get_template(name)?.render(context)?;
        Ok(RenderedFile { path, contents })
    }

    fn check_compiles(&self, name: &str, rule: &FileRule) -> Result<(), minijinja::Error> {
        Environment::new().template_from_str(name)?;
        for expression in [&rule.when, &rule.each].into_iter().flatten() {
            self.env.compile_expression_owned(expression.clone())?;
        }
        Ok(())
    }
}

/// Strict about undefined names, keeps trailing newlines, and trims the line a block tag
/// stands on, so templates can put `{% if %}` on lines of their own.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    filters::register(&mut env);
    env
}

fn failure(template: &str, err: minijinja::Error) -> RenderError {
    RenderError { template: template.to_owned(), reason: err.to_string() }
}
