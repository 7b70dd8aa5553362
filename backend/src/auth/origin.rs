//! Where a browser says a request comes from: `Sec-Fetch-Site`, or failing that `Origin`
//! compared with the host the request was sent to. A change that a browser signs in by itself
//! (a header from the trusted proxy) or a sign-in must come from the console's own origin,
//! or a page on another site could post a form through the user's browser (CSRF, login CSRF).

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};

/// What the request's headers tell about the page that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// A page of this origin, or the user themselves (`Sec-Fetch-Site: none`).
    SameOrigin,
    /// Another origin, another site, or an opaque (`null`) one.
    CrossSite,
    /// No browser header at all: a command-line client, which no page can drive.
    Unknown,
}

/// Classifies the request. `forwarded_host` is the host a trusted proxy says it received.
pub fn site(headers: &HeaderMap, forwarded_host: Option<&str>) -> Site {
    if let Some(fetch) = headers.get("sec-fetch-site") {
        return match fetch.as_bytes() {
            b"same-origin" | b"none" => Site::SameOrigin,
            _ => Site::CrossSite,
        };
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return Site::Unknown;
    };
    let Some(authority) = origin.to_str().ok().and_then(origin_authority) else {
        return Site::CrossSite;
    };
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    let same = [host, forwarded_host]
        .into_iter()
        .flatten()
        .any(|h| same_authority(h, &authority));
    if same {
        Site::SameOrigin
    } else {
        Site::CrossSite
    }
}

/// `host[:port]` of an `Origin` value (`scheme://host[:port]`), the default port dropped.
fn origin_authority(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\']) {
        return None;
    }
    let default = match scheme {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    Some(
        rest.strip_suffix(default)
            .unwrap_or(rest)
            .to_ascii_lowercase(),
    )
}

fn same_authority(host: &str, origin_authority: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let host = host
        .strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .unwrap_or(&host);
    host == origin_authority
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        let s = |v| {
            site(
                &headers(&[("sec-fetch-site", v), ("host", "c.example")]),
                None,
            )
        };
        assert_eq!(s("same-origin"), Site::SameOrigin);
        assert_eq!(s("none"), Site::SameOrigin);
        assert_eq!(s("same-site"), Site::CrossSite);
        assert_eq!(s("cross-site"), Site::CrossSite);
    }

    #[test]
    fn origin_is_compared_with_the_host_the_request_reached() {
        let s = |origin, fwd| {
            site(
                &headers(&[("origin", origin), ("host", "127.0.0.1:8080")]),
                fwd,
            )
        };
        assert_eq!(s("http://127.0.0.1:8080", None), Site::SameOrigin);
        assert_eq!(s("http://evil.example", None), Site::CrossSite);
        assert_eq!(s("null", None), Site::CrossSite);
        assert_eq!(s("http://127.0.0.1:8080\\@evil", None), Site::CrossSite);
        assert_eq!(
            s("https://console.example", Some("console.example")),
            Site::SameOrigin
        );
        assert_eq!(site(&headers(&[("host", "x")]), None), Site::Unknown);
    }
}
