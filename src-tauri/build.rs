//! Generates the Tauri context and the permission set for the app's own commands.

fn main() {
    // Declaring the commands makes each one a permission (`allow-app-info`), so a capability must
    // grant it explicitly: nothing the UI can call is allowed by default.
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(&["app_info"]));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
