//! The end-to-end harness: isolated homes, the built binaries, the desktop app under WebDriver,
//! a "system browser" stand-in, and an independent OpenID provider (node `oidc-provider`).
//!
//! `cargo xtask test` runs these tests inside a private D-Bus session with an unlocked
//! gnome-keyring, a private session keyring and an Xvfb display; the harness adds a fresh home
//! folder for every app it starts, so runs never share files.

pub mod binaries;
pub mod cli_world;
pub mod desktop;
pub mod forms;
pub mod home;
pub mod net;
pub mod oidc_provider;
pub mod process;
pub mod wait;

pub use careid_test_fixtures::jwt::jwt_shaped;
pub use cli_world::{CliWorld, MockHost, Run};
pub use desktop::{Desktop, DesktopOptions};
pub use home::TestHome;
pub use oidc_provider::{OidcProvider, OidcProviderOptions, ID_TOKEN_ALGORITHMS};
