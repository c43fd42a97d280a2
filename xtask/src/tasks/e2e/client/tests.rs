//! Unit tests of the client-pod toolkit, which need no nodes: the client pod, its scripts (against a stand-in of Heimdall's routes), and the not-Ready report.

use super::*;
use std::collections::BTreeMap;

#[test]
fn a_client_pod_runs_on_heimdalls_image_and_contexts_and_reads_the_password_from_the_secret() {
    let deployment = json!({"spec": {"template": {"spec": {
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "imagePullSecrets": [{"name": "mirror"}],
        "containers": [{"name": "heimdall", "image": "registry.example/mitre/heimdall2:2.13.1",
            "securityContext": {"readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}}}});
    let pod = client_pod(&deployment, 3000, "e2e-login", "console.log(1)", &[("SESSION", "{}")]);
    let spec = &pod["spec"];
    let c = &spec["containers"][0];
    assert_eq!(c["image"], "registry.example/mitre/heimdall2:2.13.1");
    assert_eq!(
        spec["securityContext"], deployment["spec"]["template"]["spec"]["securityContext"],
        "restricted admission needs the same pod context"
    );
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(spec["imagePullSecrets"][0]["name"], "mirror");
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(c["command"], json!(["node", "-e", "console.log(1)"]));
    let env: Vec<&Json> = c["env"].as_array().unwrap().iter().collect();
    let var = |n: &str| env.iter().find(|e| e["name"] == n).copied().unwrap_or(&Json::Null).clone();
    assert_eq!(var("URL")["value"], "http://heimdall:3000");
    assert_eq!(var("EMAIL")["value"], ADMIN_EMAIL);
    assert_eq!(
        var("ADMIN_PASSWORD")["valueFrom"]["secretKeyRef"],
        json!({"name": "heimdall-generated-secrets", "key": "ADMIN_PASSWORD"}),
        "the password comes from the Secret, never through the suite"
    );
    assert!(var("ADMIN_PASSWORD")["value"].is_null());
    assert_eq!(var("SESSION")["value"], "{}");
}

#[test]
fn the_not_ready_report_names_each_pod_its_containers_and_last_events() {
    let pod = json!({"metadata": {"name": "heimdall-7d9f"}, "status": {"phase": "Pending",
        "initContainerStatuses": [{"name": "wait-for-database", "state": {"running": {}}}],
        "containerStatuses": [{"name": "heimdall", "state": {"waiting": {"reason": "PodInitializing"}}}]}});
    let event = |n: usize, name: &str| {
        json!({"involvedObject": {"name": name}, "type": "Warning", "reason": format!("R{n}"),
        "message": format!("m{n}"), "lastTimestamp": format!("2026-11-28T10:00:0{n}Z")})
    };
    let events = json!({"items": (0..7).map(|n| event(n, "heimdall-7d9f")).chain([event(9, "other-pod")]).collect::<Vec<_>>()});
    let logs: BTreeMap<String, String> =
        [("heimdall-7d9f/wait-for-database".to_string(), (1..=7).map(|n| format!("line {n}: no attempt\n")).collect::<String>())].into();
    let report = not_ready_report(&[&pod], &events, &logs, Duration::from_secs(600));
    assert!(report.starts_with("pods not Ready after 600 s"), "{report}");
    assert!(report.contains("pod heimdall-7d9f: phase Pending"), "{report}");
    assert!(report.contains("container wait-for-database: running, not ready"), "{report}");
    assert!(report.contains("container heimdall: waiting: PodInitializing"), "{report}");
    assert!(
        report.contains("log: line 7: no attempt") && report.contains("log: line 3:") && !report.contains("line 2:"),
        "the container's last 5 log lines: {report}"
    );
    assert!(
        report.contains("event Warning R6: m6") && report.contains("R2") && !report.contains("R1:"),
        "the last 5 events only: {report}"
    );
    assert!(!report.contains("other-pod") && !report.contains("R9"), "another pod's events: {report}");
    assert!(not_ready_report(&[], &events, &BTreeMap::new(), Duration::from_secs(1)).contains("fewer than 2 pods"));
}

/// A stand-in for Heimdall's two routes the client scripts use: a login that checks the password and
/// a guarded route that accepts only tokens of the current JWT secret (`GET /change` changes it).
const FAKE_HEIMDALL: &str = r#"
let secret = 'one';
const server = require('http').createServer((req, res) => { let body = ''; req.on('data', d => body += d); req.on('end', () => {
  if (req.url === '/authn/login') {
    if (JSON.parse(body).password !== 'pw') { res.writeHead(401); return res.end('Incorrect Username or Password'); }
    res.writeHead(201, {'content-type': 'application/json'}); return res.end(JSON.stringify({userID: '7', accessToken: secret}));
  }
  if (req.url === '/users/7') { res.writeHead(req.headers.authorization === 'Bearer ' + secret ? 200 : 401); return res.end('{}'); }
  if (req.url === '/change') { secret = 'two'; return res.end('ok'); }
  res.writeHead(404); res.end(); }); });
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(server.address().port));
"#;

fn node(script: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new("node");
    cmd.args(["-e", script]).envs(env.iter().copied());
    crate::support::process::output(&mut cmd, "node").expect("node runs (the e2e suite needs Node.js)")
}

#[test]
fn the_client_scripts_log_in_and_judge_a_changed_jwt_secret() {
    use std::io::BufRead;
    let mut server = std::process::Command::new("node").args(["-e", FAKE_HEIMDALL]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut port = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let url = format!("http://127.0.0.1:{}", port.trim());
    let env =
        |password: &'static str| vec![("URL", url.clone()), ("EMAIL", ADMIN_EMAIL.to_string()), ("ADMIN_PASSWORD", password.to_string())];
    let run = |script: &str, env: Vec<(&str, String)>| {
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = node(script, &pairs);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let (code, said) = run(&format!("{HELPERS}{FIRST_LOGIN}"), env("wrong"));
    assert_eq!(code, Some(1), "a wrong password must fail: {said}");
    assert!(said.contains("answered 401"), "{said}");
    let (code, session) = run(&format!("{HELPERS}{FIRST_LOGIN}"), env("pw"));
    assert_eq!(code, Some(0), "{session}");
    assert!(session.contains(r#""accessToken":"one""#), "{session}");
    let after = format!("{HELPERS}{AFTER_CHANGE}");
    let with_session = || env("pw").into_iter().chain([("SESSION", session.trim().to_string())]).collect::<Vec<_>>();
    let (code, said) = run(&after, with_session());
    assert_eq!(code, Some(1), "an unchanged secret must fail the check: {said}");
    assert!(said.contains("still answers 200"), "{said}");
    assert_eq!(node(&format!("fetch('{url}/change').then(r => r.text()).then(console.log)"), &[]).status.code(), Some(0));
    let (code, said) = run(&after, with_session());
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("old session refused (401), new session accepted"), "{said}");
}

#[test]
fn the_client_scripts_wait_for_a_service_not_yet_routed_and_name_the_error_when_it_never_is() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let env = [("URL", format!("http://127.0.0.1:{port}")), ("EMAIL", ADMIN_EMAIL.into()), ("ADMIN_PASSWORD", "pw".into())];
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let never = format!("{HELPERS}{FIRST_LOGIN}").replace("tries = 30", "tries = 2");
    let out = node(&never, &pairs);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("unreachable: ECONNREFUSED"), "the connection error is named: {said}");
    let login = std::process::Command::new("node")
        .args(["-e", &format!("{HELPERS}{FIRST_LOGIN}")])
        .envs(pairs.iter().copied())
        .output_in_background();
    std::thread::sleep(Duration::from_secs(2));
    let mut server = std::process::Command::new("node")
        .args(["-e", FAKE_HEIMDALL])
        .env("PORT", &port)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let out = login.join().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(out.status.code(), Some(0), "a Service routed 2 s late is reached: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs a command on a thread; its output when joined.
trait OutputInBackground {
    fn output_in_background(&mut self) -> std::thread::JoinHandle<std::process::Output>;
}

impl OutputInBackground for std::process::Command {
    fn output_in_background(&mut self) -> std::thread::JoinHandle<std::process::Output> {
        let child = self.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        std::thread::spawn(move || child.wait_with_output().unwrap())
    }
}

#[test]
fn the_probe_script_tells_refused_from_connected() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let probe = |target: &str| {
        let out = node(PROBE, &[("TARGET", target), ("PORT", &port)]);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let (code, said) = probe("127.0.0.1");
    assert!(code == Some(0) && said.starts_with("connected"), "a connection is said: {code:?} {said}");
    drop(listener);
    let (code, said) = probe("127.0.0.1");
    assert!(code == Some(0) && said.starts_with("blocked"), "a refused connection is said: {code:?} {said}");
    let (code, said) = probe("no-such-host.invalid");
    assert!(code == Some(2) && said.starts_with("error"), "a DNS failure is neither: {code:?} {said}");
}
