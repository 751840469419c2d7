//! Rules (OIDC Core §3.1.2.1 `id_token_hint`): the hint must be an ID token this
//! provider issued (an expired one is fine) to this client; its `sub` is then
//! the user the client expects. A hint that fails is `invalid_request`.

use super::params::RawParams;
use crate::Provider;
use crate::error::OAuthError;
use crate::model::Client;
use serde_json::Value;

pub async fn check_id_token_hint(
    p: &Provider,
    raw: &RawParams,
    client: &Client,
) -> Result<Option<String>, OAuthError> {
    let Some(hint) = raw.get("id_token_hint") else {
        return Ok(None);
    };
    let bad = |e: OAuthError| {
        OAuthError::invalid_request("id_token_hint is not a valid ID token from this provider.")
            .with_debug(format!("{e:?}"))
    };
    let claims = p
        .verify_own_jwt(hint, Some("JWT"), true)
        .await
        .map_err(bad)?;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == &client.client_id,
        Some(Value::Array(a)) => a
            .iter()
            .any(|v| v.as_str() == Some(client.client_id.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Err(OAuthError::invalid_request(
            "id_token_hint was issued to another application.",
        ));
    }
    Ok(claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_string))
}
