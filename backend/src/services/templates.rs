//! A template instance and the image streams it makes, written and removed together; and the
//! samples config, written at the resourceVersion its writer read.

use tagstream_shared::resources::{IMAGESTREAMS, SAMPLES_CONFIGS, TEMPLATEINSTANCES};
use tagstream_shared::samples::CONFIG_NAME;
use tagstream_shared::{
    ImageStream, ProjectName, SamplesConfig, StreamName, TemplateInstance, TemplateName,
};

use crate::audit::Actor;
use crate::store::{Objects as _, Store, StoreError, StoreResult};

/// Stores the instance and creates its image streams in one unit of work: all or nothing.
/// `AlreadyExists` if the instance or any stream exists.
pub async fn instantiate(
    store: &dyn Store,
    actor: &Actor,
    ns: &ProjectName,
    name: &TemplateName,
    mut instance: TemplateInstance,
    streams: Vec<(StreamName, ImageStream)>,
) -> StoreResult<TemplateInstance> {
    let mut tx = store.begin(actor).await?;
    let ns = ns.as_str();
    tx.insert(&TEMPLATEINSTANCES, ns, name.as_str(), &mut instance)
        .await?;
    for (stream_name, mut stream) in streams {
        tx.insert(&IMAGESTREAMS, ns, stream_name.as_str(), &mut stream)
            .await?;
    }
    // Dropping the unit on an early return above rolls every insert back.
    tx.commit().await?;
    Ok(instance)
}

/// Removes the instance and, as OpenShift's garbage collector does, the image streams it
/// created (those still carrying the uid it recorded: one made since under the same name
/// stays).
pub async fn remove_instance(
    store: &dyn Store,
    actor: &Actor,
    ns: &ProjectName,
    name: &TemplateName,
) -> StoreResult<TemplateInstance> {
    let mut tx = store.begin(actor).await?;
    let ns = ns.as_str();
    let body = tx.remove(&TEMPLATEINSTANCES, ns, name.as_str()).await?;
    let instance: TemplateInstance = serde_json::from_str(&body)?;
    for object in &instance.status.objects {
        let r = &object.reference;
        let uid = r.extra.get("uid").and_then(serde_json::Value::as_str);
        let (true, Some(uid)) = (r.kind == ImageStream::KIND, uid) else {
            continue;
        };
        let made_here = tx
            .find::<ImageStream>(ns, &r.name)
            .await?
            .is_some_and(|s| s.metadata.uid.as_deref() == Some(uid));
        if made_here {
            tx.remove(&IMAGESTREAMS, ns, &r.name).await?;
        }
    }
    tx.commit().await?;
    Ok(instance)
}

/// The samples config, if it was ever written.
pub async fn samples_config(store: &dyn Store) -> StoreResult<Option<SamplesConfig>> {
    match store.get(None, CONFIG_NAME).await {
        Ok(config) => Ok(Some(config)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes the samples config (creating it the first time); with `expected`, only if its
/// resourceVersion is still that.
pub async fn put_samples_config(
    store: &dyn Store,
    actor: &Actor,
    expected: Option<u64>,
    mut config: SamplesConfig,
) -> StoreResult<SamplesConfig> {
    let r = &SAMPLES_CONFIGS;
    let mut tx = store.begin(actor).await?;
    let stored = tx.row(r, "", CONFIG_NAME).await?;
    if let Some(expected) = expected
        && stored.as_ref().and_then(|(v, _)| u64::try_from(*v).ok()) != Some(expected)
    {
        return Err(StoreError::conflict(r, CONFIG_NAME));
    }
    match stored {
        Some(_) => {
            tx.update(r, "", CONFIG_NAME, None, &mut config).await?;
        }
        None => tx.insert(r, "", CONFIG_NAME, &mut config).await?,
    }
    tx.commit().await?;
    Ok(config)
}
