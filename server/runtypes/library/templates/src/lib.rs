#![doc = {{ (description or "The " ~ crate_name ~ " crate.") | rust_str }}]
//!
//! # Example
//!
//! ```
//! assert_eq!({{ crate_name }}::greeting("Ada"), "Hello, Ada!");
//! ```
#![warn(missing_docs)]

/// Returns a greeting for `name`.
pub fn greeting(name: &str) -> String {
    format!("Hello, {name}!")
}

#[cfg(test)]
mod tests {
    use super::greeting;

    #[test]
    fn greeting_names_the_person() {
        assert_eq!(greeting("Grace"), "Hello, Grace!");
    }
}
