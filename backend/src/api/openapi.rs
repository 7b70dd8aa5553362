//! OpenAPI as kubectl reads it: `/openapi/v3` (where each group-version's document is) and the
//! documents (`tagstream_shared::openapi`, schemas generated from the wire types), and the
//! empty `/openapi/v2` that kubectl 1.27 asks for before an `apply`.
//!
//! The documents depend only on the build, so each is serialized once per process and served
//! from memory with its SHA-256 as the version: the index names it in each `?hash=` (kubectl
//! caches a document on disk under that URL) and as the `ETag`, so a client holding the
//! current one gets a 304, as kube-apiserver answers.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tagstream_shared::openapi;

use crate::access::Need;
use crate::api::routes::Routes;
use crate::error::{ApiError, ApiResult};

/// A document as served: its bytes and their digest (hex).
struct Document {
    body: Vec<u8>,
    hash: String,
}

impl Document {
    fn new(value: &serde_json::Value) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        let hash = Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self { body, hash }
    }
}

/// Every group-version's document by its path under `/openapi/v3/` (`apis/{group}/{version}`).
fn documents() -> &'static BTreeMap<String, Document> {
    static DOCS: OnceLock<BTreeMap<String, Document>> = OnceLock::new();
    DOCS.get_or_init(|| {
        openapi::group_versions()
            .into_iter()
            .filter_map(|gv| {
                let doc = openapi::document(gv)?;
                Some((openapi::document_path(gv), Document::new(&doc)))
            })
            .collect()
    })
}

fn index() -> &'static Document {
    static INDEX: OnceLock<Document> = OnceLock::new();
    INDEX.get_or_init(|| {
        Document::new(&openapi::root(|gv| {
            documents()
                .get(&openapi::document_path(gv))
                .map(|d| d.hash.clone())
                .unwrap_or_default()
        }))
    })
}

pub fn add_routes(mut routes: Routes) -> Routes {
    routes = routes.get("/openapi/v2", Need::SignedInScoped, get_v2).get(
        "/openapi/v3",
        Need::SignedInScoped,
        get_index,
    );
    for path in document_routes() {
        routes = routes.get(path, Need::SignedInScoped, get_document);
    }
    routes
}

/// `/openapi/v3/apis/{group}/{version}` of every served group-version, as fixed paths.
fn document_routes() -> &'static [&'static str] {
    static PATHS: OnceLock<Vec<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| {
        documents()
            .keys()
            // Built once per process, for the life of the server.
            .map(|path| &*Box::leak(format!("/openapi/v3/{path}").into_boxed_str()))
            .collect()
    })
}

async fn get_index(headers: HeaderMap) -> Response {
    serve(index(), &headers, false)
}

async fn get_document(uri: Uri, headers: HeaderMap) -> ApiResult<Response> {
    let path = uri.path().trim_start_matches("/openapi/v3/");
    let doc = documents()
        .get(path)
        .ok_or_else(|| ApiError::NoRoute(uri.path().to_owned()))?;
    // The URL names this very version: it never changes, a client may keep it.
    let immutable = uri.query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "hash" && v == doc.hash)
    });
    Ok(serve(doc, &headers, immutable))
}

fn serve(doc: &Document, headers: &HeaderMap, immutable: bool) -> Response {
    let etag = format!("\"{}\"", doc.hash);
    let fresh = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = match fresh {
        true => StatusCode::NOT_MODIFIED.into_response(),
        false => (StatusCode::OK, doc.body.clone()).into_response(),
    };
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, v);
    }
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(match immutable {
            true => "public, immutable, max-age=31536000",
            false => "no-cache, private",
        }),
    );
    h.insert(VARY, HeaderValue::from_static("Accept"));
    response
}

/// `/openapi/v2`: an empty Swagger 2.0 document (the schemas are in v3). kubectl 1.27 reads
/// this before every `apply` and stops when it is missing; it asks for gnostic's protobuf
/// encoding, which for a document of two strings is written out here field by field.
async fn get_v2(headers: HeaderMap) -> Response {
    const TITLE: &str = "tagstream (schemas: /openapi/v3)";
    let wants_protobuf = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("protobuf"));
    if !wants_protobuf {
        let doc = serde_json::json!({"swagger": "2.0", "info": {"title": TITLE, "version": "v2"}, "paths": {}});
        let mut response = (StatusCode::OK, doc.to_string()).into_response();
        let h = response.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(VARY, HeaderValue::from_static("Accept"));
        return response;
    }
    // Document { swagger (1) = "2.0", info (2) = Info { title (1), version (2) = "v2" } }:
    // length-delimited fields, tag = field number << 3 | 2; every length fits in one byte.
    let mut info = vec![0x0a, TITLE.len() as u8];
    info.extend_from_slice(TITLE.as_bytes());
    info.extend_from_slice(&[0x12, 2, b'v', b'2']);
    let mut doc = vec![0x0a, 3, b'2', b'.', b'0', 0x12, info.len() as u8];
    doc.extend_from_slice(&info);
    let mut response = (StatusCode::OK, doc).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
    );
    response
}
