//! `cargo xtask bench`: the matrix's wall time against a plain sequential loop of the same Helm commands, and the harness's own cost per render.

use crate::testchart::{self, Options};
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

/// Alternates the matrix and the same Helm commands run one after another,
/// `rounds` times, so machine noise hits both alike; prints every round and the medians.
pub fn run(opts: &Options, rounds: usize) -> Result<()> {
    let mut quiet = opts.clone();
    quiet.verbose = false;
    let (mut matrix, mut sequential, mut sequential_one, mut own) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut commands, mut render_count) = (0, 0);
    for round in 1..=rounds.max(1) {
        let outcome = testchart::run(&quiet)?;
        if outcome.failed() > 0 {
            bail!("the matrix has {} failing rows; fix them before benchmarking (cargo xtask test-chart)", outcome.failed());
        }
        let sequential_loop = |gomaxprocs: Option<&str>| -> Result<Duration> {
            let start = Instant::now();
            for argv in &outcome.commands {
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..]).env("KUBECONFIG", "/dev/null");
                if let Some(g) = gomaxprocs {
                    cmd.env("GOMAXPROCS", g);
                }
                cmd.output()?;
            }
            Ok(start.elapsed())
        };
        let seq = sequential_loop(None)?;
        let seq_one = sequential_loop(Some("1"))?;
        let renders = outcome.own_cost_per_render.len().max(1) as u32;
        let snapshot_share = outcome.snapshot_cost.iter().sum::<Duration>() / renders;
        let phases: Vec<String> = outcome.phases.iter().map(|(n, d)| format!("{n} {:.2}s", d.as_secs_f64())).collect();
        println!(
            "round {round}: matrix {:.2}s ({}), sequential {:.2}s (GOMAXPROCS=1: {:.2}s), ratio {:.2}",
            outcome.wall.as_secs_f64(),
            phases.join(", "),
            seq.as_secs_f64(),
            seq_one.as_secs_f64(),
            outcome.wall.as_secs_f64() / seq.as_secs_f64()
        );
        commands = outcome.commands.len();
        render_count = outcome.rows.iter().filter(|r| r.step == "render").count();
        matrix.push(outcome.wall);
        sequential.push(seq);
        sequential_one.push(seq_one);
        own.extend(outcome.own_cost_per_render.iter().map(|d| *d + snapshot_share));
    }
    let (m, s, s1) = (median(matrix), median(sequential), median(sequential_one));
    println!("bench: {commands} Helm commands per round, {} jobs, {} rounds (medians below)", opts.jobs, rounds.max(1));
    println!("matrix wall time (parallel, all checks):  {:>8.2} s", m.as_secs_f64());
    println!("same Helm commands, sequential loop:      {:>8.2} s", s.as_secs_f64());
    println!("  the same loop with GOMAXPROCS=1:        {:>8.2} s   (the matrix gives each Helm cores/jobs)", s1.as_secs_f64());
    println!("ratio matrix / sequential:                {:>8.2}   (target <= 0.60)", m.as_secs_f64() / s.as_secs_f64());
    println!("ratio matrix / sequential GOMAXPROCS=1:   {:>8.2}", m.as_secs_f64() / s1.as_secs_f64());
    print_render_figures(m, render_count, opts.cli);
    println!(
        "harness own cost per render (median):     {:>8.2} ms  (target <= 10; parse, normalise, rules, schema, snapshot share)",
        median(own).as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Wall time per render, against issue 12's target of twice helm-unittest's wall time per test.
fn print_render_figures(matrix: Duration, renders: usize, cli: bool) {
    let target = HELM_UNITTEST_WALL_PER_TEST * 2 * renders as u32;
    println!(
        "matrix wall per render:                   {:>8.2} ms  over {renders} renders ({})",
        matrix.as_secs_f64() * 1000.0 / renders.max(1) as f64,
        if cli { "--cli: one helm process per render" } else { "served by helm-renderd" }
    );
    println!(
        "target: 2 x helm-unittest's {:.2} ms per test x {renders} renders = {:>5.2} s; the matrix takes {:.1}x that",
        HELM_UNITTEST_WALL_PER_TEST.as_secs_f64() * 1000.0,
        target.as_secs_f64(),
        matrix.as_secs_f64() / target.as_secs_f64().max(1e-9)
    );
}
