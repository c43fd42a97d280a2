//! `cargo xtask bench`: the matrix's wall time against a plain sequential loop of the same Helm commands, and the harness's own cost per render.

use crate::testchart::{self, Options};
use anyhow::{bail, Result};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

/// Runs the matrix once, then the same Helm commands one after another, and prints both.
pub fn run(opts: &Options) -> Result<()> {
    let mut quiet = opts.clone();
    quiet.verbose = false;
    let outcome = testchart::run(&quiet)?;
    if outcome.failed() > 0 {
        bail!("the matrix has {} failing rows; fix them before benchmarking (cargo xtask test-chart)", outcome.failed());
    }
    let sequential_start = Instant::now();
    for argv in &outcome.commands {
        let status = Command::new(&argv[0]).args(&argv[1..]).env("KUBECONFIG", "/dev/null").output()?;
        let _ = status;
    }
    let sequential = sequential_start.elapsed();
    let renders = outcome.own_cost_per_render.len().max(1);
    let snapshot_per_render = outcome.snapshot_cost.iter().sum::<Duration>() / renders as u32;
    let own = median(outcome.own_cost_per_render.clone()) + snapshot_per_render;
    let ratio = outcome.wall.as_secs_f64() / sequential.as_secs_f64();
    println!("bench: {} Helm commands ({} renders, the rest lints), {} jobs", outcome.commands.len(), renders, opts.jobs);
    println!("matrix wall time (parallel, all checks):   {:>8.2} s", outcome.wall.as_secs_f64());
    println!("same Helm commands, sequential loop:       {:>8.2} s", sequential.as_secs_f64());
    println!("ratio matrix / sequential:                 {:>8.2}  (target <= 0.60)", ratio);
    println!("harness own cost per render (median):      {:>8.2} ms (target <= 10 ms; parse, normalise, rules, schema + snapshot share)", own.as_secs_f64() * 1000.0);
    Ok(())
}
