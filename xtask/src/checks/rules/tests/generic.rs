//! The generic rules (HC008 to HC011, HC017) firing on broken renderings.

use super::*;

#[test]
fn hc008_fires_on_a_dangling_config_map_reference() {
    let yaml = good_yaml().replace("configMapRef: {name: r-heimdall-config}", "configMapRef: {name: r-heimdall-settings}");
    fires("HC008", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc008_accepts_declared_external_objects() {
    let yaml = good_yaml().replace("configMapRef: {name: r-heimdall-config}", "configMapRef: {name: shared-config}");
    let mut intent = inline_intent();
    intent.external.insert("ConfigMap/shared-config".into());
    assert!(findings_with(&yaml, &intent, &[], None).is_empty());
}

#[test]
fn hc009_fires_on_a_missing_label_and_a_selector_matching_nothing() {
    let yaml = good_yaml().replacen("app.kubernetes.io/part-of: heimdall, ", "", 1);
    fires("HC009", &yaml, &inline_intent(), &[], None);
    let yaml = good_yaml().replace(
        "selector: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}",
        "selector: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: web}}",
    );
    fires("HC009", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc010_fires_on_privilege_escalation_and_a_host_path() {
    let yaml = good_yaml().replacen("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", 1);
    fires("HC010", &yaml, &inline_intent(), &[], None);
    let from = "volumes: [{name: tmp, emptyDir: {sizeLimit: 1Gi}}]";
    assert!(good_yaml().contains(from));
    let yaml = good_yaml().replace(from, "volumes: [{name: tmp, hostPath: {path: /tmp}}]");
    fires("HC010", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc011_fires_on_a_varying_value() {
    let stray = Difference { doc: "ConfigMap/r-heimdall-config".into(), path: "data.PORT".into(), shape: None };
    fires("HC011", &good_yaml(), &inline_intent(), &[stray], None);
    let random_in_config = Difference { doc: "ConfigMap/r-heimdall-config".into(), path: "data.X".into(), shape: Some("<random-hex-128>") };
    fires("HC011", &good_yaml(), &inline_intent(), &[random_in_config], None);
}

#[test]
fn hc011_fires_on_a_random_secret_value_in_the_rendering() {
    // Render-time generation is what GitOps tools rotate on every sync: no exception for it.
    let generated =
        Difference { doc: "Secret/r-heimdall-secrets".into(), path: "stringData.JWT_SECRET".into(), shape: Some("<random-hex-128>") };
    fires("HC011", &good_yaml(), &inline_intent(), &[generated], None);
}

#[test]
fn hc008_ignores_an_optional_reference_that_dangles() {
    let yaml = good_yaml().replace("{secretRef: {name: r-heimdall-secrets}}", "{secretRef: {name: sso-secrets, optional: true}}");
    let found = findings_with(&yaml, &inline_intent(), &[], None);
    assert!(!found.iter().any(|f| f.starts_with("HC008")), "{found:#?}");
    let required = good_yaml().replace("{secretRef: {name: r-heimdall-secrets}}", "{secretRef: {name: sso-secrets}}");
    assert!(findings_with(&required, &inline_intent(), &[], None)
        .iter()
        .any(|f| f.starts_with("HC008") && f.contains("Secret/sso-secrets")));
}

#[test]
fn hc017_fires_on_a_dangling_mount_an_unmounted_volume_an_unsized_empty_dir_and_service_links() {
    let yaml = good_yaml();
    for (from, to) in [
        ("volumeMounts: [{name: tmp, mountPath: /tmp}]", "volumeMounts: [{name: tmpp, mountPath: /tmp}]"),
        ("volumeMounts: [{name: tmp, mountPath: /tmp}]", "volumeMounts: []"),
        ("emptyDir: {sizeLimit: 1Gi}", "emptyDir: {}"),
        (
            "      enableServiceLinks: false\n      securityContext: {runAsNonRoot: true, runAsUser: 999",
            "      securityContext: {runAsNonRoot: true, runAsUser: 999",
        ),
    ] {
        assert!(yaml.contains(from), "{from}");
        fires("HC017", &yaml.replacen(from, to, 1), &inline_intent(), &[], None);
    }
    let found = findings_with(&yaml.replacen("emptyDir: {sizeLimit: 1Gi}", "emptyDir: {}", 1), &inline_intent(), &[], None);
    assert!(found.iter().any(|f| f.contains("emptyDir volume \"tmp\" has no sizeLimit")), "{found:#?}");
}
