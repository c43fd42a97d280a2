//! The engine on a chart it has never heard of: `helm create hello`, made to meet the generic rules, passes with the generic checks only, and a defect planted in it is caught.

use heimdall_chart_tests::{repo_root, test_chart};
use std::path::{Path, PathBuf};
use xtask::tasks::testchart::{self, Options, Outcome};

const OTHER: &str = "tests/other-chart";

/// A run without snapshots (checking them swaps the panic hook, which only a process of its own may).
fn run(repo: PathBuf, config: &Path) -> Outcome {
    let mut opts = Options::new(repo);
    opts.config = config.to_path_buf();
    opts.snapshots = false;
    testchart::run(&opts).unwrap_or_else(|e| panic!("the harness could not run on {OTHER}: {e:#}\n(run `cargo xtask setup` first)"))
}

/// Each failure of a run as `check: finding`.
fn failures(outcome: &Outcome) -> Vec<String> {
    outcome.rows.iter().flat_map(|r| r.failures.iter().map(ToString::to_string)).collect()
}

/// A copy of the other chart's folder, as a repository of its own, with `find` replaced by `replace` in `file`.
fn planted(file: &str, find: &str, replace: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in walkdir::WalkDir::new(repo_root().join(OTHER)).into_iter().filter_map(Result::ok) {
        let target = dir.path().join(entry.path().strip_prefix(repo_root().join(OTHER)).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(find), "{file} no longer holds {find:?}; plant the defect elsewhere");
    std::fs::write(&path, text.replacen(find, replace, 1)).unwrap();
    dir
}

#[test]
fn a_helm_create_chart_passes_the_generic_checks_and_its_planted_defect_is_caught() {
    let config = Path::new(OTHER).join("chart-harness.yaml");
    let clean = test_chart(&["--config".as_ref(), config.as_os_str()]);
    assert!(clean.success && clean.findings().is_empty(), "the other chart fails the generic checks or its snapshots:\n{}", clean.stdout);
    let renders = clean.steps.iter().filter(|s| *s == "render").count();
    assert_eq!(renders, 3 * 2 * 2, "three cases, two Helms, two Kubernetes versions:\n{}", clean.stdout);
    assert!(clean.steps.iter().any(|s| s == "snapshot"), "the other chart's snapshots are checked:\n{}", clean.stdout);
    assert!(!clean.steps.iter().any(|s| s == "app-source"), "a generic run checks no app's source:\n{}", clean.stdout);

    // A Service selector naming a label its pods do not carry: it renders, lints and validates,
    // and routes to nothing. Snapshots are off: a diff a reviewer accepts catches nothing.
    let defect = "    {{- include \"hello.selectorLabels\" . | nindent 4 }}";
    let broken = planted("hello/templates/service.yaml", defect, "    app: {{ include \"hello.name\" . }}");
    let found = failures(&run(broken.path().to_path_buf(), Path::new("chart-harness.yaml")));
    assert!(!found.is_empty() && found.iter().all(|f| f.starts_with("HC009")), "only HC009 should catch the selector: {found:#?}");
    assert!(found.iter().any(|f| f.contains("Service/hello") && f.contains("selector")), "{found:#?}");
}
