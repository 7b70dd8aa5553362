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
use tagstream_shared::resources::{IMAGESTREAMS, IMAGESTREAMTAGS, TEMPLATES};

use crate::error::ApiError;

/// The kinds whose writes know dry runs (their create, replace, patch and delete).
const KINDS: &[&ApiResource] = &[&IMAGESTREAMS, &IMAGESTREAMTAGS, &TEMPLATES];

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

/// The `dryRun` a DELETE's body (kubectl's DeleteOptions) asks for. A body this cannot read
/// with certainty is refused rather than ignored: ignoring `{"dryRun":"All"}` or a YAML body
/// would really delete what the caller only meant to try. Preconditions are refused too, since
/// a delete that does not check them would go ahead when the caller asked it not to.
fn delete_options_dry_run(bytes: &[u8]) -> Result<Option<String>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let refuse = |why: &str| ApiError::BadRequest(format!("{why}: nothing was deleted"));
    if bytes.starts_with(b"k8s\0") {
        return protobuf_dry_run(bytes).map_err(|e| refuse(&format!("DeleteOptions: {e}")));
    }
    let options: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|_| refuse("a delete's body must be a JSON DeleteOptions object"))?;
    if options.get("preconditions").is_some_and(|p| !p.is_null()) {
        return Err(refuse("DeleteOptions preconditions are not supported"));
    }
    let Some(dry_run) = options.get("dryRun") else {
        return Ok(None);
    };
    let values = dry_run
        .as_array()
        .ok_or_else(|| refuse("DeleteOptions dryRun must be a list, e.g. [\"All\"]"))?;
    let mut asked = None;
    for v in values {
        let v = v
            .as_str()
            .ok_or_else(|| refuse("DeleteOptions dryRun must list strings"))?;
        asked = Some(v.to_owned());
    }
    Ok(asked)
}

/// [`delete_options_dry_run`] for kubectl 1.33's protobuf DeleteOptions (`preconditions` is
/// field 2, `dryRun` the repeated string field 5).
fn protobuf_dry_run(bytes: &[u8]) -> Result<Option<String>, String> {
    use tagstream_shared::protobuf;
    let options = protobuf::unwrap_envelope(bytes)?;
    if protobuf::field(options, 2)?.is_some() {
        return Err("preconditions are not supported".into());
    }
    let mut asked = None;
    for v in protobuf::fields(options, 5)? {
        asked = Some(String::from_utf8(v.to_vec()).map_err(|_| "dryRun is not UTF-8")?);
    }
    Ok(asked)
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
        if let Some(value) = delete_options_dry_run(&bytes)? {
            asked = Some(value);
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
            "dryRun is not supported on this request (only image streams, image stream tags and \
             templates know it yet): nothing was changed (drop --dry-run=server)"
                .into(),
        ));
    }
    req.extensions_mut().insert(DryRun(true));
    Ok(req)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A short length-delimited protobuf field.
    pub(crate) fn ld(number: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![number << 3 | 2, u8::try_from(content.len()).expect("short")];
        out.extend_from_slice(content);
        out
    }

    fn envelope(options: &[u8]) -> Vec<u8> {
        [b"k8s\0".as_slice(), &ld(2, options)].concat()
    }

    #[test]
    fn a_delete_body_is_read_for_certain_or_refused() {
        let read = |b: &[u8]| delete_options_dry_run(b).map_err(|e| e.to_string());
        assert_eq!(read(b""), Ok(None));
        assert_eq!(read(br#"{"propagationPolicy":"Background"}"#), Ok(None));
        assert_eq!(read(br#"{"dryRun":["All"]}"#), Ok(Some("All".into())));
        for refused in [
            br#"{"dryRun":"All"}"#.as_slice(),
            br#"{"dryRun":[1]}"#,
            b"dryRun: [All]",
            br#"["All"]"#,
            br#"{"preconditions":{"uid":"x"}}"#,
        ] {
            assert!(
                read(refused).is_err(),
                "{}",
                String::from_utf8_lossy(refused)
            );
        }
        // kubectl 1.33's protobuf DeleteOptions: dryRun is field 5, preconditions field 2.
        assert_eq!(read(&envelope(&ld(4, b"Background"))), Ok(None));
        assert_eq!(read(&envelope(&ld(5, b"All"))), Ok(Some("All".into())));
        assert!(read(&envelope(&ld(2, &ld(1, b"uid")))).is_err());
        assert!(read(b"k8s\0\x12\x7f").is_err());
    }

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
