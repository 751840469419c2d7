//! [`decide`]: what a sign-in needs next, and why.
//!
//! In order: is the right user authenticated recently enough (else identify,
//! or go straight to the home IdP the hints point at)? Is their account
//! usable? Does MFA apply, and is it met (remembered, or vouched for by a
//! trusted home IdP), else which second factor (or enrolment first)? Has the
//! user consented? `prompt=none` turns any step into a denial
//! (OIDC Core §3.1.2.6).

use crate::facts::{Authn, Facts, Method, MfaScope, UserType};
use crate::reason::Reason;
use chrono::Duration;

/// The `acr_values` an app sends to ask for MFA.
const ACR_VALUES_MFA: &[&str] = &[crate::ACR_MFA];

/// An interaction step the UI performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Find out who the user is: password, email code, or the home IdP their
    /// address's domain points at; with `passkey`, a member's passkey alone
    /// (`passkeyOnlySignIn`).
    Identify { passkey: bool },
    /// Go straight to this trusted IdP (its id): the app's hints named its realm.
    UpstreamIdp { idp: String },
    /// Register a second factor before going on.
    MfaEnroll,
    /// Prove a second factor; any of these methods will do.
    MfaChallenge { methods: Vec<Method> },
    /// Approve what the app will receive (OIDC Core §3.1.2.4).
    Consent,
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self {
            Step::Identify { .. } => "identify",
            Step::UpstreamIdp { .. } => "upstreamIdp",
            Step::MfaEnroll => "mfaEnroll",
            Step::MfaChallenge { .. } => "mfaChallenge",
            Step::Consent => "consent",
        }
    }

    /// Whether `method` completes this step.
    pub fn accepts(&self, method: Method) -> bool {
        match self {
            Step::Identify { passkey } => {
                method.is_first_factor() || (*passkey && method == Method::Passkey)
            }
            Step::UpstreamIdp { .. } => method == Method::Upstream,
            // Registering an authenticator is confirmed with its first code.
            Step::MfaEnroll => matches!(method, Method::Totp | Method::Passkey),
            Step::MfaChallenge { methods } => methods.contains(&method),
            Step::Consent => false,
        }
    }
}

/// A refusal, with the stable code the app and the log see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denial {
    /// The OAuth error the app receives (`access_denied`, `login_required`, …).
    pub error: &'static str,
    /// The stable reason code (sign-in log, error page).
    pub code: &'static str,
    /// A rule of the organization the person can act on (assignment, a
    /// blocked domain, a conditional access block): they read it on a page
    /// before the app hears the error (when a page may show).
    pub explained: bool,
    /// What the user is told.
    pub message: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Continue(Step),
    Complete,
    Deny(Denial),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    pub reasons: Vec<Reason>,
}

impl Decision {
    pub fn step(&self) -> Option<&Step> {
        match &self.outcome {
            Outcome::Continue(s) => Some(s),
            _ => None,
        }
    }
}

pub fn decide(f: &Facts) -> Decision {
    let mut reasons = Vec::new();
    let outcome = outcome(f, &mut reasons);
    let outcome = match outcome {
        Outcome::Continue(step) if f.request.prompt_none => {
            reasons.push(Reason::PromptNone);
            Outcome::Deny(prompt_none_denial(&step))
        }
        other => other,
    };
    Decision { outcome, reasons }
}

fn outcome(f: &Facts, reasons: &mut Vec<Reason>) -> Outcome {
    let authn = match check_authn(f, reasons) {
        Ok(a) => a,
        Err(o) => return o,
    };
    if let Some(denial) = check_assignment(f, reasons) {
        return Outcome::Deny(denial);
    }
    if let Some(step) = check_mfa(f, authn, reasons) {
        return Outcome::Continue(step);
    }
    if f.app.first_party {
        reasons.push(Reason::FirstParty);
    } else if f.request.prompt_consent {
        reasons.push(Reason::PromptConsent);
        return Outcome::Continue(Step::Consent);
    } else if !f.consent_covers_request {
        reasons.push(Reason::ConsentMissing);
        return Outcome::Continue(Step::Consent);
    }
    Outcome::Complete
}

/// The authenticated user, if they may go on; otherwise the first factor to ask for.
fn check_authn<'a>(f: &'a Facts, reasons: &mut Vec<Reason>) -> Result<&'a Authn, Outcome> {
    // Signing in again would not help: the organization no longer lets this
    // guest's domain in, whether the session is new or old.
    if f.authn.as_ref().is_some_and(|a| a.user.domain_blocked) {
        reasons.push(Reason::GuestDomainBlocked);
        return Err(Outcome::Deny(Denial {
            error: "access_denied",
            code: "guest_domain_blocked",
            explained: true,
            message: "This organization no longer accepts guests from your email domain. Ask the person who invited you.",
        }));
    }
    let stale = match &f.authn {
        None => Some(Reason::NoSession),
        Some(a) if a.fresh => {
            if a.passkey_alone() && !passkey_alone_allowed(f, a) {
                reasons.push(Reason::PasskeyOnlyNotAllowed);
                return Err(Outcome::Deny(Denial {
                    error: "access_denied",
                    code: "passkey_only_not_allowed",
                    explained: false,
                    message: "A passkey alone cannot sign in this account. Sign in another way.",
                }));
            }
            if !a.user.enabled {
                reasons.push(Reason::AccountDisabled);
                return Err(Outcome::Deny(Denial {
                    error: "access_denied",
                    code: "account_disabled",
                    explained: false,
                    message: "This account is disabled or its access has ended. Ask the organization that invited you.",
                }));
            }
            None
        }
        Some(a) if !a.user.enabled => Some(Reason::SessionAccountDisabled),
        Some(a) if a.hint_mismatch => Some(Reason::HintMismatch),
        Some(_) if f.request.prompt_login => Some(Reason::PromptLogin),
        // OIDC Core §3.1.2.1 (errata 2): `max_age=0` equals `prompt=login`. A
        // session authenticated within the same second is not fresh enough.
        Some(a)
            if f.request
                .max_age
                .is_some_and(|max| max == 0 || (f.now - a.auth_time).num_seconds() > max) =>
        {
            Some(Reason::MaxAgeExceeded)
        }
        Some(_) => None,
    };
    match (stale, &f.authn) {
        (None, Some(a)) => Ok(a),
        (reason, _) => {
            reasons.extend(reason);
            Err(Outcome::Continue(match &f.hinted_idp {
                Some(idp) => {
                    reasons.push(Reason::HomeRealmHint);
                    Step::UpstreamIdp { idp: idp.clone() }
                }
                None => Step::Identify {
                    passkey: f.passkeys && f.tenant.passkey_only_sign_in,
                },
            }))
        }
    }
}

/// `appRoleAssignmentRequired`: once the user is known, an app that requires
/// assignment admits only users assigned to it (directly or through a
/// group). Decided before MFA, so nobody is asked for a second factor to be
/// refused; Portico's own clients are never gated.
fn check_assignment(f: &Facts, reasons: &mut Vec<Reason>) -> Option<Denial> {
    if f.app.first_party || !f.app.assignment_required || f.app.assigned {
        return None;
    }
    reasons.push(Reason::NotAssigned);
    Some(Denial {
        error: "access_denied",
        code: "not_assigned",
        explained: true,
        message: "You are signed in, but you have not been given access to this application. Ask its owner or your administrator to assign it to you.",
    })
}

/// `passkeyOnlySignIn`: a member's passkey (with user verification, so two
/// factors in one gesture) may be the whole sign-in. Guests never: their
/// first factor is their home identity or their mailbox.
fn passkey_alone_allowed(f: &Facts, a: &Authn) -> bool {
    f.passkeys
        && f.tenant.passkey_only_sign_in
        && a.user.user_type == UserType::Member
        && a.user.has_passkey
}

/// Who requires MFA of this sign-in (empty: nobody).
fn mfa_requirements(f: &Facts, a: &Authn) -> Vec<Reason> {
    let mut by = Vec::new();
    let tenant = match f.tenant.require_mfa_for {
        MfaScope::None => false,
        MfaScope::Guests => a.user.user_type == UserType::Guest,
        MfaScope::Everyone => true,
    };
    if tenant {
        by.push(Reason::MfaRequiredByTenant);
    }
    if f.app.require_mfa {
        by.push(Reason::MfaRequiredByApp);
    }
    if f.request
        .acr_values
        .iter()
        .any(|v| ACR_VALUES_MFA.contains(&v.as_str()))
    {
        by.push(Reason::MfaRequiredByAcrValues);
    }
    by.extend(
        f.mfa_required_by
            .iter()
            .map(|p| Reason::MfaRequiredByPolicy(p.clone())),
    );
    by
}

/// The MFA step still needed, if any.
fn check_mfa(f: &Facts, a: &Authn, reasons: &mut Vec<Reason>) -> Option<Step> {
    let required = mfa_requirements(f, a);
    if required.is_empty() {
        return None;
    }
    reasons.extend(required);
    let remember = Duration::minutes(f.tenant.remember_mfa_minutes.max(0));
    if a.last_second_factor()
        .is_some_and(|t| f.now - t <= remember)
    {
        reasons.push(Reason::MfaRemembered);
        return None;
    }
    if let Some(up) = &a.upstream {
        match up.mfa_status(f.now) {
            Ok(()) => {
                reasons.push(Reason::MfaByUpstream);
                return None;
            }
            Err(why) => reasons.push(why),
        }
    }
    let mut methods = Vec::new();
    if a.user.has_totp {
        methods.extend([Method::Totp, Method::RecoveryCode]);
    }
    if a.user.has_passkey && f.passkeys {
        methods.push(Method::Passkey);
    }
    // The mailbox cannot be both factors.
    if methods.is_empty()
        && f.tenant.email_otp_as_second_factor
        && a.first_factor() != Some(Method::EmailCode)
    {
        reasons.push(Reason::EmailOtpAsSecondFactor);
        methods.push(Method::EmailOtp);
    }
    if methods.is_empty() {
        reasons.push(Reason::MfaNotEnrolled);
        return Some(Step::MfaEnroll);
    }
    Some(Step::MfaChallenge { methods })
}

/// OIDC Core §3.1.2.6: what `prompt=none` answers instead of a step.
fn prompt_none_denial(step: &Step) -> Denial {
    match step {
        Step::Identify { .. } | Step::UpstreamIdp { .. } => Denial {
            error: "login_required",
            code: "login_required",
            explained: false,
            message: "The user must sign in.",
        },
        Step::MfaEnroll | Step::MfaChallenge { .. } => Denial {
            error: "interaction_required",
            code: "interaction_required",
            explained: false,
            message: "The user must complete multi-factor authentication.",
        },
        Step::Consent => Denial {
            error: "consent_required",
            code: "consent_required",
            explained: false,
            message: "The user must consent.",
        },
    }
}
