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

/// What one `cargo xtask test-chart` process reported: its exit and output, and, from its JUnit
/// report, the step of each row and each line of a failed row's failure (findings, then its
/// reproduce command) with that row's step.
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

/// Runs `xtask test-chart` with `args`, in a process of its own (insta's panic hook, which
/// snapshot checking swaps, then never touches this test process), writing its JUnit report to
/// a file of its own, which is read.
pub fn test_chart(args: &[&std::ffi::OsStr]) -> Printed {
    let report = tempfile::NamedTempFile::new().expect("a temporary file for the JUnit report");
    let mut cmd = std::process::Command::new(xtask_binary());
    cmd.arg("test-chart").args(args).arg("--junit").arg(report.path());
    let out = cmd.output().expect("xtask runs");
    let junit = std::fs::read_to_string(report.path()).unwrap_or_default();
    read_test_chart(out, &junit)
}

/// Reads what a `test-chart` process reported: its exit and output, and its JUnit report's rows.
pub fn read_test_chart(out: std::process::Output, junit: &str) -> Printed {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let (mut steps, mut failures) = (Vec::new(), Vec::new());
    if !junit.is_empty() {
        let doc = roxmltree::Document::parse(junit).unwrap_or_else(|e| panic!("the JUnit report is not XML ({e}):\n{junit}"));
        for case in doc.descendants().filter(|n| n.has_tag_name("testcase")) {
            let step = step_of(case.attribute("name").unwrap_or_default());
            for failure in case.children().filter(|n| n.has_tag_name("failure")) {
                let body = failure.text().unwrap_or_default();
                failures.extend(body.lines().map(|line| (step.clone(), line.to_string())));
            }
            steps.push(step);
        }
    }
    Printed { success: out.status.success(), stdout, stderr, steps, failures }
}

/// The step of a JUnit test case named `case [step helm kube]`.
fn step_of(name: &str) -> String {
    let inside = name.rsplit_once('[').map(|(_, rest)| rest).unwrap_or_default();
    inside.split(' ').next().unwrap_or_default().to_string()
}
