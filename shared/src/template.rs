//! `template.openshift.io/v1` Template and TemplateInstance. Field names and which fields are
//! written follow OpenShift's Go types, so a template from openshift/library loads and serializes
//! back to equal JSON; fields we do not model are kept in `extra`. Objects inside a template stay
//! raw JSON: a template may hold any kind, and processing works on the JSON.

pub mod generate;
pub mod process;
pub mod substitute;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::imagestream::ObjectReference;
use crate::meta::Extra;

pub const API_VERSION: &str = crate::resources::TEMPLATES.api_version;
pub const GROUP: &str = "template.openshift.io";

/// Annotations OpenShift's catalog reads from a template.
pub const DISPLAY_NAME: &str = "openshift.io/display-name";
pub const DESCRIPTION: &str = "description";
pub const TAGS: &str = "tags";
pub const ICON_CLASS: &str = "iconClass";

crate::meta::wire_object! {
    /// A parameterized list of objects: `${NAME}` references in the objects are replaced by the
    /// parameters' values when the template is processed.
    pub struct Template {
        /// Shown after instantiation; parameters are substituted into it.
        pub message?: Option<String>,
        /// The objects to create, as JSON (any kind).
        pub objects: Vec<Value> = default,
        /// The template's inputs: each is substituted for `${NAME}` in the objects; a value,
        /// a generated value or the default is used when processing.
        pub parameters?: Option<Vec<Parameter>>,
        /// Added to every object's `metadata.labels`.
        pub labels?: Option<BTreeMap<String, String>>,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

crate::meta::wire_struct! {
    /// One input of a template.
    #[derive(Default)]
    pub struct Parameter {
        /// What `${NAME}` refers to: letters, digits and `_`.
        pub name: String,
        /// The name shown to people instantiating the template.
        pub display_name?: Option<String>,
        /// What the parameter is for.
        pub description?: Option<String>,
        /// The value: a default in a stored template, the final value in a processed one.
        pub value?: Option<String>,
        /// The generator for an empty value; only `expression` exists (with `from`).
        pub generate?: Option<String>,
        /// The generator's input, e.g. `[a-zA-Z0-9]{16}`.
        pub from?: Option<String>,
        /// Whether processing fails when the parameter ends up empty.
        pub required?: Option<bool>,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl Parameter {
    /// The value, or `""` when unset.
    pub fn value(&self) -> &str {
        self.value.as_deref().unwrap_or_default()
    }

    pub fn is_required(&self) -> bool {
        self.required == Some(true)
    }

    /// Whether an empty value is generated rather than left empty.
    pub fn is_generated(&self) -> bool {
        self.generate.as_deref().is_some_and(|g| !g.is_empty())
    }

    /// What a form labels the parameter with.
    pub fn label(&self) -> &str {
        match self.display_name.as_deref() {
            Some(d) if !d.is_empty() => d,
            _ => &self.name,
        }
    }
}

impl Template {
    pub fn parameters(&self) -> &[Parameter] {
        self.parameters.as_deref().unwrap_or_default()
    }

    /// The title the catalog shows: the display-name annotation, or the name.
    pub fn display_name(&self) -> &str {
        match self.metadata.annotation(DISPLAY_NAME) {
            Some(d) if !d.is_empty() => d,
            _ => self.metadata.name(),
        }
    }

    pub fn description(&self) -> &str {
        self.metadata.annotation(DESCRIPTION).unwrap_or_default()
    }

    /// The catalog tags (`tags` annotation, comma separated).
    pub fn tags(&self) -> Vec<&str> {
        self.metadata
            .annotation(TAGS)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// Whether the catalog filter `query` (case-insensitive, every word) matches the name, the
    /// display name, a tag or the description.
    pub fn matches(&self, query: &str) -> bool {
        let haystack = format!(
            "{} {} {} {}",
            self.metadata.name(),
            self.display_name(),
            self.tags().join(" "),
            self.description()
        )
        .to_lowercase();
        query
            .to_lowercase()
            .split_whitespace()
            .all(|word| haystack.contains(word))
    }

    /// How many objects of each kind the template holds, in order of first appearance.
    pub fn object_kinds(&self) -> Vec<(String, usize)> {
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for object in &self.objects {
            let kind = object.get("kind").and_then(Value::as_str).unwrap_or("?");
            match kinds.iter_mut().find(|(k, _)| k == kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((kind.to_owned(), 1)),
            }
        }
        kinds
    }
}

crate::meta::wire_object! {
    /// An instantiation of a template in a project: the template with the caller's parameter values
    /// in, and what was made of it out.
    pub struct TemplateInstance {
        /// The template and the parameter values to instantiate it with.
        pub spec: TemplateInstanceSpec = default,
        /// What instantiating made.
        pub status: TemplateInstanceStatus = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

/// What a generated parameter's value reads as once the instance is stored.
pub const MASKED: &str = "*****";

impl TemplateInstance {
    /// Masks the value of every generated parameter. Generated values are shown once, to
    /// whoever instantiated; a value typed for a generated parameter is masked too, since it
    /// stands in for a generated secret and the record is readable by every viewer of the
    /// project. Applied when storing and again on every read (records stored before typed
    /// values were masked): the kind's `SHOWN_AS`.
    pub fn mask_generated(&mut self) {
        for p in self.spec.template.parameters.iter_mut().flatten() {
            if p.is_generated() {
                p.value = Some(MASKED.into());
            }
        }
        // The copy of the manifest client-side `kubectl apply` keeps holds the typed values
        // too (review 19 P1).
        crate::write_only::edit_last_applied(&mut self.metadata.annotations, |manifest| {
            let parameters = manifest
                .get_mut("spec")
                .and_then(|s| s.get_mut("template"))
                .and_then(|t| t.get_mut("parameters"))
                .and_then(Value::as_array_mut);
            let mut masked = false;
            for p in parameters
                .into_iter()
                .flatten()
                .filter_map(Value::as_object_mut)
            {
                let text = |key: &str| p.get(key).and_then(Value::as_str).unwrap_or_default();
                let (generated, value) = (!text("generate").is_empty(), text("value"));
                if generated && !value.is_empty() && value != MASKED {
                    p.insert("value".into(), Value::from(MASKED));
                    masked = true;
                }
            }
            masked
        });
    }
}

crate::meta::wire_struct! {
    /// What an instance is made from.
    #[derive(Default)]
    pub struct TemplateInstanceSpec {
        /// The template; parameter values come in `parameters[].value`.
        pub template: Template = default,
        #[serde(flatten)]
        pub extra: Extra,
    }

    /// What an instance made.
    #[derive(Default)]
    pub struct TemplateInstanceStatus {
        /// Conditions as OpenShift reports them (`Ready`, `InstantiateFailure`), kept as sent.
        pub conditions?: Vec<Value>,
        /// Every object the instance made, by reference; image streams are created in the project.
        pub objects?: Vec<TemplateInstanceObject>,
        /// tagstream's own: the objects it does not run itself (deployments, services, secrets...),
        /// processed, as a `List` ready for `kubectl apply -f`. Only the creating response holds
        /// them, since they may carry generated secrets.
        pub manifests?: Option<Value>,
        /// tagstream's own: the workloads among the objects that follow a stream tag (their
        /// `image.openshift.io/triggers` annotation), kept so that a tag page can name them.
        pub followers?: Vec<crate::workload::Follower>,
        #[serde(flatten)]
        pub extra: Extra,
    }

    /// One object an instance made.
    #[derive(Default)]
    pub struct TemplateInstanceObject {
        /// The object, by kind, project and name.
        #[serde(rename = "ref")]
        pub reference: ObjectReference,
    }
}

/// `{"kind": "List", "apiVersion": "v1", "items": [...]}`: what `oc process` prints and
/// `kubectl apply -f` takes.
pub fn object_list(items: Vec<Value>) -> Value {
    serde_json::json!({"kind": "List", "apiVersion": "v1", "metadata": {}, "items": items})
}
