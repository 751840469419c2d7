//! Trusted identity providers, the flows that sign in through them, and what
//! a flow proves about the person who came back.

use crate::error::FederationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

/// The only kind of IdP for now (Graph's `identityProvider` `type`).
pub const TYPE_OPENID_CONNECT: &str = "OpenIdConnect";
const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// Which upstream claim carries each attribute Portico reads. The subject is
/// always `sub`: a guest is keyed by (issuer, `sub`), which the issuer
/// promises never to reassign (OIDC Core §2), unlike an email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimsMapping {
    #[serde(default = "default_email")]
    pub email: String,
    #[serde(default = "default_email_verified")]
    pub email_verified: String,
    #[serde(default = "default_display_name")]
    pub display_name: String,
}

fn default_email() -> String {
    "email".into()
}
fn default_email_verified() -> String {
    "email_verified".into()
}
fn default_display_name() -> String {
    "name".into()
}

impl Default for ClaimsMapping {
    fn default() -> Self {
        Self {
            email: default_email(),
            email_verified: default_email_verified(),
            display_name: default_display_name(),
        }
    }
}

/// A trusted upstream OpenID provider, as admins configure it. `Debug`
/// prints the client secret as `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityProvider {
    pub id: Uuid,
    pub display_name: String,
    /// The issuer identifier; discovery is `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Needed to authenticate at the upstream token endpoint, so it is kept
    /// (never returned by the API or shown in the portal).
    pub client_secret: String,
    pub scopes: Vec<String>,
    /// Email domains whose users this IdP signs in (home-realm discovery).
    pub domains: Vec<String>,
    pub claims_mapping: ClaimsMapping,
    pub enabled: bool,
    /// Which of this IdP's own `amr`/`acr` assertions count as MFA here;
    /// `None`: none do, and the policy asks for a local second factor.
    pub mfa_trust: Option<MfaTrust>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl IdentityProvider {
    /// What the audit log records of an IdP: everything but the secret
    /// (only whether one is set).
    pub fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "displayName": self.display_name,
            "issuer": self.issuer,
            "clientId": self.client_id,
            "clientSecretSet": !self.client_secret.is_empty(),
            "scopes": self.scopes,
            "domains": self.domains,
            "enabled": self.enabled,
            "mfaTrust": self.mfa_trust,
        })
    }
}

/// `mfaTrust` on an IdP. The same JSON shape as `portico_policy::MfaTrust`,
/// which reads it back from storage (federation does not depend on policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaTrust {
    /// Any of these upstream `amr` values counts (RFC 8176: `mfa`, `hwk`, `otp`).
    pub amr_values: Vec<String>,
    /// Any of these upstream `acr` values counts.
    pub acr_values: Vec<String>,
    /// The upstream `auth_time` must be at most this old.
    pub max_age_minutes: i64,
}

/// `mfaTrust` as an admin submits it: every field checked by [`Self::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MfaTrustInput {
    pub amr_values: Option<Vec<String>>,
    pub acr_values: Option<Vec<String>>,
    pub max_age_minutes: Option<i64>,
}

/// At most this many values per list, each at most this long.
const TRUST_MAX_VALUES: usize = 20;
const TRUST_MAX_LEN: usize = 256;

fn validate_trust_values(field: &str, raw: Vec<String>) -> Result<Vec<String>, FederationError> {
    let mut out: Vec<String> = Vec::new();
    for v in raw {
        let v = v.trim();
        if v.is_empty() {
            return Err(invalid(field, "values must not be empty"));
        }
        if v.chars().count() > TRUST_MAX_LEN || v.chars().any(char::is_control) {
            return Err(invalid(
                field,
                format!("values must be at most {TRUST_MAX_LEN} printable characters"),
            ));
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    if out.len() > TRUST_MAX_VALUES {
        return Err(invalid(field, format!("at most {TRUST_MAX_VALUES} values")));
    }
    Ok(out)
}

impl MfaTrustInput {
    pub fn validate(self) -> Result<MfaTrust, FederationError> {
        let amr_values =
            validate_trust_values("mfaTrust.amrValues", self.amr_values.unwrap_or_default())?;
        let acr_values =
            validate_trust_values("mfaTrust.acrValues", self.acr_values.unwrap_or_default())?;
        if amr_values.is_empty() && acr_values.is_empty() {
            return Err(invalid(
                "mfaTrust.amrValues",
                "name at least one amr or acr value (mfaTrust.acrValues) to trust",
            ));
        }
        let max_age_minutes = match self.max_age_minutes {
            Some(m) if (1..=1440).contains(&m) => m,
            _ => {
                return Err(invalid(
                    "mfaTrust.maxAgeMinutes",
                    "must be a number of minutes from 1 to 1440",
                ));
            }
        };
        Ok(MfaTrust {
            amr_values,
            acr_values,
            max_age_minutes,
        })
    }
}

/// `null` (remove) told apart from absent (keep) in a PATCH body.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// What an admin submits to create an IdP. Unknown fields are refused: a
/// misspelt `domain` must be an error, not an IdP that silently serves nothing.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdpInput {
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub domains: Option<Vec<String>>,
    pub claims_mapping: Option<ClaimsMapping>,
    pub enabled: Option<bool>,
    pub mfa_trust: Option<MfaTrustInput>,
}

/// What an admin may change; absent fields stay as they are.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdpPatch {
    pub display_name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub domains: Option<Vec<String>>,
    pub claims_mapping: Option<ClaimsMapping>,
    pub enabled: Option<bool>,
    /// Absent: unchanged; `null`: removed.
    #[serde(default, deserialize_with = "present")]
    pub mfa_trust: Option<Option<MfaTrustInput>>,
}

fn invalid(field: &str, why: impl std::fmt::Display) -> FederationError {
    FederationError::Invalid(format!("{field}: {why}"))
}

fn required(field: &str, v: Option<String>) -> Result<String, FederationError> {
    let v = v.map(|s| s.trim().to_string()).unwrap_or_default();
    if v.is_empty() {
        return Err(invalid(field, "is required"));
    }
    Ok(v)
}

/// An issuer must be an https URL without query or fragment (OIDC Discovery
/// §2); plain http is accepted only on loopback, for local IdPs and tests.
pub fn validate_issuer(raw: &str) -> Result<String, FederationError> {
    let raw = raw.trim();
    let url = Url::parse(raw).map_err(|e| invalid("issuer", format!("not a URL ({e})")))?;
    let loopback = matches!(
        url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(invalid("issuer", "must be an https URL")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("issuer", "must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("issuer", "must not carry credentials"));
    }
    // Kept exactly as typed (minus surrounding spaces): `iss` is compared
    // byte for byte, and some issuers end in `/` while others do not.
    Ok(raw.to_string())
}

/// A domain: lowercase labels of letters, digits and hyphens, at least two.
pub fn validate_domain(raw: &str) -> Result<String, FederationError> {
    let d = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = d.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if d.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(invalid(
            "domains",
            format!("'{}' is not a domain name", raw.trim()),
        ));
    }
    Ok(d)
}

fn validate_domains(raw: Vec<String>) -> Result<Vec<String>, FederationError> {
    let mut out: Vec<String> = Vec::new();
    for d in raw {
        let d = validate_domain(&d)?;
        if !out.contains(&d) {
            out.push(d);
        }
    }
    // Stored as a set: keep one order everywhere.
    out.sort();
    Ok(out)
}

fn validate_scopes(raw: Vec<String>) -> Result<Vec<String>, FederationError> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.iter().flat_map(|s| s.split_whitespace()) {
        if !s
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(invalid("scopes", format!("'{s}' is not a scope token")));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    if !out.iter().any(|s| s == "openid") {
        return Err(invalid("scopes", "must include openid"));
    }
    Ok(out)
}

fn validate_mapping(m: ClaimsMapping) -> Result<ClaimsMapping, FederationError> {
    for (field, v) in [
        ("claimsMapping.email", &m.email),
        ("claimsMapping.emailVerified", &m.email_verified),
        ("claimsMapping.displayName", &m.display_name),
    ] {
        if v.trim().is_empty() || v.len() > 100 {
            return Err(invalid(field, "must name a claim"));
        }
    }
    Ok(m)
}

fn validate_name(v: String) -> Result<String, FederationError> {
    let v = v.trim().to_string();
    if v.is_empty() || v.chars().count() > 120 {
        return Err(invalid("displayName", "must be 1 to 120 characters"));
    }
    Ok(v)
}

impl IdpInput {
    /// Checks every field and builds the IdP (not yet stored).
    pub fn validate(self, now: DateTime<Utc>) -> Result<IdentityProvider, FederationError> {
        let kind = self.kind.unwrap_or_else(|| TYPE_OPENID_CONNECT.into());
        if kind != TYPE_OPENID_CONNECT {
            return Err(invalid("type", format!("must be '{TYPE_OPENID_CONNECT}'")));
        }
        let issuer = validate_issuer(&required("issuer", self.issuer)?)?;
        let scopes = match self.scopes {
            Some(s) => validate_scopes(s)?,
            None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        };
        Ok(IdentityProvider {
            id: Uuid::now_v7(),
            display_name: validate_name(required("displayName", self.display_name)?)?,
            issuer,
            client_id: required("clientId", self.client_id)?,
            client_secret: required("clientSecret", self.client_secret)?,
            scopes,
            domains: validate_domains(self.domains.unwrap_or_default())?,
            claims_mapping: validate_mapping(self.claims_mapping.unwrap_or_default())?,
            enabled: self.enabled.unwrap_or(true),
            mfa_trust: self.mfa_trust.map(MfaTrustInput::validate).transpose()?,
            created_at: now,
            updated_at: now,
        })
    }
}

impl IdpPatch {
    /// The IdP with this patch applied, every changed field checked.
    ///
    /// A new issuer (and so new endpoints, found by discovery) needs the
    /// client secret entered again in the same patch: otherwise whoever can
    /// edit IdPs could point the stored secret at a host they control and
    /// collect it from the token request.
    pub fn apply(
        self,
        idp: &IdentityProvider,
        now: DateTime<Utc>,
    ) -> Result<IdentityProvider, FederationError> {
        let mut out = idp.clone();
        if let Some(v) = self.display_name {
            out.display_name = validate_name(v)?;
        }
        if let Some(v) = self.issuer {
            out.issuer = validate_issuer(&v)?;
            let secret_given = self
                .client_secret
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty());
            if out.issuer != idp.issuer && !secret_given {
                return Err(invalid(
                    "clientSecret",
                    "must be entered again when the issuer changes (the stored secret is never sent to a new issuer)",
                ));
            }
        }
        if let Some(v) = self.client_id {
            out.client_id = required("clientId", Some(v))?;
        }
        if let Some(v) = self.client_secret {
            out.client_secret = required("clientSecret", Some(v))?;
        }
        if let Some(v) = self.scopes {
            out.scopes = validate_scopes(v)?;
        }
        if let Some(v) = self.domains {
            out.domains = validate_domains(v)?;
        }
        if let Some(v) = self.claims_mapping {
            out.claims_mapping = validate_mapping(v)?;
        }
        if let Some(v) = self.enabled {
            out.enabled = v;
        }
        if let Some(v) = self.mfa_trust {
            out.mfa_trust = v.map(MfaTrustInput::validate).transpose()?;
        }
        out.updated_at = now;
        Ok(out)
    }
}

/// What the browser was doing when it left for the upstream IdP, and so
/// where it continues when it comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FlowPurpose {
    /// Signing in to an app: the interaction to finish, and what the app
    /// asked of the authentication, forwarded to the IdP.
    #[serde(rename_all = "camelCase")]
    SignIn {
        interaction_id: String,
        #[serde(default)]
        forwarded: Forwarded,
    },
    /// Redeeming an invitation: the link generation the flow started from
    /// (a resend meanwhile makes the flow useless).
    #[serde(rename_all = "camelCase")]
    Redeem {
        invitation_id: Uuid,
        link_generation: i32,
    },
}

/// The app's `acr_values`, `max_age` and `prompt=login`, sent on in the
/// upstream authorization request (OIDC Core §3.1.2.1). The flow keeps them
/// so the callback can hold the IdP's answer to them: with a `max_age`, an
/// ID token without a recent enough `auth_time` is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Forwarded {
    /// Space-separated, as the app sent it.
    pub acr_values: Option<String>,
    /// Seconds.
    pub max_age: Option<i64>,
    pub prompt_login: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FlowStatus {
    /// Waiting for the browser to come back to the callback.
    Pending,
    /// The callback consumed the `state`; exchanging the code now, or that failed.
    Returned,
    /// The upstream identity is verified and waiting for the continuation.
    Completed,
    /// The continuation used the result; nothing more can be done with it.
    Claimed,
}

impl FlowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowStatus::Pending => "pending",
            FlowStatus::Returned => "returned",
            FlowStatus::Completed => "completed",
            FlowStatus::Claimed => "claimed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => FlowStatus::Pending,
            "returned" => FlowStatus::Returned,
            "completed" => FlowStatus::Completed,
            "claimed" => FlowStatus::Claimed,
            _ => return None,
        })
    }
}

/// One round trip to an upstream IdP. The `state` is stored as a keyed hash;
/// the nonce and PKCE verifier are needed in clear to finish, live at most
/// the flow's lifetime, and are never logged.
#[derive(Debug, Clone)]
pub struct FederationFlow {
    pub id: Uuid,
    pub state_hash: String,
    pub idp_id: Uuid,
    pub purpose: FlowPurpose,
    /// Keyed hash of the secret that binds the flow to the browser that
    /// started it (the interaction's or the redeem link's binding cookie).
    pub binding_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub status: FlowStatus,
    pub result: Option<UpstreamIdentity>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Who the upstream IdP says came back, after every check passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamIdentity {
    pub idp_id: Uuid,
    pub idp_name: String,
    /// The upstream `iss`: with `subject`, the guest's permanent key.
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// True only when the upstream explicitly asserted it (`email_verified: true`).
    pub email_verified: bool,
    pub display_name: Option<String>,
    /// The upstream's `amr`, if it sent one (RFC 8176).
    pub amr: Vec<String>,
    /// The upstream's `acr`, if it sent one.
    #[serde(default)]
    pub acr: Option<String>,
    pub auth_time: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn check_issuer(raw: &str, ok: bool) {
        assert_eq!(validate_issuer(raw).is_ok(), ok, "{raw}");
    }

    #[test]
    fn issuers() {
        check_issuer("https://login.fabrikam.example", true);
        check_issuer("https://login.fabrikam.example/tenant/v2.0/", true);
        check_issuer("http://127.0.0.1:8080", true);
        check_issuer("http://localhost:3000/oidc", true);
        check_issuer("http://fabrikam.example", false);
        check_issuer("ftp://fabrikam.example", false);
        check_issuer("https://fabrikam.example/?x=1", false);
        check_issuer("https://fabrikam.example/#f", false);
        check_issuer("https://u:p@fabrikam.example", false);
        check_issuer("fabrikam.example", false);
    }

    fn check_domain(raw: &str, expected: Option<&str>) {
        assert_eq!(validate_domain(raw).ok().as_deref(), expected, "{raw}");
    }

    #[test]
    fn domains() {
        check_domain("Fabrikam.Example", Some("fabrikam.example"));
        check_domain(" sub.fabrikam.example. ", Some("sub.fabrikam.example"));
        check_domain("xn--bcher-kva.example", Some("xn--bcher-kva.example"));
        check_domain("localhost", None);
        check_domain("-bad.example", None);
        check_domain("bad-.example", None);
        check_domain("a..example", None);
        check_domain("*.example", None);
        check_domain("a b.example", None);
        check_domain("alice@fabrikam.example", None);
    }

    fn input() -> IdpInput {
        serde_json::from_value(serde_json::json!({
            "displayName": "Fabrikam",
            "issuer": "https://login.fabrikam.example",
            "clientId": "contoso",
            "clientSecret": "s3cret",
            "domains": ["Fabrikam.example", "fabrikam.example"],
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn defaults_and_normalisation() {
        let idp = input().validate(now()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(idp.scopes, ["openid", "profile", "email"]);
        assert_eq!(idp.domains, ["fabrikam.example"]);
        assert_eq!(idp.claims_mapping, ClaimsMapping::default());
        assert!(idp.enabled);
    }

    fn check_input(change: impl FnOnce(&mut IdpInput), field: &str) {
        let mut i = input();
        change(&mut i);
        match i.validate(now()) {
            Err(FederationError::Invalid(m)) => assert!(m.starts_with(field), "{m}"),
            other => panic!("expected an error on {field}, got {other:?}"),
        }
    }

    #[test]
    fn invalid_inputs_name_their_field() {
        check_input(|i| i.kind = Some("Saml".into()), "type");
        check_input(|i| i.issuer = None, "issuer");
        check_input(
            |i| i.issuer = Some("http://fabrikam.example".into()),
            "issuer",
        );
        check_input(|i| i.client_id = Some("  ".into()), "clientId");
        check_input(|i| i.client_secret = None, "clientSecret");
        check_input(|i| i.display_name = None, "displayName");
        check_input(|i| i.scopes = Some(vec!["email".into()]), "scopes");
        check_input(|i| i.domains = Some(vec!["nodot".into()]), "domains");
        check_input(
            |i| {
                i.claims_mapping = Some(ClaimsMapping {
                    email: " ".into(),
                    ..ClaimsMapping::default()
                })
            },
            "claimsMapping.email",
        );
    }

    fn check_trust(trust: serde_json::Value, field: Option<&str>) {
        let mut body = serde_json::json!({
            "displayName": "Fabrikam",
            "issuer": "https://login.fabrikam.example",
            "clientId": "contoso",
            "clientSecret": "s3cret",
        });
        body["mfaTrust"] = trust.clone();
        let input: IdpInput = serde_json::from_value(body).unwrap_or_else(|e| panic!("{e}"));
        match (input.validate(now()), field) {
            (Ok(_), None) => {}
            (Err(e), Some(f)) => {
                assert!(e.to_string().starts_with(&format!("{f}: ")), "{trust}: {e}")
            }
            (r, f) => panic!("{trust}: expected {f:?}, got {r:?}"),
        }
    }

    #[test]
    fn mfa_trust_is_checked_field_by_field() {
        use serde_json::json;
        check_trust(
            json!({"amrValues": ["mfa", "hwk"], "maxAgeMinutes": 10}),
            None,
        );
        check_trust(
            json!({"acrValues": ["https://refeds.org/profile/mfa"], "maxAgeMinutes": 1440}),
            None,
        );
        check_trust(
            json!({"amrValues": [], "acrValues": [], "maxAgeMinutes": 10}),
            Some("mfaTrust.amrValues"),
        );
        check_trust(
            json!({"amrValues": [" "], "maxAgeMinutes": 10}),
            Some("mfaTrust.amrValues"),
        );
        check_trust(
            json!({"acrValues": ["x".repeat(257)], "maxAgeMinutes": 10}),
            Some("mfaTrust.acrValues"),
        );
        let many: Vec<String> = (0..21).map(|i| format!("v{i}")).collect();
        check_trust(
            json!({"amrValues": many, "maxAgeMinutes": 10}),
            Some("mfaTrust.amrValues"),
        );
        check_trust(
            json!({"amrValues": ["mfa"], "maxAgeMinutes": 0}),
            Some("mfaTrust.maxAgeMinutes"),
        );
        check_trust(
            json!({"amrValues": ["mfa"], "maxAgeMinutes": 1441}),
            Some("mfaTrust.maxAgeMinutes"),
        );
        check_trust(
            json!({"amrValues": ["mfa"]}),
            Some("mfaTrust.maxAgeMinutes"),
        );
    }

    #[test]
    fn a_null_mfa_trust_removes_it_and_an_absent_one_keeps_it() {
        let mut idp = input().validate(now()).unwrap_or_else(|e| panic!("{e}"));
        idp.mfa_trust = Some(MfaTrust {
            amr_values: vec!["mfa".into()],
            acr_values: vec![],
            max_age_minutes: 10,
        });
        let keep: IdpPatch = serde_json::from_value(serde_json::json!({"enabled": true}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            keep.apply(&idp, now())
                .unwrap_or_else(|e| panic!("{e}"))
                .mfa_trust
                .is_some()
        );
        let remove: IdpPatch = serde_json::from_value(serde_json::json!({"mfaTrust": null}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            remove
                .apply(&idp, now())
                .unwrap_or_else(|e| panic!("{e}"))
                .mfa_trust
                .is_none()
        );
    }

    #[test]
    fn a_new_issuer_needs_the_client_secret_again() {
        let idp = input().validate(now()).unwrap_or_else(|e| panic!("{e}"));
        let patch = |v: serde_json::Value| -> IdpPatch {
            serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
        };
        let err = patch(serde_json::json!({"issuer": "https://evil.example"}))
            .apply(&idp, now())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("clientSecret"), "{err}");
        let blank =
            patch(serde_json::json!({"issuer": "https://evil.example", "clientSecret": " "}));
        assert!(blank.apply(&idp, now()).is_err());
        // The same issuer (the portal form sends it back unchanged) needs nothing.
        let same = patch(serde_json::json!({"issuer": idp.issuer.clone(), "enabled": false}));
        assert!(same.apply(&idp, now()).is_ok());
        let moved = patch(serde_json::json!({"issuer": "https://login.new.example", "clientSecret": "new secret"}))
            .apply(&idp, now())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(moved.issuer, "https://login.new.example");
        assert_eq!(moved.client_secret, "new secret");
    }

    #[test]
    fn patch_changes_only_what_it_names() {
        let idp = input().validate(now()).unwrap_or_else(|e| panic!("{e}"));
        let patch: IdpPatch = serde_json::from_value(serde_json::json!({"enabled": false}))
            .unwrap_or_else(|e| panic!("{e}"));
        let out = patch.apply(&idp, now()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!out.enabled);
        assert_eq!(out.client_secret, idp.client_secret);
        assert_eq!(out.domains, idp.domains);
        let bad: Result<IdpPatch, _> = serde_json::from_value(serde_json::json!({"id": "x"}));
        assert!(bad.is_err(), "unknown fields are refused");
    }
}
