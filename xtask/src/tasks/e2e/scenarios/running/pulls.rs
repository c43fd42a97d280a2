//! Scenario t, for clusters that advertise a registry needing credentials (the built-in node's):
//! docs/examples/air-gapped-mirror.yaml as written. The built-in node resolves its mirror's name,
//! `registry.example.internal`, through its registry, with no credentials of its own. Without the pull
//! Secret the example names, the pods wait in `ErrImagePull` and the not-Ready report says so; once the
//! example's own `kubectl create secret docker-registry` line has made it (with the registry's user and
//! password for its `...`), the hook, PostgreSQL and Heimdall pull and start, every image from the mirror.

use super::restore::{guide_bash, shim_kubectl};
use super::{install_and_wait, namespace_report, ADMIN_EMAIL_VALUE};
use crate::lifecycle::node::registry::{Advert, MIRROR_PREFIX, PRIVATE_MIRROR};
use crate::support::command::shell_quote;
use crate::support::tools::repo_root;
use crate::tasks::e2e::{install, Env};
use anyhow::{ensure, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The example, from the repository's root, and the namespace its commands name.
const EXAMPLE: &str = "docs/examples/air-gapped-mirror.yaml";
const EXAMPLE_NAMESPACE: &str = "-n heimdall ";
/// The container reasons of an image the node could not pull.
const PULL_FAILURES: [&str; 2] = ["ErrImagePull", "ImagePullBackOff"];
/// How long the install without the Secret may wait before the pull failure shows (it shows in seconds).
const DENIED_TIMEOUT: Duration = Duration::from_secs(120);

/// What the scenario takes from the example: its file, its mirror (`HOST/PATH`), the pull Secret it
/// names, and its command that makes that Secret.
struct Example {
    file: PathBuf,
    mirror: String,
    pull_secret: String,
    create_secret: String,
}

impl Example {
    fn read() -> Result<Example> {
        let file = repo_root().join(EXAMPLE);
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {EXAMPLE}"))?;
        let values: serde_yaml::Value = serde_yaml::from_str(&text)?;
        let mirror = values["global"]["imageRegistry"].as_str().context("the example sets no global.imageRegistry")?;
        let expected = format!("{PRIVATE_MIRROR}/{MIRROR_PREFIX}");
        ensure!(mirror == expected, "the example's mirror is {mirror}; the built-in node serves {expected}");
        let first = &values["global"]["imagePullSecrets"][0];
        let pull_secret = first.as_str().or(first["name"].as_str()).context("the example names no pull Secret")?;
        let create_secret = commented_command(&text, "kubectl ")?;
        ensure!(
            create_secret.contains(&format!("docker-registry {pull_secret} ")),
            "the example's kubectl line makes no {pull_secret}: {create_secret}"
        );
        Ok(Example { file, mirror: mirror.into(), pull_secret: pull_secret.into(), create_secret })
    }

    /// The example's kubectl line for `ns`, the registry's user and password put in for its `...`.
    fn create_secret_in(&self, ns: &str, user: &str, password: &str) -> Result<String> {
        ensure!(self.create_secret.contains(EXAMPLE_NAMESPACE), "the example's kubectl line names no `{EXAMPLE_NAMESPACE}`");
        Ok(self
            .create_secret
            .replace(EXAMPLE_NAMESPACE, &format!("-n {ns} "))
            .replace("--docker-username=...", &format!("--docker-username={}", shell_quote(user)))
            .replace("--docker-password=...", &format!("--docker-password={}", shell_quote(password))))
    }
}

/// The first command in a YAML file's comments that starts with `start`, its `\`-continued lines joined.
fn commented_command(text: &str, start: &str) -> Result<String> {
    let comments: Vec<&str> = text.lines().filter_map(|l| l.trim_start().strip_prefix('#')).map(str::trim).collect();
    let first = comments.iter().position(|l| l.starts_with(start)).with_context(|| format!("no commented `{start}` line"))?;
    let mut command = String::new();
    for line in &comments[first..] {
        match line.strip_suffix('\\') {
            Some(part) => command.push_str(part),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    Ok(command)
}

/// t. The example without its pull Secret fails and the report names the pull failure and the
/// mirror; with the Secret its kubectl line makes, every pod starts, each image from the mirror.
pub fn images_pulled_with_credentials(env: &Env) -> Result<()> {
    let registry = env.target.registry.as_ref().context("the cluster advertises no registry")?;
    let example = Example::read()?;
    let chart = env.chart_copy("pulls")?;
    let file = example.file.display().to_string();
    let values = ["--values", &file, "--set-string", ADMIN_EMAIL_VALUE];
    let denied = env.namespace("pull-denied")?;
    let report = install_without_credentials(env, &denied, &chart, &values)?;
    ensure!(
        PULL_FAILURES.iter().any(|r| report.contains(r)),
        "without the pull Secret {}, the report names no pull failure ({}):\n{report}",
        example.pull_secret,
        PULL_FAILURES.join(" or ")
    );
    ensure!(report.contains(&example.mirror), "the report does not name the mirror {}:\n{report}", example.mirror);
    env.note(format!("without the pull Secret: {}", first_line_with(&report, &PULL_FAILURES)));
    let ns = env.namespace("pull-secret")?;
    create_pull_secret(env, &ns, &example, registry)?;
    install_and_wait(env, &ns, &chart, &values)?;
    every_image_from(env, &ns, &example.mirror)
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

/// The pull Secret, made by the example's own kubectl line (the suite's kubectl, on the run's context).
fn create_pull_secret(env: &Env, ns: &str, example: &Example, registry: &Advert) -> Result<()> {
    let work = env.scratch.join("pull-secret");
    std::fs::create_dir_all(&work)?;
    shim_kubectl(env, &work)?;
    let (user, password) = registry.login()?;
    let out = guide_bash(env, &work, &example.create_secret_in(ns, &user, &password)?)?;
    ensure!(
        out.status.success(),
        "{EXAMPLE}'s kubectl line failed: {}",
        String::from_utf8_lossy(&out.stderr).replace(&password, "<password>")
    );
    Ok(())
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
    fn the_example_names_the_mirror_the_node_serves_and_the_command_that_makes_its_pull_secret() {
        let example = Example::read().unwrap();
        assert_eq!(example.mirror, format!("{PRIVATE_MIRROR}/{MIRROR_PREFIX}"));
        assert_eq!(example.pull_secret, "mirror-pull");
        let line = example.create_secret_in("e2e-x", "u", "p w").unwrap();
        assert_eq!(
            line,
            "kubectl -n e2e-x create secret docker-registry mirror-pull --docker-server=registry.example.internal --docker-username=u --docker-password='p w'"
        );
    }
}
