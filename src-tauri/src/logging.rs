//! Logging for the desktop app: `tracing` to stderr and to a daily file in the platform log folder,
//! filtered by `RUST_LOG` (default `info`). Nothing secret is ever passed to a log macro.

use std::path::PathBuf;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// Lines waiting for the file; beyond them a burst drops lines rather than block the app.
const BUFFERED_LINES: usize = 1024;

/// Installs the subscriber. Keep the returned guard alive until exit so the file is flushed.
pub fn init(log_dir: Option<PathBuf>) -> Option<WorkerGuard> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());

    // The log is appended line by line, so it cannot go through `write_atomically`; its folder
    // is made owner-only as that one is, so the daily files in it are the user's alone.
    let private = |dir: &PathBuf| careid_core::files::create_private_dir(dir).is_ok();
    let (file, guard) = match log_dir.filter(private) {
        Some(dir) => {
            // The writer thread's queue is allocated and touched whole at start: the default of
            // 128,000 lines holds 4 MiB for an app that logs a few lines a minute.
            let (writer, guard) = NonBlockingBuilder::default()
                .buffered_lines_limit(BUFFERED_LINES)
                .finish(tracing_appender::rolling::daily(dir, "careid.log"));
            let layer = fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };

    // Another subscriber may already be installed (a host embedding the shell); keep it.
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
    guard
}
