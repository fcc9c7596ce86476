//! Ending the processes a test started, by id, including what they started themselves.

use std::process::{Child, Command};

/// Ends `child` and every process in its group (it must have been spawned with
/// `process_group(0)`), then reaps it.
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
