//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). Rules:
//! - `post_logout_redirect_uri` is honoured only when it exactly matches one
//!   registered for the client named by `id_token_hint` (its `aud`) or
//!   `client_id`; otherwise an error page, never a redirect (§3);
//! - `id_token_hint` must be an ID token of ours (expiry is fine) and agree with
//!   `client_id`;
//! - with a valid hint for the signed-in user the session ends at once;
//!   without one the user confirms on a page (a stray link cannot sign them out);
//! - the redirect carries `state` back.

use crate::Provider;
use crate::authorize::RawParams;
use crate::error::PageError;
use crate::model::Client;
use serde_json::Value;

#[derive(Debug)]
pub enum LogoutOutcome {
    /// Session ended (if any); send the browser here, or show "signed out" when `None`.
    Done { redirect: Option<String> },
    /// Ask the user to confirm; the page posts these back to `/logout/confirm`.
    Confirm {
        client_name: Option<String>,
        hidden: Vec<(String, String)>,
    },
}

pub struct LogoutRequest {
    client: Option<Client>,
    redirect: Option<String>,
    hint_sub: Option<String>,
    hidden: Vec<(String, String)>,
}

impl Provider {
    async fn validate_logout(&self, raw: &RawParams) -> Result<LogoutRequest, PageError> {
        if let Some(name) = raw.first_repeated() {
            return Err(PageError::new(
                "invalid_request",
                format!("The parameter {name} is repeated."),
            ));
        }
        let mut client_id = raw.get("client_id").map(str::to_string);
        let mut hint_sub = None;
        if let Some(hint) = raw.get("id_token_hint") {
            let claims = self
                .verify_own_jwt(hint, Some("JWT"), true)
                .await
                .map_err(|_| {
                    PageError::new(
                        "invalid_id_token_hint",
                        "The sign-out request carries an invalid ID token.",
                    )
                })?;
            let aud = match claims.get("aud") {
                Some(Value::String(a)) => Some(a.clone()),
                Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(str::to_string),
                _ => None,
            };
            if client_id.is_some() && aud.is_some() && client_id != aud {
                return Err(PageError::new(
                    "invalid_request",
                    "client_id does not match the ID token.",
                ));
            }
            client_id = client_id.or(aud);
            hint_sub = claims
                .get("sub")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        let client = match &client_id {
            Some(id) => Some(self.store.find_client(id).await?.ok_or_else(|| {
                PageError::new("invalid_client", "This application is not registered here.")
            })?),
            None => None,
        };
        let redirect = match raw.get("post_logout_redirect_uri") {
            None => None,
            Some(uri) => {
                let ok = client
                    .as_ref()
                    .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri));
                if !ok {
                    return Err(PageError::new(
                        "invalid_post_logout_redirect_uri",
                        "The address to return to after sign-out is not registered for this application.",
                    ));
                }
                let mut url = uri.to_string();
                if let Some(state) = raw.get("state") {
                    let q = serde_urlencoded::to_string([("state", state)]).unwrap_or_default();
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str(&q);
                }
                Some(url)
            }
        };
        let mut hidden = Vec::new();
        for k in ["client_id", "post_logout_redirect_uri", "state"] {
            let v = if k == "client_id" {
                client_id.as_deref()
            } else {
                raw.get(k)
            };
            if let Some(v) = v {
                hidden.push((k.to_string(), v.to_string()));
            }
        }
        Ok(LogoutRequest {
            client,
            redirect,
            hint_sub,
            hidden,
        })
    }

    /// GET/POST `/logout`; `confirmed` is true for the confirmation form's POST.
    pub async fn logout(
        &self,
        raw: RawParams,
        session_token: Option<&str>,
        confirmed: bool,
    ) -> Result<LogoutOutcome, PageError> {
        let req = self.validate_logout(&raw).await?;
        let session = self.current_session(session_token).await?;
        let Some(session) = session else {
            return Ok(LogoutOutcome::Done {
                redirect: req.redirect,
            });
        };
        let hinted_self =
            req.hint_sub.as_deref() == Some(session.auth.user_id.to_string().as_str());
        if !(confirmed || hinted_self) {
            return Ok(LogoutOutcome::Confirm {
                client_name: req.client.map(|c| c.display_name),
                hidden: req.hidden,
            });
        }
        self.store
            .end_session(&session.id_hash, self.clock.now())
            .await?;
        Ok(LogoutOutcome::Done {
            redirect: req.redirect,
        })
    }

    /// The CSRF token for the logout confirmation form, bound to the session cookie.
    pub fn logout_csrf(&self, session_token: &str) -> String {
        self.hasher.hash("logout-csrf", session_token)
    }
}
