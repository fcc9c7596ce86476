//! Generates the Tauri context and the permission set for the app's own commands.

/// Every command the app registers, from `src/command_list.rs`; each becomes an `allow-...`
/// permission.
macro_rules! app_commands {
    ($($name:ident),* $(,)?) => {
        const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}
include!("src/command_list.rs");

fn main() {
    println!("cargo:rerun-if-changed=src/command_list.rs");
    // Declaring the commands makes each one a permission (`allow-sign-in`, ...), so a capability must
    // grant it explicitly: nothing the UI can call is allowed by default.
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
