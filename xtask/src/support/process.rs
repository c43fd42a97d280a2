//! Processes: the one checked way to run a command to its end, the process-wide interrupt handler (what it undoes, in order, then the scratch folders), random hex from the kernel, a free loopback port, and children that die with xtask.

use anyhow::{Context, Result};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Runs `cmd` to its end, capturing its output; fails only when it cannot start (`what` names it).
pub fn output(cmd: &mut Command, what: &str) -> Result<Output> {
    cmd.output().with_context(|| format!("starting {what}"))
}

/// Runs `cmd` to its end and returns its standard output; when it fails, the error names `what`,
/// its exit status, the last lines of its output and the command line that reproduces it.
pub fn checked(cmd: &mut Command, what: &str) -> Result<String> {
    checked_output(cmd, what).map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// [`checked`], returning the whole output (for a tool that reports on standard error).
pub fn checked_output(cmd: &mut Command, what: &str) -> Result<Output> {
    let out = output(cmd, what)?;
    if !out.status.success() {
        let tail = |b: &[u8]| {
            let text = String::from_utf8_lossy(b);
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(40)..].join("\n")
        };
        anyhow::bail!("{what} failed ({}):\n{}\n{}\nreproduce: {}", out.status, tail(&out.stdout), tail(&out.stderr), line_of(cmd));
    }
    Ok(out)
}

/// The flags whose value is a credential (skopeo's `--dest-creds user:password`, curl's `-u`).
const CREDENTIAL_FLAGS: [&str; 6] = ["--creds", "--src-creds", "--dest-creds", "-u", "--user", "--password"];

/// `cmd` as a shell line: its folder, program and arguments, each credential flag's value
/// replaced by `REDACTED`. Its environment is left out: a password travels there
/// (COSIGN_PASSWORD), and an error message must never carry one.
fn line_of(cmd: &Command) -> String {
    let quote = |s: &str| crate::support::command::shell_quote(s);
    let mut parts = Vec::new();
    if let Some(dir) = cmd.get_current_dir() {
        parts.push(format!("cd {} &&", quote(&dir.to_string_lossy())));
    }
    parts.push(quote(&cmd.get_program().to_string_lossy()));
    let mut after_flag = false;
    for arg in cmd.get_args().map(|a| a.to_string_lossy()) {
        let inline = arg.split_once('=').filter(|(flag, _)| CREDENTIAL_FLAGS.contains(flag)).map(|(flag, _)| format!("{flag}=REDACTED"));
        parts.push(match (after_flag, inline) {
            (true, _) => "REDACTED".to_string(),
            (false, Some(redacted)) => redacted,
            (false, None) => quote(&arg),
        });
        after_flag = CREDENTIAL_FLAGS.contains(&arg.as_ref());
    }
    parts.join(" ")
}

/// What an interrupt must undo before the process exits.
pub type Undo = Box<dyn Fn() + Send>;
static ON_INTERRUPT: Mutex<Vec<Undo>> = Mutex::new(Vec::new());
static ON_INTERRUPT_LAST: Mutex<Vec<Undo>> = Mutex::new(Vec::new());

/// Registers `undo` to run on Ctrl-C, SIGTERM or SIGHUP (e.g. delete the suite's namespaces, while
/// the API server still answers).
pub fn on_interrupt(undo: Undo) {
    ON_INTERRUPT.lock().unwrap().push(undo);
}

/// Registers `undo` to run on an interrupt after every [`on_interrupt`] one: stopping what those
/// still need (the control plane).
pub fn on_interrupt_last(undo: Undo) {
    ON_INTERRUPT_LAST.lock().unwrap().push(undo);
}

/// Set once an interrupt is being handled: children exiting then are being stopped, not failing.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Whether the interrupt handler is stopping everything (a serving loop then waits for it to exit).
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// On Ctrl-C, SIGTERM or SIGHUP: run what was registered, the `on_interrupt` undos first, then the
/// `on_interrupt_last` ones, remove every scratch folder, exit 130. Drop alone would not run.
/// Installed once, before any of these is made.
pub fn install_signal_cleanup() -> Result<()> {
    static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if INSTALLED.set(()).is_err() {
        return Ok(());
    }
    ctrlc::set_handler(|| {
        STOPPING.store(true, Ordering::SeqCst);
        for list in [&ON_INTERRUPT, &ON_INTERRUPT_LAST] {
            for undo in list.lock().map(|mut u| std::mem::take(&mut *u)).unwrap_or_default() {
                undo();
            }
        }
        crate::support::scratch::remove_all();
        std::process::exit(130);
    })
    .context("installing the signal handler")
}

/// `bytes` random bytes from the kernel, as lowercase hex.
pub fn random_hex(bytes: usize) -> Result<String> {
    let mut raw = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut raw))?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

/// A TCP port free on loopback now, for a component to listen on.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Makes a child get `signal` when xtask dies, whatever kills xtask (SIGKILL: it just dies;
/// SIGTERM: it may clean up after itself). Linux only, as the cluster that needs it is.
#[cfg(target_os = "linux")]
pub fn die_with_parent(cmd: &mut Command, signal: libc::c_int) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child's own state.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Elsewhere no process is started that must die with xtask: the commands that would refuse first.
#[cfg(not(target_os = "linux"))]
pub fn die_with_parent(cmd: &mut Command, _signal: libc::c_int) -> &mut Command {
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_command_says_what_it_was_and_how_to_run_it_again() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo 'it broke' >&2; exit 3"]).env("A_SETTING", "x y").current_dir("/");
        let err = format!("{:#}", checked(&mut cmd, "the broken step").unwrap_err());
        assert!(err.starts_with("the broken step failed (exit status: 3):\nout\nit broke\n"), "{err}");
        assert!(err.ends_with("reproduce: cd / && sh -c 'echo out; echo '\\''it broke'\\'' >&2; exit 3'"), "{err}");
        assert!(!err.contains("x y"), "the environment, where passwords travel, is left out: {err}");
        assert_eq!(checked(Command::new("sh").args(["-c", "echo fine"]), "a fine step").unwrap(), "fine\n");
        assert!(format!("{:#}", checked(&mut Command::new("/no/such/program"), "a missing one").unwrap_err())
            .starts_with("starting a missing one"));
    }

    #[test]
    fn a_reproduce_line_never_carries_a_credential() {
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--dest-creds", "user:s3cret", "--src-creds=user:s3cret", "oci-archive:a", "docker://b"]);
        assert_eq!(line_of(&cmd), "skopeo copy --dest-creds REDACTED --src-creds=REDACTED oci-archive:a docker://b");
    }

    #[test]
    fn random_hex_and_free_ports_are_what_they_say() {
        let hex = random_hex(16).unwrap();
        assert!(hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{hex}");
        assert_ne!(hex, random_hex(16).unwrap());
        assert!(free_port().unwrap() > 0);
    }
}
