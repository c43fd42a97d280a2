//! A real Kubernetes node on this machine for the lifecycle tests: containerd and runc from Debian, kubelet, kube-proxy, kube-controller-manager, kube-scheduler and CoreDNS built from their Go modules, a CNI bridge, local volumes, and stand-in images that containerd pulls from a registry of the node's ([`registry`]), all in a private folder; every host change is undone when it stops, fails or is interrupted.
//!
//! Network: a bridge of its own ([`BRIDGE`], [`POD_CIDR`]) whose gateway address is also where the API
//! server, the kubelet and CoreDNS listen, so pods reach them without leaving the machine. Pods get
//! routes to the pod and Service ranges only, and nothing is masqueraded: no pod traffic leaves. A
//! routing rule refuses pods' packets to a Service that kube-proxy has not programmed yet, which would
//! otherwise follow the host's default route off the machine. The bridge has an address of its own
//! ([`BRIDGE_MAC`]), so pods' ARP entries for the gateway never go out of date.

pub mod build;
pub mod facts;
pub mod host;
pub mod images;
mod journal;
pub mod registry;
mod storage;
pub mod witness;

use crate::lifecycle::controlplane::{self, Components, ControlPlane, SERVICE_CIDR};
use crate::support::cluster::{poll, Cluster};
use crate::support::process::free_port;
use anyhow::{bail, ensure, Context, Result};
use host::HostState;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const BRIDGE: &str = "heimdall-e2e0";
pub const POD_CIDR: &str = "10.244.0.0/24";
/// The bridge's address: the pods' gateway, and where the API server, kubelet and CoreDNS listen.
pub const GATEWAY: &str = "10.244.0.1";
pub const NODE_NAME: &str = "heimdall-e2e-node";
/// The bridge's MAC address, set when it is made (locally administered, unicast). A bridge without one
/// set takes the lowest of its ports' and changes it as pods come and go. Pods that cached the old one
/// then lose every frame to the gateway (DNS, and replies from the Service's backends) until their ARP
/// entry goes stale: a new Heimdall pod waited up to a minute for its database this way.
pub const BRIDGE_MAC: &str = "02:68:65:69:6d:64";
/// The priority of the rule that refuses pods' packets to unprogrammed Services (undone by
/// [`host::HostState::restore`], since a rule outlives its interface).
const SERVICE_RULE_PREF: &str = "1000";

/// What tells the nodes of this host apart. Both share the bridge, kube-proxy, the controllers and
/// CoreDNS (one network namespace needs one of each); each has its own containerd, kubelet, half of
/// the pod range and cgroup tree.
pub struct Member {
    pub name: &'static str,
    pod_cidr: &'static str,
    /// The first and last address its pods get.
    addresses: (&'static str, &'static str),
    /// A kubelet removes pod cgroups under its root that it does not know as orphans, so each needs its own.
    cgroup_root: &'static str,
    /// Carries the [`DRAINABLE`] taint: only pods that tolerate it run there.
    tainted: bool,
    /// Its containerd's and kubelet's component names (and log files).
    processes: (&'static str, &'static str),
}

/// The node every run has: NetworkPolicies are enforced here only (kube-router's firewall sees this
/// node's pods), so only the drain scenario's pods tolerate the second node's taint.
pub const FIRST: Member = Member {
    name: NODE_NAME,
    pod_cidr: "10.244.0.0/25",
    addresses: ("10.244.0.2", "10.244.0.127"),
    cgroup_root: "/",
    tainted: false,
    processes: ("containerd", "kubelet"),
};

/// The second node, for the drain scenario: only pods that tolerate the [`DRAINABLE`] taint run on it.
pub const SECOND: Member = Member {
    name: "heimdall-e2e-node-2",
    pod_cidr: "10.244.0.128/25",
    addresses: ("10.244.0.129", "10.244.0.254"),
    cgroup_root: "/heimdall-e2e-node-2",
    tainted: true,
    processes: ("containerd-2", "kubelet-2"),
};

/// A node with this label may be cordoned and drained by the suite: without two, the drain scenario
/// is skipped by name. The second node also has a NoSchedule taint of this key and value.
pub const DRAINABLE: (&str, &str) = ("heimdall-chart-e2e/drains", "allowed");

/// What the machine must have, and the Debian packages that bring it.
const NEEDED: [(&str, &str); 13] = [
    ("skopeo", "skopeo"),
    ("containerd", "containerd"),
    ("ctr", "containerd"),
    ("runc", "runc"),
    ("umoci", "umoci"),
    ("debootstrap", "debootstrap"),
    ("iptables", "iptables"),
    ("ipset", "ipset"),
    ("conntrack", "conntrack"),
    ("ip", "iproute2"),
    ("gcc", "gcc"),
    ("npm", "npm"),
    ("/usr/lib/cni/bridge", "containernetworking-plugins"),
];

/// Fails, naming what is missing and how to install it, unless this machine can host the node.
pub fn preflight() -> Result<()> {
    ensure!(cfg!(target_os = "linux"), "the e2e node needs Linux (run `cargo xtask e2e --no-node`, or `--kubeconfig` against a cluster)");
    // SAFETY: geteuid has no preconditions.
    ensure!(unsafe { libc::geteuid() } == 0, "the e2e node needs root (it runs containerd and the kubelet): run as root, or use --no-node");
    let missing: Vec<&str> = NEEDED.iter().filter(|(cmd, _)| !on_path(cmd)).map(|(_, pkg)| *pkg).collect();
    if !missing.is_empty() {
        let mut packages = missing.clone();
        packages.dedup();
        bail!("the e2e node needs {} : apt-get install {}", packages.join(", "), packages.join(" "));
    }
    Ok(())
}

fn on_path(cmd: &str) -> bool {
    if cmd.starts_with('/') {
        return Path::new(cmd).is_file();
    }
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

/// The images a node needs, built or found in the cache: the sandbox image, which each containerd
/// imports (the kubelet names it, no pod does), and the chart's images, which the node's registry
/// serves and each containerd pulls when a pod first needs one.
pub struct Images {
    sandbox: images::Image,
    pulled: Vec<images::Image>,
}

/// The stand-in images (built from `heimdall_source`) against the published images' documented facts
/// ([`facts`]): each difference, named with its image.
pub fn stand_ins_match_documented_facts(heimdall_source: &Path) -> Result<()> {
    let (heimdall_ref, postgres_ref) = images::chart_references()?;
    let checks = [(images::heimdall(heimdall_ref, heimdall_source)?, facts::HEIMDALL), (images::postgres(postgres_ref)?, facts::POSTGRES)];
    let mut differences = Vec::new();
    for (image, documented) in checks {
        differences.extend(facts::differences(&image.archive, documented)?.into_iter().map(|d| format!("{}: {d}", image.reference)));
    }
    ensure!(differences.is_empty(), "{}", differences.join("\n"));
    Ok(())
}

/// Builds (or finds cached) the sandbox image and the stand-ins for the chart's default images.
pub fn prepare_images(heimdall_source: &Path, say: &dyn Fn(String)) -> Result<Images> {
    let (heimdall_ref, postgres_ref) = images::chart_references()?;
    let (pause, postgres, heimdall) = (images::pause(), images::postgres(postgres_ref)?, images::heimdall(heimdall_ref, heimdall_source)?);
    let fill_heimdall = |rootfs: &Path| images::fill_heimdall(rootfs, heimdall_source);
    images::ensure_built(&[(&pause, &images::fill_pause), (&postgres, &images::fill_postgres), (&heimdall, &fill_heimdall)], say)?;
    Ok(Images { sandbox: pause, pulled: vec![postgres, heimdall] })
}

/// The host claimed for a node: its state was recorded before anything changed, and dropping the
/// claim (or the [`Node`] that holds it) runs [`teardown`].
pub struct Claim(());

impl Drop for Claim {
    fn drop(&mut self) {
        teardown();
    }
}

/// What a teardown needs, reachable from the signal handler.
struct Teardown {
    before: HostState,
    pids: Vec<u32>,
    dir: Option<PathBuf>,
    journal: journal::Journal,
}

static TEARDOWN: Mutex<Option<Teardown>> = Mutex::new(None);

/// Records the host's state and makes the bridge (the API server listens on its address).
/// From here on, an interrupt or a drop of the [`Node`] undoes every change.
/// A node killed outright earlier is undone first (see [`journal`]).
pub fn claim_host(say: &dyn Fn(String)) -> Result<Claim> {
    let journal = journal::Journal::open(say)?;
    let before = HostState::take()?;
    ensure!(
        !before.links.contains(BRIDGE),
        "a bridge {BRIDGE} already exists, and no e2e node claims it: `ip link delete {BRIDGE}` if nothing else uses it"
    );
    journal.record(&before)?;
    *TEARDOWN.lock().unwrap() = Some(Teardown { before, pids: Vec::new(), dir: None, journal });
    crate::support::process::on_interrupt(Box::new(teardown));
    let claim = Claim(());
    ip(&["link", "add", BRIDGE, "address", BRIDGE_MAC, "type", "bridge"])?;
    ip(&["addr", "add", &format!("{GATEWAY}/24"), "dev", BRIDGE])?;
    ip(&["link", "set", BRIDGE, "up"])?;
    // kube-proxy's DNAT comes first, so only packets to a Service it has not programmed yet meet this
    // rule: they are refused at once (the client tries again) instead of leaving by the default route.
    // For pods only: the host's own connections to a Service must still reach kube-proxy's rules.
    ip(&["rule", "add", "iif", BRIDGE, "to", SERVICE_CIDR, "unreachable", "pref", SERVICE_RULE_PREF])?;
    Ok(claim)
}

fn ip(args: &[&str]) -> Result<()> {
    crate::support::process::checked(Command::new("ip").args(args), &format!("ip {}", args.join(" "))).map(drop)
}

/// Stops every node process, then puts the host back as the claim found it; prints what it could not undo.
pub fn teardown() {
    let Some(t) = TEARDOWN.lock().ok().and_then(|mut t| t.take()) else { return };
    for pid in &t.pids {
        // SAFETY: kill(2) on processes this one started.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGTERM) };
    }
    std::thread::sleep(Duration::from_millis(500));
    for pid in &t.pids {
        // SAFETY: as above; a process already gone makes this a no-op. Then reaped: a killed child
        // stays in the process table (as a zombie) until its parent waits for it.
        unsafe {
            libc::kill(*pid as libc::pid_t, libc::SIGKILL);
            libc::waitpid(*pid as libc::pid_t, std::ptr::null_mut(), 0);
        }
    }
    let mut failed = t.before.restore(std::process::id());
    if let Some(dir) = &t.dir {
        if let Err(e) = std::fs::remove_dir_all(dir) {
            failed.push(format!("removing {}: {e}", dir.display()));
        }
    }
    if failed.is_empty() {
        t.journal.close();
    }
    // Else the record stays, and the next node retries what could not be undone here.
    for f in failed {
        eprintln!("node teardown: could not undo: {f}");
    }
}

/// A running node; stopping it (drop) undoes everything [`claim_host`] recorded.
pub struct Node {
    components: Components,
    _provisioner: storage::Provisioner,
    _claim: Claim,
}

/// Files of a node: its folder and the control plane's credentials.
struct Layout {
    dir: PathBuf,
    plane: PathBuf,
    server: String,
    member: &'static Member,
}

impl Layout {
    fn new(plane: &ControlPlane, member: &'static Member) -> Result<Layout> {
        let folder = if member.tainted { "node-2" } else { "node" };
        let layout = Layout {
            dir: plane.dir.path().join(folder),
            plane: plane.dir.path().to_path_buf(),
            server: plane.cluster.server.clone(),
            member,
        };
        std::fs::create_dir_all(&layout.dir)?;
        Ok(layout)
    }

    fn at(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn plane(&self, name: &str) -> String {
        self.plane.join(name).display().to_string()
    }

    fn socket(&self) -> String {
        self.at("containerd/containerd.sock").display().to_string()
    }

    fn ctr(&self) -> Vec<String> {
        vec!["ctr".into(), "--address".into(), self.socket(), "--namespace".into(), "k8s.io".into()]
    }
}

/// A node labelled with this (value `unenforced`) runs no NetworkPolicy enforcer: scenarios that need
/// one are skipped, by name, instead of failing for want of it.
pub const UNENFORCED_LABEL: &str = "heimdall-chart-e2e/network-policies";

impl Node {
    /// Starts containerd (and imports the images), the kubelet, kube-proxy, kube-controller-manager,
    /// kube-scheduler, kube-router's NetworkPolicy firewall, CoreDNS and the volume provisioner; returns
    /// once the node is Ready, the firewall's chains exist and DNS answers. Without `enforce`, no firewall:
    /// the node is labelled [`UNENFORCED_LABEL`]`=unenforced` instead. With `second`, [`SECOND`] joins
    /// too (its containerd importing beside the first's), and is Ready on return.
    pub fn start(claim: Claim, plane: &ControlPlane, images: &Images, enforce: bool, second: bool, say: &dyn Fn(String)) -> Result<Node> {
        let layout = Layout::new(plane, &FIRST)?;
        if let Some(t) = TEARDOWN.lock().unwrap().as_mut() {
            t.dir = Some(layout.dir.clone());
        }
        let second = second.then(|| Layout::new(plane, &SECOND)).transpose()?;
        let layouts: Vec<&Layout> = std::iter::once(&layout).chain(second.as_ref()).collect();
        layouts.iter().try_for_each(|l| write_credentials(l))?;
        let mut node = Node { components: Components::new(&layout.dir), _provisioner: start_provisioner(&layout), _claim: claim };
        grant_node_rights(&plane.cluster)?;
        let registry = node.start_registry(&layout, images, say)?;
        node.start_runtimes(&layouts, &registry, images, say)?;
        registry.advertise(&plane.cluster)?;
        node.start_components(&layout)?;
        plane.cluster.create("/apis/storage.k8s.io/v1/storageclasses", &storage::storage_class())?;
        node.wait_ready(&plane.cluster, &layout)?;
        match enforce {
            true => node.start_firewall(&layout)?,
            false => label_unenforced(&plane.cluster)?,
        }
        if let Some(second) = &second {
            node.join_second(&plane.cluster, second)?;
        }
        Ok(node)
    }

    /// [`SECOND`]'s kubelet, in a cgroup tree of its own, registered with the [`DRAINABLE`] taint; waits
    /// until it is Ready.
    fn join_second(&mut self, cluster: &Cluster, layout: &Layout) -> Result<()> {
        make_cgroup_root(SECOND.cgroup_root)?;
        self.start_kubelet(layout)?;
        self.wait_for(SECOND.processes.1, "the second node being Ready", &|| node_ready(cluster, SECOND.name))
    }

    /// The registry ([`registry`]), serving the chart's images once they are pushed.
    fn start_registry(&mut self, layout: &Layout, images: &Images, say: &dyn Fn(String)) -> Result<registry::Registry> {
        let registry = registry::Registry::configure(&layout.at("registry"))?;
        self.spawn("registry", &mut registry.command())?;
        registry.wait_ready(&|| self.components.log_tail("registry"))?;
        let t = Instant::now();
        images.pulled.iter().try_for_each(|image| registry.push(image))?;
        say(format!("registry {}: {} images pushed in {:.1}s", registry.address, images.pulled.len(), t.elapsed().as_secs_f64()));
        Ok(registry)
    }

    /// Each member's containerd, resolving registries through ours, the sandbox image imported into all at once.
    fn start_runtimes(&mut self, layouts: &[&Layout], registry: &registry::Registry, images: &Images, say: &dyn Fn(String)) -> Result<()> {
        for layout in layouts {
            registry.write_hosts(&layout.at("containerd/hosts"))?;
            let config = write_containerd_config(layout)?;
            self.spawn(layout.member.processes.0, Command::new("containerd").arg("--config").arg(config))?;
        }
        layouts.iter().try_for_each(|l| wait_for_containerd(l, &self.components))?;
        let t = Instant::now();
        std::thread::scope(|scope| {
            let imports: Vec<_> = layouts.iter().map(|l| scope.spawn(move || images::import(&images.sandbox, &l.ctr()))).collect();
            imports.into_iter().try_for_each(|i| i.join().unwrap_or_else(|_| Err(anyhow::anyhow!("an image import panicked"))))
        })?;
        let names: Vec<&str> = layouts.iter().map(|l| l.member.name).collect();
        say(format!("{}: the sandbox image imported in {:.1}s", names.join(" and "), t.elapsed().as_secs_f64()));
        Ok(())
    }

    fn start_kubelet(&mut self, layout: &Layout) -> Result<()> {
        let kubelet = write_kubelet_config(layout)?;
        let member = layout.member;
        let mut command = Command::new(controlplane::component("kubelet"));
        command
            .arg(format!("--config={}", kubelet.display()))
            .arg(format!("--kubeconfig={}", layout.at("kubelet.kubeconfig").display()))
            .arg(format!("--root-dir={}", layout.at("kubelet").display()))
            .args([&format!("--hostname-override={}", member.name), &format!("--node-ip={GATEWAY}"), "--v=1"])
            .arg(format!("--node-labels={}={}", DRAINABLE.0, DRAINABLE.1));
        self.spawn(member.processes.1, &mut command)
    }

    /// The first node's kubelet, and the components both nodes share.
    fn start_components(&mut self, layout: &Layout) -> Result<()> {
        self.start_kubelet(layout)?;
        self.spawn(
            "kube-proxy",
            Command::new(controlplane::component("kube-proxy")).arg(format!("--config={}", write_proxy_config(layout)?.display())),
        )?;
        let admin = layout.at("admin.kubeconfig").display().to_string();
        self.spawn(
            "kube-controller-manager",
            Command::new(controlplane::component("kube-controller-manager"))
                .args([format!("--kubeconfig={admin}"), "--leader-elect=false".into(), "--bind-address=127.0.0.1".into()])
                .arg(format!("--secure-port={}", free_port()?))
                .arg(format!("--service-account-private-key-file={}", layout.plane("sa.key")))
                .arg(format!("--root-ca-file={}", layout.plane("ca.crt")))
                .args([&format!("--service-cluster-ip-range={SERVICE_CIDR}"), "--cluster-name=heimdall-e2e", "--v=1"]),
        )?;
        self.spawn(
            "kube-scheduler",
            Command::new(controlplane::component("kube-scheduler"))
                .args([format!("--kubeconfig={admin}"), "--leader-elect=false".into(), "--bind-address=127.0.0.1".into()])
                .arg(format!("--secure-port={}", free_port()?)),
        )?;
        let corefile = write_corefile(layout)?;
        self.spawn("coredns", Command::new(build::coredns()?).arg("-conf").arg(corefile))
    }

    /// Starts kube-router's firewall (it needs the Node object the kubelet registers) and waits for its
    /// chains. NetworkPolicies become iptables chains and ipsets, which teardown's host restore removes
    /// with everything else.
    fn start_firewall(&mut self, layout: &Layout) -> Result<()> {
        let admin = layout.at("admin.kubeconfig").display().to_string();
        self.spawn(
            "kube-router",
            Command::new(build::kube_router())
                .args([format!("--kubeconfig={admin}"), format!("--hostname-override={NODE_NAME}")])
                .args(["--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--enable-cni=false"])
                .args(["--health-port=0", "--metrics-port=0", "--v=1"])
                .arg(format!("--service-cluster-ip-range={SERVICE_CIDR}")),
        )?;
        self.wait_for("kube-router", "kube-router's firewall chain KUBE-ROUTER-FORWARD", &firewall_ready)
    }

    /// Starts a component (see [`Components`]) that teardown also stops.
    fn spawn(&mut self, name: &'static str, cmd: &mut Command) -> Result<()> {
        let pid = self.components.spawn(name, cmd)?;
        if let Some(t) = TEARDOWN.lock().unwrap().as_mut() {
            t.pids.push(pid);
        }
        Ok(())
    }

    /// The first component that has exited, with its status and log.
    pub fn exited(&mut self) -> Option<String> {
        self.components.exited()
    }

    /// Waits for the node to be Ready, CoreDNS to have synced, and the controllers to run
    /// (the `default` ServiceAccount exists); on timeout, says which and shows that component's log.
    fn wait_ready(&mut self, cluster: &Cluster, layout: &Layout) -> Result<()> {
        type Ready<'a> = &'a dyn Fn() -> Result<bool>;
        let steps: [(&str, &str, Ready); 3] = [
            ("kubelet", "the node being Ready", &|| node_ready(cluster, NODE_NAME)),
            ("kube-controller-manager", "the default ServiceAccount", &|| {
                Ok(cluster.get("/api/v1/namespaces/default/serviceaccounts/default")?.is_some())
            }),
            ("coredns", "CoreDNS being ready", &|| coredns_ready(layout)),
        ];
        for (component, what, ready) in steps {
            self.wait_for(component, what, ready)?;
        }
        Ok(())
    }

    /// Waits up to 3 minutes for `ready`; fails early if a component exits, or at the end with
    /// `component`'s log.
    fn wait_for(&mut self, component: &str, what: &str, ready: &dyn Fn() -> Result<bool>) -> Result<()> {
        let limit = Duration::from_secs(180);
        poll(limit, Duration::from_millis(500), what, |up| {
            if let Some(why) = self.exited() {
                bail!("while waiting for {what}, {why}");
            }
            if ready()? {
                return Ok(Some(()));
            }
            ensure!(
                !up,
                "{what} did not happen within {} s; {component}'s log ends:\n{}",
                limit.as_secs(),
                self.components.log_tail(component)
            );
            Ok(None)
        })
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        teardown();
        self.components.stop();
    }
}

/// The kubelet refuses a cgroup root that does not exist: made in every hierarchy, a cpuset given its
/// parent's CPUs and memory nodes (a v1 cpuset admits no process without them). The host restore
/// removes it with the other new cgroups.
fn make_cgroup_root(root: &str) -> Result<()> {
    let name = root.trim_start_matches('/');
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").context("reading /sys/fs/cgroup")?.flatten() {
        if hierarchy.path().is_symlink() || !hierarchy.path().join("cgroup.procs").exists() {
            continue;
        }
        let dir = hierarchy.path().join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating cgroup {}", dir.display()))?;
        for inherited in ["cpuset.cpus", "cpuset.mems"] {
            if let Ok(value) = std::fs::read_to_string(hierarchy.path().join(inherited)) {
                std::fs::write(dir.join(inherited), value.trim()).with_context(|| format!("writing {}/{inherited}", dir.display()))?;
            }
        }
    }
    Ok(())
}

fn start_provisioner(layout: &Layout) -> storage::Provisioner {
    storage::Provisioner::start(
        layout.at("admin.kubeconfig"),
        "node".into(),
        layout.at("volumes"),
        NODE_NAME.into(),
        layout.at("provisioner.log"),
    )
}

/// Declares that this node enforces no NetworkPolicy, so the suite runs scenario o and skips k.
fn label_unenforced(cluster: &Cluster) -> Result<()> {
    let patch = serde_json::json!({"metadata": {"labels": {UNENFORCED_LABEL: "unenforced"}}});
    let node = cluster.request_typed(
        "PATCH",
        &format!("/api/v1/nodes/{NODE_NAME}"),
        Some(("application/merge-patch+json", &patch.to_string())),
    )?;
    ensure!(node["kind"] == "Node", "labelling node {NODE_NAME} unenforced failed: {}", node["message"]);
    Ok(())
}

/// kube-router has set up its NetworkPolicy chains (it does so once it has synced with the API server).
fn firewall_ready() -> Result<bool> {
    let out =
        crate::support::process::output(Command::new("iptables").args(["-w", "-t", "filter", "-S", "KUBE-ROUTER-FORWARD"]), "iptables")?;
    Ok(out.status.success())
}

fn node_ready(cluster: &Cluster, name: &str) -> Result<bool> {
    let node = cluster.get(&format!("/api/v1/nodes/{name}"))?;
    Ok(node
        .is_some_and(|n| n["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True")))
}

fn coredns_ready(layout: &Layout) -> Result<bool> {
    let port = std::fs::read_to_string(layout.at("coredns-ready-port"))?;
    let mut curl = Command::new("curl");
    curl.args(["-s", "-o", "/dev/null", "-w", "%{http_code}"]).arg(format!("http://127.0.0.1:{}/ready", port.trim()));
    let out = crate::support::process::output(&mut curl, "curl")?;
    Ok(String::from_utf8_lossy(&out.stdout) == "200")
}

/// The kubelet's identity (system:node:NAME in system:nodes), its serving certificate for the bridge
/// address, and kubeconfigs for the kubelet and for the components that act as cluster admins.
fn write_credentials(layout: &Layout) -> Result<()> {
    let (plane, name) = (&layout.plane, layout.member.name);
    controlplane::signed_by_ca(plane, &format!("{name}-client"), &format!("/O=system:nodes/CN=system:node:{name}"), &[])?;
    let extensions = format!("{name}-san.ext");
    std::fs::write(plane.join(&extensions), format!("subjectAltName=IP:{GATEWAY},DNS:{name}\n"))?;
    controlplane::signed_by_ca(plane, &format!("{name}-serving"), &format!("/CN={name}"), &["-extfile", &extensions])?;
    write_kubeconfig(layout, "kubelet.kubeconfig", &format!("{name}-client"))?;
    write_kubeconfig(layout, "admin.kubeconfig", "admin")
}

fn write_kubeconfig(layout: &Layout, file: &str, user: &str) -> Result<()> {
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: node\nclusters:\n- name: node\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: {user}\n  user:\n    client-certificate: {}\n    client-key: {}\ncontexts:\n- name: node\n  context: {{cluster: node, user: {user}}}\n",
        layout.server,
        layout.plane("ca.crt"),
        layout.plane(&format!("{user}.crt")),
        layout.plane(&format!("{user}.key")),
    );
    Ok(std::fs::write(layout.at(file), text)?)
}

/// The plane authorises with RBAC only: nodes get the `system:node` role, as the Node authorizer would grant.
fn grant_node_rights(cluster: &Cluster) -> Result<()> {
    cluster.create(
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "heimdall-e2e:nodes"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:nodes"}]}),
    )?;
    Ok(())
}

/// containerd with its root, state and sockets in the node's folder, the CRI on the sandbox image built
/// here, registries resolved as [`registry::Registry::write_hosts`] says, CNI from Debian's plugins with
/// our bridge, and `restrict_oom_score_adj` (this machine's root lacks CAP_SYS_RESOURCE, and the first
/// sandbox fails without it).
fn write_containerd_config(layout: &Layout) -> Result<PathBuf> {
    let c = layout.at("containerd");
    let net = layout.at("cni/net.d");
    std::fs::create_dir_all(&net)?;
    std::fs::write(net.join("10-heimdall-e2e.conflist"), cni_config(&layout.at("cni/ipam"), layout.member))?;
    let text = format!(
        r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{c}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{net}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{hosts}"
"#,
        root = c.join("root").display(),
        state = c.join("state").display(),
        sock = layout.socket(),
        c = c.display(),
        pause = images::pause().reference,
        net = net.display(),
        hosts = c.join("hosts").display(),
    );
    let path = layout.at("containerd.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// The pod network: our bridge, addresses from the member's half of the pod range, routes to the pod
/// and Service ranges only (no default route), nothing masqueraded.
fn cni_config(ipam_dir: &Path, member: &Member) -> String {
    json!({"cniVersion": "0.4.0", "name": "heimdall-e2e", "plugins": [{
        "type": "bridge", "bridge": BRIDGE, "isGateway": true, "isDefaultGateway": false, "ipMasq": false, "hairpinMode": true,
        "ipam": {"type": "host-local", "dataDir": ipam_dir.display().to_string(),
            "ranges": [[{"subnet": POD_CIDR, "gateway": GATEWAY, "rangeStart": member.addresses.0, "rangeEnd": member.addresses.1}]],
            "routes": [{"dst": SERVICE_CIDR, "gw": GATEWAY}]}}]})
    .to_string()
}

fn wait_for_containerd(layout: &Layout, components: &Components) -> Result<()> {
    let ctr = layout.ctr();
    poll(Duration::from_secs(60), Duration::from_millis(300), "containerd answering on its socket", |up| {
        let ok = crate::support::process::output(Command::new(&ctr[0]).args(&ctr[1..]).arg("version"), "ctr version")
            .is_ok_and(|o| o.status.success());
        ensure!(ok || !up, "containerd did not answer within 60 s:\n{}", components.log_tail("containerd"));
        Ok(ok.then_some(()))
    })
}

/// The kubelet on cgroup v1 (this machine's), listening on the bridge address only, authenticating
/// clients by the plane's CA and authorising through the API server; pod logs and volumes in its folder.
fn write_kubelet_config(layout: &Layout) -> Result<PathBuf> {
    std::fs::write(layout.at("resolv.conf"), "")?;
    let text = format!(
        r#"apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://{sock}
address: {GATEWAY}
port: {port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: {healthz}
authentication:
  anonymous: {{enabled: false}}
  webhook: {{enabled: true}}
  x509: {{clientCAFile: {ca}}}
authorization: {{mode: Webhook}}
tlsCertFile: {crt}
tlsPrivateKeyFile: {key}
clusterDNS: [{GATEWAY}]
clusterDomain: cluster.local
resolvConf: {resolv}
podCIDR: {pod_cidr}
cgroupRoot: {cgroup_root}
podLogsDir: {logs}
volumePluginDir: {plugins}
failSwapOn: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {{memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}}
{taints}"#,
        sock = layout.socket(),
        port = free_port()?,
        healthz = free_port()?,
        ca = layout.plane("ca.crt"),
        crt = layout.plane(&format!("{}-serving.crt", layout.member.name)),
        key = layout.plane(&format!("{}-serving.key", layout.member.name)),
        resolv = layout.at("resolv.conf").display(),
        logs = layout.at("pod-logs").display(),
        plugins = layout.at("volume-plugins").display(),
        pod_cidr = layout.member.pod_cidr,
        cgroup_root = layout.member.cgroup_root,
        taints = match layout.member.tainted {
            true => format!("registerWithTaints: [{{key: {}, value: {}, effect: NoSchedule}}]\n", DRAINABLE.0, DRAINABLE.1),
            false => String::new(),
        },
    );
    let path = layout.at("kubelet.yaml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// kube-proxy in iptables mode, NodePorts on the bridge address only, and no conntrack or localhost
/// sysctl of the host touched.
fn write_proxy_config(layout: &Layout) -> Result<PathBuf> {
    let text = format!(
        r#"apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: {kubeconfig}
mode: iptables
clusterCIDR: {POD_CIDR}
hostnameOverride: {NODE_NAME}
healthzBindAddress: 127.0.0.1:{healthz}
metricsBindAddress: 127.0.0.1:{metrics}
nodePortAddresses: ["{GATEWAY}/32"]
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
"#,
        kubeconfig = layout.at("admin.kubeconfig").display(),
        healthz = free_port()?,
        metrics = free_port()?,
    );
    let path = layout.at("kube-proxy.yaml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// CoreDNS on the bridge address: cluster names only; nothing is forwarded off the machine.
fn write_corefile(layout: &Layout) -> Result<PathBuf> {
    let ready = free_port()?;
    std::fs::write(layout.at("coredns-ready-port"), ready.to_string())?;
    let text = format!(
        ".:53 {{\n    bind {GATEWAY}\n    ready 127.0.0.1:{ready}\n    errors\n    cache 30\n    loadbalance\n    kubernetes cluster.local in-addr.arpa ip6.arpa {{\n        kubeconfig {} node\n        pods insecure\n        fallthrough in-addr.arpa ip6.arpa\n    }}\n}}\n",
        layout.at("admin.kubeconfig").display()
    );
    let path = layout.at("Corefile");
    std::fs::write(&path, text)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_get_no_default_route_and_nothing_is_masqueraded() {
        let cni: serde_json::Value = serde_json::from_str(&cni_config(Path::new("/x/ipam"), &FIRST)).unwrap();
        let bridge = &cni["plugins"][0];
        assert_eq!(bridge["ipMasq"], false);
        assert_eq!(bridge["isDefaultGateway"], false);
        let routes: Vec<&str> = bridge["ipam"]["routes"].as_array().unwrap().iter().map(|r| r["dst"].as_str().unwrap()).collect();
        assert_eq!(routes, [SERVICE_CIDR], "pods reach the Service range through the node, and nothing else");
        assert_eq!(bridge["ipam"]["dataDir"], "/x/ipam", "IP allocations stay in the node's folder");
    }

    #[test]
    fn the_bridge_address_is_a_locally_administered_unicast_mac() {
        let octets: Vec<u8> = BRIDGE_MAC.split(':').map(|o| u8::from_str_radix(o, 16).unwrap()).collect();
        assert_eq!(octets.len(), 6);
        assert_eq!(octets[0] & 0b11, 0b10, "locally administered (bit 1) and unicast (bit 0 clear)");
    }
}
