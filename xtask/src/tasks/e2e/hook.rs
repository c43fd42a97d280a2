//! The secrets generator hook, run the way a kubelet would: its ServiceAccount, Role and RoleBinding created from the rendering, a token from the TokenRequest API, and the Job's own container command run with `node`.
//!
//! The only simulated part is the kubelet starting the container: the suite
//! sets the environment the Job declares, plus what a kubelet adds (the API
//! server's address and the mounted token and CA), and runs the command.

use super::Env;
use crate::support::manifest::{self, Doc};
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The generator's objects in a rendering (or a release's hooks): its Job and the RBAC it runs under.
pub struct Generator {
    pub job: Doc,
    pub rbac: Vec<Doc>,
}

impl Generator {
    /// The generator hook of a rendering, if it has one: the Job told `GENERATED_SECRET`, and the other pre-install hooks.
    pub fn from_docs(docs: &[Doc]) -> Option<Generator> {
        let job = docs.iter().find(|d| d.kind() == "Job" && env_of(d).iter().any(|(k, _)| k == "GENERATED_SECRET"))?.clone();
        let is_pre_install = |d: &&Doc| s(&d.value["metadata"]["annotations"]["helm.sh/hook"]).split(',').any(|h| h == "pre-install");
        let rbac = docs.iter().filter(|d| d.kind() != "Job" && d.kind() != "Pod").filter(is_pre_install).cloned().collect();
        Some(Generator { job, rbac })
    }

    pub fn account(&self) -> String {
        s(&self.job.value["spec"]["template"]["spec"]["serviceAccountName"]).to_string()
    }

    /// Creates the RBAC objects as Helm would (deleting any old ones first: before-hook-creation).
    pub fn create_rbac(&self, env: &Env, ns: &str) -> Result<()> {
        self.rbac.iter().try_for_each(|doc| recreate(env, ns, doc))
    }

    /// Deletes the RBAC objects, as Helm does once the hooks succeeded (hook-succeeded).
    pub fn delete_rbac(&self, env: &Env, ns: &str) -> Result<()> {
        for doc in &self.rbac {
            env.cluster.request("DELETE", &format!("{}/{}", collection_of(doc, ns), doc.name()), None)?;
        }
        Ok(())
    }

    /// A token for the Job's ServiceAccount from the TokenRequest API, as the kubelet mounts one.
    pub fn token(&self, env: &Env, ns: &str) -> Result<String> {
        let path = format!("/api/v1/namespaces/{ns}/serviceaccounts/{}/token", self.account());
        let answer = env.cluster.create(
            &path,
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}}),
        )?;
        answer["status"]["token"].as_str().map(str::to_string).context("TokenRequest answered no token")
    }

    /// Runs the Job's container command with its env (overridden by `overrides`), authenticated by `token`.
    pub fn run(&self, env: &Env, token: &str, overrides: &[(&str, &str)]) -> Result<Output> {
        self.spawn(env, token, overrides)?.wait_with_output().context("waiting for the generator")
    }

    /// Starts the Job's container command without waiting (for concurrent runs).
    pub fn spawn(&self, env: &Env, token: &str, overrides: &[(&str, &str)]) -> Result<std::process::Child> {
        let command = self.command()?;
        let account_dir = tempfile::Builder::new().prefix("serviceaccount-").tempdir_in(&env.scratch)?.keep();
        std::fs::write(account_dir.join("token"), token)?;
        let ca = env
            .cluster
            .ca_file()
            .context("the generator checks the API server against the kubeconfig's CA, and this context names none")?;
        std::fs::copy(ca, account_dir.join("ca.crt"))?;
        let mut cmd = Command::new(&command[0]);
        cmd.args(&command[1..]).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        for (k, v) in env_of(&self.job) {
            cmd.env(k, v);
        }
        let (host, port) = env.cluster.host_and_port();
        cmd.env("KUBERNETES_SERVICE_HOST", host).env("KUBERNETES_SERVICE_PORT", port).env("SERVICEACCOUNT_DIR", &account_dir);
        for (k, v) in overrides {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().with_context(|| format!("running {} (install Node.js)", command[0]))
    }

    fn command(&self) -> Result<Vec<String>> {
        let c = &self.job.value["spec"]["template"]["spec"]["containers"][0];
        let command: Vec<String> = c["command"]
            .as_sequence()
            .into_iter()
            .flatten()
            .chain(c["args"].as_sequence().into_iter().flatten())
            .map(|v| s(v).to_string())
            .collect();
        ensure!(command.first().map(String::as_str) == Some("node"), "the generator Job's command does not start with node: {command:?}");
        Ok(command)
    }

    /// The whole hook phase as Helm runs it: RBAC, the Job's command, then deleting what succeeded.
    /// `why` says, in the scenario's note, why the suite and not the cluster ran it.
    pub fn run_hook(&self, env: &Env, ns: &str, why: &str) -> Result<String> {
        self.create_rbac(env, ns)?;
        let token = self.token(env, ns)?;
        let out = self.run(env, &token, &[])?;
        let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if !out.status.success() {
            bail!("the generator hook failed ({}):\n{log}", out.status);
        }
        self.delete_rbac(env, ns)?;
        env.note(format!("ran hook Job {} ourselves ({why}): node, as ServiceAccount {}: {}", self.job.name(), self.account(), log.trim()));
        Ok(log)
    }
}

fn s(v: &serde_yaml::Value) -> &str {
    v.as_str().unwrap_or("")
}

fn env_of(job: &Doc) -> Vec<(String, String)> {
    let c = &job.value["spec"]["template"]["spec"]["containers"][0];
    c["env"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((s(&e["name"]).to_string(), e["value"].as_str()?.to_string())))
        .collect()
}

/// Creates a hook object, deleting any old one of its name first, as Helm's before-hook-creation policy does.
pub fn recreate(env: &Env, ns: &str, doc: &Doc) -> Result<()> {
    let collection = collection_of(doc, ns);
    env.cluster.request("DELETE", &format!("{collection}/{}", doc.name()), None)?;
    env.cluster.create(&collection, &serde_json::to_value(&doc.value)?).with_context(|| format!("hook {}", doc.id()))?;
    Ok(())
}

/// The REST collection of a namespaced kind in `ns`, by the plural the API server derives for a kind
/// that registers none of its own (Secret → secrets, NetworkPolicy → networkpolicies, Ingress →
/// ingresses, SealedSecret → sealedsecrets): every kind the chart and its examples render.
pub fn collection(api_version: &str, kind: &str, ns: &str) -> String {
    let lower = kind.to_lowercase();
    let plural = match lower.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None if lower.ends_with('s') => format!("{lower}es"),
        None => format!("{lower}s"),
    };
    let prefix = if api_version.contains('/') { format!("/apis/{api_version}") } else { format!("/api/{api_version}") };
    format!("{prefix}/namespaces/{ns}/{plural}")
}

/// [`collection`] of a document's own kind.
pub fn collection_of(doc: &Doc, ns: &str) -> String {
    collection(doc.api_version(), doc.kind(), ns)
}

/// The documents of a release's hooks as `helm <verb> --dry-run=server -o json` reports them.
pub fn hooks_of_release_json(text: &str) -> Result<Vec<Doc>> {
    let release: Json = serde_json::from_str(text).context("helm -o json printed no JSON")?;
    let mut docs = Vec::new();
    for hook in release["hooks"].as_array().into_iter().flatten() {
        docs.extend(manifest::parse(hook["manifest"].as_str().unwrap_or(""))?.docs);
    }
    Ok(docs)
}

/// The chart's generator script, for checking that the Job runs exactly it.
pub fn script(chart: &Path) -> Result<String> {
    std::fs::read_to_string(chart.join("files/secrets-generator.js")).context("reading the chart's generator script")
}

#[cfg(test)]
mod tests {
    use super::collection;

    #[test]
    fn each_kind_gets_the_plural_the_api_server_derives() {
        assert_eq!(collection("bitnami.com/v1alpha1", "SealedSecret", "h"), "/apis/bitnami.com/v1alpha1/namespaces/h/sealedsecrets");
        assert_eq!(collection("postgresql.cnpg.io/v1", "Cluster", "h"), "/apis/postgresql.cnpg.io/v1/namespaces/h/clusters");
        assert_eq!(
            collection("gateway.nginx.org/v1alpha1", "ClientSettingsPolicy", "h"),
            "/apis/gateway.nginx.org/v1alpha1/namespaces/h/clientsettingspolicies"
        );
        assert_eq!(collection("v1", "Secret", "h"), "/api/v1/namespaces/h/secrets");
        assert_eq!(collection("networking.k8s.io/v1", "Ingress", "h"), "/apis/networking.k8s.io/v1/namespaces/h/ingresses");
        assert_eq!(collection("networking.k8s.io/v1", "NetworkPolicy", "h"), "/apis/networking.k8s.io/v1/namespaces/h/networkpolicies");
        assert_eq!(
            collection("rbac.authorization.k8s.io/v1", "RoleBinding", "h"),
            "/apis/rbac.authorization.k8s.io/v1/namespaces/h/rolebindings"
        );
        assert_eq!(
            collection("autoscaling/v2", "HorizontalPodAutoscaler", "h"),
            "/apis/autoscaling/v2/namespaces/h/horizontalpodautoscalers"
        );
    }
}
