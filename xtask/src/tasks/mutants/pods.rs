//! `cargo xtask mutants --pods`: defects only a running cluster shows. Each pod mutant (tests/mutants/pods/) is planted into a throwaway chart, must pass the whole render matrix unnoticed, and must then fail the e2e scenario it names on the built-in node, which starts once for all of them.

use super::{failing_checks, run_matrix, Scratch};
use crate::engine::schema::Schemas;
use crate::lifecycle::node::host::HostState;
use crate::support::process;
use crate::support::tools::HelmMajor;
use crate::tasks::e2e::{self, served};
use crate::tasks::testchart::{Options, Reach};
use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One file under `tests/mutants/pods/`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodMutant {
    #[serde(skip)]
    pub name: String,
    /// The defect, in one line.
    pub defect: String,
    /// Chart-relative path of the file it changes (a template, values.yaml, a file under files/).
    pub template: String,
    /// Text that must occur exactly once in that file.
    pub find: String,
    pub replace: String,
    /// The letter of the e2e scenario that must catch it (e.g. "j").
    pub scenario: String,
}

/// How `--pods` runs.
pub struct PodOptions {
    pub heimdall_source: PathBuf,
    /// Only mutants whose name contains this.
    pub only: Option<String>,
    /// Every mutant, not only those whose file changed since the newest `v*` tag.
    pub all: bool,
    /// How long pods may take to become Ready (a mutant that keeps them from it waits this long).
    pub ready_timeout: Duration,
}

/// What became of one pod mutant: caught (with the scenario's first failure line), or why not.
pub enum PodFate {
    Caught(String),
    Survived,
    /// The render matrix caught it: it belongs in tests/mutants/, not here.
    CaughtWithoutPods(Vec<String>),
}

/// Every `*.yaml` in `dir`, sorted by name, each naming a scenario that exists.
pub fn load(dir: &Path) -> Result<Vec<PodMutant>> {
    let mut out = Vec::new();
    for path in super::yaml_files(dir)? {
        let mut m: PodMutant = serde_yaml::from_str(&std::fs::read_to_string(&path)?)
            .with_context(|| format!("pod mutant {} is not valid", path.display()))?;
        m.name = path.file_stem().unwrap().to_string_lossy().into_owned();
        ensure!(!m.defect.trim().is_empty() && !m.defect.contains('\n'), "pod mutant {}: defect must be one line", m.name);
        ensure!(scenario_filter(&m.scenario).is_some(), "pod mutant {}: scenario {:?} is no e2e scenario's letter", m.name, m.scenario);
        out.push(m);
    }
    Ok(out)
}

/// The `--filter` that selects exactly the scenario with this letter ("j" → "j. ").
fn scenario_filter(letter: &str) -> Option<String> {
    let prefix = format!("{letter}. ");
    e2e::SCENARIOS.iter().any(|s| s.name.starts_with(&prefix)).then_some(prefix)
}

/// The mutants to run: all with `--all`, else those whose file changed since the newest `v*` tag (all
/// while there is no tag); says which and why.
pub fn select(mutants: Vec<PodMutant>, options: &PodOptions, repo: &Path) -> Result<Vec<PodMutant>> {
    let mut mutants: Vec<PodMutant> = mutants.into_iter().filter(|m| options.only.as_deref().is_none_or(|f| m.name.contains(f))).collect();
    if options.all {
        println!("pod mutants: all {} (--all)", mutants.len());
        return Ok(mutants);
    }
    let Some(tag) = newest_tag(repo)? else {
        println!("pod mutants: all {} (no v* tag yet to compare with)", mutants.len());
        return Ok(mutants);
    };
    let changed = changed_since(repo, &tag)?;
    let total = mutants.len();
    mutants.retain(|m| changed.contains(&format!("heimdall/{}", m.template)));
    println!("pod mutants: {} of {total}, those whose file changed since {tag} (--all runs every one)", mutants.len());
    Ok(mutants)
}

fn newest_tag(repo: &Path) -> Result<Option<String>> {
    let mut git = std::process::Command::new("git");
    git.arg("-C").arg(repo).args(["tag", "--list", "v*", "--sort=-v:refname"]);
    Ok(process::checked(&mut git, "git tag")?.lines().next().map(str::to_string))
}

fn changed_since(repo: &Path, tag: &str) -> Result<BTreeSet<String>> {
    let mut git = std::process::Command::new("git");
    git.arg("-C").arg(repo).args(["diff", "--name-only", tag, "--", "heimdall"]);
    Ok(process::checked(&mut git, &format!("git diff {tag}"))?.lines().map(str::to_string).collect())
}

/// How many pod mutants run at once, each in namespaces of its own: a mutant mostly waits (for a
/// crash, a probe, a timeout), so two share the two cores of the machine the suite is sized for.
const AT_ONCE: usize = 2;

/// Runs the selected mutants: each through the render matrix (it must survive), then the node: the
/// unmutated chart must pass each named scenario, and each mutant must fail its own. Returns whether
/// every mutant was caught by its scenario alone.
pub fn run(
    base: &Options,
    mutants: &[PodMutant],
    options: &PodOptions,
    progress: impl FnMut(&PodMutant, &PodFate, Duration) + Send,
) -> Result<bool> {
    let (scratch, static_fates) = planted_through_the_matrix(base, mutants)?;
    let host_before = HostState::take()?;
    let e2e_options = e2e::Options {
        helm: None,
        filter: None,
        ready_timeout: options.ready_timeout,
        heimdall_source: Some(options.heimdall_source.clone()),
        chart: None,
        helm_major: None,
    };
    let mut node = served::start_served(&e2e_options, true, true)?;
    let result = on_the_node(&node, &scratch, mutants, static_fates, options, Baselines::Run, progress);
    served::stop_served(&mut node)?;
    served::host_unchanged(&host_before).context("the node did not leave the host as it found it")?;
    result
}

/// `cargo xtask e2e --pod-mutants`: the whole e2e suite, then the pod mutants on its node before it
/// stops, so they cost no node of their own; the suite's scenarios, passed with the unmutated chart
/// under the Helm each mutant's scenario runs with, are their baselines. Returns the suite's failures
/// (the pod mutants count as one suite check).
pub fn run_with_the_suite(
    base: &Options,
    mutants: &[PodMutant],
    options: &PodOptions,
    e2e_options: &e2e::Options,
    progress: impl FnMut(&PodMutant, &PodFate, Duration) + Send,
) -> Result<usize> {
    let (scratch, static_fates) = planted_through_the_matrix(base, mutants)?;
    let mut fates = Some(static_fates);
    let mut progress = Some(progress);
    let mut on_node = |node: &served::Served, suite_passed: bool| -> Result<()> {
        let baselines = if suite_passed && e2e_options.filter.is_none() { Baselines::ThisSuite } else { Baselines::Run };
        let (fates, progress) = (fates.take().context("the pod mutants run once")?, progress.take().context("the pod mutants run once")?);
        let all_caught = on_the_node(node, &scratch, mutants, fates, options, baselines, progress)?;
        ensure!(all_caught, "not every pod mutant was caught by its scenario alone (the lines above say which)");
        Ok(())
    };
    served::run(e2e_options, Some(&mut on_node))
}

/// A scratch repository, and each mutant's catches by the whole render matrix there (it must have
/// none), timed as a phase.
fn planted_through_the_matrix(base: &Options, mutants: &[PodMutant]) -> Result<(Scratch, Vec<Vec<String>>)> {
    let scratch = Scratch::new(&base.repo)?;
    let t = Instant::now();
    let static_fates = survive_the_matrix(&scratch, base, mutants)?;
    crate::support::phases::record("pod mutants: each through the whole render matrix", t.elapsed(), true);
    Ok((scratch, static_fates))
}

/// Each mutant planted into the scratch chart and run through the matrix (snapshots off): the checks
/// that caught it, if any.
fn survive_the_matrix(scratch: &Scratch, base: &Options, mutants: &[PodMutant]) -> Result<Vec<Vec<String>>> {
    let schemas = Arc::new(Schemas::installed());
    let mut out = Vec::new();
    println!("pod mutants: each through the whole render matrix first, which must not notice it");
    for m in mutants {
        let path = plant(&scratch.chart(), m)?;
        let original = std::fs::read_to_string(&path)?;
        std::fs::write(&path, original.replacen(&m.find, &m.replace, 1))?;
        let outcome = run_matrix(scratch, base, &schemas, Reach::Full);
        std::fs::write(&path, &original)?;
        out.push(failing_checks(&outcome?).into_keys().collect());
    }
    Ok(out)
}

/// The file `m` changes in `chart`, after checking its find text occurs there exactly once.
fn plant(chart: &Path, m: &PodMutant) -> Result<PathBuf> {
    let path = chart.join(&m.template);
    let text = std::fs::read_to_string(&path).with_context(|| format!("pod mutant {}: reading {}", m.name, m.template))?;
    let n = text.matches(m.find.as_str()).count();
    ensure!(n == 1, "pod mutant {}: its find text occurs {n} times in {} (it must occur exactly once)", m.name, m.template);
    Ok(path)
}

/// Where the proof comes from that the unmutated chart passes each mutant's scenario.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Baselines {
    /// Run each scenario with the unmutated chart first.
    Run,
    /// The whole e2e suite just passed on this node, every scenario under the Helm a mutant's runs with.
    ThisSuite,
}

/// The baselines, then each mutant against its scenario, [`AT_ONCE`] at a time, on the served node.
fn on_the_node(
    node: &served::Served,
    scratch: &Scratch,
    mutants: &[PodMutant],
    static_fates: Vec<Vec<String>>,
    options: &PodOptions,
    baselines: Baselines,
    progress: impl FnMut(&PodMutant, &PodFate, Duration) + Send,
) -> Result<bool> {
    let scenarios: BTreeSet<&str> = mutants.iter().map(|m| m.scenario.as_str()).collect();
    for letter in scenarios.iter().filter(|_| baselines == Baselines::Run) {
        let t = Instant::now();
        if let Some(why) = scenario_fails(node, &scratch.chart(), letter, BASELINE_READY_TIMEOUT)? {
            bail!("the unmutated chart fails scenario {letter} on the node, so no mutant can be judged by it:\n{why}");
        }
        println!("baseline  scenario {letter} passes with the unmutated chart ({:.1}s)", t.elapsed().as_secs_f64());
    }
    if baselines == Baselines::ThisSuite {
        println!(
            "baseline  scenarios {} passed with the unmutated chart in the suite above",
            scenarios.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }
    // Each mutated copy is made before the threads start: the scratch chart is shared.
    let planted: Vec<(&PodMutant, Vec<String>, Option<PathBuf>)> = mutants
        .iter()
        .zip(static_fates)
        .map(|(m, caught)| {
            let chart = if caught.is_empty() { Some(mutated_copy(scratch, m)?) } else { None };
            Ok((m, caught, chart))
        })
        .collect::<Result<_>>()?;
    let progress = std::sync::Mutex::new(progress);
    let judge = |(m, caught_statically, chart): &(&PodMutant, Vec<String>, Option<PathBuf>)| -> Result<bool> {
        let t = Instant::now();
        let fate = match chart {
            Some(chart) => match scenario_fails(node, chart, &m.scenario, options.ready_timeout)? {
                Some(why) => PodFate::Caught(reason(&why)),
                None => PodFate::Survived,
            },
            None => PodFate::CaughtWithoutPods(caught_statically.clone()),
        };
        (progress.lock().unwrap())(m, &fate, t.elapsed());
        Ok(matches!(fate, PodFate::Caught(_)))
    };
    // A scenario that cordons nodes would stall the pods of one running beside it: such mutants run alone, after.
    let (alone, beside): (Vec<_>, Vec<_>) = planted.into_iter().partition(|(m, _, _)| scenario_drains(&m.scenario));
    let mut fates = crate::support::parallel::parallel_map(&beside, AT_ONCE, |planted| judge(planted));
    fates.extend(alone.iter().map(&judge));
    fates.into_iter().try_fold(true, |all, caught| Ok(all & caught?))
}

/// Whether the scenario with this letter cordons and drains nodes.
fn scenario_drains(letter: &str) -> bool {
    let prefix = format!("{letter}. ");
    e2e::SCENARIOS.iter().any(|s| s.name.starts_with(&prefix) && s.drains)
}

/// A copy of the scratch chart with `m` planted, in a folder of its own.
fn mutated_copy(scratch: &Scratch, m: &PodMutant) -> Result<PathBuf> {
    let dir = scratch.dir.path().join("pod-mutants").join(&m.name).join("heimdall");
    let _ = std::fs::remove_dir_all(&dir);
    crate::engine::render::copy_chart(&scratch.chart(), &dir, &[])?;
    let path = plant(&dir, m)?;
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(&path, text.replacen(&m.find, &m.replace, 1))?;
    Ok(dir)
}

/// The unmutated chart's runs may take as long as a slow machine needs: only mutants are kept short.
const BASELINE_READY_TIMEOUT: Duration = Duration::from_secs(600);

/// The Helm a scenario runs under when the suite runs it once (Helm 3 for those it runs under each).
fn scenario_helm(letter: &str) -> HelmMajor {
    let prefix = format!("{letter}. ");
    match e2e::SCENARIOS.iter().find(|s| s.name.starts_with(&prefix)).map(|s| s.helms) {
        Some(e2e::Helms::Once(major)) => major,
        _ => HelmMajor::V3,
    }
}

/// Runs one scenario against the node with `chart`, under the Helm the suite runs it with; None if
/// it passed, else what it printed after its FAIL line.
fn scenario_fails(node: &served::Served, chart: &Path, letter: &str, ready_timeout: Duration) -> Result<Option<String>> {
    let filter = scenario_filter(letter).context("no such scenario")?;
    let helm = scenario_helm(letter).to_string();
    let mut xtask = served::child_xtask()?;
    // A mutant's scenario is part of the pod-mutant phase, not a phase of its own.
    xtask
        .env_remove(crate::support::phases::VARIABLE)
        .args(["e2e", "--kubeconfig"])
        .arg(&node.kubeconfig)
        .args(["--context", &node.context, "--filter", &filter, "--helm-major", &helm, "--chart"])
        .arg(chart)
        .arg("--ready-timeout")
        .arg(ready_timeout.as_secs().to_string());
    let out = process::output(&mut xtask, "cargo xtask e2e against the node")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(stdout.contains(&format!(" {filter}")), "scenario {letter} did not run: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        return Ok(None);
    }
    let why: Vec<&str> =
        stdout.lines().skip_while(|l| !l.starts_with("FAIL")).skip(1).take_while(|l| l.starts_with("  ")).map(str::trim).collect();
    Ok(Some(if why.is_empty() { "(no reason printed)".to_string() } else { why.join("\n") }))
}

/// The telling line of a scenario's failure: the most telling container state from the not-Ready
/// report, else the first line, without the Helm command that precedes "failed:".
fn reason(why: &str) -> String {
    let mut lines = why.lines();
    let first = lines.next().unwrap_or("");
    if let Some(container) = telling_container(why) {
        return container;
    }
    match first.split_once(" failed:") {
        Some((_, "")) => lines.next().unwrap_or(first).to_string(),
        Some((_, rest)) => rest.trim().to_string(),
        None if first.ends_with(':') => format!("{first} {}", lines.next().unwrap_or("").trim()),
        None => first.to_string(),
    }
}

/// Of the report's container lines, the one that failed (waiting or terminated other than by
/// completing, e.g. CrashLoopBackOff) over one running but not Ready (then with its pod's last warning
/// event, e.g. a failing probe) over the rest (an init container done, a container not yet started).
fn telling_container(report: &str) -> Option<String> {
    let tell = |state: &str| match state {
        s if s.contains("(restarted ") => 2,
        s if s.starts_with("waiting: PodInitializing") || s.starts_with("terminated: Completed") => 0,
        s if s.starts_with("running, not ready") => 1,
        _ => 2,
    };
    let mut best: Option<(u8, String, usize)> = None;
    let lines: Vec<&str> = report.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some((_, state)) = line.strip_prefix("container ").and_then(|l| l.split_once(": ")) else { continue };
        let score = tell(state);
        if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
            best = Some((score, line.to_string(), i));
        }
    }
    let (score, line, at) = best?;
    let warning = lines[at..].iter().take_while(|l| !l.starts_with("pod ")).find(|l| l.starts_with("event Warning"));
    Some(match (score, warning) {
        (1, Some(event)) => format!("{line}; {event}"),
        _ => line,
    })
}

/// The line printed for one pod mutant.
pub fn line(m: &PodMutant, fate: &PodFate, took: Duration) -> String {
    let t = took.as_secs_f64();
    match fate {
        PodFate::Caught(why) => format!("caught    {:<36} by scenario {} ({t:.0}s): {}", m.name, m.scenario, clip(why)),
        PodFate::Survived => format!(
            "SURVIVED  {:<36} {} ({t:.0}s)\n          scenario {} passed with it planted (rerun: cargo xtask mutants --pods --all --filter {})",
            m.name, m.defect, m.scenario, m.name
        ),
        PodFate::CaughtWithoutPods(by) => format!(
            "STATIC    {:<36} the render matrix already catches it ({}): move it to tests/mutants/ with caughtBy",
            m.name,
            by.join(", ")
        ),
    }
}

fn clip(text: &str) -> String {
    let clipped: String = text.chars().take(160).collect();
    if clipped.len() < text.len() {
        format!("{clipped}…")
    } else {
        clipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_mutants_name_an_existing_scenario_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "defect: x\ntemplate: t\nfind: a\nreplace: b\nscenario: zz\n").unwrap();
        assert!(format!("{:#}", load(dir.path()).unwrap_err()).contains("no e2e scenario"));
        std::fs::write(dir.path().join("a.yaml"), "defect: x\ntemplate: t\nfind: a\nreplace: b\nscenario: j\ncaughtBy: [HC001]\n").unwrap();
        assert!(format!("{:#}", load(dir.path()).unwrap_err()).contains("caughtBy"));
        std::fs::write(dir.path().join("a.yaml"), "defect: x\ntemplate: t\nfind: a\nreplace: b\nscenario: j\n").unwrap();
        assert_eq!(load(dir.path()).unwrap()[0].name, "a");
    }

    #[test]
    fn the_repositorys_pod_mutants_load_and_each_plants_once() {
        let root = crate::support::tools::repo_root();
        let mutants = load(&root.join("tests/mutants/pods")).unwrap();
        assert!(mutants.len() >= 8, "the issue asks for at least 8 pod mutants, there are {}", mutants.len());
        for m in &mutants {
            plant(&root.join("heimdall"), m).unwrap();
        }
    }

    #[test]
    fn the_reason_is_a_containers_state_or_the_first_line_without_the_command() {
        let report = "/x/helm install heimdall /tmp/c --wait failed: Error: context deadline exceeded\npods not Ready after 120 s:\npod heimdall-1: phase Pending\ncontainer wait-for-database: running, not ready";
        assert_eq!(reason(report), "container wait-for-database: running, not ready");
        let crash = "pods not Ready after 90 s:\npod heimdall-1: phase Pending\ncontainer wait-for-database: running, not ready\ncontainer heimdall: waiting: PodInitializing\npod heimdall-postgresql-0: phase Running\ncontainer postgresql: waiting: CrashLoopBackOff back-off 20s\nlog: initdb: could not change permissions";
        assert_eq!(reason(crash), "container postgresql: waiting: CrashLoopBackOff back-off 20s");
        let probe = "pods not Ready after 90 s:\npod heimdall-1: phase Running\ncontainer wait-for-database: terminated: Completed\ncontainer heimdall: running, not ready\nlog: listening\nevent Normal Started: started\nevent Warning Unhealthy: Startup probe failed: connection refused\npod other: phase Pending\nevent Warning Other: no";
        assert_eq!(
            reason(probe),
            "container heimdall: running, not ready; event Warning Unhealthy: Startup probe failed: connection refused"
        );
        let restarted = "pods not Ready after 90 s:\npod heimdall-1: phase Running\ncontainer wait-for-database: terminated: Completed\ncontainer heimdall: running, not ready (restarted 1, last ended: Error, exit code 1)\nevent Warning Unhealthy: Startup probe failed";
        assert_eq!(reason(restarted), "container heimdall: running, not ready (restarted 1, last ended: Error, exit code 1)");
        assert_eq!(reason("/x/helm test heimdall failed:\nError: pod failed"), "Error: pod failed");
        assert_eq!(reason("pod heimdall-2: container stopped 30s after SIGTERM"), "pod heimdall-2: container stopped 30s after SIGTERM");
        assert_eq!(
            reason("secrets reached logs:\n  ADMIN_PASSWORD is in the log of h/heimdall"),
            "secrets reached logs: ADMIN_PASSWORD is in the log of h/heimdall"
        );
    }

    #[test]
    fn a_scenario_letter_selects_exactly_its_scenario() {
        let filter = scenario_filter("j").unwrap();
        assert_eq!(e2e::SCENARIOS.iter().filter(|s| s.name.contains(&filter)).count(), 1);
        assert_eq!(scenario_filter("z"), None);
    }
}
