//! The test matrix: case files under `tests/cases/`, and the jobs they expand to (case x Helm x Kubernetes).

use crate::engine::values::{self, SetFlag};
use anyhow::{bail, Context, Result};
use regex::Regex;
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Kubernetes versions a case renders against unless it names its own: the
/// oldest the chart supports (Chart.yaml kubeVersion) and the newest schemas.
pub const DEFAULT_KUBE_VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];

/// What a case expects of `helm template`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(try_from = "ExpectRepr")]
pub enum Expect {
    /// Renders, passes every check and matches its snapshot.
    Renders,
    /// Fails, with stderr matching the regular expression.
    Fails(String),
}

/// As written: `expect: renders` or `expect: { fails: "pattern" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum ExpectRepr {
    Word(String),
    Fails { fails: String },
}

impl TryFrom<ExpectRepr> for Expect {
    type Error = String;
    fn try_from(r: ExpectRepr) -> Result<Self, String> {
        match r {
            ExpectRepr::Word(w) if w == "renders" => Ok(Expect::Renders),
            ExpectRepr::Word(w) => Err(format!("expect: {w:?} is neither `renders` nor `{{ fails: PATTERN }}`")),
            ExpectRepr::Fails { fails } => Ok(Expect::Fails(fails)),
        }
    }
}

/// One case file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaseFile {
    /// What the case shows, in one sentence.
    pub description: String,
    /// Empty in the file means the harness config's default, filled in when the case loads.
    #[serde(default)]
    pub release: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub kube_versions: Vec<String>,
    /// API versions the cluster serves beyond Kubernetes' own (`--api-versions`), e.g. security.openshift.io/v1.
    #[serde(default)]
    pub api_versions: Vec<String>,
    /// Render with `--skip-schema-validation`, as an operator may: what the templates refuse without the schema.
    #[serde(default)]
    pub skip_schema_validation: bool,
    /// Values passed as a values file.
    #[serde(default)]
    pub values: Option<serde_yaml::Value>,
    /// Further values files, relative to `tests/`.
    #[serde(default)]
    pub values_files: Vec<String>,
    #[serde(default)]
    pub set: Vec<String>,
    #[serde(default)]
    pub set_string: Vec<String>,
    /// `KEY=PATH` with PATH relative to `tests/`.
    #[serde(default)]
    pub set_file: Vec<String>,
    /// Chart-relative destination -> fixture path relative to `tests/`.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Objects the rendering may reference without rendering them, as "Kind/name".
    #[serde(default)]
    pub external: Vec<String>,
    pub expect: Expect,
    /// Claims about named objects, checked on every rendering of the case (each Helm, each Kubernetes version).
    #[serde(default)]
    pub assert: Vec<crate::engine::assertions::Assertion>,
}

/// A case's release name and namespace unless it gives its own (from the harness config).
#[derive(Debug, Clone)]
pub struct Defaults {
    pub release: String,
    pub namespace: String,
}

/// A loaded case: its file, its name (path below `tests/cases/` without `.yaml`) and contents.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub path: PathBuf,
    pub spec: CaseFile,
}

impl CaseFile {
    /// Every `set`, `setString` and `setFile` entry with its flag, in the order Helm applies them.
    fn set_entries(&self) -> impl Iterator<Item = (SetFlag, &str)> {
        let flags = [(SetFlag::Set, &self.set), (SetFlag::SetString, &self.set_string), (SetFlag::SetFile, &self.set_file)];
        flags.into_iter().flat_map(|(flag, entries)| entries.iter().map(move |e| (flag, e.as_str())))
    }
}

impl Case {
    /// The values this case gives Helm, combined as Helm combines them: `values:`, the values files
    /// in order, then every `set`, `setString` and `setFile` entry (files found under `tests_dir`).
    pub fn values(&self, tests_dir: &Path) -> Result<Value> {
        let mut merged = Value::Mapping(Default::default());
        if let Some(v) = &self.spec.values {
            values::merge(&mut merged, v);
        }
        for f in &self.spec.values_files {
            values::merge(&mut merged, &values::read_values_file(&tests_dir.join(f))?);
        }
        for (flag, entry) in self.spec.set_entries() {
            values::apply_set(&mut merged, flag, entry, tests_dir)?;
        }
        Ok(merged)
    }

    pub fn kube_versions(&self) -> Vec<String> {
        if self.spec.kube_versions.is_empty() {
            DEFAULT_KUBE_VERSIONS.iter().map(|s| s.to_string()).collect()
        } else {
            self.spec.kube_versions.clone()
        }
    }

    /// The snapshot name: the case name with `/` turned into `__`.
    pub fn snapshot_name(&self) -> String {
        self.name.replace('/', "__")
    }
}

/// Reads and checks one case file; `tests_dir` anchors fixture paths.
pub fn load_case(path: &Path, cases_dir: &Path, tests_dir: &Path, defaults: &Defaults) -> Result<Case> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading case {}", path.display()))?;
    let mut spec: CaseFile = serde_yaml::from_str(&text).with_context(|| format!("case file {} is not valid", path.display()))?;
    if spec.release.is_empty() {
        spec.release = defaults.release.clone();
    }
    if spec.namespace.is_empty() {
        spec.namespace = defaults.namespace.clone();
    }
    let name = path.strip_prefix(cases_dir).unwrap_or(path).with_extension("").to_string_lossy().replace('\\', "/");
    if spec.description.trim().is_empty() {
        bail!("case file {}: description is empty", path.display());
    }
    if let Expect::Fails(pattern) = &spec.expect {
        Regex::new(pattern).with_context(|| format!("case file {}: expect.fails is not a valid regular expression", path.display()))?;
    }
    if let Some(why) = unreadable_set_entry(&spec) {
        bail!("case file {}: {why}", path.display());
    }
    if !spec.assert.is_empty() && spec.expect != Expect::Renders {
        bail!("case file {}: assert needs `expect: renders` (a case that fails renders nothing to check)", path.display());
    }
    let version = Regex::new(r"^1\.\d+\.\d+$").unwrap();
    for v in &spec.kube_versions {
        if !version.is_match(v) {
            bail!("case file {}: kubeVersions entry {v:?} is not a version like 1.30.0", path.display());
        }
    }
    let api_version = Regex::new(r"^[a-z0-9.-]+/v[0-9a-z]+(/[A-Za-z]+)?$").unwrap();
    if let Some(v) = spec.api_versions.iter().find(|v| !api_version.is_match(v)) {
        bail!("case file {}: apiVersions entry {v:?} is not a group/version like security.openshift.io/v1", path.display());
    }
    let fixtures = spec.files.values().chain(spec.values_files.iter());
    let set_files = spec.set_file.iter().map(|kv| kv.split_once('=').map(|(_, p)| p).unwrap_or(kv.as_str()));
    for fixture in fixtures.map(String::as_str).chain(set_files) {
        if !tests_dir.join(fixture).is_file() {
            bail!("case file {}: fixture {fixture} does not exist under {}", path.display(), tests_dir.display());
        }
    }
    for dest in spec.files.keys() {
        if dest.starts_with('/') || dest.split('/').any(|c| c == "..") {
            bail!("case file {}: files destination {dest:?} must be a path inside the chart", path.display());
        }
    }
    Ok(Case { name, path: path.to_path_buf(), spec })
}

/// The first `set`, `setString` or `setFile` entry the harness could not read as Helm does, and why.
fn unreadable_set_entry(spec: &CaseFile) -> Option<String> {
    spec.set_entries().find_map(|(flag, entry)| values::read_set_entry(flag, entry).err())
}

/// Every `*.yaml` under `cases_dir`, in sorted order.
pub fn discover(cases_dir: &Path, tests_dir: &Path, defaults: &Defaults) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for entry in walkdir::WalkDir::new(cases_dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("walking {}", cases_dir.display()))?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "yaml") {
            cases.push(load_case(entry.path(), cases_dir, tests_dir, defaults)?);
        }
    }
    if cases.is_empty() {
        bail!("no case files (*.yaml) under {}", cases_dir.display());
    }
    Ok(cases)
}

/// One cell of the matrix.
#[derive(Debug, Clone)]
pub struct Job {
    pub case: usize,
    pub helm: usize,
    pub kube_version: String,
}

/// Expands cases into jobs; `filter` keeps cases whose name contains it.
pub fn plan(cases: &[Case], helm_count: usize) -> Vec<Job> {
    let mut jobs = Vec::new();
    for (ci, case) in cases.iter().enumerate() {
        for helm in 0..helm_count {
            for kube_version in case.kube_versions() {
                jobs.push(Job { case: ci, helm, kube_version });
            }
        }
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Defaults {
        Defaults { release: "rel".into(), namespace: "ns".into() }
    }

    fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn unknown_field_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "cases/a.yaml", "description: x\nexpect: renders\nvalus: {}\n");
        let err = format!("{:#}", load_case(&p, &dir.path().join("cases"), dir.path(), &defaults()).unwrap_err());
        assert!(err.contains("a.yaml") && err.contains("valus"), "{err}");
    }

    #[test]
    fn fails_expectation_and_defaults_parse() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "cases/sub/b.yaml", "description: x\nexpect:\n  fails: \"JWT_SECRET.*64\"\n");
        let case = load_case(&p, &dir.path().join("cases"), dir.path(), &defaults()).unwrap();
        assert_eq!(case.name, "sub/b");
        assert_eq!(case.snapshot_name(), "sub__b");
        assert_eq!(case.spec.expect, Expect::Fails("JWT_SECRET.*64".into()));
        assert_eq!(case.kube_versions(), vec!["1.30.0", "1.37.0"]);
        assert_eq!((case.spec.release.as_str(), case.spec.namespace.as_str()), ("rel", "ns"));
    }

    #[test]
    fn missing_fixture_and_bad_regex_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "cases/c.yaml", "description: x\nexpect: renders\nfiles:\n  env/s.yaml: fixtures/none.yaml\n");
        let err = format!("{:#}", load_case(&p, &dir.path().join("cases"), dir.path(), &defaults()).unwrap_err());
        assert!(err.contains("fixtures/none.yaml"), "{err}");
        let p = write(dir.path(), "cases/d.yaml", "description: x\nexpect:\n  fails: \"(\"\n");
        assert!(load_case(&p, &dir.path().join("cases"), dir.path(), &defaults()).is_err());
    }

    #[test]
    fn a_set_entry_the_rules_cannot_read_is_refused_not_dropped() {
        let dir = tempfile::tempdir().unwrap();
        for entry in ["a.b[0]=x", "a.b=x,c=y", "a.b={x,y}", "a\\.b=x", "a.b"] {
            let p = write(dir.path(), "cases/e.yaml", &format!("description: x\nexpect: renders\nset: [{entry:?}]\n"));
            let err = format!("{:#}", load_case(&p, &dir.path().join("cases"), dir.path(), &defaults()).unwrap_err());
            assert!(err.contains("e.yaml") && err.contains("set entry"), "{entry}: {err}");
        }
        let p = write(dir.path(), "cases/f.yaml", "description: x\nexpect: renders\nset: [\"app.secrets.TOKEN=abc=def\"]\n");
        assert!(load_case(&p, &dir.path().join("cases"), dir.path(), &defaults()).is_ok(), "a value may hold `=`");
    }

    #[test]
    fn discovery_is_sorted_and_plan_is_the_full_product() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "cases/b.yaml", "description: x\nexpect: renders\n");
        write(dir.path(), "cases/a.yaml", "description: x\nexpect: renders\nkubeVersions: [\"1.31.0\"]\n");
        let cases = discover(&dir.path().join("cases"), dir.path(), &defaults()).unwrap();
        assert_eq!(cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(plan(&cases, 2).len(), 2 + 2 * 2);
    }
}
