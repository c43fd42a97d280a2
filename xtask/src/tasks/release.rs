//! `cargo xtask release`: every step of a release, in the order the release workflow runs them, so the
//! workflow (which runs this command) and `make test` (which rehearses it against the e2e node's
//! registry, with a throwaway key) cannot drift apart.
//!
//! 1. setup: the pinned Helms, cosign and oras ([`tools::setup`]);
//! 2. package: [`package::run_as`] (links made absolute at the release's tag, no secrets file);
//! 3. log in: `helm registry login` (the command line takes `REGISTRY_USER` and `REGISTRY_PASSWORD`),
//!    into a configuration of its own that cosign and oras read too;
//! 4. `helm push` of the archive, which prints the digest;
//! 5. `cosign sign` of that digest: keyless (the workflow's identity) or with a key file;
//! 6. `cosign verify` of it, with the identity or the public key;
//! 7. `oras push` of Artifact Hub's repository metadata to the `artifacthub.io` tag.
//!
//! `--dry-run` runs 1 and 2 and prints the others.

use crate::support::command::command_line;
use crate::support::tools::{self, COSIGN, ORAS};
use crate::tasks::package::{self, SourceUrl};
use anyhow::{ensure, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Artifact Hub metadata file at the repository's root, and its media types.
const ARTIFACT_HUB_FILE: &str = "artifacthub-repo.yml";
const ARTIFACT_HUB_CONFIG: &str = "application/vnd.cncf.artifacthub.config.v1+yaml";
const ARTIFACT_HUB_LAYER: &str = "application/vnd.cncf.artifacthub.repository-metadata.layer.v1.yaml";
/// The issuer of GitHub Actions' OIDC tokens, which keyless signatures name.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Where charts are pushed: `oci://HOST/PATH` (the chart lands at `HOST/PATH/<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRepository {
    pub host: String,
    pub path: String,
}

impl OciRepository {
    pub fn parse(url: &str) -> Result<OciRepository> {
        let rest = url
            .strip_prefix("oci://")
            .with_context(|| format!("--registry {url}: give an OCI address, like oci://ghcr.io/OWNER/charts"))?;
        let (host, path) = rest.trim_end_matches('/').split_once('/').unwrap_or((rest, ""));
        ensure!(!host.is_empty() && !path.is_empty(), "--registry {url}: give a host and a path, like oci://ghcr.io/OWNER/charts");
        Ok(OciRepository { host: host.into(), path: path.into() })
    }

    pub fn url(&self) -> String {
        format!("oci://{}/{}", self.host, self.path)
    }

    /// The chart's reference without tag: `HOST/PATH/name`.
    pub fn chart(&self, name: &str) -> String {
        format!("{}/{}/{name}", self.host, self.path)
    }
}

/// How the pushed digest is signed and then verified.
#[derive(Debug, Clone)]
pub enum Signing {
    /// Sigstore's keyless signing, as the workflow does: verified against the signer's identity.
    Keyless { identity: String, issuer: String },
    /// A cosign key pair, no transparency log: the rehearsal's way. Its password is given to cosign as
    /// `COSIGN_PASSWORD`; None: cosign reads that variable from this process's environment.
    Key { private: PathBuf, public: PathBuf, password: Option<String> },
}

/// One release, as the command line asks for it.
pub struct Release {
    pub registry: OciRepository,
    pub source: SourceUrl,
    pub signing: Signing,
    /// The registry speaks HTTP, not HTTPS (a local one).
    pub plain_http: bool,
    /// Publish under this version instead of Chart.yaml's (a rehearsal's next version).
    pub version: Option<String>,
    pub dry_run: bool,
    /// Where the archive and the login's configuration go.
    pub work: PathBuf,
    /// The registry's user and password (or token); a dry run needs none.
    pub login: Option<Login>,
}

/// A registry login.
#[derive(Clone)]
pub struct Login {
    pub user: String,
    pub password: String,
}

impl Login {
    /// From `REGISTRY_USER` and `REGISTRY_PASSWORD`, as the workflow sets them.
    pub fn from_env() -> Result<Login> {
        let var = |name: &str, what: &str| std::env::var(name).with_context(|| format!("{name} is not set: the registry's {what}"));
        Ok(Login { user: var("REGISTRY_USER", "user name")?, password: var("REGISTRY_PASSWORD", "password or token")? })
    }
}

/// What a release pushed.
#[derive(Debug, Clone)]
pub struct Published {
    pub archive: PathBuf,
    /// `HOST/PATH/name`, without tag or digest.
    pub chart: String,
    pub version: String,
    pub digest: String,
}

/// Runs the steps (see the module's documentation); `say` hears each as it starts.
pub fn run(release: &Release, say: &dyn Fn(String)) -> Result<Option<Published>> {
    say("release: 1/7 setup: the pinned Helms, cosign and oras".into());
    tools::setup(true)?;
    let helm = tools::find_helms(None)?.into_iter().max_by_key(|h| h.major).context("no pinned Helm")?;
    say("release: 2/7 package".into());
    std::fs::create_dir_all(&release.work)?;
    let archive =
        package::run_as(&tools::repo_root(), &helm, &release.work.join("dist"), Some(&release.source), release.version.as_deref())?;
    let (name, version) = name_and_version(&archive)?;
    let steps = Steps { release, helm: helm.path.clone(), chart: release.registry.chart(&name) };
    if release.dry_run {
        for (what, argv) in steps.planned(&archive, &version) {
            say(format!("release: would {what}: {}", command_line(&argv)));
        }
        return Ok(None);
    }
    say(format!("release: 3/7 log in to {}", release.registry.host));
    steps.login()?;
    say(format!("release: 4/7 push {} to {}", archive.display(), release.registry.url()));
    let digest = steps.push(&archive)?;
    let signed = format!("{}@{digest}", steps.chart);
    say(format!("release: 5/7 sign {signed} ({})", steps.signing_says()));
    steps.run("cosign sign", steps.sign(&signed))?;
    say(format!("release: 6/7 verify {signed}"));
    steps.run("cosign verify", steps.verify(&signed))?;
    say(format!("release: 7/7 push Artifact Hub's metadata to {}:artifacthub.io", steps.chart));
    steps.run("oras push", steps.artifact_hub())?;
    Ok(Some(Published { archive, chart: steps.chart, version, digest }))
}

/// `heimdall-4.0.0.tgz` → (`heimdall`, `4.0.0`).
fn name_and_version(archive: &Path) -> Result<(String, String)> {
    let file = archive.file_name().and_then(|f| f.to_str()).unwrap_or_default();
    let stem = file.strip_suffix(".tgz").with_context(|| format!("{file} is not a chart archive"))?;
    let at = stem.char_indices().find(|(i, c)| *c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()));
    let (i, _) = at.with_context(|| format!("{file} names no version"))?;
    Ok((stem[..i].to_string(), stem[i + 1..].to_string()))
}

/// The commands of steps 3 to 7, with the environment they share.
struct Steps<'a> {
    release: &'a Release,
    helm: PathBuf,
    chart: String,
}

impl Steps<'_> {
    /// The login's configuration: Helm writes it, cosign and oras read it (Docker's format).
    fn config_dir(&self) -> PathBuf {
        self.release.work.join("registry-config")
    }

    fn command(&self, argv: &[String]) -> Command {
        let mut cmd = Command::new(&argv[0]);
        if let Signing::Key { password: Some(p), .. } = &self.release.signing {
            cmd.env("COSIGN_PASSWORD", p);
        }
        cmd.args(&argv[1..])
            .env("DOCKER_CONFIG", self.config_dir())
            .env("HELM_REGISTRY_CONFIG", self.config_dir().join("config.json"))
            .env("HELM_CONFIG_HOME", self.release.work.join("helm-config"))
            .env("HELM_CACHE_HOME", self.release.work.join("helm-cache"));
        cmd
    }

    fn run(&self, what: &str, argv: Vec<String>) -> Result<String> {
        let out = crate::support::process::checked_output(&mut self.command(&argv), what)?;
        Ok(format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    }

    fn plain_http(&self) -> Vec<String> {
        if self.release.plain_http {
            vec!["--plain-http".into()]
        } else {
            vec![]
        }
    }

    /// `helm registry login HOST --username U --password-stdin`.
    fn login(&self) -> Result<()> {
        let Login { user, password } = self.release.login.as_ref().context("no registry login given (REGISTRY_USER, REGISTRY_PASSWORD)")?;
        let mut argv = vec![self.helm.display().to_string(), "registry".into(), "login".into(), self.release.registry.host.clone()];
        argv.extend(["--username".into(), user.clone(), "--password-stdin".into()]);
        argv.extend(self.plain_http());
        let mut child = self.command(&argv).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        child.stdin.take().context("no stdin")?.write_all(password.as_bytes())?;
        let out = child.wait_with_output()?;
        ensure!(
            out.status.success(),
            "helm registry login failed:\n{}\nreproduce: {} (password on stdin)",
            String::from_utf8_lossy(&out.stderr).trim(),
            command_line(&argv)
        );
        Ok(())
    }

    fn push_argv(&self, archive: &Path) -> Vec<String> {
        let mut argv = vec![self.helm.display().to_string(), "push".into(), archive.display().to_string(), self.release.registry.url()];
        argv.extend(self.plain_http());
        argv
    }

    /// `helm push`; the digest it printed.
    fn push(&self, archive: &Path) -> Result<String> {
        let text = self.run("helm push", self.push_argv(archive))?;
        let digest = text.lines().find_map(|l| l.strip_prefix("Digest:")).map(str::trim);
        digest.map(str::to_string).with_context(|| format!("helm push printed no Digest line; nothing to sign:\n{text}"))
    }

    fn signing_says(&self) -> String {
        match &self.release.signing {
            Signing::Keyless { identity, .. } => format!("keyless, as {identity}"),
            Signing::Key { private, .. } => format!("with the key {}, no transparency log", private.display()),
        }
    }

    fn cosign(&self, verb: &str) -> Vec<String> {
        let mut argv = vec![COSIGN.binary().display().to_string(), verb.into()];
        if self.release.plain_http {
            argv.push("--allow-http-registry".into());
        }
        argv
    }

    fn sign(&self, signed: &str) -> Vec<String> {
        let mut argv = self.cosign("sign");
        argv.push("--yes".into());
        if let Signing::Key { private, .. } = &self.release.signing {
            argv.extend(["--key".into(), private.display().to_string()]);
            argv.extend(["--use-signing-config=false".into(), "--tlog-upload=false".into()]);
        }
        argv.push(signed.into());
        argv
    }

    fn verify(&self, reference: &str) -> Vec<String> {
        let mut argv = self.cosign("verify");
        match &self.release.signing {
            Signing::Keyless { identity, issuer } => {
                argv.extend(["--certificate-identity".into(), identity.clone(), "--certificate-oidc-issuer".into(), issuer.clone()])
            }
            Signing::Key { public, .. } => {
                argv.extend(["--key".into(), public.display().to_string(), "--insecure-ignore-tlog=true".into()])
            }
        }
        argv.push(reference.into());
        argv
    }

    fn artifact_hub(&self) -> Vec<String> {
        let mut argv = vec![ORAS.binary().display().to_string(), "push".into(), format!("{}:artifacthub.io", self.chart)];
        argv.extend(["--config".into(), format!("/dev/null:{ARTIFACT_HUB_CONFIG}")]);
        argv.push(format!("{ARTIFACT_HUB_FILE}:{ARTIFACT_HUB_LAYER}"));
        argv.extend(self.plain_http());
        argv
    }

    /// Steps 4 to 7 as a dry run prints them (the digest is known only after the push).
    fn planned(&self, archive: &Path, version: &str) -> Vec<(&'static str, Vec<String>)> {
        let signed = format!("{}@<the digest helm push prints for {version}>", self.chart);
        vec![
            ("push", self.push_argv(archive)),
            ("sign", self.sign(&signed)),
            ("verify", self.verify(&signed)),
            ("push Artifact Hub's metadata", self.artifact_hub()),
        ]
    }
}

/// `cosign verify` of `reference` as the release verified it: Ok when a signature holds.
pub fn verify(release: &Release, reference: &str) -> Result<String> {
    let steps = Steps { release, helm: PathBuf::new(), chart: String::new() };
    steps.run("cosign verify", steps.verify(reference))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oci_address_gives_host_and_path_and_refuses_others() {
        let r = OciRepository::parse("oci://ghcr.io/mitre/charts/").unwrap();
        assert_eq!(r, OciRepository { host: "ghcr.io".into(), path: "mitre/charts".into() });
        assert_eq!(r.chart("heimdall"), "ghcr.io/mitre/charts/heimdall");
        assert!(OciRepository::parse("https://ghcr.io/mitre").unwrap_err().to_string().contains("oci://"));
        assert!(OciRepository::parse("oci://ghcr.io").is_err());
    }

    #[test]
    fn an_archive_names_its_chart_and_version() {
        let got = name_and_version(Path::new("/d/heimdall-4.0.1-rc.1.tgz")).unwrap();
        assert_eq!(got, ("heimdall".into(), "4.0.1-rc.1".into()));
        let got = name_and_version(Path::new("my-chart-2-1.0.0.tgz")).unwrap();
        assert_eq!(got, ("my-chart".into(), "2-1.0.0".into()), "the first '-' before a digit splits");
    }

    #[test]
    fn key_signing_keeps_off_the_transparency_log_and_keyless_verifies_the_identity() {
        let release = |signing| Release {
            registry: OciRepository::parse("oci://127.0.0.1:5000/charts").unwrap(),
            source: SourceUrl::parse("https://github.com/o/r/blob/v1.0.0").unwrap(),
            signing,
            plain_http: true,
            version: None,
            dry_run: true,
            work: "/w".into(),
            login: None,
        };
        let keyed = release(Signing::Key { private: "k.key".into(), public: "k.pub".into(), password: None });
        let steps = Steps { release: &keyed, helm: "helm".into(), chart: "c".into() };
        let sign = steps.sign("c@sha256:1").join(" ");
        assert!(sign.contains("--key k.key") && sign.contains("--tlog-upload=false") && sign.contains("--allow-http-registry"), "{sign}");
        assert!(steps.verify("c@sha256:1").join(" ").contains("--key k.pub --insecure-ignore-tlog=true"));
        let keyless = release(Signing::Keyless {
            identity: "https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.0.0".into(),
            issuer: GITHUB_ISSUER.into(),
        });
        let steps = Steps { release: &keyless, helm: "helm".into(), chart: "c".into() };
        assert!(!steps.sign("c@sha256:1").iter().any(|a| a.starts_with("--key")));
        let verify = steps.verify("c@sha256:1").join(" ");
        assert!(verify.contains("--certificate-identity https://github.com/o/r/") && verify.contains(GITHUB_ISSUER), "{verify}");
    }
}
