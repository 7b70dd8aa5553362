//! The kind check holds on every write path, not only the typed creates: a Project or a `v2`
//! sent to the namespaces, a SubjectAccessReview sent as a self review, a User sent as a
//! token, a RoleBinding in protobuf whose envelope names another kind, and a TemplateInstance
//! whose `spec.template` is not a Template are refused (422 naming the field) and nothing is
//! made; an apply takes OpenShift's legacy `apiVersion: v1` as POST, PUT and merge patch do.

#![expect(clippy::unwrap_used, reason = "test set-up failing is a test failure")]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tagstream_shared::paths;

use crate::api_labels::fields;
use crate::support::TestApp;

const NAMESPACES: &str = "/api/v1/namespaces";
const REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/// The message of a 422's one cause.
fn cause_message(body: &Value) -> &str {
    body["details"]["causes"][0]["message"].as_str().unwrap()
}

#[tokio::test]
async fn namespaces_self_reviews_and_tokens_refuse_another_kind() {
    let app = TestApp::start().await;
    let project = json!({"kind": "Project", "apiVersion": "project.openshift.io/v1",
        "metadata": {"name": "p1"}});
    let (code, body) = app.post(NAMESPACES, &project).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body), ["kind", "apiVersion"]);
    let v2 = json!({"kind": "Namespace", "apiVersion": "v2", "metadata": {"name": "p2"}});
    let (code, body) = app.post(NAMESPACES, &v2).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        cause_message(&body).ends_with(r#"supported values: "v1""#),
        "{body}"
    );
    for name in ["p1", "p2"] {
        let (code, _) = app.get(&paths::project(name)).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "no project {name} was made");
    }
    let namespace = json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "p3"}});
    let (code, body) = app.post(NAMESPACES, &namespace).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");

    let review = |kind: &str, api_version: &str| {
        json!({"kind": kind, "apiVersion": api_version, "spec": {"resourceAttributes":
            {"namespace": "p3", "verb": "get", "resource": "imagestreams",
             "group": "image.openshift.io"}}})
    };
    for (kind, api_version, field) in [
        ("SubjectAccessReview", "authorization.k8s.io/v1", "kind"),
        (
            "SelfSubjectAccessReview",
            "authorization.k8s.io/v1beta1",
            "apiVersion",
        ),
    ] {
        let (code, body) = app.post(REVIEWS, &review(kind, api_version)).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(fields(body), [field]);
    }
    let ssar = review("SelfSubjectAccessReview", "authorization.k8s.io/v1");
    let (code, body) = app.post(REVIEWS, &ssar).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"]["allowed"], true);

    let tokens = paths::tokens("admin");
    let (_, before) = app.get(&tokens).await;
    let user = json!({"kind": "User", "apiVersion": "user.openshift.io/v1",
        "spec": {"description": "not a token"}});
    let (code, body) = app.post(&tokens, &user).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body), ["kind"]);
    let (_, after) = app.get(&tokens).await;
    assert_eq!(after["items"], before["items"], "no token was made");
    // A token as it is answered, and as its path serves it, are both tokens.
    for api_version in ["tagstream.io/v1", "user.openshift.io/v1"] {
        let token = json!({"kind": "Token", "apiVersion": api_version, "spec": {}});
        let (code, body) = app.post(&tokens, &token).await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_template_instance_s_template_must_be_a_template() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let instance = |name: &str, kind: &str, api_version: &str| {
        json!({"kind": "TemplateInstance", "apiVersion": "template.openshift.io/v1",
            "metadata": {"name": name},
            "spec": {"template": {"kind": kind, "apiVersion": api_version,
                "metadata": {"name": "t"},
                "objects": [{"kind": "ImageStream", "apiVersion": "image.openshift.io/v1",
                             "metadata": {"name": format!("from-{name}")}}]}}})
    };
    let instances = paths::template_instances("demo");
    let stream = instance("ti", "ImageStream", "image.openshift.io/v1");
    let (code, body) = app.post(&instances, &stream).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        fields(body.clone()),
        ["spec.template.kind", "spec.template.apiVersion"]
    );
    // A kind served twice (templates, processed templates) is named once.
    assert!(
        body["details"]["causes"][1]["message"]
            .as_str()
            .unwrap()
            .ends_with(r#"supported values: "template.openshift.io/v1", "v1""#),
        "{body}"
    );
    let (code, _) = app.get(&paths::template_instance("demo", "ti")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "no instance was stored");
    let (code, _) = app.get(&paths::imagestream("demo", "from-ti")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "nothing was instantiated");

    // A Template, in OpenShift's legacy v1 too, is instantiated.
    let legacy = instance("legacy", "Template", "v1");
    let (code, body) = app.post(&instances, &legacy).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, _) = app.get(&paths::imagestream("demo", "from-legacy")).await;
    assert_eq!(code, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn an_apply_takes_the_legacy_api_version_as_every_other_write() {
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let client = &app;
    let apply = |name: &str, api_version: Option<&str>| {
        let path = format!("{}?fieldManager=ci", paths::imagestream("demo", name));
        let mut body = json!({"kind": "ImageStream", "metadata": {"name": name,
            "labels": {"team": "web"}}});
        if let Some(v) = api_version {
            body["apiVersion"] = json!(v);
        }
        let body = body.to_string();
        async move {
            client
                .send_raw(Method::PATCH, &path, "application/apply-patch+yaml", &body)
                .await
        }
    };
    let (code, created) = apply("legacy", Some("v1")).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["apiVersion"], "image.openshift.io/v1");
    let (_, stored) = app.get(&paths::imagestream("demo", "legacy")).await;
    assert_eq!(stored["apiVersion"], "image.openshift.io/v1");
    assert_eq!(stored["metadata"]["labels"]["team"], "web");
    let (code, body) = apply("legacy", Some("v1")).await;
    assert_eq!(code, StatusCode::OK, "an apply over it: {body}");

    // Another version is refused as a POST is; an apply must still say one.
    let (code, body) = apply("v2", Some("image.openshift.io/v2")).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(body), ["apiVersion"]);
    let (code, body) = apply("unsaid", None).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
    for name in ["v2", "unsaid"] {
        let (code, _) = app.get(&paths::imagestream("demo", name)).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "no stream {name}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_protobuf_role_binding_of_another_kind_is_refused() {
    use crate::api_labels::pb;
    let app = TestApp::start().await;
    app.create_project("demo").await;
    let subject = [pb(1, b"User"), pb(3, b"u")].concat();
    let role = [pb(2, b"ClusterRole"), pb(3, b"view")].concat();
    let binding = [pb(1, &pb(1, b"rb")), pb(2, &subject), pb(3, &role)].concat();
    let type_meta = [
        pb(1, b"rbac.authorization.k8s.io/v1"),
        pb(2, b"ClusterRoleBinding"),
    ]
    .concat();
    let body = [b"k8s\0".to_vec(), pb(1, &type_meta), pb(2, &binding)].concat();
    let resp = crate::support::client_with_token(crate::support::ADMIN_TOKEN)
        .post(app.url(&paths::rolebindings("demo")))
        .header("Content-Type", "application/vnd.kubernetes.protobuf")
        .body(body)
        .send()
        .await
        .unwrap();
    let code = resp.status();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(fields(answer), ["kind"]);
    let (code, _) = app.get(&paths::rolebinding("demo", "rb")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "no binding was made");
    app.stop().await;
}
