//! Private temporary folders that go however the process ends: on drop, from the signal handler (which exits without running destructors), and, after a SIGKILL, by the next run's sweep; a leaked folder can hold a cluster's client key.

use anyhow::{Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How every folder made here is named first.
const OURS: &str = "xtask-";

/// Folders alive now, for [`remove_all`].
static LIVE: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// A folder under the temp dir, mode 0700, named `{prefix}{pid}-XXXXXX`; removed on drop or by
/// [`remove_all`], and by [`sweep_orphans`] once its process is dead.
pub struct Folder {
    dir: tempfile::TempDir,
}

/// Makes a folder whose name starts with `prefix` (e.g. `xtask-e2e-run-`) and this process's id.
pub fn folder(prefix: &str) -> Result<Folder> {
    debug_assert!(prefix.starts_with(OURS) && prefix.ends_with('-'), "{prefix}");
    let dir = tempfile::Builder::new()
        .prefix(&format!("{prefix}{}-", std::process::id()))
        .tempdir()
        .with_context(|| format!("making a temporary folder {prefix}*"))?;
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).insert(dir.path().to_path_buf());
    Ok(Folder { dir })
}

impl Folder {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).remove(self.dir.path());
    }
}

/// Removes every live folder; the signal handler calls it just before the process exits.
pub fn remove_all() {
    remove_each(std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner())));
}

/// Removes the folders of processes that are gone (killed outright, so neither drop nor the signal
/// handler ran); a folder with a mount point inside is left, named, for whoever unmounts it. Returns
/// what it removed.
pub fn sweep_orphans() -> Vec<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner(&name) else { continue };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let dir = entry.path();
        if mounts.lines().filter_map(|l| l.split(' ').nth(4)).any(|m| Path::new(m).starts_with(&dir)) {
            eprintln!("{} is left: a mount point is inside it (its process {pid} is gone)", dir.display());
            continue;
        }
        if std::fs::remove_dir_all(&dir).is_ok() {
            removed.push(dir);
        }
    }
    removed
}

/// The process a folder of ours was made by: `xtask-e2e-run-4242-AbC123` → 4242.
fn owner(name: &str) -> Option<u32> {
    let (head, _random) = name.strip_prefix(OURS)?.rsplit_once('-')?;
    head.rsplit_once('-')?.1.parse().ok()
}

fn remove_each(dirs: BTreeSet<PathBuf>) {
    for dir in dirs {
        // A child still writing there (a render the interrupt has not stopped yet) can refill a
        // folder while it goes: try again briefly before saying so.
        let gone = || match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        let mut result = gone();
        for _ in 0..10 {
            if result.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            result = gone();
        }
        if let Err(e) = result {
            eprintln!("could not remove the temporary folder {}: {e}", dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(path: &Path) -> bool {
        LIVE.lock().unwrap().contains(path)
    }

    #[test]
    fn a_folder_names_its_process_and_only_our_names_have_an_owner() {
        let f = folder("xtask-scratch-test-").unwrap();
        assert_eq!(owner(&f.path().file_name().unwrap().to_string_lossy()), Some(std::process::id()));
        assert_eq!(owner("xtask-e2e-run-4242-AbC123"), Some(4242));
        for not_ours in ["yarn--1796163124625-0.26", "xtask-e2e-AbC123", "tmp-4242-AbC123", "xtask-e2e-run-x42-AbC123"] {
            assert_eq!(owner(not_ours), None, "{not_ours}");
        }
    }

    #[test]
    fn the_sweep_takes_a_dead_process_folder_and_spares_a_live_one() {
        let live = folder("xtask-scratch-test-").unwrap();
        // A pid above the kernel's limit (pid_max is at most 2^22) never runs.
        let dead = std::env::temp_dir().join(format!("xtask-scratch-test-{}-AbC123", 1u32 << 23));
        std::fs::create_dir_all(dead.join("inside")).unwrap();
        let removed = sweep_orphans();
        assert!(removed.contains(&dead) && !dead.exists(), "{removed:?}");
        assert!(live.path().exists());
    }

    #[test]
    fn a_folder_is_listed_while_alive_and_gone_when_dropped_or_removed() {
        let (dropped, removed) = (folder("xtask-scratch-test-").unwrap(), folder("xtask-scratch-test-").unwrap());
        let (dropped_path, removed_path) = (dropped.path().to_path_buf(), removed.path().to_path_buf());
        assert!(live(&dropped_path) && live(&removed_path));
        drop(dropped);
        assert!(!dropped_path.exists() && !live(&dropped_path));
        std::fs::write(removed_path.join("client.key"), "x").unwrap();
        // As remove_all does, for this folder only: other tests' folders in this binary stay.
        remove_each([removed_path.clone()].into());
        assert!(!removed_path.exists(), "{} left", removed_path.display());
    }
}
