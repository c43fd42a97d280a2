//! The snapshot workflow on a throwaway copy of the repository: CI writes nothing and fails on new, changed or unreferenced snapshots; a developer run leaves `.snap.new`; `--review` accepts and removes stale ones.

use heimdall_chart_tests::{plant_chart, read_test_chart, repo_root, xtask_binary};
use std::path::{Path, PathBuf};

/// A repository with the real chart, the served-paths list, one case (`defaults`), its real snapshot, and whatever `extra` cases.
fn scratch_repo(extra_case: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    plant_chart(root);
    std::fs::create_dir_all(root.join("tests/cases")).unwrap();
    std::fs::create_dir_all(root.join("tests/snapshots")).unwrap();
    std::fs::create_dir_all(root.join("tests/app")).unwrap();
    std::fs::copy(repo_root().join(xtask::checks::appsource::SERVED_PATHS), root.join(xtask::checks::appsource::SERVED_PATHS)).unwrap();
    std::fs::copy(repo_root().join("tests/cases/defaults.yaml"), root.join("tests/cases/defaults.yaml")).unwrap();
    std::fs::copy(repo_root().join("tests/snapshots/defaults.snap"), root.join("tests/snapshots/defaults.snap")).unwrap();
    if let Some(text) = extra_case {
        std::fs::write(root.join("tests/cases/extra.yaml"), text).unwrap();
    }
    dir
}

/// What one `cargo xtask test-chart --repo` run said: the failures of every row but template
/// coverage and refusal coverage (which two cases cannot satisfy), and coverage's own, as printed.
struct Said {
    failures: String,
    coverage: String,
}

/// Runs the xtask binary, so insta's modes come from this run's environment alone and its panic
/// hook stays in that process.
fn run(repo: &Path, ci: bool, review: bool) -> Said {
    let mut cmd = std::process::Command::new(xtask_binary());
    cmd.arg("test-chart").arg("--repo").arg(repo).env_remove("INSTA_UPDATE").env_remove("INSTA_FORCE_PASS");
    if ci {
        cmd.env("CI", "true");
    } else {
        cmd.env_remove("CI");
    }
    if review {
        cmd.arg("--review");
    }
    let report = tempfile::NamedTempFile::new().unwrap();
    cmd.arg("--junit").arg(report.path());
    let out = cmd.output().expect("xtask runs");
    let printed = read_test_chart(out, &std::fs::read_to_string(report.path()).unwrap_or_default());
    assert!(printed.stdout.contains(" passed, "), "test-chart did not finish:\n{}\n{}", printed.stdout, printed.stderr);
    let said = |coverage: bool| {
        let lines = printed.failures.iter().filter(|(step, _)| (step == "coverage" || step == "refusals") == coverage);
        lines.map(|(_, line)| line.as_str()).collect::<Vec<_>>().join("\n")
    };
    Said { failures: said(false), coverage: said(true) }
}

fn snap(repo: &Path, name: &str) -> PathBuf {
    repo.join("tests/snapshots").join(name)
}

const EXTRA: &str = "description: an extra case with a custom port\nvalues:\n  service:\n    port: 8080\nexpect: renders\n";

#[test]
fn ci_writes_nothing_developers_get_pending_files_and_review_accepts() {
    // CI: a changed snapshot, a new one and an unreferenced one all fail, and nothing is written.
    let repo = scratch_repo(Some(EXTRA));
    let changed = std::fs::read_to_string(snap(repo.path(), "defaults.snap")).unwrap().replace("port: 3000", "port: 3001");
    std::fs::write(snap(repo.path(), "defaults.snap"), &changed).unwrap();
    std::fs::write(snap(repo.path(), "gone.snap"), "---\nsource: x\n---\nstale\n").unwrap();
    let said = run(repo.path(), true, false).failures;
    let removed = said.lines().any(|l| l.starts_with('-') && l.ends_with("port: 3001"));
    let added = said.lines().any(|l| l.starts_with('+') && l.ends_with("port: 3000"));
    assert!(said.contains("defaults.snap changed") && said.contains("templates/service.yaml") && removed && added, "{said}");
    assert!(said.contains("new snapshot") && said.contains("extra.snap"), "{said}");
    assert!(said.contains("gone.snap belongs to no case"), "{said}");
    assert_eq!(std::fs::read_to_string(snap(repo.path(), "defaults.snap")).unwrap(), changed, "CI rewrote a snapshot");
    let written: Vec<_> = std::fs::read_dir(repo.path().join("tests/snapshots")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(written.len(), 2, "CI wrote snapshot files: {written:?}");

    // A developer run: the same failures, each leaving a .snap.new to review.
    let repo = scratch_repo(Some(EXTRA));
    std::fs::write(snap(repo.path(), "defaults.snap"), &changed).unwrap();
    let said = run(repo.path(), false, false).failures;
    assert!(said.contains("defaults.snap changed"), "{said}");
    assert!(snap(repo.path(), "defaults.snap.new").is_file() && snap(repo.path(), "extra.snap.new").is_file());
    assert_eq!(std::fs::read_to_string(snap(repo.path(), "defaults.snap")).unwrap(), changed, "a developer run overwrote a snapshot");

    // --review accepts both and removes the stale snapshot; the next CI run passes. (A new
    // scratch repository: insta reads its environment once per workspace and process.)
    let repo = scratch_repo(Some(EXTRA));
    std::fs::write(snap(repo.path(), "defaults.snap"), &changed).unwrap();
    std::fs::write(snap(repo.path(), "defaults.snap.new"), "left from an earlier run").unwrap();
    std::fs::write(snap(repo.path(), "gone.snap"), "---\nsource: x\n---\nstale\n").unwrap();
    assert_eq!(run(repo.path(), false, true).failures, "");
    assert!(!snap(repo.path(), "defaults.snap.new").exists() && !snap(repo.path(), "gone.snap").exists());
    assert!(std::fs::read_to_string(snap(repo.path(), "extra.snap")).unwrap().contains("port: 8080"));
    let repo_ci = scratch_repo(Some(EXTRA));
    for name in ["defaults.snap", "extra.snap"] {
        std::fs::copy(snap(repo.path(), name), snap(repo_ci.path(), name)).unwrap();
    }
    let said = run(repo_ci.path(), true, false);
    assert_eq!(said.failures, "");
    // Two cases leave templates without a document: the coverage check names them.
    assert!(said.coverage.lines().any(|l| l.starts_with("coverage: templates/hpa.yaml produced no document")), "{}", said.coverage);
    assert!(!said.coverage.contains("templates/deployment.yaml"), "{}", said.coverage);
}
