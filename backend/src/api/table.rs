//! The API-wide layer that shapes GET answers as kubectl asks: lists filtered by the selectors
//! and cut into chunks, lists and single objects printed as a `Table` when `Accept` asks for
//! one, and watch events filtered and printed the same way, line by line. Handlers keep
//! answering whole objects and lists; authorization ran before them, so the layer only narrows
//! what they answered.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde_json::Value;
use tagstream_shared::discovery;
use tagstream_shared::meta::{ListMeta, Time};
use tagstream_shared::object::ApiResource;
use tagstream_shared::table;

use super::list_options::KubeQuery;
use crate::app::AppState;
use crate::error::ApiError;

/// The largest answer the layer reshapes (a list of every stream of a big installation).
const MAX_REWRITE_BYTES: usize = 256 << 20;

/// The layer: reads the options, runs the handler, reshapes its answer.
pub async fn shape(req: Request, next: Next) -> Response {
    // A dry run reaches only the handlers that know them (`dry_run`).
    let req = match super::dry_run::mark(req).await {
        Ok(req) => req,
        Err(e) => return e.into_response(),
    };
    if req.method() != Method::GET {
        // Handlers' warnings (`fieldValidation=Warn`) become `Warning` headers.
        let warnings = super::field_validation::Warnings::default();
        let mut req = req;
        req.extensions_mut().insert(warnings.clone());
        let mut response = next.run(req).await;
        for w in warnings.headers() {
            if let Ok(v) = axum::http::HeaderValue::from_str(&w) {
                response.headers_mut().append("warning", v);
            }
        }
        return response;
    }
    let (mut parts, body) = req.into_parts();
    let query = match KubeQuery::from_parts(&parts) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    if query.is_plain() {
        return next.run(Request::from_parts(parts, body)).await;
    }
    // The handler's answer is read here, so it must come as JSON, not as bytes already gzipped
    // (the read cache keeps big lists so): the compression layer outside still compresses what
    // this layer answers.
    parts.headers.remove(ACCEPT_ENCODING);
    let now = parts
        .extensions
        .get::<AppState>()
        .map_or_else(Time::now, |s| s.clock.now());
    let response = next.run(Request::from_parts(parts, body)).await;
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status() != StatusCode::OK || !is_json {
        return response;
    }
    // What cannot be read cannot be narrowed: an answer the selectors, the chunking or the table
    // were asked of is refused rather than sent whole (`kubectl delete -l` deletes what it gets).
    if response.headers().contains_key(CONTENT_ENCODING) {
        return ApiError::Internal(
            "a list to narrow came encoded: it is not sent unfiltered".into(),
        )
        .into_response();
    }
    if query.watch {
        return watch(response, query, now);
    }
    let (mut head, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_REWRITE_BYTES).await {
        Ok(b) => b,
        Err(e) => return ApiError::Internal(Box::new(e)).into_response(),
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return ApiError::Internal(
            "an answer to narrow is not JSON: it is not sent unfiltered".into(),
        )
        .into_response();
    };
    let shaped = if value.get("items").is_some_and(Value::is_array) {
        query.page(&mut value);
        match query.table {
            Some(version) => list_table(value, &query, version, now),
            None => value,
        }
    } else {
        match query.table {
            Some(version) => {
                let resource = resource_of(&value, false);
                let mut t = table::table(
                    resource,
                    vec![value],
                    ListMeta::default(),
                    query.include,
                    now,
                );
                t.api_version = format!("meta.k8s.io/{version}");
                serde_json::to_value(t).unwrap_or_default()
            }
            None => value,
        }
    };
    head.headers.remove(axum::http::header::CONTENT_LENGTH);
    (head, axum::Json(shaped)).into_response()
}

/// The resource a list (`ImageStreamList`) or object (`ImageStream`) belongs to.
fn resource_of(value: &Value, list: bool) -> Option<&'static ApiResource> {
    let api_version = value.get("apiVersion")?.as_str()?;
    let kind = value.get("kind")?.as_str()?;
    if list {
        discovery::by_list_kind(api_version, kind)
    } else {
        discovery::by_kind(api_version, kind)
    }
}

fn list_table(mut list: Value, query: &KubeQuery, version: &str, now: Time) -> Value {
    let resource = resource_of(&list, true);
    let metadata: ListMeta = list
        .get_mut("metadata")
        .map(Value::take)
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default();
    let items = match list.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let mut t = table::table(resource, items, metadata, query.include, now);
    t.api_version = format!("meta.k8s.io/{version}");
    let mut value = serde_json::to_value(t).unwrap_or_default();
    // `remainingItemCount` is not in tagstream's ListMeta: carry it over as Kubernetes does.
    if let Some(count) = list.pointer("/metadata/remainingItemCount").cloned()
        && let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut)
    {
        meta.insert("remainingItemCount".into(), count);
    }
    value
}

/// A watch stream with each event passed through the selectors and, for a Table watch, its
/// object turned into a one-row Table.
fn watch(response: Response, query: KubeQuery, now: Time) -> Response {
    let (head, body) = response.into_parts();
    let mut carry: Vec<u8> = Vec::new();
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk = chunk?;
        carry.extend_from_slice(&chunk);
        let mut out = Vec::new();
        while let Some(end) = carry.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = carry.drain(..=end).collect();
            if let Some(shaped) = event(&line, &query, now) {
                out.extend_from_slice(&shaped);
                out.push(b'\n');
            }
        }
        Ok::<_, axum::Error>(Bytes::from(out))
    });
    Response::from_parts(head, Body::from_stream(stream))
}

/// One event line, reshaped; none when the selectors drop it.
fn event(line: &[u8], query: &KubeQuery, now: Time) -> Option<Vec<u8>> {
    let Ok(mut event) = serde_json::from_slice::<Value>(line) else {
        return Some(line.trim_ascii_end().to_vec());
    };
    let is_error = event.get("type").and_then(Value::as_str) == Some("ERROR");
    let object = event.get_mut("object")?;
    if !is_error {
        if !query.selects(object) {
            return None;
        }
        if let Some(version) = query.table {
            let resource = resource_of(object, false);
            let mut t = table::table(
                resource,
                vec![object.take()],
                ListMeta::default(),
                query.include,
                now,
            );
            t.api_version = format!("meta.k8s.io/{version}");
            *object = serde_json::to_value(t).unwrap_or_default();
        }
    }
    serde_json::to_vec(&event).ok()
}
