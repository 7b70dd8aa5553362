//! Real OpenShift files from `../shared/fixtures` (beside the repository; `TAGSTREAM_FIXTURES`
//! overrides the place) load into our types and serialize back to equal JSON.

use std::path::PathBuf;

use serde_json::Value;
use tagstream_shared::validation::validate_image_stream;
use tagstream_shared::{ImageReference, ImageStream, SourceKind};

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
    dir
}

fn json_files(dir: PathBuf) -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                value,
            )
        })
        .collect()
}

fn library_streams() -> Vec<(String, Value)> {
    let streams = json_files(fixtures().join("openshift-library/imagestreams"));
    assert_eq!(
        streams.len(),
        60,
        "openshift/library ships 60 image stream files"
    );
    streams
}

#[test]
fn every_library_image_stream_round_trips_to_equal_json() {
    for (name, original) in library_streams() {
        let stream: ImageStream = serde_json::from_value(original.clone())
            .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
        let back = serde_json::to_value(&stream).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            back, original,
            "{name} changed on the way through our types"
        );
    }
}

#[test]
fn samples_operator_image_streams_round_trip_too() {
    let dir = fixtures().join("cluster-samples-operator/ocp-x86_64/imagestreams");
    let files = json_files(dir);
    assert!(!files.is_empty());
    for (name, original) in files {
        let stream: ImageStream = serde_json::from_value(original.clone())
            .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
        assert_eq!(serde_json::to_value(&stream).ok(), Some(original), "{name}");
    }
}

#[test]
fn every_library_image_stream_is_valid_and_its_references_parse() {
    let mut references = 0;
    for (name, original) in library_streams() {
        let stream: ImageStream =
            serde_json::from_value(original).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            validate_image_stream(&stream, "openshift"),
            vec![],
            "{name}"
        );
        for tag in &stream.spec.tags {
            let Some(from) = &tag.from else { continue };
            if from.source_kind() == Some(SourceKind::DockerImage) {
                from.name
                    .parse::<ImageReference>()
                    .unwrap_or_else(|e| panic!("{name} tag {}: {}: {e}", tag.name, from.name));
                references += 1;
            }
        }
    }
    assert!(
        references > 200,
        "only {references} DockerImage references seen"
    );
}

#[test]
fn unknown_fields_are_kept_not_dropped() {
    let text = r#"{"kind":"ImageStream","apiVersion":"image.openshift.io/v1",
        "metadata":{"name":"x","creationTimestamp":null,"finalizers":["a"]},
        "spec":{"lookupPolicy":{"local":true},"futureField":{"n":1},
                "tags":[{"name":"t","annotations":null,"generation":3,"importPolicy":{},
                         "referencePolicy":{"type":"Source"},"newThing":true}]},
        "status":{"dockerImageRepository":"","somethingElse":[1]},
        "topLevelExtra":"kept"}"#;
    let original: Value = serde_json::from_str(text).expect("valid JSON");
    let stream: ImageStream = serde_json::from_value(original.clone()).expect("loads");
    assert_eq!(serde_json::to_value(&stream).ok(), Some(original));
}
