//! The secrets rules (HC001 to HC007, HC012) firing on broken renderings.

use super::*;

#[test]
fn hc001_fires_when_a_chart_secret_is_rendered_beside_existing_secret() {
    let mut intent = Intent { existing_secret: Some("prod".into()), ..Default::default() };
    for k in REQUIRED_KEYS {
        intent.existing_secret_keys.insert(k.into(), k.into());
    }
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC001") && f.contains("Secret/r-heimdall-secrets is rendered")), "{found:#?}");
    assert!(found.iter().any(|f| f.starts_with("HC001") && f.contains("PostgreSQL container")), "{found:#?}");
}

#[test]
fn hc002_fires_when_the_file_value_beats_the_inline_one() {
    let mut intent = inline_intent();
    intent.supplied.insert("JWT_SECRET".into(), ("the-inline-value-that-should-have-won".into(), "heimdall.secrets".into()));
    fires("HC002", &good_yaml(), &intent, &[], None);
}

#[test]
fn hc002_fires_on_a_key_written_twice() {
    // Parsing rejects the duplicate first; the rule still counts raw lines.
    let m = parse(&good_yaml()).unwrap();
    let mut docs = m.docs.clone();
    docs[0].raw.push_str("\n  JWT_SECRET: \"again\"");
    let found: Vec<String> = check(&Rendering { docs: &docs, notes: None, intent: &inline_intent(), differences: &[] }, Checks::All)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(found.iter().any(|f| f.starts_with("HC002") && f.contains("appears 2 times")), "{found:#?}");
}

#[test]
fn hc003_fires_when_a_required_key_arrives_only_through_env_from() {
    let yaml = good_yaml().replace(
        "{name: ADMIN_PASSWORD, valueFrom: {secretKeyRef: {name: r-heimdall-secrets, key: ADMIN_PASSWORD, optional: false}}}",
        "{name: UNRELATED, value: x}",
    );
    fires("HC003", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc003_fires_on_an_optional_reference() {
    let yaml = good_yaml().replace("key: JWT_SECRET, optional: false", "key: JWT_SECRET, optional: true");
    fires("HC003", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc004_fires_when_postgresql_reads_another_secret() {
    let yaml = good_yaml().replace(
        "{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: r-heimdall-secrets, key: DATABASE_PASSWORD",
        "{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: r-heimdall-secrets, key: POSTGRES_PASSWORD",
    );
    fires("HC004", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc005_fires_on_a_secret_value_in_a_config_map_and_in_notes() {
    let yaml = good_yaml_with(&[("LEAK", JWT)]);
    fires("HC005", &yaml, &inline_intent(), &[], None);
    fires("HC005", &good_yaml(), &inline_intent(), &[], Some(&format!("your JWT is {JWT}")));
}

#[test]
fn hc006_fires_on_another_type_a_value_in_data_or_a_key_missing_from_data() {
    let yaml = good_yaml().replace("type: Opaque", "type: kubernetes.io/basic-auth");
    fires("HC006", &yaml, &inline_intent(), &[], None);
    let yaml = good_yaml().replace("data: {ADMIN_PASSWORD: \"\",", "data: {ADMIN_PASSWORD: \"eA==\",");
    fires("HC006", &yaml, &inline_intent(), &[], None);
    let yaml = good_yaml().replace("data: {ADMIN_PASSWORD: \"\", ", "data: {");
    fires("HC006", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc007_fires_on_a_missing_or_stale_checksum() {
    let good = good_yaml();
    let stale = good.replace(", checksum/secrets: \"", ", checksum/secrets: \"0");
    fires("HC007", &stale, &inline_intent(), &[], None);
    let start = good.find(", checksum/secrets").unwrap();
    let end = start + good[start..].find('}').unwrap();
    let missing = format!("{}{}", &good[..start], &good[end..]);
    fires("HC007", &missing, &inline_intent(), &[], None);
}

#[test]
fn checksum_matches_the_chart_canonical_form() {
    // "A=" + base64("x") + "\n": the same bytes the chart's template hashes.
    let mut data = BTreeMap::new();
    data.insert("A".to_string(), "x".to_string());
    assert_eq!(secret_checksum_of(&data), format!("{:x}", Sha256::digest(b"A=eA==\n")));
}

#[test]
fn hc012_fires_when_the_resource_policy_differs_from_the_values() {
    let mut keep = inline_intent();
    keep.secret_resource_policy = "keep".into();
    fires("HC012", &good_yaml(), &keep, &[], None);
    let annotated = good_yaml().replace(
        "metadata: {name: r-heimdall-secrets, labels:",
        "metadata: {name: r-heimdall-secrets, annotations: {helm.sh/resource-policy: keep}, labels:",
    );
    assert!(findings_with(&annotated, &keep, &[], None).is_empty());
    fires("HC012", &annotated, &inline_intent(), &[], None);
}
