//! `/userinfo` (OIDC Core §5.3): GET or POST.

use super::OidcState;
use super::errors::{bearer_error, bearer_token, no_store, parse_form};
use crate::authorize::ParamLimits;
use crate::error::OAuthError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

async fn answer(s: &OidcState, token: Result<String, OAuthError>) -> Response {
    let result = async { s.provider.userinfo(&token?).await }.await;
    match result {
        Ok(claims) => (no_store(), Json(claims)).into_response(),
        Err(e) => bearer_error(e),
    }
}

fn missing() -> OAuthError {
    OAuthError::invalid_token("An access token is required.")
}

pub async fn userinfo_get(State(s): State<OidcState>, headers: HeaderMap) -> Response {
    let token = bearer_token(&headers)
        .map(str::to_string)
        .ok_or_else(missing);
    answer(&s, token).await
}

/// RFC 6750 §2.1 (header) or §2.2 (form body), never both.
pub async fn userinfo_post(
    State(s): State<OidcState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let header = bearer_token(&headers).map(str::to_string);
    let token = if body.as_ref().is_ok_and(|b| b.is_empty()) {
        header.ok_or_else(missing)
    } else {
        match parse_form(&headers, body, ParamLimits::TOKEN) {
            Err(e) => Err(e),
            Ok(pairs) => {
                let in_body = pairs
                    .into_iter()
                    .find(|(k, _)| k == "access_token")
                    .map(|(_, v)| v);
                match (header, in_body) {
                    (Some(_), Some(_)) => {
                        Err(OAuthError::invalid_request("Send the access token once."))
                    }
                    (Some(h), None) => Ok(h),
                    (None, Some(b)) => Ok(b),
                    (None, None) => Err(missing()),
                }
            }
        }
    };
    answer(&s, token).await
}
