//! The only types that cross to the web UI. They mirror `ui/src/api.ts`; tokens never appear here.

use serde::Serialize;

/// What the home screen shows about this build.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: &'static str,
    pub version: &'static str,
    /// `debug` or `release`: testers must know which build they are checking.
    pub build_profile: &'static str,
}

impl AppInfo {
    pub fn current() -> Self {
        Self {
            name: "careid",
            version: env!("CARGO_PKG_VERSION"),
            build_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}
