//! `cargo xtask actionlint`: the GitHub workflows checked by a pinned actionlint, built from its Go module into `.tools/`.

use crate::tools::{repo_root, tools_dir};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned actionlint release (github.com/rhysd/actionlint).
pub const ACTIONLINT_VERSION: &str = "v1.7.12";

pub fn actionlint() -> PathBuf {
    tools_dir().join("actionlint").join(ACTIONLINT_VERSION).join("actionlint")
}

/// Installs the pinned actionlint unless present: `go install` with its version stamped in, as its release build does.
pub fn setup_actionlint(say: &dyn Fn(String)) -> Result<()> {
    let bin = actionlint();
    if bin.is_file() {
        say(format!("setup: actionlint {ACTIONLINT_VERSION} present"));
        return Ok(());
    }
    say(format!("setup: building actionlint {ACTIONLINT_VERSION} with go install"));
    let dir = bin.parent().unwrap();
    std::fs::create_dir_all(dir)?;
    let out = Command::new("go")
        .args(["install", "-ldflags", &format!("-s -w -X github.com/rhysd/actionlint.version={ACTIONLINT_VERSION}")])
        .arg(format!("github.com/rhysd/actionlint/cmd/actionlint@{ACTIONLINT_VERSION}"))
        .env("GOBIN", dir)
        .output()
        .with_context(|| format!("running go install for actionlint (install Go {} or newer)", crate::tools::GO_VERSION))?;
    if !out.status.success() {
        bail!(
            "go install github.com/rhysd/actionlint/cmd/actionlint@{ACTIONLINT_VERSION} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Runs actionlint over every workflow in `dir`; fails with its findings (file:line:col: message [rule]).
pub fn lint(dir: &Path) -> Result<usize> {
    setup_actionlint(&|_| {})?;
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    if files.is_empty() {
        bail!("no workflow files in {}", dir.display());
    }
    let out = Command::new(actionlint()).arg("-no-color").args(&files).output().context("running actionlint")?;
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
