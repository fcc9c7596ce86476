//! How long the user has been away: the operating system's idle time (no keyboard or pointer
//! input anywhere on the device) where the platform gives it, and otherwise input in the app's
//! own window. The shorter of the two counts, since input the app sees is input on the device
//! too (and a touch in the window may not reach the X server's idle counter).
//!
//! X11: the MIT-SCREEN-SAVER extension's time since the last input. Windows and macOS: the
//! `user-idle` crate (GetLastInputInfo, IOKit's HIDIdleTime). Wayland gives no idle time to an
//! ordinary client, so there only the app's window counts.

use std::time::{Duration, Instant};

/// The user's idle time now, given the last input in the app's window.
pub fn idle_time(last_window_input: Instant) -> Duration {
    let in_window = last_window_input.elapsed();
    match system_idle_time() {
        Some(system) => system.min(in_window),
        None => in_window,
    }
}

#[cfg(target_os = "linux")]
fn system_idle_time() -> Option<Duration> {
    x11::idle_time()
}

#[cfg(any(windows, target_os = "macos"))]
fn system_idle_time() -> Option<Duration> {
    user_idle::UserIdle::get_time()
        .ok()
        .map(|idle| Duration::from_secs(idle.as_seconds()))
}

#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
fn system_idle_time() -> Option<Duration> {
    None
}

#[cfg(target_os = "linux")]
mod x11 {
    use std::sync::{Mutex, OnceLock, PoisonError};
    use std::time::Duration;

    use x11rb::connection::Connection as _;
    use x11rb::protocol::screensaver::ConnectionExt as _;
    use x11rb::rust_connection::RustConnection;

    /// One connection for the life of the app, made on first use; `None` when there is no X
    /// display (Wayland without XWayland, a headless machine) or no screen-saver extension.
    static DISPLAY: OnceLock<Option<Mutex<(RustConnection, u32)>>> = OnceLock::new();

    pub fn idle_time() -> Option<Duration> {
        let display = DISPLAY.get_or_init(connect).as_ref()?;
        let display = display.lock().unwrap_or_else(PoisonError::into_inner);
        let (connection, root) = &*display;
        let info = connection
            .screensaver_query_info(*root)
            .ok()?
            .reply()
            .ok()?;
        Some(Duration::from_millis(u64::from(info.ms_since_user_input)))
    }

    fn connect() -> Option<Mutex<(RustConnection, u32)>> {
        // Under a Wayland session an XWayland DISPLAY only sees X clients' input: not the idle
        // time of the device.
        if std::env::var_os("WAYLAND_DISPLAY").is_some() {
            return None;
        }
        let (connection, screen) = RustConnection::connect(None).ok()?;
        let root = connection.setup().roots.get(screen)?.root;
        connection
            .screensaver_query_version(1, 1)
            .ok()?
            .reply()
            .ok()?;
        Some(Mutex::new((connection, root)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_input_in_the_window_counts_even_when_the_system_says_idle() {
        let idle = idle_time(Instant::now());
        assert!(idle < Duration::from_secs(5), "{idle:?}");
    }
}
