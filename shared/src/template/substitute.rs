//! `${NAME}` and `${{NAME}}` substitution with bounds: each string is scanned once (linear in its
//! length, however many unmatched `${` it holds), and every byte written is charged to an output
//! budget before it is written, so a small template with large or many-times-repeated values
//! stops at the limit instead of growing without end. The server and the console's live preview
//! run this same code, so neither the server nor a browser tab can be made to run away.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::status::CauseType;
use crate::validation::FieldError;

/// The longest parameter value processed: room for a certificate or a small config file, and a
/// bound on what one `${NAME}` can add to the output.
pub const MAX_PARAMETER_VALUE_BYTES: usize = 64 << 10;

/// The most text one processed object may hold: Kubernetes stores objects of up to 1.5 MiB, so
/// a larger one could not be applied anyway.
pub const MAX_OBJECT_BYTES: usize = 1 << 20;

/// The most text a whole processed template may hold: the size of the largest request body, so
/// processing never answers more than a client could have sent.
pub const MAX_PROCESSED_BYTES: usize = 4 << 20;

/// `limit` bytes in words, for messages.
pub fn size_in_words(limit: usize) -> String {
    match limit {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

/// Which limit the output went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    /// One object (or the message, or the labels) is over [`MAX_OBJECT_BYTES`].
    Object,
    /// The whole template is over [`MAX_PROCESSED_BYTES`].
    Total,
}

impl Overflow {
    /// The error for `field`, naming the limit.
    pub fn error(self, field: impl Into<String>) -> FieldError {
        let detail = match self {
            Self::Object => format!(
                "the processed object is larger than the {} limit",
                size_in_words(MAX_OBJECT_BYTES)
            ),
            Self::Total => format!(
                "the processed template is larger than the {} limit",
                size_in_words(MAX_PROCESSED_BYTES)
            ),
        };
        FieldError {
            field: field.into(),
            kind: CauseType::FieldValueTooLong,
            value: None,
            detail,
        }
    }
}

/// What output is still allowed: for the whole template, and for the part being processed.
#[derive(Debug, Clone)]
pub struct Budget {
    total: usize,
    part: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            total: MAX_PROCESSED_BYTES,
            part: MAX_OBJECT_BYTES,
        }
    }
}

impl Budget {
    /// A new part (an object, the message, the labels) starts with a whole per-object budget.
    pub fn start_part(&mut self) {
        self.part = MAX_OBJECT_BYTES;
    }

    /// Charges `n` bytes about to be written.
    pub fn spend(&mut self, n: usize) -> Result<(), Overflow> {
        if n > self.total {
            return Err(Overflow::Total);
        }
        if n > self.part {
            return Err(Overflow::Object);
        }
        self.total -= n;
        self.part -= n;
        Ok(())
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Finds the next `${NAME}` at or after `from`: its start and the name. A `${` not followed by
/// name characters and a `}` is skipped together with the name characters after it, which can
/// hold no `$`, so no byte is looked at twice.
fn next_reference(s: &str, mut from: usize) -> Option<(usize, &str)> {
    let bytes = s.as_bytes();
    while let Some(offset) = s.get(from..)?.find("${") {
        let start = from + offset;
        let name_start = start + 2;
        let mut end = name_start;
        while bytes.get(end).copied().is_some_and(is_name_byte) {
            end += 1;
        }
        if end > name_start && bytes.get(end) == Some(&b'}') {
            return Some((start, &s[name_start..end]));
        }
        from = end;
    }
    None
}

/// Whether `s` holds a `${NAME}` reference.
pub fn has_reference(s: &str) -> bool {
    next_reference(s, 0).is_some()
}

/// Replaces every `${NAME}` naming a parameter in `s`; other text, unknown names included, stays.
/// Every byte is charged to `budget` before it is written.
pub fn substitute(
    s: &str,
    values: &BTreeMap<&str, &str>,
    budget: &mut Budget,
) -> Result<String, Overflow> {
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some((start, name)) = next_reference(s, from) {
        let end = start + name.len() + 3;
        from = end;
        let Some(value) = values.get(name) else {
            continue;
        };
        budget.spend(start - copied + value.len())?;
        out.push_str(&s[copied..start]);
        out.push_str(value);
        copied = end;
    }
    budget.spend(s.len() - copied)?;
    out.push_str(&s[copied..]);
    Ok(out)
}

/// A whole-string `${{NAME}}` naming a parameter becomes the value parsed as JSON (a string if it
/// is not JSON); any other string gets `${NAME}` substitution. Map keys are substituted too.
pub fn substitute_value(
    value: Value,
    values: &BTreeMap<&str, &str>,
    budget: &mut Budget,
) -> Result<Value, Overflow> {
    Ok(match value {
        Value::String(s) => {
            let typed = s
                .strip_prefix("${{")
                .and_then(|r| r.strip_suffix("}}"))
                .filter(|name| !name.is_empty() && name.bytes().all(is_name_byte))
                .and_then(|name| values.get(name));
            match typed {
                Some(raw) => {
                    budget.spend(raw.len())?;
                    serde_json::from_str(raw).unwrap_or_else(|_| Value::String((*raw).to_owned()))
                }
                None => Value::String(substitute(&s, values, budget)?),
            }
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(substitute_value(item, values, budget)?);
            }
            Value::Array(out)
        }
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(
                    substitute(&k, values, budget)?,
                    substitute_value(v, values, budget)?,
                );
            }
            Value::Object(out)
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values<'a>(pairs: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, &'a str> {
        pairs.iter().copied().collect()
    }

    fn sub(s: &str, v: &BTreeMap<&str, &str>) -> String {
        substitute(s, v, &mut Budget::default()).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn references_are_replaced_anywhere_and_unknown_ones_kept() {
        let v = values(&[("A", "1"), ("B", "two")]);
        assert_eq!(sub("x${A}-${B}-${A}", &v), "x1-two-1");
        assert_eq!(sub("${C} ${A", &v), "${C} ${A");
        assert_eq!(sub("$${A}", &v), "$1");
        assert_eq!(sub("${{A}}", &v), "${{A}}");
        assert_eq!(sub("${${A}}", &v), "${1}");
        assert_eq!(sub("${A-x} ${} ${A}${B", &v), "${A-x} ${} 1${B");
        assert!(has_reference("ns-${A}"));
        assert!(!has_reference("${{A}} ${A-} ${"));
    }

    #[test]
    fn double_braces_as_a_whole_value_give_typed_json() {
        let v = values(&[("N", "5"), ("B", "true"), ("O", "{\"a\":1}"), ("S", "text")]);
        let out = substitute_value(
            json!({"n": "${{N}}", "b": "${{B}}", "o": "${{O}}", "s": "${{S}}", "m": "${{N}}x", "u": "${{U}}"}),
            &v,
            &mut Budget::default(),
        );
        assert_eq!(
            out,
            Ok(
                json!({"n": 5, "b": true, "o": {"a": 1}, "s": "text", "m": "${{N}}x", "u": "${{U}}"})
            )
        );
    }

    #[test]
    fn output_stops_at_the_object_and_the_total_limits() {
        let big = "x".repeat(MAX_PARAMETER_VALUE_BYTES);
        let v = values(&[("A", big.as_str())]);
        // 64 KiB × 17 references is over 1 MiB: refused before the string is built.
        let many = "${A}".repeat(17);
        let mut budget = Budget::default();
        assert_eq!(substitute(&many, &v, &mut budget), Err(Overflow::Object));
        // Objects under the per-object limit add up to the total limit.
        let mut budget = Budget::default();
        let under = "${A}".repeat(15);
        let mut made = 0;
        let overflow = loop {
            budget.start_part();
            match substitute(&under, &v, &mut budget) {
                Ok(s) => made += s.len(),
                Err(e) => break e,
            }
        };
        assert_eq!(overflow, Overflow::Total);
        assert!(made <= MAX_PROCESSED_BYTES, "{made}");
        let error = overflow.error("template.objects[4]");
        assert_eq!(
            error.to_string(),
            "template.objects[4]: Too long: the processed template is larger than the 4 MiB limit"
        );
    }

    #[test]
    fn a_megabyte_of_unmatched_openings_is_scanned_once() {
        // Quadratic scanning took minutes on these; one pass takes milliseconds.
        let v = values(&[("A", "1")]);
        let openings = "${".repeat(1 << 19);
        assert_eq!(sub(&openings, &v), openings);
        let nested = format!("{}A}}", "${".repeat(1 << 19));
        assert_eq!(sub(&nested, &v), format!("{}1", "${".repeat((1 << 19) - 1)));
        let names = format!("{}}}", "${AAAA".repeat(1 << 17));
        assert_eq!(sub(&names, &v), names);
        assert!(!has_reference(&openings));
    }
}
