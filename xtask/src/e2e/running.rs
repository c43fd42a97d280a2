//! Scenario j, for clusters with nodes: the chart's default install with NetworkPolicies really runs: every pod becomes Ready, `helm test` passes, Heimdall answers `GET /server` through its Service, the admin logs in with the password from the Secret, and a pod without Heimdall's labels cannot reach PostgreSQL.

use super::{generated_secret, Env, RELEASE};
use anyhow::{bail, ensure, Context, Result};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value as Json};
use std::time::{Duration, Instant};

/// The admin the seeder creates (ADMIN_EMAIL), set explicitly so the login also proves the setting arrived.
const ADMIN_EMAIL: &str = "e2e-admin@heimdall.example";

/// j. Install with NetworkPolicies on, wait for every pod, `helm test`, `GET /server`, log in as the admin.
pub fn heimdall_runs(env: &Env) -> Result<()> {
    let ns = env.namespace("running")?;
    let chart = env.chart_copy("running")?;
    let email = format!("heimdall.config.ADMIN_EMAIL={ADMIN_EMAIL}");
    env.release_ok(&super::install(&ns, &chart, &["--set", "networkPolicy.enabled=true", "--set-string", &email]))?;
    wait_all_ready(env, &ns)?;
    env.helm_ok(&["test", RELEASE, "--namespace", &ns, "--timeout", "300s", "--logs"])?;
    let (status, body) = env.cluster.request_text("GET", &service_path(&ns, "server"), None)?;
    let settings: Json = serde_json::from_str(&body).with_context(|| format!("GET /server answered {status} without JSON: {body}"))?;
    ensure!(status == 200 && settings["localLoginEnabled"] == true, "GET /server answered {status}: {body}");
    let secrets = generated_secret(env, &ns)?;
    let token = admin_login(env, &ns, &secrets["ADMIN_PASSWORD"])?;
    verify_admin_token(&token, &secrets["JWT_SECRET"])?;
    other_pods_cannot_reach_the_database(env, &ns)
}

/// The probe's script: exit 0 when the connection is dropped or refused, 1 when it connects, 2 on anything else.
const PROBE: &str = "const s = require('net').connect({host: process.env.TARGET, port: 5432}); s.setTimeout(8000); \
s.on('connect', () => { console.log('connected'); process.exit(1); }); \
s.on('timeout', () => { console.log('blocked: timed out'); process.exit(0); }); \
s.on('error', e => { console.log('error: ' + e.code); process.exit(e.code === 'ECONNREFUSED' ? 0 : 2); });";

/// The NetworkPolicies are enforced, not just accepted: a pod without Heimdall's labels, in the same
/// namespace and on Heimdall's own image and security context, cannot open PostgreSQL's port.
fn other_pods_cannot_reach_the_database(env: &Env, ns: &str) -> Result<()> {
    let deployment = env.deployment(ns)?.context("no Deployment")?;
    let pod_spec = &deployment["spec"]["template"]["spec"];
    let container = &pod_spec["containers"][0];
    let probe = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "e2e-netpol-probe"}, "spec": {
        "restartPolicy": "Never", "automountServiceAccountToken": false, "enableServiceLinks": false,
        "securityContext": pod_spec["securityContext"], "imagePullSecrets": pod_spec["imagePullSecrets"],
        "containers": [{"name": "probe", "image": container["image"], "command": ["node", "-e", PROBE],
            "env": [{"name": "TARGET", "value": format!("{RELEASE}-postgresql")}],
            "securityContext": container["securityContext"],
            "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}}]}});
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/pods"), &probe)?;
    let phase = wait_finished(env, ns, "e2e-netpol-probe")?;
    let (_, log) = env.cluster.request_text("GET", &format!("/api/v1/namespaces/{ns}/pods/e2e-netpol-probe/log"), None)?;
    ensure!(phase == "Succeeded", "a pod without Heimdall's labels reached PostgreSQL's port, so the NetworkPolicy is not enforced (is the CNI one that enforces NetworkPolicies?): {}", log.trim());
    Ok(())
}

/// Waits for a pod to finish; its phase.
fn wait_finished(env: &Env, ns: &str, name: &str) -> Result<String> {
    let start = Instant::now();
    loop {
        let pod = env.cluster.get(&format!("/api/v1/namespaces/{ns}/pods/{name}"))?.context("the probe pod vanished")?;
        let phase = pod["status"]["phase"].as_str().unwrap_or("").to_string();
        if phase == "Succeeded" || phase == "Failed" {
            return Ok(phase);
        }
        if start.elapsed() > env.target.ready_timeout {
            let events = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/events"), None)?;
            bail!("{}", not_ready_report(&[&pod], &events, env.target.ready_timeout));
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// An API path reaching Heimdall through its Service, via the API server's service proxy.
fn service_path(ns: &str, path: &str) -> String {
    format!("/api/v1/namespaces/{ns}/services/http:{RELEASE}:http/proxy/{path}")
}

/// POST /authn/login (apps/backend/src/authn/authn.controller.ts, local strategy with `email`):
/// success proves ADMIN_PASSWORD seeded the admin and DATABASE_PASSWORD let the app read it back.
fn admin_login(env: &Env, ns: &str, password: &str) -> Result<String> {
    let body = json!({"email": ADMIN_EMAIL, "password": password}).to_string();
    let (status, answer) = env.cluster.request_text("POST", &service_path(ns, "authn/login"), Some(("application/json", &body)))?;
    ensure!(
        (200..300).contains(&status),
        "the admin's login with ADMIN_PASSWORD from the Secret answered {status}: {}",
        answer.replace(password, "<ADMIN_PASSWORD>")
    );
    let answer: Json = serde_json::from_str(&answer).context("the login answered no JSON")?;
    answer["accessToken"].as_str().map(str::to_string).context("the login answered no accessToken")
}

/// Proves the token is signed with JWT_SECRET from the Secret. Heimdall 2.13.1 signs with JWT_SECRET
/// followed by the user's own secret (authn.service.ts), which is still unset at an admin's first login:
/// JavaScript then appends "null" (the column's value) or "undefined".
pub fn verify_admin_token(token: &str, jwt_secret: &str) -> Result<()> {
    let parts: Vec<&str> = token.split('.').collect();
    ensure!(parts.len() == 3, "the accessToken is not a JWT");
    let decode = |p: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).context("the accessToken is not base64url");
    let header: Json = serde_json::from_slice(&decode(parts[0])?)?;
    let payload: Json = serde_json::from_slice(&decode(parts[1])?)?;
    ensure!(header["alg"] == "HS256", "the accessToken is signed with {}, not HS256", header["alg"]);
    ensure!(payload["email"] == ADMIN_EMAIL && payload["role"] == "admin", "the accessToken is not the admin's: {payload}");
    let signature = decode(parts[2])?;
    let signed = format!("{}.{}", parts[0], parts[1]);
    let signs = |suffix: &str| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(format!("{jwt_secret}{suffix}").as_bytes()).expect("HMAC takes any key");
        mac.update(signed.as_bytes());
        mac.verify_slice(&signature).is_ok()
    };
    ensure!(
        ["null", "undefined"].iter().any(|s| signs(s)),
        "the admin's accessToken is not signed with JWT_SECRET from the Secret: the app runs with another JWT_SECRET"
    );
    Ok(())
}

/// Waits until every pod of the namespace (but finished hook pods) is Ready; on timeout names each pod
/// that is not, with its state and its last events.
fn wait_all_ready(env: &Env, ns: &str) -> Result<()> {
    let start = Instant::now();
    loop {
        let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        let waiting: Vec<&Json> = items.iter().filter(|p| p["status"]["phase"] != "Succeeded" && !is_ready(p)).collect();
        if waiting.is_empty() && items.len() >= 2 {
            return Ok(());
        }
        if start.elapsed() > env.target.ready_timeout {
            let events = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/events"), None)?;
            bail!("{}", not_ready_report(&waiting, &events, env.target.ready_timeout));
        }
        std::thread::sleep(Duration::from_secs(3));
    }
}

fn is_ready(pod: &Json) -> bool {
    pod["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// "pod P is not Ready after T: phase, why each container waits or died, its last 5 events".
pub fn not_ready_report(waiting: &[&Json], events: &Json, timeout: Duration) -> String {
    let mut out = format!("pods not Ready after {} s (raise --ready-timeout if images are slow to pull):", timeout.as_secs());
    if waiting.is_empty() {
        out.push_str("\n  fewer than 2 pods exist (Heimdall and PostgreSQL expected)");
    }
    for pod in waiting {
        let name = pod["metadata"]["name"].as_str().unwrap_or("?");
        out.push_str(&format!("\n  pod {name}: phase {}", pod["status"]["phase"].as_str().unwrap_or("?")));
        let statuses = ["initContainerStatuses", "containerStatuses"].map(|k| pod["status"][k].as_array().cloned().unwrap_or_default());
        for c in statuses.iter().flatten() {
            let state = &c["state"];
            let why = ["waiting", "terminated"].iter().find_map(|s| {
                let st = &state[*s];
                st.is_object().then(|| format!("{s}: {} {}", st["reason"].as_str().unwrap_or(""), st["message"].as_str().unwrap_or("")))
            });
            out.push_str(&format!(
                "\n    container {}: {}",
                c["name"].as_str().unwrap_or("?"),
                why.unwrap_or_else(|| "running, not ready".into()).trim()
            ));
        }
        let mut its: Vec<&Json> =
            events["items"].as_array().into_iter().flatten().filter(|e| e["involvedObject"]["name"] == name).collect();
        its.sort_by_key(|e| e["lastTimestamp"].as_str().or(e["eventTime"].as_str()).unwrap_or("").to_string());
        for e in its.iter().rev().take(5).rev() {
            out.push_str(&format!(
                "\n    event {} {}: {}",
                e["type"].as_str().unwrap_or(""),
                e["reason"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
