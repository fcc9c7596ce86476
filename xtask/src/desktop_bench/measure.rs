//! `cargo xtask bench desktop`: the desktop app against a bare Tauri window (`benches/bare-window`:
//! the same Tauri, release profile and `custom-protocol` feature, one window of the same size, no
//! plugins, no commands). Runs alternate the two, each in a fresh home, after one warm-up each,
//! and everything is measured from outside the process:
//!
//! - exec → window mapped: the X server is polled every 2 ms for a viewable top-level window whose
//!   `_NET_WM_PID` is the app's;
//! - for careid, exec → first usable screen, from two lines the app logs on stderr: when it answers
//!   the UI's first `current_state` (the UI draws that answer at once), and when it first publishes
//!   the home screen. If the answer was the home screen, that is the moment; if it was "restoring"
//!   (the built-in mock still starting), the home screen reaches the listening UI when published;
//! - for the bare window, exec → its one-line page loaded (it prints that on stderr): the soonest
//!   WebKit shows any page, against which careid's first usable screen is also given;
//! - settled memory: 3 s after both, the proportional set size (PSS) of the app and every process
//!   below it (WebKit's web and network processes), from `/proc/PID/smaps_rollup`.
//!
//! The ratios are medians of the per-pair ratios, so a slow spell of the machine weighs on both.
//!
//! Two variants, one after the other: first as a user's desktop runs the apps (WebKit's
//! compositing and the accessibility bridge as the system has them: the figures the targets are
//! for), then with both switched off as the test environment does for the end-to-end suite
//! (`WEBKIT_DISABLE_COMPOSITING_MODE`, `NO_AT_BRIDGE`), labelled as such.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::Binaries;
use crate::isolation::TestEnvironment;
use crate::observe::{end_tree, process_name, process_tree, pss_kib, XServer};

/// Measured runs of each app, after one warm-up each; `CAREID_BENCH_DESKTOP_RUNS` changes it.
const RUNS: usize = 10;
/// How often the X server is asked for the window.
const POLL: Duration = Duration::from_millis(2);
/// From the window mapped (and for careid the first screen answered) to reading the memory.
const SETTLE: Duration = Duration::from_secs(3);
/// A launch that takes longer has failed.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// What careid logs when the UI's first `current_state` is answered (`src-tauri/src/commands.rs`).
const FIRST_STATE_LINE: &str = "first state answered";
/// What careid logs when it first publishes the home screen (`src-tauri/src/lib.rs`).
const HOME_LINE: &str = "home screen published";
/// What the bare window prints once its page has loaded (`benches/bare-window`).
const BARE_PAGE_LINE: &str = "bare window: page loaded";
/// What careid logs once the app is built, logging is set up and the window is shown.
const STARTED_LINE: &str = "careid started";
const TARGET_LAUNCH: f64 = 1.2;
const TARGET_MEMORY: f64 = 1.15;
/// careid's first usable home screen against the bare window's map time.
const TARGET_USABLE: f64 = 2.0;

/// How the apps are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// Compositing and the accessibility bridge as the system has them, as on a user's desktop.
    AsUsersRunIt,
    /// Both switched off, as the test environment runs the end-to-end suite.
    TestSwitches,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::AsUsersRunIt => "as a user's desktop runs it",
            Variant::TestSwitches => {
                "with the test switches (WEBKIT_DISABLE_COMPOSITING_MODE, NO_AT_BRIDGE)"
            }
        }
    }

    /// The switches the test environment sets that a user's desktop does not.
    fn apply(self, command: &mut Command) {
        if self == Variant::AsUsersRunIt {
            command
                .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
                .env_remove("NO_AT_BRIDGE");
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum App {
    Careid,
    Bare,
}

impl App {
    fn name(self) -> &'static str {
        match self {
            App::Careid => "careid",
            App::Bare => "bare window",
        }
    }
}

/// One launch, measured.
#[derive(Debug)]
struct Run {
    mapped: Duration,
    /// careid: exec → the first `current_state` answered (the home screen).
    usable: Option<Duration>,
    /// careid: exec → the UI's first `current_state` answered, and whether that was the home
    /// screen.
    first_state: Option<(Duration, bool)>,
    /// careid: exec → the home screen first published.
    home_published: Option<Duration>,
    /// careid: exec → `careid started` on stderr.
    started_line: Option<Duration>,
    /// The bare window: exec → its one-line page loaded.
    page_loaded: Option<Duration>,
    /// (process name, PSS in KiB) of every process in the tree.
    processes: Vec<(String, u64)>,
}

impl Run {
    fn pss_kib(&self) -> u64 {
        self.processes.iter().map(|(_, kib)| kib).sum()
    }
}

/// Runs the bench in `environment` and returns its result lines (printed as they come).
pub fn run(environment: &TestEnvironment, binaries: &Binaries) -> anyhow::Result<Vec<String>> {
    let runs = std::env::var("CAREID_BENCH_DESKTOP_RUNS")
        .ok()
        .and_then(|text| text.trim().parse::<usize>().ok())
        .filter(|runs| *runs > 0)
        .unwrap_or(RUNS);
    let x = XServer::connect(environment.display())?;
    let homes = tempfile::Builder::new()
        .prefix("careid-bench-desktop-")
        .tempdir()
        .context("a folder for the runs' homes")?;
    let mut launcher = Launcher {
        environment,
        binaries,
        x: &x,
        homes: homes.path(),
        count: 0,
        variant: Variant::AsUsersRunIt,
    };
    let mut lines = Vec::new();
    for variant in [Variant::AsUsersRunIt, Variant::TestSwitches] {
        println!("  {}:", variant.label());
        launcher.variant = variant;
        let (careid, bare) = launcher.pairs(runs)?;
        lines.extend(report(&careid, &bare, variant));
    }
    Ok(lines)
}

impl Launcher<'_> {
    /// One warm-up each, then `runs` alternating pairs: careid's runs and the bare window's.
    fn pairs(&mut self, runs: usize) -> anyhow::Result<(Vec<Run>, Vec<Run>)> {
        // The warm-up fills the page cache with both binaries and WebKit's libraries.
        for app in [App::Careid, App::Bare] {
            let warm = self.launch(app)?;
            println!(
                "  warm-up {}: window mapped {:.0} ms, {:.0} MiB PSS",
                app.name(),
                ms(warm.mapped),
                mib(warm.pss_kib())
            );
        }
        let mut careid = Vec::new();
        let mut bare = Vec::new();
        for pair in 0..runs {
            // Which app goes first alternates too, so neither always follows the other's exit.
            let order = if pair.is_multiple_of(2) {
                [App::Careid, App::Bare]
            } else {
                [App::Bare, App::Careid]
            };
            for app in order {
                let run = self.launch(app)?;
                let first_screen = run
                    .usable
                    .map(|usable| format!(", first screen {:.0} ms", ms(usable)))
                    .unwrap_or_default();
                println!(
                    "  {:>2} {}: window mapped {:.0} ms{first_screen}, {:.0} MiB PSS in {} processes",
                    pair + 1,
                    app.name(),
                    ms(run.mapped),
                    mib(run.pss_kib()),
                    run.processes.len()
                );
                match app {
                    App::Careid => careid.push(run),
                    App::Bare => bare.push(run),
                }
            }
        }
        Ok((careid, bare))
    }
}

/// The result lines: medians, ranges and ratios, then the breakdowns.
fn report(careid: &[Run], bare: &[Run], variant: Variant) -> Vec<String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runs = careid.len();
    let launch_ratio = median(
        careid
            .iter()
            .zip(bare)
            .map(|(a, b)| a.mapped.as_secs_f64() / b.mapped.as_secs_f64())
            .collect(),
    );
    let memory_ratio = median(
        careid
            .iter()
            .zip(bare)
            .map(|(a, b)| a.pss_kib() as f64 / b.pss_kib() as f64)
            .collect(),
    );
    let spread = |values: Vec<f64>| {
        let (low, high) = range(&values);
        (median(values), low, high)
    };
    let (careid_mapped, careid_mapped_min, careid_mapped_max) =
        spread(careid.iter().map(|run| ms(run.mapped)).collect());
    let (bare_mapped, bare_mapped_min, bare_mapped_max) =
        spread(bare.iter().map(|run| ms(run.mapped)).collect());
    let (careid_pss, careid_pss_min, careid_pss_max) =
        spread(careid.iter().map(|run| mib(run.pss_kib())).collect());
    let (bare_pss, bare_pss_min, bare_pss_max) =
        spread(bare.iter().map(|run| mib(run.pss_kib())).collect());
    let (usable, usable_min, usable_max) =
        spread(careid.iter().filter_map(|run| run.usable).map(ms).collect());
    let usable_ratio = median(
        careid
            .iter()
            .zip(bare)
            .filter_map(|(a, b)| Some(a.usable?.as_secs_f64() / b.mapped.as_secs_f64()))
            .collect(),
    );
    let (page, page_min, page_max) = spread(
        bare.iter()
            .filter_map(|run| run.page_loaded)
            .map(ms)
            .collect(),
    );
    let page_of_map = median(
        bare.iter()
            .filter_map(|run| Some(run.page_loaded?.as_secs_f64() / run.mapped.as_secs_f64()))
            .collect(),
    );
    let usable_of_page = median(
        careid
            .iter()
            .zip(bare)
            .filter_map(|(a, b)| Some(a.usable?.as_secs_f64() / b.page_loaded?.as_secs_f64()))
            .collect(),
    );
    let label = variant.label();
    let verdict = |ratio: f64, target: f64| if ratio <= target { "within" } else { "over" };

    let lines = vec![
        format!(
            "desktop launch {label} (exec → window mapped): careid median {careid_mapped:.0} ms \
             ({careid_mapped_min:.0}–{careid_mapped_max:.0}), bare window {bare_mapped:.0} ms \
             ({bare_mapped_min:.0}–{bare_mapped_max:.0}): {launch_ratio:.3}x, {} the {TARGET_LAUNCH}x target \
             ({runs} runs each, alternating, release builds; {cores} cores)",
            verdict(launch_ratio, TARGET_LAUNCH),
        ),
        format!(
            "desktop first usable screen {label} (exec → home screen answered): careid median \
             {usable:.0} ms ({usable_min:.0}–{usable_max:.0}): {usable_ratio:.2}x the bare window's \
             map, {} the {TARGET_USABLE}x target",
            verdict(usable_ratio, TARGET_USABLE),
        ),
        format!(
            "desktop page loaded {label} (exec → the bare window's one-line page loaded): bare window \
             median {page:.0} ms ({page_min:.0}–{page_max:.0}), {page_of_map:.2}x its own map; careid's \
             first usable screen is {usable_of_page:.2}x it",
        ),
        format!(
            "desktop memory {label} (settled PSS, whole process tree): careid median {careid_pss:.0} MiB \
             ({careid_pss_min:.0}–{careid_pss_max:.0}), bare window {bare_pss:.0} MiB \
             ({bare_pss_min:.0}–{bare_pss_max:.0}): {memory_ratio:.3}x, {} the {TARGET_MEMORY}x target",
            verdict(memory_ratio, TARGET_MEMORY),
        ),
    ];
    for line in &lines {
        println!("{line}");
    }
    let started: Vec<f64> = careid
        .iter()
        .filter_map(|run| run.started_line)
        .map(ms)
        .collect();
    if !started.is_empty() {
        println!(
            "  careid: exec → `{STARTED_LINE}` logged (app built, plugins, logging, window shown) median {:.0} ms",
            median(started)
        );
    }
    let asked: Vec<f64> = careid
        .iter()
        .filter_map(|run| run.first_state)
        .map(|(at, _)| ms(at))
        .collect();
    let restoring = careid
        .iter()
        .filter(|run| run.first_state.is_some_and(|(_, home)| !home))
        .count();
    let published: Vec<f64> = careid
        .iter()
        .filter_map(|run| run.home_published)
        .map(ms)
        .collect();
    println!(
        "  careid: exec → the UI's first `current_state` answered median {:.0} ms (\"restoring\" in \
         {restoring} of {runs} runs, the built-in mock still starting), home screen published \
         median {:.0} ms",
        median(asked),
        median(published),
    );
    for (app, runs) in [(App::Careid, careid), (App::Bare, bare)] {
        println!(
            "  {} median PSS by process: {}",
            app.name(),
            by_process(runs)
        );
    }
    lines
}

/// "name 120 MiB, ..." from the median of each process name's PSS over the runs.
fn by_process(runs: &[Run]) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut values: HashMap<&str, Vec<f64>> = HashMap::new();
    for run in runs {
        let mut this_run: HashMap<&str, u64> = HashMap::new();
        for (name, kib) in &run.processes {
            *this_run.entry(name.as_str()).or_default() += kib;
        }
        for (name, kib) in this_run {
            if !names.contains(&name) {
                names.push(name);
            }
            values.entry(name).or_default().push(mib(kib));
        }
    }
    names
        .iter()
        .map(|name| {
            let values = values.remove(name).unwrap_or_default();
            format!("{name} {:.0} MiB", median(values))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

struct Launcher<'a> {
    environment: &'a TestEnvironment,
    binaries: &'a Binaries,
    x: &'a XServer,
    homes: &'a Path,
    count: usize,
    variant: Variant,
}

impl Launcher<'_> {
    /// Starts `app` in a fresh home, measures it and ends its whole process tree.
    fn launch(&mut self, app: App) -> anyhow::Result<Run> {
        self.count += 1;
        let home = self.homes.join(format!("{}", self.count));
        let folders = [
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", home.join(".config")),
            ("XDG_DATA_HOME", home.join(".local/share")),
            ("XDG_CACHE_HOME", home.join(".cache")),
            ("XDG_STATE_HOME", home.join(".local/state")),
        ];
        for (_, folder) in &folders {
            std::fs::create_dir_all(folder)?;
        }
        let binary = match app {
            App::Careid => &self.binaries.careid,
            App::Bare => &self.binaries.bare,
        };
        let mut command = Command::new(binary);
        self.environment.apply(&mut command);
        self.variant.apply(&mut command);
        command.envs(folders.iter().map(|(name, path)| (name, path)));
        if app == App::Careid {
            // Signed out on the built-in mock, with a keychain service nobody else uses.
            command
                .env("CAREID_CONFIG_DIR", home.join("careid"))
                .env(
                    "CAREID_KEYCHAIN_SERVICE",
                    format!("careid-bench-{}-{}", std::process::id(), self.count),
                )
                .env("RUST_LOG", "info");
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // A process group of its own, ended as one.
            .process_group(0);
        let started = Instant::now();
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let lines = read_lines(&mut child);
        let measured = self.measure(app, &mut child, started, &lines);
        end_tree(child);
        measured.with_context(|| format!("{} (run {})", app.name(), self.count))
    }

    fn measure(
        &self,
        app: App,
        child: &mut Child,
        started: Instant,
        lines: &Receiver<(Instant, String)>,
    ) -> anyhow::Result<Run> {
        let pid = child.id();
        let mut log = Log::default();
        let mapped = loop {
            if self.x.has_mapped_window(pid)? {
                break started.elapsed();
            }
            if let Some(status) = child.try_wait()? {
                log.drain(lines, started);
                bail!(
                    "exited ({status}) before its window was mapped; its last output:\n{}",
                    log.tail()
                );
            }
            if started.elapsed() > LAUNCH_TIMEOUT {
                bail!("no window mapped after {LAUNCH_TIMEOUT:?}");
            }
            std::thread::sleep(POLL);
        };
        let mut ready = started + mapped;
        if app == App::Careid {
            while log.usable().is_none() {
                anyhow::ensure!(
                    started.elapsed() < LAUNCH_TIMEOUT,
                    "no home screen after {LAUNCH_TIMEOUT:?}; its last output:\n{}",
                    log.tail()
                );
                if let Ok((at, line)) = lines.recv_timeout(Duration::from_millis(100)) {
                    log.add(at, line, started);
                }
            }
            ready = ready.max(started + log.usable().expect("just seen"));
        } else {
            while log.page_loaded.is_none() {
                anyhow::ensure!(
                    started.elapsed() < LAUNCH_TIMEOUT,
                    "its page did not load in {LAUNCH_TIMEOUT:?}; its last output:\n{}",
                    log.tail()
                );
                if let Ok((at, line)) = lines.recv_timeout(Duration::from_millis(100)) {
                    log.add(at, line, started);
                }
            }
            ready = ready.max(started + log.page_loaded.expect("just seen"));
        }
        std::thread::sleep((ready + SETTLE).saturating_duration_since(Instant::now()));
        log.drain(lines, started);
        let processes = process_tree(pid)
            .into_iter()
            .filter_map(|pid| Some((process_name(pid), pss_kib(pid)?)))
            .collect();
        Ok(Run {
            mapped,
            usable: log.usable(),
            first_state: log.first_state,
            home_published: log.home_published,
            started_line: log.started,
            page_loaded: log.page_loaded,
            processes,
        })
    }
}

/// What careid printed, with when each line arrived.
#[derive(Debug, Default)]
struct Log {
    lines: Vec<String>,
    /// exec → the first state answered, and whether it was the home screen.
    first_state: Option<(Duration, bool)>,
    home_published: Option<Duration>,
    started: Option<Duration>,
    page_loaded: Option<Duration>,
}

impl Log {
    /// exec → the home screen in the UI: the first answer if it was the home screen, or else the
    /// home screen's publication, which the UI is by then listening for.
    fn usable(&self) -> Option<Duration> {
        match self.first_state? {
            (answered, true) => Some(answered),
            (answered, false) => self.home_published.map(|published| published.max(answered)),
        }
    }

    fn add(&mut self, at: Instant, line: String, started: Instant) {
        let since = at.saturating_duration_since(started);
        if self.first_state.is_none() && line.contains(FIRST_STATE_LINE) {
            self.first_state = Some((since, line.contains("home=true")));
        }
        if self.home_published.is_none() && line.contains(HOME_LINE) {
            self.home_published = Some(since);
        }
        if self.started.is_none() && line.contains(STARTED_LINE) {
            self.started = Some(since);
        }
        if self.page_loaded.is_none() && line.contains(BARE_PAGE_LINE) {
            self.page_loaded = Some(since);
        }
        self.lines.push(line);
    }

    fn drain(&mut self, lines: &Receiver<(Instant, String)>, started: Instant) {
        while let Ok((at, line)) = lines.try_recv() {
            self.add(at, line, started);
        }
    }

    fn tail(&self) -> String {
        let from = self.lines.len().saturating_sub(10);
        self.lines[from..].join("\n")
    }
}

/// The child's stderr, line by line, each with the moment it arrived.
fn read_lines(child: &mut Child) -> Receiver<(Instant, String)> {
    let (sender, receiver) = mpsc::channel();
    if let Some(stderr) = child.stderr.take() {
        // Ends when the last process holding the pipe (WebKit's inherit it) has ended.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender
                    .send((Instant::now(), without_colours(&line)))
                    .is_err()
                {
                    break;
                }
            }
        });
    }
    receiver
}

/// The line without terminal colour codes (`ESC [ ... m`), which the app's log writes even into
/// a pipe, between a field's name and its value.
fn without_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('\u{1b}') {
        plain.push_str(&rest[..start]);
        rest = &rest[start..];
        match rest.find('m') {
            Some(end) => rest = &rest[end + 1..],
            None => rest = "",
        }
    }
    plain.push_str(rest);
    plain
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

fn range(values: &[f64]) -> (f64, f64) {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (low, high)
}
