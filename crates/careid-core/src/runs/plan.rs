//! A run's plan: a TOML file naming a profile and a matrix (authenticator × `acr_values` ×
//! `prompt` × `max_age` × role selection), with expectations set for every case (`[expect]`) or
//! for the cases a pattern matches (`[[case]]`). Read whole and checked once: every mistake is
//! an error naming the file, line and field; unknown keys are refused. The format is
//! documented, with examples, in `docs/runs.md`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::authenticators::Authenticator;
use crate::history::Verdict;
use crate::profile::RoleSelection;
use crate::values::AcrValues;

/// The most cases one plan may expand to: a matrix that large is a typo, not a run.
pub const MAX_CASES: usize = 1000;
/// How long each case waits for the browser unless the plan says otherwise.
pub const DEFAULT_CASE_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest wait a plan may give a case.
const MAX_CASE_TIMEOUT_SECONDS: u64 = 3600;
/// The `prompt` values of OpenID Connect Core §3.1.2.1.
const PROMPT_VALUES: [&str; 4] = ["none", "login", "consent", "select_account"];

/// A plan that could not be used: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PlanError {
    /// The file as the user named it.
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        "run_plan_invalid"
    }
}

/// A case's id: the matrix's values joined, such as `security_key-AAL3_ANY-login-300`. The same
/// plan always gives the same ids, so expected failures and reports can name cases.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(String);

impl CaseId {
    /// The id of the matrix values `parts`, in the axes' order.
    pub(crate) fn from_parts(parts: &[&str]) -> Self {
        Self(parts.join("-"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A case id, or a pattern where `*` stands for any run of characters (`security_key-*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CasePattern(String);

impl CasePattern {
    pub fn new(pattern: impl Into<String>) -> Self {
        Self(pattern.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `id` is this pattern, `*` matching any run of characters.
    pub fn matches(&self, id: &CaseId) -> bool {
        let mut parts = self.0.split('*');
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = id.as_str().strip_prefix(first) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        let Some((last, middle)) = parts.split_last() else {
            return rest.is_empty();
        };
        for part in middle {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

impl std::fmt::Display for CasePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// For a plan on the built-in mock: the test user it signs in without a page, with each case's
/// authenticator (the mock's auto-login). Without it, the mock shows its sign-in pages and a
/// person (or a browser with a virtual authenticator) goes through them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MockSignIn {
    pub user: String,
    /// The role CIS2's picker chooses (`selectedrole`); the user's first when absent.
    pub role: Option<String>,
}

/// What a plan sets about a case's outcome, beside what careid works out from the case
/// (`Expectation::for_case`). Each field left out keeps careid's rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExpectationOverrides {
    /// The attempt's verdict (`signed_in`, `no_roles`, `refused`, `provider_error`, ...).
    pub outcome: Option<Verdict>,
    /// careid's error code (`careid history` shows it).
    pub error: Option<String>,
    /// The provider's OAuth error (`access_denied`).
    pub provider_error: Option<String>,
    pub acr: Option<String>,
    pub authentication_assurance_level: Option<u8>,
    pub id_assurance_level: Option<u8>,
    pub amr: Option<Vec<String>>,
    pub auth_time_moved: Option<bool>,
    /// Whether CIS2's picker chose a role (`selected_roleid` in the ID token).
    pub selected_role: Option<bool>,
}

/// One sign-in of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    pub id: CaseId,
    pub authenticator: Authenticator,
    /// `None`: the profile's own.
    pub acr_values: Option<AcrValues>,
    pub prompt: Option<String>,
    pub max_age: Option<u32>,
    pub role_selection: Option<RoleSelection>,
    pub overrides: ExpectationOverrides,
    /// Steps a person must confirm, beside the authenticator's own.
    pub review: Vec<String>,
    /// Said to the tester instead of the authenticator's instruction.
    pub instruction: Option<String>,
    /// Why the case is not run, if it is not.
    pub skip: Option<String>,
}

/// A checked plan, its matrix expanded into cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    pub profile: String,
    /// How long each case waits for the browser.
    #[serde(serialize_with = "seconds")]
    pub timeout: Duration,
    pub scopes: Option<Vec<String>>,
    pub login_hint: Option<String>,
    pub mock: Option<MockSignIn>,
    /// The plan's own expected-failures file, as written: a path from the plan's folder
    /// ([`super::read_plan`] reads it).
    pub expected_failures: Option<String>,
    pub cases: Vec<Case>,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_secs())
}

// The file as written. Every table refuses keys it does not know.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    profile: Spanned<String>,
    #[serde(default)]
    timeout: Option<Spanned<u64>>,
    #[serde(default)]
    scopes: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    login_hint: Option<String>,
    #[serde(default)]
    mock: Option<MockFile>,
    #[serde(default)]
    expected_failures: Option<Spanned<String>>,
    matrix: MatrixFile,
    #[serde(default)]
    expect: Option<Spanned<OverridesFile>>,
    #[serde(default, rename = "case")]
    cases: Vec<Spanned<OverridesFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MockFile {
    user: Spanned<String>,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixFile {
    authenticator: Spanned<Vec<Authenticator>>,
    #[serde(default)]
    acr_values: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    prompt: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    max_age: Option<Spanned<Vec<u32>>>,
    #[serde(default)]
    role_selection: Option<Spanned<Vec<RoleSelection>>>,
}

/// `[expect]` (no `match`) and each `[[case]]` (with one).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OverridesFile {
    #[serde(default, rename = "match")]
    pattern: Option<Spanned<String>>,
    #[serde(default)]
    outcome: Option<Verdict>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    provider_error: Option<String>,
    #[serde(default)]
    acr: Option<String>,
    #[serde(default)]
    authentication_assurance_level: Option<Spanned<u8>>,
    #[serde(default)]
    id_assurance_level: Option<Spanned<u8>>,
    #[serde(default)]
    amr: Option<Vec<String>>,
    #[serde(default)]
    auth_time_moved: Option<bool>,
    #[serde(default)]
    selected_role: Option<bool>,
    #[serde(default)]
    review: Option<Vec<String>>,
    #[serde(default)]
    instruction: Option<String>,
    #[serde(default)]
    skip: Option<String>,
}

/// Turns byte offsets into the file's line and column, for errors.
pub(crate) struct Located<'a> {
    file: &'a str,
    text: &'a str,
}

impl<'a> Located<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Self { file, text }
    }

    /// The line and column (from 1) of byte `at`.
    pub(crate) fn position(&self, at: usize) -> (usize, usize) {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map_or(before.chars().count(), |newline| {
                before[newline + 1..].chars().count()
            })
            + 1;
        (line, column)
    }

    pub(crate) fn error(&self, at: usize, message: impl Into<String>) -> PlanError {
        let (line, column) = self.position(at);
        PlanError {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    pub(crate) fn at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> PlanError {
        self.error(spanned.span().start, message)
    }

    /// A TOML or type error, with the field it is about when the message does not name it.
    pub(crate) fn toml(&self, error: &toml::de::Error) -> PlanError {
        let at = error.span().map_or(0, |span| span.start);
        let message = error.message().trim_end_matches('\n');
        let message = match self.field_at(at) {
            Some(field)
                if !message.contains(&format!(
                    "`{}`",
                    field.rsplit('.').next().unwrap_or_default()
                )) =>
            {
                format!("{field}: {message}")
            }
            _ => message.to_owned(),
        };
        self.error(at, message)
    }

    /// The dotted name of the key whose value is at `at` (`matrix.max_age`), read from the
    /// text: the nearest `key =` at or above it, under the nearest `[table]` above that.
    fn field_at(&self, at: usize) -> Option<String> {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        let line_end = self.text[before.len()..]
            .find('\n')
            .map_or(self.text.len(), |end| before.len() + end);
        let mut lines = self.text[..line_end].lines().rev();
        let key = lines.by_ref().find_map(|line| {
            let line = line.trim();
            if line.starts_with('[') {
                return Some(None);
            }
            let (key, _) = line.split_once('=')?;
            let key = key.trim();
            let plain = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            Some(plain.then(|| key.to_owned()))
        })??;
        let table = lines.find_map(|line| {
            let line = line.trim();
            line.starts_with('[').then(|| {
                line.trim_matches(|c| c == '[' || c == ']')
                    .trim()
                    .to_owned()
            })
        });
        Some(match table {
            Some(table) => format!("{table}.{key}"),
            None => key,
        })
    }
}

impl Plan {
    /// Reads a plan from its text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Plan, PlanError> {
        let located = Located::new(file, text);
        let plan: PlanFile = toml::from_str(text).map_err(|error| located.toml(&error))?;
        Self::check(plan, &located)
    }

    fn check(file: PlanFile, located: &Located<'_>) -> Result<Plan, PlanError> {
        let name = file.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(located.at(&file.name, "the plan needs a name"));
        }
        let profile = file.profile.get_ref().trim().to_owned();
        if profile.is_empty() {
            return Err(located.at(
                &file.profile,
                "the plan needs a profile (such as mock or int)",
            ));
        }
        let timeout = match &file.timeout {
            Some(seconds) if !(1..=MAX_CASE_TIMEOUT_SECONDS).contains(seconds.get_ref()) => {
                return Err(located.at(
                    seconds,
                    format!("timeout must be 1 to {MAX_CASE_TIMEOUT_SECONDS} seconds"),
                ))
            }
            Some(seconds) => Duration::from_secs(*seconds.get_ref()),
            None => DEFAULT_CASE_TIMEOUT,
        };
        if let Some(scopes) = &file.scopes {
            if !scopes.get_ref().iter().any(|scope| scope == "openid") {
                return Err(located.at(scopes, "scopes must include openid"));
            }
        }
        let mock = match file.mock {
            Some(mock) if mock.user.get_ref().trim().is_empty() => {
                return Err(located.at(&mock.user, "[mock] user names no test user"))
            }
            Some(mock) => Some(MockSignIn {
                user: mock.user.into_inner().trim().to_owned(),
                role: mock.role,
            }),
            None => None,
        };
        let expected_failures = match file.expected_failures {
            Some(path) if path.get_ref().trim().is_empty() => {
                return Err(located.at(&path, "expected_failures names no file"))
            }
            Some(path) => Some(path.into_inner().trim().to_owned()),
            None => None,
        };

        let axes = Axes::check(&file.matrix, located)?;
        let count = axes.count();
        if count > MAX_CASES {
            return Err(located.at(
                &file.matrix.authenticator,
                format!(
                    "the matrix makes {count} cases, more than the {MAX_CASES} a plan may have"
                ),
            ));
        }
        let mut cases = axes.expand();

        if let Some(expect) = &file.expect {
            if let Some(pattern) = &expect.get_ref().pattern {
                return Err(located.at(
                    pattern,
                    "[expect] applies to every case: use [[case]] with match for some",
                ));
            }
            for case in &mut cases {
                apply(expect.get_ref(), case, located)?;
            }
        }
        for overrides in &file.cases {
            let Some(pattern) = &overrides.get_ref().pattern else {
                return Err(located.at(
                    overrides,
                    "[[case]] needs match: a case id, or a pattern with * (such as \"passkey-*\")",
                ));
            };
            let matcher = CasePattern::new(pattern.get_ref().clone());
            let mut matched = false;
            for case in cases.iter_mut().filter(|case| matcher.matches(&case.id)) {
                matched = true;
                apply(overrides.get_ref(), case, located)?;
            }
            if !matched {
                return Err(located.at(
                    pattern,
                    format!(
                        "match {:?} is no case of the matrix (its cases are such as {})",
                        pattern.get_ref(),
                        cases.first().map_or("", |case| case.id.as_str())
                    ),
                ));
            }
        }
        Ok(Plan {
            name,
            description: file.description,
            profile,
            timeout,
            scopes: file.scopes.map(Spanned::into_inner),
            login_hint: file.login_hint,
            mock,
            expected_failures,
            cases,
        })
    }

    /// The case with this id.
    pub fn case(&self, id: &CaseId) -> Option<&Case> {
        self.cases.iter().find(|case| &case.id == id)
    }
}

/// Sets what `overrides` say on `case`; later tables win.
fn apply(
    overrides: &OverridesFile,
    case: &mut Case,
    located: &Located<'_>,
) -> Result<(), PlanError> {
    for level in [
        &overrides.authentication_assurance_level,
        &overrides.id_assurance_level,
    ]
    .into_iter()
    .flatten()
    {
        if !(1..=3).contains(level.get_ref()) {
            return Err(located.at(level, "an assurance level is 1, 2 or 3"));
        }
    }
    let to = &mut case.overrides;
    if let Some(outcome) = overrides.outcome {
        to.outcome = Some(outcome);
    }
    for (from, into) in [
        (&overrides.error, &mut to.error),
        (&overrides.provider_error, &mut to.provider_error),
        (&overrides.acr, &mut to.acr),
    ] {
        if from.is_some() {
            into.clone_from(from);
        }
    }
    if let Some(level) = &overrides.authentication_assurance_level {
        to.authentication_assurance_level = Some(*level.get_ref());
    }
    if let Some(level) = &overrides.id_assurance_level {
        to.id_assurance_level = Some(*level.get_ref());
    }
    if overrides.amr.is_some() {
        to.amr.clone_from(&overrides.amr);
    }
    if overrides.auth_time_moved.is_some() {
        to.auth_time_moved = overrides.auth_time_moved;
    }
    if overrides.selected_role.is_some() {
        to.selected_role = overrides.selected_role;
    }
    if let Some(review) = &overrides.review {
        case.review.clone_from(review);
    }
    if overrides.instruction.is_some() {
        case.instruction.clone_from(&overrides.instruction);
    }
    if overrides.skip.is_some() {
        case.skip.clone_from(&overrides.skip);
    }
    Ok(())
}

/// The matrix's axes, each checked; an axis left out is one "the profile's own" value.
struct Axes {
    authenticators: Vec<Authenticator>,
    acr_values: Option<Vec<AcrValues>>,
    prompts: Option<Vec<String>>,
    max_ages: Option<Vec<u32>>,
    role_selections: Option<Vec<RoleSelection>>,
}

impl Axes {
    fn check(matrix: &MatrixFile, located: &Located<'_>) -> Result<Self, PlanError> {
        fn no_repeats<T: PartialEq + std::fmt::Debug>(
            axis: &Spanned<Vec<T>>,
            name: &str,
            located: &Located<'_>,
        ) -> Result<(), PlanError> {
            let values = axis.get_ref();
            if values.is_empty() {
                return Err(located.at(axis, format!("matrix.{name} lists no value")));
            }
            for (index, value) in values.iter().enumerate() {
                if values[..index].contains(value) {
                    return Err(located.at(axis, format!("matrix.{name} lists {value:?} twice")));
                }
            }
            Ok(())
        }
        no_repeats(&matrix.authenticator, "authenticator", located)?;
        let acr_values = match &matrix.acr_values {
            Some(axis) => {
                no_repeats(axis, "acr_values", located)?;
                for value in axis.get_ref() {
                    if value.trim().is_empty() || !value.chars().all(is_acr_char) {
                        return Err(located.at(
                            axis,
                            format!(
                                "matrix.acr_values {value:?} is not acr values (such as \"AAL3_ANY\" \
                                 or \"AAL3_FIDO2 AAL3_IOS\")"
                            ),
                        ));
                    }
                }
                Some(
                    axis.get_ref()
                        .iter()
                        .map(|value| {
                            AcrValues::new(value.split_whitespace().collect::<Vec<_>>().join(" "))
                        })
                        .collect(),
                )
            }
            None => None,
        };
        let prompts = match &matrix.prompt {
            Some(axis) => {
                no_repeats(axis, "prompt", located)?;
                for value in axis.get_ref() {
                    let words: Vec<&str> = value.split_whitespace().collect();
                    let known =
                        !words.is_empty() && words.iter().all(|word| PROMPT_VALUES.contains(word));
                    if !known || (words.contains(&"none") && words.len() > 1) {
                        return Err(located.at(
                            axis,
                            format!(
                                "matrix.prompt {value:?} is not a prompt: use login, none, consent \
                                 or select_account (none alone)"
                            ),
                        ));
                    }
                }
                Some(
                    axis.get_ref()
                        .iter()
                        .map(|value| value.split_whitespace().collect::<Vec<_>>().join(" "))
                        .collect(),
                )
            }
            None => None,
        };
        let max_ages = match &matrix.max_age {
            Some(axis) => {
                no_repeats(axis, "max_age", located)?;
                Some(axis.get_ref().clone())
            }
            None => None,
        };
        let role_selections = match &matrix.role_selection {
            Some(axis) => {
                no_repeats(axis, "role_selection", located)?;
                Some(axis.get_ref().clone())
            }
            None => None,
        };
        Ok(Self {
            authenticators: matrix.authenticator.get_ref().clone(),
            acr_values,
            prompts,
            max_ages,
            role_selections,
        })
    }

    /// How many cases [`Self::expand`] makes, counted without making them.
    fn count(&self) -> usize {
        fn length<T>(values: &Option<Vec<T>>) -> usize {
            values.as_ref().map_or(1, Vec::len)
        }
        [
            self.authenticators.len(),
            length(&self.acr_values),
            length(&self.prompts),
            length(&self.max_ages),
            length(&self.role_selections),
        ]
        .into_iter()
        .fold(1, usize::saturating_mul)
    }

    /// Every combination, authenticators outermost, in the order the plan lists values.
    fn expand(&self) -> Vec<Case> {
        fn axis<T: Clone>(values: &Option<Vec<T>>) -> Vec<Option<T>> {
            match values {
                Some(values) => values.iter().cloned().map(Some).collect(),
                None => vec![None],
            }
        }
        let mut cases = Vec::new();
        for authenticator in &self.authenticators {
            for acr_values in axis(&self.acr_values) {
                for prompt in axis(&self.prompts) {
                    for max_age in axis(&self.max_ages) {
                        for role_selection in axis(&self.role_selections) {
                            let mut parts: Vec<String> = vec![authenticator.name().to_owned()];
                            if let Some(acr) = &acr_values {
                                parts.push(acr.values().collect::<Vec<_>>().join("+"));
                            }
                            if let Some(prompt) = &prompt {
                                parts.push(prompt.replace(' ', "+"));
                            }
                            if let Some(max_age) = max_age {
                                parts.push(max_age.to_string());
                            }
                            if let Some(role_selection) = role_selection {
                                parts.push(role_selection_part(role_selection).to_owned());
                            }
                            cases.push(Case {
                                id: CaseId::from_parts(
                                    &parts.iter().map(String::as_str).collect::<Vec<_>>(),
                                ),
                                authenticator: *authenticator,
                                acr_values: acr_values.clone(),
                                prompt: prompt.clone(),
                                max_age,
                                role_selection,
                                overrides: ExpectationOverrides::default(),
                                review: Vec::new(),
                                instruction: None,
                                skip: None,
                            });
                        }
                    }
                }
            }
        }
        cases
    }
}

fn is_acr_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ' '
}

fn role_selection_part(role_selection: RoleSelection) -> &'static str {
    match role_selection {
        RoleSelection::App => "roles_in_app",
        RoleSelection::Cis2 => "roles_in_cis2",
    }
}

#[cfg(test)]
mod tests;
