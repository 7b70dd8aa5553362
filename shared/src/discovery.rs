//! Kubernetes API discovery, derived from the catalogue (`crate::resources::ALL`): the legacy
//! documents (`/api` `APIVersions`, `/apis` `APIGroupList`, `/apis/{group}/{version}`
//! `APIResourceList`) and the aggregated form (`APIGroupDiscoveryList`, apidiscovery.k8s.io v2
//! and v2beta1) that kubectl asks for first. Nothing here names a resource: every entry comes
//! from a declaration, so a kind added to the catalogue is discoverable at once.

mod accept;
mod documents;

use crate::object::{ApiResource, Scope};
use crate::resources::{ALL, IMAGESTREAMS};

/// The Kubernetes version the server reports (`/version`): the discovery, table, watch and
/// patch behaviour served is that of this release.
pub const KUBERNETES_MINOR: &str = "30";

/// Subresources that no catalogue entry declares as a path of their own (`status` is served on
/// the parent's route). Sub-collections declared in the catalogue (`users/{name}/tokens`) are
/// found from their routes instead.
// Kept here until `ApiResource` carries its subresources (the object-model work).
const STATUS_SUBRESOURCES: &[(&ApiResource, &[crate::access::Verb])] = &[(
    &IMAGESTREAMS,
    &[crate::access::Verb::Get, crate::access::Verb::Update],
)];

pub use accept::{AggregatedVersion, media_params};
pub use documents::{
    ApiGroup, ApiGroupDiscovery, ApiGroupDiscoveryList, ApiGroupList, ApiResourceDiscovery,
    ApiResourceEntry, ApiResourceList, ApiSubresourceDiscovery, ApiVersionDiscovery, ApiVersions,
    GroupMeta, GroupVersionForDiscovery, GroupVersionKind, ServerAddress, VersionInfo,
};

/// A served resource is listed in discovery when its collection is at the standard place;
/// one that lives under another resource's object (`users/{name}/tokens`) is that resource's
/// subresource.
fn top_level(r: &ApiResource) -> bool {
    !r.verbs.is_empty() && r.collection_route == standard_collection(r)
}

fn standard_collection(r: &ApiResource) -> String {
    match r.scope {
        Scope::Namespaced => r.collection(Some("{ns}")),
        Scope::Cluster => r.collection(None),
    }
}

/// The subresources of `parent`: `(name, kind, verbs)`.
fn subresources_of(parent: &ApiResource) -> Vec<(&'static str, &'static str, Vec<String>)> {
    let mut out: Vec<_> = STATUS_SUBRESOURCES
        .iter()
        .filter(|(r, _)| *r == parent)
        .map(|(r, verbs)| ("status", r.kind, verb_names(verbs)))
        .collect();
    let prefix = format!("{}/", parent.item_route);
    for child in ALL.iter().filter(|c| !top_level(c)) {
        if let Some(rest) = child.collection_route.strip_prefix(&prefix)
            && !rest.contains('/')
        {
            out.push((child.plural, child.kind, verb_names(child.verbs)));
        }
    }
    out
}

fn verb_names(verbs: &[crate::access::Verb]) -> Vec<String> {
    verbs.iter().map(|v| v.as_str().to_owned()).collect()
}

/// The served resources, top-level ones only, in catalogue order except that resources one
/// cannot read (`processedtemplates`, `imagestreamimports`) come first: kubectl maps a kind to
/// the last resource listed with it, and `Template` must map to `templates`.
pub fn served() -> impl Iterator<Item = &'static ApiResource> {
    let readable = |r: &&ApiResource| r.verbs.contains(&crate::access::Verb::Get);
    let (readable, virtual_): (Vec<_>, Vec<_>) =
        ALL.iter().filter(|r| top_level(r)).partition(readable);
    virtual_.into_iter().chain(readable)
}

/// The groups served, in catalogue order, each with its versions.
fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    // The core group is `/api`'s, not one of `/apis`.
    for r in served().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
            Some(_) => {}
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}

/// `/api`: the core group has v1 (namespaces, which are projects).
pub fn api_versions() -> ApiVersions {
    ApiVersions {
        kind: "APIVersions".into(),
        versions: vec!["v1".into()],
        server_address_by_client_cidrs: vec![ServerAddress {
            client_cidr: "0.0.0.0/0".into(),
            server_address: String::new(),
        }],
    }
}

/// `/apis`.
pub fn api_group_list() -> ApiGroupList {
    let groups = groups()
        .into_iter()
        .map(|(name, versions)| {
            let versions: Vec<_> = versions
                .into_iter()
                .map(|v| GroupVersionForDiscovery {
                    group_version: format!("{name}/{v}"),
                    version: v.into(),
                })
                .collect();
            ApiGroup {
                name: name.into(),
                preferred_version: versions[0].clone(),
                versions,
            }
        })
        .collect();
    ApiGroupList {
        kind: "APIGroupList".into(),
        api_version: "v1".into(),
        groups,
    }
}

/// `/apis/{group}/{version}` (`group` empty: `/api/{version}`); none for a group-version that
/// is not served.
pub fn api_resource_list(group: &str, version: &str) -> Option<ApiResourceList> {
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    let core = group.is_empty() && version == "v1";
    if !core && !served().any(|r| r.group == group && r.version == version) {
        return None;
    }
    let mut resources = Vec::new();
    for r in served().filter(|r| r.group == group && r.version == version) {
        resources.push(ApiResourceEntry {
            name: r.plural.into(),
            singular_name: r.singular.into(),
            namespaced: r.is_namespaced(),
            kind: r.kind.into(),
            verbs: verb_names(r.verbs),
            short_names: r.short_names.iter().map(|s| (*s).to_owned()).collect(),
        });
        for (sub, kind, verbs) in subresources_of(r) {
            resources.push(ApiResourceEntry {
                name: format!("{}/{sub}", r.plural),
                singular_name: String::new(),
                namespaced: r.is_namespaced(),
                kind: kind.into(),
                verbs,
                short_names: Vec::new(),
            });
        }
    }
    Some(ApiResourceList {
        kind: "APIResourceList".into(),
        api_version: "v1".into(),
        group_version,
        resources,
    })
}

fn gvk(r: &ApiResource, kind: &str) -> GroupVersionKind {
    GroupVersionKind {
        group: r.group.into(),
        version: r.version.into(),
        kind: kind.into(),
    }
}

/// The aggregated document for `/apis` (`legacy`: false) or `/api` (`legacy`: true).
pub fn aggregated(version: AggregatedVersion, legacy: bool) -> ApiGroupDiscoveryList {
    let items = if legacy {
        vec![ApiGroupDiscovery {
            metadata: GroupMeta {
                name: String::new(),
            },
            versions: vec![ApiVersionDiscovery {
                version: "v1".into(),
                resources: served()
                    .filter(|r| r.group.is_empty())
                    .map(resource_discovery)
                    .collect(),
                freshness: "Current".into(),
            }],
        }]
    } else {
        groups()
            .into_iter()
            .map(|(group, versions)| ApiGroupDiscovery {
                metadata: GroupMeta { name: group.into() },
                versions: versions
                    .into_iter()
                    .map(|v| ApiVersionDiscovery {
                        version: v.into(),
                        resources: served()
                            .filter(|r| r.group == group && r.version == v)
                            .map(resource_discovery)
                            .collect(),
                        freshness: "Current".into(),
                    })
                    .collect(),
            })
            .collect()
    };
    ApiGroupDiscoveryList {
        kind: "APIGroupDiscoveryList".into(),
        api_version: format!("apidiscovery.k8s.io/{}", version.as_str()),
        metadata: serde_json::Map::new(),
        items,
    }
}

fn resource_discovery(r: &ApiResource) -> ApiResourceDiscovery {
    ApiResourceDiscovery {
        resource: r.plural.into(),
        response_kind: gvk(r, r.kind),
        scope: match r.scope {
            Scope::Namespaced => "Namespaced",
            Scope::Cluster => "Cluster",
        }
        .into(),
        singular_resource: r.singular.into(),
        verbs: verb_names(r.verbs),
        short_names: r.short_names.iter().map(|s| (*s).to_owned()).collect(),
        subresources: subresources_of(r)
            .into_iter()
            .map(|(sub, kind, verbs)| ApiSubresourceDiscovery {
                subresource: sub.into(),
                response_kind: gvk(r, kind),
                verbs,
            })
            .collect(),
    }
}

/// The served resource of objects of `kind` in `api_version` (the readable one, for a kind
/// served twice).
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ApiResource> {
    served()
        .filter(|r| r.api_version == api_version && r.kind == kind)
        .last()
}

/// The served resource whose list is `list_kind` (`ImageStreamList`) in `api_version`.
pub fn by_list_kind(api_version: &str, list_kind: &str) -> Option<&'static ApiResource> {
    by_kind(api_version, list_kind.strip_suffix("List")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_streams_are_discovered_with_openshifts_short_names_and_status() {
        let list = api_resource_list("image.openshift.io", "v1").expect("served");
        let is = list.resources.iter().find(|r| r.name == "imagestreams");
        let is = is.expect("imagestreams listed");
        assert_eq!(is.short_names, ["is"]);
        assert!(is.namespaced);
        assert!(is.verbs.contains(&"patch".to_owned()));
        assert!(
            list.resources
                .iter()
                .any(|r| r.name == "imagestreams/status")
        );
        assert!(list.resources.iter().any(|r| r.name == "imagestreamtags"));
        assert!(api_resource_list("image.openshift.io", "v2").is_none());
        assert!(api_resource_list("apps", "v1").is_none());
    }

    #[test]
    fn a_kind_served_twice_maps_last_to_its_readable_resource() {
        let list = api_resource_list("template.openshift.io", "v1").expect("served");
        let last = list.resources.iter().rev().find(|r| r.kind == "Template");
        assert_eq!(last.map(|r| r.name.as_str()), Some("templates"));
    }

    #[test]
    fn sub_collections_are_subresources_not_resources() {
        let list = api_resource_list("user.openshift.io", "v1").expect("served");
        let names: Vec<_> = list.resources.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"users/tokens"), "{names:?}");
        assert!(!names.contains(&"tokens"), "{names:?}");
    }

    #[test]
    fn every_served_group_is_in_the_group_list_and_aggregated_document() {
        let groups = api_group_list();
        let aggregated = aggregated(AggregatedVersion::V2, false);
        let core = super::aggregated(AggregatedVersion::V2, true);
        let core = &core.items[0].versions[0].resources;
        assert!(core.iter().any(|x| x.resource == "namespaces"), "{core:?}");
        assert!(api_resource_list("", "v1").is_some_and(|l| l.resources[0].short_names == ["ns"]));
        for r in served().filter(|r| !r.group.is_empty()) {
            assert!(groups.groups.iter().any(|g| g.name == r.group), "{r}");
            let group = aggregated.items.iter().find(|g| g.metadata.name == r.group);
            let resources = &group.expect("group").versions[0].resources;
            assert!(resources.iter().any(|x| x.resource == r.plural), "{r}");
        }
    }

    #[test]
    fn aggregated_accept_headers_are_recognised() {
        let k133 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,\
                    application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,\
                    application/json";
        let k127 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,\
                    application/json";
        assert_eq!(
            AggregatedVersion::from_accept(k133),
            Some(AggregatedVersion::V2)
        );
        assert_eq!(
            AggregatedVersion::from_accept(k127),
            Some(AggregatedVersion::V2Beta1)
        );
        assert_eq!(AggregatedVersion::from_accept("application/json"), None);
    }
}
