//! What differs between two images: labels and environment added, removed or changed, and
//! layers added or removed (by digest). The console's compare page shows it side by side.

use std::collections::BTreeMap;

use crate::image::{Image, ImageLayer};

/// One key's difference between the first and the second image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added {
        key: String,
        value: String,
    },
    Removed {
        key: String,
        value: String,
    },
    Changed {
        key: String,
        from: String,
        to: String,
    },
}

impl Change {
    pub fn key(&self) -> &str {
        match self {
            Self::Added { key, .. } | Self::Removed { key, .. } | Self::Changed { key, .. } => key,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageDiff {
    pub labels: Vec<Change>,
    pub env: Vec<Change>,
    /// Layers of the second image that the first does not have.
    pub layers_added: Vec<ImageLayer>,
    /// Layers of the first image that the second does not have.
    pub layers_removed: Vec<ImageLayer>,
    /// Layers both have.
    pub layers_shared: usize,
}

fn changes(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<Change> {
    let mut out = Vec::new();
    for (key, value) in a {
        match b.get(key) {
            None => out.push(Change::Removed {
                key: key.clone(),
                value: value.clone(),
            }),
            Some(to) if to != value => out.push(Change::Changed {
                key: key.clone(),
                from: value.clone(),
                to: to.clone(),
            }),
            Some(_) => {}
        }
    }
    for (key, value) in b {
        if !a.contains_key(key) {
            out.push(Change::Added {
                key: key.clone(),
                value: value.clone(),
            });
        }
    }
    out.sort_by(|x, y| x.key().cmp(y.key()));
    out
}

fn labels(image: &Image) -> BTreeMap<String, String> {
    image
        .docker_image_metadata
        .as_ref()
        .and_then(|m| m.config.as_ref())
        .map(|c| c.labels.clone())
        .unwrap_or_default()
}

/// `NAME=value` entries as a map (a later duplicate wins, as in a container).
fn env(image: &Image) -> BTreeMap<String, String> {
    image
        .docker_image_metadata
        .as_ref()
        .and_then(|m| m.config.as_ref())
        .map(|c| {
            c.env
                .iter()
                .map(|e| match e.split_once('=') {
                    Some((k, v)) => (k.to_owned(), v.to_owned()),
                    None => (e.clone(), String::new()),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How `b` differs from `a`.
pub fn diff(a: &Image, b: &Image) -> ImageDiff {
    let has =
        |image: &Image, digest: &str| image.docker_image_layers.iter().any(|l| l.name == digest);
    ImageDiff {
        labels: changes(&labels(a), &labels(b)),
        env: changes(&env(a), &env(b)),
        layers_added: b
            .docker_image_layers
            .iter()
            .filter(|l| !has(a, &l.name))
            .cloned()
            .collect(),
        layers_removed: a
            .docker_image_layers
            .iter()
            .filter(|l| !has(b, &l.name))
            .cloned()
            .collect(),
        layers_shared: a
            .docker_image_layers
            .iter()
            .filter(|l| has(b, &l.name))
            .count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{DockerConfig, DockerImageMetadata};

    fn image(labels: &[(&str, &str)], env: &[&str], layers: &[&str]) -> Image {
        Image {
            docker_image_metadata: Some(DockerImageMetadata {
                config: Some(DockerConfig {
                    labels: labels
                        .iter()
                        .map(|(k, v)| ((*k).into(), (*v).into()))
                        .collect(),
                    env: env.iter().map(|e| (*e).into()).collect(),
                    ..DockerConfig::default()
                }),
                ..DockerImageMetadata::default()
            }),
            docker_image_layers: layers
                .iter()
                .map(|d| ImageLayer {
                    name: (*d).into(),
                    size: 10,
                    media_type: String::new(),
                })
                .collect(),
            ..Image::default()
        }
    }

    fn names(layers: &[ImageLayer]) -> Vec<&str> {
        layers.iter().map(|l| l.name.as_str()).collect()
    }

    #[test]
    fn labels_env_and_layers_are_compared_by_key_and_digest() {
        let a = image(
            &[("version", "1"), ("gone", "x")],
            &["PATH=/bin", "MODE=dev"],
            &["l1", "l2"],
        );
        let b = image(
            &[("version", "2"), ("new", "y")],
            &["PATH=/bin", "DEBUG=1"],
            &["l1", "l3"],
        );
        let d = diff(&a, &b);
        assert_eq!(
            d.labels,
            [
                Change::Removed {
                    key: "gone".into(),
                    value: "x".into()
                },
                Change::Added {
                    key: "new".into(),
                    value: "y".into()
                },
                Change::Changed {
                    key: "version".into(),
                    from: "1".into(),
                    to: "2".into()
                },
            ]
        );
        assert_eq!(
            d.env,
            [
                Change::Added {
                    key: "DEBUG".into(),
                    value: "1".into()
                },
                Change::Removed {
                    key: "MODE".into(),
                    value: "dev".into()
                },
            ]
        );
        assert_eq!(names(&d.layers_added), ["l3"]);
        assert_eq!(names(&d.layers_removed), ["l2"]);
        assert_eq!(d.layers_shared, 1);
        assert_eq!(
            diff(&a, &a),
            ImageDiff {
                layers_shared: 2,
                ..ImageDiff::default()
            }
        );
    }
}
