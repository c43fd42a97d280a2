//! Every container log of a namespace while a scenario runs, read as it is written (a pod watch, then a followed log per container, so hook and test pods that Helm deletes seconds later are read too), and the check that no secret value appears in any of them.

use super::Env;
use crate::support::cluster::{Cluster, Stream};
use anyhow::{bail, Context, Result};
use base64::Engine;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::sync::Mutex;
use std::thread::Scope;

/// What was read: each container's text, keyed "pod/container (pod uid U, restart N)", and the
/// containers whose log could not be read, with why.
#[derive(Default, Debug)]
pub struct Logs {
    pub texts: BTreeMap<String, String>,
    pub unread: BTreeMap<String, String>,
}

/// The watcher's state, shared with its threads: what was read, what is being followed.
#[derive(Default)]
struct Collected {
    logs: Logs,
    started: BTreeSet<String>,
    followers: Vec<Stream>,
}

/// A container whose log is read: where, and the key it is kept under.
struct Container {
    pod: String,
    name: String,
    key: String,
}

/// Runs `body` while every container log of `ns` is read; its result and the logs. The logs are read
/// to the end of each container that stopped, and to now for those still running.
pub fn watched<T>(env: &Env, ns: &str, body: impl FnOnce() -> Result<T>) -> Result<(T, Logs)> {
    let collected = Mutex::new(Collected::default());
    let mut watch = env.cluster.stream(&format!("/api/v1/namespaces/{ns}/pods?watch=true&timeoutSeconds=3600"))?;
    let events = watch.child.stdout.take().context("the pod watch has no output")?;
    let result = std::thread::scope(|s| {
        let watcher = s.spawn(|| follow_pods(s, env.cluster, ns, events, &collected));
        let result = body();
        drop(watch);
        let _ = watcher.join();
        let followers = std::mem::take(&mut collected.lock().unwrap().followers);
        drop(followers);
        result
    });
    let mut collected = collected.into_inner().unwrap();
    read_to_now(env.cluster, ns, &mut collected.logs);
    Ok((result?, collected.logs))
}

/// Reads the pod watch; for each container seen running or stopped for the first time, follows its log.
fn follow_pods<'s>(s: &'s Scope<'s, '_>, cluster: &'s Cluster, ns: &'s str, events: impl Read, collected: &'s Mutex<Collected>) {
    for line in BufReader::new(events).lines() {
        let Ok(line) = line else { return };
        let Ok(event) = serde_json::from_str::<Json>(&line) else { continue };
        for container in started_containers(&event["object"]) {
            if !collected.lock().unwrap().started.insert(container.key.clone()) {
                continue;
            }
            let path = format!("/api/v1/namespaces/{ns}/pods/{}/log?container={}&follow=true", container.pod, container.name);
            match cluster.stream(&path) {
                Ok(mut stream) => {
                    let out = stream.child.stdout.take();
                    collected.lock().unwrap().followers.push(stream);
                    s.spawn(move || keep_log(container, out, collected));
                }
                Err(e) => {
                    collected.lock().unwrap().logs.unread.insert(container.key, format!("{e:#}"));
                }
            }
        }
    }
}

/// The containers of a pod that have started (running, or stopped with a start time).
fn started_containers(pod: &Json) -> Vec<Container> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("?");
    let uid: String = pod["metadata"]["uid"].as_str().unwrap_or("?").chars().take(8).collect();
    let statuses = ["initContainerStatuses", "containerStatuses"].map(|k| pod["status"][k].as_array().cloned().unwrap_or_default());
    statuses
        .iter()
        .flatten()
        .filter(|c| c["state"]["running"].is_object() || c["state"]["terminated"]["startedAt"].is_string())
        .map(|c| {
            let container = c["name"].as_str().unwrap_or("?").to_string();
            let key = format!("{name}/{container} (pod uid {uid}, restart {})", c["restartCount"].as_u64().unwrap_or(0));
            Container { pod: name.to_string(), name: container, key }
        })
        .collect()
}

/// Keeps what a followed log says until it ends (the container stopped, or the watcher ended it).
fn keep_log(container: Container, out: Option<impl Read>, collected: &Mutex<Collected>) {
    let mut text = String::new();
    if let Some(mut out) = out {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let mut collected = collected.lock().unwrap();
    match api_error(&text) {
        Some(why) => collected.logs.unread.insert(container.key, why),
        None => collected.logs.texts.insert(container.key, text),
    };
}

/// The message of an API error answer (a Status object) in place of a log.
fn api_error(text: &str) -> Option<String> {
    let status: Json = serde_json::from_str(text.trim()).ok()?;
    (status["kind"] == "Status").then(|| status["message"].as_str().unwrap_or("an error status").to_string())
}

/// Every started container's log of the pods in `ns` as it is now, read once (no watch): for a check
/// part way through a scenario, on pods that are still there.
pub fn read_now(cluster: &Cluster, ns: &str) -> Result<Logs> {
    let pods = cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
    let mut logs = Logs::default();
    for container in pods["items"].as_array().into_iter().flatten().flat_map(started_containers) {
        let path = format!("/api/v1/namespaces/{ns}/pods/{}/log?container={}", container.pod, container.name);
        match cluster.request_text("GET", &path, None) {
            Ok((200, text)) => logs.texts.insert(container.key, text),
            Ok((status, text)) => logs.unread.insert(container.key, format!("{status}: {}", api_error(&text).unwrap_or(text))),
            Err(e) => logs.unread.insert(container.key, format!("{e:#}")),
        };
    }
    Ok(logs)
}

/// Followers of running containers were ended by the watcher: reads each log once more, whole, and
/// keeps the longer text (a pod deleted since then answers 404 and keeps what was followed).
fn read_to_now(cluster: &Cluster, ns: &str, logs: &mut Logs) {
    for (key, text) in logs.texts.iter_mut() {
        let Some((pod, container)) = key.split(' ').next().and_then(|p| p.split_once('/')) else { continue };
        let path = format!("/api/v1/namespaces/{ns}/pods/{pod}/log?container={container}");
        if let Ok((200, now)) = cluster.request_text("GET", &path, None) {
            if now.len() > text.len() && now.starts_with(text.as_str()) {
                *text = now;
            }
        }
    }
}

/// Fails naming each secret (by key, never by value) found in a log, verbatim or base64-encoded, with
/// the container and line; and each container whose log could not be read.
pub fn no_secret_in(logs: &Logs, secrets: &BTreeMap<String, String>) -> Result<()> {
    let mut found: Vec<String> = logs.unread.iter().map(|(c, why)| format!("the log of {c} could not be read: {why}")).collect();
    for (key, value) in secrets {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        for (container, text) in &logs.texts {
            for (n, line) in text.lines().enumerate() {
                if line.contains(value.as_str()) || line.contains(&encoded) {
                    found.push(format!("{key} is in the log of {container}, line {}", n + 1));
                }
            }
        }
    }
    if !found.is_empty() {
        bail!("secret values reached container logs:\n  {}", found.join("\n  "));
    }
    Ok(())
}

/// Fails unless some container named `container` logged a line containing `text`: proof that the
/// logs checked are the ones that matter, not empty.
pub fn logged(logs: &Logs, container: &str, text: &str) -> Result<()> {
    let by = |key: &String| key.split(' ').next().and_then(|p| p.split_once('/')).is_some_and(|(_, c)| c == container);
    let read: Vec<&String> = logs.texts.keys().filter(|k| by(k)).collect();
    if !logs.texts.iter().any(|(k, t)| by(k) && t.contains(text)) {
        bail!("no log of a container named {container} says {text:?} (read: {read:?}; all: {:?})", logs.texts.keys().collect::<Vec<_>>());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(text: &str) -> Logs {
        let mut logs = Logs::default();
        logs.texts.insert("heimdall-abc/heimdall (pod uid 1234, restart 0)".into(), text.into());
        logs
    }

    fn secrets() -> BTreeMap<String, String> {
        BTreeMap::from([("ADMIN_PASSWORD".to_string(), "s3cret-admin-pw".to_string())])
    }

    #[test]
    fn a_secret_in_a_log_is_named_by_key_container_and_line_never_by_value() {
        let err = no_secret_in(&logs("starting\nNew administrator password is: s3cret-admin-pw\n"), &secrets()).unwrap_err().to_string();
        assert!(err.contains("ADMIN_PASSWORD is in the log of heimdall-abc/heimdall (pod uid 1234, restart 0), line 2"), "{err}");
        assert!(!err.contains("s3cret-admin-pw"), "the message repeats the secret: {err}");
    }

    #[test]
    fn a_base64_encoded_secret_is_found_too() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("s3cret-admin-pw");
        assert!(no_secret_in(&logs(&format!("data: {encoded}")), &secrets()).is_err());
    }

    #[test]
    fn clean_logs_pass_and_unread_ones_fail() {
        no_secret_in(&logs("New administrator password is: (redacted)"), &secrets()).unwrap();
        let mut unread = logs("");
        unread.unread.insert("gen/secrets-generator (pod uid 9, restart 0)".into(), "pods \"gen\" not found".into());
        let err = no_secret_in(&unread, &secrets()).unwrap_err().to_string();
        assert!(err.contains("could not be read"), "{err}");
    }

    #[test]
    fn logged_needs_the_text_in_a_container_of_that_name() {
        let l = logs("New administrator email is: a@b");
        logged(&l, "heimdall", "administrator email").unwrap();
        assert!(logged(&l, "postgresql", "administrator email").is_err());
        assert!(logged(&l, "heimdall", "ready to accept").is_err());
    }

    #[test]
    fn started_containers_are_running_or_stopped_after_a_start() {
        let pod = serde_json::json!({"metadata": {"name": "p", "uid": "0123456789"}, "status": {
            "initContainerStatuses": [{"name": "init", "restartCount": 0, "state": {"terminated": {"startedAt": "t", "exitCode": 0}}}],
            "containerStatuses": [{"name": "app", "restartCount": 2, "state": {"running": {}}},
                {"name": "side", "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}});
        let keys: Vec<String> = started_containers(&pod).into_iter().map(|c| c.key).collect();
        assert_eq!(keys, ["p/init (pod uid 01234567, restart 0)", "p/app (pod uid 01234567, restart 2)"]);
    }
}
