//! HC020, the variables Heimdall reads, firing on one it does not.

use super::*;

#[test]
fn hc020_fires_on_a_variable_heimdall_does_not_read() {
    let mut intent = inline_intent();
    let known = ["ADMIN_PASSWORD", "API_KEY_SECRET", "DATABASE_PASSWORD", "JWT_SECRET", "DATABASE_HOST", "DATABASE_PORT", "PORT"];
    let known = known.iter().chain(&["DATABASE_SSL", "DATABASE_SSL_INSECURE"]);
    intent.known_variables = Some(known.map(|k| k.to_string()).collect());
    assert!(findings_with(&good_yaml(), &intent, &[], None).is_empty());
    let in_config_map = good_yaml_with(&[("OKTA_ISSUER", "https://corp.okta.com")]);
    fires("HC020", &in_config_map, &intent, &[], None);
    let in_env = good_yaml()
        .replace("{name: DATABASE_PORT, value: \"5432\"}", "{name: DATABASE_PORT, value: \"5432\"}, {name: GITLAB_CLIENTSECRET, value: x}");
    fires("HC020", &in_env, &intent, &[], None);
    intent.allow_unknown_variables = true;
    assert!(findings_with(&in_config_map, &intent, &[], None).is_empty());
}
