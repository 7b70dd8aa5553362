//! The store's part for templates, template instances and the samples config. A separate trait
//! (a supertrait of [`Store`](super::Store)) so the template feature's persistence reads in one
//! place.

use async_trait::async_trait;
use tagstream_shared::{
    ImageStream, ProjectName, SamplesConfig, StreamName, TemplateInstance, TemplateName,
};

use super::StoreResult;
use crate::audit::Actor;

#[async_trait]
pub trait TemplateStore {
    /// Stores the instance and creates its image streams in one transaction: all or nothing.
    /// `AlreadyExists` if the instance or any stream exists.
    async fn create_template_instance(
        &self,
        actor: &Actor,
        ns: &ProjectName,
        name: &TemplateName,
        instance: TemplateInstance,
        streams: Vec<(StreamName, ImageStream)>,
    ) -> StoreResult<TemplateInstance>;
    /// Removes the instance and, as OpenShift's garbage collector does, the image streams it
    /// created (those still carrying the uid it recorded).
    async fn delete_template_instance(
        &self,
        actor: &Actor,
        ns: &ProjectName,
        name: &TemplateName,
    ) -> StoreResult<TemplateInstance>;

    /// The samples config, if it was ever written.
    async fn get_samples_config(&self) -> StoreResult<Option<SamplesConfig>>;
    /// Writes the samples config; with `expected`, only if its resourceVersion is still that.
    async fn put_samples_config(
        &self,
        actor: &Actor,
        expected: Option<u64>,
        config: SamplesConfig,
    ) -> StoreResult<SamplesConfig>;
}
