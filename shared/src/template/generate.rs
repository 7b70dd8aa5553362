//! The `expression` generator: OpenShift's syntax for generated parameter values. Each
//! `[RANGES]{N}` in the expression is replaced by N characters drawn from the ranges; the rest is
//! kept as written (`user[A-Z0-9]{3}` gives `userQ3H`).
//!
//! RANGES holds `a-z`-style ranges and the classes `\w` (letters, digits, `_`), `\d` (digits),
//! `\a` (letters and digits) and `\A` (symbols); N is 1 to 255. A range runs over the ordered set
//! a–z, A–Z, 0–9 and the symbols, so `a-Z` is every letter.
//!
//! One deliberate difference from OpenShift: a range includes its last character (`[a-z]` can
//! give `z`). Upstream's generator stops one short, which nobody writing `[a-z]` means.
//! Characters come from a cryptographically secure source (the OS, or `crypto.getRandomValues`
//! in the browser), drawn without modulo bias.

use std::fmt;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
/// The symbol set of `\A`, in upstream's order.
pub const SYMBOLS: &str = "~!@#$%^&*()-_+={}[]\\|<,>.?/\"';:`";

/// The largest count a `{N}` may ask for.
pub const MAX_COUNT: usize = 255;

/// The longest expression accepted. Real ones are a few dozen bytes; the bound keeps what one
/// expression generates (at most 32 characters per byte of it) far below the parameter value
/// limit, and the parse cheap.
pub const MAX_EXPRESSION_BYTES: usize = 1 << 10;

/// Why an expression cannot generate a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpressionError {
    /// A bracket holds something that is neither a range nor a class (`[ABC]`).
    Malformed(String),
    /// A range runs backwards (`Z-A`).
    InvalidRange(char, char),
    /// `{N}` outside 1..=255.
    Count(String),
    /// The random source failed.
    Random(String),
    /// The expression is longer than [`MAX_EXPRESSION_BYTES`].
    TooLong,
}

impl fmt::Display for ExpressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(part) => write!(f, "malformed expression syntax: [{part}]"),
            Self::InvalidRange(a, b) => write!(f, "invalid range specified: {a}-{b}"),
            Self::Count(n) => write!(f, "range must be within [1-255] characters: {{{n}}}"),
            Self::Random(e) => write!(f, "no random source: {e}"),
            Self::TooLong => write!(
                f,
                "the expression is longer than the {MAX_EXPRESSION_BYTES}-byte limit"
            ),
        }
    }
}

impl std::error::Error for ExpressionError {}

/// One piece of a parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// `count` characters drawn from `alphabet` (no duplicates).
    Random {
        alphabet: Vec<char>,
        count: usize,
    },
}

fn ordered_set() -> Vec<char> {
    LOWER
        .chars()
        .chain(UPPER.chars())
        .chain(DIGITS.chars())
        .chain(SYMBOLS.chars())
        .collect()
}

/// The characters of the bracket contents `spec` (`a-zA-Z0-9`, `\w`).
fn alphabet(spec: &str) -> Result<Vec<char>, ExpressionError> {
    let malformed = || ExpressionError::Malformed(spec.to_owned());
    let set = ordered_set();
    let chars: Vec<char> = spec.chars().collect();
    let mut out: Vec<char> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i..] {
            ['\\', class, ..] => {
                let members: String = match class {
                    'w' => format!("{LOWER}{UPPER}{DIGITS}_"),
                    'd' => DIGITS.to_owned(),
                    'a' => format!("{LOWER}{UPPER}{DIGITS}"),
                    'A' => SYMBOLS.to_owned(),
                    _ => return Err(malformed()),
                };
                out.extend(members.chars());
                i += 2;
            }
            [from, '-', to, ..] if from.is_ascii_alphanumeric() && to.is_ascii_alphanumeric() => {
                let start = set.iter().position(|c| *c == from).ok_or_else(malformed)?;
                let end = set.iter().position(|c| *c == to).ok_or_else(malformed)?;
                if start > end {
                    return Err(ExpressionError::InvalidRange(from, to));
                }
                out.extend_from_slice(&set[start..=end]);
                i += 3;
            }
            _ => return Err(malformed()),
        }
    }
    let mut unique = Vec::with_capacity(out.len());
    for c in out {
        if !unique.contains(&c) {
            unique.push(c);
        }
    }
    Ok(unique)
}

/// Splits `expr` into literal text and `[RANGES]{N}` groups. Text that does not have that shape
/// (a lone `[`, `{x}` without brackets) stays literal, as upstream leaves it.
fn parse(expr: &str) -> Result<Vec<Piece>, ExpressionError> {
    if expr.len() > MAX_EXPRESSION_BYTES {
        return Err(ExpressionError::TooLong);
    }
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = expr;
    while let Some(open) = rest.find('[') {
        let (before, from_bracket) = rest.split_at(open);
        literal.push_str(before);
        match group(from_bracket) {
            Some((spec, count, len)) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                let n: usize = count
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_COUNT).contains(n))
                    .ok_or_else(|| ExpressionError::Count(count.to_owned()))?;
                pieces.push(Piece::Random {
                    alphabet: alphabet(spec)?,
                    count: n,
                });
                rest = &from_bracket[len..];
            }
            None => {
                literal.push('[');
                rest = &from_bracket[1..];
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    Ok(pieces)
}

/// `[spec]{count}` at the start of `s`: the spec, the count text and the group's length.
fn group(s: &str) -> Option<(&str, &str, usize)> {
    let inner = s.strip_prefix('[')?;
    let close = inner.find(']')?;
    let spec = &inner[..close];
    let spec_ok = !spec.is_empty()
        && spec
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '\\');
    let after = inner[close + 1..].strip_prefix('{')?;
    let end = after.find('}')?;
    let count = &after[..end];
    let count_ok =
        !count.is_empty() && count.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (spec_ok && count_ok).then_some((spec, count, 1 + close + 2 + end + 1))
}

/// Checks an expression without generating anything.
pub fn check(expr: &str) -> Result<(), ExpressionError> {
    parse(expr).map(|_| ())
}

/// The alphabet every character of a generated value may come from, per group: for tests and
/// for telling the user what a parameter will look like.
pub fn alphabets(expr: &str) -> Result<Vec<(Vec<char>, usize)>, ExpressionError> {
    Ok(parse(expr)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Random { alphabet, count } => Some((alphabet, count)),
            Piece::Literal(_) => None,
        })
        .collect())
}

/// A uniform index below `n` (n ≥ 1) from secure random bytes, by rejection sampling.
fn uniform(n: usize) -> Result<usize, ExpressionError> {
    let n = u32::try_from(n).unwrap_or(u32::MAX).max(1);
    // The largest multiple of n that fits; values at or above it would bias the result.
    let zone = u32::MAX - (u32::MAX % n);
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(|e| ExpressionError::Random(e.to_string()))?;
        let v = u32::from_le_bytes(bytes);
        if v < zone {
            return Ok(usize::try_from(v % n).unwrap_or_default());
        }
    }
}

/// A value for `expr`, from a cryptographically secure random source.
pub fn generate(expr: &str) -> Result<String, ExpressionError> {
    let mut out = String::new();
    for piece in parse(expr)? {
        match piece {
            Piece::Literal(text) => out.push_str(&text),
            Piece::Random { alphabet, count } => {
                for _ in 0..count {
                    let i = uniform(alphabet.len())?;
                    out.extend(alphabet.get(i));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_ranges_give_their_alphabets() {
        let a = |e: &str| alphabets(e).map(|v| v.into_iter().map(|(a, n)| (a.len(), n)).collect());
        assert_eq!(a("[\\d]{3}"), Ok(vec![(10, 3)]));
        assert_eq!(a("[\\w]{20}"), Ok(vec![(63, 20)]));
        assert_eq!(a("[\\a]{10}"), Ok(vec![(62, 10)]));
        assert_eq!(a("[\\A]{10}"), Ok(vec![(SYMBOLS.len(), 10)]));
        assert_eq!(a("[a-zA-Z0-9]{16}"), Ok(vec![(62, 16)]));
        assert_eq!(a("user[A-Z0-9]{3}x[a-c]{1}"), Ok(vec![(36, 3), (3, 1)]));
        // Ours includes the end of a range.
        assert_eq!(
            alphabets("[a-c]{2}").map(|v| v[0].0.clone()),
            Ok(vec!['a', 'b', 'c'])
        );
        // Duplicates are dropped before drawing, so each character is equally likely.
        assert_eq!(a("[a-ca-c\\d0-9]{1}"), Ok(vec![(13, 1)]));
    }

    #[test]
    fn bad_expressions_are_errors_with_upstream_wording() {
        let e = |x: &str| check(x).map_err(|e| e.to_string());
        assert!(e("[ABC]{3}").is_err_and(|m| m.starts_with("malformed expression syntax")));
        assert!(e("[Z-A]{3}").is_err_and(|m| m.starts_with("invalid range specified")));
        assert!(e("[a-z0-Z0-9]{8}").is_err_and(|m| m.starts_with("invalid range specified")));
        for bad in ["[A-Z]{300}", "[A-Z]{0}", "[A-Z]{x}", "[A-Z]{256}"] {
            assert!(
                e(bad).is_err_and(|m| m.starts_with("range must be within [1-255] characters")),
                "{bad}"
            );
        }
        assert!(e("[\\q]{3}").is_err());
        assert_eq!(check("[A-Z]{255}"), Ok(()));
    }

    #[test]
    fn text_outside_groups_is_kept() {
        assert_eq!(generate("plain"), Ok("plain".to_owned()));
        assert_eq!(generate(""), Ok(String::new()));
        assert_eq!(generate("[x"), Ok("[x".to_owned()));
        assert_eq!(generate("a{3}"), Ok("a{3}".to_owned()));
        let v = generate("test[A-Z0-9]{4}template").unwrap_or_default();
        assert_eq!(v.len(), 16);
        assert!(v.starts_with("test") && v.ends_with("template"));
    }

    #[test]
    fn generated_values_have_the_length_and_alphabet_asked_for() {
        for _ in 0..50 {
            let v = generate("[a-c]{40}").unwrap_or_default();
            assert_eq!(v.chars().count(), 40);
            assert!(v.chars().all(|c| matches!(c, 'a'..='c')), "{v}");
        }
        // Over many draws every letter of a small range turns up, the last one included.
        let all: String = (0..20)
            .map(|_| generate("[a-c]{50}").unwrap_or_default())
            .collect();
        assert!(all.contains('a') && all.contains('b') && all.contains('c'));
    }
}
