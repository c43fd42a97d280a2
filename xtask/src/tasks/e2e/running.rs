//! Scenarios j, k and l, for clusters with nodes: the chart's install with NetworkPolicies really runs (`helm install --wait` with real hooks, every pod Ready, `helm test` passes, `GET /server` answers through the Service, the admin logs in with the generated password and a wrong one is refused, a changed JWT_SECRET ends the old session); where policies are enforced, what they admit works and a pod without the right labels reaches neither PostgreSQL nor Heimdall; an external database with an arbitrary UID.

mod drains;
mod lock;
mod migration;
mod production;
mod pulls;
mod rehearsal;
mod restore;
mod survival;

pub use drains::drains_honour_the_budget;
pub use migration::moved_from_heimdall_helm;
pub use production::{failed_upgrade_rolls_back, production_behaviours};
pub use pulls::images_pulled_with_credentials;
pub use rehearsal::release_rehearsed;
pub use restore::restore_from_the_guide;
pub use survival::{data_secrets_and_quiet_logs_survive, upgrade_from_the_previous_chart};

use super::{generated_secret_name, Env, RELEASE};
use crate::support::cluster::poll;
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The admin the seeder creates (ADMIN_EMAIL), set explicitly so the login also proves the setting arrived.
const ADMIN_EMAIL: &str = "e2e-admin@heimdall.example";
const ADMIN_EMAIL_VALUE: &str = "heimdall.config.ADMIN_EMAIL=e2e-admin@heimdall.example";

/// j. `helm install --wait` with NetworkPolicies on and the generator hook run by Helm, every pod Ready,
/// `helm test --logs`, `GET /server`, the admin's login (and a wrong password refused), a changed JWT_SECRET.
pub fn heimdall_runs(env: &Env) -> Result<()> {
    let (ns, chart, values) = install_running(env, "running")?;
    env.helm_ok(&["test", RELEASE, "--namespace", &ns, "--timeout", "300s", "--logs"])?;
    server_answers_through_its_service(env, &ns)?;
    let session = run_client(env, &ns, "e2e-login", &format!("{HELPERS}{FIRST_LOGIN}"), &[])?;
    changed_jwt_secret_ends_the_session(env, &ns, &chart, &values, session.trim())
}

/// Labels of the pods `networkPolicy.ingressFrom` admits to Heimdall in scenario k (an ingress controller's, say).
const INGRESS_ROLE: (&str, &str) = ("e2e-role", "ingress");

/// k. Where NetworkPolicies are enforced, with ingress admitted only from pods labelled as the ingress:
/// the generator hook reaches the API server (the install succeeds), Heimdall reaches PostgreSQL by its
/// DNS name (it gets Ready), `helm test` passes, the admin logs in from an admitted pod; a pod without
/// those labels reaches neither PostgreSQL nor Heimdall. Once the release's policies are deleted the
/// same probe connects to PostgreSQL: it is the policies that refused it, and the probe can fail.
pub fn network_policies_hold(env: &Env) -> Result<()> {
    let ns = env.namespace("netpol")?;
    let chart = env.chart_copy("netpol")?;
    let ingress =
        format!(r#"networkPolicy.ingressFrom=[{{"podSelector":{{"matchLabels":{{"{}":"{}"}}}}}}]"#, INGRESS_ROLE.0, INGRESS_ROLE.1);
    let values = ["--set", "networkPolicy.enabled=true", "--set-string", ADMIN_EMAIL_VALUE, "--set-json", &ingress];
    install_and_wait(env, &ns, &chart, &values)?;
    env.helm_ok(&["test", RELEASE, "--namespace", &ns, "--timeout", "300s", "--logs"])?;
    let admitted = json!({INGRESS_ROLE.0: INGRESS_ROLE.1});
    run_client_labelled(env, &ns, "e2e-login", &format!("{HELPERS}{FIRST_LOGIN}"), &[], &admitted)
        .context("a pod the values admit (networkPolicy.ingressFrom) must reach Heimdall and log in")?;
    let database = format!("{RELEASE}-postgresql");
    ensure_probe(env, &ns, "e2e-probe-database", &database, 5432, "blocked")
        .context("a pod without Heimdall's labels must not reach PostgreSQL: is the CNI one that enforces NetworkPolicies?")?;
    ensure_probe(env, &ns, "e2e-probe-heimdall", RELEASE, 3000, "blocked")
        .context("a pod networkPolicy.ingressFrom does not name must not reach Heimdall")?;
    env.cluster.request("DELETE", &format!("/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies"), None)?;
    let mut attempt = 0;
    let control = poll(Duration::from_secs(60), Duration::from_secs(1), "the probe connecting once the policies are gone", |up| {
        attempt += 1;
        let result = ensure_probe(env, &ns, &format!("e2e-probe-control-{attempt}"), &database, 5432, "connected");
        if result.is_ok() || up {
            return result.map(Some);
        }
        Ok(None)
    });
    control.context("with the release's NetworkPolicies deleted, the probe must connect to PostgreSQL (else it cannot tell a refusal)")
}

/// o. On a node without an enforcer, the same release and probe as k: the probe connects to
/// PostgreSQL through the release's NetworkPolicies, so k's "blocked" is the enforcer's doing.
pub fn policies_without_an_enforcer_stop_nothing(env: &Env) -> Result<()> {
    let (ns, _, _) = install_running(env, "unenforced")?;
    let policies = env.cluster.request("GET", &format!("/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies"), None)?;
    let count = policies["items"].as_array().map_or(0, Vec::len);
    ensure!(count > 0, "networkPolicy.enabled=true rendered no NetworkPolicy, so the probe below proves nothing");
    let database = format!("{RELEASE}-postgresql");
    ensure_probe(env, &ns, "e2e-probe-unenforced", &database, 5432, "connected")
        .with_context(|| format!("with {count} NetworkPolicies in place but no enforcer, the probe must connect to PostgreSQL"))
}

/// Runs the probe from a pod without Heimdall's labels to `target:port`; fails unless it says `expect`
/// ("blocked" or "connected").
fn ensure_probe(env: &Env, ns: &str, name: &str, target: &str, port: u16, expect: &str) -> Result<()> {
    let port = port.to_string();
    let said = run_client(env, ns, name, PROBE, &[("TARGET", target), ("PORT", &port)])?;
    ensure!(said.starts_with(expect), "the probe from pod {name} to {target}:{port} said {:?}, not {expect}", said.trim());
    Ok(())
}

/// Installs the chart with NetworkPolicies on and the admin's e-mail set, with `--wait`, and waits for
/// every pod to be Ready. The namespace, the chart copy and the values.
fn install_running(env: &Env, name: &str) -> Result<(String, std::path::PathBuf, Vec<&'static str>)> {
    let ns = env.namespace(name)?;
    let chart = env.chart_copy(name)?;
    let values = vec!["--set", "networkPolicy.enabled=true", "--set-string", ADMIN_EMAIL_VALUE];
    install_and_wait(env, &ns, &chart, &values)?;
    Ok((ns, chart, values))
}

/// `helm install --wait` with `values`; on failure, the not-Ready report of the namespace's pods.
/// Then waits for every pod to be Ready and notes how long that took. A container that restarts on
/// the way fails it at once (Helm is stopped then, not waited out): the chart promises a clean start.
fn install_and_wait(env: &Env, ns: &str, chart: &Path, values: &[&str]) -> Result<()> {
    let start = Instant::now();
    let mut args = values.to_vec();
    args.push("--wait");
    let run = env.release_unless(&super::install(ns, chart, &args), || first_restart(env, ns))?;
    if !run.success {
        bail!("{} failed: {}\n{}", run.command_line(), run.stderr.trim(), namespace_report(env, ns)?);
    }
    wait_all_ready(env, ns)?;
    if let Some(restart) = first_restart(env, ns)? {
        bail!("{restart}");
    }
    env.note(format!("every pod Ready {:.1}s after helm install --wait began, with no restart", start.elapsed().as_secs_f64()));
    Ok(())
}

/// The not-Ready report of the namespace's pods (those not finished and not Ready).
fn namespace_report(env: &Env, ns: &str) -> Result<String> {
    let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
    let items = pods["items"].as_array().cloned().unwrap_or_default();
    let waiting: Vec<&Json> = items.iter().filter(|p| p["status"]["phase"] != "Succeeded" && !is_ready(p)).collect();
    let events = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/events"), None)?;
    let logs = container_logs(env, ns, &waiting);
    Ok(not_ready_report(&waiting, &events, &logs, env.target.ready_timeout))
}

/// The first container of the namespace's pods that has restarted, with how it last ended.
fn first_restart(env: &Env, ns: &str) -> Result<Option<String>> {
    let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
    Ok(pods["items"].as_array().into_iter().flatten().find_map(restart_of))
}

/// "container C of pod P restarted N time(s) …" for the first container of `pod` that restarted.
fn restart_of(pod: &Json) -> Option<String> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("?");
    let statuses = ["initContainerStatuses", "containerStatuses"].map(|k| pod["status"][k].as_array().cloned().unwrap_or_default());
    let c = statuses.iter().flatten().find(|c| c["restartCount"].as_u64().unwrap_or(0) > 0)?;
    Some(format!(
        "container {} of pod {name} restarted {} time(s) on its way to Ready ({}); the chart promises a start without restarts",
        c["name"].as_str().unwrap_or("?"),
        c["restartCount"],
        last_ending(c)
    ))
}

/// How a container last ended: "last ended: Error, exit code 1", or that the API does not say.
fn last_ending(status: &Json) -> String {
    let ended = &status["lastState"]["terminated"];
    match (ended["reason"].as_str(), ended["exitCode"].as_i64()) {
        (Some(reason), Some(code)) => format!("last ended: {reason}, exit code {code}"),
        _ => "how it ended is not recorded".to_string(),
    }
}

/// An OpenShift-style arbitrary UID (restricted-v2 assigns one from the namespace's range, with GID 0).
const ARBITRARY_UID: &str = "1000650000";
const EXTERNAL_DATABASE: &str = "external-postgres";
const EXTERNAL_PASSWORD: &str = "e2e-external-database-password";

/// l. With an external database (a PostgreSQL of the suite's own) and every Heimdall container running
/// as an arbitrary UID, wait-for-database lets Heimdall start: `--wait` succeeds, `GET /server` answers,
/// the admin logs in (so Heimdall reached the database as that UID).
pub fn external_database_and_arbitrary_uid(env: &Env) -> Result<()> {
    let ns = env.namespace("external")?;
    let chart = env.chart_copy("external")?;
    start_external_database(env, &ns)?;
    let (host, password) =
        (format!("externalDatabase.host={EXTERNAL_DATABASE}"), format!("heimdall.secrets.DATABASE_PASSWORD={EXTERNAL_PASSWORD}"));
    let uid = |key: &str| format!("{key}={ARBITRARY_UID}");
    let (pod_uid, pod_fs, container_uid) =
        (uid("podSecurityContext.runAsUser"), uid("podSecurityContext.fsGroup"), uid("securityContext.runAsUser"));
    let values = [
        "--set",
        "postgresql.enabled=false",
        "--set-string",
        &host,
        "--set",
        "externalDatabase.ssl=false",
        "--set-string",
        &password,
        "--set-string",
        ADMIN_EMAIL_VALUE,
        "--set",
        &pod_uid,
        "--set",
        "podSecurityContext.runAsGroup=0",
        "--set",
        &pod_fs,
        "--set",
        &container_uid,
        "--set",
        "securityContext.runAsGroup=0",
    ];
    install_and_wait(env, &ns, &chart, &values)?;
    server_answers_through_its_service(env, &ns)?;
    run_client(env, &ns, "e2e-login", &format!("{HELPERS}{FIRST_LOGIN}"), &[])?;
    Ok(())
}

/// PostgreSQL on the chart's default image, as a Pod and Service outside the release, with the
/// database and user Heimdall's external defaults name.
fn start_external_database(env: &Env, ns: &str) -> Result<()> {
    let image = crate::lifecycle::node::images::chart_references()?.1;
    let labels = json!({"app.kubernetes.io/name": EXTERNAL_DATABASE});
    let restricted = json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true,
        "runAsUser": 999, "runAsGroup": 999, "seccompProfile": {"type": "RuntimeDefault"}});
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": EXTERNAL_DATABASE, "labels": labels}, "spec": {
        "automountServiceAccountToken": false, "securityContext": {"fsGroup": 999},
        "containers": [{"name": "postgres", "image": image, "securityContext": restricted,
            "env": [{"name": "POSTGRES_PASSWORD", "value": EXTERNAL_PASSWORD}, {"name": "POSTGRES_DB", "value": "heimdall-server-production"},
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
            "ports": [{"name": "postgresql", "containerPort": 5432}],
            "readinessProbe": {"exec": {"command": ["pg_isready", "--username", "postgres", "--host", "127.0.0.1"]}, "periodSeconds": 2},
            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}],
        "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}]}});
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/pods"), &pod)?;
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": EXTERNAL_DATABASE},
        "spec": {"selector": labels, "ports": [{"name": "postgresql", "port": 5432, "targetPort": "postgresql"}]}});
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/services"), &service)?;
    Ok(())
}

/// `GET /server` through the Service, by the API server's service proxy: JSON with local login on.
fn server_answers_through_its_service(env: &Env, ns: &str) -> Result<()> {
    let path = format!("/api/v1/namespaces/{ns}/services/http:{RELEASE}:http/proxy/server");
    let (status, body) = env.cluster.request_text("GET", &path, None)?;
    let settings: Json = serde_json::from_str(&body).with_context(|| format!("GET /server answered {status} without JSON: {body}"))?;
    ensure!(status == 200 && settings["localLoginEnabled"] == true, "GET /server answered {status}: {body}");
    Ok(())
}

/// Client helpers: reach Heimdall, retrying connection errors (never answers) for 30 s, since a pod
/// can be Ready before kube-proxy routes its Service to it; log in as the admin (POST /authn/login, apps/backend/src/authn/authn.controller.ts)
/// and call a JWT-guarded route (GET /users/:id) with a session, retrying while the user's new
/// session secret is still being saved.
const HELPERS: &str = r#"
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
const FIRST_LOGIN: &str = r#"
attempt(process.env.ADMIN_PASSWORD + '-wrong').then(async r => {
  if (r.status !== 401) throw new Error('a wrong password answered ' + r.status + ', not 401');
  return login(); }).then(async s => { const status = await user(s, 5);
  if (status !== 200) throw new Error('GET /users/:id with the fresh session answered ' + status);
  console.log(JSON.stringify(s)); }).catch(fail);
"#;

/// After JWT_SECRET changed: the old session is refused (401), a new login works.
const AFTER_CHANGE: &str = r#"
user(JSON.parse(process.env.SESSION), 1).then(async status => {
  if (status !== 401) throw new Error('the session from before JWT_SECRET changed still answers ' + status);
  const fresh = await user(await login(), 5);
  if (fresh !== 200) throw new Error('a new login after JWT_SECRET changed answered ' + fresh);
  console.log('old session refused (401), new session accepted'); }).catch(fail);
"#;

/// After 3 s (an enforcer admits or refuses a new pod's address a moment after it starts, so a refusal
/// before that proves nothing), says "connected", or "blocked" when the connection is dropped or
/// refused; exit 2 on anything else (a name that does not resolve, say).
const PROBE: &str = r#"
const to = process.env.TARGET + ':' + process.env.PORT;
setTimeout(() => {
const s = require('net').connect({host: process.env.TARGET, port: Number(process.env.PORT)}); s.setTimeout(8000);
s.on('connect', () => { console.log('connected to ' + to); process.exit(0); });
s.on('timeout', () => { console.log('blocked: ' + to + ' timed out'); process.exit(0); });
s.on('error', e => { console.log((e.code === 'ECONNREFUSED' ? 'blocked: ' : 'error: ') + to + ' ' + e.code); process.exit(e.code === 'ECONNREFUSED' ? 0 : 2); });
}, 3000);
"#;

/// JWT_SECRET reached the app. Heimdall signs a session with JWT_SECRET followed by the user's own
/// secret, kept in the database (authn.service.ts), so a token cannot be checked from outside; instead,
/// changing JWT_SECRET in the Secret (which rolls the pods through checksum/secrets) must end the session.
fn changed_jwt_secret_ends_the_session(env: &Env, ns: &str, chart: &Path, values: &[&str], session: &str) -> Result<()> {
    ensure!(session.contains("accessToken"), "the login pod printed no session: {session}");
    let changed = format!("heimdall.secrets.JWT_SECRET={}", "e2e0changed0".repeat(11));
    let mut args = values.to_vec();
    args.extend(["--set-string", &changed]);
    env.release_ok(&super::upgrade(ns, chart, &args))?;
    wait_rolled_out(env, ns)?;
    let said = run_client(env, ns, "e2e-after-change", &format!("{HELPERS}{AFTER_CHANGE}"), &[("SESSION", session)])?;
    ensure!(said.contains("old session refused"), "the JWT_SECRET check said: {said}");
    Ok(())
}

/// A pod on Heimdall's own image, pod and container security contexts, running `node -e <script>` with
/// Heimdall's URL, the admin's e-mail, and ADMIN_PASSWORD from the generator's Secret (never through the suite).
pub fn client_pod(deployment: &Json, port: u64, name: &str, script: &str, extra_env: &[(&str, &str)]) -> Json {
    let password =
        json!({"name": "ADMIN_PASSWORD", "valueFrom": {"secretKeyRef": {"name": generated_secret_name(), "key": "ADMIN_PASSWORD"}}});
    client_pod_with(deployment, port, name, script, password, extra_env)
}

/// [`client_pod`] beside any workload (a Deployment or a StatefulSet) with ADMIN_PASSWORD from `password` (an env entry).
fn client_pod_with(workload: &Json, port: u64, name: &str, script: &str, password: Json, extra_env: &[(&str, &str)]) -> Json {
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
fn pod_beside(pod_spec: &Json, container: &Json, name: &str, command: Json, env: Vec<Json>, memory: [&str; 2]) -> Json {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "restartPolicy": "Never", "automountServiceAccountToken": false, "enableServiceLinks": false,
        "securityContext": pod_spec["securityContext"], "imagePullSecrets": pod_spec["imagePullSecrets"],
        "containers": [{"name": "client", "image": container["image"], "command": command, "env": env,
            "securityContext": container["securityContext"],
            "resources": {"requests": {"cpu": "10m", "memory": memory[0]}, "limits": {"memory": memory[1]}}}]}})
}

/// Runs a client pod to completion; its log. Fails with the log unless it succeeded.
fn run_client(env: &Env, ns: &str, name: &str, script: &str, extra_env: &[(&str, &str)]) -> Result<String> {
    run_client_labelled(env, ns, name, script, extra_env, &json!({}))
}

/// [`run_client`] with labels on the pod (for the peers a NetworkPolicy admits).
fn run_client_labelled(env: &Env, ns: &str, name: &str, script: &str, extra_env: &[(&str, &str)], labels: &Json) -> Result<String> {
    let deployment = env.deployment(ns)?.context("no Deployment")?;
    let mut pod = client_pod(&deployment, service_port(env, ns)?, name, script, extra_env);
    pod["metadata"]["labels"] = labels.clone();
    run_pod(env, ns, &pod)
}

/// Runs `pod` (a [`client_pod`]) to completion; its log. Fails with the log unless it succeeded.
fn run_pod(env: &Env, ns: &str, pod: &Json) -> Result<String> {
    let name = pod["metadata"]["name"].as_str().context("a client pod without a name")?;
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/pods"), pod)?;
    let phase = wait_finished(env, ns, name)?;
    let (_, log) = env.cluster.request_text("GET", &format!("/api/v1/namespaces/{ns}/pods/{name}/log"), None)?;
    ensure!(phase == "Succeeded", "pod {name} failed: {}", log.trim());
    Ok(log)
}

/// The port of the release's Service named http.
fn service_port(env: &Env, ns: &str) -> Result<u64> {
    let service = env.cluster.get(&format!("/api/v1/namespaces/{ns}/services/{RELEASE}"))?.context("no Service")?;
    let port = service["spec"]["ports"].as_array().into_iter().flatten().find(|p| p["name"] == "http").and_then(|p| p["port"].as_u64());
    port.context("the Service has no port named http")
}

/// Waits for a pod to finish; its phase.
fn wait_finished(env: &Env, ns: &str, name: &str) -> Result<String> {
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
fn wait_rolled_out(env: &Env, ns: &str) -> Result<()> {
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
fn wait_all_ready(env: &Env, ns: &str) -> Result<()> {
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
fn fail_not_ready_when<T>(up: bool, env: &Env, ns: &str, pods: &[&Json]) -> Result<Option<T>> {
    if up {
        let events = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/events"), None)?;
        let logs = container_logs(env, ns, pods);
        bail!("{}", not_ready_report(pods, &events, &logs, env.target.ready_timeout));
    }
    Ok(None)
}

/// The last lines each container of `pods` logged, keyed `pod/container` (those that never started log nothing).
fn container_logs(env: &Env, ns: &str, pods: &[&Json]) -> BTreeMap<String, String> {
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
const LOG_LINES: usize = 5;

fn is_ready(pod: &Json) -> bool {
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

#[cfg(test)]
mod tests;
