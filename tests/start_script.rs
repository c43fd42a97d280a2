//! The chart's start script (heimdall/files/start-heimdall.sh), run under dash and bash with the host's node against a fake image layout: the steps in order and behind the migration lock, the password line redacted, node exec'd as the same process, failures that stop with a message.

use heimdall_chart_tests::repo_root;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output};

const PASSWORD: &str = "e2e-seeded-Password-7f3a";
const IMAGE: &str = "docker.io/mitre/heimdall2:2.13.1";

/// A fake /app/apps/backend: a sequelize that says what it does (the seeder prints the password, as
/// Heimdall's does, and both steps note their start and end in $TRACE), a pg whose advisory lock is a
/// directory (taken by mkdir, as atomic as PostgreSQL's), the database settings, and a
/// dist/src/main.js that prints its PID. The script runs under the host's real node.
fn layout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for folder in ["node_modules/.bin", "node_modules/pg", "dist/src", "dist/db"] {
        std::fs::create_dir_all(root.join(folder)).unwrap();
    }
    std::fs::write(root.join("dist/src/main.js"), "console.log('server: pid ' + process.pid);\n").unwrap();
    std::fs::write(root.join("dist/db/database.js"), DATABASE_SETTINGS).unwrap();
    std::fs::write(root.join("node_modules/pg/index.js"), FAKE_PG).unwrap();
    executable(&root.join("node_modules/.bin/sequelize"), FAKE_SEQUELIZE);
    dir
}

const DATABASE_SETTINGS: &str =
    "module.exports = {username: 'postgres', password: 'x', host: 'db', port: 5432, database: 'heimdall', dialectOptions: {ssl: false}};\n";

/// pg's Client, with the lock a directory beside the layout (shared by every start of one test).
const FAKE_PG: &str = r#"
const fs = require('fs');
const lock = process.env.LOCK_DIR;
class Client {
  async connect() { if (process.env.DATABASE_DOWN) throw new Error('connect ECONNREFUSED 10.0.0.9:5432'); }
  take() { try { fs.mkdirSync(lock); this.held = true; return true; } catch (e) { return false; } }
  async query(sql) {
    if (sql.includes('pg_try_advisory_lock')) return {rows: [{taken: this.take()}]};
    while (!this.take()) await new Promise(ok => setTimeout(ok, 20));
    return {rows: [{}]};
  }
  async end() { if (this.held) fs.rmdirSync(lock); }
}
module.exports = {Client};
"#;

const FAKE_SEQUELIZE: &str = r#"#!/bin/sh
echo "begin $1 $PPID" >> "$TRACE"
sleep 0.2
case "$1" in
  db:migrate) echo "migrations: done" ;;
  db:seed:all)
    echo "No administrator user exists! Creating an administrator."
    echo "New administrator email is: admin@heimdall.example"
    echo "New administrator password is: $SEED_PASSWORD"
    echo "You should change this password on first login." >&2
    echo "end $1 $PPID" >> "$TRACE"
    exit "${SEED_EXIT:-0}" ;;
esac
echo "end $1 $PPID" >> "$TRACE"
"#;

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

/// Starts the script as the Deployment does (`sh -c SCRIPT start-heimdall IMAGE` in the backend folder),
/// with the lock and the trace beside the layout.
fn spawn_start(shell: &str, dir: &Path, extra_env: &[(&str, &str)]) -> Child {
    let script = std::fs::read_to_string(repo_root().join("heimdall/files/start-heimdall.sh")).unwrap();
    Command::new(shell)
        .args(["-c", &script, "start-heimdall", IMAGE])
        .current_dir(dir)
        .env("SEED_PASSWORD", PASSWORD)
        .env("LOCK_DIR", dir.join("advisory-lock"))
        .env("TRACE", dir.join("trace"))
        .envs(extra_env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs the script to its end; its output and the PID it ran as.
fn start(shell: &str, dir: &Path, seed_exit: &str) -> (Output, u32) {
    let child = spawn_start(shell, dir, &[("SEED_EXIT", seed_exit)]);
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
        assert!(said.contains(&format!("server: pid {pid}\n")), "{shell}: node did not replace the shell (pid {pid}):\n{said}");
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

/// Three replicas starting at once on one database: their migrations and seeds never overlap (each
/// step's begin is followed by its own end), the later ones say they wait for the lock, and all start.
#[test]
fn replicas_starting_at_once_migrate_one_after_the_other() {
    let dir = layout();
    let children: Vec<Child> = (0..3).map(|_| spawn_start("sh", dir.path(), &[])).collect();
    let outputs: Vec<Output> = children.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    let said: Vec<String> = outputs.iter().map(text).collect();
    assert!(outputs.iter().all(|o| o.status.success()), "a replica failed:\n{}", said.join("\n---\n"));
    let trace = std::fs::read_to_string(dir.path().join("trace")).unwrap();
    let steps: Vec<Vec<&str>> = trace.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(steps.len(), 12, "3 replicas, 2 steps, begin and end each:\n{trace}");
    for pair in steps.chunks(2) {
        let (begin, end) = (&pair[0], &pair[1]);
        assert!(begin[0] == "begin" && end[0] == "end" && begin[1..] == end[1..], "steps overlapped:\n{trace}");
    }
    let waited = said.iter().filter(|s| s.contains("another replica is migrating the database; waiting")).count();
    assert!(waited >= 1, "no replica said it waited:\n{}", said.join("\n---\n"));
    assert!(said.iter().filter(|s| s.contains("took the migration lock after")).count() == waited, "{}", said.join("\n---\n"));
}

#[test]
fn an_unreachable_database_stops_before_any_step_naming_it() {
    let dir = layout();
    let out = spawn_start("sh", dir.path(), &[("DATABASE_DOWN", "1")]).wait_with_output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(69), "{all}");
    assert!(all.contains("could not take the migration lock in PostgreSQL db:5432/heimdall: connect ECONNREFUSED"), "{all}");
    assert!(!all.contains("migrations: done") && !all.contains("server: pid"), "{all}");
}

#[test]
fn a_failed_migration_is_tried_three_times_then_stops_before_the_seed_with_its_status() {
    let dir = layout();
    executable(&dir.path().join("node_modules/.bin/sequelize"), "#!/bin/sh\necho \"$1: relation exists\" >&2\nexit 5\n");
    let out = spawn_start("sh", dir.path(), &[]).wait_with_output().unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(5), "{all}");
    assert_eq!(all.matches("db:migrate: relation exists").count(), 3, "{all}");
    assert!(all.contains("migrating the database failed (exit 5); trying again in 3 s (attempt 3 of 3)"), "{all}");
    assert!(all.contains("migrating the database failed (exit 5), 3 times"), "{all}");
    assert!(!all.contains("db:seed:all") && !all.contains("server: pid"), "{all}");
}

/// A first connection to a database that has just started times out; the second try works, and the
/// start goes on in the same process (no container restart).
#[test]
fn a_migration_that_fails_once_is_tried_again_and_the_start_goes_on() {
    let dir = layout();
    let once = "#!/bin/sh\nif [ \"$1\" = db:migrate ] && mkdir \"$LOCK_DIR.failed\" 2>/dev/null; then echo 'ERROR: Operation timeout' >&2; exit 1; fi\n";
    let fake = format!("{once}{}", FAKE_SEQUELIZE.trim_start_matches("#!/bin/sh\n"));
    executable(&dir.path().join("node_modules/.bin/sequelize"), &fake);
    let out = spawn_start("sh", dir.path(), &[]).wait_with_output().unwrap();
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("ERROR: Operation timeout") && all.contains("trying again in 3 s (attempt 2 of 3)"), "{all}");
    let order = ["trying again", "migrations: done", "server: pid"].map(|s| all.find(s));
    assert!(order.iter().all(Option::is_some) && order.windows(2).all(|w| w[0] < w[1]), "{all}");
}
