//! The built console: files from dist/, and for every other path the console's one `index.html`,
//! so that a deep link opened cold loads the app, which routes it (or says "not found"). A missing
//! asset (`/missing.js`) is a 404, not the app. The hashed assets are answered from memory
//! (`memory`), ahead of the middleware the rest passes.

pub mod memory;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::services::{ServeDir, ServeFile};

/// Paths the console routes itself: always its index.html, whatever the last segment looks like
/// (a tag page ends in `3.12`).
fn is_console_route(path: &str) -> bool {
    path == "/"
        || ["/ns/", "/k8s/", "/admin"]
            .iter()
            .any(|p| path.starts_with(p))
}

/// The `index.html` that answers every console path.
fn index(dist: &Path) -> PathBuf {
    dist.join("index.html")
}

/// Trunk names built assets by their content hash (`main-c219bf6bd3ee3c13.css`,
/// `tagstream-frontend-e5c11f0a44a97a65_bg.wasm`), so a browser may keep them for good; a new
/// build has new names, reached through `index.html`, which is revalidated every time.
fn is_hashed_asset(path: &str) -> bool {
    let Some(last) = path.rsplit('/').next() else {
        return false;
    };
    let stem = last.split('.').next().unwrap_or(last);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn with_cache_control(mut response: Response, value: &'static str) -> Response {
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

/// `index.html`: revalidated each time, so a new build reaches returning users. Not `no-store`:
/// the console may sit in the back-forward cache, since it closes its live-update streams on
/// `pagehide` (an open one there held one of the browser's six connections to the server, and
/// every sixth navigation stalled for a minute) and reopens them on `pageshow`.
const REVALIDATE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The built files, each served as the `.br` or `.gz` beside it that `scripts/console.sh` made at
/// build time when the client accepts that encoding (with `Vary: Accept-Encoding`), rather than
/// compressed anew on every request: the wasm is 1.7 MB, and gzipping it per request at the
/// fastest level took the server tens of milliseconds on a cold open and still sent 770 KB where
/// `gzip -9` makes 600 KB and brotli less. A file without them is compressed on the fly as before
/// (the compression layer leaves an answer that has a `Content-Encoding` alone).
fn assets(dist: &Path) -> ServeDir {
    ServeDir::new(dist).precompressed_br().precompressed_gzip()
}

/// The API reads the console makes first on the page at `path`, for `Link: rel=preload` headers
/// on its `index.html`: the browser asks them while it downloads and compiles the wasm, and the
/// console's own requests for the same URLs (same-origin `fetch`, no extra headers) are answered
/// from them. Who is signed in (every page's top bar), and on a tag page, the link people share,
/// the tag and the caller's access in its project: what its first content waits for. Not the
/// followers: with the CSS, the script and the wasm, three more would pass the browser's six
/// connections to the server and hold the wasm back. A path that is not a well-formed tag page
/// gets the first only; a preload the page does not use costs one request.
fn first_reads(path: &str) -> Vec<String> {
    use tagstream_shared::{ProjectName, StreamName, TagName, paths};
    let mut reads = vec![paths::WHOAMI.to_owned()];
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    if let ["ns", ns, "streams", stream, "tags", tag] = segments.as_slice()
        && let (Ok(ns), Ok(stream), Ok(tag)) = (
            ns.parse::<ProjectName>(),
            stream.parse::<StreamName>(),
            tag.parse::<TagName>(),
        )
    {
        let ns = ns.as_str();
        reads.extend([
            paths::imagestreamtag(ns, stream.as_str(), tag.as_str()),
            paths::access_reviews(ns),
        ]);
    }
    reads
}

/// Whether a segment of `path` is longer than a file name may be (255 bytes; an encoded one is
/// no shorter than it decodes to).
fn names_no_file(path: &str) -> bool {
    path.split('/').any(|segment| segment.len() > 255)
}

fn looks_like_asset(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

/// A service answering every request outside the API from `dist`.
pub fn service(
    dist: PathBuf,
) -> impl tower::Service<Request<Body>, Response = Response, Error = Infallible, Future = impl Send>
+ Clone
+ Send {
    tower::service_fn(move |req: Request<Body>| {
        let dist = dist.clone();
        async move {
            let path = req.uri().path().to_owned();
            if is_console_route(&path) {
                let mut response = serve(ServeFile::new(index(&dist)), req).await;
                if response.status().is_success() {
                    for read in first_reads(&path) {
                        if let Ok(link) = HeaderValue::try_from(format!(
                            "<{read}>; rel=preload; as=fetch; crossorigin"
                        )) {
                            response.headers_mut().append(header::LINK, link);
                        }
                    }
                }
                return Ok(with_cache_control(response, REVALIDATE));
            }
            // A file name longer than a file system allows names no file of dist/ (the disk
            // service would answer its "file name too long" as a 500).
            let response = if names_no_file(&path) {
                StatusCode::NOT_FOUND.into_response()
            } else {
                serve(assets(&dist), req).await
            };
            if is_hashed_asset(&path) {
                return Ok(with_cache_control(response, IMMUTABLE));
            }
            if response.status() == StatusCode::NOT_FOUND && !looks_like_asset(&path) {
                let req = Request::builder()
                    .uri("/")
                    .body(Body::empty())
                    .unwrap_or_default();
                let response = serve(ServeFile::new(index(&dist)), req).await;
                return Ok(with_cache_control(response, REVALIDATE));
            }
            Ok(response)
        }
    })
}

/// The console's service: hashed assets from memory (`memory`), everything else by `rest`
/// (the disk service above, behind the same middleware as the API).
#[derive(Debug, Clone)]
pub struct MemoryFirst<S> {
    assets: Arc<memory::Assets>,
    rest: S,
}

impl<S> MemoryFirst<S> {
    pub fn new(assets: Arc<memory::Assets>, rest: S) -> Self {
        Self { assets, rest }
    }
}

impl<S> tower::Service<Request<Body>> for MemoryFirst<S>
where
    S: tower::Service<Request<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = futures::future::Either<
        std::future::Ready<Result<Response, Infallible>>,
        futures::future::BoxFuture<'static, Result<Response, Infallible>>,
    >;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // `rest` is driven to readiness by `oneshot` when a request needs it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        use futures::FutureExt as _;
        if let Some(response) = self.assets.answer(&req) {
            return futures::future::Either::Left(std::future::ready(Ok(response)));
        }
        let rest = self.rest.clone();
        futures::future::Either::Right(serve(rest, req).map(Ok).boxed())
    }
}

async fn serve<S>(svc: S, req: Request<Body>) -> Response
where
    S: tower::Service<Request<Body>, Error = Infallible> + Send,
    S::Response: IntoResponse,
    S::Future: Send,
{
    match svc.oneshot(req).await {
        Ok(r) => r.into_response(),
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_routes_and_assets_are_told_apart() {
        assert!(is_console_route("/ns/demo/streams/python/tags/3.12"));
        assert!(is_console_route("/k8s/ns/demo/imagestreams/ruby"));
        assert!(!is_console_route("/tagstream-frontend-abc.wasm"));
        assert!(looks_like_asset("/missing.js"));
        assert!(!looks_like_asset("/somewhere"));
        assert!(is_hashed_asset("/main-c219bf6bd3ee3c13.css"));
        assert!(is_hashed_asset(
            "/tagstream-frontend-e5c11f0a44a97a65_bg.wasm"
        ));
        assert!(is_hashed_asset("/tagstream-frontend-e5c11f0a44a97a65.js"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/favicon.svg"));
        assert!(!is_hashed_asset("/my-stylesheet.css"));
        assert!(is_hashed_asset("/tools/tools-e5c11f0a44a97a65_bg.wasm"));
    }

    #[test]
    fn a_tag_page_preloads_what_it_reads_first() {
        use tagstream_shared::paths;
        assert_eq!(
            first_reads("/ns/demo/streams/python/tags/3.12"),
            [
                paths::WHOAMI.to_owned(),
                paths::imagestreamtag("demo", "python", "3.12"),
                paths::access_reviews("demo"),
            ]
        );
        for other in [
            "/",
            "/ns/demo/streams/python",
            "/ns/demo/streams/python/tags/3.12/edit",
            "/ns/Not_A_Name/streams/python/tags/3.12",
        ] {
            assert_eq!(first_reads(other), [paths::WHOAMI], "{other}");
        }
    }
}
