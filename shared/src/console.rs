//! Console paths the server and the console must agree on: where to go after signing in. (The
//! console's route table is the frontend's `routes` module.)

/// Where to go after signing in, given `?next=` and the console's origin
/// (`https://console.example`): `next` resolved against the origin as a browser would resolve
/// it, kept only when it stays on that origin (`/\\evil.example/`, `//evil.example/` and
/// `https://evil.example/` all leave it) and is not the sign-in page again; `/` otherwise.
/// Answers a path with its query and fragment, so the browser cannot read it differently.
pub fn after_sign_in(next: &str, origin: &str) -> String {
    let home = "/".to_owned();
    let Ok(base) = url::Url::parse(origin) else {
        return home;
    };
    // Only a path is ever meant: anything else (a scheme, `\\`, control characters, which
    // browsers strip) is refused rather than normalised into something else.
    if !next.starts_with('/') || next.contains('\\') || next.chars().any(char::is_control) {
        return home;
    }
    let Ok(target) = base.join(next) else {
        return home;
    };
    if target.origin() != base.origin() || target.path().starts_with("/login") {
        return home;
    }
    let mut out = target.path().to_owned();
    if let Some(q) = target.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = target.fragment() {
        out.push('#');
        out.push_str(f);
    }
    // A path that still starts with `//` would be read as another host when assigned.
    if out.starts_with("//") { home } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_console_are_followed_after_sign_in() {
        let o = "https://console.example";
        assert_eq!(
            after_sign_in("/ns/demo/streams/ruby/tags/latest?x=1", o),
            "/ns/demo/streams/ruby/tags/latest?x=1"
        );
        assert_eq!(after_sign_in("/ns/demo#top", o), "/ns/demo#top");
        for bad in [
            "/\\evil.example/",
            "/\\/evil.example/",
            "\\\\evil.example/",
            "//evil.example/",
            "///evil.example/",
            "/\t/evil.example/",
            "https://evil.example/",
            "javascript:alert(1)",
            "/login?next=/login",
            "",
        ] {
            assert_eq!(after_sign_in(bad, o), "/", "{bad:?}");
        }
        assert_eq!(after_sign_in("/ns/a/../b", o), "/ns/b");
    }
}
