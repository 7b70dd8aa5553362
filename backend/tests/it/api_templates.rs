//! Templates through the real server: CRUD, processing, instantiation creating image streams,
//! 422 causes per missing parameter, secrets masked on later reads, YAML answers, and the
//! openshift/library templates loaded as users would load them.

#![expect(
    clippy::unwrap_used,
    reason = "a test failing to read its own data is a failure"
)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths::{
    imagestream, imagestreams, processed_templates, template, template_instance,
    template_instances, templates,
};
use tagstream_shared::{Template, TemplateInstance};

use crate::support::{TestApp, assert_status, decode, fixtures};

fn app_template() -> Value {
    json!({
        "kind": "Template",
        "apiVersion": "template.openshift.io/v1",
        "metadata": {"name": "webapp", "annotations": {"description": "A web app", "tags": "web,ruby"}},
        "message": "Log in as ${ADMIN_USER} with ${ADMIN_PASSWORD}",
        "labels": {"app": "${NAME}"},
        "objects": [
            {"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
             "metadata": {"name": "${NAME}"},
             "spec": {"tags": [{"name": "latest", "from": {"kind": "DockerImage", "name": "docker.io/library/ruby:${RUBY_VERSION}"}}]}},
            {"kind": "ImageStream", "apiVersion": "v1", "metadata": {"name": "${NAME}-db", "namespace": "elsewhere"}},
            {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "${NAME}"},
             "stringData": {"user": "${ADMIN_USER}", "password": "${ADMIN_PASSWORD}"}},
            {"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "${NAME}"},
             "spec": {"replicas": "${{REPLICAS}}"}}
        ],
        "parameters": [
            {"name": "NAME", "required": true},
            {"name": "RUBY_VERSION", "value": "3.3"},
            {"name": "ADMIN_USER", "required": true},
            {"name": "ADMIN_PASSWORD", "generate": "expression", "from": "[a-zA-Z0-9]{16}"},
            {"name": "REPLICAS", "value": "2"}
        ]
    })
}

async fn app_with_project() -> TestApp {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    app
}

fn instance_of(template: &Value, values: &[(&str, &str)]) -> Value {
    let mut template = template.clone();
    for p in template["parameters"].as_array_mut().unwrap() {
        if let Some((_, v)) = values.iter().find(|(n, _)| p["name"] == json!(n)) {
            p["value"] = json!(v);
        }
    }
    json!({"kind": "TemplateInstance", "apiVersion": "template.openshift.io/v1",
           "metadata": {"name": "first"}, "spec": {"template": template}})
}

#[tokio::test]
async fn templates_are_created_read_replaced_listed_and_deleted() {
    let app = app_with_project().await;
    let (code, created) = app.post(&templates("demo"), &app_template()).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    let created: Template = decode(created);
    assert_eq!(created.metadata.namespace.as_deref(), Some("demo"));
    assert!(created.metadata.uid.is_some() && created.metadata.resource_version.is_some());

    let (code, got) = app.get(&template("demo", "webapp")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(decode::<Template>(got), created);

    let (code, again) = app.post(&templates("demo"), &app_template()).await;
    assert_status(again, StatusCode::CONFLICT, "AlreadyExists");
    assert_eq!(code, StatusCode::CONFLICT);

    let mut changed = serde_json::to_value(&created).unwrap();
    changed["message"] = json!("changed");
    let (code, replaced) = app.put(&template("demo", "webapp"), &changed).await;
    assert_eq!(code, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["message"], "changed");
    assert_eq!(replaced["metadata"]["uid"], json!(created.metadata.uid));
    // The version read before is stale now.
    let (code, stale) = app.put(&template("demo", "webapp"), &changed).await;
    assert_eq!(code, StatusCode::CONFLICT, "{stale}");

    let (code, list) = app.get(&templates("demo")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(list["kind"], "TemplateList");
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    let (code, _) = app.delete(&template("demo", "webapp")).await;
    assert_eq!(code, StatusCode::OK);
    let (code, gone) = app.get(&template("demo", "webapp")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_status(gone, StatusCode::NOT_FOUND, "NotFound");
    let (code, _) = app.get(&templates("nope")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn invalid_templates_are_refused_with_a_cause_per_field() {
    let app = app_with_project().await;
    let mut bad = app_template();
    bad["metadata"]["name"] = json!("Web_App");
    bad["parameters"][1]["name"] = json!("BAD-NAME");
    bad["parameters"][3]["from"] = json!("[ABC]{3}");
    let (code, body) = app.post(&templates("demo"), &bad).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    let fields: Vec<String> = status
        .details
        .unwrap()
        .causes
        .into_iter()
        .filter_map(|c| c.field)
        .collect();
    assert_eq!(
        fields,
        ["metadata.name", "parameters[1].name", "parameters[3].from"]
    );
    app.stop().await;
}

#[tokio::test]
async fn processing_reports_every_missing_required_parameter_at_once() {
    let app = app_with_project().await;
    let (code, body) = app
        .post(&processed_templates("demo"), &app_template())
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let status = assert_status(body, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    let causes = status.details.unwrap().causes;
    let got: Vec<(Option<String>, String)> =
        causes.into_iter().map(|c| (c.field, c.message)).collect();
    assert_eq!(
        got,
        [
            (
                Some("template.parameters[0]".to_owned()),
                "Required value: template.parameters[0]: parameter NAME is required and must be specified".to_owned()
            ),
            (
                Some("template.parameters[2]".to_owned()),
                "Required value: template.parameters[2]: parameter ADMIN_USER is required and must be specified".to_owned()
            ),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn processing_answers_objects_and_every_final_value_and_stores_nothing() {
    let app = app_with_project().await;
    let body = instance_of(&app_template(), &[("NAME", "shop"), ("ADMIN_USER", "root")]);
    let (code, processed) = app
        .post(&processed_templates("demo"), &body["spec"]["template"])
        .await;
    assert_eq!(code, StatusCode::CREATED, "{processed}");
    let password = processed["parameters"][3]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(password.len(), 16);
    assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
    let objects = processed["objects"].as_array().unwrap();
    assert_eq!(objects[0]["metadata"]["name"], "shop");
    assert_eq!(objects[0]["metadata"]["labels"]["app"], "shop");
    // A hard-coded namespace goes, a legacy apiVersion gets its group, ${{}} gives a number.
    assert_eq!(objects[1]["metadata"].get("namespace"), None);
    assert_eq!(objects[1]["apiVersion"], "image.openshift.io/v1");
    assert_eq!(objects[3]["spec"]["replicas"], 2);
    assert_eq!(objects[2]["stringData"]["password"], json!(password));
    assert_eq!(
        processed["message"],
        json!(format!("Log in as root with {password}"))
    );
    let (_, list) = app.get(&imagestreams("demo")).await;
    assert_eq!(list["items"], json!([]), "processing creates nothing");
    app.stop().await;
}

#[tokio::test]
async fn instantiating_creates_the_image_streams_and_masks_generated_values_later() {
    let app = app_with_project().await;
    let body = instance_of(&app_template(), &[("NAME", "shop"), ("ADMIN_USER", "root")]);
    let (code, answer) = app.post(&template_instances("demo"), &body).await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    let answer: TemplateInstance = decode(answer);
    let params = answer.spec.template.parameters();
    let password = params[3].value().to_owned();
    assert_eq!(password.len(), 16);
    assert_eq!(params[2].value(), "root");

    // The image streams exist, labelled, in the project.
    for name in ["shop", "shop-db"] {
        let (code, stream) = app.get(&imagestream("demo", name)).await;
        assert_eq!(code, StatusCode::OK, "{name}: {stream}");
        assert_eq!(stream["metadata"]["labels"]["app"], "shop");
    }
    let (_, stream) = app.get(&imagestream("demo", "shop")).await;
    assert_eq!(
        stream["spec"]["tags"][0]["from"]["name"],
        "docker.io/library/ruby:3.3"
    );
    // The other objects come back, ready for kubectl apply.
    let manifests = answer.status.manifests.clone().unwrap();
    assert_eq!(manifests["kind"], "List");
    let kinds: Vec<&str> = manifests["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["Secret", "Deployment"]);
    assert_eq!(
        manifests["items"][0]["stringData"]["password"],
        json!(password)
    );
    let refs: Vec<String> = answer
        .status
        .objects
        .iter()
        .map(|o| format!("{}/{}", o.reference.kind, o.reference.name))
        .collect();
    assert_eq!(
        refs,
        [
            "ImageStream/shop",
            "ImageStream/shop-db",
            "Secret/shop",
            "Deployment/shop"
        ]
    );

    // Later reads keep the parameters but not the generated secret.
    let (code, stored) = app.get(&template_instance("demo", "first")).await;
    assert_eq!(code, StatusCode::OK);
    let text = stored.to_string();
    assert!(!text.contains(&password), "the secret leaked: {text}");
    assert_eq!(
        stored["spec"]["template"]["parameters"][3]["value"],
        "*****"
    );
    assert_eq!(stored["spec"]["template"]["parameters"][0]["value"], "shop");
    assert!(stored["status"].get("manifests").is_none());
    let (_, list) = app.get(&template_instances("demo")).await;
    assert!(!list.to_string().contains(&password));
    assert_eq!(list["kind"], "TemplateInstanceList");

    // Deleting the instance deletes the streams it made.
    let (code, _) = app.delete(&template_instance("demo", "first")).await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = app.get(&imagestream("demo", "shop")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn instantiation_is_all_or_nothing() {
    let app = app_with_project().await;
    // shop-db exists already: nothing may be created, not even shop.
    app.create_stream(
        "demo",
        &json!({"metadata": {"name": "shop-db"}, "spec": {}}),
    )
    .await;
    let body = instance_of(&app_template(), &[("NAME", "shop"), ("ADMIN_USER", "root")]);
    let (code, status) = app.post(&template_instances("demo"), &body).await;
    assert_eq!(code, StatusCode::CONFLICT, "{status}");
    assert!(status["message"].as_str().unwrap().contains("shop-db"));
    let (code, _) = app.get(&imagestream("demo", "shop")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, _) = app.get(&template_instance("demo", "first")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);

    // Missing parameters: 422 naming each, and nothing created.
    let body = instance_of(&app_template(), &[]);
    let (code, status) = app.post(&template_instances("demo"), &body).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let status = assert_status(status, StatusCode::UNPROCESSABLE_ENTITY, "Invalid");
    assert_eq!(status.details.unwrap().causes.len(), 2);
    let (_, list) = app.get(&template_instances("demo")).await;
    assert_eq!(list["items"], json!([]));

    // An image stream with a bad name after substitution is refused, naming the object.
    let body = instance_of(
        &app_template(),
        &[("NAME", "Bad Name"), ("ADMIN_USER", "x")],
    );
    let (code, status) = app.post(&template_instances("demo"), &body).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{status}");
    assert!(
        status["details"]["causes"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("spec.template.objects[0].metadata.name")
    );
    app.stop().await;
}

#[tokio::test]
async fn generate_name_names_the_instance() {
    let app = app_with_project().await;
    let mut body = instance_of(&app_template(), &[("NAME", "shop"), ("ADMIN_USER", "root")]);
    body["metadata"] = json!({"generateName": "webapp-"});
    let (code, answer) = app.post(&template_instances("demo"), &body).await;
    assert_eq!(code, StatusCode::CREATED, "{answer}");
    let name = answer["metadata"]["name"].as_str().unwrap();
    assert!(
        name.starts_with("webapp-") && name.len() == "webapp-".len() + 5,
        "{name}"
    );
    let (code, _) = app.get(&template_instance("demo", name)).await;
    assert_eq!(code, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn yaml_is_answered_when_asked_for_and_accepted_as_a_body() {
    let app = app_with_project().await;
    // A template posted as YAML, as `oc create -f template.yaml` would.
    let text = std::fs::read_to_string(
        fixtures().join("templates-testdata/origin-cmd/template_required_params.yaml"),
    )
    .unwrap();
    let (code, created) = app
        .send_raw(Method::POST, &templates("demo"), "application/yaml", &text)
        .await;
    assert_eq!(code, StatusCode::CREATED, "{created}");

    let body = instance_of(&app_template(), &[("NAME", "shop"), ("ADMIN_USER", "root")]);
    let resp = app
        .client
        .post(app.url(&template_instances("demo")))
        .header("Content-Type", "application/json")
        .header("Accept", "application/yaml")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/yaml")
    );
    let yaml = resp.text().await.unwrap();
    let parsed: Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(parsed["status"]["manifests"]["kind"], "List");
    assert_eq!(
        parsed["status"]["manifests"]["items"][1]["spec"]["replicas"],
        2
    );

    // JSON stays the default.
    let resp = app
        .client
        .get(app.url(&template("demo", "template")))
        .send()
        .await
        .unwrap();
    let json: Value = resp.json().await.unwrap();
    assert_eq!(json["metadata"]["name"], "template");
    app.stop().await;
}

#[tokio::test]
async fn every_library_template_loads_through_the_api_and_processes() {
    let app = app_with_project().await;
    let dir = fixtures().join("openshift-library/templates");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() > 50);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        // With kubectl's default `fieldValidation`: no field of OpenShift's files is unknown.
        let (code, created) = app
            .send_raw(
                Method::POST,
                &format!("{}?fieldValidation=Strict", templates("demo")),
                "application/json",
                &text,
            )
            .await;
        assert_eq!(code, StatusCode::CREATED, "{}: {created}", path.display());
        // Fill in what has no default, as a user would in the form.
        let mut template = created.clone();
        for p in template["parameters"].as_array_mut().unwrap() {
            let empty = p["value"].as_str().unwrap_or("").is_empty();
            if p["required"] == json!(true) && empty && p.get("generate").is_none() {
                p["value"] = json!("given");
            }
        }
        let (code, processed) = app.post(&processed_templates("demo"), &template).await;
        assert_eq!(code, StatusCode::CREATED, "{}: {processed}", path.display());
    }
    let (_, list) = app.get(&templates("demo")).await;
    assert!(list["items"].as_array().unwrap().len() > 50);
    app.stop().await;
}
