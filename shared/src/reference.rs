//! Image references (`registry/repo/name:tag@sha256:...`) and digests, parsed by the grammar of
//! `github.com/distribution/reference` and checked against its test vectors
//! (`shared/fixtures/reference-vectors.json`, see `tests/reference_vectors.rs`).
//!
//! Two readings of a reference string, as in the Go library:
//! - [`ImageReference`] (`FromStr`) is the strict `Parse()`: the text as written, no defaults.
//!   Docker Hub short names are kept as written, as OpenShift does.
//! - [`NormalizedReference`] (`FromStr`) is `ParseNormalizedNamed()`: the Docker reading, with
//!   the `docker.io` domain and the `library/` prefix filled in, and the "familiar" short forms.
//!   [`AnyReference`] is `ParseAnyReference()` (a bare image ID is a digest).
//!
//! Digests follow `github.com/opencontainers/go-digest` with only `sha256` registered, which is
//! what the vectors were produced with: `sha512:` and unknown algorithms are refused as
//! unsupported.
//!
//! The grammar is matched by hand (no regex crate: the console's wasm size budget is tight); the
//! functions [`is_domain`], [`split_name`], [`split_reference`], [`is_tag`] and [`is_identifier`]
//! are the library's anchored regexps.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a reference or digest was refused. One variant per error of the Go library, with its
/// message; the text completes "Invalid value: "x": ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// `ErrNameEmpty`: the strict parse of an empty string.
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// `ErrReferenceInvalidFormat`: the grammar does not match.
    #[error("invalid reference format")]
    InvalidFormat,
    /// `ErrNameContainsUppercase` (strict parse): the input would match if it were lower-case.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// The normalizing parse's own error for an upper-case repository name (after the domain);
    /// carries the name as the Go message shows it (`library/Uppercase`).
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    RepositoryNameContainsUppercase(String),
    /// `ErrNameTooLong`: the path (after the domain) longer than [`NAME_TOTAL_LENGTH_MAX`].
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// `ErrNameNotCanonical`: [`NormalizedReference::parse_canonical`] was given a string that
    /// is not already in its full, normalized form.
    #[error("repository name must be canonical")]
    NameNotCanonical,
    /// The normalizing parse refuses a name that is 64 lower-case hex digits: it would be
    /// ambiguous with an image ID.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    NameIs64Hex(String),
    /// `digest.ErrDigestInvalidFormat`: not `algorithm:encoded`, or bad characters.
    #[error("invalid checksum digest format")]
    DigestInvalidFormat,
    /// `digest.ErrDigestInvalidLength`: the hex part has the wrong length for its algorithm.
    #[error("invalid checksum digest length")]
    DigestInvalidLength,
    /// `digest.ErrDigestUnsupported`: an algorithm other than `sha256`.
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
}

/// Longest repository path, in bytes. Go's `NameTotalLengthMax`; despite the name the library
/// applies it to the path only, not to the domain and path together.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Domain the normalizing parse assumes when a reference names none.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// Old name of [`DEFAULT_DOMAIN`], rewritten to it by the normalizing parse.
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Namespace of Docker Hub's official images (`library/ubuntu` is familiarly `ubuntu`).
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// Tag [`NormalizedReference::with_default_tag`] adds.
pub const DEFAULT_TAG: &str = "latest";

const SHA256_HEX_LEN: usize = 64;

/// A content digest, `algorithm:hex`; only `sha256:` with 64 lower-case hex digits is accepted
/// (go-digest's `Parse` with only sha256 registered).
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
        let short = self.hex.get(..12).unwrap_or(&self.hex);
        format!("{}:{short}", self.algorithm)
    }
}

/// go-digest's `DigestRegexpAnchored`: `[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`.
fn is_digest_shaped(algorithm: &str, encoded: &str) -> bool {
    let lower_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    algorithm
        .split(['.', '+', '_', '-'])
        .all(|part| !part.is_empty() && part.bytes().all(lower_alnum))
        && !encoded.is_empty()
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
}

impl FromStr for Digest {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        let (algorithm, hex) = s
            .split_once(':')
            .ok_or(ReferenceError::DigestInvalidFormat)?;
        if algorithm.is_empty() || hex.is_empty() {
            return Err(ReferenceError::DigestInvalidFormat);
        }
        if algorithm != "sha256" {
            return Err(if is_digest_shaped(algorithm, hex) {
                ReferenceError::DigestUnsupported
            } else {
                ReferenceError::DigestInvalidFormat
            });
        }
        if hex.len() != SHA256_HEX_LEN {
            return Err(ReferenceError::DigestInvalidLength);
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ReferenceError::DigestInvalidFormat);
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

#[cfg(feature = "openapi")]
crate::string_schema!(Digest);

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// The grammar: the library's anchored regexps, matched by hand.

/// One domain label: `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_domain_label(b: &[u8]) -> bool {
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        }
        _ => false,
    }
}

/// The `domain` regexp: labels joined by `.` or an IPv6 address in `[...]`, then an optional
/// `:port`. Upper case is allowed here (not in the path).
pub fn is_domain(s: &str) -> bool {
    let b = s.as_bytes();
    let (host_ok, rest) = if let Some(after) = b.strip_prefix(b"[") {
        let Some(end) = after.iter().position(|&c| c == b']') else {
            return false;
        };
        let (inner, rest) = after.split_at(end);
        (
            !inner.is_empty() && inner.iter().all(|c| c.is_ascii_hexdigit() || *c == b':'),
            rest.get(1..).unwrap_or_default(),
        )
    } else {
        let end = b.iter().position(|&c| c == b':').unwrap_or(b.len());
        let (host, rest) = b.split_at(end);
        (host.split(|&c| c == b'.').all(is_domain_label), rest)
    };
    host_ok
        && match rest.split_first() {
            None => true,
            Some((b':', port)) => !port.is_empty() && port.iter().all(u8::is_ascii_digit),
            Some(_) => false,
        }
}

/// One path component: `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn is_path_component(b: &[u8]) -> bool {
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut rest = b;
    loop {
        let run = rest.iter().take_while(|c| alnum(c)).count();
        if run == 0 {
            return false;
        }
        rest = rest.get(run..).unwrap_or_default();
        let sep = match rest {
            [] => return true,
            [b'_', b'_', ..] => 2,
            [b'.' | b'_', ..] => 1,
            [b'-', ..] => rest.iter().take_while(|c| **c == b'-').count(),
            _ => return false,
        };
        rest = rest.get(sep..).unwrap_or_default();
    }
}

/// The path: components joined by `/`.
fn is_path(s: &str) -> bool {
    s.as_bytes().split(|&c| c == b'/').all(is_path_component)
}

/// The `anchored_name` regexp: `[domain/]path`, split into its capture groups. The domain is
/// the first component whenever it matches the domain grammar and a path follows, so
/// `library/ubuntu` has the domain `library` here (the normalizing parse reads it otherwise).
pub fn split_name(s: &str) -> Option<(Option<&str>, &str)> {
    if let Some((first, rest)) = s.split_once('/')
        && is_domain(first)
        && is_path(rest)
    {
        return Some((Some(first), rest));
    }
    is_path(s).then_some((None, s))
}

/// The `tag` regexp: `[\w][\w.-]{0,127}`.
pub fn is_tag(s: &str) -> bool {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let b = s.as_bytes();
    b.len() <= 128
        && b.first().is_some_and(word)
        && b.iter().all(|c| word(c) || matches!(c, b'.' | b'-'))
}

/// The digest part of the `reference` regexp:
/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`. Whether the
/// algorithm is known and the length right is [`Digest`]'s business.
fn is_digest_syntax(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && algorithm.split(['-', '_', '+', '.']).all(|part| {
            part.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
                && part.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The `anchored_identifier` regexp: 64 lower-case hex digits (an image ID).
pub fn is_identifier(s: &str) -> bool {
    s.len() == SHA256_HEX_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The `reference` regexp, `name[:tag][@digest]`, split into its capture groups: the name, the
/// tag and the digest text. Grammar only: neither the name's length nor the digest's algorithm
/// is checked.
pub fn split_reference(s: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) if is_digest_syntax(digest) => (rest, Some(digest)),
        Some(_) => return None,
        None => (s, None),
    };
    // Neither the tag nor the digest holds a `/`, and the name's last component holds no `:`,
    // so a `:` after the last `/` starts the tag.
    let last = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest.get(last..).and_then(|l| l.find(':')) {
        Some(i) => {
            let tag = rest.get(last + i + 1..)?;
            if !is_tag(tag) {
                return None;
            }
            (rest.get(..last + i)?, Some(tag))
        }
        None => (rest, None),
    };
    split_name(name)?;
    Some((name, tag, digest))
}

// ---------------------------------------------------------------------------------------------
// The strict reading.

/// A reference as written (the Go library's strict `Parse()`): no default domain, no `library/`.
///
/// `registry` is where Docker would pull from: the first component when it is a domain and
/// looks like a host (holds `.` or `:`, is `localhost`, or has upper case), `None` for Docker
/// Hub short names such as `library/ruby`. [`ImageReference::domain`] is the grammar's reading
/// instead, which takes any domain-shaped first component (`library`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    /// `host[:port]` when the reference names one (see above).
    pub registry: Option<String>,
    /// The path below the registry, `library/ruby`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

/// Docker's test for "the first component is a registry host" (`splitDockerDomain`).
fn looks_like_host(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first
}

impl FromStr for ImageReference {
    type Err = ReferenceError;
    /// `Parse()`: the grammar, then the name's length, then the digest.
    fn from_str(s: &str) -> Result<Self, ReferenceError> {
        let Some((name, tag, digest)) = split_reference(s) else {
            return Err(if s.is_empty() {
                ReferenceError::NameEmpty
            } else if split_reference(&s.to_lowercase()).is_some() {
                ReferenceError::NameContainsUppercase
            } else {
                ReferenceError::InvalidFormat
            });
        };
        // The library measures the path alone (the domain does not count), whatever the
        // constant's name says: `example.com/` and 255 `a` is accepted, `domain/` and 256 is not.
        let path = split_name(name).map_or(name, |(_, path)| path);
        if path.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let digest = digest.map(str::parse::<Digest>).transpose()?;
        let (registry, repository) = match name.split_once('/') {
            Some((first, path)) if looks_like_host(first) && is_domain(first) => {
                (Some(first.to_owned()), path)
            }
            _ => (None, name),
        };
        Ok(Self {
            registry,
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
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

    /// The grammar's domain (Go's `Domain()` after `Parse()`): the first component when it is
    /// domain-shaped and a path follows, so `library/ruby` gives `library`; `None` for `ruby`.
    pub fn domain(&self) -> Option<&str> {
        match &self.registry {
            Some(r) => Some(r),
            None => match self.repository.split_once('/') {
                Some((first, _)) if is_domain(first) => Some(first),
                _ => None,
            },
        }
    }

    /// The grammar's path (Go's `Path()`): the name after [`ImageReference::domain`].
    pub fn path(&self) -> &str {
        match (&self.registry, self.repository.split_once('/')) {
            (None, Some((first, rest))) if is_domain(first) => rest,
            _ => &self.repository,
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

    /// The Docker reading of this reference (`ParseNormalizedNamed` of its text).
    pub fn normalized(&self) -> Result<NormalizedReference, ReferenceError> {
        self.to_string().parse()
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

// ---------------------------------------------------------------------------------------------
// The Docker (normalized) reading.

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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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
    fn registry_is_dockers_reading_domain_is_the_grammars() {
        let r: ImageReference = "library/ruby".parse().expect("valid");
        assert_eq!(r.registry, None);
        assert_eq!((r.domain(), r.path()), (Some("library"), "ruby"));
        let n = r.normalized().expect("valid");
        assert_eq!(n.to_string(), "docker.io/library/ruby");
        assert_eq!(n.familiar_name(), "ruby");
        assert_eq!(
            n.with_default_tag().to_string(),
            "docker.io/library/ruby:latest"
        );

        let r: ImageReference = "[::1]:5000/repo:tag".parse().expect("valid");
        assert_eq!(r.registry.as_deref(), Some("[::1]:5000"));
        assert_eq!(r.path(), "repo");
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
        for (bad, why) in [
            ("", ReferenceError::NameEmpty),
            ("Ruby", ReferenceError::NameContainsUppercase),
            ("ruby:", ReferenceError::InvalidFormat),
            ("ruby:-x", ReferenceError::InvalidFormat),
            ("/ruby", ReferenceError::InvalidFormat),
            ("ruby/", ReferenceError::InvalidFormat),
            ("a//b", ReferenceError::InvalidFormat),
            ("ruby@sha256:abc", ReferenceError::InvalidFormat),
            ("ex ample/x", ReferenceError::InvalidFormat),
            (
                "ruby@sha256:abcdabcdabcdabcdabcdabcdabcdabcdab",
                ReferenceError::DigestInvalidLength,
            ),
        ] {
            assert_eq!(bad.parse::<ImageReference>(), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn digests_are_checked_by_algorithm() {
        assert!(D.parse::<Digest>().is_ok());
        assert_eq!(
            D.to_uppercase().parse::<Digest>(),
            Err(ReferenceError::DigestInvalidFormat)
        );
        assert_eq!(
            format!("sha256:{}", D[7..].to_uppercase()).parse::<Digest>(),
            Err(ReferenceError::DigestInvalidFormat)
        );
        assert_eq!(
            "sha256:abcd".parse::<Digest>(),
            Err(ReferenceError::DigestInvalidLength)
        );
        assert_eq!(
            format!("sha512:{}", "a".repeat(128)).parse::<Digest>(),
            Err(ReferenceError::DigestUnsupported)
        );
        assert_eq!(
            "md5".parse::<Digest>(),
            Err(ReferenceError::DigestInvalidFormat)
        );
    }

    proptest! {
        #[test]
        fn no_input_panics_and_what_parses_round_trips(s in any::<String>()) {
            if let Ok(r) = s.parse::<ImageReference>() {
                prop_assert_eq!(r.to_string(), s.clone());
                let _ = (r.domain(), r.path(), r.normalized());
            }
            if let Ok(n) = s.parse::<NormalizedReference>() {
                let _ = (n.familiar_string(), n.docker_ref(), n.domain());
                prop_assert_eq!(n.to_string().parse::<NormalizedReference>(), Ok(n));
            }
            let _ = s.parse::<AnyReference>().map(|a| a.familiar_string());
            let _ = NormalizedReference::parse_canonical(&s);
            let _ = s.parse::<Digest>().map(|d| d.short());
        }

        #[test]
        fn reference_shaped_input_never_panics(s in "[a-zA-Z0-9:/@._\\-\\[\\]é]{0,40}") {
            if let Ok(r) = s.parse::<ImageReference>() {
                prop_assert_eq!(r.to_string(), s.clone());
            }
            let _ = s.parse::<NormalizedReference>();
            let _ = s.parse::<AnyReference>();
        }
    }
}
