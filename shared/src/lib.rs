//! tagstream's model, shared by the server and the console: OpenShift-compatible wire types
//! (`image.openshift.io/v1`, `project.openshift.io/v1`, `template.openshift.io/v1`,
//! `samples.operator.openshift.io/v1`, Kubernetes `Status`), the name and object
//! validation both sides apply, image reference and digest parsing, the template
//! processing engine, the API paths and the console's paths.
//!
//! Pure logic: no I/O, compiles for native and `wasm32-unknown-unknown`.

pub mod access;
pub mod compare;
pub mod console;
pub mod discovery;
pub mod event;
pub mod image;
pub mod imagestream;
pub mod import;
pub mod json_patch;
pub mod list;
pub mod meta;
pub mod names;
pub mod object;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod paths;
pub mod project;
pub mod protobuf;
pub mod qualified;
pub mod reference;
pub mod resources;
pub mod review;
pub mod samples;
pub mod selector;
pub mod status;
pub mod table;
pub mod template;
pub mod trigger;
pub mod user;
pub mod validation;
pub mod watch;
#[cfg(test)]
mod wire_json;
mod words;
pub mod workload;
pub mod write_only;
pub mod yaml;

pub use image::{
    DockerConfig, DockerImageMetadata, Image, ImageLayer, ImageManifest, ImageStreamImage,
    StreamImageName,
};
pub use imagestream::{
    ImageLookupPolicy, ImageStream, ImageStreamSpec, ImageStreamStatus, ImageStreamTag,
    NamedTagEventList, ObjectReference, SourceKind, TagEvent, TagEventCondition, TagImportPolicy,
    TagReference, TagReferencePolicy,
};
pub use import::{
    ImageImportSpec, ImageImportStatus, ImageStreamImport, ImageStreamImportSpec,
    ImageStreamImportStatus, LocalObjectReference, RepositoryImportSpec, RepositoryImportStatus,
};
pub use list::List;
pub use meta::{ListMeta, ObjectMeta, Time};
pub use names::{
    GroupName, NameError, ObjectName, ProjectName, RoleBindingName, StreamName, StreamTagName,
    TagName, TemplateName, TokenId, TriggerName, UserName,
};
pub use project::Project;
pub use reference::{AnyReference, Digest, ImageReference, NormalizedReference, ReferenceError};
pub use samples::{ManagementState, SamplesConfig};
pub use status::{CauseType, Status, StatusCause, StatusDetails, StatusReason};
pub use template::{Parameter, Template, TemplateInstance};
pub use validation::FieldError;
