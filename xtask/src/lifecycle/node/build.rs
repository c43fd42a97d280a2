//! The node's programs that are not Kubernetes components: CoreDNS (our own `main` over its Go module, with only the plugins the node needs), kube-router (its NetworkPolicy firewall, from its Go module) and the sandbox ("pause") program, compiled from the C source in the `k8s.io/kubernetes` module.

use crate::lifecycle::controlplane::KUBERNETES_VERSION;
use crate::support::tools::{repo_root, tools_dir};
use anyhow::{ensure, Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The CoreDNS release `xtask/node/coredns/go.mod` requires.
pub const COREDNS_VERSION: &str = "v1.14.7";

fn coredns_source() -> PathBuf {
    repo_root().join("xtask").join("node").join("coredns")
}

/// Where CoreDNS is built to, keyed by the hash of its sources.
pub fn coredns() -> Result<PathBuf> {
    Ok(tools_dir().join("node").join(format!("coredns-{COREDNS_VERSION}-{}", &source_hash(&coredns_source())?[..16])).join("coredns"))
}

/// sha256 over the names and contents of a folder's files, sorted.
pub fn source_hash(dir: &Path) -> Result<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.sort();
    let mut hash = Sha256::new();
    for path in files.iter().filter(|p| p.is_file()) {
        hash.update(path.file_name().unwrap().to_string_lossy().as_bytes());
        hash.update(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    }
    Ok(format!("{:x}", hash.finalize()))
}

/// Builds CoreDNS unless a build of the same sources is there.
pub fn build_coredns(say: &dyn Fn(String)) -> Result<PathBuf> {
    let bin = coredns()?;
    if bin.is_file() {
        return Ok(bin);
    }
    let go_mod = std::fs::read_to_string(coredns_source().join("go.mod"))?;
    ensure!(
        go_mod.contains(&format!("github.com/coredns/coredns {COREDNS_VERSION}")),
        "{} does not require CoreDNS {COREDNS_VERSION}: set that version there (then `go mod tidy`)",
        coredns_source().join("go.mod").display()
    );
    say(format!("node: building CoreDNS {COREDNS_VERSION} from github.com/coredns/coredns (a few minutes the first time)"));
    let mut go = Command::new("go");
    go.args(["build", "-trimpath", "-ldflags", "-s -w", "-o"]).arg(&bin).arg(".").current_dir(coredns_source()).env("CGO_ENABLED", "0");
    crate::support::process::checked(&mut go, &format!("go build of {} (is Go installed?)", coredns_source().display()))?;
    Ok(bin)
}

/// The kube-router release the node enforces NetworkPolicies with: the only one the Go module proxy
/// serves here. Security advisories name this release; it runs only on the suite's own node, for
/// pods the suite made, reached from nowhere but the machine (its health and metrics ports are off).
pub const KUBE_ROUTER_VERSION: &str = "v2.1.0";
const KUBE_ROUTER: &str = "github.com/cloudnativelabs/kube-router/v2";

/// Where kube-router is built to.
pub fn kube_router() -> PathBuf {
    tools_dir().join("node").join(format!("kube-router-{KUBE_ROUTER_VERSION}")).join("kube-router")
}

/// Builds kube-router from its module (`go install` of `cmd/kube-router` at the pinned version, the
/// version stamped by ldflags) unless it is there.
pub fn build_kube_router(say: &dyn Fn(String)) -> Result<PathBuf> {
    let bin = kube_router();
    if bin.is_file() {
        return Ok(bin);
    }
    say(format!("node: building kube-router {KUBE_ROUTER_VERSION} from {KUBE_ROUTER} (about 2 minutes the first time)"));
    let mut go = Command::new("go");
    go.args(["install", "-trimpath", "-ldflags"])
        .arg(format!("-s -w -X {KUBE_ROUTER}/pkg/version.Version={KUBE_ROUTER_VERSION}"))
        .arg(format!("{KUBE_ROUTER}/cmd/kube-router@{KUBE_ROUTER_VERSION}"))
        .current_dir(std::env::temp_dir())
        .env("GOBIN", bin.parent().unwrap())
        .env("CGO_ENABLED", "0");
    crate::support::process::checked(
        &mut go,
        &format!("go install {KUBE_ROUTER}/cmd/kube-router@{KUBE_ROUTER_VERSION} (is Go installed?)"),
    )?;
    Ok(bin)
}

/// The sandbox program every pod's network namespace hangs on: `build/pause/linux/pause.c` of
/// `k8s.io/kubernetes` at the pinned version, compiled statically with the machine's gcc.
pub fn build_pause(dir: &Path) -> Result<PathBuf> {
    let mut go = Command::new("go");
    go.args(["mod", "download", "-json"]).arg(format!("k8s.io/kubernetes@{KUBERNETES_VERSION}")).current_dir(std::env::temp_dir());
    let out = crate::support::process::output(&mut go, "go mod download")?;
    let info: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("go mod download k8s.io/kubernetes printed no JSON: {}", String::from_utf8_lossy(&out.stderr)))?;
    let module = info["Dir"].as_str().context("go mod download named no module folder")?;
    let source = Path::new(module).join("build/pause/linux/pause.c");
    let bin = dir.join("pause");
    let mut gcc = Command::new("gcc");
    gcc.args(["-Os", "-static", "-Wall", "-Werror"])
        .arg(format!("-DVERSION={KUBERNETES_VERSION}-heimdall-e2e"))
        .arg("-o")
        .arg(&bin)
        .arg(&source);
    crate::support::process::checked(
        &mut gcc,
        &format!("gcc {} (apt-get install gcc libc6-dev), for the pause program", source.display()),
    )?;
    Ok(bin)
}
