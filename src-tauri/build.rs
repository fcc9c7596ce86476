//! Generates the Tauri context and the permission set for the app's own commands.

/// Every command the app registers; each becomes an `allow-...` permission.
const COMMANDS: &[&str] = &[
    "current_state",
    "sign_in",
    "cancel_sign_in",
    "open_sign_in_page_again",
    "copy_sign_in_link",
    "choose_role",
    "change_role",
    "keep_current_role",
    "sign_out",
    "stay_signed_in",
    "note_activity",
    "use_profile",
    "set_testers_view",
    "dismiss_notice",
    "copy_access_token",
    "export_sign_in_record",
    "save_profile",
    "remove_profile",
    "store_credential",
    "check_profile",
];

fn main() {
    // Declaring the commands makes each one a permission (`allow-sign-in`, ...), so a capability must
    // grant it explicitly: nothing the UI can call is allowed by default.
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
