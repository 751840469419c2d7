//! Why the policy decided what it did. Each reason has a stable code: the
//! sign-in log stores it and admins filter on it, so codes never change.

/// One reason behind a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Nobody is signed in in this browser.
    NoSession,
    /// `prompt=login` (or `select_account`) asks for a new sign-in.
    PromptLogin,
    /// The session's `auth_time` is older than `max_age`.
    MaxAgeExceeded,
    /// `id_token_hint` names someone else than the session's user.
    HintMismatch,
    /// The session's account was disabled or expired since.
    SessionAccountDisabled,
    /// The account signing in is disabled or expired.
    AccountDisabled,
    /// `domain_hint`/`login_hint` point at a trusted home IdP.
    HomeRealmHint,
    /// `requireMfaFor` covers this user.
    MfaRequiredByTenant,
    /// The application's `requireMfa`.
    MfaRequiredByApp,
    /// The application asked `acr_values` for MFA.
    MfaRequiredByAcrValues,
    /// Another policy requires MFA (its name).
    MfaRequiredByPolicy(String),
    /// A second factor done in this session is still remembered.
    MfaRemembered,
    /// A trusted home IdP's assertion counts as MFA.
    MfaByUpstream,
    /// The home IdP's assertion does not match its `mfaTrust`.
    UpstreamMfaNotTrusted,
    /// The home IdP's MFA is older than its freshness window.
    UpstreamMfaStale,
    /// The user has no second factor yet and must register one.
    MfaNotEnrolled,
    /// The user has no authenticator, and the email code serves as second factor.
    EmailOtpAsSecondFactor,
    /// Nothing stored covers the requested scopes.
    ConsentMissing,
    /// `prompt=consent`.
    PromptConsent,
    /// A first-party client: nothing to consent to.
    FirstParty,
    /// `prompt=none` and a step would need the user.
    PromptNone,
    /// A passkey alone was used to sign in where that is not allowed (a
    /// guest, or the tenant does not allow `passkeyOnlySignIn`).
    PasskeyOnlyNotAllowed,
    /// A guest of a domain the invitation domains policy refuses.
    GuestDomainBlocked,
    /// The application requires assignment and the user is not assigned,
    /// directly or through a group (Entra's AADSTS50105).
    NotAssigned,
    /// A conditional access policy blocks the sign-in (its name).
    BlockedByPolicy(String),
}

impl Reason {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NoSession => "no_session",
            Reason::PromptLogin => "prompt_login",
            Reason::MaxAgeExceeded => "max_age_exceeded",
            Reason::HintMismatch => "id_token_hint_mismatch",
            Reason::SessionAccountDisabled => "session_account_disabled",
            Reason::AccountDisabled => "account_disabled",
            Reason::HomeRealmHint => "home_realm_hint",
            Reason::MfaRequiredByTenant => "mfa_required_by_tenant",
            Reason::MfaRequiredByApp => "mfa_required_by_app",
            Reason::MfaRequiredByAcrValues => "mfa_required_by_acr_values",
            Reason::MfaRequiredByPolicy(_) => "mfa_required_by_policy",
            Reason::MfaRemembered => "mfa_remembered",
            Reason::MfaByUpstream => "mfa_by_upstream",
            Reason::UpstreamMfaNotTrusted => "upstream_mfa_not_trusted",
            Reason::UpstreamMfaStale => "upstream_mfa_stale",
            Reason::MfaNotEnrolled => "mfa_not_enrolled",
            Reason::EmailOtpAsSecondFactor => "email_otp_as_second_factor",
            Reason::ConsentMissing => "consent_missing",
            Reason::PromptConsent => "prompt_consent",
            Reason::FirstParty => "first_party",
            Reason::PromptNone => "prompt_none",
            Reason::PasskeyOnlyNotAllowed => "passkey_only_not_allowed",
            Reason::GuestDomainBlocked => "guest_domain_blocked",
            Reason::NotAssigned => "not_assigned",
            Reason::BlockedByPolicy(_) => "blocked_by_policy",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::MfaRequiredByPolicy(name) | Reason::BlockedByPolicy(name) => {
                write!(f, "{}: {name}", self.code())
            }
            other => f.write_str(other.code()),
        }
    }
}
