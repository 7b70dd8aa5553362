//! Server-side apply of an image stream (`kubectl apply --server-side -f ruby.yaml`): the
//! generic apply (`api::objects_apply`) written through the stream's own create and replace
//! paths, so validation, source authorization, events and audit are theirs; the answer shows
//! the stream's pull specs as every stream answer does.

use axum::Json;
use axum::http::StatusCode;
use tagstream_shared::{ImageStream, ProjectName, StreamName};

use super::apply::ApplyOptions;
use super::field_validation::FieldValidation;
use super::imagestream_writes::{expected_version, name_matches_url, write_create, write_update};
use super::objects_apply::{self, Request};
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::RawBody;
use crate::error::ApiResult;
use crate::integrated::present;

/// `body` applied to the stream `ns`/`name` by the caller's field manager.
pub(super) async fn apply(
    state: &AppState,
    caller: &Caller,
    (ns, name): (&ProjectName, &StreamName),
    dry_run: bool,
    fields: &FieldValidation,
    options: &ApplyOptions,
    body: &RawBody,
) -> ApiResult<(StatusCode, Json<ImageStream>)> {
    let request = Request {
        caller,
        ns,
        name: name.as_str(),
        fields,
        options,
    };
    let create = move |stream| write_create(state, caller, ns, stream, dry_run, None);
    let update = move |stream: ImageStream| async move {
        name_matches_url(&stream, name)?;
        let expected = expected_version(&stream)?;
        write_update(state, caller, (ns, name), expected, stream, dry_run, None).await
    };
    let (code, stream) = objects_apply::apply(state, request, body, create, update).await?;
    Ok((code, Json(present::shown(state, stream))))
}
