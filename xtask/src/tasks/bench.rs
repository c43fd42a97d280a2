//! `cargo xtask bench`: the matrix's wall time against a plain sequential loop of the same Helm commands, and the harness's own cost per render.

use crate::tasks::testchart::{self, Options};
use anyhow::{bail, Result};
use std::process::Command;
use std::time::{Duration, Instant};

/// helm-unittest v1.1.2 on the upstream chart's 108 tests, measured on a 2-core machine: 0.34 s wall (issue 12).
const HELM_UNITTEST_WALL_PER_TEST: Duration = Duration::from_micros(3150);

fn median(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

/// One round's figures.
struct Round {
    matrix: Duration,
    sequential: Duration,
    sequential_one: Duration,
    /// CPU time the renderers spent on the matrix's renders and on its lints (zero under --cli).
    render_cpu: Duration,
    lint_cpu: Duration,
    own: Vec<Duration>,
    commands: usize,
    renders: usize,
}

/// The figures of every round, which [`Figures`]'s `Display` prints as medians.
pub struct Figures {
    rounds: Vec<Round>,
    jobs: usize,
    cli: bool,
}

/// Alternates the matrix and the same Helm commands run one after another, `rounds` times, so
/// machine noise hits both alike; tells `on_round` each round's line as it ends.
pub fn run(opts: &Options, rounds: usize, mut on_round: impl FnMut(String)) -> Result<Figures> {
    let mut all = Vec::new();
    for n in 1..=rounds.max(1) {
        let (round, line) = round(opts, n)?;
        on_round(line);
        all.push(round);
    }
    Ok(Figures { rounds: all, jobs: opts.jobs, cli: opts.cli })
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let pick = |get: fn(&Round) -> Duration| median(self.rounds.iter().map(get).collect());
        let (m, s, s1) = (pick(|r| r.matrix), pick(|r| r.sequential), pick(|r| r.sequential_one));
        let last = self.rounds.last().expect("at least one round");
        writeln!(f, "bench: {} Helm commands per round, {} jobs, {} rounds (medians below)", last.commands, self.jobs, self.rounds.len())?;
        writeln!(f, "matrix wall time (parallel, all checks):  {:>8.2} s", m.as_secs_f64())?;
        writeln!(f, "same Helm commands, sequential loop:      {:>8.2} s", s.as_secs_f64())?;
        writeln!(f, "  the same loop with GOMAXPROCS=1:        {:>8.2} s   (the matrix gives each Helm cores/jobs)", s1.as_secs_f64())?;
        writeln!(f, "ratio matrix / sequential:                {:>8.2}   (target <= 0.60)", m.as_secs_f64() / s.as_secs_f64())?;
        writeln!(f, "ratio matrix / sequential GOMAXPROCS=1:   {:>8.2}", m.as_secs_f64() / s1.as_secs_f64())?;
        write_render_figures(f, m, last.renders, self.cli)?;
        let own = median(self.rounds.iter().flat_map(|r| r.own.iter().copied()).collect());
        writeln!(
            f,
            "harness own cost per render (median):     {:>8.2} ms  (target <= 10; parse, normalise, rules, schema, snapshot share)",
            own.as_secs_f64() * 1000.0
        )?;
        if !self.cli {
            write_floor(f, pick(|r| r.render_cpu), pick(|r| r.lint_cpu), last, own)?;
        }
        Ok(())
    }
}

/// Runs the matrix once, then its Helm commands one after another (twice: as is and with GOMAXPROCS=1).
fn round(opts: &Options, n: usize) -> Result<(Round, String)> {
    let (render_before, lint_before) = crate::engine::renderd::served_cpu();
    let outcome = testchart::run(opts)?;
    let (render_after, lint_after) = crate::engine::renderd::served_cpu();
    let (render_cpu, lint_cpu) = (render_after - render_before, lint_after - lint_before);
    if outcome.failed() > 0 {
        bail!("the matrix has {} failing rows; fix them before benchmarking (cargo xtask test-chart)", outcome.failed());
    }
    let (sequential, sequential_one) = (sequential_loop(&outcome.commands, None)?, sequential_loop(&outcome.commands, Some("1"))?);
    let renders = outcome.rows.iter().filter(|r| r.step == crate::support::report::Step::Render).count();
    let snapshot_share = outcome.snapshot_cost.iter().sum::<Duration>() / renders.max(1) as u32;
    let phases: Vec<String> = outcome.phases.iter().map(|(n, d)| format!("{n} {:.2}s", d.as_secs_f64())).collect();
    let line = format!(
        "round {n}: matrix {:.2}s ({}), sequential {:.2}s (GOMAXPROCS=1: {:.2}s), ratio {:.2}, renderers' CPU {:.2}s",
        outcome.wall.as_secs_f64(),
        phases.join(", "),
        sequential.as_secs_f64(),
        sequential_one.as_secs_f64(),
        outcome.wall.as_secs_f64() / sequential.as_secs_f64(),
        (render_cpu + lint_cpu).as_secs_f64()
    );
    let own = outcome.own_cost_per_render.iter().map(|d| *d + snapshot_share).collect();
    let round =
        Round { matrix: outcome.wall, sequential, sequential_one, render_cpu, lint_cpu, own, commands: outcome.commands.len(), renders };
    Ok((round, line))
}

fn sequential_loop(commands: &[Vec<String>], gomaxprocs: Option<&str>) -> Result<Duration> {
    let start = Instant::now();
    for argv in commands {
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).env("KUBECONFIG", "/dev/null");
        if let Some(g) = gomaxprocs {
            cmd.env("GOMAXPROCS", g);
        }
        crate::support::process::output(&mut cmd, &argv[0])?;
    }
    Ok(start.elapsed())
}

/// The least wall time the matrix could take on this machine: Helm's own CPU
/// (renders and lints, as the renderers measured it) plus the harness's, spread
/// perfectly over every core. No scheduling can beat it; only less work can.
fn write_floor(f: &mut std::fmt::Formatter, render_cpu: Duration, lint_cpu: Duration, round: &Round, own: Duration) -> std::fmt::Result {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as u32;
    let harness = own * round.renders as u32;
    let lints = round.commands.saturating_sub(round.renders).max(1);
    writeln!(
        f,
        "Helm's own CPU per render / per lint:     {:>8.2} ms / {:.2} ms  ({:.2} s + {:.2} s over {} renders and {lints} lints)",
        render_cpu.as_secs_f64() * 1000.0 / round.renders.max(1) as f64,
        lint_cpu.as_secs_f64() * 1000.0 / lints as f64,
        render_cpu.as_secs_f64(),
        lint_cpu.as_secs_f64(),
        round.renders
    )?;
    let floor = (render_cpu + lint_cpu + harness) / cores;
    writeln!(
        f,
        "floor: (Helm CPU + harness CPU {:.2} s) / {cores} cores = {:.2} s; the matrix takes {:.1}x that",
        harness.as_secs_f64(),
        floor.as_secs_f64(),
        round.matrix.as_secs_f64() / floor.as_secs_f64().max(1e-9)
    )?;
    writeln!(f, "  renders alone, no lint, no harness:     {:>8.2} s", (render_cpu / cores).as_secs_f64())
}

/// Wall time per render, against issue 12's target of twice helm-unittest's wall time per test.
fn write_render_figures(f: &mut std::fmt::Formatter, matrix: Duration, renders: usize, cli: bool) -> std::fmt::Result {
    let target = HELM_UNITTEST_WALL_PER_TEST * 2 * renders as u32;
    writeln!(
        f,
        "matrix wall per render:                   {:>8.2} ms  over {renders} renders ({})",
        matrix.as_secs_f64() * 1000.0 / renders.max(1) as f64,
        if cli { "--cli: one helm process per render" } else { "served by helm-renderd" }
    )?;
    writeln!(
        f,
        "target: 2 x helm-unittest's {:.2} ms per test x {renders} renders = {:>5.2} s; the matrix takes {:.1}x that",
        HELM_UNITTEST_WALL_PER_TEST.as_secs_f64() * 1000.0,
        target.as_secs_f64(),
        matrix.as_secs_f64() / target.as_secs_f64().max(1e-9)
    )
}
