//! The files a run produces, held in memory between steps as relative path to bytes.
//! Paths are checked on the way in, so no step can write outside the output root.

use std::collections::BTreeMap;

/// Files by relative, `/`-separated path, in path order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workspace {
    files: BTreeMap<String, Vec<u8>>,
}

/// A path a workspace refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid workspace path {path:?}: {reason}")]
pub struct WorkspaceError {
    pub path: String,
    pub reason: &'static str,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Every file in path order.
    pub fn files(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(path, bytes)| (path.as_str(), bytes.as_slice()))
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// Adds or replaces a file. Refuses absolute paths, `.` and `..` segments, empty
    /// segments, backslashes and control characters.
    pub fn insert(&mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Result<(), WorkspaceError> {
        check_path(path).map_err(|reason| WorkspaceError { path: path.to_owned(), reason })?;
        self.files.insert(path.to_owned(), bytes.into());
        Ok(())
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The sum of all file sizes.
    pub fn total_bytes(&self) -> usize {
        self.files.values().map(Vec::len).sum()
    }
}

fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("path is empty");
    }
    if path.starts_with('/') {
        return Err("path is absolute");
    }
    if path.contains('\\') || path.chars().any(char::is_control) {
        return Err("path has a backslash or control character");
    }
    if path.split('/').any(|segment| matches!(segment, "" | "." | "..")) {
        return Err("path has an empty, `.` or `..` segment");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_stored_and_read_back() {
        let mut workspace = Workspace::new();

        workspace.insert("src/lib.rs", "pub fn f() {}").unwrap();
        workspace.insert(".github/workflows/ci.yml", b"on: push\n".to_vec()).unwrap();

        assert_eq!(workspace.get("src/lib.rs"), Some(&b"pub fn f() {}"[..]));
        let paths: Vec<&str> = workspace.files().map(|(path, _)| path).collect();
        assert_eq!(paths, [".github/workflows/ci.yml", "src/lib.rs"]);
        assert_eq!(workspace.total_bytes(), 22);
    }

    #[test]
    fn paths_that_could_escape_the_root_are_refused() {
        let mut workspace = Workspace::new();

        for path in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "a\nb", "a/"] {
            assert!(workspace.insert(path, "x").is_err(), "{path:?} was accepted");
        }
        assert!(workspace.is_empty());
    }
}
