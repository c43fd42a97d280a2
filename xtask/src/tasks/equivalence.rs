//! `cargo xtask renderer-check`: every case rendered (and, when it renders, linted) by each Helm's renderer and by its CLI must answer byte for byte the same (output, errors, exit status).
//!
//! Real Helm stays the judge: the renderer is trusted only as far as this
//! check proves it, on every case (the fails/ cases included, so failure
//! messages and exit status are compared too), at the case's first
//! Kubernetes version.

use crate::engine::config::Config;
use crate::engine::matrix::{self, Case};
use crate::engine::render::{self, Prepared};
use crate::engine::renderd;
use crate::support::command::Run;
use crate::support::parallel::parallel_map;
use crate::support::tools::{self, Helm};
use anyhow::{bail, Result};

/// The renderers' shared Go package has its own unit tests (the chart cache above all): they run first.
fn test_serve_package(repo: &std::path::Path) -> Result<()> {
    let dir = repo.join("xtask/renderd/serve");
    let mut go = std::process::Command::new("go");
    go.args(["test", "./..."]).current_dir(&dir).env("CGO_ENABLED", "0");
    crate::support::process::checked(&mut go, &format!("go test in {}", dir.display()))?;
    Ok(())
}

/// Renders (and lints) every case both ways under each Helm; returns the number of case-Helm pairs, or the differences.
pub fn run(jobs: usize) -> Result<usize> {
    tools::setup(true)?;
    let repo = tools::repo_root();
    test_serve_package(&repo)?;
    let config = Config::at_root(&repo)?;
    let cases = config.cases()?;
    let helms = tools::find_helms(None)?;
    for h in &helms {
        if !renderd::enable(h, 1) {
            bail!("no renderer matches Helm {} {}: run `cargo xtask setup`", h.major, h.version);
        }
    }
    let work = repo.join("target/renderer-check");
    // As test-chart does: render the copy with the harness's NOTES template, lint the chart as shipped.
    let prepared = render::prepare_cases(&cases, &config, &work, jobs)?;
    let pairs: Vec<(usize, &Helm)> = (0..cases.len()).flat_map(|i| helms.iter().map(move |h| (i, h))).collect();
    let differences: Vec<String> = parallel_map(&pairs, jobs, |(i, helm)| compare(&cases[*i], &prepared[*i], helm))
        .into_iter()
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    if !differences.is_empty() {
        bail!("the renderer differs from the helm template CLI:\n{}", differences.join("\n"));
    }
    Ok(pairs.len())
}

/// One case under one Helm: the renderer's answers against the CLI's (template, then lint); None when identical.
fn compare(case: &Case, (prepared, shipped): &(Prepared, Prepared), helm: &Helm) -> Result<Option<String>> {
    let kube = case.kube_versions().first().cloned().unwrap_or_else(|| matrix::DEFAULT_KUBE_VERSIONS[0].to_string());
    let mut found = Vec::new();
    let pairs = [(render::template_cli(helm, case, prepared, &kube)?, render::template(helm, case, prepared, &kube)?)];
    let lints = match case.spec.expect {
        matrix::Expect::Renders => vec![(render::lint_cli(helm, case, shipped, &kube)?, render::lint(helm, case, shipped, &kube)?)],
        _ => vec![],
    };
    for (cli, served) in pairs.into_iter().chain(lints) {
        if let Some(d) = describe(&cli, &served) {
            found.push(format!("{} ({} {kube}): {d}\n  reproduce: {}", case.name, helm.label(), cli.command_line()));
        }
    }
    Ok((!found.is_empty()).then(|| found.join("\n")))
}

/// What differs between the CLI's run and the renderer's, if anything.
pub fn describe(cli: &Run, served: &Run) -> Option<String> {
    let mut parts = Vec::new();
    if cli.success != served.success {
        parts.push(format!("exit status: CLI {}, renderer {}", cli.success, served.success));
    }
    for (what, a, b) in [("stdout", &cli.stdout, &served.stdout), ("stderr", &cli.stderr, &served.stderr)] {
        if a != b {
            let diff = similar::TextDiff::from_lines(a.as_str(), b.as_str())
                .unified_diff()
                .context_radius(2)
                .header("CLI", "renderer")
                .to_string();
            parts.push(format!("{what} differs:\n{diff}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(stdout: &str, stderr: &str, success: bool) -> Run {
        Run { argv: vec!["helm".into()], stdout: stdout.into(), stderr: stderr.into(), success, elapsed: Duration::ZERO }
    }

    #[test]
    fn identical_answers_pass_and_any_difference_is_named() {
        assert_eq!(describe(&run("a\n", "", true), &run("a\n", "", true)), None);
        let d = describe(&run("a\n", "", true), &run("a\n\n", "", true)).expect("a blank line differs");
        assert!(d.contains("stdout differs"), "{d}");
        let d = describe(&run("", "Error: x\n", false), &run("", "Error: y\n", false)).expect("messages differ");
        assert!(d.contains("stderr differs") && d.contains("-Error: x") && d.contains("+Error: y"), "{d}");
        let d = describe(&run("", "", false), &run("", "", true)).expect("exit status differs");
        assert!(d.contains("exit status"), "{d}");
    }
}
