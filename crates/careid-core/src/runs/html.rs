//! A run as one self-contained HTML page for people: the outcome and why, a table of cases, then
//! each case's instruction and checks. No script, no outside file, every value escaped (the
//! history export's escaping and style).

use std::fmt::Write as _;

use super::expect::Finding;
use super::report::{CaseResult, CaseStatus, RunOutcome, RunReport};
use crate::history::export::{escape, STYLE};

const RUN_STYLE: &str = ".status{font-weight:bold;white-space:nowrap}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:bold}dd{margin:0;\
overflow-wrap:anywhere}.PASSED{color:#007f3b}.WARNING{color:#8a5a00}\
.FAILED{color:#d5281b}.SKIPPED{color:#4c6272}.REVIEW{color:#005eb8}.expected{color:#4c6272;\
font-style:italic}";

impl RunReport {
    /// The report for people.
    pub fn to_html(&self) -> String {
        let mut page = String::new();
        let title = format!("careid run: {}", self.plan.name);
        let outcome = match self.outcome {
            RunOutcome::Passed => ("PASSED", "The run passed"),
            RunOutcome::Failed => ("FAILED", "The run failed"),
            RunOutcome::Cancelled => ("FAILED", "The run was cancelled"),
        };
        let _ = write!(
            page,
            "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <title>{title}</title>\n<style>{STYLE}{RUN_STYLE}</style>\n</head>\n<body>\n<main>\n\
             <h1>{title}</h1>\n<p class=\"status {}\">{}</p>\n<p>{}</p>\n",
            outcome.0,
            outcome.1,
            escape(&self.summary()),
            title = escape(&title),
        );
        let mut facts = vec![
            ("Plan", self.plan.name.clone()),
            ("Label", self.label.clone()),
            ("Profile", self.plan.profile.clone()),
            ("Run", self.id.to_string()),
            ("careid", self.careid_version.clone()),
            ("Started", self.started_at.text()),
            ("Finished", self.finished_at.text()),
        ];
        if let Some(description) = &self.plan.description {
            facts.insert(1, ("Description", description.clone()));
        }
        page.push_str("<section>\n<table>\n<caption><h2>Run</h2></caption>\n<tbody>\n");
        for (name, value) in facts {
            let _ = writeln!(
                page,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                escape(name),
                escape(&value)
            );
        }
        page.push_str("</tbody>\n</table>\n");
        if !self.problems.is_empty() {
            page.push_str("<h2>Why the run failed</h2>\n<ul>\n");
            for problem in &self.problems {
                let _ = writeln!(page, "<li>{}</li>", escape(problem));
            }
            page.push_str("</ul>\n");
        }
        page.push_str("</section>\n");

        page.push_str(
            "<section>\n<table>\n<caption><h2>Cases</h2></caption>\n<thead><tr>\
             <th scope=\"col\">Case</th><th scope=\"col\">Result</th><th scope=\"col\">Verdict</th>\
             <th scope=\"col\">Attempt</th></tr></thead>\n<tbody>\n",
        );
        for case in &self.cases {
            let _ = writeln!(
                page,
                "<tr><td><a href=\"#{}\">{}</a></td><td class=\"status {}\">{}{}</td><td>{}</td><td>{}</td></tr>",
                anchor(case),
                escape(case.id.as_str()),
                case.status.word(),
                case.status.word(),
                if case.expected_failures().next().is_some() {
                    " (expected failure)"
                } else {
                    ""
                },
                escape(case.verdict.map_or("—", |verdict| verdict.code())),
                escape(case.attempt.as_ref().map_or("—", |id| id.as_str())),
            );
        }
        page.push_str("</tbody>\n</table>\n</section>\n");

        for case in &self.cases {
            case_section(&mut page, case);
        }
        if !self.expected_failures.is_empty() {
            page.push_str(
                "<section>\n<table>\n<caption><h2>Expected failures</h2></caption>\n<thead><tr>\
                 <th scope=\"col\">Case</th><th scope=\"col\">Check</th><th scope=\"col\">Comment</th>\
                 <th scope=\"col\">Used by</th></tr></thead>\n<tbody>\n",
            );
            for entry in &self.expected_failures {
                let used = entry.used_by_text();
                let _ = writeln!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
                    escape(entry.entry.case.as_str()),
                    escape(entry.entry.check.code()),
                    escape(&entry.entry.comment),
                    escape(&entry.entry.written_at),
                    escape(&used),
                );
            }
            page.push_str("</tbody>\n</table>\n</section>\n");
        }
        page.push_str("</main>\n</body>\n</html>\n");
        page
    }
}

/// The case's element id: its id made of id-safe characters (ids are letters, digits, `_`, `+`
/// and `-` already).
fn anchor(case: &CaseResult) -> String {
    let safe: String = case
        .id
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("case-{safe}")
}

fn case_section(page: &mut String, case: &CaseResult) {
    let _ = write!(
        page,
        "<section id=\"{}\">\n<h2>{} <span class=\"status {}\">{}</span></h2>\n<dl>\n",
        anchor(case),
        escape(case.id.as_str()),
        case.status.word(),
        case.status.word(),
    );
    let asked = &case.asked;
    let mut facts = vec![
        ("Authenticator", case.authenticator.words().to_owned()),
        (
            "acr_values",
            asked.acr_values.clone().unwrap_or_else(|| "—".to_owned()),
        ),
        (
            "prompt",
            asked.prompt.clone().unwrap_or_else(|| "—".to_owned()),
        ),
        (
            "max_age",
            asked
                .max_age
                .map_or_else(|| "—".to_owned(), |age| age.to_string()),
        ),
        (
            "Role selection",
            asked.role_selection.map_or_else(
                || "the profile's".to_owned(),
                |selection| format!("{selection:?}").to_lowercase(),
            ),
        ),
    ];
    facts.push((
        "Instruction",
        match (&case.instruction, case.unattended) {
            (Some(instruction), _) => instruction.clone(),
            (None, true) => "none: signed in without a person (the built-in mock)".to_owned(),
            (None, false) => "—".to_owned(),
        },
    ));
    if let Some(note) = &case.note {
        facts.push(("Note", note.clone()));
    }
    if let Some(attempt) = &case.attempt {
        facts.push((
            "Attempt",
            format!("{attempt} (careid history show {attempt})"),
        ));
    }
    for (name, value) in facts {
        let _ = writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(&value));
    }
    page.push_str("</dl>\n");
    if !case.checks.is_empty() {
        page.push_str(
            "<table>\n<caption><h3>Checks</h3></caption>\n<thead><tr><th scope=\"col\">Check</th>\
             <th scope=\"col\">Result</th><th scope=\"col\">Expected</th><th scope=\"col\">Got</th>\
             <th scope=\"col\">Detail</th></tr></thead>\n<tbody>\n",
        );
        for check in &case.checks {
            let (class, word) = match (&check.expected_failure, check.finding) {
                (Some(mark), _) if mark.happened => ("expected", "expected failure".to_owned()),
                (Some(_), _) => ("FAILED", "FAILED: expected to fail".to_owned()),
                (None, Finding::Passed) => ("PASSED", "passed".to_owned()),
                (None, Finding::Warning) => ("WARNING", "WARNING".to_owned()),
                (None, Finding::Failed) => ("FAILED", "FAILED".to_owned()),
                (None, Finding::NotApplicable) => ("SKIPPED", "not applicable".to_owned()),
                (None, Finding::Review) => ("REVIEW", "REVIEW".to_owned()),
            };
            let detail = match &check.expected_failure {
                Some(mark) => format!(
                    "{}{}",
                    check.detail.clone().map(|d| d + "; ").unwrap_or_default(),
                    mark.comment
                ),
                None => check.detail.clone().unwrap_or_default(),
            };
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td class=\"status {class}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(check.aspect.code()),
                escape(&word),
                escape(&check.expected),
                escape(&check.actual),
                escape(&detail),
            );
        }
        page.push_str("</tbody>\n</table>\n");
    }
    if case.status == CaseStatus::Review {
        page.push_str(
            "<p class=\"REVIEW\">A person must still confirm the steps marked REVIEW.</p>\n",
        );
    }
    page.push_str("</section>\n");
}
