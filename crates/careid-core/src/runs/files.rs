//! A plan and its expected failures read from their files, the one way both front ends do it:
//! the expected-failures file is the one the front end names, else the plan's own
//! (`expected_failures`, a path from the plan's folder), else none.

use std::path::{Path, PathBuf};

use super::expected_failures::ExpectedFailures;
use super::plan::{Plan, PlanError};

/// A plan read with its expected failures.
#[derive(Debug, Clone)]
pub struct PlanFiles {
    pub plan: Plan,
    pub expected_failures: ExpectedFailures,
    /// Where the expected failures came from, if anywhere.
    pub expected_failures_file: Option<PathBuf>,
}

/// Why a plan could not be read: always the user's to fix.
#[derive(Debug, thiserror::Error)]
pub enum PlanReadError {
    #[error("cannot read the {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] PlanError),
}

impl PlanReadError {
    pub fn code(&self) -> &'static str {
        match self {
            PlanReadError::Read { .. } => "run_plan_unreadable",
            // One code for a plan or expected-failures file that does not read as one.
            PlanReadError::Invalid(_) => "run_plan_invalid",
        }
    }
}

/// Reads the plan at `path`, and `expected_failures` when given, else the plan's own.
pub fn read_plan(
    path: &Path,
    expected_failures: Option<&Path>,
) -> Result<PlanFiles, PlanReadError> {
    let plan = Plan::parse(&read(path, "plan")?, &path.display().to_string())?;
    let file = match expected_failures {
        Some(file) => Some(file.to_owned()),
        None => plan.expected_failures.as_ref().map(|written| {
            path.parent()
                .unwrap_or_else(|| Path::new("."))
                .join(written)
        }),
    };
    let expected_failures = match &file {
        Some(file) => ExpectedFailures::parse(
            &read(file, "expected-failures file")?,
            &file.display().to_string(),
        )?,
        None => ExpectedFailures::default(),
    };
    Ok(PlanFiles {
        plan,
        expected_failures,
        expected_failures_file: file,
    })
}

fn read(path: &Path, what: &'static str) -> Result<String, PlanReadError> {
    std::fs::read_to_string(path).map_err(|source| PlanReadError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "name = \"p\"\nprofile = \"mock\"\nexpected_failures = \"known.toml\"\n\
        [matrix]\nauthenticator = [\"smartcard\"]\n";
    const KNOWN: &str = "[[expected_failure]]\ncase = \"smartcard*\"\ncheck = \"amr\"\n\
        comment = \"why\"\n";

    #[test]
    fn the_plans_own_expected_failures_are_read_from_its_folder_unless_others_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.toml");
        std::fs::write(&plan, PLAN).unwrap();
        let missing = read_plan(&plan, None).unwrap_err();
        assert_eq!(missing.code(), "run_plan_unreadable", "{missing}");
        assert!(missing.to_string().contains("known.toml"), "{missing}");

        std::fs::write(dir.path().join("known.toml"), KNOWN).unwrap();
        let files = read_plan(&plan, None).unwrap();
        assert_eq!(files.expected_failures.entries.len(), 1);
        assert_eq!(
            files.expected_failures_file.as_deref(),
            Some(dir.path().join("known.toml").as_path())
        );

        let other = dir.path().join("other.toml");
        std::fs::write(&other, "").unwrap();
        let files = read_plan(&plan, Some(&other)).unwrap();
        assert!(files.expected_failures.entries.is_empty());
        assert_eq!(
            files.expected_failures_file.as_deref(),
            Some(other.as_path())
        );
    }

    #[test]
    fn a_broken_expected_failures_file_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.toml");
        std::fs::write(&plan, PLAN).unwrap();
        std::fs::write(
            dir.path().join("known.toml"),
            "[[expected_failure]]\ncase = 1\n",
        )
        .unwrap();
        let error = read_plan(&plan, None).unwrap_err();
        assert_eq!(error.code(), "run_plan_invalid");
        assert!(error.to_string().contains("known.toml:2"), "{error}");
    }
}
