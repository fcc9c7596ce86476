//! The expected-failures file: known deviations, each a case (or pattern), the aspect expected
//! to fail and a comment saying why, turned into passes. An entry whose failure does not happen,
//! or that no case of the run uses, fails the run: known deviations must not outlive their
//! cause unnoticed.
//!
//! ```toml
//! [[expected_failure]]
//! case = "passkey-*"
//! check = "amr"
//! comment = "INT sends FIDO2 for passkeys too (ticket 123)"
//! ```

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::expect::{Aspect, CaseCheck, ExpectedFailureMark, Finding};
use super::plan::{CaseId, CasePattern, PlanError};

/// One known deviation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedFailure {
    pub case: CasePattern,
    /// The aspect that fails (`outcome`, `amr`, `review` ...).
    pub check: Aspect,
    pub comment: String,
    /// Where it is written, for reports: `file:line`.
    pub written_at: String,
}

/// The file's entries, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpectedFailures {
    pub entries: Vec<ExpectedFailure>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    expected_failure: Vec<Spanned<EntryFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    case: Spanned<String>,
    check: Aspect,
    comment: Spanned<String>,
}

impl ExpectedFailures {
    /// Reads the file's text; `file` names it in errors, which carry the line.
    pub fn parse(text: &str, file: &str) -> Result<Self, PlanError> {
        let located = super::plan::Located::new(file, text);
        let parsed: File = toml::from_str(text).map_err(|error| located.toml(&error))?;
        let mut entries = Vec::new();
        for entry in parsed.expected_failure {
            let at = located.position(entry.span().start);
            let entry = entry.into_inner();
            let case = entry.case.get_ref().trim();
            if case.is_empty() {
                return Err(located.at(
                    &entry.case,
                    "case names no case (an id, or a pattern with *)",
                ));
            }
            if entry.comment.get_ref().trim().is_empty() {
                return Err(located.at(
                    &entry.comment,
                    "each expected failure needs a comment saying why it is expected",
                ));
            }
            entries.push(ExpectedFailure {
                case: CasePattern::new(case),
                check: entry.check,
                comment: entry.comment.into_inner().trim().to_owned(),
                written_at: format!("{file}:{}", at.0),
            });
        }
        Ok(Self { entries })
    }

    /// Marks the checks of case `id` that entries name; returns the indexes of the entries
    /// that applied. A failed (or warning) check an entry names becomes an expected failure;
    /// a check that passed where an entry said it would fail is marked as not happened.
    pub fn apply(&self, id: &CaseId, checks: &mut [CaseCheck]) -> Vec<usize> {
        let mut used = Vec::new();
        for (index, entry) in self.entries.iter().enumerate() {
            if !entry.case.matches(id) {
                continue;
            }
            // A check not applicable, or a step nobody has reviewed yet, has neither failed nor
            // passed: the entry is not exercised by it.
            let named = checks.iter_mut().filter(|check| {
                check.aspect == entry.check
                    && check.expected_failure.is_none()
                    && !matches!(check.finding, Finding::NotApplicable | Finding::Review)
            });
            let mut exercised = false;
            for check in named {
                exercised = true;
                check.expected_failure = Some(ExpectedFailureMark {
                    comment: entry.comment.clone(),
                    happened: matches!(check.finding, Finding::Failed | Finding::Warning),
                });
            }
            if exercised {
                used.push(index);
            }
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_in_order_with_where_they_are_written() {
        let failures = ExpectedFailures::parse(
            "# known deviations\n[[expected_failure]]\ncase = \"passkey-*\"\ncheck = \"amr\"\n\
             comment = \"FIDO2 for passkeys too\"\n\n[[expected_failure]]\ncase = \"x\"\n\
             check = \"outcome\"\ncomment = \"refused at INT\"\n",
            "known.toml",
        )
        .unwrap();
        assert_eq!(failures.entries.len(), 2);
        assert_eq!(failures.entries[0].check, Aspect::Amr);
        assert_eq!(failures.entries[0].written_at, "known.toml:2");
        assert_eq!(failures.entries[1].case.as_str(), "x");
        assert!(ExpectedFailures::parse("", "empty.toml")
            .unwrap()
            .entries
            .is_empty());
    }

    #[test]
    fn an_entry_without_a_comment_or_with_an_unknown_check_or_key_is_refused_at_its_line() {
        for (text, line, words) in [
            ("[[expected_failure]]\ncase = \"a\"\ncheck = \"amr\"\ncomment = \"  \"\n", 4, "needs a comment"),
            ("[[expected_failure]]\ncase = \"a\"\ncheck = \"amr\"\n", 1, "comment"),
            ("[[expected_failure]]\ncase = \"a\"\ncheck = \"colour\"\ncomment = \"c\"\n", 3, "colour"),
            ("[[expected_failure]]\ncase = \"\"\ncheck = \"amr\"\ncomment = \"c\"\n", 2, "names no case"),
            ("[[expected_failure]]\ncase = \"a\"\ncheck = \"amr\"\ncomment = \"c\"\nticket = 1\n", 5, "unknown field `ticket`"),
            ("[[expected_failures]]\n", 1, "unknown field `expected_failures`"),
        ] {
            let error = ExpectedFailures::parse(text, "known.toml").expect_err(text);
            assert_eq!(error.line, line, "{error}");
            assert!(error.message.contains(words), "{error}");
        }
    }

    fn failed(aspect: Aspect, finding: Finding) -> CaseCheck {
        CaseCheck {
            aspect,
            finding,
            expected: "x".to_owned(),
            actual: "y".to_owned(),
            detail: None,
            expected_failure: None,
        }
    }

    #[test]
    fn a_failure_that_happens_is_covered_and_one_that_does_not_fails_its_case() {
        let failures = ExpectedFailures::parse(
            "[[expected_failure]]\ncase = \"a-*\"\ncheck = \"amr\"\ncomment = \"known\"\n\
             [[expected_failure]]\ncase = \"a-1\"\ncheck = \"acr\"\ncomment = \"gone\"\n\
             [[expected_failure]]\ncase = \"b\"\ncheck = \"amr\"\ncomment = \"unused\"\n",
            "known.toml",
        )
        .unwrap();
        let mut checks = vec![
            failed(Aspect::Amr, Finding::Failed),
            failed(Aspect::Acr, Finding::Passed),
            failed(Aspect::Outcome, Finding::Passed),
        ];
        let id = CaseId::from_parts(&["a", "1"]);
        assert_eq!(failures.apply(&id, &mut checks), [0, 1]);
        // A check with nothing to hold, or a step still for review, uses no entry.
        let mut unexercised = vec![
            failed(Aspect::Amr, Finding::NotApplicable),
            failed(Aspect::Acr, Finding::Review),
        ];
        assert!(failures.apply(&id, &mut unexercised).is_empty());
        assert!(unexercised
            .iter()
            .all(|check| check.expected_failure.is_none()));
        assert!(!checks[0].fails_case(), "an expected failure");
        assert_eq!(
            checks[0]
                .expected_failure
                .as_ref()
                .map(|mark| mark.comment.as_str()),
            Some("known")
        );
        assert!(checks[1].fails_case(), "expected to fail, and it passed");
        assert!(!checks[2].fails_case());
    }
}
