//! The template filters that make customers' text safe in each output language
//! (`toml_str`, `yaml_str`, `rust_str`, `md`, HTML autoescaping) and `outline_sections`,
//! which turns an outline into numbered pages.
//!
//! Every escaper also breaks up `{{`, `{%` and `{#`, so customer text can never look like
//! a leftover template placeholder to the verify step.

use minijinja::{AutoEscape, Environment, Error, Output, State, Value};
use serde::Serialize;

/// Registers the filters, the per-extension autoescaping and the HTML formatter.
pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("toml_str", toml_str);
    env.add_filter("yaml_str", yaml_str);
    env.add_filter("rust_str", rust_str);
    env.add_filter("md", markdown_text);
    env.add_filter("outline_sections", outline_sections_filter);
    env.set_auto_escape_callback(auto_escape_for);
    env.set_formatter(format_value);
}

/// A TOML basic string literal, quotes included.
pub(super) fn toml_str(text: &str) -> String {
    quote(text, four_digit_escape)
}

/// A YAML double-quoted scalar, quotes included.
pub(super) fn yaml_str(text: &str) -> String {
    quote(text, four_digit_escape)
}

/// A Rust string literal, quotes included.
pub(super) fn rust_str(text: &str) -> String {
    quote(text, |c| format!("\\u{{{:x}}}", u32::from(c)))
}

/// Markdown text for one paragraph: line breaks become spaces and every character that
/// could start markup is backslash-escaped, so the text renders exactly as typed.
pub(super) fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if matches!(c, '\n' | '\r') {
            out.push(' ');
        } else if c.is_control() {
            continue;
        } else {
            if c.is_ascii_punctuation() && !matches!(c, ',' | ';' | ':' | '?' | '/' | '\'' | '"') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// HTML text and attribute escaping, braces included.
pub(super) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '{' => out.push_str("&#123;"),
            '}' => out.push_str("&#125;"),
            c => out.push(c),
        }
    }
    out
}

/// One entry of an outline, as `outline_sections` gives it to templates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(super) struct Section {
    /// Position in the outline, from 1.
    pub(super) number: usize,
    /// 1 for plain lines and `#`, 2 for `##`, up to 6.
    pub(super) level: usize,
    pub(super) title: String,
    /// A file-name-safe, unique name: the number, then the title's letters and digits.
    pub(super) slug: String,
}

/// Splits an outline into sections: one per non-blank line, `#` marks setting the level.
pub(super) fn outline_sections(outline: &str) -> Vec<Section> {
    let mut sections = Vec::new();
    for line in outline.lines() {
        let trimmed = line.trim();
        let title = trimmed.trim_start_matches('#').trim();
        if title.is_empty() {
            continue;
        }
        let hashes = trimmed.len() - trimmed.trim_start_matches('#').len();
        let number = sections.len() + 1;
        sections.push(Section {
            number,
            level: hashes.clamp(1, 6),
            title: title.to_owned(),
            slug: format!("{number:02}-{}", slugify(title)),
        });
    }
    sections
}

fn outline_sections_filter(outline: &str) -> Value {
    Value::from_serialize(outline_sections(outline))
}

fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "section".to_owned()
    } else {
        slug.to_owned()
    }
}

/// Wraps `text` in double quotes, escaping quotes, backslashes and the common control
/// characters; `unicode` writes the language's escape for everything else that must not
/// appear raw, including a `{` that would open a template delimiter.
fn quote(text: &str, unicode: impl Fn(char) -> String) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let opens_delimiter = c == '{' && matches!(chars.peek(), Some('{' | '%' | '#'));
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if opens_delimiter || needs_unicode_escape(c) => out.push_str(&unicode(c)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `\uXXXX`, which TOML and YAML share; every escaped character is below U+10000.
fn four_digit_escape(c: char) -> String {
    format!("\\u{:04X}", u32::from(c))
}

/// Characters written as a Unicode escape: control characters, the bidirectional
/// overrides (which rustc rejects in literals), line separators that YAML 1.1 treats as
/// line breaks, and non-characters.
fn needs_unicode_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{feff}'
                | '\u{fffe}'
                | '\u{ffff}'
        )
}

/// HTML autoescaping for `.html`, `.htm` and `.xml` templates; everything else is written
/// as is and must use the language's filter for customer text.
fn auto_escape_for(name: &str) -> AutoEscape {
    match name.rsplit('.').next() {
        Some("html" | "htm" | "xml") => AutoEscape::Html,
        _ => AutoEscape::None,
    }
}

fn format_value(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if state.auto_escape() == AutoEscape::Html && !value.is_safe() && !value.is_undefined() {
        return out.write_str(&escape_html(&value.to_string())).map_err(Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &str =
        "say \"hi\" \\ {{ name }} {% if %} {# c #}\nline\ttab\r</script>\u{202e}\u{7}";

    #[test]
    fn toml_strings_parse_back_to_the_original_text() {
        let document = format!("value = {}", toml_str(NASTY));

        let table: toml::Table = toml::from_str(&document).unwrap();

        assert_eq!(table["value"].as_str(), Some(NASTY));
        assert!(!document.contains("{{") && !document.contains("{%") && !document.contains("{#"));
    }

    #[test]
    fn yaml_strings_parse_back_to_the_original_text() {
        let document = format!("value: {}\n", yaml_str(NASTY));

        let value: serde_yaml::Value = serde_yaml::from_str(&document).unwrap();

        assert_eq!(value["value"].as_str(), Some(NASTY));
        assert!(!document.contains("{{") && !document.contains("{%"));
    }

    #[test]
    fn yaml_strings_keep_words_that_yaml_would_read_as_booleans() {
        let value: serde_yaml::Value =
            serde_yaml::from_str(&format!("v: {}", yaml_str("no"))).unwrap();

        assert_eq!(value["v"].as_str(), Some("no"));
    }

    #[test]
    fn rust_strings_escape_quotes_newlines_braces_and_bidi_overrides() {
        assert_eq!(rust_str("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(rust_str("{{x}}"), r#""\u{7b}{x}}""#);
        assert_eq!(rust_str("\u{202e}"), r#""\u{202e}""#);
        assert_eq!(rust_str("{single}"), r#""{single}""#);
    }

    #[test]
    fn markdown_text_escapes_markup_and_joins_lines() {
        assert_eq!(markdown_text("# *hi* {{x}}\n<b>"), r"\# \*hi\* \{\{x\}\} \<b\>");
        assert_eq!(markdown_text("it's fine, really?"), "it's fine, really?");
    }

    #[test]
    fn html_escaping_covers_markup_quotes_and_braces() {
        assert_eq!(escape_html(r#"</script>"'&{{"#), "&lt;/script&gt;&quot;&#39;&amp;&#123;&#123;");
    }

    #[test]
    fn outline_sections_number_levels_and_slug_each_line() {
        let sections = outline_sections("# Getting started\n\n## Install & run\nFAQ\n###\n");

        let view: Vec<_> = sections
            .iter()
            .map(|s| (s.number, s.level, s.title.as_str(), s.slug.as_str()))
            .collect();
        assert_eq!(
            view,
            [
                (1, 1, "Getting started", "01-getting-started"),
                (2, 2, "Install & run", "02-install-run"),
                (3, 1, "FAQ", "03-faq"),
            ]
        );
    }

    #[test]
    fn outline_titles_without_letters_still_get_a_slug() {
        assert_eq!(outline_sections("¿¡!?")[0].slug, "01-section");
    }
}
