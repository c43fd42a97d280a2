//! What a release promises its users: Artifact Hub metadata that names the images the chart really runs, actions pinned by digest, publishing only after the whole CI, a signed digest, and Renovate managers that still find every pin they bump.

use heimdall_chart_tests::{repo_root, xtask_binary};
use regex::Regex;
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::process::Command;
use xtask::support::tools::CrdOrigin;

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

fn yaml(rel: &str) -> Value {
    serde_yaml::from_str(&read(rel)).unwrap_or_else(|e| panic!("parsing {rel}: {e}"))
}

/// Every container image of every pod the chart renders with its default values (`cargo xtask template`).
fn images_the_defaults_render() -> BTreeSet<String> {
    let out = Command::new(xtask_binary()).arg("template").output().unwrap();
    assert!(out.status.success(), "cargo xtask template failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let mut images = BTreeSet::new();
    for text in String::from_utf8_lossy(&out.stdout).split("\n---") {
        let doc: Value = serde_yaml::from_str(text).unwrap();
        let spec = if doc["kind"] == "Pod" { &doc["spec"] } else { &doc["spec"]["template"]["spec"] };
        for list in ["initContainers", "containers"] {
            for c in spec[list].as_sequence().into_iter().flatten() {
                images.insert(c["image"].as_str().unwrap().to_string());
            }
        }
    }
    images
}

#[test]
fn artifacthub_images_are_exactly_the_images_the_default_values_render() {
    let chart = yaml("heimdall/Chart.yaml");
    let listed: Value =
        serde_yaml::from_str(chart["annotations"]["artifacthub.io/images"].as_str().expect("Chart.yaml has no artifacthub.io/images"))
            .unwrap();
    let listed: BTreeSet<String> = listed.as_sequence().unwrap().iter().map(|i| i["image"].as_str().unwrap().to_string()).collect();
    let rendered = images_the_defaults_render();
    assert!(rendered.len() >= 2, "the defaults render Heimdall and PostgreSQL at least: {rendered:?}");
    assert_eq!(listed, rendered, "heimdall/Chart.yaml's artifacthub.io/images must list exactly the images the default values render");
}

#[test]
fn artifacthub_annotations_are_complete_and_well_formed() {
    let chart = yaml("heimdall/Chart.yaml");
    let a = &chart["annotations"];
    for key in ["artifacthub.io/changes", "artifacthub.io/images", "artifacthub.io/links"] {
        let list: Value = serde_yaml::from_str(a[key].as_str().unwrap_or_else(|| panic!("Chart.yaml has no {key}"))).unwrap();
        assert!(list.as_sequence().is_some_and(|l| !l.is_empty()), "{key} must be a non-empty YAML list");
    }
    let changes: Value = serde_yaml::from_str(a["artifacthub.io/changes"].as_str().unwrap()).unwrap();
    for c in changes.as_sequence().unwrap() {
        let kind = c["kind"].as_str().unwrap_or_default();
        assert!(
            ["added", "changed", "deprecated", "removed", "fixed", "security"].contains(&kind),
            "change kind {kind:?} is not one Artifact Hub knows"
        );
        assert!(c["description"].as_str().is_some_and(|d| !d.is_empty()), "a change without a description: {c:?}");
    }
    assert!(a["artifacthub.io/license"].as_str().is_some() && a["artifacthub.io/category"].as_str().is_some());
    assert!(yaml("artifacthub-repo.yml").is_mapping(), "artifacthub-repo.yml must be a YAML map");
}

#[test]
fn every_action_is_pinned_by_a_commit_sha_with_its_version_beside_it() {
    let pinned = Regex::new(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # \S+$").unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(repo_root().join(".github/workflows")).unwrap() {
        let path = entry.unwrap().path();
        for (n, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            let Some(target) = line.trim_start().trim_start_matches("- ").strip_prefix("uses: ") else { continue };
            if target.starts_with("./") {
                continue;
            }
            checked += 1;
            assert!(
                pinned.is_match(target),
                "{}:{}: {target:?} is not pinned by a 40-hex commit with `# version` after it",
                path.display(),
                n + 1
            );
        }
    }
    assert!(checked > 10, "only {checked} actions found: the scan reads nothing");
}

#[test]
fn a_release_publishes_after_the_whole_ci_and_signs_the_digest_it_pushed() {
    let release = yaml(".github/workflows/release.yml");
    let jobs = &release["jobs"];
    assert_eq!(jobs["ci"]["uses"], "./.github/workflows/ci.yml", "release.yml must run the CI workflow itself");
    let needs = &jobs["publish"]["needs"];
    assert!(needs == "ci" || needs.as_sequence().is_some_and(|n| n.iter().any(|j| j == "ci")), "publish must need the ci job");
    assert_eq!(jobs["publish"]["permissions"]["id-token"], "write", "cosign keyless needs the OIDC token");
    let ci = yaml(".github/workflows/ci.yml");
    assert!(ci["on"].get("workflow_call").is_some(), "ci.yml must be callable by release.yml");
    assert!(ci["jobs"].get("e2e-kind").is_some(), "the CI release.yml waits for has no job where pods run");
    let runs: Vec<&str> = jobs["publish"]["steps"].as_sequence().unwrap().iter().filter_map(|s| s["run"].as_str()).collect();
    let release_step = runs.iter().find(|r| r.contains("cargo xtask release")).expect("the publish job must run cargo xtask release");
    for flag in ["--registry \"oci://ghcr.io/", "--source-url", "--keyless-identity"] {
        assert!(release_step.contains(flag), "the publish job's cargo xtask release lacks {flag}: {release_step}");
    }
    assert!(
        !runs.iter().any(|r| r.contains("helm push") || r.contains("cosign sign")),
        "every release step belongs to cargo xtask release"
    );
    let rehearsal = &ci["jobs"]["release-rehearsal"];
    let runs: Vec<&str> =
        rehearsal["steps"].as_sequence().expect("ci.yml has no release-rehearsal job").iter().filter_map(|s| s["run"].as_str()).collect();
    let step = runs.iter().find(|r| r.contains("cargo xtask release")).expect("the rehearsal job must run cargo xtask release");
    assert!(step.contains("--key") && step.contains("--plain-http"), "the rehearsal signs with its throwaway key: {step}");
    assert!(ci["on"].get("pull_request").is_some(), "the rehearsal must run on pull requests");
    assert!(read("README.md").contains("cosign verify"), "the README must say how to verify a release");
}

/// Each regex manager's (depName, currentValue) pairs, from the files its patterns select.
fn renovate_pins() -> BTreeSet<(String, String)> {
    let config: serde_json::Value = serde_json::from_str(&read("renovate.json")).unwrap();
    let files: Vec<String> = walkdir::WalkDir::new(repo_root())
        .into_iter()
        .filter_entry(|e| !matches!(e.file_name().to_str(), Some("target" | ".git" | ".tools")))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(repo_root()).unwrap().to_string_lossy().into_owned())
        .collect();
    let mut pins = BTreeSet::new();
    for m in config["customManagers"].as_array().unwrap() {
        let patterns: Vec<Regex> = m["managerFilePatterns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Regex::new(p.as_str().unwrap().trim_matches('/')).unwrap())
            .collect();
        let mut found = 0;
        for file in files.iter().filter(|f| patterns.iter().any(|p| p.is_match(f))) {
            let text = read(file);
            for s in m["matchStrings"].as_array().unwrap() {
                for c in Regex::new(s.as_str().unwrap()).unwrap().captures_iter(&text) {
                    let dep = c.name("depName").map(|d| d.as_str()).or(m["depNameTemplate"].as_str()).unwrap();
                    pins.insert((dep.to_string(), c["currentValue"].to_string()));
                    found += 1;
                }
            }
        }
        assert!(found > 0, "renovate.json manager {:?} finds no pin: its regex no longer matches its file", m["description"]);
    }
    pins
}

#[test]
fn renovate_finds_every_pin_it_bumps_with_the_value_the_code_uses() {
    let kind = read(".github/workflows/ci.yml").lines().find_map(|l| l.trim().strip_prefix("KIND_VERSION: ").map(str::to_string)).unwrap();
    let app = yaml("heimdall/Chart.yaml")["appVersion"].as_str().unwrap().to_string();
    let cnpg = yaml("docs/examples/cloudnative-pg.yaml")["extraObjects"]
        .as_sequence()
        .unwrap()
        .iter()
        .find_map(|o| o["spec"]["imageName"].as_str())
        .and_then(|i| i.rsplit_once(':'))
        .map(|(_, tag)| tag.to_string())
        .unwrap();
    let expected: BTreeSet<(String, String)> = [
        ("docker.io/mitre/heimdall2", app.as_str()),
        ("helm.sh/helm/v3", xtask::support::tools::HELM_PINS[0].version),
        ("helm.sh/helm/v4", xtask::support::tools::HELM_PINS[1].version),
        ("golang", xtask::support::tools::GO_VERSION),
        ("kubernetes-validate", xtask::support::tools::KUBERNETES_VALIDATE_VERSION),
        ("github.com/rhysd/actionlint", xtask::support::tools::ACTIONLINT_VERSION),
        ("github.com/getsops/sops/v3", xtask::support::tools::SOPS_VERSION),
        ("filippo.io/age", xtask::support::tools::AGE_VERSION),
        ("github.com/sigstore/cosign/v3", xtask::support::tools::COSIGN_VERSION),
        ("oras.land/oras", xtask::support::tools::ORAS_VERSION),
        ("github.com/distribution/distribution/v3", xtask::support::tools::REGISTRY_VERSION),
        ("sigs.k8s.io/kind", kind.as_str()),
        ("k8s.io/kubernetes", xtask::lifecycle::controlplane::KUBERNETES_VERSION),
        ("go.etcd.io/etcd/server/v3", xtask::lifecycle::controlplane::ETCD_VERSION),
        ("github.com/cloudnativelabs/kube-router/v2", xtask::lifecycle::node::build::KUBE_ROUTER_VERSION),
        ("node", xtask::lifecycle::node::images::NODE_VERSION),
        ("yarn", xtask::lifecycle::node::images::YARN_VERSION),
        ("github.com/coredns/coredns", xtask::lifecycle::node::build::COREDNS_VERSION),
        ("nginx/nginx-gateway-fabric", xtask::support::tools::NGF_CRD_VERSION),
        ("ghcr.io/cloudnative-pg/postgresql", cnpg.as_str()),
    ]
    .into_iter()
    .map(|(d, v)| (d.to_string(), v.to_string()))
    .chain(images_the_defaults_render().into_iter().map(|image| {
        let (name, tag) = image.rsplit_once(':').unwrap();
        (name.to_string(), tag.to_string())
    }))
    .chain(xtask::support::tools::CRDS.iter().filter_map(|crd| match crd.origin {
        CrdOrigin::GoModule { module, version, .. } => Some((module.to_string(), version.to_string())),
        CrdOrigin::Kept { .. } => None,
    }))
    .collect();
    assert_eq!(renovate_pins(), expected, "renovate.json's regex managers must find each pin once, at the value the code uses");
}

#[test]
fn the_icon_is_pinned_to_a_commit_and_the_licence_is_the_one_declared() {
    let chart = yaml("heimdall/Chart.yaml");
    let icon = chart["icon"].as_str().unwrap();
    let rest = icon.strip_prefix("https://raw.githubusercontent.com/mitre/heimdall2/").expect("the icon comes from mitre/heimdall2");
    let commit = rest.split('/').next().unwrap();
    assert!(commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()), "the icon is pinned to {commit}, not a commit");
    assert!(icon.ends_with(".png") || icon.ends_with(".svg"), "Artifact Hub shows PNG and SVG icons: {icon}");
    assert_eq!(chart["annotations"]["artifacthub.io/license"].as_str(), Some("Apache-2.0"));
    for licence in ["LICENSE", "heimdall/LICENSE"] {
        let text = read(licence);
        assert!(text.contains("Apache License") && text.contains("Version 2.0, January 2004"), "{licence} is not the Apache License 2.0");
    }
    assert_eq!(read("LICENSE"), read("heimdall/LICENSE"), "the chart ships the repository's licence");
}

#[test]
fn a_dry_run_release_packages_and_prints_each_later_step_in_order() {
    let work = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("xtask")
        .unwrap()
        .args(["release", "--registry", "oci://registry.example/owner/charts", "--source-url", "https://github.com/owner/repo/blob/v4.0.0"])
        .args(["--key", "/keys/release.key", "--dry-run", "--work"])
        .arg(work.path())
        .env_remove("REGISTRY_USER")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    let version = yaml("heimdall/Chart.yaml")["version"].as_str().unwrap().to_string();
    assert!(work.path().join(format!("dist/heimdall-{version}.tgz")).is_file(), "the dry run packaged no archive:\n{said}");
    let at = |needle: &str| said.find(needle).unwrap_or_else(|| panic!("the dry run does not say {needle:?}:\n{said}"));
    assert!(at("would push: ") < at("would sign: ") && at("would sign: ") < at("would verify: "), "{said}");
    assert!(at("would verify: ") < at("would push Artifact Hub's metadata: "), "{said}");
    assert!(said.contains("oci://registry.example/owner/charts") && said.contains("--key /keys/release.key"), "{said}");
    assert!(said.contains("--key /keys/release.pub"), "verification uses the public key beside the private one:\n{said}");
}

/// Users without Rust get heimdall-migrate-values from the release: built by the make target
/// tests/migration.rs proves (static on Linux), for Linux and macOS on both architectures, attached
/// to the tag's GitHub release, which is made only once the chart is published.
#[test]
fn a_release_attaches_heimdall_migrate_values_for_linux_and_macos() {
    let release = yaml(".github/workflows/release.yml");
    let jobs = &release["jobs"];
    assert_eq!(jobs["github-release"]["needs"], "publish", "the GitHub release comes after the chart is published");
    let job = &jobs["migrate-values-binaries"];
    assert_eq!(job["needs"], "github-release");
    let targets: BTreeSet<&str> =
        job["strategy"]["matrix"]["include"].as_sequence().unwrap().iter().filter_map(|t| t["target"].as_str()).collect();
    let wanted = ["aarch64-apple-darwin", "aarch64-unknown-linux-gnu", "x86_64-apple-darwin", "x86_64-unknown-linux-gnu"];
    assert_eq!(targets, wanted.into_iter().collect(), "the binaries' targets");
    let runs: Vec<&str> = job["steps"].as_sequence().unwrap().iter().filter_map(|s| s["run"].as_str()).collect();
    assert!(
        runs.iter().any(|r| r.starts_with("make migrate-values-binary TARGET=")),
        "built otherwise than by the tested make target: {runs:?}"
    );
    assert!(runs.iter().any(|r| r.starts_with("gh release upload") && r.contains(".sha256")), "not attached with its checksum: {runs:?}");
    assert!(read("docs/migration-from-heimdall-helm.md").contains("heimdall-migrate-values"), "the guide must name the binary");
}

/// NGINX Gateway Fabric's CRDs are kept in the repository: their SOURCE.md names the release they
/// were copied at, the one NGF_CRD_VERSION (which Renovate bumps) says, so a bump without the new
/// files fails here.
#[test]
fn the_kept_crds_are_the_release_the_pin_names() {
    let source = read("tests/fixtures/upstream/nginx-gateway-fabric/SOURCE.md");
    for crd in xtask::support::tools::CRDS {
        if let CrdOrigin::Kept { path, release, .. } = crd.origin {
            let file = path.rsplit('/').next().unwrap();
            let row = source.lines().find(|l| l.contains(file)).unwrap_or_else(|| panic!("SOURCE.md has no row for {file}"));
            assert!(row.contains(release), "SOURCE.md's row for {file} names another release than {release}: {row}");
            assert!(repo_root().join(path).is_file(), "{path} is missing");
        }
    }
}
