//! The one error type every server function returns, so the browser learns *why* a call
//! failed (not found, not allowed, which fields were refused) instead of a bare message.

use std::collections::BTreeMap;
use std::fmt;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why a server function failed, in terms a page can act on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// Nobody is logged in, or the session ended.
    Unauthenticated,
    /// Missing, or belonging to another tenant.
    NotFound,
    Forbidden,
    /// The input was refused; field name to reason.
    Invalid(BTreeMap<String, String>),
    Conflict(String),
    Internal(String),
    /// The call never reached the server function, or its answer could not be read.
    Transport(String),
}

impl AppError {
    /// The field reasons of an `Invalid` error, empty otherwise.
    pub fn field_errors(&self) -> BTreeMap<String, String> {
        match self {
            AppError::Invalid(fields) => fields.clone(),
            _ => BTreeMap::new(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Unauthenticated => f.write_str("your session has ended, please log in again"),
            AppError::NotFound => f.write_str("not found"),
            AppError::Forbidden => f.write_str("not allowed for your role"),
            AppError::Invalid(fields) => {
                let reasons: Vec<String> =
                    fields.iter().map(|(field, reason)| format!("{field}: {reason}")).collect();
                write!(f, "invalid input ({})", reasons.join("; "))
            }
            AppError::Conflict(message) | AppError::Internal(message) => f.write_str(message),
            AppError::Transport(message) => write!(f, "could not reach the server ({message})"),
        }
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        if matches!(
            value,
            ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::MissingArg(_)
                | ServerFnErrorErr::Deserialization(_)
        ) {
            set_status(http::StatusCode::BAD_REQUEST);
        }
        AppError::Transport(value.to_string())
    }
}

/// Gives a failed server function call the HTTP status its error means, as the JSON API
/// does, instead of the default 500.
#[cfg(feature = "ssr")]
fn set_status(status: http::StatusCode) {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}
