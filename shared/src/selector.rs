//! Kubernetes list selectors, parsed once and matched against objects as JSON:
//! `labelSelector` (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by
//! commas) and `fieldSelector` on `metadata.name` and `metadata.namespace` (the fields every
//! kind has; Kubernetes refuses other fields per kind the same way).

use std::fmt;

use serde_json::Value;

/// The longest selector accepted: far more than any real one, small enough to parse freely.
pub const MAX_SELECTOR_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError(pub String);

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`; empty matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<LabelRequirement>);

/// Splits on commas outside parentheses.
fn split_top(s: &str) -> Result<Vec<&str>, SelectorError> {
    let (mut depth, mut start, mut out) = (0i32, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(SelectorError(format!("unbalanced parentheses in {s:?}")));
        }
    }
    if depth != 0 {
        return Err(SelectorError(format!("unbalanced parentheses in {s:?}")));
    }
    out.push(&s[start..]);
    Ok(out)
}

fn key(k: &str, whole: &str) -> Result<String, SelectorError> {
    let k = k.trim();
    let ok = !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok {
        Ok(k.to_owned())
    } else {
        Err(SelectorError(format!(
            "invalid label key {k:?} in {whole:?}"
        )))
    }
}

fn value(v: &str, whole: &str) -> Result<String, SelectorError> {
    let v = v.trim();
    let ok = v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(SelectorError(format!(
            "invalid label value {v:?} in {whole:?}"
        )))
    }
}

fn set(rest: &str, whole: &str) -> Result<Vec<String>, SelectorError> {
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| SelectorError(format!("expected a (set) in {whole:?}")))?;
    inner.split(',').map(|v| value(v, whole)).collect()
}

/// Refuses a selector longer than [`MAX_SELECTOR_LEN`] before parsing it.
fn check_len(s: &str) -> Result<(), SelectorError> {
    if s.len() > MAX_SELECTOR_LEN {
        return Err(SelectorError(format!(
            "the selector is longer than {MAX_SELECTOR_LEN} characters"
        )));
    }
    Ok(())
}

impl std::str::FromStr for LabelSelector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, SelectorError> {
        check_len(s)?;
        if s.trim().is_empty() {
            return Ok(Self::default());
        }
        let mut out = Vec::new();
        for part in split_top(s)? {
            let part = part.trim();
            let requirement = if let Some(k) = part.strip_prefix('!') {
                LabelRequirement::NotExists(key(k, s)?)
            } else if let Some((k, v)) = part.split_once("!=") {
                LabelRequirement::NotEquals(key(k, s)?, value(v, s)?)
            } else if let Some((k, v)) = part.split_once("==") {
                LabelRequirement::Equals(key(k, s)?, value(v, s)?)
            } else if let Some((k, v)) = part.split_once('=') {
                LabelRequirement::Equals(key(k, s)?, value(v, s)?)
            } else if let Some((k, rest)) = part.split_once(" notin ") {
                LabelRequirement::NotIn(key(k, s)?, set(rest, s)?)
            } else if let Some((k, rest)) = part.split_once(" in ") {
                LabelRequirement::In(key(k, s)?, set(rest, s)?)
            } else {
                LabelRequirement::Exists(key(part, s)?)
            };
            out.push(requirement);
        }
        Ok(Self(out))
    }
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `object`'s `metadata.labels` satisfy every requirement.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => get(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            LabelRequirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelRequirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            LabelRequirement::Exists(k) => get(k).is_some(),
            LabelRequirement::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A parsed `fieldSelector`: requirements on `metadata.name` and `metadata.namespace`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(&'static str, bool, String)>);

impl std::str::FromStr for FieldSelector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, SelectorError> {
        check_len(s)?;
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, equal, v) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(SelectorError(format!(
                    "invalid field selector {part:?}: expected field=value"
                )));
            };
            let pointer = match field.trim() {
                "metadata.name" => "/metadata/name",
                "metadata.namespace" => "/metadata/namespace",
                other => {
                    return Err(SelectorError(format!("field label not supported: {other}")));
                }
            };
            out.push((pointer, equal, v.trim().to_owned()));
        }
        Ok(Self(out))
    }
}

impl FieldSelector {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(pointer, equal, v)| {
            let actual = object
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default();
            (actual == v) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj() -> Value {
        json!({"metadata": {"name": "ruby", "namespace": "demo",
                            "labels": {"app": "web", "tier": "front"}}})
    }

    #[test]
    fn label_selectors_follow_kubernetes_syntax() {
        let matches = |s: &str| s.parse::<LabelSelector>().expect(s).matches(&obj());
        assert!(matches("app=web"));
        assert!(matches("app==web,tier"));
        assert!(matches("app in (web,api),!missing"));
        assert!(matches("tier notin (back)"));
        assert!(matches(""));
        assert!(!matches("app!=web"));
        assert!(!matches("app=api"));
        assert!(!matches("missing"));
        assert!("app in (web".parse::<LabelSelector>().is_err());
        assert!("a b=c".parse::<LabelSelector>().is_err());
    }

    #[test]
    fn field_selectors_know_name_and_namespace_only() {
        let matches = |s: &str| s.parse::<FieldSelector>().expect(s).matches(&obj());
        assert!(matches("metadata.name=ruby"));
        assert!(matches("metadata.name!=perl,metadata.namespace==demo"));
        assert!(!matches("metadata.name=perl"));
        let err = "spec.x=1"
            .parse::<FieldSelector>()
            .expect_err("unsupported");
        assert!(err.0.contains("spec.x"), "{err}");
    }
}
