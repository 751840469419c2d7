//! The token endpoint (RFC 6749 §3.2): authenticate the client, then one
//! handler per `grant_type` (fosite's split).

mod authorization_code;
mod client_auth;
mod client_credentials;
mod issue;
mod refresh_token;

pub use authorization_code::check_pkce_verifier;
pub use client_auth::{ClientCredentials, parse_basic};
pub use issue::TokenResponse;

use crate::Provider;
use crate::authorize::RawParams;
use crate::error::OAuthError;

/// The form body of a token, introspection or revocation request: the same
/// parameter rules as the authorization request (empty = absent, no repeats).
#[derive(Debug, Default)]
pub struct TokenForm {
    params: RawParams,
}

impl TokenForm {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self {
            params: RawParams::new(pairs),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name)
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required.")))
    }

    /// RFC 6749 §3.2: parameters MUST NOT be included more than once.
    pub fn reject_repeated(&self) -> Result<(), OAuthError> {
        match self.params.first_repeated() {
            Some(k) => Err(OAuthError::invalid_request(format!(
                "The parameter {k} is repeated."
            ))),
            None => Ok(()),
        }
    }

    /// The client credentials carried in the body, merged with the Basic header.
    pub fn credentials(&self, basic: Option<(String, String)>) -> ClientCredentials {
        ClientCredentials {
            basic,
            form_client_id: self.get("client_id").map(str::to_string),
            form_client_secret: self.get("client_secret").map(str::to_string),
            has_assertion: self.get("client_assertion").is_some()
                || self.get("client_assertion_type").is_some(),
        }
    }
}

impl Provider {
    /// POST `/token`.
    pub async fn token(
        &self,
        form: TokenForm,
        basic: Option<(String, String)>,
        ctx: &crate::signin_log::RequestContext,
    ) -> Result<TokenResponse, OAuthError> {
        form.reject_repeated()?;
        let grant_type = form.require("grant_type")?.to_string();
        let client = self.authenticate_client(&form.credentials(basic)).await?;
        match grant_type.as_str() {
            "authorization_code" => self.grant_authorization_code(&client, &form).await,
            "refresh_token" => self.grant_refresh_token(&client, &form, ctx).await,
            "client_credentials" => self.grant_client_credentials(&client, &form).await,
            _ => Err(OAuthError::new(
                "unsupported_grant_type",
                "This grant_type is not supported.",
            )),
        }
    }
}
