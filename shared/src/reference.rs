//! Image references (`registry/repo/name:tag@sha256:...`) and digests, parsed once by the
//! distribution reference grammar. Docker Hub short names are kept as written, as OpenShift does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::names::is_tag;

/// Why a reference or digest was refused; the text completes "Invalid value: "x": ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("reference must not be empty")]
    Empty,
    #[error("repository name must be no more than 255 characters")]
    NameTooLong,
    #[error("invalid reference format: {0}")]
    Format(&'static str),
    #[error("invalid digest: {0}")]
    Digest(&'static str),
}

/// A content digest, `algorithm:hex` (`sha256:` with 64 lower-case hex digits, `sha512:` with 128).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    algorithm: String,
    hex: String,
}

impl Digest {
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// `sha256:` and the first 12 hex digits, as the console shows it.
    pub fn short(&self) -> String {
        let end = self.hex.len().min(12);
        format!("{}:{}", self.algorithm, &self.hex[..end])
    }
}

impl FromStr for Digest {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        let (algorithm, hex) = s
            .split_once(':')
            .ok_or(ReferenceError::Digest("must be of the form algorithm:hex"))?;
        // OCI image-spec: algorithm-component [a-z0-9]+, joined by [+._-].
        let alg_ok = algorithm.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
        if !alg_ok {
            return Err(ReferenceError::Digest("malformed algorithm"));
        }
        let expected = match algorithm {
            "sha256" => Some(64),
            "sha512" => Some(128),
            _ => None,
        };
        let hex_ok = match expected {
            Some(n) => {
                hex.len() == n && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            }
            None => hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        };
        if !hex_ok {
            return Err(ReferenceError::Digest(
                "the hex part has the wrong length or characters for its algorithm",
            ));
        }
        Ok(Self {
            algorithm: algorithm.to_owned(),
            hex: hex.to_owned(),
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    /// `host[:port]` when the reference names one (a first component with `.` or `:`, or `localhost`).
    pub registry: Option<String>,
    /// The path below the registry, `library/ruby`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

const NAME_MAX: usize = 255;

fn is_path_component(s: &str) -> bool {
    // [a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_domain(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || s.starts_with('[') => (h, Some(p)),
        _ => (s, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

impl FromStr for ImageReference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, d)) => (rest, Some(d.parse::<Digest>()?)),
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let tag = &rest[last_slash + i + 1..];
                if !is_tag(tag) {
                    return Err(ReferenceError::Format("invalid tag"));
                }
                (&rest[..last_slash + i], Some(tag.to_owned()))
            }
            None => (rest, None),
        };
        if name.is_empty() {
            return Err(ReferenceError::Format("missing repository name"));
        }
        if name.len() > NAME_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                if !is_domain(first) {
                    return Err(ReferenceError::Format("invalid registry host"));
                }
                (Some(first.to_owned()), path)
            }
            _ => (None, name),
        };
        if !repository.split('/').all(is_path_component) {
            return Err(ReferenceError::Format(
                "repository name must be lower-case components separated by '/'",
            ));
        }
        Ok(Self {
            registry,
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }
}

impl ImageReference {
    /// `registry/repository` without tag or digest.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(r) => format!("{r}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    /// The same reference without its tag (`name@digest` when it has a digest).
    pub fn without_tag(&self) -> Self {
        Self {
            tag: None,
            ..self.clone()
        }
    }

    /// The same repository pinned to `digest`: the pull spec by digest.
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:adad28d59f93c6f0d1f5b8c1c4f6e3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6";

    #[test]
    fn parses_the_common_forms() {
        let r: ImageReference = "quay.io/openshift/origin-cli:4.15".parse().expect("valid");
        assert_eq!(r.registry.as_deref(), Some("quay.io"));
        assert_eq!(r.repository, "openshift/origin-cli");
        assert_eq!(r.tag.as_deref(), Some("4.15"));

        let r: ImageReference = "ruby".parse().expect("valid");
        assert_eq!(
            (r.registry, r.repository.as_str(), r.tag),
            (None, "ruby", None)
        );

        let r: ImageReference = "127.0.0.1:5000/library/ruby:3.2".parse().expect("valid");
        assert_eq!(r.registry.as_deref(), Some("127.0.0.1:5000"));

        let r: ImageReference = format!("localhost/app@{D}").parse().expect("valid");
        assert_eq!(
            r.digest.as_ref().map(Digest::short).as_deref(),
            Some("sha256:adad28d59f93")
        );
        assert_eq!(r.to_string(), format!("localhost/app@{D}"));
    }

    #[test]
    fn pull_spec_by_digest_drops_the_tag() {
        let r: ImageReference = "registry.redhat.io/ubi8/ruby-25:latest"
            .parse()
            .expect("valid");
        let d: Digest = D.parse().expect("valid");
        assert_eq!(
            r.with_digest(d).to_string(),
            format!("registry.redhat.io/ubi8/ruby-25@{D}")
        );
    }

    #[test]
    fn refuses_malformed_references() {
        for bad in [
            "",
            "Ruby",
            "ruby:",
            "ruby:-x",
            "/ruby",
            "ruby/",
            "a//b",
            "ruby@sha256:abc",
            "ex ample/x",
        ] {
            assert!(bad.parse::<ImageReference>().is_err(), "{bad}");
        }
    }

    #[test]
    fn digests_are_checked_by_algorithm() {
        assert!(D.parse::<Digest>().is_ok());
        assert!(D.to_uppercase().parse::<Digest>().is_err());
        assert!("sha256:abcd".parse::<Digest>().is_err());
        assert!("md5".parse::<Digest>().is_err());
    }
}
