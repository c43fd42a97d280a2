//! The helm-secrets example (docs/examples/helm-secrets/) run as helm-secrets runs it, with the pinned sops and age: encrypt, check nothing is left in clear, decrypt, render.

use heimdall_chart_tests::{plant_chart, repo_root};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use xtask::support::tools::{find_helms, GoTool, AGE_KEYGEN, SOPS};

const REQUIRED: [&str; 4] = ["JWT_SECRET", "API_KEY_SECRET", "DATABASE_PASSWORD", "ADMIN_PASSWORD"];

fn installed(tool: &GoTool) -> PathBuf {
    let bin = tool.binary();
    assert!(bin.is_file(), "{} {} is not installed at {}: run `cargo xtask setup`", tool.name, tool.version, bin.display());
    bin
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A fresh age key in `dir`; returns the key file and its public key.
fn age_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    run(Command::new(installed(&AGE_KEYGEN)).arg("-o").arg(&key));
    let text = std::fs::read_to_string(&key).unwrap();
    let public = text.lines().find_map(|l| l.strip_prefix("# public key: ")).expect("age-keygen writes its public key").to_string();
    (key, public)
}

/// Throwaway secrets of the strength the chart requires (68 characters: JWT_SECRET needs 64,
/// ADMIN_PASSWORD at most 72), from the OS's random source.
fn throwaway_secrets() -> BTreeMap<String, String> {
    let mut bytes = [0u8; 4 * 32];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).expect("reading /dev/urandom");
    let hex = |chunk: &[u8]| chunk.iter().map(|b| format!("{b:02x}")).collect::<String>();
    REQUIRED.iter().zip(bytes.chunks(32)).map(|(k, chunk)| (k.to_string(), format!("Aa1_{}", hex(chunk)))).collect()
}

/// The example's `.sops.yaml` with its placeholder recipient replaced by `public`.
fn sops_rules(dir: &Path, public: &str) {
    let rules = std::fs::read_to_string(repo_root().join("docs/examples/helm-secrets/.sops.yaml")).unwrap();
    assert_eq!(rules.matches("AGE_PUBLIC_KEY").count(), 1, "the example's .sops.yaml names its recipient AGE_PUBLIC_KEY once");
    std::fs::write(dir.join(".sops.yaml"), rules.replace("AGE_PUBLIC_KEY", public)).unwrap();
}

fn sops(dir: &Path) -> Command {
    let mut cmd = Command::new(installed(&SOPS));
    cmd.current_dir(dir).env_remove("SOPS_AGE_KEY_FILE").env_remove("SOPS_AGE_KEY");
    cmd
}

/// The encrypted file keeps every key readable and no value: each is sops ciphertext.
fn assert_encrypted(text: &str, secrets: &BTreeMap<String, String>) {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
    for (key, value) in secrets {
        assert!(!text.contains(value.as_str()), "{key}'s value is in clear in the encrypted file");
        let cipher = doc["heimdall"]["secrets"][key.as_str()].as_str().unwrap_or_default();
        assert!(cipher.starts_with("ENC[AES256_GCM,"), "{key} is not sops ciphertext in the encrypted file: {cipher:?}");
    }
    assert!(doc["sops"]["age"][0]["recipient"].as_str().is_some_and(|r| r.starts_with("age1")), "sops records the age recipient");
}

/// The chart's Secret's stringData after `helm template` with the example's values and `decrypted`.
fn rendered_secret(helm: &Path, chart: &Path, decrypted: &Path) -> serde_yaml::Value {
    let values = repo_root().join("docs/examples/helm-secrets/values.yaml");
    let mut cmd = Command::new(helm);
    cmd.args(["template", "heimdall"]).arg(chart).args(["--show-only", "templates/secret.yaml", "-f"]).arg(values).arg("-f").arg(decrypted);
    let manifest = xtask::support::manifest::parse(&String::from_utf8_lossy(&run(&mut cmd).stdout)).unwrap();
    manifest.docs[0].value["stringData"].clone()
}

#[test]
fn the_helm_secrets_example_encrypts_every_secret_and_the_chart_reads_them_decrypted() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = age_key(dir.path(), "key.txt");
    sops_rules(dir.path(), &public);
    let secrets = throwaway_secrets();
    let plain = serde_yaml::to_string(&BTreeMap::from([("heimdall", BTreeMap::from([("secrets", &secrets)]))])).unwrap();
    std::fs::write(dir.path().join("secrets.yaml"), plain).unwrap();

    run(sops(dir.path()).args(["--encrypt", "--in-place", "secrets.yaml"]));
    assert_encrypted(&std::fs::read_to_string(dir.path().join("secrets.yaml")).unwrap(), &secrets);

    let (stranger, _) = age_key(dir.path(), "stranger.txt");
    let refused = sops(dir.path()).env("SOPS_AGE_KEY_FILE", &stranger).args(["--decrypt", "secrets.yaml"]).output().unwrap();
    assert!(!refused.status.success(), "a key the file was not encrypted to must not decrypt it");

    let decrypted = run(sops(dir.path()).env("SOPS_AGE_KEY_FILE", &key).args(["--decrypt", "secrets.yaml"])).stdout;
    std::fs::write(dir.path().join("secrets.decrypted.yaml"), decrypted).unwrap();
    let chart = plant_chart(dir.path());
    for helm in find_helms(None).expect("Helm is needed: run `cargo xtask setup`") {
        let data = rendered_secret(&helm.path, &chart, &dir.path().join("secrets.decrypted.yaml"));
        for (k, v) in &secrets {
            assert_eq!(
                data[k.as_str()].as_str(),
                Some(v.as_str()),
                "{} changed {k} on its way from the decrypted file through the chart",
                helm.version
            );
        }
    }
}
