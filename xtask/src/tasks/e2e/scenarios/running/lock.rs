//! Part of scenario p: the start command's migration lock, held by another session of the suite's
//! own while three replicas start on an empty database. Each must say it waits, and none may begin a
//! migration until the lock is let go. Replicas that start together by chance test the lock only now
//! and then; a lock held on purpose tests it every run.

use crate::support::cluster::poll;
use crate::tasks::e2e::client::{pod_beside, wait_rolled_out};
use crate::tasks::e2e::{install, upgrade, Env, RELEASE};
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The advisory lock's key in files/start-heimdall.sh ("HEIMDALL" in ASCII).
pub(super) const LOCK_KEY: &str = "5207098525011296588";
/// What the start command logs when another session holds the lock, and as it begins Heimdall's first
/// migration (sequelize-cli's line; only on an empty database).
const WAITING: &str = "another replica is migrating the database; waiting for it";
pub(super) const MIGRATING: &str = "20200415193552-create_users_table: migrating";
const HOLDER: &str = "e2e-lock-holder";
const REPLICAS: usize = 3;

/// In `ns`, the release at no replica (PostgreSQL up, its database empty), the lock taken by a pod of
/// the suite's, then 3 replicas: each says it waits and none migrates; the holder is deleted, and the
/// replicas become Ready with no restart, one of them having run the migrations. The release stays.
pub fn replicas_wait_for_a_held_lock(env: &Env, ns: &str, chart: &Path, values: &[&str]) -> Result<()> {
    // No Heimdall pod to wait for: --wait waits for PostgreSQL.
    let mut none = vec!["--set", "replicaCount=0", "--wait"];
    none.extend(values);
    env.release_ok(&install(ns, chart, &none))?;
    hold_the_lock(env, ns)?;
    let replicas = format!("replicaCount={REPLICAS}");
    let mut three = vec!["--set", replicas.as_str()];
    three.extend(values);
    env.release_ok(&upgrade(ns, chart, &three))?;
    every_replica_waits(env, ns)?;
    env.cluster.request("DELETE", &format!("/api/v1/namespaces/{ns}/pods/{HOLDER}?gracePeriodSeconds=0"), None)?;
    wait_rolled_out(env, ns)?;
    replicas_started_clean(env, ns, "3 replicas started while another session held the lock")
}

/// Runs the holder pod (the wait-for-database container's image, context and settings, with
/// Heimdall's DATABASE_PASSWORD and DATABASE_NAME) and waits until it says it holds the lock. It waits for the
/// database as wait-for-database does: a PostgreSQL pod Ready may still be refused through its Service
/// for a moment.
fn hold_the_lock(env: &Env, ns: &str) -> Result<()> {
    let deployment = env.deployment(ns)?.context("no Deployment")?;
    let pod = holder_pod(&deployment, &format!("{RELEASE}-config"))?;
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/pods"), &pod)?;
    let log = format!("/api/v1/namespaces/{ns}/pods/{HOLDER}/log");
    poll(env.target.ready_timeout, Duration::from_secs(1), "the lock holder taking the lock", |up| {
        let (status, said) = env.cluster.request_text("GET", &log, None)?;
        if status == 200 && said.contains("held") {
            return Ok(Some(()));
        }
        let pod = env.cluster.get(&format!("/api/v1/namespaces/{ns}/pods/{HOLDER}"))?.unwrap_or_default();
        if up || pod["status"]["phase"] == "Failed" || pod["status"]["phase"] == "Succeeded" {
            bail!("the lock holder did not take the lock: phase {}, log: {said}", pod["status"]["phase"]);
        }
        Ok(None)
    })
}

/// A pod that takes the start command's advisory lock in Heimdall's database (with the password Heimdall
/// reads, from whichever Secret the release gives it) and keeps it until it is
/// deleted (the server notices the closed connection within a second and lets the lock go).
pub(super) fn holder_pod(deployment: &Json, config_map: &str) -> Result<Json> {
    let spec = &deployment["spec"]["template"]["spec"];
    let waiter = spec["initContainers"].as_array().into_iter().flatten().find(|c| c["name"] == "wait-for-database");
    let waiter = waiter.context("the Deployment has no wait-for-database container to take the database settings from")?;
    let heimdall = spec["containers"].as_array().into_iter().flatten().find(|c| c["name"] == "heimdall");
    let password = heimdall.and_then(|c| c["env"].as_array()?.iter().find(|e| e["name"] == "DATABASE_PASSWORD"));
    let password = password.context("the Heimdall container has no DATABASE_PASSWORD to take the lock with")?;
    let mut env = waiter["env"].as_array().cloned().unwrap_or_default();
    env.push(json!({"name": "PGPASSWORD", "valueFrom": password["valueFrom"]}));
    env.push(json!({"name": "PGDATABASE", "valueFrom": {"configMapKeyRef": {"name": config_map, "key": "DATABASE_NAME"}}}));
    let script = format!(
        r#"until pg_isready --host "$DATABASE_HOST" --port "$DATABASE_PORT" --username "$DATABASE_USERNAME" --timeout 5; do sleep 1; done; exec psql --host "$DATABASE_HOST" --port "$DATABASE_PORT" --username "$DATABASE_USERNAME" --no-psqlrc --quiet -v ON_ERROR_STOP=1 -c "SET client_connection_check_interval = '1s'" -c "SELECT pg_advisory_lock({LOCK_KEY})" -c '\echo held' -c "SELECT pg_sleep(600)""#
    );
    Ok(pod_beside(spec, waiter, HOLDER, json!(["sh", "-c", script]), env, ["32Mi", "64Mi"]))
}

/// Until each of the replicas' Heimdall containers says it waits for the lock; fails as soon as one
/// begins a migration while the lock is held.
fn every_replica_waits(env: &Env, ns: &str) -> Result<()> {
    poll(env.target.ready_timeout, Duration::from_secs(2), "every replica waiting for the held lock", |up| {
        let pods = env.cluster.request(
            "GET",
            &format!("/api/v1/namespaces/{ns}/pods?labelSelector=app.kubernetes.io/component%3Dserver"),
            None,
        )?;
        let mut waiting = 0;
        for pod in pods["items"].as_array().into_iter().flatten() {
            let name = pod["metadata"]["name"].as_str().unwrap_or("?");
            let log = heimdall_log(env, ns, pod)?.unwrap_or_default();
            if log.contains(MIGRATING) {
                bail!("pod {name} began the migrations while another session held the lock ({MIGRATING:?} in its log): the start command must wait for the lock");
            }
            waiting += usize::from(log.contains(WAITING));
        }
        if waiting >= REPLICAS {
            return Ok(Some(()));
        }
        if up {
            bail!("{waiting} of {REPLICAS} replicas said {WAITING:?} while the lock was held");
        }
        Ok(None)
    })
}

/// Every container of the namespace's pods, init containers included, never restarted; notes how many
/// Heimdall pods waited for another's migrations (the lock at work).
pub(super) fn replicas_started_clean(env: &Env, ns: &str, install: &str) -> Result<()> {
    let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
    let items = pods["items"].as_array().cloned().unwrap_or_default();
    let restarts = restarts_by_container(&items);
    let waited = items.iter().filter(|p| logged(env, ns, p, "waiting for it").unwrap_or(false)).count();
    let migrated = items.iter().filter(|p| logged(env, ns, p, MIGRATING).unwrap_or(false)).count();
    env.note(format!(
        "{install}: {} pods Ready; restarts {restarts:?}; {waited} Heimdall pod(s) waited for the migration lock; {migrated} ran the first migration",
        items.len()
    ));
    ensure!(
        migrated == 1,
        "on an empty database with {install}, {migrated} Heimdall pods began the first migration ({MIGRATING:?} in their logs): one must, behind the lock, and the others find none left"
    );
    let restarted: Vec<String> = restarts.iter().filter(|(_, n)| **n > 0).map(|(c, n)| format!("{c} ({n})")).collect();
    ensure!(
        restarted.is_empty(),
        "a fresh install with {install} restarted {}: replicas must wait for each other's migrations, not crash",
        restarted.join(", ")
    );
    Ok(())
}

/// `pod/container` → restartCount, for every container that has a status.
fn restarts_by_container(pods: &[Json]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for pod in pods {
        let name = pod["metadata"]["name"].as_str().unwrap_or("?");
        for kind in ["initContainerStatuses", "containerStatuses"] {
            for c in pod["status"][kind].as_array().into_iter().flatten() {
                out.insert(format!("{name}/{}", c["name"].as_str().unwrap_or("?")), c["restartCount"].as_u64().unwrap_or(0));
            }
        }
    }
    out
}

/// Whether the pod's `heimdall` container logged `text` (false for pods without one).
fn logged(env: &Env, ns: &str, pod: &Json, text: &str) -> Result<bool> {
    Ok(heimdall_log(env, ns, pod)?.is_some_and(|log| log.contains(text)))
}

/// The log of the pod's `heimdall` container so far; none for a pod without one, or not yet readable.
pub(super) fn heimdall_log(env: &Env, ns: &str, pod: &Json) -> Result<Option<String>> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("?");
    let has = pod["spec"]["containers"].as_array().into_iter().flatten().any(|c| c["name"] == "heimdall");
    if !has {
        return Ok(None);
    }
    let (status, log) = env.cluster.request_text("GET", &format!("/api/v1/namespaces/{ns}/pods/{name}/log?container=heimdall"), None)?;
    Ok((status == 200).then_some(log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_are_counted_per_container_init_containers_included() {
        let pods = [json!({"metadata": {"name": "heimdall-a"}, "status": {
            "initContainerStatuses": [{"name": "wait-for-database", "restartCount": 0}],
            "containerStatuses": [{"name": "heimdall", "restartCount": 2}]}})];
        let counted = restarts_by_container(&pods);
        assert_eq!(counted["heimdall-a/heimdall"], 2);
        assert_eq!(counted["heimdall-a/wait-for-database"], 0);
    }

    #[test]
    fn the_lock_key_and_lines_are_the_start_commands() {
        let script = std::fs::read_to_string(crate::support::tools::repo_root().join("heimdall/files/start-heimdall.sh")).unwrap();
        assert!(script.contains(&format!("const LOCK = '{LOCK_KEY}'")), "the start command's lock key changed");
        assert!(script.contains("another replica is migrating the database; waiting for it"));
    }

    #[test]
    fn the_holder_takes_the_database_settings_of_wait_for_database_and_the_password_heimdall_reads() {
        let deployment = json!({"spec": {"template": {"spec": {"securityContext": {"runAsNonRoot": true},
            "initContainers": [{"name": "wait-for-database", "image": "docker.io/library/postgres:17.6",
                "env": [{"name": "DATABASE_HOST", "value": "heimdall-postgresql"}], "securityContext": {"runAsUser": 1001}}],
            "containers": [{"name": "heimdall", "env": [{"name": "DATABASE_PASSWORD",
                "valueFrom": {"secretKeyRef": {"name": "heimdall-secrets", "key": "DATABASE_PASSWORD"}}}]}]}}}});
        let pod = holder_pod(&deployment, "heimdall-config").unwrap();
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["image"], "docker.io/library/postgres:17.6");
        assert_eq!(c["securityContext"]["runAsUser"], 1001);
        let env = c["env"].as_array().unwrap();
        assert_eq!(env[0]["value"], "heimdall-postgresql");
        assert_eq!(env[1]["valueFrom"]["secretKeyRef"], json!({"name": "heimdall-secrets", "key": "DATABASE_PASSWORD"}));
        assert_eq!(env[2]["valueFrom"]["configMapKeyRef"]["key"], "DATABASE_NAME");
        let script = c["command"][2].as_str().unwrap();
        assert!(script.contains(&format!("pg_advisory_lock({LOCK_KEY})")) && script.contains("client_connection_check_interval"));
        assert!(holder_pod(&json!({}), "c").is_err(), "no wait-for-database container");
        let mut without_password = deployment.clone();
        without_password["spec"]["template"]["spec"]["containers"][0]["env"] = json!([]);
        assert!(holder_pod(&without_password, "c").is_err(), "no DATABASE_PASSWORD in the Heimdall container");
    }
}
