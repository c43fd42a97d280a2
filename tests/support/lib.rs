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
