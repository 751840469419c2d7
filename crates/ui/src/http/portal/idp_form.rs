//! The identity-provider form, shared by the add form (list page) and the
//! edit form (IdP page): the fields as typed, and how they become the
//! federation crate's input. Domains and scopes are typed in one field each,
//! separated by spaces or commas. The client secret is never put back into
//! a page: on the edit form a blank secret keeps the stored one.

use portico_federation::{
    ClaimsMapping, FederationError, IdentityProvider, IdpInput, IdpPatch, MfaTrustInput,
};
use serde::Deserialize;

/// The freshness the add form proposes.
const DEFAULT_TRUST_MINUTES: i64 = 10;

#[derive(Deserialize, Default)]
pub struct IdpForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub client_id: String,
    /// Write-only: read from the form, never rendered.
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub domains: String,
    #[serde(default)]
    pub scopes: String,
    #[serde(default)]
    pub claim_email: String,
    #[serde(default)]
    pub claim_email_verified: String,
    #[serde(default)]
    pub claim_display_name: String,
    /// `mfaTrust.amrValues`, separated like the domains.
    #[serde(default)]
    pub mfa_trust_amr: String,
    /// `mfaTrust.acrValues`.
    #[serde(default)]
    pub mfa_trust_acr: String,
    /// `mfaTrust.maxAgeMinutes`, as typed.
    #[serde(default)]
    pub mfa_trust_max_age: String,
    /// A checkbox: present ("on") when ticked, absent otherwise.
    pub enabled: Option<String>,
    /// The Enable/Disable buttons send only this ("true"/"false"), and
    /// then nothing else changes.
    pub set_enabled: Option<String>,
}

/// `"a.example, b.example c.example"` → three items.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' ', '\t', '\r', '\n'])
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// A blank field stands for the standard claim.
fn claim(v: &str, standard: String) -> String {
    match v.trim() {
        "" => standard,
        v => v.to_string(),
    }
}

impl IdpForm {
    /// The add form as first shown: enabled, the default scopes.
    pub fn blank() -> Self {
        IdpForm {
            scopes: "openid profile email".into(),
            enabled: Some("on".into()),
            mfa_trust_max_age: DEFAULT_TRUST_MINUTES.to_string(),
            ..Self::claims(&ClaimsMapping::default())
        }
    }

    fn claims(m: &ClaimsMapping) -> Self {
        IdpForm {
            claim_email: m.email.clone(),
            claim_email_verified: m.email_verified.clone(),
            claim_display_name: m.display_name.clone(),
            ..Default::default()
        }
    }

    /// The edit form with the stored values (the secret stays blank).
    pub fn from_idp(i: &IdentityProvider) -> Self {
        IdpForm {
            display_name: i.display_name.clone(),
            issuer: i.issuer.clone(),
            client_id: i.client_id.clone(),
            domains: i.domains.join(" "),
            scopes: i.scopes.join(" "),
            enabled: i.enabled.then(|| "on".into()),
            mfa_trust_amr: i
                .mfa_trust
                .as_ref()
                .map(|t| t.amr_values.join(", "))
                .unwrap_or_default(),
            mfa_trust_acr: i
                .mfa_trust
                .as_ref()
                .map(|t| t.acr_values.join(" "))
                .unwrap_or_default(),
            mfa_trust_max_age: i
                .mfa_trust
                .as_ref()
                .map_or(DEFAULT_TRUST_MINUTES, |t| t.max_age_minutes)
                .to_string(),
            ..Self::claims(&i.claims_mapping)
        }
    }

    /// What to show again after a refusal: everything typed but the secret.
    pub fn without_secret(mut self) -> Self {
        self.client_secret.clear();
        self.csrf.clear();
        self
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.is_some()
    }

    fn claims_mapping(&self) -> ClaimsMapping {
        let d = ClaimsMapping::default();
        ClaimsMapping {
            email: claim(&self.claim_email, d.email),
            email_verified: claim(&self.claim_email_verified, d.email_verified),
            display_name: claim(&self.claim_display_name, d.display_name),
        }
    }

    /// `mfaTrust` from its three fields: `None` when no value is typed (the
    /// freshness alone trusts nothing); a freshness that is not a number is
    /// left out, and the federation crate says it is missing.
    fn mfa_trust(&self) -> Option<MfaTrustInput> {
        let amr = split_list(&self.mfa_trust_amr);
        let acr = split_list(&self.mfa_trust_acr);
        if amr.is_empty() && acr.is_empty() {
            return None;
        }
        Some(MfaTrustInput {
            amr_values: Some(amr),
            acr_values: Some(acr),
            max_age_minutes: self.mfa_trust_max_age.trim().parse().ok(),
        })
    }

    pub fn to_input(&self) -> IdpInput {
        let scopes = split_list(&self.scopes);
        IdpInput {
            display_name: Some(self.display_name.clone()),
            kind: None,
            issuer: Some(self.issuer.clone()),
            client_id: Some(self.client_id.clone()),
            client_secret: Some(self.client_secret.clone()),
            scopes: (!scopes.is_empty()).then_some(scopes),
            domains: Some(split_list(&self.domains)),
            claims_mapping: Some(self.claims_mapping()),
            enabled: Some(self.is_enabled()),
            mfa_trust: self.mfa_trust(),
        }
    }

    /// Every field of the edit form; the secret only when one was typed.
    pub fn to_patch(&self) -> IdpPatch {
        if let Some(v) = &self.set_enabled {
            return IdpPatch {
                enabled: Some(v == "true"),
                ..Default::default()
            };
        }
        let secret = self.client_secret.trim();
        IdpPatch {
            display_name: Some(self.display_name.clone()),
            issuer: Some(self.issuer.clone()),
            client_id: Some(self.client_id.clone()),
            client_secret: (!secret.is_empty()).then(|| self.client_secret.clone()),
            scopes: Some(split_list(&self.scopes)),
            domains: Some(split_list(&self.domains)),
            claims_mapping: Some(self.claims_mapping()),
            enabled: Some(self.is_enabled()),
            mfa_trust: Some(self.mfa_trust()),
        }
    }
}

/// The federation crate names fields as the API does (`clientId: is
/// required`); the page names them as its labels do.
pub fn message(e: &str) -> String {
    let Some((field, why)) = e.split_once(": ") else {
        return e.to_string();
    };
    let label = match field {
        "displayName" => "Name",
        "issuer" => "Issuer",
        "clientId" => "Client ID",
        "clientSecret" => "Client secret",
        "domains" => "Domains",
        "scopes" => "Scopes",
        "claimsMapping.email" => "Email claim",
        "claimsMapping.emailVerified" => "Email-verified claim",
        "claimsMapping.displayName" => "Name claim",
        "mfaTrust.amrValues" => "Trusted amr values",
        "mfaTrust.acrValues" => "Trusted acr values",
        "mfaTrust.maxAgeMinutes" => "Freshness (minutes)",
        _ => return e.to_string(),
    };
    format!("{label}: {why}")
}

/// A refusal the admin can fix in the form: its status and message.
pub fn refusal(e: &FederationError) -> Option<(axum::http::StatusCode, String)> {
    use axum::http::StatusCode;
    match e {
        FederationError::Invalid(m) => Some((StatusCode::BAD_REQUEST, message(m))),
        FederationError::Conflict(m) => Some((StatusCode::CONFLICT, message(m))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_spaces_and_lines() {
        assert_eq!(
            split_list(" a.example,b.example  c.example\r\nd.example, "),
            ["a.example", "b.example", "c.example", "d.example"]
        );
        assert!(split_list(" , ").is_empty());
    }

    #[test]
    fn messages_use_the_form_labels() {
        assert_eq!(message("clientId: is required"), "Client ID: is required");
        assert_eq!(message("no field here"), "no field here");
        assert_eq!(message("other: x"), "other: x");
    }

    #[test]
    fn a_blank_secret_keeps_the_stored_one() {
        let form = IdpForm {
            display_name: "F".into(),
            scopes: "openid".into(),
            client_secret: "  ".into(),
            ..Default::default()
        };
        assert!(form.to_patch().client_secret.is_none());
        let toggle = IdpForm {
            set_enabled: Some("false".into()),
            ..Default::default()
        };
        let p = toggle.to_patch();
        assert_eq!(p.enabled, Some(false));
        assert!(p.display_name.is_none() && p.domains.is_none());
    }

    #[test]
    fn mfa_trust_fields_become_the_input() {
        let form = IdpForm {
            mfa_trust_amr: "mfa, hwk".into(),
            mfa_trust_max_age: " 15 ".into(),
            ..Default::default()
        };
        let t = form.to_input().mfa_trust.unwrap_or_default();
        assert_eq!(
            t.amr_values,
            Some(vec!["mfa".to_string(), "hwk".to_string()])
        );
        assert_eq!(t.max_age_minutes, Some(15));
        let blank = IdpForm {
            mfa_trust_max_age: "10".into(),
            ..Default::default()
        };
        assert_eq!(
            blank.to_patch().mfa_trust,
            Some(None),
            "blank values remove it"
        );
        assert_eq!(
            message("mfaTrust.maxAgeMinutes: must be a number"),
            "Freshness (minutes): must be a number"
        );
    }

    #[test]
    fn blank_claims_are_the_standard_ones() {
        let input = IdpForm::default().to_input();
        assert_eq!(input.claims_mapping, Some(ClaimsMapping::default()));
        assert!(input.scopes.is_none(), "the default scopes apply");
    }
}
