//! `cargo xtask mutants`: mutation testing for the chart. Each mutant plants one defect into a throwaway copy; the matrix (snapshots off) must catch it with the checks it declares.

pub mod pods;

use crate::checks::rules::all_rules;
use crate::engine::schema::Schemas;
use crate::support::report::checks;
use crate::support::tools::HelmMajor;
use crate::tasks::testchart::{self, Options, Reach};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One mutant file under `tests/mutants/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MutantFile {
    /// The defect it models, in one line.
    pub defect: String,
    /// Chart-relative template path, e.g. `templates/secret.yaml`.
    pub template: String,
    /// Text that must occur exactly once in the template.
    pub find: String,
    pub replace: String,
    /// The exact set of checks that catch it (rule ids or harness checks such as `list-map`).
    pub caught_by: BTreeSet<String>,
    /// Run it on the whole matrix (both Helms, every Kubernetes version), for a catch that needs
    /// another Kubernetes version than a case's oldest; the other Helm, a second render and lint are
    /// implied by `agreement`, HC011 and `lint`.
    #[serde(default)]
    pub full_matrix: bool,
}

/// The Helm a narrow mutant run renders with: the current major version.
pub const NARROW_HELM: HelmMajor = HelmMajor::V4;

impl MutantFile {
    /// How much of the matrix it takes to show the catches it declares: `agreement` needs both
    /// Helms, HC011 a second render, `lint` Helm's linter, `fullMatrix` every Kubernetes version;
    /// all else shows on one Helm at each case's oldest version, a quarter of the renders, unlinted.
    pub fn reach(&self) -> Reach {
        let needs_full = self.full_matrix || [checks::AGREEMENT, checks::LINT, "HC011"].iter().any(|c| self.caught_by.contains(*c));
        if needs_full {
            Reach::Full
        } else {
            Reach::Narrow { helm_major: NARROW_HELM }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Mutant {
    /// The file name without `.yaml`.
    pub name: String,
    pub spec: MutantFile,
}

/// What became of one mutant.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// The checks that failed, each with the cases where it did.
    Caught(BTreeMap<String, BTreeSet<String>>),
    Survived,
    /// Why it cannot be planted (its `find` text is not in the template exactly once).
    Stale(String),
}

/// The suite's result.
#[derive(Debug, Default)]
pub struct Summary {
    pub fates: Vec<(Mutant, Fate)>,
    /// Wall time of the mutant runs (after the baseline matrix), for the per-mutant figure.
    pub mutants_wall: std::time::Duration,
    /// Problems beyond single mutants: caught by other checks than declared, rules without a sole mutant or load-bearing in fewer than two cases.
    pub problems: Vec<String>,
}

impl Summary {
    pub fn count(&self, pick: fn(&Fate) -> bool) -> usize {
        self.fates.iter().filter(|(_, f)| pick(f)).count()
    }
    pub fn caught(&self) -> usize {
        self.count(|f| matches!(f, Fate::Caught(_)))
    }
    pub fn survived(&self) -> usize {
        self.count(|f| *f == Fate::Survived)
    }
    pub fn stale(&self) -> usize {
        self.count(|f| matches!(f, Fate::Stale(_)))
    }
    pub fn passed(&self) -> bool {
        self.survived() == 0 && self.stale() == 0 && self.problems.is_empty()
    }
}

/// The paths of the `*.yaml` files in `dir`, sorted (mutant folders of either kind).
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// Every `*.yaml` in `dir`, sorted by name.
pub fn load(dir: &Path) -> Result<Vec<Mutant>> {
    let mut out = Vec::new();
    for path in yaml_files(dir)? {
        let text = std::fs::read_to_string(&path)?;
        let spec: MutantFile = serde_yaml::from_str(&text).with_context(|| format!("mutant {} is not valid", path.display()))?;
        if spec.defect.trim().is_empty() || spec.defect.contains('\n') {
            bail!("mutant {}: defect must be one line", path.display());
        }
        if spec.caught_by.is_empty() {
            bail!("mutant {}: caughtBy must name the checks that catch it", path.display());
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        out.push(Mutant { name, spec });
    }
    Ok(out)
}

/// The checks a mutant may declare: every rule id and the harness's own checks (not snapshots: a diff is not a check).
pub fn known_checks() -> BTreeSet<String> {
    all_rules().into_iter().map(|r| r.id).chain(checks::CATCHING.iter().copied()).map(str::to_string).collect()
}

/// Why a mutant cannot be planted into `chart`, if it cannot.
pub fn staleness(chart: &Path, m: &MutantFile) -> Option<String> {
    let Ok(text) = std::fs::read_to_string(chart.join(&m.template)) else {
        return Some(format!("{} does not exist", m.template));
    };
    match text.matches(m.find.as_str()).count() {
        1 => None,
        n => Some(format!("its find text occurs {n} times in {} (it must occur exactly once)", m.template)),
    }
}

/// A throwaway repository: the chart, everything under tests/ a case may name (never snapshots) and docs/examples/.
struct Scratch {
    dir: crate::support::scratch::Folder,
}

impl Scratch {
    fn new(repo: &Path) -> Result<Self> {
        let dir = crate::support::scratch::folder("xtask-mutants-")?;
        let config = crate::engine::config::Config::at_root(repo)?;
        crate::engine::render::copy_chart(&config.chart, &dir.path().join("heimdall"), &config.local_files)?;
        let harness = crate::engine::config::DEFAULT_FILE;
        std::fs::copy(repo.join(harness), dir.path().join(harness)).with_context(|| format!("copying {harness}"))?;
        copy_tree(&repo.join("tests"), &dir.path().join("tests"), &["snapshots"])?;
        // Cases render the documented examples too.
        copy_tree(&repo.join("docs/examples"), &dir.path().join("docs/examples"), &[])?;
        Ok(Scratch { dir })
    }

    fn chart(&self) -> PathBuf {
        self.dir.path().join("heimdall")
    }
}

/// Copies `from` to `to`, leaving out the top-level folders named in `except`.
fn copy_tree(from: &Path, to: &Path, except: &[&str]) -> Result<()> {
    let walk = walkdir::WalkDir::new(from).into_iter().filter_entry(|e| e.depth() != 1 || !except.iter().any(|x| e.file_name() == *x));
    for entry in walk {
        let entry = entry?;
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The failing checks of a run, each with the cases where it failed.
fn failing_checks(outcome: &testchart::Outcome) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_check: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &outcome.rows {
        for f in &row.failures {
            by_check.entry(f.check.to_string()).or_default().insert(row.case.clone());
        }
    }
    by_check
}

/// Runs the matrix on the scratch copy with snapshots off, as far as `reach` says.
fn run_matrix(scratch: &Scratch, base: &Options, schemas: &Arc<Schemas>, reach: Reach) -> Result<testchart::Outcome> {
    let mut opts = base.clone();
    opts.reach = reach;
    opts.repo = scratch.dir.path().to_path_buf();
    opts.snapshots = false;
    opts.junit = None;
    opts.schemas = Some(schemas.clone());
    testchart::run(&opts)
}

/// Plants `m` into the scratch chart, runs the matrix, and puts the template back.
fn try_mutant(scratch: &Scratch, base: &Options, schemas: &Arc<Schemas>, m: &Mutant) -> Result<Fate> {
    if let Some(why) = staleness(&scratch.chart(), &m.spec) {
        return Ok(Fate::Stale(why));
    }
    let path = scratch.chart().join(&m.spec.template);
    let original = std::fs::read_to_string(&path)?;
    std::fs::write(&path, original.replacen(&m.spec.find, &m.spec.replace, 1))?;
    let outcome = run_matrix(scratch, base, schemas, m.spec.reach());
    std::fs::write(&path, &original)?;
    let by_check = failing_checks(&outcome?);
    Ok(if by_check.is_empty() { Fate::Survived } else { Fate::Caught(by_check) })
}

/// Runs every mutant under `mutants_dir` whose name contains `only` (all when None).
/// `base` is the matrix's options (its `filter` narrows the cases, for tests).
pub fn run(base: &Options, mutants_dir: &Path, only: Option<&str>, mut progress: impl FnMut(&Mutant, &Fate)) -> Result<Summary> {
    let mut mutants = load(mutants_dir)?;
    if let Some(f) = only {
        mutants.retain(|m| m.name.contains(f));
    }
    let known = known_checks();
    for m in &mutants {
        if let Some(unknown) = m.spec.caught_by.iter().find(|c| !known.contains(*c)) {
            bail!(
                "mutant {}: caughtBy names {unknown:?}, which is no check (known: {})",
                m.name,
                known.iter().cloned().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let needs_source = mutants.iter().find(|m| m.spec.caught_by.contains(crate::support::report::checks::APP_SOURCE));
    if let (Some(m), None) = (needs_source, std::env::var_os("HEIMDALL_SOURCE")) {
        bail!("mutant {} is caught only by the app-source check, which needs Heimdall's source: set HEIMDALL_SOURCE to the heimdall2 source archive (make test does), or pass --filter to leave it out", m.name);
    }
    let scratch = Scratch::new(&base.repo)?;
    let schemas = Arc::new(Schemas::installed());
    let baseline = failing_checks(&run_matrix(&scratch, base, &schemas, Reach::Full)?);
    if !baseline.is_empty() {
        bail!("the unmutated chart already fails the matrix ({baseline:?}): run `cargo xtask test-chart` and fix it first");
    }
    let mut summary = Summary::default();
    let start = std::time::Instant::now();
    for m in mutants {
        let fate = try_mutant(&scratch, base, &schemas, &m)?;
        progress(&m, &fate);
        summary.fates.push((m, fate));
    }
    summary.mutants_wall = start.elapsed();
    summary.problems = problems(&summary.fates, only.is_none() && base.filter.is_none());
    Ok(summary)
}

/// Declared and actual catchers that differ; with the whole suite run, rules lacking a mutant of their own or a second case.
fn problems(fates: &[(Mutant, Fate)], whole_suite: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut rule_cases: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (m, fate) in fates {
        let Fate::Caught(by) = fate else { continue };
        let actual: BTreeSet<String> = by.keys().cloned().collect();
        if actual != m.spec.caught_by {
            let hint = match m.spec.reach() {
                Reach::Full => String::new(),
                Reach::Narrow { helm_major } => format!(
                    " (on the narrow matrix: Helm {helm_major}, each case's oldest Kubernetes version; `fullMatrix: true` runs it on the whole one)"
                ),
            };
            out.push(format!(
                "mutant {}: caught by {}, but it declares caughtBy [{}]{hint}",
                m.name,
                join(&actual),
                join(&m.spec.caught_by)
            ));
        }
        for (check, cases) in by {
            if let Some(rule) = all_rules().into_iter().find(|r| r.id == check) {
                rule_cases.entry(rule.id).or_default().extend(cases.iter().cloned());
            }
        }
    }
    if whole_suite {
        for rule in all_rules() {
            let sole = fates.iter().any(|(m, _)| m.spec.caught_by.len() == 1 && m.spec.caught_by.contains(rule.id));
            if !sole {
                out.push(format!("rule {} has no mutant that only it catches: add one under tests/mutants/", rule.id));
            }
            let cases = rule_cases.get(rule.id).map(BTreeSet::len).unwrap_or(0);
            if cases < 2 {
                out.push(format!("rule {} caught mutants in {cases} case(s); it must be load-bearing in at least two", rule.id));
            }
        }
    }
    out
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// The line printed for one mutant.
pub fn line(m: &Mutant, fate: &Fate) -> String {
    match fate {
        Fate::Caught(by) => {
            let by: Vec<String> = by
                .iter()
                .map(|(check, cases)| format!("{check} ({} case{})", cases.len(), if cases.len() == 1 { "" } else { "s" }))
                .collect();
            format!("caught    {:<40} by {}", m.name, by.join(", "))
        }
        Fate::Survived => format!(
            "SURVIVED  {:<40} {}\n          no check caught it: add a case or rule that does (rerun: cargo xtask mutants --filter {})",
            m.name, m.spec.defect, m.name
        ),
        Fate::Stale(why) => format!("STALE     {:<40} {why}", m.name),
    }
}

/// How long the mutants took (the baseline matrix excluded), and that rate for 30.
pub fn timing(s: &Summary) -> String {
    let per = s.mutants_wall.as_secs_f64() / s.fates.len().max(1) as f64;
    format!(
        "time: {:.1} s for {} mutants, {per:.2} s each ({:.0} s per 30 mutants)",
        s.mutants_wall.as_secs_f64(),
        s.fates.len(),
        per * 30.0
    )
}

/// The last line: `N caught, M survived, K stale`.
pub fn totals(s: &Summary) -> String {
    format!("{} caught, {} survived, {} stale", s.caught(), s.survived(), s.stale())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutant(find: &str, caught_by: &[&str]) -> MutantFile {
        MutantFile {
            defect: "x".into(),
            template: "templates/a.yaml".into(),
            find: find.into(),
            replace: "y".into(),
            caught_by: caught_by.iter().map(|s| s.to_string()).collect(),
            full_matrix: false,
        }
    }

    #[test]
    fn a_find_text_must_occur_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/a.yaml"), "one two two").unwrap();
        assert_eq!(staleness(dir.path(), &mutant("one", &["HC001"])), None);
        assert!(staleness(dir.path(), &mutant("two", &["HC001"])).unwrap().contains("occurs 2 times"));
        assert!(staleness(dir.path(), &mutant("three", &["HC001"])).unwrap().contains("occurs 0 times"));
        let missing = MutantFile { template: "templates/b.yaml".into(), ..mutant("one", &["HC001"]) };
        assert!(staleness(dir.path(), &missing).unwrap().contains("does not exist"));
    }

    #[test]
    fn a_mutant_runs_narrow_unless_a_declared_check_needs_the_whole_matrix() {
        assert_eq!(mutant("a", &["HC001", "assert"]).reach(), Reach::Narrow { helm_major: NARROW_HELM });
        assert_eq!(mutant("a", &["agreement"]).reach(), Reach::Full, "agreement compares the two Helms");
        assert_eq!(mutant("a", &["HC011", "HC024"]).reach(), Reach::Full, "HC011 needs a second render");
        assert_eq!(mutant("a", &["lint"]).reach(), Reach::Full, "a narrow run lints nothing");
        assert_eq!(MutantFile { full_matrix: true, ..mutant("a", &["schema"]) }.reach(), Reach::Full);
    }

    #[test]
    fn mutant_files_are_strict() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "defect: x\ntemplate: t\nfind: a\nreplace: b\ncaughtBy: [HC001]\nextra: 1\n").unwrap();
        let err = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(err.contains("a.yaml") && err.contains("extra"), "{err}");
        std::fs::write(dir.path().join("a.yaml"), "defect: x\ntemplate: t\nfind: a\nreplace: b\ncaughtBy: []\n").unwrap();
        assert!(format!("{:#}", load(dir.path()).unwrap_err()).contains("caughtBy"));
    }

    #[test]
    fn problems_name_misdeclared_mutants_and_rules_without_their_own() {
        let caught = |checks: &[(&str, &[&str])]| {
            Fate::Caught(checks.iter().map(|(c, cases)| (c.to_string(), cases.iter().map(|s| s.to_string()).collect())).collect())
        };
        let fates = vec![
            (Mutant { name: "m1".into(), spec: mutant("a", &["HC001"]) }, caught(&[("HC001", &["c1", "c2"]), ("schema", &["c1"])])),
            (Mutant { name: "m2".into(), spec: mutant("a", &["HC002"]) }, caught(&[("HC002", &["c1"])])),
        ];
        let found = problems(&fates, true);
        assert!(found.iter().any(|p| p.contains("mutant m1: caught by HC001, schema, but it declares caughtBy [HC001]")), "{found:#?}");
        assert!(found.iter().any(|p| p.contains("rule HC002 caught mutants in 1 case(s)")), "{found:#?}");
        assert!(found.iter().any(|p| p.contains("rule HC003 has no mutant that only it catches")), "{found:#?}");
        assert!(!found.iter().any(|p| p.contains("rule HC001")), "{found:#?}");
        assert!(problems(&fates[1..], false).is_empty(), "a partial run checks only declarations");
    }
}
