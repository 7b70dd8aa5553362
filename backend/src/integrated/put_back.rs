//! Putting back the tag a refused push overwrote (`refused`): on the image the stream's tag
//! holds, read again when the take-out is done.

use tagstream_shared::{ProjectName, StreamName};

use super::Integrated;
use super::push::PushError;
use super::reader::ReadError;
use super::refused::stream;
use crate::registry::manifest;

impl Integrated {
    /// Puts `tag` of `repo` back on the image the stream's tag holds now, if the registry's tag
    /// names the refused `digest` or nothing (the take-out deleted what it named): read again
    /// here, since a take-out can last seconds and a rightful push may have moved it since.
    pub(super) async fn put_back(
        &self,
        repo: &str,
        ns: &ProjectName,
        name: &StreamName,
        tag: &str,
        digest: &str,
        jwt: &str,
    ) -> Result<(), PushError> {
        let Some(stream) = stream(self.store.as_ref(), ns, name).await? else {
            return Ok(());
        };
        let Some(current) = stream
            .status
            .tags
            .iter()
            .find(|t| t.tag == tag)
            .and_then(|t| t.items.first())
        else {
            return Ok(());
        };
        let path = format!("v2/{repo}/manifests/{tag}");
        let (_, named) = self.head_manifest(&path, jwt).await?;
        if current.image == digest || named.as_deref().is_some_and(|n| n != digest) {
            return Ok(());
        }
        let restored = self.retag(repo, tag, &current.image, jwt).await?;
        tracing::info!(repository = %repo, tag = %tag, digest = %current.image, restored, "the tag a refused push overwrote names the stream's image again");
        Ok(())
    }

    /// Puts `tag` of `repo` back on manifest `digest`, if the repository has it; answers
    /// whether it did.
    async fn retag(
        &self,
        repo: &str,
        tag: &str,
        digest: &str,
        token: &str,
    ) -> Result<bool, ReadError> {
        let Some(body) = self.manifest_bytes(repo, digest, token).await? else {
            return Ok(false);
        };
        if crate::registry::client::sha256(&body) != digest {
            return Ok(false);
        }
        let Ok(media) = manifest::media_type_of(None, &body) else {
            return Ok(false);
        };
        self.put_manifest(repo, tag, &media, body, token).await?;
        Ok(true)
    }
}
