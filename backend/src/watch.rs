//! `?watch=true` on a list: the list's objects as `ADDED` events (unless the client asks to
//! resume from a `resourceVersion`), then every change as it commits, one JSON object per line
//! as Kubernetes streams them, or as server-sent events (`Accept: text/event-stream`) whose
//! `id` is the resourceVersion, so that a browser's `EventSource` resumes by itself.
//!
//! A watch runs behind the same route, and so the same authorization, as its list; a
//! cross-project list is filtered to the projects the caller could see when it started.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use tagstream_shared::List;
use tagstream_shared::access::{Resource, Verb};
use tagstream_shared::watch::{WatchEvent, WatchEventType};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::store::{ChangeRow, Cursor};
use crate::watch_access::{WatchAccess, WatchSlot};

/// How often a server-sent event stream says it is alive (proxies close silent connections).
const HEARTBEAT: Duration = Duration::from_secs(20);
/// Changes read per query.
const PAGE: u32 = 200;
/// The longest a watch may ask to run (`timeoutSeconds`).
const MAX_TIMEOUT: u64 = 3600;

/// A list request's options: `watch`, `resourceVersion`, `timeoutSeconds`, and for
/// server-sent events the `Last-Event-ID` header (which wins over `resourceVersion`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    pub watch: bool,
    /// Resume after this revision; none: start with the list.
    pub resource_version: Option<u64>,
    pub timeout: Option<Duration>,
    /// Answer `text/event-stream`.
    pub sse: bool,
    /// The caller and what the route needs of them, checked again while the watch runs.
    pub access: Option<WatchAccess>,
}

impl<S: Send + Sync> FromRequestParts<S> for ListOptions {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(query) =
            Query::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::BadRequest(format!("bad query: {e}")))?;
        let watch = match query.get("watch").map(String::as_str) {
            None | Some("" | "false" | "0") => false,
            Some("true" | "1") => true,
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "watch must be true or false, not {other:?}"
                )));
            }
        };
        let sse = parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"));
        let last_event = parts
            .headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .filter(|_| sse);
        let resource_version = match last_event.or(query.get("resourceVersion").map(String::as_str))
        {
            None | Some("" | "0") => None,
            Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "resourceVersion must be a resourceVersion a list or watch answered, not {rv:?}"
                ))
            })?),
        };
        let timeout = match query.get("timeoutSeconds") {
            None => None,
            Some(t) => Some(Duration::from_secs(
                t.parse::<u64>()
                    .map_err(|_| {
                        ApiError::BadRequest(format!("timeoutSeconds must be a number, not {t:?}"))
                    })?
                    .min(MAX_TIMEOUT),
            )),
        };
        let access = watch.then(|| WatchAccess::from_parts(parts)).flatten();
        Ok(Self {
            watch,
            resource_version,
            timeout,
            sse,
            access,
        })
    }
}

/// Which changes a watch passes on.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The plural resource (`imagestreams`).
    pub resource: &'static str,
    /// One project's objects only.
    pub namespace: Option<String>,
    /// Only these projects (for projects themselves: these names); none: all.
    pub visible: Option<BTreeSet<String>>,
    /// What `visible` was computed for, to compute it again when access changes.
    pub visible_for: Option<(Verb, Resource)>,
    /// Per project name, the revision that created the project now bearing it: older rows
    /// belong to an earlier project of that name and are never passed on. Set by the watch.
    floors: Option<BTreeMap<String, u64>>,
}

impl Scope {
    pub fn cluster(resource: &'static str) -> Self {
        Self {
            resource,
            namespace: None,
            visible: None,
            visible_for: None,
            floors: None,
        }
    }

    pub fn project(resource: &'static str, ns: &str) -> Self {
        Self {
            namespace: Some(ns.to_owned()),
            ..Self::cluster(resource)
        }
    }

    /// Across projects, only those in `visible` (none: all), which the caller may `verb`
    /// `what` in.
    pub fn visible_to(
        resource: &'static str,
        visible: Option<BTreeSet<String>>,
        verb: Verb,
        what: Resource,
    ) -> Self {
        Self {
            visible,
            visible_for: Some((verb, what)),
            ..Self::cluster(resource)
        }
    }

    fn passes(&self, row: &ChangeRow) -> bool {
        if self
            .namespace
            .as_deref()
            .is_some_and(|ns| row.namespace.as_deref() != Some(ns))
        {
            return false;
        }
        let key = row.namespace.as_deref().unwrap_or(&row.name);
        if let Some(floors) = &self.floors
            && floors.get(key).is_none_or(|f| row.revision < *f)
        {
            return false;
        }
        self.visible.as_ref().is_none_or(|v| v.contains(key))
    }
}

/// The list as JSON, or, with `watch=true`, its watch.
pub async fn list_or_watch<T: Serialize>(
    state: &AppState,
    options: ListOptions,
    mut scope: Scope,
    list: List<T>,
) -> ApiResult<Response> {
    if !options.watch {
        return Ok(axum::Json(list).into_response());
    }
    let holder = options
        .access
        .as_ref()
        .map_or("system:anonymous", |a| a.caller.name());
    let slot = state
        .watch_slots
        .take(holder, state.config.watch.per_user)?;
    let list_rv: u64 = list
        .metadata
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or_default();
    let mut from = options.resource_version.unwrap_or(list_rv);
    if scope.namespace.is_some() || scope.visible.is_some() {
        let only = scope.namespace.as_deref();
        let floors = state.store.project_floors(only).await?;
        // A project's watch starts no earlier than the project: rows before it belong to an
        // earlier project of the same name.
        if let Some(floor) = scope.namespace.as_ref().and_then(|ns| floors.get(ns)) {
            from = from.max(floor.saturating_sub(1));
        }
        scope.floors = Some(floors);
    }
    let cursor = match state.store.cursor_after(from).await? {
        Cursor::After(c) => c,
        Cursor::Gone(oldest) => {
            return Err(ApiError::Gone {
                asked: from,
                oldest,
            });
        }
    };
    let mut pending = VecDeque::new();
    if options.resource_version.is_none() {
        for item in list.items {
            let object = serde_json::to_value(item).map_err(|e| ApiError::Internal(Box::new(e)))?;
            pending.push_back(frame(options.sse, None, WatchEventType::Added, object));
        }
        if options.sse {
            // Sets the browser's last event id, so a reconnect resumes after the list.
            pending.push_back(Bytes::from(format!("id: {list_rv}\n\n")));
        }
    }
    // Every watch ends: at its `timeoutSeconds`, or at the configured longest (the client
    // resumes from its last resourceVersion).
    let longest = Duration::from_secs(state.config.watch.max_seconds.max(1));
    let timeout = options.timeout.map_or(longest, |t| t.min(longest));
    let epoch = state.store.access_epoch().await?;
    let watcher = Watcher {
        state: state.clone(),
        changed: state.store.subscribe(),
        stop: state.watches.subscribe(),
        cursor,
        seen: from,
        scope,
        pending,
        sse: options.sse,
        deadline: tokio::time::Instant::now() + timeout,
        done: false,
        access: options.access,
        epoch,
        _slot: slot,
    };
    let body = axum::body::Body::from_stream(futures::stream::unfold(watcher, Watcher::next));
    let content_type = if options.sse {
        "text/event-stream"
    } else {
        "application/json"
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One event as the client reads it.
fn frame(sse: bool, id: Option<u64>, kind: WatchEventType, object: Value) -> Bytes {
    let event = serde_json::to_string(&WatchEvent { kind, object }).unwrap_or_default();
    Bytes::from(match (sse, id) {
        (true, Some(id)) => format!("id: {id}\ndata: {event}\n\n"),
        (true, None) => format!("data: {event}\n\n"),
        (false, _) => format!("{event}\n"),
    })
}

struct Watcher {
    state: AppState,
    changed: tokio::sync::watch::Receiver<u64>,
    stop: tokio::sync::watch::Receiver<bool>,
    cursor: i64,
    /// The newest revision passed on (or the one the watch started after).
    seen: u64,
    scope: Scope,
    pending: VecDeque<Bytes>,
    sse: bool,
    deadline: tokio::time::Instant,
    done: bool,
    /// Who watches, checked again when `epoch` moves; none for a route without a check.
    access: Option<WatchAccess>,
    /// The store's access epoch when access was last checked.
    epoch: u64,
    /// Held while the watch runs: one of its user's watches.
    _slot: WatchSlot,
}

impl Watcher {
    async fn next(mut self) -> Option<(Result<Bytes, std::io::Error>, Self)> {
        loop {
            if let Some(bytes) = self.pending.pop_front() {
                return Some((Ok(bytes), self));
            }
            if self.done || *self.stop.borrow() {
                return None;
            }
            // Seen before reading, so a commit during the read wakes the wait below.
            self.changed.borrow_and_update();
            if let Err(refused) = self.recheck().await {
                let object = serde_json::to_value(refused.to_status()).unwrap_or_default();
                self.pending
                    .push_back(frame(self.sse, None, WatchEventType::Error, object));
                self.done = true;
                continue;
            }
            match self
                .state
                .store
                .changes_after(self.cursor, self.scope.resource, PAGE)
                .await
            {
                Err(e) => {
                    tracing::warn!(error = %e, "a watch cannot read the change log");
                    return None;
                }
                Ok(Err(oldest)) => {
                    let status = ApiError::Gone {
                        asked: self.seen,
                        oldest,
                    }
                    .to_status();
                    let object = serde_json::to_value(status).unwrap_or_default();
                    self.pending
                        .push_back(frame(self.sse, None, WatchEventType::Error, object));
                    self.done = true;
                    continue;
                }
                Ok(Ok((rows, next))) => {
                    self.cursor = next;
                    for row in rows.into_iter().filter(|r| self.scope.passes(r)) {
                        let Ok(mut object) = serde_json::from_str::<Value>(&row.body) else {
                            continue;
                        };
                        crate::integrated::present::watch_object(
                            self.state.config.registry.as_ref(),
                            self.scope.resource,
                            &mut object,
                        );
                        if let Some(meta) =
                            object.get_mut("metadata").and_then(Value::as_object_mut)
                        {
                            meta.insert(
                                "resourceVersion".into(),
                                Value::String(row.revision.to_string()),
                            );
                        }
                        self.seen = self.seen.max(row.revision);
                        self.pending.push_back(frame(
                            self.sse,
                            Some(row.revision),
                            row.kind,
                            object,
                        ));
                    }
                    if !self.pending.is_empty() {
                        continue;
                    }
                }
            }
            let deadline = self.deadline;
            let heartbeat = tokio::time::sleep(HEARTBEAT);
            tokio::select! {
                _ = self.changed.changed() => {}
                _ = self.stop.changed() => self.done = true,
                () = heartbeat => {
                    if self.sse {
                        self.pending.push_back(Bytes::from_static(b": keep-alive\n\n"));
                    }
                }
                () = tokio::time::sleep_until(deadline) => self.done = true,
            }
        }
    }
}

impl Watcher {
    /// When access may have changed since the last check, checks the caller again (and
    /// narrows a cross-project watch to the projects they still see); answers the error that
    /// ends the watch when access is gone.
    async fn recheck(&mut self) -> Result<(), ApiError> {
        let Some(access) = &self.access else {
            return Ok(());
        };
        let epoch = self.state.store.access_epoch().await?;
        if epoch == self.epoch {
            return Ok(());
        }
        self.epoch = epoch;
        let caller = access.recheck(&self.state).await?;
        if let (Some(visible), Some((verb, what))) =
            (self.scope.visible.as_mut(), self.scope.visible_for)
            && let Some(now) =
                crate::access::visible_projects(&self.state, &caller, verb, what).await?
        {
            visible.retain(|ns| now.contains(ns));
        }
        Ok(())
    }
}
