//! The node's claim on the host, kept in /run while it runs: a lock that one node holds at a time, and the host's state from before it changed anything, so the next node can undo what a node killed outright (SIGKILL, no handler) left behind.

use super::host::HostState;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// In /run, a tmpfs: a reboot, which also undoes every change a node makes, empties it.
const DIR: &str = "/run/heimdall-e2e";

/// What a claim records: who made it, and the host before it.
#[derive(Serialize, Deserialize)]
struct Record {
    pid: u32,
    before: HostState,
}

/// The lock on the host; the kernel drops it when this process dies, however it dies.
pub struct Journal {
    _lock: File,
    dir: PathBuf,
}

impl Journal {
    /// Takes the lock, refusing while another node holds it; a record found under a free lock is a
    /// killed node's, and what it changed is undone first (each change said through `say`).
    pub fn open(say: &dyn Fn(String)) -> Result<Journal> {
        Self::open_in(Path::new(DIR), say)
    }

    fn open_in(dir: &Path, say: &dyn Fn(String)) -> Result<Journal> {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).with_context(|| format!("making {}", dir.display()))?;
        let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(dir.join("lock"))?;
        // SAFETY: flock(2) on a descriptor this process owns.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let holder = read_record(dir).map(|r| format!(" (pid {})", r.pid)).unwrap_or_default();
            bail!("another e2e node runs on this machine{holder}: stop it (Ctrl-C), or wait until it has stopped");
        }
        let journal = Journal { _lock: lock, dir: dir.to_path_buf() };
        if let Some(record) = read_record(dir) {
            journal.undo_killed(&record, say)?;
        }
        Ok(journal)
    }

    /// Writes the host's state before this node changes it.
    pub fn record(&self, before: &HostState) -> Result<()> {
        let record = Record { pid: std::process::id(), before: before.clone() };
        let path = self.dir.join("claim.json");
        std::fs::write(&path, serde_json::to_vec(&record)?).with_context(|| format!("writing {}", path.display()))
    }

    /// The node undid its changes: no record is left for the next one.
    pub fn close(self) {
        let _ = std::fs::remove_file(self.dir.join("claim.json"));
    }

    fn undo_killed(&self, record: &Record, say: &dyn Fn(String)) -> Result<()> {
        // Temp entries are compared, never restored: what the killed node left there is swept below.
        let now = HostState { temp: record.before.temp.clone(), ..HostState::take()? };
        let left = now.differences(&record.before);
        let failed = record.before.restore(record.pid);
        let swept = crate::support::scratch::sweep_orphans();
        if !failed.is_empty() {
            bail!(
                "a node killed earlier (pid {}) left changes that could not be undone:\n  {}\nundo them by hand, then delete {}",
                record.pid,
                failed.join("\n  "),
                self.dir.join("claim.json").display()
            );
        }
        let folders = swept.iter().map(|f| format!("removed folder {}", f.display()));
        let undone: Vec<String> = left.into_iter().chain(folders).collect();
        say(format!(
            "node: a node killed earlier (pid {}) left {} changes, now undone:\n  {}",
            record.pid,
            undone.len(),
            undone.join("\n  ")
        ));
        std::fs::remove_file(self.dir.join("claim.json"))?;
        Ok(())
    }
}

fn read_record(dir: &Path) -> Option<Record> {
    serde_json::from_slice(&std::fs::read(dir.join("claim.json")).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_while_the_first_holds_the_lock_and_taken_once_it_is_closed() {
        let dir = tempfile::tempdir().unwrap();
        let first = Journal::open_in(dir.path(), &|_| {}).unwrap();
        first.record(&HostState::default()).unwrap();
        let refused = Journal::open_in(dir.path(), &|_| {}).err().expect("a second claim while the first holds the lock");
        assert!(format!("{refused}").contains(&format!("another e2e node runs on this machine (pid {})", std::process::id())), "{refused}");
        first.close();
        assert!(!dir.path().join("claim.json").exists());
        // Another test's child, forked but not yet exec'd, may hold a copy of the closed descriptor
        // (close-on-exec closes it only at the exec), and with it the lock: for a moment, not for good.
        let reopen = || Journal::open_in(dir.path(), &|m| panic!("nothing to undo after a closed claim, yet: {m}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut reopened = reopen();
        while reopened.is_err() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            reopened = reopen();
        }
        reopened.unwrap();
    }
}
