//! The schemas of an OpenAPI document, generated from the wire types (`schemars`, in OpenAPI
//! 3.0 form): descriptions are the types' and fields' doc comments. Each served resource's
//! object type is found through [`TYPES`]; its schema carries the resource's
//! `x-kubernetes-group-version-kind`, and a list kind (`ImageStreamList`) is added for each
//! resource that can be listed, as the Kubernetes apiserver publishes them.

use schemars::JsonSchema;
use schemars::r#gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::{RootSchema, Schema};
use serde_json::{Map, Value, json};

use crate::access::Verb;
use crate::object::ApiResource;
use crate::resources as res;

/// Makes a type that is written as a JSON string (a name, a time, a digest) a string schema.
#[macro_export]
macro_rules! string_schema {
    ($ty:ty $(, $format:literal)?) => {
        impl schemars::JsonSchema for $ty {
            fn is_referenceable() -> bool {
                false
            }
            fn schema_name() -> String {
                "string".into()
            }
            fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                schemars::schema::SchemaObject {
                    instance_type: Some(schemars::schema::InstanceType::String.into()),
                    $(format: Some($format.into()),)?
                    ..Default::default()
                }
                .into()
            }
        }
    };
}

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn of<T: JsonSchema>(g: &mut SchemaGenerator) -> Schema {
    g.subschema_for::<T>()
}

/// The object type of each resource: the one place a resource meets its Rust type for
/// schemas. The catalogue (`crate::resources::ALL`) says which resources are served; a test
/// checks that every served one is here.
const TYPES: &[(&ApiResource, SchemaFn)] = &[
    (&res::PROJECTS, of::<crate::Project>),
    // OpenShift serves projects as core v1 Namespaces too: the same object.
    (&res::NAMESPACES, of::<crate::Project>),
    (&res::IMAGESTREAMS, of::<crate::ImageStream>),
    (&res::IMAGESTREAMTAGS, of::<crate::ImageStreamTag>),
    (&res::IMAGESTREAMIMAGES, of::<crate::ImageStreamImage>),
    (&res::IMAGESTREAMIMPORTS, of::<crate::ImageStreamImport>),
    (&res::TEMPLATES, of::<crate::Template>),
    (&res::PROCESSEDTEMPLATES, of::<crate::Template>),
    (&res::TEMPLATEINSTANCES, of::<crate::TemplateInstance>),
    (&res::SAMPLES_CONFIGS, of::<crate::SamplesConfig>),
    (&res::USERS, of::<crate::user::User>),
    (&res::GROUPS, of::<crate::user::Group>),
    (&res::ROLEBINDINGS, of::<crate::user::RoleBinding>),
    (&res::TRIGGERS, of::<crate::trigger::Trigger>),
    (&res::AUDITEVENTS, of::<crate::user::AuditEvent>),
    (&res::EVENTS, of::<crate::event::Event>),
    (
        &res::SELFSUBJECTACCESSREVIEWS,
        of::<crate::review::SelfSubjectAccessReview>,
    ),
    (
        &res::SELFSUBJECTREVIEWS,
        of::<crate::review::SelfSubjectReview>,
    ),
    (
        &res::SELFSUBJECTREVIEWS_V1BETA1,
        of::<crate::review::SelfSubjectReview>,
    ),
];

/// Whether `r` has a schema (every served resource must).
pub fn has_type(r: &ApiResource) -> bool {
    TYPES.iter().any(|(t, _)| *t == r)
}

/// `components.schemas` for `resources` (one group-version's), and the schema name of each
/// resource's objects, in the same order.
pub fn components(resources: &[&ApiResource]) -> (Map<String, Value>, Vec<String>) {
    let mut g = SchemaSettings::openapi3().into_generator();
    let list_meta = reference_name(&of::<crate::ListMeta>(&mut g));
    let mut names = Vec::new();
    for r in resources {
        let schema = TYPES
            .iter()
            .find(|(t, _)| t == r)
            .map(|(_, schema)| schema(&mut g));
        names.push(schema.as_ref().map(reference_name).unwrap_or_default());
    }
    let mut root = RootSchema {
        meta_schema: None,
        schema: Default::default(),
        definitions: g.take_definitions(),
    };
    for visitor in g.visitors_mut() {
        visitor.visit_root_schema(&mut root);
    }
    let mut schemas = Map::new();
    for (name, schema) in root.definitions {
        let mut value = serde_json::to_value(schema).unwrap_or_default();
        tidy(&mut value);
        schemas.insert(name, value);
    }
    for (r, name) in resources.iter().zip(&names) {
        let Some(Value::Object(schema)) = schemas.get_mut(name) else {
            continue;
        };
        add_gvk(schema, r, r.kind);
        if r.verbs.contains(&Verb::List) {
            let list = list_schema(r, name, &list_meta);
            schemas.insert(format!("{}List", r.kind), list);
        }
    }
    (schemas, names)
}

/// `ImageStream` of `#/components/schemas/ImageStream`.
fn reference_name(schema: &Schema) -> String {
    match schema {
        Schema::Object(o) => o.reference.as_deref().unwrap_or_default(),
        Schema::Bool(_) => "",
    }
    .rsplit('/')
    .next()
    .unwrap_or_default()
    .to_owned()
}

fn add_gvk(schema: &mut Map<String, Value>, r: &ApiResource, kind: &str) {
    let gvk = json!({"group": r.group, "version": r.version, "kind": kind});
    let entry = schema
        .entry("x-kubernetes-group-version-kind")
        .or_insert_with(|| json!([]));
    if let Value::Array(list) = entry
        && !list.contains(&gvk)
    {
        list.push(gvk);
    }
}

fn list_schema(r: &ApiResource, item: &str, list_meta: &str) -> Value {
    let mut list = json!({
        "description": format!("A list of {}.", r.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": "The versioned schema of this representation of an object (group/version)."},
            "kind": {"type": "string", "description": "The kind of object this is (CamelCase)."},
            "metadata": {"description": "Standard list metadata.", "allOf": [{"$ref": format!("#/components/schemas/{list_meta}")}]},
            "items": {"description": format!("The {}.", r.plural), "type": "array",
                      "items": {"$ref": format!("#/components/schemas/{item}")}},
        },
    });
    if let Value::Object(o) = &mut list {
        add_gvk(o, r, &format!("{}List", r.kind));
    }
    list
}

/// Writes what schemars leaves open as Kubernetes does: fields kept without a model (a
/// flattened map, `additionalProperties: true` beside `properties`) and free-form JSON (`{}`)
/// become `x-kubernetes-preserve-unknown-fields`; kubectl's `explain` templates read every
/// schema as an object, and a boolean schema stops them.
fn tidy(value: &mut Value) {
    let Value::Object(o) = value else {
        return;
    };
    if o.is_empty() {
        o.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
        return;
    }
    let open = matches!(o.get("additionalProperties"), Some(Value::Bool(true)))
        || matches!(o.get("additionalProperties"), Some(Value::Object(m)) if m.is_empty());
    if open && o.contains_key("properties") {
        o.remove("additionalProperties");
        o.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
    }
    for (key, child) in o.iter_mut() {
        match (key.as_str(), child) {
            ("properties", Value::Object(props)) => props.values_mut().for_each(tidy),
            ("items" | "additionalProperties", c @ Value::Object(_)) => tidy(c),
            ("allOf" | "anyOf" | "oneOf", Value::Array(list)) => list.iter_mut().for_each(tidy),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_resource_has_a_schema() {
        for r in crate::discovery::served() {
            assert!(
                has_type(r),
                "{} has no schema in openapi::schemas::TYPES",
                r
            );
        }
    }

    /// `kubectl explain` prints a field's description: every field of every schema of every
    /// document has one, written as the field's doc comment.
    #[test]
    fn every_field_of_every_served_kind_is_described() {
        let mut undescribed = Vec::new();
        for gv in crate::openapi::group_versions() {
            let doc = crate::openapi::document(gv).expect("served");
            let schemas = doc["components"]["schemas"].as_object().expect("schemas");
            for (name, schema) in schemas {
                let fields = schema["properties"].as_object().into_iter().flatten();
                for (field, property) in fields {
                    let text = property["description"].as_str().unwrap_or_default();
                    if text.trim().is_empty() {
                        undescribed.push(format!("{gv} {name}.{field}"));
                    }
                }
            }
        }
        assert_eq!(
            undescribed,
            Vec::<String>::new(),
            "fields without a description"
        );
    }

    #[test]
    fn a_stream_s_tags_are_described_from_the_doc_comments() {
        let (schemas, names) = components(&[&res::IMAGESTREAMS]);
        assert_eq!(names, ["ImageStream"]);
        let stream = &schemas["ImageStream"];
        assert_eq!(
            stream["x-kubernetes-group-version-kind"][0]["kind"],
            "ImageStream"
        );
        assert_eq!(
            schemas["ImageStreamList"]["x-kubernetes-group-version-kind"][0]["kind"],
            "ImageStreamList"
        );
        let spec = &schemas["ImageStreamSpec"];
        let tags = &spec["properties"]["tags"];
        assert!(tags["description"].as_str().is_some_and(|d| !d.is_empty()));
        let tag = &schemas["TagReference"]["properties"];
        for field in ["name", "from", "importPolicy", "referencePolicy"] {
            assert!(tag.get(field).is_some(), "{field}: {tag}");
        }
        // Fields kept without a model are open, as Kubernetes marks them.
        assert_eq!(stream["x-kubernetes-preserve-unknown-fields"], true);
        assert!(stream.get("additionalProperties").is_none());
    }
}
