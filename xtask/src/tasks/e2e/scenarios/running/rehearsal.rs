//! Scenario u, for clusters that advertise a registry (the built-in node's): the release rehearsed.
//! `cargo xtask release`'s steps ([`release::run`], which the release workflow runs) publish the
//! repository's chart and a next version to that registry, each signed with a throwaway cosign key and
//! verified; `helm install oci://…` of the first and `helm upgrade` to the next come from the registry;
//! and a chart pushed over the signed tag fails verification while the signed digest still verifies.

use super::{install_and_wait, ADMIN_EMAIL_VALUE};
use crate::lifecycle::node::registry::Advert;
use crate::support::tools::COSIGN;
use crate::tasks::e2e::client::wait_rolled_out;
use crate::tasks::e2e::{upgrade, Env, RELEASE};
use crate::tasks::package::SourceUrl;
use crate::tasks::release::{self, Login, OciRepository, Published, Release, Signing};
use anyhow::{ensure, Context, Result};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository the rehearsal's packages name as their source (Chart.yaml `sources`, the OCI
/// annotation, the README's links): a release takes it from the workflow's `github.repository`.
const REHEARSAL_SOURCE: &str = "https://github.com/example/heimdall-chart/blob";

/// u. Publish, sign and verify this version and the next; install the first from the registry and upgrade
/// to the next; a chart pushed over the signed tag fails verification.
pub fn release_rehearsed(env: &Env) -> Result<()> {
    let advert = env.target.registry.as_ref().context("the cluster advertises no registry")?;
    let work = env.scratch.join(format!("release-h{}", env.helm.major));
    let signing = throwaway_key(&work)?;
    let repository = OciRepository { host: advert.address.clone(), path: format!("{}/h{}/charts", env.target.run_id, env.helm.major) };
    let release_of = |version: Option<String>, dir: &str| rehearsal(advert, &repository, &signing, version, &work.join(dir));
    let publish =
        |r: &Release| -> Result<Published> { release::run(r, &|_| {})?.context("the rehearsal is no dry run, yet published nothing") };
    // Kept for the last step, which verifies as this release did.
    let signed = release_of(None, "current")?;
    let current = publish(&signed)?;
    let next = publish(&release_of(Some(next_version(&current.version)), "next")?)?;
    env.note(format!("published, signed and verified {}:{} and {}", current.chart, current.version, next.version));
    helm_logs_in(env, advert)?;
    install_and_upgrade(env, &current, &next)?;
    tampered_tag_fails_verification(env, &signed, &current)
}

/// A cosign key pair made for this run, with a password of its own.
fn throwaway_key(work: &Path) -> Result<Signing> {
    std::fs::create_dir_all(work)?;
    let password = crate::support::process::random_hex(16)?;
    let mut cosign = Command::new(COSIGN.binary());
    cosign.args(["generate-key-pair", "--output-key-prefix", "rehearsal"]).env("COSIGN_PASSWORD", &password).current_dir(work);
    crate::support::process::checked(&mut cosign, "cosign generate-key-pair")?;
    Ok(Signing::Key { private: work.join("rehearsal.key"), public: work.join("rehearsal.pub"), password: Some(password) })
}

fn rehearsal(advert: &Advert, registry: &OciRepository, signing: &Signing, version: Option<String>, work: &Path) -> Result<Release> {
    // The tag the release would have: vX.Y.Z of the version it publishes.
    let tag = match &version {
        Some(v) => v.clone(),
        None => chart_version()?,
    };
    Ok(Release {
        registry: registry.clone(),
        source: SourceUrl::parse(&format!("{REHEARSAL_SOURCE}/v{tag}"))?,
        signing: signing.clone(),
        plain_http: true,
        version,
        dry_run: false,
        work: work.into(),
        login: Some(advert.login().map(|(user, password)| Login { user, password })?),
    })
}

/// The repository chart's `version`.
fn chart_version() -> Result<String> {
    let chart: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(crate::support::tools::repo_root().join("heimdall/Chart.yaml"))?)?;
    chart["version"].as_str().map(str::to_string).context("heimdall/Chart.yaml has no version")
}

/// `4.0.0` → `4.0.1`: the patch release after it (pre-release parts dropped).
fn next_version(version: &str) -> String {
    let core = version.split(['-', '+']).next().unwrap_or(version);
    let mut parts: Vec<u64> = core.split('.').filter_map(|p| p.parse().ok()).collect();
    parts.resize(3, 0);
    format!("{}.{}.{}", parts[0], parts[1], parts[2] + 1)
}

/// Helm's registry login for this scenario's Helm, in its own configuration folder.
fn helm_logs_in(env: &Env, advert: &Advert) -> Result<()> {
    let dir = env.scratch.join("helm-home").join("config").join("registry");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("config.json"), &advert.docker_config)?;
    Ok(())
}

/// The install line of the published README (`helm show readme`), its registry replaced by the local
/// one; then `helm upgrade` to `next`: the release runs the next version's chart, and every pod is Ready.
fn install_and_upgrade(env: &Env, current: &Published, next: &Published) -> Result<()> {
    let ns = env.namespace("release")?;
    let oci = format!("oci://{}", current.chart);
    let chart = PathBuf::from(&oci);
    let readme = env.helm_ok(&["show", "readme", &oci, "--version", &current.version, "--plain-http"])?.stdout;
    let flags = readme_install_flags(&readme, &current.version)?;
    let mut values: Vec<&str> = flags.iter().map(String::as_str).collect();
    values.extend(["--plain-http", "--set-string", ADMIN_EMAIL_VALUE]);
    install_and_wait(env, &ns, &chart, &values)?;
    ensure!(deployed_chart(env, &ns)? == format!("heimdall-{}", current.version), "helm install oci:// did not deploy {}", current.version);
    let args = upgrade(&ns, &chart, &["--version", &next.version, "--plain-http", "--reuse-values", "--wait"]);
    env.release_ok(&args)?;
    wait_rolled_out(env, &ns)?;
    let deployed = deployed_chart(env, &ns)?;
    ensure!(deployed == format!("heimdall-{}", next.version), "after helm upgrade to {}, the release runs {deployed}", next.version);
    Ok(())
}

/// The flags of the README's `helm install heimdall oci://…` line, but its `--namespace` (the run's own
/// is used): the line must name the registry of the rehearsal's owner and the published version.
fn readme_install_flags(readme: &str, version: &str) -> Result<Vec<String>> {
    let blocks = super::restore::fenced_blocks(readme, "sh")?;
    let line = blocks
        .iter()
        .map(|b| b.replace("\\\n", " "))
        .find(|b| b.trim_start().starts_with("helm install heimdall oci://"))
        .context("the published README has no `helm install heimdall oci://` line in a sh block")?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let owner = SourceUrl::parse(&format!("{REHEARSAL_SOURCE}/v{version}"))?.owner();
    let expected = format!("oci://ghcr.io/{owner}/charts/heimdall");
    ensure!(words.get(3) == Some(&expected.as_str()), "the published README installs {:?}, not {expected}: {line}", words.get(3));
    let flags: Vec<&str> = words[4..].to_vec();
    let at = flags.iter().position(|w| *w == "--version").context("the README's install line names no --version")?;
    ensure!(flags.get(at + 1) == Some(&version), "the published README installs version {:?}, not {version}", flags.get(at + 1));
    let mut kept = Vec::new();
    let mut skip = false;
    for w in flags {
        match (skip, w) {
            (true, _) => skip = false,
            (false, "--namespace") => skip = true,
            (false, w) => kept.push(w.to_string()),
        }
    }
    Ok(kept)
}

/// The chart (`name-version`) of the release's deployed revision.
fn deployed_chart(env: &Env, ns: &str) -> Result<String> {
    let list = env.helm_ok(&["list", "--namespace", ns, "--output", "json"])?;
    let list: Json = serde_json::from_str(&list.stdout)?;
    let ours = list.as_array().into_iter().flatten().find(|r| r["name"] == RELEASE).context("helm list shows no release")?;
    Ok(ours["chart"].as_str().unwrap_or_default().to_string())
}

/// Another archive of the same name and version pushed over the signed tag: verifying the tag fails,
/// and the signed digest still verifies.
fn tampered_tag_fails_verification(env: &Env, signed: &Release, current: &Published) -> Result<()> {
    let tampered = tamper(&current.archive, &env.scratch.join(format!("tampered-h{}", env.helm.major)))?;
    let url = format!("oci://{}", current.chart.rsplit_once('/').map(|(repo, _)| repo).unwrap_or_default());
    env.helm_ok(&["push", &tampered.display().to_string(), &url, "--plain-http"])?;
    let tag = format!("{}:{}", current.chart, current.version);
    let err = release::verify(signed, &tag)
        .err()
        .with_context(|| format!("cosign verify passed {tag}, though another chart was pushed over it"))?;
    ensure!(
        format!("{err:#}").contains("no signatures found") || format!("{err:#}").contains("no matching signatures"),
        "cosign verify of {tag} failed for another reason: {err:#}"
    );
    release::verify(signed, &format!("{}@{}", current.chart, current.digest)).context("the signed digest no longer verifies")?;
    env.note(format!("a chart pushed over {tag} fails cosign verify; {} still verifies", current.digest));
    Ok(())
}

/// A copy of `archive` with one byte of its values.yaml changed (a comment added).
fn tamper(archive: &Path, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let unpacked = dir.join("unpacked");
    let _ = std::fs::remove_dir_all(&unpacked);
    std::fs::create_dir_all(&unpacked)?;
    tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(archive)?)).unpack(&unpacked)?;
    let values = unpacked.join("heimdall/values.yaml");
    let text = std::fs::read_to_string(&values).context("the archive holds no heimdall/values.yaml")?;
    std::fs::write(&values, format!("{text}# changed after signing\n"))?;
    let out = dir.join(archive.file_name().context("an archive has a file name")?);
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(std::fs::File::create(&out)?, flate2::Compression::default()));
    builder.append_dir_all("heimdall", unpacked.join("heimdall"))?;
    builder.into_inner()?.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_install_line_gives_its_flags_without_the_namespace() {
        let readme = "x\n\n```sh\nhelm install heimdall oci://ghcr.io/example/charts/heimdall --version 4.0.0 \\\n  --namespace heimdall --create-namespace\n```\n";
        assert_eq!(readme_install_flags(readme, "4.0.0").unwrap(), ["--version", "4.0.0", "--create-namespace"]);
        assert!(readme_install_flags(readme, "4.0.1").is_err(), "another version");
        assert!(readme_install_flags(&readme.replace("example", "<owner>"), "4.0.0").is_err(), "an owner not filled in");
    }

    #[test]
    fn the_next_version_is_the_next_patch() {
        assert_eq!(next_version("4.0.0"), "4.0.1");
        assert_eq!(next_version("4.2.9-rc.1"), "4.2.10");
        assert_eq!(next_version("5"), "5.0.1");
    }
}
