//! Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): what
//! `kubectl get` shows, as a `meta.k8s.io/v1` `Table`. Image streams, stream tags and templates
//! get OpenShift's columns; every other kind the default NAME / CREATED AT table.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::meta::{ListMeta, Time};
use crate::object::ApiResource;
use crate::resources::{IMAGESTREAMS, IMAGESTREAMTAGS, NAMESPACES, PROJECTS, TEMPLATES};
use crate::{ImageStream, ImageStreamTag, Template};

/// How much of each object a row carries (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    None,
    /// A `PartialObjectMetadata` (the default: kubectl reads namespace and labels from it).
    #[default]
    Metadata,
    Object,
}

impl IncludeObject {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "None" => Some(Self::None),
            "Metadata" => Some(Self::Metadata),
            "Object" => Some(Self::Object),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub kind: String,
    pub api_version: String,
    pub metadata: ListMeta,
    pub column_definitions: Vec<Column>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    pub description: String,
    pub priority: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub cells: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Value>,
}

fn column(name: &str, kind: &str, format: &str, description: &str) -> Column {
    Column {
        name: name.into(),
        kind: kind.into(),
        format: format.into(),
        description: description.into(),
        priority: 0,
    }
}

/// A column of plain text.
fn text(name: &str, description: &str) -> Column {
    column(name, "string", "", description)
}

const NAME: &str = "Name must be unique within a namespace.";

/// The columns for objects of `resource`: Name, then the kind's own (none: a kind without its own
/// columns, which gets Created At).
pub fn columns(resource: Option<&ApiResource>) -> Vec<Column> {
    let mut columns = vec![column("Name", "string", "name", NAME)];
    columns.extend(match resource {
        Some(r) if *r == IMAGESTREAMS => vec![
            text(
                "Image Repository",
                "The repository the stream's images are pulled from.",
            ),
            text("Tags", "The stream's tags, latest first."),
            text("Updated", "When a tag last moved."),
        ],
        Some(r) if *r == IMAGESTREAMTAGS => vec![
            text("Image Reference", "The image the tag points at."),
            text("Updated", "When the tag last moved."),
        ],
        // As `oc get projects` and `kubectl get namespaces` print them.
        Some(r) if *r == PROJECTS => vec![
            text("Display Name", "The project's title."),
            text("Status", "Active or Terminating."),
        ],
        Some(r) if *r == NAMESPACES => vec![
            text("Status", "Active or Terminating."),
            text("Age", "How long ago the namespace was created."),
        ],
        Some(r) if *r == TEMPLATES => vec![
            text("Description", "The template's description."),
            text(
                "Parameters",
                "How many parameters, and how many are blank or generated.",
            ),
            column("Objects", "integer", "", "How many objects it creates."),
        ],
        _ => vec![column(
            "Created At",
            "date",
            "",
            "When the object was created (RFC 3339).",
        )],
    });
    columns
}

/// `items` (objects as JSON) as a table of `resource`'s columns, times relative to `now`.
pub fn table(
    resource: Option<&ApiResource>,
    items: Vec<Value>,
    metadata: ListMeta,
    include: IncludeObject,
    now: Time,
) -> Table {
    let rows = items
        .into_iter()
        .map(|item| row(resource, item, include, now))
        .collect();
    Table {
        kind: "Table".into(),
        api_version: "meta.k8s.io/v1".into(),
        metadata,
        column_definitions: columns(resource),
        rows,
    }
}

/// One object's row.
pub fn row(resource: Option<&ApiResource>, item: Value, include: IncludeObject, now: Time) -> Row {
    let name = item
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let text = |s: String| Value::String(s);
    let mut cells = vec![text(name)];
    match resource {
        Some(r) if *r == IMAGESTREAMS => {
            let s: Option<ImageStream> = serde_json::from_value(item.clone()).ok();
            let (repo, tags, updated) = s.as_ref().map(stream_cells).unwrap_or_default();
            cells.extend([
                text(repo),
                text(tags),
                text(updated.map(|t| ago(t, now)).unwrap_or_default()),
            ]);
        }
        Some(r) if *r == IMAGESTREAMTAGS => {
            let t: Option<ImageStreamTag> = serde_json::from_value(item.clone()).ok();
            let reference = t
                .as_ref()
                .and_then(|t| t.image.as_ref())
                .map(|i| i.docker_image_reference.clone())
                .unwrap_or_default();
            let updated = t
                .as_ref()
                .and_then(|t| t.items.first().map(|e| e.created))
                .or_else(|| t.as_ref().and_then(|t| t.metadata.creation_timestamp));
            cells.extend([
                text(reference),
                text(updated.map(|u| ago(u, now)).unwrap_or_default()),
            ]);
        }
        Some(r) if *r == PROJECTS || *r == NAMESPACES => {
            let p: Option<crate::Project> = serde_json::from_value(item.clone()).ok();
            let phase = p
                .as_ref()
                .map(|p| p.status.phase.clone())
                .unwrap_or_default();
            if *r == PROJECTS {
                let display = p.as_ref().map(|p| p.display_name().to_owned());
                let display = display.filter(|d| {
                    Some(d.as_str()) != item.pointer("/metadata/name").and_then(Value::as_str)
                });
                cells.extend([text(display.unwrap_or_default()), text(phase)]);
            } else {
                let created = p.as_ref().and_then(|p| p.metadata.creation_timestamp);
                cells.extend([
                    text(phase),
                    text(created.map(|c| ago(c, now)).unwrap_or_default()),
                ]);
            }
        }
        Some(r) if *r == TEMPLATES => {
            let t: Option<Template> = serde_json::from_value(item.clone()).ok();
            let (description, parameters, objects) =
                t.as_ref().map(template_cells).unwrap_or_default();
            cells.extend([text(description), text(parameters), Value::from(objects)]);
        }
        _ => cells.push(
            item.pointer("/metadata/creationTimestamp")
                .cloned()
                .unwrap_or(Value::Null),
        ),
    }
    let object = match include {
        IncludeObject::None => None,
        IncludeObject::Object => Some(item),
        IncludeObject::Metadata => Some(serde_json::json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": item.get("metadata").cloned().unwrap_or(Value::Null),
        })),
    };
    Row { cells, object }
}

/// At most this many characters of tag names, then "+ N more...", as `oc get is` prints.
const TAGS_WIDTH: usize = 40;

fn stream_cells(s: &ImageStream) -> (String, String, Option<Time>) {
    let repo = s
        .status
        .public_docker_image_repository
        .clone()
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| s.status.docker_image_repository.clone());
    // Latest first: the tags whose image moved most recently lead.
    let mut tags: Vec<(Option<Time>, &str)> = s
        .status
        .tags
        .iter()
        .map(|t| (t.current().map(|e| e.created), t.tag.as_str()))
        .collect();
    for spec in &s.spec.tags {
        if !tags.iter().any(|(_, n)| *n == spec.name) {
            tags.push((None, spec.name.as_str()));
        }
    }
    tags.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let updated = tags.iter().filter_map(|t| t.0).max();
    let mut shown = String::new();
    let mut count = 0;
    for (_, name) in &tags {
        if !shown.is_empty() && shown.len() + name.len() + 1 > TAGS_WIDTH {
            break;
        }
        if !shown.is_empty() {
            shown.push(',');
        }
        shown.push_str(name);
        count += 1;
    }
    if count < tags.len() {
        shown.push_str(&format!(" + {} more...", tags.len() - count));
    }
    (repo, shown, updated)
}

/// The description's first line, cut to this many characters.
const DESCRIPTION_WIDTH: usize = 80;

fn template_cells(t: &Template) -> (String, String, usize) {
    let description = t
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("description"))
        .map(String::as_str)
        .unwrap_or_default();
    let first = description.lines().next().unwrap_or_default();
    let mut shown: String = first.chars().take(DESCRIPTION_WIDTH).collect();
    if shown.len() < description.trim_end().len() {
        shown.push_str("...");
    }
    let params = t.parameters.as_deref().unwrap_or_default();
    let generated = params.iter().filter(|p| p.generate.is_some()).count();
    let blank = params
        .iter()
        .filter(|p| p.generate.is_none() && p.value.as_deref().unwrap_or_default().is_empty())
        .count();
    let mut notes = Vec::new();
    if blank > 0 {
        notes.push(format!("{blank} blank"));
    }
    if generated > 0 {
        notes.push(format!("{generated} generated"));
    }
    if notes.is_empty() {
        notes.push("all set".into());
    }
    let parameters = format!("{} ({})", params.len(), notes.join(", "));
    (shown, parameters, t.objects.len())
}

/// "3 minutes ago", as OpenShift's printers word an update time.
pub fn ago(then: Time, now: Time) -> String {
    let secs = (now.timestamp() - then.timestamp()).max(0);
    let (n, unit) = match secs {
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 86_400 * 365 => (s / 86_400, "day"),
        s => (s / (86_400 * 365), "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn image_streams_print_openshifts_columns() {
        let stream = json!({
            "metadata": {"name": "ruby", "namespace": "demo", "labels": {"a": "b"}},
            "spec": {"tags": [{"name": "3.3"}, {"name": "latest"}]},
            "status": {
                "dockerImageRepository": "quay.io/x/ruby",
                "tags": [{"tag": "3.3", "items": [{
                    "created": "2026-01-01T00:00:00Z", "dockerImageReference": "quay.io/x/ruby@sha256:1",
                    "image": "sha256:1", "generation": 1}]}]
            }
        });
        let now: Time = "2026-01-01T02:00:00Z".parse().expect("time");
        let t = table(
            Some(&IMAGESTREAMS),
            vec![stream],
            ListMeta::default(),
            IncludeObject::Metadata,
            now,
        );
        let names: Vec<_> = t
            .column_definitions
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["Name", "Image Repository", "Tags", "Updated"]);
        assert_eq!(
            t.rows[0].cells,
            [
                json!("ruby"),
                json!("quay.io/x/ruby"),
                json!("3.3,latest"),
                json!("2 hours ago")
            ]
        );
        let object = t.rows[0].object.as_ref().expect("metadata");
        assert_eq!(object["kind"], "PartialObjectMetadata");
        assert_eq!(object["metadata"]["labels"]["a"], "b");
    }

    #[test]
    fn many_tags_are_cut_with_a_count() {
        let tags: Vec<_> = (0..20)
            .map(|i| json!({"name": format!("tag-{i:02}")}))
            .collect();
        let stream = json!({"metadata": {"name": "x"}, "spec": {"tags": tags}});
        let row = row(
            Some(&IMAGESTREAMS),
            stream,
            IncludeObject::None,
            Time::now(),
        );
        let tags = row.cells[2].as_str().expect("text");
        assert!(tags.ends_with("more..."), "{tags}");
        assert!(tags.len() < TAGS_WIDTH + 20, "{tags}");
    }

    #[test]
    fn templates_count_parameters_and_objects() {
        let template = json!({
            "metadata": {"name": "t", "annotations": {"description": "First line.\nSecond."}},
            "objects": [{}, {}],
            "parameters": [{"name": "A"}, {"name": "B", "value": "x"},
                           {"name": "C", "generate": "expression", "from": "[a-z]{4}"}]
        });
        let row = row(Some(&TEMPLATES), template, IncludeObject::None, Time::now());
        assert_eq!(
            row.cells,
            [
                json!("t"),
                json!("First line...."),
                json!("3 (1 blank, 1 generated)"),
                json!(2)
            ]
        );
    }
}
