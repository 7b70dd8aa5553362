//! `fieldValidation` (`Ignore`, `Warn`, `Strict`; kubectl 1.27+ sends `Strict` with its default
//! `--validate=strict`): what a write does with fields the server would not keep.
//!
//! tagstream's types keep fields they do not model (`extra`, so an OpenShift file serializes
//! back unchanged); no server knows those, and a key the kind's published schema does not name,
//! at any depth, is unknown ([`super::field_schema`]: `spec.tags[0].colour`, and a key of
//! `metadata` that is not one of Kubernetes' `ObjectMeta`, `metadata.foo`), as kube-apiserver
//! says, though the types would keep it. So is a field the server would drop: the body decoded
//! into the kind and serialized back no longer has it (a misspelled key inside a tag's
//! `importPolicy`, say). A known key whose value is empty (`null`, `false`, `0`, `""`, `[]`,
//! `{}`) and is left out when written back is not reported: nothing of it is lost. `Strict` refuses
//! the write (400, a cause per field, naming it as `spec.tags[0].importPolicy.sheduled`),
//! `Warn` writes it and answers a `Warning` header per field, `Ignore` (and no parameter)
//! writes it.
//!
//! A key a JSON or YAML body repeats within one object (the parse keeps the last one silently)
//! is reported the same way, as `json: duplicate field "metadata.name"` (`yaml: ...`)
//! ([`super::duplicate_fields`]); in a patch, the patch's own keys are checked.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::apply::ApplyOptions;
use super::dry_run::DryRun;
use crate::body::{BodyFormat, RawBody, decode, is_protobuf, read_protobuf};
use crate::error::ApiError;

/// The largest number of unknown fields named in one answer.
const MAX_REPORTED: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Ignore,
    Warn,
    Strict,
}

/// Warnings a handler adds to its answer (`Warning` headers, written by the API layer).
#[derive(Debug, Clone, Default)]
pub struct Warnings(pub Arc<Mutex<Vec<String>>>);

impl Warnings {
    fn push(&self, text: String) {
        if let Ok(mut w) = self.0.lock() {
            w.push(text);
        }
    }

    /// The warnings, as `Warning` header values (RFC 7234: code 299, agent `-`).
    pub fn headers(&self) -> Vec<String> {
        let list = self.0.lock().map(|w| w.clone()).unwrap_or_default();
        list.iter()
            .map(|w| format!("299 - {}", Value::String(w.clone())))
            .collect()
    }
}

/// The keys a body repeats, and its syntax (`json`, `yaml`) for the message.
struct Duplicates {
    found: Vec<String>,
    syntax: &'static str,
}

/// The request's `fieldValidation`, with where its warnings go.
#[derive(Debug, Clone, Default)]
pub struct FieldValidation {
    pub mode: Mode,
    warnings: Warnings,
    /// The project the request's path names (`{ns}`), which a body may not contradict.
    project: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for FieldValidation {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let mut mode = Mode::Ignore;
        if let Some(q) = parts.uri.query() {
            for (key, value) in url::form_urlencoded::parse(q.as_bytes()) {
                if key == "fieldValidation" {
                    mode = match value.as_ref() {
                        "Ignore" | "" => Mode::Ignore,
                        "Warn" => Mode::Warn,
                        "Strict" => Mode::Strict,
                        other => {
                            return Err(ApiError::BadRequest(format!(
                                "fieldValidation must be Ignore, Warn or Strict (was {other:?})"
                            )));
                        }
                    };
                }
            }
        }
        let warnings = parts
            .extensions
            .get::<Warnings>()
            .cloned()
            .unwrap_or_default();
        let project = axum::extract::RawPathParams::from_request_parts(parts, &())
            .await
            .ok()
            .and_then(|params| {
                let (_, ns) = params.iter().find(|(key, _)| *key == "ns")?;
                Some(ns.to_owned())
            });
        Ok(Self {
            mode,
            warnings,
            project,
        })
    }
}

impl FieldValidation {
    /// Adds a `Warning` to the answer.
    pub fn warn(&self, text: String) {
        self.warnings.push(text);
    }

    /// `value` as a `T`, its unknown fields handled as the mode says.
    pub fn decode<T: DeserializeOwned + Serialize>(
        &self,
        kind: &'static str,
        value: Value,
    ) -> Result<T, ApiError> {
        let none = Duplicates {
            found: Vec::new(),
            syntax: "json",
        };
        self.decode_checked(kind, value, none, &[])
    }

    /// `current` with `patch` applied, as a `T`: its unknown fields and the keys the patch
    /// repeats handled as the mode says.
    pub async fn patched<C, T>(
        &self,
        kind: &'static str,
        current: C,
        patch: &RawBody,
    ) -> Result<T, ApiError>
    where
        C: Serialize + Send + 'static,
        T: DeserializeOwned + Serialize + Send + 'static,
    {
        // Always off the runtime's threads: however small the patch, the document it is
        // applied to may be a stored stream of megabytes, turned into a tree, patched and
        // walked whole here.
        let (me, patch) = (self.clone(), patch.clone());
        crate::heavy::run(move || {
            let mut document =
                serde_json::to_value(&current).map_err(|e| ApiError::Internal(Box::new(e)))?;
            drop(current);
            // What was stored before is not the patch's doing (an object written without
            // `fieldValidation` may hold keys no schema names): only what the patch adds counts.
            let mut stored = Vec::new();
            if me.mode != Mode::Ignore {
                super::field_schema::unknown(kind, &document, &mut stored, MAX_REPORTED);
            }
            crate::body::apply_patch(&mut document, &patch)?;
            let duplicates = me.duplicates(&patch);
            me.decode_checked(kind, document, duplicates, &stored)
        })
        .await?
    }

    /// A body as sent (an apply's intent) as a `T`: its unknown fields and the keys it
    /// repeats handled as the mode says.
    pub async fn decode_body<T: DeserializeOwned + Serialize + Send + 'static>(
        &self,
        kind: &'static str,
        body: &RawBody,
    ) -> Result<T, ApiError> {
        self.decode_body_with(kind, body, &[]).await
    }

    /// A body as sent as a `T` that is a `kind` with the top-level fields `also` beside it
    /// (a UserCreate is a User and its `password`): only those are known beyond the kind's
    /// schema. Patches are refused: they are accepted only by PATCH.
    pub async fn decode_request<T: DeserializeOwned + Serialize + Send + 'static>(
        &self,
        kind: &'static str,
        body: &RawBody,
        also: &[&str],
    ) -> Result<T, ApiError> {
        if matches!(
            body.format,
            BodyFormat::MergePatch | BodyFormat::JsonPatch | BodyFormat::StrategicMergePatch
        ) {
            return Err(ApiError::UnsupportedMediaType(
                "a patch is accepted only by PATCH".into(),
            ));
        }
        self.decode_body_with(kind, body, also).await
    }

    async fn decode_body_with<T: DeserializeOwned + Serialize + Send + 'static>(
        &self,
        kind: &'static str,
        body: &RawBody,
        also: &[&str],
    ) -> Result<T, ApiError> {
        let tolerated: Vec<String> = also.iter().map(|f| (*f).to_owned()).collect();
        if !crate::heavy::off_thread(body.format, body.bytes.len()) {
            let duplicates = self.duplicates(body);
            return self.decode_checked(kind, body.value.clone(), duplicates, &tolerated);
        }
        let (me, body) = (self.clone(), body.clone());
        crate::heavy::run(move || {
            let duplicates = me.duplicates(&body);
            me.decode_checked(kind, body.value, duplicates, &tolerated)
        })
        .await?
    }

    /// The keys `body` repeats, when the mode looks for them (JSON, YAML, merge-patch and
    /// apply bodies; a JSON patch is a list of operations, its keys are not the object's), and
    /// the body's syntax.
    fn duplicates(&self, body: &RawBody) -> Duplicates {
        let found = match (self.mode, body.format) {
            (Mode::Ignore, _) => Vec::new(),
            (_, BodyFormat::Json | BodyFormat::MergePatch | BodyFormat::StrategicMergePatch) => {
                super::duplicate_fields::find(&body.bytes, MAX_REPORTED)
            }
            (_, BodyFormat::Yaml | BodyFormat::ApplyPatch) => {
                super::duplicate_fields::find_yaml(&body.bytes, MAX_REPORTED)
            }
            (_, BodyFormat::JsonPatch) => Vec::new(),
        };
        let syntax = match body.format {
            BodyFormat::Yaml | BodyFormat::ApplyPatch => "yaml",
            _ => "json",
        };
        Duplicates { found, syntax }
    }

    /// `value` as a `T`, its unknown fields (but those in `tolerated`) and `duplicates`
    /// handled as the mode says.
    fn decode_checked<T: DeserializeOwned + Serialize>(
        &self,
        kind: &'static str,
        mut value: Value,
        duplicates: Duplicates,
        tolerated: &[String],
    ) -> Result<T, ApiError> {
        let Duplicates {
            found: duplicates,
            syntax,
        } = duplicates;
        super::identity::check(kind, &value, self.project.as_deref())?;
        for field in super::identity::ignored_after_create(kind) {
            let taken = tolerated.iter().any(|t| t == field);
            if let Some(object) = value.as_object_mut().filter(|_| !taken)
                && object.remove(field).is_some()
            {
                self.warn(format!(
                    "{field}: taken only when the {kind} is created; ignored (change a password \
                     on the password page or with an invitation)"
                ));
            }
        }
        if self.mode == Mode::Ignore {
            return decode(value);
        }
        let typed: T = decode(value.clone())?;
        let back = serde_json::to_value(&typed).map_err(|e| ApiError::Internal(Box::new(e)))?;
        let mut unknown = Vec::new();
        super::field_schema::unknown(kind, &value, &mut unknown, MAX_REPORTED);
        let mut lost = Vec::new();
        dropped(&value, &back, &mut String::new(), &mut lost);
        for field in lost {
            if unknown.len() < MAX_REPORTED && !unknown.contains(&field) {
                unknown.push(field);
            }
        }
        unknown.retain(|f| !tolerated.contains(f));
        if unknown.is_empty() && duplicates.is_empty() {
            return Ok(typed);
        }
        if self.mode == Mode::Strict {
            return Err(ApiError::UnknownFields {
                kind,
                fields: unknown,
                duplicates,
                syntax,
            });
        }
        for field in duplicates {
            self.warnings.push(format!("duplicate field {field:?}"));
        }
        for field in unknown {
            self.warnings.push(format!("unknown field {field:?}"));
        }
        Ok(typed)
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// The fields of `sent` that `kept` lost, as `a.b[0].c`, at most [`MAX_REPORTED`]. `at` is one
/// buffer grown and cut back as the walk goes, and equal parts are not walked: copying the path
/// at every element made a long key over a long array cost minutes of CPU.
fn dropped(sent: &Value, kept: &Value, at: &mut String, out: &mut Vec<String>) {
    if out.len() >= MAX_REPORTED || sent == kept {
        return;
    }
    let len = at.len();
    match (sent, kept) {
        (Value::Object(s), Value::Object(k)) => {
            for (key, value) in s {
                if out.len() >= MAX_REPORTED {
                    return;
                }
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(key);
                match k.get(key) {
                    Some(kept) => dropped(value, kept, at, out),
                    None if is_empty(value) => {}
                    None => out.push(at.clone()),
                }
                at.truncate(len);
            }
        }
        (Value::Array(s), Value::Array(k)) => {
            for (i, (a, b)) in s.iter().zip(k).enumerate() {
                if out.len() >= MAX_REPORTED {
                    return;
                }
                at.push_str(&format!("[{i}]"));
                dropped(a, b, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// A body of kind `T`, decoded with the request's `fieldValidation`: JSON or YAML, or protobuf
/// for a kind kubectl 1.33 sends so ([`super::protobuf_kinds`]).
#[derive(Debug)]
pub struct Checked<T>(pub T);

impl<S, T> FromRequest<S> for Checked<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Serialize + tagstream_shared::object::Object + Send + 'static,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let fields = FieldValidation::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        // kubectl 1.33 sends some kinds in protobuf: read into the JSON they stand for.
        let raw = match super::protobuf_kinds::reader(T::KIND) {
            Some(read) if is_protobuf(&req) => RawBody::json(read_protobuf(req, read).await?)?,
            _ => RawBody::from_request(req, state).await?,
        };
        fields.decode_request(T::KIND, &raw, &[]).await.map(Checked)
    }
}

/// What a write asks to store: the object, the field manager it is recorded as (none: an
/// apply, which recorded itself) and whether it is only a try ([`DryRun`]: answer what would be
/// stored, and store nothing).
///
/// As the extractor of a create or a replace: the [`Checked`] body and the manager of a write
/// other than apply ([`ApplyOptions::update_manager`]), refused for the same things, in the
/// same order, as by a handler that took the dry run, the options and the body, then asked
/// for the manager.
#[derive(Debug)]
pub struct WriteRequest<T> {
    pub object: T,
    pub manager: Option<String>,
    pub dry_run: bool,
}

impl<S, T> FromRequest<S> for WriteRequest<T>
where
    S: Send + Sync,
    Checked<T>: FromRequest<S, Rejection = ApiError>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let DryRun(dry_run) = DryRun::from_request_parts(&mut parts, state).await?;
        let options = ApplyOptions::from_request_parts(&mut parts, state).await?;
        let Checked(object) =
            Checked::from_request(Request::from_parts(parts, body), state).await?;
        let manager = options.update_manager()?;
        Ok(Self {
            object,
            manager: Some(manager),
            dry_run,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_fields_the_server_drops_are_unknown() {
        let sent = json!({"metadata": {"name": "x", "custom": 1},
            "spec": {"tags": [{"name": "a", "importPolicy": {"sheduled": true, "insecure": false}}],
                     "lookupPolicy": {"local": false}}});
        let stream: tagstream_shared::ImageStream = decode(sent.clone()).expect("decodes");
        let back = serde_json::to_value(&stream).expect("serializes");
        let mut out = Vec::new();
        dropped(&sent, &back, &mut String::new(), &mut out);
        assert_eq!(out, ["spec.tags[0].importPolicy.sheduled"]);
    }
}
