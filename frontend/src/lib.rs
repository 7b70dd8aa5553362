//! tagstream's console: Leptos apps rendered in the browser, talking to the server they were
//! served from. The console is six wasm apps built from this library (`src/bin/`): `tag` (the
//! tag page a shared link opens), `console` (projects, streams), `tools`, `templates`, `access`
//! and `activity` (see [`routes::Bundle`]); each is a router over its own pages inside the same
//! [`frame`].

pub mod api;
pub mod components;
pub mod format;
pub mod frame;
pub mod merge;
pub mod pages;
pub mod routes;
