//! Values as Helm combines a case's inputs: values files merged map by map, then `--set` (typed as Helm types it), `--set-string` and `--set-file`.
//!
//! The checks read a case's values here, never from the rendering, so this
//! follows Helm's own rules (helm.sh/helm pkg/cli/values and pkg/strvals, the
//! same in Helm 3 and Helm 4). What it cannot read as Helm does is refused,
//! naming the entry or the file, rather than dropped.

use anyhow::{bail, Context, Result};
use serde_yaml::{Mapping, Value};
use std::path::Path;

/// The three `--set` flavours a case may use, in the order Helm applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetFlag {
    /// `--set`: the value is typed (booleans, null, integers).
    Set,
    /// `--set-string`: the value stays text.
    SetString,
    /// `--set-file`: the value is the named file's text.
    SetFile,
}

impl SetFlag {
    /// The case file's field for this flag.
    pub fn field(self) -> &'static str {
        match self {
            SetFlag::Set => "set",
            SetFlag::SetString => "setString",
            SetFlag::SetFile => "setFile",
        }
    }
}

/// Merges `from` over `into` as Helm merges values files: maps merge key by key, anything else replaces.
pub fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) if existing.is_mapping() && v.is_mapping() => merge(existing, v),
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// Sets `dotted` in `root`, making the maps on the way (and replacing a non-map on the way by one, as `--set` does).
pub fn set_path(root: &mut Value, dotted: &str, value: Value) {
    let mut node = root;
    let parts: Vec<&str> = dotted.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !node.is_mapping() {
            *node = Value::Mapping(Mapping::new());
        }
        let map = node.as_mapping_mut().unwrap();
        let key = Value::String(part.to_string());
        if i == parts.len() - 1 {
            map.insert(key, value);
            return;
        }
        node = map.entry(key).or_insert(Value::Mapping(Mapping::new()));
    }
}

/// A `--set` value typed as Helm's strvals types it: true, false and null in any case, and
/// integers that fit 64 bits and do not start with 0 (but "0" itself); everything else is text.
pub fn typed(text: &str) -> Value {
    if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") {
        return Value::Bool(text.eq_ignore_ascii_case("true"));
    }
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    if text == "0" {
        return Value::Number(0.into());
    }
    match text.parse::<i64>() {
        Ok(n) if !text.starts_with('0') && !text.starts_with('+') => Value::Number(n.into()),
        _ => Value::String(text.to_string()),
    }
}

/// The key and value of one `set`, `setString` or `setFile` entry, or why the harness cannot read it as Helm does:
/// only plain `dotted.key=value` entries are read, so Helm's list, index, escape and multi-value syntax is refused.
pub fn read_set_entry(flag: SetFlag, entry: &str) -> Result<(&str, &str), String> {
    let field = flag.field();
    let Some((key, value)) = entry.split_once('=') else {
        return Err(format!("{field} entry {entry:?} has no `=`: write KEY=VALUE"));
    };
    let plain_key = !key.is_empty() && !key.contains(['[', ']', '\\', ',', '{', '}']);
    let plain_value = flag == SetFlag::SetFile || !value.contains([',', '\\', '{']);
    if !plain_key || !plain_value {
        return Err(format!(
            "{field} entry {entry:?} uses Helm's list, index, escape or multi-value syntax, which the harness's reading of the case does not follow: give it under `values:` instead"
        ));
    }
    Ok((key, value))
}

/// A values file as Helm reads it: a map, or nothing (an empty file).
pub fn read_values_file(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading values file {}", path.display()))?;
    let value: Value = serde_yaml::from_str(&text).with_context(|| format!("values file {} is not YAML", path.display()))?;
    match value {
        Value::Null => Ok(Value::Mapping(Mapping::new())),
        Value::Mapping(_) => Ok(value),
        _ => bail!("values file {} must hold a map of values at its top level", path.display()),
    }
}

/// Applies one `--set`-style entry whose file (for `setFile`) is found under `base`.
pub fn apply_set(values: &mut Value, flag: SetFlag, entry: &str, base: &Path) -> Result<()> {
    let (key, text) = read_set_entry(flag, entry).map_err(anyhow::Error::msg)?;
    let value = match flag {
        SetFlag::Set => typed(text),
        SetFlag::SetString => Value::String(text.to_string()),
        SetFlag::SetFile => {
            let path = base.join(text);
            Value::String(std::fs::read_to_string(&path).with_context(|| format!("setFile entry {entry:?}: reading {}", path.display()))?)
        }
    };
    set_path(values, key, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn maps_merge_key_by_key_and_the_later_file_wins_everything_else() {
        let mut values = yaml("a: {b: 1, c: [1, 2]}\nd: x\n");
        merge(&mut values, &yaml("a: {c: [3], e: 2}\nd: {f: 1}\n"));
        assert_eq!(values, yaml("a: {b: 1, c: [3], e: 2}\nd: {f: 1}\n"));
    }

    #[test]
    fn set_values_are_typed_as_helm_types_them() {
        assert_eq!(typed("TRUE"), Value::Bool(true));
        assert_eq!(typed("False"), Value::Bool(false));
        assert_eq!(typed("Null"), Value::Null);
        assert_eq!(typed("0"), Value::Number(0.into()));
        assert_eq!(typed("12345678901234567"), Value::Number(12345678901234567i64.into()));
        for text in ["0123", "99999999999999999999", "1.5", "+1", "", "yes"] {
            assert_eq!(typed(text), Value::String(text.into()), "{text:?} stays text");
        }
    }

    #[test]
    fn set_string_keeps_text_and_set_replaces_a_non_map_on_its_way() {
        let mut values = yaml("a: text\n");
        apply_set(&mut values, SetFlag::Set, "a.b=true", Path::new(".")).unwrap();
        apply_set(&mut values, SetFlag::SetString, "c=true", Path::new(".")).unwrap();
        assert_eq!(values, yaml("a: {b: true}\nc: 'true'\n"));
    }

    #[test]
    fn what_cannot_be_read_as_helm_does_is_refused_by_name() {
        let err = read_set_entry(SetFlag::Set, "list[0]=x").unwrap_err();
        assert!(err.contains("set entry \"list[0]=x\"") && err.contains("under `values:`"), "{err}");
        assert!(read_set_entry(SetFlag::SetString, "a=b,c=d").unwrap_err().contains("setString entry"));
        assert!(read_set_entry(SetFlag::Set, "novalue").unwrap_err().contains("has no `=`"));
        assert_eq!(read_set_entry(SetFlag::SetFile, "a.b=dir/x,y.pem"), Ok(("a.b", "dir/x,y.pem")));
        let err = apply_set(&mut Value::Null, SetFlag::SetFile, "a=missing.pem", Path::new("/nonexistent")).unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/missing.pem"), "{err:#}");
    }

    #[test]
    fn a_values_file_must_be_a_map_and_an_empty_one_is_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        assert_eq!(read_values_file(&write("empty.yaml", "")).unwrap(), Value::Mapping(Mapping::new()));
        let err = read_values_file(&write("list.yaml", "- a\n")).unwrap_err();
        assert!(err.to_string().contains("list.yaml must hold a map"), "{err}");
        let err = read_values_file(&write("bad.yaml", "a: [\n")).unwrap_err();
        assert!(err.to_string().contains("bad.yaml is not YAML"), "{err}");
    }
}
