//! Rendering: a case's temporary chart copy with its fixtures planted, and the real `helm template` / `helm lint` run on it.

use crate::engine::config::{is_local_file, Config};
use crate::engine::matrix::Case;
use crate::support::command::{run_with_env, Run};
use crate::support::manifest::NOTES_KIND;
use crate::support::tools::Helm;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The harness-only template planted into every copy: `helm template` never
/// renders NOTES.txt, so this includes its text as a document the checks can
/// read. It is removed from the rendering before anything else sees it.
/// Named to render last (Helm renders templates in reverse lexical order), so a
/// failing case reports the template a user would see.
pub const NOTES_TEMPLATE: &str = "templates/00-harness-notes.yaml";

/// Copies `chart` into `dest`, leaving out the files `local_files` matches (a developer's own).
pub fn copy_chart(chart: &Path, dest: &Path, local_files: &[String]) -> Result<()> {
    for entry in walkdir::WalkDir::new(chart) {
        let entry = entry?;
        let rel = entry.path().strip_prefix(chart).unwrap();
        if is_local_file(rel, local_files) {
            continue;
        }
        let target = dest.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target).with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// A case made ready to render: its chart copy and the arguments every render of it shares.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub work_dir: PathBuf,
    pub chart_dir: PathBuf,
    /// Values and --set arguments, in order.
    pub value_args: Vec<String>,
    /// GOMAXPROCS for this case's Helm runs: Helm is a Go program that would
    /// use every core, so parallel jobs share the cores instead of fighting
    /// over them. Scheduling only; the output is the same.
    pub gomaxprocs: usize,
}

/// What a chart copy is for: rendering plants the harness's NOTES template; installing and linting use the chart as shipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Render,
    AsShipped,
}

/// Lays out `work_root/<case>/`: the chart copy with fixtures (and, to render, the notes template) planted, and the values file.
pub fn prepare(case: &Case, config: &Config, work_root: &Path, purpose: Purpose) -> Result<Prepared> {
    let work_dir = fresh_dir(&work_root.join(case.snapshot_name()))?;
    let chart_dir = work_dir.join(config.chart_folder_name());
    plant_chart(config, case, &chart_dir, purpose)?;
    with_values(case, &config.tests, work_dir, chart_dir)
}

/// Prepares every case for rendering and for linting. Cases that plant the
/// same files (most plant none, or one common secrets file) share one copy of
/// each kind: copying the chart was the largest per-case cost before any Helm ran.
pub fn prepare_cases(cases: &[Case], config: &Config, work_root: &Path, jobs: usize) -> Result<Vec<(Prepared, Prepared)>> {
    let shared_root = fresh_dir(&work_root.join(SHARED_COPIES))?;
    let mut plantings: Vec<&Case> = Vec::new();
    for case in cases {
        if !plantings.iter().any(|c| c.spec.files == case.spec.files) {
            plantings.push(case);
        }
    }
    let copy_dir = |i: usize, purpose: Purpose| shared_root.join(i.to_string()).join(purpose.dir()).join(config.chart_folder_name());
    let jobs_list: Vec<(usize, Purpose)> = (0..plantings.len()).flat_map(|i| [(i, Purpose::Render), (i, Purpose::AsShipped)]).collect();
    crate::support::parallel::parallel_map(&jobs_list, jobs, |&(i, purpose)| {
        plant_chart(config, plantings[i], &copy_dir(i, purpose), purpose)
    })
    .into_iter()
    .collect::<Result<()>>()?;
    crate::support::parallel::parallel_map(cases, jobs, |case| -> Result<(Prepared, Prepared)> {
        let i = plantings.iter().position(|c| c.spec.files == case.spec.files).expect("every planting was collected");
        let one = |purpose: Purpose| -> Result<Prepared> {
            let work_dir = fresh_dir(&work_root.join(purpose.dir()).join(case.snapshot_name()))?;
            with_values(case, &config.tests, work_dir, copy_dir(i, purpose))
        };
        Ok((one(Purpose::Render)?, one(Purpose::AsShipped)?))
    })
    .into_iter()
    .collect()
}

/// The folder below a work root that holds the shared chart copies; no case's snapshot name starts with a dot.
const SHARED_COPIES: &str = ".charts";

impl Purpose {
    fn dir(self) -> &'static str {
        match self {
            Purpose::Render => "render",
            Purpose::AsShipped => "lint",
        }
    }
}

fn fresh_dir(dir: &Path) -> Result<PathBuf> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

/// Copies the chart to `chart_dir` with the case's fixtures and, to render, the harness's NOTES template.
fn plant_chart(config: &Config, case: &Case, chart_dir: &Path, purpose: Purpose) -> Result<()> {
    copy_chart(&config.chart, chart_dir, &config.local_files)?;
    for (dest, fixture) in &case.spec.files {
        let target = chart_dir.join(dest);
        std::fs::create_dir_all(target.parent().unwrap())?;
        std::fs::copy(config.tests.join(fixture), &target).with_context(|| format!("case {}: planting {fixture} at {dest}", case.name))?;
    }
    if purpose == Purpose::Render && chart_dir.join("templates/NOTES.txt").is_file() {
        std::fs::write(chart_dir.join("templates/_zz_harness_notes.tpl"), notes_define(&chart_dir.join("templates/NOTES.txt"))?)?;
        std::fs::write(
            chart_dir.join(NOTES_TEMPLATE),
            format!("apiVersion: harness.test-chart.test/v1\nkind: {NOTES_KIND}\ntext: {{{{ include \"harness.notes\" . | toJson }}}}\n"),
        )?;
    }
    Ok(())
}

/// Writes the case's values file into `work_dir` and collects its values arguments, in order.
fn with_values(case: &Case, tests_dir: &Path, work_dir: PathBuf, chart_dir: PathBuf) -> Result<Prepared> {
    let mut value_args = Vec::new();
    if let Some(values) = &case.spec.values {
        let file = work_dir.join("values.yaml");
        // Written as JSON (which is YAML): serde_yaml leaves strings such as
        // "on" or "yes" unquoted, and Helm's YAML 1.1 parser reads them as booleans.
        std::fs::write(&file, serde_json::to_string_pretty(values)?)?;
        value_args.push("--values".into());
        value_args.push(file.display().to_string());
    }
    for f in &case.spec.values_files {
        value_args.push("--values".into());
        value_args.push(tests_dir.join(f).display().to_string());
    }
    for s in &case.spec.set {
        value_args.push("--set".into());
        value_args.push(s.clone());
    }
    for s in &case.spec.set_string {
        value_args.push("--set-string".into());
        value_args.push(s.clone());
    }
    for s in &case.spec.set_file {
        let (key, path) = s.split_once('=').unwrap_or((s.as_str(), ""));
        value_args.push("--set-file".into());
        value_args.push(format!("{key}={}", tests_dir.join(path).display()));
    }
    Ok(Prepared { work_dir, chart_dir, value_args, gomaxprocs: 0 })
}

fn notes_define(notes: &Path) -> Result<String> {
    let text = std::fs::read_to_string(notes)?;
    Ok(format!("{{{{- define \"harness.notes\" -}}}}\n{text}{{{{- end }}}}\n"))
}

/// Runs an offline Helm command: the user's kubeconfig stays out of it.
fn run(argv: Vec<String>, gomaxprocs: usize) -> Result<Run> {
    let procs = gomaxprocs.to_string();
    let mut env = vec![("KUBECONFIG", std::ffi::OsStr::new("/dev/null"))];
    if gomaxprocs > 0 {
        env.push(("GOMAXPROCS", std::ffi::OsStr::new(&procs)));
    }
    run_with_env(argv, &env)
}

/// `helm <verb...> [release] <chart> --namespace N --kube-version K <values>` for a case.
fn case_argv(helm: &Helm, verb: &[&str], release: Option<&str>, case: &Case, prepared: &Prepared, kube_version: &str) -> Vec<String> {
    let mut argv = vec![helm.path.display().to_string()];
    argv.extend(verb.iter().map(|s| s.to_string()));
    argv.extend(release.map(str::to_string));
    argv.push(prepared.chart_dir.display().to_string());
    argv.extend(["--namespace".to_string(), case.spec.namespace.clone(), "--kube-version".into(), kube_version.into()]);
    argv.extend(prepared.value_args.iter().cloned());
    argv
}

/// The argv of `helm template` for a case under one Helm and Kubernetes version.
pub fn template_argv(helm: &Helm, case: &Case, prepared: &Prepared, kube_version: &str) -> Vec<String> {
    let mut argv = case_argv(helm, &["template"], Some(&case.spec.release), case, prepared, kube_version);
    for v in &case.spec.api_versions {
        argv.extend(["--api-versions".to_string(), v.clone()]);
    }
    if case.spec.skip_schema_validation {
        argv.push("--skip-schema-validation".into());
    }
    argv
}

/// `helm template` for a case: served by the Helm's renderer pool when one is enabled, else by the CLI.
pub fn template(helm: &Helm, case: &Case, prepared: &Prepared, kube_version: &str) -> Result<Run> {
    served_or_cli(helm, template_argv(helm, case, prepared, kube_version), prepared.gomaxprocs)
}

/// `helm template` for a case through the CLI, whatever renderer is enabled.
pub fn template_cli(helm: &Helm, case: &Case, prepared: &Prepared, kube_version: &str) -> Result<Run> {
    run(template_argv(helm, case, prepared, kube_version), prepared.gomaxprocs)
}

/// `helm lint --strict` with the case's values: served by the Helm's renderer pool when one is enabled, else by the CLI.
pub fn lint(helm: &Helm, case: &Case, prepared: &Prepared, kube_version: &str) -> Result<Run> {
    served_or_cli(helm, lint_argv(helm, case, prepared, kube_version), prepared.gomaxprocs)
}

/// A Helm command line run by the Helm's renderer pool when one is enabled, else by the CLI.
fn served_or_cli(helm: &Helm, argv: Vec<String>, gomaxprocs: usize) -> Result<Run> {
    match crate::engine::renderd::pool_for(&helm.path) {
        Some(pool) => pool.run(argv),
        None => run(argv, gomaxprocs),
    }
}

/// `helm lint --strict` for a case through the CLI, whatever renderer is enabled.
pub fn lint_cli(helm: &Helm, case: &Case, prepared: &Prepared, kube_version: &str) -> Result<Run> {
    run(lint_argv(helm, case, prepared, kube_version), prepared.gomaxprocs)
}

fn lint_argv(helm: &Helm, case: &Case, prepared: &Prepared, kube_version: &str) -> Vec<String> {
    case_argv(helm, &["lint", "--strict"], None, case, prepared, kube_version)
}
