//! The repository's guards: .gitignore keeps secrets and build folders out of git, and `cargo xtask package` can never ship a secret.

use heimdall_chart_tests::repo_root;
use std::path::Path;
use std::process::Command;

fn ignored(path: &str) -> bool {
    Command::new("git").arg("-C").arg(repo_root()).args(["check-ignore", "-q", "--no-index", "--", path]).status().unwrap().success()
}

#[test]
fn gitignore_keeps_secrets_and_tool_folders_out_and_templates_in() {
    for p in [
        "heimdall/env/heimdall-secrets.yaml",
        "heimdall2/env/heimdall-secrets.yaml",
        "heimdall/env/prod-secrets.yaml",
        "target/debug/x",
        ".tools/helm/v3.21.4/helm",
        "dist/heimdall-4.0.0.tgz",
        "tests/snapshots/a.snap.new",
    ] {
        assert!(ignored(p), "{p} is not ignored by .gitignore");
    }
    for p in [
        "heimdall/templates/secret.yaml",
        "heimdall/templates/heimdall-secrets.yaml",
        "heimdall/env/heimdallconfig.yaml",
        "tests/fixtures/secrets/full.yaml",
    ] {
        assert!(!ignored(p), "{p} is ignored, but must be committed");
    }
}

/// A throwaway git checkout holding a copy of the chart and the real .gitignore.
fn source_url() -> xtask::tasks::package::SourceUrl {
    xtask::tasks::package::SourceUrl::parse("https://github.com/owner/repo/blob/v4.0.0").unwrap()
}

fn checkout_with_chart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Command::new("git").arg("init").arg("-q").arg(dir.path()).status().unwrap();
    std::fs::copy(repo_root().join(".gitignore"), dir.path().join(".gitignore")).unwrap();
    heimdall_chart_tests::plant_chart(dir.path());
    dir
}

fn archive_entries(archive: &Path) -> Vec<(String, String)> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap()));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut body = String::new();
            std::io::Read::read_to_string(&mut e, &mut body).unwrap();
            (name, body)
        })
        .collect()
}

#[test]
fn package_ships_neither_the_secrets_file_nor_its_values() {
    let helm = &xtask::support::tools::find_helms(None).expect("run `cargo xtask setup`")[0];
    let repo = checkout_with_chart();
    let known = "known-planted-secret-value-0000000000000000000000000000000000000000000";
    let secrets = repo.path().join("heimdall/env/heimdall-secrets.yaml");
    std::fs::write(&secrets, format!("JWT_SECRET: \"{known}\"\n")).unwrap();
    std::fs::write(repo.path().join("heimdall/env/staging-secrets.yaml"), "API_KEY_SECRET: \"another-planted-value-000000000000\"\n")
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let archive = xtask::tasks::package::run(repo.path(), helm, out.path(), Some(&source_url())).unwrap();
    let entries = archive_entries(&archive);
    let chart = repo.path().join("heimdall");
    for template in walkdir::WalkDir::new(chart.join("templates")).into_iter().map(Result::unwrap).filter(|e| e.file_type().is_file()) {
        let name = format!("heimdall/{}", template.path().strip_prefix(&chart).unwrap().display());
        assert!(entries.iter().any(|(n, _)| *n == name), "the archive lacks the template {name}");
    }
    for (name, body) in &entries {
        assert!(!name.contains("secrets.yaml") || name.contains("templates/"), "{name} is in the archive");
        assert!(!body.contains(known) && !body.contains("another-planted-value"), "{name} holds a planted secret value");
    }
}

#[test]
fn the_packaged_readme_links_to_the_release_tag_and_the_licence_ships() {
    let helm = &xtask::support::tools::find_helms(None).expect("run `cargo xtask setup`")[0];
    let repo = checkout_with_chart();
    let out = tempfile::tempdir().unwrap();
    let err = format!("{:#}", xtask::tasks::package::run(repo.path(), helm, out.path(), None).unwrap_err());
    assert!(err.contains("relative links") && err.contains("--source-url"), "{err}");
    let archive = xtask::tasks::package::run(repo.path(), helm, out.path(), Some(&source_url())).unwrap();
    let entries = archive_entries(&archive);
    let file = |name: &str| entries.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone()).unwrap_or_default();
    let readme = file("heimdall/README.md");
    let targets: Vec<&str> = readme.split("](").skip(1).map(|t| &t[..t.find(')').unwrap()]).collect();
    assert!(targets.iter().any(|t| t.starts_with("https://github.com/owner/repo/blob/v4.0.0/docs/")), "{targets:?}");
    for target in targets {
        assert!(target.contains("://") || target.starts_with('#'), "the packaged README still links to {target}");
    }
    assert!(file("heimdall/LICENSE").contains("Apache License\n                           Version 2.0"), "the archive's LICENSE");
    assert!(readme.contains("helm install heimdall oci://ghcr.io/owner/charts/heimdall --version"), "the install line names no owner");
    let chart: serde_yaml::Value = serde_yaml::from_str(&file("heimdall/Chart.yaml")).unwrap();
    let sources: Vec<&str> = chart["sources"].as_sequence().unwrap().iter().filter_map(|s| s.as_str()).collect();
    assert_eq!(sources, ["https://github.com/owner/repo", "https://github.com/mitre/heimdall2"], "Helm pushes the first as the OCI source");
}

#[test]
fn package_refuses_when_a_secret_value_hides_in_a_shipped_file() {
    let helm = &xtask::support::tools::find_helms(None).expect("run `cargo xtask setup`")[0];
    let repo = checkout_with_chart();
    let known = "known-planted-secret-value-0000000000000000000000000000000000000000000";
    std::fs::write(repo.path().join("heimdall/env/heimdall-secrets.yaml"), format!("JWT_SECRET: \"{known}\"\n")).unwrap();
    // Someone pasted the value into a file that ships.
    let notes = repo.path().join("heimdall/README.md");
    let text = std::fs::read_to_string(&notes).unwrap();
    std::fs::write(&notes, format!("{text}\nJWT for testing: {known}\n")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = format!("{:#}", xtask::tasks::package::run(repo.path(), helm, out.path(), Some(&source_url())).unwrap_err());
    assert!(err.contains("README.md") && err.contains("1 value(s) of the local secrets file"), "{err}");
    assert!(!err.contains(known), "the error printed the secret");
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0, "the leaking archive was left behind");
}

#[test]
fn the_workflows_pass_actionlint_and_actionlint_catches_a_broken_one() {
    xtask::tasks::workflows::lint(&repo_root().join(".github/workflows")).expect("the repository's workflows must pass actionlint");
    let dir = tempfile::tempdir().unwrap();
    // A typo'd runner label and an expression reading an unknown context: both real mistakes.
    std::fs::write(
        dir.path().join("broken.yml"),
        "on: push\njobs:\n  t:\n    runs-on: ubuntu-latets\n    steps:\n      - run: echo ${{ github.evnt.name }}\n",
    )
    .unwrap();
    let msg = format!("{:#}", xtask::tasks::workflows::lint(dir.path()).unwrap_err());
    assert!(msg.contains("broken.yml") && msg.contains("evnt"), "{msg}");
}

#[test]
fn ci_runs_make_test_and_the_kind_job_runs_the_suite_through_a_kubeconfig() {
    let ci = std::fs::read_to_string(repo_root().join(".github/workflows/ci.yml")).unwrap();
    assert!(ci.contains("run: make test"), "the CI workflow does not run the README's test command");
    assert!(ci.contains("cargo xtask e2e --kubeconfig"), "no job runs the suite against a real cluster");
    let release = std::fs::read_to_string(repo_root().join(".github/workflows/release.yml")).unwrap();
    let commands: Vec<&str> = release.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    // cargo xtask release packages with the package task (tests/release.rs checks the rest of the step).
    assert!(commands.iter().any(|l| l.contains("cargo xtask release")), "the release does not run cargo xtask release");
    assert!(!commands.iter().any(|l| l.contains("helm package")), "the release runs helm package, which can ship a secrets file");
}

/// NOTES of a chart unpacked in `dir`, rendered by `helm` with `values` (NOTES wrapped in a define
/// and printed by a planted template, as test-chart does, since `helm template` leaves NOTES out).
fn notes_of(helm: &xtask::support::tools::Helm, dir: &Path, values: &[&str]) -> String {
    let chart = dir.join("heimdall");
    let notes = std::fs::read_to_string(chart.join("templates/NOTES.txt")).unwrap();
    std::fs::write(chart.join("templates/_zz_notes.tpl"), format!("{{{{- define \"test.notes\" -}}}}\n{notes}{{{{- end }}}}\n")).unwrap();
    std::fs::write(chart.join("templates/zz-notes.yaml"), "notes: {{ include \"test.notes\" . | toJson }}\n").unwrap();
    let mut cmd = Command::new(&helm.path);
    cmd.args(["template", "heimdall"]).arg(&chart).args(["--show-only", "templates/zz-notes.yaml"]);
    for v in values {
        cmd.args(["--set", v]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_yaml::Value = serde_yaml::from_slice(&out.stdout).unwrap();
    doc["notes"].as_str().unwrap().to_string()
}

#[test]
fn the_packaged_notes_link_each_doc_they_name_at_the_release_tag() {
    let helm = &xtask::support::tools::find_helms(None).expect("run `cargo xtask setup`")[0];
    let repo = checkout_with_chart();
    let out = tempfile::tempdir().unwrap();
    let archive = xtask::tasks::package::run(repo.path(), helm, out.path(), Some(&source_url())).unwrap();
    let unpacked = tempfile::tempdir().unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(&archive).unwrap())).unpack(unpacked.path()).unwrap();
    let at = "https://github.com/owner/repo/blob/v4.0.0/docs/";
    let ingress =
        notes_of(helm, unpacked.path(), &["replicaCount=2", "startCommand=image", "ingress.enabled=true", "ingress.className=nginx"]);
    let gateway =
        notes_of(helm, unpacked.path(), &["httpRoute.enabled=true", "httpRoute.parentRefs[0].name=gw", "httpRoute.hostnames[0]=h.example"]);
    for (notes, doc) in [
        (&ingress, "concurrent-migrations.md"),
        (&ingress, "examples/ingress-nginx.yaml"),
        (&gateway, "examples/gateway-api.yaml"),
        (&gateway, "secrets-management.md"),
    ] {
        assert!(notes.contains(&format!("{at}{doc}")), "NOTES name {doc} without its link at the tag:\n{notes}");
        assert!(repo_root().join("docs").join(doc).is_file(), "NOTES link docs/{doc}, which the repository lacks");
    }
    for notes in [&ingress, &gateway] {
        assert!(!notes.contains("in the chart's repository"), "a packaged chart's NOTES still give a path:\n{notes}");
    }
}
