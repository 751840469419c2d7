//! What the policy knows about a sign-in. The authorization server gathers
//! these (from the session, the interaction, the directory, the tenant's
//! settings and the home IdP's assertion); nothing here reads anything.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How a step authenticated the user. The wire name (`as_str`) is what the
/// interaction and the sign-in log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Method {
    /// A member's password.
    Password,
    /// A one-time code sent to the user's mailbox, as the first factor
    /// (a guest's sign-in or redemption).
    EmailCode,
    /// The guest's home IdP vouched for them.
    Upstream,
    /// An authenticator app's code (RFC 6238).
    Totp,
    /// One of the user's single-use recovery codes.
    RecoveryCode,
    /// A one-time code sent to the user's mailbox, as the second factor.
    EmailOtp,
    /// A WebAuthn credential.
    Passkey,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::EmailCode => "emailCode",
            Method::Upstream => "upstream",
            Method::Totp => "totp",
            Method::RecoveryCode => "recoveryCode",
            Method::EmailOtp => "emailOtp",
            Method::Passkey => "passkey",
        }
    }

    /// Methods that establish who the user is.
    pub fn is_first_factor(self) -> bool {
        matches!(
            self,
            Method::Password | Method::EmailCode | Method::Upstream
        )
    }

    /// Methods that add a second factor to an established identity.
    pub fn is_second_factor(self) -> bool {
        !self.is_first_factor()
    }

    /// The RFC 8176 `amr` value this method contributes. An upstream sign-in
    /// contributes [`crate::AMR_FEDERATED`] and, when trusted, what the home
    /// IdP asserted (see [`crate::assurance`]).
    pub fn amr(self) -> &'static str {
        match self {
            Method::Password => "pwd",
            Method::EmailCode | Method::Totp | Method::RecoveryCode | Method::EmailOtp => "otp",
            Method::Upstream => crate::AMR_FEDERATED,
            Method::Passkey => "hwk",
        }
    }
}

/// A step the user completed, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneStep {
    pub method: Method,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    Member,
    Guest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserFacts {
    pub user_type: UserType,
    /// Enabled and within its access expiry.
    pub enabled: bool,
    /// A confirmed authenticator app (its recovery codes come with it).
    pub has_totp: bool,
    pub has_passkey: bool,
    /// A guest whose email domain the invitation domains policy refuses now
    /// (`blockedDomains`, or not on `allowedDomains`): a newly refused domain
    /// cuts off the guests it already has.
    pub domain_blocked: bool,
}

/// What a trusted home IdP asserted about its own authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamFacts {
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub auth_time: Option<DateTime<Utc>>,
    /// The admin's rule for counting that as MFA; `None`: never.
    pub trust: Option<MfaTrust>,
}

/// Which upstream assertions count as MFA (`mfaTrust` on a trusted IdP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaTrust {
    /// Any of these `amr` values counts (e.g. `mfa`, `hwk`, `otp`).
    pub amr_values: Vec<String>,
    /// Any of these `acr` values counts (e.g. `https://refeds.org/profile/mfa`).
    pub acr_values: Vec<String>,
    /// The upstream `auth_time` must be at most this old.
    pub max_age_minutes: i64,
}

impl UpstreamFacts {
    /// Whether the upstream's assertion counts as MFA now: it names a trusted
    /// value and its `auth_time` is within the freshness window. `Err` says why not.
    pub fn mfa_status(&self, now: DateTime<Utc>) -> Result<(), crate::Reason> {
        let Some(trust) = &self.trust else {
            return Err(crate::Reason::UpstreamMfaNotTrusted);
        };
        let by_amr = self.amr.iter().any(|a| trust.amr_values.contains(a));
        let by_acr = self
            .acr
            .as_ref()
            .is_some_and(|a| trust.acr_values.contains(a));
        if !by_amr && !by_acr {
            return Err(crate::Reason::UpstreamMfaNotTrusted);
        }
        match self.auth_time {
            Some(t) if now - t <= Duration::minutes(trust.max_age_minutes) => Ok(()),
            _ => Err(crate::Reason::UpstreamMfaStale),
        }
    }
}

/// Who is signed in (from the browser's session or this interaction) and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authn {
    pub user: UserFacts,
    /// When the first factor was performed (`auth_time`).
    pub auth_time: DateTime<Utc>,
    /// Every step of this authentication, first factor first.
    pub steps: Vec<DoneStep>,
    /// The first factor was performed within this very interaction.
    pub fresh: bool,
    /// The home IdP's assertion, when the first factor was [`Method::Upstream`].
    pub upstream: Option<UpstreamFacts>,
    /// `id_token_hint` names another subject than this user.
    pub hint_mismatch: bool,
}

impl Authn {
    pub fn first_factor(&self) -> Option<Method> {
        self.steps
            .iter()
            .map(|s| s.method)
            .find(|m| m.is_first_factor())
    }

    /// The user signed in with a passkey alone (no other first factor):
    /// `passkeyOnlySignIn`.
    pub fn passkey_alone(&self) -> bool {
        self.steps.first().map(|s| s.method) == Some(Method::Passkey)
    }

    /// The newest local second factor.
    pub fn last_second_factor(&self) -> Option<DateTime<Utc>> {
        self.steps
            .iter()
            .filter(|s| s.method.is_second_factor())
            .map(|s| s.at)
            .max()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppFacts {
    /// `requireMfa` on the application.
    pub require_mfa: bool,
    /// Portico's own clients (the portal, the account pages, redemption):
    /// nothing to consent to, never gated by assignment.
    pub first_party: bool,
    /// `appRoleAssignmentRequired` on the application.
    pub assignment_required: bool,
    /// The signed-in user is assigned to the application, directly or
    /// through a group (only meaningful with a user).
    pub assigned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestFacts {
    pub prompt_none: bool,
    /// `prompt=login` or `select_account`, not yet satisfied in this interaction.
    pub prompt_login: bool,
    /// `prompt=consent`, not yet satisfied in this interaction.
    pub prompt_consent: bool,
    /// `max_age` in seconds (OIDC Core §3.1.2.1).
    pub max_age: Option<i64>,
    pub acr_values: Vec<String>,
    pub login_hint: Option<String>,
    pub domain_hint: Option<String>,
}

/// `requireMfaFor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MfaScope {
    #[default]
    None,
    Guests,
    Everyone,
}

impl MfaScope {
    pub fn as_str(self) -> &'static str {
        match self {
            MfaScope::None => "none",
            MfaScope::Guests => "guests",
            MfaScope::Everyone => "everyone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "none" => Some(MfaScope::None),
            "guests" => Some(MfaScope::Guests),
            "everyone" => Some(MfaScope::Everyone),
            _ => None,
        }
    }
}

/// The tenant's authentication policy (`/api/v1/policies/authenticationPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSettings {
    pub require_mfa_for: MfaScope,
    /// A second factor done in a session is remembered this long.
    pub remember_mfa_minutes: i64,
    /// A code to the mailbox may serve as the second factor for users with
    /// no authenticator app or passkey.
    pub email_otp_as_second_factor: bool,
    /// Members may sign in with a passkey alone.
    pub passkey_only_sign_in: bool,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            require_mfa_for: MfaScope::None,
            remember_mfa_minutes: 12 * 60,
            email_otp_as_second_factor: false,
            passkey_only_sign_in: false,
        }
    }
}

/// Everything [`crate::decide`] considers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub now: DateTime<Utc>,
    pub authn: Option<Authn>,
    pub app: AppFacts,
    pub request: RequestFacts,
    pub tenant: TenantSettings,
    /// Home-realm discovery: the trusted IdP (its id) that the request's
    /// `domain_hint` or `login_hint` domain points at, resolved by the caller.
    pub hinted_idp: Option<String>,
    /// MFA required by something other than the tenant, app or request
    /// (conditional access policies): their names.
    pub mfa_required_by: Vec<String>,
    /// The user's stored consent covers every requested scope.
    pub consent_covers_request: bool,
    /// WebAuthn works at this issuer (its host is a domain name: browsers
    /// refuse an IP address as the relying party id). Without it no passkey
    /// is offered, whatever the user has registered.
    pub passkeys: bool,
}
