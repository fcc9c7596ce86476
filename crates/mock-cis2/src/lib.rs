//! mock-cis2: a local imitation of NHS CIS2 Authentication, built from the reference's facts.
//!
//! This crate does not depend on `careid-core`, so the client and the fake cannot share a bug.
//! What is here so far: the issuer and the discovery document in CIS2's shape
//! (OpenID Connect Discovery 1.0 §3), with CIS2's endpoint paths under the issuer.

pub mod discovery;

pub use discovery::{Issuer, CIS2_REALM_PATH};
