//! HC015 and HC016, the secrets generator's scope and hooks, and the rules that read what it generates.

use super::*;

const GENERATOR_ANNOTATIONS: &str = "{helm.sh/hook: 'pre-install,pre-upgrade', helm.sh/hook-weight: 'WEIGHT', helm.sh/hook-delete-policy: 'before-hook-creation,hook-succeeded', argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: 'WEIGHT', argocd.argoproj.io/hook-delete-policy: 'BeforeHookCreation,HookSucceeded'}";

/// The good rendering with ADMIN_PASSWORD left to the generator hook: its Job, ServiceAccount, Role and RoleBinding.
fn with_generator(role_rules: &str, job_annotations: &str) -> String {
    let rbac = GENERATOR_ANNOTATIONS.replace("WEIGHT", "-10");
    let gen_labels = LABELS.replace("component: server", "component: secrets-generator");
    let sc = "{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}";
    let docs = format!(
        r#"
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: r-gen, labels: {LABELS}, annotations: {rbac}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: r-gen, labels: {LABELS}, annotations: {rbac}}}
rules: {role_rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: r-gen, labels: {LABELS}, annotations: {rbac}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: r-gen}}
subjects: [{{kind: ServiceAccount, name: r-gen}}]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: r-gen, labels: {gen_labels}, annotations: {job_annotations}}}
spec:
  template:
    metadata: {{labels: {gen_labels}}}
    spec:
      serviceAccountName: r-gen
      automountServiceAccountToken: true
      enableServiceLinks: false
      restartPolicy: Never
      containers:
        - name: secrets-generator
          image: docker.io/mitre/heimdall2:2.13.1
          command: [node, -e, "main()"]
          securityContext: {sc}
          env:
            - {{name: GENERATED_SECRET, value: r-generated}}
            - {{name: GENERATE_KEYS, value: ADMIN_PASSWORD}}
"#
    );
    good_yaml().replace("{name: r-heimdall-secrets, key: ADMIN_PASSWORD", "{name: r-generated, key: ADMIN_PASSWORD") + &docs
}

const GENERATOR_RULES: &str = "[{apiGroups: [''], resources: [secrets], resourceNames: [r-generated], verbs: [create, get, patch]}, {apiGroups: [''], resources: [secrets], resourceNames: [r-heimdall-secrets], verbs: [get]}]";

fn generator_intent() -> Intent {
    let mut intent = inline_intent();
    intent.generate_missing = true;
    intent.embedded_database = true;
    intent.supplied.insert("API_KEY_SECRET".into(), ("api-key-secret-fixture-value-0000000".into(), "heimdall.secrets".into()));
    intent.supplied.insert("DATABASE_PASSWORD".into(), ("database-password-fixture".into(), "heimdall.secrets".into()));
    intent
}

#[test]
fn the_generator_rendering_passes_every_rule() {
    let found =
        findings_with(&with_generator(GENERATOR_RULES, &GENERATOR_ANNOTATIONS.replace("WEIGHT", "0")), &generator_intent(), &[], None);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn hc015_fires_on_a_role_beyond_its_secret_and_on_the_wrong_keys() {
    let job = GENERATOR_ANNOTATIONS.replace("WEIGHT", "0");
    let every_secret = "[{apiGroups: [''], resources: [secrets], verbs: [create, get, patch]}]";
    fires("HC015", &with_generator(every_secret, &job), &generator_intent(), &[], None);
    let lists = GENERATOR_RULES.replace("verbs: [get]", "verbs: [get, list]");
    fires("HC015", &with_generator(&lists, &job), &generator_intent(), &[], None);
    let no_seed = "[{apiGroups: [''], resources: [secrets], resourceNames: [r-generated], verbs: [create, get, patch]}]";
    fires("HC015", &with_generator(no_seed, &job), &generator_intent(), &[], None);
    let mut jwt_too = generator_intent();
    jwt_too.supplied.remove("API_KEY_SECRET");
    let found = findings_with(&with_generator(GENERATOR_RULES, &job), &jwt_too, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC015") && f.contains("GENERATE_KEYS")), "{found:#?}");
    // A subject in another namespace names another ServiceAccount: the generator's own gets no Role.
    let elsewhere = with_generator(GENERATOR_RULES, &job)
        .replace("{kind: ServiceAccount, name: r-gen}", "{kind: ServiceAccount, name: r-gen, namespace: default}");
    let found = findings_with(&elsewhere, &generator_intent(), &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC015") && f.contains("no rendered Role is bound")), "{found:#?}");
}

#[test]
fn hc016_fires_on_a_missing_argo_hook_and_a_job_weighed_before_its_role() {
    let no_argo = GENERATOR_ANNOTATIONS.replace("WEIGHT", "0").replace("argocd.argoproj.io/hook: PreSync, ", "");
    fires("HC016", &with_generator(GENERATOR_RULES, &no_argo), &generator_intent(), &[], None);
    let first = GENERATOR_ANNOTATIONS.replace("WEIGHT", "-20");
    fires("HC016", &with_generator(GENERATOR_RULES, &first), &generator_intent(), &[], None);
    let post = GENERATOR_ANNOTATIONS.replace("WEIGHT", "0").replace("pre-install,pre-upgrade", "post-install");
    fires("HC016", &with_generator(GENERATOR_RULES, &post), &generator_intent(), &[], None);
}

#[test]
fn hc003_fires_when_a_generated_key_is_read_from_the_chart_secret() {
    let job = GENERATOR_ANNOTATIONS.replace("WEIGHT", "0");
    let yaml = with_generator(GENERATOR_RULES, &job)
        .replace("{name: r-generated, key: ADMIN_PASSWORD", "{name: r-heimdall-secrets, key: ADMIN_PASSWORD");
    fires("HC003", &yaml, &generator_intent(), &[], None);
}

#[test]
fn hc008_counts_the_generated_secret_only_when_a_generator_writes_it() {
    let yaml = good_yaml().replace("{name: r-heimdall-secrets, key: ADMIN_PASSWORD", "{name: r-generated, key: ADMIN_PASSWORD");
    let found = findings_with(&yaml, &inline_intent(), &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC008") && f.contains("Secret/r-generated")), "{found:#?}");
}
