//! The Docker (normalized) reading of a reference (`ParseNormalizedNamed()`) and
//! `ParseAnyReference()`, which also takes a bare image ID.

use std::fmt;
use std::str::FromStr;

use super::grammar::is_identifier;
use super::looks_like_host;
use super::{
    DEFAULT_DOMAIN, DEFAULT_TAG, Digest, ImageReference, LEGACY_DEFAULT_DOMAIN,
    OFFICIAL_REPO_PREFIX, ReferenceError,
};

/// A reference read the Docker way (`ParseNormalizedNamed()`): `ruby` is
/// `docker.io/library/ruby`, `index.docker.io` is `docker.io`. Displays in full; the short
/// forms are [`NormalizedReference::familiar_name`] and [`NormalizedReference::familiar_string`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalizedReference(ImageReference);

/// Docker's `splitDockerDomain`: the domain (defaulted) and the rest, `library/` added for a
/// one-component Docker Hub name.
fn split_docker_domain(s: &str) -> (&str, String) {
    let (domain, remainder) = match s.split_once('/') {
        Some((first, rest)) if looks_like_host(first) => (first, rest),
        _ => (DEFAULT_DOMAIN, s),
    };
    let domain = if domain == LEGACY_DEFAULT_DOMAIN {
        DEFAULT_DOMAIN
    } else {
        domain
    };
    let remainder = if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        format!("{OFFICIAL_REPO_PREFIX}{remainder}")
    } else {
        remainder.to_owned()
    };
    (domain, remainder)
}

impl FromStr for NormalizedReference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        if is_identifier(s) {
            return Err(ReferenceError::NameIs64Hex(s.to_owned()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder
            .split_once(':')
            .map_or(remainder.as_str(), |(n, _)| n);
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::RepositoryNameContainsUppercase(
                remote.to_owned(),
            ));
        }
        format!("{domain}/{remainder}").parse().map(Self)
    }
}

impl NormalizedReference {
    /// `ParseNamed()`: the normalizing parse, refusing input that is not already written in
    /// full (`docker.io/library/ruby`, not `ruby`).
    pub fn parse_canonical(s: &str) -> Result<Self, ReferenceError> {
        let r: Self = s.parse()?;
        if r.to_string() != s {
            return Err(ReferenceError::NameNotCanonical);
        }
        Ok(r)
    }

    /// The full reference, as a strict [`ImageReference`].
    pub fn as_reference(&self) -> &ImageReference {
        &self.0
    }

    pub fn into_reference(self) -> ImageReference {
        self.0
    }

    /// The domain, `docker.io` by default. Empty only in a corner the Go library has too:
    /// Docker takes a first component such as `a_b.c` for a host, which the grammar then
    /// refuses as a domain.
    pub fn domain(&self) -> &str {
        self.0.domain().unwrap_or_default()
    }

    /// The path below the domain, `library/ruby`.
    pub fn path(&self) -> &str {
        self.0.path()
    }

    /// The full name, `docker.io/library/ruby`.
    pub fn name(&self) -> String {
        self.0.name()
    }

    pub fn tag(&self) -> Option<&str> {
        self.0.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.0.digest.as_ref()
    }

    /// The name as Docker prints it: no `docker.io/`, no `library/` for official images.
    pub fn familiar_name(&self) -> String {
        let (domain, path) = (self.domain(), self.path());
        if domain == DEFAULT_DOMAIN {
            match path.strip_prefix(OFFICIAL_REPO_PREFIX) {
                Some(rest) if !rest.contains('/') => rest.to_owned(),
                _ => path.to_owned(),
            }
        } else if domain.is_empty() {
            path.to_owned()
        } else {
            format!("{domain}/{path}")
        }
    }

    /// The whole reference as Docker prints it: [`NormalizedReference::familiar_name`] with
    /// the tag and digest.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = self.tag() {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = self.digest() {
            s.push('@');
            s.push_str(&d.to_string());
        }
        s
    }

    /// `TagNameOnly()`: with the `latest` tag when it has neither tag nor digest.
    pub fn with_default_tag(&self) -> Self {
        let mut r = self.clone();
        if r.0.tag.is_none() && r.0.digest.is_none() {
            r.0.tag = Some(DEFAULT_TAG.to_owned());
        }
        r
    }

    /// `ParseDockerRef()`'s reading: pinned by digest alone when there is a digest (any tag
    /// dropped), otherwise [`NormalizedReference::with_default_tag`].
    pub fn docker_ref(&self) -> Self {
        if self.0.digest.is_some() {
            Self(self.0.without_tag())
        } else {
            self.with_default_tag()
        }
    }
}

impl fmt::Display for NormalizedReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// `ParseAnyReference()`: an image ID (64 hex digits, or `sha256:` and them) is a digest,
/// anything else is read by the normalizing parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AnyReference {
    Named(NormalizedReference),
    Digest(Digest),
}

impl FromStr for AnyReference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        if is_identifier(s) {
            return format!("sha256:{s}").parse().map(Self::Digest);
        }
        if let Ok(d) = s.parse::<Digest>() {
            return Ok(Self::Digest(d));
        }
        s.parse().map(Self::Named)
    }
}

impl AnyReference {
    /// As Docker prints it: the familiar string, or the digest.
    pub fn familiar_string(&self) -> String {
        match self {
            Self::Named(r) => r.familiar_string(),
            Self::Digest(d) => d.to_string(),
        }
    }
}

impl fmt::Display for AnyReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Named(r) => r.fmt(f),
            Self::Digest(d) => d.fmt(f),
        }
    }
}
