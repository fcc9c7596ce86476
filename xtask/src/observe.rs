//! Watching processes and windows from outside, for the desktop bench and the installed-package
//! check: the process tree and memory from `/proc`, and top-level windows on the X display.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{Atom, AtomEnum, ConnectionExt as _, MapState, Window};
use x11rb::rust_connection::RustConnection;

/// Kills the child's process group and every process below it (a sandbox helper may have left the
/// group), then waits until they are gone, so the next run starts on a quiet machine.
pub(crate) fn end_tree(mut child: Child) {
    let pid = child.id();
    let tree = process_tree(pid);
    let mut targets = vec![format!("-{pid}")];
    targets.extend(tree.iter().map(u32::to_string));
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .args(&targets)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && tree.iter().any(|pid| is_running(*pid)) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `root` and all its descendants: processes only (the entries of `/proc`), not threads.
pub(crate) fn process_tree(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(parent) = parent_of(pid) {
                children.entry(parent).or_default().push(pid);
            }
        }
    }
    let mut tree = vec![root];
    let mut next = 0;
    while next < tree.len() {
        if let Some(below) = children.get(&tree[next]) {
            tree.extend(below);
        }
        next += 1;
    }
    tree
}

/// The parent id from `/proc/PID/stat`: the fourth field, counted after the name in parentheses
/// (which may itself hold spaces and parentheses).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // A zombie holds no memory and waits only for its new parent to reap it.
        stat.rfind(')')
            .and_then(|end| stat[end + 1..].split_whitespace().next())
            .is_some_and(|state| state != "Z")
    })
}

pub(crate) fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| pid.to_string())
}

/// The `Pss:` line of `/proc/PID/smaps_rollup`, in KiB.
pub(crate) fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    rollup
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// The bench's own connection to the isolated display.
pub(crate) struct XServer {
    connection: RustConnection,
    root: Window,
    net_wm_pid: Atom,
}

impl XServer {
    pub(crate) fn connect(display: &str) -> anyhow::Result<Self> {
        let (connection, screen) = x11rb::connect(Some(display))
            .with_context(|| format!("connecting to the X display {display}"))?;
        let root = connection.setup().roots[screen].root;
        let net_wm_pid = connection.intern_atom(false, b"_NET_WM_PID")?.reply()?.atom;
        Ok(Self {
            connection,
            root,
            net_wm_pid,
        })
    }

    /// Whether a viewable top-level window belongs to `pid`. With no window manager on the
    /// display, top-level windows are the root's children.
    pub(crate) fn has_mapped_window(&self, pid: u32) -> anyhow::Result<bool> {
        let tree = self.connection.query_tree(self.root)?.reply()?;
        // Every request sent before the first answer is read: one round trip for them all.
        let attributes = tree
            .children
            .iter()
            .map(|window| self.connection.get_window_attributes(*window))
            .collect::<Result<Vec<_>, _>>()?;
        for (window, cookie) in tree.children.iter().zip(attributes) {
            // A window destroyed meanwhile answers with an error: it is not ours.
            let Ok(attributes) = cookie.reply() else {
                continue;
            };
            if attributes.map_state != MapState::VIEWABLE {
                continue;
            }
            let owner = self
                .connection
                .get_property(false, *window, self.net_wm_pid, AtomEnum::CARDINAL, 0, 1)?
                .reply();
            if owner.is_ok_and(|owner| owner.value32().and_then(|mut v| v.next()) == Some(pid)) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
