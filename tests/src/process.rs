//! Ending the processes a test started, by id, including what they started themselves.

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
