//! Integration tests of the mock CIS2 provider, driven by independent clients: the
//! `openidconnect` crate and plain HTTP (RFC 6749 §4.1, OpenID Connect Core 1.0 §3.1).

mod admin;
mod authenticator_pages;
mod auto_login;
mod browser;
mod client_assertions;
mod faults;
mod flow;
mod introspection;
mod issuer;
mod load;
mod logout;
mod modes;
mod plain_http;
mod pushed_requests;
mod refusals;
mod role_picker;
mod sso;
mod state_file;
mod support;
mod webauthn_pages;
