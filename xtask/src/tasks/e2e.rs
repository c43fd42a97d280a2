//! `cargo xtask e2e`: the chart's lifecycle (install, upgrade, uninstall, reinstall) under Helm 3 and Helm 4 against any cluster a kubeconfig names, in namespaces of its own that it always deletes.
//!
//! Without `--kubeconfig` the suite starts its built-in control plane (kube-apiserver and etcd, no
//! kubelet) as a separate `cargo xtask e2e --serve` process and runs against it through the same
//! kubeconfig path an operator's cluster takes (see [`served`]). On a cluster without nodes, Helm would
//! wait for the secrets generator's hook Job forever, so each install and upgrade is rendered first with
//! `--dry-run=server`, the suite runs the hook Job's container command itself (see [`hook`]) and says
//! so, then Helm proceeds with `--no-hooks`; scenarios that need running pods are skipped by name.
//! On a cluster with nodes Helm runs its hooks itself and those scenarios run (see [`running`]).

mod client;
mod hook;
mod logs;
pub mod namespaces;
mod scenarios;
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

/// All four required secrets, inline, for scenarios that must not depend on the generator.
pub(crate) const SUPPLIED_SECRETS: [&str; 4] = [
    "heimdall.secrets.JWT_SECRET=e2e-supplied-jwt-secret-00000000000000000000000000000000000000000000000000",
    "heimdall.secrets.API_KEY_SECRET=e2e-supplied-api-key-secret-0000000000",
    "heimdall.secrets.DATABASE_PASSWORD=e2e-supplied-database-password",
    "heimdall.secrets.ADMIN_PASSWORD=E2e-Supplied-Admin-Pass-1",
];

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
    scenario("a. generated secrets survive upgrades", scenarios::secrets::generated_secrets_survive_upgrades),
    scenario("b. uninstall keeps the Secret, reinstall reuses it", scenarios::secrets::uninstall_keeps_secret_and_reinstall_reuses_it),
    scenario("c. existingSecret is checked and used", scenarios::secrets::existing_secret_is_checked_and_used),
    scenario("d. DATABASE_PASSWORD change needs consent", scenarios::secrets::database_password_change_needs_consent),
    scenario("e. changed values reach the Secret and roll pods", scenarios::secrets::changed_values_reach_the_secret_and_roll_pods),
    scenario("f. every rendering case is accepted by the API server", scenarios::acceptance::every_rendering_case_is_accepted),
    scenario("g. a non-restricted pod template draws a Pod Security warning", scenarios::acceptance::pod_security_warning_is_seen),
    runtime(
        "h. the secrets generator may touch only its Secret, fills only absent keys, runs concurrently",
        scenarios::generator::generator_rbac_and_logic,
        HelmMajor::V3,
    ),
    runtime(
        "i. two Argo CD-style syncs (client-side render, PreSync hook, server-side apply) change no secret",
        scenarios::generator::gitops_syncs_change_no_secret,
        HelmMajor::V4,
    ),
    Scenario {
        name: "j. Heimdall runs: helm install --wait, every pod Ready without a restart, helm test passes, GET /server answers, the admin logs in, JWT_SECRET rotation ends the session",
        run: scenarios::running::heimdall_runs,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Each,
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "k. NetworkPolicies are enforced: the hook, DNS, PostgreSQL, helm test and the admitted ingress work; an unlabelled pod reaches neither PostgreSQL nor Heimdall, and does once the policies are gone",
        run: scenarios::running::network_policies_hold,
        needs_nodes: true,
        enforcer: Enforcer::Needed,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "l. an external database and an arbitrary UID: wait-for-database lets Heimdall start, the admin logs in",
        run: scenarios::running::external_database_and_arbitrary_uid,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "m. an uploaded evaluation and the generated secrets survive upgrade, a deleted PostgreSQL pod, rollout, rotation, uninstall and reinstall; no secret in any log; pods stop within 5 s, in-flight requests answered",
        run: scenarios::running::data_secrets_and_quiet_logs_survive,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "n. an upgrade from the previous chart version keeps the uploaded evaluation and the generated secrets",
        run: scenarios::running::upgrade_from_the_previous_chart,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: UNENFORCED_SCENARIO,
        run: scenarios::running::policies_without_an_enforcer_stop_nothing,
        needs_nodes: true,
        enforcer: Enforcer::Absent,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "p. production: 3 replicas, and an HPA of minReplicas 2, start on an empty database with no restart; under steady load through the Service, a rolling upgrade fails no request, nor does a failed upgrade that Helm 4's --rollback-on-failure undoes",
        run: scenarios::running::production_behaviours,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "q. a failed upgrade: an image that cannot be pulled fails --wait while the old pod serves every request; helm rollback restores the release and the admin's login (Helm 4's way: p)",
        run: scenarios::running::failed_upgrade_rolls_back,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "r. the backup and restore guide runs as written: dump and Secret saved, the namespace deleted, the Secret, the chart and the dump restored; the evaluation and its API key answer",
        run: scenarios::running::restore_from_the_guide,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V3),
        drains: false,
        needs_registry: false,
    },
    Scenario {
        name: "s. node drains, as docs/node-drains.md runs them: with a disruption budget and one replica per node, each node drained in turn under steady load through the Service; the second drain's evictions wait for the budget, and no request fails",
        run: scenarios::running::drains_honour_the_budget,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: true,
        needs_registry: false,
    },
    Scenario {
        name: "t. images pulled with credentials, docs/examples/air-gapped-mirror.yaml as written: without its pull Secret the pods stay in ErrImagePull and the report names it; with the Secret its kubectl line makes, every pod pulls from the mirror and starts",
        run: scenarios::running::images_pulled_with_credentials,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Once(HelmMajor::V4),
        drains: false,
        needs_registry: true,
    },
    Scenario {
        name: "u. the release rehearsed: cargo xtask release's steps publish this chart and a next version to the node's registry, signed with a throwaway key and verified; the published README's helm install oci:// line and a helm upgrade to the next come from it; a chart pushed over the signed tag fails cosign verify",
        run: scenarios::running::release_rehearsed,
        needs_nodes: true,
        enforcer: Enforcer::Either,
        helms: Helms::Each,
        drains: false,
        needs_registry: true,
    },
    Scenario {
        name: "v. coming from mitre/heimdall-helm: its own chart installed with a claim, an evaluation uploaded with a new API key; docs/migration-from-heimdall-helm.md's steps, taken from the Markdown, move the release and its volume to this chart, which answers the old admin password and API key and lists the evaluation",
        run: scenarios::running::moved_from_heimdall_helm,
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
}
