//! `cargo xtask e2e`: the chart's lifecycle (install, upgrade, uninstall, reinstall) under Helm 3 and Helm 4 against any cluster a kubeconfig names, in namespaces of its own that it always deletes.
//!
//! Without `--kubeconfig` the suite starts its built-in control plane (kube-apiserver and etcd, no
//! kubelet) as a separate `cargo xtask e2e --serve` process and runs against it through the same
//! kubeconfig path an operator's cluster takes (see [`served`]). On a cluster without nodes, Helm would
//! wait for the secrets generator's hook Job forever, so each install and upgrade is rendered first with
//! `--dry-run=server`, the suite runs the hook Job's container command itself (see [`hook`]) and says
//! so, then Helm proceeds with `--no-hooks`; scenarios that need running pods are skipped by name.
//! On a cluster with nodes Helm runs its hooks itself and those scenarios run (see [`running`]).

mod generator_scenarios;
mod hook;
mod logs;
pub mod namespaces;
mod running;
pub mod served;

use crate::engine::config::Config;
use crate::engine::matrix::{self, Expect};
use crate::engine::render;
use crate::lifecycle::node::{registry, DRAINABLE, UNENFORCED_LABEL};
use crate::support::cluster::{self, Cluster};
use crate::support::command::Run;
use crate::support::tools::HelmMajor;
use crate::support::tools::{self, Helm};
use anyhow::{bail, ensure, Context, Result};
use base64::Engine;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) const RELEASE: &str = "heimdall";
const REQUIRED: [&str; 4] = ["ADMIN_PASSWORD", "API_KEY_SECRET", "DATABASE_PASSWORD", "JWT_SECRET"];

/// What a run knows about its cluster, found once at the start.
pub struct Target {
    /// Random per run: names and labels the run's namespaces, so concurrent runs never meet.
    pub run_id: String,
    /// Ready, schedulable nodes: with none, pods never start and hooks are run by the suite.
    pub nodes: usize,
    /// How long pods may take to become Ready (image pulls included).
    pub ready_timeout: Duration,
    /// A node that declares NetworkPolicies unenforced (label [`crate::lifecycle::node::UNENFORCED_LABEL`]), by name.
    pub unenforced: Option<String>,
    /// Ready nodes the suite may cordon and drain (label [`DRAINABLE`]), by name.
    pub drainable: Vec<String>,
    /// The image registry the cluster advertises ([`registry::ADVERT`]), which needs credentials.
    pub registry: Option<registry::Advert>,
    /// The chart the scenarios install (a copy of it per scenario): the repository's, or a mutant's.
    pub chart: PathBuf,
    /// The harness config's patterns of files a chart copy never takes.
    pub local_files: Vec<String>,
}

/// Everything a scenario needs: the cluster, one Helm, a scratch folder.
pub struct Env<'a> {
    pub cluster: &'a Cluster,
    pub target: &'a Target,
    pub helm: &'a Helm,
    pub scratch: PathBuf,
    /// What the suite did in place of the cluster (hook Jobs it ran), reported with the scenario.
    pub notes: Mutex<Vec<String>>,
    /// The namespaces this scenario created, deleted when it ends.
    namespaces: Mutex<Vec<String>>,
}

impl Env<'_> {
    /// Runs Helm against the cluster (its kubeconfig and context) with its own config, cache and data folders.
    pub fn helm(&self, args: &[&str]) -> Result<Run> {
        let (argv, vars) = self.helm_command(args);
        let vars: Vec<(&str, &std::ffi::OsStr)> = vars.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        crate::support::command::run_with_env(argv, &vars)
    }

    /// [`Env::helm`], killed as soon as `stop` gives a reason (asked every 2 s): for a `--wait` that can
    /// already be seen to fail.
    fn helm_unless(&self, args: &[&str], stop: impl FnMut() -> Result<Option<String>>) -> Result<Run> {
        let (argv, vars) = self.helm_command(args);
        let vars: Vec<(&str, &std::ffi::OsStr)> = vars.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        crate::support::command::run_with_env_unless(argv, &vars, Duration::from_secs(2), stop)
    }

    /// Helm's argv and environment for `args`.
    fn helm_command(&self, args: &[&str]) -> (Vec<String>, [(&'static str, PathBuf); 4]) {
        let home = self.scratch.join("helm-home");
        let mut argv = vec![self.helm.path.display().to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        argv.extend(self.cluster.helm_context_args());
        let vars = [
            ("KUBECONFIG", self.cluster.kubeconfig.clone()),
            ("HELM_CONFIG_HOME", home.join("config")),
            ("HELM_CACHE_HOME", home.join("cache")),
            ("HELM_DATA_HOME", home.join("data")),
        ];
        (argv, vars)
    }

    /// Like [`Env::helm`], failing with the command and its output unless Helm succeeds.
    fn helm_ok(&self, args: &[&str]) -> Result<Run> {
        let run = self.helm(args)?;
        if !run.success {
            bail!("{} failed:\n{}", run.command_line(), run.stderr.trim());
        }
        Ok(run)
    }

    fn note(&self, what: String) {
        self.notes.lock().unwrap().push(what);
    }

    /// `helm install`/`upgrade` with its hooks. With nodes, Helm runs them. Without, the release is
    /// rendered with `--dry-run=server` (so render-time failures stop it before any hook, as in Helm),
    /// the suite runs the generator hook, then Helm applies the release with `--no-hooks`.
    fn release(&self, args: &[&str]) -> Result<Run> {
        self.release_unless(args, || Ok(None))
    }

    /// [`Env::release`]; with nodes, Helm is killed as soon as `stop` gives a reason (see [`Env::helm_unless`]).
    fn release_unless(&self, args: &[&str], stop: impl FnMut() -> Result<Option<String>>) -> Result<Run> {
        if self.target.nodes > 0 {
            let timeout = format!("{}s", self.target.ready_timeout.as_secs());
            let mut real = args.to_vec();
            real.extend(["--timeout", &timeout]);
            return self.helm_unless(&real, stop);
        }
        let ns = args.iter().skip_while(|a| **a != "--namespace").nth(1).copied().context("release args name no --namespace")?;
        let mut dry = args.to_vec();
        dry.extend(["--dry-run=server", "--output", "json"]);
        let rendered = self.helm(&dry)?;
        if !rendered.success {
            return Ok(rendered);
        }
        if let Some(generator) = hook::Generator::from_docs(&hook::hooks_of_release_json(&rendered.stdout)?) {
            generator.run_hook(self, ns, "the cluster has no nodes")?;
        }
        let mut real = args.to_vec();
        real.push("--no-hooks");
        self.helm(&real)
    }

    /// Like [`Env::release`], failing with the command and its output unless Helm succeeds.
    fn release_ok(&self, args: &[&str]) -> Result<Run> {
        let run = self.release(args)?;
        if !run.success {
            bail!("{} failed:\n{}", run.command_line(), run.stderr.trim());
        }
        Ok(run)
    }

    /// A fresh namespace of this run that enforces Pod Security Standards "restricted".
    fn namespace(&self, name: &str) -> Result<String> {
        self.namespace_enforcing(name, "restricted")
    }

    /// A fresh namespace of this run that enforces Pod Security Standards at `level`.
    fn namespace_enforcing(&self, name: &str, level: &str) -> Result<String> {
        let ns = format!("{}{name}-h{}", namespaces::prefix(&self.target.run_id), self.helm.major);
        namespaces::create_enforcing(self.cluster, &ns, &self.target.run_id, level)?;
        self.namespaces.lock().unwrap().push(ns.clone());
        Ok(ns)
    }

    /// Deletes a namespace of this scenario now (e.g. one per case, so a real cluster never holds them all).
    fn delete_namespace(&self, ns: &str) -> Result<()> {
        self.namespaces.lock().unwrap().retain(|n| n != ns);
        namespaces::delete(self.cluster, ns)
    }

    /// Deletes every namespace the scenario created; run whether it passed or failed.
    fn end(&self) -> Result<()> {
        let created = std::mem::take(&mut *self.namespaces.lock().unwrap());
        created.iter().try_for_each(|ns| namespaces::delete(self.cluster, ns))
    }

    /// A copy of the chart without any local secrets file, for one scenario.
    fn chart_copy(&self, name: &str) -> Result<PathBuf> {
        let dir = self.scratch.join(format!("{name}-h{}", self.helm.major)).join("heimdall");
        let _ = std::fs::remove_dir_all(&dir);
        render::copy_chart(&self.target.chart, &dir, &self.target.local_files)?;
        Ok(dir)
    }

    fn secret(&self, ns: &str, name: &str) -> Result<Option<BTreeMap<String, String>>> {
        let Some(s) = self.cluster.get(&format!("/api/v1/namespaces/{ns}/secrets/{name}"))? else { return Ok(None) };
        let mut out = BTreeMap::new();
        for (k, v) in s["data"].as_object().into_iter().flatten() {
            let bytes = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or(""))?;
            out.insert(k.clone(), String::from_utf8(bytes)?);
        }
        Ok(Some(out))
    }

    fn deployment(&self, ns: &str) -> Result<Option<Json>> {
        self.cluster.get(&format!("/apis/apps/v1/namespaces/{ns}/deployments/{RELEASE}"))
    }

    fn checksum(&self, ns: &str) -> Result<String> {
        let d = self.deployment(ns)?.context("the Deployment is missing")?;
        Ok(d["spec"]["template"]["metadata"]["annotations"]["checksum/secrets"]
            .as_str()
            .context("no checksum/secrets annotation")?
            .to_string())
    }

    fn create_secret(&self, ns: &str, name: &str, data: &[(&str, &str)]) -> Result<()> {
        let string_data: serde_json::Map<String, Json> = data.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        self.cluster.create(
            &format!("/api/v1/namespaces/{ns}/secrets"),
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque", "stringData": string_data}),
        )?;
        Ok(())
    }
}

fn chart_secret_name() -> String {
    format!("{RELEASE}-secrets")
}

pub(crate) fn generated_secret_name() -> String {
    format!("{RELEASE}-generated-secrets")
}

fn required_secret(env: &Env, ns: &str) -> Result<BTreeMap<String, String>> {
    let s = env.secret(ns, &chart_secret_name())?.context("the chart's Secret is missing")?;
    for k in REQUIRED {
        ensure!(s.get(k).is_some_and(|v| !v.is_empty()), "the chart's Secret lacks {k}");
    }
    Ok(s)
}

/// The generator's Secret, checked to hold the four required keys in their documented shapes.
pub(crate) fn generated_secret(env: &Env, ns: &str) -> Result<BTreeMap<String, String>> {
    let s = env.secret(ns, &generated_secret_name())?.context("the generator's Secret is missing")?;
    let hex = |v: &str, n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    ensure!(
        hex(&s["JWT_SECRET"], 128)
            && hex(&s["API_KEY_SECRET"], 66)
            && hex(&s["DATABASE_PASSWORD"], 66)
            && s["ADMIN_PASSWORD"].strip_prefix("Admin_").is_some_and(|r| hex(r, 32)),
        "generated values lack the documented shapes (keys: {:?})",
        s.keys().collect::<Vec<_>>()
    );
    Ok(s)
}

/// `helm <verb> heimdall <chart> --namespace <ns> <extra...>`.
fn release_args<'a>(verb: &'a str, ns: &'a str, chart: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![verb, RELEASE, chart.to_str().unwrap(), "--namespace", ns];
    args.extend_from_slice(extra);
    args
}

fn install<'a>(ns: &'a str, chart: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    release_args("install", ns, chart, extra)
}

fn upgrade<'a>(ns: &'a str, chart: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    release_args("upgrade", ns, chart, extra)
}

/// a. Generated secrets survive upgrades byte for byte; the chart's own Secret and release hold none of them.
fn generated_secrets_survive_upgrades(env: &Env) -> Result<()> {
    let ns = env.namespace("generate")?;
    let chart = env.chart_copy("generate")?;
    env.release_ok(&install(&ns, &chart, &[]))?;
    let first = generated_secret(env, &ns)?;
    let chart_secret = env.secret(&ns, &chart_secret_name())?.context("the chart's Secret is missing")?;
    ensure!(chart_secret.is_empty(), "the chart's Secret holds keys although nothing was supplied: {:?}", chart_secret.keys());
    let checksum = env.checksum(&ns)?;
    env.release_ok(&upgrade(&ns, &chart, &[]))?;
    ensure!(generated_secret(env, &ns)? == first, "an upgrade with no change rotated a generated secret");
    ensure!(env.checksum(&ns)? == checksum, "an upgrade with no change changed checksum/secrets");
    env.release_ok(&upgrade(&ns, &chart, &["--set", "replicaCount=2"]))?;
    ensure!(generated_secret(env, &ns)? == first, "an upgrade of an unrelated value rotated a generated secret");
    ensure!(env.checksum(&ns)? == checksum, "an upgrade of an unrelated value changed checksum/secrets");
    ensure!(env.deployment(&ns)?.unwrap()["spec"]["replicas"] == 2, "the unrelated value did not reach the Deployment");
    no_generated_value_in_release(env, &ns, &first)
}

/// The release record (manifest, hooks, notes, values) holds no generated value.
fn no_generated_value_in_release(env: &Env, ns: &str, generated: &BTreeMap<String, String>) -> Result<()> {
    for what in ["all", "hooks"] {
        let text = env.helm_ok(&["get", what, RELEASE, "--namespace", ns])?.stdout;
        for (k, v) in generated {
            ensure!(!text.contains(v.as_str()), "helm get {what} shows the generated {k}");
        }
    }
    Ok(())
}

/// b. `helm uninstall` leaves the generator's Secret (Helm does not own it); a new install of the release reuses it.
fn uninstall_keeps_secret_and_reinstall_reuses_it(env: &Env) -> Result<()> {
    let ns = env.namespace("reinstall")?;
    let chart = env.chart_copy("reinstall")?;
    env.release_ok(&install(&ns, &chart, &[]))?;
    let first = generated_secret(env, &ns)?;
    env.helm_ok(&["uninstall", RELEASE, "--namespace", &ns])?;
    ensure!(env.deployment(&ns)?.is_none(), "the Deployment outlived helm uninstall");
    ensure!(
        env.secret(&ns, &generated_secret_name())? == Some(first.clone()),
        "the generated Secret did not outlive helm uninstall unchanged"
    );
    env.release_ok(&install(&ns, &chart, &[]))?;
    ensure!(generated_secret(env, &ns)? == first, "a reinstall did not reuse the generated secrets");
    Ok(())
}

/// c. existingSecret: a missing (mapped) key fails the install naming it; a complete one works, the chart makes no Secret, and NOTES names a key Heimdall does not read.
fn existing_secret_is_checked_and_used(env: &Env) -> Result<()> {
    let ns = env.namespace("existing")?;
    let chart = env.chart_copy("existing")?;
    let jwt = "e2e-existing-jwt-secret-0000000000000000000000000000000000000000000000";
    env.create_secret(
        &ns,
        "incomplete",
        &[("jwt", jwt), ("API_KEY_SECRET", "e2e-api-key-secret-00000000000000000"), ("DATABASE_PASSWORD", "e2e-database-password-0000")],
    )?;
    let run = env.release(&install(
        &ns,
        &chart,
        &["--set", "heimdall.existingSecret=incomplete", "--set", "heimdall.existingSecretKeys.JWT_SECRET=jwt"],
    ))?;
    ensure!(!run.success, "install with an incomplete existingSecret succeeded");
    ensure!(
        run.stderr.contains("lacks required keys: ADMIN_PASSWORD (key ADMIN_PASSWORD)") && !run.stderr.contains("JWT_SECRET (key jwt)"),
        "the failure does not name exactly the missing key:\n{}",
        run.stderr
    );
    env.create_secret(
        &ns,
        "complete",
        &[
            ("jwt", jwt),
            ("API_KEY_SECRET", "e2e-api-key-secret-00000000000000000"),
            ("DATABASE_PASSWORD", "e2e-database-password-0000"),
            ("ADMIN_PASSWORD", "E2e-Admin-Password-1"),
            // Heimdall reads GITLAB_SECRET: install reports this key in NOTES without failing.
            ("GITLAB_CLIENTSECRET", "e2e-gitlab-secret-under-the-wrong-name"),
        ],
    )?;
    let installed = env.release_ok(&install(
        &ns,
        &chart,
        &["--set", "heimdall.existingSecret=complete", "--set", "heimdall.existingSecretKeys.JWT_SECRET=jwt"],
    ))?;
    ensure!(env.secret(&ns, &chart_secret_name())?.is_none(), "the chart created an app Secret beside existingSecret");
    ensure!(
        installed.stdout.contains("heimdall.existingSecret complete has keys Heimdall does not read: GITLAB_CLIENTSECRET."),
        "NOTES does not report the unknown key:\n{}",
        installed.stdout
    );
    let d = env.deployment(&ns)?.context("no Deployment")?;
    let env_vars = &d["spec"]["template"]["spec"]["containers"][0]["env"];
    let jwt_ref = env_vars.as_array().into_iter().flatten().find(|e| e["name"] == "JWT_SECRET").context("no JWT_SECRET env")?;
    ensure!(
        jwt_ref["valueFrom"]["secretKeyRef"] == json!({"name": "complete", "key": "jwt", "optional": false}),
        "JWT_SECRET does not come from complete/jwt: {jwt_ref}"
    );
    Ok(())
}

/// d. With the embedded database, changing DATABASE_PASSWORD is refused unless explicitly allowed.
fn database_password_change_needs_consent(env: &Env) -> Result<()> {
    let ns = env.namespace("dbpassword")?;
    let chart = env.chart_copy("dbpassword")?;
    let (p1, p2) = (
        "heimdall.secrets.DATABASE_PASSWORD=e2e-first-database-password",
        "heimdall.secrets.DATABASE_PASSWORD=e2e-second-database-password",
    );
    env.release_ok(&install(&ns, &chart, &["--set-string", p1]))?;
    let run = env.release(&upgrade(&ns, &chart, &["--set-string", p2]))?;
    ensure!(!run.success, "an upgrade changing DATABASE_PASSWORD went through");
    ensure!(
        run.stderr.contains("differs from the one stored") && run.stderr.contains("allowDatabasePasswordChange"),
        "the refusal does not explain itself:\n{}",
        run.stderr
    );
    ensure!(stored_database_password(env, &ns)? == "e2e-first-database-password", "the refused upgrade changed the Secret");
    env.release_ok(&upgrade(&ns, &chart, &["--set-string", p2, "--set", "heimdall.allowDatabasePasswordChange=true"]))?;
    ensure!(stored_database_password(env, &ns)? == "e2e-second-database-password", "the allowed change did not reach the Secret");
    generated_database_password_change_needs_consent(env)
}

fn stored_database_password(env: &Env, ns: &str) -> Result<String> {
    let s = env.secret(ns, &chart_secret_name())?.context("the chart's Secret is missing")?;
    s.get("DATABASE_PASSWORD").cloned().context("the chart's Secret lacks DATABASE_PASSWORD")
}

/// d, continued: a generated DATABASE_PASSWORD is guarded too; supplying another one is refused, naming the generator's Secret.
fn generated_database_password_change_needs_consent(env: &Env) -> Result<()> {
    let ns = env.namespace("dbgenerated")?;
    let chart = env.chart_copy("dbgenerated")?;
    env.release_ok(&install(&ns, &chart, &[]))?;
    let generated = generated_secret(env, &ns)?;
    let run = env.release(&upgrade(&ns, &chart, &["--set-string", "heimdall.secrets.DATABASE_PASSWORD=e2e-supplied-database-password"]))?;
    ensure!(!run.success, "an upgrade replacing the generated DATABASE_PASSWORD went through");
    ensure!(
        run.stderr.contains(&format!("differs from the one stored in Secret {}", generated_secret_name())),
        "the refusal does not name the generator's Secret:\n{}",
        run.stderr
    );
    ensure!(!run.stderr.contains(generated["DATABASE_PASSWORD"].as_str()), "the refusal prints the stored password");
    let same = format!("heimdall.secrets.DATABASE_PASSWORD={}", generated["DATABASE_PASSWORD"]);
    env.release_ok(&upgrade(&ns, &chart, &["--set-string", &same]))?;
    ensure!(generated_secret(env, &ns)? == generated, "supplying the stored password changed the generator's Secret");
    Ok(())
}

/// e. A changed file or inline value changes the live Secret and the checksum; a removed inline key leaves the Secret.
fn changed_values_reach_the_secret_and_roll_pods(env: &Env) -> Result<()> {
    let ns = env.namespace("changes")?;
    let chart = env.chart_copy("changes")?;
    let file = chart.join("env/heimdall-secrets.yaml");
    let write = |jwt: &str| {
        std::fs::write(&file, format!("JWT_SECRET: \"{jwt}\"\nAPI_KEY_SECRET: \"e2e-file-api-key-secret-00000000000\"\nDATABASE_PASSWORD: \"e2e-file-database-password\"\nADMIN_PASSWORD: \"E2e-File-Admin-Pass\"\n"))
    };
    let jwt1 = "e2e-file-jwt-secret-one-000000000000000000000000000000000000000000000000";
    let jwt2 = "e2e-file-jwt-secret-two-000000000000000000000000000000000000000000000000";
    write(jwt1)?;
    // An optional secret that needs no partner setting (a provider's client secret would need its client ID).
    let ldap = ["--set-string", "heimdall.secrets.LDAP_PASSWORD=e2e-ldap-bind-password"];
    env.release_ok(&install(&ns, &chart, &ldap))?;
    let s1 = required_secret(env, &ns)?;
    let c1 = env.checksum(&ns)?;
    ensure!(
        s1["JWT_SECRET"] == jwt1 && s1.get("LDAP_PASSWORD").map(String::as_str) == Some("e2e-ldap-bind-password"),
        "the install did not store the file and inline values"
    );
    write(jwt2)?;
    env.release_ok(&upgrade(&ns, &chart, &ldap))?;
    let c2 = env.checksum(&ns)?;
    ensure!(required_secret(env, &ns)?["JWT_SECRET"] == jwt2, "a changed secrets file did not reach the live Secret");
    ensure!(c2 != c1, "a changed secrets file did not change checksum/secrets");
    let inline = "heimdall.secrets.JWT_SECRET=e2e-inline-jwt-secret-00000000000000000000000000000000000000000000000000";
    env.release_ok(&upgrade(&ns, &chart, &[ldap[0], ldap[1], "--set-string", inline]))?;
    let s3 = required_secret(env, &ns)?;
    ensure!(s3["JWT_SECRET"].starts_with("e2e-inline-jwt"), "an inline value did not override the file in the live Secret");
    ensure!(env.checksum(&ns)? != c2, "a changed inline value did not change checksum/secrets");
    env.release_ok(&upgrade(&ns, &chart, &["--set-string", inline]))?;
    ensure!(!required_secret(env, &ns)?.contains_key("LDAP_PASSWORD"), "a key removed from the inline secrets stayed in the live Secret");
    Ok(())
}

/// f. Every case that renders is accepted by the API server: `--dry-run=server`, then a real install
/// with no Pod Security warning (only a real install surfaces them; g shows the check can fire), and
/// each `helm test` hook Pod passes the namespace's enforced "restricted" admission (server dry run).
fn every_rendering_case_is_accepted(env: &Env) -> Result<()> {
    let config = Config::at_root(&tools::repo_root())?;
    let cases = config.cases()?;
    let rendering: Vec<(usize, &matrix::Case)> = cases.iter().enumerate().filter(|(_, c)| c.spec.expect == Expect::Renders).collect();
    // Cases are independent, and their pods are held back: a few at once, in namespaces of their own.
    let results = crate::support::parallel::parallel_map(&rendering, CASES_AT_ONCE, |(i, case)| case_is_accepted(env, &config, *i, case));
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).map(|e| format!("{e:#}")).collect();
    ensure!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// How many cases f installs at once: each is a few API calls and Helm processes, no pod.
const CASES_AT_ONCE: usize = 3;

/// One case of f in a namespace of its own, deleted when it is judged.
fn case_is_accepted(env: &Env, config: &Config, i: usize, case: &matrix::Case) -> Result<()> {
    let work = env.scratch.join(format!("cases-h{}", env.helm.major));
    let prepared = render::prepare(case, config, &work, render::Purpose::AsShipped)?;
    let ns = env.namespace(&format!("case-{i:02}"))?;
    // A case that sends its objects elsewhere (namespaceOverride) keeps its release in a second
    // namespace, as an Argo CD Application does; its objects go to this run's `ns`.
    let overridden = case.values(&config.tests)?["namespaceOverride"].as_str().is_some_and(|n| !n.is_empty());
    let release_ns = if overridden { env.namespace(&format!("case-{i:02}-release"))? } else { ns.clone() };
    // f judges what the API server accepts, not what runs: on a cluster with nodes, no case starts pods.
    let judged = (|| -> Result<()> {
        let quota = if env.target.nodes > 0 { Some(hold_pods_back(env, &ns)?) } else { None };
        let mut base = vec![
            "install".to_string(),
            case.spec.release.clone(),
            prepared.chart_dir.display().to_string(),
            "--namespace".into(),
            release_ns.clone(),
        ];
        base.extend(prepared.value_args.iter().cloned());
        if overridden {
            base.extend(["--set".to_string(), format!("namespaceOverride={ns}")]);
        }
        match install_case(env, &base)? {
            Installed::Yes => {
                let release = (case.spec.release.as_str(), release_ns.as_str());
                release_pods(env, quota.as_deref())?;
                hook_pods_are_admitted(env, release, &ns)?;
                kept_objects_outlive_uninstall(env, release, &ns)
            }
            Installed::KindNotServed(why) => {
                env.note(format!("skipped case {}: {why}", case.name));
                Ok(())
            }
        }
    })();
    env.delete_namespace(&ns)?;
    if overridden {
        env.delete_namespace(&release_ns)?;
    }
    judged.with_context(|| case.name.clone())
}

/// When the release holds objects marked `helm.sh/resource-policy: keep` (the SealedSecret and
/// CloudNativePG examples' promise), `helm uninstall` leaves each of them in place.
fn kept_objects_outlive_uninstall(env: &Env, (release, release_ns): (&str, &str), ns: &str) -> Result<()> {
    let manifest = env.helm_ok(&["get", "manifest", release, "--namespace", release_ns])?;
    let keep = |d: &&crate::support::manifest::Doc| d.value["metadata"]["annotations"]["helm.sh/resource-policy"].as_str() == Some("keep");
    let docs = crate::support::manifest::parse(&manifest.stdout)?.docs;
    let kept: Vec<_> = docs.iter().filter(keep).collect();
    if kept.is_empty() {
        return Ok(());
    }
    env.helm_ok(&["uninstall", release, "--namespace", release_ns, "--wait"])?;
    for doc in &kept {
        let at = if doc.namespace().is_empty() { ns } else { doc.namespace() };
        let path = format!("{}/{}", hook::object_collection(doc.api_version(), doc.kind(), at), doc.name());
        ensure!(env.cluster.get(&path)?.is_some(), "helm uninstall deleted {}, which carries helm.sh/resource-policy: keep", doc.id());
    }
    env.note(format!("helm uninstall left {}", kept.iter().map(|d| d.id()).collect::<Vec<_>>().join(", ")));
    Ok(())
}

/// A ResourceQuota of no pods in `ns`, so the workloads a case installs create none; its path. Only on a
/// cluster with nodes: without, pods never run, and no controller would record the quota's usage.
fn hold_pods_back(env: &Env, ns: &str) -> Result<String> {
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "e2e-no-pods"}, "spec": {"hard": {"pods": "0"}}});
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/resourcequotas"), &quota)?;
    let path = format!("/api/v1/namespaces/{ns}/resourcequotas/e2e-no-pods");
    // Quota admission counts pods only once the quota controller has recorded its usage.
    cluster::poll(Duration::from_secs(30), Duration::from_millis(200), "the pod quota taking effect", |_| {
        Ok(env.cluster.get(&path)?.and_then(|q| q["status"]["hard"]["pods"].as_str().map(drop)))
    })?;
    Ok(path)
}

/// Lifts [`hold_pods_back`], if held (the hook Pods' dry runs would count against it); the namespace goes next.
fn release_pods(env: &Env, quota: Option<&str>) -> Result<()> {
    if let Some(path) = quota {
        env.cluster.request("DELETE", path, None)?;
    }
    Ok(())
}

enum Installed {
    Yes,
    /// The case renders a kind this cluster has no CRD for (e.g. OpenShift's Route on kind).
    KindNotServed(String),
}

/// `--dry-run=server`, then a real install with `--no-hooks` (hooks are judged apart: Helm would wait
/// for hook Jobs, which do not run on a cluster without nodes); fails on any Pod Security warning.
fn install_case(env: &Env, base: &[String]) -> Result<Installed> {
    for dry in [true, false] {
        let mut args = base.to_vec();
        args.push(if dry { "--dry-run=server" } else { "--no-hooks" }.into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = env.helm(&refs)?;
        let what = if dry { "install --dry-run=server" } else { "install" };
        if !run.success {
            if let Some(why) = kind_not_served(env.cluster, &run.stderr)? {
                return Ok(Installed::KindNotServed(why));
            }
            bail!("{what}: {}\n  reproduce: {}", run.stderr.trim(), run.command_line());
        }
        ensure!(!run.stderr.contains("PodSecurity"), "{what}: Pod Security warning: {}", run.stderr.trim());
    }
    Ok(Installed::Yes)
}

/// When Helm failed for a kind the cluster does not serve, and discovery confirms it, says which.
fn kind_not_served(cluster: &Cluster, stderr: &str) -> Result<Option<String>> {
    let Some((kind, version)) = no_matches_for_kind(stderr) else { return Ok(None) };
    let path = if version.contains('/') { format!("/apis/{version}") } else { format!("/api/{version}") };
    let served =
        cluster.get(&path)?.is_some_and(|list| list["resources"].as_array().into_iter().flatten().any(|r| r["kind"] == kind.as_str()));
    Ok((!served).then(|| format!("the cluster serves no {kind} ({version}); install its CRD to include this case")))
}

/// The kind and group/version of Helm's `no matches for kind "K" in version "G/V"` error.
fn no_matches_for_kind(stderr: &str) -> Option<(String, String)> {
    let rest = stderr.split("no matches for kind \"").nth(1)?;
    let (kind, rest) = rest.split_once('"')?;
    let version = rest.split("in version \"").nth(1)?.split('"').next()?;
    Some((kind.to_string(), version.to_string()))
}

/// Submits the release's hooks (never created by an install here), lowest weight first, so validation
/// and admission judge them: objects that run nothing are created, as Helm would; Pods, Jobs and each
/// Job's pod template (as the Pod it would create) are submitted with dryRun=All, in `ns`, where the
/// chart puts its objects (the release record, which `helm get hooks` reads, is in `release_ns`).
fn hook_pods_are_admitted(env: &Env, (release, release_ns): (&str, &str), ns: &str) -> Result<()> {
    let hooks = env.helm_ok(&["get", "hooks", release, "--namespace", release_ns])?;
    let mut docs = crate::support::manifest::parse(&hooks.stdout)?.docs;
    docs.sort_by_key(|d| {
        d.value["metadata"]["annotations"]["helm.sh/hook-weight"].as_str().and_then(|w| w.parse::<i64>().ok()).unwrap_or(0)
    });
    for doc in &docs {
        if !matches!(doc.kind(), "Pod" | "Job") {
            hook::recreate(env, ns, doc)?;
            continue;
        }
        let mut submissions = vec![(doc.kind().to_string(), serde_json::to_value(&doc.value)?)];
        if doc.kind() == "Job" {
            let template = serde_json::to_value(&doc.value["spec"]["template"])?;
            let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": doc.name(), "labels": template["metadata"]["labels"]}, "spec": template["spec"]});
            submissions.push(("Pod".into(), pod));
        }
        for (kind, body) in submissions {
            let answer = env.cluster.request("POST", &format!("{}?dryRun=All", hook::collection(&kind, ns)?), Some(&body))?;
            ensure!(answer["kind"] == kind.as_str(), "hook {} ({kind}) was not admitted: {}", doc.id(), answer["message"]);
        }
    }
    Ok(())
}

/// All four required secrets, inline, for scenarios that must not depend on the generator.
pub(crate) const SUPPLIED_SECRETS: [&str; 4] = [
    "heimdall.secrets.JWT_SECRET=e2e-supplied-jwt-secret-00000000000000000000000000000000000000000000000000",
    "heimdall.secrets.API_KEY_SECRET=e2e-supplied-api-key-secret-0000000000",
    "heimdall.secrets.DATABASE_PASSWORD=e2e-supplied-database-password",
    "heimdall.secrets.ADMIN_PASSWORD=E2e-Supplied-Admin-Pass-1",
];

/// g. The Pod Security check of f can fire: a template that is not "restricted" draws the API server's warning.
fn pod_security_warning_is_seen(env: &Env) -> Result<()> {
    let ns = env.namespace("podsecurity")?;
    let chart = env.chart_copy("podsecurity")?;
    // Every secret supplied, so no generator Job: on a cluster with nodes its pod (same container
    // security context) would be refused too, and Helm would wait for it until its timeout.
    let mut args = vec!["--set", "securityContext.allowPrivilegeEscalation=true"];
    for secret in SUPPLIED_SECRETS {
        args.extend(["--set-string", secret]);
    }
    let run = env.release_ok(&install(&ns, &chart, &args))?;
    ensure!(
        run.stderr.contains("PodSecurity") && run.stderr.contains("allowPrivilegeEscalation"),
        "no Pod Security warning for allowPrivilegeEscalation=true, so f's check could not fire:\n{}",
        run.stderr
    );
    // And the hook check: enforcement refuses the non-restricted test Pod.
    let err = hook_pods_are_admitted(env, (RELEASE, &ns), &ns).err().context("a non-restricted hook Pod was admitted")?;
    ensure!(format!("{err:#}").contains("violates PodSecurity"), "the hook Pod was refused for another reason: {err:#}");
    Ok(())
}

/// One lifecycle scenario; those that need running pods are skipped, by name, on a cluster without nodes.
pub struct Scenario {
    pub name: &'static str,
    run: fn(&Env) -> Result<()>,
    pub needs_nodes: bool,
    pub enforcer: Enforcer,
    pub helms: Helms,
    /// It cordons and drains nodes: skipped without two [`DRAINABLE`] ones, and its pod mutants run alone.
    pub drains: bool,
    /// It pulls from the cluster's advertised registry: skipped on a cluster without one.
    pub needs_registry: bool,
}

/// Under which Helm a scenario runs when the run has both.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Helms {
    /// Helm's own behaviour is what it tests (install and upgrade, hooks, `--wait`, `helm test`,
    /// uninstall, the apply that reaches the API server): under each.
    Each,
    /// It tests the chart at run time (data, enforcement, stops, logs), which no Helm changes: under
    /// this major version only. The runtime scenarios are spread so both Helms stay covered.
    Once(HelmMajor),
}

impl Helms {
    /// Whether the scenario runs under Helm `major` in a run whose Helms are `run_majors`: a run
    /// asked for one Helm (`--helm-major`) runs every scenario under it.
    fn runs_under(self, major: HelmMajor, run_majors: &[HelmMajor]) -> bool {
        match self {
            Helms::Each => true,
            Helms::Once(m) => m == major || !run_majors.contains(&m),
        }
    }
}

/// Whether a scenario needs the nodes to enforce NetworkPolicies, to not enforce them, or neither.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Enforcer {
    Either,
    /// Skipped on a node labelled [`UNENFORCED_LABEL`]`=unenforced`.
    Needed,
    /// Run only on a node so labelled (the default run starts one with `e2e --serve --no-enforcer`).
    Absent,
}

const fn scenario(name: &'static str, run: fn(&Env) -> Result<()>) -> Scenario {
    Scenario { name, run, needs_nodes: false, enforcer: Enforcer::Either, helms: Helms::Each, drains: false, needs_registry: false }
}

/// A scenario about the chart at run time, run under one Helm (see [`Helms::Once`]).
const fn runtime(name: &'static str, run: fn(&Env) -> Result<()>, major: HelmMajor) -> Scenario {
    Scenario { name, run, needs_nodes: false, enforcer: Enforcer::Either, helms: Helms::Once(major), drains: false, needs_registry: false }
}

pub const SCENARIOS: &[Scenario] = &[
    scenario("a. generated secrets survive upgrades", generated_secrets_survive_upgrades),
    scenario("b. uninstall keeps the Secret, reinstall reuses it", uninstall_keeps_secret_and_reinstall_reuses_it),
    scenario("c. existingSecret is checked and used", existing_secret_is_checked_and_used),
    scenario("d. DATABASE_PASSWORD change needs consent", database_password_change_needs_consent),
    scenario("e. changed values reach the Secret and roll pods", changed_values_reach_the_secret_and_roll_pods),
    scenario("f. every rendering case is accepted by the API server", every_rendering_case_is_accepted),
    scenario("g. a non-restricted pod template draws a Pod Security warning", pod_security_warning_is_seen),
    runtime(
        "h. the secrets generator may touch only its Secret, fills only absent keys, runs concurrently",
        generator_scenarios::generator_rbac_and_logic,
        HelmMajor::V3,
    ),
    runtime(
        "i. two Argo CD-style syncs (client-side render, PreSync hook, server-side apply) change no secret",
        generator_scenarios::gitops_syncs_change_no_secret,
        HelmMajor::V4,
    ),
    Scenario {
        name: "j. Heimdall runs: helm install --wait, every pod Ready without a restart, helm test passes, GET /server answers, the admin logs in, JWT_SECRET rotation ends the session",
        run: running::heimdall_runs,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Each,
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "k. NetworkPolicies are enforced: the hook, DNS, PostgreSQL, helm test and the admitted ingress work; an unlabelled pod reaches neither PostgreSQL nor Heimdall, and does once the policies are gone",
        run: running::network_policies_hold,
        needs_nodes: true,
        enforcer: Enforcer::Needed,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "l. an external database and an arbitrary UID: wait-for-database lets Heimdall start, the admin logs in",
        run: running::external_database_and_arbitrary_uid,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "m. an uploaded evaluation and the generated secrets survive upgrade, a deleted PostgreSQL pod, rollout, rotation, uninstall and reinstall; no secret in any log; pods stop within 5 s, in-flight requests answered",
        run: running::data_secrets_and_quiet_logs_survive,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "n. an upgrade from the previous chart version keeps the uploaded evaluation and the generated secrets",
        run: running::upgrade_from_the_previous_chart,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: UNENFORCED_SCENARIO,
        run: running::policies_without_an_enforcer_stop_nothing,
        needs_nodes: true,
        enforcer: Enforcer::Absent,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "p. production: 3 replicas, and an HPA of minReplicas 2, start on an empty database with no restart; under steady load through the Service, a rolling upgrade fails no request, nor does a failed upgrade that Helm 4's --rollback-on-failure undoes",
        run: running::production_behaviours,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "q. a failed upgrade: an image that cannot be pulled fails --wait while the old pod serves every request; helm rollback restores the release and the admin's login (Helm 4's way: p)",
        run: running::failed_upgrade_rolls_back,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "r. the backup and restore guide runs as written: dump and Secret saved, the namespace deleted, the Secret, the chart and the dump restored; the evaluation and its API key answer",
        run: running::restore_from_the_guide,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "s. node drains, as docs/node-drains.md runs them: with a disruption budget and one replica per node, each node drained in turn under steady load through the Service; the second drain's evictions wait for the budget, and no request fails",
        run: running::drains_honour_the_budget,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: true,
        needs_registry: false,
    },
    Scenario {
        name: "t. images pulled with credentials, docs/examples/air-gapped-mirror.yaml as written: without its pull Secret the pods stay in ErrImagePull and the report names it; with the Secret its kubectl line makes, every pod pulls from the mirror and starts",
        run: running::images_pulled_with_credentials,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: false,
        needs_registry: true,
    },
    Scenario {
        name: "u. the release rehearsed: cargo xtask release's steps publish this chart and a next version to the node's registry, signed with a throwaway key and verified; the published README's helm install oci:// line and a helm upgrade to the next come from it; a chart pushed over the signed tag fails cosign verify",
        run: running::release_rehearsed,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Each,
        drains: false,
        needs_registry: true,
    },
    Scenario {
        name: "v. coming from mitre/heimdall-helm: its own chart installed with a claim, an evaluation uploaded with a new API key; docs/migration-from-heimdall-helm.md's steps, taken from the Markdown, move the release and its volume to this chart, which answers the old admin password and API key and lists the evaluation",
        run: running::moved_from_heimdall_helm,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: true,
    },
];

/// Scenario o, which the default run also runs on a second node started without an enforcer.
pub const UNENFORCED_SCENARIO: &str =
    "o. without an enforcer, the release's NetworkPolicies stop nothing: k's probe connects to PostgreSQL (so k's refusals are the enforcer's)";

/// How a run is asked for.
#[derive(Clone)]
pub struct Options {
    pub helm: Option<PathBuf>,
    /// The Heimdall source archive the built-in node's image is built from; None: no node.
    pub heimdall_source: Option<PathBuf>,
    pub filter: Option<String>,
    pub ready_timeout: Duration,
    /// The chart to install; None: the repository's `heimdall/`.
    pub chart: Option<PathBuf>,
    /// Only the Helm of this major version; None: Helm 3 and Helm 4.
    pub helm_major: Option<HelmMajor>,
}

/// What a run found, which `Display` prints as the run's closing lines: counts, the skipped
/// scenarios by name, the cluster and the run's namespaces.
#[derive(Default)]
pub struct Summary {
    passed: usize,
    pub failed: usize,
    skipped: Vec<String>,
    /// The cluster's address and kubeconfig context.
    server: String,
    context: String,
    /// The run's namespaces deleted at its end, and those still terminating.
    deleted: usize,
    terminating: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        writeln!(f, "\ne2e against {} (context {})", self.server, self.context)?;
        writeln!(f, "namespaces: {} created and deleted ({} still terminating)", self.deleted, self.terminating)?;
        writeln!(f, "{} passed, {} failed, {} skipped", self.passed, self.failed, self.skipped.len())?;
        self.skipped.iter().try_for_each(|s| writeln!(f, "  skipped: {s}"))
    }
}

/// `cargo xtask e2e --kubeconfig PATH [--context NAME]`: every scenario under each Helm against that cluster.
/// Each scenario's line is printed as it ends; the returned summary is the run's outcome.
pub fn run_against_kubeconfig(kubeconfig: &Path, context: Option<&str>, options: &Options) -> Result<Summary> {
    let cluster = Arc::new(Cluster::from_kubeconfig(kubeconfig, context)?);
    run_against(cluster, options)
}

/// Runs the scenarios against `cluster`, confined to namespaces of this run, deleting them as it goes,
/// at the end, and on Ctrl-C.
fn run_against(cluster: Arc<Cluster>, options: &Options) -> Result<Summary> {
    tools::setup(true)?;
    let mut helms = tools::find_helms(options.helm.as_deref())?;
    helms.retain(|h| options.helm_major.is_none_or(|m| h.major == m));
    ensure!(!helms.is_empty(), "no Helm {} found", options.helm_major.map_or(0, HelmMajor::number));
    let ReadyNodes { count: nodes, unenforced, drainable } = ready_nodes(&cluster)?;
    let config = Config::at_root(&tools::repo_root())?;
    let chart = options.chart.clone().unwrap_or(config.chart);
    let local_files = config.local_files;
    let run_id = namespaces::new_run_id()?;
    // A user who may not read it runs without it: the scenarios that need it are skipped by name.
    let registry = registry::advertised(&cluster).unwrap_or(None);
    let target = Target { run_id, nodes, ready_timeout: options.ready_timeout, unenforced, drainable, registry, chart, local_files };
    cluster.confine_writes(&namespaces::prefix(&target.run_id));
    namespaces::delete_on_interrupt(&cluster, target.run_id.clone());
    crate::support::process::install_signal_cleanup()?;
    let version = cluster.get("/version")?.map(|v| v["gitVersion"].as_str().unwrap_or("?").to_string()).unwrap_or_default();
    eprintln!(
        "e2e: {} (context {}, Kubernetes {version}, {} ready nodes); namespaces {}*",
        cluster.server,
        cluster.context_name,
        target.nodes,
        namespaces::prefix(&target.run_id)
    );
    let scratch = crate::support::scratch::folder("xtask-e2e-run-")?;
    let mut summary = Summary { server: cluster.server.clone(), context: cluster.context_name.clone(), ..Summary::default() };
    for helm in &helms {
        let env = Env {
            cluster: &cluster,
            target: &target,
            helm,
            scratch: scratch.path().join(format!("helm{}", helm.major)),
            notes: Mutex::new(Vec::new()),
            namespaces: Mutex::new(Vec::new()),
        };
        std::fs::create_dir_all(&env.scratch)?;
        let majors: Vec<HelmMajor> = helms.iter().map(|h| h.major).collect();
        let chosen = SCENARIOS.iter().filter(|s| options.filter.as_deref().is_none_or(|f| s.name.contains(f)));
        for s in chosen.filter(|s| s.helms.runs_under(helm.major, &majors)) {
            run_scenario(&env, s, &mut summary);
        }
    }
    (summary.deleted, summary.terminating) = namespaces::delete_run(&cluster, &target.run_id)?;
    Ok(summary)
}

/// What the suite needs to know of the cluster's Ready nodes that accept pods.
struct ReadyNodes {
    count: usize,
    /// The first that declares NetworkPolicies unenforced.
    unenforced: Option<String>,
    /// Those labelled [`DRAINABLE`].
    drainable: Vec<String>,
}

/// The Ready nodes that accept pods; a user that may not list nodes is told what the suite needs.
fn ready_nodes(cluster: &Cluster) -> Result<ReadyNodes> {
    let nodes = cluster.request("GET", "/api/v1/nodes", None)?;
    ensure!(
        nodes["kind"] == "NodeList",
        "listing nodes failed ({}): the suite needs `list nodes` to know whether pods can run",
        nodes["message"]
    );
    let ready: Vec<&Json> = nodes["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["spec"]["unschedulable"] != true)
        .filter(|n| n["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True"))
        .collect();
    let name = |n: &&Json| n["metadata"]["name"].as_str().map(str::to_string);
    let unenforced = ready.iter().find(|n| n["metadata"]["labels"][UNENFORCED_LABEL] == "unenforced").and_then(name);
    let drainable = ready.iter().filter(|n| n["metadata"]["labels"][DRAINABLE.0] == DRAINABLE.1).filter_map(name).collect();
    Ok(ReadyNodes { count: ready.len(), unenforced, drainable })
}

/// Why a scenario cannot run on this cluster's nodes, if it cannot.
fn enforcer_mismatch(target: &Target, wanted: Enforcer) -> Option<String> {
    match (&target.unenforced, wanted) {
        (Some(node), Enforcer::Needed) => {
            Some(format!("node {node} is labelled {UNENFORCED_LABEL}=unenforced: it runs no NetworkPolicy enforcer"))
        }
        (None, Enforcer::Absent) => Some(format!(
            "it needs a node labelled {UNENFORCED_LABEL}=unenforced; the default run starts one with `e2e --serve --no-enforcer`"
        )),
        _ => None,
    }
}

fn run_scenario(env: &Env, s: &Scenario, summary: &mut Summary) {
    let label = env.helm.label();
    if s.needs_nodes && env.target.nodes == 0 {
        println!("skip  {label} {} (needs running pods; this cluster has no ready nodes)", s.name);
        summary.skipped.push(format!("{label} {}", s.name));
        return;
    }
    if s.drains && env.target.drainable.len() < 2 {
        let why = format!(
            "it cordons and drains nodes: it needs two Ready nodes labelled {}={}, as the built-in cluster's are",
            DRAINABLE.0, DRAINABLE.1
        );
        println!("skip  {label} {} ({why})", s.name);
        summary.skipped.push(format!("{label} {}", s.name));
        return;
    }
    if s.needs_registry && env.target.registry.is_none() {
        let why = format!(
            "it pulls with credentials from the registry a Secret {}/{} advertises, as the built-in node's is",
            registry::ADVERT.0,
            registry::ADVERT.1
        );
        println!("skip  {label} {} ({why})", s.name);
        summary.skipped.push(format!("{label} {}", s.name));
        return;
    }
    if let Some(why) = enforcer_mismatch(env.target, s.enforcer) {
        println!("skip  {label} {} ({why})", s.name);
        summary.skipped.push(format!("{label} {}", s.name));
        return;
    }
    let t = Instant::now();
    let result = (s.run)(env);
    let cleanup = env.end();
    let short: String = s.name.chars().take(60).collect();
    crate::support::phases::record(&format!("{label} {short}"), t.elapsed(), result.is_ok() && cleanup.is_ok());
    match result.and(cleanup) {
        Ok(()) => {
            summary.passed += 1;
            println!("ok    {label} {} ({:.1}s)", s.name, t.elapsed().as_secs_f64());
            for note in env.notes.lock().unwrap().drain(..).collect::<std::collections::BTreeSet<_>>() {
                println!("      note: {}", note.lines().next().unwrap_or_default());
            }
        }
        Err(e) => {
            summary.failed += 1;
            env.notes.lock().unwrap().clear();
            let e = format!("{e:#}").replace('\n', "\n      ");
            println!("FAIL  {label} {} ({:.1}s)\n      {e}", s.name, t.elapsed().as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_scenarios_run_once_and_cover_both_helms() {
        let (three, four) = (HelmMajor::V3, HelmMajor::V4);
        assert!(Helms::Each.runs_under(three, &[three, four]) && Helms::Each.runs_under(four, &[three, four]));
        assert!(Helms::Once(three).runs_under(three, &[three, four]) && !Helms::Once(three).runs_under(four, &[three, four]));
        assert!(Helms::Once(three).runs_under(four, &[four]), "a run of one Helm runs every scenario under it");
        for major in [HelmMajor::V3, HelmMajor::V4] {
            assert!(SCENARIOS.iter().any(|s| s.needs_nodes && s.helms == Helms::Once(major)), "no runtime scenario under Helm {major}");
        }
        let each: Vec<&str> = SCENARIOS.iter().filter(|s| s.helms == Helms::Each).map(|s| &s.name[..1]).collect();
        assert_eq!(each, ["a", "b", "c", "d", "e", "f", "g", "j", "u"], "the scenarios that test Helm's own behaviour run under each");
    }

    #[test]
    fn helms_missing_kind_error_is_read() {
        let helm3 = "Error: INSTALLATION FAILED: unable to build kubernetes objects from release manifest: resource mapping not found for name: \"heimdall\" namespace: \"e2e\" from \"\": no matches for kind \"Route\" in version \"route.openshift.io/v1\"\nensure CRDs are installed first";
        assert_eq!(no_matches_for_kind(helm3), Some(("Route".into(), "route.openshift.io/v1".into())));
        assert_eq!(no_matches_for_kind("Error: INSTALLATION FAILED: timed out"), None);
    }
}
