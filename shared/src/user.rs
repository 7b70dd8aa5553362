//! Identity and access on the wire: `user.openshift.io/v1` User and Group, RBAC RoleBinding,
//! and tagstream's own API tokens, sign-in, audit events and access reviews.

use serde::{Deserialize, Serialize};

use crate::access::{Resource, Role, Verb};
use crate::meta::{Extra, ObjectMeta, Time};

pub const USER_API_VERSION: &str = crate::resources::USERS.api_version;
pub const RBAC_API_VERSION: &str = crate::resources::ROLEBINDINGS.api_version;
pub const RBAC_GROUP: &str = crate::resources::ROLEBINDINGS.group;
pub const TAGSTREAM_API_VERSION: &str = crate::resources::TRIGGERS.api_version;

crate::meta::wire_object! {
    /// A person or robot account (`user.openshift.io/v1` User). Passwords never appear here.
    pub struct User {
        /// The person's name as shown in the console.
        pub full_name?: Option<String>,
        /// The groups the user is in (filled on reads; a write ignores it: edit the Group).
        pub groups: Vec<String> = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

crate::meta::wire_struct! {
    /// What creating a user takes beyond the User: a password, or nothing for an invitation.
    #[derive(Default)]
    pub struct UserCreate {
        /// The user to create.
        #[serde(flatten)]
        pub user: User,
        /// The initial password; without one the answer carries a one-time invitation.
        pub password?: Option<String>,
    }

    /// The answer to creating a user: the user, and the invitation token when no password was set.
    #[derive(Default)]
    pub struct UserCreated {
        /// The user as created.
        #[serde(flatten)]
        pub user: User,
        /// Shown once: the invitee opens `/invite/{invitation}` to choose a password.
        pub invitation?: Option<String>,
    }
}

crate::meta::wire_object! {
    /// A team (`user.openshift.io/v1` Group).
    pub struct Group {
        /// The names of the team's members.
        pub users: Vec<String> = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

crate::meta::wire_struct! {
    /// `roleRef` of a RoleBinding: one of the built-in roles, as a ClusterRole.
    pub struct RoleRef {
        /// `rbac.authorization.k8s.io`.
        #[serde(default = "rbac_group")]
        pub api_group: String,
        /// `ClusterRole`: the built-in roles are cluster roles.
        #[serde(default = "cluster_role")]
        pub kind: String,
        /// The role: `admin`, `edit`, `view`, `registry-admin`, `registry-editor` or
        /// `registry-viewer`.
        pub name: String,
    }
}

fn rbac_group() -> String {
    RBAC_GROUP.into()
}

fn cluster_role() -> String {
    "ClusterRole".into()
}

impl RoleRef {
    pub fn to(role: Role) -> Self {
        Self {
            api_group: rbac_group(),
            kind: cluster_role(),
            name: role.as_str().into(),
        }
    }
}

/// Who a binding names: a `User` or a `Group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
pub enum SubjectKind {
    User,
    Group,
}

crate::meta::wire_struct! {
    /// A user or team a binding grants its role to.
    #[derive(Eq, Hash, PartialOrd, Ord)]
    pub struct Subject {
        /// `User` or `Group`.
        pub kind: SubjectKind,
        /// `rbac.authorization.k8s.io`.
        #[serde(default = "rbac_group")]
        pub api_group: String,
        /// The user's or team's name.
        pub name: String,
    }
}

impl Subject {
    pub fn user(name: &str) -> Self {
        Self {
            kind: SubjectKind::User,
            api_group: rbac_group(),
            name: name.into(),
        }
    }

    pub fn group(name: &str) -> Self {
        Self {
            kind: SubjectKind::Group,
            api_group: rbac_group(),
            name: name.into(),
        }
    }
}

crate::meta::wire_object! {
    without Default;
    /// An access rule in a project (`rbac.authorization.k8s.io/v1` RoleBinding).
    pub struct RoleBinding {
        /// The role granted.
        pub role_ref: RoleRef,
        /// The users and teams it is granted to.
        pub subjects: Vec<Subject> = default,
        #[serde(flatten)]
        pub extra: Extra,
    }
}

impl RoleBinding {
    /// The role this binding grants, when `roleRef` names a built-in one.
    pub fn role(&self) -> Option<Role> {
        self.role_ref.name.parse().ok()
    }

    pub fn new(name: &str, role: Role, subjects: Vec<Subject>) -> Self {
        Self {
            kind: Self::KIND.into(),
            api_version: RBAC_API_VERSION.into(),
            metadata: ObjectMeta::named(name),
            role_ref: RoleRef::to(role),
            subjects,
            extra: Extra::new(),
        }
    }
}

crate::meta::wire_object! {
    /// An API token of a user (tagstream.io/v1 `Token`); `metadata.name` is its id.
    pub struct Token {
        /// What the token is for, how long it lasts and where it may act.
        pub spec: TokenSpec = default,
        /// The secret, present only in the answer to creating it.
        pub token?: Option<String>,
    }
}

crate::meta::wire_struct! {
    /// What a token is for, how long it lasts and where it may act.
    #[derive(Default)]
    pub struct TokenSpec {
        /// A note from its owner saying what it is for (`CI pushes`).
        pub description?: String,
        /// When it stops working; none: never.
        pub expires?: Option<Time>,
        /// The one project it may act in; none: wherever its user may.
        pub project?: Option<String>,
    }

    /// Signing in with a password (`POST /apis/tagstream.io/v1/login`).
    #[derive(Default)]
    pub struct Login {
        /// The user's name.
        pub username: String,
        /// The user's password.
        pub password: String,
    }
}

/// The shortest password accepted (for an invitation, a new user and a password change alike).
pub const MIN_PASSWORD: usize = 8;

/// What is wrong with a password chosen by a person, if anything: the one rule the server
/// enforces and the console checks as you type.
pub fn check_password(password: &str) -> Option<String> {
    (password.chars().count() < MIN_PASSWORD)
        .then(|| format!("must be at least {MIN_PASSWORD} characters long"))
}

crate::meta::wire_struct! {
    /// Changing one's own password (`POST /apis/tagstream.io/v1/password`): the current one proves
    /// it is them; every other session of theirs ends. Only the caller's own password can change
    /// this way, so the body names no user (an unknown field, such as a user name, is refused).
    #[derive(Default)]
    #[serde(deny_unknown_fields)]
    pub struct PasswordChange {
        /// The password now, proving it is the owner.
        pub current_password: String,
        /// The password from now on (at least 8 characters).
        pub new_password: String,
    }

    /// Choosing a password with an invitation (`POST /apis/tagstream.io/v1/invitations/{token}`).
    #[derive(Default)]
    pub struct AcceptInvitation {
        /// The password the invited user chooses (at least 8 characters).
        pub password: String,
    }

    /// Who the caller is (`GET /apis/tagstream.io/v1/whoami`), with the CSRF token the console
    /// sends back on every change when a session cookie signs it in.
    #[derive(Default)]
    pub struct Identity {
        /// `Identity`.
        pub kind: String,
        /// `tagstream.io/v1`.
        pub api_version: String,
        /// The caller's user name.
        pub username: String,
        /// The teams the caller is in.
        pub groups: Vec<String> = default,
        /// Whether the caller may do everything everywhere.
        pub cluster_admin: bool = default,
        /// The token to send back in `X-CSRF-Token` on every change made with the session cookie.
        pub csrf_token?: Option<String>,
    }
}

/// The header that carries the CSRF token, and the cookie that lets the console read it.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
pub const CSRF_COOKIE: &str = "tagstream-csrf";
pub const SESSION_COOKIE: &str = "tagstream-session";

crate::meta::wire_struct! {
    /// One change in the audit log (tagstream.io/v1 `AuditEvent`).
    #[derive(Default)]
    pub struct AuditEvent {
        /// `AuditEvent`.
        pub kind: String,
        /// `tagstream.io/v1`.
        pub api_version: String,
        /// `creationTimestamp` is when the change was made.
        pub metadata: ObjectMeta,
        /// Who: a user name, or `system:...` for the server's own work.
        pub user: String,
        /// What: create, update, delete.
        pub verb: String,
        /// `imagestreams.image.openshift.io` and the like.
        pub resource: String,
        /// The project of the object changed; none for cluster-wide kinds.
        pub namespace?: Option<String>,
        /// The name of the object changed.
        pub name: String,
        /// The object's resourceVersion before the change; none when it was created.
        pub resource_version_before?: Option<String>,
        /// The object's resourceVersion after the change; none when it was deleted.
        pub resource_version_after?: Option<String>,
    }
}

impl AuditEvent {
    pub const KIND: &'static str = "AuditEvent";
}

crate::meta::wire_struct! {
    /// "What can <user> do here" and "who can <verb> <resource> here"
    /// (`GET /apis/tagstream.io/v1/namespaces/{ns}/accessreviews?user=` or `?verb=&resource=`).
    #[derive(Default)]
    pub struct AccessReview {
        /// `AccessReview`.
        pub kind: String,
        /// `tagstream.io/v1`.
        pub api_version: String,
        /// The project reviewed.
        pub namespace: String,
        /// For a user: their roles here (directly and through teams), and what they allow.
        pub user?: Option<String>,
        /// For a user: the roles they hold here, directly or through a team.
        pub roles: Vec<Role> = default,
        /// For a user: whether they may do everything everywhere.
        pub cluster_admin: bool = default,
        /// Read access every signed-in user has here (the samples project).
        pub public_read: bool = default,
        /// For a user: each verb and resource they may use here.
        pub allowed: Vec<Permission> = default,
        /// For a verb and resource: the users and teams allowed, with the role that allows them.
        pub subjects: Vec<ReviewSubject> = default,
    }

    /// One thing a user may do: a verb on a resource.
    #[derive(Eq)]
    pub struct Permission {
        /// `get`, `list`, `create`, `update`, `delete`...
        pub verb: String,
        /// The resource the verb applies to (`imagestreams`).
        pub resource: String,
    }
}

impl AccessReview {
    /// What the reviewed user holds here, for the shared predicates.
    pub fn access(&self) -> crate::access::ProjectAccess {
        crate::access::ProjectAccess {
            cluster_admin: self.cluster_admin,
            roles: self.roles.clone(),
            public_read: self.public_read,
        }
    }
}

impl Permission {
    pub fn new(verb: Verb, resource: Resource) -> Self {
        Self {
            verb: verb.as_str().into(),
            resource: resource.to_string(),
        }
    }
}

crate::meta::wire_struct! {
    /// A user or team allowed to do what was asked, and the role that allows it.
    #[derive(Eq)]
    pub struct ReviewSubject {
        /// `User` or `Group`.
        pub kind: SubjectKind,
        /// The user's or team's name.
        pub name: String,
        /// The role that allows it.
        pub role: String,
    }

    /// The query of an access review: nothing (the caller), `user`, or `verb` and `resource`.
    #[derive(Default, Eq)]
    pub struct AccessReviewQuery {
        /// Review what this user may do.
        pub user?: Option<String>,
        /// With `resource`: review who may do this.
        pub verb?: Option<String>,
        /// With `verb`: the resource asked about.
        pub resource?: Option<String>,
    }

    /// The query of an audit log list: at most `limit` events (default 200, at most 1000).
    #[derive(Copy, Default, Eq)]
    pub struct AuditQuery {
        /// At most this many events (default 200, at most 1000).
        pub limit?: Option<u32>,
    }
}

impl AuditQuery {
    pub fn limit(self) -> u32 {
        self.limit.unwrap_or(200).clamp(1, 1000)
    }
}
