//! Duplicate keys in a JSON or YAML body: the first parse keeps the last of two equal keys
//! without a word, so `fieldValidation` (Strict, Warn) finds them in a second pass over the
//! bytes, as kube-apiserver's strict decoder reports `json: duplicate field
//! "spec.tags[0].name"`. The pass builds no values; the parsers' limits bound it as they bound
//! the first parse.

use std::collections::HashSet;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// The paths of the keys `bytes` (JSON) repeats within one object, at most `limit`; none for
/// a body that is not JSON (its parse already answered).
pub fn find(bytes: &[u8], limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = String::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let walk = Walk {
        path: &mut path,
        out: &mut out,
        limit,
    };
    match de.deserialize_any(walk) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// As [`find`], for a YAML body: the parser hands the walk every entry of a mapping, repeated
/// ones too, under the same limits as the first parse.
pub fn find_yaml(bytes: &[u8], limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = String::new();
    let options = crate::body::yaml_options(serde_saphyr::DuplicateKeyPolicy::PassThrough);
    let found = serde_saphyr::with_deserializer_from_slice_with_options(bytes, options, |de| {
        de.deserialize_any(Walk {
            path: &mut path,
            out: &mut out,
            limit,
        })
    });
    match found {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// One buffer holds the path, grown and cut back as the walk goes: a path is copied only when
/// it names a duplicate (copying it at every element made a long key over a long array cost
/// minutes of CPU).
struct Walk<'a> {
    path: &'a mut String,
    out: &'a mut Vec<String>,
    limit: usize,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (path, out, limit) = (self.path, self.out, self.limit);
        let mut i = 0usize;
        loop {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let item = Walk {
                path: &mut *path,
                out: &mut *out,
                limit,
            };
            let more = seq.next_element_seed(item)?;
            path.truncate(len);
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (path, out, limit) = (self.path, self.out, self.limit);
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key);
            if !seen.insert(key) && out.len() < limit && !out.iter().any(|p| p == path) {
                out.push(path.clone());
            }
            map.next_value_seed(Walk {
                path: &mut *path,
                out: &mut *out,
                limit,
            })?;
            path.truncate(len);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn repeated_keys_are_named_by_their_path() {
        let body = br#"{"metadata": {"name": "a", "name": "b"},
            "spec": {"tags": [{"name": "x"}, {"name": "y", "from": {}, "name": "z"}]}}"#;
        assert_eq!(find(body, 10), ["metadata.name", "spec.tags[1].name"]);
        assert!(find(br#"{"a": {"b": 1}, "c": {"b": 2}}"#, 10).is_empty());
        assert!(find(b"not json", 10).is_empty());
        let many = format!(
            "{{{}}}",
            (0..50).map(|_| r#""k": 1"#).collect::<Vec<_>>().join(",")
        );
        assert_eq!(find(many.as_bytes(), 10), ["k"]);
    }
}
