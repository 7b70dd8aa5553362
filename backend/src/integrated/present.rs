//! How streams read when tagstream runs an integrated registry (`[registry] public_host`): the
//! pull specs clients use. History items pointing at the registry's internal address show its
//! public host; every item of a `referencePolicy: Local` tag shows
//! `public_host/project/stream@digest` (pulled through the integrated registry, as OpenShift's
//! local reference policy means); `status.dockerImageRepository` names the stream's repository
//! at the registry's internal address and `status.publicDockerImageRepository` at its public
//! host, as OpenShift's do. Applied on every read path (GET, lists, the istag list and views,
//! imagestreamimages, write answers, watch events) through `stream`; nothing stored changes for
//! it, so changing `public_host` changes every answer at once.

use serde_json::Value;
use tagstream_shared::ImageStream;

use super::config::IntegratedRegistryConfig;
use crate::app::AppState;

/// `public_host/{repository}@{digest}`: what clients pull an image of the integrated registry
/// by. The one place that spelling is made.
pub fn pull_spec(registry: &IntegratedRegistryConfig, repository: &str, digest: &str) -> String {
    format!("{}/{repository}@{digest}", registry.public_host())
}

/// Rewrites `stream`'s pull specs for `registry` (none: unchanged).
pub fn stream(registry: Option<&IntegratedRegistryConfig>, stream: &mut ImageStream) {
    let Some(registry) = registry else {
        return;
    };
    let public = registry.public_host();
    let internal = registry.internal_host().ok();
    let (Some(ns), Some(name)) = (
        stream.metadata.namespace.clone(),
        stream.metadata.name.clone(),
    ) else {
        return;
    };
    let repository_path = format!("{ns}/{name}");
    stream.status.public_docker_image_repository = Some(format!("{public}/{repository_path}"));
    if let Some(internal) = &internal {
        stream.status.docker_image_repository = format!("{internal}/{repository_path}");
    }
    let local: Vec<String> = stream
        .spec
        .tags
        .iter()
        .filter(|t| t.reference_policy.kind == "Local")
        .map(|t| t.name.clone())
        .collect();
    let internal_prefix = internal.filter(|i| *i != public).map(|i| format!("{i}/"));
    for list in &mut stream.status.tags {
        let is_local = local.contains(&list.tag);
        for item in &mut list.items {
            if is_local {
                item.docker_image_reference = pull_spec(registry, &repository_path, &item.image);
            } else if let Some(prefix) = &internal_prefix
                && let Some(rest) = item.docker_image_reference.strip_prefix(prefix.as_str())
            {
                item.docker_image_reference = format!("{public}/{rest}");
            }
        }
    }
}

/// `stream` as the server's answers show it.
pub fn shown(state: &AppState, mut s: ImageStream) -> ImageStream {
    stream(state.config.registry.as_ref(), &mut s);
    s
}

/// A watch event's object of `resource`, shown like the lists show it (streams only; other
/// resources name no pull spec of a stream).
pub fn watch_object(
    registry: Option<&IntegratedRegistryConfig>,
    resource: &str,
    object: &mut Value,
) {
    if registry.is_none() || resource != "imagestreams" {
        return;
    }
    let Ok(mut s) = serde_json::from_value::<ImageStream>(object.clone()) else {
        return;
    };
    stream(registry, &mut s);
    if let Ok(v) = serde_json::to_value(&s) {
        *object = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagstream_shared::{NamedTagEventList, TagEvent, TagReference, Time};

    fn registry(public: Option<&str>) -> IntegratedRegistryConfig {
        let text = match public {
            Some(p) => format!("url = \"http://10.0.0.5:5000\"\npublic_host = \"{p}\""),
            None => "url = \"http://10.0.0.5:5000\"".to_owned(),
        };
        toml::from_str(&text).expect("a [registry] section")
    }

    fn item(reference: &str, image: &str) -> TagEvent {
        TagEvent {
            created: Time::from_timestamp(0),
            docker_image_reference: reference.into(),
            image: image.into(),
            generation: 1,
        }
    }

    #[test]
    fn local_and_internal_pull_specs_name_the_public_host() {
        let mut s = ImageStream::new("ruby");
        s.metadata.namespace = Some("demo".into());
        let mut local = TagReference {
            name: "local".into(),
            ..Default::default()
        };
        local.reference_policy.kind = "Local".into();
        s.spec.tags = vec![local];
        s.status.tags = vec![
            NamedTagEventList {
                tag: "local".into(),
                items: vec![item("quay.io/x/ruby@sha256:a", "sha256:a")],
                ..Default::default()
            },
            NamedTagEventList {
                tag: "pushed".into(),
                items: vec![
                    item("10.0.0.5:5000/demo/ruby@sha256:b", "sha256:b"),
                    item("quay.io/x/ruby@sha256:c", "sha256:c"),
                ],
                ..Default::default()
            },
        ];
        let untouched = s.clone();
        stream(None, &mut s);
        assert_eq!(s, untouched);
        stream(Some(&registry(Some("registry.example.com"))), &mut s);
        let specs: Vec<&str> = s
            .status
            .tags
            .iter()
            .flat_map(|l| l.items.iter().map(|i| i.docker_image_reference.as_str()))
            .collect();
        assert_eq!(
            specs,
            [
                "registry.example.com/demo/ruby@sha256:a",
                "registry.example.com/demo/ruby@sha256:b",
                "quay.io/x/ruby@sha256:c",
            ]
        );
        assert_eq!(
            s.status.public_docker_image_repository.as_deref(),
            Some("registry.example.com/demo/ruby")
        );
        assert_eq!(s.status.docker_image_repository, "10.0.0.5:5000/demo/ruby");
    }
}
