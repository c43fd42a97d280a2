//! The migration map from mitre/heimdall-helm, proven: a values file in the old chart's style, translated by `cargo xtask migrate-values`, renders, and Heimdall gets every setting and secret the old file gave it, under the name Heimdall reads.

use heimdall_chart_tests::{repo_root, xtask_binary};
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use xtask::tasks::migrate;

const FIXTURE: &str = "tests/fixtures/upstream/heimdall-helm-values.yaml";

fn yaml_file(path: &Path) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn migrate_fixture(out: &Path) -> std::process::Output {
    Command::new(xtask_binary()).arg("migrate-values").arg(repo_root().join(FIXTURE)).arg("--out").arg(out).output().unwrap()
}

/// The rendering of the translated files, by `cargo xtask template`.
fn render(out: &Path) -> Vec<Value> {
    let values = out.join("values.yaml");
    let secrets = out.join("secrets.yaml");
    let rendered = Command::new(xtask_binary()).args(["template", "-f"]).arg(&values).arg("-f").arg(&secrets).output().unwrap();
    assert!(rendered.status.success(), "the translated values do not render:\n{}", String::from_utf8_lossy(&rendered.stderr));
    String::from_utf8_lossy(&rendered.stdout)
        .split("\n---")
        .map(|d| serde_yaml::from_str(d).unwrap())
        .filter(|d: &Value| d.is_mapping())
        .collect()
}

fn object<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter().find(|d| d["kind"] == kind && d["metadata"]["name"] == name).unwrap_or_else(|| panic!("no {kind}/{name} rendered"))
}

/// Every variable Heimdall reads, by the chart's files/variables.yaml (settings and secrets, and those that may be either).
fn variables(classes: &[&str]) -> BTreeSet<String> {
    let list = yaml_file(&repo_root().join("heimdall/files/variables.yaml"));
    classes
        .iter()
        .flat_map(|c| list[*c].as_sequence().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| serde_yaml::to_string(v).unwrap().trim().to_string())
}

#[test]
fn every_old_setting_and_secret_reaches_heimdall_under_the_name_it_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("migrated");
    let run = migrate_fixture(&out);
    assert!(run.status.success(), "migrate-values failed:\n{}", String::from_utf8_lossy(&run.stderr));
    let docs = render(&out);
    let config = &object(&docs, "ConfigMap", "heimdall-config")["data"];
    let secret = &object(&docs, "Secret", "heimdall-secrets")["stringData"];
    let map = migrate::load_map(&repo_root().join("docs/migration/heimdall-helm.yaml")).unwrap();
    let old = yaml_file(&repo_root().join(FIXTURE));
    let (settings, secrets) = (variables(&["settings", "either"]), variables(&["secrets", "either"]));
    for (key, var) in &map.settings {
        assert!(!old[key.as_str()].is_null(), "the fixture leaves {key} out, so the map's entry for it is untested");
        assert!(settings.contains(var), "{key} maps to {var}, which Heimdall does not read as a setting");
        assert_eq!(config[var.as_str()].as_str(), Some(text(&old[key.as_str()]).as_str()), "{key} did not reach the ConfigMap as {var}");
    }
    for (key, var) in &map.secrets {
        assert!(!old[key.as_str()].is_null(), "the fixture leaves {key} out, so the map's entry for it is untested");
        assert!(secrets.contains(var), "{key} maps to {var}, which Heimdall does not read from a Secret");
        assert_eq!(secret[var.as_str()].as_str(), Some(text(&old[key.as_str()]).as_str()), "{key} did not reach the Secret as {var}");
    }
    let heimdall = object(&docs, "Deployment", "heimdall")["spec"]["template"]["spec"]["containers"].as_sequence().unwrap()[0].clone();
    let sources = serde_yaml::to_string(&heimdall["envFrom"]).unwrap();
    assert!(sources.contains("heimdall-config") && sources.contains("heimdall-secrets"), "Heimdall loads neither: {sources}");
    let statefulset = object(&docs, "StatefulSet", "heimdall-postgresql");
    assert_eq!(statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"], "standard");
    let env = serde_yaml::to_string(&statefulset["spec"]["template"]["spec"]["containers"][0]["env"]).unwrap();
    assert!(env.contains("heimdall-database"), "databaseName did not reach the embedded database: {env}");
}

#[test]
fn the_secrets_file_is_private_and_the_values_file_holds_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("migrated");
    assert!(migrate_fixture(&out).status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("secrets.yaml")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "secrets.yaml is readable by others");
    }
    let values = std::fs::read_to_string(out.join("values.yaml")).unwrap();
    let secrets = yaml_file(&out.join("secrets.yaml"));
    for (var, value) in secrets["heimdall"]["secrets"].as_mapping().unwrap() {
        assert!(!values.contains(value.as_str().unwrap()), "the value of {var:?} is in values.yaml");
    }
    let again = migrate_fixture(&out);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists"), "a second run overwrote the files");
}

#[test]
fn a_value_with_no_place_here_is_refused_by_name_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.yaml");
    std::fs::write(&old, "jwtSecret: x\nsops:\n  enabled: true\n").unwrap();
    let out = dir.path().join("migrated");
    let run = Command::new(xtask_binary()).arg("migrate-values").arg(&old).arg("--out").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success() && stderr.contains("sops: ") && stderr.contains("helm-secrets"), "{stderr}");
    assert!(!out.exists(), "files were written although the translation failed");
}

#[test]
fn the_translation_the_matrix_renders_is_what_migrate_values_writes_today() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("migrated");
    assert!(migrate_fixture(&out).status.success());
    for file in ["values.yaml", "secrets.yaml"] {
        let committed = repo_root().join("tests/fixtures/upstream/migrated").join(file);
        assert_eq!(
            std::fs::read_to_string(out.join(file)).unwrap(),
            std::fs::read_to_string(&committed).unwrap(),
            "{} is stale: run cargo xtask migrate-values {FIXTURE} --out DIR and copy DIR/{file} over it",
            committed.display()
        );
    }
}
