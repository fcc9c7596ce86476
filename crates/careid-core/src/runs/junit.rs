//! A run as JUnit XML for CI (quick-junit, as nextest writes it): one test suite for the plan,
//! a test case per case and one per expected failure (failing when it was never used). A failed
//! case is a failure naming its aspects; one that could not run is an error; a skipped one is
//! skipped; warnings, reviews and expected failures pass, said in their output.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::expect::Finding;
use super::report::{CaseResult, CaseStatus, RunReport};

impl RunReport {
    /// The report as JUnit XML.
    pub fn to_junit(&self) -> String {
        let mut report = Report::new(format!("careid run: {}", self.plan.name));
        let mut suite = TestSuite::new(self.plan.name.as_str());
        suite.add_properties([
            Property::new("careid.version", self.careid_version.as_str()),
            Property::new("careid.plan", self.plan.name.as_str()),
            Property::new("careid.profile", self.plan.profile.as_str()),
            Property::new("careid.run", self.id.as_str()),
            Property::new("careid.label", self.label.as_str()),
            Property::new(
                "careid.outcome",
                format!("{:?}", self.outcome).to_lowercase(),
            ),
        ]);
        for case in &self.cases {
            suite.add_test_case(test_case(&self.plan.name, case));
        }
        for entry in &self.expected_failures {
            let name = format!(
                "expected failure: {} {}",
                entry.entry.case, entry.entry.check
            );
            let status = if entry.used_by.is_empty() {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(format!(
                        "never used: no case of this run checked it ({})",
                        entry.entry.written_at
                    ))
                    .set_type("careid.expected_failure_unused");
                status
            } else {
                TestCaseStatus::success()
            };
            let mut test = TestCase::new(name, status);
            test.set_classname(format!("{}.expected_failures", self.plan.name))
                .set_system_out(format!(
                    "{}\nused by: {}",
                    entry.entry.comment,
                    entry.used_by_text()
                ));
            suite.add_test_case(test);
        }
        suite.set_time(Duration::from_secs(
            self.finished_at.unix.saturating_sub(self.started_at.unix),
        ));
        report.add_test_suite(suite);
        // Every value is text the crate escapes; writing to a String cannot fail.
        report.to_string().unwrap_or_default()
    }
}

fn test_case(plan: &str, case: &CaseResult) -> TestCase {
    let status = match case.status {
        CaseStatus::Failed => {
            let failed: Vec<String> = case
                .checks
                .iter()
                .filter(|check| check.fails_case())
                .map(|check| {
                    if check.expected_failure.is_some() {
                        format!("{} (expected to fail, but did not)", check.aspect)
                    } else {
                        format!(
                            "{}: expected {}, got {}",
                            check.aspect, check.expected, check.actual
                        )
                    }
                })
                .collect();
            let (kind, message) = match &case.note {
                Some(note) => (NonSuccessKind::Error, note.clone()),
                None => (NonSuccessKind::Failure, failed.join("; ")),
            };
            let mut status = TestCaseStatus::non_success(kind);
            status.set_message(message).set_type("careid.case_failed");
            status
        }
        CaseStatus::Skipped => {
            let mut status = TestCaseStatus::skipped();
            if let Some(note) = &case.note {
                status.set_message(note.as_str());
            }
            status
        }
        CaseStatus::Passed | CaseStatus::Warning | CaseStatus::Review => TestCaseStatus::success(),
    };
    let mut test = TestCase::new(case.id.as_str(), status);
    test.set_classname(plan)
        .set_time(Duration::from_millis(case.millis))
        .add_property(Property::new("careid.status", case.status.word()));
    if let Some(attempt) = &case.attempt {
        test.add_property(Property::new("careid.attempt", attempt.as_str()));
    }
    let mut lines = vec![format!("{} {}", case.status.word(), case.id)];
    for check in &case.checks {
        let mark = match (&check.expected_failure, check.finding) {
            (Some(mark), _) if mark.happened => format!("EXPECTED FAILURE ({})", mark.comment),
            (Some(_), _) => "FAILED (expected to fail, but did not)".to_owned(),
            (None, Finding::Passed) => "passed".to_owned(),
            (None, Finding::Warning) => "WARNING".to_owned(),
            (None, Finding::Failed) => "FAILED".to_owned(),
            (None, Finding::NotApplicable) => "not applicable".to_owned(),
            (None, Finding::Review) => "REVIEW".to_owned(),
        };
        lines.push(format!(
            "{}: {mark}; expected {}; got {}{}",
            check.aspect,
            check.expected,
            check.actual,
            check
                .detail
                .as_ref()
                .map(|detail| format!(" ({detail})"))
                .unwrap_or_default()
        ));
    }
    test.set_system_out(lines.join("\n"));
    test
}
