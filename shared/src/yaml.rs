//! A small YAML writer for JSON values, for downloads (`kubectl apply -f`) from the console and
//! the server alike. Block style for maps and lists; every string double-quoted with JSON escapes
//! (valid YAML), so no value can be misread as a number, a boolean or a null.

use serde_json::Value;

/// `value` as a YAML document.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_list(&mut out, items, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

fn is_nested(value: &Value) -> bool {
    match value {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn key(k: &str) -> String {
    let plain = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && !matches!(
            k.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    match plain {
        true => k.to_owned(),
        false => Value::String(k.to_owned()).to_string(),
    }
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (i, (k, v)) in map.iter().enumerate() {
        // The first key of a list item sits on the item's "- " line.
        if i > 0 || !out.ends_with("- ") {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&key(k));
        out.push(':');
        write_value(out, v, indent, true);
    }
}

fn write_list(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, indent + 2),
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_list(out, a, indent + 2);
            }
            other => {
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn write_value(out: &mut String, v: &Value, indent: usize, after_key: bool) {
    if !is_nested(v) {
        if after_key {
            out.push(' ');
        }
        out.push_str(&scalar(v));
        out.push('\n');
        return;
    }
    out.push('\n');
    match v {
        Value::Object(m) => write_map(out, m, indent + 2),
        Value::Array(a) => write_list(out, a, indent),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_block_yaml_with_quoted_strings() {
        let v = json!({"kind": "List", "items": [{"a": 1, "b": ["x", {"c": null}]}, []], "e": {}, "true": "no", "multi": "a\nb"});
        assert_eq!(
            to_string(&v),
            "e: {}\nitems:\n- a: 1\n  b:\n  - \"x\"\n  - c: null\n- []\nkind: \"List\"\nmulti: \"a\\nb\"\n\"true\": \"no\"\n"
        );
    }
}
