//! The harness reads each case's values (`Case::values`) exactly as Helm 3 and Helm 4 combine them.
//!
//! The rules judge a rendering against what the case asked for, read from the case itself. If that
//! reading merged files, typed `--set` or read YAML differently from Helm, a rule could pass or fail
//! for the wrong reason. So every case's value arguments, the same ones its renders get, go to the
//! pinned Helms with a stub chart whose one template prints `.Values`, and the two must agree.

use heimdall_chart_tests::repo_root;
use serde_json::Value as Json;
use std::path::Path;
use xtask::engine::config::{Checks, Config};
use xtask::engine::matrix::{self, Case};
use xtask::engine::render::{self, Purpose};
use xtask::support::tools::HELM_PINS;

/// A chart with no values of its own and one template that prints the values Helm hands it.
fn stub_chart(dir: &Path) -> std::path::PathBuf {
    let chart = dir.join("stub");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: stub\nversion: 0.1.0\n").unwrap();
    std::fs::write(chart.join("templates/values.yaml"), "{{ toJson .Values }}\n").unwrap();
    chart
}

/// Numbers compared by value: Helm reads values files' numbers as floats, so `2.0` prints as `2`.
fn numbers_as_floats(v: Json) -> Json {
    match v {
        Json::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Json::Array(a) => Json::Array(a.into_iter().map(numbers_as_floats).collect()),
        Json::Object(o) => Json::Object(o.into_iter().map(|(k, v)| (k, numbers_as_floats(v))).collect()),
        other => other,
    }
}

/// The harness config for the stub chart, with the cases under `tests`.
fn stub_config(chart: &Path, tests: &Path) -> Config {
    let (cases, snapshots) = (tests.join("cases"), tests.join("snapshots"));
    let (release, namespace) = ("values-probe".to_string(), "values-probe".to_string());
    Config {
        chart: chart.to_path_buf(),
        tests: tests.to_path_buf(),
        cases,
        snapshots,
        release,
        namespace,
        local_files: vec![],
        checks: Checks::Generic,
        recorder: None,
        cluster_only_refusals: vec![],
        globals: Default::default(),
    }
}

/// The values one Helm gives the stub chart for `case`'s value arguments.
fn helm_values(helm: &Path, case: &Case, tests: &Path, chart: &Path, work: &Path) -> Result<Json, String> {
    let prepared = render::prepare(case, &stub_config(chart, tests), work, Purpose::AsShipped).map_err(|e| format!("{e:#}"))?;
    let out = std::process::Command::new(helm)
        .args(["template", "values-probe"])
        .arg(&prepared.chart_dir)
        .args(&prepared.value_args)
        .env("KUBECONFIG", "/dev/null")
        .output()
        .map_err(|e| format!("running {}: {e}", helm.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("helm failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let json = stdout.lines().find(|l| l.starts_with('{')).ok_or_else(|| format!("no values printed:\n{stdout}"))?;
    serde_json::from_str(json).map_err(|e| format!("{e}: {json}"))
}

/// Where the harness's reading of `case` differs from what `helm` makes of it.
fn difference(helm: &Path, case: &Case, chart: &Path, work: &Path) -> Option<String> {
    let tests = repo_root().join("tests");
    let ours = case.values(&tests).map_err(|e| format!("{e:#}"));
    let ours = ours.and_then(|v| serde_json::to_value(v).map_err(|e| format!("not JSON: {e}")));
    let theirs = helm_values(helm, case, &tests, chart, work);
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) if numbers_as_floats(ours.clone()) == numbers_as_floats(theirs.clone()) => None,
        (ours, theirs) => Some(format!("{} under {}:\n  harness: {ours:?}\n  helm:    {theirs:?}", case.name, helm.display())),
    }
}

#[test]
fn every_case_is_read_as_both_helms_read_it() {
    let root = repo_root();
    let cases = Config::at_root(&root).and_then(|c| c.cases()).expect("the cases load");
    let dir = tempfile::tempdir().unwrap();
    let chart = stub_chart(dir.path());
    let mut differences = Vec::new();
    for pin in HELM_PINS {
        let helm = pin.binary();
        assert!(helm.is_file(), "{} is missing: run `cargo xtask setup` first", helm.display());
        let work = dir.path().join(pin.version);
        differences.extend(cases.iter().filter_map(|case| difference(&helm, case, &chart, &work)));
    }
    assert!(cases.len() > 100, "the walk found the cases: {}", cases.len());
    assert!(differences.is_empty(), "{} readings differ from Helm's:\n{}", differences.len(), differences.join("\n"));
}

#[test]
fn the_comparison_sees_a_yaml_1_1_key_that_the_harness_would_misread() {
    // Helm reads values files as YAML 1.1, where the key `y` is the boolean true: proof the probe
    // reports a real difference rather than agreeing with anything.
    let dir = tempfile::tempdir().unwrap();
    let tests = dir.path().join("tests");
    std::fs::create_dir_all(tests.join("cases")).unwrap();
    std::fs::write(tests.join("v.yaml"), "y: 3\n").unwrap();
    std::fs::write(tests.join("cases/c.yaml"), "description: a key YAML 1.1 reads as a boolean\nexpect: renders\nvaluesFiles: [v.yaml]\n")
        .unwrap();
    let defaults = matrix::Defaults { release: "r".into(), namespace: "n".into() };
    let case = matrix::discover(&tests.join("cases"), &tests, &defaults).unwrap().remove(0);
    let values = case.values(&tests).unwrap();
    assert_eq!(values["y"], serde_yaml::Value::from(3), "the harness reads YAML 1.2");
    let chart = stub_chart(dir.path());
    let helm = HELM_PINS[0].binary();
    let theirs = helm_values(&helm, &case, &tests, &chart, &dir.path().join("work")).unwrap();
    assert_eq!(theirs, serde_json::json!({"true": 3}), "Helm reads `y` as true");
}
