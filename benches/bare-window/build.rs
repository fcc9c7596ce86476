//! Generates the Tauri context, as careid-desktop's build script does.

fn main() {
    tauri_build::build();
}
