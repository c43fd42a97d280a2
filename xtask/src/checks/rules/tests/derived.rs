//! HC024, settings derived from one another, firing when they disagree.

use super::*;

#[test]
fn hc024_fires_on_a_wait_elsewhere_tls_settings_not_asked_a_stale_config_checksum_and_replicas_beside_an_hpa() {
    let intent = Intent { embedded_database: true, ..inline_intent() };
    let with_sum = good_yaml();
    assert!(findings_with(&with_sum, &intent, &[], None).is_empty(), "{:#?}", findings_with(&with_sum, &intent, &[], None));
    let stale = good_yaml_with(&[("LDAP_ENABLED", "false")]).replace("\"LDAP_ENABLED\":\"false\",", "");
    fires("HC024", &stale, &intent, &[], None);
    let ssl_on = with_sum.replace("{name: DATABASE_SSL, value: \"false\"}", "{name: DATABASE_SSL, value: \"true\"}");
    fires("HC024", &ssl_on, &intent, &[], None);
    let external = Intent { embedded_database: false, database_tls: intent::DatabaseTls { ssl: true, insecure: false }, ..inline_intent() };
    assert!(findings_with(&ssl_on, &external, &[], None).iter().all(|f| !f.starts_with("HC024")));
    let insecure = Intent { database_tls: intent::DatabaseTls { ssl: true, insecure: true }, ..external };
    assert!(findings_with(&ssl_on, &insecure, &[], None).iter().any(|f| f.starts_with("HC024") && f.contains("DATABASE_SSL_INSECURE")));
    let wait = |host: &str| {
        with_sum.replace(
            "      containers:\n        - name: heimdall\n",
            &format!("      initContainers:\n        - {{name: wait-for-database, image: docker.io/postgres:17.6, securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {{drop: [ALL]}}, seccompProfile: {{type: RuntimeDefault}}}}, env: [{{name: DATABASE_HOST, value: {host}}}, {{name: DATABASE_PORT, value: \"5432\"}}]}}\n      containers:\n        - name: heimdall\n"),
        )
    };
    assert!(findings_with(&wait("r-heimdall-postgresql"), &intent, &[], None).is_empty());
    // An external database's host names no Service, so HC014 has no flow to check: HC024 alone sees it.
    let plain_external = Intent { embedded_database: false, database_tls: intent::DatabaseTls::default(), ..inline_intent() };
    fires("HC024", &wait("db.example.com"), &plain_external, &[], None);
    let hpa = format!(
        "{with_sum}---\n# Source: heimdall/templates/hpa.yaml\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: r-heimdall}}, minReplicas: 2, maxReplicas: 4}}\n"
    );
    assert!(findings_with(&hpa, &intent, &[], None).is_empty(), "{:#?}", findings_with(&hpa, &intent, &[], None));
    fires("HC024", &hpa.replacen("spec:\n  selector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}", "spec:\n  replicas: 1\n  selector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}", 1), &intent, &[], None);
    assert_eq!(
        super::super::derived::go_json_object(&BTreeMap::from([("A".to_string(), "<a&b>\u{1}\"".to_string())])),
        r#"{"A":"\u003ca\u0026b\u003e\u0001\""}"#
    );
}

#[test]
fn hc024_fires_on_a_derived_external_url_whose_scheme_or_host_the_ingress_does_not_serve() {
    let ingress = |url: &str, tls: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/ingress.yaml\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{{tls}rules: [{{host: h.example, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: r-heimdall, port: {{number: 3000}}}}}}}}]}}}}]}}\n",
            good_yaml_with(&[("EXTERNAL_URL", url)])
        )
    };
    let mut intent = Intent { embedded_database: true, ..inline_intent() };
    intent.external.insert("Secret/t".into());
    let secured = findings_with(&ingress("https://h.example", "tls: [{hosts: [h.example], secretName: t}], "), &intent, &[], None);
    assert!(secured.is_empty(), "{secured:#?}");
    let plain = findings_with(&ingress("http://h.example", ""), &intent, &[], None);
    assert!(plain.is_empty(), "{plain:#?}");
    fires("HC024", &ingress("https://h.example", ""), &intent, &[], None);
    fires("HC024", &ingress("http://h.example", "tls: [{hosts: [h.example], secretName: t}], "), &intent, &[], None);
    fires("HC024", &ingress("http://other.example", ""), &intent, &[], None);
    let given = Intent { external_url_given: true, ..intent };
    assert!(findings_with(&ingress("https://h.example", ""), &given, &[], None).is_empty(), "a URL the user gives is theirs");
}
