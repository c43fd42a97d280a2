//! The chart's start script (heimdall/files/start-heimdall.sh), run under dash and bash against a fake image layout: the steps in order, the password line redacted, node exec'd as the same process, failures that stop with a message.

use heimdall_chart_tests::repo_root;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const PASSWORD: &str = "e2e-seeded-Password-7f3a";
const IMAGE: &str = "docker.io/mitre/heimdall2:2.13.1";

/// A fake /app/apps/backend: a sequelize that says what it does (the seeder prints the password, as
/// Heimdall's does), dist/src/main.js, and a `node` on PATH that prints its own PID and arguments.
fn layout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("node_modules/.bin")).unwrap();
    std::fs::create_dir_all(root.join("dist/src")).unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::write(root.join("dist/src/main.js"), "").unwrap();
    executable(
        &root.join("node_modules/.bin/sequelize"),
        r#"#!/bin/sh
case "$1" in
  db:migrate) echo "migrations: done" ;;
  db:seed:all)
    echo "No administrator user exists! Creating an administrator."
    echo "New administrator email is: admin@heimdall.example"
    echo "New administrator password is: $SEED_PASSWORD"
    echo "You should change this password on first login." >&2
    exit "${SEED_EXIT:-0}" ;;
esac
"#,
    );
    executable(&root.join("bin/node"), "#!/bin/sh\necho \"server: pid $$, args $*\"\n");
    dir
}

fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The shells the script must run under: dash (Debian's /bin/sh) and bash (UBI's), where installed.
fn shells() -> Vec<&'static str> {
    let shells: Vec<&str> = ["dash", "bash"].into_iter().filter(|s| Command::new(s).arg("-c").arg("true").status().is_ok()).collect();
    assert!(!shells.is_empty(), "neither dash nor bash is installed");
    shells
}

/// Runs the script as the Deployment does (`sh -c SCRIPT start-heimdall IMAGE` in the backend folder);
/// its output and the PID it ran as.
fn start(shell: &str, dir: &Path, seed_exit: &str) -> (Output, u32) {
    let script = std::fs::read_to_string(repo_root().join("heimdall/files/start-heimdall.sh")).unwrap();
    let path = format!("{}:{}", dir.join("bin").display(), std::env::var("PATH").unwrap());
    let child = Command::new(shell)
        .args(["-c", &script, "start-heimdall", IMAGE])
        .current_dir(dir)
        .env("PATH", path)
        .env("SEED_PASSWORD", PASSWORD)
        .env("SEED_EXIT", seed_exit)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    (child.wait_with_output().unwrap(), pid)
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn migrates_seeds_then_execs_node_in_the_same_process() {
    for shell in shells() {
        let dir = layout();
        let (out, pid) = start(shell, dir.path(), "0");
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{shell}: {}", text(&out));
        let order = ["migrations: done", "New administrator email is", "server: pid"].map(|s| said.find(s));
        assert!(order.iter().all(Option::is_some) && order.windows(2).all(|w| w[0] < w[1]), "{shell}: steps out of order:\n{said}");
        assert!(
            said.contains(&format!("server: pid {pid}, args dist/src/main")),
            "{shell}: node did not replace the shell (pid {pid}):\n{said}"
        );
    }
}

#[test]
fn the_seeded_password_never_reaches_the_log() {
    for shell in shells() {
        let dir = layout();
        let (out, _) = start(shell, dir.path(), "0");
        let all = text(&out);
        assert!(!all.contains(PASSWORD), "{shell}: the admin password reached the log:\n{all}");
        assert!(all.contains("New administrator password is: (redacted"), "{shell}: no redacted line:\n{all}");
        assert!(all.contains("New administrator email is: admin@heimdall.example"), "{shell}: the e-mail line was lost:\n{all}");
        assert!(all.contains("You should change this password"), "{shell}: the seeder's stderr was lost:\n{all}");
    }
}

#[test]
fn a_failed_seed_stops_before_the_server_with_its_status() {
    for shell in shells() {
        let dir = layout();
        let (out, _) = start(shell, dir.path(), "3");
        let all = text(&out);
        assert_eq!(out.status.code(), Some(3), "{shell}: {all}");
        assert!(!all.contains("server: pid") && !all.contains(PASSWORD), "{shell}: {all}");
        assert!(all.contains("seeding the database failed (exit 3)"), "{shell}: {all}");
    }
}

#[test]
fn an_image_of_another_layout_fails_naming_the_file_and_the_image() {
    for shell in shells() {
        let dir = layout();
        std::fs::remove_file(dir.path().join("dist/src/main.js")).unwrap();
        let (out, _) = start(shell, dir.path(), "0");
        let all = text(&out);
        assert_eq!(out.status.code(), Some(64), "{shell}: {all}");
        assert!(all.contains("dist/src/main.js is missing in image docker.io/mitre/heimdall2:2.13.1"), "{shell}: {all}");
        assert!(all.contains("image.tag") && !all.contains("migrations: done"), "{shell}: {all}");
    }
}
