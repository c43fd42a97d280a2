//! `cargo xtask`: set up pinned tools, test the chart across the matrix, benchmark it, render and package it.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::lifecycle::node::images;
use xtask::support::tools::HelmMajor;
use xtask::tasks::testchart::{self, Options};
use xtask::{support::tools, tasks::bench, tasks::docs, tasks::e2e, tasks::mutants, tasks::package, tasks::release};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Tasks of the Heimdall chart")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

/// How the matrix's Helm processes run.
#[derive(clap::Args, Clone, Default)]
struct PoolArgs {
    /// Parallel Helm processes (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// A Helm binary to use for its major version (else $HELM, the tools folder, PATH).
    #[arg(long)]
    helm: Option<PathBuf>,
    /// Render through the `helm template` CLI, one process per render, instead of the renderer pools.
    #[arg(long)]
    cli: bool,
}

#[derive(clap::Args, Clone)]
struct MatrixArgs {
    /// Only cases whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// The harness config: which chart, cases, snapshots and checks (default: chart-harness.yaml at the repository root).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Test this chart folder instead of the config's `chart`.
    #[arg(long)]
    chart: Option<PathBuf>,
    #[command(flatten)]
    pool: PoolArgs,
}

impl MatrixArgs {
    fn options(&self) -> Options {
        let mut o = Options::new(tools::repo_root());
        o.filter = self.filter.clone();
        // Paths given on the command line are relative to where the command runs.
        if let Some(config) = &self.config {
            o.config = std::path::absolute(config).unwrap_or_else(|_| config.clone());
        }
        o.chart = self.chart.as_ref().map(|c| std::path::absolute(c).unwrap_or_else(|_| c.clone()));
        if let Some(j) = self.pool.jobs {
            o.jobs = j.max(1);
        }
        o.helm = self.pool.helm.clone();
        o.cli = self.pool.cli;
        o
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Install pinned Helm 3 and Helm 4 (go install), the Kubernetes schemas (pip) and the HTTPRoute and OpenShift Route CRDs into the tools folder (XTASK_TOOLS_DIR, else ~/.cache/chart-harness/tools).
    Setup,
    /// Render every case under Helm 3 and Helm 4 and each Kubernetes version; check rules, schemas, lint and snapshots.
    TestChart {
        #[command(flatten)]
        matrix: MatrixArgs,
        /// Print snapshot diffs and accept them (and delete unreferenced snapshots).
        #[arg(long)]
        review: bool,
        /// Write a JUnit XML report here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Test another copy of the repository (the chart, cases and snapshots its chart-harness.yaml names) instead of this one.
        #[arg(long)]
        repo: Option<PathBuf>,
    },
    /// Time the matrix against a sequential loop of the same Helm commands; print the harness's own cost per render.
    Bench {
        #[command(flatten)]
        matrix: MatrixArgs,
        /// Alternating rounds of matrix and sequential loop; medians are reported.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Mutation testing: plant each defect of tests/mutants/ into a throwaway chart copy and prove the matrix catches it.
    Mutants {
        /// Only mutants whose name contains this.
        #[arg(long)]
        filter: Option<String>,
        #[command(flatten)]
        pool: PoolArgs,
        /// The mutants of tests/mutants/pods/ instead: each must pass the render matrix and fail the e2e
        /// scenario it names on the built-in node (root, and --heimdall-source).
        #[arg(long)]
        pods: bool,
        /// With --pods: every pod mutant, not only those whose file changed since the newest v* tag.
        #[arg(long, requires = "pods")]
        all: bool,
        /// With --pods: the Heimdall source archive the node's image is built from (ignored without --pods,
        /// so HEIMDALL_SOURCE may stay set for the render-only run).
        #[arg(long, env = "HEIMDALL_SOURCE")]
        heimdall_source: Option<PathBuf>,
        /// With --pods: seconds pods may take to become Ready (a mutant that keeps them from it costs this;
        /// the unmutated chart's baselines get 600).
        #[arg(long, default_value_t = POD_MUTANT_READY_TIMEOUT)]
        ready_timeout: u64,
    },
    /// Value sets generated from values.schema.json, rendered by Helm 3 and Helm 4, judged by the API server: the
    /// chart refuses a set naming a value, or the built-in control plane accepts every object in a server-side dry
    /// run. A failing set is shrunk and printed as a --set-json line and a case file.
    Fuzz {
        /// Sets per batch (make test runs one batch).
        #[arg(long, default_value_t = 64)]
        cases: u32,
        /// The first batch's seed (each further batch adds 1).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Keep running batches until this many seconds have passed.
        #[arg(long)]
        time: Option<u64>,
        /// The most values one set gives.
        #[arg(long, default_value_t = 4)]
        most: usize,
        /// List every failing set of a batch, unshrunk, instead of stopping at the first.
        #[arg(long)]
        survey: bool,
        /// Then plant each fuzz mutant (tests/mutants/fuzz/) and require the oracle it names to catch it.
        #[arg(long)]
        mutants: bool,
    },
    /// Lifecycle tests under Helm 3 and Helm 4: against the cluster of --kubeconfig, else against the built-in
    /// control plane (kube-apiserver and etcd built from their Go modules), started as `e2e --serve`.
    E2e {
        /// Only scenarios whose name contains this.
        #[arg(long)]
        filter: Option<String>,
        /// A Helm binary to use for its major version (else $HELM, the tools folder, PATH).
        #[arg(long)]
        helm: Option<PathBuf>,
        /// Run against this cluster, in namespaces of the run's own that are always deleted.
        #[arg(long, conflicts_with = "serve")]
        kubeconfig: Option<PathBuf>,
        /// The kubeconfig context to use (else its current context).
        #[arg(long, requires = "kubeconfig")]
        context: Option<String>,
        /// Seconds pods may take to become Ready on a cluster with nodes (image pulls included).
        #[arg(long, default_value_t = 600)]
        ready_timeout: u64,
        /// Start the built-in control plane (and node), print its kubeconfig path, and keep it up until interrupted.
        #[arg(long)]
        serve: bool,
        /// The Heimdall source archive (heimdall2 at the chart's appVersion) the node's stand-in image is built from.
        #[arg(long, env = "HEIMDALL_SOURCE", conflicts_with = "kubeconfig")]
        heimdall_source: Option<PathBuf>,
        /// Install this chart instead of the repository's heimdall/ (e.g. a mutant's copy).
        #[arg(long)]
        chart: Option<PathBuf>,
        /// Run under this Helm major version only (3 or 4); both by default.
        #[arg(long, value_enum)]
        helm_major: Option<HelmMajor>,
        /// With --serve: a node without kube-router's NetworkPolicy firewall, labelled unenforced (scenario o runs on it; k is skipped).
        #[arg(long, requires = "serve", conflicts_with = "no_node")]
        no_enforcer: bool,
        /// The built-in cluster without a node (no root needed; scenarios that need running pods are skipped).
        #[arg(long, conflicts_with_all = ["kubeconfig", "heimdall_source"])]
        no_node: bool,
        /// Then every pod mutant of tests/mutants/pods/ on the suite's own node, before it stops (what
        /// `mutants --pods --all` proves, without a node of its own; make test runs this).
        #[arg(long, conflicts_with_all = ["kubeconfig", "no_node", "serve", "chart"])]
        pod_mutants: bool,
    },
    /// Check the GitHub workflows in .github/workflows with the pinned actionlint (installed into the tools folder if missing).
    Actionlint,
    /// Render every case with each Helm's renderer and with its `helm template` CLI; fail unless they answer byte for byte the same.
    RendererCheck {
        /// Parallel renders (default: the number of cores).
        #[arg(long)]
        jobs: Option<usize>,
    },
    /// Build the chart archive from a staging copy without secrets files; lint it; prove it holds no local secret.
    Package {
        /// Where to write the archive.
        #[arg(long, default_value = "dist")]
        destination: PathBuf,
        /// The repository's web address at the release's tag (https://github.com/OWNER/REPO/blob/vX.Y.Z),
        /// where the packaged README's relative links point; needed while the README has any.
        #[arg(long)]
        source_url: Option<String>,
    },
    /// Publish the chart as the release workflow does: setup, package, helm push, cosign sign and verify,
    /// Artifact Hub's metadata. Logs in with REGISTRY_USER and REGISTRY_PASSWORD.
    Release(ReleaseArgs),
    /// Regenerate the chart README's value tables from the comments in values.yaml.
    Docs {
        /// Write nothing; fail when the README is out of date.
        #[arg(long)]
        check: bool,
    },
    /// Translate a values file of mitre/heimdall-helm into this chart's values.yaml and secrets.yaml (by docs/migration/heimdall-helm.yaml).
    MigrateValues {
        /// The values file given to the old chart with -f.
        from: PathBuf,
        /// The folder to write values.yaml and secrets.yaml into; neither may exist yet.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check the Heimdall source archive (HEIMDALL_SOURCE) the node's image and the app-source check
    /// are built from: set, readable, the pinned one; else say what it is and where it comes from.
    HeimdallSource,
    /// Print the table of phases and their wall times that a run recorded in FILE (make test sets
    /// XTASK_PHASES to it, and prints this at its end).
    Phases { file: PathBuf },
    /// Render the chart with its default values (pinned Helm 3, newest Kubernetes schemas).
    Template {
        /// Extra arguments passed to helm template.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// Seconds a pod mutant's pods may take to become Ready.
const POD_MUTANT_READY_TIMEOUT: u64 = 90;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let command = Cli::parse().command;
    sweep_orphaned_folders(&command);
    let _run_temp = watch_the_host(&command)?;
    let _client_homes = keep_clients_out_of_home()?;
    match command {
        Cmd::Setup => setup(),
        Cmd::TestChart { matrix, review, junit, repo } => test_chart(matrix.options(), review, junit, repo),
        Cmd::Bench { matrix, rounds } => {
            let figures = bench::run(&matrix.options(), rounds, |line| println!("{line}"))?;
            print!("{figures}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Mutants { filter, pool, pods: false, .. } => {
            run_mutants(MatrixArgs { filter: None, config: None, chart: None, pool }, filter.as_deref())
        }
        Cmd::Mutants { filter, pool, pods: true, all, heimdall_source, ready_timeout } => {
            let heimdall_source = images::heimdall_source(heimdall_source.as_deref())
                .context("mutants --pods runs the built-in node, whose Heimdall image is built from source")?;
            let ready_timeout = std::time::Duration::from_secs(ready_timeout);
            let options = mutants::pods::PodOptions { heimdall_source, only: filter, all, ready_timeout };
            run_pod_mutants(MatrixArgs { filter: None, config: None, chart: None, pool }, &options)
        }
        e2e @ Cmd::E2e { .. } => e2e_command(e2e),
        Cmd::Actionlint => {
            let n = xtask::tasks::workflows::lint(&xtask::tasks::workflows::workflows_dir())?;
            println!("actionlint {}: {n} workflows clean", xtask::support::tools::ACTIONLINT_VERSION);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::RendererCheck { jobs } => {
            let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
            let n = xtask::tasks::equivalence::run(jobs)?;
            println!("renderer-check: {n} case-Helm pairs: helm template (and helm lint --strict, where the case renders) answered byte for byte as by the CLI");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Package { destination, source_url } => package_chart(destination, source_url.as_deref()),
        Cmd::Release(args) => release_chart(args),
        Cmd::Docs { check } => generate_docs(check),
        Cmd::Template { args } => template(&args),
        Cmd::HeimdallSource => {
            let path = images::heimdall_source(None)?;
            println!("HEIMDALL_SOURCE: {} (heimdall2 v{}, sha256 as pinned)", path.display(), images::HEIMDALL_SOURCE_VERSION);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Phases { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            print!("{}", xtask::support::phases::table(&xtask::support::phases::read(&text)));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::MigrateValues { from, out } => migrate_values(&from, &out),
        Cmd::Fuzz { cases, seed, time, most, survey, mutants } => {
            let time = time.map(std::time::Duration::from_secs);
            xtask::tasks::fuzz::run(&xtask::tasks::fuzz::FuzzOptions { cases, seed, time, most, survey, mutants })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn exit(success: bool) -> ExitCode {
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Before a command that makes temporary folders: those of runs killed outright (SIGKILL) before they could remove them.
fn sweep_orphaned_folders(command: &Cmd) {
    if !matches!(command, Cmd::E2e { .. } | Cmd::Mutants { .. }) {
        return;
    }
    for dir in xtask::support::scratch::sweep_orphans() {
        eprintln!("removed {}: the run that made it was killed before it could", dir.display());
    }
}

/// Before a command that starts a node and then compares the host with how it found it: the run's
/// own temp folder (TMPDIR for it and every process it starts), and the witness that tells the
/// run's changes to the host from another program's. Started first, before any thread or child.
fn watch_the_host(command: &Cmd) -> Result<Option<xtask::support::scratch::Folder>> {
    let starts_a_node = match command {
        Cmd::E2e { serve, kubeconfig, no_node, heimdall_source, .. } => {
            !serve && kubeconfig.is_none() && !no_node && heimdall_source.is_some()
        }
        Cmd::Mutants { pods, .. } => *pods,
        _ => false,
    };
    if !starts_a_node || !cfg!(target_os = "linux") {
        return Ok(None);
    }
    let folder = xtask::lifecycle::node::witness::redirect_temp()?;
    xtask::lifecycle::node::witness::start_global().context("starting the witness of the host check (it needs root, as the node does)")?;
    Ok(Some(folder))
}

/// The folders Kubernetes clients and Helm write by default (`~/.kube/cache`, `~/.cache/helm`,
/// `~/.config/helm`, `~/.local/share/helm`), moved into a scratch folder for this process and every
/// process it starts, unless the caller chose them: the harness leaves the home folder as it found it.
fn keep_clients_out_of_home() -> Result<xtask::support::scratch::Folder> {
    let folder = xtask::support::scratch::folder("xtask-client-homes-")?;
    for (var, sub) in [
        ("KUBECACHEDIR", "kube-cache"),
        ("HELM_CONFIG_HOME", "helm-config"),
        ("HELM_CACHE_HOME", "helm-cache"),
        ("HELM_DATA_HOME", "helm-data"),
    ] {
        if std::env::var_os(var).is_none_or(|v| v.is_empty()) {
            std::env::set_var(var, folder.path().join(sub));
        }
    }
    Ok(folder)
}

/// `cargo xtask e2e` in each of its forms: served, the suite (with the pod mutants), or against a kubeconfig.
fn e2e_command(command: Cmd) -> Result<ExitCode> {
    // A node is built only from the pinned source archive.
    if let Cmd::E2e { heimdall_source: Some(source), kubeconfig: None, .. } = &command {
        images::heimdall_source(Some(source))?;
    }
    match command {
        Cmd::E2e { heimdall_source: None, no_node: false, kubeconfig: None, .. } => {
            let why = images::heimdall_source(None).err().map(|e| format!("{e:#}")).unwrap_or_default();
            anyhow::bail!("the built-in cluster's node needs a Heimdall image. {why}; or pass --heimdall-source PATH; or --no-node for a cluster whose pods never run, or --kubeconfig for your own cluster")
        }
        Cmd::E2e { serve: true, heimdall_source, no_enforcer, .. } => {
            e2e::served::serve(heimdall_source.as_deref(), !no_enforcer).map(|()| ExitCode::SUCCESS)
        }
        Cmd::E2e { filter, helm, ready_timeout, heimdall_source, helm_major, pod_mutants: true, .. } => {
            let ready_timeout = std::time::Duration::from_secs(ready_timeout);
            let options = e2e::Options { helm, filter, ready_timeout, heimdall_source, chart: None, helm_major };
            e2e_suite_with_pod_mutants(options)
        }
        Cmd::E2e { filter, helm, kubeconfig, context, ready_timeout, serve: false, heimdall_source, chart, helm_major, .. } => {
            let ready_timeout = std::time::Duration::from_secs(ready_timeout);
            e2e_suite(e2e::Options { helm, filter, ready_timeout, heimdall_source, chart, helm_major }, kubeconfig, context)
        }
        _ => unreachable!("only e2e commands come here"),
    }
}

/// The scenarios against `kubeconfig`'s cluster, or the whole suite on a control plane (and node) of its own.
fn e2e_suite(options: e2e::Options, kubeconfig: Option<PathBuf>, context: Option<String>) -> Result<ExitCode> {
    let failed = match kubeconfig {
        Some(k) => {
            let summary = e2e::run_against_kubeconfig(&k, context.as_deref(), &options)?;
            print!("{summary}");
            summary.failed
        }
        None => e2e::served::run(&options, None)?,
    };
    Ok(exit(failed == 0))
}

/// The suite on its built-in node, then every pod mutant on that node.
fn e2e_suite_with_pod_mutants(options: e2e::Options) -> Result<ExitCode> {
    let heimdall_source = options.heimdall_source.clone().context("--pod-mutants needs the node, and so --heimdall-source")?;
    let ready_timeout = std::time::Duration::from_secs(POD_MUTANT_READY_TIMEOUT);
    let pod_options = mutants::pods::PodOptions { heimdall_source, only: None, all: true, ready_timeout };
    let root = tools::repo_root();
    let selected = mutants::pods::select(mutants::pods::load(&root.join("tests/mutants/pods"))?, &pod_options, &root)?;
    let matrix = MatrixArgs { filter: None, config: None, chart: None, pool: PoolArgs::default() };
    let failed = mutants::pods::run_with_the_suite(&matrix.options(), &selected, &pod_options, &options, |m, fate, took| {
        println!("{}", mutants::pods::line(m, fate, took));
    })?;
    Ok(exit(failed == 0))
}

fn test_chart(mut o: Options, review: bool, junit: Option<PathBuf>, repo: Option<PathBuf>) -> Result<ExitCode> {
    o.review = review;
    o.junit = junit;
    o.repo = repo.unwrap_or(o.repo);
    let outcome = testchart::run(&o)?;
    outcome.notes.iter().for_each(|note| eprintln!("{note}"));
    print!("{}", testchart::report(&outcome));
    Ok(exit(outcome.failed() == 0))
}

fn setup() -> Result<ExitCode> {
    let start = std::time::Instant::now();
    tools::setup(false)?;
    eprintln!("setup: done in {:.2}s", start.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn run_pod_mutants(matrix: MatrixArgs, options: &mutants::pods::PodOptions) -> Result<ExitCode> {
    xtask::lifecycle::controlplane::linux_only("`cargo xtask mutants --pods`")?;
    tools::setup(true)?;
    // Ctrl-C removes the mutated copies of the chart too.
    xtask::support::process::install_signal_cleanup()?;
    let root = tools::repo_root();
    let all = mutants::pods::load(&root.join("tests/mutants/pods"))?;
    let selected = mutants::pods::select(all, options, &root)?;
    if selected.is_empty() {
        println!("0 pod mutants to run");
        return Ok(ExitCode::SUCCESS);
    }
    let start = std::time::Instant::now();
    let mut times = Vec::new();
    let caught = mutants::pods::run(&matrix.options(), &selected, options, |m, fate, took| {
        times.push(took.as_secs_f64());
        println!("{}", mutants::pods::line(m, fate, took));
    })?;
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    println!(
        "time: {:.0} s in all, {mean:.0} s per mutant on the node (render matrix, node start and baselines included in the total)",
        start.elapsed().as_secs_f64()
    );
    println!("{} pod mutants: {}", selected.len(), if caught { "every one caught by its scenario" } else { "NOT all caught" });
    Ok(exit(caught))
}

fn run_mutants(matrix: MatrixArgs, only: Option<&str>) -> Result<ExitCode> {
    let dir = tools::repo_root().join("tests/mutants");
    xtask::support::process::install_signal_cleanup()?;
    let summary = mutants::run(&matrix.options(), &dir, only, |m, fate| println!("{}", mutants::line(m, fate)))?;
    for p in &summary.problems {
        println!("problem: {p}");
    }
    println!("{}", mutants::timing(&summary));
    println!("{}", mutants::totals(&summary));
    Ok(exit(summary.passed()))
}

/// `cargo xtask package`: the archive in `destination` (under the repository unless absolute), its
/// README's links made absolute against `source_url`.
fn package_chart(destination: PathBuf, source_url: Option<&str>) -> Result<ExitCode> {
    let helms = tools::find_helms(None)?;
    let dest = if destination.is_absolute() { destination } else { tools::repo_root().join(destination) };
    let source = source_url.map(package::SourceUrl::parse).transpose()?;
    println!("{}", package::run(&tools::repo_root(), &helms[0], &dest, source.as_ref())?.display());
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask release`'s options.
#[derive(clap::Args)]
struct ReleaseArgs {
    /// Where to push: oci://HOST/PATH (the chart lands at HOST/PATH/heimdall).
    #[arg(long)]
    registry: String,
    /// The repository's web address at the release's tag (see `package --source-url`).
    #[arg(long)]
    source_url: String,
    /// Sign keyless (Sigstore) and verify against this identity, e.g.
    /// https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/tags/vX.Y.Z.
    #[arg(long, conflicts_with = "key", required_unless_present = "key")]
    keyless_identity: Option<String>,
    /// The OIDC issuer of the keyless identity.
    #[arg(long, default_value = release::GITHUB_ISSUER)]
    keyless_issuer: String,
    /// Sign with this cosign private key (its password in COSIGN_PASSWORD) and verify with the
    /// `.pub` beside it; no transparency log.
    #[arg(long)]
    key: Option<PathBuf>,
    /// The registry speaks plain HTTP (a local one).
    #[arg(long)]
    plain_http: bool,
    /// Setup and package; print the other steps without running them.
    #[arg(long)]
    dry_run: bool,
    /// Where the archive and the login's configuration go.
    #[arg(long, default_value = "dist/release")]
    work: PathBuf,
}

fn release_chart(args: ReleaseArgs) -> Result<ExitCode> {
    let signing = match (args.keyless_identity, args.key) {
        (Some(identity), _) => release::Signing::Keyless { identity, issuer: args.keyless_issuer },
        (None, Some(private)) => release::Signing::Key { public: private.with_extension("pub"), private, password: None },
        (None, None) => unreachable!("clap requires one"),
    };
    let work = if args.work.is_absolute() { args.work } else { tools::repo_root().join(args.work) };
    let r = release::Release {
        registry: release::OciRepository::parse(&args.registry)?,
        source: package::SourceUrl::parse(&args.source_url)?,
        signing,
        plain_http: args.plain_http,
        version: None,
        dry_run: args.dry_run,
        work,
        login: if args.dry_run { None } else { Some(release::Login::from_env()?) },
    };
    if let Some(p) = release::run(&r, &|m| eprintln!("{m}"))? {
        println!("{}:{} {}", p.chart, p.version, p.digest);
    }
    Ok(ExitCode::SUCCESS)
}

fn generate_docs(check: bool) -> Result<ExitCode> {
    let root = tools::repo_root();
    if check {
        let stale = docs::stale(&root)?;
        for path in &stale {
            eprintln!("{} is out of date: run `cargo xtask docs`", path.display());
        }
        return Ok(exit(stale.is_empty()));
    }
    for path in docs::run(&root)? {
        eprintln!("updated {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn migrate_values(from: &std::path::Path, out: &std::path::Path) -> Result<ExitCode> {
    let map = heimdall_migrate_values::Map::built_in()?;
    for note in heimdall_migrate_values::migrate_file(&map, from, out)? {
        println!("note: {note}");
    }
    println!(
        "wrote {0}/values.yaml and {0}/secrets.yaml (mode 0600): helm install ... -f {0}/values.yaml -f {0}/secrets.yaml",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn template(args: &[String]) -> Result<ExitCode> {
    let helms = tools::find_helms(None)?;
    let status = std::process::Command::new(&helms[0].path)
        .arg("template")
        .arg("heimdall")
        .arg(tools::repo_root().join("heimdall"))
        .args(["--kube-version", xtask::engine::matrix::DEFAULT_KUBE_VERSIONS[1]])
        .args(args)
        .status()?;
    Ok(exit(status.success()))
}
