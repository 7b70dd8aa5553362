//! Who may do what: OpenShift's built-in roles and what each allows, as predicates both sides
//! use. The server asks them before any side effect (it is the authority); the console asks the
//! same functions to hide what the server would refuse.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The group whose members are cluster admins, as in OpenShift.
pub const CLUSTER_ADMINS_GROUP: &str = "system:cluster-admins";

crate::words::word_enum! {
    /// A request's verb, as Kubernetes authorization names it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Verb {
        Get = "get",
        List = "list",
        Watch = "watch",
        Create = "create",
        Update = "update",
        Patch = "patch",
        Delete = "delete",
    }
}

impl Verb {
    /// Whether the verb only reads.
    pub fn is_read(self) -> bool {
        matches!(self, Self::Get | Self::List | Self::Watch)
    }
}

impl FromStr for Verb {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| format!("unknown verb {s:?}"))
    }
}

/// What a project holds, as authorization names it (`imagestreams.image.openshift.io`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    /// The project itself (get it, delete it).
    Projects,
    ImageStreams,
    ImageStreamTags,
    ImageStreamImages,
    ImageStreamImports,
    Templates,
    ProcessedTemplates,
    TemplateInstances,
    RoleBindings,
    Triggers,
    AuditEvents,
    /// A project's events page: tag changes, imports, deliveries.
    Events,
}

impl Resource {
    pub const ALL: [Self; 12] = [
        Self::Projects,
        Self::ImageStreams,
        Self::ImageStreamTags,
        Self::ImageStreamImages,
        Self::ImageStreamImports,
        Self::Templates,
        Self::ProcessedTemplates,
        Self::TemplateInstances,
        Self::RoleBindings,
        Self::Triggers,
        Self::AuditEvents,
        Self::Events,
    ];

    /// The plural name, from the resource's one declaration (`crate::resources`).
    pub fn plural(self) -> &'static str {
        crate::resources::of_access(self).plural
    }

    pub fn group(self) -> &'static str {
        crate::resources::of_access(self).group
    }

    fn is_image(self) -> bool {
        matches!(
            self,
            Self::ImageStreams
                | Self::ImageStreamTags
                | Self::ImageStreamImages
                | Self::ImageStreamImports
        )
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.plural(), self.group())
    }
}

impl FromStr for Resource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let plural = s.split('.').next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|r| r.plural() == plural)
            .ok_or_else(|| format!("unknown resource {s:?}"))
    }
}

crate::words::word_enum! {
    /// A role a RoleBinding grants in one project: OpenShift's built-in cluster roles.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Role {
        /// Everything in the project, including who has access and deleting it.
        Admin = "admin",
        /// Change anything but access rules; read everything but them.
        Edit = "edit",
        /// Read everything but access rules.
        View = "view",
        /// Everything about images and streams, and access rules.
        RegistryAdmin = "registry-admin",
        /// Change images and streams.
        RegistryEditor = "registry-editor",
        /// Read images and streams.
        RegistryViewer = "registry-viewer",
        /// Pull: read a stream, a tag, an image, each by name (no listing).
        ImagePuller = "system:image-puller",
        /// Pull and push: also move tags and import into them.
        ImagePusher = "system:image-pusher",
    }
}

impl Role {
    /// A sentence for the access page.
    pub fn description(self) -> &'static str {
        match self {
            Self::Admin => "everything in the project, including access and deleting it",
            Self::Edit => "change streams, tags, imports, templates and triggers",
            Self::View => "read streams, tags, images, templates and triggers",
            Self::RegistryAdmin => "everything about streams and images, and access",
            Self::RegistryEditor => "change streams, tags and imports",
            Self::RegistryViewer => "read streams, tags and images",
            Self::ImagePuller => "read a stream, tag or image by its name",
            Self::ImagePusher => "read by name, move tags and import into them",
        }
    }

    /// Whether this role allows `verb` on `resource` in its project.
    pub fn allows(self, verb: Verb, resource: Resource) -> bool {
        use Resource as R;
        let read = verb.is_read();
        match self {
            Self::Admin => true,
            Self::Edit => match resource {
                R::RoleBindings | R::AuditEvents => false,
                R::Projects => read,
                _ => true,
            },
            Self::View => read && !matches!(resource, R::RoleBindings | R::AuditEvents),
            Self::RegistryAdmin => {
                resource.is_image()
                    || resource == R::RoleBindings
                    || (resource == R::Projects && read)
            }
            Self::RegistryEditor => resource.is_image() || (resource == R::Projects && read),
            Self::RegistryViewer => read && (resource.is_image() || resource == R::Projects),
            Self::ImagePuller => verb == Verb::Get && puller_reads(resource),
            Self::ImagePusher => {
                (verb == Verb::Get && puller_reads(resource))
                    || (resource == R::ImageStreamTags
                        && matches!(verb, Verb::Create | Verb::Update | Verb::Patch))
                    || (resource == R::ImageStreamImports && verb == Verb::Create)
            }
        }
    }
}

fn puller_reads(resource: Resource) -> bool {
    matches!(
        resource,
        Resource::Projects
            | Resource::ImageStreams
            | Resource::ImageStreamTags
            | Resource::ImageStreamImages
    )
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s).ok_or_else(|| {
            format!(
                "unknown role {s:?}: use one of {}",
                Self::ALL.map(Role::as_str).join(", ")
            )
        })
    }
}

crate::meta::string_serde!(Role);

/// What one caller holds in one project: their roles there, and whether they are a cluster
/// admin (who may do everything everywhere).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectAccess {
    #[serde(default)]
    pub cluster_admin: bool,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Read access every signed-in user has (the samples namespace).
    #[serde(default)]
    pub public_read: bool,
}

impl ProjectAccess {
    /// Whether the caller may `verb` `resource` in the project.
    pub fn allows(&self, verb: Verb, resource: Resource) -> bool {
        self.cluster_admin
            || self.roles.iter().any(|r| r.allows(verb, resource))
            || (self.public_read && Role::View.allows(verb, resource))
    }

    /// Whether the project is visible at all (otherwise it answers 404, as if absent).
    pub fn sees_project(&self) -> bool {
        self.cluster_admin || self.public_read || !self.roles.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        for v in Verb::ALL {
            assert_eq!(v.as_str().parse::<Verb>(), Ok(v));
        }
        for r in Resource::ALL {
            assert_eq!(r.to_string().parse::<Resource>(), Ok(r));
        }
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn admin_alone_manages_access_among_general_roles() {
        let rb = Resource::RoleBindings;
        assert!(Role::Admin.allows(Verb::Create, rb));
        assert!(Role::RegistryAdmin.allows(Verb::Update, rb));
        for r in [
            Role::Edit,
            Role::View,
            Role::RegistryEditor,
            Role::ImagePusher,
        ] {
            assert!(!r.allows(Verb::Get, rb), "{r}");
            assert!(!r.allows(Verb::Create, rb), "{r}");
        }
    }

    #[test]
    fn edit_changes_streams_and_templates_but_not_the_project() {
        assert!(Role::Edit.allows(Verb::Update, Resource::ImageStreams));
        assert!(Role::Edit.allows(Verb::Create, Resource::TemplateInstances));
        assert!(Role::Edit.allows(Verb::Get, Resource::Projects));
        assert!(!Role::Edit.allows(Verb::Delete, Resource::Projects));
        assert!(Role::Admin.allows(Verb::Delete, Resource::Projects));
    }

    #[test]
    fn view_reads_and_never_writes() {
        for res in Resource::ALL {
            for verb in Verb::ALL {
                if !verb.is_read() {
                    assert!(!Role::View.allows(verb, res), "{verb} {res}");
                    assert!(!Role::RegistryViewer.allows(verb, res), "{verb} {res}");
                }
            }
        }
        assert!(Role::View.allows(Verb::List, Resource::Templates));
        assert!(!Role::RegistryViewer.allows(Verb::List, Resource::Templates));
    }

    #[test]
    fn registry_roles_stay_out_of_templates() {
        for verb in Verb::ALL {
            assert!(!Role::RegistryAdmin.allows(verb, Resource::Templates));
            assert!(!Role::RegistryEditor.allows(verb, Resource::TemplateInstances));
        }
        assert!(Role::RegistryEditor.allows(Verb::Create, Resource::ImageStreamImports));
    }

    #[test]
    fn puller_gets_by_name_and_pusher_moves_tags() {
        assert!(Role::ImagePuller.allows(Verb::Get, Resource::ImageStreamTags));
        assert!(!Role::ImagePuller.allows(Verb::List, Resource::ImageStreams));
        assert!(!Role::ImagePuller.allows(Verb::Update, Resource::ImageStreamTags));
        assert!(Role::ImagePusher.allows(Verb::Update, Resource::ImageStreamTags));
        assert!(Role::ImagePusher.allows(Verb::Create, Resource::ImageStreamImports));
        assert!(!Role::ImagePusher.allows(Verb::Delete, Resource::ImageStreams));
    }

    #[test]
    fn access_combines_roles_and_cluster_admin() {
        let none = ProjectAccess::default();
        assert!(!none.sees_project());
        assert!(!none.allows(Verb::Get, Resource::ImageStreams));
        let admin = ProjectAccess {
            cluster_admin: true,
            ..ProjectAccess::default()
        };
        assert!(admin.allows(Verb::Delete, Resource::RoleBindings));
        let public = ProjectAccess {
            public_read: true,
            ..ProjectAccess::default()
        };
        assert!(public.sees_project());
        assert!(public.allows(Verb::List, Resource::Templates));
        assert!(!public.allows(Verb::Create, Resource::ImageStreams));
    }
}
