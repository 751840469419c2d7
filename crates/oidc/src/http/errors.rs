//! Wire forms of errors: RFC 6749 §5.2 JSON for the token family, RFC 6750 §3
//! `WWW-Authenticate` for bearer-protected endpoints.

use crate::authorize::{ParamError, ParamLimits, parse_pairs};
use crate::error::OAuthError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if let Some(d) = &self.debug {
            tracing::info!(error = self.code, debug = %d, "oauth error");
        }
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut resp = (
            status,
            no_store(),
            axum::Json(json!({"error": self.code, "error_description": self.description})),
        )
            .into_response();
        if self.code == "invalid_client" {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"portico\""),
            );
        }
        resp
    }
}

/// An error for a bearer-protected resource (RFC 6750 §3).
pub fn bearer_error(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let value = format!(
        "Bearer error=\"{}\", error_description=\"{}\"",
        e.code,
        e.description.replace('"', "'")
    );
    let mut resp = (
        status,
        axum::Json(json!({"error": e.code, "error_description": e.description})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

/// Parses an `application/x-www-form-urlencoded` body within `limits` (the
/// router caps the bytes read; `body` is `Err` past that); anything else is
/// `invalid_request` (RFC 6749 §5.2), never a 413 or a 500.
pub fn parse_form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limits: ParamLimits,
) -> Result<Vec<(String, String)>, OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct
        .to_ascii_lowercase()
        .starts_with("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::invalid_request(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let body = body.map_err(|_| param_error(ParamError::TooLarge))?;
    parse_pairs(&body, limits).map_err(param_error)
}

fn param_error(e: ParamError) -> OAuthError {
    OAuthError::invalid_request(match e {
        ParamError::TooLarge => "The request body is too large.",
        ParamError::TooManyParams => "The request has too many parameters.",
        ParamError::Malformed => "The form body is malformed.",
    })
}

/// The bearer token of the `Authorization` header, if the header uses that scheme.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string()
}
