//! Helpers shared by the root package's integration tests.

use std::path::PathBuf;

/// The repository root (the root package's manifest folder).
pub fn repo_root() -> PathBuf {
    xtask::support::tools::repo_root()
}

/// target/debug/xtask, brought up to date once per test process (a stale binary would test old code).
pub fn xtask_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let bin = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("xtask");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let ok = std::process::Command::new(cargo).args(["build", "--quiet", "--package", "xtask"]).status().unwrap().success();
            assert!(ok && bin.is_file(), "could not build {}", bin.display());
            bin
        })
        .clone()
}

/// Copies the harness config and the chart it names (leaving out a developer's local files) into
/// `root`, a throwaway repository; returns the chart copy's folder.
pub fn plant_chart(root: &std::path::Path) -> PathBuf {
    use xtask::engine::config::{Config, DEFAULT_FILE};
    let config = Config::at_root(&repo_root()).expect("the repository's harness config loads");
    std::fs::copy(repo_root().join(DEFAULT_FILE), root.join(DEFAULT_FILE)).unwrap();
    let chart = root.join(config.chart_folder_name());
    xtask::engine::render::copy_chart(&config.chart, &chart, &config.local_files).unwrap();
    chart
}

/// What one `cargo xtask test-chart` process printed: its exit, its output, the step of each row
/// of its table, and each finding of a failed row.
pub struct Printed {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    pub steps: Vec<String>,
    pub findings: Vec<String>,
}

/// Runs `xtask test-chart` with `args`, in a process of its own: insta's panic hook, which
/// snapshot checking swaps, then never touches this test process.
pub fn test_chart(args: &[&std::ffi::OsStr]) -> Printed {
    let out = std::process::Command::new(xtask_binary()).arg("test-chart").args(args).output().expect("xtask runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let table = stdout.lines().skip(1).take_while(|l| !l.is_empty());
    let steps = table.filter_map(|l| l.split_whitespace().nth(3).map(str::to_string)).collect();
    let (mut findings, mut in_failure) = (Vec::new(), false);
    for line in stdout.lines() {
        if line.starts_with("FAIL ") {
            in_failure = true;
        } else if line.is_empty() {
            in_failure = false;
        } else if let Some(finding) = line.strip_prefix("  ").filter(|l| in_failure && !l.starts_with("reproduce: ")) {
            findings.push(finding.to_string());
        }
    }
    Printed { success: out.status.success(), stdout, stderr: String::from_utf8_lossy(&out.stderr).into_owned(), steps, findings }
}
