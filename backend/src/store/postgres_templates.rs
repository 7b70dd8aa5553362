//! [`TemplateStore`] on PostgreSQL (ported from the SQLite one, query for query): templates and the samples config are plain objects of the
//! generic store; a template instance is created and deleted together with its image streams,
//! in one transaction.

use async_trait::async_trait;
use tagstream_shared::resources as kinds;
use tagstream_shared::samples::CONFIG_NAME;
use tagstream_shared::{
    ImageStream, ProjectName, SamplesConfig, StreamName, TemplateInstance, TemplateName,
};

use super::objects::Objects;
use super::postgres::PgStore;
use super::sqlite::Change;
use super::{StoreError, StoreResult, TemplateStore};
use crate::audit::Actor;

#[async_trait]
impl TemplateStore for PgStore {
    async fn create_template_instance(
        &self,
        actor: &Actor,
        ns: &ProjectName,
        name: &TemplateName,
        mut instance: TemplateInstance,
        streams: Vec<(StreamName, ImageStream)>,
    ) -> StoreResult<TemplateInstance> {
        let mut tx = self.begin_write(actor).await?;
        let revision = tx.revision;
        let ns = ns.as_str();
        Self::insert_in(
            &mut tx,
            revision,
            &kinds::TEMPLATEINSTANCES,
            ns,
            name.as_str(),
            &mut instance,
        )
        .await?;
        for (stream_name, mut stream) in streams {
            Self::insert_in(
                &mut tx,
                revision,
                &kinds::IMAGESTREAMS,
                ns,
                stream_name.as_str(),
                &mut stream,
            )
            .await?;
        }
        // Dropping the transaction on an early return above rolls every insert back.
        self.commit(tx).await?;
        Ok(instance)
    }

    async fn delete_template_instance(
        &self,
        actor: &Actor,
        ns: &ProjectName,
        name: &TemplateName,
    ) -> StoreResult<TemplateInstance> {
        let mut tx = self.begin_write(actor).await?;
        let ns = ns.as_str();
        let body = Self::remove_in(&mut tx, &kinds::TEMPLATEINSTANCES, ns, name.as_str()).await?;
        let instance: TemplateInstance = serde_json::from_str(&body)?;
        for object in &instance.status.objects {
            let r = &object.reference;
            let uid = r.extra.get("uid").and_then(serde_json::Value::as_str);
            let (true, Some(uid)) = (r.kind == ImageStream::KIND, uid) else {
                continue;
            };
            // Only the stream this instance made: one made since under the same name stays.
            sqlx::query(
                "DELETE FROM objects WHERE resource = $1 AND namespace = $2 AND name = $3 \
                 AND (body::jsonb #>> '{metadata,uid}') = $4",
            )
            .bind(kinds::IMAGESTREAMS.plural)
            .bind(ns)
            .bind(&r.name)
            .bind(uid)
            .execute(&mut *tx)
            .await?;
            Self::record(
                &mut tx,
                Change::delete(&kinds::IMAGESTREAMS, Some(ns), &r.name, None),
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(instance)
    }

    async fn get_samples_config(&self) -> StoreResult<Option<SamplesConfig>> {
        match self.get(None, CONFIG_NAME).await {
            Ok(config) => Ok(Some(config)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put_samples_config(
        &self,
        actor: &Actor,
        expected: Option<u64>,
        mut config: SamplesConfig,
    ) -> StoreResult<SamplesConfig> {
        let r = &kinds::SAMPLES_CONFIGS;
        let mut tx = self.begin_write(actor).await?;
        let revision = tx.revision;
        let stored = Self::row_in(&mut tx, r, "", CONFIG_NAME).await?;
        if let Some(expected) = expected
            && stored.as_ref().and_then(|(v, _)| u64::try_from(*v).ok()) != Some(expected)
        {
            return Err(StoreError::conflict(r, CONFIG_NAME));
        }
        match stored {
            Some(_) => {
                Self::update_in(&mut tx, revision, r, "", CONFIG_NAME, None, &mut config).await?;
            }
            None => Self::insert_in(&mut tx, revision, r, "", CONFIG_NAME, &mut config).await?,
        }
        self.commit(tx).await?;
        Ok(config)
    }
}
