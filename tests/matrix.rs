//! The whole chart matrix under `cargo test`: every case, Helm 3 and Helm 4, every Kubernetes version.

use heimdall_chart_tests::test_chart;

/// Drives `xtask test-chart` as a subprocess, as a maintainer runs it: snapshot checking's panic
/// hook stays in that process, so this test races no other.
#[test]
fn every_case_renders_and_conforms_under_both_helm_versions() {
    let printed = test_chart(&[]);
    let renders = printed.steps.iter().filter(|s| *s == "render").count();
    assert!(
        renders > 0,
        "the matrix ran no render (run `cargo xtask setup` first: it installs the pinned Helm versions and schemas):\n{}{}",
        printed.stdout,
        printed.stderr
    );
    assert!(
        printed.success && printed.findings().is_empty(),
        "matrix rows failed; the report names each with its reproduce command:\n{}",
        printed.stdout
    );
}
