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

use crate::support::cluster::poll;
use crate::tasks::e2e::client::{
    client_pod, container_logs, is_ready, last_ending, not_ready_report, run_client, run_client_labelled, wait_all_ready, wait_finished,
    wait_rolled_out, AFTER_CHANGE, FIRST_LOGIN, HELPERS, PROBE,
};
use crate::tasks::e2e::{install, upgrade, Env, RELEASE};
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use std::path::Path;
use std::time::{Duration, Instant};

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
    let run = env.release_unless(&install(ns, chart, &args), || first_restart(env, ns))?;
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

/// JWT_SECRET reached the app. Heimdall signs a session with JWT_SECRET followed by the user's own
/// secret, kept in the database (authn.service.ts), so a token cannot be checked from outside; instead,
/// changing JWT_SECRET in the Secret (which rolls the pods through checksum/secrets) must end the session.
fn changed_jwt_secret_ends_the_session(env: &Env, ns: &str, chart: &Path, values: &[&str], session: &str) -> Result<()> {
    ensure!(session.contains("accessToken"), "the login pod printed no session: {session}");
    let changed = format!("heimdall.secrets.JWT_SECRET={}", "e2e0changed0".repeat(11));
    let mut args = values.to_vec();
    args.extend(["--set-string", &changed]);
    env.release_ok(&upgrade(ns, chart, &args))?;
    wait_rolled_out(env, ns)?;
    let said = run_client(env, ns, "e2e-after-change", &format!("{HELPERS}{AFTER_CHANGE}"), &[("SESSION", session)])?;
    ensure!(said.contains("old session refused"), "the JWT_SECRET check said: {said}");
    Ok(())
}

#[cfg(test)]
mod tests;
