//! The pod rules (HC018 images and pull Secrets, HC019 OpenShift's IDs, HC021 TLS file paths) firing.

use super::*;

#[test]
fn hc018_fires_on_an_image_outside_the_mirror_and_on_a_missing_pull_secret() {
    let mirrored = good_yaml().replace("image: docker.io/", "image: mirror.example/hub/");
    let mut intent = inline_intent();
    intent.image_registry = Some("mirror.example/hub".into());
    assert!(findings_with(&mirrored, &intent, &[], None).is_empty());
    fires("HC018", &mirrored.replacen("image: mirror.example/hub/postgres", "image: docker.io/postgres", 1), &intent, &[], None);
    // A registry that merely starts like the mirror's is another registry.
    fires("HC018", &mirrored.replacen("image: mirror.example/hub/postgres", "image: mirror.example/hubx/postgres", 1), &intent, &[], None);
    intent.pull_secrets = vec!["regcred".into()];
    intent.external.insert("Secret/regcred".into());
    let with_secret = mirrored
        .replace("      enableServiceLinks: false\n", "      enableServiceLinks: false\n      imagePullSecrets: [{name: regcred}]\n");
    assert!(findings_with(&with_secret, &intent, &[], None).is_empty(), "{:#?}", findings_with(&with_secret, &intent, &[], None));
    fires("HC018", &with_secret.replacen("      imagePullSecrets: [{name: regcred}]\n", "", 1), &intent, &[], None);
}

#[test]
fn hc019_fires_on_a_fixed_user_or_group_where_openshift_assigns_them() {
    let mut intent = inline_intent();
    intent.openshift_adapts = true;
    // The good rendering fixes the database pod's runAsUser and the containers' too.
    fires("HC019", &good_yaml(), &intent, &[], None);
    let adapted = good_yaml().replace("runAsUser: 999, fsGroup: 999, ", "").replace("runAsUser: 1001, ", "");
    assert!(findings_with(&adapted, &intent, &[], None).is_empty(), "{:#?}", findings_with(&adapted, &intent, &[], None));
    fires(
        "HC019",
        &adapted.replacen("runAsNonRoot: true, seccompProfile", "runAsNonRoot: true, fsGroup: 1001, seccompProfile", 1),
        &intent,
        &[],
        None,
    );
    // Off OpenShift the fixed IDs are what the chart wants.
    intent.openshift_adapts = false;
    assert!(findings_with(&good_yaml(), &intent, &[], None).is_empty());
}

#[test]
fn hc021_fires_on_a_tls_path_outside_every_mount_and_on_an_item_never_projected() {
    let with_ca = |mount: &str, items: &str| {
        good_yaml_with(&[("DATABASE_SSL_CA", "/etc/heimdall/database-ca/ca.crt")])
            .replace(
                "volumeMounts: [{name: tmp, mountPath: /tmp}]",
                &format!("volumeMounts: [{{name: tmp, mountPath: /tmp}}, {{name: database-ca, mountPath: {mount}, readOnly: true}}]"),
            )
            .replace(
                "volumes: [{name: tmp, emptyDir: {sizeLimit: 1Gi}}]",
                &format!("volumes: [{{name: tmp, emptyDir: {{sizeLimit: 1Gi}}}}, {{name: database-ca, configMap: {{name: bundle, items: [{items}]}}}}]"),
            )
    };
    let mut intent = inline_intent();
    intent.external.insert("ConfigMap/bundle".into());
    let good = with_ca("/etc/heimdall/database-ca", "{key: ca.crt, path: ca.crt}");
    assert!(findings_with(&good, &intent, &[], None).is_empty(), "{:#?}", findings_with(&good, &intent, &[], None));
    fires("HC021", &with_ca("/etc/heimdall/db-ca", "{key: ca.crt, path: ca.crt}"), &intent, &[], None);
    fires("HC021", &with_ca("/etc/heimdall/database-ca", "{key: bundle.pem, path: bundle.pem}"), &intent, &[], None);
}

#[test]
fn hc021_fires_when_no_init_container_writes_the_bundle_an_empty_dir_should_hold() {
    let bundle = |written: &str| {
        good_yaml_with(&[("NODE_EXTRA_CA_CERTS", "/etc/heimdall/ca-bundle/extra-ca.pem")])
            .replace(
                "volumeMounts: [{name: tmp, mountPath: /tmp}]",
                "volumeMounts: [{name: tmp, mountPath: /tmp}, {name: ca-bundle, mountPath: /etc/heimdall/ca-bundle, readOnly: true}]",
            )
            .replace(
                "volumes: [{name: tmp, emptyDir: {sizeLimit: 1Gi}}]",
                "volumes: [{name: tmp, emptyDir: {sizeLimit: 1Gi}}, {name: ca-bundle, emptyDir: {sizeLimit: 1Mi}}]",
            )
            .replace(
                "      containers:\n        - name: heimdall\n",
                &format!("      initContainers:\n        - {{name: bundle, image: docker.io/mitre/heimdall2:2.13.1, command: [sh, -c, 'cat /x/* > {written}'], securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {{drop: [ALL]}}, seccompProfile: {{type: RuntimeDefault}}}}, volumeMounts: [{{name: ca-bundle, mountPath: /bundle}}]}}\n      containers:\n        - name: heimdall\n"),
            )
    };
    let good = bundle("/bundle/extra-ca.pem");
    assert!(findings_with(&good, &inline_intent(), &[], None).is_empty(), "{:#?}", findings_with(&good, &inline_intent(), &[], None));
    fires("HC021", &bundle("/bundle/ca.pem"), &inline_intent(), &[], None);
}
