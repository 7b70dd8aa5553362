//! Reading the `Cookie` header and writing `Set-Cookie` for the session and its CSRF token.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The value of cookie `name`, if the request carries it.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value. `http_only` keeps it from scripts (the session); the CSRF cookie is
/// for the console's script to read. `max_age` 0 removes it.
pub fn set(name: &str, value: &str, http_only: bool, secure: bool, max_age: i64) -> String {
    let mut c = format!("{name}={value}; Path=/; SameSite=Strict; Max-Age={max_age}");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cookie_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            "a=1; tagstream-session=abc; b=2".parse().expect("header"),
        );
        assert_eq!(get(&h, "tagstream-session"), Some("abc"));
        assert_eq!(get(&h, "c"), None);
        let s = set("x", "v", true, true, 60);
        assert!(s.contains("HttpOnly") && s.contains("Secure") && s.contains("SameSite=Strict"));
    }
}
