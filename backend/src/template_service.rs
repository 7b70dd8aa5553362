//! The rules for templates and template instances as they are written: server-set metadata on
//! create and update, and what instantiation makes of a processed template: the image streams to
//! create in the project, the instance to record (generated values masked), and the other
//! objects for `kubectl apply -f`. Pure functions over objects, and [`process_bounded`], which
//! runs the shared engine off the async threads with a deadline.

use serde_json::{Value, json};
use tagstream_shared::imagestream::ObjectReference;
use tagstream_shared::template::process::{process, validate_template};
use tagstream_shared::template::{
    API_VERSION, TemplateInstanceObject, TemplateInstanceStatus, object_list,
};
use tagstream_shared::validation::validate_image_stream;
use tagstream_shared::{
    FieldError, ImageStream, ProjectName, StreamName, Template, TemplateInstance, Time,
};

use crate::error::ApiError;

/// How long processing one template may take. The engine is linear and its output bounded, so
/// this is far above what any template needs; it keeps a request from holding a blocking thread
/// (and its caller) without end if that ever stops being true.
pub const PROCESS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Processes `template` with the shared engine on a blocking thread, so that a large template
/// does not stall the async threads other requests run on. Field errors (missing parameters,
/// limits) come back for the caller to word; over [`PROCESS_DEADLINE`] is a 504 `Status`.
pub async fn process_bounded(
    template: Template,
) -> Result<Result<Template, Vec<FieldError>>, ApiError> {
    let work = tokio::task::spawn_blocking(move || process(&template));
    match tokio::time::timeout(PROCESS_DEADLINE, work).await {
        Ok(done) => done.map_err(|e| ApiError::Internal(Box::new(e))),
        Err(_) => Err(ApiError::Timeout(format!(
            "processing the template took longer than the {}-second limit",
            PROCESS_DEADLINE.as_secs()
        ))),
    }
}

pub use tagstream_shared::template::MASKED;

/// The resourceVersion a write is conditioned on: required, and a number.
pub fn expected_version(kind: &'static str, name: &str, rv: Option<&str>) -> Result<u64, ApiError> {
    let field = "metadata.resourceVersion";
    let rv = rv.unwrap_or_default();
    let error = |e: FieldError| ApiError::Invalid {
        kind,
        name: name.into(),
        errors: vec![e],
    };
    if rv.is_empty() {
        return Err(error(FieldError::required(
            field,
            "must be specified for an update",
        )));
    }
    rv.parse().map_err(|_| {
        error(FieldError::invalid(
            field,
            rv,
            "must be the resourceVersion the object was read at",
        ))
    })
}

/// Checks the template inside an instance request; fields are named from the instance.
pub fn validate_instance_template(template: &Template) -> Vec<FieldError> {
    validate_template(template)
        .into_iter()
        .filter(|e| e.field != "metadata.name")
        .map(|e| FieldError {
            field: format!("spec.template.{}", e.field),
            ..e
        })
        .collect()
}

/// What instantiating a processed template in `ns` comes to.
#[derive(Debug)]
pub struct Plan {
    /// The image streams to create, ready to store.
    pub streams: Vec<(StreamName, ImageStream)>,
    /// The instance as stored: generated values masked, no manifests.
    pub record: TemplateInstance,
    /// The instance as answered to its creator: real values, the manifests and the message.
    pub answer: TemplateInstance,
}

fn is_image_stream(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some(ImageStream::KIND)
        && object.get("apiVersion").and_then(Value::as_str)
            == Some(tagstream_shared::imagestream::API_VERSION)
}

fn reference(object: &Value, ns: &ProjectName, uid: Option<&str>) -> TemplateInstanceObject {
    // The text at a JSON pointer of the object, empty when there is none.
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let mut r = ObjectReference {
        kind: text("/kind").to_owned(),
        namespace: Some(ns.to_string()),
        name: text("/metadata/name").to_owned(),
        ..ObjectReference::default()
    };
    r.extra
        .insert("apiVersion".into(), json!(text("/apiVersion")));
    if let Some(uid) = uid {
        r.extra.insert("uid".into(), json!(uid));
    }
    TemplateInstanceObject { reference: r }
}

/// Plans the instance `request` (already named `name`) from its `processed` template. Image
/// streams among the objects are checked as if created one by one; a stream may only name the
/// instance's project.
pub fn plan_instance(
    mut request: TemplateInstance,
    name: &str,
    processed: Template,
    ns: &ProjectName,
    now: Time,
) -> Result<Plan, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut streams = Vec::new();
    let mut refs = Vec::new();
    let mut manifests = Vec::new();
    let mut followers = Vec::new();
    // Named after the objects' own errors (a bad name first), and all of them.
    let mut label_errors = Vec::new();
    for (i, object) in processed.objects.iter().enumerate() {
        let field = format!("spec.template.objects[{i}]");
        // Labels and annotations as every body is held to (`body::decode`): parameters and
        // the template's labels are filled in here, after the request was decoded.
        label_errors.extend(
            tagstream_shared::qualified::metadata_errors(object)
                .into_iter()
                .map(|e| FieldError {
                    field: format!("{field}.{}", e.field),
                    ..e
                }),
        );
        if !is_image_stream(object) {
            match tagstream_shared::workload::followers_of(object) {
                Ok(found) => followers.extend(found),
                Err(e) => errors.push(FieldError::invalid(
                    format!(
                        "{field}.metadata.annotations[{}]",
                        tagstream_shared::workload::TRIGGERS_ANNOTATION
                    ),
                    "",
                    e,
                )),
            }
            refs.push(reference(object, ns, None));
            manifests.push(object.clone());
            continue;
        }
        let stream: ImageStream = match serde_json::from_value(object.clone()) {
            Ok(s) => s,
            Err(e) => {
                errors.push(FieldError::invalid(field, "", e));
                continue;
            }
        };
        if let Some(other) = stream
            .metadata
            .namespace
            .as_deref()
            .filter(|n| *n != ns.as_str())
        {
            errors.push(FieldError::invalid(
                format!("{field}.metadata.namespace"),
                other,
                format!("image streams are created in the instance's project ({ns})"),
            ));
            continue;
        }
        let stream_errors = validate_image_stream(&stream, ns.as_str());
        if !stream_errors.is_empty() {
            errors.extend(stream_errors.into_iter().map(|e| FieldError {
                field: format!("{field}.{}", e.field),
                ..e
            }));
            continue;
        }
        let Ok(stream_name) = stream.metadata.name().parse::<StreamName>() else {
            continue;
        };
        if streams.iter().any(|(n, _)| *n == stream_name) {
            errors.push(FieldError::duplicate(
                format!("{field}.metadata.name"),
                stream_name.as_str(),
            ));
            continue;
        }
        let stream = crate::service::stream_for_create(stream, ns.as_str(), now);
        refs.push(reference(object, ns, stream.metadata.uid.as_deref()));
        streams.push((stream_name, stream));
    }
    errors.extend(label_errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    request.kind = TemplateInstance::KIND.into();
    request.api_version = API_VERSION.into();
    request.metadata.name = Some(name.to_owned());
    request.metadata.generate_name = None;
    request.metadata.namespace = Some(ns.to_string());
    request.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
    request.metadata.creation_timestamp = Some(now);
    request.metadata.resource_version = None;
    request.metadata.keep_server_owned(None);
    request.spec.template.parameters = processed.parameters.clone();
    let created = streams.len();
    request.status = TemplateInstanceStatus {
        conditions: vec![json!({
            "type": "Ready",
            "status": "True",
            "reason": "Created",
            "message": format!(
                "{created} image stream(s) created; {} other object(s) to apply with kubectl",
                manifests.len()
            ),
            "lastTransitionTime": now,
        })],
        objects: refs,
        followers,
        ..TemplateInstanceStatus::default()
    };
    let mut record = request.clone();
    record.mask_generated();
    let mut answer = request;
    answer.status.manifests = Some(object_list(manifests));
    if let Some(message) = processed.message {
        answer.status.extra.insert("message".into(), json!(message));
    }
    Ok(Plan {
        streams,
        record,
        answer,
    })
}

/// A name for an instance that gave only `metadata.generateName`: the prefix and 5 random
/// lower-case letters and digits, as Kubernetes does.
pub fn generated_name(prefix: &str) -> String {
    let suffix = tagstream_shared::template::generate::generate("[a-z0-9]{5}").unwrap_or_default();
    format!("{prefix}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagstream_shared::Parameter;

    fn request() -> TemplateInstance {
        let template: Template = serde_json::from_value(json!({
            "kind": "Template",
            "apiVersion": "template.openshift.io/v1",
            "metadata": {"name": "t"},
            "message": "password ${PASSWORD}",
            "objects": [
                {"kind": "ImageStream", "apiVersion": "v1", "metadata": {"name": "${NAME}"}},
                {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s"},
                 "stringData": {"password": "${PASSWORD}"}}
            ],
            "parameters": [
                {"name": "NAME", "value": "app"},
                {"name": "PASSWORD", "generate": "expression", "from": "[a-z]{12}"}
            ]
        }))
        .unwrap_or_default();
        TemplateInstance {
            spec: tagstream_shared::template::TemplateInstanceSpec {
                template,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn streams_are_created_secrets_masked_and_other_objects_returned() {
        let ns: ProjectName = "demo".parse().expect("valid");
        let request = request();
        let processed = process(&request.spec.template).expect("processes");
        let plan =
            plan_instance(request, "i", processed, &ns, Time::from_timestamp(0)).expect("plans");
        assert_eq!(plan.streams.len(), 1);
        assert_eq!(plan.streams[0].0.as_str(), "app");
        let stored: Vec<&str> = plan
            .record
            .spec
            .template
            .parameters()
            .iter()
            .map(Parameter::value)
            .collect();
        assert_eq!(stored, ["app", MASKED]);
        let answered = plan.answer.spec.template.parameters()[1].value().to_owned();
        assert_eq!(answered.len(), 12);
        let manifests = plan.answer.status.manifests.expect("manifests");
        assert_eq!(manifests["kind"], "List");
        assert_eq!(
            manifests["items"][0]["stringData"]["password"],
            json!(answered)
        );
        assert!(plan.record.status.manifests.is_none());
        assert_eq!(plan.record.status.objects.len(), 2);
    }
}
