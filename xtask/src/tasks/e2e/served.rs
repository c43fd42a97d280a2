//! The built-in cluster (control plane and, unless `--no-node`, a real node) as a separate process (`cargo xtask e2e --serve`), and the default run: start it, run the suite through its kubeconfig exactly as `--kubeconfig` does, then prove the run left nothing behind, in the cluster or on the host, even when interrupted.

use super::{namespaces, Options, UNENFORCED_SCENARIO};
use crate::lifecycle::controlplane::{self, ControlPlane};
use crate::lifecycle::node::{
    self,
    host::{self, HostState},
    Node,
};
use crate::support::cluster::{poll, Cluster};
use crate::support::process;
use crate::support::tools::HelmMajor;
use crate::support::{phases, tools};
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `cargo xtask e2e --serve`: builds what is missing, starts the control plane and (with a Heimdall
/// source) the node, installs the CRDs the cases need, prints `kubeconfig:`, `context:` and `folder:`
/// lines on stdout, and serves until interrupted. Without `enforce`, the node runs no NetworkPolicy
/// enforcer and says so by its label.
pub fn serve(heimdall_source: Option<&Path>, enforce: bool) -> Result<()> {
    controlplane::linux_only("`cargo xtask e2e --serve`")?;
    let say = |m: String| eprintln!("{m}");
    let mut phases = Phases::new();
    controlplane::build(&say)?;
    let images = match heimdall_source {
        Some(source) => {
            node::preflight()?;
            node::build::build_coredns(&say)?;
            node::build::build_kube_router(&say)?;
            tools::REGISTRY.setup(&say)?;
            phases.mark("builds: CoreDNS, kube-router and the registry");
            let images = node::prepare_images(source, &say)?;
            phases.mark("images");
            Some(images)
        }
        None => None,
    };
    crate::support::process::install_signal_cleanup()?;
    let claim = images.as_ref().map(|_| node::claim_host(&say)).transpose()?;
    let mut plane = ControlPlane::start(if claim.is_some() { node::GATEWAY } else { "127.0.0.1" })?;
    install_crds(&plane.cluster)?;
    phases.mark("control plane up");
    let mut node = match (claim, &images) {
        // With an enforcer, the drain scenario's second node too: the cluster without one runs only o.
        (Some(claim), Some(images)) => Some(Node::start(claim, &plane, images, enforce, enforce, &say)?),
        _ => None,
    };
    if node.is_some() {
        phases.mark(if enforce { "nodes up" } else { "node up" });
    }
    let what = match (&node, enforce) {
        (Some(_), true) => format!("and nodes {} and {} (pods run)", node::NODE_NAME, node::SECOND.name),
        (Some(_), false) => format!("and node {} (pods run)", node::NODE_NAME),
        (None, _) => "(no node: pods never run)".into(),
    };
    eprintln!(
        "e2e --serve: kube-apiserver {} ready at {} {what}; {}. Ctrl-C stops it, undoes every host change and deletes {}.\n  cargo xtask e2e --kubeconfig {} --context {}",
        controlplane::KUBERNETES_VERSION,
        plane.cluster.server,
        phases.summary(),
        plane.dir.path().display(),
        plane.kubeconfig.display(),
        controlplane::CONTEXT
    );
    println!("kubeconfig: {}", plane.kubeconfig.display());
    println!("context: {}", controlplane::CONTEXT);
    println!("folder: {}", plane.dir.path().display());
    loop {
        std::thread::sleep(Duration::from_millis(500));
        if crate::support::process::stopping() {
            continue;
        }
        if let Some(why) = plane.exited().or_else(|| node.as_mut().and_then(Node::exited)) {
            bail!("the served cluster stopped: {why}");
        }
    }
}

/// Wall-clock time of each named phase since the previous one.
struct Phases {
    last: Instant,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new() -> Phases {
        Phases { last: Instant::now(), done: Vec::new() }
    }

    fn mark(&mut self, name: &'static str) {
        let took = self.last.elapsed();
        phases::record(name, took, true);
        self.done.push((name, took.as_secs_f64()));
        self.last = Instant::now();
    }

    fn summary(&self) -> String {
        let parts: Vec<String> = self.done.iter().map(|(n, s)| format!("{n} {s:.1}s")).collect();
        format!("phases: {}", parts.join(", "))
    }
}

/// The CRDs of the kinds the Kubernetes schemas lack (tools::CRDS), so the cases that render them have a kind to install.
fn install_crds(cluster: &Cluster) -> Result<()> {
    for source in tools::CRDS {
        let path = source.installed();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("the {} CRD is missing at {}: run `cargo xtask setup`", source.kind, path.display()))?;
        let crd: Json = serde_yaml::from_str(&text)?;
        cluster.create("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", &crd)?;
        let name = crd["metadata"]["name"].as_str().unwrap_or_default().to_string();
        wait_established(cluster, &name)?;
    }
    Ok(())
}

fn wait_established(cluster: &Cluster, name: &str) -> Result<()> {
    poll(Duration::from_secs(60), Duration::from_millis(300), &format!("the CRD {name} being established"), |_| {
        let c = cluster.get(&format!("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"))?;
        let established = c.as_ref().is_some_and(|c| {
            c["status"]["conditions"].as_array().into_iter().flatten().any(|x| x["type"] == "Established" && x["status"] == "True")
        });
        Ok(established.then_some(()))
    })
}

/// A `cargo xtask e2e --serve` child and what it printed.
pub struct Served {
    child: Child,
    pub kubeconfig: PathBuf,
    pub context: String,
    folder: PathBuf,
}

/// More work for the suite's node after its scenarios, before it stops (the pod mutants); it is
/// told whether the scenarios passed.
pub type OnTheNode<'a> = &'a mut dyn FnMut(&Served, bool) -> Result<()>;

/// `cargo xtask e2e` without `--kubeconfig`: the suite against a served control plane, run as the very
/// command an operator types (`cargo xtask e2e --kubeconfig ... --context ...`), then `on_node`'s
/// work on the same node, then the checks that only a cluster of our own allows. Returns the number
/// of failures.
pub fn run(options: &Options, on_node: Option<OnTheNode>) -> Result<usize> {
    controlplane::linux_only("`cargo xtask e2e` without --kubeconfig")?;
    tools::setup(true)?;
    let t = Instant::now();
    controlplane::build(&|m| eprintln!("{m}"))?;
    phases::record("builds: Kubernetes components and etcd", t.elapsed(), true);
    let host_before = options.heimdall_source.is_some().then(HostState::take).transpose()?;
    let mut served = start_served(options, true, true)?;
    let cluster = Arc::new(Cluster::from_kubeconfig(&served.kubeconfig, Some(&served.context))?);
    let (before, runs_before) = (footprint(&cluster)?, runs(&cluster)?);
    let status = kubeconfig_run(&served, options)?.status()?;
    // The suite's own run, told apart now: the pod mutants below make runs of their own, whose last
    // namespaces may still be terminating when the check runs.
    let suite_runs: BTreeSet<String> = runs(&cluster)?.difference(&runs_before).cloned().collect();
    let mut suite = SuiteChecks::default();
    if let Some(work) = on_node {
        let (t, result) = (Instant::now(), work(&served, status.success()));
        phases::record("pod mutants, on the suite's node", t.elapsed(), result.is_ok());
        suite.check("the pod mutants, on this node after the scenarios, are each caught by their scenario", result);
    }
    let checks_started = Instant::now();
    suite.check("each kubeconfig user authenticates as itself (client certificate, exec plugin)", users_authenticate(&served));
    suite.check("the run touched nothing outside its namespaces", same_footprint(&before, &footprint(&cluster)?));
    // A filtered run may create no namespace (e.g. only scenario j, skipped here); the full run must.
    suite.check("every namespace of the run is deleted", the_runs_namespaces_deleted(&cluster, &suite_runs, options.filter.is_none()));
    suite.check("Ctrl-C during a run deletes its namespaces", interrupted_run_cleans_up(&cluster, &served));
    // This client's own credentials folder must be gone before the host is compared.
    drop(cluster);
    phases::record("suite checks on the cluster", checks_started.elapsed(), true);
    let t = Instant::now();
    suite.check("Ctrl-C stops the served control plane and deletes its folder", stop_served(&mut served));
    println!("      teardown took {:.1}s", t.elapsed().as_secs_f64());
    phases::record("teardown (the node and control plane stopped, every host change undone)", t.elapsed(), true);
    if let Some(source) = &options.heimdall_source {
        suite.check(
            "the stand-in images carry the published images' documented facts (users, paths, entrypoints, stop signal)",
            node::stand_ins_match_documented_facts(source),
        );
    }
    if let Some(before) = &host_before {
        host_checks(options, before, &mut suite);
    }
    println!("{} suite checks failed", suite.failed);
    Ok(usize::from(!status.success()) + suite.failed)
}

/// The suite checks after the scenarios: each prints its line; failures are counted.
#[derive(Default)]
struct SuiteChecks {
    failed: usize,
}

impl SuiteChecks {
    fn check(&mut self, what: &str, result: Result<()>) {
        match result {
            Ok(()) => println!("ok    suite: {what}"),
            Err(e) => {
                println!("FAIL  suite: {what}\n      {}", format!("{e:#}").replace('\n', "\n      "));
                self.failed += 1;
            }
        }
    }
}

/// The checks of the host after the node stopped: as it was, then the extra nodes of the
/// killed-node and no-enforcer checks.
fn host_checks(options: &Options, before: &HostState, suite: &mut SuiteChecks) {
    suite.check(
        "the node left the host as it found it (sysctls, iptables, ipsets, mounts, links, cgroups, paths, processes)",
        host_unchanged(before),
    );
    // The node that follows the killed one is the one without an enforcer, so the two checks
    // cost one node start less; o's check stops it and compares the host (an unfiltered run
    // runs both).
    let mut next = None;
    if options.filter.is_none() {
        let t = Instant::now();
        let result = killed_node_is_undone_by_the_next(options, before).map(|node| next = Some(node));
        phases::record("a node killed outright, undone by the next", t.elapsed(), result.is_ok());
        suite.check(
            "a node killed outright (SIGKILL) is undone by the next node's claim (the node without an enforcer below, whose stop leaves the host as it was)",
            result,
        );
    }
    if options.filter.as_deref().is_none_or(|f| UNENFORCED_SCENARIO.contains(f)) {
        let t = Instant::now();
        let result = unenforced_node_lets_the_probe_through(options, before, next.take());
        phases::record("a node without an enforcer: scenario o", t.elapsed(), result.is_ok());
        suite.check("on a second node without an enforcer, scenario o passes: the probe k sees refused connects", result);
    }
}

/// `cargo xtask e2e --kubeconfig K --context C` (this same binary) with the run's options.
fn kubeconfig_run(served: &Served, options: &Options) -> Result<Command> {
    let mut cmd = child_xtask()?;
    cmd.args(["e2e", "--kubeconfig"]).arg(&served.kubeconfig).args(["--context", &served.context]);
    cmd.arg("--ready-timeout").arg(options.ready_timeout.as_secs().to_string());
    if let Some(f) = &options.filter {
        cmd.args(["--filter", f]);
    }
    if let Some(h) = &options.helm {
        cmd.arg("--helm").arg(h);
    }
    if let Some(c) = &options.chart {
        cmd.arg("--chart").arg(c);
    }
    if let Some(m) = options.helm_major {
        cmd.arg("--helm-major").arg(m.to_string());
    }
    eprintln!("e2e: cargo xtask e2e --kubeconfig {} --context {}", served.kubeconfig.display(), served.context);
    Ok(cmd)
}

/// Starts a second served cluster whose node runs no enforcer, runs scenario o on it (under one Helm)
/// and stops it; o must have passed, not been skipped, and the host must be as it was.
fn unenforced_node_lets_the_probe_through(options: &Options, host_before: &HostState, started: Option<Served>) -> Result<()> {
    let mut served = match started {
        Some(node) => node,
        None => start_served(options, false, false)?,
    };
    let one = Options {
        filter: Some(UNENFORCED_SCENARIO.into()),
        helm_major: Some(options.helm_major.unwrap_or(HelmMajor::V3)),
        ..options.clone()
    };
    // Its scenario's time is this check's phase, not one of its own.
    let out = kubeconfig_run(&served, &one).and_then(|mut c| {
        process::output(c.env_remove(phases::VARIABLE).stderr(Stdio::inherit()), "cargo xtask e2e on the unenforced node")
    });
    let stopped = stop_served(&mut served);
    let out = out?;
    let said = String::from_utf8_lossy(&out.stdout);
    print!("{}", said.lines().map(|l| format!("      {l}\n")).collect::<String>());
    stopped?;
    host_unchanged(host_before).context("after the node without an enforcer")?;
    ensure!(out.status.success(), "scenario o failed on the node without an enforcer ({})", out.status);
    ensure!(
        said.lines().any(|l| l.starts_with("ok ") && l.contains(UNENFORCED_SCENARIO)),
        "scenario o did not run (skipped?) on the node started without an enforcer"
    );
    Ok(())
}

/// Kills a served node with SIGKILL, so no handler runs: its bridge, mounts, iptables rules, pods and
/// folder stay. The next served node (one without an enforcer) must undo them when it claims the
/// host; it is returned running, for the check that needs such a node, which stops it and compares
/// the host.
fn killed_node_is_undone_by_the_next(options: &Options, host_before: &HostState) -> Result<Served> {
    let mut killed = start_served(options, true, false)?;
    // SAFETY: kill(2) on a process this one started.
    unsafe { libc::kill(killed.child.id() as libc::pid_t, libc::SIGKILL) };
    killed.child.wait()?;
    let left = HostState::take()?.differences(host_before);
    ensure!(
        left.iter().any(|d| d == &format!("new link: {}", node::BRIDGE)) && killed.folder.exists(),
        "the killed node left no bridge or no folder, so this check would prove nothing; it left:\n{}",
        left.join("\n")
    );
    let mut next = start_served(options, false, false).context("starting the node after the killed one")?;
    if killed.folder.exists() {
        stop_served(&mut next)?;
        bail!("the next node left the killed node's folder {} (CA key, admin key)", killed.folder.display());
    }
    Ok(next)
}

/// The host compared with its state before the served cluster started; what another program
/// changed meanwhile (the run's witness says who made a temp entry or a process) is printed as a
/// note, never blamed on the run.
pub(crate) fn host_unchanged(before: &HostState) -> Result<()> {
    let judged = host::judge(HostState::take()?.differences(before), node::witness::global());
    for note in &judged.ignored {
        println!("      note: {note}");
    }
    ensure!(judged.blamed.is_empty(), "{}", judged.blamed.join("\n"));
    Ok(())
}

/// Starts `cargo xtask e2e --serve [--no-enforcer]` (this same binary) and reads where its kubeconfig is.
/// With `record_phases`, the child records its builds, images and start-up as phases of the run.
pub(crate) fn start_served(options: &Options, enforce: bool, record_phases: bool) -> Result<Served> {
    let mut cmd = child_xtask()?;
    cmd.args(["e2e", "--serve"]).stdout(Stdio::piped()).stderr(Stdio::inherit());
    if !record_phases {
        cmd.env_remove(phases::VARIABLE);
    }
    if !enforce {
        cmd.arg("--no-enforcer");
    }
    match &options.heimdall_source {
        Some(source) => cmd.arg("--heimdall-source").arg(source),
        None => cmd.arg("--no-node"),
    };
    let mut child = cmd.spawn().context("starting `cargo xtask e2e --serve`")?;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = std::collections::BTreeMap::new();
    while said.len() < 3 {
        let Some(line) = lines.next() else {
            let status = child.wait()?;
            bail!("`cargo xtask e2e --serve` exited ({status}) before printing its kubeconfig");
        };
        if let Some((k, v)) = line?.split_once(": ") {
            said.insert(k.to_string(), v.to_string());
        }
    }
    let get = |k: &str| said.get(k).cloned().with_context(|| format!("`e2e --serve` printed no {k}: line"));
    Ok(Served { kubeconfig: get("kubeconfig")?.into(), context: get("context")?, folder: get("folder")?.into(), child })
}

/// This same binary as a child that gets SIGTERM if this process dies, so it cleans up after itself
/// (the served plane stops, a run deletes its namespaces).
pub(crate) fn child_xtask() -> Result<Command> {
    let mut cmd = Command::new(std::env::current_exe()?);
    // The served cluster is given the source by flag; a `--kubeconfig` run must not see it.
    cmd.env_remove("HEIMDALL_SOURCE");
    crate::support::process::die_with_parent(&mut cmd, libc::SIGTERM);
    Ok(cmd)
}

/// The client reaches the served plane through each kind of kubeconfig user, and the API server
/// (SelfSubjectReview) names the user each one authenticated as.
fn users_authenticate(served: &Served) -> Result<()> {
    for (context, user) in [(served.context.as_str(), "heimdall-e2e-admin"), (controlplane::EXEC_CONTEXT, controlplane::EXEC_USER)] {
        let cluster = Cluster::from_kubeconfig(&served.kubeconfig, Some(context))?;
        let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
        let answer = cluster.create("/apis/authentication.k8s.io/v1/selfsubjectreviews", &review)?;
        let seen = &answer["status"]["userInfo"]["username"];
        ensure!(seen == user, "context {context} authenticated as {seen}, not {user}");
    }
    Ok(())
}

/// Sends SIGINT to a child, as Ctrl-C would, and waits for it; its exit code.
fn interrupt(child: &mut Child) -> Result<Option<i32>> {
    // SAFETY: kill(2) on a process this one started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    Ok(child.wait()?.code())
}

pub(crate) fn stop_served(served: &mut Served) -> Result<()> {
    let code = interrupt(&mut served.child)?;
    ensure!(code == Some(130), "the served control plane exited with {code:?} on Ctrl-C, not 130");
    ensure!(!served.folder.exists(), "the served control plane left its folder {} (CA key, admin key)", served.folder.display());
    Ok(())
}

/// Everything outside the suite's namespaces a run could touch, as `kind namespace/name resourceVersion` lines.
fn footprint(cluster: &Cluster) -> Result<BTreeSet<String>> {
    let mut seen = BTreeSet::new();
    for path in FOOTPRINT {
        let list = cluster.request("GET", path, None)?;
        ensure!(list["items"].is_array(), "GET {path}: {}", list["message"]);
        for item in list["items"].as_array().into_iter().flatten() {
            if belongs_to_a_run(path, item) {
                continue;
            }
            let m = &item["metadata"];
            let (ns, name) = (m["namespace"].as_str().unwrap_or(""), m["name"].as_str().unwrap_or(""));
            seen.insert(format!("{path} {ns}/{name} {}", m["resourceVersion"].as_str().unwrap_or("")));
        }
    }
    Ok(seen)
}

/// A namespace of the suite, an object in one, or a volume made for a claim in one.
fn belongs_to_a_run(path: &str, item: &Json) -> bool {
    let ours = |n: &Json| n.as_str().is_some_and(|n| n.starts_with("e2e-"));
    let m = &item["metadata"];
    ours(&m["namespace"]) || (path == "/api/v1/namespaces" && ours(&m["name"])) || ours(&item["spec"]["claimRef"]["namespace"])
}

/// Cluster-scoped kinds, and every namespaced kind the chart or the suite writes, across all namespaces.
const FOOTPRINT: [&str; 22] = [
    "/api/v1/namespaces",
    "/api/v1/persistentvolumes",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations",
    "/apis/scheduling.k8s.io/v1/priorityclasses",
    "/api/v1/secrets",
    "/api/v1/configmaps",
    "/api/v1/serviceaccounts",
    "/api/v1/services",
    "/api/v1/pods",
    "/api/v1/persistentvolumeclaims",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/statefulsets",
    "/apis/batch/v1/jobs",
    "/apis/rbac.authorization.k8s.io/v1/roles",
    "/apis/rbac.authorization.k8s.io/v1/rolebindings",
    "/apis/networking.k8s.io/v1/networkpolicies",
    "/apis/networking.k8s.io/v1/ingresses",
    "/apis/policy/v1/poddisruptionbudgets",
];

fn same_footprint(before: &BTreeSet<String>, after: &BTreeSet<String>) -> Result<()> {
    let gone: Vec<&String> = before.difference(after).collect();
    let new: Vec<&String> = after.difference(before).collect();
    ensure!(gone.is_empty() && new.is_empty(), "outside the run's namespaces, changed or removed: {gone:?}; new: {new:?}");
    ensure!(!before.is_empty(), "the footprint saw nothing at all, so this check could not fail");
    Ok(())
}

/// The suite's run (`suite_runs`: those that appeared while it ran) left no namespace live (and, if
/// `must_create`, made some).
fn the_runs_namespaces_deleted(cluster: &Cluster, suite_runs: &BTreeSet<String>, must_create: bool) -> Result<()> {
    let new: Vec<&String> = suite_runs.iter().collect();
    if new.is_empty() && !must_create {
        return Ok(());
    }
    let [run_id] = new.as_slice() else {
        bail!("expected the namespaces of exactly one new run, found runs {new:?}: are they labelled {}?", namespaces::RUN_LABEL)
    };
    let left = namespaces::of_run(cluster, run_id)?;
    let live = namespaces::live(&left);
    ensure!(live.is_empty(), "still live after the run: {}", live.join(", "));
    Ok(())
}

/// Starts a second run (`--kubeconfig`, scenario a), interrupts it once it has a namespace, and
/// requires exit code 130 and every namespace of that run deleted.
fn interrupted_run_cleans_up(cluster: &Cluster, served: &Served) -> Result<()> {
    let mut child = child_xtask()?
        .args(["e2e", "--kubeconfig"])
        .arg(&served.kubeconfig)
        .args(["--context", &served.context, "--filter", "a. generated"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let run_id = wait_for_new_run(cluster, &mut child)?;
    let code = interrupt(&mut child)?;
    ensure!(code == Some(130), "the interrupted run exited with {code:?}, not 130");
    let left = namespaces::of_run(cluster, &run_id)?;
    ensure!(!left.is_empty(), "the interrupted run {run_id} had no namespace to delete, so this check could not fail");
    let live = namespaces::live(&left);
    ensure!(live.is_empty(), "namespaces of the interrupted run {run_id} were left: {}", live.join(", "));
    Ok(())
}

/// The run id of the first namespace of the suite that no earlier run made.
fn wait_for_new_run(cluster: &Cluster, child: &mut Child) -> Result<String> {
    let known: BTreeSet<String> = runs(cluster)?;
    let found = poll(Duration::from_secs(180), Duration::from_millis(200), "the run to interrupt creating a namespace", |_| {
        if let Some(id) = runs(cluster)?.difference(&known).next() {
            return Ok(Some(id.clone()));
        }
        match child.try_wait()? {
            Some(status) => bail!("the run to interrupt exited ({status}) before it created a namespace"),
            None => Ok(None),
        }
    });
    if found.is_err() {
        let _ = child.kill();
    }
    found
}

fn runs(cluster: &Cluster) -> Result<BTreeSet<String>> {
    let list =
        cluster.request("GET", &format!("/api/v1/namespaces?labelSelector={}%3D{}", namespaces::MANAGED_BY, namespaces::MANAGER), None)?;
    Ok(list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["metadata"]["labels"][namespaces::RUN_LABEL].as_str().map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_new_or_removed_object_outside_the_run_fails_the_footprint() {
        let set = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<BTreeSet<_>>();
        let before = set(&["/api/v1/secrets default/a 10", "/api/v1/namespaces /default 5"]);
        same_footprint(&before, &before.clone()).unwrap();
        let changed = set(&["/api/v1/secrets default/a 11", "/api/v1/namespaces /default 5"]);
        let msg = same_footprint(&before, &changed).unwrap_err().to_string();
        assert!(msg.contains("default/a 10") && msg.contains("default/a 11"), "{msg}");
        let added =
            set(&["/api/v1/secrets default/a 10", "/api/v1/namespaces /default 5", "/apis/rbac.authorization.k8s.io/v1/clusterroles /x 7"]);
        assert!(same_footprint(&before, &added).unwrap_err().to_string().contains("clusterroles /x"));
        assert!(same_footprint(&BTreeSet::new(), &BTreeSet::new()).is_err(), "an empty footprint proves nothing");
    }

    #[test]
    fn the_runs_namespaces_their_objects_and_volumes_made_for_their_claims_are_the_runs_own() {
        let pv = |ns: &str| json!({"metadata": {"name": "pv-1"}, "spec": {"claimRef": {"namespace": ns, "name": "data"}}});
        assert!(belongs_to_a_run("/api/v1/persistentvolumes", &pv("e2e-1a2b3c-running-h3")));
        assert!(!belongs_to_a_run("/api/v1/persistentvolumes", &pv("default")), "a volume of another namespace's claim is watched");
        assert!(!belongs_to_a_run("/api/v1/persistentvolumes", &json!({"metadata": {"name": "e2e-looks-ours"}})));
        assert!(belongs_to_a_run("/api/v1/namespaces", &json!({"metadata": {"name": "e2e-1a2b3c-running-h3"}})));
        assert!(belongs_to_a_run("/api/v1/secrets", &json!({"metadata": {"name": "s", "namespace": "e2e-1a2b3c-x"}})));
        assert!(!belongs_to_a_run("/api/v1/secrets", &json!({"metadata": {"name": "e2e-x", "namespace": "default"}})));
    }
}
