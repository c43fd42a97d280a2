//! Pinned external tools: installing Helm 3, Helm 4, the Kubernetes schemas, the CRDs and the Go-built tools (actionlint, sops, age, cosign, oras; the node's registry) into the tools folder ([`tools_dir`]), and finding them again.

use crate::support::process;
use anyhow::{bail, ensure, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

/// One pinned Helm release, built from its Go module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelmPin {
    pub major: HelmMajor,
    pub version: &'static str,
    pub module: &'static str,
    /// Extra `-X` flags Helm's own Makefile sets; `go install` alone leaves them out.
    pub extra_ldflags: &'static str,
}

/// The Helm versions every case renders under: one constant each, one place.
pub const HELM_PINS: [HelmPin; 2] = [
    HelmPin {
        major: HelmMajor::V3,
        version: "v3.21.4",
        module: "helm.sh/helm/v3",
        // Helm 3.21 is built against client-go v0.36, i.e. Kubernetes 1.36.
        extra_ldflags: "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=36",
    },
    HelmPin {
        major: HelmMajor::V4,
        version: "v4.2.4",
        module: "helm.sh/helm/v4",
        // Helm 4 reads its Kubernetes version from the build info.
        extra_ldflags: "",
    },
];

/// PyPI `kubernetes-validate`, which ships strict JSON schemas for Kubernetes 1.25 to 1.37.
pub const KUBERNETES_VALIDATE_VERSION: &str = "1.37.0";

/// The Go release every module built here needs: the `go` line of each go.mod (here and generated),
/// the workflows' setup-go and every "install Go" message say this one (a tidy test checks).
pub const GO_VERSION: &str = "1.26";

/// A kind the Kubernetes schemas lack, whose strict schema comes from a CRD manifest.
pub struct CrdSource {
    pub kind: &'static str,
    pub origin: CrdOrigin,
}

/// Where a CRD manifest comes from.
pub enum CrdOrigin {
    /// A file inside a pinned Go module, fetched through the Go module proxy by `setup`.
    GoModule {
        module: &'static str,
        version: &'static str,
        /// The CRD manifest's path inside the module.
        path: &'static str,
    },
    /// A file kept in this repository (its folder's SOURCE.md says where from), for a project
    /// whose module the proxy does not serve; `release` is the upstream release it was copied at.
    Kept { path: &'static str, project: &'static str, release: &'static str },
}

/// The NGINX Gateway Fabric release whose policy CRDs tests/fixtures/upstream/nginx-gateway-fabric keeps.
pub const NGF_CRD_VERSION: &str = "v2.6.7";

const fn go_crd(kind: &'static str, module: &'static str, version: &'static str, path: &'static str) -> CrdSource {
    CrdSource { kind, origin: CrdOrigin::GoModule { module, version, path } }
}

const fn ngf_crd(kind: &'static str, path: &'static str) -> CrdSource {
    CrdSource { kind, origin: CrdOrigin::Kept { path, project: "nginx/nginx-gateway-fabric", release: NGF_CRD_VERSION } }
}

/// The Gateway API version of the HTTPRoute and Gateway schemas.
pub const GATEWAY_API_VERSION: &str = "v1.4.1";

/// HTTPRoute and Gateway from the Gateway API (standard channel); OpenShift's Route from
/// `openshift/api`, whose route CRD manifest is the one MicroShift and HyperShift install (the
/// proxy serves that module only at exact pseudo-versions); the kinds the documented examples
/// release through extraObjects: External Secrets' ExternalSecret, Sealed Secrets' SealedSecret
/// and CloudNativePG's Cluster (each the newest release the module proxy serves here whole), and
/// NGINX Gateway Fabric's ClientSettingsPolicy and ProxySettingsPolicy (kept in `tests/`).
pub const CRDS: &[CrdSource] = &[
    go_crd("HTTPRoute", "sigs.k8s.io/gateway-api", GATEWAY_API_VERSION, "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml"),
    go_crd("Gateway", "sigs.k8s.io/gateway-api", GATEWAY_API_VERSION, "config/crd/standard/gateway.networking.k8s.io_gateways.yaml"),
    go_crd(
        "Route",
        "github.com/openshift/api",
        "v0.0.0-20260728120005-8ba0b25b0f29",
        "route/v1/zz_generated.crd-manifests/routes.crd.yaml",
    ),
    go_crd(
        "ExternalSecret",
        "github.com/external-secrets/external-secrets",
        "v0.16.2",
        "config/crds/bases/external-secrets.io_externalsecrets.yaml",
    ),
    go_crd("SealedSecret", "github.com/bitnami-labs/sealed-secrets", "v0.40.0", "helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml"),
    go_crd("Cluster", "github.com/cloudnative-pg/cloudnative-pg", "v1.27.1", "config/crd/bases/postgresql.cnpg.io_clusters.yaml"),
    ngf_crd("ClientSettingsPolicy", "tests/fixtures/upstream/nginx-gateway-fabric/crds/gateway.nginx.org_clientsettingspolicies.yaml"),
    ngf_crd("ProxySettingsPolicy", "tests/fixtures/upstream/nginx-gateway-fabric/crds/gateway.nginx.org_proxysettingspolicies.yaml"),
];

/// The repository root (the parent of `xtask/`).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().expect("xtask lives one level below the root").to_path_buf()
}

/// Where set-up puts what it builds and fetches: `$XTASK_TOOLS_DIR` (the tests use an empty one to
/// see what a fresh machine is told), else the user's cache, `$XDG_CACHE_HOME/chart-harness/tools`
/// or `~/.cache/chart-harness/tools`, else `.tools/` under the repository root (gitignored).
///
/// A user-wide cache, like Go's and cargo's: everything in it is keyed by its inputs (a version in
/// the path, a build stamp, a hash of the sources or of an image's recipe), so every clone of the
/// repository can share it, and a fresh clone on a warm machine builds nothing again.
pub fn tools_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("XTASK_TOOLS_DIR") {
        return dir;
    }
    match var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache"))) {
        Some(cache) => cache.join("chart-harness").join("tools"),
        None => repo_root().join(".tools"),
    }
}

impl HelmPin {
    pub fn binary(&self) -> PathBuf {
        tools_dir().join("helm").join(self.version).join("helm")
    }

    fn ldflags(&self) -> String {
        let mut flags = format!("-s -w -X {}/internal/version.version={}", self.module, self.version);
        if !self.extra_ldflags.is_empty() {
            flags.push(' ');
            flags.push_str(self.extra_ldflags);
        }
        flags
    }

    /// The stamp records how the binary was built, so a changed pin or flag rebuilds it.
    fn stamp(&self) -> String {
        format!("{}@{} {}\n", self.module, self.version, self.ldflags())
    }
}

/// A Helm binary found for one major version, and how it was found.
#[derive(Debug, Clone)]
pub struct Helm {
    pub major: HelmMajor,
    pub path: PathBuf,
    pub version: String,
    pub found_via: String,
}

impl Helm {
    pub fn label(&self) -> String {
        self.major.label()
    }
}

/// A major version of Helm the harness pins. Printed as its number (`Helm 4`), parsed from one
/// (`--helm-major 4`); ordered, so `major >= HelmMajor::V4` reads as it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum HelmMajor {
    #[value(name = "3")]
    V3,
    #[value(name = "4")]
    V4,
}

impl HelmMajor {
    /// Its number.
    pub fn number(self) -> u32 {
        match self {
            HelmMajor::V3 => 3,
            HelmMajor::V4 => 4,
        }
    }

    /// The row label of its renderings, `helm4`.
    pub fn label(self) -> String {
        format!("helm{}", self.number())
    }
}

impl std::fmt::Display for HelmMajor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.number())
    }
}

/// Asks a binary for its version string, e.g. "v3.21.4". Remembered per
/// binary (path, size and modification time) for the life of the process:
/// the mutation suite looks for its Helms once per mutant, and each answer
/// costs a Go program's start-up.
pub fn helm_version(path: &Path) -> Result<String> {
    type Known = Mutex<HashMap<(PathBuf, u64, Option<SystemTime>), String>>;
    static KNOWN: OnceLock<Known> = OnceLock::new();
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    if let Some(v) = KNOWN.get_or_init(Known::default).lock().unwrap().get(&key) {
        return Ok(v.clone());
    }
    let version = ask_version(path)?;
    KNOWN.get_or_init(Known::default).lock().unwrap().insert(key, version.clone());
    Ok(version)
}

fn ask_version(path: &Path) -> Result<String> {
    let asked =
        process::checked(Command::new(path).args(["version", "--template", "{{.Version}}"]), &format!("{} version", path.display()))?;
    Ok(asked.trim().to_string())
}

fn major_of(version: &str) -> Option<u32> {
    version.trim_start_matches('v').split('.').next()?.parse().ok()
}

/// Finds a Helm for each pinned major version: `--helm PATH`, `$HELM`, `.tools/`, then `PATH`.
pub fn find_helms(explicit: Option<&Path>) -> Result<Vec<Helm>> {
    let mut candidates: Vec<(PathBuf, String)> = Vec::new();
    if let Some(p) = explicit {
        candidates.push((p.to_path_buf(), "--helm".into()));
    }
    if let Some(p) = std::env::var_os("HELM").filter(|v| !v.is_empty()) {
        candidates.push((PathBuf::from(p), "$HELM".into()));
    }
    for pin in HELM_PINS {
        candidates.push((pin.binary(), "the tools folder".into()));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            candidates.push((dir.join("helm"), "PATH".into()));
        }
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for pin in HELM_PINS {
        let hit = candidates.iter().filter(|(p, _)| p.is_file()).find_map(|(p, via)| {
            let v = helm_version(p).ok()?;
            (major_of(&v) == Some(pin.major.number())).then(|| Helm {
                major: pin.major,
                path: p.clone(),
                version: v,
                found_via: via.clone(),
            })
        });
        match hit {
            Some(h) => found.push(h),
            None => missing.push(pin),
        }
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|p| format!("Helm {} ({})", p.major, p.version)).collect();
        bail!(
            "no {} found (looked at --helm, $HELM, {} and PATH). Run `cargo xtask setup` to build the pinned versions from their Go modules there",
            names.join(" or "),
            tools_dir().join("helm").display()
        );
    }
    Ok(found)
}

/// Where the strict schemas of one Kubernetes minor version live.
pub fn schema_dir(kube_version: &str) -> PathBuf {
    let minor = kube_version.split('.').take(2).collect::<Vec<_>>().join(".");
    kubernetes_validate_dir().join("kubernetes_validate").join("kubernetes-json-schema").join(format!("v{minor}.0-local-strict"))
}

fn kubernetes_validate_dir() -> PathBuf {
    tools_dir().join("kubernetes-validate").join(KUBERNETES_VALIDATE_VERSION)
}

impl CrdSource {
    /// Where the manifest is: where `setup` keeps a module's, or the repository's own copy.
    pub fn installed(&self) -> PathBuf {
        match self.origin {
            CrdOrigin::GoModule { module, version, path } => {
                let file = Path::new(path).file_name().expect("a CRD path names a file");
                tools_dir().join("crds").join(module.replace('/', "+")).join(version).join(file)
            }
            CrdOrigin::Kept { path, .. } => repo_root().join(path),
        }
    }

    /// Where it comes from, as a person would write it (`module@version`, `project release`).
    pub fn origin_label(&self) -> String {
        match self.origin {
            CrdOrigin::GoModule { module, version, .. } => format!("{module}@{version}"),
            CrdOrigin::Kept { project, release, .. } => format!("{project} {release}"),
        }
    }
}

fn have(cmd: &str) -> bool {
    let answers = |arg: &str| process::output(Command::new(cmd).arg(arg), cmd).is_ok_and(|o| o.status.success());
    answers("--version") || answers("version")
}

/// Installs what is missing; a second run with everything present only checks stamps.
pub fn setup(quiet: bool) -> Result<()> {
    let say = |msg: String| {
        if !quiet {
            eprintln!("{msg}");
        }
    };
    for pin in HELM_PINS {
        setup_helm(&pin, &say)?;
        setup_renderd(&pin, &say)?;
    }
    setup_kubernetes_schemas(&say)?;
    for tool in [ACTIONLINT, SOPS, AGE_KEYGEN, COSIGN, ORAS] {
        tool.setup(&say)?;
    }
    CRDS.iter().try_for_each(|crd| setup_crd(crd, &say))
}

/// The pinned actionlint release (github.com/rhysd/actionlint).
pub const ACTIONLINT_VERSION: &str = "v1.7.12";

/// The pinned sops release (github.com/getsops/sops), which the helm-secrets example's test
/// encrypts and decrypts with, as helm-secrets does.
pub const SOPS_VERSION: &str = "v3.13.3";

/// The pinned age release (filippo.io/age), whose keys that test's sops encrypts to.
pub const AGE_VERSION: &str = "v1.3.2";

/// A command-line tool built from its Go module by `go install` into `<tools folder>/<name>/<version>/`.
pub struct GoTool {
    pub name: &'static str,
    /// The Go package of the command, e.g. `github.com/rhysd/actionlint/cmd/actionlint`.
    pub package: &'static str,
    pub version: &'static str,
    /// The variable its release build stamps the version into with `-X` (None when the tool
    /// reads it from its own source or from the build info `go install` writes).
    pub version_variable: Option<&'static str>,
}

pub const ACTIONLINT: GoTool = GoTool {
    name: "actionlint",
    package: "github.com/rhysd/actionlint/cmd/actionlint",
    version: ACTIONLINT_VERSION,
    version_variable: Some("github.com/rhysd/actionlint.version"),
};

pub const SOPS: GoTool =
    GoTool { name: "sops", package: "github.com/getsops/sops/v3/cmd/sops", version: SOPS_VERSION, version_variable: None };

/// The pinned distribution release (github.com/distribution/distribution): the registry the e2e node
/// serves its images from, with credentials.
pub const REGISTRY_VERSION: &str = "v3.1.2";

pub const REGISTRY: GoTool = GoTool {
    name: "registry",
    package: "github.com/distribution/distribution/v3/cmd/registry",
    version: REGISTRY_VERSION,
    version_variable: Some("github.com/distribution/distribution/v3/version.version"),
};

/// The pinned cosign release (github.com/sigstore/cosign), which `cargo xtask release` signs and
/// verifies the pushed chart with.
pub const COSIGN_VERSION: &str = "v3.1.3";

pub const COSIGN: GoTool =
    GoTool { name: "cosign", package: "github.com/sigstore/cosign/v3/cmd/cosign", version: COSIGN_VERSION, version_variable: None };

/// The pinned oras release (oras.land/oras), which pushes Artifact Hub's repository metadata.
pub const ORAS_VERSION: &str = "v1.3.6";

pub const ORAS: GoTool = GoTool { name: "oras", package: "oras.land/oras/cmd/oras", version: ORAS_VERSION, version_variable: None };

pub const AGE_KEYGEN: GoTool =
    GoTool { name: "age-keygen", package: "filippo.io/age/cmd/age-keygen", version: AGE_VERSION, version_variable: None };

impl GoTool {
    pub fn binary(&self) -> PathBuf {
        tools_dir().join(self.name).join(self.version).join(self.name)
    }

    /// Installs the tool unless present: `go install package@version`, stripped, its version stamped in as its release build does.
    pub fn setup(&self, say: &dyn Fn(String)) -> Result<()> {
        let (bin, name, version) = (self.binary(), self.name, self.version);
        if bin.is_file() {
            say(format!("setup: {name} {version} present"));
            return Ok(());
        }
        say(format!("setup: building {name} {version} with go install"));
        let dir = bin.parent().unwrap();
        std::fs::create_dir_all(dir)?;
        let target = format!("{}@{version}", self.package);
        let stamp = self.version_variable.map(|v| format!(" -X {v}={version}")).unwrap_or_default();
        let mut go = Command::new("go");
        go.args(["install", "-ldflags", &format!("-s -w{stamp}"), &target]).env("GOBIN", dir);
        let out = process::output(&mut go, &format!("go install for {name} (install Go {GO_VERSION} or newer)"))?;
        if !out.status.success() {
            bail!("go install {target} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }
}

/// One pinned Helm, built by `go install` with its exact version stamped in.
fn setup_helm(pin: &HelmPin, say: &dyn Fn(String)) -> Result<()> {
    let bin = pin.binary();
    let stamp_path = bin.with_file_name("build-stamp");
    let fresh = bin.is_file() && std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(pin.stamp().as_str());
    if fresh {
        say(format!("setup: Helm {} present at {}", pin.version, bin.display()));
        return Ok(());
    }
    if !have("go") {
        bail!(
            "Helm {} is not in the tools folder and Go is not installed. Install Go {GO_VERSION} or newer (apt-get install golang, or https://go.dev/dl) and run `cargo xtask setup` again; or point $HELM / --helm at an existing Helm {} binary",
            pin.version,
            pin.major
        );
    }
    say(format!("setup: building Helm {} from {} with go install (a few minutes the first time)", pin.version, pin.module));
    let dir = bin.parent().unwrap();
    std::fs::create_dir_all(dir)?;
    process::checked(
        Command::new("go")
            .args(["install", "-trimpath", "-ldflags", &pin.ldflags()])
            .arg(format!("{}/cmd/helm@{}", pin.module, pin.version))
            .env("GOBIN", dir)
            .env("CGO_ENABLED", "0"),
        &format!("go install {}/cmd/helm@{}", pin.module, pin.version),
    )?;
    let got = helm_version(&bin)?;
    if got != pin.version {
        bail!("built {} but it reports version {got}, expected {}", bin.display(), pin.version);
    }
    std::fs::write(&stamp_path, pin.stamp())?;
    say(format!("setup: Helm {} ready", pin.version));
    Ok(())
}

impl HelmPin {
    /// The long-lived renderer built from this Helm's own pkg/action (see `xtask/renderd/`).
    pub fn renderd(&self) -> PathBuf {
        tools_dir().join("renderd").join(self.version).join(format!("helm{}-renderd", self.major))
    }

    fn renderd_source(&self) -> PathBuf {
        repo_root().join("xtask").join("renderd").join(format!("helm{}", self.major))
    }

    /// The renderer's stamp: the pin, its flags and a hash of its sources
    /// (every Go file, go.mod and go.sum of its folder and of serve/, with
    /// their names), so any change rebuilds it.
    fn renderd_stamp(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for dir in [self.renderd_source(), self.renderd_source().with_file_name("serve")] {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()?;
            files.retain(|p| p.extension().is_some_and(|x| x == "go") || p.ends_with("go.mod") || p.ends_with("go.sum"));
            files.sort();
            for path in files {
                hash.update(path.strip_prefix(repo_root()).unwrap_or(&path).to_string_lossy().as_bytes());
                hash.update(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
            }
        }
        Ok(format!("{}@{} {} {:x}\n", self.module, self.version, self.extra_ldflags, hash.finalize()))
    }
}

/// The renderer for one pinned Helm, built with `go build` against the same module version.
fn setup_renderd(pin: &HelmPin, say: &dyn Fn(String)) -> Result<()> {
    let bin = pin.renderd();
    let stamp_path = bin.with_file_name("build-stamp");
    let stamp = pin.renderd_stamp()?;
    if bin.is_file() && std::fs::read_to_string(&stamp_path).ok().as_deref() == Some(stamp.as_str()) {
        say(format!("setup: helm{}-renderd ({}) present", pin.major, pin.version));
        return Ok(());
    }
    let go_mod = std::fs::read_to_string(pin.renderd_source().join("go.mod"))?;
    let wanted = format!("{} {}", pin.module, pin.version);
    if !go_mod.lines().any(|l| l.trim() == wanted || l.trim() == format!("require {wanted}")) {
        bail!(
            "{} does not require {wanted}: the renderer must be built from the same Helm as the CLI it stands in for. Set that version there (then `go mod tidy`)",
            pin.renderd_source().join("go.mod").display()
        );
    }
    say(format!("setup: building helm{}-renderd from {} with go build (a few minutes the first time)", pin.major, pin.module));
    std::fs::create_dir_all(bin.parent().unwrap())?;
    process::checked(
        Command::new("go")
            .args(["build", "-trimpath", "-ldflags", &format!("-s -w {}", pin.extra_ldflags), "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(pin.renderd_source())
            .env("CGO_ENABLED", "0"),
        &format!("go build of {}", pin.renderd_source().display()),
    )?;
    std::fs::write(&stamp_path, stamp)?;
    say(format!("setup: helm{}-renderd ready", pin.major));
    Ok(())
}

fn setup_kubernetes_schemas(say: &dyn Fn(String)) -> Result<()> {
    if schema_dir("1.37").join("_definitions.json").is_file() {
        say(format!("setup: kubernetes-validate {KUBERNETES_VALIDATE_VERSION} schemas present"));
        return Ok(());
    }
    if !have("python3") {
        bail!("the Kubernetes schemas come from PyPI kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}, but python3 is not installed: install python3 and pip, then run `cargo xtask setup` again");
    }
    say(format!("setup: installing kubernetes-validate {KUBERNETES_VALIDATE_VERSION} schemas with pip"));
    let kv = kubernetes_validate_dir();
    let _ = std::fs::remove_dir_all(&kv);
    process::checked(
        Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--target"])
            .arg(&kv)
            .arg(format!("kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}")),
        "pip install kubernetes-validate",
    )?;
    Ok(())
}

fn setup_crd(crd: &CrdSource, say: &dyn Fn(String)) -> Result<()> {
    let (installed, at) = (crd.installed(), crd.origin_label());
    let CrdOrigin::GoModule { path: inner, .. } = crd.origin else {
        ensure!(installed.is_file(), "the {} CRD of {at} should be in the repository at {}", crd.kind, installed.display());
        return Ok(());
    };
    if installed.is_file() {
        say(format!("setup: {} CRD from {at} present", crd.kind));
        return Ok(());
    }
    if !have("go") {
        bail!(
            "the {} schema comes from the Go module {at}, but Go is not installed: install Go and run `cargo xtask setup` again",
            crd.kind
        );
    }
    say(format!("setup: fetching the {} CRD from {at}", crd.kind));
    let out = process::output(
        Command::new("go").args(["mod", "download", "-json"]).arg(&at).current_dir(std::env::temp_dir()),
        "go mod download",
    )?;
    let info: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("go mod download printed no JSON: {}", String::from_utf8_lossy(&out.stderr)))?;
    let dir = info["Dir"].as_str().with_context(|| format!("go mod download {at} failed: {info}"))?;
    let src = Path::new(dir).join(inner);
    std::fs::create_dir_all(installed.parent().unwrap())?;
    std::fs::copy(&src, &installed).with_context(|| format!("copying {}", src.display()))?;
    Ok(())
}
