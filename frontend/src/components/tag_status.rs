//! A tag's import status as one badge: green imported, amber pending, red failed (with the
//! condition's message: why, and on the tag page when the next try is), grey for a tag without
//! an image yet.

use leptos::prelude::*;
use tagstream_shared::{TagEvent, TagEventCondition};

/// What the badge says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagHealth {
    Imported,
    Pending,
    NoImage,
    /// A condition is false (`ImportSuccess=False`): its type, reason and message.
    Failed {
        kind: String,
        reason: String,
        message: String,
    },
}

impl TagHealth {
    /// From the tag's conditions, its current event and its spec generation.
    pub fn of(
        conditions: &[TagEventCondition],
        current: Option<&TagEvent>,
        spec_generation: Option<i64>,
    ) -> Self {
        if let Some(c) = conditions.iter().find(|c| c.status == "False") {
            return Self::Failed {
                kind: c.kind.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
            };
        }
        match (current, spec_generation) {
            (None, _) => Self::NoImage,
            (Some(event), Some(wanted)) if wanted > event.generation => Self::Pending,
            (Some(_), _) => Self::Imported,
        }
    }
}

#[component]
pub fn TagStatusBadge(
    health: TagHealth,
    /// Show a failure's message next to the badge (the tag page) or only on hover (tables).
    #[prop(default = false)]
    with_message: bool,
) -> impl IntoView {
    let (class, label, message) = match &health {
        TagHealth::Imported => ("badge badge-ok", "Imported".to_owned(), None),
        TagHealth::Pending => ("badge badge-warn", "Pending import".to_owned(), None),
        TagHealth::NoImage => ("badge badge-neutral", "No image yet".to_owned(), None),
        TagHealth::Failed {
            kind,
            reason,
            message,
        } => {
            let label = match reason.is_empty() {
                true => format!("{kind}: False"),
                false => format!("{kind}: False ({reason})"),
            };
            ("badge badge-error", label, Some(message.clone()))
        }
    };
    let title = message.clone().unwrap_or_default();
    // The message says why (and, from the tag's own answer, when the next try is): in full on
    // the tag page, and in a table as one line under the badge (the whole of it on hover), so no failure goes unexplained.
    let shown = message.filter(|m| !m.is_empty()).map(|m| match with_message {
        true => view! {
            " " <span class="condition-message" data-test="condition-message">{m}</span>
        }
        .into_any(),
        false => {
            let whole = m.clone();
            view! { <span class="condition-hint" data-test="condition-hint" title=whole>{m}</span> }
                .into_any()
        }
    });
    view! {
        <span class="status">
            <span class=class data-test="condition-badge" title=title>{label}</span>
            {shown}
        </span>
    }
}
