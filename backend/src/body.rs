//! Request bodies: JSON or YAML by `Content-Type`, JSON merge patches, and typed path names.
//! Every failure here is a `Status` (400, 413, 415), never axum's plain-text rejection.
//!
//! A body must say what it is: `application/json`, `application/yaml` (or its aliases), or
//! `application/merge-patch+json` for PATCH. Anything else, no `Content-Type` included, is a 415:
//! a cross-site HTML form or `fetch` can only send `text/plain`, form types or no type without a
//! CORS preflight, so none of those may reach the API. Every body is read up to a byte limit, and
//! YAML goes through one parser with resource budgets and without anchors or aliases.

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_saphyr::budget::BudgetBreach;

use crate::error::ApiError;

mod protobuf;
pub use protobuf::{body_or_protobuf, is_protobuf, read_protobuf};

/// The largest body the API reads: room for a big template or a list of image streams, small
/// enough that a few bodies in flight cannot exhaust the server's memory.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// The largest body a route anyone may call reads (sign-in, accepting an invitation): a user
/// name and a password, with plenty of room, and nothing that costs the server before it knows
/// who is asking.
pub const MAX_ANONYMOUS_BODY_BYTES: usize = 16 << 10;

/// How deep a YAML body may nest: Kubernetes objects are a dozen levels deep; the parser and the
/// JSON value after it recurse per level.
pub const MAX_YAML_DEPTH: usize = 64;

/// How many nodes (scalars, lists, maps) a YAML body may hold: ten times what the largest
/// template of openshift/library has, and a bound on the JSON value built from it.
pub const MAX_YAML_NODES: usize = 250_000;

/// What the 415 says is accepted.
const ACCEPTED: &str = "send application/json or application/yaml \
     (application/merge-patch+json for PATCH)";

/// What a body's `Content-Type` says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Yaml,
    MergePatch,
    /// RFC 6902 (`kubectl patch --type json`), for PATCH.
    JsonPatch,
    /// Server-side apply (`kubectl apply --server-side`), for PATCH: YAML (or JSON) of the
    /// caller's whole intent, see `api::apply`.
    ApplyPatch,
    /// What kubectl sends for the Kubernetes kinds it knows (a RoleBinding), for PATCH: taken
    /// as a merge patch by kinds whose lists have no merge keys, refused by the others.
    StrategicMergePatch,
}

impl BodyFormat {
    fn from_content_type(value: Option<&str>) -> Result<Self, ApiError> {
        let Some(value) = value else {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the request has a body but no Content-Type: {ACCEPTED}"
            )));
        };
        let essence = value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Ok(Self::Json),
            "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" => {
                Ok(Self::Yaml)
            }
            "application/merge-patch+json" => Ok(Self::MergePatch),
            "application/json-patch+json" => Ok(Self::JsonPatch),
            "application/apply-patch+yaml" => Ok(Self::ApplyPatch),
            "application/strategic-merge-patch+json" => Ok(Self::StrategicMergePatch),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "the body's content type {other:?} is not accepted: {ACCEPTED}"
            ))),
        }
    }
}

/// A parsed body of type `T`, from JSON or YAML.
#[derive(Debug)]
pub struct Body<T>(pub T);

/// A body as a JSON value, with the format it came in.
#[derive(Debug, Clone)]
pub struct RawBody {
    pub format: BodyFormat,
    pub value: Value,
    /// The bytes as sent (shared, not copied): `fieldValidation` looks for repeated keys in
    /// them, which the parsed value no longer shows.
    pub bytes: Bytes,
}

/// `limit` in words, for a Status.
fn size_in_words(limit: usize) -> String {
    match limit {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::TooLarge(format!(
        "the request body is larger than the {} limit",
        size_in_words(limit)
    ))
}

/// The body's bytes, refused (413) as soon as more than `limit` arrive or are announced.
async fn read_limited(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let collected = Limited::new(req.into_body(), limit)
        .collect()
        .await
        .map_err(|e| match e.downcast_ref::<LengthLimitError>() {
            Some(_) => too_large(limit),
            None => ApiError::BadRequest(format!("could not read the request body: {e}")),
        })?;
    let bytes = collected.to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("the request body is empty".into()));
    }
    Ok(bytes)
}

fn content_type(req: &Request) -> Option<&str> {
    req.headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("?"))
}

/// `bytes` as a JSON value, read as `format` says.
fn parse(format: BodyFormat, bytes: &[u8]) -> Result<Value, ApiError> {
    match format {
        BodyFormat::Json
        | BodyFormat::MergePatch
        | BodyFormat::JsonPatch
        | BodyFormat::StrategicMergePatch => parse_json(bytes),
        BodyFormat::Yaml | BodyFormat::ApplyPatch => parse_yaml(bytes),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

/// The one YAML parser of the API. Anchors and aliases are refused outright: expanding them is
/// how a few KiB of YAML become gigabytes (an "alias bomb"), and no API object needs them. Depth,
/// nodes and scalar bytes are capped by the parser while it reads, before anything is built. A
/// key repeated within one mapping keeps its last value, as in a JSON body; `fieldValidation`
/// (Strict, Warn) finds such keys in a second pass ([`yaml_options`]).
pub fn parse_yaml(bytes: &[u8]) -> Result<Value, ApiError> {
    let options = yaml_options(serde_saphyr::DuplicateKeyPolicy::LastWins);
    serde_saphyr::from_slice_with_options(bytes, options).map_err(|e| yaml_error(&e))
}

/// The parser's options: its limits, with `duplicates` for keys a mapping repeats.
pub fn yaml_options(duplicates: serde_saphyr::DuplicateKeyPolicy) -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_aliases: 0,
            max_anchors: 0,
            max_depth: MAX_YAML_DEPTH,
            max_nodes: MAX_YAML_NODES,
            max_total_scalar_bytes: MAX_BODY_BYTES,
            max_documents: 1,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 0,
        },
        // As YAML 1.2 and the previous parser: `<<` is a plain key, `yes`/`no`/`on` are strings.
        merge_keys: serde_saphyr::MergeKeyPolicy::AsOrdinary,
        strict_booleans: true,
        with_snippet: false,
        duplicate_keys: duplicates,
    }
}

fn yaml_error(e: &serde_saphyr::Error) -> ApiError {
    let serde_saphyr::Error::Budget { breach, .. } = e.without_snippet() else {
        return ApiError::BadRequest(format!("the body is not valid YAML: {e}"));
    };
    ApiError::BadRequest(match breach {
        BudgetBreach::Aliases { .. } | BudgetBreach::Anchors { .. } => {
            "YAML anchors and aliases (&name, *name) are not accepted in API bodies: write the \
             values out"
                .into()
        }
        BudgetBreach::Depth { .. } => {
            format!("the YAML body nests deeper than the {MAX_YAML_DEPTH}-level limit")
        }
        BudgetBreach::Nodes { .. } => {
            format!("the YAML body has more than the {MAX_YAML_NODES}-node limit")
        }
        BudgetBreach::Documents { .. } => "the YAML body must be one document".into(),
        other => format!("the YAML body is over a parser limit: {other:?}"),
    })
}

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let format = BodyFormat::from_content_type(content_type(&req))?;
        let bytes = read_limited(req, MAX_BODY_BYTES).await?;
        let value = if !crate::heavy::off_thread(format, bytes.len()) {
            parse(format, &bytes)?
        } else {
            let sent = bytes.clone();
            crate::heavy::run(move || parse(format, &sent)).await??
        };
        Ok(Self {
            format,
            value,
            bytes,
        })
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        decode(not_a_patch(RawBody::from_request(req, state).await?)?).map(Body)
    }
}

/// The body of a create: a patch is refused (415).
fn not_a_patch(raw: RawBody) -> Result<Value, ApiError> {
    if matches!(
        raw.format,
        BodyFormat::MergePatch
            | BodyFormat::JsonPatch
            | BodyFormat::ApplyPatch
            | BodyFormat::StrategicMergePatch
    ) {
        return Err(ApiError::UnsupportedMediaType(
            "a patch is accepted only by PATCH".into(),
        ));
    }
    Ok(raw.value)
}

/// The body of a route anyone may call: JSON only, at most [`MAX_ANONYMOUS_BODY_BYTES`], so that
/// a caller nobody knows yet costs the server next to nothing before the password check and the
/// rate limits.
#[derive(Debug)]
pub struct AnonymousBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AnonymousBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        if BodyFormat::from_content_type(content_type(&req))? != BodyFormat::Json {
            return Err(ApiError::UnsupportedMediaType(
                "this route accepts only application/json".into(),
            ));
        }
        let bytes = read_limited(req, MAX_ANONYMOUS_BODY_BYTES).await?;
        decode(parse_json(&bytes)?).map(AnonymousBody)
    }
}

/// Turns a JSON value into `T`; a shape mismatch is the client's error (400). Every body (and
/// every patched object) passes here, so this is where labels and annotations are checked: a
/// bad key or value is a 422 naming it, whichever verb brought it.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::BadRequest("the body must be an object".into()));
    }
    let errors = tagstream_shared::qualified::metadata_errors(&value);
    if !errors.is_empty() {
        let sent = value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kind = tagstream_shared::resources::ALL
            .iter()
            .find(|r| r.kind == sent)
            .map_or("Object", |r| r.kind);
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        return Err(ApiError::Invalid { kind, name, errors });
    }
    // The error names the field it is about (`spec: invalid type: sequence, expected a map`).
    serde_path_to_error::deserialize(value)
        .map_err(|e| ApiError::BadRequest(format!("the body does not decode: {e}")))
}

/// RFC 7386 JSON merge patch: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Applies a PATCH body to `document`: a merge patch, or a JSON patch whose failure is the
/// client's (422, naming the operation); any other body type is a 415.
pub fn apply_patch(document: &mut Value, patch: &RawBody) -> Result<(), ApiError> {
    match patch.format {
        BodyFormat::MergePatch => {
            merge_patch(document, &patch.value);
            Ok(())
        }
        BodyFormat::JsonPatch => tagstream_shared::json_patch::apply(document, &patch.value)
            .map_err(|e| ApiError::BadRequest(format!("the JSON patch does not apply: {e}"))),
        _ => Err(ApiError::UnsupportedMediaType(
            "PATCH takes application/merge-patch+json or application/json-patch+json".into(),
        )),
    }
}

/// Path parameters parsed into typed names; a malformed one is a 400 naming it.
#[derive(Debug)]
pub struct Names<T>(pub T);

/// Parsing from a path segment into a typed name, with what to call it in an error.
pub trait FromPath: Sized {
    fn from_path(params: Vec<(String, String)>) -> Result<Self, ApiError>;
}

impl<S: Send + Sync, T: FromPath> FromRequestParts<S> for Names<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(format!("bad path: {e}")))?;
        T::from_path(params).map(Names)
    }
}

/// A query string parsed into `T`; a malformed one (`?limit=-1` where a count is wanted) is a
/// 400 `Status` naming what was wrong, not axum's plain-text rejection.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| QueryParams(q.0))
            .map_err(|e| ApiError::BadRequest(format!("bad query: {}", e.body_text())))
    }
}

/// Parses the path parameter `key` as `T`.
pub fn param<T>(params: &[(String, String)], key: &str) -> Result<T, ApiError>
where
    T: std::str::FromStr<Err = tagstream_shared::NameError>,
{
    let value = params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| ApiError::BadRequest(format!("missing path parameter {key}")))?;
    value
        .parse()
        .map_err(|e| ApiError::BadRequest(format!("invalid {key} {value:?} in the path: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "t": [1, 2]});
        merge_patch(
            &mut doc,
            &json!({"a": "z", "c": {"f": null}, "t": [3], "n": {"x": 1}}),
        );
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e"}, "t": [3], "n": {"x": 1}})
        );
    }

    #[test]
    fn content_types_map_to_formats() {
        // No type, form types and text/plain are what a cross-site form or fetch can send.
        for refused in [
            None,
            Some("application/x-www-form-urlencoded"),
            Some("text/plain"),
            Some("multipart/form-data; boundary=x"),
            Some("text/html"),
        ] {
            assert!(
                BodyFormat::from_content_type(refused).is_err(),
                "{refused:?}"
            );
        }
        assert_eq!(
            BodyFormat::from_content_type(Some("application/yaml; charset=utf-8")).ok(),
            Some(BodyFormat::Yaml)
        );
        assert_eq!(
            BodyFormat::from_content_type(Some("Application/JSON")).ok(),
            Some(BodyFormat::Json)
        );
    }

    #[test]
    fn yaml_reads_as_yaml_1_2_without_aliases() {
        let value = parse_yaml(
            b"a: yes\nb: 10\nc: [1, true, null, -3, 1.5, \"7\", 0x1F]\n\"<<\": x\nd: 18446744073709551615\n",
        )
        .ok();
        assert_eq!(
            value,
            Some(
                json!({"a": "yes", "b": 10, "c": [1, true, null, -3, 1.5, "7", 31], "<<": "x",
                        "d": 18446744073709551615u64})
            )
        );
        let bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n";
        let Err(ApiError::BadRequest(message)) = parse_yaml(bomb) else {
            panic!("an alias is refused");
        };
        assert!(message.contains("aliases"), "{message}");
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_yaml(deep.as_bytes()).is_err());
    }
}
