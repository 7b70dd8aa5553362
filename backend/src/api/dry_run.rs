//! `dryRun=All` (`kubectl --dry-run=server`): the request is decoded, validated and authorized
//! as usual and answered with what would be stored, and nothing is stored. [`mark`] runs in the
//! API-wide layer before any handler: it finds the request's dry-run wish (the query, or the
//! DeleteOptions body kubectl sends with a delete), refuses it where the handlers do not know
//! dry runs, and hands the handlers a [`DryRun`] they read as an extractor.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::Method;
use axum::http::request::Parts;
use tagstream_shared::object::ApiResource;
use tagstream_shared::resources::{IMAGESTREAMS, TEMPLATES};

use crate::error::ApiError;

/// The kinds whose writes know dry runs (their create, replace, patch and delete).
const KINDS: &[&ApiResource] = &[&IMAGESTREAMS, &TEMPLATES];

/// The largest DeleteOptions body read for its `dryRun` (it is a few dozen bytes).
const MAX_DELETE_OPTIONS_BYTES: usize = 16 << 10;

/// Whether the request is a dry run: true means store nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DryRun(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for DryRun {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(parts.extensions.get::<Self>().copied().unwrap_or_default())
    }
}

/// Whether `path` is `pattern` with its `{...}` segments filled in.
fn matches(pattern: &str, path: &str) -> bool {
    let (p, q): (Vec<_>, Vec<_>) = (pattern.split('/').collect(), path.split('/').collect());
    p.len() == q.len()
        && p.iter()
            .zip(&q)
            .all(|(a, b)| (a.starts_with('{') && !b.is_empty()) || a == b)
}

fn knows_dry_run(method: &Method, path: &str) -> bool {
    KINDS.iter().any(|r| {
        (*method == Method::POST && matches(r.collection_route, path))
            || ([Method::PUT, Method::PATCH, Method::DELETE].contains(method)
                && matches(r.item_route, path))
    })
}

/// The request with its [`DryRun`] attached, or the refusal: a `dryRun` other than `All`, or a
/// dry run of a write that does not know them (so that it never stores anything).
pub async fn mark(req: Request) -> Result<Request, ApiError> {
    let mut asked = None;
    // The keys are decoded first, so `%64ryRun=All` is one too.
    if let Some(q) = req.uri().query() {
        for (key, value) in url::form_urlencoded::parse(q.as_bytes()) {
            if key == "dryRun" {
                asked = Some(value.into_owned());
            }
        }
    }
    let (parts, body) = req.into_parts();
    let body = if parts.method == Method::DELETE {
        // kubectl puts a delete's dryRun in its DeleteOptions body: `{"dryRun":["All"]}`.
        let bytes = axum::body::to_bytes(body, MAX_DELETE_OPTIONS_BYTES)
            .await
            .map_err(|_| {
                ApiError::TooLarge(format!(
                    "a DeleteOptions body is at most {MAX_DELETE_OPTIONS_BYTES} bytes"
                ))
            })?;
        if let Ok(options) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && let Some(values) = options.get("dryRun").and_then(|v| v.as_array())
        {
            for v in values {
                asked = Some(v.as_str().unwrap_or("?").to_owned());
            }
        }
        Body::from(bytes)
    } else {
        body
    };
    let mut req = Request::from_parts(parts, body);
    let Some(value) = asked else {
        return Ok(req);
    };
    if req.method() == Method::GET {
        return Ok(req);
    }
    if value != "All" {
        return Err(ApiError::BadRequest(format!(
            "dryRun must be All (was {value:?}): nothing was changed"
        )));
    }
    if !knows_dry_run(req.method(), req.uri().path()) {
        return Err(ApiError::BadRequest(
            "dryRun is not supported on this request (only image streams and templates know it \
             yet): nothing was changed (drop --dry-run=server)"
                .into(),
        ));
    }
    req.extensions_mut().insert(DryRun(true));
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kinds_writes_know_dry_runs() {
        let one = "/apis/image.openshift.io/v1/namespaces/demo/imagestreams/ruby";
        assert!(knows_dry_run(&Method::DELETE, one));
        assert!(knows_dry_run(&Method::PATCH, one));
        assert!(!knows_dry_run(&Method::PUT, &format!("{one}/status")));
        assert!(knows_dry_run(
            &Method::POST,
            "/apis/template.openshift.io/v1/namespaces/demo/templates"
        ));
        assert!(!knows_dry_run(
            &Method::POST,
            "/apis/template.openshift.io/v1/namespaces/demo/processedtemplates"
        ));
    }
}
