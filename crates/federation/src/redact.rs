//! `Debug` for the types that hold an upstream client secret: every field
//! but the secret, which prints as `[redacted]` (logs and panics show the
//! rest, never the secret).

use crate::model::{IdentityProvider, IdpInput, IdpPatch};
use std::fmt::{Debug, Formatter, Result};

const REDACTED: &str = "[redacted]";

/// `[redacted]` for a secret that is set, `None` for one that is not.
fn redacted(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| REDACTED)
}

impl Debug for IdentityProvider {
    fn fmt(&self, f: &mut Formatter<'_>) -> Result {
        f.debug_struct("IdentityProvider")
            .field("id", &self.id)
            .field("display_name", &self.display_name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &REDACTED)
            .field("scopes", &self.scopes)
            .field("domains", &self.domains)
            .field("claims_mapping", &self.claims_mapping)
            .field("enabled", &self.enabled)
            .field("mfa_trust", &self.mfa_trust)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

impl Debug for IdpInput {
    fn fmt(&self, f: &mut Formatter<'_>) -> Result {
        f.debug_struct("IdpInput")
            .field("display_name", &self.display_name)
            .field("kind", &self.kind)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("scopes", &self.scopes)
            .field("domains", &self.domains)
            .field("claims_mapping", &self.claims_mapping)
            .field("enabled", &self.enabled)
            .field("mfa_trust", &self.mfa_trust)
            .finish()
    }
}

impl Debug for IdpPatch {
    fn fmt(&self, f: &mut Formatter<'_>) -> Result {
        f.debug_struct("IdpPatch")
            .field("display_name", &self.display_name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(&self.client_secret))
            .field("scopes", &self.scopes)
            .field("domains", &self.domains)
            .field("claims_mapping", &self.claims_mapping)
            .field("enabled", &self.enabled)
            .field("mfa_trust", &self.mfa_trust)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "upstream-client-secret-123";

    #[test]
    fn debug_of_an_idp_its_input_and_its_patch_hides_the_client_secret() {
        let input: IdpInput = serde_json::from_value(serde_json::json!({
            "displayName": "Fabrikam",
            "issuer": "https://login.fabrikam.example",
            "clientId": "portico",
            "clientSecret": SECRET,
            "domains": ["fabrikam.example"],
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{input:?}");
        assert!(
            !shown.contains(SECRET) && shown.contains("[redacted]"),
            "{shown}"
        );
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let idp = input.validate(now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(idp.client_secret, SECRET);
        let shown = format!("{idp:?} {idp:#?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("https://login.fabrikam.example"));
        let patch: IdpPatch = serde_json::from_value(serde_json::json!({"clientSecret": SECRET}))
            .unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{patch:?}");
        assert!(
            !shown.contains(SECRET) && shown.contains("[redacted]"),
            "{shown}"
        );
    }
}
