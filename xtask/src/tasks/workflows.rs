//! `cargo xtask actionlint`: the GitHub workflows checked by the pinned actionlint that `tools` builds into the tools folder.

use crate::support::tools::{repo_root, ACTIONLINT};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs actionlint over every workflow in `dir`; fails with its findings (file:line:col: message [rule]).
pub fn lint(dir: &Path) -> Result<usize> {
    ACTIONLINT.setup(&|_| {})?;
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    if files.is_empty() {
        bail!("no workflow files in {}", dir.display());
    }
    let out = crate::support::process::output(Command::new(ACTIONLINT.binary()).arg("-no-color").args(&files), "actionlint")?;
    if !out.status.success() {
        bail!(
            "actionlint found problems in {}:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(files.len())
}

/// The repository's own workflows.
pub fn workflows_dir() -> PathBuf {
    repo_root().join(".github").join("workflows")
}
