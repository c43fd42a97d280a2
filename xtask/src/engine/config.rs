//! What the harness tests: the chart, its cases and snapshots, a case's default release and namespace, the chart's local files, and which checks run; read from `chart-harness.yaml`.
//!
//! The engine names no chart: everything particular to one comes from this
//! file (at the repository root unless `--config` names another), and the
//! command line may override the chart folder.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file the harness reads at the repository root unless told otherwise.
pub const DEFAULT_FILE: &str = "chart-harness.yaml";

/// Which checks judge a rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Checks {
    /// Every conformance rule and the app-source lists: the chart's whole contract.
    All,
    /// Only the rules any chart should meet (schemas, references, labels, Pod Security, ports,
    /// determinism, pod wiring), plus snapshots and template coverage.
    Generic,
}

/// The config file as written; paths are relative to the file's folder.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct File {
    chart: PathBuf,
    tests: PathBuf,
    cases: PathBuf,
    snapshots: PathBuf,
    release: String,
    namespace: String,
    #[serde(default)]
    local_files: Vec<String>,
    checks: Checks,
    #[serde(default)]
    recorder: Option<String>,
    #[serde(default)]
    cluster_only_refusals: Vec<String>,
    #[serde(default)]
    globals: BTreeMap<String, Precedence>,
}

/// How a global value meets the values it stands for (each a dotted path).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Precedence {
    /// Values that win over the global when set: the global is only their default.
    #[serde(default)]
    pub default: Vec<String>,
    /// Values the global replaces when it is set.
    #[serde(default, rename = "override")]
    pub override_: Vec<String>,
}

/// The harness's configuration, with every path made absolute.
#[derive(Debug, Clone)]
pub struct Config {
    /// The chart folder.
    pub chart: PathBuf,
    /// The folder fixture paths in case files are relative to.
    pub tests: PathBuf,
    /// Where the case files are.
    pub cases: PathBuf,
    /// Where each case's reviewed snapshot is.
    pub snapshots: PathBuf,
    /// A case's release name and namespace unless it gives its own.
    pub release: String,
    pub namespace: String,
    /// Patterns (`*` matches within a path segment) of files in the chart folder that a chart copy
    /// never takes: a developer's own files must not change what a case renders.
    pub local_files: Vec<String>,
    pub checks: Checks,
    /// The template the chart's validations record each problem with, when it has one: every call of
    /// it must be reached by an expected-failure case.
    pub recorder: Option<String>,
    /// The starts of recorded messages only a cluster can produce (they judge what `lookup` finds,
    /// which `helm template` never does), left to the lifecycle scenarios.
    pub cluster_only_refusals: Vec<String>,
    /// Global values (dotted paths) and how they meet the values they stand for; `cargo xtask fuzz`
    /// sets both and checks the rendering follows this.
    pub globals: BTreeMap<String, Precedence>,
}

impl Config {
    /// Reads `path` (relative to `repo` unless absolute), naming the file and the field on any error.
    pub fn load(repo: &Path, path: &Path) -> Result<Config> {
        let path = repo.join(path);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading the harness config {}", path.display()))?;
        let file: File = serde_yaml::from_str(&text).with_context(|| format!("harness config {} is not valid", path.display()))?;
        let base = path.parent().unwrap_or(repo);
        let config = Config {
            chart: base.join(file.chart),
            tests: base.join(file.tests),
            cases: base.join(file.cases),
            snapshots: base.join(file.snapshots),
            release: file.release,
            namespace: file.namespace,
            local_files: file.local_files,
            checks: file.checks,
            recorder: file.recorder,
            cluster_only_refusals: file.cluster_only_refusals,
            globals: file.globals,
        };
        config.validate(&format!("harness config {}", path.display()), "point `chart:` at the chart's folder")?;
        Ok(config)
    }

    /// This config with its chart replaced by `--chart` (relative to `repo` unless absolute).
    pub fn with_chart(mut self, repo: &Path, chart: &Path) -> Result<Config> {
        self.chart = repo.join(chart);
        self.validate(&format!("--chart {}", chart.display()), "name the chart's folder")?;
        Ok(self)
    }

    /// The configuration at the repository root.
    pub fn at_root(repo: &Path) -> Result<Config> {
        Config::load(repo, Path::new(DEFAULT_FILE))
    }

    /// Fails naming `origin` (the config file, or the flag that changed it) and how to `fix` a chart
    /// folder without a Chart.yaml.
    fn validate(&self, origin: &str, fix: &str) -> Result<()> {
        if !self.chart.join("Chart.yaml").is_file() {
            bail!("{origin}: chart {} has no Chart.yaml; {fix}", self.chart.display());
        }
        if self.release.is_empty() || self.namespace.is_empty() {
            bail!("{origin}: `release` and `namespace` must not be empty");
        }
        Ok(())
    }

    /// A case's release name and namespace unless it gives its own.
    pub fn case_defaults(&self) -> crate::engine::matrix::Defaults {
        crate::engine::matrix::Defaults { release: self.release.clone(), namespace: self.namespace.clone() }
    }

    /// Every case under `cases`, with the defaults filled in.
    pub fn cases(&self) -> Result<Vec<crate::engine::matrix::Case>> {
        crate::engine::matrix::discover(&self.cases, &self.tests, &self.case_defaults())
    }

    /// The chart's folder name, which its copies keep (Helm names sources by the chart, not the folder).
    pub fn chart_folder_name(&self) -> String {
        self.chart.file_name().map_or_else(|| "chart".into(), |n| n.to_string_lossy().into_owned())
    }
}

/// Whether `rel` (a path inside the chart, `/`-separated) matches one of `patterns`, where `*`
/// matches any run of characters within one path segment.
pub fn is_local_file(rel: &Path, patterns: &[String]) -> bool {
    let rel = rel.to_string_lossy().replace('\\', "/");
    patterns.iter().any(|p| wildcard(p.as_bytes(), rel.as_bytes()))
}

fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&pattern[1..], text) || (text.first().is_some_and(|c| *c != b'/') && wildcard(pattern, &text[1..])),
        (Some(p), Some(t)) if p == t => wildcard(&pattern[1..], &text[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_files_match_by_pattern_within_a_segment() {
        let patterns = vec!["env/*secrets*.yaml".to_string(), "env/*secrets*.yml".to_string()];
        assert!(is_local_file(Path::new("env/app-secrets.yaml"), &patterns));
        assert!(is_local_file(Path::new("env/prod-secrets.yml"), &patterns));
        assert!(!is_local_file(Path::new("env/appconfig.yaml"), &patterns));
        assert!(!is_local_file(Path::new("templates/secret.yaml"), &patterns));
        assert!(!is_local_file(Path::new("env/x/secrets.yaml"), &patterns), "`*` stays within a segment");
    }

    #[test]
    fn a_config_names_its_file_and_field_when_wrong() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("chart")).unwrap();
        std::fs::create_dir_all(dir.path().join("cases")).unwrap();
        let write = |text: &str| std::fs::write(dir.path().join("c.yaml"), text).unwrap();
        let good = "chart: chart\ntests: .\ncases: cases\nsnapshots: snaps\nrelease: r\nnamespace: n\nchecks: generic\n";
        write(&good.replace("checks: generic", "checks: some"));
        let err = format!("{:#}", Config::load(dir.path(), Path::new("c.yaml")).unwrap_err());
        assert!(err.contains("c.yaml is not valid") && err.contains("checks"), "{err}");
        write(good);
        let err = format!("{:#}", Config::load(dir.path(), Path::new("c.yaml")).unwrap_err());
        assert!(err.contains("c.yaml: chart") && err.contains("has no Chart.yaml; point `chart:`"), "{err}");
        std::fs::write(dir.path().join("chart/Chart.yaml"), "name: c\n").unwrap();
        let config = Config::load(dir.path(), Path::new("c.yaml")).unwrap();
        assert_eq!((config.chart.clone(), config.checks), (dir.path().join("chart"), Checks::Generic));
        let err = format!("{:#}", config.with_chart(dir.path(), Path::new("cases")).unwrap_err());
        assert!(err.contains("--chart cases: chart") && err.contains("name the chart's folder"), "{err}");
    }
}
