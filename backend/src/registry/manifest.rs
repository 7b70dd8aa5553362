//! Manifests, manifest lists and image configs, parsed with `oci-spec`'s types (Docker schema2
//! documents have the same shape as OCI ones), and turned into OpenShift's `Image`.

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};
use tagstream_shared::image::media_type;
use tagstream_shared::{
    DockerConfig, DockerImageMetadata, Image, ImageLayer, ImageManifest as ChildManifest,
    ObjectMeta, Time,
};

use super::error::RegistryError;

const SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The manifest's media type: the `Content-Type` when it names a manifest type, else the
/// document's own `mediaType`, else its shape (OCI allows leaving `mediaType` out).
pub fn media_type_of(header: Option<&str>, body: &[u8]) -> Result<String, RegistryError> {
    let known = |t: &str| media_type::ALL.contains(&t);
    if let Some(t) = header
        && known(t)
    {
        return Ok(t.to_owned());
    }
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| RegistryError::Malformed {
            what: "the manifest".into(),
            message: format!("not JSON: {e}"),
        })?;
    if let Some(t) = doc.get("mediaType").and_then(|v| v.as_str()) {
        return if known(t) {
            Ok(t.to_owned())
        } else {
            Err(RegistryError::UnsupportedMediaType(t.to_owned()))
        };
    }
    if doc.get("schemaVersion").and_then(serde_json::Value::as_u64) == Some(1) {
        return Err(RegistryError::UnsupportedMediaType(SCHEMA1.into()));
    }
    if doc.get("manifests").is_some() {
        return Ok(media_type::OCI_INDEX.into());
    }
    if doc.get("config").is_some() && doc.get("layers").is_some() {
        return Ok(media_type::OCI_MANIFEST.into());
    }
    Err(RegistryError::UnsupportedMediaType(
        header.unwrap_or("(none)").to_owned(),
    ))
}

/// A manifest as parsed: one platform's image, or a list of them.
#[derive(Debug)]
pub enum Parsed {
    Image(Box<ImageManifest>),
    List(Box<ImageIndex>),
}

pub fn parse(media: &str, body: &[u8]) -> Result<Parsed, RegistryError> {
    let malformed = |e: serde_json::Error| RegistryError::Malformed {
        what: format!("the {media} manifest"),
        message: e.to_string(),
    };
    if media_type::is_list(media) {
        Ok(Parsed::List(Box::new(
            serde_json::from_slice(body).map_err(malformed)?,
        )))
    } else if media == media_type::OCI_MANIFEST || media == media_type::DOCKER_MANIFEST {
        Ok(Parsed::Image(Box::new(
            serde_json::from_slice(body).map_err(malformed)?,
        )))
    } else {
        Err(RegistryError::UnsupportedMediaType(media.to_owned()))
    }
}

pub fn parse_config(body: &[u8]) -> Result<ImageConfiguration, RegistryError> {
    serde_json::from_slice(body).map_err(|e| RegistryError::Malformed {
        what: "the image config".into(),
        message: e.to_string(),
    })
}

fn platform_of(d: &Descriptor) -> (String, String, String) {
    d.platform().as_ref().map_or_else(
        || (String::new(), String::new(), String::new()),
        |p| {
            (
                p.os().to_string(),
                p.architecture().to_string(),
                p.variant().clone().unwrap_or_default(),
            )
        },
    )
}

/// The child of a list that runs on `platform` (`os/arch[/variant]`); a child without a
/// variant matches any variant asked for.
pub fn pick_platform<'a>(index: &'a ImageIndex, platform: &str) -> Option<&'a Descriptor> {
    let mut parts = platform.split('/');
    let (os, arch, variant) = (parts.next()?, parts.next()?, parts.next());
    let candidates = || {
        index.manifests().iter().filter(move |d| {
            let (o, a, _) = platform_of(d);
            o == os && a == arch
        })
    };
    match variant {
        Some(v) => candidates()
            .find(|d| platform_of(d).2 == v)
            .or_else(|| candidates().find(|d| platform_of(d).2.is_empty())),
        None => candidates().next(),
    }
}

fn object_meta(digest: &str, now: Time) -> ObjectMeta {
    let mut meta = ObjectMeta::named(digest);
    meta.creation_timestamp = Some(now);
    meta.annotations
        .get_or_insert_with(Default::default)
        .insert(
            "image.openshift.io/dockerLayersOrder".into(),
            "ascending".into(),
        );
    meta
}

/// The `Image` of a manifest list: its children with their platforms, no config.
pub fn list_image(
    digest: &str,
    media: &str,
    index: &ImageIndex,
    pull_spec: &str,
    now: Time,
) -> Image {
    Image {
        kind: Image::KIND.into(),
        api_version: tagstream_shared::imagestream::API_VERSION.into(),
        metadata: object_meta(digest, now),
        docker_image_reference: pull_spec.to_owned(),
        docker_image_manifest_media_type: Some(media.to_owned()),
        docker_image_manifests: index
            .manifests()
            .iter()
            .map(|d| {
                let (os, architecture, variant) = platform_of(d);
                ChildManifest {
                    digest: d.digest().to_string(),
                    media_type: d.media_type().to_string(),
                    manifest_size: d.size(),
                    architecture,
                    os,
                    variant,
                }
            })
            .collect(),
        ..Image::default()
    }
}

/// The `Image` of one platform's manifest and its config.
pub fn single_image(
    digest: &str,
    media: &str,
    manifest: &ImageManifest,
    config: &ImageConfiguration,
    pull_spec: &str,
    now: Time,
) -> Image {
    let layers: Vec<ImageLayer> = manifest
        .layers()
        .iter()
        .map(|l| ImageLayer {
            name: l.digest().to_string(),
            size: l.size(),
            media_type: l.media_type().to_string(),
        })
        .collect();
    let size = layers.iter().map(|l| l.size).sum::<u64>() + manifest.config().size();
    let docker_config = config.config().as_ref().map(|c| DockerConfig {
        user: c.user().clone().unwrap_or_default(),
        exposed_ports: c
            .exposed_ports()
            .iter()
            .flatten()
            .map(|p| (p.clone(), serde_json::json!({})))
            .collect(),
        env: c.env().clone().unwrap_or_default(),
        entrypoint: c.entrypoint().clone().unwrap_or_default(),
        cmd: c.cmd().clone().unwrap_or_default(),
        working_dir: c.working_dir().clone().unwrap_or_default(),
        labels: c
            .labels()
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        extra: Default::default(),
    });
    Image {
        kind: Image::KIND.into(),
        api_version: tagstream_shared::imagestream::API_VERSION.into(),
        metadata: object_meta(digest, now),
        docker_image_reference: pull_spec.to_owned(),
        docker_image_metadata: Some(DockerImageMetadata {
            kind: "DockerImage".into(),
            api_version: "1.0".into(),
            id: manifest.config().digest().to_string(),
            created: config
                .created()
                .as_deref()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .map(|t| Time::from_timestamp(t.timestamp())),
            author: config.author().clone().unwrap_or_default(),
            config: docker_config,
            architecture: config.architecture().to_string(),
            os: config.os().to_string(),
            variant: config.variant().clone().unwrap_or_default(),
            size,
            extra: Default::default(),
        }),
        docker_image_metadata_version: Some("1.0".into()),
        docker_image_layers: layers,
        docker_image_manifest_media_type: Some(media.to_owned()),
        ..Image::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_media_type_comes_from_the_header_then_the_document() {
        assert_eq!(
            media_type_of(Some(media_type::OCI_INDEX), b"{}")
                .ok()
                .as_deref(),
            Some(media_type::OCI_INDEX)
        );
        assert_eq!(
            media_type_of(
                Some("application/octet-stream"),
                br#"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#
            )
            .ok()
            .as_deref(),
            Some(media_type::DOCKER_MANIFEST)
        );
        assert_eq!(
            media_type_of(None, br#"{"schemaVersion":2,"manifests":[]}"#)
                .ok()
                .as_deref(),
            Some(media_type::OCI_INDEX)
        );
        assert!(matches!(
            media_type_of(None, br#"{"schemaVersion":1,"fsLayers":[]}"#),
            Err(RegistryError::UnsupportedMediaType(t)) if t == SCHEMA1
        ));
        assert!(matches!(
            media_type_of(None, br#"{"mediaType":"application/x-unknown"}"#),
            Err(RegistryError::UnsupportedMediaType(_))
        ));
        assert!(matches!(
            media_type_of(None, b"not json"),
            Err(RegistryError::Malformed { .. })
        ));
    }
}
