//! Integration tests of the mock CIS2 provider, driven by independent clients: the
//! `openidconnect` crate and plain HTTP (RFC 6749 §4.1, OpenID Connect Core 1.0 §3.1).

mod client_assertions;
mod faults;
mod flow;
mod issuer;
mod plain_http;
mod refusals;
mod support;
