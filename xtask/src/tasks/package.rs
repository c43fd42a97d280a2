//! `cargo xtask package`: the only supported way to build the chart archive, from a staging copy that can never hold a secrets file or a local secret value, and whose README links to the repository at the release's tag (a relative link out of the chart folder is dead in `helm show readme` and on Artifact Hub).

use crate::engine::config::{is_local_file, Config};
use crate::support::process;
use crate::support::tools::Helm;
use anyhow::{bail, ensure, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Entry names that must never be inside a chart archive, as the archive names them
/// (`heimdall/env/x-secrets.yaml`) or relative to the chart (`env/x-secrets.yaml`). A template is never
/// one, whatever its name (`templates/secrets-generator-job.yaml`).
pub fn is_forbidden_entry(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    let lower = file.to_lowercase();
    let template = name.split('/').any(|part| part == "templates");
    (lower.contains("secrets") && (lower.ends_with(".yaml") || lower.ends_with(".yml")) && !template)
        || lower.ends_with(".pem")
        || lower.ends_with(".key")
        || lower == ".env"
}

/// Whether git ignores `rel` (relative to `repo`); false outside a git checkout.
fn git_ignored(repo: &Path, rel: &Path) -> bool {
    Command::new("git").arg("-C").arg(repo).args(["check-ignore", "-q", "--"]).arg(rel).status().map(|s| s.success()).unwrap_or(false)
}

/// Copies the chart into `stage`, leaving out the harness config's `local_files`, secrets files and
/// everything git ignores.
pub fn stage(repo: &Path, chart: &Path, local_files: &[String], stage: &Path) -> Result<Vec<String>> {
    let mut left_out = Vec::new();
    std::fs::create_dir_all(stage)?;
    for entry in walkdir::WalkDir::new(chart).sort_by_file_name() {
        let entry = entry?;
        let rel = entry.path().strip_prefix(chart).unwrap();
        if rel.as_os_str().is_empty() {
            continue;
        }
        let repo_rel = entry.path().strip_prefix(repo).unwrap_or(entry.path());
        if entry.file_type().is_file()
            && (is_local_file(rel, local_files) || is_forbidden_entry(&rel.to_string_lossy()) || git_ignored(repo, repo_rel))
        {
            left_out.push(rel.display().to_string());
            continue;
        }
        let target = stage.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(left_out)
}

/// Values of the local secrets file, if there is one (never printed).
fn local_secret_values(chart: &Path, local_files: &[String]) -> Vec<String> {
    let mut values = Vec::new();
    for entry in walkdir::WalkDir::new(chart.join("env")).into_iter().filter_map(Result::ok) {
        let rel = entry.path().strip_prefix(chart).unwrap();
        if !entry.file_type().is_file() || !is_local_file(rel, local_files) {
            continue;
        }
        if let Ok(serde_yaml::Value::Mapping(m)) =
            std::fs::read_to_string(entry.path()).map(|t| serde_yaml::from_str(&t).unwrap_or_default())
        {
            values.extend(m.values().filter_map(|v| v.as_str()).map(str::trim).filter(|v| v.len() >= 8).map(str::to_string));
        }
    }
    values
}

/// Opens the archive and returns every problem: forbidden entries, or entries holding a local secret value.
pub fn inspect(archive: &Path, secret_values: &[String]) -> Result<Vec<String>> {
    let file = std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut problems = Vec::new();
    for entry in tar.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().to_string();
        if is_forbidden_entry(&name) {
            problems.push(format!("{name}: a secrets file must never be in the archive"));
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        let text = String::from_utf8_lossy(&bytes);
        let hits = secret_values.iter().filter(|v| text.contains(v.as_str())).count();
        if hits > 0 {
            problems.push(format!("{name}: holds {hits} value(s) of the local secrets file"));
        }
    }
    Ok(problems)
}

/// The repository's web address at the release's tag, which a packaged README's relative links are
/// made absolute against: `https://github.com/OWNER/REPO/blob/v4.0.0`.
#[derive(Debug, Clone)]
pub struct SourceUrl(String);

impl SourceUrl {
    pub fn parse(url: &str) -> Result<SourceUrl> {
        let trimmed = url.trim_end_matches('/');
        let parts: Vec<&str> = trimmed.strip_prefix("https://").unwrap_or_default().split('/').collect();
        ensure!(
            parts.len() >= 5 && parts[3] == "blob" && parts.iter().all(|p| !p.is_empty()),
            "--source-url {url}: give the repository's web address at the release's tag, like https://github.com/OWNER/REPO/blob/v4.0.0"
        );
        Ok(SourceUrl(trimmed.to_string()))
    }

    /// `https://github.com/OWNER/REPO`: the chart's own repository.
    pub fn repository(&self) -> &str {
        &self.0[..self.0.find("/blob/").unwrap_or(self.0.len())]
    }

    /// `owner`, lower-cased as registries name it (`oci://ghcr.io/owner/charts/heimdall`).
    pub fn owner(&self) -> String {
        self.0.split('/').nth(3).unwrap_or_default().to_lowercase()
    }
}

/// The byte range of each Markdown link's target in `markdown` (`](target)`).
fn link_targets(markdown: &str) -> Result<Vec<std::ops::Range<usize>>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = markdown[from..].find("](") {
        let start = from + at + 2;
        let end = start + markdown[start..].find(')').context("a Markdown link without its closing parenthesis")?;
        out.push(start..end);
        from = end;
    }
    Ok(out)
}

/// Whether a link target is a path (web addresses, `mailto:` and in-page anchors are not).
fn is_relative(target: &str) -> bool {
    !(target.contains("://") || target.starts_with('#') || target.starts_with("mailto:"))
}

/// `markdown` with each link to a relative path (`](../docs/x.md#part)`) made absolute: resolved from
/// `chart_dir` (the chart folder's path in the repository) and joined to `source`.
pub fn absolute_links(markdown: &str, source: &SourceUrl, chart_dir: &str) -> Result<String> {
    let mut out = String::with_capacity(markdown.len());
    let mut copied = 0;
    for range in link_targets(markdown)? {
        let target = &markdown[range.clone()];
        if !is_relative(target) {
            continue;
        }
        let (path, fragment) = target.split_once('#').map_or((target, None), |(p, f)| (p, Some(f)));
        out.push_str(&markdown[copied..range.start]);
        out.push_str(&format!("{}/{}", source.0, repository_path(chart_dir, path)?));
        if let Some(fragment) = fragment {
            out.push_str(&format!("#{fragment}"));
        }
        copied = range.end;
    }
    out.push_str(&markdown[copied..]);
    Ok(out)
}

/// `relative`, read from the folder `from`, as a path from the repository root; `..` may not leave it.
fn repository_path(from: &str, relative: &str) -> Result<String> {
    let mut parts: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                ensure!(parts.pop().is_some(), "the link {relative} leaves the repository");
            }
            _ => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// The staged README with its relative links made absolute against `source` and the registry owner
/// put into its install line, `source`'s repository first in Chart.yaml's `sources` (Helm pushes
/// the first as the OCI annotation `org.opencontainers.image.source`), and the docs' address at the
/// tag as Chart.yaml's `docs` annotation, which NOTES link from. Without a source, a README with
/// relative links is refused, naming the option.
fn publish_metadata(staged: &Path, chart_dir: &str, source: Option<&SourceUrl>) -> Result<()> {
    let readme = staged.join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap_or_default();
    let Some(source) = source else {
        let relative = link_targets(&text)?.into_iter().filter(|r| is_relative(&text[r.clone()])).count();
        ensure!(
            relative == 0,
            "the chart's README has {relative} relative links, dead in `helm show readme` and on Artifact Hub: pass --source-url https://github.com/OWNER/REPO/blob/vX.Y.Z (the release's tag) to make them absolute"
        );
        return Ok(());
    };
    let owned = text.replace(OWNER_PLACEHOLDER, &format!("oci://ghcr.io/{}/", source.owner()));
    std::fs::write(&readme, absolute_links(&owned, source, chart_dir)?)?;
    let chart_yaml = staged.join("Chart.yaml");
    let chart = std::fs::read_to_string(&chart_yaml)?;
    ensure!(chart.matches("\nsources:\n").count() == 1, "Chart.yaml has no `sources:` list to name the chart's repository in");
    ensure!(chart.matches("\nannotations:\n").count() == 1, "Chart.yaml has no `annotations:` map to give NOTES the docs' address in");
    let chart = chart.replacen("\nsources:\n", &format!("\nsources:\n  - {}\n", source.repository()), 1);
    // NOTES link each doc they name at this address (heimdall.notes.docLink).
    let chart = chart.replacen("\nannotations:\n", &format!("\nannotations:\n  docs: {}/docs\n", source.0), 1);
    std::fs::write(&chart_yaml, chart)?;
    Ok(())
}

/// Replaces Chart.yaml's top-level `version:` line.
fn set_version(chart_yaml: &Path, version: &str) -> Result<()> {
    let text = std::fs::read_to_string(chart_yaml)?;
    let lines: Vec<String> =
        text.lines().map(|l| if l.starts_with("version:") { format!("version: {version}") } else { l.to_string() }).collect();
    ensure!(lines.iter().filter(|l| l.starts_with("version:")).count() == 1, "Chart.yaml has no single top-level `version:` line");
    std::fs::write(chart_yaml, lines.join("\n") + "\n")?;
    Ok(())
}

/// How the chart's README names the registry before a release names the owner.
const OWNER_PLACEHOLDER: &str = "oci://ghcr.io/<owner>/";

/// Stages (the README and Chart.yaml made to name `source`), packages, lints and inspects; returns the
/// archive's path.
pub fn run(repo: &Path, helm: &Helm, out_dir: &Path, source: Option<&SourceUrl>) -> Result<PathBuf> {
    run_as(repo, helm, out_dir, source, None)
}

/// [`run`], the staged Chart.yaml's `version` replaced by `version` when given (a rehearsal publishes
/// a next version without editing the chart).
pub fn run_as(repo: &Path, helm: &Helm, out_dir: &Path, source: Option<&SourceUrl>, version: Option<&str>) -> Result<PathBuf> {
    let config = Config::at_root(repo)?;
    let chart = config.chart.clone();
    let tmp = tempfile::tempdir()?;
    let staged = tmp.path().join(config.chart_folder_name());
    let left_out = stage(repo, &chart, &config.local_files, &staged)?;
    for f in &left_out {
        eprintln!("package: left out {f}");
    }
    let chart_dir = chart.strip_prefix(repo).unwrap_or(&chart).to_string_lossy().into_owned();
    publish_metadata(&staged, &chart_dir, source)?;
    if let Some(version) = version {
        set_version(&staged.join("Chart.yaml"), version)?;
    }
    process::checked(Command::new(&helm.path).args(["lint", "--strict"]).arg(&staged), "helm lint --strict on the staged chart")?;
    std::fs::create_dir_all(out_dir)?;
    let stdout = process::checked(Command::new(&helm.path).arg("package").arg(&staged).arg("--destination").arg(out_dir), "helm package")?;
    let archive = stdout
        .split(": ")
        .last()
        .map(|p| PathBuf::from(p.trim()))
        .filter(|p| p.is_file())
        .with_context(|| format!("helm package did not name its archive: {stdout}"))?;
    let problems = inspect(&archive, &local_secret_values(&chart, &config.local_files))?;
    if !problems.is_empty() {
        std::fs::remove_file(&archive).ok();
        bail!("the archive was removed because it would leak secrets:\n  {}", problems.join("\n  "));
    }
    Ok(archive)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_entries_are_secrets_files_not_templates() {
        assert!(is_forbidden_entry("heimdall/env/heimdall-secrets.yaml"));
        assert!(is_forbidden_entry("heimdall/env/prod-secrets.yml"));
        assert!(is_forbidden_entry("heimdall/tls.key"));
        assert!(!is_forbidden_entry("heimdall/templates/secret.yaml"));
        assert!(!is_forbidden_entry("heimdall/templates/heimdall-secrets.yaml"));
        assert!(!is_forbidden_entry("templates/secrets-generator-job.yaml"), "a template, named relative to the chart");
        assert!(is_forbidden_entry("env/heimdall-secrets.yaml"), "a secrets file, named relative to the chart");
        assert!(!is_forbidden_entry("heimdall/env/heimdallconfig.yaml"));
    }

    #[test]
    fn inspect_finds_a_planted_entry_and_a_leaked_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.tgz");
        let mut builder =
            tar::Builder::new(flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast()));
        for (name, body) in [("heimdall/env/heimdall-secrets.yaml", "JWT: x"), ("heimdall/values.yaml", "leak: known-secret-value-123")] {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            builder.append_data(&mut h, name, body.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
        let problems = inspect(&path, &["known-secret-value-123".to_string()]).unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("heimdall-secrets.yaml") && problems[1].contains("values.yaml"));
        assert!(!problems.iter().any(|p| p.contains("known-secret-value-123")), "a problem printed the value");
    }

    #[test]
    fn relative_links_point_at_the_repository_and_web_addresses_stay() {
        let source = SourceUrl::parse("https://github.com/o/r/blob/v4.0.0/").unwrap();
        let text = "[a](../docs/a.md#part) [b](templates/x.yaml) [c](https://saf.mitre.org) [d](#values) [e](./f.md)";
        let made = absolute_links(text, &source, "heimdall").unwrap();
        assert_eq!(
            made,
            "[a](https://github.com/o/r/blob/v4.0.0/docs/a.md#part) [b](https://github.com/o/r/blob/v4.0.0/heimdall/templates/x.yaml) \
             [c](https://saf.mitre.org) [d](#values) [e](https://github.com/o/r/blob/v4.0.0/heimdall/f.md)"
        );
        assert!(absolute_links("[x](../../up.md)", &source, "heimdall").is_err(), "a link out of the repository");
        assert!(SourceUrl::parse("github.com/o/r/blob/v1").is_err() && SourceUrl::parse("https://github.com/o/r").is_err());
        let source = SourceUrl::parse("https://github.com/MITRE/heimdall-chart/blob/v4.0.0").unwrap();
        assert_eq!((source.repository(), source.owner().as_str()), ("https://github.com/MITRE/heimdall-chart", "mitre"));
    }
}
