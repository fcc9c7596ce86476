//! Runs: a tester's plan of sign-ins (authenticator × `acr_values` × `prompt` × `max_age` × role
//! selection), each an ordinary attempt through [`crate::signin::Client`], judged from its
//! record in the history against what it should give, with known deviations from an
//! expected-failures file, reported as JSON, JUnit XML and HTML. `docs/runs.md` is the tester's
//! guide.
//!
//! - [`Plan`]: the plan file, checked whole, its matrix expanded into [`Case`]s with stable ids.
//! - [`Authenticator`]: the one table of authenticators: names, instructions, levels, `amr`.
//! - [`Expectation`]: what a case should give, and [`Expectation::judge`] of its record.
//! - [`ExpectedFailures`]: known deviations, each with its comment; [`read_plan`] reads a plan
//!   with its own or the named ones.
//! - [`Run`] with a [`RunDriver`] (the front end): runs the cases and makes the [`RunReport`].

mod authenticators;
mod expect;
mod expected_failures;
mod files;
mod html;
mod junit;
mod plan;
mod report;
mod runner;

pub use authenticators::{Authenticator, ExpectedAmr};
pub use expect::{
    Aspect, AuthTimeExpectation, CaseCheck, Expectation, ExpectedFailureMark, Finding, Sent,
};
pub use expected_failures::{ExpectedFailure, ExpectedFailures};
pub use files::{read_plan, PlanFiles, PlanReadError};
pub use plan::{
    Case, CaseId, CasePattern, ExpectationOverrides, MockSignIn, Plan, PlanError,
    DEFAULT_CASE_TIMEOUT, MAX_CASES,
};
pub use report::{
    CaseResult, CaseStatus, Counts, EntryUse, PlanSummary, PlannedRequest, RunId, RunOutcome,
    RunReport, FORMAT,
};
pub use runner::{Preparation, Prepared, ReviewAnswer, Run, RunCancel, RunDriver, RunEvent};
