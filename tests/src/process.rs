//! Ending the processes a test started, by id, including what they started themselves.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// Starts the command in a process group of its own, so [`kill_group`] can end its whole tree.
pub fn in_own_group(command: &mut Command) -> &mut Command {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command
}

/// Ends `child` and every process in its group (see [`in_own_group`]), then reaps it.
#[cfg(unix)]
pub fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    // `kill` with a negative id signals the whole group; std has no safe call for that.
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    for _ in 0..40 {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.wait();
}

/// Ends `child`, then reaps it.
#[cfg(not(unix))]
pub fn kill_group(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A process group a test started, recorded on disk beside the test's own process id. A test
/// that is ended by force (the runner's timeout kills it, and no destructor runs) would leave
/// its group running: an app holding its single-instance name, a driver holding ports.
/// [`reap_orphaned_groups`] ends such groups before the next test starts its own.
#[derive(Debug)]
pub struct GroupRecord {
    path: PathBuf,
}

fn records_dir() -> PathBuf {
    std::env::temp_dir().join("careid-e2e-process-groups")
}

/// Records `child`'s group (see [`in_own_group`]) as belonging to this test process.
pub fn record_group(child: &Child) -> std::io::Result<GroupRecord> {
    let dir = records_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(child.id().to_string());
    std::fs::write(&path, std::process::id().to_string())?;
    Ok(GroupRecord { path })
}

impl Drop for GroupRecord {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Ends every recorded group whose test process is gone.
#[cfg(unix)]
pub fn reap_orphaned_groups() {
    let Ok(entries) = std::fs::read_dir(records_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let (Some(group), Ok(owner)) = (
            path.file_name()
                .and_then(|name| name.to_str())
                .map(str::to_owned),
            std::fs::read_to_string(&path),
        ) else {
            continue;
        };
        let owner_alive = Path::new("/proc").join(owner.trim()).exists();
        if !owner_alive {
            eprintln!(
                "process groups: ending group {group}, left running by a test that was killed"
            );
            kill_group_id(&group);
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(not(unix))]
pub fn reap_orphaned_groups() {}

/// Ends every process in the group `group` at once.
pub fn kill_group_id(group: &str) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .status();
}

/// What is still running in a process group, for a failure message.
pub fn describe_group(group: u32) -> String {
    Command::new("ps")
        .args(["-o", "pid,stat,etime,args", "-g", &group.to_string()])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_else(|error| format!("(ps failed: {error})"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn sleeping_group() -> Child {
        in_own_group(Command::new("sh").args(["-c", "sleep 600 & sleep 600"]))
            .spawn()
            .expect("sh")
    }

    fn ended_within(child: &mut Child, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn a_group_left_by_a_killed_test_is_ended_and_a_live_one_is_not() {
        let mut orphan = sleeping_group();
        let mut owned = sleeping_group();
        let _owned_record = record_group(&owned).expect("record");
        // The orphan's record names a test process that has ended.
        let mut gone = Command::new("true").spawn().expect("true");
        gone.wait().expect("wait");
        std::fs::create_dir_all(records_dir()).expect("dir");
        let orphan_record = records_dir().join(orphan.id().to_string());
        std::fs::write(&orphan_record, gone.id().to_string()).expect("record");

        reap_orphaned_groups();

        assert!(ended_within(&mut orphan, Duration::from_secs(5)));
        assert!(!orphan_record.exists());
        assert!(!ended_within(&mut owned, Duration::from_millis(300)));
        kill_group(&mut owned);
    }
}
