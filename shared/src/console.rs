//! Console paths the server and the console must agree on: where to go after signing in. (The
//! console's route table is the frontend's `routes` module.)

/// Where to go after signing in, given `?next=`: `next` as the path a browser resolves it to
/// on this console's origin, kept only when it is a path of that origin (`/\\evil.example/`,
/// `//evil.example/` and `https://evil.example/` all leave it) and not the sign-in page again;
/// `/` otherwise. Answers a path with its query and fragment, so the browser cannot read it
/// differently.
///
/// No URL parser: a string that starts with one `/`, then anything but `/` or `\`, and holds no
/// `\` and no control character (which browsers strip) is a path-absolute URL, which every
/// browser resolves on the current origin; only its dot segments are resolved here. The console
/// runs this in the browser, and a URL parser (with its Unicode tables) costs the wasm more than
/// the rest of the sign-in page.
pub fn after_sign_in(next: &str) -> String {
    let home = "/".to_owned();
    if !next.starts_with('/') || next.contains('\\') || next.chars().any(char::is_control) {
        return home;
    }
    let end = next.find(['?', '#']).unwrap_or(next.len());
    let (path, rest) = next.split_at(end);
    let path = without_dot_segments(path);
    // A path that starts with `//` would be read as another host.
    if path.starts_with("//") || path.starts_with("/login") {
        return home;
    }
    format!("{path}{rest}")
}

/// RFC 3986's remove_dot_segments on an absolute path, `.` and `..` also percent-encoded (as
/// browsers read them): `/ns/a/../b` is `/ns/b`.
fn without_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.into_iter().enumerate() {
        let lower = segment.to_ascii_lowercase();
        let dots = lower.replace("%2e", ".");
        match dots.as_str() {
            "." | ".." => {
                if dots == ".." {
                    out.pop();
                }
                // A trailing dot segment still ends the path in a directory (`/a/..` is `/`).
                if i == last {
                    out.push("");
                }
            }
            _ => out.push(segment),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_console_are_followed_after_sign_in() {
        assert_eq!(
            after_sign_in("/ns/demo/streams/ruby/tags/latest?x=1"),
            "/ns/demo/streams/ruby/tags/latest?x=1"
        );
        assert_eq!(after_sign_in("/ns/demo#top"), "/ns/demo#top");
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
            assert_eq!(after_sign_in(bad), "/", "{bad:?}");
        }
        assert_eq!(after_sign_in("/ns/a/../b"), "/ns/b");
        for (dotted, path) in [
            ("/ns/a/./b/", "/ns/a/b/"),
            ("/ns/a/%2E%2e/b?q=/../x#/..", "/ns/b?q=/../x#/.."),
            ("/../../ns", "/ns"),
            ("/ns/a/..", "/ns/"),
        ] {
            assert_eq!(after_sign_in(dotted), path, "{dotted:?}");
        }
        for bad in [
            "/a/..//evil.example/",
            "/./login",
            "/ns/%2e%2e/login?next=/",
            "/login",
        ] {
            assert_eq!(after_sign_in(bad), "/", "{bad:?}");
        }
    }
}
