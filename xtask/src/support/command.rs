//! A command run to completion, or stopped once a condition the caller polls gives a reason: its argv, captured output and status, and the shell line that reproduces it.

use anyhow::{Context, Result};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One run of a command.
#[derive(Debug, Clone)]
pub struct Run {
    pub argv: Vec<String>,
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
    pub elapsed: Duration,
}

impl Run {
    /// The exact command line, quoted for a POSIX shell.
    pub fn command_line(&self) -> String {
        command_line(&self.argv)
    }
}

/// `argv` quoted for a POSIX shell.
pub fn command_line(argv: &[String]) -> String {
    argv.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Runs `argv` with extra environment variables and captures everything.
pub fn run_with_env(argv: Vec<String>, env: &[(&str, &std::ffi::OsStr)]) -> Result<Run> {
    let start = Instant::now();
    let out =
        Command::new(&argv[0]).args(&argv[1..]).envs(env.iter().copied()).output().with_context(|| format!("starting {}", argv[0]))?;
    Ok(Run {
        argv,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        success: out.status.success(),
        elapsed: start.elapsed(),
    })
}

/// Runs `argv` like [`run_with_env`], asking `stop` about once every `every` while it runs. Once `stop`
/// gives a reason, the command is killed, and its run is a failure whose stderr ends with that reason:
/// for a wait that can already be seen to fail (a container that crashed, while Helm waits out its timeout).
pub fn run_with_env_unless(
    argv: Vec<String>,
    env: &[(&str, &std::ffi::OsStr)],
    every: Duration,
    mut stop: impl FnMut() -> Result<Option<String>>,
) -> Result<Run> {
    let start = Instant::now();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", argv[0]))?;
    let (stdout, stderr) = (read_all(child.stdout.take()), read_all(child.stderr.take()));
    let mut stopped = None;
    let mut asked = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if asked.elapsed() >= every {
            asked = Instant::now();
            stopped = stop()?;
            if stopped.is_some() {
                let _ = child.kill();
                break child.wait()?;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = stderr.join().unwrap_or_default();
    if let Some(reason) = &stopped {
        stderr.push_str(&format!("\nstopped before it finished: {reason}"));
    }
    let stdout = stdout.join().unwrap_or_default();
    Ok(Run { argv, stdout, stderr, success: status.success() && stopped.is_none(), elapsed: start.elapsed() })
}

/// Reads a child's pipe to its end on a thread of its own (so neither pipe can fill and block the child).
fn read_all(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_round_trips_awkward_arguments() {
        assert_eq!(shell_quote("--set"), "--set");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn a_command_asked_to_stop_is_killed_and_fails_with_the_reason() {
        let argv = vec!["sh".to_string(), "-c".to_string(), "echo started; exec sleep 30".to_string()];
        let mut asked = 0;
        let run = run_with_env_unless(argv, &[], Duration::from_millis(200), || {
            asked += 1;
            Ok((asked == 2).then(|| "a container restarted".to_string()))
        })
        .unwrap();
        assert!(!run.success);
        assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
        assert_eq!(run.stdout, "started\n");
        assert!(run.stderr.ends_with("stopped before it finished: a container restarted"), "{}", run.stderr);
    }

    #[test]
    fn a_command_never_asked_to_stop_runs_to_its_end() {
        let argv = vec!["sh".to_string(), "-c".to_string(), "echo out; echo err >&2; exit 3".to_string()];
        let run = run_with_env_unless(argv, &[], Duration::from_millis(50), || Ok(None)).unwrap();
        assert!(!run.success);
        assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("out\n", "err\n"));
        let argv = vec!["true".to_string()];
        assert!(run_with_env_unless(argv, &[], Duration::from_millis(50), || Ok(None)).unwrap().success);
    }
}
