//! One declaration per kind: what an API object is ([`Object`]: kind, apiVersion, metadata) and
//! how a stored kind is served ([`Kind`]: its [`ApiResource`] with plural, singular and short
//! names, scope, verbs and the `access` resource that guards it, and the hooks that validate and
//! prepare it on create and update, as the Kubernetes apiserver's per-kind strategies do).
//!
//! Paths (`crate::paths`), the server's routes, error messages, store keys and discovery all read
//! these declarations instead of spelling a resource again. The catalogue of every resource the
//! API serves is `crate::resources`.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::access::{Resource as AccessResource, Verb};
use crate::meta::{ObjectMeta, Time};
use crate::names::NameError;
use crate::validation::FieldError;

/// Where a resource's objects live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// In a project: `/apis/{group}/{version}/namespaces/{ns}/{plural}`.
    Namespaced,
    /// Across the cluster: `/apis/{group}/{version}/{plural}`.
    Cluster,
}

/// A resource as the API serves it (what `kubectl api-resources` lists): the names it answers
/// to, where it lives, what may be done with it and which access rule guards it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiResource {
    pub group: &'static str,
    pub version: &'static str,
    /// `{group}/{version}`, as objects carry it.
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    /// As OpenShift has them: `is`, `istag`, `isimage`.
    pub short_names: &'static [&'static str],
    pub scope: Scope,
    /// The verbs the server answers on it.
    pub verbs: &'static [Verb],
    /// The access rule that guards it inside a project; none for cluster objects, which
    /// their routes guard by who the caller is (`Need::ClusterAdmin` and the like).
    pub access: Option<AccessResource>,
    /// The collection as the server's router writes it (`{ns}` for the project).
    pub collection_route: &'static str,
    /// One object as the server's router writes it (`{ns}`, `{name}`).
    pub item_route: &'static str,
}

impl ApiResource {
    /// The group as written after the resource in messages.
    pub fn group_or_core(&self) -> &'static str {
        self.group
    }

    pub fn is_namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }

    /// The collection's path: in project `ns` for a namespaced resource, and across every
    /// project (or cluster-wide) without one.
    pub fn collection(&self, ns: Option<&str>) -> String {
        if self.group.is_empty() {
            // The core group (`v1` Namespaces) lives under `/api`, not `/apis`.
            return match ns {
                Some(ns) => format!("/api/{}/namespaces/{ns}/{}", self.version, self.plural),
                None => format!("/api/{}/{}", self.version, self.plural),
            };
        }
        match ns {
            Some(ns) => format!(
                "/apis/{}/{}/namespaces/{ns}/{}",
                self.group, self.version, self.plural
            ),
            None => format!("/apis/{}/{}/{}", self.group, self.version, self.plural),
        }
    }

    /// One object's path.
    pub fn item(&self, ns: Option<&str>, name: &str) -> String {
        format!("{}/{name}", self.collection(ns))
    }

    /// Whether `name` is one this resource answers to (plural, singular, short or kind), as
    /// kubectl resolves `kubectl get is`.
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        name == self.plural
            || name == self.singular
            || name == self.kind.to_ascii_lowercase()
            || self.short_names.contains(&name.as_str())
    }
}

impl fmt::Display for ApiResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            return f.write_str(self.plural);
        }
        write!(f, "{}.{}", self.plural, self.group)
    }
}

/// Declares an [`ApiResource`]; the routes and apiVersion are put together from the literals at
/// compile time so that they are spelled nowhere else.
#[macro_export]
macro_rules! api_resource {
    (namespaced $group:literal / $version:literal, $kind:expr, $plural:literal, $singular:literal,
     [$($short:literal),*], $verbs:expr, $access:expr) => {
        $crate::api_resource!(@ $group, $version, concat!($group, "/", $version), Namespaced,
            concat!("/apis/", $group, "/", $version, "/namespaces/{ns}/", $plural),
            $kind, $plural, $singular, [$($short),*], $verbs, $access)
    };
    (core cluster $version:literal, $kind:expr, $plural:literal, $singular:literal,
     [$($short:literal),*], $verbs:expr, $access:expr) => {
        $crate::api_resource!(@ "", $version, $version, Cluster,
            concat!("/api/", $version, "/", $plural),
            $kind, $plural, $singular, [$($short),*], $verbs, $access)
    };
    (cluster $group:literal / $version:literal, $kind:expr, $plural:literal, $singular:literal,
     [$($short:literal),*], $verbs:expr, $access:expr) => {
        $crate::api_resource!(@ $group, $version, concat!($group, "/", $version), Cluster,
            concat!("/apis/", $group, "/", $version, "/", $plural),
            $kind, $plural, $singular, [$($short),*], $verbs, $access)
    };
    // The one place the fields are filled: an object's route is its collection's and `/{name}`.
    (@ $group:expr, $version:literal, $api_version:expr, $scope:ident, $collection:expr,
     $kind:expr, $plural:literal, $singular:literal, [$($short:literal),*], $verbs:expr,
     $access:expr) => {
        $crate::object::ApiResource {
            group: $group,
            version: $version,
            api_version: $api_version,
            kind: $kind,
            plural: $plural,
            singular: $singular,
            short_names: &[$($short),*],
            scope: $crate::object::Scope::$scope,
            verbs: $verbs,
            access: $access,
            collection_route: $collection,
            item_route: concat!($collection, "/{name}"),
        }
    };
}

/// An object on the wire: `kind`, `apiVersion`, `metadata`.
pub trait Object {
    const KIND: &'static str;
    const API_VERSION: &'static str;
    fn metadata(&self) -> &ObjectMeta;
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
}

/// A kind the API serves and the store keeps: one type, one `impl`, and its routes follow.
///
/// The hooks run in this order on create: [`Kind::prepare_create`] (server-set fields), then
/// [`Kind::validate`]; on update: [`Kind::prepare_update`] (what the caller may not change is
/// taken from the stored object), then [`Kind::validate`]. A hook that needs the server's state
/// (the registry allow-list, the caller's roles) lives with the kind's service in the server.
pub trait Kind: Object + Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    const RESOURCE: ApiResource;

    /// What a name of this kind may be (a path's `{name}` is parsed as it): most kinds take
    /// Kubernetes' DNS-1123 subdomain ([`crate::ObjectName`]); role bindings allow `:`, users
    /// and teams OpenShift's wider rules.
    type Name: FromStr<Err = NameError> + AsRef<str> + fmt::Display + fmt::Debug + Send + Sync;

    /// How a stored object is shown on every read (none: as stored, so a read may answer the
    /// stored bytes). A template instance masks its generated parameter values.
    const SHOWN_AS: Option<fn(&mut Self)> = None;

    /// Fields a client may write but the server never stores nor answers, as dotted paths in
    /// the body (a trigger's `spec.webhook.secret`, a user's `password`). The kind's own write
    /// takes them apart; [`Kind::drop_write_only`], which the store runs on every object it
    /// writes, takes them out of the manifest kubectl keeps in an annotation.
    const WRITE_ONLY: &'static [&'static str] = &[];

    /// Drops the [`Kind::WRITE_ONLY`] fields from what the object carries besides itself: the
    /// manifest in `kubectl.kubernetes.io/last-applied-configuration`.
    fn drop_write_only(&mut self) {
        crate::write_only::scrub_last_applied(
            &mut self.metadata_mut().annotations,
            Self::WRITE_ONLY,
        );
    }

    /// What is wrong with the object (an empty list: nothing).
    fn validate(&self) -> Vec<FieldError> {
        Vec::new()
    }

    /// Sets what the server owns on a new object: kind, apiVersion, the project it is
    /// created in, its uid and creation time, and nothing else only it may write.
    fn prepare_create(&mut self, ns: Option<&str>, uid: String, now: Time) {
        let meta = self.metadata_mut();
        meta.keep_server_owned(None);
        meta.namespace = ns.map(str::to_owned);
        meta.uid = Some(uid);
        meta.creation_timestamp = Some(now);
        meta.resource_version = None;
        self.set_type_meta();
    }

    /// Keeps what the caller may not change from the stored object: uid, creation time,
    /// namespace and what only the server writes ([`ObjectMeta::keep_server_owned`]).
    fn prepare_update(&mut self, old: &Self) {
        let old = old.metadata();
        let (uid, created, ns) = (
            old.uid.clone(),
            old.creation_timestamp,
            old.namespace.clone(),
        );
        let meta = self.metadata_mut();
        meta.keep_server_owned(Some(old));
        meta.uid = uid;
        meta.creation_timestamp = created;
        meta.namespace = ns;
        self.set_type_meta();
    }

    /// Writes `kind` and `apiVersion` as the server answers them.
    fn set_type_meta(&mut self);

    /// The name, or `""` when unset.
    fn name(&self) -> &str {
        self.metadata().name()
    }
}

/// Implements [`Object`] and the type-meta part of [`Kind`] for a type with `kind`,
/// `api_version` and `metadata` fields; a kind's name type defaults to [`crate::ObjectName`].
/// The type also gets an inherent `KIND`, so `Type::KIND` reads without importing [`Object`].
#[macro_export]
macro_rules! object_impl {
    (@name) => { $crate::ObjectName };
    (@name $name:ty) => { $name };
    ($ty:ty, $resource:expr) => {
        impl $ty {
            /// The kind's name on the wire, from its resource's declaration.
            pub const KIND: &'static str = $resource.kind;
        }

        impl $crate::object::Object for $ty {
            const KIND: &'static str = $resource.kind;
            const API_VERSION: &'static str = $resource.api_version;
            fn metadata(&self) -> &$crate::meta::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut $crate::meta::ObjectMeta {
                &mut self.metadata
            }
        }
    };
    (kind $ty:ty, $resource:expr $(, name = $name:ty)? $(, validate = $validate:expr)?
     $(, shown = $shown:expr)? $(, write_only = $write_only:expr)?) => {
        $crate::object_impl!($ty, $resource);
        impl $crate::object::Kind for $ty {
            const RESOURCE: $crate::object::ApiResource = $resource;
            type Name = $crate::object_impl!(@name $($name)?);
            $(const SHOWN_AS: Option<fn(&mut Self)> = Some($shown);)?
            $(const WRITE_ONLY: &'static [&'static str] = $write_only;)?
            $(fn validate(&self) -> Vec<$crate::validation::FieldError> {
                let validate: fn(&Self) -> Vec<$crate::validation::FieldError> = $validate;
                validate(self)
            })?
            fn set_type_meta(&mut self) {
                self.kind = <Self as $crate::object::Object>::KIND.into();
                self.api_version = <Self as $crate::object::Object>::API_VERSION.into();
            }
        }
    };
}
