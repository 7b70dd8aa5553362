//! The template engine's bounds (issue 11), through `process` as the server and the console's
//! preview call it: a value over the parameter limit, objects and templates whose output would
//! pass the object and total limits, labels copied into many objects, many long generated
//! values, too long an expression, and half a megabyte of unmatched `${` processed in one pass.

#![expect(
    clippy::unwrap_used,
    reason = "a template that does not build is a test failure"
)]

use serde_json::{Value, json};
use tagstream_shared::template::generate::{self, ExpressionError, MAX_EXPRESSION_BYTES};
use tagstream_shared::template::process::{process, process_with, validate_template};
use tagstream_shared::template::substitute::{
    MAX_OBJECT_BYTES, MAX_PARAMETER_VALUE_BYTES, MAX_PROCESSED_BYTES,
};
use tagstream_shared::{FieldError, Template};

fn template(objects: Vec<Value>, parameters: Value, labels: Value) -> Template {
    serde_json::from_value(json!({
        "kind": "Template", "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "t"}, "objects": objects, "parameters": parameters, "labels": labels
    }))
    .unwrap()
}

fn config_map(data: &str) -> Value {
    json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "data": {"x": data}})
}

fn errors(result: Result<Template, Vec<FieldError>>) -> Vec<String> {
    match result {
        Ok(_) => panic!("processing went through"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_value_over_the_parameter_limit_is_refused() {
    let long = "v".repeat(MAX_PARAMETER_VALUE_BYTES + 1);
    let t = template(
        vec![config_map("${A}")],
        json!([{"name": "OK", "value": "fine"}, {"name": "A", "value": long}]),
        json!(null),
    );
    assert_eq!(
        errors(process(&t)),
        [
            "template.parameters[1]: Too long: parameter A: the value is longer than the 64 KiB limit"
        ]
    );
}

#[test]
fn output_past_the_object_or_the_total_limit_is_refused_naming_it() {
    let value = "v".repeat(MAX_PARAMETER_VALUE_BYTES);
    let params = json!([{"name": "A", "value": value}]);
    let per_object = MAX_OBJECT_BYTES / MAX_PARAMETER_VALUE_BYTES;
    let one_big = template(
        vec![config_map("ok"), config_map(&"${A}".repeat(per_object + 1))],
        params.clone(),
        json!(null),
    );
    assert_eq!(
        errors(process(&one_big)),
        ["template.objects[1]: Too long: the processed object is larger than the 1 MiB limit"]
    );
    // Each object just under 1 MiB; together over 4 MiB.
    let count = MAX_PROCESSED_BYTES / MAX_OBJECT_BYTES + 1;
    let many = template(
        vec![config_map(&"${A}".repeat(per_object - 1)); count],
        params.clone(),
        json!(null),
    );
    let shown = errors(process(&many));
    assert_eq!(shown.len(), 1);
    assert!(
        shown[0].ends_with("Too long: the processed template is larger than the 4 MiB limit"),
        "{shown:?}"
    );
    // The labels go into every object: charged once per object.
    let labelled = template(
        vec![config_map("small"); 80],
        params.clone(),
        json!({"a": "${A}", "b": "${A}"}),
    );
    assert!(
        errors(process(&labelled))[0].contains("the processed template is larger than the 4 MiB"),
    );
    // The message counts as a part of its own.
    let mut message = template(vec![], params, json!(null));
    message.message = Some("${A}".repeat(per_object + 1));
    assert_eq!(
        errors(process(&message)),
        ["template.message: Too long: the processed object is larger than the 1 MiB limit"]
    );
}

#[test]
fn many_long_generated_values_stop_at_the_total_limit() {
    let parameters: Vec<Value> = (0..200)
        .map(|i| json!({"name": format!("P{i}"), "generate": "expression", "from": "x"}))
        .collect();
    let t = template(vec![], json!(parameters), json!(null));
    let mut calls = 0;
    let result = process_with(&t, &mut |_| {
        calls += 1;
        Ok("g".repeat(MAX_PARAMETER_VALUE_BYTES))
    });
    let shown = errors(result);
    assert!(shown[0].contains("4 MiB limit"), "{shown:?}");
    assert_eq!(calls, MAX_PROCESSED_BYTES / MAX_PARAMETER_VALUE_BYTES + 1);
}

#[test]
fn too_long_an_expression_is_refused_before_generating() {
    let expr = "[a-z]{255}".repeat(MAX_EXPRESSION_BYTES / 10 + 1);
    assert_eq!(generate::generate(&expr), Err(ExpressionError::TooLong));
    let t = template(
        vec![],
        json!([{"name": "P", "generate": "expression", "from": expr}]),
        json!(null),
    );
    let shown: Vec<String> = validate_template(&t)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(shown.len(), 1);
    assert!(shown[0].contains("1024-byte limit"), "{shown:?}");
    // The longest accepted expression stays well within a parameter value.
    let longest = "[a-z]{255}".repeat(MAX_EXPRESSION_BYTES / 10);
    assert!(generate::generate(&longest).unwrap().len() <= MAX_PARAMETER_VALUE_BYTES);
}

#[test]
fn half_a_megabyte_of_openings_processes_in_one_pass() {
    // Scanning each `${` to the end of the string made this take minutes.
    let openings = "${".repeat(1 << 18);
    let t = template(
        vec![config_map(&format!("{openings}${{A}}"))],
        json!([{"name": "A", "value": "1"}]),
        json!({"l": &openings[..1 << 16]}),
    );
    let out = process(&t).unwrap();
    assert_eq!(out.objects[0]["data"]["x"], json!(format!("{openings}1")));
    assert_eq!(
        out.objects[0]["metadata"]["labels"]["l"],
        json!(&openings[..1 << 16])
    );
}

/// Validation is linear and bounded: 100,000 parameters (a 3 MB body) are refused at once,
/// naming the limit, and a thousand distinct ones with one duplicate find exactly it.
#[test]
fn too_many_parameters_are_refused_and_duplicates_found_in_one_pass() {
    use tagstream_shared::template::process::MAX_PARAMETERS;
    let many = |n: usize, dup: bool| {
        let mut params: Vec<Value> = (0..n)
            .map(|i| json!({"name": format!("P{i}"), "value": "v"}))
            .collect();
        if dup {
            params.push(json!({"name": "P7", "value": "v"}));
        }
        serde_json::from_value::<Template>(json!({
            "kind": "Template", "metadata": {"name": "t"}, "parameters": params, "objects": []
        }))
        .expect("a template")
    };
    let errors = validate_template(&many(100_000, false));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "parameters");
    assert!(
        errors[0]
            .message()
            .contains(&format!("at most {MAX_PARAMETERS}")),
        "{}",
        errors[0].message()
    );
    let errors = validate_template(&many(MAX_PARAMETERS - 1, true));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].field,
        format!("parameters[{}].name", MAX_PARAMETERS - 1)
    );
    assert!(validate_template(&many(MAX_PARAMETERS, false)).is_empty());
}
