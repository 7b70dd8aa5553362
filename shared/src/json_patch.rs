//! RFC 6902 JSON Patch (`kubectl patch --type json`): `add`, `remove`, `replace`, `move`,
//! `copy` and `test` on JSON Pointers (RFC 6901). A failing operation fails the whole patch and
//! leaves the document as it was.

use serde_json::Value;

/// The most operations one patch may hold: far above any hand-written patch.
pub const MAX_OPERATIONS: usize = 10_000;

/// The most a patch may grow a document by copying: a patch is small, but each `copy` of the
/// whole document doubles it, so a few dozen operations would otherwise ask for terabytes. The
/// size of a request body (4 MiB) is the bound an object could reach by being sent whole.
pub const MAX_PATCHED_BYTES: usize = 4 << 20;

/// The bytes `value` takes as compact JSON, counted without building the text.
fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > MAX_PATCHED_BYTES {
                // Stop counting early: the answer is already "too large".
                return Err(std::io::Error::other("too large"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => MAX_PATCHED_BYTES + 1,
    }
}

/// Why a patch cannot apply: the operation's index and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError(pub String);

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(i: usize, message: impl std::fmt::Display) -> PatchError {
    PatchError(format!("operation {i}: {message}"))
}

/// The pointer's tokens, unescaped (`~1` is `/`, `~0` is `~`).
fn tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or_else(|| format!("path {pointer:?} must start with /"))?;
    rest.split('/')
        .map(|t| {
            // RFC 6901: `~` is only ever the start of `~0` or `~1`.
            let mut chars = t.chars();
            while let Some(c) = chars.next() {
                if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                    return Err(format!(
                        "path {pointer:?}: \"~\" must be followed by 0 or 1 (RFC 6901)"
                    ));
                }
            }
            Ok(t.replace("~1", "/").replace("~0", "~"))
        })
        .collect()
}

fn index(token: &str, len: usize, for_add: bool) -> Option<usize> {
    if for_add && token == "-" {
        return Some(len);
    }
    if token.len() > 1 && token.starts_with('0') {
        return None;
    }
    let i: usize = token.parse().ok()?;
    let max = if for_add { len } else { len.saturating_sub(1) };
    (i <= max && (for_add || len > 0)).then_some(i)
}

/// The parent container of `path` and the last token.
fn parent<'a>(doc: &'a mut Value, path: &[String]) -> Result<(&'a mut Value, String), String> {
    let (last, init) = path
        .split_last()
        .ok_or_else(|| "the root cannot be the target here".to_owned())?;
    let mut at = doc;
    for t in init {
        at = match at {
            Value::Object(m) => m.get_mut(t).ok_or_else(|| format!("no member {t:?}"))?,
            Value::Array(a) => {
                let i = index(t, a.len(), false).ok_or_else(|| format!("no index {t:?}"))?;
                &mut a[i]
            }
            _ => return Err(format!("{t:?} is inside a value that is not a container")),
        };
    }
    Ok((at, last.clone()))
}

fn add(doc: &mut Value, path: &[String], value: Value) -> Result<(), String> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (container, last) = parent(doc, path)?;
    match container {
        Value::Object(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(&last, a.len(), true).ok_or_else(|| format!("no index {last:?}"))?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err("the target's parent is not a container".into()),
    }
}

fn remove(doc: &mut Value, path: &[String]) -> Result<Value, String> {
    let (container, last) = parent(doc, path)?;
    match container {
        Value::Object(m) => m.remove(&last).ok_or_else(|| format!("no member {last:?}")),
        Value::Array(a) => {
            let i = index(&last, a.len(), false).ok_or_else(|| format!("no index {last:?}"))?;
            Ok(a.remove(i))
        }
        _ => Err("the target's parent is not a container".into()),
    }
}

fn get<'a>(doc: &'a Value, pointer: &str) -> Result<&'a Value, String> {
    doc.pointer(pointer)
        .ok_or_else(|| format!("nothing at {pointer:?}"))
}

/// Applies `patch` (an array of operations) to `doc`.
pub fn apply(doc: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let ops = patch
        .as_array()
        .ok_or_else(|| PatchError("a JSON patch is an array of operations".into()))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(PatchError(format!(
            "a JSON patch may hold at most {MAX_OPERATIONS} operations"
        )));
    }
    let mut work = doc.clone();
    let mut size = json_size(&work);
    for (i, op) in ops.iter().enumerate() {
        let field = |name: &str| {
            op.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| err(i, format!("missing {name:?}")))
        };
        let path_str = field("path")?;
        let path = tokens(path_str).map_err(|e| err(i, e))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| err(i, "missing \"value\""))
        };
        match field("op")? {
            "add" => add(&mut work, &path, value()?).map_err(|e| err(i, e))?,
            "remove" => {
                remove(&mut work, &path).map_err(|e| err(i, e))?;
            }
            "replace" => {
                get(&work, path_str).map_err(|e| err(i, e))?;
                if path.is_empty() {
                    work = value()?;
                } else {
                    remove(&mut work, &path).map_err(|e| err(i, e))?;
                    add(&mut work, &path, value()?).map_err(|e| err(i, e))?;
                }
            }
            "move" => {
                let from = field("from")?;
                if path_str.starts_with(&format!("{from}/")) {
                    return Err(err(i, "cannot move a value into itself"));
                }
                let moved = remove(&mut work, &tokens(from).map_err(|e| err(i, e))?)
                    .map_err(|e| err(i, e))?;
                add(&mut work, &path, moved).map_err(|e| err(i, e))?;
            }
            "copy" => {
                let source = get(&work, field("from")?).map_err(|e| err(i, e))?;
                size = size.saturating_add(json_size(source));
                if size > MAX_PATCHED_BYTES {
                    return Err(err(
                        i,
                        format!("the patched object would exceed {MAX_PATCHED_BYTES} bytes"),
                    ));
                }
                let copied = source.clone();
                add(&mut work, &path, copied).map_err(|e| err(i, e))?;
            }
            "test" => {
                let actual = get(&work, path_str).map_err(|e| err(i, e))?;
                if *actual != value()? {
                    return Err(err(i, format!("test failed: {path_str} differs")));
                }
            }
            other => return Err(err(i, format!("unknown op {other:?}"))),
        }
    }
    *doc = work;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn copies_cannot_grow_a_document_past_the_limit() {
        // Each copy of the whole document doubles it: 40 of them would be 2^40 times its size.
        let before = json!({"metadata": {"name": "s"}});
        let mut doc = before.clone();
        let mut ops = vec![json!({"op": "add", "path": "/metadata/x", "value": []})];
        ops.extend(std::iter::repeat_n(
            json!({"op": "copy", "from": "", "path": "/metadata/x/-"}),
            40,
        ));
        let e = apply(&mut doc, &Value::Array(ops)).expect_err("40 doublings are refused");
        assert!(e.0.contains("would exceed"), "{e}");
        assert_eq!(doc, before, "a refused patch changes nothing");
        // A copy that stays small still applies.
        apply(
            &mut doc,
            &json!([{"op": "copy", "from": "/metadata/name", "path": "/metadata/alias"}]),
        )
        .expect("a small copy applies");
        assert_eq!(doc["metadata"]["alias"], "s");
    }

    #[test]
    fn operations_follow_rfc_6902() {
        let mut doc = json!({"spec": {"tags": [{"name": "a"}, {"name": "b"}]}, "x": 1});
        apply(
            &mut doc,
            &json!([
                {"op": "add", "path": "/spec/tags/-", "value": {"name": "c"}},
                {"op": "remove", "path": "/spec/tags/0"},
                {"op": "replace", "path": "/x", "value": 2},
                {"op": "copy", "from": "/x", "path": "/y"},
                {"op": "move", "from": "/y", "path": "/z"},
                {"op": "test", "path": "/z", "value": 2},
                {"op": "add", "path": "/a~1b", "value": true}
            ]),
        )
        .expect("applies");
        assert_eq!(
            doc,
            json!({"spec": {"tags": [{"name": "b"}, {"name": "c"}]}, "x": 2, "z": 2, "a/b": true})
        );
    }

    #[test]
    fn a_tilde_not_escaping_0_or_1_is_refused() {
        let mut doc = json!({"a~2b": 1, "c~": 2});
        let before = doc.clone();
        for path in ["/a~2b", "/c~", "/~"] {
            let e = apply(&mut doc, &json!([{"op": "remove", "path": path}]))
                .expect_err("an RFC 6901 pointer has no ~2 and no lone ~");
            assert!(e.0.contains("RFC 6901"), "{e}");
        }
        assert_eq!(doc, before);
        apply(
            &mut doc,
            &json!([{"op": "add", "path": "/x~0y~01", "value": 3}]),
        )
        .expect("applies");
        assert_eq!(doc["x~y~1"], 3);
    }

    #[test]
    fn a_failing_operation_changes_nothing() {
        let mut doc = json!({"x": 1});
        let before = doc.clone();
        let e = apply(
            &mut doc,
            &json!([{"op": "replace", "path": "/x", "value": 5}, {"op": "remove", "path": "/nope"}]),
        )
        .expect_err("fails");
        assert!(e.0.contains("operation 1"), "{e}");
        assert_eq!(doc, before);
        assert!(apply(&mut doc, &json!({"op": "add"})).is_err());
        assert!(apply(&mut doc, &json!([{"op": "test", "path": "/x", "value": 2}])).is_err());
    }
}
