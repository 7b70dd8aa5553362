//! Tags that follow another stream's tag or pin one of its images: each pass moves them to
//! the image their source names now, when the link is authorized.

use std::collections::HashMap;

use tagstream_shared::{ImageStream, ProjectName, StatusReason, StreamName};

use super::Importer;
use super::sources::{source_event, source_namespace, source_stream};
use super::status::{record_failure, record_image};
use crate::audit::Actor;
use crate::source_access::{NOT_AUTHORIZED, link_authorized};

fn find_stream<'a>(all: &'a [ImageStream], ns: &str, name: &str) -> Option<&'a ImageStream> {
    all.iter()
        .find(|s| s.metadata.namespace.as_deref() == Some(ns) && s.metadata.name() == name)
}

impl Importer {
    /// Moves tags whose `from` is another stream's tag (an alias that follows it) or one image
    /// of a stream (`stream@digest`, pinned) to that image. Answers whether anything moved.
    pub(super) async fn follow_aliases(
        &self,
        ns: &ProjectName,
        name: &StreamName,
        stream: &ImageStream,
        all: &[ImageStream],
        projects: &HashMap<String, String>,
    ) -> bool {
        let project_of = |name: &str| projects.get(name).cloned();
        let now = self.clock.now();
        let mut moves = Vec::new();
        let mut refusals = Vec::new();
        for tag in &stream.spec.tags {
            let Some(from) = tag.from.as_ref() else {
                continue;
            };
            let Some(src_stream) = source_stream(from, stream.metadata.name()) else {
                continue;
            };
            let generation = tag.generation.unwrap_or(0);
            // Across projects only what a writer who could read the source authorized
            // (`source_access`): the worker itself acts for nobody.
            if !link_authorized(stream, ns.as_str(), tag, project_of) {
                // Recorded once: a pass that would write the same condition writes nothing.
                if record_failure(
                    &mut stream.clone(),
                    &tag.name,
                    StatusReason::Forbidden,
                    NOT_AUTHORIZED,
                    generation,
                    now,
                ) {
                    refusals.push((tag.name.clone(), generation));
                }
                continue;
            }
            let source_ns = source_namespace(from, ns.as_str());
            let event =
                find_stream(all, source_ns, &src_stream).and_then(|s| source_event(from, s));
            let Some(current) = event else { continue };
            let mine = stream.status_tag(&tag.name).and_then(|t| t.current());
            if mine.is_none_or(|m| m.image != current.image || m.generation < generation) {
                moves.push((tag.name.clone(), current, generation));
            }
        }
        if moves.is_empty() && refusals.is_empty() {
            return false;
        }
        let limit = self.config.history_limit;
        let result = self
            .update_stream(&Actor::IMPORTER, ns, name, |s| {
                let mut changed = false;
                for (tag, event, generation) in &moves {
                    changed |= record_image(
                        s,
                        tag,
                        &event.image,
                        &event.docker_image_reference,
                        *generation,
                        now,
                        limit,
                    );
                }
                for (tag, generation) in &refusals {
                    // Only while the tag still has the source that was refused.
                    if s.spec_tag(tag)
                        .is_some_and(|t| !link_authorized(s, ns.as_str(), t, project_of))
                    {
                        changed |= record_failure(
                            s,
                            tag,
                            StatusReason::Forbidden,
                            NOT_AUTHORIZED,
                            *generation,
                            now,
                        );
                    }
                }
                changed
            })
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, %ns, stream = %name, "cannot move followed tags");
            return false;
        }
        !moves.is_empty()
    }
}
