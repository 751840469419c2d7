//! The checks that run after the redirect URI is verified; their errors are
//! redirected to the client. Each cites the rule it enforces.

use super::params::RawParams;
use crate::claims::SUPPORTED_SCOPES;
use crate::error::OAuthError;
use crate::model::{Client, GRANT_AUTHORIZATION_CODE};
use serde::{Deserialize, Serialize};

/// RFC 6749 §3.1: no parameter may be sent twice.
pub fn reject_repeated_params(raw: &RawParams) -> Result<(), OAuthError> {
    match raw.first_repeated() {
        Some(name) => Err(OAuthError::invalid_request(format!(
            "The parameter {name} is repeated."
        ))),
        None => Ok(()),
    }
}

/// OIDC Core §6: request objects are not supported here (discovery says so).
pub fn reject_request_objects(raw: &RawParams) -> Result<(), OAuthError> {
    if raw.get("request").is_some() {
        return Err(OAuthError::new(
            "request_not_supported",
            "Request objects are not supported.",
        ));
    }
    if raw.get("request_uri").is_some() {
        return Err(OAuthError::new(
            "request_uri_not_supported",
            "request_uri is not supported.",
        ));
    }
    Ok(())
}

/// OIDC Core §3.1.2.1: only the authorization code flow (`response_type=code`).
pub fn check_response_type(raw: &RawParams, client: &Client) -> Result<(), OAuthError> {
    match raw.get("response_type") {
        None => Err(OAuthError::invalid_request("response_type is required.")),
        Some("code") if client.allows_grant(GRANT_AUTHORIZATION_CODE) => Ok(()),
        Some("code") => Err(OAuthError::unauthorized_client(
            "This application may not use the authorization code flow.",
        )),
        Some(_) => Err(OAuthError::new(
            "unsupported_response_type",
            "Only response_type=code is supported.",
        )),
    }
}

/// RFC 6749 §3.3: known scopes are kept, unknown ones dropped; `openid` is required.
pub fn check_scope(raw: &RawParams) -> Result<Vec<String>, OAuthError> {
    let requested = raw.get("scope").unwrap_or_default();
    let mut scopes: Vec<String> = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if SUPPORTED_SCOPES.contains(&s) && !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_string());
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::invalid_scope("The openid scope is required."));
    }
    Ok(scopes)
}

/// The admin API permissions asked as scopes that the client may use for a
/// signed-in user (`delegatedPermissions`); others are dropped like any
/// unknown scope. The token carries them in `scope`; the admin API bounds
/// them by the user's role.
pub fn delegated_scopes(raw: &RawParams, client: &Client) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.get("scope").unwrap_or_default().split(' ') {
        if client.delegated_permissions.iter().any(|p| p == s) && !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// OIDC Core §3.1.2.1 `prompt`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
    pub select_account: bool,
}

/// `prompt` values are known; `none` stands alone.
pub fn check_prompt(raw: &RawParams) -> Result<Prompt, OAuthError> {
    let mut p = Prompt::default();
    for v in raw
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        match v {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            "select_account" => p.select_account = true,
            _ => {
                return Err(OAuthError::invalid_request(format!(
                    "Unsupported prompt value {v}."
                )));
            }
        }
    }
    if p.none && (p.login || p.consent || p.select_account) {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values.",
        ));
    }
    Ok(p)
}

/// `max_age` is a non-negative number of seconds.
pub fn check_max_age(raw: &RawParams) -> Result<Option<i64>, OAuthError> {
    match raw.get("max_age") {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Some(n)),
            _ => Err(OAuthError::invalid_request(
                "max_age must be a non-negative integer.",
            )),
        },
    }
}

/// OIDC Core §5.5: `claims` is a JSON object whose members are `id_token` / `userinfo` objects.
pub fn check_claims(raw: &RawParams) -> Result<Option<serde_json::Value>, OAuthError> {
    let Some(text) = raw.get("claims") else {
        return Ok(None);
    };
    let bad = || {
        OAuthError::invalid_request(
            "claims must be a JSON object with id_token and/or userinfo objects.",
        )
    };
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
    let obj = v.as_object().ok_or_else(bad)?;
    for (k, member) in obj {
        if (k == "id_token" || k == "userinfo") && !member.is_object() {
            return Err(bad());
        }
    }
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawParams {
        RawParams::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn scope_requires_openid_and_drops_unknown() {
        assert_eq!(
            check_scope(&raw(&[("scope", "openid email bogus")])).ok(),
            Some(vec!["openid".to_string(), "email".to_string()])
        );
        assert_eq!(
            check_scope(&raw(&[("scope", "email")]))
                .err()
                .map(|e| e.code),
            Some("invalid_scope")
        );
        assert_eq!(
            check_scope(&raw(&[])).err().map(|e| e.code),
            Some("invalid_scope")
        );
    }

    #[test]
    fn prompt_rules() {
        assert!(check_prompt(&raw(&[("prompt", "login consent")])).is_ok());
        assert!(check_prompt(&raw(&[("prompt", "none login")])).is_err());
        assert!(check_prompt(&raw(&[("prompt", "bogus")])).is_err());
        assert_eq!(
            check_prompt(&raw(&[("prompt", "none")]))
                .ok()
                .map(|p| p.none),
            Some(true)
        );
    }

    #[test]
    fn max_age_and_claims() {
        assert_eq!(check_max_age(&raw(&[("max_age", "0")])).ok(), Some(Some(0)));
        assert!(check_max_age(&raw(&[("max_age", "-1")])).is_err());
        assert!(check_max_age(&raw(&[("max_age", "ten")])).is_err());
        assert!(check_claims(&raw(&[("claims", "{\"id_token\":{\"email\":null}}")])).is_ok());
        assert!(check_claims(&raw(&[("claims", "[1]")])).is_err());
        assert!(check_claims(&raw(&[("claims", "{\"id_token\":3}")])).is_err());
        assert!(check_claims(&raw(&[("claims", "{not json")])).is_err());
    }
}
