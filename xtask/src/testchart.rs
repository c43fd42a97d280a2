//! `cargo xtask test-chart`: discover, plan, render on a bounded pool, parse, normalise, check, snapshot, report.

use crate::manifest::{self, Manifest};
use crate::matrix::{self, Case, Expect};
use crate::normalise;
use crate::render::{self, Prepared};
use crate::report::{self, Row};
use crate::rules::{self, Intent, Rendering};
use crate::schema::Schemas;
use crate::snapshot::{self, Mode};
use crate::tools::{self, Helm};
use anyhow::{bail, Result};
use regex::Regex;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How to run the matrix.
#[derive(Debug, Clone)]
pub struct Options {
    pub repo: PathBuf,
    /// Keep only cases whose name contains this.
    pub filter: Option<String>,
    pub jobs: usize,
    pub review: bool,
    pub junit: Option<PathBuf>,
    pub helm: Option<PathBuf>,
    /// Print the table and failures (the bench and tests turn this off).
    pub verbose: bool,
}

impl Options {
    pub fn new(repo: PathBuf) -> Self {
        let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Options { repo, filter: None, jobs, review: false, junit: None, helm: None, verbose: true }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub wall: Duration,
    /// Every Helm command the run executed, in plan order (for the bench).
    pub commands: Vec<Vec<String>>,
    /// The harness's own cost per render (parse, normalise, rules, schema), one entry per render.
    pub own_cost_per_render: Vec<Duration>,
    /// Snapshot comparison time per case.
    pub snapshot_cost: Vec<Duration>,
    pub helm_notes: Vec<String>,
    /// Wall time of the phases: preparing chart copies, the render/lint pool, everything after.
    pub phases: [(&'static str, Duration); 3],
}

impl Outcome {
    pub fn failed(&self) -> usize {
        self.rows.iter().filter(|r| !r.passed()).count()
    }
    pub fn passed(&self) -> usize {
        self.rows.len() - self.failed()
    }
}

/// Runs `f` over `items` on at most `jobs` threads, keeping the order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(items.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results.into_inner().unwrap().into_iter().map(|r| r.expect("every item ran")).collect()
}

enum Task {
    Render(matrix::Job),
    Lint { case: usize, helm: usize, kube_version: String },
}

struct TaskResult {
    row: Row,
    /// Normalised snapshot text (render tasks).
    text: Option<String>,
    /// Helm's first stdout (render tasks), for the Helm 3 / Helm 4 comparison.
    raw: Option<String>,
    sources: BTreeSet<String>,
    commands: Vec<Vec<String>>,
    own_cost: Vec<Duration>,
}

struct Ctx<'a> {
    cases: &'a [Case],
    prepared: &'a [(Prepared, Prepared)],
    intents: &'a [Intent],
    helms: &'a [Helm],
    schemas: &'a Schemas,
}

fn failure_text(stderr: &str, prepared: &Prepared) -> String {
    stderr
        .replace(&prepared.work_dir.display().to_string(), "<work>")
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_render(ctx: &Ctx, job: &matrix::Job) -> TaskResult {
    let case = &ctx.cases[job.case];
    let helm = &ctx.helms[job.helm];
    let (prepared, _) = &ctx.prepared[job.case];
    let argv = render::template_argv(helm, case, prepared, &job.kube_version);
    let mut row = Row {
        case: case.name.clone(),
        helm: helm.label(),
        kube: job.kube_version.clone(),
        step: "render".into(),
        failures: vec![],
        elapsed: Duration::ZERO,
        command: Some(render::command_line(&argv)),
    };
    let mut result = TaskResult { row: row.clone(), text: None, raw: None, sources: BTreeSet::new(), commands: vec![], own_cost: vec![] };
    let start = Instant::now();
    let first = match render::template(helm, case, prepared, &job.kube_version) {
        Ok(r) => r,
        Err(e) => {
            row.failures.push(format!("{e:#}"));
            result.row = row;
            return result;
        }
    };
    result.commands.push(argv.clone());
    match &case.spec.expect {
        Expect::Fails(pattern) => {
            if first.success {
                row.failures.push(format!("expected helm template to fail with /{pattern}/, but it rendered"));
            } else if !Regex::new(pattern).unwrap().is_match(&first.stderr) {
                row.failures.push(format!("helm template failed, but its error does not match /{pattern}/:\n{}", first.stderr.trim()));
            }
            result.text = Some(format!("--- error\n{}\n", failure_text(&first.stderr, prepared)));
            row.elapsed = start.elapsed();
        }
        Expect::Renders => {
            if !first.success {
                row.failures.push(format!("helm template failed:\n{}", first.stderr.trim()));
                row.elapsed = start.elapsed();
                result.row = row;
                return result;
            }
            // A second render of the same inputs shows what is random.
            let second = render::template(helm, case, prepared, &job.kube_version);
            result.commands.push(argv.clone());
            let own_start = Instant::now();
            let second = second.and_then(|s| {
                anyhow::ensure!(s.success, "the second render of the same inputs failed:\n{}", s.stderr.trim());
                manifest::parse(&s.stdout)
            });
            match (manifest::parse(&first.stdout), second) {
                (Ok(m1), Ok(m2)) => {
                    // Raw Helm 3 / Helm 4 output is comparable only without random values.
                    if check_rendering(ctx, job, m1, m2, &mut row, &mut result) {
                        result.raw = Some(first.stdout.clone());
                    }
                }
                (Err(e), _) | (_, Err(e)) => row.failures.push(format!("parsing the rendering: {e:#}")),
            }
            // Two renders were parsed and normalised together: half the cost each.
            let own = own_start.elapsed();
            result.own_cost = vec![own / 2, own / 2];
            row.elapsed = start.elapsed();
        }
    }
    result.row = row;
    result
}

/// Checks one rendering; returns whether the two renders were identical.
fn check_rendering(ctx: &Ctx, job: &matrix::Job, m1: Manifest, m2: Manifest, row: &mut Row, result: &mut TaskResult) -> bool {
    let mut sorted = m1.clone();
    normalise::sort(&mut sorted);
    let (normalised, diffs) = normalise::normalise(m1, m2);
    let rendering = Rendering { docs: &sorted.docs, notes: sorted.notes.as_deref(), intent: &ctx.intents[job.case], differences: &diffs };
    row.failures.extend(rules::check_all(&rendering));
    for doc in &sorted.docs {
        row.failures.extend(ctx.schemas.validate(&job.kube_version, doc).into_iter().map(|e| format!("schema {e}")));
        result.sources.insert(doc.source.clone());
    }
    if sorted.notes.is_some() {
        result.sources.insert("templates/NOTES.txt".into());
    }
    result.text = Some(normalise::to_text(&normalised));
    diffs.is_empty()
}

fn run_lint(ctx: &Ctx, case: usize, helm: usize, kube_version: &str) -> TaskResult {
    let c = &ctx.cases[case];
    let h = &ctx.helms[helm];
    let (_, lint_copy) = &ctx.prepared[case];
    let start = Instant::now();
    let mut row = Row {
        case: c.name.clone(),
        helm: h.label(),
        kube: kube_version.into(),
        step: "lint".into(),
        failures: vec![],
        elapsed: Duration::ZERO,
        command: None,
    };
    let mut commands = vec![];
    match render::lint(h, c, lint_copy, kube_version) {
        Ok(run) => {
            row.command = Some(run.command_line());
            commands.push(run.argv.clone());
            if !run.success {
                row.failures.push(format!("helm lint --strict failed:\n{}{}", run.stdout.trim(), run.stderr.trim()));
            }
        }
        Err(e) => row.failures.push(format!("{e:#}")),
    }
    row.elapsed = start.elapsed();
    TaskResult { row, text: None, raw: None, sources: BTreeSet::new(), commands, own_cost: vec![] }
}

/// Runs the whole matrix. Fails only when the harness itself cannot run; chart failures are rows.
pub fn run(opts: &Options) -> Result<Outcome> {
    let wall = Instant::now();
    let chart = opts.repo.join("heimdall");
    let tests_dir = opts.repo.join("tests");
    let snapshots = tests_dir.join("snapshots");
    let work_root = opts.repo.join("target").join("test-chart");
    let mode = Mode::from_env(opts.review);
    mode.configure_insta(&opts.repo);

    let helms = tools::find_helms(opts.helm.as_deref())?;
    if opts.verbose {
        for h in &helms {
            eprintln!("test-chart: Helm {} {} at {} (found via {})", h.major, h.version, h.path.display(), h.found_via);
        }
    }
    let mut cases = matrix::discover(&tests_dir.join("cases"), &tests_dir)?;
    if let Some(f) = &opts.filter {
        cases.retain(|c| c.name.contains(f.as_str()));
        if cases.is_empty() {
            bail!("--filter {f:?} matches no case under tests/cases/");
        }
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let gomaxprocs = (cores / opts.jobs.max(1)).max(1);
    let prepared = parallel_map(&cases, opts.jobs, |case| -> Result<(Prepared, Prepared)> {
        let mut render_copy = render::prepare(case, &chart, &tests_dir, &work_root.join("render"), render::Purpose::Render)?;
        let mut lint_copy = render::prepare(case, &chart, &tests_dir, &work_root.join("lint"), render::Purpose::AsShipped)?;
        render_copy.gomaxprocs = gomaxprocs;
        lint_copy.gomaxprocs = gomaxprocs;
        Ok((render_copy, lint_copy))
    })
    .into_iter()
    .collect::<Result<Vec<_>>>()?;
    let prepare_time = wall.elapsed();
    let intents: Vec<Intent> = cases.iter().map(|c| Intent::from_case(c, &tests_dir)).collect();
    let schemas = Schemas::installed();
    let ctx = Ctx { cases: &cases, prepared: &prepared, intents: &intents, helms: &helms, schemas: &schemas };

    let mut tasks: Vec<Task> = matrix::plan(&cases, helms.len()).into_iter().map(Task::Render).collect();
    for (ci, case) in cases.iter().enumerate() {
        if case.spec.expect == Expect::Renders {
            let newest = case.kube_versions().last().cloned().unwrap();
            for hi in 0..helms.len() {
                tasks.push(Task::Lint { case: ci, helm: hi, kube_version: newest.clone() });
            }
        }
    }
    let results = parallel_map(&tasks, opts.jobs, |task| match task {
        Task::Render(job) => run_render(&ctx, job),
        Task::Lint { case, helm, kube_version } => run_lint(&ctx, *case, *helm, kube_version),
    });

    let pool_time = wall.elapsed() - prepare_time;
    let mut outcome = Outcome {
        rows: vec![],
        wall: Duration::ZERO,
        commands: vec![],
        own_cost_per_render: vec![],
        snapshot_cost: vec![],
        helm_notes: vec![],
        phases: [("prepare", prepare_time), ("pool", pool_time), ("after", Duration::ZERO)],
    };
    let mut covered = BTreeSet::new();
    let mut helm_notes = BTreeSet::new();
    for r in &results {
        outcome.commands.extend(r.commands.iter().cloned());
        outcome.own_cost_per_render.extend(r.own_cost.iter().copied());
        covered.extend(r.sources.iter().cloned());
    }

    // Per case: every Helm and Kubernetes version must give the same normalised text, which is the snapshot.
    for (ci, case) in cases.iter().enumerate() {
        let start = Instant::now();
        let mine: Vec<(&TaskResult, &Task)> =
            results.iter().zip(&tasks).filter(|(_, t)| matches!(t, Task::Render(j) if j.case == ci)).collect();
        let mut row = Row {
            case: case.name.clone(),
            helm: "all".into(),
            kube: "all".into(),
            step: "snapshot".into(),
            failures: vec![],
            elapsed: Duration::ZERO,
            command: None,
        };
        let texts: Vec<(&str, &str, &str)> =
            mine.iter().filter_map(|(r, _)| Some((r.row.helm.as_str(), r.row.kube.as_str(), r.text.as_deref()?))).collect();
        if texts.len() != mine.len() {
            row.failures.push("not every render produced output to compare (see the render failures)".into());
        } else if let Some((h0, k0, t0)) = texts.first() {
            for (h, k, t) in &texts[1..] {
                if t != t0 {
                    row.failures.push(format!(
                        "{h} with Kubernetes {k} differs from {h0} with Kubernetes {k0} after normalisation:\n{}",
                        snapshot::diff_by_document(t0, t)
                    ));
                }
            }
            let raws: Vec<(&str, &str)> = mine.iter().filter_map(|(r, _)| Some((r.row.helm.as_str(), r.raw.as_deref()?))).collect();
            if let (Some((_, a)), Some((_, b))) = (raws.iter().find(|(h, _)| *h == "helm3"), raws.iter().find(|(h, _)| *h == "helm4")) {
                if let Some(note) = normalise::describe_raw_difference(a, b) {
                    helm_notes.insert(note);
                }
            }
            match snapshot::compare(&snapshots, case, t0) {
                snapshot::Outcome::Matches => {}
                other => {
                    let accepted = snapshot::record(&snapshots, case, t0);
                    let what = match &other {
                        snapshot::Outcome::New => format!("new snapshot {}", snapshot::path_for(&snapshots, case).display()),
                        snapshot::Outcome::Changed { diff } => {
                            format!("snapshot {} changed:\n{diff}", snapshot::path_for(&snapshots, case).display())
                        }
                        snapshot::Outcome::Matches => unreachable!(),
                    };
                    if mode == Mode::Accept && accepted {
                        if opts.verbose {
                            eprintln!("accepted {what}");
                        }
                    } else {
                        let hint = match mode {
                            Mode::Check => "CI=true writes nothing: run `cargo xtask test-chart --review` locally, read the diff, commit",
                            _ => "read the diff; accept with `cargo xtask test-chart --review` (or `make snapshots`)",
                        };
                        row.failures.push(format!("{what}\n{hint}"));
                    }
                }
            }
        }
        row.command = mine.first().and_then(|(r, _)| r.row.command.clone());
        row.elapsed = start.elapsed();
        outcome.snapshot_cost.push(row.elapsed);
        outcome.rows.push(row);
    }

    let mut rows: Vec<Row> = results.into_iter().map(|r| r.row).collect();
    rows.append(&mut outcome.rows);
    if opts.filter.is_none() {
        let stale = snapshot::unreferenced(&snapshots, &cases);
        let mut row = Row {
            case: "(snapshots)".into(),
            helm: "-".into(),
            kube: "-".into(),
            step: "stale".into(),
            failures: vec![],
            elapsed: Duration::ZERO,
            command: None,
        };
        for p in stale {
            if mode == Mode::Accept {
                std::fs::remove_file(&p)?;
                if opts.verbose {
                    eprintln!("removed unreferenced snapshot {}", p.display());
                }
            } else {
                row.failures
                    .push(format!("snapshot {} belongs to no case: delete it, or run `cargo xtask test-chart --review`", p.display()));
            }
        }
        rows.push(row);
        let mut cov = Row {
            case: "(coverage)".into(),
            helm: "-".into(),
            kube: "-".into(),
            step: "coverage".into(),
            failures: vec![],
            elapsed: Duration::ZERO,
            command: None,
        };
        let mut templates = report::template_files(&chart);
        templates.push("templates/NOTES.txt".into());
        for t in report::uncovered(&templates, &covered) {
            cov.failures.push(format!("{t} produced no document in any case: add a case that renders it"));
        }
        rows.push(cov);
    }
    outcome.rows = rows;
    outcome.helm_notes = helm_notes.into_iter().collect();
    outcome.wall = wall.elapsed();
    outcome.phases[2].1 = outcome.wall - prepare_time - pool_time;

    if opts.verbose {
        print_report(&outcome);
    }
    if let Some(path) = &opts.junit {
        std::fs::write(path, report::junit(&outcome.rows))?;
    }
    Ok(outcome)
}

fn print_report(outcome: &Outcome) {
    println!("{}", report::table(&outcome.rows));
    for note in &outcome.helm_notes {
        println!("Helm 3 vs Helm 4: {note}");
    }
    for r in outcome.rows.iter().filter(|r| !r.passed()) {
        println!("\nFAIL {} [{} {} {}]", r.case, r.step, r.helm, r.kube);
        for f in &r.failures {
            for line in f.lines() {
                println!("  {line}");
            }
        }
        if let Some(c) = &r.command {
            println!("  reproduce: {c}");
        }
    }
    println!("\ntest-chart finished in {:.1}s", outcome.wall.as_secs_f64());
    println!("{} passed, {} failed", outcome.passed(), outcome.failed());
}
