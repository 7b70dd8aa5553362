//! tagstream's console: one Leptos app rendered in the browser, talking to the server it was
//! served from. One router ([`frame`]) over the route table ([`routes`]); every page is a
//! client-side navigation.

pub mod api;
pub mod components;
pub mod format;
pub mod frame;
pub mod merge;
pub mod pages;
pub mod paint;
pub mod remembered;
pub mod routes;
