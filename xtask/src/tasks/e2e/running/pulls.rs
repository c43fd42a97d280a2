//! Scenario t, for clusters that advertise a registry needing credentials (the built-in node's):
//! docs/examples/air-gapped-mirror.yaml as written, its mirror's host replaced by that registry's
//! address. Without the pull Secret it names, the pods wait in `ErrImagePull` and the not-Ready report
//! says so; with it, the hook, PostgreSQL and Heimdall pull and start, every image from the registry.

use super::{install_and_wait, namespace_report, ADMIN_EMAIL_VALUE};
use crate::lifecycle::node::registry::MIRROR_PREFIX;
use crate::support::tools::repo_root;
use crate::tasks::e2e::{install, Env};
use anyhow::{ensure, Context, Result};
use base64::Engine;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The example, from the repository's root, and the host its mirror names.
const EXAMPLE: &str = "docs/examples/air-gapped-mirror.yaml";
const EXAMPLE_HOST: &str = "registry.example.internal";
/// The container reasons of an image the node could not pull.
const PULL_FAILURES: [&str; 2] = ["ErrImagePull", "ImagePullBackOff"];
/// How long the install without the Secret may wait before the pull failure shows (it shows in seconds).
const DENIED_TIMEOUT: Duration = Duration::from_secs(120);

/// What the scenario takes from the example: its file, its mirror's path below the host, and the
/// pull Secret it names.
struct Example {
    file: PathBuf,
    prefix: String,
    pull_secret: String,
}

impl Example {
    fn read() -> Result<Example> {
        let file = repo_root().join(EXAMPLE);
        let values: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).with_context(|| format!("reading {EXAMPLE}"))?)?;
        let registry = values["global"]["imageRegistry"].as_str().context("the example sets no global.imageRegistry")?;
        let prefix =
            registry.strip_prefix(&format!("{EXAMPLE_HOST}/")).with_context(|| format!("the example's mirror is not on {EXAMPLE_HOST}"))?;
        ensure!(
            prefix == MIRROR_PREFIX,
            "the example's mirror keeps Docker Hub's images below {prefix}/, the node's registry below {MIRROR_PREFIX}/"
        );
        let first = &values["global"]["imagePullSecrets"][0];
        let pull_secret = first.as_str().or(first["name"].as_str()).context("the example names no pull Secret")?;
        Ok(Example { file, prefix: prefix.into(), pull_secret: pull_secret.into() })
    }
}

/// t. The example without its pull Secret fails and the report names the pull failure and the
/// registry; with it every pod starts, each image from the registry.
pub fn images_pulled_with_credentials(env: &Env) -> Result<()> {
    let registry = env.target.registry.as_ref().context("the cluster advertises no registry")?;
    let example = Example::read()?;
    let chart = env.chart_copy("pulls")?;
    let mirror = format!("{}/{}", registry.address, example.prefix);
    let image_registry = format!("global.imageRegistry={mirror}");
    let file = example.file.display().to_string();
    let values = ["--values", &file, "--set-string", &image_registry, "--set-string", ADMIN_EMAIL_VALUE];
    let denied = env.namespace("pull-denied")?;
    let report = install_without_credentials(env, &denied, &chart, &values)?;
    ensure!(
        PULL_FAILURES.iter().any(|r| report.contains(r)),
        "without the pull Secret {}, the report names no pull failure ({}):\n{report}",
        example.pull_secret,
        PULL_FAILURES.join(" or ")
    );
    ensure!(report.contains(&mirror), "the report does not name the mirror {mirror}:\n{report}");
    env.note(format!("without the pull Secret: {}", first_line_with(&report, &PULL_FAILURES)));
    let ns = env.namespace("pull-secret")?;
    create_pull_secret(env, &ns, &example.pull_secret, &registry.docker_config)?;
    install_and_wait(env, &ns, &chart, &values)?;
    every_image_from(env, &ns, &mirror)
}

/// `helm install --wait`, stopped once a pod waits for an image it may not pull; the namespace's report.
fn install_without_credentials(env: &Env, ns: &str, chart: &Path, values: &[&str]) -> Result<String> {
    let timeout = format!("{}s", DENIED_TIMEOUT.as_secs());
    let mut extra = values.to_vec();
    extra.extend(["--wait", "--timeout", &timeout]);
    let args = install(ns, chart, &extra);
    let run = env.helm_unless(&args, || {
        let report = namespace_report(env, ns)?;
        Ok(PULL_FAILURES.iter().any(|r| report.contains(r)).then(|| "a pod cannot pull its image".to_string()))
    })?;
    ensure!(!run.success, "{} succeeded without a pull Secret for a registry that needs credentials", run.command_line());
    namespace_report(env, ns)
}

/// The Secret `kubectl create secret docker-registry NAME --docker-server=... ` makes, for the registry.
fn create_pull_secret(env: &Env, ns: &str, name: &str, docker_config: &str) -> Result<()> {
    let data = base64::engine::general_purpose::STANDARD.encode(docker_config);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": name, "namespace": ns}, "data": {".dockerconfigjson": data}});
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/secrets"), &secret).map(drop)
}

/// Every container of the namespace's pods (hook pods included) runs an image of `mirror`.
fn every_image_from(env: &Env, ns: &str, mirror: &str) -> Result<()> {
    let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
    let mut images = Vec::new();
    for pod in pods["items"].as_array().into_iter().flatten() {
        for kind in ["initContainers", "containers"] {
            images.extend(pod["spec"][kind].as_array().into_iter().flatten().filter_map(|c| c["image"].as_str().map(str::to_string)));
        }
    }
    ensure!(!images.is_empty(), "no pod in {ns}");
    let elsewhere: Vec<&String> = images.iter().filter(|i| !i.starts_with(&format!("{mirror}/"))).collect();
    ensure!(elsewhere.is_empty(), "images not from {mirror}: {elsewhere:?}");
    env.note(format!("with the pull Secret: {} containers pulled from {mirror}", images.len()));
    Ok(())
}

fn first_line_with<'a>(report: &'a str, words: &[&str]) -> &'a str {
    report.lines().find(|l| words.iter().any(|w| l.contains(w))).map(str::trim).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_names_a_mirror_below_the_prefix_the_node_pushes_to_and_a_pull_secret() {
        let example = Example::read().unwrap();
        assert_eq!(example.prefix, MIRROR_PREFIX);
        assert_eq!(example.pull_secret, "mirror-pull");
    }
}
