//! Push events from registries tagstream does not run, in the shapes they send: distribution
//! notification envelopes, Docker Hub, Quay, Harbor and GitHub package webhooks. Each becomes a
//! list of pushed `registry/repository:tag` with an event id (the sender's, or for senders
//! without one the digest of what was pushed, so that the same delivery is recognised). A body
//! in none of these shapes is refused; bounds on its size are the caller's.

use serde_json::Value;
use sha2::Digest as _;

use crate::error::ApiError;

/// At most this many pushed tags are read from one delivery.
pub const MAX_PUSHES: usize = 100;

/// One pushed tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Identifies the event, to apply it once.
    pub id: String,
    /// `host[:port]` as references name it (`docker.io` for Docker Hub).
    pub registry: String,
    /// `org/app` (`library/ruby` for Docker Hub's official images).
    pub repository: String,
    pub tag: String,
}

/// Which sender a body came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Distribution,
    DockerHub,
    Quay,
    Harbor,
    GitHub,
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(*key)?;
    }
    at.as_str().filter(|x| !x.is_empty() && x.len() <= 512)
}

fn body_digest(body: &[u8]) -> String {
    let hash = sha2::Sha256::digest(body);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// `host/path:tag` (as Harbor and GitHub write them), split; `None` without a tag.
fn split_reference(r: &str) -> Option<(String, String, String)> {
    let r = r
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let (host, rest) = r.split_once('/')?;
    let rest = rest.split('@').next()?;
    let (path, tag) = rest.rsplit_once(':')?;
    Some((host.to_owned(), path.to_owned(), tag.to_owned()))
}

/// The pushes in `body`, a JSON document of one of the known shapes.
pub fn parse(body: &[u8], github_event: Option<&str>) -> Result<(Format, Vec<Pushed>), ApiError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    let unknown = || {
        ApiError::BadRequest(
            "the body is no push event tagstream knows: send a distribution notification \
             envelope, or a Docker Hub, Quay, Harbor or GitHub package webhook"
                .into(),
        )
    };
    let (format, mut pushes) = if let Some(events) = doc.get("events").and_then(Value::as_array) {
        let mut out = Vec::new();
        for e in events {
            if s(e, &["action"]) != Some("push") {
                continue;
            }
            let (Some(id), Some(repo), Some(tag)) = (
                s(e, &["id"]),
                s(e, &["target", "repository"]),
                s(e, &["target", "tag"]),
            ) else {
                continue;
            };
            let host = s(e, &["request", "host"]).map(str::to_owned).or_else(|| {
                let url = url::Url::parse(s(e, &["target", "url"])?).ok()?;
                let host = url.host_str()?.to_owned();
                Some(match url.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                })
            });
            let Some(registry) = host else { continue };
            out.push(Pushed {
                id: id.to_owned(),
                registry,
                repository: repo.to_owned(),
                tag: tag.to_owned(),
            });
        }
        (Format::Distribution, out)
    } else if let (Some(tag), Some(repo)) = (
        s(&doc, &["push_data", "tag"]),
        s(&doc, &["repository", "repo_name"]),
    ) {
        let repository = if repo.contains('/') {
            repo.to_owned()
        } else {
            format!("library/{repo}")
        };
        let id = s(&doc, &["callback_url"]).map_or_else(|| body_digest(body), str::to_owned);
        let pushed = Pushed {
            id,
            registry: "docker.io".into(),
            repository,
            tag: tag.to_owned(),
        };
        (Format::DockerHub, vec![pushed])
    } else if let (Some(tags), Some(docker_url)) = (
        doc.get("updated_tags").and_then(Value::as_array),
        s(&doc, &["docker_url"]),
    ) {
        let Some((registry, repository)) = docker_url.split_once('/') else {
            return Err(unknown());
        };
        let id = body_digest(body);
        let out = tags
            .iter()
            .filter_map(Value::as_str)
            .map(|t| Pushed {
                id: id.clone(),
                registry: registry.to_owned(),
                repository: repository.to_owned(),
                tag: t.to_owned(),
            })
            .collect();
        (Format::Quay, out)
    } else if let (Some(kind), Some(resources)) = (
        s(&doc, &["type"]),
        doc.get("event_data")
            .and_then(|d| d.get("resources"))
            .and_then(Value::as_array),
    ) {
        if kind != "PUSH_ARTIFACT" && kind != "pushImage" {
            return Ok((Format::Harbor, Vec::new()));
        }
        let out = resources
            .iter()
            .filter_map(|r| {
                let (registry, repository, tag) = split_reference(s(r, &["resource_url"])?)?;
                let digest = s(r, &["digest"]).unwrap_or_default();
                Some(Pushed {
                    id: format!(
                        "{}:{digest}:{tag}",
                        s(&doc, &["occur_at"]).unwrap_or_default()
                    ),
                    registry,
                    repository,
                    tag,
                })
            })
            .collect();
        (Format::Harbor, out)
    } else if let Some(package) = doc.get("package").or_else(|| doc.get("registry_package")) {
        if !matches!(github_event, Some("package" | "registry_package")) {
            return Err(unknown());
        }
        let version = package.get("package_version").unwrap_or(&Value::Null);
        let reference = s(version, &["package_url"]);
        let tag = s(version, &["container_metadata", "tag", "name"]);
        let out = match (reference.and_then(split_reference), tag) {
            (Some((registry, repository, url_tag)), tag) => vec![Pushed {
                id: format!(
                    "{}:{}",
                    version.get("id").map(Value::to_string).unwrap_or_default(),
                    tag.unwrap_or(&url_tag)
                ),
                registry,
                repository,
                tag: tag.unwrap_or(&url_tag).to_owned(),
            }],
            _ => Vec::new(),
        };
        (Format::GitHub, out)
    } else {
        return Err(unknown());
    };
    pushes.truncate(MAX_PUSHES);
    pushes.retain(|p| p.id.len() <= 512 && p.tag.len() <= 128 && p.repository.len() <= 255);
    Ok((format, pushes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(body: Value, event: Option<&str>) -> (Format, Vec<Pushed>) {
        parse(body.to_string().as_bytes(), event).expect("known")
    }

    #[test]
    fn every_known_sender_names_the_pushed_tag() {
        // Each sender's body, its event header, and what it names: the format, how many pushes,
        // and the last push's registry, repository and tag.
        let cases = [
            (
                json!({"events": [{"id": "e1", "action": "push",
                    "target": {"repository": "src/app", "tag": "latest", "digest": "sha256:x"},
                    "request": {"host": "127.0.0.1:5000"}}]}),
                None,
                (Format::Distribution, 1),
                ("127.0.0.1:5000", "src/app", "latest"),
            ),
            (
                json!({"push_data": {"tag": "3.3"}, "repository": {"repo_name": "ruby"},
                       "callback_url": "https://registry.hub.docker.com/u/x/hook/1/"}),
                None,
                (Format::DockerHub, 1),
                ("docker.io", "library/ruby", "3.3"),
            ),
            (
                json!({"repository": "org/app", "docker_url": "quay.io/org/app",
                       "updated_tags": ["v1", "latest"]}),
                None,
                (Format::Quay, 2),
                ("quay.io", "org/app", "latest"),
            ),
            (
                json!({"type": "PUSH_ARTIFACT", "occur_at": 1700000000, "event_data": {"resources": [
                    {"digest": "sha256:y", "tag": "v2", "resource_url": "harbor.example.com/lib/app:v2"}]}}),
                None,
                (Format::Harbor, 1),
                ("harbor.example.com", "lib/app", "v2"),
            ),
            (
                json!({"action": "published", "package": {"package_type": "container",
                    "package_version": {"id": 7, "package_url": "ghcr.io/org/app:latest",
                       "container_metadata": {"tag": {"name": "latest", "digest": "sha256:z"}}}}}),
                Some("package"),
                (Format::GitHub, 1),
                ("ghcr.io", "org/app", "latest"),
            ),
        ];
        for (body, event, (format, count), named) in cases {
            let (f, p) = one(body, event);
            assert_eq!((f, p.len()), (format, count));
            let last = p.last().expect("a push");
            assert_eq!(
                (
                    last.registry.as_str(),
                    last.repository.as_str(),
                    last.tag.as_str()
                ),
                named,
                "{format:?}"
            );
        }
    }

    #[test]
    fn unknown_bodies_are_refused() {
        assert!(parse(b"{\"hello\": 1}", None).is_err());
        assert!(parse(b"[1,2]", None).is_err());
        assert!(parse(b"not json", None).is_err());
        assert!(
            parse(b"{\"package\": {}}", None).is_err(),
            "GitHub without its event header"
        );
    }
}
