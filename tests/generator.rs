//! generate-heimdall-secrets.sh, driven with assert_cmd in throwaway git checkouts: values, idempotency, safety, --check, and the round trip through the chart.

use assert_cmd::Command;
use heimdall_chart_tests::repo_root;
use regex::Regex;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const REQUIRED: [&str; 4] = ["JWT_SECRET", "API_KEY_SECRET", "DATABASE_PASSWORD", "ADMIN_PASSWORD"];

/// A throwaway git checkout with the script, the real .gitignore and (optionally) the chart.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(repo_root().join("generate-heimdall-secrets.sh"), dir.path().join("generate-heimdall-secrets.sh")).unwrap();
        std::fs::copy(repo_root().join(".gitignore"), dir.path().join(".gitignore")).unwrap();
        std::process::Command::new("git").arg("init").arg("-q").arg(dir.path()).status().unwrap();
        Sandbox { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn secrets(&self) -> PathBuf {
        self.root().join("heimdall/env/heimdall-secrets.yaml")
    }

    fn script(&self) -> Command {
        let mut cmd = Command::new(self.root().join("generate-heimdall-secrets.sh"));
        cmd.current_dir(self.root());
        cmd
    }
}

fn values(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap();
    let map: BTreeMap<String, serde_yaml::Value> = serde_yaml::from_str(&text).unwrap();
    map.into_iter().map(|(k, v)| (k, v.as_str().expect("every value is a string").to_string())).collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// No secret value of `file` in what the script printed.
fn assert_no_value_printed(output: &std::process::Output, file: &Path) {
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    for (k, v) in values(file) {
        assert!(!printed.contains(&v), "the script printed the value of {k}");
    }
}

#[test]
fn fresh_generation_has_the_documented_lengths_alphabet_and_mode() {
    let sb = Sandbox::new();
    let out = sb.script().assert().success().get_output().clone();
    let file = sb.secrets();
    assert_eq!(mode(&file), 0o600);
    let v = values(&file);
    let hex = |n: usize| Regex::new(&format!("^[0-9a-f]{{{n}}}$")).unwrap();
    assert!(hex(128).is_match(&v["JWT_SECRET"]));
    assert!(hex(66).is_match(&v["API_KEY_SECRET"]));
    assert!(hex(66).is_match(&v["DATABASE_PASSWORD"]));
    assert!(Regex::new("^Admin_[0-9a-f]{32}$").unwrap().is_match(&v["ADMIN_PASSWORD"]));
    assert_ne!(v["API_KEY_SECRET"], v["DATABASE_PASSWORD"]);
    assert_no_value_printed(&out, &file);
    let text = std::fs::read_to_string(&file).unwrap();
    for optional in [
        "GITHUB_CLIENTSECRET",
        "GITLAB_SECRET",
        "GOOGLE_CLIENTSECRET",
        "OKTA_CLIENTSECRET",
        "OIDC_CLIENT_SECRET",
        "LDAP_PASSWORD",
        "DATABASE_SSL_CA: |",
    ] {
        assert!(text.contains(&format!("# {optional}")), "no commented example of {optional}");
    }
}

#[test]
fn a_second_run_leaves_the_file_byte_identical() {
    let sb = Sandbox::new();
    sb.script().assert().success();
    let before = std::fs::read(sb.secrets()).unwrap();
    sb.script().assert().success().stdout(predicates::str::contains("left unchanged"));
    assert_eq!(std::fs::read(sb.secrets()).unwrap(), before);
}

#[test]
fn a_partial_file_is_completed_and_its_values_kept_byte_for_byte() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.secrets().parent().unwrap()).unwrap();
    let mine = "# my own file\nJWT_SECRET: \"kept-value-of-the-user-0000000000000000000000000000000000000000000000\"  # keep\n";
    std::fs::write(sb.secrets(), mine).unwrap();
    std::fs::set_permissions(sb.secrets(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = sb.script().assert().success().get_output().clone();
    let text = std::fs::read_to_string(sb.secrets()).unwrap();
    assert!(text.starts_with(mine), "the existing lines changed");
    let v = values(&sb.secrets());
    assert_eq!(v.len(), 4);
    assert_eq!(v["JWT_SECRET"], "kept-value-of-the-user-0000000000000000000000000000000000000000000000");
    assert!(String::from_utf8_lossy(&out.stdout).contains("generated API_KEY_SECRET DATABASE_PASSWORD ADMIN_PASSWORD"));
    assert_no_value_printed(&out, &sb.secrets());
}

#[test]
fn force_regenerates_the_required_values_and_keeps_everything_else() {
    let sb = Sandbox::new();
    sb.script().assert().success();
    let mut text = std::fs::read_to_string(sb.secrets()).unwrap();
    text.push_str("# my SSO\nGITHUB_CLIENTSECRET: \"operator-own-github-secret\"\n");
    std::fs::write(sb.secrets(), &text).unwrap();
    let before = values(&sb.secrets());
    let out = sb.script().arg("--force").assert().success().get_output().clone();
    let after = values(&sb.secrets());
    for k in REQUIRED {
        assert_ne!(before[k], after[k], "{k} was not regenerated");
    }
    assert_eq!(after["GITHUB_CLIENTSECRET"], "operator-own-github-secret", "--force lost an optional secret");
    assert!(std::fs::read_to_string(sb.secrets()).unwrap().contains("# my SSO\n"), "--force lost a comment");
    assert_eq!(after.len(), 5);
    assert_eq!(mode(&sb.secrets()), 0o600);
    assert_no_value_printed(&out, &sb.secrets());
}

#[test]
fn wider_permissions_are_tightened_and_reported() {
    let sb = Sandbox::new();
    sb.script().assert().success();
    std::fs::set_permissions(sb.secrets(), std::fs::Permissions::from_mode(0o644)).unwrap();
    sb.script().assert().success().stdout(predicates::str::contains("from 644 to 600"));
    assert_eq!(mode(&sb.secrets()), 0o600);
}

#[test]
fn check_passes_on_a_generated_file_and_names_each_problem_otherwise() {
    let sb = Sandbox::new();
    sb.script().assert().success();
    sb.script().arg("--check").assert().success();

    std::fs::write(
        sb.secrets(),
        "JWT_SECRET: \"short\"\nAPI_KEY_SECRET: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\nthis is not yaml\n",
    )
    .unwrap();
    std::fs::set_permissions(sb.secrets(), std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = sb.script().arg("--check").assert().failure().get_output().clone();
    let said = String::from_utf8_lossy(&out.stdout);
    for problem in ["mode 640", "line 3", "JWT_SECRET is 5 characters", "DATABASE_PASSWORD is missing", "ADMIN_PASSWORD is missing"] {
        assert!(said.contains(problem), "--check did not report {problem:?}:\n{said}");
    }
    assert!(!said.contains("short\""), "--check printed a value");
}

#[test]
fn check_on_a_missing_file_fails_clearly() {
    let sb = Sandbox::new();
    sb.script().arg("--check").assert().failure().stderr(predicates::str::contains("does not exist"));
}

#[test]
fn it_refuses_to_write_through_a_symlink() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.secrets().parent().unwrap()).unwrap();
    let elsewhere = sb.root().join("elsewhere.txt");
    std::fs::write(&elsewhere, "untouched").unwrap();
    std::os::unix::fs::symlink(&elsewhere, sb.secrets()).unwrap();
    sb.script().assert().failure().stderr(predicates::str::contains("symlink"));
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched");
}

#[test]
fn it_refuses_a_target_git_does_not_ignore() {
    let sb = Sandbox::new();
    sb.script()
        .args(["--output", "heimdall/secrets-here.txt"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("git does not ignore it"));
    assert!(!sb.root().join("heimdall/secrets-here.txt").exists());
}

#[test]
fn output_writes_elsewhere_outside_a_checkout() {
    let sb = Sandbox::new();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("deep/er/secrets.yaml");
    sb.script().arg("--output").arg(&target).assert().success();
    assert_eq!(values(&target).len(), 4);
    assert_eq!(mode(&target), 0o600);
    assert!(!sb.secrets().exists());
}

#[test]
fn an_unwritable_folder_gives_a_clear_message() {
    let sb = Sandbox::new();
    let locked = tempfile::tempdir().unwrap();
    std::fs::set_permissions(locked.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let target = locked.path().join("secrets.yaml");
    // Root may write anywhere: drop to nobody so the folder really is unwritable.
    let is_root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false);
    let mut cmd = if is_root {
        std::fs::set_permissions(sb.root(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(sb.root().join("generate-heimdall-secrets.sh"));
        c
    } else {
        sb.script()
    };
    cmd.arg("--output").arg(&target).current_dir(locked.path());
    cmd.assert().failure().stderr(predicates::str::contains("cannot write to the folder"));
    assert!(!target.exists());
}

#[test]
fn it_works_from_another_working_directory() {
    let sb = Sandbox::new();
    let cwd = tempfile::tempdir().unwrap();
    Command::new(sb.root().join("generate-heimdall-secrets.sh")).current_dir(cwd.path()).assert().success();
    assert_eq!(values(&sb.secrets()).len(), 4);
    assert!(std::fs::read_dir(cwd.path()).unwrap().next().is_none(), "it wrote into the working directory");
}

#[test]
fn two_concurrent_runs_leave_one_valid_file() {
    let sb = Sandbox::new();
    let spawn = || std::process::Command::new(sb.root().join("generate-heimdall-secrets.sh")).current_dir(sb.root()).output();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    assert!(a.status.success() && b.status.success());
    let v = values(&sb.secrets());
    assert_eq!(v.keys().cloned().collect::<Vec<_>>(), ["ADMIN_PASSWORD", "API_KEY_SECRET", "DATABASE_PASSWORD", "JWT_SECRET"]);
    sb.script().arg("--check").assert().success();
    let leftovers: Vec<_> =
        std::fs::read_dir(sb.secrets().parent().unwrap()).unwrap().filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "temporary files left behind: {leftovers:?}");
}

#[test]
fn help_explains_every_option() {
    let sb = Sandbox::new();
    let out = sb.script().arg("--help").assert().success().get_output().clone();
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["--force", "--output", "--check", "0600", "symlink", "ignore"] {
        assert!(help.contains(word), "--help does not mention {word}");
    }
    sb.script().arg("--bogus").assert().failure().stderr(predicates::str::contains("unknown option: --bogus"));
}

#[test]
fn generated_values_pass_through_the_chart_unchanged() {
    let helms = xtask::support::tools::find_helms(None).expect("Helm is needed for the round trip: run `cargo xtask setup`");
    let sb = Sandbox::new();
    heimdall_chart_tests::plant_chart(sb.root());
    sb.script().assert().success();
    let file_values = values(&sb.secrets());
    for helm in &helms {
        let out = std::process::Command::new(&helm.path)
            .args(["template", "r"])
            .arg(sb.root().join("heimdall"))
            .args(["--kube-version", "1.37.0", "--show-only", "templates/secret.yaml"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let m = xtask::support::manifest::parse(&String::from_utf8_lossy(&out.stdout)).unwrap();
        let data = &m.docs[0].value["stringData"];
        for k in REQUIRED {
            assert_eq!(data[k].as_str(), Some(file_values[k].as_str()), "{} changed {k} on its way through the chart", helm.version);
        }
    }
}
