//! The backend's integration tests, one binary: the real router over a temporary SQLite file on
//! a loopback port, the real `tagstream` binary, and the real console in headless Chromium.

mod access;
mod access_matrix;
mod api_projects;
mod api_samples;
mod api_streams;
mod api_templates;
mod browser;
mod browser_access;
mod browser_admin;
mod browser_claims;
mod browser_import;
mod browser_live;
mod browser_templates;
mod browser_triggers;
mod chrome;
mod claims_import;
mod claims_schedule;
mod claims_server;
mod faults;
mod followers;
mod import;
mod oci_examples;
mod receiver;
mod recorder;
mod registry;
mod server;
mod support;
mod tagging;
mod token;
mod triggers;
mod watch;
