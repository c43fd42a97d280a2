//! Scenario s, for clusters with two nodes the suite may drain: docs/node-drains.md runs as written. Its values block is the release's values (with a toleration of the built-in second node's taint), and its two `sh` blocks, taken from the Markdown with the nodes' names put in, drain the node without the database and then the node with it, under a steady load through the Service: no request fails, and the second drain's evictions wait for the disruption budget.

use super::production::{wait_old_pods_gone, Load};
use super::restore::{fenced_blocks, guide_bash, shim_kubectl};
use super::{install_and_wait, ADMIN_EMAIL_VALUE};
use crate::lifecycle::node::DRAINABLE;
use crate::tasks::e2e::client::wait_rolled_out;
use crate::tasks::e2e::Env;
use anyhow::{bail, ensure, Context, Result};
use serde_json::Value as Json;
use std::path::Path;
use std::time::Instant;

/// The guide, from the repository root, and its names for the two nodes, which the suite replaces.
const GUIDE: &str = "docs/node-drains.md";
const GUIDE_NODES: [&str; 2] = ["node-a", "node-b"];
/// What `kubectl drain` prints when an eviction waits for the budget.
const BUDGET_REFUSAL: &str = "violate the pod's disruption budget";

/// s. Install with the guide's values, one Heimdall pod on each drainable node; under the load, drain
/// the node without the database and then the one with it, as the guide says: the second drain's
/// evictions wait for the budget, and no request fails.
pub fn drains_honour_the_budget(env: &Env) -> Result<()> {
    let guide = Guide::read()?;
    let ns = env.namespace("drains")?;
    let chart = env.chart_copy("drains")?;
    let values = env.scratch.join("drain-values.yaml");
    std::fs::write(&values, format!("{}\n{}", guide.values, TOLERATION))?;
    install_and_wait(env, &ns, &chart, &["--values", &values.display().to_string(), "--set-string", ADMIN_EMAIL_VALUE])?;
    let (node_a, node_b) = nodes_to_drain(env, &ns)?;
    let work = env.scratch.join("drain-files");
    shim_kubectl(env, &work)?;
    let _uncordon = Uncordon { env, work: &work, nodes: [node_a.clone(), node_b.clone()] };
    let load = Load::start_on(env, &ns, Some(&node_b))?;
    let (began, load_before) = (Instant::now(), load.counts(env)?.seconds);
    let put_in = |block: &str| block.replace(GUIDE_NODES[0], &node_a).replace(GUIDE_NODES[1], &node_b);
    run_block(env, &work, &put_in(&guide.drains[0])).context("the first drain")?;
    let second = run_block(env, &work, &put_in(&guide.drains[1])).context("the second drain")?;
    wait_rolled_out(env, &ns)?;
    wait_old_pods_gone(env, &ns)?;
    let (counts, took) = (load.finish(env)?, began.elapsed());
    let waits = second.matches(BUDGET_REFUSAL).count();
    env.note(format!(
        "drains of {node_a} and {node_b}, {:.0} s from {load_before:.0} s of load: {counts}; {waits} eviction(s) waited for the budget",
        took.as_secs_f64()
    ));
    ensure!(
        waits > 0,
        "the second drain evicted both replicas without waiting for the PodDisruptionBudget (no \"{BUDGET_REFUSAL}\"):\n{second}"
    );
    counts.judge(took).with_context(|| format!("the drains began at {load_before:.1} s of the load and took {:.0} s", took.as_secs_f64()))
}

/// The guide's values block and its two drain blocks.
struct Guide {
    values: String,
    drains: Vec<String>,
}

impl Guide {
    fn read() -> Result<Guide> {
        let markdown = std::fs::read_to_string(crate::support::tools::repo_root().join(GUIDE))?;
        Guide::parse(&markdown).with_context(|| GUIDE.to_string())
    }

    fn parse(markdown: &str) -> Result<Guide> {
        let values = fenced_blocks(markdown, "yaml")?;
        let drains = fenced_blocks(markdown, "sh")?;
        ensure!(values.len() == 1, "{} yaml blocks; scenario s installs with exactly one", values.len());
        ensure!(drains.len() == 2, "{} sh blocks; scenario s runs two (a node without the database, then its node)", drains.len());
        for (block, node) in drains.iter().zip(GUIDE_NODES) {
            ensure!(
                block.contains(&format!("drain {node} ")),
                "a drain block does not drain {node}: update scenario s with the guide:\n{block}"
            );
        }
        Ok(Guide { values: values[0].clone(), drains })
    }
}

/// The built-in second node lets only pods that tolerate its taint run there.
const TOLERATION: &str = "tolerations:\n  - {key: heimdall-chart-e2e/drains, operator: Equal, value: allowed, effect: NoSchedule}\n";

/// The node of a Heimdall pod that does not hold the database (node-a), and the database's (node-b);
/// both must be drainable, and the two replicas on different nodes (the guide's spread).
fn nodes_to_drain(env: &Env, ns: &str) -> Result<(String, String)> {
    let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
    let on = |component: &str| -> Vec<String> {
        let items = pods["items"].as_array().into_iter().flatten();
        let running =
            items.filter(|p| p["metadata"]["labels"]["app.kubernetes.io/component"] == component && p["status"]["phase"] == "Running");
        running.filter_map(|p: &Json| p["spec"]["nodeName"].as_str().map(str::to_string)).collect()
    };
    let (servers, database) = (on("server"), on("database"));
    let node_b = database.first().context("no running database pod")?.clone();
    ensure!(
        servers.len() == 2 && servers[0] != servers[1],
        "the guide's spread should put the 2 Heimdall pods on different nodes; they are on {servers:?}"
    );
    let node_a = servers.iter().find(|n| **n != node_b).context("no Heimdall pod off the database's node")?.clone();
    for node in [&node_a, &node_b] {
        ensure!(
            env.target.drainable.contains(node),
            "node {node} is not labelled {}={}: the suite may not drain it",
            DRAINABLE.0,
            DRAINABLE.1
        );
    }
    Ok((node_a, node_b))
}

/// Runs a script under `bash -euo pipefail` with the suite's kubectl; its output (stdout and stderr,
/// where kubectl drain reports refused evictions).
fn run_block(env: &Env, work: &Path, script: &str) -> Result<String> {
    let out = guide_bash(env, work, script)?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("{GUIDE}: this block failed ({}):\n{script}\n{text}", out.status);
    }
    Ok(text)
}

/// Uncordons the nodes however the scenario ends: a failed drain must not leave the cluster without
/// schedulable nodes for the scenarios after it.
struct Uncordon<'a> {
    env: &'a Env<'a>,
    work: &'a Path,
    nodes: [String; 2],
}

impl Drop for Uncordon<'_> {
    fn drop(&mut self) {
        let _ = run_block(self.env, self.work, &format!("kubectl uncordon {} {}", self.nodes[0], self.nodes[1]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_gives_one_values_block_and_drains_node_a_then_node_b() {
        let guide = Guide::read().unwrap();
        let values: serde_yaml::Value = serde_yaml::from_str(&guide.values).unwrap();
        assert_eq!(values["podDisruptionBudget"]["enabled"], serde_yaml::Value::Bool(true));
        assert!(guide.drains[1].contains("--pod-selector"), "the database's node is drained of Heimdall's pods only");
        let toleration: serde_yaml::Value = serde_yaml::from_str(TOLERATION).unwrap();
        assert_eq!(toleration["tolerations"][0]["key"].as_str(), Some(DRAINABLE.0));
    }

    #[test]
    fn a_guide_that_swapped_its_nodes_is_refused() {
        let text = "```yaml\na: 1\n```\n```sh\nkubectl drain node-b x\n```\n```sh\nkubectl drain node-a x\n```\n";
        let err = Guide::parse(text).err().unwrap().to_string();
        assert!(err.contains("does not drain node-a"), "{err}");
    }
}
