//! Object validation, the same functions for the console's forms and the server's 422 answers.
//! Each error names its field by the path Kubernetes uses (`spec.tags[0].from.name`).

use std::collections::HashSet;
use std::fmt;

use crate::imagestream::{ImageStream, ImageStreamStatus, SourceKind};
use crate::meta::ObjectMeta;
use crate::names::{ProjectName, StreamName, StreamTagName, TagName};
use crate::project::Project;
use crate::reference::{Digest, ImageReference};
use crate::status::{CauseType, StatusCause};

/// One bad field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub kind: CauseType,
    /// The value as given, when quoting it helps.
    pub value: Option<String>,
    pub detail: String,
}

impl FieldError {
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            kind: CauseType::FieldValueRequired,
            value: None,
            detail: detail.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, value: &str, detail: impl fmt::Display) -> Self {
        Self {
            field: field.into(),
            kind: CauseType::FieldValueInvalid,
            value: Some(value.into()),
            detail: detail.to_string(),
        }
    }

    pub fn duplicate(field: impl Into<String>, value: &str) -> Self {
        Self {
            field: field.into(),
            kind: CauseType::FieldValueDuplicate,
            value: Some(value.into()),
            detail: String::new(),
        }
    }

    pub fn not_supported(field: impl Into<String>, value: &str, supported: &[&str]) -> Self {
        let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        Self {
            field: field.into(),
            kind: CauseType::FieldValueNotSupported,
            value: Some(value.into()),
            detail: format!("supported values: {}", quoted.join(", ")),
        }
    }

    /// The cause's message, without the field: `Invalid value: "Foo": must be ...`.
    pub fn message(&self) -> String {
        let what = match self.kind {
            CauseType::FieldValueRequired => "Required value",
            CauseType::FieldValueDuplicate => "Duplicate value",
            CauseType::FieldValueNotSupported => "Unsupported value",
            CauseType::FieldValueNotFound => "Not found",
            CauseType::FieldValueForbidden => "Forbidden",
            CauseType::FieldValueTooLong => "Too long",
            CauseType::FieldValueTooMany => "Too many",
            CauseType::FieldManagerConflict => "Conflict",
            CauseType::FieldValueInvalid | CauseType::Unknown => "Invalid value",
        };
        let mut out = what.to_owned();
        if let Some(v) = &self.value {
            out.push_str(&format!(": {v:?}"));
        }
        if !self.detail.is_empty() {
            out.push_str(": ");
            out.push_str(&self.detail);
        }
        out
    }

    pub fn to_cause(&self) -> StatusCause {
        StatusCause {
            reason: Some(self.kind),
            message: self.message(),
            field: Some(self.field.clone()),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message())
    }
}

/// The errors of an object's `metadata.name`: required, and of the kind's name type `N`.
pub fn check_name<N>(meta: &ObjectMeta) -> Vec<FieldError>
where
    N: std::str::FromStr,
    N::Err: fmt::Display,
{
    match meta.name.as_deref() {
        None | Some("") => vec![FieldError::required("metadata.name", "name is required")],
        Some(name) => match name.parse::<N>() {
            Ok(_) => Vec::new(),
            Err(e) => vec![FieldError::invalid("metadata.name", name, e)],
        },
    }
}

const REFERENCE_POLICIES: [&str; 2] = ["Source", "Local"];
const IMPORT_MODES: [&str; 2] = ["Legacy", "PreserveOriginal"];

/// Checks a project as created: its name.
pub fn validate_project(project: &Project) -> Vec<FieldError> {
    check_name::<ProjectName>(&project.metadata)
}

/// Checks an image stream as written by a user, in project `namespace`.
pub fn validate_image_stream(stream: &ImageStream, namespace: &str) -> Vec<FieldError> {
    let mut errors = check_name::<StreamName>(&stream.metadata);
    if let Some(ns) = stream.metadata.namespace.as_deref()
        && !ns.is_empty()
        && ns != namespace
    {
        errors.push(FieldError::invalid(
            "metadata.namespace",
            ns,
            format!("does not match the namespace of the request ({namespace})"),
        ));
    }
    if let Some(repo) = stream.spec.docker_image_repository.as_deref()
        && !repo.is_empty()
        && let Err(e) = repo.parse::<ImageReference>()
    {
        errors.push(FieldError::invalid("spec.dockerImageRepository", repo, e));
    }
    let mut seen = HashSet::new();
    for (i, tag) in stream.spec.tags.iter().enumerate() {
        let at = format!("spec.tags[{i}]");
        if tag.name.is_empty() {
            errors.push(FieldError::required(
                format!("{at}.name"),
                "tag name is required",
            ));
        } else if let Err(e) = tag.name.parse::<TagName>() {
            errors.push(FieldError::invalid(format!("{at}.name"), &tag.name, e));
        } else if !seen.insert(tag.name.as_str()) {
            errors.push(FieldError::duplicate(format!("{at}.name"), &tag.name));
        }
        if let Some(from) = &tag.from {
            validate_tag_source(&at, from.kind.as_str(), &from.name, &mut errors);
        }
        let policy = tag.reference_policy.kind.as_str();
        if !policy.is_empty() && !REFERENCE_POLICIES.contains(&policy) {
            errors.push(FieldError::not_supported(
                format!("{at}.referencePolicy.type"),
                policy,
                &REFERENCE_POLICIES,
            ));
        }
        if let Some(mode) = tag.import_policy.import_mode.as_deref()
            && !mode.is_empty()
            && !IMPORT_MODES.contains(&mode)
        {
            errors.push(FieldError::not_supported(
                format!("{at}.importPolicy.importMode"),
                mode,
                &IMPORT_MODES,
            ));
        }
    }
    errors
}

/// Checks a stream status as written through the status subresource: tag names, digests and
/// references of every history item.
pub fn validate_image_stream_status(status: &ImageStreamStatus) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, list) in status.tags.iter().enumerate() {
        let at = format!("status.tags[{i}]");
        if let Err(e) = list.tag.parse::<TagName>() {
            errors.push(FieldError::invalid(format!("{at}.tag"), &list.tag, e));
        } else if !seen.insert(list.tag.as_str()) {
            errors.push(FieldError::duplicate(format!("{at}.tag"), &list.tag));
        }
        for (j, item) in list.items.iter().enumerate() {
            if let Err(e) = item.image.parse::<Digest>() {
                errors.push(FieldError::invalid(
                    format!("{at}.items[{j}].image"),
                    &item.image,
                    e,
                ));
            }
            if let Err(e) = item.docker_image_reference.parse::<ImageReference>() {
                errors.push(FieldError::invalid(
                    format!("{at}.items[{j}].dockerImageReference"),
                    &item.docker_image_reference,
                    e,
                ));
            }
        }
    }
    errors
}

fn validate_tag_source(at: &str, kind: &str, name: &str, errors: &mut Vec<FieldError>) {
    let Some(kind) = SourceKind::parse(kind) else {
        let supported: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
        errors.push(FieldError::not_supported(
            format!("{at}.from.kind"),
            kind,
            &supported,
        ));
        return;
    };
    let field = format!("{at}.from.name");
    if name.is_empty() {
        errors.push(FieldError::required(field, "the source's name is required"));
        return;
    }
    let result = match kind {
        SourceKind::DockerImage => name
            .parse::<ImageReference>()
            .map(drop)
            .map_err(|e| e.to_string()),
        SourceKind::ImageStreamTag => match name.contains(':') {
            true => name
                .parse::<StreamTagName>()
                .map(drop)
                .map_err(|e| e.to_string()),
            false => name.parse::<TagName>().map(drop).map_err(|e| e.to_string()),
        },
        // `stream@sha256:...`; a unique prefix of the digest is accepted and resolved later.
        SourceKind::ImageStreamImage => match name.contains('@') {
            true => name.parse::<crate::image::StreamImageName>().map(drop),
            false => Err("must be of the form <stream_name>@<digest>".to_owned()),
        },
    };
    if let Err(detail) = result {
        errors.push(FieldError::invalid(field, name, detail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imagestream::{ObjectReference, TagReference};

    fn tag(name: &str, kind: &str, from: &str) -> TagReference {
        TagReference {
            name: name.into(),
            from: Some(ObjectReference {
                kind: kind.into(),
                name: from.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_stream_has_no_errors() {
        let mut s = ImageStream::new("ruby");
        s.spec
            .tags
            .push(tag("latest", "DockerImage", "quay.io/demo/ruby:3.3"));
        s.spec.tags.push(tag("stable", "ImageStreamTag", "latest"));
        s.spec
            .tags
            .push(tag("other", "ImageStreamTag", "python:3.12"));
        assert_eq!(validate_image_stream(&s, "demo"), vec![]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut s = ImageStream::new("Ruby");
        s.metadata.namespace = Some("elsewhere".into());
        s.spec.tags.push(tag("latest", "DockerImage", "Not A Ref"));
        s.spec.tags.push(tag("latest", "Pod", "x"));
        s.spec
            .tags
            .push(tag("bad:tag", "ImageStreamImage", "ruby@sha256:abc"));
        let fields: Vec<String> = validate_image_stream(&s, "demo")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "metadata.name",
                "metadata.namespace",
                "spec.tags[0].from.name",
                "spec.tags[1].name",
                "spec.tags[1].from.kind",
                "spec.tags[2].name",
                "spec.tags[2].from.name",
            ]
        );
    }

    #[test]
    fn status_history_items_need_digests_and_references() {
        use crate::imagestream::{NamedTagEventList, TagEvent};
        use crate::meta::Time;
        let item = |image: &str, reference: &str| TagEvent {
            created: Time::from_timestamp(0),
            docker_image_reference: reference.into(),
            image: image.into(),
            generation: 1,
        };
        let good = format!("sha256:{}", "a".repeat(64));
        let status = ImageStreamStatus {
            tags: vec![
                NamedTagEventList {
                    tag: "ok".into(),
                    items: vec![item(&good, "quay.io/x/y:1")],
                    conditions: vec![],
                },
                NamedTagEventList {
                    tag: "ok".into(),
                    items: vec![item("sha256:zz", "Bad Ref")],
                    conditions: vec![],
                },
            ],
            ..Default::default()
        };
        let fields: Vec<String> = validate_image_stream_status(&status)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "status.tags[1].tag",
                "status.tags[1].items[0].image",
                "status.tags[1].items[0].dockerImageReference"
            ]
        );
    }

    #[test]
    fn messages_read_like_kubernetes() {
        let e = FieldError::invalid("metadata.name", "Ruby", "must be lower case");
        assert_eq!(
            e.to_string(),
            r#"metadata.name: Invalid value: "Ruby": must be lower case"#
        );
        assert_eq!(
            FieldError::required("spec.x", "").to_string(),
            "spec.x: Required value"
        );
    }
}
