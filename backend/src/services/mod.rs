//! The service layer, between the handlers (and the background workers) and the store: the
//! domain rules of a write live here, not in SQL. Each service takes the acting [`Actor`]
//! explicitly and runs one unit of work (`store.begin(actor)`), so a change and everything it
//! causes (events, webhook deliveries, the audit entry) commit together or not at all.
//!
//! [`Actor`]: crate::audit::Actor

pub mod groups;
pub mod streams;
pub mod templates;
pub mod users;
