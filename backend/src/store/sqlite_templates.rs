//! [`TemplateStore`] on SQLite: templates and template instances per project, as image streams
//! are stored, and the samples config among the cluster-scoped objects. Table names below are
//! constants of this file, never input.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use tagstream_shared::samples::CONFIG_NAME;
use tagstream_shared::{
    ImageStream, ProjectName, SamplesConfig, StreamName, Template, TemplateInstance, TemplateName,
};

use super::sqlite::{Change, SqliteStore, Versioned, decode_all, encode, on_constraint};
use super::{Listed, StoreError, StoreResult, TemplateStore};

const TEMPLATES: &str = "templates";
const INSTANCES: &str = "template_instances";
pub(super) const ROLE_BINDINGS: &str = "role_bindings";

/// The resource a table holds, as the audit log names it.
fn resource_of(table: &'static str) -> &'static str {
    match table {
        TEMPLATES => "templates.template.openshift.io",
        INSTANCES => "templateinstances.template.openshift.io",
        ROLE_BINDINGS => "rolebindings.rbac.authorization.k8s.io",
        other => other,
    }
}

impl Versioned for Template {
    fn set_resource_version(&mut self, revision: i64) {
        self.metadata.resource_version = Some(revision.to_string());
    }
}

impl Versioned for TemplateInstance {
    fn set_resource_version(&mut self, revision: i64) {
        self.metadata.resource_version = Some(revision.to_string());
    }
}

impl Versioned for SamplesConfig {
    fn set_resource_version(&mut self, revision: i64) {
        self.metadata.resource_version = Some(revision.to_string());
    }
}

impl SqliteStore {
    pub(super) async fn list_in<T: DeserializeOwned>(
        &self,
        table: &'static str,
        ns: &ProjectName,
    ) -> StoreResult<Listed<T>> {
        let mut tx = self.pool.begin().await?;
        let revision: i64 = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let bodies: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT body FROM {table} WHERE namespace = ? ORDER BY name"
        ))
        .bind(ns.as_str())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Listed {
            items: decode_all(bodies)?,
            resource_version: u64::try_from(revision).unwrap_or_default(),
        })
    }

    pub(super) async fn get_in<T: DeserializeOwned>(
        &self,
        table: &'static str,
        ns: &ProjectName,
        name: &str,
    ) -> StoreResult<T> {
        let body: Option<String> = sqlx::query_scalar(&format!(
            "SELECT body FROM {table} WHERE namespace = ? AND name = ?"
        ))
        .bind(ns.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        Ok(serde_json::from_str(&body.ok_or(StoreError::NotFound)?)?)
    }

    pub(super) async fn create_in<T: Versioned>(
        &self,
        table: &'static str,
        ns: &ProjectName,
        name: &str,
        mut object: T,
    ) -> StoreResult<T> {
        let (mut tx, revision) = self.begin_write().await?;
        let body = encode(&mut object, revision)?;
        sqlx::query(&format!(
            "INSERT INTO {table} (namespace, name, resource_version, body) VALUES (?, ?, ?, ?)"
        ))
        .bind(ns.as_str())
        .bind(name)
        .bind(revision)
        .bind(body)
        .execute(&mut *tx)
        .await
        .map_err(on_constraint)?;
        Self::record(
            &mut tx,
            Change::create(resource_of(table), Some(ns.as_str()), name, revision),
        )
        .await?;
        self.commit(tx).await?;
        Ok(object)
    }

    pub(super) async fn update_in<T: Versioned>(
        &self,
        table: &'static str,
        ns: &ProjectName,
        name: &str,
        expected: u64,
        mut object: T,
    ) -> StoreResult<T> {
        let (mut tx, revision) = self.begin_write().await?;
        let stored: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT resource_version FROM {table} WHERE namespace = ? AND name = ?"
        ))
        .bind(ns.as_str())
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let before = match stored {
            None => return Err(StoreError::NotFound),
            Some(v) if u64::try_from(v).ok() != Some(expected) => return Err(StoreError::Conflict),
            Some(v) => v,
        };
        let body = encode(&mut object, revision)?;
        sqlx::query(&format!(
            "UPDATE {table} SET resource_version = ?, body = ? WHERE namespace = ? AND name = ?"
        ))
        .bind(revision)
        .bind(body)
        .bind(ns.as_str())
        .bind(name)
        .execute(&mut *tx)
        .await?;
        Self::record(
            &mut tx,
            Change::update(
                resource_of(table),
                Some(ns.as_str()),
                name,
                before,
                revision,
            ),
        )
        .await?;
        self.commit(tx).await?;
        Ok(object)
    }

    pub(super) async fn delete_in<T: DeserializeOwned>(
        &self,
        table: &'static str,
        ns: &ProjectName,
        name: &str,
    ) -> StoreResult<T> {
        let (mut tx, _) = self.begin_write().await?;
        let row: Option<(String, i64)> = sqlx::query_as(&format!(
            "DELETE FROM {table} WHERE namespace = ? AND name = ? RETURNING body, resource_version"
        ))
        .bind(ns.as_str())
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let (body, before) = row.ok_or(StoreError::NotFound)?;
        let object = serde_json::from_str(&body)?;
        Self::record(
            &mut tx,
            Change::delete(resource_of(table), Some(ns.as_str()), name, Some(before)),
        )
        .await?;
        self.commit(tx).await?;
        Ok(object)
    }
}

#[async_trait]
impl TemplateStore for SqliteStore {
    async fn list_templates(&self, ns: &ProjectName) -> StoreResult<Listed<Template>> {
        self.list_in(TEMPLATES, ns).await
    }

    async fn get_template(&self, ns: &ProjectName, name: &TemplateName) -> StoreResult<Template> {
        self.get_in(TEMPLATES, ns, name.as_str()).await
    }

    async fn create_template(
        &self,
        ns: &ProjectName,
        name: &TemplateName,
        template: Template,
    ) -> StoreResult<Template> {
        self.create_in(TEMPLATES, ns, name.as_str(), template).await
    }

    async fn update_template(
        &self,
        ns: &ProjectName,
        name: &TemplateName,
        expected: u64,
        template: Template,
    ) -> StoreResult<Template> {
        self.update_in(TEMPLATES, ns, name.as_str(), expected, template)
            .await
    }

    async fn delete_template(
        &self,
        ns: &ProjectName,
        name: &TemplateName,
    ) -> StoreResult<Template> {
        self.delete_in(TEMPLATES, ns, name.as_str()).await
    }

    async fn list_template_instances(
        &self,
        ns: &ProjectName,
    ) -> StoreResult<Listed<TemplateInstance>> {
        self.list_in(INSTANCES, ns).await
    }

    async fn get_template_instance(
        &self,
        ns: &ProjectName,
        name: &TemplateName,
    ) -> StoreResult<TemplateInstance> {
        self.get_in(INSTANCES, ns, name.as_str()).await
    }

    async fn create_template_instance(
        &self,
        ns: &ProjectName,
        name: &TemplateName,
        mut instance: TemplateInstance,
        streams: Vec<(StreamName, ImageStream)>,
    ) -> StoreResult<TemplateInstance> {
        let (mut tx, revision) = self.begin_write().await?;
        let body = encode(&mut instance, revision)?;
        sqlx::query(
            "INSERT INTO template_instances (namespace, name, resource_version, body) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(ns.as_str())
        .bind(name.as_str())
        .bind(revision)
        .bind(body)
        .execute(&mut *tx)
        .await
        .map_err(on_constraint)?;
        Self::record(
            &mut tx,
            Change::create(
                resource_of(INSTANCES),
                Some(ns.as_str()),
                name.as_str(),
                revision,
            ),
        )
        .await?;
        for (stream_name, mut stream) in streams {
            let body = encode(&mut stream, revision)?;
            sqlx::query(
                "INSERT INTO image_streams (namespace, name, resource_version, body) \
                 VALUES (?, ?, ?, ?)",
            )
            .bind(ns.as_str())
            .bind(stream_name.as_str())
            .bind(revision)
            .bind(body)
            .execute(&mut *tx)
            .await
            .map_err(on_constraint)?;
            Self::record(
                &mut tx,
                Change::create(
                    super::sqlite::IMAGESTREAMS,
                    Some(ns.as_str()),
                    stream_name.as_str(),
                    revision,
                ),
            )
            .await?;
        }
        // Dropping the transaction on an early return above rolls every insert back.
        self.commit(tx).await?;
        Ok(instance)
    }

    async fn delete_template_instance(
        &self,
        ns: &ProjectName,
        name: &TemplateName,
    ) -> StoreResult<TemplateInstance> {
        let (mut tx, _) = self.begin_write().await?;
        let body: Option<String> = sqlx::query_scalar(
            "DELETE FROM template_instances WHERE namespace = ? AND name = ? RETURNING body",
        )
        .bind(ns.as_str())
        .bind(name.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let instance: TemplateInstance = serde_json::from_str(&body.ok_or(StoreError::NotFound)?)?;
        let before = instance
            .metadata
            .resource_version
            .as_deref()
            .and_then(|v| v.parse().ok());
        Self::record(
            &mut tx,
            Change::delete(
                resource_of(INSTANCES),
                Some(ns.as_str()),
                name.as_str(),
                before,
            ),
        )
        .await?;
        for object in &instance.status.objects {
            let r = &object.reference;
            let uid = r.extra.get("uid").and_then(serde_json::Value::as_str);
            let (true, Some(uid)) = (r.kind == ImageStream::KIND, uid) else {
                continue;
            };
            sqlx::query(
                "DELETE FROM image_streams WHERE namespace = ? AND name = ? \
                 AND json_extract(body, '$.metadata.uid') = ?",
            )
            .bind(ns.as_str())
            .bind(&r.name)
            .bind(uid)
            .execute(&mut *tx)
            .await?;
            Self::record(
                &mut tx,
                Change::delete(
                    super::sqlite::IMAGESTREAMS,
                    Some(ns.as_str()),
                    &r.name,
                    None,
                ),
            )
            .await?;
        }
        self.commit(tx).await?;
        Ok(instance)
    }

    async fn get_samples_config(&self) -> StoreResult<Option<SamplesConfig>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM cluster_objects WHERE kind = ? AND name = ?")
                .bind(SamplesConfig::KIND)
                .bind(CONFIG_NAME)
                .fetch_optional(&self.pool)
                .await?;
        body.map(|b| serde_json::from_str(&b).map_err(StoreError::from))
            .transpose()
    }

    async fn put_samples_config(
        &self,
        expected: Option<u64>,
        mut config: SamplesConfig,
    ) -> StoreResult<SamplesConfig> {
        let (mut tx, revision) = self.begin_write().await?;
        let stored: Option<i64> = sqlx::query_scalar(
            "SELECT resource_version FROM cluster_objects WHERE kind = ? AND name = ?",
        )
        .bind(SamplesConfig::KIND)
        .bind(CONFIG_NAME)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(expected) = expected
            && stored.and_then(|v| u64::try_from(v).ok()) != Some(expected)
        {
            return Err(StoreError::Conflict);
        }
        let body = encode(&mut config, revision)?;
        let change = match stored {
            Some(before) => Change::update(
                "configs.samples.operator.openshift.io",
                None,
                CONFIG_NAME,
                before,
                revision,
            ),
            None => Change::create(
                "configs.samples.operator.openshift.io",
                None,
                CONFIG_NAME,
                revision,
            ),
        };
        Self::record(&mut tx, change).await?;
        sqlx::query(
            "INSERT INTO cluster_objects (kind, name, resource_version, body) VALUES (?, ?, ?, ?) \
             ON CONFLICT (kind, name) DO UPDATE SET resource_version = excluded.resource_version, \
             body = excluded.body",
        )
        .bind(SamplesConfig::KIND)
        .bind(CONFIG_NAME)
        .bind(revision)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        self.commit(tx).await?;
        Ok(config)
    }
}
