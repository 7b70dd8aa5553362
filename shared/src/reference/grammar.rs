//! The grammar of `github.com/distribution/reference`: the library's anchored regexps, matched
//! by hand (no regex crate: the console's wasm size budget is tight).

use super::SHA256_HEX_LEN;

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
