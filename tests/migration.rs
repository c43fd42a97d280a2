//! The migration map from mitre/heimdall-helm, proven: a values file in the old chart's style, translated by `cargo xtask migrate-values`, renders, and Heimdall gets every setting and secret the old file gave it, under the name Heimdall reads.

use heimdall_chart_tests::{repo_root, xtask_binary};
use heimdall_migrate_values as migrate;
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

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
    let map = migrate::Map::built_in().unwrap();
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

const UPSTREAM: &str = "tests/fixtures/upstream/heimdall-helm";
/// The old chart, as upstream keeps it.
const OLD_VALUES: &str = "tests/fixtures/upstream/heimdall-helm/heimdall2/values.yaml";

/// `old` translated by the library and written into `dir`; its notes, or the refusal.
fn translate_into(old: &Value, dir: &Path) -> Result<Vec<String>, String> {
    let map = migrate::Map::built_in().unwrap();
    let m = migrate::translate(&map, old).map_err(|e| format!("{e:#}"))?;
    migrate::write(&m, dir).unwrap();
    Ok(m.notes)
}

/// Upstream's own values.yaml (main = tag heimdall-3.3.3): most users start from a copy of it.
#[test]
fn the_old_charts_own_values_file_translates_and_renders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("migrated");
    let run = Command::new(xtask_binary()).arg("migrate-values").arg(repo_root().join(OLD_VALUES)).arg("--out").arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "the old chart's own values file is refused:\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        stdout.contains(
            "left out, as the old chart's own defaults (this chart's defaults apply instead): nodeEnv, sops, postgresql, certs, heimdall"
        ),
        "{stdout}"
    );
    let docs = render(&out);
    let statefulset = object(&docs, "StatefulSet", "heimdall-postgresql");
    let env = serde_yaml::to_string(&statefulset["spec"]["template"]["spec"]["containers"][0]["env"]).unwrap();
    assert!(env.contains("heimdall-database"), "the old default database name, which the data needs, was lost: {env}");
}

/// start-heimdall2.sh's `--set` flags over the values file, as the old README tells users to run it.
#[test]
fn the_start_scripts_values_over_the_old_values_file_translate() {
    let mut old = yaml_file(&repo_root().join(OLD_VALUES));
    let set = yaml_file(&repo_root().join(UPSTREAM).join("start-heimdall2-set.yaml"));
    for (k, v) in set.as_mapping().unwrap() {
        old.as_mapping_mut().unwrap().insert(k.clone(), v.clone());
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("migrated");
    translate_into(&old, &out).unwrap();
    let docs = render(&out);
    let secret = &object(&docs, "Secret", "heimdall-secrets")["stringData"];
    for (var, key) in [("JWT_SECRET", "jwtSecret"), ("API_KEY_SECRET", "apiKeySecret"), ("OIDC_CLIENT_SECRET", "oidcClientSecret")] {
        assert_eq!(secret[var], set[key], "{key} did not reach the Secret as {var}");
    }
    let config = &object(&docs, "ConfigMap", "heimdall-config")["data"];
    assert_eq!(config["OIDC_USES_VERIFIED_EMAIL"], "false");
    assert_eq!(config["JWT_EXPIRE_TIME"], "1d");
}

/// The README's Ingress example (its path given as bare text, which the old chart could not render).
#[test]
fn the_readme_ingress_example_renders_an_ingress_to_this_charts_service() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("migrated");
    let notes = translate_into(&yaml_file(&repo_root().join(UPSTREAM).join("readme-ingress.yaml")), &out).unwrap();
    assert!(notes.iter().any(|n| n.contains("no pathType")), "{notes:?}");
    let docs = render(&out);
    let ingress = object(&docs, "Ingress", "heimdall");
    let rule = &ingress["spec"]["rules"][0];
    assert_eq!(rule["host"], "heimdall.example.com");
    let path = &rule["http"]["paths"][0];
    assert_eq!((path["path"].as_str(), path["pathType"].as_str()), (Some("/"), Some("Prefix")));
    assert_eq!(path["backend"]["service"]["name"], "heimdall");
    assert_eq!(ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.entrypoints"], "web");
}

#[test]
fn the_maps_copy_of_the_old_charts_values_is_upstreams() {
    let map = migrate::Map::built_in().unwrap();
    assert_eq!(
        map.old_chart_values,
        yaml_file(&repo_root().join(OLD_VALUES)),
        "docs/migration/heimdall-helm.yaml's oldChartValues is not upstream's heimdall2/values.yaml"
    );
}

/// One entry of the map, given a value the old chart's defaults do not hold, and where it must land.
struct Landing {
    key: &'static str,
    old: &'static str,
    lands: fn(&[Value]) -> bool,
    place: &'static str,
}

fn kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter().find(|d| d["kind"] == kind && d["metadata"]["annotations"]["helm.sh/hook"].is_null()).unwrap_or(&Value::Null)
}

fn pod(docs: &[Value], k: &str) -> Value {
    kind(docs, k)["spec"]["template"].clone()
}

/// Heimdall's Service: the one with a port named http.
fn service(docs: &[Value]) -> Value {
    let http = |d: &&Value| d["spec"]["ports"].as_sequence().is_some_and(|p| p.iter().any(|p| p["name"] == "http"));
    docs.iter().filter(|d| d["kind"] == "Service").find(http).cloned().unwrap_or_default()
}

fn config(docs: &[Value], var: &str) -> Value {
    docs.iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "heimdall-config")
        .map(|d| d["data"][var].clone())
        .unwrap_or_default()
}

fn has(v: &Value, needle: &str) -> bool {
    serde_yaml::to_string(v).unwrap().contains(needle)
}

/// Old values for an external database (its host and password are required), then `$more`.
macro_rules! external {
    ($more:literal) => {
        concat!("postgresql: {enabled: false}\ndatabaseHost: db.example.internal\ndatabasePassword: landing-password\n", $more)
    };
}

const LANDINGS: &[Landing] = &[
    Landing { key: "databaseHost", old: external!(""), lands: |d| config(d, "DATABASE_HOST") == "db.example.internal", place: "DATABASE_HOST" },
    Landing { key: "databasePort", old: external!("databasePort: '6543'"), lands: |d| config(d, "DATABASE_PORT") == "6543", place: "DATABASE_PORT" },
    Landing { key: "databaseSsl", old: external!("databaseSsl: 'false'"), lands: |d| config(d, "DATABASE_SSL") == "false", place: "DATABASE_SSL" },
    Landing { key: "databaseSslInsecure", old: external!("databaseSslInsecure: 'true'"), lands: |d| config(d, "DATABASE_SSL_INSECURE") == "true", place: "DATABASE_SSL_INSECURE" },
    Landing { key: "postgresql.enabled", old: external!(""), lands: |d| kind(d, "StatefulSet").is_null(), place: "no embedded database" },
    Landing { key: "databaseName", old: external!("databaseName: ext-db"), lands: |d| config(d, "DATABASE_NAME") == "ext-db", place: "DATABASE_NAME (external)" },
    Landing { key: "databaseName", old: "databaseName: old-db", lands: |d| has(&pod(d, "StatefulSet")["spec"]["containers"][0]["env"], "old-db") && config(d, "DATABASE_NAME") == "old-db", place: "POSTGRES_DB and DATABASE_NAME (embedded)" },
    Landing { key: "databaseUsername", old: external!("databaseUsername: ext-user"), lands: |d| config(d, "DATABASE_USERNAME") == "ext-user", place: "DATABASE_USERNAME (external)" },
    Landing { key: "databaseUsername", old: "databaseUsername: old-user", lands: |d| has(&pod(d, "StatefulSet")["spec"]["containers"][0]["env"], "old-user") && config(d, "DATABASE_USERNAME") == "old-user", place: "POSTGRES_USER and DATABASE_USERNAME (embedded)" },
    Landing { key: "postgresql.persistence.size", old: "postgresql: {persistence: {size: 3Gi}}", lands: |d| kind(d, "StatefulSet")["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "3Gi", place: "the database claim's size" },
    Landing { key: "postgresql.persistence.storageClassName", old: "postgresql: {persistence: {storageClassName: fast}}", lands: |d| kind(d, "StatefulSet")["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "fast", place: "the database claim's class" },
    Landing { key: "postgresql.resources", old: "postgresql: {resources: {limits: {memory: 3Gi}}}", lands: |d| pod(d, "StatefulSet")["spec"]["containers"][0]["resources"]["limits"]["memory"] == "3Gi", place: "the database container's limits" },
    Landing { key: "postgresql.nodeSelector", old: "postgresql: {nodeSelector: {disk: ssd}}", lands: |d| pod(d, "StatefulSet")["spec"]["nodeSelector"]["disk"] == "ssd", place: "the database pod's nodeSelector" },
    Landing { key: "postgresql.tolerations", old: "postgresql: {tolerations: [{key: db-only, operator: Exists}]}", lands: |d| has(&pod(d, "StatefulSet")["spec"]["tolerations"], "db-only"), place: "the database pod's tolerations" },
    Landing { key: "postgresql.affinity", old: "postgresql: {affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 7, podAffinityTerm: {topologyKey: db-zone}}]}}}", lands: |d| has(&pod(d, "StatefulSet")["spec"]["affinity"], "db-zone"), place: "the database pod's affinity" },
    Landing { key: "postgresql.podAnnotations", old: "postgresql: {podAnnotations: {old/db: 'yes'}}", lands: |d| pod(d, "StatefulSet")["metadata"]["annotations"]["old/db"] == "yes", place: "the database pod's annotations" },
    Landing { key: "podAnnotations", old: "podAnnotations: {old/top: 'yes'}", lands: |d| pod(d, "StatefulSet")["metadata"]["annotations"]["old/top"] == "yes" && pod(d, "Deployment")["metadata"]["annotations"]["old/top"].is_null(), place: "the database pod's annotations only, as the old chart put them" },
    Landing { key: "heimdall.image.pullPolicy", old: "heimdall: {image: {pullPolicy: Never}}", lands: |d| pod(d, "Deployment")["spec"]["containers"][0]["imagePullPolicy"] == "Never", place: "Heimdall's pull policy" },
    Landing { key: "heimdall.service.type", old: "heimdall: {service: {type: NodePort}}", lands: |d| service(d)["spec"]["type"] == "NodePort", place: "the Service's type" },
    Landing { key: "heimdall.service.port", old: "heimdall: {service: {port: 8080}}", lands: |d| service(d)["spec"]["ports"][0]["port"] == 8080, place: "the Service's port" },
    Landing { key: "heimdall.podAnnotations", old: "heimdall: {podAnnotations: {old/app: 'yes'}}", lands: |d| pod(d, "Deployment")["metadata"]["annotations"]["old/app"] == "yes", place: "Heimdall's pod annotations" },
    Landing { key: "heimdall.resources", old: "heimdall: {resources: {limits: {memory: 3Gi}}}", lands: |d| pod(d, "Deployment")["spec"]["containers"][0]["resources"]["limits"]["memory"] == "3Gi", place: "Heimdall's limits" },
    Landing { key: "heimdall.nodeSelector", old: "heimdall: {nodeSelector: {tier: web}}", lands: |d| pod(d, "Deployment")["spec"]["nodeSelector"]["tier"] == "web", place: "Heimdall's nodeSelector" },
    Landing { key: "heimdall.tolerations", old: "heimdall: {tolerations: [{key: web-only, operator: Exists}]}", lands: |d| has(&pod(d, "Deployment")["spec"]["tolerations"], "web-only"), place: "Heimdall's tolerations" },
    Landing { key: "heimdall.affinity", old: "heimdall: {affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 9, podAffinityTerm: {topologyKey: web-zone}}]}}}", lands: |d| has(&pod(d, "Deployment")["spec"]["affinity"], "web-zone"), place: "Heimdall's affinity" },
    Landing { key: "heimdall.imagePullSecrets", old: "heimdall: {imagePullSecrets: [{name: pull-a}]}", lands: |d| has(&pod(d, "Deployment")["spec"]["imagePullSecrets"], "pull-a"), place: "Heimdall's pull secrets" },
    Landing { key: "imagePullSecrets", old: "imagePullSecrets: [{name: pull-b}]", lands: |d| has(&pod(d, "Deployment")["spec"]["imagePullSecrets"], "pull-b") && has(&pod(d, "StatefulSet")["spec"]["imagePullSecrets"], "pull-b"), place: "both pods' pull secrets" },
    Landing { key: "nameOverride", old: "nameOverride: hd", lands: |d| kind(d, "Deployment")["metadata"]["labels"]["app.kubernetes.io/name"] == "hd", place: "the name label" },
    Landing { key: "fullnameOverride", old: "fullnameOverride: heimdall-moved", lands: |d| kind(d, "Deployment")["metadata"]["name"] == "heimdall-moved", place: "the objects' names" },
    Landing { key: "heimdall.image.repository", old: "heimdall: {image: {repository: registry1.dso.mil/ironbank/mitre/saf/heimdall2}}", lands: |d| pod(d, "Deployment")["spec"]["containers"][0]["image"].as_str().is_some_and(|i| i.starts_with("registry1.dso.mil/ironbank/mitre/saf/heimdall2:")), place: "Heimdall's image, its registry kept" },
    Landing { key: "postgresql.image.repository", old: "postgresql: {image: {repository: mirror.example:5000/library/postgres}}", lands: |d| pod(d, "StatefulSet")["spec"]["containers"][0]["image"].as_str().is_some_and(|i| i.starts_with("mirror.example:5000/library/postgres:")), place: "the database's image, its registry kept" },
    Landing { key: "heimdall.ingress", old: "heimdall: {ingress: {enabled: true, className: traefik, hosts: [{host: h.example, paths: [{path: /x, pathType: Exact}]}], tls: [{secretName: t, hosts: [h.example]}]}}", lands: |d| { let i = kind(d, "Ingress"); i["spec"]["ingressClassName"] == "traefik" && i["spec"]["rules"][0]["http"]["paths"][0]["pathType"] == "Exact" && i["spec"]["tls"][0]["secretName"] == "t" }, place: "the Ingress" },
];

/// Every entry of the map's values, database, images and ingress sections (settings and secrets: the
/// test above) given a non-default value lands where the map says in this chart's rendering.
#[test]
fn every_entry_of_the_map_lands_where_it_says() {
    let map = migrate::Map::built_in().unwrap();
    let keys: BTreeSet<&str> =
        map.values.keys().chain(map.database.keys()).chain(map.images.keys()).chain(map.ingress.keys()).map(String::as_str).collect();
    let tested: BTreeSet<&str> = LANDINGS.iter().map(|l| l.key).collect();
    assert_eq!(keys, tested, "each entry of the map needs a row in LANDINGS, and each row an entry");
    for db in map.database.keys() {
        assert_eq!(LANDINGS.iter().filter(|l| l.key == db).count(), 2, "{db}: a row for the embedded database and one for an external one");
    }
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for (i, l) in LANDINGS.iter().enumerate() {
        let out = dir.path().join(format!("landing-{i}"));
        let old: Value = serde_yaml::from_str(l.old).unwrap();
        if let Err(e) = translate_into(&old, &out) {
            wrong.push(format!("{}: refused: {e}", l.key));
            continue;
        }
        if !(l.lands)(&render(&out)) {
            wrong.push(format!("{}: did not reach {} (old values: {})", l.key, l.place, l.old.replace('\n', "; ")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// This machine's Rust target triple (`rustc -vV`'s host).
fn host_target() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines().find_map(|l| l.strip_prefix("host: ")).expect("rustc -vV names no host").to_string()
}

/// Whether an ELF program asks for a loader (PT_INTERP): a program without one loads no shared library.
fn has_loader(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| u32::from_le_bytes(elf[phoff + i * size..phoff + i * size + 4].try_into().unwrap()) == 3)
}

/// The release's asset for users without Rust: `make migrate-values-binary` (the command release.yml
/// runs) for this machine's target builds a program that, on Linux, asks for no loader; run alone (no
/// environment at all, in another folder) it translates upstream's values exactly as `cargo xtask
/// migrate-values` does, and says how to call it when called wrongly. Cold, the build takes about 25 s.
#[test]
fn the_release_binary_translates_alone_as_xtask_does() {
    let target = host_target();
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    let make = Command::new("make")
        .current_dir(repo_root())
        .args(["-s", "migrate-values-binary", &format!("TARGET={target}"), &format!("OUT={}", dist.display())])
        .env("CARGO_TARGET_DIR", repo_root().join("target/migrate-values-binary"))
        .output()
        .unwrap();
    assert!(make.status.success(), "make migrate-values-binary failed:\n{}", String::from_utf8_lossy(&make.stderr));
    let binary = dist.join(format!("heimdall-migrate-values-{target}"));
    let sum = std::fs::read_to_string(dist.join(format!("heimdall-migrate-values-{target}.sha256"))).unwrap();
    assert!(sum.trim_end().ends_with(&format!("heimdall-migrate-values-{target}")), "{sum}");
    if target.contains("-linux-") {
        assert!(!has_loader(&std::fs::read(&binary).unwrap()), "the Linux binary needs a loader: it is not static");
    }
    let alone = |args: &[&std::ffi::OsStr]| Command::new(&binary).env_clear().current_dir(dir.path()).args(args).output().unwrap();
    let values = repo_root().join(OLD_VALUES);
    let out = dir.path().join("by-binary");
    let run = alone(&[values.as_os_str(), "--out".as_ref(), out.as_os_str()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let by_xtask = dir.path().join("by-xtask");
    assert!(Command::new(xtask_binary()).arg("migrate-values").arg(&values).arg("--out").arg(&by_xtask).status().unwrap().success());
    for file in ["values.yaml", "secrets.yaml"] {
        assert_eq!(
            std::fs::read_to_string(out.join(file)).unwrap(),
            std::fs::read_to_string(by_xtask.join(file)).unwrap(),
            "{file} differs"
        );
    }
    let wrong = alone(&[]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).starts_with("usage: heimdall-migrate-values OLD-VALUES.yaml --out DIR"));
}

/// The old values at `dotted` = `value`, as a values file would nest them.
fn nested(dotted: &str, value: Value) -> Value {
    dotted.rsplit('.').fold(value, |inner, key| {
        let mut m = serde_yaml::Mapping::new();
        m.insert(Value::String(key.into()), inner);
        Value::Mapping(m)
    })
}

/// The map's other entries: each dropped key, given a value the old defaults do not hold, is left
/// out with a note naming it; each by-hand key is refused, naming it (a feature only when enabled).
#[test]
fn every_dropped_key_leaves_a_note_and_every_by_hand_key_is_refused() {
    let map = migrate::Map::built_in().unwrap();
    for key in map.dropped.keys() {
        let m = migrate::translate(&map, &nested(key, Value::String("landing-test".into()))).unwrap();
        assert!(m.notes.iter().any(|n| n.starts_with(&format!("{key}: left out: "))), "{key}: no note: {:?}", m.notes);
        assert!(!serde_yaml::to_string(&m.values).unwrap().contains("landing-test"), "{key} reached the values");
    }
    for key in map.by_hand.keys() {
        let value = if map.features.contains(key) { serde_yaml::from_str("{enabled: true}").unwrap() } else { Value::String("x".into()) };
        let err = format!("{:#}", migrate::translate(&map, &nested(key, value)).unwrap_err());
        assert!(err.contains(&format!("{key}: no value of this chart takes it as it is; {}", map.by_hand[key])), "{key}: {err}");
    }
    for feature in &map.features {
        let m = migrate::translate(&map, &nested(feature, serde_yaml::from_str("{enabled: false, extra: landing-test}").unwrap())).unwrap();
        assert!(m.notes.iter().any(|n| n.starts_with(&format!("{feature}: {feature}.enabled is false"))), "{feature}: {:?}", m.notes);
    }
}
