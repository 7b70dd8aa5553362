//! Talking to container registries: which ones are allowed and reachable (`policy`), the
//! distribution protocol (`client`), and what their documents mean (`manifest`).

pub mod client;
pub mod error;
pub mod manifest;
pub mod policy;
pub mod tokens;

pub use client::{RegistryClient, Repository};
pub use error::RegistryError;
pub use policy::RegistryPolicy;
