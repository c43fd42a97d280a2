//! The client-pod toolkit of the scenarios: pods that run beside Heimdall on its own image and security contexts (`node -e` scripts that log in, call a guarded route, probe a port), how they run and report, and the waits for a rollout and for every pod Ready, with a report of what kept one from it.

use super::{generated_secret_name, Env, RELEASE};
use crate::support::cluster::poll;
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::time::Duration;

/// Client helpers: reach Heimdall, retrying connection errors (never answers) for 30 s, since a pod
/// can be Ready before kube-proxy routes its Service to it; log in as the admin (POST /authn/login, apps/backend/src/authn/authn.controller.ts)
/// and call a JWT-guarded route (GET /users/:id) with a session, retrying while the user's new
/// session secret is still being saved.
pub(crate) const HELPERS: &str = r#"
const reach = (url, options, tries = 30) => fetch(url, options).catch(e => {
  if (tries <= 1) throw new Error(url + ' unreachable: ' + ((e.cause && (e.cause.code || e.cause.message)) || e.message));
  return new Promise(ok => setTimeout(ok, 1000)).then(() => reach(url, options, tries - 1));
});
const attempt = password => reach(process.env.URL + '/authn/login', {method: 'POST', headers: {'content-type': 'application/json'},
  body: JSON.stringify({email: process.env.EMAIL, password})});
const login = async () => {
  const r = await attempt(process.env.ADMIN_PASSWORD);
  if (r.status !== 201) throw new Error('POST /authn/login as ' + process.env.EMAIL + ' answered ' + r.status + ', not 201: ' + await r.text());
  return r.json();
};
const user = (session, tries) => reach(process.env.URL + '/users/' + session.userID,
  {headers: {authorization: 'Bearer ' + session.accessToken}}).then(r =>
  r.status === 200 || tries <= 1 ? r.status : new Promise(ok => setTimeout(ok, 1000)).then(() => user(session, tries - 1)));
const fail = e => { console.error(e.message); process.exit(1); };
"#;

/// A wrong password is refused (401); the admin's first login works (201) and its token opens a guarded
/// route: ADMIN_PASSWORD seeded the admin, DATABASE_PASSWORD let the app read it back. Prints the session.
pub(crate) const FIRST_LOGIN: &str = r#"
attempt(process.env.ADMIN_PASSWORD + '-wrong').then(async r => {
  if (r.status !== 401) throw new Error('a wrong password answered ' + r.status + ', not 401');
  return login(); }).then(async s => { const status = await user(s, 5);
  if (status !== 200) throw new Error('GET /users/:id with the fresh session answered ' + status);
  console.log(JSON.stringify(s)); }).catch(fail);
"#;

/// After JWT_SECRET changed: the old session is refused (401), a new login works.
pub(crate) const AFTER_CHANGE: &str = r#"
user(JSON.parse(process.env.SESSION), 1).then(async status => {
  if (status !== 401) throw new Error('the session from before JWT_SECRET changed still answers ' + status);
  const fresh = await user(await login(), 5);
  if (fresh !== 200) throw new Error('a new login after JWT_SECRET changed answered ' + fresh);
  console.log('old session refused (401), new session accepted'); }).catch(fail);
"#;

/// After 3 s (an enforcer admits or refuses a new pod's address a moment after it starts, so a refusal
/// before that proves nothing), says "connected", or "blocked" when the connection is dropped or
/// refused; exit 2 on anything else (a name that does not resolve, say).
pub(crate) const PROBE: &str = r#"
const to = process.env.TARGET + ':' + process.env.PORT;
setTimeout(() => {
const s = require('net').connect({host: process.env.TARGET, port: Number(process.env.PORT)}); s.setTimeout(8000);
s.on('connect', () => { console.log('connected to ' + to); process.exit(0); });
s.on('timeout', () => { console.log('blocked: ' + to + ' timed out'); process.exit(0); });
s.on('error', e => { console.log((e.code === 'ECONNREFUSED' ? 'blocked: ' : 'error: ') + to + ' ' + e.code); process.exit(e.code === 'ECONNREFUSED' ? 0 : 2); });
}, 3000);
"#;

/// A pod on Heimdall's own image, pod and container security contexts, running `node -e <script>` with
/// Heimdall's URL, the admin's e-mail, and ADMIN_PASSWORD from the generator's Secret (never through the suite).
pub fn client_pod(deployment: &Json, port: u64, name: &str, script: &str, extra_env: &[(&str, &str)]) -> Json {
    let password =
        json!({"name": "ADMIN_PASSWORD", "valueFrom": {"secretKeyRef": {"name": generated_secret_name(), "key": "ADMIN_PASSWORD"}}});
    client_pod_with(deployment, port, name, script, password, extra_env)
}

/// [`client_pod`] beside any workload (a Deployment or a StatefulSet) with ADMIN_PASSWORD from `password` (an env entry).
pub(crate) fn client_pod_with(workload: &Json, port: u64, name: &str, script: &str, password: Json, extra_env: &[(&str, &str)]) -> Json {
    let pod_spec = &workload["spec"]["template"]["spec"];
    let container = &pod_spec["containers"][0];
    let mut env =
        vec![json!({"name": "URL", "value": format!("http://{RELEASE}:{port}")}), json!({"name": "EMAIL", "value": ADMIN_EMAIL}), password];
    env.extend(extra_env.iter().map(|(k, v)| json!({"name": k, "value": v})));
    pod_beside(pod_spec, container, name, json!(["node", "-e", script]), env, ["64Mi", "128Mi"])
}

/// A pod of the suite's that runs once (`restartPolicy: Never`) beside the release: `container`'s image
/// and security context, the pod's security context and pull secrets from `pod_spec` (so restricted
/// admission and a mirror treat it as the release's pods), no service account token, and `memory`'s
/// request and limit.
pub(crate) fn pod_beside(pod_spec: &Json, container: &Json, name: &str, command: Json, env: Vec<Json>, memory: [&str; 2]) -> Json {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": "Never", "automountServiceAccountToken": false, "enableServiceLinks": false,
        "securityContext": pod_spec["securityContext"], "imagePullSecrets": pod_spec["imagePullSecrets"],
        "containers": [{"name": "client", "image": container["image"], "command": command, "env": env,
            "securityContext": container["securityContext"],
            "resources": {"requests": {"cpu": "10m", "memory": memory[0]}, "limits": {"memory": memory[1]}}}]}})
}

/// Runs a client pod to completion; its log. Fails with the log unless it succeeded.
pub(crate) fn run_client(env: &Env, ns: &str, name: &str, script: &str, extra_env: &[(&str, &str)]) -> Result<String> {
    run_client_labelled(env, ns, name, script, extra_env, &json!({}))
}

/// [`run_client`] with labels on the pod (for the peers a NetworkPolicy admits).
pub(crate) fn run_client_labelled(
    env: &Env,
    ns: &str,
    name: &str,
    script: &str,
    extra_env: &[(&str, &str)],
    labels: &Json,
) -> Result<String> {
    let deployment = env.deployment(ns)?.context("no Deployment")?;
    let mut pod = client_pod(&deployment, service_port(env, ns)?, name, script, extra_env);
    pod["metadata"]["labels"] = labels.clone();
    run_pod(env, ns, &pod)
}

/// Runs `pod` (a [`client_pod`]) to completion; its log. Fails with the log unless it succeeded.
pub(crate) fn run_pod(env: &Env, ns: &str, pod: &Json) -> Result<String> {
    let name = pod["metadata"]["name"].as_str().context("a client pod without a name")?;
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/pods"), pod)?;
    let phase = wait_finished(env, ns, name)?;
    let (_, log) = env.cluster.request_text("GET", &format!("/api/v1/namespaces/{ns}/pods/{name}/log"), None)?;
    ensure!(phase == "Succeeded", "pod {name} failed: {}", log.trim());
    Ok(log)
}

/// The port of the release's Service named http.
pub(crate) fn service_port(env: &Env, ns: &str) -> Result<u64> {
    let service = env.cluster.get(&format!("/api/v1/namespaces/{ns}/services/{RELEASE}"))?.context("no Service")?;
    let port = service["spec"]["ports"].as_array().into_iter().flatten().find(|p| p["name"] == "http").and_then(|p| p["port"].as_u64());
    port.context("the Service has no port named http")
}

/// Waits for a pod to finish; its phase.
pub(crate) fn wait_finished(env: &Env, ns: &str, name: &str) -> Result<String> {
    poll(env.target.ready_timeout, Duration::from_secs(2), &format!("pod {name} finishing"), |up| {
        let pod = env.cluster.get(&format!("/api/v1/namespaces/{ns}/pods/{name}"))?.context("the client pod vanished")?;
        let phase = pod["status"]["phase"].as_str().unwrap_or("");
        if phase == "Succeeded" || phase == "Failed" {
            return Ok(Some(phase.to_string()));
        }
        fail_not_ready_when(up, env, ns, &[&pod])
    })
}

/// Waits until the Deployment's new pods replaced the old ones, then for every pod to be Ready.
pub(crate) fn wait_rolled_out(env: &Env, ns: &str) -> Result<()> {
    poll(env.target.ready_timeout, Duration::from_secs(3), "the Deployment's rollout", |up| {
        let d = env.deployment(ns)?.context("no Deployment")?;
        let (spec, status) = (&d["spec"], &d["status"]);
        let done = status["observedGeneration"].as_i64() >= d["metadata"]["generation"].as_i64()
            && status["updatedReplicas"] == spec["replicas"]
            && status["readyReplicas"] == spec["replicas"]
            && status["replicas"] == spec["replicas"];
        ensure!(done || !up, "the Deployment did not roll out within {} s: {status}", env.target.ready_timeout.as_secs());
        Ok(done.then_some(()))
    })?;
    wait_all_ready(env, ns)
}

/// Waits until every pod of the namespace (but finished hook pods) is Ready; on timeout names each pod
/// that is not, with its state and its last events.
pub(crate) fn wait_all_ready(env: &Env, ns: &str) -> Result<()> {
    poll(env.target.ready_timeout, Duration::from_secs(3), "every pod Ready", |up| {
        let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
        let items = pods["items"].as_array().cloned().unwrap_or_default();
        let waiting: Vec<&Json> = items.iter().filter(|p| p["status"]["phase"] != "Succeeded" && !is_ready(p)).collect();
        if waiting.is_empty() && items.len() >= 2 {
            return Ok(Some(()));
        }
        fail_not_ready_when(up, env, ns, &waiting)
    })
}

/// Once the time is up, fails with the not-Ready report of `pods`; until then, keeps waiting.
pub(crate) fn fail_not_ready_when<T>(up: bool, env: &Env, ns: &str, pods: &[&Json]) -> Result<Option<T>> {
    if up {
        let events = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/events"), None)?;
        let logs = container_logs(env, ns, pods);
        bail!("{}", not_ready_report(pods, &events, &logs, env.target.ready_timeout));
    }
    Ok(None)
}

/// The last lines each container of `pods` logged, keyed `pod/container` (those that never started log nothing).
pub(crate) fn container_logs(env: &Env, ns: &str, pods: &[&Json]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for pod in pods {
        let name = pod["metadata"]["name"].as_str().unwrap_or("?");
        for kind in ["initContainerStatuses", "containerStatuses"] {
            for c in pod["status"][kind].as_array().into_iter().flatten() {
                let container = c["name"].as_str().unwrap_or("?");
                let path = format!("/api/v1/namespaces/{ns}/pods/{name}/log?container={container}&tailLines={LOG_LINES}");
                if let Ok((200, text)) = env.cluster.request_text("GET", &path, None) {
                    out.insert(format!("{name}/{container}"), text);
                }
                // A restarted container's last words are in its previous instance's log.
                if c["restartCount"].as_u64().unwrap_or(0) > 0 {
                    if let Ok((200, text)) = env.cluster.request_text("GET", &format!("{path}&previous=true"), None) {
                        out.insert(format!("{name}/{container} (previous)"), text);
                    }
                }
            }
        }
    }
    out
}

/// How many of a container's last log lines a not-Ready report shows.
pub(crate) const LOG_LINES: usize = 5;

pub(crate) fn is_ready(pod: &Json) -> bool {
    pod["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// "pod P is not Ready after T: phase, why each container waits or died, its last log lines, its last 5 events".
pub fn not_ready_report(waiting: &[&Json], events: &Json, logs: &BTreeMap<String, String>, timeout: Duration) -> String {
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
            let container = c["name"].as_str().unwrap_or("?");
            out.push_str(&format!("\n    container {container}: {}", why.unwrap_or_else(|| "running, not ready".into()).trim()));
            if c["restartCount"].as_u64().unwrap_or(0) > 0 {
                out.push_str(&format!(" (restarted {}, {})", c["restartCount"], last_ending(c)));
            }
            for (key, label) in
                [(format!("{name}/{container} (previous)"), "log before the restart"), (format!("{name}/{container}"), "log")]
            {
                let log = logs.get(&key).map(String::as_str).unwrap_or("");
                for line in log.lines().rev().take(LOG_LINES).collect::<Vec<_>>().into_iter().rev() {
                    out.push_str(&format!("\n      {label}: {line}"));
                }
            }
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

/// The admin the seeder creates (ADMIN_EMAIL), set explicitly so the login also proves the setting arrived.
pub(crate) const ADMIN_EMAIL: &str = "e2e-admin@heimdall.example";

/// How a container last ended: "last ended: Error, exit code 1", or that the API does not say.
pub(crate) fn last_ending(status: &Json) -> String {
    let ended = &status["lastState"]["terminated"];
    match (ended["reason"].as_str(), ended["exitCode"].as_i64()) {
        (Some(reason), Some(code)) => format!("last ended: {reason}, exit code {code}"),
        _ => "how it ended is not recorded".to_string(),
    }
}

#[cfg(test)]
mod tests;
