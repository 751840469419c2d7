//! The sign-in log: one record for every sign-in, written at the one place a
//! sign-in ends (success, denial, abort or failure of an interaction). The
//! authorization server owns the record and the trait; storage keeps the
//! records; the admin API and the portal read them.

use crate::store::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How a sign-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SignInResult {
    /// A code (or, for a redemption, a session) was issued.
    Success,
    /// The policy refused it (disabled account, no way to meet a requirement, …).
    Denied,
    /// The user cancelled or declined.
    Aborted,
    /// A step failed (wrong password, wrong code, lockout, upstream error, …).
    Failed,
}

impl SignInResult {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInResult::Success => "success",
            SignInResult::Denied => "denied",
            SignInResult::Aborted => "aborted",
            SignInResult::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(SignInResult::Success),
            "denied" => Some(SignInResult::Denied),
            "aborted" => Some(SignInResult::Aborted),
            "failed" => Some(SignInResult::Failed),
            _ => None,
        }
    }
}

/// One step the user performed in the interaction, as recorded by `finish_step`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The method: `password`, `emailCode`, `upstream`, `redemption`, `totp`,
    /// `recoveryCode`, `emailOtp`, `passkey`, `consent`.
    pub method: String,
    pub at: DateTime<Utc>,
    /// The RFC 8176 `amr` value the step contributes, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<String>,
}

impl StepRecord {
    /// The method as people name it (the admin API's
    /// `authenticationMethodsUsed`, the portal's sign-in log); `None` for
    /// steps that authenticate no one (consent, redemption). A method this
    /// list does not know yet is named by its code rather than hidden.
    pub fn method_name(&self) -> Option<&str> {
        Some(match self.method.as_str() {
            "password" => "Password",
            "emailCode" | "emailOtp" => "Email one-time passcode",
            "upstream" => "Federated identity provider",
            "totp" => "Authenticator app (TOTP)",
            "recoveryCode" => "Recovery code",
            "passkey" => "Passkey (WebAuthn)",
            "consent" | "redemption" => return None,
            other => other,
        })
    }
}

/// The `acr` of a sign-in that used a second factor (the REFEDS MFA profile).
pub use portico_policy::ACR_MFA;

/// One sign-in, as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRecord {
    /// Time-ordered (UUID v7): the paging key, newest first.
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub user_id: Option<Uuid>,
    /// The user's sign-in address, when the user is known.
    pub user_principal_name: Option<String>,
    pub user_display_name: Option<String>,
    /// The application's `client_id`.
    pub client_id: String,
    pub app_display_name: String,
    /// The home IdP's issuer, when a guest signed in there.
    pub home_idp: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub steps: Vec<StepRecord>,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub result: SignInResult,
    /// A stable reason code (`portico_policy::reason` codes, or the step's failure code).
    pub failure_reason: Option<String>,
    /// The sentence shown to the user, for the admin reading the log.
    pub failure_message: Option<String>,
    /// The request id shown on the page that ended the sign-in.
    pub correlation_id: String,
    /// The device platform the client claimed (`android`, `iOS`, …, `unknown`).
    #[serde(default)]
    pub platform: Option<String>,
    /// ISO 3166-1 alpha-2 of the IP address; `None`: unknown (no GeoIP database).
    #[serde(default)]
    pub country: Option<String>,
    /// Each conditional access policy's result (Graph's `appliedConditionalAccessPolicies`).
    #[serde(default)]
    pub applied_policies: Vec<AppliedPolicy>,
}

/// Graph's `appliedConditionalAccessPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedPolicy {
    pub id: String,
    pub display_name: String,
    /// `success`, `failure`, `notApplied`, `notEnabled`, `reportOnlySuccess`,
    /// `reportOnlyFailure`, `reportOnlyNotApplied`.
    pub result: String,
    /// `Block`, `Mfa` (what the policy asked, when it applied).
    pub enforced_grant_controls: Vec<String>,
}

impl SignInRecord {
    /// The names of the methods used ([`StepRecord::method_name`]), each
    /// once, in the order first used.
    pub fn methods_used(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for name in self.steps.iter().filter_map(StepRecord::method_name) {
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// Whether the sign-in met the multi-factor profile ([`ACR_MFA`]).
    pub fn is_multi_factor(&self) -> bool {
        self.acr.as_deref() == Some(ACR_MFA)
    }
}

/// Which records to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct SignInQuery {
    pub user_id: Option<Uuid>,
    pub client_id: Option<String>,
    pub result: Option<SignInResult>,
    /// Only sign-ins a conditional access policy applied to with this result.
    pub policy_result: Option<PolicyResultFilter>,
    /// Records older than this one (the page before ended here).
    pub before: Option<Uuid>,
    pub limit: u64,
}

/// Sign-ins to which a conditional access policy (this one, or any) applied
/// with `result`: one of [`INDEXED_POLICY_RESULTS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyResultFilter {
    pub policy_id: Option<String>,
    pub result: String,
}

/// The results of Graph's `appliedConditionalAccessPolicies` that mean the
/// policy applied; the log is indexed by these (a policy that did not apply,
/// or was off, is only in the record).
pub const INDEXED_POLICY_RESULTS: [&str; 4] = [
    "success",
    "failure",
    "reportOnlySuccess",
    "reportOnlyFailure",
];

#[async_trait]
pub trait SignInLog: Send + Sync {
    async fn record_sign_in(&self, record: &SignInRecord) -> StoreResult<()>;
    /// Newest first.
    async fn list_sign_ins(&self, query: &SignInQuery) -> StoreResult<Vec<SignInRecord>>;
    async fn find_sign_in(&self, id: Uuid) -> StoreResult<Option<SignInRecord>>;
}

/// Where a request came from, for the sign-in record and conditional access.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The client's address: the socket's peer, or what a trusted proxy
    /// forwarded ([`ClientOrigin`]).
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The device platform the client claims (User-Agent, `Sec-CH-UA-Platform`).
    pub platform: Option<portico_policy::conditional_access::Platform>,
    /// ISO 3166-1 alpha-2 of `ip`, when a GeoIP database is configured and knows it.
    pub country: Option<String>,
    /// The request id, shown on pages as the correlation id.
    pub correlation_id: String,
}

/// The client's address and country as the server resolved them (trusted
/// proxies' `Forwarded`/`X-Forwarded-For`, the GeoIP database): a request
/// extension the server's middleware sets; without it, the socket's peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOrigin {
    pub ip: std::net::IpAddr,
    pub country: Option<String>,
}

impl crate::Provider {
    /// A record of `i` ending with `result`, with what is known so far.
    pub(crate) async fn sign_in_record(
        &self,
        i: &crate::interaction::Interaction,
        result: SignInResult,
        ctx: &RequestContext,
    ) -> Result<SignInRecord, crate::error::PageError> {
        let client = self.store.find_client(&i.request.client_id).await?;
        let mut r = SignInRecord {
            id: Uuid::now_v7(),
            created_at: self.clock.now(),
            user_id: None,
            user_principal_name: None,
            user_display_name: None,
            client_id: i.request.client_id.clone(),
            app_display_name: client.map(|c| c.display_name).unwrap_or_default(),
            home_idp: None,
            ip_address: ctx.ip.clone(),
            user_agent: ctx
                .user_agent
                .as_ref()
                .map(|u| u.chars().take(512).collect()),
            steps: vec![],
            amr: vec![],
            acr: None,
            result,
            failure_reason: None,
            failure_message: None,
            correlation_id: ctx.correlation_id.chars().take(128).collect(),
            platform: i.origin.platform.map(|p| p.as_str().to_string()),
            country: i.origin.country.clone(),
            applied_policies: vec![],
        };
        if let Some(auth) = i.user() {
            if let Some(account) = self.store.find_account(auth.user_id).await? {
                let user_type = if account.user_type == "Guest" {
                    portico_policy::UserType::Guest
                } else {
                    portico_policy::UserType::Member
                };
                let results = self
                    .evaluate_access(auth.user_id, user_type, &i.request.client_id, &i.origin)
                    .await?;
                let mfa = auth.detail.acr.as_deref() == Some(ACR_MFA);
                r.applied_policies = crate::conditional_access::applied_policies(&results, mfa);
            }
            self.describe_user(&mut r, auth.user_id).await?;
            r.home_idp = auth.idp.clone();
            r.steps = auth
                .detail
                .steps
                .iter()
                .map(|s| StepRecord {
                    method: s.method.as_str().to_string(),
                    at: s.at,
                    amr: Some(s.method.amr().to_string()),
                })
                .collect();
            r.amr = auth.amr.clone();
            r.acr = auth.detail.acr.clone();
        }
        if i.consented {
            r.steps.push(StepRecord {
                method: "consent".into(),
                at: self.clock.now(),
                amr: None,
            });
        }
        Ok(r)
    }

    pub(crate) async fn describe_user(
        &self,
        r: &mut SignInRecord,
        user_id: Uuid,
    ) -> Result<(), crate::error::PageError> {
        r.user_id = Some(user_id);
        if let Some(a) = self.store.find_account(user_id).await? {
            r.user_principal_name = a.email;
            r.user_display_name = Some(a.display_name);
        }
        Ok(())
    }

    /// Writes the record of an interaction that ended. A failure to write is
    /// logged, never shown: the user's sign-in does not depend on the log.
    pub(crate) async fn record_end(
        &self,
        i: &crate::interaction::Interaction,
        result: SignInResult,
        ctx: &RequestContext,
        failure: Option<(&str, &str)>,
    ) {
        let record = match self.sign_in_record(i, result, ctx).await {
            Ok(mut r) => {
                if let Some((code, message)) = failure {
                    r.failure_reason = Some(code.to_string());
                    r.failure_message = Some(message.to_string());
                }
                r
            }
            Err(e) => {
                tracing::error!(code = e.code, "could not describe a sign-in for the log");
                return;
            }
        };
        count(&record);
        if let Err(e) = self.store.record_sign_in(&record).await {
            tracing::error!(error = ?e, "could not write a sign-in record");
        }
    }
}

/// `portico_sign_ins_total{result, idp}` for Prometheus: every record written
/// is counted once (`idp` is `local` when no home IdP took part).
pub(crate) fn count(r: &SignInRecord) {
    let idp = r.home_idp.clone().unwrap_or_else(|| "local".into());
    metrics::counter!("portico_sign_ins_total", "result" => r.result.as_str(), "idp" => idp)
        .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_named_once_and_consent_is_not_a_method() {
        let step = |m: &str| StepRecord {
            method: m.into(),
            at: DateTime::<Utc>::MIN_UTC,
            amr: None,
        };
        let r = SignInRecord {
            id: Uuid::nil(),
            created_at: DateTime::<Utc>::MIN_UTC,
            user_id: None,
            user_principal_name: None,
            user_display_name: None,
            client_id: "app".into(),
            app_display_name: "App".into(),
            home_idp: None,
            ip_address: None,
            user_agent: None,
            steps: [
                "password",
                "totp",
                "consent",
                "redemption",
                "emailCode",
                "emailOtp",
                "password",
                "fido9",
            ]
            .into_iter()
            .map(step)
            .collect(),
            amr: vec![],
            acr: Some(ACR_MFA.into()),
            result: SignInResult::Success,
            failure_reason: None,
            failure_message: None,
            correlation_id: "c".into(),
            platform: None,
            country: None,
            applied_policies: vec![],
        };
        assert_eq!(
            r.methods_used(),
            [
                "Password",
                "Authenticator app (TOTP)",
                "Email one-time passcode",
                "fido9"
            ]
        );
        assert!(r.is_multi_factor());
    }
}
