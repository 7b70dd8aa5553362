//! tagstream's console: Leptos apps rendered in the browser, talking to the server they were
//! served from. The console is three wasm apps built from this library (`src/bin/`): `console`,
//! the pages a shared link opens, `tools` and `templates` (see [`routes::Bundle`]); each is a
//! router over its own pages inside the same [`frame`].

pub mod api;
pub mod components;
pub mod format;
pub mod frame;
pub mod merge;
pub mod pages;
pub mod routes;
