//! Scenario r, for clusters with nodes: the backup and restore guide (docs/backup-and-restore.md) runs as written. Its `sh` blocks are taken from the Markdown, in order, with only the namespace and the files' dates put in, and run with the suite's kubectl; between them the suite uploads an evaluation, deletes the namespace (the disaster) and installs the chart again, and at the end the evaluation and its API key answer.

use super::survival::{generated, still_there, upload_evaluation};
use super::{install_and_wait, ADMIN_EMAIL_VALUE};
use crate::lifecycle::controlplane;
use crate::support::cluster::poll;
use crate::tasks::e2e::client::wait_all_ready;
use crate::tasks::e2e::{namespaces, Env};
use anyhow::{bail, ensure, Context, Result};
use std::path::Path;
use std::time::Duration;

/// The guide, from the repository root.
const GUIDE: &str = "docs/backup-and-restore.md";
/// The guide's namespace and the dates of its example files, which the suite replaces.
const GUIDE_NAMESPACE: &str = "-n heimdall ";
const GUIDE_DUMP: &str = "heimdall-2026-12-01.dump";
const GUIDE_SECRETS: &str = "heimdall-secrets-2026-12-01.yaml";

/// The guide's blocks, by what they do; [`guide_blocks`] checks there are exactly these.
const STEPS: [&str; 5] = ["dump the database", "save the Secret", "put the Secret back", "stop Heimdall", "restore the dump"];

/// r. Install, upload an evaluation with an API key, back up by the guide, delete the namespace, restore
/// by the guide (the Secret, the chart installed again, the dump): the evaluation is listed and read
/// with the API key, and the generated secrets are what they were.
pub fn restore_from_the_guide(env: &Env) -> Result<()> {
    let blocks = guide_blocks(&std::fs::read_to_string(crate::support::tools::repo_root().join(GUIDE))?)?;
    let ns = env.namespace("restore")?;
    let chart = env.chart_copy("restore")?;
    let values = ["--set-string", ADMIN_EMAIL_VALUE];
    install_and_wait(env, &ns, &chart, &values)?;
    let evaluation = upload_evaluation(env, &ns)?;
    let secrets = generated(env, &ns)?;
    let work = env.scratch.join("restore-files");
    std::fs::create_dir_all(&work)?;
    shim_kubectl(env, &work)?;
    run_step(env, &work, &ns, 0, &blocks[0])?;
    run_step(env, &work, &ns, 1, &blocks[1])?;
    disaster(env, &ns)?;
    run_step(env, &work, &ns, 2, &blocks[2])?;
    install_and_wait(env, &ns, &chart, &values).context("installing the chart again, as the guide says, after the Secret")?;
    run_step(env, &work, &ns, 3, &blocks[3])?;
    run_step(env, &work, &ns, 4, &blocks[4])?;
    wait_all_ready(env, &ns)?;
    still_there(env, &ns, &evaluation, &secrets, "the guide's restore")
}

/// The guide's ```sh blocks, in order; exactly one per [`STEPS`], else the guide and the scenario drifted.
fn guide_blocks(markdown: &str) -> Result<Vec<String>> {
    let blocks = fenced_blocks(markdown, "sh").with_context(|| GUIDE.to_string())?;
    ensure!(
        blocks.len() == STEPS.len(),
        "{GUIDE} has {} sh blocks; scenario r runs {} ({}): update the scenario with the guide",
        blocks.len(),
        STEPS.len(),
        STEPS.join(", ")
    );
    Ok(blocks)
}

/// A Markdown text's fenced blocks of `language` (```sh), in order, each line without the fence's indent.
pub(super) fn fenced_blocks(markdown: &str, language: &str) -> Result<Vec<String>> {
    let opening = format!("```{language}");
    let mut blocks = Vec::new();
    let mut current: Option<(usize, Vec<&str>)> = None;
    for line in markdown.lines() {
        let fence = line.trim_start();
        match current.as_mut() {
            None if fence == opening => current = Some((line.len() - fence.len(), Vec::new())),
            Some((_, lines)) if fence == "```" => {
                blocks.push(lines.join("\n"));
                current = None;
            }
            Some((indent, lines)) => lines.push(&line[(line.len() - line.trim_start().len()).min(*indent)..]),
            None => {}
        }
    }
    ensure!(current.is_none(), "a {opening} block is not closed");
    Ok(blocks)
}

/// Runs one block under `bash -euo pipefail` in `work`, with the run's namespace and the files the
/// backup made put in, and the suite's kubectl ([`shim_kubectl`], made once) first on PATH.
fn run_step(env: &Env, work: &Path, ns: &str, step: usize, block: &str) -> Result<()> {
    let script = put_in(block, ns, work)?;
    let out = guide_bash(env, work, &script)?;
    if !out.status.success() {
        bail!(
            "{GUIDE}, step {} ({}), failed ({}):\n{script}\n{}{}",
            step + 1,
            STEPS[step],
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    env.note(format!("{GUIDE}: {} ran as written", STEPS[step]));
    Ok(())
}

/// A guide's script under `bash -euo pipefail` in `work`, with the suite's kubectl ([`shim_kubectl`])
/// first on PATH and the run's kubeconfig; its output, whatever its status.
pub(super) fn guide_bash(env: &Env, work: &Path, script: &str) -> Result<std::process::Output> {
    let path = format!("{}:{}", work.join(SHIM_DIR).display(), std::env::var("PATH").unwrap_or_default());
    let mut bash = std::process::Command::new("bash");
    bash.args(["-euo", "pipefail", "-c", script]).current_dir(work).env("PATH", path).env("KUBECONFIG", &env.cluster.kubeconfig);
    crate::support::process::output(&mut bash, "bash")
}

/// The block with the run's namespace for the guide's, and the files this run's backup made for the
/// guide's dated examples (found in `work` once the backup steps have run).
fn put_in(block: &str, ns: &str, work: &Path) -> Result<String> {
    let mut script = block.replace(GUIDE_NAMESPACE, &format!("-n {ns} "));
    for (example, suffix) in [(GUIDE_DUMP, ".dump"), (GUIDE_SECRETS, ".yaml")] {
        if script.contains(example) {
            script = script.replace(example, &made(work, suffix)?);
        }
    }
    Ok(script)
}

/// The one file in `work` ending in `suffix` (made by a backup step).
fn made(work: &Path, suffix: &str) -> Result<String> {
    let names: Vec<String> = std::fs::read_dir(work)?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(suffix))
        .collect();
    ensure!(names.len() == 1, "the backup steps should have made one *{suffix} file in {}, found {names:?}", work.display());
    Ok(names[0].clone())
}

/// The folder under the work folder that holds the kubectl shim.
const SHIM_DIR: &str = ".bin";

/// A `kubectl` in `work/.bin` that is the suite's, on the run's context.
pub(super) fn shim_kubectl(env: &Env, work: &Path) -> Result<()> {
    let context = env.cluster.context.as_ref().map(|c| format!("--context '{c}' ")).unwrap_or_default();
    shim(work, "kubectl", &format!("exec '{}' {context}\"$@\"", controlplane::component("kubectl").display()))
}

/// A `helm` in `work/.bin` that is the scenario's Helm, with its config folders, on the run's cluster and context.
pub(super) fn shim_helm(env: &Env, work: &Path) -> Result<()> {
    let (argv, vars) = env.helm_command(&[]);
    let exports: String = vars.iter().map(|(k, v)| format!("export {k}='{}'\n", v.display())).collect();
    let context: Vec<String> = argv[1..].iter().map(|a| format!("'{a}'")).collect();
    shim(work, "helm", &format!("{exports}exec '{}' \"$@\" {}", argv[0], context.join(" ")))
}

/// An executable `name` in `work/.bin` that runs `body` under sh.
pub(super) fn shim(work: &Path, name: &str, body: &str) -> Result<()> {
    let bin = work.join(SHIM_DIR);
    std::fs::create_dir_all(&bin)?;
    let path = bin.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n"))?;
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    Ok(())
}

/// The disaster: the namespace deleted, and gone; then made again, empty, as an operator's cluster set-up would.
fn disaster(env: &Env, ns: &str) -> Result<()> {
    namespaces::delete(env.cluster, ns)?;
    poll(env.target.ready_timeout, Duration::from_secs(1), "the deleted namespace being gone", |_| {
        Ok(env.cluster.get(&format!("/api/v1/namespaces/{ns}"))?.is_none().then_some(()))
    })?;
    namespaces::create(env.cluster, ns, &env.target.run_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_has_one_block_per_step_and_each_names_the_guides_namespace() {
        let guide = std::fs::read_to_string(crate::support::tools::repo_root().join(GUIDE)).unwrap();
        let blocks = guide_blocks(&guide).unwrap();
        assert!(blocks.iter().all(|b| b.contains(GUIDE_NAMESPACE)), "a block without `{GUIDE_NAMESPACE}`: {blocks:#?}");
        assert!(blocks[2].contains(GUIDE_SECRETS) && blocks[4].contains(GUIDE_DUMP));
    }

    #[test]
    fn blocks_are_read_in_order_and_a_changed_count_is_refused() {
        let text = "x\n   ```sh\n   a \\\n     b\n   ```\n```yaml\nno\n```\n```sh\nc\n```\n";
        let err = guide_blocks(text).unwrap_err().to_string();
        assert!(err.contains("has 2 sh blocks"), "{err}");
    }

    #[test]
    fn a_block_keeps_its_lines_indent_beyond_the_fences() {
        let text = "- a list item:\n  ```yaml\n  a:\n    b: 1\n  ```\n";
        assert_eq!(fenced_blocks(text, "yaml").unwrap(), ["a:\n  b: 1"]);
    }

    #[test]
    fn the_namespace_and_the_made_files_are_put_in() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("heimdall-2027-01-02.dump"), "").unwrap();
        let block = "kubectl -n heimdall exec -i x -- sh < heimdall-2026-12-01.dump";
        let script = put_in(block, "e2e-1-restore-h3", dir.path()).unwrap();
        assert_eq!(script, "kubectl -n e2e-1-restore-h3 exec -i x -- sh < heimdall-2027-01-02.dump");
    }
}
