//! Scenario t, for clusters that advertise a registry needing credentials (the built-in node's): images
//! come from it as from a private mirror such as Iron Bank. With `global.imageRegistry` naming it and no
//! pull Secret, the pods wait in `ErrImagePull` and the not-Ready report says so; with its Secret in
//! `imagePullSecrets`, the hook, PostgreSQL and Heimdall pull and start.

use super::{install_and_wait, namespace_report, ADMIN_EMAIL_VALUE};
use crate::tasks::e2e::{install, Env};
use anyhow::{ensure, Context, Result};
use base64::Engine;
use serde_json::json;
use std::time::Duration;

/// The pull Secret's name in the release's namespace.
const PULL_SECRET: &str = "registry-credentials";
/// The container reasons of an image the node could not pull.
const PULL_FAILURES: [&str; 2] = ["ErrImagePull", "ImagePullBackOff"];
/// How long the install without the Secret may wait before the pull failure shows (it shows in seconds).
const DENIED_TIMEOUT: Duration = Duration::from_secs(120);

/// t. The install without the pull Secret fails and its report names the pull failure and the image;
/// the install with it starts every pod, each from the registry.
pub fn images_pulled_with_credentials(env: &Env) -> Result<()> {
    let registry = env.target.registry.as_ref().context("the cluster advertises no registry")?;
    let chart = env.chart_copy("pulls")?;
    let image_registry = format!("global.imageRegistry={}", registry.address);
    let denied = env.namespace("pull-denied")?;
    let report = install_without_credentials(env, &denied, &chart, &image_registry)?;
    ensure!(
        PULL_FAILURES.iter().any(|r| report.contains(r)),
        "without a pull Secret, the report names no pull failure ({}):\n{report}",
        PULL_FAILURES.join(" or ")
    );
    ensure!(report.contains(&registry.address), "the report does not name the registry {}:\n{report}", registry.address);
    env.note(format!("without imagePullSecrets: {}", first_line_with(&report, &PULL_FAILURES)));
    let ns = env.namespace("pull-secret")?;
    create_pull_secret(env, &ns, &registry.docker_config)?;
    let values =
        ["--set-string", ADMIN_EMAIL_VALUE, "--set-string", &image_registry, "--set-string", "imagePullSecrets[0]=registry-credentials"];
    install_and_wait(env, &ns, &chart, &values)?;
    every_image_from(env, &ns, &registry.address)
}

/// `helm install --wait`, stopped once a pod waits for an image it may not pull; the namespace's report.
fn install_without_credentials(env: &Env, ns: &str, chart: &std::path::Path, image_registry: &str) -> Result<String> {
    let timeout = format!("{}s", DENIED_TIMEOUT.as_secs());
    let args = install(ns, chart, &["--set-string", ADMIN_EMAIL_VALUE, "--set-string", image_registry, "--wait", "--timeout", &timeout]);
    let run = env.helm_unless(&args, || {
        let report = namespace_report(env, ns)?;
        Ok(PULL_FAILURES.iter().any(|r| report.contains(r)).then(|| "a pod cannot pull its image".to_string()))
    })?;
    ensure!(!run.success, "{} succeeded without a pull Secret for a registry that needs credentials", run.command_line());
    namespace_report(env, ns)
}

fn create_pull_secret(env: &Env, ns: &str, docker_config: &str) -> Result<()> {
    let data = base64::engine::general_purpose::STANDARD.encode(docker_config);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": PULL_SECRET, "namespace": ns}, "data": {".dockerconfigjson": data}});
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/secrets"), &secret).map(drop)
}

/// Every container of the namespace's pods (hook pods included) runs an image of `registry`.
fn every_image_from(env: &Env, ns: &str, registry: &str) -> Result<()> {
    let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
    let mut images = Vec::new();
    for pod in pods["items"].as_array().into_iter().flatten() {
        for kind in ["initContainers", "containers"] {
            images.extend(pod["spec"][kind].as_array().into_iter().flatten().filter_map(|c| c["image"].as_str().map(str::to_string)));
        }
    }
    ensure!(!images.is_empty(), "no pod in {ns}");
    let elsewhere: Vec<&String> = images.iter().filter(|i| !i.starts_with(&format!("{registry}/"))).collect();
    ensure!(elsewhere.is_empty(), "images not from {registry}: {elsewhere:?}");
    env.note(format!("with imagePullSecrets: {} containers pulled from {registry}", images.len()));
    Ok(())
}

fn first_line_with<'a>(report: &'a str, words: &[&str]) -> &'a str {
    report.lines().find(|l| words.iter().any(|w| l.contains(w))).map(str::trim).unwrap_or_default()
}
