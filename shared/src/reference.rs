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

mod digest;
mod grammar;
mod normalized;

use std::fmt;
use std::str::FromStr;

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

pub use digest::Digest;
pub use grammar::{is_domain, is_identifier, is_tag, split_name, split_reference};
pub use normalized::{AnyReference, NormalizedReference};

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
