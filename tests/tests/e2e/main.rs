//! End-to-end tests: one test binary, a module per surface. Run by `cargo xtask test`, which
//! provides the display, the D-Bus session with gnome-keyring and the built binaries.

mod algorithms;
mod assurance;
mod broker;
mod browser;
mod cli;
mod desktop;
mod desktop_signin;
mod history;
mod interop;
mod json_shapes;
mod keychain;
mod mock_hand_over;
mod mock_serve;
mod negative;
mod oidc_provider;
mod redirect;
mod runs;
mod session_end;
mod signin;
mod tokens;
mod webauthn;
