//! The catalogue: every resource the API serves, declared once with its names (as OpenShift and
//! Kubernetes spell them, so kubectl's discovery finds them), scope, verbs and access rule, and
//! every stored kind's [`Kind`](crate::object::Kind) implementation.

use crate::access::{Resource as A, Verb as V};
use crate::api_resource;
use crate::object::ApiResource;

/// Every verb: the kinds kubectl may apply, edit and label as well as create and replace.
const ALL_VERBS: &[V] = &[
    V::Create,
    V::Delete,
    V::Get,
    V::List,
    V::Patch,
    V::Update,
    V::Watch,
];

pub const PROJECTS: ApiResource = api_resource!(cluster "project.openshift.io" / "v1",
    "Project", "projects", "project", [],
    &[V::Create, V::Delete, V::Get, V::List, V::Watch], Some(A::Projects));
/// Projects as Kubernetes clients know them (`kubectl create namespace`, `get ns`): the same
/// objects, as OpenShift serves them in the core group.
pub const NAMESPACES: ApiResource = api_resource!(core cluster "v1",
    "Namespace", "namespaces", "namespace", ["ns"],
    &[V::Create, V::Delete, V::Get, V::List], None);
pub const IMAGESTREAMS: ApiResource = api_resource!(namespaced "image.openshift.io" / "v1",
    "ImageStream", "imagestreams", "imagestream", ["is"],
    &[V::Create, V::Delete, V::Get, V::List, V::Patch, V::Update, V::Watch],
    Some(A::ImageStreams));
pub const IMAGESTREAMTAGS: ApiResource = api_resource!(namespaced "image.openshift.io" / "v1",
    "ImageStreamTag", "imagestreamtags", "imagestreamtag", ["istag"],
    &[V::Create, V::Delete, V::Get, V::List, V::Patch, V::Update], Some(A::ImageStreamTags));
pub const IMAGESTREAMIMAGES: ApiResource = api_resource!(namespaced "image.openshift.io" / "v1",
    "ImageStreamImage", "imagestreamimages", "imagestreamimage", ["isimage"],
    &[V::Get], Some(A::ImageStreamImages));
pub const IMAGESTREAMIMPORTS: ApiResource = api_resource!(namespaced "image.openshift.io" / "v1",
    "ImageStreamImport", "imagestreamimports", "imagestreamimport", [],
    &[V::Create], Some(A::ImageStreamImports));
/// Images by digest: kept by the store, not served as a collection.
pub const IMAGES: ApiResource = api_resource!(cluster "image.openshift.io" / "v1",
    "Image", "images", "image", [], &[], None);

pub const TEMPLATES: ApiResource = api_resource!(namespaced "template.openshift.io" / "v1",
    "Template", "templates", "template", [],
    &[V::Create, V::Delete, V::Get, V::List, V::Patch, V::Update, V::Watch], Some(A::Templates));
pub const PROCESSEDTEMPLATES: ApiResource = api_resource!(namespaced "template.openshift.io" / "v1",
    "Template", "processedtemplates", "processedtemplate", [],
    &[V::Create], Some(A::ProcessedTemplates));
pub const TEMPLATEINSTANCES: ApiResource = api_resource!(namespaced "template.openshift.io" / "v1",
    "TemplateInstance", "templateinstances", "templateinstance", [],
    &[V::Create, V::Delete, V::Get, V::List, V::Patch, V::Watch], Some(A::TemplateInstances));

pub const SAMPLES_CONFIGS: ApiResource = api_resource!(cluster "samples.operator.openshift.io" / "v1",
    "Config", "configs", "config", [], &[V::Get, V::Update], None);

pub const USERS: ApiResource = api_resource!(cluster "user.openshift.io" / "v1",
    "User", "users", "user", [], ALL_VERBS, None);
pub const GROUPS: ApiResource = api_resource!(cluster "user.openshift.io" / "v1",
    "Group", "groups", "group", [], ALL_VERBS, None);
/// A user's API tokens, under the user: `users/{name}/tokens[/{id}]`.
pub const TOKENS: ApiResource = ApiResource {
    collection_route: "/apis/user.openshift.io/v1/users/{name}/tokens",
    item_route: "/apis/user.openshift.io/v1/users/{name}/tokens/{id}",
    ..api_resource!(cluster "user.openshift.io" / "v1",
        "Token", "tokens", "token", [], &[V::Create, V::Delete, V::List], None)
};
pub const INVITATIONS: ApiResource = api_resource!(cluster "tagstream.io" / "v1",
    "Invitation", "invitations", "invitation", [], &[V::Get, V::Create], None);

pub const ROLEBINDINGS: ApiResource = api_resource!(namespaced "rbac.authorization.k8s.io" / "v1",
    "RoleBinding", "rolebindings", "rolebinding", [], ALL_VERBS, Some(A::RoleBindings));

pub const TRIGGERS: ApiResource = api_resource!(namespaced "tagstream.io" / "v1",
    "Trigger", "triggers", "trigger", [], ALL_VERBS, Some(A::Triggers));
/// A trigger's delivery log, under the trigger: `triggers/{name}/deliveries`.
pub const DELIVERIES: ApiResource = ApiResource {
    collection_route: "/apis/tagstream.io/v1/namespaces/{ns}/triggers/{name}/deliveries",
    item_route: "/apis/tagstream.io/v1/namespaces/{ns}/triggers/{name}/deliveries/{delivery}",
    ..api_resource!(namespaced "tagstream.io" / "v1",
        "Delivery", "deliveries", "delivery", [], &[V::List], None)
};
pub const AUDITEVENTS: ApiResource = api_resource!(namespaced "tagstream.io" / "v1",
    "AuditEvent", "auditevents", "auditevent", [], &[V::List], Some(A::AuditEvents));
pub const EVENTS: ApiResource = api_resource!(namespaced "tagstream.io" / "v1",
    "Event", "events", "event", [], &[V::List], Some(A::Events));

/// `kubectl auth can-i`: asked by anyone signed in, about themselves.
pub const SELFSUBJECTACCESSREVIEWS: ApiResource = api_resource!(cluster "authorization.k8s.io" / "v1",
    "SelfSubjectAccessReview", "selfsubjectaccessreviews", "selfsubjectaccessreview", [],
    &[V::Create], None);
/// `kubectl auth whoami` (v1 since kubectl 1.28, v1beta1 before).
pub const SELFSUBJECTREVIEWS: ApiResource = api_resource!(cluster "authentication.k8s.io" / "v1",
    "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview", [], &[V::Create], None);
pub const SELFSUBJECTREVIEWS_V1BETA1: ApiResource = api_resource!(cluster "authentication.k8s.io" / "v1beta1",
    "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview", [], &[V::Create], None);

/// Every resource the API serves, for discovery.
pub const ALL: &[ApiResource] = &[
    PROJECTS,
    NAMESPACES,
    IMAGESTREAMS,
    IMAGESTREAMTAGS,
    IMAGESTREAMIMAGES,
    IMAGESTREAMIMPORTS,
    TEMPLATES,
    PROCESSEDTEMPLATES,
    TEMPLATEINSTANCES,
    SAMPLES_CONFIGS,
    USERS,
    GROUPS,
    TOKENS,
    ROLEBINDINGS,
    TRIGGERS,
    AUDITEVENTS,
    EVENTS,
    SELFSUBJECTACCESSREVIEWS,
    SELFSUBJECTREVIEWS,
    SELFSUBJECTREVIEWS_V1BETA1,
];

/// The resource an access rule names: the served one whose declaration says the rule guards it
/// (each rule guards exactly one; a test checks it), so the pairing is written only there.
pub fn of_access(resource: A) -> &'static ApiResource {
    ALL.iter()
        .find(|r| r.access == Some(resource))
        .unwrap_or(&PROJECTS)
}

crate::object_impl!(kind crate::Project, PROJECTS, name = crate::ProjectName,
    validate = crate::validation::validate_project);
crate::object_impl!(kind crate::ImageStream, IMAGESTREAMS, name = crate::StreamName, validate = |s| {
    crate::validation::validate_image_stream(s, s.metadata.namespace.as_deref().unwrap_or_default())
});
crate::object_impl!(crate::ImageStreamTag, IMAGESTREAMTAGS);
crate::object_impl!(crate::ImageStreamImage, IMAGESTREAMIMAGES);
crate::object_impl!(crate::ImageStreamImport, IMAGESTREAMIMPORTS);
crate::object_impl!(crate::Image, IMAGES);
crate::object_impl!(kind crate::Template, TEMPLATES,
    validate = crate::template::process::validate_template);
crate::object_impl!(kind crate::TemplateInstance, TEMPLATEINSTANCES,
    shown = crate::TemplateInstance::mask_generated);
crate::object_impl!(kind crate::SamplesConfig, SAMPLES_CONFIGS);
crate::object_impl!(kind crate::user::User, USERS, name = crate::UserName,
    write_only = &["password"]);
crate::object_impl!(kind crate::user::Group, GROUPS, name = crate::GroupName);
crate::object_impl!(kind crate::user::Token, TOKENS, name = crate::TokenId);
crate::object_impl!(kind crate::user::RoleBinding, ROLEBINDINGS, name = crate::RoleBindingName);
crate::object_impl!(kind crate::trigger::Trigger, TRIGGERS, name = crate::TriggerName,
    validate = |t| crate::trigger::validate_trigger(t, false),
    write_only = &["spec.webhook.secret"]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Kind, Object};

    #[test]
    fn routes_and_api_versions_are_put_together_from_the_declaration() {
        assert_eq!(IMAGESTREAMS.api_version, "image.openshift.io/v1");
        assert_eq!(
            IMAGESTREAMS.collection_route,
            "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams"
        );
        assert_eq!(
            IMAGESTREAMS.item_route,
            "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreams/{name}"
        );
        assert_eq!(
            PROJECTS.item_route,
            "/apis/project.openshift.io/v1/projects/{name}"
        );
        assert_eq!(
            IMAGESTREAMS.collection(Some("demo")),
            "/apis/image.openshift.io/v1/namespaces/demo/imagestreams"
        );
        assert_eq!(
            USERS.item(None, "ann"),
            "/apis/user.openshift.io/v1/users/ann"
        );
        assert_eq!(
            <crate::ImageStream as Object>::KIND,
            crate::ImageStream::KIND
        );
        assert_eq!(
            <crate::Template as Kind>::RESOURCE.to_string(),
            "templates.template.openshift.io"
        );
    }

    #[test]
    fn short_names_are_openshifts() {
        assert!(IMAGESTREAMS.answers_to("is"));
        assert!(IMAGESTREAMTAGS.answers_to("istag"));
        assert!(IMAGESTREAMIMAGES.answers_to("isimage"));
        assert!(TEMPLATES.answers_to("Template"));
        assert!(!TEMPLATES.answers_to("is"));
    }

    #[test]
    fn every_access_resource_has_its_api_resource() {
        for r in A::ALL {
            let api = of_access(r);
            assert_eq!(api.access, Some(r));
            assert!(ALL.contains(api), "{r} is served");
        }
    }
}
