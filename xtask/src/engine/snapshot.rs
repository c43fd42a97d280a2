//! Snapshots: one insta YAML snapshot per case, shared by Helm 3 and Helm 4, with a unified diff per document on mismatch.

use crate::engine::matrix::Case;
use similar::TextDiff;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What a run may do with snapshot files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `CI=true`: nothing is written; new, changed or unreferenced snapshots fail.
    Check,
    /// A developer's run: a changed or new snapshot fails and leaves `.snap.new` for review.
    Pending,
    /// `--review`: print the diffs, then accept them (and delete unreferenced snapshots).
    Accept,
    /// No comparison at all: the mutation suite's runs, where accepting every
    /// diff is what a hurried reviewer would do.
    Off,
}

impl Mode {
    pub fn from_env(review: bool) -> Mode {
        if review {
            Mode::Accept
        } else if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false") {
            Mode::Check
        } else {
            Mode::Pending
        }
    }

    /// Sets insta's environment for this mode; call once, before any thread starts.
    pub fn configure_insta(self, workspace: &Path) {
        if self == Mode::Off {
            // Nothing is compared or written: leave the process environment alone.
            return;
        }
        std::env::set_var("INSTA_WORKSPACE_ROOT", workspace);
        if std::env::var_os("INSTA_OUTPUT").is_none() {
            // The harness prints its own per-document diff.
            std::env::set_var("INSTA_OUTPUT", "none");
        }
        std::env::remove_var("INSTA_FORCE_PASS");
        match self {
            Mode::Check => std::env::set_var("INSTA_UPDATE", "no"),
            Mode::Pending => std::env::set_var("INSTA_UPDATE", "new"),
            Mode::Accept => std::env::set_var("INSTA_UPDATE", "always"),
            Mode::Off => {}
        }
    }
}

/// How a rendering compares with its stored snapshot.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Matches,
    New,
    Changed { diff: String },
}

pub fn path_for(dir: &Path, case: &Case) -> PathBuf {
    dir.join(format!("{}.snap", case.snapshot_name()))
}

/// The stored contents, read with insta's own reader.
pub fn stored(dir: &Path, case: &Case) -> Option<String> {
    let snap = insta::Snapshot::from_file(&path_for(dir, case)).ok()?;
    Some(snap.as_text()?.to_string())
}

pub fn compare(dir: &Path, case: &Case, content: &str) -> Outcome {
    match stored(dir, case) {
        None => Outcome::New,
        Some(old) if old.trim_end() == content.trim_end() => Outcome::Matches,
        Some(old) => Outcome::Changed { diff: diff_by_document(&old, content) },
    }
}

/// Writes through insta according to the mode set by [`Mode::configure_insta`]:
/// `.snap.new` (Pending), nothing (Check), or the `.snap` itself (Accept).
/// Returns whether insta accepted the content. insta reports a mismatch by panicking, so this
/// silences the process's panic hook meanwhile: call it from one thread of a process of its own
/// (`cargo xtask test-chart`; the tests drive that binary rather than call it in theirs).
pub fn record(dir: &Path, case: &Case, content: &str) -> bool {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(case.spec.description.clone());
    settings.set_input_file(&case.path);
    let name = case.snapshot_name();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, content));
    }))
    .is_ok();
    std::panic::set_hook(previous);
    if ok && std::env::var("INSTA_UPDATE").as_deref() == Ok("always") {
        // An accepted snapshot leaves no pending copy behind.
        let _ = std::fs::remove_file(path_for(dir, case).with_extension("snap.new"));
    }
    ok
}

/// `.snap` files in `dir` that belong to no case.
pub fn unreferenced(dir: &Path, cases: &[Case]) -> Vec<PathBuf> {
    let names: BTreeSet<String> = cases.iter().map(|c| format!("{}.snap", c.snapshot_name())).collect();
    let Ok(entries) = std::fs::read_dir(dir) else { return vec![] };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .filter(|p| !names.contains(&p.file_name().unwrap().to_string_lossy().to_string()))
        .collect();
    out.sort();
    out
}

/// Splits snapshot text into documents keyed by their first lines (source, kind, name).
fn documents(text: &str) -> BTreeMap<String, String> {
    let mut docs = BTreeMap::new();
    for (i, chunk) in text.split("\n---").enumerate() {
        let chunk = chunk.trim_start_matches("---");
        let head: Vec<&str> = chunk
            .lines()
            .filter(|l| l.starts_with("# Source") || l.starts_with("kind:") || l.starts_with("  name:") || l.starts_with(" NOTES"))
            .take(3)
            .collect();
        let key = if head.is_empty() { format!("document {i}") } else { head.join(" ") };
        docs.insert(key, chunk.trim().to_string() + "\n");
    }
    docs
}

/// A unified diff per document that changed, appeared or disappeared.
pub fn diff_by_document(old: &str, new: &str) -> String {
    let (a, b) = (documents(old), documents(new));
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out = String::new();
    for key in keys {
        let (x, y) = (a.get(key).map(String::as_str).unwrap_or(""), b.get(key).map(String::as_str).unwrap_or(""));
        if x != y {
            out.push_str(&format!("=== {key}\n"));
            out.push_str(&TextDiff::from_lines(x, y).unified_diff().context_radius(3).header("snapshot", "rendered").to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_only_the_changed_document() {
        let old = "---\n# Source: templates/a.yaml\nkind: A\nmetadata:\n  name: a\nx: 1\n---\n# Source: templates/b.yaml\nkind: B\nmetadata:\n  name: b\ny: 1\n";
        let new = old.replace("y: 1", "y: 2");
        let d = diff_by_document(old, &new);
        assert!(d.contains("templates/b.yaml") && !d.contains("templates/a.yaml"), "{d}");
        assert!(d.contains("-y: 1") && d.contains("+y: 2"), "{d}");
    }

    #[test]
    fn unreferenced_lists_snapshots_without_a_case() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("gone.snap"), "x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        assert_eq!(unreferenced(dir.path(), &[]), vec![dir.path().join("gone.snap")]);
    }
}
