use super::*;

fn map() -> Map {
    Map::built_in().unwrap()
}

#[test]
fn database_values_follow_postgresql_enabled() {
    let old: Value =
        serde_yaml::from_str("postgresql: {enabled: false}\ndatabaseHost: db.example\ndatabaseName: heimdall\ndatabasePort: '5432'")
            .unwrap();
    let m = translate(&map(), &old).unwrap();
    assert_eq!(m.values["externalDatabase"]["database"], "heimdall");
    assert_eq!(m.values["externalDatabase"]["port"], 5432, "a port given as a string becomes a number");
    assert_eq!(m.values["postgresql"]["enabled"], false);
    let m = translate(&map(), &serde_yaml::from_str("databaseName: heimdall").unwrap()).unwrap();
    assert_eq!(m.values["postgresql"]["auth"]["database"], "heimdall");
    let m = translate(&map(), &serde_yaml::from_str("jwtExpireTime: 25m").unwrap()).unwrap();
    assert_eq!(m.values["postgresql"]["auth"]["database"], "heimdall-database", "the old default was in effect and the data needs it");
}

#[test]
fn keys_it_cannot_place_are_all_named_and_nothing_is_translated() {
    let old: Value = serde_yaml::from_str("sops: {enabled: true}\njwtSecrett: x\ncerts: {enabled: true}").unwrap();
    let msg = format!("{:#}", translate(&map(), &old).unwrap_err());
    for named in ["sops: ", "jwtSecrett: not a value", "certs: "] {
        assert!(msg.contains(named), "{named:?} missing from:\n{msg}");
    }
}

#[test]
fn secrets_and_settings_land_apart_and_dropped_keys_leave_a_note() {
    let old: Value = serde_yaml::from_str("jwtSecret: s3cret\nregistrationDisabled: true\nheimdall: {image: {tag: 2.12.0}}").unwrap();
    let m = translate(&map(), &old).unwrap();
    assert_eq!(m.secrets["heimdall"]["secrets"]["JWT_SECRET"], "s3cret");
    assert!(m.values["heimdall"]["secrets"].is_null(), "a secret leaked into the values");
    assert_eq!(m.values["heimdall"]["config"]["REGISTRATION_DISABLED"], "true");
    assert!(m.notes.iter().any(|n| n.starts_with("heimdall.image.tag: left out")), "{:?}", m.notes);
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

#[test]
fn keys_at_the_old_charts_default_are_left_out_in_one_note() {
    let m = translate(&map(), &yaml("nodeEnv: production\nheimdall: {service: {port: 3000, type: NodePort}}")).unwrap();
    assert!(m.values["heimdall"]["config"]["NODE_ENV"].is_null(), "a default was carried as a setting: {:?}", m.values);
    assert_eq!(m.values["service"]["type"], "NodePort", "a changed sibling of a default was lost");
    assert!(m.values["service"]["port"].is_null());
    let note = m.notes.iter().find(|n| n.starts_with("left out, as the old chart's own defaults")).expect("no note on the defaults");
    assert!(note.ends_with(": nodeEnv, heimdall.service.port"), "{note}");
}

#[test]
fn a_feature_the_old_values_disabled_is_left_out_whatever_it_holds() {
    let old = yaml("sops: {enabled: false, secrets: [JWT_SECRET]}\ncerts: {enabled: 'false', name: mine}\nheimdall: {gateway: {enabled: false, gateways: [x]}}");
    let m = translate(&map(), &old).unwrap();
    for feature in ["sops", "certs", "heimdall.gateway"] {
        assert!(m.notes.iter().any(|n| n.starts_with(&format!("{feature}: {feature}.enabled is false"))), "{feature}: {:?}", m.notes);
    }
}

#[test]
fn a_registry_named_in_an_image_repository_is_kept() {
    let old = yaml("heimdall: {image: {repository: registry1.dso.mil/ironbank/mitre/saf/heimdall2}}\npostgresql: {image: {repository: mirror.example:5000/library/postgres}}");
    let m = translate(&map(), &old).unwrap();
    assert_eq!(m.values["image"]["registry"], "registry1.dso.mil");
    assert_eq!(m.values["image"]["repository"], "ironbank/mitre/saf/heimdall2");
    assert_eq!(m.values["postgresql"]["image"]["registry"], "mirror.example:5000");
    let m = translate(&map(), &yaml("heimdall: {image: {repository: myorg/heimdall2}}")).unwrap();
    assert_eq!(m.values["image"]["repository"], "myorg/heimdall2");
    assert!(m.values["image"]["registry"].is_null(), "a Docker Hub repository gained a registry");
    assert_eq!(split_registry("localhost/heimdall"), Some(("localhost", "heimdall")));
    assert_eq!(split_registry("heimdall2"), None);
}

#[test]
fn the_old_readmes_ingress_becomes_this_charts() {
    let old = yaml(
        "heimdall:\n  ingress:\n    enabled: true\n    annotations: {a.example/b: c}\n    hosts:\n      - host: heimdall.example.com\n        paths: ['/']\n    tls: [{name: x, secretName: tls, hosts: [heimdall.example.com]}]\n",
    );
    let m = translate(&map(), &old).unwrap();
    let ingress = &m.values["ingress"];
    assert_eq!(ingress["enabled"], true);
    assert_eq!(ingress["annotations"]["a.example/b"], "c");
    assert_eq!(ingress["hosts"], yaml("[{host: heimdall.example.com, paths: [{path: /, pathType: Prefix}]}]"));
    assert_eq!(ingress["tls"], yaml("[{secretName: tls, hosts: [heimdall.example.com]}]"));
    assert!(m.notes.iter().any(|n| n.contains("paths[0]: no pathType")), "{:?}", m.notes);
    let err = format!("{:#}", translate(&map(), &yaml("heimdall: {ingress: {enabled: true, kind: VirtualService}}")).unwrap_err());
    assert!(err.contains("heimdall.ingress.kind: VirtualService is not"), "{err}");
}

#[test]
fn two_old_keys_meeting_at_one_target_are_joined() {
    let old = yaml("imagePullSecrets: [{name: a}]\nheimdall: {imagePullSecrets: [{name: b}]}\npodAnnotations: {x: '1'}\npostgresql: {podAnnotations: {y: '2'}}");
    let m = translate(&map(), &old).unwrap();
    assert_eq!(m.values["imagePullSecrets"], yaml("[{name: a}, {name: b}]"));
    assert_eq!(m.values["postgresql"]["podAnnotations"], yaml("{x: '1', y: '2'}"));
}

#[test]
fn text_that_yaml_1_1_reads_as_a_boolean_is_written_quoted() {
    let m = translate(
        &map(),
        &yaml("podAnnotations: {a: 'yes', b: 'true', c: 'no way'}\nheimdall: {tolerations: [{key: 'off', operator: Exists}]}"),
    )
    .unwrap();
    let text = quote_yaml11_words(&serde_yaml::to_string(&m.values).unwrap());
    assert!(text.contains("a: 'yes'\n") && text.contains("c: no way\n") && text.contains("key: 'off'\n"), "{text}");
    assert!(!text.contains("b: true"), "{text}");
    assert_eq!(serde_yaml::from_str::<Value>(&text).unwrap(), m.values, "quoting changed a value");
    assert_eq!(quote_yaml11_words("- on\n- one\n"), "- 'on'\n- one\n");
}
