//! What `cargo xtask` tells a machine that has neither Helm nor Go: exactly what to install and what to run.

use assert_cmd::Command;

/// target/debug/xtask on a machine without Go, Helm or Python.
fn xtask() -> Command {
    let bin = heimdall_chart_tests::xtask_binary();
    let mut cmd = Command::new(bin);
    // A PATH with no go, no helm and no python3; an empty tools folder.
    cmd.env("PATH", "/nonexistent").env_remove("HELM");
    cmd
}

#[test]
fn without_helm_the_matrix_says_to_run_setup() {
    let tools = tempfile::tempdir().unwrap();
    xtask()
        .env("XTASK_TOOLS_DIR", tools.path())
        .args(["test-chart", "--filter", "defaults"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("no Helm 3 (v3.21.4) or Helm 4 (v4.2.4) found"))
        .stderr(predicates::str::contains("Run `cargo xtask setup`"));
}

#[test]
fn without_go_setup_says_to_install_go_or_point_at_a_helm() {
    let tools = tempfile::tempdir().unwrap();
    xtask()
        .env("XTASK_TOOLS_DIR", tools.path())
        .arg("setup")
        .assert()
        .failure()
        .stderr(predicates::str::contains("Go is not installed. Install Go"))
        .stderr(predicates::str::contains("$HELM / --helm"));
}
