//! Factory's web pages: Leptos components rendered on the server and hydrated in the
//! browser, plus the server functions they call. Server-only code sits behind `ssr`.

pub mod model;

#[cfg(feature = "ssr")]
pub mod backend;

pub mod components;
pub mod error;
pub mod format;
pub mod layout;
pub mod live;
pub mod pages;
pub mod params;
pub mod server_fns;

pub mod shell;

pub use shell::{shell, App};
