//! A bare Tauri window: the same Tauri, profile and features as careid-desktop, one window of the
//! same size, a one-line page, no plugins and no commands. `cargo xtask bench desktop` measures
//! careid's launch time and memory against it, and careid's first usable screen against the
//! moment this page has loaded, which it prints on stderr.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default()
        .on_page_load(|_, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                eprintln!("bare window: page loaded");
            }
        })
        .run(tauri::generate_context!())
        .expect("the bare window could not start");
}
