//! The node's image registry, so pods pull their images as on a real cluster: distribution's registry
//! (built from its Go module, [`crate::support::tools::REGISTRY`]) on loopback, behind a user and
//! password made for the run, its storage in the node's folder.
//!
//! - The stand-in images are pushed to it with skopeo, under the repositories the chart names.
//! - Each containerd reaches `docker.io` through it, as a mirror that carries the node's own
//!   credentials (a cluster's configured mirror), and never the Internet: the default install pulls.
//! - It also answers for [`PRIVATE_MIRROR`], a private mirror's name, with no credentials of the node's:
//!   a pod that names it needs a pull Secret, and without one waits in `ErrImagePull`.
//! - The cluster learns of it from [`ADVERT`]: a `kubernetes.io/dockerconfigjson` Secret that scenarios
//!   copy as their pull secret, and skip by name on a cluster without one.

use super::images::Image;
use crate::support::cluster::{poll, Cluster};
use anyhow::{ensure, Context, Result};
use base64::Engine;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The Secret (namespace, name) that tells scenarios where the registry is and how to log in.
pub const ADVERT: (&str, &str) = ("kube-system", "heimdall-e2e-registry");
/// The registries whose references each containerd resolves through the local one.
const MIRRORED: [&str; 1] = ["docker.io"];
/// A private mirror's name (docs/examples/air-gapped-mirror.yaml's) that each containerd resolves
/// through the local registry without the node's credentials: the kubelet hands containerd a pod's pull
/// Secret (it names no server, so containerd gives it to the host it reaches), as on a real cluster.
pub const PRIVATE_MIRROR: &str = "registry.example.internal";
/// The folder below which the images are pushed a second time, as an internal mirror of Docker Hub
/// keeps them (docs/examples/air-gapped-mirror.yaml's `registry.example.internal/dockerhub`).
pub const MIRROR_PREFIX: &str = "dockerhub";
const USER: &str = "heimdall-e2e";

/// A registry to start: its address on loopback and the run's credentials.
pub struct Registry {
    pub address: String,
    password: String,
    dir: PathBuf,
}

impl Registry {
    /// Writes the registry's configuration and password file (bcrypt, the only hash it reads) under
    /// `dir`, for a free port on loopback.
    pub fn configure(dir: &Path) -> Result<Registry> {
        std::fs::create_dir_all(dir.join("storage"))?;
        let port = crate::support::process::free_port()?;
        let registry =
            Registry { address: format!("127.0.0.1:{port}"), password: crate::support::process::random_hex(16)?, dir: dir.into() };
        let hash = bcrypt::hash(&registry.password, 10).context("hashing the registry's password")?;
        std::fs::write(dir.join("htpasswd"), format!("{USER}:{hash}\n"))?;
        std::fs::write(registry.config(), registry.config_text(&crate::support::process::random_hex(16)?))?;
        Ok(registry)
    }

    fn config(&self) -> PathBuf {
        self.dir.join("config.yml")
    }

    fn config_text(&self, http_secret: &str) -> String {
        format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n\
             http:\n  addr: {addr}\n  secret: {http_secret}\nauth:\n  htpasswd:\n    realm: heimdall-e2e\n    path: {htpasswd}\n",
            storage = self.dir.join("storage").display(),
            addr = self.address,
            htpasswd = self.dir.join("htpasswd").display(),
        )
    }

    /// The command that serves it.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(crate::support::tools::REGISTRY.binary());
        cmd.arg("serve").arg(self.config());
        cmd
    }

    /// Waits until it answers: 401 to a request without credentials, 200 with them.
    pub fn wait_ready(&self, log_tail: &dyn Fn() -> String) -> Result<()> {
        let url = format!("http://{}/v2/", self.address);
        poll(Duration::from_secs(30), Duration::from_millis(200), "the image registry answering", |up| {
            let anonymous = http_status(&url, None)?;
            ensure!(!up, "the image registry at {url} did not answer within 30 s (last status {anonymous}):\n{}", log_tail());
            if anonymous == 0 {
                return Ok(None);
            }
            ensure!(anonymous == 401, "the image registry at {url} answers {anonymous} without credentials, not 401");
            let with = http_status(&url, Some(&self.credentials()))?;
            ensure!(with == 200, "the image registry at {url} answers {with} to its own credentials, not 200");
            Ok(Some(()))
        })
    }

    fn credentials(&self) -> String {
        format!("{USER}:{}", self.password)
    }

    /// Pushes an image under its repository and tag (`docker.io/mitre/heimdall2:2.13.1` as
    /// `mitre/heimdall2:2.13.1`, which containerd's mirror of docker.io reads), and again below
    /// [`MIRROR_PREFIX`] (the registry stores each layer once).
    pub fn push(&self, image: &Image) -> Result<()> {
        let (name, tag) = image.reference.rsplit_once(':').context("references carry a tag")?;
        let repository = repository_of(name);
        for target in [format!("{}/{repository}:{tag}", self.address), format!("{}/{MIRROR_PREFIX}/{repository}:{tag}", self.address)] {
            let mut cmd = Command::new("skopeo");
            cmd.args(["copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", &self.credentials()])
                .arg(format!("oci-archive:{}:{tag}", image.archive.display()))
                .arg(format!("docker://{target}"));
            crate::support::process::checked(&mut cmd, &format!("skopeo copy {} docker://{target}", image.archive.display()))
                .context("pushing a stand-in image to the node's registry (apt-get install skopeo)")?;
        }
        Ok(())
    }

    /// containerd's registry hosts folder: each mirrored registry resolved here with the node's
    /// credentials, and [`PRIVATE_MIRROR`] with none (pods bring a pull Secret).
    pub fn write_hosts(&self, hosts_dir: &Path) -> Result<()> {
        for (host, text) in self.hosts_files() {
            let dir = hosts_dir.join(host);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("hosts.toml"), text)?;
        }
        Ok(())
    }

    fn hosts_files(&self) -> Vec<(String, String)> {
        let basic = base64::engine::general_purpose::STANDARD.encode(self.credentials());
        let local = format!("http://{}", self.address);
        // `server` is the registry too, so a reference it lacks is never looked for on the Internet.
        let host =
            |header: String| format!("server = \"{local}\"\n\n[host.\"{local}\"]\n  capabilities = [\"pull\", \"resolve\"]\n{header}");
        let with_credentials = host(format!("  [host.\"{local}\".header]\n    Authorization = \"Basic {basic}\"\n"));
        let mirrored = MIRRORED.iter().map(|name| (name.to_string(), with_credentials.clone()));
        mirrored.chain(std::iter::once((PRIVATE_MIRROR.to_string(), host(String::new())))).collect()
    }

    /// The `.dockerconfigjson` a pull secret for it holds.
    pub fn docker_config(&self) -> Json {
        let auth = base64::engine::general_purpose::STANDARD.encode(self.credentials());
        json!({"auths": {self.address.clone(): {"username": USER, "password": self.password, "auth": auth}}})
    }

    /// Creates [`ADVERT`].
    pub fn advertise(&self, cluster: &Cluster) -> Result<()> {
        let config = base64::engine::general_purpose::STANDARD.encode(self.docker_config().to_string());
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": ADVERT.1, "namespace": ADVERT.0}, "data": {".dockerconfigjson": config}});
        cluster.create(&format!("/api/v1/namespaces/{}/secrets", ADVERT.0), &secret).map(drop)
    }
}

/// What [`ADVERT`] tells a run: the registry's address, and the `.dockerconfigjson` of a pull secret for it.
#[derive(Clone, Debug)]
pub struct Advert {
    pub address: String,
    pub docker_config: String,
}

impl Advert {
    /// The user and password of its `.dockerconfigjson`.
    pub fn login(&self) -> Result<(String, String)> {
        let config: Json = serde_json::from_str(&self.docker_config)?;
        let auth = &config["auths"][&self.address];
        let field = |k: &str| auth[k].as_str().map(str::to_string).with_context(|| format!("the registry's advert has no {k}"));
        Ok((field("username")?, field("password")?))
    }

    /// Tags `reference`'s image (`docker.io/library/postgres:17.6`, as pushed to this registry) as
    /// `tag` too, as a floating tag of the registry it stands in for would name it.
    pub fn tag(&self, reference: &str, tag: &str) -> Result<()> {
        let (name, from) = reference.rsplit_once(':').context("references carry a tag")?;
        let (user, password) = self.login()?;
        let creds = format!("{user}:{password}");
        let at = |t: &str| format!("docker://{}/{}:{t}", self.address, repository_of(name));
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", "--src-creds", &creds, "--dest-creds", &creds])
            .args([at(from), at(tag)]);
        crate::support::process::checked(&mut cmd, &format!("skopeo copy {} {}", at(from), at(tag)))
            .context("tagging an image in the cluster's registry")?;
        Ok(())
    }
}

/// The cluster's registry, if it advertises one.
pub fn advertised(cluster: &Cluster) -> Result<Option<Advert>> {
    let Some(secret) = cluster.get(&format!("/api/v1/namespaces/{}/secrets/{}", ADVERT.0, ADVERT.1))? else { return Ok(None) };
    let encoded = secret["data"][".dockerconfigjson"].as_str().context("the registry's advert has no .dockerconfigjson")?;
    let docker_config = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded)?)?;
    let parsed: Json = serde_json::from_str(&docker_config)?;
    let address = parsed["auths"].as_object().and_then(|a| a.keys().next().cloned()).context("the registry's advert names no registry")?;
    Ok(Some(Advert { address, docker_config }))
}

/// The repository a reference names in its registry: `docker.io/library/postgres` → `library/postgres`.
fn repository_of(name: &str) -> &str {
    match name.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') => rest,
        _ => name,
    }
}

/// The HTTP status of a GET (0: no answer yet).
fn http_status(url: &str, credentials: Option<&str>) -> Result<u16> {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2"]);
    if let Some(c) = credentials {
        cmd.args(["-u", c]);
    }
    let out = crate::support::process::output(cmd.arg(url), "curl")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_its_repository_without_the_registry() {
        assert_eq!(repository_of("docker.io/library/postgres"), "library/postgres");
        assert_eq!(repository_of("127.0.0.1:5000/mitre/heimdall2"), "mitre/heimdall2");
        assert_eq!(repository_of("mitre/heimdall2"), "mitre/heimdall2");
    }

    #[test]
    fn mirrored_registries_carry_the_credentials_and_never_fall_back_to_the_internet() {
        let r = Registry { address: "127.0.0.1:5000".into(), password: "p".into(), dir: "/x".into() };
        let files = r.hosts_files();
        let docker = &files.iter().find(|(h, _)| h == "docker.io").unwrap().1;
        assert!(docker.starts_with("server = \"http://127.0.0.1:5000\""), "{docker}");
        let basic = base64::engine::general_purpose::STANDARD.encode("heimdall-e2e:p");
        assert!(docker.contains(&format!("Authorization = \"Basic {basic}\"")), "{docker}");
        let private = &files.iter().find(|(h, _)| h == PRIVATE_MIRROR).unwrap().1;
        assert!(private.starts_with("server = \"http://127.0.0.1:5000\""), "{private}");
        assert!(!private.contains("Authorization"), "the private mirror needs a pull Secret: {private}");
    }
}
