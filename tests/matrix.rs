//! The whole chart matrix under `cargo test`: every case, Helm 3 and Helm 4, every Kubernetes version.

use heimdall_chart_tests::repo_root;
use xtask::tasks::testchart::{self, Options};

/// The only test in this binary: snapshot writing swaps the panic hook, which must not race another test.
#[test]
fn every_case_renders_and_conforms_under_both_helm_versions() {
    let mut opts = Options::new(repo_root());
    opts.verbose = true;
    let outcome = match testchart::run(&opts) {
        Ok(o) => o,
        Err(e) => panic!(
            "the chart matrix could not run: {e:#}\n(run `cargo xtask setup` first: it installs the pinned Helm versions and schemas)"
        ),
    };
    assert!(outcome.rows.iter().any(|r| r.step == "render"), "the matrix ran no render");
    assert_eq!(
        outcome.failed(),
        0,
        "{} of {} matrix rows failed; the report above names each with its reproduce command",
        outcome.failed(),
        outcome.rows.len()
    );
}
