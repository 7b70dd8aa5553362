//! OpenAPI v3 as the Kubernetes apiserver serves it: `/openapi/v3` lists one document per
//! group-version, and each document has the paths of that group-version's resources (with the
//! `x-kubernetes-group-version-kind` and `x-kubernetes-action` extensions and the query
//! parameters the server takes) and one schema per kind. kubectl reads the PATCH operation's
//! parameters to learn that the server validates fields itself (`fieldValidation`), and
//! `kubectl explain` reads the schemas.
//!
//! Everything comes from the catalogue; the schemas are generated from the wire types
//! ([`schemas`]).

use serde_json::{Map, Value, json};

pub mod schemas;

use crate::discovery::served;
use crate::object::{ApiResource, Scope};

/// `/openapi/v3`: where each group-version's document is; `hash` names a document's version
/// (its content's digest), which clients cache it under.
pub fn root(hash: impl Fn(&str) -> String) -> Value {
    let mut paths = Map::new();
    for gv in group_versions() {
        let path = document_path(gv);
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={}", hash(gv))}),
        );
    }
    json!({ "paths": paths })
}

/// Where a group-version's document is under `/openapi/v3/`: `apis/{group}/{version}`, or
/// `api/v1` for the core group.
pub fn document_path(group_version: &str) -> String {
    match group_version.contains('/') {
        true => format!("apis/{group_version}"),
        false => format!("api/{group_version}"),
    }
}

/// Every served `group/version`, in catalogue order.
pub fn group_versions() -> Vec<&'static str> {
    let mut out: Vec<&str> = Vec::new();
    for r in served() {
        if !out.contains(&r.api_version) {
            out.push(r.api_version);
        }
    }
    out
}

fn gvk(r: &ApiResource) -> Value {
    json!([{"group": r.group, "version": r.version, "kind": r.kind}])
}

fn query(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string"}, "uniqueItems": true})
}

/// The parameters a write takes.
fn write_parameters() -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "When present (All), the change is checked but not stored.",
        ),
        query(
            "fieldManager",
            "The name of the actor making the change (server-side apply).",
        ),
        query(
            "fieldValidation",
            "Ignore, Warn or Strict: what to do with unknown or duplicate fields.",
        ),
    ]
}

fn list_parameters() -> Vec<Value> {
    [
        ("continue", "The token of the previous chunk."),
        ("fieldSelector", "metadata.name or metadata.namespace."),
        ("labelSelector", "Objects whose labels match."),
        ("limit", "At most this many objects per answer."),
        ("resourceVersion", "Watch from this version."),
        ("timeoutSeconds", "End a watch after this long."),
        ("watch", "Stream changes."),
    ]
    .into_iter()
    .map(|(n, d)| query(n, d))
    .collect()
}

fn operation(r: &ApiResource, action: &str, parameters: Vec<Value>, reference: &str) -> Value {
    json!({
        "description": format!("{action} {}", r.kind),
        "operationId": format!("{action}{}", r.kind),
        "tags": [r.api_version],
        "parameters": parameters,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": reference}}}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(r)[0].clone(),
    })
}

/// The document for `group_version` (`image.openshift.io/v1`), if served.
pub fn document(group_version: &str) -> Option<Value> {
    let resources: Vec<&ApiResource> = served()
        .filter(|r| r.api_version == group_version)
        .collect();
    if resources.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    let (schemas, names) = schemas::components(&resources);
    for (r, name) in resources.into_iter().zip(names) {
        let reference = format!("#/components/schemas/{name}");
        let prefix = match r.scope {
            Scope::Namespaced => r.collection(Some("{namespace}")),
            Scope::Cluster => r.collection(None),
        };
        let has = |v: crate::access::Verb| r.verbs.contains(&v);
        use crate::access::Verb as V;
        let mut collection = Map::new();
        if has(V::List) {
            collection.insert(
                "get".into(),
                // A list answers the kind's List (`ImageStreamList`), added beside the kind.
                operation(
                    r,
                    "list",
                    list_parameters(),
                    &format!("#/components/schemas/{}List", r.kind),
                ),
            );
        }
        if has(V::Create) {
            collection.insert(
                "post".into(),
                operation(r, "post", write_parameters(), &reference),
            );
        }
        if !collection.is_empty() {
            paths.insert(prefix.clone(), Value::Object(collection));
        }
        let mut item = Map::new();
        if has(V::Get) {
            item.insert("get".into(), operation(r, "get", Vec::new(), &reference));
        }
        if has(V::Update) {
            item.insert(
                "put".into(),
                operation(r, "put", write_parameters(), &reference),
            );
        }
        if has(V::Patch) {
            item.insert(
                "patch".into(),
                operation(r, "patch", write_parameters(), &reference),
            );
        }
        if has(V::Delete) {
            item.insert(
                "delete".into(),
                operation(r, "delete", write_parameters(), &reference),
            );
        }
        if !item.is_empty() {
            paths.insert(format!("{prefix}/{{name}}"), Value::Object(item));
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "tagstream", "version": group_version},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_operations_say_the_server_validates_fields() {
        let doc = document("image.openshift.io/v1").expect("served");
        let op = &doc["paths"]["/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams/{name}"]
            ["patch"];
        assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "ImageStream");
        let names: Vec<_> = op["parameters"]
            .as_array()
            .expect("params")
            .iter()
            .map(|p| p["name"].clone())
            .collect();
        assert!(names.contains(&json!("fieldValidation")), "{names:?}");
        let list = &doc["paths"]["/apis/image.openshift.io/v1/namespaces/{namespace}/imagestreams"]
            ["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(list, "#/components/schemas/ImageStreamList");
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["ImageStreamList"]["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/ImageStream"
        );
        let root = root(|_| "h".into());
        assert!(root["paths"]["apis/image.openshift.io/v1"]["serverRelativeURL"].is_string());
        assert!(document("apps/v1").is_none());
    }
}
