//! Global values against the values they stand for (`globals:` in chart-harness.yaml). For each
//! pair, the local value is set to a probe, which finds the fields it lands in (they contain it);
//! then the global is set too, and those fields must still carry the local probe when the global is
//! only a default, or carry the global instead when it overrides. A global default that beats the
//! value it should yield to renders objects the API server accepts, so no other oracle sees it.

use super::{Oracle, Rendered, NAMESPACE, RELEASE};
use crate::engine::config::Precedence;
use crate::engine::generate::Knob;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

const LOCAL: &str = "fuzz-local";

/// Checks every declared pair; fails listing each one the rendering does not follow.
pub(super) fn check(oracle: &Oracle, knobs: &[Knob], globals: &BTreeMap<String, Precedence>) -> Result<usize> {
    let helm = oracle.helms.last().expect("fuzz runs with at least one Helm");
    let mut wrong = Vec::new();
    let pairs = pairs(globals);
    for (global, local, wins) in &pairs {
        let (global_knob, local_knob) = (knob(knobs, global)?, knob(knobs, local)?);
        let global_value =
            global_knob.candidates.iter().find(|c| c.as_str().is_some_and(|s| !s.is_empty())).cloned().unwrap_or(json!("fuzz-global"));
        let context = super::boundaries::with(&super::boundaries::context_of(local_knob, knobs), local_knob, &json!(LOCAL));
        let both = super::boundaries::with(&context, global_knob, &global_value);
        let (Rendered::Objects(alone), Rendered::Objects(together)) =
            (oracle.rendered(helm, &context, "precedence.json")?, oracle.rendered(helm, &both, "precedence.json")?)
        else {
            bail!("{local}={LOCAL:?} with {global}={global_value} is refused, so their precedence cannot be checked");
        };
        let fields = fields_containing(&alone, LOCAL);
        if fields.is_empty() {
            bail!(
                "{local}={LOCAL:?} lands in no field, so chart-harness.yaml's globals entry for {global} cannot be checked: fix the entry"
            );
        }
        let expected = if *wins == Wins::Local { LOCAL.to_string() } else { global_value.as_str().unwrap_or_default().to_string() };
        for (kind, name, pointer) in fields {
            let got = together.iter().find(|o| (o["kind"].as_str(), o["metadata"]["name"].as_str()) == (Some(&kind), Some(&name)));
            let got = got.and_then(|o| o.pointer(&pointer)).and_then(Json::as_str).unwrap_or_default();
            if !got.contains(&expected) {
                wrong.push(format!(
                    "{global} is documented as {} {local}, but with both set {kind} {name} {pointer} is {got:?}\n  reproduce: helm template {RELEASE} heimdall --namespace {NAMESPACE} --set-json '{local}=\"{LOCAL}\"' --set-json '{global}={global_value}'",
                    if *wins == Wins::Local { "a default that yields to" } else { "replacing" }
                ));
            }
        }
    }
    if !wrong.is_empty() {
        bail!("{} global value(s) meet their local ones other than documented:\n{}", wrong.len(), wrong.join("\n"));
    }
    Ok(pairs.len())
}

/// Which value a pair's rendering must carry when both are set.
#[derive(Debug, PartialEq)]
enum Wins {
    Local,
    Global,
}

/// (global, local, which wins), in the order of the declaration.
fn pairs(globals: &BTreeMap<String, Precedence>) -> Vec<(String, String, Wins)> {
    let mut out = Vec::new();
    for (global, precedence) in globals {
        out.extend(precedence.default.iter().map(|local| (global.clone(), local.clone(), Wins::Local)));
        out.extend(precedence.override_.iter().map(|local| (global.clone(), local.clone(), Wins::Global)));
    }
    out
}

fn knob<'a>(knobs: &'a [Knob], name: &str) -> Result<&'a Knob> {
    knobs.iter().find(|k| k.name() == name).with_context(|| format!("chart-harness.yaml globals: {name} is no value of the schema"))
}

/// (kind, name, JSON pointer) of every string field in `objects` that contains `text`.
fn fields_containing(objects: &[Json], text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for object in objects {
        let mut leaves = BTreeMap::new();
        super::boundaries::collect_leaves(object, String::new(), &mut leaves, false);
        let (kind, name) = (object["kind"].as_str().unwrap_or_default(), object["metadata"]["name"].as_str().unwrap_or_default());
        for (pointer, value) in leaves {
            if value.as_str().is_some_and(|s| s.contains(text)) {
                out.push((kind.to_string(), name.to_string(), pointer));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_follow_the_declaration_and_fields_are_found_by_what_they_contain() {
        let globals = BTreeMap::from([(
            "global.imageRegistry".to_string(),
            Precedence { default: vec!["a.registry".into()], override_: vec!["image.registry".into()] },
        )]);
        let found = pairs(&globals);
        assert_eq!(found[0], ("global.imageRegistry".into(), "a.registry".into(), Wins::Local));
        assert_eq!(found[1], ("global.imageRegistry".into(), "image.registry".into(), Wins::Global));
        let objects = [json!({"kind": "Deployment", "metadata": {"name": "app"}, "spec": {"containers": [{"image": "fuzz-local/app:1"}]}})];
        assert_eq!(fields_containing(&objects, LOCAL), [("Deployment".into(), "app".into(), "/spec/containers/0/image".into())]);
    }
}
