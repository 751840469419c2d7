//! How a passkey that did not work is told: the options' JSON refusal
//! (read by `static/passkey.js`), the user's message and the stable code the
//! sign-in log keeps. Shared by the sign-in steps and the account page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use portico_directory::mfa::PasskeyError;
use portico_oidc::error::PageError;
use serde::Serialize;

/// The JSON body of a refused options request (the script shows `message`).
#[derive(Serialize)]
pub(crate) struct OptionsRefused {
    pub error: &'static str,
    pub message: String,
}

pub(crate) fn json_error(e: &PageError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = OptionsRefused {
        error: e.code,
        message: e.message.clone(),
    };
    (status, Json(body)).into_response()
}

/// What the user is told about a passkey that did not work, with its stable code.
pub(crate) fn passkey_refusal(e: &PasskeyError) -> Option<(&'static str, &'static str)> {
    match e {
        PasskeyError::Unavailable => Some((
            "passkeys_unavailable",
            "Passkeys are not available at this address.",
        )),
        PasskeyError::Expired => Some((
            "passkey_expired",
            "That passkey request expired or was already used. Try again.",
        )),
        PasskeyError::Refused => Some((
            "passkey_refused",
            "That passkey was not accepted. Try again, or use another way.",
        )),
        PasskeyError::AlreadyRegistered => Some((
            "passkey_already_registered",
            "That passkey is already registered.",
        )),
        PasskeyError::NotFound => Some((
            "passkey_not_registered",
            "No passkey is registered for this account. Use another way.",
        )),
        PasskeyError::Internal(_) => None,
    }
}

pub(crate) fn passkey_internal(e: PasskeyError) -> PageError {
    tracing::error!(error = ?e, "passkey failure");
    PageError::internal()
}
