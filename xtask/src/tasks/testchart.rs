//! `cargo xtask test-chart`: discover, plan, render on a bounded pool, parse, normalise, check, snapshot, report.

use crate::checks::rules::{Intent, Rendering};
use crate::engine::config::{self, Checks, Config};
use crate::engine::matrix::{self, Case, Expect};
use crate::engine::normalise;
use crate::engine::render::{self, Prepared};
use crate::engine::schema::Schemas;
use crate::engine::snapshot::{self, Mode};
use crate::support::manifest::{self, Manifest};
use crate::support::parallel::parallel_map;
use crate::support::report::{self, checks, Row, Step};
use crate::support::tools::HelmMajor;
use crate::support::tools::{self, Helm};
use anyhow::{bail, Context, Result};
use regex::Regex;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How to run the matrix.
#[derive(Clone)]
pub struct Options {
    pub repo: PathBuf,
    /// The harness config, relative to `repo` unless absolute.
    pub config: PathBuf,
    /// The chart folder instead of the config's.
    pub chart: Option<PathBuf>,
    /// Keep only cases whose name contains this.
    pub filter: Option<String>,
    pub jobs: usize,
    pub review: bool,
    /// Compare with the reviewed snapshots (the mutation suite turns this off:
    /// a defect only a snapshot diff shows is not caught, since reviewers accept diffs).
    pub snapshots: bool,
    pub junit: Option<PathBuf>,
    pub helm: Option<PathBuf>,
    /// Compiled schemas to reuse across runs (the mutation suite runs the matrix once per mutant).
    pub schemas: Option<Arc<Schemas>>,
    /// Render through the `helm template` CLI, one process per render, instead of the renderer pools.
    pub cli: bool,
    /// How much of the matrix to render.
    pub reach: Reach,
}

/// How much of the matrix a run renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Every Helm and every Kubernetes version of each case; a second render wherever the two Helms'
    /// renderings differ, so randomness (HC011) is told from a Helm difference (agreement).
    Full,
    /// One Helm, each case's oldest Kubernetes version, one render each, no `helm lint`: the mutation
    /// suite's run for a defect whose declared checks need neither the other Helm, another version, a
    /// second render nor lint.
    Narrow { helm_major: HelmMajor },
}

impl Options {
    pub fn new(repo: PathBuf) -> Self {
        let config = PathBuf::from(config::DEFAULT_FILE);
        let jobs = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Options {
            repo,
            config,
            chart: None,
            filter: None,
            jobs,
            review: false,
            snapshots: true,
            junit: None,
            helm: None,
            schemas: None,
            cli: false,
            reach: Reach::Full,
        }
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
    /// What the run has to tell its user besides the rows (which Helms rendered, snapshots accepted
    /// or removed, lists left unchecked); `cargo xtask test-chart` prints them, the bench and the
    /// mutation suite do not.
    pub notes: Vec<String>,
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

/// Where a run reads and writes: the harness config (its chart, cases and snapshots), and a work
/// folder under the repository's `target/`.
struct Layout {
    config: Config,
    work: PathBuf,
}

impl Layout {
    fn load(opts: &Options) -> Result<Self> {
        let mut config = Config::load(&opts.repo, &opts.config)?;
        if let Some(chart) = &opts.chart {
            config = config.with_chart(&opts.repo, chart)?;
        }
        // Another config's run gets a work folder of its own, so neither removes the other's copies.
        let work = if opts.config == Path::new(config::DEFAULT_FILE) {
            opts.repo.join("target").join("test-chart")
        } else {
            opts.repo.join("target").join(format!("test-chart-{}", config.chart_folder_name()))
        };
        Ok(Layout { config, work })
    }
}

enum Task {
    Render(matrix::Job),
    Lint { case: usize, helm: usize, kube_version: String },
}

/// What one task found, beside its row.
struct TaskResult {
    row: Row,
    /// Normalised snapshot text (render tasks).
    text: Option<String>,
    /// Helm's first stdout (render tasks) when both renders were identical, for the Helm 3 / Helm 4 comparison.
    raw: Option<String>,
    sources: BTreeSet<String>,
    commands: Vec<Vec<String>>,
    own_cost: Vec<Duration>,
}

impl TaskResult {
    fn new(row: Row) -> Self {
        TaskResult { row, text: None, raw: None, sources: BTreeSet::new(), commands: vec![], own_cost: vec![] }
    }
}

struct Ctx<'a> {
    cases: &'a [Case],
    prepared: &'a [(Prepared, Prepared)],
    intents: &'a [Intent],
    helms: &'a [Helm],
    schemas: &'a Schemas,
    checks: Checks,
    renders: RenderCache,
    reach: Reach,
}

/// Each (case, Helm, Kubernetes version) is rendered once: its own job and its sibling's (the other Helm) share it.
#[derive(Default)]
struct RenderCache(Mutex<HashMap<RenderKey, Arc<OnceLock<RenderResult>>>>);

/// A render, or why the harness could not run it.
type RenderResult = Result<crate::support::command::Run, String>;

/// (case, Helm, Kubernetes version).
type RenderKey = (usize, usize, String);

impl RenderCache {
    fn get(&self, ctx: &Ctx, case: usize, helm: usize, kube: &str) -> Result<crate::support::command::Run> {
        let cell = self.0.lock().unwrap().entry((case, helm, kube.to_string())).or_default().clone();
        let run = cell.get_or_init(|| {
            render::template(&ctx.helms[helm], &ctx.cases[case], &ctx.prepared[case].0, kube).map_err(|e| format!("{e:#}"))
        });
        run.clone().map_err(|e| anyhow::anyhow!(e))
    }
}

/// Runs the whole matrix. Fails only when the harness itself cannot run; chart failures are rows.
pub fn run(opts: &Options) -> Result<Outcome> {
    let wall = Instant::now();
    let layout = Layout::load(opts)?;
    let mode = if opts.snapshots { Mode::from_env(opts.review) } else { Mode::Off };
    mode.configure_insta(&opts.repo);
    let (helms, helm_notes) = find_helms(opts)?;
    let cases = select_cases(&layout, opts)?;
    let prepared = prepare_chart_copies(&cases, &layout, opts)?;
    let prepare_time = wall.elapsed();

    let (known_variables, served_paths) = app_lists(&layout, opts)?;
    let intents = cases
        .iter()
        .map(|c| {
            let intent =
                Intent::from_case(c, &layout.config.tests).with_context(|| format!("reading the values of case {}", c.path.display()))?;
            Ok(Intent { known_variables: known_variables.clone(), served_paths: served_paths.clone(), ..intent })
        })
        .collect::<Result<Vec<Intent>>>()?;
    let schemas = opts.schemas.clone().unwrap_or_else(|| Arc::new(Schemas::installed()));
    let checks = layout.config.checks;
    let renders = RenderCache::default();
    let ctx =
        Ctx { cases: &cases, prepared: &prepared, intents: &intents, helms: &helms, schemas: &schemas, checks, renders, reach: opts.reach };
    let tasks = plan_tasks(&cases, helms.len(), opts.reach);
    let results = parallel_map(&tasks, opts.jobs, |task| match task {
        Task::Render(job) => run_render(&ctx, job),
        Task::Lint { case, helm, kube_version } => run_lint(&ctx, *case, *helm, kube_version),
    });
    let pool_time = wall.elapsed() - prepare_time;

    let covered: BTreeSet<String> = results.iter().flat_map(|r| r.sources.iter().cloned()).collect();
    let refusals = refusals_of(&cases, &tasks, &results);
    let mut outcome = collect(&results, [("prepare", prepare_time), ("pool", pool_time), ("after", Duration::ZERO)]);
    outcome.notes = helm_notes;
    let case_rows = compare_cases(&cases, &tasks, &results, &layout, mode, &mut outcome);
    outcome.rows = results.into_iter().map(|r| r.row).chain(case_rows).collect();
    if opts.filter.is_none() {
        let stale = stale_snapshots(&layout, &cases, mode, &mut outcome.notes)?;
        outcome.rows.push(stale);
        // A failed render hides what its templates would produce: coverage waits for every render to
        // produce its documents (a rule's or an assertion's finding hides nothing).
        let rendered = |r: &&Row| !r.failures.iter().any(|f| [checks::RENDER, checks::EXPECT_FAILS, checks::PARSE].contains(&f.check));
        let renders_passed = outcome.rows.iter().filter(|r| r.step == Step::Render).all(|r| rendered(&r));
        outcome.rows.push(template_coverage(&layout, &covered, renders_passed));
        outcome.rows.push(refusal_coverage(&layout, &refusals)?);
        if layout.config.checks == Checks::All {
            let checked = app_source(&layout, opts, &mut outcome.notes)?;
            outcome.rows.push(checked);
        }
    }
    outcome.wall = wall.elapsed();
    outcome.phases[2].1 = outcome.wall - prepare_time - pool_time;
    finish(opts, &outcome)?;
    Ok(outcome)
}

/// The Helms to render with, each served by its renderer pool unless `--cli` (or no renderer
/// matches its version), and a note on each.
fn find_helms(opts: &Options) -> Result<(Vec<Helm>, Vec<String>)> {
    let mut helms = tools::find_helms(opts.helm.as_deref())?;
    if let Reach::Narrow { helm_major } = opts.reach {
        helms.retain(|h| h.major == helm_major);
        anyhow::ensure!(!helms.is_empty(), "a narrow run needs Helm {helm_major}, and none was found");
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    if opts.cli {
        crate::engine::renderd::disable_all();
    }
    let mut notes = Vec::new();
    for h in &helms {
        let served = !opts.cli
            && (crate::engine::renderd::pool_for(&h.path).is_some()
                || crate::engine::renderd::enable(h, (cores / opts.jobs.max(1)).max(1)));
        let how = if served { "renders served by helm-renderd, the same Helm's pkg/action" } else { "renders by the CLI" };
        notes.push(format!("test-chart: Helm {} {} at {} (found via {}); {how}", h.major, h.version, h.path.display(), h.found_via));
    }
    Ok((helms, notes))
}

/// The chart's variable and served-path lists, which its own rules read; a generic run has none.
type AppLists = (Option<BTreeSet<String>>, Option<BTreeSet<String>>);

fn app_lists(layout: &Layout, opts: &Options) -> Result<AppLists> {
    if layout.config.checks == Checks::Generic {
        return Ok((None, None));
    }
    let known_variables = crate::checks::rules::variables::load(&layout.config.chart)?;
    let served_paths = crate::checks::appsource::served_paths(&opts.repo)?.into_keys().collect();
    Ok((Some(known_variables), Some(served_paths)))
}

fn select_cases(layout: &Layout, opts: &Options) -> Result<Vec<Case>> {
    let mut cases = layout.config.cases()?;
    if let Some(f) = &opts.filter {
        cases.retain(|c| c.name.contains(f.as_str()));
        if cases.is_empty() {
            bail!("--filter {f:?} matches no case under {}", layout.config.cases.display());
        }
    }
    Ok(cases)
}

/// Two chart copies per case: one to render (with the NOTES template planted), one as shipped to lint.
fn prepare_chart_copies(cases: &[Case], layout: &Layout, opts: &Options) -> Result<Vec<(Prepared, Prepared)>> {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let gomaxprocs = (cores / opts.jobs.max(1)).max(1);
    let mut copies = render::prepare_cases(cases, &layout.config, &layout.work, opts.jobs)?;
    for (render_copy, lint_copy) in &mut copies {
        render_copy.gomaxprocs = gomaxprocs;
        lint_copy.gomaxprocs = gomaxprocs;
    }
    Ok(copies)
}

/// Every render job, then one `helm lint --strict` per rendering case and Helm (at the newest
/// Kubernetes version); a narrow run renders at each case's oldest version only, and lints nothing.
fn plan_tasks(cases: &[Case], helm_count: usize, reach: Reach) -> Vec<Task> {
    let mut jobs = matrix::plan(cases, helm_count);
    if reach != Reach::Full {
        jobs.retain(|j| Some(&j.kube_version) == cases[j.case].kube_versions().first());
        return jobs.into_iter().map(Task::Render).collect();
    }
    let mut tasks: Vec<Task> = jobs.into_iter().map(Task::Render).collect();
    for (ci, case) in cases.iter().enumerate() {
        if case.spec.expect == Expect::Renders {
            let newest = case.kube_versions().last().cloned().unwrap();
            tasks.extend((0..helm_count).map(|hi| Task::Lint { case: ci, helm: hi, kube_version: newest.clone() }));
        }
    }
    tasks
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
    let mut result = TaskResult::new(Row::new(&case.name, &helm.label(), &job.kube_version, Step::Render));
    result.row.command = Some(crate::support::command::command_line(&argv));
    let start = Instant::now();
    match ctx.renders.get(ctx, job.case, job.helm, &job.kube_version) {
        Err(e) => result.row.fail(checks::HARNESS, format!("{e:#}")),
        Ok(first) => {
            result.commands.push(argv);
            match &case.spec.expect {
                Expect::Fails(pattern) => check_expected_failure(&first, pattern, prepared, &mut result),
                Expect::Renders if !first.success => {
                    result.row.fail(checks::RENDER, format!("helm template failed:\n{}", first.stderr.trim()))
                }
                Expect::Renders if ctx.reach != Reach::Full => render_once_and_check(ctx, job, &first, &mut result),
                Expect::Renders => render_again_and_check(ctx, job, &first, &mut result),
            }
        }
    }
    result.row.elapsed = start.elapsed();
    result
}

fn check_expected_failure(first: &crate::support::command::Run, pattern: &str, prepared: &Prepared, result: &mut TaskResult) {
    if first.success {
        result.row.fail(checks::EXPECT_FAILS, format!("expected helm template to fail with /{pattern}/, but it rendered"));
    } else if !Regex::new(pattern).unwrap().is_match(&first.stderr) {
        result.row.fail(
            checks::EXPECT_FAILS,
            format!("helm template failed, but its error does not match /{pattern}/:\n{}", first.stderr.trim()),
        );
    }
    result.text = Some(format!("--- error\n{}\n", failure_text(&first.stderr, prepared)));
}

/// A narrow run's check of one render, taken as its own second render: nothing can vary (HC011 and
/// agreement are left to full runs).
fn render_once_and_check(ctx: &Ctx, job: &matrix::Job, first: &crate::support::command::Run, result: &mut TaskResult) {
    let own_start = Instant::now();
    match manifest::parse(&first.stdout) {
        Ok(m) => {
            check_rendering(ctx, job, m.clone(), m, result);
        }
        Err(e) => result.row.fail(checks::PARSE, format!("parsing the rendering: {e:#}")),
    }
    result.own_cost = vec![own_start.elapsed()];
}

/// A second render of the same inputs shows what is random; then every check runs on the pair.
///
/// The sibling render (the other Helm, same inputs and Kubernetes version) is
/// rendered for its own job anyway: when it parses to exactly the same
/// documents, nothing varied, and no second render is needed. Otherwise a real
/// second render by the same Helm tells randomness from a Helm difference
/// (which the Helm 3 / Helm 4 agreement check reports).
fn render_again_and_check(ctx: &Ctx, job: &matrix::Job, first: &crate::support::command::Run, result: &mut TaskResult) {
    // The sibling may still be rendering in another job: waiting for it is not the harness's own cost.
    let sibling = sibling_manifest(ctx, job);
    let own_start = Instant::now();
    let m1 = match manifest::parse(&first.stdout) {
        Ok(m) => m,
        Err(e) => return result.row.fail(checks::PARSE, format!("parsing the rendering: {e:#}")),
    };
    if let Some(same) = sibling.filter(|m| same_documents(m, &m1)) {
        if check_rendering(ctx, job, m1, same, result) {
            result.raw = Some(first.stdout.clone());
        }
        result.own_cost = vec![own_start.elapsed()];
        return;
    }
    let second = render::template(&ctx.helms[job.helm], &ctx.cases[job.case], &ctx.prepared[job.case].0, &job.kube_version);
    result.commands.push(result.commands[0].clone());
    let own_start = Instant::now();
    let second = second.and_then(|s| {
        anyhow::ensure!(s.success, "the second render of the same inputs failed:\n{}", s.stderr.trim());
        manifest::parse(&s.stdout)
    });
    match second {
        // Raw Helm 3 / Helm 4 output is comparable only without random values.
        Ok(m2) => {
            if check_rendering(ctx, job, m1, m2, result) {
                result.raw = Some(first.stdout.clone());
            }
        }
        Err(e) => result.row.fail(checks::PARSE, format!("parsing the second rendering: {e:#}")),
    }
    // Two renders were parsed and normalised together: half the cost each.
    let own = own_start.elapsed();
    result.own_cost = vec![own / 2, own / 2];
}

/// Equal documents and NOTES; the raw text may differ (Helm 4 ends each document with an empty line).
fn same_documents(a: &Manifest, b: &Manifest) -> bool {
    a.notes == b.notes
        && a.docs.len() == b.docs.len()
        && a.docs.iter().zip(&b.docs).all(|(x, y)| x.source == y.source && x.value == y.value)
}

/// The other Helm's rendering of the same case and Kubernetes version, parsed, when it rendered.
fn sibling_manifest(ctx: &Ctx, job: &matrix::Job) -> Option<Manifest> {
    let sibling = (0..ctx.helms.len()).find(|h| *h != job.helm)?;
    let run = ctx.renders.get(ctx, job.case, sibling, &job.kube_version).ok().filter(|r| r.success)?;
    manifest::parse(&run.stdout).ok()
}

/// Checks one rendering; returns whether the two renders were identical.
fn check_rendering(ctx: &Ctx, job: &matrix::Job, m1: Manifest, m2: Manifest, result: &mut TaskResult) -> bool {
    let mut sorted = m1.clone();
    normalise::sort(&mut sorted);
    let (normalised, diffs) = normalise::normalise(m1, m2);
    let rendering = Rendering { docs: &sorted.docs, notes: sorted.notes.as_deref(), intent: &ctx.intents[job.case], differences: &diffs };
    let by = crate::checks::Judge { checks: ctx.checks, schemas: ctx.schemas, kube_version: &job.kube_version };
    let found = crate::checks::judge(&rendering, &ctx.cases[job.case], &by);
    result.row.failures.extend(found.failures);
    result.sources.extend(found.sources);
    result.text = Some(normalise::to_text(&normalised));
    diffs.is_empty()
}

fn run_lint(ctx: &Ctx, case: usize, helm: usize, kube_version: &str) -> TaskResult {
    let (c, h) = (&ctx.cases[case], &ctx.helms[helm]);
    let start = Instant::now();
    let mut result = TaskResult::new(Row::new(&c.name, &h.label(), kube_version, Step::Lint));
    match render::lint(h, c, &ctx.prepared[case].1, kube_version) {
        Ok(run) => {
            result.row.command = Some(run.command_line());
            result.commands.push(run.argv.clone());
            if !run.success {
                result.row.fail(checks::LINT, format!("helm lint --strict failed:\n{}{}", run.stdout.trim(), run.stderr.trim()));
            }
        }
        Err(e) => result.row.fail(checks::HARNESS, format!("{e:#}")),
    }
    result.row.elapsed = start.elapsed();
    result
}

/// The run's totals from every task (rows are added by the caller).
fn collect(results: &[TaskResult], phases: [(&'static str, Duration); 3]) -> Outcome {
    let mut outcome = Outcome {
        rows: vec![],
        wall: Duration::ZERO,
        commands: vec![],
        own_cost_per_render: vec![],
        snapshot_cost: vec![],
        helm_notes: vec![],
        notes: vec![],
        phases,
    };
    for r in results {
        outcome.commands.extend(r.commands.iter().cloned());
        outcome.own_cost_per_render.extend(r.own_cost.iter().copied());
    }
    outcome
}

/// Per case: every Helm and Kubernetes version must give the same normalised text, which is the snapshot.
fn compare_cases(cases: &[Case], tasks: &[Task], results: &[TaskResult], layout: &Layout, mode: Mode, outcome: &mut Outcome) -> Vec<Row> {
    let mut notes = BTreeSet::new();
    let mut rows = Vec::new();
    for (ci, case) in cases.iter().enumerate() {
        let start = Instant::now();
        let mine: Vec<&TaskResult> =
            results.iter().zip(tasks).filter(|(_, t)| matches!(t, Task::Render(j) if j.case == ci)).map(|(r, _)| r).collect();
        let mut row = Row::new(&case.name, "all", "all", Step::Snapshot);
        row.command = mine.first().and_then(|r| r.row.command.clone());
        if let Some(text) = agreed_text(&mine, &mut row, &mut notes) {
            if mode != Mode::Off {
                check_snapshot(layout, case, text, mode, &mut row, &mut outcome.notes);
            }
        }
        row.elapsed = start.elapsed();
        outcome.snapshot_cost.push(row.elapsed);
        rows.push(row);
    }
    outcome.helm_notes = notes.into_iter().collect();
    rows
}

/// The text every render of a case agrees on, or None (with the disagreement recorded on `row`).
fn agreed_text<'a>(mine: &[&'a TaskResult], row: &mut Row, notes: &mut BTreeSet<String>) -> Option<&'a str> {
    let texts: Vec<(&str, &str, &str)> =
        mine.iter().filter_map(|r| Some((r.row.helm.as_str(), r.row.kube.as_str(), r.text.as_deref()?))).collect();
    if texts.len() != mine.len() {
        // A render failed, and its own row says why: nothing to compare.
        return None;
    }
    let (h0, k0, t0) = *texts.first()?;
    for (h, k, t) in &texts[1..] {
        if t != &t0 {
            let diff = snapshot::diff_by_document(t0, t);
            row.fail(
                checks::AGREEMENT,
                format!("{h} with Kubernetes {k} differs from {h0} with Kubernetes {k0} after normalisation:\n{diff}"),
            );
        }
    }
    let raw = |helm: &str| mine.iter().find(|r| r.row.helm == helm).and_then(|r| r.raw.as_deref());
    if let (Some(a), Some(b)) = (raw(&HelmMajor::V3.label()), raw(&HelmMajor::V4.label())) {
        notes.extend(normalise::describe_raw_difference(a, b));
    }
    Some(t0)
}

fn check_snapshot(layout: &Layout, case: &Case, text: &str, mode: Mode, row: &mut Row, notes: &mut Vec<String>) {
    let path = snapshot::path_for(&layout.config.snapshots, case);
    let what = match snapshot::compare(&layout.config.snapshots, case, text) {
        snapshot::Outcome::Matches => return,
        snapshot::Outcome::New => format!("new snapshot {}", path.display()),
        snapshot::Outcome::Changed { diff } => format!("snapshot {} changed:\n{diff}", path.display()),
    };
    let accepted = snapshot::record(&layout.config.snapshots, case, text);
    if mode == Mode::Accept && accepted {
        notes.push(format!("accepted {what}"));
        return;
    }
    let hint = match mode {
        Mode::Check => "CI=true writes nothing: run `cargo xtask test-chart --review` locally, read the diff, commit",
        _ => "read the diff; accept with `cargo xtask test-chart --review` (or `make snapshots`)",
    };
    row.fail(checks::SNAPSHOT, format!("{what}\n{hint}"));
}

fn stale_snapshots(layout: &Layout, cases: &[Case], mode: Mode, notes: &mut Vec<String>) -> Result<Row> {
    let mut row = Row::new("(snapshots)", "-", "-", Step::Stale);
    if mode == Mode::Off {
        return Ok(row);
    }
    for p in snapshot::unreferenced(&layout.config.snapshots, cases) {
        if mode == Mode::Accept {
            std::fs::remove_file(&p)?;
            notes.push(format!("removed unreferenced snapshot {}", p.display()));
        } else {
            row.fail(
                checks::STALE,
                format!("snapshot {} belongs to no case: delete it, or run `cargo xtask test-chart --review`", p.display()),
            );
        }
    }
    Ok(row)
}

fn template_coverage(layout: &Layout, covered: &BTreeSet<String>, renders_passed: bool) -> Row {
    let mut row = Row::new("(coverage)", "-", "-", Step::Coverage);
    if !renders_passed {
        return row;
    }
    let mut templates = report::template_files(&layout.config.chart);
    templates.push("templates/NOTES.txt".into());
    for t in report::uncovered(&templates, covered) {
        row.fail(checks::COVERAGE, format!("{t} produced no document in any case: add a case that renders it"));
    }
    row
}

/// The errors of the expected-failure cases' renders.
fn refusals_of(cases: &[Case], tasks: &[Task], results: &[TaskResult]) -> Vec<String> {
    let failing = |task: &Task| matches!(task, Task::Render(job) if matches!(cases[job.case].spec.expect, Expect::Fails(_)));
    tasks.iter().zip(results).filter(|(t, _)| failing(t)).filter_map(|(_, r)| r.text.clone()).collect()
}

/// Every problem the chart's recorder (chart-harness.yaml `recorder:`) can record is produced by an
/// expected-failure case; without a recorder the row checks nothing.
fn refusal_coverage(layout: &Layout, refusals: &[String]) -> Result<Row> {
    let mut row = Row::new("(refusals)", "-", "-", Step::Refusals);
    let Some(recorder) = &layout.config.recorder else {
        return Ok(row);
    };
    let sites = crate::checks::refusals::sites(&layout.config.chart, recorder)?;
    let sites = crate::checks::refusals::without_cluster_only(sites, &layout.config.cluster_only_refusals)?;
    for site in crate::checks::refusals::unreached(&sites, refusals) {
        row.fail(
            checks::REFUSALS,
            format!(
                "{} records {:?}, which no expected-failure case produces: add a case under tests/cases/fails/ that does",
                site.at, site.message
            ),
        );
    }
    Ok(row)
}

/// The variable list and the served-paths list against the Heimdall source archive HEIMDALL_SOURCE
/// names; without one (a maintainer's quick run) the row says so and checks nothing.
fn app_source(layout: &Layout, opts: &Options, notes: &mut Vec<String>) -> Result<Row> {
    let mut row = Row::new("(app-source)", "-", "-", Step::AppSource);
    let Some(archive) = std::env::var_os("HEIMDALL_SOURCE").filter(|a| !a.is_empty()) else {
        notes.push("test-chart: HEIMDALL_SOURCE is not set, so the variable and served-path lists were not checked against Heimdall's source (make test sets it)".into());
        return Ok(row);
    };
    let source = crate::checks::appsource::Source::read(Path::new(&archive))?;
    let found = crate::checks::appsource::variables_disagree(&layout.config.chart, &source)?;
    for f in found.into_iter().chain(crate::checks::appsource::paths_disagree(&opts.repo, &source)?) {
        row.fail(checks::APP_SOURCE, f);
    }
    Ok(row)
}

fn finish(opts: &Options, outcome: &Outcome) -> Result<()> {
    if let Some(path) = &opts.junit {
        std::fs::write(path, report::junit(&outcome.rows))?;
    }
    Ok(())
}

/// The run's report as `cargo xtask test-chart` prints it: the table, Helm 3 / Helm 4 notes, each
/// failed row with its findings and reproduce command, then the totals.
pub fn report(outcome: &Outcome) -> String {
    let mut out = format!("{}\n", report::table(&outcome.rows));
    for note in &outcome.helm_notes {
        out += &format!("Helm 3 vs Helm 4: {note}\n");
    }
    for r in outcome.rows.iter().filter(|r| !r.passed()) {
        out += &format!("\nFAIL {} [{} {} {}]\n", r.case, r.step, r.helm, r.kube);
        for f in &r.failures {
            f.to_string().lines().for_each(|line| out += &format!("  {line}\n"));
        }
        if let Some(c) = &r.command {
            out += &format!("  reproduce: {c}\n");
        }
    }
    out += &format!("\ntest-chart finished in {:.1}s\n", outcome.wall.as_secs_f64());
    out + &format!("{} passed, {} failed\n", outcome.passed(), outcome.failed())
}
