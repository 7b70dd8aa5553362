//! Who is acting: the authenticated caller for a request, or the server's own accounts for its
//! background work. The store reads it when it records a change in the audit log, in the same
//! transaction as the change.

use std::future::Future;

tokio::task_local! {
    static ACTOR: String;
}

/// The account the import worker acts as.
pub const IMPORTER: &str = "system:serviceaccount:tagstream:importer";
/// The account that applies the samples.
pub const SAMPLES: &str = "system:serviceaccount:tagstream:samples";
/// Anything else the server does on its own.
pub const SERVER: &str = "system:tagstream";

/// Runs `f` acting as `actor`.
pub async fn acting_as<F: Future>(actor: String, f: F) -> F::Output {
    ACTOR.scope(actor, f).await
}

/// Who is acting now.
pub fn actor() -> String {
    ACTOR
        .try_with(Clone::clone)
        .unwrap_or_else(|_| SERVER.to_owned())
}
