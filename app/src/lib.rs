//! Factory's web pages: Leptos components rendered on the server and hydrated in the
//! browser, plus the server functions they call. Server-only code sits behind `ssr`.

pub mod model;

#[cfg(feature = "ssr")]
pub mod backend;
