//! Content digests, as go-digest parses them with only `sha256` registered.

use std::fmt;
use std::str::FromStr;

use super::{ReferenceError, SHA256_HEX_LEN};

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

crate::meta::string_serde!(Digest);
