//! The samples shipped in the binary (image streams and templates under `backend/samples/`) and
//! how the server keeps them, as OpenShift's samples operator does, per the samples Config:
//!
//! - `Managed`: missing samples are created and samples that differ from what ships are put back
//!   (a sample you want to change goes in `skippedImagestreams`/`skippedTemplates` first);
//! - `Removed`: samples carrying the managed label are deleted;
//! - `Unmanaged`: nothing is touched.
//!
//! Skipped samples are left exactly as they are in every state. `samplesRegistry` replaces
//! `docker.io` in the sample streams' image references (a mirror).

use crate::store::Objects as _;
use tagstream_shared::object::Kind as _;
use tagstream_shared::samples::{
    API_VERSION, CONFIG_NAME, MANAGED_LABEL, ManagementState, SamplesConfig, SamplesConfigStatus,
    VERSION_ANNOTATION,
};
use tagstream_shared::{
    ImageStream, ObjectMeta, Project, ProjectName, SourceKind, StreamName, Template, TemplateName,
};

use crate::app::AppState;
use crate::source_access::{Actor, authorize_sources};
use crate::store::StoreError;
use crate::{audit, services};

/// The samples' version: the server's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The registry the shipped streams point at, which `samplesRegistry` replaces.
const SHIPPED_REGISTRY: &str = "docker.io";

const STREAMS: &[(&str, &str)] = &[
    (
        "golang",
        include_str!("../samples/imagestreams/golang.json"),
    ),
    ("httpd", include_str!("../samples/imagestreams/httpd.json")),
    (
        "mariadb",
        include_str!("../samples/imagestreams/mariadb.json"),
    ),
    ("mysql", include_str!("../samples/imagestreams/mysql.json")),
    ("nginx", include_str!("../samples/imagestreams/nginx.json")),
    (
        "nodejs",
        include_str!("../samples/imagestreams/nodejs.json"),
    ),
    ("perl", include_str!("../samples/imagestreams/perl.json")),
    ("php", include_str!("../samples/imagestreams/php.json")),
    (
        "postgresql",
        include_str!("../samples/imagestreams/postgresql.json"),
    ),
    (
        "python",
        include_str!("../samples/imagestreams/python.json"),
    ),
    ("redis", include_str!("../samples/imagestreams/redis.json")),
    ("ruby", include_str!("../samples/imagestreams/ruby.json")),
];

const TEMPLATES: &[(&str, &str)] = &[
    (
        "nodejs-example",
        include_str!("../samples/templates/nodejs-example.json"),
    ),
    (
        "postgresql-ephemeral",
        include_str!("../samples/templates/postgresql-ephemeral.json"),
    ),
    (
        "postgresql-persistent",
        include_str!("../samples/templates/postgresql-persistent.json"),
    ),
    (
        "rails-postgresql-example",
        include_str!("../samples/templates/rails-postgresql-example.json"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum SamplesError {
    #[error("the shipped sample {0} does not load: {1}")]
    Shipped(&'static str, serde_json::Error),
    #[error("the shipped sample {0} has an invalid name")]
    Name(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the sample image stream {0} is refused: {1}")]
    Source(String, crate::error::ApiError),
}

fn mark(metadata: &mut ObjectMeta) {
    metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(MANAGED_LABEL.into(), "true".into());
    metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(VERSION_ANNOTATION.into(), VERSION.into());
}

fn is_managed(metadata: &ObjectMeta) -> bool {
    metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(MANAGED_LABEL))
        .is_some_and(|v| v == "true")
}

/// The shipped objects of `files`, each read, marked as managed, passed to `adjust` and named.
fn shipped<K, N>(
    files: &[(&'static str, &'static str)],
    mut adjust: impl FnMut(&mut K),
) -> Result<Vec<(N, K)>, SamplesError>
where
    K: tagstream_shared::object::Kind,
    N: std::str::FromStr,
{
    files
        .iter()
        .map(|&(name, text)| {
            let mut object: K =
                serde_json::from_str(text).map_err(|e| SamplesError::Shipped(name, e))?;
            mark(object.metadata_mut());
            adjust(&mut object);
            let parsed = name.parse().map_err(|_| SamplesError::Name(name))?;
            Ok((parsed, object))
        })
        .collect()
}

/// The shipped image streams as they should be stored under `registry` (empty: as shipped).
pub fn shipped_streams(registry: &str) -> Result<Vec<(StreamName, ImageStream)>, SamplesError> {
    shipped(STREAMS, |stream: &mut ImageStream| {
        for tag in &mut stream.spec.tags {
            let Some(from) = tag.from.as_mut() else {
                continue;
            };
            if from.source_kind() != Some(SourceKind::DockerImage) || registry.is_empty() {
                continue;
            }
            if let Some(rest) = from.name.strip_prefix(&format!("{SHIPPED_REGISTRY}/")) {
                from.name = format!("{registry}/{rest}");
            }
        }
    })
}

/// The shipped templates as they should be stored.
pub fn shipped_templates() -> Result<Vec<(TemplateName, Template)>, SamplesError> {
    shipped(TEMPLATES, |_: &mut Template| {})
}

/// The config as first written: Managed, nothing skipped.
fn default_config() -> SamplesConfig {
    SamplesConfig {
        kind: SamplesConfig::KIND.into(),
        api_version: API_VERSION.into(),
        metadata: ObjectMeta::named(CONFIG_NAME),
        ..SamplesConfig::default()
    }
}

/// The stored config, or the default one.
pub async fn current_config(state: &AppState) -> Result<SamplesConfig, StoreError> {
    Ok(services::templates::samples_config(&*state.store)
        .await?
        .unwrap_or_else(default_config))
}

fn same_stream(stored: &ImageStream, desired: &ImageStream) -> bool {
    let spec = |s: &ImageStream| {
        let mut spec = s.spec.clone();
        for t in &mut spec.tags {
            t.generation = None;
        }
        spec
    };
    spec(stored) == spec(desired)
        && stored.metadata.labels == desired.metadata.labels
        && stored.metadata.annotations == desired.metadata.annotations
}

fn same_template(stored: &Template, desired: &Template) -> bool {
    stored.objects == desired.objects
        && stored.parameters == desired.parameters
        && stored.message == desired.message
        && stored.labels == desired.labels
        && stored.metadata.labels == desired.metadata.labels
        && stored.metadata.annotations == desired.metadata.annotations
}

/// Applies the stored config to the samples namespace and records what was applied in its
/// status. Runs at start and after every change to the config.
pub async fn reconcile(
    state: &AppState,
    actor: &audit::Actor,
) -> Result<SamplesConfig, SamplesError> {
    let config = current_config(state).await?;
    let ns: ProjectName = state
        .config
        .samples
        .namespace
        .parse()
        .map_err(|_| SamplesError::Name("[samples] namespace"))?;
    let spec = &config.spec;
    match spec.management_state {
        ManagementState::Managed => manage(state, actor, &ns, &config).await?,
        ManagementState::Removed => remove(state, actor, &ns, &config).await?,
        ManagementState::Unmanaged => {}
    }
    let mut written = config.clone();
    written.kind = SamplesConfig::KIND.into();
    written.api_version = API_VERSION.into();
    written.metadata.name = Some(CONFIG_NAME.into());
    written.status = SamplesConfigStatus {
        management_state: Some(spec.management_state),
        namespace: ns.to_string(),
        version: VERSION.into(),
        ..config.status.clone()
    };
    if written == config && config.metadata.resource_version.is_some() {
        return Ok(config);
    }
    if written.metadata.creation_timestamp.is_none() {
        written.metadata.creation_timestamp = Some(state.clock.now());
        written.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
    }
    Ok(services::templates::put_samples_config(&*state.store, actor, None, written).await?)
}

async fn manage(
    state: &AppState,
    actor: &audit::Actor,
    ns: &ProjectName,
    config: &SamplesConfig,
) -> Result<(), SamplesError> {
    let store = &state.store;
    match store.get_project(ns).await {
        Ok(_) => {}
        Err(StoreError::NotFound { .. }) => {
            let project = crate::service::project_for_create(
                Project::new(ns.as_str()),
                ns.as_str(),
                state.clock.now(),
            );
            match store.create_project(actor, ns, project, None).await {
                Ok(_) | Err(StoreError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            tracing::info!(namespace = %ns, "samples project created");
        }
        Err(e) => return Err(e.into()),
    }
    let now = state.clock.now();
    for (name, desired) in shipped_streams(&config.spec.samples_registry)? {
        if listed(&config.spec.skipped_imagestreams, name.as_str()) {
            continue;
        }
        match store.get::<ImageStream>(Some(ns), name.as_ref()).await {
            Err(StoreError::NotFound { .. }) => {
                let mut stream = crate::service::stream_for_create(desired, ns.as_str(), now);
                // The one check every writer of spec tags runs (samples never link across
                // projects, so the server is allowed none).
                authorize_sources(state, Actor::Server, ns.as_str(), &mut stream, None)
                    .await
                    .map_err(|e| SamplesError::Source(name.to_string(), e))?;
                services::streams::store_stream(state, actor, (ns, &name), None, stream).await?;
                tracing::info!(namespace = %ns, stream = %name, "sample image stream created");
            }
            Ok(stored) if !same_stream(&stored, &desired) => {
                put_back_stream(state, actor, ns, &name, &desired, stored).await?;
            }
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for (name, desired) in shipped_templates()? {
        if listed(&config.spec.skipped_templates, name.as_str()) {
            continue;
        }
        match store.get::<Template>(Some(ns), name.as_ref()).await {
            Err(StoreError::NotFound { .. }) => {
                let mut template = desired;
                let uid = uuid::Uuid::new_v4().to_string();
                template.prepare_create(Some(ns.as_str()), uid, now);
                store.create::<Template>(actor, Some(ns), template).await?;
                tracing::info!(namespace = %ns, template = %name, "sample template created");
            }
            Ok(stored) if !same_template(&stored, &desired) => {
                let expected = stored.metadata.revision();
                let mut new = desired;
                new.prepare_update(&stored);
                store
                    .replace::<Template>(actor, Some(ns), name.as_ref(), expected, new)
                    .await?;
                tracing::info!(namespace = %ns, template = %name, "sample template put back as shipped");
            }
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Whether `name` is in one of the config's skip lists.
fn listed(skipped: &[String], name: &str) -> bool {
    skipped.iter().any(|s| s == name)
}

/// Puts a changed sample stream back as shipped. The import worker records the samples' imports
/// in their status at any time: losing that race re-reads the stream and tries again, rather than
/// failing the change of config that asked for this (the worker's write is only status).
async fn put_back_stream(
    state: &AppState,
    actor: &audit::Actor,
    ns: &ProjectName,
    name: &StreamName,
    desired: &ImageStream,
    mut stored: ImageStream,
) -> Result<(), SamplesError> {
    for _ in 0..20 {
        let expected = stored.metadata.revision();
        let mut wanted = desired.clone();
        wanted.metadata.resource_version = stored.metadata.resource_version.clone();
        let mut new = crate::service::stream_for_update(wanted, &stored);
        authorize_sources(state, Actor::Server, ns.as_str(), &mut new, Some(&stored))
            .await
            .map_err(|e| SamplesError::Source(name.to_string(), e))?;
        match services::streams::store_stream(state, actor, (ns, name), Some(expected), new).await {
            Ok(_) => {
                tracing::info!(namespace = %ns, stream = %name, "sample image stream put back as shipped");
                return Ok(());
            }
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        stored = match state
            .store
            .get::<ImageStream>(Some(ns), name.as_ref())
            .await
        {
            Ok(s) => s,
            // Deleted meanwhile: the next start (or change of config) creates it again.
            Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if same_stream(&stored, desired) {
            return Ok(());
        }
    }
    Err(StoreError::conflict(&tagstream_shared::resources::IMAGESTREAMS, name.as_str()).into())
}

async fn remove(
    state: &AppState,
    actor: &audit::Actor,
    ns: &ProjectName,
    config: &SamplesConfig,
) -> Result<(), SamplesError> {
    let streams = shipped_streams("")?
        .into_iter()
        .map(|(name, _)| name.to_string());
    remove_managed::<ImageStream>(state, actor, ns, streams, &config.spec.skipped_imagestreams)
        .await?;
    let templates = shipped_templates()?
        .into_iter()
        .map(|(name, _)| name.to_string());
    remove_managed::<Template>(state, actor, ns, templates, &config.spec.skipped_templates).await
}

/// Deletes the shipped objects of kind `K` named `names` that the samples still manage (a user's
/// edit took one over: it stays), except those `skipped`.
async fn remove_managed<K: tagstream_shared::object::Kind>(
    state: &AppState,
    actor: &audit::Actor,
    ns: &ProjectName,
    names: impl Iterator<Item = String>,
    skipped: &[String],
) -> Result<(), SamplesError> {
    let store = &state.store;
    for name in names.filter(|name| !skipped.contains(name)) {
        match store.get::<K>(Some(ns), &name).await {
            Ok(stored) if is_managed(stored.metadata()) => {
                match store.delete::<K>(actor, Some(ns), &name).await {
                    Ok(_) | Err(StoreError::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                tracing::info!(namespace = %ns, kind = K::KIND, %name, "sample removed");
            }
            Ok(_) | Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tagstream_shared::template::process::{process, validate_template};
    use tagstream_shared::validation::validate_image_stream;

    #[test]
    fn every_shipped_sample_loads_validates_and_processes() {
        let streams = shipped_streams("").expect("streams load");
        assert!(streams.len() >= 12);
        for (name, stream) in &streams {
            assert_eq!(stream.metadata.name(), name.as_str());
            assert_eq!(validate_image_stream(stream, "openshift"), vec![], "{name}");
            assert!(is_managed(&stream.metadata));
        }
        let templates = shipped_templates().expect("templates load");
        for (name, template) in &templates {
            assert_eq!(template.metadata.name(), name.as_str());
            assert_eq!(validate_template(template), vec![], "{name}");
            let processed = process(template).expect("processes with defaults");
            assert!(
                !serde_json::to_string(&processed.objects)
                    .unwrap_or_default()
                    .contains("${"),
                "{name}"
            );
        }
    }

    #[test]
    fn samples_registry_replaces_docker_io() {
        let streams = shipped_streams("mirror.example.com:5000").expect("streams load");
        let ruby = streams
            .iter()
            .find(|(n, _)| n.as_str() == "ruby")
            .map(|(_, s)| s)
            .expect("ruby ships");
        let from = ruby.spec.tags[0].from.as_ref().map(|f| f.name.as_str());
        assert!(
            from.is_some_and(|f| f.starts_with("mirror.example.com:5000/library/ruby:")),
            "{from:?}"
        );
    }
}
