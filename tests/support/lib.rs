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
/// of its table, and each line under a failed row's header (findings, then its reproduce command)
/// with that row's step.
pub struct Printed {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    pub steps: Vec<String>,
    pub failures: Vec<(String, String)>,
}

impl Printed {
    /// The findings of every failed row, without the reproduce commands.
    pub fn findings(&self) -> Vec<&str> {
        self.failures.iter().map(|(_, line)| line.as_str()).filter(|l| !l.starts_with("reproduce: ")).collect()
    }
}

/// Runs `xtask test-chart` with `args`, in a process of its own: insta's panic hook, which
/// snapshot checking swaps, then never touches this test process.
pub fn test_chart(args: &[&std::ffi::OsStr]) -> Printed {
    let mut cmd = std::process::Command::new(xtask_binary());
    cmd.arg("test-chart").args(args);
    read_test_chart(cmd.output().expect("xtask runs"))
}

/// Reads what a `test-chart` process printed: its table's steps, and each failed row's lines.
pub fn read_test_chart(out: std::process::Output) -> Printed {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let table = stdout.lines().skip(1).take_while(|l| !l.is_empty());
    let steps = table.filter_map(|l| l.split_whitespace().nth(3).map(str::to_string)).collect();
    let (mut failures, mut step) = (Vec::new(), String::new());
    for line in stdout.lines() {
        if let Some(header) = line.strip_prefix("FAIL ") {
            step = header.rsplit_once('[').map(|(_, s)| s.split(' ').next().unwrap_or("").to_string()).unwrap_or_default();
        } else if let Some(said) = line.strip_prefix("  ").filter(|_| !step.is_empty()) {
            failures.push((step.clone(), said.to_string()));
        } else if line.is_empty() {
            step.clear();
        }
    }
    Printed { success: out.status.success(), stdout, stderr: String::from_utf8_lossy(&out.stderr).into_owned(), steps, failures }
}
