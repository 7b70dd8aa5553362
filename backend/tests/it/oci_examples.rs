//! Every manifest, index and config in `../shared/fixtures/oci-examples/` (the OCI spec's
//! examples, containers/image's and OpenShift's importer test data) goes through the importer's
//! parsing: the media type is told, the document parses, and images come out with their
//! platform, layers and config.

#![expect(
    clippy::unwrap_used,
    reason = "a fixture that cannot be read fails the test"
)]

use std::path::{Path, PathBuf};

use tagstream_backend::registry::RegistryError;
use tagstream_backend::registry::manifest::{self, Parsed};
use tagstream_shared::Time;

fn fixtures() -> PathBuf {
    let dir = std::env::var_os("TAGSTREAM_FIXTURES").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
        PathBuf::from,
    );
    assert!(
        dir.join("SOURCES.md").is_file(),
        "the shared fixtures are absent: expected them at {} (the `shared/` folder beside this \
         repository, or set TAGSTREAM_FIXTURES)",
        dir.display()
    );
    dir.join("oci-examples")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let p = entry.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "schema") {
                walk(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

#[derive(Debug, PartialEq)]
enum Kind {
    Manifest,
    Index,
    Config,
    Other,
}

fn kind_of(v: &serde_json::Value) -> Kind {
    if v.get("manifests").is_some() {
        Kind::Index
    } else if v.get("layers").is_some() || v.get("fsLayers").is_some() || v.get("blobs").is_some() {
        Kind::Manifest
    } else if v.get("rootfs").is_some() || v.get("architecture").is_some() {
        Kind::Config
    } else {
        Kind::Other
    }
}

#[test]
fn every_oci_example_manifest_index_and_config_parses() {
    let mut files = Vec::new();
    walk(&fixtures(), &mut files);
    files.sort();
    let mut counts = [0usize; 3];
    let mut failures = Vec::new();
    for path in &files {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            // The negative fixture: not JSON, which the importer must refuse cleanly.
            assert!(
                matches!(
                    manifest::media_type_of(None, &bytes),
                    Err(RegistryError::Malformed { .. })
                ),
                "{name}"
            );
            continue;
        };
        match kind_of(&value) {
            Kind::Manifest | Kind::Index => {
                let media = match manifest::media_type_of(None, &bytes) {
                    Ok(m) => m,
                    Err(RegistryError::UnsupportedMediaType(t)) => {
                        // Schema 1 and unknown versions are refused by name, never parsed.
                        assert!(
                            t.contains("v1+prettyjws") || value["schemaVersion"] != 2,
                            "{name}: {t}"
                        );
                        continue;
                    }
                    Err(e) => {
                        failures.push(format!("{name}: {e}"));
                        continue;
                    }
                };
                let config_type = value["config"]["mediaType"].as_str().unwrap_or_default();
                let artifact = !config_type.is_empty()
                    && !config_type.contains("image.config")
                    && !config_type.contains("container.image");
                match manifest::parse(&media, &bytes) {
                    Ok(Parsed::List(_)) => counts[1] += 1,
                    Ok(Parsed::Image(_)) => counts[0] += 1,
                    // An artifact is not an image: `ociv1.artifact.json` has an empty config
                    // digest and null layers, which the importer refuses as malformed.
                    Err(RegistryError::Malformed { .. }) if artifact => {}
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
            Kind::Config => match manifest::parse_config(&bytes) {
                Ok(_) => counts[2] += 1,
                Err(e) => failures.push(format!("{name}: {e}")),
            },
            Kind::Other => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} did not parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        counts[0] >= 10 && counts[1] >= 5 && counts[2] >= 4,
        "manifests, indexes, configs: {counts:?}"
    );
}

#[test]
fn openshift_importer_data_becomes_images_with_platforms_layers_and_config() {
    let dir = fixtures().join("openshift-apiserver-importer");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let list_bytes = read("manifest-list.json");
    let media = manifest::media_type_of(None, &list_bytes).unwrap();
    let Ok(Parsed::List(index)) = manifest::parse(&media, &list_bytes) else {
        panic!("manifest-list.json is a list");
    };
    let list = manifest::list_image(
        "sha256:list",
        &media,
        &index,
        "example/x@sha256:list",
        Time::from_timestamp(0),
    );
    let platforms: Vec<String> = list
        .docker_image_manifests
        .iter()
        .map(|m| m.platform())
        .collect();
    assert!(
        platforms.contains(&"linux/amd64".to_owned()),
        "{platforms:?}"
    );
    assert!(
        platforms.iter().any(|p| p.starts_with("linux/arm64")),
        "{platforms:?}"
    );

    for arch in ["amd64", "arm64"] {
        let bytes = read(&format!("manifest-linux-{arch}.json"));
        let media = manifest::media_type_of(None, &bytes).unwrap();
        let Ok(Parsed::Image(m)) = manifest::parse(&media, &bytes) else {
            panic!("manifest-linux-{arch}.json is one image");
        };
        let config = manifest::parse_config(&read(&format!("config-linux-{arch}.json"))).unwrap();
        let image = manifest::single_image(
            "sha256:x",
            &media,
            &m,
            &config,
            "example/x@sha256:x",
            Time::from_timestamp(0),
        );
        let meta = image.docker_image_metadata.unwrap();
        assert_eq!(meta.architecture, arch);
        assert_eq!(meta.os, "linux");
        assert!(!image.docker_image_layers.is_empty());
        assert!(
            meta.size
                >= image
                    .docker_image_layers
                    .iter()
                    .map(|l| l.size)
                    .sum::<u64>()
        );
    }
}
