//! Served renders: pools of long-lived `helmN-renderd` processes (Helm's own pkg/action at the pinned version) that answer exactly what `helm template` and `helm lint` print, without a process start per command.
//!
//! A render through a pool returns the same [`Run`] as the CLI, argv included,
//! so every report still prints the `helm template` command that reproduces
//! it. `cargo xtask renderer-check` proves the answers byte-identical to the
//! CLI's on every case; `test-chart --cli` bypasses the pools altogether.

use crate::support::command::Run;
use crate::support::tools::{Helm, HELM_PINS};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// One renderer process, used by one render at a time.
struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(binary: &Path, gomaxprocs: usize) -> Result<Server> {
        let mut cmd = Command::new(binary);
        cmd.env("KUBECONFIG", "/dev/null").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        if gomaxprocs > 0 {
            cmd.env("GOMAXPROCS", gomaxprocs.to_string());
        }
        let mut child = cmd.spawn().with_context(|| format!("starting {}", binary.display()))?;
        let stdin = child.stdin.take().context("renderer stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("renderer stdout")?);
        Ok(Server { child, stdin, stdout })
    }

    fn ask(&mut self, args: &[String]) -> Result<Json> {
        writeln!(self.stdin, "{}", json!({"id": 0, "args": args}))?;
        self.stdin.flush()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("the renderer exited without answering");
        }
        serde_json::from_str(&line).context("the renderer answered no JSON")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Idle renderer processes for one Helm binary; a render takes one, or starts one when none is idle.
pub struct Pool {
    binary: PathBuf,
    gomaxprocs: usize,
    idle: Mutex<Vec<Server>>,
}

impl Pool {
    /// Runs `argv` (a `helm template` or `helm lint` command line) and answers as the CLI would have.
    pub fn run(&self, argv: Vec<String>) -> Result<Run> {
        let start = Instant::now();
        let taken = self.idle.lock().unwrap().pop();
        let mut server = match taken {
            Some(s) => s,
            None => Server::start(&self.binary, self.gomaxprocs)?,
        };
        let answer = server
            .ask(&argv[1..])
            .with_context(|| format!("{} answering {}", self.binary.display(), crate::support::command::command_line(&argv)))?;
        self.idle.lock().unwrap().push(server);
        let spent = if argv.get(1).map(String::as_str) == Some("lint") { &LINT_CPU_MICROS } else { &TEMPLATE_CPU_MICROS };
        spent.fetch_add(answer["cpu_us"].as_u64().unwrap_or(0), Ordering::Relaxed);
        Ok(Run {
            argv,
            stdout: answer["stdout"].as_str().unwrap_or_default().to_string(),
            stderr: answer["stderr"].as_str().unwrap_or_default().to_string(),
            success: answer["exit"] == 0,
            elapsed: start.elapsed(),
        })
    }
}

static TEMPLATE_CPU_MICROS: AtomicU64 = AtomicU64::new(0);
static LINT_CPU_MICROS: AtomicU64 = AtomicU64::new(0);

/// The CPU time every renderer of this process has spent so far on `template` and on `lint` requests (for `cargo xtask bench`).
pub fn served_cpu() -> (Duration, Duration) {
    let read = |a: &AtomicU64| Duration::from_micros(a.load(Ordering::Relaxed));
    (read(&TEMPLATE_CPU_MICROS), read(&LINT_CPU_MICROS))
}

fn pools() -> &'static Mutex<HashMap<PathBuf, Arc<Pool>>> {
    static POOLS: OnceLock<Mutex<HashMap<PathBuf, Arc<Pool>>>> = OnceLock::new();
    POOLS.get_or_init(Default::default)
}

/// The built renderer for this Helm: only when `setup` built one from exactly its version.
pub fn binary_for(helm: &Helm) -> Option<PathBuf> {
    HELM_PINS.iter().find(|p| p.major == helm.major && p.version == helm.version).map(|p| p.renderd()).filter(|b| b.is_file())
}

/// Serves this Helm's renders from now on; false (renders stay on the CLI) when no renderer matches its version.
pub fn enable(helm: &Helm, gomaxprocs: usize) -> bool {
    let Some(binary) = binary_for(helm) else { return false };
    let pool = Pool { binary, gomaxprocs, idle: Mutex::new(Vec::new()) };
    pools().lock().unwrap().insert(helm.path.clone(), Arc::new(pool));
    true
}

/// Stops serving every Helm (the processes exit as their pools drop).
pub fn disable_all() {
    pools().lock().unwrap().clear();
}

/// The pool serving renders for this Helm binary, if any.
pub fn pool_for(helm_path: &Path) -> Option<Arc<Pool>> {
    pools().lock().unwrap().get(helm_path).cloned()
}
