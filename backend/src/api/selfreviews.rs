//! `kubectl auth can-i` and `kubectl auth whoami`: `SelfSubjectAccessReview`
//! (authorization.k8s.io/v1) and `SelfSubjectReview` (authentication.k8s.io/v1 and v1beta1).
//!
//! A review answers with the rules the request itself would meet: the verb and resource are
//! turned into the route the request would take (method and path from the resource's one
//! declaration), and that route's [`Need`] is checked by [`crate::access::check`], as the
//! route's middleware would. There is no second copy of the rules: a resource or verb without a
//! route is a "no".

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::{Extension, Json};
use tagstream_shared::object::ApiResource;
use tagstream_shared::resources::{
    ALL, SELFSUBJECTACCESSREVIEWS, SELFSUBJECTREVIEWS, SELFSUBJECTREVIEWS_V1BETA1,
};
use tagstream_shared::review::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec, SelfSubjectReview,
    SubjectAccessReviewStatus, UserInfo, access_review_from_protobuf,
};

use super::routes::{RouteRule, Routes};
use crate::access::{Need, check};
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::body_or_protobuf;
use crate::error::{ApiError, ApiResult};
use axum::extract::Request;

pub fn routes() -> Routes {
    Routes::new()
        .post(
            SELFSUBJECTACCESSREVIEWS.collection_route,
            Need::SignedInScoped,
            create_access_review,
        )
        .post(
            SELFSUBJECTREVIEWS.collection_route,
            Need::SignedInScoped,
            create_self_review,
        )
        .post(
            SELFSUBJECTREVIEWS_V1BETA1.collection_route,
            Need::SignedInScoped,
            create_self_review,
        )
}

/// The product's route table, read once (it never changes while the server runs).
fn route_table() -> &'static [RouteRule] {
    static TABLE: OnceLock<Vec<RouteRule>> = OnceLock::new();
    TABLE.get_or_init(super::route_table)
}

/// The method and path template a request for `verb` on `r` would take; `namespaced`: the
/// request names a project.
fn route_of(r: &ApiResource, verb: &str, namespaced: bool) -> Option<(&'static str, String)> {
    let collection = match (r.is_namespaced(), namespaced) {
        (true, true) | (false, _) => r.collection_route.to_owned(),
        // A namespaced kind asked about across projects: its all-projects list, if served.
        (true, false) => r.collection(None),
    };
    Some(match verb {
        "list" | "watch" => ("GET", collection),
        "create" => ("POST", collection),
        "get" => ("GET", r.item_route.to_owned()),
        "update" => ("PUT", r.item_route.to_owned()),
        "patch" => ("PATCH", r.item_route.to_owned()),
        "delete" => ("DELETE", r.item_route.to_owned()),
        _ => return None,
    })
}

/// Whether the caller may do what `a` describes, and why not.
async fn decide(
    state: &AppState,
    caller: &Caller,
    a: &ResourceAttributes,
) -> ApiResult<Result<(), String>> {
    let Some(r) = ALL
        .iter()
        .find(|r| r.plural == a.resource && r.group == a.group)
    else {
        return Ok(Err(format!(
            "the server does not serve resource {:?} in API group {:?}",
            a.resource, a.group
        )));
    };
    if !a.subresource.is_empty() {
        return Ok(Err(format!(
            "subresource {:?} of {r} is not reviewed: ask about {r} itself",
            a.subresource
        )));
    }
    let namespaced = r.is_namespaced() && !a.namespace.is_empty();
    let Some((method, path)) = route_of(r, &a.verb, namespaced) else {
        return Ok(Err(format!("verb {:?} is not served on {r}", a.verb)));
    };
    let Some(rule) = route_table()
        .iter()
        .find(|rule| rule.method == method && rule.path == path)
    else {
        return Ok(Err(format!("{} is not served on {r}", a.verb)));
    };
    let param = |key: &str| match key {
        "ns" => Some(a.namespace.clone()),
        "name" => Some(a.name.clone()),
        _ => None,
    };
    match check(state, caller, rule.need, param).await {
        Ok(()) => Ok(Ok(())),
        Err(ApiError::Internal(e)) => Err(ApiError::Internal(e)),
        Err(refused) => Ok(Err(refused.to_status().message)),
    }
}

/// The review in the body: JSON or YAML, or the protobuf that kubectl 1.33 sends built-in
/// kinds in (of which only the resource attributes are read).
async fn read_review(req: Request) -> ApiResult<SelfSubjectAccessReview> {
    body_or_protobuf(SELFSUBJECTACCESSREVIEWS.kind, req, |bytes| {
        Ok(SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(access_review_from_protobuf(bytes)?),
                non_resource_attributes: None,
            },
            ..Default::default()
        })
    })
    .await
}

async fn create_access_review(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    req: Request,
) -> ApiResult<Response> {
    let mut review = read_review(req).await?;
    let Some(attributes) = review.spec.resource_attributes.clone() else {
        return Err(ApiError::Invalid {
            kind: SELFSUBJECTACCESSREVIEWS.kind,
            name: String::new(),
            errors: vec![tagstream_shared::FieldError::required(
                "spec.resourceAttributes",
                "tagstream answers about resources only (not non-resource URLs)",
            )],
        });
    };
    let status = match decide(&state, &caller, &attributes).await? {
        Ok(()) => SubjectAccessReviewStatus {
            allowed: true,
            ..Default::default()
        },
        Err(reason) => SubjectAccessReviewStatus {
            allowed: false,
            denied: false,
            reason,
        },
    };
    review.kind = SELFSUBJECTACCESSREVIEWS.kind.into();
    review.api_version = SELFSUBJECTACCESSREVIEWS.api_version.into();
    review.status = Some(status);
    Ok((StatusCode::CREATED, Json(review)).into_response())
}

async fn create_self_review(
    Extension(caller): Extension<Caller>,
    uri: axum::http::Uri,
) -> ApiResult<Response> {
    let Some(p) = caller.principal() else {
        return Err(ApiError::Unauthorized("sign in first".into()));
    };
    let api_version = if uri
        .path()
        .starts_with(SELFSUBJECTREVIEWS_V1BETA1.collection_route)
    {
        SELFSUBJECTREVIEWS_V1BETA1.api_version
    } else {
        SELFSUBJECTREVIEWS.api_version
    };
    let mut groups = p.groups.clone();
    groups.push("system:authenticated".into());
    let mut extra = std::collections::BTreeMap::new();
    if let Some(scope) = &p.scope {
        extra.insert("tagstream.io/project-scope".into(), vec![scope.clone()]);
    }
    let review = SelfSubjectReview {
        kind: SELFSUBJECTREVIEWS.kind.into(),
        api_version: api_version.into(),
        status: tagstream_shared::review::SelfSubjectReviewStatus {
            user_info: UserInfo {
                username: p.name.clone(),
                groups,
                extra,
            },
        },
        ..Default::default()
    };
    Ok((StatusCode::CREATED, Json(review)).into_response())
}
