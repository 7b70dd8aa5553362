//! tagstream's server: the API over a store, and the console's static files.
//!
//! `app::build` assembles the router from a `Config`; `main.rs` only parses flags and serves.

pub mod access;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod body;
pub mod cli;
pub mod clock;
pub mod config;
pub mod error;
pub mod evict;
pub mod heavy;
pub mod import;
pub mod integrated;
pub mod read_cache;
pub mod registry;
pub mod samples;
pub mod service;
pub mod services;
pub mod source_access;
pub mod static_files;
pub mod store;
pub mod template_service;
pub mod triggers;
pub mod watch;
pub mod watch_access;
pub mod workers;
