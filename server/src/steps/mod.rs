//! The step handlers a run's jobs execute: `generate` renders a run type into a
//! workspace, `verify` checks the files parse and hold no leftover placeholders, and
//! `package` makes a deterministic `.tar.gz` with a checksum manifest.
//!
//! Handlers are pure functions over an in-memory `Workspace`: whoever runs them stores the
//! files between steps, so running a step twice on the same input gives the same output.

mod generate;
mod package;
mod verify;
mod workspace;

use std::fmt;
use std::str::FromStr;

pub use generate::generate;
pub use package::{package, Package, MANIFEST_FILE};
pub use verify::verify;
pub use workspace::{Workspace, WorkspaceError};

/// The known step handlers, named as in `runtype.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepKind {
    Generate,
    Verify,
    Package,
}

/// A step name no handler answers to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown step `{0}` (known: generate, verify, package)")]
pub struct UnknownStep(pub String);

/// Why a step failed. A permanent failure fails the job at once; a transient one may be
/// retried while attempts remain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("{0}")]
    Permanent(String),
    #[error("{0} (may succeed if retried)")]
    Transient(String),
}

impl StepKind {
    pub const ALL: [StepKind; 3] = [StepKind::Generate, StepKind::Verify, StepKind::Package];

    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Generate => "generate",
            StepKind::Verify => "verify",
            StepKind::Package => "package",
        }
    }
}

impl FromStr for StepKind {
    type Err = UnknownStep;

    fn from_str(name: &str) -> Result<StepKind, UnknownStep> {
        StepKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownStep(name.to_owned()))
    }
}

impl fmt::Display for StepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// "1 file", "3 files": log lines read better with the right number.
fn count(number: usize, noun: &str) -> String {
    match number {
        1 => format!("1 {noun}"),
        _ => format!("{number} {noun}s"),
    }
}

impl StepError {
    pub fn is_transient(&self) -> bool {
        matches!(self, StepError::Transient(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_kinds_parse_from_their_names_and_nothing_else() {
        for kind in StepKind::ALL {
            assert_eq!(kind.as_str().parse::<StepKind>(), Ok(kind));
        }
        assert_eq!("deploy".parse::<StepKind>(), Err(UnknownStep("deploy".to_owned())));
    }
}
