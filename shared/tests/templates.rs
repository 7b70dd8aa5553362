//! Templates from `../shared/fixtures` (openshift/library, the samples operator, and the upstream
//! processing tests transcribed in templates-testdata): every one loads, round-trips to equal
//! JSON and processes; the processing vectors give what upstream asserts.

#![expect(
    clippy::unwrap_used,
    reason = "a fixture that does not load is a test failure"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tagstream_shared::template::generate::{self, SYMBOLS};
use tagstream_shared::template::process::{
    is_parameter_name, process, process_with, validate_template,
};
use tagstream_shared::{Parameter, Template};

fn fixtures() -> PathBuf {
    let dir = std::env::var_os("TAGSTREAM_FIXTURES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
        PathBuf::from,
    );
    assert!(
        dir.join("SOURCES.md").is_file(),
        "the shared fixtures are absent: expected them at {} (the `shared/` folder beside this \
         repository, or set TAGSTREAM_FIXTURES)",
        dir.display()
    );
    dir
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every template file of the library and the samples operator.
fn fixture_templates() -> Vec<(String, Value)> {
    let root = fixtures();
    let mut out = Vec::new();
    for dir in [
        "openshift-library/templates",
        "openshift-library/community/templates",
        "cluster-samples-operator/ocp-x86_64/templates",
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for p in files {
            let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            out.push((name, read_json(&p)));
        }
    }
    assert!(
        out.len() >= 80,
        "expected the library's templates, found {}",
        out.len()
    );
    out
}

/// Checks `value` matches `expr`'s shape: its length and every random character's alphabet.
fn assert_generated_shape(expr: &str, value: &str) {
    let groups = generate::alphabets(expr).unwrap();
    let literal_len = {
        // The expression with each group taken out leaves the literal text.
        let mut n = expr.chars().count();
        let mut rest = expr;
        while let Some(open) = rest.find('[') {
            let after = &rest[open..];
            match after.find('}') {
                Some(end) if after[..end].contains("]{") => {
                    n -= after[..=end].chars().count();
                    rest = &after[end + 1..];
                }
                _ => rest = &after[1..],
            }
        }
        n
    };
    let random: usize = groups.iter().map(|(_, n)| n).sum();
    assert_eq!(
        value.chars().count(),
        literal_len + random,
        "{expr} gave {value}"
    );
    let allowed: Vec<char> = groups.iter().flat_map(|(a, _)| a.clone()).collect();
    let literal: String = expr.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    assert!(
        value
            .chars()
            .all(|c| allowed.contains(&c) || literal.contains(c)),
        "{expr} gave {value} with characters outside its alphabets"
    );
}

#[test]
fn every_fixture_template_round_trips_to_equal_json() {
    for (name, original) in fixture_templates() {
        let template: Template = serde_json::from_value(original.clone())
            .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
        let back = serde_json::to_value(&template).unwrap();
        assert_eq!(
            back, original,
            "{name} changed on the way through our types"
        );
        assert_eq!(validate_template(&template), vec![], "{name}");
    }
}

#[test]
fn every_fixture_template_processes_with_its_defaults() {
    let mut with_required = 0;
    for (name, original) in fixture_templates() {
        let template: Template = serde_json::from_value(original).unwrap();
        let missing: Vec<(usize, String)> = template
            .parameters()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_required() && p.value().is_empty() && !p.is_generated())
            .map(|(i, p)| (i, p.name.clone()))
            .collect();
        let mut given = template.clone();
        if !missing.is_empty() {
            with_required += 1;
            // Without a value, every such parameter is reported, worded as OpenShift words it.
            let errors = process(&template).err().unwrap_or_default();
            let got: Vec<(String, String)> = errors
                .iter()
                .map(|e| (e.field.clone(), e.detail.clone()))
                .collect();
            let want: Vec<(String, String)> = missing
                .iter()
                .map(|(i, n)| {
                    (
                        format!("template.parameters[{i}]"),
                        format!(
                            "template.parameters[{i}]: parameter {n} is required and must be specified"
                        ),
                    )
                })
                .collect();
            assert_eq!(got, want, "{name}");
            for (i, n) in &missing {
                given.parameters.as_mut().unwrap()[*i].value = Some(format!("value-{n}"));
            }
        }
        let processed = process(&given).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(processed.objects.len(), template.objects.len(), "{name}");
        let finals: BTreeMap<&str, &str> = processed
            .parameters()
            .iter()
            .map(|p| (p.name.as_str(), p.value()))
            .collect();
        for (p, before) in processed.parameters().iter().zip(template.parameters()) {
            if before.is_generated() && before.value().is_empty() {
                assert_generated_shape(before.from.as_deref().unwrap_or_default(), p.value());
            }
        }
        // No reference to a parameter is left in the objects.
        let text = serde_json::to_string(&processed.objects).unwrap();
        for p in finals.keys() {
            assert!(
                !text.contains(&format!("${{{p}}}")),
                "{name}: ${{{p}}} left"
            );
        }
        // Template labels reach every object.
        for (k, v) in processed.labels.iter().flatten() {
            for o in &processed.objects {
                assert_eq!(o["metadata"]["labels"][k], json!(v), "{name}");
            }
        }
    }
    assert!(
        with_required >= 5,
        "only {with_required} templates had required parameters"
    );
}

fn vectors() -> Value {
    read_json(&fixtures().join("templates-testdata/processing-vectors.json"))
}

#[test]
fn process_value_vector_gives_upstream_output() {
    let v = vectors();
    let case = &v["process_value"];
    let mut template: Template = serde_json::from_value(case["input_template"].clone()).unwrap();
    template.parameters =
        Some(serde_json::from_value(case["parameters_added_in_order"].clone()).unwrap());
    let out = process(&template).unwrap();
    let expected = &case["expected_output"];
    assert_eq!(Value::Array(out.objects), expected["objects"]);
    assert_eq!(
        serde_json::to_value(out.parameters).unwrap(),
        expected["parameters"]
    );
}

#[test]
fn object_label_vectors_give_upstream_output() {
    let v = vectors();
    for case in v["object_labels"].as_array().unwrap() {
        let mut template: Template = serde_json::from_value(case["input"].clone()).unwrap();
        template.labels = serde_json::from_value(case["object_labels"].clone()).unwrap();
        let out = process(&template).unwrap();
        let expected = &case["expected_output"];
        assert_eq!(
            Value::Array(out.objects),
            expected["objects"],
            "{}",
            case["name"]
        );
        assert_eq!(
            serde_json::to_value(&out.labels).unwrap(),
            expected.get("labels").cloned().unwrap_or(Value::Null),
            "{}",
            case["name"]
        );
    }
}

#[test]
fn parameter_generation_vectors_fail_and_pass_like_upstream() {
    let v = vectors();
    for case in v["parameter_generation"]["cases"].as_array().unwrap() {
        let p: Parameter = serde_json::from_value(case["parameter"].clone()).unwrap();
        // Only the `expression` generator exists; upstream's test generators are names we do not
        // know, so the cases that register one can only be checked where it makes no difference.
        let registered = case["generators"].as_array().unwrap();
        if p.is_generated() && !registered.is_empty() {
            continue;
        }
        let template = Template {
            parameters: Some(vec![p.clone()]),
            ..Template::default()
        };
        let result = process(&template);
        assert_eq!(result.is_ok(), case["ok"] == json!(true), "{}", p.name);
        match result {
            Ok(t) => assert_eq!(json!(t.parameters()[0].value()), case["expected_value"]),
            Err(errors) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(json!(errors[0].field), case["error_field"]);
                assert_eq!(
                    json!(format!("{:?}", errors[0].kind)),
                    case["error_type"],
                    "{}",
                    p.name
                );
            }
        }
    }
    // A generator that yields nothing leaves a required parameter empty: Required, as upstream.
    let empty = Template {
        parameters: Some(vec![Parameter {
            name: "P".into(),
            generate: Some("expression".into()),
            from: Some(String::new()),
            required: Some(true),
            ..Parameter::default()
        }]),
        ..Template::default()
    };
    let errors = process(&empty).err().unwrap_or_default();
    assert_eq!(
        errors[0].detail,
        "template.parameters[0]: parameter P is required and must be specified"
    );
    // An unknown generator name is an Invalid error at the parameter.
    let unknown = Template {
        parameters: Some(vec![Parameter {
            name: "P".into(),
            generate: Some("foo".into()),
            ..Parameter::default()
        }]),
        ..Template::default()
    };
    let errors = process(&unknown).err().unwrap_or_default();
    assert_eq!(errors[0].field, "template.parameters[0]");
    assert!(errors[0].detail.contains("'foo' generator for parameter P"));
}

#[test]
fn expression_vectors_give_values_of_the_right_length_and_alphabet() {
    let v = vectors();
    let cases = &v["expression_generator"];
    for case in cases["seeded_cases"].as_array().unwrap() {
        let expr = case["from"].as_str().unwrap();
        let upstream = case["expected"].as_str().unwrap();
        for _ in 0..20 {
            let value = generate::generate(expr).unwrap();
            assert_eq!(value.chars().count(), upstream.chars().count(), "{expr}");
            assert_generated_shape(expr, &value);
        }
        // Upstream's own answer fits the same shape.
        assert_generated_shape(expr, upstream);
    }
    for case in cases["error_cases"].as_array().unwrap() {
        let expr = case["from"].as_str().unwrap();
        let err = generate::generate(expr).err().map(|e| e.to_string());
        let want = case["error"].as_str().unwrap();
        assert!(
            err.as_deref().is_some_and(|e| e.starts_with(want)),
            "{expr}: {err:?}, want {want}"
        );
    }
    // `\A` draws from the symbol set only.
    let symbols = generate::generate("[\\A]{200}").unwrap();
    assert!(symbols.chars().all(|c| SYMBOLS.contains(c)));
}

#[test]
fn a_bad_expression_is_an_error_naming_the_parameter() {
    let template = Template {
        parameters: Some(vec![Parameter {
            name: "SECRET".into(),
            generate: Some("expression".into()),
            from: Some("[ABC]{3}".into()),
            ..Parameter::default()
        }]),
        ..Template::default()
    };
    let errors = process(&template).err().unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "template.parameters[0]");
    assert!(
        errors[0].detail.contains("SECRET") && errors[0].detail.contains("malformed"),
        "{}",
        errors[0].detail
    );
    assert!(
        validate_template(&Template {
            metadata: tagstream_shared::ObjectMeta::named("t"),
            ..template
        })
        .iter()
        .any(|e| e.field == "parameters[0].from")
    );
}

#[test]
fn guestbook_processes_to_upstream_list_apart_from_random_values() {
    let root = fixtures().join("templates-testdata");
    let v = vectors();
    let case = &v["guestbook"];
    let mut template: Template =
        serde_json::from_value(read_json(&root.join("library-go/guestbook.json"))).unwrap();
    let extra: Vec<Parameter> = serde_json::from_value(case["extra_parameters"].clone()).unwrap();
    template.parameters.as_mut().unwrap().extend(extra);
    let out = process(&template).unwrap();
    let expected_values = case["expected_parameter_values"].as_object().unwrap();
    let ours: BTreeMap<&str, &str> = out
        .parameters()
        .iter()
        .map(|p| (p.name.as_str(), p.value()))
        .collect();
    // Upstream's values come from Go's seeded math/rand; ours are secure random: put ours in
    // their place, then the whole processed template must equal upstream's.
    let mut expected_text =
        std::fs::read_to_string(root.join("library-go/guestbook_list.json")).unwrap();
    for (name, upstream) in expected_values {
        let upstream = upstream.as_str().unwrap();
        let mine = ours[name.as_str()];
        let param = template
            .parameters()
            .iter()
            .find(|p| p.name == *name)
            .unwrap();
        if param.is_generated() {
            assert_generated_shape(param.from.as_deref().unwrap(), mine);
            expected_text = expected_text.replace(upstream, mine);
        } else {
            assert_eq!(mine, upstream, "{name}");
        }
    }
    let expected: Value = serde_json::from_str(&expected_text).unwrap();
    assert_eq!(Value::Array(out.objects.clone()), expected["objects"]);
    assert_eq!(
        serde_json::to_value(out.parameters()).unwrap(),
        expected["parameters"]
    );
    assert_eq!(
        out.message.as_deref(),
        Some(
            format!(
                "Your admin credentials are {}:{}",
                ours["ADMIN_USERNAME"], ours["ADMIN_PASSWORD"]
            )
            .as_str()
        )
    );
}

#[test]
fn parameter_names_are_checked_like_openshift() {
    let v = vectors();
    for case in v["parameter_name_validation"]["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        assert_eq!(json!(is_parameter_name(name)), case["valid"], "{name:?}");
    }
}

#[test]
fn hard_coded_namespaces_are_stripped_and_referenced_ones_substituted() {
    let root = fixtures().join("templates-testdata");
    let v = vectors();
    let case = &v["namespace_handling"];
    let mut template: Template = serde_json::from_value(read_json(
        &root.join("origin-cmd/template-with-namespaces.json"),
    ))
    .unwrap();
    for (name, value) in case["parameters"].as_object().unwrap() {
        for p in template.parameters.iter_mut().flatten() {
            if p.name == *name {
                p.value = value.as_str().map(str::to_owned);
            }
        }
    }
    let out = process(&template).unwrap();
    for (object, want) in case["expected_namespaces"].as_object().unwrap() {
        let found = out
            .objects
            .iter()
            .find(|o| o["metadata"]["name"] == json!(object))
            .unwrap_or_else(|| panic!("{object} missing"));
        let ns = found["metadata"]["namespace"].as_str().unwrap_or("");
        assert_eq!(json!(ns), *want, "{object}");
    }
}

#[test]
fn large_integers_survive_processing_unchanged() {
    let root = fixtures().join("templates-testdata");
    let template: Template = serde_json::from_value(read_json(
        &root.join("origin-cmd/template-type-precision.json"),
    ))
    .unwrap();
    let out = process(&template).unwrap();
    let text = serde_json::to_string(&out.objects).unwrap();
    for n in ["1000030003", "2147483647", "9223372036854775807"] {
        assert!(text.contains(n), "{n} lost: {text}");
    }
}

#[test]
fn required_parameter_yaml_fails_without_a_value_and_works_with_one() {
    let root = fixtures().join("templates-testdata");
    let text =
        std::fs::read_to_string(root.join("origin-cmd/template_required_params.yaml")).unwrap();
    let value: Value = serde_yaml::from_str(&text).unwrap();
    let mut template: Template = serde_json::from_value(value).unwrap();
    let errors = process(&template).err().unwrap_or_default();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .detail
            .contains("parameter required_param is required and must be specified")
    );
    template.parameters.as_mut().unwrap()[1].value = Some("someval=moreval".into());
    let out = process(&template).unwrap();
    assert_eq!(out.objects[0]["metadata"]["name"], "someval=moreval");
    // The legacy `v1` User gets its API group.
    assert_eq!(out.objects[0]["apiVersion"], "user.openshift.io/v1");
}

#[test]
fn other_fixture_templates_load_and_round_trip() {
    let root = fixtures().join("templates-testdata");
    for file in [
        "library-go/guestbook.json",
        "library-go/guestbook_list.json",
        "origin-cmd/template-with-namespaces.json",
        "origin-cmd/template-minimal-expose.json",
        "origin-cmd/template-type-precision.json",
        "openshift-restclient-java/v1_template.json",
    ] {
        let original = read_json(&root.join(file));
        let template: Template = serde_json::from_value(original.clone()).unwrap();
        let mut back = serde_json::to_value(&template).unwrap();
        // Like OpenShift's Go types, we always write `creationTimestamp` (null when unset); these
        // hand-written test files leave it out.
        if original["metadata"].get("creationTimestamp").is_none()
            && let Some(meta) = back["metadata"].as_object_mut()
        {
            meta.remove("creationTimestamp");
        }
        assert_eq!(back, original, "{file}");
        process(&template).unwrap_or_else(|e| panic!("{file}: {e:?}"));
    }
}

#[test]
fn a_custom_generator_is_used_for_every_generated_parameter() {
    let template = Template {
        parameters: Some(vec![
            Parameter {
                name: "A".into(),
                generate: Some("expression".into()),
                from: Some("[a-z]{4}".into()),
                ..Parameter::default()
            },
            Parameter {
                name: "B".into(),
                value: Some("given".into()),
                generate: Some("expression".into()),
                from: Some("[a-z]{4}".into()),
                ..Parameter::default()
            },
        ]),
        objects: vec![
            json!({"kind": "ConfigMap", "apiVersion": "v1", "data": {"a": "${A}", "b": "${B}"}}),
        ],
        ..Template::default()
    };
    let out = process_with(&template, &mut |_| Ok("fixed".into())).unwrap();
    assert_eq!(out.objects[0]["data"], json!({"a": "fixed", "b": "given"}));
}
