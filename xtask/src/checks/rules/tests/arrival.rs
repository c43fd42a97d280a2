//! HC026, values arriving at their objects, firing when one is dropped.

use super::*;

#[test]
fn hc026_fires_when_a_tls_secret_an_extra_mount_or_extra_env_from_misses_its_object() {
    let mut intent = inline_intent();
    intent.extra_volume_mounts = vec![serde_yaml::from_str("{name: tmp, mountPath: /tmp}").unwrap()];
    assert!(findings_with(&good_yaml(), &intent, &[], None).is_empty());
    intent.extra_volume_mounts = vec![serde_yaml::from_str("{name: banner, mountPath: /etc/banner}").unwrap()];
    fires("HC026", &good_yaml(), &intent, &[], None);
    let mut intent = inline_intent();
    intent.extra_env_from = vec![serde_yaml::from_str("{configMapRef: {name: r-heimdall-config}}").unwrap()];
    fires("HC026", &good_yaml(), &intent, &[], None);
    intent.extra_env_from = vec![serde_yaml::from_str("{secretRef: {name: r-heimdall-secrets}}").unwrap()];
    assert!(findings_with(&good_yaml(), &intent, &[], None).is_empty(), "the last envFrom entry ends the list");
    let ingress = |tls: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/ingress.yaml\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{{tls}rules: [{{host: h.example, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: r-heimdall, port: {{number: 3000}}}}}}}}]}}}}]}}\n",
            good_yaml()
        )
    };
    let mut intent = inline_intent();
    intent.ingress_tls_secrets = vec!["t".into()];
    intent.external.insert("Secret/t".into());
    assert!(findings_with(&ingress("tls: [{hosts: [h.example], secretName: t}], "), &intent, &[], None)
        .iter()
        .all(|f| !f.starts_with("HC026")));
    let found = findings_with(&ingress("tls: [{hosts: [h.example]}], "), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("\"t\"")), "{found:#?}");
}

#[test]
fn hc026_fires_when_a_service_extra_port_misses_the_service() {
    let mut intent = inline_intent();
    intent.service_extra_ports = vec!["metrics".into()];
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("service.extraPorts metrics is not among its ports")), "{found:#?}");
    let with_port =
        good_yaml().replace("{{port: 3000, targetPort: http}}", "{{port: 3000, targetPort: http}}, {{name: metrics, port: 9100}}");
    let with_port = with_port
        .replace("ports: [{port: 3000, targetPort: http}]", "ports: [{port: 3000, targetPort: http}, {name: metrics, port: 9100}]");
    let found = findings_with(&with_port, &intent, &[], None);
    assert!(!found.iter().any(|f| f.starts_with("HC026")), "{found:#?}");
}

#[test]
fn hc026_fires_when_a_lifecycle_misses_the_container() {
    let mut intent = inline_intent();
    intent.lifecycle = serde_yaml::from_str("{postStart: {exec: {command: [sh, -c, 'true']}}}").unwrap();
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("not the lifecycle the values give")), "{found:#?}");
}

#[test]
fn hc026_fires_when_http_route_timeouts_or_filters_miss_the_rule() {
    let route = |rule_extra: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/httproute.yaml\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{parentRefs: [{{name: gw}}], rules: [{{matches: [{{path: {{type: PathPrefix, value: /}}}}]{rule_extra}, backendRefs: [{{name: r-heimdall, port: 3000}}]}}]}}\n",
            good_yaml()
        )
    };
    let mut intent = inline_intent();
    intent.http_route_timeouts = serde_yaml::from_str("{request: 300s}").unwrap();
    intent.http_route_filters =
        vec![serde_yaml::from_str("{type: RequestMirror, requestMirror: {backendRef: {name: s, port: 1}}}").unwrap()];
    let given = ", timeouts: {request: 300s}, filters: [{type: RequestMirror, requestMirror: {backendRef: {name: s, port: 1}}}]";
    assert!(findings_with(&route(given), &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));
    let found =
        findings_with(&route(", filters: [{type: RequestMirror, requestMirror: {backendRef: {name: s, port: 1}}}]"), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("timeouts are not httpRoute.timeouts")), "{found:#?}");
    let found = findings_with(&route(", timeouts: {request: 300s}"), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("has 0 filters, not httpRoute.filters' 1")), "{found:#?}");
}

#[test]
fn hc026_fires_when_an_object_leaves_the_namespace_or_the_update_settings_or_diagnostic_mode_miss_the_deployment() {
    let mut intent = inline_intent();
    intent.namespace = "saf".into();
    let in_saf = good_yaml().replace("metadata: {name: r-heimdall, labels:", "metadata: {name: r-heimdall, namespace: saf, labels:");
    assert!(findings_with(&in_saf, &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));
    let in_other = good_yaml().replace("metadata: {name: r-heimdall, labels:", "metadata: {name: r-heimdall, namespace: argocd, labels:");
    let found = findings_with(&in_other, &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("in namespace argocd, not saf")), "{found:#?}");

    let mut intent = inline_intent();
    intent.revision_history_limit = Some(2);
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("revisionHistoryLimit is None, not the 2")), "{found:#?}");
    let kept = good_yaml().replacen("  selector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}", "  revisionHistoryLimit: 2\n  selector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}", 1);
    assert!(findings_with(&kept, &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));

    let mut intent = inline_intent();
    intent.rolling_update = serde_yaml::from_str("{maxSurge: 25%, maxUnavailable: 0}").unwrap();
    let found = findings_with(&kept, &intent, &[], None);
    assert!(
        found.iter().any(|f| f.starts_with("HC026") && f.contains("rollingUpdate.maxSurge is None, not the Some(\"25%\")")),
        "{found:#?}"
    );
    let rolling = kept.replacen(
        "  revisionHistoryLimit: 2\n",
        "  revisionHistoryLimit: 2\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}\n",
        1,
    );
    assert!(findings_with(&rolling, &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));

    let mut intent = inline_intent();
    intent.diagnostic_mode = Some((serde_yaml::from_str("[sleep]").unwrap(), serde_yaml::from_str("[infinity]").unwrap()));
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("does not run diagnosticMode's command")), "{found:#?}");
    let idle = good_yaml().replacen(
        "          image: docker.io/mitre/heimdall2:2.13.1\n",
        "          image: docker.io/mitre/heimdall2:2.13.1\n          command: [sleep]\n          args: [infinity]\n",
        1,
    );
    assert!(findings_with(&idle, &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));
    let probed = idle.replacen(
        "          args: [infinity]\n",
        "          args: [infinity]\n          readinessProbe: {httpGet: {path: /, port: http}}\n",
        1,
    );
    let found = findings_with(&probed, &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("keeps its readinessProbe")), "{found:#?}");
}

#[test]
fn hc026_fires_when_a_common_label_or_annotation_misses_an_object_or_an_extra_object_is_dropped() {
    let with_team = good_yaml().replace("app.kubernetes.io/managed-by: Helm}", "app.kubernetes.io/managed-by: Helm, example.com/team: a}");
    let mut intent = inline_intent();
    intent.common_labels.insert("example.com/team".into(), "a".into());
    assert!(findings_with(&with_team, &intent, &[], None).is_empty(), "every object and pod template carries the label");
    fires("HC026", &good_yaml(), &intent, &[], None);
    let found = findings_with(&with_team.replacen("example.com/team: a}", "example.com/team: b}", 1), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("not the commonLabels value")), "{found:#?}");
    intent.metadata_overrides.insert("example.com/team".into());
    assert!(findings_with(&with_team.replacen("example.com/team: a}", "example.com/team: b}", 1), &intent, &[], None).is_empty());

    let mut intent = inline_intent();
    intent.common_annotations.insert("example.com/owner".into(), "secops".into());
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().all(|f| f.starts_with("HC026") && f.contains("commonAnnotations example.com/owner is missing")), "{found:#?}");

    let mut intent = inline_intent();
    intent.extra_objects = 1;
    fires("HC026", &good_yaml(), &intent, &[], None);
}
