//! The `package` step: a deterministic `<base>.tar.gz` of the workspace under a `<base>/`
//! folder, with a `MANIFEST.sha256` (sha256sum format) inside and a JSON manifest beside.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{count, StepError, Workspace};

/// The checksum file added inside the archive; `sha256sum -c` reads it.
pub const MANIFEST_FILE: &str = "MANIFEST.sha256";

/// Every entry's modification time (2020-01-01T00:00:00Z), so equal inputs give equal bytes.
const FIXED_MTIME: u64 = 1_577_836_800;

/// A finished archive.
#[derive(Clone, Debug, PartialEq)]
pub struct Package {
    /// `<base_name>.tar.gz`.
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
    /// `{"files": [{"path", "size", "sha256"}]}`, paths relative to the `<base_name>/` folder.
    pub manifest: serde_json::Value,
}

/// One workspace file and its checksum.
struct Entry<'a> {
    path: &'a str,
    bytes: &'a [u8],
    sha256: String,
}

/// Packs every workspace file, in path order, then `MANIFEST.sha256`. Packing the same
/// workspace twice gives identical bytes.
pub fn package(
    workspace: &Workspace,
    base_name: &str,
) -> Result<(Package, Vec<String>), StepError> {
    check_base_name(base_name)?;
    if workspace.is_empty() {
        return Err(StepError::Permanent("workspace has no files to package".to_owned()));
    }
    if workspace.contains(MANIFEST_FILE) {
        return Err(StepError::Permanent(format!("workspace already has a {MANIFEST_FILE}")));
    }

    let entries: Vec<Entry<'_>> = workspace
        .files()
        .map(|(path, bytes)| Entry { path, bytes, sha256: sha256_hex(bytes) })
        .collect();
    let bytes = archive(base_name, &entries)
        .map_err(|err| StepError::Permanent(format!("write archive {base_name}.tar.gz: {err}")))?;

    let package = Package {
        file_name: format!("{base_name}.tar.gz"),
        sha256: sha256_hex(&bytes),
        manifest: json_manifest(&entries),
        bytes,
    };
    let log = vec![format!(
        "packed {} into {} ({} bytes, sha256 {})",
        count(entries.len(), "file"),
        package.file_name,
        package.bytes.len(),
        package.sha256
    )];
    Ok((package, log))
}

fn archive(base_name: &str, entries: &[Entry<'_>]) -> std::io::Result<Vec<u8>> {
    let encoder = GzEncoder::new(Vec::new(), Compression::default());
    let mut builder = tar::Builder::new(encoder);
    for entry in entries {
        append(&mut builder, &format!("{base_name}/{}", entry.path), entry.bytes)?;
    }
    let checksums = sha256sum_text(entries);
    append(&mut builder, &format!("{base_name}/{MANIFEST_FILE}"), checksums.as_bytes())?;
    builder.into_inner()?.finish()
}

/// Appends a regular file with fixed owner, mode and time.
fn append(builder: &mut tar::Builder<impl Write>, path: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(FIXED_MTIME);
    builder.append_data(&mut header, path, bytes)
}

/// `<hex>  <path>` lines, the format `sha256sum` writes and checks.
fn sha256sum_text(entries: &[Entry<'_>]) -> String {
    entries.iter().map(|entry| format!("{}  {}\n", entry.sha256, entry.path)).collect()
}

fn json_manifest(entries: &[Entry<'_>]) -> serde_json::Value {
    let files: Vec<_> = entries
        .iter()
        .map(|entry| json!({"path": entry.path, "size": entry.bytes.len(), "sha256": entry.sha256}))
        .collect();
    json!({ "files": files })
}

/// The base name becomes a file and folder name, so it must be one plain segment.
fn check_base_name(base_name: &str) -> Result<(), StepError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let starts_plain = base_name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if starts_plain && base_name.len() <= 100 && base_name.chars().all(allowed) {
        return Ok(());
    }
    Err(StepError::Permanent(format!(
        "invalid package name {base_name:?}: use up to 100 letters, digits, '.', '_' or '-'"
    )))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    fn sample() -> Workspace {
        let mut workspace = Workspace::new();
        workspace.insert("Cargo.toml", "[package]\nname = \"demo\"\n").unwrap();
        workspace.insert("src/lib.rs", "pub fn answer() -> u32 { 42 }\n").unwrap();
        let deep = format!("{}/file.txt", ["nested"; 20].join("/"));
        workspace.insert(&deep, "long paths need a GNU extension\n").unwrap();
        workspace
    }

    /// Path to (mtime, contents) of every entry in a `.tar.gz`.
    fn untar(bytes: &[u8]) -> BTreeMap<String, (u64, Vec<u8>)> {
        let mut archive = tar::Archive::new(GzDecoder::new(bytes));
        let mut files = BTreeMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mtime = entry.header().mtime().unwrap();
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents).unwrap();
            files.insert(path, (mtime, contents));
        }
        files
    }

    #[test]
    fn packaging_twice_gives_identical_bytes() {
        let (first, _) = package(&sample(), "demo-1").unwrap();
        let (second, _) = package(&sample(), "demo-1").unwrap();

        assert_eq!(first.bytes, second.bytes);
        assert_eq!(first.sha256, sha256_hex(&second.bytes));
        assert_eq!(first.file_name, "demo-1.tar.gz");
    }

    #[test]
    fn the_archive_holds_every_file_under_the_base_folder_with_a_fixed_time() {
        let workspace = sample();
        let (package, _) = package(&workspace, "demo").unwrap();

        let files = untar(&package.bytes);

        assert_eq!(files.len(), workspace.len() + 1);
        for (path, bytes) in workspace.files() {
            let (mtime, contents) = &files[&format!("demo/{path}")];
            assert_eq!(contents.as_slice(), bytes);
            assert_eq!(*mtime, FIXED_MTIME);
        }
    }

    #[test]
    fn both_manifests_match_the_archived_contents() {
        let (package, _) = package(&sample(), "demo").unwrap();
        let files = untar(&package.bytes);

        let listed = package.manifest["files"].as_array().unwrap();
        assert_eq!(listed.len(), files.len() - 1);
        for item in listed {
            let (_, contents) = &files[&format!("demo/{}", item["path"].as_str().unwrap())];
            assert_eq!(item["sha256"], sha256_hex(contents));
            assert_eq!(item["size"], contents.len());
        }

        let checksums = String::from_utf8(files["demo/MANIFEST.sha256"].1.clone()).unwrap();
        for line in checksums.lines() {
            let (sum, path) = line.split_once("  ").unwrap();
            assert_eq!(sum, sha256_hex(&files[&format!("demo/{path}")].1));
        }
        assert_eq!(checksums.lines().count(), listed.len());
    }

    #[test]
    fn base_names_that_are_not_one_plain_segment_are_refused() {
        for name in ["", "../up", "a/b", ".hidden", "-flag", "sp ace"] {
            assert!(package(&sample(), name).is_err(), "{name:?} was accepted");
        }
    }

    #[test]
    fn a_workspace_with_its_own_manifest_file_is_refused() {
        let mut workspace = sample();
        workspace.insert(MANIFEST_FILE, "x").unwrap();

        assert!(package(&workspace, "demo").is_err());
    }
}
