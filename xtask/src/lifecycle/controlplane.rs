//! A real Kubernetes control plane for the lifecycle tests: etcd and kube-apiserver (and the node's components) built from their Go modules, certificates and a token made here, torn down on drop, on failure and when xtask dies.

use crate::support::cluster::{poll, Cluster};
use crate::support::process::{self, die_with_parent, free_port, random_hex};
use crate::support::tools::tools_dir;
use anyhow::{anyhow, bail, ensure, Context, Result};
use base64::Engine;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::Duration;

/// What an interrupt must stop: the running control plane's process ids and folder.
static RUNNING: Mutex<Option<(Vec<u32>, PathBuf)>> = Mutex::new(None);

/// Registers, once, the interrupt's last undo: kill the running control plane, if any, and delete
/// its folder (it holds the CA key and the admin's key) after what still needed the API server.
fn stop_on_interrupt() {
    static REGISTERED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if REGISTERED.set(()).is_err() {
        return;
    }
    process::on_interrupt_last(Box::new(|| {
        if let Some((pids, dir)) = RUNNING.lock().ok().and_then(|mut r| r.take()) {
            for pid in &pids {
                // SAFETY: kill(2) on a pid this process started.
                unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
            }
            for pid in pids {
                // SAFETY: waitpid(2) on a child of this process: etcd must be gone before its folder goes.
                unsafe { libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0) };
            }
            let _ = std::fs::remove_dir_all(dir);
            eprintln!("e2e: interrupted; control plane stopped and its folder removed");
        }
    }));
}

/// The pinned Kubernetes release whose kube-apiserver the e2e suite runs.
pub const KUBERNETES_VERSION: &str = "v1.36.3";
/// The etcd release Kubernetes 1.36 is built against.
pub const ETCD_VERSION: &str = "v3.6.8";

fn bin_dir() -> PathBuf {
    tools_dir().join("e2e").join(format!("kubernetes-{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}"))
}

/// The Kubernetes components built from `k8s.io/kubernetes`, in one `go build` (they share most
/// packages); kubectl runs the commands the chart's guides give.
pub const COMPONENTS: [&str; 6] = ["kube-apiserver", "kubelet", "kube-proxy", "kube-controller-manager", "kube-scheduler", "kubectl"];

/// Where one of [`COMPONENTS`] is built to.
pub fn component(name: &str) -> PathBuf {
    bin_dir().join(name)
}

pub fn kube_apiserver() -> PathBuf {
    component("kube-apiserver")
}

pub fn etcd() -> PathBuf {
    bin_dir().join("etcd")
}

/// What Kubernetes' own build stamps into its binaries (hack/lib/version.sh):
/// without it kube-apiserver reports v0.0.0-master and Helm's kubeVersion check fails.
fn kubernetes_ldflags() -> String {
    let minor = KUBERNETES_VERSION.split('.').nth(1).unwrap_or("0");
    let mut flags = String::from("-s -w");
    for pkg in ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"] {
        flags.push_str(&format!(
            " -X {pkg}.gitVersion={KUBERNETES_VERSION} -X {pkg}.gitMajor=1 -X {pkg}.gitMinor={minor} -X {pkg}.gitTreeState=clean"
        ));
    }
    flags
}

fn stamp() -> String {
    format!("{} {KUBERNETES_VERSION} {}\netcd {ETCD_VERSION}\n", COMPONENTS.join(","), kubernetes_ldflags())
}

fn go(args: &[&str], dir: &Path, what: &str) -> Result<()> {
    process::checked(Command::new("go").args(args).current_dir(dir).env("CGO_ENABLED", "0"), what)?;
    Ok(())
}

/// The modules k8s.io/kubernetes replaces with its staging folders; a
/// consumer must pin them to the matching published v0 versions.
fn staging_modules(kubernetes_go_mod: &str) -> Vec<String> {
    kubernetes_go_mod
        .lines()
        .filter(|l| l.contains("=> ./staging/"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// Builds the Kubernetes components and etcd into the tools folder's `e2e/` unless already there.
/// `go install pkg@version` refuses modules with replace directives, which
/// both have, so each is built from a small module of ours that requires it.
pub fn build(say: &dyn Fn(String)) -> Result<()> {
    let stamp_path = bin_dir().join("build-stamp");
    let fresh = std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp().as_str());
    if !fresh {
        // Built by another recipe: rebuild (Go's build cache makes a relink quick).
        COMPONENTS.iter().for_each(|c| drop(std::fs::remove_file(component(c))));
    }
    let all_built = || COMPONENTS.iter().all(|c| component(c).is_file());
    if fresh && all_built() && etcd().is_file() {
        say(format!("e2e: Kubernetes {KUBERNETES_VERSION} components and etcd {ETCD_VERSION} present in {}", bin_dir().display()));
        return Ok(());
    }
    let which_go = process::output(Command::new("go").arg("version"), "go version");
    if !which_go.is_ok_and(|o| o.status.success()) {
        bail!("the e2e suite builds kube-apiserver {KUBERNETES_VERSION} and etcd {ETCD_VERSION} from their Go modules, but Go is not installed: install Go {} or newer", crate::support::tools::GO_VERSION);
    }
    std::fs::create_dir_all(bin_dir())?;
    let build_root = tools_dir().join("e2e").join("build");
    if !all_built() {
        say(format!(
            "e2e: building {} {KUBERNETES_VERSION} from k8s.io/kubernetes (20 to 30 minutes on 2 cores the first time; Go's build cache makes it seconds after)",
            COMPONENTS.join(", ")
        ));
        build_kubernetes(&build_root.join("kubernetes"))?;
    }
    if !etcd().is_file() {
        say(format!("e2e: building etcd {ETCD_VERSION} from go.etcd.io/etcd/server/v3"));
        build_etcd(&build_root.join("etcd"))?;
    }
    std::fs::write(&stamp_path, stamp())?;
    Ok(())
}

/// A fresh module folder for one build.
fn fresh_dir(dir: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    Ok(())
}

/// The Kubernetes components from a module of ours that replaces k8s.io/kubernetes' staging modules by their
/// tagged versions (`go install` refuses the module's own replace directives), stamped with their version.
fn build_kubernetes(dir: &Path) -> Result<()> {
    fresh_dir(dir)?;
    let out = process::output(
        Command::new("go").args(["mod", "download", "-json"]).arg(format!("k8s.io/kubernetes@{KUBERNETES_VERSION}")).current_dir(dir),
        "go mod download",
    )?;
    let info: Json = serde_json::from_slice(&out.stdout)
        .map_err(|_| anyhow!("go mod download k8s.io/kubernetes failed: {}", String::from_utf8_lossy(&out.stderr)))?;
    let gomod = std::fs::read_to_string(info["GoMod"].as_str().context("no GoMod in go mod download output")?)?;
    let minor = KUBERNETES_VERSION.trim_start_matches("v1.");
    let mut text = format!(
        "module heimdall-chart/e2e-kubernetes\n\ngo {}.0\n\nrequire k8s.io/kubernetes {KUBERNETES_VERSION}\n\nreplace (\n",
        crate::support::tools::GO_VERSION
    );
    for m in staging_modules(&gomod) {
        text.push_str(&format!("\t{m} => {m} v0.{minor}\n"));
    }
    text.push_str(")\n");
    std::fs::write(dir.join("go.mod"), text)?;
    let packages: Vec<String> = COMPONENTS.iter().map(|c| format!("k8s.io/kubernetes/cmd/{c}")).collect();
    for package in &packages {
        go(&["get", &format!("{package}@{KUBERNETES_VERSION}")], dir, "resolving the Kubernetes components' modules")?;
    }
    let ldflags = kubernetes_ldflags();
    let out_dir = format!("{}/", bin_dir().display());
    let mut args = vec!["build", "-trimpath", "-ldflags", &ldflags, "-o", &out_dir];
    args.extend(packages.iter().map(String::as_str));
    go(&args, dir, "building the Kubernetes components")?;
    for name in COMPONENTS {
        let asked: &[&str] = if name == "kubectl" { &["version", "--client"] } else { &["--version"] };
        let version = process::output(Command::new(component(name)).args(asked), name)?;
        let said = String::from_utf8_lossy(&version.stdout);
        ensure!(said.contains(KUBERNETES_VERSION), "built {name} reports {said:?}, not {KUBERNETES_VERSION}");
    }
    Ok(())
}

fn build_etcd(dir: &Path) -> Result<()> {
    fresh_dir(dir)?;
    std::fs::write(
        dir.join("go.mod"),
        format!(
            "module heimdall-chart/e2e-etcd\n\ngo {}.0\n\nrequire go.etcd.io/etcd/server/v3 {ETCD_VERSION}\n",
            crate::support::tools::GO_VERSION
        ),
    )?;
    go(&["get", &format!("go.etcd.io/etcd/server/v3@{ETCD_VERSION}")], dir, "resolving etcd's modules")?;
    let out_path = etcd();
    go(&["build", "-trimpath", "-ldflags", "-s -w", "-o", out_path.to_str().unwrap(), "go.etcd.io/etcd/server/v3"], dir, "building etcd")
}

fn openssl(args: &[&str], dir: &Path) -> Result<()> {
    process::checked(Command::new("openssl").args(args).current_dir(dir), "openssl (apt-get install openssl)")?;
    Ok(())
}

/// A CA, a serving certificate for `address` (and the `kubernetes` Service, as pods reach it), a
/// service-account key pair and a cluster-admin client certificate.
fn make_credentials(dir: &Path, address: &str) -> Result<()> {
    let ca = ["-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=heimdall-e2e-ca"];
    openssl(&[&["req", "-x509", "-newkey", "rsa:2048", "-nodes"][..], &ca].concat(), dir)?;
    std::fs::write(
        dir.join("san.ext"),
        format!("subjectAltName=IP:{address},IP:{KUBERNETES_SERVICE_IP},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n"),
    )?;
    signed_by_ca(dir, "apiserver", "/CN=kube-apiserver", &["-extfile", "san.ext"])?;
    openssl(&["genrsa", "-out", "sa.key", "2048"], dir)?;
    openssl(&["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir)?;
    // The suite's user, as kind's kubeconfig has one: a client certificate in group system:masters.
    signed_by_ca(dir, "admin", "/O=system:masters/CN=heimdall-e2e-admin", &[])?;
    // A second user with no rights, whose token only an exec plugin hands out (as EKS, GKE, AKS do).
    let token = random_hex(24)?;
    std::fs::write(dir.join("exec-token"), &token)?;
    std::fs::write(dir.join("tokens.csv"), format!("{token},{EXEC_USER},2\n"))?;
    Ok(())
}

/// The user the exec-plugin context authenticates as.
pub const EXEC_USER: &str = "heimdall-e2e-exec";
/// A context whose user gets its token from an exec plugin: proves the client's exec path on a live server.
pub const EXEC_CONTEXT: &str = "heimdall-e2e-exec";

/// The Service range, and the `kubernetes` Service's address in it (the range's first).
pub const SERVICE_CIDR: &str = "10.96.0.0/16";
pub const KUBERNETES_SERVICE_IP: &str = "10.96.0.1";

/// `<name>.key` and `<name>.crt` for `subject`, signed by the CA in `dir`, valid for a day.
pub fn signed_by_ca(dir: &Path, name: &str, subject: &str, extra: &[&str]) -> Result<()> {
    let (key, csr, crt) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"));
    openssl(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", subject], dir)?;
    let sign = ["x509", "-req", "-in", &csr, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", &crt, "-days", "1"];
    openssl(&[&sign[..], extra].concat(), dir)
}

/// The context the suite's kubeconfig names for this control plane.
pub const CONTEXT: &str = "heimdall-e2e";

/// A kubeconfig like kind writes (everything embedded), whose current context is deliberately another,
/// unreachable cluster: a run that ignored `--context` would fail instead of passing by luck.
fn write_kubeconfig(dir: &Path, server: &str) -> Result<PathBuf> {
    let data = |name: &str| -> Result<String> { Ok(base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join(name))?)) };
    let plugin = format!(
        r#"printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"%s"}}}}' "$(cat {})""#,
        dir.join("exec-token").display()
    );
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: not-this-cluster\nclusters:\n- name: {CONTEXT}\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\n- name: unreachable\n  cluster:\n    server: https://127.0.0.1:9\nusers:\n- name: {CONTEXT}-admin\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n- name: {EXEC_USER}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [-c, {}]\n      interactiveMode: Never\ncontexts:\n- name: {CONTEXT}\n  context: {{cluster: {CONTEXT}, user: {CONTEXT}-admin}}\n- name: {EXEC_CONTEXT}\n  context: {{cluster: {CONTEXT}, user: {EXEC_USER}}}\n- name: not-this-cluster\n  context: {{cluster: unreachable, user: {CONTEXT}-admin}}\n",
        data("ca.crt")?,
        data("admin.crt")?,
        data("admin.key")?,
        serde_json::to_string(&plugin)?
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Fails with what runs instead, unless this is Linux: the control plane, the node and the pod
/// mutants rely on Linux (parent-death signals, mounts, cgroups, iptables).
pub fn linux_only(what: &str) -> Result<()> {
    anyhow::ensure!(
        cfg!(target_os = "linux"),
        "{what} needs Linux (its cluster relies on parent-death signals, mounts, cgroups and iptables); on this system, test-chart, renderer-check, mutants, docs and package run, and `cargo xtask e2e --kubeconfig` runs the suite against a cluster of yours"
    );
    Ok(())
}

/// Processes that each log to `<dir>/<name>.log` and die with xtask (the control plane's, the node's).
pub struct Components {
    dir: PathBuf,
    children: Vec<(&'static str, Child)>,
}

impl Components {
    pub fn new(dir: &Path) -> Components {
        Components { dir: dir.to_path_buf(), children: Vec::new() }
    }

    /// Starts `name`; its process id.
    pub fn spawn(&mut self, name: &'static str, cmd: &mut Command) -> Result<u32> {
        let log = std::fs::File::create(self.dir.join(format!("{name}.log")))?;
        let child =
            die_with_parent(cmd.stdout(log.try_clone()?).stderr(log), libc::SIGKILL).spawn().with_context(|| format!("starting {name}"))?;
        let pid = child.id();
        self.children.push((name, child));
        Ok(pid)
    }

    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().map(|(_, c)| c.id()).collect()
    }

    /// The last lines of a component's log, for error messages.
    pub fn log_tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.dir.join(format!("{name}.log"))).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }

    /// The first component that has exited, with its status and log: a serving loop watches for this.
    pub fn exited(&mut self) -> Option<String> {
        let (name, status) = self.children.iter_mut().find_map(|(name, child)| Some((*name, child.try_wait().ok()??)))?;
        Some(format!("{name} exited ({status}):\n{}", self.log_tail(name)))
    }

    /// Kills them, last started first, and reaps them.
    pub fn stop(&mut self) {
        for (_, child) in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.children.clear();
    }
}

/// etcd and kube-apiserver running on loopback, and how to reach them.
pub struct ControlPlane {
    components: Components,
    pub dir: crate::support::scratch::Folder,
    pub kubeconfig: PathBuf,
    /// The control plane as any client sees it: through its kubeconfig.
    pub cluster: Cluster,
}

impl ControlPlane {
    /// Starts etcd (on loopback) and kube-apiserver listening on `address` only: 127.0.0.1 without a
    /// node; with one, the node's bridge address, which pods reach through the `kubernetes` Service.
    pub fn start(address: &str) -> Result<ControlPlane> {
        let dir = crate::support::scratch::folder("xtask-e2e-")?;
        make_credentials(dir.path(), address)?;
        let (etcd_client, etcd_peer, api_port) = (free_port()?, free_port()?, free_port()?);
        let mut components = Components::new(dir.path());
        components.spawn(
            "etcd",
            Command::new(etcd())
                .arg("--data-dir")
                .arg(dir.path().join("etcd-data"))
                .arg(format!("--listen-client-urls=http://127.0.0.1:{etcd_client}"))
                .arg(format!("--advertise-client-urls=http://127.0.0.1:{etcd_client}"))
                .arg(format!("--listen-peer-urls=http://127.0.0.1:{etcd_peer}"))
                .arg(format!("--initial-advertise-peer-urls=http://127.0.0.1:{etcd_peer}"))
                .arg(format!("--initial-cluster=default=http://127.0.0.1:{etcd_peer}"))
                .args(["--log-level=warn", "--quota-backend-bytes=1073741824"]),
        )?;
        let d = dir.path().display().to_string();
        components.spawn(
            "kube-apiserver",
            Command::new(kube_apiserver())
                .arg(format!("--etcd-servers=http://127.0.0.1:{etcd_client}"))
                .arg(format!("--secure-port={api_port}"))
                .arg(format!("--bind-address={address}"))
                .arg(format!("--advertise-address={address}"))
                // The node's kubelet serves logs and exec on its InternalIP, with a certificate of this CA.
                .args(["--kubelet-preferred-address-types=InternalIP"])
                .arg(format!("--kubelet-certificate-authority={d}/ca.crt"))
                .arg(format!("--kubelet-client-certificate={d}/admin.crt"))
                .arg(format!("--kubelet-client-key={d}/admin.key"))
                .arg(format!("--cert-dir={d}/certs"))
                .arg(format!("--tls-cert-file={d}/apiserver.crt"))
                .arg(format!("--tls-private-key-file={d}/apiserver.key"))
                .arg(format!("--client-ca-file={d}/ca.crt"))
                .arg(format!("--token-auth-file={d}/tokens.csv"))
                .arg(format!("--service-account-key-file={d}/sa.pub"))
                .arg(format!("--service-account-signing-key-file={d}/sa.key"))
                .args(["--service-account-issuer=https://kubernetes.default.svc", "--authorization-mode=RBAC"])
                // Routed by the node's kube-proxy, on this machine only; without a node, only allocated.
                .arg(format!("--service-cluster-ip-range={SERVICE_CIDR}"))
                .args(["--allow-privileged=false", "--v=1"]),
        )?;
        let server = format!("https://{address}:{api_port}");
        let kubeconfig = write_kubeconfig(dir.path(), &server)?;
        let cluster = Cluster::from_kubeconfig(&kubeconfig, Some(CONTEXT))?;
        stop_on_interrupt();
        *RUNNING.lock().unwrap() = Some((components.pids(), dir.path().to_path_buf()));
        let mut plane = ControlPlane { components, dir, kubeconfig, cluster };
        plane.wait_ready(Duration::from_secs(120))?;
        Ok(plane)
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<()> {
        poll(limit, Duration::from_millis(500), "kube-apiserver ready", |up| {
            if let Some(why) = self.exited() {
                bail!("while starting, {why}");
            }
            if let Ok((200, body)) = self.cluster.request_text("GET", "/readyz", None) {
                if body.trim() == "ok" {
                    return Ok(Some(()));
                }
            }
            ensure!(!up, "kube-apiserver was not ready after {limit:?}:\n{}", self.log_tail("kube-apiserver"));
            Ok(None)
        })
    }

    /// The last lines of a component's log, for error messages.
    pub fn log_tail(&self, name: &str) -> String {
        self.components.log_tail(name)
    }

    /// The first component that has exited, with its status and log: a served control plane watches for this.
    pub fn exited(&mut self) -> Option<String> {
        self.components.exited()
    }

    pub fn stop(&mut self) {
        RUNNING.lock().unwrap().take();
        self.components.stop();
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_modules_are_read_from_the_replace_block() {
        let gomod = "module k8s.io/kubernetes\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/client-go => ./staging/src/k8s.io/client-go\n)\nrequire k8s.io/klog/v2 v2.1.0\n";
        assert_eq!(staging_modules(gomod), ["k8s.io/api", "k8s.io/client-go"]);
    }
}
