//! HC015 and HC016: the secrets generator hook, its least-privilege RBAC and the hook annotations Helm and Argo CD act on.
//!
//! The generator is found by its wiring (the Job whose container is told
//! `GENERATED_SECRET`), and its RBAC by following the Job's ServiceAccount
//! through the RoleBindings that name it, never by the chart's naming.

use super::{chart_secrets, containers, env_value, generator, s, Rendering};
use crate::support::manifest::Doc;
use serde_yaml::Value;
use std::collections::BTreeSet;

/// The generator and the RBAC objects its pod runs under.
struct Generator<'a> {
    job: &'a Doc,
    secret: String,
    account: Option<&'a Doc>,
    bindings: Vec<&'a Doc>,
    roles: Vec<&'a Doc>,
}

impl<'a> Generator<'a> {
    /// The generator Job, and the bindings whose subject is its ServiceAccount in `namespace` (the
    /// release's): a subject in another namespace names another account, which grants this one nothing.
    fn find(docs: &'a [Doc], namespace: &str) -> Option<Generator<'a>> {
        let (job, container) = generator(docs)?;
        let secret = env_value(container, "GENERATED_SECRET").unwrap_or_default().to_string();
        let sa = s(&job.value["spec"]["template"]["spec"]["serviceAccountName"]);
        let account = docs.iter().find(|d| d.kind() == "ServiceAccount" && d.name() == sa);
        let names_sa = |b: &&Doc| {
            b.value["subjects"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|x| s(&x["kind"]) == "ServiceAccount" && s(&x["name"]) == sa && s(&x["namespace"]) == namespace)
        };
        let bindings: Vec<&Doc> =
            docs.iter().filter(|d| matches!(d.kind(), "RoleBinding" | "ClusterRoleBinding")).filter(names_sa).collect();
        let roles = bindings
            .iter()
            .filter_map(|b| {
                let r = &b.value["roleRef"];
                docs.iter().find(|d| d.kind() == s(&r["kind"]) && d.name() == s(&r["name"]))
            })
            .collect();
        Some(Generator { job, secret, account, bindings, roles })
    }

    fn container(&self) -> &'a Value {
        containers(&self.job.value["spec"]["template"]["spec"])
            .into_iter()
            .find(|c| env_value(c, "GENERATED_SECRET").is_some())
            .expect("found by GENERATED_SECRET")
    }

    fn objects(&self) -> Vec<&'a Doc> {
        self.account.into_iter().chain(self.roles.iter().copied()).chain(self.bindings.iter().copied()).chain([self.job]).collect()
    }
}

/// HC015: the Job generates exactly the unsupplied keys, and its RBAC reaches its own Secret (and reads the chart's) and nothing else.
pub(super) fn scope(r: &Rendering) -> Vec<String> {
    let want = r.intent.generated_keys();
    let Some(g) = Generator::find(r.docs, &r.intent.namespace) else {
        if want.is_empty() {
            return vec![];
        }
        return vec![format!("no source supplies {}, but no secrets generator Job renders", join(&want))];
    };
    let mut out = Vec::new();
    if want.is_empty() {
        out.push(format!("{} renders though every required key is supplied (or generation is off)", g.job.id()));
    }
    let keys: BTreeSet<String> =
        env_value(g.container(), "GENERATE_KEYS").unwrap_or("").split(',').filter(|k| !k.is_empty()).map(String::from).collect();
    if keys != want {
        out.push(format!("{}: GENERATE_KEYS is {:?}, but the keys no source supplies are {:?}", g.job.id(), join(&keys), join(&want)));
    }
    if let Some(d) = chart_secrets(r.docs).into_iter().find(|d| d.name() == g.secret) {
        out.push(format!(
            "{} is rendered: Helm would own the generated Secret, and an upgrade or uninstall could delete its values",
            d.id()
        ));
    }
    out.extend(account_findings(&g));
    let seed = chart_secrets(r.docs).first().map(|d| d.name().to_string());
    out.extend(role_findings(&g, seed.as_deref()));
    out
}

fn account_findings(g: &Generator) -> Vec<String> {
    let pod = &g.job.value["spec"]["template"]["spec"];
    let mut out = Vec::new();
    match g.account {
        None => out.push(format!("{}: its ServiceAccount {:?} is not rendered", g.job.id(), s(&pod["serviceAccountName"]))),
        Some(a) if a.name() == "default" => out.push(format!("{}: runs as the namespace's default ServiceAccount", g.job.id())),
        _ => {}
    }
    if pod["automountServiceAccountToken"].as_bool() != Some(true) {
        out.push(format!("{}: automountServiceAccountToken is not true, so the generator cannot authenticate", g.job.id()));
    }
    for b in &g.bindings {
        if b.kind() == "ClusterRoleBinding" {
            out.push(format!("{}: binds the generator cluster-wide", b.id()));
        }
        let subjects = b.value["subjects"].as_sequence().map_or(0, |v| v.len());
        if subjects != 1 {
            out.push(format!("{}: binds {subjects} subjects; only the generator's ServiceAccount may hold its Role", b.id()));
        }
    }
    if g.roles.is_empty() {
        out.push(format!("{}: no rendered Role is bound to its ServiceAccount", g.job.id()));
    }
    out
}

/// Every (verb, secret name) the bound Roles grant, against exactly what the generator needs.
fn role_findings(g: &Generator, seed: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut granted = BTreeSet::new();
    for role in &g.roles {
        if role.kind() != "Role" {
            out.push(format!("{}: the generator's permissions must be a namespaced Role", role.id()));
        }
        for rule in role.value["rules"].as_sequence().into_iter().flatten() {
            let list = |k: &str| rule[k].as_sequence().into_iter().flatten().map(|v| s(v).to_string()).collect::<Vec<_>>();
            if list("apiGroups") != [""] || list("resources") != ["secrets"] {
                out.push(format!(
                    "{}: grants {:?} on {:?} in groups {:?}; only Secrets belong here",
                    role.id(),
                    list("verbs"),
                    list("resources"),
                    list("apiGroups")
                ));
                continue;
            }
            let names = list("resourceNames");
            if names.is_empty() {
                out.push(format!("{}: grants {:?} on every Secret of the namespace (no resourceNames)", role.id(), list("verbs")));
            }
            for verb in list("verbs") {
                granted.extend(names.iter().map(|n| (verb.clone(), n.clone())));
            }
        }
    }
    let mut needed: BTreeSet<(String, String)> = ["create", "get", "patch"].iter().map(|v| (v.to_string(), g.secret.clone())).collect();
    needed.extend(seed.map(|n| ("get".to_string(), n.to_string())));
    for (verb, name) in granted.difference(&needed) {
        out.push(format!("the generator may {verb} Secret {name}, which it does not need"));
    }
    for (verb, name) in needed.difference(&granted) {
        out.push(format!("the generator may not {verb} Secret {name}, which it needs"));
    }
    out
}

/// HC016: each generator object is a pre-install and pre-upgrade Helm hook and an Argo CD PreSync hook, RBAC before the Job.
pub(super) fn hooks(r: &Rendering) -> Vec<String> {
    let Some(g) = Generator::find(r.docs, &r.intent.namespace) else { return vec![] };
    let mut out = Vec::new();
    for doc in g.objects() {
        out.extend(hook_annotation_findings(doc));
    }
    for (tool, key) in [("Helm", "helm.sh/hook-weight"), ("Argo CD", "argocd.argoproj.io/sync-wave")] {
        let job_weight = weight(g.job, key);
        for doc in g.objects().into_iter().filter(|d| d.kind() != "Job") {
            if weight(doc, key) >= job_weight {
                out.push(format!("{}: {key} is not below the Job's, so {tool} may start the Job before it exists", doc.id()));
            }
        }
    }
    out
}

fn hook_annotation_findings(doc: &Doc) -> Vec<String> {
    let a = &doc.value["metadata"]["annotations"];
    let csv = |k: &str| s(&a[k]).split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect::<BTreeSet<_>>();
    let mut out = Vec::new();
    let helm = csv("helm.sh/hook");
    for phase in ["pre-install", "pre-upgrade"] {
        if !helm.contains(phase) {
            out.push(format!("{}: helm.sh/hook {:?} lacks {phase}", doc.id(), s(&a["helm.sh/hook"])));
        }
    }
    if csv("argocd.argoproj.io/hook") != BTreeSet::from(["PreSync".to_string()]) {
        out.push(format!("{}: argocd.argoproj.io/hook is {:?}, not PreSync", doc.id(), s(&a["argocd.argoproj.io/hook"])));
    }
    if !csv("helm.sh/hook-delete-policy").contains("before-hook-creation") {
        out.push(format!(
            "{}: helm.sh/hook-delete-policy lacks before-hook-creation, so the next upgrade fails on the old object",
            doc.id()
        ));
    }
    if !csv("argocd.argoproj.io/hook-delete-policy").contains("BeforeHookCreation") {
        out.push(format!("{}: argocd.argoproj.io/hook-delete-policy lacks BeforeHookCreation", doc.id()));
    }
    out
}

fn weight(doc: &Doc, key: &str) -> i64 {
    s(&doc.value["metadata"]["annotations"][key]).parse().unwrap_or(0)
}

fn join(keys: &BTreeSet<String>) -> String {
    keys.iter().cloned().collect::<Vec<_>>().join(",")
}
