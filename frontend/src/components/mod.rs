//! Reusable widgets with typed props: banners, copy buttons, times, digests, dialogs, breadcrumbs,
//! loading states, form fields, and the forms that more than one layout could hold.

pub mod breadcrumbs;
pub mod can;
pub mod change_password;
pub mod confirm_dialog;
pub mod copy_button;
pub mod create_stream;
pub mod error_banner;
pub mod field;
pub mod followers;
pub mod import_form;
pub mod live;
pub mod loaded;
pub mod not_found;
pub mod relative_time;
pub mod session_menu;
pub mod short_digest;
pub mod skeleton;
pub mod source;
pub mod stream_editor;
pub mod tag_actions;
pub mod tag_status;
