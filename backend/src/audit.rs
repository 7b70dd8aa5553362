//! Who is acting: the authenticated caller for a request, or the server's own accounts for its
//! background work. An [`Actor`] is passed explicitly to every write that records who made it
//! (the audit log, the events page, what a tag move is called): a task-local would be silently
//! lost by a `tokio::spawn`, and the log would then name the server instead of the caller.

use std::borrow::Cow;

/// The account the import worker acts as.
pub const IMPORTER: &str = "system:serviceaccount:tagstream:importer";
/// The account that applies the samples.
pub const SAMPLES: &str = "system:serviceaccount:tagstream:samples";
/// Anything else the server does on its own.
pub const SERVER: &str = "system:tagstream";

/// Who makes a change, by the name the audit log and the events page show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(Cow<'static, str>);

impl Actor {
    /// The import worker.
    pub const IMPORTER: Self = Self(Cow::Borrowed(IMPORTER));
    /// The samples being applied.
    pub const SAMPLES: Self = Self(Cow::Borrowed(SAMPLES));
    /// The server on its own (sending webhooks, start-up work).
    pub const SERVER: Self = Self(Cow::Borrowed(SERVER));

    /// An account by name: a signed-in user, `system:anonymous`, a service account.
    pub fn named(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// Whether this is the import worker (its tag moves read "Imported").
    pub fn is_importer(&self) -> bool {
        self.0 == IMPORTER
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&crate::auth::Caller> for Actor {
    fn from(caller: &crate::auth::Caller) -> Self {
        Self::named(caller.name())
    }
}
