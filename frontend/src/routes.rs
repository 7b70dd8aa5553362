//! The console's paths: [`Route`] (in the shared crate, so that the server answers each path with
//! the bundle that renders it) and the query strings pages put in their links.

pub use tagstream_shared::console::{Bundle, Route};

/// `?k=v&...` from `pairs`, percent-encoded; pairs with an empty value are left out, and no pairs
/// make an empty string.
pub fn query_string<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.as_ref().is_empty())
        .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
        .collect();
    match query.is_empty() {
        true => String::new(),
        false => format!("?{}", query.join("&")),
    }
}

/// Percent-encodes a query value: everything but unreserved characters.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded_and_empty_ones_dropped() {
        assert_eq!(
            query_string(&[("q", "ubi 9&x"), ("page", "")]),
            "?q=ubi%209%26x"
        );
        assert_eq!(query_string::<&str, &str>(&[]), "");
    }
}
