//! The discovery document (OpenID Connect Discovery 1.0 §3, RFC 8414).

use crate::Provider;
use crate::claims::{SUPPORTED_CLAIMS, SUPPORTED_SCOPES};
use bytes::Bytes;
use serde_json::{Value, json};

impl Provider {
    /// The discovery document as served: it depends only on the
    /// configuration, so it is serialized once per process.
    pub fn discovery_bytes(&self) -> Bytes {
        self.discovery_document
            .get_or_init(|| Bytes::from(self.discovery().to_string()))
            .clone()
    }

    pub fn discovery(&self) -> Value {
        let e = |p: &str| self.config.endpoint(p);
        let algs: Vec<&str> = self
            .config
            .signing_algs
            .iter()
            .map(|a| a.as_str())
            .collect();
        json!({
            "issuer": self.config.issuer,
            "authorization_endpoint": e("/authorize"),
            "token_endpoint": e("/token"),
            "userinfo_endpoint": e("/userinfo"),
            "jwks_uri": e("/jwks"),
            "introspection_endpoint": e("/introspect"),
            "revocation_endpoint": e("/revoke"),
            "end_session_endpoint": e("/logout"),
            "scopes_supported": SUPPORTED_SCOPES,
            "claims_supported": SUPPORTED_CLAIMS,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": algs,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "claims_parameter_supported": true,
            "acr_values_supported": [portico_policy::ACR_SFA, portico_policy::ACR_MFA],
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
            "userinfo_signing_alg_values_supported": [],
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
        })
    }
}
