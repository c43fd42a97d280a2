//! Scenario v, for clusters with nodes and the registry: a release of mitre/heimdall-helm's own chart
//! (tests/fixtures/upstream/heimdall-helm/heimdall2, its pods on the stand-in images under the floating
//! tags its values name) with a claim and data moves to this chart by
//! docs/migration-from-heimdall-helm.md: the `sh` blocks of its section on moving a release, taken from
//! the Markdown, run as written but for the namespace and the chart's reference. This chart's release
//! must then answer the old admin password and the old API key, and list the evaluation.

use super::namespace_report;
use super::restore::{fenced_blocks, guide_bash, shim, shim_helm, shim_kubectl};
use super::survival::{evaluation_from, Evaluation, LISTED, UPLOAD};
use crate::lifecycle::node::images;
use crate::support::process::random_hex;
use crate::support::tools::repo_root;
use crate::tasks::e2e::client::{client_pod_with, run_pod, service_port, wait_all_ready, ADMIN_EMAIL, FIRST_LOGIN, HELPERS};
use crate::tasks::e2e::{Env, RELEASE};
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use std::path::Path;

/// The guide, from the repository root, and the section the scenario runs.
const GUIDE: &str = "docs/migration-from-heimdall-helm.md";
const SECTION: (&str, &str) = ("## Moving a release and its data", "### Without a claim");
/// The guide's namespace, and the published chart it installs: the scenario puts in its own.
const GUIDE_NAMESPACE: &str = "-n heimdall ";
const GUIDE_CHART: &str = "oci://ghcr.io/<owner>/charts/heimdall --version 4.0.0";
/// How many `sh` blocks the section has (its numbered steps).
const STEPS: usize = 5;
/// The old chart, kept under tests/ with its source and licence.
const OLD_CHART: &str = "tests/fixtures/upstream/heimdall-helm/heimdall2";
/// The old chart's claim (`<fullname>-db-data`) and the one the guide makes for this chart.
const OLD_CLAIM: &str = "heimdall-db-data";
const KEPT_CLAIM: &str = "heimdall-database";

/// v. Install mitre/heimdall-helm with a claim, upload an evaluation with an API key, move the release
/// by the guide; this chart's release answers the old admin password and API key and lists the evaluation.
pub fn moved_from_heimdall_helm(env: &Env) -> Result<()> {
    let script = guide_script(&std::fs::read_to_string(repo_root().join(GUIDE))?)?;
    let registry = env.target.registry.as_ref().context("scenario v needs the cluster's registry")?;
    let (heimdall, postgres) = images::chart_references()?;
    registry.tag(&heimdall, "release-latest")?;
    registry.tag(&postgres, images::POSTGRES_MAJOR)?;
    // The old chart's pods are not Pod Security "restricted" (root PostgreSQL, no seccomp profile).
    let ns = env.namespace_enforcing("migrate", "baseline")?;
    let work = env.scratch.join("migrate-files");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let old = OldRelease::install(env, &ns, &work)?;
    let evaluation = old.upload(env, &ns)?;
    let volume = bound_volume(env, &ns, OLD_CLAIM)?;
    let moved = run_guide(env, &ns, &work, &script.replace(GUIDE_CHART, &env.chart_copy("migrate")?.display().to_string()));
    // Whatever the guide did, the volume it retained is given back to the provisioner with the namespace.
    let reclaimed =
        guide_bash(env, &work, &format!("kubectl patch pv {volume} -p '{{\"spec\":{{\"persistentVolumeReclaimPolicy\":\"Delete\"}}}}'"));
    moved?;
    ensure!(reclaimed?.status.success(), "setting the retained volume {volume} back to Delete failed");
    ensure!(bound_volume(env, &ns, KEPT_CLAIM)? == volume, "the guide's claim {KEPT_CLAIM} is not bound to the old volume {volume}");
    answers_as_before(env, &ns, &old, &evaluation)
}

/// The section's `sh` blocks, in order, as one script (its shell variables carry from step to step),
/// with the run's namespace for the guide's.
fn guide_script(markdown: &str) -> Result<String> {
    let start = markdown.find(SECTION.0).with_context(|| format!("{GUIDE} has no section {:?}", SECTION.0))?;
    let section = &markdown[start..];
    let section = &section[..section.find(SECTION.1).with_context(|| format!("{GUIDE} has no {:?} after it", SECTION.1))?];
    let blocks = fenced_blocks(section, "sh")?;
    ensure!(
        blocks.len() == STEPS,
        "{GUIDE}'s {:?} has {} sh blocks; scenario v runs {STEPS}: update it with the guide",
        SECTION.0,
        blocks.len()
    );
    let script = blocks.join("\n");
    ensure!(script.matches(GUIDE_CHART).count() == 1, "{GUIDE}: the install step no longer names {GUIDE_CHART}");
    Ok(script)
}

/// The old chart's release: its values file (the scenario's, as a user's) and admin password.
struct OldRelease {
    admin_password: String,
}

impl OldRelease {
    /// `helm install heimdall <old chart> -f old-values.yaml --wait`, with a claim of the cluster's default class.
    fn install(env: &Env, ns: &str, work: &Path) -> Result<OldRelease> {
        let old = OldRelease { admin_password: format!("Old_{}", random_hex(16)?) };
        let values = work.join("user-values.yaml");
        std::fs::write(&values, old.values(&default_storage_class(env)?)?)?;
        let chart = repo_root().join(OLD_CHART);
        let timeout = format!("{}s", env.target.ready_timeout.as_secs());
        let args = ["install", RELEASE, path(&chart)?, "--namespace", ns, "-f", path(&values)?, "--wait", "--timeout", &timeout];
        let run = env.helm(&args)?;
        if !run.success {
            bail!(
                "installing mitre/heimdall-helm failed: {}\n{}\n  reproduce: {}",
                run.stderr.trim(),
                namespace_report(env, ns)?,
                run.command_line()
            );
        }
        Ok(old)
    }

    /// The values an operator of the old chart gave it: every secret, an admin e-mail, a claim; and
    /// probes of `/server`, since the stand-in image serves no front end at the old probes' `/`.
    fn values(&self, storage_class: &str) -> Result<String> {
        let probe = json!({"httpGet": {"path": "/server", "port": 3000}, "initialDelaySeconds": 5, "periodSeconds": 5, "timeoutSeconds": 5, "failureThreshold": 60});
        let values = json!({
            "adminEmail": ADMIN_EMAIL, "adminPassword": self.admin_password,
            "jwtSecret": random_hex(64)?, "apiKeySecret": random_hex(33)?, "databasePassword": random_hex(33)?,
            "postgresql": {"persistence": {"enabled": true, "size": "1Gi", "storageClassName": storage_class}},
            "heimdall": {"livenessProbe": probe, "readinessProbe": probe}});
        Ok(serde_yaml::to_string(&values)?)
    }

    /// Logs in beside the old StatefulSet, makes an API key and uploads an evaluation with it.
    fn upload(&self, env: &Env, ns: &str) -> Result<Evaluation> {
        let workload = env
            .cluster
            .get(&format!("/apis/apps/v1/namespaces/{ns}/statefulsets/{RELEASE}"))?
            .context("the old chart's StatefulSet is missing")?;
        let pod = client_pod_with(&workload, service_port(env, ns)?, "e2e-upload-old", &format!("{HELPERS}{UPLOAD}"), self.password(), &[]);
        evaluation_from(&run_pod(env, ns, &pod).context("uploading to the old chart's Heimdall")?)
    }

    fn password(&self) -> Json {
        json!({"name": "ADMIN_PASSWORD", "value": self.admin_password})
    }
}

/// The default StorageClass of the cluster, by name.
fn default_storage_class(env: &Env) -> Result<String> {
    let classes = env.cluster.request("GET", "/apis/storage.k8s.io/v1/storageclasses", None)?;
    let default = classes["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true");
    default.and_then(|c| c["metadata"]["name"].as_str()).map(str::to_string).context("the cluster has no default StorageClass")
}

/// The volume `claim` is bound to.
fn bound_volume(env: &Env, ns: &str, claim: &str) -> Result<String> {
    let pvc = env
        .cluster
        .get(&format!("/api/v1/namespaces/{ns}/persistentvolumeclaims/{claim}"))?
        .with_context(|| format!("no claim {claim}"))?;
    pvc["spec"]["volumeName"].as_str().filter(|v| !v.is_empty()).map(str::to_string).with_context(|| format!("claim {claim} is not bound"))
}

/// Runs the guide's script with the suite's kubectl and Helm, and `heimdall-migrate-values` (this xtask's migrate-values, the same code).
fn run_guide(env: &Env, ns: &str, work: &Path, script: &str) -> Result<()> {
    shim_kubectl(env, work)?;
    shim_helm(env, work)?;
    let xtask = std::env::current_exe()?;
    shim(work, "heimdall-migrate-values", &format!("exec '{}' migrate-values \"$@\"", xtask.display()))?;
    let script = script.replace(GUIDE_NAMESPACE, &format!("-n {ns} "));
    let out = guide_bash(env, work, &script)?;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("{GUIDE}'s {:?} failed as written ({}):\n{script}\n{said}\n{}", SECTION.0, out.status, namespace_report(env, ns)?);
    }
    env.note(format!("{GUIDE}: {} steps ran as written", STEPS));
    Ok(())
}

/// This chart's release: every pod Ready, the old admin password logs in (a wrong one is refused), and
/// the old API key reads the evaluation and finds it listed.
fn answers_as_before(env: &Env, ns: &str, old: &OldRelease, evaluation: &Evaluation) -> Result<()> {
    wait_all_ready(env, ns)?;
    ensure!(
        env.cluster.get(&format!("/apis/apps/v1/namespaces/{ns}/statefulsets/{RELEASE}"))?.is_none(),
        "the old chart's StatefulSet is still there"
    );
    let deployment = env.deployment(ns)?.context("this chart's Deployment is missing")?;
    let port = service_port(env, ns)?;
    let login = client_pod_with(&deployment, port, "e2e-login-moved", &format!("{HELPERS}{FIRST_LOGIN}"), old.password(), &[]);
    run_pod(env, ns, &login).context("the old admin password after the move")?;
    let extra = [("API_KEY", evaluation.api_key.as_str()), ("EVALUATION", evaluation.id.as_str())];
    let listed = client_pod_with(&deployment, port, "e2e-listed-moved", &format!("{HELPERS}{LISTED}"), old.password(), &extra);
    let said = run_pod(env, ns, &listed).context("the old API key and evaluation after the move")?;
    ensure!(said.contains("listed"), "after the move: {said}");
    Ok(())
}

fn path(p: &Path) -> Result<&str> {
    p.to_str().with_context(|| format!("{} is not UTF-8", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_section_is_one_script_of_its_steps_naming_its_namespace_and_chart() {
        let script = guide_script(&std::fs::read_to_string(repo_root().join(GUIDE)).unwrap()).unwrap();
        for needed in [GUIDE_NAMESPACE, "heimdall-migrate-values", OLD_CLAIM, KEPT_CLAIM, "existingClaim"] {
            assert!(script.contains(needed), "the guide's script lacks {needed:?}:\n{script}");
        }
        assert!(!script.contains("pg_dump"), "the dump section leaked into the script");
    }

    #[test]
    fn a_changed_step_count_is_refused() {
        let text = format!("{}\n```sh\na\n```\n{}\n```sh\nb\n```\n", SECTION.0, SECTION.1);
        assert!(guide_script(&text).unwrap_err().to_string().contains("has 1 sh blocks"));
    }
}
