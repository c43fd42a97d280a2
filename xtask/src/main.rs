//! `cargo xtask`: set up pinned tools, test the chart across the matrix, benchmark it, render and package it.

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use xtask::testchart::{self, Options};
use xtask::{bench, e2e, mutants, package, tools};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Tasks of the Heimdall chart")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args, Clone)]
struct MatrixArgs {
    /// Only cases whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Parallel Helm processes (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// A Helm binary to use for its major version (else $HELM, .tools/, PATH).
    #[arg(long)]
    helm: Option<PathBuf>,
}

impl MatrixArgs {
    fn options(&self) -> Options {
        let mut o = Options::new(tools::repo_root());
        o.filter = self.filter.clone();
        if let Some(j) = self.jobs {
            o.jobs = j.max(1);
        }
        o.helm = self.helm.clone();
        o
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Install pinned Helm 3 and Helm 4 (go install), the Kubernetes schemas (pip) and the HTTPRoute CRD into .tools/.
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
        /// Parallel Helm processes (default: the number of cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// A Helm binary to use for its major version (else $HELM, .tools/, PATH).
        #[arg(long)]
        helm: Option<PathBuf>,
    },
    /// Lifecycle tests under Helm 3 and Helm 4 against a real kube-apiserver and etcd on loopback (built from their Go modules).
    E2e {
        /// Only scenarios whose name contains this.
        #[arg(long)]
        filter: Option<String>,
        /// A Helm binary to use for its major version (else $HELM, .tools/, PATH).
        #[arg(long)]
        helm: Option<PathBuf>,
    },
    /// Build the chart archive from a staging copy without secrets files; lint it; prove it holds no local secret.
    Package {
        /// Where to write the archive.
        #[arg(long, default_value = "dist")]
        destination: PathBuf,
    },
    /// Render the chart with its default values (pinned Helm 3, newest Kubernetes schemas).
    Template {
        /// Extra arguments passed to helm template.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

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
    let cli = Cli::parse();
    match cli.command {
        Cmd::Setup => {
            let start = std::time::Instant::now();
            tools::setup(false)?;
            eprintln!("setup: done in {:.2}s", start.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::TestChart { matrix, review, junit } => {
            let mut o = matrix.options();
            o.review = review;
            o.junit = junit;
            let outcome = testchart::run(&o)?;
            Ok(if outcome.failed() == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Cmd::Bench { matrix, rounds } => {
            bench::run(&matrix.options(), rounds)?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Mutants { filter, jobs, helm } => {
            let matrix = MatrixArgs { filter: None, jobs, helm };
            let summary = mutants::run(&matrix.options(), &tools::repo_root().join("tests/mutants"), filter.as_deref(), |m, fate| {
                println!("{}", mutants::line(m, fate));
            })?;
            for p in &summary.problems {
                println!("problem: {p}");
            }
            println!("{}", mutants::totals(&summary));
            Ok(if summary.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Cmd::E2e { filter, helm } => {
            let failed = e2e::run(helm.as_deref(), filter.as_deref())?;
            Ok(if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Cmd::Package { destination } => {
            let helms = tools::find_helms(None)?;
            let dest = if destination.is_absolute() { destination } else { tools::repo_root().join(destination) };
            let archive = package::run(&tools::repo_root(), &helms[0], &dest)?;
            println!("{}", archive.display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Template { args } => {
            let helms = tools::find_helms(None)?;
            let helm = &helms[0];
            let status = std::process::Command::new(&helm.path)
                .arg("template")
                .arg("heimdall")
                .arg(tools::repo_root().join("heimdall"))
                .args(["--kube-version", xtask::matrix::DEFAULT_KUBE_VERSIONS[1]])
                .args(&args)
                .status()?;
            Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
