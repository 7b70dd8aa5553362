//! An ImageStreamTag applied server-side (`kubectl apply --server-side -f istag.yaml`) is its
//! stream's tag applied: the body's `tag` becomes the stream's `spec.tags[name=T]`, and the
//! fields are kept in the stream's own `managedFields`, so that a stream applier and a tag
//! applier who both name a tag's source conflict, as they change one field.
//!
//! Each tag's appliers are managers of their own: their entries carry `subresource:
//! imagestreamtags/{stream}:{tag}` (Kubernetes keeps a subresource's managers apart the same
//! way), so applying `ruby:latest` never lets go of what the same manager applied to
//! `ruby:3.3` or to the stream. The tag object shows the managers of its fields as the tag
//! names them (`tag.from.name`), and so do its conflicts.

use serde_json::{Value, json};
use tagstream_shared::imagestream::API_VERSION;
use tagstream_shared::{ImageStream, StreamTagName};

use super::Scope;
use super::fields_v1::{entries_of, to_fields_v1};
use super::paths::{FieldSet, Step, shown};

/// The field a tag object names a stream's tag by.
const TAG: &str = "tag";

/// The subresource a tag's appliers are recorded under.
pub fn subresource(name: &StreamTagName) -> String {
    format!("imagestreamtags/{name}")
}

/// The path of tag `tag` in its stream: `spec.tags[name=tag]`.
fn prefix(tag: &str) -> [Step; 3] {
    [
        Step::Field("spec".to_owned()),
        Step::Field("tags".to_owned()),
        Step::Key {
            field: "name".to_owned(),
            value: tag.to_owned(),
        },
    ]
}

impl Scope<'_> {
    /// The `subresource` of the entries of an apply through this scope.
    pub fn subresource(&self) -> Option<&str> {
        match self {
            Self::Object => None,
            Self::StreamTag { subresource, .. } => Some(subresource),
        }
    }

    /// A field of the stored object as the applier's object names it in a conflict.
    pub(super) fn show(&self, path: &[Step]) -> String {
        match self {
            Self::StreamTag { tag, .. } => match path.strip_prefix(&prefix(tag)[..]) {
                Some(rest) => format!(".{TAG}{}", shown(rest)),
                None => shown(path),
            },
            Self::Object => shown(path),
        }
    }
}

/// The stream apply that applying a tag object is: its `tag` (named for the tag, as the URL
/// names it) as the one tag of `stream`, with the body's `metadata.uid` as a precondition. A
/// tag's `generation` is the server's (a tag object read back carries it), never an
/// applier's.
pub fn stream_body(name: &StreamTagName, tag: &Value, uid: Option<&Value>) -> Value {
    let mut tag = tag.clone();
    if let Some(fields) = tag.as_object_mut() {
        fields.insert("name".to_owned(), json!(name.tag.as_str()));
        fields.remove("generation");
    }
    let mut metadata = json!({ "name": name.stream.as_str() });
    if let Some(uid) = uid {
        metadata["uid"] = uid.clone();
    }
    json!({
        "kind": "ImageStream",
        "apiVersion": API_VERSION,
        "metadata": metadata,
        "spec": {"tags": [tag]},
    })
}

/// The tag object's `managedFields`, from its stream's: each manager holding fields of the tag,
/// with those fields only, named as the tag object names them; the tag's own appliers without
/// their subresource (it is the object shown). `None` when no manager holds any.
pub fn tag_managed_fields(stream_managed: Option<&Value>, name: &StreamTagName) -> Option<Value> {
    let own = subresource(name);
    let prefix = prefix(name.tag.as_str());
    let mut out = Vec::new();
    for entry in entries_of(stream_managed) {
        let fields: FieldSet = entry
            .fields
            .iter()
            .filter_map(|p| p.strip_prefix(&prefix[..]))
            .map(|rest| {
                let mut path = vec![Step::Field(TAG.to_owned())];
                path.extend_from_slice(rest);
                path
            })
            .collect();
        if fields.is_empty() {
            continue;
        }
        let mut raw = entry.raw;
        raw["fieldsV1"] = to_fields_v1(&fields);
        if entry.subresource.as_deref() == Some(own.as_str())
            && let Some(fields) = raw.as_object_mut()
        {
            fields.remove("subresource");
        }
        out.push(raw);
    }
    (!out.is_empty()).then_some(Value::Array(out))
}

/// Resets the tag object's `managedFields` (Kubernetes' `[{}]`) in its stream's record: every
/// manager lets go of the tag's fields, and the tag's own appliers' entries go. Other tags'
/// and the stream's managers keep theirs: a tag writer clears what the tag object shows.
pub fn reset_tag(stream: &mut ImageStream, name: &StreamTagName) {
    let own = subresource(name);
    let prefix = prefix(name.tag.as_str());
    let extra = &mut stream.metadata.extra;
    let mut kept = Vec::new();
    for entry in entries_of(extra.get("managedFields")) {
        if entry.subresource.as_deref() == Some(own.as_str()) {
            continue;
        }
        let fields: FieldSet = entry
            .fields
            .iter()
            .filter(|p| !p.starts_with(&prefix[..]))
            .cloned()
            .collect();
        if fields.len() == entry.fields.len() {
            kept.push(entry.raw);
        } else if !fields.is_empty() {
            let mut raw = entry.raw;
            raw["fieldsV1"] = to_fields_v1(&fields);
            kept.push(raw);
        }
    }
    if kept.is_empty() {
        extra.remove("managedFields");
    } else {
        extra.insert("managedFields".to_owned(), Value::Array(kept));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apply::{ApplyOptions, Target, apply};
    use crate::error::ApiError;
    use tagstream_shared::Time;

    fn options(manager: &str, force: bool) -> ApplyOptions {
        ApplyOptions {
            manager: Some(manager.into()),
            force,
            user_agent: None,
        }
    }

    fn tag_apply(
        live: Option<&Value>,
        name: &StreamTagName,
        from: &str,
        options: &ApplyOptions,
    ) -> Result<Value, ApiError> {
        let sub = subresource(name);
        let target = Target {
            kind: "ImageStream",
            api_version: API_VERSION,
            scope: Scope::StreamTag {
                subresource: &sub,
                tag: name.tag.as_str(),
            },
        };
        let body = stream_body(
            name,
            &json!({"from": {"kind": "DockerImage", "name": from}}),
            None,
        );
        apply(target, live, &body, &body, options, Time::from_timestamp(0))
    }

    #[test]
    fn each_tag_s_appliers_are_their_own_managers_and_conflicts_name_the_tag_field() {
        let latest: StreamTagName = "ruby:latest".parse().expect("a name");
        let other: StreamTagName = "ruby:3.3".parse().expect("a name");
        let live = tag_apply(None, &latest, "x:1", &options("kubectl", false)).expect("creates");
        let live = tag_apply(Some(&live), &other, "x:3", &options("kubectl", false))
            .expect("another tag, the same manager");
        // Applying `latest` again leaves `3.3` (the same manager, another scope) alone.
        let live = tag_apply(Some(&live), &latest, "x:2", &options("kubectl", false))
            .expect("moves latest");
        assert_eq!(live["spec"]["tags"][1]["from"]["name"], "x:3");
        assert_eq!(live["spec"]["tags"][0]["from"]["name"], "x:2");
        let Err(ApiError::ApplyConflict { causes, .. }) =
            tag_apply(Some(&live), &latest, "x:9", &options("ci", false))
        else {
            panic!("another manager's value for the same field conflicts");
        };
        assert_eq!(causes[0].field.as_deref(), Some(".tag.from.name"));
        assert_eq!(
            causes[0].message,
            r#"conflict with "kubectl" using image.openshift.io/v1"#
        );
        // The same manager applying the stream is another manager: named with the subresource.
        let stream = json!({"kind": "ImageStream", "apiVersion": API_VERSION,
            "metadata": {"name": "ruby"},
            "spec": {"tags": [{"name": "latest", "from": {"kind": "DockerImage", "name": "y:1"}}]}});
        let target = Target {
            kind: "ImageStream",
            api_version: API_VERSION,
            scope: Scope::Object,
        };
        let now = Time::from_timestamp(0);
        let Err(ApiError::ApplyConflict { causes, .. }) = apply(
            target,
            Some(&live),
            &stream,
            &stream,
            &options("kubectl", false),
            now,
        ) else {
            panic!("the stream's applier conflicts with the tag's");
        };
        assert_eq!(
            causes[0].field.as_deref(),
            Some(r#".spec.tags[name="latest"].from.name"#)
        );
        assert_eq!(
            causes[0].message,
            r#"conflict with "kubectl" with subresource "imagestreamtags/ruby:latest" using image.openshift.io/v1"#
        );
        let shown =
            tag_managed_fields(live.pointer("/metadata/managedFields"), &latest).expect("managers");
        assert_eq!(
            shown,
            json!([{"manager": "kubectl", "operation": "Apply", "apiVersion": API_VERSION,
                "time": "1970-01-01T00:00:00Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:tag": {"f:from": {"f:kind": {}, "f:name": {}}, "f:name": {}}}}])
        );
    }
}
