//! Our image reference parser against `github.com/distribution/reference`: every case of
//! `reference-vectors.json` in the shared fixtures (`../shared/fixtures` beside the repository;
//! `TAGSTREAM_FIXTURES` overrides the place). The vectors were produced by running the Go
//! library, so agreeing with them is agreeing with it.
//!
//! Each test collects every difference, naming the input and the field, and fails once with
//! the whole list.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};
use tagstream_shared::reference::{
    self, AnyReference, ImageReference, NormalizedReference, ReferenceError,
};

fn vectors() -> Value {
    let dir = std::env::var_os("TAGSTREAM_FIXTURES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
        PathBuf::from,
    );
    let file = dir.join("reference-vectors.json");
    assert!(
        file.is_file(),
        "the shared fixtures are absent: expected {} (the `shared/` folder beside this \
         repository, or set TAGSTREAM_FIXTURES)",
        file.display()
    );
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("reference-vectors.json has no `{key}` list"))
}

/// Differences found so far, and how many checks passed per section.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
    passed: BTreeMap<&'static str, usize>,
    total: BTreeMap<&'static str, usize>,
}

impl Report {
    /// Compare every field of `expected` and `actual` (a field on one side only is a
    /// difference too), ignoring `skip`.
    fn compare(
        &mut self,
        section: &'static str,
        input: &str,
        expected: &Value,
        actual: &Value,
        skip: &[&str],
    ) {
        *self.total.entry(section).or_default() += 1;
        let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
            self.failures.push(format!(
                "{section} {}: expectation is not an object",
                short(input)
            ));
            return;
        };
        if e.get("valid") != a.get("valid") {
            // One line for a verdict that differs, not one per field.
            let outcome = |v: &serde_json::Map<String, Value>| {
                v.get("error")
                    .or_else(|| v.get("string"))
                    .or_else(|| v.get("match"))
                    .or_else(|| v.get("expected"))
                    .map_or_else(|| "?".to_owned(), Value::to_string)
            };
            self.failures.push(format!(
                "{section} {}: expected valid={} ({}), got valid={} ({})",
                short(input),
                show(e.get("valid")),
                outcome(e),
                show(a.get("valid")),
                outcome(a)
            ));
            return;
        }
        let mut ok = true;
        let keys: std::collections::BTreeSet<&String> = e.keys().chain(a.keys()).collect();
        for key in keys {
            if skip.contains(&key.as_str()) {
                continue;
            }
            let (want, got) = (e.get(key), a.get(key));
            if want != got {
                ok = false;
                self.failures.push(format!(
                    "{section} {}: `{key}` expected {}, got {}",
                    short(input),
                    show(want),
                    show(got)
                ));
            }
        }
        if ok {
            *self.passed.entry(section).or_default() += 1;
        }
    }

    fn finish(self) {
        let mut summary = String::new();
        for (section, total) in &self.total {
            let passed = self.passed.get(section).copied().unwrap_or_default();
            let _ = writeln!(summary, "  {section}: {passed}/{total}");
        }
        assert!(
            self.failures.is_empty(),
            "{} differences from distribution/reference:\n{}\nper section:\n{summary}",
            self.failures.len(),
            self.failures.join("\n")
        );
        eprintln!("reference vectors agree:\n{summary}");
    }
}

/// The input as a failure names it: quoted, long ones cut with their length.
fn short(input: &str) -> String {
    match input.char_indices().nth(60) {
        Some((i, _)) => format!(
            "{:?}... ({} bytes)",
            input.get(..i).unwrap_or(input),
            input.len()
        ),
        None => format!("{input:?}"),
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => short(s),
        Some(v) => v.to_string(),
        None => "(absent)".to_owned(),
    }
}

/// The vectors' name for an error.
fn error_kind(e: &ReferenceError) -> &'static str {
    match e {
        ReferenceError::NameEmpty => "ErrNameEmpty",
        ReferenceError::InvalidFormat => "ErrReferenceInvalidFormat",
        ReferenceError::NameContainsUppercase => "ErrNameContainsUppercase",
        ReferenceError::RepositoryNameContainsUppercase(_) => "NameContainsUppercase(unwrapped)",
        ReferenceError::NameTooLong => "ErrNameTooLong",
        ReferenceError::NameNotCanonical => "ErrNameNotCanonical",
        ReferenceError::NameIs64Hex(_) => "RepositoryNameIs64Hex",
        ReferenceError::DigestInvalidFormat => "digest.ErrDigestInvalidFormat",
        ReferenceError::DigestInvalidLength => "digest.ErrDigestInvalidLength",
        ReferenceError::DigestUnsupported => "digest.ErrDigestUnsupported",
    }
}

fn error_value(e: &ReferenceError) -> Value {
    json!({"valid": false, "error_kind": error_kind(e), "error": e.to_string()})
}

/// The Go type the library returns: which of tag and digest are there.
fn kind(r: &ImageReference) -> &'static str {
    match (&r.tag, &r.digest) {
        (None, None) => "repository",
        (Some(_), None) => "tagged",
        (None, Some(_)) => "canonical",
        (Some(_), Some(_)) => "reference",
    }
}

/// What the vectors record of a named reference: type, string, name, domain, path, tag, digest.
fn named_value(r: &ImageReference) -> Value {
    let mut v = json!({
        "valid": true,
        "type": kind(r),
        "string": r.to_string(),
        "name": r.name(),
        "domain": r.domain().unwrap_or_default(),
        "path": r.path(),
    });
    if let Some(t) = &r.tag {
        v["tag"] = json!(t);
    }
    if let Some(d) = &r.digest {
        v["digest"] = json!(d.to_string());
    }
    v
}

fn parse_value(input: &str) -> Value {
    match input.parse::<ImageReference>() {
        Ok(r) => named_value(&r),
        Err(e) => error_value(&e),
    }
}

fn normalized_value(input: &str) -> Value {
    match input.parse::<NormalizedReference>() {
        Ok(n) => {
            let mut v = named_value(n.as_reference());
            v["full"] = json!(n.to_string());
            v["familiar_name"] = json!(n.familiar_name());
            v["familiar_string"] = json!(n.familiar_string());
            v["full_with_default_tag"] = json!(n.with_default_tag().to_string());
            v["familiar_with_default_tag"] = json!(n.with_default_tag().familiar_string());
            v
        }
        Err(e) => error_value(&e),
    }
}

fn parse_any_value(input: &str) -> Value {
    match input.parse::<AnyReference>() {
        Ok(AnyReference::Named(n)) => {
            let mut v = named_value(n.as_reference());
            v["familiar_string"] = json!(n.familiar_string());
            v
        }
        Ok(any @ AnyReference::Digest(_)) => json!({
            "valid": true,
            "type": "digest_only",
            "string": any.to_string(),
            "digest": any.to_string(),
            "familiar_string": any.familiar_string(),
        }),
        Err(e) => error_value(&e),
    }
}

fn docker_ref_value(input: &str) -> Value {
    match input.parse::<NormalizedReference>() {
        Ok(n) => named_value(n.docker_ref().as_reference()),
        Err(e) => error_value(&e),
    }
}

/// One of the library's readings of a string, as the vectors record it.
type Reading = fn(&str) -> Value;

#[test]
fn every_reference_vector_agrees() {
    let v = vectors();
    let mut report = Report::default();
    let references = list(&v, "references");
    assert!(
        references.len() >= 199,
        "only {} references",
        references.len()
    );
    for case in references {
        let input = case["input"]
            .as_str()
            .expect("every reference has an input");
        let sections: [(&'static str, Reading); 4] = [
            ("parse", parse_value),
            ("normalized", normalized_value),
            ("parse_any", parse_any_value),
            ("parse_docker_ref", docker_ref_value),
        ];
        for (section, actual) in sections {
            match case.get(section) {
                Some(expected) => {
                    report.compare(section, input, expected, &actual(input), &[]);
                }
                None if section == "parse" => {
                    report
                        .failures
                        .push(format!("{}: no `parse` expectation", short(input)));
                }
                None => {}
            }
        }
    }
    report.finish();
}

#[test]
fn parse_named_accepts_only_canonical_names() {
    let v = vectors();
    let mut report = Report::default();
    for case in list(&v, "parse_named_canonical_checks") {
        let input = case["input"].as_str().expect("input");
        let actual = match NormalizedReference::parse_canonical(input) {
            Ok(n) => json!({"valid": true, "domain": n.domain(), "path": n.path()}),
            Err(e) => json!({"valid": false, "error_kind": error_kind(&e)}),
        };
        report.compare(
            "parse_named_canonical_checks",
            input,
            case,
            &actual,
            &["input", "note"],
        );
    }
    report.finish();
}

#[test]
fn the_grammar_matches_like_the_regexps() {
    let v = vectors();
    let mut report = Report::default();
    for case in list(&v, "regexp_matches") {
        let input = case["input"].as_str().expect("input");
        let regexp = case["regexp"].as_str().expect("regexp");
        let submatches = match regexp {
            "domain" => reference::is_domain(input).then(Vec::new),
            "anchored_name" => reference::split_name(input)
                .map(|(domain, path)| vec![domain.unwrap_or_default(), path]),
            "reference" => reference::split_reference(input).map(|(name, tag, digest)| {
                vec![name, tag.unwrap_or_default(), digest.unwrap_or_default()]
            }),
            "anchored_identifier" => reference::is_identifier(input).then(|| vec![input]),
            other => {
                report.failures.push(format!(
                    "regexp_matches {input:?}: no matcher for `{other}`"
                ));
                continue;
            }
        };
        let mut actual = json!({"match": submatches.is_some()});
        // The domain vectors record no submatches; the others do when they match.
        if let Some(groups) = submatches.filter(|_| case.get("submatches").is_some()) {
            actual["submatches"] = json!(groups);
        }
        report.compare(
            "regexp_matches",
            input,
            case,
            &actual,
            &["input", "regexp", "source"],
        );
    }
    report.finish();
}

/// Go's `path.Match` (`*` any run without `/`, `?` one character but `/`, `[...]` classes with
/// ranges and `^`, `\` escapes). Only here: the console has no use for globbing references, so
/// it stays out of the crate, but the familiar forms are what `FamiliarMatch` globs against.
fn path_match(pattern: &[char], name: &[char]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some(('*', rest)) => (0..=name.len())
            .take_while(|&i| i == 0 || name.get(i - 1).is_some_and(|c| *c != '/'))
            .any(|i| path_match(rest, name.get(i..).unwrap_or_default())),
        Some(('?', rest)) => match name.split_first() {
            Some((c, tail)) if *c != '/' => path_match(rest, tail),
            _ => false,
        },
        Some(('[', rest)) => {
            let Some((c, tail)) = name.split_first() else {
                return false;
            };
            let (negated, mut rest) = match rest.split_first() {
                Some(('^', r)) => (true, r),
                _ => (false, rest),
            };
            let mut hit = false;
            loop {
                let (lo, r) = match rest {
                    [']', r @ ..] => {
                        rest = r;
                        break;
                    }
                    ['\\', x, r @ ..] | [x, r @ ..] => (*x, r),
                    [] => return false,
                };
                let (hi, r) = match r {
                    ['-', '\\', y, r @ ..] => (*y, r),
                    ['-', y, r @ ..] if *y != ']' => (*y, r),
                    _ => (lo, r),
                };
                hit |= (lo..=hi).contains(c);
                rest = r;
            }
            hit != negated && path_match(rest, tail)
        }
        Some(('\\', [x, rest @ ..])) | Some((x, rest)) => match name.split_first() {
            Some((c, tail)) if c == x => path_match(rest, tail),
            _ => false,
        },
    }
}

#[test]
fn familiar_match_globs_the_familiar_forms() {
    let v = vectors();
    let mut report = Report::default();
    for case in list(&v, "familiar_match") {
        let input = case["reference"].as_str().expect("reference");
        let pattern: Vec<char> = case["pattern"].as_str().expect("pattern").chars().collect();
        let matched = match input.parse::<NormalizedReference>() {
            Ok(n) => [n.familiar_string(), n.familiar_name()]
                .iter()
                .any(|s| path_match(&pattern, &s.chars().collect::<Vec<_>>())),
            Err(e) => {
                report
                    .failures
                    .push(format!("familiar_match {input:?}: does not parse: {e}"));
                continue;
            }
        };
        report.compare(
            "familiar_match",
            input,
            case,
            &json!({"expected": matched}),
            &["reference", "pattern"],
        );
    }
    report.finish();
}
