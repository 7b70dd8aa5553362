//! `POST /apis/image.openshift.io/v1/namespaces/{ns}/imagestreamimports`: look images up in
//! registries and, unless `spec.import` is false, tag them into the stream `metadata.name`
//! (created when missing). Each image's outcome is a `Status` in the answer; a failed image is
//! not an error of the request.

use crate::access::Need;
use crate::api::field_validation::Checked;
use crate::api::routes::Routes;
use crate::audit;
use crate::store::Objects as _;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use futures::StreamExt as _;
use tagstream_shared::access::{Resource as R, Verb as V};
use tagstream_shared::imagestream::API_VERSION;
use tagstream_shared::{
    FieldError, ImageImportStatus, ImageReference, ImageStream, ImageStreamImport, ObjectReference,
    ProjectName, RepositoryImportStatus, SourceKind, Status, StreamName, TagImportPolicy, TagName,
    TagReference, TagReferencePolicy,
};

use super::imagestream_writes::store_stream;
use super::{IMAGESTREAMS, NsPath};
use crate::app::AppState;
use crate::auth::Caller;
use crate::body::Names;
use crate::error::{ApiError, ApiResult};
use crate::import::status::{record_failure, record_image};
use crate::import::{ImportMode, Resolved, locate};
use crate::registry::RegistryError;
use crate::service;
use crate::source_access::{Actor, authorize_sources};
use crate::store::StoreError;

pub fn routes() -> Routes {
    Routes::new().post(
        "/apis/image.openshift.io/v1/namespaces/{ns}/imagestreamimports",
        Need::in_project(V::Create, R::ImageStreamImports),
        create_import,
    )
}

/// One tag to import: where from, and how.
#[derive(Debug, Clone)]
struct Request {
    tag: String,
    from: String,
    reference: ImageReference,
    mode: ImportMode,
    import_policy: TagImportPolicy,
    reference_policy: TagReferencePolicy,
}

fn check_from(
    from: &ObjectReference,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<ImageReference> {
    if from.source_kind() != Some(SourceKind::DockerImage) {
        errors.push(FieldError::not_supported(
            format!("{field}.kind"),
            &from.kind,
            &["DockerImage"],
        ));
        return None;
    }
    match from.name.parse::<ImageReference>() {
        Ok(r) => Some(r),
        Err(e) => {
            errors.push(FieldError::invalid(format!("{field}.name"), &from.name, e));
            None
        }
    }
}

fn check_mode(policy: &TagImportPolicy, field: &str, errors: &mut Vec<FieldError>) -> ImportMode {
    ImportMode::parse(policy.import_mode.as_deref()).unwrap_or_else(|_| {
        errors.push(FieldError::not_supported(
            format!("{field}.importPolicy.importMode"),
            policy.import_mode.as_deref().unwrap_or_default(),
            &["Legacy", "PreserveOriginal"],
        ));
        ImportMode::Legacy
    })
}

fn image_status(tag: &str, result: Result<Resolved, RegistryError>) -> ImageImportStatus {
    match result {
        Ok(r) => ImageImportStatus {
            status: Status::success(),
            image: Some(r.image),
            tag: tag.to_owned(),
            manifests: r.children,
        },
        Err(e) => ImageImportStatus {
            status: Status::failure(e.reason(), e.to_string()),
            image: None,
            tag: tag.to_owned(),
            manifests: Vec::new(),
        },
    }
}

async fn create_import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Names(NsPath(ns)): Names<NsPath>,
    Checked(mut isi): Checked<ImageStreamImport>,
) -> ApiResult<(StatusCode, Json<ImageStreamImport>)> {
    state.store.get_project(&ns).await?;
    let shown_name = isi.metadata.name().to_owned();
    let mut errors = Vec::new();
    let name = match shown_name.parse::<StreamName>() {
        Ok(n) => Some(n),
        Err(e) => {
            errors.push(FieldError::invalid("metadata.name", &shown_name, e));
            None
        }
    };
    if isi.spec.images.is_empty() && isi.spec.repository.is_none() {
        errors.push(FieldError::required(
            "spec.images",
            "give spec.images or spec.repository",
        ));
    }
    let mut requests = Vec::new();
    for (i, image) in isi.spec.images.iter().enumerate() {
        let field = format!("spec.images[{i}]");
        let mode = check_mode(&image.import_policy, &field, &mut errors);
        let Some(reference) = check_from(&image.from, &format!("{field}.from"), &mut errors) else {
            continue;
        };
        let tag = image
            .to
            .as_ref()
            .map(|t| t.name.clone())
            .filter(|t| !t.is_empty())
            .or_else(|| reference.tag.clone())
            .unwrap_or_else(|| "latest".into());
        if let Err(e) = tag.parse::<TagName>() {
            errors.push(FieldError::invalid(format!("{field}.to.name"), &tag, e));
            continue;
        }
        requests.push(Request {
            tag,
            from: image.from.name.clone(),
            reference,
            mode,
            import_policy: image.import_policy.clone(),
            reference_policy: image.reference_policy.clone(),
        });
    }
    let repository = match &isi.spec.repository {
        Some(repo) => {
            let mode = check_mode(&repo.import_policy, "spec.repository", &mut errors);
            match check_from(&repo.from, "spec.repository.from", &mut errors) {
                Some(r) if r.tag.is_some() || r.digest.is_some() => {
                    errors.push(FieldError::invalid(
                        "spec.repository.from.name",
                        &repo.from.name,
                        "a repository import names a repository, without a tag or digest",
                    ));
                    None
                }
                Some(r) => Some((r, mode, repo.clone())),
                None => None,
            }
        }
        None => None,
    };
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Invalid {
            kind: ImageStreamImport::KIND,
            name: shown_name,
            errors,
        });
    };

    let importer = &state.importer;
    let mut outcomes: Vec<(Request, Result<Resolved, RegistryError>)> = Vec::new();
    for request in requests {
        let result = importer.resolve(&request.reference, request.mode).await;
        outcomes.push((request, result));
    }
    if let Some((reference, mode, spec)) = repository {
        let (repo, _) = locate(&reference);
        let listed = if importer.client.policy().allowed(&repo.registry).is_none() {
            Err(RegistryError::NotAllowed(repo.registry.clone()))
        } else {
            importer.client.list_tags(&repo).await
        };
        match listed {
            Ok(mut tags) => {
                tags.sort();
                tags.retain(|t| t.parse::<TagName>().is_ok());
                let max = importer.config.max_repository_tags;
                let additional = tags.split_off(tags.len().min(max));
                let mut statuses = Vec::new();
                // Resolved concurrently (the importer bounds how many at once), kept in order.
                let resolved: Vec<_> = futures::stream::iter(tags)
                    .map(|tag| {
                        let reference = ImageReference {
                            tag: Some(tag.clone()),
                            digest: None,
                            ..reference.clone()
                        };
                        async move {
                            let result = importer.resolve(&reference, mode).await;
                            (tag, reference, result)
                        }
                    })
                    .buffered(importer.config.concurrency.max(1))
                    .collect()
                    .await;
                for (tag, reference, result) in resolved {
                    statuses.push(image_status(&tag, result.clone()));
                    outcomes.push((
                        Request {
                            tag,
                            from: reference.to_string(),
                            reference,
                            mode,
                            import_policy: spec.import_policy.clone(),
                            reference_policy: spec.reference_policy.clone(),
                        },
                        result,
                    ));
                }
                isi.status.repository = Some(RepositoryImportStatus {
                    status: Status::success(),
                    images: statuses,
                    additional_tags: additional,
                });
            }
            Err(e) => {
                isi.status.repository = Some(RepositoryImportStatus {
                    status: Status::failure(e.reason(), e.to_string()),
                    images: Vec::new(),
                    additional_tags: Vec::new(),
                });
            }
        }
    }
    let repository_count = isi.status.repository.as_ref().map_or(0, |r| r.images.len());
    isi.status.images = outcomes
        .iter()
        .take(outcomes.len() - repository_count)
        .map(|(r, result)| image_status(&r.tag, result.clone()))
        .collect();

    if isi.spec.import && !outcomes.is_empty() {
        let saved = save(&state, &caller, &ns, &name, &outcomes).await?;
        state.importer.wake();
        // The stream as every read shows it (the integrated registry's pull specs).
        isi.status.import = Some(crate::integrated::present::shown(&state, saved));
    }
    isi.kind = ImageStreamImport::KIND.into();
    isi.api_version = API_VERSION.into();
    isi.metadata.namespace = Some(ns.to_string());
    isi.metadata.creation_timestamp = Some(state.clock.now());
    tracing::info!(namespace = %ns, stream = %name, images = outcomes.len(), import = isi.spec.import, "image stream import");
    Ok((StatusCode::CREATED, Json(isi)))
}

/// Writes the imported tags into the stream (creating it), spec and status together.
async fn save(
    state: &AppState,
    caller: &Caller,
    ns: &ProjectName,
    name: &StreamName,
    outcomes: &[(Request, Result<Resolved, RegistryError>)],
) -> ApiResult<ImageStream> {
    let actor = audit::Actor::from(caller);
    let now = state.clock.now();
    for _ in 0..10 {
        let existing = match state
            .store
            .get::<ImageStream>(Some(ns), name.as_ref())
            .await
        {
            Ok(s) => Some(s),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(ApiError::from(e)),
        };
        let mut wanted = existing
            .clone()
            .unwrap_or_else(|| ImageStream::new(name.as_str()));
        for (request, _) in outcomes {
            let tag = TagReference {
                name: request.tag.clone(),
                from: Some(ObjectReference {
                    kind: SourceKind::DockerImage.as_str().into(),
                    name: request.from.clone(),
                    ..ObjectReference::default()
                }),
                import_policy: request.import_policy.clone(),
                reference_policy: request.reference_policy.clone(),
                ..TagReference::default()
            };
            match wanted.spec.tags.iter_mut().find(|t| t.name == request.tag) {
                Some(existing_tag) => {
                    let keep = existing_tag.clone();
                    *existing_tag = TagReference {
                        annotations: keep.annotations,
                        generation: Some(0),
                        ..tag
                    };
                }
                None => wanted.spec.tags.push(tag),
            }
        }
        let mut stream = match &existing {
            Some(old) => service::stream_for_update(wanted, old),
            None => service::stream_for_create(wanted, ns.as_str(), now),
        };
        // Imports write DockerImage tags only; the one check for every writer of spec tags
        // still runs (other tags of the stream keep or need their cross-project grants).
        authorize_sources(
            state,
            Actor::Caller(caller),
            ns.as_str(),
            &mut stream,
            existing.as_ref(),
        )
        .await?;
        for (request, result) in outcomes {
            let generation = stream
                .spec_tag(&request.tag)
                .and_then(|t| t.generation)
                .unwrap_or(1);
            match result {
                Ok(r) => {
                    record_image(
                        &mut stream,
                        &request.tag,
                        r.image.digest(),
                        &r.pull_spec,
                        generation,
                        now,
                        state.config.import.history_limit,
                    );
                }
                Err(e) => {
                    record_failure(
                        &mut stream,
                        &request.tag,
                        e.reason(),
                        &e.to_string(),
                        generation,
                        now,
                    );
                }
            }
        }
        let expected = existing.as_ref().map(|old| old.metadata.revision());
        let written = store_stream(state, &actor, (ns, name), expected, stream).await;
        match written {
            Ok(saved) => return Ok(saved),
            Err(StoreError::Conflict { .. } | StoreError::AlreadyExists { .. }) => continue,
            Err(e) => return Err(ApiError::from(e)),
        }
    }
    Err(ApiError::Conflict {
        resource: &IMAGESTREAMS,
        name: name.to_string(),
    })
}
