//! Workload image triggers: OpenShift's `image.openshift.io/triggers` annotation on a Deployment
//! (or any workload) says which container follows which stream tag. tagstream reads them so a
//! tag page can say who follows it; applying them to a cluster is a later step.

use crate::imagestream::ObjectReference;

/// The annotation OpenShift's trigger controller reads.
pub const TRIGGERS_ANNOTATION: &str = "image.openshift.io/triggers";

crate::meta::wire_struct! {
    /// One entry of the annotation.
    pub struct ImageTrigger {
        /// The stream tag followed (`kind: ImageStreamTag`, `name: stream:tag`).
        pub from: ObjectReference,
        /// `spec.template.spec.containers[?(@.name=="web")].image`.
        pub field_path: String = default,
        /// Whether following is paused.
        pub paused: bool = default,
    }
}

impl ImageTrigger {
    /// The container the field path names, if it names one by `@.name==`.
    pub fn container(&self) -> Option<String> {
        let start = self.field_path.find("@.name==")? + "@.name==".len();
        let rest = &self.field_path[start..];
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let inner = &rest[1..];
        inner.find(quote).map(|end| inner[..end].to_owned())
    }
}

crate::meta::wire_struct! {
    /// A workload that follows a stream tag: "followed by Deployment web (container ruby)".
    #[derive(Eq)]
    pub struct Follower {
        /// The workload's kind (`Deployment`).
        pub kind: String,
        /// The workload's name.
        pub name: String,
        /// The container that follows the tag, when the field path names one.
        pub container?: Option<String>,
        /// `stream:tag` it follows.
        pub tag: String,
        /// The project of the stream when not the workload's own.
        pub namespace?: Option<String>,
        /// Whether following is paused.
        pub paused: bool = default,
    }
}

/// Parses the annotation's JSON list; a malformed value is an error naming why.
pub fn parse_triggers(annotation: &str) -> Result<Vec<ImageTrigger>, String> {
    serde_json::from_str(annotation).map_err(|e| format!("not a list of image triggers: {e}"))
}

/// The followers a (processed) object declares: none when it has no annotation; entries that
/// do not name an `ImageStreamTag` are skipped.
pub fn followers_of(object: &serde_json::Value) -> Result<Vec<Follower>, String> {
    let Some(annotation) = object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(TRIGGERS_ANNOTATION))
        .and_then(serde_json::Value::as_str)
    else {
        return Ok(Vec::new());
    };
    let kind = object["kind"].as_str().unwrap_or_default().to_owned();
    let name = object
        .pointer("/metadata/name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(parse_triggers(annotation)?
        .into_iter()
        .filter(|t| t.from.kind == "ImageStreamTag")
        .map(|t| Follower {
            kind: kind.clone(),
            name: name.clone(),
            container: t.container(),
            tag: t.from.name.clone(),
            namespace: t.from.namespace.clone().filter(|n| !n.is_empty()),
            paused: t.paused,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_annotation_names_its_container_and_tag() {
        let d = serde_json::json!({
            "kind": "Deployment",
            "metadata": {"name": "frontend", "annotations": {TRIGGERS_ANNOTATION:
                r#"[{"from":{"kind":"ImageStreamTag","name":"ruby:latest"},"fieldPath":"spec.template.spec.containers[?(@.name==\"web\")].image"},
                    {"from":{"kind":"DockerImage","name":"x"},"fieldPath":"spec"}]"#}}
        });
        let f = followers_of(&d).expect("parses");
        assert_eq!(
            f,
            [Follower {
                kind: "Deployment".into(),
                name: "frontend".into(),
                container: Some("web".into()),
                tag: "ruby:latest".into(),
                namespace: None,
                paused: false,
            }]
        );
        let single = ImageTrigger {
            from: ObjectReference::default(),
            field_path: "spec.template.spec.containers[?(@.name=='app')].image".into(),
            paused: false,
        };
        assert_eq!(single.container().as_deref(), Some("app"));
    }

    #[test]
    fn no_annotation_is_no_follower_and_a_bad_one_is_an_error() {
        assert!(
            followers_of(&serde_json::json!({"kind": "Service"}))
                .expect("ok")
                .is_empty()
        );
        let bad = serde_json::json!({"metadata": {"annotations": {TRIGGERS_ANNOTATION: "{"}}});
        assert!(followers_of(&bad).is_err());
    }
}
